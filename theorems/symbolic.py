"""Symbolic derivations (sympy) behind S1-S5; each returns sympy expressions plus the facts it proved.

Kept apart from the checks so that the derivations read like the lemmas and are computed
once per session (``functools.cache``).
"""
from __future__ import annotations

import itertools
from functools import cache

import sympy as sp


def _vec(name: str, d: int, **assumptions):
    return sp.symbols(f"{name}1:{d + 1}", **assumptions)


@cache
def dual_norm_minimum(norm: str, d: int):
    """S1: min over ||delta||_q <= eps of <v, delta>, derived, as (expression, symbols v, eps, proof notes)."""
    v = _vec("v", d, real=True)
    eps = sp.Symbol("eps", nonnegative=True)
    notes = []
    if norm == "l2":
        # Lagrange stationarity of <v, delta> on the sphere ||delta|| = eps: delta = -/+ eps v / ||v||.
        dl = _vec("delta", d, real=True)
        mu = sp.Symbol("mu", real=True)
        L = sum(vi * di for vi, di in zip(v, dl)) + mu * (sum(di**2 for di in dl) - eps**2)
        sols = sp.solve([sp.diff(L, di) for di in dl] + [sum(di**2 for di in dl) - eps**2], list(dl) + [mu], dict=True)
        values = [sp.simplify(sum(vi * s[di] for vi, di in zip(v, dl))) for s in sols]
        expr = -eps * sp.sqrt(sum(vi**2 for vi in v))
        # Every stationary value squares to eps^2 ||v||^2 and they come in a +- pair: the minimum is -eps ||v||.
        sq = sp.expand(eps**2 * sum(vi**2 for vi in v))
        assert all(sp.simplify(sp.expand(val**2) - sq) == 0 for val in values), values
        assert any(sp.simplify(a + b) == 0 for a in values for b in values), values
        notes.append(f"stationary values {values}; the minimum is {expr}")
    elif norm == "linf":
        # Separable over coordinates: each delta_i in [-eps, eps] minimises v_i delta_i at an endpoint.
        expr = sum(sp.Min(eps * vi, -eps * vi) for vi in v)
        target = -eps * sum(sp.Abs(vi) for vi in v)
        # Case analysis over the 2^d sign patterns of v (v_i = +-u_i, u_i > 0) proves the identity.
        u = _vec("u", d, positive=True)
        for signs in itertools.product((1, -1), repeat=d):
            sub = {vi: s * ui for vi, s, ui in zip(v, signs, u)}
            assert sp.simplify(expr.subs(sub) - target.subs(sub)) == 0
        notes.append(f"sum_i min(eps v_i, -eps v_i) = {target}")
        expr = target
    elif norm == "l1":
        # A linear function on the cross-polytope attains its minimum at a vertex +-eps e_i.
        vertex_values = [s * eps * vi for vi in v for s in (1, -1)]
        expr = sp.Min(*vertex_values)
        target = -eps * sp.Max(*[sp.Abs(vi) for vi in v])
        notes.append(f"min over the 2d vertices = {target}")
        expr = target
    else:
        raise ValueError(f"norm must be 'l2', 'linf' or 'l1', got {norm!r}")
    return expr, v, eps, tuple(notes)


@cache
def soft_threshold_facts():
    """S2: oddness, slopes and the dead zone of act_b(t) = Max(t-b, 0) - Max(-t-b, 0), region by region."""
    t = sp.Symbol("t", real=True)
    b = sp.Symbol("b", nonnegative=True)
    u = sp.Symbol("u", positive=True)
    q = sp.Symbol("q", nonnegative=True)
    act = sp.Max(t - b, 0) - sp.Max(-t - b, 0)
    facts = {}
    facts["odd"] = sp.simplify(act + act.subs(t, -t)) == 0
    above = sp.simplify(act.subs(t, b + u))  # t > b
    below = sp.simplify(act.subs(t, -b - u))  # t < -b
    dead = sp.simplify(act.subs(t, b - 2 * b * q / (1 + q)))  # t in (-b, b]
    facts["value_above"] = str(above)
    facts["value_below"] = str(below)
    facts["value_dead_zone"] = str(dead)
    facts["dead_zone_is_zero"] = dead == 0
    facts["slope_above"] = sp.diff(above, u)
    facts["slope_below"] = -sp.diff(below, u)
    facts["continuous_at_b"] = sp.limit(above, u, 0) == 0 and sp.limit(below, u, 0) == 0
    facts["lipschitz_1"] = bool(facts["continuous_at_b"] and facts["slope_above"] == 1 and facts["slope_below"] == 1
                                and facts["dead_zone_is_zero"])
    facts["slope_above"] = str(facts["slope_above"])
    facts["slope_below"] = str(facts["slope_below"])
    return act, t, b, facts


