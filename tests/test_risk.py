"""Population risk: exact engines against Monte Carlo, closed forms, invariances and bad inputs."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
from torch import nn

from numerics.attacks.certified import certified_min_margin
from numerics.attacks.pgd import pgd_min_margin
from numerics.attacks.pure_l2 import pure_l2_min_margin
from numerics.config import ModelConfig, UniformMagnitude
from numerics.dictionaries import random_skew
from numerics.errors import BoundViolation, ExactUnavailable, TooManyAtoms
from numerics.estimates import Estimate
from numerics.exact_law import grouped_atoms
from numerics.networks import TwoLayerNet, linear_net, mixed_net, mixing_path, pure_net
from numerics.risk import (
    adversarial_logistic_loss,
    as_two_layer,
    clean_error,
    exact_available,
    feature_form,
    paired_risk_difference,
    risk,
    robust_error,
)
from numerics.sparse_coding import SparseCodingModel, tie_sign
from numerics.torch_nets import to_torch

torch.set_num_threads(1)

QUANTITIES = ("clean_error", "robust_error", "logistic_loss", "adversarial_logistic_loss")


def _model(d, p, sigma=0.0, dictionary="random", seed=0, **kw):
    return SparseCodingModel(ModelConfig(d=d, p=p, sigma=sigma, dictionary=dictionary, dictionary_seed=seed, **kw))


def _multinomial_prob(d: int, p: Fraction, event) -> Fraction:
    """P(event(a, b)) with (#+1, #-1, #0) ~ Multinomial(d; p/2, p/2, 1-p), exact rationals."""
    total = Fraction(0)
    for a in range(d + 1):
        for b in range(d + 1 - a):
            if event(a, b):
                total += Fraction(math.factorial(d), math.factorial(a) * math.factorial(b) * math.factorial(d - a - b)) \
                    * (p / 2) ** (a + b) * (1 - p) ** (d - a - b)
    return total


def _multinomial_prob_large(d: int, p: float, event, a_max: int = 90) -> float:
    """Same sum in log space for large d (A = a + b <= a_max; the rest is below 1e-40 here)."""
    lp, lq, total = math.log(p / 2), math.log1p(-p), 0.0
    for A in range(a_max + 1):
        for a in range(A + 1):
            if event(a, A - a):
                total += math.exp(math.lgamma(d + 1) - math.lgamma(a + 1) - math.lgamma(A - a + 1)
                                  - math.lgamma(d - A + 1) + A * lp + (d - A) * lq)
    return total


# --------------------------------------------------------------------------- closed forms


def test_linear_robust_error_is_a_binomial_sum():
    """Linear net, w* = 1: margin |a - b| - eps ||v||_dual, so an error iff |a - b| <= eps ||v||_dual."""
    d, p = 10, Fraction(3, 10)
    w = np.ones(d)
    for dictionary in ("identity", "random"):
        mdl = _model(d, 0.3, dictionary=dictionary)
        net = linear_net(mdl.M, w)
        for eps, norm, dual in ((0.5, "l2", math.sqrt(d)), (0.35, "linf", np.abs(mdl.M @ w).sum())):
            k = math.floor(eps * dual)
            assert eps * dual - k > 0.05, "keep the radius away from the boundary |a - b| = eps ||v||"
            expected = float(_multinomial_prob(d, p, lambda a, b: abs(a - b) <= k))
            est = robust_error(net, mdl, w, eps, norm)
            assert est.method == "exact"
            assert abs(est.value - expected) < 1e-13, f"{dictionary}/{norm}: {est.value} vs {expected} (tol 1e-13)"
            assert est.upper - est.lower < 1e-12


def test_clean_error_is_the_tie_probability_when_margins_are_positive_elsewhere():
    d, p = 8, Fraction(3, 10)
    mdl = _model(d, 0.3)
    w = np.ones(d) / math.sqrt(d)
    p_tie = float(_multinomial_prob(d, p, lambda a, b: a == b))
    Q = mixing_path(random_skew(d, seed=1), 0.3)
    nets = {"linear": linear_net(mdl.M, w), "pure": pure_net(mdl.M, w, b=0.5),
            "mixed b=0.02 (enumeration)": mixed_net(mdl.M, w, Q, b=0.02)}
    from numerics.exact_law import enumerate_atoms

    full = enumerate_atoms(d, 0.3, 1.0)
    y = tie_sign(full.Z @ w, np.abs(full.Z) @ np.abs(w))
    for name, net in nets.items():
        margins = y * net(full.Z @ mdl.M.T)
        assert np.all(margins[y != 0] > 1e-6), f"{name}: margins positive off ties (premise of the check)"
        est = clean_error(net, mdl, w)
        assert est.method == "exact" and est.details["how"] in ("linear", "feature", "enumeration")
        assert abs(est.value - p_tie) < 1e-13, f"{name}: clean error {est.value} vs P(<w*,z>=0) {p_tie}"
    assert nets["mixed b=0.02 (enumeration)"].family == "mixed"
    assert clean_error(nets["mixed b=0.02 (enumeration)"], mdl, w).details["how"] == "enumeration"


def test_pure_net_inside_s3_regime_matches_closed_form_at_d_4096():
    """S3: eps <= b and eps/sqrt(|S|) <= 1 - b: the pure net's margin drops by eps ||w*_S||."""
    d, b, eps = 4096, 0.4, 0.35
    p = 8 / d
    mdl = _model(d, p, dictionary="identity")
    w = np.ones(d)
    pure, lin = pure_net(mdl.M, w, b=b), linear_net(mdl.M, w)
    got = {q: risk(q, pure, mdl, w, eps) for q in QUANTITIES}  # timed in benchmarks/bench_exact.py
    lin_rob = robust_error(lin, mdl, w, 0.05)
    tie = _multinomial_prob_large(d, p, lambda a, c: a == c)
    rob = _multinomial_prob_large(d, p, lambda a, c: (1 - b) * abs(a - c) <= eps * math.sqrt(a + c))
    assert abs(got["clean_error"].value - tie) < 1e-12, "clean error = P(tie)"
    assert abs(got["robust_error"].value - rob) < 1e-12, f"robust {got['robust_error'].value} vs S3 sum {rob}"
    lin_expected = _multinomial_prob_large(d, p, lambda a, c: abs(a - c) <= 0.05 * 64)
    assert abs(lin_rob.value - lin_expected) < 1e-12, "linear: error iff |a - b| <= eps ||w*|| = 3.2"
    for q, est in got.items():
        assert est.method == "exact" and est.details["truncated_mass"] <= 1e-12, q


def test_pure_l2_restriction_to_few_inactive_features_is_exact():
    """Beyond S3 (eps > b) the attack pushes inactive features; keeping floor(eps^2/b^2) per group suffices."""
    d, b, eps = 40, 0.3, 0.75  # floor(eps^2 / b^2) = 6 inactive features can be pushed
    w = np.r_[np.ones(25), 2.0 * np.ones(15)]
    coef, thr = w.copy(), np.full(d, b)
    atoms = grouped_atoms(w, 0.08, 1.0, odd=(coef,), even=(thr,))
    small = atoms.restrict(6)
    assert small.width < d
    results = []
    for law in (atoms, small):
        Z = law.Z
        y = tie_sign(Z @ w[law.columns], np.abs(Z) @ np.abs(w[law.columns]))
        m = pure_l2_min_margin(coef[law.columns], y[:, None] * Z, thr[law.columns], eps).margin
        results.append((law.P @ (m * (y != 0)), law.P @ ((m <= 1e-9) | (y == 0))))
    assert np.allclose(results[0], results[1], atol=1e-13, rtol=0), f"full {results[0]} vs restricted {results[1]}"
    res_full = pure_l2_min_margin(coef, atoms.Z[:50], thr, eps)
    assert np.any(res_full.n_pushed > 0), "the radius really makes the attack push inactive features"


# --------------------------------------------------------------------------- exact vs Monte Carlo


@pytest.mark.parametrize("case", ["linear sigma=0", "linear sigma=0.6", "pure sigma=0 eps<b", "pure sigma=0 eps>b",
                                  "linear linf identity", "pure linf identity"])
def test_exact_agrees_with_monte_carlo(case):
    d = 9
    w = np.array([1.0, -1.0, 1.0, 0.5, -0.5, 0.5, 1.0, -1.0, 0.5])
    sigma = 0.6 if "0.6" in case else 0.0
    dictionary = "identity" if "identity" in case else "random"
    mdl = _model(d, 0.35, sigma=sigma, dictionary=dictionary, seed=2)
    net = linear_net(mdl.M, w, lam=0.8) if case.startswith("linear") else pure_net(mdl.M, w, b=0.3, lam=1.2)
    eps = 0.7 if "eps>b" in case else 0.25
    norm = "linf" if "linf" in case else "l2"
    for q in QUANTITIES:
        ex = risk(q, net, mdl, w, eps, norm)
        mc = risk(q, net, mdl, w, eps, norm, method="mc", samples=40_000, seed=5, level=0.999)
        assert ex.method == "exact" and mc.method == "mc", (ex.method, mc.method)
        assert mc.lower <= ex.value <= mc.upper, f"{case}/{q}: exact {ex.value} outside MC 99.9% [{mc.lower}, {mc.upper}]"


def test_enumeration_of_a_general_net_agrees_with_monte_carlo():
    d = 8
    mdl = _model(d, 0.4, seed=1)
    w = np.array([1.0, -0.5, 2.0, 1.0, 0.3, -1.0, 1.5, 0.7])
    net = mixed_net(mdl.M, w, mixing_path(random_skew(d, seed=3), 0.7), b=0.4, lam=0.9)
    relu = TwoLayerNet(W=np.random.default_rng(2).standard_normal((5, d)), a=np.array([1.0, -1.0, 0.5, 2.0, -0.3]),
                       b=np.full(5, 0.1), activation="relu", c=-0.2)
    for n in (net, relu):
        for q in ("clean_error", "logistic_loss"):
            ex = risk(q, n, mdl, w)
            mc = risk(q, n, mdl, w, method="mc", samples=40_000, seed=9, level=0.999)
            assert ex.method == "exact" and ex.details["how"] == "enumeration"
            assert mc.lower <= ex.value <= mc.upper, f"{n.activation} {q}: {ex.value} outside [{mc.lower}, {mc.upper}]"


def test_pure_net_with_tiny_noise_matches_sigma_zero():
    """sigma > 0 pure nets use Monte Carlo with the exact attack per sample; sigma -> 0 recovers the exact value."""
    d, w = 9, np.ones(9)
    exact = robust_error(pure_net(_model(d, 0.3).M, w, b=0.3), _model(d, 0.3), w, 0.2)
    mdl = _model(d, 0.3, sigma=1e-7)
    mc = robust_error(pure_net(mdl.M, w, b=0.3), mdl, w, 0.2, samples=30_000, level=0.999)
    assert mc.method == "mc" and "exact l2 attack" in mc.details["how"]
    assert mc.lower <= exact.value <= mc.upper


def _near_pure(d=8, b=0.3, seed=0):
    """A pure net with 1e-7 off-feature loadings: not recognised as feature-aligned (no exact engine)."""
    w = np.ones(d)
    mdl = _model(d, 0.3)
    pure = pure_net(mdl.M, w, b=b)
    noise = 1e-7 * np.random.default_rng(seed).standard_normal((d, d))
    return mdl, w, pure, TwoLayerNet(W=pure.W + noise, a=pure.a, b=pure.b)


def test_bound_interval_contains_the_exact_value_of_a_nearly_pure_net():
    """PGD/certified bound of an unrecognised net must contain the value of the pure net it approximates."""
    eps = 0.25
    mdl, w, pure, near = _near_pure()
    assert feature_form(near, mdl.M) is None
    ok, why = exact_available("robust_error", near, mdl, w, eps)
    assert not ok and "not feature-aligned" in why
    exact = robust_error(pure, mdl, w, eps)
    bound = robust_error(near, mdl, w, eps, method="bound", samples=4000, level=0.999, pgd={"steps": 30, "restarts": 3})
    assert bound.method == "bound"
    assert bound.lower <= exact.value <= bound.upper, f"{exact.value} outside [{bound.lower}, {bound.upper}]"
    assert bound.details["pgd"]["steps"] == 30 and bound.details["pgd"]["restarts"] == 3
    loss = adversarial_logistic_loss(near, mdl, w, eps, method="bound", samples=2000, level=0.999,
                                     pgd={"steps": 30, "restarts": 3})
    assert loss.method == "bound"
    assert loss.lower <= adversarial_logistic_loss(pure, mdl, w, eps).value <= loss.upper


def test_raw_certificate_is_below_the_raw_attack_on_the_model_samples():
    """The two raw bound functions the ``bound`` interval is built from, compared per sample (no clamp).

    At eps = 0.5 > b the attack must push inactive features through their dead zones: the
    certificate is loose there and PGD is not exact, so the order is a real check.
    """
    eps = 0.5
    mdl, w, _, near = _near_pure()
    smp = mdl.sample(3000, 7)
    y = tie_sign(smp.z @ w, np.abs(smp.z) @ np.abs(w))
    nz = y != 0
    x, y = smp.x[nz], y[nz]
    attack = pgd_min_margin(near, x, y, eps, "l2", steps=30, restarts=3, seed=1)
    cert = certified_min_margin(near, x, y, eps, "l2")
    scale = np.abs(x @ near.W.T) @ np.abs(near.a) + eps * np.abs(near.a).sum() * 2
    assert np.all(cert <= attack + 1e-9 * scale), f"certificate above the attack by {np.max(cert - attack):.3g}"
    assert np.mean(cert < attack - 1e-6) > 0.05, "the certificate is loose somewhere (else the check is vacuous)"


def test_a_certificate_above_the_attack_raises_bound_violation(monkeypatch):
    """A broken certificate (above an attained margin) must raise, not be clamped into the interval."""
    import numerics.attacks.certified as certified

    mdl, w, _, near = _near_pure()
    honest = certified.certified_min_margin
    monkeypatch.setattr(certified, "certified_min_margin", lambda *a, **k: honest(*a, **k) + 10.0)
    with pytest.raises(BoundViolation, match=r"^certified margin vs pgd margin: lower bound"):
        robust_error(near, mdl, w, 0.25, method="bound", samples=200, pgd={"steps": 5, "restarts": 1})


def test_verified_interval_contains_the_exact_value_of_a_nearly_pure_net():
    eps = 0.25
    mdl, w, pure, near = _near_pure()
    exact = robust_error(pure, mdl, w, eps)
    ver = robust_error(near, mdl, w, eps, method="verified", samples=1500, level=0.999)
    assert ver.method == "verified" and ver.n == 1500
    assert ver.details["unknown"] == 0, "tiny nets are decided at the default budget"
    assert ver.lower <= exact.value <= ver.upper, f"{exact.value} outside verified [{ver.lower}, {ver.upper}]"
    # no unknowns: the verified errors are exact per sample, the same ones the pure net's exact attack finds
    mc = robust_error(pure, mdl, w, eps, method="mc", samples=1500, level=0.999)
    assert ver.value == mc.value, f"verified {ver.value} vs exact-per-sample {mc.value} on the same 1500 samples"


def test_verified_errors_lie_between_the_attack_and_the_certificate_on_common_samples():
    """Same seed, same samples: per sample PGD's errors <= exact errors <= errors the certificate allows."""
    d = 9
    mdl = _model(d, 0.35, seed=2)
    w = np.array([1.0, -1.0, 1.0, 0.5, -0.5, 0.5, 1.0, -1.0, 0.5])
    net = mixed_net(mdl.M, w, mixing_path(random_skew(d, seed=3), 0.4), b=0.25)
    kw = dict(samples=800, seed=11, level=0.99)
    bound = robust_error(net, mdl, w, 0.4, method="bound", pgd={"steps": 20, "restarts": 2}, **kw)
    ver = robust_error(net, mdl, w, 0.4, method="verified", **kw)
    assert ver.details["unknown"] == 0
    assert bound.details["attack"] <= ver.value <= bound.details["certified"], (bound.details, ver.value)
    assert bound.details["certified"] - bound.details["attack"] > 0.02, "the bound has width: a real check"


# --------------------------------------------------------------------------- torch modules


def _sequential(d, m, seed, dtype=torch.float64):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, m), nn.ReLU(), nn.Linear(m, 1), nn.Flatten(0)).to(dtype)


