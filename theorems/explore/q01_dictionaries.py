"""Q1: does the pure net's robustness advantage survive correlated (non-orthogonal) dictionaries and denser codes?

Two sweeps (sigma = 0, unit magnitudes, threshold b = 0.3, l2, critical radii at the A4 level):

- *coherence*: ``M`` with unit columns and pairwise cosine rho (``numerics.dictionaries``,
  Gram ``G = (1 - rho) I + rho 1 1^T``), d = ``model.d``, k = ``model.k``. Pure net = the dual basis
  (``W = M^{-1}``: node j reads ``z_j`` exactly), dense net = ``<M^{-T} w*, x> = <w*, z>``. Both
  are clean Bayes-optimal (the same clean function as on an orthogonal dictionary).
  Dense radius: exact (its margin drop is ``eps sqrt(w*^T G^{-1} w*)``, so its radius is the
  orthogonal one divided by that). Pure radius: an interval, sound below (the ellipsoid
  ``u^T G u <= eps^2`` of feature moves lies in the ball of radius ``eps / sqrt(lambda_min)``, so
  ``eps_c >= sqrt(lambda_min) eps_c(orthogonal)``, exact engine) and an attack above (Monte
  Carlo: exact ball minimisers and the dense net's worst direction, scaled onto the ellipsoid;
  Clopper-Pearson). Two tasks: ``random_signs`` (a task unrelated to the correlation, the
  headline) and ``uniform`` (``w* = 1/sqrt(d)``, along ``G``'s top eigenvector, where the
  dense net gains ``sqrt(1 + (d - 1) rho)``).
- *sparsity*: orthogonal dictionary (l2 radii do not depend on it), d = ``model.d``, k over
  ``grid.k`` (``p = k/d`` up to 1), exact engine.

Everything depends on ``M`` only through ``G`` (``x = M z``, ``u = M^{-1} delta``,
``||delta||^2 = u^T G u``), so no ``M`` is built (``numerics.dictionaries.coherent_dictionary``
gives one with this Gram).

Main check (a priori headline, the parameters ``model.*``, ``net.b``): rho = 0.5, random-signs
task, d = 64, k = 4, b = 0.3: ratio of critical radii pure / dense above ``judge.advantage``.
Control: the same with b = 0 (the dual-basis net is then the dense net: ratio 1). Region:
(rho, task) over ``grid.rho`` x ``grid.task`` and the k/d points ``grid.k``.
"""
from __future__ import annotations

import numpy as np

from numerics import linear_net, pure_net
from numerics.attacks.ellipsoid import ellipsoid_pure_bounds
from numerics.dictionaries import equicorrelated_gram, gram_eigen_range
from numerics.exact_law import tie_sign
from numerics.risk import clean_error

from ..verdict import Outcome, condition, key_number
from .common import (critical_radius, exact_model, exact_radius, level_of, mc_bounds, points_of, radius_ratio, region,
                     region_map, task, verdict_text)

ID = "Q1"
QUESTION = ("Does the pure net's >2x robustness advantage survive non-orthogonal (correlated) dictionaries "
            "and denser codes (k up to d)?")


def task_direction(kind: str, d: int, seed: int) -> np.ndarray:
    if kind == "uniform":
        return np.ones(d) / np.sqrt(d)
    signs = np.where(np.random.default_rng([seed, d]).random(d) < 0.5, -1.0, 1.0)
    return signs / np.sqrt(d)


def _coherent_key(rho: float, w: str, b: float) -> str:
    return f"rho={rho:g} task={w} b={b:g}"


def plan(params) -> list[dict]:
    m, b, e = params.model, params.net.b, params.eval
    cells = [(m.rho, m.task)] + [(float(r), w) for r in params.grid.rho for w in params.grid.task]
    out = {}
    for r, w in cells:
        k = _coherent_key(r, w, b)
        out[k] = task("coherent", k, d=m.d, k=m.k, b=b, rho=float(r), w=w, task_seed=params.task.seed, samples=e.samples,
                      iters=e.bisection, seed=e.seed, level=e.level)
    for kk in params.grid.k:
        k = f"k={kk:g} b={b:g}"
        out[k] = task("sparsity", k, d=m.d, k=float(kk), b=b, iters=e.bisection)
    return list(out.values())


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
    w = task_direction(t["w"], d, t["task_seed"])
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

    bounds = mc_bounds(attack_errors, certified_errors, t["level"])
    att = critical_radius(bounds, level, hi=max(0.05, sound), iters=t["iters"])
    pure = {"lower": float(min(sound, att["upper"])), "upper": att["upper"], "level": level,
            "sound_from": "sqrt(lambda_min) * exact orthogonal radius", "attack_samples": int(t["samples"])}
    return {"pure": pure, "dense": dense, "clean_error": ce, "level": level, "lambda_min": lam_min,
            "lambda_max": lam_max, "dense_dual_norm": vnorm}


