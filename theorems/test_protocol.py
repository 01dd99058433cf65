"""The protocol's own helpers: the verdict rule, the one judgement, parameters, overrides, results merging.

These test theorems' machinery, not a claim, and each names the wrong implementation it
catches. The end-to-end cases run pytest in a subprocess on synthetic claims (registered
by a throw-away test module) to show that nothing can be green by accident: a crash, or a
verdict other than the registered one, is red.
"""
from __future__ import annotations

import dataclasses
import json
import math
import re
import signal
import textwrap
from dataclasses import dataclass

import pytest

from numerics.estimates import Estimate

from .parameters import ClaimParams, ParamError, Section, key, load_toml, param, parse_assignment, parse_value, render, to_toml
from .registry import CLAIMS, Judgement, RegisteredOutcome, VerdictMismatch
from .results import merge_record, write_atomically
from .verdict import combine, condition

pytest_plugins = ["pytester"]


# ------------------------------------------------------------------ the verdict rule
@pytest.mark.parametrize("lo, hi, side, thr, want", [
    (0.6, 0.8, "above", 0.5, "pass"),       # interval wholly above
    (0.2, 0.4, "above", 0.5, "fail"),       # wholly on the contrary side
    (0.4, 0.6, "above", 0.5, "inconclusive"),  # straddles: never pass (catches a rule judging by the point value)
    (0.4, 0.6, "below", 0.5, "inconclusive"),
    (0.1, 0.3, "below", 0.5, "pass"),
    (0.5, 0.5, "above", 0.5, "fail"),       # a point at the threshold is not above it
])
def test_condition_passes_only_when_the_interval_excludes_the_contrary(lo, hi, side, thr, want):
    est = Estimate((lo + hi) / 2, lo, hi, "mc", level=0.99)
    assert condition("x", est, side, thr).verdict == want


def test_straddling_interval_with_point_value_on_the_claimed_side_is_inconclusive():
    est = Estimate(0.9, 0.1, 0.95, "mc", level=0.99)  # value says pass, interval does not
    assert condition("x", est, "above", 0.5).verdict == "inconclusive"


@pytest.mark.parametrize("converged, want", [(False, "inconclusive"), (True, "pass")])
def test_unconverged_optimum_is_inconclusive(converged, want):
    est = Estimate(2.0, 2.0, 2.0, "optimisation", details={"converged": converged})
    assert condition("x", est, "above", 1.0).verdict == want


def test_optimum_without_convergence_status_is_inconclusive():
    assert condition("x", Estimate(2.0, 2.0, 2.0, "optimisation"), "above", 1.0).verdict == "inconclusive"


@pytest.mark.parametrize("verdicts, want", [
    (["pass", "pass"], "pass"), (["pass", "fail", "inconclusive"], "fail"), (["pass", "inconclusive"], "inconclusive"),
    ([], "inconclusive"),  # no condition: nothing was shown, never a pass
])
def test_combine(verdicts, want):
    assert combine(verdicts) == want


def test_condition_rejects_a_bad_side():
    with pytest.raises(ValueError, match=r"^side must be 'above' or 'below'"):
        condition("x", Estimate.exact(1.0), "over", 0.5)


# ------------------------------------------------------------------ the one judgement
@pytest.mark.parametrize("verdict, expected, overridden, raises", [
    ("pass", "pass", False, None),
    ("fail", "fail", False, RegisteredOutcome),        # exactly the registered failure: a strict xfail
    ("inconclusive", "fail", False, VerdictMismatch),  # inconclusive where fail is registered: red
    ("fail", "inconclusive", False, VerdictMismatch),  # and the reverse
    ("pass", "fail", False, VerdictMismatch),          # a registered failure that passes: red (not a silent xpass)
    ("fail", "pass", True, VerdictMismatch),           # under overrides a claim must pass
])
def test_judgement_enforce(verdict, expected, overridden, raises):
    j = Judgement("X", verdict, "pass" if overridden else expected, overridden)
    if raises is None:
        j.enforce("msg")
    else:
        with pytest.raises(raises):
            j.enforce("msg")
    assert not issubclass(RegisteredOutcome, AssertionError)  # a failed assert can never pass as the registered outcome


