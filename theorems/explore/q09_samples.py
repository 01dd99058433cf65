"""Q9: finite samples vs population: does adversarial training purify with n training samples?

The shared two-layer setting of :mod:`theorems.explore.trained` with a fixed training sample
of size n (``TrainConfig.n_train``: drawn once, visited in seeded minibatches of
``min(128, n)``, the same number of steps as online training) against online training (fresh
samples every step: the stand-in for population training). For each n: the purity gap
adversarial minus clean (paired over seeds), and for the adversarially trained net its
empirical robust error on its own training sample against its population robust error (PGD on
fresh samples): the generalisation gap of robustness.

Main check (a priori headline n = 16 d = 256, i.e. about 32 samples in which each feature is
active): the purity gap exceeds 0.2 at n = 256. Region: the n where it does. Control: eps = 0.
"""
from __future__ import annotations

from dataclasses import dataclass

from numerics.estimates import mean

from ..verdict import Outcome, condition, key_number
from . import trained as T
from .common import LEVEL, PURITY_GAP, paired_gap, points_of, region

ID = "Q9"
QUESTION = "Does adversarial training purify from a finite training sample, and from how many samples on?"
HEADLINE_N = 256
ONLINE = "online"


@dataclass(frozen=True)
class Sizes:
    ns: tuple
    seeds: int
    steps: int


SIZES = {
    "smoke": Sizes((64, 256, ONLINE), 4, 300),
    "quick": Sizes((32, 64, 128, 256, 512, 1024, ONLINE), 6, 600),
    "thorough": Sizes((16, 32, 64, 128, 256, 512, 1024, 4096, ONLINE), 10, 1500),
}


def _n(n):
    return None if n == ONLINE else int(n)


def plan(sz: Sizes, variant: str) -> list[dict]:
    eps = {"main": T.EPS, "eps_zero": 0.0}.get(variant)
    if eps is None:
        raise ValueError(f"{ID} has no variant {variant!r}")
    ns = sz.ns if variant == "main" else (HEADLINE_N,)
    return [T.train_task(f"n={n} eps={e:g} seed={s}", eps=e, steps=sz.steps, seed=s, n_train=_n(n))
            for n in ns for s in range(sz.seeds) for e in sorted({0.0, eps})]


def compute(t: dict) -> dict:  # every task of Q9 is a shared training run
    raise ValueError(f"{ID} has no own task kinds, got {t['kind']!r}")


def judge(variant: str, sz: Sizes, results: dict) -> Outcome:
    eps = T.EPS if variant == "main" else 0.0
    ns = sz.ns if variant == "main" else (HEADLINE_N,)
    S = range(sz.seeds)
    pur = lambda n, e: [results[f"n={n} eps={e:g} seed={s}"]["purity"]["mean_max_loading"] for s in S]  # noqa: E731
    gaps = {n: paired_gap(pur(n, eps), pur(n, 0.0)) for n in ns}
    conds = [condition(f"purity gap adversarial - clean training at n = {HEADLINE_N}", gaps[HEADLINE_N], "above", PURITY_GAP)]
    keys = [key_number(f"purity gap at n={n}", gaps[n]) for n in ns]
    ev = {"question": QUESTION, "variant": variant, "headline_n": HEADLINE_N,
          "gaps": {str(n): g.to_dict() for n, g in gaps.items()},
          "training_setting": {"d": T.D, "k": T.K, "sigma": T.SIGMA, "eps": T.EPS, "steps": sz.steps, "seeds": sz.seeds}}
    figs = []
    if variant == "main":
        finite = [n for n in ns if n != ONLINE]
        gen = {}
        for n in finite:
            emp = [results[f"n={n} eps={eps:g} seed={s}"]["train_sample"]["robust_error"] for s in S]
            pop = [results[f"n={n} eps={eps:g} seed={s}"]["robust_error"]["value"] for s in S]
            gen[n] = paired_gap(pop, emp)
        ev["robust_generalisation_gap"] = {str(n): g.to_dict() for n, g in gen.items()}
        ev["region"] = region([{"n": str(n)} for n in ns], [condition("g", gaps[n], "above", PURITY_GAP).verdict for n in ns],
                              ("n",), f"purity gap > {PURITY_GAP:g}")
        online_mean = mean(pur(ONLINE, eps), LEVEL) if ONLINE in ns else None
        figs.append({"id": "q9_purity_vs_n", "kind": "curves", "title": "Q9: purity vs training sample size",
                     "xlabel": "training samples n", "ylabel": "activity-weighted mean max loading", "xscale": "log",
                     "series": [{"label": lab, "points": points_of(finite, [mean(pur(n, e), LEVEL) for n in finite])}
                                for lab, e in (("clean", 0.0), (f"adversarial eps={T.EPS:g}", eps))],
                     "hlines": ([{"y": online_mean.value, "label": "adversarial, online (population)"}] if online_mean else [])})
        figs.append({"id": "q9_generalisation", "kind": "curves", "title": "Q9: population minus training-sample robust error (adversarial training)",
                     "xlabel": "training samples n", "ylabel": "robust error gap (PGD)", "xscale": "log",
                     "series": [{"label": "paired 99% interval", "points": points_of(finite, [gen[n] for n in finite])}],
                     "hlines": [{"y": 0.0, "label": "no gap"}]})
    return Outcome(ID, conds, evidence=ev, key_numbers=keys, figures=figs, method="training + paired t-interval over seeds")
