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
_POSITIVE = {"log10", "log1p", "log2", "rsqrt", "reciprocal"}
_KINDS = {"acos": "unit", "asin": "unit", "erfinv": "unit", "logdet": "well", "det": "well",
          "inverse": "well"}
_ENTRIES = {"positive": "pos", "logdet": "linalg_logdet", "det": "linalg_det",
            "inverse": "linalg_inv"}


@dataclass(frozen=True)
class OpCase:
    name: str            # the op (an op table entry unless `entry` names the entry)
    expr: str            # evaluated with x, y (tensors needing grad), m (a bool mask), lib
    inputs: str = "x"    # which of x, y the expression uses
    positive: bool = False  # inputs in [0.5, 2] (log, sqrt, pow, div)
    entry: str | None = None  # the op table entry it exercises when not `name`; "" for none
    grad: bool = True    # False: forward only (integer or bool results, no derivative)
    shape: str = "(N, N)"   # the inputs' shape, a Python expression of N
    shape_y: str = ""    # y's shape when it differs from x's
    kind: str = ""       # "unit": in (-0.9, 0.9); "well": I + small noise;
    #                      "spd": symmetric positive definite; "sym": symmetric
    atol: float = 1e-5   # the gradient check's absolute tolerance, times the largest value

    @property
    def table_entry(self) -> str:
        return self.name if self.entry is None else self.entry


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
    OpCase("reshape", "x.reshape(N // 2, N * 2)"),
    OpCase("transpose", "x.transpose(0, 1)"),
    OpCase("expand", "x[:1].expand(N, N)"),
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
) + tuple(
    # every other op of plugrad.declare.DECLARED that torch has (issue 16: per-op speed)
    [OpCase(n, f"x.{n}()", positive=n in _POSITIVE, kind=_KINDS.get(n, ""),
            entry=_ENTRIES.get(n))
     for n in ("acos", "asin", "atan", "ceil", "cos", "cosh", "erfinv", "expm1", "frac", "log10",
               "log1p", "log2", "reciprocal", "round", "rsqrt", "sign", "sinh", "tan", "trunc",
               "nan_to_num", "clone", "flatten", "std", "amax", "amin",
               "logdet", "det", "inverse")] + [
    OpCase("prod", "x.prod(1)", positive=True),
    OpCase("positive", "+x", entry="pos"),
    OpCase("hypot", "lib.hypot(x, y)", "xy"),
    OpCase("minimum", "lib.minimum(x, y)", "xy"),
    OpCase("fmod", "lib.fmod(x, 1.5)"),
    OpCase("remainder", "lib.remainder(x, 1.5)"),
    OpCase("floor_divide", "lib.floor_divide(x, 1.5)", grad=False),
    OpCase("clamp_min", "x.clamp_min(0.1)"),
    OpCase("clamp_max", "x.clamp_max(0.1)"),
    OpCase("clip", "x.clip(-0.5, 0.5)", entry="clamp"),
    OpCase("true_divide", "lib.true_divide(x, y)", "xy", positive=True, entry="div"),
    OpCase("masked_fill", "x.masked_fill(m, 0.5)", entry="where"),
    OpCase("cumprod", "x.cumprod(1)"),
    OpCase("argsort", "x.argsort(1)", grad=False),
    OpCase("kthvalue", "x.kthvalue(2, 1).values"),
    OpCase("aminmax", "x.aminmax(dim=1).min"),
    OpCase("min", "x.min(1).values"),
    OpCase("argmax", "x.argmax(1)", grad=False),
    OpCase("argmin", "x.argmin(1)", grad=False),
    OpCase("all", "x.all(1)", grad=False),
    OpCase("any", "x.any(1)", grad=False),
    OpCase("count_nonzero", "x.count_nonzero()", grad=False),
    OpCase("nonzero", "x.nonzero()", grad=False),
    OpCase("unique", "x.unique()", grad=False),
    OpCase("unique_consecutive", "x.unique_consecutive()", grad=False),
    OpCase("eq", "x == y", "xy", grad=False),
    OpCase("lt", "x < y", "xy", grad=False),
    OpCase("isfinite", "x.isfinite()", grad=False),
    OpCase("isnan", "x.isnan()", grad=False),
    OpCase("logical_and", "lib.logical_and(x, y)", "xy", grad=False),
    OpCase("logical_not", "lib.logical_not(x)", grad=False),
    OpCase("isclose", "lib.isclose(x, y)", "xy", grad=False, entry="isclose_allclose_equal"),
    OpCase("allclose", "lib.allclose(x, y)", "xy", grad=False, entry="isclose_allclose_equal"),
    OpCase("equal", "lib.equal(x, y)", "xy", grad=False, entry="isclose_allclose_equal"),
    OpCase("to_integer", "x.long()", grad=False),
    OpCase("to", "x.double()"),
    # shape and movement
    OpCase("view", "x.view(-1)"),
    OpCase("squeeze", "x[None].squeeze(0)"),
    OpCase("unsqueeze", "x.unsqueeze(0)"),
    OpCase("permute", "x.permute(1, 0)"),
    OpCase("movedim", "x.movedim(0, 1)"),
    OpCase("swapaxes", "x.swapaxes(0, 1)", entry="movement_more"),
    OpCase("mT", "x.mT", entry="movement_more"),
    OpCase("narrow", "x.narrow(1, 1, 2)"),
    OpCase("stack", "lib.stack([x, y])", "xy"),
    OpCase("split", "x.split(2, 1)[0]"),
    OpCase("chunk", "x.chunk(2, 1)[1]"),
    OpCase("unbind", "x.unbind(0)[1]"),
    OpCase("tensor_split", "x.tensor_split(2, 1)[1]", entry="movement_more"),
    OpCase("unfold", "x.unfold(1, 2, 1)"),
    OpCase("repeat", "x.repeat(2, 1)", entry="movement_more"),
    OpCase("tile", "x.tile((2,))", entry="movement_more"),
    OpCase("broadcast_to", "lib.broadcast_to(x[:1], (N, N))", entry="movement_more"),
    OpCase("flip", "x.flip(0)", entry="movement_more"),
    OpCase("roll", "x.roll(1, 1)", entry="movement_more"),
    OpCase("diff", "x.diff(dim=1)", entry="movement_more"),
    OpCase("repeat_interleave", "x.repeat_interleave(2, 0)", entry="movement_more"),
    OpCase("triu", "x.triu(1)", entry="triangles_and_diagonals"),
    OpCase("diag", "x.diag()", entry="triangles_and_diagonals"),
    OpCase("diagonal", "x.diagonal()", entry="triangles_and_diagonals"),
    OpCase("trace", "x.trace()", entry="triangles_and_diagonals"),
    # indexing (i: a permutation of range(N) per row, j: N//2 indices, m: a bool mask)
    OpCase("gather", "x.gather(1, i)", entry="gather_scatter_select"),
    OpCase("scatter", "x.scatter(1, i, y)", "xy", entry="gather_scatter_select"),
    OpCase("scatter_add", "x.scatter_add(1, i, y)", "xy", entry="gather_scatter_select"),
    OpCase("index_select", "x.index_select(0, j)", entry="gather_scatter_select"),
    OpCase("index_add", "x.index_add(0, j, y[:N // 2])", "xy", entry="gather_scatter_select"),
    OpCase("masked_select", "x.masked_select(m)", entry="gather_scatter_select"),
    OpCase("take", "x.take(j)", entry="gather_scatter_select"),
    # products
    OpCase("mm", "lib.mm(x, y)", "xy"),
    OpCase("bmm", "lib.bmm(x, y)", "xy", shape="(2, N, N)"),
    OpCase("mv", "lib.mv(x, y[0])", "xy", entry="addmm_family"),
    OpCase("addmv", "lib.addmv(x[0], x, y[0])", "xy", entry="addmm_family"),
    OpCase("baddbmm", "lib.baddbmm(x, x, y)", "xy", shape="(2, N, N)", entry="addmm_family"),
    OpCase("dot", "lib.dot(x, y)", "xy", shape="(N * N,)"),
    OpCase("outer", "lib.outer(x, y)", "xy", shape="(N,)", entry="vector_products"),
    OpCase("kron", "lib.kron(x, y)", "xy", shape_y="(2, 2)", entry="vector_products"),
    OpCase("cross", "lib.cross(x, y, dim=1)", "xy", shape="(N, 3)", entry="vector_products"),
    OpCase("tensordot", "lib.tensordot(x, y, dims=1)", "xy", entry="vector_products"),
    # plugrad.linalg
    OpCase("linalg_det", "lib.linalg.det(x)", kind="well"),
    OpCase("linalg_cholesky", "lib.linalg.cholesky(x)", kind="spd"),
    OpCase("linalg_qr", "lib.linalg.qr(x).R"),
    # float32 singular values of a 128x128 matrix: the library's SVD routine (LAPACK, XLA)
    # shows in the last digits of the gradient
    OpCase("linalg_svd", "lib.linalg.svd(x, full_matrices=False).S", atol=1e-4),
    OpCase("linalg_eigh", "lib.linalg.eigh(x).eigenvalues", kind="sym"),
    OpCase("linalg_norm", "lib.linalg.norm(x)"),
    OpCase("linalg_lstsq", "lib.linalg.lstsq(x, y).solution", "xy", kind="well"),
    # nn.functional (no op table entry), on 1 x 2 x N x N
    OpCase("conv2d", "F.conv2d(x, y)", "xy", entry="", shape="(1, 2, N, N)",
           shape_y="(3, 2, 3, 3)"),
    OpCase("max_pool2d", "F.max_pool2d(x, 2)", entry="", shape="(1, 2, N, N)"),
])
OPS_BY_NAME = {c.name: c for c in OP_CASES}


