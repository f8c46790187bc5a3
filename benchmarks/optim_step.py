"""Per-step cost of the optimizers against torch: `python benchmarks/optim_step.py [NAME...]`.

The model is 10 parameter tensors (five Linear(16, 16) layers: a weight and a
bias each); gradients are set once, so only `step()` is timed. Both libraries
run interleaved, float32, torch on one thread. Prints microseconds per step
and the plugrad/torch ratio.
"""
from __future__ import annotations

import sys
import timeit

import numpy as np

CASES = {
    "SGD": dict(lr=0.01, momentum=0.9),
    "Adam": dict(lr=1e-3),
    "AdamW": dict(lr=1e-3),
    "RMSprop": dict(lr=1e-3),
    "RMSprop-centered-momentum": dict(lr=1e-3, centered=True, momentum=0.9),
    "Adagrad": dict(lr=1e-2),
    "Adadelta": dict(),
    "Adamax": dict(),
    "NAdam": dict(),
    "RAdam": dict(),
}


def _setup(lib, name):
    rng = np.random.default_rng(0)
    params = []
    for _ in range(5):
        for shape in ((16, 16), (16,)):
            p = lib.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
            p.grad = lib.tensor(rng.standard_normal(shape).astype(np.float32))
            params.append(p)
    cls = getattr(lib.optim, name.split("-")[0])
    opt = cls(params, **CASES[name])
    opt.step()  # make the state
    return opt


def main(names) -> None:
    import plugrad as pg
    import torch
    torch.set_num_threads(1)
    print(f"{'optimizer':28} {'plugrad us':>11} {'torch us':>10} {'ratio':>7}")
    for name in names:
        ours, theirs = _setup(pg, name), _setup(torch, name)
        best = {"pg": [], "torch": []}
        for _ in range(7):  # interleaved rounds; the best of each
            best["pg"].append(min(timeit.repeat(ours.step, number=200, repeat=3)) / 200)
            best["torch"].append(min(timeit.repeat(theirs.step, number=200, repeat=3)) / 200)
        a, b = min(best["pg"]) * 1e6, min(best["torch"]) * 1e6
        print(f"{name:28} {a:11.1f} {b:10.1f} {a / b:7.2f}")


if __name__ == "__main__":
    main(sys.argv[1:] or list(CASES))
