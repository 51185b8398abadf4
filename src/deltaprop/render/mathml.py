"""Expressions (:mod:`deltaprop.notation`) as MathML Core, for the HTML worked solution.

Parentheses stretch only around fractions, sums and matrices; a minus sign stays inside its
number token (``<mn>−0.5</mn>``), so a negative number reads as one number.
"""

from __future__ import annotations

from html import escape

from ..notation import (
    Expr,
    Frac,
    Func,
    Lit,
    Mat,
    Num,
    Op,
    Paren,
    Pow,
    Row,
    Sum,
    Sym,
    Text,
    after_op,
    is_negative,
    number_parts,
    wraps,
)
from .eqlayout import Fence, tall


def _mn(s: str) -> str:
    return f"<mn>{s.replace('-', '−')}</mn>"  # the sign inside the token: −0.5, not − 0.5


def _mrow(*parts: str) -> str:
    return "<mrow>" + "".join(parts) + "</mrow>"


def _fence(body: str, stretchy: bool = False) -> str:
    if stretchy:
        return _mrow("<mo>(</mo>", body, "<mo>)</mo>")
    return _mrow('<mo stretchy="false">(</mo>', body, '<mo stretchy="false">)</mo>')


def _ident(s: str) -> str:
    s = escape(s)
    return f"<mi>{s}</mi>" if len(s) == 1 else f'<mi mathvariant="normal">{s}</mi>'


def to_mathml(e: Expr, d: int = 4) -> str:
    """MathML Core markup for the body of a ``<math>`` element."""
    return _mml(e, d, False)


def chunk_to_mathml(chunk: Row, d: int = 4) -> str:
    """One piece of a broken equation (:mod:`.eqlayout`): a leading operator keeps its infix
    spacing (``<mo form="infix">``), and what follows it is wrapped as it was in the whole row."""
    out = []
    for k, it in enumerate(chunk.items):
        if isinstance(it, Fence):
            out.append(f'<mo stretchy="false">{escape(it.text)}</mo>')
        elif k == 0 and isinstance(it, Op):
            out.append(f'<mo form="infix">{escape(it.op)}</mo>')
        else:
            out.append(_mml(it, d, k > 0 and after_op(chunk.items[k - 1])))
    return _mrow(*out)


def _mml(e: Expr, d: int, wrap: bool) -> str:
    if isinstance(e, Num):
        m, x = number_parts(e.value, d)
        if x is None:
            s = _mn(m)
        else:
            s = _mn(m) + "<mo>×</mo>" + f"<msup><mn>10</mn>{_mrow(_mn(str(x)))}</msup>"
        return _fence(s) if wrap and m.startswith("-") else _mrow(s)
    if isinstance(e, Lit):
        t = e.text.replace("−", "-")
        try:
            float(t)
            return _mrow(_mn(t))
        except ValueError:
            return _ident(e.text)
    if isinstance(e, Text):
        return f"<mtext>\u00a0{escape(e.text)}</mtext>"
    if isinstance(e, Sym):
        base = _ident(e.name)
        sub = _mrow(_sub_tokens(e.sub)) if e.sub else ""
        sup = _mrow(_sub_tokens(e.sup)) if e.sup else ""
        if sub and sup:
            return f"<msubsup>{base}{sub}{sup}</msubsup>"
        if sub:
            return f"<msub>{base}{sub}</msub>"
        if sup:
            return f"<msup>{base}{sup}</msup>"
        return base
    if isinstance(e, Op):
        return f"<mo>{escape(e.op)}</mo>"
    if isinstance(e, Row):
        return _mrow(
            *(
                _mml(it, d, wrap if k == 0 else after_op(e.items[k - 1]))
                for k, it in enumerate(e.items)
            )
        )
    if isinstance(e, Paren):
        return _fence(_mml(e.body, d, False), tall(e.body))
    if isinstance(e, Frac):
        return f"<mfrac>{_mrow(_mml(e.num, d, False))}{_mrow(_mml(e.den, d, False))}</mfrac>"
    if isinstance(e, Func):
        if e.name == "√":
            return f"<msqrt>{_mml(e.args[0], d, False)}</msqrt>"
        args = "<mo>,</mo>".join(_mml(a, d, False) for a in e.args)
        return _mrow(_ident(e.name), _fence(args, any(tall(a) for a in e.args)))
    if isinstance(e, Pow):
        b = _mml(e.base, d, False)
        if wraps(e.base) or is_negative(e.base, d) or isinstance(e.base, Frac):
            b = _fence(b, tall(e.base))
        return f"<msup>{_mrow(b)}{_mrow(_mml(e.exp, d, False))}</msup>"
    if isinstance(e, Sum):
        return _mrow(f"<munder><mo>∑</mo>{_ident(e.index)}</munder>", _mml(e.body, d, False))
    if isinstance(e, Mat):
        if e.vector:
            return _fence("<mo>,</mo>".join(_mml(Num(v), d, False) for v in e.rows[0]))
        cells = "".join(
            "<mtr>" + "".join(f"<mtd>{_mml(Num(v), d, False)}</mtd>" for v in r) + "</mtr>"
            for r in e.rows
        )
        return _fence(f"<mtable>{cells}</mtable>", True)
    raise TypeError(f"not an expression: {e!r}")


def _sub_tokens(s: str) -> str:
    """Index strings such as ``12``, ``(l+1)`` or ``1,10`` as MathML tokens."""
    out = []
    for c in s:
        if c.isdigit():
            if out and out[-1].startswith("<mn>"):
                out[-1] = out[-1][:-5] + c + "</mn>"
            else:
                out.append(f"<mn>{c}</mn>")
        elif c.isalpha():
            out.append(f"<mi>{escape(c)}</mi>")
        else:
            out.append(f'<mo stretchy="false">{escape(c)}</mo>')
    return "".join(out)
