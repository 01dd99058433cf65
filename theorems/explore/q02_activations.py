"""Q2: does the conclusion survive other activations: ReLU with intercept, and a smooth soft threshold?

Two parts (``judge.parts``), both against the soft threshold of the paper as reference:

- *structural* (P2's setting: sigma = 0, unit magnitudes, uniform w*, identity dictionary,
  d = ``structural.d``, k = ``structural.k``, b = ``net.b``, l2): the critical-radius ratio
  pure / dense. ReLU with intercept: the pure net needs two nodes per feature,
  ``ReLU(<M_j, x> - b)`` and ``ReLU(-<M_j, x> - b)`` with heads ``+-w*_j``; that is the
  soft-threshold pure net exactly (checked on samples), so its radius is the exact one. Smooth:
  ``g_beta`` of :mod:`numerics.architectures` with sharpness ``beta b = net.beta_b`` (and the
  reported sweep ``grid.beta_b``); radius interval from a sound local-slope certificate (below)
  and the better of the soft threshold's exact attack, a grid attack and PGD (above), Monte
  Carlo with Clopper-Pearson.
- *training* (the shared setting of :mod:`theorems.explore.trained`): adversarial minus clean
  training purity gap, paired over seeds, for the soft threshold (rule ``train.threshold``,
  from ``train.b_init``), ReLU (intercepts with rule ``net.relu_threshold``) and the smooth
  threshold at ``beta = net.beta_b / net.b`` (per-node thresholds), each a batched run per radius.

Main check (a priori): with ReLU-with-intercept and with the smooth threshold at ``beta b = 4``
(the corner smoothed over a quarter of the dead zone; leak slope ``2 sigma(-4) = 0.036``) both
(i) the pure net keeps a ratio above ``judge.advantage`` and (ii) adversarial training purifies
(gap above ``judge.purity_gap``), as it does for the soft threshold (also checked). Controls:
b = 0 (structural ratios 1) and eps = 0 (the "adversarial" run is the clean one).
"""
from __future__ import annotations

import numpy as np
import torch

from numerics import TwoLayerNet, linear_net, pure_net
from numerics.architectures import SmoothTwoLayer, smooth_pure_l2_bounds, smooth_threshold
from numerics.attacks.pgd import pgd_min_margin
from numerics.attacks.pure_l2 import pure_l2_min_margin
from numerics.errors import check_ordered
from numerics.estimates import mean
from numerics.exact_law import tie_sign
from numerics.risk import clean_error

from ..verdict import Outcome, condition, key_number
from . import trained as T
from .common import (critical_radius, exact_model, exact_radius, level_of, mc_bounds, paired_gap, points_of,
                     radius_ratio, region_map, task, uniform_w)

ID = "Q2"
QUESTION = ("Do purified nets stay robust, and does adversarial training still purify, with ReLU-with-intercept "
            "and smooth soft-threshold activations?")
TRAINED = ("soft", "relu", "smooth")


def _settings(params, eps: float) -> dict:
    """The three trained nets' settings at training radius ``eps``."""
    base = T.setting(params, eps=eps)
    return {"soft": base, "relu": {**base, "activation": "relu", "threshold": params.net.relu_threshold},
            "smooth": base}


def _beta_bs(params) -> list[float]:
    return sorted({float(params.net.beta_b), *map(float, params.grid.beta_b)})


def plan(params) -> list[dict]:
    st, b, parts = params.structural, params.net.b, params.judge.parts
    out = []
    if "structural" in parts:
        out += [task("dense", "dense", d=st.d, k=st.k, iters=st.bisection),
                task("soft", f"soft b={b:g}", d=st.d, k=st.k, b=b, iters=st.bisection),
                task("relu_pair", f"relu_pair b={b:g}", d=st.d, k=st.k, b=b, iters=st.bisection, seed=st.seed)]
        out += [task("smooth", f"smooth betab={bb:g} b={b:g}", d=st.d, k=st.k, b=b, beta_b=bb, samples=st.samples,
                     pgd_steps=st.pgd_steps, pgd_restarts=st.pgd_restarts, iters=st.bisection, seed=st.seed,
                     level=params.eval.level) for bb in _beta_bs(params)]
    if "training" in parts:
        ev = T.evaluation(params)
        for e in sorted({0.0, params.train.eps}):
            sets = _settings(params, e)
            out.append(T.train_task(f"train soft eps={e:g}", sets["soft"], ev))
            out.append(T.train_task(f"train relu eps={e:g}", sets["relu"], ev))
            out.append(task("train_smooth", f"train smooth eps={e:g}", setting=sets["smooth"], evaluation=ev,
                            beta=params.net.beta_b / b))
    return out


