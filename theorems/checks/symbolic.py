"""Checks of the symbolic family S1-S5: sympy derivations against the numerics engines.

Each ``check_sN(params) -> Outcome`` draws its examples with the claim's strategy (ranges
``draw.*``), judges each one against the ``judge.*`` tolerances and summarises them with
:class:`theorems.protocol.PropertyTally` (a failing example is shrunk and becomes the
counterexample). The controls are the same functions at parameter variants.

- S1: exact attack on a linear score = sympy's dual-norm minimum = PGD (an independent attack).
- S2: the engine's activation = sympy's soft threshold; the damage function = direct difference
  = exact attack at d = 1.
- S3: sympy's Lagrange drop = the exact attack's drop on the pure net in the easy regime.
- S4: mixed nets along Q(t) have the pure net's outputs, clean loss and Gram at b = 0.
- S5: sympy's moments of <w, z> = the exact pmf (point masses) = Monte Carlo (any law).
"""
from __future__ import annotations

import json
import zlib
from functools import cache

import numpy as np
import sympy as sp

from numerics import ModelConfig, SparseCodingModel, labels, mixed_net, mixing_path, random_skew
from numerics.activations import activate
from numerics.attacks.linear import linear_min_margin, linear_worst_delta
from numerics.attacks.pgd import pgd_min_margin
from numerics.attacks.pure_l2 import in_easy_regime, pure_l2_min_margin
from numerics.config import PointMass, UniformMagnitude
from numerics.estimates import Estimate, mean, paired_difference
from numerics.exact_law import inner_product_pmf, magnitude_moment
from numerics.networks import TwoLayerNet

from .. import strategies, symbolic
from ..protocol import PropertyTally, draw_examples
from ..verdict import Outcome, condition


def agree(name: str, a: float, b: float, tol: float):
    """Exact numbers must agree to ``tol * (1 + |b|)``: an exact condition on the error."""
    err = abs(float(a) - float(b))
    return condition(f"|{name}| error (tol {tol:g})", Estimate.exact(err), "below", tol * (1 + abs(float(b))))


def sympy_holds(name: str, ok: bool):
    return condition(f"{name} (1 = yes)", Estimate.exact(float(ok)), "above", 0.5)


def _draw(params, method: str, strategy, one_example) -> PropertyTally:
    """Run ``one_example(example, params=params)`` on ``draw.examples`` examples drawn by ``strategy(params)``."""
    return draw_examples(params.CLAIM, method, strategy(params), one_example, max_examples=params.draw.examples,
                         params=params)


# ======================================================================== S1 dual norms
def s1_example(ex: dict, *, params) -> tuple[list, dict]:
    """One S1 example: the sympy formula vs the engine's exact attack, the attaining delta and PGD."""
    j, e = params.judge, params.eval
    d, norm = ex["d"], ex["norm"]
    v, x = np.asarray(ex["v"]), np.asarray(ex["x"])
    y, c, eps = ex["y"], ex["c"], ex["eps"]
    # The formula under test: the derived minimum for the attack norm (dual) or the l2 one for every q.
    expr, vs, es, _ = symbolic.dual_norm_minimum(norm if j.formula_norm == "dual" else "l2", d)
    drop = float(expr.subs({**dict(zip(vs, (y * v).tolist())), es: eps}))
    clean = y * (v @ x + c)
    formula = clean + drop
    engine = float(linear_min_margin(np.array([clean]), v, eps, norm)[0])
    delta = linear_worst_delta(v, np.array([float(y)]), eps, norm)[0]
    attained = y * (v @ (x + delta) + c)
    conds = [agree("formula - engine", formula, engine, j.tol), agree("formula - attained", formula, attained, j.tol)]
    numbers = {"formula": formula, "engine": engine, "attained": attained}
    if norm in ("l2", "linf") and eps > 0 and np.linalg.norm(v) > 0:  # PGD attacks l2 and linf balls
        net = TwoLayerNet(W=v[None, :], a=np.ones(1), b=np.zeros(1), c=c)
        pgd = float(pgd_min_margin(net, x[None, :], np.array([float(y)]), eps, norm=norm, steps=e.pgd_steps,
                                   restarts=e.pgd_restarts, seed=ex["seed"])[0])
        numbers["pgd"] = pgd
        # PGD is an attack: it can never go below the exact minimum, and on a linear score it reaches it.
        conds.append(condition("pgd - formula (>= -tol)", Estimate.exact(pgd - formula), "above",
                               -j.pgd_slack * (1 + abs(formula))))
        conds.append(agree("pgd - formula", pgd, formula, j.pgd_tol))
    return conds, numbers


