"""Movement and indexing ops: views, reshapes, joins, splits and `x[...]`.

Most results are views of their input's data, as in torch; their backward
moves the gradient back into the input's layout.
"""
from __future__ import annotations

import operator
import weakref

from . import dtypes
from .grad_mode import STATE
from .graph import Node
from .recording import edge, record, record1
from .tensor import Tensor, _check_inplace, _make, _shareable, bump, legacy_name, root

__all__ = ["reshape", "view", "permute", "transpose", "swapaxes", "movedim", "squeeze",
           "unsqueeze", "expand", "expand_as", "broadcast_to", "flatten", "cat", "concat",
           "stack", "split", "chunk", "unbind", "narrow", "getitem", "setitem", "normalize_dim"]


def normalize_dim(dim: int, ndim: int) -> int:
    """A dim in [-ndim, ndim) made non-negative, or torch's IndexError."""
    n = ndim if ndim > 0 else 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim + n if dim < 0 else dim


def _sizes(args) -> tuple:
    """Accept both f(2, 3) and f((2, 3))."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    return tuple(int(s) for s in args)


def _infer_shape(shape: tuple, numel: int) -> tuple:
    """Resolve one -1 in `shape`, checking the element count like torch."""
    known = 1
    unknown = None
    for i, s in enumerate(shape):
        if s == -1:
            if unknown is not None:
                raise RuntimeError("only one dimension can be inferred")
            unknown = i
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape {list(shape)}")
        else:
            known *= s
    if unknown is not None:
        if known == 0:
            raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {list(shape)} "
                               f"because the unspecified dimension size -1 can be any value and "
                               f"is ambiguous" if numel == 0 else
                               f"shape '{list(shape)}' is invalid for input of size {numel}")
        if numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[:unknown] + (numel // known,) + shape[unknown + 1:]
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


# -- reshapes ------------------------------------------------------------------------
def reshape(x: Tensor, *shape) -> Tensor:
    """The same elements in a new shape (a view when possible, else a copy)."""
    shape = _infer_shape(_sizes(shape), x.numel())
    if shape == x.data.shape:
        return _alias(x, "ViewBackward0")
    out = _make(x.backend.reshape(_shareable(x), shape), x.dtype, x.backend, x)
    if x._rg and STATE.grad_enabled:
        record1(out, "ViewBackward0", _reshape_backward, x, (), tuple(x.data.shape))
    return out


def view(x: Tensor, *shape) -> Tensor:
    """The same data in a new shape; refuses (RuntimeError) where that needs a copy."""
    if len(shape) == 1 and isinstance(shape[0], dtypes.dtype):
        raise NotImplementedError("view(dtype) is not supported")
    shape = _infer_shape(_sizes(shape), x.numel())
    try:
        data = x.backend.reshape(_shareable(x), shape, copy=False)
    except (ValueError, AttributeError):
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        ) from None
    out = _make(data, x.dtype, x.backend, x)
    if x._rg and STATE.grad_enabled:
        record1(out, "ViewBackward0", _reshape_backward, x, (), tuple(x.data.shape))
    return out


def _reshape_backward(node, g):
    return (g.reshape(node.args),)


def _alias(x: Tensor, name: str) -> Tensor:
    """A new tensor object over the same data, recorded as a view."""
    out = _make(_shareable(x), x.dtype, x.backend, x)
    if x._rg and STATE.grad_enabled:
        record1(out, name, _alias_backward, x)
    return out


def _alias_backward(node, g):
    return (g,)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one."""
    s = normalize_dim(start_dim, x.ndim)
    e = normalize_dim(end_dim, x.ndim)
    if x.ndim == 0:
        return reshape(x, (1,))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = tuple(x.data.shape)
    return reshape(x, shape[:s] + (-1 if 0 not in shape[s:e + 1] else 0,) + shape[e + 1:])


