"""Load and validate a results file (schema 1 or 2) before anything is rendered.

Validation is structural: required keys are present and have the right JSON types, and
verdicts take their allowed values. It returns a *normalised copy* in which every optional
key is present (with an empty default), so the renderer never has to guess. Any problem
raises :class:`ReportInputError` whose message names the offending place, e.g.
``claims[1] (P4).controls[0]: missing key 'observed'``.

Schema 2 adds, per claim, ``paper_claims``, ``scope``, ``scope_note``, ``differences``,
``params``, ``overrides``, ``match``, ``stamp``, ``regions``, ``scaling`` and
``robustness_audit`` (controls gain ``overrides``), and at the top level ``paper_claims``,
``spec`` and ``stress``. A schema-1 file gets them derived where the old fields allow
(``paper_claims`` parsed from ``paper_claim``, the scope from its "(tool)" / "beyond the
paper" wording, ``match`` from verdict and expected, ``stamp`` from the environment) and
empty otherwise; ``derived`` lists what was filled in that way so the report can say so.
"""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 2                 # the newest schema this report reads
SCHEMA_VERSIONS = (1, 2)
VERDICTS = ("pass", "fail", "inconclusive")
SCOPES = ("paper", "extension", "lemma", "beyond")
FIGURE_KINDS = ("curves", "histogram", "heatmap", "scatter")
_PAPER_CLAIM_ID = re.compile(r"\bC\d+\b")

REQUIRED_TOP = ("schema", "profile", "command", "environment", "claims")
REQUIRED_CLAIM = ("id", "paper_claim", "title", "statement", "verdict", "expected", "method", "replay")
# Optional claim keys and their defaults (deep-copied into the normalised claim).
OPTIONAL_CLAIM: dict[str, Any] = {
    "regime": "", "module": None, "expected_reason": None, "evidence": {}, "key_numbers": [],
    "counterexample": None, "controls": [], "examples": None, "drawn_examples": [], "n_examples": None, "figures": [],
    "runtime_s": None, "main_runtime_s": None, "main_error": None, "message": None, "conditions": [],
    # schema 2
    "scope_note": None, "differences": [], "params": {}, "overrides": {}, "regions": [], "scaling": [],
    "robustness_audit": [],
}


class ReportInputError(ValueError):
    """The results file is missing, unreadable, not JSON, or does not follow schema 1 or 2."""


