"""The HTML worked solution in a real headless browser (Debian's ``chromium``, no network).

Chromium is driven over its DevTools pipe (``--remote-debugging-pipe``: JSON messages on file
descriptors 3 and 4), so the test needs no extra package. For each example page it records every
console message, uncaught exception, log entry and network request, then reads the laid-out DOM:
the SVG drawing is there with one circle per neuron and one line per weight, and the equations
are native MathML (``display: math``) with a real size.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import deltaprop as dp

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.[tj][os][mo]*"))
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
]
WATCHED = ("Runtime.consoleAPICalled", "Runtime.exceptionThrown", "Log.entryAdded")


class Chromium:
    """A headless Chromium with one page, spoken to over the DevTools pipe."""

    def __init__(self, profile: str):
        theirs_r, ours_w = os.pipe()  # we write, Chromium reads on fd 3
        ours_r, theirs_w = os.pipe()  # Chromium writes on fd 4, we read

        def fds() -> None:  # in the child: move the two ends to fds 3 and 4
            r, w = (fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (theirs_r, theirs_w))
            os.dup2(r, 3)
            os.dup2(w, 4)

        exe = shutil.which("chromium")
        assert exe, "chromium is not installed: run `bash scripts/install-system-deps.sh test`"
        self.proc = subprocess.Popen(
            [exe, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            preexec_fn=fds,
            pass_fds=(3, 4),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(theirs_r)
        os.close(theirs_w)
        self.w, self.r, self.buf, self.next_id, self.events = ours_w, ours_r, b"", 0, []
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})
        self.session = attached["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            self.send(f"{domain}.enable", session=True)

    def send(self, method: str, params: dict | None = None, session: bool = False) -> dict:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self.session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        reply = self.wait(lambda m: m.get("id") == msg["id"])
        assert "error" not in reply, reply
        return reply["result"]

    def wait(self, done, timeout: float = 30.0) -> dict:
        end = time.monotonic() + timeout
        while True:
            while b"\0" in self.buf:
                raw, self.buf = self.buf.split(b"\0", 1)
                m = json.loads(raw)
                if "id" not in m:
                    self.events.append(m)
                if done(m):
                    return m
            ready, _, _ = select.select([self.r], [], [], max(0.0, end - time.monotonic()))
            assert ready, "chromium did not answer in time"
            chunk = os.read(self.r, 1 << 20)
            assert chunk, "chromium closed the pipe"
            self.buf += chunk

    def load(self, url: str) -> list[dict]:
        """Navigate to ``url``, wait for its load event; the events seen on the way."""
        self.events.clear()
        self.send("Page.navigate", {"url": url}, session=True)
        self.wait(lambda m: m.get("method") == "Page.loadEventFired")
        return list(self.events)

    def js(self, expression: str):
        result = self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=True
        )
        assert "exceptionDetails" not in result, result
        return result["result"]["value"]

    def close(self) -> None:
        try:
            os.write(self.w, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            self.proc.wait(10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            os.close(self.w)
            os.close(self.r)


@pytest.fixture(scope="module")
def browser():
    with tempfile.TemporaryDirectory() as profile:
        chromium = Chromium(profile)
        try:
            yield chromium
        finally:
            chromium.close()


def problems(events: list[dict]) -> list[str]:
    """Console messages of any level, uncaught exceptions and log entries at warning or worse."""
    out = []
    for e in events:
        p = e["params"]
        if e["method"] == "Runtime.consoleAPICalled":
            out.append(f"console.{p['type']}: {p['args']}")
        elif e["method"] == "Runtime.exceptionThrown":
            out.append(f"exception: {p['exceptionDetails']}")
        elif e["method"] == "Log.entryAdded" and p["entry"]["level"] in ("warning", "error"):
            out.append(f"log: {p['entry']['text']}")
    return out


def requests(events: list[dict]) -> list[str]:
    return [
        e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"
    ]


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
