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
    parts: Inline


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
class Document:
    title: str
    blocks: list = field(default_factory=list)

    def add(self, *blocks) -> None:
        self.blocks.extend(blocks)
