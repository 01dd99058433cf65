"""The pure net's l2 worst case on a coherent dictionary: an ellipsoid problem, sandwiched.

On a dictionary with Gram matrix ``G = M^T M`` (:mod:`numerics.dictionaries`), an l2
perturbation ``delta`` moves the feature coordinates by ``u = M^{-1} delta`` with
``||delta||^2 = u^T G u``: the dual-basis pure net's attack is the pure-net problem of
:mod:`numerics.attacks.pure_l2` over the *ellipsoid* ``u^T G u <= eps^2`` instead of a ball.
Two raw bounds on its optimum, each from an exact ball problem:

- :func:`ellipsoid_lower_bound` (sound): the ellipsoid lies in the ball of radius
  ``eps / sqrt(lambda_min(G))``, so the exact ball optimum there is <= the ellipsoid optimum;
- :func:`ellipsoid_attack_value` (attained): the exact ball minimiser ``u_r`` at several radii r,
  each scaled onto the ellipsoid's boundary, ``s u_r`` with ``s = eps / sqrt(u_r^T G u_r)``; every
  coordinate of ``u_r`` moves its feature against its coefficient and the soft threshold is
  monotone, so the margin is non-increasing along the ray and the boundary point is the best on it.

:func:`ellipsoid_pure_bounds` returns both and raises :class:`numerics.errors.BoundViolation`
when the sound bound exceeds the attained value beyond rounding (nothing is clamped).
"""
from __future__ import annotations

import numpy as np

from ..activations import soft_threshold
from ..errors import check_ordered
from ..validation import require_array, require_int, require_real
from .pure_l2 import pure_l2_min_margin

BOUND_RTOL = 1e-9  # rounding allowance (relative to the margin's scale) for lower <= upper


def _check(coef, v, b, eps, G):
    coef = require_array("coef", coef, ndim=2)
    v = require_array("v", v, shape=coef.shape)
    d = coef.shape[1]
    G = require_array("G", G, shape=(d, d))
    eps = require_real("eps", eps, low=0.0)
    b_arr = require_array("b", b)
    if b_arr.ndim > 1 or (b_arr.ndim == 1 and b_arr.shape != (d,)) or np.any(b_arr < 0):
        raise ValueError(f"b must be a threshold >= 0, scalar or of shape ({d},), got shape {b_arr.shape}"
                         + (f" with min {b_arr.min():g}" if b_arr.size else ""))
    if not np.allclose(G, G.T, atol=1e-12):
        raise ValueError("G must be symmetric")
    lam = np.linalg.eigvalsh(G)
    if lam[0] <= 0:
        raise ValueError(f"G must be positive definite, got smallest eigenvalue {lam[0]:g}")
    return coef, v, eps, G, lam


def _clean(coef, v, b) -> np.ndarray:
    return (coef * soft_threshold(v, b)).sum(axis=1)


def _lower(coef, v, b, eps, lam, max_candidates) -> np.ndarray:
    if eps == 0:
        return _clean(coef, v, b)
    r_hi = eps / np.sqrt(lam[0])
    return np.asarray(pure_l2_min_margin(coef, v, b, r_hi, max_candidates=max_candidates).margin, dtype=float)


def _upper(coef, v, b, eps, G, lam, radii, directions, max_candidates) -> np.ndarray:
    upper = _clean(coef, v, b)
    if eps == 0:
        return upper
    r_hi, r_lo = eps / np.sqrt(lam[0]), eps / np.sqrt(lam[-1])
    rays = [np.asarray(pure_l2_min_margin(coef, v, b, float(r), max_candidates=max_candidates).u, dtype=float)
            for r in (np.geomspace(r_lo, r_hi, radii) if radii > 1 else np.array([r_hi]))]
    if directions is not None:
        rays.append(np.broadcast_to(require_array("directions", directions), coef.shape))
    for u in rays:
        q = np.einsum("ni,ij,nj->n", u, G, u)
        s = np.divide(eps, np.sqrt(q), out=np.zeros_like(q), where=q > 0)
        upper = np.minimum(upper, (coef * soft_threshold(v + s[:, None] * u, b)).sum(axis=1))
    return upper


def ellipsoid_lower_bound(coef, v, b, eps: float, G: np.ndarray, *, max_candidates: int = 2**16) -> np.ndarray:
    """Sound lower bound on ``min_{u^T G u <= eps^2} sum_i coef_i soft(v_i + u_i; b)`` per row (raw)."""
    coef, v, eps, G, lam = _check(coef, v, b, eps, G)
    return _lower(coef, v, b, eps, lam, max_candidates)


def ellipsoid_attack_value(coef, v, b, eps: float, G: np.ndarray, *, radii: int = 6, directions=None,
                           max_candidates: int = 2**16) -> np.ndarray:
    """Margin at a feasible point of the ellipsoid (an attack: >= the minimum), per row (raw).

    Ball minimisers at ``radii`` geometrically spaced radii from ``eps / sqrt(lambda_max)`` to
    ``eps / sqrt(lambda_min)``, plus any extra ``directions`` ((d,) or (n, d)), each scaled onto
    the boundary; the lowest margin among them and the clean point.
    """
    coef, v, eps, G, lam = _check(coef, v, b, eps, G)
    radii = require_int("radii", radii, low=1)
    return _upper(coef, v, b, eps, G, lam, radii, directions, max_candidates)


def ellipsoid_pure_bounds(coef, v, b, eps: float, G: np.ndarray, *, radii: int = 6, directions=None,
                          max_candidates: int = 2**16) -> tuple[np.ndarray, np.ndarray]:
    """``(lower, upper)``: :func:`ellipsoid_lower_bound` and :func:`ellipsoid_attack_value`.

    coef, v: (n, d); b: scalar or (d,); G: (d, d) symmetric positive definite. Equal when
    ``G = I``. Raises :class:`numerics.errors.BoundViolation` where ``lower > upper`` beyond
    ``BOUND_RTOL`` times the margin's scale ``sum_i |coef_i| (|v_i| + b_i + eps / sqrt(lambda_min))``.
    """
    coef, v, eps, G, lam = _check(coef, v, b, eps, G)
    radii = require_int("radii", radii, low=1)
    lower = _lower(coef, v, b, eps, lam, max_candidates)
    upper = _upper(coef, v, b, eps, G, lam, radii, directions, max_candidates)
    scale = (np.abs(coef) * (np.abs(v) + np.asarray(b, dtype=float) + eps / np.sqrt(lam[0]))).sum(axis=1)
    check_ordered("ellipsoid_pure_bounds", lower, upper, scale=scale, rtol=BOUND_RTOL)
    return lower, upper
