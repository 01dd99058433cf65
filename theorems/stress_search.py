"""Property-based stress search: the smallest counterexample of a check over a box of parameters, and its boundary.

The engine takes any ``evaluate(point) -> {"verdict", "numbers", "score"}`` over a :class:`Space`
(one :class:`Axis` per varied key: a numeric interval, or a set of values) and a budget of
evaluations, and returns a *StressResult* dict (``/work/coord/SCHEMA.md``; ``reports/README.md``):

1. **generate**: the reference point (the registered defaults, clamped into the ranges), each key
   alone at the ends of its range (or at each of its other values), then random draws in which,
   as in hypothesis, range ends and the reference value are drawn often; once scores are known,
   half of each batch *targets* the verdict boundary: mutations (shrinking steps) of the point
   whose score, the smallest normalised slack of its conditions, is lowest among those that
   hold (hypothesis' ``target()``, minimising the slack).
2. **shrink** the best counterexample towards the reference: fewest changed keys first (reset
   one key, or all but one, to the reference), then the smallest normalised distance (bisection
   of each changed numeric key between the reference value, which holds, and the failing value).
3. **boundaries**: for every varied key, the interval ``[pass side, fail side]`` along that key
   through the counterexample (the others at its values), refined by bisection to ``tol`` of
   the key's range while the budget lasts; keys the counterexample leaves at the reference are
   probed at their range ends first.

Then it draws again while budget remains; a better counterexample found later is shrunk in turn.
A *counterexample* is a point whose verdict is ``fail``; only when no point fails are
``inconclusive`` points shrunk instead (the result says which). Points whose check raised are
``error`` and points that break a cross-field rule of the parameters are ``invalid`` (no budget
spent); neither is a counterexample.

Why our own driver and not ``@given``: evaluations cost seconds (a claim's whole check), so the
budget must bound every evaluation, shrinking included (hypothesis bounds only generated
examples); shrinking must go towards the *registered defaults*, not towards hypothesis' simplest
values; the boundary interval is an output, not a by-product; and points are evaluated in
batches whose content depends only on the seed and on earlier verdicts, never on which worker
finished first, so a dask cluster gives the same result as a loop in this process.

The claim-level entry point is :func:`run_claim_search` (``purecheck stress`` and the stress
profile's ``test_<ID>_stress``); :func:`search` is the engine on a plain function.
"""
from __future__ import annotations

import functools
import json
import math
import time
import tomllib
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .explore.sweep import open_client, parse_scheduler, run_tasks

DRIVER = ("purecheck stress search: reference, one-key extremes, random and targeted draws (target = smallest "
          "condition slack), shrinking to the fewest changed keys then the smallest normalised distance from the "
          "registered defaults, bisection of each key's boundary; batches depend only on the seed and earlier verdicts")
DEFAULT_BATCH = 4
DEFAULT_TOL = 1e-3
P_END = 0.05  # probability that a random coordinate is drawn at each end of its range
P_REFERENCE = 0.05  # ... at the reference value
MAX_DRAW_TRIES = 200  # draws per batch slot before the space counts as exhausted
MAX_IDLE_BATCHES = 20  # batches in a row of invalid draws before the search stops


class StressError(ValueError):
    """A --vary range or a search setting that cannot be used (the message starts with the key)."""


# ------------------------------------------------------------------------------------------ space
def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _frozen(v: Any) -> Any:
    """A hashable, comparable form of a value (lists become tuples, recursively)."""
    if isinstance(v, (list, tuple)):
        return tuple(_frozen(x) for x in v)
    return v


