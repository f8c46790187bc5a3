"""The benchmark workloads, shared by the pytest-benchmark suite and `compare.py`.

Every workload is one forward pass plus one backward pass. Each framework gets
the same float32 inputs (made from a fixed seed) and returns its gradients:

* ``numpy``: a hand-written forward and backward with no graph, the floor any
  autograd built on NumPy is measured against;
* ``plugrad``: plugrad on its default backend, and ``plugrad-NAME`` plugrad on
  backend NAME (every ready eager backend: `bench_backends()`);
* ``torch``: PyTorch on the CPU, when it is importable.

plugrad and torch run the *same* function (plugrad's API is torch's), given the
module as ``lib``, so the two do exactly the same operations.

`build(workload, framework, inputs)` returns a zero-argument callable that does
one forward+backward and returns the gradients (framework-native tensors);
`grads_to_numpy` turns them into float32 arrays for `check_against_floor`.
"""
from __future__ import annotations

import gc
import math
import os
import tracemalloc
from dataclasses import dataclass
from typing import Callable

import numpy as np

SEED = 20240601
FRAMEWORKS = ("numpy", "plugrad", "torch")

W1_STEPS = 300          # three forward ops per step
W4_STEPS = 20_000

# seconds to wait before timing another framework: OpenBLAS and OpenMP worker
# threads keep spinning after a call and would steal the next framework's cores
PAUSE_S = 0.25

# float32 gradients from different (correct) implementations differ by rounding:
# elementwise kernels by an ulp or two, sums and matmuls by summation order.
RTOL = 1e-4
ATOL_OF_MAX = 1e-5      # atol = this * max |expected gradient|


# -- libraries ---------------------------------------------------------------------------------
def numpy_blas_threads() -> int | None:
    """How many threads NumPy's BLAS uses (threadpoolctl), or None if it can't be told."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    blas = [info for info in threadpool_info() if info.get("user_api") == "blas"]
    ours = [info for info in blas if "numpy" in str(info.get("filepath", "")).lower()]
    for info in ours or blas:
        return int(info["num_threads"])
    return None


_torch_state: dict = {}


def load_torch():
    """The torch module set up for a fair CPU comparison, or None when it isn't importable.

    torch's intra-op thread count is set to NumPy's BLAS thread count (read with
    threadpoolctl, read *before* torch is imported, since torch brings its own
    thread pools), so that matmuls on both sides use the same number of cores.
    """
    if "module" in _torch_state:
        return _torch_state["module"]
    threads = numpy_blas_threads()
    try:
        import torch
    except Exception:  # noqa: BLE001 - any failure to import means "no torch here"
        torch = None
    if torch is not None and threads:
        torch.set_num_threads(threads)
    _torch_state["module"] = torch
    _torch_state["threads"] = threads
    return torch


def load_plugrad():
    import plugrad
    return plugrad


def split_framework(framework: str) -> tuple[str, str | None]:
    """'plugrad-cupy' -> ('plugrad', 'cupy'); 'plugrad' -> ('plugrad', None: the default)."""
    if framework.startswith("plugrad-"):
        return "plugrad", framework[len("plugrad-"):]
    return framework, None


def bench_backends() -> list[str]:
    """The plugrad backends to benchmark: PLUGRAD_BENCH_BACKENDS (comma-separated) when set,
    otherwise every eager backend that is ready here (`plugrad.backends.available()`).

    Lazy backends (`backend.lazy`, such as dask) are left out unless named: these
    workloads time eager per-op and per-node costs on arrays that fit in memory,
    which a lazy backend turns into graph building (W1's and W4's chains make
    graphs thousands of tasks deep). The dask backend has its own benchmark, W3 at
    100x the size on a LocalCluster (bench_dask.py, `plugrad bench --dask`).
    """
    chosen = os.environ.get("PLUGRAD_BENCH_BACKENDS", "").strip()
    if chosen:
        return [b.strip() for b in chosen.split(",") if b.strip()]
    import warnings

    plugrad = load_plugrad()
    with warnings.catch_warnings():  # a faulty plugin is listed by `plugrad backends`
        warnings.simplefilter("ignore")
        return [name for name in plugrad.backends.available()
                if not getattr(plugrad.backends.get(name), "lazy", False)]


def bench_frameworks() -> list[str]:
    """numpy (the floor), plugrad on each benchmarked backend, torch (a peer; may be absent)."""
    return ["numpy"] + [f"plugrad-{b}" for b in bench_backends()] + ["torch"]


def library(framework: str):
    """The module a framework's workloads run on (None for numpy, which needs none)."""
    if framework == "numpy":
        return None
    if split_framework(framework)[0] == "plugrad":
        return load_plugrad()
    if framework == "torch":
        return load_torch()
    raise ValueError(f"unknown framework {framework!r}; choose from {FRAMEWORKS}")


