"""The ``deltaprop`` command line: one click group; each command lives in ``deltaprop.commands``.

Every command answers bad input with one line on standard error and exit code 2.
"""

from __future__ import annotations

import sys


def _missing_click() -> int:
    print(
        "deltaprop: the command line needs its extra: pip install 'deltaprop[cli]'",
        file=sys.stderr,
    )
    return 2


def build_cli():
    """The click group with every available command attached."""
    import click

    from . import __version__
    from .commands import COMMAND_MODULES
    from .commands._errors import OneLineGroup

    @click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(__version__, prog_name="deltaprop")
    def cli() -> None:
        """Neural networks trained by explicit backpropagation."""

    import importlib

    for module_name in COMMAND_MODULES:
        module = importlib.import_module(f"deltaprop.commands.{module_name}")
        for command in module.COMMANDS:
            cli.add_command(command)
    return cli


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``deltaprop`` script."""
    try:
        cli = build_cli()
    except ImportError as exc:
        if getattr(exc, "name", "") in ("click", "tqdm"):
            return _missing_click()
        raise
    try:
        return cli.main(args=argv, prog_name="deltaprop", standalone_mode=True) or 0
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
