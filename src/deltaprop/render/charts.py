"""Small SVG line and bar charts, with no dependency (the worked solution and the reports stay
offline and dependency-free).

A chart maps data to pixels by one affine map per axis (on ``log10 y`` for a log scale) from the
data range ``[lo, hi]`` to the plot box. The ``<g class="plot">`` element states both, so a reader
(and the tests) can map every plotted point back to its number:
``data-box="left top width height"``, ``data-x="lo hi"``, ``data-y="lo hi"``, ``data-scale``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#1f6fb4", "#d9541e", "#2a9d55", "#7a3b8f", "#b08a00", "#333333", "#c2185b")
WIDTH, HEIGHT = 480, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 44, 42


@dataclass
class Series:
    """One line: ``y[k]`` at ``x[k]``; non-finite points (a diverged step) are left out."""

    name: str
    x: Sequence[float]
    y: Sequence[float]


@dataclass
class Axis:
    """``lo … hi`` of the data onto ``p0 … p1`` pixels; ``log``: by ``log10`` of the value."""

    lo: float
    hi: float
    p0: float
    p1: float
    log: bool = False

    def px(self, v: float) -> float:
        f = (lambda u: math.log10(u)) if self.log else (lambda u: u)
        lo, hi = f(self.lo), f(self.hi)
        return self.p0 + (f(v) - lo) / (hi - lo) * (self.p1 - self.p0)


def _nice_step(span: float, n: int = 5) -> float:
    raw = span / n
    mag = 10.0 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)


def _linear_range(values: list[float], zero: bool) -> tuple[float, float, list[float]]:
    lo, hi = min(values), max(values)
    if zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi == lo:
        lo, hi = (lo - 1, hi + 1) if lo == 0 else (lo - abs(lo) * 0.5, hi + abs(hi) * 0.5)
    step = _nice_step(hi - lo)
    lo, hi = math.floor(lo / step) * step, math.ceil(hi / step) * step
    ticks = [lo + k * step for k in range(round((hi - lo) / step) + 1)]
    return lo, hi, ticks


def _log_range(values: list[float]) -> tuple[float, float, list[float]]:
    a, b = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
    b = max(b, a + 1)
    every = max(1, math.ceil((b - a) / 6))
    return 10.0**a, 10.0**b, [10.0**e for e in range(a, b + 1, every)]


def use_log(values: list[float]) -> bool:
    """A log scale for positive values spanning more than two orders of magnitude."""
    pos = [v for v in values if math.isfinite(v)]
    return bool(pos) and min(pos) > 0 and max(pos) / min(pos) > 100


def _label(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1e4 or abs(v) < 1e-3:
        m, e = f"{v:.0e}".split("e")
        return f"{m}e{int(e)}"
    return f"{v:.6g}"


def _frame(title: str, x_label: str, y_label: str, width: int, height: int) -> list[str]:
    return [
        f'<text class="title" x="{LEFT}" y="18">{escape(title)}</text>',
        f'<text x="{LEFT + (width - LEFT - RIGHT) / 2:.1f}" y="{height - 6}" '
        f'text-anchor="middle">{escape(x_label)}</text>',
        f'<text x="4" y="{TOP - 8}">{escape(y_label)}</text>',  # level: nothing sticks out
    ]


def _svg(title: str, parts: list[str], width: int, height: int, x: Axis, y: Axis) -> str:
    box = f"{x.p0:g} {y.p1:g} {x.p1 - x.p0:g} {y.p0 - y.p1:g}"
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<g class="plot" data-box="{box}" data-x="{x.lo!r} {x.hi!r}" data-y="{y.lo!r} {y.hi!r}" '
        f'data-scale="{"log" if y.log else "linear"}">' + "".join(parts) + "</g></svg>"
    )


def line_chart(
    series: Sequence[Series],
    title: str,
    x_label: str,
    y_label: str,
    log: bool | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> str:
    """An SVG line chart of ``series`` on shared axes; ``log=None`` picks a log y axis when the
    positive values span more than two orders of magnitude. A point for a single x is a dot."""
    xs = [float(v) for s in series for v, w in zip(s.x, s.y, strict=True) if math.isfinite(w)]
    ys = [float(w) for s in series for w in s.y if math.isfinite(w)]
    if not xs:
        xs, ys = [0.0, 1.0], [0.0, 1.0]
    log = use_log(ys) if log is None else log
    if log and min(ys) <= 0:
        raise ValueError(f"a log scale needs positive values; {title!r} has {min(ys)!r}")
    ylo, yhi, yticks = _log_range(ys) if log else _linear_range(ys, zero=False)
    xlo, xhi, xticks = _linear_range(xs, zero=False) if min(xs) != max(xs) else (
        min(xs) - 1, max(xs) + 1, [min(xs)])  # fmt: skip
    x = Axis(xlo, xhi, LEFT, width - RIGHT)
    y = Axis(ylo, yhi, height - BOTTOM, TOP, log)
    parts = _frame(title, x_label, y_label, width, height)
    for t in yticks:
        py = y.px(t)
        parts.append(f'<line class="grid" x1="{x.p0}" x2="{x.p1}" y1="{py:.2f}" y2="{py:.2f}"/>')
        parts.append(f'<text x="{x.p0 - 6}" y="{py + 4:.2f}" text-anchor="end">{_label(t)}</text>')
    for t in xticks:
        px = x.px(t)
        parts.append(f'<line class="axis" x1="{px:.2f}" x2="{px:.2f}" y1="{y.p0}" '
                     f'y2="{y.p0 + 4}"/>')  # fmt: skip
        anchor = "end" if px > x.p1 - 20 else "middle"  # the last label stays in the drawing
        parts.append(f'<text x="{px:.2f}" y="{y.p0 + 17}" text-anchor="{anchor}">'
                     f"{_label(t)}</text>")  # fmt: skip
    parts.append(f'<polyline class="axis" points="{x.p0},{y.p1} {x.p0},{y.p0} {x.p1},{y.p0}"/>')
    for k, s in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        pts = [(x.px(float(u)), y.px(float(v))) for u, v in zip(s.x, s.y, strict=True)
               if math.isfinite(v)]  # fmt: skip
        points = " ".join(f"{px:.3f},{py:.3f}" for px, py in pts)
        name = escape(s.name)
        parts.append(f'<polyline data-series="{name}" stroke="{colour}" points="{points}"/>')
        if len(pts) == 1:
            px, py = pts[0]
            parts.append(f'<circle cx="{px:.3f}" cy="{py:.3f}" r="3" fill="{colour}"/>')
        if len(series) > 1:  # a legend entry per line, along the top
            lx = x.p1 - 120
            ly = TOP + 6 + 15 * k
            key = f'x1="{lx}" x2="{lx + 18}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="2"'
            parts.append(f'<line {key}/><text x="{lx + 24}" y="{ly + 4}">{name}</text>')
    return _svg(title, parts, width, height, x, y)


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    title: str,
    y_label: str,
    log: bool | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> str:
    """An SVG bar chart, one bar per label; bars carry ``data-value`` and their label."""
    vals = [float(v) for v in values]
    finite = [v for v in vals if math.isfinite(v)] or [0.0, 1.0]
    log = use_log(finite) if log is None else log
    ylo, yhi, yticks = _log_range(finite) if log else _linear_range(finite, zero=True)
    x = Axis(0, len(vals), LEFT, width - RIGHT)
    y = Axis(ylo, yhi, height - BOTTOM, TOP, log)
    parts = _frame(title, "", y_label, width, height)
    for t in yticks:
        py = y.px(t)
        parts.append(f'<line class="grid" x1="{x.p0}" x2="{x.p1}" y1="{py:.2f}" y2="{py:.2f}"/>')
        parts.append(f'<text x="{x.p0 - 6}" y="{py + 4:.2f}" text-anchor="end">{_label(t)}</text>')
    base = y.px(ylo if log else max(ylo, 0.0))
    for k, (lab, v) in enumerate(zip(labels, vals, strict=True)):
        x0, x1 = x.px(k + 0.15), x.px(k + 0.85)
        if math.isfinite(v) and (v > 0 or not log):
            top = y.px(v)
            y0, h = min(top, base), abs(base - top)
            box = f'x="{x0:.3f}" y="{y0:.3f}" width="{x1 - x0:.3f}" height="{h:.3f}"'
            fill = PALETTE[k % len(PALETTE)]
            parts.append(f'<rect data-value="{v!r}" {box} fill="{fill}"/>')
        parts.append(f'<text x="{(x0 + x1) / 2:.2f}" y="{y.p0 + 17}" text-anchor="middle">'
                     f"{escape(lab)}</text>")  # fmt: skip
    parts.append(f'<polyline class="axis" points="{x.p0},{y.p1} {x.p0},{y.p0} {x.p1},{y.p0}"/>')
    return _svg(title, parts, width, height, x, y)