def available_frameworks() -> list[str]:
    return [f for f in FRAMEWORKS if f == "numpy" or library(f) is not None]


# -- inputs -------------------------------------------------------------------------------------
def _f32(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32)


def inputs_w1(rng):
    return {"x": _f32(rng.standard_normal(16))}


def inputs_w2(rng):
    sizes = (784, 256, 256, 10)
    out = {"X": _f32(rng.standard_normal((64, 784)))}
    out["Y"] = _f32(np.eye(10)[rng.integers(0, 10, 64)])          # one-hot targets
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        out[f"W{i}"] = _f32(rng.standard_normal((fan_in, fan_out)) * math.sqrt(2.0 / fan_in))
        out[f"b{i}"] = _f32(rng.standard_normal(fan_out) * 0.01)
    return out


def inputs_w3(rng):
    return {"x": _f32(rng.standard_normal(2_000_000))}


def inputs_w4(rng):
    return {"x": _f32(rng.uniform(0.5, 1.5, 1))}


def inputs_w5(rng):
    return {"A": _f32(rng.standard_normal((512, 512))),
            "B": _f32(rng.standard_normal((512, 512)))}


# -- the NumPy floor: hand-written forward and backward, no graph ------------------------------
# Each returns (loss, [gradients]) and is written so that it also runs in float64,
# which is how `check_floor` validates it against finite differences.
def floor_w1(x):
    c1, c2 = x.dtype.type(1.0001), x.dtype.type(0.001)
    y = x
    saved = []
    for _ in range(W1_STEPS):
        y = np.tanh(y * c1 + c2)
        saved.append(y)
    loss = y.sum()
    g = np.ones_like(y)
    for y in reversed(saved):
        g = g * (1 - y * y)        # tanh' = 1 - tanh^2
        g = g * c1
    return loss, [g]


def floor_w2(X, Y, W1, b1, W2, b2, W3, b3):
    h1p = X @ W1 + b1
    h1 = np.maximum(h1p, 0)
    h2p = h1 @ W2 + b2
    h2 = np.maximum(h2p, 0)
    logits = h2 @ W3 + b3
    d = logits - Y
    loss = (d * d).mean()
    gd = d * (2 / d.size)
    gW3, gb3 = h2.T @ gd, gd.sum(0)
    gh2p = (gd @ W3.T) * (h2p > 0)
    gW2, gb2 = h1.T @ gh2p, gh2p.sum(0)
    gh1p = (gh2p @ W2.T) * (h1p > 0)
    gW1, gb1 = X.T @ gh1p, gh1p.sum(0)
    return loss, [gW1, gb1, gW2, gb2, gW3, gb3]


def floor_w3(x):
    # intermediates are dropped as soon as they are dead, as a careful hand-written
    # version would; a high peak makes the allocator hand memory back to the OS
    # between calls, and the page faults of getting it again would dominate
    a = x * x
    b = a + 1.0
    del a
    c = np.log(b)
    d = c * 0.5
    del c
    e = np.exp(d)
    del d
    loss = e.sum()
    gc = e * 0.5                   # d(sum)/de = 1, d(exp)/dd = e, d(0.5*c)/dc = 0.5
    del e
    gb = gc / b                    # d(log b)/db = 1/b
    del gc, b
    gx = gb * (x * 2)              # d(x*x)/dx = 2x
    return loss, [gx]


def floor_w4(x):
    c = x.dtype.type(1.0001)
    y = x
    for _ in range(W4_STEPS):
        y = y * c
    loss = y.sum()
    g = np.ones_like(y)
    for _ in range(W4_STEPS):
        g = g * c
    return loss, [g]


