"""The reviewer report on schema-2 results: paper claims first, the answer rule, derived figures,
overrides, comparison of runs (``--compare``, ``--baseline``, scripts/compare_results.py), PDF errors."""
from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from purecheck.report import render_report, validate_results
from purecheck.report.answers import (ANSWERS, FAILS, HOLDS, INCONCLUSIVE, REGION, combine, paper_answers,
                                      proposition_answer)
from purecheck.report.command import main
from purecheck.report.compare import compare, exact_differences, intervals_overlap, is_timing_key
from purecheck.report.derived import region_figure, scaling_figure, stress_figure

sys.path.insert(0, str(Path(__file__).parent))
from test_report_fixtures import to_schema2  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "data" / "results_sample.json"
COMPARE_SCRIPT = ROOT / "scripts" / "compare_results.py"


@pytest.fixture(scope="module")
def v2() -> dict:
    return to_schema2(json.loads(SAMPLE.read_text()))


@pytest.fixture(scope="module")
def rendered(v2, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report2") / "out"
    render_report(v2, out)
    return out


def _write(path: Path, data) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def _section(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    return html[start:html.index("</section>", start)]


# --------------------------------------------------------------------------- the answer rule

def _claim(verdict: str, scope: str = "paper", cells: tuple[str, ...] = (), points: tuple[str, ...] = ()) -> dict:
    return validate_results({"schema": 2, "profile": "quick", "command": "c", "environment": {}, "claims": [{
        "id": "X", "paper_claim": "C1", "paper_claims": ["C1"], "scope": scope, "title": "t", "statement": "s",
        "verdict": verdict, "expected": "pass", "method": "m", "replay": "r",
        "regions": [{"id": "g", "axes": ["a"], "cells": [{"params": {"a": i}, "verdict": v}
                                                          for i, v in enumerate(cells)]}] if cells else [],
        "scaling": [{"id": "s", "x": "model.d", "points": [{"d": 2 ** i, "verdict": v}
                                                            for i, v in enumerate(points)]}] if points else [],
    }]})["claims"][0]


@pytest.mark.parametrize("verdict, cells, points, answer", [
    ("pass", (), (), HOLDS),
    ("pass", ("pass", "inconclusive"), (), HOLDS),        # an inconclusive cell shows no failure
    ("pass", ("pass", "fail"), (), REGION),
    ("pass", (), ("pass", "pass", "fail"), REGION),       # a failure along d
    ("fail", (), (), FAILS),
    ("fail", ("fail", "inconclusive"), (), FAILS),
    ("fail", ("fail", "pass"), (), REGION),
    ("inconclusive", (), (), INCONCLUSIVE),
    ("inconclusive", ("fail",), (), INCONCLUSIVE),
    ("inconclusive", ("pass",), (), REGION),
])
def test_proposition_answer_table(verdict, cells, points, answer):
    assert proposition_answer(_claim(verdict, cells=cells, points=points)).answer == answer


def test_combine_takes_the_weakest_answer():
    assert combine([]) == INCONCLUSIVE
    assert combine([HOLDS, HOLDS]) == HOLDS
    assert combine([HOLDS, REGION]) == REGION
    assert combine([REGION, INCONCLUSIVE, HOLDS]) == INCONCLUSIVE
    assert combine([INCONCLUSIVE, FAILS]) == FAILS
    assert set(ANSWERS) == {HOLDS, REGION, FAILS, INCONCLUSIVE}


def test_lemmas_support_but_never_decide(v2):
    data = copy.deepcopy(v2)
    s3 = next(c for c in data["claims"] if c["id"] == "S3")
    assert s3["scope"] == "lemma"
    s3["verdict"] = "fail"  # a failing lemma must not turn C2's answer
    answers = {a.id: a for a in paper_answers(validate_results(data))}
    assert answers["C2"].answer == REGION and [p.claim_id for p in answers["C2"].deciding] == ["P2"]
    assert answers["C2"].supporting == ("S3",)
    # No deciding proposition at all: inconclusive, not "holds".
    assert answers["C3"].answer == INCONCLUSIVE and answers["C3"].deciding == ()


def test_fixture_answers_follow_the_rule(v2):
    answers = {a.id: a.answer for a in paper_answers(validate_results(v2))}
    # C1: P3 inconclusive at the headline, passing cells -> region; C2: P2 pass, failing stress points.
    assert answers == {"C1": REGION, "C2": REGION, "C3": INCONCLUSIVE, "C4": INCONCLUSIVE}


# --------------------------------------------------------------------------- the page

def test_paper_claims_come_first_with_answer_figure_and_links(rendered, v2):
    html = (rendered / "index.html").read_text()
    md = (rendered / "report.md").read_text()
    order = [html.index(f'id="paper-C{i}"') for i in range(1, 5)]
    assert order == sorted(order) and order[-1] < html.index('id="paper-beyond"') < html.index('id="propositions"')
    texts = {p["id"]: p["text"] for p in v2["paper_claims"]}
    for cid in ("C1", "C2"):
        sec = _section(html, f"paper-{cid}")
        word = re.search(r'<span class="word (\w+)">([^<]+)</span>', sec)
        assert word and word.group(2) in ANSWERS
        assert texts[cid] in sec
        assert "<img " in sec, f"{cid}: the one figure that shows it"
        assert re.search(r'href="#claim-P\d"', sec), f"{cid}: links to its propositions"
    c1 = _section(html, "paper-C1")
    assert 'id="fig-region_P3_p3_region"' in c1, "a region map is the figure of choice"
    assert "first failure at model.d = 128 (k constant)" in c1 and "smallest counterexample train.eps = 0.6" in c1
    assert "training dynamics from a small random init" in c1 and "purity judged with k = 1" in c1, "caveats"
    c2 = _section(html, "paper-C2")
    assert "stress: boundary of net.b between 0.09 (fails) and 0.12 (holds)" in c2
    assert "run with <code>net.b = 0.3</code> (default 0.25)" in c2, "an override is a caveat"
    assert "No figure recorded for this claim." in _section(html, "paper-C3")
    # The four answers are at the top, before anything else of substance.
    cards = re.findall(r'<a class="answer (\w+)" href="#paper-(C\d)">', html)
    assert [c for _, c in cards] == ["C1", "C2", "C3", "C4"] and html.index('id="answers"') < html.index("<h2")
    assert "| [C1](#paper-C1) Adversarial training purifies" in md and "| **holds in a region** |" in md


def test_proposition_shows_overrides_replay_controls_and_grids(rendered):
    html = (rendered / "index.html").read_text()
    p2 = _section(html, "claim-P2")
    assert 'Here <mark class="override" title="overridden">b = 0.3</mark> and d = 4096.' in p2
    assert "Overridden parameters: <mark class=\"override\"><code>net.b = 0.3</code></mark> (default 0.25)" in p2
    assert "registered expectation pass (overridden parameters: a theorem must pass): as registered" in p2
    assert "<pre><code>HYPOTHESIS_PROFILE=ci pytest theorems -k P2 --set P2.net.b=0.3</code></pre>" in p2
    assert "From the run: commit 0123abc, profile ci, started 2024-05-02T10:00:00Z." in p2
    assert "<th>pgd_errors</th>" in p2 and "<td>52</td>" in p2, "robustness audit"
    assert 'id="fig-stress_P2"' in p2 and "Boundary of <code>net.b</code> between 0.09 (fails) and 0.12 (holds)" in p2
    p3 = _section(html, "claim-P3")
    assert "<td>clean training</td><td>eps = 0 must not purify</td><td><code>train.eps = 0</code></td>" in p3
    assert "7 pass, 1 fail, 1 inconclusive over train.eps × train.lr" in p3
    assert '<tr><td>log-log slope of n_eff (AT) vs d</td><td class="num">0.3</td><td class="num">[0.2, 0.4]</td>' \
           '<td>mc, 95%</td></tr>' in p3
    assert 'id="fig-region_P3_p3_region"' in p3 and 'id="fig-scaling_P3_p3_scaling"' in p3
    assert "The records come from 2 runs" in html
    figs = sorted(p.name for p in (rendered / "figures").iterdir())
    assert {"region_P3_p3_region.png", "scaling_P3_p3_scaling.png", "stress_P2.png"} <= set(figs)


def test_derived_figure_specs():
    region = {"id": "g", "title": "grid", "axes": ["train.eps", "train.lr"], "headline": {"train.eps": 0.4},
              "cells": [{"params": {"train.eps": e, "train.lr": lr}, "verdict": v, "numbers": {}, "headline": False}
                        for (e, lr, v) in ((0.4, 0.1, "pass"), (0.2, 0.1, "fail"), (0.2, 0.3, "inconclusive"))]}
    spec = region_figure("P9", region)
    assert spec["x"] == ["0.2", "0.4"] and spec["y"] == ["0.1", "0.3"], "sorted axis values"
    assert spec["z"] == [[0.0, 1.0], [0.5, None]] and spec["text"] == [["fail", "pass*"], ["inconcl.", None]]
    assert region_figure("P9", {**region, "axes": []}) is None
    scaling = {"id": "s", "x": "model.d", "law": "k constant", "first_failure": {"d": 64},
               "points": [{"d": d, "verdict": "pass", "numbers": {"n": {"value": d / 8, "lower": d / 9,
                                                                       "upper": d / 7, "method": "mc"}, "label": "x"}}
                          for d in (16, 32, 64)]}
    curves = scaling_figure("P9", scaling)
    assert [s["label"] for s in curves["series"]] == ["n"], "strings are not plotted"
    assert [p["x"] for p in curves["series"][0]["points"]] == [16, 32, 64] and curves["vlines"][0]["x"] == 64
    stress = {"varied": {"net.b": {"lo": 0, "hi": 1}}, "boundaries": {"net.b": {"fail_side": 0.1, "pass_side": 0.2}},
              "points": [{"params": {"net.b": 0.05}, "verdict": "fail"}, {"params": {"net.b": 0.5}, "verdict": "pass"}],
              "counterexample": {"params": {"net.b": 0.1}, "verdict": "fail"}}
    scatter = stress_figure("P9", stress)
    assert [s["label"] for s in scatter["series"]] == ["pass", "fail", "smallest counterexample"]
    assert sorted(v["x"] for v in scatter["vlines"]) == [0.1, 0.2] and scatter["ycategories"][-1] == "pass"


def test_schema2_render_is_deterministic_and_reads_schema1_too(v2, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    old = json.loads(SAMPLE.read_text())
    cmp_ = compare(validate_results(old), validate_results(v2), old_label="old", new_label="new")
    render_report(copy.deepcopy(v2), a, comparison=cmp_)
    render_report(copy.deepcopy(v2), b, comparison=cmp_)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file()) and len(files) > 4
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f"{f} differs between two renders"
    html = (a / "index.html").read_text()
    assert 'id="comparison"' in html and "Since the baseline <code>old</code>" in html
    # Schema 1 degrades: derived fields are named, the answers still come first.
    one = tmp_path / "one"
    render_report(SAMPLE, one)
    html1 = (one / "index.html").read_text()
    assert "This is a schema-1 results file: match, paper_claims, scope, stamp were derived" in html1
    assert 'id="paper-C1"' in html1 and 'id="paper-C2"' in html1


SCHEMA2_BAD = {
    "scope": (lambda d: d["claims"][1].update(scope="core"), "claims[1] (P2).scope: must be one of paper, extension"),
    "paper_claims type": (lambda d: d["claims"][1].update(paper_claims="C2"), "claims[1] (P2).paper_claims: must be array"),
    "region cell verdict": (lambda d: d["claims"][2]["regions"][0]["cells"][0].update(verdict="ok"),
                            "claims[2] (P3).regions[0].cells[0].verdict: must be one of"),
    "region without axes": (lambda d: d["claims"][2]["regions"][0].pop("axes"),
                            "claims[2] (P3).regions[0]: missing key 'axes'"),
    "scaling slope": (lambda d: d["claims"][2]["scaling"][0]["slopes"][0].update(value="0.3"),
                      "scaling[0].slopes[0].value: must be a number"),
    "stress points": (lambda d: d["stress"]["P2"].pop("points"), 'stress["P2"]: missing key \'points\''),
    "environment packages": (lambda d: d["environment"].update(packages="x"), "environment.packages: must be object"),
    "condition side": (lambda d: d["claims"][1].update(conditions=[{"name": "c", "side": []}]),
                       "claims[1] (P2).conditions[0].side: must be string or null"),
    "key number level": (lambda d: d["claims"][1]["key_numbers"].append({"name": "k", "value": 1.0, "level": {}}),
                         ".level: must be a number"),
    "stamp dirty": (lambda d: d["claims"][1].update(stamp={"dirty": []}), "claims[1] (P2).stamp.dirty: must be boolean"),
    "stress boundary side": (lambda d: d["stress"]["P2"]["boundaries"]["net.b"].update(pass_side=[0.1]),
                             'stress["P2"].boundaries["net.b"].pass_side: must be a number'),
    "match": (lambda d: d["claims"][0]["match"].update(matches="yes"), "claims[0] (S3).match.matches: must be boolean"),
    "paper claim id": (lambda d: d["paper_claims"].append({"id": "C1"}), "paper_claims[4]: duplicate paper claim id"),
}


def test_a_stress_section_as_the_search_writes_it_renders(v2, tmp_path):
    # theorems.stress_search writes null for a key without a boundary and categories (strings) as the sides of a
    # choice axis. Catches a validator stricter than the writer: `purecheck stress` then made its own results
    # file unreadable by `purecheck report` (and a reference merged into, with it).
    data = copy.deepcopy(v2)
    search = data["stress"]["P2"]
    search["varied"]["eval.norm"] = {"values": ["l2", "linf"]}
    search["boundaries"].update({"eval.norm": {"fail_side": "linf", "pass_side": "l2"}, "model.k": None})
    out = tmp_path / "out"
    assert main(["--results", str(_write(tmp_path / "r.json", data)), "--out", str(out)]) == 0
    assert "Boundary of `eval.norm` between linf (fails) and l2 (holds)" in (out / "report.md").read_text()


@pytest.mark.parametrize("case", sorted(SCHEMA2_BAD))
def test_bad_schema2_input_exits_2_and_names_the_place(case, v2, tmp_path, capsys):
    edit, message = SCHEMA2_BAD[case]
    data = copy.deepcopy(v2)
    edit(data)
    out = tmp_path / "out"
    assert main(["--results", str(_write(tmp_path / "r.json", data)), "--out", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not out.exists()


def test_pdf_without_an_engine_exits_2_and_writes_nothing(v2, tmp_path, monkeypatch, capsys):
    from purecheck.report import pdf

    monkeypatch.setattr(pdf.browser, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setattr(pdf.importlib.util, "find_spec", lambda name: None)
    out = tmp_path / "out"
    assert main(["--results", str(_write(tmp_path / "r.json", v2)), "--out", str(out), "--pdf"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("purecheck report: error: --pdf needs headless Chromium"), err
    assert not out.exists()


# --------------------------------------------------------------------------- comparing runs

def test_timing_rule():
    for key in ("runtime_s", "wall_time_s", "wall_time", "seconds", "started", "training_runtime_s",
                "training_seconds", "task_seconds", "elapsed_s", "duration_s", "pgd_time_s"):
        assert is_timing_key(key), key
    for key in ("eps", "steps", "seed", "sigma", "d", "runs", "start", "time", "s", "restarts", "t_level"):
        assert not is_timing_key(key), key


def test_intervals_overlap():
    iv = lambda v, lo, hi: {"value": v, "lower": lo, "upper": hi, "method": "mc"}  # noqa: E731
    assert intervals_overlap(iv(1, 0.5, 1.5), iv(1.4, 1.2, 1.6))
    assert not intervals_overlap(iv(1, 0.5, 1.0), iv(1.4, 1.2, 1.6))
    assert intervals_overlap(iv(0.25, 0.25, 0.25), iv(0.25 + 1e-15, 0.25 + 1e-15, 0.25 + 1e-15)), "rounding noise"
    assert not intervals_overlap(iv(0.25, 0.25, 0.25), iv(0.26, 0.26, 0.26)), "exact values that differ"
    assert intervals_overlap(iv(1, None, None), iv(1, 0.5, 1.5)) and intervals_overlap(iv(None, None, None), iv(1, 2, 3))


def test_compare_same_file_exits_0(v2, tmp_path, capsys):
    a = _write(tmp_path / "a.json", v2)
    assert main(["--compare", str(a), str(a)]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("no changes (timings aside)")


def test_compare_flipped_verdict_exits_1_and_names_the_claim(v2, tmp_path, capsys):
    a = _write(tmp_path / "a.json", v2)
    flipped = copy.deepcopy(v2)
    p2 = next(c for c in flipped["claims"] if c["id"] == "P2")
    p2["verdict"] = "fail"
    assert main(["--compare", str(a), str(_write(tmp_path / "b.json", flipped))]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert "verdict             P2: pass -> fail" in lines
    # C2 still holds in a region: P2's stress search has passing points (the rule, not a bug).
    assert not any(line.startswith("answer") for line in lines)
    assert lines[-1].startswith("1 verdict change; ")


def test_compare_lists_what_changed(v2, tmp_path):
    old, new = copy.deepcopy(v2), copy.deepcopy(v2)
    claims = {c["id"]: c for c in new["claims"]}
    claims["P3"]["params"]["train"]["eps"] = 0.3                               # parameter
    claims["P3"]["key_numbers"][0].update(value=0.5, lower=0.45, upper=0.55)   # moved: [0.74, 0.84] -> [0.45, 0.55]
    claims["P3"]["key_numbers"][1].update(value=0.32, lower=0.28, upper=0.36)  # overlaps [0.27, 0.35]: no change
    claims["P3"]["regions"][0]["cells"][0]["verdict"] = "fail"                 # a region cell
    claims["P3"]["runtime_s"] = 1.0                                            # a timing: no change
    claims["P3"]["controls"][0]["observed"] = "pass"                           # a control: a verdict change
    claims["P2"]["controls"][0]["observed"] = "not run"                        # skipped: no verdict change
    new["claims"] = [c for c in new["claims"] if c["id"] != "Q1"]              # missing
    new["claims"].append(dict(copy.deepcopy(claims["S3"]), id="S9", figures=[]))  # added
    new["paper_claims"] = new["paper_claims"][:3]                              # C4 missing
    result = compare(validate_results(old), validate_results(new))
    got = {(c.kind, c.claim, c.what): (c.old, c.new) for c in result.changes}
    assert got[("parameter", "P3", "train.eps")] == ("0.4", "0.3")
    assert got[("number", "P3", "key_numbers[mean purity after AT]")] == \
        ("0.79 [0.74, 0.84] (mc)", "0.5 [0.45, 0.55] (mc)")
    assert ("number", "P3", "key_numbers[mean purity after clean training]") not in got
    assert got[("region cell", "P3", "p3_region [train.eps=0.2, train.lr=0.003]")] == ("inconclusive", "fail")
    assert got[("control", "P3", "clean training")] == ("fail", "pass")
    assert got[("control not run", "P2", "b = 0")] == ("fail", "not run")
    assert got[("claim missing", "Q1", "")] == ("fail", "(absent)") and got[("claim added", "S9", "")][1] == "pass"
    assert got[("paper claim missing", "C4", "")] == ("inconclusive", "(absent)")
    assert not any(c.what.endswith("runtime_s") for c in result.changes)
    assert result.exit_code == 1 and [c.kind for c in result.verdict_changes] == ["control"]


@pytest.mark.parametrize("bad, message", [
    ('{"schema": 2, "claims": [', "malformed JSON"),
    (json.dumps({"schema": 7, "profile": "q", "command": "c", "environment": {}, "claims": []}),
     "unsupported schema version 7"),
])
def test_compare_bad_input_exits_2(bad, message, v2, tmp_path, capsys):
    good = _write(tmp_path / "good.json", v2)
    bad_path = _write(tmp_path / "bad.json", bad)
    assert main(["--compare", str(bad_path), str(good)]) == 2
    assert main(["--compare", str(good), str(tmp_path / "missing.json")]) == 2
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    assert captured.out == "" and len(err) == 2 and message in err[0] and "not found" in err[1]
    assert main(["--compare", str(good), str(good), "--pdf"]) == 2


def test_determinism_script_ignores_every_timing_and_uses_the_same_loader(v2, tmp_path):
    a = copy.deepcopy(v2)
    b = copy.deepcopy(v2)
    p3 = next(c for c in b["claims"] if c["id"] == "P3")
    p3["runtime_s"], p3["stamp"]["started"] = 123.0, "2030-01-01T00:00:00Z"
    p3["evidence"]["training_runtime_s"] = 9.9
    p3["evidence"]["per_seed"][0]["seconds"] = 3.0
    b["environment"]["runtime_s"] = 1.0
    fa, fb = _write(tmp_path / "a.json", a), _write(tmp_path / "b.json", b)
    run = lambda *args: subprocess.run([sys.executable, str(COMPARE_SCRIPT), *map(str, args)],  # noqa: E731
                                       capture_output=True, text=True, timeout=60)
    same = run(fa, fb)
    assert same.returncode == 0 and same.stdout.strip() == "identical (timings aside)", same.stdout + same.stderr
    p3["evidence"]["per_seed"][0]["purity_at"] = 0.5
    differ = run(fa, _write(tmp_path / "c.json", b))
    assert differ.returncode == 1 and "claims[P3].evidence.per_seed[0].purity_at: 0.83 != 0.5" in differ.stdout
    corrupt = run(fa, _write(tmp_path / "d.json", "{not json"))
    assert corrupt.returncode == 2 and corrupt.stderr.startswith("compare_results: error: malformed JSON")
    assert exact_differences({"x": [1, 2]}, {"x": [1]}) == ["x[1]: present in only one file"]
    assert exact_differences({"x": []}, {"x": [1]}) != []


def test_baseline_shows_the_comparison_in_the_report(v2, tmp_path, capsys):
    old = copy.deepcopy(v2)
    next(c for c in old["claims"] if c["id"] == "P2")["verdict"] = "fail"
    out = tmp_path / "out"
    assert main(["--results", str(_write(tmp_path / "new.json", v2)), "--out", str(out),
                 "--baseline", str(_write(tmp_path / "old.json", old))]) == 0
    html = (out / "index.html").read_text()
    assert '<p class="compareline changed">Since the baseline' in html
    sec = html[html.index('id="comparison"'):html.index('id="propositions"')]
    assert '<tr class="mismatch"><td>verdict</td><td><a href="#claim-P2">P2</a></td><td></td><td>fail</td>' \
           '<td>pass</td></tr>' in sec
    assert "| verdict | P2 |  | fail | pass |" in (out / "report.md").read_text()
    assert main(["--results", str(tmp_path / "new.json"), "--out", str(tmp_path / "o2"),
                 "--baseline", str(tmp_path / "nope.json")]) == 2
    assert not (tmp_path / "o2").exists()
