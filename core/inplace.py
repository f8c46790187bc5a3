"""In place: writing an op's result into existing memory, and the autograd bookkeeping.

`x.add_(y)`, `x[i] = v`, `x.zero_()` compute their result out of place, then
`commit` writes it into x's memory: views see the new values, x's version
counter moves (plugrad.versions) and x's history becomes the op's node. A
view that is part of a graph instead gives its root base a `CopySlices` node.
The backend contract needs no in-place arithmetic for this, and every in-place
op shares its out-of-place twin's checks, dtype rules and backward formula.

`in_place(op, name)` makes the in-place variant of a declared op; plugrad.methods
binds one for every declaration that asks for it (`inplace=True`).
"""
from __future__ import annotations

import weakref

from . import dtypes
from .aliases import READ_ONLY, propagate
from .aliases import positions as _linked_positions
from .backend import written
from .declare import Ops
from .grad_mode import STATE
from .graph import Node
from .indexing import index_add_into_zeros, index_put, normalize_index, put, take_index
from .operands import cast, grad_like, number, tensor_arg
from .recording import edge, record
from .tensor import Tensor, _make, _shareable
from .versions import bump, legacy_name, root

ops = Ops(__name__)


def check_inplace(t: Tensor) -> None:
    if t._rg and t.grad_fn is None and STATE.grad_enabled:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")


# -- writing: x[index] = value, and the in-place machinery ------------------------------------
@ops.declare(function=False, method=False, operators=("__setitem__",))
def setitem(x: Tensor, index, value) -> None:
    """x[index] = value (a number or a tensor broadcast to x[index]); differentiable in both.

    Recorded as torch records it: CopySlices for basic indexing, IndexPutBackward0
    for index tensors; x's history becomes that node.
    """
    if type(value) is not Tensor:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            value = number(value, "setitem")
    elif value.backend is not x.backend:
        raise RuntimeError(f"setitem: the value is on backend {value.backend.name!r} but the "
                           f"tensor is on {x.backend.name!r}; move it with .to()")
    idx, advanced = normalize_index(x, index)
    check_inplace(x)
    if STATE.grad_enabled and (x._rg or (type(value) is Tensor and value._rg)) and \
            x.dtype.is_floating_point:
        commit(x, index_put(x, idx, value, advanced))
        return
    k = x.backend
    data = value
    if type(value) is Tensor:
        data = value._array if value.dtype is x.dtype else k.astype(value._array, x.dtype)
    before = root(x)._array
    x._array = put(k, _shareable(x), idx, data, advanced)
    if not (k.views and k.writable):
        propagate(x)
    bump(x, before)


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
    if res._array.shape != x._array.shape:
        raise RuntimeError(f"output with shape {list(x._array.shape)} doesn't match the "
                           f"broadcast shape {list(res._array.shape)}")
    if res.dtype is not x.dtype:
        if not _can_cast(res.dtype, x.dtype):
            raise RuntimeError(f"result type {legacy_name(res.dtype)} can't be cast to the "
                               f"desired output type {legacy_name(x.dtype)}")
        res = res.to(x.dtype)
    node = res.grad_fn
    if node is None or not STATE.grad_enabled:
        _write(x, res._array)
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
    _write(x, res._array)
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
        rd, xd = res._array, x._array
        node.saved = tuple([xd if s is rd else s for s in saved])
    return x


# the backend only says "read-only": an expanded view, or memory the user shared read-only
_OVERLAP = READ_ONLY


def _write(x: Tensor, data) -> None:
    before = root(x)._array
    k = x.backend
    x._array = store(k, _shareable(x), data)
    if not (k.views and k.writable):
        propagate(x)
    bump(x, before)


def store(k, target, data):
    """target[...] = data through the backend; returns the array holding the result."""
    try:
        return written(k.setitem(target, (Ellipsis,), data), target)
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
        _write(x, res._array)
        x.grad_fn, x._rg = res.grad_fn, True
        return
    _write(x, res._array)
    shape = tuple(r._array.shape)
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
    if not (k.views and k.writable):  # no shared memory to mark: replay how x was made
        return _linked_positions(x, r)
    if m >= _MARK_LIMIT.get(r.dtype.name, 1 << 53):
        raise RuntimeError(f"in-place change of a view of {m} {r.dtype.name} elements in a "
                           f"graph is not supported (too many to tell apart); clone() it first")
    rd = _shareable(r)
    keep = k.copy(rd)
    try:
        k.setitem(rd, (Ellipsis,), 0)
        marks = k.reshape(k.arange(1, m + 1, 1, r.dtype), tuple(x._array.shape))
        store(k, _shareable(x), marks)
        seen = k.astype(k.reshape(k.copy(rd), (n,)), dtypes.int64)
    finally:
        k.setitem(rd, (Ellipsis,), keep)
    found = k.full((m + 1,), 0, dtypes.int64)
    found = written(k.index_add(found, (seen,), k.arange(0, n, 1, dtypes.int64)), found)
    count = k.full((m + 1,), 0, dtypes.int64)
    count = written(k.index_add(count, (seen,), k.full((n,), 1, dtypes.int64)), count)
    counts = k.tolist(count)[1:]
    if not any(counts):
        return None
    if any(c != 1 for c in counts):
        raise RuntimeError(_OVERLAP)
    return k.reshape(k.getitem(found, (slice(1, None),)), tuple(x._array.shape))


