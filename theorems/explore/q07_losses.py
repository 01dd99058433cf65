"""Q7: does adversarial training purify under other losses: hinge and squared (supervised), InfoNCE (contrastive)?

Supervised: the shared two-layer setting of :mod:`theorems.explore.trained` with the margin
loss replaced (``numerics.training.margin_loss``: logistic, hinge ``max(0, 1 - u)``, squared
``(1 - u)^2``); purity gap adversarial minus clean, paired over seeds.

Contrastive: :func:`numerics.contrastive.train_contrastive` on the same data model in P4's
headline setting (section ``contrastive``: soft threshold relative to each node's norm, noise
views, in-batch negatives, PGD on the anchors with both terms attacked), the spectral loss
without normalisation (P4's) and InfoNCE (decoupled, temperature ``contrastive.temperature``) on
l2-normalised representations (it is unbounded below without). Purity gap: attacked ("both")
minus clean ("none") training, same seed = same init and data. At ``contrastive.eps = 0`` the
attacked run IS the clean run (an attack of radius 0 moves nothing), so it is not trained twice.

Main check (a priori): the purity gap exceeds ``judge.purity_gap`` for the judged losses
(``judge.supervised``: hinge, squared; ``judge.contrastive``: InfoNCE). Logistic and spectral
are the references (reported). Control: eps = 0 for both trainings.
"""
from __future__ import annotations

import json
from functools import lru_cache

from numerics.contrastive import ContrastiveConfig, train_contrastive

from ..verdict import Outcome, condition, key_number
from . import trained as T
from .common import canonical, paired_gap, points_of, region_map, task

ID = "Q7"
QUESTION = "Does adversarial training purify with hinge and squared losses, and with InfoNCE instead of the spectral loss?"
SUPERVISED = ("logistic", "hinge", "squared")
CONTRASTIVE = ("spectral", "infonce")


def contrastive_setting(params, seeds: list[int]) -> dict:
    """The contrastive training setting of ``params`` (section ``contrastive``; data from ``model``)."""
    c, m = params.contrastive, params.model
    return {"d": m.d, "k": m.k, "sigma": m.sigma, "dictionary": m.dictionary, "dictionary_seed": m.dictionary_seed,
            "eps": c.eps, "optimiser": c.optimiser, "lr": c.lr, "steps": c.steps, "batch": c.batch, "width": c.width,
            "init_scale": c.init_scale, "threshold": c.threshold, "b": c.b, "pgd_steps": c.pgd_steps,
            "augmentation": c.augmentation, "temperature": c.temperature, "seeds": list(seeds)}


