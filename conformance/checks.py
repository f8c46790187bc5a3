"""Checking one sample of the op table on a backend: forward, gradient, second derivative.

`check_sample(op, sample, dtype, backend)` raises `CheckFailure` (an
AssertionError) naming the stage that failed, with a Python snippet that
reproduces the call (`failure.repro`), or `Unsupported` when the backend
raised NotImplementedError. The backend's results are read back with
`Tensor.numpy()` after `detach()`; the reference values are NumPy's, in float64.

Tolerances, relative and absolute (values are of order 1):

* forward: float64 1e-9, float32 2e-5, float16 2e-3;
* gradient against central differences (step 1e-6) of the float64 reference:
  float64 1e-5, float32 1e-3;
* second derivative against central differences (step 1e-5) of the backend's
  own float64 gradient: 1e-4.
"""
from __future__ import annotations

import zlib

import numpy as np

__all__ = ["CheckFailure", "Unsupported", "check_sample", "repro", "stages_of", "STAGES",
           "FWD_TOL", "GRAD_TOL"]

# the stages a sample is checked in, in order: a case stops at the first that fails
STAGES = ("forward", "gradient", "second derivative")

FWD_TOL = {"float16": 2e-3, "float32": 2e-5, "float64": 1e-9}
GRAD_TOL = {"float32": 1e-3, "float64": 1e-5}
GRADGRAD_TOL = 1e-4
EPS = 1e-6
EPS2 = 1e-5
_NP = {"float16": np.float16, "float32": np.float32, "float64": np.float64}


class CheckFailure(AssertionError):
    """A sample that does not conform; `stage` is forward, gradient or second derivative."""

    def __init__(self, stage: str, message: str, repro: str = "", error=None) -> None:
        self.stage = stage
        self.repro = repro
        self.error = error      # the exception the backend raised, if one did
        text = f"{stage}: {message}"
        if repro:
            text += "\nreproduce with:\n" + _indent(repro)
        super().__init__(text)


class Unsupported(CheckFailure):
    """The backend raised NotImplementedError: it lacks a kernel this op needs."""


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip().split("\n"))


# -- building the inputs -------------------------------------------------------------------
def _pg_dtype(pg, name):
    return getattr(pg, name)


def _const_dtype(array) -> str:
    if array.dtype == np.bool_:
        return "bool"
    if np.issubdtype(array.dtype, np.integer):
        return "int64"
    return str(array.dtype)


def _make(pg, values: np.ndarray, dtype: str, requires_grad: bool, noncontig: bool,
          backend=None):
    """A tensor with `values` (default backend unless given); strided when noncontig."""
    d = _pg_dtype(pg, dtype)
    if noncontig and values.ndim >= 1 and values.size:
        base = np.zeros(values.shape[:-1] + (2 * values.shape[-1],), dtype=values.dtype)
        base[..., ::2] = values
        leaf = pg.tensor(base.tolist(), dtype=d, requires_grad=requires_grad, backend=backend)
        return leaf[..., ::2]
    if values.size == 0:
        return pg.zeros(values.shape, dtype=d, requires_grad=requires_grad, backend=backend)
    return pg.tensor(values.tolist(), dtype=d, requires_grad=requires_grad, backend=backend)


def _literal(values: np.ndarray) -> str:
    return repr(values.tolist())


def _tensor_code(name, values, dtype, requires_grad, noncontig) -> str:
    rg = ", requires_grad=True" if requires_grad else ""
    if noncontig and values.ndim >= 1 and values.size:
        base = np.zeros(values.shape[:-1] + (2 * values.shape[-1],), dtype=values.dtype)
        base[..., ::2] = values
        return f"{name} = pg.tensor({_literal(base)}, dtype=pg.{dtype}{rg})[..., ::2]"
    if values.size == 0:
        return f"{name} = pg.zeros({tuple(values.shape)}, dtype=pg.{dtype}{rg})"
    return f"{name} = pg.tensor({_literal(values)}, dtype=pg.{dtype}{rg})"


