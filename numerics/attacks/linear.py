"""Exact inner maximisation for linear scores (docs/model.md §3).

``min_{||delta||_q <= eps} y (<v, x + delta> + c) = y (<v, x> + c) - eps ||v||_{q*}``,
with ``q*`` the dual exponent (l2 <-> l2, l_inf <-> l1, l1 <-> l_inf). Exact.
"""
from __future__ import annotations

import numpy as np

from ..validation import require_array, require_choice, require_real

NORMS = ("l2", "linf", "l1")
DUAL = {"l2": 2, "linf": 1, "l1": np.inf}


def dual_norm(v: np.ndarray, norm: str) -> float | np.ndarray:
    """``||v||_{q*}`` along the last axis, for the attack norm ``norm``."""
    require_choice("norm", norm, NORMS)
    v = require_array("v", v)
    return np.linalg.norm(v, ord=DUAL[norm], axis=-1)


def linear_min_margin(margin: np.ndarray, v: np.ndarray, eps: float, norm: str = "l2") -> np.ndarray:
    """Worst-case margin of a linear score with weight ``v`` at radius ``eps``."""
    eps = require_real("eps", eps, low=0.0)
    return require_array("margin", margin) - eps * dual_norm(v, norm)


def linear_worst_delta(v: np.ndarray, y: np.ndarray, eps: float, norm: str = "l2") -> np.ndarray:
    """A perturbation attaining the minimum: ``delta = -y eps * argmax_{||u||_q<=1} <v, u>`` (n, d)."""
    require_choice("norm", norm, NORMS)
    v = require_array("v", v, ndim=1)
    y = require_array("y", y, ndim=1)
    eps = require_real("eps", eps, low=0.0)
    if norm == "l2":
        n = np.linalg.norm(v)
        u = v / n if n > 0 else np.zeros_like(v)
    elif norm == "linf":
        u = np.sign(v)
    else:
        u = np.zeros_like(v)
        i = int(np.argmax(np.abs(v)))
        u[i] = np.sign(v[i])
    return -eps * y[:, None] * u[None, :]
