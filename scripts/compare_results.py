#!/usr/bin/env python3
"""Determinism check: two results.json files must agree exactly, timings and the run context aside.

Usage: python scripts/compare_results.py A/results.json B/results.json
Exit 0 when verdicts and every number agree exactly; 1 with the first differences printed;
2 on bad input (a missing or corrupt file, an unknown schema) or wrong usage.

It loads and walks the files with the report's own code (``purecheck.report.compare``): the
same validation as ``purecheck report``, and the one rule for what is a timing
(``is_timing_key``: ``runtime_s``, ``wall_time_s``, ``seconds``, ``started``, any
``*_runtime_s`` / ``*_seconds`` ..., at any depth). The environment manifest and the
command line (the run context) are skipped too. For a reviewer's view of what changed
between two runs, use ``purecheck report --compare OLD NEW``.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from purecheck.report.compare import exact_differences, load  # noqa: E402
from purecheck.report.schema import ReportInputError  # noqa: E402

SHOWN = 20


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        a, b = (load(p) for p in argv)
    except ReportInputError as exc:
        print(f"compare_results: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    d = exact_differences(a, b)
    for line in d[:SHOWN]:
        print(line)
    print("identical (timings aside)" if not d else f"{len(d)} differences")
    return 0 if not d else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
