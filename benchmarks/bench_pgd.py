"""PGD throughput: ours (closed-form gradient) vs torchattacks PGDL2 (autograd) vs the matmul bound.

One random soft-threshold two-layer net (d inputs, m nodes), n inputs, l2 PGD with one random
start and ``steps`` steps. The bound is what no PGD on this net can beat: per step the two
matmuls ``(n, d) x (d, m)`` (pre-activations) and ``(n, m) x (m, d)`` (gradient), timed in the
same run with the same dtype and threads, once on all n rows and once in the row chunks ours
uses (``numerics.attacks.pgd.chunk_rows``); the faster of the two is the bound (a chunked
matmul can beat the whole one, and a bound ours could beat would flatter it). torchattacks
gets the net behind a flatten and a shift into [0, 1] (its clamp to the image box then never
binds) and the logits ``(-f/2, f/2)``. The methods are timed in interleaved rounds (each
round times each once); the best round counts, and the rounds' own ratios are printed too.

    python benchmarks/bench_pgd.py            # d=1024, m=2048, n=4096, 20 steps
    python benchmarks/bench_pgd.py --quick    # d=128, m=256, n=512
"""
from __future__ import annotations

import argparse
import time

from common import interleaved_best, machine, pin_threads, table, write_json


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small size: d=128, m=256, n=512")
    ap.add_argument("--d", type=int)
    ap.add_argument("--m", type=int)
    ap.add_argument("--n", type=int)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--eps", type=float, default=0.1)
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5,
                    help="interleaved rounds, best counts (one run varies by up to 30 %% on a shared CPU)")
    ap.add_argument("--no-reference", action="store_true", help="skip torchattacks")
    args = ap.parse_args(argv)
    pin_threads(args.threads)

    import torch
    from torch import nn

    from numerics.attacks.pgd import chunk_rows, pgd_attack
    from numerics.torch_nets import TorchTwoLayer

    d = args.d or (128 if args.quick else 1024)
    m = args.m or (256 if args.quick else 2048)
    n = args.n or (512 if args.quick else 4096)
    repeats = args.repeats
    dtype = getattr(torch, args.dtype)
    steps, eps = args.steps, args.eps

    g = torch.Generator().manual_seed(0)
    W = torch.randn((m, d), generator=g, dtype=dtype) / d**0.5
    a = torch.randn((m,), generator=g, dtype=dtype) / m**0.5
    net = TorchTwoLayer(W, a, torch.full((m,), 0.05, dtype=dtype)).requires_grad_(False)
    x = (torch.rand((n, d), generator=g, dtype=dtype) - 0.5) * 0.5  # in [-0.25, 0.25]
    y = torch.where(torch.rand((n,), generator=g) < 0.5, -1.0, 1.0).to(dtype)

    # the bound: the two matmuls of a step, `steps` times, on all rows and in ours' row chunks
    Wt = W.T.contiguous()
    T = torch.empty((n, m), dtype=dtype)
    G = torch.empty((n, d), dtype=dtype)
    chunk = chunk_rows(max(d, m))

    def bound():
        for _ in range(steps):
            torch.matmul(x, Wt, out=T)
            torch.matmul(T, W, out=G)

    def bound_chunked():
        for i in range(0, n, chunk):
            xs, Ts, Gs = x[i:i + chunk], T[i:i + chunk], G[i:i + chunk]
            for _ in range(steps):
                torch.matmul(xs, Wt, out=Ts)
                torch.matmul(Ts, W, out=Gs)

    def ours():  # one random start and the Madry step, as torchattacks below
        pgd_attack(net, x, y, eps, "l2", steps=steps, restarts=1, step_size=2.5 * eps / steps, seed=1, zero_start=False)

    fns = {"matmul, all rows": bound, f"matmul, {chunk}-row chunks": bound_chunked, "ours (closed form)": ours}
    flops = 2 * 2.0 * n * d * m * steps
    pgd_attack(net, x[:8], y[:8], eps, "l2", steps=2)  # warm-up (allocator, kernels)

    if not args.no_reference:
        try:
            import torchattacks
        except ImportError:
            print("torchattacks not installed: pip install torchattacks==3.5.1 --no-deps (skipped)")
        else:
            shift = 0.5

            class ImageAdapter(nn.Module):
                def __init__(self, score):
                    super().__init__()
                    self.flatten, self.score = nn.Flatten(), score

                def forward(self, img):
                    f = self.score(self.flatten(img) - shift)
                    return torch.stack([-f / 2, f / 2], dim=1)

            atk = torchattacks.PGDL2(ImageAdapter(net), eps=eps, alpha=2.5 * eps / steps, steps=steps,
                                     random_start=True)
            img, lab = (x + shift).view(n, 1, 1, d), (y > 0).long()
            torch.manual_seed(1)
            fns["torchattacks PGDL2"] = lambda: atk(img, lab)

    times = interleaved_best(fns, repeats)
    # One more run of ours under torch.profiler: its CPU time over the time of its own matmul
    # kernels. Both come from the same run, so a shared machine's load drift cancels out (the
    # rounds above move by up to 30 %); the profiler's own cost counts against ours.
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]):  # the profiler's start-up (about a second) not counted
        pgd_attack(net, x[:8], y[:8], eps, "l2", steps=2)
    c0 = time.process_time()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        ours()
    profiled_cpu = time.process_time() - c0
    matmul_us = sum(e.self_cpu_time_total for e in prof.key_averages() if e.key in ("aten::mm", "aten::bmm"))
    own = {"cpu_s": profiled_cpu, "matmul_s": matmul_us / 1e6, "x_own_matmuls": profiled_cpu / (matmul_us / 1e6)}

    # CPU time is the work itself (the wall time on a shared machine includes waiting)
    key = "cpu" if args.threads == 1 else "wall"
    bounds = [times["matmul, all rows"], times[f"matmul, {chunk}-row chunks"]]
    bound_s = min(b[f"{key}_s"] for b in bounds)
    bound_wall = min(b["wall_s"] for b in bounds)
    bound_rounds = [min(a, b) for a, b in zip(*(b[f"{key}_rounds"] for b in bounds))]
    rows = []
    for name, t in times.items():
        ratios = sorted(a / b for a, b in zip(t[f"{key}_rounds"], bound_rounds))
        rows.append({"method": name, "wall_s": t["wall_s"], "cpu_s": t["cpu_s"],
                         "gflops": flops / t[f"{key}_s"] / 1e9, "samples_steps_per_s": n * steps / t[f"{key}_s"],
                         "x_bound": t[f"{key}_s"] / bound_s, "x_bound_wall": t["wall_s"] / bound_wall,
                         "x_bound_rounds_median": ratios[len(ratios) // 2], "rounds_s": t[f"{key}_rounds"]})
    print(f"PGD l2, d={d}, m={m}, n={n}, steps={steps}, {args.dtype}, threads={args.threads}, {repeats} interleaved"
          f" rounds (best round's {key} time; bound = the faster matmul row; x_bound = best / best bound, and the"
          f" median over rounds of the round's own ratio)")
    print(table(rows, [("method", "s"), ("wall_s", ".3f"), ("cpu_s", ".3f"), ("gflops", ".1f"),
                       ("samples_steps_per_s", ".3g"), ("x_bound", ".3f"), ("x_bound_rounds_median", ".3f"),
                       ("x_bound_wall", ".2f")]))
    print(f"ours, one profiled run: {own['cpu_s']:.3f} s CPU, {own['matmul_s']:.3f} s in its matmul kernels:"
          f" {own['x_own_matmuls']:.3f}x its own matmuls (the load-independent measure of the work around them)")
    # ours also evaluates the final iterate (its margin can be the best): steps + 1 forward matmuls
    # and steps gradient ones, of equal cost, against the bound's 2 steps; no elementwise work counted
    floor = (2 * steps + 1) / (2 * steps) if steps else float("inf")
    print(f"ours' matmul floor: {steps + 1} forward and {steps} gradient matmuls against the bound's {steps} + {steps}:"
          f" {floor:.3f}x the bound before any elementwise work")
    payload = {"benchmark": "pgd_throughput", "ours_profiled": own, "timing": f"{key}_s", "bound_s": bound_s, "chunk_rows": chunk,
               "ours_matmul_floor_x_bound": floor,
               "d": d, "m": m, "n": n, "steps": steps, "eps": eps,
               "dtype": args.dtype, "threads": args.threads, "repeats": repeats,
               "flops_per_run": flops, "rows": rows, "machine": machine()}
    path = write_json(f"pgd_d{d}_m{m}_n{n}_{args.dtype}.json", payload)
    print(f"wrote {path}")
    return payload


if __name__ == "__main__":
    main()
