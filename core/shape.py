"""Movement ops: views, reshapes, joins and splits (indexing is plugrad.indexing).

Most results are views of their input's data, as in torch; their backward
moves the gradient back into the input's layout.
"""
from __future__ import annotations

import warnings

from . import creation, dtypes
from .aliases import link, same
from .backend import written
from .declare import Ops
from .grad_mode import STATE
from .indexing import index_add_into_zeros, index_select, take_index
from .operands import broadcast_shapes, unbroadcast
from .recording import record, record1
from .tensor import Tensor, _make, _shareable, normalize_dim

ops = Ops(__name__)


def _sizes(args) -> tuple:
    """Accept both f(2, 3) and f((2, 3))."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    return tuple(map(int, args))


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
@ops.declare
def reshape(x: Tensor, *shape) -> Tensor:
    """The same elements in a new shape (a view when possible, else a copy)."""
    shape = _infer_shape(_sizes(shape), x.numel())
    if shape == x._array.shape:
        return _alias(x, "ViewBackward0")
    out = _make(x.backend.reshape(_shareable(x), shape), x.dtype, x.backend, x)
    if not (x.backend.views and x.backend.writable):
        link(out, x, lambda k, a: k.reshape(a, shape))
    if x._rg and STATE.grad_enabled:
        record1(out, "ViewBackward0", _reshape_backward, x, (), tuple(x._array.shape))
    return out


@ops.declare
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
    if not (x.backend.views and x.backend.writable):
        link(out, x, lambda k, a: k.reshape(a, shape))
    if x._rg and STATE.grad_enabled:
        record1(out, "ViewBackward0", _reshape_backward, x, (), tuple(x._array.shape))
    return out


def _reshape_backward(node, g):
    return (g.reshape(node.args),)


def _alias(x: Tensor, name: str) -> Tensor:
    """A new tensor object over the same data, recorded as a view."""
    out = _make(_shareable(x), x.dtype, x.backend, x)
    if not (x.backend.views and x.backend.writable):
        link(out, x, same)
    if x._rg and STATE.grad_enabled:
        record1(out, name, _alias_backward, x)
    return out


def _alias_backward(node, g):
    return (g,)


@ops.declare
def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one."""
    s = normalize_dim(start_dim, x.ndim)
    e = normalize_dim(end_dim, x.ndim)
    if x.ndim == 0:
        return reshape(x, (1,))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = tuple(x._array.shape)
    return reshape(x, shape[:s] + (-1 if 0 not in shape[s:e + 1] else 0,) + shape[e + 1:])


@ops.declare
def squeeze(x: Tensor, dim=None) -> Tensor:
    """Drop size-1 dims (all, or the given ones)."""
    shape = tuple(x._array.shape)
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
    if not (x.backend.views and x.backend.writable):
        link(out, x, lambda k, a: k.reshape(a, new))
    if x._rg and STATE.grad_enabled:
        record1(out, name, _reshape_backward, x, (), shape)
    return out


@ops.declare
def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at `dim`."""
    d = normalize_dim(dim, x.ndim + 1)
    shape = tuple(x._array.shape)
    new = shape[:d] + (1,) + shape[d:]
    out = _make(x.backend.reshape(_shareable(x), new), x.dtype, x.backend, x)
    if not (x.backend.views and x.backend.writable):
        link(out, x, lambda k, a: k.reshape(a, new))
    if x._rg and STATE.grad_enabled:
        record1(out, "UnsqueezeBackward0", _reshape_backward, x, (), shape)
    return out


# -- axis order ------------------------------------------------------------------------
@ops.declare
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
    if not (x.backend.views and x.backend.writable):
        link(out, x, lambda k, a: k.permute(a, axes))
    if x._rg and STATE.grad_enabled:
        inverse = tuple(sorted(range(len(axes)), key=axes.__getitem__))
        record1(out, name, _permute_backward, x, (), inverse)
    return out


def _permute_backward(node, g):
    return (g.permute(node.args),)


@ops.declare
def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dims (a view)."""
    if x.ndim == 0:
        normalize_dim(dim0, 0), normalize_dim(dim1, 0)
        return _alias(x, "TransposeBackward0")
    a, b = normalize_dim(dim0, x.ndim), normalize_dim(dim1, x.ndim)
    axes = list(range(x.ndim))
    axes[a], axes[b] = b, a
    return _permute(x, tuple(axes), "TransposeBackward0")


