"""``deltaprop train``: a network trained on a CSV file or a built-in data set, saved to a file.

Bad input is answered with one line on standard error and exit code 2; a run that diverges exits
with 1. ``--checkpoint-every N`` saves the whole run every N epochs into a folder (see
:class:`deltaprop.checkpoints.Checkpoint`), and Ctrl-C (SIGINT) or SIGTERM finishes the current
batch, saves the run as it was at the end of its last complete epoch, says where and how to
resume, and exits with 130 or 143 (128 + the signal's number, as shells do). ``--resume FILE``
continues such a run with the data and settings it was started with; it ends bit for bit where
an uninterrupted run ends (early stopping's patience count excepted: it starts again).
"""

from __future__ import annotations

import os
import signal
import sys

import click
import numpy as np
from tqdm import tqdm

from .. import io
from ..activations import available_activations, get_activation
from ..callbacks import Callback, EarlyStopping
from ..checkpoints import Checkpoint
from ..history import History
from ..interrupt import TrainingInterrupted, stop_on_signals
from ..network import Network
from ..optimizers import available_optimizers, get_optimizer
from ..training import fit
from . import _data
from ._errors import InputError, OneLineCommand, one_line_errors

# The settings a checkpoint keeps (in its metadata, under "train") to resume the run.
SETTINGS = ("data", "target", "task", "hidden", "activation", "optimizer", "learning_rate",
            "epochs", "batch_size", "validation", "l2", "patience", "seed", "dtype")  # fmt: skip


class ProgressBar(Callback):
    """A tqdm bar on standard error, one step per epoch, showing the epoch's losses and accuracy."""

    def __init__(self, epochs: int, enabled: bool):
        self.bar = tqdm(
            total=epochs, unit="epoch", desc="train", file=sys.stderr, disable=not enabled
        )

    def on_epoch_end(self, epoch: int, logs: dict, run) -> None:
        self.bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items() if v is not None}, False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