def floor_w5(A, B):
    C = A @ B
    loss = C.sum()
    G = np.ones_like(C)
    return loss, [G @ B.T, A.T @ G]


# -- the autograd version, run with lib = plugrad or lib = torch --------------------------------
def autograd_w1(lib, inp):
    x = lib.tensor(inp["x"], requires_grad=True)

    def run():
        x.grad = None
        y = x
        for _ in range(W1_STEPS):
            y = (y * 1.0001 + 0.001).tanh()
        y.sum().backward()
        return [x.grad]
    return run


def autograd_w2(lib, inp):
    X, Y = lib.tensor(inp["X"]), lib.tensor(inp["Y"])
    params = [lib.tensor(inp[k], requires_grad=True) for k in ("W1", "b1", "W2", "b2", "W3", "b3")]

    def run():
        for p in params:
            p.grad = None
        W1, b1, W2, b2, W3, b3 = params
        h = (X @ W1 + b1).relu()
        h = (h @ W2 + b2).relu()
        logits = h @ W3 + b3
        loss = ((logits - Y) ** 2).mean()
        loss.backward()
        return [p.grad for p in params]
    return run


def autograd_w3(lib, inp):
    x = lib.tensor(inp["x"], requires_grad=True)

    def run():
        x.grad = None
        ((x * x + 1.0).log() * 0.5).exp().sum().backward()
        return [x.grad]
    return run


def autograd_w4(lib, inp):
    x = lib.tensor(inp["x"], requires_grad=True)

    def run():
        x.grad = None
        y = x
        for _ in range(W4_STEPS):
            y = y * 1.0001
        y.sum().backward()
        return [x.grad]
    return run


def autograd_w5(lib, inp):
    A = lib.tensor(inp["A"], requires_grad=True)
    B = lib.tensor(inp["B"], requires_grad=True)

    def run():
        A.grad = B.grad = None
        (A @ B).sum().backward()
        return [A.grad, B.grad]
    return run


# -- the table of workloads ----------------------------------------------------------------------
@dataclass(frozen=True)
class Workload:
    key: str                     # "W1"
    title: str
    make_inputs: Callable        # rng -> {name: float32 array}
    floor: Callable              # (*arrays) -> (loss, grads)
    floor_args: tuple            # input names passed to `floor`, in order
    grad_of: tuple               # the inputs the gradients are for, in order
    autograd: Callable           # (lib, inputs) -> run()
    forward_ops: int             # forward ops recorded per call (for per-op figures)

    @property
    def group(self) -> str:
        return f"{self.key} {self.title}"


WORKLOADS = {w.key: w for w in (
    Workload("W1", "tiny-op overhead: (16,), 300 x (y*1.0001+0.001).tanh()", inputs_w1,
             floor_w1, ("x",), ("x",), autograd_w1, 3 * W1_STEPS),
    Workload("W2", "MLP step: 64x784 -> 256 -> 256 -> 10, relu, MSE", inputs_w2,
             floor_w2, ("X", "Y", "W1", "b1", "W2", "b2", "W3", "b3"),
             ("W1", "b1", "W2", "b2", "W3", "b3"), autograd_w2, 14),
    Workload("W3", "large elementwise: 2e6 floats, exp(0.5*log(x*x+1)).sum()", inputs_w3,
             floor_w3, ("x",), ("x",), autograd_w3, 6),
    Workload("W4", "deep chain: (1,), 20000 x (y*1.0001)", inputs_w4,
             floor_w4, ("x",), ("x",), autograd_w4, W4_STEPS + 1),
    Workload("W5", "matmul: 512x512 @ 512x512, sum", inputs_w5,
             floor_w5, ("A", "B"), ("A", "B"), autograd_w5, 2),
)}


def make_inputs(key: str) -> dict:
    """The workload's float32 inputs; the same for every framework and every call."""
    return WORKLOADS[key].make_inputs(np.random.default_rng(SEED))


