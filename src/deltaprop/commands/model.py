"""``deltaprop train``, ``predict`` and ``evaluate``: models from CSV files or built-in data sets.

Bad input of any kind (a missing or malformed file, an unknown column, data set, activation or
optimizer, a damaged model file, a usage error, an existing model file without ``--overwrite``)
is answered with one line on standard error and exit code 2. A training run that diverges exits
with code 1.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path

import click
import numpy as np
from tqdm import tqdm

from .. import io
from .._atomic_file import write_atomic
from ..activations import available_activations, get_activation
from ..callbacks import Callback, EarlyStopping
from ..network import Network
from ..optimizers import available_optimizers, get_optimizer
from ..training import DivergenceError, fit
from . import _data
from ._errors import InputError, OneLineCommand


def _one_line_errors(fn):
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
        except MemoryError:
            raise InputError("not enough memory for this model or data") from None

    return wrapper


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
@click.argument("data")
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
@_one_line_errors
def train(
    data,
    target,
    task,
    hidden,
    activation,
    optimizer,
    learning_rate,
    epochs,
    batch_size,
    validation,
    l2,
    patience,
    seed,
    dtype,
    output,
    overwrite,
    progress,
    quiet,
) -> None:
    """Train a network on DATA (a CSV file with a header, or a built-in data set name) and save it.

    Built-in data sets: digits, iris, breast-cancer, wine, diabetes, fashion-mnist,
    fashion-mnist-test, xor, moons.
    Features are standardised; the model file keeps the scaling and the class labels.
    """
    sizes = _hidden_sizes(hidden)
    get_activation(activation)
    opt = get_optimizer(optimizer, **({} if learning_rate is None else {"lr": learning_rate}))
    out_dir = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(out_dir):
        raise InputError(f"cannot write {output}: directory {out_dir} does not exist")
    if not overwrite and os.path.lexists(output):  # before training: hours may be at stake
        raise _exists(output)
    table = _data.load_training_data(data, target)
    task = (table.task or _data.infer_task(table.y)) if task == "auto" else task
    rng = np.random.default_rng(seed)
    n = table.x.shape[0]
    order = rng.permutation(n)
    n_val = int(validation * n)
    if n - n_val < 1:
        raise InputError(f"--validation {validation} leaves no rows to train on ({n} rows)")
    train_rows, val_rows = np.sort(order[n_val:]), np.sort(order[:n_val])
    pre, y = _data.fit_preprocessing(table, task, train_rows)
    x = pre.transform(table.x, dtype)
    classes = pre.classes or []
    out_units = len(classes) if task == "classification" else 1
    net = Network.from_sizes(
        [x.shape[1], *sizes, out_units],
        [activation] * len(sizes) + ["softmax" if task == "classification" else "identity"],
        seed=rng,
        dtype=dtype,
    )
    bar = ProgressBar(epochs, enabled=not quiet and (progress or progress is None and _tty()))
    try:  # a diverging run ends in DivergenceError: numpy's overflow warnings add nothing
        with np.errstate(over="ignore", invalid="ignore"):
            history = fit(
                net,
                x[train_rows],
                y[train_rows],
                optimizer=opt,
                epochs=epochs,
                batch_size=batch_size,
                seed=rng,
                l2=l2,
                validation_data=(x[val_rows], y[val_rows]) if n_val else None,
                callbacks=[bar],
                early_stopping=EarlyStopping(patience=patience) if patience else None,
            )
    finally:
        bar.close()
    meta = {"data": data, "task": task, "train_rows": int(train_rows.size), "seed": seed}
    try:
        path = io.save(
            output,
            net,
            optimizer=opt,
            history=history,
            rng=rng,
            preprocessing=pre,
            metadata=meta,
            overwrite=overwrite,
        )
    except FileExistsError:  # created by someone else while training ran
        raise _exists(output) from None
    if not quiet:
        last = {
            k: getattr(history, k)[-1]
            for k in ("loss", "accuracy", "val_loss", "val_accuracy")
            if getattr(history, k)
        }
        metrics = ", ".join(f"{k} {v:.4f}" for k, v in last.items())
        kind = f"{len(classes)} classes" if classes else "regression"
        click.echo(f"saved {path.name}: {kind}, {history.epochs} epochs, {metrics}")


@click.command(cls=OneLineCommand)
@click.argument("model")
@click.argument("data")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    help="Write to FILE [stdout], replacing it (never the model or the data read).",
)
@click.option("--probabilities", is_flag=True, help="Class probabilities as CSV, not labels.")
@_one_line_errors
def predict(model, data, output, probabilities) -> None:
    """Predict for every row of DATA with MODEL: one prediction per line.

    A classifier prints its class labels (as in the training data), a regressor numbers.
    """
    for source in (model, data):
        if output and os.path.exists(output) and os.path.exists(source):
            if os.path.samefile(source, output):
                raise InputError(
                    f"--output {output} is {source}, which predict reads; not replaced"
                )
    saved = _load_model(model)
    pre = saved.preprocessing
    table = _data.load_inputs(data, pre, saved.network.sizes[0], None)
    if probabilities:
        if pre.task != "classification":
            raise InputError("--probabilities needs a classifier; this model is a regressor")
        p = saved.predict_proba(table.x)
        lines = [",".join(map(str, pre.classes))]
        lines += [",".join(repr(float(v)) for v in row) for row in p]
    else:
        y = saved.predict(table.x)
        if pre.task == "classification":
            lines = [str(v) for v in y]
        else:
            lines = [",".join(repr(float(v)) for v in np.atleast_1d(row)) for row in y]
    text = "\n".join(lines) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    target = Path(os.path.realpath(output))
    if target.exists() and not target.is_file():  # /dev/stdout, a named pipe: write into it
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(text)
        return
    write_atomic(target, lambda fh: fh.write(text.encode("utf-8")))


@click.command(cls=OneLineCommand)
@click.argument("model")
@click.argument("data")
@click.option("--target", "-t", metavar="COLUMN", help="Label column [the model's].")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@_one_line_errors
def evaluate(model, data, target, as_json) -> None:
    """Score MODEL on DATA, whose targets are known.

    Classifier: accuracy, log loss and per-class counts. Regressor: MSE, MAE and R².
    """
    saved = _load_model(model)
    pre = saved.preprocessing
    table = _data.load_inputs(data, pre, saved.network.sizes[0], target)
    if table.y is None:
        raise InputError(f"{data}: no target column {pre.target_name or target!r} to score against")
    if pre.task == "classification":
        metrics = _classification_metrics(saved, table, pre.classes)
    else:
        metrics = _regression_metrics(saved, table)
    if as_json:
        click.echo(json.dumps(metrics, indent=2))
        return
    for k, v in metrics.items():
        if k != "classes":
            click.echo(f"{k:<9} {v:.6g}" if isinstance(v, float) else f"{k:<9} {v}")
    for label, c in metrics.get("classes", {}).items():
        click.echo(f"class {label}: {c['samples']} samples, {c['correct']} correct")


def _classification_metrics(saved: io.SavedModel, table: _data.Table, classes: list) -> dict:
    t = _data.encode(table.y, classes)
    p = saved.predict_proba(table.x)
    hit = p.argmax(axis=1) == t
    eps = np.finfo(p.dtype).eps
    log_loss = float(-np.mean(np.log(np.clip(p[np.arange(t.size), t], eps, 1.0))))
    per_class = {
        str(c): {"samples": int(np.sum(t == i)), "correct": int(np.sum(hit & (t == i)))}
        for i, c in enumerate(classes)
    }
    return {
        "samples": int(t.size),
        "accuracy": float(hit.mean()),
        "log_loss": log_loss,
        "classes": per_class,
    }


def _regression_metrics(saved: io.SavedModel, table: _data.Table) -> dict:
    if table.y.dtype == object:
        raise InputError(f"the target column {table.target_name!r} must be numeric")
    y = table.y.astype(np.float64)
    pred = np.asarray(saved.predict(table.x), dtype=np.float64).reshape(y.shape[0], -1)
    if pred.shape[1] != 1:
        raise InputError(f"the model has {pred.shape[1]} outputs; evaluate scores one target")
    err = pred[:, 0] - y
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    return {
        "samples": int(y.size),
        "mse": float(np.mean(err**2)),
        "mae": float(np.mean(np.abs(err))),
        "r2": 1.0 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else None,
    }


def _load_model(path: str) -> io.SavedModel:
    saved = io.load(path)
    if saved.preprocessing is None:  # saved from Python: raw features, softmax = classifier
        net = saved.network
        softmax = net.layers[-1].activation.name == "softmax"
        saved.preprocessing = io.Preprocessing(
            "classification" if softmax else "regression",
            classes=list(range(net.sizes[-1])) if softmax else None,
        )
    return saved


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


COMMANDS = [train, predict, evaluate]
