"""Q3: does adversarial training still purify in a three-layer net, and which layers get purified?

Net: :class:`numerics.architectures.ThreeLayer`, ``f = a . s(W2 s(W1 x; b1); b2) + c`` with
soft thresholds (one trainable threshold per layer, from 0), m1 = 32, m2 = 16, trained in the
shared setting of :mod:`theorems.explore.trained` (clean vs adversarial at eps = 0.4, same
init and data per seed) by :func:`numerics.module_training.train_module`.

Purity per layer: layer 1 on the rows of W1, weighted by how much each node reaches the
output (``mean|h1_j| sum_k |a_k| |W2_kj|``); layer 2 on the composite rows ``W2 W1`` (the
feature combination each layer-2 node reads through layer 1), weighted by ``|a_k| mean|h2_k|``.

Main check (a priori, P3's statement moved to depth 3): the layer-1 purity gap adversarial
minus clean, paired over seeds, exceeds 0.2. Layer-2 purity and the two-layer net's gap (same
setting) are reported beside it. Control: eps = 0 (the adversarial run is the clean one).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from numerics.architectures import ThreeLayer
from numerics.module_training import train_module
from numerics.training import derive_seeds

from ..verdict import Outcome, condition, key_number
from . import trained as T
from .common import LEVEL, PURITY_GAP, paired_gap, points_of, task

ID = "Q3"
QUESTION = "Does adversarial training purify the first layer of a three-layer net, and is the second layer purified too?"
M1, M2 = 32, 16


@dataclass(frozen=True)
class Sizes:
    seeds: int
    steps: int


SIZES = {"smoke": Sizes(4, 300), "quick": Sizes(6, 600), "thorough": Sizes(10, 1500)}


def plan(sz: Sizes, variant: str) -> list[dict]:
    eps = {"main": T.EPS, "eps_zero": 0.0}.get(variant)
    if eps is None:
        raise ValueError(f"{ID} has no variant {variant!r}")
    out = []
    for s in range(sz.seeds):
        for e in sorted({0.0, eps}):
            out.append(task("train3", f"three eps={e:g} seed={s}", eps=e, steps=sz.steps, seed=s, m1=M1, m2=M2))
            if variant == "main":
                out.append(T.train_task(f"two eps={e:g} seed={s}", eps=e, steps=sz.steps, seed=s))
    return out


def compute(t: dict) -> dict:
    m, w = T.model(), T.wstar()
    net = ThreeLayer.random_init(m.d, t["m1"], t["m2"], seed=derive_seeds(t["seed"])["init"], scale=T.INIT_SCALE)
    res = train_module(net, m, w, T.config(t["eps"], t["steps"], t["seed"]))
    net.requires_grad_(False)
    x, _ = T.eval_inputs()
    xt = torch.as_tensor(x, dtype=torch.float32)
    return {"layer1": T.purity(net.first_layer(), net.node_weights(xt), m.M),
            "layer2": T.purity(net.second_layer_composite(), net.node_weights2(xt), m.M),
            **T.pgd_robust_error(net, m, w, T.EPS, n=1000, seed=T.EVAL_SEED + 1),
            "thresholds": [float(net.b1.clamp_min(0)), float(net.b2.clamp_min(0))]}


def judge(variant: str, sz: Sizes, results: dict) -> Outcome:
    eps = T.EPS if variant == "main" else 0.0
    S = range(sz.seeds)
    get = lambda layer, e: [results[f"three eps={e:g} seed={s}"][layer]["mean_max_loading"] for s in S]  # noqa: E731
    g1 = paired_gap(get("layer1", eps), get("layer1", 0.0))
    g2 = paired_gap(get("layer2", eps), get("layer2", 0.0))
    conds = [condition("layer-1 purity gap adversarial - clean (three-layer net)", g1, "above", PURITY_GAP)]
    ev = {"question": QUESTION, "variant": variant, "m1": M1, "m2": M2, "layer2_gap": g2.to_dict(),
          "runs": [{"eps": e, "seed": s, **{k: results[f"three eps={e:g} seed={s}"][k] for k in ("layer1", "layer2", "thresholds")},
                    "robust_error_pgd": results[f"three eps={e:g} seed={s}"]["robust_error"]["value"],
                    "clean_error": results[f"three eps={e:g} seed={s}"]["clean_error"]["value"]}
                   for e in sorted({0.0, eps}) for s in S],
          "training_setting": {"d": T.D, "k": T.K, "sigma": T.SIGMA, "eps": T.EPS, "steps": sz.steps, "seeds": sz.seeds}}
    keys = [key_number("layer-1 purity gap", g1), key_number("layer-2 (composite) purity gap", g2)]
    figs = []
    if variant == "main":
        two = [results[f"two eps={e:g} seed={s}"]["purity"]["mean_max_loading"] for e in (T.EPS, 0.0) for s in S]
        g_two = paired_gap(two[:sz.seeds], two[sz.seeds:])
        ev["two_layer_gap"] = g_two.to_dict()
        keys.append(key_number("two-layer purity gap (same setting)", g_two))
        re_adv = [results[f"three eps={T.EPS:g} seed={s}"]["robust_error"]["value"] for s in S]
        re_cln = [results[f"three eps=0 seed={s}"]["robust_error"]["value"] for s in S]
        ev["robust_error_gap_clean_minus_adversarial"] = paired_gap(re_cln, re_adv).to_dict()
        from numerics.estimates import mean

        figs.append({"id": "q3_layer_purity", "kind": "curves", "title": "Q3: purity per layer, clean vs adversarial training",
                     "xlabel": "layer", "ylabel": "activity-weighted mean max loading", "intervals": "errorbars",
                     "series": [{"label": lab, "points": points_of(["layer 1", "layer 2 (W2 W1)"],
                                                                   [mean(get("layer1", e), LEVEL), mean(get("layer2", e), LEVEL)])}
                                for lab, e in (("clean", 0.0), (f"adversarial eps={T.EPS:g}", T.EPS))]})
        ev["region"] = {"statement": "layer-1 purity gap > 0.2", "holds": condition("g", g1, "above", PURITY_GAP).verdict,
                        "layer2": condition("g", g2, "above", PURITY_GAP).verdict,
                        "summary": f"layer 1: {condition('g', g1, 'above', PURITY_GAP).verdict}; "
                                   f"layer 2 (composite): {condition('g', g2, 'above', PURITY_GAP).verdict}"}
    return Outcome(ID, conds, evidence=ev, key_numbers=keys, figures=figs, method="training + paired t-interval over seeds")
