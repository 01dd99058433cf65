"""Training runs shared by the training claims (P3), cached per configuration within a session.

The setting (d = 32, k = 3, sigma = 0.1, random dictionary, uniform w*, m = 64, Adam, init
scale 0.01, trainable shared symmetric threshold, l2 PGD) was calibrated once on the paper's
model so that runs take seconds on a CPU; see theorems/test_training_claims.py for what is
claimed about it. Training is bit-for-bit deterministic for a given seed, so caching a run
changes no number.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

import numpy as np

from numerics import ModelConfig, SparseCodingModel
from numerics.purity import network_purity
from numerics.risk import robust_error
from numerics.training import TrainConfig, train

D, P, SIGMA, WIDTH = 32, 3 / 32, 0.1, 64
EVAL_SAMPLES = 500
EVAL_PGD = {"steps": 50, "restarts": 20}


@cache
def setting() -> tuple[SparseCodingModel, np.ndarray]:
    model = SparseCodingModel(ModelConfig(d=D, p=P, sigma=SIGMA, dictionary="random", dictionary_seed=0))
    return model, np.ones(D) / np.sqrt(D)


def config(*, steps: int, eps: float, seed: int, threshold: str = "shared") -> TrainConfig:
    # eps 0.4 straight (no ramp) purifies; straight AT at 0.5 collapses, a ramp at 0.4 slows purification.
    return TrainConfig(steps=steps, batch=128, lr=0.01, optimiser="adam", eps=eps, norm="l2", pgd_steps=5,
                       pgd_restarts=1, threshold=threshold, b_init=0.0, width=WIDTH, init_scale=0.01,
                       seed=seed, progress=False)


@dataclass(frozen=True)
class RunSummary:
    seed: int
    eps: float
    threshold: str
    n_eff: float
    max_loading: float
    purified_share: float
    coverage: float
    threshold_value: float
    node_n_eff: tuple[float, ...]
    node_weight: tuple[float, ...]
    wall_time: float
    net: object

    def numbers(self) -> dict:
        return {"seed": self.seed, "eps": self.eps, "threshold_rule": self.threshold, "n_eff": self.n_eff,
                "max_loading": self.max_loading, "purified_share": self.purified_share, "coverage": self.coverage,
                "b": self.threshold_value, "wall_time_s": round(self.wall_time, 2)}


@cache
def run(steps: int, eps: float, seed: int, threshold: str = "shared") -> RunSummary:
    model, w = setting()
    res = train(model, w, None, config(steps=steps, eps=eps, seed=seed, threshold=threshold))
    net = res.net.to_net()
    x = model.sample(2000, seed=10_000 + seed).x  # fresh inputs on which node activity is measured
    pur = network_purity(net, model.M, x=x, weights="activity", tau=0.9)
    return RunSummary(seed, eps, threshold, pur.mean_effective_features, pur.mean_max_loading, pur.purified_fraction,
                      pur.coverage, float(np.mean(net.b)), tuple(pur.node_effective_features.tolist()),
                      tuple(pur.node_weight.tolist()), res.wall_time, net)


@cache
def robust(steps: int, eps_train: float, seed: int, threshold: str, eps: float):
    """Robust error of a trained net: [PGD-found errors, certificate-unexcluded errors] (Clopper-Pearson limits)."""
    model, w = setting()
    net = run(steps, eps_train, seed, threshold).net
    return robust_error(net, model, w, eps, norm="l2", method="mc", samples=EVAL_SAMPLES, seed=20_000 + seed,
                        level=0.99, pgd=EVAL_PGD)
