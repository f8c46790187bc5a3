"""The Tensor: an array from some backend, plus what autograd needs to know about it.

Operations live in the op modules (pointwise, reduction, shape, linalg); the
methods at the end of this file bind them, so `x.exp()` and `plugrad.exp(x)`
are the same function.
"""
from __future__ import annotations

import warnings
import weakref
from typing import Any, Callable

from . import dtypes
from . import graph as _graph
from .graph import AccumulateGrad, Hooks, RemovableHandle, add_hook

__all__ = ["Tensor", "Size"]


class Size(tuple):
    """A tensor's shape: a tuple of ints that prints like torch.Size."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"plugrad.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    Create tensors with `plugrad.tensor`, `plugrad.zeros`, ... rather than this
    class. `data` is the backend's array, `backend` the backend that owns it.

    >>> import plugrad as pg
    >>> x = pg.tensor([2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([4., 6.])
    """

    # _ver: the version counter of data this tensor owns (None until first changed in
    # place); a view or alias counts through its root base instead (see bump)
    __slots__ = ("data", "dtype", "backend", "_rg", "grad_fn", "_grad", "_base",
                 "_acc", "_hooks", "_retains", "_ver", "__weakref__")

    def __init__(self, *args, **kwargs) -> None:
        raise TypeError("create tensors with plugrad.tensor(...), plugrad.zeros(...) and friends")

    # -- autograd state -------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set whether this leaf records operations (in place); returns self."""
        requires_grad = bool(requires_grad)
        if self.grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().")
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError("only Tensors of floating point dtype can require gradients "
                               f"(this one is {self.dtype.name}); convert it first, e.g. x.float()")
        self._rg = requires_grad
        return self

    @property
    def _version(self) -> int:
        """How many times this tensor's data was changed in place (shared with its views)."""
        counter = root(self)._ver
        return 0 if counter is None else counter.value

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user made (or that need no grad): their .grad is filled in."""
        return self.grad_fn is None

    @property
    def grad(self) -> "Tensor | None":
        if self.grad_fn is not None and not self._retains:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. "
                "Its .grad attribute won't be populated during autograd.backward(). If you "
                "indeed want the gradient for a non-leaf Tensor, use .retain_grad() on it.",
                UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: "Tensor | None") -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got "
                                f"{type(value).__name__}")
            if tuple(value.shape) != tuple(self.shape):
                raise RuntimeError(f"assigned grad has data of a different size: "
                                   f"{list(value.shape)} for a tensor of size {list(self.shape)}")
            if value.dtype is not self.dtype:
                raise RuntimeError(f"assigned grad has data of a different type: "
                                   f"{value.dtype.name} for a tensor of {self.dtype.name}")
            if value.backend is not self.backend:
                raise RuntimeError(f"assigned grad is on backend {value.backend.name!r} "
                                   f"but the tensor is on {self.backend.name!r}")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def retains_grad(self) -> bool:
        return self._retains

    def retain_grad(self) -> None:
        """Keep the gradient of this non-leaf in `.grad` during backward."""
        if not self._rg:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains:
            return
        self._retains = True
        self.grad_fn.retained = weakref.ref(self)

    def register_hook(self, hook: Callable[["Tensor"], "Tensor | None"]) -> RemovableHandle:
        """Call `hook(grad)` when this tensor's gradient is computed; a returned tensor replaces it.

        >>> import plugrad as pg
        >>> x = pg.tensor([1.0, 2.0], requires_grad=True)
        >>> h = x.register_hook(lambda g: g * 10)
        >>> x.sum().backward()
        >>> x.grad
        tensor([10., 10.])
        >>> h.remove()
        """
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn._register_tensor_hook(hook)
        return add_hook(self._leaf_hooks().dict("tensor"), hook)

    def register_post_accumulate_grad_hook(self, hook: Callable[["Tensor"], None]
                                           ) -> RemovableHandle:
        """Call `hook(tensor)` on this leaf after backward has added to its `.grad`.

        Useful to act on a parameter as soon as its gradient is complete (an
        optimizer step per parameter, say).

        >>> import plugrad as pg
        >>> w = pg.tensor([1.0, 2.0], requires_grad=True)
        >>> h = w.register_post_accumulate_grad_hook(lambda t: print("grad", t.grad))
        >>> (w * 3).sum().backward()
        grad tensor([3., 3.])
        """
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        return add_hook(self._leaf_hooks().dict("post_accumulate"), hook)

    def _leaf_hooks(self) -> Hooks:
        hooks = self._hooks
        if hooks is None:
            hooks = self._hooks = Hooks()
        return hooks

    def detach(self) -> "Tensor":
        """A tensor sharing this one's data, cut off from the graph (requires_grad False)."""
        return _make(_shareable(self), self.dtype, self.backend, self)

    def detach_(self) -> "Tensor":
        """Cut this tensor off from the graph, in place; it becomes a leaf."""
        self.grad_fn = None
        self._rg = False
        return self

    def backward(self, gradient: "Tensor | None" = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into `.grad` of every leaf that requires grad.

        `gradient` is required unless self has one element. The graph's saved
        tensors are freed unless `retain_graph` (default: `create_graph`).
        """
        from .engine import backward, execute
        fn = self.grad_fn
        if gradient is None and inputs is None and fn is not None and not self.data.shape:
            # `loss.backward()`, the usual call: what engine.backward would check and
            # build for it comes down to this (one 0-d gradient of ones)
            bk, dtype = self.backend, self.dtype
            ones = _make(bk.full((), 1, dtype), dtype, bk)
            execute([(fn, ones)], create_graph if retain_graph is None else retain_graph,
                    create_graph)
            return
        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    # -- metadata -------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self.data.shape)

    def size(self, dim: int | None = None):
        """The shape, or the length of one dimension."""
        if dim is None:
            return Size(self.data.shape)
        from .shape import normalize_dim
        return self.data.shape[normalize_dim(dim, self.data.ndim)]

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        n = 1
        for s in self.data.shape:
            n *= s
        return n

    def nelement(self) -> int:
        return self.numel()

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    @property
    def T(self) -> "Tensor":
        return self.permute(*range(self.ndim - 1, -1, -1))

    @property
    def mT(self) -> "Tensor":
        if self.data.ndim < 2:
            raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. "
                               f"Got {self.data.ndim}-D tensor.")
        return self.transpose(-2, -1)

    # -- conversion to Python -------------------------------------------------
    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self.numel() != 1:
            raise RuntimeError(
                f"a Tensor with {self.numel()} elements cannot be converted to Scalar")
        value = self.backend.tolist(self.data)
        while isinstance(value, list):
            value = value[0]
        return value

    def tolist(self) -> Any:
        """Nested Python lists of the values (a number for a 0-d tensor)."""
        return self.backend.tolist(self.data)

    def numpy(self, *, force: bool = False):
        """The values as a NumPy array, sharing memory where the backend can."""
        if self._rg and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self.backend.to_host(self.data)

    def __array__(self, dtype=None, copy=None):
        host = self.numpy()
        return host if dtype is None else host.astype(dtype)

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self.numel()} values is ambiguous")
        return bool(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        from .formatting import tensor_repr
        suffixes = []
        d = self.dtype
        default_shown = (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool)
        empty = self.numel() == 0
        if d not in default_shown or (empty and d is not dtypes.get_default_dtype()):
            suffixes.append(f"dtype=plugrad.{d.name}")
        if self.backend.name != "numpy":
            suffixes.insert(0, f"backend='{self.backend.name}'")
        if self.grad_fn is not None:
            suffixes.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self._rg:
            suffixes.append("requires_grad=True")
        kind = "float" if d.is_floating_point else ("bool" if d is dtypes.bool else "int")
        return tensor_repr(self.backend.tolist(self.data), tuple(self.data.shape), kind, suffixes)

    # -- copying ------------------------------------------------------------------
    def clone(self) -> "Tensor":
        """A copy with its own data; gradients flow back to self."""
        from .pointwise import clone
        return clone(self)


def _check_inplace(t: Tensor) -> None:
    from .grad_mode import STATE
    if t._rg and t.grad_fn is None and STATE.grad_enabled:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")


def _shareable(t: Tensor):
    """t's data as an array that can be shared and written (not a library scalar)."""
    data = t.data = t.backend.mutable(t.data)
    return data


_new = object.__new__


def _make(data, dtype, backend, base=None) -> Tensor:
    """Wrap a backend array; the one constructor every op uses."""
    t = _new(Tensor)
    t.data = data
    t.dtype = dtype
    t.backend = backend
    t._rg = False
    t.grad_fn = None
    t._grad = None
    t._base = base
    t._acc = None
    t._hooks = None
    t._retains = False
    t._ver = None
    return t


# -- version counters -----------------------------------------------------------------------
class _Version:
    """The version counter of one piece of data, kept by the tensor that owns it.

    `history` holds (clock, grad_fn name before the change) for the latest
    changes, enough to tell a node which version it saw and what the tensor
    was then, for the error message.
    """

    __slots__ = ("value", "history")

    def __init__(self) -> None:
        self.value = 0
        self.history = []


_HISTORY = 64  # changes remembered per counter; older ones only make messages vaguer


def root(t: Tensor) -> Tensor:
    """The tensor that owns t's data: t itself, or the base at the end of its _base chain."""
    b = t._base
    while b is not None:
        t = b
        b = t._base
    return t


def bump(t: Tensor, before=None) -> None:
    """Record one in-place change of t's data (call it right after the write).

    `before` is the root's data object before the write, when writing replaced
    it (a library scalar made mutable). Nodes that saved this data as their
    output are marked, since they cannot tell otherwise (they hold the array,
    not the tensor).
    """
    r = root(t)
    counter = r._ver
    if counter is None:
        counter = r._ver = _Version()
    fn = r.grad_fn
    if fn is not None:
        _mark_saved_output(fn, r, counter, before)
    _graph.CLOCK += 1
    counter.value += 1
    history = counter.history
    history.append((_graph.CLOCK, None if fn is None else fn.name()))
    if len(history) > _HISTORY:
        del history[0]


def _mark_saved_output(fn, r: Tensor, counter: _Version, before) -> None:
    owner, index = fn._saving_node()
    saved = owner.saved
    if not saved:
        return
    data = r.data
    for s in saved:
        if type(s) is Tensor:
            continue  # saved tensors carry their own version: check_saved reads it
        held = s if s is data or s is before else getattr(s, "data", None)  # _SavedOutput
        if held is data or (before is not None and held is before):
            entry = (counter, counter.value, index, fn.name(), tuple(r.data.shape), r.dtype)
            dirty = getattr(owner, "_dirty", None)
            if dirty is None:
                owner._dirty = [entry]
            else:
                dirty.append(entry)
            return


_LEGACY = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
           "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
           "bool": "Bool"}


