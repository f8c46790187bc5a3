"""Indexing: `x[index]` (a view for basic indexing, a gather for index tensors), and
`index_put`, its adjoint, which writes values at an index of a copy.

An index is first put in the backend's form (`normalize_index`: ints, slices,
None, Ellipsis and index arrays); `take_index` and `index_put` then work on that
form, so that backward formulas, which already hold one, skip the parsing.
"""
from __future__ import annotations

import operator

from . import dtypes
from .aliases import link
from .backend import written
from .declare import Ops
from .grad_mode import STATE
from .operands import broadcast_shapes, grad_like
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
        if item._array.ndim == 0 and item.dtype is not dtypes.bool and not x.backend.lazy:
            # torch treats a 0-d integer tensor as an int; on a lazy backend it stays an
            # index array (same result), so that indexing does not compute it
            return int(item.item()), False
        return item._array, True
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
    return take_index(x, idx, advanced, name)


def take_index(x: Tensor, idx: tuple, advanced: bool, name: str | None = None) -> Tensor:
    """getitem with an index already in backend form; basic indexing gives a view."""
    try:
        data = x.backend.getitem(_shareable(x), idx)
    except IndexError as err:
        raise IndexError(str(err).replace("axis", "dimension")) from None
    out = _make(data, x.dtype, x.backend, None if advanced else x)
    if not advanced and not (x.backend.views and x.backend.writable):
        link(out, x, lambda k, a: k.getitem(a, idx))
    if x._rg and STATE.grad_enabled:
        if name is None:
            name = "IndexBackward0" if advanced else _basic_name(idx, False)
        record1(out, name, _getitem_backward, x, (), (tuple(x._array.shape), idx, advanced))
    return out


def _getitem_backward(node, g):
    shape, idx, advanced = node.args
    return (index_add_into_zeros(g, shape, idx, advanced),)


def index_add_into_zeros(g: Tensor, shape: tuple, idx: tuple, advanced: bool) -> Tensor:
    """zeros(shape) with g added at idx (repeats add up); the adjoint of getitem."""
    k = g.backend
    data = k.full(shape, 0, g.dtype)
    data = written(k.index_add(data, idx, g._array), data)
    out = _make(data, g.dtype, k)
    if g._rg and STATE.grad_enabled:
        record1(out, "IndexPutBackward0", _index_add_backward, g, (), (idx, advanced))
    return out


def _index_add_backward(node, g):
    return (take_index(g, *node.args),)


def put(k, target, idx: tuple, values, advanced: bool):
    """target[idx] = values through the backend, with torch's error types; returns the array
    holding the result (target itself on a writable backend)."""
    try:
        return written(k.setitem(target, idx, values), target)
    except IndexError as err:
        if not advanced or "bound" in str(err):
            raise IndexError(str(err).replace("axis", "dimension")) from None
        return _put_by_adding(k, target, idx, values)  # no index arrays in its setitem
    except ValueError as err:
        raise RuntimeError(f"setitem: {err}") from None
    except (TypeError, NotImplementedError):
        if not advanced:
            raise
        return _put_by_adding(k, target, idx, values)


def _put_by_adding(k, target, idx: tuple, values):
    """target[idx] = values with index_add (the contract's scatter): add the difference.

    Exact when each element is selected once; a repeated index would add twice.
    """
    shape = tuple(target.shape)
    hits = k.full(shape, 0, dtypes.int64)
    hits = written(k.index_add(hits, idx, k.full(tuple(k.getitem(hits, idx).shape), 1,
                                                 dtypes.int64)), hits)
    if k.tolist(k.sum(k.astype(k.gt(hits, 1), dtypes.int64), None, False)):
        raise NotImplementedError("setitem with a repeated index is not supported on this "
                                  "backend")
    return written(k.index_add(target, idx, k.sub(values, k.getitem(target, idx))), target)


def index_put(x: Tensor, idx: tuple, value, advanced: bool) -> Tensor:
    """A copy of x with value written at idx (backend-form index); differentiable in both."""
    k = x.backend
    data = k.copy(x._array)
    vd = value
    if type(value) is Tensor:
        vd = value._array if value.dtype is x.dtype else k.astype(value._array, x.dtype)
    data = put(k, data, idx, vd, advanced)
    out = _make(data, x.dtype, k)
    if STATE.grad_enabled and (x._rg or (type(value) is Tensor and value._rg)):
        meta = (tuple(value._array.shape), value.dtype) if type(value) is Tensor else None
        record(out, "IndexPutBackward0" if advanced else "CopySlices", _index_put_backward,
               (x, value), (), (idx, advanced, meta))
    return out


