"""Checks of the supervised family: P1 and P2, each ``check(params) -> Outcome``.

P1 (C1, C2). Along a mixing path Q(t) = expm(tA), with (b, lambda) optimised at each t, the
optimal adversarial population logistic loss rises above its value at the pure net while the
optimal clean loss stays flat; at t = 0 every drawn mixing direction raises it (hypothesis
draws the directions from the registered ranges). Optimisation over exact enumeration.

P2 (C2). At the clean Bayes level the dense (linear) net breaks at l2 radii of order
sqrt(k/d) and the pure net at radii of order one; their ratio grows like sqrt(d/k)
(log-log slope in the registered range) over the registered grid of d. Exact engine.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from numerics import ModelConfig, SparseCodingModel, linear_net, pure_net
from numerics.estimates import Estimate

from ..parameters.vocabulary import k_at
from ..protocol import draw_examples
from ..strategies import mixing_amount
from ..supervised import P1Setting, difference, p1_loss, p1_rise, p2_dimension, robust_curve
from ..verdict import Outcome, condition, curve_points, key_number


def p1_setting(params, *, b_fixed: float | None = None) -> P1Setting:
    """The optimisation setting of P1's parameters (b fixed when ``train.threshold`` is fixed, or by ``b_fixed``)."""
    m, tr, o, e = params.model, params.train, params.opt, params.eval
    if b_fixed is None and tr.threshold == "fixed":
        b_fixed = tr.b_init
    return P1Setting(m.d, m.k, tr.eps, b_fixed, e.pgd_restarts, e.pgd_steps, e.seed, o.lam_max, o.b_max, o.b_grid)


def check_p1(params) -> Outcome:
    j, ts = params.judge, params.grid.t
    adv_s = p1_setting(params)
    clean_s = dataclasses.replace(adv_s, eps=0.0)
    seed = params.net.mixing_seed
    adv = [p1_loss(adv_s, seed, float(t)) for t in ts]
    clean = [p1_loss(clean_s, seed, float(t)) for t in ts]
    conds = []
    for t, a, c in zip(ts[1:], adv[1:], clean[1:]):
        conds.append(condition(f"adversarial loss rise at t={t:g}", difference(a, adv[0]), "above", j.rise_tol))
        dc = difference(c, clean[0])
        big = max(abs(dc.lower), abs(dc.upper))
        flat = Estimate(big, big, big, "optimisation", details=dc.details)
        conds.append(condition(f"|clean loss change| at t={t:g}", flat, "below", j.clean_tol))

    def one_direction(example):
        rise = p1_rise(adv_s, example["mixing_seed"], example["t"])
        return [condition("adversarial loss rise", rise, "above", j.rise_tol)], {"rise": rise.value}

    tally = draw_examples("P1", "optimisation over exact enumeration", mixing_amount(params), one_direction,
                          max_examples=params.draw.examples)
    dirs = tally.outcome({"base": adv[0].to_dict()})
    conds.extend(dirs.conditions)
    ev = {"d": params.model.d, "p": adv_s.p, "eps": adv_s.eps, "lambda_max": adv_s.lam_max, "b_fixed": adv_s.b_fixed,
          "path": [{"t": float(t), "adversarial": a.to_dict(), "clean": c.to_dict()} for t, a, c in zip(ts, adv, clean)],
          "directions": dirs.evidence}
    fig = {"id": "p1_mixing_path", "kind": "curves",
           "title": f"Optimal losses along a mixing path (d={params.model.d}, eps={adv_s.eps:g})",
           "xlabel": "mixing t", "ylabel": "optimal population logistic loss",
           "series": [{"label": "adversarial (exact at t=0, PGD lower bound t>0)", "points": curve_points(ts, adv)},
                      {"label": "clean", "points": curve_points(ts, clean)}]}
    keys = [key_number(f"adv loss rise at t={ts[-1]:g}", difference(adv[-1], adv[0])),
            key_number(f"clean loss change at t={ts[-1]:g}", difference(clean[-1], clean[0]))]
    return Outcome("P1", conds, evidence=ev, key_numbers=keys, figures=[fig], examples=dirs.examples,
                   counterexample=dirs.counterexample,
                   method="optimisation over exact enumeration (PGD lower bound for t > 0)")


def fitted_slope(ds, rows) -> Estimate:
    """Least-squares slope of log ratio vs log d, with the bisection error propagated as slack."""
    x = np.log(np.asarray(ds, dtype=float))
    c = (x - x.mean()) / np.sum((x - x.mean()) ** 2)
    mid = np.log([r["ratio"] for r in rows])
    lo_r, hi_r = (np.log(v) for v in zip(*[_ratio_bracket(r) for r in rows]))
    s = float(c @ mid)
    upper = float(np.where(c > 0, c * hi_r, c * lo_r).sum())
    lower = float(np.where(c > 0, c * lo_r, c * hi_r).sum())
    return Estimate(s, min(lower, s), max(upper, s), "exact", details={"propagated": "bisection half-widths"})