def legacy_name(d) -> str:
    """torch's short name of a dtype, as its error messages spell it (Float, Long, ...)."""
    return _LEGACY.get(d.name, d.name)


def _modified(shape: tuple, dtype, fn_name, index: int, now: int, expected: int) -> RuntimeError:
    which = f", which is output {index} of {fn_name}," if fn_name else ""
    if _graph.ANOMALY.enabled:
        hint = ("Hint: the backtrace further above shows the operation that failed to compute "
                "its gradient. The variable in question was changed in there or anywhere later. "
                "Good luck!")
    else:
        hint = ("Hint: enable anomaly detection to find the operation that failed to compute "
                "its gradient, with plugrad.autograd.set_detect_anomaly(True).")
    # the type is spelled as torch spells it, so that messages compare equal
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: [torch.{legacy_name(dtype)}Tensor {list(shape)}]{which} is at "
        f"version {now}; expected version {expected} instead. {hint}")


def check_saved(node) -> None:
    """Raise torch's error if something `node` saved was changed in place after it saved it.

    Called only when the clock moved since the node was made, so programs that
    change nothing in place never get here.
    """
    stamp = node._stamp
    for s in node.saved:
        if type(s) is Tensor:
            r = root(s)
            counter = r._ver
            if counter is not None and counter.history and counter.history[-1][0] > stamp:
                newer = [h for h in counter.history if h[0] > stamp]
                expected = counter.value - len(newer)
                if s is r:
                    name = newer[0][1]
                else:
                    name = None if s.grad_fn is None else s.grad_fn.name()
                raise _modified(tuple(s.data.shape), s.dtype, name, 0, counter.value, expected)
    dirty = getattr(node, "_dirty", None)
    if dirty:
        counter, expected, index, name, shape, dtype = dirty[0]
        raise _modified(shape, dtype, name, index, counter.value, expected)


