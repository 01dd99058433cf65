"""Shared pieces of the Q1-Q10 checks: task dicts, critical radii with intervals, region maps, figures.

Every question module (``qNN_*.py``) defines

- ``ID`` ("Q1".."Q10") and ``QUESTION`` (one sentence, for ``purecheck explore --list``);
- ``plan(params) -> list[dict]``: the independent tasks of the check at ``params`` (the
  question's registered parameter set, :mod:`theorems.catalogue.questions`); each task is a
  JSON-able dict with a ``kind``, a ``key`` unique within the plan, and every seed and setting it
  uses, so that equal dicts are equal computations (computed once: the main check and its
  controls share their common tasks, and questions share identical training runs);
- ``compute(task) -> dict``: one task (a pure function of the dict; no timings in the result);
- ``judge(params, results) -> Outcome``: the verdict from ``{key: result}``;
- ``check(params) -> Outcome``: the three in this process (:func:`theorems.explore.check`), the
  function the registry names.

Conventions shared by the questions (fixed before any run, from the paper's propositions; each
is a parameter with its registered default): the critical radius of a net is the smallest eps
whose robust error reaches the level ``ce + (1 - ce) / 2`` (A4), ``ce`` the clean error of the
dense (Bayes-level) net; "purified nets are much more robust" is judged as the ratio of critical
radii pure / dense above ``judge.advantage`` (a null effect gives 1); purification by training is
judged as the activity-weighted mean (tau, k)-loading gap, adversarial minus clean, paired over
seeds, above ``judge.purity_gap``; intervals at ``eval.level``.
"""
from __future__ import annotations

import json
import math
from typing import Callable

import numpy as np

from numerics.estimates import Estimate, clopper_pearson, mean


def task(kind: str, key: str, **params) -> dict:
    """A task dict: ``kind`` selects the computation in the question's ``compute``."""
    return {"kind": kind, "key": key, **params}


def canonical(t: dict) -> str:
    """The identity of a task (keys sorted): equal dicts are computed once."""
    return json.dumps(t, sort_keys=True, default=float)


def level_of(clean_error: float) -> float:
    """The A4 breaking level: half of what the clean net gets right is lost."""
    return clean_error + 0.5 * (1.0 - clean_error)


# --------------------------------------------------------------------------- critical radii


def critical_radius(error_bounds: Callable[[float], tuple[float, float]], level: float, hi: float, *,
                    iters: int = 12, max_doublings: int = 40) -> dict:
    """An interval ``[lo, hi]`` that contains the critical radius, from bounds on the robust error.

    ``error_bounds(eps) -> (lower, upper)`` must be confidence bounds on a robust error that is
    non-decreasing in eps (exact: both equal the value up to slack; Monte Carlo: Clopper-Pearson
    limits of an attack (lower) and of a certificate (upper)). ``lo`` is the largest eps found
    whose *upper* bound is below ``level`` (the net provably survives there) and ``hi`` the
    smallest eps whose *lower* bound reaches ``level`` (provably broken): bisection on each side,
    ``iters`` halvings. ``hi`` is ``inf`` when the attack never breaks the net below
    ``hi * 2**max_doublings``.
    """
    def broken(e):  # attack side reaches the level
        return error_bounds(e)[0] >= level

    def safe(e):  # certificate side stays below the level
        return error_bounds(e)[1] < level

    top = hi
    for _ in range(max_doublings):
        if broken(top):
            break
        top *= 2.0
    else:
        top = math.inf
    # upper end: inf{eps: broken}
    if math.isinf(top):
        upper = math.inf
    else:
        a, b = 0.0, top
        for _ in range(iters):
            m = 0.5 * (a + b)
            a, b = (a, m) if broken(m) else (m, b)
        upper = b
    # lower end: sup{eps: safe}, searched below the upper end
    start = upper if math.isfinite(upper) else top if math.isfinite(top) else hi
    if safe(start):
        lower = start
    else:
        a, b = 0.0, start
        if not safe(0.0):
            return {"lower": 0.0, "upper": upper, "level": level}
        for _ in range(iters):
            m = 0.5 * (a + b)
            a, b = (m, b) if safe(m) else (a, m)
        lower = a
    return {"lower": float(lower), "upper": float(upper), "level": float(level)}


