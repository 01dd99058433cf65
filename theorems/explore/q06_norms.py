"""Q6: l_inf vs l2 adversaries, with the identity and with a random dictionary.

Setting (P2's): sigma = 0, unit magnitudes, uniform ``w* = 1/sqrt(d)``, k = ``model.k``, b =
``net.b``; pure net vs dense (linear) net, critical radii at the A4 level, for d on the grid
``grid.d``, in the cells (norm in ``grid.norm``) x (dictionary in ``grid.dictionary``).

Methods. Dense net: exact in every cell (dual norm: ``||M w*||_2`` for l2, ``||M w*||_1`` for
l_inf, which depends on the dictionary). Pure net: exact for l2 (any dictionary) and for
l_inf with the identity (the l_inf ball is then a box in feature space). For l_inf with a
random dictionary there is no exact worst case; the radius is an interval: sound below from
two exact relaxations (the l_inf ball lies in the l2 ball of radius ``eps sqrt(d)``, and in
feature space in the box of half-width ``eps max_i ||M_i||_1``), and above from PGD
(Monte Carlo, l_inf, restarts; Clopper-Pearson).

Main check (a priori): at the largest d of ``grid.d``, the pure net's critical radius exceeds
``judge.advantage`` times the dense net's in every cell. The log-log slope of the ratio against
d is reported per cell (P2 predicts 1/2 for l2). Control: b = 0 (pure = dense in every cell).
"""
from __future__ import annotations

import numpy as np

from numerics import linear_net, pure_net
from numerics.attacks.pgd import pgd_min_margin
from numerics.estimates import Estimate
from numerics.exact_law import tie_sign
from numerics.risk import clean_error

from ..verdict import Outcome, condition, key_number
from .common import (critical_radius, exact_model, exact_radius, level_of, mc_bounds, points_of, radius_ratio, region,
                     region_map, task, uniform_w)

ID = "Q6"
QUESTION = "Does the pure net's robustness advantage hold against l_inf adversaries, with identity and random dictionaries?"


def _cells(params) -> list[tuple[str, str]]:
    return [(n, dk) for n in params.grid.norm for dk in params.grid.dictionary]


def plan(params) -> list[dict]:
    m, b, e = params.model, params.net.b, params.eval
    out = [task("dense", f"dense {n} {dk} d={d}", d=d, k=m.k, norm=n, dictionary=dk, dictionary_seed=m.dictionary_seed,
                iters=e.bisection) for d in params.grid.d for n, dk in _cells(params)]
    out += [task("pure", f"pure {n} {dk} d={d} b={b:g}", d=d, k=m.k, b=b, norm=n, dictionary=dk,
                 dictionary_seed=m.dictionary_seed, iters=e.bisection, samples=e.samples, pgd_steps=e.pgd_steps,
                 pgd_restarts=e.pgd_restarts, seed=e.seed, level=e.level)
            for d in params.grid.d for n, dk in _cells(params)]
    return out


def compute(t: dict) -> dict:
    d, norm, dk = t["d"], t["norm"], t["dictionary"]
    model = exact_model(d, t["k"], dictionary=dk, seed=t["dictionary_seed"])
    w = uniform_w(d)
    lin = linear_net(model.M, w)
    ce = clean_error(lin, model, w, method="exact").value
    level = level_of(ce)
    if t["kind"] == "dense":
        return {"radius": exact_radius(lin, model, w, norm=norm, level=level, hi=1.0 / d, iters=t["iters"]),
                "level": level, "method": "exact"}
    b = t["b"]
    net = pure_net(model.M, w, b)
    if norm == "l2" or dk == "identity" or b == 0:
        # exact: l2 (any dictionary), l_inf on the identity, and b = 0 (a linear net)
        return {"radius": exact_radius(net, model, w, norm=norm, level=level, hi=max(0.05, b) / (1 if norm == "l2" else d ** 0.5),
                                       iters=t["iters"]), "level": level, "method": "exact"}
    # l_inf, random dictionary: sound relaxations below, PGD above
    ident = exact_model(d, t["k"])
    pure_id = pure_net(ident.M, w, b)
    r_l2 = exact_radius(pure_id, ident, w, norm="l2", level=level, hi=max(0.05, b), iters=t["iters"])
    r_box = exact_radius(pure_id, ident, w, norm="linf", level=level, hi=max(0.05, b), iters=t["iters"])
    col_l1 = float(np.abs(model.M).sum(axis=0).max())
    sound = max(r_l2["lower"] / np.sqrt(d), r_box["lower"] / col_l1)
    smp = model.sample(t["samples"], t["seed"])
    y = tie_sign(smp.z @ w, np.abs(smp.z) @ np.abs(w))
    nz = y != 0

    def attack_errors(eps):
        err = np.ones(y.size, dtype=bool)
        m = pgd_min_margin(net, smp.x[nz], y[nz], eps, "linf", steps=t["pgd_steps"], restarts=t["pgd_restarts"],
                           seed=t["seed"])
        err[nz] = m <= 0
        return err

    att = critical_radius(mc_bounds(attack_errors, lambda e: np.ones(y.size, dtype=bool), t["level"]), level,
                          hi=max(sound, 1e-3), iters=t["iters"])
    return {"radius": {"lower": float(min(sound, att["upper"])), "upper": att["upper"], "level": level},
            "level": level, "method": "sound relaxations (exact) / PGD (Monte Carlo)",
            "sound": {"l2_ball": r_l2["lower"] / np.sqrt(d), "feature_box": r_box["lower"] / col_l1}}


