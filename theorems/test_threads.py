"""The thread pins of theorems/threads.py: what every entry point of the suite runs with, and records."""
from __future__ import annotations

import pytest

from .threads import BLAS_ENV, TORCH_ENV, ThreadSettingError, pin_threads, requested_threads, thread_counts


def test_pin_threads_sets_torch_and_every_blas_pool_and_the_record_says_so(monkeypatch):
    # Catches a pin that misses numpy's or scipy's OpenBLAS (a limit reaches only the pools loaded when it
    # is set), one that ignores the environment, and a record that reports the requested counts instead of
    # those in force (thread_counts reads the pools back).
    from threadpoolctl import threadpool_info

    try:
        monkeypatch.setenv(TORCH_ENV, "2")
        monkeypatch.setenv(BLAS_ENV, "2")
        assert pin_threads() == {"torch": 2, "blas": 2}
        pools = [p for p in threadpool_info() if p["user_api"] == "blas"]
        assert pools and all(p["num_threads"] == 2 for p in pools), pools
        assert thread_counts() == {"torch": 2, "blas": 2}
    finally:
        monkeypatch.delenv(TORCH_ENV)
        monkeypatch.delenv(BLAS_ENV)
        assert pin_threads() == {"torch": 1, "blas": 1}  # the defaults, as this process had them
    assert thread_counts() == {"torch": 1, "blas": 1}


@pytest.mark.parametrize("text", ["0", "two", "1025", "-1", ""])
def test_bad_thread_counts_name_the_variable_and_the_range(monkeypatch, text):
    monkeypatch.setenv(BLAS_ENV, text)
    with pytest.raises(ThreadSettingError, match=rf"^{BLAS_ENV} must be a whole number of threads from 1 to 1024, "
                                                 rf"got '{text}'$"):
        requested_threads()
    monkeypatch.setenv(BLAS_ENV, " 3 ")
    assert requested_threads() == {"torch": 1, "blas": 3}
