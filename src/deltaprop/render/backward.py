"""The backward phases of a worked solution: output delta, hidden deltas, gradients.

Output delta by the general chain rule (``δᵢ = ∂J/∂oᵢ · f′(zᵢ)``, or through the softmax Jacobian)
and, where valid, the shortcut ``δ = o − t``; hidden deltas by the delta rule
``δᵢ⁽ˡ⁾ = f′(zᵢ⁽ˡ⁾)·Σₖ wₖᵢ⁽ˡ⁺¹⁾ δₖ⁽ˡ⁺¹⁾``; gradients ``∂E/∂wᵢⱼ = (1/n) Σₛ δᵢ aⱼ``. Every result is
read from the trace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..notation import Frac, Func, Lit, Mat, Num, Paren, Sum, Sym, join, row
from .document import Document, Eq, Heading, Para
from .formulas import layer_sym, partial, weight_sym

if TYPE_CHECKING:
    from ..activations import Activation
    from ..trace import StepTrace, Trace


def role(trace: Trace, layer: int) -> str:
    act = trace.activations[layer - 1]
    units = trace.sizes[layer]
    kind = "output layer" if layer == len(trace.activations) else "hidden layer"
    return f"Layer {layer} ({kind}, {units} neuron{'s' if units > 1 else ''}, {act.name})"


def sample_heading(doc: Document, st: StepTrace, s: int) -> None:
    if st.n > 1:
        doc.add(Heading(4, f"Sample {s + 1} of {st.n}"))


def output_delta_section(doc, trace: Trace, st: StepTrace) -> None:
    L = len(trace.activations)
    act = trace.activations[-1]
    k = trace.sizes[-1]
    oi, zi = Sym("o", "i"), Sym("z", "i", f"({L})")
    if act.elementwise:
        general = row(Sym("δ", "i", f"({L})"), "=", partial("J", oi), "·", Func("f′", [zi]))
        doc.add(
            Para(
                [
                    "General form (chain rule): ",
                    general,
                    f", with f′ = {act.derivative_formula} for {act.name}.",
                ]
            )
        )
    else:
        zj = Sym("z", "j", f"({L})")
        general = row(
            Sym("δ", "j", f"({L})"),
            "=",
            Sum("i", row(partial("J", oi), "·", Frac(Sym("∂o", "i"), Sym("∂z", "j", f"({L})")))),
        )
        doc.add(
            Para(
                [
                    "General form (chain rule through the softmax Jacobian): ",
                    general,
                    ", with ",
                    row(
                        Frac(Sym("∂o", "i"), Sym("∂" + zj.name, "j", zj.sup)),
                        "=",
                        oi,
                        "·",
                        Paren(row(Lit("[i = j]"), "−", Sym("o", "j"))),
                    ),
                    ".",
                ]
            )
        )
    for s in range(st.n):
        sample_heading(doc, st, s)
        o, t = st.output[s], st.t[s]
        for i in range(k):
            parts = []
            if trace.loss.notation is not None:
                gradient = trace.loss.notation.gradient
                parts = [
                    gradient(Sym("o", str(i + 1)), Sym("t", str(i + 1)), None),
                    gradient(Num(float(o[i])), Num(float(t[i])), k),
                ]
            doc.add(
                Eq(
                    row(
                        partial("J", Sym("o", str(i + 1))),
                        *[x for p in parts for x in ("=", p)],
                        "=",
                        Num(st.dJ_do[s, i]),
                    )
                )
            )
        if act.elementwise:
            for i in range(k):
                _fprime_eq(doc, act, L, i, st.z[-1][s, i], st.a[-1][s, i], st.fprime[-1][s, i])
            for i in range(k):
                d = layer_sym("δ", i + 1, L)
                doc.add(
                    Eq(
                        row(
                            d,
                            "=",
                            partial("J", Sym("o", str(i + 1))),
                            "·",
                            Func("f′", [layer_sym("z", i + 1, L)]),
                            "=",
                            Num(st.dJ_do[s, i]),
                            "·",
                            Num(st.fprime[-1][s, i]),
                            "=",
                            Num(st.delta_general[s, i]),
                        )
                    )
                )
        else:
            J = st.jacobian[-1][s]
            doc.add(
                Eq(
                    row(Frac(Sym("∂o"), Sym("∂z", "", f"({L})")), "=", Mat(J.tolist())),
                    "the softmax Jacobian, row i, column j",
                )
            )
            for j in range(k):
                terms = [row(Num(st.dJ_do[s, i]), "·", Num(J[i, j])) for i in range(k)]
                doc.add(
                    Eq(
                        row(
                            layer_sym("δ", j + 1, L),
                            "=",
                            join(terms, "+"),
                            "=",
                            Num(st.delta_general[s, j]),
                        )
                    )
                )
        if trace.loss.has_shortcut(act):
            # The delta the engine trains with: the shortcut o − t where it is valid, else (a
            # softmax with targets not summing to 1) its exact generalisation o·Σₖtₖ − t.
            total = float(np.sum(t))
            for i in range(k):
                oi, ti = Sym("o", str(i + 1)), Sym("t", str(i + 1))
                if st.shortcut:
                    rule, numbers, note = (oi,), (Num(o[i]),), "shortcut"
                else:
                    rule = (oi, "·", Paren(Sum("k", Sym("t", "k"))))
                    numbers, note = (Num(o[i]), "·", Num(total)), "the engine's δ"
                doc.add(
                    Eq(
                        row(
                            layer_sym("δ", i + 1, L),
                            "=",
                            *rule,
                            "−",
                            ti,
                            "=",
                            *numbers,
                            "−",
                            Num(t[i]),
                            "=",
                            Num(st.deltas[-1][s, i]),
                        ),
                        note,
                    )
                )
    diff = float(np.max(np.abs(st.delta_general - st.deltas[-1])))
    if st.shortcut:
        agree = [
            "The general form and the shortcut agree",
            " exactly" if diff == 0 else f" (up to rounding: {diff:.1e})",
            "; the engine trains with the shortcut.",
        ]
        reason = trace.loss.shortcut_reason or f"{act.name} output, {trace.loss.name} loss"
        doc.add(Para([f"Shortcut δ = o − t: valid for {reason}. ", *agree]))
    elif trace.loss.has_shortcut(act):
        doc.add(
            Para(
                [
                    f"The shortcut δ = o − t is not valid here: with a {act.name} output and the "
                    f"{trace.loss.name} loss it needs every target row to sum to 1, and the "
                    "targets do not sum to 1. The engine uses its exact generalisation "
                    "δⱼ = oⱼ Σᵢ tᵢ − tⱼ "
                    '(the lines marked "the engine\'s δ"; no division by o). ',
                    _general_form_agreement(diff, st),
                ]
            )
        )
    else:
        doc.add(
            Para(
                [
                    f"The shortcut δ = o − t is not valid for a {act.name} output with the "
                    f"{trace.loss.name} loss; the engine uses the general form."
                ]
            )
        )


def _general_form_agreement(diff: float, st) -> str:
    """How the general form compares with the engine's exact softmax + CE delta."""
    if diff == 0:
        return "The general form gives the same numbers exactly."
    scale = float(np.max(np.abs(st.deltas[-1]))) or 1.0
    if diff <= 1e-9 * scale:
        return f"The general form gives the same numbers up to rounding ({diff:.1e})."
    return (
        f"The general form differs from it by up to {diff:.1e}: its −t/o divides by outputs "
        "clipped to ε, so it is inexact where an output has underflowed below ε."
    )


