"""The claims catalogue as data: one registry read by the checks, the results file, the report and the CLI.

A :class:`Claim` is a parameterised proposition: its parameter class (typed, validated
defaults: :mod:`theorems.parameters`), its statement and regime as templates rendered from
the parameter values actually used, the check that decides it (``check(params) -> Outcome``,
named by import path), its negative controls (parameter variants on which the same check
must report the registered verdict), the paper claim(s) it encodes with its scope, and the
verdict expected at the registered defaults with the reason when that is not ``pass``.

:meth:`Claim.judge` is the one rule comparing a verdict with the expectation; pytest,
``purecheck check`` and ``purecheck explore`` use it, and the results file records its
judgement for the report. With reviewer overrides the expectation is ``pass``: a theorem
is expected to hold at any constants inside its allowed ranges.

The entries themselves live in ``theorems/catalogue/<family>.py`` (one module per claim
family, with the family's parameter classes) and are assembled here in catalogue order.
"""
from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Callable

from .parameters import ClaimParams, ParamError, render, template_keys
from .profiles import PROFILE_NAMES, preset

VERDICTS = ("pass", "fail", "inconclusive")
SCOPES = ("paper", "extension", "lemma", "beyond")

# The paper's claims, as the project quotes them (abstract and summary of Xing et al., AISTATS 2024).
PAPER_CLAIMS: dict[str, str] = {
    "C1": "For supervised learning, adversarial training minimizes adversarial loss through feature purification "
          "while approximately preserving clean accuracy: each hidden node tends to encode only one (or very few) "
          "features.",
    "C2": "Only models minimizing adversarial loss achieve purification; many models can minimize the clean loss "
          "without purification, and those are vulnerable.",
    "C3": "For contrastive learning, adversarial training mainly purifies via negative (dissimilar) pairs; positive "
          "(similar) pairs are resistant to adversarial attacks before purification.",
    "C4": "Downstream tasks can inherit adversarial robustness through clean training if the pre-trained model has "
          "purified nodes.",
}


class RegisteredOutcome(Exception):
    """The check gave exactly the registered non-pass verdict: pytest shows it as a strict xfail (``raises=``)."""


class VerdictMismatch(AssertionError):
    """The check's verdict is not the one registered (or ``pass`` under reviewer overrides)."""


def _named_by(name: str, pattern: str) -> bool:
    """``pattern`` names the condition ``name``: equal, with ``*`` standing for any text (nothing else is
    special: condition names carry brackets, e.g. ``[k constant] log-log slope ...``)."""
    return re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), name, flags=re.DOTALL) is not None


@dataclass(frozen=True)
class Judgement:
    """The one comparison of a verdict with its expectation.

    A registered ``fail`` is matched by the conditions that fail, not by the word alone: every condition
    that fails must be one the registry names (``fails_on`` or ``may_fail`` patterns), and each
    ``fails_on`` pattern must name at least one that fails. A check that fails for another reason (a bug
    that fails everything, a failure moved elsewhere) is then a mismatch, not a green strict xfail.
    """

    claim_id: str
    verdict: str
    expected: str
    overridden: bool
    failing: tuple[str, ...] = ()  # the names of the conditions that failed
    fails_on: tuple[str, ...] = ()
    may_fail: tuple[str, ...] = ()

    @property
    def unregistered_failures(self) -> tuple[str, ...]:
        """Failing conditions that no registered pattern names (only judged for a registered fail)."""
        if not self._judges_failures:
            return ()
        return tuple(n for n in self.failing if not any(_named_by(n, p) for p in self.fails_on + self.may_fail))

    @property
    def missing_failures(self) -> tuple[str, ...]:
        """``fails_on`` patterns that name no failing condition (only judged for a registered fail)."""
        if not self._judges_failures:
            return ()
        return tuple(p for p in self.fails_on if not any(_named_by(n, p) for n in self.failing))

    @property
    def _judges_failures(self) -> bool:
        return self.verdict == self.expected == "fail" and not self.overridden

    @property
    def matches(self) -> bool:
        return self.verdict == self.expected and not self.unregistered_failures and not self.missing_failures

    def to_dict(self) -> dict:
        out = {"matches": self.matches, "expected": self.expected, "verdict": self.verdict,
               "overridden": self.overridden}
        if self._judges_failures:
            out.update(fails_on=list(self.fails_on), may_fail=list(self.may_fail),
                       unregistered_failures=list(self.unregistered_failures),
                       missing_failures=list(self.missing_failures))
        return out

    def problem(self) -> str:
        """Why the verdict does not match ('' when it does)."""
        if self.verdict != self.expected:
            why = "under reviewer overrides a claim must pass" if self.overridden else "registered expectation"
            return f"verdict {self.verdict!r}, expected {self.expected!r} ({why})"
        parts = []
        if self.unregistered_failures:
            parts.append("conditions fail that the registered failure does not name: "
                         + "; ".join(self.unregistered_failures))
        if self.missing_failures:
            parts.append("the registered failure is not among the failing conditions: " + "; ".join(self.missing_failures))
        return ("verdict 'fail' as registered, but " + " and ".join(parts)) if parts else ""

    def enforce(self, message: str) -> None:
        """Return when the verdict is the registered ``pass``; raise otherwise (typed, see above)."""
        if not self.matches:
            raise VerdictMismatch(f"[{self.claim_id}] {self.problem()}: {message}")
        if self.verdict != "pass":
            raise RegisteredOutcome(f"[{self.claim_id}] registered {self.expected}: {message}")


