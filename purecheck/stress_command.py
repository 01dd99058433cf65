"""``purecheck stress ID``: search a claim's parameters for its smallest counterexample and the boundary.

    purecheck stress P2 --vary net.b=0:0.9 [--vary eval.norm=l2,linf ...] [--budget N] [--seed S]
                        [--profile quick|ci|thorough|stress] [--set KEY=VALUE ...]
                        [--scheduler inprocess|local[:N]|tcp://host:port] [--json] [--out DIR] [--no-progress]

Each point of the search runs the claim's check at the profile's registered defaults with the
point's values (``--set`` changes other keys for every point). ``--vary KEY=LO:HI`` is a numeric
interval (integers for an integer key), ``--vary KEY=a,b,c`` a set of values (TOML literals or
bare words); every end and value must be allowed for the key. Without ``--vary`` the claim's
registered StressPlan is searched (its ranges, budget and seed). Shrinking goes towards the
registered defaults: fewest changed keys, then the smallest normalised distance; per varied key
the boundary interval [pass side, fail side] through the counterexample is bisected while the
budget lasts (theorems/stress_search.py has the details). The result goes into the ``stress``
section of ``DIR/results.json`` (default reports/latest), merged with what is there.

Deterministic for a given seed, whatever the scheduler (timings aside). Exit status: 0 when the
search ran (a counterexample is a finding, reported in the output), 1 when a point's check
crashed, 2 on a usage error (an unknown claim or key, a range outside the key's allowed range,
an unreachable scheduler: one line naming it).
"""
from __future__ import annotations

import json
from pathlib import Path

from .claims_command import _default, _Parser
from .explore import _progress

ROOT = Path(__file__).resolve().parent.parent


def _parser() -> _Parser:
    from theorems.profiles import PROFILE_NAMES

    p = _Parser(prog="purecheck stress", description="Search a claim's parameters for its smallest counterexample "
                                                      "and the boundary between holding and failing.")
    p.add_argument("claim", help="claim id (purecheck params --list)")
    p.add_argument("--vary", action="append", default=[], metavar="KEY=LO:HI|KEY=a,b,c",
                   help="a varied key and its range or values (repeatable); default: the claim's StressPlan")
    p.add_argument("--budget", type=int, default=None, help="points to evaluate (default: the StressPlan's, or 20)")
    p.add_argument("--seed", type=int, default=None, help="seed of the random draws (default: the StressPlan's, or 0)")
    p.add_argument("--profile", choices=PROFILE_NAMES, default="quick", help="size preset of every point's check")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="other keys, for every point")
    p.add_argument("--scheduler", default=None, help="inprocess (default) | local | local:N | tcp://host:port")
    p.add_argument("--json", action="store_true", help="print the StressResult as JSON")
    p.add_argument("--out", default=str(ROOT / "reports" / "latest"), help="folder of the results.json to update")
    p.add_argument("--no-write", action="store_true", help="do not update results.json")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    return p


def _reachable(spec) -> str | None:
    """Why a dask scheduler address cannot be used (None when it answers)."""
    import socket
    from urllib.parse import urlparse

    if spec.kind != "address":
        return None
    u = urlparse(spec.address)
    if not u.hostname or not u.port:
        return f"--scheduler {spec.address}: expected an address like tcp://host:port"
    try:
        with socket.create_connection((u.hostname, u.port), timeout=5):
            return None
    except OSError as exc:
        return f"--scheduler {spec.address}: cannot reach the dask scheduler ({exc.strerror or type(exc).__name__})"


