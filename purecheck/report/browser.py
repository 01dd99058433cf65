"""Headless Chromium driven over its DevTools pipe: screenshots, layout checks and print to PDF.

One small client for the browser checks of the report (``scripts/screenshot_report.py``,
the test suite) and ``purecheck report --pdf``. Chromium is started with
``--remote-debugging-pipe`` and spoken to in the DevTools protocol (JSON messages ended by a
NUL byte on file descriptors 3 and 4), so nothing listens on a port and no script is ever
added to the report: the measuring code runs through ``Runtime.evaluate`` in the loaded page.
The viewport is set with ``Emulation.setDeviceMetricsOverride``, which (unlike
``--window-size``, floored at 500 px by headless Chromium) gives true 390 px phone widths.

Uses Debian's Chromium at ``/usr/bin/chromium`` (``apt-get install -y chromium``).
"""
from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio", "--remote-debugging-pipe")


class BrowserError(RuntimeError):
    """Chromium is missing, exited, timed out, or a DevTools command failed."""


# Runs in the page (via Runtime.evaluate): every rendered element whose box leaves the
# viewport horizontally, unless it sits inside a box that scrolls (or clips) within the
# viewport; and where the paper-claim answer cards are. OPEN_DETAILS opens every
# <details> first so that the collapsed appendix is measured too.
LAYOUT_JS = r"""
(() => {
  if (%(open_details)s) for (const d of document.querySelectorAll('details')) d.open = true;
  const vw = document.documentElement.clientWidth, vh = window.innerHeight, tol = 0.5;
  const clipBox = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const ox = getComputedStyle(p).overflowX;
      if (ox === 'auto' || ox === 'scroll' || ox === 'hidden' || ox === 'clip') return p;
    }
    return null;
  };
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right <= vw + tol && r.left >= -tol) continue;
    const box = clipBox(el);
    if (box) { const b = box.getBoundingClientRect(); if (b.right <= vw + tol && b.left >= -tol) continue; }
    const sec = el.closest('section, details');
    wide.push({tag: el.tagName.toLowerCase(), id: el.id || '', cls: String(el.className || ''),
               left: Math.round(r.left), right: Math.round(r.right), within: sec ? sec.id : ''});
  }
  const answers = [...document.querySelectorAll('#answers .answer')].map(a => {
    const r = a.getBoundingClientRect(), w = a.querySelector('.word');
    return {id: (a.querySelector('.cid') || a).textContent.trim(), answer: w ? w.textContent.trim() : '',
            top: Math.round(r.top), bottom: Math.round(r.bottom), left: Math.round(r.left), right: Math.round(r.right)};
  });
  const img = document.querySelector('section.paper figure img');
  const fig = img ? img.getBoundingClientRect() : null;
  return {viewport_width: vw, viewport_height: vh, scroll_width: document.documentElement.scrollWidth,
          wide_count: wide.length, wide: wide.slice(0, 25), answers: answers,
          first_paper_figure: fig ? {top: Math.round(fig.top), bottom: Math.round(fig.bottom),
                                left: Math.round(fig.left), right: Math.round(fig.right)} : null};
})()
"""