swapaxes = ops.alias("swapaxes", transpose)


@ops.declare(name="T", function=False)
@property
def T(x: Tensor) -> Tensor:  # noqa: N802 - torch's name
    """x with its dims in reverse order (a view)."""
    return permute(x, *range(x._array.ndim - 1, -1, -1))


@ops.declare(name="mT", function=False)
@property
def mT(x: Tensor) -> Tensor:  # noqa: N802 - torch's name
    """The last two dims swapped (a view): the transpose of each matrix of a batch."""
    if x._array.ndim < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. "
                           f"Got {x._array.ndim}-D tensor.")
    return transpose(x, -2, -1)


@ops.declare
def movedim(x: Tensor, source: int, destination: int) -> Tensor:
    """Move one dim to another position."""
    s, d = normalize_dim(source, x.ndim), normalize_dim(destination, x.ndim)
    if not x._array.ndim:
        return _permute(x, (), "PermuteBackward0")
    axes = [i for i in range(x.ndim) if i != s]
    axes.insert(d, s)
    return _permute(x, tuple(axes), "PermuteBackward0")


# -- broadcasting --------------------------------------------------------------------------
@ops.declare
def expand(x: Tensor, *sizes) -> Tensor:
    """A broadcast view to a larger shape; -1 keeps a dim."""
    sizes = _sizes(sizes)
    shape = tuple(x._array.shape)
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
    if not (x.backend.views and x.backend.writable):
        link(out, x, lambda k, a: k.broadcast_to(a, target), True)
    if x._rg and STATE.grad_enabled:
        record1(out, "ExpandBackward0", _expand_backward, x, (), shape)
    return out


def _expand_backward(node, g):
    return (unbroadcast(g, node.args),)


@ops.declare(function=False)
def expand_as(x: Tensor, other: Tensor) -> Tensor:
    return expand(x, tuple(other._array.shape))


@ops.declare(method=False)
def broadcast_to(x: Tensor, shape) -> Tensor:
    return expand(x, tuple(shape))


# -- joining and splitting ----------------------------------------------------------------------
class _EmptyListError(RuntimeError, ValueError):
    """cat([]): torch 1.x raised RuntimeError, torch 2.x raises ValueError; this is both."""


def _is_legacy_empty(t: Tensor) -> bool:
    """torch's cat still skips 1-D empty tensors, whatever the others' shapes."""
    return t._array.ndim == 1 and t._array.shape[0] == 0


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


