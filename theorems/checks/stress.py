"""Checks of the stress family: P2r, P2i, P1z, each a stress search over a proposition's parameters.

A check builds the search space from its ``draw.*`` ranges (the reference point is the
proposition's own parameter values), runs :func:`theorems.stress_search.search` on the
proposition evaluated at each point, and turns the result into an Outcome: ``fail`` when a
point fails (the smallest counterexample is the Outcome's counterexample), ``pass`` when none
does. Where a counterexample exists the check then asserts the registered boundary, as
hypothesis' own tests assert ``minimal(...)``: the keys the counterexample changes, and where
its boundary lies; a search that finds another failure raises :class:`StressExpectationError`
(red: a failure of the search is registered, not any failure). The whole StressResult goes
into ``evidence["stress"]`` (and from there into results.json's ``stress`` section).

- P2r: the pure net's exact robust error at eps = f min(b, 1 - b) stays below the A4 level;
  boundary: f between 1 and (1 - b)/min(b, 1 - b) at the counterexample's b.
- P2i: P2's check (sqrt(d/k) law) at each point; boundary: the attack norm alone, l2 -> l_inf,
  with the l_inf slope near 1.
- P1z: P1's local statement at a fixed threshold (rise of the optimal adversarial loss under a
  mixing rotation); boundary: the threshold alone, shrunk to b = 0.
"""
from __future__ import annotations

from numerics import linear_net, pure_net
from numerics.estimates import Estimate
from numerics.risk import clean_error, robust_error

from ..explore.common import exact_model, level_of, uniform_w
from ..stress_search import Axis, Space, search, summarise
from ..supervised import P1Setting, p1_rise
from ..verdict import Condition, Outcome, condition, key_number
from .supervised import check_p2


class StressExpectationError(AssertionError):
    """The search found a counterexample, but not at the registered boundary."""


# ------------------------------------------------------------------------------------------ shared
def run_search(params, axes: list[Axis], evaluate) -> dict:
    s = params.search
    return search(Space(tuple(axes)), evaluate, budget=s.budget, seed=s.seed, batch=s.batch, tol=s.tol)


def stress_outcome(claim_id: str, method: str, params, result: dict, expectations) -> Outcome:
    """The Outcome of a search: ``fail`` with the smallest counterexample, ``pass`` when no point fails.

    ``expectations(result) -> [Condition]``: the registered boundary, judged only when a point fails;
    a condition that does not pass raises StressExpectationError.
    """
    counts = result["counts"]
    if counts["error"]:
        bad = next(p for p in result["points"] if p["verdict"] == "error")
        raise StressExpectationError(f"[{claim_id}] {counts['error']} searched point(s) crashed, e.g. "
                                     f"{bad['params']}: {bad.get('error')}")
    n = len(result["points"])
    conds = [condition("points evaluated by the search", Estimate.exact(n), "above", 0.5),
             condition("failing points found by the search", Estimate.exact(counts["fail"]), "below", 0.5)]
    if counts["inconclusive"] and not counts["fail"]:
        conds.append(Condition("undecided points (no point fails)", Estimate.exact(counts["inconclusive"]), "below",
                               0.5, "inconclusive"))
    cx = result["counterexample"]
    keys = [key_number(f"points failing (of {n})", Estimate.exact(counts["fail"]))]
    if cx is not None and cx["verdict"] == "fail":
        expected = expectations(result)
        wrong = [c for c in expected if c.verdict != "pass"]
        if wrong:
            raise StressExpectationError(
                f"[{claim_id}] the search's smallest counterexample is not the registered one: "
                + "; ".join(f"{c.describe()} -> {c.verdict}" for c in wrong)
                + f" | counterexample: {cx['params']} (changed {cx['changed_keys']})")
        conds.extend(expected)
        keys.extend(key_number(c.name, c.estimate) for c in expected if c.estimate.method == "exact")
    ev = {"stress": {"claim": claim_id, **result}, "counterexample_changed_keys": cx["changed_keys"] if cx else None,
          "boundaries": result["boundaries"]}
    return Outcome(claim_id, conds, evidence=ev, counterexample=cx, key_numbers=keys, method=method)


def changed_keys_condition(result: dict, expected: tuple[str, ...]) -> Condition:
    """The counterexample changes exactly the registered keys (pass) or not (fail)."""
    got = tuple(result["counterexample"]["changed_keys"])
    ok = sorted(got) == sorted(expected)
    return Condition(f"keys the smallest counterexample changes {list(got)} = registered {list(expected)}",
                     Estimate.exact(float(ok)), "above", 0.5, "pass" if ok else "fail")


def boundary_interval(result: dict, key: str) -> tuple[float, float] | None:
    b = result["boundaries"].get(key)
    return tuple(b["interval"]) if b and b.get("interval") else None


