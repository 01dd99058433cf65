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
# Exact checks on drawn examples: the profiles scale draw.examples (COMMON); S5's Monte Carlo
# moment test gets more samples (a tighter interval, so a more sensitive test) in the thorough profile.
_SYMBOLIC: dict[str, dict[str, dict[str, Any]]] = {
    "S5": {"thorough": {"eval.samples": 1_000_000}},
}

# ---------------------------------------------------------------- P1, P2 (theorems/catalogue/supervised.py)
_SUPERVISED: dict[str, dict[str, dict[str, Any]]] = {
    # P1: the mixing path gains points and more directions are drawn; d stays 8 (model.d is what is claimed, and
    # the old thorough size d = 10 was a setting, not a size). PGD restarts stay 4 in every profile, as before.
    "P1": {"ci": {"grid.t": (0.0, 0.05, 0.1, 0.2, 0.4), "draw.examples": 6},
           "thorough": {"grid.t": (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.6), "draw.examples": 16},
           "stress": {"draw.examples": 8}},
}

# ---------------------------------------------------------------- P3, P3d (theorems/catalogue/training.py)
# P3's region map: quick crosses only the training radius (two cells around the headline's 0.4); ci and
# thorough take the full star declared here before any of its cells ran: one axis at a time around the
# headline (radius, learning rate, init scale, width, threshold rule, optimiser), each value a factor of
# about 3 (or 2 for the width) either side. P3d: quick d = 16, 32, 64; ci adds 128; thorough goes to 512, with 10
# branch-and-bound branches per input in the radius search instead of 30 (decided on 2026-12-03 from a profile of one
# d = 512 point before any thorough verdict at 10 was seen: the radius search was 500 of its 790 s, three quarters of
# that in branch and bound; fewer branches can only widen the brackets).
_P3_STAR = {"grid.eps": (0.1, 0.2, 0.6, 0.8), "grid.lr": (0.003, 0.03), "grid.init_scale": (0.001, 0.1),
            "grid.width": (32, 128), "grid.threshold": ("per_node", "fixed"), "grid.optimiser": ("sgd",)}
_TRAINING: dict[str, dict[str, dict[str, Any]]] = {
    "P3": {"ci": {**_P3_STAR},
           "thorough": {**_P3_STAR, "seeds.n": 8, "eval.verify_samples": 1000, "grid.scheduler": "local"}},
    "P3d": {"ci": {"grid.d": (16, 32, 64, 128)},
            "thorough": {"grid.d": (16, 32, 64, 128, 256, 512), "grid.scheduler": "local", "eval.radius_branches": 10}},
}

# ---------------------------------------------------------------- P4 (theorems/catalogue/contrastive.py)
# quick (the registered defaults): 12 seeds, because with 8 the headline's (b)-vs-(a) interval was as wide as the
# effect (inconclusive); seed sets 0-11, 12-23, 24-35 and 36-47 gave the same verdict at 12. The region map's
# grid is the factorial loss x augmentation x threshold rule in every profile; thorough adds the nine one-axis
# departures declared with it (before any verdict was seen) and runs the cells on a dask LocalCluster. The
# stress profile's points judge the verdict only (the report's extras off), as the controls do. The training
# attack's PGD steps (train.pgd_steps, a setting) are 3 in every profile (the old thorough size used 5).
_P4_EXTRA_CELLS = (
    "train.normalisation=l2",
    "train.loss=infonce; train.normalisation=l2; train.temperature=0.1",
    "train.loss=infonce; train.normalisation=l2; train.temperature=0.2",
    "train.loss=infonce_std; train.normalisation=l2",
    "train.eps=0.2",
    "train.eps=0.5",
    "train.threshold=fixed",
    "net.activation=relu",
    # plain gradient descent (the paper's algorithm); lr 0.1 trains the clean loss as far as Adam in 400 steps
    "train.optimiser=sgd; train.lr=0.1",
)
_CONTRASTIVE: dict[str, dict[str, dict[str, Any]]] = {
    "P4": {
        "ci": {"train.steps": 500, "eval.samples": 2000, "grid.path_t": (0.0, 0.1, 0.2, 0.4, 0.8), "path.n": 1000,
               "path.negatives": 256, "path.restarts": 3},
        "thorough": {"train.steps": 1000, "seeds.n": 16, "eval.samples": 4000, "eval.pgd_steps": 30,
                     "eval.pgd_restarts": 4, "grid.path_t": (0.0, 0.1, 0.2, 0.4, 0.6, 0.8, 1.2), "path.n": 3000,
                     "path.negatives": 256, "path.steps": 30, "path.restarts": 4, "grid.extra": _P4_EXTRA_CELLS,
                     "grid.scheduler": "local", "report.verified_seeds": 2, "eval.verify_samples": 500},
        "stress": {"report.region_map": False, "report.sub_statements": False, "report.verified_seeds": 0},
    },
}