@ops.declare(method=False)
def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dim."""
    tensors = list(tensors)
    if not tensors:
        raise _EmptyListError("torch.cat(): expected a non-empty list of Tensors")
    out = _cat_alike(tensors, dim)
    if out is not None:
        return out
    bk, dtype = _join_dtype(tensors, "cat")
    for i, t in enumerate(tensors):
        if t._array.ndim == 0:
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
            if k != d and t._array.shape[k] != first._array.shape[k]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{first._array.shape[k]} but got size {t._array.shape[k]} for tensor number "
                    f"{i} in the list.")
    datas = [t._array if t.dtype is dtype else bk.astype(t._array, dtype) for _, t in joined]
    out = _make(bk.concat(datas, d), dtype, bk)
    if STATE.grad_enabled and any(t._rg for t in tensors):
        sizes = [None] * len(tensors)
        for i, t in joined:
            sizes[i] = t._array.shape[d]
        record(out, "CatBackward0", _cat_backward, tuple(tensors), (),
               (d, tuple(sizes), tuple(t.dtype for t in tensors)))
    return out


def _cat_alike(tensors: list, dim):
    """cat of tensors of one backend, dtype and ndim (not 0) whose other dims agree, the
    common case, with no per-tensor checks; None for any other case (cat then checks all and
    says what is wrong)."""
    first = tensors[0]
    if type(first) is not Tensor:
        return None
    bk, dtype, a = first.backend, first.dtype, first._array
    nd = a.ndim
    if not nd or type(dim) is not int or not -nd <= dim < nd:
        return None
    d = dim % nd
    rest = a.shape[:d] + a.shape[d + 1:]
    datas = []
    for t in tensors:
        if type(t) is not Tensor or t.backend is not bk or t.dtype is not dtype:
            return None
        b = t._array
        if b.ndim != nd or b.shape[:d] + b.shape[d + 1:] != rest:
            return None
        datas.append(b)
    out = _make(bk.concat(datas, d), dtype, bk)
    if STATE.grad_enabled:
        for t in tensors:
            if t._rg:
                record(out, "CatBackward0", _cat_backward, tuple(tensors), (),
                       (d, tuple(b.shape[d] for b in datas), (dtype,) * len(tensors)))
                break
    return out


concat = ops.alias("concat", cat, method=False)


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


@ops.declare(method=False)
def stack(tensors, dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dim."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    bk, dtype = _join_dtype(tensors, "stack")
    shape0 = tuple(tensors[0]._array.shape)
    for i, t in enumerate(tensors):
        if tuple(t._array.shape) != shape0:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(shape0)} at entry 0 and {list(t.shape)} at entry {i}")
    d = normalize_dim(dim, len(shape0) + 1)
    one = shape0[:d] + (1,) + shape0[d:]
    datas = [bk.reshape(t._array if t.dtype is dtype else bk.astype(t._array, dtype), one)
             for t in tensors]
    out = _make(bk.concat(datas, d), dtype, bk)
    if STATE.grad_enabled and any(t._rg for t in tensors):
        record(out, "StackBackward0", _stack_backward, tuple(tensors), (),
               (d, tuple(t.dtype for t in tensors)))
    return out


def _stack_backward(node, g):
    d, in_dtypes = node.args
    return tuple(None if fn is None else
                 take_index(g, (slice(None),) * d + (i,), False, "SelectBackward0").to(dtype)
                 for i, (fn, dtype) in enumerate(zip(node.inputs, in_dtypes)))


@ops.declare
def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The slice [start, start + length) of one dim (a view)."""
    if x._array.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = normalize_dim(dim, x.ndim)
    size = x._array.shape[d]
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
    return take_index(x, (slice(None),) * d + (slice(start, start + length),), False, name)


def _split_dim(x: Tensor, dim: int, op: str) -> int:
    if x._array.ndim == 0:
        raise RuntimeError(f"{op} expects at least a 1-dimensional tensor")
    return normalize_dim(dim, x._array.ndim)


