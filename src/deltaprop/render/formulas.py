"""The tutorials' formulas for each activation and loss, as expressions with numbers substituted.

Each helper returns ``(symbolic, substituted)`` expressions; the *result* of every equation is
always a number the engine computed (taken from the trace), never recomputed here.
"""

from __future__ import annotations

from ..notation import HALF, Expr, Frac, Func, Lit, Num, Op, Paren, Pow, Row, Sum, Sym, join, row

E = Sym("e")
ONE, TWO = Lit("1"), Lit("2")


def idx(*ks: int | str) -> str:
    """Subscript of 1-based indices: ``12``, or ``1,10`` once an index has two digits."""
    sep = "," if any(len(str(k)) > 1 for k in ks) else ""
    return sep.join(str(k) for k in ks)


def layer_sym(name: str, i: int | str | None, layer: int | str) -> Sym:
    """``name_i^(layer)``; the activations of layer 0 are the inputs ``x_i``."""
    if name == "a" and layer == 0:
        return Sym("x", idx(i) if i is not None else "")
    return Sym(name, idx(i) if i is not None else "", f"({layer})")


def weight_sym(i: int | str, j: int | str, layer: int | str) -> Sym:
    return Sym("w", idx(i, j), f"({layer})")


def partial(of: str, wrt: Sym) -> Frac:
    """``∂of/∂wrt``."""
    return Frac(Sym("∂" + of), Sym("∂" + wrt.name, wrt.sub, wrt.sup))


# --- activations -------------------------------------------------------------------------------


def activation_value(name: str, z: Sym, zv: float, zs: list[float], i: int) -> tuple[Expr, Expr]:
    """``f(z)`` and ``f(number)``; softmax needs the whole row ``zs`` and the neuron ``i``."""
    n = Num(zv)
    if name == "sigmoid":
        return Func("σ", [z]), Func("σ", [n])
    if name == "tanh":
        return Func("tanh", [z]), Func("tanh", [n])
    if name == "relu":
        return Func("max", [z, Lit("0")]), Func("max", [n, Lit("0")])
    if name == "leaky_relu":
        return Func("max", [z, row(Lit("0.01"), "·", z)]), Func(
            "max", [n, row(Lit("0.01"), "·", n)]
        )
    if name == "elu":
        if zv > 0:
            return z, n
        return row(Pow(E, z), "−", ONE), row(Pow(E, n), "−", ONE)
    if name == "softplus":
        return Func("log", [row(ONE, "+", Pow(E, z))]), Func("log", [row(ONE, "+", Pow(E, n))])
    if name == "identity":
        return z, n
    if name == "softmax":
        sym = Frac(Pow(E, z), Sum("j", Pow(E, Sym("z", "j", z.sup))))
        return sym, Frac(Pow(E, n), join([Pow(E, Num(v)) for v in zs], "+"))
    return Func(name, [z]), Func(name, [n])


def derivative(name: str, zv: float, av: float) -> tuple[Expr | None, Expr | None]:
    """``f'(z)`` as the tutorials write it (from ``a = f(z)``), and with ``a`` substituted."""
    a = Num(av)
    if name == "sigmoid":
        return row(Sym("a"), "·", Paren(row(ONE, "−", Sym("a")))), row(
            a, "·", Paren(row(ONE, "−", a))
        )
    if name == "tanh":
        return row(ONE, "−", Pow(Sym("a"), TWO)), row(ONE, "−", Pow(a, TWO))
    if name == "identity":
        return ONE, None
    if name in ("relu", "leaky_relu", "elu") and zv > 0:
        return None, None  # 1, see derivative_note
    if name in ("relu", "leaky_relu"):
        return None, None
    if name == "elu":
        return row(Sym("a"), "+", ONE), row(a, "+", ONE)
    if name == "softplus":
        return row(ONE, "−", Pow(E, Row([Op("−"), Sym("a")]))), row(
            ONE, "−", Pow(E, Row([Op("−"), a]))
        )
    return None, None