def load_results(path: Path | str) -> dict:
    """Read, parse and validate ``path``; return the normalised results dict."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportInputError(f"results file not found: {path}") from None
    except IsADirectoryError:
        raise ReportInputError(f"results path is a directory, not a file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportInputError(f"cannot read results file {path}: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportInputError(f"malformed JSON in {path}: {exc}") from None
    try:
        return validate_results(data)
    except ReportInputError as exc:
        raise ReportInputError(f"{path}: {exc}") from None


def validate_results(data: Any) -> dict:
    """Check ``data`` against schema 1 or 2 and return a normalised deep copy."""
    if not isinstance(data, dict):
        raise ReportInputError(f"top level must be a JSON object, got {_jtype(data)}")
    if "schema" not in data:
        raise ReportInputError("missing key 'schema' (expected schema version 1 or 2)")
    version = data["schema"]
    # bool is an int in Python; `true` is not a schema version.
    if isinstance(version, bool) or version not in SCHEMA_VERSIONS:
        raise ReportInputError(
            f"unsupported schema version {json.dumps(version)} (this purecheck reads schema 1 or 2)")
    _require_keys(data, REQUIRED_TOP, "top level")
    out = copy.deepcopy(data)
    _require_type(out["profile"], str, "profile")
    _require_type(out["command"], str, "command")
    _require_type(out["environment"], dict, "environment")
    env = out["environment"]
    for key in ("packages", "threads", "seeds"):
        if env.get(key) is not None:
            _require_type(env[key], dict, f"environment.{key}")
    for key in ("commit", "started", "python", "platform", "machine"):
        if env.get(key) is not None:
            _require_type(env[key], str, f"environment.{key}")
    if env.get("dirty") is not None:
        _require_type(env["dirty"], bool, "environment.dirty")
    _require_type(out["claims"], list, "claims")
    out.setdefault("assumptions", [])
    _require_type(out["assumptions"], list, "assumptions")
    out["derived"] = []  # schema-2 fields this file lacks and the report derived (shown as a caveat)
    out.setdefault("spec", None)
    _require_type(out["spec"], (str, type(None)), "spec")
    out.setdefault("stress", {})
    _require_type(out["stress"], dict, "stress")

    seen_claims: set[str] = set()
    seen_figures: dict[str, str] = {}
    for i, claim in enumerate(out["claims"]):
        where = f"claims[{i}]"
        _require_type(claim, dict, where)
        if isinstance(claim.get("id"), str):
            where = f"claims[{i}] ({claim['id']})"
        _validate_claim(claim, where, out)
        if claim["id"] in seen_claims:
            raise ReportInputError(f"{where}: duplicate claim id {claim['id']!r}")
        seen_claims.add(claim["id"])
        for j, fig in enumerate(claim["figures"]):
            name = figure_filename(fig["id"])
            if name in seen_figures:
                raise ReportInputError(
                    f"{where}.figures[{j}]: figure id {fig['id']!r} clashes with one in {seen_figures[name]}"
                    f" (file {name})")
            seen_figures[name] = where

    for i, item in enumerate(out["assumptions"]):
        where = f"assumptions[{i}]"
        _require_type(item, dict, where)
        _require_keys(item, ("id", "text"), where)
        _require_type(item["id"], str, f"{where}.id")
        _require_type(item["text"], str, f"{where}.text")
        item.setdefault("why", None)
        _require_type(item["why"], (str, type(None)), f"{where}.why")

    _validate_paper_claims(out)
    for key, stress in out["stress"].items():
        _validate_stress(stress, f"stress[{json.dumps(key)}]")
    out["derived"] = sorted(set(out["derived"]))
    return out


def paper_claim_ids(text: str) -> list[str]:
    """The paper-claim ids (``C1``, ``C2`` ...) named in a schema-1 ``paper_claim`` string."""
    return list(dict.fromkeys(_PAPER_CLAIM_ID.findall(text)))


def scope_from_text(text: str) -> str:
    """A schema-1 claim's scope from its ``paper_claim`` wording ("(tool)", "beyond the paper")."""
    lowered = text.lower()
    if "beyond" in lowered or not paper_claim_ids(text):
        return "beyond"
    return "lemma" if "tool" in lowered else "paper"


def _validate_paper_claims(out: dict) -> None:
    if "paper_claims" not in out:
        ids = sorted({c for claim in out["claims"] for c in claim["paper_claims"]},
                     key=lambda c: (len(c), c))
        out["paper_claims"] = [{"id": c, "text": None, "source": None} for c in ids]
        out["derived"].append("paper_claims")
    _require_type(out["paper_claims"], list, "paper_claims")
    seen: set[str] = set()
    for i, item in enumerate(out["paper_claims"]):
        where = f"paper_claims[{i}]"
        _require_type(item, dict, where)
        _require_keys(item, ("id",), where)
        _require_type(item["id"], str, f"{where}.id")
        if item["id"] in seen:
            raise ReportInputError(f"{where}: duplicate paper claim id {item['id']!r}")
        seen.add(item["id"])
        for key in ("text", "source"):
            item.setdefault(key, None)
            _require_type(item[key], (str, type(None)), f"{where}.{key}")

def validate_figure(spec: Any, where: str = "figure") -> dict:
    """Validate one figure spec and return a normalised copy (used for the report's derived figures)."""
    spec = copy.deepcopy(spec)
    _validate_figure(spec, where)
    return spec


def figure_filename(figure_id: str) -> str:
    """File name of a figure's PNG: its id with anything outside [A-Za-z0-9_.-] replaced by '_'."""
    safe = "".join(ch if (ch.isascii() and (ch.isalnum() or ch in "_.-")) else "_" for ch in figure_id)
    return f"{safe.lstrip('.') or 'figure'}.png"


# --------------------------------------------------------------------------- claims

