"""The report's figures beyond line and bar charts, as inline SVG: a scatter of predicted against
true values, a classifier's decision regions with its points, a confusion matrix, and the trained
network drawn with each edge's width and colour by its weight.

Like :mod:`deltaprop.render.charts`, every figure states the numbers it draws in ``data-*``
attributes, so that a reader (and the tests) can map it back to the model.
"""

from __future__ import annotations

import math
from html import escape

import numpy as np

from ..render.charts import PALETTE

Array = np.ndarray
SIZE = 360
PAD = 44
MAX_UNITS = 10  # units drawn per layer; a larger layer shows its first 9, ⋮ and its last


def _axis(lo: float, hi: float, p0: float, p1: float):
    span = hi - lo if hi > lo else 1.0
    return lambda v: p0 + (v - lo) / span * (p1 - p0)


def _svg(title: str, body: list[str], cls: str, width: int = SIZE, height: int = SIZE) -> str:
    return (
        f'<svg class="chart {cls}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<text class="title" x="{width / 2}" y="18" text-anchor="middle">{escape(title)}</text>'
        + "".join(body)
        + "</svg>"
    )


def scatter(y_true: Array, y_pred: Array, title: str = "Predicted vs true") -> str:
    """Each prediction against its target (outputs pooled), with the line ŷ = y."""
    t, o = np.asarray(y_true, float).ravel(), np.asarray(y_pred, float).ravel()
    ok = np.isfinite(t) & np.isfinite(o)
    lo = float(min(t[ok].min(), o[ok].min())) if ok.any() else 0.0
    hi = float(max(t[ok].max(), o[ok].max())) if ok.any() else 1.0
    px, py = _axis(lo, hi, PAD, SIZE - 12), _axis(lo, hi, SIZE - PAD, 28)
    body = [
        f'<g class="plot" data-x="{lo!r} {hi!r}" data-y="{lo!r} {hi!r}" '
        f'data-box="{PAD} 28 {SIZE - 12 - PAD} {SIZE - PAD - 28}">',
        f'<line class="axis" x1="{px(lo):.2f}" y1="{py(lo):.2f}" x2="{px(hi):.2f}" '
        f'y2="{py(hi):.2f}"/>',
    ]
    for a, b in zip(t[ok].tolist(), o[ok].tolist(), strict=True):
        body.append(f'<circle cx="{px(a):.2f}" cy="{py(b):.2f}" r="2.5" fill="{PALETTE[0]}" '
                    f'fill-opacity="0.6" data-point="{a!r} {b!r}"/>')  # fmt: skip
    body.append("</g>")
    body.append(f'<text x="{SIZE / 2}" y="{SIZE - 8}" text-anchor="middle">true y</text>')
    body.append(f'<text x="12" y="{SIZE / 2}" transform="rotate(-90 12 {SIZE / 2})" '
                'text-anchor="middle">predicted ŷ</text>')  # fmt: skip
    return _svg(title, body, "scatter")


def decision_regions(network, x: Array, labels: Array, steps: int = 60) -> str:
    """The class ``predict`` gives over a grid spanning the two inputs of ``x``, and ``x``'s
    points coloured by their class. Each cell carries ``data-class``; the grid's corners are in
    ``data-grid``."""
    x = np.asarray(x, float)
    (x0, y0), (x1, y1) = x.min(axis=0).tolist(), x.max(axis=0).tolist()
    mx, my = 0.1 * (x1 - x0 or 1.0), 0.1 * (y1 - y0 or 1.0)
    x0, x1, y0, y1 = x0 - mx, x1 + mx, y0 - my, y1 + my
    gx, gy = np.linspace(x0, x1, steps), np.linspace(y0, y1, steps)
    grid = np.array([[u, v] for v in gy for u in gx])
    out = network.predict(grid)
    cls = out.argmax(axis=1) if out.shape[1] > 1 else (out[:, 0] > 0.5).astype(int)
    px, py = _axis(x0, x1, PAD, SIZE - 12), _axis(y0, y1, SIZE - PAD, 28)
    w, h = (SIZE - 12 - PAD) / (steps - 1), (SIZE - PAD - 28) / (steps - 1)
    body = [f'<g class="plot" data-grid="{x0!r} {x1!r} {y0!r} {y1!r} {steps}">']
    for (u, v), c in zip(grid, cls, strict=True):
        body.append(f'<rect x="{px(u) - w / 2:.2f}" y="{py(v) - h / 2:.2f}" width="{w + 0.3:.2f}" '
                    f'height="{h + 0.3:.2f}" fill="{PALETTE[c % len(PALETTE)]}" '
                    f'fill-opacity="0.18" data-class="{c}"/>')  # fmt: skip
    for (u, v), c in zip(x, np.asarray(labels).astype(int), strict=True):
        body.append(f'<circle cx="{px(u):.2f}" cy="{py(v):.2f}" r="3" stroke="#222" '
                    f'stroke-width="0.6" fill="{PALETTE[c % len(PALETTE)]}" data-class="{c}"/>')
    body.append("</g>")
    return _svg("Decision regions", body, "boundary")


