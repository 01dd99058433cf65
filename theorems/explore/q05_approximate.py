"""Q5: approximate purification: how does a downstream head's robustness depend on the layer's purity?

Dose-response along a mixing path (as P5m, in the shared data model of
:mod:`theorems.explore.trained`): frozen layers ``W_j = M Q(t) e_j`` with ``Q(t) = expm(t A)``
(A seeded by ``net.mixing_seed``, A2) and the fixed threshold ``net.b``; the layer's purity
(unweighted mean (tau, k)-loading of its rows, k = 1, 2, 3) falls from 1 at t = 0. On each layer
a logistic head (clean at ``head.eps = 0``) is trained on ``w* = 1/sqrt(d)``, all layers of the
path as one batched run (:func:`numerics.downstream.fit_head_batch`), and its robust error at
``eval.eps`` (0.3 = b: the pure layer's inactive features are exactly safe up to b) is estimated
by :func:`numerics.risk.robust_error`: exact per sample for the pure layer's head, complete
verification (``method="verified"``) for the mixed layers' heads.

Main check (a priori, P5's effect sizes): (i) collapse: the robust error at the most mixed layer
exceeds the pure layer's by more than ``judge.collapse``, soundly (the mixed head's lower limit of
proven errors against the pure layer's upper limit); (ii) continuity: at the least mixed layer
(first t > 0) the robust error is within ``judge.continuity`` of the pure layer's, on the sound
side (the upper limit of proven plus undecided errors against the pure layer's lower limit).
Region: the purity above which the robust error stays within ``judge.continuity`` (sound side).
Control: b = 0 (every mixed layer is then the same linear representation: no collapse).
"""
from __future__ import annotations

from numerics import mixing_path, random_skew
from numerics.downstream import fit_head_batch, mixed_layer, pure_layer
from numerics.estimates import Estimate
from numerics.purity import feature_loadings, top_k_loading
from numerics.training import TrainConfig

from ..verdict import Outcome, condition, key_number
from . import trained as T
from .common import estimate_from, points_of, region_map, task

ID = "Q5"
QUESTION = "How does a clean head's robustness degrade as the frozen layer is only approximately purified (dose-response)?"


def plan(params) -> list[dict]:
    m, h, e = params.model, params.head, params.eval
    data = {"d": m.d, "k": m.k, "sigma": m.sigma, "dictionary": m.dictionary, "dictionary_seed": m.dictionary_seed}
    head = {"eps": h.eps, "lr": h.lr, "steps": h.steps, "batch": h.batch, "pgd_steps": h.pgd_steps,
            "eps_ramp": h.eps_ramp, "seed": h.seed}
    ev = {"eps": e.eps, "norm": e.norm, "samples": e.samples, "seed": e.seed, "level": e.level, "pgd_steps": e.pgd_steps,
          "pgd_restarts": e.pgd_restarts, "branches": e.verify_branches,
          "restarts": e.verify_restarts, "polish": e.verify_polish}
    return [task("path", f"path b={params.net.b:g}", ts=[float(t) for t in params.grid.t], b=params.net.b,
                 mixing_seed=params.net.mixing_seed, data=data, head=head, evaluation=ev)]


def compute(t: dict) -> dict:
    data, hd, ev = t["data"], t["head"], t["evaluation"]
    m = T.model({**data})
    w = T.task_direction(m.d)
    A = random_skew(m.d, t["mixing_seed"])
    layers = [pure_layer(m.M, t["b"]) if x == 0 else mixed_layer(m.M, mixing_path(A, x), t["b"], t=x) for x in t["ts"]]
    cfg = TrainConfig(steps=hd["steps"], batch=hd["batch"], lr=hd["lr"], eps=hd["eps"],
                      norm=ev["norm"], pgd_steps=hd["pgd_steps"], eps_ramp=hd["eps_ramp"], width=layers[0].m,
                      seed=hd["seed"], progress=False, log_every=max(1, hd["steps"]))
    heads = fit_head_batch(layers, m, w, cfg, seeds=[hd["seed"]] * len(layers))
    out = []
    for x, layer, h in zip(t["ts"], layers, heads):
        C = feature_loadings(layer.W, m.M)
        purity = {str(k): float(top_k_loading(C, k).mean()) for k in T.REPORTED_K if k <= m.d}
        out.append({"t": x, "purity": purity, **T.evaluate(h.net, m, w, ev, f"head on the layer at t={x:g}",
                                                           seed=ev["seed"])})
    return {"path": out}


def judge(params, results: dict) -> Outcome:
    j, b, ts = params.judge, params.net.b, params.grid.t
    rows = results[f"path b={b:g}"]["path"]
    est = [estimate_from(r["robust_error"]) for r in rows]
    pure, first, last = est[0], est[1], est[-1]
    collapse = Estimate(last.value - pure.value, last.lower - pure.upper, last.upper - pure.lower, "bound",
                        details={"sound": "lower: the mixed head's proven-error lower limit minus the pure head's "
                                          "upper limit"})
    cont = Estimate(first.value - pure.value, first.lower - pure.upper, first.upper - pure.lower, "bound",
                    details={"sound": "upper: the mixed head's upper limit (undecided samples as errors) minus the "
                                      "pure head's lower limit"})
    conds = [condition(f"robust error rise from the pure layer to t={ts[-1]:g} (sound: lower side)", collapse, "above",
                       j.collapse),
             condition(f"robust error rise from the pure layer to t={ts[1]:g} (sound: upper side)", cont, "below",
                       j.continuity)]
    k1 = [r["purity"]["1"] for r in rows]
    within = [e.upper - pure.lower < j.continuity for e in est]  # upper: proven + undecided errors (verified)
    near = [p for p, ok in zip(k1, within) if ok]
    rmap = region_map("q5_path", f"Q5: robust error within {j.continuity:g} of the pure layer's head (sound side) "
                                 f"along the mixing path (b={b:g})", ("net.t",),
                      [{"params": {"net.t": float(x)}, "verdict": "pass" if ok else (
                          "fail" if e.lower - pure.upper >= j.continuity else "inconclusive"),
                        "numbers": {"purity_k1": p, "robust_error": e.value}}
                       for x, e, ok, p in zip(ts, est, within, k1)], {"net.t": 0.0})
    ev = {"question": QUESTION, "b": b, "eval_eps": params.eval.eps,
          "path": [{"t": r["t"], "purity": r["purity"], "robust_error": r["robust_error"], "clean_error": r["clean_error"]}
                   for r in rows],
          "region": {"statement": f"robust error within {j.continuity:g} of the pure layer's head (sound side)",
                     "lowest_purity_where_it_holds": min(near) if near else None,
                     "summary": (f"within {j.continuity:g} of the pure layer down to purity {min(near):.3f}"
                                 if near else "nowhere beyond the pure layer")}}
    figs = [{"id": "q5_dose_response", "kind": "curves",
             "title": f"Q5: clean head's robust error vs layer purity (eps={params.eval.eps:g})",
             "xlabel": "layer purity (mean max loading)", "ylabel": "robust error",
             "series": [{"label": "exact (pure) / verified (mixed) interval", "points": points_of(k1, est)}]}]
    keys = [key_number("collapse (most mixed - pure)", collapse), key_number("first step (sound upper side)", cont)]
    audit = [r["audit"] for r in rows if r["audit"]]
    return Outcome(ID, conds, evidence=ev, key_numbers=keys, figures=figs, regions=[rmap], robustness_audit=audit,
                   method="head training + Monte Carlo (exact per sample for the pure layer, verified otherwise)")


def check(params) -> Outcome:
    from . import check as run

    return run(ID, params)

