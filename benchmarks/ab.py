"""Before/after: two plugrad source trees timed in one interleaved run.

    python benchmarks/ab.py BEFORE_TREE AFTER_TREE [--passes 8] [--workloads W1,W2,W4,demo]

A change to the core states its speed as this script's table: each tree is a
checkout of plugrad (`git worktree add ../before main` makes one). Passes
alternate between the trees (before, after, after, before, ...), each pass a
fresh interpreter that imports the plugrad of its tree and times every
workload against the hand-written NumPy floor in the same process. The figure
per workload is the median over passes of plugrad's time divided by the
floor's, so a slow stretch of a noisy machine hits both sides of a ratio
alike; the last column is after / before (1.00: no change).

The workloads are those of bench_workloads.py (W1 tiny ops, W2 MLP step, W4
deep chain, ...) and `demo`, the training step of `plugrad demo`
(test_nn_speed.py).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def shim(tree: str, into: str) -> str:
    """A folder whose `plugrad` package is `tree`'s (core/ with backends/ and conformance/)."""
    pkg = os.path.join(into, "plugrad")
    os.makedirs(pkg)
    core = os.path.join(tree, "core")
    for name in os.listdir(core):
        os.symlink(os.path.join(core, name), os.path.join(pkg, name))
    for sub in ("backends", "conformance"):
        os.symlink(os.path.join(tree, sub), os.path.join(pkg, sub))
    return into


# runs in the child: time each workload on plugrad and on the floor, print ratios as JSON
CHILD = r"""
import gc, json, statistics, sys, time
sys.path.insert(0, BENCH)
import numpy as np
import plugrad
assert plugrad.__file__.startswith(ROOT), plugrad.__file__
import bench_workloads as bw
from threadpoolctl import threadpool_limits
_limits = threadpool_limits(limits=1, user_api="blas")

def sample(run, seconds=0.03):
    run(); inner = 1
    while True:
        t = time.perf_counter()
        for _ in range(inner):
            run()
        dt = time.perf_counter() - t
        if dt > seconds or inner >= 400:
            return dt / inner
        inner *= 2

def builders(key):
    if key == "demo":
        import test_nn_speed as nn_speed
        inp = nn_speed.make_inputs()
        return nn_speed.build("numpy", inp), nn_speed.build("plugrad", inp)
    inp = bw.make_inputs(key)
    return bw.build(key, "numpy", inp), bw.build(key, "plugrad", inp)

out = {}
for key in KEYS:
    floor, ours = builders(key)
    ratios = []
    for _ in range(REPEATS):
        gc.collect(); time.sleep(0.05)
        f = sample(floor)
        gc.collect(); time.sleep(0.05)
        p = sample(ours)
        ratios.append(p / f)
    out[key] = statistics.median(ratios)
print("RESULT", json.dumps(out))
"""


def run_pass(path: str, keys: list, repeats: int, cpu: int | None = None) -> dict:
    code = (f"BENCH={HERE!r}; ROOT={path!r}; KEYS={keys!r}; REPEATS={repeats}\n"
            + CHILD)
    # one hash seed for every pass: dict and set layouts then differ between the trees only
    env = dict(os.environ, PYTHONPATH=path + os.pathsep + HERE, PYTHONHASHSEED="0")
    pin = ["taskset", "-c", str(cpu)] if cpu is not None and shutil.which("taskset") else []
    proc = subprocess.run(pin + [sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, cwd=HERE)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"pass in {path} failed:\n{proc.stderr[-3000:]}")


def _iqr(xs: list) -> float:
    """The interquartile range: how far apart the passes of one tree landed."""
    if len(xs) < 4:
        return float("nan")
    q = statistics.quantiles(xs, n=4)
    return q[2] - q[0]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--passes", type=int, default=8, help="passes per tree (default 8)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="floor/plugrad sample pairs per workload in a pass (default 5)")
    parser.add_argument("--workloads", default="W1,W2,W4,demo")
    parser.add_argument("--cpu", type=int, default=None,
                        help="pin every pass to this CPU (taskset): steadier on a shared machine")
    args = parser.parse_args(argv)
    keys = [k.strip() for k in args.workloads.split(",") if k.strip()]
    keys = [k if k == "demo" else k.upper() for k in keys]
    results = {"before": [], "after": []}
    with tempfile.TemporaryDirectory() as tmp:
        paths = {side: shim(os.path.abspath(tree), os.path.join(tmp, side))
                 for side, tree in (("before", args.before), ("after", args.after))}
        for i in range(args.passes):
            order = ("before", "after") if i % 2 == 0 else ("after", "before")
            for side in order:
                results[side].append(run_pass(paths[side], keys, args.repeats, args.cpu))
            print(f"  pass {i + 1}/{args.passes} done", file=sys.stderr)
    print("| workload | before (x floor) | after (x floor) | after / before | spread of passes |")
    print("|---|---|---|---|---|")
    for key in keys:
        before = [r[key] for r in results["before"]]
        after = [r[key] for r in results["after"]]
        b, a = statistics.median(before), statistics.median(after)
        spread = max(_iqr(before) / b, _iqr(after) / a)
        print(f"| {key} | {b:.3f} | {a:.3f} | {a / b:.3f} | {spread:.1%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
