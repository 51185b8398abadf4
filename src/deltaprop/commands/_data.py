"""Data for the command line: a CSV file or a built-in data set, read and checked.

Every problem is a ``ValueError`` naming the file, column and line, so that the commands can
answer it with one line. Task rule for a numeric target column: classification when every value
is a whole number, there are at most 20 distinct values and at most ``max(2, 5% of rows)`` of
them; otherwise regression. A non-numeric target is always classification.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass

import numpy as np

from ..datasets import DATASET_NAMES, dataset_feature_names, load_dataset
from ..io import Preprocessing

Array = np.ndarray
MAX_CLASSES = 20


@dataclass
class Table:
    """Features ``x`` (n, d), raw targets ``y`` (n,) or None, and their names."""

    x: Array
    y: Array | None
    feature_names: list[str]
    target_name: str | None
    task: str | None = None  # known for a built-in data set


def is_builtin(data: str) -> bool:
    return not os.path.exists(data) and data.lower().replace("_", "-") in DATASET_NAMES


def load_training_data(data: str, target: str | None) -> Table:
    """The table to train on: a CSV's columns (``target`` default: the last) or a built-in set."""
    if is_builtin(data):
        if target is not None:
            raise ValueError(f"--target applies to CSV files; {data!r} is a built-in data set")
        x, y, task = load_dataset(data)
        return Table(x, np.asarray(y), dataset_feature_names(data), "target", task)
    header, rows, lines = read_csv(data)
    if len(header) < 2:
        raise ValueError(f"{data}: needs at least one feature column and a target column")
    target = header[-1] if target is None else target
    if target not in header:
        raise ValueError(f"{data}: no column {target!r}; columns are {', '.join(header)}")
    j = header.index(target)
    features = [c for c in header if c != target]
    x = numeric_columns(data, header, rows, lines, features)
    y = labels([r[j] for r in rows])
    return Table(x, y, features, target)


def load_inputs(data: str, pre: Preprocessing, n_inputs: int, target: str | None) -> Table:
    """Features for a trained model (its feature columns, by name) and targets if present."""
    if is_builtin(data):
        x, y, _ = load_dataset(data)
        if x.shape[1] != n_inputs:
            raise ValueError(f"{data} has {x.shape[1]} features; the model takes {n_inputs}")
        return Table(x, np.asarray(y), dataset_feature_names(data), "target")
    header, rows, lines = read_csv(data)
    target = target or pre.target_name
    if target is None and pre.feature_names is None and len(header) == n_inputs + 1:
        target = header[-1]  # a model saved without names: features first, target last
    if pre.feature_names is not None:
        missing = [c for c in pre.feature_names if c not in header]
        if missing:
            raise ValueError(
                f"{data}: lacks the feature column(s) {', '.join(map(repr, missing))} the model "
                f"was trained on"
            )
        features = list(pre.feature_names)
    else:
        features = [c for c in header if c != target]
        if len(features) != n_inputs:
            raise ValueError(
                f"{data}: has {len(features)} feature columns; the model takes {n_inputs}"
            )
    x = numeric_columns(data, header, rows, lines, features)
    y = None
    if target in header:
        y = labels([r[header.index(target)] for r in rows])
    return Table(x, y, features, target if y is not None else None)


def read_csv(path: str) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, rows (stripped cells) and each row's line number; blank lines are skipped."""
    if not os.path.exists(path):
        raise ValueError(
            f"{path!r}: no such file, and not a built-in data set ({', '.join(DATASET_NAMES)})"
        )
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            rows, lines = [], []
            for row in reader:
                if any(cell.strip() for cell in row):
                    rows.append([cell.strip() for cell in row])
                    lines.append(reader.line_num)
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a UTF-8 text (CSV) file") from None
    except csv.Error as exc:
        raise ValueError(f"{path}: not valid CSV ({exc})") from None
    if not rows:
        raise ValueError(f"{path}: empty file (a CSV file needs a header row and data rows)")
    header, rows, lines = rows[0], rows[1:], lines[1:]
    if all(_is_number(c) for c in header):
        raise ValueError(f"{path}: the first line must be a header naming the columns")
    if len(set(header)) != len(header) or not all(header):
        raise ValueError(f"{path}: column names in the header must be non-empty and distinct")
    if not rows:
        raise ValueError(f"{path}: has a header but no data rows")
    for row, line in zip(rows, lines, strict=True):
        if len(row) != len(header):
            raise ValueError(
                f"{path}, line {line}: {len(row)} fields, but the header has {len(header)}"
            )
    return header, rows, lines