@cache
def pure_net_easy_drop(n_active: int):
    """S3: max sum_i |w_i| t_i s.t. ||t|| <= eps (Lagrange) = eps ||w_S||, and the critical-radius ratio."""
    w = _vec("w", n_active, positive=True)
    tt = _vec("t", n_active, nonnegative=True)
    eps = sp.Symbol("eps", positive=True)
    mu = sp.Symbol("mu", positive=True)
    L = sum(wi * ti for wi, ti in zip(w, tt)) - mu * (sum(ti**2 for ti in tt) - eps**2)
    sol = sp.solve([sp.diff(L, ti) for ti in tt] + [sum(ti**2 for ti in tt) - eps**2], list(tt) + [mu], dict=True)
    drop = sp.simplify(sum(wi * sol[0][ti] for wi, ti in zip(w, tt)))
    target = eps * sp.sqrt(sum(wi**2 for wi in w))
    assert sp.simplify(drop - target) == 0, drop
    allocation = {str(ti): sp.simplify(sol[0][ti]) for ti in tt}
    # Critical radii for uniform w* (|w_i| = 1/sqrt(d)), margin (1-b)|<w*, z>| for the pure net:
    d, k, b, m = sp.symbols("d k b m", positive=True)
    eps_linear = m / 1  # linear: eps ||w*|| = |<w*, z>| = m with ||w*|| = 1
    eps_pure = (1 - b) * m / sp.sqrt(k / d)  # pure: eps ||w*_S|| = (1-b) m with ||w*_S|| = sqrt(k/d)
    ratio = sp.simplify(eps_pure / eps_linear)
    return {"drop": drop, "allocation": allocation, "ratio": ratio,
            "boundaries": ["eps <= b (no inactive feature can leave its dead zone)",
                           "eps |w*_i| / ||w*_S|| <= 1 - b (no active feature saturates at the dead zone)"]}


@cache
def rotation_invariance(d: int = 2):
    """S4: with b = 0 the mixed net's function and the Gram W^T W do not depend on Q (Cayley-parametrised)."""
    lam = sp.Symbol("lambda", real=True)
    w = sp.Matrix(_vec("w", d, real=True))
    x = sp.Matrix(_vec("x", d, real=True))
    s = sp.symbols(f"s1:{d * (d - 1) // 2 + 1}", real=True)
    S = sp.zeros(d, d)
    it = iter(s)
    for i in range(d):
        for j in range(i + 1, d):
            val = next(it)
            S[i, j], S[j, i] = val, -val
    Q = (sp.eye(d) - S) * (sp.eye(d) + S).inv()  # Cayley transform: orthogonal for every skew S
    M = sp.eye(d)  # any orthogonal M factors out the same way; identity keeps the algebra small
    W = (M * Q).T
    a = lam * Q.T * w
    f = (a.T * (W * x))[0]
    sum_aW = sp.simplify(W.T * a)
    gram = sp.simplify(W.T * W)
    return {
        "sum_a_W_equals_lambda_M_w": sp.simplify(sum_aW - lam * M * w) == sp.zeros(d, 1),
        "function_independent_of_Q": all(sp.simplify(sp.diff(f, si)) == 0 for si in s),
        "gram_is_identity": gram == sp.eye(d),
        "d": d,
    }


@cache
def sparse_moments(d: int = 3):
    """S5: moments of <w, z> for independent z_i with E z = 0, E z^2 = p m2, E z^4 = p m4 (odd moments 0)."""
    w = _vec("w", d, real=True)
    z = _vec("z", d, real=True)
    p, m2, m4 = sp.symbols("p m2 m4", positive=True)
    s = sum(wi * zi for wi, zi in zip(w, z))

    def expect(expr):
        poly = sp.Poly(sp.expand(expr), *z)
        total = 0
        for powers, coeff in poly.terms():
            term = coeff
            for e in powers:
                term *= {0: 1, 1: 0, 2: p * m2, 3: 0, 4: p * m4}[e]
            total += term
        return sp.expand(total)

    s2 = sum(wi**2 for wi in w)
    s4 = sum(wi**4 for wi in w)
    first, second, fourth = expect(s), expect(s**2), expect(s**4)
    closed_second = p * m2 * s2
    closed_fourth = p * m4 * s4 + 3 * p**2 * m2**2 * (s2**2 - s4)
    return {
        "mean_zero": first == 0,
        "second_matches": sp.simplify(second - closed_second) == 0,
        "fourth_matches": sp.simplify(fourth - closed_fourth) == 0,
        "second": str(closed_second), "fourth": str(sp.factor(closed_fourth)), "d": d,
        "exprs": (closed_second, closed_fourth), "symbols": {"w": w, "p": p, "m2": m2, "m4": m4},
    }