def repro(op, sample, dtype: str, backend_code: str, stage: str = "forward",
          cotangents=None) -> str:
    """Python code that rebuilds the sample's inputs and runs the call on the backend.

    For a failure of the gradient stage (`cotangents`: [(values, dtype)] per output) it
    also computes the vector-Jacobian product; for one of the second-derivative stage
    (`cotangents`: (v vectors, w vectors)) the gradient of <grad(<out, v>), w>.
    """
    values = [np.asarray(a, dtype=np.float64).astype(_NP[dtype]) for a in sample.inputs]
    diff = op.differentiable and sample.grad
    lines = ["import plugrad as pg", backend_code]
    if "bk" in sample.call:
        lines.append("bk = pg.backends.default()")
    for name, v in zip("xyz", values):
        lines.append(_tensor_code(name, v, dtype, diff, sample.noncontig))
    for name, c in sample.consts.items():
        c = np.asarray(c)
        lines.append(_tensor_code(name, c, _const_dtype(c), False, False))
    if sample.kw:
        lines.append(f"kw = {sample.kw!r}")
    lines.append(f"out = {sample.call}")
    lines.append("print(out)")
    names = ", ".join("xyz"[:len(values)])
    outs = ("outs = [o for o in (out if isinstance(out, (tuple, list)) else [out])\n"
            "        if o.dtype.is_floating_point and o.requires_grad]")
    if stage == "gradient" and cotangents is not None:
        vs = ", ".join(f"pg.tensor({_literal(np.asarray(v))}, dtype=pg.{dt})"
                       for v, dt in cotangents)
        lines += ["# the gradient stage: the vector-Jacobian product for the cotangents v",
                  outs, f"v = [{vs}]",
                  f"print(pg.autograd.grad(outs, [{names}], v, allow_unused=True))"]
    elif stage == "second derivative" and cotangents is not None:
        vs, ws = cotangents
        v_code = ", ".join(f"pg.tensor({_literal(np.asarray(v))}, dtype=pg.float64)"
                           for v in vs)
        w_code = ", ".join(f"pg.tensor({_literal(np.asarray(w))}, dtype=pg.float64)"
                           for w in ws)
        lines += ["# the second-derivative stage: differentiate <grad(<out, v>), w> again",
                  outs, f"v = [{v_code}]", f"w = [{w_code}]",
                  f"grads = pg.autograd.grad(outs, [{names}], v, create_graph=True, "
                  f"allow_unused=True)",
                  "total = sum((g * wi).sum() for g, wi in zip(grads, w) if g is not None)",
                  "if isinstance(total, pg.Tensor) and total.requires_grad:",
                  f"    print(pg.autograd.grad(total, [{names}], allow_unused=True))",
                  "else:  # what the check then takes as the second derivative",
                  "    print('the gradient is not differentiable again: second derivative 0')"]
    return "\n".join(lines)


# -- outputs -------------------------------------------------------------------------------
def _outputs(out) -> list:
    if isinstance(out, (tuple, list)):
        return list(out)
    return [out]


def _ref_outputs(ref) -> list:
    if isinstance(ref, (tuple, list)):
        return [np.asarray(r) for r in ref]
    return [np.asarray(ref)]


def _host(t) -> np.ndarray:
    return np.asarray(t.detach().numpy())


def _expected_dtype(ref: np.ndarray, dtype: str, sample) -> str:
    if ref.dtype == np.bool_:
        return "bool"
    if ref.dtype == np.int32:
        return "int32"
    if np.issubdtype(ref.dtype, np.integer):
        return "int64"
    return sample.out_dtype or dtype


def _compare(got: np.ndarray, want: np.ndarray, rtol: float, atol: float) -> str | None:
    """None when close; else where and by how much they differ."""
    if got.shape != want.shape:
        return f"shape {list(got.shape)}, expected {list(want.shape)}"
    if want.dtype == np.bool_ or np.issubdtype(want.dtype, np.integer):
        bad = got != want
    else:
        g = got.astype(np.float64)
        w = want.astype(np.float64)
        both_nan = np.isnan(g) & np.isnan(w)
        bad = ~both_nan & ~(np.abs(g - w) <= atol + rtol * np.abs(w))
        bad |= np.isinf(w) & (g != w)
    if not bad.any():
        return None
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    count = int(bad.sum())
    return (f"{count} of {bad.size} elements differ; first at index {list(idx)}: got "
            f"{got[idx].item()!r}, expected {want[idx].item()!r}")


# -- the checks ----------------------------------------------------------------------------
def _call(pg, op, sample, tensors: list, consts: dict):
    namespace = {"pg": pg, "kw": dict(sample.kw), "bk": pg.backends.default()}
    namespace.update(zip("xyz", tensors))
    namespace.update(consts)
    return eval(compile(sample.call, f"<{op.name}: {sample.call}>", "eval"), namespace)


def _reference(op, sample, arrays: list) -> list:
    ref = sample.ref or op.ref
    consts = {k: np.asarray(v) for k, v in sample.consts.items()}
    with np.errstate(all="ignore"):
        return _ref_outputs(ref(*arrays, **consts, **sample.kw))