def _setting(d: int, k: float):
    model = exact_model(d, k)
    w = uniform_w(d)
    lin = linear_net(model.M, w)
    level = level_of(clean_error(lin, model, w, method="exact").value)
    return model, w, lin, level


def compute(t: dict) -> dict:
    kind = t["kind"]
    if kind == "train_smooth":
        return _train_smooth(t)
    model, w, lin, level = _setting(t["d"], t["k"])
    if kind == "dense":
        return {"radius": exact_radius(lin, model, w, level=level, hi=1.0 / np.sqrt(t["d"]), iters=t["iters"])}
    if kind == "soft":
        return {"radius": exact_radius(pure_net(model.M, w, t["b"]), model, w, level=level, hi=max(0.05, t["b"]),
                                       iters=t["iters"])}
    if kind == "relu_pair":
        return _relu_pair(t, model, w, level)
    return _smooth_radius(t, model, w, level)


def relu_pair_net(M: np.ndarray, w: np.ndarray, b: float) -> TwoLayerNet:
    """``sum_j w_j [ReLU(<M_j, x> - b) - ReLU(-<M_j, x> - b)]``: 2d ReLU nodes with intercept ``-b``."""
    return TwoLayerNet(W=np.vstack([M.T, -M.T]), a=np.concatenate([w, -w]), b=np.full(2 * M.shape[0], -b),
                       activation="relu", family="relu_pair", params={"b": b})


def _relu_pair(t, model, w, level) -> dict:
    b = t["b"]
    relu = relu_pair_net(model.M, w, b)
    soft = pure_net(model.M, w, b)
    x = model.sample(2000, t["seed"]).x
    dev = float(np.max(np.abs(relu(x) - soft(x))))
    # identical functions have identical robust errors: the soft threshold's exact radius
    rad = exact_radius(soft, model, w, level=level, hi=max(0.05, b), iters=t["iters"])
    return {"radius": rad, "max_deviation_from_soft_threshold": dev, "samples_checked": 2000}


def _smooth_radius(t, model, w, level) -> dict:
    # At b = 0 the smooth threshold is the identity whatever beta (softplus(u) - softplus(-u) = u).
    b, beta = t["b"], (t["beta_b"] / t["b"] if t["b"] > 0 else t["beta_b"])
    z = model.sample_z(t["samples"], np.random.default_rng(t["seed"]))
    y = tie_sign(z @ w, np.abs(z) @ np.abs(w))
    nz = y != 0
    coef = y[nz, None] * w[None, :]
    module = SmoothTwoLayer(torch.eye(t["d"], dtype=torch.float64), torch.as_tensor(w), torch.full((t["d"],), b,
                            dtype=torch.float64), beta)  # identity dictionary: x = z
    module.requires_grad_(False)

    def margins(u):
        return (coef * smooth_threshold(z[nz] + u, b, beta)).sum(axis=1)

    cache: dict = {}

    def bounds(eps):  # (sound lower, attack upper) margins, per labelled sample
        if eps not in cache:
            lo, hi = smooth_pure_l2_bounds(coef, z[nz], b, beta, eps)
            # the soft threshold's exact attack is feasible here too (and near-optimal for sharp g)
            hi = np.minimum(hi, margins(np.asarray(pure_l2_min_margin(coef, z[nz], b, eps).u, dtype=float)))
            if t["pgd_steps"] > 0:
                hi = np.minimum(hi, pgd_min_margin(module, z[nz], y[nz], eps, "l2", steps=t["pgd_steps"],
                                                   restarts=t["pgd_restarts"], seed=t["seed"]))
            # the slope certificate is sound: above an attack value beyond float noise is a bug (raises);
            # within float noise the attack value is the tighter truth
            check_ordered("smooth pure-net lower bound vs attacks", lo, hi,
                          scale=np.abs(coef).sum(axis=1) * (1.0 + np.abs(z[nz]).max()))
            cache[eps] = (np.minimum(lo, hi), hi)
        return cache[eps]

    def attack_errors(eps):
        err = np.ones(y.size, dtype=bool)
        err[nz] = bounds(eps)[1] <= 0
        return err

    def certified_errors(eps):
        err = np.ones(y.size, dtype=bool)
        err[nz] = bounds(eps)[0] <= 0
        return err

    rad = critical_radius(mc_bounds(attack_errors, certified_errors, t["level"]), level, hi=max(0.05, b),
                          iters=t["iters"])
    return {"radius": rad, "beta": beta, "leak_slope": float(2.0 / (1.0 + np.exp(beta * b)))}


