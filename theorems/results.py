"""Claim records and ``reports/latest/results.json`` (schema 2), written atomically and merged across runs.

The shape is documented in ``reports/README.md``. A record holds one claim's main outcome
and its controls with the parameters they ran at, the overrides, the judgement of the
verdict against the registered expectation, and a *stamp* (commit, profile, start time,
command) of the run that produced it. A partial run (``pytest theorems -k P2``) replaces
the records of the claims it ran and keeps the others (:func:`merge_file`); ``--fresh``
starts over. Records travel as plain dicts, so pytest-xdist workers hand theirs to the
controller, which merges them exactly as a serial run would.

Writing goes to a temporary file in the same folder, made readable by others (0644), and is
renamed over the old one, so a run that dies leaves the previous file whole.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from .profiles import control_profile
from .registry import CLAIMS, PAPER_CLAIMS, Claim, Control
from .threads import thread_counts
from .verdict import Outcome

SCHEMA = 2
CRASHED = "crashed"  # a control's observed outcome when its check raised (matches no expectation)
SPEC = "docs/model.md"
PACKAGES = ("numpy", "scipy", "sympy", "torch", "hypothesis", "pytest", "matplotlib", "jinja2", "tqdm", "scikit-learn",
            "dask", "pytest-xdist")

ASSUMPTIONS = [
    {"id": "A1", "text": "sign(0) = 0: a latent with <w*, z> = 0 has label 0 and counts as an error for every "
                         "predictor (margin y f = 0); with the logistic loss it costs log 2.",
     "why": "The project's convention 'wrong iff y f(x) <= 0' with y = sign(<w*, z>); the paper's tie rule is not available."},
    {"id": "A2", "text": "Mixing paths Q(t) = expm(tA) with A a seeded Gaussian skew matrix normalised to "
                         "||A||_F = sqrt(2d); t is the mixing amount.",
     "why": "Our parametrisation of 'mixed nodes'; the paper's mixing model is not available."},
    {"id": "A3", "text": "lambda (output scale) is optimised over [0, lambda_max] and b over [0, 0.9] in P1.",
     "why": "With sigma = 0 the clean logistic loss has no minimiser (lambda -> infinity); a bound makes the optimum exist."},
    {"id": "A4", "text": "Critical radius (P2) = smallest eps at which the exact robust error reaches "
                         "clean error + (1 - clean error)/2, i.e. half of the correctly classified mass is broken.",
     "why": "Ties make the clean (Bayes) error large at small k; a level relative to it is a scale-free summary of "
            "when a net 'breaks', and any fixed fraction gives the same sqrt(d/k) scaling."},
    {"id": "A5", "text": "Purity of a trained network weights each node by its activity E|a_j h_j(x)| on fresh inputs.",
     "why": "A large node that never fires should not make a network look pure or dense."},
    {"id": "A6", "text": "Labels with y = 0 are dropped from training losses (they carry no label information).",
     "why": "Training convention; population risks still count them as errors (A1)."},
    {"id": "A7", "text": "Training settings (radius, learning rate, steps, init scale, threshold rule) are parameters "
                         "with registered defaults; region maps over them are declared in the parameters before a run.",
     "why": "A hostile reviewer must be able to see that a passing cell was not chosen because it passes."},
]


def stamp(profile: str, command: str, started: float, git: tuple[str, bool | None] | None = None) -> dict:
    """Who made a record: profile, command, start time and the commit (``git``: as read at the start of the
    run; read now when None)."""
    commit, dirty = git_state() if git is None else git
    return {"commit": commit, "dirty": dirty, "profile": profile, "command": command,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started))}


@dataclass
class ClaimRecord:
    """One claim's outcomes in one run, at one parameter set."""

    claim: Claim
    params: Any = None  # ClaimParams
    defaults: Any = None  # the registered defaults at the run's profile
    profile: str = "quick"
    outcome: Outcome | None = None
    controls: dict[str, dict] = field(default_factory=dict)
    examples: list[dict] = field(default_factory=list)
    runtime_s: float = 0.0  # the main check's and the controls' together
    main_runtime_s: float | None = None  # the main check's alone (None: it did not finish)
    error: str | None = None  # a crash of the main check (the record still says what ran)

    def record_main(self, outcome: Outcome, runtime_s: float) -> None:
        self.outcome = outcome
        self.runtime_s += runtime_s
        self.main_runtime_s = runtime_s
        self.examples = list(outcome.examples)

    def record_control(self, control: Control, outcome: Outcome, runtime_s: float, *, profile: str | None = None) -> None:
        """``profile``: the profile whose sizes the control ran at (theorems.profiles.control_profile)."""
        self.controls[control.name] = {"observed": outcome.verdict, "message": outcome.message(),
                                       "evidence": outcome.evidence, "profile": profile or self.profile,
                                       "runtime_s": round(runtime_s, 3)}
        self.runtime_s += runtime_s

    def record_control_crash(self, control: Control, error: str, runtime_s: float, *, profile: str | None = None) -> None:
        """A control whose check raised: observed ``crashed``, which matches no expectation. Recorded (not left
        "not run") so that merging into an earlier results file cannot put that run's outcome back."""
        self.controls[control.name] = {"observed": CRASHED, "message": f"control check crashed: {error}",
                                       "evidence": {}, "profile": profile or self.profile,
                                       "runtime_s": round(runtime_s, 3)}
        self.runtime_s += runtime_s

    def add_example(self, example: dict) -> None:
        self.examples.append(example)

    def overrides(self) -> dict:
        if self.params is None or self.defaults is None:
            return {}
        return self.params.diff(self.defaults)

    def to_dict(self, run_stamp: dict) -> dict:
        c, o = self.claim, self.outcome
        overrides = self.overrides()
        flat_over = {k: v["value"] for k, v in overrides.items()}
        if self.params is not None:
            text = c.render(self.params)
            params = self.params.to_dict()
        else:
            text, params = {"statement": c.statement, "regime": c.regime}, {}
        verdict = o.verdict if o else "inconclusive"
        if o:
            match = c.judge_outcome(o, overridden=bool(overrides), profile=self.profile).to_dict()
        elif self.error:
            # a crash matches no expectation, not even a registered "inconclusive" (the verdict shown for it)
            match = {**c.judge(verdict, overridden=bool(overrides), profile=self.profile).to_dict(),
                     "matches": False, "crashed": True}
        else:
            match = None
        return {
            "id": c.id, "title": c.title, "paper_claim": c.paper_claim, "paper_claims": list(c.paper_claims),
            "scope": c.scope, "scope_note": c.scope_note, "differences": list(c.differences),
            "statement": text["statement"], "regime": text["regime"],
            "module": c.tests, "replay": c.replay(flat_over, self.profile),
            "check_command": c.check_command(flat_over, self.profile) if self.params is not None else None,
            "params": params, "overrides": overrides,
            "main_ran": o is not None,
            "main_error": None if o else self.error,
            "verdict": verdict, "expected": c.expected_at(self.profile),
            "expected_reason": (c.reason(self.params, self.profile) if self.params is not None
                                else c.expected_reason), "match": match,
            "method": (o.method if o and o.method else c.method),
            "message": o.message() if o else (f"main check crashed: {self.error}" if self.error else "main check did not run"),
            "evidence": o.evidence if o else {},
            "conditions": [x.to_dict() for x in o.conditions] if o else [],
            "key_numbers": o.key_numbers if o else [],
            "counterexample": o.counterexample if o else None,
            "regions": o.regions if o else [],
            "scaling": o.scaling if o else [],
            "robustness_audit": o.robustness_audit if o else [],
            "controls": [
                {"name": k.name, "description": k.description, "expected": k.expected,
                 "overrides": {key: _jsonable(v) for key, v in k.overrides},
                 "size_profile": self.controls.get(k.name, {}).get("profile", control_profile(self.profile)),
                 "observed": self.controls.get(k.name, {}).get("observed", "not run"),
                 "matches": (self.controls[k.name]["observed"] == k.expected) if k.name in self.controls else None,
                 "runtime_s": self.controls.get(k.name, {}).get("runtime_s"),
                 "details": ({"message": self.controls[k.name]["message"], "evidence": self.controls[k.name]["evidence"]}
                             if k.name in self.controls else None)}
                for k in c.controls
            ],
            "examples": len(self.examples),
            "drawn_examples": self.examples,
            "figures": o.figures if o else [],
            "runtime_s": round(self.runtime_s, 3),
            "main_runtime_s": None if self.main_runtime_s is None else round(self.main_runtime_s, 3),
            "stamp": dict(run_stamp),
        }


