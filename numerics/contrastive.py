"""Contrastive pre-training on the sparse-coding model, clean or with an attack on chosen loss terms.

Pairs (MODEL.md section 1). A *positive pair* is two views of one latent ``z``:

- ``"noise"``: ``x = M z + xi``, ``x+ = M z + xi+`` with independent ``xi, xi+ ~ N(0, sigma^2/d I)``
  (the model's sigma; with ``sigma = 0`` the two views coincide);
- ``"dropout"``: each view first masks every coordinate of ``z`` independently with
  probability ``drop`` (feature dropout: an active feature is kept with probability
  ``1 - drop``), then adds its own noise.

*Negatives* of an anchor are views of independent latents: in training the other pairs'
positive views in the batch (in-batch negatives), in the analysis an independent pool.

Representation (MODEL.md section 2): the hidden layer ``h(x) = act(W x; tau)`` of m nodes,
optionally normalised to unit length (``normalisation="l2"``, cosine similarities). The
threshold ``tau_j >= 0`` gives ``act = soft threshold at tau_j`` (symmetric) or
``act(t) = ReLU(t - tau_j)`` (ReLU with intercept ``-tau_j``). Threshold rules: ``"fixed"``
(``tau_j = b``), ``"relative"`` (``tau_j = b ||W_j||``, recomputed every step and not
differentiated: the dead zone is a fixed angle whatever scale the loss gives W),
``"shared"`` / ``"per_node"`` (trained from ``b``; a soft threshold is projected back onto
``tau >= 0`` after every step).

Losses, per anchor i with positive view i and negatives j (``s = <h, h'>``):

- ``"spectral"`` (HaoChen et al. 2021): positive term ``-2 s(x_i, x_i+)``, negative term
  ``mean_j s(x_i, x_j-)^2``;
- ``"infonce"``: InfoNCE in its *decoupled* form (Yeh et al. 2022): positive term
  ``-s(x_i, x_i+)/T``, negative term ``log mean_j exp(s(x_i, x_j-)/T)``. The positive pair
  is left out of the partition so that the loss splits exactly into a positive-pair and a
  negative-pair term;
- ``"infonce_std"``: standard InfoNCE, negative term ``log mean exp(s/T)`` over the
  positive *and* the negatives (the positive pair then also sits in the negative term).

``log mean`` instead of ``log sum`` shifts the loss by the constant ``log K``; it makes values
comparable across numbers of negatives and changes no gradient.

Attacks on terms. An attacked variant replaces the anchor ``x_i`` by ``x_i + delta_i``
(``||delta_i|| <= eps``) in the attacked term(s) only; positives and negatives stay
clean. ``delta`` maximises the attacked term(s): :func:`attack_terms` is the PGD of
:func:`numerics.attacks.pgd.pgd_attack` (same starts, steps, projection and best-iterate
rule) with the term's gradient in closed form, batched over nets (``pgd_attack`` through
autograd on :class:`TermScore` is the reference it is tested against; about 2x slower here).
Variants: ``"both"`` (delta maximises the whole loss and enters both terms),
``"negative"``, ``"positive"``, ``"none"`` (clean training).

Batching. Many nets (seeds x variants) train at once as one batched tensor: every net's loss
depends on its own weights only, and Adam/SGD act elementwise, so each net follows exactly
the trajectory it would follow alone. All variants of one seed share its initial weights
and its data stream (paired comparisons); each seed draws init and data from its own
generators (seeds from :func:`numerics.training.derive_seeds`), so a seed's clean run does
not depend on which other seeds train beside it. Attack random starts are drawn for the
whole batch at each step (reproducible for a given set of seeds and variants).
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np
import torch
from torch import nn

from .attacks.pgd import pgd_min_margin
from .config import ModelConfig
from .estimates import Estimate, mean
from .networks import TwoLayerNet
from .purity import network_purity
from .sparse_coding import SparseCodingModel, labels
from .training import DTYPES, NORMS, OPTIMISERS, derive_seeds
from .validation import require_array, require_choice, require_int, require_real

LOSSES = ("spectral", "infonce", "infonce_std")
AUGMENTATIONS = ("noise", "dropout")
NORMALISATIONS = ("none", "l2")
THRESHOLD_RULES = ("fixed", "relative", "shared", "per_node")
ACTIVATIONS = ("soft_threshold", "relu")
VARIANTS = ("both", "negative", "positive", "none")  # the (a), (b), (c), (d)
# Which terms the attacked anchor enters: (positive term, negative term).
VARIANT_TERMS = {"both": (True, True), "negative": (False, True), "positive": (True, False), "none": (False, False)}
_NORM_FLOOR = 1e-8  # a dead representation (h = 0) stays 0 under l2 normalisation
_DATA_CHUNK = 64  # training steps of pairs drawn at once per seed


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class ContrastiveConfig:
    """One contrastive training setting; validated on construction.

    loss ("spectral" | "infonce" | "infonce_std"), temperature T (InfoNCE only),
    normalisation ("none" | "l2"), augmentation ("noise" | "dropout", with ``drop``),
    activation ("soft_threshold" | "relu"), threshold rule ("fixed" | "relative" |
    "shared" | "per_node") and ``b`` (its value, its ratio to ``||W_j||``, or its initial
    value); width m, init_scale (rows of W start as ``init_scale * g / sqrt(d)``, ``g``
    standard Gaussian, so ``||W_j|| ~ init_scale``); steps, batch, lr, optimiser
    ("adam" | "sgd", momentum), weight_decay; eps, norm ("l2" | "linf"), pgd_steps,
    pgd_restarts, pgd_step_size (None: ``2.5 eps_t / pgd_steps``), eps_ramp (fraction of
    the steps over which eps grows linearly from 0); dtype; log_every.
    """

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
    steps: int = 300
    batch: int = 64
    lr: float = 0.01
    optimiser: str = "adam"
    momentum: float = 0.0
    weight_decay: float = 0.0
    eps: float = 0.0
    norm: str = "l2"
    pgd_steps: int = 5
    pgd_restarts: int = 1
    pgd_step_size: float | None = None
    eps_ramp: float = 0.0
    dtype: str = "float32"
    log_every: int = 50

    def __post_init__(self) -> None:
        s = object.__setattr__
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
        s(self, "steps", require_int("steps", self.steps, low=1, high=10_000_000))
        s(self, "batch", require_int("batch", self.batch, low=2))
        s(self, "lr", require_real("lr", self.lr, low=0.0, low_open=True))
        require_choice("optimiser", self.optimiser, OPTIMISERS)
        s(self, "momentum", require_real("momentum", self.momentum, low=0.0, high=1.0, high_open=True))
        s(self, "weight_decay", require_real("weight_decay", self.weight_decay, low=0.0))
        s(self, "eps", require_real("eps", self.eps, low=0.0))
        require_choice("norm", self.norm, NORMS)
        s(self, "pgd_steps", require_int("pgd_steps", self.pgd_steps, low=1))
        s(self, "pgd_restarts", require_int("pgd_restarts", self.pgd_restarts, low=1))
        if self.pgd_step_size is not None:
            s(self, "pgd_step_size", require_real("pgd_step_size", self.pgd_step_size, low=0.0, low_open=True))
        s(self, "eps_ramp", require_real("eps_ramp", self.eps_ramp, low=0.0, high=1.0))
        require_choice("dtype", self.dtype, tuple(DTYPES))
        s(self, "log_every", require_int("log_every", self.log_every, low=1))

    def eps_at(self, step: int) -> float:
        """Curriculum radius at ``step`` (0-based): ``eps min(1, step / (eps_ramp steps))``."""
        ramp = self.eps_ramp * self.steps
        if self.eps == 0.0 or ramp <= 0.0:
            return self.eps
        return self.eps * min(1.0, step / ramp)

    def to_dict(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------- pairs


def make_views(model: SparseCodingModel, z: torch.Tensor, generator: torch.Generator, *,
               augmentation: str = "noise", drop: float = 0.25) -> torch.Tensor:
    """One view of each latent row of ``z`` (..., d): ``M (mask * z) + xi`` (mask = 1 for ``"noise"``)."""
    require_choice("augmentation", augmentation, AUGMENTATIONS)
    drop = require_real("drop", drop, low=0.0, high=1.0, high_open=True)
    if not isinstance(model, SparseCodingModel):
        raise ValueError(f"model must be a SparseCodingModel, got {type(model).__name__}")
    if z.shape[-1] != model.d:
        raise ValueError(f"z must have {model.d} columns, got shape {tuple(z.shape)}")
    if augmentation == "dropout" and drop > 0:
        keep = torch.rand(z.shape, generator=generator, dtype=z.dtype) >= drop
        z = z * keep
    x = z @ torch.as_tensor(model.M, dtype=z.dtype).T
    sigma = model.config.sigma
    if sigma > 0:
        x = x + torch.randn(z.shape, generator=generator, dtype=z.dtype) * (sigma / math.sqrt(model.d))
    return x


def sample_pairs(model: SparseCodingModel, n: int, generator: torch.Generator, *, augmentation: str = "noise",
                 drop: float = 0.25, dtype=torch.float32) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``n`` positive pairs ``(x, x+, z)`` drawn with ``generator`` (two independent views of each z)."""
    n = require_int("n", n, low=1)
    _, z = model.sample_torch(n, generator, dtype=dtype)
    x = make_views(model, z, generator, augmentation=augmentation, drop=drop)
    x_pos = make_views(model, z, generator, augmentation=augmentation, drop=drop)
    return x, x_pos, z


