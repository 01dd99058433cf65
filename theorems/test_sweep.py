"""The question runner and its sweeps (theorems/explore), and ``purecheck explore`` run as a program.

Each test names the defect it catches:
- a scheduler spec parsed wrongly, or a bad one accepted (runs somewhere unintended);
- an unreachable dask scheduler that hangs or dies with a traceback instead of one line;
- results out of order, progress not reported, task errors swallowed;
- a critical-radius interval that does not contain a known step, a region map whose smallest
  counterexample is not the nearest failing cell;
- tasks that are not JSON-able or not unique (a task that is not its own identity cannot be
  shared or run on a cluster), shared tasks computed twice, a memo that recomputes;
- results that depend on the scheduler (in process vs a dask LocalCluster);
- ``purecheck explore`` writing a results file the report cannot read, or dropping records.
"""
from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from .explore import MEMO, QUESTIONS, check, module, plan_items, plan_questions, run_checks
from .explore.common import critical_radius, radius_ratio, region_map
from .explore.sweep import SchedulerUnreachable, call_task, open_client, parse_scheduler, run_tasks, unreachable
from .registry import CLAIMS

ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- schedulers


@pytest.mark.parametrize("spec, kind, workers, address", [
    (None, "inprocess", None, None), ("inprocess", "inprocess", None, None), ("sync", "inprocess", None, None),
    ("local:3", "local", 3, None), ("tcp://127.0.0.1:8786", "address", None, "tcp://127.0.0.1:8786"),
])
def test_parse_scheduler(spec, kind, workers, address):
    s = parse_scheduler(spec)
    assert (s.kind, s.workers, s.address) == (kind, workers, address)


def test_parse_scheduler_local_uses_every_cpu():
    assert parse_scheduler("local").workers == max(1, os.cpu_count() or 1)


@pytest.mark.parametrize("bad", ["local:0", "local:x", "cluster", 3])
def test_parse_scheduler_rejects_bad_specs(bad):
    with pytest.raises(ValueError, match=r"^scheduler "):
        parse_scheduler(bad)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


def test_an_unreachable_scheduler_is_one_line_naming_it():
    addr = f"tcp://127.0.0.1:{_closed_port()}"
    why = unreachable(addr)
    assert why is not None and why.startswith(f"--scheduler {addr}: cannot reach") and "\n" not in why
    assert unreachable("inprocess") is None and unreachable("local:2") is None
    assert unreachable("tcp://nohost").startswith("--scheduler tcp://nohost: expected an address")
    with pytest.raises(SchedulerUnreachable, match=r"^--scheduler tcp://127\.0\.0\.1:\d+: cannot reach"):
        with open_client(parse_scheduler(addr)):
            pass


def _square(x):
    return x * x


def test_inprocess_keeps_order_and_reports_progress():
    seen = []
    out, stats = run_tasks([(_square, i) for i in range(7)], "inprocess", progress=lambda d, n: seen.append((d, n)))
    assert out == [i * i for i in range(7)]
    assert seen == [(i, 7) for i in range(1, 8)] and stats.tasks == 7 and len(stats.task_s) == 7


def _started_at(x):
    import time

    time.sleep(0.05)
    return x, time.perf_counter()


def test_dask_runs_the_costliest_tasks_first_and_keeps_the_order_of_results():
    from distributed import Client, LocalCluster

    costs = [1.0, 5.0, 3.0, 4.0, 2.0]
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        out, stats = run_tasks([(_started_at, i) for i in range(5)], client=client, costs=costs)
    assert [x for x, _ in out] == list(range(5)), "results must come in the order of the calls"
    started = sorted(range(5), key=lambda i: out[i][1])
    assert started == [1, 3, 2, 4, 0], f"one worker must take the tasks by decreasing cost, took {started}"
    with pytest.raises(ValueError, match=r"^costs must hold one non-negative number per call \(2\)"):
        run_tasks([(_square, 1), (_square, 2)], "inprocess", costs=[1.0])


def test_call_task_runs_single_threaded_and_restores_threads():
    import torch

    before = torch.get_num_threads()
    (threads, _), _ = call_task(lambda _: (torch.get_num_threads(), 0), None)
    assert threads == 1 and torch.get_num_threads() == before