@dataclass(frozen=True)
class Control:
    """A negative control: a parameter variant of the claim and the verdict the check must give there."""

    name: str
    description: str
    overrides: tuple[tuple[str, Any], ...] = ()
    expected: str = "fail"

    def __post_init__(self) -> None:
        if self.expected not in VERDICTS:
            raise ValueError(f"Control.expected must be one of {VERDICTS}, got {self.expected!r}")
        if isinstance(self.overrides, dict):
            object.__setattr__(self, "overrides", tuple(self.overrides.items()))

    def params(self, base: ClaimParams) -> ClaimParams:
        return base.with_values(dict(self.overrides))

    def judge(self, claim_id: str, verdict: str) -> Judgement:
        return Judgement(f"{claim_id}/{self.name}", verdict, self.expected, False)


def control(name: str, description: str, expected: str = "fail", **overrides: Any) -> Control:
    """``control("eps_zero", "...", train__eps=0.0)``: keyword ``section__key`` for ``section.key``."""
    return Control(name, description, tuple((k.replace("__", "."), v) for k, v in overrides.items()), expected)


@dataclass(frozen=True)
class StressPlan:
    """What ``pytest theorems --profile stress`` searches for this claim: keys and ranges, and a point budget.

    ``vary``: ``((dotted key, (lo, hi)), ...)`` for a numeric interval or ``((key, ("a", "b")), ...)`` for a
    set of values (non-numbers, or more than two numbers); every range must lie inside the key's allowed
    range. ``budget``: parameter points to evaluate (sized to the check's cost). ``expect``: what the
    search should find, e.g. ``{"net.b": "fails below 0.1"}`` (prose for the report; the stress claims
    assert their boundaries in code).
    """

    vary: tuple[tuple[str, tuple], ...]
    budget: int = 20
    seed: int = 0
    note: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.vary, dict):
            object.__setattr__(self, "vary", tuple((k, tuple(v)) for k, v in self.vary.items()))
        if self.budget < 1:
            raise ValueError(f"StressPlan.budget must be >= 1, got {self.budget}")