# ---------------------------------------------------------------- P5, P5m, P5d, D1 (theorems/catalogue/downstream.py)
# Quick (the registered defaults) is what the family's 180 s budget allows: 200 verified inputs per net, the
# region map's two pre-training radii, P5d up to d = 128 with 100 inputs per net. Thorough: more inputs, the
# full star of the region map, P5d to d = 256; pre-training steps (a setting of the layer) stay the same.
_P5_THOROUGH = {"eval.verify_samples": 500, "eval.samples": 10_000, "eval.verify_branches": 100,
                "head.steps": 600, "e2e.steps": 1000, "grid.t": (0.0, 0.05, 0.1, 0.2, 0.4, 0.8, 1.2),
                "purity.samples": 10_000}
_DOWNSTREAM: dict[str, dict[str, dict[str, Any]]] = {
    # stress: each point of the search is a whole check; the region map and reported curves stay off
    "P5": {"ci": {"eval.verify_samples": 300, "eval.samples": 6000},
           "stress": {"report.region_map": False, "report.curves": False},
           "thorough": {**_P5_THOROUGH, "grid.eps": (0.05, 0.1, 0.2, 0.3), "report.checkpoints": True,
                        "contrastive.p4_profile": "ci",
                        "grid.train_eps": (0.2, 0.3, 0.6, 0.8), "grid.head_lr": (0.02, 0.1),
                        "grid.init_scale": (0.1,), "grid.width": (32, 128), "grid.threshold": ("per_node",),
                        "grid.optimiser": ("sgd",), "grid.scheduler": "local"}},
    "P5m": {"ci": {"eval.verify_samples": 300, "eval.samples": 6000},
            "thorough": _P5_THOROUGH},
    # P5d stops at d = 256 in thorough: at 512 its pre-training and verified heads alone would take most of the
    # thorough profile's 90 minutes on 2 cores (P3d reaches 512).
    "P5d": {"thorough": {"grid.d": (16, 32, 64, 128, 256), "eval.verify_samples": 200, "eval.samples": 10_000,
                         "purity.samples": 10_000, "grid.scheduler": "local"}},
    "D1": {"ci": {"eval.verify_samples": 200},
           "thorough": {"eval.verify_samples": 599, "eval.verify_branches": 100, "dictionary.max_iter": 100,
                        "head.steps": 600, "grid.eps_l2": (0.25, 0.5, 1.0), "grid.eps_linf": (0.05, 0.1, 0.2)}},
}

# ---------------------------------------------------------------- Q1-Q10 (theorems/catalogue/questions.py)
# quick = the registered defaults (the explorer's former "smoke" size); ci = its former "quick" size;
# thorough = its former "thorough" size, except two PGD budgets cut on 2026-12-02 for the 90-minute thorough run
# (measured under cProfile, 2 cores, before any verdict of the new sizes was seen): Q2's structural PGD (50 steps x 6
# restarts on 6000 samples, 28 bisection points x 10 sharpness values) was 1430 s of Q2's 1510 s, now 30 x 2 (the
# exact soft-threshold attack is the main attack there; quick and ci run no PGD at all); Q6's l_inf PGD on the random
# dictionary (50 x 8 at d up to 512) was 1262 s of 1273 s, now 30 x 4 (ci's budget), d still up to 512. The trained nets' verified robust errors (reported evidence,
# except Q5's and Q10's heads, which are judged) grow their samples and branch budgets with the profile.
# Complete verification costs a few ms per sample on these nets (more for adversarially trained ones, whose
# dead zones leave samples undecided after the root bound), so samples grow slowly with the profile.
_VERIFY = {"ci": {"eval.verify_branches": 300, "eval.verify_restarts": 50},
           "thorough": {"eval.verify_branches": 1000, "eval.verify_restarts": 50}}
_TRAINED_EVAL = {"ci": {"eval.samples": 200, **_VERIFY["ci"]}, "thorough": {"eval.samples": 300, **_VERIFY["thorough"]}}
_TRAINED_RUNS = {"ci": {"seeds.n": 6, "train.steps": 600}, "thorough": {"seeds.n": 10, "train.steps": 1500}}


def _trained(**extra: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p: {**_TRAINED_RUNS[p], **_TRAINED_EVAL[p], **extra.get(p, {})} for p in ("ci", "thorough")}