def accumulator(t: Tensor) -> AccumulateGrad:
    """The AccumulateGrad node of a leaf, made on first use and kept by the leaf."""
    acc = t._acc
    if acc is None:
        acc = t._acc = AccumulateGrad(t)
    return acc


# -- methods --------------------------------------------------------------------------------
# Each method below is the op function of the same name, so `x.exp()` and
# `plugrad.exp(x)` share one definition. They are bound here, after the op
# modules (which need Tensor) are importable.
from . import linalg, pointwise, reduction, shape  # noqa: E402


def _swap(op):
    def reflected(self, other):
        return op(other, self)
    reflected.__name__ = f"r{op.__name__}"
    return reflected


Tensor.__add__ = pointwise.add
Tensor.__radd__ = pointwise._radd
Tensor.__sub__ = pointwise.sub
Tensor.__rsub__ = pointwise._rsub
Tensor.__mul__ = pointwise.mul
Tensor.__rmul__ = pointwise._rmul
Tensor.__truediv__ = pointwise.div
Tensor.__rtruediv__ = _swap(pointwise.div)
Tensor.__pow__ = pointwise.pow
Tensor.__rpow__ = _swap(pointwise.pow)
Tensor.__matmul__ = linalg.matmul
Tensor.__rmatmul__ = _swap(linalg.matmul)
Tensor.__neg__ = pointwise.neg
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = pointwise.abs
def _comparison(op):
    # like torch: comparing with something that is not a number falls back to
    # Python's identity comparison (x == None is False) instead of raising
    def compare(self, other):
        if isinstance(other, (Tensor, int, float)) or hasattr(other, "__index__") \
                or hasattr(other, "__float__"):
            return op(self, other)
        return NotImplemented
    compare.__name__ = f"__{op.__name__}__"
    return compare


