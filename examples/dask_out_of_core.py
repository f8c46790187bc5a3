"""Out-of-core linear regression with plugrad on a Dask cluster.

The data X (N x D float32, e.g. 4 GB) and y = X @ w_true + noise are drawn
chunk by chunk on the workers and never exist on the client: each training
step evaluates the loss, the gradient and the updated weights in one pass over
the data (`pg.compute(loss, grad, w)`), and the workers send back only the
results, which stay on the workers as persisted arrays.

    python examples/dask_out_of_core.py --gb 4                 # a LocalCluster here
    python examples/dask_out_of_core.py --gb 4 --scheduler tcp://10.0.0.5:8786

It prints what happened (loss per step, time, the client's peak memory) and,
with --json, one JSON object for tests/test_dask_distributed.py, which runs it
in a fresh process so that the process's peak RSS is the client's alone.

Checks (--check, on by default): the first step's gradient (at w0, a fixed
vector) is compared with (a) the closed form 2/N X^T (X w0 - y) computed with
NumPy in float64, chunk by chunk on the workers, and (b) on a slice of rows
(the first chunk): the same computation on plugrad's NumPy backend, on the
rows brought to the client, and the closed form in float64 on them.

Memory: `peak_rss_bytes` is the client process's VmHWM (Linux; ru_maxrss elsewhere),
the kernel's exact high-water mark of its resident memory over its whole life (imports,
cluster start, every step; with a LocalCluster the scheduler runs in this
process too, so it is counted). `sampled_peak_bytes` is the largest RSS seen by
a thread sampling every 5 ms during the steps, and `rss_before_bytes` the RSS
just before the first step.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import threading
import time

import numpy as np


# -- memory of this (the client) process -------------------------------------------------------
def current_rss_bytes() -> int:
    try:
        import psutil
        return int(psutil.Process().memory_info().rss)
    except ImportError:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    """This process's peak resident set size so far, in bytes.

    VmHWM from /proc/self/status where there is one (Linux): the high-water mark
    of this program's own memory. ru_maxrss is the fallback (macOS: bytes), but on
    Linux it is not this program's alone: a process started by fork/vfork + exec
    inherits the peak of its parent (e.g. a whole pytest session) at the exec.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


class RssSampler(threading.Thread):
    """The largest RSS of this process seen while it runs, sampled every `interval` s."""

    def __init__(self, interval: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.interval, self.peak = interval, current_rss_bytes()
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            self.peak = max(self.peak, current_rss_bytes())

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        self.peak = max(self.peak, current_rss_bytes())
        return self.peak


# -- the cluster ----------------------------------------------------------------------------------
def connect(scheduler: str | None, workers: int, memory_limit: str):
    """A Client of the cluster at `scheduler`, or of a new LocalCluster of worker processes."""
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None, memory_limit=memory_limit)
    return Client(cluster), cluster


def wait_for(*tensors) -> None:
    """Block until the tensors' results are on the workers.

    With a distributed client `pg.compute` returns as soon as the work is submitted
    (it is `dask.persist`); reading a value (`.item()`) waits for it anyway.
    """
    from distributed import futures_of, wait

    wait(futures_of([t.array for t in tensors]))


# -- the data and the model ------------------------------------------------------------------
def make_data(pg, n: int, d: int, chunk_rows: int, seed: int):
    """X (n x d) and y = X @ w_true + 0.1 * noise, lazy, drawn per chunk on the workers."""
    pg.manual_seed(seed)
    X = pg.randn(n, d, backend="dask", chunks=(chunk_rows, d))
    noise = pg.randn(n, backend="dask", chunks=(chunk_rows,))
    w_true = pg.linspace(-1.0, 1.0, d, backend="dask")
    y = X @ w_true + 0.1 * noise
    return X, y


def initial_weights(d: int) -> np.ndarray:
    return np.random.default_rng(1).standard_normal(d).astype(np.float32)


def mse_grad(pg, X, y, w0: np.ndarray, backend: str) -> np.ndarray:
    """plugrad's gradient of mean((X w - y)^2) at w0, on `backend`, as a NumPy array."""
    w = pg.tensor(w0, requires_grad=True, backend=backend)
    pg.nn.functional.mse_loss(X @ w, y).backward()
    return w.grad.numpy()


def closed_form_on_workers(X, y, w0: np.ndarray) -> np.ndarray:
    """2/N X^T (X w0 - y) in float64 with NumPy, one chunk per task on the workers.

    Independent of plugrad: it reads the raw dask arrays (`tensor.array`) and runs
    a NumPy function on each chunk; only D numbers per chunk reach the client.
    """
    import dask

    xs, ys = X.array.to_delayed().ravel(), y.array.to_delayed().ravel()
    assert len(xs) == len(ys), "X and y must be chunked alike along the rows"
    w64 = w0.astype(np.float64)

    def part(xb, yb):
        xb = xb.astype(np.float64)
        return xb.T @ (xb @ w64 - yb.astype(np.float64))

    parts = dask.compute(*[dask.delayed(part)(xb, yb) for xb, yb in zip(xs, ys)])
    return (2.0 / X.shape[0]) * np.sum(parts, axis=0)


