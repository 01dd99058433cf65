"""Exact population robust error vs Monte Carlo: time, and the samples MC would need to match it.

For each d: the pure soft-threshold net (threshold b, lambda = 1) on the sparse-coding model
with ``sigma = 0``, unit magnitudes, ``k = sqrt(d)`` expected active features (``p = k / d``,
at most 1/2) and a random-sign task ``w*`` in {-1, +1}^d; l2 radius eps. We time
``numerics.risk.robust_error(..., method="exact")`` and report its interval's half-width h.
A Monte Carlo estimate of a probability P needs about ``n = z^2 P (1 - P) / h^2`` samples for a
confidence half-width h at ``level`` (normal approximation to Clopper-Pearson; ``z = 2.58``
at 0.99); its time is ``n`` times the per-sample cost of ``robust_error(..., method="mc")``,
measured here on a few samples. The same is reported at a practical precision (1e-3).

The dictionary defaults to the identity: the l2 robust error of the pure net does not depend
on it (``||M^T delta|| = ||delta||``) and a Haar-random 10,000 x 10,000 matrix costs minutes.

    python benchmarks/bench_exact.py            # d = 10, 100, 1000, 10000
    python benchmarks/bench_exact.py --quick    # d = 10, 100, 1000
"""
from __future__ import annotations

import argparse
import math
import time

from common import machine, pin_threads, table, write_json


def mc_samples_needed(p: float, half_width: float, level: float) -> float:
    """Samples for a two-sided ``level`` half-width ``half_width`` on a probability ``p``.

    Normal approximation ``(z / h)^2 p (1 - p)``; for ``p`` in {0, 1} the zero-failure bound
    ``log(1 / (1 - level)) / h`` (the rule of three at 0.95).
    """
    from scipy.stats import norm

    h = max(half_width, 1e-300)
    if p <= 0.0 or p >= 1.0:
        return math.log(1.0 / (1.0 - level)) / h
    z = norm.ppf(0.5 + level / 2)
    return (z / h) ** 2 * p * (1.0 - p)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="d = 10, 100, 1000")
    ap.add_argument("--dims", type=int, nargs="+")
    ap.add_argument("--b", type=float, default=0.3)
    ap.add_argument("--eps", type=float, default=0.5)
    ap.add_argument("--level", type=float, default=0.99)
    ap.add_argument("--practical", type=float, default=1e-3, help="a practical MC half-width for comparison")
    ap.add_argument("--mc-budget", type=float, default=2e5, help="MC timing samples = budget / d (at least 50)")
    ap.add_argument("--dictionary", choices=("identity", "random"), default="identity")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    pin_threads(args.threads)

    import numpy as np

    from numerics import ModelConfig, SparseCodingModel, pure_net
    from numerics.risk import robust_error

    dims = args.dims or ([10, 100, 1000] if args.quick else [10, 100, 1000, 10000])
    rows = []
    for d in dims:
        k = max(2.0, math.sqrt(d))
        cfg = ModelConfig(d=d, p=min(0.5, k / d), sigma=0.0, dictionary=args.dictionary)
        model = SparseCodingModel(cfg)
        w = np.where(np.random.default_rng(d).random(d) < 0.5, -1.0, 1.0)
        net = pure_net(model.M, w, args.b)
        t = time.perf_counter()
        est = robust_error(net, model, w, args.eps, "l2", method="exact")
        t_exact = time.perf_counter() - t
        half = (est.upper - est.lower) / 2
        n_timing = max(50, int(args.mc_budget / d))
        t = time.perf_counter()
        mc = robust_error(net, model, w, args.eps, "l2", method="mc", samples=n_timing, seed=1, level=args.level)
        per_sample = (time.perf_counter() - t) / n_timing
        n_same = mc_samples_needed(est.value, half, args.level)
        n_prac = mc_samples_needed(est.value, args.practical, args.level)
        rows.append({
            "d": d, "k": cfg.k, "robust_error": est.value, "half_width": half, "exact_s": t_exact,
            "atoms": est.details.get("atoms"), "mc_check": mc.value, "mc_check_lo": mc.lower, "mc_check_hi": mc.upper,
            "mc_per_sample_s": per_sample, "mc_n_same_precision": n_same, "mc_s_same_precision": n_same * per_sample,
            "mc_n_practical": n_prac, "mc_s_practical": n_prac * per_sample,
        })
        print(f"d={d}: exact {est.value:.6f} +- {half:.1e} in {t_exact:.2f}s; "
              f"MC({n_timing}) {mc.value:.4f} [{mc.lower:.4f}, {mc.upper:.4f}]", flush=True)
        if not (mc.lower <= est.value <= mc.upper):
            print(f"  note: the exact value lies outside the {args.level} MC interval (expected 1 time in 100)")
    print(f"\npure net b={args.b}, l2 eps={args.eps}, sigma=0, k=sqrt(d), level={args.level}, threads={args.threads}")
    print(table(rows, [("d", "d"), ("k", ".1f"), ("robust_error", ".6f"), ("half_width", ".1e"), ("exact_s", ".3f"),
                       ("atoms", "d"), ("mc_per_sample_s", ".1e"), ("mc_n_same_precision", ".1e"),
                       ("mc_s_same_precision", ".1e"), ("mc_n_practical", ".1e"), ("mc_s_practical", ".1e")]))
    payload = {"benchmark": "exact_vs_mc", "b": args.b, "eps": args.eps, "norm": "l2", "sigma": 0.0,
               "level": args.level, "practical_half_width": args.practical, "dictionary": args.dictionary,
               "rows": rows, "machine": machine()}
    path = write_json(f"exact_{'quick' if args.quick else 'full'}.json", payload)
    print(f"wrote {path}")
    return payload


if __name__ == "__main__":
    main()