def test_claim_judge_expects_pass_under_overrides():
    claim = CLAIMS["Q2"]
    failing = ["purity gap adversarial - clean training (k=1), ReLU with intercept",
               "purity gap adversarial - clean training (k=1), smooth (beta b=4)"]
    assert claim.judge("fail", failing=failing).matches
    assert not claim.judge("fail", overridden=True, failing=failing).matches
    with pytest.raises(ValueError, match=r"^verdict must be one of"):
        claim.judge("maybe")
    with pytest.raises(TypeError, match=r"^claim Q2: judging a registered fail needs the failing conditions"):
        claim.judge("fail")


def test_a_registered_fail_is_matched_by_its_failing_conditions():
    # P3d registers its failure as the AT nets' n_eff slopes (any law), and lets the clean slopes fail too.
    # Catches a judge that matches the word "fail" alone: a check that fails everything (or fails elsewhere
    # than registered) would be a green strict xfail.
    claim = CLAIMS["P3d"]
    at, clean, ratio = ("[k sqrt d] log-log slope of n_eff (AT) in d", "[k constant] log-log slope of n_eff (clean) in d",
                        "[k constant] log-log slope of eps_c(AT)/eps_c(clean) in d/k")
    assert claim.judge("fail", failing=[at]).matches
    assert claim.judge("fail", failing=[at, clean]).matches  # may_fail
    extra = claim.judge("fail", failing=[at, ratio])
    assert not extra.matches and extra.unregistered_failures == (ratio,)
    assert extra.problem().startswith("verdict 'fail' as registered, but conditions fail that the registered failure "
                                      "does not name: [k constant] log-log slope of eps_c")
    moved = claim.judge("fail", failing=[clean])
    assert not moved.matches and moved.missing_failures == ("[*] log-log slope of n_eff (AT) in d",)
    with pytest.raises(VerdictMismatch, match=r"^\[P3d\] verdict 'fail' as registered, but the registered failure is "
                                              r"not among the failing conditions"):
        moved.enforce("msg")
    with pytest.raises(RegisteredOutcome):
        claim.judge("fail", failing=[at]).enforce("msg")
    # "*" is the only wildcard: brackets in condition names are literal
    assert not claim.judge("fail", failing=["k log-log slope of n_eff (AT) in d"]).matches


def test_every_registered_fail_names_its_failing_conditions():
    import theorems.registry as registry

    claim = CLAIMS["Q2"]
    with pytest.raises(ValueError, match=r"^claim Q2: a registered fail needs fails_on"):
        dataclasses.replace(claim, fails_on=(), may_fail=())
    with pytest.raises(ValueError, match=r"^claim P2: may_fail needs fails_on"):
        dataclasses.replace(CLAIMS["P2"], may_fail=("x",))
    registered_fail = [c.id for c in registry.CLAIMS.values()
                       if c.expected == "fail" or any(v == "fail" for _, v, _ in c.expected_by_profile)]
    assert registered_fail and all(CLAIMS[cid].fails_on for cid in registered_fail)


def test_claim_judge_reads_the_profile_expectation():
    """A per-profile registered verdict (data in the catalogue) replaces the default at that profile only;
    overrides still demand pass. Catches a judge that ignores the profile, or applies it to every profile."""
    claim = next(c for c in CLAIMS.values() if c.expected_by_profile)
    prof, verdict, _ = claim.expected_by_profile[0]
    other = next(p for p in ("quick", "ci", "thorough") if p not in {e[0] for e in claim.expected_by_profile})
    assert verdict != claim.expected  # an entry that repeats the default would be noise
    assert claim.judge(verdict, profile=prof).matches and not claim.judge(verdict, profile=other).matches
    assert claim.judge(claim.expected, profile=other).matches and not claim.judge(claim.expected, profile=prof).matches
    assert not claim.judge(verdict, overridden=True, profile=prof).matches or verdict == "pass"
    assert claim.reason(claim.defaults(prof), prof) != claim.reason(claim.defaults(other), other)


@pytest.mark.parametrize("entry, message", [
    (("nightly", "pass", "why"), "claim Zp: expected_by_profile profile must be one of"),
    (("ci", "maybe", "why"), "claim Zp: expected_by_profile['ci'] must be one of"),
    (("ci", "fail", ""), "claim Zp: expected_by_profile['ci'] needs a reason"),
])
def test_claim_refuses_a_bad_profile_expectation(entry, message):
    base = next(iter(CLAIMS.values()))
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        dataclasses.replace(base, id="Zp", params=_zp_params(base), expected_by_profile=(entry,))


