"""Exact laws of the sparse-coding model (docs/model.md §1, §4 and S5).

With ``sigma = 0`` and a point-mass magnitude ``r`` the latent ``z`` lives on
``{-r, 0, r}^d`` and every population quantity is a finite sum. This module gives that
law as *atoms*: representative latents with probabilities, plus a rigorous bound on any
probability left out.

- :func:`enumerate_atoms` / :func:`iter_enumerated_atoms`: all ``3^d`` latents (small d).
- :func:`grouped_atoms`: the symmetry-reduced law for any d (up to 100,000 here). Features
  are grouped by ``(|w*_i|, o_i * odd_i, even_i)`` with orientation ``o_i = sign(w*_i)``
  (``+1`` where ``w*_i = 0``). Write ``t = o * z`` (componentwise); ``t`` has the law of
  ``z``. A quantity ``G`` may be computed from these atoms **only if** it is a function of
  ``t`` alone that is symmetric under permuting features inside a group. Then only the
  counts per group matter: ``(#t_i = +r, #t_i = -r, #t_i = 0) ~ Multinomial(n_g; p/2, p/2,
  1-p)``, independent across groups. One atom per kept count vector; its representative
  ``t`` puts the ``+r`` on the first features of each group, then the ``-r``.
  Valid (with ``odd`` / ``even`` as stated): the labels ``sign(<w*, z>)``; linear scores
  ``<u, z>`` (``odd=(u,)``); the pure / feature-aligned soft-threshold net
  ``sum_i coef_i soft(z_i, thr_i)`` (``odd=(coef,)``, ``even=(thr,)``: the soft threshold
  is odd); its worst case over an l2 ball (any dictionary: ``||M^T delta|| = ||delta||``)
  or, for a signed-permutation dictionary, over an l_inf box; isotropic Gaussian noise.
  NOT valid: mixed nets with ``b > 0`` (a node reads several features, so permuting
  features inside a group changes the function) or any net whose first layer is not
  aligned with the features.
- Law of ``<w, z>`` (S5): moments for any magnitude law and the exact pmf for point masses.
- Gaussian margins (``sigma > 0``, linear scores): conditional on ``z`` the margin is
  ``N(mu, s^2)``; 0-1 errors by ``norm.cdf`` and the logistic loss by ``scipy.integrate.quad``.

Ties: the rule (``TIE_RTOL``, :func:`tie_sign`, :func:`is_error`) lives with the labels in
:mod:`numerics.sparse_coding`; it is re-exported here for old imports.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import numpy as np

from .binomial import binomial_law, binomial_pmf
from .config import ModelConfig, PointMass, UniformMagnitude
from .sparse_coding import TIE_RTOL, is_error, tie_sign  # noqa: F401  (re-exported: the tie rule)
from .errors import TooManyAtoms
from .validation import require_array, require_int, require_real

DEFAULT_TOL = 1e-12  # default bound on the probability the grouped law may leave out
MAX_ENUMERATION_D = 16  # 3^16 = 43M atoms: the most any enumeration accepts (chunked)


# --------------------------------------------------------------------------- magnitudes


def point_mass_value(magnitude) -> float:
    """``r`` of a point-mass magnitude law (a :class:`PointMass` or a positive number)."""
    if isinstance(magnitude, PointMass):
        return magnitude.value
    if isinstance(magnitude, UniformMagnitude):
        raise ValueError("magnitude must be a point mass for exact atoms, got a UniformMagnitude")
    return require_real("magnitude", magnitude, low=0.0, low_open=True)


def magnitude_moment(magnitude, k: int) -> float:
    """``E r^k`` for a :class:`PointMass` (or positive number) or a :class:`UniformMagnitude`."""
    k = require_int("k", k, low=0)
    if isinstance(magnitude, UniformMagnitude):
        lo, hi = magnitude.low, magnitude.high
        return (hi ** (k + 1) - lo ** (k + 1)) / ((k + 1) * (hi - lo))
    return point_mass_value(magnitude) ** k


# --------------------------------------------------------------------------- atoms


class Atoms:
    """A finite (sub-)law of the latent ``z``: representative latents with probabilities.

    ``P`` (n,) are the atom probabilities, ``sum P >= 1 - truncated_mass``; every latent
    left out of the atoms has total probability at most ``truncated_mass`` (a rigorous
    bound, 0 for full enumeration). The representative latents are given on the feature
    indices ``columns`` only; every other feature is 0 in every atom (see :meth:`restrict`).
    Latents come in blocks (:meth:`blocks`) so that large laws never sit in memory at once.
    ``method`` is ``"enumeration"`` or ``"grouped"``.
    """

    def __init__(self, P: np.ndarray, truncated_mass: float, d: int, columns: np.ndarray, method: str, *,
                 Z: np.ndarray | None = None, grouped: "_GroupedCounts | None" = None, details: dict | None = None):
        self.P = P
        self.truncated_mass = float(truncated_mass)
        self.d = d
        self.columns = columns
        self.method = method
        self._Z = Z
        self._grouped = grouped
        self.details = details or {}

    @property
    def n(self) -> int:
        return int(self.P.size)

    @property
    def width(self) -> int:
        return int(self.columns.size)

    def block(self, start: int, stop: int) -> np.ndarray:
        """Representative latents of atoms ``start:stop`` on :attr:`columns`, shape (stop-start, width)."""
        if self._Z is not None:
            return self._Z[start:stop]
        g = self._grouped
        counts = g.counts[start:stop]  # (n, G, 2)
        plus = counts[:, g.col_group, 0]
        minus = counts[:, g.col_group, 1]
        rank = g.col_rank[None, :]
        t = (rank < plus).astype(np.float64) - ((rank >= plus) & (rank < plus + minus))
        return t * (g.r * g.col_sign[None, :])

    @property
    def Z(self) -> np.ndarray:
        """All representative latents (n, width); prefer :meth:`blocks` for large laws."""
        return self.block(0, self.n)

    def dense(self) -> np.ndarray:
        """All representative latents embedded in ``R^d`` (n, d)."""
        out = np.zeros((self.n, self.d))
        out[:, self.columns] = self.Z
        return out

    def blocks(self, max_elements: int = 1 << 22) -> Iterator[tuple[slice, np.ndarray]]:
        """Yield ``(rows, Z_block)`` with at most about ``max_elements`` entries per block."""
        step = max(1, int(max_elements) // max(1, self.width))
        for start in range(0, self.n, step):
            stop = min(self.n, start + step)
            yield slice(start, stop), self.block(start, stop)

    def linear_form(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(<w, z>, <|w|, |z|>)`` per atom: the value and its tie scale (see :func:`tie_sign`)."""
        w = require_array("w", w, shape=(self.d,))[self.columns]
        val = np.empty(self.n)
        scale = np.empty(self.n)
        for rows, Z in self.blocks():
            val[rows] = Z @ w
            scale[rows] = np.abs(Z) @ np.abs(w)
        return val, scale

    def restrict(self, extra_inactive: int | np.ndarray | None) -> "Atoms":
        """Keep, per group, the active features plus at most ``extra_inactive`` inactive ones.

        Valid for quantities that are unchanged when further inactive features of a group
        are deleted, e.g. clean scores (``extra_inactive = 0``: an inactive feature adds
        nothing) or the pure net's l2 worst case (``floor(eps^2 / thr_g^2)``: each inactive
        feature the attack uses costs more than ``thr_g^2`` of the budget, and the inactive
        features of a group are interchangeable). ``None`` keeps everything. Enumerated
        atoms are returned unchanged.
        """
        g = self._grouped
        if g is None or extra_inactive is None:
            return self
        G = g.sizes.size
        extra = np.broadcast_to(np.asarray(extra_inactive, dtype=np.int64), (G,))
        if np.any(extra < 0):
            raise ValueError("extra_inactive must be >= 0")
        active = g.counts.sum(axis=2).max(axis=0) if self.n else np.zeros(G, dtype=np.int64)
        width = np.minimum(g.sizes, active + extra)
        keep = g.col_rank < width[g.col_group]
        sub = _GroupedCounts(g.counts, g.sizes, g.col_group[keep], g.col_rank[keep], g.col_sign[keep], g.r)
        return Atoms(self.P, self.truncated_mass, self.d, self.columns[keep], self.method, grouped=sub,
                     details={**self.details, "restricted_width": int(keep.sum())})

    @property
    def group_of_feature(self) -> np.ndarray | None:
        """Group index of every feature (grouped atoms) or ``None`` (enumeration)."""
        return None if self._grouped is None else self._grouped.feature_group

    def __repr__(self) -> str:
        return (f"Atoms(method={self.method!r}, n={self.n}, d={self.d}, width={self.width}, "
                f"truncated_mass<={self.truncated_mass:.3g})")


