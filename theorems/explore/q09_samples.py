"""Q9: finite samples vs population: does adversarial training purify with n training samples?

The shared two-layer setting of :mod:`theorems.explore.trained` with a fixed training sample
of size n (``train.n_train``, ``TrainConfig.n_train``: drawn once per seed, visited in seeded
minibatches of ``min(batch, n)``, the same number of steps as online training) against online
training (n = 0: fresh samples every step, the stand-in for population training). For each n:
the purity gap adversarial minus clean (paired over seeds), and for the adversarially trained
nets their robust error on their own training sample (complete verification of each training
input) against their population robust error (verified, fresh samples): the generalisation gap
of robustness.

Main check (a priori headline n = 16 d = 256, about 32 samples in which each feature is
active): the purity gap exceeds ``judge.purity_gap`` at ``n = train.n_train``. Region: the n of
``grid.n_train`` where it does. Control: eps = 0.
"""
from __future__ import annotations

from numerics.estimates import mean

from ..verdict import Outcome, condition, key_number
from . import trained as T
from .common import paired_gap, points_of, region, region_map

ID = "Q9"
QUESTION = "Does adversarial training purify from a finite training sample, and from how many samples on?"


def _ns(params) -> list[int]:
    return [params.train.n_train] + [n for n in params.grid.n_train if n != params.train.n_train]


def _label(n: int) -> str:
    return "online" if n == 0 else str(n)


def plan(params) -> list[dict]:
    ev = T.evaluation(params)
    return [T.train_task(f"n={_label(n)} eps={e:g}", T.setting(params, eps=e, n_train=n), ev, empirical=e > 0)
            for n in _ns(params) for e in sorted({0.0, params.train.eps})]


def compute(t: dict) -> dict:  # every task of Q9 is a shared training run
    raise ValueError(f"{ID} has no own task kinds, got {t['kind']!r}")


def judge(params, results: dict) -> Outcome:
    j, eps, k, level, head = params.judge, params.train.eps, params.purity.top_k, params.eval.level, params.train.n_train
    runs = {(n, e): results[f"n={_label(n)} eps={e:g}"]["runs"] for n in _ns(params) for e in sorted({0.0, eps})}
    pur = lambda n, e: [T.loading(r, k) for r in runs[(n, e)]]  # noqa: E731
    gaps = {n: paired_gap(pur(n, eps), pur(n, 0.0), level) for n in _ns(params)}
    conds = [condition(f"purity gap adversarial - clean training (k={k}) at n = {_label(head)}", gaps[head], "above",
                       j.purity_gap)]
    keys = [key_number(f"purity gap at n={_label(n)}", gaps[n]) for n in _ns(params)]
    grid = list(params.grid.n_train)
    verdicts = {n: condition("g", gaps[n], "above", j.purity_gap).verdict for n in _ns(params)}
    rmap = region_map("q9_samples", f"Q9: purity gap > {j.purity_gap:g} vs training sample size (0 = online, "
                                    f"eps={eps:g})", ("train.n_train",),
                      [{"params": {"train.n_train": n}, "verdict": verdicts[n],
                        "numbers": {"gap": gaps[n].value, "gap_lower": gaps[n].lower}} for n in grid],
                      {"train.n_train": head})
    ev = {"question": QUESTION, "judged_n": head, "top_k": k, "gaps": {_label(n): g.to_dict() for n, g in gaps.items()},
          "runs": [{"n_train": n, "eps": e, "seed": r["seed"], "purity": r["purity"], "robust_error": r["robust_error"],
                    "clean_error": r["clean_error"], **({"train_sample": r["train_sample"]} if "train_sample" in r else {})}
                   for (n, e), rs in runs.items() for r in rs],
          "region": region([{"n": _label(n)} for n in grid], [verdicts[n] for n in grid], ("n",),
                           f"purity gap > {j.purity_gap:g}")}
    finite = sorted(n for n in grid if n > 0)
    gen = {}
    if eps > 0:
        for n in finite:
            emp = [r["train_sample"]["robust_error"] for r in runs[(n, eps)]]
            pop = [r["robust_error"]["value"] for r in runs[(n, eps)]]
            gen[n] = paired_gap(pop, emp, level)
        ev["robust_generalisation_gap"] = {str(n): g.to_dict() for n, g in gen.items()}
    figs = []
    if finite:
        online = mean(pur(0, eps), level) if 0 in grid else None
        figs.append({"id": "q9_purity_vs_n", "kind": "curves", "title": "Q9: purity vs training sample size",
                     "xlabel": "training samples n", "ylabel": f"activity-weighted mean (tau, {k})-loading",
                     "xscale": "log",
                     "series": [{"label": lab, "points": points_of(finite, [mean(pur(n, e), level) for n in finite])}
                                for lab, e in (("clean", 0.0), (f"adversarial eps={eps:g}", eps))],
                     "hlines": ([{"y": online.value, "label": "adversarial, online (population)"}] if online else [])})
    if gen:
        figs.append({"id": "q9_generalisation", "kind": "curves",
                     "title": "Q9: population minus training-sample robust error (adversarial training)",
                     "xlabel": "training samples n", "ylabel": "robust error gap (verified, proven errors)",
                     "xscale": "log",
                     "series": [{"label": f"paired {level:g} interval", "points": points_of(finite, [gen[n] for n in finite])}],
                     "hlines": [{"y": 0.0, "label": "no gap"}]})
    audit = [r["audit"] for rs in runs.values() for r in rs if r["audit"]]
    return Outcome(ID, conds, evidence=ev, key_numbers=keys, figures=figs, regions=[rmap], robustness_audit=audit,
                   method="training + paired t-interval over seeds")


def check(params) -> Outcome:
    from . import check as run

    return run(ID, params)
