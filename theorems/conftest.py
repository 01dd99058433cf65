"""pytest wiring of the claims protocol: profiles, strict xfails from the registry, the results file.

* ``--profile NAME`` or ``HYPOTHESIS_PROFILE`` selects quick (default) / ci / thorough / stress;
  the hypothesis profile of the same name is loaded (derandomized: the same command gives the
  same examples and numbers).
* Claims registered ``expected="fail"`` have their main check marked strict xfail.
* At the end of the session ``reports/latest/results.json`` (``--results-dir``) is written
  atomically; ``--report`` also renders ``report.md`` and ``index.html`` beside it.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, Phase, settings

from .profiles import PROFILES, active_profile_name
from .protocol import ClaimRunner
from .registry import CLAIMS
from .results import RunRecorder, write_atomically

ROOT = Path(__file__).resolve().parent.parent

for _name, _p in PROFILES.items():
    settings.register_profile(
        _name, max_examples=_p.max_examples, derandomize=True, deadline=None, database=None,
        # No "explain" phase: it re-runs variants of the shrunk example after shrinking, which would
        # overwrite the recorded (smallest) counterexample and vary run to run.
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
        print_blob=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                HealthCheck.function_scoped_fixture],
    )


def pytest_addoption(parser):
    g = parser.getgroup("purecheck")
    g.addoption("--profile", default=None, help="quick (default) | ci | thorough | stress; overrides HYPOTHESIS_PROFILE")
    g.addoption("--results-dir", default=str(ROOT / "reports" / "latest"), help="where results.json goes")
    g.addoption("--report", action="store_true", help="also render report.md and index.html at the end")


def pytest_configure(config):
    # The checks run many small tensor ops: one thread is faster than two here (no contention
    # between intra-op threads) and makes float reductions reproducible run to run.
    torch.set_num_threads(int(os.environ.get("PURECHECK_TORCH_THREADS", "1")))
    name = active_profile_name(config.getoption("--profile"))
    os.environ["HYPOTHESIS_PROFILE"] = name
    settings.load_profile(name)
    config.addinivalue_line("markers", "claim(id): the test checks registered claim `id` (main check or control)")
    config._purecheck_recorder = RunRecorder(name, "pytest " + " ".join(config.invocation_params.args))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark expected failures as strict xfail and record which claims have main checks and controls."""
    seen: dict[str, set[str]] = {}
    for item in items:
        m = item.get_closest_marker("claim")
        if m is None:
            continue
        cid = m.args[0]
        role = m.kwargs.get("control", "main")
        if cid not in CLAIMS:
            raise pytest.UsageError(f"{item.nodeid}: checks unregistered claim {cid!r}; add it to theorems/registry.py")
        seen.setdefault(cid, set()).add(role)
        claim = CLAIMS[cid]
        if role == "main" and claim.expected != "pass":
            item.add_marker(pytest.mark.xfail(strict=True, reason=f"expected {claim.expected}: {claim.expected_reason}"))
    config._purecheck_coverage = seen


@pytest.fixture(scope="session")
def profile(request):
    return PROFILES[active_profile_name(request.config.getoption("--profile"))]


@pytest.fixture
def claim_run(request) -> ClaimRunner:
    m = request.node.get_closest_marker("claim")
    if m is None:
        raise pytest.UsageError(f"{request.node.nodeid} uses claim_run without @pytest.mark.claim(ID)")
    rec = request.config._purecheck_recorder.record(m.args[0])
    return ClaimRunner(m.args[0], rec)


def pytest_sessionfinish(session, exitstatus):
    rec: RunRecorder = session.config._purecheck_recorder
    if not rec.records or hasattr(session.config, "workerinput"):
        return
    out_dir = Path(session.config.getoption("--results-dir"))
    path = write_atomically(rec.to_dict(), out_dir / "results.json")
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    if tr:
        tr.write_line(f"purecheck: results written to {path}")
    if session.config.getoption("--report"):
        # The renderer sits above theorems: call it as a program, never import it from here.
        res = subprocess.run([sys.executable, "-m", "purecheck", "report", "--results", str(path), "--out", str(out_dir)],
                             capture_output=True, text=True)
        if tr:
            tr.write_line(f"purecheck: report {'written to ' + str(out_dir) if res.returncode == 0 else 'failed: ' + res.stderr.strip()}")
