"""The command group itself: help, version, and one-line usage errors with exit code 2."""

import pytest
from click.testing import CliRunner

import deltaprop
from deltaprop.cli import build_cli, main


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["nosuch"], "Error: No such command 'nosuch'. (see: deltaprop --help)"),
        (["--bogus"], "Error: No such option '--bogus'. (see: deltaprop --help)"),
        (
            ["explain", "--bogus", "x"],
            "Error: No such option '--bogus'. (see: deltaprop explain --help)",
        ),
        (
            ["train", "--hidden"],
            "Error: Option '--hidden' requires an argument. (see: deltaprop train --help)",
        ),
    ],
)
def test_usage_errors_are_one_line_with_exit_code_2(args, line):
    result = CliRunner().invoke(build_cli(), args, prog_name="deltaprop")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [line]


def test_every_command_is_registered_and_has_help():
    cli = build_cli()
    assert {"explain", "train", "predict", "evaluate"} <= set(cli.commands)
    for name in cli.commands:
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0
        assert "Usage: " in result.output


def test_version(capsys):
    assert main(["--version"]) == 0
    assert deltaprop.__version__ in capsys.readouterr().out
