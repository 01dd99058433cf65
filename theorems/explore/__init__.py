"""The ten beyond-the-paper questions of MODEL.md section 6 as experiments (Q1-Q10).

``run_questions(ids, size, scheduler)`` plans every task of the main checks and the negative
controls of the chosen questions, runs them as one sweep (:mod:`theorems.explore.sweep`: in
process or on dask), and judges each question and control into an
:class:`~theorems.verdict.Outcome`. ``pytest theorems/test_explore.py`` and
``purecheck explore`` both go through it.
"""
from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from types import ModuleType

from ..registry import CLAIMS
from ..verdict import Outcome
from .common import SIZE_NAMES, canonical
from .sweep import Progress, run_tasks
from .trained import SHARED_PREFIX, compute_shared

MODULES = {
    "Q1": "q01_dictionaries", "Q2": "q02_activations", "Q3": "q03_depth", "Q4": "q04_threshold",
    "Q5": "q05_approximate", "Q6": "q06_norms", "Q7": "q07_losses", "Q8": "q08_architecture",
    "Q9": "q09_samples", "Q10": "q10_task_similarity",
}
QUESTIONS = tuple(MODULES)


def module(qid: str) -> ModuleType:
    if qid not in MODULES:
        raise ValueError(f"question must be one of {', '.join(QUESTIONS)}, got {qid!r}")
    return importlib.import_module(f"{__name__}.{MODULES[qid]}")


def variants(qid: str) -> tuple[str, ...]:
    """``"main"`` and the registry's control names of ``qid``."""
    return ("main",) + tuple(c.name for c in CLAIMS[qid].controls)


@dataclass
class QuestionRun:
    """The outcomes of one question: ``outcomes[variant]``, with the runtime of its tasks."""

    qid: str
    size: str
    outcomes: dict[str, Outcome]
    task_seconds: dict[str, float] = field(default_factory=dict)  # per variant (shared tasks counted in each)
    n_tasks: int = 0


def plan_questions(ids, size: str, only: dict[str, tuple[str, ...]] | None = None):
    """The tasks of the questions ``ids`` at ``size``: ``(plans, unique)``.

    plans: ``{(qid, variant): [(task key, task identity)]}``; unique: ``{task identity: (fn, task)}``,
    one entry per distinct task (a question's tasks are identified by question and dict; shared
    training tasks by their dict alone, so questions asking for the same run share it).
    """
    if size not in SIZE_NAMES:
        raise ValueError(f"size must be one of {', '.join(SIZE_NAMES)}, got {size!r}")
    plans: dict[tuple[str, str], list[tuple[str, str]]] = {}
    unique: dict[str, tuple] = {}
    for qid in ids:
        mod = module(qid)
        sz = mod.SIZES[size]
        for v in (only or {}).get(qid, variants(qid)):
            tasks = mod.plan(sz, v)
            keys = [t["key"] for t in tasks]
            if len(set(keys)) != len(keys):
                raise ValueError(f"{qid}/{v}: task keys must be unique, got {keys}")
            entry = []
            for t in tasks:
                if t["kind"].startswith(SHARED_PREFIX):  # shared across questions: identity without its key
                    cid = canonical({name: val for name, val in t.items() if name != "key"})
                    unique.setdefault(cid, (compute_shared, t))
                else:
                    cid = qid + ":" + canonical(t)
                    unique.setdefault(cid, (mod.compute, t))
                entry.append((t["key"], cid))
            plans[(qid, v)] = entry
    return plans, unique


def run_questions(ids, size: str, scheduler=None, *, progress: Progress | None = None,
                  client=None, only: dict[str, tuple[str, ...]] | None = None,
                  memo: dict | None = None) -> tuple[dict[str, QuestionRun], dict]:
    """Plan, run (one sweep) and judge the questions ``ids`` at ``size``.

    only: optional ``{qid: variants}`` restricting which variants are run (default: all).
    memo: optional dict of finished tasks (task identity -> (result, seconds)), read and
    extended: tasks already in it are not run again (pytest shares one per session).
    Returns ``({qid: QuestionRun}, sweep statistics)``.
    """
    plans, unique = plan_questions(ids, size, only)
    order = [c for c in unique if not (memo is not None and c in memo)]
    results, stats = run_tasks([unique[c] for c in order], scheduler, progress=progress, client=client)
    by_id = {c: (r, t) for c, r, t in zip(order, results, stats.task_s)}
    if memo is not None:
        by_id.update({c: memo[c] for c in unique if c in memo})
        memo.update(by_id)
    runs: dict[str, QuestionRun] = {}
    for (qid, v), entry in plans.items():
        mod = module(qid)
        res = {key: by_id[cid][0] for key, cid in entry}
        t0 = time.perf_counter()
        out = mod.judge(v, mod.SIZES[size], res)
        judge_s = time.perf_counter() - t0
        if out.claim_id != qid:
            raise AssertionError(f"{qid}.judge returned an outcome for {out.claim_id}")
        run = runs.setdefault(qid, QuestionRun(qid, size, {}))
        run.outcomes[v] = out
        run.task_seconds[v] = sum(by_id[cid][1] for _, cid in entry) + judge_s
        run.n_tasks += len(entry)
    return runs, stats.to_dict()
