"""Movement and indexing ops: views, reshapes, joins, splits and `x[...]`.

Most results are views of their input's data, as in torch; their backward
moves the gradient back into the input's layout.
"""
from __future__ import annotations

from . import dtypes
from .grad_mode import STATE
from .recording import record, record1
from .tensor import Tensor, _make

__all__ = ["reshape", "view", "permute", "transpose", "swapaxes", "movedim", "squeeze",
           "unsqueeze", "expand", "expand_as", "broadcast_to", "flatten", "cat", "concat",
           "stack", "split", "chunk", "unbind", "narrow", "getitem", "normalize_dim"]


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
            raise RuntimeError(f"invalid shape dimension {s}")
        else:
            known *= s
    if unknown is not None:
        if known == 0 or numel % known:
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
    out = _make(x.backend.reshape(x.data, shape), x.dtype, x.backend, x)
    if x._rg and STATE.grad_enabled:
        record1(out, "ViewBackward0", _reshape_backward, x, (), tuple(x.data.shape))
    return out


def view(x: Tensor, *shape) -> Tensor:
    """The same data in a new shape; refuses (RuntimeError) where that needs a copy."""
    if len(shape) == 1 and isinstance(shape[0], dtypes.dtype):
        raise NotImplementedError("view(dtype) is not supported")
    shape = _infer_shape(_sizes(shape), x.numel())
    try:
        data = x.backend.reshape(x.data, shape, copy=False)
    except (ValueError, AttributeError):
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead.") from None
    out = _make(data, x.dtype, x.backend, x)
    if x._rg and STATE.grad_enabled:
        record1(out, "ViewBackward0", _reshape_backward, x, (), tuple(x.data.shape))
    return out


def _reshape_backward(node, g):
    return (g.reshape(node.args),)


def _alias(x: Tensor, name: str) -> Tensor:
    """A new tensor object over the same data, recorded as a view."""
    out = _make(x.data, x.dtype, x.backend, x)
    if x._rg and STATE.grad_enabled:
        record1(out, name, _alias_backward, x)
    return out


def _alias_backward(node, g):
    return (g,)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one."""
    if x.ndim == 0:
        return reshape(x, (1,))
    s = normalize_dim(start_dim, x.ndim)
    e = normalize_dim(end_dim, x.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = tuple(x.data.shape)
    return reshape(x, shape[:s] + (-1 if 0 not in shape[s:e + 1] else 0,) + shape[e + 1:])


def squeeze(x: Tensor, dim=None) -> Tensor:
    """Drop size-1 dims (all, or the given ones)."""
    shape = tuple(x.data.shape)
    if dim is None:
        dims = {i for i, s in enumerate(shape) if s == 1}
    else:
        dims = {normalize_dim(d, x.ndim) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))}
        dims = {d for d in dims if x.ndim and shape[d] == 1}
    new = tuple(s for i, s in enumerate(shape) if i not in dims)
    out = _make(x.backend.reshape(x.data, new), x.dtype, x.backend, x)
    if x._rg and STATE.grad_enabled:
        record1(out, "SqueezeBackward0", _reshape_backward, x, (), shape)
    return out


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at `dim`."""
    d = normalize_dim(dim, x.ndim + 1)
    shape = tuple(x.data.shape)
    out = _make(x.backend.reshape(x.data, shape[:d] + (1,) + shape[d:]), x.dtype, x.backend, x)
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
    out = _make(x.backend.permute(x.data, axes), x.dtype, x.backend, x)
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
                raise RuntimeError("expand: -1 is not allowed in a leading, non-existing dimension")
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
    out = _make(x.backend.broadcast_to(x.data, target), x.dtype, x.backend, x)
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
def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dim."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"cat(): expected a sequence of Tensors, got {type(t).__name__}")
    first = tensors[0]
    if first.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = normalize_dim(dim, first.ndim)
    bk = first.backend
    dtype = first.dtype
    for i, t in enumerate(tensors[1:], 1):
        if t.backend is not bk:
            raise RuntimeError(f"cat: expected all tensors on the same backend, but found "
                               f"{bk.name!r} and {t.backend.name!r} (tensor {i})")
        if t.ndim != first.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {first.ndim} "
                               f"and {t.ndim}")
        for k in range(first.ndim):
            if k != d and t.data.shape[k] != first.data.shape[k]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{first.data.shape[k]} but got size {t.data.shape[k]} for tensor number "
                    f"{i} in the list.")
        dtype = dtypes.promote_types(dtype, t.dtype)
    datas = [t.data if t.dtype is dtype else bk.astype(t.data, dtype) for t in tensors]
    out = _make(bk.concat(datas, d), dtype, bk)
    if STATE.grad_enabled and any(t._rg for t in tensors):
        sizes = tuple(t.data.shape[d] for t in tensors)
        record(out, "CatBackward0", _cat_backward, tuple(tensors), (), (d, sizes))
    return out


