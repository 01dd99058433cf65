"""numerics.downstream: tasks, frozen layers, frozen-layer head training and coverage."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from numerics import ModelConfig, SparseCodingModel, mixing_path, pure_net, random_skew
from numerics.activations import soft_threshold
from numerics.downstream import (FrozenLayer, fit_head, fit_head_on_data, layer_coverage, mixed_layer, pure_layer,
                                 random_layer, task_pair, downstream_task, pretraining_task)
from numerics.training import TrainConfig

torch.set_num_threads(1)


def _model(d=8, p=0.25, sigma=0.0, seed=1):
    return SparseCodingModel(ModelConfig(d=d, p=p, sigma=sigma, dictionary="random", dictionary_seed=seed))


# ---------------------------------------------------------------- tasks
def test_pretraining_task_uniform_magnitudes_on_first_features():
    w = pretraining_task(10, 4, seed=3)
    assert np.array_equal(np.abs(w[:4]), np.full(4, 0.5)), "|w*_i| = 1/sqrt(4) on the support (exact)"
    assert np.array_equal(w[4:], np.zeros(6))
    assert np.array_equal(w, pretraining_task(10, 4, seed=3)), "seeded: the same draw"


@pytest.mark.parametrize("rho", [-0.7, 0.0, 0.3, 0.9, 1.0])
def test_correlated_task_has_similarity_rho_on_the_support(rho):
    tp = task_pair(16, "correlated", rho=rho, seed=5)
    assert abs(tp.similarity - rho) < 1e-12, f"cosine {tp.similarity} must equal rho = {rho} (tol 1e-12)"
    assert abs(np.linalg.norm(tp.wprime) - 1) < 1e-12
    assert not np.any(tp.wprime[~tp.support]), "w' lives on supp(w*)"


def test_disjoint_independent_and_same_tasks():
    d = 12
    dis = task_pair(d, "disjoint", seed=2)
    assert not np.any(dis.wprime[dis.support]) and np.all(dis.wprime[~dis.support] != 0)
    assert dis.similarity == 0.0, "disjoint supports: cosine exactly 0"
    ind = task_pair(d, "independent", seed=2)
    assert np.all(ind.wprime != 0) and abs(np.linalg.norm(ind.wprime) - 1) < 1e-12
    same = task_pair(d, "same", seed=2)
    assert abs(same.similarity - 1) < 1e-12
    assert np.array_equal(task_pair(d, "independent", seed=2).wprime, ind.wprime), "seeded"
    assert not np.array_equal(task_pair(d, "independent", seed=3).wprime, ind.wprime)


def test_task_bad_inputs():
    with pytest.raises(ValueError, match=r"^relation "):
        task_pair(8, "orthogonal")
    with pytest.raises(ValueError, match=r"^rho "):
        task_pair(8, "correlated", rho=1.5)
    with pytest.raises(ValueError, match=r"^support_size "):
        task_pair(8, "correlated", support_size=9)
    with pytest.raises(ValueError, match=r"^relation 'disjoint' needs wstar"):
        downstream_task(np.ones(4), "disjoint")
    with pytest.raises(ValueError, match=r"^wstar "):
        downstream_task(np.zeros(4), "same")


# ---------------------------------------------------------------- layers
def test_pure_layer_is_the_pure_net_representation():
    m = _model(d=6, sigma=0.1)
    x = m.sample(50, 0).x
    lay = pure_layer(m.M, 0.3)
    assert np.allclose(lay.hidden(x), soft_threshold(x @ m.M, 0.3), atol=1e-14), "h_j = soft(<M_j, x>, b) (tol 1e-14)"
    w = np.arange(1.0, 7.0)
    assert np.allclose(lay.with_head(w)(x), pure_net(m.M, w, 0.3)(x), atol=1e-13), "pure layer + head w* = pure net"


def test_mixed_and_random_layers():
    m = _model(d=6)
    Q = mixing_path(random_skew(6, 0), 0.4)
    lay = mixed_layer(m.M, Q, 0.2)
    assert np.allclose(lay.W, (m.M @ Q).T, atol=1e-14)
    assert np.allclose(lay.W @ lay.W.T, np.eye(6), atol=1e-12), "mixed nodes stay orthonormal"
    r = random_layer(6, 10, 0.1, seed=4)
    assert r.W.shape == (10, 6) and np.allclose(np.linalg.norm(r.W, axis=1), 1, atol=1e-14)
    assert np.array_equal(r.W, random_layer(6, 10, 0.1, seed=4).W)
    with pytest.raises(ValueError, match=r"^Q "):
        mixed_layer(m.M, np.ones((6, 6)), 0.2)
    with pytest.raises(ValueError, match=r"^b "):
        FrozenLayer(np.eye(3), -np.ones(3))
    with pytest.raises(ValueError, match=r"^a "):
        pure_layer(m.M, 0.1).with_head(np.ones(5))


def test_layer_of_a_net_copies_first_layer():
    net = pure_net(np.eye(4), np.ones(4), 0.2)
    lay = FrozenLayer.of(net, "x")
    assert np.array_equal(lay.W, net.W) and np.array_equal(lay.b, net.b)
    assert lay.W is not net.W
    with pytest.raises(ValueError, match=r"^net "):
        FrozenLayer.of("not a net")


# ---------------------------------------------------------------- heads
def test_fit_head_keeps_the_layer_frozen_and_is_seeded():
    m = _model(d=8, sigma=0.1)
    lay = random_layer(8, 12, 0.1, seed=1)
    W0, b0 = lay.W.copy(), lay.b.copy()
    cfg = TrainConfig(steps=60, batch=64, lr=0.05, eps=0.2, eps_ramp=0.5, pgd_steps=3, seed=3, progress=False,
                      dtype="float64")
    tp = task_pair(8, "independent", seed=1)
    h1 = fit_head(lay, m, tp.wprime, cfg)
    assert np.array_equal(h1.net.W, W0) and np.array_equal(h1.net.b, b0), "W and b are never trained"
    assert np.array_equal(lay.W, W0), "the caller's layer is untouched"
    h2 = fit_head(lay, m, tp.wprime, cfg)
    assert np.array_equal(h1.net.a, h2.net.a) and h1.net.c == h2.net.c, "same config -> bit-identical head"
    assert np.any(h1.net.a != 0), "the head moved from its zero start"


def test_adversarial_head_at_eps_zero_is_the_clean_head():
    m = _model(d=8)
    lay = pure_layer(m.M, 0.2)
    w = task_pair(8, "correlated", rho=0.3).wprime
    kw = dict(steps=40, batch=32, lr=0.05, seed=9, progress=False, dtype="float64")
    calls = []
    clean = fit_head(lay, m, w, TrainConfig(eps=0.0, **kw), attack=lambda *a, **k: calls.append(a))
    assert not calls, "eps = 0: the attack is never called"
    again = fit_head(lay, m, w, TrainConfig(eps=0.0, **kw))
    assert np.array_equal(clean.net.a, again.net.a)


def test_head_attack_follows_train_conventions():
    """The attack gets eps_t from the curriculum, the step size rule and seed attack_seed + step (as train)."""
    m = _model(d=6)
    lay = pure_layer(m.M, 0.1)
    cfg = TrainConfig(steps=5, batch=16, lr=0.01, eps=0.4, eps_ramp=0.5, pgd_steps=4, seed=2, progress=False)
    seen = []

    def fake(net, x, y, eps, norm, steps, restarts, step_size, seed):
        assert not net.W.requires_grad, "the first layer is frozen inside training"
        seen.append((eps, norm, steps, restarts, step_size, seed))
        return torch.zeros_like(x)

    h = fit_head(lay, m, task_pair(6, "same").wprime, cfg, attack=fake)
    expected = [(cfg.eps_at(s), "l2", 4, 1, cfg.step_size_at(cfg.eps_at(s)), [h.seeds["attack"] + s])
                for s in range(5) if cfg.eps_at(s) > 0]
    assert seen == expected


def test_head_matches_sklearn_logistic_regression():
    """Full-batch Adam with weight decay = L2-regularised logistic regression (an independent solver)."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    lay = FrozenLayer(rng.standard_normal((5, 4)), np.zeros(5))  # b = 0: linear features h = W x
    x = rng.standard_normal((100, 4))
    y = np.sign(x @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.8 * rng.standard_normal(100))
    x, y = np.vstack([x, -x]), np.concatenate([y, -y])  # symmetric data: the optimal intercept is 0
    lam = 0.05
    cfg = TrainConfig(steps=3000, batch=200, lr=0.02, weight_decay=lam, seed=0, progress=False, dtype="float64")
    net = fit_head_on_data(lay, x, y, cfg).net
    H = lay.hidden(x)
    ref = LogisticRegression(C=1.0 / (lam * len(y)), fit_intercept=False, tol=1e-10, max_iter=10_000).fit(H, y)
    # sklearn: C sum(loss) + |a|^2/2 = n C (mean loss + |a|^2 / (2 n C)) -> weight decay lam = 1/(n C)
    assert abs(net.c) < 1e-3, f"intercept {net.c} must vanish on symmetric data (tol 1e-3)"
    assert np.allclose(H @ net.a, H @ ref.coef_[0], atol=2e-3), "same minimiser (tol 2e-3 on the scores)"


