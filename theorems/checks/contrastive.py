"""Check of the contrastive family: P4, ``check_p4(params) -> Outcome`` (paper claim C3).

The verdict: in the setting of the parameters (the registered defaults are the headline,
fixed a priori as the paper's model: theorems/catalogue/contrastive.py), the four variants
(a) both terms attacked, (b) negative-pair term only, (c) positive-pair term only, (d) none
train for every seed as one batched run; (a) must purify (activity-weighted top-k loading
gain over (d) above ``judge.gain_min``), (b) must be closer to (a) and (c) closer to (d)
(``judge.share``), each by a paired t-interval over seeds at ``eval.level``.

Reported beside it (never part of the verdict; off in the controls and the stress points):

- the region map (``report.region_map``): the same verdict in every cell of the declared
  grid ``grid.*`` (the headline is one cell), cells run as tasks of
  :func:`theorems.explore.sweep.run_tasks` on ``grid.scheduler`` (identical results on any
  scheduler), in ``Outcome.regions`` with the smallest counterexample;
- the sub-statements (``report.sub_statements``): the positive-pair statement along a mixing
  path and the clean contrastive loss's rotation invariance at b = 0 (S4 for the loss), each
  with its own sub-verdict;
- purity at k = 1, 2, 3 for every trained representation, and the clean linear probe's
  robust error: PGD for every net, verified (:func:`numerics.risk.robust_error`,
  ``method="verified"``) for the first ``report.verified_seeds`` seeds, with the audit of the
  errors the suite's PGD missed (``Outcome.robustness_audit``).

Other claims build on P4's headline through :func:`p4_params` and :func:`contrastive_config`.
"""
from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from numerics import ModelConfig, SparseCodingModel
from numerics.contrastive import VARIANTS, ContrastiveConfig
from numerics.estimates import Estimate, mean
from numerics.purity import REPORTED_K

from ..catalogue.contrastive import CELL_SECTIONS, parse_cell
from ..contrastive_checks import (METRICS, VARIANT_NAMES, CellSpec, PathSpec, ProbeSpec, VerifySpec, compute_cells,
                                  gram_dependence_sympy, loss_invariance_example, positive_pair_path, shares,
                                  sparse_model, summary, variant_conditions)
from ..protocol import draw_examples
from ..strategies import finite
from ..verdict import Condition, Outcome, combine, condition, key_number

FACTORIAL = ("train.loss", "train.augmentation", "train.threshold")


# ------------------------------------------------------------------ P4's setting as objects other claims use


def p4_params(profile: str = "quick", overrides: dict | None = None):
    """P4's registered parameters at ``profile`` (the headline), with ``{dotted key: value}`` overrides."""
    from ..registry import CLAIMS

    return CLAIMS["P4"].resolve(profile, overrides)


def model_config(params) -> ModelConfig:
    m = params.model
    return ModelConfig(d=m.d, p=min(1.0, m.k / m.d), sigma=m.sigma, dictionary=m.dictionary,
                       dictionary_seed=m.dictionary_seed)


def contrastive_model(params) -> SparseCodingModel:
    return sparse_model(model_config(params))


