"""The close of a worked solution over several steps: a table per step (loss, output, gradient
norm, every layer's delta norm), charts of them, and the tutorial's vanishing-gradient check.

Per step, from the trace's arrays (the numbers the engine trained with), with the definitions of
``fit``'s history (:mod:`deltaprop.norms`): the gradient norm ``‖∂E/∂θ‖ = √(Σ_l ‖∂E/∂Wˡ‖² +
‖∂E/∂bˡ‖²)`` and each layer's root-mean-square per-sample delta norm
``‖δˡ‖ = √((1/n) Σₛ ‖δˡₛ‖²)``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..notation import Mat, Num
from .charts import Series
from .document import Chart, Heading, Para, Table

if TYPE_CHECKING:
    from ..trace import StepTrace, Trace

SUMMARY_ROWS = 12  # a summary's table shows about this many steps; its charts show all


def grad_norm(st: StepTrace) -> float:
    """‖∂E/∂θ‖ over every weight and bias of the step."""
    sq = sum(float(np.sum(np.square(g))) for g in [*st.dW, *st.db] if g is not None)
    return math.sqrt(sq)


def delta_norms(st: StepTrace) -> list[float]:
    """Per layer ``l = 1 … L``: ``√((1/n) Σₛ ‖δˡₛ‖²)``."""
    return [math.sqrt(float(np.sum(np.square(d))) / st.n) for d in st.deltas]


def _sup(layer: int) -> str:
    return f"({layer})".translate(str.maketrans("0123456789()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾"))


def _samples(arr: np.ndarray) -> Mat:
    rows = [list(map(float, r)) for r in arr]
    return Mat(rows[:1], vector=True) if len(rows) == 1 else Mat(rows)


def steps_section(doc, trace: Trace, summary: bool = False) -> None:
    """The per-step table, the three charts and what the delta norms say."""
    steps = trace.steps
    L = len(trace.activations)
    norms = [grad_norm(st) for st in steps]
    deltas = [delta_norms(st) for st in steps]
    doc.add(Heading(2, "Loss and output per step"))
    stride = max(1, math.ceil(len(steps) / SUMMARY_ROWS)) if summary else 1
    shown = [k for k in range(len(steps)) if k % stride == 0 or k == len(steps) - 1]
    header = ["step", "E before", "o before", "E after", "o after", "‖∂E/∂θ‖"]
    header += [f"‖δ{_sup(ly)}‖" for ly in range(L, 0, -1)]
    rows = []
    for k in shown:
        st = steps[k]
        cells = [str(st.step), Num(st.loss), _samples(st.output), Num(st.loss_after)]
        cells += [_samples(st.output_after), Num(norms[k])]
        rows.append(cells + [Num(deltas[k][ly - 1]) for ly in range(L, 0, -1)])
    doc.add(Table(header, rows))
    if stride > 1:
        doc.add(Para([f"Every {stride}th step and the last; the charts show all {len(steps)}."]))
    first, last = steps[0], steps[-1]
    doc.add(Para([f"Over {len(steps)} steps the error went from ", Num(first.loss), " to ",
                  Num(last.loss_after), "."]))  # fmt: skip
    words = "the root mean square over the samples of the norm of layer l's deltas."
    doc.add(Para(["‖∂E/∂θ‖ is the norm of the whole gradient, over every weight and bias; ‖δ⁽ˡ⁾‖ "
                  + words]))  # fmt: skip
    x = [st.step for st in steps]
    doc.add(Chart("line", "Error E per step", "step", "E (before the step)",
                  [Series("E", x, [st.loss for st in steps])]))  # fmt: skip
    doc.add(Chart("line", "Gradient norm ‖∂E/∂θ‖ per step", "step", "‖∂E/∂θ‖",
                  [Series("‖∂E/∂θ‖", x, norms)]))  # fmt: skip
    layers = [Series(f"layer {ly}", x, [dn[ly - 1] for dn in deltas]) for ly in range(L, 0, -1)]
    doc.add(Chart("line", "Delta norm ‖δ⁽ˡ⁾‖ per layer and step", "step", "‖δ⁽ˡ⁾‖", layers))
    if L > 1:
        _vanishing(doc, trace, deltas)


def _vanishing(doc, trace: Trace, deltas: list[list[float]]) -> None:
    """Whether the deltas shrink from the output layer back to the first, with the numbers:
    each layer's root mean square of ‖δˡ‖ over the steps."""
    L = len(trace.activations)
    rms = [math.sqrt(sum(dn[ly] ** 2 for dn in deltas) / len(deltas)) for ly in range(L)]
    parts: list = []
    for ly in range(L, 0, -1):
        parts += [", " if ly < L else "", f"‖δ{_sup(ly)}‖ = ", Num(rms[ly - 1])]
    labels = [f"layer {ly}" for ly in range(L, 0, -1)]  # output first, as in the line chart
    doc.add(Chart("bar", f"‖δ⁽ˡ⁾‖ per layer over the {len(deltas)} steps", "", "‖δ⁽ˡ⁾‖",
                  labels=labels, values=rms[::-1]))  # fmt: skip
    over = f"root mean square over the {len(deltas)} steps"
    if all(rms[ly - 1] < rms[ly] for ly in range(1, L)) and rms[0] > 0:
        ratio = rms[-1] / rms[0]
        doc.add(
            Para(
                [
                    f"The deltas shrink layer by layer toward the input ({over}): ",
                    *parts,
                    f"; the first layer's are {ratio:.3g} times smaller than the output "
                    "layer's. This is the vanishing gradient: going back, each layer multiplies "
                    "δ by its weights and by f′(z) (at most 0.25 for the sigmoid, at most 1 for "
                    "tanh), so the layers nearest the input learn slowest. The usual cures: ReLU, "
                    "He initialisation, fewer layers, a larger learning rate for early layers.",
                ],
                "warn",
            )
        )
    else:
        doc.add(Para([f"The deltas do not shrink layer by layer toward the input ({over}): ",
                      *parts, "."]))  # fmt: skip
