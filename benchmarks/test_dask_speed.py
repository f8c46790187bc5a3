"""W3 at 100x the size (2e8 float32, 800 MB) on the dask backend with a LocalCluster.

Two cases, each run once in a fresh process (bench_dask.py) for its time and
the peak memory of that process: the NumPy floor holding x in the process, and
plugrad on dask as the client of a LocalCluster of 2 worker processes, with x
drawn and kept on the workers. Each child times `bench_dask.ROUNDS` calls after
a warm-up and checks its gradient; the median is the result, with the
process's peak RSS (`ru_maxrss`) and the data's size in `extra_info`.

Heavy (about a minute and 3-4 GB of memory): it runs only with
PLUGRAD_BENCH_DASK=1, which `plugrad bench --dask` sets.

    PLUGRAD_BENCH_DASK=1 python -m pytest benchmarks/test_dask_speed.py --benchmark-only
    plugrad bench --dask -k w3x100
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import bench_dask as bd
import bench_workloads as bw
import pytest

W3X100_GROUP = (f"W3x100: {bd.W3X100_N:,} floats, exp(0.5*log(x*x+1)).sum(), "
                f"dask on a LocalCluster vs the floor, once")
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_dask.py")


def _dask_ready() -> str | None:
    """Why plugrad on dask with a LocalCluster cannot run here, or None."""
    try:
        import dask.array  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as err:
        return f"needs dask and distributed ({err})"
    import plugrad as pg
    if "dask" not in pg.backends.available():
        return "the dask backend is not ready here (see `plugrad backends`)"
    return None


@pytest.mark.slow
@pytest.mark.benchmark(group=W3X100_GROUP)
@pytest.mark.parametrize("scale_framework", ["numpy", "plugrad-dask"])
def test_w3x100_on_a_local_cluster(benchmark, scale_framework):
    """One forward+backward of W3 on 2e8 floats: time, and the client process's peak memory."""
    if not os.environ.get("PLUGRAD_BENCH_DASK"):
        pytest.skip("W3x100 (800 MB, about a minute) runs under `plugrad bench --dask` or "
                    "PLUGRAD_BENCH_DASK=1")
    if scale_framework != "numpy":
        why = _dask_ready()
        if why:
            pytest.skip(why)
    result = {}

    def once():
        done = subprocess.run([sys.executable, SCRIPT, "w3x100", scale_framework],
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
        result.update(json.loads(done.stdout.strip().splitlines()[-1]))

    benchmark.pedantic(once, rounds=1, iterations=1)
    extra = {k: result[k] for k in ("n", "data_bytes", "rounds", "times_s", "peak_rss_bytes",
                                    "rss_start_bytes", "grad_rel_error", "workers",
                                    "threads_per_worker", "memory_limit", "chunk", "chunks",
                                    "setup_s", "rss_before_bytes") if k in result}
    bw.describe(benchmark, "W3x100", scale_framework, kind="scale",
                measured_s=result["median_s"], **extra)
    assert result["grad_rel_error"] < 1e-4