def test_controls_run_at_the_control_profiles_sizes_with_the_reviewers_overrides():
    """At thorough a control runs at ci's sizes (theorems.profiles.CONTROL_SIZES), with the reviewer's overrides and
    then its own; at the other profiles at the run's own sizes. Catches a control run at the main check's sizes, one
    that drops the reviewer's overrides, or one whose own overrides lose to them."""
    from .profiles import control_profile
    from .protocol import ClaimSession

    assert [control_profile(p) for p in ("quick", "ci", "thorough", "stress")] == ["quick", "ci", "ci", "stress"]
    with pytest.raises(ValueError, match=r"^profile must be one of quick, ci, thorough, stress, got 'nightly'$"):
        control_profile("nightly")
    claim = CLAIMS["P3d"]
    ctl = claim.control("eps_zero")
    assert claim.defaults("thorough").flat()["grid.d"] != claim.defaults("ci").flat()["grid.d"]
    review = {"seeds.n": 2, "train.eps": 0.3}
    thorough = ClaimSession("thorough", {"P3d": review}, None).control_params("P3d", "eps_zero")
    assert thorough == ctl.params(claim.resolve("ci", review))
    assert thorough.flat()["seeds.n"] == 2 and thorough.flat()["train.eps"] == 0.0  # the control's own override wins
    quick = ClaimSession("quick", {}, None).control_params("P3d", "eps_zero")
    assert quick == ctl.params(claim.defaults("quick"))


def _zp_params(base):
    return type("ZpParams", (base.params,), {"CLAIM": "Zp"})


# ------------------------------------------------------------------ parameters
@dataclass(frozen=True)
class _Train(Section):
    NAME = "train"
    eps: float = key("train.eps", 0.4, hi=2.0)
    steps: int = key("train.steps", 100)
    optimiser: str = key("train.optimiser", "adam")


@dataclass(frozen=True)
class _Draw(Section):
    NAME = "draw"
    b: tuple = param((0.1, 0.9), "range of b", role="range", lo=0.0, hi=1.0)


@dataclass(frozen=True)
class _Params(ClaimParams):
    CLAIM = "Z0"
    train: _Train = _Train()
    draw: _Draw = _Draw()


@pytest.mark.parametrize("values, message", [
    ({"train.eps": 3.0}, r"^Z0\.train\.eps must be a real number in \[0, 2\], got 3$"),
    ({"train.steps": 2.5}, r"^Z0\.train\.steps must be an integer in \[1, 10000000\], got 2\.5$"),
    ({"train.steps": True}, r"^Z0\.train\.steps must be an integer"),  # a bool is not an int here
    ({"train.optimiser": "rmsprop"}, r"^Z0\.train\.optimiser must be one of 'adam', 'sgd', got 'rmsprop'$"),
    ({"draw.b": (0.9, 0.1)}, r"^Z0\.draw\.b must be a range \[lo, hi\] with lo <= hi"),
    ({"draw.b": (0.1, 1.5)}, r"^Z0\.draw\.b must be a range"),
    ({"train.nosuch": 1}, r"^Z0\.train\.nosuch: unknown parameter of Z0 \(known: train\.eps, "),
])
def test_bad_values_name_the_key_and_the_allowed_range(values, message):
    with pytest.raises(ParamError, match=message):
        _Params().with_values(values)


def test_values_are_normalised_and_params_hashable():
    p = _Params().with_values({"train.eps": 1, "train.steps": 20.0, "draw.b": [0.2, 0.3]})
    assert p.train.eps == 1.0 and isinstance(p.train.eps, float)
    assert p.train.steps == 20 and isinstance(p.train.steps, int)
    assert p.draw.b == (0.2, 0.3)
    assert hash(p) == hash(_Params().with_values({"train.eps": 1.0, "train.steps": 20, "draw.b": (0.2, 0.3)}))
    assert p.diff(_Params()) == {"train.eps": {"value": 1.0, "default": 0.4}, "train.steps": {"value": 20, "default": 100},
                                 "draw.b": {"value": [0.2, 0.3], "default": [0.1, 0.9]}}


