"""``purecheck explore``: run the beyond-the-paper questions Q1-Q10 and write their results file.

    purecheck explore --list
    purecheck explore Q6 [Q2 ...|all] [--profile quick|thorough|smoke] [--scheduler SPEC] [--out DIR]

Each question is planned as independent tasks (every task carries its own seeds), run as one
sweep in process or on dask.distributed, and judged on the claims protocol (main check and
negative controls, verdicts from intervals). ``--scheduler``: ``inprocess``, ``local`` (a
LocalCluster with one single-threaded worker per CPU), ``local:N`` or an address such as
``tcp://host:port`` (an existing cluster whose workers can import this project). Default:
in process for ``quick`` and ``smoke``, ``local`` for ``thorough``. The results do not depend on
the scheduler.

The results go to ``DIR/results.json`` (default ``reports/explore``) in the schema of
``theorems/results.py``, so ``purecheck report --results DIR/results.json --out DIR`` renders
them. Questions already in that file from an earlier run of the same profile are kept (a run
replaces only the questions it ran); ``--fresh`` starts a new file.

Exit status: 0 when every verdict (main and controls) is the registered expectation, 1 when
one is not, 2 on a usage error.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

PROG = "purecheck explore"
PROFILES = ("quick", "thorough", "smoke")
DEFAULT_OUT = Path("reports/explore")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        print(f"{PROG}: error: {' '.join(str(message).split())}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Run the beyond-the-paper experiments Q1-Q10 (MODEL.md section 6).")
    p.add_argument("questions", nargs="*", help="question ids (Q1..Q10) or 'all'")
    p.add_argument("--list", action="store_true", help="list the questions and exit")
    p.add_argument("--profile", choices=PROFILES, default="quick", help="experiment size (default: quick)")
    p.add_argument("--scheduler", default=None,
                   help="inprocess | local | local:N | tcp://host:port (default: inprocess for quick/smoke, local for thorough)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default: {DEFAULT_OUT})")
    p.add_argument("--fresh", action="store_true", help="do not keep other questions' results already in DIR/results.json")
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


def _merge(path: Path, new: dict, fresh: bool) -> dict:
    """New results, plus the claims of an existing results file of the same profile that were not rerun."""
    if fresh or not path.exists():
        return new
    try:
        old = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return new
    if old.get("schema") != new["schema"] or old.get("profile") != new["profile"]:
        return new
    from theorems.registry import CLAIMS

    ids = {c["id"] for c in new["claims"]}
    kept = [c for c in old.get("claims", []) if c.get("id") not in ids and c.get("id") in CLAIMS]
    order = list(CLAIMS)
    new["claims"] = sorted(new["claims"] + kept, key=lambda c: order.index(c["id"]))
    return new


def run(ids: list[str], profile: str, scheduler: str | None, out: Path, *, progress: bool = True,
        fresh: bool = False, command: str = PROG) -> tuple[Path, list[dict]]:
    """Run the questions ``ids`` and write ``out/results.json``; returns the path and one summary row per question."""
    from theorems.explore import run_questions
    from theorems.explore.sweep import parse_scheduler
    from theorems.registry import CLAIMS
    from theorems.results import RunRecorder, write_atomically

    if scheduler is None:
        scheduler = "local" if profile == "thorough" else "inprocess"
    spec = parse_scheduler(scheduler)
    update, close = _progress(progress, f"explore {','.join(ids)} ({profile})")
    t0 = time.perf_counter()
    try:
        runs, stats = run_questions(ids, profile, spec, progress=update)
    finally:
        close()
    wall = time.perf_counter() - t0
    recorder = RunRecorder(profile, command)
    rows = []
    for qid in ids:
        qr = runs[qid]
        rec = recorder.record(qid)
        claim = CLAIMS[qid]
        rec.record_main(qr.outcomes["main"], qr.task_seconds["main"])
        for ex in qr.outcomes["main"].examples:
            rec.add_example(ex)
        controls = {}
        for ctl in claim.controls:
            o = qr.outcomes[ctl.name]
            rec.record_control(ctl, o, qr.task_seconds[ctl.name])
            controls[ctl.name] = (o.verdict, ctl.expected)
        rows.append({"id": qid, "verdict": qr.outcomes["main"].verdict, "expected": claim.expected,
                     "controls": controls, "task_seconds": round(sum(qr.task_seconds.values()), 1),
                     "region": (qr.outcomes["main"].evidence.get("region") or {}).get("summary", "")})
    data = recorder.to_dict()
    data["environment"]["explore"] = {"scheduler": spec.describe(), "size": profile, "sweep": stats,
                                      "wall_s": round(wall, 2)}
    path = write_atomically(_merge(out / "results.json", data, fresh), out / "results.json")
    return path, rows


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    from theorems.explore import QUESTIONS

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
    try:
        from theorems.explore.sweep import parse_scheduler

        parse_scheduler(args.scheduler)
    except ValueError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    path, rows = run(ids, args.profile, args.scheduler, args.out, progress=not args.no_progress, fresh=args.fresh,
                     command=" ".join(["purecheck explore", *argv]))
    ok = True
    for r in rows:
        match = r["verdict"] == r["expected"] and all(v == e for v, e in r["controls"].values())
        ok &= match
        ctl = ", ".join(f"{k}={v}" for k, (v, _) in r["controls"].items())
        print(f"{r['id']:4s} {r['verdict']:12s} expected {r['expected']:12s} {'ok ' if match else 'NO '} "
              f"controls: {ctl}  ({r['task_seconds']} s of tasks)")
        if r["region"]:
            print(f"     region: {r['region'][:300]}")
    print(f"{PROG}: wrote {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
