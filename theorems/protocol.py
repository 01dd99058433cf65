"""How a claim is checked: resolve its parameters, run its check, record the outcome, judge the verdict.

:class:`ClaimSession` is the one runner: ``run_main(id)`` runs a claim's check at its
parameters (registered defaults at the profile, with any reviewer overrides) and enforces
:meth:`theorems.registry.Claim.judge` (the registered verdict, or ``pass`` under overrides);
``run_control(id, name)`` runs the same check on the control's parameter variant and
requires the control's registered verdict. ``bind`` turns registry entries into pytest
test functions: the ``test_*.py`` files only bind. ``PropertyTally`` turns a hypothesis
property into an :class:`Outcome`: every drawn example is recorded, a failing example is
shrunk by hypothesis and the smallest one becomes the counterexample.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from hypothesis import note

from numerics.estimates import Estimate

from .profiles import control_profile
from .registry import CLAIMS, VerdictMismatch
from .results import ClaimRecord, RunRecorder
from .verdict import Condition, Outcome, combine, condition

MAX_RECORDED_EXAMPLES = 40


@dataclass
class ClaimSession:
    """Runs claims at a profile with reviewer overrides, recording every outcome."""

    profile: str
    overrides: dict[str, dict[str, Any]]
    recorder: RunRecorder
    _resolved: dict[str, tuple] = field(default_factory=dict)

    def params(self, claim_id: str):
        """``(params, defaults)`` of a claim in this session (validated once)."""
        if claim_id not in self._resolved:
            claim = CLAIMS[claim_id]
            defaults = claim.defaults(self.profile)
            over = self.overrides.get(claim_id) or {}
            self._resolved[claim_id] = (defaults.with_values(over) if over else defaults, defaults)
        return self._resolved[claim_id]

    def overridden(self, claim_id: str) -> bool:
        params, defaults = self.params(claim_id)
        return bool(params.diff(defaults))

    def _record(self, claim_id: str) -> ClaimRecord:
        params, defaults = self.params(claim_id)
        return self.recorder.record(claim_id, params, defaults)

    def run_main(self, claim_id: str) -> Outcome:
        claim = CLAIMS[claim_id]
        params, _ = self.params(claim_id)
        rec = self._record(claim_id)
        t0 = time.perf_counter()
        try:
            outcome = claim.run(params)
        except Exception as exc:  # an interrupt (KeyboardInterrupt) is no crash: the part stays "not run"
            rec.error = _error_text(exc)
            raise
        rec.record_main(outcome, time.perf_counter() - t0)
        judgement = claim.judge_outcome(outcome, overridden=self.overridden(claim_id), profile=self.profile)
        judgement.enforce(outcome.message())
        return outcome

    def control_params(self, claim_id: str, name: str):
        """A control's parameters in this session: the claim's defaults at the control profile of this session's
        profile (:func:`theorems.profiles.control_profile`), the reviewer's overrides, then the control's own."""
        claim = CLAIMS[claim_id]
        prof = control_profile(self.profile)
        base = self.params(claim_id)[0] if prof == self.profile else claim.resolve(prof, self.overrides.get(claim_id))
        return claim.control(name).params(base)

    def run_control(self, claim_id: str, name: str) -> Outcome:
        claim = CLAIMS[claim_id]
        ctl = claim.control(name)
        params = self.control_params(claim_id, name)
        rec = self._record(claim_id)
        t0 = time.perf_counter()
        try:
            outcome = claim.run(params)
        except Exception as exc:
            rec.record_control_crash(ctl, _error_text(exc), time.perf_counter() - t0, profile=control_profile(self.profile))
            raise
        rec.record_control(ctl, outcome, time.perf_counter() - t0, profile=control_profile(self.profile))
        if outcome.verdict != ctl.expected:
            raise VerdictMismatch(
                f"[{claim_id}] control {name!r} ({ctl.description}; overrides {dict(ctl.overrides)}; "
                f"{control_profile(self.profile)} sizes): expected the "
                f"check to report {ctl.expected!r}, it reported {outcome.verdict!r}: {outcome.message()}")
        return outcome

    def run_stress(self, claim_id: str) -> dict:
        """The stress search over the claim's StressPlan at this session's parameters, recorded for results.json.

        Red when a point's check crashed or the search's own evaluation of the registered defaults
        disagrees with the registered verdict (theorems.stress_search.audit); a counterexample is a
        finding, recorded in the ``stress`` section, not a failure of this test.
        """
        from .stress_search import audit, run_stress_plan

        claim = CLAIMS[claim_id]
        params, defaults = self.params(claim_id)
        over = {k: v["value"] for k, v in params.diff(defaults).items()}
        result = run_stress_plan(claim, self.profile, over, command=self.recorder.command)
        self.recorder.record_stress(claim_id, result)
        expected = claim.judge("pass", overridden=self.overridden(claim_id), profile=self.profile).expected
        problems = audit(result, expected)
        if problems:
            raise VerdictMismatch(f"[{claim_id}] stress search: " + "; ".join(problems))
        return result


def _error_text(exc: Exception) -> str:
    """A crash in one line, for the record: the exception's type and its message's first 300 characters."""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"


def bind(namespace: dict, *claim_ids: str) -> None:
    """Define ``test_<ID>`` and ``test_<ID>_control_<name>`` in ``namespace`` for each claim (the test module)."""
    import pytest

    for cid in claim_ids:
        claim = CLAIMS[cid]
        namespace[f"test_{cid}"] = _named(pytest.mark.claim(cid)(_main_test(cid)), f"test_{cid}", namespace)
        for ctl in claim.controls:
            name = f"test_{cid}_control_{ctl.name}"
            namespace[name] = _named(pytest.mark.claim(cid, control=ctl.name)(_control_test(cid, ctl.name)), name,
                                     namespace)
        if claim.stress is not None:  # the stress profile's search over the claim's StressPlan (conftest skips it
            name = f"test_{cid}_stress"  # under other profiles)
            namespace[name] = _named(pytest.mark.claim(cid, stress=True)(_stress_test(cid)), name, namespace)


def _main_test(cid: str):
    def test(claim_session):
        claim_session.run_main(cid)
    test.__doc__ = f"{cid}: {CLAIMS[cid].title} (main check at the session's parameters)."
    return test


def _control_test(cid: str, name: str):
    def test(claim_session):
        claim_session.run_control(cid, name)
    test.__doc__ = f"{cid}: negative control {name!r}: {CLAIMS[cid].control(name).description}"
    return test


def _stress_test(cid: str):
    def test(claim_session):
        claim_session.run_stress(cid)
    test.__doc__ = f"{cid}: stress search over its StressPlan (smallest counterexample, boundaries; stress profile)."
    return test


def _named(fn, name: str, namespace: dict):
    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = namespace.get("__name__", fn.__module__)
    return fn


class ExampleFailed(AssertionError):
    """A drawn example the check judged ``fail`` (raised so that hypothesis shrinks it). The only exception a
    property run swallows: any other, an ``assert`` inside an engine included, is a crash and stays red."""


@dataclass
class PropertyTally:
    """Collects hypothesis examples of one property and summarises them as an Outcome."""

    claim_id: str
    method: str
    examples: list[dict] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)
    failing: dict | None = None
    worst: dict[str, float] = field(default_factory=dict)

    def judge(self, params: dict, conditions: list[Condition], numbers: dict[str, Any] | None = None) -> str:
        """Record one example; raise :class:`ExampleFailed` when it fails so hypothesis shrinks it."""
        v = combine(c.verdict for c in conditions)
        ex = {"params": params, "verdict": v, "numbers": numbers or {},
              "conditions": [f"{c.describe()} -> {c.verdict}" for c in conditions]}
        note(f"[{self.claim_id}] example {params} -> {v}")
        if len(self.examples) < MAX_RECORDED_EXAMPLES:
            self.examples.append(ex)
        self.verdicts.append(v)
        if v == "fail":
            # Hypothesis replays the shrunk example last, so the final failing one is the smallest.
            self.failing = ex
            bad = "; ".join(f"{c.describe()} -> {c.verdict}" for c in conditions if c.verdict == "fail")
            raise ExampleFailed(f"[{self.claim_id}] FAIL  {bad} | counterexample: {params}")
        return v

    def outcome(self, evidence: dict | None = None, **kw) -> Outcome:
        n = len(self.verdicts)
        n_fail = sum(v == "fail" for v in self.verdicts)
        n_inc = sum(v == "inconclusive" for v in self.verdicts)
        conds = [
            condition("examples run", Estimate.exact(n), "above", 0.5),
            condition("failing examples", Estimate.exact(n_fail), "below", 0.5),
        ]
        if n_inc and not n_fail:
            conds.append(Condition("inconclusive examples", Estimate.exact(n_inc), "below", 0.5, "inconclusive"))
        ev = {"examples_run": n, "failing": n_fail, "inconclusive": n_inc}
        ev.update(evidence or {})
        keys = kw.pop("key_numbers", None) or [
            {"name": f"drawn examples passing (of {n})", **Estimate.exact(n - n_fail - n_inc).to_dict()}]
        return Outcome(self.claim_id, conds, evidence=ev, counterexample=self.failing,
                       examples=self.examples, method=self.method, key_numbers=keys, **kw)


def draw_examples(claim_id: str, method: str, strategy, check: Callable[..., tuple[list, dict]],
                  max_examples: int | None = None, **kwargs) -> PropertyTally:
    """Run ``check(params, **kwargs) -> (conditions, numbers)`` on hypothesis-drawn ``params``.

    Every example is judged and recorded; a failing one is shrunk and kept as the counterexample.
    """
    from hypothesis import given, settings

    tally = PropertyTally(claim_id, method)

    @given(strategy)
    def prop(params):
        conds, numbers = check(params, **kwargs)
        tally.judge(params, conds, numbers)

    if max_examples is not None:
        prop = settings(max_examples=max_examples)(prop)
    run_property(tally, prop)
    return tally


def run_property(tally: PropertyTally, prop: Callable[[], None]) -> None:
    """Run a ``@given`` property; a failure is already recorded in the tally, so swallow it here.

    Only failed judgements (:class:`ExampleFailed`, or hypothesis's group of several) are swallowed: an
    example that crashes, with an ``AssertionError`` of its own too, is re-raised even after a failing one was
    recorded, so a crash is red.
    """
    try:
        prop()
    except ExampleFailed:
        if tally.failing is None:
            raise
    except BaseExceptionGroup as group:  # hypothesis reports distinct failures together
        crashes = group.subgroup(lambda e: not isinstance(e, (ExampleFailed, BaseExceptionGroup)))
        if tally.failing is None or crashes is not None:
            raise
