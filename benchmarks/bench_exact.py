"""Exact population robust error: its speed where users wait, and what Monte Carlo would need to match it.

Sections (all in one run; ``--only`` picks some):

- ``binomial``: the exact engine at d = 10,000 (pure net, k = 3 expected active features,
  uniform w*, b = 0.3, l2 eps = 0.25, identity dictionary) next to a plain 20-line binomial sum
  of the same number (S3 regime: an error iff ``(1 - b)|2a - A| <= eps sqrt(A)`` with A active
  features, a of them +1), their agreement and the time ratio (best CPU and wall time of
  ``--binomial-repeats`` calls each, one thread; the first call too). Twice: with the pure net's first layer a transposed *view* of the
  dictionary (recognised in O(1)) and as ``pure_net`` builds it today (recognised by comparing
  d^2 entries).
- ``s3``: the four risks of the pure net at d = 4096 inside regime S3 (tests/test_risk.py checks
  their values against the S3 binomial sum; their time is measured here, not in a test).
- ``cli``: wall and CPU time of ``purecheck risk examples/pure.toml`` over ``--cli-runs``
  fresh processes (median and min; the machine is shared, so the min and the CPU time are the
  better measures of the work itself), with a bytecode cache (as installed) and without.
- ``mc``: the table below.

For each d: the pure soft-threshold net (threshold b, lambda = 1) on the sparse-coding model
with ``sigma = 0``, unit magnitudes, ``k = sqrt(d)`` expected active features (``p = k / d``,
at most 1/2) and a random-sign task ``w*`` in {-1, +1}^d; l2 radius eps. We time
``numerics.risk.robust_error(..., method="exact")`` and report its interval's half-width h.
A Monte Carlo estimate of a probability P needs about ``n = z^2 P (1 - P) / h^2`` samples for a
confidence half-width h at ``level`` (normal approximation to Clopper-Pearson; ``z = 2.58``
at 0.99); its time is ``n`` times the per-sample cost of ``robust_error(..., method="mc")``,
measured here on a few samples. The same is reported at a practical precision (1e-3).

``mc`` table: the dictionary defaults to the identity: the l2 robust error of the pure net does not depend
on it (``||M^T delta|| = ||delta||``) and a Haar-random 10,000 x 10,000 matrix costs minutes.

    python benchmarks/bench_exact.py                  # every section; mc table at d = 10, 100, 1000, 10000
    python benchmarks/bench_exact.py --quick          # mc table at d = 10, 100, 1000
    python benchmarks/bench_exact.py --only binomial cli
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


def plain_binomial_robust_error(d: int, p: float, b: float, eps: float) -> float:
    """The pure net's l2 robust error for uniform w*, sigma = 0, r = 1 in regime S3, as a plain sum.

    ``A ~ Binomial(d, p)`` active features, ``a | A ~ Binomial(A, 1/2)`` of them +1; the clean
    margin is ``(1 - b) c |2a - A|`` and S3 (``eps <= min(b, 1 - b)``) makes the drop
    ``eps c sqrt(A)`` (c = 1/sqrt(d)), so an error iff ``(1 - b) |2a - A| <= eps sqrt(A)`` (a tie
    ``2a = A`` included). ``P(A)`` by the recurrence from ``(1 - p)^d`` (a few ulp per step),
    ``P(a | A) = comb(A, a) / 2^A`` exactly. Independent of numerics (no scipy either).
    """
    assert 0 <= eps <= min(b, 1 - b), "the plain sum is the S3 regime only"
    pmf, total = math.exp(d * math.log1p(-p)), 0.0
    for A in range(d + 1):
        if A:
            pmf *= (d - A + 1) / A * p / (1 - p)
        if pmf < 1e-300 and A > d * p:
            break
        errors = sum(math.comb(A, a) for a in range(A + 1) if (1 - b) * abs(2 * a - A) <= eps * math.sqrt(A))
        total += pmf * errors / 2.0**A
    return total


def engine_vs_binomial(d: int, k: float, b: float, eps: float, repeats: int) -> list[dict]:
    import numpy as np

    from common import best_time
    from numerics import ModelConfig, SparseCodingModel, TwoLayerNet, pure_net
    from numerics.risk import robust_error

    model = SparseCodingModel(ModelConfig(d=d, p=k / d, sigma=0.0, dictionary="identity"))
    w = np.full(d, 1.0 / math.sqrt(d))
    M = model.M
    t = time.perf_counter()
    ref = plain_binomial_robust_error(d, k / d, b, eps)
    t_first_sum = time.perf_counter() - t
    sum_wall, sum_cpu = best_time(lambda: plain_binomial_robust_error(d, k / d, b, eps), repeats)
    rows = []
    nets = {"W = M^T view (O(1) recognition)": lambda: TwoLayerNet(W=M.T, a=w, b=np.full(d, b), family="pure"),
            "pure_net(M, ...) (as built today)": lambda: pure_net(M, w, b)}
    for name, build in nets.items():
        net = build()
        t = time.perf_counter()
        est = robust_error(net, model, w, eps, "l2", method="exact")
        t_first = time.perf_counter() - t
        wall, cpu = best_time(lambda: robust_error(net, model, w, eps, "l2", method="exact"), repeats)
        rows.append({"net": name, "d": d, "k": k, "b": b, "eps": eps, "exact": est.value, "binomial_sum": ref,
                     "abs_diff": abs(est.value - ref), "exact_width": est.upper - est.lower,
                     "exact_first_s": t_first, "exact_best_s": wall, "exact_best_cpu_s": cpu,
                     "sum_first_s": t_first_sum, "sum_best_s": sum_wall, "sum_best_cpu_s": sum_cpu,
                     "ratio_best_wall": wall / sum_wall, "ratio_best_cpu": cpu / sum_cpu})
        del net
    return rows


def s3_timing(repeats: int) -> dict:
    """tests/test_risk.py::test_pure_net_inside_s3_regime_matches_closed_form_at_d_4096, timed."""
    import numpy as np

    from numerics import ModelConfig, SparseCodingModel, linear_net, pure_net
    from numerics.risk import QUANTITIES, risk, robust_error

    d, b, eps = 4096, 0.4, 0.35
    mdl = SparseCodingModel(ModelConfig(d=d, p=8 / d, dictionary="identity"))
    w = np.ones(d)
    pure, lin = pure_net(mdl.M, w, b=b), linear_net(mdl.M, w)

    def run():
        for q in QUANTITIES:
            risk(q, pure, mdl, w, eps)
        robust_error(lin, mdl, w, 0.05)

    t = time.perf_counter()
    run()
    first = time.perf_counter() - t
    from common import best_time

    wall, cpu = best_time(run, repeats)
    return {"d": d, "b": b, "eps": eps, "first_s": first, "best_s": wall, "best_cpu_s": cpu}


def cli_timing(runs: int, bytecode: bool) -> dict:
    """``purecheck risk examples/pure.toml`` in fresh processes: wall (median, min) and CPU time.

    ``bytecode``: run with a bytecode cache (in a temporary ``PYTHONPYCACHEPREFIX``, after one
    warm-up run), as an installed package runs; without it (``PYTHONDONTWRITEBYTECODE=1``, as the
    development environment is set up) every project module is compiled on every start (~0.1 s).
    """
    import os
    import resource
    import statistics
    import subprocess
    import sys
    import tempfile

    from common import ROOT

    cmd = [sys.executable, "-m", "purecheck", "risk", str(ROOT / "examples" / "pure.toml")]
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as cache:
        if bytecode:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = cache
            subprocess.run(cmd, capture_output=True, cwd=ROOT, env=env)  # warm-up: writes the cache
        else:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        walls, cpus = [], []
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            res = subprocess.run(cmd, capture_output=True, cwd=ROOT, env=env)
            walls.append(time.perf_counter() - t)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            if res.returncode != 0:
                raise RuntimeError(f"purecheck risk failed: {res.stderr.decode()[-500:]}")
    return {"runs": runs, "bytecode_cache": bytecode, "wall_median_s": statistics.median(walls),
            "wall_min_s": min(walls), "cpu_median_s": statistics.median(cpus), "cpu_min_s": min(cpus),
            "load_average_1min": os.getloadavg()[0]}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="mc table at d = 10, 100, 1000")
    ap.add_argument("--only", nargs="+", choices=("binomial", "s3", "cli", "mc"),
                    default=["binomial", "s3", "cli", "mc"])
    ap.add_argument("--repeats", type=int, default=5, help="best-of repeats for the timed calls")
    ap.add_argument("--binomial-repeats", type=int, default=30, help="best-of repeats in the binomial section")
    ap.add_argument("--cli-runs", type=int, default=15)
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

    payload = {"benchmark": "exact", "machine": machine()}
    if "binomial" in args.only:
        brows = engine_vs_binomial(10_000, 3.0, 0.3, 0.25, args.binomial_repeats)
        print("\nexact engine vs a plain binomial sum: pure net, d = 10,000, k = 3, uniform w*, b = 0.3, l2 eps = 0.25")
        print(table(brows, [("net", "s"), ("exact", ".15f"), ("binomial_sum", ".15f"), ("abs_diff", ".1e"),
                            ("exact_first_s", ".4f"), ("exact_best_cpu_s", ".4f"), ("sum_best_cpu_s", ".4f"),
                            ("ratio_best_cpu", ".2f"), ("ratio_best_wall", ".2f")]))
        payload["engine_vs_binomial"] = brows
    if "s3" in args.only:
        s3 = s3_timing(args.repeats)
        print(f"\nfour pure-net risks + one linear robust error at d = 4096 (S3): first call {s3['first_s']:.3f} s, "
              f"best {s3['best_s']:.3f} s (cpu {s3['best_cpu_s']:.3f} s)")
        payload["s3_d4096"] = s3
    if "cli" in args.only:
        payload["cli_pure_toml"] = []
        for bytecode in (True, False):
            cli = cli_timing(args.cli_runs, bytecode)
            print(f"\npurecheck risk examples/pure.toml, {cli['runs']} fresh processes, "
                  f"{'with' if bytecode else 'without'} a bytecode cache: wall median {cli['wall_median_s']:.3f} s "
                  f"(min {cli['wall_min_s']:.3f} s), cpu median {cli['cpu_median_s']:.3f} s "
                  f"(min {cli['cpu_min_s']:.3f} s), load average {cli['load_average_1min']:.2f}")
            payload["cli_pure_toml"].append(cli)
    if "mc" not in args.only:
        path = write_json(f"exact_{'quick' if args.quick else 'full'}.json", payload)
        print(f"wrote {path}")
        return payload
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
    payload.update({"b": args.b, "eps": args.eps, "norm": "l2", "sigma": 0.0, "level": args.level,
                    "practical_half_width": args.practical, "dictionary": args.dictionary, "rows": rows})
    path = write_json(f"exact_{'quick' if args.quick else 'full'}.json", payload)
    print(f"wrote {path}")
    return payload


if __name__ == "__main__":
    main()
