"""Q4: how sensitive is the pure net's advantage to the threshold b?

Setting (P2's, exact engine): sigma = 0, unit magnitudes, uniform ``w* = 1/sqrt(d)``, k = 4
expected active features, l2. For each threshold b on a grid we compute exactly the pure
net's clean error and critical radius (A4 level of the dense net) and the dense (linear)
net's. The paper's conclusion holds at b when the pure net is at the clean Bayes level
(clean error within ``CLEAN_TOL`` of the linear net's, which is Bayes: only ties err) and its
critical radius exceeds twice the dense net's.

Main check (a priori range): it holds for every b in ``HEADLINE_RANGE = [0.1, 0.7]`` at
d = 256. Why that range: it brackets P2's b = 0.3 by the same factor-3 margin on both sides
(0.1 = b/3; 0.7 = 1 - b) and stays inside (0, 1), where the theory's min(b, 1 - b) is positive.
Controls: b = 0 (the pure net is the linear net: ratio 1) and b = 1 (with unit magnitudes
soft(1; 1) = 0: a dead net, clean error 1).
Region: the set of b (and d, thorough) where both conditions hold.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from numerics import linear_net, pure_net
from numerics.estimates import Estimate
from numerics.risk import clean_error

from ..verdict import Outcome, combine, condition, key_number
from .common import (ADVANTAGE, K, exact_model, exact_radius, level_of, points_of, radius_ratio, region, task,
                     uniform_w)

ID = "Q4"
QUESTION = "Over which threshold range b does the pure net keep clean accuracy and a >2x robustness advantage?"
HEADLINE_RANGE = (0.1, 0.7)
HEADLINE_D = 256
CLEAN_TOL = 0.01


@dataclass(frozen=True)
class Sizes:
    dims: tuple[int, ...]
    bs: tuple[float, ...]
    iters: int


SIZES = {
    "smoke": Sizes((256,), (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.85, 0.95, 1.0), 10),
    "quick": Sizes((256,), (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0), 12),
    "thorough": Sizes((64, 256, 1024), tuple(np.round(np.linspace(0, 1, 21), 3)) + (0.02, 0.98), 14),
}


def _headline_bs(sz: Sizes) -> tuple[float, ...]:
    lo, hi = HEADLINE_RANGE
    return tuple(b for b in sz.bs if lo - 1e-12 <= b <= hi + 1e-12)


def plan(sz: Sizes, variant: str) -> list[dict]:
    if variant == "main":
        pts = [(d, b) for d in sz.dims for b in sz.bs]
    elif variant == "threshold_zero":
        pts = [(HEADLINE_D, 0.0)]
    elif variant == "dead_threshold":
        pts = [(HEADLINE_D, 1.0)]
    else:
        raise ValueError(f"{ID} has no variant {variant!r}")
    tasks = [task("linear", f"linear d={d}", d=d, k=K, iters=sz.iters) for d in sorted({d for d, _ in pts})]
    tasks += [task("pure", f"pure d={d} b={b:g}", d=d, k=K, b=float(b), iters=sz.iters) for d, b in pts]
    return tasks


def compute(t: dict) -> dict:
    d, k = t["d"], t["k"]
    model = exact_model(d, k)
    w = uniform_w(d)
    lin = linear_net(model.M, w)
    ce_lin = clean_error(lin, model, w, method="exact")
    level = level_of(ce_lin.value)
    if t["kind"] == "linear":
        rad = exact_radius(lin, model, w, level=level, hi=1.0 / np.sqrt(d), iters=t["iters"])
        return {"clean_error": ce_lin.to_dict(), "radius": rad, "level": level}
    net = pure_net(model.M, w, t["b"])
    ce = clean_error(net, model, w, method="exact")
    if ce.lower >= level:  # broken without any attack (e.g. a dead net): critical radius 0
        rad = {"lower": 0.0, "upper": 0.0, "level": level}
    else:
        rad = exact_radius(net, model, w, level=level, hi=max(0.05, t["b"]), iters=t["iters"])
    return {"clean_error": ce.to_dict(), "radius": rad, "level": level}


def _point(results: dict, d: int, b: float) -> dict:
    lin = results[f"linear d={d}"]
    pure = results[f"pure d={d} b={b:g}"]
    gap = abs(pure["clean_error"]["value"] - lin["clean_error"]["value"])
    ratio = radius_ratio(pure["radius"], lin["radius"], method="exact")
    conds = [condition(f"|clean error pure - linear| at d={d}, b={b:g}", Estimate.exact(gap), "below", CLEAN_TOL),
             condition(f"critical radius ratio pure/linear at d={d}, b={b:g}", ratio, "above", ADVANTAGE)]
    return {"d": d, "b": b, "clean_gap": gap, "ratio": ratio, "conditions": conds,
            "verdict": combine(c.verdict for c in conds), "eps_c_pure": pure["radius"], "eps_c_linear": lin["radius"]}


def judge(variant: str, sz: Sizes, results: dict) -> Outcome:
    if variant == "main":
        pts = [_point(results, d, b) for d in sz.dims for b in sz.bs]
        judged = [p for p in pts if p["d"] == HEADLINE_D and p["b"] in _headline_bs(sz)]
    else:
        b = 0.0 if variant == "threshold_zero" else 1.0
        pts = judged = [_point(results, HEADLINE_D, b)]
    conds = [c for p in judged for c in p["conditions"]]
    table = [{"d": p["d"], "b": p["b"], "clean_error_gap": p["clean_gap"], "ratio": p["ratio"].value,
              "ratio_lower": p["ratio"].lower, "ratio_upper": p["ratio"].upper,
              "eps_c_pure": [p["eps_c_pure"]["lower"], p["eps_c_pure"]["upper"]],
              "eps_c_linear": [p["eps_c_linear"]["lower"], p["eps_c_linear"]["upper"]], "verdict": p["verdict"]}
             for p in pts]
    reg = region([{"d": p["d"], "b": p["b"]} for p in pts], [p["verdict"] for p in pts], ("d", "b"),
                 f"clean error within {CLEAN_TOL} of Bayes and critical radius > {ADVANTAGE:g}x the dense net's")
    held = [p["b"] for p in pts if p["verdict"] == "pass" and p["d"] == HEADLINE_D]
    reg["b_range_where_it_holds"] = [min(held), max(held)] if held else None
    figs = []
    for d in sz.dims:
        row = [p for p in pts if p["d"] == d]
        figs.append({"id": f"q4_ratio_d{d}", "kind": "curves", "title": f"Q4: critical radius ratio pure/dense vs b (d={d}, k=4)",
                     "xlabel": "threshold b", "ylabel": "eps_c(pure) / eps_c(linear)",
                     "series": [{"label": "exact (bisection interval)", "points": points_of([p["b"] for p in row], [p["ratio"] for p in row])}],
                     "hlines": [{"y": ADVANTAGE, "label": "advantage threshold 2"}],
                     "vlines": [{"x": HEADLINE_RANGE[0], "label": "headline range"}, {"x": HEADLINE_RANGE[1], "label": ""}]})
    keys = [key_number(f"ratio at b={p['b']:g} (d={p['d']})", p["ratio"]) for p in judged[:1] + judged[-1:]]
    return Outcome(ID, conds, evidence={"question": QUESTION, "k": K, "headline_range": list(HEADLINE_RANGE),
                                        "headline_d": HEADLINE_D, "variant": variant, "table": table, "region": reg},
                   key_numbers=keys, figures=figs if variant == "main" else [], method="exact")
