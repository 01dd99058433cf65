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


@pytest.mark.parametrize("argv", [["check", "S1"], ["stress", "P2", "--vary", "net.b=0:0.9", "--budget", "4"],
                                  ["explore", "Q4", "--no-progress"]])
def test_every_cli_entry_point_pins_and_rejects_a_bad_count_with_a_usage_error(argv, tmp_path):
    # Each CLI calls pin_threads before any work: a bad value stops it with a usage error (exit 2) whose
    # last line names the variable and the range, and nothing is written. Catches an entry point that does
    # not pin at all (it would run).
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = dict(os.environ, **{BLAS_ENV: "many"})
    out = ["--out", str(tmp_path / "out")] if argv[0] == "explore" else []
    res = subprocess.run([sys.executable, "-m", "purecheck", *argv, *out], cwd=Path(__file__).resolve().parent.parent,
                         env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2, res.stdout + res.stderr
    lines = res.stderr.strip().splitlines()
    assert lines[-1].startswith(f"purecheck {argv[0]}: error: {BLAS_ENV} must be a whole number of threads from 1 "
                                f"to 1024, got 'many'"), res.stderr
    assert "Traceback" not in res.stderr and not (tmp_path / "out").exists()
