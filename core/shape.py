"""Movement ops: views, reshapes, joins and splits (indexing is plugrad.indexing).

Most results are views of their input's data, as in torch; their backward
moves the gradient back into the input's layout.
"""
from __future__ import annotations

from . import dtypes
from .declare import Ops
from .grad_mode import STATE
from .indexing import take
from .operands import unbroadcast
from .recording import record, record1
from .tensor import Tensor, _make, _shareable, normalize_dim

ops = Ops(__name__)


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
@ops.declare
def reshape(x: Tensor, *shape) -> Tensor:
    """The same elements in a new shape (a view when possible, else a copy)."""
    shape = _infer_shape(_sizes(shape), x.numel())
    if shape == x.data.shape:
        return _alias(x, "ViewBackward0")
    out = _make(x.backend.reshape(_shareable(x), shape), x.dtype, x.backend, x)
    if x._rg and STATE.grad_enabled:
        record1(out, "ViewBackward0", _reshape_backward, x, (), tuple(x.data.shape))
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


@ops.declare
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


@ops.declare
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


@ops.declare
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
    return permute(x, *range(x.data.ndim - 1, -1, -1))


@ops.declare(name="mT", function=False)
@property
def mT(x: Tensor) -> Tensor:  # noqa: N802 - torch's name
    """The last two dims swapped (a view): the transpose of each matrix of a batch."""
    if x.data.ndim < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. "
                           f"Got {x.data.ndim}-D tensor.")
    return transpose(x, -2, -1)


@ops.declare
def movedim(x: Tensor, source: int, destination: int) -> Tensor:
    """Move one dim to another position."""
    s, d = normalize_dim(source, x.ndim), normalize_dim(destination, x.ndim)
    axes = [i for i in range(x.ndim) if i != s]
    axes.insert(d, s)
    return _permute(x, tuple(axes), "PermuteBackward0")


# -- broadcasting --------------------------------------------------------------------------
@ops.declare
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
    return (unbroadcast(g, node.args),)


@ops.declare(function=False)
def expand_as(x: Tensor, other: Tensor) -> Tensor:
    return expand(x, tuple(other.data.shape))


@ops.declare(method=False)
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


@ops.declare(method=False)
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


@ops.declare
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


@ops.declare
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


@ops.declare
def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into `chunks` nearly equal pieces (fewer if the dim is short)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = _split_dim(x, dim, "chunk")
    size = x.data.shape[d]
    if size == 0:  # torch gives `chunks` empty pieces here
        return _split_sizes(x, d, [0] * chunks, "SplitWithSizesBackward0")
    return split(x, -(-size // chunks), d)


@ops.declare
def unbind(x: Tensor, dim: int = 0) -> tuple:
    """The slices along dim, with that dim removed."""
    if x.data.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = normalize_dim(dim, x.ndim)
    return tuple(take(x, (slice(None),) * d + (i,), False, "UnbindBackward0")
                 for i in range(x.data.shape[d]))


@ops.declare(function=False)
def view_as(x: Tensor, other: Tensor) -> Tensor:
    """x viewed in `other`'s shape."""
    return view(x, tuple(other.data.shape))


@ops.declare(function=False)
def reshape_as(x: Tensor, other: Tensor) -> Tensor:
    """x reshaped to `other`'s shape."""
    return reshape(x, tuple(other.data.shape))

__all__ = ops.exported()
