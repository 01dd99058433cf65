"""Core pieces of numerics: validation, config, sampling, networks, purity, estimates."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from numerics import (ModelConfig, SparseCodingModel, UniformMagnitude, clopper_pearson, labels,
                      linear_net, make_dictionary, mixed_net, mixing_path, node_purity, pure_net, random_skew, to_torch)
from numerics.activations import relu_intercept, soft_threshold
from numerics.config import PointMass
from numerics.estimates import Estimate, indicator_difference, mean, paired_difference, proportion
from numerics.networks import TwoLayerNet
from numerics.purity import effective_features, network_purity


# ------------------------------------------------------------------ config and validation
@pytest.mark.parametrize("kwargs, name", [
    ({"d": 0, "p": 0.2}, "d"), ({"d": -3, "p": 0.2}, "d"), ({"d": 2.5, "p": 0.2}, "d"),
    ({"d": 4, "p": 0.0}, "p"), ({"d": 4, "p": 1.5}, "p"), ({"d": 4, "p": float("nan")}, "p"),
    ({"d": 4, "p": 0.2, "sigma": -1.0}, "sigma"), ({"d": 4, "p": 0.2, "dictionary": "haar"}, "dictionary"),
    ({"d": 4, "p": 0.2, "magnitude": -1.0}, "magnitude"),
])
def test_model_config_rejects_bad_values_naming_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        ModelConfig(**kwargs)


def test_model_config_error_states_the_allowed_range():
    with pytest.raises(ValueError, match=r"^p must be a real number in \(0\.0, 1\.0\], got 1\.5"):
        ModelConfig(d=4, p=1.5)


def test_uniform_magnitude_validates_order():
    with pytest.raises(ValueError, match=r"^magnitude\.high"):
        UniformMagnitude(1.0, 0.5)
    u = UniformMagnitude(0.5, 1.5)
    assert u.mean == 1.0 and u.second_moment == pytest.approx((0.25 + 0.75 + 2.25) / 3, abs=1e-15)


# ------------------------------------------------------------------ dictionary and sampling
@pytest.mark.parametrize("d", [1, 2, 7, 50])
def test_random_dictionary_is_orthogonal_and_seeded(d):
    M = make_dictionary(d, "random", seed=3)
    assert np.allclose(M.T @ M, np.eye(d), atol=1e-12)
    assert np.array_equal(M, make_dictionary(d, "random", seed=3))
    if d > 1:
        assert not np.allclose(M, make_dictionary(d, "random", seed=4))


def test_random_skew_is_skew_and_normalised():
    A = random_skew(6, 1)
    assert np.allclose(A, -A.T) and np.linalg.norm(A) == pytest.approx(np.sqrt(12), rel=1e-12)


def test_sampling_moments_match_the_model():
    cfg = ModelConfig(d=20, p=0.15, sigma=0.5, magnitude=UniformMagnitude(0.5, 1.5), dictionary_seed=2)
    model = SparseCodingModel(cfg)
    s = model.sample(100_000, seed=0)
    active = s.z != 0
    # P(active) = p within a 5-sigma binomial band; E r^2 for active entries; noise variance sigma^2/d.
    assert abs(active.mean() - 0.15) < 5 * np.sqrt(0.15 * 0.85 / active.size)
    assert abs(np.mean(s.z[active] ** 2) - cfg.magnitude.second_moment) < 0.01
    noise = s.x - model.embed(s.z)
    assert abs(noise.var() - 0.25 / 20) < 0.0005
    assert np.array_equal(s.x, model.sample(100_000, seed=0).x)  # seeded


def test_torch_sampler_matches_the_law_and_the_dictionary():
    model = SparseCodingModel(ModelConfig(d=10, p=0.3, dictionary_seed=1))
    x, z = model.sample_torch(50_000, torch.Generator().manual_seed(0), dtype=torch.float64)
    assert torch.allclose(x, z @ torch.as_tensor(model.M).T)
    assert abs(float((z != 0).double().mean()) - 0.3) < 0.01
    assert set(np.unique(z.numpy())) <= {-1.0, 0.0, 1.0}


@pytest.mark.parametrize("magnitude", [1.0, 0.7, UniformMagnitude(0.5, 1.5)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torch_sampler_is_the_product_of_its_draws(magnitude, dtype):
    # docs/model.md's z_i = s_i r_i 1[active], drawn in this order from one generator: activity
    # U < p, sign U < 1/2, magnitude (uniform law only), then noise N(0, sigma^2/d); the product
    # in float32, x = M z + noise in dtype. Catches reordered draws, a sign or magnitude slip, and
    # a changed sign of zero (the bits are compared, not the values).
    model = SparseCodingModel(ModelConfig(d=7, p=0.3, sigma=0.2, magnitude=magnitude, dictionary_seed=2))
    n = 500
    x, z = model.sample_torch(n, torch.Generator().manual_seed(5), dtype=dtype)
    g = torch.Generator().manual_seed(5)
    active = (torch.rand((n, 7), generator=g) < 0.3).to(torch.float32)
    sign = torch.where(torch.rand((n, 7), generator=g) < 0.5, -1.0, 1.0)
    law = model.config.magnitude
    r = torch.full((n, 7), law.value) if isinstance(law, PointMass) else \
        law.low + (law.high - law.low) * torch.rand((n, 7), generator=g)
    z_want = (active * sign * r).to(dtype)
    x_want = z_want @ torch.as_tensor(model.M, dtype=dtype).T + \
        torch.randn((n, 7), generator=g, dtype=dtype) * (0.2 / 7**0.5)
    as_bits = lambda t: t.view(torch.int32 if t.dtype == torch.float32 else torch.int64)  # noqa: E731
    assert torch.equal(as_bits(z), as_bits(z_want)), "latents differ from sign * magnitude * activity"
    assert torch.equal(as_bits(x), as_bits(x_want)), "inputs differ from M z + noise"
    assert bool((z == 0).any() and (z.view(-1)[z.view(-1) == 0].signbit()).any()), "the draw must exercise -0"


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torch_sampler_into_a_given_buffer_is_the_same_draw(dtype):
    # out= (the training loop's per-run block of its batch buffer) must change where x lands,
    # never the bits nor the generator's stream after the draw.
    model = SparseCodingModel(ModelConfig(d=6, p=0.4, sigma=0.3, dictionary_seed=3))
    g0, g1 = torch.Generator().manual_seed(9), torch.Generator().manual_seed(9)
    x0, z0 = model.sample_torch(40, g0, dtype=dtype)
    buf = torch.full((2, 40, 6), float("nan"), dtype=dtype)
    x1, z1 = model.sample_torch(40, g1, dtype=dtype, out=buf[1])
    assert x1.data_ptr() == buf[1].data_ptr() and torch.equal(buf[1], x0) and torch.equal(z1, z0)
    assert torch.isnan(buf[0]).all(), "only the given block is written"
    assert torch.equal(torch.rand(5, generator=g0), torch.rand(5, generator=g1)), "the stream continues alike"
    for bad in (torch.empty((40, 5), dtype=dtype), torch.empty((6, 40), dtype=dtype).T,
                torch.empty((40, 6), dtype=torch.float16)):
        with pytest.raises(ValueError, match=r"^out must be a contiguous \(40, 6\) tensor"):
            model.sample_torch(40, torch.Generator().manual_seed(0), dtype=dtype, out=bad)


def test_labels_treat_floating_point_zeros_as_ties():
    w = np.ones(10) / np.sqrt(10)
    z = np.zeros((1, 10))
    z[0, :2] = [1.0, -1.0]
    z2 = np.zeros((1, 10))
    z2[0, [3, 7, 8]] = [1.0, -1.0, 1.0]
    assert labels(z, w)[0] == 0.0 and labels(z2, w)[0] == 1.0


# ------------------------------------------------------------------ activations and networks
def test_soft_threshold_values():
    t = np.array([-2.0, -0.3, 0.0, 0.3, 0.5, 2.0])
    assert np.allclose(soft_threshold(t, 0.5), [-1.5, 0, 0, 0, 0, 1.5])
    assert np.allclose(relu_intercept(t, 0.5), [0, 0.2, 0.5, 0.8, 1.0, 2.5])


def test_mixed_net_with_zero_threshold_is_the_linear_net():
    d = 7
    M = make_dictionary(d, "random", 0)
    w = np.random.default_rng(0).standard_normal(d)
    x = np.random.default_rng(1).standard_normal((100, d))
    lin = linear_net(M, w, 1.7)
    for t in (0.0, 0.3, 2.0):
        net = mixed_net(M, w, mixing_path(random_skew(d, 5), t), 0.0, 1.7)
        assert np.allclose(net(x), lin(x), atol=1e-12)


def test_mixed_net_at_t0_is_the_pure_net():
    d = 5
    M = make_dictionary(d, "random", 1)
    w = np.arange(1.0, d + 1)
    x = np.random.default_rng(1).standard_normal((50, d))
    assert np.allclose(mixed_net(M, w, mixing_path(random_skew(d, 2), 0.0), 0.4)(x), pure_net(M, w, 0.4)(x), atol=1e-14)


def test_mixing_path_is_orthogonal_and_rejects_non_skew():
    Q = mixing_path(random_skew(6, 0), 0.7)
    assert np.allclose(Q.T @ Q, np.eye(6), atol=1e-12)
    with pytest.raises(ValueError, match=r"^A must be"):
        mixing_path(np.eye(3), 0.1)


def test_torch_twin_computes_the_same_function():
    M = make_dictionary(6, "random", 0)
    net = mixed_net(M, np.ones(6), mixing_path(random_skew(6, 1), 0.4), 0.3)
    x = np.random.default_rng(2).standard_normal((20, 6))
    assert np.allclose(to_torch(net)(torch.as_tensor(x)).numpy(), net(x), atol=1e-12)
    back = to_torch(net).to_net()
    assert np.allclose(back(x), net(x), atol=1e-12)


def test_network_rejects_bad_shapes_and_thresholds():
    with pytest.raises(ValueError, match=r"^a must have shape"):
        TwoLayerNet(W=np.ones((3, 2)), a=np.ones(2), b=np.zeros(3))
    with pytest.raises(ValueError, match=r"^b must be >= 0"):
        TwoLayerNet(W=np.ones((3, 2)), a=np.ones(3), b=-np.ones(3))
    with pytest.raises(ValueError, match=r"^activation "):
        TwoLayerNet(W=np.ones((3, 2)), a=np.ones(3), b=np.zeros(3), activation="tanh")


# ------------------------------------------------------------------ purity
def test_purity_of_pure_and_dense_nodes():
    d = 16
    M = make_dictionary(d, "random", 3)
    assert np.allclose(node_purity(M.T, M), 1.0) and np.allclose(effective_features(M.T, M), 1.0)
    dense = (M @ np.ones(d) / np.sqrt(d))[None, :]  # loads every feature equally
    assert node_purity(dense, M)[0] == pytest.approx(1 / np.sqrt(d), rel=1e-12)
    assert effective_features(dense, M)[0] == pytest.approx(d, rel=1e-12)


def test_purity_is_invariant_to_sign_and_scale_of_a_node():
    M = make_dictionary(8, "random", 0)
    W = np.random.default_rng(0).standard_normal((5, 8))
    assert np.allclose(effective_features(W, M), effective_features(-3.0 * W, M))


def test_network_purity_activity_weighting_ignores_silent_nodes():
    d = 8
    M = np.eye(d)
    W = np.vstack([M[0], np.ones(d) / np.sqrt(d)])  # a pure node and a dense node
    net = TwoLayerNet(W=W, a=np.array([1.0, 1.0]), b=np.array([0.0, 5.0]))  # the dense node never fires
    x = SparseCodingModel(ModelConfig(d=d, p=0.3, dictionary="identity")).sample(2000, 0).x
    act = network_purity(net, M, x=x, weights="activity")
    norm = network_purity(net, M, weights="norm")
    assert act.mean_effective_features == pytest.approx(1.0) and act.purified_fraction == pytest.approx(1.0)
    assert norm.mean_effective_features == pytest.approx((1 + d) / 2)
    assert act.coverage == pytest.approx(1 / d)


# ------------------------------------------------------------------ estimates
def test_clopper_pearson_matches_scipy_binomtest():
    for k, n in [(0, 10), (3, 10), (10, 10), (517, 2000)]:
        ci = stats.binomtest(k, n).proportion_ci(0.95, method="exact")
        assert np.allclose(clopper_pearson(k, n, 0.95), (ci.low, ci.high), atol=1e-12)


def test_proportion_and_mean_intervals_cover_the_truth():
    rng = np.random.default_rng(0)
    e = proportion(rng.random(10_000) < 0.3, level=0.999)
    assert e.lower < 0.3 < e.upper and e.method == "mc" and e.n == 10_000
    m = mean(rng.normal(2.0, 1.0, 10_000), level=0.999)
    assert m.lower < 2.0 < m.upper


def test_paired_difference_is_narrower_than_unpaired_with_common_numbers():
    rng = np.random.default_rng(1)
    base = rng.normal(0, 1, 5000)
    a, b = base + 0.01, base + rng.normal(0, 0.01, 5000)
    paired = paired_difference(a, b)
    assert paired.lower > 0 and paired.width < 0.01
    with pytest.raises(ValueError, match=r"^values_a and values_b must have the same length"):
        paired_difference(a, b[:10])


def test_paired_errors_get_the_exact_interval_even_with_no_discordant_pair():
    # Three samples on which two nets agree. The t-interval of the differences is [0, 0] there (no variance),
    # which would "prove" |difference| < 0.001 from three samples. The exact limit for 0 of 3 discordant pairs
    # of each sign, at level 1 - 0.01/2 each: 1 - (0.01/4)^(1/3).
    same = np.array([0.0, 1.0, 0.0])
    est = paired_difference(same, same, level=0.99)
    hi = 1 - (0.01 / 4) ** (1 / 3)
    assert (est.value, est.lower, est.upper) == pytest.approx((0.0, -hi, hi), abs=1e-12)
    assert not est.excludes(0.001, "below") and est.details["discordant"] == [0, 0]


def test_paired_error_interval_is_bonferroni_clopper_pearson_on_the_discordant_pairs():
    a = np.array([1.0] * 7 + [0.0] * 3 + [0.0] * 90)
    b = np.array([0.0] * 7 + [1.0] * 3 + [0.0] * 90)   # 7 pairs a > b, 3 pairs a < b, 90 agree
    est = indicator_difference(a, b, level=0.95)
    pos = stats.binomtest(7, 100).proportion_ci(0.975, method="exact")
    neg = stats.binomtest(3, 100).proportion_ci(0.975, method="exact")
    assert (est.value, est.lower, est.upper) == pytest.approx((0.04, pos.low - neg.high, pos.high - neg.low), abs=1e-12)
    with pytest.raises(ValueError, match=r"^values_a and values_b must be 0/1 outcomes"):
        indicator_difference(a * 0.5, b)


def test_paired_error_interval_covers_where_the_t_interval_does_not():
    # n = 30 pairs, P(a > b) = 0.03, P(a < b) = 0: the t-interval covers the true 0.03 in about 60 % of draws at
    # level 0.9 (zero width whenever no pair is discordant). The exact one must cover in at least 90 %, up to
    # a Monte Carlo margin of 3 standard errors.
    rng = np.random.default_rng(5)
    draws = 2000
    covered = 0
    for _ in range(draws):
        a = (rng.random(30) < 0.03).astype(float)
        est = paired_difference(a, np.zeros(30), level=0.9)
        covered += est.lower <= 0.03 <= est.upper
    assert covered / draws >= 0.9 - 3 * np.sqrt(0.09 / draws), f"coverage {covered / draws:.3f} < 0.9"


def test_estimate_rejects_an_interval_that_misses_its_value():
    with pytest.raises(ValueError, match=r"^interval \[0\.0, 0\.5\] must contain value"):
        Estimate(1.0, 0.0, 0.5, "mc")
    with pytest.raises(ValueError, match=r"^method "):
        Estimate(1.0, 1.0, 1.0, "guess")
    assert Estimate.exact(0.25).excludes(0.2, "above") and not Estimate.exact(0.25).excludes(0.25, "above")


def test_torch_labels_agree_with_numpy_labels_on_ties():
    model = SparseCodingModel(ModelConfig(d=32, p=0.2, dictionary="identity"))
    z = model.sample(20_000, seed=3).z
    w = np.ones(32) / np.sqrt(32)
    for dtype in (torch.float32, torch.float64):
        from numerics.sparse_coding import labels_torch

        got = labels_torch(torch.as_tensor(z, dtype=dtype), torch.as_tensor(w, dtype=dtype)).numpy()
        assert np.array_equal(got, labels(z, w)), f"{dtype}: {np.sum(got != labels(z, w))} labels differ"
    assert np.mean(labels(z, w) == 0) > 0.05  # the case matters: many ties at this sparsity


# Bad input to the estimators and engines: one line naming the parameter, never a silent wrong number.
def _bad_inputs():
    from numerics.activations import smooth_threshold, smooth_threshold_slope
    from numerics.attacks.ellipsoid import ellipsoid_pure_bounds
    from numerics.attacks.linear import linear_min_margin
    from numerics.verification import verify
    from numerics.verification.bounds import relaxation_bound

    net = TwoLayerNet(W=np.eye(2), a=np.ones(2), b=np.full(2, 0.1))
    empty = (np.zeros((0, 2)), np.zeros(0), 0.1)
    return {
        "mean level above 1": (lambda: mean(np.arange(5.0), level=1.5), r"^level must be a real number in \(0"),
        "mean of NaN": (lambda: mean(np.array([1.0, np.nan, 2.0])), r"^values must contain only finite numbers"),
        "proportion of 0.3": (lambda: proportion(np.array([0.0, 0.3, 1.0])), r"^indicator must hold 0/1 outcomes"),
        "proportion of NaN": (lambda: proportion(np.array([0.0, np.nan])), r"^indicator must contain only finite"),
        "smooth threshold beta 0": (lambda: smooth_threshold(np.zeros(3), 0.3, 0.0), r"^beta must be a real number > 0"),
        "smooth slope beta < 0": (lambda: smooth_threshold_slope(np.zeros(3), 0.3, -2.0),
                                  r"^beta must be a real number > 0"),
        "ellipsoid b < 0": (lambda: ellipsoid_pure_bounds(np.ones((1, 2)), np.ones((1, 2)), -0.1, 0.0, np.eye(2)),
                            r"^b must be a threshold >= 0"),
        "linear margin NaN": (lambda: linear_min_margin(np.array([np.nan]), np.ones(2), 0.1),
                              r"^margin must contain only finite numbers"),
        "verify no rows": (lambda: verify(net, *empty), r"^x must have at least one row \(n >= 1\), got 0"),
        "relaxation no rows": (lambda: relaxation_bound(net, *empty), r"^x must have at least one row \(n >= 1\), got 0"),
    }


@pytest.mark.parametrize("case", sorted(_bad_inputs()))
def test_bad_input_names_the_parameter(case):
    call, message = _bad_inputs()[case]
    with pytest.raises(ValueError, match=message):
        call()


def test_bool_and_integer_indicators_are_proportions():
    assert proportion(np.array([True, False, True, True])).value == 0.75
    assert proportion(np.array([1, 0, 0, 0])).value == 0.25


def test_a_nan_bound_is_a_violation_not_a_pass():
    # NaN > x is False: without its own test a NaN certificate would pass the ordering check of every engine.
    from numerics.errors import BoundViolation, check_ordered

    with pytest.raises(BoundViolation, match=r"^cert vs attack: a bound or value is NaN \(1 lower, 0 upper\)"):
        check_ordered("cert vs attack", np.array([0.1, np.nan]), np.array([0.2, 0.3]))
    check_ordered("cert vs attack", np.array([0.1, 0.2]), np.array([0.2, 0.3]))  # ordered: no error
