"""Does each paper claim hold in our model? The rule that turns proposition verdicts into answers.

A paper claim (``C1`` ... ``C4`` in the results' top-level ``paper_claims``) is *decided* by
the propositions whose ``paper_claims`` name it and whose scope is ``paper`` or
``extension``; propositions of scope ``lemma`` name the claim they *support* but never
decide it (they are tools the checks rest on), and ``beyond`` ones answer our own questions.

Each deciding proposition first gets an answer of its own, from its verdict at the
headline setting and the verdicts of its grid points (the cells of its region maps, the
points of its scaling sweeps in d, the points of its stress search):

====================  ========================================  ===================
headline verdict      grid points                               answer
====================  ========================================  ===================
pass                  none fails                                holds
pass                  some fail                                 holds in a region
fail                  none passes                               fails
fail                  some pass                                 holds in a region
inconclusive          none passes                               inconclusive
inconclusive          some pass                                 holds in a region
====================  ========================================  ===================

The paper claim is the *conjunction* of its deciding propositions, so its answer is the
weakest of theirs in the order fails < inconclusive < holds in a region < holds; with no
deciding proposition it is inconclusive ("not decided by this run"). "Holds in a region"
means: holds at some of the settings checked and not at others; where, is listed from the
region maps (``holds_in``, the smallest counterexample), the scaling sweeps (the d values
that pass, the first failure) and the stress boundaries. The rule reads verdicts only; it
never re-judges numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

from .format import fmt_inline, fmt_number

HOLDS, REGION, FAILS, INCONCLUSIVE = "holds", "holds in a region", "fails", "inconclusive"
ANSWERS = (HOLDS, REGION, FAILS, INCONCLUSIVE)
_STRENGTH = {FAILS: 0, INCONCLUSIVE: 1, REGION: 2, HOLDS: 3}
DECIDING_SCOPES = ("paper", "extension")
SUPPORTING_SCOPES = ("lemma",)
# CSS class / one word per answer (the HTML badge).
ANSWER_CLASS = {HOLDS: "holds", REGION: "region", FAILS: "fails", INCONCLUSIVE: "inconclusive"}

RULE = ("A paper claim is decided by the propositions that name it with scope paper or extension "
        "(lemmas support, never decide). Each proposition answers from its headline verdict and its grid "
        "points (region-map cells, scaling points in d, stress points): pass with no failing point = holds; "
        "pass with a failing point, or fail / inconclusive with a passing point = holds in a region; "
        "fail with no passing point = fails; inconclusive with no passing point = inconclusive. "
        "The claim takes the weakest answer of its deciding propositions "
        "(fails < inconclusive < holds in a region < holds); none deciding = inconclusive.")


@dataclass(frozen=True)
class Grid:
    """The verdicts of one sweep of a proposition (a region map, a scaling sweep, a stress search)."""

    kind: str            # "region map" | "scaling in d" | "stress"
    id: str
    passes: int
    fails: int
    other: int           # inconclusive points

    @property
    def total(self) -> int:
        return self.passes + self.fails + self.other

    def summary(self) -> str:
        parts = [f"{self.passes} pass", f"{self.fails} fail"] + ([f"{self.other} inconclusive"] if self.other else [])
        return f"{self.kind} {self.id}: {', '.join(parts)} of {self.total}"


@dataclass(frozen=True)
class PropositionAnswer:
    claim_id: str
    scope: str
    verdict: str
    answer: str
    grids: tuple[Grid, ...]
    overridden: bool
    holds_in: tuple[str, ...]    # where it holds (from the grids)
    fails_in: tuple[str, ...]    # where it fails (headline message, counterexamples, boundaries)

    @property
    def why(self) -> str:
        grids = "; ".join(g.summary() for g in self.grids)
        at = " at overridden parameters" if self.overridden else ""
        return f"{self.claim_id}: {self.verdict} at the headline setting{at}" + (f"; {grids}" if grids else "")


@dataclass(frozen=True)
class PaperAnswer:
    id: str
    text: str | None
    source: str | None
    answer: str
    deciding: tuple[PropositionAnswer, ...]
    supporting: tuple[str, ...]

    @property
    def why(self) -> str:
        if not self.deciding:
            return "no proposition of scope paper or extension decides it in this results file"
        return "; ".join(p.why for p in self.deciding)


def combine(answers: list[str]) -> str:
    """The answer of a conjunction: the weakest of ``answers`` (inconclusive when empty)."""
    if not answers:
        return INCONCLUSIVE
    return min(answers, key=_STRENGTH.__getitem__)


def _grid(kind: str, grid_id: str, verdicts: list[str]) -> Grid:
    return Grid(kind, grid_id, sum(v == "pass" for v in verdicts), sum(v == "fail" for v in verdicts),
                sum(v == "inconclusive" for v in verdicts))


def grids_of(claim: dict, stress: dict | None) -> list[Grid]:
    grids = [_grid("region map", r["id"], [c["verdict"] for c in r["cells"]]) for r in claim["regions"]]
    grids += [_grid("scaling in d", s["id"], [p["verdict"] for p in s["points"]]) for s in claim["scaling"]]
    if stress is not None:
        grids.append(_grid("stress", "search", [p["verdict"] for p in stress["points"]]))
    return grids


def proposition_answer(claim: dict, stress: dict | None = None) -> PropositionAnswer:
    """One proposition's answer (see the module's table)."""
    grids = grids_of(claim, stress)
    any_pass = any(g.passes for g in grids)
    any_fail = any(g.fails for g in grids)
    verdict = claim["verdict"]
    if verdict == "pass":
        answer = REGION if any_fail else HOLDS
    elif verdict == "fail":
        answer = REGION if any_pass else FAILS
    else:
        answer = REGION if any_pass else INCONCLUSIVE
    holds_in, fails_in = where(claim, stress)
    return PropositionAnswer(claim["id"], claim["scope"], verdict, answer, tuple(grids),
                             bool(claim["overrides"]), tuple(holds_in), tuple(fails_in))


def paper_answers(data: dict) -> list[PaperAnswer]:
    """One answer per top-level paper claim, in the results' order."""
    out = []
    for pc in data["paper_claims"]:
        named = [c for c in data["claims"] if pc["id"] in c["paper_claims"]]
        deciding = [proposition_answer(c, data["stress"].get(c["id"])) for c in named
                    if c["scope"] in DECIDING_SCOPES]
        supporting = tuple(c["id"] for c in named if c["scope"] in SUPPORTING_SCOPES)
        out.append(PaperAnswer(pc["id"], pc["text"], pc["source"], combine([p.answer for p in deciding]),
                               tuple(deciding), supporting))
    return out