def squeeze(x: Tensor, dim=None) -> Tensor:
    """Drop size-1 dims (all, or the given ones)."""
    shape = tuple(x.data.shape)
    if dim is None:
        dims = {i for i, s in enumerate(shape) if s == 1}
        name = "SqueezeBackward0"
    else:
        many = isinstance(dim, (tuple, list))
        dims = {normalize_dim(d, x.ndim) for d in (dim if many else (dim,))}
        dims = {d for d in dims if x.ndim and shape[d] == 1}
        name = "SqueezeBackward2" if many else "SqueezeBackward1"
    new = tuple(s for i, s in enumerate(shape) if i not in dims)
    out = _make(x.backend.reshape(_shareable(x), new), x.dtype, x.backend, x)
    if x._rg and STATE.grad_enabled:
        record1(out, name, _reshape_backward, x, (), shape)
    return out


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at `dim`."""
    d = normalize_dim(dim, x.ndim + 1)
    shape = tuple(x.data.shape)
    out = _make(x.backend.reshape(_shareable(x), shape[:d] + (1,) + shape[d:]), x.dtype,
                x.backend, x)
    if x._rg and STATE.grad_enabled:
        record1(out, "UnsqueezeBackward0", _reshape_backward, x, (), shape)
    return out


# -- axis order ------------------------------------------------------------------------
def permute(x: Tensor, *dims) -> Tensor:
    """Reorder the dims (a view)."""
    dims = _sizes(dims)
    if len(dims) != x.ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {x.ndim} is not equal to len(dims) = {len(dims)}"
                           .replace("(sparse_coo)", ""))
    axes = tuple(normalize_dim(d, x.ndim) for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _permute(x, axes, "PermuteBackward0")


def _permute(x: Tensor, axes: tuple, name: str) -> Tensor:
    out = _make(x.backend.permute(_shareable(x), axes), x.dtype, x.backend, x)
    if x._rg and STATE.grad_enabled:
        inverse = tuple(sorted(range(len(axes)), key=axes.__getitem__))
        record1(out, name, _permute_backward, x, (), inverse)
    return out


def _permute_backward(node, g):
    return (g.permute(node.args),)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dims (a view)."""
    if x.ndim == 0:
        normalize_dim(dim0, 0), normalize_dim(dim1, 0)
        return _alias(x, "TransposeBackward0")
    a, b = normalize_dim(dim0, x.ndim), normalize_dim(dim1, x.ndim)
    axes = list(range(x.ndim))
    axes[a], axes[b] = b, a
    return _permute(x, tuple(axes), "TransposeBackward0")


swapaxes = transpose


def movedim(x: Tensor, source: int, destination: int) -> Tensor:
    """Move one dim to another position."""
    s, d = normalize_dim(source, x.ndim), normalize_dim(destination, x.ndim)
    axes = [i for i in range(x.ndim) if i != s]
    axes.insert(d, s)
    return _permute(x, tuple(axes), "PermuteBackward0")


# -- broadcasting --------------------------------------------------------------------------
def expand(x: Tensor, *sizes) -> Tensor:
    """A broadcast view to a larger shape; -1 keeps a dim."""
    sizes = _sizes(sizes)
    shape = tuple(x.data.shape)
    if len(sizes) < len(shape):
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater "
                           f"or equal to the number of dimensions in the tensor ({len(shape)})")
    lead = len(sizes) - len(shape)
    target = []
    for i, s in enumerate(sizes):
        have = shape[i - lead] if i >= lead else None
        if s == -1:
            if have is None:
                raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a "
                                   f"leading, non-existing dimension {i}")
            s = have
        elif have is not None and have != 1 and have != s:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({have}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                f"{list(shape)}")
        target.append(s)
    target = tuple(target)
    if target == shape:
        return _alias(x, "ExpandBackward0")
    out = _make(x.backend.broadcast_to(_shareable(x), target), x.dtype, x.backend, x)
    if x._rg and STATE.grad_enabled:
        record1(out, "ExpandBackward0", _expand_backward, x, (), shape)
    return out


def _expand_backward(node, g):
    from .pointwise import unbroadcast
    return (unbroadcast(g, node.args),)


def expand_as(x: Tensor, other: Tensor) -> Tensor:
    return expand(x, tuple(other.data.shape))


def broadcast_to(x: Tensor, shape) -> Tensor:
    return expand(x, tuple(shape))


# -- joining and splitting ----------------------------------------------------------------------
class _EmptyListError(RuntimeError, ValueError):
    """cat([]): torch 1.x raised RuntimeError, torch 2.x raises ValueError; this is both."""


def _is_legacy_empty(t: Tensor) -> bool:
    """torch's cat still skips 1-D empty tensors, whatever the others' shapes."""
    return t.data.ndim == 1 and t.data.shape[0] == 0