def confusion(C: Array, classes: list) -> str:
    """The confusion matrix as a table, cells shaded by their share of the true class's row."""
    names = [escape(str(c)) for c in classes]
    head = "".join(f"<th>{n}</th>" for n in names)
    rows = []
    for i, n in enumerate(names):
        total = max(int(C[i].sum()), 1)
        cells = "".join(
            f'<td data-label="{names[j]}" style="background: rgba(31, 111, 180, '
            f'{0.08 + 0.6 * int(v) / total:.2f})">{int(v)}</td>'
            for j, v in enumerate(C[i])
        )
        rows.append(f'<tr><th data-label="true">{n}</th>{cells}</tr>')
    return (
        "<h3>Confusion matrix</h3><p>Rows: the true class; columns: the predicted class.</p>"
        f'<table class="confusion"><thead><tr><th></th>{head}</tr></thead><tbody>'
        + "".join(rows)
        + "</tbody></table>"
    )


def _shown(units: int) -> list[int | None]:
    """The units drawn: all, or the first 9, None (an ellipsis) and the last."""
    if units <= MAX_UNITS:
        return list(range(units))
    return [*range(MAX_UNITS - 1), None, units - 1]


def network_drawing(network) -> str:
    """Layers as columns of units, each edge as wide as ``|w|`` (relative to the largest weight)
    and blue where ``w > 0``, orange where ``w < 0``; large layers are summarised."""
    sizes = network.sizes
    width, height = max(360, 120 * len(sizes)), 340
    cols = [_shown(n) for n in sizes]
    xs = [40 + k * (width - 80) / max(len(sizes) - 1, 1) for k in range(len(sizes))]

    def ys(col):
        return [40 + (k + 0.5) * (height - 60) / len(col) for k in range(len(col))]

    wmax = max(float(np.abs(ly.W).max()) for ly in network.layers) or 1.0
    body = []
    for li, layer in enumerate(network.layers):
        src, dst = cols[li], cols[li + 1]
        for a, ya in zip(src, ys(src), strict=True):
            for b, yb in zip(dst, ys(dst), strict=True):
                if a is None or b is None:
                    continue
                w = float(layer.W[b, a])
                colour = PALETTE[0] if w > 0 else PALETTE[1]
                body.append(f'<line x1="{xs[li]:.1f}" y1="{ya:.1f}" x2="{xs[li + 1]:.1f}" '
                            f'y2="{yb:.1f}" stroke="{colour}" stroke-opacity="0.75" '
                            f'stroke-width="{0.3 + 3.5 * abs(w) / wmax:.2f}" '
                            f'data-w="{w!r}" data-edge="{li + 1} {b} {a}"/>')  # fmt: skip
    for k, col in enumerate(cols):
        for u, y in zip(col, ys(col), strict=True):
            if u is None:
                body.append(f'<text x="{xs[k]:.1f}" y="{y + 5:.1f}" text-anchor="middle">⋮</text>')
            else:
                body.append(f'<circle cx="{xs[k]:.1f}" cy="{y:.1f}" r="7" fill="#fdf5e2" '
                            f'stroke="#333"/>')  # fmt: skip
        label = "input" if k == 0 else network.layers[k - 1].activation.name
        body.append(f'<text x="{xs[k]:.1f}" y="{height - 6}" text-anchor="middle">'
                    f"{escape(label)} ({sizes[k]})</text>")  # fmt: skip
    return _svg(f"The network, {'-'.join(map(str, sizes))}", body, "net-weights", width, height)


def finite_or_none(values) -> list[float]:
    """``values`` with non-finite entries as NaN (charts leave those points out)."""
    return [float(v) if v is not None and math.isfinite(v) else math.nan for v in values]