_QUESTIONS: dict[str, dict[str, dict[str, Any]]] = {
    "Q1": {"ci": {"grid.rho": (0.0, 0.25, 0.5, 0.75, 0.9), "grid.k": (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0),
                  "eval.samples": 3000, "eval.bisection": 10},
           "thorough": {"grid.rho": (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95),
                        "grid.k": (1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 48.0, 64.0),
                        "eval.samples": 10_000, "eval.bisection": 12}},
    "Q2": _trained(ci={"grid.beta_b": (0.5, 1.0, 2.0, 4.0, 8.0, 16.0), "structural.samples": 2000,
                       "structural.bisection": 10},
                   thorough={"grid.beta_b": (0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 16.0, 32.0),
                             "structural.samples": 6000, "structural.pgd_steps": 30, "structural.pgd_restarts": 2,
                             "structural.bisection": 12}),
    "Q3": _trained(),
    "Q4": {"ci": {"grid.b": (0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7),
                  "grid.b_outside": (0.0, 0.02, 0.05, 0.8, 0.85, 0.9, 0.95, 1.0), "eval.bisection": 12},
           "thorough": {"grid.b": (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7),
                        "grid.b_outside": (0.0, 0.02, 0.05, 0.75, 0.8, 0.85, 0.9, 0.95, 0.98, 1.0),
                        "grid.d": (64, 256, 1024), "eval.bisection": 14}},
    "Q5": {"ci": {"grid.t": (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 1.2), "head.steps": 600,
                  "eval.samples": 8000, **_VERIFY["ci"]},
           "thorough": {"grid.t": (0.0, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.2, 1.6),
                        "head.steps": 1500, "eval.samples": 12_000, **_VERIFY["thorough"]}},
    "Q6": {"ci": {"grid.d": (16, 64, 256), "eval.samples": 2000, "eval.pgd_steps": 30, "eval.pgd_restarts": 4,
                  "eval.bisection": 10},
           "thorough": {"grid.d": (16, 32, 64, 128, 256, 512), "eval.samples": 5000, "eval.pgd_steps": 30,
                        "eval.pgd_restarts": 4, "eval.bisection": 12}},
    "Q7": _trained(ci={"contrastive.seeds": 8, "contrastive.steps": 400},
                   thorough={"contrastive.seeds": 12, "contrastive.steps": 1000}),
    "Q8": _trained(),
    "Q9": _trained(ci={"grid.n_train": (32, 64, 128, 256, 512, 1024, 0)},
                   thorough={"grid.n_train": (16, 32, 64, 128, 256, 512, 1024, 4096, 0)}),
    "Q10": _trained(ci={"contrastive.steps": 400, "contrastive.seeds": 6, "head.steps": 300, "eval.samples": 300,
                        "grid.task": ("same", "rho=0.9", "rho=0.5", "rho=0", "disjoint")},
                    thorough={"contrastive.steps": 1000, "contrastive.seeds": 10, "head.steps": 600,
                              "eval.samples": 500,
                              "grid.task": ("same", "rho=0.9", "rho=0.5", "rho=0.2", "rho=0", "disjoint")}),
}

# ---------------------------------------------------------------- P2r, P2i, P1z (theorems/catalogue/stress.py)
_STRESS: dict[str, dict[str, dict[str, Any]]] = {}

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    **_SYMBOLIC, **_SUPERVISED, **_TRAINING, **_CONTRASTIVE, **_DOWNSTREAM, **_QUESTIONS, **_STRESS}

# Seconds of each claim's tests (the 40 longest, summed per claim) in the thorough run of 2026-12-03 afternoon (2 cores,
# -n 2, commit 11015b5, 87.2 minutes in all; S5 and P2 from the run before). Used only to hand the longest claims to
# pytest-xdist workers first (longest-processing-time order): by test count, xdist's default, P3 and P3d started last
# and ran alone at the end. A claim without an entry counts as 0 s; the order never changes what a claim computes.
MEASURED_SECONDS: dict[str, float] = {
    "P3d": 2974, "P4": 1670, "Q2": 1231, "Q10": 843, "P5": 569, "P3": 534, "Q7": 466, "P5d": 416, "Q6": 408, "Q9": 358,
    "D1": 253, "Q1": 197, "Q8": 63, "Q5": 54, "Q3": 54, "P1": 37, "Q4": 12, "S5": 12, "P2": 8}


def run_order(claim_id: str | None) -> float:
    """Sort key of a claim's tests under pytest-xdist: the longest claim (by MEASURED_SECONDS) first."""
    return -MEASURED_SECONDS.get(claim_id or "", 0.0)


# The profile whose sizes a negative control runs at, where it is not the run's own. A control has only to show that
# the check reports its variant as failing, which ci's sizes show (every control matches in the ci reference,
# reports/reference); the thorough profile spends its sizes on the main checks, whose controls at thorough sizes were
# about a fifth of its time (Q2's two 9 minutes, P4's 5, P5d's 4, P3d's eps = 0 sweep to d = 512 as long as P3d).
CONTROL_SIZES = {"thorough": "ci"}


def control_profile(profile: str) -> str:
    """The profile whose size presets the negative controls use in a run at ``profile``."""
    if profile not in PROFILE_NAMES:
        raise ValueError(f"profile must be one of {', '.join(PROFILE_NAMES)}, got {profile!r}")
    return CONTROL_SIZES.get(profile, profile)


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
