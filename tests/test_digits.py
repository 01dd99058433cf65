"""numerics.digits: loading, labels, the label carrier, dictionary learning and purity against a dictionary."""
from __future__ import annotations


import numpy as np
import pytest
import torch

from numerics import ModelConfig, make_dictionary, node_purity
from numerics.digits import (binary_labels, dictionary_purity, label_carrier, learn_dictionary, load,
                             network_dictionary_purity, random_direction_purity)
from numerics.networks import TwoLayerNet
from numerics.training import TrainConfig, train

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def digits():
    return load(seed=0)


def test_load_split_scaling_and_centring(digits):
    n_tr, n_te = digits.x_train.shape[0], digits.x_test.shape[0]
    assert n_tr + n_te == 1797 and digits.x_train.shape[1] == 64
    assert n_te == 599, "test_size = 1/3 of 1797 rounded up by scikit-learn"
    assert np.allclose(digits.x_train.mean(axis=0), 0.0, atol=1e-12), "centred by the training mean"
    raw = np.vstack([digits.x_train, digits.x_test]) + digits.mean
    assert raw.min() >= 0.0 and raw.max() <= 1.0, "pixels / 16 lie in [0, 1]"
    assert np.allclose(raw * 16, np.round(raw * 16), atol=1e-9), "integer intensities 0..16"
    counts_tr = np.bincount(digits.digit_train, minlength=10)
    assert counts_tr.min() >= 115 and counts_tr.max() <= 122, "stratified: each class about 2/3 of ~180"
    again = load(seed=0)
    assert np.array_equal(again.x_test, digits.x_test), "seeded split"
    with pytest.raises(ValueError, match=r"^test_fraction "):
        load(test_fraction=1.0)


def test_binary_labels_exact():
    d = np.arange(10)
    assert binary_labels(d, "small_vs_large").tolist() == [1.0] * 5 + [-1.0] * 5
    assert binary_labels(d, "parity").tolist() == [1.0, -1.0] * 5
    with pytest.raises(ValueError, match=r"^task "):
        binary_labels(d, "odd")
    with pytest.raises(ValueError, match=r"^digits "):
        binary_labels(np.array([3, 11]), "parity")


def test_label_carrier_reproduces_labels_and_trains():
    y = np.array([1.0, -1.0, -1.0, 1.0])
    z, w = label_carrier(y, 5)
    assert np.array_equal(np.sign(z @ w), y)
    # a separable toy problem through numerics.training.train: it must fit the carried labels
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 5))
    yy = np.where(x[:, 1] - x[:, 2] > 0, 1.0, -1.0)
    z, w = label_carrier(yy, 5)
    res = train(ModelConfig(d=5, p=1.0), w, None,
                TrainConfig(steps=300, batch=200, lr=0.05, width=8, seed=0, progress=False), data=(x, z))
    acc = np.mean(yy * res.net.to_net()(x) > 0)
    assert acc >= 0.97, f"train fits the carried labels: accuracy {acc} (tol: at least 0.97)"


def test_purity_against_an_orthonormal_dictionary_is_model_purity():
    d = 6
    M = make_dictionary(d, "random", seed=2)
    W = np.random.default_rng(3).standard_normal((7, d))
    pur = dictionary_purity(W, M.T, q=0.9)
    assert np.allclose(pur.max_cosine, node_purity(W, M), atol=1e-12), "max cosine = docs/model.md pi_j (tol 1e-12)"
    # atoms needed: smallest s with the s largest squared loadings summing to q (brute force over the sorted list)
    C = W @ M / np.linalg.norm(W, axis=1, keepdims=True)
    for j in range(7):
        c2 = np.sort(C[j] ** 2)[::-1]
        want = 1 + int(np.argmax(np.cumsum(c2) >= 0.9 - 1e-12))
        assert pur.atoms_needed[j] == want, f"node {j}: OMP atoms {pur.atoms_needed[j]} vs sorted loadings {want}"


