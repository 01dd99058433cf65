"""Exact l2 worst case of the pure soft-threshold net (numerics.attacks.pure_l2).

Checked against: a generic constrained solver on every branch choice (SLSQP, d <= 4); dense grids
on the sphere (d = 2, 3); exhaustive enumeration of pushed sets / per-class counts with an
independent tau-bisection water-filling (moderate d, and the typical sigma = 0 structure at
d = 256, where the solver bisects instead of enumerating); hand-built cases with known values;
the S3 closed form; the linear dual-norm value at b = 0; invariances; errors.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import minimize

from numerics.activations import soft_threshold
from numerics.attacks.linear import linear_min_margin
from numerics.attacks.pure_l2 import (
    damage_pieces,
    easy_regime_drop,
    easy_regime_radius,
    feature_damage,
    in_easy_regime,
    pure_l2_min_margin,
    pure_net_min_margin,
)
from numerics.dictionaries import make_dictionary, random_skew
from numerics.errors import ExactUnavailable, TooManyCandidates
from numerics.networks import mixed_net, mixing_path, pure_net

TOL = 1e-9


def _margin_at(coef, v, b, u):
    return np.sum(coef * soft_threshold(v + u, b), axis=-1)


# ------------------------------------------------------------------ independent references


def _slsqp_min_margin(coef, v, b, eps, starts=3, seed=0):
    """Max damage over every branch choice (unpushed c*min(t, alpha) / pushed c*(t - gap) for
    each feature), each solved as a smooth convex program (epigraph s <= t, s <= alpha) by SLSQP."""
    d = len(coef)
    c, alpha, gap = damage_pieces(coef, v, b)
    alpha, gap = np.broadcast_to(alpha, (d,)), np.broadcast_to(gap, (d,))
    rng = np.random.default_rng(seed)
    best = 0.0
    eye, zero = np.eye(d), np.zeros((d, d))
    for P in itertools.product([False, True], repeat=d):
        P = np.array(P)
        grad = -np.concatenate([np.where(P, c, 0.0), np.where(P, 0.0, c)])
        cons = [
            {"type": "ineq", "fun": lambda x: eps**2 - x[:d] @ x[:d], "jac": lambda x: np.concatenate([-2 * x[:d], np.zeros(d)])},
            {"type": "ineq", "fun": lambda x: x[:d] - x[d:], "jac": lambda x: np.hstack([eye, -eye])},
            {"type": "ineq", "fun": lambda x: alpha - x[d:], "jac": lambda x: np.hstack([zero, -eye])},
        ]
        for _ in range(starts):
            t0 = rng.random(d) * eps / np.sqrt(d)
            x0 = np.concatenate([t0, np.minimum(t0, alpha)])
            r = minimize(lambda x: grad @ x, x0, jac=lambda x: grad, constraints=cons,
                         bounds=[(0, None)] * d + [(None, None)] * d, method="SLSQP",
                         options={"ftol": 1e-15, "maxiter": 500})
            t = np.clip(r.x[:d], 0, None)
            t *= min(1.0, eps / max(np.linalg.norm(t), 1e-300))  # feasible point: a valid lower bound
            best = max(best, float(np.sum(feature_damage(t, coef, v, b))))
    return float(np.sum(coef * soft_threshold(v, b))) - best


def _bisection_value(c, alpha, gap, pushed, eps):
    """Concave problem for each row of ``pushed`` (S, d), solved by bisection on the water level."""
    lin = pushed | (gap == 0)
    cpos = c[c > 0]
    hi = np.full(pushed.shape[0], 2 * eps / cpos.min() + 1.0 if len(cpos) else 1.0)
    lo = np.zeros_like(hi)

    def t_of(tau):
        return np.where(lin, c * tau[:, None], np.minimum(c * tau[:, None], alpha))

    for _ in range(200):
        mid = 0.5 * (lo + hi)
        ok = (t_of(mid) ** 2).sum(axis=1) <= eps**2
        lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
    t = t_of(lo)
    return np.where(lin, c * (t - gap), c * np.minimum(t, alpha)).sum(axis=1)


def _subsets_min_margin(coef, v, b, eps):
    """Enumerate every pushed set among features with gap > 0 (2^n candidates)."""
    c, alpha, gap = damage_pieces(coef, v, b)
    alpha, gap = np.broadcast_to(alpha, c.shape), np.broadcast_to(gap, c.shape)
    idx = np.nonzero((gap > 0) & (c > 0))[0]
    P = np.zeros((2 ** len(idx), len(c)), dtype=bool)
    P[:, idx] = (np.arange(2 ** len(idx))[:, None] >> np.arange(len(idx))) & 1
    return float(np.sum(coef * soft_threshold(v, b)) - _bisection_value(c, alpha, gap, P, eps).max())


def _class_counts_min_margin(coef, v, b, eps):
    """Enumerate every vector of per-class pushed counts (classes: identical (alpha, gap); pushed =
    largest c first). Exhaustive: no bisection, no chain merging."""
    c, alpha, gap = damage_pieces(coef, v, b)
    alpha, gap = np.broadcast_to(alpha, c.shape), np.broadcast_to(gap, c.shape)
    keys = sorted({(a, g) for a, g, cc in zip(alpha, gap, c) if g > 0 and cc > 0})
    classes = [np.array(sorted(np.nonzero((alpha == a) & (gap == g) & (c > 0))[0], key=lambda i: -c[i])) for a, g in keys]
    counts = np.array(list(itertools.product(*[range(len(k) + 1) for k in classes])))
    P = np.zeros((len(counts), len(c)), dtype=bool)
    for j, cls in enumerate(classes):
        P[:, cls] = np.arange(len(cls))[None, :] < counts[:, j:j + 1]
    return float(np.sum(coef * soft_threshold(v, b)) - _bisection_value(c, alpha, gap, P, eps).max())


def _structured(rng, d):
    coef = rng.choice([-1, 1], size=d) * rng.choice([0.5, 1.0, 1.0, 2.0, 0.0], size=d)
    v = rng.choice([-1, 0, 0, 1], size=d) * rng.choice([1.0, 1.0, 0.3], size=d)
    b = rng.choice([0.0, 0.2, 0.5, 0.8, 1.2]) if rng.random() < 0.7 else rng.choice([0.2, 0.5], size=d)
    return coef, v, b, float(rng.choice([0.1, 0.5, 1.0, 1.5, 2.5, 4.0]))


# ------------------------------------------------------------------ agreement with brute force


def test_matches_slsqp_on_every_branch_choice_small_d():
    rng = np.random.default_rng(0)
    for case in range(40):
        d = int(rng.integers(1, 5))
        if case % 2:
            coef, v, b, eps = _structured(rng, d)
        else:
            coef, v, b, eps = rng.normal(size=d), rng.normal(size=d), rng.uniform(0, 1), rng.uniform(0, 3)
        got = pure_l2_min_margin(coef, v, b, eps).margin
        ref = _slsqp_min_margin(coef, v, b, eps, seed=case)
        assert abs(got - ref) <= TOL, f"case {case}: exact {got} vs SLSQP {ref} differ by more than {TOL}"


@pytest.mark.parametrize("d", [2, 3])
def test_no_point_of_a_dense_sphere_grid_beats_it(d):
    rng = np.random.default_rng(d)
    n = 200_000
    if d == 2:
        th = np.linspace(0, 2 * np.pi, n, endpoint=False)
        dirs, spacing = np.stack([np.cos(th), np.sin(th)], 1), np.pi / n
    else:  # Fibonacci lattice, covering radius below 2 / sqrt(n)
        k = np.arange(n) + 0.5
        z = 1 - 2 * k / n
        phi = np.pi * (1 + 5**0.5) * k
        dirs = np.stack([np.sqrt(1 - z**2) * np.cos(phi), np.sqrt(1 - z**2) * np.sin(phi), z], 1)
        spacing = 2.0 / np.sqrt(n)
    for _ in range(6):
        coef, v = rng.normal(size=d), rng.normal(size=d) * 0.8
        b, eps = rng.uniform(0.1, 0.8), rng.uniform(0.3, 2.5)
        exact = pure_l2_min_margin(coef, v, b, eps).margin
        grid = _margin_at(coef, v, b, eps * dirs).min()
        slack = np.linalg.norm(coef) * eps * spacing  # margin is ||coef||-Lipschitz in u
        assert grid >= exact - 1e-12, f"a grid point beats the exact minimum: {grid} < {exact}"
        assert grid <= exact + slack, f"grid min {grid} above exact {exact} by more than the resolution {slack}"


def test_matches_enumeration_of_all_pushed_sets_moderate_d():
    rng = np.random.default_rng(1)
    for case in range(25):
        d = int(rng.integers(6, 12))
        coef, v, b, eps = _structured(rng, d)
        got = pure_l2_min_margin(coef, v, b, eps).margin
        ref = _subsets_min_margin(coef, v, b, eps)
        assert abs(got - ref) <= TOL, f"case {case}: {got} vs all-subsets {ref} (tolerance {TOL})"


def test_general_inputs_distinct_features_and_chain_merging(monkeypatch):
    """sigma > 0: every feature distinct, checked against all 2^12 pushed sets. With equal |coef| and
    only dead features the distinct gaps form one chain once merged by patience sorting (forced
    here by merging whenever more than 1 candidate remains): the solver then bisects it alone."""
    import numerics.attacks.pure_l2 as mod

    rng = np.random.default_rng(2)
    for merge_above in (256, 1):
        monkeypatch.setattr(mod, "_MERGE_ABOVE", merge_above)
        for case in range(8):
            d = 12
            coef = rng.choice([-1, 1], size=d) * (1.0 if case < 4 else rng.uniform(0.3, 2.0, d))
            v = rng.normal(size=d) * (0.1 if case < 4 else 0.25)
            if case >= 4:
                v[:2] = rng.choice([-1, 1], 2) * (1 + 0.2 * rng.normal(size=2))  # two active features
            b, eps = 0.4, float(rng.choice([0.6, 1.2, 2.0]))
            res = pure_l2_min_margin(coef, v, b, eps)
            ref = _subsets_min_margin(coef, v, b, eps)
            assert abs(res.margin - ref) <= TOL, f"case {case}: {res.margin} vs all-subsets {ref} (tol {TOL})"
            if case < 4 and merge_above == 1:
                assert res.n_candidates == 1, f"equal |coef|: one chain expected, got {res.n_candidates} candidates"


def test_typical_population_structure_bisection_matches_full_count_enumeration():
    """sigma = 0, |v| in {0, r}, d = 256: the solver bisects the inactive chain; the reference
    enumerates every count of every class (including the full inactive one)."""
    rng = np.random.default_rng(3)
    d = 256
    for case, (r, b, eps) in enumerate([(1.0, 0.3, 2.5), (1.0, 0.3, 1.6), (1.0, 0.6, 3.5), (0.5, 0.7, 1.5)]):
        wstar = rng.normal(size=d) if case % 2 else np.ones(d)
        z = (rng.random(d) < 0.03) * rng.choice([-1.0, 1.0], d) * r
        y = np.sign(z @ wstar) or 1.0
        coef = y * 2.0 * wstar / np.linalg.norm(wstar) * np.sqrt(d / 8)
        res = pure_l2_min_margin(coef, z, b, eps)
        ref = _class_counts_min_margin(coef, z, b, eps)
        assert abs(res.margin - ref) <= TOL, f"case {case}: {res.margin} vs count enumeration {ref} (tol {TOL})"
        assert res.n_pushed > 0, f"case {case} was meant to exercise pushing"


def test_batch_equals_row_by_row_and_block_size_does_not_matter(monkeypatch):
    import numerics.attacks.pure_l2 as mod

    rng = np.random.default_rng(4)
    rows = [_structured(rng, 7) for _ in range(30)]
    eps = 1.5
    coef = np.stack([r[0] for r in rows])
    v = np.stack([r[1] for r in rows])
    b = np.stack([np.broadcast_to(r[2], (7,)) for r in rows])
    batch = pure_l2_min_margin(coef, v, b, eps)
    single = np.array([pure_l2_min_margin(coef[i], v[i], b[i], eps).margin for i in range(30)])
    np.testing.assert_allclose(batch.margin, single, rtol=0, atol=1e-12, err_msg="batch vs rows (atol 1e-12)")
    assert batch.u.shape == (30, 7) and batch.margin.shape == (30,)
    monkeypatch.setattr(mod, "_CHUNK_ELEMENTS", 5)  # one sample (or less) per block
    small = pure_l2_min_margin(coef, v, b, eps)
    np.testing.assert_array_equal(small.margin, batch.margin)
    np.testing.assert_array_equal(small.u, batch.u)


# ------------------------------------------------------------------ hand-built cases


def test_pushing_an_inactive_feature_wins():
    """b = 0.5, eps = 1.5; feature 0 inactive with |coef| = 1, feature 1 active (alpha = 0.5) with
    |coef| = 0.1. Water-filling alone gains 0.05; pushing feature 0 with t = (1, 0.1) tau gains
    1.5 sqrt(1.01) - 0.5."""
    res = pure_l2_min_margin(np.array([1.0, 0.1]), np.array([0.0, 1.0]), 0.5, 1.5)
    want = 0.05 - (1.5 * np.sqrt(1.01) - 0.5)
    assert abs(res.margin - want) <= 1e-14, f"{res.margin} vs closed form {want} (tol 1e-14)"
    assert res.n_pushed == 1 and res.n_saturated == 0 and not res.easy
    np.testing.assert_allclose(res.u, -1.5 / np.sqrt(1.01) * np.array([1.0, 0.1]), atol=1e-14)


def test_pushing_one_of_two_identical_features_through_the_dead_zone_wins():
    """coef = v = (1, 1), b = 0.2, eps = 2: saturating both gains 1.6, pushing both 2(sqrt 2 - 0.4),
    pushing one and saturating the other sqrt(4 - 0.64) - 0.4 + 0.8 (best: the optimum within a
    group of identical features need not be symmetric)."""
    res = pure_l2_min_margin(np.ones(2), np.ones(2), 0.2, 2.0)
    want = 1.6 - (np.sqrt(3.36) + 0.4)
    assert abs(res.margin - want) <= 1e-14, f"{res.margin} vs closed form {want} (tol 1e-14)"
    assert res.n_pushed == 1 and res.n_saturated == 1
    assert sorted(np.abs(res.u)) == pytest.approx([0.8, np.sqrt(3.36)], abs=1e-14)


def test_single_feature_pushed_across_zero():
    res = pure_l2_min_margin(np.array([1.0]), np.array([1.0]), 0.2, 2.0)  # A(1 - 2) = -0.8
    assert abs(res.margin - (-0.8)) <= 1e-15 and res.n_pushed == 1


# ------------------------------------------------------------------ closed forms and limits


def test_s3_easy_regime_closed_form_and_its_boundaries():
    rng = np.random.default_rng(5)
    d, lam, b = 64, 1.7, 0.4
    wstar = rng.normal(size=d)
    for _ in range(20):
        active = rng.random(d) < 0.15
        z = active * rng.choice([-1.0, 1.0], d)
        y = np.sign(z @ wstar)
        coef = y * lam * wstar
        radius = easy_regime_radius(wstar, active, b)
        for eps in (0.5 * radius, radius):
            assert in_easy_regime(wstar, active, eps, b)
            res = pure_l2_min_margin(coef, z, b, eps)
            drop = res.clean_margin - res.margin
            want = easy_regime_drop(wstar, active, eps, lam)
            assert abs(drop - want) <= 1e-12, f"S3: drop {drop} vs lam eps ||w*_S|| = {want} (tol 1e-12)"
        assert not in_easy_regime(wstar, active, radius * 1.01 + 1e-9, b)
    # past the saturation bound (here (1 - b') ||w_S|| / max |w_i| < b'): the largest aligned
    # coordinate saturates at 1 - b' and the drop falls below the formula
    b2 = 0.7
    active = np.zeros(d, bool)
    active[:3] = True
    w3 = np.zeros(d)
    w3[:3] = [3.0, 0.5, 0.5]
    radius = easy_regime_radius(w3, active, b2)
    assert abs(radius - 0.3 * np.sqrt(9.5) / 3.0) <= 1e-15 and radius < b2
    z = active * 1.0
    res = pure_l2_min_margin(lam * w3, z, b2, 0.4)  # radius < 0.4 < b'
    assert res.n_saturated == 1 and res.n_pushed == 0
    want = lam * (3.0 * 0.3 + 0.5 * np.sqrt(2) * np.sqrt(0.4**2 - 0.3**2))  # saturated + water-filled rest
    assert abs(res.clean_margin - res.margin - want) <= 1e-12
    assert want < easy_regime_drop(w3, active, 0.4, lam) - 1e-3
    # past b: heavy inactive features get pushed through their dead zone, the drop exceeds the formula
    w4 = np.ones(d)
    res = pure_l2_min_margin(lam * w4, z, b, 3.0)
    assert res.n_pushed > 0
    assert res.clean_margin - res.margin > easy_regime_drop(w4, active, 3.0, lam) + 1e-3


def test_eps_zero_gives_the_clean_margin():
    rng = np.random.default_rng(6)
    coef, v = rng.normal(size=(20, 9)), rng.normal(size=(20, 9))
    res = pure_l2_min_margin(coef, v, 0.3, 0.0, offset=0.25)
    np.testing.assert_array_equal(res.margin, res.clean_margin)
    np.testing.assert_allclose(res.margin, 0.25 + (coef * soft_threshold(v, 0.3)).sum(1), atol=1e-15)
    assert np.all(res.u == 0)


def test_b_zero_is_the_linear_dual_norm_value():
    rng = np.random.default_rng(7)
    coef, v = rng.normal(size=(20, 9)), rng.normal(size=(20, 9))
    for eps in (0.1, 1.0, 5.0):
        res = pure_l2_min_margin(coef, v, 0.0, eps)
        want = np.array([linear_min_margin((coef[i] * v[i]).sum(), coef[i], eps) for i in range(20)])
        np.testing.assert_allclose(res.margin, want, rtol=0, atol=1e-12, err_msg="b = 0 vs dual norm (atol 1e-12)")


def test_damage_never_exceeds_the_linear_bound_and_pieces_match_the_activation():
    rng = np.random.default_rng(8)
    coef, v, b = rng.normal(size=(50, 6)), rng.normal(size=(50, 6)), rng.uniform(0, 1, 6)
    for eps in (0.2, 1.0, 3.0):
        res = pure_l2_min_margin(coef, v, b, eps)
        assert np.all(res.clean_margin - res.margin <= eps * np.linalg.norm(coef, axis=1) + 1e-12)
    t = rng.uniform(0, 3, (50, 6))
    direct = coef * (soft_threshold(v, b) - soft_threshold(v - np.sign(coef) * t, b))
    np.testing.assert_allclose(feature_damage(t, coef, v, b), direct, atol=1e-14)


# ------------------------------------------------------------------ invariances and the attack itself


def test_invariant_under_feature_permutation_and_joint_sign_flip():
    rng = np.random.default_rng(9)
    for _ in range(20):
        coef, v, b, eps = _structured(rng, 8)
        b = np.broadcast_to(b, (8,))
        base = pure_l2_min_margin(coef, v, b, eps)
        perm = rng.permutation(8)
        flip = rng.choice([-1.0, 1.0], 8)
        other = pure_l2_min_margin(flip[perm] * coef[perm], flip[perm] * v[perm], b[perm], eps)
        assert abs(base.margin - other.margin) <= 1e-12, "permutation + sign flip changed the margin (tol 1e-12)"


def test_returned_u_attains_the_margin_within_the_ball():
    rng = np.random.default_rng(10)
    for eps in (0.3, 1.2, 3.0):
        coef, v, b = rng.normal(size=(40, 10)), rng.normal(size=(40, 10)), rng.uniform(0, 0.8, 10)
        res = pure_l2_min_margin(coef, v, b, eps, offset=-0.1)
        assert np.all(np.linalg.norm(res.u, axis=1) <= eps + 1e-12), "||u|| exceeds eps (+1e-12)"
        np.testing.assert_allclose(res.margin, -0.1 + _margin_at(coef, v, b, res.u), atol=1e-13)
        np.testing.assert_array_equal(res.easy, (res.n_pushed == 0) & (res.n_saturated == 0))
        c, alpha, gap = damage_pieces(coef, v, b)
        live_mass = np.where((gap == 0) | (alpha > 0), c * c, 0.0).sum(1)
        drop = res.clean_margin - res.margin
        np.testing.assert_allclose(drop[res.easy], eps * np.sqrt(live_mass[res.easy]), atol=1e-12)


def test_monotone_non_increasing_in_eps():
    rng = np.random.default_rng(11)
    coef, v = rng.normal(size=(30, 8)), rng.choice([-1.0, 0.0, 1.0], (30, 8))
    margins = np.array([pure_l2_min_margin(coef, v, 0.4, e).margin for e in np.linspace(0, 4, 41)])
    assert np.all(np.diff(margins, axis=0) <= 1e-12), "margin increased with eps (tol 1e-12)"


def test_pure_net_wrapper_matches_the_network():
    d = 16
    M = make_dictionary(d, "random", 1)
    rng = np.random.default_rng(12)
    wstar = rng.normal(size=d)
    net = pure_net(M, wstar, 0.35, lam=1.3)
    z = (rng.random((25, d)) < 0.2) * rng.choice([-1.0, 1.0], (25, d))
    x = z @ M.T
    y = np.sign(z @ wstar)
    res = pure_net_min_margin(net, x, y, 0.9, M)
    direct = pure_l2_min_margin(y[:, None] * net.a, z, 0.35, 0.9)
    np.testing.assert_allclose(res.margin, direct.margin, atol=1e-12)
    np.testing.assert_allclose(res.margin, y * net(x + res.delta), atol=1e-12, err_msg="margin at x + delta (1e-12)")
    assert np.all(np.linalg.norm(res.delta, axis=1) <= 0.9 + 1e-12)


# ------------------------------------------------------------------ errors


def test_bad_inputs_raise():
    coef, v = np.ones(3), np.zeros(3)
    with pytest.raises(ValueError, match=r"^eps must be"):
        pure_l2_min_margin(coef, v, 0.1, -0.5)
    with pytest.raises(ValueError, match=r"^b must be >= 0"):
        pure_l2_min_margin(coef, v, -0.1, 0.5)
    with pytest.raises(ValueError, match=r"^b must be a scalar, \(d,\) or \(n, d\) array"):
        pure_l2_min_margin(coef, v, np.ones(4), 0.5)
    with pytest.raises(ValueError, match=r"^v must have d = 3 features"):
        pure_l2_min_margin(coef, np.zeros(4), 0.1, 0.5)
    with pytest.raises(ValueError, match=r"^v must have as many rows as coef"):
        pure_l2_min_margin(np.ones((2, 3)), np.zeros((3, 3)), 0.1, 0.5)
    with pytest.raises(ValueError, match=r"^coef must be a \(d,\) or \(n, d\) array"):
        pure_l2_min_margin(np.ones((2, 2, 3)), v, 0.1, 0.5)
    with pytest.raises(ValueError, match=r"^coef must contain only finite numbers"):
        pure_l2_min_margin(np.array([1.0, np.nan, 0.0]), v, 0.1, 0.5)
    with pytest.raises(ValueError, match=r"^offset must be a scalar or an \(n,\) array"):
        pure_l2_min_margin(coef, v, 0.1, 0.5, offset=np.ones(2))
    with pytest.raises(ValueError, match=r"^max_candidates must be an integer"):
        pure_l2_min_margin(coef, v, 0.1, 0.5, max_candidates=0)
    d = 4
    M = make_dictionary(d, "random", 0)
    w = np.ones(d)
    mixed = mixed_net(M, w, mixing_path(random_skew(d, 0), 0.3), 0.2)
    with pytest.raises(ValueError, match=r"^net must be a pure soft-threshold net"):
        pure_net_min_margin(mixed, np.zeros((1, d)), np.ones(1), 0.1, M)
    with pytest.raises(ValueError, match=r"^net\.W rows must be the columns of M"):
        pure_net_min_margin(pure_net(M, w, 0.2), np.zeros((1, d)), np.ones(1), 0.1, make_dictionary(d, "random", 1))
    with pytest.raises(ValueError, match=r"^active must be a boolean mask"):
        easy_regime_drop(w, np.ones(d), 0.1)


def test_too_many_candidates_is_a_typed_exception():
    """General inputs: the exponential enumeration stops at max_candidates with its own exception type."""
    rng = np.random.default_rng(13)
    coef, v = rng.uniform(0.5, 2, 14), rng.normal(size=14) * 0.1
    with pytest.raises(TooManyCandidates, match=r"^max_candidates: sample 0 needs about") as info:
        pure_l2_min_margin(coef, v, 0.3, 2.0, max_candidates=4)
    assert isinstance(info.value, ExactUnavailable) and isinstance(info.value, ValueError)
    assert pure_l2_min_margin(coef, v, 0.3, 2.0).n_candidates > 4, "the default limit lets the same input through"
