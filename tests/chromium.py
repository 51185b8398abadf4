"""A headless Chromium (Debian's ``chromium``) driven over its DevTools pipe, for the browser tests.

``--remote-debugging-pipe``: JSON messages separated by NUL bytes on file descriptors 3 (we write)
and 4 (Chromium writes), so no extra package is needed. Screenshots come back as PNG, decoded here
with the standard library (``zlib`` and the five PNG row filters) so that tests check pixels.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import struct
import subprocess
import tempfile
import time
import zlib

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
        assert exe, (
            "chromium is not installed: `make test` installs it "
            "(`bash scripts/install-system-deps.sh test`)"
        )
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


def session():
    """A browser for a module's tests: ``browser = pytest.fixture(scope="module")(session)``."""
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


def viewport(browser: Chromium, width: int, height: int = 900) -> None:
    """Lay the page out at ``width`` × ``height`` CSS pixels (a desktop's 1,200, a phone's 400)."""
    browser.send(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        session=True,
    )


def screenshot(browser: Chromium, clip: dict | None = None) -> tuple[int, int, list[bytes]]:
    """A PNG screenshot of the page (or of ``clip``: x, y, width, height in CSS pixels) as
    ``(width, height, rows)``, each row ``width`` RGB pixels."""
    params: dict = {"format": "png", "captureBeyondViewport": clip is not None}
    if clip is not None:
        params["clip"] = {**clip, "scale": 1}
    data = base64.b64decode(browser.send("Page.captureScreenshot", params, session=True)["data"])
    return decode_png(data)


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """8-bit RGB or RGBA PNG (what Chromium writes) to RGB rows."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 255
        prev = line
        rgb = line if bpp == 3 else bytes(b for k, b in enumerate(line) if k % 4 != 3)
        rows.append(bytes(rgb))
    return width, height, rows
