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
else:  # a hook of pytest-benchmark's: defined only when it is there to call it
    def pytest_benchmark_update_machine_info(config, machine_info):
        """What the dashboard needs to say why a comparison is missing from a saved run: the
        frameworks benchmarked, torch's version (None: not importable here), and the ready
        backends left out (lazy ones, unless named)."""
        torch = bw.load_torch()
        chosen = bw.bench_backends()
        try:
            ready = bw.load_plugrad().backends.available()
        except Exception:  # noqa: BLE001 - the header must not stop the run
            ready = chosen
        machine_info["plugrad_bench"] = {
            "frameworks": bw.bench_frameworks(),
            "torch": getattr(torch, "__version__", None) if torch is not None else None,
            "left_out": [name for name in ready if name not in chosen],
        }


def quick_mode(config) -> bool:
    """True under the plain test command: each benchmark body runs once, untimed."""
    session = getattr(config, "_benchmarksession", None)
    if session is not None:
        return bool(session.disabled)
    return bool(getattr(config.option, "benchmark_disable", True))


def pytest_generate_tests(metafunc):
    """Parametrise by framework: the floor, plugrad on every ready backend, torch.

    `framework`: numpy, plugrad-NAME for each backend of `bw.bench_backends()`
    (PLUGRAD_BENCH_BACKENDS or every ready one), torch. `op_framework`: the same
    without the floor (per-op micro-benchmarks have no hand-written floor).
    `import_case`: the import-time statements; `import torch` (about a second)
    only when benchmarks are timed.
    """
    frameworks = bw.bench_frameworks()
    if "framework" in metafunc.fixturenames:
        metafunc.parametrize("framework", frameworks, indirect=True)
    if "op_framework" in metafunc.fixturenames:
        metafunc.parametrize("op_framework", [f for f in frameworks if f != "numpy"],
                             indirect=True)
    if "import_case" in metafunc.fixturenames:
        import bench_ops

        cases = list(bench_ops.import_cases())
        if quick_mode(metafunc.config):
            cases = [c for c in cases if "torch" not in c]
        metafunc.parametrize("import_case", cases)


def _skip_missing_torch(name: str) -> None:
    if name == "torch" and bw.load_torch() is None:
        pytest.skip("torch is not importable here")


@pytest.fixture
def framework(request) -> str:
    """The framework under test: numpy (the hand-written floor), plugrad-BACKEND, or torch."""
    _skip_missing_torch(request.param)
    return request.param


@pytest.fixture
def op_framework(request) -> str:
    """plugrad-BACKEND or torch, for the per-op micro-benchmarks."""
    _skip_missing_torch(request.param)
    return request.param


@pytest.fixture
def import_case(request) -> str:
    return request.param


@pytest.fixture
def quick(request) -> bool:
    return quick_mode(request.config)
