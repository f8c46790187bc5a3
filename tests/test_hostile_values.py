"""Hostile values against torch: every declared elementwise, reduction, shape and indexing op
(core/pointwise.py, core/reduction.py, core/shape.py, core/indexing.py) that torch also has,
on NaN, +-inf, -0.0, empty tensors ((0,), (2, 0)), 0-d tensors, and int and bool dtypes.

Each op runs with each input on torch and on plugrad; the two must agree on the values (NaN
in the same places, the sign of zeros too), the dtypes and the shapes, or both raise an error
of the same type. Ops that need more than a tensor get their arguments from CALLS. Where
plugrad differs from torch on purpose, KNOWN_DIFFERENCES says why.
"""
from __future__ import annotations

from fnmatch import fnmatch

import numpy as np
import plugrad as pg
import pytest
from plugrad.declare import DECLARED

torch = pytest.importorskip("torch")

NAN, INF = float("nan"), float("inf")
MODULES = ("plugrad.pointwise", "plugrad.reduction", "plugrad.shape", "plugrad.indexing")

# the hostile inputs, as NumPy arrays (each becomes a tensor of its dtype in both libraries)
_FLOATS = [NAN, INF, -INF, -0.0, 0.0, 0.5, -1.0, 2.5]
INPUTS = {
    "float32": np.array(_FLOATS, dtype=np.float32),
    "float64_2x4": np.array(_FLOATS, dtype=np.float64).reshape(2, 4),
    "0d_nan": np.array(NAN, dtype=np.float32),
    "0d_neg_zero": np.array(-0.0, dtype=np.float64),
    "0d_inf": np.array(-INF, dtype=np.float32),
    "empty": np.zeros((0,), dtype=np.float32),
    "empty_2x0": np.zeros((2, 0), dtype=np.float32),
    "int64": np.array([0, -3, 5, 2, -1, 7, 0, 1], dtype=np.int64).reshape(2, 4),
    "int32_0d": np.array(-4, dtype=np.int32),
    "bool": np.array([True, False, False, True], dtype=bool),
    "bool_empty": np.zeros((0, 3), dtype=bool),
}