def test_any_torch_module_gets_an_estimate():
    """The issue's check: a ReLU Sequential is an ordinary argument of robust_error."""
    mdl = _model(16, 0.2)
    w = np.ones(16) / 4
    seq = nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 1), nn.Flatten(0))
    est = robust_error(seq, mdl, w, 0.1, samples=300)
    assert isinstance(est, Estimate) and est.method in ("verified", "bound") and est.n == 300
    assert 0.0 <= est.lower <= est.value <= est.upper <= 1.0


def test_recognised_sequential_is_the_same_two_layer_net():
    d = 10
    seq = _sequential(d, 6, seed=3)
    net, how = as_two_layer(seq)
    assert net is not None and net.activation == "relu" and "ReLU" in how
    x = np.random.default_rng(0).standard_normal((50, d))
    with torch.no_grad():
        want = seq(torch.as_tensor(x)).numpy()
    np.testing.assert_allclose(net(x), want, rtol=0, atol=1e-12, err_msg="recognised net != module (float64)")
    mdl = _model(d, 0.3)
    w = np.ones(d)
    kw = dict(method="bound", samples=500, seed=4, pgd={"steps": 10, "restarts": 2})
    a, b = robust_error(seq, mdl, w, 0.2, **kw), robust_error(net, mdl, w, 0.2, **kw)
    assert (a.value, a.lower, a.upper) == (b.value, b.lower, b.upper), "same net, same samples: same Estimate"


