"""Complete verification of two-layer nets (numerics.verification).

Soundness by sampling (no perturbation in the ball goes below ``lower``; witnesses are in the
ball and reach ``upper``), completeness against independent exact methods (vertex
enumeration of the activation arrangement on tiny nets, an l_inf MILP, the exact pure-net l2
attack), the bound's order against the interval certificate, the float policy at ties, the
result guard, and input validation.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from scipy.optimize import LinearConstraint, milp

import numerics.verification.bounds as bounds
from numerics.attacks.certified import certified_min_margin, ibp_min_margin
from numerics.attacks.pgd import pgd_min_margin
from numerics.attacks.pure_l2 import pure_net_min_margin
from numerics.dictionaries import make_dictionary
from numerics.errors import BoundViolation
from numerics.networks import TwoLayerNet, pure_net
from numerics.sparse_coding import labels
from numerics.torch_nets import to_torch
from numerics.verification import Budget, SearchOptions, relaxation_bound, verify

torch.set_num_threads(1)
SLACK = 1e-9  # float allowance of "lower <= attained margin" (the bounds' own slack is ~1e-13 relative)


def purified_net(seed: int, d: int = 12, copies: int = 2, b: float = 0.5, norm: float = 3.5, cross: float = 0.12,
                 activation: str = "soft_threshold") -> tuple[TwoLayerNet, np.ndarray]:
    """A net shaped like the suite's adversarially trained ones (P3): every node reads mostly one
    feature of an orthogonal dictionary (``copies`` nodes per feature, loading ``norm``), small
    loadings ``cross`` on the others, a shared threshold; returns (net, dictionary M)."""
    rng = np.random.default_rng(seed)
    M = make_dictionary(d, "random", seed)
    m = copies * d
    L = cross * rng.standard_normal((m, d))
    L[np.arange(m), np.arange(m) % d] += norm * rng.uniform(0.7, 1.1, m)
    a = rng.standard_normal(m) * 0.6 + np.sign(rng.standard_normal(m)) * 0.6
    bb = np.full(m, b) if activation == "soft_threshold" else np.full(m, -b)
    return TwoLayerNet(W=L @ M.T, a=a, b=bb, activation=activation, c=0.05), M


def sparse_inputs(seed: int, n: int, M: np.ndarray, p: float = 0.2, sigma: float = 0.1):
    rng = np.random.default_rng(seed)
    d = M.shape[0]
    z = (rng.random((n, d)) < p) * np.where(rng.random((n, d)) < 0.5, -1.0, 1.0)
    w = np.ones(d) / np.sqrt(d)
    y = labels(z, w)
    keep = y != 0
    x = z @ M.T + sigma * rng.standard_normal((n, d)) / np.sqrt(d)
    return x[keep], y[keep]


def check_result(net, x, y, eps, norm, res, ball_perturbations, rng, points=300):
    """Soundness by sampling, witnesses in the ball with the reported margin, statuses consistent."""
    d = x.shape[1]
    q = 2 if norm == "l2" else np.inf
    assert np.all(np.linalg.norm(res.witness, ord=q, axis=1) <= eps), "a witness leaves the ball"
    # (rows are evaluated in batches of other shapes inside verify: BLAS may differ in the last bits)
    np.testing.assert_allclose(res.upper, y * net(x + res.witness), rtol=0, atol=1e-12,
                               err_msg="upper is not the witness's margin")
    pgd = pgd_min_margin(net, x, y, eps, norm, steps=30, restarts=5, seed=11)
    assert np.all(res.lower <= pgd + SLACK), "PGD goes below the sound lower bound"
    for i in range(len(x)):
        deltas = ball_perturbations(rng, points, d, eps, norm)
        marg = y[i] * net(x[i] + deltas)
        assert marg.min() >= res.lower[i] - SLACK, f"sample {i}: a sampled perturbation goes below lower"
    assert np.all(res.lower <= res.upper + SLACK)
    assert np.all((res.status == "robust") == (res.lower > res.threshold))
    att = res.status == "attackable"
    assert np.all(res.upper[att] <= res.threshold[att])
    assert not np.any((res.status == "robust") & (res.upper <= res.threshold)), "robust although a witness breaks it"


# --------------------------------------------------------------------------- soundness


@pytest.mark.parametrize("activation", ["soft_threshold", "relu"])
@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_sound_on_random_nets(activation, norm, random_net, labelled_data, ball_perturbations):
    net = random_net(3, d=6, m=10, activation=activation, b_scale=0.6)
    x, y = labelled_data(4, 24, 6)
    eps = 0.5 if norm == "l2" else 0.2
    res = verify(net, x, y, eps, norm)
    check_result(net, x, y, eps, norm, res, ball_perturbations, np.random.default_rng(5))
    assert res.decided.all(), f"undecided samples on a d=6, m=10 net: {res.counts()}"


@pytest.mark.parametrize("activation", ["soft_threshold", "relu"])
def test_sound_and_decided_on_purified_nets(activation, ball_perturbations):
    """Nets shaped like the suite's adversarially trained ones: dead zones that PGD cannot cross."""
    net, M = purified_net(1, activation=activation)
    x, y = sparse_inputs(2, 40, M)
    res = verify(net, x, y, 0.4, "l2")
    check_result(net, x, y, 0.4, "l2", res, ball_perturbations, np.random.default_rng(6), points=100)
    assert res.decided.all(), res.counts()
    # the verified decision sits inside the old [PGD, certificate] interval, sample by sample
    pgd = pgd_min_margin(net, x, y, 0.4, "l2", seed=0)
    cert = certified_min_margin(net, x, y, 0.4, "l2")
    assert np.all(res.attackable[pgd <= 0]), "PGD found an error verification calls robust"
    assert np.all(res.robust[cert > 0]), "the certificate proves a sample verification calls attackable"


