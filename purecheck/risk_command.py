"""``purecheck risk CONFIG.toml``: the clean error and, per radius, the robust error with method and interval.

The file's sections (all keys validated; a bad value exits 2 with one line naming it)::

    [model]   d = 10, p = 0.2, sigma = 0.0, magnitude = 1.0, dictionary = "identity" | "random", seed = 0
    [task]    wstar = [ ... d numbers ... ]
    [network] kind = "linear" | "pure" | "mixed", b = 0.3, scale = 1.0, t = 0.0, mixing_seed = 0
    [attack]  norm = "l2" | "linf", eps = [0.0, 0.1, 0.2]
    [method]  kind = "auto" | "exact" | "mc" | "bound" | "verified" | "attack", samples = (engine default), seed = 0

Output goes to stdout; a reader that stops early (``purecheck risk job.toml | head -1``) ends the
command quietly with status 141 (the shell's code for SIGPIPE), never with a traceback.
"""
from __future__ import annotations

import json
import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from numerics.config import ModelConfig, UniformMagnitude
from numerics.dictionaries import random_skew
from numerics.errors import BoundViolation
from numerics.networks import linear_net, mixed_net, mixing_path, pure_net
from numerics.risk import METHODS, clean_error, robust_error
from numerics.risk.spec import MAX_SAMPLES
from numerics.sparse_coding import SparseCodingModel
from numerics.validation import require_array, require_choice, require_int, require_real

SIGPIPE_STATUS = 141  # 128 + SIGPIPE: what a shell reports for a writer whose reader went away

KNOWN = {
    "model": {"d", "p", "sigma", "magnitude", "dictionary", "seed"},
    "task": {"wstar"},
    "network": {"kind", "b", "scale", "t", "mixing_seed"},
    "attack": {"norm", "eps"},
    "method": {"kind", "samples", "seed", "level"},
}


@dataclass(frozen=True)
class RiskJob:
    model: SparseCodingModel
    wstar: np.ndarray
    net: object
    norm: str
    eps: tuple[float, ...]
    method: str
    samples: int | None  # None: the default of the engine used (numerics.risk.DEFAULT_SAMPLES)
    seed: int
    level: float


def parse_job(doc: dict) -> RiskJob:
    """Validate a parsed TOML document into a job; ValueError names the offending field."""
    for section, keys in KNOWN.items():
        got = doc.get(section, {})
        if not isinstance(got, dict):
            raise ValueError(f"[{section}] must be a table")
        extra = set(got) - keys
        if extra:
            raise ValueError(f"[{section}] has unknown key(s) {sorted(extra)}; allowed: {sorted(keys)}")
    unknown_sections = set(doc) - set(KNOWN)
    if unknown_sections:
        raise ValueError(f"unknown section(s) {sorted(unknown_sections)}; allowed: {sorted(KNOWN)}")
    m = doc.get("model", {})
    mag = m.get("magnitude", 1.0)
    if isinstance(mag, list):
        if len(mag) != 2:
            raise ValueError("model.magnitude must be a number (point mass) or [low, high] (uniform)")
        mag = UniformMagnitude(*mag)
    if "d" not in m:
        raise ValueError("model.d is required (an integer >= 1)")
    cfg = ModelConfig(d=_field("model.d", require_int, m["d"], low=1), p=_field("model.p", require_real, m.get("p", 0.2), low=0.0, high=1.0, low_open=True),
                      sigma=_field("model.sigma", require_real, m.get("sigma", 0.0), low=0.0), magnitude=mag,
                      dictionary=_field("model.dictionary", require_choice, m.get("dictionary", "random"), ("identity", "random")),
                      dictionary_seed=_field("model.seed", require_int, m.get("seed", 0), low=0))
    model = SparseCodingModel(cfg)
    t = doc.get("task", {})
    if "wstar" not in t:
        raise ValueError(f"task.wstar is required ({cfg.d} numbers)")
    wstar = _field("task.wstar", require_array, t["wstar"], shape=(cfg.d,))
    n = doc.get("network", {})
    kind = _field("network.kind", require_choice, n.get("kind", "pure"), ("linear", "pure", "mixed"))
    scale = _field("network.scale", require_real, n.get("scale", 1.0), low=0.0, low_open=True)
    b = _field("network.b", require_real, n.get("b", 0.0), low=0.0)
    if kind == "linear":
        net = linear_net(model.M, wstar, scale)
    elif kind == "pure":
        net = pure_net(model.M, wstar, b, scale)
    else:
        tt = _field("network.t", require_real, n.get("t", 0.0))
        seed = _field("network.mixing_seed", require_int, n.get("mixing_seed", 0), low=0)
        Q = mixing_path(random_skew(cfg.d, seed), tt) if cfg.d > 1 else np.eye(1)
        net = mixed_net(model.M, wstar, Q, b, scale)
    a = doc.get("attack", {})
    norm = _field("attack.norm", require_choice, a.get("norm", "l2"), ("l2", "linf"))
    eps_list = a.get("eps", [0.0])
    if not isinstance(eps_list, list):
        eps_list = [eps_list]
    eps = tuple(_field(f"attack.eps[{i}]", require_real, e, low=0.0) for i, e in enumerate(eps_list))
    me = doc.get("method", {})
    return RiskJob(model, wstar, net, norm, eps,
                   _field("method.kind", require_choice, me.get("kind", "auto"), METHODS),
                   None if "samples" not in me else _field("method.samples", require_int, me["samples"], low=100,
                                                           high=MAX_SAMPLES),
                   _field("method.seed", require_int, me.get("seed", 0), low=0),
                   _field("method.level", require_real, me.get("level", 0.99), low=0.0, high=1.0, low_open=True, high_open=True))


