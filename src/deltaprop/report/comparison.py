"""A comparison report: runs from the same start (:func:`deltaprop.compare`) on one page — the
loss per epoch, per update and per second of training, each run a line, and their final losses."""

from __future__ import annotations

import itertools
from html import escape
from typing import TYPE_CHECKING

from ..render.charts import Series, line_chart
from ..render.style import page
from . import figures

if TYPE_CHECKING:
    from ..compare import Comparison


def comparison_report(comparison: Comparison, *, title: str = "Comparison",
                      settings: dict | None = None) -> str:  # fmt: skip
    """The comparison as HTML text: three charts and a table of final losses."""
    hs = comparison.histories
    per_epoch = [Series(n, list(range(h.initial_epoch + 1, h.end_epoch + 1)),
                        figures.finite_or_none(h.loss)) for n, h in hs.items()]  # fmt: skip
    per_update = [Series(n, list(range(1, len(h.update_loss) + 1)),
                         figures.finite_or_none(h.update_loss)) for n, h in hs.items()]  # fmt: skip
    per_second = [Series(n, list(itertools.accumulate(h.epoch_seconds)),
                         figures.finite_or_none(h.loss)) for n, h in hs.items()]  # fmt: skip
    charts = [line_chart(per_epoch, "Loss per epoch", "epoch", "loss E")]
    if any(h.update_loss for h in hs.values()):
        charts.append(line_chart(per_update, "Loss per update", "update", "batch loss E"))
    charts.append(line_chart(per_second, "Loss per second of training", "seconds", "loss E"))
    rows = "".join(
        f'<tr><th data-label="run">{escape(n)}</th>'
        f'<td data-label="final loss">{h.loss[-1]:.6g}</td>'
        f'<td data-label="updates">{h.updates:,}</td>'
        f'<td data-label="seconds">{sum(h.epoch_seconds):.3g}</td></tr>'
        for n, h in hs.items()
        if h.loss
    )
    body = [f"<h1>{escape(title)}</h1>",
            "<p>Every run starts from the same weights and sees the same batches in the same "
            "order.</p>"]  # fmt: skip
    if settings:
        items = "".join(f"<li>{escape(str(k))}: {escape(str(v))}</li>" for k, v in settings.items())
        body.append(f"<ul>{items}</ul>")
    body.append(f'<div class="charts">{"".join(f"<figure>{c}</figure>" for c in charts)}</div>')
    body.append("<h2>Final losses</h2><table><thead><tr><th>run</th><th>final loss</th>"
                f"<th>updates</th><th>seconds</th></tr></thead><tbody>{rows}</tbody></table>")
    return page(title, "\n".join(body))
