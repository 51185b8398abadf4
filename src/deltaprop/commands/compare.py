"""``deltaprop compare``: several optimizers, or descent modes, from the same start on one data set.

Every run starts from the same initial network and sees the same batches in the same order
(:func:`deltaprop.compare`); the command prints each run's final loss and, with ``--report``,
writes the comparison as one self-contained HTML page (loss per epoch, per update, per second).
"""

from __future__ import annotations

import click
import numpy as np

from ..compare import compare as run_comparison
from ..optimizers import available_optimizers
from ._errors import InputError, OneLineCommand, one_line_errors
from .train import SETTINGS, _prepare


@click.command(cls=OneLineCommand)
@click.argument("data")
@click.option("--target", "-t", metavar="COLUMN", help="Label column of a CSV file [last].")
@click.option(
    "--optimizers",
    metavar="NAMES",
    help="Comma-separated, e.g. sgd,momentum,adagrad,adadelta,rmsprop,adam (one of "
    + ", ".join(available_optimizers())
    + ").",
)
@click.option(
    "--batch-sizes",
    metavar="SIZES",
    help="Comma-separated descent modes: full (batch), 1 (stochastic), n (mini-batch).",
)
@click.option("--optimizer", default="sgd", show_default=True, help="With --batch-sizes.")
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True,
              help="With --optimizers.")  # fmt: skip
@click.option("--learning-rate", "--lr", type=float, help="Step size [each optimizer's default].")
@click.option("--epochs", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--hidden", default="32", show_default=True, metavar="SIZES")
@click.option("--activation", default="relu", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Init and shuffling.")
@click.option("--report", type=click.Path(dir_okay=False), metavar="HTML",
              help="Write the comparison as one self-contained HTML page.")  # fmt: skip
@one_line_errors
def compare(data, target, optimizers, batch_sizes, optimizer, batch_size, learning_rate, epochs,
            hidden, activation, seed, report) -> None:  # fmt: skip
    """Train copies of one network on DATA with several --optimizers, or with several
    --batch-sizes (descent modes), from the same start; print their final losses."""
    if (optimizers is None) == (batch_sizes is None):
        raise InputError("give --optimizers or --batch-sizes (one of the two)")
    settings = dict.fromkeys(SETTINGS)
    settings.update(data=data, target=target, task="auto", hidden=hidden, activation=activation,
                    optimizer=optimizer, learning_rate=learning_rate, epochs=epochs,
                    batch_size=batch_size, validation=0.0, l2=0.0, seed=seed,
                    dtype="float32")  # fmt: skip
    run = _prepare(settings)
    lr = {} if learning_rate is None else {"learning_rate": learning_rate}
    if optimizers is not None:
        names = _names(optimizers, "--optimizers")
        result = run_comparison(run["net"], run["x"], run["y"], epochs=epochs, seed=seed,
                                optimizers=[{"name": n, **lr} for n in names],
                                batch_size=batch_size)  # fmt: skip
    else:
        sizes = [None if s == "full" else _size(s) for s in _names(batch_sizes, "--batch-sizes")]
        result = run_comparison(run["net"], run["x"], run["y"], epochs=epochs, seed=seed,
                                batch_sizes=sizes, optimizer={"name": optimizer, **lr})  # fmt: skip
    width = max(len(n) for n in result.histories)
    for name, h in result.histories.items():
        click.echo(f"{name:<{width}}  final loss {h.loss[-1]:.6g}  updates {h.updates:,}  "
                   f"{sum(h.epoch_seconds):.2f} s")  # fmt: skip
    if report is not None:
        from ..report import report as write_report

        shown = {"data": data, "epochs": epochs, "hidden": hidden, "activation": activation,
                 "seed": seed, "samples": int(np.size(run["y"], 0))}  # fmt: skip
        write_report(result, path=report, title=f"deltaprop compare {data}", settings=shown)


def _names(text: str, option: str) -> list[str]:
    names = [p.strip().lower() for p in text.split(",") if p.strip()]
    if not names:
        raise InputError(f"{option} is empty")
    return names


def _size(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise InputError(f"--batch-sizes: {text!r} is not 'full' or a whole number ≥ 1")
    return int(text)


COMMANDS = [compare]