@dataclass(frozen=True)
class _GroupedCounts:
    counts: np.ndarray  # (n_atoms, G, 2): (#t = +r, #t = -r) per group
    sizes: np.ndarray  # (G,) group sizes
    col_group: np.ndarray  # (width,) group of each represented column
    col_rank: np.ndarray  # (width,) rank of the column inside its group
    col_sign: np.ndarray  # (width,) orientation o_i (z = o * t)
    r: float
    feature_group: np.ndarray | None = field(default=None, compare=False)


def enumerate_atoms(d: int, p: float, magnitude, *, max_d: int = 12) -> Atoms:
    """All ``3^d`` latents of ``{-r, 0, r}^d`` with their probabilities (no truncation)."""
    d = require_int("d", d, low=1, high=require_int("max_d", max_d, low=1, high=MAX_ENUMERATION_D))
    chunks = list(iter_enumerated_atoms(d, p, magnitude, chunk_size=3**d, max_d=max_d))
    return chunks[0]


def iter_enumerated_atoms(d: int, p: float, magnitude, *, chunk_size: int = 3**10,
                          max_d: int = MAX_ENUMERATION_D) -> Iterator[Atoms]:
    """Full enumeration in chunks of ``chunk_size`` atoms (for d up to 16 without 3^d rows in memory).

    Atom ``j`` has base-3 digits ``(j // 3^i) % 3`` mapped to ``z_i = 0, +r, -r`` with
    probabilities ``1-p, p/2, p/2``. Each chunk is an :class:`Atoms` with
    ``truncated_mass = 0``; together the chunks are the whole law.
    """
    max_d = require_int("max_d", max_d, low=1, high=MAX_ENUMERATION_D)
    d = require_int("d", d, low=1, high=max_d)
    p = require_real("p", p, low=0.0, high=1.0, low_open=True)
    r = point_mass_value(magnitude)
    chunk_size = require_int("chunk_size", chunk_size, low=1)
    total = 3**d
    powers = 3 ** np.arange(d, dtype=np.int64)
    value = np.array([0.0, r, -r])
    prob = np.array([1.0 - p, p / 2.0, p / 2.0])
    columns = np.arange(d)
    for start in range(0, total, chunk_size):
        idx = np.arange(start, min(total, start + chunk_size), dtype=np.int64)
        digits = (idx[:, None] // powers[None, :]) % 3
        Z = value[digits]
        P = prob[digits].prod(axis=1)
        yield Atoms(P, 0.0, d, columns, "enumeration", Z=Z, details={"first_atom": int(start), "total_atoms": total})


def feature_groups(wstar: np.ndarray, odd: Sequence[np.ndarray] = (), even: Sequence[np.ndarray] = (),
                   key_rtol: float = 1e-9) -> tuple[np.ndarray, np.ndarray, float]:
    """Group labels (d,) and orientation (d,) of the symmetry reduction, and the merged key spread.

    Keys ``(|w*_i|, o_i odd_i..., even_i...)`` are rounded to a grid of ``key_rtol`` times
    each key's largest absolute value (so that floating-point noise such as
    ``M^T M w* = w* + 1e-16`` does not split a group); the returned spread is the largest
    difference between a merged key and its group's first member, relative to the key scale.
    """
    w = require_array("wstar", wstar, ndim=1)
    d = w.size
    orient = np.where(w < 0, -1.0, 1.0)
    cols = [np.abs(w)]
    for i, a in enumerate(odd):
        cols.append(orient * require_array(f"odd[{i}]", a, shape=(d,)))
    for i, a in enumerate(even):
        cols.append(require_array(f"even[{i}]", a, shape=(d,)))
    keys = np.stack(cols, axis=1)
    scale = np.abs(keys).max(axis=0)
    scale[scale == 0] = 1.0
    grid = np.round(keys / (key_rtol * scale)).astype(np.int64)
    first, labels = _unique_rows(grid)
    spread = float(np.max(np.abs(keys - keys[first][labels]) / scale)) if d else 0.0
    return labels, orient, spread


def _unique_rows(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(grid, axis=0, return_index=True, return_inverse=True)[1:]``, several times faster.

    Groups are numbered in lexicographic order of their rows; ``first`` holds each group's first
    row in the original order (a stable sort, as np.unique uses with ``return_index``).
    """
    n = grid.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if np.array_equal(grid.min(axis=0), grid.max(axis=0)):  # one group (e.g. a uniform w* and a pure net)
        return np.zeros(1, dtype=np.int64), np.zeros(n, dtype=np.int64)
    order = np.lexsort(grid.T[::-1])  # stable; column 0 is the primary key
    g = grid[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    new[1:] = np.any(g[1:] != g[:-1], axis=1)
    labels = np.empty(n, dtype=np.int64)
    labels[order] = np.cumsum(new) - 1
    return order[new], labels


def grouped_atoms(wstar: np.ndarray, p: float, magnitude, *, odd: Sequence[np.ndarray] = (),
                  even: Sequence[np.ndarray] = (), tol: float = DEFAULT_TOL, max_atoms: int = 200_000,
                  key_rtol: float = 1e-9) -> Atoms:
    """The symmetry-reduced law of ``z`` (see the module docstring for what it may be used for).

    Groups features by ``(|w*_i|, o_i odd_i, even_i)``; per group the count vector
    ``(#+r, #-r)`` of ``t = o z`` is enumerated, count vectors of negligible mass are
    dropped (smallest first) and groups are combined by an outer product with the same
    pruning. ``truncated_mass`` bounds the total dropped probability (``<= tol``). Raises
    :class:`numerics.errors.TooManyAtoms` (naming ``max_atoms``) when more than ``max_atoms``
    atoms are needed.
    """
    w = require_array("wstar", wstar, ndim=1)
    d = require_int("d", w.size, low=1, high=100_000)
    p = require_real("p", p, low=0.0, high=1.0, low_open=True)
    r = point_mass_value(magnitude)
    tol = require_real("tol", tol, low=0.0, high=0.5)
    max_atoms = require_int("max_atoms", max_atoms, low=1)
    key_rtol = require_real("key_rtol", key_rtol, low=0.0, high=1e-3, low_open=True)

    labels, orient, spread = feature_groups(w, odd, even, key_rtol)
    G = int(labels.max()) + 1
    sizes = np.bincount(labels, minlength=G)
    budget = tol / (2 * G)  # half of tol for per-group truncation, half for the products

    P = np.ones(1)
    index = np.zeros((1, 0), dtype=np.int32)
    options = []
    dropped = 0.0
    for g in range(G):
        opts, probs, lost = _group_options(int(sizes[g]), p, budget)
        options.append(opts)
        dropped += lost
        if P.size * probs.size > 20 * max_atoms:
            raise TooManyAtoms(f"max_atoms={max_atoms} is too small for the grouped law ({G} groups): "
                             f"needs more than {P.size * probs.size // 20} atoms")
        P = (P[:, None] * probs[None, :]).ravel()
        index = np.concatenate([np.repeat(index, probs.size, axis=0),
                                np.tile(np.arange(probs.size, dtype=np.int32), len(index))[:, None]], axis=1)
        keep, lost = _prune(P, budget if g > 0 else 0.0)
        P, index = P[keep], index[keep]
        dropped += lost
    if P.size > max_atoms:
        raise TooManyAtoms(f"max_atoms={max_atoms} is too small for the grouped law: needs {P.size} atoms")
    counts = np.stack([options[g][index[:, g]] for g in range(G)], axis=1) if G else np.zeros((P.size, 0, 2))

    order = np.argsort(labels, kind="stable")  # features of each group in increasing index order
    rank = np.empty(d, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank[order] = np.arange(d) - starts[labels[order]]
    grouped = _GroupedCounts(counts.astype(np.int64), sizes, labels.copy(), rank, orient.copy(), r,
                             feature_group=labels.copy())
    details = {"groups": G, "group_sizes": sizes.tolist() if G <= 64 else f"{G} groups",
               "key_spread": spread, "tol": tol, "omitted_mass": max(0.0, 1.0 - float(P.sum()))}
    return Atoms(P, min(dropped, 1.0), d, np.arange(d), "grouped", grouped=grouped, details=details)


def _group_options(n: int, p: float, budget: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Count vectors ``(a, b)`` of one group with mass, dropping at most ``budget`` in total.

    ``A = a + b ~ Binomial(n, p)`` and ``a | A ~ Binomial(A, 1/2)``. Both tails of ``A``
    get ``budget/4`` each, the smallest pairs up to ``budget/2``.
    """
    A = np.arange(n + 1)
    pmf_A, cdf, sf = binomial_law(n, p)
    if budget > 0:
        a_min = int(np.sum(cdf <= budget / 4))
        a_max = int(np.argmax(sf <= budget / 4)) if np.any(sf <= budget / 4) else n
        lost = (cdf[a_min - 1] if a_min > 0 else 0.0) + sf[a_max]
    else:
        a_min, a_max, lost = 0, n, 0.0
    A = np.arange(a_min, a_max + 1)
    n_pairs = int(np.sum(A + 1))
    if n_pairs > 5_000_000:
        raise TooManyAtoms(f"max_atoms: a group of {n} features at p={p:g} needs {n_pairs} count vectors")
    tot = np.repeat(A, A + 1)
    plus = np.arange(n_pairs) - np.repeat(np.cumsum(A + 1) - (A + 1), A + 1)
    probs = pmf_A[tot] * binomial_pmf(plus, tot, 0.5)
    keep, pruned = _prune(probs, budget / 2)
    opts = np.stack([plus, tot - plus], axis=1)[keep]
    return opts, probs[keep], float(lost + pruned)


def _prune(P: np.ndarray, budget: float) -> tuple[np.ndarray, float]:
    """Indices (in original order) of the atoms kept after dropping the smallest ones of total mass <= budget."""
    if budget <= 0 or P.size == 0:
        return np.arange(P.size), 0.0
    order = np.argsort(P, kind="stable")
    cum = np.cumsum(P[order])
    n_drop = int(np.searchsorted(cum, budget, side="right"))
    lost = float(cum[n_drop - 1]) if n_drop else 0.0
    return np.sort(order[n_drop:]), lost


def model_atoms(config: ModelConfig, wstar: np.ndarray, *, odd: Sequence[np.ndarray] = (),
                even: Sequence[np.ndarray] = (), tol: float = DEFAULT_TOL, max_atoms: int = 200_000,
                enumerate_up_to: int = 0) -> Atoms:
    """Atoms of a model's latent law: enumeration when ``d <= enumerate_up_to``, else grouped."""
    if not isinstance(config, ModelConfig):
        raise ValueError(f"config must be a ModelConfig, got {type(config).__name__}")
    if config.d <= enumerate_up_to:
        return enumerate_atoms(config.d, config.p, config.magnitude, max_d=max(enumerate_up_to, 1))
    return grouped_atoms(wstar, config.p, config.magnitude, odd=odd, even=even, tol=tol, max_atoms=max_atoms)


# --------------------------------------------------------------------------- law of <w, z> (S5)


def inner_product_moments(w: np.ndarray, p: float, magnitude) -> dict:
    """Moments of ``S = <w, z>``: mean 0, variance ``p E[r^2] ||w||^2`` and the fourth moment.

    ``E S^4 = p E[r^4] sum w_i^4 + 3 p^2 E[r^2]^2 (||w||^4 - sum w_i^4)`` (independent,
    symmetric coordinates: only the ``i = j = k = l`` and paired terms survive).
    """
    w = require_array("w", w, ndim=1)
    p = require_real("p", p, low=0.0, high=1.0, low_open=True)
    m2, m4 = magnitude_moment(magnitude, 2), magnitude_moment(magnitude, 4)
    s2, s4 = float(w @ w), float(np.sum(w**4))
    var = p * m2 * s2
    fourth = p * m4 * s4 + 3.0 * p**2 * m2**2 * (s2**2 - s4)
    return {"mean": 0.0, "variance": var, "fourth": fourth,
            "kurtosis": fourth / var**2 if var > 0 else float("nan")}


@dataclass(frozen=True)
class DiscreteLaw:
    """A (sub-)pmf on sorted ``support`` with ``probs``; mass outside is at most ``truncated_mass``."""

    support: np.ndarray
    probs: np.ndarray
    truncated_mass: float

    def moment(self, k: int) -> float:
        return float(np.sum(self.probs * self.support**k))

    def prob(self, value: float, rtol: float = TIE_RTOL) -> float:
        """``P(S = value)`` (support points within ``rtol`` of ``value`` relative to the support scale)."""
        scale = max(1.0, float(np.abs(self.support).max(initial=0.0)))
        return float(self.probs[np.abs(self.support - value) <= rtol * scale].sum())


def inner_product_pmf(w: np.ndarray, p: float, magnitude, *, tol: float = DEFAULT_TOL,
                      max_atoms: int = 500_000) -> DiscreteLaw:
    """Exact pmf of ``S = <w, z>`` for a point-mass magnitude (grouped by ``|w_i|``).

    Atoms whose values agree up to ``TIE_RTOL * r ||w||_1`` are merged (floating-point
    noise of one exact value); values that small count as exactly 0.
    """
    w = require_array("w", w, ndim=1)
    atoms = grouped_atoms(w, p, magnitude, tol=tol, max_atoms=max_atoms)
    S, _ = atoms.restrict(0).linear_form(w)
    scale = point_mass_value(magnitude) * float(np.abs(w).sum())
    S[np.abs(S) <= TIE_RTOL * scale] = 0.0
    order = np.argsort(S, kind="stable")
    S, P = S[order], atoms.P[order]
    new = np.concatenate([[True], np.diff(S) > TIE_RTOL * max(scale, 1e-300)])
    cluster = np.cumsum(new) - 1
    probs = np.bincount(cluster, weights=P)
    support = S[new]
    return DiscreteLaw(support, probs, atoms.truncated_mass)


# --------------------------------------------------------------------------- Gaussian margins (sigma > 0)


def gaussian_error(mu: np.ndarray, s: np.ndarray | float) -> np.ndarray:
    """``P(m <= 0)`` for ``m ~ N(mu, s^2)``: ``Phi(-mu/s)``, or ``1{mu <= 0}`` where ``s = 0``."""
    mu = np.asarray(mu, dtype=np.float64)
    s = np.broadcast_to(np.asarray(s, dtype=np.float64), mu.shape)
    if np.any(s < 0):
        raise ValueError("s must be >= 0")
    out = (mu <= 0).astype(np.float64)
    pos = s > 0
    if np.any(pos):
        from scipy import special  # imported here: noise-free work never needs scipy

        out[pos] = special.ndtr(-mu[pos] / s[pos])
    return out


def softplus(x: np.ndarray) -> np.ndarray:
    """``log(1 + e^x)``, stable for large ``|x|``."""
    return np.logaddexp(0.0, x)


def gaussian_logistic(mu: np.ndarray, s: np.ndarray | float, *, epsabs: float = 1e-13,
                      epsrel: float = 1e-11) -> tuple[np.ndarray, np.ndarray]:
    """``E log(1 + exp(-m))`` for ``m ~ N(mu, s^2)`` and its quadrature error estimate.

    One ``scipy.integrate.quad`` per distinct ``(mu, s)``, split at the kink ``m = 0`` of the
    integrand; ``s = 0`` gives ``softplus(-mu)`` with error 0. Returns ``(values, abserr)``.
    """
    mu = np.asarray(mu, dtype=np.float64).ravel()
    s = np.broadcast_to(np.asarray(s, dtype=np.float64), mu.shape).ravel()
    if np.any(s < 0):
        raise ValueError("s must be >= 0")
    from scipy import integrate  # imported here: noise-free work never needs scipy

    pairs, inverse = np.unique(np.stack([mu, s], axis=1), axis=0, return_inverse=True)
    vals = np.empty(len(pairs))
    errs = np.zeros(len(pairs))
    for i, (m, sd) in enumerate(pairs):
        if sd == 0:
            vals[i] = float(softplus(-m))
            continue

        def f(t, m=m, sd=sd):
            x = -(m + sd * t)  # softplus(x) * phi(t)
            sp = x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))
            return sp * math.exp(-0.5 * t * t) / math.sqrt(2.0 * math.pi)

        t0 = min(max(-m / sd, -40.0), 40.0)
        v1, e1 = integrate.quad(f, -np.inf, t0, epsabs=epsabs, epsrel=epsrel, limit=200)
        v2, e2 = integrate.quad(f, t0, np.inf, epsabs=epsabs, epsrel=epsrel, limit=200)
        vals[i], errs[i] = v1 + v2, e1 + e2
    inverse = inverse.ravel()
    return vals[inverse], errs[inverse]
