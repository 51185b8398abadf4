"""explain --steps N: the per-step table and charts hold the engine's numbers; the charts' plotted
coordinates map back to them; the vanishing-gradient check reads the deltas; --summary is short.

The oracle for seed 001 is the tutorial's own code (its 60-epoch loop, rewritten here), which
computes the loss, the gradient norm and the deltas by hand.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

import deltaprop as dp
from deltaprop.cli import main
from deltaprop.render import render
from deltaprop.render.charts import Axis, Series, bar_chart, line_chart

SEED = Path(__file__).resolve().parents[1] / "examples" / "seed001.toml"


def tutorial(epochs: int) -> tuple[list[float], list[float], list[float], list[float]]:
    """The tutorial's loop: loss, ‖∇‖ of (w1, b1, w2, b2), |δ⁽²⁾| = |y − t|, |δ⁽¹⁾| per epoch."""
    x, w1, w2, b1, b2, t, lr = 0.5, 0.4, 0.3, 0.1, 0.2, 0.6, 0.1
    losses, norms, d2s, d1s = [], [], [], []
    for _ in range(epochs):
        z1 = w1 * x + b1
        h = 1 / (1 + math.exp(-z1))
        y = w2 * h + b2
        losses.append(0.5 * (y - t) ** 2)
        d2 = y - t
        d1 = d2 * w2 * h * (1 - h)
        norms.append(math.sqrt((d1 * x) ** 2 + d1**2 + (d2 * h) ** 2 + d2**2))
        d2s.append(abs(d2))
        d1s.append(abs(d1))
        w1, b1, w2, b2 = w1 - lr * d1 * x, b1 - lr * d1, w2 - lr * d2 * h, b2 - lr * d2
    return losses, norms, d2s, d1s


def charts(html: str) -> dict[str, dict]:
    """Every chart of a page: its title, axes (from its data attributes), lines and bars."""
    out = {}
    for svg in re.findall(r'<svg class="chart".*?</svg>', html, re.S):
        title = re.search(r"<title>(.*?)</title>", svg)[1]
        g = re.search(r'<g class="plot" data-box="([^"]+)" data-x="([^"]+)" data-y="([^"]+)" '
                      r'data-scale="(\w+)"', svg)  # fmt: skip
        left, top, width, height = map(float, g[1].split())
        (x0, x1), (y0, y1) = map(float, g[2].split()), map(float, g[3].split())
        log = g[4] == "log"
        lines = {
            name: [tuple(map(float, p.split(","))) for p in pts.split()]
            for name, pts in re.findall(
                r'<polyline data-series="([^"]+)"[^>]* points="([^"]*)"', svg
            )
        }
        bars = [float(v) for v in re.findall(r'<rect data-value="([^"]+)"', svg)]
        bar_tops = [
            float(v) for v in re.findall(r'<rect data-value="[^"]+" x="[^"]+" y="([^"]+)"', svg)
        ]
        out[title] = dict(box=(left, top, width, height), x=(x0, x1), y=(y0, y1), log=log,
                          lines=lines, bars=bars, bar_tops=bar_tops)  # fmt: skip
    return out


def back(chart: dict, px: float, py: float) -> tuple[float, float]:
    """A plotted point in data coordinates: the inverse of the chart's stated affine maps."""
    left, top, width, height = chart["box"]
    (x0, x1), (y0, y1) = chart["x"], chart["y"]
    x = x0 + (px - left) / width * (x1 - x0)
    f = (lambda v: math.log10(v)) if chart["log"] else (lambda v: v)
    u = f(y0) + (top + height - py) / height * (f(y1) - f(y0))
    return x, 10**u if chart["log"] else u


def test_seed001_charts_plot_the_tutorials_numbers():
    trace = dp.load_spec(SEED).explain(steps=60)
    page = charts(render(trace, "html", summary=True))
    losses, norms, d2s, d1s = tutorial(60)
    expected = {
        ("Error E per step", "E"): losses,
        ("Gradient norm ‖∂E/∂θ‖ per step", "‖∂E/∂θ‖"): norms,
        ("Delta norm ‖δ⁽ˡ⁾‖ per layer and step", "layer 2"): d2s,
        ("Delta norm ‖δ⁽ˡ⁾‖ per layer and step", "layer 1"): d1s,
    }
    for (title, name), values in expected.items():
        chart = page[title]
        assert chart["log"]  # eight orders of magnitude: a log scale
        points = [back(chart, px, py) for px, py in chart["lines"][name]]
        np.testing.assert_allclose([x for x, _ in points], range(1, 61), atol=1e-3)  # 0.001 px
        np.testing.assert_allclose([y for _, y in points], values, rtol=2e-4)
    # and the chart's numbers are the trace's: the engine's loss, gradients and deltas
    np.testing.assert_allclose(losses, [st.loss for st in trace.steps], rtol=1e-12)
    bars = page["‖δ⁽ˡ⁾‖ per layer over the 60 steps"]["bars"]
    rms = [math.sqrt(np.mean(np.square(d))) for d in (d2s, d1s)]
    np.testing.assert_allclose(bars, rms, rtol=1e-12)  # output layer first


