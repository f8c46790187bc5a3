"""What `plugrad bench` runs in a source checkout (plugrad/cli.py parses the command, checks
that it has a checkout, pytest and pytest-benchmark, then calls `run` here).

    plugrad bench                      # the timed suite, every ready backend, saved; the page
    plugrad bench --backend numpy      # one backend (repeat the option for several)
    plugrad bench dashboard            # only the page, from the runs saved so far
    plugrad bench --dask -k w3x100     # W3 at 100x on dask with a LocalCluster, and the floor

The suite runs as `python -m pytest benchmarks --benchmark-only
--benchmark-autosave`, so each run is saved by pytest-benchmark itself, as
`<storage>/<machine_id>/NNNN_<commit>_<date>[_uncommitted-changes].json`, and
`pytest-benchmark --storage <storage> compare` works on the saved runs. The
dashboard is rendered by plugrad.bench_dashboard, which ships in the package.
"""
from __future__ import annotations

import glob
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def default_storage() -> str:
    return os.path.join(ROOT, ".benchmarks")


def suite_command(args) -> list[str]:
    storage = os.path.abspath(args.storage or default_storage())
    cmd = [sys.executable, "-m", "pytest", HERE, "--benchmark-only", "--benchmark-autosave",
           f"--benchmark-storage=file://{storage}", f"--benchmark-max-time={args.max_time}",
           "--benchmark-sort=name", "--benchmark-columns=median,iqr,rounds",
           "-p", "no:cacheprovider", "-q"]
    if args.k:
        cmd += ["-k", args.k]
    return cmd


def run(args) -> int:
    """Run the timed suite, save it in the autosave layout, then render the dashboard."""
    storage = os.path.abspath(args.storage or default_storage())
    env = dict(os.environ)
    if args.backend:
        env["PLUGRAD_BENCH_BACKENDS"] = ",".join(args.backend)
    if not args.no_long:
        env["PLUGRAD_BENCH_LONG"] = "1"
    if getattr(args, "dask", False):
        env["PLUGRAD_BENCH_DASK"] = "1"     # W3x100 on dask with a LocalCluster
    if args.threads:
        env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(
            args.threads)
    if not args.backend:   # say which ready backends the workloads leave out, and why
        lazy = _lazy_ready()
        if lazy:
            print(f"plugrad bench: every ready eager backend; left out: {', '.join(lazy)} "
                  f"(lazy: the workloads' op chains would be graphs thousands of tasks deep; "
                  f"--dask times W3x100 on dask with a LocalCluster, --backend NAME the "
                  f"workloads on it)", flush=True)
    before = set(glob.glob(os.path.join(storage, "*", "*.json")))
    cmd = suite_command(args)
    print("plugrad bench: " + " ".join(cmd[2:]), flush=True)
    code = subprocess.call(cmd, cwd=ROOT, env=env)   # cwd: pytest-benchmark reads git there
    saved = sorted(set(glob.glob(os.path.join(storage, "*", "*.json"))) - before)
    for path in saved:
        print(f"plugrad bench: saved {os.path.relpath(path)}")
    if saved and not args.no_dashboard:
        dashboard(args)
    return code


def _lazy_ready() -> list[str]:
    import warnings

    import plugrad

    with warnings.catch_warnings():  # a faulty plugin is listed by `plugrad backends`
        warnings.simplefilter("ignore")
        return [name for name in plugrad.backends.available()
                if getattr(plugrad.backends.get(name), "lazy", False)]


def dashboard(args) -> int:
    from plugrad.bench_dashboard import write_page

    return write_page(args.storage or default_storage(), args.out)