concat = cat


def _cat_backward(node, g):
    d, sizes = node.args
    grads, start = [], 0
    for (fn, _), size in zip(node.next_functions, sizes):
        grads.append(narrow(g, d, start, size) if fn is not None else None)
        start += size
    return tuple(grads)


def stack(tensors, dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dim."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape0 = tuple(tensors[0].shape)
    for i, t in enumerate(tensors):
        if tuple(t.shape) != shape0:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape0)} "
                               f"at entry 0 and {list(t.shape)} at entry {i}")
    d = normalize_dim(dim, len(shape0) + 1)
    return cat([unsqueeze(t, d) for t in tensors], d)


def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The slice [start, start + length) of one dim (a view)."""
    d = normalize_dim(dim, x.ndim)
    size = x.data.shape[d]
    if start < 0:
        start += size
    if not (0 <= start and start + length <= size and length >= 0):
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return getitem(x, (slice(None),) * d + (slice(start, start + length),))


def split(x: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces of `split_size` along dim (the last may be smaller), or of the given sizes."""
    d = normalize_dim(dim, x.ndim)
    size = x.data.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise RuntimeError(f"split_size can only be a positive integer, but got {step}")
        sizes = [min(step, size - s) for s in range(0, size, step)] or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != size or any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} "
                               f"(input tensor's size at dimension {d}), but got "
                               f"split_sizes={sizes}")
    pieces, start = [], 0
    for s in sizes:
        pieces.append(narrow(x, d, start, s))
        start += s
    return tuple(pieces)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into `chunks` nearly equal pieces (fewer if the dim is short)."""
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0")
    size = x.data.shape[normalize_dim(dim, x.ndim)]
    return split(x, max(1, -(-size // chunks)), dim)


def unbind(x: Tensor, dim: int = 0) -> tuple:
    """The slices along dim, with that dim removed."""
    d = normalize_dim(dim, x.ndim)
    return tuple(getitem(x, (slice(None),) * d + (i,)) for i in range(x.data.shape[d]))


# -- indexing -------------------------------------------------------------------------------------
def _index_part(item, x: Tensor):
    """One element of an index turned into what the backend's getitem takes."""
    if isinstance(item, Tensor):
        if item.backend is not x.backend:
            raise RuntimeError(f"indexing a {x.backend.name!r} tensor with a "
                               f"{item.backend.name!r} tensor; move the index with .to()")
        if item.dtype.is_floating_point:
            raise IndexError("tensors used as indices must be long, int or bool tensors")
        return item.data, True
    if isinstance(item, (list, tuple)):
        arr = x.backend.asarray(item)
        if x.backend.dtype_of(arr).is_floating_point:
            raise IndexError("tensors used as indices must be long, int or bool tensors")
        return arr, True
    if item is None or item is Ellipsis or isinstance(item, slice):
        if isinstance(item, slice) and item.step is not None and item.step <= 0:
            raise ValueError("step must be greater than zero")
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


def getitem(x: Tensor, index) -> Tensor:
    """x[index]: ints, slices, None, Ellipsis, int/bool tensors or lists."""
    idx, advanced = _normalize_index(x, index)
    return take(x, idx, advanced)


def take(x: Tensor, idx: tuple, advanced: bool) -> Tensor:
    """getitem with an index already in backend form."""
    try:
        data = x.backend.getitem(x.data, idx)
    except IndexError as err:
        raise IndexError(str(err).replace("axis", "dimension")) from None
    out = _make(data, x.dtype, x.backend, None if advanced else x)
    if x._rg and STATE.grad_enabled:
        record1(out, "IndexBackward0" if advanced else "SliceBackward0", _getitem_backward, x, (),
                (tuple(x.data.shape), idx, advanced))
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
