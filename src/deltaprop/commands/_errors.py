"""One-line errors for every command: ``Error: <message>`` on standard error, exit code 2."""

from __future__ import annotations

import click


class InputError(click.ClickException):
    """Bad input: ``Error: <message>`` as one line on standard error, exit code 2."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


def _one_line(exc: click.UsageError, where: str) -> InputError:
    return InputError(f"{exc.format_message()} (see: {where} --help)")


class OneLineCommand(click.Command):
    """A command whose usage errors are one line too (click's default adds usage and a hint)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise _one_line(exc, ctx.command_path) from None


class OneLineGroup(click.Group):
    """The command group, whose usage errors (an unknown command, say) are one line as well."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise _one_line(exc, ctx.command_path) from None

    def resolve_command(self, ctx: click.Context, args: list[str]):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            raise _one_line(exc, ctx.command_path) from None
