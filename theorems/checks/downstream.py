"""Checks of the downstream family: P5, P5m, P5d and D1, each ``check(params) -> Outcome``.

P5 (C4). A clean head on a frozen purified layer inherits robustness: per judged (layer, task)
pair, the clean head's clean error is close to end-to-end clean training's, its robust error
close to an adversarially trained head's on the same layer and clearly below end-to-end
training's; along a mixing path the clean head's robust error degrades smoothly with purity.
P5m: along the mixing path (fixed threshold) clean accuracy is kept while robustness collapses.
P5d: P5's rows for the pure and the adversarially pre-trained layer at growing d under two
sparsity laws, with the slope in log2 d of the robustness gain. D1: the same inheritance on
scikit-learn's digits.

Intervals and sides (fixed before any run). Every net of a claim is evaluated on the same
seeded inputs, so each judged difference is paired per input (theorems.downstream_runs.paired):
its lower end counts the first net's proven errors against the second's possible ones (proven
plus undecided), its upper end the reverse; a condition passes only when the whole interval is
on the claimed side, so undecided inputs always count against the claim. Robust errors are
exact per input where an exact worst case exists (heads on the pure layer, linear nets) and
from complete verification otherwise (``numerics.verification`` inside numerics.risk's Monte
Carlo engine; the suite's PGD runs inside the verifier and every verified net is audited in
``Outcome.robustness_audit``). Clean errors are exact per input.

Region map (P5, ``report.region_map``): the cells of ``grid.*`` (one axis at a time around the
headline), each judging the pre-trained layer's rows, run as tasks of
theorems.explore.sweep.run_tasks on ``grid.scheduler``; P5d's (d, law) points likewise.
"""
from __future__ import annotations

import numpy as np

from numerics.estimates import Estimate

from .. import downstream_runs as R
from ..explore.common import region_map
from ..explore.sweep import progress_ticker, run_tasks
from ..parameters.vocabulary import k_at
from ..verdict import Outcome, condition, curve_points, key_number

PAIRED = "paired per input; sound side: undecided inputs count against the claim"


# =========================================================================== building the specs


def model_cfg(m, d: int | None = None, k: float | None = None):
    return R.model_config(m.d if d is None else d, m.k if k is None else k, m.sigma, m.dictionary,
                          m.dictionary_seed)


def eval_spec(e) -> R.EvalSpec:
    return R.EvalSpec(e.eps, e.norm, e.verify_samples, e.samples, e.seed, e.level, e.pgd_steps, e.pgd_restarts,
                      e.verify_branches, e.verify_restarts, e.verify_polish, e.verify_relaxation)


def head_specs(h, norm: str) -> tuple[R.HeadSpec, R.HeadSpec]:
    """(clean, adversarial) head settings; the clean one carries no attack fields (so P5m's heads are P5's)."""
    clean = R.HeadSpec(h.steps, h.batch, h.lr, 0.0, norm, 0.0, 1, h.seed)
    adv = None
    if hasattr(h, "eps"):
        adv = R.HeadSpec(h.steps, h.batch, h.lr, h.eps, norm, h.eps_ramp, h.pgd_steps, h.seed)
    return clean, adv


def pretrain_spec(t, mcfg, task_spec: R.TaskSpec, width: int, eps: float | None = None,
                  steps: int | None = None) -> R.PretrainSpec:
    w_task = R.TaskSpec(task_spec.d, "same", task_spec.support, 0.0, task_spec.seed)  # w* only
    return R.PretrainSpec(mcfg, w_task, width, t.eps if eps is None else eps, t.norm, t.lr, t.batch,
                          t.steps if steps is None else steps, t.pgd_steps, t.threshold, t.init_scale, t.optimiser,
                          t.eps_ramp, tuple(t.checkpoints), t.seed)


class Setting:
    """The specs of one P5-like parameter set (P5, a region-map cell, P5m)."""

    def __init__(self, params):
        p = params
        self.params = p
        self.mcfg = model_cfg(p.model)
        d, s = p.model.d, p.model.support
        self.rho_tasks = [R.TaskSpec(d, "correlated", s, float(r), p.task.seed) for r in p.task.rho]
        self.ev = eval_spec(p.eval)
        self.clean_head, self.adv_head = head_specs(p.head, p.eval.norm)
        self.width = getattr(p.net, "width", 64)

    def task(self, relation: str) -> list[R.TaskSpec]:
        if relation == "correlated":
            return list(self.rho_tasks)
        p = self.params
        return [R.TaskSpec(p.model.d, relation, p.model.support, 0.0, p.task.seed)]

    def tasks_for(self, layer: str) -> list[R.TaskSpec]:
        p = self.params
        rels = ("correlated",) + tuple(p.task.relation) if layer == "pure" else tuple(p.task.covered)
        out = []
        for r in rels:
            out += [t for t in self.task(r) if t not in out]
        return out

    def layer(self, name: str, *, fraction: float = 1.0, t: float | None = None) -> R.LayerSpec:
        p = self.params
        if name == "pure" or (name == "mixed" and t == 0.0):
            return R.LayerSpec("pure", self.mcfg, b=p.net.b)
        if name == "mixed":
            return R.LayerSpec("mixed", self.mcfg, b=p.net.b, t=float(t), mixing_seed=p.net.mixing_seed)
        if name == "random":
            return R.LayerSpec("random", self.mcfg, b=p.net.b, width=self.width, seed=p.net.random_seed)
        if name in ("pretrained", "clean_pre"):
            eps = 0.0 if name == "clean_pre" else p.train.eps
            return R.LayerSpec("pretrained", self.mcfg, pretrain=self.pretrain(eps), fraction=fraction)
        if name == "contrastive":
            c = p.contrastive
            return R.LayerSpec("contrastive", self.mcfg, contrastive=R.ContrastiveSpec(
                self.mcfg, p.model.k, self.width, c.p4_profile, c.seed, c.variant))
        raise ValueError(f"unknown layer {name!r}")

    def pretrain(self, eps: float) -> R.PretrainSpec:
        return pretrain_spec(self.params.train, self.mcfg, self.rho_tasks[0], self.width, eps)

    def e2e(self, tk: R.TaskSpec) -> R.E2ESpec:
        e = self.params.e2e
        return R.E2ESpec(self.mcfg, tk, self.width, e.steps, e.batch, e.lr, e.seed)

    def head_keys(self, lay: R.LayerSpec, tk: R.TaskSpec, adversarial: bool = True) -> list[R.HeadKey]:
        keys = [R.HeadKey(lay, tk, self.clean_head)]
        if adversarial:
            keys.append(R.HeadKey(lay, tk, self.adv_head))
        return keys


