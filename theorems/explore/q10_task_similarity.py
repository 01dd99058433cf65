"""Q10: does a clean downstream head inherit robustness across task similarity, including tasks on ignored features?

Data: the shared model of :mod:`theorems.explore.trained` (d = 16, k = 2, sigma = 0.1, random
dictionary). Pre-training task ``w*`` uniform on the first ``SUPPORT = 12`` features (the other
4 are ignored by it). Frozen first layers, per seed:

- *supervised*: adversarial two-layer training on ``w*`` (the shared setting at ``PRE_EPS = 0.3``);
- *contrastive*: adversarial contrastive training (P4's headline: spectral loss, relative
  threshold b = 0.5, both terms attacked at eps = 0.35; :mod:`theorems.explore.q07_losses`'s
  config), which never sees a label;
- *random*: unit Gaussian rows, b = 0.3 (the control).

Why SUPPORT = 12 and PRE_EPS = 0.3 (not the shared eps = 0.4): a first run with half the
features (8) and eps = 0.4 had pre-training that did not purify at all (mean max loading
0.31-0.39, no tau-purified node; downstream gains within noise), which leaves nothing to
inherit; these two were changed, once, to a setting where pre-training purifies (probed on the
pre-training alone: support 12 at eps 0.3 gave loading 0.74-0.78, a prerequisite as in P5); the
downstream conditions were not changed. Pre-training purity and coverage are reported.

Downstream tasks ``w'`` (``numerics.downstream.downstream_task``, seeded): ``same`` (w*),
``correlated`` with cosine rho to w* on its support, and ``disjoint`` (supported on the features
w* ignores). Heads: clean logistic heads (``numerics.downstream.fit_head``), evaluated by PGD at
``EVAL_EPS = 0.3`` (the pre-training radius) on fresh samples: the error PGD finds, a lower
bound on the true robust error (as P5). Baseline: the dense net of the task, ``<M w', x>``,
robust error exact per sample (dual norm; numerics.risk, Monte Carlo over z, Bayes-optimal clean). Gain = dense robust error minus head
robust error, averaged over seeds (t-interval).

Main check (a priori; MODEL.md section 6 item 10): (i) the supervised layer's clean head on
the covered, correlated task (rho = 0.5) gains more than 0.1; (ii) the contrastive layer's
clean head on the disjoint task gains more than 0.1. The supervised layer on the disjoint task
(the theory's failure case) and the other tasks are the region. Control: the random layer in
place of both (no gain).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from numerics import linear_net
from numerics.contrastive import train_contrastive
from numerics.downstream import FrozenLayer, downstream_task, fit_head, layer_coverage, random_layer
from numerics.estimates import mean
from numerics.risk import robust_error
from numerics.training import train

from ..verdict import Outcome, condition, key_number
from . import trained as T
from .common import LEVEL, points_of, region, task
from .q07_losses import C_EPS, contrastive_config

ID = "Q10"
QUESTION = ("Does a clean head on a frozen adversarially pre-trained layer inherit robustness on similar tasks, on "
            "tasks over features the pre-training task ignores, and does contrastive pre-training cover those?")
SUPPORT = 12
PRE_EPS = 0.3
EVAL_EPS = 0.3
GAIN_MIN = 0.10
DENSE_SAMPLES = 50_000
TASK_SEED = 0
LAYERS = ("supervised", "contrastive", "random")


@dataclass(frozen=True)
class Sizes:
    seeds: int
    pre_steps: int
    c_steps: int
    head_steps: int
    eval_n: int
    tasks: tuple


SIZES = {
    "smoke": Sizes(4, 300, 300, 150, 600, ("rho=0.5", "disjoint")),
    "quick": Sizes(6, 600, 400, 300, 2000, ("same", "rho=0.9", "rho=0.5", "rho=0", "disjoint")),
    "thorough": Sizes(10, 1500, 1000, 600, 5000, ("same", "rho=0.9", "rho=0.5", "rho=0.2", "rho=0", "disjoint")),
}


def task_vector(name: str) -> np.ndarray:
    w = T.task_direction(T.D, SUPPORT)
    if name == "same":
        return downstream_task(w, "same")
    if name == "disjoint":
        return downstream_task(w, "disjoint", seed=TASK_SEED)
    return downstream_task(w, "correlated", rho=float(name.split("=")[1]), seed=TASK_SEED)


def plan(sz: Sizes, variant: str) -> list[dict]:
    if variant not in ("main", "random_layer"):
        raise ValueError(f"{ID} has no variant {variant!r}")
    tasks = tuple(sorted(set(sz.tasks) | {"rho=0.5", "disjoint"}))
    out = [task("seed", f"seed={s}", seed=s, pre_steps=sz.pre_steps, c_steps=sz.c_steps, head_steps=sz.head_steps,
                eval_n=sz.eval_n, tasks=list(tasks)) for s in range(sz.seeds)]
    out += [task("dense", f"dense {name}", name=name) for name in tasks]
    return out


def compute(t: dict) -> dict:
    m = T.model()
    if t["kind"] == "dense":
        wp = task_vector(t["name"])
        # exact per sample (dual norm), Monte Carlo over z (Gaussian w' has too many atoms for the exact law)
        est = robust_error(linear_net(m.M, wp), m, wp, EVAL_EPS, "l2", method="mc", samples=DENSE_SAMPLES,
                           seed=T.EVAL_SEED + 4)
        return {"robust_error": est.to_dict()}
    s = t["seed"]
    w = T.task_direction(T.D, SUPPORT)
    sup = train(m, w, None, T.config(PRE_EPS, t["pre_steps"], s)).net.to_net()
    crun = train_contrastive(m, contrastive_config("spectral", C_EPS, t["c_steps"]), [s], ("both",))
    cnet = crun.net(0, "both")
    layers = {"supervised": FrozenLayer.of(sup, "supervised"),
              "contrastive": FrozenLayer(cnet.W, cnet.b, cnet.activation, "contrastive"),
              "random": random_layer(T.D, T.WIDTH, 0.3, seed=s)}
    x, _ = T.eval_inputs()
    out = {"coverage": {ln: {k: v for k, v in layer_coverage(layers[ln], m.M, x, w).items() if k != "features_read"}
                        for ln in ("supervised", "contrastive")}}
    for lname, layer in layers.items():
        for name in t["tasks"]:
            wp = task_vector(name)
            head = fit_head(layer, m, wp, T.config(0.0, t["head_steps"], 1000 + s)).net
            out[f"{lname} {name}"] = T.pgd_robust_error(head, m, wp, EVAL_EPS, n=t["eval_n"], seed=T.EVAL_SEED + 3 + s)
    return out


def _gains(sz: Sizes, results: dict, layer: str, name: str):
    dense = results[f"dense {name}"]["robust_error"]["value"]
    head = [results[f"seed={s}"][f"{layer} {name}"]["robust_error"]["value"] for s in range(sz.seeds)]
    return mean(dense - np.asarray(head), LEVEL, dense=dense, heads=head)


def judge(variant: str, sz: Sizes, results: dict) -> Outcome:
    tasks = tuple(sorted(set(sz.tasks) | {"rho=0.5", "disjoint"}))
    gains = {(layer, name): _gains(sz, results, layer, name) for layer in LAYERS for name in tasks}
    covered, uncovered = ("supervised", "contrastive") if variant == "main" else ("random", "random")
    conds = [condition(f"robust error gain over the dense net, {covered} layer, task rho=0.5", gains[(covered, "rho=0.5")],
                       "above", GAIN_MIN),
             condition(f"robust error gain over the dense net, {uncovered} layer, disjoint task", gains[(uncovered, "disjoint")],
                       "above", GAIN_MIN)]
    pts = [{"layer": layer, "task": name} for layer in LAYERS for name in tasks]
    reg = region(pts, [condition("g", gains[(p["layer"], p["task"])], "above", GAIN_MIN).verdict for p in pts],
                 ("layer", "task"), f"clean head's PGD robust error at eps={EVAL_EPS:g} more than {GAIN_MIN:g} below the dense net's")
    order = [n for n in ("same", "rho=0.9", "rho=0.5", "rho=0.2", "rho=0", "disjoint") if n in tasks]
    figs = [{"id": "q10_gain_vs_task", "kind": "curves", "title": f"Q10: robustness gain of clean heads over the dense net (eps={EVAL_EPS:g})",
             "xlabel": "downstream task", "ylabel": "dense robust error - head robust error", "intervals": "errorbars",
             "series": [{"label": f"{layer} layer", "points": points_of(order, [gains[(layer, n)] for n in order])} for layer in LAYERS],
             "hlines": [{"y": GAIN_MIN, "label": "threshold 0.1"}, {"y": 0.0, "label": "no gain"}]}] if variant == "main" else []
    keys = [key_number(f"gain {layer}, {name}", gains[(layer, name)]) for layer, name in
            (("supervised", "rho=0.5"), ("supervised", "disjoint"), ("contrastive", "disjoint"), ("random", "disjoint"))]
    ev = {"question": QUESTION, "variant": variant, "support": SUPPORT, "eval_eps": EVAL_EPS,
          "gains": {f"{layer} {name}": g.to_dict() for (layer, name), g in gains.items()},
          "dense_robust_error": {n: results[f"dense {n}"]["robust_error"] for n in tasks},
          "tasks": {n: {"wprime": task_vector(n).tolist(),
                        "cosine_with_wstar": float(task_vector(n) @ T.task_direction(T.D, SUPPORT))} for n in tasks},
          "pretraining_coverage_of_wstar": [results[f"seed={s}"]["coverage"] for s in range(sz.seeds)],
          "region": reg, "settings": {"pre_eps": PRE_EPS, "seeds": sz.seeds, "pre_steps": sz.pre_steps, "contrastive_steps": sz.c_steps,
                                      "head_steps": sz.head_steps, "eval_samples": sz.eval_n}}
    return Outcome(ID, conds, evidence=ev, key_numbers=keys, figures=figs,
                   method="training + PGD Monte Carlo (lower bound on robust error) + exact dense baseline")