def _copy_slices_backward(node, g):
    positions, shape = node.args
    flat = g.reshape(-1)
    g_old = None
    if node.inputs[0] is not None:
        g_old = index_put(flat, (positions,), 0, True).reshape(shape)
    return g_old, take_index(flat, (positions,), True, "IndexBackward0")


def _gather_backward(node, g):
    positions, shape = node.args
    n = 1
    for s in shape:
        n *= s
    return (index_add_into_zeros(g, (n,), (positions,), True).reshape(shape),)


# -- in-place variants of declared ops ---------------------------------------------------------
def _keep_saved_input(node, x: Tensor) -> None:
    """The op saved x itself, whose memory is about to be overwritten: save a copy instead."""
    saved = node.saved
    if saved and any(s is x for s in saved):
        keep = _make(x.backend.copy(x._array), x.dtype, x.backend)
        keep.grad_fn, keep._rg = x.grad_fn, x._rg  # the old x, in the graph as x was
        node.saved = tuple([keep if s is x else s for s in saved])


def in_place(op, name: str):
    """The in-place method `name` of op: x.name(...) is commit(x, op(x, ...))."""
    def method(self, *args, **kwargs):
        if type(self) is not Tensor:
            raise TypeError(f"{name}(): self must be a Tensor, not {type(self).__name__}")
        check_inplace(self)
        res = op(self, *args, **kwargs)
        node = res.grad_fn
        if node is not None and node.saved:
            _keep_saved_input(node, self)
        return commit(self, res)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = (f"In-place {op.__name__}: the result is written into this tensor's memory "
                      f"(its views see it); returns self.")
    return method


@ops.declare(function=False)
def fill_(x: Tensor, value) -> Tensor:
    """Fill with `value` (a number or a one-element tensor) in place; returns x."""
    tensor_arg(x, "fill_")
    check_inplace(x)
    vt = value if type(value) is Tensor else None
    if vt is not None:
        if vt._array.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {vt._array.ndim} dimensions.")
    else:
        value = number(value, "fill_")
    k = x.backend
    if not (STATE.grad_enabled and x.dtype.is_floating_point and
            (x._rg or (vt is not None and vt._rg))):
        # the common case (zeroing a gradient buffer): one write, no graph
        if vt is not None:
            # a lazy backend writes the 0-d array itself: no computing it to a number
            value = k.astype(vt._array, x.dtype) if k.lazy else vt.item()
        if isinstance(value, (bool, int, float)) and not x.dtype.is_floating_point:
            # torch truncates toward zero; a library may refuse a float for integers
            value = bool(value) if x.dtype is dtypes.bool else int(value)
        r = root(x)
        before = r._array
        x._array = store(k, _shareable(x), value)
        if not (k.views and k.writable):
            propagate(x)
        bump(x, before)
        return x
    shape = tuple(x._array.shape)
    if vt is None:
        res = _make(k.full(shape, value, x.dtype), x.dtype, k)
        record(res, "FillBackward0", _fill_backward, (x, None), ())
    else:
        res = _make(k.copy(k.broadcast_to(cast(vt, x.dtype), shape)), x.dtype, k)
        record(res, "FillBackward1", _fill_backward, (x, vt), (), vt.dtype)
    return commit(x, res)


def _fill_backward(node, g):
    # torch gives the overwritten tensor zeros, not nothing
    gx = g * 0 if node.inputs[0] is not None else None
    gv = None
    if node.inputs[1] is not None:
        gv = g.sum()
        if gv.dtype is not node.args:
            gv = gv.to(node.args)
    return gx, gv


@ops.declare(function=False)
def zero_(x: Tensor) -> Tensor:
    """Fill with zeros in place (also seen through views and detached copies); returns x."""
    return fill_(x, 0)


@ops.declare(function=False)
def copy_(x: Tensor, src: Tensor, non_blocking: bool = False) -> Tensor:  # noqa: V107
    """Copy src's values into x (broadcast, converted to x's dtype and backend); returns x.

    Differentiable with respect to src; what x held before gets a zero gradient.
    """
    tensor_arg(x, "copy_")
    if type(src) is not Tensor:
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
    check_inplace(x)
    if src.backend is not x.backend:
        src = src.to(x.backend)
    k = x.backend
    shape = tuple(x._array.shape)
    try:
        data = k.broadcast_to(cast(src, x.dtype), shape)
    except Exception:
        raise RuntimeError(f"The size of tensor a ({list(shape)}) must match the size of "
                           f"tensor b ({list(src.shape)}) to copy") from None
    res = _make(k.copy(data), x.dtype, k)
    if STATE.grad_enabled and x.dtype.is_floating_point and (x._rg or src._rg):
        record(res, "CopyBackwards", _copy_backward, (x, src), (),
               (tuple(src._array.shape), src.dtype))
    return commit(x, res)


def _copy_backward(node, g):
    return (g * 0 if node.inputs[0] is not None else None,
            grad_like(g, *node.args) if node.inputs[1] is not None else None)


__all__ = ops.exported()
