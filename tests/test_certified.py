"""Certified lower bounds (numerics.attacks.certified): exact where the worst case is known,
sound against sampled and PGD perturbations, monotone in eps, invariances, errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import numerics.attacks.certified as certified
from numerics.attacks.certified import certified_min_margin, ibp_min_margin, lipschitz_min_margin, rounding_allowance
from numerics.attacks.linear import linear_min_margin, linear_worst_delta
from numerics.attacks.pgd import pgd_min_margin
from numerics.dictionaries import make_dictionary, random_skew
from numerics.networks import TwoLayerNet, linear_net, mixed_net, mixing_path, pure_net
from numerics.torch_nets import to_torch
from numerics.sparse_coding import labels

torch.set_num_threads(1)
SOUND = 1e-9  # float64 rounding allowance for "bound <= attained margin"


@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_linear_nets_bound_equals_exact_dual_norm_value(norm, labelled_data):
    d, eps = 12, 0.35
    M = make_dictionary(d, "random", 1)
    w = np.random.default_rng(2).standard_normal(d)
    rng = np.random.default_rng(3)
    nets = [linear_net(M, w, 0.8), mixed_net(M, w, mixing_path(random_skew(d, 4), 0.5), 0.0),
            TwoLayerNet(W=rng.standard_normal((9, d)), a=rng.standard_normal(9), b=np.zeros(9), c=0.2)]
    x, y = labelled_data(5, 50, d)
    for net in nets:
        exact = linear_min_margin(y * net(x), net.a @ net.W, eps, norm)
        np.testing.assert_allclose(certified_min_margin(net, x, y, eps, norm), exact, atol=1e-12,
                                   err_msg=f"{net.family}: certified != exact dual-norm value (tol 1e-12)")
        # the exact value is attained: the bound is tight, not just sound
        attained = y * net(x + linear_worst_delta(net.a @ net.W, y, eps, norm))
        np.testing.assert_allclose(attained, exact, atol=1e-12)


def test_pure_net_in_regime_s3_bound_is_the_exact_worst_case():
    """S3 (sigma = 0, unit magnitudes, eps <= b, eps|w_i|/||w_S|| <= 1 - b): no node is uncertain."""
    d, b, lam, eps = 16, 0.4, 1.3, 0.3
    M = make_dictionary(d, "random", 7)
    rng = np.random.default_rng(8)
    w = rng.standard_normal(d)
    z = (rng.random((80, d)) < 0.25) * np.where(rng.random((80, d)) < 0.5, -1.0, 1.0)
    x, y = z @ M.T, labels(z, w)
    net = pure_net(M, w, b, lam)
    expected = lam * (1 - b) * np.abs(z @ w) - lam * eps * np.linalg.norm(np.abs(z) * w, axis=1)
    np.testing.assert_allclose(certified_min_margin(net, x, y, eps), expected, atol=1e-12,
                               err_msg="pure net in S3 regime: certified != closed form (tol 1e-12)")


@pytest.mark.parametrize("activation", ["soft_threshold", "relu"])
@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_single_node_interval_bound_is_attained(activation, norm, labelled_data):
    """One node: the pre-activation sweeps all of t +- eps||w||_*, so IBP is the exact minimum."""
    rng = np.random.default_rng(9)
    d, eps = 8, 0.4
    w = rng.standard_normal(d)
    for a in (1.5, -0.7):
        net = TwoLayerNet(W=w[None], a=np.array([a]), b=np.array([0.2]), activation=activation, c=-0.1)
        x, y = labelled_data(10, 40, d)
        step = eps * (w / np.linalg.norm(w) if norm == "l2" else np.sign(w))
        attained = np.minimum(y * net(x + step), y * net(x - step))
        np.testing.assert_allclose(ibp_min_margin(net, x, y, eps, norm), attained, atol=1e-12)
        np.testing.assert_allclose(certified_min_margin(net, x, y, eps, norm), attained, atol=1e-12)


CASES = [(act, norm, bs) for act in ("soft_threshold", "relu") for norm in ("l2", "linf") for bs in (0.0, 0.3, 1.0)]


@pytest.mark.parametrize("activation,norm,b_scale", CASES)
def test_sound_against_sampled_and_pgd_perturbations(activation, norm, b_scale, random_net, labelled_data,
                                                    ball_perturbations):
    rng = np.random.default_rng(11)
    d, n, eps = 6, 40, (0.5 if norm == "l2" else 0.15)
    for seed in range(3):
        net = random_net(100 + seed, d=d, m=12, activation=activation, b_scale=b_scale)
        x, y = labelled_data(200 + seed, n, d)
        bounds = [certified_min_margin(net, x, y, eps, norm), ibp_min_margin(net, x, y, eps, norm),
                  lipschitz_min_margin(net, x, y, eps, norm)]
        deltas = ball_perturbations(rng, 400, d, eps, norm)
        sampled = np.min(y[:, None] * net((x[:, None, :] + deltas[None]).reshape(-1, d)).reshape(n, -1), axis=1)
        attacked = pgd_min_margin(net, x, y, eps, norm, steps=30, restarts=5, seed=seed)
        for bound in bounds:
            assert np.all(bound <= sampled + SOUND), f"bound above a sampled margin (tolerance {SOUND})"
            assert np.all(bound <= attacked + SOUND), f"bound above a PGD margin (tolerance {SOUND})"
        # the larger of the two, less the rounding allowance (relative ~1e-14 here: never the difference between them)
        allowance = rounding_allowance(net, x, y, eps, norm)
        assert np.all(bounds[0] == np.maximum(bounds[1], bounds[2]) - allowance)
        assert np.all(allowance > 0) and np.all(allowance < 1e-12)


def test_sound_in_two_dims_against_brute_force_grid(random_net, labelled_data):
    net = random_net(12, d=2, m=6, b_scale=0.5)
    x, y = labelled_data(13, 25, 2)
    eps = 0.5
    r = np.linspace(0, eps, 60)
    th = np.linspace(0, 2 * np.pi, 360, endpoint=False)
    grid = (r[:, None, None] * np.stack([np.cos(th), np.sin(th)], -1)[None]).reshape(-1, 2)
    grid_min = np.array([np.min(yi * net(xi + grid)) for xi, yi in zip(x, y)])
    bound = certified_min_margin(net, x, y, eps)
    assert np.all(bound <= grid_min + SOUND), f"bound above the brute-force grid minimum (tolerance {SOUND})"


@pytest.mark.parametrize("b,eps", [(0.3, 0.2), (0.3, 0.6), (0.6, 1.0)])
def test_pure_net_bound_below_the_exact_l2_attack(b, eps):
    """Soundness against an exact worst case (numerics.attacks.pure_l2), noise and random magnitudes;
    tightness where no node's pre-activation interval ``t +- eps`` contains a kink ``+-b``.

    Past ``eps > b`` an inactive feature (``t`` near 0) always straddles a kink, so the kink-free
    rows are dense ones, every feature active with ``|t| >= b + eps``: 20 such rows are added to
    the sparse ones in every case, and each case checks at least 10 kink-free rows.
    """
    from numerics.attacks.pure_l2 import pure_l2_min_margin

    d, n = 12, 60
    M = make_dictionary(d, "random", 23)
    rng = np.random.default_rng(24)
    w = rng.standard_normal(d)
    z = (rng.random((n, d)) < 0.3) * np.where(rng.random((n, d)) < 0.5, -1.0, 1.0) * rng.uniform(0.5, 1.5, (n, d))
    dense = np.where(rng.random((20, d)) < 0.5, -1.0, 1.0) * rng.uniform(b + eps + 0.05, b + eps + 1.0, (20, d))
    z = np.concatenate([z, dense])
    x = z @ M.T + rng.standard_normal(z.shape) * 0.1 / np.sqrt(d)
    y = np.where(labels(z, w) == 0, 1.0, labels(z, w))
    net = pure_net(M, w, b, 1.0)
    exact = pure_l2_min_margin(y[:, None] * net.a[None, :], x @ M, b, eps)
    bound = certified_min_margin(net, x, y, eps)
    assert np.all(bound <= exact.margin + SOUND), f"bound above the exact worst case (tolerance {SOUND})"
    t = x @ M
    no_kink = np.all((np.abs(t) - eps >= b) | (np.abs(t) + eps <= b), axis=1)
    assert no_kink.sum() >= 10, f"b={b}, eps={eps}: only {no_kink.sum()} kink-free rows, the tightness check needs 10"
    np.testing.assert_allclose(bound[no_kink], exact.margin[no_kink], atol=1e-12,
                               err_msg="no kink within eps: the certificate must be exact (tol 1e-12)")
    assert np.any(bound[~no_kink] < exact.margin[~no_kink] - 1e-6), "kinks make the certificate loose somewhere"


def test_eps_zero_is_clean_margin_and_bound_nonincreasing_in_eps(random_net, labelled_data):
    net = random_net(14, b_scale=0.5)
    x, y = labelled_data(15, 50, 10)
    clean = y * net(x)
    for fn in (certified_min_margin, ibp_min_margin, lipschitz_min_margin):
        np.testing.assert_allclose(fn(net, x, y, 0.0), clean, atol=1e-12)
    for norm in ("l2", "linf"):
        values = np.array([certified_min_margin(net, x, y, e, norm) for e in np.linspace(0, 1, 11)])
        assert np.all(np.diff(values, axis=0) <= 1e-12), f"{norm}: bound increased with eps"


def test_invariances_scaling_label_flip_and_torch_input(random_net, labelled_data):
    net = random_net(16, c=0.0)
    x, y = labelled_data(17, 30, 10)
    base = certified_min_margin(net, x, y, 0.4)
    scaled = TwoLayerNet(W=net.W, a=3.0 * net.a, b=net.b, c=0.0)
    np.testing.assert_allclose(certified_min_margin(scaled, x, y, 0.4), 3.0 * base, rtol=1e-12)
    flipped = TwoLayerNet(W=net.W, a=-net.a, b=net.b, c=0.0)
    np.testing.assert_allclose(certified_min_margin(flipped, x, -y, 0.4), base, atol=1e-12)
    np.testing.assert_allclose(certified_min_margin(to_torch(net), x, y, 0.4), base, atol=1e-12)
    y0 = y.copy()
    y0[:5] = 0.0  # a tie: margin 0 whatever the perturbation
    assert np.all(certified_min_margin(net, x, y0, 0.4)[:5] == 0.0)


def test_large_matrix_operator_norm_fallback_is_a_sound_upper_bound(monkeypatch, random_net, labelled_data):
    rng = np.random.default_rng(18)
    W = rng.standard_normal((30, 20))
    exact = np.linalg.norm(W, 2)
    monkeypatch.setattr(certified, "_SVD_MAX_DIM", 0)
    assert certified._op_norm(W) >= exact, "fallback operator-norm bound below the true norm"
    net = random_net(19, b_scale=0.5)
    x, y = labelled_data(20, 40, 10)
    bound = certified_min_margin(net, x, y, 0.5)
    assert np.all(bound <= pgd_min_margin(net, x, y, 0.5, steps=20, restarts=3) + SOUND)


def test_bad_arguments_raise_value_error_naming_the_parameter(random_net, labelled_data):
    net = random_net(21)
    x, y = labelled_data(22, 5, 10)
    with pytest.raises(ValueError, match=r"^eps must be"):
        certified_min_margin(net, x, y, -0.1)
    with pytest.raises(ValueError, match=r"^norm must be"):
        certified_min_margin(net, x, y, 0.1, "l1")
    with pytest.raises(ValueError, match=r"^x must have shape"):
        certified_min_margin(net, x[:, :4], y, 0.1)
    with pytest.raises(ValueError, match=r"^y must have shape"):
        certified_min_margin(net, x, y[:2], 0.1)
    with pytest.raises(ValueError, match=r"^net must be"):
        certified_min_margin("net", x, y, 0.1)


def test_certificate_is_sound_for_the_computed_numbers():
    # f(x) = 0.1 x - 0.3 at x = 3, l_inf radius 4e-16: in exact arithmetic over these float weights the worst
    # margin is 0.1 * 3 - 0.3 - 4e-16 * 0.1 = -1.22e-17 (the floats 0.1 and 0.3 are not the reals). The
    # unrounded dual-norm value came out +1.55e-17, a "certificate" above the true minimum. Catches a
    # certified_min_margin with no rounding allowance.
    from fractions import Fraction

    net = TwoLayerNet(W=np.array([[0.1]]), a=np.array([1.0]), b=np.zeros(1), c=-0.3)
    x, y, eps = np.array([[3.0]]), np.array([1.0]), 4e-16
    exact = Fraction(0.1) * Fraction(3.0) + Fraction(-0.3) - Fraction(eps) * Fraction(0.1)
    assert float(exact) < 0
    assert Fraction(float(certified_min_margin(net, x, y, eps, "linf")[0])) <= exact
    assert lipschitz_min_margin(net, x, y, eps, "linf")[0] > float(exact)  # the unrounded part alone is not sound