def _jsonable(v):
    return list(v) if isinstance(v, tuple) else v


class RunRecorder:
    """Session-wide store of claim records (one per claim id)."""

    def __init__(self, profile: str, command: str, base_seed: int = 0):
        self.profile = profile
        self.command = command
        self.base_seed = base_seed
        self.started = time.time()
        # The code that runs is the tree at the start: a commit made during a long run must not be stamped.
        self.git = git_state()
        self.records: dict[str, ClaimRecord] = {}
        self.stress: dict[str, dict] = {}  # StressResults of this run (test_<ID>_stress), by claim id

    def record(self, claim_id: str, params=None, defaults=None) -> ClaimRecord:
        if claim_id not in CLAIMS:
            raise KeyError(f"unregistered claim {claim_id!r}: add it to the catalogue (theorems/catalogue/)")
        rec = self.records.get(claim_id)
        if rec is None:
            rec = self.records[claim_id] = ClaimRecord(CLAIMS[claim_id], params, defaults, self.profile)
        return rec

    def stamp(self) -> dict:
        return stamp(self.profile, self.command, self.started, self.git)

    def record_dicts(self) -> dict[str, dict]:
        st = self.stamp()
        return {cid: r.to_dict(st) for cid, r in self.records.items()}

    def record_stress(self, claim_id: str, result: dict) -> None:
        self.stress[claim_id] = result

    def stress_dicts(self) -> dict[str, dict]:
        """The run's StressResults: the stress profile's searches, and the searches the stress claims' own
        checks ran (``evidence["stress"]`` of their main outcome: P2r, P2i, P1z)."""
        out = {}
        for cid, r in self.records.items():
            found = (r.outcome.evidence.get("stress") if r.outcome is not None else None)
            if isinstance(found, dict) and "boundaries" in found:
                out[cid] = found
        out.update(self.stress)
        return out