# =========================================================================== rows and conditions


def inheritance_row(st: Setting, lay: R.LayerSpec, tk: R.TaskSpec) -> dict:
    """Every number of one (frozen layer, task) pair at the headline radius, with the paired differences."""
    ev, level = st.ev, st.ev.level
    ch, ah = st.head_keys(lay, tk)
    bl, lin = st.e2e(tk), R.LinearKey(st.mcfg, tk)
    rob = {n: R.robust(k, ev) for n, k in (("clean_head", ch), ("adversarial_head", ah), ("e2e", bl), ("linear", lin))}
    cle = {n: R.clean(k, ev) for n, k in (("clean_head", ch), ("adversarial_head", ah), ("e2e", bl), ("linear", lin))}
    p = st.params
    return {"layer": lay.name, "task": tk.name, "similarity": R.task(tk).similarity,
            "purity": R.layer_report(lay, tk, p.purity.tau, p.purity.samples, p.purity.seed),
            "robust": rob, "clean": cle,
            "clean_gap": R.paired(cle["clean_head"], cle["e2e"], level),
            "inheritance_gap": R.paired(rob["clean_head"], rob["adversarial_head"], level),
            "robustness_gain": R.paired(rob["e2e"], rob["clean_head"], level)}


def row_conditions(r: dict, j, eps: float, norm: str) -> list:
    tag = f"{r['layer']} / {r['task']}"
    return [condition(f"clean error gap (frozen-layer clean head - end-to-end) [{tag}] ({PAIRED})", r["clean_gap"],
                      "below", j.clean_tol),
            condition(f"{norm} robust error gap at eps={eps:g} (clean head - adversarial head) [{tag}] ({PAIRED})",
                      r["inheritance_gap"], "below", j.inherit_tol),
            condition(f"{norm} robustness gain at eps={eps:g} (end-to-end - clean head) [{tag}] ({PAIRED})",
                      r["robustness_gain"], "above", j.gain_min)]


def row_summary(r: dict) -> dict:
    f = R.est_dict
    return {"layer": r["layer"], "task": r["task"], "similarity": round(r["similarity"], 3),
            "coverage": r["purity"]["coverage"], "weighted_coverage": r["purity"]["weighted_coverage"],
            "layer_purity_k1": r["purity"].get("purity_k1"), "layer_purity (k = 1, 2, 3)": r["purity"],
            **{f"clean_error_{n}": f(s.estimate) for n, s in r["clean"].items()},
            **{f"robust_error_{n}": f(s.estimate) for n, s in r["robust"].items()},
            "clean_gap": f(r["clean_gap"]), "inheritance_gap": f(r["inheritance_gap"]),
            "robustness_gain": f(r["robustness_gain"])}


def row_audit(r: dict) -> list[dict]:
    return [a for a in (R.audit_row(s) for s in r["robust"].values()) if a]


def _prefetch(st: Setting, pairs, adversarial: bool = True) -> None:
    """Fit every head of ``pairs`` (layer, task) at once: one batched run per task, setting and layer shape."""
    keys = []
    for lay, tk in pairs:
        keys += st.head_keys(lay, tk, adversarial)
    R.heads(keys)


def _unique(audits: list[dict]) -> list[dict]:
    seen, out = set(), []
    for a in audits:
        k = (a["net"], a["eps"], a["norm"])
        if k not in seen:
            seen.add(k)
            out.append(a)
    return out


# =========================================================================== P5


def judged_pairs(st: Setting) -> list[tuple]:
    return [(st.layer(name), tk) for name in st.params.net.layers for tk in st.tasks_for(name)]


def mixing_path(st: Setting, tk: R.TaskSpec) -> list[dict]:
    lays = [st.layer("mixed", t=float(t)) for t in st.params.grid.t]
    R.heads([R.HeadKey(lay, tk, st.clean_head) for lay in lays])
    p = st.params
    pts = []
    for t, lay in zip(st.params.grid.t, lays):
        key = R.HeadKey(lay, tk, st.clean_head)
        pts.append({"t": float(t), "layer": lay.name,
                    "purity": R.layer_report(lay, tk, p.purity.tau, p.purity.samples, p.purity.seed),
                    "robust": R.robust(key, st.ev), "clean": R.clean(key, st.ev)})
    return pts


def dose_conditions(path: list[dict], j, level: float) -> list:
    Rb = [p["robust"] for p in path]
    conds = [condition(f"collapse: robust error at t={path[-1]['t']:g} minus pure ({PAIRED})",
                       R.paired(Rb[-1], Rb[0], level), "above", j.collapse_min),
             condition(f"continuity: robust error at t={path[1]['t']:g} minus pure ({PAIRED})",
                       R.paired(Rb[1], Rb[0], level), "below", j.continuity_tol)]
    for a, b, pa, pb in zip(Rb[:-1], Rb[1:], path[:-1], path[1:]):
        conds.append(condition(f"monotone: robust error step t={pa['t']:g} -> {pb['t']:g} ({PAIRED})",
                               R.paired(b, a, level), "above", -j.monotone_tol))
    return conds