def test_key_may_narrow_but_not_widen_the_vocabulary():
    with pytest.raises(ValueError, match=r"^train\.eps: hi 200 widens"):
        key("train.eps", 0.4, hi=200)
    with pytest.raises(ValueError, match=r"^train\.optimiser: choices"):
        key("train.optimiser", "adam", choices=("adam", "lbfgs"))
    with pytest.raises(KeyError):
        key("train.nosuch", 1.0)


def test_render_fills_values_and_formats():
    p = _Params().with_values({"train.eps": 0.25})
    assert render("AT at eps = {train.eps}, b in [{draw.b}], {train.eps:.3f}", p) == \
        "AT at eps = 0.25, b in [0.1, 0.9], 0.250"
    with pytest.raises(ParamError, match=r"^Z0: template refers to unknown parameter train\.lr"):
        render("{train.lr}", p)


def test_toml_round_trip(tmp_path):
    p = _Params().with_values({"train.eps": 0.1 + 0.2})  # a float whose repr needs all 17 digits
    path = tmp_path / "p.toml"
    path.write_text(to_toml(p, defaults=_Params()))
    back = load_toml(path)
    assert p.with_values(back["Z0"]) == p


@pytest.mark.parametrize("text, want", [
    ("P3.train.eps=0.3", ("P3", "train.eps", 0.3)), ("P3.train.optimiser=sgd", ("P3", "train.optimiser", "sgd")),
    ("P3.grid.d=[16, 32]", ("P3", "grid.d", [16, 32])), ("P3.eval.zero=true", ("P3", "eval.zero", True)),
])
def test_parse_assignment(text, want):
    assert parse_assignment(text) == want


@pytest.mark.parametrize("text, message", [
    ("P3.train.eps", r"^--set 'P3\.train\.eps': expected ID\.KEY=VALUE"),
    ("eps=0.3", r"^--set 'eps=0\.3': the key must start with a claim id"),
])
def test_parse_assignment_rejects(text, message):
    with pytest.raises(ParamError, match=message):
        parse_assignment(text)


def test_parse_value_keeps_bare_words_as_strings():
    assert parse_value("adam") == "adam" and parse_value("1e-3") == 1e-3 and parse_value("inf") == math.inf


def test_load_toml_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[P3.train\neps = 1")
    with pytest.raises(ParamError, match=r"^--params .*bad\.toml: not valid TOML"):
        load_toml(bad)
    flat = tmp_path / "flat.toml"
    flat.write_text("eps = 1\n")
    with pytest.raises(ParamError, match=r"^--params .*flat\.toml: top-level key 'eps' must be a table"):
        load_toml(flat)
    with pytest.raises(ParamError, match=r"^--params .*nofile\.toml: no such file"):
        load_toml(tmp_path / "nofile.toml")


# ------------------------------------------------------------------ results merging
def _rec(cid="P2", params=None, main=True, controls=(("a", "fail"), ("b", "not run")), verdict="pass"):
    return {"id": cid, "params": params or {"net": {"b": 0.3}}, "main_ran": main, "verdict": verdict,
            "runtime_s": 1.0, "controls": [{"name": n, "observed": o} for n, o in controls]}


def test_merge_keeps_parts_the_new_run_did_not_run():
    old = _rec(controls=(("a", "fail"), ("b", "fail")))
    new = _rec(main=False, controls=(("a", "not run"), ("b", "pass")), verdict="inconclusive")
    merged = merge_record(old, new)
    assert merged["main_ran"] and merged["verdict"] == "pass"  # old main kept
    assert [c["observed"] for c in merged["controls"]] == ["fail", "pass"]  # new control b replaces old


def test_merge_drops_parts_run_at_other_parameters():
    old = _rec(controls=(("a", "fail"), ("b", "fail")))
    new = _rec(params={"net": {"b": 0.0}}, controls=(("a", "not run"), ("b", "not run")), verdict="fail")
    assert merge_record(old, new) == new  # never mixes outcomes of different parameter sets


def test_merge_lets_a_crash_replace_the_outcome_it_would_have_replaced():
    # Catches a merge that treats a crashed part as "not run" and puts the earlier run's verdict back: the
    # results file (and the report) would show the old pass for code that now raises.
    old = _rec(controls=(("a", "fail"), ("b", "fail")))
    new = {**_rec(main=False, controls=(("a", "crashed"), ("b", "not run")), verdict="inconclusive"),
           "main_error": "TypeError: a bug", "match": {"matches": False, "crashed": True}}
    merged = merge_record(old, new)
    assert (merged["main_ran"], merged["main_error"], merged["match"]["matches"]) == (False, "TypeError: a bug", False)
    assert [c["observed"] for c in merged["controls"]] == ["crashed", "fail"]  # b was not run: old b kept


def test_results_file_is_atomic_and_readable_by_others(tmp_path):
    path = tmp_path / "results.json"
    write_atomically({"a": 1}, path)
    assert json.loads(path.read_text()) == {"a": 1}
    assert (path.stat().st_mode & 0o777) == 0o644
    with pytest.raises(ValueError):
        write_atomically({"a": float("nan"), "b": {"c": [1, {"d": json}]}, "e": {1: 2}}, path, ) if False else \
            write_atomically({"a": 1, "self": _Circular()}, path)  # fails mid-write: the old file stays whole
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]  # no temp file left behind


