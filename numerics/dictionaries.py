"""Non-orthogonal (coherent) dictionaries and the pure net's l2 worst case on them (seed question 1).

MODEL.md section 1 takes ``M`` orthogonal. Here ``M`` has unit-norm columns with the
*equicorrelated* Gram matrix ``G = M^T M = (1 - rho) I + rho 1 1^T`` (every pair of features has
cosine ``rho``, ``0 <= rho < 1``), built as ``M = U G^{1/2}`` with ``U`` the seeded Haar-random
orthogonal matrix of :func:`numerics.dictionary.make_dictionary`; ``rho = 0`` gives ``U`` itself.
``G`` has eigenvalue ``1 + (d - 1) rho`` on ``1/sqrt(d)`` and ``1 - rho`` on its complement.

Nets on such a dictionary (sigma = 0, so ``x = M z``):

- the *dual-basis* pure net reads each feature exactly: ``W = M^{-1}`` (row j gives ``z_j``),
  ``f(x) = sum_j a_j soft(<W_j, x>; b)``; on clean inputs it is the orthogonal pure net;
- the dense linear net ``f(x) = <M^{-T} w, x> = <w, z>`` (clean Bayes-optimal).

An l2 perturbation ``delta`` moves the feature coordinates by ``u = M^{-1} delta`` with
``||delta||^2 = u^T G u``: the pure net's attack is the pure-net problem of
:mod:`numerics.attacks.pure_l2` over the *ellipsoid* ``u^T G u <= eps^2`` instead of a ball.
:func:`ellipsoid_pure_bounds` sandwiches its optimum between two exact ball problems:

- lower (sound): the ellipsoid lies in the ball of radius ``eps / sqrt(lambda_min(G))``, so the
  exact ball optimum there is <= the ellipsoid optimum;
- upper (an attack): the exact ball minimiser ``u_r`` at several radii r, each scaled onto the
  ellipsoid's boundary, ``s u_r`` with ``s = eps / sqrt(u_r^T G u_r)``; every coordinate of
  ``u_r`` moves its feature against its coefficient and the soft threshold is monotone, so the
  margin is non-increasing along the ray and the boundary point is the best on it.
"""
from __future__ import annotations

import numpy as np

from .activations import soft_threshold
from .attacks.pure_l2 import pure_l2_min_margin
from .dictionary import make_dictionary
from .validation import require_array, require_int, require_real


def equicorrelated_gram(d: int, rho: float) -> np.ndarray:
    """``G = (1 - rho) I + rho 1 1^T`` (d x d), ``0 <= rho < 1``."""
    d = require_int("d", d, low=1)
    rho = require_real("rho", rho, low=0.0, high=1.0, high_open=True)
    return (1.0 - rho) * np.eye(d) + rho * np.ones((d, d))


def gram_eigen_range(d: int, rho: float) -> tuple[float, float]:
    """``(lambda_min, lambda_max)`` of the equicorrelated Gram matrix (closed form)."""
    d = require_int("d", d, low=1)
    rho = require_real("rho", rho, low=0.0, high=1.0, high_open=True)
    big = 1.0 + (d - 1) * rho
    return (min(1.0 - rho, big), max(1.0 - rho, big)) if d > 1 else (1.0, 1.0)


def coherent_dictionary(d: int, rho: float, seed: int = 0, *, kind: str = "random") -> np.ndarray:
    """``M = U G^{1/2}`` with unit-norm columns and pairwise cosines ``rho`` (module docstring).

    ``U = make_dictionary(d, kind, seed)``; ``G^{1/2} = sqrt(1 - rho) I + c 1 1^T`` with
    ``c = (sqrt(1 + (d - 1) rho) - sqrt(1 - rho)) / d`` (exact, no eigendecomposition).
    """
    d = require_int("d", d, low=1)
    rho = require_real("rho", rho, low=0.0, high=1.0, high_open=True)
    U = make_dictionary(d, kind, require_int("seed", seed, low=0))
    lo = np.sqrt(1.0 - rho)
    c = (np.sqrt(1.0 + (d - 1) * rho) - lo) / d
    return U @ (lo * np.eye(d) + c * np.ones((d, d)))


def dual_basis(M: np.ndarray) -> np.ndarray:
    """``M^{-1}``: the first layer whose node j reads feature j exactly (``W M = I``)."""
    M = require_array("M", M, ndim=2)
    if M.shape[0] != M.shape[1]:
        raise ValueError(f"M must be square, got shape {M.shape}")
    if np.linalg.cond(M) > 1e12:
        raise ValueError("M must be invertible (condition number above 1e12)")
    return np.linalg.inv(M)


def ellipsoid_pure_bounds(coef, v, b, eps: float, G: np.ndarray, *, radii: int = 6, directions=None,
                          max_candidates: int = 2**16) -> tuple[np.ndarray, np.ndarray]:
    """Bounds ``(lower, upper)`` on ``min_{u^T G u <= eps^2} sum_i coef_i soft(v_i + u_i; b)`` per row.

    coef, v: (n, d); b: scalar or (d,); G: (d, d) symmetric positive definite. lower is sound
    (exact ball problem at ``eps / sqrt(lambda_min)``); upper is the value at a feasible point
    (ball minimisers at ``radii`` geometrically spaced radii from ``eps / sqrt(lambda_max)`` to
    ``eps / sqrt(lambda_min)``, scaled onto the ellipsoid; plus any extra ``directions``, (d,) or
    (n, d), scaled onto the boundary too). Equal when ``G = I``.
    """
    coef = require_array("coef", coef, ndim=2)
    v = require_array("v", v, shape=coef.shape)
    d = coef.shape[1]
    G = require_array("G", G, shape=(d, d))
    eps = require_real("eps", eps, low=0.0)
    radii = require_int("radii", radii, low=1)
    if not np.allclose(G, G.T, atol=1e-12):
        raise ValueError("G must be symmetric")
    lam = np.linalg.eigvalsh(G)
    if lam[0] <= 0:
        raise ValueError(f"G must be positive definite, got smallest eigenvalue {lam[0]:g}")
    clean = (coef * soft_threshold(v, b)).sum(axis=1)
    if eps == 0:
        return clean, clean.copy()
    r_hi, r_lo = eps / np.sqrt(lam[0]), eps / np.sqrt(lam[-1])
    lower = np.asarray(pure_l2_min_margin(coef, v, b, r_hi, max_candidates=max_candidates).margin, dtype=float)
    upper = clean.copy()
    rs = np.geomspace(r_lo, r_hi, radii) if radii > 1 else np.array([r_hi])
    for r in rs:
        u = np.asarray(pure_l2_min_margin(coef, v, b, float(r), max_candidates=max_candidates).u, dtype=float)
        q = np.einsum("ni,ij,nj->n", u, G, u)
        s = np.divide(eps, np.sqrt(q), out=np.zeros_like(q), where=q > 0)
        upper = np.minimum(upper, (coef * soft_threshold(v + s[:, None] * u, b)).sum(axis=1))
    if directions is not None:
        D = np.broadcast_to(require_array("directions", directions), coef.shape)
        q = np.einsum("ni,ij,nj->n", D, G, D)
        s = np.divide(eps, np.sqrt(q), out=np.zeros_like(q), where=q > 0)
        upper = np.minimum(upper, (coef * soft_threshold(v + s[:, None] * D, b)).sum(axis=1))
    # rounding: the feasible value can never be below the sound bound
    return np.minimum(lower, upper), upper
