"""The one training loop trains R runs as one tensor program, each run bit for bit the run trained alone (R = 1).

torch.equal on the final parameters and on the loss history, for: two-layer clean and adversarial
training (online and fixed sample), a head on a frozen layer, a three-layer module, and the
contrastive objective (attacked variants).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from numerics import ModelConfig, SparseCodingModel
from numerics.architectures import ThreeLayer
from numerics.contrastive import ContrastiveConfig, train_contrastive
from numerics.downstream import fit_head, fit_head_batch, random_layer
from numerics.training import TrainConfig, derive_seeds, fit, train, train_batch, train_module, train_module_batch
from numerics.torch_nets import TorchTwoLayer

torch.set_num_threads(1)

MODEL = SparseCodingModel(ModelConfig(d=16, p=0.2, sigma=0.1, dictionary="random", dictionary_seed=2))
WSTAR = np.ones(16) / 4.0
SEEDS = [3, 0, 11]


def _same_net(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("kw", [
    dict(eps=0.0),
    dict(eps=0.3, pgd_steps=3, pgd_restarts=2, eps_ramp=0.3, threshold="per_node"),
    dict(eps=0.3, pgd_steps=2, norm="linf", activation="relu", threshold="fixed", b_init=0.1, n_train=100),
    dict(eps=0.2, pgd_steps=2, optimiser="sgd", momentum=0.9, weight_decay=1e-3, monitor_eps=0.4, loss="hinge"),
], ids=["clean", "adversarial", "relu-linf-fixed-sample", "sgd-monitor"])
def test_two_layer_runs_of_a_batch_equal_runs_trained_alone(kw):
    cfg = TrainConfig(steps=25, batch=32, width=12, lr=0.02, log_every=5, progress=False, **kw)
    batch = train_batch(MODEL, WSTAR, cfg, seeds=SEEDS)
    for r, s in enumerate(SEEDS):
        alone = train(MODEL, WSTAR, None, cfg.replace(seed=s))
        assert _same_net(batch[r].net, alone.net), f"run {r} (seed {s}) differs from training it alone"
        assert np.array_equal(batch[r].losses, alone.losses), f"run {r}: loss history differs"
        assert batch[r].history == alone.history and batch[r].seeds == alone.seeds
    assert not _same_net(batch[0].net, batch[1].net), "different seeds must give different nets"


def test_head_on_a_frozen_layer_batch_equals_alone():
    layers = [random_layer(16, 10, 0.2, seed=s) for s in (1, 2)]
    cfg = TrainConfig(steps=20, batch=32, lr=0.05, eps=0.3, pgd_steps=3, eps_ramp=0.3, progress=False)
    both = fit_head_batch(layers, MODEL, WSTAR, cfg, seeds=[5, 6])
    for r, (lay, s) in enumerate(zip(layers, (5, 6))):
        alone = fit_head(lay, MODEL, WSTAR, cfg.replace(seed=s))
        assert np.array_equal(both[r].net.a, alone.net.a) and both[r].net.c == alone.net.c, f"head {r} differs"
        assert np.array_equal(both[r].losses, alone.losses)
        assert np.array_equal(both[r].net.W, lay.W), "the layer stays frozen"


def test_three_layer_module_batch_equals_alone():
    cfg = TrainConfig(steps=15, batch=32, lr=0.02, eps=0.3, pgd_steps=2, progress=False)
    inits = [derive_seeds(s)["init"] for s in SEEDS]
    runs = ThreeLayer.random_init(16, 8, 4, seed=inits, scale=0.1)
    res = train_module_batch(runs, MODEL, WSTAR, cfg, seeds=SEEDS)
    for r, s in enumerate(SEEDS):
        single = ThreeLayer.random_init(16, 8, 4, seed=inits[r], scale=0.1)
        alone = train_module(single, MODEL, WSTAR, cfg.replace(seed=s))
        assert _same_net(runs.run(r), single), f"three-layer run {r} differs from training it alone"
        assert np.array_equal(res.losses[:, r], alone.losses)


@pytest.mark.parametrize("kw", [dict(threshold="relative"), dict(threshold="per_node", activation="relu", loss="infonce",
                                                                   normalisation="l2", norm="linf")])
def test_contrastive_objective_batch_equals_alone(kw):
    cfg = ContrastiveConfig(width=10, steps=20, batch=16, lr=0.03, eps=0.3, pgd_steps=2, log_every=5, **kw)
    both = train_contrastive(MODEL, cfg, [4, 9], ("both", "negative", "none"))
    for s_i, s in enumerate((4, 9)):
        for v_i, v in enumerate(("both", "negative", "none")):
            alone = train_contrastive(MODEL, cfg, [s], (v,))
            assert np.array_equal(both.W[s_i, v_i], alone.W[0, 0]), f"seed {s} variant {v}: W differs from alone"
            assert np.array_equal(both.b[s_i, v_i], alone.b[0, 0])
            assert np.array_equal(both.history["clean_loss"][:, s_i, v_i], alone.history["clean_loss"][:, 0, 0])
    assert not np.array_equal(both.W[0, 0], both.W[0, 2]), "the attacked variant must differ from the clean one"


def test_fit_rejects_an_objective_without_parameters_and_a_foreign_config():
    class Empty:
        runs = 1

        def parameters(self):
            return []

    with pytest.raises(ValueError, match=r"^objective has no trainable parameter"):
        fit(Empty(), TrainConfig(steps=1, progress=False))
    with pytest.raises(ValueError, match=r"^cfg must be a TrainConfig"):
        fit(Empty(), {"steps": 1})


def test_heads_on_one_fixed_sample_batch_equals_alone():
    """Catches a batched probe fit whose runs see other minibatches, another seed or each other's gradients."""
    from numerics.downstream import fit_head_on_data, fit_heads_on_data
    from numerics.sparse_coding import labels

    sample = MODEL.sample(200, np.random.default_rng(5))
    y = labels(sample.z, WSTAR)
    layers = [random_layer(16, 8, seed=s, b=0.1) for s in (0, 1, 2)]
    cfg = TrainConfig(steps=30, batch=64, lr=0.05, weight_decay=1e-3, seed=7, progress=False, dtype="float64")
    together = fit_heads_on_data(layers, sample.x, y, cfg)
    for lay, fit_r in zip(layers, together):
        alone = fit_head_on_data(lay, sample.x, y, cfg)
        assert np.array_equal(alone.net.a, fit_r.net.a) and alone.net.c == fit_r.net.c
        assert np.array_equal(alone.losses, fit_r.losses)
    assert not np.array_equal(together[0].net.a, together[1].net.a), "distinct layers must give distinct heads"