def _field(name, check, value, *args, **kwargs):
    """Run a validator and re-label its error with the TOML field name."""
    try:
        return check(name, value, *args, **kwargs)
    except ValueError as exc:
        raise ValueError(str(exc)) from None


def evaluate(job: RiskJob) -> dict:
    kw = dict(method=job.method, samples=job.samples, seed=job.seed, level=job.level)
    clean = clean_error(job.net, job.model, job.wstar, **kw)
    rows = []
    for e in job.eps:
        r = robust_error(job.net, job.model, job.wstar, e, norm=job.norm, **kw)
        rows.append({"eps": e, **_public(r)})
    return {"clean_error": _public(clean), "robust_error": rows}


def _public(est) -> dict:
    d = est.to_dict()
    return {k: d[k] for k in ("value", "lower", "upper", "method") if k in d} | (
        {"level": d["level"]} if "level" in d else {}) | ({"n": d["n"]} if "n" in d else {})


def run_risk(path: str, *, as_json: bool = False) -> int:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        print(f"purecheck risk: error: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        print(f"purecheck risk: error: {path} is not valid TOML: {exc}", file=sys.stderr)
        return 2
    try:
        job = parse_job(doc)
        result = evaluate(job)
    except ValueError as exc:
        print(f"purecheck risk: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    except BoundViolation as exc:  # an engine bug, not bad input: say so in one line
        print(f"purecheck risk: internal error (please report): {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    return _emit(result, as_json)


def _emit(result: dict, as_json: bool) -> int:
    """Print the result; a closed pipe (``| head``) ends quietly with ``SIGPIPE_STATUS``."""
    try:
        if as_json:
            print(json.dumps(result, indent=1))
        else:
            c = result["clean_error"]
            print(f"clean error   {c['value']:.6g}  [{c['lower']:.6g}, {c['upper']:.6g}]  {c['method']}")
            for r in result["robust_error"]:
                print(f"eps {r['eps']:<8g}  {r['value']:.6g}  [{r['lower']:.6g}, {r['upper']:.6g}]  {r['method']}")
        sys.stdout.flush()  # inside the try: a buffered pipe fails here, not at interpreter exit
    except BrokenPipeError:
        # the reader went away: point stdout at /dev/null so the exit-time flush cannot fail again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return SIGPIPE_STATUS
    return 0
