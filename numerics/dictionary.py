"""Dictionaries ``M`` in O(d): the identity and a seeded Haar-random orthogonal matrix."""
from __future__ import annotations

import numpy as np
from scipy.stats import ortho_group

from .validation import require_choice, require_int


def make_dictionary(d: int, kind: str = "random", seed: int = 0) -> np.ndarray:
    """Return ``M`` (d x d, orthonormal columns = features).

    ``random`` draws from the Haar measure with ``scipy.stats.ortho_group`` seeded by
    ``seed``, so the same (d, seed) always gives the same dictionary.
    """
    d = require_int("d", d, low=1)
    require_choice("dictionary", kind, ("identity", "random"))
    seed = require_int("seed", seed, low=0)
    if kind == "identity" or d == 1:
        return np.eye(d)
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
