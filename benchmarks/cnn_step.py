"""One SGD step of a small CNN on MNIST-sized batches, plugrad next to torch.

The model is Conv2d(1, 8, 3, padding=1)-ReLU-MaxPool2d(2)-Conv2d(8, 16, 3)-ReLU-
AdaptiveAvgPool2d(1)-Flatten-Linear(16, 10), batch (64, 1, 28, 28) in float32;
plugrad starts from torch's weights. Each timed call is forward, cross-entropy, backward
and an SGD step. Both run on one thread (NumPy's BLAS through threadpoolctl where it is
installed, else OPENBLAS_NUM_THREADS set before NumPy loads; torch.set_num_threads(1)).

    python benchmarks/cnn_step.py [--batch 64] [--repeat 30] [--profile]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402 - after the thread settings
import plugrad as pg  # noqa: E402


def build(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(16, 10))


def stepper(lib, model, x, y):
    opt = lib.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = lib.nn.functional.cross_entropy

    def step():
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    return step


def timed(steps: list, repeat: int) -> list:
    """(median, best) seconds per step of each stepper, run in turn (so load hits all alike)."""
    for step in steps:
        for _ in range(3):
            step()
    times = [[] for _ in steps]
    for _ in range(repeat):
        for step, ts in zip(steps, times):
            t0 = time.perf_counter()
            step()
            ts.append(time.perf_counter() - t0)
    return [(statistics.median(ts), min(ts)) for ts in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--profile", action="store_true", help="cProfile plugrad's steps")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.batch, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, args.batch)
    ours = build(pg)
    step_pg = stepper(pg, ours, pg.tensor(x), pg.tensor(y))
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(1)
        ref = build(torch)
        ours.load_state_dict({k: pg.tensor(v.detach().numpy())
                              for k, v in ref.state_dict().items()})
        step_t = stepper(torch, ref, torch.tensor(x), torch.tensor(y))
        losses = [(step_t().item(), step_pg().item()) for _ in range(3)]
        print("first losses (torch, plugrad):", ", ".join(f"({a:.6f}, {b:.6f})"
                                                          for a, b in losses))
    if args.profile:
        import cProfile
        import pstats
        cProfile.runctx("for _ in range(20): step()", {}, {"step": step_pg}, "cnn_step.prof")
        pstats.Stats("cnn_step.prof").sort_stats("tottime").print_stats(15)
        return
    if torch is None:
        (med, best), = timed([step_pg], args.repeat)
        print(f"batch {args.batch}: plugrad {med * 1e3:.2f} ms/step (best {best * 1e3:.2f})")
        return
    (med, best), (med_t, best_t) = timed([step_pg, step_t], args.repeat)
    print(f"batch {args.batch}: plugrad {med * 1e3:.2f} ms/step (best {best * 1e3:.2f}), torch "
          f"{med_t * 1e3:.2f} (best {best_t * 1e3:.2f}); plugrad/torch median "
          f"{med / med_t:.2f}, best {best / best_t:.2f}")


if __name__ == "__main__":
    main()