# --------------------------------------------------------------------------- representation and terms


def thresholds(W: torch.Tensor, b_param: torch.Tensor, rule: str, b: float) -> torch.Tensor:
    """Per-node threshold ``tau`` (..., m) of weights ``W`` (..., m, d) under ``rule``."""
    require_choice("threshold", rule, THRESHOLD_RULES)
    if rule == "relative":
        return b * W.detach().norm(dim=-1)  # a schedule, not a parameter: no gradient through it
    return b_param.expand(W.shape[:-1])


def _activate(t: torch.Tensor, tau: torch.Tensor, activation: str) -> torch.Tensor:
    """Soft threshold ``t - clip(t, -tau, tau)`` (= ReLU(t - tau) - ReLU(-t - tau)) or ``ReLU(t - tau)``."""
    tau = tau.unsqueeze(-2)
    if activation == "soft_threshold":
        return t - torch.maximum(torch.minimum(t, tau), -tau)
    return torch.relu(t - tau)


def representation(x: torch.Tensor, W: torch.Tensor, tau: torch.Tensor, activation: str,
                   normalisation: str = "none") -> torch.Tensor:
    """``h(x)`` (..., n, m) for inputs x (..., n, d), weights W (..., m, d), thresholds tau (..., m)."""
    require_choice("activation", activation, ACTIVATIONS)
    require_choice("normalisation", normalisation, NORMALISATIONS)
    h = _activate(x @ W.transpose(-1, -2), tau, activation)
    if normalisation == "l2":
        h = h / h.norm(dim=-1, keepdim=True).clamp_min(_NORM_FLOOR)
    return h


