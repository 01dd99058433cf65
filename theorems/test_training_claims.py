"""P3: adversarial training from random init ends purified; clean training ends dense and vulnerable (C1, C2).

Proposition. From the same small random init and the same online data, PGD adversarial
training (l2, eps = 0.4) ends with nodes that each read about one feature, while clean training
ends with dense nodes (about d effective features) that PGD breaks at eps = 0.4. Regime: d = 32,
k = 3, sigma = 0.1, m = 64, trainable shared symmetric threshold, Adam, init scale 0.01.
Purity is activity-weighted (MODEL.md; assumption A5). Intervals: Student t over seeds (paired:
same seed = same init and data), Clopper-Pearson for robust errors.
"""
from __future__ import annotations

import numpy as np
import pytest

from numerics.estimates import Estimate, mean

from . import trained_nets as tn
from .verdict import Outcome, condition, key_number

AT_EPS = 0.4
EVAL_EPS = 0.4
LEVEL = 0.95  # over a handful of seeds a 99% t-interval is needlessly wide; stated in the evidence
MIN_LOG_RATIO = float(np.log(2.0))  # AT must at least halve the effective number of features
TAU_SHARE = 0.5  # most of the network's activity must sit on tau-purified nodes (tau = 0.9)


def check_p3(seeds: int, steps: int, *, eps: float = AT_EPS, threshold: str = "shared") -> Outcome:
    clean = [tn.run(steps, 0.0, s, threshold) for s in range(seeds)]
    adv = [tn.run(steps, eps, s, threshold) for s in range(seeds)]
    log_ratio = mean(np.log([c.n_eff / a.n_eff for c, a in zip(clean, adv)]), level=LEVEL, paired=True)
    share = mean([a.purified_share for a in adv], level=LEVEL)
    clean_neff = mean([c.n_eff for c in clean], level=LEVEL)
    # Clean training vulnerable: the errors PGD finds at eps = 0.4 (a lower bound on the robust error), pooled.
    rob_clean = [tn.robust(steps, 0.0, s, threshold, EVAL_EPS) for s in range(seeds)]
    rob_adv = [tn.robust(steps, eps, s, threshold, EVAL_EPS) for s in range(seeds)]
    clean_found = min(r.lower for r in rob_clean)
    conds = [
        condition("log(n_eff clean / n_eff AT), paired over seeds", log_ratio, "above", MIN_LOG_RATIO),
        condition("AT: activity share on 0.9-purified nodes", share, "above", TAU_SHARE),
        condition("clean: activity-weighted n_eff (dense = d)", clean_neff, "above", tn.D / 4),
        condition("clean: robust error at eps=0.4, smallest lower limit over seeds (PGD)",
                  Estimate(clean_found, clean_found, clean_found, "mc", level=0.99), "above", 0.5),
    ]
    evidence = {
        "setting": {"d": tn.D, "p": tn.P, "sigma": tn.SIGMA, "width": tn.WIDTH, "steps": steps, "eps_train": eps,
                    "threshold_rule": threshold, "config": tn.config(steps=steps, eps=eps, seed=0, threshold=threshold).__dict__,
                    "eval": {"samples": tn.EVAL_SAMPLES, "pgd": tn.EVAL_PGD, "eps": EVAL_EPS}, "t_level": LEVEL},
        "clean_runs": [c.numbers() for c in clean], "at_runs": [a.numbers() for a in adv],
        "log_ratio": log_ratio.to_dict(), "at_purified_share": share.to_dict(), "clean_n_eff": clean_neff.to_dict(),
        "robust_error_clean": [r.to_dict() for r in rob_clean], "robust_error_at": [r.to_dict() for r in rob_adv],
        "note": "robust errors of trained nets are [PGD-found, certificate-unexcluded] intervals; the certificate "
                "is loose on thresholded nets, so the AT upper limit is wide",
    }
    figs = [{"id": "p3_purity_hist" if threshold == "shared" and eps > 0 else f"p3_purity_hist_{threshold}_{eps:g}",
             "kind": "histogram", "title": "Effective features per node, weighted by activity (all seeds)",
             "xlabel": "effective number of features n_eff", "bins": 32,
             "series": [{"label": "clean training", "values": [v for c in clean for v in c.node_n_eff],
                         "weights": [v for c in clean for v in c.node_weight]},
                        {"label": f"adversarial training (eps={eps:g})", "values": [v for a in adv for v in a.node_n_eff],
                         "weights": [v for a in adv for v in a.node_weight]}]}]
    keys = [key_number("n_eff clean / n_eff AT (geometric mean)", Estimate(float(np.exp(log_ratio.value)), float(np.exp(log_ratio.lower)),
                                                                          float(np.exp(log_ratio.upper)), "mc", level=LEVEL)),
            key_number("AT purified share", share)]
    return Outcome("P3", conds, evidence=evidence, key_numbers=keys, figures=figs, method="training + t-interval over seeds")


def robust_error_figure(seeds: int, steps: int) -> dict:
    """Robust error vs eps for the clean- and AT-trained nets of seed 0 ([PGD, certified] bands)."""
    grid = (0.0, 0.1, 0.2, 0.3, 0.4, 0.6)
    series = []
    for label, e in (("clean-trained", 0.0), (f"AT-trained (eps={AT_EPS:g})", AT_EPS)):
        pts = []
        for g in grid:
            r = tn.robust(steps, e, 0, "shared", g)
            pts.append({"x": g, "value": r.value, "lower": r.lower, "upper": r.upper})
        series.append({"label": label, "points": pts})
    return {"id": "p3_robust_error", "kind": "curves", "title": "Robust error of trained nets, seed 0 (band: PGD to certificate)",
            "xlabel": "l2 radius eps", "ylabel": "robust error", "series": series}


@pytest.mark.claim("P3")
def test_P3(claim_run, profile):
    def check():
        out = check_p3(profile.p3_seeds, profile.p3_steps)
        out.figures.append(robust_error_figure(profile.p3_seeds, profile.p3_steps))
        return out
    claim_run.main(check)


@pytest.mark.claim("P3", control="eps_zero")
def test_P3_control_eps_zero(claim_run, profile):
    claim_run.control("eps_zero", check_p3, profile.p3_seeds, profile.p3_steps, eps=0.0)


@pytest.mark.claim("P3", control="threshold_zero")
def test_P3_control_threshold_zero(claim_run, profile):
    claim_run.control("threshold_zero", check_p3, profile.p3_seeds, profile.p3_steps, threshold="fixed")