def test_linear_torch_stack_is_exact_and_equals_the_linear_net():
    d = 9
    mdl = _model(d, 0.3, dictionary="random", seed=5)
    w = np.array([1.0, -1.0, 2.0, 1.0, -2.0, 1.0, 1.0, 2.0, -1.0])
    lin = linear_net(mdl.M, w, lam=0.7)
    v = lin.a @ lin.W
    first, second = nn.Linear(d, 3).double(), nn.Linear(3, 1).double()
    with torch.no_grad():  # second(first(x)) = <v, x>: first = [v; 0; 0] / 2, second = (2, 5, -1), biases cancel
        first.weight.zero_()
        first.weight[0] = torch.as_tensor(v / 2)
        first.bias[:] = torch.tensor([0.25, 1.0, 3.0])
        second.weight[:] = torch.tensor([[2.0, 5.0, -1.0]])
        second.bias[:] = torch.tensor([-0.5 - 5.0 + 3.0])
    stack = nn.Sequential(first, second, nn.Flatten(0))
    for q in QUANTITIES:
        a, b = risk(q, stack, mdl, w, 0.3), risk(q, lin, mdl, w, 0.3)
        assert a.method == "exact" and abs(a.value - b.value) < 1e-12, f"{q}: stack {a.value} vs linear net {b.value}"


