"""Q3: does adversarial training still purify in a three-layer net, and which layers get purified?

Net: :class:`numerics.architectures.ThreeLayer`, ``f = a . s(W2 s(W1 x; b1); b2) + c`` with
soft thresholds (one trainable threshold per layer, from ``train.b_init``), m1 = ``net.width``,
m2 = ``net.width2``, trained in the shared setting of :mod:`theorems.explore.trained` (clean vs
adversarial at ``train.eps``, same init and data per seed; all seeds of a radius as one batched
run, :func:`numerics.training.train_module_batch`).

Purity per layer: layer 1 on the rows of W1, weighted by how much each node reaches the
output (``mean|h1_j| sum_k |a_k| |W2_kj|``); layer 2 on the composite rows ``W2 W1`` (the
feature combination each layer-2 node reads through layer 1), weighted by ``|a_k| mean|h2_k|``;
(tau, k)-loadings for k = 1, 2, 3, k = ``purity.top_k`` judged.

Main check (a priori, P3's statement moved to depth 3): the layer-1 purity gap adversarial
minus clean, paired over seeds, exceeds ``judge.purity_gap``. Layer-2 purity and the two-layer
net's gap (same setting) are reported beside it. The three-layer nets' robust errors are PGD's
lower side only: numerics has no certificate or verifier for three-layer nets (requested).
Control: eps = 0 (the adversarial run is the clean one).
"""
from __future__ import annotations

from numerics.architectures import ThreeLayer
from numerics.estimates import mean

from ..verdict import Outcome, condition, key_number
from . import trained as T
from .common import paired_gap, points_of, region_map, task

ID = "Q3"
QUESTION = "Does adversarial training purify the first layer of a three-layer net, and is the second layer purified too?"


def plan(params) -> list[dict]:
    ev = T.evaluation(params)
    out = []
    for e in sorted({0.0, params.train.eps}):
        s = T.setting(params, eps=e)
        out.append(task("train3", f"three eps={e:g}", setting=s, evaluation=ev, m2=params.net.width2))
        out.append(T.train_task(f"two eps={e:g}", s, ev))
    return out


def compute(t: dict) -> dict:
    s, ev = t["setting"], t["evaluation"]
    m, w = T.model(s), T.task_direction(s["d"])
    runs = ThreeLayer.random_init(m.d, s["width"], t["m2"], seed=T.init_seeds(s), scale=s["init_scale"])
    out = []
    for seed, net in zip(s["seeds"], T.train_runs(runs, m, w, s)):
        out.append({"seed": seed, "layer1": T.module_purity(net, m, ev), "layer2": T.module_purity(net, m, ev, layer="second"),
                    **T.evaluate(net, m, w, ev, f"three-layer eps={s['eps']:g} seed {seed}"),
                    "thresholds": [float(net.b1.clamp_min(0)), float(net.b2.clamp_min(0))]})
    return {"runs": out}


def judge(params, results: dict) -> Outcome:
    j, eps, k, level = params.judge, params.train.eps, params.purity.top_k, params.eval.level
    three = {e: results[f"three eps={e:g}"]["runs"] for e in sorted({0.0, eps})}
    two = {e: results[f"two eps={e:g}"]["runs"] for e in sorted({0.0, eps})}
    get = lambda layer, e: [r[layer]["mean_top_k_loading"][str(k)] for r in three[e]]  # noqa: E731
    g1 = paired_gap(get("layer1", eps), get("layer1", 0.0), level)
    g2 = paired_gap(get("layer2", eps), get("layer2", 0.0), level)
    g_two = paired_gap([T.loading(r, k) for r in two[eps]], [T.loading(r, k) for r in two[0.0]], level)
    conds = [condition(f"layer-1 purity gap adversarial - clean (three-layer net, k={k})", g1, "above", j.purity_gap)]
    re_adv = [r["robust_error"]["value"] for r in three[eps]]
    re_cln = [r["robust_error"]["value"] for r in three[0.0]]
    ev = {"question": QUESTION, "m1": params.net.width, "m2": params.net.width2, "top_k": k,
          "layer2_gap": g2.to_dict(), "two_layer_gap": g_two.to_dict(),
          "robust_error_gap_clean_minus_adversarial_pgd_side": paired_gap(re_cln, re_adv, level).to_dict(),
          "runs": [{"eps": e, "seed": r["seed"], "layer1": r["layer1"], "layer2": r["layer2"],
                    "thresholds": r["thresholds"], "robust_error": r["robust_error"], "clean_error": r["clean_error"]}
                   for e in three for r in three[e]],
          "two_layer_runs": [{"eps": e, "seed": r["seed"], "purity": r["purity"], "robust_error": r["robust_error"]}
                             for e in two for r in two[e]]}
    keys = [key_number("layer-1 purity gap", g1), key_number("layer-2 (composite) purity gap", g2),
            key_number("two-layer purity gap (same setting)", g_two)]
    verdicts = {"layer 1": condition("g", g1, "above", j.purity_gap).verdict,
                "layer 2 (W2 W1)": condition("g", g2, "above", j.purity_gap).verdict,
                "two-layer net": condition("g", g_two, "above", j.purity_gap).verdict}
    ev["region"] = {"statement": f"purity gap > {j.purity_gap:g}", "summary": "; ".join(f"{a}: {v}" for a, v in verdicts.items())}
    rmap = region_map("q3_layers", f"Q3: purity gap > {j.purity_gap:g} per layer (eps={eps:g})", ("layer",),
                      [{"params": {"layer": a}, "verdict": v, "numbers": {"gap": g.value, "gap_lower": g.lower}}
                       for (a, v), g in zip(verdicts.items(), (g1, g2, g_two))], {"layer": "layer 1"})
    figs = [{"id": "q3_layer_purity", "kind": "curves", "title": "Q3: purity per layer, clean vs adversarial training",
             "xlabel": "layer", "ylabel": f"activity-weighted mean (tau, {k})-loading", "intervals": "errorbars",
             "series": [{"label": lab, "points": points_of(["layer 1", "layer 2 (W2 W1)"],
                                                           [mean(get("layer1", e), level), mean(get("layer2", e), level)])}
                        for lab, e in (("clean", 0.0), (f"adversarial eps={eps:g}", eps))]}]
    audit = [r["audit"] for e in two for r in two[e] if r["audit"]]
    return Outcome(ID, conds, evidence=ev, key_numbers=keys, figures=figs, regions=[rmap], robustness_audit=audit,
                   method="training + paired t-interval over seeds")


def check(params) -> Outcome:
    from . import check as run

    return run(ID, params)