def _validate_claim(claim: dict, where: str, top: dict) -> None:
    _require_keys(claim, REQUIRED_CLAIM, where)
    for key in ("id", "paper_claim", "title", "statement", "method", "replay"):
        _require_type(claim[key], str, f"{where}.{key}")
    if not claim["id"]:
        raise ReportInputError(f"{where}.id: must be a non-empty string")
    for key in ("verdict", "expected"):
        if claim[key] not in VERDICTS:
            raise ReportInputError(
                f"{where}.{key}: must be one of {', '.join(VERDICTS)}, got {json.dumps(claim[key])}")
    for key, default in OPTIONAL_CLAIM.items():
        if claim.get(key) is None and default is not None:
            claim[key] = copy.deepcopy(default)
        claim.setdefault(key, None)
    _require_type(claim["regime"], str, f"{where}.regime")
    _require_type(claim["module"], (str, type(None)), f"{where}.module")
    _require_type(claim["expected_reason"], (str, type(None)), f"{where}.expected_reason")
    _require_type(claim["evidence"], (dict, list), f"{where}.evidence")
    # Schema 1: "examples" is the number of drawn examples and "drawn_examples" the recorded ones;
    # an older file may carry the list itself under "examples".
    if isinstance(claim["examples"], list):
        claim["drawn_examples"] = claim["examples"]
        claim["examples"] = len(claim["examples"])
    _require_type(claim["drawn_examples"], list, f"{where}.drawn_examples")
    if claim["examples"] is None:
        claim["examples"] = len(claim["drawn_examples"])
    _require_int(claim["examples"], f"{where}.examples")
    if claim["n_examples"] is None:
        claim["n_examples"] = claim["examples"]
    _require_int(claim["n_examples"], f"{where}.n_examples")
    _require_number_or_null(claim["runtime_s"], f"{where}.runtime_s")
    _require_number_or_null(claim["main_runtime_s"], f"{where}.main_runtime_s")
    _require_type(claim["main_error"], (str, type(None)), f"{where}.main_error")

    _require_type(claim["key_numbers"], list, f"{where}.key_numbers")
    for k, item in enumerate(claim["key_numbers"]):
        w = f"{where}.key_numbers[{k}]"
        _require_type(item, dict, w)
        _require_keys(item, ("name", "value"), w)
        _require_type(item["name"], str, f"{w}.name")
        _validate_interval(item, w)

    _require_type(claim["controls"], list, f"{where}.controls")
    for k, item in enumerate(claim["controls"]):
        w = f"{where}.controls[{k}]"
        _require_type(item, dict, w)
        _require_keys(item, ("name", "expected", "observed"), w)
        for key in ("name", "expected", "observed"):
            _require_type(item[key], str, f"{w}.{key}")
        item.setdefault("description", "")
        _require_type(item["description"], (str, type(None)), f"{w}.description")
        item.setdefault("runtime_s", None)
        _require_number_or_null(item["runtime_s"], f"{w}.runtime_s")

    cex = claim["counterexample"]
    if cex is not None:
        w = f"{where}.counterexample"
        _require_type(cex, dict, w)
        cex.setdefault("params", {})
        cex.setdefault("seed", None)
        cex.setdefault("numbers", {})
        cex.setdefault("message", "")
        _require_type(cex["params"], dict, f"{w}.params")
        _require_type(cex["numbers"], dict, f"{w}.numbers")
        _require_type(cex["message"], (str, type(None)), f"{w}.message")

    _require_type(claim["figures"], list, f"{where}.figures")
    for k, fig in enumerate(claim["figures"]):
        _validate_figure(fig, f"{where}.figures[{k}]")
    _require_type(claim["message"], (str, type(None)), f"{where}.message")
    _require_type(claim["conditions"], list, f"{where}.conditions")
    for k, cond in enumerate(claim["conditions"]):
        w = f"{where}.conditions[{k}]"
        _require_type(cond, dict, w)
        _require_keys(cond, ("name",), w)
        for key in ("estimate", "side", "threshold", "verdict"):
            cond.setdefault(key, None)
        _require_type(cond["name"], str, f"{w}.name")
        _require_type(cond["side"], (str, type(None)), f"{w}.side")
        _require_number_or_null(cond["threshold"], f"{w}.threshold")
        if cond["estimate"] is not None:
            _require_type(cond["estimate"], dict, f"{w}.estimate")
    _validate_schema2_claim(claim, where, top)


