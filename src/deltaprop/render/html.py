"""A worked solution as one self-contained HTML page: MathML equations, SVG drawings and charts.

No scripts, no fonts, no links: the page opens offline in any current browser (MathML Core is
native in Chromium, Firefox and Safari). Every equation shows whole at any width from a phone's
400 px: it is set as its left side and its ``= …`` segments, each segment in pieces that start at
``+`` or ``−`` (:mod:`.eqlayout`), which wrap, aligned on ``=``, where the column ends. The page's
look is :mod:`.style`, shared with the training reports.
"""

from __future__ import annotations

from html import escape

from ..notation import to_text
from .charts import bar_chart, line_chart
from .document import Chart, Document, Eq, Figure, Heading, Para, Table
from .eqlayout import layout
from .mathml import chunk_to_mathml, to_mathml
from .style import STYLE, page
from .svg import legend, network_svg

__all__ = ["STYLE", "equation_html", "to_html"]


def _inline(parts, d: int) -> str:
    return "".join(
        escape(p) if isinstance(p, str) else f"<math>{to_mathml(p, d)}</math>" for p in parts
    )


def _math(markup: str) -> str:
    return f'<math displaystyle="true">{markup}</math>'


def equation_html(expr, d: int = 4, note: str = "") -> str:
    """One display equation as a ``div.eq``: its left side, then its segments of pieces."""
    lay = layout(expr)
    lhs = f'<span class="lhs">{_math(to_mathml(lay.lhs, d))}</span>' if lay.lhs else ""
    segs = "".join(
        # a zero-width space between pieces: where a line may break (pieces of a segment are
        # laid out as words: its continuation lines indented, its first line not)
        '<span class="seg">' + "\u200b".join(_math(chunk_to_mathml(c, d)) for c in seg) + "</span>"
        for seg in lay.segments
    )
    note = f'<span class="note">{escape(note)}</span>' if note else ""
    return f'<div class="eq">{lhs}<span class="rhs">{segs}{note}</span></div>'


def _label(cell, d: int) -> str:
    return escape(cell if isinstance(cell, str) else to_text(cell, d), quote=True)


def _table(block: Table, d: int) -> str:
    labels = [_label(c, d) for c in block.header]
    head = "".join(f"<th>{_inline([c], d)}</th>" for c in block.header)
    rows = "".join(
        "<tr>"
        + "".join(
            f'<td data-label="{lab}">{_inline([c], d)}</td>'
            for lab, c in zip(labels, r, strict=True)
        )
        + "</tr>"
        for r in block.rows
    )
    wide = ' class="wide"' if len(block.header) > 6 else ""
    return f"<table{wide}><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def chart_html(block: Chart) -> str:
    """A :class:`Chart` block as a ``<figure>`` holding its SVG."""
    if block.kind == "bar":
        svg = bar_chart(block.labels, block.values, block.title, block.y_label, block.log)
    else:
        svg = line_chart(block.series, block.title, block.x_label, block.y_label, block.log)
    return f"<figure>{svg}</figure>"


def to_html(doc: Document, trace, d: int = 4) -> str:
    """The page: headings, paragraphs, equations, tables, an ``<svg>`` per figure and chart."""
    body: list[str] = []
    charts: list[str] = []
    for block in doc.blocks:
        if charts and not isinstance(block, Chart):  # charts side by side where there is room
            body.append('<div class="charts">' + "".join(charts) + "</div>")
            charts = []
        if isinstance(block, Heading):
            h = min(block.level, 4)
            body.append(f"<h{h}>{escape(block.text)}</h{h}>")
        elif isinstance(block, Para):
            cls = f' class="{escape(block.kind)}"' if block.kind else ""
            body.append(f"<p{cls}>{_inline(block.parts, d)}</p>")
        elif isinstance(block, Eq):
            body.append(equation_html(block.expr, d, block.note))
        elif isinstance(block, Table):
            body.append(_table(block, d))
        elif isinstance(block, Figure):
            svg = network_svg(trace, block.step, block.sample, min(d, 4))
            caption = escape(legend(trace, block.step, block.sample))
            body.append(f'<figure class="network">{svg}<figcaption>{caption}</figcaption></figure>')
        elif isinstance(block, Chart):
            charts.append(chart_html(block))
    if charts:
        body.append('<div class="charts">' + "".join(charts) + "</div>")
    return page(doc.title, "\n".join(body))