# name -> the calls to make, Python text with L (the library), x (the hostile tensor) and y (x's
# values in reverse order, x's dtype and shape). Ops not here are called as L.name(x), or as
# x.name() when they are methods only; binary ops (two tensor parameters) as L.name(x, y).
_IDX = "L.zeros_like(x, dtype=L.int64)"
CALLS = {
    "add": ["L.add(x, y)", "L.add(x, y, alpha=2)", "x + 1.5"],
    "sub": ["L.sub(x, y)", "x - 2"],
    "mul": ["L.mul(x, y)", "x * -0.0", "x * 2"],
    "div": ["L.div(x, y)", "x / 0", "L.div(x, y, rounding_mode='floor')",
            "L.div(x, y, rounding_mode='trunc')"],
    "true_divide": ["L.true_divide(x, y)"],
    "pow": ["L.pow(x, y)", "x ** 2", "x ** 0.5", "2 ** x", "x ** 0"],
    "clamp": ["L.clamp(x, -1, 1)", "L.clamp(x, min=0)", "L.clamp(x, max=0.5)"],
    "clip": ["L.clip(x, -1, 1)"],
    "clamp_min": ["L.clamp_min(x, 0)"],
    "clamp_max": ["L.clamp_max(x, 0)"],
    "where": ["L.where(x > 0, x, y)", "L.where(x != x, 0.0, x)"],
    "masked_fill": ["L.masked_fill(x, x == 0, -1)"],
    "fmod": ["L.fmod(x, y)", "L.fmod(x, 2)"],
    "remainder": ["L.remainder(x, y)", "L.remainder(x, 2)"],
    "floor_divide": ["L.floor_divide(x, y)", "L.floor_divide(x, 2)"],
    "lerp": ["L.lerp(x, y, 0.25)"],
    "round": ["L.round(x)", "L.round(x, decimals=1)"],
    "nan_to_num": ["L.nan_to_num(x)", "L.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-2.0)"],
    "type_as": ["x.type_as(L.zeros(1, dtype=L.float64))"],
    "to": ["x.to(L.float64)", "x.to(L.int64)", "x.to(L.bool)"],
    "cpu": [], "cuda": [],  # devices: elsewhere
    "half": [],  # float16 values: elsewhere
    # reductions
    "sum": ["L.sum(x)", "x.sum(0)", "x.sum(-1, keepdim=True)"],
    "mean": ["L.mean(x)", "x.mean(0)", "x.mean(-1, keepdim=True)"],
    "prod": ["L.prod(x)", "x.prod(0)"],
    "max": ["L.max(x)", "x.max(0)", "L.max(x, y)"],
    "min": ["L.min(x)", "x.min(0)", "L.min(x, y)"],
    "amax": ["L.amax(x)", "L.amax(x, 0)"],
    "amin": ["L.amin(x)", "L.amin(x, 0)"],
    "argmax": ["L.argmax(x)", "x.argmax(0)"],
    "argmin": ["L.argmin(x)", "x.argmin(0)"],
    "all": ["L.all(x)", "x.all(0)"],
    "any": ["L.any(x)", "x.any(0)"],
    "var": ["L.var(x)", "x.var(0)", "x.var(0, correction=0)"],
    "std": ["L.std(x)", "x.std(0)"],
    "logsumexp": ["L.logsumexp(x, 0)", "L.logsumexp(x, -1, keepdim=True)"],
    "softmax": ["L.softmax(x, 0)", "L.softmax(x, -1)"],
    "log_softmax": ["L.log_softmax(x, 0)"],
    "count_nonzero": ["L.count_nonzero(x)", "L.count_nonzero(x, 0)"],
    "aminmax": ["L.aminmax(x)", "L.aminmax(x, dim=0)"],
    "cumsum": ["L.cumsum(x, 0)", "x.cumsum(-1)"],
    "cumprod": ["L.cumprod(x, 0)"],
    "sort": ["L.sort(x)", "L.sort(x, dim=0, descending=True, stable=True)"],
    "argsort": ["L.argsort(x, stable=True)",
                "L.argsort(x, dim=0, descending=True, stable=True)"],
    "topk": ["L.topk(x, 1)", "L.topk(x, 2, largest=False)"],
    "kthvalue": ["L.kthvalue(x, 1)", "L.kthvalue(x, 2, 0, keepdim=True)"],
    "unique": ["L.unique(x)", "L.unique(x, return_inverse=True, return_counts=True)"],
    "unique_consecutive": ["L.unique_consecutive(x, return_inverse=True, return_counts=True)"],
    "norm": ["L.norm(x)", "L.norm(x, 1, 0)", "L.norm(x, float('inf'))", "L.norm(x, 0)"],
    # shapes
    "reshape": ["L.reshape(x, (-1,))", "x.reshape(1, -1)"],
    "view": ["x.view(-1)", "x.view(1, -1)"],
    "flatten": ["L.flatten(x)", "L.flatten(x, 0, -1)"],
    "squeeze": ["L.squeeze(x)", "L.squeeze(x, 0)"],
    "unsqueeze": ["L.unsqueeze(x, 0)", "L.unsqueeze(x, -1)"],
    "permute": ["L.permute(x, tuple(range(x.ndim))[::-1])"],
    "transpose": ["L.transpose(x, 0, -1)"],
    "swapaxes": ["L.swapaxes(x, 0, -1)"],
    "T": ["x.T"], "mT": ["x.mT"],
    "movedim": ["L.movedim(x, 0, -1)"],
    "expand": ["x.expand(3, *x.shape)"],
    "expand_as": ["x.expand_as(L.zeros((2,) + tuple(x.shape)))"],
    "broadcast_to": ["L.broadcast_to(x, (2,) + tuple(x.shape))"],
    "cat": ["L.cat([x, y])", "L.cat([x, y], -1)"],
    "concat": ["L.concat([x, y])"],
    "stack": ["L.stack([x, y])", "L.stack([x, y], -1)"],
    "narrow": ["L.narrow(x, 0, 0, 1)", "L.narrow(x, -1, 0, 0)"],
    "split": ["L.split(x, 1)", "L.split(x, 2, -1)"],
    "chunk": ["L.chunk(x, 2)", "L.chunk(x, 3, -1)"],
    "unbind": ["L.unbind(x)", "L.unbind(x, -1)"],
    "view_as": ["x.view_as(y)"],
    "reshape_as": ["x.reshape_as(y)"],
    "flip": ["L.flip(x, (0,))", "L.flip(x, (-1,))"],
    "roll": ["L.roll(x, 1)", "L.roll(x, -1, 0)"],
    "repeat": ["x.repeat(2, *([1] * x.ndim))"],
    "tile": ["L.tile(x, (2,))"],
    "repeat_interleave": ["L.repeat_interleave(x, 2)", "L.repeat_interleave(x, 2, dim=0)"],
    "tril": ["L.tril(x)", "L.tril(x, -1)", "L.tril(x, 1)"],
    "triu": ["L.triu(x)", "L.triu(x, 1)", "L.triu(x, -1)"],
    "diagonal": ["L.diagonal(x)", "L.diagonal(x, 1)", "L.diagonal(x, -1, 1, 0)"],
    "diag": ["L.diag(x)", "L.diag(x, 1)", "L.diag(x, -1)"],
    "tensor_split": ["L.tensor_split(x, 3)", "L.tensor_split(x, [1, 2], -1)"],
    "meshgrid": ["L.meshgrid(x, y, indexing='ij')", "L.meshgrid(x, indexing='xy')"],
    "broadcast_tensors": ["L.broadcast_tensors(x, y)"],
    "diff": ["L.diff(x)", "L.diff(x, 2, 0)", "L.diff(x, append=y)"],
    "new_zeros": ["x.new_zeros(2)"], "new_ones": ["x.new_ones((2, 1))"],
    "new_full": ["x.new_full((2,), -0.0)"], "new_tensor": ["x.new_tensor([1, 2])"],
    # indexing
    "getitem": ["x[...]", "x[x > 0]", "x[..., :1]", "x[None]"],
    "gather": [f"L.gather(x, 0, {_IDX})", f"L.gather(x, -1, {_IDX})"],
    "scatter": [f"L.scatter(x, 0, {_IDX}, y)", f"L.scatter(x, -1, {_IDX}, -0.0)"],
    "scatter_add": [f"L.scatter_add(x, 0, {_IDX}, y)"],
    "index_select": ["L.index_select(x, 0, L.tensor([0, 0], dtype=L.int64))",
                     "L.index_select(x, -1, L.tensor([], dtype=L.int64))"],
    "index_add": ["L.index_add(x, 0, L.tensor([0], dtype=L.int64), x[:1])"],
    "masked_select": ["L.masked_select(x, x != 0)"],
    "take": ["L.take(x, L.tensor([0, -1], dtype=L.int64))"],
    "nonzero": ["L.nonzero(x)", "L.nonzero(x, as_tuple=True)"],
}

