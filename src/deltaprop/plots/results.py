"""What a trained network predicts: a regression's predicted-vs-true scatter, a classifier's
confusion matrix."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..metrics import confusion_matrix
from ._mpl import axes

Array = np.ndarray


def plot_predicted_vs_true(y_true, y_pred, ax: Any = None):
    """Each prediction against its target (all outputs' values pooled), with the line ``ŷ = y``
    on which a perfect regression's points lie."""
    t = np.asarray(y_true, dtype=float).ravel()
    o = np.asarray(y_pred, dtype=float).ravel()
    if t.shape != o.shape:
        raise ValueError(f"y_true has {t.size} values but y_pred has {o.size}")
    fig, ax = axes(ax, (5.0, 5.0))
    ax.scatter(t, o, s=12, alpha=0.7)
    lo, hi = float(min(t.min(), o.min())), float(max(t.max(), o.max()))
    ax.plot([lo, hi], [lo, hi], color="k", linewidth=1, label="ŷ = y")
    ax.set_xlabel("true y")
    ax.set_ylabel("predicted ŷ")
    ax.set_title("Predicted vs true")
    ax.legend()
    return fig


def plot_confusion_matrix(y_true, y_pred, ax: Any = None, labels=None):
    """The confusion matrix as a shaded table with its counts (rows: true class, columns:
    predicted); the image's data are :func:`confusion_matrix`."""
    c = confusion_matrix(y_true, y_pred, None if labels is None else len(labels))
    k = c.shape[0]
    names = [str(v) for v in (labels if labels is not None else range(k))]
    fig, ax = axes(ax, (1.0 + 0.5 * k + 2, 1.0 + 0.5 * k + 1.5))
    ax.imshow(c, cmap="Blues")
    top = c.max() or 1
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(c[i, j]), ha="center", va="center",
                    color="white" if c[i, j] > top / 2 else "black")  # fmt: skip
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title("Confusion matrix")
    return fig
