"""explain's HTML in a real headless Chromium at a desktop's 1,200 px and a phone's 400 px: no
element overflows (``scrollWidth > clientWidth``) or sticks out of the page, every equation's
result is on screen, and the page, its drawings and charts are visible in a screenshot (pixels).

Chromium is Debian's (``make test`` installs it with ``scripts/install-system-deps.sh test``);
without it these tests fail and say so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chromium import problems, requests, screenshot, session, viewport

import deltaprop as dp
from deltaprop.notation import Num, to_text
from deltaprop.render import render

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.[tj][os][mo]*"))
WIDTHS = (1200, 400)
browser = pytest.fixture(scope="module")(session)

OVERFLOW = """(() => {
const W = document.documentElement.clientWidth, out = [];
for (const el of [document.documentElement, ...document.querySelectorAll('body *')]) {
  const r = el.getBoundingClientRect();
  const what = el.tagName + ' ' + (el.textContent || '').slice(0, 80);
  const svg = el.ownerSVGElement;  // inside a drawing: not a CSS box, so no scrollWidth of its
  if (svg) {  // own (Chromium's numbers vary); it must lie inside its drawing instead
    const box = svg.getBoundingClientRect();
    if (r.width > 0 && (r.left < box.left - 1 || r.right > box.right + 1)) {
      out.push(['outside its drawing', r.left, r.right, what]);
    }
  } else if (el.scrollWidth > el.clientWidth) {
    out.push(['scrolls', el.scrollWidth, el.clientWidth, what]);
  } else if (r.width > 0 && (r.right > W + 0.5 || r.left < -0.5)) {
    out.push(['outside', r.left, r.right, what]);
  }
}
const n = document.querySelectorAll('*').length;
return JSON.stringify({width: W, bad: out.slice(0, 10), elements: n});
})()"""

RESULTS = """JSON.stringify([...document.querySelectorAll('div.eq')].map(eq => {
  const ms = eq.querySelectorAll('mn'), last = ms[ms.length - 1];
  if (!last) return null;
  const r = last.getBoundingClientRect();
  return [last.textContent, r.left, r.right, r.width];
}).filter(x => x))"""


def pages(tmp_path) -> list[tuple[str, Path, object]]:
    """Every example (two steps), seed 001's 60 steps as a summary, and the issue's 2-3-2-1
    network, whose layer-2 ``z`` lines used to end at '… + 0.0000 = 0' with the result hidden."""
    out = []
    for ex in EXAMPLES:
        out.append((ex.name, dp.load_spec(ex).explain(steps=2), {}))
    seed = dp.load_spec(EXAMPLES[0]).explain(steps=60)
    out.append(("seed001 --steps 60 --summary", seed, {"summary": True}))
    net = dp.Network.from_weights(
        [
            [[0.15, -0.25], [0.35, 0.45], [-0.55, 0.65]],
            [[0.1, -0.2, 0.3], [-0.4, 0.5, -0.6]],
            [[0.7, -0.8]],
        ],
        [[0.1, -0.1, 0.2], [0.05, -0.05], [0.3]],
        ["sigmoid", "tanh", "identity"],
    )
    wide = dp.explain(net, [[0.5, -1.0], [1.5, 0.25]], [[0.3], [-0.2]], 0.1, "adam", steps=3)
    out.append(("2-3-2-1, Adam, batch of 2", wide, {}))
    written = []
    for k, (name, trace, opts) in enumerate(out):
        page = tmp_path / f"page{k}.html"
        page.write_text(render(trace, "html", 4, **opts), encoding="utf-8")
        written.append((name, page, trace))
    return written


def test_every_line_shows_whole_at_desktop_and_phone_width(browser, tmp_path):
    for name, page, _ in pages(tmp_path):
        for width in WIDTHS:
            viewport(browser, width)
            events = browser.load(page.as_uri())
            assert problems(events) == [] and requests(events) == [page.as_uri()], name
            found = json.loads(browser.js(OVERFLOW))
            assert found["width"] <= width and found["elements"] > 100, (name, width)
            assert found["bad"] == [], (name, width, found["bad"])
            results = json.loads(browser.js(RESULTS))  # each equation's last number, on screen
            assert len(results) > 10
            for text, left, right, w in results:
                assert w > 0 and left >= 0 and right <= found["width"], (name, width, text)


def test_the_layer_2_z_lines_end_with_their_result(browser, tmp_path):
    name, page, trace = pages(tmp_path)[-1]
    viewport(browser, 400)
    browser.load(page.as_uri())
    st = trace.steps[0]
    for i, z in enumerate(st.z[1][0]):  # sample 1's z₁⁽²⁾, z₂⁽²⁾ of step 1
        text, right = json.loads(
            browser.js(
                "JSON.stringify((() => { const eq = [...document.querySelectorAll('div.eq')]"
                f".find(e => e.querySelector('.lhs')?.textContent === 'z{i + 1}(2)');"
                "const seg = eq.querySelector('.seg:last-child');"
                "return [seg.textContent, seg.getBoundingClientRect().right]; })())"
            )
        )
        assert text == "=" + to_text(Num(float(z)))  # the result, whole
        assert 0 < right <= 400


def _bluish(rows: list[bytes]) -> int:
    """Pixels clearly blue (blue channel 60 above red): the charts' first line and bar, the
    drawing's positive edges (#1f6fb4, also at the edges' 75 % opacity on white)."""
    return sum(1 for row in rows for k in range(0, len(row), 3) if row[k + 2] > row[k] + 60)


def test_page_drawings_and_charts_are_visible_in_a_screenshot(browser, tmp_path):
    trace = dp.load_spec(EXAMPLES[0]).explain(steps=60)
    page = tmp_path / "seed60.html"
    page.write_text(render(trace, "html", summary=True), encoding="utf-8")
    for width in WIDTHS:
        viewport(browser, width)
        browser.load(page.as_uri())
        w, h, rows = screenshot(browser)
        assert (w, h) == (width, 900)
        dark = sum(1 for row in rows for k in range(0, len(row), 3) if max(row[k : k + 3]) < 128)
        assert dark > 0.005 * w * h  # text on the page, not a blank screen
        boxes = json.loads(
            browser.js(
                "JSON.stringify([...document.querySelectorAll('svg.chart, svg.net')].map(s => {"
                "const r = s.getBoundingClientRect(); return [s.getAttribute('class'),"
                " r.left, r.top + scrollY, r.width, r.height]}))"
            )
        )
        assert [b[0] for b in boxes].count("chart") == 4 and "net" in [b[0] for b in boxes]
        for cls, x, y, bw, bh in boxes:
            assert bw > 0.5 * min(width, 480) - 40 and bh > 50, (
                cls,
                width,
                bw,
                bh,
            )  # scaled to fit
            clip = {"x": x, "y": y, "width": bw, "height": bh}
            _, _, shot = screenshot(browser, clip)
            blue = _bluish(shot)
            assert blue > 50, (cls, width, blue)  # drawn, not an empty box


def test_the_harness_sees_an_overflowing_line(browser, tmp_path):
    page = tmp_path / "wide.html"
    page.write_text(
        '<!DOCTYPE html><meta name="viewport" content="width=device-width"><body>'
        '<div style="overflow-x:auto"><math><mn>' + "1234567890" * 20 + "</mn></math></div>"
    )
    viewport(browser, 400)
    browser.load(page.as_uri())
    bad = json.loads(browser.js(OVERFLOW))["bad"]
    assert bad and bad[0][0] == "scrolls" and bad[0][1] > 400
