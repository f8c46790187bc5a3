"""Per-op speed against torch in one interleaved run: forward and backward of each op case.

    python benchmarks/op_compare.py [--size 4] [--rounds 7] [-k NAME,NAME]

The cases are bench_ops.OP_CASES (every declared op torch has), on float32 inputs of
size x size (default 4x4: what a tiny op costs beyond its kernel; a case may shape its
inputs from that size, e.g. 1 x 2 x size x size for conv2d). Cases without a derivative
are timed forward only; a case that fails its check is left out and named on stderr. Each round
times every case on plugrad and on torch, alternating which goes first; a
sample is the best of a few hundred calls. The table gives medians over rounds
in microseconds and the ratio plugrad / torch (below 1: plugrad is faster).
Gradients are checked against torch's first (bench_ops.check_op).
"""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_ops as bo  # noqa: E402
import bench_workloads as bw  # noqa: E402


def _best_of(fn, calls: int) -> float:
    best = float("inf")
    for _ in range(calls):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def _backward_time(setup, backward, calls: int) -> float:
    best = float("inf")
    for _ in range(calls):
        setup()
        t = time.perf_counter()
        backward()
        best = min(best, time.perf_counter() - t)
    return best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=4, help="inputs are size x size (default 4)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=200, help="calls per sample (best of)")
    parser.add_argument("-k", default="", help="comma-separated case names (default: all)")
    args = parser.parse_args(argv)
    if bw.load_torch() is None:
        parser.error("torch is not importable here")
    bo.N = args.size
    wanted = {k.strip() for k in args.k.split(",") if k.strip()}
    cases = [c for c in bo.OP_CASES if not wanted or c.name in wanted]
    runners = {}
    failed = []
    for case in cases:
        try:
            for fw in ("plugrad", "torch"):
                forward, setup, backward = bo.op_runners(case, fw)
                setup()
                bo.check_op(case, fw, backward())
                runners[case.name, fw] = (forward, setup, backward)
        except Exception as err:  # noqa: BLE001 - reported, and the case left out
            failed.append(f"{case.name}: {type(err).__name__}: {str(err)[:300]}")
    for line in failed:
        print("left out:", line, file=sys.stderr)
    cases = [c for c in cases if (c.name, "torch") in runners]
    times = {key: ([], []) for key in runners}
    for r in range(args.rounds):
        for case in cases:
            order = ("plugrad", "torch") if r % 2 == 0 else ("torch", "plugrad")
            for fw in order:
                forward, setup, backward = runners[case.name, fw]
                gc.collect()
                times[case.name, fw][0].append(_best_of(forward, args.calls))
                if case.grad:
                    times[case.name, fw][1].append(_backward_time(setup, backward, args.calls))
    print(f"| op ({args.size}x{args.size} float32) | plugrad fwd us | torch fwd us | ratio "
          f"| plugrad bwd us | torch bwd us | ratio |")
    print("|---|---|---|---|---|---|---|")
    for case in cases:
        p_f, p_b = (statistics.median(x) * 1e6 if x else 0.0
                    for x in times[case.name, "plugrad"])
        t_f, t_b = (statistics.median(x) * 1e6 if x else 0.0 for x in times[case.name, "torch"])
        bwd = (f"{p_b:.1f} | {t_b:.1f} | {p_b / t_b:.2f}" if case.grad else "- | - | -")
        print(f"| {case.name} | {p_f:.1f} | {t_f:.1f} | {p_f / t_f:.2f} | {bwd} |", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
