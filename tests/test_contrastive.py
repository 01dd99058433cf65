"""numerics.contrastive: loss terms (hand values, brute force), views, the closed-form term attack (autograd,
exact linear optima, pgd_attack), batched training (paired variants, batching = training alone), the probe, errors."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import optimize

from numerics import ModelConfig, SparseCodingModel, mixed_net, mixing_path, random_skew
from numerics.attacks.pgd import pgd_attack
from numerics.contrastive import (VARIANTS, ContrastiveConfig, TermScore, _objective_and_grad, attack_terms,
                                  contrastive_terms, evaluate_representation, make_views, probe_config,
                                  representation, sample_pairs, term_changes, train_contrastive)
from numerics.networks import TwoLayerNet

torch.set_num_threads(1)
DT = torch.float64


def _model(d=8, sigma=0.1, p=0.25):
    return SparseCodingModel(ModelConfig(d=d, p=p, sigma=sigma, dictionary="random", dictionary_seed=3))


def _t(a):
    return torch.as_tensor(np.asarray(a, dtype=float), dtype=DT)


# ----------------------------------------------------------------- terms


def test_terms_hand_values_in_batch():
    h, hp = _t([[1, 1], [0, 1]]), _t([[1, 0], [2, 1]])
    # s_pos = [1, 1]; in-batch negatives: anchor 0 sees hp[1] (s = 3), anchor 1 sees hp[0] (s = 0)
    pos, neg = contrastive_terms(h, hp, hp, "spectral", exclude_diagonal=True)
    np.testing.assert_array_equal(pos.numpy(), [-2.0, -2.0])
    np.testing.assert_array_equal(neg.numpy(), [9.0, 0.0])
    pos, neg = contrastive_terms(h, hp, hp, "infonce", 0.5, exclude_diagonal=True)
    np.testing.assert_allclose(pos.numpy(), [-2.0, -2.0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(neg.numpy(), [6.0, 0.0], rtol=0, atol=1e-15)  # log mean exp over one negative
    pos, neg = contrastive_terms(h, hp, hp, "infonce_std", 0.5, exclude_diagonal=True)
    want = [math.log((math.e**2 + math.e**6) / 2), math.log((math.e**2 + 1.0) / 2)]
    np.testing.assert_allclose(neg.numpy(), want, rtol=1e-14, atol=0)


@pytest.mark.parametrize("loss", ["spectral", "infonce", "infonce_std"])
@pytest.mark.parametrize("exclude", [True, False])
def test_terms_match_brute_force_loops(loss, exclude):
    rng = np.random.default_rng(0)
    n, P, m, T = 5, (5 if exclude else 7), 4, 0.7
    h, hp, hn = rng.standard_normal((n, m)), rng.standard_normal((n, m)), rng.standard_normal((P, m))
    pos, neg = contrastive_terms(_t(h), _t(hp), _t(hn), loss, T, exclude_diagonal=exclude)
    for i in range(n):
        js = [j for j in range(P) if not (exclude and j == i)]
        s = [h[i] @ hn[j] for j in js]
        if loss == "spectral":
            want_p, want_n = -2 * h[i] @ hp[i], sum(v**2 for v in s) / len(js)
        else:
            want_p = -(h[i] @ hp[i]) / T
            logits = s + ([h[i] @ hp[i]] if loss == "infonce_std" else [])
            want_n = math.log(sum(math.exp(v / T) for v in logits) / len(logits))
        assert abs(pos[i].item() - want_p) < 1e-12, f"positive term of anchor {i} off the loop by > 1e-12"
        assert abs(neg[i].item() - want_n) < 1e-12, f"negative term of anchor {i} off the loop by > 1e-12"


def test_representation_matches_two_layer_net_hidden():
    rng = np.random.default_rng(1)
    W, x, tau = rng.standard_normal((6, 5)), rng.standard_normal((9, 5)), rng.uniform(0, 0.8, 6)
    for act, b in (("soft_threshold", tau), ("relu", -tau)):  # one convention: b is the activation's parameter
        want = TwoLayerNet(W=W, a=np.ones(6), b=b, activation=act).hidden(x)
        got = representation(_t(x), _t(W), _t(b), act).numpy()
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-14, err_msg=f"{act}: off TwoLayerNet.hidden by > 1e-14")
    h = representation(_t(x), _t(W), _t(tau), "soft_threshold", "l2").numpy()
    norms = np.linalg.norm(h, axis=1)
    assert np.all((np.abs(norms - 1) < 1e-12) | (norms == 0)), "l2-normalised rows must have norm 1 (or be 0)"


# ----------------------------------------------------------------- views


def test_noise_views_without_noise_coincide_and_dropout_only_removes_features():
    model = _model(sigma=0.0)
    g = torch.Generator().manual_seed(0)
    x, xp, z = sample_pairs(model, 400, g, augmentation="noise", dtype=DT)
    np.testing.assert_allclose(x.numpy(), z.numpy() @ model.M.T, atol=1e-12)
    np.testing.assert_array_equal(x.numpy(), xp.numpy())
    g = torch.Generator().manual_seed(1)
    x, xp, z = sample_pairs(model, 4000, g, augmentation="dropout", drop=0.3, dtype=DT)
    zv = x.numpy() @ model.M  # feature coordinates of the view
    active = z.numpy() != 0
    assert np.all(np.abs(zv[~active]) < 1e-12), "dropout must never switch on an inactive feature"
    kept = np.abs(zv[active] - z.numpy()[active]) < 1e-12
    assert np.all(kept | (np.abs(zv[active]) < 1e-12)), "a feature is either kept whole or dropped"
    rate, n = kept.mean(), kept.size
    assert abs(rate - 0.7) < 4 * math.sqrt(0.21 / n), f"kept fraction {rate:.4f} not within 4 sd of 1 - drop = 0.7"


def test_views_reproducible_and_noise_scale():
    model = _model(d=16, sigma=0.5)
    a = sample_pairs(model, 3000, torch.Generator().manual_seed(5), dtype=DT)
    b = sample_pairs(model, 3000, torch.Generator().manual_seed(5), dtype=DT)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u.numpy(), v.numpy())
    diff = (a[0] - a[1]).numpy()  # xi - xi+ ~ N(0, 2 sigma^2 / d I)
    var = diff.var()
    assert abs(var - 2 * 0.25 / 16) < 0.05 * 2 * 0.25 / 16, f"view-difference variance {var:.5f} off 2 sigma^2/d by > 5%"


# ----------------------------------------------------------------- the term attack


@pytest.mark.parametrize("loss", ["spectral", "infonce", "infonce_std"])
@pytest.mark.parametrize("norm_", ["none", "l2"])
@pytest.mark.parametrize("act", ["soft_threshold", "relu"])
def test_closed_form_gradient_matches_autograd(loss, norm_, act):
    torch.manual_seed(0)
    G, n, d, m = 3, 6, 5, 7
    W, tau = torch.randn(G, m, d, dtype=DT), torch.rand(G, m, dtype=DT) * 0.5
    x, hp, hn = torch.randn(G, n, d, dtype=DT), torch.randn(G, n, m, dtype=DT), torch.randn(G, n, m, dtype=DT)
    wp, wn = _t([1, 0, 1]), _t([1, 1, 0])
    valid = ~torch.eye(n, dtype=torch.bool)
    obj, g = _objective_and_grad(x, W, tau, hp, hn, wp, wn, act, norm_, loss, 0.5, valid, True)
    score = TermScore(W, tau, hp, hn, wp, wn, act, norm_, loss, 0.5, True)
    xx = x.reshape(-1, d).clone().requires_grad_(True)
    o = -score(xx)
    (gg,) = torch.autograd.grad(o.sum(), xx)
    np.testing.assert_allclose(obj.numpy(), o.detach().reshape(G, n).numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(g.numpy(), gg.reshape(G, n, d).numpy(), rtol=0, atol=1e-10,
                               err_msg="closed-form gradient off autograd by > 1e-10")


def _linear_setup(seed=0, G=2, n=5, d=6, m=4):
    rng = np.random.default_rng(seed)
    W = _t(rng.standard_normal((G, m, d)))
    x = _t(rng.standard_normal((G, n, d)))
    hp, hn = _t(rng.standard_normal((G, n, m))), _t(rng.standard_normal((G, 1, m)))
    return W, torch.zeros(G, m, dtype=DT), x, hp, hn


@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_positive_attack_on_linear_representation_is_exact(norm):
    # h = W x: the positive term -2 <W(x + delta), h+> rises by exactly 2 eps ||W^T h+||_dual
    W, tau, x, hp, hn = _linear_setup()
    eps = 0.3
    delta = attack_terms(x, W, tau, hp, hn, [True, True], [False, False], eps, norm=norm, steps=20, zero_start=True)
    pos0, _ = contrastive_terms(representation(x, W, tau, "soft_threshold"), hp, hn, "spectral")
    pos1, _ = contrastive_terms(representation(x + delta, W, tau, "soft_threshold"), hp, hn, "spectral")
    v = hp @ W  # W^T h+ per anchor, (G, n, d)
    dual = v.norm(dim=-1) if norm == "l2" else v.abs().sum(-1)
    np.testing.assert_allclose((pos1 - pos0).numpy(), (2 * eps * dual).numpy(), rtol=1e-9, atol=0,
                               err_msg="PGD rise of the positive term off the exact 2 eps ||W^T h+||* by > 1e-9 (rel)")
    size = delta.norm(dim=-1) if norm == "l2" else delta.abs().amax(-1)
    assert torch.all(size <= eps * (1 + 1e-12)), "delta left the eps-ball"


def test_negative_attack_with_one_negative_is_exact():
    # one negative: neg = <W(x + delta), h->^2 = (<v, x> + <v, delta>)^2 with v = W^T h-, max = (|<v,x>| + eps||v||)^2
    W, tau, x, hp, hn = _linear_setup(seed=1)
    eps = 0.4
    delta = attack_terms(x, W, tau, hp, hn, [False, False], [True, True], eps, steps=30, zero_start=True)
    _, neg1 = contrastive_terms(representation(x + delta, W, tau, "soft_threshold"), hp, hn, "spectral")
    v = (hn @ W).squeeze(-2)  # (G, d)
    want = ((x @ v.unsqueeze(-1)).squeeze(-1).abs() + eps * v.norm(dim=-1, keepdim=True)) ** 2
    np.testing.assert_allclose(neg1.numpy(), want.numpy(), rtol=1e-6, atol=0,
                               err_msg="PGD maximum of the one-negative term off the exact optimum by > 1e-6 (rel)")


def test_attack_agrees_with_pgd_attack_on_the_module_and_never_moves_unattacked_nets():
    model = _model(d=8)
    g = torch.Generator().manual_seed(3)
    x, xp, _ = sample_pairs(model, 16, g, dtype=DT)
    rng = np.random.default_rng(4)
    G = 3
    W = _t(rng.standard_normal((G, 10, 8)))
    tau = torch.full((G, 10), 0.2, dtype=DT)
    X, XP = x.expand(G, 16, 8).clone(), xp.expand(G, 16, 8).clone()
    hp = representation(XP, W, tau, "soft_threshold")
    ap, an = [True, False, False], [True, True, False]
    ours = attack_terms(X, W, tau, hp, hp, ap, an, 0.3, exclude_diagonal=True, steps=25, restarts=4, seed=1)
    score = TermScore(W, tau, hp, hp, _t(ap), _t(an), exclude_diagonal=True)
    y = torch.tensor([1.0] * 32 + [0.0] * 16, dtype=DT)
    ref = pgd_attack(score, X.reshape(-1, 8), y, 0.3, "l2", 25, 4, None, 1).reshape(G, 16, 8)
    obj = lambda D: _objective_and_grad(X + D, W, tau, hp, hp, _t(ap), _t(an), "soft_threshold", "none",  # noqa: E731
                                        "spectral", 0.5, ~torch.eye(16, dtype=torch.bool), False)[0]
    gain_ours, gain_ref = (obj(ours) - obj(torch.zeros_like(X)))[:2], (obj(ref) - obj(torch.zeros_like(X)))[:2]
    zs = attack_terms(X, W, tau, hp, hp, ap, an, 0.3, exclude_diagonal=True, steps=25, restarts=2, seed=1,
                      zero_start=True)
    assert torch.all(obj(zs) >= obj(torch.zeros_like(X))), "with a zero start the best iterate is never below clean"
    rel = (gain_ours.mean() - gain_ref.mean()).abs() / gain_ref.mean()
    assert rel < 0.05, f"mean attack gain {gain_ours.mean():.4f} vs pgd_attack's {gain_ref.mean():.4f}: > 5% apart"
    assert torch.all(ours[2] == 0), "a net whose attacker attacks no term must get delta = 0"


# ----------------------------------------------------------------- training


SMALL = dict(width=12, steps=30, batch=16, lr=0.03, pgd_steps=3, log_every=10)


def test_eps_zero_variants_coincide_and_training_is_deterministic():
    model = _model()
    run = train_contrastive(model, ContrastiveConfig(eps=0.0, **SMALL), [0, 1])
    for v in range(1, 4):
        np.testing.assert_array_equal(run.W[:, v], run.W[:, 0], err_msg="eps = 0: every variant is the clean run")
    cfg = ContrastiveConfig(eps=0.3, **SMALL)
    a, b = train_contrastive(model, cfg, [0, 1]), train_contrastive(model, cfg, [0, 1])
    np.testing.assert_array_equal(a.W, b.W)
    assert not np.array_equal(a.W[:, 0], a.W[:, 3]), "an attacked variant must differ from the clean one"


def test_batched_training_equals_training_alone():
    model = _model()
    cfg = ContrastiveConfig(eps=0.0, **SMALL)
    both = train_contrastive(model, cfg, [4, 9], ("negative", "none"))
    alone = train_contrastive(model, cfg, [9], ("none",))
    np.testing.assert_allclose(both.W[1, 1], alone.W[0, 0], rtol=0, atol=1e-5,
                               err_msg="seed 9 trained in a batch must match seed 9 alone (float32, 1e-5)")
    assert both.seeds[1] == alone.seeds[0]


def test_same_seed_same_init_across_variants_and_loss_decreases():
    model = _model()
    cfg = ContrastiveConfig(eps=0.3, **{**SMALL, "steps": 60})
    run = train_contrastive(model, cfg, [2])
    first, last = run.history["clean_loss"][0, 0], run.history["clean_loss"][-1, 0]
    assert np.all(first == first[0]), "all variants start from the same weights on the same batch"
    assert last[3] < first[3] - 1.0, f"clean training must lower the clean loss by > 1 (from {first[3]:.3f} to {last[3]:.3f})"


@pytest.mark.parametrize("rule", ["relative", "per_node", "shared", "fixed"])
def test_threshold_rules(rule):
    model = _model()
    run = train_contrastive(model, ContrastiveConfig(eps=0.3, threshold=rule, b=0.3, **SMALL), [0], ("both", "none"))
    if rule == "relative":
        np.testing.assert_allclose(run.tau, 0.3 * np.linalg.norm(run.W, axis=-1), rtol=1e-6)
    elif rule == "fixed":
        assert np.all(run.tau == np.float32(0.3))
    else:
        assert np.all(run.tau >= 0), "a trained soft threshold is projected onto tau >= 0"
        assert not np.all(run.tau == np.float32(0.3)), "a trained threshold must move"
        if rule == "shared":
            assert np.all(run.tau == run.tau[..., :1]), "shared: one threshold per net"


# ----------------------------------------------------------------- probe and evaluation


def test_probe_is_the_penalised_logistic_regression():
    """The probe (the downstream head fit on an identity layer) reaches the BFGS optimum of
    mean log(1 + exp(-y (<v, h> + c))) + ridge/2 ||(v, c)||^2 to 1e-6."""
    from numerics.downstream import FrozenLayer, fit_head_on_data

    rng = np.random.default_rng(5)
    H = rng.standard_normal((300, 4))
    y = np.where(H @ [1.0, -2.0, 0.5, 0.0] + 0.3 + rng.standard_normal(300) > 0, 1.0, -1.0)
    ridge = 1e-2

    def f(th):
        return np.mean(np.logaddexp(0, -y * (H @ th[:4] + th[4]))) + 0.5 * ridge * th @ th

    ref = optimize.minimize(f, np.zeros(5), method="BFGS", options={"gtol": 1e-10}).x
    net = fit_head_on_data(FrozenLayer(np.eye(4), np.zeros(4)), H, y, probe_config(300, ridge=ridge)).net
    np.testing.assert_allclose(np.r_[net.a, net.c], ref, atol=1e-6, err_msg="probe off BFGS by > 1e-6")
    assert abs(ref[1]) > 0.5, "the optimum is far from the zero start: the comparison is not vacuous"


def test_evaluate_pure_and_mixed_representations():
    model = _model(d=8, sigma=0.05)
    w = np.ones(8) / np.sqrt(8)
    pure = TwoLayerNet(W=model.M.T.copy(), a=np.ones(8), b=np.full(8, 0.3))
    ev = evaluate_representation(pure, model, w, eps=0.2, n_probe=500, n_test=500, seed=1)
    assert ev.purity == pytest.approx(1.0, abs=1e-12) and ev.coverage == 1.0 and ev.purified_fraction == 1.0
    assert ev.robust_error >= ev.clean_error
    mixed = mixed_net(model.M, w, mixing_path(random_skew(8, 0), 1.0), 0.3)
    em = evaluate_representation(mixed, model, w, eps=0.2, n_probe=500, n_test=500, seed=1)
    assert em.purity < ev.purity - 0.2, f"mixed purity {em.purity:.3f} must be well below pure"


def test_term_changes_rotation_invariant_at_b0_and_nonnegative():
    model = _model(d=8)
    w = np.ones(8) / np.sqrt(8)
    kw = dict(n=100, n_neg=32, steps=10, restarts=2, seed=3)
    a = term_changes(mixed_net(model.M, w, np.eye(8), 0.0), model, 0.3, **kw)
    b = term_changes(mixed_net(model.M, w, mixing_path(random_skew(8, 1), 0.7), 0.0), model, 0.3, **kw)
    for f in ("pos_clean", "pos_adv", "neg_clean", "neg_adv"):
        np.testing.assert_allclose(getattr(a, f), getattr(b, f), rtol=1e-8, atol=1e-8,
                                   err_msg=f"b = 0: {f} must not depend on the mixing Q (1e-8)")
    assert np.all(a.pos_change >= 0) and np.all(a.neg_change >= 0)
    c = term_changes(mixed_net(model.M, w, np.eye(8), 0.3), model, 0.3, **kw)
    assert not np.allclose(c.neg_adv, a.neg_adv), "a threshold changes the terms"


# ----------------------------------------------------------------- errors


@pytest.mark.parametrize("kw,name", [({"loss": "hinge"}, "loss"), ({"temperature": 0.0}, "temperature"),
                                     ({"normalisation": "bn"}, "normalisation"), ({"augmentation": "crop"}, "augmentation"),
                                     ({"drop": 1.0}, "drop"), ({"threshold": "learned"}, "threshold"),
                                     ({"b": -0.1}, "b"), ({"batch": 1}, "batch"), ({"eps": -1.0}, "eps"),
                                     ({"optimiser": "lbfgs"}, "optimiser"), ({"norm": "l1"}, "norm"),
                                     ({"width": 0}, "width"), ({"eps_ramp": 2.0}, "eps_ramp")])
def test_config_rejects_bad_values(kw, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        ContrastiveConfig(**kw)


def test_functions_reject_bad_input():
    model = _model()
    cfg = ContrastiveConfig(**SMALL)
    with pytest.raises(ValueError, match=r"^seeds "):
        train_contrastive(model, cfg, [])
    with pytest.raises(ValueError, match=r"^seeds "):
        train_contrastive(model, cfg, [-1])
    with pytest.raises(ValueError, match=r"^variants "):
        train_contrastive(model, cfg, [0], ("both", "both"))
    with pytest.raises(ValueError, match=r"^variants "):
        train_contrastive(model, cfg, [0], ("all",))
    with pytest.raises(ValueError, match=r"^cfg "):
        train_contrastive(model, {"eps": 0.1}, [0])
    h = torch.zeros(3, 2, dtype=DT)
    with pytest.raises(ValueError, match=r"^exclude_diagonal "):
        contrastive_terms(h, h, torch.zeros(4, 2, dtype=DT), "spectral", exclude_diagonal=True)
    with pytest.raises(ValueError, match=r"^loss "):
        contrastive_terms(h, h, h, "triplet")
    with pytest.raises(ValueError, match=r"^augmentation "):
        make_views(model, torch.zeros(2, 8), torch.Generator(), augmentation="blur")
    W, tau, x, hp, hn = _linear_setup()
    with pytest.raises(ValueError, match=r"^eps "):
        attack_terms(x, W, tau, hp, hn, [True, True], [True, True], -0.1)
    with pytest.raises(ValueError, match=r"^x must be"):
        attack_terms(x[0], W, tau, hp, hn, [True, True], [True, True], 0.1)
    with pytest.raises(ValueError, match=r"^eps "):
        term_changes(mixed_net(model.M, np.ones(8), np.eye(8), 0.0), model, -1.0)
    assert VARIANTS == ("both", "negative", "positive", "none")
