"""pytest setup for the benchmark suite.

Quick mode: under a plain `python -m pytest` (benchmarks is one of the
testpaths) every benchmark body runs once, with its correctness checks, and
nothing is timed. That is pytest-benchmark's `--benchmark-disable`, switched on
here unless the command line asks for benchmark results: `--benchmark-only`,
`--benchmark-enable`, or any option that saves, compares or profiles them. So

    python -m pytest                                  # quick: run once, check gradients
    python -m pytest benchmarks --benchmark-only      # real timings, grouped per workload

This works when this file is loaded before pytest configures its plugins, which
is the case whenever `benchmarks` is on the command line or in testpaths. For
any other way of selecting these tests, the fallback flips the already built
benchmark session to disabled (same effect, through a private attribute).
"""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import bench_workloads as bw  # noqa: E402

# options after which the user clearly wants benchmark numbers
_WANTS_RESULTS = ("benchmark_only", "benchmark_enable", "benchmark_save", "benchmark_autosave",
                  "benchmark_json", "benchmark_compare", "benchmark_compare_fail",
                  "benchmark_histogram", "benchmark_cprofile")


def _wants_benchmarks(config) -> bool:
    for name in _WANTS_RESULTS:
        try:
            if config.getoption(name):
                return True
        except ValueError:  # pytest-benchmark missing or an option it no longer has
            continue
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    if not config.pluginmanager.hasplugin("benchmark"):
        config.addinivalue_line("markers", "benchmark(group): pytest-benchmark settings")
        return
    if _wants_benchmarks(config):
        return
    config.option.benchmark_disable = True
    session = getattr(config, "_benchmarksession", None)
    if session is not None:  # this conftest was loaded after pytest-benchmark configured
        session.disabled = True


def pytest_report_header(config):
    threads = bw.numpy_blas_threads()
    line = f"plugrad benchmarks: NumPy BLAS threads {threads if threads else 'unknown'}"
    session = getattr(config, "_benchmarksession", None)
    if session is not None and session.disabled:
        line += "; quick mode (each benchmark runs once; --benchmark-only to time them)"
    return line


try:
    import pytest_benchmark  # noqa: F401
except ImportError:  # still run every body once, with its checks
    class _RunOnce:
        enabled, disabled, stats = False, True, None

        def __init__(self) -> None:
            self.extra_info: dict = {}

        def __call__(self, function, *args, **kwargs):
            return function(*args, **kwargs)

    @pytest.fixture
    def benchmark():
        return _RunOnce()


@pytest.fixture(params=bw.FRAMEWORKS)
def framework(request) -> str:
    """The framework under test: numpy (the hand-written floor), plugrad, or torch."""
    name = request.param
    if name == "torch" and bw.load_torch() is None:
        pytest.skip("torch is not importable here")
    return name
