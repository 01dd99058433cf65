"""Q8: does adversarial training still purify with a normalisation layer, and with weight sharing?

Nets (:mod:`numerics.architectures`), trained in the shared setting of
:mod:`theorems.explore.trained`, all seeds of a radius as one batched run
(:func:`numerics.training.train_module_batch`):

- *normalisation*: :class:`NormalisedTwoLayer`: soft-threshold layer (one trainable
  threshold), RMS normalisation ``h / sqrt(mean h^2)``, linear head, on the model's dictionary.
  It is not a two-layer net (the normalisation couples the nodes), so its robust error is PGD's
  lower side only.
- *weight sharing*: :class:`CirculantTwoLayer`: d nodes, the cyclic shifts of one filter (a
  circular 1-D convolution), one trainable threshold. Shifts of a filter only line up with
  features when the dictionary is the identity (or a signed permutation), so this net runs on
  the identity dictionary; there the pure net is the filter ``e_0`` and every node has the
  purity of the filter. It IS a two-layer net (rows ``roll(f, j)``), verified as one.

Main check (a priori): the purity gap adversarial minus clean, paired over seeds, exceeds
``judge.purity_gap`` for both nets. The plain two-layer net's gap (same setting) is reported.
Control: eps = 0.
"""
from __future__ import annotations

from numerics.architectures import CirculantTwoLayer, NormalisedTwoLayer
from numerics.estimates import mean

from ..verdict import Outcome, condition, key_number
from . import trained as T
from .common import paired_gap, points_of, region_map, task

ID = "Q8"
QUESTION = ("Does adversarial training purify with a normalisation layer before the head, and with weight sharing "
            "(a circulant layer)?")
NETS = ("normalised", "circulant")


def plan(params) -> list[dict]:
    ev = T.evaluation(params)
    out = []
    for e in sorted({0.0, params.train.eps}):
        s = T.setting(params, eps=e)
        out += [task("train", f"{net} eps={e:g}", net=net, setting=s, evaluation=ev) for net in NETS]
        out.append(T.train_task(f"plain eps={e:g}", s, ev))
    return out


def compute(t: dict) -> dict:
    s, ev = t["setting"], t["evaluation"]
    if t["net"] == "normalised":
        m = T.model(s)
        runs = NormalisedTwoLayer.random_init(m.d, s["width"], seed=T.init_seeds(s), scale=s["init_scale"])
    else:
        m = T.model(s, dictionary="identity")
        runs = CirculantTwoLayer.random_init(m.d, seed=T.init_seeds(s), scale=s["init_scale"])
    w = T.task_direction(m.d)
    out = []
    for seed, net in zip(s["seeds"], T.train_runs(runs, m, w, s)):
        label = f"{t['net']} eps={s['eps']:g} seed {seed}"
        judged = T.circulant_as_two_layer(net) if t["net"] == "circulant" else net
        out.append({"seed": seed, "purity": T.module_purity(net, m, ev), **T.evaluate(judged, m, w, ev, label),
                    "threshold": float(net.b1.clamp_min(0)), "dictionary": m.config.dictionary})
    return {"runs": out}


def judge(params, results: dict) -> Outcome:
    j, eps, k, level = params.judge, params.train.eps, params.purity.top_k, params.eval.level
    runs = {net: {e: results[f"{net} eps={e:g}"]["runs"] for e in sorted({0.0, eps})} for net in (*NETS, "plain")}
    pur = lambda net, e: [T.loading(r, k) for r in runs[net][e]]  # noqa: E731
    gaps = {net: paired_gap(pur(net, eps), pur(net, 0.0), level) for net in (*NETS, "plain")}
    conds = [condition(f"purity gap adversarial - clean (k={k}), {net} net", gaps[net], "above", j.purity_gap)
             for net in NETS]
    verdicts = {net: condition("g", g, "above", j.purity_gap).verdict for net, g in gaps.items()}
    rmap = region_map("q8_architecture", f"Q8: purity gap > {j.purity_gap:g} per architecture (eps={eps:g})",
                      ("architecture",),
                      [{"params": {"architecture": net}, "verdict": verdicts[net],
                        "numbers": {"gap": gaps[net].value, "gap_lower": gaps[net].lower}} for net in gaps],
                      {"architecture": "plain"})
    ev = {"question": QUESTION, "top_k": k, "gaps": {net: g.to_dict() for net, g in gaps.items()},
          "plain_two_layer_gap": gaps["plain"].to_dict(),
          "runs": [{"net": net, "eps": e, "seed": r["seed"], "purity": r["purity"], "robust_error": r["robust_error"],
                    "clean_error": r["clean_error"], **({"threshold": r["threshold"]} if "threshold" in r else {})}
                   for net in runs for e in runs[net] for r in runs[net][e]],
          "region": {"statement": f"purity gap > {j.purity_gap:g}",
                     "summary": "; ".join(f"{net}: {v}" for net, v in verdicts.items())}}
    keys = [key_number(f"purity gap {net}", gaps[net]) for net in NETS] + \
           [key_number("purity gap plain two-layer (reference)", gaps["plain"])]
    names = ["plain", *NETS]
    figs = [{"id": "q8_purity", "kind": "curves", "title": "Q8: purity after clean and adversarial training",
             "xlabel": "architecture", "ylabel": f"activity-weighted mean (tau, {k})-loading", "intervals": "errorbars",
             "series": [{"label": lab, "points": points_of(names, [mean(pur(n, e), level) for n in names])}
                        for lab, e in (("clean", 0.0), (f"adversarial eps={eps:g}", eps))]}]
    audit = [r["audit"] for net in runs for e in runs[net] for r in runs[net][e] if r["audit"]]
    return Outcome(ID, conds, evidence=ev, key_numbers=keys, figures=figs, regions=[rmap], robustness_audit=audit,
                   method="training + paired t-interval over seeds")


def check(params) -> Outcome:
    from . import check as run

    return run(ID, params)
