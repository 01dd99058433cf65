"""S1-S5: the symbolic lemmas, derived with sympy and checked against the numerics engines.

Each claim has a ``check_<lemma>`` function (pure: parameters in, Outcome out) used by the
main test in the claim's regime and by its negative controls on variants where it must fail.
"""
from __future__ import annotations

import json
import zlib

import numpy as np
import pytest
import sympy as sp
import torch

from numerics import ModelConfig, SparseCodingModel, labels, linear_net, make_dictionary, mixed_net, mixing_path, random_skew
from numerics.activations import relu_intercept, soft_threshold
from numerics.attacks.linear import dual_norm, linear_min_margin, linear_worst_delta
from numerics.attacks.pgd import pgd_min_margin
from numerics.attacks.pure_l2 import pure_l2_min_margin
from numerics.estimates import Estimate, mean, paired_difference
from numerics.networks import TwoLayerNet

from . import strategies as rs
from . import symbolic
from .protocol import draw_examples
from .verdict import Outcome, condition

TOL = 1e-9  # floating-point agreement of exact quantities (relative to 1 + |value|)


def agree(name: str, a: float, b: float, tol: float = TOL):
    """Exact numbers must agree to ``tol * (1 + |b|)``: an exact condition on the error."""
    err = abs(float(a) - float(b))
    return condition(f"|{name}| error (tol {tol:g})", Estimate.exact(err), "below", tol * (1 + abs(float(b))))


# ---------------------------------------------------------------- S1 dual norms
def check_s1(params: dict, *, wrong_dual: bool = False) -> tuple[list, dict]:
    """One S1 example: the sympy formula vs the engine's exact attack, the attaining delta and PGD."""
    d, norm = params["d"], params["norm"]
    v, x = np.asarray(params["v"]), np.asarray(params["x"])
    y, c, eps = params["y"], params["c"], params["eps"]
    expr, vs, e, _ = symbolic.dual_norm_minimum(norm, d)
    if wrong_dual:
        expr = -e * sp.sqrt(sum(vi**2 for vi in vs))  # the l2 norm where the dual norm belongs
    drop = float(expr.subs({**dict(zip(vs, (y * v).tolist())), e: eps}))
    clean = y * (v @ x + c)
    formula = clean + drop
    engine = float(linear_min_margin(np.array([clean]), v, eps, norm)[0])
    delta = linear_worst_delta(v, np.array([float(y)]), eps, norm)[0]
    attained = y * (v @ (x + delta) + c)
    conds = [agree("formula - engine", formula, engine), agree("formula - attained", formula, attained)]
    numbers = {"formula": formula, "engine": engine, "attained": attained}
    if norm in ("l2", "linf") and eps > 0 and np.linalg.norm(v) > 0:
        net = TwoLayerNet(W=v[None, :], a=np.ones(1), b=np.zeros(1), c=c)
        pgd = float(pgd_min_margin(net, x[None, :], np.array([float(y)]), eps, norm=norm, steps=30, restarts=2,
                                   seed=params["seed"])[0])
        numbers["pgd"] = pgd
        # PGD is an attack: it can never go below the exact minimum, and on a linear score it reaches it.
        conds.append(condition("pgd - formula (>= -tol)", Estimate.exact(pgd - formula), "above", -1e-7 * (1 + abs(formula))))
        conds.append(agree("pgd - formula", pgd, formula, 1e-6))
    return conds, numbers


def s1_outcome(*, wrong_dual: bool = False, norms=rs.NORMS) -> Outcome:
    tally = draw_examples("S1", "symbolic+exact+pgd", rs.linear_score(norms=norms), check_s1, wrong_dual=wrong_dual)
    derivations = {f"{n}, d={d}": str(symbolic.dual_norm_minimum(n, d)[0]) for n in rs.NORMS for d in (2, 3)}
    return tally.outcome({"derived_minimum_of_<y v, delta>": derivations,
                          "notes": list(symbolic.dual_norm_minimum("l2", 2)[3])})


@pytest.mark.claim("S1")
def test_S1(claim_run):
    claim_run.main(s1_outcome)


@pytest.mark.claim("S1", control="wrong_dual")
def test_S1_control_wrong_dual(claim_run):
    claim_run.control("wrong_dual", s1_outcome, wrong_dual=True, norms=("linf",))


# ---------------------------------------------------------------- S2 soft threshold
def damage(c: float, v: float, b: float, t: float) -> float:
    """psi(t) = |c| max(min(t, alpha), t - gap) with (alpha, gap) read off w = sign(c) v (MODEL.md S2)."""
    w = np.sign(c) * v
    if w > b:
        alpha, gap = w - b, 2 * b
    elif w >= -b:
        alpha, gap = 0.0, w + b
    else:
        alpha, gap = np.inf, 0.0
    return abs(c) * max(min(t, alpha), t - gap)


