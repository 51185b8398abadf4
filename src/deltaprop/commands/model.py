"""``deltaprop predict`` and ``evaluate``: a model file on CSV files or built-in data sets.

Bad input of any kind (a missing or malformed file, an unknown column, data set, activation or
optimizer, a damaged model file, a usage error, an existing model file without ``--overwrite``)
is answered with one line on standard error and exit code 2. A training run that diverges exits
with code 1.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
import numpy as np

from .. import io
from .._atomic_file import write_atomic
from . import _data, _scores
from ._errors import InputError, OneLineCommand, one_line_errors


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
@one_line_errors
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
@one_line_errors
def evaluate(model, data, target, as_json) -> None:
    """Score MODEL on DATA, whose targets are known.

    Classifier: accuracy, log loss, per-class counts, precision, recall and F1, and the confusion
    matrix (rows: true class, columns: predicted). Regressor: MSE, MAE and R². Says so on standard
    error when DATA is the data set MODEL was trained on.
    """
    saved = _load_model(model)
    pre = saved.preprocessing
    table = _data.load_inputs(data, pre, saved.network.sizes[0], target)
    if trained_on(saved, data):
        rows = saved.metadata.get("train_rows")
        part = f" ({rows} of its rows trained on)" if isinstance(rows, int) else ""
        click.echo(
            f"note: {data} is the data {model} was trained on{part}: these scores measure the "
            "fit, not how well it generalises",
            err=True,
        )
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
        if k not in ("classes", "macro_avg", "confusion_matrix"):
            click.echo(f"{k:<9} {v:.6g}" if isinstance(v, float) else f"{k:<9} {v}")
    for label, c in metrics.get("classes", {}).items():
        click.echo(f"class {label}: {c['samples']} samples, {c['correct']} correct")
    if "confusion_matrix" in metrics:
        C = np.array(metrics["confusion_matrix"], dtype=np.int64)
        click.echo("\n".join(_scores.table(list(metrics["classes"]), C)))


def trained_on(saved: io.SavedModel, data: str) -> bool:
    """Whether ``data`` is the data set named in the model file's metadata (``"data"``): the same
    file, or the same built-in data set."""
    known = saved.metadata.get("data") if isinstance(saved.metadata, dict) else None
    if not isinstance(known, str) or not known:
        return False
    if os.path.exists(data) and os.path.exists(known):
        return os.path.samefile(data, known)
    norm = lambda s: s.lower().replace("_", "-")  # noqa: E731
    return not os.path.exists(data) and not os.path.exists(known) and norm(data) == norm(known)


def _classification_metrics(saved: io.SavedModel, table: _data.Table, classes: list) -> dict:
    t = _data.encode(table.y, classes)
    p = saved.predict_proba(table.x)
    hit = p.argmax(axis=1) == t
    eps = np.finfo(p.dtype).eps
    log_loss = float(-np.mean(np.log(np.clip(p[np.arange(t.size), t], eps, 1.0))))
    C = _scores.confusion_matrix(t, p.argmax(axis=1), len(classes))
    s = _scores.class_scores(C)
    per_class = {
        str(c): {
            "samples": int(np.sum(t == i)),
            "correct": int(np.sum(hit & (t == i))),
            **{m: float(s[m][i]) for m in ("precision", "recall", "f1")},
        }
        for i, c in enumerate(classes)
    }
    return {
        "samples": int(t.size),
        "accuracy": float(hit.mean()),
        "log_loss": log_loss,
        "classes": per_class,
        "macro_avg": {m: float(np.mean(s[m])) for m in ("precision", "recall", "f1")},
        "confusion_matrix": C.tolist(),  # rows: true class, columns: predicted, in "classes" order
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


COMMANDS = [predict, evaluate]
