"""Forward+backward speed of plugrad against hand-written NumPy and PyTorch.

One test per workload, parametrised by framework (numpy / plugrad / torch) and
grouped per workload, so pytest-benchmark prints the frameworks side by side.
Each test first checks the framework's gradients against the NumPy floor's, so
a benchmark can never time a wrong computation. The numpy case also checks the
floor itself against a float64 finite difference.

    python -m pytest benchmarks --benchmark-only

Under a plain `python -m pytest` each body runs once (see conftest.py).
The workloads themselves are in bench_workloads.py.
"""
from __future__ import annotations

import gc
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

    benchmark.extra_info["framework"] = framework
    benchmark.extra_info["forward_ops"] = w.forward_ops
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
