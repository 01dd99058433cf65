"""numerics.dictionaries (orthogonal and coherent dictionaries, the dual basis) and
numerics.attacks.ellipsoid (the sandwich of the pure-net attack on a coherent dictionary)."""
from __future__ import annotations

import numpy as np
import pytest

import numerics.attacks.ellipsoid as ellipsoid
from numerics.activations import soft_threshold
from numerics.attacks.ellipsoid import ellipsoid_attack_value, ellipsoid_lower_bound, ellipsoid_pure_bounds
from numerics.attacks.pure_l2 import pure_l2_min_margin
from numerics.dictionaries import (coherent_dictionary, dual_basis, equicorrelated_gram, gram_eigen_range,
                                   make_dictionary, random_skew)
from numerics.errors import BoundViolation


@pytest.mark.parametrize("d, rho", [(2, 0.3), (5, 0.0), (8, 0.75), (16, 0.95)])
def test_coherent_dictionary_has_the_equicorrelated_gram(d, rho):
    M = coherent_dictionary(d, rho, seed=3)
    G = equicorrelated_gram(d, rho)
    assert np.allclose(M.T @ M, G, atol=1e-12), "M^T M must equal (1-rho) I + rho 11^T to 1e-12"
    assert np.allclose(np.linalg.norm(M, axis=0), 1.0, atol=1e-12), "columns must have unit norm (1e-12)"


def test_coherent_dictionary_at_rho_zero_is_the_orthogonal_dictionary():
    assert np.allclose(coherent_dictionary(7, 0.0, seed=4), make_dictionary(7, "random", 4), atol=1e-14)
    assert np.array_equal(coherent_dictionary(6, 0.5, seed=1), coherent_dictionary(6, 0.5, seed=1)), "seeded"


@pytest.mark.parametrize("d, rho", [(1, 0.4), (3, 0.2), (10, 0.9)])
def test_gram_eigen_range_matches_eigvalsh(d, rho):
    lam = np.linalg.eigvalsh(equicorrelated_gram(d, rho))
    lo, hi = gram_eigen_range(d, rho)
    assert lo == pytest.approx(lam[0], abs=1e-12) and hi == pytest.approx(lam[-1], abs=1e-12)


def test_dual_basis_reads_each_feature_exactly():
    M = coherent_dictionary(9, 0.6, seed=2)
    z = np.random.default_rng(0).standard_normal((5, 9))
    assert np.allclose((z @ M.T) @ dual_basis(M).T, z, atol=1e-10), "W x = z for x = M z (1e-10)"


def test_identity_gram_gives_the_exact_ball_attack():
    rng = np.random.default_rng(1)
    coef, v = rng.standard_normal((20, 6)), rng.choice([-1.0, 0.0, 1.0], size=(20, 6))
    lo, hi = ellipsoid_pure_bounds(coef, v, 0.3, 0.7, np.eye(6))
    exact = pure_l2_min_margin(coef, v, 0.3, 0.7).margin
    assert np.allclose(lo, exact, atol=1e-12) and np.allclose(hi, exact, atol=1e-12), "G = I: both bounds exact"


def test_bounds_sandwich_a_brute_force_search_in_two_dimensions():
    # d = 2: every feasible point u with u^T G u <= eps^2 on a fine polar grid; the sound bound
    # must be below every feasible value, the attack value must be a feasible value (>= the min).
    G = equicorrelated_gram(2, 0.6)
    L = np.linalg.cholesky(np.linalg.inv(G))  # u = eps * L s, ||s|| <= 1  <=>  u^T G u <= eps^2
    coef = np.array([[0.8, -0.5], [1.0, 1.0], [0.3, -1.2]])
    v = np.array([[1.0, 0.0], [0.0, -1.0], [1.0, 1.0]])
    eps, b = 0.9, 0.3
    lo, hi = ellipsoid_pure_bounds(coef, v, b, eps, G)
    ang = np.linspace(0, 2 * np.pi, 2001)
    rad = np.linspace(0, 1, 201)
    S = (rad[:, None, None] * np.stack([np.cos(ang), np.sin(ang)], axis=-1)[None]).reshape(-1, 2)
    U = eps * S @ L.T
    assert np.all(np.einsum("ni,ij,nj->n", U, G, U) <= eps**2 * (1 + 1e-9)), "grid must be feasible"
    for i in range(3):
        vals = (coef[i] * soft_threshold(v[i] + U, b)).sum(axis=1)
        brute = vals.min()
        assert lo[i] <= brute + 1e-12, f"row {i}: sound bound {lo[i]} above a feasible value {brute}"
        # the attack value is attained by a feasible point, so it cannot beat the true minimum;
        # the grid's minimum is within its resolution (Lipschitz |coef|_2 * spacing ~ 4e-3) of it
        assert hi[i] >= brute - 5e-3, f"row {i}: attack value {hi[i]} below the feasible minimum {brute} (tol 5e-3)"