@click.command(cls=OneLineCommand)
@click.argument("data", required=False)
@click.option("--target", "-t", metavar="COLUMN", help="Label column of a CSV file [last].")
@click.option(
    "--task",
    type=click.Choice(["auto", "classification", "regression"]),
    default="auto",
    show_default=True,
    help="auto: text labels or few whole numbers mean classification (see docs/cli.md).",
)
@click.option(
    "--hidden", default="64", show_default=True, metavar="SIZES", help="Hidden sizes, e.g. 64,32."
)
@click.option(
    "--activation",
    default="relu",
    show_default=True,
    help="Hidden activation: " + ", ".join(available_activations()) + ".",
)
@click.option(
    "--optimizer",
    default="adam",
    show_default=True,
    help="One of " + ", ".join(available_optimizers()) + ".",
)
@click.option("--learning-rate", "--lr", type=float, help="Step size [the optimizer's default].")
@click.option("--epochs", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True)
@click.option(
    "--validation",
    type=click.FloatRange(0, 1, max_open=True),
    default=0.1,
    show_default=True,
    help="Fraction of rows held out for val_loss / val_accuracy.",
)
@click.option("--l2", type=click.FloatRange(min=0), default=0.0, help="Weight decay λ.")
@click.option(
    "--patience", type=click.IntRange(min=1), help="Early stopping: epochs without improvement."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Split, init and shuffle.")
@click.option(
    "--dtype", type=click.Choice(["float32", "float64"]), default="float32", show_default=True
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default="model.deltaprop",
    show_default=True,
    help="Model file to write (an existing one only with --overwrite).",
)
@click.option("--overwrite", is_flag=True, help="Replace the --output file if it exists.")
@click.option(
    "--progress/--no-progress", default=None, help="Progress bar [on when stderr is a terminal]."
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar, no summary.")
@click.option(
    "--checkpoint-every",
    type=click.IntRange(min=1),
    metavar="N",
    help="Save the whole run every N epochs (resumable with --resume).",
)
@click.option(
    "--checkpoint-dir",
    type=click.Path(file_okay=False),
    help="Folder of the checkpoints [OUTPUT's name + -checkpoints].",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False),
    metavar="HTML",
    help="Also write a training report: one self-contained HTML file.",
)
@click.option(
    "--resume",
    type=click.Path(dir_okay=False),
    metavar="CHECKPOINT",
    help="Continue the run a checkpoint holds (its data and settings), to its --epochs.",
)
@one_line_errors
def train(output, overwrite, progress, quiet, checkpoint_every, checkpoint_dir, report, resume,
          **given):  # fmt: skip
    """Train a network on DATA (a CSV file with a header, or a built-in data set name) and save it.

    Built-in data sets: digits, iris, breast-cancer, wine, diabetes, fashion-mnist,
    fashion-mnist-test, xor, moons.
    Features are standardised; the model file keeps the scaling and the class labels.
    """
    saved = None
    if resume is not None:
        if given["data"] is not None:
            raise InputError("--resume takes the data and settings from the checkpoint; drop DATA")
        saved = io.load(resume)
        settings = _settings_of(saved, resume)
        checkpoint_dir = checkpoint_dir or os.path.dirname(os.path.abspath(resume))
    elif given["data"] is None:
        raise InputError("missing DATA (a CSV file or a built-in data set), or --resume FILE")
    else:
        settings = given
    out_dir = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(out_dir):
        raise InputError(f"cannot write {output}: directory {out_dir} does not exist")
    if not overwrite and os.path.lexists(output):  # before training: hours may be at stake
        raise _exists(output)
    run = _prepare(settings)
    if saved is not None:
        _continue_from(run, saved)
    meta = {"data": settings["data"], "task": run["task"], "train_rows": int(run["rows"].size),
            "seed": settings["seed"], "train": {k: settings[k] for k in SETTINGS}}  # fmt: skip
    folder = checkpoint_dir or f"{os.path.splitext(output)[0]}-checkpoints"
    checkpoint = Checkpoint(folder, every=checkpoint_every, seconds=None, keep=2,
                            preprocessing=run["pre"], metadata=meta)  # fmt: skip
    left = settings["epochs"] - run["initial_epoch"]
    bar = ProgressBar(left, enabled=not quiet and (progress or progress is None and _tty()))
    x, y, rows, val = run["x"], run["y"], run["rows"], run["val"]
    patience = settings["patience"]
    try:  # a diverging run ends in DivergenceError: numpy's overflow warnings add nothing
        with np.errstate(over="ignore", invalid="ignore"), stop_on_signals() as stop:
            history = fit(
                run["net"], x[rows], y[rows], optimizer=run["optimizer"], epochs=left,
                batch_size=settings["batch_size"], seed=run["rng"], l2=settings["l2"],
                validation_data=(x[val], y[val]) if val.size else None,
                callbacks=[bar, checkpoint], stop=stop, optimizer_state=run["state"],
                initial_epoch=run["initial_epoch"],
                early_stopping=EarlyStopping(patience=patience) if patience else None,
            )  # fmt: skip
    except TrainingInterrupted as exc:
        bar.close()
        name = signal.Signals(exc.signal).name if exc.signal else "a stop request"
        click.echo(
            f"interrupted by {name} during epoch {exc.history.end_epoch + 1}: the run as it was "
            f"at the end of epoch {exc.history.end_epoch} is in {exc.checkpoint}; resume with: "
            f"deltaprop train --resume {exc.checkpoint} -o {output}",
            err=True,
        )
        sys.exit(128 + (exc.signal or signal.SIGINT))
    finally:
        bar.close()
    if saved is not None:
        history = _joined(saved.history, history)
    try:
        path = io.save(output, run["net"], optimizer=run["optimizer"], history=history,
                       rng=run["rng"], preprocessing=run["pre"], metadata=meta,
                       overwrite=overwrite)  # fmt: skip
    except FileExistsError:  # created by someone else while training ran
        raise _exists(output) from None
    if report is not None:
        _write_report(report, run, history, settings)
    if not quiet:
        last = {
            k: getattr(history, k)[-1]
            for k in ("loss", "accuracy", "val_loss", "val_accuracy")
            if getattr(history, k)
        }
        metrics = ", ".join(f"{k} {v:.4f}" for k, v in last.items())
        classes = run["pre"].classes
        kind = f"{len(classes)} classes" if classes else "regression"
        click.echo(f"saved {path.name}: {kind}, {history.end_epoch} epochs, {metrics}")


def _write_report(path: str, run: dict, history: History, settings: dict) -> None:
    """The training report, scored on the validation rows (else the training rows)."""
    from ..report import report

    rows, label = (run["val"], "the validation rows") if run["val"].size else (
        run["rows"], "the training rows")  # fmt: skip
    shown = {k: v for k, v in settings.items() if v is not None}
    report(run["net"], history, run["x"][rows], run["y"][rows], path=path,
           title=f"deltaprop train {settings['data']}", settings=shown,
           classes=run["pre"].classes, data_label=label)  # fmt: skip


def _prepare(s: dict) -> dict:
    """Data, split, scaling, network and generator of a run, from its settings alone (so that a
    resumed run rebuilds exactly what the first one had)."""
    sizes = _hidden_sizes(s["hidden"])
    get_activation(s["activation"])
    lr = s["learning_rate"]
    opt = get_optimizer(s["optimizer"], **({} if lr is None else {"lr": lr}))
    table = _data.load_training_data(s["data"], s["target"])
    task = (table.task or _data.infer_task(table.y)) if s["task"] == "auto" else s["task"]
    rng = np.random.default_rng(s["seed"])
    n = table.x.shape[0]
    order = rng.permutation(n)
    n_val = int(s["validation"] * n)
    if n - n_val < 1:
        raise InputError(f"--validation {s['validation']} leaves no rows to train on ({n} rows)")
    rows, val = np.sort(order[n_val:]), np.sort(order[:n_val])
    pre, y = _data.fit_preprocessing(table, task, rows)
    x = pre.transform(table.x, s["dtype"])
    out_units = len(pre.classes) if task == "classification" else 1
    net = Network.from_sizes(
        [x.shape[1], *sizes, out_units],
        [s["activation"]] * len(sizes) + ["softmax" if task == "classification" else "identity"],
        seed=rng,
        dtype=s["dtype"],
    )
    return {"net": net, "x": x, "y": y, "rows": rows, "val": val, "pre": pre, "rng": rng,
            "task": task, "optimizer": opt, "state": None, "initial_epoch": 0}  # fmt: skip


def _settings_of(saved: io.SavedModel, path: str) -> dict:
    """The settings a checkpoint was trained with, checked like the options they came from."""
    s = (saved.metadata or {}).get("train")
    if not isinstance(s, dict) or set(s) != set(SETTINGS):
        raise InputError(f"{path} is not a checkpoint of deltaprop train (no training settings)")
    kinds = {"data": str, "hidden": str, "activation": str, "optimizer": str, "task": str,
             "dtype": str, "epochs": int, "batch_size": int, "seed": int,
             "validation": (int, float), "l2": (int, float)}  # fmt: skip
    for key, kind in kinds.items():
        if not isinstance(s[key], kind) or isinstance(s[key], bool):
            raise InputError(f"{path}: training setting {key!r} is {s[key]!r}")
    if saved.optimizer_state is None or saved.history is None or saved.rng is None:
        raise InputError(f"{path} holds no optimizer state, history or generator to resume")
    return s


def _continue_from(run: dict, saved: io.SavedModel) -> None:
    if saved.network.sizes != run["net"].sizes:
        raise InputError(
            f"the checkpoint's network {saved.network.sizes} does not fit the data's "
            f"{run['net'].sizes}: was the data changed?"
        )
    run.update(net=saved.network, optimizer=saved.optimizer, state=saved.optimizer_state,
               rng=saved.rng, initial_epoch=saved.history.end_epoch)  # fmt: skip


def _joined(before: History, after: History) -> History:
    """One history of a run resumed once: ``before``'s epochs, then ``after``'s."""
    joined = History(initial_epoch=before.initial_epoch, updates=before.updates + after.updates,
                     optimizer_state=after.optimizer_state, schedule=after.schedule)  # fmt: skip
    for k, v in before.as_dict().items():
        if isinstance(v, list):
            setattr(joined, k, v + getattr(after, k))
    return joined


def _exists(output: str) -> InputError:
    return InputError(f"{output} exists; pass --overwrite to replace it")


def _hidden_sizes(text: str) -> list[int]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if text.strip().lower() in ("", "none", "0"):
        return []
    if not all(p.isdigit() and int(p) > 0 for p in parts):
        raise InputError(
            f"--hidden must be positive whole numbers separated by commas, got {text!r}"
        )
    return [int(p) for p in parts]


def _tty() -> bool:
    return sys.stderr.isatty()



COMMANDS = [train]
