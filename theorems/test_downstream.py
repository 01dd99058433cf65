"""P5, P5m, P5d and D1: downstream inheritance of robustness from a frozen first layer (paper claim C4).

The checks are ``theorems.checks.downstream:check_p5``, ``check_p5m``, ``check_p5d`` and
``check_d1``; their parameters, statements and controls are registered in
``theorems/catalogue/downstream.py``, the runs they share in ``theorems/downstream_runs.py``.
``bind`` defines the main and control tests. The tests below bind nothing: at small sizes they
check what the checks rest on (the sweep's scheduler independence, batched heads equal lone
heads, the paired difference's sound sides, which engine evaluates which net).
"""
from __future__ import annotations

import numpy as np
import pytest

from numerics.estimates import Estimate, paired_difference

from . import downstream_runs as R
from .protocol import bind
from .registry import CLAIMS

bind(globals(), "P5", "P5m", "P5d", "D1")

# Small sizes (what is computed, not what is claimed): d = 8, a few steps, a few inputs.
_SMALL = {"model.d": 8, "model.support": 4, "net.width": 8, "train.steps": 24, "head.steps": 12, "e2e.steps": 12,
          "eval.verify_samples": 24, "eval.samples": 200, "purity.samples": 200, "grid.train_eps": (0.3,),
          "report.curves": False}


def test_P5_region_map_is_the_same_on_every_scheduler():
    """Cells are sweep tasks: in process and on a dask LocalCluster they give identical cells and verdicts."""
    from .checks.downstream import p5_region_map

    here = CLAIMS["P5"].resolve("quick", {**_SMALL, "grid.scheduler": "inprocess"})
    a = p5_region_map(here)
    b = p5_region_map(here.with_values({"grid.scheduler": "local:2"}))
    assert [c["params"]["train.eps"] for c in a["cells"]] == [0.45, 0.3]
    assert [c["headline"] for c in a["cells"]] == [True, False]
    assert "in-process" in a["sweep"]["scheduler"] and "LocalCluster" in b["sweep"]["scheduler"]
    assert a["cells"] == b["cells"]
    assert a["smallest_counterexample"] == b["smallest_counterexample"]
    assert a["_audit"] == b["_audit"]


def test_heads_fitted_in_one_batch_are_the_heads_fitted_alone():
    """downstream_runs.heads batches every missing head of a task and setting: each equals its lone fit, bit for bit."""
    from numerics.downstream import fit_head

    mcfg = R.model_config(8, 2.0, 0.1, "random", 3)
    tk = R.TaskSpec(8, "correlated", 4, 0.0, 5)
    hs = R.HeadSpec(15, 64, 0.05, 0.2, "l2", 0.3, 2, 9)
    lays = [R.LayerSpec("pure", mcfg, b=0.2), R.LayerSpec("mixed", mcfg, b=0.2, t=0.3, mixing_seed=1)]
    batched = R.heads([R.HeadKey(lay, tk, hs) for lay in lays])
    for lay, fit in zip(lays, batched):
        alone = fit_head(R.layer(lay), R.model(mcfg), R.task(tk).wprime, hs.config())
        assert np.array_equal(fit.net.a, alone.net.a) and fit.net.c == alone.net.c


def test_a_clean_head_ignores_the_attack_fields():
    """P5m's clean heads are P5's: with eps = 0 the PGD steps and the ramp of the setting change nothing."""
    from numerics.downstream import fit_head

    mcfg = R.model_config(8, 2.0, 0.1, "random", 3)
    lay, w = R.layer(R.LayerSpec("pure", mcfg, b=0.2)), R.task(R.TaskSpec(8, "independent", 4, 0.0, 5)).wprime
    one = fit_head(lay, R.model(mcfg), w, R.HeadSpec(15, 64, 0.05, 0.0, "l2", 0.0, 1, 9).config())
    other = fit_head(lay, R.model(mcfg), w, R.HeadSpec(15, 64, 0.05, 0.0, "l2", 0.3, 7, 9).config().replace(
        eps_ramp=0.3, pgd_steps=7))
    assert np.array_equal(one.net.a, other.net.a) and one.net.c == other.net.c


def _sampled(att, cert) -> R.Sampled:
    att, cert = np.asarray(att, bool), np.asarray(cert, bool)
    return R.Sampled("x", att, cert, Estimate(float(att.mean()), 0.0, 1.0, "verified"))


def test_paired_difference_counts_undecided_inputs_against_each_side():
    """An undecided input of b lowers the lower end (a's proven errors against b's possible ones) and never the value."""
    a = _sampled([1, 0, 0, 0, 1, 0, 0, 0] * 10, [1, 0, 0, 0, 1, 0, 0, 0] * 10)
    b = _sampled([0, 0, 0, 0, 1, 0, 0, 0] * 10, [0, 1, 1, 0, 1, 0, 0, 0] * 10)
    d = R.paired(a, b, 0.99)
    assert d.value == pytest.approx(0.125)
    assert d.lower == pytest.approx(paired_difference(a.att.astype(float), b.cert.astype(float), 0.99).lower)
    assert d.upper == pytest.approx(paired_difference(a.cert.astype(float), b.att.astype(float), 0.99).upper)
    assert d.lower < paired_difference(a.att.astype(float), b.att.astype(float), 0.99).lower  # wider than decided
    decided = R.paired(a, _sampled(b.att, b.att), 0.99)
    assert decided.method == "mc" and decided.details["discordant"] == 10
    with pytest.raises(ValueError, match=r"^paired differences need the same samples"):
        R.paired(a, _sampled([0, 1], [0, 1]), 0.99)


def test_pure_layer_heads_are_exact_and_trained_layers_verified():
    """The engine per net: exact worst case for feature-aligned (pure-layer) heads and linear nets, verification else."""
    mcfg = R.model_config(8, 2.0, 0.1, "random", 3)
    tk = R.TaskSpec(8, "correlated", 4, 0.0, 5)
    hs = R.HeadSpec(15, 64, 0.05, 0.0, "l2", 0.0, 1, 9)
    ev = R.EvalSpec(0.2, "l2", 16, 64, 1, 0.99, 5, 2, 10)
    pure = R.robust(R.HeadKey(R.LayerSpec("pure", mcfg, b=0.2), tk, hs), ev)
    mixed = R.robust(R.HeadKey(R.LayerSpec("mixed", mcfg, b=0.2, t=0.5, mixing_seed=1), tk, hs), ev)
    linear = R.robust(R.LinearKey(mcfg, tk), ev)
    assert pure.engine == "mc" and np.array_equal(pure.att, pure.cert)
    assert linear.engine == "mc" and np.array_equal(linear.att, linear.cert)
    assert mixed.engine == "verified" and R.audit_row(mixed)["samples"] == 16
    assert R.audit_row(pure) is None