def test_opaque_module_gets_a_one_sided_attack_interval(opaque):
    """PGD alone only finds errors: lower confidence limit to 1, never a two-sided number."""
    d, b, eps = 8, 0.3, 0.25
    mdl = _model(d, 0.3)
    w = np.ones(d)
    pure = pure_net(mdl.M, w, b=b)
    hidden = opaque(to_torch(pure))
    assert as_two_layer(hidden)[0] is None
    exact = robust_error(pure, mdl, w, eps)
    est = robust_error(hidden, mdl, w, eps, samples=3000, level=0.999, pgd={"steps": 30, "restarts": 5})
    assert est.method == "attack" and est.upper == 1.0 and est.details["certified"] is None
    assert est.lower <= exact.value, f"attack lower limit {est.lower} above the exact robust error {exact.value}"
    loss = adversarial_logistic_loss(hidden, mdl, w, eps, samples=500, pgd={"steps": 10, "restarts": 2})
    assert loss.method == "attack" and loss.upper == np.inf
    with pytest.raises(ValueError, match=r"^method='bound' needs a two-layer net"):
        robust_error(hidden, mdl, w, eps, method="bound", samples=100)
    with pytest.raises(ExactUnavailable, match=r"^method='exact' is not available: no exact worst case"):
        robust_error(hidden, mdl, w, eps, method="exact")
    diff = paired_risk_difference(hidden, pure, mdl, w, "robust_error", eps, samples=500,
                                  pgd={"steps": 10, "restarts": 2})
    assert diff.method == "attack" and diff.lower <= 0.0 <= diff.upper