def _train_smooth(t) -> dict:
    s, ev = t["setting"], t["evaluation"]
    m, w = T.model(s), T.task_direction(s["d"])
    runs = SmoothTwoLayer.random_init(m.d, s["width"], seed=T.init_seeds(s), beta=t["beta"], scale=s["init_scale"],
                                      b=s["b_init"])
    out = []
    for seed, mod in zip(s["seeds"], T.train_runs(runs, m, w, s)):
        out.append({"seed": seed, "purity": T.module_purity(mod, m, ev),
                    **T.evaluate(mod, m, w, ev, f"smooth eps={s['eps']:g} seed {seed}"),
                    "threshold_mean": float(mod.b1.mean()), "beta": t["beta"]})
    return {"runs": out}


def _runs(results: dict, act: str, eps: float) -> list[dict]:
    return results[f"train {act} eps={eps:g}"]["runs"]


def _gap(params, results: dict, act: str):
    k = params.purity.top_k
    adv = [T.loading(r, k) for r in _runs(results, act, params.train.eps)]
    cln = [T.loading(r, k) for r in _runs(results, act, 0.0)]
    return paired_gap(adv, cln, params.eval.level, adversarial=adv, clean=cln, top_k=k)


def judge(params, results: dict) -> Outcome:
    j, b, parts, level = params.judge, params.net.b, params.judge.parts, params.eval.level
    conds, keys, figs, maps, audit = [], [], [], [], []
    ev: dict = {"question": QUESTION, "judged_parts": list(parts), "headline_beta_b": params.net.beta_b}
    if "structural" in parts:
        dense = results["dense"]["radius"]
        r_soft = radius_ratio(results[f"soft b={b:g}"]["radius"], dense, method="exact")
        r_relu = radius_ratio(results[f"relu_pair b={b:g}"]["radius"], dense, method="exact")
        r_smooth = {bb: radius_ratio(results[f"smooth betab={bb:g} b={b:g}"]["radius"], dense, method="bound")
                    for bb in _beta_bs(params)}
        head = r_smooth[float(params.net.beta_b)]
        conds += [condition(f"radius ratio ReLU-pair/dense (b={b:g})", r_relu, "above", j.advantage),
                  condition(f"radius ratio smooth(beta b={params.net.beta_b:g})/dense (b={b:g})", head, "above",
                            j.advantage)]
        keys += [key_number("ReLU-pair radius ratio", r_relu),
                 key_number(f"smooth (beta b={params.net.beta_b:g}) radius ratio", head)]
        grid = [float(x) for x in params.grid.beta_b]
        maps.append(region_map("q2_smooth", f"Q2: smooth threshold's radius ratio pure/dense > {j.advantage:g} vs "
                                            f"sharpness (b={b:g})", ("net.beta_b",),
                               [{"params": {"net.beta_b": bb}, "verdict": condition("r", r_smooth[bb], "above",
                                                                                     j.advantage).verdict,
                                 "numbers": {"ratio": r_smooth[bb].value, "ratio_lower": r_smooth[bb].lower}}
                                for bb in grid], {"net.beta_b": float(params.net.beta_b)}))
        ev["structural"] = {"d": params.structural.d, "k": params.structural.k, "b": b, "soft_ratio": r_soft.to_dict(),
                            "relu_pair_max_deviation": results[f"relu_pair b={b:g}"]["max_deviation_from_soft_threshold"],
                            "smooth": [{"beta_b": bb, **r_smooth[bb].to_dict(),
                                        "leak_slope": results[f"smooth betab={bb:g} b={b:g}"]["leak_slope"]}
                                       for bb in _beta_bs(params)]}
        figs.append({"id": "q2_smooth_ratio", "kind": "curves",
                     "title": "Q2: radius ratio pure/dense of the smooth threshold vs sharpness",
                     "xlabel": "beta * b (sharpness)", "ylabel": "eps_c(pure) / eps_c(dense)", "xscale": "log",
                     "series": [{"label": "smooth threshold (sound / attack interval)",
                                 "points": points_of(_beta_bs(params), list(r_smooth.values()))},
                                {"label": "soft threshold = ReLU pair (exact)",
                                 "points": points_of(_beta_bs(params), [r_soft] * len(r_smooth))}],
                     "hlines": [{"y": j.advantage, "label": f"advantage threshold {j.advantage:g}"}]})
    if "training" in parts:
        eps, k = params.train.eps, params.purity.top_k
        gaps = {a: _gap(params, results, a) for a in TRAINED}
        names = {"soft": "soft threshold (reference)", "relu": "ReLU with intercept",
                 "smooth": f"smooth (beta b={params.net.beta_b:g})"}
        conds += [condition(f"purity gap adversarial - clean training (k={k}), {names[a]}", gaps[a], "above",
                            j.purity_gap) for a in TRAINED]
        keys += [key_number(f"purity gap {a}", g) for a, g in gaps.items()]
        maps.append(region_map("q2_training", f"Q2: purity gap > {j.purity_gap:g} per activation (eps={eps:g})",
                               ("net.activation",),
                               [{"params": {"net.activation": a}, "verdict": condition("g", g, "above",
                                                                                        j.purity_gap).verdict,
                                 "numbers": {"gap": g.value, "gap_lower": g.lower}} for a, g in gaps.items()],
                               {"net.activation": "soft"}))
        ev["training"] = [{"activation": a, "eps": e, **_row(r)} for a in TRAINED for e in sorted({0.0, eps})
                          for r in _runs(results, a, e)]
        ev["gaps"] = {a: g.to_dict() for a, g in gaps.items()}
        audit = [r["audit"] for a in TRAINED for e in sorted({0.0, eps}) for r in _runs(results, a, e) if r["audit"]]
        figs.append({"id": "q2_training_purity", "kind": "curves", "title": "Q2: purity after clean and adversarial training",
                     "xlabel": "activation", "ylabel": f"activity-weighted mean (tau, {k})-loading",
                     "intervals": "errorbars",
                     "series": [{"label": lab, "points": points_of(list(TRAINED), [
                         mean([T.loading(r, k) for r in _runs(results, a, e)], level) for a in TRAINED])}
                         for lab, e in (("clean", 0.0), (f"adversarial eps={eps:g}", eps))]})
    ev["region"] = {"summary": " | ".join(m["title"] + ": " + (m["holds_in"] or "") for m in maps)}
    return Outcome(ID, conds, evidence=ev, key_numbers=keys, figures=figs, regions=maps, robustness_audit=audit,
                   method="exact + Monte Carlo interval + training (paired t over seeds)")


def _row(r: dict) -> dict:
    """One trained net in the evidence: purity (k = 1, 2, 3), thresholds, clean and robust error with their method."""
    return {"seed": r["seed"], "purity": r["purity"], "threshold_mean": r["threshold_mean"],
            "robust_error": r["robust_error"], "clean_error": r["clean_error"]}


def check(params) -> Outcome:
    from . import check as run

    return run(ID, params)
