"""``purecheck report``: render a results file into a reviewer report, or compare two runs.

    purecheck report [--results R] [--out DIR] [--max-examples N] [--baseline OLD.json] [--pdf]
    purecheck report --compare OLD.json NEW.json

``main(argv) -> int``. Rendering: 0 on success (one line on stdout naming what was
written), 2 on bad input, an unusable output directory or (with ``--pdf``) no PDF engine
(one line on stderr, ``purecheck report: error: ...``, and nothing written to ``--out``).
``--compare``: prints the changes and exits 0 when no verdict changed, 1 when one did,
2 on bad input (a missing or corrupt file, an unknown schema).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .compare import compare, compare_files, load, run_label
from .pdf import PdfError, pdf_engine
from .render import DEFAULT_MAX_EXAMPLES, REPORT_PDF, render_report
from .schema import ReportInputError

DEFAULT_RESULTS = Path("reports/latest/results.json")
DEFAULT_OUT = Path("reports/latest")
PDF_NAME = REPORT_PDF
PROG = "purecheck report"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, same prefix and exit status as other errors
        _fail(message)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Render results.json into report.md, a self-contained index.html and "
                                       "figures/*.png (the paper's claims first), or compare two runs.")
    p.add_argument("--results", type=Path, default=DEFAULT_RESULTS,
                   help=f"results file to read (default: {DEFAULT_RESULTS})")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help=f"directory to write the report into (default: {DEFAULT_OUT}/)")
    p.add_argument("--max-examples", type=int, default=DEFAULT_MAX_EXAMPLES,
                   help=f"drawn examples listed per claim (default: {DEFAULT_MAX_EXAMPLES})")
    p.add_argument("--baseline", type=Path, default=None, metavar="OLD.json",
                   help="an earlier results file: the report shows what changed since it")
    p.add_argument("--pdf", action="store_true",
                   help=f"also write {PDF_NAME} beside index.html (headless Chromium, else weasyprint)")
    p.add_argument("--compare", nargs=2, type=Path, default=None, metavar=("OLD.json", "NEW.json"),
                   help="print what changed from OLD to NEW and exit 0 (no verdict changed), 1 (one did) "
                        "or 2 (bad input); writes nothing")
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:  # --help exits 0; a usage error was already reported
        return int(exc.code or 0)
    if args.compare is not None:
        if args.baseline is not None or args.pdf:
            _fail("--compare prints the changes only: it takes neither --baseline nor --pdf")
            return 2
        try:
            comparison = compare_files(*args.compare)
        except ReportInputError as exc:
            _fail(str(exc))
            return 2
        sys.stdout.write(comparison.text())
        return comparison.exit_code
    if args.max_examples < 0:
        _fail(f"--max-examples must be >= 0, got {args.max_examples}")
        return 2
    engine = None
    if args.pdf:
        engine = pdf_engine()
        if engine is None:
            _fail("--pdf needs headless Chromium (/usr/bin/chromium; apt-get install -y chromium) "
                  "or the weasyprint package; neither is available")
            return 2
    try:
        comparison = None
        if args.baseline is not None:
            old, new = load(args.baseline), load(args.results)
            comparison = compare(old, new, old_label=run_label(args.baseline, old),
                                 new_label=run_label(args.results, new))
        written = render_report(args.results, args.out, max_examples=args.max_examples, comparison=comparison,
                                pdf_engine=engine)
    except (ReportInputError, PdfError, OSError) as exc:
        _fail(str(exc))
        return 2
    n_fig = sum(p.suffix == ".png" for p in written)
    pdf = f", {PDF_NAME}" if engine is not None else ""
    print(f"{PROG}: wrote {written[1]}, {written[0].name}{pdf} and {n_fig} figure{'s' if n_fig != 1 else ''}")
    return 0


def _fail(message: str) -> None:
    one_line = " ".join(str(message).split())
    print(f"{PROG}: error: {one_line}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
