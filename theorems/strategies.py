"""Hypothesis strategies: the one place that draws parameters inside (and outside) each claim's regime.

Each strategy returns plain dicts of parameters so that a drawn example can be recorded in
the results file as it is. Sizes stay small enough for exact engines; the thorough profile
gets more examples, not other strategies.
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

NORMS = ("l2", "linf", "l1")


def finite(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def linear_score(draw, norms=NORMS):
    """S1: a linear score <v, x> + c, a point x, a label and a radius."""
    d = draw(st.integers(1, 6))
    v = draw(st.lists(finite(-3, 3), min_size=d, max_size=d))
    x = draw(st.lists(finite(-3, 3), min_size=d, max_size=d))
    return {"d": d, "v": v, "x": x, "c": draw(finite(-1, 1)), "y": draw(st.sampled_from([-1, 1])),
            "eps": draw(finite(0, 2)), "norm": draw(st.sampled_from(norms)), "seed": draw(st.integers(0, 2**16))}


@st.composite
def threshold_point(draw):
    """S2: a threshold, a pre-activation, a coefficient and a budget."""
    return {"b": draw(finite(0, 1.5)), "v": draw(finite(-3, 3)), "c": draw(finite(-2, 2).filter(lambda c: abs(c) > 1e-3)),
            "t": draw(finite(0, 4)), "s": draw(finite(-3, 3))}


@st.composite
def easy_regime(draw, inside: bool = True):
    """S3: (d, active set, w*, b, eps) with sigma = 0, unit magnitudes; inside or past the easy regime."""
    d = draw(st.integers(2, 10))
    n_act = draw(st.integers(1, d))
    w = draw(st.lists(finite(0.1, 2.0), min_size=d, max_size=d))
    signs = draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=d, max_size=d))
    zs = draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=n_act, max_size=n_act))
    b = draw(finite(0.05, 0.9))
    ws = np.asarray(w[:n_act])
    cap = min(b, (1 - b) * np.linalg.norm(ws) / ws.max())  # largest eps inside both boundaries
    if inside:
        eps = draw(finite(0.0, 1.0)) * cap
    else:
        eps = cap * (1.05 + draw(finite(0.0, 3.0)))
    return {"d": d, "n_active": n_act, "wstar": [s * x for s, x in zip(signs, w)], "z_signs": zs,
            "b": b, "eps": float(eps), "lam": draw(finite(0.5, 2.0))}


@st.composite
def mixing_direction(draw, d: int):
    """P1, S4: a seeded skew-symmetric mixing direction and an amount t."""
    return {"d": d, "direction_seed": draw(st.integers(0, 10_000)), "t": draw(finite(0.05, 0.6))}


@st.composite
def sparse_moments(draw):
    """S5: a sparse-coding law (p, magnitude law) and a weight vector."""
    d = draw(st.integers(1, 6))
    law = draw(st.sampled_from(["point", "uniform"]))
    if law == "point":
        mag = {"kind": "point", "value": draw(finite(0.2, 2.0))}
    else:
        lo = draw(finite(0.0, 1.0))
        mag = {"kind": "uniform", "low": lo, "high": lo + draw(finite(0.1, 1.5))}
    w = draw(st.lists(finite(-2, 2), min_size=d, max_size=d))
    return {"d": d, "p": draw(finite(0.05, 1.0)), "magnitude": mag, "w": w}


@st.composite
def contrastive_mixing(draw, d: int = 8):
    """P4 (S4 extended): a mixing direction and amount, a contrastive loss, its normalisation and temperature."""
    return {"d": d, "direction_seed": draw(st.integers(0, 10_000)), "t": draw(finite(0.05, 1.0)),
            "loss": draw(st.sampled_from(["spectral", "infonce", "infonce_std"])),
            "normalisation": draw(st.sampled_from(["none", "l2"])), "temperature": draw(finite(0.1, 1.0))}


# --- stress explorer (theorems/test_stress.py): draws outside (and, for controls, inside) a claim's regime ---


@st.composite
def p2_radius_point(draw, inside: bool = False):
    """P2r: (d, k, b, f) with eps = f min(b, 1 - b); outside: f up to 4 and denser codes."""
    if inside:
        d = draw(st.sampled_from([64, 256, 1024]))
        k = draw(finite(1.0, 4.0))
        f = draw(finite(0.0, 0.5))
        b = draw(finite(0.05, 0.95))
    else:
        d = draw(st.sampled_from([16, 64, 256]))
        k = draw(finite(1.0, 8.0))
        f = draw(finite(0.0, 4.0))
        b = draw(finite(0.02, 0.98))
    return {"d": d, "k": k, "b": b, "f": f, "eps": f * min(b, 1.0 - b)}


@st.composite
def p2_scaling_point(draw, inside: bool = False):
    """P2i: a threat model (identity dictionary), a threshold and an integer sparsity k; inside: l2 only.

    k is an integer: for fractional k the critical radii sit on a lattice whose steps bend the
    log-log slope to about 0.62-0.65 even under l2 (seen at k = 3.23), a different boundary.
    """
    norm = "l2" if inside else draw(st.sampled_from(["l2", "linf"]))
    return {"norm": norm, "b": draw(finite(0.1, 0.7)), "k": float(draw(st.integers(2, 6)))}


@st.composite
def fixed_threshold_mixing(draw, inside: bool = False):
    """P1z: a fixed threshold b, a mixing direction seed and an amount t; inside: b in [0.2, 0.6]."""
    b = draw(finite(0.2, 0.6)) if inside else draw(finite(0.0, 0.95))
    return {"b": b, "direction_seed": draw(st.integers(0, 10_000)), "t": draw(finite(0.05, 0.2))}
