#!/usr/bin/env python3
"""Open a rendered report's index.html in headless Chromium and save a PNG screenshot.

A visual check that the self-contained HTML shows (summary table, figures) in a real
browser. Uses Debian's Chromium (``apt-get install -y chromium`` if it is missing).

    python scripts/screenshot_report.py reports/latest/index.html --out /tmp/report.png

Exit status: 0 with the PNG written; 2 if Chromium or the HTML file is missing, or
Chromium fails or writes no PNG.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars")


def screenshot(html: Path, png: Path, *, chromium: Path = CHROMIUM,
               window_size: tuple[int, int] = (1400, 2000), timeout_s: float = 120.0) -> Path:
    """Render ``html`` with headless Chromium into ``png`` (``window_size`` pixels); return ``png``."""
    html, png = Path(html).resolve(), Path(png).resolve()
    if not chromium.exists():
        raise FileNotFoundError(f"Chromium not found at {chromium} (apt-get install -y chromium)")
    if not html.is_file():
        raise FileNotFoundError(f"HTML file not found: {html}")
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)  # so a stale PNG cannot pass for a fresh one
    with tempfile.TemporaryDirectory(prefix="purecheck-chromium-") as profile:
        cmd = [str(chromium), *FLAGS, f"--user-data-dir={profile}", f"--screenshot={png}",
               f"--window-size={window_size[0]},{window_size[1]}", html.as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, cwd=profile)
    if not png.is_file():
        tail = " ".join((proc.stderr or "").strip().splitlines()[-3:])
        raise RuntimeError(f"Chromium exited {proc.returncode} without writing {png}: {tail}")
    return png


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("html", type=Path, help="the report's index.html")
    p.add_argument("--out", type=Path, default=Path("report_screenshot.png"), help="PNG to write")
    p.add_argument("--window-size", default="1400,2000", help="WIDTH,HEIGHT in pixels (default 1400,2000)")
    p.add_argument("--chromium", type=Path, default=CHROMIUM, help=f"browser binary (default {CHROMIUM})")
    args = p.parse_args(argv)
    try:
        width, height = (int(v) for v in args.window_size.split(","))
        out = screenshot(args.html, args.out, chromium=args.chromium, window_size=(width, height))
    except (ValueError, OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"screenshot_report: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    print(f"screenshot_report: wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
