"""Contrastive pre-training as an objective of the one training loop (:func:`numerics.training.fit`).

Batching. Many nets (seeds x variants) train at once as one runs tensor (variant fastest):
every net's loss depends on its own weights only, and Adam/SGD act elementwise, so each net
follows exactly the trajectory it would follow alone (bit for bit, tested). All variants of
one seed share its initial weights and its data stream (paired comparisons); each seed draws
init and data from its own generators and each net its attack's random starts from its own
generator (seeds from :func:`numerics.training.derive_seeds`), so no run depends on which
other runs train beside it. Each step draws ``cfg.batch`` positive pairs per seed (online;
in-batch negatives: every other pair's positive view), attacks the anchors of every attacked
variant at ``eps_t`` (:mod:`numerics.contrastive.attacks`), and takes one optimiser step on
``mean_i (positive term + negative term)`` of every net.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np
import torch
from torch import nn

from ..activations import ACTIVATIONS, b_for_dead_zone
from ..config import ModelConfig
from ..downstream import FrozenLayer
from ..networks import TwoLayerNet
from ..sparse_coding import SparseCodingModel
from ..training import LoopConfig, derive_seeds, fit
from ..validation import require_choice, require_int, require_real
from .attacks import VARIANT_TERMS, VARIANTS, attack_terms
from .losses import LOSSES, NORM_FLOOR, NORMALISATIONS, THRESHOLD_RULES, positive_term, representation, terms, thresholds
from .views import AUGMENTATIONS, sample_pairs

_DATA_CHUNK = 64  # training steps of pairs drawn at once per seed


@dataclass(frozen=True)
class ContrastiveConfig(LoopConfig):
    """One contrastive training setting; validated on construction.

    The optimiser, attack-schedule and logging fields of :class:`numerics.training.LoopConfig`
    (validated there; here ``batch >= 2``, defaults steps 300, batch 64, pgd_steps 5,
    log_every 50, no progress bar), and: loss ("spectral" | "infonce" | "infonce_std"),
    temperature T (InfoNCE only), normalisation ("none" | "l2"), augmentation ("noise" |
    "dropout", with ``drop``), activation ("soft_threshold" | "relu"), threshold rule
    ("fixed" | "relative" | "shared" | "per_node") and ``b >= 0`` (the dead zone's edge, its
    ratio to ``||W_j||``, or its initial value: :mod:`numerics.contrastive.losses`); width m,
    init_scale (rows of W start as ``init_scale * g / sqrt(d)``, ``g`` standard Gaussian, so
    ``||W_j|| ~ init_scale``).
    """

    steps: int = 300
    batch: int = 64
    pgd_steps: int = 5
    log_every: int = 50
    progress: bool = False
    loss: str = "spectral"
    temperature: float = 0.5
    normalisation: str = "none"
    augmentation: str = "noise"
    drop: float = 0.25
    activation: str = "soft_threshold"
    threshold: str = "relative"
    b: float = 0.5
    width: int = 32
    init_scale: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        s = object.__setattr__
        s(self, "batch", require_int("batch", self.batch, low=2))
        require_choice("loss", self.loss, LOSSES)
        s(self, "temperature", require_real("temperature", self.temperature, low=0.0, low_open=True))
        require_choice("normalisation", self.normalisation, NORMALISATIONS)
        require_choice("augmentation", self.augmentation, AUGMENTATIONS)
        s(self, "drop", require_real("drop", self.drop, low=0.0, high=1.0, high_open=True))
        require_choice("activation", self.activation, ACTIVATIONS)
        require_choice("threshold", self.threshold, THRESHOLD_RULES)
        s(self, "b", require_real("b", self.b, low=0.0))
        s(self, "width", require_int("width", self.width, low=1))
        s(self, "init_scale", require_real("init_scale", self.init_scale, low=0.0, low_open=True))

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ContrastiveRun:
    """Trained representations of seeds x variants.

    W (S, V, m, d) and b (S, V, m) as float64 arrays (b: the activation parameter in force at
    the end, :mod:`numerics.activations`' convention); seeds: the per-seed derived seeds;
    history: per logged step (``step``), the clean loss of every net on that step's batch
    (``clean_loss``, (steps, S, V)) and the unweighted mean max-loading of its nodes
    (``purity``); wall_time in seconds.
    """

    config: ContrastiveConfig
    variants: tuple[str, ...]
    seeds: tuple[dict, ...]
    W: np.ndarray
    b: np.ndarray
    history: dict = field(default_factory=dict)
    wall_time: float = 0.0

    @property
    def tau(self) -> np.ndarray:
        """The dead zones' edges (S, V, m): ``b`` (soft threshold) or ``-b`` (ReLU)."""
        return b_for_dead_zone(self.config.activation, self.b)

    def _index(self, v: int | str) -> int:
        return self.variants.index(v) if isinstance(v, str) else v

    def net(self, s: int, v: int | str) -> TwoLayerNet:
        """Seed s, variant v as a :class:`TwoLayerNet` with head 1 (the representation, summed)."""
        v = self._index(v)
        return TwoLayerNet(W=self.W[s, v], a=np.ones(self.W.shape[2]), b=self.b[s, v],
                           activation=self.config.activation, family="trained",
                           params={"contrastive": self.config.to_dict()})

    def frozen_layer(self, s: int = 0, v: int | str = 0, name: str = "contrastive") -> FrozenLayer:
        """The frozen representation of net (s, v) as a :class:`~numerics.downstream.FrozenLayer` (W copied).

        Its per-node parameter is the one the run's rule gives the final weights, in float64:
        ``b_j = cfg.b ||W_j||`` (ReLU: ``-cfg.b ||W_j||``) for the relative rule (the run's
        stored ``b`` is the same number computed in the training dtype), the stored ``b`` for
        the fixed and trained rules.
        """
        j = self._index(v)
        cfg = self.config
        W = self.W[s, j].copy()
        if cfg.threshold == "relative":
            b = b_for_dead_zone(cfg.activation, cfg.b * np.linalg.norm(W, axis=1))
        else:
            b = self.b[s, j].copy()
        return FrozenLayer(W, b, cfg.activation, name,
                           {"variant": self.variants[j], "seeds": self.seeds[s], "threshold_rule": cfg.threshold,
                            "b": cfg.b, "max_abs_b_minus_run_tau": float(np.max(np.abs(b - self.b[s, j])))})


def contrastive_frozen_layer(run: ContrastiveRun, s: int = 0, v: int | str = 0,
                             name: str = "contrastive") -> FrozenLayer:
    """:meth:`ContrastiveRun.frozen_layer` as a function (the form theorems/downstream_checks.py uses)."""
    return run.frozen_layer(s, v, name)


def _init_weights(d: int, cfg: ContrastiveConfig, init_seed: int, dtype) -> torch.Tensor:
    g = torch.Generator().manual_seed(init_seed)
    return torch.randn((cfg.width, d), generator=g, dtype=dtype) * (cfg.init_scale / math.sqrt(d))


class ContrastiveObjective:
    """``mean_i (positive term + negative term)`` per net of seeds x variants (module docstring): an objective of ``fit``."""

    def __init__(self, model: SparseCodingModel, cfg: ContrastiveConfig, seeds: Sequence[int], variants: Sequence[str]):
        dtype = cfg.torch_dtype
        self.model, self.cfg, self.variants = model, cfg, tuple(variants)
        S, V, d, m = len(seeds), len(self.variants), model.d, cfg.width
        self.S, self.V, self.runs = S, V, S * V
        self.derived = tuple(derive_seeds(s) for s in seeds)
        W0 = torch.stack([_init_weights(d, cfg, ds["init"], dtype) for ds in self.derived])  # (S, m, d)
        self.W = nn.Parameter(W0[:, None].expand(S, V, m, d).reshape(S * V, m, d).clone())
        self.trained_b = cfg.threshold in ("shared", "per_node")
        shape_b = (S * V, 1) if cfg.threshold == "shared" else (S * V, m)
        b_param = torch.full(shape_b, b_for_dead_zone(cfg.activation, cfg.b), dtype=dtype)
        self.b_param = nn.Parameter(b_param) if self.trained_b else b_param
        self.gens = [torch.Generator().manual_seed(ds["data"]) for ds in self.derived]
        # one attack stream per net, seeded by its seed: a net's starts do not depend on its neighbours
        self.attack_gens = [torch.Generator().manual_seed(ds["attack"]) for ds in self.derived for _ in self.variants]
        which = torch.tensor([VARIANT_TERMS[v] for v in self.variants] * S)  # (G, 2), variant fastest
        self.ap, self.an = which[:, 0], which[:, 1]
        self.attacked = bool((self.ap | self.an).any())
        self.valid = ~torch.eye(cfg.batch, dtype=torch.bool)  # in-batch negatives: every other pair's positive
        self.M = torch.as_tensor(model.M, dtype=dtype)
        self._chunk = None

    def parameters(self):
        return [self.W] + ([self.b_param] if self.trained_b else [])

    def after_step(self) -> None:
        if self.trained_b and self.cfg.activation == "soft_threshold":
            with torch.no_grad():
                self.b_param.clamp_(min=0.0)

    def thresholds(self) -> torch.Tensor:
        return thresholds(self.W, self.b_param, self.cfg.threshold, self.cfg.b, self.cfg.activation)

    def _pairs(self, step: int):
        cfg, (S, V), n, d = self.cfg, (self.S, self.V), self.cfg.batch, self.model.d
        c = step % _DATA_CHUNK
        if c == 0:  # draw the next _DATA_CHUNK steps of pairs per seed at once (fewer, larger draws)
            k = min(_DATA_CHUNK, cfg.steps - step)
            drawn = [sample_pairs(self.model, k * n, g, augmentation=cfg.augmentation, drop=cfg.drop,
                                  dtype=cfg.torch_dtype) for g in self.gens]
            self._chunk = [torch.stack([p[i].reshape(k, n, d) for p in drawn], dim=1) for i in (0, 1)]  # (k, S, n, d)
        return (v[c][:, None].expand(S, V, n, d).reshape(S * V, n, d) for v in self._chunk)

    def step_loss(self, step: int, log: bool):
        cfg = self.cfg
        x, xp = self._pairs(step)
        kw = dict(activation=cfg.activation, normalisation=cfg.normalisation)
        b = self.thresholds()
        h_pos = representation(xp, self.W, b, **kw)
        h = representation(x, self.W, b, **kw)
        eps_t = cfg.eps_at(step)
        if eps_t > 0 and self.attacked:
            delta = attack_terms(x, self.W, b, h_pos, h_pos, self.ap, self.an, eps_t, norm=cfg.norm,
                                 steps=cfg.pgd_steps, restarts=cfg.pgd_restarts, step_size=cfg.step_size_at(eps_t),
                                 seed=self.attack_gens, loss=cfg.loss, temperature=cfg.temperature,
                                 exclude_diagonal=True, **kw)
            h_adv = representation(x + delta, self.W, b, **kw)
            # each term sees the attacked anchor only in the variants that attack it
            h_p = torch.where(self.ap[:, None, None], h_adv, h)
            pos = positive_term((h_p * h_pos).sum(-1), cfg.loss, cfg.temperature)
            h_n = torch.where(self.an[:, None, None], h_adv, h)
            _, neg, _ = terms(h_n, h_pos, h_pos, cfg.loss, cfg.temperature, self.valid)
        else:
            pos, neg, _ = terms(h, h_pos, h_pos, cfg.loss, cfg.temperature, self.valid)
        per_net = (pos + neg).mean(-1)  # (G,)
        if not log:
            return per_net, None
        with torch.no_grad():
            cp, cn, _ = terms(h, h_pos, h_pos, cfg.loss, cfg.temperature, self.valid)
            C = (self.W @ self.M).abs() / self.W.norm(dim=-1, keepdim=True).clamp_min(NORM_FLOOR)  # |loadings|
            record = {"clean_loss": (cp + cn).mean(-1), "purity": C.amax(-1).mean(-1)}
        return per_net, record


def train_contrastive(model: ModelConfig | SparseCodingModel, cfg: ContrastiveConfig, seeds: Sequence[int],
                      variants: Sequence[str] = VARIANTS) -> ContrastiveRun:
    """Train one representation per (seed, variant), all batched (module docstring)."""
    if isinstance(model, ModelConfig):
        model = SparseCodingModel(model)
    if not isinstance(model, SparseCodingModel):
        raise ValueError(f"model must be a ModelConfig or a SparseCodingModel, got {type(model).__name__}")
    if not isinstance(cfg, ContrastiveConfig):
        raise ValueError(f"cfg must be a ContrastiveConfig, got {type(cfg).__name__}")
    seeds = [require_int("seeds", s, low=0) for s in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    variants = tuple(require_choice("variants", v, VARIANTS) for v in variants)
    if not variants or len(set(variants)) != len(variants):
        raise ValueError(f"variants must be distinct names from {VARIANTS}, got {variants}")
    obj = ContrastiveObjective(model, cfg, seeds, variants)
    res = fit(obj, cfg, desc="contrastive")
    S, V, m, d = obj.S, obj.V, cfg.width, model.d
    history = {"step": res.log_steps, **{k: v.reshape(-1, S, V) for k, v in res.logs.items()}}
    if not all(np.all(np.isfinite(v)) for v in history.values()) or not bool(torch.isfinite(obj.W).all()):
        raise FloatingPointError(f"contrastive training diverged (non-finite loss or weights) for {cfg}")
    with torch.no_grad():
        b = obj.thresholds()
    return ContrastiveRun(config=cfg, variants=variants, seeds=obj.derived,
                          W=obj.W.detach().double().reshape(S, V, m, d).numpy().copy(),
                          b=b.detach().double().reshape(S, V, m).numpy().copy(), history=history,
                          wall_time=res.wall_time)
