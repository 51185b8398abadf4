"""``deltaprop explain SPEC``: worked solutions of training steps (text, Markdown, HTML, JSON).

A bad spec (a missing key, a wrong shape, an unknown name, a malformed file, a non-finite number)
is answered with one line on standard error, ``Error: <file>: <key>: <what was expected>``, and
exit code 2.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from ..render import FORMATS, render
from ..spec import load_spec
from ._errors import InputError, OneLineCommand

SUFFIXES = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html"}
SUFFIXES.update({".htm": "html", ".json": "json"})
LARGE = 1000  # parameters above which the human formats get long: say so


@click.command("explain", cls=OneLineCommand)
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Output format [default: from the --output suffix (.md, .html, .json), else text].",
)
@click.option(
    "--steps",
    type=click.IntRange(1, 1000),
    default=1,
    show_default=True,
    help="Training steps to work through.",
)
@click.option(
    "--decimals",
    type=click.IntRange(0, 15),
    default=4,
    show_default=True,
    help="Decimals of the human formats (JSON is always full precision).",
)
@click.option(
    "--summary",
    is_flag=True,
    help="With --steps N: only the set-up, the first step in full, and the per-step table and "
    "charts (loss, gradient norm, every layer's delta norm) of all N steps.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to FILE instead of standard output.",
)
def explain_command(
    spec: Path, fmt: str | None, steps: int, decimals: int, summary: bool, output: Path | None
) -> None:
    """Work through training steps of the network in SPEC (a TOML or JSON file) by hand.

    Shows the forward pass with every number substituted into z = W a + b and a = f(z), the loss,
    the output delta, every hidden delta by the delta rule, every gradient, every update, and the
    forward pass again. With --steps N it closes with a table and charts of every step. Example:
    deltaprop explain examples/seed001.toml --format html -o step.html
    """
    if fmt is None:
        fmt = SUFFIXES.get(output.suffix.lower(), "text") if output is not None else "text"
    try:
        trace = load_spec(spec).explain(steps)
    except (ValueError, TypeError) as exc:  # SpecError, or the engine's checks of the data
        raise InputError(str(exc)) from None
    n_params = sum(
        W.size + (0 if b is None else b.size)
        for W, b in zip(trace.steps[0].W, trace.steps[0].b, strict=True)
    )
    if n_params > LARGE and fmt != "json":
        click.echo(
            f"note: {n_params} parameters, each with its own lines: worked solutions are meant "
            "for small networks",
            err=True,
        )
    text = render(trace, fmt, decimals, summary=summary)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        _write_atomic(output, text)
    except OSError as exc:
        raise InputError(f"{output}: cannot be written ({exc.strerror or exc})") from None
    click.echo(f"wrote {output}", err=True)


def _write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder, so that a reader never sees half."""
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a worked solution is not
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


COMMANDS = [explain_command]
