"""Load and validate a results file (schema 1) before anything is rendered.

Validation is structural: required keys are present and have the right JSON types, and
verdicts take their allowed values. It returns a *normalised copy* in which every optional
key is present (with an empty default), so the renderer never has to guess. Any problem
raises :class:`ReportInputError` whose message names the offending place, e.g.
``claims[1] (P4).controls[0]: missing key 'observed'``.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
VERDICTS = ("pass", "fail", "inconclusive")
FIGURE_KINDS = ("curves", "histogram", "heatmap")

REQUIRED_TOP = ("schema", "profile", "command", "environment", "claims")
REQUIRED_CLAIM = ("id", "paper_claim", "title", "statement", "verdict", "expected", "method", "replay")
# Optional claim keys and their defaults (deep-copied into the normalised claim).
OPTIONAL_CLAIM: dict[str, Any] = {
    "regime": "", "module": None, "expected_reason": None, "evidence": {}, "key_numbers": [],
    "counterexample": None, "controls": [], "examples": None, "drawn_examples": [], "n_examples": None, "figures": [],
    "runtime_s": None,
}


class ReportInputError(ValueError):
    """The results file is missing, unreadable, not JSON, or does not follow schema 1."""


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
    """Check ``data`` against schema 1 and return a normalised deep copy."""
    if not isinstance(data, dict):
        raise ReportInputError(f"top level must be a JSON object, got {_jtype(data)}")
    if "schema" not in data:
        raise ReportInputError("missing key 'schema' (expected schema version 1)")
    version = data["schema"]
    # bool is an int in Python; `true` is not a schema version.
    if isinstance(version, bool) or version != SCHEMA_VERSION:
        raise ReportInputError(
            f"unsupported schema version {json.dumps(version)} (this purecheck reads schema {SCHEMA_VERSION})")
    _require_keys(data, REQUIRED_TOP, "top level")
    out = copy.deepcopy(data)
    _require_type(out["profile"], str, "profile")
    _require_type(out["command"], str, "command")
    _require_type(out["environment"], dict, "environment")
    _require_type(out["claims"], list, "claims")
    out.setdefault("assumptions", [])
    _require_type(out["assumptions"], list, "assumptions")

    seen_claims: set[str] = set()
    seen_figures: dict[str, str] = {}
    for i, claim in enumerate(out["claims"]):
        where = f"claims[{i}]"
        _require_type(claim, dict, where)
        if isinstance(claim.get("id"), str):
            where = f"claims[{i}] ({claim['id']})"
        _validate_claim(claim, where)
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
    return out


def figure_filename(figure_id: str) -> str:
    """File name of a figure's PNG: its id with anything outside [A-Za-z0-9_.-] replaced by '_'."""
    safe = "".join(ch if (ch.isascii() and (ch.isalnum() or ch in "_.-")) else "_" for ch in figure_id)
    return f"{safe.lstrip('.') or 'figure'}.png"


# --------------------------------------------------------------------------- claims

def _validate_claim(claim: dict, where: str) -> None:
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


def _validate_interval(item: dict, where: str) -> None:
    _require_number_or_null(item["value"], f"{where}.value")
    for key in ("lower", "upper"):
        item.setdefault(key, None)
        _require_number_or_null(item[key], f"{where}.{key}")
    item.setdefault("method", None)
    _require_type(item["method"], (str, type(None)), f"{where}.method")


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
    {"curves": _validate_curves, "histogram": _validate_histogram, "heatmap": _validate_heatmap}[
        fig["kind"]](fig, where)


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
