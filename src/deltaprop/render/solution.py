"""A trace as the blocks of a worked solution, in the tutorials' order and notation.

Forward pass (``z = W a + b``, ``a = f(z)``), loss, output delta (general chain rule and, where
valid, the shortcut ``o − t``), hidden deltas by the delta rule, gradients, update, and the forward
pass again. Every number is read from the :class:`~deltaprop.trace.Trace`; nothing is recomputed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..notation import Frac, Func, Lit, Mat, Num, Paren, Sum, Sym, join, row
from .backward import (
    gradients_section,
    hidden_deltas_section,
    output_delta_section,
    role,
    sample_heading,
)
from .document import Document, Eq, Figure, Heading, Para, Table
from .formulas import layer_sym, partial, weight_sym
from .optimizer import update_section
from .steps import steps_section

if TYPE_CHECKING:
    from ..trace import StepTrace, Trace

ORDINAL = {1: "one training step", 2: "two training steps", 3: "three training steps"}


def build(trace: Trace, summary: bool = False) -> Document:
    """The whole worked solution of ``trace`` as a :class:`Document`; with ``summary``, only the
    set-up, the first step in full, and the per-step table and charts of every step."""
    n_steps = len(trace.steps)
    sizes = "-".join(str(s) for s in trace.sizes)
    what = ORDINAL.get(n_steps, f"{n_steps} training steps")
    short = summary and n_steps > 1
    doc = Document(f"Worked solution: {what} of a {sizes} network" + (" (summary)" * short))
    doc.add(Heading(1, doc.title))
    _preamble(doc, trace)
    for k, st in enumerate(trace.steps[:1] if short else trace.steps):
        doc.add(Heading(2, f"Step {st.step}" + (f" of {n_steps}" if n_steps > 1 else "")))
        _step(doc, trace, k, st)
    if short:
        doc.add(Para([f"Steps 2 to {n_steps} run the same way; the table and charts below show "
                      "every step's numbers (the worked solution without the summary option "
                      "shows each in full)."]))  # fmt: skip
    if n_steps > 1:
        steps_section(doc, trace, summary)
    return doc


def vec(values) -> Mat:
    return Mat([list(map(float, values))], vector=True)


def samples(arr: np.ndarray) -> Mat:
    """One sample as a vector, several as rows."""
    return vec(arr[0]) if arr.shape[0] == 1 else Mat([list(map(float, r)) for r in arr])


def _preamble(doc: Document, trace: Trace) -> None:
    st0 = trace.steps[0]
    n, L = st0.n, len(trace.activations)
    layers = [f"{trace.sizes[0]} input{'s' if trace.sizes[0] > 1 else ''}"]
    layers += [f"{trace.sizes[ly]} {trace.activations[ly - 1].name}" for ly in range(1, L + 1)]
    doc.add(Para(["Network: " + " → ".join(layers) + " (neurons per layer, input first)."]))
    notation = trace.loss.notation
    loss_eq = row(Sym("J"), "=", notation.value) if notation is not None else Sym("J")
    doc.add(Para([f"Loss per sample: {trace.loss.name}, ", loss_eq, "."]))
    doc.add(
        Para(
            [
                "Notation: ",
                row(
                    layer_sym("z", None, "l"),
                    "=",
                    Sym("W", "", "(l)"),
                    "·",
                    Sym("a", "", "(l−1)"),
                    "+",
                    Sym("b", "", "(l)"),
                ),
                ", ",
                row(layer_sym("a", None, "l"), "=", Func("f", [layer_sym("z", None, "l")])),
                ", with ",
                row(Sym("a", "", "(0)"), "=", Sym("x")),
                "; ",
                weight_sym("i", "j", "l"),
                " joins neuron j of layer l − 1 to neuron i of layer l; o is the output ",
                Sym("a", "", f"({L})"),
                " and t the target.",
            ]
        )
    )
    if n > 1:
        doc.add(
            Para(
                [
                    f"The batch has n = {n} samples. Its error is the mean ",
                    row(Sym("E"), "=", Frac(Lit("1"), Sym("n")), "·", Sum("s", Sym("J", "s"))),
                    "; each sample has its own deltas; every gradient is the mean over the "
                    "samples, ",
                    row(
                        partial("E", Sym("W", "", "(l)")),
                        "=",
                        Frac(Lit("1"), Sym("n")),
                        "·",
                        Sum("s", row(Sym("δ", "s", "(l)"), "·", Sym("a", "s", "(l−1)T"))),
                    ),
                    ".",
                ]
            )
        )
    doc.add(Para(["Parameters before step 1:"]))
    for ly in range(1, L + 1):
        W, b = st0.W[ly - 1], st0.b[ly - 1]
        eq = row(Sym("W", "", f"({ly})"), "=", Mat(W.tolist()))
        if b is not None:
            eq = row(eq, ",", Sym("b", "", f"({ly})"), "=", vec(b))
        doc.add(Eq(eq, "" if b is not None else "no bias"))
    if n == 1:
        doc.add(Eq(row(Sym("x"), "=", samples(st0.x), ",", Sym("t"), "=", samples(st0.t))))
    else:
        rows = [[str(s + 1), vec(st0.x[s]), vec(st0.t[s])] for s in range(n)]
        doc.add(Table(["sample", Sym("x"), Sym("t")], rows))


def _step(doc: Document, trace: Trace, k: int, st: StepTrace) -> None:
    number = iter(range(1, 8))

    def phase(title: str) -> Heading:  # numbered in order; a network without hidden layers skips
        return Heading(3, f"{next(number)}. {title}")

    doc.add(phase("Forward pass"))
    for s in range(st.n):
        sample_heading(doc, st, s)
        if st.n > 1:
            doc.add(Eq(row(Sym("x"), "=", vec(st.x[s]), ",", Sym("t"), "=", vec(st.t[s]))))
        doc.add(Figure(k, s))
        _forward(doc, trace, st.W, st.b, st.z, st.a, s)
    doc.add(phase("Loss"))
    _loss(doc, trace, st, st.a[-1], st.loss_per_sample, st.loss)
    doc.add(phase("Output delta"))
    output_delta_section(doc, trace, st)
    if len(trace.activations) > 1:
        doc.add(phase("Hidden deltas by the delta rule"))
        hidden_deltas_section(doc, trace, st)
    doc.add(phase("Gradients"))
    gradients_section(doc, trace, st)
    doc.add(phase("Update"))
    update_section(doc, trace, st)
    doc.add(phase("Forward pass with the new parameters"))
    for s in range(st.n):
        sample_heading(doc, st, s)
        _forward(doc, trace, st.W_after, st.b_after, st.z_after, st.a_after, s)
    _loss(doc, trace, st, st.a_after[-1], st.loss_per_sample_after, st.loss_after)
    change = st.loss_after - st.loss
    doc.add(
        Para(
            [
                "The error went from ",
                Num(st.loss),
                " to ",
                Num(st.loss_after),
                " (change ",
                Num(change),
                ").",
            ]
        )
    )


def _forward(doc, trace: Trace, W, b, z, a, s: int) -> None:
    for ly in range(1, len(trace.activations) + 1):
        act = trace.activations[ly - 1]
        Wl, bl, zl, al, prev = W[ly - 1], b[ly - 1], z[ly - 1][s], a[ly][s], a[ly - 1][s]
        doc.add(Para([role(trace, ly) + ":"]))
        for i in range(Wl.shape[0]):
            terms = [
                row(weight_sym(i + 1, j + 1, ly), "·", layer_sym("a", j + 1, ly - 1))
                for j in range(Wl.shape[1])
            ]
            nums = [row(Num(Wl[i, j]), "·", Num(prev[j])) for j in range(Wl.shape[1])]
            if bl is not None:
                terms.append(layer_sym("b", i + 1, ly))
                nums.append(Num(bl[i]))
            zi = layer_sym("z", i + 1, ly)
            doc.add(Eq(row(zi, "=", join(terms, "+"), "=", join(nums, "+"), "=", Num(zl[i]))))
        for i in range(Wl.shape[0]):
            zi, ai = layer_sym("z", i + 1, ly), layer_sym("a", i + 1, ly)
            sym, sub = act.notation.value_at(zi, float(zl[i]), zl.tolist())
            forms = [sym] if sub is None else [sym, sub]  # f(z) = z: nothing to substitute
            doc.add(Eq(row(ai, *[x for p in forms for x in ("=", p)], "=", Num(al[i]))))


def _loss(doc, trace: Trace, st: StepTrace, o, per_sample, mean: float) -> None:
    notation = trace.loss.notation
    for s in range(st.n):
        J = Sym("J") if st.n == 1 else Sym("J", str(s + 1))
        head = [Sym("E"), "=", J] if st.n == 1 else [J]
        parts = []
        if notation is not None:
            numbers = [Num(float(v)) for v in o[s]], [Num(float(v)) for v in st.t[s]]
            parts = [notation.value, notation.value_with(*numbers)]
        doc.add(Eq(row(*head, *[x for p in parts for x in ("=", p)], "=", Num(per_sample[s]))))
    if st.n > 1:
        frac = Frac(Lit("1"), Lit(str(st.n)))
        terms = join([Num(v) for v in per_sample], "+")
        mean_eq = row(
            Sym("E"),
            "=",
            frac,
            "·",
            Sum("s", Sym("J", "s")),
            "=",
            frac,
            "·",
            Paren(terms),
            "=",
            Num(mean),
        )
        doc.add(Eq(mean_eq, "the mean over the batch"))
