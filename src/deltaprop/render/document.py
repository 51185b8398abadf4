"""The blocks of a worked solution, shared by every human format (text, Markdown, HTML).

Inline content is a list of plain strings and expressions (:mod:`deltaprop.notation`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..notation import Expr

Inline = list[str | Expr]


@dataclass
class Heading:
    level: int  # 1 title, 2 step, 3 phase, 4 sample or layer
    text: str


@dataclass
class Para:
    """A paragraph; ``kind="warn"`` marks a warning (the HTML page sets it apart)."""

    parts: Inline
    kind: str = ""


@dataclass
class Eq:
    """A display equation; ``note`` is a short remark shown after it."""

    expr: Expr
    note: str = ""


@dataclass
class Table:
    header: Inline
    rows: list[Inline]
    caption: str = ""


@dataclass
class Figure:
    """The network drawing of one step and sample (drawn by the HTML renderer only)."""

    step: int  # index into trace.steps
    sample: int


@dataclass
class Chart:
    """A chart of numbers the trace holds, drawn by the HTML renderer only (text and Markdown show
    the table that precedes it). ``kind`` is ``"line"`` (``series``: :class:`.charts.Series`) or
    ``"bar"`` (one bar per ``labels[k]`` of height ``values[k]``)."""

    kind: str
    title: str
    x_label: str
    y_label: str
    series: list = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    log: bool | None = None


@dataclass
class Document:
    title: str
    blocks: list = field(default_factory=list)

    def add(self, *blocks) -> None:
        self.blocks.extend(blocks)