def _fprime_eq(doc, act: Activation, layer: int, i: int, zv, av, value) -> None:
    sym, sub, note = act.notation.derivative_at(float(zv), float(av))
    lhs = Func("f′", [layer_sym("z", i + 1, layer)])
    if sym is None:  # no formula on this piece: the number, and which piece
        doc.add(Eq(row(lhs, "=", Num(value)), note))
        return
    if sub is None:  # a constant (identity's 1): nothing to substitute
        doc.add(Eq(row(lhs, "=", sym), note))
        return
    doc.add(Eq(row(lhs, "=", sym, "=", sub, "=", Num(value)), note))


def hidden_deltas_section(doc, trace: Trace, st: StepTrace) -> None:
    L = len(trace.activations)
    rule = row(
        Sym("δ", "i", "(l)"),
        "=",
        Func("f′", [Sym("z", "i", "(l)")]),
        "·",
        Sum("k", row(Sym("w", "ki", "(l+1)"), "·", Sym("δ", "k", "(l+1)"))),
    )
    doc.add(Para(["The delta rule, from the output back: ", rule, "."]))
    for s in range(st.n):
        sample_heading(doc, st, s)
        for ly in range(L - 1, 0, -1):
            act = trace.activations[ly - 1]
            doc.add(
                Para(
                    [
                        role(trace, ly)
                        + (f", f′ = {act.derivative_formula}:" if act.elementwise else ":")
                    ]
                )
            )
            Wn, dn, back = st.W[ly], st.deltas[ly][s], st.back[ly - 1][s]
            for i in range(trace.sizes[ly]):
                inner = join([row(Num(Wn[m, i]), "·", Num(dn[m])) for m in range(Wn.shape[0])], "+")
                d = layer_sym("δ", i + 1, ly)
                sym_inner = Sum(
                    "k", row(weight_sym("k", i + 1, ly + 1), "·", layer_sym("δ", "k", ly + 1))
                )
                if act.elementwise:
                    fp = st.fprime[ly - 1][s, i]
                    _fprime_eq(doc, act, ly, i, st.z[ly - 1][s, i], st.a[ly][s, i], fp)
                    doc.add(
                        Eq(
                            row(
                                d,
                                "=",
                                Func("f′", [layer_sym("z", i + 1, ly)]),
                                "·",
                                sym_inner,
                                "=",
                                Num(fp),
                                "·",
                                Paren(inner),
                                "=",
                                Num(fp),
                                "·",
                                Num(back[i]),
                                "=",
                                Num(st.deltas[ly - 1][s, i]),
                            )
                        )
                    )
                else:
                    doc.add(
                        Eq(
                            row(
                                Sym("∂J/∂a", str(i + 1), f"({ly})"),
                                "=",
                                sym_inner,
                                "=",
                                inner,
                                "=",
                                Num(back[i]),
                            )
                        )
                    )
            if not act.elementwise:
                J = st.jacobian[ly - 1][s]
                doc.add(Eq(row(Frac(Sym("∂a"), Sym("∂z", "", f"({ly})")), "=", Mat(J.tolist()))))
                for j in range(trace.sizes[ly]):
                    terms = [row(Num(back[i]), "·", Num(J[i, j])) for i in range(len(back))]
                    doc.add(
                        Eq(
                            row(
                                layer_sym("δ", j + 1, ly),
                                "=",
                                join(terms, "+"),
                                "=",
                                Num(st.deltas[ly - 1][s, j]),
                            )
                        )
                    )


