"""pytest wiring of the claims protocol: profiles, reviewer overrides, exact verdicts, the results file.

* ``--profile NAME`` or ``HYPOTHESIS_PROFILE`` selects quick (default) / ci / thorough / stress:
  each claim's size preset (theorems/profiles.py) and the hypothesis profile of the same name.
* ``--set ID.section.key=VALUE`` (repeatable) and ``--params FILE.toml`` (tables named by claim
  id, as ``purecheck params ID`` prints them) run claims at other constants. A bad key, type or
  value stops the run before anything runs (usage error, exit 4) with one line naming the key
  and its allowed range; nothing is written.
* A claim registered with a verdict other than ``pass`` has its main test marked strict xfail
  that accepts only :class:`~theorems.registry.RegisteredOutcome`, i.e. exactly the registered
  verdict; a crash or another verdict is red. Under overrides the main test must pass.
* At the end ``reports/latest/results.json`` (``--results-dir``) is updated atomically: the
  claims that ran replace their records, the others are kept (``--fresh`` starts over);
  ``--report`` also renders ``report.md`` and ``index.html`` beside it.
* ``-n N`` (pytest-xdist): a claim's tests run on one worker (``loadgroup``), workers hand their
  records to the controller, and the file is the one a serial run writes (timings aside). Each
  worker also spools its records to ``<results-dir>/.spool/`` after every test, so that an
  interrupted run (Ctrl-C, ``timeout -s INT``) still writes the claims that finished, as a serial
  run does; the controller reads the spool only for workers whose records never arrived.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import settings

from .parameters import ParamError, load_toml, parse_assignment
from .profiles import active_profile_name, register_hypothesis_profiles, run_order
from .protocol import ClaimSession
from .registry import CLAIMS, RegisteredOutcome, claim as registered_claim
from .results import RunRecorder, _default, merge_file, merge_record, results_target_problem, write_atomically
from .threads import ThreadSettingError, pin_threads

ROOT = Path(__file__).resolve().parent.parent

register_hypothesis_profiles()


def pytest_addoption(parser):
    g = parser.getgroup("purecheck")
    g.addoption("--profile", default=None, help="quick (default) | ci | thorough | stress; overrides HYPOTHESIS_PROFILE")
    g.addoption("--results-dir", default=str(ROOT / "reports" / "latest"), help="where results.json goes")
    g.addoption("--report", action="store_true", help="also render report.md and index.html at the end")
    g.addoption("--set", action="append", default=[], dest="purecheck_set", metavar="ID.KEY=VALUE",
                help="run claim ID with parameter KEY (section.key) set to VALUE (a TOML literal); repeatable")
    g.addoption("--params", default=None, dest="purecheck_params", metavar="FILE.toml",
                help="parameter overrides from a TOML file with tables named by claim id ([P3.train] ...)")
    g.addoption("--fresh", action="store_true", help="start results.json over instead of updating its records")


def collect_overrides(set_args: list[str], params_file: str | None) -> dict[str, dict]:
    """``{claim id: {dotted key: value}}`` from ``--params`` then ``--set``, validated against each claim."""
    out: dict[str, dict] = {}
    if params_file:
        for cid, values in load_toml(params_file).items():
            registered_claim(cid)
            out.setdefault(cid, {}).update(values)
    for text in set_args:
        cid, key, value = parse_assignment(text)
        registered_claim(cid)
        out.setdefault(cid, {})[key] = value
    return out


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    # One torch thread and one BLAS thread (theorems/threads.py): float reductions then do not depend
    # on the machine's core count, and the many small ops run faster without intra-op contention.
    try:
        pin_threads()
    except ThreadSettingError as exc:
        raise pytest.UsageError(str(exc)) from None
    name = active_profile_name(config.getoption("--profile"))
    os.environ["HYPOTHESIS_PROFILE"] = name
    settings.load_profile(name)
    config.addinivalue_line("markers", "claim(id, control=None): the test checks registered claim `id`")
    config.addinivalue_line("markers", "xdist_group(name): tests of one claim run on one pytest-xdist worker")
    try:
        overrides = collect_overrides(config.getoption("purecheck_set"), config.getoption("purecheck_params"))
        session = ClaimSession(name, overrides, None)
        for cid in overrides:
            session.params(cid)  # validates every key, type and range now
    except ParamError as exc:
        raise pytest.UsageError(str(exc)) from None
    winput = getattr(config, "workerinput", None)
    if winput is None:  # the controller writes results.json: find out now whether it can, not after the run
        target = results_target_problem(Path(config.getoption("--results-dir")) / "results.json",
                                        fresh=config.getoption("--fresh"))
        if target:
            raise pytest.UsageError(f"--results-dir: {target}")
    started = winput["purecheck_started"] if winput else time.time()
    command = winput["purecheck_command"] if winput else "pytest " + " ".join(config.invocation_params.args)
    recorder = RunRecorder(name, command)
    recorder.started = started
    session.recorder = recorder
    config._purecheck_session = session
    config._purecheck_recorder = recorder
    config._purecheck_worker_records = {}
    config._purecheck_worker_stress = {}
    config._purecheck_workers_done = set()
    # A claim's main test and controls share cached computations: keep them on one xdist worker.
    # A worker re-parses the command line, where `-n 2` alone means dist "load": xdist then adds no
    # group to the node ids and the controller's loadgroup scheduler sees one group per test (every
    # claim split over the workers). The controller tells its workers (pytest_configure_node).
    if winput and winput.get("purecheck_loadgroup"):
        config.option.loadgroup = True
    if getattr(config.option, "dist", "no") == "load":
        config.option.dist = "loadgroup"
        # Groups go out in collection order (see pytest_collection_modifyitems), not by test count.
        config.option.loadscopereorder = False


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """(xdist controller) every worker stamps its records with the controller's start time and command."""
    rec = node.config._purecheck_recorder
    node.workerinput["purecheck_started"] = rec.started
    node.workerinput["purecheck_command"] = rec.command
    node.workerinput["purecheck_loadgroup"] = node.config.getvalue("dist") == "loadgroup"


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """(xdist controller) collect a worker's claim records."""
    searches = getattr(node, "workeroutput", {}).get("purecheck_stress")
    if searches:
        node.config._purecheck_worker_stress.update(json.loads(searches))
    data = getattr(node, "workeroutput", {}).get("purecheck_records")
    if data is None:
        return
    node.config._purecheck_workers_done.add(node.workerinput["workerid"])
    store = node.config._purecheck_worker_records
    for cid, rec in json.loads(data).items():
        store[cid] = merge_record(store.get(cid), rec)