def build(key: str, framework: str, inputs: dict) -> Callable[[], list]:
    """A callable doing one forward+backward of workload `key`; returns the gradients."""
    w = WORKLOADS[key]
    if framework == "numpy":
        args = tuple(inputs[name] for name in w.floor_args)
        floor = w.floor
        held = [None]

        def run():
            # the gradients live until the next call, as .grad does in plugrad and torch
            held[0] = None
            held[0] = floor(*args)[1]
            return held[0]
        return run
    lib = library(framework)
    if lib is None:
        raise RuntimeError(f"{framework} is not importable here")
    kind, backend = split_framework(framework)
    if kind == "plugrad" and backend is not None:
        # tensors made while building live on `backend`; every op follows its inputs there
        with lib.backends.default_backend(backend):
            return w.autograd(lib, inputs)
    return w.autograd(lib, inputs)


def peak_bytes(run: Callable[[], list]) -> int | None:
    """Bytes allocated at the peak of one call of `run`, over what was held before it.

    tracemalloc sees NumPy's data buffers (NumPy reports them to it) and Python's
    objects, so this works for the floor and for plugrad on NumPy; torch's allocator
    and a GPU's memory are invisible to it (`traces_memory`). The call before the measured one
    leaves its gradients held, as in a training loop; freeing them is not counted.
    """
    run()
    gc.collect()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        run()
        return max(0, tracemalloc.get_traced_memory()[1] - before)
    finally:
        if not was_tracing:
            tracemalloc.stop()


def grads_to_numpy(grads) -> list[np.ndarray]:
    out = []
    for g in grads:
        if g is None:
            out.append(None)
        elif isinstance(g, np.ndarray):
            out.append(g)
        else:
            out.append(np.asarray(g.detach().numpy()))
    return out


# -- correctness -----------------------------------------------------------------------------------
def floor_gradients(key: str, inputs: dict) -> list[np.ndarray]:
    w = WORKLOADS[key]
    return w.floor(*(inputs[name] for name in w.floor_args))[1]


def check_against_floor(key: str, framework: str, grads, expected: list[np.ndarray]) -> None:
    """Raise AssertionError unless `grads` match the NumPy floor's at float32 tolerances."""
    got = grads_to_numpy(grads)
    names = WORKLOADS[key].grad_of
    assert len(got) == len(expected), (
        f"{key}/{framework}: {len(got)} gradients, expected {len(expected)}")
    for name, g, e in zip(names, got, expected):
        where = f"{key}/{framework}: gradient of {name}"
        assert g is not None, f"{where} is None"
        assert g.dtype == np.float32, f"{where} is {g.dtype}, not float32"
        assert g.shape == e.shape, f"{where} has shape {g.shape}, expected {e.shape}"
        scale = float(np.max(np.abs(e))) if e.size else 0.0
        np.testing.assert_allclose(g, e, rtol=RTOL, atol=ATOL_OF_MAX * scale, err_msg=where)


def check_floor(key: str, inputs: dict, seed: int = 1) -> None:
    """Validate the hand-written backward: in float64, <grad, v> must match a central
    finite difference of the loss along a random direction v."""
    w = WORKLOADS[key]
    rng = np.random.default_rng(seed)
    args64 = {k: v.astype(np.float64) for k, v in inputs.items()}
    _, grads = w.floor(*(args64[n] for n in w.floor_args))
    directions = {n: rng.standard_normal(args64[n].shape) for n in w.grad_of}
    analytic = sum(float(np.sum(g * directions[n])) for n, g in zip(w.grad_of, grads))
    scale = max(math.sqrt(sum(float(np.sum(a * a)) for a in (args64[n] for n in w.grad_of))), 1.0)
    eps = 1e-6 * scale / math.sqrt(sum(d.size for d in directions.values()))

    def loss_at(sign):
        moved = dict(args64)
        for n, d in directions.items():
            moved[n] = args64[n] + sign * eps * d
        return float(w.floor(*(moved[n] for n in w.floor_args))[0])

    numeric = (loss_at(1) - loss_at(-1)) / (2 * eps)
    assert math.isclose(analytic, numeric, rel_tol=1e-5, abs_tol=1e-7 * max(1.0, abs(numeric))), (
        f"{key}: the NumPy floor's gradient is wrong: <grad, v> = {analytic!r} but the "
        f"finite difference is {numeric!r}")


