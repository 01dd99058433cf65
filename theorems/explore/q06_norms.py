"""Q6: l_inf vs l2 adversaries, with the identity and with a random dictionary.

Setting (P2's): sigma = 0, unit magnitudes, uniform ``w* = 1/sqrt(d)``, k = 4, b = 0.3; pure
net vs dense (linear) net, critical radii at the A4 level, for d on a grid, in the four cells
(norm in {l2, linf}) x (dictionary in {identity, random}).

Methods. Dense net: exact in every cell (dual norm: ``||M w*||_2`` for l2, ``||M w*||_1`` for
l_inf, which depends on the dictionary). Pure net: exact for l2 (any dictionary) and for
l_inf with the identity (the l_inf ball is then a box in feature space). For l_inf with a
random dictionary there is no exact worst case; the radius is an interval: sound below from
two exact relaxations (the l_inf ball lies in the l2 ball of radius ``eps sqrt(d)``, and in
feature space in the box of half-width ``eps max_i ||M_i||_1``), and above from PGD
(Monte Carlo, l_inf, restarts; Clopper-Pearson).

Main check (a priori): at the largest d of the profile, the pure net's critical radius
exceeds twice the dense net's in all four cells. The log-log slope of the ratio against d is
reported per cell (P2 predicts 1/2 for l2). Control: b = 0 (pure = dense in every cell).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from numerics import linear_net, pure_net
from numerics.attacks.pgd import pgd_min_margin
from numerics.estimates import Estimate
from numerics.exact_law import tie_sign
from numerics.risk import clean_error

from ..verdict import Outcome, condition, key_number
from .common import (ADVANTAGE, B, K, LEVEL, critical_radius, exact_model, exact_radius, level_of, mc_bounds,
                     points_of, radius_ratio, region, task, uniform_w)

ID = "Q6"
QUESTION = "Does the pure net's robustness advantage hold against l_inf adversaries, with identity and random dictionaries?"
CELLS = (("l2", "identity"), ("l2", "random"), ("linf", "identity"), ("linf", "random"))
DICT_SEED = 0
SAMPLE_SEED = 5


@dataclass(frozen=True)
class Sizes:
    dims: tuple[int, ...]
    samples: int
    pgd_steps: int
    pgd_restarts: int
    iters: int


SIZES = {
    "smoke": Sizes((16, 64), 600, 20, 2, 8),
    "quick": Sizes((16, 64, 256), 2000, 30, 4, 10),
    "thorough": Sizes((16, 32, 64, 128, 256, 512), 5000, 50, 8, 12),
}


def plan(sz: Sizes, variant: str) -> list[dict]:
    b = {"main": B, "threshold_zero": 0.0}.get(variant)
    if b is None:
        raise ValueError(f"{ID} has no variant {variant!r}")
    dims = sz.dims if variant == "main" else sz.dims[-1:]
    out = [task("dense", f"dense {n} {dk} d={d}", d=d, k=K, norm=n, dictionary=dk, iters=sz.iters)
           for d in dims for n, dk in CELLS]
    out += [task("pure", f"pure {n} {dk} d={d} b={b:g}", d=d, k=K, b=b, norm=n, dictionary=dk, iters=sz.iters,
                 samples=sz.samples, pgd_steps=sz.pgd_steps, pgd_restarts=sz.pgd_restarts, seed=SAMPLE_SEED)
            for d in dims for n, dk in CELLS]
    return out


def compute(t: dict) -> dict:
    d, norm, dk = t["d"], t["norm"], t["dictionary"]
    model = exact_model(d, t["k"], dictionary=dk, seed=DICT_SEED)
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

    att = critical_radius(mc_bounds(attack_errors, lambda e: np.ones(y.size, dtype=bool), LEVEL), level,
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


def judge(variant: str, sz: Sizes, results: dict) -> Outcome:
    b = B if variant == "main" else 0.0
    dims = sz.dims if variant == "main" else sz.dims[-1:]
    ratios = {}
    for d in dims:
        for n, dk in CELLS:
            p, q = results[f"pure {n} {dk} d={d} b={b:g}"], results[f"dense {n} {dk} d={d}"]
            method = "exact" if p["method"] == "exact" else "bound"
            ratios[(n, dk, d)] = radius_ratio(p["radius"], q["radius"], method=method)
    top = dims[-1]
    conds = [condition(f"radius ratio pure/dense, {n}, {dk} dictionary, d={top}", ratios[(n, dk, top)], "above", ADVANTAGE)
             for n, dk in CELLS]
    verdicts = [condition("r", ratios[(n, dk, d)], "above", ADVANTAGE).verdict for d in dims for n, dk in CELLS]
    reg = region([{"norm": n, "dictionary": dk, "d": d} for d in dims for n, dk in CELLS], verdicts,
                 ("norm", "dictionary", "d"), f"critical radius ratio pure/dense > {ADVANTAGE:g} (k=4, b={b:g})")
    slopes = {f"{n}/{dk}": log_log_slope(dims, [ratios[(n, dk, d)] for d in dims]).to_dict() for n, dk in CELLS} if len(dims) > 1 else {}
    table = [{"norm": n, "dictionary": dk, "d": d, "ratio": ratios[(n, dk, d)].value, "ratio_lower": ratios[(n, dk, d)].lower,
              "ratio_upper": ratios[(n, dk, d)].upper,
              "eps_c_pure": [results[f"pure {n} {dk} d={d} b={b:g}"]["radius"]["lower"], results[f"pure {n} {dk} d={d} b={b:g}"]["radius"]["upper"]],
              "eps_c_dense": [results[f"dense {n} {dk} d={d}"]["radius"]["lower"], results[f"dense {n} {dk} d={d}"]["radius"]["upper"]],
              "pure_method": results[f"pure {n} {dk} d={d} b={b:g}"]["method"]} for d in dims for n, dk in CELLS]
    figs = [{"id": "q6_ratio_vs_d" + ("" if variant == "main" else "_" + variant), "kind": "curves",
             "title": f"Q6: critical radius ratio pure/dense vs d (k=4, b={b:g})", "xlabel": "d",
             "ylabel": "eps_c(pure) / eps_c(dense)", "xscale": "log", "yscale": "log",
             "series": [{"label": f"{n}, {dk}", "points": points_of(list(dims), [ratios[(n, dk, d)] for d in dims])}
                        for n, dk in CELLS], "hlines": [{"y": ADVANTAGE, "label": "advantage threshold 2"}]}]
    keys = [key_number(f"ratio {n}/{dk} at d={top}", ratios[(n, dk, top)]) for n, dk in CELLS]
    return Outcome(ID, conds, evidence={"question": QUESTION, "b": b, "k": K, "variant": variant, "table": table,
                                        "slopes_log_ratio_vs_log_d": slopes, "region": reg,
                                        "seeds": {"dictionary": DICT_SEED, "samples": SAMPLE_SEED}},
                   key_numbers=keys, figures=figs if variant == "main" else [],
                   method="exact (l2; l_inf identity) + [sound relaxation, PGD] (l_inf random)")
