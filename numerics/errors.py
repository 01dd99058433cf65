"""The exception types of ``numerics`` (catch these, never match message text).

- :class:`ExactUnavailable` (a ``ValueError``): no exact method applies to this (net, model,
  quantity); the message says why. Its subclasses say which limit was hit:
  :class:`TooManyCandidates` (the exact l2 attack of :mod:`numerics.attacks.pure_l2` needs more
  than ``max_candidates`` pushed-set candidates) and :class:`TooManyAtoms` (the grouped law of
  :mod:`numerics.exact_law` needs more than ``max_atoms`` atoms).
- :class:`BoundViolation` (a ``RuntimeError``, deliberately not a ``ValueError``: it is a bug in
  an engine, not bad input): a sound lower bound came out above an attained (upper) value by more
  than the stated floating-point tolerance, so one of the two is wrong. Nothing is clamped.

Every message starts with the name of the parameter or quantity concerned.
"""
from __future__ import annotations

import numpy as np


class ExactUnavailable(ValueError):
    """No exact method exists for this input; the message says why."""


class TooManyCandidates(ExactUnavailable):
    """The exact l2 pure-net attack would enumerate more than ``max_candidates`` pushed sets."""


class TooManyAtoms(ExactUnavailable):
    """The grouped (symmetry-reduced) law needs more than ``max_atoms`` atoms."""


class BoundViolation(RuntimeError):
    """A lower bound exceeds an upper bound (certificate above an attack) beyond the float tolerance."""


def check_ordered(what: str, lower, upper, *, scale=1.0, rtol: float = 1e-9) -> None:
    """Raise :class:`BoundViolation` where ``lower > upper + rtol * max(scale, 1)`` (elementwise).

    ``lower`` is a sound bound (a certificate), ``upper`` a value attained by an attack (or any
    pair that must be ordered in exact arithmetic); ``scale`` is the size of the terms the two were
    computed from, so ``rtol * scale`` bounds their rounding error. The raw values are compared:
    nothing is clamped, a violation means one of the two engines is wrong.
    """
    lo = np.asarray(lower, dtype=np.float64)
    hi = np.asarray(upper, dtype=np.float64)
    if np.isnan(lo).any() or np.isnan(hi).any():  # NaN > x is False: it would pass every comparison below
        raise BoundViolation(f"{what}: a bound or value is NaN ({int(np.isnan(lo).sum())} lower, "
                             f"{int(np.isnan(hi).sum())} upper); one of the two engines is wrong")
    tol = rtol * np.maximum(np.asarray(scale, dtype=np.float64), 1.0)
    excess = lo - hi - tol
    bad = excess > 0
    if np.any(bad):
        i = int(np.argmax(np.where(bad, excess, -np.inf).ravel()))
        lo_i, hi_i = float(np.broadcast_to(lo, bad.shape).ravel()[i]), float(np.broadcast_to(hi, bad.shape).ravel()[i])
        raise BoundViolation(
            f"{what}: lower bound {lo_i:.17g} above upper value {hi_i:.17g} at index {i} "
            f"({int(bad.sum())} of {bad.size} violate the tolerance rtol={rtol:g} x scale); "
            "one of the two engines is wrong")
