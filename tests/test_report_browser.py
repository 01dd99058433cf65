"""The report in a real browser (headless Chromium over its DevTools pipe): screenshots at 1400 px
and 390 px, nothing wider than the viewport, the four answers on the first screen, print to PDF.

The page checked is the real reference run (reports/reference/results.json, written by the
schema-2 writer), so the widest real evidence (P3's and P4's region maps, the positive-pair
tables, the scaling tables) is on it. Skipped, with the reason, where
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
from purecheck.report.answers import ANSWERS, paper_answers
from purecheck.report.browser import CHROMIUM, measure_layout, screenshot
from purecheck.report.command import main
from purecheck.report.pdf import page_count
from purecheck.report.schema import validate_results

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
    data = json.loads(REFERENCE.read_text())
    assert data["schema"] == 2, "reports/reference/results.json is not a schema-2 file: regenerate it"
    render_report(data, out)
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


# The badge colours of the four answers (index.html.j2: .word.holds, .word.region, ...).
ANSWER_RGB = {"holds": (0x1a, 0x7f, 0x37), "holds in a region": (0x0a, 0x5c, 0x8a),
              "fails": (0xcf, 0x22, 0x2e), "inconclusive": (0xd4, 0xa7, 0x2c)}


def test_screenshots_at_1400_and_390(page, tmp_path):
    wide = screenshot(page, tmp_path / "report_1400.png", window_size=FIRST_SCREEN)
    phone = screenshot(page, tmp_path / "report_390.png", window_size=PHONE)
    _keep(wide)
    _keep(phone)
    img = _pixels(wide)
    assert img.shape[:2] == (900, 1400)
    # Every answer the run gives is visible in its colour (badge and card border); the expected
    # answers come from the same data the page was rendered from, never retyped.
    answers = {a.answer for a in paper_answers(validate_results(json.loads(REFERENCE.read_text())))}
    for answer in answers:
        assert _count(img, ANSWER_RGB[answer]) > 500, f"the {answer!r} answers are not visible"
    for answer in set(ANSWER_RGB) - answers:  # ... and no colour of an answer the run does not give
        assert _count(img, ANSWER_RGB[answer]) < 50, f"{answer!r} shown but no claim has it"
    # The first claim's figure has started to paint on the first screen (not a broken image): dark
    # pixels inside the image's own box, so the text beside it does not count.
    fig = measure_layout(page, window_size=FIRST_SCREEN, open_details=False)["first_paper_figure"]
    assert fig["top"] < FIRST_SCREEN[1] - 20 and fig["right"] - fig["left"] > 200
    visible = img[fig["top"] + 5:FIRST_SCREEN[1], fig["left"] + 2:fig["right"] - 2]
    assert (visible.min(axis=-1) < 200).sum() > 500, "the first claim's figure is blank on the first screen"
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
