"""Stress mode: propositions drawn outside their regimes, with hypothesis' ``target`` pushing toward violations.

Run with ``HYPOTHESIS_PROFILE=stress pytest theorems -m stress`` (or ``--profile stress -m stress``);
under any other profile these tests are skipped at collection (no results record is made).
Each stress claim (registry: P2r, P2i, P1z) takes one proposition's property and draws its
parameters beyond the regime where the proposition is made; ``target`` steers the search to
the largest violation, hypothesis shrinks the failing example, and the smallest one goes into
the results file as the counterexample, with the claim it breaks and the boundary it crosses
(``numbers.breaks`` / ``numbers.crosses``). The control draws the same property inside the
regime, where it must hold on every example.

- P2r (P2, survival): the pure net's exact robust error at ``eps = f min(b, 1 - b)`` stays below
  the A4 level; boundary: ``f`` past about 1.
- P2i (P2, scaling): the ratio of critical radii grows like ``sqrt(d/k)``; boundary: the
  l_inf threat model with the identity dictionary (ratio ~ d / sqrt(k)).
- P1z (P1, purification's loss): a mixing rotation raises the optimal adversarial loss at a
  fixed threshold; boundary: b = 0 (rotation invariance, S4) and a threshold so large the
  net is dead.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings, target

from numerics import linear_net, mixing_path, pure_net, random_skew
from numerics.estimates import Estimate
from numerics.risk import clean_error, robust_error

from . import strategies as rs
from .explore.common import exact_model, exact_radius, level_of, radius_ratio, uniform_w
from .explore.q06_norms import log_log_slope
from .protocol import PropertyTally, run_property
from .supervised import difference, lattice, optimal_loss
from .verdict import condition

STRESS = os.environ.get("HYPOTHESIS_PROFILE") == "stress"
pytestmark = [pytest.mark.stress,
              pytest.mark.skipif(not STRESS, reason="stress tests run only under HYPOTHESIS_PROFILE=stress (or "
                                                    "--profile stress), e.g. HYPOTHESIS_PROFILE=stress pytest theorems -m stress")]

# Expensive properties draw fewer examples than the profile's 200.
P2I_EXAMPLES = 25
P1Z_EXAMPLES = 25
P1_D, P1_P, P1_EPS, RISE_TOL = 8, 0.25, 0.25, 1e-6  # P1's setting (theorems/test_supervised.py)
SLOPE_RANGE = (0.4, 0.6)
P2I_DIMS = (16, 64, 256, 1024)


# ------------------------------------------------------------------ P2r


def _p2r_example(p: dict) -> tuple[list, dict]:
    model = exact_model(p["d"], p["k"])
    w = uniform_w(p["d"])
    level = level_of(clean_error(linear_net(model.M, w), model, w, method="exact").value)
    est = robust_error(pure_net(model.M, w, p["b"]), model, w, p["eps"], method="exact")
    target(est.value - level, label="pure robust error - level")
    crosses = []
    if p["f"] >= 1:
        crosses.append(f"eps >= min(b, 1-b) (eps = {p['f']:.3g} x {'b' if p['b'] <= 0.5 else '1-b'})")
    if p["k"] / p["d"] > 1 / 16:
        crosses.append(f"k/d = {p['k'] / p['d']:.3g} > 1/16 (not sparse)")
    numbers = {"breaks": "P2", "robust_error": est.value, "level": level, "eps_over_min_b": p["f"],
               "crosses": "; ".join(crosses) or "none of the listed boundaries"}
    return [condition(f"pure-net robust error at eps = {p['eps']:.4g}", est, "below", level)], numbers


def check_p2r(inside: bool):
    tally = PropertyTally("P2r", "hypothesis (targeted) + exact")

    @given(rs.p2_radius_point(inside=inside))
    def prop(p):
        conds, numbers = _p2r_example(p)
        tally.judge(p, conds, numbers)

    run_property(tally, prop)
    ev = {"breaks_claim": "P2", "inside_regime": inside}
    if tally.failing:
        p = tally.failing["params"]
        model = exact_model(p["d"], p["k"])
        w = uniform_w(p["d"])
        level = tally.failing["numbers"]["level"]
        rad = exact_radius(pure_net(model.M, w, p["b"]), model, w, level=level, hi=max(0.05, p["b"]))
        m = min(p["b"], 1 - p["b"])
        ev["boundary"] = {"critical_radius": rad, "min_b_1mb": m,
                          "critical_radius_over_min_b_1mb": [rad["lower"] / m, rad["upper"] / m],
                          "crosses": tally.failing["numbers"]["crosses"]}
    return tally.outcome(ev)


@pytest.mark.claim("P2r")
def test_P2r_stress(claim_run):
    claim_run.main(check_p2r, False)


@pytest.mark.claim("P2r", control="inside_regime")
def test_P2r_stress_inside(claim_run):
    claim_run.control("inside_regime", check_p2r, True)


# ------------------------------------------------------------------ P2i


def _slope(p: dict) -> tuple[Estimate, list]:
    """Least-squares log-log slope of the exact radius ratio over ``P2I_DIMS`` (Q6's fit, intervals propagated)."""
    rows, ratios = [], []
    for d in P2I_DIMS:
        model = exact_model(d, p["k"])
        w = uniform_w(d)
        level = level_of(clean_error(linear_net(model.M, w), model, w, method="exact").value)
        hi_l = 1.0 / (np.sqrt(d) if p["norm"] == "l2" else d)
        lin = exact_radius(linear_net(model.M, w), model, w, norm=p["norm"], level=level, hi=hi_l)
        pure = exact_radius(pure_net(model.M, w, p["b"]), model, w, norm=p["norm"], level=level,
                            hi=max(0.05, p["b"]) * hi_l * np.sqrt(d))
        rows.append({"d": d, "linear": lin, "pure": pure})
        ratios.append(radius_ratio(pure, lin, method="exact"))
    return log_log_slope(P2I_DIMS, ratios), rows


def check_p2i(inside: bool):
    tally = PropertyTally("P2i", "hypothesis (targeted) + exact")

    @settings(max_examples=P2I_EXAMPLES)
    @given(rs.p2_scaling_point(inside=inside))
    def prop(p):
        slope, rows = _slope(p)
        target(abs(slope.value - 0.5), label="|slope - 1/2|")
        crosses = "l_inf threat model with the identity dictionary (box aligned with the features)" if p["norm"] == "linf" \
            else "none of the listed boundaries"
        tally.judge(p, [condition("log-log slope of the radius ratio", slope, "above", SLOPE_RANGE[0]),
                        condition("log-log slope of the radius ratio", slope, "below", SLOPE_RANGE[1])],
                    {"breaks": "P2", "slope": slope.value, "crosses": crosses,
                     "radii": [{"d": r["d"], "linear": r["linear"]["upper"], "pure": r["pure"]["upper"]} for r in rows]})

    run_property(tally, prop)
    return tally.outcome({"breaks_claim": "P2", "inside_regime": inside, "dims": list(P2I_DIMS),
                          "boundary": (tally.failing or {}).get("numbers", {}).get("crosses")})


@pytest.mark.claim("P2i")
def test_P2i_stress(claim_run):
    claim_run.main(check_p2i, False)


@pytest.mark.claim("P2i", control="inside_regime")
def test_P2i_stress_inside(claim_run):
    claim_run.control("inside_regime", check_p2i, True)


# ------------------------------------------------------------------ P1z


def check_p1z(inside: bool):
    lat = lattice(P1_D, P1_P)
    base_cache: dict[float, Estimate] = {}
    tally = PropertyTally("P1z", "hypothesis (targeted) + optimisation over exact enumeration")

    @settings(max_examples=P1Z_EXAMPLES)
    @given(rs.fixed_threshold_mixing(inside=inside))
    def prop(p):
        b = p["b"]
        if b not in base_cache:
            base_cache[b] = optimal_loss(lat, None, P1_EPS, restarts=4, b_fixed=b)
        Q = mixing_path(random_skew(P1_D, p["direction_seed"]), p["t"])
        rise = difference(optimal_loss(lat, Q, P1_EPS, restarts=4, b_fixed=b), base_cache[b])
        target(-rise.value, label="- adversarial loss rise")
        crosses = "b = 0: linear net, rotation invariant (S4)" if b == 0 else \
            ("b near 1: the threshold swallows the unit features" if b > 0.8 else "none of the listed boundaries")
        tally.judge(p, [condition("optimal adversarial loss rise under mixing", rise, "above", RISE_TOL)],
                    {"breaks": "P1", "rise": rise.value, "crosses": crosses})

    run_property(tally, prop)
    return tally.outcome({"breaks_claim": "P1", "inside_regime": inside, "d": P1_D, "p": P1_P, "eps": P1_EPS,
                          "boundary": (tally.failing or {}).get("numbers", {}).get("crosses")})


@pytest.mark.claim("P1z")
def test_P1z_stress(claim_run):
    claim_run.main(check_p1z, False)


@pytest.mark.claim("P1z", control="inside_regime")
def test_P1z_stress_inside(claim_run):
    claim_run.control("inside_regime", check_p1z, True)