class Browser:
    """A headless Chromium with one page; use as a context manager."""

    def __init__(self, chromium: Path | str = CHROMIUM, *, timeout_s: float = 120.0) -> None:
        self.chromium = Path(chromium)
        self.timeout_s = timeout_s
        self._next_id = 0
        self._buf = bytearray()
        self._events: list[dict] = []
        self._proc: subprocess.Popen | None = None
        self._profile: str | None = None
        self._session: str | None = None

    # -- process and pipe

    def __enter__(self) -> "Browser":
        if not self.chromium.exists():
            raise BrowserError(f"Chromium not found at {self.chromium} (apt-get install -y chromium)")
        self._profile = tempfile.mkdtemp(prefix="purecheck-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def fds() -> None:  # in the child: the pipe ends on fds 3 (commands in) and 4 (replies out)
            a, b = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(a, 3)
            os.dup2(b, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        try:
            self._proc = subprocess.Popen(
                [str(self.chromium), *FLAGS, f"--user-data-dir={self._profile}", "about:blank"],
                preexec_fn=fds, close_fds=False, cwd=self._profile, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError as exc:
            self._cleanup()
            raise BrowserError(f"cannot start {self.chromium}: {exc}") from None
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        try:
            target = self.call("Target.createTarget", {"url": "about:blank"}, browser=True)["targetId"]
            self._session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True},
                                      browser=True)["sessionId"]
            self.call("Page.enable")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            if self._proc is not None and self._proc.poll() is None:
                try:
                    self._send("Browser.close", {}, browser=True)
                    self._proc.wait(timeout=10)
                except (OSError, subprocess.TimeoutExpired):
                    self._proc.kill()
                    self._proc.wait(timeout=10)
        finally:
            self._cleanup()

    def _cleanup(self) -> None:
        for fd in ("_to_child", "_from_child"):
            if hasattr(self, fd):
                try:
                    os.close(getattr(self, fd))
                except OSError:
                    pass
                delattr(self, fd)
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    def _send(self, method: str, params: dict, *, browser: bool = False) -> int:
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if not browser and self._session:
            msg["sessionId"] = self._session
        data = json.dumps(msg).encode() + b"\0"
        view = memoryview(data)
        while view:
            n = os.write(self._to_child, view)
            view = view[n:]
        return self._next_id

    def _receive(self, deadline: float) -> dict:
        while (end := self._buf.find(b"\0")) < 0:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"Chromium did not answer within {self.timeout_s:g} s")
            ready, _, _ = select.select([self._from_child], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise BrowserError(f"Chromium exited (status {self._proc.poll() if self._proc else None})")
            self._buf += chunk
        msg = json.loads(bytes(self._buf[:end]))
        del self._buf[:end + 1]
        return msg

    def call(self, method: str, params: dict | None = None, *, browser: bool = False) -> dict:
        """Send one DevTools command and return its result (events met on the way are kept)."""
        i = self._send(method, params or {}, browser=browser)
        deadline = time.monotonic() + self.timeout_s
        while True:
            msg = self._receive(deadline)
            if msg.get("id") == i:
                if "error" in msg:
                    raise BrowserError(f"{method}: {msg['error'].get('message', msg['error'])}")
                return msg.get("result", {})
            if "method" in msg:
                self._events.append(msg)

    def wait_event(self, name: str) -> dict:
        for k, e in enumerate(self._events):
            if e.get("method") == name:
                return self._events.pop(k)
        deadline = time.monotonic() + self.timeout_s
        while True:
            msg = self._receive(deadline)
            if msg.get("method") == name:
                return msg
            if "method" in msg:
                self._events.append(msg)

    # -- page

    def open(self, path: Path | str, *, width: int, height: int) -> None:
        """Load a local file in a ``width`` x ``height`` CSS-pixel viewport and wait for its load event."""
        url = Path(path).resolve().as_uri()
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": int(width), "height": int(height), "deviceScaleFactor": 1, "mobile": False})
        self._events = [e for e in self._events if e.get("method") != "Page.loadEventFired"]
        result = self.call("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise BrowserError(f"cannot open {url}: {result['errorText']}")
        self.wait_event("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"page script failed: {result['exceptionDetails'].get('text', '')}")
        return result["result"].get("value")

    def screenshot(self, *, full_page: bool = False) -> bytes:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            size = self.call("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        return base64.b64decode(self.call("Page.captureScreenshot", params)["data"])

    def pdf(self) -> bytes:
        """The page printed to PDF (its print CSS and ``@page`` size; backgrounds kept)."""
        result = self.call("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True,
                                               "displayHeaderFooter": False})
        return base64.b64decode(result["data"])


def screenshot(html: Path | str, png: Path | str, *, window_size: tuple[int, int] = (1400, 900),
               full_page: bool = False, chromium: Path | str = CHROMIUM) -> Path:
    """Render ``html`` at ``window_size`` CSS pixels and write a PNG screenshot (written whole or not at all)."""
    html, png = Path(html), Path(png)
    if not html.is_file():
        raise FileNotFoundError(f"HTML file not found: {html}")
    with Browser(chromium) as b:
        b.open(html, width=window_size[0], height=window_size[1])
        data = b.screenshot(full_page=full_page)
    _write_atomic(png, data)
    return png


def measure_layout(html: Path | str, *, window_size: tuple[int, int] = (1400, 900), open_details: bool = True,
                   chromium: Path | str = CHROMIUM) -> dict:
    """Horizontal overflow and the answer cards' positions of ``html`` at ``window_size`` (see LAYOUT_JS)."""
    html = Path(html)
    if not html.is_file():
        raise FileNotFoundError(f"HTML file not found: {html}")
    with Browser(chromium) as b:
        b.open(html, width=window_size[0], height=window_size[1])
        return b.evaluate(LAYOUT_JS % {"open_details": "true" if open_details else "false"})


def print_pdf(html: Path | str, pdf: Path | str, *, chromium: Path | str = CHROMIUM) -> Path:
    html, pdf = Path(html), Path(pdf)
    with Browser(chromium) as b:
        b.open(html, width=1400, height=900)
        data = b.pdf()
    _write_atomic(pdf, data)
    return pdf


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` (usual permissions), then rename it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
