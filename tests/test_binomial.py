"""numerics.binomial (Loader's saddle-point pmf): exact rationals, scipy's boost implementation, identities."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from numerics.binomial import binomial_law, binomial_pmf


@pytest.mark.parametrize("n, p", [(1, 0.3), (7, 0.5), (15, 0.01), (16, 0.2), (40, 0.3), (90, 0.05), (600, 0.1),
                                  (1000, 0.3)])
def test_pmf_matches_exact_rational_arithmetic(n, p):
    """comb(n, k) P^k Q^(n-k) in exact rationals (P the float p exactly). The exponent of a tail
    probability carries absolute rounding ~1e-16 |log pmf|, so the relative tolerance is
    1e-15 x max(10, |log pmf|): 1e-14 near the mode, 3.5e-13 at pmf = 1e-152."""
    P = Fraction(p)
    ks = sorted({0, 1, n // 3, int(n * p), int(n * p) + 3, n // 2, n - 1, n} & set(range(n + 1)))
    got = binomial_pmf(np.array(ks), n, p)
    for k, g in zip(ks, got):
        want = float(Fraction(math.comb(n, k)) * P**k * (1 - P) ** (n - k))
        if want > 1e-300:
            tol = 1e-15 * max(10.0, abs(math.log(want)))
            assert abs(g - want) <= tol * want, f"pmf({k}; {n}, {p}) = {g} vs exact {want} (rel tol {tol:.1e})"


@pytest.mark.parametrize("n, p", [(10, 0.5), (10_000, 3e-4), (10_000, 0.3), (100_000, 0.01)])
def test_law_agrees_with_scipy_where_mass_is(n, p):
    pmf, cdf, sf = binomial_law(n, p)
    k = np.arange(n + 1)
    ref = stats.binom.pmf(k, n, p)
    big = ref > 1e-200
    np.testing.assert_allclose(pmf[big], ref[big], rtol=1e-11, atol=0)
    assert abs(pmf.sum() - 1.0) < 1e-13
    tail = stats.binom.cdf(k, n, p) < 1e-3
    np.testing.assert_allclose(cdf[tail], stats.binom.cdf(k, n, p)[tail], rtol=1e-11, atol=1e-300)
    up = (stats.binom.sf(k, n, p) < 1e-3) & (stats.binom.sf(k, n, p) > 1e-200)
    np.testing.assert_allclose(sf[up], stats.binom.sf(k, n, p)[up], rtol=1e-11, atol=0)
    np.testing.assert_allclose(cdf[:-1] + sf[:-1], 1.0, atol=1e-13)


def test_broadcasting_edges_and_degenerate_p():
    k, n = np.array([0, 0, 1, 3, 2, 2]), np.array([0, 3, 1, 5, 1, -1])
    np.testing.assert_allclose(binomial_pmf(k, n, 0.5), [1.0, 0.125, 0.5, 0.3125, 0.0, 0.0], rtol=1e-15)
    np.testing.assert_array_equal(binomial_pmf(np.arange(4), 3, 0.0), [1.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(binomial_pmf(np.arange(4), 3, 1.0), [0.0, 0.0, 0.0, 1.0])
    # symmetry pmf(k; n, p) = pmf(n - k; n, 1 - p)
    a = binomial_pmf(np.arange(51), 50, 0.2)
    np.testing.assert_allclose(a, binomial_pmf(50 - np.arange(51), 50, 0.8), rtol=1e-13)
