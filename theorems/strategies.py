"""Hypothesis strategies: the one place that draws parameters inside (and outside) each claim's regime.

Each strategy returns plain dicts of parameters so that a drawn example can be recorded in
the results file as it is. Sizes stay small enough for exact engines; the thorough profile
gets more examples, not other strategies.
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from numerics.attacks.pure_l2 import easy_regime_radius

def finite(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


# --- S1-S5 (theorems/catalogue/symbolic.py): every range is read from the claim's draw.* parameters ---


@st.composite
def linear_score(draw, params):
    """S1: a linear score <v, x> + c, a point x, a label, a radius, an attack norm and a PGD seed."""
    r = params.draw
    d = draw(st.integers(*r.d))
    v = draw(st.lists(finite(*r.v_i), min_size=d, max_size=d))
    x = draw(st.lists(finite(*r.x_i), min_size=d, max_size=d))
    return {"d": d, "v": v, "x": x, "c": draw(finite(*r.c)), "y": draw(st.sampled_from([-1, 1])),
            "eps": draw(finite(*r.eps)), "norm": draw(st.sampled_from(r.norm)), "seed": draw(st.integers(*r.seed))}


@st.composite
def threshold_point(draw, params):
    """S2: a threshold, a pre-activation, a coefficient (|c| > draw.c_min_abs), a budget and a second point."""
    r = params.draw
    return {"b": draw(finite(*r.b)), "v": draw(finite(*r.v)),
            "c": draw(finite(*r.c).filter(lambda c: abs(c) > r.c_min_abs)),
            "t": draw(finite(*r.t)), "s": draw(finite(*r.s))}


@st.composite
def easy_regime(draw, params):
    """S3: (d, active set, w*, b, eps = f cap) with sigma = 0, unit magnitudes; f in draw.eps_over_cap.

    cap = min(b, (1 - b) ||w*_S|| / max_S |w*_i|) is the largest radius inside both boundaries of the
    easy regime, so f <= 1 stays inside it and f > 1 goes past one of them.
    """
    r = params.draw
    d = draw(st.integers(*r.d))
    n_act = draw(st.integers(1, d))
    w = draw(st.lists(finite(*r.wstar_abs), min_size=d, max_size=d))
    signs = draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=d, max_size=d))
    zs = draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=n_act, max_size=n_act))
    b = draw(finite(*r.b))
    cap = float(easy_regime_radius(np.asarray(w), np.arange(d) < n_act, b))
    # f = lo + u shrinks towards the range's lower end: past the regime, towards the smallest step past it.
    lo, hi = r.eps_over_cap
    f = min(hi, lo + draw(finite(0.0, hi - lo)))
    return {"d": d, "n_active": n_act, "wstar": [s * x for s, x in zip(signs, w)], "z_signs": zs,
            "b": b, "eps_over_cap": f, "eps": float(f * cap), "lam": draw(finite(*r.lam))}


@st.composite
def mixing_amount(draw, params):
    """S4: a seeded skew-symmetric mixing direction and an amount t."""
    r = params.draw
    return {"mixing_seed": draw(st.integers(*r.mixing_seed)), "t": draw(finite(*r.t))}


@st.composite
def sparse_moments(draw, params):
    """S5: a sparse-coding law (p, magnitude law r) and a weight vector w."""
    r = params.draw
    d = draw(st.integers(*r.d))
    law = draw(st.sampled_from(r.magnitude))
    if law == "point":
        mag = {"magnitude": "point", "r": draw(finite(*r.r))}
    else:
        mag = {"magnitude": "uniform", "r_low": draw(finite(*r.r_low)), "r_width": draw(finite(*r.r_width))}
    w = draw(st.lists(finite(*r.w_i), min_size=d, max_size=d))
    return {"d": d, "p": draw(finite(*r.p)), **mag, "w": w}


@st.composite
def contrastive_mixing(draw, d: int = 8):
    """P4 (S4 extended): a mixing direction and amount, a contrastive loss, its normalisation and temperature."""
    return {"d": d, "direction_seed": draw(st.integers(0, 10_000)), "t": draw(finite(0.05, 1.0)),
            "loss": draw(st.sampled_from(["spectral", "infonce", "infonce_std"])),
            "normalisation": draw(st.sampled_from(["none", "l2"])), "temperature": draw(finite(0.1, 1.0))}
