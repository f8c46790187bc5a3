"""The contract between the core and an array library: the primitive kernels.

A backend is an object whose attributes are these kernels. The core calls them
directly (`x.backend.exp(x.data)`), so a kernel is one attribute lookup away and
nothing is looked up per operation. Everything else (softmax, var, clamp, every
backward formula) is composed in the core from these primitives.

Arrays are opaque to the core except for two attributes every Array API array
has: `.shape` (a tuple of ints) and `.ndim`. Dtypes are plugrad's own
(`plugrad.float32`, ...); a backend maps them to its library's types.

Rules every kernel follows:

* Binary kernels take two arrays, or an array and a Python number on either
  side; a Python number never changes the result dtype (the core has already
  cast both operands to the result dtype it wants).
* Results are new arrays unless the kernel is documented as a view or as in
  place. A 0-d result may be the library's scalar type (NumPy's float32, ...)
  if it has `.shape`, `.ndim` and `.dtype`; before writing into data or sharing
  it between tensors the core calls `mutable(x)`, which returns a writable
  array (x itself when it already is one).
* Kernels raise the library's own exceptions; the core turns them into torch's
  error types with messages that name shapes and ops.
"""
from __future__ import annotations

from typing import Any, Sequence

Array = Any

UNARY = ("neg", "exp", "log", "sqrt", "sin", "cos", "tanh", "abs", "sign")
BINARY = ("add", "sub", "mul", "div", "pow", "maximum", "minimum",
          "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or")
REDUCE = ("sum", "prod", "max", "min", "argmax", "argmin")
OTHER = ("logical_not", "where", "matmul", "mutable", "reshape", "permute", "broadcast_to",
         "getitem", "index_add", "setitem", "concat", "copy",
         "asarray", "full", "arange", "linspace", "eye", "astype", "dtype_of",
         "tolist", "to_host", "seed", "uniform", "normal", "randint")
PRIMITIVES = UNARY + BINARY + REDUCE + OTHER


class Backend:
    """Base class of backends: subclass it and provide every primitive.

    Elementwise kernels are named in UNARY and BINARY (`exp(x)`, `add(a, b)`);
    comparisons return bool arrays. The others are documented below.
    """

    name: str = "abstract"

    def __repr__(self) -> str:
        return f"<plugrad backend {self.name!r}>"

    # reductions: `axis` is None (all) or a tuple of non-negative ints
    def sum(self, x: Array, axis: tuple | None, keepdims: bool) -> Array:
        """Sum over `axis`; ints and bools sum to int64."""
        raise NotImplementedError

    def argmax(self, x: Array, axis: int | None, keepdims: bool) -> Array:
        """int64 index of the first maximum along one axis (or of the flattened array)."""
        raise NotImplementedError

    def where(self, cond: Array, a: Array, b: Array) -> Array:
        """Elements of `a` where `cond`, else of `b`; `a`/`b` may be Python numbers."""
        raise NotImplementedError

    def matmul(self, a: Array, b: Array) -> Array:
        """Matrix product with NumPy's rules for 1-D and batched operands."""
        raise NotImplementedError

    # movement
    def reshape(self, x: Array, shape: tuple, copy: bool | None = None) -> Array:
        """Reshape; with copy=False raise ValueError rather than copy."""
        raise NotImplementedError

    def permute(self, x: Array, axes: tuple) -> Array:
        """Reorder axes (a view where the library has views)."""
        raise NotImplementedError

    def broadcast_to(self, x: Array, shape: tuple) -> Array:
        """Broadcast to `shape` (a read-only view where possible)."""
        raise NotImplementedError

    def concat(self, xs: Sequence[Array], axis: int) -> Array:
        """Join same-dtype arrays along an existing axis."""
        raise NotImplementedError

    # indexing: `index` is a tuple of ints, slices, None, Ellipsis and arrays
    def getitem(self, x: Array, index: tuple) -> Array:
        """x[index] with NumPy's basic and advanced indexing rules."""
        raise NotImplementedError

    def index_add(self, x: Array, index: tuple, values: Array) -> None:
        """In place: x[index] += values, adding once per repeated index."""
        raise NotImplementedError

    def setitem(self, x: Array, index: tuple, values: Array | float) -> None:
        """In place: x[index] = values."""
        raise NotImplementedError

    def mutable(self, x: Array) -> Array:
        """x as a writable array: x itself for arrays, a new 0-d array for a scalar type."""
        raise NotImplementedError

    def copy(self, x: Array) -> Array:
        """A new array with the same values."""
        raise NotImplementedError

    # creation and conversion: `dtype` is a plugrad dtype
    def asarray(self, data: Any, dtype=None) -> Array:
        """An array from nested Python sequences, numbers or a host array.

        With dtype=None the library infers it; the core then maps it with dtype_of.
        """
        raise NotImplementedError

    def full(self, shape: tuple, value: float, dtype) -> Array:
        """A new array of `shape` filled with `value`."""
        raise NotImplementedError

    def arange(self, start: float, stop: float, step: float, dtype) -> Array:
        raise NotImplementedError

    def linspace(self, start: float, stop: float, num: int, dtype) -> Array:
        raise NotImplementedError

    def eye(self, n: int, m: int, dtype) -> Array:
        raise NotImplementedError

    def astype(self, x: Array, dtype) -> Array:
        """A copy converted to `dtype`."""
        raise NotImplementedError

    def dtype_of(self, x: Array):
        """The plugrad dtype of an array; raise TypeError for types plugrad lacks."""
        raise NotImplementedError

    def tolist(self, x: Array) -> Any:
        """Nested Python lists (a Python number for a 0-d array)."""
        raise NotImplementedError

    def to_host(self, x: Array) -> Any:
        """A NumPy array with the same values (shared memory where possible)."""
        raise NotImplementedError

    # random numbers: each backend owns its generator; plugrad.manual_seed seeds it
    def seed(self, seed: int) -> None:
        raise NotImplementedError

    def uniform(self, shape: tuple, dtype) -> Array:
        """Uniform on [0, 1)."""
        raise NotImplementedError

    def normal(self, shape: tuple, dtype) -> Array:
        """Standard normal."""
        raise NotImplementedError

    def randint(self, low: int, high: int, shape: tuple, dtype) -> Array:
        """Integers in [low, high)."""
        raise NotImplementedError