@ops.declare
def split(x: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces of `split_size` along dim (the last may be smaller), or of the given sizes."""
    d = _split_dim(x, dim, "split")
    size = x._array.shape[d]
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


@ops.declare
def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into `chunks` nearly equal pieces (fewer if the dim is short)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = _split_dim(x, dim, "chunk")
    size = x._array.shape[d]
    if size == 0:  # torch gives `chunks` empty pieces here
        return _split_sizes(x, d, [0] * chunks, "SplitWithSizesBackward0")
    return split(x, -(-size // chunks), d)


@ops.declare
def unbind(x: Tensor, dim: int = 0) -> tuple:
    """The slices along dim, with that dim removed."""
    if x._array.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = normalize_dim(dim, x.ndim)
    return tuple(take_index(x, (slice(None),) * d + (i,), False, "UnbindBackward0")
                 for i in range(x._array.shape[d]))


@ops.declare(function=False)
def view_as(x: Tensor, other: Tensor) -> Tensor:
    """x viewed in `other`'s shape."""
    return view(x, tuple(other._array.shape))


@ops.declare(function=False)
def reshape_as(x: Tensor, other: Tensor) -> Tensor:
    """x reshaped to `other`'s shape."""
    return reshape(x, tuple(other._array.shape))


# -- results that are new tensors made from one input -----------------------------------------
def renamed(out: Tensor, name: str) -> Tensor:
    """Give the node that made `out` (an op composed of other ops) torch's grad_fn name."""
    if out.grad_fn is not None:
        out.grad_fn._name = name
    return out


def _fresh(x: Tensor, data, name: str, backward, args=None) -> Tensor:
    """A new tensor (no view) of x's dtype over `data`, recorded with one input."""
    out = _make(data, x.dtype, x.backend)
    if x._rg and STATE.grad_enabled:
        record1(out, name, backward, x, (), args)
    return out


def _dim_set(dims, ndim: int, op: str) -> tuple:
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    out = tuple(normalize_dim(d, ndim) for d in dims)
    if len(set(out)) != len(out):
        raise RuntimeError(f"dim {out[0]} appears multiple times in the list of dims"
                           if op == "flip" else f"{op}: repeated dims")
    return out


@ops.declare
def flip(x: Tensor, *dims_args, dims=None) -> Tensor:
    """The elements in reverse order along `dims` (a copy, as in torch)."""
    if dims is None:
        if not dims_args:
            raise TypeError("flip() missing required argument 'dims'")
        dims = dims_args[0] if len(dims_args) == 1 else dims_args
    axes = _dim_set(dims, x.ndim, "flip")
    k = x.backend
    if x._array.ndim:
        idx = tuple(slice(None, None, -1) if d in axes else slice(None) for d in range(x.ndim))
        data = k.copy(k.getitem(x._array, idx))
    else:
        data = k.copy(x._array)
    return _fresh(x, data, "FlipBackward0", _flip_backward, axes)


def _flip_backward(node, g):
    return (flip(g, node.args),)


@ops.declare
def roll(x: Tensor, shifts, dims=None) -> Tensor:
    """Elements shifted cyclically along `dims` (the flattened tensor when dims is None)."""
    shifts = (shifts,) if isinstance(shifts, int) else tuple(int(s) for s in shifts)
    if dims is None or (not isinstance(dims, int) and len(dims) == 0):
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                               f"dims:0")
        return renamed(roll(x.flatten(), shifts, 0).view(tuple(x._array.shape)), "RollBackward0")
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{len(dims)}")
    axes = tuple(normalize_dim(d, x.ndim) for d in dims)
    k = x.backend
    data = k.copy(x._array)
    for s, d in zip(shifts, axes):
        n = data.shape[d] if data.ndim else 1
        if n and s % n and data.ndim:
            cut = n - s % n
            head = (slice(None),) * d
            data = k.concat([k.getitem(data, head + (slice(cut, None),)),
                             k.getitem(data, head + (slice(0, cut),))], d)
    return _fresh(x, data, "RollBackward0", _roll_backward, (tuple(-s for s in shifts), axes))


def _roll_backward(node, g):
    shifts, axes = node.args
    return (roll(g, shifts, axes),)


@ops.declare(function=False)
def repeat(x: Tensor, *sizes) -> Tensor:
    """x tiled `sizes[i]` times along each dim (extra sizes add leading dims)."""
    sizes = _sizes(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(sizes)}: "
                           f"{list(sizes)}")
    shape = (1,) * (len(sizes) - x.ndim) + tuple(x._array.shape)
    inner = tuple(v for s in shape for v in (1, s))
    wide = tuple(v for r, s in zip(sizes, shape) for v in (r, s))
    final = tuple(r * s for r, s in zip(sizes, shape))
    k = x.backend
    data = k.copy(k.reshape(k.broadcast_to(k.reshape(x._array, inner), wide), final))
    return _fresh(x, data, "RepeatBackward0", _repeat_backward,
                  (wide, tuple(x._array.shape)))


def _repeat_backward(node, g):
    wide, shape = node.args
    return (g.reshape(wide).sum(tuple(range(0, len(wide), 2))).reshape(shape),)


@ops.declare
def tile(x: Tensor, *dims) -> Tensor:
    """repeat, with missing leading repeats taken as 1."""
    dims = _sizes(dims)
    if len(dims) < x.ndim:
        dims = (1,) * (x.ndim - len(dims)) + dims
    return repeat(x, dims)