def contrastive_terms(h: torch.Tensor, h_pos: torch.Tensor, h_neg: torch.Tensor, loss: str,
                      temperature: float = 0.5, *, exclude_diagonal: bool = False
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-anchor positive-pair and negative-pair terms, each (..., n).

    h, h_pos: (..., n, m) anchors and their positive views; h_neg: (..., P, m) the
    negative pool; exclude_diagonal: pool entry i is anchor i's own positive (in-batch
    negatives, P = n) and is left out. Definitions in the module docstring.
    """
    require_choice("loss", loss, LOSSES)
    temperature = require_real("temperature", temperature, low=0.0, low_open=True)
    n, P = h.shape[-2], h_neg.shape[-2]
    if exclude_diagonal and P != n:
        raise ValueError(f"exclude_diagonal needs a pool of the anchors' positives (P = n = {n}), got P = {P}")
    valid = ~torch.eye(n, dtype=torch.bool, device=h.device) if exclude_diagonal else None
    if (P - 1 if exclude_diagonal else P) < 1:
        raise ValueError("h_neg must hold at least one negative per anchor")
    pos, neg, _ = _terms(h, h_pos, h_neg, loss, temperature, valid)
    return pos, neg


def _pos_term(s_pos, loss, temperature):
    return -2.0 * s_pos if loss == "spectral" else -s_pos / temperature


def _terms(h, h_pos, h_neg, loss, temperature, valid):
    """``(pos, neg, aux)``; aux holds what the closed-form gradient needs (masked S and K, or the logits)."""
    s_pos = (h * h_pos).sum(-1)
    S = h @ h_neg.transpose(-1, -2)  # (..., n, P)
    if loss == "spectral":
        K = S.shape[-1] - (0 if valid is None else 1)
        Sv = S if valid is None else S * valid
        return _pos_term(s_pos, loss, temperature), Sv.square().sum(-1) / K, (Sv, K)
    logits = S / temperature
    if valid is not None:
        logits = logits.masked_fill(~valid, float("-inf"))
    if loss == "infonce_std":
        logits = torch.cat([(s_pos / temperature).unsqueeze(-1), logits], dim=-1)
    K = logits.shape[-1] - (0 if valid is None else 1)
    return _pos_term(s_pos, loss, temperature), torch.logsumexp(logits, dim=-1) - math.log(K), logits


class TermScore(nn.Module):
    """Score ``-(wp * positive term + wn * negative term)`` per anchor row: the module form of the attack objective.

    Rows are (restarts x nets x anchors) flattened; each net's positives and negative pool
    are fixed context, so anchor i's score depends on its own perturbation only. With
    ``y = 1`` :func:`numerics.attacks.pgd.pgd_attack` (autograd) attacks it; it is the
    reference that the closed-form :func:`attack_terms` is tested against.
    """

    def __init__(self, W, tau, h_pos, h_neg, wp, wn, activation="soft_threshold", normalisation="none",
                 loss="spectral", temperature=0.5, exclude_diagonal=False):
        super().__init__()
        self.W, self.tau, self.h_pos, self.h_neg = W, tau, h_pos, h_neg
        self.wp = torch.as_tensor(wp, dtype=W.dtype).reshape(-1, 1)
        self.wn = torch.as_tensor(wn, dtype=W.dtype).reshape(-1, 1)
        self.activation, self.normalisation, self.loss = activation, normalisation, loss
        self.temperature, self.exclude_diagonal = temperature, exclude_diagonal

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        G, n, d = self.h_pos.shape[0], self.h_pos.shape[1], self.W.shape[-1]
        xr = x.reshape(-1, G, n, d)
        h = representation(xr, self.W, self.tau, self.activation, self.normalisation)
        pos, neg = contrastive_terms(h, self.h_pos, self.h_neg, self.loss, self.temperature,
                                     exclude_diagonal=self.exclude_diagonal)
        return -(self.wp * pos + self.wn * neg).reshape(-1)


def _objective_and_grad(x, W, tau, h_pos, h_neg, wp, wn, activation, normalisation, loss, temperature, valid, grad):
    """Attack objective ``wp * pos + wn * neg`` per anchor (..., G, n) and its gradient in x (closed form).

    With ``t = W x``, ``u = act(t)``, ``h = u`` or ``u / ||u||``: ``d pos/dh`` is ``-2 h+``
    (spectral) or ``-h+/T``; ``d neg/dh`` is ``(2/K) sum_j S_ij h_j`` (spectral) or the
    softmax-weighted mean of the pool over T (InfoNCE); then back through the
    normalisation and ``act' in {0, 1}`` to ``x``.
    """
    u = _activate(x @ W.transpose(-1, -2), tau, activation)
    if normalisation == "l2":
        r = u.norm(dim=-1, keepdim=True).clamp_min(_NORM_FLOOR)
        h = u / r
    else:
        h = u
    pos, neg, aux = _terms(h, h_pos, h_neg, loss, temperature, valid)
    wp_, wn_ = wp[:, None], wn[:, None]
    obj = wp_ * pos + wn_ * neg
    if not grad:
        return obj, None
    if loss == "spectral":
        Sv, K = aux
        g_h = wp_[..., None] * (-2.0 * h_pos) + wn_[..., None] * ((2.0 / K) * (Sv @ h_neg))
    else:
        pi = torch.softmax(aux, dim=-1)
        if loss == "infonce_std":
            pool = pi[..., :1] * h_pos + pi[..., 1:] @ h_neg
        else:
            pool = pi @ h_neg
        g_h = wp_[..., None] * (-h_pos / temperature) + wn_[..., None] * (pool / temperature)
    if normalisation == "l2":
        g_u = (g_h - h * (h * g_h).sum(-1, keepdim=True)) / r
    else:
        g_u = g_h
    g_u = torch.where(u != 0, g_u, torch.zeros((), dtype=x.dtype))  # act' = 1 exactly where u != 0
    return obj, g_u @ W


def attack_terms(x: torch.Tensor, W: torch.Tensor, tau: torch.Tensor, h_pos: torch.Tensor, h_neg: torch.Tensor,
                 attack_positive, attack_negative, eps: float, *, activation: str = "soft_threshold",
                 normalisation: str = "none", loss: str = "spectral", temperature: float = 0.5,
                 exclude_diagonal: bool = False, norm: str = "l2", steps: int = 10, restarts: int = 1,
                 step_size: float | None = None, seed: int | torch.Generator = 0,
                 zero_start: bool = False) -> torch.Tensor:
    """PGD perturbation of the anchors (G, n, d) that maximises the selected terms of each of G nets.

    W (G, m, d), tau (G, m): the nets (constants); h_pos (G, n, m), h_neg (G, P, m): their
    positives' and negative pool's representations; attack_positive, attack_negative (G,)
    booleans: which terms net g's attacker maximises (their sum; a net with neither gets
    ``delta = 0``). Gradients in closed form (see :func:`_objective_and_grad`), otherwise
    the algorithm of :func:`numerics.attacks.pgd.pgd_attack`: random start in the ball
    (restart 0 at 0 with ``zero_start``), ``steps`` steps of size ``step_size`` (default
    ``2.5 eps / steps``) along the normalised gradient (l2) or its sign (l_inf), projection,
    and the best iterate over steps and restarts (start included) per anchor.
    Returns delta (G, n, d) with ``||delta_i||_norm <= eps``.
    """
    if x.ndim != 3 or W.ndim != 3 or x.shape[0] != W.shape[0] or x.shape[2] != W.shape[2]:
        raise ValueError(f"x must be (G, n, d) matching W (G, m, d), got {tuple(x.shape)} and {tuple(W.shape)}")
    G, n, d = x.shape
    eps = require_real("eps", eps, low=0.0)
    require_choice("norm", norm, NORMS)
    require_choice("loss", loss, LOSSES)
    require_choice("activation", activation, ACTIVATIONS)
    require_choice("normalisation", normalisation, NORMALISATIONS)
    steps = require_int("steps", steps, low=0)
    restarts = require_int("restarts", restarts, low=1)
    alpha = 2.5 * eps / max(steps, 1) if step_size is None else require_real("step_size", step_size, low=0.0,
                                                                              low_open=True)
    gen = seed if isinstance(seed, torch.Generator) else torch.Generator().manual_seed(require_int("seed", seed, low=0))
    ap = torch.as_tensor(attack_positive, dtype=torch.bool).reshape(G)
    an = torch.as_tensor(attack_negative, dtype=torch.bool).reshape(G)
    active = (ap | an)[:, None, None]
    if eps == 0 or not bool(active.any()):
        return torch.zeros_like(x)
    x, W, tau, h_pos, h_neg = (v.detach() for v in (x, W, tau, h_pos, h_neg))
    valid = None
    if exclude_diagonal:
        if h_neg.shape[-2] != n:
            raise ValueError(f"exclude_diagonal needs a pool of the anchors' positives (P = n = {n})")
        valid = ~torch.eye(n, dtype=torch.bool)
    args = (W, tau, h_pos, h_neg, ap.to(x.dtype), an.to(x.dtype), activation, normalisation, loss, temperature, valid)
    best = torch.full((G, n), -float("inf"), dtype=x.dtype)
    best_delta = torch.zeros_like(x)
    tiny = torch.finfo(x.dtype).tiny
    for r in range(restarts):
        if zero_start and r == 0:
            D = torch.zeros_like(x)
        elif norm == "linf":
            D = (2.0 * torch.rand(x.shape, generator=gen, dtype=x.dtype) - 1.0) * eps
        else:  # uniform in the l2 ball: Gaussian direction, radius eps U^(1/d)
            g = torch.randn(x.shape, generator=gen, dtype=x.dtype)
            rad = eps * torch.rand((G, n, 1), generator=gen, dtype=x.dtype) ** (1.0 / d)
            D = g * (rad / g.norm(dim=-1, keepdim=True).clamp_min(tiny))
        for k in range(steps + 1):
            obj, grad = _objective_and_grad(x + D, *args, grad=k < steps)
            better = obj > best  # strict: ties keep the earlier iterate
            best = torch.where(better, obj, best)
            best_delta = torch.where(better[..., None], D, best_delta)
            if k < steps:
                step = grad.sign() if norm == "linf" else grad / grad.norm(dim=-1, keepdim=True).clamp_min(tiny)
                D = D + alpha * step
                if norm == "linf":
                    D = D.clamp(-eps, eps)
                else:
                    nrm = D.norm(dim=-1, keepdim=True)
                    D = D * torch.where(nrm > eps, eps / nrm.clamp_min(tiny), torch.ones_like(nrm))
    return torch.where(active, best_delta, torch.zeros_like(best_delta))


# --------------------------------------------------------------------------- training


@dataclass(frozen=True)
class ContrastiveRun:
    """Trained representations of seeds x variants.

    W (S, V, m, d) and tau (S, V, m) as float64 arrays (tau: the threshold in force at the
    end); seeds: the per-seed derived seeds; history: per logged step (``step``), the clean
    loss of every net on that step's batch (``clean_loss``, (steps, S, V)) and the
    unweighted mean max-loading of its nodes (``purity``); wall_time in seconds.
    """

    config: ContrastiveConfig
    variants: tuple[str, ...]
    seeds: tuple[dict, ...]
    W: np.ndarray
    tau: np.ndarray
    history: dict = field(default_factory=dict)
    wall_time: float = 0.0

    def net(self, s: int, v: int | str) -> TwoLayerNet:
        """Seed s, variant v as a :class:`TwoLayerNet` with head 1 (the representation, summed)."""
        v = self.variants.index(v) if isinstance(v, str) else v
        tau = self.tau[s, v]
        b = tau if self.config.activation == "soft_threshold" else -tau
        return TwoLayerNet(W=self.W[s, v], a=np.ones(self.W.shape[2]), b=b, activation=self.config.activation,
                           family="trained", params={"contrastive": self.config.to_dict()})


def _init_weights(d: int, cfg: ContrastiveConfig, init_seed: int, dtype) -> torch.Tensor:
    g = torch.Generator().manual_seed(init_seed)
    return torch.randn((cfg.width, d), generator=g, dtype=dtype) * (cfg.init_scale / math.sqrt(d))


def _optimiser(params, cfg: ContrastiveConfig) -> torch.optim.Optimizer:
    if cfg.optimiser == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)


def train_contrastive(model: ModelConfig | SparseCodingModel, cfg: ContrastiveConfig, seeds: Sequence[int],
                      variants: Sequence[str] = VARIANTS) -> ContrastiveRun:
    """Train one representation per (seed, variant), all batched (see the module docstring).

    Each step draws ``cfg.batch`` positive pairs per seed (online; in-batch negatives),
    attacks the anchors of every attacked variant at ``eps_t``, and takes one optimiser
    step on ``mean_i (positive term + negative term)`` of every net.
    """
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
    dtype = DTYPES[cfg.dtype]
    S, V, d, m, n = len(seeds), len(variants), model.d, cfg.width, cfg.batch
    derived = tuple(derive_seeds(s) for s in seeds)
    W0 = torch.stack([_init_weights(d, cfg, ds["init"], dtype) for ds in derived])  # (S, m, d)
    W = nn.Parameter(W0[:, None].expand(S, V, m, d).reshape(S * V, m, d).clone())
    params = [W]
    trained_b = cfg.threshold in ("shared", "per_node")
    shape_b = (S * V, 1) if cfg.threshold == "shared" else (S * V, m)
    b_param = torch.full(shape_b, cfg.b, dtype=dtype)
    if trained_b:
        b_param = nn.Parameter(b_param)
        params.append(b_param)
    opt = _optimiser(params, cfg)
    gens = [torch.Generator().manual_seed(ds["data"]) for ds in derived]
    terms = torch.tensor([VARIANT_TERMS[v] for v in variants] * S)  # (G, 2), variant fastest
    ap, an = terms[:, 0], terms[:, 1]
    attacked = bool((ap | an).any())
    attack_gen = torch.Generator().manual_seed(derived[0]["attack"])
    kw = dict(activation=cfg.activation, normalisation=cfg.normalisation)
    tk = dict(loss=cfg.loss, temperature=cfg.temperature, exclude_diagonal=True)
    valid = ~torch.eye(n, dtype=torch.bool)  # in-batch negatives: every other pair's positive view
    log_steps, log_loss, log_purity = [], [], []
    M_t = torch.as_tensor(model.M, dtype=dtype)
    chunk = None
    t0 = time.perf_counter()
    for step in range(cfg.steps):
        c = step % _DATA_CHUNK
        if c == 0:  # draw the next _DATA_CHUNK steps of pairs per seed at once (fewer, larger draws)
            k = min(_DATA_CHUNK, cfg.steps - step)
            drawn = [sample_pairs(model, k * n, g, augmentation=cfg.augmentation, drop=cfg.drop, dtype=dtype)
                     for g in gens]
            chunk = [torch.stack([p[i].reshape(k, n, d) for p in drawn], dim=1) for i in (0, 1)]  # (k, S, n, d)
        x, xp = (v[c][:, None].expand(S, V, n, d).reshape(S * V, n, d) for v in chunk)
        tau = thresholds(W, b_param, cfg.threshold, cfg.b)
        h_pos = representation(xp, W, tau, **kw)
        h = representation(x, W, tau, **kw)
        eps_t = cfg.eps_at(step)
        if eps_t > 0 and attacked:
            step_size = cfg.pgd_step_size if cfg.pgd_step_size is not None else 2.5 * eps_t / cfg.pgd_steps
            delta = attack_terms(x, W, tau, h_pos, h_pos, ap, an, eps_t, norm=cfg.norm, steps=cfg.pgd_steps,
                                 restarts=cfg.pgd_restarts, step_size=step_size, seed=attack_gen, **kw, **tk)
            h_adv = representation(x + delta, W, tau, **kw)
            # each term sees the attacked anchor only in the variants that attack it
            h_p = torch.where(ap[:, None, None], h_adv, h)
            pos = _pos_term((h_p * h_pos).sum(-1), cfg.loss, cfg.temperature)
            h_n = torch.where(an[:, None, None], h_adv, h)
            _, neg, _ = _terms(h_n, h_pos, h_pos, cfg.loss, cfg.temperature, valid)
        else:
            pos, neg, _ = _terms(h, h_pos, h_pos, cfg.loss, cfg.temperature, valid)
        per_net = (pos + neg).mean(-1)  # (G,)
        if step % cfg.log_every == 0 or step == cfg.steps - 1:
            with torch.no_grad():
                cp, cn, _ = _terms(h, h_pos, h_pos, cfg.loss, cfg.temperature, valid)
                log_steps.append(step)
                log_loss.append((cp + cn).mean(-1).reshape(S, V).double().numpy())
                C = (W @ M_t).abs() / W.norm(dim=-1, keepdim=True).clamp_min(_NORM_FLOOR)  # |loadings| (G, m, d)
                log_purity.append(C.amax(-1).mean(-1).reshape(S, V).double().numpy())
        opt.zero_grad(set_to_none=True)
        per_net.sum().backward()  # nets share no weights: the sum's gradient is each net's own
        opt.step()
        if trained_b and cfg.activation == "soft_threshold":
            with torch.no_grad():
                b_param.clamp_(min=0.0)
    if not all(np.all(np.isfinite(v)) for v in log_loss) or not bool(torch.isfinite(W).all()):
        raise FloatingPointError(f"contrastive training diverged (non-finite loss or weights) for {cfg}")
    with torch.no_grad():
        tau = thresholds(W, b_param, cfg.threshold, cfg.b)
    return ContrastiveRun(
        config=cfg, variants=variants, seeds=derived,
        W=W.detach().double().reshape(S, V, m, d).numpy().copy(),
        tau=tau.detach().double().reshape(S, V, m).numpy().copy(),
        history={"step": np.array(log_steps), "clean_loss": np.stack(log_loss), "purity": np.stack(log_purity)},
        wall_time=time.perf_counter() - t0)


# --------------------------------------------------------------------------- evaluation


def fit_probe(H: np.ndarray, y: np.ndarray, *, ridge: float = 1e-3, iters: int = 50, tol: float = 1e-10
              ) -> tuple[np.ndarray, float]:
    """Ridge-penalised logistic regression ``min mean log(1 + exp(-y (<v, h> + c))) + ridge/2 ||v||^2`` by Newton.

    H (n, m) features, y (n,) labels in {-1, +1}. Returns ``(v, c)``; the intercept is not
    penalised. Newton with a backtracking line search on the convex objective.
    """
    H = require_array("H", H, ndim=2)
    y = require_array("y", y, shape=(H.shape[0],))
    if not np.all(np.isin(y, (-1.0, 1.0))):
        raise ValueError("y must contain only -1 and +1 (drop ties before fitting)")
    ridge = require_real("ridge", ridge, low=0.0, low_open=True)
    iters = require_int("iters", iters, low=1)
    n, m = H.shape
    X = np.hstack([H, np.ones((n, 1))])
    pen = np.full(m + 1, ridge)
    pen[-1] = 0.0
    theta = np.zeros(m + 1)

    def objective(th):
        return float(np.mean(np.logaddexp(0.0, -y * (X @ th))) + 0.5 * np.sum(pen * th**2))

    f = objective(theta)
    for _ in range(iters):
        u = y * (X @ theta)
        p = 0.5 * (1.0 - np.tanh(0.5 * u))  # sigmoid(-u), stable
        grad = -(X.T @ (y * p)) / n + pen * theta
        Hs = (X.T * (p * (1.0 - p))) @ X / n + np.diag(pen) + 1e-12 * np.eye(m + 1)
        step = np.linalg.solve(Hs, grad)
        t = 1.0
        while True:
            f_new = objective(theta - t * step)
            if f_new <= f - 1e-4 * t * (grad @ step) or t < 1e-8:
                break
            t *= 0.5
        theta = theta - t * step
        if f - f_new < tol:
            f = f_new
            break
        f = f_new
    return theta[:m], float(theta[m])


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


def evaluate_representation(net: TwoLayerNet, model: SparseCodingModel, wstar, *, eps: float, norm: str = "l2",
                            n_probe: int = 2000, n_test: int = 2000, tau: float = 0.9, seed: int = 0,
                            pgd_steps: int = 20, pgd_restarts: int = 2, ridge: float = 1e-3) -> RepresentationEval:
    """Purity of ``net``'s hidden layer and the robust error of a clean linear probe on it.

    The probe ``(v, c)`` is fit (:func:`fit_probe`) on ``h(x)`` of ``n_probe`` clean samples
    with ``y = sign(<w*, z>)`` (ties dropped); the composite ``<v, h(x)> + c`` is then
    attacked at ``eps`` on ``n_test`` fresh samples (PGD, zero start + random restarts).
    Purity is activity-weighted on the probe sample (:func:`numerics.purity.network_purity`).
    """
    if not isinstance(net, TwoLayerNet):
        raise ValueError(f"net must be a TwoLayerNet, got {type(net).__name__}")
    w = require_array("wstar", wstar, shape=(model.d,))
    eps = require_real("eps", eps, low=0.0)
    seed = require_int("seed", seed, low=0)
    rng = np.random.default_rng(seed)
    train = model.sample(require_int("n_probe", n_probe, low=2), rng)
    test = model.sample(require_int("n_test", n_test, low=1), rng)
    pur = network_purity(net, model.M, x=train.x, weights="activity", tau=tau)
    y_tr = labels(train.z, w)
    keep = y_tr != 0
    H = net.hidden(train.x[keep])
    v, c = fit_probe(H, y_tr[keep], ridge=ridge)
    probe = TwoLayerNet(W=net.W, a=v, b=net.b, activation=net.activation, c=c, family="trained")
    y_te = labels(test.z, w)
    clean = y_te * probe(test.x)
    if eps > 0:
        robust = pgd_min_margin(probe, test.x, y_te, eps, norm, steps=pgd_steps, restarts=pgd_restarts,
                                seed=seed)
        robust = np.minimum(robust, clean)
    else:
        robust = clean
    return RepresentationEval(purity=pur.mean_max_loading, purified_fraction=pur.purified_fraction,
                              coverage=pur.coverage, n_eff=pur.mean_effective_features,
                              clean_error=float(np.mean(clean <= 0)), robust_error=float(np.mean(robust <= 0)),
                              robust_indicator=robust <= 0)


# --------------------------------------------------------------------------- term sensitivity


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
    Threshold: ``net.b`` (soft threshold) or ``-net.b`` (ReLU intercept).
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
    tau = torch.as_tensor(net.b if net.activation == "soft_threshold" else -net.b, dtype=dt)[None]
    kw = dict(activation=net.activation, normalisation=normalisation)
    h, hp, hn = (representation(v[None], W, tau, **kw) for v in (x, xp, x_neg))
    tk = dict(loss=loss, temperature=temperature)
    pos0, neg0 = contrastive_terms(h, hp, hn, **tk)
    out = {}
    for name, (ap, an) in (("pos", (True, False)), ("neg", (False, True))):
        delta = attack_terms(x[None], W, tau, hp, hn, torch.tensor([ap]), torch.tensor([an]), eps, norm=norm,
                             steps=steps, restarts=restarts, seed=seed, zero_start=True, **kw, **tk)
        pa, na = contrastive_terms(representation(x[None] + delta, W, tau, **kw), hp, hn, **tk)
        out[name] = (pa if ap else na)[0]
    to_np = lambda t: t.detach().double().numpy().copy()  # noqa: E731
    # PGD keeps its best iterate, which includes the zero start: never below the clean value
    return TermChanges(pos_clean=to_np(pos0[0]), pos_adv=np.maximum(to_np(out["pos"]), to_np(pos0[0])),
                       neg_clean=to_np(neg0[0]), neg_adv=np.maximum(to_np(out["neg"]), to_np(neg0[0])))
