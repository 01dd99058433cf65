"""``purecheck`` console script: ``risk``, ``report``, ``explore``, ``params`` and ``check``."""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="purecheck", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_risk = sub.add_parser("risk", help="clean and robust error of a net described by a TOML file")
    p_risk.add_argument("config", help="TOML file with [model], [task], [network], [attack], [method]")
    p_risk.add_argument("--json", action="store_true", help="print JSON instead of a table")
    sub.add_parser("report", help="render report.md and index.html from a results file", add_help=False)
    sub.add_parser("explore", help="run the beyond-the-paper experiments Q1-Q10 (see --list)", add_help=False)
    sub.add_parser("params", help="print a claim's parameters as TOML (see --list)", add_help=False)
    sub.add_parser("check", help="run one claim's main check outside pytest", add_help=False)
    sub.add_parser("stress", help="search a claim's parameters for its smallest counterexample and boundary",
                   add_help=False)
    if argv[:1] == ["report"]:
        # The renderer owns its own argument parsing (see purecheck.report.command).
        from .report.command import main as report_main

        return report_main(argv[1:])
    if argv[:1] == ["params"]:
        from .claims_command import params_main

        return params_main(argv[1:])
    if argv[:1] == ["check"]:
        from .claims_command import check_main

        return check_main(argv[1:])
    if argv[:1] == ["stress"]:
        from .stress_command import main as stress_main

        return stress_main(argv[1:])
    if argv[:1] == ["explore"]:
        from .explore import main as explore_main

        return explore_main(argv[1:])
    args = parser.parse_args(argv)
    if args.command == "risk":
        from .risk_command import run_risk

        return run_risk(args.config, as_json=args.json)
    parser.error(f"unknown command {args.command!r}")
    return 2
