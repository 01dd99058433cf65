"""numerics.purity's top-k purity: (tau, k)-purification, k = 1 identical to the single-feature notion."""
from __future__ import annotations

import numpy as np
import pytest

from numerics import ModelConfig, SparseCodingModel, TwoLayerNet
from numerics.purity import network_purity, node_purity, top_k_loading
from numerics.training import TrainConfig, train


def _net(rows, d=6):
    W = np.zeros((len(rows), d))
    for j, r in enumerate(rows):
        W[j, :len(r)] = r
    return TwoLayerNet(W=W, a=np.ones(len(rows)), b=np.zeros(len(rows)))


def test_closed_form_top_k_loadings():
    net = _net([[0.8, 0.6], [1, 1, 1], [3.0], [0.5, 0.5, 0.5, 0.5]])  # rows scaled freely: purity is scale-free
    M = np.eye(6)
    want = {1: [0.8, 1 / np.sqrt(3), 1.0, 0.5], 2: [1.0, np.sqrt(2 / 3), 1.0, np.sqrt(0.5)],
            3: [1.0, 1.0, 1.0, np.sqrt(0.75)]}
    for k, w in want.items():
        np.testing.assert_allclose(node_purity(net.W, M, top_k=k), w, rtol=0, atol=1e-15, err_msg=f"pi^({k})")
    pur = network_purity(net, M, weights="norm", tau=0.9)
    # weights |a_j| ||W_j||: 1, sqrt 3, 3, 1 (total 5 + sqrt 3)
    total = 5 + np.sqrt(3)
    assert pur.purified_fraction_by_k[1] == pytest.approx(3 / total, abs=1e-15), "only the one-feature node at k = 1"
    assert pur.purified_fraction_by_k[2] == pytest.approx(4 / total, abs=1e-15), "(0.8, 0.6) joins at k = 2"
    assert pur.purified_fraction_by_k[3] == pytest.approx((4 + np.sqrt(3)) / total, abs=1e-15), "(1, 1, 1) at k = 3"
    assert pur.purified_fraction == pur.purified_fraction_by_k[1] and pur.top_k == 1
    # squared-norm reading: (tau, k)-purified <=> the k largest squared loadings carry >= tau^2 of the norm
    C = net.W / np.linalg.norm(net.W, axis=1, keepdims=True)
    share2 = np.sort(C**2, axis=1)[:, ::-1][:, :2].sum(axis=1)
    assert np.array_equal(node_purity(net.W, M, top_k=2) >= 0.9, share2 >= 0.81)


def test_top_k_coverage_counts_the_k_main_features_of_purified_nodes():
    net = _net([[0.8, 0.6], [0, 0, 0, 1.0]])
    pur1 = network_purity(net, np.eye(6), weights="norm", tau=0.9)
    pur2 = network_purity(net, np.eye(6), weights="norm", tau=0.9, top_k=2)
    assert pur1.coverage == pytest.approx(1 / 6) and pur2.coverage == pytest.approx(3 / 6)
    assert pur2.purified_fraction == 1.0 and pur2.top_k == 2
    with pytest.raises(ValueError, match=r"^top_k must be an integer in \[1, 6\]"):
        network_purity(net, np.eye(6), weights="norm", top_k=7)


def test_k_one_reproduces_the_single_feature_purified_fraction_on_trained_nets():
    """k = 1: weight share of nodes with max_i |c_i| >= tau, exactly as before top_k existed."""
    model = SparseCodingModel(ModelConfig(d=8, p=0.25, sigma=0.1, dictionary="random", dictionary_seed=4))
    x = model.sample(500, seed=1).x
    for eps in (0.0, 0.4):
        net = train(model, np.ones(8) / np.sqrt(8), None,
                    TrainConfig(steps=60, batch=64, width=8, eps=eps, pgd_steps=3, seed=2, progress=False)).net.to_net()
        pur = network_purity(net, model.M, x=x, tau=0.8)
        C = net.W @ model.M / np.linalg.norm(net.W, axis=1, keepdims=True)
        old = float(pur.node_weight[np.abs(C).max(axis=1) >= 0.8].sum())
        assert pur.purified_fraction == old == pur.purified_fraction_by_k[1]
        assert np.array_equal(top_k_loading(C, 1), np.abs(C).max(axis=1)), "k = 1 is max |c| exactly"
        assert pur.purified_fraction_by_k[1] <= pur.purified_fraction_by_k[2] <= pur.purified_fraction_by_k[3]
