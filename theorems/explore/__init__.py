"""The ten beyond-the-paper questions Q1-Q10 as parameterised propositions: plan, sweep, judge.

Each question module (``qNN_*.py``, conventions in :mod:`theorems.explore.common`) turns its
parameters into independent tasks (``plan``), computes one task (``compute``) and judges the
results (``judge``). :func:`run_checks` runs the checks of several ``(question, params)``
items (main checks and controls, which are parameter variants) as ONE sweep of their distinct
tasks (:mod:`theorems.explore.sweep`: in process or on dask, identical results), so that
tasks shared by a claim and its controls, or by several questions, are computed once.
:func:`check` is the registry's ``check(params) -> Outcome`` of one question, in process,
reusing the tasks this process already finished (pytest runs a claim's main check and its
controls one after another). ``purecheck explore`` runs :func:`run_questions`.
"""
from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Sequence

from ..profiles import control_profile
from ..verdict import Outcome
from .common import canonical
from .sweep import Progress, run_tasks
from .trained import SHARED_PREFIX, compute_shared

MODULES = {
    "Q1": "q01_dictionaries", "Q2": "q02_activations", "Q3": "q03_depth", "Q4": "q04_threshold",
    "Q5": "q05_approximate", "Q6": "q06_norms", "Q7": "q07_losses", "Q8": "q08_architecture",
    "Q9": "q09_samples", "Q10": "q10_task_similarity",
}
QUESTIONS = tuple(MODULES)

# Tasks finished in this process (task identity -> (result, seconds)), read and extended by check().
MEMO: dict[str, tuple[Any, float]] = {}


def module(qid: str) -> ModuleType:
    if qid not in MODULES:
        raise ValueError(f"question must be one of {', '.join(QUESTIONS)}, got {qid!r}")
    return importlib.import_module(f"{__name__}.{MODULES[qid]}")


def plan_items(items: Sequence[tuple[str, Any]]):
    """The tasks of ``items`` (``(question id, params)``): ``(plans, unique)``.

    plans: one ``[(task key, task identity)]`` per item; unique: ``{task identity: (fn, task)}``,
    one entry per distinct task (a question's own tasks are identified by question and dict; the
    shared training tasks by their dict alone, so questions asking for the same run share it).
    """
    plans: list[list[tuple[str, str]]] = []
    unique: dict[str, tuple] = {}
    for qid, params in items:
        mod = module(qid)
        tasks = mod.plan(params)
        keys = [t["key"] for t in tasks]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{qid}: task keys must be unique, got {keys}")
        entry = []
        for t in tasks:
            if t["kind"].startswith(SHARED_PREFIX):  # shared across questions: identity without its key
                cid = canonical({name: val for name, val in t.items() if name != "key"})
                unique.setdefault(cid, (compute_shared, t))
            else:
                cid = qid + ":" + canonical(t)
                unique.setdefault(cid, (mod.compute, t))
            entry.append((t["key"], cid))
        plans.append(entry)
    return plans, unique


def run_checks(items: Sequence[tuple[str, Any]], scheduler=None, *, progress: Progress | None = None, client=None,
               memo: dict | None = None) -> tuple[list[Outcome], list[float], dict]:
    """Plan, run (one sweep of the distinct tasks) and judge every ``(question id, params)`` item.

    memo: optional dict of finished tasks (task identity -> (result, seconds)), read and extended:
    tasks already in it are not run again. Returns the outcomes (in the order of ``items``), each
    item's seconds (its tasks, shared ones counted in each, plus its judgement) and the sweep's
    statistics.
    """
    plans, unique = plan_items(items)
    order = [c for c in unique if not (memo is not None and c in memo)]
    results, stats = run_tasks([unique[c] for c in order], scheduler, progress=progress, client=client)
    by_id = {c: (r, t) for c, r, t in zip(order, results, stats.task_s)}
    if memo is not None:
        by_id.update({c: memo[c] for c in unique if c in memo})
        memo.update(by_id)
    outcomes, seconds = [], []
    for (qid, params), entry in zip(items, plans):
        mod = module(qid)
        t0 = time.perf_counter()
        out = mod.judge(params, {key: by_id[cid][0] for key, cid in entry})
        if out.claim_id != qid:
            raise AssertionError(f"{qid}.judge returned an outcome for {out.claim_id}")
        outcomes.append(out)
        seconds.append(sum(by_id[cid][1] for _, cid in entry) + time.perf_counter() - t0)
    return outcomes, seconds, stats.to_dict()


def check(qid: str, params) -> Outcome:
    """One question's check at ``params``, in this process, reusing this process's finished tasks."""
    outcomes, _, _ = run_checks([(qid, params)], "inprocess", memo=MEMO)
    return outcomes[0]


@dataclass
class QuestionRun:
    """One question's outcomes at a profile: ``outcomes["main"]`` and one per control, with their parameters."""

    qid: str
    profile: str
    params: dict[str, Any]  # variant -> the ClaimParams it ran at
    outcomes: dict[str, Outcome]
    seconds: dict[str, float] = field(default_factory=dict)  # per variant (shared tasks counted in each)


def run_questions(ids, profile: str = "quick", scheduler=None, *, progress: Progress | None = None, client=None,
                  memo: dict | None = None) -> tuple[dict[str, QuestionRun], dict]:
    """The main checks and every control of the questions ``ids`` at the registered ``profile``, as one sweep."""
    from ..registry import CLAIMS

    items, labels = [], []
    for qid in ids:
        module(qid)
        claim = CLAIMS[qid]
        base = claim.defaults(profile)
        items.append((qid, base))
        labels.append((qid, "main", base))
        control_base = claim.defaults(control_profile(profile))
        for ctl in claim.controls:
            p = ctl.params(control_base)
            items.append((qid, p))
            labels.append((qid, ctl.name, p))
    outcomes, seconds, stats = run_checks(items, scheduler, progress=progress, client=client, memo=memo)
    runs: dict[str, QuestionRun] = {}
    for (qid, variant, params), out, sec in zip(labels, outcomes, seconds):
        run = runs.setdefault(qid, QuestionRun(qid, profile, {}, {}))
        run.params[variant], run.outcomes[variant], run.seconds[variant] = params, out, sec
    return runs, stats


def plan_questions(ids, profile: str = "quick"):
    """The distinct tasks of the questions ``ids`` (main checks and controls) at ``profile``: ``(plans, unique)``."""
    from ..registry import CLAIMS

    items = []
    for qid in ids:
        module(qid)
        base, control_base = CLAIMS[qid].defaults(profile), CLAIMS[qid].defaults(control_profile(profile))
        items += [(qid, base)] + [(qid, c.params(control_base)) for c in CLAIMS[qid].controls]
    return plan_items(items)