def check_s1(params) -> Outcome:
    tally = _draw(params, "symbolic+exact+pgd", strategies.linear_score, s1_example)
    # Derivations shown in the evidence (the examples derive their own d on demand).
    derivations = {f"{n}, d={d}": str(symbolic.dual_norm_minimum(n, d)[0]) for n in params.draw.norm for d in (2, 3)}
    return tally.outcome({"derived_minimum_of_<y v, delta>": derivations, "formula_norm": params.judge.formula_norm,
                          "notes": list(symbolic.dual_norm_minimum("l2", 2)[3])})


# ======================================================================== S2 soft threshold
def damage(c: float, v: float, b: float, t: float) -> float:
    """psi(t) = |c| max(min(t, alpha), t - gap) with (alpha, gap) read off w = sign(c) v (docs/model.md S2)."""
    w = np.sign(c) * v
    if w > b:
        alpha, gap = w - b, 2 * b
    elif w >= -b:
        alpha, gap = 0.0, w + b
    else:
        alpha, gap = np.inf, 0.0
    return abs(c) * max(min(t, alpha), t - gap)


def s2_example(ex: dict, *, params) -> tuple[list, dict]:
    j, kind = params.judge, params.net.activation
    b, v, c, t, s = ex["b"], ex["v"], ex["c"], ex["t"], ex["s"]
    act, ts, bs, _ = symbolic.soft_threshold_facts()
    sym = float(act.subs({ts: v, bs: b}))
    f = lambda u: float(activate(kind, np.float64(u), b))  # noqa: E731
    # A point of the dead zone [-b, b] read off the drawn v (v/3 clipped to [-1, 1], scaled by b).
    dead = b * max(-1.0, min(1.0, v / 3))
    conds = [
        agree("engine - sympy act", f(v), sym, j.tol),
        agree("odd: f(v) + f(-v)", f(v) + f(-v), 0.0, j.tol),
        condition("Lipschitz: |f(v)-f(s)| - |v-s|", Estimate.exact(abs(f(v) - f(s)) - abs(v - s)), "below", j.zero_tol),
        condition("dead zone: |f(b*v/3)|", Estimate.exact(abs(f(dead))), "below", j.zero_tol),
    ]
    # Damage of a budget t on one feature: the formula, the direct difference, and the exact attack (d = 1).
    direct = c * (f(v) - f(v - np.sign(c) * t))
    exact = c * f(v) - float(pure_l2_min_margin(np.array([[c]]), np.array([[v]]), b, t).margin[0])
    psi = damage(c, v, b, t)
    conds += [agree("damage formula - direct", psi, direct, j.tol),
              agree("damage formula - exact attack", psi, exact, j.tol)]
    return conds, {"act": f(v), "sympy": sym, "damage": psi, "exact_attack_damage": exact}


def check_s2(params) -> Outcome:
    tally = _draw(params, "symbolic+exact", strategies.threshold_point, s2_example)
    facts = symbolic.soft_threshold_facts()[3]
    out = tally.outcome({"sympy_facts": facts, "activation": params.net.activation})
    out.conditions.append(sympy_holds("sympy proofs hold", facts["odd"] and facts["lipschitz_1"]
                                      and facts["dead_zone_is_zero"]))
    return out


# ======================================================================== S3 pure-net easy regime
def s3_example(ex: dict, *, params) -> tuple[list, dict]:
    """The sympy drop lambda eps ||w*_S|| vs the exact attack on the pure net; linear drop lambda eps ||w*||."""
    tol = params.judge.tol
    d, n_act = ex["d"], ex["n_active"]
    w = np.asarray(ex["wstar"])
    z = np.zeros(d)
    z[:n_act] = ex["z_signs"]
    y = np.sign(w @ z) or 1.0  # the drop formula concerns y in {-1, +1}; a tie is given y = +1
    b, eps, lam = ex["b"], ex["eps"], ex["lam"]
    sym = symbolic.pure_net_easy_drop(n_act)
    ws = sp.symbols(f"w1:{n_act + 1}", positive=True)
    subs = {**dict(zip(ws, np.abs(w[:n_act]).tolist())), sp.Symbol("eps", positive=True): eps}
    formula = lam * float(sym["drop"].subs(subs)) if eps > 0 else 0.0
    res = pure_l2_min_margin((y * lam * w)[None, :], z[None, :], b, eps)
    exact_drop = float(res.clean_margin[0] - res.margin[0])
    lin_drop = float(lam * w @ z * y - linear_min_margin(np.array([lam * y * (w @ z)]), lam * w, eps, "l2")[0])
    conds = [agree("sympy drop - exact attack drop", formula, exact_drop, tol),
             agree("linear drop - lambda eps ||w*||", lin_drop, lam * eps * np.linalg.norm(w), tol)]
    return conds, {"formula": formula, "exact_drop": exact_drop, "linear_drop": lin_drop,
                   "inside_regime": bool(in_easy_regime(w, z != 0, eps, b)),
                   "n_pushed": int(res.n_pushed[0]), "n_saturated": int(res.n_saturated[0])}