def merge_record(old: dict | None, new: dict) -> dict:
    """One claim's record after a run that produced ``new``: parts ``new`` did not run are kept from ``old``.

    Parts (the main check; each control) run at other parameters are dropped, never mixed in. A part that
    crashed in the new run replaces the old outcome (the code that ran last is broken there).
    """
    if old is None or old.get("params") != new.get("params") or old.get("id") != new.get("id"):
        return new
    attempted = new.get("main_ran") or new.get("main_error")
    base = dict(new if attempted else old)
    if not attempted:
        base["runtime_s"] = round(old.get("runtime_s", 0.0) + new.get("runtime_s", 0.0), 3)
    old_ctl = {c["name"]: c for c in old.get("controls", [])}
    controls = []
    for c in new.get("controls", []):
        keep = old_ctl.get(c["name"])
        controls.append(c if c.get("observed") != "not run" or keep is None else keep)
    base["controls"] = controls
    return base


def assemble(records: dict[str, dict], *, profile: str, command: str, started: float, base_seed: int = 0,
             stress: dict[str, dict] | None = None, git: tuple[str, bool | None] | None = None) -> dict:
    """The results file's content: records in catalogue order, claims no longer registered dropped."""
    order = [cid for cid in CLAIMS if cid in records]
    runs = []
    for cid in order:
        st = records[cid].get("stamp") or {}
        key = (st.get("commit"), st.get("profile"), st.get("started"))
        if key not in [(r.get("commit"), r.get("profile"), r.get("started")) for r in runs]:
            runs.append(st)
    out = {
        "schema": SCHEMA,
        "profile": profile,
        "command": command,
        "spec": SPEC,
        "paper_claims": [{"id": k, "text": v, "source": "abstract and summary"} for k, v in PAPER_CLAIMS.items()],
        "environment": environment(base_seed, profile, started, git),
        "runs": runs,
        "claims": [records[cid] for cid in order],
        "assumptions": ASSUMPTIONS,
    }
    if stress:  # StressResults by claim, in catalogue order (only when a search ran: purecheck stress, stress profile)
        out["stress"] = {cid: stress[cid] for cid in CLAIMS if cid in stress}
    return out


