"""Compare plugrad with the hand-written NumPy floor and PyTorch, in one process.

    python benchmarks/compare.py [--rounds N] [--workloads W1,W4] [--frameworks numpy,plugrad]

Every workload (see bench_workloads.py) is checked for correct gradients, then
timed in rounds: each round times every framework once per workload, in an
order that rotates from round to round, with a pause before each framework so
the worker threads of the previous one (OpenBLAS, OpenMP) have stopped
spinning. A sample repeats the call enough times to last ~25 ms. Reported
times are medians over rounds; ratios are medians of the per-round ratios, so
a slow stretch of a noisy machine hits both sides of a ratio alike.

It also times `import plugrad` and the first use of each ready backend
against `import numpy` and `import torch`, each in a fresh subprocess (median
of several), and measures W3's peak memory (tracemalloc) against the floor's.
The default run takes about two minutes on a 2-core machine; the output is
Markdown, ready for benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_workloads as bw  # noqa: E402

SAMPLE_S = 0.025      # a sample repeats the call until it lasts about this long
MAX_INNER = 200

import bench_ops  # noqa: E402

# statement -> (setup, timed statement), each in a fresh interpreter; see bench_ops
IMPORTS = bench_ops.import_cases()


def _time_calls(run, inner: int) -> float:
    start = time.perf_counter()
    for _ in range(inner):
        run()
    return (time.perf_counter() - start) / inner


def _minor_faults() -> int:
    """Page faults so far: fresh memory from the OS costs microseconds per 4 KiB page."""
    try:
        import resource
    except ImportError:  # not on POSIX
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _median_ratio(a: list, b: list) -> float:
    return statistics.median(x / y for x, y in zip(a, b))


def _iqr_pct(xs: list) -> float:
    if len(xs) < 4:
        return float("nan")
    q = statistics.quantiles(xs, n=4)
    return (q[2] - q[0]) / statistics.median(xs) * 100


def prepare(keys, frameworks, pause):
    """Check every (workload, framework) and pick its inner repeat count."""
    runs, inner = {}, {}
    for key in keys:
        inputs = bw.make_inputs(key)
        bw.check_floor(key, inputs)
        expected = bw.floor_gradients(key, inputs)
        for fw in frameworks:
            run = bw.build(key, fw, inputs)
            bw.check_against_floor(key, fw, run(), expected)
            gc.collect()
            time.sleep(pause)
            run()                                   # warm
            once = min(_time_calls(run, 1) for _ in range(5))
            runs[key, fw] = (run, expected)
            inner[key, fw] = max(1, min(MAX_INNER, math.ceil(SAMPLE_S / max(once, 1e-9))))
        print(f"  {key}: gradients agree with the NumPy floor for {', '.join(frameworks)}",
              file=sys.stderr)
    return runs, inner


def measure(keys, frameworks, runs, inner, rounds, pause):
    samples = {k: [] for k in runs}
    faults = {k: [] for k in runs}
    for r in range(rounds):
        for key in keys:
            order = frameworks[r % len(frameworks):] + frameworks[:r % len(frameworks)]
            for fw in order:
                run, _ = runs[key, fw]
                gc.collect()
                time.sleep(pause)
                before = _minor_faults()
                samples[key, fw].append(_time_calls(run, inner[key, fw]))
                faults[key, fw].append((_minor_faults() - before) / inner[key, fw])
        print(f"  round {r + 1}/{rounds} done", file=sys.stderr)
    for (key, fw), (run, expected) in runs.items():   # still right after all that timing
        bw.check_against_floor(key, fw, run(), expected)
    return samples, faults


def import_times(runs: int, with_torch: bool) -> dict:
    """Median seconds of each import statement, each run in a fresh interpreter."""
    stmts = {k: v for k, v in IMPORTS.items() if with_torch or "torch" not in k}
    out = {k: [] for k in stmts}
    for i in range(runs + 1):                      # the first run only warms the caches
        for name, (setup, stmt) in stmts.items():
            code = bench_ops.IMPORT_CHILD.format(setup=setup, stmt=stmt)
            res = subprocess.run([sys.executable, "-c", code],
                                 capture_output=True, text=True, check=True)
            if i:
                out[name].append(float(res.stdout.strip().splitlines()[-1]))
    return {k: statistics.median(v) for k, v in out.items()}


def peak_memory(keys, frameworks) -> dict:
    """W3's peak bytes of one call (tracemalloc) for the frameworks it can see."""
    if "W3" not in keys:
        return {}
    inputs = bw.make_inputs("W3")
    return {fw: bw.peak_bytes(bw.build("W3", fw, inputs)) for fw in frameworks
            if bw.traces_memory(fw)}


