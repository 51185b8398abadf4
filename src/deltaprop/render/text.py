"""A worked solution as plain Unicode text, for the terminal."""

from __future__ import annotations

import textwrap

from ..notation import to_text as expr_text
from .document import Chart, Document, Eq, Figure, Heading, Para, Table

WIDTH = 100


_KEEP = "\ue000"  # stands for a space inside an equation while a paragraph is wrapped


def inline(parts, d: int, keep: bool = False) -> str:
    def expr(p) -> str:
        s = expr_text(p, d)
        return s.replace(" ", _KEEP) if keep else s

    return "".join(p if isinstance(p, str) else expr(p) for p in parts)


def to_text(doc: Document, d: int = 4) -> str:
    """Headings underlined, one equation a line, tables in aligned columns."""
    out: list[str] = []
    for block in doc.blocks:
        if isinstance(block, Heading):
            rule = {1: "=", 2: "="}.get(block.level)
            if block.level <= 2:
                out += ["", block.text, rule * len(block.text)]
            elif block.level == 3:
                out += ["", block.text, "-" * len(block.text)]
            else:
                out += ["", f"[{block.text}]"]
        elif isinstance(block, Para):
            lines = textwrap.wrap(inline(block.parts, d, True), WIDTH, break_long_words=False)
            out += [ln.replace(_KEEP, " ") for ln in lines]
        elif isinstance(block, Eq):
            line = "    " + expr_text(block.expr, d)
            out.append(f"{line}    ({block.note})" if block.note else line)
        elif isinstance(block, Table):
            out += _table(block, d)
        elif isinstance(block, Figure | Chart):
            continue
    return "\n".join(out).lstrip("\n") + "\n"


def _table(t: Table, d: int) -> list[str]:
    cells = [[inline([c], d) for c in t.header]] + [[inline([c], d) for c in r] for r in t.rows]
    widths = [max(len(r[k]) for r in cells) for k in range(len(t.header))]
    lines = [
        "  ".join(
            c.rjust(w) if k else c.ljust(w) for k, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return ["    " + ln.rstrip() for ln in lines]