def contrastive_config(params) -> ContrastiveConfig:
    """The ContrastiveConfig of P4's parameters (log every tenth of the steps: the training-trace figure)."""
    t, n = params.train, params.net
    return ContrastiveConfig(loss=t.loss, temperature=t.temperature, normalisation=t.normalisation,
                             augmentation=t.augmentation, drop=t.drop, activation=n.activation, threshold=t.threshold,
                             b=t.b_init, width=n.width, init_scale=t.init_scale, steps=t.steps, batch=t.batch,
                             lr=t.lr, optimiser=t.optimiser, momentum=t.momentum, eps=t.eps, norm=t.norm,
                             pgd_steps=t.pgd_steps, pgd_restarts=t.pgd_restarts, eps_ramp=t.eps_ramp, dtype=t.dtype,
                             log_every=max(1, t.steps // 10))


def cell_spec(params, *, verified: bool = True) -> CellSpec:
    e, pr = params.eval, params.probe
    probe = ProbeSpec(eps=e.eps, norm=e.norm, samples=e.samples, pgd_steps=e.pgd_steps, pgd_restarts=e.pgd_restarts,
                      seed=e.seed, tau=params.purity.tau, wstar_seed=pr.wstar_seed, ridge=pr.ridge, steps=pr.steps)
    n_ver = params.report.verified_seeds if verified else 0
    ver = VerifySpec(n_ver, e.verify_samples, e.verify_branches, e.level) if n_ver else None
    seeds = tuple(range(params.seeds.first, params.seeds.first + params.seeds.n))
    return CellSpec(model_config(params), contrastive_config(params), seeds, probe, ver)


def path_spec(params, loss: str | None = None) -> PathSpec:
    """The positive-pair path at the setting, or at ``loss`` with l2-normalised representations."""
    t, p = params.train, params.path
    normalisation = t.normalisation if loss is None else "l2"
    return PathSpec(model=model_config(params), loss=t.loss if loss is None else loss, temperature=t.temperature,
                    normalisation=normalisation, augmentation=t.augmentation, drop=t.drop,
                    activation=params.net.activation, b=t.b_init, eps=t.eps, norm=t.norm, ts=params.grid.path_t,
                    n=p.n, negatives=p.negatives, steps=p.steps, restarts=p.restarts, seed=p.seed,
                    mixing_seed=params.net.mixing_seed, resist=params.judge.resist, level=params.eval.level)


# ------------------------------------------------------------------ the region map's cells


def region_cells(params) -> list[dict]:
    """The declared grid: the factorial ``grid.loss x grid.augmentation x grid.threshold`` (in that order), then the
    departures ``grid.extra``; each cell's overrides of the setting (an InfoNCE loss other than the setting's is
    l2-normalised: unnormalised InfoNCE is unbounded below)."""
    t, g = params.train, params.grid
    cells = []
    for loss in g.loss:
        for aug in g.augmentation:
            for thr in g.threshold:
                ov = {"train.loss": loss, "train.augmentation": aug, "train.threshold": thr}
                if loss != t.loss and loss.startswith("infonce"):
                    ov["train.normalisation"] = "l2"
                cells.append(ov)
    cells += [parse_cell(text) for text in g.extra]
    return cells


def cell_changes(cell_params, params) -> dict:
    """The setting keys (model, net, train) where a cell differs from the setting: ``{key: value}``."""
    a, b = cell_params.flat(), params.flat()
    return {k: a[k] for k in a if k.split(".")[0] in CELL_SECTIONS and a[k] != b[k]}


def _distance(changes: dict, params) -> float:
    """How far a cell is from the setting along its changed keys: |log ratio| of numbers, 1 per other value."""
    d = 0.0
    for k, v in changes.items():
        v0 = params.get(k)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 and v0 > 0:
            d += abs(math.log(v / v0))
        else:
            d += 1.0
    return d


def _code(cell_params, changes: dict) -> str:
    """Compact name for figure axes, e.g. ``spec/noise/rel`` (other changed keys appended)."""
    t = cell_params.train
    loss = {"spectral": "spec", "infonce": "nce", "infonce_std": "nce-std"}[t.loss]
    parts = [loss + ("+l2" if t.normalisation == "l2" else ""), {"noise": "noise", "dropout": "drop"}[t.augmentation],
             {"relative": "rel", "per_node": "node", "shared": "shared", "fixed": "fix"}[t.threshold]]
    shown = set(FACTORIAL) | {"train.normalisation"}
    parts += [f"{k.split('.', 1)[1]}={v:g}" if isinstance(v, float) else f"{k.split('.', 1)[1]}={v}"
              for k, v in changes.items() if k not in shown]
    return "/".join(parts)


def _label(changes: dict) -> str:
    return "setting" if not changes else ", ".join(f"{k}={v}" for k, v in changes.items())


def cell_verdict(res, params) -> tuple[str, list, dict]:
    """``(verdict, conditions, gains)`` of one computed cell (a diverged training is inconclusive)."""
    if res.diverged:
        return "inconclusive", [], {}
    j, level = params.judge, params.eval.level
    P = judged_purity(res, params)
    conds = variant_conditions(P, gain_min=j.gain_min, share=j.share, level=level, k=params.purity.top_k)
    gains = {name: mean(P[:, i] - P[:, 3], level, paired=True) for i, name in enumerate(VARIANTS[:3])}
    return combine(c.verdict for c in conds), conds, gains


def judged_purity(res, params) -> np.ndarray:
    k = params.purity.top_k
    return res.metrics["purity"] if k == 1 else res.metrics[f"purity_k{k}"]


def region_map(params, cells: list[dict], results: list) -> tuple[dict, dict, list]:
    """``(RegionMap for Outcome.regions, evidence, rows)`` of the computed cells (``results`` in ``cells`` order)."""
    rows = []
    for i, (ov, res) in enumerate(zip(cells, results)):
        cp = params.with_values({**ov, "report.region_map": False})
        changes = cell_changes(cp, params)
        verdict, conds, gains = cell_verdict(res, params)
        P = judged_purity(res, params) if not res.diverged else None
        numbers = {f"gain {VARIANT_NAMES[v][:3]}-(d)": g.value for v, g in enumerate(gains.values())}
        if P is not None:
            numbers.update({k: v for k, v in shares(P).items() if v is not None})
            numbers.update({f"condition {c + 1}": cond.estimate.value for c, cond in enumerate(conds)})
        rows.append({"index": i, "overrides": ov, "changes": changes, "label": _label(changes),
                     "code": _code(cp, changes), "verdict": verdict, "gains": gains, "numbers": numbers,
                     "shares": shares(P) if P is not None else {}, "headline": not changes,
                     "distance": _distance(changes, params),
                     "conditions": ([f"diverged: {res.diverged}"] if res.diverged else
                                    [f"{c.describe()} -> {c.verdict}" for c in conds])})
    axes = list(dict.fromkeys(("train.loss", "train.normalisation", "train.augmentation", "train.threshold")
                              + tuple(k for r in rows for k in r["overrides"])))
    axes = [a for a in axes if any(a in r["overrides"] or a in r["changes"] for r in rows)]

    def point(r):
        cp = params.with_values({**r["overrides"], "report.region_map": False})
        return {"params": {a: cp.get(a) for a in axes}, "verdict": r["verdict"], "numbers": r["numbers"]}

    def smallest(verdict):
        hits = [r for r in rows if r["verdict"] == verdict]
        return min(hits, key=lambda r: (len(r["changes"]), r["distance"], r["index"]), default=None)

    cex, hold = smallest("fail"), smallest("pass")
    counts = {v: [r["label"] for r in rows if r["verdict"] == v] for v in ("pass", "fail", "inconclusive")}
    holds_in = (f"holds in {len(counts['pass'])} of {len(rows)} cells ({'; '.join(counts['pass']) or 'none'}); fails in "
                f"{len(counts['fail'])} ({'; '.join(counts['fail']) or 'none'}); inconclusive in "
                f"{len(counts['inconclusive'])}")
    head = next((r for r in rows if r["headline"]), None)
    rmap = {"id": "p4_region", "title": "P4 over the declared grid (loss x augmentation x threshold rule, and the "
                                        "departures of grid.extra)",
            "axes": axes, "cells": [{**point(r), "headline": r["headline"]} for r in rows],
            "headline": point(head)["params"] if head else None, "holds_in": holds_in,
            "smallest_counterexample": None if cex is None else {**point(cex), "changed_keys": list(cex["changes"])}}

    def public(r):
        return None if r is None else {k: v for k, v in r.items() if k not in ("gains", "overrides", "index")}

    evidence = {"cells": [{**public(r), "gains": {k: e.to_dict() for k, e in r["gains"].items()}} for r in rows],
                "holds": counts["pass"], "fails": counts["fail"], "inconclusive": counts["inconclusive"],
                "smallest_holding": public(hold), "smallest_counterexample": public(cex),
                "order": "fewest changed keys from the setting, then nearest (|log ratio| of numbers, 1 per other "
                         "value), then grid order"}
    return rmap, evidence, rows


# ------------------------------------------------------------------ S4 for the contrastive loss


@st.composite
def mixing_draws(draw, params):
    """P4's S4 property: a seeded mixing direction and amount, a contrastive loss, its normalisation and temperature."""
    r = params.draw
    return {"mixing_seed": draw(st.integers(*r.mixing_seed)), "t": draw(finite(*r.t)),
            "loss": draw(st.sampled_from(r.loss)), "normalisation": draw(st.sampled_from(r.normalisation)),
            "temperature": draw(finite(*r.temperature))}


def invariance_outcome(params, b: float) -> Outcome:
    """Clean contrastive terms identical across drawn mixings Q at threshold b (b = 0: the S4 statement), plus sympy."""
    m, dr = params.model, params.draw
    model = ModelConfig(d=dr.d, p=min(1.0, m.k / dr.d), sigma=m.sigma, dictionary=m.dictionary,
                        dictionary_seed=m.dictionary_seed)
    tally = draw_examples("P4", "exact (float64 on a common sample) + sympy", mixing_draws(params),
                          loss_invariance_example, max_examples=dr.examples, model=model, b=b, anchors=dr.anchors,
                          negatives=dr.negatives, tol=params.judge.invariance_tol)
    facts = gram_dependence_sympy()
    out = tally.outcome({"sympy_facts": facts, "b": b})
    out.conditions.append(condition("sympy: terms are functions of W^T W (1 = yes)",
                                    Estimate.exact(float(all(facts.values()))), "above", 0.5))
    return out


def _sub_verdict(out: Outcome) -> dict:
    return {"verdict": out.verdict, **out.evidence, "conditions": [f"{c.describe()} -> {c.verdict}" for c in out.conditions]}


def path_evidence(path: dict) -> dict:
    rows = [{k: (v.to_dict() if isinstance(v, Estimate) else v) for k, v in r.items()} for r in path["rows"]]
    return {"rows": rows, "seeds": path["seeds"], "verdict": path["verdict"],
            "resistance_verdict": path["resistance_verdict"], "signal_verdict": path["signal_verdict"],
            "conditions": [f"{c.describe()} -> {c.verdict}" for c in path["conditions"]]}


# ------------------------------------------------------------------ evidence tables and figures


def variant_table(res, level: float) -> dict:
    tab = {}
    names = METRICS + tuple(f"purity_k{k}" for k in REPORTED_K) + tuple(f"purified_k{k}" for k in REPORTED_K)
    for v, name in enumerate(VARIANT_NAMES):
        row = {}
        for k in names:
            if k not in res.metrics:
                continue
            vals = res.metrics[k][:, v]
            row[k] = summary(vals, level).to_dict()
            if v != 3:
                row[f"{k} - (d)"] = mean(vals - res.metrics[k][:, 3], level, paired=True).to_dict()
        tab[name] = row
    return tab


def purity_by_k_table(res, level: float) -> dict:
    """Per variant and k = 1, 2, 3: mean top-k loading and (tau, k)-purified share (means over seeds, intervals)."""
    out = {}
    for v, name in enumerate(VARIANT_NAMES):
        out[name] = {str(k): {"mean_top_k_loading": summary(res.metrics[f"purity_k{k}"][:, v], level).to_dict(),
                              "purified_fraction": summary(res.metrics[f"purified_k{k}"][:, v], level).to_dict()}
                     for k in REPORTED_K if f"purity_k{k}" in res.metrics}
    return out


def variant_figures(res, level: float) -> list[dict]:
    def series(metric, label):
        ests = [summary(res.metrics[metric][:, i], level) for i in range(len(VARIANTS))]
        return {"label": label, "points": [{"x": n, "value": e.value, "lower": e.lower, "upper": e.upper}
                                           for n, e in zip(VARIANT_NAMES, ests)]}

    steps, trace = res.history["step"], res.history["purity_mean_over_seeds"]
    return [
        {"id": "p4_variants", "kind": "curves", "title": f"The four variants ({len(res.spec.seeds)} seeds, "
                                                         f"{level:g} CI)",
         "xlabel": "attack applied to", "ylabel": "value", "intervals": "errorbars",
         "series": [series("purity", "activity-weighted max-loading"),
                    series("coverage", f"feature coverage (tau={res.spec.probe.tau:g})"),
                    series("robust_error", "clean probe robust error (PGD)")]},
        {"id": "p4_training_trace", "kind": "curves", "title": "Node purity during training (mean over seeds)",
         "xlabel": "training step", "ylabel": "unweighted mean max-loading",
         "series": [{"label": VARIANT_NAMES[i], "points": [{"x": s, "value": row[i]} for s, row in zip(steps, trace)]}
                    for i in range(len(VARIANTS))]},
    ]


def region_figures(rows: list[dict], gain_min: float) -> list[dict]:
    rows = [r for r in rows if r["gains"]]  # diverged cells have no gains to draw
    if not rows:
        return []
    codes = [r["code"] for r in rows]
    cols = ["(a)-(d)", "(b)-(d)", "(c)-(d)", "verdict"]
    z = [[r["gains"][v].value for v in VARIANTS[:3]] + [None] for r in rows]
    text = [[f"{r['gains'][v].value:.3f}" for v in VARIANTS[:3]] + [r["verdict"]] for r in rows]
    top = max([abs(v) for row in z for v in row if v is not None] + [1e-6])
    heat = {"id": "p4_region_map", "kind": "heatmap", "title": "P4 region map: purity gain over clean (d)",
            "xlabel": "variant vs (d) clean", "ylabel": "setting (loss/augmentation/threshold rule)", "x": cols,
            "y": codes, "z": z, "text": text, "zlabel": "purity gain", "cmap": "RdBu_r", "vmin": -top, "vmax": top}
    series = [{"label": f"{VARIANT_NAMES[i]} - (d)",
               "points": [{"x": r["code"], "value": r["gains"][v].value, "lower": r["gains"][v].lower,
                           "upper": r["gains"][v].upper} for r in rows]} for i, v in enumerate(VARIANTS[:3])]
    curves = {"id": "p4_region_gains", "kind": "curves", "title": "Purity gain of each attacked variant over clean",
              "xlabel": "setting", "ylabel": "purity gain vs (d) [paired CI]", "series": series,
              "intervals": "errorbars", "hlines": [{"y": gain_min, "label": f"judge.gain_min = {gain_min:g}"}]}
    return [heat, curves]


def path_figures(path: dict, spec: PathSpec, fig_id: str) -> list[dict]:
    rows = path["rows"]

    def pts(key):
        return [{"x": r["t"], "value": r[key].value, "lower": r[key].lower, "upper": r[key].upper} for r in rows]

    return [{"id": fig_id, "kind": "curves",
             "title": f"Worst-case rise of each term along Q(t) ({spec.loss}, b={spec.b:g}, eps={spec.eps:g})",
             "xlabel": "mixing t (0 = pure)", "ylabel": f"mean rise of the term (PGD, {spec.level:g} CI)",
             "series": [{"label": "positive-pair term", "points": pts("positive_rise")},
                        {"label": "negative-pair term", "points": pts("negative_rise")},
                        {"label": "positive: signal S+(t)", "points": pts("positive_signal")},
                        {"label": "negative: signal S-(t)", "points": pts("negative_signal")}]}]


# ------------------------------------------------------------------ the check


def check_p4(params) -> Outcome:
    head = cell_spec(params)
    cells = region_cells(params) if params.report.region_map else []
    specs = [head]
    for ov in cells:
        cp = params.with_values({**ov, "report.region_map": False})
        spec = cell_spec(cp, verified=False)
        specs.append(head if spec == cell_spec(params, verified=False) else spec)
    computed, sweep = compute_cells(specs, params.grid.scheduler, desc="P4 cells")
    res = computed[head]
    level, j, k = params.eval.level, params.judge, params.purity.top_k
    method = ("adversarial contrastive training (4 variants x seeds, one batched run), paired t-intervals over seeds; "
              "PGD term attacks; region map as sweep tasks; mixing-path Monte Carlo; verified probe robust error")
    departures = cell_changes(params, type(params)())
    ev = {"setting": _label(departures) if departures else "the headline (registered setting)",
          "seeds": list(head.seeds),
          "seed_rule": "numerics.training.derive_seeds(seed) -> init, data, attack; same seed = same init and data",
          "training_config": head.config.to_dict(), "judged_top_k": k}
    if res.diverged:
        conds = [Condition(f"training of the setting stays finite ({res.diverged})", Estimate.exact(0.0), "above", 0.5,
                           "inconclusive")]
        return Outcome("P4", conds, evidence=ev, method=method)
    P = judged_purity(res, params)
    conds = variant_conditions(P, gain_min=j.gain_min, share=j.share, level=level, k=k)
    R = res.metrics["robust_error"]
    ev.update({"training_runtime_s": res.runtime_s, "variants": variant_table(res, level),
               "purity_by_k": purity_by_k_table(res, level),
               "purity_shares_of_full_attack_gain": shares(P), "robust_error_shares_of_full_attack_gain": shares(-R),
               "purity_per_seed": P.tolist(), "robust_error_pgd_per_seed": R.tolist(),
               "training_purity_trace": res.history})
    out = Outcome("P4", conds, evidence=ev, method=method)
    if out.verdict == "fail":
        out.counterexample = {"setting": ev["setting"],
                              "purity_means": dict(zip(VARIANTS, P.mean(0).round(4).tolist())),
                              "failing": [c.describe() for c in conds if c.verdict == "fail"]}
    out.key_numbers = [key_number(f"purity gain (a) both - (d) clean (k={k})", conds[0].estimate),
                       key_number(f"(b) neg-only gain - {j.share:g} x (a) gain", conds[1].estimate),
                       key_number(f"(c) pos-only gain - {j.share:g} x (a) gain", conds[2].estimate)]
    for kk in REPORTED_K:
        if kk != k and f"purity_k{kk}" in res.metrics:
            Pk = res.metrics[f"purity_k{kk}"]
            out.key_numbers.append(key_number(f"top-{kk} loading gain (a) - (d)", mean(Pk[:, 0] - Pk[:, 3], level,
                                                                                       paired=True)))
    out.figures = variant_figures(res, level)
    _verified(out, res)
    if cells:
        results = [computed[s] for s in specs[1:]]
        rmap, rev, rows = region_map(params, cells, results)
        out.regions = [rmap]
        out.evidence["region_map"] = {**rev, "sweep": sweep}
        out.figures += region_figures(rows, j.gain_min)
        out.key_numbers += [key_number("region map cells where P4 holds", Estimate.exact(len(rev["holds"]))),
                            key_number("region map cells where P4 fails", Estimate.exact(len(rev["fails"])))]
    if params.report.sub_statements:
        _sub_statements(out, params)
    return out


def _verified(out: Outcome, res) -> None:
    """The verified robust errors of the probes, their audit against the suite's PGD, and key numbers."""
    if not res.verified:
        return
    out.robustness_audit = [row["audit"] for row in res.verified]
    out.evidence["probe_robust_error_verified"] = {
        "method": "numerics.risk.robust_error(method='verified'): complete verification per sample; lower = proven "
                  "errors (sound side for 'robust error above'), upper = proven errors + unknowns (sound side for "
                  "'robust error below')",
        "rows": [{k: v for k, v in row.items() if k != "audit"} for row in res.verified],
        "pgd_missed_total": sum(r["audit"]["missed_by_pgd"] for r in res.verified),
        "unknown_total": sum(r["audit"]["unknown"] for r in res.verified)}
    first = res.spec.seeds[0]
    for row in res.verified:
        if row["seed"] == first and row["variant"] in (VARIANTS[0], VARIANTS[3]):
            d = {k: v for k, v in row["estimate"].items() if k != "details"}
            name = VARIANT_NAMES[VARIANTS.index(row["variant"])]
            out.key_numbers.append({"name": f"probe robust error, verified ({name}, seed {first})", **d})
    out.key_numbers.append(key_number("errors verification found that PGD missed (all verified probes)",
                                      Estimate.exact(out.evidence["probe_robust_error_verified"]["pgd_missed_total"])))


def _sub_statements(out: Outcome, params) -> None:
    """The positive-pair path (setting and ``path.compare_loss``) and S4's loss invariance, each with its sub-verdict."""
    spec = path_spec(params)
    path = positive_pair_path(spec)
    out.evidence["positive_pair_statement"] = path_evidence(path)
    out.figures += path_figures(path, spec, "p4_term_rise_path")
    end = path["rows"][-1]
    out.key_numbers += [key_number(f"positive-term rise at t={end['t']:g}", end["positive_rise"]),
                        key_number(f"negative-term rise at t={end['t']:g}", end["negative_rise"])]
    cmp_loss = params.path.compare_loss
    if cmp_loss != "none":
        cspec = path_spec(params, cmp_loss)
        cpath = positive_pair_path(cspec)
        out.evidence[f"positive_pair_statement_{cmp_loss}"] = {"setting": f"train.loss={cmp_loss}, "
                                                                          "train.normalisation=l2",
                                                               **path_evidence(cpath)}
        out.figures += path_figures(cpath, cspec, f"p4_term_rise_path_{cmp_loss}")
    inv = invariance_outcome(params, 0.0)
    ctl = invariance_outcome(params, params.judge.invariance_control_b)
    out.evidence["s4_contrastive_loss"] = {**_sub_verdict(inv), "control": {
        "b": params.judge.invariance_control_b, "expected": "fail", **_sub_verdict(ctl)},
        "holds_with_its_control": inv.verdict == "pass" and ctl.verdict == "fail"}
    out.examples = inv.examples
