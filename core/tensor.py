"""The Tensor: an array from some backend, plus what autograd needs to know about it.

This class holds data, metadata and autograd state. Its methods that are ops
(`x.exp()`, `x + y`, `x.add_(y)`) are declared with the op in its module
(pointwise, reduction, shape, indexing, inplace, linalg) and bound by
plugrad.methods, so `x.exp()` and `plugrad.exp(x)` are the same function.
"""
from __future__ import annotations

import warnings
import weakref
from typing import Any, Callable

from . import dtypes
from .aliases import link, same, unlink
from .device import device
from .formatting import tensor_repr
from .graph import AccumulateGrad, Hooks, RemovableHandle, add_hook
from .versions import version

__all__ = ["Tensor", "Size", "normalize_dim"]


def normalize_dim(dim: int, ndim: int) -> int:
    """A dim in [-ndim, ndim) made non-negative, or torch's IndexError."""
    n = ndim if ndim > 0 else 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim + n if dim < 0 else dim


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
    class. `backend` is the backend that owns the tensor's memory and `array` the
    backend's own array object (for interop and plugin code); `data` is, as in
    torch, a tensor sharing that memory outside autograd.

    >>> import plugrad as pg
    >>> x = pg.tensor([2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([4., 6.])
    """

    # _ver: the version counter of data this tensor owns (None until first changed in
    # place); a view or alias counts through its root base instead (see bump)
    __slots__ = ("_array", "dtype", "backend", "_rg", "grad_fn", "_grad", "_base",
                 "_acc", "_hooks", "_retains", "_ver", "__weakref__")

    def __init__(self, *args, **kwargs) -> None:
        raise TypeError("create tensors with plugrad.tensor(...), plugrad.zeros(...) and friends")

    # -- autograd state -------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        # torch refuses the attribute on a non-leaf either way; requires_grad_(True) is a no-op
        if self.grad_fn is not None and value:
            raise RuntimeError("you can only change requires_grad flags of leaf variables.")
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
        return version(self)

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
        out = _make(_shareable(self), self.dtype, self.backend, self)
        if not (self.backend.views and self.backend.writable):
            link(out, self, same)
        return out

    def detach_(self) -> "Tensor":
        """Cut this tensor off from the graph, in place; it becomes a leaf."""
        self.grad_fn = None
        self._rg = False
        return self

    def __deepcopy__(self, memo: dict) -> "Tensor":
        """copy.deepcopy: new memory with the same values, flags and gradient (torch's rule:
        only tensors without history can be copied). A Parameter's copy is a Parameter, so
        deep copies of models (EMA weights, checkpoints kept in memory) keep working.

        >>> import copy
        >>> import plugrad as pg
        >>> w = pg.tensor([1.0, 2.0], requires_grad=True)
        >>> w2 = copy.deepcopy(w)
        >>> w2.data.add_(1)
        tensor([2., 3.])
        >>> w, w2.requires_grad
        (tensor([1., 2.], requires_grad=True), True)
        """
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.  If you were "
                               "attempting to deepcopy a module, this may be because of a "
                               "torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        if id(self) in memo:
            return memo[id(self)]
        k = self.backend
        new = _make(k.copy(self._array), self.dtype, k)
        new._rg = self._rg
        memo[id(self)] = new
        if self._grad is not None:
            new._grad = self._grad.__deepcopy__(memo)
        for copied in COPIED_HOOKS:
            copied(self, new)
        return new

    # -- storage --------------------------------------------------------------
    @property
    def array(self) -> Any:
        """The backend's own array holding this tensor's values (read-only attribute).

        For interop and backend code: NumPy's ndarray on the NumPy backend, a
        Dask array on Dask. Writing into it bypasses autograd's version checks,
        as writing through `.data` does.

        >>> import plugrad as pg
        >>> type(pg.tensor([1.0, 2.0]).array).__name__
        'ndarray'
        """
        return self._array

    @property
    def data(self) -> "Tensor":
        """A tensor sharing this one's memory, outside autograd (torch's `.data`).

        It has no history and `requires_grad=False`; unlike `detach()` its
        in-place changes are not seen by autograd's version check, so a
        gradient computed from the old values is not reported as stale.
        Assigning `x.data = t` makes x use t's memory (shape, dtype and
        backend may change); x keeps its history and its views keep the old
        memory.

        >>> import plugrad as pg
        >>> w = pg.tensor([1.0, 2.0], requires_grad=True)
        >>> w.data.mul_(10)
        tensor([10., 20.])
        >>> w
        tensor([10., 20.], requires_grad=True)
        """
        out = _make(_shareable(self), self.dtype, self.backend)
        if not (self.backend.views and self.backend.writable):
            link(out, self, same)  # shares the data, not the version counter
        return out

    @data.setter
    def data(self, new: "Tensor") -> None:
        if not isinstance(new, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(new).__name__}")
        if self._rg and not new.dtype.is_floating_point:
            raise RuntimeError("data set to a tensor that requires gradients must be floating "
                               "point or complex dtype")
        self._array, self.dtype, self.backend = _shareable(new), new.dtype, new.backend
        if not (new.backend.views and new.backend.writable):
            unlink(self)
            link(self, new, same)

    # -- metadata -------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._array.shape)

    def size(self, dim: int | None = None):
        """The shape, or the length of one dimension."""
        if dim is None:
            return Size(self._array.shape)
        return self._array.shape[normalize_dim(dim, self._array.ndim)]

    @property
    def device(self) -> device:
        """The device its backend's arrays live on: device(type='cpu') on NumPy and Dask."""
        kind = self.backend.device_type
        return device(kind) if kind == "cpu" else device(kind, 0)

    @property
    def ndim(self) -> int:
        return self._array.ndim

    def dim(self) -> int:
        return self._array.ndim

    def numel(self) -> int:
        n = 1
        for s in self._array.shape:
            n *= s
        return n

    def nelement(self) -> int:
        return self.numel()

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    # -- conversion to Python -------------------------------------------------
    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self.numel() != 1:
            raise RuntimeError(
                f"a Tensor with {self.numel()} elements cannot be converted to Scalar")
        value = self.backend.tolist(self._array)
        while isinstance(value, list):
            value = value[0]
        return value

    def tolist(self) -> Any:
        """Nested Python lists of the values (a number for a 0-d tensor)."""
        return self.backend.tolist(self._array)

    def numpy(self, *, force: bool = False):
        """The values as a NumPy array, sharing memory where the backend can."""
        if self._rg and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self.backend.to_host(self._array)

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
        if self._array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._array.shape[0]

    def __iter__(self):
        if self._array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._array.shape[0]))

    __hash__ = object.__hash__
    # NumPy scalars on the left (np.float64(2) * x) defer to Tensor's reflected operators
    __array_ufunc__ = None

    def __repr__(self) -> str:
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
        a = self._array
        return tensor_repr(self.backend.tolist(a), tuple(a.shape), kind, suffixes)


# called as hook(original, copy) after copy.deepcopy made `copy`: plugrad.nn.parameter marks
# copies of parameters (a layer above this module, so it registers itself here)
COPIED_HOOKS: list = []


def _shareable(t: Tensor):
    """t's data as an array that can be shared and written (not a library scalar)."""
    data = t._array = t.backend.mutable(t._array)
    return data


_new = object.__new__


def _make(data, dtype, backend, base=None) -> Tensor:
    """Wrap a backend array; the one constructor every op uses."""
    t = _new(Tensor)
    t._array = data
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


def accumulator(t: Tensor) -> AccumulateGrad:
    """The AccumulateGrad node of a leaf, made on first use and kept by the leaf."""
    acc = t._acc
    if acc is None:
        acc = t._acc = AccumulateGrad(t)
    return acc
