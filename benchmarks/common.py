"""Shared helpers of the benchmark scripts: thread pinning, timing, machine facts, JSON output."""
from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parent.parent

if str(ROOT) not in sys.path:  # run as `python benchmarks/x.py` from a checkout
    sys.path.insert(0, str(ROOT))


def pin_threads(threads: int) -> None:
    """One BLAS/torch thread pool of ``threads`` (the development machine is shared)."""
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    import torch

    torch.set_num_threads(threads)


def best_time(fn, repeats: int) -> tuple[float, float]:
    """Smallest wall time and smallest CPU time (this process, all threads) of ``repeats`` calls.

    On a shared machine the wall time includes waiting for other processes; the CPU time
    does not, so with one thread it is the better measure of the work itself. To compare
    methods, time them with :func:`interleaved_best`.
    """
    best = interleaved_best({"fn": fn}, repeats)["fn"]
    return best["wall_s"], best["cpu_s"]


def interleaved_best(fns: dict, repeats: int) -> dict[str, dict]:
    """Every function of ``fns`` once per round, ``repeats`` rounds; per name the best and every round's times.

    Returns ``{name: {"wall_s", "cpu_s", "wall_rounds", "cpu_rounds"}}`` (best = smallest).
    Rounds interleave the methods so that each sees the same drift in a shared machine's load:
    on this project's development machine one method's CPU time moves by up to 30 % within a
    minute, so timing all repeats of one method and then all of the other compares two loads.
    """
    rounds = {name: ([], []) for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t, c = time.perf_counter(), time.process_time()
            fn()
            rounds[name][0].append(time.perf_counter() - t)
            rounds[name][1].append(time.process_time() - c)
    return {name: {"wall_s": min(w), "cpu_s": min(c), "wall_rounds": w, "cpu_rounds": c}
            for name, (w, c) in rounds.items()}


def paired_ratios(num: dict, den: dict, key: str) -> list[float]:
    """Round by round ``num / den`` of two :func:`interleaved_best` entries (``key``: "cpu" or "wall")."""
    return [a / b for a, b in zip(num[f"{key}_rounds"], den[f"{key}_rounds"])]


def cpu_model() -> dict:
    """The CPU's ``model name`` and ``model`` number from /proc/cpuinfo (empty where there is none).

    The development VMs change host between sessions, and the same code's timings with them
    (matmuls at 77 GFLOP/s on one host, 170 on another): a result names the host it ran on.
    """
    facts = {}
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "model") and key not in facts:
                    facts[key] = value.strip()
                if not line.strip() and facts:  # the first processor's block is enough
                    break
    except OSError:
        pass
    return {"cpu_model_name": facts.get("model name"), "cpu_model": facts.get("model")}


def machine() -> dict:
    import numpy as np
    import torch

    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
            "platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            **cpu_model(), "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads()}


def write_json(name: str, payload: dict) -> Path:
    """``payload`` as JSON at ``results/name``, atomically (a temporary file, then a rename):
    an interrupted run leaves the previous result, never half of a new one."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(payload, indent=2, default=float) + "\n")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    """Plain-text table: ``columns`` are ``(key, format)`` pairs."""
    cells = [[format(r[k], f) if r.get(k) is not None else "-" for k, f in columns] for r in rows]
    heads = [k for k, _ in columns]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
    line = lambda vals: "  ".join(v.rjust(w) for v, w in zip(vals, widths))  # noqa: E731
    return "\n".join([line(heads), line(["-" * w for w in widths]), *(line(c) for c in cells)])