def traces_memory(framework: str) -> bool:
    """Whether `peak_bytes` sees this framework's arrays (NumPy-backed ones only)."""
    kind, backend = split_framework(framework)
    return kind == "numpy" or (kind == "plugrad" and (backend or "numpy") == "numpy")


def series_label(framework: str) -> str:
    """How a framework is named on the dashboard: 'numpy floor', 'plugrad · cupy', 'torch'."""
    kind, backend = split_framework(framework)
    if kind == "numpy":
        return "numpy floor"
    if kind == "plugrad":
        return f"plugrad · {backend or 'default'}"
    return kind


def describe(benchmark, key: str, framework: str, kind: str = "workload", **extra) -> None:
    """Label a pytest-benchmark result so that the dashboard can place it.

    extra_info gets kind (workload, long, op-forward, op-backward, import),
    key (W1, or the op's name), framework (numpy, plugrad, torch), backend
    (plugrad's backend; None for the others) and series (the legend label).
    """
    fw, backend = split_framework(framework)
    if fw == "plugrad" and backend is None:
        backend = load_plugrad().backends.default().name
    series = extra.pop("series", None) or series_label(f"plugrad-{backend}" if backend else fw)
    benchmark.extra_info.update(kind=kind, key=key, framework=fw, backend=backend,
                                series=series, **extra)


# -- W4's long variant: a 1,000,000-op chain, run once in a fresh process for memory -----------
W4_LONG_STEPS = 1_000_000
W4_LONG_FACTOR = 1.000001   # 1.0001 ** 1e6 overflows float32; this one's power is about e


def long_chain(framework: str, steps: int = W4_LONG_STEPS) -> dict:
    """One forward+backward of `steps` multiplications; times and peak memory (this process).

    Meant for a fresh interpreter (`python bench_workloads.py long-chain FRAMEWORK`):
    ru_maxrss is the process's high-water mark, so its growth over the call is the
    memory the graph (and the floor's arrays) needed. The gradient is checked against
    the floor's float32 product and against factor ** steps.
    """
    import resource
    import time

    x0 = make_inputs("W4")["x"]
    c32 = np.float32(W4_LONG_FACTOR)
    kind, backend = split_framework(framework)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    if kind == "numpy":
        y = x0
        for _ in range(steps):
            y = y * c32
        t1 = time.perf_counter()
        g = np.ones_like(y)
        for _ in range(steps):
            g = g * c32
        grad = g
    else:
        lib = library(framework)
        if lib is None:
            raise RuntimeError(f"{framework} is not importable here")
        if backend is not None:
            x = lib.tensor(x0, requires_grad=True, backend=backend)
        else:
            x = lib.tensor(x0, requires_grad=True)
        y = x
        for _ in range(steps):
            y = y * W4_LONG_FACTOR
        t1 = time.perf_counter()
        y.sum().backward()
        grad = grads_to_numpy([x.grad])[0]
    t2 = time.perf_counter()
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    expected = np.float32(float(c32) ** steps)
    assert grad.dtype == np.float32 and grad.shape == x0.shape, (grad.dtype, grad.shape)
    np.testing.assert_allclose(grad, np.full_like(grad, expected), rtol=1e-2,
                               err_msg=f"long chain/{framework}")
    scale = 1024 if os.uname().sysname != "Darwin" else 1   # Linux reports KiB, macOS bytes
    return {"framework": framework, "steps": steps, "forward_s": t1 - t0,
            "backward_s": t2 - t1, "total_s": t2 - t0, "grad": float(grad[0]),
            "peak_rss_growth_bytes": (rss1 - rss0) * scale}


if __name__ == "__main__":  # python bench_workloads.py long-chain FRAMEWORK [STEPS]
    import json
    import sys

    if len(sys.argv) < 3 or sys.argv[1] != "long-chain":
        sys.exit("usage: python bench_workloads.py long-chain FRAMEWORK [STEPS]")
    if len(sys.argv) > 3:
        steps_arg = int(sys.argv[3])
    else:
        steps_arg = W4_LONG_STEPS
    print(json.dumps(long_chain(sys.argv[2], steps_arg)))