@dataclass(frozen=True)
class Claim:
    id: str
    title: str
    paper_claims: tuple[str, ...]
    scope: str
    statement: str  # template: {section.key} is filled from the parameters used
    regime: str  # template
    params: type[ClaimParams] | None
    check: str | None  # "module:function", check(params) -> Outcome
    tests: str  # the test module binding it (for replay)
    controls: tuple[Control, ...]
    expected: str = "pass"
    expected_reason: str | None = None
    # Where a profile's sizes decide the verdict: (profile, verdict, reason) entries that replace
    # expected / expected_reason at that profile (an interval that a profile's seeds cannot narrow).
    expected_by_profile: tuple[tuple[str, str, str | None], ...] = ()
    scope_note: str | None = None
    differences: tuple[str, ...] = ()
    method: str = ""
    strategy: str | None = None  # "module:function", strategy(params) -> hypothesis strategy of drawn examples
    stress: StressPlan | None = None  # the stress profile's search over this claim's parameters
    profiles: tuple[str, ...] = PROFILE_NAMES  # profiles in which pytest runs it (stress claims: stress only)
    tags: tuple[str, ...] = field(default_factory=tuple)
    # Where a fail is registered (at any profile): patterns (``*`` for any text) of the condition names
    # the failure consists of. Each fails_on pattern must name a failing condition; may_fail names conditions
    # that the reason allows to fail too (at some profile's sizes). Any other failing condition is a mismatch.
    fails_on: tuple[str, ...] = ()
    may_fail: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.expected not in VERDICTS:
            raise ValueError(f"Claim.expected must be one of {VERDICTS}, got {self.expected!r}")
        if self.expected != "pass" and not self.expected_reason:
            raise ValueError(f"claim {self.id}: an expected {self.expected!r} needs expected_reason")
        if self.scope not in SCOPES:
            raise ValueError(f"claim {self.id}: scope must be one of {SCOPES}, got {self.scope!r}")
        if self.scope == "extension" and not self.scope_note:
            raise ValueError(f"claim {self.id}: an extension needs scope_note (what it adds beyond the paper)")
        unknown = set(self.paper_claims) - set(PAPER_CLAIMS)
        if unknown:
            raise ValueError(f"claim {self.id}: paper_claims must be among {sorted(PAPER_CLAIMS)}, got {sorted(unknown)}")
        if not self.controls:
            raise ValueError(f"claim {self.id}: every claim needs at least one negative control")
        if self.params.CLAIM != self.id:
            raise ValueError(f"claim {self.id}: its parameter class {self.params.__name__} is for {self.params.CLAIM!r}")
        if ":" not in self.check:
            raise ValueError(f"claim {self.id}: check must be 'module:function', got {self.check!r}")
        if self.stress is not None:
            base = self.params()
            for k, rng in self.stress.vary:
                if k not in base.flat():
                    raise ValueError(f"claim {self.id}: stress varies unknown key {k}")
                for v in rng:
                    base.with_values({k: v})  # each end / value must be allowed (ParamError names the key)
        for prof, verdict, why in self.expected_by_profile:
            if prof not in PROFILE_NAMES:
                raise ValueError(f"claim {self.id}: expected_by_profile profile must be one of {PROFILE_NAMES}, "
                                 f"got {prof!r}")
            if verdict not in VERDICTS:
                raise ValueError(f"claim {self.id}: expected_by_profile[{prof!r}] must be one of {VERDICTS}, "
                                 f"got {verdict!r}")
            if not why:
                raise ValueError(f"claim {self.id}: expected_by_profile[{prof!r}] needs a reason (why this profile's "
                                 f"verdict differs)")
        registers_fail = self.expected == "fail" or any(v == "fail" for _, v, _ in self.expected_by_profile)
        if registers_fail and not self.fails_on:
            raise ValueError(f"claim {self.id}: a registered fail needs fails_on (the patterns of the conditions "
                             f"that fail), or any failing check would match it")
        if self.may_fail and not self.fails_on:
            raise ValueError(f"claim {self.id}: may_fail needs fails_on")
        bad = set(self.profiles) - set(PROFILE_NAMES)
        if bad:
            raise ValueError(f"claim {self.id}: profiles must be among {PROFILE_NAMES}, got {sorted(bad)}")

    # ------------------------------------------------------------ parameters
    @property
    def paper_claim(self) -> str:
        """The paper claims as one label (``"C1, C2"``), or the scope when it encodes none."""
        return ", ".join(self.paper_claims) if self.paper_claims else {"beyond": "beyond the paper",
                                                                      "lemma": "tool"}.get(self.scope, self.scope)

    def defaults(self, profile: str = "quick") -> ClaimParams:
        """The registered parameters at ``profile`` (the class defaults with the profile's size preset)."""
        base = self.params()
        sizes = preset(self.id, profile, keys=set(base.flat()))
        specs = base.specs()
        not_sizes = sorted(k for k in sizes if k in specs and specs[k].role != "size")
        if not_sizes:
            raise TypeError(f"profile {profile!r} of {self.id} changes {', '.join(not_sizes)}: a profile may change only "
                            f"size parameters, never what is claimed")
        return base.with_values(sizes) if sizes else base

    def resolve(self, profile: str = "quick", overrides: dict[str, Any] | None = None) -> ClaimParams:
        """The parameters of a run: defaults at ``profile`` with reviewer ``overrides`` (validated)."""
        base = self.defaults(profile)
        return base.with_values(overrides) if overrides else base

    def control(self, name: str) -> Control:
        for c in self.controls:
            if c.name == name:
                return c
        raise KeyError(f"claim {self.id} has no control {name!r}")

    def render(self, params: ClaimParams) -> dict[str, str]:
        """Statement and regime with the values used."""
        return {"statement": render(self.statement, params), "regime": render(self.regime, params)}

    def template_keys(self) -> set[str]:
        return template_keys(self.statement) | template_keys(self.regime)

    # ------------------------------------------------------------ checking
    def check_function(self) -> Callable[[ClaimParams], Any]:
        return _load(self.check)

    def strategy_function(self) -> Callable[[ClaimParams], Any] | None:
        """The hypothesis strategy the check draws its examples from (ranges read from ``draw.*``)."""
        return _load(self.strategy) if self.strategy else None

    def expected_at(self, profile: str = "quick") -> str:
        """The registered verdict at ``profile``'s defaults."""
        return next((v for p, v, _ in self.expected_by_profile if p == profile), self.expected)

    def reason(self, params: ClaimParams, profile: str = "quick") -> str | None:
        """Why the claim is registered with its verdict at ``profile`` (when that is not pass, or differs
        from the other profiles'), rendered with the parameters used."""
        text = next((r for p, _, r in self.expected_by_profile if p == profile), self.expected_reason)
        return render(text, params) if text else None

    def run(self, params: ClaimParams):
        """The check's Outcome at ``params``; the outcome must be this claim's."""
        outcome = self.check_function()(params)
        if getattr(outcome, "claim_id", None) != self.id:
            raise AssertionError(f"{self.check} returned an outcome for {getattr(outcome, 'claim_id', None)!r}, "
                                 f"expected {self.id}")
        return outcome

    def judge(self, verdict: str, *, overridden: bool = False, profile: str = "quick",
              failing: Sequence[str] | None = None) -> Judgement:
        """The one rule: the registered verdict at the profile's defaults, ``pass`` under reviewer overrides;
        a registered fail also by its failing conditions (``failing``: their names; see :class:`Judgement`)."""
        if verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {verdict!r}")
        expected = "pass" if overridden else self.expected_at(profile)
        if verdict == expected == "fail" and failing is None:
            raise TypeError(f"claim {self.id}: judging a registered fail needs the failing conditions (failing=)")
        return Judgement(self.id, verdict, expected, overridden, tuple(failing or ()), self.fails_on, self.may_fail)

    def judge_outcome(self, outcome, *, overridden: bool = False, profile: str = "quick") -> Judgement:
        """:meth:`judge` of an Outcome: its verdict and the names of its failing conditions."""
        failing = [c.name for c in outcome.conditions if c.verdict == "fail"]
        return self.judge(outcome.verdict, overridden=overridden, profile=profile, failing=failing)

    def replay(self, overrides: dict[str, Any] | None = None, profile: str = "quick") -> str:
        """The pytest command that re-runs this claim (with the same overrides)."""
        # -k matches substrings: exclude longer ids that contain this one (Q1 vs Q10, P2 vs P2r).
        clash = sorted(other for other in CLAIMS if other != self.id and self.id in other)
        expr = " and ".join([self.id] + [f"not {o}" for o in clash])
        sel = f"-k '{expr}'" if clash else f"-k {self.id}"
        prof = "" if profile == "quick" else f" --profile {profile}"
        sets = "".join(f" --set {self.id}.{k}={_literal(v)}" for k, v in (overrides or {}).items())
        return f"pytest {self.tests} {sel}{prof}{sets}"

    def check_command(self, overrides: dict[str, Any] | None = None, profile: str = "quick") -> str:
        prof = "" if profile == "quick" else f" --profile {profile}"
        sets = "".join(f" --set {k}={_literal(v)}" for k, v in (overrides or {}).items())
        return f"purecheck check {self.id}{prof}{sets}"


def _load(path: str) -> Callable:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def _literal(v: Any) -> str:
    from .parameters.overrides import toml_value

    s = toml_value(tuple(v) if isinstance(v, list) else v)
    return f"'{s}'" if any(ch in s for ch in ' "[],') else s


CLAIMS: dict[str, Claim] = {}


def register(claim: Claim) -> Claim:
    if claim.id in CLAIMS:
        raise ValueError(f"claim {claim.id} registered twice")
    CLAIMS[claim.id] = claim
    return claim


def claim(claim_id: str) -> Claim:
    """The registered claim ``claim_id``, or a ParamError listing the known ids."""
    try:
        return CLAIMS[claim_id]
    except KeyError:
        raise ParamError(f"{claim_id}: unknown claim id (known: {', '.join(CLAIMS)})") from None


# The catalogue, family by family (order = order in results and report).
CATALOGUE_MODULES = ("symbolic", "supervised", "training", "contrastive", "downstream", "questions", "stress")
for _family in CATALOGUE_MODULES:
    importlib.import_module(f"{__package__}.catalogue.{_family}")
