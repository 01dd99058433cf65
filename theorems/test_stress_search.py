"""The stress search engine (theorems/stress_search.py) on synthetic checks with known answers.

Each test names the defect it catches:
- shrinking that stops at any counterexample instead of the one with the fewest changed keys,
  then the smallest normalised distance from the reference (the registered defaults);
- a boundary interval that does not bracket the known boundary, or is wider than the stated
  resolution ``tol`` of the key's range;
- inconclusive points counted as counterexamples while a point fails, or as passes in the
  boundary's pass side;
- targeting that does not steer draws towards the verdict boundary;
- results that depend on anything but the seed (a second run, the scheduler: in-process vs a
  2-worker dask cluster);
- budget overruns, and --vary input that is accepted outside the key's allowed range.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .registry import CLAIMS
from .stress_search import (
    Axis, Space, StressError, audit, canonical_json, claim_space, parse_vary, plan_ranges, search,
)

ROOT = Path(__file__).resolve().parent.parent


def verdict_of(fail: bool, score: float | None = None) -> dict:
    return {"verdict": "fail" if fail else "pass", "numbers": {}, "score": score}


def two_regions(p: dict) -> dict:
    """Fails for x > 0.6 alone, or for y > 0.3 together with z = 'c' (two changed keys)."""
    return verdict_of(p["x"] > 0.6 or (p["y"] > 0.3 and p["z"] == "c"), 0.6 - p["x"])


XYZ = Space((Axis.interval("x", 0, 1, default=0.0), Axis.interval("y", 0, 1, default=0.0),
             Axis.choice("z", ["a", "b", "c"], default="a")))


# ------------------------------------------------------------------ shrinking
def test_shrinks_to_the_fewest_changed_keys_then_the_boundary():
    r = search(XYZ, two_regions, budget=40, seed=0)
    cx = r["counterexample"]
    assert cx["changed_keys"] == ["x"]
    assert cx["params"]["y"] == 0.0 and cx["params"]["z"] == "a"
    assert 0.6 < cx["params"]["x"] <= 0.6 + 1e-3  # the failing value nearest the reference, to tol of the range
    b = r["boundaries"]["x"]
    assert b["interval"][0] <= 0.6 < b["interval"][1] and b["width"] <= 1e-3 and b["resolved"]
    assert b["pass_side"] < b["fail_side"] and b["side"] == "above"


def test_shrinks_to_the_smallest_normalised_distance_among_one_key_counterexamples():
    """x fails beyond 0.9 of [0, 1], y beyond 5 of [0, 10]: y's distance 0.5 beats x's 0.9."""
    sp = Space((Axis.interval("x", 0, 1, default=0.0), Axis.interval("y", 0, 10, default=0.0)))
    r = search(sp, lambda p: verdict_of(p["x"] > 0.9 or p["y"] > 5.0), budget=40, seed=3)
    cx = r["counterexample"]
    assert cx["changed_keys"] == ["y"] and 5.0 < cx["params"]["y"] <= 5.0 + 10 * 1e-3


def test_shrinks_towards_the_reference_not_towards_zero():
    """The reference is the registered default 0.8: the failing region x < 0.3137 is approached from above."""
    sp = Space((Axis.interval("x", 0, 1, default=0.8),))
    r = search(sp, lambda p: verdict_of(p["x"] < 0.3137), budget=30, seed=0)
    b = r["boundaries"]["x"]
    assert b["fail_side"] < 0.3137 <= b["pass_side"] and b["width"] <= 1e-3 and b["side"] == "below"
    assert r["counterexample"]["params"]["x"] == b["fail_side"]


def test_needs_two_keys_when_no_single_key_fails():
    sp = Space((Axis.interval("x", 0, 1, default=0.0), Axis.choice("z", ["a", "c"], default="a")))
    r = search(sp, lambda p: verdict_of(p["x"] > 0.3 and p["z"] == "c"), budget=40, seed=1)
    cx = r["counterexample"]
    assert sorted(cx["changed_keys"]) == ["x", "z"] and 0.3 < cx["params"]["x"] <= 0.301
    assert r["boundaries"]["z"]["pass_side"] == "a" and r["boundaries"]["z"]["fail_side"] == "c"


def test_integer_axis_brackets_to_adjacent_integers():
    sp = Space((Axis.interval("n", 0, 1000, default=10, integer=True),))
    r = search(sp, lambda p: verdict_of(p["n"] >= 737), budget=30, seed=0)
    b = r["boundaries"]["n"]
    assert (b["pass_side"], b["fail_side"]) == (736, 737) and r["counterexample"]["params"]["n"] == 737


def test_reference_is_the_default_clamped_into_the_range():
    assert Axis.interval("x", 0.2, 0.5, default=0.9).reference == 0.5
    assert Axis.choice("d", (16, 64, 256), default=100).reference == 64
    assert Axis.choice("norm", ("linf", "l2"), default="l1").reference == "linf"


# ------------------------------------------------------------------ three verdicts
def test_inconclusive_points_are_not_counterexamples_while_a_point_fails():
    """pass above 0.5, inconclusive in (0.4, 0.5], fail at or below 0.4; the reference is 1."""
    def check(p):
        x = p["x"]
        return {"verdict": "pass" if x > 0.5 else ("inconclusive" if x > 0.4 else "fail"), "numbers": {},
                "score": x - 0.5}

    r = search(Space((Axis.interval("x", 0, 1, default=1.0),)), check, budget=40, seed=0)
    cx, b = r["counterexample"], r["boundaries"]["x"]
    assert cx["verdict"] == "fail" and cx["kind"] == "fail" and 0.4 - 1e-3 <= cx["params"]["x"] <= 0.4
    assert b["fail_side"] <= 0.4 and b["pass_side"] > 0.5 and b["pass_side_verdict"] == "pass"
    assert b["edge"][0] <= 0.4 < b["edge"][1] and b["edge"][1] - b["edge"][0] <= 1e-3
    assert b["undecided"] and all(0.4 < u <= 0.5 for u in b["undecided"])


def test_only_inconclusive_points_give_an_inconclusive_counterexample():
    r = search(Space((Axis.interval("x", 0, 1, default=0.0),)),
               lambda p: {"verdict": "inconclusive" if p["x"] > 0.7 else "pass", "numbers": {}, "score": None},
               budget=20, seed=0)
    assert r["counterexample"]["verdict"] == "inconclusive" and r["counterexample"]["kind"] == "inconclusive"
    assert 0.7 < r["counterexample"]["params"]["x"] <= 0.701


def test_no_counterexample_reports_the_closest_point():
    r = search(XYZ, lambda p: verdict_of(False, 1.0 - p["x"]), budget=15, seed=0)
    assert r["counterexample"] is None and set(r["boundaries"].values()) == {None}
    assert r["closest"]["params"]["x"] == max(p["params"]["x"] for p in r["points"])


def test_crashing_and_invalid_points_are_recorded_not_counterexamples():
    def check(p):
        if p["x"] > 0.8:
            raise RuntimeError("boom")
        return verdict_of(False)

    r = search(Space((Axis.interval("x", 0, 1, default=0.0),)), check, budget=12, seed=0,
               validate=lambda p: "x too small" if 0.0 < p["x"] < 0.1 else None)
    assert r["counterexample"] is None and r["counts"]["error"] >= 1
    assert all(p["error"].startswith("RuntimeError: boom") for p in r["points"] if p["verdict"] == "error")
    assert all(not (0.0 < p["params"]["x"] < 0.1) for p in r["points"])
    assert r["counts"]["invalid"] == len(r["invalid"]) >= 1
    assert audit(r, "pass") and "crashed" in audit(r, "pass")[0]


# ------------------------------------------------------------------ targeting, budget, determinism
def corner(p: dict) -> dict:
    """Fails only in the corner x, y > 0.93 (0.5% of the square); score: distance to it."""
    return verdict_of(p["x"] > 0.93 and p["y"] > 0.93, max(0.93 - p["x"], 0) + max(0.93 - p["y"], 0))


def test_target_steers_draws_to_a_small_failing_region():
    sp = Space((Axis.interval("x", 0, 1, default=0.0), Axis.interval("y", 0, 1, default=0.0)))
    steered = search(sp, corner, budget=60, seed=0)
    blind = search(sp, lambda p: {**corner(p), "score": None}, budget=60, seed=0)
    assert steered["counterexample"] is not None and blind["counterexample"] is None
    assert sum(p["phase"] == "target" for p in steered["points"]) > 0


@pytest.mark.parametrize("budget", [1, 7, 25])
def test_budget_bounds_every_evaluation(budget):
    r = search(XYZ, two_regions, budget=budget, seed=0)
    assert r["budget_used"] == len(r["points"]) <= budget and r["budget"] == budget
    assert [p["index"] for p in r["points"]] == list(range(len(r["points"])))


def test_same_seed_same_result_other_seed_other_draws():
    a, b = search(XYZ, two_regions, budget=40, seed=5), search(XYZ, two_regions, budget=40, seed=5)
    assert canonical_json(a) == canonical_json(b)
    c = search(XYZ, two_regions, budget=40, seed=6)
    assert [p["params"] for p in c["points"]] != [p["params"] for p in a["points"]]


def test_inprocess_and_a_two_worker_dask_cluster_give_the_same_result():
    """A real claim's search (P2 at three dimensions) as sweep tasks: in this process, then on 2 dask workers."""
    pytest.importorskip("distributed")
    from .stress_search import run_claim_search

    kw = dict(profile="quick", ranges=[parse_vary("net.b=0:0.9"), parse_vary("eval.norm=l2,linf")],
              base={"grid.d": (16, 64, 256), "eval.bisection": 8}, budget=8, seed=1)
    here = run_claim_search(CLAIMS["P2"], scheduler="inprocess", **kw)
    there = run_claim_search(CLAIMS["P2"], scheduler="local:2", **kw)
    assert canonical_json(here) == canonical_json(there)
    assert "LocalCluster" in there["scheduler"] and here["budget_used"] == 8
    assert here["counterexample"] is not None