def test_task_errors_propagate():
    with pytest.raises(ZeroDivisionError):
        run_tasks([(_square, 1), (lambda x: 1 / x, 0)], "inprocess")


# --------------------------------------------------------------------------- shared pieces


def test_critical_radius_brackets_a_known_step():
    # robust error = 0.2 below eps = 0.37 and 0.9 above: the A4 level 0.6 is crossed exactly at 0.37
    bounds = lambda e: (0.2, 0.2) if e < 0.37 else (0.9, 0.9)  # noqa: E731
    r = critical_radius(bounds, 0.6, hi=0.05, iters=20)
    assert r["lower"] <= 0.37 <= r["upper"] and r["upper"] - r["lower"] < 1e-5
    never = critical_radius(lambda e: (0.0, 0.0), 0.6, hi=0.1, max_doublings=3)
    assert math.isinf(never["upper"])
    ratio = radius_ratio({"lower": 2.0, "upper": 3.0}, {"lower": 0.5, "upper": 1.0}, method="exact")
    assert (ratio.lower, ratio.upper) == (2.0, 6.0) and ratio.lower <= ratio.value <= ratio.upper


def test_region_map_smallest_counterexample_changes_fewest_axes_then_is_nearest():
    cells = [{"params": {"a": a, "b": b}, "verdict": v} for a, b, v in [
        (0.0, "x", "pass"), (0.5, "x", "fail"), (0.9, "x", "fail"), (0.0, "y", "fail"), (0.5, "y", "fail")]]
    m = region_map("m", "t", ("a", "b"), cells, {"a": 0.0, "b": "x"})
    assert [c["headline"] for c in m["cells"]] == [True, False, False, False, False]
    # (0.5, x) and (0, y) both change one axis; (0.5, x) is 0.5/0.9 of a's span away, (0, y) one category: nearer
    assert m["smallest_counterexample"]["params"] == {"a": 0.5, "b": "x"}
    assert m["smallest_counterexample"]["changed_keys"] == ["a"]
    assert region_map("m", "t", ("a",), [{"params": {"a": 1.0}, "verdict": "pass"}], {"a": 1.0})[
        "smallest_counterexample"] is None


# --------------------------------------------------------------------------- planning


@pytest.mark.parametrize("profile", ["quick", "thorough"])
def test_planned_tasks_are_json_and_unique(profile):
    for qid in QUESTIONS:
        base = CLAIMS[qid].defaults(profile)
        for params in [base] + [c.params(base) for c in CLAIMS[qid].controls]:
            tasks = module(qid).plan(params)
            assert len({t["key"] for t in tasks}) == len(tasks), f"{qid}: duplicate task keys"
            json.dumps(tasks)  # JSON-able: the task is its own identity (its seeds included)


def test_a_claim_and_its_controls_and_questions_share_tasks():
    q3, q9 = CLAIMS["Q3"].defaults(), CLAIMS["Q9"].defaults()
    _, a = plan_items([("Q3", q3)])
    _, b = plan_items([("Q9", q9)])
    _, both = plan_items([("Q3", q3), ("Q9", q9)])
    shared = set(a) & set(b)
    assert shared, "Q3 and Q9 both ask for the online two-layer runs"
    assert len(both) == len(a) + len(b) - len(shared)
    _, main_and_control = plan_questions(["Q9"])
    _, main = plan_items([("Q9", q9)])
    assert set(main_and_control) == set(main), "the eps = 0 control must add no task: its runs are the main's clean ones"


def test_check_reuses_this_processes_finished_tasks():
    params = CLAIMS["Q4"].defaults().with_values({"grid.b": (0.3,), "grid.b_outside": (), "eval.bisection": 4})
    _, unique = plan_items([("Q4", params)])
    first = check("Q4", params)
    assert set(unique) <= set(MEMO)
    stamp = {c: MEMO[c] for c in unique}
    second = check("Q4", params)
    assert all(MEMO[c] is stamp[c] for c in unique), "the second check recomputed finished tasks"
    assert first.to_dict() == second.to_dict() and first.verdict == "pass"


