"""Q2: does the conclusion survive other activations: ReLU with intercept, and a smooth soft threshold?

Two parts, both against the soft threshold of the paper as reference:

- *structural* (P2's setting: sigma = 0, unit magnitudes, uniform w*, d = 64, k = 4, b = 0.3,
  l2): the critical-radius ratio pure / dense. ReLU with intercept: the pure net needs two
  nodes per feature, ``ReLU(<M_j, x> - b)`` and ``ReLU(-<M_j, x> - b)`` with heads ``+-w*_j``;
  that is the soft-threshold pure net exactly (checked on samples), so its radius is the
  exact one. Smooth: ``g_beta`` of :mod:`numerics.architectures` with sharpness ``beta b`` on a
  grid; radius interval from a sound local-slope certificate (below) and the better of the
  soft threshold's exact attack and PGD (above), Monte Carlo with Clopper-Pearson.
- *training* (the shared setting of :mod:`theorems.explore.trained`): adversarial minus clean
  training purity gap, paired over seeds, for the soft threshold (shared trainable threshold,
  from 0), ReLU (trainable per-node intercept, from 0) and the smooth threshold at the
  headline sharpness (trainable per-node thresholds, from 0).

Main check (a priori): with ReLU-with-intercept and with the smooth threshold at
``beta b = 4`` (the corner smoothed over a quarter of the dead zone; leak slope
``2 sigma(-4) = 0.036``) both (i) the pure net keeps a > 2x radius advantage and (ii)
adversarial training purifies (gap > 0.2), as it does for the soft threshold (also checked).
Controls: b = 0 (structural ratios 1) and eps = 0 (the "adversarial" run is the clean one).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from numerics import TwoLayerNet, linear_net, pure_net
from numerics.architectures import SmoothTwoLayer, smooth_pure_l2_bounds, smooth_threshold
from numerics.attacks.pgd import pgd_min_margin
from numerics.attacks.pure_l2 import pure_l2_min_margin
from numerics.exact_law import tie_sign
from numerics.module_training import train_module
from numerics.risk import clean_error
from numerics.training import derive_seeds

from ..verdict import Outcome, condition, key_number
from . import trained as T
from .common import (ADVANTAGE, B, K, LEVEL, PURITY_GAP, critical_radius, exact_model, exact_radius, level_of,
                     mc_bounds, paired_gap, points_of, radius_ratio, region, task, uniform_w)

ID = "Q2"
QUESTION = ("Do purified nets stay robust, and does adversarial training still purify, with ReLU-with-intercept "
            "and smooth soft-threshold activations?")
HEADLINE_BETA_B = 4.0
STRUCT_D = 64
SAMPLE_SEED = 21


@dataclass(frozen=True)
class Sizes:
    beta_bs: tuple[float, ...]
    samples: int
    pgd_steps: int
    pgd_restarts: int
    iters: int
    seeds: int
    steps: int


SIZES = {
    "smoke": Sizes((4.0,), 600, 0, 1, 7, 4, 300),
    "quick": Sizes((0.5, 1.0, 2.0, 4.0, 8.0, 16.0), 2000, 0, 1, 10, 6, 600),
    "thorough": Sizes((0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 16.0, 32.0), 6000, 50, 6, 12, 10, 1500),
}
TRAINED = ("soft", "relu", "smooth")


def plan(sz: Sizes, variant: str) -> list[dict]:
    if variant == "threshold_zero":
        return [task("dense", "dense", d=STRUCT_D, k=K, iters=sz.iters),
                task("relu_pair", "relu_pair b=0", d=STRUCT_D, k=K, b=0.0, iters=sz.iters, seed=SAMPLE_SEED),
                _smooth(sz, HEADLINE_BETA_B, 0.0)]
    eps = {"main": T.EPS, "eps_zero": 0.0}.get(variant)
    if eps is None:
        raise ValueError(f"{ID} has no variant {variant!r}")
    out = []
    if variant == "main":
        out += [task("dense", "dense", d=STRUCT_D, k=K, iters=sz.iters),
                task("soft", "soft", d=STRUCT_D, k=K, b=B, iters=sz.iters),
                task("relu_pair", f"relu_pair b={B:g}", d=STRUCT_D, k=K, b=B, iters=sz.iters, seed=SAMPLE_SEED)]
        out += [_smooth(sz, bb, B) for bb in sz.beta_bs]
    for s in range(sz.seeds):
        for e in sorted({0.0, eps}):
            out.append(T.train_task(f"train soft eps={e:g} seed={s}", eps=e, steps=sz.steps, seed=s))
            out.append(T.train_task(f"train relu eps={e:g} seed={s}", eps=e, steps=sz.steps, seed=s, activation="relu",
                                    threshold="per_node"))
            out.append(task("train_smooth", f"train smooth eps={e:g} seed={s}", eps=e, steps=sz.steps, seed=s,
                            beta_b=HEADLINE_BETA_B))
    return out


def _smooth(sz: Sizes, beta_b: float, b: float) -> dict:
    return task("smooth", f"smooth betab={beta_b:g} b={b:g}", d=STRUCT_D, k=K, b=b, beta_b=float(beta_b),
                samples=sz.samples, pgd_steps=sz.pgd_steps, pgd_restarts=sz.pgd_restarts, iters=sz.iters, seed=SAMPLE_SEED)


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
    b, beta = t["b"], (t["beta_b"] / t["b"] if t["b"] > 0 else t["beta_b"] / B)
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

    rad = critical_radius(mc_bounds(attack_errors, certified_errors, LEVEL), level, hi=max(0.05, b), iters=t["iters"])
    return {"radius": rad, "beta": beta, "leak_slope": float(2.0 / (1.0 + np.exp(beta * b)))}


def _train_smooth(t) -> dict:
    m, w = T.model(), T.wstar()
    beta = t["beta_b"] / B
    mod = SmoothTwoLayer.random_init(m.d, T.WIDTH, seed=derive_seeds(t["seed"])["init"], beta=beta,
                                     scale=T.INIT_SCALE)
    res = train_module(mod, m, w, T.config(t["eps"], t["steps"], t["seed"]))
    x, _ = T.eval_inputs()
    mod.requires_grad_(False)
    return {"purity": T.module_purity(mod, m, x), **T.pgd_robust_error(mod, m, w, T.EPS, n=1000, seed=T.EVAL_SEED + 1),
            "threshold_mean": float(mod.b1.mean()), "beta": beta}


def _gap(sz: Sizes, results: dict, act: str, eps: float):
    adv = [results[f"train {act} eps={eps:g} seed={s}"]["purity"]["mean_max_loading"] for s in range(sz.seeds)]
    cln = [results[f"train {act} eps=0 seed={s}"]["purity"]["mean_max_loading"] for s in range(sz.seeds)]
    return paired_gap(adv, cln, adversarial=adv, clean=cln)


def judge(variant: str, sz: Sizes, results: dict) -> Outcome:
    if variant == "threshold_zero":
        dense = results["dense"]["radius"]
        r_relu = radius_ratio(results["relu_pair b=0"]["radius"], dense, method="exact")
        r_smooth = radius_ratio(results[f"smooth betab={HEADLINE_BETA_B:g} b=0"]["radius"], dense, method="bound")
        conds = [condition("radius ratio ReLU-pair/dense, b = 0", r_relu, "above", ADVANTAGE),
                 condition(f"radius ratio smooth/dense, b = 0", r_smooth, "above", ADVANTAGE)]
        return Outcome(ID, conds, evidence={"variant": variant}, key_numbers=[key_number("ReLU-pair ratio at b=0", r_relu)],
                       method="exact + Monte Carlo interval")
    eps = T.EPS if variant == "main" else 0.0
    gaps = {a: _gap(sz, results, a, eps) for a in TRAINED}
    if variant == "eps_zero":
        conds = [condition(f"purity gap, {a}, eps = 0", gaps[a], "above", PURITY_GAP) for a in TRAINED]
        return Outcome(ID, conds, evidence={"variant": variant, "gaps": {a: g.to_dict() for a, g in gaps.items()}},
                       method="training + paired t-interval")
    dense = results["dense"]["radius"]
    r_soft = radius_ratio(results["soft"]["radius"], dense, method="exact")
    r_relu = radius_ratio(results[f"relu_pair b={B:g}"]["radius"], dense, method="exact")
    r_smooth = {bb: radius_ratio(results[f"smooth betab={bb:g} b={B:g}"]["radius"], dense, method="bound") for bb in sz.beta_bs}
    head = r_smooth[HEADLINE_BETA_B]
    conds = [condition("radius ratio ReLU-pair/dense", r_relu, "above", ADVANTAGE),
             condition(f"radius ratio smooth(beta b={HEADLINE_BETA_B:g})/dense", head, "above", ADVANTAGE),
             condition("purity gap adversarial - clean training, soft threshold (reference)", gaps["soft"], "above", PURITY_GAP),
             condition("purity gap adversarial - clean training, ReLU with intercept", gaps["relu"], "above", PURITY_GAP),
             condition(f"purity gap adversarial - clean training, smooth (beta b={HEADLINE_BETA_B:g})", gaps["smooth"], "above", PURITY_GAP)]
    pts = [{"activation": "soft_threshold", "beta_b": "inf"}, {"activation": "relu_pair", "beta_b": "-"}] + \
          [{"activation": "smooth", "beta_b": bb} for bb in sz.beta_bs]
    verd = [condition("r", r, "above", ADVANTAGE).verdict for r in [r_soft, r_relu, *r_smooth.values()]]
    reg = region(pts, verd, ("activation", "beta_b"), f"structural: radius ratio pure/dense > {ADVANTAGE:g}")
    reg["training"] = {a: condition("g", g, "above", PURITY_GAP).verdict for a, g in gaps.items()}
    training = [{"activation": a, "eps": e, "seed": s,
                 "purity": results[f"train {a} eps={e:g} seed={s}"]["purity"]["mean_max_loading"],
                 "threshold_mean": results[f"train {a} eps={e:g} seed={s}"]["threshold_mean"],
                 "robust_error_pgd": results[f"train {a} eps={e:g} seed={s}"]["robust_error"]["value"],
                 "clean_error": results[f"train {a} eps={e:g} seed={s}"]["clean_error"]["value"]}
                for a in TRAINED for e in (0.0, eps) for s in range(sz.seeds)]
    figs = [{"id": "q2_smooth_ratio", "kind": "curves", "title": "Q2: radius ratio pure/dense of the smooth threshold vs sharpness",
             "xlabel": "beta * b (sharpness)", "ylabel": "eps_c(pure) / eps_c(dense)", "xscale": "log",
             "series": [{"label": "smooth threshold (sound / attack interval)", "points": points_of(list(sz.beta_bs), list(r_smooth.values()))},
                        {"label": "soft threshold = ReLU pair (exact)", "points": points_of(list(sz.beta_bs), [r_soft] * len(sz.beta_bs))}],
             "hlines": [{"y": ADVANTAGE, "label": "advantage threshold 2"}]},
            {"id": "q2_training_purity", "kind": "curves", "title": "Q2: purity after clean and adversarial training",
             "xlabel": "activation", "ylabel": "activity-weighted mean max loading", "intervals": "errorbars",
             "series": [{"label": lab, "points": points_of(list(TRAINED), [
                 _mean([results[f"train {a} eps={e:g} seed={s}"]["purity"]["mean_max_loading"] for s in range(sz.seeds)]) for a in TRAINED])}
                 for lab, e in (("clean", 0.0), (f"adversarial eps={T.EPS:g}", eps))]}]
    keys = [key_number("ReLU-pair radius ratio", r_relu), key_number(f"smooth (beta b={HEADLINE_BETA_B:g}) radius ratio", head)] + \
           [key_number(f"purity gap {a}", g) for a, g in gaps.items()]
    return Outcome(ID, conds, evidence={"question": QUESTION, "variant": variant, "headline_beta_b": HEADLINE_BETA_B,
                                        "structural": {"d": STRUCT_D, "k": K, "b": B,
                                                       "relu_pair_max_deviation": results[f"relu_pair b={B:g}"]["max_deviation_from_soft_threshold"],
                                                       "smooth": [{"beta_b": bb, **r_smooth[bb].to_dict(),
                                                                   "leak_slope": results[f"smooth betab={bb:g} b={B:g}"]["leak_slope"]}
                                                                  for bb in sz.beta_bs]},
                                        "training": training, "gaps": {a: g.to_dict() for a, g in gaps.items()},
                                        "training_setting": {"d": T.D, "k": T.K, "sigma": T.SIGMA, "eps": T.EPS, "steps": sz.steps,
                                                             "seeds": sz.seeds}, "region": reg},
                   key_numbers=keys, figures=figs, method="exact + Monte Carlo interval + training (paired t over seeds)")


def _mean(values):
    from numerics.estimates import mean

    return mean(values, LEVEL)