def test_opaque_module_clean_quantities_are_exact_by_enumeration(opaque):
    d = 8
    mdl = _model(d, 0.4, seed=1)
    w = np.array([1.0, -0.5, 2.0, 1.0, 0.3, -1.0, 1.5, 0.7])
    net = TwoLayerNet(W=np.random.default_rng(2).standard_normal((5, d)), a=np.array([1.0, -1.0, 0.5, 2.0, -0.3]),
                      b=np.full(5, 0.1), activation="relu", c=-0.2)
    hidden = opaque(to_torch(net))
    for q in ("clean_error", "logistic_loss"):
        a, b = risk(q, hidden, mdl, w), risk(q, net, mdl, w)
        assert a.method == b.method == "exact" and a.details["how"] == "enumeration"
        assert abs(a.value - b.value) < 1e-12, f"{q}: module {a.value} vs net {b.value}"


def test_bad_modules_are_rejected_with_one_line(opaque):
    mdl = _model(6, 0.3)
    w = np.ones(6)
    with pytest.raises(ValueError, match=r"^net must have input dimension d=6 \(the model's\), got 5"):
        robust_error(nn.Linear(5, 1), mdl, w, 0.1)  # recognised as a linear stack
    with pytest.raises(ValueError, match=r"^net must map \(n, 6\) inputs to n scores: the forward pass failed"):
        robust_error(opaque(nn.Linear(5, 1)), mdl, w, 0.1)
    with pytest.raises(ValueError, match=r"^net must map \(n, 6\) inputs to n scores, got output shape"):
        robust_error(nn.Linear(6, 2), mdl, w, 0.1)


# --------------------------------------------------------------------------- invariances


def test_l2_risks_do_not_depend_on_the_dictionary():
    d = 10
    w = np.array([1.0, 2.0, -1.0, 1.0, -2.0, 1.0, 1.0, 2.0, -1.0, 1.0])
    for sigma, kinds in ((0.0, ("linear", "pure")), (0.5, ("linear",))):
        ident, rand = _model(d, 0.3, sigma, "identity"), _model(d, 0.3, sigma, "random", seed=4)
        for kind in kinds:
            make = (lambda M: linear_net(M, w, lam=0.7)) if kind == "linear" else (lambda M: pure_net(M, w, b=0.35))
            for q in QUANTITIES:
                a, b_ = risk(q, make(ident.M), ident, w, 0.3), risk(q, make(rand.M), rand, w, 0.3)
                assert a.method == b_.method == "exact"
                assert abs(a.value - b_.value) < 1e-12, f"sigma={sigma} {kind} {q}: identity {a.value} vs random {b_.value}"


