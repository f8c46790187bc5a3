"""Forward+backward speed of plugrad against hand-written NumPy and PyTorch.

One test per workload, parametrised by framework (numpy, plugrad-BACKEND for
every ready backend, torch; see conftest.py) and grouped per workload, so
pytest-benchmark prints them side by side. Each test first checks the
framework's gradients against the NumPy floor's, so a benchmark can never time
a wrong computation. The numpy case also checks the floor itself against a
float64 finite difference. W3 also records the peak memory of one call
(tracemalloc) for the floor and plugrad on NumPy; W4's 1,000,000-op variant
runs once per framework, in a fresh process, for its time and memory.

    python -m pytest benchmarks --benchmark-only
    plugrad bench                                   # the same, saved for the dashboard

Under a plain `python -m pytest` each body runs once (see conftest.py) and the
long W4 variant is skipped (set PLUGRAD_BENCH_LONG=1 to run it anyway).
The workloads themselves are in bench_workloads.py.
"""
from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time

import bench_workloads as bw
import pytest


def _bench(benchmark, key: str, framework: str):
    w = bw.WORKLOADS[key]
    inputs = bw.make_inputs(key)
    expected = bw.floor_gradients(key, inputs)
    if framework == "numpy":
        bw.check_floor(key, inputs)
    run = bw.build(key, framework, inputs)
    bw.check_against_floor(key, framework, run(), expected)

    bw.describe(benchmark, key, framework, forward_ops=w.forward_ops)
    if key == "W3" and bw.traces_memory(framework):
        # the peak of one forward+backward over what was held before it (the backward's
        # peak: every saved tensor is alive when it starts); compare with the floor's
        benchmark.extra_info["peak_bytes"] = bw.peak_bytes(run)
    gc.collect()
    if benchmark.enabled:
        # NumPy's OpenBLAS threads (and torch's OpenMP threads) spin for a while after
        # each call; on a small machine they starve the next framework's threads
        # (torch after numpy: 0.5 ms calls measured at 110 ms). Let them go idle first.
        time.sleep(bw.PAUSE_S)
    grads = benchmark(run)
    bw.check_against_floor(key, framework, grads, expected)  # the timed calls were right too

    stats = getattr(benchmark, "stats", None)
    if stats is not None:  # absent in quick mode
        per_op = stats.stats.median / w.forward_ops * 1e6
        benchmark.extra_info["median_us_per_forward_op"] = round(per_op, 3)


@pytest.mark.benchmark(group=bw.WORKLOADS["W1"].group)
def test_w1_tiny_op_overhead(benchmark, framework):
    _bench(benchmark, "W1", framework)


@pytest.mark.benchmark(group=bw.WORKLOADS["W2"].group)
def test_w2_mlp_step(benchmark, framework):
    _bench(benchmark, "W2", framework)


@pytest.mark.benchmark(group=bw.WORKLOADS["W3"].group)
def test_w3_large_elementwise(benchmark, framework):
    _bench(benchmark, "W3", framework)


@pytest.mark.benchmark(group=bw.WORKLOADS["W4"].group)
def test_w4_deep_chain(benchmark, framework):
    _bench(benchmark, "W4", framework)


@pytest.mark.benchmark(group=bw.WORKLOADS["W5"].group)
def test_w5_matmul(benchmark, framework):
    _bench(benchmark, "W5", framework)


W4_LONG_GROUP = f"W4 long: (1,), {bw.W4_LONG_STEPS:,} x (y*{bw.W4_LONG_FACTOR}), once"


@pytest.mark.slow
@pytest.mark.benchmark(group=W4_LONG_GROUP)
def test_w4_long_chain_once(benchmark, framework, quick):
    """A million-node graph: completes, right gradient, peak memory (fresh process, once)."""
    if quick and not os.environ.get("PLUGRAD_BENCH_LONG"):
        pytest.skip("the 1,000,000-op chain runs under `plugrad bench` or PLUGRAD_BENCH_LONG=1")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_workloads.py")
    result = {}

    def once():
        done = subprocess.run([sys.executable, script, "long-chain", framework],
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        result.update(json.loads(done.stdout.strip().splitlines()[-1]))

    benchmark.pedantic(once, rounds=1, iterations=1)
    bw.describe(benchmark, "W4-long", framework, kind="long", steps=result["steps"],
                forward_s=result["forward_s"], backward_s=result["backward_s"],
                measured_s=result["total_s"],
                peak_rss_growth_bytes=result["peak_rss_growth_bytes"])
