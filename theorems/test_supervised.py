"""P1 and P2: supervised pre-training in the model (paper claims C1, C2).

P1 (C1, C2). Along a mixing path Q(t) = expm(tA), with (b, lambda) optimised at each t, the
optimal adversarial population logistic loss rises above its value at the pure net while the
optimal clean loss stays flat; at t = 0 every drawn mixing direction raises it.
Regime: sigma = 0, unit magnitudes, d = 8 (exact enumeration of z), l2, eps = 0.25.

P2 (C2). At the clean Bayes level the dense (linear) net breaks at l2 radii of order
sqrt(k/d) and the pure net at radii of order one; their ratio grows like sqrt(d/k)
(log-log slope in [0.4, 0.6]) for d from 16 to 4096. Regime: sigma = 0, unit magnitudes,
uniform w*, k = 4, b = 0.3; exact engine.
"""
from __future__ import annotations

import numpy as np
import pytest

from numerics import ModelConfig, SparseCodingModel, linear_net, mixing_path, pure_net, random_skew
from numerics.estimates import Estimate

from . import strategies as rs
from .protocol import bind, draw_examples
from .supervised import difference, lattice, optimal_loss
from .verdict import Outcome, condition, curve_points, key_number

P1_P = 0.25  # k = 2 active features on average at d = 8
P1_EPS = 0.25
P1_DIRECTION_SEED = 0
INCREASE_TOL = 1e-6  # optimisation tolerance: a rise must exceed it to count


def check_p1(d: int, ts, *, eps: float = P1_EPS, b_fixed: float | None = None, restarts: int = 4) -> Outcome:
    lat = lattice(d, P1_P)
    A = random_skew(d, P1_DIRECTION_SEED)
    adv, clean = [], []
    for t in ts:
        Q = None if t == 0 else mixing_path(A, t)
        adv.append(optimal_loss(lat, Q, eps, restarts=restarts, b_fixed=b_fixed))
        clean.append(optimal_loss(lat, Q, 0.0, restarts=restarts, b_fixed=b_fixed))
    conds = []
    for t, a, c in zip(ts[1:], adv[1:], clean[1:]):
        conds.append(condition(f"adversarial loss rise at t={t:g}", difference(a, adv[0]), "above", INCREASE_TOL))
        dc = difference(c, clean[0])
        big = max(abs(dc.lower), abs(dc.upper))
        flat = Estimate(big, big, big, "optimisation", details=dc.details)
        conds.append(condition(f"|clean loss change| at t={t:g}", flat, "below", 1e-6))
    ev = {"d": d, "p": P1_P, "eps": eps, "lambda_max": 5.0, "b_fixed": b_fixed,
          "path": [{"t": float(t), "adversarial": a.to_dict(), "clean": c.to_dict()} for t, a, c in zip(ts, adv, clean)]}
    fig = {"id": "p1_mixing_path", "kind": "curves", "title": f"Optimal losses along a mixing path (d={d}, eps={eps})",
           "xlabel": "mixing t", "ylabel": "optimal population logistic loss",
           "series": [{"label": "adversarial (exact at t=0, PGD lower bound t>0)", "points": curve_points(ts, adv)},
                      {"label": "clean", "points": curve_points(ts, clean)}]}
    keys = [key_number(f"adv loss rise at t={ts[-1]:g}", difference(adv[-1], adv[0])),
            key_number(f"clean loss change at t={ts[-1]:g}", difference(clean[-1], clean[0]))]
    return Outcome("P1", conds, evidence=ev, key_numbers=keys, figures=[fig],
                   method="optimisation over exact enumeration (PGD lower bound for t > 0)")


def check_p1_directions(d: int, directions: int, *, eps: float = P1_EPS, b_fixed: float | None = None,
                        restarts: int = 4) -> Outcome:
    """Every drawn mixing direction raises the optimal adversarial loss at small t."""
    lat = lattice(d, P1_P)
    base = optimal_loss(lat, None, eps, restarts=restarts, b_fixed=b_fixed)
    def one_direction(params):
        Q = mixing_path(random_skew(d, params["direction_seed"]), min(params["t"], 0.2))
        rise = difference(optimal_loss(lat, Q, eps, restarts=restarts, b_fixed=b_fixed), base)
        return [condition("adversarial loss rise", rise, "above", INCREASE_TOL)], {"rise": rise.value}

    tally = draw_examples("P1", "optimisation over exact enumeration", rs.mixing_direction(d=d), one_direction,
                          max_examples=directions)
    return tally.outcome({"base": base.to_dict()})


def p1_outcome(profile, **kw) -> Outcome:
    path = check_p1(profile.p1_d, profile.p1_ts, **kw)
    dirs = check_p1_directions(profile.p1_d, profile.p1_directions, **kw)
    path.conditions.extend(dirs.conditions)
    path.evidence["directions"] = dirs.evidence
    path.examples = dirs.examples
    path.counterexample = path.counterexample or dirs.counterexample
    return path


@pytest.mark.claim("P1")
def test_P1(claim_run, profile):
    claim_run.main(p1_outcome, profile)


@pytest.mark.claim("P1", control="threshold_zero")
def test_P1_control_threshold_zero(claim_run, profile):
    claim_run.control("threshold_zero", check_p1, profile.p1_d, profile.p1_ts, b_fixed=0.0)


@pytest.mark.claim("P1", control="clean_loss")
def test_P1_control_clean_loss(claim_run, profile):
    claim_run.control("clean_loss", check_p1, profile.p1_d, profile.p1_ts, eps=0.0)


# ---------------------------------------------------------------- P2
bind(globals(), "P2")