def _validate_schema2_claim(claim: dict, where: str, top: dict) -> None:
    """The schema-2 fields of one claim (derived from schema-1 fields where they are missing)."""
    derived = top["derived"]
    if "paper_claims" not in claim:
        claim["paper_claims"] = paper_claim_ids(claim["paper_claim"])
        derived.append("paper_claims")
    _require_type(claim["paper_claims"], list, f"{where}.paper_claims")
    for k, cid in enumerate(claim["paper_claims"]):
        _require_type(cid, str, f"{where}.paper_claims[{k}]")
    if "scope" not in claim:
        claim["scope"] = scope_from_text(claim["paper_claim"])
        derived.append("scope")
    if claim["scope"] not in SCOPES:
        raise ReportInputError(f"{where}.scope: must be one of {', '.join(SCOPES)}, got {json.dumps(claim['scope'])}")
    _require_type(claim["scope_note"], (str, type(None)), f"{where}.scope_note")
    _require_type(claim["differences"], list, f"{where}.differences")
    for k, text in enumerate(claim["differences"]):
        _require_type(text, str, f"{where}.differences[{k}]")
    _require_type(claim["params"], dict, f"{where}.params")
    _require_type(claim["overrides"], dict, f"{where}.overrides")
    for key, item in list(claim["overrides"].items()):
        # {"train.eps": {"value": 0.3, "default": 0.4}}; a bare value is accepted as the value.
        if not (isinstance(item, dict) and "value" in item):
            item = {"value": item, "default": None}
        item.setdefault("default", None)
        claim["overrides"][key] = item
    effective_expected = "pass" if claim["overrides"] else claim["expected"]
    if claim.get("match") is None:
        claim["match"] = {"matches": claim["verdict"] == effective_expected, "expected": effective_expected,
                          "verdict": claim["verdict"], "overridden": bool(claim["overrides"])}
        derived.append("match")
    m = claim["match"]
    _require_type(m, dict, f"{where}.match")
    _require_keys(m, ("matches",), f"{where}.match")
    _require_type(m["matches"], bool, f"{where}.match.matches")
    m.setdefault("expected", effective_expected)
    m.setdefault("verdict", claim["verdict"])
    m.setdefault("overridden", bool(claim["overrides"]))
    if claim.get("stamp") is None:
        env = top["environment"]
        claim["stamp"] = {"commit": env.get("commit"), "dirty": env.get("dirty"), "profile": top["profile"],
                          "started": env.get("started"), "command": top["command"]}
        derived.append("stamp")
    _require_type(claim["stamp"], dict, f"{where}.stamp")
    for key in ("commit", "dirty", "profile", "started", "command"):
        claim["stamp"].setdefault(key, None)
        kind = bool if key == "dirty" else str
        _require_type(claim["stamp"][key], (kind, type(None)), f"{where}.stamp.{key}")
    for k, control in enumerate(claim["controls"]):
        control.setdefault("overrides", {})
        _require_type(control["overrides"], dict, f"{where}.controls[{k}].overrides")
    _require_type(claim["regions"], list, f"{where}.regions")
    for k, region in enumerate(claim["regions"]):
        _validate_region(region, f"{where}.regions[{k}]")
    _require_type(claim["scaling"], list, f"{where}.scaling")
    for k, scaling in enumerate(claim["scaling"]):
        _validate_scaling(scaling, f"{where}.scaling[{k}]")
    _require_type(claim["robustness_audit"], list, f"{where}.robustness_audit")
    for k, row in enumerate(claim["robustness_audit"]):
        _require_type(row, dict, f"{where}.robustness_audit[{k}]")


def _validate_verdict(v: Any, where: str) -> None:
    if v not in VERDICTS:
        raise ReportInputError(f"{where}: must be one of {', '.join(VERDICTS)}, got {json.dumps(v)}")


def _validate_point(point: Any, where: str, *, params: bool = True) -> None:
    """A grid/stress point: ``{"params": {...}, "verdict", "numbers": {...}}`` (numbers optional)."""
    _require_type(point, dict, where)
    _require_keys(point, ("params", "verdict") if params else ("verdict",), where)
    if params:
        _require_type(point["params"], dict, f"{where}.params")
    _validate_verdict(point["verdict"], f"{where}.verdict")
    point.setdefault("numbers", {})
    _require_type(point["numbers"], dict, f"{where}.numbers")