def exact_bounds(estimate_fn: Callable[[float], Estimate]) -> Callable[[float], tuple[float, float]]:
    """``error_bounds`` from a function returning an Estimate (exact or with an interval)."""
    def fn(eps):
        e = estimate_fn(eps)
        return e.lower, e.upper

    return fn


def mc_bounds(attack_errors: Callable[[float], np.ndarray], certified_errors: Callable[[float], np.ndarray],
              level: float) -> Callable[[float], tuple[float, float]]:
    """``error_bounds`` from per-sample 0/1 errors of an attack and of a certificate (Clopper-Pearson)."""
    def fn(eps):
        att = np.asarray(attack_errors(eps), dtype=bool)
        cert = np.asarray(certified_errors(eps), dtype=bool)
        lo, _ = clopper_pearson(int(att.sum()), att.size, level)
        _, hi = clopper_pearson(int(cert.sum()), cert.size, level)
        return lo, hi

    return fn


def radius_ratio(num: dict, den: dict, *, method: str) -> Estimate:
    """``num / den`` of two critical-radius intervals, as an interval Estimate."""
    lo = num["lower"] / den["upper"] if den["upper"] > 0 else math.inf
    hi = num["upper"] / den["lower"] if den["lower"] > 0 else math.inf
    mid_num = 0.5 * (num["lower"] + num["upper"]) if math.isfinite(num["upper"]) else num["lower"]
    mid_den = 0.5 * (den["lower"] + den["upper"])
    value = mid_num / mid_den if mid_den > 0 else math.inf
    value = min(max(value, lo), hi)
    return Estimate(value, lo, hi, method, details={"numerator": num, "denominator": den})


