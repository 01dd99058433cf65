#!/usr/bin/env python3
"""Open a rendered report's index.html in headless Chromium: save a screenshot, check the layout.

A check in a real browser that the self-contained HTML shows what it should (the four
paper-claim answers on the first screen, figures) and that nothing is wider than the
viewport. Uses Debian's Chromium (``apt-get install -y chromium`` if it is missing), driven
over its DevTools pipe (:mod:`purecheck.report.browser`): the viewport is set exactly (also
390 px, below headless Chromium's 500 px window floor) and the measuring code runs in the
loaded page through the DevTools protocol; nothing is added to the report.

    python scripts/screenshot_report.py reports/latest/index.html --out /tmp/report.png
    python scripts/screenshot_report.py reports/latest/index.html --window-size 390,844 --out phone.png
    python scripts/screenshot_report.py reports/latest/index.html --check-layout    # JSON on stdout

``--check-layout`` opens every collapsed <details> and lists each element whose box leaves
the viewport horizontally (unless it sits in a box that scrolls within the viewport), and
where the answer cards are; exit 1 when something overflows.

Exit status: 0 with the PNG written (and the layout fine); 1 when --check-layout finds an
overflow; 2 if Chromium or the HTML file is missing, or Chromium fails.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from purecheck.report.browser import CHROMIUM, BrowserError, measure_layout, screenshot  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("html", type=Path, help="the report's index.html")
    p.add_argument("--out", type=Path, default=None, help="PNG to write (default: report_screenshot.png "
                                                          "unless --check-layout alone)")
    p.add_argument("--window-size", default="1400,900", help="WIDTH,HEIGHT in CSS pixels (default 1400,900)")
    p.add_argument("--full-page", action="store_true", help="capture the whole page, not just the first screen")
    p.add_argument("--check-layout", action="store_true", help="print the layout measurement as JSON; "
                                                               "exit 1 when an element overflows")
    p.add_argument("--chromium", type=Path, default=CHROMIUM, help=f"browser binary (default {CHROMIUM})")
    args = p.parse_args(argv)
    out = args.out if args.out is not None or args.check_layout else Path("report_screenshot.png")
    try:
        width, height = (int(v) for v in args.window_size.split(","))
        if out is not None:
            screenshot(args.html, out, window_size=(width, height), full_page=args.full_page, chromium=args.chromium)
            print(f"screenshot_report: wrote {out}", file=sys.stderr if args.check_layout else sys.stdout)
        if args.check_layout:
            layout = measure_layout(args.html, window_size=(width, height), chromium=args.chromium)
            print(json.dumps(layout, indent=1))
            return 1 if layout["wide_count"] or layout["scroll_width"] > layout["viewport_width"] else 0
    except (ValueError, OSError, BrowserError) as exc:
        print(f"screenshot_report: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
