"""Views and positive pairs of the sparse-coding model (docs/model.md §1).

A *positive pair* is two views of one latent ``z``:

- ``"noise"``: ``x = M z + xi``, ``x+ = M z + xi+`` with independent ``xi, xi+ ~ N(0, sigma^2/d I)``
  (the model's sigma; with ``sigma = 0`` the two views coincide);
- ``"dropout"``: each view first masks every coordinate of ``z`` independently with
  probability ``drop`` (feature dropout: an active feature is kept with probability
  ``1 - drop``), then adds its own noise.

*Negatives* of an anchor are views of independent latents: in training the other pairs'
positive views in the batch (in-batch negatives), in the analysis an independent pool.
"""
from __future__ import annotations

import math

import torch

from ..sparse_coding import SparseCodingModel
from ..validation import require_choice, require_int, require_real

AUGMENTATIONS = ("noise", "dropout")


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