@ops.declare
def repeat_interleave(x: Tensor, repeats=None, dim=None, *, output_size=None) -> Tensor:
    """Each element (each slice along `dim`) repeated `repeats` times, in place of itself.

    With only a 1-D tensor of repeats, `repeat_interleave(r)` gives the indices
    0, 0, ..., 1, ...: i repeated r[i] times.
    """
    if repeats is None:
        counts = _repeat_counts(x, None)
        index = [i for i, r in enumerate(counts) for _ in range(r)]
        return _make(x.backend.asarray(index, dtypes.int64), dtypes.int64, x.backend)
    if dim is None:
        x, d = x.reshape(-1), 0
    else:
        d = normalize_dim(dim, x.ndim)
    n = x._array.shape[d] if x._array.ndim else 1
    if isinstance(repeats, Tensor) and repeats._array.ndim == 1 and repeats.numel() != 1:
        counts = _repeat_counts(repeats, n)
        if len(counts) != n:
            raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {len(counts)} and input.size({d}) = {n}")
    else:
        r = int(repeats.item()) if isinstance(repeats, Tensor) else int(repeats)
        if r < 0:
            raise RuntimeError("repeats can not be negative")
        counts = [r] * n
    index = [i for i, r in enumerate(counts) for _ in range(r)]
    if output_size is not None and output_size != len(index):
        raise RuntimeError(f"allocated size does not match required size: output_size is "
                           f"{output_size} but the repeats add up to {len(index)}")
    if x._array.ndim == 0:
        x = x.reshape(1)
    out = index_select(x, d, _make(x.backend.asarray(index, dtypes.int64), dtypes.int64,
                                   x.backend))
    # torch repeats an int count with a view of an expanded copy, a tensor with index_select
    return out if isinstance(repeats, Tensor) else renamed(out, "ViewBackward0")


def _repeat_counts(repeats: Tensor, n) -> list:
    if repeats.dtype.is_floating_point or repeats.dtype is dtypes.bool:
        raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
    if repeats._array.ndim != 1 and n is None:
        raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
    counts = [int(c) for c in repeats.tolist()]
    if any(c < 0 for c in counts):
        raise RuntimeError("repeats can not be negative")
    return counts


# (backend, m, n, diagonal, lower, dtype) -> (the mask of the kept elements, a 0-d zero): tril
# and triu of small matrices cost their mask more than the where() that applies it
_TRIANGLES: dict = {}


def _triangle_mask(k, m: int, n: int, diagonal: int, lower: bool, dtype) -> tuple:
    if len(_TRIANGLES) >= 64:
        _TRIANGLES.clear()
    rows = k.reshape(k.arange(0, m, 1, dtypes.int64), (m, 1))
    cols = k.reshape(k.arange(0, n, 1, dtypes.int64), (1, n))
    offset = k.sub(cols, rows)
    keep = k.le(offset, diagonal) if lower else k.ge(offset, diagonal)
    return keep, k.full((), 0, dtype)


def _triangle(x: Tensor, diagonal: int, lower: bool) -> Tensor:
    op = "tril" if lower else "triu"
    if x._array.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions")
    k = x.backend
    m, n = x._array.shape[-2:]
    key = (k, m, n, diagonal, lower, x.dtype)
    mask = _TRIANGLES.get(key)
    if mask is None:
        mask = _TRIANGLES[key] = _triangle_mask(k, m, n, diagonal, lower, x.dtype)
    data = k.where(mask[0], x._array, mask[1])
    return _fresh(x, data, "TrilBackward0" if lower else "TriuBackward0",
                  _tril_backward if lower else _triu_backward, diagonal)


@ops.declare(inplace=True)
def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of each matrix (the last two dims); zeros above `diagonal`."""
    return _triangle(x, diagonal, True)


@ops.declare(inplace=True)
def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of each matrix (the last two dims); zeros below `diagonal`."""
    return _triangle(x, diagonal, False)


def _tril_backward(node, g):
    return (tril(g, node.args),)


