"""The network of one step and sample drawn in SVG: neurons labelled with z, a = f(z) and δ,
edges with their weight w and gradient ∂E/∂w; edge width grows with |w|, colour gives its sign."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

import numpy as np

from ..notation import Num, to_text

if TYPE_CHECKING:
    from ..trace import Trace

R = 24  # neuron radius
ROW = 150  # vertical spacing of neurons
LEFT, TOP, BOTTOM = 90, 10, 20
POSITIVE, NEGATIVE = "#1f6fb4", "#d9541e"


def _n(v: float, d: int) -> str:
    return to_text(Num(float(v)), d)


def _text(x: float, y: float, s: str, cls: str = "", anchor: str = "middle") -> str:
    c = f' class="{cls}"' if cls else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{c}>{escape(s)}</text>'


def network_svg(trace: Trace, k: int, s: int, d: int = 4) -> str:
    """SVG markup of step ``k`` (index into ``trace.steps``), sample ``s``.

    Each edge's label (weight above, gradient below) sits at a fraction of the edge's length that
    depends on its source neuron, so that labels of different sources do not overlap.
    """
    st = trace.steps[k]
    sizes = trace.sizes
    tall = max(sizes)
    # wider gaps where many edges fan in, so that their labels have room side by side
    gaps = [max(280, 64 * sizes[ly - 1] + 100) for ly in range(1, len(sizes))]
    xs = [LEFT + sum(gaps[:ly]) for ly in range(len(sizes))]
    width = 2 * LEFT + sum(gaps)
    height = TOP + tall * ROW + BOTTOM

    def pos(layer: int, i: int) -> tuple[float, float]:
        y0 = TOP + (tall - sizes[layer]) * ROW / 2
        return xs[layer], y0 + i * ROW + ROW / 2 - 20

    w_max = max(float(np.max(np.abs(W))) for W in st.W) or 1.0
    edges, labels, nodes = [], [], []
    for ly in range(1, len(sizes)):
        W, dW = st.W[ly - 1], st.dW[ly - 1]
        for i in range(sizes[ly]):
            for j in range(sizes[ly - 1]):
                (x0, y0), (x1, y1) = pos(ly - 1, j), pos(ly, i)
                w = float(W[i, j])
                width_px = 1 + 5 * abs(w) / w_max
                colour = POSITIVE if w >= 0 else NEGATIVE
                edges.append(
                    f'<line x1="{x0 + R:.1f}" y1="{y0:.1f}" x2="{x1 - R:.1f}" y2="{y1:.1f}" '
                    f'stroke="{colour}" stroke-width="{width_px:.2f}" stroke-opacity="0.75">'
                    f"<title>w{_sub(i + 1)}{_sub(j + 1)} of layer {ly} = {_n(w, d)}, "
                    f"∂E/∂w = {_n(dW[i, j], d)}</title></line>"
                )
                t = 0.2 + 0.6 * (j + 0.5) / sizes[ly - 1]
                lx, lab_y = x0 + R + t * (x1 - x0 - 2 * R), y0 + t * (y1 - y0)
                labels.append(_text(lx, lab_y - 3, _n(w, d), "w"))
                labels.append(_text(lx, lab_y + 11, _n(dW[i, j], d), "g"))
    for ly, units in enumerate(sizes):
        for i in range(units):
            x, y = pos(ly, i)
            if ly == 0:
                inner, lines = f"x{_sub(i + 1)}", [f"x{_sub(i + 1)} = {_n(st.x[s, i], d)}"]
            else:
                inner = trace.activations[ly - 1].label  # the activation's short name
                lines = [
                    f"z = {_n(st.z[ly - 1][s, i], d)}",
                    f"a = {_n(st.a[ly][s, i], d)}",
                    f"δ = {_n(st.deltas[ly - 1][s, i], d)}",
                ]
                b = st.b[ly - 1]
                if b is not None:
                    lines.append(f"b = {_n(b[i], d)}")
            cls = "in" if ly == 0 else ("out" if ly == len(sizes) - 1 else "hid")
            nodes.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{R}" class="{cls}"/>')
            nodes.append(_text(x, y + 5, inner, "f"))
            for m, line in enumerate(lines):
                nodes.append(_text(x, y + R + 16 + 15 * m, line, "v"))
    title = f"Step {st.step}" + (f", sample {s + 1}" if st.n > 1 else "") + ": the network"
    return (
        f'<svg class="net" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
        + "".join(edges)
        + "".join(labels)
        + "".join(nodes)
        + "</svg>"
    )


def legend(trace: Trace, k: int, s: int) -> str:
    """What the drawing shows, in words (the figure's caption)."""
    st = trace.steps[k]
    batch = st.n > 1
    return (
        f"Step {st.step}" + (f", sample {s + 1} of {st.n}" if batch else "") + ". Neurons: "
        "z, a = f(z), δ = ∂J/∂z" + (" of this sample" if batch else "") + " and the bias b. "
        "Edges: the weight w (upper number) and the gradient ∂E/∂w (lower number"
        + (", the batch mean" if batch else "")
        + "); "
        "the width grows with |w|; blue: w ≥ 0, orange: w < 0."
    )


def _sub(k: int) -> str:
    return str(k).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))