# ------------------------------------------------------------------------------------------ P2r
def p2r_point(params) -> Outcome:
    """P2's survival statement at one point: the pure net's exact robust error at eps = f min(b, 1 - b) < A4 level."""
    d, k, b, f = params.model.d, params.model.k, params.net.b, params.eval.f
    model, w = exact_model(d, k), uniform_w(d)
    level = level_of(clean_error(linear_net(model.M, w), model, w, method="exact").value)
    eps = f * min(b, 1.0 - b)
    est = robust_error(pure_net(model.M, w, b), model, w, eps, method="exact")
    return Outcome("P2r", [condition(f"pure-net robust error at eps = {eps:.4g}", est, "below", level)],
                   key_numbers=[key_number("pure-net robust error", est),
                                key_number("A4 level", Estimate.exact(level)),
                                key_number("eps", Estimate.exact(eps))], method="exact")


def check_p2r(params) -> Outcome:
    r = params.draw
    axes = [Axis.interval("eval.f", *r.f, default=params.eval.f),
            Axis.interval("net.b", *r.b, default=params.net.b),
            Axis.interval("model.k", *r.k, default=params.model.k),
            Axis.choice("model.d", r.d, default=params.model.d)]
    result = run_search(params, axes, lambda point: summarise(p2r_point(params.with_values(point))))

    def expectations(res: dict) -> list[Condition]:
        j = params.judge
        conds = [changed_keys_condition(res, j.changed)]
        b = res["counterexample"]["params"]["net.b"]
        lo_f, hi_f = 1.0, (1.0 - b) / min(b, 1.0 - b)
        iv = boundary_interval(res, "eval.f")
        if iv is None:
            conds.append(Condition("boundary of f bracketed by the search", Estimate.exact(0.0), "above", 0.5, "fail"))
            return conds
        conds.append(condition("boundary of f through the counterexample: its lower end", Estimate.exact(iv[0]),
                               "above", lo_f / (1.0 + j.f_tol)))
        conds.append(condition(f"boundary of f through the counterexample: its upper end (b = {b:.4g})",
                               Estimate.exact(iv[1]), "below", hi_f * (1.0 + j.f_tol)))
        return conds

    return stress_outcome("P2r", "stress search + exact", params, result, expectations)


# ------------------------------------------------------------------------------------------ P2i
def p2_params_of(params):
    """P2's parameters from P2i's (the proposition P2i searches)."""
    from ..catalogue.supervised import P2Params  # the catalogue imports the registry: load it only when checking

    return P2Params(model=params.model, net=params.net, grid=params.grid, eval=params.eval, judge=params.judge)


def p2i_point(p2) -> dict:
    out = check_p2(p2)
    return summarise(out, {"slope": out.evidence["slope"]["value"]})


def check_p2i(params) -> Outcome:
    r = params.draw
    base = p2_params_of(params)
    axes = [Axis.choice("eval.norm", r.norm, default=params.eval.norm),
            Axis.interval("net.b", *r.b, default=params.net.b),
            Axis.choice("model.k", r.k, default=params.model.k)]
    result = run_search(params, axes, lambda point: p2i_point(base.with_values(point)))

    def expectations(res: dict) -> list[Condition]:
        j = params.judge
        cx = res["counterexample"]
        conds = [changed_keys_condition(res, j.changed)]
        slope = Estimate.exact(cx["numbers"]["slope"])
        conds.append(condition("log-log slope at the counterexample (l_inf law d/sqrt(k))", slope, "above",
                               j.linf_slope_lo))
        conds.append(condition("log-log slope at the counterexample (l_inf law d/sqrt(k))", slope, "below",
                               j.linf_slope_hi))
        return conds

    return stress_outcome("P2i", "stress search + exact", params, result, expectations)


# ------------------------------------------------------------------------------------------ P1z
def p1z_point(params) -> Outcome:
    """P1's local statement at a fixed threshold: the optimal adversarial loss rises under the mixing Q(t)."""
    m, tr, e, o = params.model, params.train, params.eval, params.opt
    s = P1Setting(m.d, m.k, tr.eps, tr.b_init, e.pgd_restarts, e.pgd_steps, e.seed, o.lam_max, o.b_max, o.b_grid)
    rise = p1_rise(s, params.net.mixing_seed, params.net.t)
    return Outcome("P1z", [condition("optimal adversarial loss rise under mixing", rise, "above",
                                     params.judge.rise_tol)],
                   key_numbers=[key_number("adversarial loss rise", rise)],
                   method="optimisation over exact enumeration")


def check_p1z(params) -> Outcome:
    r = params.draw
    axes = [Axis.interval("train.b_init", *r.b_init, default=params.train.b_init),
            Axis.interval("net.t", *r.t, default=params.net.t),
            Axis.interval("net.mixing_seed", *r.mixing_seed, default=params.net.mixing_seed, integer=True)]
    result = run_search(params, axes, lambda point: summarise(p1z_point(params.with_values(point))))

    def expectations(res: dict) -> list[Condition]:
        j = params.judge
        b = res["counterexample"]["params"]["train.b_init"]
        return [changed_keys_condition(res, j.changed),
                condition("fixed threshold b of the smallest counterexample", Estimate.exact(b), "below", j.b_tol)]

    return stress_outcome("P1z", "stress search + optimisation over exact enumeration", params, result, expectations)
