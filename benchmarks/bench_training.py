"""Batched training: 16 runs trained one after another vs as one batch (numerics.training.train_batch).

Adversarial training of two-layer soft-threshold nets on the sparse-coding model (P3's
protocol: k = 3 active features on average, sigma = 0.1, random dictionary, uniform w*, Adam,
batch 128, l2 PGD with 5 steps and one random start at eps = 0.4), 16 seeds, at d = 32,
m = 64 and at d = 256, m = 512. "sequential" calls ``train`` once per seed; "batched" calls
``train_batch`` with the 16 seeds (one tensor program along a run axis). The script also
checks that every batched run is bit for bit its sequential twin.

    python benchmarks/bench_training.py            # 200 steps per run
    python benchmarks/bench_training.py --quick    # 20 steps per run
"""
from __future__ import annotations

import argparse

from common import best_time, machine, pin_threads, table, write_json

SIZES = ((32, 64), (256, 512))


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20 training steps per run instead of 200")
    ap.add_argument("--steps", type=int, help="training steps per run (overrides --quick)")
    ap.add_argument("--runs", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=1, help="best of this many timings")
    args = ap.parse_args(argv)
    pin_threads(args.threads)

    import numpy as np
    import torch

    from numerics import ModelConfig, SparseCodingModel
    from numerics.training import TrainConfig, train, train_batch

    steps = args.steps or (20 if args.quick else 200)
    seeds = list(range(args.runs))
    rows = []
    for d, m in SIZES:
        model = SparseCodingModel(ModelConfig(d=d, p=3 / d, sigma=0.1, dictionary="random", dictionary_seed=0))
        w = np.ones(d) / np.sqrt(d)
        cfg = TrainConfig(steps=steps, batch=128, width=m, lr=0.01, eps=0.4, norm="l2", pgd_steps=5, pgd_restarts=1,
                          log_every=steps, progress=False)
        train_batch(model, w, cfg.replace(steps=2), seeds=seeds[:2])  # warm-up (allocator, kernels)
        out = {}

        def sequential():
            out["seq"] = [train(model, w, None, cfg.replace(seed=s)) for s in seeds]

        def batched():
            out["bat"] = train_batch(model, w, cfg, seeds=seeds)

        wall_s, cpu_s = best_time(sequential, args.repeats)
        wall_b, cpu_b = best_time(batched, args.repeats)
        same = all(all(torch.equal(v, b.net.state_dict()[k]) for k, v in a.net.state_dict().items())
                   for a, b in zip(out["seq"], out["bat"]))
        key = (cpu_s, cpu_b) if args.threads == 1 else (wall_s, wall_b)
        rows.append({"d": d, "m": m, "runs": len(seeds), "steps": steps, "sequential_s": key[0], "batched_s": key[1],
                     "speedup": key[0] / key[1], "sequential_wall_s": wall_s, "batched_wall_s": wall_b,
                     "bit_identical": same})
    timing = "cpu_s" if args.threads == 1 else "wall_s"
    print(f"adversarial training, {len(seeds)} runs, batch 128, 5 PGD steps, {steps} steps, threads={args.threads}"
          f" (times are {timing})")
    print(table(rows, [("d", "d"), ("m", "d"), ("runs", "d"), ("steps", "d"), ("sequential_s", ".2f"),
                       ("batched_s", ".2f"), ("speedup", ".2f"), ("bit_identical", "")]))
    payload = {"benchmark": "batched_training", "timing": timing, "threads": args.threads, "repeats": args.repeats,
               "rows": rows, "machine": machine()}
    path = write_json(f"training_{'quick' if args.quick and not args.steps else f'steps{steps}'}.json", payload)
    print(f"wrote {path}")
    if not all(r["bit_identical"] for r in rows):
        raise SystemExit("a batched run differs from its sequential twin")
    return payload


if __name__ == "__main__":
    main()
