"""A small expression tree for equations, written as Unicode text and LaTeX (MathML: ``mathml.py``).

The worked solution is built once as expressions (``Sym("z", "1", "(1)")``, ``Num(0.3)``, ``Row``
…); each renderer formats the numbers with its ``decimals``. A negative number that follows an
operator, or is raised to a power, is put in parentheses: ``0.3·(−0.2277)``, ``(−0.2277)²``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


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


def is_negative(e: Expr, decimals: int) -> bool:
    return isinstance(e, Num) and number_parts(e.value, decimals)[0].startswith("-")


def wraps(e: Expr) -> bool:
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
            w = wrap if k == 0 else after_op(e.items[k - 1])
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
        n = f"({n})" if wraps(e.num) or is_negative(e.num, d) else n
        m = f"({m})" if wraps(e.den) or is_negative(e.den, d) else m
        return f"{n}/{m}"
    if isinstance(e, Func):
        return f"{e.name}({', '.join(_text(a, d, False) for a in e.args)})"
    if isinstance(e, Pow):
        b = _text(e.base, d, False)
        if wraps(e.base) or is_negative(e.base, d) or isinstance(e.base, Frac):
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


def after_op(prev: Expr) -> bool:
    return isinstance(prev, Op) and prev.op not in ("=", "←", ",", "≈")


# --- LaTeX -----------------------------------------------------------------------------------

_TEX_NAMES = {"σ": r"\sigma", "δ": r"\delta", "η": r"\eta", "μ": r"\mu", "θ": r"\theta"}
_TEX_NAMES.update({"β₁": r"\beta_1", "β₂": r"\beta_2", "ε": r"\varepsilon", "ρ": r"\rho"})
_TEX_NAMES.update({"α": r"\alpha", "λ": r"\lambda", "∂": "\\partial ", "Σ": r"\sum", "π": r"\pi"})
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
            _tex(it, d, wrap if k == 0 else after_op(e.items[k - 1]))
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
        if wraps(e.base) or is_negative(e.base, d) or isinstance(e.base, Frac):
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
