"""Batched training: 16 runs trained one after another vs as one batch (numerics.training.train_batch).

Adversarial training of two-layer soft-threshold nets on the sparse-coding model (P3's
protocol: k = 3 active features on average, sigma = 0.1, random dictionary, uniform w*, Adam,
batch 128, l2 PGD with 5 steps and one random start at eps = 0.4), 16 seeds, at d = 32,
m = 64 and at d = 256, m = 512. "sequential" calls ``train`` once per seed; "batched" calls
``train_batch`` with the 16 seeds (one tensor program along a run axis). The script also
checks that every batched run is bit for bit its sequential twin.

"draws" times the 16 runs' random draws alone: their online batches and PGD starts, the same
library calls the training loop makes (each run from its own generators, whether run alone or
in a batch, so both paths make exactly these draws). Batching cannot share them; the row's
``speedup_rest`` is the speed-up of what is left, ``(sequential - draws) / (batched - draws)``.

    python benchmarks/bench_training.py            # 200 steps per run
    python benchmarks/bench_training.py --quick    # 20 steps per run
"""
from __future__ import annotations

import argparse

from common import interleaved_best, machine, paired_ratios, pin_threads, table, write_json

SIZES = ((32, 64), (256, 512))


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20 training steps per run instead of 200")
    ap.add_argument("--steps", type=int, help="training steps per run (overrides --quick)")
    ap.add_argument("--runs", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int,
                    help="rounds, each timing sequential, batched, then the draws alone (the best counts); "
                         "default 3, 1 with --quick")
    args = ap.parse_args(argv)
    pin_threads(args.threads)

    import numpy as np
    import torch

    from numerics import ModelConfig, SparseCodingModel
    from numerics.attacks.pgd import _generators, _random_starts
    from numerics.training import TrainConfig, derive_seeds, supervised_batches, train, train_batch

    steps = args.steps or (20 if args.quick else 200)
    repeats = args.repeats or (1 if args.quick else 3)
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

        derived = [derive_seeds(s) for s in seeds]

        def draws():
            # the loop's draws without its arithmetic: a batch per step, then that step's PGD starts
            # (one fresh generator per run and step: training.MarginObjective._attacked's seeds)
            batches = supervised_batches(model, w, cfg, None, derived)
            for step in range(steps):
                x, _ = batches.next(step)
                gens = _generators([s["attack"] + step for s in derived], len(seeds), x.device)
                _random_starts(x, cfg.eps, cfg.norm, gens, 0, cfg.pgd_restarts, False)

        times = interleaved_best({"seq": sequential, "bat": batched, "draws": draws}, repeats)
        same = all(all(torch.equal(v, b.net.state_dict()[k]) for k, v in a.net.state_dict().items())
                   for a, b in zip(out["seq"], out["bat"]))
        key = "cpu" if args.threads == 1 else "wall"
        seq, bat, drw = times["seq"], times["bat"], times["draws"]
        paired = sorted(paired_ratios(seq, bat, key))
        rows.append({"d": d, "m": m, "runs": len(seeds), "steps": steps, "sequential_s": seq[f"{key}_s"],
                     "batched_s": bat[f"{key}_s"], "speedup": seq[f"{key}_s"] / bat[f"{key}_s"],
                     "draws_s": drw[f"{key}_s"], "draws_share": drw[f"{key}_s"] / bat[f"{key}_s"],
                     "speedup_rest": (seq[f"{key}_s"] - drw[f"{key}_s"]) / (bat[f"{key}_s"] - drw[f"{key}_s"]),
                     "draws_rounds": drw[f"{key}_rounds"],
                     "paired_min": paired[0], "paired_median": paired[len(paired) // 2], "paired": paired,
                     "sequential_wall_s": seq["wall_s"], "batched_wall_s": bat["wall_s"],
                     "sequential_rounds": seq[f"{key}_rounds"], "batched_rounds": bat[f"{key}_rounds"],
                     "bit_identical": same})
    timing = "cpu_s" if args.threads == 1 else "wall_s"
    print(f"adversarial training, {len(seeds)} runs, batch 128, 5 PGD steps, {steps} steps, threads={args.threads},"
          f" {repeats} interleaved rounds (times are the best round's {timing}; speedup = best / best, and the"
          f" smallest and median of the rounds' own ratios)")
    print(table(rows, [("d", "d"), ("m", "d"), ("runs", "d"), ("steps", "d"), ("sequential_s", ".2f"),
                       ("batched_s", ".2f"), ("speedup", ".2f"), ("paired_min", ".2f"), ("paired_median", ".2f"),
                       ("draws_s", ".2f"), ("draws_share", ".2f"), ("speedup_rest", ".2f"), ("bit_identical", "")]))
    payload = {"benchmark": "batched_training", "timing": timing, "threads": args.threads, "repeats": repeats,
               "rows": rows, "machine": machine()}
    path = write_json(f"training_{'quick' if args.quick and not args.steps else f'steps{steps}'}.json", payload)
    print(f"wrote {path}")
    if not all(r["bit_identical"] for r in rows):
        raise SystemExit("a batched run differs from its sequential twin")
    return payload


if __name__ == "__main__":
    main()
