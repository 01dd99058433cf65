"""Thread counts of a run: torch's intra-op threads and the BLAS pools behind numpy and scipy.

A float reduction split over threads is summed in another order, so its last bits depend on
the thread count. Torch defaults to one thread per core and OpenBLAS likewise, so without a
pin a results file would change with the machine's core count (the quick profile's D1
dictionary coherence does: OpenBLAS at 1 and at 2 threads differ in the 15th digit). Every
entry point of the suite (``pytest theorems``, ``purecheck check``, ``purecheck stress``,
``purecheck explore``) pins both for the whole process with :func:`pin_threads`, one thread
each unless ``PURECHECK_TORCH_THREADS`` / ``PURECHECK_BLAS_THREADS`` say otherwise, and the
results file records the counts (:func:`thread_counts`). One thread is also the faster
choice here: the checks run many small ops, and ``-n 2`` already keeps both cores busy. A
sweep's task runs single-threaded in any process, dask workers included
(:func:`theorems.explore.sweep.single_threaded`).
"""
from __future__ import annotations

import os

from .explore.sweep import limit_threadpools

TORCH_ENV = "PURECHECK_TORCH_THREADS"
BLAS_ENV = "PURECHECK_BLAS_THREADS"


class ThreadSettingError(ValueError):
    """A thread-count environment variable that is not a whole number from 1 to 1024."""


def _requested(name: str) -> int:
    text = os.environ.get(name, "1").strip()
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 1024:
        raise ThreadSettingError(f"{name} must be a whole number of threads from 1 to 1024, got {text!r}")
    return value


def requested_threads() -> dict[str, int]:
    """``{"torch": n, "blas": n}`` from the environment (default 1 each); ThreadSettingError on a bad value."""
    return {"torch": _requested(TORCH_ENV), "blas": _requested(BLAS_ENV)}


def pin_threads() -> dict[str, int]:
    """Pin torch's and the BLAS pools' threads for the rest of the process; the counts (:func:`requested_threads`)."""
    want = requested_threads()
    import torch

    torch.set_num_threads(want["torch"])
    limit_threadpools(want["blas"])
    return want


def thread_counts() -> dict[str, int | None]:
    """The counts in force: torch's threads and the largest BLAS pool's (None: no BLAS pool found or no threadpoolctl)."""
    import torch

    blas = None
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        pass
    else:
        pools = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
        blas = max(pools) if pools else None
    return {"torch": torch.get_num_threads(), "blas": blas}
