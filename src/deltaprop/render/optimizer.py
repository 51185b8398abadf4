"""The update phase of a worked solution: the optimizer's rule, once in symbols and then number by
number for every weight and bias, followed by its state (velocity, m, v, …) before and after.

The equations are the optimizer's own (its ``display_rule``, written beside its ``rule`` in
``deltaprop/optimizers/``); this module only fills them in. Every number comes from the trace: the
parameters, gradients and state before the step, the parameters and state the optimizer's
``update`` wrote, and what its reference rule noted on the way (``StepTrace.optimizer_record``:
``g + λθ``, AdamW's ``θ(1 − ηλ)``, Adagrad's ``η_t``, Adadelta's ``Δ``, Adam's ``m̂`` and ``v̂``,
every ``Δθ``). Nothing is computed here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..notation import Expr, Lit, Num, Sym, row
from ..optimizers.display import Terms
from .document import Eq, Para, Table
from .formulas import layer_sym, partial, weight_sym

if TYPE_CHECKING:
    from ..trace import StepTrace, Trace


def _params(trace: Trace, st: StepTrace):
    """``(name, layer, symbol, index, θ, g, θ_after)`` for every weight and bias, layer by layer;
    ``g`` is the gradient the optimizer received (with a training run's L2 term, if any)."""
    received = st.g or {}
    for ly in range(1, len(trace.activations) + 1):
        W, Wn = st.W[ly - 1], st.W_after[ly - 1]
        dW = received.get(f"W{ly}", st.dW[ly - 1])
        for i in range(W.shape[0]):
            for j in range(W.shape[1]):
                sym = weight_sym(i + 1, j + 1, ly)
                yield f"W{ly}", ly, sym, (i, j), W[i, j], dW[i, j], Wn[i, j]
        b = st.b[ly - 1]
        if b is not None:
            db, bn = received.get(f"b{ly}", st.db[ly - 1]), st.b_after[ly - 1]
            for i in range(b.shape[0]):
                yield f"b{ly}", ly, layer_sym("b", i + 1, ly), (i,), b[i], db[i], bn[i]


def _noted(st: StepTrace) -> tuple[dict[str, float], dict[str, dict]]:
    """The rule's noted numbers (``η_t``) and arrays (``{"m̂": {"W1": …}}``)."""
    record = st.optimizer_record
    numbers = {k: v for k, v in record.items() if not isinstance(v, dict)}
    return numbers, {k: v for k, v in record.items() if isinstance(v, dict)}


def _penalty(doc, trace: Trace, st: StepTrace) -> None:
    """A training run's L2 term: every weight's gradient is ``g = ∂E/∂w + λ·w`` (biases keep
    theirs). The numbers are the trace's: the data gradient, the weight, and what was received."""
    lam = Lit(f"{st.l2:g}")
    lead = ["The run's L2 penalty (λ/2)·Σ w² (", Num(st.penalty), " before this step) adds λ·w "]
    doc.add(Para([*lead, "to every weight's gradient, with ", row(Sym("λ"), "=", lam), ":"]))
    for ly in range(1, len(trace.activations) + 1):
        W, dW, g = st.W[ly - 1], st.dW[ly - 1], st.g[f"W{ly}"]
        for (i, j), w in np.ndenumerate(W):
            sym = weight_sym(i + 1, j + 1, ly)
            line = row(Sym("g", sym.sub, sym.sup), "=", partial("E", sym), "+", lam, "·", sym,
                       "=", Num(dW[i, j]), "+", lam, "·", Num(w), "=", Num(g[i, j]))  # fmt: skip
            doc.add(Eq(line))


def update_section(doc, trace: Trace, st: StepTrace) -> None:
    opt = trace.optimizer
    eqs = lambda exprs: [Eq(e) for e in exprs]  # noqa: E731
    if st.l2 and st.g is not None:
        _penalty(doc, trace, st)
    brief = opt.brief()
    if brief is not None:
        doc.add(Para(brief))
        for q in _parameter_terms(trace, st):
            doc.add(*eqs(opt.display(q)))
        return
    hp = {k: v for k, v in opt.hyperparameters().items() if isinstance(v, bool | int | float)}
    settings = ", ".join(
        f"{k} = {v:g}" if not isinstance(v, bool) else f"{k} = {v}" for k, v in hp.items()
    )
    doc.add(Para([f"Optimizer {opt.name} ({settings}): {opt.formula}."]))
    t = st.state_after["step"]
    general = Terms(opt, t)
    lines = [*opt.display_step(general), *opt.display(general)]
    legend: list[str | Expr] = []
    for symbol, name in general.legend():
        legend += [", " if legend else "", Sym(symbol), f" = {name}"]
    g = row(Sym("g"), "=", partial("E", Sym("θ")))
    doc.add(Para(["The rule, for every weight and bias θ with gradient ", g, " (", *legend, "):"]))
    doc.add(*eqs(lines))
    doc.add(Para(["Substituted, parameter by parameter:"]))
    numbers, _ = _noted(st)
    doc.add(*eqs(opt.display_step(Terms(opt, t, before={}, after=numbers))))
    for q in _parameter_terms(trace, st):
        doc.add(*eqs(opt.display(q)))
    _state_table(doc, trace, st)
    _noted_table(doc, trace, st)


def _parameter_terms(trace: Trace, st: StepTrace):
    """The terms of every weight and bias: its numbers before, and the values the step gave."""
    opt, t = trace.optimizer, st.state_after["step"]
    slots = [k for k in st.state_before if k != "step"]
    numbers, arrays = _noted(st)
    for name, _, sym, ix, p, g, p_new in _params(trace, st):
        before = {"θ": p, "g": g, **{s: st.state_before[s][name][ix] for s in slots}}
        after = {**numbers, **{k: v[name][ix] for k, v in arrays.items()}}
        after.update({s: st.state_after[s][name][ix] for s in slots}, θ=p_new)
        yield Terms(opt, t, sym, before, after)


def _state_table(doc, trace: Trace, st: StepTrace) -> None:
    t0, t1 = st.state_before["step"], st.state_after["step"]
    doc.add(Para([f"Its state before and after this step (step counter t: {t0} → {t1}):"]))
    slots = [k for k in st.state_before if k != "step"]
    header = ["parameter", "θ", "∂E/∂θ"]
    header += [f"{s} before" for s in slots] + [f"{s} after" for s in slots] + ["θ after"]
    rows = []
    for name, _, sym, ix, p, g, p_new in _params(trace, st):
        cells: list = [sym, Num(p), Num(g)]
        cells += [Num(st.state_before[s][name][ix]) for s in slots]
        cells += [Num(st.state_after[s][name][ix]) for s in slots]
        rows.append([*cells, Num(p_new)])
    doc.add(Table(header, rows))


def _noted_table(doc, trace: Trace, st: StepTrace) -> None:
    """The arrays the rule computed on the way and did not keep (m̂, v̂, Δθ …), per parameter."""
    _, arrays = _noted(st)
    if not arrays:
        return
    doc.add(Para(["What the rule computed on the way, not kept in its state:"]))
    rows = []
    for name, _, sym, ix, *_ in _params(trace, st):
        rows.append([sym, *(Num(v[name][ix]) for v in arrays.values())])
    doc.add(Table(["parameter", *arrays], rows))
