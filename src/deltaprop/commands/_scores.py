"""Per-class scores of a classifier: the confusion matrix, precision, recall and F1.

For class ``c`` with ``C[i, j]`` the number of samples of true class ``i`` predicted as ``j``:
``precision = C[c, c] / Σᵢ C[i, c]``, ``recall = C[c, c] / Σⱼ C[c, j]``,
``F1 = 2·precision·recall / (precision + recall)``; a ratio whose denominator is 0 is 0 (as
scikit-learn's ``zero_division=0``). The macro average is the plain mean over the classes.
"""

from __future__ import annotations

import numpy as np


def confusion_matrix(t: np.ndarray, p: np.ndarray, k: int) -> np.ndarray:
    """``C`` (k, k): rows the true class index ``t``, columns the predicted index ``p``."""
    C = np.zeros((k, k), dtype=np.int64)
    np.add.at(C, (t, p), 1)
    return C


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros(a.shape, dtype=np.float64), where=b > 0)


def class_scores(C: np.ndarray) -> dict[str, np.ndarray]:
    """Per class: ``precision``, ``recall``, ``f1`` and ``support`` (true samples)."""
    hits = np.diag(C).astype(np.float64)
    precision = _ratio(hits, C.sum(axis=0).astype(np.float64))
    recall = _ratio(hits, C.sum(axis=1).astype(np.float64))
    f1 = _ratio(2 * precision * recall, precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1, "support": C.sum(axis=1)}


def table(classes: list, C: np.ndarray) -> list[str]:
    """Per-class scores and the confusion matrix as aligned text lines."""
    s = class_scores(C)
    names = [str(c) for c in classes]
    w = max(9, *(len(n) for n in names))
    lines = [f"{'class':<{w}}  precision  recall  f1      samples"]
    for k, n in enumerate(names):
        lines.append(
            f"{n:<{w}}  {s['precision'][k]:<9.4f}  {s['recall'][k]:<6.4f}  {s['f1'][k]:<6.4f}"
            f"  {int(s['support'][k])}"
        )
    macro = [float(np.mean(s[m])) for m in ("precision", "recall", "f1")]
    lines.append(f"{'macro avg':<{w}}  {macro[0]:<9.4f}  {macro[1]:<6.4f}  {macro[2]:<6.4f}"
                 f"  {int(C.sum())}")  # fmt: skip
    lines.append("confusion matrix (rows: true class, columns: predicted class)")
    cw = max(len(str(int(C.max()))), *(len(n) for n in names))
    lines.append(" " * w + "  " + "  ".join(f"{n:>{cw}}" for n in names))
    for k, n in enumerate(names):
        lines.append(f"{n:<{w}}  " + "  ".join(f"{int(v):>{cw}}" for v in C[k]))
    return lines
