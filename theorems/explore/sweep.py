"""Run independent sweep tasks in-process or on dask.distributed, with identical results either way.

A *task* is a call ``fn(params)`` of a module-level function on a picklable ``params`` (the
explorer's tasks are JSON-able dicts). Every task carries its own seeds in ``params``; nothing
depends on which worker runs it, in which order, or beside what. Each call runs with one BLAS
and one torch thread (:func:`single_threaded`), so float reductions are the same in every
process. Hence the results are bit-identical whatever the scheduler (tested in
``tests/test_sweep.py``).

Scheduler specs (:func:`parse_scheduler`):

- ``"inprocess"`` (also ``"sync"``): a plain loop in this process, no dask;
- ``"local"``: a ``distributed.LocalCluster`` with one single-threaded worker process per CPU;
- ``"local:N"``: the same with N workers;
- ``"tcp://host:port"`` (any address ``distributed.Client`` accepts): an existing cluster,
  whose workers must be able to import the task functions (the project installed there). An
  address that does not answer raises :class:`SchedulerUnreachable` (one line naming it; the
  CLIs check it with :func:`unreachable` before anything runs).

This module imports nothing of the project, so it could move into a library unchanged.
"""
from __future__ import annotations

import logging
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

Call = tuple[Callable[[Any], Any], Any]
Progress = Callable[[int, int], None]  # (done, total)


class SchedulerUnreachable(ConnectionError):
    """A dask scheduler address that cannot be reached; the message (one line) starts with ``--scheduler``."""


@dataclass(frozen=True)
class SchedulerSpec:
    kind: str  # "inprocess" | "local" | "address"
    workers: int | None = None  # local clusters: number of worker processes
    address: str | None = None

    def describe(self) -> str:
        if self.kind == "inprocess":
            return "in-process (no dask)"
        if self.kind == "local":
            return f"dask LocalCluster, {self.workers} single-threaded worker process(es)"
        return f"dask cluster at {self.address}"


def parse_scheduler(spec: str | None) -> SchedulerSpec:
    """Parse a scheduler spec (module docstring); ``ValueError`` naming ``scheduler`` if malformed."""
    if spec is None or spec in ("inprocess", "sync", "in-process"):
        return SchedulerSpec("inprocess")
    if not isinstance(spec, str):
        raise ValueError(f"scheduler must be a string spec, got {spec!r}")
    if spec == "local":
        return SchedulerSpec("local", workers=max(1, os.cpu_count() or 1))
    if spec.startswith("local:"):
        n = spec.split(":", 1)[1]
        if not n.isdigit() or int(n) < 1:
            raise ValueError(f"scheduler 'local:N' needs a worker count N >= 1, got {spec!r}")
        return SchedulerSpec("local", workers=int(n))
    if "://" in spec:
        return SchedulerSpec("address", address=spec)
    raise ValueError(f"scheduler must be 'inprocess', 'local', 'local:N' or an address like tcp://host:port, "
                     f"got {spec!r}")


def unreachable(spec: SchedulerSpec | str | None, timeout: float = 5.0) -> str | None:
    """Why a scheduler cannot be used (one line starting with ``--scheduler``), or None when it can.

    Only addresses are checked (a TCP connection to host:port within ``timeout`` seconds); in-process
    and local clusters are always usable.
    """
    import socket
    from urllib.parse import urlparse

    spec = spec if isinstance(spec, SchedulerSpec) else parse_scheduler(spec)
    if spec.kind != "address":
        return None
    u = urlparse(spec.address)
    try:
        host, port = u.hostname, u.port
    except ValueError:  # a port that is not a number
        host = port = None
    if not host or not port:
        return f"--scheduler {spec.address}: expected an address like tcp://host:port"
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return f"--scheduler {spec.address}: cannot reach the dask scheduler ({exc.strerror or type(exc).__name__})"


