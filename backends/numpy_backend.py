"""The built-in NumPy backend: plugrad's primitives mapped onto NumPy.

Most kernels are NumPy ufuncs stored as class attributes, so the core reaches
one with a single attribute lookup. NumPy turns 0-d results into scalars of its
own; the backend asks for arrays instead (`out=...` on NumPy 2.3+, `asarray`
before), because the core mutates arrays in place (`zero_`, `.grad` buffers).
"""
from __future__ import annotations

import warnings

import numpy as np

from plugrad import dtypes
from plugrad.backend import Backend

_TO_NATIVE = {
    dtypes.bool: np.dtype(np.bool_),
    dtypes.int32: np.dtype(np.int32),
    dtypes.int64: np.dtype(np.int64),
    dtypes.float16: np.dtype(np.float16),
    dtypes.float32: np.dtype(np.float32),
    dtypes.float64: np.dtype(np.float64),
}
_FROM_NATIVE = {v: k for k, v in _TO_NATIVE.items()}

# torch divides by zero and takes log(0) silently (inf, nan); NumPy warns from the
# kernels here. Silence only warnings raised in this module, never the user's.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=__name__)


def _array_out_supported() -> bool:
    try:
        return type(np.negative(np.array(1.0), out=...)) is np.ndarray
    except TypeError:
        return False


if _array_out_supported():
    def _arrays(ufunc):
        def kernel(*args):
            return ufunc(*args, out=...)
        kernel.__name__ = ufunc.__name__
        return kernel
else:  # pragma: no cover - NumPy < 2.3
    def _arrays(ufunc):
        asarray = np.asarray

        def kernel(*args):
            return asarray(ufunc(*args))
        kernel.__name__ = ufunc.__name__
        return kernel


def _reduction(func):
    asarray = np.asarray

    def kernel(x, axis, keepdims):
        return asarray(func(x, axis=axis, keepdims=keepdims))
    kernel.__name__ = func.__name__
    return kernel


class NumpyBackend(Backend):
    """plugrad on NumPy arrays (CPU)."""

    name = "numpy"
    version = np.__version__

    neg = staticmethod(_arrays(np.negative))
    exp = staticmethod(_arrays(np.exp))
    log = staticmethod(_arrays(np.log))
    sqrt = staticmethod(_arrays(np.sqrt))
    sin = staticmethod(_arrays(np.sin))
    cos = staticmethod(_arrays(np.cos))
    tanh = staticmethod(_arrays(np.tanh))
    abs = staticmethod(_arrays(np.absolute))
    sign = staticmethod(_arrays(np.sign))
    logical_not = staticmethod(_arrays(np.logical_not))

    add = staticmethod(_arrays(np.add))
    sub = staticmethod(_arrays(np.subtract))
    mul = staticmethod(_arrays(np.multiply))
    div = staticmethod(_arrays(np.true_divide))
    pow = staticmethod(_arrays(np.power))
    maximum = staticmethod(_arrays(np.maximum))
    minimum = staticmethod(_arrays(np.minimum))
    eq = staticmethod(_arrays(np.equal))
    ne = staticmethod(_arrays(np.not_equal))
    lt = staticmethod(_arrays(np.less))
    le = staticmethod(_arrays(np.less_equal))
    gt = staticmethod(_arrays(np.greater))
    ge = staticmethod(_arrays(np.greater_equal))
    logical_and = staticmethod(_arrays(np.logical_and))
    logical_or = staticmethod(_arrays(np.logical_or))

    sum = staticmethod(_reduction(np.sum))
    prod = staticmethod(_reduction(np.prod))
    max = staticmethod(_reduction(np.max))
    min = staticmethod(_reduction(np.min))
    argmax = staticmethod(_reduction(np.argmax))
    argmin = staticmethod(_reduction(np.argmin))

    def __init__(self) -> None:
        self.rng = np.random.default_rng()

    @staticmethod
    def where(cond, a, b):
        return np.asarray(np.where(cond, a, b))

    @staticmethod
    def matmul(a, b):
        return np.asarray(np.matmul(a, b))

    @staticmethod
    def reshape(x, shape, copy=None):
        if copy is False:
            view = x.view()
            view.shape = shape  # raises AttributeError when a copy would be needed
            return view
        return np.reshape(x, shape)

    permute = staticmethod(np.transpose)
    broadcast_to = staticmethod(np.broadcast_to)

    @staticmethod
    def concat(xs, axis):
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def getitem(x, index):
        return np.asarray(x[index])

    @staticmethod
    def index_add(x, index, values):
        if any(isinstance(i, np.ndarray) and i.dtype != np.bool_ for i in index):
            np.add.at(x, index, values)  # plain += would add a repeated index only once
        else:
            x[index] += values

    @staticmethod
    def setitem(x, index, values):
        x[index] = values

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

    @staticmethod
    def arange(start, stop, step, dtype):
        return np.arange(start, stop, step, dtype=_TO_NATIVE[dtype])

    @staticmethod
    def linspace(start, stop, num, dtype):
        return np.linspace(start, stop, num, dtype=_TO_NATIVE[dtype])

    @staticmethod
    def eye(n, m, dtype):
        return np.eye(n, m, dtype=_TO_NATIVE[dtype])

    @staticmethod
    def astype(x, dtype):
        return x.astype(_TO_NATIVE[dtype])

    @staticmethod
    def dtype_of(x):
        try:
            return _FROM_NATIVE[x.dtype]
        except KeyError:
            raise TypeError(f"plugrad has no dtype for NumPy's {x.dtype}") from None

    @staticmethod
    def tolist(x):
        return x.tolist()

    @staticmethod
    def to_host(x):
        return x

    def seed(self, seed):
        self.rng = np.random.default_rng(seed)

    def uniform(self, shape, dtype):
        return self.rng.random(shape).astype(_TO_NATIVE[dtype], copy=False)

    def normal(self, shape, dtype):
        return self.rng.standard_normal(shape).astype(_TO_NATIVE[dtype], copy=False)

    def randint(self, low, high, shape, dtype):
        return self.rng.integers(low, high, shape).astype(_TO_NATIVE[dtype], copy=False)
