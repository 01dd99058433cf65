"""The report in a real browser (headless Chromium over its DevTools pipe): screenshots at 1400 px
and 390 px, nothing wider than the viewport, the four answers on the first screen, print to PDF.

The page checked is the real reference run (reports/reference/results.json, converted to
schema 2 with region maps, scaling, stress and overrides added), so the widest real evidence
(P4's region map and positive-pair tables) is on it. Skipped, with the reason, where
/usr/bin/chromium is missing (``apt-get install -y chromium``; .ci/run installs it).
Set PURECHECK_SCREENSHOTS=DIR to keep the screenshots.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from purecheck.report import render_report
from purecheck.report.answers import ANSWERS
from purecheck.report.browser import CHROMIUM, measure_layout, screenshot
from purecheck.report.command import main
from purecheck.report.pdf import page_count

sys.path.insert(0, str(Path(__file__).parent))
from test_report_fixtures import to_schema2  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reports" / "reference" / "results.json"
SAMPLE = ROOT / "tests" / "data" / "results_sample.json"
SCRIPT = ROOT / "scripts" / "screenshot_report.py"
FIRST_SCREEN = (1400, 900)
PHONE = (390, 844)

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium not installed at /usr/bin/chromium "
                                                              "(apt-get install -y chromium); browser checks skipped")


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "report"
    render_report(to_schema2(json.loads(REFERENCE.read_text())), out)
    return out / "index.html"


def _keep(png: Path) -> None:
    keep = os.environ.get("PURECHECK_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(png, Path(keep) / png.name)


def _pixels(png: Path) -> np.ndarray:
    return (matplotlib.image.imread(str(png))[..., :3] * 255).round().astype(int)


def _count(img: np.ndarray, rgb: tuple[int, int, int], tol: int = 3) -> int:
    return int((np.abs(img - np.array(rgb)).max(axis=-1) <= tol).sum())


def test_nothing_is_wider_than_the_viewport_at_1400(page):
    layout = measure_layout(page, window_size=FIRST_SCREEN)  # every <details> opened: the appendix too
    assert layout["viewport_width"] == 1400
    assert layout["wide_count"] == 0, f"elements wider than the page: {layout['wide'][:5]}"
    assert layout["scroll_width"] == 1400, "the page scrolls horizontally"


def test_the_first_screen_shows_the_four_answers_and_a_figure(page):
    layout = measure_layout(page, window_size=FIRST_SCREEN, open_details=False)
    cards = {a["id"]: a for a in layout["answers"]}
    assert [c for c in cards if c.startswith("C")] == ["C1", "C2", "C3", "C4"]
    for cid in ("C1", "C2", "C3", "C4"):
        assert cards[cid]["answer"] in ANSWERS
        assert 0 <= cards[cid]["top"] and cards[cid]["bottom"] <= FIRST_SCREEN[1], f"{cid} below the first screen"
    assert len({cards[c]["top"] for c in ("C1", "C2", "C3", "C4")}) == 1, "the four answers side by side"
    assert layout["first_paper_figure"]["top"] < FIRST_SCREEN[1] - 100, "the first claim's figure starts on screen"


def test_screenshots_at_1400_and_390(page, tmp_path):
    wide = screenshot(page, tmp_path / "report_1400.png", window_size=FIRST_SCREEN)
    phone = screenshot(page, tmp_path / "report_390.png", window_size=PHONE)
    _keep(wide)
    _keep(phone)
    img = _pixels(wide)
    assert img.shape[:2] == (900, 1400)
    # The answer words (white on their colour) and the card top borders are on screen ...
    region, fails = (0x0a, 0x5c, 0x8a), (0xcf, 0x22, 0x2e)
    assert _count(img, region) > 3000, "'holds in a region' answers not visible"
    assert _count(img, fails) > 500, "the failing claim (C4) not visible"
    # ... and so is the first claim's figure (P3's region map: its green and red cells).
    assert _count(img, (0, 104, 55), tol=8) > 5000, "the region-map figure is not on the first screen"
    small = _pixels(phone)
    assert small.shape[:2] == (844, 390)
    layout = measure_layout(page, window_size=PHONE)
    assert layout["viewport_width"] == 390 and layout["wide_count"] == 0 and layout["scroll_width"] == 390
    cards = [a for a in layout["answers"] if a["id"].startswith("C")]
    assert all(a["right"] <= 390 for a in cards) and len({a["top"] for a in cards}) == 4, "stacked on a phone"


def test_the_overflow_check_can_fail(tmp_path):
    html = tmp_path / "wide.html"
    html.write_text('<!DOCTYPE html><body><div id="answers"></div><table id="t"><tr><td><div style="width:2000px">x'
                    '</div></td></tr></table><div style="overflow-x:auto"><div style="width:3000px">ok: scrolls in its box'
                    '</div></div></body>')
    layout = measure_layout(html, window_size=FIRST_SCREEN)
    ids = {w["id"] for w in layout["wide"]}
    assert "t" in ids and layout["scroll_width"] > 1400
    # table, tbody, tr, td and the div; not the 3000 px div that scrolls inside its own box
    assert layout["wide_count"] == 5 and [w["tag"] for w in layout["wide"]] == ["table", "tbody", "tr", "td", "div"]


def test_screenshot_script(page, tmp_path):
    png = tmp_path / "shot.png"
    proc = subprocess.run([sys.executable, str(SCRIPT), str(page), "--out", str(png), "--check-layout"],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["wide_count"] == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    missing = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "nope.html"), "--out", str(png)],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and missing.stderr.startswith("screenshot_report: error: HTML file not found")


def test_pdf_has_more_than_one_page(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["--results", str(SAMPLE), "--out", str(out), "--pdf"]) == 0
    assert "report.pdf" in capsys.readouterr().out
    data = (out / "report.pdf").read_bytes()
    assert data.startswith(b"%PDF-")
    # One page for the answers, one per paper claim, proposition, ...: page breaks between sections.
    assert page_count(data) >= 8, page_count(data)
    assert sorted(p.name for p in out.iterdir()) == ["figures", "index.html", "report.md", "report.pdf"]