def test_results_do_not_depend_on_the_scheduler():
    """A batched training question (Q3, tiny sizes) and an exact one (Q4) give the same outcomes in process and on
    a 2-worker LocalCluster."""
    from distributed import Client, LocalCluster

    q3 = CLAIMS["Q3"].defaults().with_values({"train.steps": 20, "seeds.n": 2, "eval.samples": 20,
                                              "purity.samples": 200})
    q4 = CLAIMS["Q4"].defaults().with_values({"grid.b": (0.3, 0.7), "grid.b_outside": (0.0,), "eval.bisection": 5})
    items = [("Q3", q3), ("Q4", q4)]
    local, _, _ = run_checks(items, "inprocess")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        remote, _, stats = run_checks(items, client=client)
    assert stats["workers"] == 2
    dump = lambda o: json.dumps(_without_timings(o.to_dict()), sort_keys=True, default=str)  # noqa: E731
    for (qid, _), a, b in zip(items, local, remote):
        assert dump(a) == dump(b), f"{qid} differs across schedulers"


# Wall-clock measurements inside results (verification time per sample): the only fields that may differ.
TIMINGS = ("seconds_median", "seconds_p95", "seconds", "wall_time")


def _without_timings(x):
    if isinstance(x, dict):
        return {k: _without_timings(v) for k, v in x.items() if k not in TIMINGS}
    if isinstance(x, list):
        return [_without_timings(v) for v in x]
    return x


# --------------------------------------------------------------------------- purecheck explore (as a program)


def _explore(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "purecheck", "explore", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=900)


def test_explore_list_names_every_question():
    res = _explore("--list")
    assert res.returncode == 0, res.stderr
    for q in QUESTIONS:
        assert f"\n{q} " in "\n" + res.stdout, f"{q} missing from --list"


@pytest.mark.parametrize("argv, message", [
    (["Q11"], "unknown question"), ([], "name at least one question"), (["Q4", "--scheduler", "cluster"], "scheduler"),
    (["Q4", "--profile", "smoke"], "--profile"),
])
def test_explore_usage_errors_are_one_line(argv, message):
    res = _explore(*argv)
    assert res.returncode == 2 and message in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr


def test_explore_unreachable_scheduler_is_one_line(tmp_path):
    res = _explore("Q4", "--scheduler", f"tcp://127.0.0.1:{_closed_port()}", "--out", str(tmp_path))
    assert res.returncode == 2, res.stdout + res.stderr
    assert res.stderr.startswith("purecheck explore: error: --scheduler tcp://127.0.0.1:") and "cannot reach" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert not (tmp_path / "results.json").exists()


def test_explore_writes_schema_2_results_that_merge_and_render(tmp_path):
    res = _explore("Q4", "--out", str(tmp_path), "--no-progress")
    assert res.returncode == 0, res.stdout + res.stderr
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["schema"] == 2 and data["profile"] == "quick"
    assert data["environment"]["threads"] == {"torch": 1, "blas": 1}  # explore pins its process as pytest does
    (claim,) = data["claims"]
    assert claim["id"] == "Q4" and claim["verdict"] == "pass" and claim["match"]["matches"] is True
    assert claim["params"]["grid"]["b"] == list(CLAIMS["Q4"].defaults().grid.b) and claim["overrides"] == {}
    assert {c["name"]: c["observed"] for c in claim["controls"]} == {"threshold_zero": "fail", "dead_threshold": "fail"}
    assert claim["regions"] and claim["regions"][0]["smallest_counterexample"]["verdict"] == "fail"
    assert data["environment"]["explore"]["scheduler"].startswith("in-process")
    # a second question is added to the same file, the first is kept
    res = _explore("Q6", "--out", str(tmp_path), "--no-progress")
    assert res.returncode == 0, res.stdout + res.stderr
    assert [c["id"] for c in json.loads((tmp_path / "results.json").read_text())["claims"]] == ["Q4", "Q6"]
    rep = subprocess.run([sys.executable, "-m", "purecheck", "report", "--results", str(tmp_path / "results.json"),
                          "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert rep.returncode == 0, rep.stdout + rep.stderr
    assert (tmp_path / "figures" / "q4_ratio_d256.png").exists()