# ------------------------------------------------------------------ --vary input and claim spaces
def test_parse_vary_forms():
    assert parse_vary("net.b=0:0.9") == ("net.b", ("range", (0, 0.9)))
    assert parse_vary("eval.norm=l2,linf") == ("eval.norm", ("values", ("l2", "linf")))
    assert parse_vary("model.d=16, 64") == ("model.d", ("values", (16, 64)))
    assert parse_vary("draw.b=[0, 0.5],[0.5, 1]") == ("draw.b", ("values", ([0, 0.5], [0.5, 1])))
    with pytest.raises(StressError, match=r"^--vary 'net\.b': expected KEY=LO:HI"):
        parse_vary("net.b")
    with pytest.raises(StressError, match=r"^net\.b: range 'a:1' needs numbers"):
        parse_vary("net.b=a:1")


def test_claim_space_checks_ranges_against_the_keys_allowed_ranges():
    from .parameters import ParamError

    p2 = CLAIMS["P2"]
    params = p2.defaults()
    sp = claim_space(params, params, [parse_vary("net.b=0:0.9"), parse_vary("eval.norm=l2,linf")])
    assert sp.axis("net.b").reference == 0.3 and sp.axis("eval.norm").reference == "l2"
    with pytest.raises(ParamError, match=r"^P2\.net\.nosuch: unknown parameter of P2"):
        claim_space(params, params, [parse_vary("net.nosuch=0:1")])
    with pytest.raises(ParamError, match=r"^P2\.net\.b must be a real number in \[0, 1\], got 2"):
        claim_space(params, params, [parse_vary("net.b=0:2")])
    with pytest.raises(StressError, match=r"^P2\.net\.b: range 0\.9:0\.1 has LO > HI"):
        claim_space(params, params, [parse_vary("net.b=0.9:0.1")])
    with pytest.raises(StressError, match=r"^P2\.eval\.norm: LO:HI needs a numeric key"):
        claim_space(params, params, [parse_vary("eval.norm=0:1")])
    with pytest.raises(ParamError, match=r"^P2\.eval\.norm must be one of 'l2', 'linf', got 'l3'"):
        claim_space(params, params, [parse_vary("eval.norm=l2,l3")])
    with pytest.raises(StressError, match=r"^net\.b: varied twice"):
        claim_space(params, params, [parse_vary("net.b=0:0.5"), parse_vary("net.b=0.5:0.9")])