def _index_put_backward(node, g):
    idx, advanced, meta = node.args
    gx = gv = None
    if node.inputs[0] is not None:
        gx = index_put(g, idx, 0, advanced)  # what was overwritten gets nothing
    if node.inputs[1] is not None:
        gv = take_index(g, idx, advanced)
        shape, dtype = meta
        lead = len(shape) - gv.ndim
        if lead > 0:  # the value had leading size-1 dims that indexing drops
            gv = gv.reshape((1,) * lead + tuple(gv._array.shape))
        gv = grad_like(gv, shape, dtype)
    return gx, gv


# -- gather, scatter and selections along a dim ---------------------------------------------
def _index_tensor(index, op: str, int32: bool = False) -> None:
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.dtype is not dtypes.int64 and not (int32 and index.dtype is dtypes.int32):
        raise RuntimeError(f"{op}(): Expected dtype int32 or int64 for index" if int32 else
                           f"{op}(): Expected dtype int64 for index")


def _check_negative(index: Tensor, size: int, d: int) -> None:
    """torch's error for a negative index (NumPy would count it from the end).

    An index past the end is left to the kernel, whose IndexError `_bounds_error` turns
    into torch's; a lazy backend's indices are not read.
    """
    k = index.backend
    if k.lazy or 0 in index._array.shape:
        return
    lo = k.tolist(k.min(index._array, None, False))
    if lo < 0:
        raise RuntimeError(f"index {lo} is out of bounds for dimension {d} with size {size}")


def _bounds_error(index: Tensor, size: int, d: int) -> RuntimeError:
    k = index.backend
    hi = k.tolist(k.max(index._array, None, False))
    return RuntimeError(f"index {hi} is out of bounds for dimension {d} with size {size}")


def _grid(x: Tensor, dim: int, index: Tensor, op: str, src=None) -> tuple:
    """The index, in backend form, of the elements that gather/scatter address along dim."""
    _index_tensor(index, op, int32=True)
    if index.backend is not x.backend:
        raise RuntimeError(f"{op}: index is on backend {index.backend.name!r} but the input "
                           f"is on {x.backend.name!r}")
    nd = max(x._array.ndim, 1)
    d = dim + nd if dim < 0 else dim
    if not 0 <= d < nd:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], "
                         f"but got {dim})")
    ishape = tuple(index._array.shape) or (1,)
    xshape = tuple(x._array.shape) or (1,)
    if index._array.ndim != x._array.ndim and index._array.ndim > 0 and x._array.ndim > 0:
        raise RuntimeError("Index tensor must have the same number of dimensions as input "
                           "tensor" if op == "gather" else
                           "Index tensor must have the same number of dimensions as self tensor")
    for a in range(len(ishape)):
        if a != d and ishape[a] > xshape[a]:
            raise RuntimeError(f"Size does not match at dimension {a} expected index "
                               f"{list(index.shape)} to be no larger than self "
                               f"{list(x.shape)} apart from dimension {d}")
        if src is not None and ishape[a] > (tuple(src._array.shape) or (1,))[a]:
            raise RuntimeError(f"Expected index {list(index.shape)} to be no larger than self "
                               f"{list(x.shape)} apart from dimension {d} and to be no larger "
                               f"size than src {list(src.shape)}")
    _check_negative(index, xshape[d], d)
    k = x.backend
    parts = []
    for a, n in enumerate(ishape):
        if a == d:
            parts.append(k.reshape(index._array, ishape))
        else:
            one = [1] * len(ishape)
            one[a] = n
            parts.append(k.reshape(k.arange(0, n, 1, dtypes.int64), tuple(one)))
    return tuple(parts), ishape, xshape[d], d


def _flat_input(x: Tensor) -> Tensor:
    return x if x._array.ndim else x.reshape((1,))


