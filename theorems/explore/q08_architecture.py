"""Q8: does adversarial training still purify with a normalisation layer, and with weight sharing?

Nets (:mod:`numerics.architectures`), trained in the shared setting of
:mod:`theorems.explore.trained` by :func:`numerics.module_training.train_module`:

- *normalisation*: :class:`NormalisedTwoLayer`: soft-threshold layer (one trainable
  threshold), RMS normalisation ``h / sqrt(mean h^2)``, linear head. For a *fixed* net the
  normalisation is a positive rescaling of the output, so it changes neither clean nor robust
  0-1 errors; it can only act through training. Random dictionary, as the other questions.
- *weight sharing*: :class:`CirculantTwoLayer`: d nodes, the cyclic shifts of one filter (a
  circular 1-D convolution), one trainable threshold. Shifts of a filter only line up with
  features when the dictionary is the identity (or a signed permutation), so this net runs on
  the identity dictionary; there the pure net is the filter ``e_0`` and every node has the
  purity of the filter.

Main check (a priori): the purity gap adversarial minus clean, paired over seeds, exceeds 0.2
for both nets. The plain two-layer net's gap (same setting, random dictionary) is reported.
Control: eps = 0.
"""
from __future__ import annotations

from dataclasses import dataclass

from numerics.architectures import CirculantTwoLayer, NormalisedTwoLayer
from numerics.estimates import mean
from numerics.module_training import train_module
from numerics.training import derive_seeds

from ..verdict import Outcome, condition, key_number
from . import trained as T
from .common import LEVEL, PURITY_GAP, paired_gap, points_of, task

ID = "Q8"
QUESTION = "Does adversarial training purify with a normalisation layer before the head, and with weight sharing (a circulant layer)?"
NETS = ("normalised", "circulant")


@dataclass(frozen=True)
class Sizes:
    seeds: int
    steps: int


SIZES = {"smoke": Sizes(4, 300), "quick": Sizes(6, 600), "thorough": Sizes(10, 1500)}


def plan(sz: Sizes, variant: str) -> list[dict]:
    eps = {"main": T.EPS, "eps_zero": 0.0}.get(variant)
    if eps is None:
        raise ValueError(f"{ID} has no variant {variant!r}")
    out = [task("train", f"{net} eps={e:g} seed={s}", net=net, eps=e, steps=sz.steps, seed=s)
           for net in NETS for s in range(sz.seeds) for e in sorted({0.0, eps})]
    if variant == "main":
        out += [T.train_task(f"plain eps={e:g} seed={s}", eps=e, steps=sz.steps, seed=s)
                for s in range(sz.seeds) for e in (0.0, eps)]
    return out


def compute(t: dict) -> dict:
    init = derive_seeds(t["seed"])["init"]
    if t["net"] == "normalised":
        m = T.model()
        net = NormalisedTwoLayer.random_init(m.d, T.WIDTH, seed=init, scale=T.INIT_SCALE)
        x, _ = T.eval_inputs()
    else:
        m = T.model(dictionary="identity")
        net = CirculantTwoLayer.random_init(m.d, seed=init, scale=T.INIT_SCALE)
        x, _ = T.eval_inputs(dictionary="identity")
    w = T.wstar(m.d)
    res = train_module(net, m, w, T.config(t["eps"], t["steps"], t["seed"]))
    net.requires_grad_(False)
    return {"purity": T.module_purity(net, m, x), **T.pgd_robust_error(net, m, w, T.EPS, n=1000, seed=T.EVAL_SEED + 1),
            "threshold": float(net.b1.clamp_min(0)), "dictionary": m.config.dictionary}


def judge(variant: str, sz: Sizes, results: dict) -> Outcome:
    eps = T.EPS if variant == "main" else 0.0
    S = range(sz.seeds)
    pur = lambda net, e: [results[f"{net} eps={e:g} seed={s}"]["purity"]["mean_max_loading"] for s in S]  # noqa: E731
    gaps = {net: paired_gap(pur(net, eps), pur(net, 0.0)) for net in NETS}
    conds = [condition(f"purity gap adversarial - clean, {net} net", gaps[net], "above", PURITY_GAP) for net in NETS]
    ev = {"question": QUESTION, "variant": variant, "gaps": {k: g.to_dict() for k, g in gaps.items()},
          "runs": [{"net": net, "eps": e, "seed": s, "purity": results[f"{net} eps={e:g} seed={s}"]["purity"],
                    "robust_error_pgd": results[f"{net} eps={e:g} seed={s}"]["robust_error"]["value"],
                    "clean_error": results[f"{net} eps={e:g} seed={s}"]["clean_error"]["value"],
                    "threshold": results[f"{net} eps={e:g} seed={s}"]["threshold"]}
                   for net in NETS for e in sorted({0.0, eps}) for s in S],
          "training_setting": {"d": T.D, "k": T.K, "sigma": T.SIGMA, "eps": T.EPS, "steps": sz.steps, "seeds": sz.seeds}}
    keys = [key_number(f"purity gap {k}", g) for k, g in gaps.items()]
    figs = []
    if variant == "main":
        plain = paired_gap([results[f"plain eps={eps:g} seed={s}"]["purity"]["mean_max_loading"] for s in S],
                           [results[f"plain eps=0 seed={s}"]["purity"]["mean_max_loading"] for s in S])
        ev["plain_two_layer_gap"] = plain.to_dict()
        keys.append(key_number("purity gap plain two-layer (reference)", plain))
        ev["region"] = {"statement": f"purity gap > {PURITY_GAP:g}",
                        "summary": "; ".join(f"{k}: {condition('g', g, 'above', PURITY_GAP).verdict}"
                                             for k, g in {**gaps, "plain": plain}.items())}
        names = ["plain", *NETS]
        figs.append({"id": "q8_purity", "kind": "curves", "title": "Q8: purity after clean and adversarial training",
                     "xlabel": "architecture", "ylabel": "activity-weighted mean max loading", "intervals": "errorbars",
                     "series": [{"label": lab, "points": points_of(names, [mean(
                         [results[f"{n} eps={e:g} seed={s}"]["purity"]["mean_max_loading"] for s in S], LEVEL) for n in names])}
                         for lab, e in (("clean", 0.0), (f"adversarial eps={T.EPS:g}", eps))]})
    return Outcome(ID, conds, evidence=ev, key_numbers=keys, figures=figs, method="training + paired t-interval over seeds")
