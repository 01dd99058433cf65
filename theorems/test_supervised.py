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
from .protocol import draw_examples
from .supervised import difference, lattice, optimal_loss, p2_dimension, robust_curve
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
P2_K = 4.0
P2_B = 0.3
SLOPE_RANGE = (0.4, 0.6)  # sqrt(d/k) scaling: slope 1/2 on log-log axes


def fitted_slope(ds, rows) -> Estimate:
    """Least-squares slope of log ratio vs log d, with the bisection error propagated as slack."""
    x = np.log(np.asarray(ds, dtype=float))
    c = (x - x.mean()) / np.sum((x - x.mean()) ** 2)
    mid = np.log([r["ratio"] for r in rows])
    lo_r = np.log([(r["eps_c_pure"] - r["eps_c_pure_halfwidth"]) / (r["eps_c_linear"] + r["eps_c_linear_halfwidth"]) for r in rows])
    hi_r = np.log([(r["eps_c_pure"] + r["eps_c_pure_halfwidth"]) / (r["eps_c_linear"] - r["eps_c_linear_halfwidth"]) for r in rows])
    s = float(c @ mid)
    upper = float(np.where(c > 0, c * hi_r, c * lo_r).sum())
    lower = float(np.where(c > 0, c * lo_r, c * hi_r).sum())
    return Estimate(s, min(lower, s), max(upper, s), "exact", details={"propagated": "bisection half-widths"})


def check_p2(dims, *, k: float = P2_K, b: float = P2_B, pure_is_linear: bool = False, k_fraction: float | None = None) -> Outcome:
    rows = [p2_dimension(d, (k_fraction * d if k_fraction else k), b, pure_is_linear=pure_is_linear) for d in dims]
    conds = []
    for r in rows:
        # Both nets at the clean Bayes level: the only errors are ties <w*, z> = 0 (A1).
        gap = abs(r["clean_error_pure"].value - r["clean_error_linear"].value)
        conds.append(condition(f"|clean error pure - linear| at d={r['d']}", Estimate.exact(gap), "below", 1e-12))
    slope = fitted_slope(dims, rows)
    conds.append(condition("log-log slope of eps_c(pure)/eps_c(linear) vs d", slope, "above", SLOPE_RANGE[0]))
    conds.append(condition("log-log slope of eps_c(pure)/eps_c(linear) vs d", slope, "below", SLOPE_RANGE[1]))
    growth = min(rows[i + 1]["ratio"] - rows[i]["ratio"] for i in range(len(rows) - 1))
    conds.append(condition("smallest step of the ratio between consecutive d", Estimate.exact(growth), "above", 0.0))
    table = [{"d": r["d"], "k": r["k"], "clean_error": r["clean_error_linear"].value, "level": r["level"],
              "eps_c_linear": r["eps_c_linear"], "eps_c_pure": r["eps_c_pure"], "ratio": r["ratio"],
              "sqrt_d_over_k": r["sqrt_d_over_k"], "ratio_over_sqrt_d_over_k": r["ratio"] / r["sqrt_d_over_k"]} for r in rows]
    figs = [{"id": "p2_ratio", "kind": "curves", "title": "Critical l2 radius ratio pure/linear vs d",
             "xlabel": "d", "ylabel": "eps_c(pure) / eps_c(linear)", "xscale": "log", "yscale": "log",
             "series": [{"label": "exact", "points": [{"x": r["d"], "value": r["ratio"], "lower": r["ratio"], "upper": r["ratio"]} for r in rows]},
                        {"label": "(1-b) sqrt(d/k)", "points": [{"x": r["d"], "value": (1 - b) * r["sqrt_d_over_k"],
                                                                 "lower": (1 - b) * r["sqrt_d_over_k"], "upper": (1 - b) * r["sqrt_d_over_k"]} for r in rows]}]}]
    d_fig = dims[min(2, len(dims) - 1)]
    model = SparseCodingModel(ModelConfig(d=d_fig, p=min(1.0, (k_fraction * d_fig if k_fraction else k) / d_fig), dictionary="identity"))
    w = np.ones(d_fig) / np.sqrt(d_fig)
    grid = np.linspace(0.0, 0.6, 13)
    figs.append({"id": "p2_robust_error", "kind": "curves", "title": f"Exact robust error vs eps (d={d_fig}, b={b})",
                 "xlabel": "l2 radius eps", "ylabel": "robust error",
                 "series": [{"label": "linear (dense)", "points": curve_points(grid, robust_curve(linear_net(model.M, w), model, w, grid))},
                            {"label": f"pure, b={b}", "points": curve_points(grid, robust_curve(
                                linear_net(model.M, w) if pure_is_linear else pure_net(model.M, w, b), model, w, grid))}]})
    return Outcome("P2", conds, evidence={"k": k, "b": b, "k_fraction": k_fraction, "table": table, "slope": slope.to_dict()},
                   key_numbers=[key_number("log-log slope of the critical-radius ratio", slope),
                                key_number(f"ratio at d={dims[-1]}", Estimate.exact(rows[-1]["ratio"]))],
                   figures=figs, method="exact")


@pytest.mark.claim("P2")
def test_P2(claim_run, profile):
    claim_run.main(check_p2, profile.p2_dims)


@pytest.mark.claim("P2", control="threshold_zero")
def test_P2_control_threshold_zero(claim_run, profile):
    claim_run.control("threshold_zero", check_p2, profile.p2_dims, b=0.0)


@pytest.mark.claim("P2", control="not_sparse")
def test_P2_control_not_sparse(claim_run, profile):
    # k = d/4 grows with d: sqrt(d/k) = 2 is constant, so the ratio must stop growing.
    claim_run.control("not_sparse", check_p2, tuple(d for d in profile.p2_dims if d <= 256), k_fraction=0.25)