def check_s2(params: dict, *, activation=soft_threshold) -> tuple[list, dict]:
    b, v, c, t, s = params["b"], params["v"], params["c"], params["t"], params["s"]
    act, ts, bs, facts = symbolic.soft_threshold_facts()
    sym = float(act.subs({ts: v, bs: b}))
    f = lambda u: float(activation(np.float64(u), b))  # noqa: E731
    conds = [
        agree("engine - sympy act", f(v), sym),
        agree("odd: f(v) + f(-v)", f(v) + f(-v), 0.0),
        condition("Lipschitz: |f(v)-f(s)| - |v-s|", Estimate.exact(abs(f(v) - f(s)) - abs(v - s)), "below", 1e-12),
        condition("dead zone: |f(b*v/3)|", Estimate.exact(abs(f(b * max(-1.0, min(1.0, v / 3))))), "below", 1e-12),
    ]
    # Damage of a budget t on one feature: the formula, the direct difference, and the exact attack (d = 1).
    direct = c * (f(v) - f(v - np.sign(c) * t))
    exact = c * f(v) - float(pure_l2_min_margin(np.array([[c]]), np.array([[v]]), b, t).margin[0])
    conds += [agree("damage formula - direct", damage(c, v, b, t), direct),
              agree("damage formula - exact attack", damage(c, v, b, t), exact)]
    return conds, {"act": f(v), "sympy": sym, "damage": damage(c, v, b, t), "exact_attack_damage": exact}


def s2_outcome(*, activation=soft_threshold) -> Outcome:
    tally = draw_examples("S2", "symbolic+exact", rs.threshold_point(), check_s2, activation=activation)
    facts = symbolic.soft_threshold_facts()[3]
    sym_ok = facts["odd"] and facts["lipschitz_1"] and facts["dead_zone_is_zero"]
    out = tally.outcome({"sympy_facts": facts})
    out.conditions.append(condition("sympy proofs hold (1 = yes)", Estimate.exact(float(sym_ok)), "above", 0.5))
    return out


@pytest.mark.claim("S2")
def test_S2(claim_run):
    claim_run.main(s2_outcome)


@pytest.mark.claim("S2", control="relu_intercept")
def test_S2_control_relu(claim_run):
    claim_run.control("relu_intercept", s2_outcome, activation=relu_intercept)


# ---------------------------------------------------------------- S4 rotation invariance
def check_s4(params: dict, *, b: float = 0.0, n: int = 4000) -> tuple[list, dict]:
    """Mixed nets along Q(t) vs Q(0): same outputs on a common sample, same clean loss, same contrastive Gram."""
    d = params["d"]
    model = SparseCodingModel(ModelConfig(d=d, p=min(1.0, 3.0 / d), sigma=0.1, dictionary="random", dictionary_seed=1))
    w = np.ones(d) / np.sqrt(d)
    Q = mixing_path(random_skew(d, params["direction_seed"]), params["t"])
    pure = mixed_net(model.M, w, np.eye(d), b)
    mixed = mixed_net(model.M, w, Q, b)
    sample = model.sample(n, seed=params["direction_seed"])  # common random numbers for both nets
    y = labels(sample.z, w)
    loss = lambda net: np.logaddexp(0.0, -y * net(sample.x))  # noqa: E731
    diff = paired_difference(loss(mixed), loss(pure), level=0.99)
    out_gap = float(np.max(np.abs(mixed(sample.x) - pure(sample.x))))
    # Linear contrastive representation h(x) = W x: every inner product <h(x), h(x')> uses W^T W only.
    gram_gap = float(np.max(np.abs(mixed.W.T @ mixed.W - pure.W.T @ pure.W)))
    conds = [condition("max |f_Q(x) - f_I(x)| on the common sample", Estimate.exact(out_gap), "below", 1e-9),
             condition("clean-loss difference |upper| (paired)", Estimate.exact(max(abs(diff.lower), abs(diff.upper))), "below", 1e-9)]
    if b == 0.0:
        conds.append(condition("|W_Q^T W_Q - W_I^T W_I|", Estimate.exact(gram_gap), "below", 1e-9))
    return conds, {"output_gap": out_gap, "loss_difference": diff.to_dict(), "gram_gap": gram_gap}