def test_every_registered_stress_plan_is_a_valid_space():
    for c in CLAIMS.values():
        if c.stress is None:
            continue
        params = c.defaults("stress")
        sp = claim_space(params, params, plan_ranges(c.stress.vary))
        assert sp.keys == [k for k, _ in c.stress.vary]


def test_cli_refuses_an_unknown_key_with_one_line(tmp_path):
    res = subprocess.run([sys.executable, "-m", "purecheck", "stress", "P2", "--vary", "net.nosuch=0:1",
                          "--out", str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "net.nosuch" in lines[0] and lines[0].startswith("purecheck stress: error: P2.net.nosuch")
    assert not (tmp_path / "results.json").exists()


def test_cli_merges_its_result_into_results_json(tmp_path):
    """A cheap real search (P2 at three dimensions), written beside another claim's stress result and kept."""
    out = tmp_path / "results.json"
    out.write_text(json.dumps({"schema": 2, "claims": [], "stress": {"S3": {"claim": "S3", "boundaries": {}}}}))
    cmd = [sys.executable, "-m", "purecheck", "stress", "P2", "--vary", "net.b=0:0.9", "--budget", "4",
           "--set", "grid.d=[16, 64, 256]", "--set", "eval.bisection=8", "--json", "--no-progress",
           "--out", str(tmp_path)]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    printed = json.loads(res.stdout)
    data = json.loads(out.read_text())
    assert set(data["stress"]) == {"S3", "P2"} and canonical_json(data["stress"]["P2"]) == canonical_json(printed)
    assert printed["counterexample"]["params"]["net.b"] == 0.0 and printed["budget_used"] == 4
    assert printed["base_overrides"] == {"grid.d": [16, 64, 256], "eval.bisection": 8}


# ------------------------------------------------------------------ stress claims: a failure elsewhere is red
def test_a_counterexample_of_other_keys_is_not_the_registered_failure():
    from .checks.stress import StressExpectationError, check_p2r

    params = CLAIMS["P2r"].defaults().with_values({"judge.changed": ("net.b",)})
    with pytest.raises(StressExpectationError, match=r"^\[P2r\] the search's smallest counterexample is not the "
                                                     r"registered one: keys the smallest counterexample changes"):
        check_p2r(params)


def test_a_boundary_outside_the_registered_interval_is_red():
    """Dense codes (k = 8 at d = 16, b = 1/2) break the pure net below min(b, 1 - b): f's boundary is under 1."""
    from .checks.stress import StressExpectationError, check_p2r

    params = CLAIMS["P2r"].defaults().with_values({"net.b": 0.5, "model.k": 8.0, "model.d": 16})
    with pytest.raises(StressExpectationError, match=r"boundary of f through the counterexample: its lower end"):
        check_p2r(params)


def test_p1z_shrinking_from_a_large_threshold_finds_the_other_boundary_and_is_red():
    """From b = 0.7 the nearest failure is where the threshold swallows the unit features (1 - b < eps), not b = 0."""
    from .checks.stress import StressExpectationError, check_p1z

    params = CLAIMS["P1z"].defaults().with_values({"train.b_init": 0.7, "search.budget": 16})
    with pytest.raises(StressExpectationError, match=r"fixed threshold b of the smallest counterexample"):
        check_p1z(params)