# where plugrad knowingly differs from torch: fnmatch patterns of "op:call:input" -> why. The
# cases are strict xfails: one that starts to pass fails, so that its entry is removed.
_SIGNED_ZERO = ("the sign of a zero result: NumPy's maximum/minimum/remainder/add give +0.0 "
                "where torch keeps -0.0 (or the reverse); making it torch's costs a where() "
                "on hot ops")
KNOWN_DIFFERENCES = {
    "relu:*:float*": _SIGNED_ZERO, "relu:*:0d_neg_zero": _SIGNED_ZERO,
    "clamp:*min=0*:float*": _SIGNED_ZERO, "clamp:*min=0*:0d_neg_zero": _SIGNED_ZERO,
    "clamp_*:*:float*": _SIGNED_ZERO, "clamp_*:*:0d_neg_zero": _SIGNED_ZERO,
    "maximum:*x, y*:float32": _SIGNED_ZERO, "minimum:*x, y*:float32": _SIGNED_ZERO,
    "max:L.max(x, y):float32": _SIGNED_ZERO, "min:L.min(x, y):float32": _SIGNED_ZERO,
    "remainder:L.remainder(x, 2):float*": _SIGNED_ZERO,
    "remainder:L.remainder(x, 2):0d_neg_zero": _SIGNED_ZERO,
    "cumsum:L.cumsum(x, 0):float64_2x4": _SIGNED_ZERO + " (torch's cumsum starts from +0.0)",
    "scatter_add:*:0d_neg_zero": _SIGNED_ZERO + " (scatter_add adds into +0.0)",
    "diag:*:float32": _SIGNED_ZERO + " (diag of a vector adds it into zeros: index_add is the "
                      "kernel every backend has for writing at an index array)",
    "relu:*:bool*": "relu of bools: torch refuses them, plugrad computes max(x, False)",
    "abs:*:bool*": "abs of bools: torch refuses them, plugrad returns them",
    "pow:L.pow(x, y):bool*": "pow of bools: torch refuses them, plugrad computes them",
    "pow:L.pow(x, y):int*": "an integer to a negative integer power: NumPy raises (RuntimeError in "
                  "plugrad), torch gives 0 (or 1 and -1 for bases 1 and -1)",
    "pow:2 ** x:int*": "an integer to a negative integer power: as pow(x, y)",
    "*softmax:*:bool_empty": "softmax of an empty bool tensor: torch returns bools, plugrad "
                             "float32 (the dtype of any other integer input's result)",
    "mT:*:*0d*": "x.mT of a 0-d tensor: torch returns x, plugrad raises as for 1-D",
    "mT:*:int32_0d": "x.mT of a 0-d tensor: torch returns x, plugrad raises as for 1-D",
    "roll:L.roll(x, -1, 0):*0d*": "roll of a 0-d tensor along dim 0: torch raises IndexError",
    "roll:L.roll(x, -1, 0):int32_0d": "roll of a 0-d tensor along dim 0: torch raises "
                                      "IndexError",
    "repeat_interleave:*dim=0*:*0d*": "repeat_interleave of a 0-d tensor along dim 0: torch "
                                      "raises IndexError, plugrad repeats it",
}


