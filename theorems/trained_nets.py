"""Trained two-layer nets of the training claims (P3, P3d; reusable by P5's adversarially pre-trained layers).

A run is identified by what defines it: the data model (:class:`DataModel`), the training setting
(:class:`Training`, its radius ``eps`` included) and the seed. Runs are trained through the one
training loop (:func:`numerics.training.train_batch`) and cached per run for the session:
:func:`trained` takes any list of runs, trains the ones not yet cached as few batched runs as
possible (every seed, and the clean and adversarial variants of one setting, as ONE batch) and
returns each run's net. Batched training is bit for bit per-run training (numerics.training), so
which runs shared a batch, or whether a run came from the cache, changes no number.

Clean runs inside an adversarial batch: the batch attacks every run at radius ``eps``
(:func:`numerics.attacks.pgd.pgd_attack`, random starts, as the loop's default attack) and
multiplies the perturbation of the clean runs by 0, so their inputs are exactly the clean
inputs (``x + 0 = x``), their data and init streams are their own, and clean training never
depended on attack randomness: each clean run is bit for bit the run trained alone with
``eps = 0`` (tested in theorems/test_training_claims.py).

Public API (stable; used by the training claims and available to other families):
:class:`DataModel` (``.model()``, ``.wstar()``), :class:`Training` (``.config(seed)``),
:class:`TrainedRun`, :func:`trained`, :func:`trained_one`, :func:`purity_of`,
:func:`with_zero_threshold`, :func:`clear_cache`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cache
from typing import Sequence

import numpy as np
import torch

from numerics import ModelConfig, SparseCodingModel
from numerics.networks import TwoLayerNet
from numerics.purity import REPORTED_K, network_purity
from numerics.training import TrainConfig, train_batch


@dataclass(frozen=True)
class DataModel:
    """The sparse-coding model ``x = M z + xi`` with ``p = k / d`` and the task ``w*``."""

    d: int
    k: float
    sigma: float = 0.1
    dictionary: str = "random"
    dictionary_seed: int = 0
    task: str = "uniform"

    def __post_init__(self) -> None:
        if not 0 < self.k <= self.d:
            raise ValueError(f"k must be in (0, d = {self.d}], got {self.k:g}")
        if self.task != "uniform":
            raise ValueError(f"task must be 'uniform' (w* = 1/sqrt(d)), got {self.task!r}")

    def model(self) -> SparseCodingModel:
        return _model(self)

    def wstar(self) -> np.ndarray:
        return np.ones(self.d) / np.sqrt(self.d)


@cache
def _model(data: DataModel) -> SparseCodingModel:
    return SparseCodingModel(ModelConfig(d=data.d, p=data.k / data.d, sigma=data.sigma, dictionary=data.dictionary,
                                         dictionary_seed=data.dictionary_seed))


@dataclass(frozen=True)
class Training:
    """Everything that defines a supervised training run except its seed (numerics.training.TrainConfig)."""

    width: int = 64
    activation: str = "soft_threshold"
    eps: float = 0.4
    norm: str = "l2"
    optimiser: str = "adam"
    lr: float = 0.01
    momentum: float = 0.0
    steps: int = 1000
    batch: int = 128
    init_scale: float = 0.01
    threshold: str = "shared"
    b_init: float = 0.0
    pgd_steps: int = 5
    pgd_restarts: int = 1
    eps_ramp: float = 0.0
    n_train: int = 0  # 0: online (fresh samples every step)
    dtype: str = "float32"

    def config(self, seed: int) -> TrainConfig:
        return TrainConfig(steps=self.steps, batch=self.batch, lr=self.lr, optimiser=self.optimiser,
                           momentum=self.momentum, eps=self.eps, norm=self.norm, pgd_steps=self.pgd_steps,
                           pgd_restarts=self.pgd_restarts, eps_ramp=self.eps_ramp, dtype=self.dtype,
                           threshold=self.threshold, b_init=self.b_init, activation=self.activation,
                           width=self.width, init_scale=self.init_scale,
                           n_train=self.n_train if self.n_train > 0 else None, seed=seed, progress=False)

    def replace(self, **changes) -> "Training":
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class TrainedRun:
    """One trained net: its identity, the numpy net, the final training loss and the batch it trained in."""

    data: DataModel
    training: Training
    seed: int
    net: TwoLayerNet
    final_loss: float
    batch_runs: int  # runs of the batch it was trained in
    batch_seconds: float  # wall time of that batch

    @property
    def key(self) -> tuple:
        return (self.data, self.training, self.seed)


_RUNS: dict[tuple, TrainedRun] = {}


def clear_cache() -> None:
    """Forget every cached run (tests that time or compare fresh training)."""
    _RUNS.clear()


def trained(data: DataModel, runs: Sequence[tuple[Training, int]]) -> list[TrainedRun]:
    """The trained run of each ``(training, seed)``: cached ones as they are, the others trained in batches.

    The missing runs are grouped by their setting apart from ``eps``; each group trains as one batch
    holding its clean runs (``eps = 0``) and the runs of its first radius ``eps > 0``; further radii
    of a group (a rare request) train as further batches.
    """
    missing: dict[Training, dict[float, list[int]]] = {}
    for tr, seed in runs:
        if (data, tr, seed) not in _RUNS:
            seeds = missing.setdefault(tr.replace(eps=0.0), {}).setdefault(tr.eps, [])
            if seed not in seeds:
                seeds.append(seed)
    for base, by_eps in missing.items():
        radii = sorted(e for e in by_eps if e > 0)
        clean = by_eps.get(0.0, [])
        batches = [(radii[0] if radii else 0.0, clean, by_eps[radii[0]] if radii else [])] + [
            (e, [], by_eps[e]) for e in radii[1:]]
        for eps, clean_seeds, adv_seeds in batches:
            _train_batch(data, base, eps, clean_seeds, adv_seeds)
    return [_RUNS[(data, tr, seed)] for tr, seed in runs]


def trained_one(data: DataModel, training: Training, seed: int) -> TrainedRun:
    return trained(data, [(training, seed)])[0]


def _train_batch(data: DataModel, base: Training, eps: float, clean_seeds: list[int], adv_seeds: list[int]) -> None:
    seeds = list(clean_seeds) + list(adv_seeds)
    if not seeds:
        return
    model, w = data.model(), data.wstar()
    cfg = base.replace(eps=eps).config(seeds[0])
    attack = None
    if eps > 0 and clean_seeds:
        attack = _masked_attack(len(clean_seeds), len(adv_seeds))
    results = train_batch(model, w, cfg, seeds=seeds, attack=attack)
    for r, (res, seed) in enumerate(zip(results, seeds)):
        tr = base if r < len(clean_seeds) else base.replace(eps=eps)
        loss = float(res.losses[-1]) if res.losses is not None and len(res.losses) else float("nan")
        _RUNS[(data, tr, seed)] = TrainedRun(data, tr, seed, res.net.to_net(), loss, len(seeds), res.wall_time)


def _masked_attack(n_clean: int, n_adv: int):
    """The loop's default attack (PGD, random starts) with the clean runs' perturbations multiplied by 0."""
    from numerics.attacks.pgd import pgd_attack

    mask = torch.tensor([0.0] * n_clean + [1.0] * n_adv).view(-1, 1, 1)

    def attack(module, x, y, eps, norm, steps, restarts, step_size, seeds):
        delta = pgd_attack(module, x, y, eps, norm, steps, restarts, step_size, seeds, zero_start=False)
        return delta * mask.to(delta.dtype)

    return attack


# --------------------------------------------------------------------------- derived nets and purity


def with_zero_threshold(net: TwoLayerNet) -> TwoLayerNet:
    """The same net with every threshold (ReLU: intercept) set to 0 (a negative control)."""
    return dataclasses.replace(net, b=np.zeros(net.m), family="arbitrary", params={})


@dataclass(frozen=True)
class Purity:
    """Activity-weighted purity of one net: the numbers the training claims judge and report."""

    n_eff: float  # activity-weighted mean effective number of features per node
    max_loading: float  # activity-weighted mean pi_j
    share: float  # activity share on (tau, top_k)-purified nodes
    share_by_k: dict  # {k: share on (tau, k)-purified nodes} for k = 1, 2, 3
    coverage: float
    threshold_mean: float
    node_n_eff: tuple
    node_weight: tuple

    def numbers(self) -> dict:
        return {"n_eff": self.n_eff, "max_loading": self.max_loading, "purified_share": self.share,
                **{f"purified_share_k{k}": v for k, v in self.share_by_k.items()}, "coverage": self.coverage,
                "b": self.threshold_mean}


@cache
def _purity_inputs(data: DataModel, samples: int, seed: int) -> np.ndarray:
    return data.model().sample(samples, seed=seed).x


def purity_of(data: DataModel, net: TwoLayerNet, *, tau: float, top_k: int, samples: int, seed: int) -> Purity:
    """(tau, top_k)-purity of ``net`` weighted by activity on ``samples`` fresh inputs drawn with ``seed``."""
    x = _purity_inputs(data, samples, seed)
    pur = network_purity(net, data.model().M, x=x, weights="activity", tau=tau, top_k=top_k)
    by_k = {k: float(pur.purified_fraction_by_k[k]) for k in REPORTED_K if k in pur.purified_fraction_by_k}
    return Purity(float(pur.mean_effective_features), float(pur.mean_max_loading), float(pur.purified_fraction),
                  by_k, float(pur.coverage), float(np.mean(net.b)), tuple(pur.node_effective_features.tolist()),
                  tuple(pur.node_weight.tolist()))