def test_linear_and_bar_charts_map_back():
    s = Series("y", [1, 2, 3, 4], [-0.5, 0.25, 2.0, 1.0])
    chart = charts(line_chart([s], "t", "step", "y"))["t"]
    assert not chart["log"] and chart["y"][0] <= -0.5 and chart["y"][1] >= 2.0
    pts = [back(chart, px, py) for px, py in chart["lines"]["y"]]
    np.testing.assert_allclose(pts, list(zip(s.x, s.y, strict=True)), atol=1e-5)
    bar = charts(bar_chart(["a", "b"], [3.0, 0.5], "b", "v"))["b"]
    assert bar["bars"] == [3.0, 0.5]
    tops = [back(bar, 0, py)[1] for py in bar["bar_tops"]]
    np.testing.assert_allclose(tops, [3.0, 0.5], atol=1e-5)
    assert Axis(1e-3, 10.0, 0, 400, log=True).px(0.1) == pytest.approx(200)


def test_a_log_chart_refuses_what_it_cannot_draw():
    with pytest.raises(ValueError, match="log scale needs positive values; 'n' has 0.0"):
        line_chart([Series("a", [1, 2], [0.0, 1.0])], "n", "x", "y", log=True)


def test_vanishing_deltas_are_pointed_out_with_their_numbers():
    deep = dp.Network.from_weights([[[0.5]], [[0.5]], [[0.5]], [[0.5]]], None, "sigmoid")
    trace = dp.explain(deep, [1.0], [0.0], 0.5, steps=3)
    text = trace.to_text()
    rms = [
        math.sqrt(np.mean([np.sum(st.deltas[ly] ** 2) for st in trace.steps])) for ly in range(4)
    ]
    assert all(
        a < b for a, b in zip(rms, rms[1:], strict=False)
    )  # the oracle: shrinking toward the input
    assert "The deltas shrink layer by layer toward the input" in text
    assert f"‖δ⁽¹⁾‖ = {rms[0]:.4f}" in text and f"{rms[3] / rms[0]:.3g} times smaller" in text
    html = trace.to_html()
    assert '<p class="warn">The deltas shrink' in html
    grow = dp.Network.from_weights([[[2.0]], [[3.0]]], None, ["identity", "identity"])
    flat = dp.explain(grow, [1.0], [0.0], 0.01, steps=2).to_markdown()
    assert "The deltas do not shrink layer by layer toward the input" in flat


def test_summary_shows_the_first_step_then_the_table_of_every_fifth(capsys):
    assert main(["explain", str(SEED), "--steps", "60", "--summary"]) == 0
    out = capsys.readouterr().out
    assert "Step 1 of 60" in out and "Step 2 of 60" not in out
    assert len(out.splitlines()) < 110  # fits on a page
    table = out[out.index("Loss and output per step") :]
    steps = [int(m[1]) for m in re.finditer(r"^ +(\d+) +[\d.]+", table, re.M)]
    assert steps == [1, 6, 11, 16, 21, 26, 31, 36, 41, 46, 51, 56, 60]
    assert "Every 5th step and the last; the charts show all 60." in out
    losses, norms, *_ = tutorial(60)
    row6 = re.search(r"^ +6 +([\d.]+) +\(([\d.]+)\) +([\d.]+) +\(([\d.]+)\) +([\d.]+)", table, re.M)
    assert float(row6[1]) == pytest.approx(losses[5], abs=5e-5)
    assert float(row6[5]) == pytest.approx(norms[5], abs=5e-5)
    full = dp.load_spec(SEED).explain(steps=3).to_markdown()
    assert "## Step 3 of 3" in full and "| step | E before | o before | E after | o after |" in full
