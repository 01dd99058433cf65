"""Tests of the reviewer report (purecheck.report): content, figures, determinism, bad input."""
from __future__ import annotations

import base64
import bisect
import copy
import json
import re
import struct
import subprocess
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pytest

from purecheck.report import ReportInputError, render_report, validate_results
from purecheck.report.command import main
from purecheck.report.figures import build_figure, histogram_edges
from purecheck.report.format import evidence_tree, fmt_interval, fmt_number, md_escape, records

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "data" / "results_sample.json"
PNG_SIG = b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------- helpers

@pytest.fixture(scope="module")
def sample() -> dict:
    return json.loads(SAMPLE.read_text())


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "out"
    render_report(SAMPLE, out)
    return out


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under root: relative path -> (bytes, mtime_ns)."""
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == PNG_SIG, "not a PNG"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(kind + body)
        chunks.append((kind, body))
        pos += 12 + length
    return chunks


def _png_size(data: bytes) -> tuple[int, int]:
    kind, body = _png_chunks(data)[0]
    assert kind == b"IHDR"
    return struct.unpack(">II", body[:8])


class _Tables(HTMLParser):
    """Collects every <table> (by class) as rows of (tr attrs, [cell text])."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[str, list[tuple[dict, list[str]]]]] = []
        self.stack: list[list] = []
        self.imgs: list[dict] = []
        self.tags: set[str] = set()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]
        if tag == "img":
            self.imgs.append(a)
        elif tag == "table":
            self.stack.append([a.get("class", ""), []])
        elif tag == "tr" and self.stack:
            self.stack[-1][1].append((a, []))
        elif tag in ("td", "th") and self.stack and self.stack[-1][1]:
            self.stack[-1][1][-1][1].append("")

    def handle_endtag(self, tag):
        if tag == "table" and self.stack:
            cls, rows = self.stack.pop()
            self.tables.append((cls, rows))

    def handle_data(self, data):
        if self.stack and self.stack[-1][1] and self.stack[-1][1][-1][1]:
            self.stack[-1][1][-1][1][-1] += data


def _parse_html(text: str) -> _Tables:
    p = _Tables()
    p.feed(text)
    return p


def _table(p: _Tables, cls: str) -> list[tuple[dict, list[str]]]:
    found = [rows for c, rows in p.tables if cls in c.split()]
    assert found, f"no table of class {cls}"
    return [(attrs, [" ".join(c.split()) for c in cells]) for attrs, cells in found[0]]


