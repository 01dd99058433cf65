"""``purecheck report``: render a results file into a reviewer report.

``main(argv) -> int``: 0 on success (one line on stdout naming what was written), 2 on
bad input or an unusable output directory (one line on stderr,
``purecheck report: error: ...``, and nothing written to ``--out``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .render import DEFAULT_MAX_EXAMPLES, render_report
from .schema import ReportInputError

DEFAULT_RESULTS = Path("reports/latest/results.json")
DEFAULT_OUT = Path("reports/latest")
PROG = "purecheck report"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, same prefix and exit status as other errors
        _fail(message)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Render results.json into report.md, a self-contained "
                                       "index.html and figures/*.png.")
    p.add_argument("--results", type=Path, default=DEFAULT_RESULTS,
                   help=f"results file to read (default: {DEFAULT_RESULTS})")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help=f"directory to write the report into (default: {DEFAULT_OUT}/)")
    p.add_argument("--max-examples", type=int, default=DEFAULT_MAX_EXAMPLES,
                   help=f"drawn examples listed per claim (default: {DEFAULT_MAX_EXAMPLES})")
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:  # --help exits 0; a usage error was already reported
        return int(exc.code or 0)
    if args.max_examples < 0:
        _fail(f"--max-examples must be >= 0, got {args.max_examples}")
        return 2
    try:
        written = render_report(args.results, args.out, max_examples=args.max_examples)
    except (ReportInputError, OSError) as exc:
        _fail(str(exc))
        return 2
    n_fig = len(written) - 2
    print(f"{PROG}: wrote {written[1]}, {written[0].name} and {n_fig} figure{'s' if n_fig != 1 else ''}")
    return 0


def _fail(message: str) -> None:
    one_line = " ".join(str(message).split())
    print(f"{PROG}: error: {one_line}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