def stages_of(op, sample, dtype: str) -> tuple:
    """The stages `check_sample` checks for this sample in this dtype."""
    if not (op.differentiable and sample.grad and dtype in GRAD_TOL):
        return STAGES[:1]
    if dtype == "float64" and op.twice and sample.twice:
        return STAGES
    return STAGES[:2]


def check_sample(op, sample, dtype: str, backend_code: str = "") -> None:
    """Run one sample in one dtype on the current default backend; raise on any mismatch."""
    import plugrad as pg
    values = [np.asarray(a, dtype=np.float64).astype(_NP[dtype]) for a in sample.inputs]
    arrays64 = [v.astype(np.float64) for v in values]
    diff = op.differentiable and sample.grad and dtype in GRAD_TOL
    rtol = op.fwd_rtol.get(dtype, FWD_TOL[dtype])

    def fail(stage, message, cotangents=None, cls=CheckFailure, error=None):
        raise cls(stage, message, repro(op, sample, dtype, backend_code, stage, cotangents),
                  error)

    consts = {}
    try:
        tensors = [_make(pg, v, dtype, diff, sample.noncontig) for v in values]
        for name, c in sample.consts.items():
            c = np.asarray(c)
            consts[name] = _make(pg, c, _const_dtype(c), False, False)
        out = _call(pg, op, sample, tensors, consts)
    except NotImplementedError as err:
        fail("forward", f"the backend does not implement something {sample.call} needs: "
                        f"NotImplementedError: {err}", cls=Unsupported, error=err)
    except Exception as err:
        fail("forward", f"{sample.call} raised {type(err).__name__}: {err}")
    outs = _outputs(out)
    wants = _reference(op, sample, arrays64)
    if len(outs) != len(wants):
        fail("forward", f"{len(outs)} outputs, expected {len(wants)}")
    for k, (t, want) in enumerate(zip(outs, wants)):
        label = f"output {k}" if len(outs) > 1 else "the output"
        if not isinstance(t, pg.Tensor):
            fail("forward", f"{label} is a {type(t).__name__}, not a Tensor")
        expected_dtype = _expected_dtype(want, dtype, sample)
        if t.dtype is not getattr(pg, expected_dtype):
            fail("forward", f"{label} has dtype {t.dtype.name}, expected {expected_dtype}")
        if tuple(t.shape) != want.shape:
            fail("forward", f"{label} has shape {list(t.shape)}, expected {list(want.shape)}")
        try:
            got = _host(t)
        except NotImplementedError as err:
            fail("forward", f"reading the result back: NotImplementedError: {err}",
                 cls=Unsupported, error=err)
        if tuple(got.shape) != tuple(t.shape):
            fail("forward", f"{label}: numpy() has shape {list(got.shape)} but the tensor "
                            f"says {list(t.shape)}")
        tol = FWD_TOL[expected_dtype] if expected_dtype in FWD_TOL else 0.0
        problem = _compare(got, want, max(rtol, tol), max(rtol, tol))
        if problem:
            fail("forward", f"{label} differs from NumPy: {problem}")
    if not diff:
        return
    _check_gradient(pg, op, sample, dtype, tensors, outs, wants, arrays64, fail)
    if dtype == "float64" and op.twice and sample.twice:
        _check_second(pg, op, sample, values, consts, fail)


def _seeded(sample, dtype: str, salt: str):
    return np.random.default_rng(zlib.crc32(f"{sample.desc}:{dtype}:{salt}".encode()))


def _float_outputs(pg, outs):
    return [i for i, t in enumerate(outs) if t.dtype.is_floating_point and t.requires_grad]