def test_risks_invariant_under_feature_permutation_and_sign_flips():
    d = 10
    mdl = _model(d, 0.3, seed=7)
    rng = np.random.default_rng(8)
    w = np.array([1.0, 2.0, -1.0, 1.0, -2.0, 1.0, 0.5, 2.0, -1.0, 0.5])
    perm, flip = rng.permutation(d), np.where(rng.random(d) < 0.5, -1.0, 1.0)
    w2 = (flip * w)[perm]
    for make in (lambda v: linear_net(mdl.M, v), lambda v: pure_net(mdl.M, v, b=0.3)):
        for q in QUANTITIES:
            a, b_ = risk(q, make(w), mdl, w, 0.4), risk(q, make(w2), mdl, w2, 0.4)
            assert abs(a.value - b_.value) < 1e-12, f"{q}: {a.value} vs permuted/flipped {b_.value}"


def test_linf_depends_on_the_dictionary():
    d, w = 10, np.ones(10)
    ident, rand = _model(d, 0.3, dictionary="identity"), _model(d, 0.3, dictionary="random")
    eps = 0.35  # identity: dual = ||w||_1 = 10, threshold 3.5; random: ||M w||_1 = 8.1, threshold 2.83
    assert math.floor(eps * np.abs(rand.M @ w).sum()) < 3
    a = robust_error(linear_net(ident.M, w), ident, w, eps, "linf")
    b_ = robust_error(linear_net(rand.M, w), rand, w, eps, "linf")
    assert a.value - b_.value > 0.05, f"linf: identity {a.value} vs random {b_.value}"
    # the pure net's l_inf worst case is exact only for a signed-permutation dictionary
    assert robust_error(pure_net(ident.M, w, b=0.3), ident, w, eps, "linf").method == "exact"
    ok, why = exact_available("robust_error", pure_net(rand.M, w, b=0.3), rand, w, eps, "linf")
    assert not ok and "permutation" in why


def test_mixed_net_with_zero_threshold_equals_linear_net():
    d = 9
    w = np.array([1.0, -1.0, 2.0, 1.0, -2.0, 1.0, 1.0, 2.0, -1.0])
    for sigma in (0.0, 0.4):
        mdl = _model(d, 0.3, sigma=sigma, seed=3)
        Q = mixing_path(random_skew(d, seed=2), 1.3)
        mixed, lin = mixed_net(mdl.M, w, Q, b=0.0, lam=0.6), linear_net(mdl.M, w, lam=0.6)
        for norm in ("l2", "linf"):
            for q in QUANTITIES:
                a, b_ = risk(q, mixed, mdl, w, 0.3, norm), risk(q, lin, mdl, w, 0.3, norm)
                assert a.method == "exact" and abs(a.value - b_.value) < 1e-12, f"sigma={sigma} {norm} {q}"


# --------------------------------------------------------------------------- truncation, pairing, methods


def test_truncated_law_interval_contains_the_precise_value():
    d, w = 2000, np.ones(2000)
    mdl = _model(d, 6 / d, sigma=0.3, dictionary="identity")
    net = linear_net(mdl.M, w, lam=0.5)
    for q in QUANTITIES:
        fine, coarse = risk(q, net, mdl, w, 0.05, tol=1e-12), risk(q, net, mdl, w, 0.05, tol=1e-3)
        assert coarse.details["truncated_mass"] > 1e-6
        assert coarse.lower <= fine.value <= coarse.upper, f"{q}: {fine.value} not in [{coarse.lower}, {coarse.upper}]"
        # slack = truncated mass (3e-13) x the largest loss (log 2 + ||u||_1 = 1000) + quadrature error
        assert fine.upper - fine.lower < 1e-9, f"{q}: width {fine.upper - fine.lower} at tol 1e-12"


def test_paired_difference_uses_common_random_numbers():
    d, w = 9, np.ones(9)
    mdl = _model(d, 0.3)
    pure, lin = pure_net(mdl.M, w, b=0.3), linear_net(mdl.M, w)
    exact = paired_risk_difference(pure, lin, mdl, w, "robust_error", 0.4)
    assert exact.method == "exact"
    direct = robust_error(pure, mdl, w, 0.4).value - robust_error(lin, mdl, w, 0.4).value
    assert abs(exact.value - direct) < 1e-15 and direct < -0.05
    mc = paired_risk_difference(pure, lin, mdl, w, "robust_error", 0.4, method="mc", samples=20_000, level=0.999)
    assert mc.method == "mc" and mc.lower <= exact.value <= mc.upper
    unpaired = [robust_error(n, mdl, w, 0.4, method="mc", samples=20_000, level=0.999) for n in (pure, lin)]
    assert mc.width < unpaired[0].width + unpaired[1].width, "common random numbers narrow the interval"
    # same samples: the difference of the separate MC values equals the paired mean
    assert abs(mc.value - (unpaired[0].value - unpaired[1].value)) < 1e-12
    noise = 1e-7 * np.random.default_rng(1).standard_normal((d, d))
    near = TwoLayerNet(W=pure.W + noise, a=pure.a, b=pure.b)
    bnd = paired_risk_difference(near, lin, mdl, w, "robust_error", 0.4, method="mc", samples=3000, level=0.999,
                                 pgd={"steps": 30, "restarts": 3})
    assert bnd.method == "bound" and bnd.lower <= exact.value <= bnd.upper