def path_rows(path: list[dict]) -> list[dict]:
    return [{"t": p["t"], "purity_k1": p["purity"].get("purity_k1"),
             "n_eff": p["purity"]["mean_effective_features"], "coverage": p["purity"]["coverage"],
             "clean_error": R.est_dict(p["clean"].estimate), "robust_error": R.est_dict(p["robust"].estimate)}
            for p in path]


def checkpoint_curve(st: Setting, tk: R.TaskSpec, robust_: bool) -> list[dict]:
    p = st.params
    fracs = tuple(p.train.checkpoints) + (1.0,)
    lays = [st.layer("pretrained", fraction=f) for f in fracs]
    R.heads([R.HeadKey(lay, tk, st.clean_head) for lay in lays])
    pts = []
    for f, lay in zip(fracs, lays):
        key = R.HeadKey(lay, tk, st.clean_head)
        row = {"fraction": f, "layer": lay.name,
               "purity": R.layer_report(lay, tk, p.purity.tau, p.purity.samples, p.purity.seed),
               "clean": R.clean(key, st.ev)}
        if robust_ or f == 1.0:
            row["robust"] = R.robust(key, st.ev)
        pts.append(row)
    return pts


def eps_figure(st: Setting, tk: R.TaskSpec) -> dict:
    series = []
    for label, key in [("clean head, pure layer", R.HeadKey(st.layer("pure"), tk, st.clean_head)),
                       ("adversarial head, pure layer", R.HeadKey(st.layer("pure"), tk, st.adv_head)),
                       ("clean head, pre-trained layer", R.HeadKey(st.layer("pretrained"), tk, st.clean_head)),
                       ("end-to-end clean training", st.e2e(tk))]:
        pts = [R.robust(key, st.ev, float(e)).estimate for e in st.params.grid.eps]
        series.append({"label": label, "points": curve_points(st.params.grid.eps, pts)})
    return {"id": "p5_robust_vs_eps", "kind": "curves", "intervals": "errorbars",
            "title": f"Robust error vs {st.params.eval.norm} radius, task {tk.name} (exact or verified)",
            "xlabel": f"{st.params.eval.norm} radius eps", "ylabel": "robust error", "series": series}


CONTRASTIVE_NOTE = ("reported, not judged: the paper's C4 is about purified layers; whether contrastive pre-training "
                    "purifies is P4. Layer: P4's setting (its registered parameters at contrastive.p4_profile), "
                    "trained at P5's d, k, sigma and width")


def contrastive_rows(st: Setting) -> dict:
    lay = st.layer("contrastive")
    pairs = [(lay, tk) for tk in st.rho_tasks]
    _prefetch(st, pairs)
    rows = [inheritance_row(st, lay, tk) for _, tk in pairs]
    run = R.contrastive_run(lay.contrastive)
    return {"note": CONTRASTIVE_NOTE, "config": run.config.to_dict(), "seed": lay.contrastive.seed,
            "variant": lay.contrastive.variant, "training_seconds": round(run.wall_time, 2),
            "threshold": lay.name, "rows": [row_summary(r) for r in rows], "_audit": sum((row_audit(r) for r in rows), [])}


def _spearman(x, y) -> float:
    from scipy import stats

    return float(stats.spearmanr(x, y).statistic)


def p5_rows_check(params) -> Outcome:
    """The verdict's conditions only (the region map's cells): the judged rows and the mixing path."""
    st = Setting(params)
    pairs = judged_pairs(st)
    _prefetch(st, pairs)
    rows = [inheritance_row(st, lay, tk) for lay, tk in pairs]
    conds = sum((row_conditions(r, params.judge, params.eval.eps, params.eval.norm) for r in rows), [])
    return Outcome("P5", conds, evidence={"rows": [row_summary(r) for r in rows]},
                   robustness_audit=_unique(sum((row_audit(r) for r in rows), [])))


