"""Reductions and the normalisations built on them (softmax, log_softmax, logsumexp).

`dim` is an int, a tuple/list of ints or None (every dim); `keepdim` keeps the
reduced dims as size 1. Backward formulas put the gradient back in the input's
shape by reshaping to the kept shape and expanding.
"""
from __future__ import annotations

import builtins
from collections import namedtuple

from . import dtypes
from .creation import arange
from .declare import Ops
from .grad_mode import STATE
from .indexing import index_add_into_zeros
from .pointwise import maximum, minimum, where
from .recording import record1, saved_output
from .shape import cat
from .tensor import Tensor, _make, normalize_dim

ops = Ops(__name__)

_values_indices = ("values", "indices")


class _ReturnType:
    """Printing of torch.return_types: the name, then one field per line."""

    __slots__ = ()

    def __repr__(self) -> str:
        fields = ",\n".join(f"{k}={v!r}" for k, v in zip(self._fields, self))
        return f"plugrad.return_types.{type(self).__name__}(\n{fields})"


class MaxResult(_ReturnType, namedtuple("max", _values_indices)):
    __slots__ = ()


class MinResult(_ReturnType, namedtuple("min", _values_indices)):
    __slots__ = ()


MaxResult.__name__ = MaxResult.__qualname__ = "max"
MinResult.__name__ = MinResult.__qualname__ = "min"


def _return_type(name: str, fields: tuple = _values_indices) -> type:
    """A torch.return_types-like named tuple class called `name`."""
    cls = type(name, (_ReturnType, namedtuple(name, fields)), {"__slots__": ()})
    cls.__module__ = __name__
    return cls


SortResult = _return_type("sort")
TopkResult = _return_type("topk")
KthvalueResult = _return_type("kthvalue")
AminmaxResult = _return_type("aminmax", ("min", "max"))


def _dims(dim, ndim: int) -> tuple:
    """Reduced dims as a sorted tuple of non-negative ints."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (tuple, list)):
        if len(dim) == 0:
            return tuple(range(ndim))
        seen: set = set()
        for d in dim:
            n = normalize_dim(d, ndim)
            if n in seen:
                raise RuntimeError(f"dim {n} appears multiple times in the list of dims")
            seen.add(n)
        return tuple(sorted(seen))
    return (normalize_dim(dim, ndim),)


def _kept_shape(shape: tuple, dims: tuple) -> tuple:
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _axis(x: Tensor, dims: tuple):
    """The axis tuple for the backend (0-d tensors have none to reduce)."""
    return dims if x._array.ndim else None


def _expand_back(g: Tensor, shape: tuple, kept: tuple, keepdim: bool) -> Tensor:
    """A reduced gradient broadcast back to the input's shape."""
    if not keepdim and g._array.shape != kept:
        g = g.reshape(kept)
    return g.expand(shape)


def _check_nonempty(op: str, x: Tensor, dims, full: bool) -> None:
    """torch's errors for reductions without identity (max, argmax...) over no elements."""
    shape = x._array.shape
    if full:
        if x.numel() == 0:
            cls = IndexError if op.startswith("arg") else RuntimeError
            tail = "" if op.startswith("arg") else \
                " Specify the reduction dim with the 'dim' argument."
            raise cls(f"{op}(): Expected reduction dim to be specified for input.numel() == 0."
                      f"{tail}")
        return
    for d in dims if shape else ():
        if shape[d] == 0:
            raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size.")


