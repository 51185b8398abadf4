"""The command line's per-class score table (the scores themselves: :mod:`deltaprop.metrics`)."""

from __future__ import annotations

import numpy as np

from ..metrics import class_scores, confusion_matrix

__all__ = ["class_scores", "confusion_matrix", "table"]


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