def check_p5(params) -> Outcome:
    st = Setting(params)
    p, j, ev = params, params.judge, st.ev
    pairs = judged_pairs(st)
    first = st.rho_tasks[0]
    reported = []
    if p.report.curves:  # layers that should not inherit, on the covered tasks (the controls' rows)
        for name, tks in (("random", st.task("correlated")), ("clean_pre", st.task("correlated")),
                          ("pretrained", st.task("disjoint"))):
            for tk in tks:
                lay = st.layer(name)
                if (lay, tk) not in pairs and (lay, tk) not in reported:
                    reported.append((lay, tk))
    _prefetch(st, pairs + reported)
    judged = [inheritance_row(st, lay, tk) for lay, tk in pairs]
    extra = [inheritance_row(st, lay, tk) for lay, tk in reported]
    conds = sum((row_conditions(r, j, p.eval.eps, p.eval.norm) for r in judged), [])
    path = mixing_path(st, first)
    conds += dose_conditions(path, j, ev.level)
    audits = sum((row_audit(r) for r in judged + extra), []) + [a for a in (R.audit_row(q["robust"]) for q in path) if a]
    evidence = {"judged_rows": [row_summary(r) for r in judged],
                "tasks": {tk.name: {k: v for k, v in R.task(tk).to_dict().items() if k not in ("wstar", "wprime")}
                          for tk in dict.fromkeys(tk for _, tk in pairs + reported)},
                "dose_response_mixing": path_rows(path),
                "purity_by_layer (k = 1, 2, 3)": [r["purity"] for r in judged + extra] + [q["purity"] for q in path]}
    figs, keys = [], []
    if p.report.curves:
        evidence["reported_rows (not judged: layers that should not inherit)"] = [row_summary(r) for r in extra]
        ckpt = checkpoint_curve(st, first, p.report.checkpoints)
        evidence["dose_response_training"] = [
            {"fraction_of_pretraining": c["fraction"], **{k: c["purity"][k] for k in ("purity_k1", "purity_k2",
                                                                                     "purity_k3", "coverage")},
             "clean_error": R.est_dict(c["clean"].estimate),
             "robust_error": R.est_dict(c["robust"].estimate) if "robust" in c else None} for c in ckpt]
        audits += [a for a in (R.audit_row(c["robust"]) for c in ckpt if "robust" in c) if a]
        pts = [(q["purity"]["purity_k1"], q["robust"].estimate.value) for q in path] + \
              [(c["purity"]["purity_k1"], c["robust"].estimate.value) for c in ckpt if "robust" in c]
        evidence["spearman(purity k=1, robust error) over the curves' layers"] = _spearman(*zip(*pts))
        evidence["pretraining"] = {
            f"train.eps={e:g}": [{"fraction": f, "seconds": round(s, 2)} for f, _, s in R.pretrain(st.pretrain(e))]
            for e in dict.fromkeys((p.train.eps, 0.0))}
        con = contrastive_rows(st)
        audits += con.pop("_audit")
        # issue 6: a reported row, computed after everything the verdict reads; no condition reads it
        evidence["contrastive_layer (reported, not judged)"] = con
        e2e_first = R.robust(st.e2e(first), ev).estimate
        figs = [
            {"id": "p5_dose_response", "kind": "curves", "intervals": "errorbars",
             "title": f"Clean head on a frozen layer: robust error vs layer purity (eps={p.eval.eps:g}, {first.name})",
             "xlabel": "layer purity (activity-weighted mean top-1 loading)", "ylabel": "robust error of the clean head",
             "series": [{"label": f"mixing path Q(t), b={p.net.b:g}",
                         "points": [_pt(q["purity"]["purity_k1"], q["robust"].estimate) for q in path]},
                        {"label": "pre-training checkpoints",
                         "points": [_pt(c["purity"]["purity_k1"], c["robust"].estimate) for c in ckpt if "robust" in c]}],
             "hlines": [{"y": e2e_first.value, "label": "end-to-end clean training"}]},
            eps_figure(st, first)]
        audits += [a for a in (R.audit_row(R.robust(k, ev, float(e))) for e in p.grid.eps
                               for k in (R.HeadKey(st.layer("pretrained"), first, st.clean_head), st.e2e(first))) if a]
    for r in judged[:1] + [r for r in judged if r["layer"] != "pure"][:1]:
        keys += [key_number(f"robust error, clean head [{r['layer']} / {r['task']}]", r["robust"]["clean_head"].estimate),
                 key_number(f"robust error, adversarial head [{r['layer']} / {r['task']}]",
                            r["robust"]["adversarial_head"].estimate),
                 key_number(f"robustness gain over end-to-end [{r['layer']} / {r['task']}] (paired)",
                            r["robustness_gain"])]
    if judged:
        keys.append(key_number(f"robust error, end-to-end clean [{judged[0]['task']}]",
                               judged[0]["robust"]["e2e"].estimate))
    for r in extra:
        keys.append(key_number(f"robust error, clean head [{r['layer']} / {r['task']}] (reported)",
                               r["robust"]["clean_head"].estimate))
    keys.append(key_number(f"collapse along the mixing path (t={path[-1]['t']:g} minus pure, paired)",
                           R.paired(path[-1]["robust"], path[0]["robust"], ev.level)))
    out = Outcome("P5", conds, evidence=evidence, key_numbers=keys, figures=figs,
                  method="batched frozen-layer heads + Monte Carlo over exact or verified per-input decisions; "
                         "paired differences", robustness_audit=_unique(audits))
    if p.report.region_map:
        rmap = p5_region_map(params)
        out.regions = [rmap]
        out.evidence["region_map"] = {k: v for k, v in rmap.items() if k != "cells"}
        out.robustness_audit = _unique(out.robustness_audit + rmap.pop("_audit"))
        out.key_numbers += [key_number("region map cells where P5's pre-trained rows hold",
                                       Estimate.exact(sum(c["verdict"] == "pass" for c in rmap["cells"]))),
                            key_number("region map cells where they fail",
                                       Estimate.exact(sum(c["verdict"] == "fail" for c in rmap["cells"])))]
    return out


def _pt(x: float, e: Estimate) -> dict:
    return {"x": float(x), "value": e.value, "lower": e.lower, "upper": e.upper}


# --------------------------------------------------------------------------- P5's region map

MAP_AXES = ("train.eps", "head.lr", "train.init_scale", "net.width", "train.threshold", "train.optimiser")
_AXIS_GRID = {"train.eps": "train_eps", "head.lr": "head_lr", "train.init_scale": "init_scale", "net.width": "width",
              "train.threshold": "threshold", "train.optimiser": "optimiser"}


def map_cells(params) -> list[dict]:
    """The declared cells in grid order: the headline, then each axis's values one at a time (duplicates once)."""
    head = {a: params.get(a) for a in MAP_AXES}
    cells, seen = [dict(head)], {tuple(head.values())}
    for a in MAP_AXES:
        for v in getattr(params.grid, _AXIS_GRID[a]):
            c = {**head, a: v}
            if tuple(c.values()) not in seen:
                seen.add(tuple(c.values()))
                cells.append(c)
    return cells


def cell_params(params, cell: dict):
    """A cell: the headline's parameters with the cell's axis values, judging the pre-trained layer only."""
    return params.with_values({**cell, "net.layers": ("pretrained",), "report.region_map": False,
                               "report.curves": False})