def train(args) -> dict:
    import plugrad as pg

    rss_start = current_rss_bytes()
    d = args.features
    chunk_rows = max(1, int(args.chunk_mb * 1e6) // (4 * d))
    n = max(1, math.ceil(args.gb * 1e9 / (4 * d * chunk_rows))) * chunk_rows   # whole chunks
    t0 = time.perf_counter()
    client, cluster = connect(args.scheduler, args.workers, args.memory_limit)
    try:
        setup_s = time.perf_counter() - t0
        X, y = make_data(pg, n, d, chunk_rows, args.seed)
        w0 = initial_weights(d)
        w = pg.tensor(w0, requires_grad=True, backend="dask")
        opt = pg.optim.SGD([w], lr=args.lr)
        rss_before = current_rss_bytes()
        sampler = RssSampler()
        sampler.start()
        losses, step_s, first_grad = [], [], None
        t_train = time.perf_counter()
        for _ in range(args.steps):
            t = time.perf_counter()
            opt.zero_grad()
            loss = pg.nn.functional.mse_loss(X @ w, y)
            loss.backward()
            grad = w.grad
            opt.step()                         # w = w - lr * grad, still lazy
            pg.compute(loss, grad, w)          # one pass over the data; results on the workers
            wait_for(loss, grad, w)            # only for the step's time: .item() would wait too
            losses.append(loss.item())
            if first_grad is None:
                first_grad = grad.numpy()      # D numbers
            step_s.append(time.perf_counter() - t)
        train_s = time.perf_counter() - t_train
        sampled_peak = sampler.stop()
        peak_steps = peak_rss_bytes()
        result = {
            "n": n, "d": d, "chunk_rows": chunk_rows, "chunks": n // chunk_rows,
            "data_bytes": n * d * 4, "steps": args.steps, "lr": args.lr,
            "losses": losses, "step_s": step_s, "train_s": train_s, "setup_s": setup_s,
            "scheduler": args.scheduler or "LocalCluster",
            "workers": len(client.scheduler_info().get("workers", {})),
            "memory_limit": None if args.scheduler else args.memory_limit,
            "rss_start_bytes": rss_start, "rss_before_bytes": rss_before,
            "sampled_peak_bytes": sampled_peak, "peak_rss_bytes": peak_steps,
            "w0": w0.tolist(), "grad": first_grad.tolist(),
        }
        if args.check:
            t = time.perf_counter()
            result["grad_closed_form"] = closed_form_on_workers(X, y, w0).tolist()
            rows = min(chunk_rows, n, args.check_rows)
            Xs, ys = X[:rows], y[:rows]
            Xn, yn = Xs.numpy(), ys.numpy()   # `rows` rows reach the client, after the steps
            result["slice_rows"] = rows
            result["slice_grad_dask"] = mse_grad(pg, Xs, ys, w0, "dask").tolist()
            Xt, yt = pg.tensor(Xn, backend="numpy"), pg.tensor(yn, backend="numpy")
            result["slice_grad_numpy"] = mse_grad(pg, Xt, yt, w0, "numpy").tolist()
            X64, y64 = Xn.astype(np.float64), yn.astype(np.float64)
            result["slice_grad_closed_form"] = (2.0 / rows * X64.T @ (X64 @ w0 - y64)).tolist()
            result["check_s"] = time.perf_counter() - t
        result["peak_rss_end_bytes"] = peak_rss_bytes()
        return result
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Out-of-core linear regression with plugrad on "
                                "a Dask cluster (data drawn chunk by chunk on the workers).")
    p.add_argument("--gb", type=float, default=4.0, help="size of X in GB (default 4)")
    p.add_argument("--features", type=int, default=16, help="columns of X (default 16)")
    p.add_argument("--chunk-mb", type=float, default=64.0, help="MB per chunk of X")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--lr", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scheduler", help="address of a running scheduler, e.g. "
                   "tcp://10.0.0.5:8786 (default: start a LocalCluster here)")
    p.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
    p.add_argument("--memory-limit", default="2GiB",
                   help="per LocalCluster worker; past it the workers spill to disk")
    p.add_argument("--check-rows", type=int, default=8192,
                   help="rows of the slice checked on the NumPy backend")
    p.add_argument("--no-check", dest="check", action="store_false")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    result = train(args)
    if args.json:
        print(json.dumps(result))
        return 0
    mb = 1e6
    print(f"data: X {result['n']:,} x {result['d']} float32 = "
          f"{result['data_bytes'] / 1e9:.2f} GB in {result['chunks']} chunks, on "
          f"{result['workers']} workers ({result['scheduler']})")
    for i, (loss, s) in enumerate(zip(result["losses"], result["step_s"])):
        print(f"step {i}: loss {loss:.5f}  ({s:.1f} s)")
    print(f"client peak RSS {result['peak_rss_bytes'] / mb:.0f} MB (before the steps "
          f"{result['rss_before_bytes'] / mb:.0f} MB); training {result['train_s']:.1f} s")
    if "grad_closed_form" in result:
        g, ref = np.array(result["grad"]), np.array(result["grad_closed_form"])
        print(f"first gradient vs closed form: max |diff| {np.max(np.abs(g - ref)):.2e} "
              f"(max |g| {np.max(np.abs(ref)):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
