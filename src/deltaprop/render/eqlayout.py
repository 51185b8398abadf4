"""Long equations broken as a textbook breaks them, in the expression layer (MathML Core has no
automatic line breaking).

An equation ``lhs = r₁ = r₂ = …`` is split into its left side and its segments ``= rᵢ``; each
segment into chunks that start at a ``+`` or ``−`` (or follow a ``,``). The HTML renderer sets the
segments one below the other when they do not fit beside each other, aligned on ``=``, and lets a
segment's chunks wrap, indented, when a segment alone is wider than the column:

    z₁⁽²⁾ = w₁₁⁽²⁾·a₁⁽¹⁾ + w₁₂⁽²⁾·a₁⁽¹⁾ + … + b₁⁽²⁾
          = 0.1000·0.5744 + 0.2000·0.6225
              + … + 0.0000
          = 0.3000

Nested rows are flattened first; that keeps every token as it was (a negative number that follows
an operator is still put in parentheses), because a row's first item follows what precedes the row.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..notation import Expr, Frac, Func, Mat, Op, Paren, Pow, Row, Sum

RELATIONS = ("=", "←", "≈")
BREAK_BEFORE = ("+", "−", "-")
BREAK_AFTER = (",",)


@dataclass
class Layout:
    """``lhs`` (None when the equation has no relation) and its segments, each a list of chunks;
    every chunk is a :class:`Row` that renders as one piece of the equation."""

    lhs: Row | None
    segments: list[list[Row]]


@dataclass
class Fence(Expr):
    """An opening or closing parenthesis of a sum that is broken inside its parentheses."""

    text: str


def flatten(e: Expr, open_parens: bool = False) -> list[Expr]:
    """The items of ``e`` with nested rows spliced in (fractions kept whole); with
    ``open_parens``, a parenthesised sum of flat items too, between :class:`Fence` tokens."""
    if open_parens and isinstance(e, Paren) and isinstance(e.body, Row) and not tall(e.body):
        return [Fence("("), *flatten(e.body, True), Fence(")")]
    if not isinstance(e, Row):
        return [e]
    out: list[Expr] = []
    for it in e.items:
        out.extend(flatten(it, open_parens))
    return out


def tall(e: Expr) -> bool:
    """Whether ``e`` holds a fraction, sum or matrix (its parentheses should stretch)."""
    if isinstance(e, Frac | Sum | Mat):
        return True
    if isinstance(e, Row):
        return any(tall(i) for i in e.items)
    if isinstance(e, Paren | Func | Pow):
        parts = [e.body] if isinstance(e, Paren) else e.args if isinstance(e, Func) else [e.base]
        return any(tall(p) for p in parts)
    return False


def _chunks(items: list[Expr]) -> list[Row]:
    chunks: list[list[Expr]] = [[]]
    for k, it in enumerate(items):
        is_op = isinstance(it, Op)
        follows_op = k > 0 and isinstance(items[k - 1], Op)  # a sign, as in "= −x": no break
        if is_op and it.op in BREAK_BEFORE and chunks[-1] and not follows_op:
            chunks.append([])
        chunks[-1].append(it)
        if is_op and it.op in BREAK_AFTER and k + 1 < len(items):
            chunks.append([])
    return [Row(c) for c in chunks if c]


def layout(e: Expr) -> Layout:
    """Split ``e`` at its relations (``=``, ``←``, ``≈``), each segment at ``+``, ``−``, ``,``."""
    items = flatten(e)
    starts = [k for k, it in enumerate(items) if isinstance(it, Op) and it.op in RELATIONS]
    if not starts or starts[0] == 0:
        items = flatten(e, open_parens=True)
        return Layout(None, [_chunks(items)]) if items else Layout(None, [])
    lhs = Row(items[: starts[0]])
    items = lhs.items + [x for it in items[starts[0] :] for x in flatten(it, open_parens=True)]
    starts = [k for k, it in enumerate(items) if isinstance(it, Op) and it.op in RELATIONS]
    bounds = [*starts, len(items)]
    segments = [_chunks(items[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    return Layout(lhs, segments)
