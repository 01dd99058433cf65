"""Schema-2 fixtures for the report tests (no tests here): schema-1 results files converted, with region maps,
scaling sweeps, a stress search, overrides and a robustness audit added (values made up but
consistent: a failing cell, a first failure in d, a boundary of the stress search).

``to_schema2(v1)`` works on any schema-1 file (tests/data/results_sample.json and the real
reports/reference/results.json); it never changes a verdict.
"""
from __future__ import annotations

import copy
import re

PAPER_CLAIMS = [
    {"id": "C1", "source": "abstract",
     "text": "Adversarial training purifies the hidden nodes (each picks one or a few features) while "
             "approximately preserving clean accuracy; clean training does not purify."},
    {"id": "C2", "source": "summary",
     "text": "Purified networks are robust: the pure net survives attacks of radius about min(b, 1 - b), "
             "dense nets at the clean optimum break at about sqrt(k/d)."},
    {"id": "C3", "source": "abstract",
     "text": "In contrastive pre-training, adversarial training purifies mainly through the negative pairs."},
    {"id": "C4", "source": "abstract",
     "text": "A downstream head trained on clean data over a purified pre-trained layer inherits its robustness."},
]
EXTENSIONS = {"D1": "real data (scikit-learn digits) instead of the sparse-coding model",
              "P3": "training dynamics from a small random init; the paper speaks of minimisers"}


def _scope(claim: dict) -> str:
    cid, text = claim["id"], claim["paper_claim"].lower()
    if cid in EXTENSIONS:
        return "extension"
    if cid.startswith("S") or "tool" in text:
        return "lemma"
    if cid.startswith("Q") or "beyond" in text:
        return "beyond"
    return "paper"


def _p3_region() -> dict:
    cells = []
    for eps in (0.2, 0.4, 0.6):
        for lr in (0.003, 0.01, 0.03):
            verdict = "fail" if eps == 0.6 and lr == 0.03 else ("inconclusive" if eps == 0.2 and lr == 0.003 else "pass")
            cells.append({"params": {"train.eps": eps, "train.lr": lr}, "verdict": verdict,
                          "numbers": {"log_ratio": round(3.0 - eps * lr * 40, 4)},
                          "headline": eps == 0.4 and lr == 0.01})
    return {"id": "p3_region", "title": "training radius x learning rate", "axes": ["train.eps", "train.lr"],
            "cells": cells, "headline": {"train.eps": 0.4, "train.lr": 0.01},
            "holds_in": "every cell with eps <= 0.4, and eps = 0.6 with lr <= 0.01",
            "smallest_counterexample": {"params": {"train.eps": 0.6, "train.lr": 0.03}, "verdict": "fail",
                                        "numbers": {"log_ratio": 2.28}}}


def _p3_scaling() -> dict:
    points = []
    for d, neff_at, neff_clean in ((16, 1.3, 15.5), (32, 1.4, 31.3), (64, 1.6, 62.0), (128, 2.9, 120.0)):
        points.append({"d": d, "k": 3, "verdict": "pass" if d < 128 else "fail",
                       "numbers": {"n_eff AT": {"value": neff_at, "lower": neff_at - 0.1, "upper": neff_at + 0.1,
                                                "method": "mc", "level": 0.95, "n": 5},
                                   "n_eff clean": {"value": neff_clean, "lower": neff_clean - 0.5,
                                                   "upper": neff_clean + 0.5, "method": "mc", "level": 0.95, "n": 5}}})
    return {"id": "p3_scaling", "title": "effective features per node vs d", "x": "model.d", "law": "k constant",
            "points": points,
            "slopes": [{"name": "log-log slope of n_eff (AT) vs d", "value": 0.3, "lower": 0.2, "upper": 0.4,
                        "method": "mc", "level": 0.95},
                       {"name": "log-log slope of n_eff (clean) vs d", "value": 0.98, "lower": 0.95, "upper": 1.01,
                        "method": "mc", "level": 0.95}],
            "first_failure": {"d": 128, "reason": "AT n_eff 2.9 exceeds the bound 2.5",
                              "counterexample": {"model.d": 128}}}


