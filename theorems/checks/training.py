"""Checks of the training family: P3 and P3d, each ``check(params) -> Outcome``.

P3 (C1, C2). From the same random init and data (paired over seeds), adversarial training ends
with purified nodes, clean training ends dense and vulnerable, and adversarial training keeps
clean accuracy within a margin while lowering the robust error by a margin. Every seed trains
clean and adversarially in ONE batched run (theorems.trained_nets).

Intervals and sides (fixed before any run):

- purity numbers: Student t over seeds (``judge.seed_level``), paired where two nets of a seed
  are compared (same init and data);
- robust errors: ``numerics.risk.robust_error(method="verified")`` per net (complete
  verification of each sampled input; Clopper-Pearson at ``eval.level``; undecided inputs widen
  the interval, so its width comes from sampling and unknowns only). "Clean nets vulnerable" is
  judged on the lower limit (the smallest over seeds); the robustness gain on a paired interval
  built from the sound sides: per seed, the clean net's *proven* error rate minus the AT net's
  *possible* one (proven + undecided) for the lower end, the converse for the upper end (the
  two nets of a seed are evaluated on the same inputs), and a Student t over seeds (the seeds'
  inputs are independent, so sampling noise is inside the seed-to-seed spread);
- clean errors: exact per sample; per seed the paired difference on common inputs, Student t
  over seeds.

Each verified net is audited: the errors verification proved that the suite's PGD (``eval.pgd_*``,
run inside the verifier) did not find (``Outcome.robustness_audit``).

P3d. P3's check at every d of ``grid.d`` under each law of ``scaling.laws`` (points are tasks
of theorems.explore.sweep.run_tasks), and the scaling statement: log-log slopes in d of the
activity-weighted n_eff of the AT and clean nets, and of the critical-radius ratio AT / clean in
d/k, least squares per seed, Student t over seeds. The critical radius of a net is the A4 level
(half of what the net classifies correctly on the inputs is broken), bracketed by a two-sided
bisection on the verified robust error of its inputs (:func:`critical_radius`).

The region map of P3 (``report.region_map``): the cells of ``grid.*`` (one axis at a time around
the headline, plus the optional eps x lr slice), each P3's check at ``grid.seeds`` seeds, run
as tasks (``grid.scheduler``); :func:`theorems.explore.common.region_map` summarises it.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from functools import cache

import numpy as np

from numerics.attacks.pgd import PGDSettings
from numerics.estimates import Estimate, mean
from numerics.risk import VerifiedDecisions, clean_error, paired_risk_difference, robust_error

from .. import trained_nets as tn
from ..explore.common import level_of, region_map
from ..explore.sweep import progress_ticker, run_tasks
from ..parameters.vocabulary import REFERENCE_D, k_at
from ..verdict import Condition, Outcome, combine, condition, key_number

MAX_GROWTHS = 8  # critical radius: at most 8 steps of eval.radius_growth from eval.eps before bisecting


# =========================================================================== settings of a P3 cell


def data_of(params) -> tn.DataModel:
    m = params.model
    return tn.DataModel(m.d, m.k, m.sigma, m.dictionary, m.dictionary_seed, m.task)


def training_of(params) -> tn.Training:
    t = params.train
    return tn.Training(width=params.net.width, activation=params.net.activation, eps=t.eps, norm=t.norm,
                       optimiser=t.optimiser, lr=t.lr, momentum=t.momentum, steps=t.steps, batch=t.batch,
                       init_scale=t.init_scale, threshold=t.threshold, b_init=t.b_init, pgd_steps=t.pgd_steps,
                       pgd_restarts=t.pgd_restarts, eps_ramp=t.eps_ramp, n_train=t.n_train, dtype=t.dtype)


def seeds_of(params) -> tuple[int, ...]:
    return tuple(range(params.seeds.first, params.seeds.first + params.seeds.n))


@dataclass(frozen=True)
class EvalSetting:
    """What an evaluation of a trained net depends on (P3's eval section, hashable for the caches)."""

    norm: str
    verify_samples: int
    samples: int
    level: float
    seed: int
    pgd_steps: int
    pgd_restarts: int
    verify_branches: int
    verify_restarts: int
    verify_polish: int
    verify_relaxation: str
    zero_threshold: bool

    @classmethod
    def of(cls, ev) -> "EvalSetting":
        return cls(ev.norm, ev.verify_samples, ev.samples, ev.level, ev.seed, ev.pgd_steps, ev.pgd_restarts,
                   ev.verify_branches, ev.verify_restarts, ev.verify_polish, ev.verify_relaxation, ev.zero_threshold)

    def verify(self) -> dict:
        from numerics.verification import Budget, SearchOptions

        pgd = PGDSettings(steps=self.pgd_steps, restarts=self.pgd_restarts)
        return {"budget": Budget(branches=self.verify_branches),
                "options": SearchOptions(pgd=pgd, extra_restarts=self.verify_restarts, polish_iters=self.verify_polish,
                                         relaxation=self.verify_relaxation)}


# =========================================================================== evaluations (cached)


def _net(data: tn.DataModel, training: tn.Training, seed: int, zero_threshold: bool):
    net = tn.trained_one(data, training, seed).net
    return tn.with_zero_threshold(net) if zero_threshold else net


@cache
def robust_at(data: tn.DataModel, training: tn.Training, seed: int, ev: EvalSetting, eps: float) -> Estimate:
    """Verified robust error of one trained net at ``eps`` on ``ev.verify_samples`` inputs (seed ``ev.seed + seed``)."""
    net = _net(data, training, seed, ev.zero_threshold)
    return robust_error(net, data.model(), data.wstar(), eps, ev.norm, method="verified",
                        samples=ev.verify_samples, seed=ev.seed + seed, level=ev.level, verify=ev.verify())


@cache
def clean_at(data: tn.DataModel, training: tn.Training, seed: int, ev: EvalSetting, samples: int) -> Estimate:
    net = _net(data, training, seed, ev.zero_threshold)
    return clean_error(net, data.model(), data.wstar(), method="mc", samples=samples, seed=ev.seed + seed,
                       level=ev.level)


@cache
def clean_gap(data: tn.DataModel, adv: tn.Training, clean: tn.Training, seed: int, ev: EvalSetting) -> Estimate:
    """Clean error of the AT net minus the clean net's on common inputs (paired within the seed)."""
    return paired_risk_difference(_net(data, adv, seed, ev.zero_threshold), _net(data, clean, seed, ev.zero_threshold),
                                  data.model(), data.wstar(), "clean_error", method="mc", samples=ev.samples,
                                  seed=ev.seed + seed, level=ev.level)


@cache
def purity_at(data: tn.DataModel, training: tn.Training, seed: int, pur, zero_threshold: bool) -> tn.Purity:
    return tn.purity_of(data, _net(data, training, seed, zero_threshold), tau=pur.tau, top_k=pur.top_k,
                        samples=pur.samples, seed=pur.seed + seed)


def error_counts(est: Estimate) -> tuple[int, int, int]:
    """``(proven, possible, n)`` errors of a verified robust error (ties are proven errors)."""
    d = est.details
    proven = int(d.get("attackable", 0)) + int(d.get("ties", 0))
    return proven, proven + int(d.get("unknown", 0)), int(est.n)


def audit_entry(label: str, est: Estimate, eps: float, norm: str) -> dict:
    """One row of Outcome.robustness_audit (results SCHEMA): verified errors against those the suite's PGD found."""
    d = est.details
    proven, _, n = error_counts(est)
    missed = int(d.get("pgd_missed", 0))
    unknown = int(d.get("unknown", 0))
    return {"net": label, "eps": eps, "norm": norm, "samples": n, "pgd_errors": proven - missed,
            "verified_errors": proven, "unknown": unknown, "missed_by_pgd": missed,
            "decided_fraction": 1.0 - unknown / n if n else float("nan")}


# =========================================================================== the P3 check at one cell


@dataclass
class Cell:
    """P3's check at one parameter point: conditions, per-seed numbers, audits, figure data."""

    conditions: list[Condition]
    numbers: dict
    evidence: dict
    audit: list[dict]
    clean_purity: list
    adv_purity: list

    @property
    def verdict(self) -> str:
        return combine(c.verdict for c in self.conditions)


def _t_interval(values, level: float, **details) -> Estimate:
    return mean(np.asarray(values, dtype=float), level=level, **details)


def _sided_mean(values, lows, highs, level: float, **details) -> Estimate:
    """Mean over seeds of ``values`` with a t-interval from the per-seed sound ``lows`` and ``highs``."""
    lo = _t_interval(lows, level)
    hi = _t_interval(highs, level)
    v = float(np.mean(values))
    return Estimate(min(max(v, lo.lower), hi.upper), lo.lower, hi.upper, "mc", level=level, n=len(values),
                    details=details)


def evaluate_cell(params) -> Cell:
    """Train (cached, batched) and evaluate P3's nets at ``params``; the conditions of P3's statement."""
    data, adv = data_of(params), training_of(params)
    clean = adv.replace(eps=0.0)
    seeds = seeds_of(params)
    tn.trained(data, [(clean, s) for s in seeds] + [(adv, s) for s in seeds])  # one batch: clean and AT, all seeds
    ev, pur, j = EvalSetting.of(params.eval), params.purity, params.judge
    zt = ev.zero_threshold
    cp = [purity_at(data, clean, s, pur, zt) for s in seeds]
    ap = [purity_at(data, adv, s, pur, zt) for s in seeds]
    lvl = j.seed_level
    log_ratio = _t_interval(np.log([c.n_eff / a.n_eff for c, a in zip(cp, ap)]), lvl, paired=True)
    share = _t_interval([a.share for a in ap], lvl)
    clean_neff = _t_interval([c.n_eff for c in cp], lvl)
    eps = params.eval.eps
    rob_c = [robust_at(data, clean, s, ev, eps) for s in seeds]
    rob_a = [robust_at(data, adv, s, ev, eps) for s in seeds]
    vuln = Estimate(min(r.value for r in rob_c), min(r.lower for r in rob_c), min(r.upper for r in rob_c), "verified",
                    level=ev.level, details={"per_seed": [r.to_dict() for r in rob_c]})
    cnt_c, cnt_a = [error_counts(r) for r in rob_c], [error_counts(r) for r in rob_a]
    gain = _sided_mean([rc.value - ra.value for rc, ra in zip(rob_c, rob_a)],
                       [c[0] / c[2] - a[1] / a[2] for c, a in zip(cnt_c, cnt_a)],
                       [c[1] / c[2] - a[0] / a[2] for c, a in zip(cnt_c, cnt_a)], lvl,
                       sides="per seed: clean proven - AT possible (lower end), clean possible - AT proven (upper)")
    gaps = [clean_gap(data, adv, clean, s, ev) for s in seeds]
    clean_gap_t = _t_interval([g.value for g in gaps], lvl, paired=True)
    r_txt = f"{params.eval.norm} robust error at eps={eps:g}"
    conds = [
        condition(f"log(n_eff clean / n_eff AT), paired over seeds (> log {j.neff_ratio:g})", log_ratio, "above",
                  float(np.log(j.neff_ratio))),
        condition(f"AT: activity share on ({pur.tau:g}, k={pur.top_k})-purified nodes", share, "above", j.share),
        condition(f"clean: activity-weighted n_eff (> {j.clean_neff_fraction:g} d)", clean_neff, "above",
                  j.clean_neff_fraction * params.model.d),
        condition(f"clean: verified {r_txt}, smallest over seeds (lower limit)", vuln, "above", j.vulnerable),
        condition("clean error AT - clean, paired over seeds", clean_gap_t, "below", j.clean_margin),
        condition(f"{r_txt}: clean - AT, paired over seeds (sound sides)", gain, "above", j.robust_gain),
    ]
    audit = [audit_entry(f"clean seed {s}", r, eps, ev.norm) for s, r in zip(seeds, rob_c)] + \
            [audit_entry(f"AT seed {s}", r, eps, ev.norm) for s, r in zip(seeds, rob_a)]
    runs = []
    for kind, tr, purs, robs in (("clean", clean, cp, rob_c), ("AT", adv, ap, rob_a)):
        for s, p, r in zip(seeds, purs, robs):
            run = tn.trained_one(data, tr, s)
            runs.append({"net": kind, "seed": s, **p.numbers(), "clean_error": clean_at(data, tr, s, ev, ev.samples).value,
                         "robust_error": r.to_dict(), "final_loss": run.final_loss,
                         "batch_runs": run.batch_runs, "batch_wall_s": round(run.batch_seconds, 2)})
    numbers = {"neff_ratio": float(np.exp(log_ratio.value)), "neff_ratio_lower": float(np.exp(log_ratio.lower)),
               "at_share": share.value, "at_share_lower": share.lower,
               **{f"at_share_k{k}": float(np.mean([a.share_by_k[k] for a in ap])) for k in ap[0].share_by_k},
               "clean_neff": clean_neff.value, "at_neff": float(np.mean([a.n_eff for a in ap])),
               "clean_robust_lower_min": vuln.lower, "at_robust_upper_max": max(r.upper for r in rob_a),
               "robust_gain": gain.value, "robust_gain_lower": gain.lower,
               "clean_error_gap": clean_gap_t.value, "clean_error_gap_upper": clean_gap_t.upper}
    evidence = {"runs": runs, "log_ratio": log_ratio.to_dict(), "at_purified_share": share.to_dict(),
                "clean_n_eff": clean_neff.to_dict(), "clean_robust_min": vuln.to_dict(), "robust_gain": gain.to_dict(),
                "clean_error_gap": clean_gap_t.to_dict(), "clean_error_gap_per_seed": [g.to_dict() for g in gaps],
                "verification": _verification_summary(audit)}
    return Cell(conds, numbers, evidence, audit, cp, ap)


def _verification_summary(audit: list[dict]) -> dict:
    n = sum(a["samples"] for a in audit)
    unknown = sum(a["unknown"] for a in audit)
    return {"nets": len(audit), "inputs": n, "decided_fraction": 1.0 - unknown / n if n else float("nan"),
            "unknown": unknown, "verified_errors": sum(a["verified_errors"] for a in audit),
            "missed_by_pgd": sum(a["missed_by_pgd"] for a in audit)}


def cell_summary(params) -> dict:
    """A region-map task: P3's check at one cell, as plain data (verdict, key numbers, failing conditions)."""
    cell = evaluate_cell(params)
    return {"verdict": cell.verdict, "numbers": cell.numbers,
            "failed": [f"{c.describe()} -> {c.verdict}" for c in cell.conditions if c.verdict != "pass"],
            "verification": cell.evidence["verification"]}


# =========================================================================== P3


def check_p3(params) -> Outcome:
    cell = evaluate_cell(params)
    p = params
    ev = EvalSetting.of(p.eval)
    data, adv = data_of(p), training_of(p)
    figs = [_purity_histogram(cell, p), _robust_by_seed(cell, p)]
    lr = cell.conditions[0].estimate
    keys = [key_number("n_eff clean / n_eff AT (geometric mean)",
                       Estimate(float(np.exp(lr.value)), float(np.exp(lr.lower)), float(np.exp(lr.upper)), "mc",
                                level=lr.level)),
            key_number(f"AT purified share (tau={p.purity.tau:g}, k={p.purity.top_k})", cell.conditions[1].estimate),
            key_number(f"robust error gain clean - AT at eps={p.eval.eps:g} (verified, sound sides)",
                       cell.conditions[5].estimate),
            key_number("clean error AT - clean", cell.conditions[4].estimate)]
    evidence = {"setting": {"data": dataclasses.asdict(data), "training": dataclasses.asdict(adv),
                            "eval": dataclasses.asdict(ev), "seeds": list(seeds_of(p))}, **cell.evidence}
    out = Outcome("P3", cell.conditions, evidence=evidence, key_numbers=keys, figures=figs,
                  method="training + verified robust errors + Student t over seeds", robustness_audit=cell.audit)
    if p.report.region_map:
        out.regions = [p3_region_map(p)]
    return out


def _purity_histogram(cell: Cell, p) -> dict:
    fid = "p3_purity_hist" if p.train.eps > 0 and p.train.threshold == "shared" and not p.eval.zero_threshold else \
        f"p3_purity_hist_{p.train.threshold}_{p.train.eps:g}{'_b0' if p.eval.zero_threshold else ''}"
    return {"id": fid, "kind": "histogram", "title": "Effective features per node, weighted by activity (all seeds)",
            "xlabel": "effective number of features n_eff", "bins": 32,
            "series": [{"label": "clean training", "values": [v for c in cell.clean_purity for v in c.node_n_eff],
                        "weights": [v for c in cell.clean_purity for v in c.node_weight]},
                       {"label": f"adversarial training (eps={p.train.eps:g})",
                        "values": [v for a in cell.adv_purity for v in a.node_n_eff],
                        "weights": [v for a in cell.adv_purity for v in a.node_weight]}]}


def _robust_by_seed(cell: Cell, p) -> dict:
    """Verified robust error at eval.eps of every trained net, by seed (band: sampling and undecided inputs)."""
    series = []
    for label, kind in (("clean-trained", "clean"), (f"AT-trained (eps={p.train.eps:g})", "AT")):
        pts = [{"x": float(r["seed"]), "value": r["robust_error"]["value"], "lower": r["robust_error"]["lower"],
                "upper": r["robust_error"]["upper"]} for r in cell.evidence["runs"] if r["net"] == kind]
        series.append({"label": label, "points": pts})
    return {"id": "p3_robust_error", "kind": "curves",
            "title": f"Verified {p.eval.norm} robust error at eps={p.eval.eps:g} by training seed "
                     f"(band: sampling and undecided inputs)",
            "xlabel": "training seed", "ylabel": "robust error", "series": series}


# --------------------------------------------------------------------------- region map

MAP_AXES = ("train.eps", "train.lr", "train.init_scale", "net.width", "train.threshold", "train.optimiser")
_AXIS_GRID = {"train.eps": "eps", "train.lr": "lr", "train.init_scale": "init_scale", "net.width": "width",
              "train.threshold": "threshold", "train.optimiser": "optimiser"}


def map_cells(params) -> list[dict]:
    """The declared cells (axis values) in grid order: headline, each axis alone, then the eps x lr slice."""
    g = params.grid
    head = {a: params.get(a) for a in MAP_AXES}
    cells = [dict(head)]
    for a in MAP_AXES:
        for v in getattr(g, _AXIS_GRID[a]):
            cells.append({**head, a: v})
    for e in g.slice_eps:
        for lr in g.slice_lr:
            cells.append({**head, "train.eps": e, "train.lr": lr})
    out, seen = [], set()
    for c in cells:
        k = tuple(c[a] for a in MAP_AXES)
        if k not in seen:
            seen.add(k)
            out.append(c)
    return out


def cell_params(params, cell: dict):
    return params.with_values({**cell, "seeds.n": params.grid.seeds, "report.region_map": False})


def p3_region_map(params) -> dict:
    cells = map_cells(params)
    calls = [(cell_summary, cell_params(params, c)) for c in cells]
    results, stats = run_tasks(calls, params.grid.scheduler, progress=progress_ticker("P3 region map", len(calls)))
    rows = [{"params": c, "verdict": r["verdict"], "numbers": r["numbers"]} for c, r in zip(cells, results)]
    rmap = region_map("p3_region", "P3 around its headline (one axis at a time, plus the eps x lr slice)",
                      MAP_AXES, rows, cells[0])
    rmap["seeds_per_cell"] = params.grid.seeds
    rmap["failed_conditions"] = [{"params": c, "failed": r["failed"]} for c, r in zip(cells, results) if r["failed"]]
    rmap["verification"] = [r["verification"] for r in results]
    rmap["sweep"] = {k: v for k, v in stats.to_dict().items() if k in ("scheduler", "workers", "tasks")}
    return rmap


# =========================================================================== critical radii


def critical_radius(data: tn.DataModel, training: tn.Training, seed: int, ev: EvalSetting, start: float,
                    growth: float, halvings: int) -> dict:
    """Bracket ``[lower, upper]`` of the net's empirical critical radius on its inputs (A4 level).

    The level is ``ce + (1 - ce) / 2`` with ``ce`` the net's clean error on the same inputs. Per
    radius the verifier's decisions give the proven and the possible (proven + undecided) error
    counts, both non-decreasing in the radius: ``upper`` is the smallest radius found broken on
    the proven count, ``lower`` the largest found safe on the possible one. From ``start`` the
    radius is multiplied (not broken) or divided (broken) by ``growth`` until the verdict flips,
    at most ``MAX_GROWTHS`` times (``upper = inf`` when never broken), then ``halvings``
    bisections; one bisection serves both ends while no undecided input separates them (then
    each end is bisected on its own). The inputs (``ev.verify_samples``, seed ``ev.seed + seed``)
    are those of :func:`robust_at`; at each radius only the inputs that no earlier radius decides
    are verified (:class:`numerics.risk.VerifiedDecisions`).
    """
    ce = clean_at(data, training, seed, ev, ev.verify_samples).value
    level = level_of(ce)
    seen: dict[float, tuple[bool, bool]] = {0.0: (ce >= level, ce < level)}  # eps -> (broken, safe)
    decide = VerifiedDecisions(_net(data, training, seed, ev.zero_threshold), data.model(), data.wstar(), ev.norm,
                               samples=ev.verify_samples, seed=ev.seed + seed, verify=ev.verify())

    def look(e: float) -> bool:
        if e not in seen:
            proven, possible, n = decide.counts(e)
            seen[e] = (proven / n >= level, possible / n < level)
        return seen[e][0]

    def brackets():
        up_a = max((e for e, (b, _) in seen.items() if not b), default=0.0)
        up_b = min((e for e, (b, _) in seen.items() if b), default=math.inf)
        lo_a = max((e for e, (_, s) in seen.items() if s), default=0.0)
        lo_b = min((e for e, (_, s) in seen.items() if not s), default=math.inf)
        return up_a, up_b, lo_a, lo_b

    if not seen[0.0][0]:
        e = start
        broken = look(e)
        for _ in range(MAX_GROWTHS):
            e = e * growth if not broken else e / growth
            if look(e) != broken:
                break
        for _ in range(halvings):
            up_a, up_b, lo_a, lo_b = brackets()
            if math.isfinite(up_b):
                look(0.5 * (up_a + up_b))
            up_a, up_b, lo_a, lo_b = brackets()
            if math.isfinite(lo_b) and (lo_a, lo_b) != (up_a, up_b):
                look(0.5 * (lo_a + lo_b))
    up_a, up_b, lo_a, lo_b = brackets()
    return {"lower": float(lo_a), "upper": float(up_b), "level": float(level), "clean_error": float(ce),
            "evaluations": len(seen) - 1, "verified_inputs": decide.verified_rows,
            "inputs_x_radii": decide.n * (len(seen) - 1)}


# =========================================================================== P3d


def p3_at(params, d: int, law: str):
    """P3's parameters at dimension d under sparsity law ``law`` (the scaling rules of ``scaling.*``)."""
    from ..catalogue.training import P3Eval, P3Judge, P3Model, P3Net, P3Params, P3Report, P3Seeds

    sc, tr, m = params.scaling, params.train, params.model
    f = d / REFERENCE_D
    train = dataclasses.replace(tr, steps=max(1, int(round(tr.steps * f ** sc.steps_power))),
                                lr=tr.lr * f ** sc.lr_power, init_scale=tr.init_scale * f ** sc.init_power)
    pick = lambda cls, sec: cls(**{x.name: getattr(sec, x.name) for x in fields(cls)})  # noqa: E731
    return P3Params(model=P3Model(d=d, k=k_at(d, m.k, law), sigma=m.sigma, dictionary=m.dictionary,
                                  dictionary_seed=m.dictionary_seed, task=m.task),
                    net=P3Net(width=max(1, int(round(sc.width_per_d * d))), activation=params.net.activation),
                    train=train, eval=pick(P3Eval, params.eval), purity=params.purity,
                    seeds=pick(P3Seeds, params.seeds), judge=pick(P3Judge, params.judge),
                    report=P3Report(region_map=False))


def scaling_point(payload) -> dict:
    """A P3d task: P3's check at one d (verdict and numbers) plus every net's critical-radius bracket."""
    p3, growth, halvings, branches = payload
    cell = evaluate_cell(p3)
    data, adv = data_of(p3), training_of(p3)
    clean = adv.replace(eps=0.0)
    ev = dataclasses.replace(EvalSetting.of(p3.eval), verify_branches=branches)
    seeds = seeds_of(p3)
    radii = {kind: [critical_radius(data, tr, s, ev, p3.eval.eps, growth, halvings) for s in seeds]
             for kind, tr in (("clean", clean), ("AT", adv))}
    return {"d": p3.model.d, "k": p3.model.k, "width": p3.net.width, "verdict": cell.verdict,
            "numbers": cell.numbers, "failed": [f"{c.describe()} -> {c.verdict}" for c in cell.conditions
                                                if c.verdict != "pass"],
            "n_eff_clean": [c.n_eff for c in cell.clean_purity], "n_eff_at": [a.n_eff for a in cell.adv_purity],
            "share_by_k_at": [a.share_by_k for a in cell.adv_purity], "radius": radii, "audit": cell.audit,
            "verification": cell.evidence["verification"]}


def _slopes(x, ys) -> np.ndarray:
    """Least-squares slope of each row of ``ys`` (seeds x points) against ``x``."""
    x = np.asarray(x, float)
    c = (x - x.mean()) / np.sum((x - x.mean()) ** 2)
    return np.asarray(ys, float) @ c


def slope_estimate(x, mid, lo, hi, level: float, **details) -> Estimate:
    """Mean over seeds of per-seed log-log slopes, a t-interval widened by each point's bracket [lo, hi].

    ``mid``, ``lo``, ``hi``: (seeds, points) arrays of the logged quantity (lo <= mid <= hi). The
    lower end takes, per seed, the slope through the bracket ends that make it smallest.
    """
    x = np.asarray(x, float)
    c = (x - x.mean()) / np.sum((x - x.mean()) ** 2)
    mid, lo, hi = (np.asarray(a, float) for a in (mid, lo, hi))
    with np.errstate(invalid="ignore"):
        s_mid = mid @ c
        s_lo = np.where(c > 0, lo, hi) @ c
        s_hi = np.where(c > 0, hi, lo) @ c
    n = mid.shape[0]
    if not (np.all(np.isfinite(s_lo)) and np.all(np.isfinite(s_hi))):
        v = float(np.nanmean(s_mid)) if np.any(np.isfinite(s_mid)) else 0.0
        return Estimate(v, -math.inf, math.inf, "mc", level=level, n=n,
                        details={**details, "note": "a critical radius was not bracketed (a net never broken)"})
    t = _t_interval(s_mid, level)
    half = t.upper - t.value
    v = float(s_mid.mean())
    lower, upper = float(s_lo.mean() - half), float(s_hi.mean() + half)
    return Estimate(min(max(v, lower), upper), lower, upper, "mc", level=level, n=n,
                    details={**details, "per_seed": s_mid.tolist(), "per_seed_lower": s_lo.tolist(),
                             "per_seed_upper": s_hi.tolist()})


def check_p3d(params) -> Outcome:
    p, j = params, params.judge
    points = {(law, d): p3_at(p, d, law) for law in p.scaling.laws for d in p.grid.d}
    unique = list(dict.fromkeys(points.values()))
    calls = [(scaling_point, (q, p.eval.radius_growth, p.eval.bisection, p.eval.radius_branches)) for q in unique]
    # cost ~ steps x width x d (a training step's matmuls): the d = 512 points go first on dask
    results, stats = run_tasks(calls, p.grid.scheduler, progress=progress_ticker("P3d points", len(calls)),
                               costs=[q.train.steps * q.net.width * q.model.d for q in unique])
    by = {q: r for q, r in zip(unique, results)}
    conds, scaling, audit, keys = [], [], [], []
    lvl = j.seed_level
    for law in p.scaling.laws:
        rows = [by[points[(law, d)]] for d in p.grid.d]
        ds = np.array([r["d"] for r in rows], float)
        ks = np.array([r["k"] for r in rows], float)
        at = np.log(np.array([r["n_eff_at"] for r in rows]).T)  # (seeds, points)
        cl = np.log(np.array([r["n_eff_clean"] for r in rows]).T)
        s_at = slope_estimate(np.log(ds), at, at, at, lvl, quantity="n_eff AT")
        s_cl = slope_estimate(np.log(ds), cl, cl, cl, lvl, quantity="n_eff clean")
        ra_lo, ra_hi, ra_mid = _ratio_arrays(rows)
        s_ratio = slope_estimate(np.log(ds / ks), ra_mid, ra_lo, ra_hi, lvl, quantity="eps_c AT / eps_c clean")
        tag = law.replace("_", " ")
        conds += [condition(f"[{tag}] log-log slope of n_eff (AT) in d", s_at, "below", j.at_slope_max),
                  condition(f"[{tag}] log-log slope of n_eff (clean) in d", s_cl, "above", j.clean_slope_min),
                  condition(f"[{tag}] log-log slope of eps_c(AT)/eps_c(clean) in d/k", s_ratio, "above",
                            j.ratio_slope_lo),
                  condition(f"[{tag}] log-log slope of eps_c(AT)/eps_c(clean) in d/k", s_ratio, "below",
                            j.ratio_slope_hi)]
        keys += [key_number(f"[{tag}] slope of n_eff AT in d", s_at),
                 key_number(f"[{tag}] slope of n_eff clean in d", s_cl),
                 key_number(f"[{tag}] slope of the radius ratio in d/k", s_ratio)]
        pts = [_point_record(r, ra_mid[:, i], ra_lo[:, i], ra_hi[:, i]) for i, r in enumerate(rows)]
        bad = [(r, pt) for r, pt in zip(rows, pts) if r["verdict"] != "pass"]
        first = None
        if bad:
            r, pt = bad[0]
            first = {"d": r["d"], "reason": r["failed"][0] if r["failed"] else r["verdict"],
                     "counterexample": {"model.d": r["d"], "model.k": r["k"], "net.width": r["width"],
                                        "verdict": r["verdict"], "numbers": pt["numbers"]}}
        scaling.append({"id": f"p3_scaling_{law}", "title": f"P3 as d grows, {tag} (k = {p.model.k:g} at d = 16)",
                        "x": "model.d", "law": {"k_constant": "k constant", "k_sqrt_d": "k ~ sqrt(d)",
                                                "k_linear": "k ~ d"}[law],
                        "points": pts,
                        "slopes": [{"name": n, **_slope_dict(e)} for n, e in (
                            ("log-log slope of n_eff (AT) vs d", s_at), ("log-log slope of n_eff (clean) vs d", s_cl),
                            ("log-log slope of eps_c(AT)/eps_c(clean) vs d/k", s_ratio))],
                        "first_failure": first})
        for r in rows:
            audit += [{**a, "net": f"d={r['d']} {law} {a['net']}"} for a in r["audit"]]
    audit = list({a["net"]: a for a in audit}.values())  # d = 16 is the same point under both laws
    evidence = {"points": [{"law": law, "d": d, "verdict": by[points[(law, d)]]["verdict"],
                            "failed": by[points[(law, d)]]["failed"],
                            "verification": by[points[(law, d)]]["verification"]}
                           for law in p.scaling.laws for d in p.grid.d],
                "sweep": {k: v for k, v in stats.to_dict().items() if k in ("scheduler", "workers", "tasks")},
                "scaling_rules": dataclasses.asdict(p.scaling)}
    return Outcome("P3d", conds, evidence=evidence, key_numbers=keys, figures=_scaling_figures(scaling),
                   scaling=scaling, robustness_audit=audit,
                   method="training sweep in d + verified robust errors + slopes with Student t over seeds")


def _ratio_arrays(rows):
    """Per seed and point: log of the radius ratio AT / clean, its bracket ends and midpoint."""
    lo, hi, mid = [], [], []
    for r in rows:
        a, c = r["radius"]["AT"], r["radius"]["clean"]
        l_, h_, m_ = [], [], []
        for ra, rc in zip(a, c):
            with np.errstate(divide="ignore"):
                l_.append(np.log(ra["lower"] / rc["upper"]) if rc["upper"] > 0 and ra["lower"] > 0 else -math.inf)
                h_.append(np.log(ra["upper"] / rc["lower"]) if rc["lower"] > 0 else math.inf)
            ma = 0.5 * (ra["lower"] + ra["upper"])
            mc = 0.5 * (rc["lower"] + rc["upper"])
            m_.append(np.log(ma / mc) if math.isfinite(ma) and mc > 0 and ma > 0 else math.nan)
        lo.append(l_)
        hi.append(h_)
        mid.append(m_)
    return np.array(lo).T, np.array(hi).T, np.array(mid).T


def _point_record(r: dict, mid, lo, hi) -> dict:
    eps_at = [0.5 * (x["lower"] + x["upper"]) for x in r["radius"]["AT"]]
    eps_cl = [0.5 * (x["lower"] + x["upper"]) for x in r["radius"]["clean"]]
    num = {"n_eff_at": float(np.mean(r["n_eff_at"])), "n_eff_clean": float(np.mean(r["n_eff_clean"])),
           "eps_c_at": float(np.mean(eps_at)), "eps_c_clean": float(np.mean(eps_cl)),
           "radius_ratio": float(np.exp(np.nanmean(mid))) if np.any(np.isfinite(mid)) else None,
           "radius_ratio_lower": _finite(np.exp(np.min(lo))), "radius_ratio_upper": _finite(np.exp(np.max(hi))),
           "sqrt_d_over_k": float(np.sqrt(r["d"] / r["k"])), "width": r["width"],
           **{k: v for k, v in r["numbers"].items() if k in ("neff_ratio", "at_share", "at_share_k2", "at_share_k3",
                                                             "robust_gain_lower", "clean_error_gap_upper",
                                                             "clean_robust_lower_min")}}
    return {"d": r["d"], "k": r["k"], "verdict": r["verdict"], "numbers": num,
            "radii": r["radius"]}


def _finite(v) -> float | None:
    return float(v) if math.isfinite(v) else None


def _slope_dict(e: Estimate) -> dict:
    return {"value": e.value, "lower": e.lower, "upper": e.upper, "method": e.method, "level": e.level}


def _scaling_figures(scaling: list[dict]) -> list[dict]:
    figs = []
    for s in scaling:
        pts = s["points"]

        def line(key):
            return [{"x": pt["d"], "value": pt["numbers"][key], "lower": pt["numbers"][key],
                     "upper": pt["numbers"][key]} for pt in pts if pt["numbers"].get(key) is not None]

        figs.append({"id": f"{s['id']}_neff", "kind": "curves", "title": f"n_eff per node vs d ({s['law']})",
                     "xlabel": "d", "ylabel": "activity-weighted n_eff (mean over seeds)", "xscale": "log",
                     "yscale": "log", "series": [{"label": "clean training", "points": line("n_eff_clean")},
                                                 {"label": "adversarial training", "points": line("n_eff_at")}]})
        ratio = [{"x": pt["d"], "value": pt["numbers"]["radius_ratio"], "lower": pt["numbers"]["radius_ratio_lower"],
                  "upper": pt["numbers"]["radius_ratio_upper"]} for pt in pts
                 if pt["numbers"].get("radius_ratio") is not None and pt["numbers"]["radius_ratio_upper"] is not None]
        figs.append({"id": f"{s['id']}_ratio", "kind": "curves",
                     "title": f"Critical-radius ratio AT / clean vs d ({s['law']})", "xlabel": "d",
                     "ylabel": "eps_c(AT) / eps_c(clean)", "xscale": "log", "yscale": "log",
                     "series": [{"label": "trained nets (band over seeds)", "points": ratio},
                                {"label": "sqrt(d/k)", "points": line("sqrt_d_over_k")}]})
    return figs
