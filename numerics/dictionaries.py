"""Dictionaries ``M`` of the sparse-coding model: orthogonal ones and coherent (non-orthogonal) ones.

Orthogonal (docs/model.md §1): :func:`make_dictionary` gives the identity or a seeded
Haar-random orthogonal matrix; :func:`random_skew` gives the skew-symmetric directions of the
mixing paths ``Q(t) = expm(t A)``.

Coherent (seed question 1): ``M`` with unit-norm columns and the *equicorrelated* Gram matrix
``G = M^T M = (1 - rho) I + rho 1 1^T`` (every pair of features has cosine ``rho``,
``0 <= rho < 1``), built as ``M = U G^{1/2}`` with ``U = make_dictionary(d, kind, seed)``;
``rho = 0`` gives ``U`` itself. ``G`` has eigenvalue ``1 + (d - 1) rho`` on ``1/sqrt(d)`` and
``1 - rho`` on its complement. Nets on such a dictionary (sigma = 0, so ``x = M z``): the
*dual-basis* pure net ``W = M^{-1}`` (:func:`dual_basis`; row j reads ``z_j``) and the dense
linear net ``f(x) = <M^{-T} w, x> = <w, z>``. The pure net's l2 attack on a coherent dictionary
is an ellipsoid problem: :func:`numerics.attacks.ellipsoid.ellipsoid_pure_bounds`.
"""
from __future__ import annotations

import numpy as np

from .config import DICTIONARIES
from .validation import require_array, require_choice, require_int, require_real


def make_dictionary(d: int, kind: str = "random", seed: int = 0) -> np.ndarray:
    """Return ``M`` (d x d, orthonormal columns = features).

    ``random`` draws from the Haar measure with ``scipy.stats.ortho_group`` seeded by
    ``seed``, so the same (d, seed) always gives the same dictionary.
    """
    d = require_int("d", d, low=1)
    require_choice("dictionary", kind, DICTIONARIES)
    seed = require_int("seed", seed, low=0)
    if kind == "identity" or d == 1:
        return np.eye(d)
    from scipy.stats import ortho_group  # imported here: scipy.stats costs ~0.8 s to import

    return ortho_group.rvs(d, random_state=np.random.default_rng(seed))


def random_skew(d: int, seed: int = 0, *, normalise: bool = True) -> np.ndarray:
    """A seeded skew-symmetric direction ``A`` for mixing paths ``Q(t) = expm(t A)``.

    With ``normalise`` the Frobenius norm is ``sqrt(2 d)`` so that ``t`` is comparable
    across dimensions (each feature's mixing angle is of order ``t``).
    """
    d = require_int("d", d, low=2)
    g = np.random.default_rng(require_int("seed", seed, low=0)).standard_normal((d, d))
    a = (g - g.T) / 2.0
    if normalise:
        a *= np.sqrt(2.0 * d) / np.linalg.norm(a)
    return a


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


def __getattr__(name: str):
    # Deprecated location (theorems/explore/q01_dictionaries.py imports it from here): the attack
    # moved to numerics.attacks.ellipsoid. Resolved lazily so this module imports no attack.
    if name == "ellipsoid_pure_bounds":
        from .attacks.ellipsoid import ellipsoid_pure_bounds

        return ellipsoid_pure_bounds
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
