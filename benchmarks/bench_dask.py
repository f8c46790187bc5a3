"""W3 at 100x the size on the dask backend with a LocalCluster, next to the NumPy floor.

W3 is `((x * x + 1.0).log() * 0.5).exp().sum()`, forward and backward. At 100x
its size x holds 200,000,000 float32 (800 MB). Each side runs in a fresh
process, so that the process's peak RSS (VmHWM, the kernel's exact
high-water mark, not a sample) is the peak of that side alone:

* ``numpy``: the hand-written floor of bench_workloads.floor_w3 on x held in
  the process, as in W3. Its peak memory is x plus the floor's intermediates.
* ``plugrad-dask``: plugrad on the dask backend; the process is the client of a
  `LocalCluster` (2 worker processes, 1 thread each, loopback; the scheduler runs
  in the client process too, so its memory is counted as the client's). x is
  drawn chunk by chunk on the workers (`pg.randn(..., chunks=...)`) and
  persisted there before timing, as the floor's x exists before its timing. One
  call builds the forward and backward graphs and evaluates the loss and x.grad
  in one pass (`pg.compute(loss, x.grad)`); the gradient stays on the workers.
  With a client, `pg.compute` returns once the work is submitted (it is
  `dask.persist`), so a call also waits for the results (`distributed.wait`).
  Before each call the previous loss and gradient are dropped and the scheduler
  is given time to forget them: two calls build graphs with the same keys, and
  a result still held would be reused instead of computed.

Both sides check their gradient: the floor against float64 on a slice, the
dask side by bringing a slice of x and of x.grad to the client and comparing
with the floor's formula on that slice (W3 is elementwise, so a slice of the
gradient is the gradient of the slice). Times are the median of `rounds` calls
after one warm-up call.

    python benchmarks/bench_dask.py w3x100 numpy
    python benchmarks/bench_dask.py w3x100 plugrad-dask [--n 200000000] [--rounds 3]

The pytest-benchmark case is in test_dask_speed.py (PLUGRAD_BENCH_DASK=1, or
`plugrad bench --dask`).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# the out-of-core example measures its client's memory the same way: one definition
sys.path.insert(1, os.path.join(os.path.dirname(HERE), "examples"))

import bench_workloads as bw  # noqa: E402
from dask_out_of_core import current_rss_bytes, peak_rss_bytes  # noqa: E402,F401

W3X100_N = 100 * 2_000_000            # 100x W3: 200,000,000 float32, 800 MB
CHUNK = 10_000_000                    # 40 MB chunks: 20 of them
WORKERS = 2
MEMORY_LIMIT = "2GiB"                 # per worker; past it the workers spill to disk
ROUNDS = 3
CHECK_ROWS = 100_000                  # the slice whose gradient is checked


def _check_slice(x_slice: np.ndarray, g_slice: np.ndarray, where: str) -> float:
    """Max |error| / max |expected| of g_slice against the floor's formula (float64)."""
    expected = bw.floor_w3(x_slice.astype(np.float64))[1][0]
    assert g_slice.dtype == np.float32, f"{where}: gradient is {g_slice.dtype}"
    scale = float(np.max(np.abs(expected)))
    np.testing.assert_allclose(g_slice, expected, rtol=bw.RTOL, atol=bw.ATOL_OF_MAX * scale,
                               err_msg=where)
    return float(np.max(np.abs(g_slice - expected))) / scale


def run_floor(n: int = W3X100_N, rounds: int = ROUNDS) -> dict:
    """The NumPy floor on x of n float32 held in this process."""
    rss0 = current_rss_bytes()
    x = np.random.default_rng(bw.SEED).standard_normal(n, dtype=np.float32)
    held = [None]

    def call():
        held[0] = None                      # the gradient lives until the next call
        loss, grads = bw.floor_w3(x)
        held[0] = grads
        return float(loss)

    call()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        loss = call()
        times.append(time.perf_counter() - t0)
    err = _check_slice(x[:CHECK_ROWS], held[0][0][:CHECK_ROWS], "W3x100/numpy")
    return {"framework": "numpy", "n": n, "data_bytes": x.nbytes, "rounds": rounds,
            "times_s": times, "median_s": statistics.median(times), "loss": loss,
            "grad_rel_error": err, "rss_start_bytes": rss0,
            "peak_rss_bytes": peak_rss_bytes()}