def test_sound_and_decided_on_a_trained_net(ball_perturbations):
    """A small net adversarially trained by numerics.training (fixed threshold 0.3), past its
    training radius."""
    from numerics import ModelConfig, SparseCodingModel
    from numerics.training import TrainConfig, train

    model = SparseCodingModel(ModelConfig(d=6, p=0.3, sigma=0.1, dictionary="random", dictionary_seed=0))
    w = np.ones(6) / np.sqrt(6)
    cfg = TrainConfig(steps=150, batch=64, lr=0.05, eps=0.3, norm="l2", pgd_steps=3, threshold="fixed", b_init=0.3,
                      width=10, init_scale=0.3, seed=0, progress=False)
    net = train(model, w, None, cfg).net.to_net()
    smp = model.sample(40, np.random.default_rng(1))
    y = labels(smp.z, w)
    x, y = smp.x[y != 0], y[y != 0]
    res = verify(net, x, y, 0.6, "l2")
    check_result(net, x, y, 0.6, "l2", res, ball_perturbations, np.random.default_rng(2), points=200)
    assert res.decided.all() and res.robust.any() and res.attackable.any(), res.counts()


def test_chunks_of_samples_give_the_same_result(monkeypatch, random_net, labelled_data):
    import numerics.verification.search as search

    net = random_net(9, d=5, m=8, b_scale=0.5)
    x, y = labelled_data(10, 13, 5)
    whole = verify(net, x, y, 0.4, "l2")
    monkeypatch.setattr(search, "CHUNK_ELEMENTS", 8 * 8 * 4)  # chunks of 4 samples
    parts = verify(net, x, y, 0.4, "l2")
    np.testing.assert_array_equal(whole.status, parts.status)
    assert whole.witness.shape == parts.witness.shape == (13, 5)
    assert np.all(parts.lower <= parts.upper + SLACK)


