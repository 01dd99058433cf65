"""The one verdict helper: estimates with intervals in, ``pass | fail | inconclusive`` out.

A condition compares an :class:`numerics.Estimate` with a threshold. ``pass`` needs the
whole interval on the claimed side; ``fail`` needs the whole interval on the contrary side
(and carries the counterexample); anything else is ``inconclusive``. Every message has one
format, readable without the test::

    [P2] FAIL  ratio slope 0.02 [0.02, 0.02] (exact) must be > 0.4 | counterexample: {...}
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from numerics.estimates import Estimate



@dataclass(frozen=True)
class Condition:
    """One requirement ``estimate <side> threshold`` with its outcome."""

    name: str
    estimate: Estimate
    side: str  # "above" or "below"
    threshold: float
    verdict: str

    def describe(self) -> str:
        op = ">" if self.side == "above" else "<"
        return f"{self.name} {self.estimate} must be {op} {self.threshold:.6g}"

    def to_dict(self) -> dict:
        return {"name": self.name, "estimate": self.estimate.to_dict(), "side": self.side,
                "threshold": self.threshold, "verdict": self.verdict}


def condition(name: str, estimate: Estimate, side: str, threshold: float) -> Condition:
    """Judge ``estimate`` against ``threshold``: pass if the interval excludes the contrary."""
    if side not in ("above", "below"):
        raise ValueError(f"side must be 'above' or 'below', got {side!r}")
    if estimate.method == "optimisation" and not estimate.details.get("converged", False):
        # An optimum that did not converge cannot support a pass or a fail.
        return Condition(name, estimate, side, threshold, "inconclusive")
    if estimate.excludes(threshold, side):
        v = "pass"
    elif estimate.excludes(threshold, "below" if side == "above" else "above") or (
        estimate.lower == estimate.upper == threshold
    ):
        v = "fail"
    else:
        v = "inconclusive"
    return Condition(name, estimate, side, threshold, v)


def combine(verdicts) -> str:
    """All pass -> pass; any fail -> fail; otherwise inconclusive."""
    verdicts = list(verdicts)
    if any(v == "fail" for v in verdicts):
        return "fail"
    if verdicts and all(v == "pass" for v in verdicts):
        return "pass"
    return "inconclusive"


@dataclass
class Outcome:
    """What a check returns: the verdict with its conditions, evidence, figures and counterexample."""

    claim_id: str
    conditions: list[Condition]
    evidence: dict[str, Any] = field(default_factory=dict)
    counterexample: dict | None = None
    key_numbers: list[dict] = field(default_factory=list)
    figures: list[dict] = field(default_factory=list)
    examples: list[dict] = field(default_factory=list)
    method: str = ""
    regions: list[dict] = field(default_factory=list)  # region maps (reports/README.md: RegionMap)
    scaling: list[dict] = field(default_factory=list)  # scaling in d (reports/README.md: Scaling)
    robustness_audit: list[dict] = field(default_factory=list)  # verified vs PGD-found errors per net

    @property
    def verdict(self) -> str:
        return combine(c.verdict for c in self.conditions)

    def message(self) -> str:
        """One line per failing/inconclusive condition, in the project's one format."""
        head = f"[{self.claim_id}] {self.verdict.upper()}"
        bad = [c for c in self.conditions if c.verdict != "pass"] or self.conditions
        body = "; ".join(c.describe() + f" -> {c.verdict}" for c in bad)
        tail = ""
        if self.counterexample:
            tail = " | counterexample: " + json.dumps(self.counterexample, sort_keys=True, default=str)[:600]
        return f"{head}  {body}{tail}"

    def to_dict(self) -> dict:
        return {
            "verdict": self.verdict,
            "method": self.method,
            "conditions": [c.to_dict() for c in self.conditions],
            "evidence": self.evidence,
            "counterexample": self.counterexample,
            "key_numbers": self.key_numbers,
            "figures": self.figures,
            "regions": self.regions,
            "scaling": self.scaling,
            "robustness_audit": self.robustness_audit,
        }


def exact_number(value: float, **details) -> Estimate:
    return Estimate.exact(value, **details)


def key_number(name: str, est: Estimate) -> dict:
    d = est.to_dict()
    d.pop("details", None)
    return {"name": name, **d}


def curve_points(xs, estimates) -> list[dict]:
    return [{"x": float(x), "value": e.value, "lower": e.lower, "upper": e.upper} for x, e in zip(xs, estimates)]
