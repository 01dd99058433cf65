"""Clean and PGD-adversarial training of *any* score module (the nets of :mod:`numerics.architectures`).

:func:`numerics.training.train` builds and trains :class:`~numerics.torch_nets.TorchTwoLayer`
only; this is its loop for other modules, with the same conventions read from the same
:class:`~numerics.training.TrainConfig`: online fresh samples (``cfg.n_train`` / fixed data are
not supported here), tie-aware labels (``numerics.sparse_coding.labels_torch``) with ties
``y = 0`` dropped from the loss, margin losses
(:func:`numerics.training.margin_loss`), the eps ramp, PGD at ``eps_t`` through
:func:`numerics.attacks.pgd.pgd_attack` (autograd), Adam or SGD, seeds from
:func:`numerics.training.derive_seeds` (the module's init is the caller's: build it with
``derive_seeds(cfg.seed)["init"]``), and ``module.project_()`` after each step. Fields of
``cfg`` about the two-layer init (``width``, ``init_scale``, ``b_init``, ``activation``,
``threshold``, ``train_first``, ``train_head``) do not apply.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from .sparse_coding import SparseCodingModel, labels_torch
from .training import DTYPES, TrainConfig, derive_seeds, margin_loss
from .validation import require_array


@dataclass(frozen=True)
class ModuleTrainResult:
    """The trained module (trained in place), per-step losses, the seeds and the wall time."""

    module: torch.nn.Module
    losses: np.ndarray
    seeds: dict
    wall_time: float
    config: TrainConfig


def train_module(module: torch.nn.Module, model: SparseCodingModel, wstar, cfg: TrainConfig, *,
                 attack=None) -> ModuleTrainResult:
    """Train ``module`` (in place) on ``y = sign(<w*, z>)``, clean (``cfg.eps = 0``) or adversarially."""
    if not isinstance(module, torch.nn.Module):
        raise ValueError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    if not isinstance(model, SparseCodingModel):
        raise ValueError(f"model must be a SparseCodingModel, got {type(model).__name__}")
    if not isinstance(cfg, TrainConfig):
        raise ValueError(f"cfg must be a TrainConfig, got {type(cfg).__name__}")
    if cfg.n_train is not None:
        raise ValueError("cfg.n_train must be None: train_module trains on fresh samples only")
    w = require_array("wstar", wstar, shape=(model.d,))
    if not np.any(w != 0):
        raise ValueError("wstar must be non-zero")
    if attack is None and cfg.eps > 0:
        from .attacks.pgd import pgd_attack

        attack = pgd_attack
    dtype = DTYPES[cfg.dtype]
    module.to(dtype)
    seeds = derive_seeds(cfg.seed)
    gen = torch.Generator().manual_seed(seeds["data"])
    w_t = torch.as_tensor(w, dtype=dtype)
    params = [p for p in module.parameters() if p.requires_grad]
    if cfg.optimiser == "adam":
        opt = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    else:
        opt = torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    project = getattr(module, "project_", None)
    losses = np.full(cfg.steps, np.nan)
    t0 = time.perf_counter()
    for step in range(cfg.steps):
        x, z = model.sample_torch(cfg.batch, gen, dtype=dtype)
        y = labels_torch(z, w_t)
        keep = y != 0  # ties carry no label (numerics.training convention)
        xk, yk = x[keep], y[keep]
        if xk.shape[0] == 0:
            continue
        eps_t = cfg.eps_at(step)
        if eps_t > 0:
            xk = xk + attack(module, xk, yk, eps_t, cfg.norm, cfg.pgd_steps, cfg.pgd_restarts,
                             cfg.step_size_at(eps_t), seeds["attack"] + step).detach()
        opt.zero_grad(set_to_none=True)
        loss = margin_loss(cfg.loss, yk * module(xk)).mean()
        loss.backward()
        opt.step()
        if project is not None:
            project()
        losses[step] = float(loss.detach())
    module.zero_grad(set_to_none=True)
    return ModuleTrainResult(module, losses, seeds, time.perf_counter() - t0, cfg)
