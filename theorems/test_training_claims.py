"""P3 and P3d: adversarial training from random init purifies, at one d and as d grows (paper claims C1, C2).

The checks are ``theorems.checks.training:check_p3`` and ``check_p3d``; their parameters,
statements and controls are registered in ``theorems/catalogue/training.py``; ``bind`` makes
``test_P3``, ``test_P3_control_*``, ``test_P3d``, ... Below, tests of what the checks rest on,
each naming the defect it catches (tiny sizes: seconds).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from numerics.risk import robust_error
from numerics.training import train

from . import trained_nets as tn
from .checks import training as ct
from .protocol import bind
from .registry import CLAIMS

bind(globals(), "P3", "P3d")

TINY_DATA = tn.DataModel(d=8, k=2.0, sigma=0.1)
TINY = tn.Training(width=8, eps=0.3, steps=30, batch=32)


def test_clean_and_adversarial_runs_in_one_batch_are_the_runs_trained_alone():
    """Catches a mixed batch that leaks the attack into clean runs, or one run into another (batch invariance)."""
    tn.clear_cache()
    runs = tn.trained(TINY_DATA, [(TINY.replace(eps=0.0), 3), (TINY, 3), (TINY.replace(eps=0.0), 4), (TINY, 4)])
    assert {r.batch_runs for r in runs} == {4}, "the four runs must share one batch"
    model, w = TINY_DATA.model(), TINY_DATA.wstar()
    for r in runs:
        alone = train(model, w, None, r.training.config(r.seed)).net.to_net()
        assert np.array_equal(alone.W, r.net.W) and np.array_equal(alone.a, r.net.a) and \
            np.array_equal(alone.b, r.net.b), f"{r.training.eps=} seed {r.seed}: batched run differs from alone"
    assert not np.array_equal(runs[0].net.W, runs[1].net.W), "the adversarial run must differ from the clean run"
    assert tn.trained(TINY_DATA, [(TINY, 4)])[0] is runs[3], "a cached run must be returned, not retrained"


def test_zero_threshold_net_is_the_linear_net():
    """Catches a control that leaves thresholds in place (the eval.zero_threshold control would then pass)."""
    net = tn.trained_one(TINY_DATA, TINY.replace(threshold="fixed", b_init=0.3), 3).net
    assert np.allclose(net.b, 0.3)  # float32 training
    lin = tn.with_zero_threshold(net)
    assert lin.is_linear() and np.array_equal(lin.W, net.W) and np.array_equal(lin.a, net.a) and lin.c == net.c


def _tiny_p3(**over):
    base = {"model.d": 8, "model.k": 2.0, "net.width": 8, "train.eps": 0.3, "train.steps": 30, "train.batch": 32,
            "eval.verify_samples": 40, "eval.samples": 400, "eval.eps": 0.3, "eval.pgd_steps": 10,
            "eval.pgd_restarts": 2, "purity.samples": 200, "seeds.n": 2, "grid.seeds": 2, "grid.eps": (0.15,),
            "grid.width": (4,)}
    return CLAIMS["P3"].defaults().with_values({**base, **over})


def test_region_map_cells_are_the_same_whatever_the_scheduler():
    """Catches results that depend on where a cell ran (shared state, thread counts, task order)."""
    inproc = ct.p3_region_map(_tiny_p3())
    tn.clear_cache()
    ct.robust_at.cache_clear()
    local = ct.p3_region_map(_tiny_p3(**{"grid.scheduler": "local:2"}))
    strip = lambda m: [(c["params"], c["verdict"], c["numbers"]) for c in m["cells"]]  # noqa: E731
    assert strip(inproc) == strip(local)
    assert inproc["smallest_counterexample"] == local["smallest_counterexample"]
    assert [c["headline"] for c in inproc["cells"]] == [True, False, False]
    assert inproc["sweep"]["scheduler"].startswith("in-process") and local["sweep"]["scheduler"].startswith("dask")


def test_map_declares_each_axis_alone_and_the_slice_without_duplicates():
    """Catches a grid that silently adds or drops cells (the map must be what the parameters declare)."""
    p = CLAIMS["P3"].defaults().with_values({"grid.eps": (0.2, 0.4), "grid.lr": (0.003,), "grid.threshold": ("fixed",),
                                             "grid.slice_eps": (0.2, 0.6), "grid.slice_lr": (0.003, 0.01)})
    cells = ct.map_cells(p)
    keys = [(c["train.eps"], c["train.lr"], c["train.threshold"]) for c in cells]
    assert keys == [(0.4, 0.01, "shared"), (0.2, 0.01, "shared"), (0.4, 0.003, "shared"), (0.4, 0.01, "fixed"),
                    (0.2, 0.003, "shared"), (0.6, 0.003, "shared"), (0.6, 0.01, "shared")]


def test_critical_radius_bracket_contains_the_exact_radius_of_a_linear_net():
    """Catches a bisection that returns a bracket the robust-error curve does not cross (verified vs exact engine)."""
    clean = TINY.replace(eps=0.0)
    net = tn.trained_one(TINY_DATA, clean, 3).net
    assert net.is_linear(), "clean training with a shared threshold ends at b = 0 here"
    ev = ct.EvalSetting("l2", 300, 300, 0.99, 50, 10, 2, 30, 200, 100, "auto", False)
    r = ct.critical_radius(TINY_DATA, clean, 3, ev, 0.3, 1.5, 5)
    model, w = TINY_DATA.model(), TINY_DATA.wstar()

    def exact_empirical(eps):  # the linear net's worst case is exact per sample: the same inputs (seed 50 + 3)
        return robust_error(net, model, w, eps, method="mc", samples=300, seed=53).value

    assert 0 < r["lower"] <= r["upper"] < math.inf
    assert exact_empirical(r["lower"]) < r["level"] <= exact_empirical(r["upper"])
    assert (r["upper"] - r["lower"]) <= r["upper"] * 0.5 / 2 ** 5 * 1.000001 + 1e-12


def test_slope_estimate_recovers_a_known_slope_and_widens_with_brackets():
    """Catches a slope fit with the wrong sign of the bracket ends or an interval that ignores the seeds."""
    x = np.log([16.0, 32.0, 64.0, 128.0])
    per_seed = np.array([0.48, 0.49, 0.51, 0.52])  # slopes of the four seeds: mean 0.5, sd 0.018
    mid = per_seed[:, None] * x[None, :] + 1.0
    tight = ct.slope_estimate(x, mid, mid, mid, 0.95)
    assert tight.value == pytest.approx(0.5)
    half = 3.182446 * np.std(per_seed, ddof=1) / 2  # Student t, 3 degrees of freedom, 95 %
    assert (tight.lower, tight.upper) == pytest.approx((0.5 - half, 0.5 + half), rel=1e-5)
    wide = ct.slope_estimate(x, mid, mid - 0.05, mid + 0.05, 0.95)
    assert wide.lower < tight.lower and wide.upper > tight.upper
    broken = ct.slope_estimate(x, mid, mid, np.where(np.arange(4) == 3, np.inf, mid), 0.95)
    assert broken.upper == math.inf


def test_p3d_points_follow_the_registered_scaling_rules():
    """Catches a sweep whose widths, k or steps drift from scaling.* (the rules must be fixed a priori)."""
    p = CLAIMS["P3d"].defaults().with_values({"scaling.width_per_d": 1.5, "scaling.steps_power": 1.0})
    q = ct.p3_at(p, 64, "k_sqrt_d")
    assert q.net.width == 96 and q.model.d == 64 and q.model.k == pytest.approx(3.0 * 2.0)
    assert q.train.steps == 4 * p.train.steps and q.train.lr == p.train.lr and q.report.region_map is False
    # at d = 32 under k constant, P3d's point trains exactly P3's headline runs (so they are shared, not retrained)
    at32, p3 = ct.p3_at(CLAIMS["P3d"].defaults(), 32, "k_constant"), CLAIMS["P3"].defaults()
    assert (ct.data_of(at32), ct.training_of(at32)) == (ct.data_of(p3), ct.training_of(p3))


@pytest.mark.parametrize("over, start", [
    ({"eval.norm": "linf"}, "P3.eval.norm"),
    ({"model.k": 40.0}, "P3.model.k"),
    ({"grid.slice_eps": (0.2,)}, "P3.grid.slice_eps"),
    ({"seeds.n": 1}, "P3.seeds.n"),
    ({"train.threshold": "relative"}, "P3.train.threshold"),
])
def test_bad_p3_parameters_are_refused_naming_the_key(over, start):
    with pytest.raises(ValueError, match=rf"^{start.replace('.', r'[.]')}"):
        CLAIMS["P3"].defaults().with_values(over)


def test_p3d_refuses_a_decreasing_grid():
    with pytest.raises(ValueError, match=r"^P3d[.]grid[.]d"):
        CLAIMS["P3d"].defaults().with_values({"grid.d": (32, 16, 64)})

