"""How a claim is checked: run the check, record its outcome, assert its verdict.

``ClaimRunner.main`` runs a claim's check in its regime and asserts ``pass`` (the
conftest turns registered expected failures into strict xfails). ``ClaimRunner.control``
runs the same check on a negative-control variant and asserts the verdict registered for
that control. ``PropertyTally`` turns a hypothesis property into an :class:`Outcome`: every
drawn example is recorded (``note`` and the results file), a failing example is shrunk by
hypothesis and the smallest one becomes the counterexample.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from hypothesis import note

from numerics.estimates import Estimate

from .registry import CLAIMS
from .results import ClaimRecord
from .verdict import Condition, Outcome, combine, condition

MAX_RECORDED_EXAMPLES = 40


@dataclass
class ClaimRunner:
    claim_id: str
    record: ClaimRecord

    def main(self, check: Callable[..., Outcome], *args, **kwargs) -> Outcome:
        t0 = time.perf_counter()
        outcome = check(*args, **kwargs)
        self._own(outcome)
        self.record.record_main(outcome, time.perf_counter() - t0)
        for ex in outcome.examples:
            self.record.add_example(ex)
        assert outcome.verdict == "pass", outcome.message()
        return outcome

    def control(self, name: str, check: Callable[..., Outcome], *args, **kwargs) -> Outcome:
        ctl = CLAIMS[self.claim_id].control(name)
        t0 = time.perf_counter()
        outcome = check(*args, **kwargs)
        self._own(outcome)
        self.record.record_control(ctl, outcome, time.perf_counter() - t0)
        assert outcome.verdict == ctl.expected, (
            f"[{self.claim_id}] control {name!r} ({ctl.description}): expected the check to report "
            f"{ctl.expected!r}, it reported {outcome.verdict!r}: {outcome.message()}"
        )
        return outcome

    def _own(self, outcome: Outcome) -> None:
        if outcome.claim_id != self.claim_id:
            raise AssertionError(f"check returned an outcome for {outcome.claim_id}, expected {self.claim_id}")


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
        """Record one example; raise AssertionError when it fails so hypothesis shrinks it."""
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
            raise AssertionError(f"[{self.claim_id}] FAIL  {bad} | counterexample: {params}")
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
    """Run a ``@given`` property; a failure is already recorded in the tally, so swallow it here."""
    try:
        prop()
    except AssertionError:
        if tally.failing is None:
            raise
    except Exception as exc:  # hypothesis wraps multiple failures; keep the recorded smallest one
        if tally.failing is None:
            raise
        tally.failing.setdefault("error", f"{type(exc).__name__}: {str(exc)[:300]}")