def s4_outcome(*, b: float = 0.0) -> Outcome:
    tally = draw_examples("S4", "symbolic+exact", rs.mixing_direction(d=8), check_s4, b=b)
    facts = {f"d={d}": symbolic.rotation_invariance(d) for d in (2, 3)}
    ok = all(f["sum_a_W_equals_lambda_M_w"] and f["function_independent_of_Q"] and f["gram_is_identity"] for f in facts.values())
    out = tally.outcome({"sympy_facts": facts, "b": b})
    out.conditions.append(condition("sympy proofs hold (1 = yes)", Estimate.exact(float(ok)), "above", 0.5))
    return out


@pytest.mark.claim("S4")
def test_S4(claim_run):
    claim_run.main(s4_outcome)


@pytest.mark.claim("S4", control="threshold_positive")
def test_S4_control_threshold(claim_run):
    claim_run.control("threshold_positive", s4_outcome, b=0.3)


# ---------------------------------------------------------------- S3 pure-net easy regime
def _s3_point(params: dict):
    d, n_act = params["d"], params["n_active"]
    w = np.asarray(params["wstar"])
    z = np.zeros(d)
    z[:n_act] = params["z_signs"]
    y = np.sign(w @ z) or 1.0  # the drop formula concerns y in {-1, +1}; a tie is given y = +1
    return w, z, y, z != 0


def check_s3(params: dict) -> tuple[list, dict]:
    """The sympy drop lambda eps ||w*_S|| vs the exact attack on the pure net; linear drop lambda eps ||w*||."""
    w, z, y, active = _s3_point(params)
    b, eps, lam = params["b"], params["eps"], params["lam"]
    n_act = params["n_active"]
    sym = symbolic.pure_net_easy_drop(n_act)
    ws = sp.symbols(f"w1:{n_act + 1}", positive=True)
    formula = lam * float(sym["drop"].subs({**dict(zip(ws, np.abs(w[:n_act]).tolist())), sp.Symbol("eps", positive=True): eps})) if eps > 0 else 0.0
    res = pure_l2_min_margin((y * lam * w)[None, :], z[None, :], b, eps)
    exact_drop = float(res.clean_margin[0] - res.margin[0])
    lin_drop = float(lam * w @ z * y - linear_min_margin(np.array([lam * y * (w @ z)]), lam * w, eps, "l2")[0])
    conds = [agree("sympy drop - exact attack drop", formula, exact_drop),
             agree("linear drop - lambda eps ||w*||", lin_drop, lam * eps * np.linalg.norm(w))]
    return conds, {"formula": formula, "exact_drop": exact_drop, "linear_drop": lin_drop,
                   "n_pushed": int(res.n_pushed[0]), "n_saturated": int(res.n_saturated[0])}


def s3_past_boundaries() -> list[dict]:
    """What the exact attack does past each boundary (d = 16, 3 aligned active features, uniform w*, b = 0.3)."""
    d, b = 16, 0.3
    w = np.ones(d) / np.sqrt(d)
    z = np.zeros(d)
    z[:3] = 1.0
    rows = []
    for eps in (0.2, 0.3, 0.45, 0.7, 1.0, 1.5, 2.5):
        res = pure_l2_min_margin(w[None, :], z[None, :], b, eps)
        formula = eps * np.linalg.norm(w[:3])
        rows.append({"eps": eps, "inside_regime": bool(eps <= min(b, (1 - b) * np.sqrt(3))),
                     "formula_drop": formula, "exact_drop": float(res.clean_margin[0] - res.margin[0]),
                     "n_pushed": int(res.n_pushed[0]), "n_saturated": int(res.n_saturated[0]),
                     "margin_after_attack": float(res.margin[0])})
    return rows


def s3_outcome(*, inside: bool = True) -> Outcome:
    tally = draw_examples("S3", "symbolic+exact", rs.easy_regime(inside=inside), check_s3)
    sym = symbolic.pure_net_easy_drop(3)
    return tally.outcome({
        "sympy_drop_3_features": str(sym["drop"]), "sympy_optimal_allocation": {k: str(v) for k, v in sym["allocation"].items()},
        "critical_radius_ratio_uniform_wstar": str(sym["ratio"]), "regime_boundaries": sym["boundaries"],
        "past_the_boundaries": s3_past_boundaries(),
        "reading": "Inside the regime the drop is the Cauchy-Schwarz value. Past eps = b the attack may push inactive "
                   "features through their dead zones (n_pushed > 0) and the drop exceeds the formula; past the "
                   "saturation boundary aligned features stop at the dead-zone edge (n_saturated > 0) and the drop "
                   "falls below it until pushing through pays.",
    })