def _triu_backward(node, g):
    return (triu(g, node.args),)


_DIAGONALS: dict = {}  # (backend, m, n, offset) -> diagonal_index's result (read only)


def diagonal_index(k, m: int, n: int, offset: int):
    """The flat positions (in an m x n matrix) of the diagonal `offset`, as an int64 array
    (cached per size: callers only read it)."""
    key = (k, m, n, offset)
    found = _DIAGONALS.get(key)
    if found is None:
        if len(_DIAGONALS) >= 64:
            _DIAGONALS.clear()
        found = _DIAGONALS[key] = _diagonal_index(k, m, n, offset)
    return found


def _diagonal_index(k, m: int, n: int, offset: int):
    if offset >= 0:
        length = max(0, min(m, n - offset))
        first = offset
    else:
        length = max(0, min(m + offset, n))
        first = -offset * n
    return k.arange(first, first + length * (n + 1), n + 1, dtypes.int64), length


@ops.declare
def diagonal(x: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of the matrices in dims (dim1, dim2), as a new last dim.

    Unlike torch's (a view), the result is a copy: writing into it leaves x unchanged.
    """
    a, b = normalize_dim(dim1, x.ndim), normalize_dim(dim2, x.ndim)
    if x._array.ndim < 2:
        raise RuntimeError("diagonal dimensions requires ndim larger than 1")
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    k = x.backend
    axes = tuple(i for i in range(x.ndim) if i not in (a, b)) + (a, b)
    moved = k.permute(x._array, axes)
    lead = tuple(moved.shape[:-2])
    m, n = moved.shape[-2:]
    flat, _ = diagonal_index(k, m, n, offset)
    data = k.getitem(k.reshape(moved, lead + (m * n,)), (Ellipsis, flat))
    return _fresh(x, data, "DiagonalBackward0", _diagonal_backward, (lead + (m * n,), lead +
                  (m, n), flat, tuple(sorted(range(len(axes)), key=axes.__getitem__))))


def _diagonal_backward(node, g):
    flat_shape, shape, flat, inverse = node.args
    gm = index_add_into_zeros(g, flat_shape, (Ellipsis, flat), True).reshape(shape)
    return (gm.permute(inverse),)


@ops.declare
def diag(x: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D x on the diagonal `diagonal` of a square matrix; of a 2-D x, that diagonal."""
    if x._array.ndim == 2:
        return _diag_of_matrix(x, diagonal)
    if x._array.ndim != 1:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x._array.ndim}D")
    k = x.backend
    size = x._array.shape[0] + abs(diagonal)
    flat, _ = diagonal_index(k, size, size, diagonal)
    data = k.full((size * size,), 0, x.dtype)
    data = written(k.index_add(data, (flat,), x._array), data)
    return _fresh(x, k.reshape(data, (size, size)), "DiagEmbedBackward0", _diag_backward,
                  diagonal)


def _diag_of_matrix(x: Tensor, offset: int) -> Tensor:
    return renamed(diagonal(x, offset), "DiagonalBackward0_copy")


def _diag_backward(node, g):
    return (diagonal(g, node.args),)


# -- splitting at indices, grids, broadcasting ----------------------------------------------------
@ops.declare
def tensor_split(x: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    """Split into `sections` nearly equal pieces, or at the given indices (like NumPy's)."""
    if x._array.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    d = normalize_dim(dim, x.ndim)
    size = x._array.shape[d]
    spec = indices_or_sections
    if isinstance(spec, Tensor):
        if spec.dtype.is_floating_point or spec.dtype is dtypes.bool:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to have "
                               f"integer dtype, but got {spec.dtype.name}")
        if spec._array.ndim > 1:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to be a "
                               f"zero-dimensional or one-dimensional tensor, but got a tensor "
                               f"with {spec._array.ndim} dims")
        spec = spec.tolist()
    if isinstance(spec, int):
        if spec <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {spec}")
        small, extra = divmod(size, spec)
        sizes = [small + 1] * extra + [small] * (spec - extra)
        bounds, start = [], 0
        for s in sizes:
            bounds.append((start, start + s))
            start += s
    else:
        cuts = [int(i) for i in spec]
        edges = [0] + cuts + [size]
        bounds = []
        for lo, hi in zip(edges, edges[1:]):
            lo = min(max(lo + size if lo < 0 else lo, 0), size)
            hi = min(max(hi + size if hi < 0 else hi, 0), size)
            bounds.append((lo, max(lo, hi)))
    return tuple(_narrow(x, d, lo, hi - lo, "SliceBackward0") for lo, hi in bounds)