def _check_gradient(pg, op, sample, dtype, tensors, outs, wants, arrays64, fail):
    chosen = _float_outputs(pg, outs)
    if not chosen:
        if any(o.dtype.is_floating_point for o in outs) and tensors:
            fail("gradient", "the output does not require grad although its inputs do")
        return
    rng = _seeded(sample, dtype, "v")
    cot = [rng.standard_normal(wants[i].shape) for i in chosen]
    cot_t = []
    for i, v in zip(chosen, cot):
        d = outs[i].dtype.name
        cot_t.append(_make(pg, v.astype(_NP.get(d, np.float64)), d, False, False,
                           outs[i].backend))
    cot_info = [(v.astype(_NP.get(outs[i].dtype.name, np.float64)), outs[i].dtype.name)
                for i, v in zip(chosen, cot)]
    try:
        grads = pg.autograd.grad([outs[i] for i in chosen], tensors, cot_t, allow_unused=True)
    except NotImplementedError as err:
        fail("gradient", f"NotImplementedError: {err}", cot_info, Unsupported, err)
    except Exception as err:
        fail("gradient", f"autograd.grad raised {type(err).__name__}: {err}", cot_info)
    expected = _numeric_gradient(op, sample, arrays64, chosen, cot)
    rtol = op.grad_rtol.get(dtype, GRAD_TOL[dtype])
    for k, (t, g, want) in enumerate(zip(tensors, grads, expected)):
        name = "xyz"[k]
        if g is None:
            got = np.zeros(want.shape)
        else:
            if g.dtype is not t.dtype:
                fail("gradient", f"the gradient of {name} has dtype {g.dtype.name}, expected "
                                 f"{t.dtype.name}", cot_info)
            if tuple(g.shape) != tuple(t.shape):
                fail("gradient", f"the gradient of {name} has shape {list(g.shape)}, "
                                 f"expected {list(t.shape)}", cot_info)
            got = _host(g)
        problem = _compare(got.astype(np.float64), want, rtol, rtol)
        if problem:
            fail("gradient", f"the gradient of {name} differs from finite differences: "
                             f"{problem}", cot_info)


def _central_differences(f, arrays: list, eps: float):
    """The gradient of the scalar function f(arrays) with respect to each array, in turn
    (a generator: a check that fails on one input does not pay for the next)."""
    for k, base in enumerate(arrays):
        g = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            moved = [a.copy() for a in arrays]
            moved[k][idx] += eps
            up = f(moved)
            moved[k][idx] -= 2 * eps
            g[idx] = (up - f(moved)) / (2 * eps)
        yield g


def _numeric_gradient(op, sample, arrays64, chosen, cot) -> list:
    """d/d(input) of sum_k <reference output_k, cotangent_k>, by central differences."""
    def loss(arrays):
        outs = _reference(op, sample, arrays)
        return sum(float(np.sum(outs[i].astype(np.float64) * v)) for i, v in zip(chosen, cot))

    return list(_central_differences(loss, arrays64, EPS))


def _check_second(pg, op, sample, values, consts, fail):
    """Differentiate <grad(<out, v>), w> again and compare with finite differences of it."""
    rng = _seeded(sample, "float64", "vw")
    state = {}

    def first(arrays, create_graph):
        tensors = [_make(pg, a, "float64", True, sample.noncontig) for a in arrays]
        outs = _outputs(_call(pg, op, sample, tensors, consts))
        chosen = _float_outputs(pg, outs)
        if "v" not in state:
            state["v"] = [rng.standard_normal(tuple(outs[i].shape)) for i in chosen]
            state["w"] = [rng.standard_normal(a.shape) for a in arrays]
        vs = [_make(pg, v, "float64", False, False, outs[i].backend)
              for i, v in zip(chosen, state["v"])]
        grads = pg.autograd.grad([outs[i] for i in chosen], tensors, vs,
                                 create_graph=create_graph, allow_unused=True)
        total = None
        for g, w in zip(grads, state["w"]):
            if g is None:
                continue
            term = (g * _make(pg, w, "float64", False, False, g.backend)).sum()
            total = term if total is None else total + term
        return tensors, total

    def vectors():  # v and w, for the reproducer (None if the failure came before them)
        return (state["v"], state["w"]) if "v" in state else None

    arrays = [v.astype(np.float64) for v in values]
    try:
        tensors, total = first(arrays, True)
        if total is None or not total.requires_grad:
            analytic = [np.zeros(a.shape) for a in arrays]
        else:
            seconds = pg.autograd.grad(total, tensors, allow_unused=True)
            analytic = [np.zeros(a.shape) if s is None else _host(s)
                        for a, s in zip(arrays, seconds)]
    except NotImplementedError as err:
        fail("second derivative", f"NotImplementedError: {err}", vectors(), Unsupported, err)
    except Exception as err:
        fail("second derivative", f"differentiating the gradient raised "
                                  f"{type(err).__name__}: {err}", vectors())

    def value(arrs):
        _, t = first(arrs, False)
        return 0.0 if t is None else float(t.item())

    for k, numeric in enumerate(_central_differences(value, arrays, EPS2)):
        problem = _compare(analytic[k], numeric, GRADGRAD_TOL, GRADGRAD_TOL)
        if problem:
            fail("second derivative", f"d/d{'xyz'[k]} of <grad, w> differs from finite "
                                      f"differences of the gradient: {problem}", vectors())