def derivative_note(name: str, zv: float) -> str:
    """Which branch of a piecewise derivative applies."""
    if name in ("relu", "leaky_relu", "elu"):
        return "as z > 0" if zv > 0 else "as z ≤ 0"
    return ""


# --- losses ------------------------------------------------------------------------------------


def _o(k: str | int) -> Sym:
    return Sym("o", str(k))


def _t(k: str | int) -> Sym:
    return Sym("t", str(k))


def loss_value(name: str, o: list[float], t: list[float]) -> tuple[Expr | None, Expr | None]:
    """``J(o, t)`` for one sample, symbolic and with the numbers of ``o`` and ``t``."""
    k = len(o)
    pairs = list(zip(o, t, strict=True))
    if name in ("squared_error", "mse"):
        half = name == "squared_error"
        sym = row(
            HALF if half else Frac(ONE, Sym("k")),
            Sum("k", Pow(Paren(row(_o("k"), "−", _t("k"))), TWO)),
        )
        terms = [Pow(Paren(row(Num(ov), "−", Num(tv))), TWO) for ov, tv in pairs]
        body = terms[0] if k == 1 else Paren(join(terms, "+"))
        if not half and k == 1:
            return sym, body
        return sym, row(HALF if half else Frac(ONE, Lit(str(k))), body)
    if name == "log_loss":

        def term(o_, t_, c: Expr) -> Row:
            left = row(t_, "·", Func("log", [o_]))
            right = row(Paren(row(c, "−", t_)), "·", Func("log", [row(c, "−", o_)]))
            return row(left, "+", right)

        sym = Row([Op("−"), Sum("k", Paren(term(_o("k"), _t("k"), ONE)))])
        subst = join([term(Num(ov), Num(tv), ONE) for ov, tv in pairs], "+")
        return sym, Row([Op("−"), Paren(subst)])
    if name == "cross_entropy":
        sym = Row([Op("−"), Sum("k", row(_t("k"), "·", Func("log", [_o("k")])))])
        subst = join([row(Num(tv), "·", Func("log", [Num(ov)])) for ov, tv in pairs], "+")
        return sym, Row([Op("−"), Paren(subst)])
    return None, None


def loss_gradient(name: str, k: int, i: int, ov: float, tv: float) -> tuple[Expr, Expr | None]:
    """``∂J/∂o_i`` (per sample), symbolic and substituted."""
    o, t, on, tn = _o(i), _t(i), Num(ov), Num(tv)
    if name == "squared_error":
        return row(o, "−", t), row(on, "−", tn)
    if name == "mse":
        sub = row(TWO, "·", Paren(row(on, "−", tn)))
        return Frac(row(TWO, "·", Paren(row(o, "−", t))), Sym("k")), (
            sub if k == 1 else Frac(sub, Lit(str(k)))
        )
    if name == "log_loss":
        return Frac(row(o, "−", t), row(o, "·", Paren(row(ONE, "−", o)))), Frac(
            row(on, "−", tn), row(on, "·", Paren(row(ONE, "−", on)))
        )
    if name == "cross_entropy":
        return Row([Op("−"), Frac(t, o)]), Row([Op("−"), Frac(tn, on)])
    return partial("J", o), None


SHORTCUT_REASON = {
    "identity": "an identity output with the squared error: f′ = 1, so δ = ∂J/∂o = o − t",
    "sigmoid": "a sigmoid output with the log loss: f′ = o(1 − o) cancels the denominator of ∂J/∂o",
    "softmax": (
        "a softmax output with the cross-entropy: Σᵢ (−tᵢ/oᵢ)·oᵢ([i = j] − oⱼ) = oⱼ Σᵢ tᵢ − tⱼ, "
        "which is oⱼ − tⱼ when the targets sum to 1"
    ),
}