def _tensor_list(tensors, op: str) -> list:
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    tensors = list(tensors)
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected Tensor as element, but got {type(t).__name__}")
    return tensors


@ops.declare(method=False)
def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Coordinate grids from 1-D tensors: "ij" (matrix, the default) or "xy" (Cartesian)."""
    tensors = _tensor_list(tensors, "meshgrid")
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        if t._array.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list "
                               f"but got: {t}")
        if t.dtype is not tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    flat = [t.reshape(-1) for t in tensors]
    swap = indexing == "xy" and len(flat) >= 2
    if swap:
        flat[0], flat[1] = flat[1], flat[0]
    shape = tuple(t._array.shape[0] for t in flat)
    grids = []
    for i, t in enumerate(flat):
        one = [1] * len(flat)
        one[i] = shape[i]
        grids.append(t.reshape(one).expand(shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


@ops.declare(method=False)
def broadcast_tensors(*tensors) -> tuple:
    """The tensors expanded to their common broadcast shape (views)."""
    tensors = _tensor_list(tensors, "broadcast_tensors")
    shape = broadcast_shapes(*(tuple(t._array.shape) for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


@ops.declare
def diff(x: Tensor, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """The n-th forward difference along dim (x[1:] - x[:-1], n times)."""
    if x._array.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = normalize_dim(dim, x.ndim)
    if prepend is not None or append is not None:
        parts = [p for p in (prepend, x, append) if p is not None]
        parts = [p if isinstance(p, Tensor) else creation.tensor(p, backend=x.backend)
                 for p in parts]
        x = cat([p.expand(tuple(x._array.shape[:d]) + (p._array.shape[d] if p._array.ndim else 1,) +
                          tuple(x._array.shape[d + 1:])) if p._array.ndim != x.ndim else p
                 for p in parts], d)
    for _ in range(n):
        size = x._array.shape[d]
        if size == 0:
            break
        hi = _narrow(x, d, 1, size - 1, "SliceBackward0")
        lo = _narrow(x, d, 0, size - 1, "SliceBackward0")
        x = (hi != lo) if x.dtype is dtypes.bool else hi - lo
    return x


# -- new tensors like this one ---------------------------------------------------------------------
def _like_this(x: Tensor, size, value, dtype, device, requires_grad: bool) -> Tensor:
    return creation.full(_sizes(size), value, dtype=dtype or x.dtype,
                         backend=x.backend if device is None else None, device=device,
                         requires_grad=requires_grad)


@ops.declare(function=False)
def new_zeros(x: Tensor, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Zeros of `size`, with x's dtype and backend unless given."""
    return _like_this(x, size, 0, dtype, device, requires_grad)


@ops.declare(function=False)
def new_ones(x: Tensor, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Ones of `size`, with x's dtype and backend unless given."""
    return _like_this(x, size, 1, dtype, device, requires_grad)


@ops.declare(function=False)
def new_full(x: Tensor, size, fill_value, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """`fill_value` in a tensor of `size`, with x's dtype and backend unless given."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _like_this(x, (size,), fill_value, dtype, device, requires_grad)


@ops.declare(function=False)
def new_tensor(x: Tensor, data, *, dtype=None, device=None,
               requires_grad: bool = False) -> Tensor:
    """A new leaf tensor of `data`, with x's dtype and backend unless given."""
    return creation.tensor(data, dtype=dtype or x.dtype,
                           backend=x.backend if device is None else None, device=device,
                           requires_grad=requires_grad)

__all__ = ops.exported()
