"""Run profiles: how much each claim computes, in one place for every claim.

A profile is a name (``quick`` default, ``ci``, ``thorough``, ``stress``) chosen by
``--profile`` or ``HYPOTHESIS_PROFILE``. For each claim it is a *size preset*: values of the
claim's ``size``-role parameters (steps, samples, seeds, grid resolution, hypothesis
examples), applied over the claim's registered defaults, which are the quick sizes. A preset
may change only size keys (checked whenever it is applied): a profile changes how much is
computed, never what is claimed. The hypothesis profile of the same name (derandomized,
no database) is registered by :func:`register_hypothesis_profiles`.

``PRESETS[claim id][profile] = {dotted key: value}``; the family blocks below are kept apart
so that each family's sizes read together.
"""
from __future__ import annotations

import os
from typing import Any

PROFILE_NAMES = ("quick", "ci", "thorough", "stress")

# Hypothesis examples per property when a claim's parameters have no ``draw.examples`` of their own.
MAX_EXAMPLES = {"quick": 8, "ci": 15, "thorough": 60, "stress": 200}

# Applied to every claim that declares the key (before the claim's own preset).
COMMON: dict[str, dict[str, Any]] = {
    "ci": {"draw.examples": 15},
    "thorough": {"draw.examples": 60},
    "stress": {"draw.examples": 200},
}

# ---------------------------------------------------------------- S1-S5 (theorems/catalogue/symbolic.py)
_SYMBOLIC: dict[str, dict[str, dict[str, Any]]] = {}

# ---------------------------------------------------------------- P1, P2 (theorems/catalogue/supervised.py)
_SUPERVISED: dict[str, dict[str, dict[str, Any]]] = {}

# ---------------------------------------------------------------- P3 (theorems/catalogue/training.py)
_TRAINING: dict[str, dict[str, dict[str, Any]]] = {}

# ---------------------------------------------------------------- P4 (theorems/catalogue/contrastive.py)
_CONTRASTIVE: dict[str, dict[str, dict[str, Any]]] = {}

# ---------------------------------------------------------------- P5, P5m, D1 (theorems/catalogue/downstream.py)
_DOWNSTREAM: dict[str, dict[str, dict[str, Any]]] = {}

# ---------------------------------------------------------------- Q1-Q10 (theorems/catalogue/questions.py)
_QUESTIONS: dict[str, dict[str, dict[str, Any]]] = {}

# ---------------------------------------------------------------- P2r, P2i, P1z (theorems/catalogue/stress.py)
_STRESS: dict[str, dict[str, dict[str, Any]]] = {}

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    **_SYMBOLIC, **_SUPERVISED, **_TRAINING, **_CONTRASTIVE, **_DOWNSTREAM, **_QUESTIONS, **_STRESS}


def active_profile_name(option: str | None = None) -> str:
    name = option or os.environ.get("HYPOTHESIS_PROFILE") or "quick"
    if name not in PROFILE_NAMES:
        raise ValueError(f"profile must be one of {', '.join(PROFILE_NAMES)}, got {name!r}")
    return name


def preset(claim_id: str, profile: str, keys: set[str] | None = None) -> dict[str, Any]:
    """The size values of ``claim_id`` at ``profile`` (COMMON entries only for ``keys`` the claim has)."""
    if profile not in PROFILE_NAMES:
        raise ValueError(f"profile must be one of {', '.join(PROFILE_NAMES)}, got {profile!r}")
    out = {k: v for k, v in COMMON.get(profile, {}).items() if keys is None or k in keys}
    out.update(PRESETS.get(claim_id, {}).get(profile, {}))
    return out


def register_hypothesis_profiles() -> None:
    """Register the hypothesis profile of each name: derandomized, no database, no deadline."""
    from hypothesis import HealthCheck, Phase, settings

    for name in PROFILE_NAMES:
        settings.register_profile(
            name, max_examples=MAX_EXAMPLES[name], derandomize=True, deadline=None, database=None,
            # No "explain" phase: it re-runs variants of the shrunk example after shrinking, which would
            # overwrite the recorded (smallest) counterexample and vary run to run.
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
            print_blob=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                    HealthCheck.function_scoped_fixture],
        )