def numeric_columns(path, header, rows, lines, columns: list[str]) -> Array:
    """The named columns as a finite float64 array (n, len(columns))."""
    idx = [header.index(c) for c in columns]
    cells = [[row[j] for j in idx] for row in rows]
    try:
        x = np.array(cells, dtype=np.float64).reshape(len(rows), len(idx))
    except ValueError:
        x = None
    if x is not None and np.isfinite(x).all():
        return x
    for i, row in enumerate(cells):  # find the first bad cell, to name it
        for c, cell in zip(columns, row, strict=True):
            if not cell:
                raise ValueError(f"{path}, line {lines[i]}: column {c!r} is empty (missing value)")
            if not _is_number(cell) or not math.isfinite(float(cell)):
                raise ValueError(
                    f"{path}, line {lines[i]}: column {c!r} holds {cell!r}, not a finite number "
                    f"(features must be numeric)"
                )
    raise ValueError(f"{path}: the feature columns could not be read as numbers")


def labels(cells: list[str]) -> Array:
    """Numbers when every cell is a finite number (whole numbers as int), else the strings."""
    if cells and all(_is_number(c) and math.isfinite(float(c)) for c in cells):
        values = np.array([float(c) for c in cells])
        whole = np.all(values == np.round(values)) and np.all(np.abs(values) < 2**53)
        return values.astype(np.int64) if whole else values
    return np.array(cells, dtype=object)


def infer_task(y: Array) -> str:
    """The documented rule: see the module docstring."""
    if y.dtype == object:
        return "classification"
    distinct = np.unique(y).size
    whole = np.issubdtype(y.dtype, np.integer) or bool(np.all(y == np.round(y)))
    limit = min(MAX_CLASSES, max(2, 0.05 * y.size))
    return "classification" if whole and distinct <= limit else "regression"


def fit_preprocessing(table: Table, task: str, train: Array) -> tuple[Preprocessing, Array]:
    """Standardisation fitted on the rows ``train``; targets encoded for the network.

    Classification: targets become indices into ``classes`` (sorted labels of every row).
    Regression: targets are standardised too, ``(y − y_mean) / y_scale``, shape (n, 1).
    """
    x_mean, x_scale = _mean_scale(table.x, train)
    pre = Preprocessing(
        task,
        feature_names=table.feature_names,
        target_name=table.target_name,
        x_mean=x_mean,
        x_scale=x_scale,
    )
    if task == "classification":
        pre.classes = [c.item() if isinstance(c, np.generic) else c for c in np.unique(table.y)]
        if len(pre.classes) < 2:
            raise ValueError(f"the target has a single class ({pre.classes[0]!r}); need two")
        return pre, encode(table.y, pre.classes)
    if table.y.dtype == object:
        bad = next(c for c in table.y if not _is_number(c))
        raise ValueError(
            f"regression needs a numeric target; column {table.target_name!r} holds {bad!r}"
        )
    y = table.y.astype(np.float64).reshape(-1, 1)
    pre.y_mean, pre.y_scale = _mean_scale(y, train)
    return pre, (y - pre.y_mean) / pre.y_scale


def encode(y: Array, classes: list) -> Array:
    """Indices of the labels ``y`` in ``classes``; a label the model never saw is an error."""
    index = {_key(c): i for i, c in enumerate(classes)}
    out = np.empty(len(y), dtype=np.int64)
    for i, label in enumerate(y):
        k = index.get(_key(label))
        if k is None:
            raise ValueError(f"label {label!r} is not one of the model's classes {classes}")
        out[i] = k
    return out


def _key(label):
    if isinstance(label, np.generic):
        label = label.item()
    if isinstance(label, float) and label.is_integer():
        return int(label)
    return label


def _mean_scale(x: Array, rows: Array) -> tuple[Array, Array]:
    """Column means and standard deviations over ``rows`` (a zero deviation becomes 1)."""
    d = x.shape[1]
    total, sq = np.zeros(d), np.zeros(d)
    for i in range(0, rows.size, 8192):
        total += np.asarray(x[rows[i : i + 8192]], dtype=np.float64).sum(axis=0)
    mean = total / rows.size
    for i in range(0, rows.size, 8192):
        sq += ((np.asarray(x[rows[i : i + 8192]], dtype=np.float64) - mean) ** 2).sum(axis=0)
    scale = np.sqrt(sq / rows.size)
    scale[scale == 0] = 1.0
    return mean, scale


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