def limit_threadpools(n: int, user_api: str | None = "blas"):
    """Limit the native thread pools of ``user_api`` ("blas"; None: every pool, OpenMP ones too) to
    ``n`` threads until the returned limiter's ``restore_original_limits()``. numpy's and scipy's
    BLAS are loaded first (a limit reaches only the pools loaded so far). None without threadpoolctl
    (then OPENBLAS_NUM_THREADS or OMP_NUM_THREADS in the environment have to do)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    import numpy  # noqa: F401
    import scipy.linalg  # noqa: F401  (scipy's wheels carry their own OpenBLAS)

    return threadpool_limits(limits=n, user_api=user_api)


@contextmanager
def single_threaded():
    """One BLAS thread and one torch thread inside the block (restored after)."""
    limiter = limit_threadpools(1, None)
    torch_threads = None
    try:
        import torch

        torch_threads = torch.get_num_threads()
        torch.set_num_threads(1)
    except ImportError:
        pass
    try:
        yield
    finally:
        if torch_threads is not None:
            import torch

            torch.set_num_threads(torch_threads)
        if limiter is not None:
            limiter.restore_original_limits()


def call_task(fn: Callable[[Any], Any], params: Any) -> tuple[Any, float]:
    """``(fn(params), seconds)`` single-threaded: the unit of work on every scheduler."""
    t0 = time.perf_counter()
    with single_threaded():
        out = fn(params)
    return out, time.perf_counter() - t0


@dataclass
class SweepStats:
    scheduler: str
    workers: int
    tasks: int
    wall_s: float
    task_s: list[float] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"scheduler": self.scheduler, "workers": self.workers, "tasks": self.tasks,
                "wall_s": round(self.wall_s, 3), "task_s_total": round(sum(self.task_s), 3)}


def progress_ticker(desc: str, total: int) -> Callable[[int, int], None] | None:
    """A progress bar over ``total`` sweep tasks as ``run_tasks``'s ``progress(done, total)`` callback
    (numerics.training.progress_bar; None off a terminal); the bar closes at the last task."""
    from numerics.training import progress_bar

    bar = progress_bar(total, True, desc)
    if bar is None:
        return None

    def tick(done: int, _total: int) -> None:
        bar.update(done - bar.n)
        if done >= _total:
            bar.close()

    return tick


def run_tasks(calls: Sequence[Call], scheduler: str | SchedulerSpec | None = None, *,
              progress: Progress | None = None, client=None,
              costs: Sequence[float] | None = None) -> tuple[list[Any], SweepStats]:
    """Run every ``fn(params)`` of ``calls``; results in the order of ``calls``.

    scheduler: a spec string (module docstring) or a parsed :class:`SchedulerSpec`; client: an
    existing ``distributed.Client`` to use instead (it is left open). progress(done, total) is
    called after each finished task. costs: one non-negative relative cost per call (any scale); on
    dask the costliest tasks are submitted first and with the highest priority (longest
    processing time first: the last task to start is a short one, so no worker idles long
    while another finishes a big task). In process the order of ``calls`` stands (one worker
    takes as long in any order). Results never depend on it.
    """
    spec = scheduler if isinstance(scheduler, SchedulerSpec) else parse_scheduler(scheduler)
    calls = list(calls)
    if costs is not None:
        costs = [float(c) for c in costs]
        if len(costs) != len(calls) or not all(c >= 0 and c == c for c in costs):
            raise ValueError(f"costs must hold one non-negative number per call ({len(calls)}), got {costs!r}")
    t0 = time.perf_counter()
    if client is None and spec.kind == "inprocess":
        results, times = [], []
        for i, (fn, params) in enumerate(calls):
            out, dt = call_task(fn, params)
            results.append(out)
            times.append(dt)
            if progress:
                progress(i + 1, len(calls))
        return results, SweepStats(spec.describe(), 1, len(calls), time.perf_counter() - t0, times)
    if client is not None:
        return _run_on_client(client, calls, progress, t0, "given dask client", costs)
    with open_client(spec) as cl:
        return _run_on_client(cl, calls, progress, t0, spec.describe(), costs)


@contextmanager
def open_client(spec: SchedulerSpec):
    """A ``distributed.Client`` for a local cluster (closed on exit) or an existing address."""
    from distributed import Client, LocalCluster

    if spec.kind == "local":
        # One single-threaded process per worker: tasks are CPU-bound numpy/torch code.
        cluster = LocalCluster(n_workers=spec.workers, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.ERROR)
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
            cluster.close()
    elif spec.kind == "address":
        why = unreachable(spec)
        if why:
            raise SchedulerUnreachable(why)
        client = Client(spec.address)
        try:
            yield client
        finally:
            client.close()
    else:
        raise ValueError(f"scheduler {spec.kind!r} has no dask client")


def _run_on_client(client, calls: list[Call], progress, t0: float, label: str, costs: list[float] | None = None):
    from distributed import as_completed

    order = range(len(calls)) if costs is None else sorted(range(len(calls)), key=lambda i: -costs[i])
    futures = {i: client.submit(call_task, *calls[i], pure=False, priority=0 if costs is None else costs[i])
               for i in order}
    index = {f.key: i for i, f in futures.items()}
    results: list[Any] = [None] * len(calls)
    times = [0.0] * len(calls)
    done = 0
    for fut in as_completed(list(futures.values())):
        out, dt = fut.result()  # re-raises a task's exception here
        i = index[fut.key]
        results[i], times[i] = out, dt
        done += 1
        if progress:
            progress(done, len(calls))
    workers = len(client.scheduler_info().get("workers", {})) or 1
    return results, SweepStats(label, workers, len(calls), time.perf_counter() - t0, times)
