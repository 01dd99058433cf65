"""``purecheck explore``: run the beyond-the-paper questions Q1-Q10 and write their results file.

    purecheck explore --list
    purecheck explore Q6 [Q2 ...|all] [--profile quick|ci|thorough|stress] [--scheduler SPEC] [--out DIR] [--fresh]

Each question is a registered parameterised proposition (``purecheck params Q6``); its main
check and its negative controls (parameter variants) at the profile's registered parameters
are planned as independent tasks (every task carries its own seeds), run as ONE sweep in
process or on dask.distributed (tasks shared by a claim and its controls, or by several
questions, run once), and judged with the registry's one rule (``Claim.judge``; a control must
give its registered verdict). ``--scheduler``: ``inprocess``, ``local`` (a LocalCluster with
one single-threaded worker per CPU), ``local:N`` or an address such as ``tcp://host:port`` (an
existing cluster whose workers can import this project). Default: ``local`` for ``thorough``,
in process otherwise. The results do not depend on the scheduler.

The results go to ``DIR/results.json`` (default ``reports/explore``), schema 2
(:mod:`theorems.results`), so ``purecheck report --results DIR/results.json --out DIR`` renders
them. Records of claims already in that file are kept (a run replaces only the questions it
ran; each record is stamped with its run); ``--fresh`` starts a new file.

Exit status: 0 when every verdict (main and controls) is the registered expectation, 1 when
one is not, 2 on a usage error (an unknown question or profile, a malformed or unreachable
scheduler: one line naming it).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

PROG = "purecheck explore"
DEFAULT_OUT = Path("reports/explore")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        print(f"{PROG}: error: {' '.join(str(message).split())}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    from theorems.profiles import PROFILE_NAMES

    p = _Parser(prog=PROG, description="Run the beyond-the-paper questions Q1-Q10 (docs/model.md).")
    p.add_argument("questions", nargs="*", help="question ids (Q1..Q10) or 'all'")
    p.add_argument("--list", action="store_true", help="list the questions and exit")
    p.add_argument("--profile", choices=PROFILE_NAMES, default="quick",
                   help="size preset of every check (theorems/profiles.py; default: quick)")
    p.add_argument("--scheduler", default=None,
                   help="inprocess | local | local:N | tcp://host:port (default: local for thorough, else inprocess)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default: {DEFAULT_OUT})")
    p.add_argument("--fresh", action="store_true", help="do not keep other claims' records already in DIR/results.json")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def list_questions() -> str:
    from theorems.explore import QUESTIONS, module
    from theorems.registry import CLAIMS

    lines = []
    for qid in QUESTIONS:
        c = CLAIMS[qid]
        controls = ", ".join(k.name for k in c.controls)
        lines.append(f"{qid:4s} {c.title}  [expected: {c.expected}; controls: {controls}]")
        lines.append(f"     {module(qid).QUESTION}")
    return "\n".join(lines)


def _progress(enabled: bool, desc: str):
    """A tqdm bar over tasks on stderr: ``(update(done, total), close())`` (no-ops when disabled or absent)."""
    if not enabled:
        return None, lambda: None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None, lambda: None
    bar = {"b": None}

    def update(done: int, total: int) -> None:
        if bar["b"] is None:
            bar["b"] = tqdm(total=total, desc=desc, unit="task", file=sys.stderr)
        bar["b"].n = done
        bar["b"].refresh()

    def close() -> None:
        if bar["b"] is not None:
            bar["b"].close()

    return update, close


def run(ids: list[str], profile: str, scheduler: str | None, out: Path, *, progress: bool = True,
        fresh: bool = False, command: str = PROG) -> tuple[Path, list[dict]]:
    """Run the questions ``ids`` and merge their records into ``out/results.json``; the path and one row per question."""
    from theorems.explore import run_questions
    from theorems.explore.sweep import parse_scheduler
    from theorems.registry import CLAIMS
    from theorems.results import RunRecorder, merge_file, write_atomically

    if scheduler is None:
        scheduler = "local" if profile == "thorough" else "inprocess"
    spec = parse_scheduler(scheduler)
    update, close = _progress(progress, f"explore {','.join(ids)} ({profile})")
    recorder = RunRecorder(profile, command)
    t0 = time.perf_counter()
    try:
        runs, stats = run_questions(ids, profile, spec, progress=update)
    finally:
        close()
    wall = time.perf_counter() - t0
    rows = []
    for qid in ids:
        qr, claim = runs[qid], CLAIMS[qid]
        defaults = qr.params["main"]
        rec = recorder.record(qid, defaults, defaults)
        main = qr.outcomes["main"]
        rec.record_main(main, qr.seconds["main"])
        controls = {}
        for ctl in claim.controls:
            o = qr.outcomes[ctl.name]
            rec.record_control(ctl, o, qr.seconds[ctl.name])
            controls[ctl.name] = ctl.judge(qid, o.verdict)
        rows.append({"id": qid, "judgement": claim.judge_outcome(main, profile=profile), "controls": controls,
                     "seconds": round(sum(qr.seconds.values()), 1),
                     "region": (main.evidence.get("region") or {}).get("summary", "")})
    path = out / "results.json"
    data = merge_file(path, recorder.record_dicts(), fresh=fresh, profile=profile, command=command, git=recorder.git,
                      started=recorder.started)
    data["environment"]["explore"] = {"scheduler": spec.describe(), "profile": profile, "sweep": stats,
                                      "wall_s": round(wall, 2)}
    write_atomically(data, path)
    return path, rows


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    from theorems.explore import QUESTIONS
    from theorems.explore.sweep import parse_scheduler, unreachable

    if args.list:
        print(list_questions())
        return 0
    if not args.questions:
        print(f"{PROG}: error: name at least one question (Q1..Q10 or 'all'), or use --list", file=sys.stderr)
        return 2
    ids = list(QUESTIONS) if args.questions == ["all"] else args.questions
    bad = [q for q in ids if q not in QUESTIONS]
    if bad:
        print(f"{PROG}: error: unknown question(s) {', '.join(bad)}; choose from {', '.join(QUESTIONS)} or 'all'",
              file=sys.stderr)
        return 2
    from theorems.results import results_target_problem

    target = results_target_problem(Path(args.out) / "results.json", fresh=args.fresh)
    if target:  # before anything is computed: a run that cannot write its results would be lost
        print(f"{PROG}: error: --out {args.out}: {target}", file=sys.stderr)
        return 2
    try:
        why = unreachable(parse_scheduler(args.scheduler))
    except ValueError as exc:
        why = str(exc)
    if why:
        print(f"{PROG}: error: {why}", file=sys.stderr)
        return 2
    from theorems.explore.sweep import SchedulerUnreachable
    from theorems.threads import ThreadSettingError, pin_threads

    try:  # the tasks run single-threaded anyway (sweep.single_threaded); the process's record says the same
        pin_threads()
    except ThreadSettingError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2

    try:
        path, rows = run(ids, args.profile, args.scheduler, args.out, progress=not args.no_progress, fresh=args.fresh,
                         command=" ".join(["purecheck explore", *argv]))
    except SchedulerUnreachable as exc:  # a cluster that went away between the check and the run
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    ok = True
    for r in rows:
        j = r["judgement"]
        match = j.matches and all(c.matches for c in r["controls"].values())
        ok &= match
        ctl = ", ".join(f"{name}={c.verdict}" + ("" if c.matches else f" (expected {c.expected})")
                        for name, c in r["controls"].items())
        print(f"{r['id']:4s} {j.verdict:12s} expected {j.expected:12s} {'ok ' if match else 'NO '} "
              f"controls: {ctl}  ({r['seconds']} s of tasks)")
        if r["region"]:
            print(f"     region: {r['region'][:300]}")
    print(f"{PROG}: wrote {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
