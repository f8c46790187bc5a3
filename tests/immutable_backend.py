"""A test backend on NumPy whose arrays behave like an immutable library's (JAX's).

Every write kernel returns a NEW array and leaves its argument alone, and every
movement or indexing kernel copies, so nothing aliases: `writable = False`,
`views = False`. The arrays it hands out are read-only, so a write that skips
the kernels (an in-place NumPy operation on a tensor's array) fails loudly
instead of passing by luck. Run a test module on it with
`PLUGRAD_TEST_IMMUTABLE=1 python -m pytest tests/test_inplace.py`
(tests/conftest.py makes it the default backend).
"""
from __future__ import annotations

import numpy as np
from plugrad.backends.numpy_backend import NumpyBackend


def _frozen(a):
    """The new array a, made read-only (a library scalar stays as it is)."""
    if isinstance(a, np.ndarray):
        a.flags.writeable = False
    return a


class ImmutableNumpy(NumpyBackend):
    """NumPy with JAX's rules: writes return new arrays, views are copies."""

    writable = False
    views = False

    def __init__(self) -> None:
        super().__init__()
        self.name = "immutable_numpy"

    # -- writes: a new array each time, the argument untouched ----------------------------
    @staticmethod
    def setitem(x, index, values):
        out = np.array(x, copy=True)
        out[index] = values
        return _frozen(out)

    @staticmethod
    def index_add(x, index, values):
        out = np.array(x, copy=True)
        NumpyBackend.index_add(out, index, values)
        return _frozen(out)

    @staticmethod
    def add_into(x, y):
        return _frozen(np.asarray(np.add(x, y), dtype=x.dtype))

    @staticmethod
    def mul_into(x, y):
        return _frozen(np.asarray(np.multiply(x, y), dtype=x.dtype))

    # -- no views: every movement and indexing result is a copy ----------------------------
    @staticmethod
    def getitem(x, index):
        return _frozen(np.array(NumpyBackend.getitem(x, index), copy=True))

    @staticmethod
    def reshape(x, shape, copy=None):
        return _frozen(np.array(np.reshape(x, shape), copy=True))

    @staticmethod
    def permute(x, axes):
        return _frozen(np.array(np.transpose(x, axes), copy=True))

    @staticmethod
    def broadcast_to(x, shape):
        return _frozen(np.array(np.broadcast_to(x, shape), copy=True))

    @staticmethod
    def unfold(x, axis, size, step):
        return _frozen(np.array(NumpyBackend.unfold(x, axis, size, step), copy=True))



def make() -> ImmutableNumpy:
    return ImmutableNumpy()