@cache
def s3_past_boundaries() -> list[dict]:
    """Evidence only: what the exact attack does past each boundary (d = 16, 3 aligned active features,
    uniform w*, b = 0.3), along a fixed grid of eps."""
    d, b = 16, 0.3
    w = np.ones(d) / np.sqrt(d)
    z = np.zeros(d)
    z[:3] = 1.0
    rows = []
    for eps in (0.2, 0.3, 0.45, 0.7, 1.0, 1.5, 2.5):
        res = pure_l2_min_margin(w[None, :], z[None, :], b, eps)
        rows.append({"eps": eps, "inside_regime": bool(eps <= min(b, (1 - b) * np.sqrt(3))),
                     "formula_drop": eps * np.linalg.norm(w[:3]), "exact_drop": float(res.clean_margin[0] - res.margin[0]),
                     "n_pushed": int(res.n_pushed[0]), "n_saturated": int(res.n_saturated[0]),
                     "margin_after_attack": float(res.margin[0])})
    return rows


def check_s3(params) -> Outcome:
    tally = _draw(params, "symbolic+exact", strategies.easy_regime, s3_example)
    sym = symbolic.pure_net_easy_drop(3)
    return tally.outcome({
        "sympy_drop_3_features": str(sym["drop"]),
        "sympy_optimal_allocation": {k: str(v) for k, v in sym["allocation"].items()},
        "critical_radius_ratio_uniform_wstar": str(sym["ratio"]), "regime_boundaries": sym["boundaries"],
        "eps_over_cap": list(params.draw.eps_over_cap), "past_the_boundaries": s3_past_boundaries(),
        "reading": "Inside the regime the drop is the Cauchy-Schwarz value. Past eps = b the attack may push inactive "
                   "features through their dead zones (n_pushed > 0) and the drop exceeds the formula; past the "
                   "saturation boundary aligned features stop at the dead-zone edge (n_saturated > 0) and the drop "
                   "falls below it until pushing through pays.",
    })


# ======================================================================== S4 rotation invariance
@cache
def _s4_model(m) -> SparseCodingModel:
    return SparseCodingModel(ModelConfig(d=m.d, p=min(1.0, m.k / m.d), sigma=m.sigma, dictionary=m.dictionary,
                                         dictionary_seed=m.dictionary_seed))


def s4_example(ex: dict, *, params) -> tuple[list, dict]:
    """Mixed nets along Q(t) vs Q(0): same outputs on a common sample, same clean loss, same contrastive Gram."""
    m, b, e, tol = params.model, params.net.b, params.eval, params.judge.tol
    model = _s4_model(m)
    w = np.ones(m.d) / np.sqrt(m.d)
    Q = mixing_path(random_skew(m.d, ex["mixing_seed"]), ex["t"])
    pure = mixed_net(model.M, w, np.eye(m.d), b)
    mixed = mixed_net(model.M, w, Q, b)
    sample = model.sample(e.samples, seed=ex["mixing_seed"])  # common random numbers for both nets
    y = labels(sample.z, w)
    loss = lambda net: np.logaddexp(0.0, -y * net(sample.x))  # noqa: E731
    diff = paired_difference(loss(mixed), loss(pure), level=e.level)
    out_gap = float(np.max(np.abs(mixed(sample.x) - pure(sample.x))))
    # Linear contrastive representation h(x) = W x: every inner product <h(x), h(x')> uses W^T W only.
    gram_gap = float(np.max(np.abs(mixed.W.T @ mixed.W - pure.W.T @ pure.W)))
    conds = [condition("max |f_Q(x) - f_I(x)| on the common sample", Estimate.exact(out_gap), "below", tol),
             condition("clean-loss difference |upper| (paired)",
                       Estimate.exact(max(abs(diff.lower), abs(diff.upper))), "below", tol),
             condition("|W_Q^T W_Q - W_I^T W_I|", Estimate.exact(gram_gap), "below", tol)]
    return conds, {"output_gap": out_gap, "loss_difference": diff.to_dict(), "gram_gap": gram_gap}