def _jsonable(v: Any) -> Any:
    if isinstance(v, tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return v


@dataclass(frozen=True)
class Axis:
    """One varied key: a numeric interval ``[lo, hi]`` (integers when ``integer``) or a set of ``values``.

    ``reference`` is where shrinking goes: the registered default, clamped into the interval (or the
    nearest of the values; the first value when the default is not a number and not among them).
    """

    key: str
    lo: float | None = None
    hi: float | None = None
    values: tuple | None = None
    integer: bool = False
    reference: Any = None
    default: Any = None  # the registered default itself (may lie outside the varied range)

    @classmethod
    def interval(cls, key: str, lo: float, hi: float, *, default: Any, integer: bool = False) -> "Axis":
        if not (_is_number(lo) and _is_number(hi)):
            raise StressError(f"{key}: a range LO:HI needs numbers, got {lo!r}:{hi!r}")
        if lo > hi:
            raise StressError(f"{key}: range {lo:g}:{hi:g} has LO > HI")
        if integer and (float(lo) != int(lo) or float(hi) != int(hi)):
            raise StressError(f"{key}: an integer key needs integer ends, got {lo:g}:{hi:g}")
        lo, hi = (int(lo), int(hi)) if integer else (float(lo), float(hi))
        ref = default if _is_number(default) else lo
        ref = min(max(ref, lo), hi)
        ref = int(round(ref)) if integer else float(ref)
        return cls(key, lo, hi, None, integer, ref, _frozen(default))

    @classmethod
    def choice(cls, key: str, values: Sequence, *, default: Any) -> "Axis":
        vals = tuple(dict.fromkeys(_frozen(v) for v in values))
        if not vals:
            raise StressError(f"{key}: a set of values needs at least one value")
        default = _frozen(default)
        if default in vals:
            ref = default
        elif _is_number(default) and all(_is_number(v) for v in vals):
            ref = min(vals, key=lambda v: (abs(v - default), vals.index(v)))
        else:
            ref = vals[0]
        return cls(key, None, None, vals, False, ref, default)

    @property
    def kind(self) -> str:
        return "values" if self.values is not None else "interval"

    @property
    def numeric(self) -> bool:
        return self.values is None or all(_is_number(v) for v in self.values)

    def span(self) -> float:
        if self.values is None:
            return float(self.hi - self.lo)
        if self.numeric and len(self.values) > 1:
            return float(max(self.values) - min(self.values))
        return 0.0

    def distance(self, v: Any) -> float:
        """Normalised distance from the reference: |v - ref| / span for numbers, 0 or 1 otherwise."""
        v = _frozen(v)
        if v == self.reference:
            return 0.0
        if self.numeric and self.span() > 0:
            return abs(float(v) - float(self.reference)) / self.span()
        return 1.0

    def describe(self) -> dict:
        out: dict[str, Any] = ({"lo": self.lo, "hi": self.hi, "integer": self.integer} if self.values is None
                               else {"values": [_jsonable(v) for v in self.values]})
        out["reference"] = _jsonable(self.reference)
        out["default"] = _jsonable(self.default)
        return out

    # -------------------------------------------------------------- drawing
    def draw(self, rng: np.random.Generator) -> Any:
        u = rng.random()
        if self.values is not None:
            if u < P_REFERENCE:
                return self.reference
            return self.values[int(rng.integers(len(self.values)))]
        if u < P_END:
            return self.lo
        if u < 2 * P_END:
            return self.hi
        if u < 2 * P_END + P_REFERENCE:
            return self.reference
        if self.integer:
            return int(rng.integers(self.lo, self.hi + 1))
        return float(rng.uniform(self.lo, self.hi))

    def mutate(self, v: Any, rng: np.random.Generator, scale: float) -> Any:
        if self.values is not None:
            if len(self.values) == 1:
                return self.values[0]
            others = [x for x in self.values if x != v]
            return others[int(rng.integers(len(others)))]
        step = rng.normal(0.0, scale * (self.hi - self.lo))
        new = min(max(v + step, self.lo), self.hi)
        return int(round(new)) if self.integer else float(new)

    def midpoint(self, good: Any, bad: Any, tol: float) -> Any | None:
        """The next bisection point between ``good`` and ``bad``, or None when they are within ``tol``."""
        if self.values is not None:
            return None
        if self.integer:
            if abs(bad - good) <= 1:
                return None
            return (good + bad) // 2
        if abs(bad - good) <= tol * max(self.hi - self.lo, 1e-300):
            return None
        return 0.5 * (good + bad)

    def ends(self) -> list:
        """The values probed when the counterexample leaves this key at its reference."""
        if self.values is not None:
            return sorted((v for v in self.values if v != self.reference), key=self.distance)
        return [v for v in (self.lo, self.hi) if v != self.reference]


@dataclass(frozen=True)
class Space:
    axes: tuple[Axis, ...]

    def __post_init__(self) -> None:
        keys = [a.key for a in self.axes]
        if len(set(keys)) != len(keys):
            dup = next(k for k in keys if keys.count(k) > 1)
            raise StressError(f"{dup}: varied twice")
        if not keys:
            raise StressError("vary: at least one key must be varied")

    @property
    def keys(self) -> list[str]:
        return [a.key for a in self.axes]

    def axis(self, key: str) -> Axis:
        return next(a for a in self.axes if a.key == key)

    def reference(self) -> dict:
        return {a.key: a.reference for a in self.axes}

    def ident(self, point: Mapping) -> tuple:
        return tuple(_frozen(point[a.key]) for a in self.axes)

    def changed(self, point: Mapping) -> list[str]:
        return [a.key for a in self.axes if _frozen(point[a.key]) != a.reference]

    def distance(self, point: Mapping) -> float:
        return float(sum(a.distance(point[a.key]) for a in self.axes))

    def order(self, point: Mapping) -> tuple[int, float]:
        """How far a point is from the reference: (changed keys, normalised L1 distance)."""
        return len(self.changed(point)), self.distance(point)

    def describe(self) -> dict:
        return {a.key: a.describe() for a in self.axes}


# ------------------------------------------------------------------------------------------ outcomes
def slack(condition) -> float:
    """Normalised slack of a condition (> 0: the whole interval on the claimed side; < 0: on the wrong side)."""
    est, thr = condition.estimate, float(condition.threshold)
    edge = est.lower if condition.side == "above" else est.upper
    gap = (edge - thr) if condition.side == "above" else (thr - edge)
    scale = max(abs(thr), abs(est.value) if math.isfinite(est.value) else 0.0, 1e-12)
    if not math.isfinite(gap):
        return 1.0 if gap > 0 else -1.0
    return float(max(-1.0, min(1.0, gap / scale)))


def summarise(outcome, extra: Mapping[str, Any] | None = None) -> dict:
    """A point's record from a check's Outcome: verdict, key numbers, target score, failing conditions."""
    numbers: dict[str, Any] = {}
    for kn in outcome.key_numbers:
        numbers[kn["name"]] = kn.get("value")
    numbers.update(extra or {})
    conds = list(outcome.conditions)
    score = min((slack(c) for c in conds), default=None)
    failed = [f"{c.describe()} -> {c.verdict}" for c in conds if c.verdict != "pass"][:3]
    return {"verdict": outcome.verdict, "numbers": numbers, "score": score, "failed": failed}


def _guarded(fn: Callable[[Any], dict], payload: Any) -> dict:
    """``fn(payload)``, with an exception turned into an ``error`` verdict (the search goes on)."""
    try:
        return fn(payload)
    except Exception as exc:  # noqa: BLE001 - a crash at one point is recorded, never a counterexample
        return {"verdict": "error", "numbers": {}, "score": None, "failed": [],
                "error": f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"}


def task_runner(fn: Callable[[Any], dict], payload: Callable[[dict], Any] = lambda p: p, *,
                scheduler: str | None = None, client=None):
    """``evaluate_batch(points, progress)`` running ``fn(payload(point))`` as sweep tasks (in process or on dask).

    With ``client`` (a ``distributed.Client``) or a dask ``scheduler`` spec, ``fn`` and the payloads
    must be picklable (module-level functions, plain data).
    """
    def evaluate_batch(points: list[dict], progress=None) -> list[dict]:
        calls = [(functools.partial(_guarded, fn), payload(p)) for p in points]
        results, stats = run_tasks(calls, scheduler if client is None else None, progress=progress, client=client)
        return [{**res, "seconds": round(float(dt), 4)} for res, dt in zip(results, stats.task_s)]

    return evaluate_batch


# ------------------------------------------------------------------------------------------ driver
@dataclass
class Evaluation:
    index: int
    point: dict
    verdict: str
    numbers: dict
    score: float | None
    phase: str
    seconds: float = 0.0
    failed: list = field(default_factory=list)
    error: str | None = None

    def to_dict(self, space: Space) -> dict:
        out = {"index": self.index, "params": {k: _jsonable(v) for k, v in self.point.items()},
               "verdict": self.verdict, "numbers": self.numbers, "score": self.score, "phase": self.phase,
               "changed_keys": space.changed(self.point), "distance": round(space.distance(self.point), 12)}
        if self.failed:
            out["failed"] = self.failed
        if self.error:
            out["error"] = self.error
        out["seconds"] = self.seconds
        return out


class _Search:
    def __init__(self, space: Space, evaluate_batch, *, budget: int, seed: int, batch: int, tol: float,
                 validate: Callable[[dict], str | None] | None, progress):
        if budget < 1:
            raise StressError(f"budget must be >= 1, got {budget}")
        if batch < 1:
            raise StressError(f"batch must be >= 1, got {batch}")
        if not (0 < tol < 1):
            raise StressError(f"tol must be in (0, 1), got {tol}")
        self.space, self.evaluate_batch = space, evaluate_batch
        self.budget, self.seed, self.batch, self.tol = budget, seed, batch, tol
        self.validate, self.progress = validate, progress
        self.rng = np.random.default_rng(seed)
        self.evals: list[Evaluation] = []
        self.invalid: list[dict] = []
        self.cache: dict[tuple, Evaluation | str] = {}
        self.used = 0
        self.target_batches = 0
        self.shrunk: set[frozenset] = set()  # sets of changed keys whose best counterexample has been shrunk
        self.shrunk_mode: str | None = None

    # ---------------------------------------------------------- evaluation
    def left(self) -> int:
        return self.budget - self.used

    def run(self, points: list[dict], phase: str | list[str]) -> list[Evaluation | None]:
        """Evaluate ``points`` (cached ones are free, invalid ones are recorded); None where the budget ran out."""
        phases = [phase] * len(points) if isinstance(phase, str) else list(phase)
        todo: list[tuple[tuple, dict, str]] = []
        for p, ph in zip(points, phases):
            k = self.space.ident(p)
            if k in self.cache or any(k == t for t, _, _ in todo):
                continue
            why = self.validate(p) if self.validate else None
            if why:
                self.cache[k] = "invalid"
                self.invalid.append({"params": {a: _jsonable(v) for a, v in p.items()}, "reason": why})
                continue
            if len(todo) < self.left():
                todo.append((k, dict(p), ph))
        if todo:
            base = self.used
            prog = (lambda done, total: self.progress(base + done, self.budget)) if self.progress else None
            results = self.evaluate_batch([p for _, p, _ in todo], prog)
            for (k, p, ph), r in zip(todo, results):
                ev = Evaluation(len(self.evals), p, r["verdict"], r.get("numbers") or {}, r.get("score"), ph,
                                r.get("seconds", 0.0), r.get("failed") or [], r.get("error"))
                self.evals.append(ev)
                self.cache[k] = ev
            self.used += len(todo)
        out = []
        for p in points:
            hit = self.cache.get(self.space.ident(p))
            out.append(hit if isinstance(hit, Evaluation) else None)
        return out

    def one(self, point: dict, phase: str) -> Evaluation | None:
        return self.run([point], phase)[0]

    # ---------------------------------------------------------- what counts as a counterexample
    def mode(self) -> str | None:
        verdicts = {e.verdict for e in self.evals}
        return "fail" if "fail" in verdicts else ("inconclusive" if "inconclusive" in verdicts else None)

    def bad(self, ev: Evaluation | None) -> bool:
        if ev is None:
            return False
        m = self.mode()
        return ev.verdict == "fail" if m == "fail" else (m == "inconclusive" and ev.verdict == "inconclusive")

    def good(self, ev: Evaluation | None) -> bool:
        return ev is not None and ev.verdict in ("pass", "fail", "inconclusive") and not self.bad(ev)

    def next_to_shrink(self) -> Evaluation | None:
        """The best counterexample of a set of changed keys not shrunk yet, if it could beat the best one.

        Each set of changed keys is shrunk once (from its best point): a counterexample of as few keys
        but a larger distance may shrink below the current best (hypothesis shrinks only one).
        """
        if self.mode() != self.shrunk_mode:  # a first failure after only inconclusive points: start over
            self.shrunk, self.shrunk_mode = set(), self.mode()
        best = self.best_bad()
        if best is None:
            return None
        n = len(self.space.changed(best.point))
        pool = [e for e in self.evals if self.bad(e) and len(self.space.changed(e.point)) <= n
                and frozenset(self.space.changed(e.point)) not in self.shrunk]
        return min(pool, key=lambda e: (*self.space.order(e.point), e.index)) if pool else None

    def best_bad(self) -> Evaluation | None:
        bad = [e for e in self.evals if self.bad(e)]
        return min(bad, key=lambda e: (*self.space.order(e.point), e.index)) if bad else None

    # ---------------------------------------------------------- phases
    def seeds(self) -> list[dict]:
        ref = self.space.reference()
        pts = [ref]
        for a in self.space.axes:
            for v in a.ends():
                pts.append({**ref, a.key: v})
        return pts[:max(1, self.budget // 2)]

    def draw_batch(self) -> tuple[list[dict], list[str]]:
        scored = [e for e in self.evals if e.score is not None and e.verdict in ("pass", "inconclusive")
                  and not self.bad(e)]
        n_target = self.batch // 2 if scored else 0
        if n_target:
            self.target_batches += 1
        scale = max(0.02, 0.25 * 0.75 ** self.target_batches)
        best = min(scored, key=lambda e: (e.score, e.index)) if scored else None
        out: list[dict] = []
        phases: list[str] = []
        seen = set(self.cache)
        for slot in range(self.batch):
            for _ in range(MAX_DRAW_TRIES):
                if slot < n_target:
                    p = dict(best.point)
                    axes = [a for a in self.space.axes if self.rng.random() < 0.5] or \
                        [self.space.axes[int(self.rng.integers(len(self.space.axes)))]]
                    for a in axes:
                        p[a.key] = a.mutate(p[a.key], self.rng, scale)
                else:
                    p = {a.key: a.draw(self.rng) for a in self.space.axes}
                k = self.space.ident(p)
                if k not in seen:
                    seen.add(k)
                    out.append(p)
                    phases.append("target" if slot < n_target else "random")
                    break
        return out, phases

    def shrink(self, F: Evaluation) -> Evaluation:
        """Fewest changed keys (resets), then the smallest distance (bisection of each changed number)."""
        ref = self.space.reference()
        while self.left() > 0:
            moved = False
            changed = self.space.changed(F.point)
            cands = [{**F.point, k: ref[k]} for k in changed]
            if len(changed) > 2:
                cands += [{**ref, k: F.point[k]} for k in changed]
            evs = [e for e in self.run(cands, "shrink") if self.bad(e)]
            if evs:
                best = min(evs, key=lambda e: (*self.space.order(e.point), e.index))
                if self.space.order(best.point) < self.space.order(F.point):
                    F, moved = best, True
            if moved:
                continue
            for k in self.space.changed(F.point):
                a = self.space.axis(k)
                if a.values is not None:
                    continue
                br = self.bracket(F.point, a, ref[k], F.point[k])
                if br["moved_to"] is not None and self.space.order(br["moved_to"].point) < self.space.order(F.point):
                    F, moved = br["moved_to"], True
            if not moved:
                break
        return F

    def bracket(self, base: dict, a: Axis, good_v: Any, bad_v: Any) -> dict:
        """Bisect ``a`` between a value that holds and one that fails (the others at ``base``)."""
        good_v, bad_v = self._tightest(base, a, good_v, bad_v)
        g_ev = self.one({**base, a.key: good_v}, "bisect")
        f_ev = self.one({**base, a.key: bad_v}, "bisect")
        out = {"pass_side": None, "pass_side_verdict": None, "fail_side": None, "undecided": [], "resolved": False,
               "moved_to": None}
        if f_ev is None or not self.bad(f_ev):
            return out
        if g_ev is None or not self.good(g_ev):
            if self.bad(g_ev):
                out["moved_to"] = g_ev  # the "holding" end fails too: the caller moves there
            return out
        g, f, last_f = good_v, bad_v, f_ev
        while True:
            m = a.midpoint(g, f, self.tol)
            if m is None:
                out["resolved"] = True
                break
            ev = self.one({**base, a.key: m}, "bisect")
            if ev is None or ev.verdict in ("error",):
                break
            if self.bad(ev):
                f, last_f = m, ev
            else:
                if ev.verdict == "inconclusive":
                    out["undecided"].append(m)
                g, g_ev = m, ev
        out.update(pass_side=g, pass_side_verdict=g_ev.verdict, fail_side=f, moved_to=last_f)
        if g_ev.verdict != "pass":
            # the edge is inconclusive -> fail: the interval reaches back to the nearest point that holds
            side = [(v, e) for v, e in self._line(base, a) if (v - f) * (g - f) > 0]
            passes = [v for v, e in side if e.verdict == "pass"]
            if passes:
                p = min(passes, key=lambda v: abs(v - f))
                out.update(pass_side=p, pass_side_verdict="pass", edge=[min(g, f), max(g, f)])
                out["undecided"] = sorted({v for v, e in side if e.verdict == "inconclusive" and
                                           abs(v - f) < abs(p - f)})
            else:
                out["undecided"] = sorted({v for v, e in side if e.verdict == "inconclusive"})
        return out

    def _line(self, base: dict, a: Axis) -> list[tuple[Any, Evaluation]]:
        """Evaluated points whose other keys equal ``base``'s: (value of ``a``, evaluation)."""
        others = [k for k in self.space.keys if k != a.key]
        return [(e.point[a.key], e) for e in self.evals
                if all(_frozen(e.point[k]) == _frozen(base[k]) for k in others)]

    def _tightest(self, base: dict, a: Axis, good_v: Any, bad_v: Any) -> tuple[Any, Any]:
        """The tightest bracket already evaluated on the line (others at ``base``) between the two values."""
        if a.values is not None or good_v == bad_v:
            return good_v, bad_v
        lo, hi = min(good_v, bad_v), max(good_v, bad_v)
        on_line = [(abs(v - good_v), v, e) for v, e in self._line(base, a) if lo <= v <= hi]
        on_line.sort(key=lambda t: (t[0], t[2].index))
        g = good_v
        for _, v, e in on_line:
            if self.bad(e):
                return g, v
            if self.good(e):
                g = v
        return good_v, bad_v

    def boundaries(self, F: Evaluation) -> dict:
        ref = self.space.reference()
        out = {}
        for a in self.space.axes:
            v = F.point[a.key]
            if _frozen(v) != a.reference:
                br = self.bracket(F.point, a, ref[a.key], v) if a.values is None else self._values_bracket(F, a, [ref[a.key]])
            else:
                ends = a.ends()
                probes = self.run([{**F.point, a.key: e} for e in ends], "boundary")
                goods = [e for e, ev in zip(ends, probes) if self.good(ev)]
                if not goods:
                    br = None
                elif a.values is None:
                    br = self.bracket(F.point, a, min(goods, key=a.distance), v)
                else:
                    br = self._values_bracket(F, a, goods)
            out[a.key] = self._boundary_dict(a, br, v)
        return out

    def _values_bracket(self, F: Evaluation, a: Axis, goods: list) -> dict:
        for g in goods:
            ev = self.one({**F.point, a.key: g}, "boundary")
            if self.good(ev):
                return {"pass_side": g, "pass_side_verdict": ev.verdict, "fail_side": F.point[a.key],
                        "undecided": [], "resolved": True, "moved_to": None}
        return {"pass_side": None, "fail_side": F.point[a.key], "undecided": [], "resolved": False, "moved_to": None}

    def _boundary_dict(self, a: Axis, br: dict | None, fail_value: Any) -> dict:
        if br is None or br.get("pass_side") is None:
            return {"pass_side": None, "fail_side": _jsonable(fail_value), "interval": None, "resolved": False,
                    "note": f"no value of {a.key} that holds was found through the counterexample"}
        p, f = br["pass_side"], br["fail_side"]
        d = {"pass_side": _jsonable(p), "fail_side": _jsonable(f), "pass_side_verdict": br["pass_side_verdict"],
             "interval": [min(p, f), max(p, f)] if a.values is None else None, "resolved": br["resolved"]}
        if a.values is None:
            d["width"] = abs(f - p)
            d["side"] = "below" if f < p else "above"  # where the failure lies, seen from the pass side
        if br.get("edge"):
            d["edge"] = br["edge"]  # the bisected inconclusive -> fail edge inside the interval
        if br.get("undecided"):
            d["undecided"] = sorted(br["undecided"])
        return d

    # ---------------------------------------------------------- main loop
    def search(self) -> dict:
        t0 = time.perf_counter()
        seeds = self.seeds()
        phases = ["reference"] + ["extreme"] * (len(seeds) - 1)
        for i in range(0, len(seeds), self.batch):
            self.run(seeds[i:i + self.batch], phases[i:i + self.batch])
        bounds_for: tuple | None = None
        exhausted = False
        idle = 0  # draw batches in a row that spent no budget (every draw invalid)
        while self.left() > 0 and not exhausted:
            start = self.next_to_shrink()
            if start is not None:
                end = self.shrink(start)
                self.shrunk.update({frozenset(self.space.changed(start.point)), frozenset(self.space.changed(end.point))})
                continue
            F = self.best_bad()
            if F is not None and self.space.ident(F.point) != bounds_for:
                self.boundaries(F)
                bounds_for = self.space.ident(F.point)
                continue
            pts, phases = self.draw_batch()
            if not pts:
                exhausted = True
                break
            before = self.used
            self.run(pts, phases)
            idle = idle + 1 if self.used == before else 0
            exhausted = idle >= MAX_IDLE_BATCHES
        return self._result(exhausted, time.perf_counter() - t0)

    def _result(self, exhausted: bool, seconds: float) -> dict:
        F = self.best_bad()
        counts = {v: sum(e.verdict == v for e in self.evals) for v in ("pass", "fail", "inconclusive", "error")}
        counts["invalid"] = len(self.invalid)
        res = {"driver": DRIVER, "seed": self.seed, "budget": self.budget, "budget_used": self.used,
               "batch": self.batch, "tol": self.tol, "varied": self.space.describe(),
               "reference": {k: _jsonable(v) for k, v in self.space.reference().items()},
               "counts": counts, "exhausted": exhausted,
               "points": [e.to_dict(self.space) for e in self.evals], "invalid": self.invalid[:50],
               "counterexample": None, "boundaries": {k: None for k in self.space.keys}, "closest": None,
               "search_s": round(seconds, 3)}
        if F is not None:
            res["counterexample"] = {**F.to_dict(self.space), "kind": self.mode()}
            res["boundaries"] = self.boundaries(F)  # from the cache: the budget is spent
        else:
            scored = [e for e in self.evals if e.score is not None]
            if scored:
                res["closest"] = min(scored, key=lambda e: (e.score, e.index)).to_dict(self.space)
        return res


def search(space: Space, evaluate: Callable[[dict], dict] | None = None, *, evaluate_batch=None, budget: int = 20,
           seed: int = 0, batch: int = DEFAULT_BATCH, tol: float = DEFAULT_TOL,
           validate: Callable[[dict], str | None] | None = None, progress=None) -> dict:
    """Search ``space`` for the smallest counterexample of ``evaluate`` and the boundary along each key.

    ``evaluate(point) -> {"verdict": "pass"|"fail"|"inconclusive", "numbers": {...}, "score": float|None}``
    (``score``: lower = closer to failing, e.g. :func:`summarise`'s smallest condition slack), called
    in this process; or ``evaluate_batch(points, progress) -> [result, ...]`` (e.g. :func:`task_runner`
    on dask). ``validate(point) -> reason | None`` rejects points without spending budget.
    ``progress(done, budget)`` after each evaluation. Deterministic for a given ``seed``.
    """
    if (evaluate is None) == (evaluate_batch is None):
        raise TypeError("give exactly one of evaluate and evaluate_batch")
    if evaluate_batch is None:
        evaluate_batch = task_runner(evaluate)
    return _Search(space, evaluate_batch, budget=budget, seed=seed, batch=batch, tol=tol, validate=validate,
                   progress=progress).search()


# ------------------------------------------------------------------------------------------ claims
def parse_vary(text: str) -> tuple[str, tuple[str, Any]]:
    """``"net.b=0:0.9"`` -> ``("net.b", ("range", (0, 0.9)))``; ``"eval.norm=l2,linf"`` -> ``("values", (...))``."""
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key or not raw:
        raise StressError(f"--vary {text!r}: expected KEY=LO:HI or KEY=a,b,c, e.g. net.b=0:0.9")
    if ":" in raw and not raw.startswith("[") and not raw.startswith('"'):
        lo_s, _, hi_s = raw.partition(":")
        lo, hi = _literal(lo_s.strip()), _literal(hi_s.strip())
        if not (_is_number(lo) and _is_number(hi)):
            raise StressError(f"{key}: range {raw!r} needs numbers LO:HI")
        return key, ("range", (lo, hi))
    try:
        values = tomllib.loads(f"v = [{raw}]")["v"]
    except tomllib.TOMLDecodeError:
        values = [_literal(s.strip()) for s in raw.split(",")]
    return key, ("values", tuple(values))


def _literal(raw: str) -> Any:
    from .parameters import parse_value

    return parse_value(raw)


def plan_ranges(vary: Sequence[tuple[str, tuple]]) -> list[tuple[str, tuple[str, Any]]]:
    """A registry StressPlan's ``vary`` as parsed ranges: two numbers = an interval, anything else = values."""
    out = []
    for k, rng in vary:
        rng = tuple(rng)
        if len(rng) == 2 and all(_is_number(v) for v in rng):
            out.append((k, ("range", rng)))
        else:
            out.append((k, ("values", rng)))
    return out


def claim_space(params, defaults, ranges: Sequence[tuple[str, tuple[str, Any]]]) -> Space:
    """The search space of ``ranges`` over a claim's parameters, validated with the parameters' own specs.

    Every end (or value) must be allowed for its key (ParamError, naming the key and its range); the
    reference of each axis is the value in ``defaults`` (the registered defaults at the profile).
    """
    specs = params.specs()
    axes = []
    for key, (kind, rng) in ranges:
        if key not in specs:
            raise params.unknown(key)
        spec = specs[key]
        if kind == "range":
            if spec.kind not in ("int", "float"):
                raise StressError(f"{params.CLAIM}.{key}: LO:HI needs a numeric key ({key} must be {spec.allowed()}); "
                                  f"give values, e.g. --vary {key}=a,b")
            for v in rng:
                params.with_values({key: v})
            try:
                axes.append(Axis.interval(key, rng[0], rng[1], default=defaults.get(key), integer=spec.kind == "int"))
            except StressError as exc:
                raise StressError(f"{params.CLAIM}.{exc}") from None
        else:
            for v in rng:
                params.with_values({key: v})
            axes.append(Axis.choice(key, [spec.check(key, v) for v in rng], default=defaults.get(key)))
    return Space(tuple(axes))


def point_validator(params) -> Callable[[dict], str | None]:
    """Rejects points that break a cross-field rule of the parameters (ParamError message)."""
    from .parameters import ParamError

    def validate(point: dict) -> str | None:
        try:
            params.with_values({k: _jsonable(v) for k, v in point.items()})
        except ParamError as exc:
            return str(exc)
        return None

    return validate


def evaluate_point(task: dict) -> dict:
    """One point of a claim's search (a sweep task: plain data in, plain data out; runs on any worker)."""
    from hypothesis import settings

    from .profiles import register_hypothesis_profiles
    from .registry import CLAIMS

    register_hypothesis_profiles()
    settings.load_profile(task["profile"])
    claim = CLAIMS[task["claim"]]
    params = claim.resolve(task["profile"], {**task["base"], **task["point"]})
    return summarise(claim.run(params))


def run_claim_search(claim, *, profile: str, ranges, base: Mapping[str, Any] | None = None, budget: int,
                     seed: int = 0, batch: int = DEFAULT_BATCH, tol: float = DEFAULT_TOL,
                     scheduler: str | None = None, client=None, progress=None, command: str = "") -> dict:
    """A claim's StressResult: its check run at each point (``claim.run(params.with_values(point))``).

    ``base``: other keys' overrides (``--set``); ``ranges``: parsed ``--vary`` / StressPlan ranges.
    Points are dask tasks when ``scheduler`` (or ``client``) names a cluster. Raises ParamError /
    StressError (naming the key) before anything runs.
    """
    from .results import stamp

    base = dict(base or {})
    defaults = claim.defaults(profile)
    params = defaults.with_values(base) if base else defaults
    clash = sorted(set(base) & {k for k, _ in ranges})
    if clash:
        raise StressError(f"{clash[0]}: both set and varied; vary it or set it, not both")
    space = claim_space(params, defaults, ranges)
    spec = parse_scheduler(scheduler)
    payload = functools.partial(_claim_task, claim.id, profile, {k: _jsonable(v) for k, v in base.items()})
    started = time.time()
    t0 = time.perf_counter()
    if client is None and spec.kind != "inprocess":
        with open_client(spec) as cl:
            result = search(space, evaluate_batch=task_runner(evaluate_point, payload, client=cl), budget=budget,
                            seed=seed, batch=batch, tol=tol, validate=point_validator(params), progress=progress)
    else:
        runner = task_runner(evaluate_point, payload, scheduler=None if client else "inprocess", client=client)
        result = search(space, evaluate_batch=runner, budget=budget, seed=seed, batch=batch, tol=tol,
                        validate=point_validator(params), progress=progress)
    head = {"claim": claim.id, "title": claim.title, "profile": profile,
            "base_overrides": {k: _jsonable(v) for k, v in base.items()},
            "expected_at_defaults": claim.expected, "scheduler": spec.describe() if client is None else "dask client"}
    result = {**head, **result}
    result["stamp"] = stamp(profile, command, started)
    result["runtime_s"] = round(time.perf_counter() - t0, 3)
    return result


def run_stress_plan(claim, profile: str, base: Mapping[str, Any] | None = None, *, command: str = "",
                    scheduler: str | None = None, progress=None) -> dict:
    """The search of the claim's registered StressPlan (its ranges, budget and seed) at ``profile``."""
    plan = claim.stress
    if plan is None:
        raise StressError(f"{claim.id}: registers no StressPlan; give --vary KEY=LO:HI")
    base = {k: v for k, v in (base or {}).items() if k not in dict(plan.vary)}
    return run_claim_search(claim, profile=profile, ranges=plan_ranges(plan.vary), base=base, budget=plan.budget,
                            seed=plan.seed, scheduler=scheduler, progress=progress, command=command)


def audit(result: dict, expected_at_reference: str) -> list[str]:
    """What is wrong with a search result (empty when nothing): crashed points, budget overrun, and a
    reference point (when it is the registered defaults) whose verdict is not the registered one."""
    problems = []
    errors = [p for p in result["points"] if p["verdict"] == "error"]
    if errors:
        problems.append(f"{len(errors)} point(s) crashed, e.g. {errors[0]['params']}: {errors[0].get('error')}")
    if result["budget_used"] > result["budget"] or len(result["points"]) != result["budget_used"]:
        problems.append(f"spent {result['budget_used']} of a budget of {result['budget']} "
                        f"({len(result['points'])} points recorded)")
    varied = result["varied"]
    at_defaults = all(_frozen(v["reference"]) == _frozen(v["default"]) for v in varied.values())
    ref = next((p for p in result["points"] if p["phase"] == "reference"), None)
    if ref is None:
        problems.append("the reference point was not evaluated")
    elif at_defaults and ref["verdict"] != expected_at_reference:
        problems.append(f"at the registered defaults the search's evaluation gave {ref['verdict']!r}, the claim "
                        f"registers {expected_at_reference!r}")
    return problems


def _claim_task(claim_id: str, profile: str, base: dict, point: dict) -> dict:
    return {"claim": claim_id, "profile": profile, "base": base, "point": {k: _jsonable(v) for k, v in point.items()}}


TIMING_KEYS = ("seconds", "runtime_s", "search_s", "stamp", "scheduler")


def without_timings(result: Any) -> Any:
    """A StressResult without its timing and run-stamp fields (to compare two runs)."""
    if isinstance(result, dict):
        return {k: without_timings(v) for k, v in result.items() if k not in TIMING_KEYS}
    if isinstance(result, list):
        return [without_timings(v) for v in result]
    return result


def canonical_json(result: dict) -> str:
    return json.dumps(without_timings(result), sort_keys=True, default=_jsonable)