def contrastive_config(s: dict, loss: str) -> ContrastiveConfig:
    return ContrastiveConfig(loss=loss, normalisation="none" if loss == "spectral" else "l2",
                             temperature=s["temperature"], augmentation=s["augmentation"],
                             activation="soft_threshold", threshold=s["threshold"], b=s["b"], width=s["width"],
                             init_scale=s["init_scale"], steps=s["steps"], batch=s["batch"], lr=s["lr"],
                             optimiser=s["optimiser"], eps=s["eps"], norm="l2", pgd_steps=s["pgd_steps"],
                             log_every=max(1, s["steps"] // 5))


@lru_cache(maxsize=16)
def _contrastive_run(setting_json: str, loss: str, variant: str):
    s = json.loads(setting_json)
    return train_contrastive(T.model(s), contrastive_config(s, loss), s["seeds"], (variant,))


def contrastive_run(s: dict, loss: str, variant: str):
    """Contrastive training of every seed of ``s`` for one variant, as one batched run (cached in this process:
    Q10 freezes the layers Q7 measures)."""
    return _contrastive_run(canonical(s), loss, variant)


def contrastive_task(key: str, s: dict, loss: str, variant: str, ev: dict) -> dict:
    """Contrastive training of every seed in ``s`` for one variant ("both" attacked, "none" clean)."""
    if variant == "none" or s["eps"] == 0:  # no attack: the radius plays no role
        s, variant = {**s, "eps": 0.0}, "none"
    return task("contrastive", key, setting=s, loss=loss, variant=variant, evaluation=ev)


def plan(params) -> list[dict]:
    ev = T.evaluation(params)
    out = [T.train_task(f"{loss} eps={e:g}", T.setting(params, eps=e, loss=loss), ev)
           for loss in SUPERVISED for e in sorted({0.0, params.train.eps})]
    seeds = list(range(params.seeds.first, params.seeds.first + params.contrastive.seeds))
    cs = contrastive_setting(params, seeds)
    for loss in CONTRASTIVE:
        out.append(contrastive_task(f"{loss} none", cs, loss, "none", ev))
        if cs["eps"] > 0:
            out.append(contrastive_task(f"{loss} both", cs, loss, "both", ev))
    return out


def compute(t: dict) -> dict:
    from numerics.purity import node_weights

    s, ev = t["setting"], t["evaluation"]
    m = T.model(s)
    run = contrastive_run(s, t["loss"], t["variant"])
    x = T.purity_inputs(m, ev)
    runs = []
    for i, seed in enumerate(s["seeds"]):
        net = run.net(i, t["variant"])
        runs.append({"seed": seed, "purity": T.purity_report(net.W, node_weights(net, x, "activity"), m.M, ev["tau"])})
    return {"runs": runs}


def judge(params, results: dict) -> Outcome:
    j, eps, ceps, k, level = params.judge, params.train.eps, params.contrastive.eps, params.purity.top_k, params.eval.level
    pur = lambda loss, e: [T.loading(r, k) for r in results[f"{loss} eps={e:g}"]["runs"]]  # noqa: E731
    cpur = lambda loss, v: [T.loading(r, k) for r in results[f"{loss} {v}"]["runs"]]  # noqa: E731
    attacked = "both" if ceps > 0 else "none"
    gaps = {loss: paired_gap(pur(loss, eps), pur(loss, 0.0), level) for loss in SUPERVISED}
    gaps |= {loss: paired_gap(cpur(loss, attacked), cpur(loss, "none"), level) for loss in CONTRASTIVE}
    judged = list(j.supervised) + list(j.contrastive)
    conds = [condition(f"purity gap adversarial - clean (k={k}), {loss} loss", gaps[loss], "above", j.purity_gap)
             for loss in judged]
    verdicts = {name: condition("g", g, "above", j.purity_gap).verdict for name, g in gaps.items()}
    rmap = region_map("q7_losses", f"Q7: purity gap > {j.purity_gap:g} per loss (supervised eps={eps:g}, "
                                   f"contrastive eps={ceps:g})", ("train.loss",),
                      [{"params": {"train.loss": name}, "verdict": verdicts[name],
                        "numbers": {"gap": g.value, "gap_lower": g.lower}} for name, g in gaps.items()],
                      {"train.loss": "logistic"})
    runs = {loss: {e: results[f"{loss} eps={e:g}"]["runs"] for e in sorted({0.0, eps})} for loss in SUPERVISED}
    ev = {"question": QUESTION, "judged": judged, "references": ["logistic", "spectral"], "top_k": k,
          "supervised_eps": eps, "contrastive_eps": ceps, "gaps": {name: g.to_dict() for name, g in gaps.items()},
          "purity": {loss: {"adversarial": pur(loss, eps), "clean": pur(loss, 0.0)} for loss in SUPERVISED}
          | {loss: {"attacked": cpur(loss, attacked), "clean": cpur(loss, "none")} for loss in CONTRASTIVE},
          "supervised_runs": [{"loss": loss, "eps": e, "seed": r["seed"], "purity": r["purity"],
                               "robust_error": r["robust_error"], "clean_error": r["clean_error"]}
                              for loss in SUPERVISED for e in runs[loss] for r in runs[loss][e]],
          "region": {"statement": f"purity gap > {j.purity_gap:g}", "by_loss": verdicts,
                     "summary": "; ".join(f"{name}: {v}" for name, v in verdicts.items())}}
    names = list(SUPERVISED) + list(CONTRASTIVE)
    figs = [{"id": "q7_purity_gap", "kind": "curves", "title": "Q7: purity gap (adversarial - clean) per loss",
             "xlabel": "loss", "ylabel": f"purity gap (mean (tau, {k})-loading)", "intervals": "errorbars",
             "series": [{"label": f"paired {level:g} interval over seeds",
                         "points": points_of(names, [gaps[n] for n in names])}],
             "hlines": [{"y": j.purity_gap, "label": f"threshold {j.purity_gap:g}"},
                        {"y": 0.0, "label": "no purification"}]}]
    keys = [key_number(f"purity gap {name}", g) for name, g in gaps.items()]
    audit = [r["audit"] for loss in SUPERVISED for e in runs[loss] for r in runs[loss][e] if r["audit"]]
    return Outcome(ID, conds, evidence=ev, key_numbers=keys, figures=figs, regions=[rmap], robustness_audit=audit,
                   method="training + paired t-interval over seeds")


def check(params) -> Outcome:
    from . import check as run

    return run(ID, params)
