"""Complete verification of trained two-layer nets: speed, decided fraction, and what it adds to PGD.

For each net, on the same fresh inputs (ties ``y = 0`` left out: they are errors whatever the net
does), one run of:

- **PGD**: the suite's default attack (``numerics.attacks.pgd.PGD_DEFAULTS``): errors found;
- **certificate**: the interval / Lipschitz bound of ``numerics.attacks.certified`` (bound only):
  samples it proves robust;
- **verify**: ``numerics.verification.verify`` at its default budget: robust / attackable /
  unknown, the errors PGD missed (``pgd_missed``: found by verification's extra restarts or its
  branch-and-bound witnesses), per-sample time (median and 95th percentile of the time attributed
  to each sample) and total CPU time.

The robust-error intervals are printed side by side: the old one (PGD's lower Clopper-Pearson
limit to the certificate's upper one, each at 0.99) and the verified one (certain errors to
certain-or-unknown errors), with ties counted as errors in both.

Nets: P3's adversarially trained (l2, eps = 0.4) and clean-trained nets (d = 32, k = 3, m = 64, the
default ``Training`` of theorems/trained_nets.py, 1000 steps, seeds 0 and 1; the clean ones end with
threshold 0, i.e. linear), evaluated at eps = 0.4 on 500 fresh inputs (seed 20000 + run seed);
and a P4/P5-like d = 16 net (m = 32, adversarially trained at eps = 0.35 with the same recipe)
at eps = 0.35.

    python benchmarks/bench_verification.py            # all nets, 500 inputs each
    python benchmarks/bench_verification.py --quick    # seed 0 only, 200 inputs
"""
from __future__ import annotations

import argparse
import time

from common import machine, pin_threads, table, write_json


def _intervals(k_lo: int, k_hi: int, n: int) -> tuple[float, float]:
    from numerics.estimates import clopper_pearson

    return clopper_pearson(k_lo, n, 0.99)[0], clopper_pearson(k_hi, n, 0.99)[1]


def evaluate(name: str, net, model, w, eps: float, samples: int, seed: int) -> dict:
    import numpy as np

    from numerics.attacks.certified import certified_min_margin
    from numerics.attacks.pgd import pgd_min_margin
    from numerics.sparse_coding import TIE_RTOL, tie_sign
    from numerics.verification import verify
    from numerics.verification.problem import tie_scale

    smp = model.sample(samples, np.random.default_rng(seed))
    y = tie_sign(smp.z @ w, np.abs(smp.z) @ np.abs(w))
    ties = int((y == 0).sum())
    x, y = smp.x[y != 0], y[y != 0]
    n = len(y)
    thr = TIE_RTOL * tie_scale(net, x, eps, "l2")
    c0 = time.process_time()
    pgd = pgd_min_margin(net, x, y, eps, "l2", seed=seed)
    c_pgd = time.process_time() - c0
    c0 = time.process_time()
    cert = certified_min_margin(net, x, y, eps, "l2")
    c_cert = time.process_time() - c0
    c0, w0 = time.process_time(), time.perf_counter()
    res = verify(net, x, y, eps, "l2", threshold=thr, seed=seed)
    c_ver, w_ver = time.process_time() - c0, time.perf_counter() - w0
    counts = res.counts()
    pgd_err, cert_rob = int((pgd <= thr).sum()), int((cert > thr).sum())
    old = _intervals(pgd_err + ties, samples - cert_rob, samples)
    new = _intervals(counts["attackable"] + ties, counts["attackable"] + counts["unknown"] + ties, samples)
    return {
        "net": name, "eps": eps, "samples": samples, "ties": ties, "n": n,
        "pgd_errors": pgd_err, "cert_robust": cert_rob, **counts,
        "decided": float(res.decided.mean()), "decided_with_ties": (samples - counts["unknown"]) / samples,
        "ms_median": 1e3 * float(np.median(res.seconds)), "ms_p95": 1e3 * float(np.percentile(res.seconds, 95)),
        "ms_max": 1e3 * float(res.seconds.max()),
        "cpu_s_verify": c_ver, "wall_s_verify": w_ver, "cpu_ms_pgd": 1e3 * c_pgd / n, "cpu_ms_cert": 1e3 * c_cert / n,
        "branches_max": int(res.branches.max()), "branches_p99": float(np.percentile(res.branches, 99)),
        "old_interval": old, "verified_interval": new,
        "verified_inside_old": bool(old[0] <= new[0] + 1e-12 and new[1] <= old[1] + 1e-12),
    }


def p3_nets(seeds):
    from theorems import trained_nets as tn

    data = tn.DataModel(d=32, k=3)  # P3's model: p = 3/32, sigma = 0.1, random dictionary (seed 0), uniform w*
    model, w = data.model(), data.wstar()
    runs = tn.trained(data, [(tn.Training(eps=e), s) for s in seeds for e in (0.4, 0.0)])
    for run in runs:
        name = f"P3 {'AT' if run.training.eps else 'clean'} seed {run.seed}"
        yield name, run.net, model, w, 0.4, 20_000 + run.seed


def d16_net():
    import numpy as np

    from numerics import ModelConfig, SparseCodingModel
    from numerics.training import TrainConfig, train

    model = SparseCodingModel(ModelConfig(d=16, p=3 / 16, sigma=0.1, dictionary="random", dictionary_seed=1))
    w = np.ones(16) / 4.0
    cfg = TrainConfig(steps=1000, batch=128, lr=0.01, optimiser="adam", eps=0.35, norm="l2", pgd_steps=5,
                      pgd_restarts=1, threshold="shared", b_init=0.0, width=32, init_scale=0.01, seed=0,
                      progress=False)
    net = train(model, w, None, cfg).net.to_net()
    return "d16 AT (m=32)", net, model, w, 0.35, 30_000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="seed 0 only, 200 inputs")
    ap.add_argument("--samples", type=int, default=None)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    pin_threads(args.threads)
    samples = args.samples or (200 if args.quick else 500)
    nets = list(p3_nets((0,) if args.quick else (0, 1)))
    nets.append(d16_net())
    rows = []
    for name, net, model, w, eps, seed in nets:
        row = evaluate(name, net, model, w, eps, samples, seed)
        rows.append(row)
        print(f"{name}: {row['robust']} robust, {row['attackable']} attackable, {row['unknown']} unknown "
              f"({row['pgd_missed']} missed by PGD); median {row['ms_median']:.1f} ms, p95 {row['ms_p95']:.1f} ms",
              flush=True)
    for r in rows:
        r["old"] = f"[{r['old_interval'][0]:.3f}, {r['old_interval'][1]:.3f}]"
        r["verified"] = f"[{r['verified_interval'][0]:.3f}, {r['verified_interval'][1]:.3f}]"
    print(table(rows, [("net", "s"), ("n", "d"), ("pgd_errors", "d"), ("cert_robust", "d"), ("robust", "d"),
                       ("attackable", "d"), ("unknown", "d"), ("pgd_missed", "d"), ("decided", ".3f"),
                       ("ms_median", ".1f"), ("ms_p95", ".1f"), ("ms_max", ".0f"), ("cpu_s_verify", ".1f"),
                       ("cpu_ms_pgd", ".2f"), ("cpu_ms_cert", ".3f"), ("old", "s"), ("verified", "s")]))
    path = write_json(f"verification_{'quick' if args.quick else 'full'}.json",
                      {"machine": machine(), "samples": samples, "rows": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