@ops.declare
def gather(x: Tensor, dim: int, index: Tensor, *,
           sparse_grad: bool = False) -> Tensor:  # noqa: V107 - torch's signature
    """`out[i][j] = x[index[i][j]][j]` (dim 0): values picked along dim by index."""
    parts, ishape, size, d = _grid(x, dim, index, "gather")
    try:
        out = take_index(_flat_input(x), parts, True, "GatherBackward0")
    except IndexError:
        raise _bounds_error(index, size, d) from None
    if not index._array.ndim:
        out = _renamed(out.reshape(()), "GatherBackward0")
    return out


def _renamed(out: Tensor, name: str) -> Tensor:
    if out.grad_fn is not None:
        out.grad_fn._name = name
    return out


def _src_part(src: Tensor, ishape: tuple) -> Tensor:
    """The part of src that scatter reads: its leading index.shape block."""
    if not src._array.ndim:
        return src.reshape(ishape) if ishape != (1,) else src.reshape((1,))
    if tuple(src._array.shape) == ishape:
        return src
    return take_index(src, tuple(slice(0, n) for n in ishape), False)


def _same_dtype(x: Tensor, src: Tensor, op: str) -> None:
    if not isinstance(src, Tensor):
        raise TypeError(f"{op}(): argument 'src' must be Tensor, not {type(src).__name__}")
    if src.dtype is not x.dtype:
        raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype")


@ops.declare(inplace=True)
def scatter(x: Tensor, dim: int, index: Tensor, src=None, value=None, *, reduce=None) -> Tensor:
    """A copy of x with src (or the number `value`) written at index along dim.

    The adjoint of gather; with a repeated index, which write wins is unspecified.
    """
    if reduce is not None:
        raise NotImplementedError("scatter(reduce=...) is not supported; use scatter_add")
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter() missing required argument 'src' or 'value'")
    if isinstance(src, Tensor):
        _same_dtype(x, src, "scatter")
        parts, ishape, size, d = _grid(x, dim, index, "scatter", src)
        src = _src_part(src, ishape)
        name = "ScatterBackward0"
    else:
        parts, ishape, size, d = _grid(x, dim, index, "scatter")
        name = "ScatterBackward1"
    try:
        out = index_put(_flat_input(x), parts, src, True)
    except IndexError:
        raise _bounds_error(index, size, d) from None
    if not x._array.ndim:
        out = out.reshape(())
    return _renamed(out, name)


