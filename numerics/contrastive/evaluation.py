"""Evaluation of a frozen representation: purity, a clean probe's robust error, and term sensitivity.

:func:`evaluate_representation` fits the clean linear probe with the downstream head fit of the
one training loop (:func:`numerics.downstream.fit_head_on_data`: logistic loss, full-batch Adam,
L2 penalty through ``weight_decay``) and attacks the composite with PGD
(:func:`numerics.attacks.pgd.pgd_min_margin`, defaults :data:`~numerics.attacks.pgd.PGD_DEFAULTS`).
:func:`term_changes` measures how much a worst-case (PGD) anchor perturbation raises each term.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from ..attacks.pgd import PGD_DEFAULTS, pgd_min_margin
from ..downstream import FrozenLayer, fit_heads_on_data
from ..estimates import Estimate, mean
from ..networks import TwoLayerNet
from ..purity import network_purity
from ..sparse_coding import SparseCodingModel, labels
from ..training import TrainConfig
from ..validation import require_array, require_int, require_real
from .attacks import attack_terms
from .losses import contrastive_terms, representation
from .views import make_views, sample_pairs


@dataclass(frozen=True)
class RepresentationEval:
    """Purity, coverage and the clean probe's errors of one frozen representation.

    purity: activity-weighted mean max-loading ``sum_j w_j pi_j``; purified_fraction:
    weight share of nodes with ``pi_j >= tau``; coverage: fraction of features that are the
    main feature of a tau-purified node; n_eff: weighted mean effective number of features;
    clean_error, robust_error: of ``x -> <v, h(x)> + c`` on the test sample (ties y = 0 count
    as errors; robust_error is PGD's, a lower bound on the true robust error).
    """

    purity: float
    purified_fraction: float
    coverage: float
    n_eff: float
    clean_error: float
    robust_error: float
    robust_indicator: np.ndarray = field(repr=False, compare=False, default=None)

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "robust_indicator"}


def probe_config(n: int, *, ridge: float = 1e-3, steps: int = 400, lr: float = 0.05, seed: int = 0) -> TrainConfig:
    """The clean probe's fit: full batch of the ``n`` probe samples, Adam, L2 penalty ``ridge`` (weight decay), float64."""
    return TrainConfig(steps=steps, batch=n, lr=lr, weight_decay=ridge, seed=seed, progress=False, log_every=steps,
                       dtype="float64")


def evaluate_representation(net: TwoLayerNet, model: SparseCodingModel, wstar, *, eps: float, norm: str = "l2",
                            n_probe: int = 2000, n_test: int = 2000, tau: float = 0.9, seed: int = 0,
                            pgd_steps: int = PGD_DEFAULTS.steps, pgd_restarts: int = PGD_DEFAULTS.restarts,
                            ridge: float = 1e-3, probe_steps: int = 400) -> RepresentationEval:
    """Purity of ``net``'s hidden layer and the robust error of a clean linear probe on it.

    The probe ``(v, c)`` is fit on ``h(x)`` of ``n_probe`` clean samples with
    ``y = sign(<w*, z>)`` (ties weighted 0; :func:`probe_config`); the composite
    ``<v, h(x)> + c`` is then attacked at ``eps`` on ``n_test`` fresh samples (PGD, zero
    start + random restarts). Purity is activity-weighted on the probe sample
    (:func:`numerics.purity.network_purity`).
    """
    return evaluate_representations([net], model, wstar, eps=eps, norm=norm, n_probe=n_probe, n_test=n_test,
                                    tau=tau, seed=seed, pgd_steps=pgd_steps, pgd_restarts=pgd_restarts, ridge=ridge,
                                    probe_steps=probe_steps)[0]


def evaluate_representations(nets, model: SparseCodingModel, wstar, *, eps: float, norm: str = "l2",
                             n_probe: int = 2000, n_test: int = 2000, tau: float = 0.9, seed: int = 0,
                             pgd_steps: int = PGD_DEFAULTS.steps, pgd_restarts: int = PGD_DEFAULTS.restarts,
                             ridge: float = 1e-3, probe_steps: int = 400) -> list[RepresentationEval]:
    """:func:`evaluate_representation` of each net of ``nets`` (same shape and activation), on the same
    samples, with the probes fitted as one batched run (each bit for bit its fit alone)."""
    nets = list(nets)
    if not nets or not all(isinstance(net, TwoLayerNet) for net in nets):
        bad = next((type(n).__name__ for n in nets if not isinstance(n, TwoLayerNet)), "an empty list")
        raise ValueError(f"net must be a TwoLayerNet, got {bad}")
    w = require_array("wstar", wstar, shape=(model.d,))
    eps = require_real("eps", eps, low=0.0)
    seed = require_int("seed", seed, low=0)
    ridge = require_real("ridge", ridge, low=0.0)
    rng = np.random.default_rng(seed)
    train = model.sample(require_int("n_probe", n_probe, low=2), rng)
    test = model.sample(require_int("n_test", n_test, low=1), rng)
    cfg = probe_config(n_probe, ridge=ridge, steps=require_int("probe_steps", probe_steps, low=1), seed=seed)
    layers = [FrozenLayer(net.W, net.b, net.activation, "representation") for net in nets]
    probes = [fit.net for fit in fit_heads_on_data(layers, train.x, labels(train.z, w), cfg)]
    y_te = labels(test.z, w)
    out = []
    for net, probe in zip(nets, probes):
        pur = network_purity(net, model.M, x=train.x, weights="activity", tau=tau)
        clean = y_te * probe(test.x)
        robust = pgd_min_margin(probe, test.x, y_te, eps, norm, steps=pgd_steps, restarts=pgd_restarts,
                                seed=seed) if eps > 0 else clean
        out.append(RepresentationEval(purity=pur.mean_max_loading, purified_fraction=pur.purified_fraction,
                                      coverage=pur.coverage, n_eff=pur.mean_effective_features,
                                      clean_error=float(np.mean(clean <= 0)), robust_error=float(np.mean(robust <= 0)),
                                      robust_indicator=robust <= 0))
    return out


@dataclass(frozen=True)
class TermChanges:
    """Per-anchor clean and attacked values of the two terms for one net (float64 arrays, (n,)).

    The attacked value is PGD's: a lower bound on the worst case of each term.
    """

    pos_clean: np.ndarray
    pos_adv: np.ndarray
    neg_clean: np.ndarray
    neg_adv: np.ndarray

    @property
    def pos_change(self) -> np.ndarray:
        return self.pos_adv - self.pos_clean

    @property
    def neg_change(self) -> np.ndarray:
        return self.neg_adv - self.neg_clean

    def summary(self, level: float = 0.99) -> dict[str, Estimate]:
        return {"positive_change": mean(self.pos_change, level), "negative_change": mean(self.neg_change, level),
                "positive_clean": mean(self.pos_clean, level), "negative_clean": mean(self.neg_clean, level)}


def term_changes(net: TwoLayerNet, model: SparseCodingModel, eps: float, *, loss: str = "spectral",
                 temperature: float = 0.5, normalisation: str = "none", augmentation: str = "noise",
                 drop: float = 0.25, n: int = 1000, n_neg: int = 256, norm: str = "l2", steps: int = 30,
                 restarts: int = 3, seed: int = 0) -> TermChanges:
    """How much a worst-case (PGD) anchor perturbation raises each term of ``net``'s representation.

    ``n`` anchors with their positive views and an independent pool of ``n_neg`` negatives
    (views of independent latents), all drawn from ``seed``: the same seed gives the same
    sample for every net (common random numbers). Each term is attacked on its own (PGD
    with a zero start and random restarts, ``steps`` steps each) and the other is left clean.
    The zero start is an iterate, so no attacked value lies below its clean value.
    """
    if not isinstance(net, TwoLayerNet):
        raise ValueError(f"net must be a TwoLayerNet, got {type(net).__name__}")
    if net.d != model.d:
        raise ValueError(f"net must have input dimension d = {model.d}, got {net.d}")
    eps = require_real("eps", eps, low=0.0)
    seed = require_int("seed", seed, low=0)
    dt = torch.float64
    g = torch.Generator().manual_seed(seed)
    x, xp, _ = sample_pairs(model, require_int("n", n, low=1), g, augmentation=augmentation, drop=drop, dtype=dt)
    _, z_neg = model.sample_torch(require_int("n_neg", n_neg, low=1), g, dtype=dt)
    x_neg = make_views(model, z_neg, g, augmentation=augmentation, drop=drop)
    W = torch.as_tensor(net.W, dtype=dt)[None]
    b = torch.as_tensor(net.b, dtype=dt)[None]
    kw = dict(activation=net.activation, normalisation=normalisation)
    h, hp, hn = (representation(v[None], W, b, **kw) for v in (x, xp, x_neg))
    tk = dict(loss=loss, temperature=temperature)
    pos0, neg0 = contrastive_terms(h, hp, hn, **tk)
    out = {}
    for name, (ap, an) in (("pos", (True, False)), ("neg", (False, True))):
        delta = attack_terms(x[None], W, b, hp, hn, torch.tensor([ap]), torch.tensor([an]), eps, norm=norm,
                             steps=steps, restarts=restarts, seed=seed, zero_start=True, **kw, **tk)
        pa, na = contrastive_terms(representation(x[None] + delta, W, b, **kw), hp, hn, **tk)
        out[name] = (pa if ap else na)[0]
    to_np = lambda t: t.detach().double().numpy().copy()  # noqa: E731
    return TermChanges(pos_clean=to_np(pos0[0]), pos_adv=to_np(out["pos"]), neg_clean=to_np(neg0[0]),
                       neg_adv=to_np(out["neg"]))