Tensor.__eq__ = _comparison(pointwise.eq)
Tensor.__ne__ = _comparison(pointwise.ne)
# NumPy scalars on the left (np.float64(2) * x) defer to Tensor's reflected ops
Tensor.__array_ufunc__ = None
Tensor.__lt__ = pointwise.lt
Tensor.__le__ = pointwise.le
Tensor.__gt__ = pointwise.gt
Tensor.__ge__ = pointwise.ge
Tensor.__and__ = pointwise.logical_and
Tensor.__or__ = pointwise.logical_or
Tensor.__invert__ = pointwise.logical_not
Tensor.__getitem__ = shape.getitem
Tensor.__setitem__ = shape.setitem
# in place: x.add_(y), x += y (Python rebinds x to the returned self), x.zero_(), ...
for _name, _method in pointwise.IN_PLACE.items():
    setattr(Tensor, _name, _method)
Tensor.zero_ = pointwise.zero_
Tensor.fill_ = pointwise.fill_
Tensor.copy_ = pointwise.copy_
Tensor.__iadd__ = pointwise.IN_PLACE["add_"]
Tensor.__isub__ = pointwise.IN_PLACE["sub_"]
Tensor.__imul__ = pointwise.IN_PLACE["mul_"]
Tensor.__itruediv__ = pointwise.IN_PLACE["div_"]
Tensor.__ipow__ = pointwise.IN_PLACE["pow_"]

for _name in ("add", "sub", "mul", "div", "true_divide", "pow", "neg", "abs", "exp", "log",
              "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "sign", "clamp", "clip",
              "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "logical_and",
              "logical_or", "logical_not", "square"):
    setattr(Tensor, _name, getattr(pointwise, _name))
for _name in ("sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "var",
              "std", "logsumexp", "softmax", "log_softmax", "all", "any"):
    setattr(Tensor, _name, getattr(reduction, _name))
for _name in ("reshape", "view", "permute", "transpose", "swapaxes", "movedim", "squeeze",
              "unsqueeze", "expand", "expand_as", "flatten", "split", "chunk", "unbind",
              "narrow"):
    setattr(Tensor, _name, getattr(shape, _name))
for _name in ("matmul", "mm", "bmm", "dot"):
    setattr(Tensor, _name, getattr(linalg, _name))
del _name


def _move(x: Tensor, backend) -> Tensor:
    """x copied to another backend through the host; differentiable (ToCopyBackward0)."""
    try:
        data = backend.from_host(x.backend.to_host(x.data), x.dtype)
    except (TypeError, KeyError) as err:
        raise RuntimeError(f"to(): cannot move a {x.dtype.name} tensor from backend "
                           f"{x.backend.name!r} to {backend.name!r}: {err}") from None
    out = _make(data, x.dtype, backend)
    from .grad_mode import STATE
    if x._rg and STATE.grad_enabled:
        from .recording import record1
        record1(out, "ToCopyBackward0", _move_backward, x, (), x.backend)
    return out


def _move_backward(node, g):
    # the gradient goes back to the input's backend, itself recorded for double backward
    return (_move(g, node.args),)


def _to(self: Tensor, *args, dtype=None, backend=None, copy: bool = False,
        non_blocking: bool = False) -> Tensor:
    """x.to(dtype), x.to("cupy"), x.to("cupy", plugrad.float64), x.to(other_tensor).

    Returns self when nothing changes (a copy with copy=True). Moving to another
    backend copies the data there and is differentiable: the gradient flows
    back to the original backend. `non_blocking` is accepted and ignored.

    >>> import plugrad as pg
    >>> x = pg.tensor([1.0, 2.0], requires_grad=True)
    >>> y = x.to(pg.float64)
    >>> y.sum().backward()
    >>> x.grad
    tensor([1., 1.])
    """
    for arg in args:
        if isinstance(arg, dtypes.dtype):
            dtype = arg
        elif isinstance(arg, Tensor):
            dtype, backend = arg.dtype, arg.backend
        elif arg is not None:
            backend = arg
    out = self
    if dtype is not None:
        out = pointwise.to_dtype(out, dtype)
    if backend is not None:
        from .creation import resolve_backend
        target = resolve_backend(backend)
        if target is not out.backend:
            out = _move(out, target)
    if copy and out is self:
        out = pointwise.clone(self)
    return out


Tensor.to = _to
Tensor.type_as = lambda self, other: pointwise.to_dtype(self, other.dtype)
Tensor.float = lambda self: pointwise.to_dtype(self, dtypes.float32)
Tensor.double = lambda self: pointwise.to_dtype(self, dtypes.float64)
Tensor.half = lambda self: pointwise.to_dtype(self, dtypes.float16)
Tensor.int = lambda self: pointwise.to_dtype(self, dtypes.int32)
Tensor.long = lambda self: pointwise.to_dtype(self, dtypes.int64)
Tensor.bool = lambda self: pointwise.to_dtype(self, dtypes.bool)
Tensor.view_as = lambda self, other: shape.view(self, tuple(other.data.shape))
Tensor.reshape_as = lambda self, other: shape.reshape(self, tuple(other.data.shape))
Tensor.where = lambda self, condition, other: pointwise.where(condition, self, other)
Tensor.masked_fill = lambda self, mask, value: pointwise.where(mask, value, self)
