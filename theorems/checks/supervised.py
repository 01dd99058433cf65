"""Checks of the supervised family: P2 (P1: TRANSITIONAL, still in theorems/test_supervised.py).

P2 (C2). At the clean Bayes level the dense (linear) net breaks at l2 radii of order
sqrt(k/d) and the pure net at radii of order one; their ratio grows like sqrt(d/k)
(log-log slope in the registered range) over the registered grid of d. Exact engine.
"""
from __future__ import annotations

import numpy as np

from numerics import ModelConfig, SparseCodingModel, linear_net, pure_net
from numerics.estimates import Estimate

from ..parameters.vocabulary import k_at
from ..supervised import p2_dimension, robust_curve
from ..verdict import Outcome, condition, curve_points, key_number


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


def check_p2(params) -> Outcome:
    m, b, j = params.model, params.net.b, params.judge
    dims = params.grid.d
    ks = [k_at(d, m.k, m.law) for d in dims]
    rows = [p2_dimension(d, k, b, dictionary=m.dictionary, iters=params.eval.bisection) for d, k in zip(dims, ks)]
    conds = []
    for r in rows:
        # Both nets at the clean Bayes level: the only errors are ties <w*, z> = 0 (A1).
        gap = abs(r["clean_error_pure"].value - r["clean_error_linear"].value)
        conds.append(condition(f"|clean error pure - linear| at d={r['d']}", Estimate.exact(gap), "below", j.clean_tol))
    slope = fitted_slope(dims, rows)
    conds.append(condition("log-log slope of eps_c(pure)/eps_c(linear) vs d", slope, "above", j.slope_lo))
    conds.append(condition("log-log slope of eps_c(pure)/eps_c(linear) vs d", slope, "below", j.slope_hi))
    growth = min(rows[i + 1]["ratio"] - rows[i]["ratio"] for i in range(len(rows) - 1))
    conds.append(condition("smallest step of the ratio between consecutive d", Estimate.exact(growth), "above", 0.0))
    table = [{"d": r["d"], "k": r["k"], "clean_error": r["clean_error_linear"].value, "level": r["level"],
              "eps_c_linear": r["eps_c_linear"], "eps_c_pure": r["eps_c_pure"], "ratio": r["ratio"],
              "sqrt_d_over_k": r["sqrt_d_over_k"], "ratio_over_sqrt_d_over_k": r["ratio"] / r["sqrt_d_over_k"]} for r in rows]

    def line(vals):
        return [{"x": r["d"], "value": v, "lower": v, "upper": v} for r, v in zip(rows, vals)]

    figs = [{"id": "p2_ratio", "kind": "curves", "title": "Critical l2 radius ratio pure/linear vs d",
             "xlabel": "d", "ylabel": "eps_c(pure) / eps_c(linear)", "xscale": "log", "yscale": "log",
             "series": [{"label": "exact", "points": line([r["ratio"] for r in rows])},
                        {"label": "(1-b) sqrt(d/k)", "points": line([(1 - b) * r["sqrt_d_over_k"] for r in rows])}]}]
    i_fig = min(2, len(dims) - 1)
    d_fig, k_fig = dims[i_fig], ks[i_fig]
    model = SparseCodingModel(ModelConfig(d=d_fig, p=min(1.0, k_fig / d_fig), dictionary=m.dictionary))
    w = np.ones(d_fig) / np.sqrt(d_fig)
    grid = np.linspace(0.0, 0.6, 13)
    figs.append({"id": "p2_robust_error", "kind": "curves", "title": f"Exact robust error vs eps (d={d_fig}, b={b:g})",
                 "xlabel": "l2 radius eps", "ylabel": "robust error",
                 "series": [{"label": "linear (dense)", "points": curve_points(grid, robust_curve(linear_net(model.M, w), model, w, grid))},
                            {"label": f"pure, b={b:g}", "points": curve_points(grid, robust_curve(pure_net(model.M, w, b), model, w, grid))}]})
    return Outcome("P2", conds, evidence={"table": table, "slope": slope.to_dict()},
                   key_numbers=[key_number("log-log slope of the critical-radius ratio", slope),
                                key_number(f"ratio at d={dims[-1]}", Estimate.exact(rows[-1]["ratio"]))],
                   figures=figs, method="exact")
