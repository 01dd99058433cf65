"""S1-S5: the symbolic lemmas (theorems/catalogue/symbolic.py), checked by theorems/checks/symbolic.py."""
from .protocol import bind

bind(globals(), "S1", "S2", "S3", "S4", "S5")


def test_s5_monte_carlo_agreement_needs_the_whole_interval_within_tolerance():
    # Shared signs, w = (1, 1), p = 1/2, r = 1: E S^2 = p r^2 ||w||^2 + 2 p^2 r^2 (the cross term) = 1.5 against the
    # formula's 1.0, 50 % off. Catches a condition that passes when the formula is merely not ruled out by the
    # interval: then 20 samples (a wide interval) passed where 200,000 fail, fewer samples making a pass easier.
    from .checks.symbolic import s5_example
    from .registry import CLAIMS

    ex = {"w": [1.0, 1.0], "p": 0.5, "magnitude": "point", "r": 1.0}
    verdicts = {}
    for n in (20, 200_000):
        params = CLAIMS["S5"].resolve("quick", {"model.signs": "shared", "eval.samples": n})
        verdicts[n] = s5_example(ex, params=params)[0][-1].verdict
    assert verdicts == {20: "inconclusive", 200_000: "fail"}
    sound = CLAIMS["S5"].resolve("quick", {"eval.samples": 200_000})  # independent signs: the formula holds
    assert s5_example(ex, params=sound)[0][-1].verdict == "pass"
