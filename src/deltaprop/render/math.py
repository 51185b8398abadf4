"""A small expression tree for equations, written three ways: Unicode text, LaTeX, MathML.

The worked solution is built once as expressions (``Sym("z", "1", "(1)")``, ``Num(0.3)``, ``Row``
…); each renderer formats the numbers with its ``decimals``. A negative number that follows an
operator, or is raised to a power, is put in parentheses: ``0.3·(−0.2277)``, ``(−0.2277)²``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape


class Expr:
    """Base of every expression node."""


@dataclass
class Sym(Expr):
    """A symbol with optional subscript and superscript: ``Sym("w", "12", "(2)")`` is w₁₂⁽²⁾."""

    name: str
    sub: str = ""
    sup: str = ""


@dataclass
class Num(Expr):
    """A computed number, printed with the renderer's number of decimals."""

    value: float


@dataclass
class Lit(Expr):
    """A literal printed as written: ``Lit("1")``, ``Lit("0.9")`` (settings, constants)."""

    text: str


@dataclass
class Op(Expr):
    """An operator or relation: ``+ − · = ← ⊙ ,``."""

    op: str


@dataclass
class Row(Expr):
    items: list[Expr]


@dataclass
class Paren(Expr):
    body: Expr


@dataclass
class Frac(Expr):
    num: Expr
    den: Expr


@dataclass
class Func(Expr):
    """A function applied to arguments: ``σ(z)``, ``max(z, 0)``, ``log(o)``."""

    name: str
    args: list[Expr]


@dataclass
class Pow(Expr):
    base: Expr
    exp: Expr


@dataclass
class Sum(Expr):
    """``Σ_index body``."""

    index: str
    body: Expr


@dataclass
class Text(Expr):
    """Words inside an equation (``if``, ``for every sample``)."""

    text: str


@dataclass
class Mat(Expr):
    """A matrix (list of rows) of numbers; a single row with ``vector=True`` is a vector."""

    rows: list[list[float]]
    vector: bool = False


HALF = Frac(Lit("1"), Lit("2"))


def row(*items: Expr | str) -> Row:
    """A row; plain strings become operators (``"+"``, ``"="``, …)."""
    return Row([Op(i) if isinstance(i, str) else i for i in items])


def join(items: list[Expr], op: str) -> Row:
    """``items`` separated by ``op``: ``join([a, b, c], "+")`` is ``a + b + c``."""
    out: list[Expr] = []
    for k, it in enumerate(items):
        if k:
            out.append(Op(op))
        out.append(it)
    return Row(out)


# --- numbers ---------------------------------------------------------------------------------


TINY = 1e-12  # below this a value is floating-point noise (0.5 − 0.6 + 0.1), shown as zero


def number_parts(v: float, decimals: int) -> tuple[str, int | None]:
    """``(mantissa, exponent)``: fixed-point, or scientific for a value that would round to zero
    at ``decimals`` places (so small gradients never print as 0.0000) but is above ``TINY``."""
    if not math.isfinite(v):
        return ("∞" if v > 0 else "−∞") if math.isinf(v) else "NaN", None
    if TINY <= abs(v) < 0.5 * 10.0**-decimals:
        m, e = f"{v:.{max(decimals - 1, 1)}e}".split("e")
        return m, int(e)
    s = f"{v:.{decimals}f}"
    if float(s) == 0:
        s = s.lstrip("-")
    return s, None


