"""``purecheck params ID`` and ``purecheck check ID``: a claim's parameters, and one claim run outside pytest.

    purecheck params P3 [--profile quick|ci|thorough|stress] [--set KEY=VALUE ...]
    purecheck params --list
    purecheck check P3 [--profile ...] [--set train.eps=0.3 ...] [--params FILE.toml] [--json]

``params`` prints the claim's parameters as TOML (tables ``[P3.section]``), every key with its
role, allowed range and meaning as a comment; ``--params`` of pytest and of ``check`` read it
back unchanged. ``check`` runs the claim's main check at the registered defaults of the
profile with the overrides and prints its outcome; it judges the verdict with the registry's
one rule (the registered verdict at the defaults, ``pass`` under overrides).

Exit status: 0 when the verdict is the expected one, 1 when it is not, 2 on a usage error
(an unknown claim or key, a value outside its allowed range: one line naming it).
"""
from __future__ import annotations

import argparse
import json
import sys
import time


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        print(f"{self.prog}: error: {' '.join(str(message).split())}", file=sys.stderr)
        raise SystemExit(2)


def _resolve(claim_id: str, profile: str, sets: list[str], params_file: str | None):
    """(claim, params, defaults) or ParamError."""
    from theorems.parameters import ParamError, load_toml, parse_assignment
    from theorems.registry import claim as registered

    claim = registered(claim_id)
    values: dict = {}
    if params_file:
        tables = load_toml(params_file)
        unknown = sorted(set(tables) - {claim_id})
        if unknown:
            raise ParamError(f"--params {params_file}: tables for {', '.join(unknown)}; this command runs {claim_id} only")
        values.update(tables.get(claim_id, {}))
    for text in sets:
        _, key, value = parse_assignment(text, claim=claim_id)
        values[key] = value
    defaults = claim.defaults(profile)
    return claim, defaults.with_values(values) if values else defaults, defaults


def params_main(argv: list[str]) -> int:
    from theorems.parameters import ParamError, to_toml
    from theorems.profiles import PROFILE_NAMES
    from theorems.registry import CLAIMS

    p = _Parser(prog="purecheck params", description="Print a claim's parameters as TOML.")
    p.add_argument("claim", nargs="?", help="claim id (see --list)")
    p.add_argument("--list", action="store_true", help="list the claims")
    p.add_argument("--profile", choices=PROFILE_NAMES, default="quick")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = p.parse_args(argv)
    if args.list or not args.claim:
        for c in CLAIMS.values():
            print(f"{c.id:4s} {c.scope:9s} {c.paper_claim:17s} {c.title}")
        return 0
    try:
        claim, params, defaults = _resolve(args.claim, args.profile, args.set, None)
    except ParamError as exc:
        p.error(str(exc))
    header = (f"{claim.id}: {claim.title}\nprofile {args.profile}; pass back with "
              f"`pytest theorems --params FILE` or `purecheck check {claim.id} --params FILE`")
    sys.stdout.write(to_toml(params, defaults=defaults, header=header))
    return 0


def check_main(argv: list[str]) -> int:
    from theorems.parameters import ParamError
    from theorems.profiles import PROFILE_NAMES

    p = _Parser(prog="purecheck check", description="Run one claim's main check outside pytest.")
    p.add_argument("claim")
    p.add_argument("--profile", choices=PROFILE_NAMES, default="quick")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="e.g. train.eps=0.3 (repeatable)")
    p.add_argument("--params", default=None, metavar="FILE.toml")
    p.add_argument("--json", action="store_true", help="print the outcome as JSON")
    args = p.parse_args(argv)
    try:
        claim, params, defaults = _resolve(args.claim, args.profile, args.set, args.params)
    except ParamError as exc:
        p.error(str(exc))

    from hypothesis import settings

    from theorems.profiles import register_hypothesis_profiles
    from theorems.threads import ThreadSettingError, pin_threads

    try:
        pin_threads()  # as in pytest theorems: reductions that do not depend on the core count
    except ThreadSettingError as exc:
        p.error(str(exc))
    register_hypothesis_profiles()
    settings.load_profile(args.profile)
    overrides = params.diff(defaults)
    t0 = time.perf_counter()
    outcome = claim.run(params)
    seconds = time.perf_counter() - t0
    judgement = claim.judge_outcome(outcome, overridden=bool(overrides), profile=args.profile)
    text = claim.render(params)
    if args.json:
        out = {"id": claim.id, "verdict": outcome.verdict, "match": judgement.to_dict(), "profile": args.profile,
               "statement": text["statement"], "regime": text["regime"], "params": params.to_dict(),
               "overrides": overrides, "message": outcome.message(),
               "conditions": [c.to_dict() for c in outcome.conditions], "key_numbers": outcome.key_numbers,
               "counterexample": outcome.counterexample, "runtime_s": round(seconds, 3)}
        print(json.dumps(out, indent=1, default=_default))
    else:
        print(f"{claim.id} {outcome.verdict.upper()} (expected {judgement.expected}"
              f"{', overridden: ' + ', '.join(overrides) if overrides else ''}) in {seconds:.1f} s")
        print(f"statement: {text['statement']}")
        for c in outcome.conditions:
            print(f"  [{c.verdict}] {c.describe()}")
        if outcome.counterexample:
            print(f"counterexample: {json.dumps(outcome.counterexample, default=_default)[:600]}")
    return 0 if judgement.matches else 1


def _default(obj):
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return str(obj)