def test_torch_net_gives_the_same_decisions(random_net, labelled_data):
    net = random_net(7, d=5, m=8, b_scale=0.5)
    x, y = labelled_data(8, 12, 5)
    a, b = verify(net, x, y, 0.4, "l2"), verify(to_torch(net), x, y, 0.4, "l2")
    np.testing.assert_array_equal(a.status, b.status)
    np.testing.assert_allclose(a.lower, b.lower, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- completeness


def _kink_planes(net, x):
    """Hyperplanes ``<W_j, delta> = kink - t_j`` of every node's activation breakpoints (rows A, rhs)."""
    t = net.W @ x
    kinks = [-net.b, net.b] if net.activation == "soft_threshold" else [-net.b]
    A = np.concatenate([net.W for _ in kinks])
    rhs = np.concatenate([k - t for k in kinks])
    return A, rhs


def brute_linf(net, x, y, eps):
    """Exact min over the box: a piecewise-linear function attains it at a vertex of the arrangement of
    box faces and breakpoint planes; enumerate every d-subset of planes."""
    d = net.d
    A, rhs = _kink_planes(net, x)
    A = np.concatenate([A, np.eye(d), np.eye(d)])
    rhs = np.concatenate([rhs, np.full(d, eps), np.full(d, -eps)])
    pts = []
    for rows in itertools.combinations(range(len(A)), d):
        S = A[list(rows)]
        if abs(np.linalg.det(S)) < 1e-12:
            continue
        p = np.linalg.solve(S, rhs[list(rows)])
        if np.all(np.abs(p) <= eps * (1 + 1e-12)):
            pts.append(np.clip(p, -eps, eps))
    pts = np.array(pts)
    return float((y * net(x + pts)).min())


def brute_l2_planar(net, x, y, eps):
    """Exact min over the disk (d = 2): at a vertex of the line arrangement inside the disk, a line-circle
    intersection, or the disk minimiser ``-eps g/|g|`` of one of the linear pieces' gradients g."""
    A, rhs = _kink_planes(net, x)
    pts = []
    for i, j in itertools.combinations(range(len(A)), 2):
        S = A[[i, j]]
        if abs(np.linalg.det(S)) > 1e-12:
            p = np.linalg.solve(S, rhs[[i, j]])
            if p @ p <= eps * eps:
                pts.append(p)
    for a, c in zip(A, rhs):  # a.p = c and |p| = eps
        na = np.linalg.norm(a)
        foot = a * c / na**2
        h2 = eps * eps - foot @ foot
        if h2 >= 0:
            perp = np.array([-a[1], a[0]]) / na
            pts += [foot + np.sqrt(h2) * perp, foot - np.sqrt(h2) * perp]
    for s in itertools.product((0.0, 1.0), repeat=net.m):  # both activations have slopes 0 and 1
        g = (y * net.a * np.array(s)) @ net.W
        if np.linalg.norm(g) > 0:
            pts.append(-eps * g / np.linalg.norm(g))
    pts = np.array(pts)
    nrm = np.linalg.norm(pts, axis=1, keepdims=True)
    pts = pts * np.minimum(1.0, eps / np.maximum(nrm, 1e-300))
    return float((y * net(x + pts)).min())


def _decision_agrees(res, i, exact, tol=1e-7):
    if abs(exact - res.threshold[i]) <= tol:
        return True  # a tie up to rounding: either answer is right
    return res.status[i] == ("robust" if exact > res.threshold[i] else "attackable")


@pytest.mark.parametrize("activation", ["soft_threshold", "relu"])
@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_tiny_nets_agree_with_brute_force(activation, norm):
    d = 2 if norm == "l2" else 3
    brute = brute_l2_planar if norm == "l2" else brute_linf
    for seed in range(3):
        rng = np.random.default_rng(100 + seed)
        m = 4
        net = TwoLayerNet(W=rng.standard_normal((m, d)), a=rng.standard_normal(m), b=rng.uniform(0.1, 0.8, m),
                          activation=activation, c=0.1 * rng.standard_normal())
        x = rng.standard_normal((10, d)) * 0.7
        y = np.where(rng.random(10) < 0.5, -1.0, 1.0)
        eps = 0.6 if norm == "l2" else 0.35
        exact = np.array([brute(net, xi, yi, eps) for xi, yi in zip(x, y)])
        res = verify(net, x, y, eps, norm)
        assert res.decided.all(), res.counts()
        assert np.all(res.lower <= exact + SLACK), "lower bound above the exact minimum"
        assert np.all(res.upper >= exact - SLACK), "an attack below the exact minimum (brute force missed a vertex)"
        assert all(_decision_agrees(res, i, exact[i]) for i in range(len(x)))
        # completeness of both sides: thresholds just below / above the exact minimum decide it
        below = verify(net, x, y, eps, norm, threshold=exact - 1e-4)
        above = verify(net, x, y, eps, norm, threshold=exact + 1e-4)
        assert below.robust.all() and above.attackable.all(), (below.counts(), above.counts())


def milp_min_margin(net, x, y, eps):
    """Exact ``min_{||delta||_inf <= eps} y f(x + delta)`` by a MILP (big-M from interval bounds, HiGHS)."""
    d, m = net.d, net.m
    t = net.W @ x
    r = eps * np.abs(net.W).sum(axis=1) * (1 + 1e-9) + 1e-9
    lo, hi = t - r, t + r
    alpha = y * net.a
    # variables: delta (d), then per ReLU piece: value p (m) and indicator u (m); soft threshold: two pieces
    pieces = [(1.0, -net.b), (-1.0, -net.b)] if net.activation == "soft_threshold" else [(1.0, net.b)]
    nv = d + 2 * m * len(pieces)
    c = np.zeros(nv)
    rows, lb, ub = [], [], []
    bounds_lo, bounds_hi = np.full(nv, -np.inf), np.full(nv, np.inf)
    bounds_lo[:d], bounds_hi[:d] = -eps, eps
    integrality = np.zeros(nv)
    for k, (sgn, off) in enumerate(pieces):  # p = relu(sgn * z + off), z = t + W delta
        base = d + 2 * m * k
        for j in range(m):
            ip, iu = base + j, base + m + j
            integrality[iu] = 1
            bounds_lo[ip], bounds_lo[iu], bounds_hi[iu] = 0.0, 0.0, 1.0
            e_lo = min(sgn * lo[j], sgn * hi[j]) + off[j]
            e_hi = max(sgn * lo[j], sgn * hi[j]) + off[j]
            const = sgn * t[j] + off[j]
            row = np.zeros(nv); row[ip] = 1; row[:d] = -sgn * net.W[j]  # p >= e
            rows.append(row); lb.append(const); ub.append(np.inf)
            row = np.zeros(nv); row[ip] = 1; row[iu] = -max(e_hi, 0.0)  # p <= e_hi u
            rows.append(row); lb.append(-np.inf); ub.append(0.0)
            row = np.zeros(nv); row[ip] = 1; row[:d] = -sgn * net.W[j]; row[iu] = -min(e_lo, 0.0)  # p <= e - e_lo (1-u)
            rows.append(row); lb.append(-np.inf); ub.append(const - min(e_lo, 0.0))
            c[ip] = alpha[j] * (1.0 if k == 0 else -1.0)
    res = milp(c, integrality=integrality, bounds=(bounds_lo, bounds_hi),
               constraints=LinearConstraint(np.array(rows), lb, ub), options={"mip_rel_gap": 1e-10, "presolve": True})
    assert res.success, res.message
    return float(res.fun + y * net.c), res.x[:d]


@pytest.mark.parametrize("activation", ["soft_threshold", "relu"])
def test_linf_agrees_with_milp(activation):
    rng = np.random.default_rng(21)
    d, m = 16, 16
    net = TwoLayerNet(W=rng.standard_normal((m, d)) / np.sqrt(d), a=rng.standard_normal(m) / np.sqrt(m),
                      b=rng.uniform(0.1, 0.6, m) if activation == "soft_threshold" else rng.uniform(-0.3, 0.3, m),
                      activation=activation, c=0.05)
    x = rng.standard_normal((8, d))
    y = np.where(rng.random(8) < 0.5, -1.0, 1.0)
    eps = 0.15
    exact = []
    for xi, yi in zip(x, y):
        val, delta = milp_min_margin(net, xi, yi, eps)
        attained = yi * net((xi + np.clip(delta, -eps, eps))[None])[0]
        assert abs(attained - val) < 1e-6  # the MILP's point attains its value
        exact.append(val)
    exact = np.array(exact)
    res = verify(net, x, y, eps, "linf")
    assert res.decided.all(), res.counts()
    assert np.all(res.lower <= exact + 1e-7) and np.all(res.upper >= exact - 1e-7)
    assert all(_decision_agrees(res, i, exact[i], tol=1e-6) for i in range(len(x)))
    below = verify(net, x, y, eps, "linf", threshold=exact - 1e-4)
    above = verify(net, x, y, eps, "linf", threshold=exact + 1e-4)
    assert below.robust.all() and above.attackable.all(), (below.counts(), above.counts())


@pytest.mark.parametrize("eps", [0.45, 0.7])
def test_pure_nets_agree_with_the_exact_attack(eps):
    """General inputs (sigma > 0) past regime S3: the exact attack pushes features through dead zones."""
    d, b = 16, 0.3
    M = make_dictionary(d, "random", 3)
    w = np.random.default_rng(4).standard_normal(d)
    net = pure_net(M, w, b, 1.2)
    x, y = sparse_inputs(5, 80, M, p=0.25)
    exact = pure_net_min_margin(net, x, y, eps, M).margin
    res = verify(net, x, y, eps, "l2")
    assert res.decided.all(), res.counts()
    assert np.all(res.lower <= exact + SLACK) and np.all(res.upper >= exact - SLACK)
    assert all(_decision_agrees(res, i, exact[i]) for i in range(len(x)))
    assert res.attackable.sum() >= 5 and res.robust.sum() >= 5  # both outcomes are exercised


# --------------------------------------------------------------------------- bounds


@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_relaxations_dominate_the_interval_bound(norm, random_net, labelled_data):
    nets = [random_net(s, d=10, m=16, activation=act, b_scale=0.5) for s, act in ((1, "soft_threshold"), (2, "relu"))]
    nets.append(purified_net(3, d=8)[0])
    M = make_dictionary(10, "random", 4)
    nets.append(pure_net(M, np.random.default_rng(5).standard_normal(10), 0.3))
    for net in nets:
        x, y = labelled_data(6, 40, net.d)
        eps = 0.5 if norm == "l2" else 0.15
        ibp = ibp_min_margin(net, x, y, eps, norm)
        crown = relaxation_bound(net, x, y, eps, norm, relaxation="crown")
        lin = relaxation_bound(net, x, y, eps, norm, relaxation="linear")
        quad = relaxation_bound(net, x, y, eps, norm, relaxation="quadratic")
        pgd = pgd_min_margin(net, x, y, eps, norm, seed=1)
        assert np.all(crown >= ibp - SLACK) and np.all(lin >= crown - SLACK) and np.all(quad >= lin - SLACK)
        assert np.all(quad <= pgd + SLACK), "a relaxation bound above an attained margin"


def test_quadratic_lagrangian_is_much_tighter_on_dead_zones():
    """On purified nets the convex hull of a node straddling its dead zone ignores the radius a push
    costs; the quadratic Lagrangian charges it (closes most of the gap to PGD)."""
    net, M = purified_net(8, d=12)
    x, y = sparse_inputs(9, 60, M)
    eps = 0.4
    pgd = pgd_min_margin(net, x, y, eps, "l2", seed=0)
    lin = relaxation_bound(net, x, y, eps, "l2", relaxation="linear")
    quad = relaxation_bound(net, x, y, eps, "l2", relaxation="quadratic")
    cert = certified_min_margin(net, x, y, eps, "l2")
    assert np.median(pgd - quad) < 0.25 * np.median(pgd - lin)
    assert (quad > 0).sum() > 2 * max((cert > 0).sum(), (lin > 0).sum())


def test_linear_relaxation_is_exact_on_linear_nets(labelled_data):
    rng = np.random.default_rng(12)
    net = TwoLayerNet(W=rng.standard_normal((7, 9)), a=rng.standard_normal(7), b=np.zeros(7), c=0.3)
    x, y = labelled_data(13, 20, 9)
    for norm in ("l2", "linf"):
        v = net.a @ net.W
        exact = y * net(x) - 0.3 * np.linalg.norm(v, ord=2 if norm == "l2" else 1)
        np.testing.assert_allclose(relaxation_bound(net, x, y, 0.3, norm, relaxation="linear"), exact,
                                   rtol=0, atol=1e-9)
        res = verify(net, x, y, 0.3, norm)
        np.testing.assert_allclose(res.upper, exact, rtol=0, atol=1e-9)  # the attack reaches it too
        assert (res.branches == 1).all()


def _branches_and_multipliers(net, x, y, eps, norm, seed):
    """Random sub-boxes of the node ranges (two per sample) and multipliers of both families on them."""
    from numerics.verification.problem import build_problem

    prob = build_problem(net, x, y, eps, norm)
    g = torch.Generator().manual_seed(seed)
    idx = torch.arange(prob.n).repeat(2)
    u = torch.rand((2, idx.shape[0], prob.m), generator=g, dtype=torch.float64)
    lo, hi = -prob.r * u[0], prob.r * u[1]
    lin = bounds.initial_multipliers(prob, idx, lo, hi)
    lin.gamma = lin.gamma + 0.1 * torch.randn(lin.gamma.shape, generator=g, dtype=torch.float64)
    return prob, idx, lo, hi, lin, bounds.lift_to_quadratic(prob, lin, curvature=0.5)


@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_cached_branch_terms_give_the_same_bounds_bit_for_bit(norm, random_net, labelled_data):
    """The optimisers build BranchTerms once and select its rows as branches freeze: every bound,
    minimiser and supergradient must be the one computed from scratch (a stale or misaligned cache,
    or psi at the stationary points joined in the wrong order, changes bits)."""
    net = random_net(21, d=8, m=12, b_scale=0.5)
    x, y = labelled_data(22, 15, 8)
    prob, idx, lo, hi, lin, quad = _branches_and_multipliers(net, x, y, 0.4 if norm == "l2" else 0.1, norm, 23)
    rows = torch.tensor([3, 0, 17, 29, 8])
    terms = bounds.BranchTerms.of(prob, idx, lo, hi)
    for family, mult in (("linear", lin), ("quadratic", quad)):
        for sel, t in ((slice(None), terms), (rows, terms.select(rows))):
            m = mult.select(sel)
            fresh = bounds.evaluate(prob, idx[sel], lo[sel], hi[sel], m, family)
            cached = bounds.evaluate(prob, idx[sel], lo[sel], hi[sel], m, family, terms=t)
            for name in ("value", "s", "delta", "ok"):
                assert torch.equal(getattr(fresh, name), getattr(cached, name)), f"{family}: {name} differs"
            for name in ("gamma", "D", "rho"):
                assert torch.equal(getattr(fresh.grads, name), getattr(cached.grads, name)), f"{family}: grad {name}"
            # and the candidates' values are the objective at the candidates, psi taken on all of them at once
            S, val, _ = cached.nodes
            D = m.D if family == "quadratic" else torch.zeros_like(m.gamma)
            direct = prob.psi(idx[sel], S) + (D[..., None] * S - m.gamma[..., None]) * S
            assert torch.equal(val, direct), f"{family}: candidate values differ from psi at the candidates"
    # the linear family's shortcut in the rounding bound: D = 0 adds exact zeros
    zero = torch.zeros_like(lin.gamma)
    full = bounds.node_terms(prob, idx, lo, hi, lin.gamma, zero, False)
    short = bounds.node_terms(prob, idx, lo, hi, lin.gamma, zero, False, zero_D=True)
    assert all(torch.equal(a, b) for a, b in zip(full[:3], short[:3]))


def test_linear_optimisation_moves_gamma_only(random_net, labelled_data):
    """The linear family's bound reads gamma only: optimise carries D and rho as given, and the
    value it reports is the bound at the multipliers it returns."""
    net = random_net(24, d=8, m=12, b_scale=0.5)
    x, y = labelled_data(25, 15, 8)
    prob, idx, lo, hi, lin, quad = _branches_and_multipliers(net, x, y, 0.4, "l2", 26)
    start = bounds.Multipliers(lin.gamma, torch.zeros_like(lin.gamma), quad.rho)  # a parent's rho, as in _bound
    out = bounds.optimise(prob, idx, lo, hi, start, "linear", 20)
    assert torch.equal(out.mult.D, start.D) and torch.equal(out.mult.rho, start.rho)
    assert not torch.equal(out.mult.gamma, start.gamma), "gamma did not move"
    again = bounds.evaluate(prob, idx, lo, hi, out.mult, "linear")
    assert torch.equal(again.value, out.value)
    assert bool((out.value >= bounds.evaluate(prob, idx, lo, hi, start, "linear").value).all())


# --------------------------------------------------------------------------- float policy, guard, edges


def test_ties_are_never_robust():
    """A linear net whose worst case is exactly 0: with threshold 0 the sample is an error in exact
    arithmetic, so it must not be reported robust; with the tie rule's threshold it is attackable."""
    v = np.array([3.0, 4.0])  # ||v|| = 5
    net = TwoLayerNet(W=v[None, :] / 5.0, a=np.array([5.0]), b=np.zeros(1))
    x = np.array([[0.3, 0.4]])  # f(x) = 2.5 = eps ||v|| at eps = 0.5
    res = verify(net, x, np.ones(1), 0.5, "l2", budget=Budget(branches=5))
    assert res.status[0] != "robust"
    assert res.lower[0] <= 0.0
    tie = verify(net, x, np.ones(1), 0.5, "l2", threshold=1e-9 * 5.0)
    assert tie.status[0] == "attackable"


def test_a_bound_above_a_witness_raises(monkeypatch, random_net, labelled_data):
    """The guard: a (deliberately) unsound bound above an attained margin is reported, never clamped."""
    net = random_net(14, d=4, m=6)
    x, y = labelled_data(15, 6, 4)
    real = bounds.evaluate

    def broken(*args, **kwargs):
        out = real(*args, **kwargs)
        out.value = out.value + 10.0
        return out

    monkeypatch.setattr(bounds, "evaluate", broken)
    with pytest.raises(BoundViolation):
        verify(net, x, y, 0.5, "l2")


def test_eps_zero_and_label_zero(random_net, labelled_data):
    net = random_net(16, d=5, m=7)
    x, y = labelled_data(17, 8, 5)
    y[0] = 0.0
    res = verify(net, x, y, 0.0, "l2")
    clean = y * net(x)
    np.testing.assert_array_equal(res.upper, clean)
    np.testing.assert_allclose(res.lower, clean, rtol=0, atol=1e-12)
    assert res.status[0] == "attackable" and res.upper[0] == 0.0  # y = 0: margin 0, an error
    res = verify(net, x, y, 0.3, "linf")
    assert res.status[0] == "attackable" and res.upper[0] == 0.0


def test_budget_runs_out_as_unknown():
    net, M = purified_net(18, d=16, copies=3)
    x, y = sparse_inputs(19, 60, M)
    root = verify(net, x, y, 0.6, "l2", budget=Budget(branches=1), options=SearchOptions(polish_iters=0))
    full = verify(net, x, y, 0.6, "l2")
    assert root.unknown.any(), "the root bound alone decides everything: the test net is too easy"
    assert not (root.decided & (root.status != full.status)).any(), "a budget changed a decision"
    assert full.unknown.sum() < root.unknown.sum()
    assert (root.branches == 1).all()


def test_pgd_missed_counts_errors_pgd_did_not_find():
    net, M = purified_net(20, d=12)
    x, y = sparse_inputs(21, 50, M)
    res = verify(net, x, y, 0.5, "l2")
    assert np.array_equal(res.pgd_missed, res.attackable & (res.pgd_upper > res.threshold))
    assert res.counts()["pgd_missed"] == int(res.pgd_missed.sum())
    assert np.all(res.upper <= res.pgd_upper)


@pytest.mark.parametrize("kwargs, match", [
    ({"eps": -0.1}, r"^eps must be"),
    ({"norm": "l1"}, r"^norm must be"),
    ({"threshold": np.zeros(3)}, r"^threshold must be"),
    ({"budget": 5}, r"^budget must be"),
    ({"seed": -1}, r"^seed must be"),
    ({"options": {}}, r"^options must be"),
])
def test_bad_input_is_named(kwargs, match, random_net, labelled_data):
    net = random_net(22, d=3, m=4)
    x, y = labelled_data(23, 5, 3)
    args = {"eps": 0.2, "norm": "l2"} | kwargs
    with pytest.raises(ValueError, match=match):
        verify(net, x, y, args.pop("eps"), args.pop("norm"), **args)


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match=r"^branches must be"):
        Budget(branches=0)
    with pytest.raises(ValueError, match=r"^seconds must be"):
        Budget(seconds=0.0)
    with pytest.raises(ValueError, match=r"^relaxation must be"):
        SearchOptions(relaxation="sdp")
    with pytest.raises(ValueError, match=r"^net must be"):
        verify("net", np.zeros((1, 2)), np.ones(1), 0.1)
    with pytest.raises(ValueError, match=r"^x must have shape"):
        verify(TwoLayerNet(W=np.ones((2, 3)), a=np.ones(2), b=np.zeros(2)), np.zeros((1, 2)), np.ones(1), 0.1)


