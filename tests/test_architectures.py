"""numerics.architectures (smooth threshold, three-layer, normalised, circulant nets) and numerics.training.train_module."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from numerics import ModelConfig, SparseCodingModel
from numerics.activations import soft_threshold
from numerics.architectures import (CirculantTwoLayer, NormalisedTwoLayer, SmoothTwoLayer, ThreeLayer,
                                    smooth_pure_certified_margin, smooth_pure_l2_bounds, smooth_threshold,
                                    smooth_threshold_slope)
from numerics.training import train_module
from numerics.training import TrainConfig, derive_seeds

torch.set_num_threads(1)


def test_smooth_threshold_is_odd_identity_at_b_zero_and_close_to_the_soft_threshold():
    t = np.linspace(-3, 3, 601)
    assert np.allclose(smooth_threshold(t, 0.0, 7.0), t, atol=1e-12), "softplus(u) - softplus(-u) = u exactly"
    assert np.allclose(smooth_threshold(-t, 0.4, 5.0), -smooth_threshold(t, 0.4, 5.0), atol=1e-14), "odd"
    for beta in (2.0, 20.0, 200.0):
        gap = np.abs(smooth_threshold(t, 0.4, beta) - soft_threshold(t, 0.4)).max()
        assert gap <= np.log(2) / beta + 1e-12, f"|g_beta - soft| <= log 2 / beta at beta={beta}, got {gap}"
    tt = torch.as_tensor(t)
    assert np.allclose(smooth_threshold(tt, 0.4, 5.0).numpy(), smooth_threshold(t, 0.4, 5.0), atol=1e-14), "torch = numpy"


def test_smooth_threshold_slope_matches_finite_differences_and_grows_with_abs_t():
    t = np.linspace(-2, 2, 401)
    h = 1e-6
    fd = (smooth_threshold(t + h, 0.3, 6.0) - smooth_threshold(t - h, 0.3, 6.0)) / (2 * h)
    assert np.allclose(smooth_threshold_slope(t, 0.3, 6.0), fd, atol=1e-7), "central differences (1e-7)"
    pos = t[t >= 0]
    assert np.all(np.diff(smooth_threshold_slope(pos, 0.3, 6.0)) >= -1e-15), "slope non-decreasing in |t|"


def _random_search_min(coef, v, b, beta, eps, n=20000, seed=0):
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((n, v.size))
    u = g / np.linalg.norm(g, axis=1, keepdims=True) * eps * rng.random((n, 1)) ** (1 / v.size)
    u[: n // 2] = g[: n // 2] / np.linalg.norm(g[: n // 2], axis=1, keepdims=True) * eps  # boundary points too
    return (coef * smooth_threshold(v + u, b, beta)).sum(axis=1).min()


@pytest.mark.parametrize("beta", [3.0, 15.0])
def test_smooth_bounds_are_sound_against_random_search(beta):
    rng = np.random.default_rng(5)
    coef = rng.standard_normal((6, 4))
    v = rng.choice([-1.0, 0.0, 1.0], size=(6, 4))
    lo, hi = smooth_pure_l2_bounds(coef, v, 0.3, beta, 0.6)
    cert = smooth_pure_certified_margin(coef, v, 0.3, beta, 0.6)
    for i in range(6):
        found = _random_search_min(coef[i], v[i], 0.3, beta, 0.6, seed=i)
        assert lo[i] <= found + 1e-12 and cert[i] <= found + 1e-12, f"row {i}: a sound bound is above a feasible value"
        assert lo[i] <= hi[i] + 1e-12, f"row {i}: raw lower bound above the attack value"
    assert np.all(lo >= cert - 1e-12), "the dual bound includes the Lipschitz certificate"


def test_smooth_bounds_on_one_feature_are_tight():
    # d = 1: no budget to share, the dual gap vanishes up to the grid correction
    coef, v = np.array([[0.7], [-1.1]]), np.array([[1.0], [0.0]])
    lo, hi = smooth_pure_l2_bounds(coef, v, 0.3, 10.0, 0.5, grid=2001)
    ts = np.linspace(-0.5, 0.5, 200001)
    brute = np.array([(c * smooth_threshold(x + ts, 0.3, 10.0)).min() for c, x in zip(coef[:, 0], v[:, 0])])
    assert np.allclose(hi, brute, atol=1e-3) and np.allclose(lo, brute, atol=2e-3), f"{lo} {hi} vs {brute} (tol 2e-3)"


def test_three_layer_forward_and_composite():
    net = ThreeLayer.random_init(5, 4, 3, seed=1, scale=0.7, dtype=torch.float64)
    with torch.no_grad():
        net.b1.fill_(0.2)
        net.b2.fill_(0.1)
    x = torch.randn(7, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    W1, W2, a = (p.detach().numpy() for p in (net.W1, net.W2, net.a))
    h1 = soft_threshold(x.numpy() @ W1.T, 0.2)
    want = soft_threshold(h1 @ W2.T, 0.1) @ a + float(net.c.detach())
    assert np.allclose(net(x).detach().numpy(), want, atol=1e-12)
    assert np.allclose(net.second_layer_composite(), W2 @ W1, atol=1e-14)
    assert net.node_weights(x).sum() == pytest.approx(1.0) and net.node_weights2(x).sum() == pytest.approx(1.0)


def test_circulant_rows_are_shifts_and_normalisation_keeps_the_sign():
    f = torch.arange(1.0, 6.0, dtype=torch.float64)
    net = CirculantTwoLayer(f, torch.ones(5, dtype=torch.float64))
    W = net.first_layer()
    for j in range(5):
        assert np.array_equal(W[j], np.roll(f.numpy(), j)), f"row {j} must be roll(f, {j})"
    nn_ = NormalisedTwoLayer.random_init(6, 5, seed=2, scale=1.0, dtype=torch.float64)
    x = torch.randn(50, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    with torch.no_grad():
        raw = nn_.hidden(x) @ nn_.a
        assert torch.equal(torch.sign(nn_(x)), torch.sign(raw)), "a positive rescaling keeps every sign (c = 0)"


def test_smooth_net_is_the_soft_threshold_net_in_the_sharp_limit():
    g = torch.Generator().manual_seed(3)
    W, a = torch.randn(6, 4, generator=g, dtype=torch.float64), torch.randn(6, generator=g, dtype=torch.float64)
    x = torch.randn(30, 4, generator=g, dtype=torch.float64)
    sm = SmoothTwoLayer(W, a, torch.full((6,), 0.25, dtype=torch.float64), beta=1e4)
    soft = soft_threshold(x.numpy() @ W.numpy().T, 0.25) @ a.numpy()
    bound = np.log(2) / 1e4 * np.abs(a.numpy()).sum()
    assert np.abs(sm(x).detach().numpy() - soft).max() <= bound + 1e-12


def _model():
    return SparseCodingModel(ModelConfig(d=8, p=0.25, sigma=0.1, dictionary="random", dictionary_seed=1))


def _cfg(eps, seed=0, **kw):
    return TrainConfig(steps=40, batch=32, lr=0.01, eps=eps, pgd_steps=3, eps_ramp=0.3, seed=seed, progress=False, **kw)


def test_train_module_is_deterministic_and_eps_zero_is_clean_training():
    m, w = _model(), np.ones(8) / np.sqrt(8)
    runs = []
    for eps in (0.0, 0.0, 0.3):
        net = ThreeLayer.random_init(8, 6, 4, seed=derive_seeds(0)["init"], scale=0.1)
        train_module(net, m, w, _cfg(eps))
        runs.append(net.first_layer())
    assert np.array_equal(runs[0], runs[1]), "same config, same weights (bit for bit)"
    assert not np.array_equal(runs[0], runs[2]), "adversarial training changes the weights"


def test_train_module_lowers_the_loss_and_projects_thresholds():
    m, w = _model(), np.ones(8) / np.sqrt(8)
    net = SmoothTwoLayer.random_init(8, 8, seed=1, beta=20.0, scale=0.1)
    res = train_module(net, m, w, TrainConfig(steps=150, batch=64, lr=0.02, seed=1, progress=False))
    assert np.nanmean(res.losses[-20:]) < np.nanmean(res.losses[:20]) - 0.05, "training must lower the logistic loss"
    assert torch.all(net.b1 >= 0), "thresholds projected onto b >= 0"


def test_train_module_honours_every_config_field_or_rejects_it():
    m, w = _model(), np.ones(8)
    # n_train: a fixed sample of 10 drawn once, honoured (it was rejected before the one loop)
    res = train_module(NormalisedTwoLayer.random_init(8, 4, seed=0), m, w,
                       TrainConfig(steps=3, batch=4, n_train=10, progress=False))
    assert res.losses.shape == (3,) and np.all(np.isfinite(res.losses))
    # threshold "fixed" freezes the thresholds, train_first=False the layers, train_head=False the head
    for kw, frozen in ((dict(threshold="fixed"), ("b1", "b2")), (dict(train_first=False), ("W1", "W2")),
                       (dict(train_head=False), ("a", "c"))):
        net = ThreeLayer.random_init(8, 6, 4, seed=1, scale=0.3)
        with torch.no_grad():
            net.b1.fill_(0.05)
            net.b2.fill_(0.05)
        before = {k: v.detach().clone() for k, v in net.named_parameters()}
        train_module(net, m, w, _cfg(0.0, **kw))
        for k, v in net.named_parameters():
            assert torch.equal(v.detach(), before[k]) == (k in frozen), f"{kw}: {k} frozen={k in frozen} violated"
    net = NormalisedTwoLayer.random_init(8, 4, seed=0)
    cases = [(dict(width=7), r"^width must be the given net's width 4"),
             (dict(init_scale=0.5), r"^init_scale applies only to the trainer's random init"),
             (dict(b_init=0.1), r"^b_init applies only to the trainer's random init"),
             (dict(activation="relu"), r"^activation is fixed by the given module's class"),
             (dict(threshold="per_node"), r"^threshold 'per_node' is not available")]
    for kw, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            train_module(net, m, w, TrainConfig(steps=2, progress=False, **kw))
    train_module(net, m, w, TrainConfig(steps=2, width=4, progress=False))  # a width that agrees is accepted
    with pytest.raises(ValueError, match=r"^wstar must be non-zero"):
        train_module(net, m, np.zeros(8), TrainConfig(steps=2, progress=False))
    with pytest.raises(ValueError, match=r"^module must be a single net"):
        train_module("net", m, w, TrainConfig(steps=2, progress=False))
    with pytest.raises(ValueError, match=r"^beta must be"):
        SmoothTwoLayer.random_init(4, 2, seed=0, beta=0.0)
    with pytest.raises(ValueError, match=r"^W2 must have shape"):
        ThreeLayer(torch.zeros(3, 2), torch.zeros(2, 2), torch.zeros(2))


@pytest.mark.parametrize("build", [
    lambda seed: SmoothTwoLayer.random_init(5, 4, seed=seed, beta=5.0, scale=0.5, b=0.1, dtype=torch.float64),
    lambda seed: ThreeLayer.random_init(5, 4, 3, seed=seed, scale=0.5, dtype=torch.float64),
    lambda seed: NormalisedTwoLayer.random_init(5, 4, seed=seed, scale=0.5, dtype=torch.float64),
    lambda seed: CirculantTwoLayer.random_init(5, seed=seed, scale=0.5, dtype=torch.float64),
], ids=["smooth", "three", "normalised", "circulant"])
def test_runs_modules_hold_independent_nets_along_a_leading_axis(build):
    runs = build([4, 7, 9])
    assert runs.runs == 3
    x = torch.randn(3, 11, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    with torch.no_grad():
        out = runs(x)
        assert out.shape == (3, 11)
        for r, s in enumerate((4, 7, 9)):
            single = build(s)
            assert single.runs is None
            ref = runs.run(r)
            assert all(torch.equal(a, b) for a, b in zip(ref.state_dict().values(), single.state_dict().values())), \
                f"run {r} must be exactly the net random_init(seed={s})"
            # bit for bit the same run in a batch of one (a single net's head is h @ a: equal to 1e-12)
            assert torch.equal(out[r], single.as_runs()(x[r:r + 1])[0]), f"run {r}'s scores depend on the other runs"
            assert torch.allclose(out[r], single(x[r]), rtol=0, atol=1e-12)
            assert np.allclose(runs.node_weights(x)[r], single.node_weights(x[r]), rtol=0, atol=1e-15)
    stacked = type(runs).stack([build(s) for s in (4, 7, 9)])
    assert all(torch.equal(a, b) for a, b in zip(stacked.state_dict().values(), runs.state_dict().values()))


def test_smooth_bounds_raise_when_the_certificate_exceeds_the_attack(monkeypatch):
    """No clamp: a lower bound above the attack value is a bug in one engine, and raises."""
    import numerics.architectures as arch
    from numerics.errors import BoundViolation

    coef, v = np.array([[0.7, -0.4]]), np.array([[1.0, 0.2]])
    lo, hi = smooth_pure_l2_bounds(coef, v, 0.3, 10.0, 0.5)
    assert lo[0] <= hi[0]
    monkeypatch.setattr(arch, "smooth_pure_certified_margin", lambda *a: np.full(1, 10.0))  # a broken certificate
    with pytest.raises(BoundViolation, match=r"^smooth_pure_l2_bounds: lower bound"):
        smooth_pure_l2_bounds(coef, v, 0.3, 10.0, 0.5)
