"""The built-in NumPy backend: the generic Array API backend on NumPy, with raw ufuncs.

It inherits from `ArrayAPIBackend` and overrides what NumPy does faster or
differently. Every elementwise kernel is a NumPy ufunc stored as a class
attribute, so the core reaches one with a single attribute lookup and no
Python wrapper (the generic backend's wrappers cost about a microsecond per
tiny op). Which ufunc is which kernel comes from the contract's table
(`plugrad.backend.KERNELS`): the ufuncs are bound once, when this module is
imported, and a kernel added to the table is bound with the rest. NumPy returns
its own scalar types for 0-d results; the contract allows that, and the core
asks for `mutable(x)` before it writes into such a result.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
from numpy.lib.stride_tricks import as_strided
from plugrad import dtypes

from .array_api import ArrayAPIBackend, bind_elementwise

_TO_NATIVE = {
    dtypes.bool: np.dtype(np.bool_),
    dtypes.int32: np.dtype(np.int32),
    dtypes.int64: np.dtype(np.int64),
    dtypes.float16: np.dtype(np.float16),
    dtypes.float32: np.dtype(np.float32),
    dtypes.float64: np.dtype(np.float64),
}
_FROM_NATIVE = {v: k for k, v in _TO_NATIVE.items()}

# torch divides by zero and takes log(0) silently (inf, nan); NumPy warns, naming
# the code that called the ufunc: plugrad's own modules. Silence exactly those,
# never warnings from the user's own NumPy code.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"plugrad(\.|$)")


def _reduction(ufunc):
    reduce = ufunc.reduce

    def kernel(x, axis, keepdims):
        return reduce(x, axis, None, None, keepdims)
    kernel.__name__ = ufunc.__name__
    return kernel


def _arg_reduction(func):
    def kernel(x, axis, keepdims):
        return func(x, axis=axis, keepdims=keepdims)
    kernel.__name__ = func.__name__
    return kernel


# erf and erfinv: not in NumPy, and plugrad does not depend on SciPy. erf is the C library's
# (math.erf), element by element; erfinv refines an approximation by Newton's method on it
_erf_objects = np.frompyfunc(math.erf, 1, 1)
# M. Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011): the coefficients of
# its single-precision polynomials, highest first, for w = -log(1 - y*y) < 5 and beyond
_GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                  0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
               -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)
_erfc_objects = np.frompyfunc(math.erfc, 1, 1)


_VECTOR_ERF = []  # [(scipy.special.erf, scipy.special.erfinv) or (None, None)], on first use


def _matmul(a, b):
    """np.matmul, with a stack of matrices times one matrix done as one BLAS product.

    NumPy multiplies a stack by a transposed matrix (a linear layer's weight.T) in its
    own loop, 5-8x slower than the one (stack*rows, k) @ (k, n) product it is.
    """
    if b.ndim == 2 and a.ndim > 2 and a.size:
        out = np.matmul(a.reshape(-1, a.shape[-1]), b)
        return out.reshape(a.shape[:-1] + (b.shape[-1],))
    return np.matmul(a, b)


def _vector_erf():
    """SciPy's erf and erfinv ufuncs where SciPy is installed (an optional speed-up: GELU calls
    erf on every activation), else (None, None). Imported on first use: SciPy takes ~0.1 s."""
    if not _VECTOR_ERF:
        try:
            from scipy.special import erf as vector_erf
            from scipy.special import erfinv as vector_erfinv
        except ImportError:
            vector_erf = vector_erfinv = None
        _VECTOR_ERF.append((vector_erf, vector_erfinv))
    return _VECTOR_ERF[0]


def erf(x):
    """The error function of a floating array: SciPy's ufunc where SciPy is installed, else
    math.erf on each element (both correct to the last bits; the loop is ~5x slower even on
    16 elements)."""
    x = np.asarray(x)
    vector_erf = (_VECTOR_ERF[0] if _VECTOR_ERF else _vector_erf())[0]
    if vector_erf is not None:  # asarray: a 0-d input gives a NumPy scalar
        return np.asarray(vector_erf(x), dtype=x.dtype)
    return np.asarray(_erf_objects(x), dtype=x.dtype)


def _erfinv_one(y: float) -> float:
    """erfinv of one Python float: the same method as `erfinv`, one element at a time."""
    if not -1.0 < y < 1.0:
        return math.copysign(math.inf, y) if abs(y) == 1.0 else math.nan
    w = -math.log((1.0 - y) * (1.0 + y))
    if w < 5.0:
        v, coefficients = w - 2.5, _GILES_CENTRAL
    else:
        v, coefficients = math.sqrt(w) - 3.0, _GILES_TAIL
    p = 0.0
    for c in coefficients:
        p = c + p * v
    r = p * y
    tail = abs(y) > 0.5
    log_target = math.log(1.0 - abs(y)) if tail else 0.0
    for _ in range(4):
        density = 1.1283791670955126 * math.exp(-r * r)
        if density == 0.0:
            break
        if tail:
            erfc = math.erfc(abs(r))
            if erfc == 0.0:
                break
            step = (math.log(erfc) - log_target) * erfc / density
            r += step if r > 0 else -step
        else:
            r -= (math.erf(r) - y) / density
    return r


_erfinv_objects = np.frompyfunc(_erfinv_one, 1, 1)


def erfinv(x):
    """The inverse error function of a floating array: Giles's single-precision approximation,
    then Newton steps on math.erf (erfc near +-1; float64 accuracy); +-inf at +-1, NaN beyond.
    Small arrays go element by element (`_erfinv_one`), large ones as whole arrays. Where
    SciPy is installed, its ufunc (the same accuracy, ~50x faster on 16 elements)."""
    x = np.asarray(x)
    vector_erfinv = (_VECTOR_ERF[0] if _VECTOR_ERF else _vector_erf())[1]
    if vector_erfinv is not None:  # copysign: SciPy's gives +0 at -0
        return np.asarray(np.copysign(vector_erfinv(x), x), dtype=x.dtype)
    if x.size <= 64:
        return np.asarray(_erfinv_objects(x), dtype=x.dtype)
    y = x.astype(np.float64)
    with np.errstate(all="ignore"):
        w = -np.log((1.0 - y) * (1.0 + y))
        central = w < 5.0
        v = np.where(central, w - 2.5, np.sqrt(w) - 3.0)
        p = np.zeros_like(y)
        for c_central, c_tail in zip(_GILES_CENTRAL, _GILES_TAIL):
            p = np.where(central, c_central, c_tail) + p * v
        r = p * y
        finite = np.isfinite(r)
        # near +-1, Newton's method on log(erfc(|r|)) = log(1 - |y|), whose digits survive and
        # which converges from far; in the middle on erf(r) = y
        tail = np.abs(y) > 0.5
        log_target = np.log(np.where(tail, 1.0 - np.abs(y), 1.0))
        for _ in range(4):
            safe = np.where(finite, r, 0.0)
            a = np.abs(safe)
            density = 1.1283791670955126 * np.exp(-a * a)
            erfc = np.asarray(_erfc_objects(np.where(tail, a, 0.0)), dtype=np.float64)
            tail_step = -np.sign(safe) * (np.log(erfc) - log_target) * erfc / density
            middle_step = (np.asarray(_erf_objects(np.where(tail, 0.0, safe)),
                                      dtype=np.float64) - y) / density
            step = np.where(tail, tail_step, middle_step)
            r = np.where(finite & np.isfinite(step), r - step, r)
        r = np.where(np.abs(y) == 1.0, np.copysign(np.inf, y), r)
        r = np.where(np.abs(y) > 1.0, np.nan, r)
    return r.astype(x.dtype)


# the clip ufunc: one pass, torch's results for -0.0 bounds; np.clip wraps it in ~2 us of Python
_clip = (getattr(np, "_core", None) or np.core).umath.clip
_RESHAPE_TAKES_COPY = tuple(int(p) for p in np.__version__.split(".")[:2]) >= (2, 1)


class NumpyBackend(ArrayAPIBackend):
    """plugrad on NumPy arrays (CPU)."""

    name = "numpy"
    version = np.__version__

    # the elementwise kernels (exp, add, ...): NumPy's ufuncs, bound below the class from the
    # contract's table (bind_elementwise)

    # np.round is a Python function (it takes decimals=) around the ufunc rint: bind the ufunc
    round = np.rint
    erf = staticmethod(erf)
    erfinv = staticmethod(erfinv)
    sum = staticmethod(_reduction(np.add))
    prod = staticmethod(_reduction(np.multiply))
    max = staticmethod(_reduction(np.maximum))
    min = staticmethod(_reduction(np.minimum))
    argmax = staticmethod(_arg_reduction(np.argmax))
    argmin = staticmethod(_arg_reduction(np.argmin))
    mutable = staticmethod(np.asarray)

    def __init__(self) -> None:
        super().__init__(np, "numpy", np.__version__)
        self.rng = np.random.default_rng()

    where = staticmethod(np.where)
    matmul = staticmethod(_matmul)

    @staticmethod
    def reshape(x, shape, copy=None):
        if copy is False:
            if _RESHAPE_TAKES_COPY:  # NumPy 2.1+: raises ValueError rather than copy
                return np.asarray(x).reshape(shape, copy=False)
            view = np.asarray(x).view()
            view.shape = shape  # raises AttributeError when a copy would be needed
            return view
        try:  # the method: np.reshape adds ~0.6 us of Python-level wrapping per call
            return x.reshape(shape)
        except AttributeError:  # a Python number
            return np.reshape(x, shape)

    @staticmethod
    def permute(x, axes):
        return x.transpose(axes)  # the method: np.transpose adds a Python-level wrapper
    broadcast_to = staticmethod(np.broadcast_to)

    @staticmethod
    def concat(xs, axis):
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def getitem(x, index):
        # Basic indexing down to one element gives a NumPy scalar (a copy); with a
        # trailing Ellipsis it gives a 0-d view instead, as torch's x[0] is a view.
        for i in index:
            if i is Ellipsis:
                return x[index]
        return x[index + (Ellipsis,)]

    @staticmethod
    def index_add(x, index, values):
        if len(index) == 1 and index[0] is Ellipsis:  # x += values: optimizers, gradient sums
            return np.add(x, values, out=x)
        if any(isinstance(i, np.ndarray) and i.dtype != np.bool_ for i in index):
            np.add.at(x, index, values)  # plain += would add a repeated index only once
        else:
            x[index] += values
        return x

    # the write kernels return the array they wrote into (contract 2.0): out= returns it
    @staticmethod
    def mul_into(x, y):
        return np.multiply(x, y, out=x)

    @staticmethod
    def add_into(x, y):
        return np.add(x, y, out=x)

    # scans and sorting: NumPy's own. Its sort has no `descending`: the ascending order of -x
    # (floats without NaN), else a flip of the ascending order, which puts NaN first as torch
    # does; ties keep their order (stable) either way
    @staticmethod
    def cumsum(x, axis):
        return np.cumsum(x, axis)

    @staticmethod
    def cumprod(x, axis):
        return np.cumprod(x, axis)

    @staticmethod
    def sort(x, axis, descending, stable):
        if not descending:
            return np.sort(x, axis, kind="stable" if stable else None)
        if x.dtype.kind == "f" and not np.isnan(x).any():
            return -np.sort(-x, axis, kind="stable")  # negation is exact
        return np.flip(np.sort(x, axis, kind="stable"), axis)

    @staticmethod
    def argsort(x, axis, descending, stable):
        if not descending:
            return np.argsort(x, axis, kind="stable")
        if x.dtype.kind == "f" and not np.isnan(x).any():
            return np.argsort(-x, axis, kind="stable")
        # NaN first, ints, bools: sort the reversed array ascending, reverse back, map indices
        flipped = np.argsort(np.flip(x, axis), axis, kind="stable")
        return (x.shape[axis] - 1) - np.flip(flipped, axis)

    # linear algebra (contract 1.5): numpy.linalg itself, batched; it raises LinAlgError (a
    # ValueError) for a singular matrix and one that is not positive definite
    inv = staticmethod(np.linalg.inv)
    solve = staticmethod(np.linalg.solve)
    cholesky = staticmethod(np.linalg.cholesky)
    qr = staticmethod(np.linalg.qr)
    svd = staticmethod(np.linalg.svd)
    eigh = staticmethod(np.linalg.eigh)
    slogdet = staticmethod(np.linalg.slogdet)
    det = staticmethod(np.linalg.det)

    # contract 2.1: NumPy's own, where the fallbacks take a Python loop or three kernels
    @staticmethod
    def nonzero(x, dtype):
        if x.ndim == 0:
            return np.argwhere(x).astype(_TO_NATIVE[dtype], copy=False)
        # np.argwhere is this, behind ~1.5 us of Python wrappers; .T: a view, read only
        return np.array(x.nonzero(), _TO_NATIVE[dtype]).T

    @staticmethod
    def clip(x, lo, hi):
        if lo is None:
            return np.minimum(x, hi)
        if hi is None:
            return np.maximum(x, lo)
        return _clip(x, lo, hi)

    @staticmethod
    def count_nonzero(x, axis, dtype):
        if axis is None or len(axis) == x.ndim:  # np.count_nonzero's fast path, a Python int
            return np.asarray(np.count_nonzero(x), _TO_NATIVE[dtype])
        return np.count_nonzero(x, axis).astype(_TO_NATIVE[dtype], copy=False)

    @staticmethod
    def unfold(x, axis, size, step):
        # a strided view: window i starts step elements after window i - 1
        x = np.asarray(x)
        n = (x.shape[axis] - size) // step + 1
        st = x.strides
        return as_strided(x, x.shape[:axis] + (n,) + x.shape[axis + 1:] + (size,),
                          st[:axis] + (st[axis] * step,) + st[axis + 1:] + (st[axis],),
                          writeable=x.flags.writeable)

    @staticmethod
    def setitem(x, index, values):
        x[index] = values
        return x

    @staticmethod
    def copy(x):
        return x.copy()

    @staticmethod
    def asarray(data, dtype=None):
        arr = np.array(data, dtype=None if dtype is None else _TO_NATIVE[dtype])
        if arr.dtype.kind == "O":
            raise TypeError("could not convert the data to numbers")
        return arr

    @staticmethod
    def full(shape, value, dtype):
        return np.full(shape, value, dtype=_TO_NATIVE[dtype])

    # arange, linspace, eye: the generic ones (np.arange, ... through the Array API names)

    @staticmethod
    def astype(x, dtype):
        return x.astype(_TO_NATIVE[dtype])

    @staticmethod
    def dtype_of(x):
        try:
            return _FROM_NATIVE[x.dtype if x.dtype.isnative else x.dtype.newbyteorder("=")]
        except KeyError:
            raise TypeError(f"plugrad has no dtype for NumPy's {x.dtype}") from None

    @staticmethod
    def tolist(x):
        return x.tolist()

    to_host = staticmethod(np.asarray)

    @staticmethod
    def from_host(host, dtype):
        return np.array(host, dtype=_TO_NATIVE[dtype])

    # sigmoid: the contract's fallback. An in-place version (one buffer instead of four)
    # measured no faster, and slower on tiny arrays where out= costs more than a temporary

    def seed(self, seed):
        self.rng = np.random.default_rng(seed)

    def uniform(self, shape, dtype):
        return self.rng.random(shape).astype(_TO_NATIVE[dtype], copy=False)

    def normal(self, shape, dtype):
        return self.rng.standard_normal(shape).astype(_TO_NATIVE[dtype], copy=False)

    def randint(self, low, high, shape, dtype):
        return self.rng.integers(low, high, shape).astype(_TO_NATIVE[dtype], copy=False)

    @staticmethod
    def random_stream(seed):
        return NumpyStream(seed)


class NumpyStream:
    """The random stream of `NumpyBackend.random_stream`: a NumPy Generator (PCG64) of its own.

    `to_array` turns its NumPy draws into the backend's arrays: the array API
    backend, which draws on the host, uses this stream too.
    """

    __slots__ = ("gen", "to_array")

    def __init__(self, seed, to_array=None):
        self.gen = np.random.Generator(np.random.PCG64(seed))
        self.to_array = to_array or (lambda a, dtype: a.astype(_TO_NATIVE[dtype], copy=False))

    def uniform(self, shape, dtype):
        return self.to_array(self.gen.random(shape), dtype)

    def normal(self, shape, dtype):
        return self.to_array(self.gen.standard_normal(shape), dtype)

    def randint(self, low, high, shape, dtype):
        return self.to_array(self.gen.integers(low, high, shape), dtype)

    def get_state(self):
        return self.gen.bit_generator.state

    def set_state(self, state):
        bits = self.gen.bit_generator
        old = bits.state
        try:
            bits.state = state
        except (TypeError, ValueError, KeyError, OverflowError) as err:
            bits.state = old
            raise ValueError(f"not a state of a NumPy PCG64 stream: {err}") from None


# exp = np.exp, sub = np.subtract, abs = np.abs, pow = np.power (NumPy 1.x has no np.pow), ...:
# every elementwise kernel of the contract, the raw ufunc as a class attribute
bind_elementwise(NumpyBackend, np)
