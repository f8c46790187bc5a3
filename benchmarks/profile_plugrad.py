"""Profile plugrad on the benchmark workloads: where does the time go?

    python benchmarks/profile_plugrad.py W1 W4 W3               # cProfile, top by own time
    python benchmarks/profile_plugrad.py W1 --tool pyinstrument # call tree
    python benchmarks/profile_plugrad.py --phases               # forward vs backward split
    python benchmarks/profile_plugrad.py W3 --kernels           # each backend kernel, timed

`--phases` times, for W1, W3 and W4 on plugrad and torch: the forward pass
with graph recording, the backward pass alone, and the forward pass under
no_grad (the cost of the kernels plus Tensor wrapping, without recording).
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_workloads as bw  # noqa: E402


def _calls_for(key: str) -> int:
    return {"W1": 200, "W2": 300, "W3": 40, "W4": 10, "W5": 40}[key]


def profile_cprofile(key: str, calls: int, top: int) -> None:
    run = bw.build(key, "plugrad", bw.make_inputs(key))
    run()
    prof = cProfile.Profile()
    gc.collect()
    prof.enable()
    for _ in range(calls):
        run()
    prof.disable()
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out).strip_dirs().sort_stats(order)
        stats.print_stats(top)
        text = out.getvalue()
        print(f"==== {key}: plugrad, {calls} calls, sorted by {order} ====")
        print(text[text.find("ncalls") - 2:] if "ncalls" in text else text)


def profile_pyinstrument(key: str, calls: int) -> None:
    from pyinstrument import Profiler
    run = bw.build(key, "plugrad", bw.make_inputs(key))
    run()
    profiler = Profiler(interval=0.0002)
    profiler.start()
    for _ in range(calls):
        run()
    profiler.stop()
    print(f"==== {key}: plugrad, {calls} calls ====")
    print(profiler.output_text(unicode=True, color=False, show_all=False))


# -- forward / backward split ---------------------------------------------------------------------
def _forward(key: str, lib, inp):
    x = lib.tensor(inp["x"], requires_grad=True)
    if key == "W1":
        def fwd():
            y = x
            for _ in range(bw.W1_STEPS):
                y = (y * 1.0001 + 0.001).tanh()
            return y.sum()
    elif key == "W3":
        def fwd():
            return ((x * x + 1.0).log() * 0.5).exp().sum()
    elif key == "W4":
        def fwd():
            y = x
            for _ in range(bw.W4_STEPS):
                y = y * 1.0001
            return y.sum()
    else:
        raise ValueError(key)
    return x, fwd


def phases(keys, frameworks, reps: int) -> None:
    print("| workload | framework | forward (recording) ms | backward ms "
          "| forward under no_grad ms |")
    print("|---|---|---:|---:|---:|")
    for key in keys:
        inp = bw.make_inputs(key)
        for fw in frameworks:
            lib = bw.library(fw)
            x, fwd = _forward(key, lib, inp)
            f_t, b_t, n_t = [], [], []
            for _ in range(reps):
                gc.collect()
                time.sleep(bw.PAUSE_S / 5)
                x.grad = None
                t0 = time.perf_counter()
                loss = fwd()
                t1 = time.perf_counter()
                loss.backward()
                t2 = time.perf_counter()
                del loss
                with lib.no_grad():
                    t3 = time.perf_counter()
                    fwd()
                    t4 = time.perf_counter()
                f_t.append(t1 - t0)
                b_t.append(t2 - t1)
                n_t.append(t4 - t3)
            med = [statistics.median(v) * 1e3 for v in (f_t, b_t, n_t)]
            print(f"| {key} | {fw} | {med[0]:.2f} | {med[1]:.2f} | {med[2]:.2f} |")


# -- kernel trace ----------------------------------------------------------------------------------
def kernels(key: str, reps: int) -> None:
    """Every backend kernel one plugrad call makes, in order, with its median time."""
    import numpy as np
    from plugrad import backends
    from plugrad.backend import PRIMITIVES
    bk = backends.default()
    log: list = []
    originals = {}

    def describe(a):
        if isinstance(a, np.ndarray):
            tag = "x".join(map(str, a.shape)) or "0-d"
            if a.size > 1 and 0 in a.strides:
                tag += "(bcast)"
            return tag
        return repr(a) if isinstance(a, (int, float)) else type(a).__name__

    def wrap(name, fn):
        def traced(*args, **kwargs):
            t0 = time.perf_counter()
            out = fn(*args, **kwargs)
            t1 = time.perf_counter()
            # describe now: holding on to the arrays would change how memory is reused
            log.append((name, ", ".join(describe(a) for a in args[:3]), t1 - t0))
            return out
        return traced

    run = bw.build(key, "plugrad", bw.make_inputs(key))
    run()
    for name in PRIMITIVES:
        fn = getattr(bk, name, None)
        if callable(fn):
            originals[name] = fn
            setattr(bk, name, wrap(name, fn))
    try:
        calls = []
        for _ in range(reps):
            log.clear()
            t0 = time.perf_counter()
            run()
            total = time.perf_counter() - t0
            calls.append((list(log), total))
    finally:
        for name in originals:
            delattr(bk, name)          # back to the class attribute
    first = calls[0][0]

    print(f"==== {key}: backend kernels of one plugrad call (median of {reps}) ====")
    kernel_total = 0.0
    for i, (name, args, _) in enumerate(first):
        t = statistics.median(c[0][i][2] for c in calls if len(c[0]) == len(first))
        kernel_total += t
        print(f"{i:3d} {name:13s} {t * 1e3:8.3f} ms  {args}")
    total = statistics.median(c[1] for c in calls)
    print(f"kernels {kernel_total * 1e3:.3f} ms of {total * 1e3:.3f} ms per call "
          f"({len(first)} kernel calls; the rest is Python around them)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workloads", nargs="*", default=["W1", "W4", "W3"])
    parser.add_argument("--tool", choices=("cprofile", "pyinstrument"), default="cprofile")
    parser.add_argument("--calls", type=int, default=None, help="calls to profile")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--phases", action="store_true", help="forward/backward split instead")
    parser.add_argument("--kernels", action="store_true",
                        help="list the backend kernels one call makes, with their times")
    parser.add_argument("--reps", type=int, default=15)
    args = parser.parse_args(argv)
    keys = [k.upper() for k in args.workloads]
    if args.phases:
        fws = [f for f in ("plugrad", "torch") if f in bw.available_frameworks()]
        phases([k for k in keys if k in ("W1", "W3", "W4")], fws, args.reps)
        return 0
    if args.kernels:
        for key in keys:
            kernels(key, args.reps)
        return 0
    for key in keys:
        calls = args.calls or _calls_for(key)
        if args.tool == "cprofile":
            profile_cprofile(key, calls, args.top)
        else:
            profile_pyinstrument(key, calls)
    return 0


if __name__ == "__main__":
    sys.exit(main())
