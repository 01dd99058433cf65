"""Exact laws of the sparse-coding model: enumeration, grouped counts, law of <w, z>, Gaussian margins."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from numerics.activations import soft_threshold
from numerics.config import PointMass, UniformMagnitude
from numerics.errors import TooManyAtoms
from numerics.exact_law import (
    enumerate_atoms,
    gaussian_error,
    gaussian_logistic,
    grouped_atoms,
    inner_product_moments,
    inner_product_pmf,
    is_error,
    iter_enumerated_atoms,
    magnitude_moment,
    softplus,
    tie_sign,
)


def _p_tie_uniform(d: int, p: Fraction) -> Fraction:
    """P(a = b) for (a, b, rest) ~ Multinomial(d; p/2, p/2, 1-p), in exact rationals."""
    total = Fraction(0)
    for a in range(d // 2 + 1):
        total += Fraction(math.factorial(d), math.factorial(a) ** 2 * math.factorial(d - 2 * a)) \
            * (p / 2) ** (2 * a) * (1 - p) ** (d - 2 * a)
    return total


def _p_tie_uniform_logspace(d: int, p: float, a_max: int = 80) -> float:
    """The same sum in log space (terms with a > a_max are below 1e-30 for the d, p used here)."""
    lp, lq = math.log(p / 2), math.log1p(-p)
    return sum(math.exp(math.lgamma(d + 1) - 2 * math.lgamma(a + 1) - math.lgamma(d - 2 * a + 1)
                        + 2 * a * lp + (d - 2 * a) * lq) for a in range(min(a_max, d // 2) + 1))


# --------------------------------------------------------------------------- enumeration


def test_enumeration_is_the_product_law():
    atoms = enumerate_atoms(5, 0.3, 2.0)
    assert atoms.n == 3**5 and atoms.truncated_mass == 0.0
    assert abs(atoms.P.sum() - 1.0) < 1e-14, "enumerated probabilities sum to 1 (tol 1e-14)"
    Z = atoms.Z
    assert set(np.unique(Z)) == {-2.0, 0.0, 2.0}
    assert len({tuple(row) for row in Z}) == atoms.n, "every latent appears once"
    # marginals: P(z_i = +r) = p/2, P(z_i = 0) = 1 - p, and coordinates independent
    for i in range(5):
        assert abs(atoms.P[Z[:, i] == 2.0].sum() - 0.15) < 1e-14
        assert abs(atoms.P[Z[:, i] == 0.0].sum() - 0.7) < 1e-14
    both = (Z[:, 0] == 2.0) & (Z[:, 3] == -2.0)
    assert abs(atoms.P[both].sum() - 0.15**2) < 1e-14, "independent coordinates (tol 1e-14)"


def test_chunked_enumeration_equals_one_block():
    full = enumerate_atoms(7, 0.4, 1.0)
    chunks = list(iter_enumerated_atoms(7, 0.4, 1.0, chunk_size=500))
    assert len(chunks) == math.ceil(3**7 / 500)
    np.testing.assert_array_equal(np.concatenate([c.Z for c in chunks]), full.Z)
    np.testing.assert_array_equal(np.concatenate([c.P for c in chunks]), full.P)


def test_p_equal_one_puts_all_mass_on_full_support():
    atoms = enumerate_atoms(4, 1.0, 1.0)
    assert abs(atoms.P[np.all(atoms.Z != 0, axis=1)].sum() - 1.0) < 1e-15
    g = grouped_atoms(np.ones(4), 1.0, 1.0)
    assert np.all(g.Z != 0) and abs(g.P.sum() - 1.0) < 1e-15


# --------------------------------------------------------------------------- grouped counts


def _pure_value(Z, coef, thr):
    return soft_threshold(Z, thr) @ coef


@pytest.mark.parametrize("p", [0.1, 0.45])
def test_grouped_agrees_with_enumeration(p):
    """Functions of t = sign(w*) z symmetric inside groups: grouped law = full enumeration to 1e-12."""
    d = 10
    w = np.array([1.0, -1.0, 2.0, 1.0, -2.0, 1.0, 2.0, -1.0, 1.0, 0.0])  # 3 values of |w|, mixed signs, a zero
    coef = 0.7 * w  # the pure net's head: odd key o*coef = 0.7|w|
    thr = np.where(np.abs(w) == 2.0, 0.5, 0.2)  # even key, constant on |w| groups
    full = enumerate_atoms(d, p, 1.5)
    grp = grouped_atoms(w, p, 1.5, odd=(coef,), even=(thr,), tol=0.0)  # no truncation: equal up to rounding
    assert grp.truncated_mass == 0.0
    assert grp.details["groups"] == 3 and grp.n < full.n / 50
    for law in (full, grp):
        assert abs(law.P.sum() - 1.0) < 1e-12
    S_f, sc_f = full.linear_form(w)
    S_g, sc_g = grp.linear_form(w)
    y_f, y_g = tie_sign(S_f, sc_f), tie_sign(S_g, sc_g)
    m_f = y_f * _pure_value(full.Z, coef, thr)
    m_g = y_g * _pure_value(grp.Z, coef, thr)
    checks = {
        "P(tie)": (full.P @ (y_f == 0), grp.P @ (y_g == 0)),
        "E margin": (full.P @ m_f, grp.P @ m_g),
        "P(margin <= 0.3)": (full.P @ (m_f <= 0.3), grp.P @ (m_g <= 0.3)),
        "E S^2": (full.P @ S_f**2, grp.P @ S_g**2),
        "E exp(S)": (full.P @ np.exp(S_f), grp.P @ np.exp(S_g)),
    }
    for name, (a, b) in checks.items():
        assert abs(a - b) < 1e-12 * max(1.0, abs(a)), f"{name}: enumeration {a!r} vs grouped {b!r} (rel tol 1e-12)"


def test_grouped_representatives_follow_orientation_and_counts():
    w = np.array([1.0, -1.0, 1.0, -1.0, 3.0])
    atoms = grouped_atoms(w, 0.5, 1.0)
    groups = atoms.group_of_feature
    assert groups[0] == groups[1] == groups[2] == groups[3] != groups[4]
    t = atoms.Z * np.where(w < 0, -1.0, 1.0)  # oriented latents
    small = t[:, :4]
    for row in small:  # +r first, then -r, then zeros (in feature order inside the group)
        nz = row[row != 0]
        assert np.all(np.diff(nz) <= 0) and np.all(row[len(nz):] == 0)


def test_truncation_bound_is_honoured_at_d_4096():
    d = 4096
    w = np.full(d, 1.0 / 64)
    for tol in (1e-12, 1e-4):
        atoms = grouped_atoms(w, 16 / d, 1.0, tol=tol)
        omitted = 1.0 - atoms.P.sum()
        assert atoms.truncated_mass <= tol, f"bound {atoms.truncated_mass} within tol {tol}"
        assert omitted <= atoms.truncated_mass + 1e-14, f"omitted mass {omitted} <= bound {atoms.truncated_mass}"
    assert omitted > 1e-6, "at tol 1e-4 some mass is really dropped"
    # the truncated law moves P(S = 0) by at most the dropped mass
    exact = _p_tie_uniform_logspace(d, 16 / d)
    tie_small = inner_product_pmf(w, 16 / d, 1.0, tol=1e-4).prob(0.0)
    tie_full = inner_product_pmf(w, 16 / d, 1.0).prob(0.0)
    assert abs(tie_full - exact) < 1e-12, "P(S=0) at d=4096 vs the multinomial sum (tol 1e-12)"
    assert exact - 1e-4 <= tie_small <= exact + 1e-12


def test_restrict_keeps_actives_and_drops_only_inactive_features():
    d = 300
    w = np.r_[np.ones(200), 2 * np.ones(100)]
    atoms = grouped_atoms(w, 0.01, 1.0)
    small = atoms.restrict(3)
    assert small.width < 60
    full, sub = atoms.Z, small.Z
    np.testing.assert_array_equal(full[:, small.columns], sub)
    outside = np.setdiff1d(np.arange(d), small.columns)
    assert np.all(full[:, outside] == 0), "dropped columns are zero in every atom"
    # in each group, at least 3 zero columns survive unless the group is exhausted
    for g in range(2):
        cols = small.columns[atoms.group_of_feature[small.columns] == g]
        zeros = (sub[:, np.isin(small.columns, cols)] == 0).sum(axis=1)
        assert zeros.min() >= 3


def test_key_rounding_merges_floating_noise_only():
    w = np.ones(8)
    noisy = w + 1e-15 * np.arange(8)
    atoms = grouped_atoms(w, 0.3, 1.0, odd=(noisy,))
    assert atoms.details["groups"] == 1 and atoms.details["key_spread"] < 1e-13
    atoms = grouped_atoms(w, 0.3, 1.0, odd=(w + 1e-3 * np.arange(8),))
    assert atoms.details["groups"] == 8


# --------------------------------------------------------------------------- law of <w, z>


def test_inner_product_pmf_matches_enumeration_and_moments():
    w = np.array([0.3, -1.1, 0.7, 0.3, 2.0, -0.7, 0.0, 1.1, 0.3])
    p, r = 0.35, 1.3
    law = inner_product_pmf(w, p, r)
    assert law.truncated_mass <= 1e-12
    full = enumerate_atoms(w.size, p, r)
    S, _ = full.linear_form(w)
    for v, q in zip(law.support, law.probs):
        assert abs(full.P[np.abs(S - v) < 1e-9].sum() - q) < 1e-13, f"P(S={v}) (tol 1e-13)"
    assert abs(law.probs.sum() - 1.0) < 1e-12
    mom = inner_product_moments(w, p, PointMass(r))
    assert abs(law.moment(1)) < 1e-13
    assert abs(law.moment(2) - mom["variance"]) < 1e-12 * mom["variance"]
    assert abs(law.moment(4) - mom["fourth"]) < 1e-11 * mom["fourth"]
    assert abs(mom["variance"] - p * r**2 * (w @ w)) < 1e-14


def test_uniform_w_tie_probability_closed_form():
    d, p = 6, Fraction(1, 4)
    law = inner_product_pmf(np.full(d, 1 / math.sqrt(d)), 0.25, 1.0)
    assert abs(law.prob(0.0) - float(_p_tie_uniform(d, p))) < 1e-15
    # support: r c (a - b) for |a - b| <= d
    c = 1 / math.sqrt(d)
    np.testing.assert_allclose(law.support, c * np.arange(-d, d + 1), atol=1e-12)


def test_magnitude_moments():
    u = UniformMagnitude(0.5, 2.0)
    for k in range(6):
        assert abs(magnitude_moment(u, k) - stats.uniform(0.5, 1.5).moment(k)) < 1e-12
    assert magnitude_moment(PointMass(1.5), 4) == 1.5**4


def test_fourth_moment_uniform_magnitude_against_monte_carlo():
    w = np.array([1.0, -0.5, 2.0, 0.25])
    p, u = 0.4, UniformMagnitude(0.5, 2.0)
    rng = np.random.default_rng(11)
    n = 1_000_000
    z = (rng.random((n, 4)) < p) * np.where(rng.random((n, 4)) < 0.5, -1, 1) * rng.uniform(0.5, 2.0, (n, 4))
    S = z @ w
    mom = inner_product_moments(w, p, u)
    for key, vals in (("variance", S**2), ("fourth", S**4)):
        half = stats.t.ppf(0.9995, n - 1) * vals.std(ddof=1) / math.sqrt(n)
        assert abs(vals.mean() - mom[key]) < half, f"{key}: MC {vals.mean()} vs formula {mom[key]} (99.9% CI {half})"


# --------------------------------------------------------------------------- Gaussian margins and ties


def test_gaussian_error_matches_norm_cdf():
    mu = np.array([-1.0, 0.0, 0.5, 3.0, 0.0])
    s = np.array([0.5, 1.0, 2.0, 0.1, 0.0])
    out = gaussian_error(mu, s)
    np.testing.assert_allclose(out[:4], stats.norm.cdf(-mu[:4] / s[:4]), rtol=1e-14)
    assert out[4] == 1.0, "s = 0 and mu = 0: margin 0 is an error"


def test_gaussian_logistic_against_gauss_hermite_and_identity():
    mu = np.array([-2.0, -0.3, 0.0, 0.7, 4.0])
    s = np.array([0.4, 1.0, 2.5, 0.05, 3.0])
    vals, errs = gaussian_logistic(mu, s)
    nodes, weights = np.polynomial.hermite_e.hermegauss(200)
    ref = (softplus(-(mu[:, None] + s[:, None] * nodes[None, :])) @ weights) / math.sqrt(2 * math.pi)
    np.testing.assert_allclose(vals, ref, atol=1e-9, err_msg="quad vs 200-point Gauss-Hermite (atol 1e-9)")
    assert np.all(errs < 1e-8)
    # softplus(-m) - softplus(m) = -m, so E_mu - E_{-mu} = -mu exactly
    neg, _ = gaussian_logistic(-mu, s)
    np.testing.assert_allclose(vals - neg, -mu, atol=1e-10)
    v0, e0 = gaussian_logistic(np.array([0.5]), 0.0)
    assert v0[0] == pytest.approx(math.log1p(math.exp(-0.5)), abs=1e-15) and e0[0] == 0.0


def test_tie_sign_treats_floating_zero_as_zero():
    z = np.array([[1.0, 1.0, -1.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
    w = np.array([0.1, 0.2, 0.3, 0.4])  # 0.1 + 0.2 - 0.3 = 5.6e-17 in floating point
    assert (z @ w)[0] != 0.0
    np.testing.assert_array_equal(tie_sign(z @ w, np.abs(z) @ np.abs(w)), [0.0, 1.0])
    assert list(is_error(np.array([1e-18, 1e-3, -1.0]), np.ones(3))) == [True, False, True]


# --------------------------------------------------------------------------- bad inputs


def test_tie_rule_lives_with_the_labels():
    """exact_law re-exports the rule of numerics.sparse_coding (one implementation)."""
    import numerics.exact_law as exact_law
    import numerics.sparse_coding as sparse_coding

    assert exact_law.tie_sign is sparse_coding.tie_sign and exact_law.is_error is sparse_coding.is_error
    assert exact_law.TIE_RTOL == sparse_coding.TIE_RTOL


def test_bad_inputs_name_the_parameter():
    with pytest.raises(ValueError, match=r"^p must be"):
        enumerate_atoms(3, 0.0, 1.0)
    with pytest.raises(ValueError, match=r"^d must be"):
        enumerate_atoms(13, 0.5, 1.0)
    with pytest.raises(ValueError, match=r"^max_d must be"):
        enumerate_atoms(3, 0.5, 1.0, max_d=17)
    with pytest.raises(ValueError, match=r"^magnitude must be a point mass"):
        enumerate_atoms(3, 0.5, UniformMagnitude(0.0, 1.0))
    with pytest.raises(ValueError, match=r"^magnitude must be"):
        grouped_atoms(np.ones(3), 0.5, -1.0)
    with pytest.raises(ValueError, match=r"^wstar must be a 1-D array"):
        grouped_atoms(np.ones((3, 2)), 0.5, 1.0)
    with pytest.raises(ValueError, match=r"^tol must be"):
        grouped_atoms(np.ones(3), 0.5, 1.0, tol=-1e-3)
    with pytest.raises(ValueError, match=r"^odd\[0\] must have shape"):
        grouped_atoms(np.ones(3), 0.5, 1.0, odd=(np.ones(4),))
    with pytest.raises(TooManyAtoms, match=r"^max_atoms=1000 is too small"):
        grouped_atoms(np.arange(1.0, 30.0), 0.5, 1.0, max_atoms=1000)
    with pytest.raises(ValueError, match=r"^k must be"):
        magnitude_moment(PointMass(1.0), -1)
    with pytest.raises(ValueError, match=r"^s must be"):
        gaussian_error(np.zeros(2), -1.0)