def p5_cell(params) -> dict:
    """One region-map cell (a sweep task): the pre-trained layer's rows at ``params``."""
    out = p5_rows_check(params)
    rows = out.evidence["rows"]
    numbers = {}
    for r in rows:
        for k in ("clean_gap", "inheritance_gap", "robustness_gain"):
            numbers[f"{k} [{r['task']}]"] = r[k]["value"]
            numbers[f"{k} [{r['task']}] sound end"] = r[k]["interval"][1 if k != "robustness_gain" else 0]
        numbers[f"layer purity k=1 [{r['task']}]"] = r["layer_purity_k1"]
    failed = [c.describe() + f" -> {c.verdict}" for c in out.conditions if c.verdict != "pass"]
    return {"verdict": out.verdict, "numbers": numbers, "failed": failed[:3], "_audit": out.robustness_audit}


def p5_region_map(params) -> dict:
    cells = map_cells(params)
    calls = [(p5_cell, cell_params(params, c)) for c in cells]
    results, stats = run_tasks(calls, params.grid.scheduler, progress=progress_ticker("P5 region map", len(calls)))
    rows = [{"params": c, "verdict": r["verdict"], "numbers": r["numbers"]} for c, r in zip(cells, results)]
    rmap = region_map("p5_region", "P5's pre-trained layer rows around the headline (one axis at a time)", MAP_AXES,
                      rows, cells[0])
    rmap["judges"] = "the pre-trained layer's rows (clean gap, robust-error gap, robustness gain) on task.covered"
    rmap["failed_conditions"] = [{"params": c, "failed": r["failed"]} for c, r in zip(cells, results) if r["failed"]]
    rmap["sweep"] = {k: v for k, v in stats.to_dict().items() if k in ("scheduler", "workers", "tasks")}
    rmap["_audit"] = sum((r["_audit"] for r in results), [])
    return rmap


# =========================================================================== P5m


def check_p5m(params) -> Outcome:
    st = Setting(params)
    j, ev = params.judge, st.ev
    conds, ev_rows, figs, keys, audits = [], [], [], [], []
    for tk in st.rho_tasks:
        path = mixing_path(st, tk)
        base = R.clean(st.e2e(tk), ev)
        base_r = R.robust(st.e2e(tk), ev)
        for q in path[1:]:
            conds.append(condition(f"clean error gap (mixed t={q['t']:g} head - end-to-end) [{tk.name}] ({PAIRED})",
                                   R.paired(q["clean"], base, ev.level), "below", j.clean_tol))
        conds.append(condition(f"collapse: robust error at t={path[-1]['t']:g} minus t=0 [{tk.name}] ({PAIRED})",
                               R.paired(path[-1]["robust"], path[0]["robust"], ev.level), "above", j.collapse_min))
        audits += [a for a in (R.audit_row(q["robust"]) for q in path) if a] + [a for a in [R.audit_row(base_r)] if a]
        ev_rows.append({"task": tk.name, "end_to_end": {"clean_error": R.est_dict(base.estimate),
                                                        "robust_error": R.est_dict(base_r.estimate)},
                        "path": path_rows(path)})
        ts = [q["t"] for q in path]
        figs.append({"id": f"p5m_clean_error_{tk.name}", "kind": "curves", "intervals": "errorbars",
                     "title": f"Mixed frozen layers (b={params.net.b:g}): clean and robust error of the clean head",
                     "xlabel": "mixing t", "ylabel": "error",
                     "series": [{"label": "clean error", "points": curve_points(ts, [q["clean"].estimate for q in path])},
                                {"label": f"robust error eps={params.eval.eps:g}",
                                 "points": curve_points(ts, [q["robust"].estimate for q in path])}],
                     "hlines": [{"y": base.estimate.value, "label": "end-to-end clean error"}]})
        worst = max(path[1:], key=lambda q: q["clean"].estimate.value)
        keys += [key_number(f"clean error gap, mixed t={worst['t']:g} [{tk.name}] (paired)",
                            R.paired(worst["clean"], base, ev.level)),
                 key_number(f"collapse t={path[-1]['t']:g} minus pure [{tk.name}] (paired)",
                            R.paired(path[-1]["robust"], path[0]["robust"], ev.level))]
    out = Outcome("P5m", conds, evidence={"rows": ev_rows}, figures=figs, key_numbers=keys,
                  method="batched heads + Monte Carlo over exact or verified per-input decisions; paired",
                  robustness_audit=_unique(audits))
    bad = [c for c in out.conditions if c.verdict == "fail"]
    if bad:
        out.counterexample = {"condition": bad[0].name, "estimate": bad[0].estimate.to_dict(), "b": params.net.b}
    return out


# =========================================================================== P5d


def scaled(params, d: int, law: str) -> dict:
    """The setting at dimension d under a sparsity law (the a-priori rules of ``scaling.*``)."""
    s = params.scaling
    f = (d / 16.0) ** s.steps_power
    return {"d": d, "k": k_at(d, params.model.k, law), "width": max(1, round(s.width_per_d * d)),
            "support": max(2, min(d - 1, round(s.support_fraction * d))), "train_steps": max(1, round(params.train.steps * f)),
            "head_steps": max(1, round(params.head.steps * f)), "e2e_steps": max(1, round(params.e2e.steps * f))}