def test_ties_are_dropped_from_the_head_loss():
    rng = np.random.default_rng(1)
    lay = FrozenLayer(rng.standard_normal((3, 4)), np.full(3, 0.1))
    x = rng.standard_normal((40, 4))
    y = np.where(x[:, 0] > 0, 1.0, -1.0)
    cfg = dict(steps=50, lr=0.05, seed=0, progress=False, dtype="float64")
    a = fit_head_on_data(lay, x, y, TrainConfig(batch=40, **cfg)).net
    xt = np.vstack([x, rng.standard_normal((10, 4))])
    b = fit_head_on_data(lay, xt, np.concatenate([y, np.zeros(10)]), TrainConfig(batch=50, **cfg)).net
    assert np.allclose(a.a, b.a, atol=1e-10) and abs(a.c - b.c) < 1e-10, "y = 0 rows change nothing (full batch)"


def test_head_bad_inputs():
    m = _model(d=4)
    lay = pure_layer(m.M, 0.1)
    with pytest.raises(ValueError, match=r"^layer "):
        fit_head(np.eye(4), m, np.ones(4))
    with pytest.raises(ValueError, match=r"^cfg "):
        fit_head(lay, m, np.ones(4), cfg={"steps": 3})
    with pytest.raises(ValueError, match=r"^wprime "):
        fit_head(lay, m, np.ones(3))
    with pytest.raises(ValueError, match=r"^wprime "):
        fit_head(lay, m, np.zeros(4))
    with pytest.raises(ValueError, match=r"^layer "):
        fit_head(pure_layer(np.eye(5), 0.1), m, np.ones(4))
    with pytest.raises(ValueError, match=r"^y "):
        fit_head_on_data(lay, np.zeros((3, 4)), np.array([1.0, 2.0, -1.0]))
    with pytest.raises(ValueError, match=r"^x "):
        fit_head_on_data(lay, np.zeros((3, 5)), np.ones(3))