def _p4_region(claim: dict) -> dict | None:
    rm = claim["evidence"].get("region_map") if isinstance(claim["evidence"], dict) else None
    if not rm:
        return None
    keys = sorted({k for c in rm["cells"] for k in c["changes"]})
    cells = [{"params": {f"contrastive.{k}": c["setting"][k] for k in keys}, "verdict": c["verdict"],
              "numbers": c.get("shares", {}), "headline": c["label"] == "headline"} for c in rm["cells"]]
    cex = rm.get("smallest_counterexample")
    return {"id": "p4_region", "title": "contrastive setting", "axes": [f"contrastive.{k}" for k in keys],
            "cells": cells, "headline": cells[0]["params"], "holds_in": "the headline (spectral loss) cell",
            "smallest_counterexample": None if cex is None else {
                "params": {f"contrastive.{k}": cex["setting"][k] for k in keys}, "verdict": cex["verdict"],
                "numbers": cex.get("shares", {})}}


def _stress_p2() -> dict:
    points = [{"params": {"net.b": b}, "verdict": "pass" if b >= 0.12 else "fail",
               "numbers": {"ratio": round(1 + 8 * b, 4)}} for b in (0.0, 0.05, 0.09, 0.12, 0.2, 0.45, 0.7, 0.9)]
    return {"claim": "P2", "varied": {"net.b": {"lo": 0, "hi": 0.9}}, "seed": 0, "budget": 20, "budget_used": 20,
            "points": points,
            "counterexample": {"params": {"net.b": 0.09}, "verdict": "fail", "numbers": {"ratio": 1.72},
                               "changed_keys": ["net.b"]},
            "boundaries": {"net.b": {"pass_side": 0.12, "fail_side": 0.09, "interval": [0.09, 0.12]}}}


def to_schema2(v1: dict, *, partial_run: str | None = "P2") -> dict:
    """A schema-2 copy of a schema-1 results dict (see the module docstring)."""
    data = copy.deepcopy(v1)
    data["schema"] = 2
    data["spec"] = "docs/model.md"
    data["paper_claims"] = copy.deepcopy(PAPER_CLAIMS)
    env = data["environment"]
    for c in data["claims"]:
        c["paper_claims"] = list(dict.fromkeys(re.findall(r"\bC\d+\b", c["paper_claim"])))
        c["scope"] = _scope(c)
        c["scope_note"] = EXTENSIONS.get(c["id"])
        c["differences"] = ["purity judged with k = 1 (the paper: one or a few features)"] if c["id"] == "P3" else []
        c["params"] = {"model": {"d": 32, "k": 3}, "train": {"eps": 0.4, "lr": 0.01}}
        c["overrides"] = {}
        c["regions"], c["scaling"], c["robustness_audit"] = [], [], []
        for k in c["controls"]:
            k["overrides"] = {"train.eps": 0.0} if k["name"].startswith(("eps", "clean")) else {}
        c["stamp"] = {"commit": env.get("commit"), "dirty": env.get("dirty"), "profile": data["profile"],
                      "started": env.get("started"), "command": data["command"]}
        if c["id"] == "P3":
            c["regions"] = [_p3_region()]
            c["scaling"] = [_p3_scaling()]
        if c["id"] == "P4" and (region := _p4_region(c)):
            c["regions"] = [region]
        if c["id"] == "P2":
            c["params"] = {"model": {"d": 4096, "k": 32}, "net": {"b": 0.3}}
            c["overrides"] = {"net.b": {"value": 0.3, "default": 0.25}}
            c["statement"] = c["statement"] + " Here b = 0.3 and d = 4096."
            c["replay"] = "pytest theorems -k P2 --set P2.net.b=0.3"
            c["robustness_audit"] = [{"net": "pure b=0.3", "eps": 0.25, "norm": "l2", "samples": 500,
                                      "pgd_errors": 52, "verified_errors": 64, "unknown": 0, "missed_by_pgd": 12}]
            if partial_run:
                c["stamp"] = dict(c["stamp"], commit="0123abc", started="2024-05-02T10:00:00Z")
        expected = "pass" if c["overrides"] else c["expected"]
        c["match"] = {"matches": c["verdict"] == expected, "expected": expected, "verdict": c["verdict"],
                      "overridden": bool(c["overrides"])}
    if any(c["id"] == "P2" for c in data["claims"]):
        data["stress"] = {"P2": _stress_p2()}
    return data