def p5d_point(task: tuple) -> dict:
    """One (d, law) point of P5d (a sweep task): the pure and pre-trained layers' rows on the correlated task."""
    import time

    t0 = time.process_time()
    params, d, law = task
    sc = scaled(params, d, law)
    mcfg = model_cfg(params.model, d, sc["k"])
    tks = [R.TaskSpec(d, "correlated", sc["support"], float(r), params.task.seed) for r in params.task.rho]
    ev = eval_spec(params.eval)
    h = params.head
    clean_h = R.HeadSpec(sc["head_steps"], h.batch, h.lr, 0.0, params.eval.norm, 0.0, 1, h.seed)
    adv_h = R.HeadSpec(sc["head_steps"], h.batch, h.lr, h.eps, params.eval.norm, h.eps_ramp, h.pgd_steps, h.seed)
    pure = R.LayerSpec("pure", mcfg, b=params.net.b)
    pre = R.LayerSpec("pretrained", mcfg, pretrain=pretrain_spec(params.train, mcfg, tks[0], sc["width"],
                                                                 steps=sc["train_steps"]))
    e = params.e2e
    R.heads([R.HeadKey(lay, tk, hs) for tk in tks for lay in (pure, pre) for hs in (clean_h, adv_h)])
    rows, conds, audits = [], [], []
    for tk, lay in [(tk, lay) for tk in tks for lay in (pure, pre)]:
        bl = R.E2ESpec(mcfg, tk, sc["width"], sc["e2e_steps"], e.batch, e.lr, e.seed)
        ch, ah = R.HeadKey(lay, tk, clean_h), R.HeadKey(lay, tk, adv_h)
        rob = {"clean_head": R.robust(ch, ev), "adversarial_head": R.robust(ah, ev), "e2e": R.robust(bl, ev)}
        cle = {"clean_head": R.clean(ch, ev), "e2e": R.clean(bl, ev)}
        r = {"layer": lay.name, "task": f"{tk.name}, d={d}", "rho": tk.rho,
             "clean_gap": R.paired(cle["clean_head"], cle["e2e"], ev.level),
             "inheritance_gap": R.paired(rob["clean_head"], rob["adversarial_head"], ev.level),
             "robustness_gain": R.paired(rob["e2e"], rob["clean_head"], ev.level),
             "purity": R.layer_report(lay, tk, params.purity.tau, params.purity.samples, params.purity.seed),
             "robust": {k: R.est_dict(v.estimate) for k, v in rob.items()},
             "clean": {k: R.est_dict(v.estimate) for k, v in cle.items()}}
        conds += row_conditions(r, params.judge, params.eval.eps, params.eval.norm)
        audits += [a for a in (R.audit_row(v) for v in rob.values()) if a]
        rows.append(r)
    from ..verdict import combine

    verdict = combine(c.verdict for c in conds)
    return {"d": d, "law": law, "k": sc["k"], "setting": sc, "verdict": verdict,
            "seconds": round(time.process_time() - t0, 2),
            "conditions": [c.to_dict() for c in conds],
            "rows": [{**{k: v for k, v in r.items() if k not in ("clean_gap", "inheritance_gap", "robustness_gain")},
                      **{k: r[k].to_dict() for k in ("clean_gap", "inheritance_gap", "robustness_gain")}}
                     for r in rows],
            "audit": audits}


def slope(ds, ests: list[dict]) -> Estimate:
    """Least-squares slope of values vs log2 d; the interval takes each point's interval end that moves the slope
    most (a conservative propagation of the per-d intervals, each at their level)."""
    x = np.log2(np.asarray(ds, dtype=float))
    c = (x - x.mean()) / np.sum((x - x.mean()) ** 2)
    v = np.array([e["value"] for e in ests])
    lo = np.array([e["lower"] for e in ests])
    hi = np.array([e["upper"] for e in ests])
    s = float(c @ v)
    lower = float(np.where(c > 0, c * lo, c * hi).sum())
    upper = float(np.where(c > 0, c * hi, c * lo).sum())
    return Estimate(s, min(lower, s), max(upper, s), "mc", level=ests[0].get("level", 0.99),
                    details={"propagated": "per-d interval ends (conservative)", "x": "log2 d"})