class _Circular:
    def to_dict(self):
        d = {}
        d["again"] = d  # a circular structure: json.dump raises ValueError after writing part of the file
        return d


# ------------------------------------------------------------------ end to end: nothing green by accident
_META_HEAD = """
from dataclasses import dataclass
from theorems.parameters import ClaimParams, Section, param
from theorems.registry import Claim, control, register
from theorems.protocol import bind
from theorems.verdict import Outcome, condition
from numerics.estimates import Estimate

@dataclass(frozen=True)
class J(Section):
    NAME = "judge"
    value: float = param(0.0, "what the check reports: > 1 pass, < -1 fail, else inconclusive",
                         role="threshold", lo=-10, hi=10)
    crash: bool = param(False, "the check raises TypeError (a bug)")

def make(cid, value, crash):
    @dataclass(frozen=True)
    class P(ClaimParams):
        CLAIM = cid
        judge: J = J(value, crash)
    return P

def check(params):
    if params.judge.crash:
        raise TypeError("a bug in the check")
    v = params.judge.value
    return Outcome(params.CLAIM, [condition("v", Estimate(v, v - 1, v + 1, "mc"), "above", 0.0)])

def claim(cid, value, crash, expected, fails_on=("v",)):
    register(Claim(id=cid, title="synthetic", paper_claims=(), scope="beyond",
                   statement="v {judge.value} {judge.crash}", regime="synthetic", params=make(cid, value, crash),
                   check=__name__ + ":check", tests=__name__ + ".py",
                   controls=(control("neg", "negative", expected="fail", judge__value=-5.0, judge__crash=False),),
                   expected=expected, expected_reason=None if expected == "pass" else "synthetic reason",
                   fails_on=fails_on if expected == "fail" else ()))
    bind(globals(), cid)
"""

# (claim, check crashes, value -> verdict, registered expectation, pytest outcome of its main test)
_CASES = [
    ("Z1", True, 0.0, "fail", "FAILED"),          # a crash where fail is registered: red, never the xfail
    ("Z2", False, 0.0, "fail", "FAILED"),         # inconclusive where fail is registered: red
    ("Z3", False, -5.0, "fail", "XFAIL"),         # exactly the registered fail: a visible strict xfail
    ("Z4", False, 5.0, "fail", "FAILED"),         # passes where fail is registered: red (no silent xpass)
    ("Z5", False, 5.0, "pass", "PASSED"),
    ("Z6", False, -5.0, "inconclusive", "FAILED"),  # fail where inconclusive is registered: red
    ("Z19", False, -5.0, ("fail", "w"), "FAILED"),  # fails, but on "v" where the registered failure is "w": red
]


def _meta(pytester, name: str, body: str, *args):
    pytester.makepyfile(**{name: _META_HEAD + body})
    # -p registers the synthetic claims before pytest_configure validates any --set.
    return pytester.runpytest_subprocess("-p", name, "-p", "theorems.conftest", "-p", "no:cacheprovider", "-rA",
                                         "--results-dir", str(pytester.path / "res"), *args)


