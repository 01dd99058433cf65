"""Tests of numerics.training: determinism, clean = AT at eps 0, fixed-sample isolation,
tie handling, optimisation progress and config validation."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from numerics import ModelConfig, SparseCodingModel, TwoLayerNet
from numerics.torch_nets import TorchTwoLayer
from numerics.training import LogRecord, TrainConfig, derive_seeds, margin_loss, train

torch.set_num_threads(1)

MODEL = SparseCodingModel(ModelConfig(d=8, p=0.25, sigma=0.1))
WSTAR = np.array([1.0, -0.5, 0.8, 0.3, -1.2, 0.7, 0.2, -0.9])
SMALL = dict(steps=40, batch=32, width=6, log_every=10, progress=False)


def params(net: TorchTwoLayer) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def same_params(a: TorchTwoLayer, b: TorchTwoLayer) -> bool:
    pa, pb = params(a), params(b)
    return pa.keys() == pb.keys() and all(torch.equal(pa[k], pb[k]) for k in pa)


def is_row_of(rows: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """Exact membership: row i of ``rows`` equals some row of ``X`` bit for bit."""
    return (rows[:, None, :] == X[None, :, :]).all(dim=2).any(dim=1)


# ----------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("eps", [0.0, 0.3])
def test_same_seed_gives_bit_identical_weights(eps):
    cfg = TrainConfig(eps=eps, pgd_steps=3, pgd_restarts=2, eps_ramp=0.5, threshold="per_node", seed=7, **SMALL)
    r1, r2 = train(MODEL, WSTAR, None, cfg), train(MODEL, WSTAR, None, cfg)
    assert same_params(r1.net, r2.net), "same config and seed must give bit-identical weights"
    assert r1.history == r2.history
    r3 = train(MODEL, WSTAR, None, TrainConfig(**{**cfg.__dict__, "seed": 8}))
    assert not same_params(r1.net, r3.net), "a different seed must give different weights"


def test_seeds_are_recorded_and_independent():
    s = derive_seeds(5)
    assert s["seed"] == 5 and len({s["init"], s["data"], s["attack"]}) == 3
    assert all(0 <= s[k] < 2**31 for k in ("init", "data", "attack"))
    assert train(MODEL, WSTAR, None, TrainConfig(seed=5, **SMALL)).seeds == s


# ------------------------------------------------------------------ eps = 0 AT == clean


def test_eps_zero_adversarial_training_is_clean_training_exactly():
    def never(*args, **kwargs):
        raise AssertionError("the attack must not run at eps = 0")

    clean = train(MODEL, WSTAR, None, TrainConfig(seed=3, **SMALL))
    adv0 = train(MODEL, WSTAR, None, TrainConfig(seed=3, eps=0.0, pgd_steps=9, pgd_restarts=4, eps_ramp=0.5,
                                                 **SMALL), attack=never)
    assert same_params(clean.net, adv0.net)
    assert clean.history == adv0.history


def test_zero_perturbation_attack_leaves_training_unchanged():
    """Plumbing: an attack returning delta = 0 at eps > 0 must reproduce clean training bit for bit
    (it consumes no data randomness and leaves no gradient behind)."""
    calls = []

    def zero_attack(model, x, y, eps, norm, steps, restarts, step_size, seed):
        calls.append((x.shape, eps, seed))
        model(x).sum().backward()  # a sloppy attack that leaves gradients on the weights
        return torch.zeros_like(x)

    clean = train(MODEL, WSTAR, None, TrainConfig(seed=4, **SMALL))
    adv = train(MODEL, WSTAR, None, TrainConfig(seed=4, eps=0.3, **SMALL), attack=zero_attack)
    assert same_params(clean.net, adv.net)
    assert len(calls) == SMALL["steps"]
    # the batched interface: x (R, n, d) for R = 1 run, one attack seed per run
    assert all(c[0] == (1, SMALL["batch"], 8) for c in calls)
    assert [c[2] for c in calls] == [[adv.seeds["attack"] + t] for t in range(SMALL["steps"])]


def test_eps_curriculum_is_a_linear_ramp():
    cfg = TrainConfig(steps=100, eps=0.4, eps_ramp=0.5)
    assert [cfg.eps_at(t) for t in (0, 25, 50, 99)] == pytest.approx([0.0, 0.2, 0.4, 0.4], abs=1e-15)
    assert TrainConfig(steps=100, eps=0.4).eps_at(0) == 0.4
    seen = []
    train(MODEL, WSTAR, None, TrainConfig(eps=0.4, eps_ramp=0.5, **SMALL),
          attack=lambda m, x, y, eps, *a: (seen.append(eps), torch.zeros_like(x))[1])
    # step 0 has eps_0 = 0 (clean step, no attack); steps 1..39 ramp over 20 steps
    assert seen == pytest.approx([0.4 * min(1.0, t / 20) for t in range(1, 40)], abs=1e-15)


# --------------------------------------------------------------------------- fixed sample


def test_fixed_sample_mode_only_sees_the_given_sample(monkeypatch):
    s = MODEL.sample(40, seed=11)
    seen: list[torch.Tensor] = []
    net = TorchTwoLayer.random_init(8, 6, seed=0, scale=0.1)

    def forbid(*a, **k):
        raise AssertionError("fixed-sample training must not draw fresh samples")

    monkeypatch.setattr(SparseCodingModel, "sample_torch", forbid)
    orig_forward = TorchTwoLayer.forward
    monkeypatch.setattr(TorchTwoLayer, "forward",
                        lambda self, x: (seen.append(x.detach().reshape(-1, x.shape[-1]).clone()), orig_forward(self, x))[1])
    res = train(MODEL, WSTAR, net, TrainConfig(steps=25, batch=16, width=6, log_every=100, progress=False, seed=1),
                data=(s.x, s.z))
    assert res.mode == "fixed" and res.n_seen == 25 * 16
    X = torch.as_tensor(s.x, dtype=torch.float32)
    rows = torch.cat(seen)
    assert is_row_of(rows, X).all(), "every input the net saw must be a row of the given sample"
    # seeded epochs of 40 in batches of 16: over 12 epochs every labelled row is trained on
    labelled = X[torch.as_tensor(np.sign(s.z @ WSTAR) != 0)]
    assert labelled.shape[0] >= 30 and is_row_of(labelled, rows).all()


def test_fixed_sample_adversarial_inputs_stay_within_eps_of_the_sample(monkeypatch):
    s = MODEL.sample(30, seed=12)
    captured = []

    def attack(model, x, y, eps, norm, steps, restarts, step_size, seeds):
        captured.append(x.reshape(-1, x.shape[-1]).clone())
        g = torch.Generator().manual_seed(seeds[0])
        d = torch.randn(x.shape, generator=g, dtype=x.dtype)
        return eps * d / d.norm(dim=-1, keepdim=True)

    res = train(MODEL, WSTAR, None, TrainConfig(steps=10, batch=8, eps=0.25, width=6, progress=False),
                data=s, attack=attack)
    X = torch.as_tensor(s.x, dtype=torch.float32)
    assert is_row_of(torch.cat(captured), X).all(), "the attack must only be given rows of the sample"
    assert res.mode == "fixed"


def test_n_train_draws_one_fixed_sample(monkeypatch):
    calls = []
    orig = SparseCodingModel.sample_torch
    monkeypatch.setattr(SparseCodingModel, "sample_torch",
                        lambda self, n, g, **k: (calls.append(n), orig(self, n, g, **k))[1])
    res = train(MODEL, WSTAR, None, TrainConfig(n_train=50, **SMALL))
    assert calls == [50] and res.mode == "fixed"
    calls.clear()
    train(MODEL, WSTAR, None, TrainConfig(**SMALL))
    # online mode draws a fresh batch every step, 64 steps' batches per draw (40 steps: one draw)
    assert calls == [64 * SMALL["batch"]], "online mode draws fresh batches in chunks of 64 steps"
    calls.clear()
    train(MODEL, WSTAR, None, TrainConfig(**{**SMALL, "steps": 130}))
    assert calls == [64 * SMALL["batch"]] * 3


# ---------------------------------------------------------------------------- ties (y = 0)


def test_ties_are_dropped_from_the_loss():
    """Full-batch training on a sample with extra z = 0 rows (y = 0) equals training without them,
    up to float32 summation order (tolerance 1e-5 on every weight)."""
    s = MODEL.sample(64, seed=13)
    y = np.sign(s.z @ WSTAR)
    keep = y != 0
    x, z = s.x[keep], s.z[keep]
    rng = np.random.default_rng(0)
    x_tie = np.vstack([x, rng.standard_normal((20, 8))])
    z_tie = np.vstack([z, np.zeros((20, 8))])
    cfg = TrainConfig(steps=30, batch=1000, width=6, progress=False, lr=0.05)
    a = train(MODEL, WSTAR, None, cfg, data=(x, z))
    b = train(MODEL, WSTAR, None, cfg, data=(x_tie, z_tie))
    for k, v in params(a.net).items():
        assert torch.allclose(v, params(b.net)[k], atol=1e-5, rtol=0), f"{k} differs beyond 1e-5"
    # accuracies count ties as errors: the tie rows cap the logged accuracy at n_labelled / n
    assert b.history[-1].clean_acc <= x.shape[0] / x_tie.shape[0] + 1e-12


# -------------------------------------------------------------------- learning and losses


@pytest.mark.parametrize("loss,optimiser", [("logistic", "adam"), ("hinge", "adam"), ("squared", "sgd")])
def test_loss_decreases_on_an_easy_problem(loss, optimiser):
    """y = sign(z_1) with an identity dictionary and no noise: held-out loss must fall by half and
    accuracy reach 0.95 (of labelled samples), from an initial net with accuracy near chance."""
    model = SparseCodingModel(ModelConfig(d=8, p=0.5, sigma=0.0, dictionary="identity"))
    w = np.eye(8)[0]
    cfg = TrainConfig(steps=300, batch=64, width=4, lr=0.05 if optimiser == "adam" else 0.1, loss=loss,
                      optimiser=optimiser, momentum=0.9 if optimiser == "sgd" else 0.0, init_scale=0.1,
                      threshold="fixed", log_every=50, progress=False, seed=2)
    res = train(model, w, None, cfg)
    s = model.sample(2000, seed=99)
    y = torch.as_tensor(np.sign(s.z @ w), dtype=torch.float32)
    x = torch.as_tensor(s.x, dtype=torch.float32)
    lab = y != 0
    init = TorchTwoLayer.from_net(res.init_net, dtype=torch.float32)
    with torch.no_grad():
        before = margin_loss(loss, y[lab] * init(x[lab])).mean().item()
        after = margin_loss(loss, y[lab] * res.net(x[lab])).mean().item()
        acc = (y[lab] * res.net(x[lab]) > 0).float().mean().item()
    assert after < 0.5 * before, f"held-out {loss} loss {before:.4f} -> {after:.4f} must halve"
    assert acc >= 0.95, f"held-out accuracy {acc:.3f} must be >= 0.95"
    h = res.history_arrays()
    assert h["loss"][-1] < h["loss"][0]
    assert list(h["step"]) == [0, 50, 100, 150, 200, 250, 299]


def test_margin_losses_closed_forms():
    u = torch.tensor([-1.0, 0.0, 0.5, 3.0], dtype=torch.float64)
    assert torch.allclose(margin_loss("logistic", u), torch.log1p(torch.exp(-u)), atol=1e-15, rtol=0)
    assert margin_loss("logistic", u)[1].item() == pytest.approx(math.log(2.0), abs=1e-15)
    assert margin_loss("hinge", u).tolist() == [2.0, 1.0, 0.5, 0.0]
    assert margin_loss("squared", u).tolist() == [4.0, 1.0, 0.25, 4.0]


def test_threshold_stays_nonnegative_and_callers_net_is_untouched():
    net = TwoLayerNet(W=np.random.default_rng(0).standard_normal((6, 8)) * 0.1, a=np.full(6, 0.1), b=np.zeros(6))
    tnet = TorchTwoLayer.from_net(net, dtype=torch.float32, trainable=True, threshold="per_node")
    before = params(tnet)
    # squared loss pushes b both ways; a large lr makes Adam overshoot below 0 without the projection
    res = train(MODEL, WSTAR, tnet, TrainConfig(steps=60, batch=32, lr=0.2, threshold="per_node", loss="squared",
                                                progress=False))
    assert float(res.net.b_param.detach().min()) >= 0.0
    assert res.net.b_param.shape == (6,) and res.net.b_param.requires_grad
    assert same_params(tnet, TorchTwoLayer.from_net(net, dtype=torch.float32, trainable=True, threshold="per_node"))
    assert all(torch.equal(before[k], params(tnet)[k]) for k in before)
    assert np.array_equal(res.init_net.W, net.W.astype(np.float32).astype(np.float64))


@pytest.mark.parametrize("train_first,train_head", [(False, True), (True, False)])
def test_frozen_parts_stay_fixed(train_first, train_head):
    cfg = TrainConfig(train_first=train_first, train_head=train_head, threshold="fixed", **SMALL)
    res = train(MODEL, WSTAR, None, cfg)
    init = TorchTwoLayer.from_net(res.init_net, dtype=torch.float32)
    assert torch.equal(res.net.W.detach(), init.W) == (not train_first)
    assert torch.equal(res.net.a.detach(), init.a) == (not train_head)
    assert torch.equal(res.net.b.detach(), init.b), "a fixed threshold must not move"


def test_history_record_fields():
    res = train(MODEL, WSTAR, None, TrainConfig(eps=0.2, monitor_eps=0.3, pgd_steps=2, **SMALL),
                attack=lambda m, x, y, eps, *a: torch.zeros_like(x))
    r = res.history[-1]
    assert isinstance(r, LogRecord) and r.step == SMALL["steps"] - 1
    assert r.eps == 0.2 and r.robust_eps == 0.3
    # a zero attack: robust accuracy equals clean accuracy
    assert r.robust_acc == r.clean_acc and 0.0 <= r.clean_acc <= 1.0
    assert res.wall_time > 0 and res.n_seen == SMALL["steps"] * SMALL["batch"]


# ---------------------------------------------------------------------------- validation


@pytest.mark.parametrize("field,value", [
    ("steps", 0), ("batch", 0), ("lr", 0.0), ("optimiser", "rmsprop"), ("momentum", 1.0),
    ("weight_decay", -1.0), ("loss", "mse"), ("eps", -0.1), ("norm", "l1"), ("pgd_steps", 0),
    ("pgd_restarts", 0), ("pgd_step_size", 0.0), ("eps_ramp", 1.5), ("monitor_eps", -1.0),
    ("threshold", "learned"), ("b_init", -0.1), ("activation", "tanh"), ("width", 0), ("init_scale", 0.0),
    ("dtype", "float16"), ("n_train", 0), ("seed", -1), ("log_every", 0), ("progress", "yes"), ("steps", 2.5),
    ("train_first", "no"), ("train_head", 1),
])
def test_bad_config_raises_naming_the_field(field, value):
    with pytest.raises(ValueError, match=rf"^{field} "):
        TrainConfig(**{field: value})


def test_config_with_nothing_to_train_raises():
    with pytest.raises(ValueError, match=r"^train_first, train_head and threshold leave nothing to train"):
        TrainConfig(train_first=False, train_head=False, threshold="fixed")


def test_bad_train_arguments_raise():
    with pytest.raises(ValueError, match=r"^wstar "):
        train(MODEL, np.ones(7), None, TrainConfig(**SMALL))
    with pytest.raises(ValueError, match=r"^wstar "):
        train(MODEL, np.zeros(8), None, TrainConfig(**SMALL))
    with pytest.raises(ValueError, match=r"^model "):
        train("model", WSTAR, None, TrainConfig(**SMALL))
    with pytest.raises(ValueError, match=r"^cfg "):
        train(MODEL, WSTAR, None, {"steps": 3})
    with pytest.raises(ValueError, match=r"^net "):
        train(MODEL, WSTAR, TorchTwoLayer.random_init(5, 3, seed=0), TrainConfig(**SMALL))
    s = MODEL.sample(10, seed=0)
    with pytest.raises(ValueError, match=r"^data and cfg\.n_train are exclusive"):
        train(MODEL, WSTAR, None, TrainConfig(n_train=10, **SMALL), data=s)
    with pytest.raises(ValueError, match=r"^data z"):
        train(MODEL, WSTAR, None, TrainConfig(**SMALL), data=(s.x, s.z[:5]))


def test_a_given_net_fixes_the_init_fields_which_must_agree_or_stay_default():
    net = TorchTwoLayer.random_init(8, 6, seed=0, scale=0.1)
    cfg = dict(steps=3, batch=8, progress=False)
    assert train(MODEL, WSTAR, net, TrainConfig(width=6, **cfg)).net.m == 6, "an agreeing width is accepted"
    assert train(MODEL, WSTAR, net, TrainConfig(**cfg)).net.m == 6, "the default width defers to the net"
    for kw, pattern in ((dict(width=5), r"^width must be the given net's width 6"),
                        (dict(init_scale=0.5), r"^init_scale applies only to the trainer's random init"),
                        (dict(b_init=0.2), r"^b_init applies only to the trainer's random init"),
                        (dict(activation="relu"), r"^activation must be the given net's activation 'soft_threshold'")):
        with pytest.raises(ValueError, match=pattern):
            train(MODEL, WSTAR, net, TrainConfig(**kw, **cfg))


def test_train_batch_validates_its_seeds_and_records_each_runs_config():
    from numerics.training import train_batch

    cfg = TrainConfig(steps=3, batch=8, width=4, progress=False)
    with pytest.raises(ValueError, match=r"^seeds must hold at least one seed"):
        train_batch(MODEL, WSTAR, cfg, seeds=[])
    with pytest.raises(ValueError, match=r"^seeds must be an integer"):
        train_batch(MODEL, WSTAR, cfg, seeds=[-1])
    res = train_batch(MODEL, WSTAR, cfg, seeds=[2, 5])
    assert [r.config.seed for r in res] == [2, 5] and [r.seeds["seed"] for r in res] == [2, 5]
    assert all(r.net.runs is None and r.losses.shape == (3,) for r in res), "each result is a single net"
