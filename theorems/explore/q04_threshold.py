"""Q4: how sensitive is the pure net's advantage to the threshold b?

Setting (P2's, exact engine): sigma = 0, unit magnitudes, uniform ``w* = 1/sqrt(d)``, identity
dictionary, ``model.k`` expected active features, l2. For each threshold b we compute exactly
the pure net's clean error and critical radius (A4 level of the dense net) and the dense
(linear) net's. The conclusion holds at b when the pure net is at the clean Bayes level (clean
error within ``judge.clean_tol`` of the linear net's, which is Bayes: only ties err) and its
critical radius exceeds ``judge.advantage`` times the dense net's.

Main check: it holds at every judged threshold ``grid.b`` at ``d = model.d``. The registered
points bracket P2's b = 0.3 by the same factor-3 margin on both sides (0.1 = b/3; 0.7 = 1 - b)
inside (0, 1), where the theory's min(b, 1 - b) is positive; they are the claim, so the rendered
statement lists them. Controls: b = 0 (the pure net is the linear net: ratio 1) and b = 1 (with
unit magnitudes soft(1; 1) = 0: a dead net, clean error 1). Region: every b of ``grid.b`` and
``grid.b_outside`` at every d of ``grid.d``.
"""
from __future__ import annotations

import numpy as np

from numerics import linear_net, pure_net
from numerics.estimates import Estimate
from numerics.risk import clean_error

from ..verdict import Outcome, combine, condition, key_number
from .common import exact_model, exact_radius, level_of, points_of, radius_ratio, region, region_map, task, uniform_w

ID = "Q4"
QUESTION = "Over which threshold range b does the pure net keep clean accuracy and a >2x robustness advantage?"


def _points(params) -> list[tuple[int, float]]:
    bs = sorted(set(params.grid.b) | set(params.grid.b_outside))
    dims = sorted(set(params.grid.d) | {params.model.d})
    return [(d, b) for d in dims for b in bs]


def plan(params) -> list[dict]:
    k, iters = params.model.k, params.eval.bisection
    pts = _points(params)
    tasks = [task("linear", f"linear d={d}", d=d, k=k, iters=iters) for d in sorted({d for d, _ in pts})]
    tasks += [task("pure", f"pure d={d} b={b:g}", d=d, k=k, b=float(b), iters=iters) for d, b in pts]
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


def _point(params, results: dict, d: int, b: float) -> dict:
    j = params.judge
    lin = results[f"linear d={d}"]
    pure = results[f"pure d={d} b={b:g}"]
    gap = abs(pure["clean_error"]["value"] - lin["clean_error"]["value"])
    ratio = radius_ratio(pure["radius"], lin["radius"], method="exact")
    conds = [condition(f"|clean error pure - linear| at d={d}, b={b:g}", Estimate.exact(gap), "below", j.clean_tol),
             condition(f"critical radius ratio pure/linear at d={d}, b={b:g}", ratio, "above", j.advantage)]
    return {"d": d, "b": b, "clean_gap": gap, "ratio": ratio, "conditions": conds,
            "verdict": combine(c.verdict for c in conds), "eps_c_pure": pure["radius"], "eps_c_linear": lin["radius"]}


def judge(params, results: dict) -> Outcome:
    j, hd = params.judge, params.model.d
    pts = [_point(params, results, d, b) for d, b in _points(params)]
    judged = [p for b in params.grid.b for p in pts if p["d"] == hd and p["b"] == b]
    conds = [c for p in judged for c in p["conditions"]]
    table = [{"d": p["d"], "b": p["b"], "judged": p in judged, "clean_error_gap": p["clean_gap"],
              "ratio": p["ratio"].value, "ratio_lower": p["ratio"].lower, "ratio_upper": p["ratio"].upper,
              "eps_c_pure": [p["eps_c_pure"]["lower"], p["eps_c_pure"]["upper"]],
              "eps_c_linear": [p["eps_c_linear"]["lower"], p["eps_c_linear"]["upper"]], "verdict": p["verdict"]}
             for p in pts]
    what = f"clean error within {j.clean_tol:g} of Bayes and critical radius > {j.advantage:g}x the dense net's"
    reg = region([{"d": p["d"], "b": p["b"]} for p in pts], [p["verdict"] for p in pts], ("d", "b"), what)
    held = [p["b"] for p in pts if p["verdict"] == "pass" and p["d"] == hd]
    reg["b_range_where_it_holds"] = [min(held), max(held)] if held else None
    head_b = min(params.grid.b, key=lambda b: abs(b - 0.3))  # P2's threshold (or the judged one nearest it)
    rmap = region_map("q4_threshold", f"Q4: {what} (k={params.model.k:g})", ("model.d", "net.b"),
                      [{"params": {"model.d": p["d"], "net.b": p["b"]}, "verdict": p["verdict"],
                        "numbers": {"ratio": p["ratio"].value, "clean_error_gap": p["clean_gap"]}} for p in pts],
                      {"model.d": hd, "net.b": head_b})
    figs = []
    for d in sorted({p["d"] for p in pts}):
        row = [p for p in pts if p["d"] == d]
        figs.append({"id": f"q4_ratio_d{d}", "kind": "curves",
                     "title": f"Q4: critical radius ratio pure/dense vs b (d={d}, k={params.model.k:g})",
                     "xlabel": "threshold b", "ylabel": "eps_c(pure) / eps_c(linear)",
                     "series": [{"label": "exact (bisection interval)",
                                 "points": points_of([p["b"] for p in row], [p["ratio"] for p in row])}],
                     "hlines": [{"y": j.advantage, "label": f"advantage threshold {j.advantage:g}"}],
                     "vlines": [{"x": min(params.grid.b), "label": "judged thresholds"},
                                {"x": max(params.grid.b), "label": ""}]})
    keys = [key_number(f"ratio at b={p['b']:g} (d={p['d']})", p["ratio"]) for p in (judged[:1] + judged[-1:])]
    return Outcome(ID, conds, evidence={"question": QUESTION, "k": params.model.k, "judged_b": list(params.grid.b),
                                        "judged_d": hd, "table": table, "region": reg},
                   key_numbers=keys, figures=figs, regions=[rmap], method="exact")


def check(params) -> Outcome:
    from . import check as run

    return run(ID, params)