def _join_dtype(tensors: list, op: str):
    """The backend and promoted dtype of tensors to join, checking what torch checks."""
    bk = tensors[0].backend
    dtype = tensors[0].dtype
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected a sequence of Tensors, got {type(t).__name__}")
        if t.backend is not bk:
            raise RuntimeError(f"{op}: expected all tensors on the same backend, but found "
                               f"{bk.name!r} and {t.backend.name!r} (tensor {i})")
        dtype = dtypes.promote_types(dtype, t.dtype)
    return bk, dtype


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dim."""
    tensors = list(tensors)
    if not tensors:
        raise _EmptyListError("torch.cat(): expected a non-empty list of Tensors")
    bk, dtype = _join_dtype(tensors, "cat")
    for i, t in enumerate(tensors):
        if t.data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be "
                               f"concatenated")
    joined = [(i, t) for i, t in enumerate(tensors) if not _is_legacy_empty(t)] or [(0, tensors[0])]
    first = joined[0][1]
    d = normalize_dim(dim, first.ndim)
    for i, t in joined[1:]:
        if t.ndim != first.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {first.ndim} "
                               f"and {t.ndim}")
        for k in range(first.ndim):
            if k != d and t.data.shape[k] != first.data.shape[k]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{first.data.shape[k]} but got size {t.data.shape[k]} for tensor number "
                    f"{i} in the list.")
    datas = [t.data if t.dtype is dtype else bk.astype(t.data, dtype) for _, t in joined]
    out = _make(bk.concat(datas, d), dtype, bk)
    if STATE.grad_enabled and any(t._rg for t in tensors):
        sizes = [None] * len(tensors)
        for i, t in joined:
            sizes[i] = t.data.shape[d]
        record(out, "CatBackward0", _cat_backward, tuple(tensors), (),
               (d, tuple(sizes), tuple(t.dtype for t in tensors)))
    return out


concat = cat


def _cat_backward(node, g):
    d, sizes, in_dtypes = node.args
    grads, start = [], 0
    for fn, size, dtype in zip(node.inputs, sizes, in_dtypes):
        if fn is None:
            grads.append(None)
        elif size is None:  # a skipped empty tensor
            grads.append(_make(g.backend.full((0,), 0, dtype), dtype, g.backend))
        else:
            grads.append(_narrow(g, d, start, size, "SliceBackward0").to(dtype))
        start += size or 0
    return tuple(grads)


def stack(tensors, dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dim."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    bk, dtype = _join_dtype(tensors, "stack")
    shape0 = tuple(tensors[0].data.shape)
    for i, t in enumerate(tensors):
        if tuple(t.data.shape) != shape0:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(shape0)} at entry 0 and {list(t.shape)} at entry {i}")
    d = normalize_dim(dim, len(shape0) + 1)
    one = shape0[:d] + (1,) + shape0[d:]
    datas = [bk.reshape(t.data if t.dtype is dtype else bk.astype(t.data, dtype), one)
             for t in tensors]
    out = _make(bk.concat(datas, d), dtype, bk)
    if STATE.grad_enabled and any(t._rg for t in tensors):
        record(out, "StackBackward0", _stack_backward, tuple(tensors), (),
               (d, tuple(t.dtype for t in tensors)))
    return out


def _stack_backward(node, g):
    d, in_dtypes = node.args
    return tuple(None if fn is None else
                 take(g, (slice(None),) * d + (i,), False, "SelectBackward0").to(dtype)
                 for i, (fn, dtype) in enumerate(zip(node.inputs, in_dtypes)))


def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The slice [start, start + length) of one dim (a view)."""
    if x.data.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = normalize_dim(dim, x.ndim)
    size = x.data.shape[d]
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], "
                         f"but got {start})")
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return _narrow(x, d, start, length, "SliceBackward0")


def _narrow(x: Tensor, d: int, start: int, length: int, name: str) -> Tensor:
    return take(x, (slice(None),) * d + (slice(start, start + length),), False, name)


def _split_dim(x: Tensor, dim: int, op: str) -> int:
    if x.data.ndim == 0:
        raise RuntimeError(f"{op} expects at least a 1-dimensional tensor")
    return normalize_dim(dim, x.data.ndim)


