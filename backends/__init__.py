"""Backends: where plugrad's kernels come from.

For now the NumPy backend is built in and is the default. A backend is created
once, on first use, and every tensor keeps a direct reference to it, so choosing
a backend costs nothing per operation.
"""
from __future__ import annotations

import os
import threading

__all__ = ["default", "get", "loaded", "available", "set_default_backend"]

_lock = threading.Lock()
_instances: dict = {}
_default_name = os.environ.get("PLUGRAD_BACKEND", "numpy")


def _create(name: str):
    if name == "numpy":
        from .numpy_backend import NumpyBackend
        return NumpyBackend()
    raise RuntimeError(f"unknown backend {name!r}; available: {', '.join(available())}")


def get(name: str):
    """The backend called `name`, created on first use."""
    bk = _instances.get(name)
    if bk is None:
        with _lock:
            bk = _instances.get(name)
            if bk is None:
                bk = _create(name)
                from plugrad.creation import _seed
                if _seed:
                    bk.seed(_seed[0])
                _instances[name] = bk
    return bk


def default():
    """The backend new tensors use when none is named."""
    return get(_default_name)


def set_default_backend(name: str) -> None:
    """Make `name` the backend new tensors use."""
    global _default_name
    get(name)  # fail now, not at the next tensor
    _default_name = name


def loaded() -> list:
    """The backends created so far."""
    return list(_instances.values())


def available() -> list:
    """Names of the backends plugrad can create."""
    return ["numpy"]
