"""Q1: does the pure net's robustness advantage survive correlated (non-orthogonal) dictionaries and denser codes?

Two sweeps (sigma = 0, unit magnitudes, threshold b = 0.3, l2, critical radii at the A4 level):

- *coherence*: ``M`` with unit columns and pairwise cosine rho (``numerics.dictionaries``,
  Gram ``G = (1 - rho) I + rho 1 1^T``), d = 64, k = 4. Pure net = the dual basis
  (``W = M^{-1}``: node j reads ``z_j`` exactly), dense net = ``<M^{-T} w*, x> = <w*, z>``. Both
  are clean Bayes-optimal (the same clean function as on an orthogonal dictionary).
  Dense radius: exact (its margin drop is ``eps sqrt(w*^T G^{-1} w*)``, so its radius is the
  orthogonal one divided by that). Pure radius: an interval, sound below (the ellipsoid
  ``u^T G u <= eps^2`` of feature moves lies in the ball of radius ``eps / sqrt(lambda_min)``, so
  ``eps_c >= sqrt(lambda_min) eps_c(orthogonal)``, exact engine) and an attack above (Monte
  Carlo: exact ball minimisers and the dense net's worst direction, scaled onto the ellipsoid;
  Clopper-Pearson). Two tasks: ``signs`` (random signs: a task unrelated to the correlation,
  the headline) and ``uniform`` (``w* = 1/sqrt(d)``, along ``G``'s top eigenvector, where the
  dense net gains ``sqrt(1 + (d - 1) rho)``).
- *sparsity*: orthogonal dictionary (l2 radii do not depend on it), d = 64, k from 1 to d
  (``p = k/d`` up to 1), exact engine.

Everything depends on ``M`` only through ``G`` (``x = M z``, ``u = M^{-1} delta``,
``||delta||^2 = u^T G u``), so no ``M`` is built (``numerics.dictionaries.coherent_dictionary``
gives one with this Gram).

Main check (a priori headline): rho = 0.5, ``signs`` task, d = 64, k = 4: ratio of critical
radii pure / dense above 2. Control: the same with b = 0 (the dual-basis net is then the dense
net: ratio 1). Region: (rho, task) and k/d points where the ratio's interval is above 2.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from numerics import linear_net, pure_net
from numerics.dictionaries import ellipsoid_pure_bounds, equicorrelated_gram, gram_eigen_range
from numerics.exact_law import tie_sign
from numerics.risk import clean_error

from ..verdict import Outcome, condition, key_number
from .common import (ADVANTAGE, B, K, LEVEL, critical_radius, exact_model, exact_radius, level_of, mc_bounds,
                     points_of, radius_ratio, region, task, verdict_text)

ID = "Q1"
QUESTION = ("Does the pure net's >2x robustness advantage survive non-orthogonal (correlated) dictionaries "
            "and denser codes (k up to d)?")
HEADLINE = {"rho": 0.5, "task": "signs", "d": 64}
TASK_SEED = 3
SAMPLE_SEED = 11


@dataclass(frozen=True)
class Sizes:
    rhos: tuple[float, ...]
    tasks: tuple[str, ...]
    ks: tuple[float, ...]
    samples: int
    iters: int


SIZES = {
    "smoke": Sizes((0.0, 0.5), ("signs", "uniform"), (1, 4, 16, 64), 1000, 8),
    "quick": Sizes((0.0, 0.25, 0.5, 0.75, 0.9), ("signs", "uniform"), (1, 2, 4, 8, 16, 32, 64), 3000, 10),
    "thorough": Sizes((0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95), ("signs", "uniform"), (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64),
                      10000, 12),
}


def task_direction(kind: str, d: int) -> np.ndarray:
    if kind == "uniform":
        return np.ones(d) / np.sqrt(d)
    signs = np.where(np.random.default_rng([TASK_SEED, d]).random(d) < 0.5, -1.0, 1.0)
    return signs / np.sqrt(d)


def plan(sz: Sizes, variant: str) -> list[dict]:
    d = HEADLINE["d"]
    if variant == "main":
        out = [task("coherent", f"rho={r:g} task={w}", d=d, k=K, b=B, rho=float(r), w=w, samples=sz.samples,
                    iters=sz.iters, seed=SAMPLE_SEED) for r in sz.rhos for w in sz.tasks]
        out += [task("sparsity", f"k={k:g}", d=d, k=float(k), b=B, iters=sz.iters) for k in sz.ks]
        return out
    if variant == "threshold_zero":
        return [task("coherent", "headline b=0", d=d, k=K, b=0.0, rho=HEADLINE["rho"], w=HEADLINE["task"],
                     samples=sz.samples, iters=sz.iters, seed=SAMPLE_SEED)]
    raise ValueError(f"{ID} has no variant {variant!r}")


def compute(t: dict) -> dict:
    return _coherent(t) if t["kind"] == "coherent" else _sparsity(t)


def _sparsity(t: dict) -> dict:
    d, k, b = t["d"], t["k"], t["b"]
    model = exact_model(d, k)
    w = np.ones(d) / np.sqrt(d)
    lin, pure = linear_net(model.M, w), pure_net(model.M, w, b)
    ce = clean_error(lin, model, w, method="exact").value
    ce_pure = clean_error(pure, model, w, method="exact").value
    level = level_of(ce)
    r_lin = exact_radius(lin, model, w, level=level, hi=1.0 / np.sqrt(d), iters=t["iters"])
    r_pure = exact_radius(pure, model, w, level=level, hi=max(0.05, b), iters=t["iters"]) if ce_pure < level \
        else {"lower": 0.0, "upper": 0.0, "level": level}
    return {"pure": r_pure, "dense": r_lin, "clean_error": ce, "clean_error_pure": ce_pure, "level": level}


def _coherent(t: dict) -> dict:
    d, k, b, rho = t["d"], t["k"], t["b"], t["rho"]
    w = task_direction(t["w"], d)
    G = equicorrelated_gram(d, rho)
    lam_min, lam_max = gram_eigen_range(d, rho)
    vnorm = float(np.sqrt(w @ np.linalg.solve(G, w)))  # ||M^{-T} w||: the dense net's l2 dual norm
    model = exact_model(d, k)  # orthogonal (identity) model: the law of z and the ball problems
    ortho_dense = linear_net(model.M, w)
    ce = clean_error(ortho_dense, model, w, method="exact").value
    level = level_of(ce)
    r_ortho_dense = exact_radius(ortho_dense, model, w, level=level, hi=1.0 / np.sqrt(d), iters=t["iters"])
    dense = {"lower": r_ortho_dense["lower"] / vnorm, "upper": r_ortho_dense["upper"] / vnorm, "level": level}
    # sound side of the pure radius: the orthogonal pure net at eps / sqrt(lambda_min)
    r_ortho_pure = exact_radius(pure_net(model.M, w, b), model, w, level=level, hi=max(0.05, b), iters=t["iters"])
    sound = np.sqrt(lam_min) * r_ortho_pure["lower"]
    # attack side: Monte Carlo over z (x = M z; the attack acts on u = M^{-1} delta)
    z = model.sample_z(t["samples"], np.random.default_rng(t["seed"]))
    y = tie_sign(z @ w, np.abs(z) @ np.abs(w))
    nz = y != 0
    coef = y[nz, None] * w[None, :]
    lin_dir = -np.linalg.solve(G, coef.T).T  # the dense net's worst direction in feature space

    def attack_errors(eps):
        err = np.ones(y.size, dtype=bool)  # ties are errors
        _, upper = ellipsoid_pure_bounds(coef, z[nz], b, eps, G, radii=4, directions=lin_dir)
        err[nz] = upper <= 0
        return err

    def certified_errors(eps):  # only the attack side is used: the sound side is exact above
        return np.ones(y.size, dtype=bool)

    bounds = mc_bounds(attack_errors, certified_errors, LEVEL)
    att = critical_radius(bounds, level, hi=max(0.05, sound), iters=t["iters"])
    pure = {"lower": float(min(sound, att["upper"])), "upper": att["upper"], "level": level,
            "sound_from": "sqrt(lambda_min) * exact orthogonal radius", "attack_samples": int(t["samples"])}
    return {"pure": pure, "dense": dense, "clean_error": ce, "level": level, "lambda_min": lam_min,
            "lambda_max": lam_max, "dense_dual_norm": vnorm}


def judge(variant: str, sz: Sizes, results: dict) -> Outcome:
    if variant == "threshold_zero":
        r = results["headline b=0"]
        ratio = radius_ratio(r["pure"], r["dense"], method="bound")
        conds = [condition("critical radius ratio pure/dense at the headline with b = 0", ratio, "above", ADVANTAGE)]
        return Outcome(ID, conds, evidence={"variant": variant, "result": r},
                       key_numbers=[key_number("ratio at b = 0", ratio)], method="exact + Monte Carlo attack")
    coh = {(rho, w): results[f"rho={rho:g} task={w}"] for rho in sz.rhos for w in sz.tasks}
    ratios = {key: radius_ratio(r["pure"], r["dense"], method="bound") for key, r in coh.items()}
    head = ratios[(HEADLINE["rho"], HEADLINE["task"])]
    conds = [condition(f"critical radius ratio pure/dense at rho={HEADLINE['rho']:g}, task '{HEADLINE['task']}', "
                       f"d={HEADLINE['d']}, k={K:g}", head, "above", ADVANTAGE)]
    sp = {k: results[f"k={k:g}"] for k in sz.ks}
    sp_ratio = {k: radius_ratio(r["pure"], r["dense"], method="exact") for k, r in sp.items()}
    cells = [(rho, w, condition("ratio", ratios[(rho, w)], "above", ADVANTAGE).verdict) for rho in sz.rhos for w in sz.tasks]
    sp_cells = [(k, condition("ratio", sp_ratio[k], "above", ADVANTAGE).verdict) for k in sz.ks]
    reg = region([{"rho": rho, "task": w} for rho, w, _ in cells] + [{"rho": 0.0, "task": f"k/d={k / HEADLINE['d']:g}"} for k, _ in sp_cells],
                 [v for *_, v in cells] + [v for _, v in sp_cells], ("rho", "task"),
                 f"critical radius ratio pure/dense > {ADVANTAGE:g} (rows 'k/d=...': orthogonal dictionary, uniform task)")
    table = [{"rho": rho, "task": w, "ratio": ratios[(rho, w)].value, "ratio_lower": ratios[(rho, w)].lower,
              "ratio_upper": ratios[(rho, w)].upper, "eps_c_pure": [coh[(rho, w)]["pure"]["lower"], coh[(rho, w)]["pure"]["upper"]],
              "eps_c_dense": [coh[(rho, w)]["dense"]["lower"], coh[(rho, w)]["dense"]["upper"]],
              "dense_dual_norm": coh[(rho, w)]["dense_dual_norm"], "lambda_min": coh[(rho, w)]["lambda_min"]}
             for rho in sz.rhos for w in sz.tasks]
    sp_table = [{"k": k, "k_over_d": k / HEADLINE["d"], "ratio": sp_ratio[k].value, "ratio_lower": sp_ratio[k].lower,
                 "ratio_upper": sp_ratio[k].upper, "eps_c_pure": [sp[k]["pure"]["lower"], sp[k]["pure"]["upper"]],
                 "eps_c_dense": [sp[k]["dense"]["lower"], sp[k]["dense"]["upper"]], "clean_error": sp[k]["clean_error"],
                 "clean_error_pure": sp[k]["clean_error_pure"]} for k in sz.ks]
    figs = [{"id": "q1_coherence", "kind": "curves", "title": f"Q1: radius ratio pure/dense vs dictionary coherence (d={HEADLINE['d']}, k=4)",
             "xlabel": "pairwise feature cosine rho", "ylabel": "eps_c(pure) / eps_c(dense)", "yscale": "log",
             "series": [{"label": f"task '{w}'", "points": points_of(list(sz.rhos), [ratios[(r, w)] for r in sz.rhos])} for w in sz.tasks],
             "hlines": [{"y": ADVANTAGE, "label": "advantage threshold 2"}, {"y": 1.0, "label": "no advantage"}]},
            {"id": "q1_sparsity", "kind": "curves", "title": f"Q1: radius ratio pure/dense vs k/d (orthogonal, d={HEADLINE['d']})",
             "xlabel": "k / d", "ylabel": "eps_c(pure) / eps_c(dense)", "xscale": "log", "yscale": "log",
             "series": [{"label": "exact", "points": points_of([k / HEADLINE["d"] for k in sz.ks], [sp_ratio[k] for k in sz.ks])},
                        {"label": "(1-b) sqrt(d/k)", "points": [{"x": k / HEADLINE["d"], "value": (1 - B) * np.sqrt(HEADLINE["d"] / k)} for k in sz.ks]}],
             "hlines": [{"y": ADVANTAGE, "label": "advantage threshold 2"}]}]
    held_k = [k for k, v in sp_cells if v == "pass"]
    reg["largest_k_over_d_where_it_holds"] = max(held_k) / HEADLINE["d"] if held_k else None
    reg["coherence"] = {f"{w}": {f"{rho:g}": verdict_text(v) for rho, ww, v in cells if ww == w} for w in sz.tasks}
    keys = [key_number("headline ratio (rho=0.5, signs)", head)]
    if (HEADLINE["rho"], "uniform") in ratios:
        keys.append(key_number("ratio at rho=0.5, uniform task", ratios[(HEADLINE["rho"], "uniform")]))
    keys.append(key_number(f"ratio at k = d = {HEADLINE['d']}", sp_ratio[sz.ks[-1]]))
    return Outcome(ID, conds, evidence={"question": QUESTION, "headline": HEADLINE, "b": B, "k": K, "variant": variant,
                                        "coherence_table": table, "sparsity_table": sp_table, "region": reg,
                                        "seeds": {"task": TASK_SEED, "samples": SAMPLE_SEED}},
                   key_numbers=keys, figures=figs, method="exact + sound/attack interval (Monte Carlo attack side)")