def test_extra_directions_only_ever_lower_the_attack_value():
    rng = np.random.default_rng(2)
    coef, v = rng.standard_normal((10, 5)), rng.choice([-1.0, 0.0, 1.0], size=(10, 5))
    G = equicorrelated_gram(5, 0.5)
    hi = ellipsoid_attack_value(coef, v, 0.2, 0.5, G)
    hi2 = ellipsoid_attack_value(coef, v, 0.2, 0.5, G, directions=-coef)
    assert np.all(hi2 <= hi + 1e-15)


@pytest.mark.parametrize("rho, eps", [(0.3, 0.4), (0.7, 0.9), (0.9, 1.5)])
def test_raw_sound_bound_is_below_the_raw_attack_value(rho, eps):
    """The two raw halves, compared with no clamp in between: lower <= upper on coherent dictionaries,
    strictly somewhere (the sandwich is not trivially tight)."""
    rng = np.random.default_rng(3)
    d = 7
    coef, v = rng.standard_normal((60, d)), rng.choice([-1.0, 0.0, 1.0], size=(60, d), p=[0.2, 0.6, 0.2])
    G = equicorrelated_gram(d, rho)
    lo = ellipsoid_lower_bound(coef, v, 0.3, eps, G)
    hi = ellipsoid_attack_value(coef, v, 0.3, eps, G, directions=-coef)
    assert np.all(lo <= hi + 1e-12), f"sound bound above an attained value by {np.max(lo - hi):.3g}"
    assert np.mean(lo < hi - 1e-6) > 0.2, "the sandwich should have width on a coherent dictionary"
    lo2, hi2 = ellipsoid_pure_bounds(coef, v, 0.3, eps, G, directions=-coef)
    np.testing.assert_array_equal(lo2, lo)  # the combined call returns the raw values, unclamped
    np.testing.assert_array_equal(hi2, hi)


def test_a_sound_bound_above_the_attack_raises(monkeypatch):
    rng = np.random.default_rng(4)
    coef, v = rng.standard_normal((5, 4)), rng.choice([-1.0, 0.0, 1.0], size=(5, 4))
    honest = ellipsoid._lower
    monkeypatch.setattr(ellipsoid, "_lower", lambda *a: honest(*a) + 1.0)
    with pytest.raises(BoundViolation, match=r"^ellipsoid_pure_bounds: lower bound"):
        ellipsoid_pure_bounds(coef, v, 0.2, 0.5, equicorrelated_gram(4, 0.5))


def test_orthogonal_dictionaries_are_seeded_and_orthogonal():
    M = make_dictionary(9, "random", 5)
    assert np.allclose(M.T @ M, np.eye(9), atol=1e-12)
    assert np.array_equal(M, make_dictionary(9, "random", 5)) and not np.array_equal(M, make_dictionary(9, "random", 6))
    assert np.array_equal(make_dictionary(4, "identity"), np.eye(4))
    A = random_skew(6, 2)
    assert np.allclose(A, -A.T) and abs(np.linalg.norm(A) - np.sqrt(12)) < 1e-12


def test_old_import_path_of_the_ellipsoid_bounds_still_resolves():
    """theorems/explore/q01_dictionaries.py imports ellipsoid_pure_bounds from numerics.dictionaries (deprecated)."""
    import numerics.dictionaries as dictionaries

    assert dictionaries.ellipsoid_pure_bounds is ellipsoid_pure_bounds
    with pytest.raises(AttributeError):
        dictionaries.no_such_name  # noqa: B018


@pytest.mark.parametrize("kwargs, name", [({"rho": 1.0}, "rho"), ({"rho": -0.1}, "rho"), ({"d": 0}, "d")])
def test_bad_dictionary_arguments(kwargs, name):
    args = {"d": 4, "rho": 0.2, **kwargs}
    with pytest.raises(ValueError, match=rf"^{name} must be"):
        coherent_dictionary(args["d"], args["rho"])
    with pytest.raises(ValueError, match=r"^dictionary must be one of"):
        make_dictionary(4, "hadamard")


def test_bad_bounds_arguments():
    coef = np.ones((2, 3))
    with pytest.raises(ValueError, match=r"^G must be positive definite"):
        ellipsoid_pure_bounds(coef, coef, 0.1, 0.5, -np.eye(3))
    with pytest.raises(ValueError, match=r"^eps must be"):
        ellipsoid_pure_bounds(coef, coef, 0.1, -1.0, np.eye(3))
    with pytest.raises(ValueError, match=r"^v must have shape"):
        ellipsoid_pure_bounds(coef, np.ones((2, 4)), 0.1, 0.5, np.eye(3))
    with pytest.raises(ValueError, match=r"^radii must be"):
        ellipsoid_attack_value(coef, coef, 0.1, 0.5, np.eye(3), radii=0)
    with pytest.raises(ValueError, match=r"^M must be invertible"):
        dual_basis(np.zeros((3, 3)))
