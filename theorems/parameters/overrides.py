"""Reviewer overrides: ``--set ID.section.key=value``, ``--params file.toml``, and TOML out.

``to_toml`` prints a claim's parameters as TOML (one table per section, ``[P3.train]``),
each key with its allowed values and meaning as a comment; ``load_toml`` reads such a file
back (tables named by claim id), so ``purecheck params P3 > p.toml`` and ``--params p.toml``
round-trip. Values on the command line are TOML literals (``0.3``, ``true``, ``[16, 32]``,
``"adam"``); a bare word that is not a TOML literal is taken as a string (``adam``).
"""
from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any, Mapping

from .core import ClaimParams, ParamError, Spec


def parse_value(raw: str) -> Any:
    """A command-line value as TOML literal, or the bare string."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def parse_assignment(text: str, *, claim: str | None = None) -> tuple[str, str, Any]:
    """``"P3.train.eps=0.3"`` -> ``("P3", "train.eps", 0.3)``; with ``claim`` given, ``"train.eps=0.3"``."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ParamError(f"--set {text!r}: expected {'KEY' if claim else 'ID.KEY'}=VALUE, e.g. "
                         f"{'' if claim else 'P3.'}train.eps=0.3")
    if claim is None:
        cid, dot, rest = key.partition(".")
        if not dot or not rest:
            raise ParamError(f"--set {text!r}: the key must start with a claim id, e.g. P3.train.eps=0.3")
    else:
        cid, rest = claim, key
    return cid, rest, parse_value(raw.strip())


def flatten_tables(claim: str, table: Mapping[str, Any], source: str) -> dict[str, Any]:
    """``{section: {key: value}}`` (as TOML parses ``[P3.train]``) -> ``{"train.key": value}``."""
    out: dict[str, Any] = {}
    for sec, body in table.items():
        if not isinstance(body, dict):
            raise ParamError(f"{claim}.{sec}: expected a table of parameters in {source}, got a value")
        for name, value in body.items():
            if isinstance(value, dict):
                raise ParamError(f"{claim}.{sec}.{name}: parameters are two levels deep (section.key) in {source}")
            out[f"{sec}.{name}"] = value
    return out


def load_toml(path: str | Path) -> dict[str, dict[str, Any]]:
    """``{claim id: {dotted key: value}}`` from a TOML file with tables named by claim id."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ParamError(f"--params {path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ParamError(f"--params {path}: not valid TOML ({' '.join(str(exc).split())})") from None
    out = {}
    for cid, table in data.items():
        if not isinstance(table, dict):
            raise ParamError(f"--params {path}: top-level key {cid!r} must be a table named by a claim id, e.g. [P3.train]")
        out[cid] = flatten_tables(cid, table, str(path))
    return out


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (tuple, list)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _comment(spec: Spec) -> str:
    return f"{spec.role}; {spec.allowed()}: {spec.doc}"


def to_toml(params: ClaimParams, *, defaults: ClaimParams | None = None, header: str = "") -> str:
    """The parameters as TOML tables ``[ID.section]``, every key with its allowed values as a comment."""
    lines = [f"# {line}" for line in header.splitlines()] if header else []
    changed = params.diff(defaults) if defaults is not None else {}
    for sec in params.sections():
        lines.append(f"[{params.CLAIM}.{sec.NAME}]")
        for name, spec in sec.specs().items():
            key = f"{sec.NAME}.{name}"
            mark = f" (default {toml_value(changed[key]['default'])})" if key in changed else ""
            lines.append(f"{name} = {toml_value(getattr(sec, name))}  # {_comment(spec)}{mark}")
        lines.append("")
    return "\n".join(lines)