# ---------------------------------------------------------------- coverage
def test_coverage_of_pure_mixed_and_half_layers():
    m = _model(d=8, p=0.25, sigma=0.0)
    x = m.sample(2000, 3).x
    w = task_pair(8, "independent", seed=0).wprime
    pure = layer_coverage(pure_layer(m.M, 0.1), m.M, x, w)
    assert pure["coverage"] == 1.0 and abs(pure["weighted_coverage"] - 1) < 1e-12
    assert abs(pure["mean_max_loading"] - 1) < 1e-12
    mixed = layer_coverage(mixed_layer(m.M, mixing_path(random_skew(8, 0), 2.0), 0.1), m.M, x, w)
    assert mixed["mean_max_loading"] < 0.9 and mixed["coverage"] == 0.0
    half = FrozenLayer(m.M.T[:4].copy(), np.full(4, 0.1))  # reads features 0..3 only
    cov = layer_coverage(half, m.M, x, w)
    assert cov["coverage"] == 0.5 and cov["features_read"] == [0, 1, 2, 3]
    assert abs(cov["weighted_coverage"] - np.sum(w[:4] ** 2)) < 1e-12, "share of ||w'||^2 on read features (exact)"
    with pytest.raises(ValueError, match=r"^wprime "):
        layer_coverage(half, m.M, x, np.ones(3))


# ---------------------------------------------------------------- contrastive layer (issue 6)
@pytest.mark.parametrize("activation,rule", [("soft_threshold", "relative"), ("relu", "per_node")])
def test_contrastive_frozen_layer_reproduces_the_contrastive_representation(activation, rule):
    from numerics.contrastive import (ContrastiveConfig, contrastive_frozen_layer, representation, thresholds,
                                      train_contrastive)

    model = _model(d=8, p=0.25, sigma=0.1)
    cfg = ContrastiveConfig(width=6, steps=30, batch=16, eps=0.2, b=0.5, activation=activation, threshold=rule,
                            pgd_steps=2, dtype="float64")
    run = train_contrastive(model, cfg, [3], ("both", "none"))
    x = np.random.default_rng(0).standard_normal((500, 8)) * 2.0  # random inputs, far beyond the model's support
    for v in ("both", "none"):
        lay = contrastive_frozen_layer(run, 0, v)
        W = torch.as_tensor(run.W[0, run.variants.index(v)])
        b_param = torch.as_tensor(run.b[0, run.variants.index(v)])  # the trained parameter (unused for "relative")
        b = thresholds(W[None], b_param[None], rule, cfg.b, activation)
        ref = representation(torch.as_tensor(x)[None], W[None], b, activation)[0].numpy()
        got = lay.hidden(x)
        assert np.max(np.abs(got - ref)) <= 1e-12, f"FrozenLayer h(x) must equal the contrastive h(x) (tol 1e-12), {v}"
        assert np.count_nonzero(got) and np.count_nonzero(got == 0), "both sides of the dead zone are exercised"
        assert lay.activation == activation and np.array_equal(lay.W, run.W[0, run.variants.index(v)])
        if rule == "relative":
            assert np.allclose(lay.b, 0.5 * np.linalg.norm(lay.W, axis=1), rtol=0, atol=1e-15), "b_j = 0.5 ||W_j||"
