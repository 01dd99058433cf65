"""Sampling from the sparse-coding model ``x = M z + xi`` (docs/model.md §1).

``z_i = B_i s_i r_i`` with ``B_i ~ Bernoulli(p)``, ``s_i`` a fair sign and ``r_i`` the
magnitude law; ``xi ~ N(0, sigma^2/d I)``. Labels are ``y = sign(<w, z>)`` with
``sign(0) = 0``: a tie is an error for every predictor (margin ``y f = 0``).

The tie rule lives here, with the labels, and every engine uses it: sums such as ``<w*, z>``
that vanish in exact arithmetic come out as ``1e-17`` in floating point, so a value ``v`` with
``|v| <= TIE_RTOL * scale`` (``scale`` = the sum of the absolute values of its terms) counts as
exactly 0 (:func:`tie_sign`); a margin counts as an error when it is ``<= 0`` in that sense
(:func:`is_error`). float32 sums (torch training) leave ~1e-7 residues: ``TIE_RTOL_FLOAT32``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .config import ModelConfig, PointMass
from .dictionaries import make_dictionary
from .validation import require_array, require_int

TIE_RTOL = 1e-9  # relative size below which a float64 sum counts as an exact zero
TIE_RTOL_FLOAT32 = 1e-5  # the same for float32 sums


def tie_sign(values: np.ndarray, scale: np.ndarray, rtol: float = TIE_RTOL) -> np.ndarray:
    """``sign(values)`` with ``0`` wherever ``|values| <= rtol * scale`` (a floating-point zero)."""
    values = np.asarray(values, dtype=np.float64)
    s = np.sign(values)
    s[np.abs(values) <= rtol * np.asarray(scale, dtype=np.float64)] = 0.0
    return s


def is_error(margin: np.ndarray, scale: np.ndarray, rtol: float = TIE_RTOL) -> np.ndarray:
    """The 0-1 error ``margin <= 0`` with floating-point zeros (``|margin| <= rtol*scale``) as 0."""
    margin = np.asarray(margin, dtype=np.float64)
    return margin <= rtol * np.asarray(scale, dtype=np.float64)


@dataclass(frozen=True)
class Sample:
    """A batch from the model: latent ``z`` (n, d), noise-free part ``Mz`` and input ``x`` (n, d)."""

    z: np.ndarray
    x: np.ndarray
    seed: int | None


class SparseCodingModel:
    """The data model of a :class:`ModelConfig`; holds the dictionary ``M`` (built once)."""

    def __init__(self, config: ModelConfig):
        if not isinstance(config, ModelConfig):
            raise ValueError(f"config must be a ModelConfig, got {type(config).__name__}")
        self.config = config

    @cached_property
    def M(self) -> np.ndarray:
        c = self.config
        return make_dictionary(c.d, c.dictionary, c.dictionary_seed)

    @property
    def d(self) -> int:
        return self.config.d

    def sample_z(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` latents (n, d)."""
        n = require_int("n", n, low=1)
        c = self.config
        active = rng.random((n, c.d)) < c.p
        signs = np.where(rng.random((n, c.d)) < 0.5, -1.0, 1.0)
        if isinstance(c.magnitude, PointMass):
            mags = np.full((n, c.d), c.magnitude.value)
        else:
            mags = rng.uniform(c.magnitude.low, c.magnitude.high, size=(n, c.d))
        return active * signs * mags

    def sample(self, n: int, seed: int | np.random.Generator) -> Sample:
        """Draw ``n`` inputs with their latents; ``seed`` (int) makes the draw reproducible."""
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(require_int("seed", seed, low=0))
        z = self.sample_z(n, rng)
        x = self.embed(z)
        if self.config.sigma > 0:
            x = x + rng.standard_normal(x.shape) * (self.config.sigma / np.sqrt(self.config.d))
        return Sample(z=z, x=x, seed=seed if isinstance(seed, int) else None)

    def embed(self, z: np.ndarray) -> np.ndarray:
        """``M z`` for each row of ``z``."""
        z = require_array("z", z, shape=(None, self.d))
        return z @ self.M.T

    def features(self, x: np.ndarray) -> np.ndarray:
        """Feature coordinates ``M^T x`` of inputs (rows)."""
        x = require_array("x", x, shape=(None, self.d))
        return x @ self.M

    def sample_torch(self, n: int, generator, *, dtype=None, out=None):
        """Torch sampler for training loops: returns ``(x, z)`` tensors drawn with ``generator``.

        Uses the torch generator so that online training draws fresh samples each step
        reproducibly without a numpy round trip. ``out``: an (n, d) contiguous tensor of
        ``dtype`` to hold x (the training loop's per-run slice of its batch buffer).
        """
        import torch

        n = require_int("n", n, low=1)
        c = self.config
        dtype = dtype or torch.float32
        if out is not None and (tuple(out.shape) != (n, c.d) or out.dtype != dtype or not out.is_contiguous()):
            raise ValueError(f"out must be a contiguous ({n}, {c.d}) tensor of {dtype}, got "
                             f"{tuple(out.shape)} {out.dtype}")
        # Draws in float32 in this order: activity, sign, magnitude (uniform law only), noise; the
        # first two or three are one draw (a generator fills a tensor in order, so rand((k, n, d))
        # is k consecutive rand((n, d))). The arithmetic is exact: z = (-r where u_sign < 1/2,
        # else r) * active, whose product with 0 keeps the sign (the signed zeros of
        # sign * r * active). Comparisons write 0/1 floats in place (one fast pass each); bool
        # masks, their casts and bool-times-float products took twice the time of the draws.
        point = isinstance(c.magnitude, PointMass)
        u = torch.rand((2 if point else 3, n, c.d), generator=generator, dtype=torch.float32)
        active = torch.lt(u[0], c.p, out=u[0])
        negative = torch.lt(u[1], 0.5, out=u[1])
        if point:
            v = c.magnitude.value
            z = negative.mul_(-2.0 * v).add_(v)  # -v where negative, v elsewhere
        else:
            lo, hi = c.magnitude.low, c.magnitude.high
            z = u[2].mul_(hi - lo).add_(lo).mul_(negative.mul_(-2.0).add_(1.0))  # +-r (times +-1: exact)
        z = z.mul_(active).to(dtype)
        M = torch.as_tensor(self.M, dtype=dtype)
        x = torch.matmul(z, M.T, out=out)
        if c.sigma > 0:
            x = x.add_(torch.randn((n, c.d), generator=generator, dtype=dtype).mul_(c.sigma / c.d**0.5))
        return x, z


def labels(z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``y = sign(<w, z>)`` per row, with ``sign(0) = 0`` (counted as an error for every net).

    An exact zero of ``<w, z>`` comes out of floating point as ~1e-17, so values within
    ``TIE_RTOL`` of the sum of the terms' sizes count as 0 (:func:`tie_sign`).
    """
    z = require_array("z", z, ndim=2)
    w = require_array("w", w, shape=(z.shape[1],))
    return tie_sign(z @ w, np.abs(z) @ np.abs(w))


def labels_torch(z, w):
    """Torch twin of :func:`labels`: ``sign(<w, z>)`` with floating-point zeros counted as ties (0).

    The tie tolerance follows the dtype (float32 sums of cancelling terms leave ~1e-7 residues).
    """
    import torch

    w = torch.as_tensor(w, dtype=z.dtype)
    values = z @ w
    rtol = TIE_RTOL if z.dtype == torch.float64 else TIE_RTOL_FLOAT32
    scale = z.abs() @ w.abs()
    return torch.where(values.abs() <= rtol * scale, torch.zeros_like(values), torch.sign(values))

