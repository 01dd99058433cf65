"""Speed-up of an explorer sweep on dask: 1 worker vs 2 workers (LocalCluster, one thread each).

The tasks of one question at one size (default: Q4 at quick, 19 exact critical-radius tasks;
``--question Q2 --size smoke`` gives training tasks) are run on a LocalCluster with 1 and then
2 single-threaded worker processes. The cluster is started and warmed up (every worker imports
the project) before the clock starts, so the times are the sweep's own. Reported: wall time per
worker count, speed-up ``t(1) / t(2)``, the sum of task times (the work), and whether the two
runs gave identical results (they must: every task carries its own seeds).

    python benchmarks/bench_sweep.py                      # Q4 quick
    python benchmarks/bench_sweep.py --question Q6 --size smoke --repeats 2
"""
from __future__ import annotations

import argparse
import json
import time

from common import machine, pin_threads, table, write_json


def _warm(_):
    import theorems.explore  # noqa: F401  (import cost paid before timing)

    return 0


def sweep_time(calls, workers: int) -> tuple[float, list, dict]:
    from distributed import Client, LocalCluster

    from theorems.explore.sweep import run_tasks

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        client.run(_warm, None)
        t0 = time.perf_counter()
        results, stats = run_tasks(calls, client=client)
        return time.perf_counter() - t0, results, stats.to_dict()


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--question", default="Q4")
    ap.add_argument("--size", default="quick", choices=("smoke", "quick", "thorough"))
    ap.add_argument("--repeats", type=int, default=1, help="best of this many runs per worker count")
    args = ap.parse_args(argv)
    pin_threads(1)
    from theorems.explore import plan_questions

    _, unique = plan_questions([args.question], args.size)
    calls = list(unique.values())
    rows, outputs = [], {}
    for workers in (1, 2):
        best = None
        for _ in range(args.repeats):
            wall, results, stats = sweep_time(calls, workers)
            if best is None or wall < best[0]:
                best = (wall, results, stats)
        outputs[workers] = best[1]
        rows.append({"workers": workers, "wall_s": best[0], "task_s_total": best[2]["task_s_total"], "tasks": len(calls)})
    dump = lambda r: json.dumps(r, sort_keys=True, default=str)  # noqa: E731
    speedup = rows[0]["wall_s"] / rows[1]["wall_s"]
    payload = {"benchmark": "sweep_speedup", "question": args.question, "size": args.size, "tasks": len(calls),
               "rows": rows, "speedup_2_vs_1": speedup, "identical_results": dump(outputs[1]) == dump(outputs[2]),
               "machine": machine()}
    print(table(rows, [("workers", "d"), ("tasks", "d"), ("wall_s", ".2f"), ("task_s_total", ".2f")]))
    print(f"speed-up 2 vs 1 workers: {speedup:.2f}x; identical results: {payload['identical_results']}")
    path = write_json(f"sweep_{args.question}_{args.size}.json", payload)
    print(f"wrote {path}")
    return payload


if __name__ == "__main__":
    main()
