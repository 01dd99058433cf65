"""Numbers that carry their method and uncertainty.

Every quantity the library returns is an :class:`Estimate` whose ``method`` says how it was
obtained:

- ``exact``: lower = upper = value, up to a stated truncation / quadrature bound;
- ``mc``: Monte Carlo with a confidence interval (Clopper-Pearson for 0-1 risks, a t-interval
  for losses, paired for differences) over per-sample values that are exact;
- ``verified``: Monte Carlo over per-sample decisions of a complete verifier; samples it
  could not decide widen the interval (counted in ``details``);
- ``bound``: an interval between an attack (its lower confidence limit) and a certificate
  (its upper confidence limit), each side at the stated level;
- ``attack``: one-sided, an attack alone (no certificate applies): ``lower`` is the attack's
  lower confidence limit, ``upper`` the trivial bound (1 for a probability, ``inf`` for a loss);
- ``optimisation`` (with its convergence status in ``details``) and ``quadrature``.

scipy is imported only when an interval needs it (its import costs most of a CLI run).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .validation import require_array, require_int, require_real

METHODS = ("exact", "mc", "verified", "bound", "attack", "optimisation", "quadrature")


@dataclass(frozen=True)
class Estimate:
    value: float
    lower: float
    upper: float
    method: str
    level: float | None = None  # confidence level for mc intervals
    n: int | None = None  # samples behind an mc estimate
    details: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if not (self.lower <= self.value + 1e-12 and self.value <= self.upper + 1e-12):
            raise ValueError(f"interval [{self.lower}, {self.upper}] must contain value {self.value}")

    @classmethod
    def exact(cls, value: float, *, slack: float = 0.0, **details) -> "Estimate":
        """An exact number; ``slack`` is a rigorous bound on truncation/quadrature error."""
        v = float(value)
        return cls(v, v - slack, v + slack, "exact", details=details)

    @property
    def width(self) -> float:
        return self.upper - self.lower

    def excludes(self, threshold: float, side: str) -> bool:
        """True when the whole interval lies strictly ``above`` or ``below`` ``threshold``."""
        if side == "above":
            return self.lower > threshold
        if side == "below":
            return self.upper < threshold
        raise ValueError(f"side must be 'above' or 'below', got {side!r}")

    def to_dict(self) -> dict:
        out = {"value": self.value, "lower": self.lower, "upper": self.upper, "method": self.method}
        if self.level is not None:
            out["level"] = self.level
        if self.n is not None:
            out["n"] = self.n
        if self.details:
            out["details"] = _jsonable(self.details)
        return out

    def __str__(self) -> str:
        if self.method == "exact" and self.lower == self.upper:
            return f"{self.value:.6g} (exact)"
        return f"{self.value:.6g} [{self.lower:.6g}, {self.upper:.6g}] ({self.method})"


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return obj.item()
    return obj


def clopper_pearson(successes: int, n: int, level: float = 0.99) -> tuple[float, float]:
    """Exact binomial interval for a proportion (two-sided, ``level``)."""
    n = require_int("n", n, low=1)
    successes = require_int("successes", successes, low=0, high=n)
    level = require_real("level", level, low=0.0, high=1.0, low_open=True, high_open=True)
    from scipy import stats

    alpha = 1.0 - level
    lo = 0.0 if successes == 0 else stats.beta.ppf(alpha / 2, successes, n - successes + 1)
    hi = 1.0 if successes == n else stats.beta.ppf(1 - alpha / 2, successes + 1, n - successes)
    return float(lo), float(hi)


def proportion(indicator: np.ndarray, level: float = 0.99, **details) -> Estimate:
    """Monte Carlo estimate of a probability from 0/1 indicators, Clopper-Pearson interval."""
    raw = np.asarray(indicator)
    if raw.dtype != bool and not _indicators(require_array("indicator", raw).ravel()):
        raise ValueError("indicator must hold 0/1 outcomes (booleans, or the numbers 0 and 1)")
    ind = raw.astype(bool).ravel()
    n = ind.size
    k = int(ind.sum())
    lo, hi = clopper_pearson(k, n, level)
    return Estimate(k / n, lo, hi, "mc", level=level, n=n, details=details)


def mean(values: np.ndarray, level: float = 0.99, **details) -> Estimate:
    """Monte Carlo mean with a Student-t interval (CLT), e.g. for losses or paired differences."""
    v = require_array("values", values).ravel()
    n = require_int("number of values", v.size, low=2)
    level = require_real("level", level, low=0.0, high=1.0, low_open=True, high_open=True)
    mu = float(v.mean())
    se = float(v.std(ddof=1) / np.sqrt(n))
    from scipy import stats

    q = stats.t.ppf(0.5 + level / 2, n - 1)
    return Estimate(mu, mu - q * se, mu + q * se, "mc", level=level, n=n, details=details)


def paired_difference(values_a: np.ndarray, values_b: np.ndarray, level: float = 0.99, **details) -> Estimate:
    """Mean of ``a - b`` over common random numbers (the same samples for both).

    0/1 outcomes on both sides (errors): :func:`indicator_difference`, exact. Otherwise the Student-t
    interval of :func:`mean`.
    """
    a = np.asarray(values_a, dtype=np.float64).ravel()
    b = np.asarray(values_b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"values_a and values_b must have the same length (paired), got {a.size} and {b.size}")
    if _indicators(a) and _indicators(b):
        return indicator_difference(a, b, level, **details)
    return mean(a - b, level, paired=True, **details)


def _indicators(v: np.ndarray) -> bool:
    return bool(np.all((v == 0.0) | (v == 1.0)))


def indicator_difference(values_a: np.ndarray, values_b: np.ndarray, level: float = 0.99, **details) -> Estimate:
    """``P(a = 1) - P(b = 1)`` from paired 0/1 outcomes, with an exact (conservative) interval.

    The difference is ``p+ - p-``, where ``p+ = P(a > b)`` and ``p- = P(a < b)`` (the discordant pairs).
    Each gets a Clopper-Pearson interval at level ``1 - (1 - level) / 2``; both hold together with
    probability at least ``level`` (Bonferroni), and then ``p+ - p-`` lies in ``[lo+ - hi-, hi+ - lo-]``.
    The t-interval of the differences is no interval here: with no discordant pair its width is zero
    at any n (it would "prove" a difference of exactly 0 from three samples), and with few it is too
    narrow (1 discordant pair in 20: t upper limit 0.19, against 0.32 for the exact limit on that count).
    """
    a = np.asarray(values_a, dtype=np.float64).ravel()
    b = np.asarray(values_b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"values_a and values_b must have the same length (paired), got {a.size} and {b.size}")
    if not (_indicators(a) and _indicators(b)):
        raise ValueError("values_a and values_b must be 0/1 outcomes")
    n = require_int("number of pairs", a.size, low=1)
    level = require_real("level", level, low=0.0, high=1.0, low_open=True, high_open=True)
    n_pos, n_neg = int(np.sum(a > b)), int(np.sum(a < b))
    each = 1.0 - (1.0 - level) / 2
    lo_pos, hi_pos = clopper_pearson(n_pos, n, each)
    lo_neg, hi_neg = clopper_pearson(n_neg, n, each)
    value = (n_pos - n_neg) / n
    return Estimate(value, lo_pos - hi_neg, hi_pos - lo_neg, "mc", level=level, n=n,
                    details={**details, "paired": True, "discordant": [n_pos, n_neg],
                             "interval": "Clopper-Pearson on each sign of the discordant pairs, Bonferroni"})
