"""The HTML worked solution in a real headless browser (Debian's ``chromium``, no network).

Chromium is driven over its DevTools pipe (``tests/chromium.py``), so the test needs no extra
package. For each example page it records every
console message, uncaught exception, log entry and network request, then reads the laid-out DOM:
the SVG drawing is there with one circle per neuron and one line per weight, and the equations
are native MathML (``display: math``) with a real size.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chromium import problems, requests, session

import deltaprop as dp

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.[tj][os][mo]*"))
browser = pytest.fixture(scope="module")(session)


LAYOUT = """(() => {
const all = (sel) => [...document.querySelectorAll(sel)];
return JSON.stringify({
  svgs: all('svg.net').map(s => ({
    circles: s.querySelectorAll('circle').length, lines: s.querySelectorAll('line').length,
    width: s.getBoundingClientRect().width, height: s.getBoundingClientRect().height,
    text: s.textContent})),
  maths: document.querySelectorAll('math').length,
  display: [...new Set(all('math').map(m => getComputedStyle(m).display))],
  fracHeight: Math.min(...all('mfrac').map(f => f.getBoundingClientRect().height)),
  scripts: document.scripts.length, title: document.title})})()"""


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_html_opens_offline_without_errors_and_draws_the_network(browser, tmp_path, example):
    trace = dp.load_spec(example).explain(steps=2)
    page = tmp_path / f"{example.stem}.html"
    page.write_text(trace.to_html(), encoding="utf-8")
    events = browser.load(page.as_uri())
    assert problems(events) == []
    assert requests(events) == [page.as_uri()]  # the page itself, nothing else
    dom = json.loads(browser.js(LAYOUT))
    st = trace.steps[0]
    assert len(dom["svgs"]) == 2 * st.n  # one drawing per step and sample
    n_weights = sum(W.size for W in st.W)
    for svg in dom["svgs"]:
        assert svg["circles"] == sum(trace.sizes) and svg["lines"] == n_weights
        assert svg["width"] > 300 and svg["height"] > 100
    first = dom["svgs"][0]["text"]
    assert f"δ = {st.deltas[-1][0, 0]:.4f}".replace("-", "−") in first  # neuron labels: z, a, δ
    assert f"{st.dW[0][0, 0]:.4f}".replace("-", "−") in first  # edge labels: gradient
    assert dom["maths"] > 20 and dom["display"] == ["math"]  # MathML laid out natively
    assert dom["fracHeight"] > 10  # fractions are laid out as fractions, not as flat text
    assert dom["scripts"] == 0
    assert dom["title"].startswith("Worked solution: two training steps of a ")


def test_the_harness_sees_console_errors_and_requests(browser, tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><title>bad</title><script>console.error("boom")</script>'
        '<img src="missing.png">'
    )
    events = browser.load(page.as_uri())
    found = problems(events)
    assert any("boom" in p for p in found) and any("ERR_FILE_NOT_FOUND" in p for p in found)
    assert (tmp_path / "missing.png").as_uri() in requests(events)


def test_html_is_self_contained():
    html = dp.load_spec(EXAMPLES[0]).explain().to_html()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "<math" in html
    for needle in ("http://", "https://", "<script", " src=", "@import", "url("):
        assert needle not in html
    assert html.count("<link") == 1 and '<link rel="icon" href="data:,">' in html


def test_silu_and_gelu_pages_lay_out_their_formulas(browser, tmp_path):
    """GELU's √(2/π) and tanh, SiLU's σ: native MathML, no console message, no request."""
    net = dp.Network.from_weights(
        [[[0.4, -0.7], [1.3, 0.2]], [[0.5, -0.9]]], [[0.1, -0.2], [0.05]], ["gelu", "silu"]
    )
    page = tmp_path / "gelu_silu.html"
    page.write_text(dp.explain(net, [0.5, -1.5], [0.3], 0.1).to_html(), encoding="utf-8")
    events = browser.load(page.as_uri())
    assert problems(events) == []
    assert requests(events) == [page.as_uri()]
    dom = json.loads(browser.js(LAYOUT))
    assert dom["display"] == ["math"] and dom["fracHeight"] > 10
    labels = dom["svgs"][0]["text"]
    assert "GELU" in labels and "SiLU" in labels
    roots = browser.js(
        "JSON.stringify([...document.querySelectorAll('msqrt')]"
        ".map(r => r.getBoundingClientRect().height))"
    )
    heights = json.loads(roots)
    assert len(heights) >= 4 and min(heights) > 10  # √(2/π) drawn as a root over a fraction