@pytest.mark.claim("S3")
def test_S3(claim_run):
    claim_run.main(s3_outcome)


@pytest.mark.claim("S3", control="past_boundary")
def test_S3_control_past_boundary(claim_run):
    claim_run.control("past_boundary", s3_outcome, inside=False)


# ---------------------------------------------------------------- S5 sparse-coding moments
def _magnitude(spec: dict):
    from numerics.config import PointMass, UniformMagnitude

    return PointMass(spec["value"]) if spec["kind"] == "point" else UniformMagnitude(spec["low"], spec["high"])


def _symbolic_moments(params: dict) -> tuple[float, float]:
    """Evaluate the sympy-derived E S^2 and E S^4 (derived for d = 3; zero-padding w gives any d <= 3)."""
    from numerics.exact_law import magnitude_moment

    mag = _magnitude(params["magnitude"])
    w = list(params["w"])
    facts = symbolic.sparse_moments(max(3, len(w)))
    w = w + [0.0] * (facts["d"] - len(w))
    sym = facts["symbols"]
    subs = dict(zip(sym["w"], w))
    subs.update({sym["p"]: params["p"], sym["m2"]: magnitude_moment(mag, 2), sym["m4"]: magnitude_moment(mag, 4)})
    second, fourth = facts["exprs"]
    return float(second.subs(subs)), float(fourth.subs(subs))


def check_s5(params: dict, *, shared_sign: bool = False, n: int = 200_000) -> tuple[list, dict]:
    """Sympy moments vs the exact pmf (point masses) or Monte Carlo with a 99.9% t-interval (any law)."""
    from numerics.exact_law import inner_product_pmf

    second, fourth = _symbolic_moments(params)
    w = np.asarray(params["w"])
    mag = _magnitude(params["magnitude"])
    model = SparseCodingModel(ModelConfig(d=len(w), p=params["p"], magnitude=mag, dictionary="identity"))
    conds, numbers = [], {"formula_second": second, "formula_fourth": fourth}
    if params["magnitude"]["kind"] == "point" and not shared_sign:
        law = inner_product_pmf(w, params["p"], mag)
        numbers.update(exact_second=law.moment(2), exact_fourth=law.moment(4))
        conds += [agree("E S^2 exact pmf - formula", law.moment(2), second, 1e-9),
                  agree("E S^4 exact pmf - formula", law.moment(4), fourth, 1e-9),
                  agree("E S exact pmf", law.moment(1), 0.0, 1e-9)]
    # A stable seed from the drawn parameters (Python's str hash is salted per process).
    rng = np.random.default_rng(zlib.crc32(json.dumps(params, sort_keys=True).encode()))
    z = model.sample_z(n, rng)
    if shared_sign:  # dependent coordinates: every active feature takes the sign of the first
        z = np.abs(z) * np.where(rng.random((n, 1)) < 0.5, -1.0, 1.0)
    s = z @ w
    m2 = mean(s**2, level=0.999)
    numbers.update(mc_second=m2.to_dict())
    if second > 1e-12:
        # The MC interval must contain the formula; a violation beyond 5% relative is a failure.
        inside = condition("|E S^2 MC - formula| / formula beyond the 99.9% CI", Estimate(
            max(0.0, max(m2.lower - second, second - m2.upper)) / second,
            max(0.0, max(m2.lower - second, second - m2.upper)) / second,
            max(0.0, max(m2.lower - second, second - m2.upper)) / second, "mc", level=0.999, n=n), "below", 0.05)
        conds.append(inside)
    else:  # w = 0: S is identically 0
        conds.append(agree("E S^2 MC with w = 0", m2.value, 0.0))
    return conds, numbers


def s5_outcome(*, shared_sign: bool = False) -> Outcome:
    tally = draw_examples("S5", "symbolic+exact+mc", rs.sparse_moments(), check_s5, shared_sign=shared_sign)
    facts = symbolic.sparse_moments(3)
    ok = facts["mean_zero"] and facts["second_matches"] and facts["fourth_matches"]
    out = tally.outcome({"sympy": {k: v for k, v in facts.items() if k not in ("exprs", "symbols")}, "shared_sign": shared_sign})
    out.conditions.append(condition("sympy derivation matches the closed forms (1 = yes)", Estimate.exact(float(ok)), "above", 0.5))
    return out


@pytest.mark.claim("S5")
def test_S5(claim_run):
    claim_run.main(s5_outcome)


@pytest.mark.claim("S5", control="shared_sign")
def test_S5_control_shared_sign(claim_run):
    claim_run.control("shared_sign", s5_outcome, shared_sign=True)