def _validate_region(region: Any, where: str) -> None:
    _require_type(region, dict, where)
    _require_keys(region, ("id", "axes", "cells"), where)
    _require_type(region["id"], str, f"{where}.id")
    _require_type(region["axes"], list, f"{where}.axes")
    for k, axis in enumerate(region["axes"]):
        _require_type(axis, str, f"{where}.axes[{k}]")
    _require_type(region["cells"], list, f"{where}.cells")
    for k, cell in enumerate(region["cells"]):
        _validate_point(cell, f"{where}.cells[{k}]")
        cell.setdefault("headline", False)
        _require_type(cell["headline"], bool, f"{where}.cells[{k}].headline")
    for key in ("title", "holds_in"):
        region.setdefault(key, None)
        _require_type(region[key], (str, type(None)), f"{where}.{key}")
    region.setdefault("headline", None)
    _require_type(region["headline"], (dict, type(None)), f"{where}.headline")
    region.setdefault("smallest_counterexample", None)
    if region["smallest_counterexample"] is not None:
        _validate_point(region["smallest_counterexample"], f"{where}.smallest_counterexample")


def _validate_scaling(scaling: Any, where: str) -> None:
    _require_type(scaling, dict, where)
    _require_keys(scaling, ("id", "x", "points"), where)
    _require_type(scaling["id"], str, f"{where}.id")
    _require_type(scaling["x"], str, f"{where}.x")
    for key in ("title", "law"):
        scaling.setdefault(key, None)
        _require_type(scaling[key], (str, type(None)), f"{where}.{key}")
    _require_type(scaling["points"], list, f"{where}.points")
    for k, point in enumerate(scaling["points"]):
        _validate_point(point, f"{where}.points[{k}]", params=False)
    scaling.setdefault("slopes", [])
    _require_type(scaling["slopes"], list, f"{where}.slopes")
    for k, slope in enumerate(scaling["slopes"]):
        w = f"{where}.slopes[{k}]"
        _require_type(slope, dict, w)
        _require_keys(slope, ("name", "value"), w)
        _validate_interval(slope, w)
    scaling.setdefault("first_failure", None)
    _require_type(scaling["first_failure"], (dict, type(None)), f"{where}.first_failure")


def _validate_stress(stress: Any, where: str) -> None:
    _require_type(stress, dict, where)
    _require_keys(stress, ("varied", "points"), where)
    _require_type(stress["varied"], dict, f"{where}.varied")
    _require_type(stress["points"], list, f"{where}.points")
    for k, point in enumerate(stress["points"]):
        _validate_point(point, f"{where}.points[{k}]")
    for key in ("seed", "budget", "budget_used"):
        stress.setdefault(key, None)
        _require_number_or_null(stress[key], f"{where}.{key}")
    stress.setdefault("counterexample", None)
    if stress["counterexample"] is not None:
        _validate_point(stress["counterexample"], f"{where}.counterexample")
        stress["counterexample"].setdefault("changed_keys", [])
    stress.setdefault("boundaries", {})
    _require_type(stress["boundaries"], dict, f"{where}.boundaries")
    # the search writes null for a key without a boundary (no counterexample): the normalised copy leaves it out
    stress["boundaries"] = {k: b for k, b in stress["boundaries"].items() if b is not None}
    for key, b in stress["boundaries"].items():
        w = f"{where}.boundaries[{json.dumps(key)}]"
        _require_type(b, dict, w)
        for side in ("pass_side", "fail_side"):
            b.setdefault(side, None)
            # a value of the key: a number on an interval axis, a category (string, boolean) on a choice axis
            if not (b[side] is None or isinstance(b[side], (str, bool))):
                _require_number_or_null(b[side], f"{w}.{side}")


def _validate_interval(item: dict, where: str) -> None:
    _require_number_or_null(item["value"], f"{where}.value")
    for key in ("lower", "upper"):
        item.setdefault(key, None)
        _require_number_or_null(item[key], f"{where}.{key}")
    item.setdefault("method", None)
    _require_type(item["method"], (str, type(None)), f"{where}.method")
    if item.get("level") is not None:
        _require_number_or_null(item["level"], f"{where}.level")


# --------------------------------------------------------------------------- figures