def _git_state() -> str:
    """The commit measured, and whether core/ or backends/ had uncommitted changes."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "core", "backends"],
                               cwd=root, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return f"commit {head}" + (" + uncommitted changes in core/backends" if dirty else "")


def _fmt_ms(s: float) -> str:
    ms = s * 1e3
    return f"{ms:.3f}" if ms < 1 else (f"{ms:.2f}" if ms < 100 else f"{ms:.1f}")


def report(keys, frameworks, samples, faults, inner, imports, elapsed, args) -> str:
    has = set(frameworks)
    med = {k: statistics.median(v) for k, v in samples.items()}
    lines = []
    torch = bw.load_torch() if "torch" in has else None
    import numpy
    lines.append(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs; Python "
                 f"{platform.python_version()}, NumPy {numpy.__version__} "
                 f"(BLAS threads {bw.numpy_blas_threads()})"
                 + (f", torch {torch.__version__} (threads {torch.get_num_threads()})"
                    if torch is not None else "")
                 + f". plugrad at {args.git}. {args.rounds} rounds, medians.")
    lines.append("")
    lines.append("| workload | numpy floor ms | plugrad ms | torch ms | plugrad/floor "
                 "| plugrad/torch | torch/floor |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    for key in keys:
        row = [f"{key} {bw.WORKLOADS[key].title}"]
        for fw in bw.FRAMEWORKS:
            row.append(_fmt_ms(med[key, fw]) if fw in has else "-")
        for a, b in (("plugrad", "numpy"), ("plugrad", "torch"), ("torch", "numpy")):
            row.append(f"{_median_ratio(samples[key, a], samples[key, b]):.2f}"
                       if a in has and b in has else "-")
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    per_op = [k for k in ("W1", "W4") if k in keys]
    if per_op:
        lines.append("Per forward op, forward+backward time / forward ops (µs):")
        lines.append("")
        lines.append("| workload | ops | " + " | ".join(frameworks) + " |")
        lines.append("|---|---:|" + "---:|" * len(frameworks))
        for key in per_op:
            n = bw.WORKLOADS[key].forward_ops
            lines.append(f"| {key} | {n} | " + " | ".join(
                f"{med[key, fw] / n * 1e6:.2f}" for fw in frameworks) + " |")
        lines.append("")
    lines.append("Spread, interquartile range as % of the median (calls per sample):")
    lines.append("")
    lines.append("| workload | " + " | ".join(frameworks) + " |")
    lines.append("|---|" + "---:|" * len(frameworks))
    for key in keys:
        lines.append(f"| {key} | " + " | ".join(
            f"{_iqr_pct(samples[key, fw]):.1f}% ({inner[key, fw]})" for fw in frameworks) + " |")
    lines.append("")
    heavy = [k for k in keys if any(statistics.median(faults[k, fw]) >= 10 for fw in frameworks)]
    if heavy:
        lines.append("Page faults per call, median (fresh memory from the OS; each costs "
                     "microseconds, so a workload that faults is timing the allocator):")
        lines.append("")
        lines.append("| workload | " + " | ".join(frameworks) + " |")
        lines.append("|---|" + "---:|" * len(frameworks))
        for key in heavy:
            lines.append(f"| {key} | " + " | ".join(
                f"{statistics.median(faults[key, fw]):.0f}" for fw in frameworks) + " |")
        lines.append("")
    if imports:
        lines.append(f"Import time, fresh interpreter, median of {args.import_runs} (ms):")
        lines.append("")
        lines.append("| statement | ms |")
        lines.append("|---|---:|")
        for name, s in imports.items():
            setup, stmt = IMPORTS[name]
            what = f"`{stmt}`" + (f" after `{setup}`" if setup != "pass" else "")
            lines.append(f"| {what} | {s * 1e3:.1f} |")
        if "import torch" in imports:
            torch_s = imports["import torch"]
            lines.append("")
            lines.append(f"`import plugrad` / `import torch`: "
                         f"{imports['import plugrad'] / torch_s:.3f}")
        lines.append("")
    if args.memory:
        lines.append("W3 peak memory of one forward+backward over what was held before it "
                     "(tracemalloc, which sees NumPy's buffers; not torch's):")
        lines.append("")
        lines.append("| framework | peak MB | / floor |")
        lines.append("|---|---:|---:|")
        base = args.memory.get("numpy")
        for fw, b in args.memory.items():
            lines.append(f"| {fw} | {b / 1e6:.1f} | "
                         f"{b / base if base else float('nan'):.2f} |")
        lines.append("")
    lines.append(f"Total run time {elapsed:.0f} s; 1-minute load average "
                 f"{args.load[0]:.2f} before, {args.load[1]:.2f} after "
                 f"(this process alone adds about 1).")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="timing rounds (default 15)")
    parser.add_argument("--workloads", default=",".join(bw.WORKLOADS),
                        help="comma-separated subset of " + ",".join(bw.WORKLOADS))
    parser.add_argument("--frameworks", default=None,
                        help="comma-separated subset of numpy,plugrad,torch (default: all "
                             "importable)")
    parser.add_argument("--pause", type=float, default=bw.PAUSE_S,
                        help=f"seconds to sleep before each sample (default {bw.PAUSE_S})")
    parser.add_argument("--import-runs", type=int, default=7,
                        help="subprocess runs per import statement; 0 skips (default 7)")
    parser.add_argument("--threads", type=int, default=None,
                        help="limit NumPy's BLAS (threadpoolctl) and torch to this many threads "
                             "(default: NumPy's own count; 1 is steadier on a busy machine)")
    parser.add_argument("--json", metavar="PATH", help="also write the raw samples here")
    args = parser.parse_args(argv)

    if args.threads is not None:   # before torch is imported: it copies NumPy's count
        from threadpoolctl import threadpool_limits
        _limits = threadpool_limits(limits=args.threads, user_api="blas")  # noqa: F841

    keys = [k.strip().upper() for k in args.workloads.split(",") if k.strip()]
    for k in keys:
        if k not in bw.WORKLOADS:
            parser.error(f"unknown workload {k!r}")
    available = bw.available_frameworks()
    if args.frameworks:
        frameworks = [f.strip() for f in args.frameworks.split(",") if f.strip()]
        missing = [f for f in frameworks if f not in available]
        if missing:
            parser.error(f"not available here: {', '.join(missing)}")
    else:
        frameworks = available
        if "torch" not in available:
            print("  torch is not importable: comparing with the NumPy floor only",
                  file=sys.stderr)

    args.git = _git_state()        # what this process imported
    start = time.perf_counter()
    load_before = os.getloadavg()[0]
    runs, inner = prepare(keys, frameworks, args.pause)
    samples, faults = measure(keys, frameworks, runs, inner, args.rounds, args.pause)
    imports = import_times(args.import_runs, "torch" in frameworks) if args.import_runs else {}
    args.memory = peak_memory(keys, frameworks)
    elapsed = time.perf_counter() - start
    args.load = (load_before, os.getloadavg()[0])
    print(report(keys, frameworks, samples, faults, inner, imports, elapsed, args))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"samples_s": {f"{k}/{fw}": v for (k, fw), v in samples.items()},
                       "inner": {f"{k}/{fw}": v for (k, fw), v in inner.items()},
                       "faults_per_call": {f"{k}/{fw}": v for (k, fw), v in faults.items()},
                       "imports_s": imports}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