def check_s4(params) -> Outcome:
    tally = _draw(params, "symbolic+exact", strategies.mixing_amount, s4_example)
    facts = {f"d={d}": symbolic.rotation_invariance(d) for d in (2, 3)}
    out = tally.outcome({"sympy_facts": facts, "b": params.net.b})
    out.conditions.append(sympy_holds("sympy proofs hold", all(
        f["sum_a_W_equals_lambda_M_w"] and f["function_independent_of_Q"] and f["gram_is_identity"]
        for f in facts.values())))
    return out


# ======================================================================== S5 sparse-coding moments
ZERO_MOMENT = 1e-12  # a formula E S^2 below this is numerically 0 (w ~ 0): judged absolutely, not relatively


def _magnitude(ex: dict):
    if ex["magnitude"] == "point":
        return PointMass(ex["r"])
    return UniformMagnitude(ex["r_low"], ex["r_low"] + ex["r_width"])


def _symbolic_moments(ex: dict, mag) -> tuple[float, float]:
    """The sympy-derived E S^2 and E S^4 (derived for d = 3; zero-padding w gives any d <= 3)."""
    w = list(ex["w"])
    facts = symbolic.sparse_moments(max(3, len(w)))
    w = w + [0.0] * (facts["d"] - len(w))
    sym = facts["symbols"]
    subs = dict(zip(sym["w"], w))
    subs.update({sym["p"]: ex["p"], sym["m2"]: magnitude_moment(mag, 2), sym["m4"]: magnitude_moment(mag, 4)})
    second, fourth = facts["exprs"]
    return float(second.subs(subs)), float(fourth.subs(subs))


def s5_example(ex: dict, *, params) -> tuple[list, dict]:
    """Sympy moments vs the exact pmf (point masses, independent signs) or Monte Carlo (any law)."""
    j, e, shared = params.judge, params.eval, params.model.signs == "shared"
    mag = _magnitude(ex)
    second, fourth = _symbolic_moments(ex, mag)
    w = np.asarray(ex["w"])
    model = SparseCodingModel(ModelConfig(d=len(w), p=ex["p"], magnitude=mag, dictionary="identity"))
    conds, numbers = [], {"formula_second": second, "formula_fourth": fourth}
    if ex["magnitude"] == "point" and not shared:  # the exact engine knows only independent signs
        law = inner_product_pmf(w, ex["p"], mag)
        numbers.update(exact_second=law.moment(2), exact_fourth=law.moment(4))
        conds += [agree("E S^2 exact pmf - formula", law.moment(2), second, j.tol),
                  agree("E S^4 exact pmf - formula", law.moment(4), fourth, j.tol),
                  agree("E S exact pmf", law.moment(1), 0.0, j.tol)]
    # A stable seed from the drawn example (Python's str hash is salted per process) and eval.seed.
    rng = np.random.default_rng(zlib.crc32(json.dumps(ex, sort_keys=True).encode()) ^ e.seed)
    z = model.sample_z(e.samples, rng)
    if shared:  # dependent coordinates: every active feature takes one sign per sample
        z = np.abs(z) * np.where(rng.random((e.samples, 1)) < 0.5, -1.0, 1.0)
    m2 = mean((z @ w) ** 2, level=e.level)
    numbers.update(mc_second=m2.to_dict())
    if second > ZERO_MOMENT:
        # |E S^2 - formula| / formula, bounded from both sides by the interval: at least the formula's distance
        # from it (0 inside), at most its distance from the far end. Below mc_miss passes only when the whole
        # interval lies within mc_miss of the formula, so fewer samples can never make a pass easier.
        rel = Estimate(abs(m2.value - second) / second, max(0.0, m2.lower - second, second - m2.upper) / second,
                       max(abs(m2.lower - second), abs(m2.upper - second)) / second, "mc", level=e.level, n=e.samples)
        conds.append(condition(f"|E S^2 - formula| / formula over the {e.level:.1%} MC interval", rel, "below",
                               j.mc_miss))
    else:  # w = 0: S is identically 0
        conds.append(agree("E S^2 MC with w = 0", m2.value, 0.0, j.tol))
    return conds, numbers


def check_s5(params) -> Outcome:
    tally = _draw(params, "symbolic+exact+mc", strategies.sparse_moments, s5_example)
    facts = symbolic.sparse_moments(3)
    out = tally.outcome({"sympy": {k: v for k, v in facts.items() if k not in ("exprs", "symbols")},
                         "signs": params.model.signs})
    out.conditions.append(sympy_holds("sympy derivation matches the closed forms",
                                      facts["mean_zero"] and facts["second_matches"] and facts["fourth_matches"]))
    return out
