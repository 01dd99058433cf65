"""Binomial probabilities in numpy, accurate to a few ulp, without importing scipy.

The exact laws (:mod:`numerics.exact_law`) need ``Binomial(n, p)`` pmfs for n up to 100,000;
``scipy.stats`` would give them but costs ~0.8 s to import, more than a whole ``purecheck risk``
run. This is Loader's saddle-point algorithm (C. Loader, "Fast and accurate computation of
binomial probabilities", 2000; the one R's ``dbinom`` uses):

    pmf(x; n, p) = exp(stirlerr(n) - stirlerr(x) - stirlerr(n - x) - bd0(x, n p) - bd0(n - x, n q))
                   * sqrt(n / (2 pi x (n - x)))

with ``stirlerr(n) = log n! - log(sqrt(2 pi n) (n / e)^n)`` (a table for n <= 15, its asymptotic
series above) and the deviance term ``bd0(x, m) = x log(x / m) + m - x`` evaluated by a series
where it cancels. Every term is small or computed without cancellation, so the relative error is
a few ulp for all n (the plain ``lgamma`` formula loses ~``n * 1e-16`` to cancellation).
"""
from __future__ import annotations

import numpy as np

_LN_2PI = 1.8378770664093454835606594728112353
# stirlerr(n), n = 0..15, to 1 ulp (computed with 50-digit decimals; stirlerr(0) is unused)
_STIRLERR = np.array([
    0.0, 0.08106146679532726, 0.0413406959554093, 0.02767792568499834, 0.020790672103765093,
    0.016644691189821193, 0.013876128823070748, 0.01189670994589177, 0.010411265261972096,
    0.009255462182712733, 0.00833056343336287, 0.007573675487951841, 0.00694284010720953,
    0.006408994188004207, 0.0059513701127588475, 0.005554733551962801,
])
_S0, _S1, _S2, _S3, _S4 = 1 / 12, 1 / 360, 1 / 1260, 1 / 1680, 1 / 1188
_UNDERFLOW = -760.0  # exp(-745.2) is the smallest positive float64


def _stirlerr(n: np.ndarray) -> np.ndarray:
    n = np.asarray(n, dtype=np.float64)
    out = np.empty_like(n)
    small = n <= 15
    out[small] = _STIRLERR[n[small].astype(np.int64)]
    for lo, hi, series in ((500, np.inf, lambda nn: _S0 - _S1 / nn),
                           (80, 500, lambda nn: _S0 - (_S1 - _S2 / nn) / nn),
                           (35, 80, lambda nn: _S0 - (_S1 - (_S2 - _S3 / nn) / nn) / nn),
                           (15, 35, lambda nn: _S0 - (_S1 - (_S2 - (_S3 - _S4 / nn) / nn) / nn) / nn)):
        sel = (n > lo) & (n <= hi)
        if sel.any():
            big = n[sel]
            out[sel] = series(big * big) / big
    return out


def _bd0(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``x log(x / m) + m - x`` (>= 0), by its series where the terms cancel (x close to m)."""
    x, m = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(m, dtype=np.float64))
    out = np.empty_like(x)
    near = np.abs(x - m) < 0.1 * (x + m)
    xf, mf = x[~near], m[~near]
    out[~near] = xf * np.log(xf / mf) + mf - xf
    xs, ms = x[near], m[near]
    v = (xs - ms) / (xs + ms)
    s = (xs - ms) * v
    ej = 2.0 * xs * v
    v2 = v * v
    for j in range(1, 40):  # |v| < 1/19: each term shrinks by v^2 < 0.003; 40 terms are far more than enough
        ej = ej * v2
        s_new = s + ej / (2 * j + 1)
        if np.array_equal(s_new, s):
            break
        s = s_new
    out[near] = s
    return out


def binomial_pmf(k, n, p: float) -> np.ndarray:
    """``P(X = k)`` for ``X ~ Binomial(n, p)``, elementwise in ``k`` and ``n`` (0 outside ``0..n``)."""
    k, n = np.broadcast_arrays(np.asarray(k, dtype=np.float64), np.asarray(n, dtype=np.float64))
    q = 1.0 - p
    out = np.zeros(k.shape)
    if p == 0.0 or q == 0.0:
        out[k == (0.0 if p == 0.0 else n)] = 1.0
        return out
    lo = (k == 0) & (n >= 0)
    hi = (k == n) & (n > 0)
    mid = (k > 0) & (k < n)
    # the end points: pmf = q^n or p^n, via bd0 when the log would lose accuracy
    nl, nh = n[lo], n[hi]
    out[lo] = np.exp(-_bd0(nl, nl * q) - nl * p) if p < 0.1 else np.exp(nl * np.log(q))
    out[hi] = np.exp(-_bd0(nh, nh * p) - nh * q) if q < 0.1 else np.exp(nh * np.log(p))
    x, m = k[mid], n[mid]
    b1, b2 = _bd0(x, m * p), _bd0(m - x, m * q)  # >= 0; the stirlerr terms and -lf/2 add less than 0.1
    live = -b1 - b2 > _UNDERFLOW  # elsewhere the pmf is below the smallest subnormal: exactly 0.0 in float64
    x, m, b1, b2 = x[live], m[live], b1[live], b2[live]
    lc = _stirlerr(m) - _stirlerr(x) - _stirlerr(m - x) - b1 - b2
    lf = _LN_2PI + np.log(x) + np.log1p(-x / m)
    res = np.zeros(live.shape)
    res[live] = np.exp(lc - 0.5 * lf)
    out[mid] = res
    return out


def binomial_law(n: int, p: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(pmf, cdf, sf)`` of ``Binomial(n, p)`` on ``0..n``: ``P(X = k)``, ``P(X <= k)``, ``P(X > k)``.

    The cdf sums the pmf from the left and the sf from the right, so each is accurate where it
    is small (the tails the truncation bounds use).
    """
    pmf = binomial_pmf(np.arange(n + 1), n, p)
    cdf = np.cumsum(pmf)
    sf = np.concatenate([np.cumsum(pmf[::-1])[::-1][1:], [0.0]])
    return pmf, cdf, sf
