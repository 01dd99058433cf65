"""The registry and the checks agree: every claim has a main check and one test per control, every check a claim."""
from __future__ import annotations

import pytest

from .registry import CLAIMS


def test_every_claim_has_a_check_and_its_controls(request):
    seen = request.config._purecheck_coverage
    if set(seen) != set(CLAIMS) and request.config.option.keyword:
        pytest.skip("a -k selection collects only part of the claims; run without -k to check coverage")
    missing = {}
    for cid, claim in CLAIMS.items():
        roles = seen.get(cid, set())
        want = {"main"} | {c.name for c in claim.controls}
        if want - roles:
            missing[cid] = sorted(want - roles)
    assert not missing, f"registry entries without a check or control test: {missing}"


def test_every_check_has_a_registry_entry(request):
    unknown = set(request.config._purecheck_coverage) - set(CLAIMS)
    assert not unknown, f"checks of unregistered claims: {sorted(unknown)}"


def test_expected_failures_carry_reasons():
    for claim in CLAIMS.values():
        if claim.expected != "pass":
            assert claim.expected_reason, f"{claim.id} is expected {claim.expected} without a reason"
