"""A worked solution as one self-contained HTML page: MathML equations, SVG network drawings.

No scripts, no fonts, no links: the page opens offline in any current browser (MathML Core is
native in Chromium, Firefox and Safari).
"""

from __future__ import annotations

from html import escape

from .document import Document, Eq, Figure, Heading, Para, Table
from .mathml import to_mathml
from .svg import STYLE as SVG_STYLE
from .svg import legend, network_svg

STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; color: #1b1b1b; margin: 0; background: #fafafa; }
main { max-width: 64rem; margin: 0 auto; padding: 1.5rem 2rem 4rem; background: #fff; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 2px solid #ddd; margin-top: 2.5rem; }
h3 { margin: 1.8rem 0 .4rem; color: #2a4d7a; } h4 { margin: 1rem 0 .2rem; color: #555; }
p { margin: .5rem 0; }
.eq { margin: .15rem 0 .15rem 1.5rem; overflow-x: auto; white-space: nowrap; }
.eq .note { color: #666; font-size: .85em; margin-left: 1em; }
math { font-size: 1.08em; }
table { border-collapse: collapse; margin: .5rem 0 .5rem 1.5rem; }
th, td { border: 1px solid #ddd; padding: .2rem .6rem; text-align: right; }
th { background: #f3f3f3; font-weight: 600; }
td:first-child, th:first-child { text-align: left; }
figure { margin: .8rem 0; overflow-x: auto; }
figcaption { color: #555; font-size: .85em; max-width: 52rem; }
"""


def _inline(parts, d: int) -> str:
    return "".join(
        escape(p) if isinstance(p, str) else f"<math>{to_mathml(p, d)}</math>" for p in parts
    )


def to_html(doc: Document, trace, d: int = 4) -> str:
    """The page: headings, paragraphs, one ``<math>`` per equation, an ``<svg>`` per figure."""
    body: list[str] = []
    for block in doc.blocks:
        if isinstance(block, Heading):
            h = min(block.level, 4)
            body.append(f"<h{h}>{escape(block.text)}</h{h}>")
        elif isinstance(block, Para):
            body.append(f"<p>{_inline(block.parts, d)}</p>")
        elif isinstance(block, Eq):
            note = f'<span class="note">{escape(block.note)}</span>' if block.note else ""
            body.append(
                f'<div class="eq"><math displaystyle="true">{to_mathml(block.expr, d)}</math>'
                f"{note}</div>"
            )
        elif isinstance(block, Table):
            head = "".join(f"<th>{_inline([c], d)}</th>" for c in block.header)
            rows = "".join(
                "<tr>" + "".join(f"<td>{_inline([c], d)}</td>" for c in r) + "</tr>"
                for r in block.rows
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif isinstance(block, Figure):
            svg = network_svg(trace, block.step, block.sample, min(d, 4))
            caption = escape(legend(trace, block.step, block.sample))
            body.append(f"<figure>{svg}<figcaption>{caption}</figcaption></figure>")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(doc.title)}</title>\n"
        '<link rel="icon" href="data:,">\n'
        f"<style>{STYLE}{SVG_STYLE}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )
