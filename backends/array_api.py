"""A backend on any Array API standard namespace (https://data-apis.org/array-api/).

`ArrayAPIBackend(xp)` implements every primitive of `plugrad.backend.Backend`
with functions the standard defines, so wrapping a conforming library takes a
few lines:

>>> import array_api_strict
>>> from plugrad.backends.array_api import ArrayAPIBackend
>>> bk = ArrayAPIBackend(array_api_strict)
>>> import plugrad as pg
>>> (pg.tensor([1.0, 2.0], backend=bk) * 2).tolist()
[2.0, 4.0]

Subclasses override only what their library does faster or beyond the
standard (the NumPy backend keeps raw ufuncs; CuPy has its own scatter-add).
Where the standard stops short of what the core needs, this module fills the
gap with standard functions:

* Python numbers in binary kernels become 0-d arrays of the other operand's
  dtype (older revisions of the standard take arrays only);
* NumPy-style indexing (an integer array next to slices, a bare leading index)
  is rewritten into basic indexing plus `take`;
* scatter-add with repeated indices (`index_add`) is built from sort and
  searchsorted, exactly (no cumulative-sum cancellation);
* random numbers are drawn on the host with NumPy and copied over, the one
  place this module uses NumPy (the standard has no random module).

The elementwise kernels come from the contract's table, `plugrad.backend.KERNELS`,
which gives the standard's name for each; this module writes no kernel names
of its own. Older or partial namespaces (NumPy 1.x, CuPy 13) lack a few of the
standard's names; `_pick` falls back to their NumPy-style spelling (`absolute`,
`power`, and here `concatenate`, `transpose`). Library backends that keep their
library's functions as class attributes (NumPy, CuPy, Dask) get them from the
same table through `bind_elementwise`.
"""
from __future__ import annotations

import math

from plugrad import dtypes
from plugrad.backend import ARRAY_API_NAMES, KERNELS, Backend

__all__ = ["ArrayAPIBackend", "bind_elementwise"]

_SCALARS = (bool, int, float)


def _pick(xp, *names):
    """The first of `names` that namespace `xp` has (None when it has none)."""
    for name in names:
        fn = getattr(xp, name, None)
        if fn is not None:
            return fn
    return None


def bind_elementwise(cls, xp, numpy_spellings_first: bool = False) -> None:
    """Make `xp`'s own function the class attribute of every elementwise kernel it has.

    For a library whose functions already take what the contract says (Python
    numbers on either side, as ufuncs do), this is the fastest binding: the
    core reaches the function itself, with no Python wrapper in between. The
    names come from `plugrad.backend.KERNELS`, the standard's first; with
    `numpy_spellings_first` the NumPy-style spelling is tried first (CuPy's
    are its ufuncs). A kernel the class body defines itself is left alone;
    one `xp` lacks is left to `ArrayAPIBackend` (a fallback, or for an
    optional kernel `Backend`'s).
    """
    for kernel, names in ARRAY_API_NAMES.items():
        if kernel in vars(cls):
            continue
        fn = _pick(xp, *(reversed(names) if numpy_spellings_first else names))
        if fn is not None:
            # a Python function would become a method; a ufunc (no __get__) stays itself
            setattr(cls, kernel, staticmethod(fn) if hasattr(fn, "__get__") else fn)


def _scalar_for(value, dtype, xp):
    """A Python number as a 0-d array of `dtype`, converted as the standard wants it."""
    if dtype == xp.bool:
        value = bool(value)
    elif type(value) is bool:
        value = int(value)  # the standard refuses a bool scalar next to a numeric array
    return xp.asarray(value, dtype=dtype)


def _binary(fn, xp, on_bools=None):
    """A binary kernel that also takes a Python number on either side.

    `on_bools` replaces fn for two bool operands: the standard has no add or
    multiply of bools, where NumPy and torch give logical or / and.
    """
    def kernel(a, b):
        if type(a) in _SCALARS:
            a = _scalar_for(a, b.dtype, xp)
        elif type(b) in _SCALARS:
            b = _scalar_for(b, a.dtype, xp)
        if on_bools is not None and a.dtype == xp.bool and b.dtype == xp.bool:
            return on_bools(a, b)
        return fn(a, b)
    kernel.__name__ = getattr(fn, "__name__", "kernel")
    return kernel