def _never_called_attack(*args, **kwargs):
    raise AssertionError("a clean fit must not attack its inputs")


@pytest.mark.parametrize("batch", [64, 200])
def test_head_fit_on_cached_features_equals_the_fit_through_the_layer(batch):
    """A clean head fit on a fixed sample trains a LinearHead on h(x) computed once. Passing an attack (never called
    at eps = 0) takes the path that recomputes h of every minibatch through the frozen layer: the two must agree bit for
    bit (catches cached features of other rows, another minibatch order or a head computed otherwise), minibatch
    (64 of 200 rows) and full batch alike."""
    from numerics.downstream import fit_heads_on_data
    from numerics.sparse_coding import labels

    sample = MODEL.sample(200, np.random.default_rng(5))
    y = labels(sample.z, WSTAR)
    layers = [random_layer(16, 8, seed=s, b=0.1) for s in (0, 1, 2)]
    cfg = TrainConfig(steps=25, batch=batch, lr=0.05, weight_decay=1e-3, seed=7, progress=False, dtype="float64",
                      log_every=5)
    cached = fit_heads_on_data(layers, sample.x, y, cfg)
    through = fit_heads_on_data(layers, sample.x, y, cfg, attack=_never_called_attack)
    for a, b in zip(cached, through):
        assert np.array_equal(a.net.a, b.net.a) and a.net.c == b.net.c
        assert np.array_equal(a.net.W, b.net.W) and np.array_equal(a.net.b, b.net.b), "the layer stays frozen"
        assert np.array_equal(a.losses, b.losses)
        assert a.history.keys() == b.history.keys()
        for k in a.history:
            assert np.array_equal(a.history[k], b.history[k]), f"history[{k!r}] differs"


