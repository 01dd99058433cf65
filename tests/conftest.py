"""Shared fixtures of the numerics tests (seeded random nets, labelled inputs, ball perturbations).

Each fixture is a *factory*: the test calls it (with a seed where it draws), so every draw is
seeded and a test can make as many nets or data sets as it needs. Used by test_certified.py,
test_risk.py and test_pgd.py (and free for any test of numerics/).
"""
from __future__ import annotations

import numpy as np
import pytest

from numerics.networks import TwoLayerNet


def make_random_net(seed: int, d: int = 10, m: int = 16, activation: str = "soft_threshold", b_scale: float = 0.3,
                    c: float = 0.1) -> TwoLayerNet:
    """A seeded two-layer net: ``W ~ N(0, 1/d)``, ``a ~ N(0, 1/m)``, thresholds ``U(0, b_scale)``, bias ``c``."""
    rng = np.random.default_rng(seed)
    return TwoLayerNet(W=rng.standard_normal((m, d)) / np.sqrt(d), a=rng.standard_normal(m) / np.sqrt(m),
                       b=rng.uniform(0, b_scale, m), activation=activation, c=c)


def make_labelled_data(seed: int, n: int, d: int, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded inputs ``x ~ scale * N(0, I)`` (n, d) and fair +-1 labels (n,)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)) * scale, np.where(rng.random(n) < 0.5, -1.0, 1.0)


def make_ball_perturbations(rng: np.random.Generator, n: int, d: int, eps: float, norm: str) -> np.ndarray:
    """2n perturbations of the eps-ball: n uniform inside it, n on its boundary (l2) or at its corners (l_inf)."""
    if norm == "linf":
        inside = rng.uniform(-eps, eps, (n, d))
        return np.concatenate([inside, eps * np.sign(inside)])
    g = rng.standard_normal((n, d))
    g /= np.linalg.norm(g, axis=1, keepdims=True)
    return np.concatenate([g * eps * rng.random((n, 1)) ** (1 / d), g * eps])


def make_opaque(inner):
    """The same function as the torch module ``inner`` with its structure hidden behind a plain
    forward, so that no engine can recognise it (PGD must use autograd; risk treats it as opaque)."""
    from torch import nn  # here: most tests never need torch

    class OpaqueModule(nn.Module):
        def __init__(self, module: nn.Module):
            super().__init__()
            self.inner = module

        def forward(self, x):
            return self.inner(x)

    return OpaqueModule(inner)


@pytest.fixture
def opaque():
    """``opaque(module) -> nn.Module``: the same function with its structure hidden (:func:`make_opaque`)."""
    return make_opaque


@pytest.fixture
def random_net():
    """``random_net(seed, d=10, m=16, activation="soft_threshold", b_scale=0.3, c=0.1) -> TwoLayerNet``."""
    return make_random_net


@pytest.fixture
def labelled_data():
    """``labelled_data(seed, n, d, scale=1.0) -> (x (n, d), y (n,))``."""
    return make_labelled_data


@pytest.fixture
def ball_perturbations():
    """``ball_perturbations(rng, n, d, eps, norm) -> (2n, d)`` perturbations inside and on the ball."""
    return make_ball_perturbations