def read_records(path: Path) -> dict[str, dict]:
    """The records of an existing results file (schema 2), or {} when there is none or it cannot be used."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        return {}
    return {c["id"]: c for c in data.get("claims", []) if isinstance(c, dict) and c.get("id") in CLAIMS}


def read_stress(path: Path) -> dict[str, dict]:
    """The ``stress`` section of an existing results file (schema 2), or {}."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(data.get("stress"), dict):
        return {}
    return {cid: r for cid, r in data["stress"].items() if cid in CLAIMS and isinstance(r, dict)}


def results_target_problem(path: Path | str, *, fresh: bool, fresh_option: str | None = "--fresh") -> str | None:
    """Why a run could not write its results to ``path`` (None when it can), checked before the run computes.

    The folder, or the nearest of its ancestors that exists (nothing is created here), must be a folder that
    takes a file; an existing file must be a readable schema-2
    results file unless ``fresh`` (merging would otherwise drop its records without a word). ``fresh_option``:
    the caller's option that starts a new file, named in the message (None: it has none).
    """
    instead = f"use another folder or {fresh_option} to replace it" if fresh_option else "use another folder"
    path = Path(path)
    folder = path.parent
    base = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
    try:
        if not base.is_dir():
            raise NotADirectoryError(20, "Not a directory")
        fd, probe = tempfile.mkstemp(dir=base, prefix=".write-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return f"{folder} is not a writable folder ({exc.strerror or type(exc).__name__} at {base})"
    if fresh or not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        return f"{path} is not readable JSON ({type(exc).__name__}); {instead}"
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else None
        return f"{path} is not a schema-{SCHEMA} results file (schema {found!r}); {instead}"
    return None


def merge_file(path: Path, new_records: dict[str, dict], *, fresh: bool, profile: str, command: str,
               started: float, stress: dict[str, dict] | None = None,
               git: tuple[str, bool | None] | None = None) -> dict:
    """The file after a run: its new records and StressResults replace those of the same claims, the rest is kept.

    ``git``: the commit and dirty flag read at the run's start (the records' stamps'); read now when None."""
    old = {} if fresh else read_records(path)
    merged = dict(old)
    for cid, rec in new_records.items():
        merged[cid] = merge_record(old.get(cid), rec)
    searches = {} if fresh else read_stress(path)
    searches.update(stress or {})
    return assemble(merged, profile=profile, command=command, started=started, stress=searches, git=git)


def environment(base_seed: int, profile: str, started: float, git: tuple[str, bool | None] | None = None) -> dict:
    pkgs = {}
    for name in PACKAGES:
        try:
            pkgs[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pkgs[name] = "not installed"
    commit, dirty = git_state() if git is None else git  # the run's start, like its records' stamps
    return {
        "python": platform.python_version(), "platform": platform.platform(), "machine": platform.machine(),
        "cpus": os.cpu_count(), "threads": thread_counts(), "packages": pkgs, "commit": commit, "dirty": dirty,
        "seeds": {"hypothesis": "derandomized (fixed database-free seed)", "base_seed": base_seed,
                  "profile": profile},
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "runtime_s": round(time.time() - started, 1),
    }


def git_state() -> tuple[str, bool | None]:
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=10).stdout.strip() or "unknown"
        # Outputs under reports/ (e.g. a reference report being regenerated) do not make the code dirty.
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)reports"],
                                cwd=root, capture_output=True, text=True, timeout=10).stdout
        return commit, bool(status.strip())
    except (OSError, subprocess.SubprocessError):
        return "unknown", None


def write_atomically(data: dict, path: Path) -> Path:
    """Write JSON to ``path`` via a temp file in the same folder and an atomic rename (mode 0644)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".results-", suffix=".json.tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=1, sort_keys=False, allow_nan=True, default=_default)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp makes the file 0600; a results file is meant to be read by others.
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _default(obj):
    import numpy as np

    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return obj.item()
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return str(obj)
