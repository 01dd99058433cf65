"""What changed between two results files: ``purecheck report --compare`` and the determinism check.

One loader (:func:`load`, the report's own validation: a corrupt file or an unknown schema
raises :class:`~purecheck.report.schema.ReportInputError`), one walker (:func:`walk`) and
one rule for what is a timing (:func:`is_timing_key`) serve both uses:

- :func:`compare` lists, for a reviewer, the changes between an OLD and a NEW run: claim
  verdicts and control outcomes ("verdict changes": ``purecheck report --compare`` exits 1
  when there is one), paper-claim answers, claims and paper claims added or missing,
  registered expectations, parameters (the claims' effective ``params`` and the profile),
  verdicts of region-map cells, and numbers whose intervals no longer overlap;
- :func:`exact_differences` is the determinism check of ``scripts/compare_results.py``:
  two runs of the same command must agree exactly, timings and the run context aside.

Timing fields (the rule, in one place): a key named ``seconds``, ``started``, ``finished``,
``timestamp``, ``elapsed``, ``duration``, ``wall_time`` or ``search_s``, or one ending in ``_seconds``,
``_runtime``, ``_runtime_s``, ``_time_s``, ``_wall_s``, ``_elapsed_s`` or ``_duration_s``
(``runtime_s``, ``wall_time_s``, ``training_runtime_s``, ``task_seconds`` ...), at any depth.
They are never compared. The determinism check also skips the run context
(:data:`CONTEXT_KEYS`: the environment manifest, the command line, the per-record run stamps
and the list of runs, and the dask scheduler a search ran on).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from .answers import paper_answers
from .format import fmt_inline, fmt_interval, is_interval
from .schema import load_results

TIMING_NAMES = frozenset({"seconds", "started", "finished", "timestamp", "elapsed", "duration", "wall_time", "search_s"})
TIMING_SUFFIX = re.compile(r"(^|_)(seconds|runtime|runtime_s|time_s|wall_s|elapsed_s|duration_s)$")
CONTEXT_KEYS = frozenset({"environment", "command", "stamp", "runs", "scheduler"})
# Kinds of change, in display order; the first two are verdict changes (exit status 1).
KINDS = ("verdict", "control", "answer", "claim missing", "claim added", "paper claim missing",
         "paper claim added", "control not run", "expected", "parameter", "region cell", "number")
NOT_RUN = "not run"  # a control skipped by a partial run: listed, but no verdict changed
VERDICT_KINDS = ("verdict", "control")
# Parts of a claim record not searched for moved numbers (drawn, duplicated or compared otherwise).
_NOT_NUMBERS = frozenset({"figures", "drawn_examples", "examples", "params", "overrides", "stamp", "match"})


def is_timing_key(key: Any) -> bool:
    """True for a key that holds a timing (see the module docstring for the rule)."""
    k = str(key)
    return k in TIMING_NAMES or bool(TIMING_SUFFIX.search(k))


def load(path: Path | str) -> dict:
    """Read and validate a results file (schema 1 or 2); raises ``ReportInputError``."""
    return load_results(path)


# --------------------------------------------------------------------------- walking

Path_ = tuple[str, ...]


def walk(obj: Any, *, skip: Callable[[str], bool] = is_timing_key,
         leaf: Callable[[Any], bool] = lambda v: False, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """Yield ``(path, value)`` for every leaf of ``obj``, skipping keys for which ``skip`` is true.

    A value for which ``leaf`` is true is yielded whole (e.g. an interval). Path parts are
    ``.key`` for objects and ``[name]`` for list items that are objects with a unique ``name``
    or ``id`` (so reordering a list of named records is no change), ``[i]`` otherwise.
    """
    if leaf(obj):
        yield path, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if not skip(k):
                yield from walk(v, skip=skip, leaf=leaf, path=path + (f".{k}",))
    elif isinstance(obj, list):
        labels = _item_labels(obj)
        for label, v in zip(labels, obj):
            yield from walk(v, skip=skip, leaf=leaf, path=path + (label,))
    else:
        yield path, obj


def _item_labels(items: list) -> list[str]:
    for key in ("name", "id"):
        names = [x.get(key) if isinstance(x, dict) else None for x in items]
        if items and all(isinstance(n, str) for n in names) and len(set(names)) == len(names):
            return [f"[{n}]" for n in names]
    return [f"[{i}]" for i in range(len(items))]


def format_path(path: Path_) -> str:
    return "".join(path).lstrip(".") or "$"


def exact_differences(a: Any, b: Any, *, ignore: frozenset[str] = CONTEXT_KEYS) -> list[str]:
    """Every difference between two JSON values, timings and ``ignore``d keys aside (the determinism check)."""
    def skip(k: str) -> bool:
        return is_timing_key(k) or k in ignore

    # Empty containers are leaves too, so that [] vs [x] is a difference.
    def empty(v: Any) -> bool:
        return isinstance(v, (dict, list)) and not v

    left = dict(walk(a, skip=skip, leaf=empty))
    right = dict(walk(b, skip=skip, leaf=empty))
    out = []
    for p in sorted(set(left) | set(right)):
        where = format_path(p)
        if p not in left or p not in right:
            out.append(f"{where}: present in only one file")
        elif not _same(left[p], right[p]):
            out.append(f"{where}: {json.dumps(left[p])} != {json.dumps(right[p])}")
    return out


def _same(x: Any, y: Any) -> bool:
    if type(x) is not type(y):
        return False
    if isinstance(x, float) and math.isnan(x) and math.isnan(y):
        return True
    return x == y


# --------------------------------------------------------------------------- comparing runs

@dataclass(frozen=True)
class Change:
    kind: str   # one of KINDS
    claim: str  # claim id, paper claim id, or "" for the run as a whole
    what: str   # control name, parameter key, number path ... ("" when the kind says it all)
    old: str
    new: str

    def line(self) -> str:
        subject = " ".join(x for x in (self.claim, self.what) if x)
        return f"{self.kind:<19} {subject}: {self.old} -> {self.new}"


@dataclass(frozen=True)
class Comparison:
    old_label: str
    new_label: str
    changes: tuple[Change, ...] = field(default_factory=tuple)

    @property
    def verdict_changes(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.kind in VERDICT_KINDS)

    @property
    def exit_code(self) -> int:
        return 1 if self.verdict_changes else 0

    def counts(self) -> list[tuple[str, int]]:
        return [(k, n) for k in KINDS if (n := sum(c.kind == k for c in self.changes))]

    def summary(self) -> str:
        if not self.changes:
            return "no changes (timings aside)"
        parts = ", ".join(f"{n} {k}" for k, n in self.counts())
        head = (f"{len(self.verdict_changes)} verdict change{'s' if len(self.verdict_changes) != 1 else ''}"
                if self.verdict_changes else "no verdict changed")
        return f"{head}; {len(self.changes)} change{'s' if len(self.changes) != 1 else ''} in all ({parts})"

    def text(self) -> str:
        lines = [f"old: {self.old_label}", f"new: {self.new_label}"]
        lines += [c.line() for c in self.changes]
        lines.append(self.summary())
        return "\n".join(lines) + "\n"


def run_label(path: Path | str, data: dict) -> str:
    env = data["environment"]
    return f"{path} (schema {data['schema']}, profile {data['profile']}, commit {env.get('commit', 'unknown')})"


def compare(old: dict, new: dict, *, old_label: str = "old", new_label: str = "new") -> Comparison:
    """Changes from ``old`` to ``new`` (both validated results dicts), in :data:`KINDS` order."""
    changes: list[Change] = []
    old_claims = {c["id"]: c for c in old["claims"]}
    new_claims = {c["id"]: c for c in new["claims"]}
    for cid in old_claims.keys() & new_claims.keys():
        changes += _claim_changes(old_claims[cid], new_claims[cid])
    changes += [Change("claim missing", cid, "", _verdict_text(old_claims[cid]), "(absent)")
                for cid in old_claims.keys() - new_claims.keys()]
    changes += [Change("claim added", cid, "", "(absent)", _verdict_text(new_claims[cid]))
                for cid in new_claims.keys() - old_claims.keys()]
    old_pc = {p.id: p for p in paper_answers(old)}
    new_pc = {p.id: p for p in paper_answers(new)}
    for pid in old_pc.keys() & new_pc.keys():
        if old_pc[pid].answer != new_pc[pid].answer:
            changes.append(Change("answer", pid, "", old_pc[pid].answer, new_pc[pid].answer))
    changes += [Change("paper claim missing", pid, "", old_pc[pid].answer, "(absent)")
                for pid in old_pc.keys() - new_pc.keys()]
    changes += [Change("paper claim added", pid, "", "(absent)", new_pc[pid].answer)
                for pid in new_pc.keys() - old_pc.keys()]
    if old["profile"] != new["profile"]:
        changes.append(Change("parameter", "", "profile", old["profile"], new["profile"]))
    order = {k: i for i, k in enumerate(KINDS)}
    changes.sort(key=lambda c: (order[c.kind], _natural(c.claim), c.what))
    return Comparison(old_label, new_label, tuple(changes))


def compare_files(old_path: Path | str, new_path: Path | str) -> Comparison:
    old, new = load(old_path), load(new_path)
    return compare(old, new, old_label=run_label(old_path, old), new_label=run_label(new_path, new))


def _claim_changes(a: dict, b: dict) -> list[Change]:
    cid = a["id"]
    out = []
    if a["verdict"] != b["verdict"]:
        out.append(Change("verdict", cid, "", a["verdict"], b["verdict"]))
    if a["expected"] != b["expected"]:
        out.append(Change("expected", cid, "", a["expected"], b["expected"]))
    old_controls = {k["name"]: k for k in a["controls"]}
    for k in b["controls"]:
        before = old_controls.get(k["name"])
        if before is None:
            out.append(Change("control", cid, k["name"], "(absent)", k["observed"]))
        elif before["observed"] != k["observed"]:
            kind = "control not run" if NOT_RUN in (before["observed"], k["observed"]) else "control"
            out.append(Change(kind, cid, k["name"], before["observed"], k["observed"]))
    new_names = {k["name"] for k in b["controls"]}
    out += [Change("control", cid, name, old_controls[name]["observed"], "(absent)")
            for name in old_controls if name not in new_names]
    # A file that records no parameters for the claim (schema 1) has nothing to compare them with.
    pa, pb = flat_params(a["params"]), flat_params(b["params"])
    for key in sorted(pa.keys() | pb.keys()) if pa and pb else ():
        va, vb = pa.get(key, "(absent)"), pb.get(key, "(absent)")
        if va != vb:
            out.append(Change("parameter", cid, key, va, vb))
    out += _cell_changes(a, b)
    out += _number_changes(a, b)
    return out


def flat_params(params: dict, prefix: str = "") -> dict[str, str]:
    """``{"train": {"eps": 0.4}}`` -> ``{"train.eps": "0.4"}`` (values as one-line text)."""
    out: dict[str, str] = {}
    for k, v in params.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v and not is_interval(v):
            out.update(flat_params(v, key + "."))
        else:
            out[key] = fmt_inline(v)
    return out


def _cell_changes(a: dict, b: dict) -> list[Change]:
    out = []
    old_regions = {r["id"]: r for r in a["regions"]}
    for region in b["regions"]:
        before = old_regions.get(region["id"])
        if before is None:
            continue
        old_cells = {json.dumps(c["params"], sort_keys=True): c["verdict"] for c in before["cells"]}
        for c in region["cells"]:
            key = json.dumps(c["params"], sort_keys=True)
            if key in old_cells and old_cells[key] != c["verdict"]:
                where = ", ".join(f"{k}={fmt_inline(v)}" for k, v in c["params"].items())
                out.append(Change("region cell", a["id"], f"{region['id']} [{where}]", old_cells[key], c["verdict"]))
    return out


def _number_changes(a: dict, b: dict) -> list[Change]:
    def numbers(claim: dict) -> dict[Path_, dict]:
        body = {k: v for k, v in claim.items() if k not in _NOT_NUMBERS}
        return {p: v for p, v in walk(body, leaf=is_interval) if is_interval(v)}

    na, nb = numbers(a), numbers(b)
    out = []
    for p in sorted(na.keys() & nb.keys()):
        if not intervals_overlap(na[p], nb[p]):
            out.append(Change("number", a["id"], format_path(p), fmt_interval(na[p]), fmt_interval(nb[p])))
    return out


def intervals_overlap(x: dict, y: dict) -> bool:
    """Whether two interval objects overlap (a missing bound is the value; no value: no claim, True)."""
    bx, by = _bounds(x), _bounds(y)
    if bx is None or by is None:
        return True
    lo, hi = max(bx[0], by[0]), min(bx[1], by[1])
    scale = max(1.0, *(abs(v) for v in (*bx, *by) if math.isfinite(v)))
    return lo <= hi + 1e-9 * scale  # equal point values that differ by rounding noise still overlap


def _bounds(d: dict) -> tuple[float, float] | None:
    v = d.get("value")
    if not isinstance(v, (int, float)) or isinstance(v, bool) or math.isnan(v):
        return None
    lo = d.get("lower") if isinstance(d.get("lower"), (int, float)) else v
    hi = d.get("upper") if isinstance(d.get("upper"), (int, float)) else v
    return float(min(lo, v)), float(max(hi, v))


def _verdict_text(claim: dict) -> str:
    return claim["verdict"]


def _natural(s: str) -> tuple:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s))