def main(argv: list[str]) -> int:
    p = _parser()
    args = p.parse_args(argv)

    from theorems.explore.sweep import parse_scheduler
    from theorems.parameters import ParamError, parse_assignment
    from theorems.registry import claim as registered
    from theorems.results import results_target_problem
    from theorems.stress_search import StressError, claim_space, parse_vary, plan_ranges

    try:
        claim = registered(args.claim)
        base = {}
        for text in args.set:
            _, key, value = parse_assignment(text, claim=claim.id)
            base[key] = value
        plan = claim.stress
        if args.vary:
            ranges = [parse_vary(v) for v in args.vary]
        elif plan is not None:
            ranges = plan_ranges(plan.vary)
        else:
            raise StressError(f"{claim.id}: registers no StressPlan; give --vary KEY=LO:HI or KEY=a,b,c")
        budget = args.budget if args.budget is not None else (plan.budget if plan is not None and not args.vary else 20)
        seed = args.seed if args.seed is not None else (plan.seed if plan is not None and not args.vary else 0)
        if budget < 1:
            raise StressError(f"--budget must be >= 1, got {budget}")
        if seed < 0:
            raise StressError(f"--seed must be >= 0, got {seed}")
        defaults = claim.defaults(args.profile)
        params = defaults.with_values(base) if base else defaults
        clash = sorted(set(base) & {k for k, _ in ranges})
        if clash:
            raise StressError(f"{clash[0]}: both --set and --vary; vary it or set it, not both")
        claim_space(params, defaults, ranges)  # every range checked against its key before anything runs
        spec = parse_scheduler(args.scheduler)
        why = _reachable(spec)
        if why:
            raise StressError(why)
        out = Path(args.out) / "results.json"
        why = None if args.no_write else results_target_problem(out, fresh=False, fresh_option=None)
        if why:
            raise StressError(f"--out {args.out}: {why}")
    except (ParamError, StressError, ValueError) as exc:
        p.error(str(exc))

    from theorems.threads import ThreadSettingError, pin_threads

    try:
        pin_threads()  # as in pytest theorems: reductions that do not depend on the core count
    except ThreadSettingError as exc:
        p.error(str(exc))
    command = "purecheck stress " + " ".join(argv)
    import time

    from theorems.results import git_state

    started, git = time.time(), git_state()  # the run's start: its stamp and runtime, as pytest's and explore's
    update, close = _progress(not args.no_progress, "stress points")
    from theorems.stress_search import run_claim_search

    try:
        result = run_claim_search(claim, profile=args.profile, ranges=ranges, base=base, budget=budget, seed=seed,
                                  scheduler=args.scheduler, progress=update, command=command)
    except OSError as exc:  # a cluster that went away between the check and the run
        close()
        p.error(f"--scheduler {args.scheduler}: {type(exc).__name__}: {exc}")
    close()
    if not args.no_write:
        from theorems.results import merge_file, write_atomically

        data = merge_file(out, {}, fresh=False, profile=args.profile, command=command, started=started,
                          stress={claim.id: result}, git=git)
        write_atomically(data, out)
    if args.json:
        print(json.dumps(result, indent=1, default=_default))
    else:
        _print_summary(result, None if args.no_write else out)
    return 1 if result["counts"]["error"] else 0


def _print_summary(r: dict, path: Path | None) -> None:
    c = r["counts"]
    print(f"{r['claim']} stress search: {r['budget_used']} of {r['budget']} points (seed {r['seed']}): "
          f"{c['pass']} pass, {c['fail']} fail, {c['inconclusive']} inconclusive, {c['error']} error"
          + (f", {c['invalid']} invalid" if c["invalid"] else "") + f" in {r['runtime_s']:.1f} s")
    cx = r["counterexample"]
    if cx is None:
        near = r.get("closest")
        print("no counterexample" + (f"; closest to failing: {near['params']} (score {near['score']:.3g})" if near else ""))
    else:
        print(f"smallest counterexample ({cx['verdict']}): {cx['params']}  changed: {', '.join(cx['changed_keys']) or '-'}")
        for f in cx.get("failed", []):
            print(f"  {f}")
    for k, b in r["boundaries"].items():
        if b is None:
            continue
        if b.get("pass_side") is None:
            print(f"boundary {k}: {b.get('note')}")
        else:
            iv = f" interval [{b['interval'][0]:.6g}, {b['interval'][1]:.6g}]" if b.get("interval") else ""
            print(f"boundary {k}: holds at {b['pass_side']}, fails at {b['fail_side']}{iv}"
                  + ("" if b.get("resolved") else " (not resolved: budget spent)"))
    if path is not None:
        print(f"written to {path} (stress.{r['claim']})")