def gradients_section(doc, trace: Trace, st: StepTrace) -> None:
    n, L = st.n, len(trace.activations)
    di, aj = Sym("δ", "i", "(l)"), Sym("a", "j", "(l−1)")
    if n == 1:
        rule = [
            row(partial("E", Sym("w", "ij", "(l)")), "=", di, "·", aj),
            " and ",
            row(partial("E", Sym("b", "i", "(l)")), "=", di),
        ]
    else:
        mean = [Frac(Lit("1"), Lit(str(n))), "·"]
        rule = [
            row(partial("E", Sym("w", "ij", "(l)")), "=", *mean, Sum("s", row(di, "·", aj))),
            " and ",
            row(partial("E", Sym("b", "i", "(l)")), "=", *mean, Sum("s", di)),
            f", the means over the {n} samples",
        ]
    doc.add(
        Para(
            [
                "Each gradient is a delta times the activation feeding the weight: ",
                *rule,
                ", with ",
                row(Sym("a", "j", "(0)"), "=", Sym("x", "j")),
                ".",
            ]
        )
    )
    for ly in range(L, 0, -1):
        doc.add(Para([role(trace, ly) + ":"]))
        d, a_prev = st.deltas[ly - 1], st.a[ly - 1]
        dW, db = st.dW[ly - 1], st.db[ly - 1]
        for i in range(dW.shape[0]):
            for j in range(dW.shape[1]):
                prods = [row(Num(d[s, i]), "·", Num(a_prev[s, j])) for s in range(n)]
                sym = row(layer_sym("δ", i + 1, ly), "·", layer_sym("a", j + 1, ly - 1))
                doc.add(
                    Eq(
                        row(
                            partial("E", weight_sym(i + 1, j + 1, ly)),
                            "=",
                            *_mean_of(sym, prods, n),
                            "=",
                            Num(dW[i, j]),
                        )
                    )
                )
        if db is not None:
            for i in range(db.shape[0]):
                vals = [Num(d[s, i]) for s in range(n)]
                sym = layer_sym("δ", i + 1, ly)
                items = [sym] if n == 1 else _mean_of(sym, vals, n)
                doc.add(
                    Eq(row(partial("E", layer_sym("b", i + 1, ly)), "=", *items, "=", Num(db[i])))
                )


def _mean_of(sym, terms: list, n: int) -> list:
    if n == 1:
        return [sym, "=", terms[0]]
    frac = Frac(Lit("1"), Lit(str(n)))
    return [frac, "·", Sum("s", sym), "=", frac, "·", Paren(join(terms, "+"))]
