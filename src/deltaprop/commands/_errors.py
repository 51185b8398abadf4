"""One-line errors for every command: ``Error: <message>`` on standard error, exit code 2."""

from __future__ import annotations

import functools

import click

from ..divergence import DivergenceError


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


def one_line_errors(fn):
    """Turn the errors bad input raises into :class:`InputError` (never a traceback)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except DivergenceError as exc:
            raise click.ClickException(" ".join(str(exc).split())) from None
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            raise InputError(f"{exc.strerror or exc}{where}") from None
        except (ValueError, TypeError, ImportError) as exc:  # io.ModelFileError is a ValueError
            raise InputError(str(exc)) from None
        except ArithmeticError as exc:  # inputs too large for the model's arithmetic
            raise InputError(str(exc)) from None
        except MemoryError:
            raise InputError("not enough memory for this model or data") from None

    return wrapper