def start_cluster(workers: int = WORKERS, memory_limit: str = MEMORY_LIMIT):
    """A LocalCluster of worker processes on loopback and its Client."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None,
                           memory_limit=memory_limit)
    return cluster, Client(cluster)


def run_dask(n: int = W3X100_N, rounds: int = ROUNDS, chunk: int = CHUNK,
             workers: int = WORKERS, memory_limit: str = MEMORY_LIMIT) -> dict:
    """plugrad on the dask backend, this process the client of a LocalCluster."""
    import gc

    import plugrad as pg
    from distributed import futures_of, wait

    def finished(*tensors):
        # with a distributed client pg.compute returns once the work is submitted (it is
        # dask.persist); the timing waits until every result is on the workers
        wait(futures_of([t.array for t in tensors]))

    def tasks_on_scheduler() -> int:
        return client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))

    rss0 = current_rss_bytes()
    t_setup = time.perf_counter()
    cluster, client = start_cluster(workers, memory_limit)
    try:
        pg.manual_seed(bw.SEED)
        x = pg.randn(n, backend="dask", chunks=(chunk,))
        pg.compute(x)                        # drawn and kept on the workers
        finished(x)
        x.requires_grad_()
        kept = tasks_on_scheduler()          # x's chunks
        setup_s = time.perf_counter() - t_setup
        rss_before = current_rss_bytes()
        last = {}

        def release():
            # drop the previous call's loss and gradient and wait until the scheduler has
            # forgotten them, so that no result of one call is reused by the next (the
            # graphs of two calls have the same keys)
            x.grad = None
            last.clear()
            gc.collect()
            deadline = time.perf_counter() + 30
            while tasks_on_scheduler() > kept and time.perf_counter() < deadline:
                time.sleep(0.01)

        def call():
            loss = ((x * x + 1.0).log() * 0.5).exp().sum()
            loss.backward()
            pg.compute(loss, x.grad)         # one pass; the gradient stays on the workers
            finished(loss, x.grad)
            last["loss"] = loss

        release()
        call()
        times = []
        for _ in range(rounds):
            release()
            t0 = time.perf_counter()
            call()
            times.append(time.perf_counter() - t0)
        loss = last["loss"]
        peak = peak_rss_bytes()              # before the checks bring slices to the client
        with pg.no_grad():
            x_slice = x[:CHECK_ROWS].detach().numpy()
            g_slice = x.grad[:CHECK_ROWS].numpy()
            mid = slice(n // 2, n // 2 + CHECK_ROWS)
            x_mid, g_mid = x[mid].detach().numpy(), x.grad[mid].numpy()
        err = max(_check_slice(x_slice, g_slice, "W3x100/plugrad-dask, first rows"),
                  _check_slice(x_mid, g_mid, "W3x100/plugrad-dask, middle rows"))
        loss_value = float(loss.item())
        assert np.isfinite(loss_value) and loss_value > n, loss_value
        return {"framework": "plugrad-dask", "n": n, "data_bytes": n * 4, "rounds": rounds,
                "times_s": times, "median_s": statistics.median(times), "loss": loss_value,
                "grad_rel_error": err, "rss_start_bytes": rss0,
                "rss_before_bytes": rss_before, "peak_rss_bytes": peak,
                "setup_s": setup_s, "workers": workers, "threads_per_worker": 1,
                "memory_limit": memory_limit, "chunk": chunk, "chunks": -(-n // chunk)}
    finally:
        client.close()
        cluster.close()


def run(framework: str, **kwargs) -> dict:
    if framework == "numpy":
        kwargs.pop("chunk", None)
        kwargs.pop("workers", None)
        kwargs.pop("memory_limit", None)
        return run_floor(**kwargs)
    if framework == "plugrad-dask":
        return run_dask(**kwargs)
    raise ValueError(f"W3x100 runs on numpy (the floor) or plugrad-dask, not {framework!r}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="W3 at 100x the size: the NumPy floor or "
                                     "plugrad on dask with a LocalCluster; prints JSON")
    parser.add_argument("workload", choices=["w3x100"])
    parser.add_argument("framework", choices=["numpy", "plugrad-dask"])
    parser.add_argument("--n", type=int, default=W3X100_N, help="floats in x (default 2e8)")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--chunk", type=int, default=CHUNK, help="floats per dask chunk")
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--memory-limit", default=MEMORY_LIMIT, help="per worker")
    args = parser.parse_args(argv)
    result = run(args.framework, n=args.n, rounds=args.rounds, chunk=args.chunk,
                 workers=args.workers, memory_limit=args.memory_limit)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