def log_log_slope(ds, ratios) -> Estimate:
    """Least-squares slope of log ratio on log d; the interval propagates each ratio's interval."""
    x = np.log(np.asarray(ds, float))
    c = (x - x.mean()) / np.sum((x - x.mean()) ** 2)
    lo = np.log([max(r.lower, 1e-300) for r in ratios])
    hi = np.log([r.upper for r in ratios])
    mid = np.log([r.value for r in ratios])
    s = float(c @ mid)
    return Estimate(s, min(s, float(np.where(c > 0, c * lo, c * hi).sum())),
                    max(s, float(np.where(c > 0, c * hi, c * lo).sum())), "bound", details={"dims": list(ds)})


def judge(params, results: dict) -> Outcome:
    b, adv, dims, cells = params.net.b, params.judge.advantage, params.grid.d, _cells(params)
    ratios = {}
    for d in dims:
        for n, dk in cells:
            p, q = results[f"pure {n} {dk} d={d} b={b:g}"], results[f"dense {n} {dk} d={d}"]
            method = "exact" if p["method"] == "exact" else "bound"
            ratios[(n, dk, d)] = radius_ratio(p["radius"], q["radius"], method=method)
    top = max(dims)
    conds = [condition(f"radius ratio pure/dense, {n}, {dk} dictionary, d={top}", ratios[(n, dk, top)], "above", adv)
             for n, dk in cells]
    verdicts = {(n, dk, d): condition("r", ratios[(n, dk, d)], "above", adv).verdict for d in dims for n, dk in cells}
    what = f"critical radius ratio pure/dense > {adv:g} (k={params.model.k:g}, b={b:g})"
    reg = region([{"norm": n, "dictionary": dk, "d": d} for d in dims for n, dk in cells],
                 [verdicts[(n, dk, d)] for d in dims for n, dk in cells], ("norm", "dictionary", "d"), what)
    rmap = region_map("q6_norms", f"Q6: {what}", ("eval.norm", "model.dictionary", "model.d"),
                      [{"params": {"eval.norm": n, "model.dictionary": dk, "model.d": d},
                        "verdict": verdicts[(n, dk, d)], "numbers": {"ratio": ratios[(n, dk, d)].value,
                                                                    "ratio_lower": ratios[(n, dk, d)].lower}}
                       for d in dims for n, dk in cells],
                      {"eval.norm": cells[0][0], "model.dictionary": cells[0][1], "model.d": top})
    slopes = ({f"{n}/{dk}": log_log_slope(dims, [ratios[(n, dk, d)] for d in dims]).to_dict() for n, dk in cells}
              if len(dims) > 1 else {})
    def radius(kind, n, dk, d):
        r = results[f"pure {n} {dk} d={d} b={b:g}" if kind == "pure" else f"dense {n} {dk} d={d}"]["radius"]
        return [r["lower"], r["upper"]]

    table = [{"norm": n, "dictionary": dk, "d": d, "ratio": ratios[(n, dk, d)].value,
              "ratio_lower": ratios[(n, dk, d)].lower, "ratio_upper": ratios[(n, dk, d)].upper,
              "eps_c_pure": radius("pure", n, dk, d), "eps_c_dense": radius("dense", n, dk, d),
              "pure_method": results[f"pure {n} {dk} d={d} b={b:g}"]["method"]} for d in dims for n, dk in cells]
    figs = [{"id": "q6_ratio_vs_d", "kind": "curves",
             "title": f"Q6: critical radius ratio pure/dense vs d (k={params.model.k:g}, b={b:g})", "xlabel": "d",
             "ylabel": "eps_c(pure) / eps_c(dense)", "xscale": "log", "yscale": "log",
             "series": [{"label": f"{n}, {dk}", "points": points_of(list(dims), [ratios[(n, dk, d)] for d in dims])}
                        for n, dk in cells], "hlines": [{"y": adv, "label": f"advantage threshold {adv:g}"}]}]
    keys = [key_number(f"ratio {n}/{dk} at d={top}", ratios[(n, dk, top)]) for n, dk in cells]
    return Outcome(ID, conds, evidence={"question": QUESTION, "b": b, "k": params.model.k, "table": table,
                                        "slopes_log_ratio_vs_log_d": slopes, "region": reg,
                                        "seeds": {"dictionary": params.model.dictionary_seed,
                                                  "samples": params.eval.seed}},
                   key_numbers=keys, figures=figs, regions=[rmap],
                   method="exact (l2; l_inf identity) + [sound relaxation, PGD] (l_inf random)")


def check(params) -> Outcome:
    from . import check as run

    return run(ID, params)