_SUB = str.maketrans("0123456789+-−=()aehijklmnoprstuvx,", "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ,")
_SUP = str.maketrans("0123456789+-−=()lLnTti", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ˡᴸⁿᵀᵗⁱ")
_SUB_OK = set("0123456789+-−=()aehijklmnoprstuvx,")
_SUP_OK = set("0123456789+-−=()lLnTti")


def _is_negative(e: Expr, decimals: int) -> bool:
    return isinstance(e, Num) and number_parts(e.value, decimals)[0].startswith("-")


def _wraps(e: Expr) -> bool:
    return isinstance(e, Row | Frac | Sum) and not isinstance(e, Paren)


# --- Unicode text ----------------------------------------------------------------------------


def to_text(e: Expr, d: int = 4) -> str:
    """Unicode text: ``z₁⁽¹⁾ = 0.4000·0.5000 + 0.1000 = 0.3000``."""
    return _text(e, d, False)


def _text(e: Expr, d: int, wrap: bool) -> str:
    # wrap: this node follows an operator, so a negative number at its start needs parentheses
    if isinstance(e, Num):
        m, x = number_parts(e.value, d)
        s = m.replace("-", "−")
        s = s if x is None else f"{s}×10{str(x).translate(_SUP)}"
        return f"({s})" if wrap and m.startswith("-") else s
    if isinstance(e, Lit):
        return e.text.replace("-", "−")
    if isinstance(e, Text):
        return f" {e.text}"
    if isinstance(e, Sym):
        sub = e.sub.translate(_SUB) if set(e.sub) <= _SUB_OK else (f"_{e.sub}" if e.sub else "")
        sup = e.sup.translate(_SUP) if set(e.sup) <= _SUP_OK else (f"^{e.sup}" if e.sup else "")
        return e.name + sub + sup
    if isinstance(e, Op):
        return {"·": "·", ",": ", ", "×": "×"}.get(e.op, f" {e.op} ")
    if isinstance(e, Row):
        out = []
        for k, it in enumerate(e.items):
            w = wrap if k == 0 else _after_op(e.items[k - 1])
            s = _text(it, d, w)
            nxt = e.items[k + 1] if k + 1 < len(e.items) else None
            if isinstance(it, Frac) and s != "½" and not _is_partial(it):
                if nxt is not None and (not isinstance(nxt, Op) or nxt.op == "·"):
                    s = f"({s})"  # (1/4)·Σ …, not 1/4·Σ …
            out.append(s.strip() if k == 0 and isinstance(it, Op) else s)  # a leading sign
        return "".join(out)
    if isinstance(e, Paren):
        return f"({_text(e.body, d, False)})"
    if isinstance(e, Frac):
        if e == HALF:
            return "½"
        n, m = _text(e.num, d, False), _text(e.den, d, False)
        n = f"({n})" if _wraps(e.num) or _is_negative(e.num, d) else n
        m = f"({m})" if _wraps(e.den) or _is_negative(e.den, d) else m
        return f"{n}/{m}"
    if isinstance(e, Func):
        return f"{e.name}({', '.join(_text(a, d, False) for a in e.args)})"
    if isinstance(e, Pow):
        b = _text(e.base, d, False)
        if _wraps(e.base) or _is_negative(e.base, d) or isinstance(e.base, Frac):
            b = f"({b})"
        x = _text(e.exp, d, False)
        if set(x) <= _SUP_OK:
            return b + x.translate(_SUP)
        return f"{b}^{x}" if isinstance(e.exp, Num | Lit | Sym) else f"{b}^({x})"
    if isinstance(e, Sum):
        return f"Σ{e.index.translate(_SUB)} {_text(e.body, d, False)}"
    if isinstance(e, Mat):
        if e.vector:
            return "(" + ", ".join(_text(Num(v), d, False) for v in e.rows[0]) + ")"
        rows = ["[" + ", ".join(_text(Num(v), d, False) for v in r) + "]" for r in e.rows]
        return "[" + ", ".join(rows) + "]"
    raise TypeError(f"not an expression: {e!r}")


def _is_partial(e: Frac) -> bool:
    return isinstance(e.num, Sym) and e.num.name.startswith("∂")


def _after_op(prev: Expr) -> bool:
    return isinstance(prev, Op) and prev.op not in ("=", "←", ",", "≈")


# --- LaTeX -----------------------------------------------------------------------------------

_TEX_NAMES = {"σ": r"\sigma", "δ": r"\delta", "η": r"\eta", "μ": r"\mu", "θ": r"\theta"}
_TEX_NAMES.update({"β₁": r"\beta_1", "β₂": r"\beta_2", "ε": r"\varepsilon", "ρ": r"\rho"})
_TEX_NAMES.update({"α": r"\alpha", "λ": r"\lambda", "∂": "\\partial ", "Σ": r"\sum"})
_TEX_OPS = {"·": r" \cdot ", "−": " - ", "←": r" \leftarrow ", "⊙": r" \odot ", ",": ",\\ "}
_TEX_OPS.update({"≤": r" \le ", ">": " > ", "×": r" \times ", "≈": r" \approx "})


def _tex_name(name: str) -> str:
    if name in _TEX_NAMES:
        return _TEX_NAMES[name]
    if len(name) > 1 and name.isalpha() and name.isascii():
        return rf"\mathrm{{{name}}}"
    return "".join(_TEX_NAMES.get(c, c) for c in name).replace("′", "'")


def to_latex(e: Expr, d: int = 4) -> str:
    """LaTeX math (without the ``$`` delimiters)."""
    return _tex(e, d, False)


def _tex(e: Expr, d: int, wrap: bool) -> str:
    if isinstance(e, Num):
        m, x = number_parts(e.value, d)
        s = m if x is None else rf"{m} \times 10^{{{x}}}"
        return f"({s})" if wrap and m.startswith("-") else s
    if isinstance(e, Lit):
        return e.text.replace("−", "-")
    if isinstance(e, Text):
        return rf"\text{{ {e.text} }}"
    if isinstance(e, Sym):
        s = _tex_name(e.name)
        if e.sub:
            s += "_{" + e.sub + "}"
        if e.sup:
            s += "^{" + e.sup.replace("−", "-") + "}"
        return s
    if isinstance(e, Op):
        return _TEX_OPS.get(e.op, f" {e.op} ")
    if isinstance(e, Row):
        return "".join(
            _tex(it, d, wrap if k == 0 else _after_op(e.items[k - 1]))
            for k, it in enumerate(e.items)
        )
    if isinstance(e, Paren):
        return rf"\left({_tex(e.body, d, False)}\right)"
    if isinstance(e, Frac):
        return rf"\frac{{{_tex(e.num, d, False)}}}{{{_tex(e.den, d, False)}}}"
    if isinstance(e, Func):
        if e.name == "√":
            return rf"\sqrt{{{_tex(e.args[0], d, False)}}}"
        name = "\\" + e.name if e.name in ("log", "max", "tanh") else _tex_name(e.name)
        return rf"{name}\left({', '.join(_tex(a, d, False) for a in e.args)}\right)"
    if isinstance(e, Pow):
        b = _tex(e.base, d, False)
        if _wraps(e.base) or _is_negative(e.base, d) or isinstance(e.base, Frac):
            b = rf"\left({b}\right)"
        return f"{{{b}}}^{{{_tex(e.exp, d, False)}}}"
    if isinstance(e, Sum):
        return rf"\sum_{{{e.index}}} {_tex(e.body, d, False)}"
    if isinstance(e, Mat):
        if e.vector:
            return r"\left(" + r",\ ".join(_tex(Num(v), d, False) for v in e.rows[0]) + r"\right)"
        body = r" \\ ".join(" & ".join(_tex(Num(v), d, False) for v in r) for r in e.rows)
        return rf"\begin{{pmatrix}} {body} \end{{pmatrix}}"
    raise TypeError(f"not an expression: {e!r}")


# --- MathML ----------------------------------------------------------------------------------


def _mn(s: str) -> str:
    return f"<mn>{s.replace('-', '−')}</mn>"  # the sign inside the token: −0.5, not − 0.5


def _mrow(*parts: str) -> str:
    return "<mrow>" + "".join(parts) + "</mrow>"


def _fence(body: str, stretchy: bool = False) -> str:
    if stretchy:
        return _mrow("<mo>(</mo>", body, "<mo>)</mo>")
    return _mrow('<mo stretchy="false">(</mo>', body, '<mo stretchy="false">)</mo>')


def _tall(e: Expr) -> bool:
    """Whether ``e`` holds a fraction, sum or matrix (its parentheses should stretch)."""
    if isinstance(e, Frac | Sum | Mat):
        return True
    if isinstance(e, Row):
        return any(_tall(i) for i in e.items)
    if isinstance(e, Paren | Func | Pow):
        parts = [e.body] if isinstance(e, Paren) else e.args if isinstance(e, Func) else [e.base]
        return any(_tall(p) for p in parts)
    return False


def _ident(s: str) -> str:
    s = escape(s)
    return f"<mi>{s}</mi>" if len(s) == 1 else f'<mi mathvariant="normal">{s}</mi>'


def to_mathml(e: Expr, d: int = 4) -> str:
    """MathML Core markup for the body of a ``<math>`` element."""
    return _mml(e, d, False)


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
                _mml(it, d, wrap if k == 0 else _after_op(e.items[k - 1]))
                for k, it in enumerate(e.items)
            )
        )
    if isinstance(e, Paren):
        return _fence(_mml(e.body, d, False), _tall(e.body))
    if isinstance(e, Frac):
        return f"<mfrac>{_mrow(_mml(e.num, d, False))}{_mrow(_mml(e.den, d, False))}</mfrac>"
    if isinstance(e, Func):
        if e.name == "√":
            return f"<msqrt>{_mml(e.args[0], d, False)}</msqrt>"
        args = "<mo>,</mo>".join(_mml(a, d, False) for a in e.args)
        return _mrow(_ident(e.name), _fence(args, any(_tall(a) for a in e.args)))
    if isinstance(e, Pow):
        b = _mml(e.base, d, False)
        if _wraps(e.base) or _is_negative(e.base, d) or isinstance(e.base, Frac):
            b = _fence(b, _tall(e.base))
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