def test_methods_and_monte_carlo_reproducibility():
    d, w = 8, np.ones(8)
    mdl_u = SparseCodingModel(ModelConfig(d=d, p=0.3, magnitude=UniformMagnitude(0.5, 1.5)))
    lin = linear_net(mdl_u.M, w)
    with pytest.raises(ExactUnavailable, match=r"^method='exact' is not available: the magnitude law"):
        clean_error(lin, mdl_u, w, method="exact")
    est = clean_error(lin, mdl_u, w, samples=5000)
    assert est.method == "mc" and est.n == 5000
    again = clean_error(lin, mdl_u, w, samples=5000)
    assert est.value == again.value, "seeded Monte Carlo is reproducible"
    assert clean_error(lin, mdl_u, w, samples=5000, seed=1).value != est.value
    mdl = _model(30, 0.3)
    Q = mixing_path(random_skew(30, seed=0), 0.5)
    with pytest.raises(ExactUnavailable, match=r"^method='exact' is not available: the net is neither"):
        clean_error(mixed_net(mdl.M, np.ones(30), Q, b=0.2), mdl, np.ones(30), method="exact")


def test_method_exact_keeps_the_exception_type(monkeypatch):
    """Too many atoms under method='exact' re-raises TooManyAtoms (not a bare ValueError); auto falls back."""
    import numerics.risk.exact as engine

    d, w = 20, np.ones(20)
    mdl = _model(d, 0.2, dictionary="identity")
    net = pure_net(mdl.M, w, b=0.3)

    def too_many(*args, **kwargs):
        raise TooManyAtoms("max_atoms=1 is too small for the grouped law: needs 2 atoms")

    monkeypatch.setattr(engine, "grouped_atoms", too_many)
    with pytest.raises(TooManyAtoms, match=r"^method='exact' is not available: max_atoms=1"):
        robust_error(net, mdl, w, 0.2, method="exact")
    est = robust_error(net, mdl, w, 0.2, samples=2000)
    assert est.method == "mc" and "exact l2 attack" in est.details["how"]


# --------------------------------------------------------------------------- bad inputs


def test_bad_inputs_name_the_parameter():
    d, w = 6, np.ones(6)
    mdl = _model(d, 0.3)
    net = linear_net(mdl.M, w)
    cases = [
        (lambda: robust_error(net, mdl, w, -0.1), "eps"),
        (lambda: robust_error(net, mdl, w, 0.1, norm="l3"), "norm"),
        (lambda: clean_error(net, mdl, w, method="fast"), "method"),
        (lambda: clean_error(net, mdl, np.ones(5)), "wstar"),
        (lambda: clean_error(net, mdl, np.zeros(6)), "wstar"),
        (lambda: clean_error(linear_net(np.eye(5), np.ones(5)), mdl, w), "net"),
        (lambda: clean_error("net", mdl, w), "net"),
        (lambda: clean_error(net, "model", w), "model"),
        (lambda: clean_error(net, mdl, w, method="mc", samples=1), "samples"),
        (lambda: clean_error(net, mdl, w, method="mc", seed=-1), "seed"),
        (lambda: clean_error(net, mdl, w, level=1.0), "level"),
        (lambda: clean_error(net, mdl, w, tol=-1.0), "tol"),
        (lambda: robust_error(net, mdl, w, 0.1, pgd={"iters": 3}), "pgd"),
        (lambda: risk("hinge_loss", net, mdl, w), "quantity"),
        (lambda: paired_risk_difference(net, "b", mdl, w), "net_b"),
    ]
    for fn, name in cases:
        with pytest.raises(ValueError, match=rf"^{name} must "):
            fn()


# --------------------------------------------------------------------------- VerifiedDecisions


def _decisions_setup(d=8, seed=3):
    """A pure net's nodes with 0.3 off-feature noise: verification needs branching on some inputs."""
    mdl = _model(d, 0.3, sigma=0.05)
    w = np.ones(d)
    g = np.random.default_rng(seed)
    net = TwoLayerNet(W=mdl.M.T + 0.3 * g.standard_normal((d, d)), a=1 + 0.5 * g.random(d), b=0.2 * np.ones(d))
    return mdl, w, net