def _default_calls(name: str) -> list:
    op = DECLARED[name]
    if not op.function:
        return [f"x.{op.method}()"]
    code = op.fn.__code__
    required = code.co_argcount - len(op.fn.__defaults__ or ())
    if required == 2:
        return [f"L.{name}(x, y)", f"L.{name}(x, 2)"]
    return [f"L.{name}(x)"]


def _cases():
    for name, op in DECLARED.items():
        if op.module not in MODULES:
            continue
        target = getattr(torch, name, None) if op.function else \
            getattr(torch.Tensor, op.method or name, None)
        if target is None and name not in CALLS:
            continue
        for call in CALLS.get(name, _default_calls(name)):
            for label in INPUTS:
                case = f"{name}:{call}:{label}"
                why = [r for pat, r in KNOWN_DIFFERENCES.items() if fnmatch(case, pat)]
                marks = [pytest.mark.xfail(strict=True, reason=why[0])] if why else []
                yield pytest.param(call, label, id=case, marks=marks)


def _tensors(L, label: str):
    a = INPUTS[label]
    y = a.reshape(-1)[::-1].reshape(a.shape).copy()
    dtype = getattr(L, str(a.dtype))
    return (L.tensor(a.tolist() if a.ndim else a.item(), dtype=dtype),
            L.tensor(y.tolist() if y.ndim else y.item(), dtype=dtype))


def _run(L, call: str, label: str):
    x, y = _tensors(L, label)
    try:
        return eval(call, {"L": L, "x": x, "y": y}), None  # noqa: S307 - our own fixed text
    except Exception as err:  # noqa: BLE001 - the error type is what is compared
        return None, err


def _flat(r) -> list:
    if isinstance(r, (tuple, list)):
        return [v for item in r for v in _flat(item)]
    return [r]


def _compare(got, expected) -> None:
    got, expected = _flat(got), _flat(expected)
    assert len(got) == len(expected), (got, expected)
    for g, e in zip(got, expected):
        if not isinstance(e, torch.Tensor):
            assert type(g) is type(e) and g == e
            continue
        assert g.dtype.name == str(e.dtype).removeprefix("torch."), (g.dtype, e.dtype)
        assert tuple(g.shape) == tuple(e.shape), (tuple(g.shape), tuple(e.shape))
        want, have = e.detach().numpy(), np.asarray(g.detach().numpy())
        if want.dtype.kind == "f":
            rtol = 2e-6 if want.dtype == np.float32 else 1e-12
            np.testing.assert_allclose(have, want, rtol=rtol, atol=0, equal_nan=True)
            zeros = want == 0
            np.testing.assert_array_equal(np.signbit(have[zeros]), np.signbit(want[zeros]),
                                          err_msg="the signs of zeros differ")
        else:
            np.testing.assert_array_equal(have, want)


@pytest.mark.parametrize("call, label", list(_cases()))
def test_hostile_values_match_torch(call, label):
    expected, terr = _run(torch, call, label)
    got, perr = _run(pg, call, label)
    if terr is not None:
        assert perr is not None, f"torch raised {type(terr).__name__}: {terr}; plugrad did not"
        assert isinstance(perr, type(terr)), (
            f"torch raised {type(terr).__name__}: {terr}; plugrad {type(perr).__name__}: {perr}")
        return
    if perr is not None:
        raise AssertionError(f"plugrad raised {type(perr).__name__}: {perr}; torch did not")
    _compare(got, expected)


def test_every_declared_op_of_these_modules_is_called_or_has_no_torch_counterpart():
    called = {c.id.split(":", 1)[0] for c in _cases()}
    missing = [n for n, op in DECLARED.items() if op.module in MODULES and n not in called
               and (getattr(torch, n, None) if op.function else
                    getattr(torch.Tensor, op.method or n, None)) is not None
               and CALLS.get(n) != []]
    assert not missing
