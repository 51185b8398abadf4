"""What saving and loading share: the format's names, its error, and the preprocessing it keeps.

A leaf of the model-file modules: :mod:`deltaprop.io` (saving, :func:`~deltaprop.io.load`) and
:mod:`deltaprop._io_read` (reading) both import it; it imports neither.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Array = np.ndarray

FORMAT = "deltaprop-model"
FORMAT_VERSION = 1
HEADER = "deltaprop.json"
TASKS = ("classification", "regression")
PRE_ARRAYS = ("x_mean", "x_scale", "y_mean", "y_scale")
_BLOCK = 8192


class ModelFileError(ValueError):
    """A model file that cannot be loaded: corrupted, truncated, foreign, newer, or unsafe."""


@dataclass
class Preprocessing:
    """Raw data to network and back: ``x' = (x − x_mean) / x_scale``; ``y = o·y_scale + y_mean``.

    ``task`` is ``"classification"`` (outputs are probabilities over ``classes``, the original
    labels, in output order) or ``"regression"``. Scaling arrays are float64, or None for none.
    """

    task: str
    classes: list | None = None
    feature_names: list[str] | None = None
    target_name: str | None = None
    x_mean: Array | None = None
    x_scale: Array | None = None
    y_mean: Array | None = None
    y_scale: Array | None = None

    def transform(self, x, dtype=np.float64) -> Array:
        """Standardised features as ``dtype``, computed in float64 block by block (memmap-safe)."""
        x = x if isinstance(x, np.ndarray) else np.asarray(x)
        x = x.reshape(1, -1) if x.ndim == 1 else x
        d = x.shape[1] if x.ndim == 2 else None
        if d is None or (self.x_mean is not None and d != self.x_mean.size):
            size = "d" if self.x_mean is None else self.x_mean.size
            raise ValueError(f"x must have shape (n, {size}), got {x.shape}")
        out = np.empty(x.shape, dtype=dtype)
        for i in range(0, x.shape[0], _BLOCK):
            block = np.asarray(x[i : i + _BLOCK], dtype=np.float64)
            if self.x_mean is not None:
                block = (block - self.x_mean) / self.x_scale
            out[i : i + _BLOCK] = block
        return out

    def decode(self, o: Array) -> Array:
        """Regression outputs on the targets' scale, ``o·y_scale + y_mean`` (float64)."""
        o = np.asarray(o, dtype=np.float64)
        return o if self.y_mean is None else o * self.y_scale + self.y_mean


def check_preprocessing(p: Preprocessing, classes: list | None, inputs: int, outputs: int) -> None:
    """Raises ValueError unless ``p`` fits a network of ``inputs`` → ``outputs`` (on save and on
    load); ``classes`` are its labels as JSON values."""
    if p.task not in TASKS:
        raise ValueError(f"preprocessing task must be one of {TASKS}, got {p.task!r}")
    if classes is not None:
        kinds = {type(c) for c in classes}
        if not (kinds <= {str} or kinds <= {int, float}) or any(
            isinstance(c, float) and not math.isfinite(c) for c in classes
        ):
            raise ValueError("class labels must be all strings or all finite numbers")
        if any(isinstance(c, int) and not -(2**63) <= c < 2**63 for c in classes):
            raise ValueError("whole-number class labels must fit in 64 bits")
        if len(set(classes)) != len(classes):
            raise ValueError("class labels must be distinct")
    if p.task == "classification" and (p.classes is None or len(p.classes) != outputs):
        raise ValueError(f"a classifier needs one class label per output ({outputs})")
    if p.feature_names is not None and (
        len(p.feature_names) != inputs or not all(isinstance(f, str) for f in p.feature_names)
    ):
        raise ValueError(f"feature_names must be {inputs} strings, one per input")
    if p.target_name is not None and not isinstance(p.target_name, str):
        raise ValueError(f"target_name must be a string, got {p.target_name!r:.80}")
    for k in PRE_ARRAYS:
        a = getattr(p, k)
        size = inputs if k[0] == "x" else outputs
        if a is not None:
            a = np.asarray(a)
            if a.shape != (size,) or not np.isfinite(a).all():
                raise ValueError(f"preprocessing {k} must be {size} finite numbers")
            if k.endswith("scale") and not (a > 0).all():
                raise ValueError(f"preprocessing {k} must be positive")
    if (p.x_mean is None) != (p.x_scale is None) or (p.y_mean is None) != (p.y_scale is None):
        raise ValueError("preprocessing means and scales come in pairs")