def test_linear_head_scores_equal_the_two_layer_net_on_its_features():
    """LinearHead(a, c) on h = net.hidden(x) is net(x) bit for bit, one net and runs; only the head is a parameter group."""
    from numerics.torch_nets import LinearHead

    net = TorchTwoLayer.random_init(16, 8, seed=[0, 1], b=0.05, dtype=torch.float64)
    x = torch.as_tensor(MODEL.sample(50, np.random.default_rng(2)).x)
    with torch.no_grad():
        lin = LinearHead(net.a.detach(), net.c.detach())
        assert torch.equal(lin(net.hidden(x)), net(x))
        one = LinearHead(net.a.detach()[1], float(net.c[1]))
        assert one.runs is None and torch.equal(one(net.run(1).hidden(x)), net.run(1)(x))
    assert lin.parameter_groups() == {"first": [], "threshold": [], "head": [lin.a, lin.c]}
    with pytest.raises(ValueError, match=r"^a must be a floating"):
        LinearHead(torch.zeros(2, 3, 4))


def test_fixed_batches_shuffle_per_epoch_and_keep_a_full_batch_in_order():
    """batch < n: each epoch is a seeded permutation of the sample (every row once); batch = n: the sample as given."""
    from numerics.training import LabelledBatches

    x = torch.arange(10.0)[:, None].expand(10, 2).contiguous()
    y = torch.arange(10.0)
    part = LabelledBatches.fixed(x, y, 5, [0, 1])
    first, second = part.next(0), part.next(1)
    for r in range(2):
        rows = torch.cat([first[1][r], second[1][r]]).sort().values
        assert torch.equal(rows, y), "one epoch sees every row once"
        assert torch.equal(first[0][r][:, 0], first[1][r]), "x and y rows stay paired"
    assert not torch.equal(first[1][0], first[1][1]), "each run shuffles with its own generator"
    full = LabelledBatches.fixed(x, y, 10, [0, 1])
    for step in range(3):
        xb, yb = full.next(step)
        assert xb.shape == (2, 10, 2) and torch.equal(yb, y.expand(2, 10)) and torch.equal(xb[1], x)


def test_online_batches_are_each_runs_own_draws_in_chunks():
    """Step t of run r is rows [t n, (t + 1) n) of run r's own chunk draw: whatever the other runs, across chunks."""
    from numerics.sparse_coding import labels_torch
    from numerics.training import LabelledBatches

    n = 1 << 13  # 64 * 32 * 16 * 8 > 2^20 elements per chunk: a chunk of 8 steps
    batches = LabelledBatches.online(MODEL, WSTAR, n, [5, 7], torch.float32)
    assert batches._chunk == 8
    # 8 steps, then into the second chunk; a batch is a view valid within its step (the buffer is reused): copied
    steps = [tuple(v.clone() for v in batches.next(t)) for t in range(10)]
    for r, seed in enumerate([5, 7]):
        g = torch.Generator().manual_seed(seed)
        draws = [MODEL.sample_torch(8 * n, g) for _ in range(2)]
        for t, (x, y) in enumerate(steps):
            xc, zc = draws[t // 8]
            rows = slice((t % 8) * n, (t % 8 + 1) * n)
            assert torch.equal(x[r], xc[rows]), f"run {r} step {t}: inputs are not its own draw"
            assert torch.equal(y[r], labels_torch(zc[rows], torch.as_tensor(WSTAR, dtype=torch.float32)))