def beyond_claims(data: dict) -> list[dict]:
    """Records that answer questions beyond the paper: scope beyond, or naming no known paper claim."""
    known = {pc["id"] for pc in data["paper_claims"]}
    return [c for c in data["claims"]
            if c["scope"] == "beyond" or (c["scope"] in DECIDING_SCOPES and not known & set(c["paper_claims"]))]


# --------------------------------------------------------------------------- where

def where(claim: dict, stress: dict | None) -> tuple[list[str], list[str]]:
    """(where it holds, where it fails), as short sentences from the claim's grids and counterexamples."""
    holds, fails = [], []
    if claim["verdict"] == "pass":
        holds.append("at the headline setting")
    elif claim["verdict"] == "fail":
        cex = claim["counterexample"] or {}
        msg = cex.get("message") or ""
        fails.append("at the headline setting" + (f": {msg}" if msg else ""))
        # Schema 1 counterexamples may carry their values beside (not inside) "params".
        shown = cex.get("params") or {k: v for k, v in cex.items() if k not in ("message", "seed", "params", "numbers")}
        if shown:
            fails.append(f"counterexample: {_params_text(shown)}")
    for region in claim["regions"]:
        name = region.get("title") or region["id"]
        if region.get("holds_in"):
            holds.append(f"{name}: {region['holds_in']}")
        cex = region.get("smallest_counterexample")
        if cex is not None:
            fails.append(f"{name}: smallest counterexample {_params_text(cex['params'])} ({cex['verdict']})")
    for scaling in claim["scaling"]:
        key = scaling["x"]
        xs = {v: [scaling_x(p, key) for p in scaling["points"] if p["verdict"] == v] for v in ("pass", "fail")}
        law = f" ({scaling['law']})" if scaling.get("law") else ""
        if xs["pass"]:
            holds.append(f"{key} in {{{', '.join(fmt_number(x) for x in xs['pass'])}}}{law}")
        ff = scaling.get("first_failure")
        if ff:
            reason = f": {ff['reason']}" if ff.get("reason") else ""
            fails.append(f"first failure at {key} = {fmt_number(ff.get('d', ff.get('x')))}{law}{reason}")
        elif xs["fail"]:
            fails.append(f"{key} in {{{', '.join(fmt_number(x) for x in xs['fail'])}}}{law}")
    if stress is not None:
        for key, b in stress["boundaries"].items():
            fails.append(f"stress: boundary of {key} between {fmt_number(b['fail_side'])} (fails) and "
                         f"{fmt_number(b['pass_side'])} (holds)")
        cex = stress["counterexample"]
        if cex is not None:
            fails.append(f"stress: smallest counterexample {_params_text(cex['params'])} ({cex['verdict']})")
    return holds, fails


def scaling_x(point: dict, key: str):
    """A scaling point's x value: the full dotted key, its last part ("model.d" -> "d"), else ``d``."""
    for k in (key, key.rsplit(".", 1)[-1], "d", "x"):
        if k in point:
            return point[k]
    return None


def _params_text(params: dict) -> str:
    return ", ".join(f"{k} = {fmt_inline(v)}" for k, v in params.items()) or "(defaults)"
