"""Torch twin of :class:`numerics.networks.TwoLayerNet`, used for training and attacks."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .activations import ACTIVATIONS
from .validation import require_choice, require_int, require_real


class TorchTwoLayer(nn.Module):
    """``f(x) = h(x) @ a + c`` with ``h = act(x W^T; b)``.

    ``threshold`` selects how the soft threshold's ``b`` is parametrised when trained:
    ``"fixed"`` (a buffer), ``"shared"`` (one trainable scalar) or ``"per_node"``. The
    soft threshold is only defined for ``b >= 0``, so ``b`` is clamped at use time (and the
    training loop projects the parameter back after each step).
    """

    def __init__(self, W, a, b, activation: str = "soft_threshold", c: float = 0.0, *,
                 threshold: str = "fixed", train_head: bool = True, train_first: bool = True):
        super().__init__()
        require_choice("activation", activation, ACTIVATIONS)
        require_choice("threshold", threshold, ("fixed", "shared", "per_node"))
        self.activation = activation
        W = torch.as_tensor(W)
        self.W = nn.Parameter(W.clone(), requires_grad=train_first)
        self.a = nn.Parameter(torch.as_tensor(a, dtype=W.dtype).clone(), requires_grad=train_head)
        b = torch.as_tensor(b, dtype=W.dtype)
        if threshold == "shared":
            self.b_param = nn.Parameter(b.reshape(-1).mean().reshape(()).clone())
        elif threshold == "per_node":
            self.b_param = nn.Parameter(b.expand(W.shape[0]).clone())
        else:
            self.register_buffer("b_param", b.expand(W.shape[0]).clone())
        self.c = nn.Parameter(torch.as_tensor(float(c), dtype=W.dtype), requires_grad=train_head)

    @property
    def b(self) -> torch.Tensor:
        b = self.b_param.expand(self.W.shape[0])
        return b.clamp_min(0.0) if self.activation == "soft_threshold" else b

    def preactivation(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.W.T

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        t = self.preactivation(x)
        b = self.b
        if self.activation == "soft_threshold":
            return torch.relu(t - b) - torch.relu(-t - b)
        return torch.relu(t + b)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.hidden(x) @ self.a + self.c

    @classmethod
    def from_net(cls, net, *, dtype=None, trainable: bool = False, threshold: str = "fixed") -> "TorchTwoLayer":
        dtype = dtype or torch.float64
        mod = cls(torch.as_tensor(net.W, dtype=dtype), torch.as_tensor(net.a, dtype=dtype),
                  torch.as_tensor(net.b, dtype=dtype), net.activation, net.c, threshold=threshold)
        if not trainable:
            mod.requires_grad_(False)
        return mod

    @classmethod
    def random_init(cls, d: int, m: int, *, seed: int, scale: float = 0.01, b: float = 0.0,
                    activation: str = "soft_threshold", threshold: str = "fixed",
                    dtype=torch.float32) -> "TorchTwoLayer":
        """Seeded Gaussian init: every entry of ``W`` and ``a`` is ``scale * N(0, 1)`` (a small init)."""
        d = require_int("d", d, low=1)
        m = require_int("m", m, low=1)
        scale = require_real("scale", scale, low=0.0, low_open=True)
        g = torch.Generator().manual_seed(require_int("seed", seed, low=0))
        W = torch.randn((m, d), generator=g, dtype=dtype) * scale
        a = torch.randn((m,), generator=g, dtype=dtype) * scale
        return cls(W, a, torch.full((m,), float(b), dtype=dtype), activation, threshold=threshold)

    def to_net(self):
        """Back to a numpy :class:`TwoLayerNet` (float64) for exact evaluation."""
        from .networks import TwoLayerNet

        with torch.no_grad():
            return TwoLayerNet(W=self.W.detach().double().numpy().copy(), a=self.a.detach().double().numpy().copy(),
                               b=self.b.detach().double().numpy().copy(), activation=self.activation,
                               c=float(self.c.detach()), family="trained")