def _ratio_bracket(r) -> tuple[float, float]:
    """The critical-radius ratio's bracket from the two bisections' (pure over linear)."""
    return ((r["eps_c_pure"] - r["eps_c_pure_halfwidth"]) / (r["eps_c_linear"] + r["eps_c_linear_halfwidth"]),
            (r["eps_c_pure"] + r["eps_c_pure_halfwidth"]) / (r["eps_c_linear"] - r["eps_c_linear_halfwidth"]))


def smallest_step(rows) -> Estimate:
    """The smallest increase of the ratio between consecutive d, bracketed by the bisections: a step is at least
    the next ratio's lower end minus this one's upper end (midpoints alone can show growth the brackets allow
    to be none)."""
    brackets = [_ratio_bracket(r) for r in rows]
    steps = range(len(rows) - 1)
    mid = min(rows[i + 1]["ratio"] - rows[i]["ratio"] for i in steps)
    lower = min(brackets[i + 1][0] - brackets[i][1] for i in steps)
    upper = min(brackets[i + 1][1] - brackets[i][0] for i in steps)
    return Estimate(mid, min(lower, mid), max(upper, mid), "exact", details={"propagated": "bisection half-widths"})


def check_p2(params) -> Outcome:
    m, b, j = params.model, params.net.b, params.judge
    dims = params.grid.d
    ks = [k_at(d, m.k, m.law) for d in dims]
    norm = params.eval.norm
    rows = [p2_dimension(d, k, b, dictionary=m.dictionary, iters=params.eval.bisection, norm=norm)
            for d, k in zip(dims, ks)]
    conds = []
    for r in rows:
        # Both nets at the clean Bayes level: the only errors are ties <w*, z> = 0 (A1).
        gap = abs(r["clean_error_pure"].value - r["clean_error_linear"].value)
        conds.append(condition(f"|clean error pure - linear| at d={r['d']}", Estimate.exact(gap), "below", j.clean_tol))
    slope = fitted_slope(dims, rows)
    conds.append(condition("log-log slope of eps_c(pure)/eps_c(linear) vs d", slope, "above", j.slope_lo))
    conds.append(condition("log-log slope of eps_c(pure)/eps_c(linear) vs d", slope, "below", j.slope_hi))
    conds.append(condition("smallest step of the ratio between consecutive d", smallest_step(rows), "above", 0.0))
    table = [{"d": r["d"], "k": r["k"], "clean_error": r["clean_error_linear"].value, "level": r["level"],
              "eps_c_linear": r["eps_c_linear"], "eps_c_pure": r["eps_c_pure"], "ratio": r["ratio"],
              "sqrt_d_over_k": r["sqrt_d_over_k"], "ratio_over_sqrt_d_over_k": r["ratio"] / r["sqrt_d_over_k"]} for r in rows]

    def line(vals):
        return [{"x": r["d"], "value": v, "lower": v, "upper": v} for r, v in zip(rows, vals)]

    figs = [{"id": "p2_ratio", "kind": "curves", "title": f"Critical {norm} radius ratio pure/linear vs d",
             "xlabel": "d", "ylabel": "eps_c(pure) / eps_c(linear)", "xscale": "log", "yscale": "log",
             "series": [{"label": "exact", "points": line([r["ratio"] for r in rows])},
                        {"label": "(1-b) sqrt(d/k)", "points": line([(1 - b) * r["sqrt_d_over_k"] for r in rows])}]}]
    i_fig = min(2, len(dims) - 1)
    d_fig, k_fig = dims[i_fig], ks[i_fig]
    model = SparseCodingModel(ModelConfig(d=d_fig, p=min(1.0, k_fig / d_fig), dictionary=m.dictionary))
    w = np.ones(d_fig) / np.sqrt(d_fig)
    grid = np.linspace(0.0, 0.6, 13) * (1.0 if norm == "l2" else 1.0 / np.sqrt(d_fig))
    figs.append({"id": "p2_robust_error", "kind": "curves", "title": f"Exact robust error vs eps (d={d_fig}, b={b:g})",
                 "xlabel": f"{norm} radius eps", "ylabel": "robust error",
                 "series": [{"label": "linear (dense)",
                             "points": curve_points(grid, robust_curve(linear_net(model.M, w), model, w, grid, norm))},
                            {"label": f"pure, b={b:g}",
                             "points": curve_points(grid, robust_curve(pure_net(model.M, w, b), model, w, grid, norm))}]})
    return Outcome("P2", conds, evidence={"table": table, "slope": slope.to_dict()},
                   key_numbers=[key_number("log-log slope of the critical-radius ratio", slope),
                                key_number(f"ratio at d={dims[-1]}", Estimate.exact(rows[-1]["ratio"]))],
                   figures=figs, method="exact")