def split(x: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces of `split_size` along dim (the last may be smaller), or of the given sizes."""
    d = _split_dim(x, dim, "split")
    size = x.data.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got "
                               f"split_size={step}")
        if step == 0 and size != 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {size}")
        sizes = [min(step, size - s) for s in range(0, size, step)] if size else [0]
        return _split_sizes(x, d, sizes, "SplitBackward0")
    sizes = [int(s) for s in split_size_or_sections]
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative entries, "
                           f"but got split_sizes={sizes}")
    if sum(sizes) != size:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} "
                           f"(input tensor's size at dimension {d}), but got "
                           f"split_sizes={sizes}")
    return _split_sizes(x, d, sizes, "SplitWithSizesBackward0")


def _split_sizes(x: Tensor, d: int, sizes: list, name: str) -> tuple:
    pieces, start = [], 0
    for s in sizes:
        pieces.append(_narrow(x, d, start, s, name))
        start += s
    return tuple(pieces)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into `chunks` nearly equal pieces (fewer if the dim is short)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = _split_dim(x, dim, "chunk")
    size = x.data.shape[d]
    if size == 0:  # torch gives `chunks` empty pieces here
        return _split_sizes(x, d, [0] * chunks, "SplitWithSizesBackward0")
    return split(x, -(-size // chunks), d)


def unbind(x: Tensor, dim: int = 0) -> tuple:
    """The slices along dim, with that dim removed."""
    if x.data.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = normalize_dim(dim, x.ndim)
    return tuple(take(x, (slice(None),) * d + (i,), False, "UnbindBackward0")
                 for i in range(x.data.shape[d]))


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


def _normalize_index(x: Tensor, index) -> tuple:
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


def getitem(x: Tensor, index) -> Tensor:
    """x[index]: ints, slices, None, Ellipsis, int/bool tensors or lists."""
    idx, advanced = _normalize_index(x, index)
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


# -- writing: x[index] = value, and the in-place machinery ------------------------------------
def setitem(x: Tensor, index, value) -> None:
    """x[index] = value (a number or a tensor broadcast to x[index]); differentiable in both.

    Recorded as torch records it: CopySlices for basic indexing, IndexPutBackward0
    for index tensors; x's history becomes that node.
    """
    if type(value) is not Tensor:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            from .pointwise import _number
            value = _number(value, "setitem")
    elif value.backend is not x.backend:
        raise RuntimeError(f"setitem: the value is on backend {value.backend.name!r} but the "
                           f"tensor is on {x.backend.name!r}; move it with .to()")
    idx, advanced = _normalize_index(x, index)
    _check_inplace(x)
    if STATE.grad_enabled and (x._rg or (type(value) is Tensor and value._rg)) and \
            x.dtype.is_floating_point:
        commit(x, index_put(x, idx, value, advanced))
        return
    k = x.backend
    data = value
    if type(value) is Tensor:
        data = value.data if value.dtype is x.dtype else k.astype(value.data, x.dtype)
    before = root(x).data
    _put(k, _shareable(x), idx, data, advanced)
    bump(x, before)


def _put(k, target, idx: tuple, values, advanced: bool) -> None:
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
    _put(k, data, idx, vd, advanced)
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
        from .pointwise import _like
        gv = _like(gv, shape, dtype)
    return gx, gv


def _can_cast(src, dst) -> bool:
    # torch's canCast: no float to integer, no number to bool
    return src.category <= dst.category


def commit(x: Tensor, res: Tensor) -> Tensor:
    """Make `res` (x's new value, computed out of place) x's value in place; returns x.

    The values are written into x's memory, so views and aliases see them, and
    the version is bumped. When res is recorded, x's history becomes res's
    (x.grad_fn is the in-place op's node, whose input edge is x's old grad_fn).
    A view in a graph instead rebases its root base (CopySlices, below).
    """
    if res.data.shape != x.data.shape:
        raise RuntimeError(f"output with shape {list(x.data.shape)} doesn't match the "
                           f"broadcast shape {list(res.data.shape)}")
    if res.dtype is not x.dtype:
        if not _can_cast(res.dtype, x.dtype):
            raise RuntimeError(f"result type {legacy_name(res.dtype)} can't be cast to the "
                               f"desired output type {legacy_name(x.dtype)}")
        from .pointwise import to_dtype
        res = to_dtype(res, x.dtype)
    node = res.grad_fn
    if node is None or not STATE.grad_enabled:
        _write(x, res.data)
        return x
    if x._base is not None:
        r = root(x)
        if r._rg and r.grad_fn is None:
            if x.grad_fn is not None:
                raise RuntimeError("a view of a leaf Variable that requires grad is being used in "
                                   "an in-place operation.")
        elif x.grad_fn is not None or not r._rg:
            _copy_slices(x, r, res)
            return x
        # else: an alias made by detach() or under no_grad: it has no history to rebase
    _write(x, res.data)
    old = x.grad_fn
    x.grad_fn = node
    x._rg = True
    if x._retains:  # torch keeps the gradient of the newest version
        old.hooks.retained = None
        node.retained = weakref.ref(x)
    saved = node.saved
    if saved:
        # the op saved its output as data: point it at x's memory (what torch saves), so a
        # later change of x is caught by the version check rather than silently unseen
        rd, xd = res.data, x.data
        node.saved = tuple([xd if s is rd else s for s in saved])
    return x


# the backend only says "read-only": an expanded view, or memory the user shared read-only
_OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to "
            "a single memory location, or its memory is read-only (e.g. from_numpy of a "
            "read-only NumPy array). Please clone() the tensor before performing the "
            "operation.")


def _write(x: Tensor, data) -> None:
    before = root(x).data
    _store(x.backend, _shareable(x), data)
    bump(x, before)


def _store(k, target, data) -> None:
    try:
        k.setitem(target, (Ellipsis,), data)
    except ValueError as err:  # NumPy's broadcast (expanded) views are read-only
        raise RuntimeError(_OVERLAP if "read-only" in str(err) else f"in-place write: {err}") \
            from None


def _copy_slices(x: Tensor, r: Tensor, res: Tensor) -> None:
    """In place on a view in a graph: the root gets a CopySlices node, the view a gather.

    Which elements of the root the view covers is found by writing marks
    through the view (whatever chain of view ops made it), then restoring.
    """
    positions = _positions(x, r)
    if positions is None:  # no shared memory after all: x is on its own
        _write(x, res.data)
        x.grad_fn, x._rg = res.grad_fn, True
        return
    _write(x, res.data)
    shape = tuple(r.data.shape)
    old = r.grad_fn
    node = Node("CopySlices", _copy_slices_backward, (edge(r), res.grad_fn), (), (positions, shape))
    r.grad_fn = node
    r._rg = True
    if r._retains:
        old.hooks.retained = None
        node.retained = weakref.ref(r)
    x.grad_fn = Node("AsStridedBackward0", _gather_backward, (node,), (), (positions, shape))
    x._rg = True


_MARK_LIMIT = {"float16": 2048, "bfloat16": 256, "float32": 1 << 24}


def _positions(x: Tensor, r: Tensor):
    """For each element of view x, its flat position in root r (int64, x's shape)."""
    k = r.backend
    m, n = x.numel(), r.numel()
    if m == 0:
        return None
    if m >= _MARK_LIMIT.get(r.dtype.name, 1 << 53):
        raise RuntimeError(f"in-place change of a view of {m} {r.dtype.name} elements in a "
                           f"graph is not supported (too many to tell apart); clone() it first")
    rd = _shareable(r)
    keep = k.copy(rd)
    try:
        k.setitem(rd, (Ellipsis,), 0)
        marks = k.reshape(k.arange(1, m + 1, 1, r.dtype), tuple(x.data.shape))
        _store(k, _shareable(x), marks)
        seen = k.astype(k.reshape(k.copy(rd), (n,)), dtypes.int64)
    finally:
        k.setitem(rd, (Ellipsis,), keep)
    found = k.full((m + 1,), 0, dtypes.int64)
    k.index_add(found, (seen,), k.arange(0, n, 1, dtypes.int64))
    count = k.full((m + 1,), 0, dtypes.int64)
    k.index_add(count, (seen,), k.full((n,), 1, dtypes.int64))
    counts = k.tolist(count)[1:]
    if not any(counts):
        return None
    if any(c != 1 for c in counts):
        raise RuntimeError(_OVERLAP)
    return k.reshape(k.getitem(found, (slice(1, None),)), tuple(x.data.shape))


def _copy_slices_backward(node, g):
    positions, shape = node.args
    flat = g.reshape(-1)
    g_old = None
    if node.inputs[0] is not None:
        g_old = index_put(flat, (positions,), 0, True).reshape(shape)
    return g_old, take(flat, (positions,), True, "IndexBackward0")


def _gather_backward(node, g):
    positions, shape = node.args
    n = 1
    for s in shape:
        n *= s
    return (index_add_into_zeros(g, (n,), (positions,), True).reshape(shape),)
