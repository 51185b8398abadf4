"""Scores of a classifier: the confusion matrix, and per-class precision, recall and F1.

For class ``c`` with ``C[i, j]`` the number of samples of true class ``i`` predicted as ``j``:
``precision = C[c, c] / Σᵢ C[i, c]``, ``recall = C[c, c] / Σⱼ C[c, j]``,
``F1 = 2·precision·recall / (precision + recall)``; a ratio whose denominator is 0 is 0 (as
scikit-learn's ``zero_division=0``). The macro average is the plain mean over the classes.
One place for the plots, the command line and the training report.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def confusion_matrix(y_true, y_pred, n_classes: int | None = None) -> Array:
    """``C[i, j]``: how many samples of class ``i`` were predicted as class ``j``.

    Labels are class numbers; one-hot (or score) rows are read by ``argmax``.
    """
    t, p = (_labels(v) for v in (y_true, y_pred))
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} labels but y_pred has {p.size}")
    k = n_classes if n_classes is not None else int(max(t.max(), p.max())) + 1
    c = np.zeros((k, k), dtype=np.int64)
    np.add.at(c, (t, p), 1)
    return c


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros(a.shape, dtype=np.float64), where=b > 0)


def class_scores(C: np.ndarray) -> dict[str, np.ndarray]:
    """Per class: ``precision``, ``recall``, ``f1`` and ``support`` (true samples)."""
    hits = np.diag(C).astype(np.float64)
    precision = _ratio(hits, C.sum(axis=0).astype(np.float64))
    recall = _ratio(hits, C.sum(axis=1).astype(np.float64))
    f1 = _ratio(2 * precision * recall, precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1, "support": C.sum(axis=1)}


def _labels(v) -> Array:
    a = np.asarray(v)
    if a.ndim == 2 and a.shape[1] > 1:
        return a.argmax(axis=1)
    a = a.ravel()
    if a.dtype.kind == "f":
        if not np.all(a == np.round(a)):
            raise ValueError("class labels must be whole numbers (or one-hot rows)")
        a = a.astype(np.int64)
    if a.size and a.min() < 0:
        raise ValueError(f"class labels must be 0 or more, got {a.min()}")
    return a.astype(np.intp)
