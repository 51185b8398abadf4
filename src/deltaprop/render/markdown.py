"""A worked solution as Markdown with ``$…$`` LaTeX math (GitHub, Jupyter, Pandoc, Obsidian)."""

from __future__ import annotations

from ..notation import to_latex
from .document import Chart, Document, Eq, Figure, Heading, Para, Table


def inline(parts, d: int) -> str:
    return "".join(p if isinstance(p, str) else f"${to_latex(p, d)}$" for p in parts)


def to_markdown(doc: Document, d: int = 4) -> str:
    """Headings ``#`` … ``####``, equations as list items, tables as pipe tables."""
    out: list[str] = []
    prev = None
    for block in doc.blocks:
        if isinstance(block, Figure | Chart):  # drawn in HTML; the table before says it all
            continue
        if not (isinstance(block, Eq) and isinstance(prev, Eq)):
            out.append("")
        if isinstance(block, Heading):
            out.append("#" * block.level + " " + block.text)
        elif isinstance(block, Para):
            out.append(inline(block.parts, d))
        elif isinstance(block, Eq):
            note = f" — *{block.note}*" if block.note else ""
            out.append(f"- ${to_latex(block.expr, d)}${note}")
        elif isinstance(block, Table):
            out.append("| " + " | ".join(inline([c], d) for c in block.header) + " |")
            out.append(
                "|"
                + "|".join(" --- " if k == 0 else " ---: " for k in range(len(block.header)))
                + "|"
            )
            out += ["| " + " | ".join(inline([c], d) for c in r) + " |" for r in block.rows]
        prev = block
    return "\n".join(out).lstrip("\n") + "\n"
