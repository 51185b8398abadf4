"""Training and comparison reports: one self-contained HTML file each (inline SVG, inline styles,
no scripts, no network), in the look of the worked solutions.

``dp.report(network, history, x, y, path="report.html")`` writes a training report
(:mod:`.training`); ``dp.report(comparison, path="compare.html")`` a comparison
(:mod:`.comparison`). Both return the HTML text; with ``path`` it is also written, atomically.
"""

from __future__ import annotations

import os
from pathlib import Path

from .._atomic_file import write_atomic
from .comparison import comparison_report
from .training import training_report

__all__ = ["comparison_report", "report", "training_report"]


def report(subject, history=None, x=None, y=None, *, path: str | os.PathLike | None = None,
           **options) -> str:  # fmt: skip
    """The report of a trained network (with its ``history`` and data to score ``x``, ``y``) or
    of a :class:`~deltaprop.compare.Comparison`; written to ``path`` if given."""
    from ..compare import Comparison

    if isinstance(subject, Comparison):
        if history is not None or x is not None or y is not None:
            raise TypeError("a comparison report takes no history or data")
        html = comparison_report(subject, **options)
    else:
        html = training_report(subject, history, x, y, **options)
    if path is not None:
        data = html.encode("utf-8")
        write_atomic(Path(path), lambda fh: fh.write(data))
    return html
