#!/usr/bin/env python3
"""Compare two results.json files, ignoring timings and the environment block.

Usage: python scripts/compare_results.py A/results.json B/results.json
Exit 0 when verdicts and every number agree exactly; otherwise print the first differences, exit 1.
Used to check that the same command gives the same verdicts and numbers.
"""
from __future__ import annotations

import json
import sys

IGNORED = {"runtime_s", "wall_time_s", "wall_time", "environment", "command", "started"}


def strip(obj):
    if isinstance(obj, dict):
        return {k: strip(v) for k, v in obj.items() if k not in IGNORED}
    if isinstance(obj, list):
        return [strip(v) for v in obj]
    return obj


def diff(a, b, path="$", out=None):
    out = [] if out is None else out
    if type(a) is not type(b):
        out.append(f"{path}: {a!r} != {b!r}")
    elif isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}.{k}: present in only one file")
            else:
                diff(a[k], b[k], f"{path}.{k}", out)
    elif isinstance(a, list):
        if len(a) != len(b):
            out.append(f"{path}: lengths {len(a)} != {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, f"{path}[{i}]", out)
    elif a != b and not (isinstance(a, float) and a != a and b != b):
        out.append(f"{path}: {a!r} != {b!r}")
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    a, b = (strip(json.load(open(p))) for p in argv)
    d = diff(a, b)
    for line in d[:20]:
        print(line)
    print("identical (timings aside)" if not d else f"{len(d)} differences")
    return 0 if not d else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