@ops.declare(inplace=True)
def scatter_add(x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of x with src added at index along dim (repeated indices add up)."""
    _same_dtype(x, src, "scatter_add")
    parts, ishape, size, d = _grid(x, dim, index, "scatter_add", src)
    if x._array.ndim and src._array.ndim == x._array.ndim:
        return _add_at(x, parts, _src_part(src, ishape), 1, "ScatterAddBackward0", index, size, d)
    shape = tuple(x._array.shape) or (1,)
    try:
        added = index_add_into_zeros(_src_part(src, ishape), shape, parts, True)
    except IndexError:
        raise _bounds_error(index, size, d) from None
    out = x + (added if x._array.ndim else added.reshape(()))
    return _renamed(out, "ScatterAddBackward0")


def _add_at(x: Tensor, idx: tuple, src: Tensor, scale, name: str, index: Tensor, size: int,
            d: int) -> Tensor:
    """A copy of x with scale * src added at idx: scatter_add and index_add in one kernel."""
    k = x.backend
    data = k.copy(x._array)
    try:
        data = written(k.index_add(data, idx, src._array if scale == 1 else
                                   k.mul(src._array, scale)), data)
    except IndexError:
        raise _bounds_error(index, size, d) from None
    out = _make(data, x.dtype, k)
    if STATE.grad_enabled and (x._rg or src._rg):
        record(out, name, _add_at_backward, (x, src), (), (idx, scale))
    return out


def _add_at_backward(node, g):
    idx, scale = node.args
    gs = None
    if node.inputs[1] is not None:  # what each element of src was added to
        gs = take_index(g, idx, True)
        if scale != 1:
            gs = gs * scale
    return (g if node.inputs[0] is not None else None), gs


def _along(x: Tensor, dim: int, index: Tensor, op: str):
    _index_tensor(index, op, int32=True)
    if index._array.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector")
    nd = max(x._array.ndim, 1)
    d = dim + nd if dim < 0 else dim
    if not 0 <= d < nd:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], "
                         f"but got {dim})")
    k = index.backend
    data = index._array if index._array.ndim else k.reshape(index._array, (1,))
    return d, (slice(None),) * d + (data,)


@ops.declare
def index_select(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices of x along dim at the positions in the 1-D `index`."""
    d, idx = _along(x, dim, index, "index_select")
    try:
        _check_negative(index, 0, d)
        out = take_index(_flat_input(x), idx, True, "IndexSelectBackward0")
    except (RuntimeError, IndexError):
        if d == 0:
            raise IndexError("index out of range in self") from None
        k = index.backend
        lo, hi = (k.tolist(f(index._array, None, False)) for f in (k.min, k.max))
        raise RuntimeError(f"INDICES element is out of DATA bounds, id={lo if lo < 0 else hi} "
                           f"axis_dim={x._array.shape[d]}") from None
    if not x._array.ndim:
        out = _renamed(out.reshape(()), "IndexSelectBackward0")
    return out


@ops.declare(inplace=True)
def index_add(x: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """A copy of x with alpha * source's slices added at `index` along dim."""
    d, idx = _along(x, dim, index, "index_add")
    if not isinstance(source, Tensor):
        raise TypeError(f"index_add(): argument 'source' must be Tensor, not "
                        f"{type(source).__name__}")
    if source.dtype is not x.dtype:
        raise RuntimeError(f"index_add_(): self ({x.dtype.name}) and source "
                           f"({source.dtype.name}) must have the same scalar type")
    shape = tuple(x._array.shape) or (1,)
    _check_negative(index, shape[d], d)
    if x._array.ndim and source._array.ndim == x._array.ndim:
        return _add_at(x, idx, source, alpha, "IndexAddBackward0", index, shape[d], d)
    src = source if alpha == 1 else source * alpha
    if src._array.ndim != len(shape):
        src = src.reshape(tuple(src._array.shape) or (1,))
    try:
        added = index_add_into_zeros(src, shape, idx, True)
    except IndexError:
        raise _bounds_error(index, shape[d], d) from None
    out = x + (added if x._array.ndim else added.reshape(()))
    return _renamed(out, "IndexAddBackward0")


@ops.declare
def masked_select(x: Tensor, mask: Tensor) -> Tensor:
    """The elements of x where the (broadcast) bool mask is True, as a 1-D tensor."""
    if not isinstance(mask, Tensor) or mask.dtype is not dtypes.bool:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = broadcast_shapes(tuple(x._array.shape), tuple(mask._array.shape))
    k = x.backend
    xb = x if tuple(x._array.shape) == shape else x.expand(shape)
    mb = mask._array if tuple(mask._array.shape) == shape else k.broadcast_to(mask._array, shape)
    if not shape:
        xb, mb = xb.reshape((1,)), k.reshape(mb, (1,))
    return take_index(xb, (mb,), True, "MaskedSelectBackward0")


@ops.declare
def take(x: Tensor, index: Tensor) -> Tensor:
    """The elements of x, read as if it were 1-D, at `index` (the result has index's shape)."""
    if not isinstance(index, Tensor):
        raise TypeError(f"take(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.dtype is not dtypes.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got "
                           f"{index.dtype.name}")
    try:
        return take_index(x.reshape(-1), (index._array,), True, "TakeBackward0")
    except IndexError:  # NumPy's rule for negative indices is torch's: only the error differs
        k = index.backend
        n = x.numel()
        lo, hi = (k.tolist(f(index._array, None, False)) for f in (k.min, k.max))
        raise IndexError(f"out of range: tried to access index {lo if lo < -n else hi} on a "
                         f"tensor of {n} elements.") from None


@ops.declare
def nonzero(x: Tensor, *, as_tuple: bool = False):
    """The indices of the nonzero elements: an (n, ndim) int64 tensor, or one per dim."""
    k = x.backend
    flags = x._array if x.dtype is dtypes.bool else k.astype(x._array, dtypes.bool)
    nd = flags.ndim
    if as_tuple and not nd:  # torch: a 0-d tensor counts as one of shape (1,)
        flags, nd = k.reshape(flags, (1,)), 1
    data = k.nonzero(flags, dtypes.int64)
    out = _make(data, dtypes.int64, k)
    if as_tuple:
        return tuple(_make(k.copy(k.getitem(data, (slice(None), j))), dtypes.int64, k)
                     for j in range(nd))
    return out


__all__ = ops.exported()