def test_only_the_registered_verdict_is_green(pytester):
    body = "".join(f"claim({cid!r}, {value!r}, {crash!r}, {exp!r})\n" if isinstance(exp, str) else
                   f"claim({cid!r}, {value!r}, {crash!r}, {exp[0]!r}, fails_on=({exp[1]!r},))\n"
                   for cid, crash, value, exp, _ in _CASES)
    res = _meta(pytester, "test_meta_verdicts", body, "-k", "not control")
    for cid, _, _, _, want in _CASES:
        res.stdout.fnmatch_lines([f"{want} test_meta_verdicts.py::test_{cid}*"])
    res.assert_outcomes(failed=5, xfailed=1, passed=1)
    data = json.loads((pytester.path / "res" / "results.json").read_text())
    crashed = next(c for c in data["claims"] if c["id"] == "Z1")
    assert crashed["main_ran"] is False and crashed["message"].startswith("main check crashed: TypeError")
    # the run's thread pins, read back from the pools (unpinned, torch and OpenBLAS take one thread per core)
    assert data["environment"]["threads"] == {"torch": 1, "blas": 1}


_CRASH_BODY = """
import os
def check_or_crash(params):
    if os.environ.get("META_CRASH"):
        raise TypeError("a bug introduced since the last run")
    return check(params)
register(Claim(id="Z20", title="synthetic", paper_claims=(), scope="beyond", statement="v {judge.value} {judge.crash}",
               regime="synthetic", params=make("Z20", 0.0, False), check=__name__ + ":check_or_crash",
               tests=__name__ + ".py", expected="inconclusive", expected_reason="synthetic reason",
               controls=(control("neg", "negative", expected="fail", judge__value=-5.0),)))
bind(globals(), "Z20")
"""


def test_a_crash_in_a_later_run_is_recorded_not_merged_away(pytester, monkeypatch):
    # The same claim at the same parameters, first run sound, then rerun into the same results file with a check
    # that raises. Catches: a crash recorded as "not run" (merging would keep the first run's outcomes), and a
    # crashed main check whose "inconclusive" is matched against a registered "inconclusive" (green by accident).
    first = _meta(pytester, "test_meta_crash", _CRASH_BODY)
    first.assert_outcomes(passed=1, xfailed=1)  # inconclusive is registered: a strict xfail
    data = json.loads((pytester.path / "res" / "results.json").read_text())
    (z,) = data["claims"]
    assert (z["verdict"], z["match"]["matches"], z["controls"][0]["observed"]) == ("inconclusive", True, "fail")
    assert z["main_runtime_s"] >= 0 and z["controls"][0]["runtime_s"] >= 0  # each part timed on its own
    assert z["runtime_s"] == pytest.approx(z["main_runtime_s"] + z["controls"][0]["runtime_s"], abs=2e-3)
    monkeypatch.setenv("META_CRASH", "1")
    second = _meta(pytester, "test_meta_crash", _CRASH_BODY)
    second.assert_outcomes(failed=2)
    (z,) = json.loads((pytester.path / "res" / "results.json").read_text())["claims"]
    assert z["main_ran"] is False and z["main_error"].startswith("TypeError: a bug introduced")
    assert z["match"]["matches"] is False and z["match"]["crashed"] is True
    ctl = z["controls"][0]
    assert (ctl["observed"], ctl["matches"]) == ("crashed", False)
    assert ctl["details"]["message"].startswith("control check crashed: TypeError: a bug introduced")


def test_overrides_assert_pass_and_bad_keys_stop_the_run(pytester):
    body = "claim('Z7', -5.0, False, 'fail')\n"
    res = _meta(pytester, "test_meta_over", body, "--set", "Z7.judge.value=5")
    res.assert_outcomes(passed=2)  # main passes under the override; the control sets value = -5 and fails as registered
    rec = json.loads((pytester.path / "res" / "results.json").read_text())["claims"][0]
    assert rec["overrides"] == {"judge.value": {"value": 5.0, "default": -5.0}}
    assert rec["statement"].startswith("v 5 ") and "--set Z7.judge.value=5.0" in rec["replay"]
    res = _meta(pytester, "test_meta_over", body, "--set", "Z7.judge.value=-3")
    res.assert_outcomes(failed=1, passed=1)  # under an override a failing claim is red, not the registered xfail
    (pytester.path / "res" / "results.json").unlink()
    res = _meta(pytester, "test_meta_over", body, "--set", "Z7.judge.nosuch=1")
    assert res.ret == 4
    assert "Z7.judge.nosuch: unknown parameter of Z7" in res.stderr.str()
    res = _meta(pytester, "test_meta_over", body, "--set", "Z7.judge.value=50")
    assert res.ret == 4 and "Z7.judge.value must be a real number in [-10, 10], got 50" in res.stderr.str()
    assert not (pytester.path / "res" / "results.json").exists()  # nothing written


