"""Operands of ops: Python numbers, dtype promotion, broadcasting and torch's errors.

What every op module needs before it calls a kernel (both operands in the
result dtype, a number checked) and after its backward formula ran (a
broadcast gradient summed back to its input's shape, `unbroadcast`).
"""
from __future__ import annotations

import numbers

from . import dtypes
from .grad_mode import STATE
from .tensor import Tensor, _make

__all__ = ["broadcast_shapes"]


def number(value, op: str):
    """A Python number for `value`, or a TypeError naming the op."""
    if isinstance(value, numbers.Number) and not isinstance(value, complex):
        if isinstance(value, bool) or type(value).__name__.startswith("bool"):
            return bool(value)
        if isinstance(value, numbers.Integral):
            return int(value)
        return float(value)
    raise TypeError(f"{op}(): expected a Tensor or a Python number, got {type(value).__name__}")


def cast(t: Tensor, d) -> object:
    """t's data in dtype d (no copy when it already is)."""
    return t._array if t.dtype is d else t.backend.astype(t._array, d)


def scalar_fits_dtype(d, s) -> bool:
    """Whether a Python number leaves tensor dtype `d` unchanged (torch's rule)."""
    ts = type(s)
    if ts is float:
        return d.category == 2
    if ts is int:
        return d.category >= 1
    return True  # bool


def coerce(a, b, op: str):
    """(backend, a_data, b_data, dtype): both operands in the result dtype."""
    if isinstance(a, Tensor):
        bk = a.backend
        if isinstance(b, Tensor):
            if b.backend is not bk:
                raise RuntimeError(f"{op}: expected all tensors on the same backend, but found "
                                   f"{bk.name!r} and {b.backend.name!r}; move one with .to()")
            d = a.dtype
            if b.dtype is d:
                return bk, a._array, b._array, d
            d = dtypes.result_type(a, b)
            return bk, cast(a, d), cast(b, d), d
        if type(b) not in (float, int, bool):
            b = number(b, op)
        d = a.dtype
        if scalar_fits_dtype(d, b):
            return bk, a._array, b, d
        d = dtypes.result_type(a, b)
        return bk, cast(a, d), b, d
    if not isinstance(b, Tensor):
        raise TypeError(f"{op}(): expected at least one Tensor argument")
    if type(a) not in (float, int, bool):
        a = number(a, op)
    d = b.dtype
    if scalar_fits_dtype(d, a):
        return b.backend, a, b._array, d
    d = dtypes.result_type(a, b)
    return b.backend, a, cast(b, d), d


def _shape(x) -> tuple:
    return tuple(x._array.shape) if isinstance(x, Tensor) else ()


def broadcast_shapes(*shapes) -> tuple:
    """torch.broadcast_shapes: the shape all `shapes` broadcast to, or RuntimeError."""
    ndim = max((len(s) for s in shapes), default=0)
    result = [1] * ndim
    for shape in shapes:
        for i, size in enumerate(shape):
            j = ndim - len(shape) + i
            if size != 1 and result[j] != 1 and size != result[j]:
                # torch numbers the dimension in the broadcast result, not in `shape`
                raise RuntimeError(
                    f"The size of tensor a ({result[j]}) must match the size of tensor b "
                    f"({size}) at non-singleton dimension {j}")
            if size != 1:
                result[j] = size
    return tuple(result)


def kernel_error(op: str, err: Exception, *operands) -> Exception:
    """Turn a backend's exception into torch's error type, naming the op and shapes."""
    shapes = [list(_shape(x)) for x in operands if isinstance(x, Tensor)]
    try:
        broadcast_shapes(*[_shape(x) for x in operands])
    except RuntimeError as bad:
        return RuntimeError(f"{op}: {bad} (shapes {' and '.join(map(str, shapes))})")
    return RuntimeError(f"{op} failed for shapes {' and '.join(map(str, shapes))}: {err}")


def unbroadcast(g: Tensor, shape: tuple) -> Tensor:
    """Sum a broadcast gradient back down to `shape`."""
    gshape = g._array.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    dims = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)
    if not STATE.grad_enabled:  # no graph to record: sum the array directly
        k = g.backend
        data = k.sum(g._array, dims, True) if dims else g._array
        return _make(k.reshape(data, shape) if lead else data, g.dtype, k)
    if dims:
        g = g.sum(dims, keepdim=True)
    return g.reshape(shape) if lead else g


def grad_like(g: Tensor, shape: tuple, dtype) -> Tensor:
    """g summed back to `shape` and cast to `dtype`: the gradient torch hands an input."""
    g = unbroadcast(g, shape)
    return g if g.dtype is dtype else g.to(dtype)


def grad_for(g: Tensor, x: Tensor) -> Tensor:
    """`grad_like` for a saved input tensor."""
    return grad_like(g, tuple(x._array.shape), x.dtype)


def meta(x):
    """(shape, dtype) of a tensor operand: what add-like backward formulas keep of it."""
    return (tuple(x._array.shape), x.dtype) if isinstance(x, Tensor) else None


def tensor_arg(x, op: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(x).__name__}")


def grad_on(a, b) -> bool:
    return STATE.grad_enabled and (
        (type(a) is Tensor and a._rg) or (type(b) is Tensor and b._rg))


def fits(t: Tensor, s) -> bool:
    """Whether a Python float or int leaves `t`'s dtype unchanged."""
    ts = type(s)
    if ts is float:
        return t.dtype.is_floating_point
    return ts is int and t.dtype.category >= 1
