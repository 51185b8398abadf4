"""deltaprop's one look for HTML pages: the worked solution and the training reports share it.

``page(title, body)`` wraps body markup in a self-contained document (styles inline, no scripts,
no fonts, no links but an empty icon, so that it opens offline). Every part of the page fits the
width of a desktop (1,200 px) and of a phone (400 px) without scroll bars: equations break at
``=`` and ``+`` (:mod:`.eqlayout`), drawings and charts scale down, and tables become one card
per row on narrow screens (each cell labelled with its column, from ``data-label``).
"""

from __future__ import annotations

from html import escape

BASE = """
*, *::before, *::after { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, sans-serif; color: #1b1b1b; margin: 0; background: #fafafa; }
main { max-width: 64rem; margin: 0 auto; padding: 1.5rem 2rem 4rem; background: #fff; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 2px solid #ddd; margin-top: 2.5rem; }
h3 { margin: 1.8rem 0 .4rem; color: #2a4d7a; } h4 { margin: 1rem 0 .2rem; color: #555; }
h1, h2, h3, h4, p, figcaption { overflow-wrap: anywhere; }
p { margin: .5rem 0; }
p.warn { border-left: 4px solid #d9541e; padding: .3rem .8rem; background: #fff6ef; }
math { font-size: 1.08em; }
@media (max-width: 40rem) { main { padding: 1rem .75rem 3rem; } }
"""

EQUATIONS = """
.eq { display: flex; align-items: baseline; margin: .15rem 0 .15rem 1.5rem; }
.eq > .lhs { flex: none; white-space: nowrap; }
.eq > .rhs { display: flex; flex-wrap: wrap; align-items: baseline; flex: 1 1 0; min-width: 0; }
.eq .seg { max-width: 100%; padding-left: 1.6em; text-indent: -1.6em; margin-right: .3em; }
.eq .note { color: #666; font-size: .85em; margin-left: 1em; }
@media (max-width: 40rem) { .eq { margin-left: .25rem; } math { font-size: 1em; } }
"""

TABLES = """
table { border-collapse: collapse; margin: .5rem 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ddd; padding: .2rem .5rem; text-align: right; }
table.wide { font-size: .9em; }
th { background: #f3f3f3; font-weight: 600; }
td:first-child, th:first-child { text-align: left; }
@media (max-width: 48rem) {
  table, tbody, tr, td { display: block; } thead { display: none; }
  table.wide { font-size: 1em; }
  table { margin: .5rem 0; } tr { border: 1px solid #ddd; margin: .4rem 0; }
  td, td:first-child { border: 0; text-align: right; padding: .1rem .5rem; }
  td::before { content: attr(data-label); float: left; color: #555; padding-right: .8em; }
}
"""

FIGURES = """
figure { margin: .8rem 0; max-width: 100%; }
figcaption { color: #555; font-size: .85em; max-width: 52rem; }
svg { max-width: 100%; height: auto; }
svg.net { font: 12px system-ui, sans-serif; }
svg.net text { paint-order: stroke; stroke: #fff; stroke-width: 4px; stroke-linejoin: round; }
svg.net text.w { fill: #333; } svg.net text.g { fill: #7a3b8f; }
svg.net text.f { font-weight: 600; stroke: none; }
svg.net text.v { fill: #222; font-variant-numeric: tabular-nums; }
svg.net circle { stroke: #333; stroke-width: 1.5; }
svg.net circle.in { fill: #eef3ea; } svg.net circle.hid { fill: #fdf5e2; }
svg.net circle.out { fill: #e8eef8; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
.charts figure { flex: 1 1 20rem; min-width: 0; }
svg.chart { width: 100%; font: 12px system-ui, sans-serif; background: #fff; }
svg.chart .axis { stroke: #444; stroke-width: 1; fill: none; }
svg.chart .grid { stroke: #e4e4e4; stroke-width: 1; }
svg.chart text { fill: #333; } svg.chart text.title { font-weight: 600; font-size: 13px; }
svg.chart polyline { fill: none; stroke-width: 2; stroke-linejoin: round; }
"""

STYLE = BASE + EQUATIONS + TABLES + FIGURES


def page(title: str, body: str, extra_css: str = "") -> str:
    """A complete, self-contained HTML document with deltaprop's style."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n"
        '<link rel="icon" href="data:,">\n'
        f"<style>{STYLE}{extra_css}</style>\n</head>\n<body>\n<main>\n"
        + body
        + "\n</main>\n</body>\n</html>\n"
    )
