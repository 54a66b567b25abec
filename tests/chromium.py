"""Headless Chromium driven over the DevTools protocol, with the standard library only.

Chromium is started with ``--remote-debugging-pipe``: it reads NUL-terminated JSON commands on
file descriptor 3 and writes replies and events on descriptor 4. :func:`render` opens one page,
waits until it has loaded and every plotly chart has drawn, and returns what a test needs: the
console errors and uncaught exceptions, every network request, the page's visible text, the
value of a few JavaScript expressions, and a PNG screenshot. :func:`png_pixels` decodes the
screenshot (zlib and numpy, no imaging library) to check it is not blank.

``chromium_path()`` finds Debian's ``chromium`` (or ``HWBOPT_CHROMIUM``); a test that needs it
skips with the reason when it is missing, unless ``HWBOPT_REQUIRE_CHROMIUM=1`` (set by
``.ci/run``), which turns the skip into a failure.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import struct
import subprocess
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio")


def chromium_path() -> str | None:
    given = os.environ.get("HWBOPT_CHROMIUM")
    if given:
        return shutil.which(given)
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_required() -> bool:
    return os.environ.get("HWBOPT_REQUIRE_CHROMIUM", "") not in ("", "0")


@dataclass
class Page:
    errors: list[str] = field(default_factory=list)  # console errors and uncaught exceptions
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    text: str = ""  # document.body.innerText
    values: dict[str, Any] = field(default_factory=dict)  # the expressions asked for
    png: bytes = b""
    dialogs: list[str] = field(default_factory=list)  # alert/confirm/prompt opened


class _Pipe:
    """The DevTools protocol over Chromium's pipe: send a command, wait for its reply."""

    def __init__(self, read_fd: int, write_fd: int, proc: subprocess.Popen[bytes]):
        self.read_fd, self.write_fd, self.proc = read_fd, write_fd, proc
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None, timeout: float = 30.0) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.write_fd, json.dumps(message).encode() + b"\0")
        wanted = self.next_id
        reply = self.wait(lambda m: m.get("id") == wanted, timeout)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def wait(self, predicate, timeout: float) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while True:
            while b"\0" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "method" in message:
                    self.events.append(message)
                if predicate(message):
                    return message
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self.read_fd], [], [], left)
            if ready:
                chunk = os.read(self.read_fd, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe (it exited: "
                                       f"code {self.proc.poll()})")
                self.buffer += chunk


def _start(binary: str, profile: str) -> _Pipe:
    to_chrome_r, to_chrome_w = os.pipe()
    from_chrome_r, from_chrome_w = os.pipe()

    def child() -> None:
        # descriptors 3 and 4, inheritable (dup2 to a new number clears close-on-exec)
        a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
        os.dup2(a, 3)
        os.dup2(b, 4)

    proc = subprocess.Popen(
        [binary, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe",
         "about:blank"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=child, close_fds=False)
    os.close(to_chrome_r)
    os.close(from_chrome_w)
    return _Pipe(from_chrome_r, to_chrome_w, proc)


def render(path: Path, *, expressions: dict[str, str] | None = None, width: int = 1200,
           height: int = 1600, settle: float = 0.5, timeout: float = 60.0) -> Page:
    """Open ``path`` in headless Chromium and report what happened (see :class:`Page`)."""
    binary = chromium_path()
    if binary is None:
        raise RuntimeError("Chromium is not installed")
    profile = tempfile.mkdtemp(prefix="hwbopt-chromium-")
    pipe = _start(binary, profile)
    page = Page()
    try:
        target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = pipe.send("Target.attachToTarget",
                            {"targetId": target, "flatten": True})["sessionId"]
        for method in ("Runtime.enable", "Log.enable", "Page.enable", "Network.enable"):
            pipe.send(method, session=session)
        pipe.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                  session=session)
        pipe.send("Page.navigate", {"url": path.resolve().as_uri()}, session=session)
        pipe.wait(lambda m: m.get("method") == "Page.loadEventFired"
                  and m.get("sessionId") == session, timeout)
        # plotly draws after load: wait until every chart div holds its SVG
        end = time.monotonic() + timeout
        drawn = ("Array.from(document.querySelectorAll('.plotly-graph-div'))"
                 ".every(d => d.querySelector('svg.main-svg'))")
        while not _evaluate(pipe, session, drawn):
            if time.monotonic() > end:
                raise TimeoutError("the charts did not draw")
            time.sleep(0.1)
        time.sleep(settle)
        page.text = _evaluate(pipe, session, "document.body.innerText") or ""
        page.values = {k: _evaluate(pipe, session, e) for k, e in (expressions or {}).items()}
        page.png = base64.b64decode(pipe.send("Page.captureScreenshot", {"format": "png"},
                                              session=session)["data"])
        _collect(pipe.events, page)
        with contextlib.suppress(RuntimeError, TimeoutError):
            pipe.send("Browser.close", timeout=5)
    finally:
        for fd in (pipe.read_fd, pipe.write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        try:
            pipe.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pipe.proc.kill()
            pipe.proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
    return page


def _evaluate(pipe: _Pipe, session: str, expression: str) -> Any:
    result = pipe.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                       session=session)
    if "exceptionDetails" in result:
        raise RuntimeError(f"{expression}: {result['exceptionDetails'].get('text')}")
    return result.get("result", {}).get("value")


def _collect(events: list[dict[str, Any]], page: Page) -> None:
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            exc = details.get("exception", {}).get("description", "")
            page.errors.append(f"uncaught: {details.get('text', '')} {exc}".strip())
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", "")))
                            for a in params.get("args", []))
            page.errors.append(f"console.{params['type']}: {args}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            page.errors.append(f"log: {entry.get('text', '')} {entry.get('url', '')}".strip())
        elif method == "Network.requestWillBeSent":
            page.requests.append(params.get("request", {}).get("url", ""))
        elif method == "Page.javascriptDialogOpening":
            page.dialogs.append(params.get("message", ""))


def png_pixels(png: bytes) -> np.ndarray:
    """An 8-bit RGB(A) PNG, non-interlaced, as an array of shape (height, width, channels)."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat = 8, b""
    width = height = channels = 0
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        data = png[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", data)
            if depth != 8 or interlace or color not in (2, 6):
                raise ValueError("only 8-bit RGB or RGBA non-interlaced PNGs are decoded")
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += data
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8)
    stride = width * channels
    rows = raw.reshape(height, stride + 1)
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        kind, line = rows[y, 0], rows[y, 1:].astype(np.int32)
        if kind == 0:
            cur = line
        elif kind == 1:  # Sub: add the byte one pixel to the left; a running sum per channel
            cur = np.cumsum(line.reshape(width, channels), axis=0).reshape(-1) % 256
        elif kind == 2:  # Up
            cur = (line + prev) % 256
        else:  # Average or Paeth: each byte depends on the one just decoded
            cur = np.zeros(stride, dtype=np.int32)
            for x in range(stride):
                left = cur[x - channels] if x >= channels else 0
                up = prev[x]
                if kind == 3:
                    cur[x] = (line[x] + (left + up) // 2) % 256
                else:
                    upleft = prev[x - channels] if x >= channels else 0
                    p = left + up - upleft
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - upleft)
                    pred = left if pa <= pb and pa <= pc else (up if pb <= pc else upleft)
                    cur[x] = (line[x] + pred) % 256
        out[y] = cur
        prev = cur
    return out.reshape(height, width, channels)