def _is_array(item) -> bool:
    return hasattr(item, "shape") and hasattr(item, "dtype")


class ArrayAPIBackend(Backend):
    """plugrad on the arrays of an Array API namespace `xp`.

    `name` defaults to the namespace's module name, `version` to its
    `__version__`. Kernels a subclass defines as class attributes win over the
    generic ones installed here.
    """

    def __init__(self, xp, name: str | None = None, version: str | None = None) -> None:
        self.xp = xp
        self.name = name or getattr(xp, "__name__", "array_api").split(".")[0]
        self.version = version if version is not None else str(getattr(xp, "__version__", ""))
        self._to_native = {d: getattr(xp, d.name) for d in dtypes.ALL if hasattr(xp, d.name)}
        self._from_native = [(v, k) for k, v in self._to_native.items()]
        self._rng = None
        cls = type(self)
        for kernel, names in ARRAY_API_NAMES.items():
            own = getattr(cls, kernel, None)
            if own is not None and own is not getattr(Backend, kernel, None):
                continue  # a subclass's own (faster) kernel; Backend's fallback is not one
            fn = _pick(xp, *names)
            if fn is None:
                fn = getattr(self, f"_fallback_{kernel}", None)
            if fn is None:
                continue  # required: missing_primitives reports it; optional: Backend's
            if KERNELS[kernel][0] == "binary":
                on_bools = {"add": xp.logical_or, "mul": xp.logical_and}.get(kernel)
                fn = _binary(fn, xp, on_bools)
            setattr(self, kernel, fn)

    @property
    def conformance_skips(self) -> dict:
        """The conformance cases this backend cannot pass: those of dtypes its library lacks."""
        skips = {}
        for d in dtypes.ALL:
            if d not in self._to_native:
                reason = f"{self.name} has no {d.name} (the Array API standard has none)" \
                    if d is dtypes.float16 else f"{self.name} has no {d.name}"
                # the op table's float16 cases are those of `half`; other dtypes by name
                skips["*half*" if d is dtypes.float16 else f"*{d.name}*"] = reason
        for kernel in ("erf", "erfinv"):  # not in the standard: only where a subclass has one
            if getattr(type(self), kernel) is getattr(Backend, kernel):
                skips[f"kernel:{kernel}"] = (f"{self.name} has no {kernel} (the Array API "
                                             f"standard has none)")
        return skips

    # -- dtypes ------------------------------------------------------------------------
    def native(self, dtype):
        """The namespace's dtype for a plugrad dtype (TypeError when it has none)."""
        try:
            return self._to_native[dtype]
        except KeyError:
            raise TypeError(f"the {self.name!r} backend has no {dtype.name} "
                            f"(its library does not provide it)") from None

    def dtype_of(self, x):
        found = x.dtype
        for native, ours in self._from_native:
            if found == native:
                return ours
        raise TypeError(f"plugrad has no dtype for {self.name}'s {found}")

    def astype(self, x, dtype):
        xp = self.xp
        fn = getattr(xp, "astype", None)
        return fn(x, self.native(dtype)) if fn is not None else x.astype(self.native(dtype))

    # -- two fallbacks for namespaces older than the 2023.12 standard ---------------------
    def _fallback_maximum(self, a, b):
        return self.xp.where((a >= b) | (a != a), a, b)  # a != a: NaN propagates, as in torch

    def _fallback_minimum(self, a, b):
        return self.xp.where((a <= b) | (a != a), a, b)

    # -- reductions ----------------------------------------------------------------------
    def sum(self, x, axis, keepdims):
        return self.xp.sum(x, axis=axis, keepdims=keepdims)

    def prod(self, x, axis, keepdims):
        return self.xp.prod(x, axis=axis, keepdims=keepdims)

    def max(self, x, axis, keepdims):
        # the standard has max for numbers only; on bools the core means "any"
        fn = self.xp.any if x.dtype == self.xp.bool else self.xp.max
        return fn(x, axis=axis, keepdims=keepdims)

    def min(self, x, axis, keepdims):
        fn = self.xp.all if x.dtype == self.xp.bool else self.xp.min
        return fn(x, axis=axis, keepdims=keepdims)

    def argmax(self, x, axis, keepdims):
        return self.xp.argmax(x, axis=axis, keepdims=keepdims)

    def argmin(self, x, axis, keepdims):
        return self.xp.argmin(x, axis=axis, keepdims=keepdims)

    # -- selection and products ------------------------------------------------------------
    # -- scans and sorting (contract 1.2): the standard's functions where the namespace has
    # them (cumulative_sum is 2023.12; older namespaces spell it cumsum), else Backend's ------
    def cumsum(self, x, axis):
        xp = self.xp
        fn = getattr(xp, "cumulative_sum", None)
        if fn is not None:
            return fn(x, axis=axis, dtype=x.dtype)
        fn = getattr(xp, "cumsum", None)
        return fn(x, axis=axis) if fn is not None else Backend.cumsum(self, x, axis)

    def cumprod(self, x, axis):
        xp = self.xp
        fn = getattr(xp, "cumulative_prod", None)
        if fn is not None:
            return fn(x, axis=axis, dtype=x.dtype)
        fn = getattr(xp, "cumprod", None)
        return fn(x, axis=axis) if fn is not None else Backend.cumprod(self, x, axis)

    def sort(self, x, axis, descending, stable):
        xp = self.xp
        if getattr(xp, "sort", None) is None:
            return Backend.sort(self, x, axis, descending, stable)
        try:
            return xp.sort(x, axis=axis, descending=descending, stable=stable)
        except TypeError:  # a NumPy-style sort (CuPy 13): no descending, always stable
            out = xp.sort(x, axis=axis)
            return xp.flip(out, axis=axis) if descending else out

    def argsort(self, x, axis, descending, stable):
        xp = self.xp
        fn = getattr(xp, "argsort", None)
        if fn is None:
            return Backend.argsort(self, x, axis, descending, stable)
        try:
            out = fn(x, axis=axis, descending=descending, stable=stable)
        except TypeError:  # NumPy-style: the reversed array's ascending order, reversed back
            out = fn(x, axis=axis) if not descending else \
                (x.shape[axis] - 1) - xp.flip(fn(xp.flip(x, axis=axis), axis=axis), axis=axis)
        return out if out.dtype == xp.int64 else xp.astype(out, xp.int64)

    def where(self, cond, a, b):
        xp = self.xp
        if type(a) in _SCALARS:
            a = _scalar_for(a, b.dtype, xp)
        elif type(b) in _SCALARS:
            b = _scalar_for(b, a.dtype, xp)
        return xp.where(cond, a, b)

    def matmul(self, a, b):
        return self.xp.matmul(a, b)

    # -- linear algebra (contract 1.5): the standard's linalg extension, where the namespace
    # has it (NumPy, CuPy, array_api_strict); else Backend's NotImplementedError ---------------
    def _ext(self, name: str):
        fn = getattr(getattr(self.xp, "linalg", None), name, None)
        if fn is None:
            self._lacks(name)
        return fn

    def inv(self, a):
        return self._ext("inv")(a)

    def solve(self, a, b):
        return self._ext("solve")(a, b)

    def cholesky(self, a):
        return self._ext("cholesky")(a)

    def qr(self, a, mode):
        return tuple(self._ext("qr")(a, mode=mode))

    def svd(self, a, full_matrices):
        return tuple(self._ext("svd")(a, full_matrices=full_matrices))

    def eigh(self, a):
        return tuple(self._ext("eigh")(a))

    def slogdet(self, a):
        return tuple(self._ext("slogdet")(a))

    def det(self, a):
        if getattr(getattr(self.xp, "linalg", None), "det", None) is None:
            return Backend.det(self, a)
        return self.xp.linalg.det(a)

    # -- movement --------------------------------------------------------------------------
    def reshape(self, x, shape, copy=None):
        if copy is False and not math.prod(x.shape):
            copy = None  # no elements, nothing to copy (array_api_strict refuses it otherwise)
        try:
            return self.xp.reshape(x, shape, copy=copy)
        except TypeError:  # a namespace whose reshape has no copy= (before 2023.12)
            if copy is False:
                raise ValueError("this library cannot promise a reshape without a copy") from None
            return self.xp.reshape(x, shape)

    def permute(self, x, axes):
        return _pick(self.xp, "permute_dims", "transpose")(x, axes)

    def broadcast_to(self, x, shape):
        return self.xp.broadcast_to(x, shape)

    def concat(self, xs, axis):
        return _pick(self.xp, "concat", "concatenate")(list(xs), axis=axis)

    # -- indexing --------------------------------------------------------------------------
    def getitem(self, x, index):
        arrays = any(_is_array(i) for i in index)
        if not arrays and not any(i is Ellipsis for i in index):
            # x[0, 2] may copy the element out; x[0, 2, ...] is a 0-d view, as torch's x[0, 2]
            index = index + (Ellipsis,)
        try:
            return x[index]  # the library's own indexing, when it takes this index
        except (IndexError, TypeError, ValueError):
            pass
        # beyond the standard (a partial index, an integer array next to a slice, a Python
        # bool): rewrite it into what the standard has; genuine errors re-raise from there
        index, empty = self._spell_out(index, x.shape)
        if any(_is_array(i) for i in index):
            if empty:
                raise IndexError(f"the {self.name!r} backend does not combine a Python bool "
                                 f"index with an array index")
            return self._advanced_getitem(x, index)
        out = x[index]
        for axis in empty:  # x[False]: a new axis of length 0
            out = out[(slice(None),) * axis + (slice(0, 0),) + (Ellipsis,)]
        return out

    def _is_mask(self, item) -> bool:
        return _is_array(item) and item.dtype == self.xp.bool

    def _spell_out(self, index: tuple, shape: tuple):
        """(index, empty): index naming every axis as the standard wants it.

        The Ellipsis (or a missing tail) becomes full slices, slice bounds are
        clipped to the axis, and a Python bool becomes a new axis (None);
        `empty` lists the output axes of the False ones, to cut to length 0.
        """
        used = sum(i.ndim if self._is_mask(i) else 1 for i in index
                   if i is not None and i is not Ellipsis and type(i) is not bool)
        if used > len(shape):
            raise IndexError(f"too many indices for array: array is {len(shape)}-dimensional, "
                             f"but {used} were indexed")
        out, empty, axis = [], [], 0
        ellipses = sum(1 for i in index if i is Ellipsis)
        if ellipses > 1:
            raise IndexError("an index can only have a single ellipsis ('...')")
        for item in index if ellipses else index + (Ellipsis,):
            if item is Ellipsis:
                out += [slice(None)] * (len(shape) - used)
                axis += len(shape) - used
            elif item is None or type(item) is bool:
                if item is False:
                    empty.append(sum(1 for i in out if not isinstance(i, int)))
                out.append(None)
            elif isinstance(item, slice):
                start, stop, step = item.indices(shape[axis])
                out.append(slice(start, None if step < 0 and stop < 0 else stop, step))
                axis += 1
            else:
                out.append(item)
                axis += item.ndim if self._is_mask(item) else 1
        return tuple(out), empty

    def _advanced_getitem(self, x, index):
        """NumPy's advanced indexing from basic indexing, reshape, take and permute_dims.

        `index` is spelled out (see _spell_out): one entry per axis, plus Nones.
        """
        xp = self.xp
        # 1. basic indexing, keeping every advanced axis whole
        basic, adv, axis, pos_in_y = [], [], 0, []
        out_axis = 0
        for item in index:
            if item is None:
                basic.append(None)
                out_axis += 1
            elif isinstance(item, slice):
                basic.append(item)
                axis += 1
                out_axis += 1
            elif _is_array(item) and item.dtype == xp.bool:
                covered = tuple(x.shape[axis:axis + item.ndim])
                if tuple(item.shape) != covered:
                    raise IndexError(f"the shape of the mask {list(item.shape)} does not match "
                                     f"the shape {list(covered)} of the indexed axes starting "
                                     f"at axis {axis}")
                for k, where in enumerate(self._nonzero(item)):
                    basic.append(slice(None))
                    adv.append((where, x.shape[axis + k], axis + k))
                    pos_in_y.append(out_axis)
                    out_axis += 1
                axis += item.ndim
            else:  # an int or an integer array
                basic.append(slice(None))
                arr = item if _is_array(item) else xp.asarray(int(item), dtype=xp.int64)
                adv.append((arr, x.shape[axis], axis))
                pos_in_y.append(out_axis)
                axis += 1
                out_axis += 1
        y = x[tuple(basic)]
        # 2. one flat index into the advanced axes, bounds checked (take would wrap)
        arrays = xp.broadcast_arrays(*[a for a, _, _ in adv])
        flat = None
        for arr, (_, size, ax) in zip(arrays, adv):
            arr = self._check_index(self.astype(arr, dtypes.int64), size, ax)
            flat = arr if flat is None else flat * size + arr
        bshape = tuple(arrays[0].shape)
        rest = [i for i in range(y.ndim) if i not in pos_in_y]
        moved = self.permute(y, tuple(pos_in_y) + tuple(rest))
        rest_shape = tuple(moved.shape[len(pos_in_y):])
        n = math.prod(moved.shape[:len(pos_in_y)])
        taken = xp.take(xp.reshape(moved, (n,) + rest_shape), xp.reshape(flat, (-1,)), axis=0)
        out = xp.reshape(taken, bshape + rest_shape)
        # 3. NumPy's placement: adjacent advanced indices stay where they were
        adjacent = pos_in_y == list(range(pos_in_y[0], pos_in_y[0] + len(pos_in_y)))
        if adjacent and pos_in_y[0]:
            b, first = len(bshape), pos_in_y[0]
            order = list(range(b, b + first)) + list(range(b)) + list(range(b + first, out.ndim))
            out = self.permute(out, tuple(order))
        return out

    def _nonzero(self, mask):
        """The indices of the True elements of a bool array, one int array per axis."""
        return self.xp.nonzero(mask)

    def _check_index(self, arr, size: int, axis: int):
        """An int64 index array for an axis of `size`, negatives wrapped; IndexError when
        one is out of bounds (take would wrap it). A lazy backend may defer the check."""
        xp = self.xp
        if math.prod(arr.shape) and (bool(xp.any(arr >= size)) or bool(xp.any(arr < -size))):
            bad = int(xp.max(arr)) if bool(xp.any(arr >= size)) else int(xp.min(arr))
            raise IndexError(f"index {bad} is out of bounds for axis {axis} with size {size}")
        return xp.where(arr < 0, arr + size, arr)

    def index_add(self, x, index, values):
        xp = self.xp
        if not any(_is_array(i) for i in index):
            # basic indexing selects each element at most once: add in place, through an
            # index without new axes (None), which the standard's setitem does not take
            spelled, empty = self._spell_out(index, x.shape)
            if empty:
                return x  # x[False] selects nothing
            plain = tuple(i for i in spelled if i is not None)
            target = x[plain]
            if _is_array(values) and values.ndim:
                values = xp.reshape(xp.broadcast_to(values, x[spelled].shape), target.shape)
            x[plain] = target + values
            return x
        # where each selected element lives in x, then one exact scatter-add over x flat
        n = math.prod(x.shape)
        where = self.getitem(xp.reshape(xp.arange(n, dtype=xp.int64), x.shape), index)
        vals = xp.broadcast_to(values, where.shape) if _is_array(values) else \
            xp.full(where.shape, values, dtype=x.dtype)
        added = _scatter_add(xp, xp.reshape(where, (-1,)), xp.reshape(vals, (-1,)), n)
        x[...] = x + xp.reshape(added, x.shape)
        return x

    # the write kernels return the array they wrote into (contract 2.0): standard arrays
    # have __setitem__, so this backend is writable, with views where the library has them
    def setitem(self, x, index, values):
        try:
            x[index] = values
        except (IndexError, TypeError, ValueError):
            spelled, empty = self._spell_out(index, x.shape)
            if empty or any(_is_array(i) for i in spelled):
                raise
            x[spelled] = values
        return x

    def mutable(self, x):
        # standard arrays are arrays, 0-d results included; a library scalar is not
        return x if hasattr(type(x), "__setitem__") else self.xp.asarray(x)

    def copy(self, x):
        try:
            return self.xp.asarray(x, copy=True)
        except TypeError:  # asarray without copy= (before 2022.12)
            return x.copy()

    # -- creation ------------------------------------------------------------------------------
    def asarray(self, data, dtype=None):
        return self.xp.asarray(data, dtype=None if dtype is None else self.native(dtype))

    def from_host(self, host, dtype):
        try:
            return self.xp.asarray(host, dtype=self.native(dtype), copy=True)
        except TypeError:  # asarray without copy= (before 2022.12)
            return self.xp.array(host, dtype=self.native(dtype))

    def full(self, shape, value, dtype):
        value = float(value) if dtype.is_floating_point else \
            bool(value) if dtype is dtypes.bool else int(value)
        return self.xp.full(shape, value, dtype=self.native(dtype))

    def arange(self, start, stop, step, dtype):
        return self.xp.arange(start, stop, step, dtype=self.native(dtype))

    def linspace(self, start, stop, num, dtype):
        return self.xp.linspace(start, stop, num, dtype=self.native(dtype))

    def eye(self, n, m, dtype):
        return self.xp.eye(n, m, dtype=self.native(dtype))

    # -- the host (NumPy) ---------------------------------------------------------------------
    def to_host(self, x):
        import numpy as np
        try:
            return np.from_dlpack(x)  # the standard's way across libraries (CPU memory)
        except (AttributeError, TypeError, RuntimeError, BufferError):
            return np.asarray(x)

    def tolist(self, x):
        return self.to_host(x).tolist()

    # -- random numbers: drawn on the host, the standard has none ------------------------------
    def _generator(self):
        if self._rng is None:
            import numpy as np
            self._rng = np.random.default_rng()
        return self._rng

    def seed(self, seed):
        import numpy as np
        self._rng = np.random.default_rng(seed)

    def uniform(self, shape, dtype):
        return self.from_host(self._generator().random(shape), dtype)

    def normal(self, shape, dtype):
        return self.from_host(self._generator().standard_normal(shape), dtype)

    def randint(self, low, high, shape, dtype):
        return self.from_host(self._generator().integers(low, high, shape), dtype)

    def random_stream(self, seed):
        from .numpy_backend import NumpyStream  # NumPy draws on the host, as above
        return NumpyStream(seed, self.from_host)


def _scatter_add(xp, where, values, n: int):
    """A length-n array holding, at each position, the sum of the `values` sent there.

    Sorted by position, the k-th copy of each position is added in round k, so
    each round writes distinct positions and needs no scatter at all: every
    output position finds its value (if any) with searchsorted.
    """
    out = xp.zeros((n,), dtype=values.dtype)
    if where.shape[0] == 0:
        return out
    order = xp.argsort(where, stable=True)
    where, values = xp.take(where, order), xp.take(values, order)
    rank = xp.arange(where.shape[0], dtype=xp.int64) - xp.searchsorted(where, where)
    grid = xp.arange(n, dtype=xp.int64)
    for r in range(int(xp.max(rank)) + 1):
        chosen = rank == r
        at, vals = where[chosen], values[chosen]
        last = xp.asarray(at.shape[0] - 1, dtype=xp.int64)
        slot = xp.searchsorted(at, grid)
        slot = xp.where(slot > last, last, slot)
        hit = xp.take(at, slot) == grid
        out = out + xp.where(hit, xp.take(vals, slot), xp.zeros((), dtype=values.dtype))
    return out
