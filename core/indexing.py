"""Indexing: `x[index]` (a view for basic indexing, a gather for index tensors), and
`index_put`, its adjoint, which writes values at an index of a copy.

An index is first put in the backend's form (`normalize_index`: ints, slices,
None, Ellipsis and index arrays); `take` and `index_put` then work on that
form, so that backward formulas, which already hold one, skip the parsing.
"""
from __future__ import annotations

import operator

from . import dtypes
from .declare import Ops
from .grad_mode import STATE
from .operands import grad_like
from .recording import record, record1
from .tensor import Tensor, _make, _shareable

ops = Ops(__name__)


# -- indexing -------------------------------------------------------------------------------------
def _index_part(item, x: Tensor):
    """One element of an index turned into what the backend's getitem takes."""
    if isinstance(item, Tensor):
        if item.backend is not x.backend:
            raise RuntimeError(f"indexing a {x.backend.name!r} tensor with a "
                               f"{item.backend.name!r} tensor; move the index with .to()")
        if item.dtype.is_floating_point:
            raise IndexError("tensors used as indices must be long, int or bool tensors")
        if item.data.ndim == 0 and item.dtype is not dtypes.bool and not x.backend.lazy:
            # torch treats a 0-d integer tensor as an int; on a lazy backend it stays an
            # index array (same result), so that indexing does not compute it
            return int(item.item()), False
        return item.data, True
    if isinstance(item, (list, tuple)):
        arr = x.backend.asarray(item)
        if x.backend.dtype_of(arr).is_floating_point:
            if 0 not in arr.shape:
                raise IndexError("tensors used as indices must be long, int or bool tensors")
            arr = x.backend.astype(arr, dtypes.int64)  # [] is an empty integer index
        return arr, True
    if isinstance(item, slice):
        # bounds may be 1-element integer tensors; the backend gets Python ints
        start, stop, step = (None if v is None else operator.index(v)
                             for v in (item.start, item.stop, item.step))
        if step is not None and step <= 0:
            raise ValueError("slice step cannot be zero" if step == 0 else
                             "step must be greater than zero")
        return slice(start, stop, step), False
    if item is None or item is Ellipsis:
        return item, False
    if isinstance(item, bool):
        return item, True
    try:
        return item.__index__(), False
    except AttributeError:
        raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or "
                         f"bool tensors are valid indices (got {type(item).__name__})") from None


def normalize_index(x: Tensor, index) -> tuple:
    if not isinstance(index, tuple):
        index = (index,)
    parts, advanced = [], False
    for item in index:
        part, adv = _index_part(item, x)
        parts.append(part)
        advanced |= adv
    return tuple(parts), advanced


def _basic_name(idx: tuple, whole_slice_counts: bool) -> str:
    """torch's grad_fn for basic indexing: that of the last step it applies."""
    for item in reversed(idx):
        if item is Ellipsis:
            continue
        if isinstance(item, slice):
            # inside a tuple, torch skips `:` entirely
            if item.start is item.stop is item.step is None and not whole_slice_counts:
                continue
            return "SliceBackward0"
        return "UnsqueezeBackward0" if item is None else "SelectBackward0"
    return "AliasBackward0"


@ops.declare(function=False, method=False, operators=("__getitem__",))
def getitem(x: Tensor, index) -> Tensor:
    """x[index]: ints, slices, None, Ellipsis, int/bool tensors or lists."""
    idx, advanced = normalize_index(x, index)
    name = "IndexBackward0" if advanced else _basic_name(idx, not isinstance(index, tuple))
    return take(x, idx, advanced, name)


def take(x: Tensor, idx: tuple, advanced: bool, name: str | None = None) -> Tensor:
    """getitem with an index already in backend form; basic indexing gives a view."""
    try:
        data = x.backend.getitem(_shareable(x), idx)
    except IndexError as err:
        raise IndexError(str(err).replace("axis", "dimension")) from None
    out = _make(data, x.dtype, x.backend, None if advanced else x)
    if x._rg and STATE.grad_enabled:
        if name is None:
            name = "IndexBackward0" if advanced else _basic_name(idx, False)
        record1(out, name, _getitem_backward, x, (), (tuple(x.data.shape), idx, advanced))
    return out


def _getitem_backward(node, g):
    shape, idx, advanced = node.args
    return (index_add_into_zeros(g, shape, idx, advanced),)


def index_add_into_zeros(g: Tensor, shape: tuple, idx: tuple, advanced: bool) -> Tensor:
    """zeros(shape) with g added at idx (repeats add up); the adjoint of getitem."""
    k = g.backend
    data = k.full(shape, 0, g.dtype)
    k.index_add(data, idx, g.data)
    out = _make(data, g.dtype, k)
    if g._rg and STATE.grad_enabled:
        record1(out, "IndexPutBackward0", _index_add_backward, g, (), (idx, advanced))
    return out


def _index_add_backward(node, g):
    return (take(g, *node.args),)


def put(k, target, idx: tuple, values, advanced: bool) -> None:
    """target[idx] = values through the backend, with torch's error types."""
    try:
        k.setitem(target, idx, values)
    except IndexError as err:
        if not advanced or "bound" in str(err):
            raise IndexError(str(err).replace("axis", "dimension")) from None
        _put_by_adding(k, target, idx, values)  # no index arrays in the backend's setitem
    except ValueError as err:
        raise RuntimeError(f"setitem: {err}") from None
    except (TypeError, NotImplementedError):
        if not advanced:
            raise
        _put_by_adding(k, target, idx, values)


def _put_by_adding(k, target, idx: tuple, values) -> None:
    """target[idx] = values with index_add (the contract's scatter): add the difference.

    Exact when each element is selected once; a repeated index would add twice.
    """
    shape = tuple(target.shape)
    hits = k.full(shape, 0, dtypes.int64)
    k.index_add(hits, idx, k.full(tuple(k.getitem(hits, idx).shape), 1, dtypes.int64))
    if k.tolist(k.sum(k.astype(k.gt(hits, 1), dtypes.int64), None, False)):
        raise NotImplementedError("setitem with a repeated index is not supported on this "
                                  "backend")
    k.index_add(target, idx, k.sub(values, k.getitem(target, idx)))


def index_put(x: Tensor, idx: tuple, value, advanced: bool) -> Tensor:
    """A copy of x with value written at idx (backend-form index); differentiable in both."""
    k = x.backend
    data = k.copy(x.data)
    vd = value
    if type(value) is Tensor:
        vd = value.data if value.dtype is x.dtype else k.astype(value.data, x.dtype)
    put(k, data, idx, vd, advanced)
    out = _make(data, x.dtype, k)
    if STATE.grad_enabled and (x._rg or (type(value) is Tensor and value._rg)):
        meta = (tuple(value.data.shape), value.dtype) if type(value) is Tensor else None
        record(out, "IndexPutBackward0" if advanced else "CopySlices", _index_put_backward,
               (x, value), (), (idx, advanced, meta))
    return out


def _index_put_backward(node, g):
    idx, advanced, meta = node.args
    gx = gv = None
    if node.inputs[0] is not None:
        gx = index_put(g, idx, 0, advanced)  # what was overwritten gets nothing
    if node.inputs[1] is not None:
        gv = take(g, idx, advanced)
        shape, dtype = meta
        lead = len(shape) - gv.ndim
        if lead > 0:  # the value had leading size-1 dims that indexing drops
            gv = gv.reshape((1,) * lead + tuple(gv.data.shape))
        gv = grad_like(gv, shape, dtype)
    return gx, gv


__all__ = ops.exported()
