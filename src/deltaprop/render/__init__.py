"""Renderers of a worked solution (:class:`deltaprop.trace.Trace`): text, Markdown, HTML, JSON.

Data flows one way: trace → document blocks (:mod:`.solution`) → a format. ``decimals`` governs
the human formats only; JSON always carries full precision.
"""

from __future__ import annotations

FORMATS = ("text", "markdown", "html", "json")


def render(trace, fmt: str = "text", decimals: int = 4, summary: bool = False) -> str:
    """``trace`` as ``"text"``, ``"markdown"``, ``"html"`` or ``"json"``.

    ``summary`` (human formats): the set-up, the first step in full, then the per-step table and
    charts of every step, instead of every step in full.
    """
    if fmt == "json":
        return trace.to_json() + "\n"
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 15:
        raise ValueError(f"decimals must be a whole number from 0 to 15, got {decimals!r}")
    from .solution import build

    doc = build(trace, summary=bool(summary))
    if fmt == "text":
        from .text import to_text

        return to_text(doc, decimals)
    if fmt == "markdown":
        from .markdown import to_markdown

        return to_markdown(doc, decimals)
    from .html import to_html

    return to_html(doc, trace, decimals)


__all__ = ["FORMATS", "render"]
