"""Activations of MODEL.md section 2, for numpy arrays and torch tensors alike.

``soft_threshold(t, b) = ReLU(t - b) - ReLU(-t - b)``: odd, 1-Lipschitz, zero on [-b, b];
``relu_intercept(t, b) = ReLU(t + b)``.
"""
from __future__ import annotations

import numpy as np

ACTIVATIONS = ("soft_threshold", "relu")


def _relu(t):
    if isinstance(t, np.ndarray) or np.isscalar(t):
        return np.maximum(t, 0.0)
    return t.clamp_min(0.0)


def soft_threshold(t, b):
    """Symmetric soft threshold; ``b = 0`` is the identity."""
    return _relu(t - b) - _relu(-t - b)


def relu_intercept(t, b):
    """ReLU with intercept, ``max(t + b, 0)``."""
    return _relu(t + b)


def activate(kind: str, t, b):
    if kind == "soft_threshold":
        return soft_threshold(t, b)
    if kind == "relu":
        return relu_intercept(t, b)
    raise ValueError(f"activation must be one of {ACTIVATIONS}, got {kind!r}")


def activation_slope(kind: str, t, b):
    """Derivative of the activation in ``t`` (0 or 1; right-continuous choice at kinks)."""
    if kind == "soft_threshold":
        return (np.abs(t) > b) * 1.0 if isinstance(t, np.ndarray) else (t.abs() > b).to(t.dtype)
    if kind == "relu":
        return (t + b > 0) * 1.0 if isinstance(t, np.ndarray) else (t + b > 0).to(t.dtype)
    raise ValueError(f"activation must be one of {ACTIVATIONS}, got {kind!r}")
