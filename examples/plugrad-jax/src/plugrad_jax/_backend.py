"""The JAX backend's class, made once JAX is imported (see make_backend)."""
from __future__ import annotations

import numpy as np
from plugrad.backends.array_api import ArrayAPIBackend, bind_elementwise

from . import SETTINGS


def _check_ints(index: tuple, shape: tuple) -> None:
    """IndexError for an out-of-range Python int in a basic index: JAX would clamp it."""
    axis = 0
    for item in index:
        if item is None:
            continue
        if item is Ellipsis:
            axis = len(shape) - sum(1 for i in index[index.index(Ellipsis) + 1:]
                                    if i is not None)
            continue
        if type(item) is int and axis < len(shape):
            n = shape[axis]
            if not -n <= item < n:
                raise IndexError(f"index {item} is out of bounds for axis {axis} with size {n}")
        if getattr(item, "dtype", None) is not None and item.dtype != bool and item.size \
                and axis < len(shape):
            n = shape[axis]
            lo, hi = int(item.min()), int(item.max())  # one device sync, advanced indices only
            if hi >= n or lo < -n:
                bad = hi if hi >= n else lo
                raise IndexError(f"index {bad} is out of bounds for axis {axis} with size {n}")
        axis += getattr(item, "ndim", 1) if getattr(item, "dtype", None) == bool else 1  # noqa: E721 - a dtype


def backend_class(jax, jnp):
    from jax.scipy import special
    class JaxBackend(ArrayAPIBackend):
        """plugrad's kernels on jax.numpy; writes return new arrays, views are copies."""

        writable = False
        views = False
        process_switches = {f"{s}={v}": "float64 arrays" for s, v in SETTINGS.items()}

        def __init__(self) -> None:
            super().__init__(jnp, "jax", jax.__version__)

        @property
        def conformance_skips(self) -> dict:
            skips = dict(super().conformance_skips)
            # the page prints how many calls plugrad.compile replayed: on JAX a write returns
            # a new array, which the first slice of compile cannot capture yet (it runs eagerly,
            # with the same results; the count printed differs)
            skips["compile.md:compiling-a-step:1"] = (
                "plugrad.compile runs JAX steps eagerly (writes return new arrays): the "
                "printed replay count differs, the values do not")
            return skips

        # writes (contract 2.0): a new array each time
        def setitem(self, x, index, values):
            _check_ints(index, x.shape)
            return x.at[index].set(values)

        def index_add(self, x, index, values):
            _check_ints(index, x.shape)
            return x.at[index].add(values)  # repeated indices add up

        @staticmethod
        def add_into(x, y):
            return jnp.add(x, y)

        @staticmethod
        def mul_into(x, y):
            return jnp.multiply(x, y)

        @staticmethod
        def mutable(x):
            return x if isinstance(x, jax.Array) else jnp.asarray(x)

        @staticmethod
        def copy(x):
            return jnp.array(x, copy=True)

        def getitem(self, x, index):
            _check_ints(index, x.shape)
            return x[index]

        def to_host(self, x):
            return np.asarray(x)

        # not in the Array API standard, but in jax.scipy.special
        @staticmethod
        def erf(x):
            return special.erf(x)

        @staticmethod
        def erfinv(x):
            return special.erfinv(x)

    # jnp's functions take Python numbers on either side as weakly typed scalars: no 0-d
    # array (and no device transfer) per number, and the array's dtype wins
    bind_elementwise(JaxBackend, jnp)
    return JaxBackend