def _spool_dir(config) -> Path:
    return Path(config.getoption("--results-dir")) / ".spool"


def _spool_prefix(started: float) -> str:
    # the controller's start time in the name: a later run never reads an earlier run's spool
    return f"{int(started * 1000)}-"


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    """(xdist worker) spool the record of the claim this test checked: an interrupted run keeps finished claims.

    One small file per worker and claim, rewritten after each of the claim's tests (a claim's tests run on one
    worker), so the cost is one record's JSON per test.
    """
    config = item.config
    marker = item.get_closest_marker("claim")
    if not hasattr(config, "workerinput") or marker is None:
        return
    cid, rec = marker.args[0], config._purecheck_recorder
    if cid not in rec.records:
        return
    worker = config.workerinput["workerid"]
    stress = rec.stress_dicts().get(cid)
    write_atomically({"worker": worker, "records": {cid: rec.records[cid].to_dict(rec.stamp())},
                      "stress": {cid: stress} if stress else {}},
                     _spool_dir(config) / f"{_spool_prefix(rec.started)}{worker}-{cid}.json")


def _read_spool(config, started: float) -> list[dict]:
    """(controller) this run's spooled claim records (``worker``, ``records``, ``stress``); files removed as read."""
    out = []
    folder = _spool_dir(config)
    for f in sorted(folder.glob(_spool_prefix(started) + "*.json")) if folder.is_dir() else []:
        try:
            out.append(json.loads(f.read_text()))
        except (OSError, ValueError):
            pass  # a spool file torn by a kill: that claim's record is lost, as without a spool
        f.unlink(missing_ok=True)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
    return out


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Strict xfails for registered non-pass verdicts, skips by profile, one xdist group per claim."""
    session: ClaimSession = config._purecheck_session
    seen: dict[str, set[str]] = {}
    for item in items:
        m = item.get_closest_marker("claim")
        if m is None:
            continue
        cid = m.args[0]
        role = "stress" if m.kwargs.get("stress") else (m.kwargs.get("control") or "main")
        if cid not in CLAIMS:
            raise pytest.UsageError(f"{item.nodeid}: checks unregistered claim {cid!r}; add it to theorems/catalogue/")
        seen.setdefault(cid, set()).add(role)
        claim = CLAIMS[cid]
        item.add_marker(pytest.mark.xdist_group(name=cid))
        if session.profile not in claim.profiles:
            item.add_marker(pytest.mark.skip(reason=f"{cid} runs only in the {', '.join(claim.profiles)} profile(s), "
                                                    f"e.g. pytest theorems --profile {claim.profiles[0]} -k {cid}"))
            continue
        if role == "stress" and session.profile != "stress":
            item.add_marker(pytest.mark.skip(reason=f"{cid}'s stress search runs only under --profile stress"))
            continue
        overridden = session.overridden(cid)
        expected = claim.expected_at(session.profile)
        if role == "main" and expected != "pass" and not overridden:
            item.add_marker(pytest.mark.xfail(strict=True, raises=RegisteredOutcome,
                                              reason=f"registered {expected} ({session.profile}): "
                                                     f"{claim.reason(session.params(cid)[0], session.profile)}"))
    config._purecheck_coverage = seen
    config._purecheck_files = {Path(str(item.fspath)).name for item in items}
    if hasattr(config, "workerinput"):
        # xdist workers (all collect alike): the longest claims first, so that no long claim starts last and
        # runs alone at the end (stable: a claim's tests keep their order).
        items.sort(key=lambda it: run_order(it.get_closest_marker("claim").args[0]
                                            if it.get_closest_marker("claim") else None))


@pytest.fixture(scope="session")
def claim_session(request) -> ClaimSession:
    return request.config._purecheck_session


# --------------------------------------------------------------- results file
def pytest_sessionfinish(session, exitstatus):
    config = session.config
    rec: RunRecorder = config._purecheck_recorder
    if hasattr(config, "workerinput"):  # xdist worker: hand the records to the controller
        config.workeroutput["purecheck_records"] = json.dumps(rec.record_dicts(), default=_default)
        config.workeroutput["purecheck_stress"] = json.dumps(rec.stress_dicts(), default=_default)
        return
    records = dict(config._purecheck_worker_records)
    searches = dict(config._purecheck_worker_stress)
    for spooled in _read_spool(config, rec.started):
        if spooled.get("worker") in config._purecheck_workers_done:
            continue  # its full records arrived through xdist
        for cid, r in spooled.get("records", {}).items():
            records[cid] = merge_record(records.get(cid), r)
        searches.update(spooled.get("stress", {}))
    for cid, r in rec.record_dicts().items():
        records[cid] = merge_record(records.get(cid), r)
    searches.update(rec.stress_dicts())
    if not records and not searches:
        return
    out_dir = Path(config.getoption("--results-dir"))
    path = out_dir / "results.json"
    data = merge_file(path, records, fresh=config.getoption("--fresh"), profile=rec.profile, command=rec.command,
                      started=rec.started, stress=searches, git=rec.git)
    write_atomically(data, path)
    tr = config.pluginmanager.get_plugin("terminalreporter")
    if tr:
        kept = len(data["claims"]) - len(records)
        tr.write_line(f"purecheck: results written to {path} ({len(records)} claim(s) from this run"
                      + (f", {kept} kept from earlier runs)" if kept else ")"))
    if config.getoption("--report"):
        # The renderer sits above theorems: call it as a program, never import it from here.
        res = subprocess.run([sys.executable, "-m", "purecheck", "report", "--results", str(path), "--out", str(out_dir)],
                             capture_output=True, text=True)
        if tr:
            tr.write_line(f"purecheck: report {'written to ' + str(out_dir) if res.returncode == 0 else 'failed: ' + res.stderr.strip()}")