# --------------------------------------------------------------------------- the verified robust error


def test_verified_robust_error_is_a_sampling_interval_inside_the_bound_interval():
    """risk.robust_error(method="verified") (the one implementation over verify) is a sampling interval
    around exact per-sample decisions, inside the old [PGD, certificate] interval on the same inputs."""
    from numerics import ModelConfig
    from numerics.estimates import clopper_pearson
    from numerics.risk import robust_error

    cfg = ModelConfig(d=12, p=0.2, sigma=0.1, dictionary="random", dictionary_seed=24)
    net, _ = purified_net(24, d=12)  # built on the model's dictionary (same seed)
    w = np.ones(12) / np.sqrt(12)
    est = robust_error(net, cfg, w, 0.25, method="verified", samples=300, seed=25)
    old = robust_error(net, cfg, w, 0.25, method="bound", samples=300, seed=25)
    det = est.details
    assert est.method == "verified" and est.n == 300
    assert det["ties"] + det["attackable"] + det["robust"] + det["unknown"] == 300
    errors = det["ties"] + det["attackable"]
    assert est.value == errors / 300
    lo, _ = clopper_pearson(errors, 300, 0.99)
    _, hi = clopper_pearson(errors + det["unknown"], 300, 0.99)
    assert (est.lower, est.upper) == pytest.approx((lo, hi))  # width from sampling and unknowns only
    # same inputs, same PGD seeds: verification finds every error PGD finds, proves more robust
    assert old.lower <= est.lower + 1e-12 and est.upper <= old.upper + 1e-12
    assert est.upper - est.lower < 0.5 * (old.upper - old.lower)


def test_radius_rounding_grows_with_d_where_the_fixed_one_stops_covering():
    # A length-d norm's relative rounding error is up to about d u: the fixed 2^-40 covers it to d ~ 8000, and
    # ModelConfig allows d up to 100,000. Catches a fixed outward rounding at every d.
    from numerics.verification.problem import RADIUS_RTOL, UNIT_ROUNDOFF, radius_rtol

    assert radius_rtol(1024) == RADIUS_RTOL  # the sizes the suite verifies at: unchanged
    for d in (10_000, 100_000):
        assert radius_rtol(d) >= d * UNIT_ROUNDOFF > RADIUS_RTOL