def _validate_figure(fig: Any, where: str) -> None:
    _require_type(fig, dict, where)
    _require_keys(fig, ("id", "kind"), where)
    _require_type(fig["id"], str, f"{where}.id")
    if not fig["id"]:
        raise ReportInputError(f"{where}.id: must be a non-empty string")
    if fig["kind"] not in FIGURE_KINDS:
        raise ReportInputError(
            f"{where}.kind: must be one of {', '.join(FIGURE_KINDS)}, got {json.dumps(fig['kind'])}")
    for key in ("title", "xlabel", "ylabel", "zlabel"):
        fig.setdefault(key, "")
        _require_type(fig[key], (str, type(None)), f"{where}.{key}")
    for key in ("xscale", "yscale"):
        fig.setdefault(key, "linear")
        if fig[key] not in ("linear", "log"):
            raise ReportInputError(f"{where}.{key}: must be linear or log, got {json.dumps(fig[key])}")
    {"curves": _validate_curves, "histogram": _validate_histogram, "heatmap": _validate_heatmap,
     "scatter": _validate_scatter}[fig["kind"]](fig, where)


def _validate_scatter(fig: dict, where: str) -> None:
    _require_keys(fig, ("series",), where)
    _require_type(fig["series"], list, f"{where}.series")
    fig.setdefault("ycategories", None)
    if fig["ycategories"] is not None:
        _require_type(fig["ycategories"], list, f"{where}.ycategories")
        for i, v in enumerate(fig["ycategories"]):
            _require_type(v, str, f"{where}.ycategories[{i}]")
    for s, series in enumerate(fig["series"]):
        ws = f"{where}.series[{s}]"
        _require_type(series, dict, ws)
        _require_keys(series, ("points",), ws)
        for key in ("label", "color", "marker"):
            series.setdefault(key, None)
            _require_type(series[key], (str, type(None)), f"{ws}.{key}")
        _require_type(series["points"], list, f"{ws}.points")
        for p, point in enumerate(series["points"]):
            wp = f"{ws}.points[{p}]"
            _require_type(point, dict, wp)
            _require_keys(point, ("x", "y"), wp)
            _require_number(point["x"], f"{wp}.x")
            if isinstance(point["y"], str):
                if fig["ycategories"] is not None and point["y"] not in fig["ycategories"]:
                    raise ReportInputError(f"{wp}.y: {point['y']!r} is not one of ycategories")
            else:
                _require_number(point["y"], f"{wp}.y")
    _validate_reference_lines(fig, where)


def _validate_curves(fig: dict, where: str) -> None:
    _require_keys(fig, ("series",), where)
    _require_type(fig["series"], list, f"{where}.series")
    fig.setdefault("intervals", "band")
    if fig["intervals"] not in ("band", "errorbars"):
        raise ReportInputError(f"{where}.intervals: must be band or errorbars, got {json.dumps(fig['intervals'])}")
    kinds: set[type] = set()
    for s, series in enumerate(fig["series"]):
        ws = f"{where}.series[{s}]"
        _require_type(series, dict, ws)
        _require_keys(series, ("points",), ws)
        series.setdefault("label", "")
        _require_type(series["label"], (str, type(None)), f"{ws}.label")
        _require_type(series["points"], list, f"{ws}.points")
        for p, point in enumerate(series["points"]):
            wp = f"{ws}.points[{p}]"
            _require_type(point, dict, wp)
            _require_keys(point, ("x", "value"), wp)
            if isinstance(point["x"], str):
                kinds.add(str)
            else:
                _require_number(point["x"], f"{wp}.x")
                kinds.add(float)
            _require_number_or_null(point["value"], f"{wp}.value")
            for key in ("lower", "upper"):
                point.setdefault(key, None)
                _require_number_or_null(point[key], f"{wp}.{key}")
    if len(kinds) > 1:
        raise ReportInputError(f"{where}: x values mix numbers and strings")
    _validate_reference_lines(fig, where)


def _validate_reference_lines(fig: dict, where: str) -> None:
    for key, coord in (("hlines", "y"), ("vlines", "x")):
        fig.setdefault(key, [])
        _require_type(fig[key], list, f"{where}.{key}")
        for i, line in enumerate(fig[key]):
            w = f"{where}.{key}[{i}]"
            _require_type(line, dict, w)
            _require_keys(line, (coord,), w)
            _require_number(line[coord], f"{w}.{coord}")
            line.setdefault("label", "")
            _require_type(line["label"], (str, type(None)), f"{w}.label")


