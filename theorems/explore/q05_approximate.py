"""Q5: approximate purification: how does a clean downstream head's robustness depend on the layer's purity?

Dose-response along a mixing path (as P5m, in the shared model of :mod:`theorems.explore.trained`:
d = 16, k = 2, sigma = 0.1, random dictionary): frozen layers ``W_j = M Q(t) e_j`` with
``Q(t) = expm(t A)`` (A seeded, A2), threshold b = 0.3; purity of the layer (mean max loading
of its rows) falls from 1 at t = 0. On each layer a clean logistic head
(``numerics.downstream.fit_head``) is trained on the task ``w* = 1/sqrt(d)``, and its l2 robust
error at ``EVAL_EPS = 0.3`` (= b: the pure layer's inactive features are exactly safe up to b)
is estimated by ``numerics.risk.robust_error`` (Monte Carlo; exact per sample for the pure
layer's head, the interval [PGD, certified] for mixed layers).

Main check (a priori, P5's effect sizes): (i) collapse: the robust error at the most mixed
layer exceeds the pure layer's by more than 0.15, soundly (the attack's lower confidence limit
against the pure layer's upper one); (ii) continuity: at the least mixed layer (first t > 0)
the PGD-side robust error is within 0.05 of the pure layer's (PGD side, as P5). Region: the
purity above which the PGD-side robust error stays within 0.05 of the pure layer's.
Control: b = 0 (every mixed layer is then the same linear representation: no collapse).
"""
from __future__ import annotations

from dataclasses import dataclass

from numerics import mixing_path, random_skew
from numerics.downstream import fit_head, mixed_layer, pure_layer
from numerics.estimates import Estimate
from numerics.purity import node_purity
from numerics.risk import robust_error

from ..verdict import Outcome, condition, key_number
from . import trained as T
from .common import B, points_of, task

ID = "Q5"
QUESTION = "How does a clean head's robustness degrade as the frozen layer is only approximately purified (dose-response)?"
EVAL_EPS = 0.3
COLLAPSE_MIN = 0.15
CONTINUITY_TOL = 0.05
DIRECTION_SEED = 0
HEAD_SEED = 7


@dataclass(frozen=True)
class Sizes:
    ts: tuple[float, ...]
    head_steps: int
    samples: int
    pgd_steps: int
    pgd_restarts: int


SIZES = {
    "smoke": Sizes((0.0, 0.1, 0.4, 0.8), 300, 6000, 20, 2),
    "quick": Sizes((0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 1.2), 600, 20000, 30, 4),
    "thorough": Sizes((0.0, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.2, 1.6), 1500, 50000, 50, 8),
}


def plan(sz: Sizes, variant: str) -> list[dict]:
    b = {"main": B, "threshold_zero": 0.0}.get(variant)
    if b is None:
        raise ValueError(f"{ID} has no variant {variant!r}")
    ts = sz.ts if variant == "main" else (sz.ts[0], sz.ts[1], sz.ts[-1])
    return [task("layer", f"t={t:g} b={b:g}", t=float(t), b=b, head_steps=sz.head_steps, samples=sz.samples,
                 pgd_steps=sz.pgd_steps, pgd_restarts=sz.pgd_restarts, seed=HEAD_SEED) for t in ts]


def compute(t: dict) -> dict:
    m = T.model()
    w = T.wstar()
    if t["t"] == 0:
        layer = pure_layer(m.M, t["b"])
    else:
        layer = mixed_layer(m.M, mixing_path(random_skew(m.d, DIRECTION_SEED), t["t"]), t["b"], t=t["t"])
    head = fit_head(layer, m, w, T.config(0.0, t["head_steps"], t["seed"])).net
    est = robust_error(head, m, w, EVAL_EPS, "l2", method="mc", samples=t["samples"], seed=T.EVAL_SEED + 5,
                       pgd={"steps": t["pgd_steps"], "restarts": t["pgd_restarts"]})
    from numerics.risk import clean_error

    ce = clean_error(head, m, w, method="mc", samples=t["samples"], seed=T.EVAL_SEED + 5)
    return {"purity": float(node_purity(layer.W, m.M).mean()), "robust_error": est.to_dict(), "clean_error": ce.to_dict()}