def test_a_bad_thread_count_stops_the_run_before_anything_runs(pytester, monkeypatch):
    monkeypatch.setenv("PURECHECK_BLAS_THREADS", "many")
    res = _meta(pytester, "test_meta_threads", "claim('Z7', 5.0, False, 'pass')\n")
    assert res.ret == 4
    assert "PURECHECK_BLAS_THREADS must be a whole number of threads from 1 to 1024, got 'many'" in res.stderr.str()
    assert not (pytester.path / "res" / "results.json").exists()


def test_xdist_workers_run_with_the_pinned_threads(pytester):
    # The record is the controller's; the checks run on the workers, which must pin as well (each runs
    # pytest_configure). Catches a pin made only in the controller, or only for torch.
    body = ("claim('Z7', 5.0, False, 'pass')\n"
            "def test_threads_in_force():\n"
            "    from theorems.threads import thread_counts\n"
            "    assert thread_counts() == {'torch': 1, 'blas': 1}\n")
    res = _meta(pytester, "test_meta_worker_threads", body, "-n", "2", "-k", "threads_in_force")
    res.assert_outcomes(passed=1)


def test_interrupted_xdist_run_keeps_the_claims_that_finished(pytester):
    # Z8 finishes on the worker; Z9's check then interrupts the controller (as Ctrl-C does) before the worker can
    # hand over its records through xdist. Catches: a controller that writes only what workers hand over at their
    # end (nothing here), or one that reads another run's spool, or leaves the spool behind.
    body = ("claim('Z8', 5.0, False, 'pass')\n"
            "import os, signal, time\n"
            "def test_Z9_interrupts():\n"
            "    os.kill(os.getppid(), signal.SIGINT)\n"
            "    time.sleep(30)\n")
    stale = pytester.path / "res" / ".spool" / "1-gw0-Z7.json"  # an earlier run's spool: never read
    stale.parent.mkdir(parents=True)
    stale.write_text(json.dumps({"worker": "gw0", "records": {"Z7": {"id": "Z7"}}, "stress": {}}))
    # A background job of a non-interactive shell starts with SIGINT ignored, and the controller under test
    # would inherit that and never see the interrupt: give it the default disposition (a handler, unlike
    # "ignored", does not survive exec), and put "ignored" back after.
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        res = _meta(pytester, "test_meta_intr", body, "-n", "1", "-k", "not control")
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    assert res.ret == 2  # interrupted
    data = json.loads((pytester.path / "res" / "results.json").read_text())
    assert [(c["id"], c["verdict"], c["main_ran"]) for c in data["claims"]] == [("Z8", "pass", True)]
    assert [p.name for p in stale.parent.iterdir()] == [stale.name]  # this run's spool removed, the stale one kept


def test_xdist_runs_each_claims_tests_on_one_worker(pytester):
    # A claim's main test and its controls share cached computations (trained nets). Catches a grouping that
    # xdist ignores: the workers re-parse `-n 2` as dist "load" and add no group to the node ids, or a pytest
    # whose node ids no longer carry xdist's "@group" suffix; either way the claims were split over workers.
    body = "".join(f"claim('Z{i}', 5.0, False, 'pass')\n" for i in range(10, 14))
    res = _meta(pytester, "test_meta_group", body, "-n", "2", "-v")
    res.assert_outcomes(passed=8)
    ran: dict[str, set[str]] = {}
    for line in res.stdout.lines:
        m = re.match(r"\[(gw\d+)\] .*(PASSED|SKIPPED).*::test_(Z\d+)", line)
        if m:
            ran.setdefault(m.group(3), set()).add(m.group(1))
    assert sorted(ran) == ["Z10", "Z11", "Z12", "Z13"], res.stdout.str()
    assert all(len(w) == 1 for w in ran.values()), f"claims split over workers: {ran}"


def test_records_are_stamped_with_the_commit_at_the_start_of_the_run(monkeypatch):
    # Catches a stamp read when the records are written: a commit made during a long run (the code that ran
    # is the tree at its start) would be named as the code that produced the verdicts.
    from . import results

    monkeypatch.setattr(results, "git_state", lambda: ("a" * 40, False))
    rec = results.RunRecorder("quick", "pytest theorems")
    monkeypatch.setattr(results, "git_state", lambda: ("b" * 40, True))
    assert (rec.stamp()["commit"], rec.stamp()["dirty"]) == ("a" * 40, False)