def paired_gap(a, b, level: float, **details) -> Estimate:
    """Mean of ``a - b`` over paired units (seeds) with a t-interval at ``level``."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return mean(a - b, level, paired=True, **details)


# --------------------------------------------------------------------------- regions and figures


def region(points: list[dict], verdicts: list[str], axes: tuple[str, ...], statement: str) -> dict:
    """Where the conclusion holds: the points (their ``axes`` values) grouped by verdict."""
    rows = [{**{a: p[a] for a in axes}, "verdict": v} for p, v in zip(points, verdicts)]
    holds = [{a: p[a] for a in axes} for p, v in zip(points, verdicts) if v == "pass"]
    fails = [{a: p[a] for a in axes} for p, v in zip(points, verdicts) if v == "fail"]
    undecided = [{a: p[a] for a in axes} for p, v in zip(points, verdicts) if v == "inconclusive"]
    return {"statement": statement, "axes": list(axes), "points": rows,
            "holds": len(holds), "fails": len(fails), "undecided": len(undecided),
            "summary": _summary(rows, axes)}


def region_map(map_id: str, title: str, axes: tuple[str, ...], cells: list[dict], headline: dict) -> dict:
    """A region map (results schema 2, ``RegionMap``) over a grid declared in the parameters.

    cells: ``[{"params": {axis: value}, "verdict": ..., "numbers": {...}}]`` in grid order (axes are
    dotted parameter keys where the axis is one); headline: the axis values of the headline
    cell. ``smallest_counterexample``: among failing cells, the one with the fewest axes changed
    from the headline, then the nearest (a numeric axis counts ``|change| / span of the axis``
    in the grid, any other axis 1 per change); ``None`` when no cell fails.
    """
    out_cells = [{"params": dict(c["params"]), "verdict": c["verdict"],
                  "numbers": {k: (float(v) if isinstance(v, (int, float, np.number)) and not isinstance(v, bool) else v)
                              for k, v in c.get("numbers", {}).items()},
                  "headline": all(c["params"].get(a) == headline.get(a) for a in axes)} for c in cells]
    spans = {}
    for a in axes:
        vals = [c["params"][a] for c in cells if isinstance(c["params"].get(a), (int, float))
                and not isinstance(c["params"].get(a), bool)]
        spans[a] = (max(vals) - min(vals)) if len(vals) == len(cells) and vals and max(vals) > min(vals) else None

    def distance(c) -> tuple[int, float]:
        changed = [a for a in axes if c["params"].get(a) != headline.get(a)]
        far = sum(abs(c["params"][a] - headline[a]) / spans[a] if spans[a] and isinstance(headline.get(a), (int, float))
                  else 1.0 for a in changed)
        return len(changed), far

    failing = [c for c in out_cells if c["verdict"] == "fail"]
    smallest = None
    if failing:
        best = min(failing, key=distance)
        smallest = {"params": best["params"], "verdict": "fail", "numbers": best["numbers"],
                    "changed_keys": [a for a in axes if best["params"].get(a) != headline.get(a)]}
    rows = [{**c["params"], "verdict": c["verdict"]} for c in out_cells]
    return {"id": map_id, "title": title, "axes": list(axes), "cells": out_cells, "headline": dict(headline),
            "holds_in": _summary(rows, axes) or None, "smallest_counterexample": smallest}


def _summary(rows: list[dict], axes) -> str:
    parts = []
    for v in ("pass", "fail", "inconclusive"):
        pts = [", ".join(f"{a}={_fmt(r[a])}" for a in axes) for r in rows if r["verdict"] == v]
        if pts:
            parts.append(f"{ {'pass': 'holds', 'fail': 'fails', 'inconclusive': 'undecided'}[v] } at "
                         + "; ".join(pts))
    return " | ".join(parts)


def _fmt(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def points_of(xs, estimates: list[Estimate]) -> list[dict]:
    out = []
    for x, e in zip(xs, estimates):
        up = e.upper if math.isfinite(e.upper) else None
        out.append({"x": x if isinstance(x, str) else float(x), "value": float(e.value), "lower": float(e.lower),
                    "upper": up})
    return out


def heatmap(fig_id: str, title: str, xs, ys, z, *, xlabel: str, ylabel: str, zlabel: str, text=None,
            vmin=None, vmax=None, cmap: str = "viridis") -> dict:
    spec = {"id": fig_id, "kind": "heatmap", "title": title, "x": [_fmt(x) for x in xs], "y": [_fmt(y) for y in ys],
            "z": [[None if (v is None or not math.isfinite(v)) else float(v) for v in row] for row in z],
            "xlabel": xlabel, "ylabel": ylabel, "zlabel": zlabel, "cmap": cmap}
    if text is not None:
        spec["text"] = text
    if vmin is not None:
        spec["vmin"] = vmin
    if vmax is not None:
        spec["vmax"] = vmax
    return spec


def verdict_text(v: str) -> str:
    return {"pass": "holds", "fail": "fails", "inconclusive": "?"}[v]


# --------------------------------------------------------------------------- exact pure-vs-dense radii


def exact_model(d: int, k: float, *, dictionary: str = "identity", seed: int = 0, sigma: float = 0.0):
    """The P2 model: unit magnitudes, ``p = k / d`` (capped at 1)."""
    from numerics import ModelConfig, SparseCodingModel

    return SparseCodingModel(ModelConfig(d=d, p=min(1.0, k / d), sigma=sigma, dictionary=dictionary,
                                         dictionary_seed=seed))


def uniform_w(d: int) -> np.ndarray:
    """P2's task direction ``w* = 1 / sqrt(d)`` on every feature."""
    return np.ones(d) / np.sqrt(d)


def exact_radius(net, model, w, *, norm: str = "l2", level: float, hi: float, iters: int = 12) -> dict:
    """Critical radius interval of ``net`` from the exact engine (``numerics.risk``)."""
    from numerics.risk import robust_error

    return critical_radius(exact_bounds(lambda e: robust_error(net, model, w, e, norm=norm, method="exact")),
                           level, hi, iters=iters)


def estimate_from(d: dict) -> Estimate:
    """An Estimate back from its ``to_dict`` (results travel between processes as plain dicts)."""
    return Estimate(d["value"], d["lower"], d["upper"], d["method"], level=d.get("level"), n=d.get("n"),
                    details=d.get("details", {}))
