"""Q7: does adversarial training purify under other losses: hinge and squared (supervised), InfoNCE (contrastive)?

Supervised: the shared two-layer setting of :mod:`theorems.explore.trained` with the margin
loss replaced (``numerics.training.margin_loss``: logistic, hinge ``max(0, 1 - u)``, squared
``(1 - u)^2``); purity gap adversarial minus clean, paired over seeds.

Contrastive: :func:`numerics.contrastive.train_contrastive` on the same data model (d = 16,
k = 2, sigma = 0.1, random dictionary seed 1) in P4's headline setting (soft threshold with
a threshold relative to each node's norm, b = 0.5; noise views; Adam lr 0.03, batch 32, width
32; 3-step PGD at eps = 0.35 on the anchors, both terms attacked), spectral loss without
normalisation (P4's) and InfoNCE (decoupled, T = 0.5) on l2-normalised representations (it is
unbounded below without). Purity gap: attacked ("both") minus clean ("none") training, same
seed = same init and data.

Main check (a priori): the purity gap exceeds 0.2 for hinge, squared and InfoNCE. Logistic and
spectral are the references (reported). Control: eps = 0 (the attacked runs are the clean ones).
"""
from __future__ import annotations

from dataclasses import dataclass

from numerics.contrastive import ContrastiveConfig, train_contrastive
from numerics.purity import network_purity

from ..verdict import Outcome, condition, key_number
from . import trained as T
from .common import PURITY_GAP, paired_gap, points_of, task

ID = "Q7"
QUESTION = "Does adversarial training purify with hinge and squared losses, and with InfoNCE instead of the spectral loss?"
SUPERVISED = ("logistic", "hinge", "squared")
CONTRASTIVE = ("spectral", "infonce")
JUDGED = ("hinge", "squared", "infonce")
C_EPS = 0.35


@dataclass(frozen=True)
class Sizes:
    seeds: int
    steps: int
    c_seeds: int
    c_steps: int


SIZES = {"smoke": Sizes(4, 300, 4, 300), "quick": Sizes(6, 600, 8, 400), "thorough": Sizes(10, 1500, 12, 1000)}


def plan(sz: Sizes, variant: str) -> list[dict]:
    eps = {"main": T.EPS, "eps_zero": 0.0}.get(variant)
    if eps is None:
        raise ValueError(f"{ID} has no variant {variant!r}")
    out = [T.train_task(f"{loss} eps={e:g} seed={s}", eps=e, steps=sz.steps, seed=s, loss=loss)
           for loss in SUPERVISED for s in range(sz.seeds) for e in sorted({0.0, eps})]
    # the control reads the clean ("none") runs of the main task for both sides: one training
    out += [task("contrastive", f"{loss}", loss=loss, eps=C_EPS, seeds=sz.c_seeds, steps=sz.c_steps) for loss in CONTRASTIVE]
    return out


def contrastive_config(loss: str, eps: float, steps: int) -> ContrastiveConfig:
    return ContrastiveConfig(loss=loss, normalisation="none" if loss == "spectral" else "l2", temperature=0.5,
                             augmentation="noise", activation="soft_threshold", threshold="relative", b=0.5,
                             width=32, init_scale=1.0, steps=steps, batch=32, lr=0.03, eps=eps, norm="l2", pgd_steps=3,
                             log_every=max(1, steps // 5))


def compute(t: dict) -> dict:
    m = T.model()
    run = train_contrastive(m, contrastive_config(t["loss"], t["eps"], t["steps"]), list(range(t["seeds"])),
                            ("both", "none"))
    x, _ = T.eval_inputs()
    pur = {v: [network_purity(run.net(s, v), m.M, x=x, weights="activity", tau=T.TAU).mean_max_loading
               for s in range(t["seeds"])] for v in run.variants}
    return {"purity": pur}


def judge(variant: str, sz: Sizes, results: dict) -> Outcome:
    eps = T.EPS if variant == "main" else 0.0
    ceps = C_EPS if variant == "main" else 0.0
    S = range(sz.seeds)
    pur = lambda loss, e: [results[f"{loss} eps={e:g} seed={s}"]["purity"]["mean_max_loading"] for s in S]  # noqa: E731
    gaps = {loss: paired_gap(pur(loss, eps), pur(loss, 0.0)) for loss in SUPERVISED}
    for loss in CONTRASTIVE:
        p = results[loss]["purity"]
        gaps[loss] = paired_gap(p["both" if ceps > 0 else "none"], p["none"])
    conds = [condition(f"purity gap adversarial - clean, {loss} loss", gaps[loss], "above", PURITY_GAP) for loss in JUDGED]
    ev = {"question": QUESTION, "variant": variant, "gaps": {k: g.to_dict() for k, g in gaps.items()},
          "references": ["logistic", "spectral"], "supervised_eps": eps, "contrastive_eps": ceps,
          "purity": {loss: {"adversarial": pur(loss, eps), "clean": pur(loss, 0.0)} for loss in SUPERVISED}
          | {loss: results[loss]["purity"] for loss in CONTRASTIVE},
          "region": {"statement": f"purity gap > {PURITY_GAP:g}",
                     "by_loss": {k: condition("g", g, "above", PURITY_GAP).verdict for k, g in gaps.items()},
                     "summary": "; ".join(f"{k}: {condition('g', g, 'above', PURITY_GAP).verdict}" for k, g in gaps.items())},
          "settings": {"supervised": {"d": T.D, "k": T.K, "sigma": T.SIGMA, "eps": T.EPS, "steps": sz.steps, "seeds": sz.seeds},
                       "contrastive": {**contrastive_config("spectral", C_EPS, sz.c_steps).to_dict(), "seeds": sz.c_seeds}}}
    figs = []
    if variant == "main":
        names = list(SUPERVISED) + list(CONTRASTIVE)
        figs.append({"id": "q7_purity_gap", "kind": "curves", "title": "Q7: purity gap (adversarial - clean) per loss",
                     "xlabel": "loss", "ylabel": "purity gap (mean max loading)", "intervals": "errorbars",
                     "series": [{"label": "paired 99% interval over seeds", "points": points_of(names, [gaps[n] for n in names])}],
                     "hlines": [{"y": PURITY_GAP, "label": "threshold 0.2"}, {"y": 0.0, "label": "no purification"}]})
    keys = [key_number(f"purity gap {k}", g) for k, g in gaps.items()]
    return Outcome(ID, conds, evidence=ev, key_numbers=keys, figures=figs, method="training + paired t-interval over seeds")