def _input(rng, case: OpCase, shape: tuple) -> np.ndarray:
    lo, hi = (0.5, 2.0) if case.positive else (-0.9, 0.9) if case.kind == "unit" else (-2.0, 2.0)
    a = rng.uniform(lo, hi, shape)
    n = shape[-1]
    if case.kind == "well":   # I + noise small enough that det stays near 1 at any size
        a = np.eye(n) + a * (0.1 / n)
    elif case.kind == "spd":
        a = a @ a.swapaxes(-1, -2) / n + np.eye(n)
    elif case.kind == "sym":
        a = (a + a.swapaxes(-1, -2)) / 2
    return a.astype(np.float32)


def make_op_inputs(case: OpCase) -> dict:
    rng = np.random.default_rng(bw.SEED)
    env = {"N": N}
    shapes = {"x": eval(case.shape, env), "y": eval(case.shape_y or case.shape, env)}  # noqa: S307
    out = {v: _input(rng, case, shapes[v]) for v in case.inputs}
    out["m"] = rng.random((N, N)) < 0.5
    out["i"] = np.argsort(rng.random((N, N)), axis=1)       # a permutation per row
    out["j"] = rng.integers(0, N, N // 2)
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
    env = {"lib": lib, "F": lib.nn.functional, "N": N}
    env.update({k: lib.tensor(raw[k], **extra) for k in "mij"})
    leaves = [lib.tensor(raw[v], requires_grad=True, **extra) for v in case.inputs]
    env.update(zip(case.inputs, leaves))
    code = compile(case.expr, f"<op {case.name}>", "eval")
    state: dict = {}

    def forward():
        return eval(code, env)   # noqa: S307 - our own fixed expressions

    if not case.grad:   # forward only: setup() is a no-op, backward() the op's output
        for t in leaves:
            t.requires_grad_(False)
        return forward, (lambda: None), forward

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


def _to_numpy(value) -> np.ndarray:
    if hasattr(value, "detach"):
        return np.asarray(value.detach().numpy())
    return np.asarray(value)


def check_op(case: OpCase, framework: str, grads) -> None:
    """The op's gradients agree with torch's when torch is here (else: finite, right shape).

    For a forward-only case (`grad=False`), `grads` is the op's output, compared with torch's.
    """
    if not case.grad:
        if framework == "torch" or bw.load_torch() is None:
            return
        want = op_runners(case, "torch")[0]()
        np.testing.assert_allclose(_to_numpy(grads), _to_numpy(want), rtol=1e-5,
                                   err_msg=f"{case.name}/{framework}: forward")
        return
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
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=case.atol * scale,
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