def _md_cells(line: str) -> list[str]:
    """Cells of a Markdown table row (pipes escaped as \\| stay inside a cell)."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def _md_section(md: str, claim_id: str) -> str:
    start = md.index(f'<a id="claim-{claim_id}"></a>')
    nxt = md.find('<a id="claim-', start + 1)
    return md[start:nxt if nxt > 0 else md.index("## Appendix")]


def _html_section(html: str, claim_id: str) -> str:
    start = html.index(f'<section class="claim" id="claim-{claim_id}"')
    return html[start:html.index("</section>", start)]


def _html_appendix(html: str, claim_id: str) -> str:
    start = html.index(f'<details id="evidence-claim-{claim_id}"')
    return html[start:html.index("</details>", start)]


def _md_appendix(md: str, claim_id: str) -> str:
    start = md.index(f'<a id="evidence-claim-{claim_id}"></a>')
    return md[start:md.index("</details>", start)]


# --------------------------------------------------------------------------- formatting

def test_number_and_interval_formats_are_exact():
    assert fmt_number(1 / 3) == "0.333333"
    assert fmt_number(4096.0) == "4096" and fmt_number(7) == "7"
    assert (fmt_number(True), fmt_number(None), fmt_number(float("nan"))) == ("true", "null", "nan")
    mc = {"value": 0.0312, "lower": 0.0281, "upper": 0.0345, "method": "mc", "level": 0.99, "n": 20000}
    assert fmt_interval(mc) == "0.0312 [0.0281, 0.0345] (mc, 99%, n=20000)"
    assert fmt_interval({"value": 0.25, "lower": 0.25, "upper": 0.25, "method": "exact"}) == "0.25 (exact)"
    # A degenerate interval from a non-exact method is shown as an interval (it is information).
    assert fmt_interval({"value": 0.4, "lower": 0.4, "upper": 0.4, "method": "optimisation"}) == \
        "0.4 [0.4, 0.4] (optimisation)"
    assert fmt_interval({"value": 0.5, "lower": None, "upper": 0.7, "method": "bound"}) == "0.5 [?, 0.7] (bound)"


def test_evidence_tree_shapes():
    tree = evidence_tree({"a": 1, "rows": [{"d": 4, "r": {"value": 1.0, "lower": 0.9, "upper": 1.1, "method": "mc"}},
                                           {"d": 8, "extra": True}],
                          "xs": list(range(40))})
    keys = [k for k, _ in tree.items]
    assert keys == ["a", "rows", "xs"]
    rows = tree.items[1][1]
    assert rows.tag == "records" and rows.columns == ["d", "r", "extra"]
    assert rows.rows == [["4", "1 [0.9, 1.1] (mc)", ""], ["8", "", "true"]]
    xs = tree.items[2][1]
    assert xs.tag == "sequence" and xs.inline and len(xs.items) == 30 and xs.total == 40
    assert records([{"a": 1}] * 5, max_rows=2).total == 5 and len(records([{"a": 1}] * 5, max_rows=2).rows) == 2


def test_figure_file_names_are_safe():
    from purecheck.report.schema import figure_filename
    assert figure_filename("p2_robust-error.v2") == "p2_robust-error.v2.png"
    assert figure_filename("../a/b c") == "_a_b_c.png" and figure_filename("é") == "_.png"


def test_markdown_escaping():
    assert md_escape("eps*||w||_2 <= b\nnext") == "eps\\*\\|\\|w\\|\\|\\_2 \\<= b next"


# --------------------------------------------------------------------------- content

def test_every_claim_has_a_section_with_its_verdict(rendered, sample):
    md = (rendered / "report.md").read_text()
    html = (rendered / "index.html").read_text()
    for claim in sample["claims"]:
        cid, verdict, expected = claim["id"], claim["verdict"], claim["expected"]
        sec = _html_section(html, cid)
        assert f'<h3>{cid}: ' in sec and f'<span class="badge {verdict}">{verdict}</span>' in sec
        row = re.search(r'<p class="matchrow (yes|no)">(.*?)</p>', sec, re.S)
        assert row and f"Verdict <b>{verdict}</b>; registered expectation {expected}" in row.group(2)
        assert row.group(1) == ("yes" if verdict == expected else "no"), f"{cid}: a mismatch must be flagged"
        assert ("MISMATCH" in row.group(2)) == (verdict != expected)
        msec = _md_section(md, cid)
        assert f"### {md_escape(cid)}: " in msec and f"**{verdict}** · scope " in msec


def test_expectations_are_one_line_not_a_headline(rendered, sample):
    md = (rendered / "report.md").read_text()
    html = (rendered / "index.html").read_text()
    bad = [c["id"] for c in sample["claims"] if c["verdict"] != c["expected"]]
    assert bad == ["P3"]
    line = ("Registered expectations: 3 of 4 verdicts and 6 of 7 controls as registered; differ: "
            "[P3](#claim-P3) (inconclusive, registered pass), [P3](#claim-P3) control shuffled labels.")
    assert line in md.splitlines()
    assert html.count('class="matchline"') == 1 and "banner" not in html
    assert "Every verdict matches" not in html and "Every verdict matches" not in md
    # The answers come first: the match line follows the answer cards.
    assert html.index('id="answers"') < html.index('class="matchline"') < html.index('id="paper-claims"')
    assert "MISMATCH" in _md_section(md, "P3") and "MISMATCH" not in _md_section(md, "P2")


def test_key_numbers_and_nested_evidence_rendered_with_intervals(rendered):
    md = (rendered / "report.md").read_text()
    p2 = _md_section(md, "P2")
    assert "| critical radius ratio at d=4096 | 4.523 \\[4.511, 4.536\\] (mc) |" in p2
    html = _html_section((rendered / "index.html").read_text(), "P2")
    assert '<tr><td>critical radius ratio at d=4096</td><td class="num">4.523</td>' \
           '<td class="num">[4.511, 4.536]</td><td>mc</td></tr>' in html
    # The appendix: a list of records becomes a table; intervals inside cells keep level and n.
    ev = _md_appendix(md, "P2")
    assert "| 4096 | 32 | 0.3998 \\[0.3987, 0.4009\\] (mc, 99%, n=20000) | 0.0883883 (exact) | 4.523 |" in ev
    assert "- **linear**: 0.9712 \\[0.9685, 0.9737\\] (mc, 99%, n=20000)" in ev
    # Details of an interval are shown beneath it.
    assert "- **optimiser**: 0.4 \\[0.4, 0.4\\] (optimisation)\n  - **success**: true\n  - **nit**: 14" in ev
    appendix = _html_appendix((rendered / "index.html").read_text(), "P2")
    assert "<td>0.3998 [0.3987, 0.4009] (mc, 99%, n=20000)</td>" in appendix


def test_controls_expected_vs_observed_and_mismatch_highlighted(rendered, sample):
    md = (rendered / "report.md").read_text()
    html = (rendered / "index.html").read_text()
    assert "| shuffled labels | training on random labels must not purify |  | fail | **pass** | **NO** |" in md
    assert "| clean training | eps = 0 must not purify |  | fail | fail | yes |" in md
    rows = [(a, [c.strip() for c in cells]) for cls, t in _parse_html(html).tables if "controls" in cls.split()
            for a, cells in t[1:]]
    n_controls = sum(len(c["controls"]) for c in sample["claims"])
    assert len(rows) == n_controls
    flagged = [cells[0] for attrs, cells in rows if attrs["class"] == "mismatch"]
    assert flagged == ["shuffled labels"]


def test_counterexample_examples_and_replay(rendered, sample):
    md = (rendered / "report.md").read_text()
    html = (rendered / "index.html").read_text()
    q1 = _md_section(md, "Q1")
    assert "**Counterexample.** at k/d = 1/2 the pure net is less robust than the linear net (0.637 \\> 0.5) " \
           "Parameters: `{d=16, k=8, b=0.4, eps=0.35, sigma=0, lambda=1}`. Seed 17." in q1
    assert "- **pure\\_robust\\_error**: 0.637 (exact)" in q1
    assert "Counterexample" not in _md_section(md, "P2")
    p2 = _md_appendix(md, "P2")
    assert "12 examples drawn; showing the first 10." in p2
    assert "| 1024 | 64 | 0.25 | 0.1 | 9 |" in p2 and "| 2048 |" not in p2, "only the first 10 examples"
    assert "(10 of 12 rows shown)" in p2
    assert "showing the first 3 (3 recorded)" in _md_appendix(md, "P3")
    assert "0 examples drawn; none recorded." in _md_appendix(md, "S3")
    for claim in sample["claims"]:
        cmd = f"HYPOTHESIS_PROFILE=ci pytest theorems -k {claim['id']}"
        assert f"```sh\n{cmd}\n```" in _md_section(md, claim["id"])
        assert f"<pre><code>{cmd}</code></pre>" in _html_section(html, claim["id"])
    # The evidence is collapsed (details), never open by default.
    assert html.count('<details id="evidence-') == len(sample["claims"]) and "<details open" not in html


def test_assumptions_and_manifest(rendered, sample):
    md = (rendered / "report.md").read_text()
    html = (rendered / "index.html").read_text()
    for a in sample["assumptions"]:
        assert f"| {a['id']} | {md_escape(a['text'])} | {md_escape(a['why'])} |" in md
        assert f'<tr id="assumption-{a["id"]}">' in html
    env = sample["environment"]
    manifest = {cells[0]: cells[1] for _, cells in _table(_parse_html(html), "manifest")}
    assert manifest["Commit"] == env["commit"] and manifest["Uncommitted changes"] == "clean"
    assert manifest["Profile"] == "ci" and manifest["Command"] == sample["command"]
    assert manifest["Started"] == env["started"] and manifest["Runtime"] == "187.3 s"
    assert manifest["Seeds"] == "{hypothesis=derandomized, base_seed=0}" and manifest["CPUs"] == "2"
    packages = {cells[0]: cells[1] for _, cells in _table(_parse_html(html), "packages")[1:]}
    assert packages == env["packages"]
    assert f"| Command | `{sample['command']}` |" in md and f"| torch | {env['packages']['torch']} |" in md
    # No clock in the body: the only date is the manifest's own start time.
    assert re.findall(r"\d{4}-\d{2}-\d{2}", md) == [env["started"][:10]]


# --------------------------------------------------------------------------- figures

def test_figures_written_linked_and_embedded(rendered, sample):
    md = (rendered / "report.md").read_text()
    html = (rendered / "index.html").read_text()
    imgs = {i["alt"]: i["src"] for i in _parse_html(html).imgs}
    specs = [f for c in sample["claims"] for f in c["figures"]]
    assert {f["kind"] for f in specs} == {"curves", "histogram", "heatmap"}
    for f in specs:
        png = rendered / "figures" / f"{f['id']}.png"
        data = png.read_bytes()
        assert _png_size(data) == (640, 400)
        kinds = [k for k, _ in _png_chunks(data)]
        assert b"tIME" not in kinds, "no timestamp chunk"
        assert all(b"Software" not in body for k, body in _png_chunks(data) if k in (b"tEXt", b"iTXt"))
        assert f"![{md_escape(f['title'])}](figures/{f['id']}.png)" in md
        assert imgs[f["title"]] == "data:image/png;base64," + base64.b64encode(data).decode()
    assert sorted(p.name for p in (rendered / "figures").iterdir()) == sorted(f"{f['id']}.png" for f in specs)


def test_html_is_self_contained_and_escaped(sample, tmp_path):
    data = copy.deepcopy(sample)
    data["claims"][0]["title"] = "<script>alert(1)</script> & co"
    render_report(data, tmp_path / "out")
    html = (tmp_path / "out" / "index.html").read_text()
    parsed = _parse_html(html)
    assert "script" not in parsed.tags and "link" not in parsed.tags and "iframe" not in parsed.tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    external = [u for u in parsed.urls if not (u.startswith("#") or u.startswith("data:image/png;base64,"))]
    assert external == [], "the HTML must load nothing from outside itself"


def _spec(sample: dict, fig_id: str) -> dict:
    valid = validate_results(sample)
    return next(f for c in valid["claims"] for f in c["figures"] if f["id"] == fig_id)


def test_curves_band_follows_the_intervals(sample):
    spec = _spec(sample, "p2_robust_error")
    ax = build_figure(spec).axes[0]
    assert ax.get_xscale() == "log" and ax.get_title() == spec["title"]
    lines = [l for l in ax.lines if l.get_label() in ("pure net", "linear net")]
    bands = [c for c in ax.collections if c.get_paths()]
    assert len(lines) == 2 and len(bands) == 2
    for series, line, band in zip(spec["series"], lines, bands):
        pts = sorted(series["points"], key=lambda p: p["x"])
        np.testing.assert_array_equal(line.get_xdata(), [p["x"] for p in pts])
        np.testing.assert_array_equal(line.get_ydata(), [p["value"] for p in pts])
        verts = {tuple(v) for v in np.round(band.get_paths()[0].vertices, 12)}
        for p in pts:
            assert (round(p["x"], 12), round(p["lower"], 12)) in verts, "band must pass through each lower"
            assert (round(p["x"], 12), round(p["upper"], 12)) in verts, "band must pass through each upper"


def test_curves_errorbars_categorical_and_sorted(sample):
    spec = _spec(sample, "q1_advantage")
    ax = build_figure(spec).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1/16", "1/4", "1/2", "1"]
    containers = ax.containers
    assert len(containers) == 2
    for series, cont in zip(spec["series"], containers):
        segs = cont.lines[2][0].get_segments()
        for i, (p, seg) in enumerate(zip(series["points"], segs)):
            lo = p["value"] if p["lower"] is None else p["lower"]
            hi = p["value"] if p["upper"] is None else p["upper"]
            np.testing.assert_allclose(seg, [[i, lo], [i, hi]], rtol=0, atol=1e-12,
                                       err_msg="error bar must span [lower, upper] (null: no bar)")
    # Numeric x given out of order is drawn sorted.
    unsorted = {"id": "u", "kind": "curves", "series": [{"label": "s", "points": [
        {"x": 3, "value": 30}, {"x": 1, "value": 10}, {"x": 2, "value": 20}]}]}
    line = build_figure(_spec({**sample, "claims": [{**sample["claims"][0], "figures": [unsorted]}]}, "u")).axes[0].lines[0]
    assert list(line.get_xdata()) == [1, 2, 3] and list(line.get_ydata()) == [10, 20, 30]


def test_histogram_counts_match_brute_force(sample):
    spec = _spec(sample, "p3_purity_hist")
    ax = build_figure(spec).axes[0]
    finite = [v for s in spec["series"] for v in s["values"] if v is not None]
    edges = np.linspace(min(finite), max(finite), spec["bins"] + 1)  # equal bins over all finite values
    np.testing.assert_allclose(histogram_edges(spec), edges, rtol=0, atol=1e-12)
    filled = [p for p in ax.patches if p.get_fill()]
    assert len(filled) == 2
    for series, patch in zip(spec["series"], filled):
        expected = [0.0] * spec["bins"]
        weights = series["weights"] or [1.0] * len(series["values"])
        for v, w in zip(series["values"], weights):
            if v is None:
                continue
            i = min(bisect.bisect_right(list(edges), v) - 1, spec["bins"] - 1)  # last bin is closed
            expected[i] += w
        np.testing.assert_allclose(patch.get_data().values, expected, rtol=0, atol=1e-12)
        np.testing.assert_allclose(patch.get_data().edges, edges, rtol=0, atol=1e-12)
    assert ax.get_ylabel() == "total weight"


def test_heatmap_image_and_labels(sample):
    spec = _spec(sample, "s3_regime_map")
    fig = build_figure(spec)
    ax = fig.axes[0]
    arr = ax.images[0].get_array()
    z = np.array([[np.nan if v is None else v for v in row] for row in spec["z"]])
    np.testing.assert_array_equal(np.ma.getmaskarray(arr), np.isnan(z))
    np.testing.assert_array_equal(arr.filled(-1), np.where(np.isnan(z), -1, z))
    texts = {(t.get_position(), t.get_text()): t.get_color() for t in ax.texts}
    expected = {((j, i), lab) for i, row in enumerate(spec["text"]) for j, lab in enumerate(row) if lab}
    assert set(texts) == expected
    assert texts[((4, 0), "fail")] == "white" and texts[((0, 0), "pass")] == "black", "contrast with the cell"
    assert [t.get_text() for t in ax.get_yticklabels()] == spec["y"]
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == spec["zlabel"], "colorbar with zlabel"


# --------------------------------------------------------------------------- determinism and output handling

def test_same_results_give_same_bytes(sample, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    render_report(SAMPLE, a)
    # A different style in effect must not leak into the figures; a dict renders like the file.
    with mpl.rc_context({"lines.linewidth": 5.0, "font.size": 20, "axes.grid": False}):
        written = render_report(copy.deepcopy(sample), b)
    files_a = {k: v[0] for k, v in _snapshot(a).items()}
    files_b = {k: v[0] for k, v in _snapshot(b).items()}
    assert sorted(files_a) == sorted(files_b) and len(files_a) == 2 + 4
    for name in files_a:
        assert files_a[name] == files_b[name], f"{name} differs between two renders"
    assert sorted(str(p.relative_to(b)) for p in written) == sorted(files_b)


def test_success_replaces_only_report_files(tmp_path):
    out = tmp_path / "latest"
    (out / "figures").mkdir(parents=True)
    (out / "figures" / "stale.png").write_bytes(b"old")
    (out / "results.json").write_text(SAMPLE.read_text())
    (out / "notes.txt").write_text("keep me")
    assert main(["--results", str(out / "results.json"), "--out", str(out)]) == 0
    assert (out / "notes.txt").read_text() == "keep me" and (out / "results.json").read_text() == SAMPLE.read_text()
    assert not (out / "figures" / "stale.png").exists(), "figures/ is replaced as a whole"
    assert (out / "figures" / "p2_robust_error.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest"], "no temp dir left behind"


def test_main_defaults_and_one_line_output(sample, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports" / "latest").mkdir(parents=True)
    (tmp_path / "reports" / "latest" / "results.json").write_text(json.dumps(sample))
    assert main([]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out.count("\n") == 1 and "4 figures" in captured.out
    assert (tmp_path / "reports" / "latest" / "index.html").is_file()
    assert main(["--max-examples", "2", "--out", "small"]) == 0
    assert "showing the first 2" in (tmp_path / "small" / "report.md").read_text()


def _mutate(sample: dict, edit) -> str:
    data = copy.deepcopy(sample)
    edit(data)
    return json.dumps(data)


BAD_INPUTS = {
    "missing file": (None, "results file not found"),
    "malformed JSON": (lambda s: json.dumps(s)[:-40], "malformed JSON"),
    "empty file": (lambda s: "", "malformed JSON"),
    "not an object": (lambda s: "[1, 2]", "top level must be a JSON object, got array"),
    "schema 3": (lambda s: _mutate(s, lambda d: d.update(schema=3)), "unsupported schema version 3"),
    "schema as string": (lambda s: _mutate(s, lambda d: d.update(schema="1")), 'unsupported schema version "1"'),
    "no schema": (lambda s: _mutate(s, lambda d: d.pop("schema")), "missing key 'schema'"),
    "no claims": (lambda s: _mutate(s, lambda d: d.pop("claims")), "top level: missing key 'claims'"),
    "claim without verdict": (lambda s: _mutate(s, lambda d: d["claims"][1].pop("verdict")),
                              "claims[1] (P2): missing key 'verdict'"),
    "bad verdict": (lambda s: _mutate(s, lambda d: d["claims"][0].update(verdict="passed")),
                    "claims[0] (S3).verdict: must be one of pass, fail, inconclusive"),
    "control without observed": (lambda s: _mutate(s, lambda d: d["claims"][2]["controls"][1].pop("observed")),
                                 "claims[2] (P3).controls[1]: missing key 'observed'"),
    "heatmap shape": (lambda s: _mutate(s, lambda d: d["claims"][0]["figures"][0]["z"][1].pop()),
                      "claims[0] (S3).figures[0].z[1]: has 4 entries, expected len(x) = 5"),
    "weights length": (lambda s: _mutate(s, lambda d: d["claims"][2]["figures"][0]["series"][1]["weights"].pop()),
                       "weights: length 11 differs from values' 12"),
    "figure kind": (lambda s: _mutate(s, lambda d: d["claims"][1]["figures"][0].update(kind="pie")),
                    "kind: must be one of curves, histogram, heatmap"),
    "point without value": (lambda s: _mutate(s, lambda d: d["claims"][1]["figures"][0]["series"][0]["points"][2].pop("value")),
                            "series[0].points[2]: missing key 'value'"),
    "duplicate claim": (lambda s: _mutate(s, lambda d: d["claims"][3].update(id="P2")), "duplicate claim id 'P2'"),
    "key number not a number": (lambda s: _mutate(s, lambda d: d["claims"][1]["key_numbers"][0].update(value="4.5")),
                                "key_numbers[0].value: must be a number, got string"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exits_2_with_one_line_and_leaves_out_untouched(case, sample, tmp_path, capsys):
    make, message = BAD_INPUTS[case]
    results = tmp_path / "in" / "results.json"
    results.parent.mkdir()
    if make is not None:
        results.write_text(make(sample))
    out = tmp_path / "out"
    (out / "figures").mkdir(parents=True)
    (out / "report.md").write_text("previous report")
    (out / "index.html").write_text("<p>previous</p>")
    (out / "figures" / "old.png").write_bytes(b"\x89PNG old")
    before, listing = _snapshot(out), sorted(p.name for p in tmp_path.iterdir())
    code = main(["--results", str(results), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and captured.err.endswith("\n"), captured.err
    assert lines[0].startswith("purecheck report: error: ") and message in lines[0], lines[0]
    assert _snapshot(out) == before, "--out must be untouched on error"
    assert sorted(p.name for p in tmp_path.iterdir()) == listing, "no temp dir left behind"


def test_bad_output_and_arguments_exit_2(sample, tmp_path, capsys):
    target = tmp_path / "a_file"
    target.write_text("not a dir")
    assert main(["--results", str(SAMPLE), "--out", str(target)]) == 2
    assert target.read_text() == "not a dir"
    assert main(["--results", str(tmp_path), "--out", str(tmp_path / "o")]) == 2  # a directory as results
    assert main(["--max-examples", "many"]) == 2
    assert main(["--bogus"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 4 and all(l.startswith("purecheck report: error: ") for l in err), err
    assert "not a directory" in err[0] and "is a directory" in err[1] and "--max-examples" in err[2]
    assert not (tmp_path / "o").exists()


def test_render_report_raises_input_error(sample):
    with pytest.raises(ReportInputError, match=r"claims\[0\] \(S3\)\.expected"):
        render_report(_mutate_dict(sample, lambda d: d["claims"][0].update(expected="maybe")), Path("/nonexistent/x"))


def _mutate_dict(sample: dict, edit) -> dict:
    data = copy.deepcopy(sample)
    edit(data)
    return data


def test_minimal_results_render(tmp_path):
    minimal = {"schema": 1, "profile": "quick", "command": "pytest theorems", "environment": {},
               "claims": [{"id": "S1", "paper_claim": "C1", "title": "dual norm", "statement": "s",
                           "verdict": "pass", "expected": "pass", "method": "symbolic",
                           "replay": "HYPOTHESIS_PROFILE=quick pytest theorems -k S1"}]}
    written = render_report(minimal, tmp_path / "o")
    md = written[0].read_text()
    assert "commit `unknown` (unknown)" in md and "None recorded." in md and "No package versions recorded." in md
    # Schema 1: the scope comes from the wording ("C1" alone: paper), so S1 decides C1.
    assert "## C1: holds" in md and "(the claim's text is not in this results file)" in md
    assert "```sh\nHYPOTHESIS_PROFILE=quick pytest theorems -k S1\n```" in md, "replay keeps its own profile"
    assert [p.name for p in written] == ["report.md", "index.html"]


def test_report_reads_results_only():
    """The report must not import the library or the theorems (it reads results files only)."""
    code = ("import sys, purecheck.report, purecheck.report.command; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('numerics', 'theorems', 'torch', 'pytest')); "
            "print(','.join(bad))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"imported: {proc.stdout.strip()}"


def test_a_control_run_at_another_profiles_sizes_says_so(sample, tmp_path):
    """results.json records the profile whose sizes a control ran at (size_profile; at thorough the controls run at
    ci's): the report names it beside the control's overrides, and only when it is not the claim's own profile."""
    data = copy.deepcopy(sample)
    claim = next(c for c in data["claims"] if c["controls"])
    own = claim["stamp"]["profile"] if claim.get("stamp") else data["profile"]
    claim.setdefault("stamp", {})["profile"] = own
    other = next(p for p in ("quick", "ci", "thorough") if p != own)
    claim["controls"][0]["size_profile"] = other
    for k in claim["controls"][1:]:
        k["size_profile"] = own
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    render_report(path, tmp_path / "out")
    md = (tmp_path / "out" / "report.md").read_text()
    assert md.count(f"at {other} sizes") == 1, f"the control at {other} sizes must say so, once"
    assert f"at {own} sizes" not in md, "a control at its claim's own sizes says nothing"


def test_parts_timed_apart_and_a_crash_never_reads_as_registered(sample, tmp_path):
    """results.json times the main check and each control apart (main_runtime_s, controls[].runtime_s), and a
    crashed main check carries match.matches = false even when "inconclusive" (the verdict shown for a crash)
    is the registered one: the report lists it among the differences, never as registered."""
    data = copy.deepcopy(sample)
    claim = next(c for c in data["claims"] if c["controls"])
    claim["runtime_s"], claim["main_runtime_s"] = 12.5, 4.25
    claim["controls"][0]["runtime_s"] = 3.75
    crashed = next(c for c in data["claims"] if c is not claim)
    crashed.update(verdict="inconclusive", expected="inconclusive", main_ran=False, main_error="TypeError: a bug",
                   message="main check crashed: TypeError: a bug",
                   match={"matches": False, "expected": "inconclusive", "verdict": "inconclusive", "crashed": True})
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    render_report(path, tmp_path / "out")
    md = (tmp_path / "out" / "report.md").read_text()
    section = _md_section(md, claim["id"])
    assert "runtime 12.5 s (main check 4.2 s)" in section
    lines = section.splitlines()
    top = lines.index("| Control | What it changes | Overrides | Expected | Observed | Match | Time |")
    rows = lines[top + 2:top + 2 + len(claim["controls"])]  # in the record's order, after the rule
    assert rows[0].endswith("| 3.8 s |") and rows[1].endswith("|  |"), rows  # an untimed control: blank
    matchline = next(line for line in md.splitlines() if line.startswith("Registered expectations:"))
    assert f"[{crashed['id']}](#claim-{crashed['id']}) (inconclusive, registered inconclusive: crashed)" in matchline
    assert "**MISMATCH** (the main check crashed; its verdict is no outcome)." in _md_section(md, crashed["id"])


def test_a_registered_fail_on_other_conditions_is_shown_as_a_mismatch(sample, tmp_path):
    data = copy.deepcopy(sample)
    claim = data["claims"][0]
    claim.update(verdict="fail", expected="fail",
                 match={"matches": False, "expected": "fail", "verdict": "fail", "overridden": False,
                        "fails_on": ["x *"], "may_fail": [], "unregistered_failures": ["y at d=4"],
                        "missing_failures": ["x *"]})
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    render_report(path, tmp_path / "out")
    md = (tmp_path / "out" / "report.md").read_text()
    assert f"(fail, registered fail: fails elsewhere)" in md
    assert ("**MISMATCH** (conditions fail that the registered failure does not name: y at d=4 and the registered "
            "failure is not among the failing conditions: x \\*).") in _md_section(md, claim["id"])


def test_an_output_that_cannot_be_replaced_is_refused_before_anything_moves(sample, tmp_path, capsys):
    # index.html is a folder: the last of the moves would fail. Catches a writer that checks nothing first and
    # so has already replaced figures/ and report.md (the old figures gone) when it stops.
    results = tmp_path / "results.json"
    results.write_text(json.dumps(sample))
    out = tmp_path / "out"
    (out / "figures").mkdir(parents=True)
    (out / "figures" / "old.png").write_bytes(b"\x89PNG old")
    (out / "report.md").write_text("previous report")
    (out / "index.html").mkdir()
    before = _snapshot(out)
    assert main(["--results", str(results), "--out", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"purecheck report: error: --out {out}: index.html cannot be replaced (a folder where a file goes, "
                   f"or a file where the figures go)"]
    assert _snapshot(out) == before


def test_a_report_is_assembled_inside_its_own_folder(sample, tmp_path, monkeypatch):
    # The temporary folder lives in --out, so that the final renames never cross a filesystem (--out may be a
    # mount point: a rename from its parent failed with "Invalid cross-device link"); nothing is left behind.
    import tempfile

    results = tmp_path / "results.json"
    results.write_text(json.dumps(sample))
    out = tmp_path / "out"
    made = []
    real = tempfile.mkdtemp
    monkeypatch.setattr(tempfile, "mkdtemp", lambda *a, **k: made.append(k.get("dir")) or real(*a, **k))
    render_report(results, out)
    assert made == [out.absolute()]
    assert sorted(p.name for p in out.iterdir()) == ["figures", "index.html", "report.md"]