def test_purity_against_a_non_orthogonal_dictionary():
    D = np.array([[1.0, 0.0, 0.0], [np.sqrt(0.5), np.sqrt(0.5), 0.0], [0.0, 0.0, 1.0]])
    W = np.array([[0.0, 3.0, 0.0],  # in span of atoms 0, 1: cos with atom 1 = sqrt(1/2)
                  [-2.0, -2.0, 0.0],  # exactly (minus) atom 1 up to scale
                  [0.0, 0.0, 0.0],  # zero node
                  [1.0, 1.0, 1.0]])
    pur = dictionary_purity(W, D, q=0.9)
    assert abs(pur.max_cosine[0] - np.sqrt(0.5)) < 1e-12 and pur.best_atom[0] == 1
    assert pur.atoms_needed[0] == 2, "two non-orthogonal atoms span e_2"
    assert abs(pur.max_cosine[1] - 1.0) < 1e-12 and pur.atoms_needed[1] == 1
    assert pur.max_cosine[2] == 0.0 and pur.atoms_needed[2] == pur.max_atoms + 1
    expected = max(abs(D @ W[3])) / np.linalg.norm(W[3])
    assert abs(pur.max_cosine[3] - expected) < 1e-12
    scaled = dictionary_purity(-5.0 * W, D)
    assert np.allclose(scaled.max_cosine, pur.max_cosine) and np.array_equal(scaled.atoms_needed, pur.atoms_needed), \
        "purity is invariant to the node's scale and sign"
    with pytest.raises(ValueError, match=r"^D must have unit rows"):
        dictionary_purity(W, 2 * D)
    with pytest.raises(ValueError, match=r"^q "):
        dictionary_purity(W, D, q=1.0)
    with pytest.raises(ValueError, match=r"^D "):
        dictionary_purity(W, D[:, :2])


def test_random_direction_null_and_network_summary():
    D = make_dictionary(8, "random", seed=0).T
    null = random_direction_purity(D, 500, seed=1)
    assert np.all(null.max_cosine >= 1 / np.sqrt(8) - 1e-12) and np.all(null.max_cosine <= 1 + 1e-12), \
        "max |c_i| of a unit vector lies in [1/sqrt(d), 1]"
    assert np.array_equal(null.max_cosine, random_direction_purity(D, 500, seed=1).max_cosine), "seeded"
    net = TwoLayerNet(W=np.vstack([D[:3], np.ones((1, 8))]), a=np.ones(4), b=np.zeros(4))
    x = np.random.default_rng(2).standard_normal((300, 8))
    out = network_dictionary_purity(net, D, x, tau=0.99, null_n=200)
    w = np.array(out["nodes"]["weight"])
    assert abs(w.sum() - 1) < 1e-12
    assert abs(out["purified_fraction"] - w[:3].sum()) < 1e-12, "the three atom nodes are the purified ones"
    assert abs(out["excess_max_cosine"] - (out["mean_max_cosine"] - out["null_mean_max_cosine"])) < 1e-15


def test_learn_dictionary_unit_atoms_and_seeded(digits):
    x = digits.x_train[:200]
    D = learn_dictionary(x, 16, alpha=0.5, max_iter=2, seed=0)
    assert D.shape == (16, 64) and np.allclose(np.linalg.norm(D, axis=1), 1.0, atol=1e-12)
    assert np.array_equal(D, learn_dictionary(x, 16, alpha=0.5, max_iter=2, seed=0)), "seeded"
    Db = learn_dictionary(x[:60], 8, alpha=1.0, method="batch", max_iter=3, seed=0)
    assert Db.shape == (8, 64) and np.allclose(np.linalg.norm(Db, axis=1), 1.0, atol=1e-12)
    with pytest.raises(ValueError, match=r"^method "):
        learn_dictionary(x, 4, method="ksvd")
    with pytest.raises(ValueError, match=r"^n_atoms "):
        learn_dictionary(x, 0)
    with pytest.raises(ValueError, match=r"^alpha "):
        learn_dictionary(x, 4, alpha=0.0)
