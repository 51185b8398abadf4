"""The update phase of a worked solution: gradient descent substituted number by number, or an
optimizer's rule with its state (velocity, m, v, …) before and after the step.

Every result — new parameter, new state — is the array the optimizer's ``update`` wrote.
"""

from __future__ import annotations

from ..trace import StepTrace, Trace, optimizer_settings
from .document import Eq, Para, Table
from .formulas import layer_sym, partial, weight_sym
from .math import Expr, Frac, Func, Lit, Num, Paren, Pow, Sym, row


def _lit(v: float) -> Expr:
    """A setting as written: ``0.9``, ``0.001``; ``1×10⁻⁸`` rather than ``1e-08``."""
    s = f"{v:g}"
    if "e" not in s:
        return Lit(s)
    mantissa, exponent = s.split("e")
    return row(Lit(mantissa), "×", Pow(Lit("10"), Lit(str(int(exponent)))))


def _params(trace: Trace, st: StepTrace):
    """``(name, layer, symbol, index, θ, g, θ_after)`` for every weight and bias, layer by layer."""
    for ly in range(1, len(trace.activations) + 1):
        W, dW, Wn = st.W[ly - 1], st.dW[ly - 1], st.W_after[ly - 1]
        for i in range(W.shape[0]):
            for j in range(W.shape[1]):
                yield (
                    f"W{ly}",
                    ly,
                    weight_sym(i + 1, j + 1, ly),
                    (i, j),
                    W[i, j],
                    dW[i, j],
                    Wn[i, j],
                )
        b = st.b[ly - 1]
        if b is not None:
            db, bn = st.db[ly - 1], st.b_after[ly - 1]
            for i in range(b.shape[0]):
                yield f"b{ly}", ly, layer_sym("b", i + 1, ly), (i,), b[i], db[i], bn[i]


def update_section(doc, trace: Trace, st: StepTrace) -> None:
    opt = trace.optimizer
    hp = optimizer_settings(opt)
    eta = _lit(opt.learning_rate)
    theta = Sym("θ")
    if opt.name == "sgd" and not hp.get("momentum") and not hp.get("weight_decay"):
        rule = row(theta, "←", theta, "−", Sym("η"), "·", partial("E", theta))
        doc.add(
            Para(
                [
                    "Gradient descent, ",
                    rule,
                    " with ",
                    row(Sym("η"), "=", eta),
                    ", for every weight and bias θ:",
                ]
            )
        )
        for _, _, sym, _, p, g, p_new in _params(trace, st):
            doc.add(Eq(row(sym, "←", Num(p), "−", eta, "·", Num(g), "=", Num(p_new))))
        return
    settings = ", ".join(
        f"{k} = {v:g}" if not isinstance(v, bool) else f"{k} = {v}" for k, v in hp.items()
    )
    t0, t1 = st.state_before["step"], st.state_after["step"]
    doc.add(
        Para(
            [
                f"Optimizer {opt.name} ({settings}): {opt.formula}. "
                f"Its state before and after this step (step counter t: {t0} → {t1}):"
            ]
        )
    )
    slots = [k for k in st.state_before if k != "step"]
    _substituted(doc, trace, st, slots)
    header = ["parameter", "θ", "∂E/∂θ"]
    header += [f"{s} before" for s in slots] + [f"{s} after" for s in slots] + ["θ after"]
    rows = []
    for name, _, sym, ix, p, g, p_new in _params(trace, st):
        cells = [sym, Num(p), Num(g)]
        cells += [Num(st.state_before[s][name][ix]) for s in slots]
        cells += [Num(st.state_after[s][name][ix]) for s in slots]
        rows.append([*cells, Num(p_new)])
    doc.add(Table(header, rows))


def _substituted(doc, trace: Trace, st: StepTrace, slots: list[str]) -> None:
    """Momentum SGD and Adam (without weight decay), number by number."""
    opt, hp = trace.optimizer, optimizer_settings(trace.optimizer)
    if hp.get("weight_decay"):
        return
    eta = _lit(opt.learning_rate)
    if opt.name == "sgd" and slots == ["velocity"] and not hp.get("nesterov"):
        mu = _lit(hp["momentum"])
        for name, _, sym, ix, p, g, p_new in _params(trace, st):
            v0, v1 = st.state_before["velocity"][name][ix], st.state_after["velocity"][name][ix]
            v = Sym("v", sym.sub, sym.sup)
            doc.add(Eq(row(v, "←", mu, "·", Num(v0), "+", Num(g), "=", Num(v1))))
            doc.add(Eq(row(sym, "←", Num(p), "−", eta, "·", Num(v1), "=", Num(p_new))))
    elif opt.name == "adam" and slots == ["m", "v"]:
        b1, b2, eps = _lit(hp["beta1"]), _lit(hp["beta2"]), _lit(hp["eps"])
        t = Lit(str(st.state_after["step"]))
        one = Lit("1")
        for name, _, sym, ix, p, g, p_new in _params(trace, st):
            m0, m1 = st.state_before["m"][name][ix], st.state_after["m"][name][ix]
            v0, v1 = st.state_before["v"][name][ix], st.state_after["v"][name][ix]
            m, v = Sym("m", sym.sub, sym.sup), Sym("v", sym.sub, sym.sup)
            doc.add(
                Eq(
                    row(
                        m,
                        "←",
                        b1,
                        "·",
                        Num(m0),
                        "+",
                        Paren(row(one, "−", b1)),
                        "·",
                        Num(g),
                        "=",
                        Num(m1),
                    )
                )
            )
            doc.add(
                Eq(
                    row(
                        v,
                        "←",
                        b2,
                        "·",
                        Num(v0),
                        "+",
                        Paren(row(one, "−", b2)),
                        "·",
                        Pow(Num(g), Lit("2")),
                        "=",
                        Num(v1),
                    )
                )
            )
            step = Frac(eta, row(one, "−", Pow(b1, t)))
            denom = row(
                Frac(Func("√", [Num(v1)]), Func("√", [row(one, "−", Pow(b2, t))])), "+", eps
            )
            doc.add(
                Eq(row(sym, "←", Num(p), "−", step, "·", Frac(Num(m1), denom), "=", Num(p_new)))
            )