def check_p5d(params) -> Outcome:
    # one task per distinct (d, k): the laws agree at d = 16 (k(16) = model.k under every law)
    wanted = [(law, d, k_at(d, params.model.k, law)) for law in params.scaling.laws for d in params.grid.d]
    unique = list(dict.fromkeys((d, k) for _, d, k in wanted))
    calls = [(p5d_point, (params, d, next(law for law, dd, kk in wanted if (dd, kk) == (d, k)))) for d, k in unique]
    computed, stats = run_tasks(calls, params.grid.scheduler, progress=progress_ticker("P5d points", len(calls)),
                                costs=[d for d, _ in unique])  # cost grows with d: the largest go first on dask
    by_dk = dict(zip(unique, computed))
    results = [{**by_dk[(d, k)], "law": law} for law, d, k in wanted]
    conds, scaling, audits = [], [], []
    from ..verdict import Condition

    for law in params.scaling.laws:
        pts = [r for r in results if r["law"] == law]
        for r in pts:
            for c in r["conditions"]:
                conds.append(Condition(f"[{law}, d={r['d']}] {c['name']}", Estimate(**{
                    k: c["estimate"][k] for k in ("value", "lower", "upper", "method", "level", "n")}),
                    c["side"], c["threshold"], c["verdict"]))
            audits += [{**a, "net": f"{a['net']} (d={r['d']}, {law})"} for a in r["audit"]]
        slopes = []
        for li in range(len(pts[0]["rows"])):
            row0 = pts[0]["rows"][li]
            tag = f"{row0['layer']}, rho={row0['rho']:g}"
            gains = [r["rows"][li]["robustness_gain"] for r in pts]
            sl = slope([r["d"] for r in pts], gains)
            slopes.append({"name": f"slope of the robustness gain in log2 d ({tag})", **sl.to_dict()})
            conds.append(condition(f"[{law}] slope of the robustness gain in log2 d ({tag})", sl, "above",
                                   params.judge.slope_min))
            gaps = [r["rows"][li]["inheritance_gap"] for r in pts]
            g = slope([r["d"] for r in pts], gaps)
            slopes.append({"name": f"slope of the robust-error gap to the adversarial head in log2 d ({tag})",
                           **g.to_dict()})
        first = next((r for r in pts if r["verdict"] != "pass"), None)
        ff = None
        if first is not None:
            bad = [c for c in first["conditions"] if c["verdict"] != "pass"]
            ff = {"d": first["d"], "verdict": first["verdict"],
                  "reason": "; ".join(f"{c['name']}: {c['estimate']['value']:.3g} "
                                      f"[{c['estimate']['lower']:.3g}, {c['estimate']['upper']:.3g}] must be "
                                      f"{'>' if c['side'] == 'above' else '<'} {c['threshold']:g} -> {c['verdict']}"
                                      for c in bad[:3]),
                  "counterexample": {"d": first["d"], "k": first["k"], "law": law, "setting": first["setting"]}}
        scaling.append({"id": f"p5d_scaling_{law}", "title": f"P5's inheritance rows as d grows ({law})",
                        "x": "model.d", "law": law.replace("k_constant", "k constant").replace("k_sqrt_d", "k ~ sqrt(d)"),
                        "points": [{"d": r["d"], "k": r["k"], "verdict": r["verdict"],
                                    "numbers": _point_numbers(r)} for r in pts],
                        "slopes": slopes, "first_failure": ff})
    figs = []
    for li, lname in enumerate(("pure", "pretrained")):
        series = []
        for law in params.scaling.laws:
            pts = [r for r in results if r["law"] == law]
            for ri in range(li, len(pts[0]["rows"]), 2):
                series.append({"label": f"{pts[0]['rows'][ri]['layer']}, rho={pts[0]['rows'][ri]['rho']:g}, {law}",
                               "points": [{"x": float(r["d"]), **{k: r["rows"][ri]["robustness_gain"][k]
                                                                 for k in ("value", "lower", "upper")}} for r in pts]})
        figs.append({"id": f"p5d_gain_{lname}", "kind": "curves", "xscale": "log", "intervals": "errorbars",
                     "title": f"Robustness gain over end-to-end training vs d ({lname} layer)",
                     "xlabel": "d", "ylabel": "robust error (end-to-end) - robust error (clean head)", "series": series,
                     "hlines": [{"y": params.judge.gain_min, "label": "judge.gain_min"}]})
    keys = [key_number(s["name"] + f" [{sc['law']}]", Estimate(s["value"], s["lower"], s["upper"], s["method"],
                                                                 level=s["level"]))
            for sc in scaling for s in sc["slopes"] if "gain" in s["name"]]
    out = Outcome("P5d", conds, evidence={"points": results, "sweep": stats.to_dict()}, scaling=scaling, figures=figs,
                  key_numbers=keys, robustness_audit=audits,
                  method="P5's rows per (d, law) as sweep tasks; least-squares slopes with propagated intervals")
    bad = [s for s in scaling if s["first_failure"]]
    if bad:
        out.counterexample = bad[0]["first_failure"]
    return out


def _point_numbers(r: dict) -> dict:
    out = {}
    for row in r["rows"]:
        tag = f"{row['layer']}, rho={row['rho']:g}"
        for k in ("clean_gap", "inheritance_gap", "robustness_gain"):
            out[f"{k} ({tag})"] = row[k]["value"]
        out[f"robust error clean head ({tag})"] = row["robust"]["clean_head"]["value"]
        out[f"purity k=1 ({tag})"] = row["purity"]["purity_k1"]
    out["robust error end-to-end"] = r["rows"][0]["robust"]["e2e"]["value"]
    return out


# =========================================================================== D1


def _d1_pretrain(params, norm: str, eps: float | None = None) -> R.DigitsPretrain:
    t, d = params.train, params.data
    e = getattr(t, f"eps_{norm}") if eps is None else eps
    return R.DigitsPretrain(d.seed, d.pretask, params.net.width, e, norm if e else "l2", t.threshold if e else "shared",
                            t.steps, t.batch, t.lr, t.eps_ramp if e else 0.0, t.pgd_steps, d.seed)


def _d1_layer(params, norm: str) -> R.DigitsLayer:
    if params.net.layers == ("random",):
        return R.DigitsLayer("random", width=params.net.width, seed=params.net.random_seed)
    return R.DigitsLayer("pretrained", _d1_pretrain(params, norm))


def _d1_head(params, lay: R.DigitsLayer, adv_norm: str | None) -> R.DigitsHead:
    h, d = params.head, params.data
    eps = 0.0 if adv_norm is None else getattr(params.eval, f"eps_{adv_norm}")
    return R.DigitsHead(lay, d.seed, d.task, h.steps, h.batch, h.lr, eps, adv_norm or "l2",
                        h.eps_ramp if eps else 0.0, h.pgd_steps if eps else 1, h.seed)


def _d1_eval(params) -> R.DigitsEval:
    e = params.eval
    return R.DigitsEval(e.level, e.pgd_steps, e.pgd_restarts, e.verify_branches, e.seed, e.verify_samples,
                        e.verify_restarts, e.verify_polish, e.verify_relaxation)