def _pgd_side(e: dict) -> Estimate:
    """The attack's side of a robust-error estimate: value with its Clopper-Pearson limits (exact: itself)."""
    if e["method"] != "bound":
        return Estimate(e["value"], e["lower"], e["upper"], e["method"], level=e.get("level"), n=e.get("n"))
    from numerics.estimates import clopper_pearson

    k = int(round(e["value"] * e["n"]))
    lo, hi = clopper_pearson(k, e["n"], e["level"])
    return Estimate(e["value"], lo, hi, "mc", level=e["level"], n=e["n"], details={"side": "pgd"})


def judge(variant: str, sz: Sizes, results: dict) -> Outcome:
    b = B if variant == "main" else 0.0
    ts = sz.ts if variant == "main" else (sz.ts[0], sz.ts[1], sz.ts[-1])
    rows = [results[f"t={t:g} b={b:g}"] for t in ts]
    full = [r["robust_error"] for r in rows]
    pgd = [_pgd_side(e) for e in full]
    pure, first, last = full[0], pgd[1], full[-1]
    collapse = Estimate(last["value"] - pure["value"], last["lower"] - pure["upper"], last["upper"] - pure["lower"], "bound",
                        details={"sound": "attack lower limit minus the pure head's upper limit"})
    cont = Estimate(first.value - pgd[0].value, first.lower - pgd[0].upper, first.upper - pgd[0].lower, "mc",
                    details={"side": "pgd"})
    conds = [condition(f"robust error rise from the pure layer to t={ts[-1]:g}", collapse, "above", COLLAPSE_MIN),
             condition(f"robust error change from the pure layer to t={ts[1]:g} (PGD side)", cont, "below", CONTINUITY_TOL)]
    purities = [r["purity"] for r in rows]
    near = [p for p, e in zip(purities, pgd) if e.upper - pgd[0].lower < CONTINUITY_TOL]
    ev = {"question": QUESTION, "variant": variant, "b": b, "eval_eps": EVAL_EPS,
          "path": [{"t": t, "purity": r["purity"], "robust_error": r["robust_error"], "robust_error_pgd_side": e.to_dict(),
                    "clean_error": r["clean_error"]} for t, r, e in zip(ts, rows, pgd)],
          "region": {"statement": f"PGD-side robust error within {CONTINUITY_TOL:g} of the pure layer's head",
                     "lowest_purity_where_it_holds": min(near) if near else None,
                     "summary": (f"within {CONTINUITY_TOL:g} of the pure layer down to purity {min(near):.3f}"
                                 if near else "nowhere beyond the pure layer")},
          "settings": {"direction_seed": DIRECTION_SEED, "head_seed": HEAD_SEED, "head_steps": sz.head_steps,
                       "samples": sz.samples}}
    figs = []
    if variant == "main":
        figs.append({"id": "q5_dose_response", "kind": "curves", "title": f"Q5: clean head's robust error vs layer purity (eps={EVAL_EPS:g})",
                     "xlabel": "layer purity (mean max loading)", "ylabel": "robust error",
                     "series": [{"label": "PGD side (99% CP)", "points": points_of(purities, pgd)},
                                {"label": "[PGD, certified] interval", "points": points_of(purities, [Estimate(**{k: e[k] for k in ("value", "lower", "upper", "method")}) for e in full])}]})
    keys = [key_number("collapse (most mixed - pure)", collapse), key_number("first step (PGD side)", cont)]
    return Outcome(ID, conds, evidence=ev, key_numbers=keys, figures=figs,
                   method="head training + Monte Carlo (exact per sample for the pure layer, [PGD, certified] otherwise)")
