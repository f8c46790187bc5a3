"""The built-in CuPy backend: the generic Array API backend on CuPy, with raw ufuncs.

Imported only by its factory (`plugrad.backends.builtin.make_cupy`), after the
factory has checked that cupy imports and sees a CUDA device, so importing
cupy at the top of this module costs nothing before the backend is used.

Like the NumPy backend it keeps CuPy's ufuncs as class attributes (they take
Python numbers on either side, as the contract wants) and inherits the rest
from `ArrayAPIBackend`; what CuPy does its own way is overridden here:
scatter-add (`cupyx.scatter_add`), random numbers on the device, host
transfer (`cupy.asnumpy`), and reshape without a copy.
"""
from __future__ import annotations

import cupy as cp
import cupyx
import numpy as np
from plugrad import dtypes
from plugrad.backend import Backend

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


class CupyBackend(ArrayAPIBackend):
    """plugrad on CuPy arrays (the current CUDA device)."""

    name = "cupy"

    where = staticmethod(cp.where)
    matmul = staticmethod(cp.matmul)
    # CuPy returns 0-d arrays, never scalars; asarray is a no-op on them
    mutable = staticmethod(cp.asarray)

    def __init__(self) -> None:
        super().__init__(cp, "cupy", cp.__version__)
        self.rng = cp.random.RandomState()

    def native(self, dtype):
        return _TO_NATIVE[dtype]

    @staticmethod
    def dtype_of(x):
        try:
            return _FROM_NATIVE[x.dtype]
        except KeyError:
            raise TypeError(f"plugrad has no dtype for CuPy's {x.dtype}") from None

    @staticmethod
    def astype(x, dtype):
        return x.astype(_TO_NATIVE[dtype])

    @staticmethod
    def reshape(x, shape, copy=None):
        out = cp.reshape(x, shape)
        if copy is False and out.size and not cp.may_share_memory(out, x):
            raise ValueError("a view of this shape needs a copy")  # the core's view() refuses
        return out

    @staticmethod
    def getitem(x, index):
        return x[index]

    @staticmethod
    def index_add(x, index, values):
        if any(isinstance(i, cp.ndarray) and i.dtype != np.bool_ for i in index):
            cupyx.scatter_add(x, index, values)  # plain += would add a repeated index once
        else:
            x[index] += values
        return x

    @staticmethod
    def setitem(x, index, values):
        x[index] = values
        return x

    @staticmethod
    def copy(x):
        return x.copy()

    @staticmethod
    def asarray(data, dtype=None):
        # cp.array copies, from host data as from a device array
        return cp.array(data, dtype=None if dtype is None else _TO_NATIVE[dtype])

    @staticmethod
    def full(shape, value, dtype):
        return cp.full(shape, value, dtype=_TO_NATIVE[dtype])

    @staticmethod
    def to_host(x):
        return cp.asnumpy(x)

    @staticmethod
    def from_host(host, dtype):
        return cp.array(host, dtype=_TO_NATIVE[dtype])

    @staticmethod
    def tolist(x):
        return cp.asnumpy(x).tolist()

    # linear algebra (contract 1.5): cupy.linalg, batched. CuPy returns NaN for a singular
    # matrix unless asked to check: errstate(linalg="raise") makes it raise LinAlgError (a
    # ValueError), as NumPy does and as the contract wants
    @staticmethod
    def inv(a):
        with cupyx.errstate(linalg="raise"):
            return cp.linalg.inv(a)

    @staticmethod
    def solve(a, b):
        with cupyx.errstate(linalg="raise"):
            return cp.linalg.solve(a, b)

    @staticmethod
    def cholesky(a):
        with cupyx.errstate(linalg="raise"):
            return cp.linalg.cholesky(a)

    @staticmethod
    def qr(a, mode):
        return tuple(cp.linalg.qr(a, mode=mode))

    @staticmethod
    def svd(a, full_matrices):
        return tuple(cp.linalg.svd(a, full_matrices=full_matrices))

    @staticmethod
    def eigh(a):
        return tuple(cp.linalg.eigh(a))

    @staticmethod
    def slogdet(a):
        return tuple(cp.linalg.slogdet(a))

    det = staticmethod(cp.linalg.det)

    def seed(self, seed):
        self.rng = cp.random.RandomState(seed)

    def uniform(self, shape, dtype):
        return self.rng.random_sample(shape).astype(_TO_NATIVE[dtype], copy=False)

    def normal(self, shape, dtype):
        return self.rng.standard_normal(shape).astype(_TO_NATIVE[dtype], copy=False)

    def randint(self, low, high, shape, dtype):
        return self.rng.randint(low, high, shape).astype(_TO_NATIVE[dtype], copy=False)

    # plugrad.Generator's streams: the contract's fallback, which reseeds the generator above
    # before each draw (so draws stay on the device, and lazy on Dask); not the host
    # NumPy stream of ArrayAPIBackend
    random_stream = Backend.random_stream


# CuPy's ufuncs take Python numbers on either side and return arrays, as the contract wants:
# bind them directly, for every elementwise kernel of the contract's table; NumPy's spelling
# first (absolute, power), which in CuPy are the ufuncs themselves
bind_elementwise(CupyBackend, cp, numpy_spellings_first=True)