def _validate_histogram(fig: dict, where: str) -> None:
    _require_keys(fig, ("series",), where)
    _require_type(fig["series"], list, f"{where}.series")
    fig.setdefault("bins", 20)
    bins = fig["bins"]
    if isinstance(bins, list):
        for i, edge in enumerate(bins):
            _require_number(edge, f"{where}.bins[{i}]")
        if len(bins) < 2 or any(hi <= lo for lo, hi in zip(bins, bins[1:])):
            raise ReportInputError(f"{where}.bins: edges must be at least two strictly increasing numbers")
    else:
        _require_int(bins, f"{where}.bins")
        if bins < 1:
            raise ReportInputError(f"{where}.bins: must be >= 1, got {bins}")
    fig.setdefault("density", False)
    _require_type(fig["density"], bool, f"{where}.density")
    for s, series in enumerate(fig["series"]):
        ws = f"{where}.series[{s}]"
        _require_type(series, dict, ws)
        _require_keys(series, ("values",), ws)
        series.setdefault("label", "")
        _require_type(series["label"], (str, type(None)), f"{ws}.label")
        _require_type(series["values"], list, f"{ws}.values")
        for i, v in enumerate(series["values"]):
            _require_number_or_null(v, f"{ws}.values[{i}]")
        series.setdefault("weights", None)
        if series["weights"] is not None:
            _require_type(series["weights"], list, f"{ws}.weights")
            if len(series["weights"]) != len(series["values"]):
                raise ReportInputError(
                    f"{ws}.weights: length {len(series['weights'])} differs from values' {len(series['values'])}")
            for i, w in enumerate(series["weights"]):
                _require_number(w, f"{ws}.weights[{i}]")
    _validate_reference_lines(fig, where)


def _validate_heatmap(fig: dict, where: str) -> None:
    _require_keys(fig, ("x", "y", "z"), where)
    for key in ("x", "y"):
        _require_type(fig[key], list, f"{where}.{key}")
        for i, v in enumerate(fig[key]):
            _require_type(v, (str, int, float), f"{where}.{key}[{i}]")
            if isinstance(v, bool):
                raise ReportInputError(f"{where}.{key}[{i}]: must be a number or string, got bool")
    nx, ny = len(fig["x"]), len(fig["y"])
    _require_matrix(fig["z"], ny, nx, f"{where}.z", _require_number_or_null)
    fig.setdefault("text", None)
    if fig["text"] is not None:
        def cell(v: Any, w: str) -> None:
            _require_type(v, (str, int, float, type(None)), w)
        _require_matrix(fig["text"], ny, nx, f"{where}.text", cell)
    fig.setdefault("cmap", "viridis")
    _require_type(fig["cmap"], str, f"{where}.cmap")
    fig.setdefault("colorbar", True)
    _require_type(fig["colorbar"], bool, f"{where}.colorbar")
    for key in ("vmin", "vmax"):
        fig.setdefault(key, None)
        _require_number_or_null(fig[key], f"{where}.{key}")


def _require_matrix(m: Any, rows: int, cols: int, where: str, check) -> None:
    _require_type(m, list, where)
    if len(m) != rows:
        raise ReportInputError(f"{where}: has {len(m)} rows, expected len(y) = {rows}")
    for i, row in enumerate(m):
        _require_type(row, list, f"{where}[{i}]")
        if len(row) != cols:
            raise ReportInputError(f"{where}[{i}]: has {len(row)} entries, expected len(x) = {cols}")
        for j, v in enumerate(row):
            check(v, f"{where}[{i}][{j}]")


# --------------------------------------------------------------------------- primitives

def _jtype(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


_TYPE_NAMES = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null",
               int: "number", float: "number"}


def _require_type(v: Any, types, where: str) -> None:
    types = types if isinstance(types, tuple) else (types,)
    ok = isinstance(v, types) and not (isinstance(v, bool) and bool not in types)
    if not ok:
        allowed = " or ".join(dict.fromkeys(_TYPE_NAMES[t] for t in types))
        raise ReportInputError(f"{where}: must be {allowed}, got {_jtype(v)}")


def _require_keys(d: dict, keys, where: str) -> None:
    missing = [k for k in keys if k not in d]
    if missing:
        raise ReportInputError(f"{where}: missing key{'s' if len(missing) > 1 else ''} "
                               + ", ".join(repr(k) for k in missing))


def _require_number(v: Any, where: str) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ReportInputError(f"{where}: must be a number, got {_jtype(v)}")


def _require_number_or_null(v: Any, where: str) -> None:
    if v is not None:
        _require_number(v, where)


def _require_int(v: Any, where: str) -> None:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ReportInputError(f"{where}: must be an integer, got {_jtype(v)}")
