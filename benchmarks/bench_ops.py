"""Per-op micro-benchmarks and import-time cases, shared by the pytest suite and the dashboard.

Per op, forward and backward are timed separately, so a slower workload can be
traced to the op (and the direction) that got slower. The ops are a curated
list of entries of the conformance op table (`plugrad.conformance.op_table`):
every name below must be an entry there, so the list cannot drift away from
the ops plugrad has. Each op runs on float32 inputs of 128x128 (16,384
elements): large enough that the kernel counts, small enough that plugrad's
per-op cost shows too.

The expressions are Python with the inputs named x, y and the module named
``lib``; plugrad and torch run the same text (plugrad's API is torch's).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import bench_workloads as bw
import numpy as np

N = 128


@dataclass(frozen=True)
class OpCase:
    name: str            # the op table entry it exercises
    expr: str            # evaluated with x, y (tensors needing grad), m (a bool mask), lib
    inputs: str = "x"    # which of x, y the expression uses
    positive: bool = False  # inputs in [0.5, 2] (log, sqrt, pow, div)


OP_CASES = (
    OpCase("neg", "-x"),
    OpCase("abs", "x.abs()"),
    OpCase("exp", "x.exp()"),
    OpCase("log", "x.log()", positive=True),
    OpCase("sqrt", "x.sqrt()", positive=True),
    OpCase("sin", "x.sin()"),
    OpCase("tanh", "x.tanh()"),
    OpCase("sigmoid", "x.sigmoid()"),
    OpCase("relu", "x.relu()"),
    OpCase("square", "x.square()"),
    OpCase("add", "x + y", "xy"),
    OpCase("add_number", "x + 1.5"),
    OpCase("sub", "x - y", "xy"),
    OpCase("mul", "x * y", "xy"),
    OpCase("mul_number", "x * 1.5"),
    OpCase("div", "x / y", "xy", positive=True),
    OpCase("pow", "x ** y", "xy", positive=True),
    OpCase("pow_number", "x ** 3"),
    OpCase("maximum", "lib.maximum(x, y)", "xy"),
    OpCase("clamp", "x.clamp(-0.5, 0.5)"),
    OpCase("where", "lib.where(m, x, y)", "xy"),
    OpCase("sum", "x.sum()"),
    OpCase("mean", "x.mean(1)"),
    OpCase("max", "x.max(1).values"),
    OpCase("var", "x.var(1)"),
    OpCase("logsumexp", "x.logsumexp(1)"),
    OpCase("softmax", "x.softmax(1)"),
    OpCase("log_softmax", "x.log_softmax(1)"),
    OpCase("reshape", "x.reshape(64, 256)"),
    OpCase("transpose", "x.transpose(0, 1)"),
    OpCase("expand", "x[:1].expand(128, 128)"),
    OpCase("cat", "lib.cat([x, y], 0)", "xy"),
    OpCase("getitem", "x[::2, 1:]"),
    OpCase("matmul", "x @ y", "xy"),
    # added with issue 16 (one per kind: a kernel op, a composed one, a scan, a sort, indexing)
    OpCase("floor", "x.floor()"),
    OpCase("erf", "x.erf()"),
    OpCase("atan2", "lib.atan2(x, y)", "xy"),
    OpCase("lerp", "lib.lerp(x, y, 0.3)", "xy"),
    OpCase("cumsum", "x.cumsum(1)"),
    OpCase("sort", "x.sort(1).values"),
    OpCase("topk", "x.topk(2, 1).values"),
    OpCase("norm", "x.norm()"),
    OpCase("triangles_and_diagonals", "x.tril()"),
    OpCase("gather_scatter_select", "x.gather(1, (x > 0).long())"),
    OpCase("addmm_family", "lib.addmm(x, x, y)", "xy"),
    OpCase("einsum", "lib.einsum('ij,jk->ik', x, y)", "xy"),
    # plugrad.linalg: one forward kernel each (inv, slogdet, solve), backward of tensor ops
    OpCase("linalg_inv", "lib.linalg.inv(x)"),
    OpCase("linalg_slogdet", "lib.linalg.slogdet(x).logabsdet"),  # det overflows at 128x128
    OpCase("linalg_solve", "lib.linalg.solve(x, y)", "xy"),
)
OPS_BY_NAME = {c.name: c for c in OP_CASES}


def make_op_inputs(case: OpCase) -> dict:
    rng = np.random.default_rng(bw.SEED)
    lo, hi = (0.5, 2.0) if case.positive else (-2.0, 2.0)
    out = {v: rng.uniform(lo, hi, (N, N)).astype(np.float32) for v in case.inputs}
    out["m"] = rng.random((N, N)) < 0.5
    return out


def op_runners(case: OpCase, framework: str) -> tuple[Callable, Callable, Callable]:
    """(forward, setup, backward) for one op on `framework` (plugrad-NAME or torch).

    forward() records the op (inputs need grad) and returns its output.
    setup() runs a fresh forward and clears the inputs' gradients; backward() then
    runs the backward of that output only (with a fixed random gradient) and returns
    the input gradients. pytest-benchmark's pedantic mode calls setup before each
    backward, so backward is timed on its own.
    """
    lib = bw.library(framework)
    if lib is None:
        raise RuntimeError(f"{framework} is not importable here")
    kind, backend = bw.split_framework(framework)
    raw = make_op_inputs(case)
    extra = {"backend": backend} if kind == "plugrad" and backend else {}
    env = {"lib": lib, "m": lib.tensor(raw["m"], **extra)}
    leaves = [lib.tensor(raw[v], requires_grad=True, **extra) for v in case.inputs]
    env.update(zip(case.inputs, leaves))
    code = compile(case.expr, f"<op {case.name}>", "eval")
    state: dict = {}

    def forward():
        return eval(code, env)   # noqa: S307 - our own fixed expressions

    def setup():
        for t in leaves:
            t.grad = None
        out = forward()
        if "g" not in state:  # a fixed upstream gradient (ones would be degenerate for softmax)
            shape = tuple(out.shape)
            upstream = np.random.default_rng(bw.SEED + 1).uniform(0.5, 1.5, shape)
            state["g"] = lib.tensor(upstream.astype(np.float32), **extra)
        state["out"] = out

    def backward():
        state["out"].backward(state["g"])
        return [t.grad for t in leaves]

    return forward, setup, backward


def check_op(case: OpCase, framework: str, grads) -> None:
    """The op's gradients agree with torch's when torch is here (else: finite, right shape)."""
    got = bw.grads_to_numpy(grads)
    raw = make_op_inputs(case)
    for v, g in zip(case.inputs, got):
        assert g is not None and g.shape == raw[v].shape, f"{case.name}/{framework}: d{v}"
        assert np.isfinite(g).all(), f"{case.name}/{framework}: d{v} not finite"
    if framework == "torch" or bw.load_torch() is None:
        return
    _, setup, backward = op_runners(case, "torch")
    setup()
    want = bw.grads_to_numpy(backward())
    for v, g, e in zip(case.inputs, got, want):
        scale = float(np.max(np.abs(e))) or 1.0
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5 * scale,
                                   err_msg=f"{case.name}/{framework}: gradient of {v}")


# -- import time --------------------------------------------------------------------------------
def import_cases() -> dict:
    """name -> (setup statement, timed statement), each run in a fresh interpreter.

    `plugrad backend NAME, first use` times the first tensor on backend NAME after
    `import plugrad`: finding the plugins (entry points, pluggy), importing the
    plugin and its array library, creating the backend.
    """
    cases = {"import plugrad": ("pass", "import plugrad")}
    for name in bw.bench_backends():
        cases[f"plugrad backend {name}, first use"] = (
            "import plugrad", f"plugrad.zeros(1, backend={name!r})")
    cases["import numpy"] = ("pass", "import numpy")
    cases["import torch"] = ("pass", "import torch")
    return cases


IMPORT_CHILD = ("import time\n{setup}\nt = time.perf_counter()\n{stmt}\n"
                "print(repr(time.perf_counter() - t))")