# -- sums and means ------------------------------------------------------------------------
@ops.declare
def sum(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A001
    """Sum over `dim` (all dims by default); ints and bools sum to int64."""
    d = dtype or (x.dtype if x.dtype.is_floating_point else dtypes.int64)
    data = x._array if d is x.dtype else x.backend.astype(x._array, d)
    dims = _dims(dim, x._array.ndim)
    out = _make(x.backend.sum(data, _axis(x, dims), keepdim), d, x.backend)
    if x._rg and STATE.grad_enabled:
        shape = tuple(x._array.shape)
        record1(out, "SumBackward0" if dim is None else "SumBackward1", _sum_backward, x, (),
                (shape, _kept_shape(shape, dims), keepdim, x.dtype))
    return out


def _sum_backward(node, g):
    shape, kept, keepdim, dtype = node.args
    g = _expand_back(g, shape, kept, keepdim)
    return (g if g.dtype is dtype else g.to(dtype),)


@ops.declare
def mean(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Arithmetic mean over `dim` (floating tensors only, as in torch)."""
    d = dtype or x.dtype
    if not d.is_floating_point:
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {x.dtype.name}")
    data = x._array if d is x.dtype else x.backend.astype(x._array, d)
    dims = _dims(dim, x._array.ndim)
    shape = tuple(x._array.shape)
    count = 1
    for i in dims if shape else ():
        count *= shape[i]
    k = x.backend
    out = _make(k.div(k.sum(data, _axis(x, dims), keepdim), count), d, k)
    if x._rg and STATE.grad_enabled:
        record1(out, "MeanBackward0" if dim is None else "MeanBackward1", _mean_backward, x, (),
                (shape, _kept_shape(shape, dims), keepdim, count, x.dtype))
    return out


def _mean_backward(node, g):
    shape, kept, keepdim, count, dtype = node.args
    g = _expand_back(g / count, shape, kept, keepdim)
    return (g if g.dtype is dtype else g.to(dtype),)


@ops.declare
def prod(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product over `dim` (all dims by default; one int dim, as torch allows)."""
    if isinstance(dim, (tuple, list)):
        raise TypeError("prod(): argument 'dim' must be int, not tuple")
    d = dtype or (x.dtype if x.dtype.is_floating_point else dtypes.int64)
    data = x._array if d is x.dtype else x.backend.astype(x._array, d)
    dims = _dims(dim, x._array.ndim)
    out = _make(x.backend.prod(data, _axis(x, dims), keepdim), d, x.backend)
    if x._rg and STATE.grad_enabled:
        shape = tuple(x._array.shape)
        axis = dims[0] if dim is not None and shape else None
        record1(out, "ProdBackward0" if dim is None else "ProdBackward1", _prod_backward, x,
                (x, out._array), (shape, _kept_shape(shape, dims), keepdim, axis))
    return out


def _prod_backward(node, g):
    x, out = node.saved
    shape, kept, keepdim, dim = node.args
    g = _expand_back(g, shape, kept, keepdim)
    if not shape:
        return (g,)
    # a lazy backend takes the division-free formula: knowing whether x has a zero would
    # mean computing x
    if not x.backend.lazy and not (x == 0).any().item():
        result = saved_output(node, g, out)
        if not keepdim:
            result = result.reshape(kept)
        return (g * (result / x),)
    # With zeros, result / x is 0/0; the product of all the others, as left and right
    # exclusive cumulative products, has the right value and every higher derivative.
    if dim is None:
        return (g * _product_of_others(x.reshape(-1)).reshape(shape),)
    last = x.ndim - 1
    return (g * _product_of_others(x.movedim(dim, last)).movedim(last, dim),)


def _product_of_others(x: Tensor) -> Tensor:
    """out[..., j] = prod of x[..., k] for k != j, along the last dim, without division."""
    n = x._array.shape[-1]
    reverse = arange(n - 1, -1, -1, backend=x.backend)
    ones = _make(x.backend.full(tuple(x._array.shape[:-1]) + (1,), 1, x.dtype), x.dtype, x.backend)
    left = cat([ones, _cumprod_last(x)[..., :-1]], -1)
    right = cat([ones, _cumprod_last(x[..., reverse])[..., :-1]], -1)[..., reverse]
    return left * right


def _cumprod_last(x: Tensor) -> Tensor:
    """Inclusive cumulative product along the last dim, in log2(n) differentiable steps."""
    n = x._array.shape[-1]
    shift = 1
    while shift < n:
        x = cat([x[..., :shift], x[..., shift:] * x[..., :-shift]], -1)
        shift *= 2
    return x


# -- extremes --------------------------------------------------------------------------------
@ops.declare
def max(x: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """The largest element, or (values, indices) along `dim`; max(a, b) is maximum."""
    if isinstance(dim, Tensor):
        return maximum(x, dim)
    return _extreme(x, dim, keepdim, "max")


@ops.declare
def min(x: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """The smallest element, or (values, indices) along `dim`; min(a, b) is minimum."""
    if isinstance(dim, Tensor):
        return minimum(x, dim)
    return _extreme(x, dim, keepdim, "min")


def _extreme(x: Tensor, dim, keepdim: bool, op: str):
    k = x.backend
    if dim is None:  # NaN wins, and shares the gradient with the other NaNs
        return _amax(x, None, False, op, "MaxBackward1" if op == "max" else "MinBackward1", op,
                     True)
    d = normalize_dim(dim, x._array.ndim)
    _check_nonempty(op, x, (d,), False)
    axis = (d,) if x._array.ndim else None
    values = getattr(k, op)(x._array, axis, keepdim)
    indices = (k.argmax if op == "max" else k.argmin)(x._array, d if x._array.ndim else None,
                                                       keepdim)
    out = _make(values, x.dtype, k)
    idx = _make(indices, dtypes.int64, k)
    if x._rg and STATE.grad_enabled:
        shape = tuple(x._array.shape)
        record1(out, "MaxBackward0" if op == "max" else "MinBackward0", _select_backward, x,
                (idx,), (shape, _kept_shape(shape, (d,)), keepdim, d))
    return (MaxResult if op == "max" else MinResult)(out, idx)


def _select_backward(node, g):
    # the gradient goes to the one position `indices` chose, as in torch
    (idx,) = node.saved
    shape, kept, keepdim, d = node.args
    if not shape:
        return (g,)
    positions = arange(shape[d], backend=g.backend).reshape(
        tuple(-1 if i == d else 1 for i in range(len(shape))))
    chosen = positions == (idx if keepdim else idx.reshape(kept))
    return (where(chosen, _expand_back(g, shape, kept, keepdim), 0.0),)


@ops.declare
def amax(x: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """The maximum over `dim`; ties share the gradient evenly."""
    return _amax(x, dim, keepdim, "max", "AmaxBackward0", "amax")


@ops.declare
def amin(x: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """The minimum over `dim`; ties share the gradient evenly."""
    return _amax(x, dim, keepdim, "min", "AminBackward0", "amin")


def _amax(x: Tensor, dim, keepdim: bool, op: str, name: str, label: str,
          nan_hits: bool = False) -> Tensor:
    k = x.backend
    dims = _dims(dim, x._array.ndim)
    _check_nonempty(label, x, dims, dim is None or (isinstance(dim, (tuple, list)) and not dim))
    out = _make(getattr(k, op)(x._array, _axis(x, dims), keepdim), x.dtype, k)
    if x._rg and STATE.grad_enabled:
        shape = tuple(x._array.shape)
        record1(out, name, _amax_backward, x, (x, out._array), (shape, _kept_shape(shape, dims),
                                                             keepdim, dims, nan_hits))
    return out


def _amax_backward(node, g):
    # amax of a slice with NaN: every element's gradient is NaN (0 / 0), as in torch; max()
    # and min() of the whole tensor send it to the NaNs (nan_hits), as torch does
    x, out = node.saved
    shape, kept, keepdim, dims, nan_hits = node.args
    result = saved_output(node, g, out)
    if not keepdim:
        result = result.reshape(kept)
    hit = x == result
    if nan_hits:
        hit = where(result != result, x != x, hit)
    hit = hit.to(g.dtype)
    count = hit.sum(dims if x.ndim else None, keepdim=True) if x.ndim else hit
    return (_expand_back(g, shape, kept, keepdim) * hit / count,)


@ops.declare
def argmax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the largest element (of the flattened tensor when dim is None)."""
    return _arg(x, dim, keepdim, "argmax")


@ops.declare
def argmin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the smallest element (of the flattened tensor when dim is None)."""
    return _arg(x, dim, keepdim, "argmin")


def _arg(x: Tensor, dim, keepdim: bool, op: str) -> Tensor:
    k = x.backend
    if x.dtype is dtypes.bool:
        raise RuntimeError(f"{op}(): does not support bool input")
    if dim is None:
        _check_nonempty(op, x, (), True)
        data = getattr(k, op)(x._array, None, False)
        if keepdim:  # torch keeps every dim, as size 1
            data = k.reshape(data, (1,) * x._array.ndim)
        return _make(data, dtypes.int64, k)
    d = normalize_dim(dim, x._array.ndim)
    _check_nonempty(op, x, (d,), False)
    data = getattr(k, op)(x._array, d if x._array.ndim else None, keepdim)
    return _make(data, dtypes.int64, k)


@ops.declare
def all(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where every element (along dim) is non-zero."""
    return _logical_reduce(x, dim, keepdim, "min")


@ops.declare
def any(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where some element (along dim) is non-zero."""
    return _logical_reduce(x, dim, keepdim, "max")


def _logical_reduce(x: Tensor, dim, keepdim: bool, op: str) -> Tensor:
    k = x.backend
    flags = k.ne(x._array, 0) if x.dtype is not dtypes.bool else x._array
    dims = _dims(dim, x._array.ndim)
    if x.numel() == 0:
        shape = tuple(x._array.shape)
        kept = _kept_shape(shape, dims) if keepdim else tuple(
            s for i, s in enumerate(shape) if i not in dims)
        return _make(k.full(kept, op == "min", dtypes.bool), dtypes.bool, k)
    return _make(getattr(k, op)(flags, _axis(x, dims), keepdim), dtypes.bool, k)


# -- spread -----------------------------------------------------------------------------------
def _var_setup(x: Tensor, dim, unbiased, correction, op: str):
    """(dims, count, divisor) for var/std; torch divides by max(0, N - correction)."""
    if not x.dtype.is_floating_point:
        raise RuntimeError("std and var only support floating point and complex dtypes")
    if isinstance(dim, bool):  # var(x, False): the old positional `unbiased`
        dim, unbiased = None, dim
    if correction is None:
        correction = 0 if unbiased is False else 1
    elif unbiased is not None:
        raise TypeError(f"{op}(): pass either unbiased or correction, not both")
    dims = _dims(dim, x._array.ndim)
    count = 1
    for i in dims if x._array.ndim else ():
        count *= x._array.shape[i]
    return dims, count, builtins.max(0, count - correction)


def _var_data(x: Tensor, dims: tuple, count: int, divisor, keepdim: bool):
    k = x.backend
    axis = _axis(x, dims)
    centered = k.sub(x._array, k.div(k.sum(x._array, axis, True), count))
    return k.div(k.sum(k.mul(centered, centered), axis, keepdim), divisor)


@ops.declare
def var(x: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """Variance over `dim`; unbiased (divides by N - 1) by default, like torch."""
    dims, count, divisor = _var_setup(x, dim, unbiased, correction, "var")
    out = _make(_var_data(x, dims, count, divisor, keepdim), x.dtype, x.backend)
    if x._rg and STATE.grad_enabled:
        shape = tuple(x._array.shape)
        record1(out, "VarBackward0", _var_backward, x, (x,),
                (shape, _kept_shape(shape, dims), keepdim, dims, divisor))
    return out


def _var_grad(x: Tensor, g: Tensor, dims: tuple, divisor) -> Tensor:
    """d var / dx times g (g already in x's shape)."""
    centered = x - x.mean(dims if x.ndim else None, keepdim=True)
    return g * centered * 2 / divisor


def _var_backward(node, g):
    (x,) = node.saved
    shape, kept, keepdim, dims, divisor = node.args
    return (_var_grad(x, _expand_back(g, shape, kept, keepdim), dims, divisor),)


@ops.declare
def std(x: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """Standard deviation: the square root of `var` with the same arguments."""
    dims, count, divisor = _var_setup(x, dim, unbiased, correction, "std")
    k = x.backend
    out = _make(k.sqrt(_var_data(x, dims, count, divisor, keepdim)), x.dtype, k)
    if x._rg and STATE.grad_enabled:
        shape = tuple(x._array.shape)
        record1(out, "StdBackward0", _std_backward, x, (x, out._array),
                (shape, _kept_shape(shape, dims), keepdim, dims, divisor))
    return out


def _std_backward(node, g):
    # where std is 0 the gradient is 0, as in torch (not 0/0)
    x, out = node.saved
    shape, kept, keepdim, dims, divisor = node.args
    result = saved_output(node, g, out)
    zero = result == 0
    g_var = where(zero, 0.0, g / (2 * where(zero, 1.0, result)))
    return (_var_grad(x, _expand_back(g_var, shape, kept, keepdim), dims, divisor),)


# -- normalisations ---------------------------------------------------------------------------
@ops.declare
def logsumexp(x: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over `dim`, computed without overflow."""
    k = x.backend
    data = x._array if x.dtype.is_floating_point else k.astype(x._array, dtypes.get_default_dtype())
    d = x.dtype if x.dtype.is_floating_point else dtypes.get_default_dtype()
    dims = _dims(dim, x._array.ndim)
    axis = _axis(x, dims)
    if x.numel():
        shift = k.max(data, axis, True)
        # an infinite maximum would make x - shift nan; shifting by 0 is exact there
        shift = k.where(k.eq(k.abs(shift), float("inf")), 0, shift)
        total = k.add(k.log(k.sum(k.exp(k.sub(data, shift)), axis, True)), shift)
    else:
        total = k.log(k.sum(k.exp(data), axis, True))
    shape = tuple(x._array.shape)
    kept = _kept_shape(shape, dims)
    if not keepdim:
        total = k.reshape(total, tuple(s for i, s in enumerate(shape) if i not in dims))
    out = _make(total, d, k)
    if x._rg and STATE.grad_enabled:
        record1(out, "LogsumexpBackward0", _logsumexp_backward, x, (x, out._array),
                (kept, keepdim))
    return out


def _logsumexp_backward(node, g):
    x, out = node.saved
    kept, keepdim = node.args
    result = saved_output(node, g, out)
    if not keepdim:
        result = result.reshape(kept)
        g = g.reshape(kept)
    return (g * (x - result).exp(),)


@ops.declare
def softmax(x: Tensor, dim: int, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along `dim`."""
    if dtype is not None:
        x = x.to(dtype)
    elif not x.dtype.is_floating_point and x.numel():
        raise NotImplementedError(f"\"softmax_kernel_impl\" not implemented for "
                                  f"'{x.dtype.name}'")
    k = x.backend
    d = normalize_dim(dim, x._array.ndim)
    axis = (d,) if x._array.ndim else None
    data = x._array if x.dtype.is_floating_point else k.astype(x._array, dtypes.get_default_dtype())
    shifted = k.sub(data, k.max(data, axis, True)) if x.numel() else data
    e = k.exp(shifted)
    out = _make(k.div(e, k.sum(e, axis, True)), k.dtype_of(e), k)
    if x._rg and STATE.grad_enabled:
        record1(out, "SoftmaxBackward0", _softmax_backward, x, (out._array,), d)
    return out


def _softmax_backward(node, g):
    d = node.args if g.ndim else None
    if not STATE.grad_enabled:  # no graph to build: the same formula on the arrays
        k, y, ga = g.backend, node.saved[0], g._array
        axis = (d,) if d is not None else None
        return (_make(k.mul(y, k.sub(ga, k.sum(k.mul(ga, y), axis, True))), g.dtype, k),)
    y = saved_output(node, g, node.saved[0])
    return (y * (g - (g * y).sum(d, keepdim=True)),)


@ops.declare
def log_softmax(x: Tensor, dim: int, dtype=None) -> Tensor:
    """x - logsumexp(x) along `dim`, computed without overflow."""
    if dtype is not None:
        x = x.to(dtype)
    elif not x.dtype.is_floating_point and x.numel():
        raise NotImplementedError(f"\"log_softmax_kernel_impl\" not implemented for "
                                  f"'{x.dtype.name}'")
    k = x.backend
    d = normalize_dim(dim, x._array.ndim)
    axis = (d,) if x._array.ndim else None
    data = x._array if x.dtype.is_floating_point else k.astype(x._array, dtypes.get_default_dtype())
    shifted = k.sub(data, k.max(data, axis, True)) if x.numel() else data
    out = _make(k.sub(shifted, k.log(k.sum(k.exp(shifted), axis, True))), k.dtype_of(shifted), k)
    if x._rg and STATE.grad_enabled:
        record1(out, "LogSoftmaxBackward0", _log_softmax_backward, x, (out._array,), d)
    return out


def _log_softmax_backward(node, g):
    d = node.args if g.ndim else None
    if not STATE.grad_enabled:
        k, y, ga = g.backend, node.saved[0], g._array
        axis = (d,) if d is not None else None
        return (_make(k.sub(ga, k.mul(k.exp(y), k.sum(ga, axis, True))), g.dtype, k),)
    y = saved_output(node, g, node.saved[0])
    return (g - y.exp() * g.sum(d, keepdim=True),)


# -- counting ---------------------------------------------------------------------------------
@ops.declare
def count_nonzero(x: Tensor, dim=None) -> Tensor:
    """The number of non-zero elements over `dim` (all dims by default), as int64."""
    k = x.backend
    dims = _dims(dim, x._array.ndim)
    return _make(k.count_nonzero(x._array, _axis(x, dims), dtypes.int64), dtypes.int64, k)


@ops.declare
def aminmax(x: Tensor, *, dim=None, keepdim: bool = False):
    """(min, max) over `dim` (all dims by default) as torch.return_types.aminmax."""
    label = "aminmax"
    if dim is None:
        if x.numel() == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as "
                               "the operation has no identity.")
    else:
        dim = normalize_dim(dim, x._array.ndim)
        if x._array.ndim and x._array.shape[dim] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {dim} to have non-zero size.")
    return AminmaxResult(_amax(x, dim, keepdim, "min", "AminmaxBackward0", label),
                         _amax(x, dim, keepdim, "max", "AminmaxBackward0", label))


# -- scans ------------------------------------------------------------------------------------
@ops.declare
def cumsum(x: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Inclusive cumulative sum along `dim`; ints and bools sum to int64."""
    return _scan(x, dim, dtype, "cumsum", "CumsumBackward0", _cumsum_backward)


@ops.declare
def cumprod(x: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Inclusive cumulative product along `dim`; ints and bools multiply to int64."""
    return _scan(x, dim, dtype, "cumprod", "CumprodBackward0", _cumprod_backward)


def _scan(x: Tensor, dim, dtype, op: str, name: str, backward) -> Tensor:
    k = x.backend
    d = dtype or (x.dtype if x.dtype.is_floating_point else dtypes.int64)
    data = x._array if d is x.dtype else k.astype(x._array, d)
    axis = normalize_dim(dim, x._array.ndim)
    if x._array.ndim:
        data = getattr(k, op)(data, axis)
    elif data is x._array:
        data = k.copy(data)
    out = _make(data, d, k)
    if x._rg and STATE.grad_enabled:
        record1(out, name, backward, x, (x, out._array) if op == "cumprod" else (),
                (axis, x.dtype))
    return out


def _reversed(t: Tensor, d: int) -> tuple:
    """The index that reverses dim d of t (a differentiable gather)."""
    n = t._array.shape[d]
    return (slice(None),) * d + (arange(n - 1, -1, -1, backend=t.backend),)


def _reverse_cumsum(g: Tensor, d: int) -> Tensor:
    """out[i] = sum of g[j] for j >= i along d."""
    rev = _reversed(g, d)
    return g[rev].cumsum(d)[rev]


def _cumsum_backward(node, g):
    d, dtype = node.args
    if g.ndim:
        g = _reverse_cumsum(g, d)
    return (g if g.dtype is dtype else g.to(dtype),)


def _cumprod_backward(node, g):
    x, out = node.saved
    d, dtype = node.args
    if g.dtype is not dtype:
        g = g.to(dtype)
    if not x.ndim:
        return (g,)
    if not x.backend.lazy and not (x == 0).any().item():
        y = saved_output(node, g, out)
        return (_reverse_cumsum(g * (y if y.dtype is dtype else y.to(dtype)), d) / x,)
    # With zeros, y / x is 0/0. Without division: row i of `others` is x with x[i] set to 1,
    # so its cumulative product at j >= i is the product of x[k], k <= j, k != i.
    xm = x.movedim(d, -1)
    n = xm._array.shape[-1]
    i = arange(n, backend=x.backend).reshape(n, 1)
    j = arange(n, backend=x.backend)
    others = where(i == j, 1.0, xm.unsqueeze(-2).expand(*xm.shape[:-1], n, n)).cumprod(-1)
    grad = where(j >= i, others * g.movedim(d, -1).unsqueeze(-2), 0.0).sum(-1)
    return (grad.movedim(-1, d),)


# -- sorting ----------------------------------------------------------------------------------
# (backend, idx's shape, d) -> the index arrays of the other dims, for _gather_index
_GATHER_AXES: dict = {}


def _gather_index(k, idx, d: int, shape: tuple) -> tuple:
    """The advanced index that picks x[..., idx[...], ...] along d (take_along_dim)."""
    key = (k, tuple(idx.shape), d)
    axes = _GATHER_AXES.get(key)
    if axes is None:
        if len(_GATHER_AXES) >= 64:
            _GATHER_AXES.clear()
        n = len(shape)
        axes = _GATHER_AXES[key] = tuple(
            None if i == d else k.reshape(k.arange(0, idx.shape[i], 1, dtypes.int64),
                                          tuple(idx.shape[i] if j == i else 1 for j in range(n)))
            for i in range(n))
    return tuple(idx if i == d else a for i, a in enumerate(axes))


def _gathered(x: Tensor, values, idx, d: int, name: str, squeeze: bool = False) -> Tensor:
    """values (x taken at the indices idx along d) as a tensor whose gradient is scattered
    back to x; `squeeze`: drop dim d (size 1) from the values (kthvalue without keepdim)."""
    kept = tuple(values.shape)
    if squeeze:
        values = x.backend.reshape(values, kept[:d] + kept[d + 1:])
    out = _make(values, x.dtype, x.backend)
    if x._rg and STATE.grad_enabled:
        record1(out, name, _gathered_backward, x, (), (tuple(x._array.shape), idx, d, kept))
    return out


def _gathered_backward(node, g):
    shape, idx, d, kept = node.args
    if not shape:
        return (g,)
    if tuple(g.shape) != kept:
        g = g.reshape(kept)
    return (index_add_into_zeros(g, shape, _gather_index(g.backend, idx, d, shape), True),)


def _scalar_pick(x: Tensor, name: str, dim: int):
    """sort/topk/kthvalue of a 0-d tensor: itself, at index 0."""
    normalize_dim(dim, 0)
    k = x.backend
    return (_gathered(x, k.copy(x._array), None, 0, name),
            _make(k.full((), 0, dtypes.int64), dtypes.int64, k))


@ops.declare
def sort(x: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False):
    """(values, indices) sorted along `dim`; NaN sorts as the largest value."""
    if not x._array.ndim:
        return SortResult(*_scalar_pick(x, "SortBackward0", dim))
    k = x.backend
    d = normalize_dim(dim, x._array.ndim)
    # both stable, so that values and indices agree on the order of equal elements (-0.0, 0.0)
    idx = k.argsort(x._array, d, descending, True)
    # the values: descending, x gathered at the indices (a library's sort may order -0.0 and
    # 0.0 unlike its argsort); ascending, a stable sort for small x (cheaper than the gather on
    # 4x4) and the gather for large x (a second stable sort costs ~6x a gather on 1e6 floats)
    values = k.sort(x._array, d, False, True) if not descending and x.numel() <= 256 else \
        k.getitem(x._array, _gather_index(k, idx, d, tuple(x._array.shape)))
    return SortResult(_gathered(x, values, idx, d, "SortBackward0"), _make(idx, dtypes.int64, k))


@ops.declare
def argsort(x: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
    """The int64 indices that sort x along `dim` (see sort)."""
    k = x.backend
    if not x._array.ndim:
        normalize_dim(dim, 0)
        return _make(k.full((), 0, dtypes.int64), dtypes.int64, k)
    return _make(k.argsort(x._array, normalize_dim(dim, x._array.ndim), descending, stable),
                 dtypes.int64, k)


def _first(x: Tensor, d: int, start: int, stop: int, descending: bool, name: str,
           keepdim: bool = True):
    """Elements start..stop-1 of x sorted along d, and their indices (stable order)."""
    k = x.backend
    # one stable sort: the values are x gathered at its indices
    idx = k.argsort(x._array, d, descending, True)
    if start or stop != x._array.shape[d]:
        idx = k.getitem(idx, (slice(None),) * d + (slice(start, stop),))
    values = k.getitem(x._array, _gather_index(k, idx, d, tuple(x._array.shape)))
    values = _gathered(x, values, idx, d, name, not keepdim)
    if not keepdim:
        idx = k.reshape(idx, tuple(values._array.shape))
    return values, _make(idx, dtypes.int64, k)


@ops.declare
def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """The k largest (or smallest) elements along `dim`, and their indices."""
    if x.dtype is dtypes.bool:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    n = x._array.shape[normalize_dim(dim, x._array.ndim)] if x._array.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    if not x._array.ndim:
        return TopkResult(*_scalar_pick(x, "TopkBackward0", dim)) if k else \
            TopkResult(*_first(x.reshape(1), 0, 0, 0, largest, "TopkBackward0"))
    return TopkResult(*_first(x, normalize_dim(dim, x._array.ndim), 0, k, largest,
                              "TopkBackward0"))


@ops.declare
def kthvalue(x: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    """The k-th smallest element (k counts from 1) along `dim`, and its index."""
    if x.dtype is dtypes.bool and x.numel():
        raise NotImplementedError("\"kthvalue_cpu\" not implemented for 'Bool'")
    if not x._array.ndim:
        if k != 1:
            raise RuntimeError("kthvalue(): selected number k out of range for dimension 0")
        return KthvalueResult(*_scalar_pick(x, "KthvalueBackward0", dim))
    d = normalize_dim(dim, x._array.ndim)
    if x._array.shape[d] == 0:
        raise IndexError(f"kthvalue(): Expected reduction dim {d} to have non-zero size.")
    if not 1 <= k <= x._array.shape[d]:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    return KthvalueResult(*_first(x, d, k - 1, k, False, "KthvalueBackward0", keepdim))


# -- unique -----------------------------------------------------------------------------------
def _not_differentiable(node, g):
    raise NotImplementedError(f"the derivative for '{node.args}' is not implemented.")


def _unique(x: Tensor, sort: bool, return_inverse: bool, return_counts: bool, dim, op: str,
            name: str):
    """unique / unique_consecutive: composed from argsort, getitem, ne and cumsum."""
    k = x.backend
    data = x._array
    shape = tuple(data.shape)
    i64 = dtypes.int64
    if dim is None:
        rows = k.reshape(data, (-1,))
        d = 0
    else:
        if not shape:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        d = normalize_dim(dim, len(shape))
        if builtins.any(s == 0 for i, s in enumerate(shape) if i != d):
            raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so "
                               "unique cannot be applied")
        rest = shape[:d] + shape[d + 1:]
        moved = k.permute(data, (d,) + tuple(i for i in range(len(shape)) if i != d))
        width = 1
        for s in rest:
            width *= s
        rows = k.reshape(moved, (shape[d], width))
    n = rows.shape[0]
    order = None
    if sort and n:
        if rows.ndim == 1:
            order = k.argsort(rows, 0, False, True)
        else:  # lexicographic: stable sorts from the last column to the first
            order = k.arange(0, n, 1, i64)
            for c in range(rows.shape[1] - 1, -1, -1):
                column = k.getitem(rows, (order, c))
                order = k.getitem(order, (k.argsort(column, 0, False, True),))
        rows = k.getitem(rows, (order,))
    if n:
        step = k.ne(k.getitem(rows, (slice(1, None),)), k.getitem(rows, (slice(0, -1),)))
        if rows.ndim == 2:
            step = k.max(step, (1,), False)
        first = k.concat([k.full((1,), True, dtypes.bool), step], 0)
    else:
        first = k.full((0,), True, dtypes.bool)
    values = k.getitem(rows, (first,))
    if dim is None:
        out = _make(values, x.dtype, k)
    else:
        values = k.reshape(values, (values.shape[0],) + rest)
        back = tuple(range(1, d + 1)) + (0,) + tuple(range(d + 1, len(shape)))
        out = _make(k.permute(values, back), x.dtype, k)
    if x._rg and STATE.grad_enabled:
        record1(out, name, _not_differentiable, x, (), op)
    if not (return_inverse or return_counts):
        return out
    result = [out]
    if return_inverse:
        groups = k.sub(k.cumsum(k.astype(first, i64), 0), 1) if n else k.full((0,), 0, i64)
        if order is not None:  # back in x's order: at the inverse permutation of `order`
            groups = k.getitem(groups, (k.argsort(order, 0, False, False),))
        result.append(_make(k.reshape(groups, shape) if dim is None else groups, i64, k))
    if return_counts:
        starts = k.getitem(k.arange(0, n, 1, i64), (first,))
        ends = k.concat([k.getitem(starts, (slice(1, None),)), k.full((1,), n, i64)], 0)
        result.append(_make(k.sub(ends, starts) if n else starts, i64, k))
    return tuple(result)


@ops.declare
def unique(x: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim=None):
    """The distinct elements of x, sorted (or the distinct slices along `dim`).

    With return_inverse, also where each element (slice) of x went in the output; with
    return_counts, how often each distinct value occurs (both int64). NaNs are all
    distinct. Not differentiable (backward raises NotImplementedError, as torch's does).
    Like torch on the CPU, the output is sorted whatever `sorted` says.

    >>> import plugrad as pg
    >>> pg.unique(pg.tensor([3, 1, 3, 2]), return_counts=True)
    (tensor([1, 2, 3]), tensor([1, 1, 2]))
    """
    name = "Unique2Backward0" if dim is None else "UniqueDimBackward0"
    op = "_unique2" if dim is None else "unique_dim"
    return _unique(x, True, return_inverse, return_counts, dim, op, name)


@ops.declare
def unique_consecutive(x: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim=None):
    """unique without sorting: each run of equal consecutive elements (slices along `dim`)
    becomes one.

    >>> import plugrad as pg
    >>> pg.unique_consecutive(pg.tensor([1, 1, 2, 1]), return_inverse=True)
    (tensor([1, 2, 1]), tensor([0, 0, 1, 2]))
    """
    return _unique(x, False, return_inverse, return_counts, dim, "unique_consecutive",
                   "UniqueConsecutiveBackward0")


# -- norms ------------------------------------------------------------------------------------
@ops.declare
def norm(x: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """The vector p-norm over `dim` (all elements by default): p = 2, 1, inf, -inf, 0, any
    number, or 'fro' (the 2-norm of the elements). The gradient at a zero norm is 0."""
    if dtype is not None:
        x = x.to(dtype)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {x.dtype.name.capitalize()}")
    if isinstance(p, str):
        if p != "fro":
            raise NotImplementedError(f"norm(p={p!r}) is not supported (only numbers and 'fro')")
        p = 2
    k = x.backend
    dims = _dims(dim, x._array.ndim)
    axis = _axis(x, dims)
    a = x._array if p == 2 else k.abs(x._array)  # the 2-norm squares: no abs needed
    inf = float("inf")
    if p == inf or p == -inf:
        if x.numel() == 0 and (dim is None or builtins.any(x._array.shape[i] == 0 for i in dims)):
            raise RuntimeError("linalg.vector_norm cannot compute the inf norm on an empty "
                               "tensor because the operation does not have an identity")
        data = (k.max if p == inf else k.min)(a, axis, keepdim)
    elif p == 0:
        data = k.sum(k.astype(k.ne(a, 0), x.dtype), axis, keepdim)
    elif p == 1:
        data = k.sum(a, axis, keepdim)
    elif p == 2:
        data = k.sqrt(k.sum(k.mul(a, a), axis, keepdim))
    else:
        data = k.pow(k.sum(k.pow(a, p), axis, keepdim), 1.0 / p)
    out = _make(data, x.dtype, k)
    if x._rg and STATE.grad_enabled:
        shape = tuple(x._array.shape)
        record1(out, "LinalgVectorNormBackward0", _norm_backward, x, (x, out._array),
                (shape, _kept_shape(shape, dims), keepdim, dims, p))
    return out


def _norm_backward(node, g):
    x, out = node.saved
    shape, kept, keepdim, dims, p = node.args
    if p == 0:
        return (x * 0.0,)
    sgn = where(x == x, x.sign(), 0.0)  # torch's sgn: 0 at NaN
    if p == 1:
        return (_expand_back(g, shape, kept, keepdim) * sgn,)
    result = saved_output(node, g, out)
    if not keepdim:
        result = result.reshape(kept)
    g = _expand_back(g, shape, kept, keepdim)
    if p in (float("inf"), float("-inf")):  # like amax of |x|: ties share it evenly
        hit = x.abs() == result  # none where the norm is NaN: then every gradient is 0
        count = hit.to(g.dtype)
        count = count.sum(dims, keepdim=True) if x.ndim else count
        return (where(hit, g * sgn / where(count == 0, 1.0, count), 0.0),)
    zero = result == 0
    if p == 2:
        return (x * where(zero, 0.0, g / where(zero, 1.0, result)),)
    scale = where(zero, 0.0, g / where(zero, 1.0, result).pow(p - 1))
    return (sgn * x.abs().pow(p - 1) * scale,)


__all__ = ops.exported()