@pytest.mark.parametrize("crash", [AssertionError, ValueError])
def test_a_crashing_example_is_red_even_after_a_failing_one(crash):
    # x = 7 fails its condition (recorded, shrunk); x = 1 crashes inside the check. Catches a property run that
    # swallows every AssertionError once a failure is recorded: a bare `assert` in an engine (sympy's derivations
    # in theorems/symbolic.py) would turn into the "fail" a negative control expects.
    from hypothesis import given, settings, strategies as st

    from .protocol import PropertyTally, run_property

    tally = PropertyTally("S1", "exact")

    @settings(max_examples=200, derandomize=True, database=None)
    @given(st.integers(0, 10))
    def prop(x):
        if x == 1:
            raise crash("an engine's internal invariant broke")
        tally.judge({"x": x}, [condition("x small", Estimate.exact(x), "below", 5.0)])

    with pytest.raises(BaseException) as info:
        run_property(tally, prop)
    raised = [info.value] if not isinstance(info.value, BaseExceptionGroup) else list(info.value.exceptions)
    assert any(type(e) is crash for e in raised), raised
    assert tally.failing is not None  # the failing example was recorded before the crash surfaced


def test_a_failing_example_alone_is_recorded_and_swallowed():
    from hypothesis import given, settings, strategies as st

    from .protocol import PropertyTally, run_property

    tally = PropertyTally("S1", "exact")

    @settings(max_examples=200, derandomize=True, database=None)
    @given(st.integers(0, 10))
    def prop(x):
        tally.judge({"x": x}, [condition("x small", Estimate.exact(x), "below", 5.0)])

    run_property(tally, prop)
    assert tally.failing["params"] == {"x": 5}  # shrunk to the smallest failing x (5 is not below 5)
    assert tally.outcome().verdict == "fail"


def test_a_results_target_is_checked_before_the_run(tmp_path):
    # Catches runs that compute for minutes and then crash on an unwritable folder, or that "merge" into a file
    # they cannot read and so replace it, dropping every record it held.
    from .results import results_target_problem

    assert results_target_problem(tmp_path / "new" / "results.json", fresh=False) is None  # creatable, writable
    assert list(tmp_path.iterdir()) == []  # nothing created, the probe removed
    old = tmp_path / "results.json"
    old.write_text(json.dumps({"schema": 1, "claims": []}))
    assert results_target_problem(old, fresh=False) == (
        f"{old} is not a schema-2 results file (schema 1); use another folder or --fresh to replace it")
    assert results_target_problem(old, fresh=True) is None
    old.write_text('{"schema": 2, "claims": [')  # torn
    assert results_target_problem(old, fresh=False, fresh_option=None).startswith(
        f"{old} is not readable JSON (JSONDecodeError); use another folder")
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    assert results_target_problem(blocker / "sub" / "results.json", fresh=True).startswith(
        f"{blocker / 'sub'} is not a writable folder (")


def test_pytest_refuses_a_results_file_it_cannot_merge_into(pytester):
    res_dir = pytester.path / "res"
    res_dir.mkdir()
    (res_dir / "results.json").write_text(json.dumps({"schema": 1, "claims": [{"id": "kept"}]}))
    res = _meta(pytester, "test_meta_target", "claim('Z21', 5.0, False, 'pass')\n")
    assert res.ret == 4 and "--results-dir: " in res.stderr.str() and "is not a schema-2 results file" in res.stderr.str()
    assert json.loads((res_dir / "results.json").read_text())["claims"] == [{"id": "kept"}]  # untouched


def test_the_manifest_names_the_commit_the_run_started_from(monkeypatch, tmp_path):
    # Catches a manifest whose commit is read when the file is written: a commit made during a long run would
    # be named as the code of every record, while the records' stamps name the one they ran.
    from . import results

    monkeypatch.setattr(results, "git_state", lambda: ("a" * 40, False))
    rec = results.RunRecorder("quick", "pytest theorems")
    monkeypatch.setattr(results, "git_state", lambda: ("b" * 40, True))
    data = results.merge_file(tmp_path / "results.json", {}, fresh=True, profile="quick", command="pytest theorems",
                              started=rec.started, git=rec.git)
    assert (data["environment"]["commit"], data["environment"]["dirty"]) == ("a" * 40, False)