def _digits_purity(params, lay: R.DigitsLayer) -> dict:
    from numerics.digits import network_dictionary_purity
    from numerics.purity import REPORTED_K, top_k_loading

    D = _dictionary(params.data.seed, params.dictionary)
    dg = R.digits_data(params.data.seed)
    fl = R.digits_layer(lay)
    net = fl.with_head(np.ones(fl.m))
    pur = network_dictionary_purity(net, D, dg.x_train, tau=params.dictionary.tau)
    W = fl.W / np.maximum(np.linalg.norm(fl.W, axis=1, keepdims=True), 1e-300)
    C = W @ (D / np.linalg.norm(D, axis=1, keepdims=True)).T  # cosines with the (coherent) atoms
    w = np.asarray(pur["nodes"]["weight"])
    out = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in pur.items() if k != "nodes"}
    out.update({f"top{k}_cosine": round(float(w @ top_k_loading(C, k)), 4) for k in REPORTED_K})
    return out


_DICTIONARIES: dict = {}


def _dictionary(seed: int, dct) -> np.ndarray:
    from numerics.digits import learn_dictionary

    key = (seed, dct.atoms, dct.alpha, dct.max_iter, dct.seed)
    if key not in _DICTIONARIES:
        _DICTIONARIES[key] = learn_dictionary(R.digits_data(seed).x_train, dct.atoms, alpha=dct.alpha,
                                              max_iter=dct.max_iter, seed=dct.seed)
    return _DICTIONARIES[key]


def check_d1(params) -> Outcome:
    j, ev = params.judge, _d1_eval(params)
    clean_layer = R.DigitsLayer("pretrained", _d1_pretrain(params, "l2", eps=0.0))
    conds, rows, audits, keys = [], [], [], []
    layers = {"clean": clean_layer}
    for norm in params.eval.norms:
        eps = getattr(params.eval, f"eps_{norm}")
        lay = _d1_layer(params, norm)
        layers[lay.name] = lay
        ch, cc, ah = _d1_head(params, lay, None), _d1_head(params, clean_layer, None), _d1_head(params, lay, norm)
        r_ch, r_cc, r_ah = (R.digits_robust(h, ev, eps, norm) for h in (ch, cc, ah))
        c_ch, c_cc = R.digits_clean(ch, ev), R.digits_clean(cc, ev)
        # accuracy differences = error differences reversed
        clean_diff = R.paired(c_cc, c_ch, ev.level)
        gain = R.paired(r_cc, r_ch, ev.level)
        gap = R.paired(r_ch, r_ah, ev.level)
        conds += [condition(f"clean accuracy: head on {lay.name} layer minus on clean layer ({PAIRED})", clean_diff,
                            "above", -j.clean_tol),
                  condition(f"{norm} robust accuracy gain at eps={eps:g}: head on {lay.name} layer minus on clean "
                            f"layer ({PAIRED})", gain, "above", j.gain_min),
                  condition(f"{norm} inheritance gap at eps={eps:g}: adversarial head minus clean head on "
                            f"{lay.name} layer ({PAIRED})", gap, "below", j.inherit_tol)]
        audits += [a for a in (R.audit_row(s) for s in (r_ch, r_cc, r_ah)) if a]
        rows.append({"norm": norm, "eps": eps, "layer": lay.name,
                     "clean_accuracy": {"clean head on layer": R.est_dict(R.accuracy(c_ch)),
                                        "clean head on clean layer": R.est_dict(R.accuracy(c_cc))},
                     "robust_accuracy (verified)": {"clean head on layer": R.est_dict(R.accuracy(r_ch)),
                                                    "clean head on clean layer": R.est_dict(R.accuracy(r_cc)),
                                                    "adversarial head on layer": R.est_dict(R.accuracy(r_ah))},
                     "differences": {"clean accuracy": R.est_dict(clean_diff), "robust accuracy gain": R.est_dict(gain),
                                     "inheritance gap": R.est_dict(gap)}})
        keys += [key_number(f"verified robust accuracy, clean head on {lay.name} layer ({norm} {eps:g})",
                            R.accuracy(r_ch)),
                 key_number(f"verified robust accuracy, clean head on clean layer ({norm} {eps:g})", R.accuracy(r_cc)),
                 key_number(f"inheritance gap ({norm} {eps:g}, paired)", gap)]
    figs = []
    for norm in params.eval.norms:
        grid = getattr(params.grid, f"eps_{norm}")
        series = []
        for name, lay in layers.items():
            if name != "clean" and name not in [r["layer"] for r in rows if r["norm"] == norm]:
                continue
            pts = [R.digits_robust(_d1_head(params, lay, None), ev, float(e), norm) for e in grid]
            audits += [a for a in (R.audit_row(s) for s in pts) if a]
            series.append({"label": f"clean head on {name} layer (verified)",
                           "points": curve_points(grid, [R.accuracy(s) for s in pts])})
        figs.append({"id": f"d1_robust_accuracy_{norm}", "kind": "curves", "intervals": "errorbars",
                     "title": f"Digits {params.data.task} head on frozen layers: verified robust accuracy vs {norm} "
                              f"radius", "xlabel": f"{norm} radius", "ylabel": "robust accuracy (test)",
                     "series": series})
    info = {}
    for name, lay in layers.items():
        d = {"purity vs learned dictionary (k = 1, 2, 3 top cosines)": _digits_purity(params, lay)}
        if lay.kind == "pretrained":
            d.update(R.digits_pretrained(lay.pretrain)[1])
        info[name] = d
    dct = params.dictionary
    D = _dictionary(params.data.seed, dct)
    evidence = {"data": R.digits_data(params.data.seed).summary(), "judged": rows, "layers": info,
                "dictionary": {"method": "MiniBatchDictionaryLearning", "atoms": dct.atoms, "alpha": dct.alpha,
                               "max_iter": dct.max_iter, "seed": dct.seed,
                               "max_coherence": float(np.max(np.abs(D @ D.T - np.eye(D.shape[0]))))}}
    return Outcome("D1", conds, evidence=evidence, figures=figs, key_numbers=keys, robustness_audit=_unique(audits),
                   method="training on digits + complete verification of the test points; paired differences")

