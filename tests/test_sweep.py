"""theorems.explore.sweep and the question runner: scheduler specs, order, errors, and identical results on dask."""
from __future__ import annotations

import json
import math

import pytest

from theorems.explore import run_questions
from theorems.explore.common import critical_radius, radius_ratio
from theorems.explore.sweep import call_task, parse_scheduler, run_tasks
from theorems.explore.trained import compute_shared, train_task


@pytest.mark.parametrize("spec, kind, workers, address", [
    (None, "inprocess", None, None), ("inprocess", "inprocess", None, None), ("sync", "inprocess", None, None),
    ("local:3", "local", 3, None), ("tcp://127.0.0.1:8786", "address", None, "tcp://127.0.0.1:8786"),
])
def test_parse_scheduler(spec, kind, workers, address):
    s = parse_scheduler(spec)
    assert (s.kind, s.workers, s.address) == (kind, workers, address)


def test_parse_scheduler_local_uses_every_cpu():
    import os

    assert parse_scheduler("local").workers == max(1, os.cpu_count() or 1)


@pytest.mark.parametrize("bad", ["local:0", "local:x", "cluster", 3])
def test_parse_scheduler_rejects_bad_specs(bad):
    with pytest.raises(ValueError, match="scheduler"):
        parse_scheduler(bad)


def _square(x):
    return x * x


def test_inprocess_keeps_order_and_reports_progress():
    seen = []
    out, stats = run_tasks([(_square, i) for i in range(7)], "inprocess", progress=lambda d, n: seen.append((d, n)))
    assert out == [i * i for i in range(7)]
    assert seen == [(i, 7) for i in range(1, 8)] and stats.tasks == 7 and len(stats.task_s) == 7


def test_call_task_runs_single_threaded_and_restores_threads():
    import torch

    before = torch.get_num_threads()
    (threads, _), _ = call_task(lambda _: (torch.get_num_threads(), 0), None)
    assert threads == 1 and torch.get_num_threads() == before


def test_task_errors_propagate():
    with pytest.raises(ZeroDivisionError):
        run_tasks([(_square, 1), (lambda x: 1 / x, 0)], "inprocess")


def test_critical_radius_brackets_a_known_step():
    # robust error = 0.2 below eps = 0.37 and 0.9 above: the A4 level 0.6 is crossed exactly at 0.37
    bounds = lambda e: (0.2, 0.2) if e < 0.37 else (0.9, 0.9)  # noqa: E731
    r = critical_radius(bounds, 0.6, hi=0.05, iters=20)
    assert r["lower"] <= 0.37 <= r["upper"] and r["upper"] - r["lower"] < 1e-5
    never = critical_radius(lambda e: (0.0, 0.0), 0.6, hi=0.1, max_doublings=3)
    assert math.isinf(never["upper"])
    ratio = radius_ratio({"lower": 2.0, "upper": 3.0}, {"lower": 0.5, "upper": 1.0}, method="exact")
    assert (ratio.lower, ratio.upper) == (2.0, 6.0) and ratio.lower <= ratio.value <= ratio.upper


def test_planned_tasks_are_unique_and_seeded():
    from theorems.explore import QUESTIONS, module, variants

    for qid in QUESTIONS:
        mod = module(qid)
        for v in variants(qid):
            tasks = mod.plan(mod.SIZES["smoke"], v)
            assert len({t["key"] for t in tasks}) == len(tasks), f"{qid}/{v}: duplicate task keys"
            json.dumps(tasks)  # JSON-able: the task is its own identity


def test_local_cluster_gives_identical_results():
    """A seeded torch training task and a whole question (Q4) give the same numbers in process and on 2 workers."""
    from distributed import Client, LocalCluster

    calls = [(compute_shared, train_task(f"t{s}", eps=e, steps=25, seed=s, eval_n=200))
             for s in range(2) for e in (0.0, 0.4)]
    local, _ = run_tasks(calls, "inprocess")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        remote, stats = run_tasks(calls, client=client)
        runs_remote, _ = run_questions(["Q4"], "smoke", client=client)
    assert stats.workers == 2
    dump = lambda x: json.dumps(x, sort_keys=True, default=str)  # noqa: E731
    assert dump(local) == dump(remote), "training results must not depend on the scheduler"
    runs_local, _ = run_questions(["Q4"], "smoke", "inprocess")
    for v, out in runs_local["Q4"].outcomes.items():
        assert dump(out.to_dict()) == dump(runs_remote["Q4"].outcomes[v].to_dict()), f"Q4/{v} differs across schedulers"


def test_shared_tasks_are_computed_once_across_questions():
    from theorems.explore import plan_questions

    _, q3 = plan_questions(["Q3"], "smoke")
    _, q9 = plan_questions(["Q9"], "smoke")
    _, both = plan_questions(["Q3", "Q9"], "smoke")
    shared = set(q3) & set(q9)
    assert shared, "Q3 and Q9 both ask for the online two-layer runs"
    assert len(both) == len(q3) + len(q9) - len(shared)
    a, b = train_task("x", eps=0.0, steps=5, seed=0), train_task("y", eps=0.0, steps=5, seed=0)
    assert {k: v for k, v in a.items() if k != "key"} == {k: v for k, v in b.items() if k != "key"}


# --------------------------------------------------------------------------- purecheck explore


def test_explore_list_names_every_question(capsys):
    from purecheck.explore import main

    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    for q in [f"Q{i}" for i in range(1, 11)]:
        assert f"\n{q} " in "\n" + out, f"{q} missing from --list"


@pytest.mark.parametrize("argv, message", [
    (["Q11"], "unknown question"), ([], "name at least one question"), (["Q4", "--scheduler", "cluster"], "scheduler"),
    (["Q4", "--profile", "huge"], "profile"),
])
def test_explore_usage_errors(argv, message, capsys):
    from purecheck.explore import main

    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_explore_writes_a_report_ready_results_file(tmp_path, capsys):
    from purecheck.explore import main
    from purecheck.report.command import main as report_main

    rc = main(["Q4", "--profile", "smoke", "--out", str(tmp_path), "--no-progress"])
    assert rc == 0, capsys.readouterr().out
    data = json.loads((tmp_path / "results.json").read_text())
    (claim,) = data["claims"]
    assert claim["id"] == "Q4" and claim["verdict"] == "pass" and claim["evidence"]["region"]["summary"]
    assert {c["name"]: c["observed"] for c in claim["controls"]} == {"threshold_zero": "fail", "dead_threshold": "fail"}
    assert data["environment"]["explore"]["scheduler"].startswith("in-process")
    # a second question is added to the same file, the first is kept
    assert main(["Q6", "--profile", "smoke", "--out", str(tmp_path), "--no-progress"]) == 0
    ids = [c["id"] for c in json.loads((tmp_path / "results.json").read_text())["claims"]]
    assert ids == ["Q4", "Q6"]
    assert report_main(["--results", str(tmp_path / "results.json"), "--out", str(tmp_path)]) == 0
    assert (tmp_path / "figures" / "q4_ratio_d256.png").exists()