def test_verified_decisions_match_robust_error_counts_on_common_draws():
    """Radius by radius (out of order), the reused decisions equal the direct verified counts where the
    direct run decides every input, and otherwise lie within them (proven >= direct, possible <= direct).
    Catches draws that are not robust_error's, or a monotone inference pointing the wrong way."""
    from numerics.risk import VerifiedDecisions

    mdl, w, net = _decisions_setup()
    kw = dict(samples=300, seed=11)
    dec = VerifiedDecisions(net, mdl, w, "l2", **kw)
    exact_rows = 0
    for eps in (0.4, 0.1, 0.8, 0.25, 0.6, 0.0, 0.3):
        proven, possible, n = dec.counts(eps)
        if eps == 0.0:
            direct = clean_error(net, mdl, w, method="mc", **kw)
            assert n == 300 and proven == possible == round(direct.value * n)
            continue
        est = robust_error(net, mdl, w, eps, method="verified", **kw)
        d_proven = int(est.details["attackable"]) + int(est.details["ties"])
        d_possible = d_proven + int(est.details["unknown"])
        assert d_proven <= proven <= possible <= d_possible, (eps, d_proven, proven, possible, d_possible)
        if d_possible == d_proven:
            exact_rows += 1
            assert proven == d_proven, f"eps={eps}: reused {proven} vs direct {d_proven} decided errors"
    assert exact_rows >= 4, "the direct verifier should decide every input at most radii of this small net"
    # the later radii lie between earlier ones: most inputs are decided without asking the verifier again
    assert dec.verified_rows < 0.75 * 6 * 300, f"verified {dec.verified_rows} of {6 * 300} input-radius pairs"


def test_verified_decisions_counts_are_monotone_in_the_radius():
    from numerics.risk import VerifiedDecisions

    mdl, w, net = _decisions_setup(seed=5)
    dec = VerifiedDecisions(net, mdl, w, "linf", samples=200, seed=2)
    radii = (0.3, 0.05, 0.2, 0.1, 0.15, 0.4)
    c = {e: dec.counts(e) for e in radii}
    rs = sorted(radii)
    assert all(c[a][0] <= c[b][0] and c[a][1] <= c[b][1] for a, b in zip(rs, rs[1:])), c
    assert c[0.05][0] < c[0.4][0], "the sweep should cross from few to many errors"


def test_verified_decisions_refuse_bad_input():
    from numerics.risk import VerifiedDecisions

    mdl, w, net = _decisions_setup()
    with pytest.raises(ValueError, match="^samples must be"):
        VerifiedDecisions(net, mdl, w, "l2", samples=1)
    with pytest.raises(ValueError, match="^eps must be"):
        VerifiedDecisions(net, mdl, w, "l2", samples=10).counts(-0.1)


def test_exact_engine_widens_for_the_off_feature_loadings_it_drops():
    # Node 0 reads feature 0 with an off-feature loading 5e-11 on feature 1 (under the alignment tolerance); its
    # threshold 1e-12 lets that loading decide z = (0, +-1): the net outputs +-4.9e-11 there, the feature form
    # 0 (a tie, an error), so the net's clean error is 0.375 and the feature form's 0.625. Catches an exact
    # engine that drops the loadings and reports 0.625 with a rounding-wide interval; the Monte Carlo estimate
    # of the net itself (0.376 [0.367, 0.385] at 20,000 samples) must lie inside the exact interval.
    model = SparseCodingModel(ModelConfig(d=2, p=0.5, dictionary="identity"))
    w = np.array([1.0, 1.0])
    net = TwoLayerNet(W=np.array([[1.0, 5e-11], [0.0, 1.0]]), a=np.array([1.0, 0.0]), b=np.array([1e-12, 1e-12]))
    exact = clean_error(net, model, w, method="exact")
    mc = clean_error(net, model, w, method="mc", samples=20_000, level=0.999)
    assert exact.method == "exact" and exact.lower <= mc.lower and mc.upper <= exact.upper
    assert exact.details["off_loading_slack"] > 0
    aligned = TwoLayerNet(W=np.eye(2), a=np.array([1.0, 0.0]), b=np.array([1e-12, 1e-12]))
    assert clean_error(aligned, model, w, method="exact").width < 1e-13  # nothing dropped: rounding only


def test_rounding_level_misalignment_costs_no_precision():
    # A pure net on a rotated dictionary built as a copy of M^T (not a view): W M = I up to rounding, so the
    # feature form drops loadings of order 1e-16, which must not widen the interval visibly.
    d, w = 8, np.ones(8) / np.sqrt(8)
    model = _model(d, 0.3)
    net = TwoLayerNet(W=np.array(model.M.T, copy=True), a=w.copy(), b=np.full(d, 0.3))
    est = robust_error(net, model, w, 0.4, method="exact")
    ref = robust_error(pure_net(model.M, w, b=0.3), model, w, 0.4, method="exact")
    assert abs(est.value - ref.value) < 1e-12 and est.width < 1e-9