def judge(params, results: dict) -> Outcome:
    m, b, adv, g = params.model, params.net.b, params.judge.advantage, params.grid
    coh = {(float(r), w): results[_coherent_key(r, w, b)] for r in (m.rho, *g.rho) for w in (m.task, *g.task)
           if _coherent_key(r, w, b) in results}
    ratios = {key: radius_ratio(r["pure"], r["dense"], method="bound") for key, r in coh.items()}
    head = ratios[(m.rho, m.task)]
    conds = [condition(f"critical radius ratio pure/dense at rho={m.rho:g}, task '{m.task}', d={m.d}, k={m.k:g}, "
                       f"b={b:g}", head, "above", adv)]
    sp = {k: results[f"k={k:g} b={b:g}"] for k in g.k}
    sp_ratio = {k: radius_ratio(r["pure"], r["dense"], method="exact") for k, r in sp.items()}
    grid_cells = [(float(rho), w) for rho in g.rho for w in g.task]
    verdict = {c: condition("ratio", ratios[c], "above", adv).verdict for c in grid_cells}
    sp_cells = [(k, condition("ratio", sp_ratio[k], "above", adv).verdict) for k in g.k]
    reg = region([{"rho": rho, "task": w} for rho, w in grid_cells]
                 + [{"rho": 0.0, "task": f"k/d={k / m.d:g}"} for k, _ in sp_cells],
                 [verdict[c] for c in grid_cells] + [v for _, v in sp_cells], ("rho", "task"),
                 f"critical radius ratio pure/dense > {adv:g} (rows 'k/d=...': orthogonal dictionary, uniform task)")
    maps = [region_map("q1_coherence", f"Q1: ratio pure/dense > {adv:g} over coherence x task (d={m.d}, k={m.k:g})",
                       ("model.rho", "model.task"),
                       [{"params": {"model.rho": rho, "model.task": w}, "verdict": verdict[(rho, w)],
                         "numbers": {"ratio": ratios[(rho, w)].value, "ratio_lower": ratios[(rho, w)].lower}}
                        for rho, w in grid_cells], {"model.rho": m.rho, "model.task": m.task}),
            region_map("q1_sparsity", f"Q1: ratio pure/dense > {adv:g} over k (orthogonal, uniform task, d={m.d})",
                       ("model.k",), [{"params": {"model.k": float(k)}, "verdict": v,
                                       "numbers": {"ratio": sp_ratio[k].value}} for k, v in sp_cells],
                       {"model.k": m.k})]
    table = [{"rho": rho, "task": w, "ratio": ratios[(rho, w)].value, "ratio_lower": ratios[(rho, w)].lower,
              "ratio_upper": ratios[(rho, w)].upper, "eps_c_pure": [coh[(rho, w)]["pure"]["lower"], coh[(rho, w)]["pure"]["upper"]],
              "eps_c_dense": [coh[(rho, w)]["dense"]["lower"], coh[(rho, w)]["dense"]["upper"]],
              "dense_dual_norm": coh[(rho, w)]["dense_dual_norm"], "lambda_min": coh[(rho, w)]["lambda_min"]}
             for rho, w in grid_cells]
    sp_table = [{"k": k, "k_over_d": k / m.d, "ratio": sp_ratio[k].value, "ratio_lower": sp_ratio[k].lower,
                 "ratio_upper": sp_ratio[k].upper, "eps_c_pure": [sp[k]["pure"]["lower"], sp[k]["pure"]["upper"]],
                 "eps_c_dense": [sp[k]["dense"]["lower"], sp[k]["dense"]["upper"]], "clean_error": sp[k]["clean_error"],
                 "clean_error_pure": sp[k]["clean_error_pure"]} for k in g.k]
    figs = [{"id": "q1_coherence", "kind": "curves",
             "title": f"Q1: radius ratio pure/dense vs dictionary coherence (d={m.d}, k={m.k:g})",
             "xlabel": "pairwise feature cosine rho", "ylabel": "eps_c(pure) / eps_c(dense)", "yscale": "log",
             "series": [{"label": f"task '{w}'", "points": points_of(list(g.rho), [ratios[(float(r), w)] for r in g.rho])}
                        for w in g.task],
             "hlines": [{"y": adv, "label": f"advantage threshold {adv:g}"}, {"y": 1.0, "label": "no advantage"}]},
            {"id": "q1_sparsity", "kind": "curves", "title": f"Q1: radius ratio pure/dense vs k/d (orthogonal, d={m.d})",
             "xlabel": "k / d", "ylabel": "eps_c(pure) / eps_c(dense)", "xscale": "log", "yscale": "log",
             "series": [{"label": "exact", "points": points_of([k / m.d for k in g.k], [sp_ratio[k] for k in g.k])},
                        {"label": "(1-b) sqrt(d/k)",
                         "points": [{"x": k / m.d, "value": (1 - b) * np.sqrt(m.d / k)} for k in g.k]}],
             "hlines": [{"y": adv, "label": f"advantage threshold {adv:g}"}]}]
    held_k = [k for k, v in sp_cells if v == "pass"]
    reg["largest_k_over_d_where_it_holds"] = max(held_k) / m.d if held_k else None
    reg["coherence"] = {w: {f"{rho:g}": verdict_text(verdict[(rho, w)]) for rho, ww in grid_cells if ww == w}
                        for w in g.task}
    keys = [key_number(f"headline ratio (rho={m.rho:g}, {m.task})", head)]
    other = "uniform" if m.task == "random_signs" else "random_signs"
    if (m.rho, other) in ratios:
        keys.append(key_number(f"ratio at rho={m.rho:g}, {other} task", ratios[(m.rho, other)]))
    keys.append(key_number(f"ratio at k = {g.k[-1]:g} (d = {m.d})", sp_ratio[g.k[-1]]))
    return Outcome(ID, conds, evidence={"question": QUESTION, "headline": {"rho": m.rho, "task": m.task, "d": m.d},
                                        "b": b, "k": m.k, "headline_result": coh[(m.rho, m.task)],
                                        "coherence_table": table, "sparsity_table": sp_table, "region": reg,
                                        "seeds": {"task": params.task.seed, "samples": params.eval.seed}},
                   key_numbers=keys, figures=figs, regions=maps,
                   method="exact + sound/attack interval (Monte Carlo attack side)")


def check(params) -> Outcome:
    from . import check as run

    return run(ID, params)
