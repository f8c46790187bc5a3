"""The built-in backends, registered through the same hook a third-party plugin implements.

This module must stay light: it is registered whenever plugrad first needs a
backend, and it imports neither NumPy, CuPy nor Dask. Each factory imports its
library when the backend is first used.
"""
from __future__ import annotations

from plugrad.backend import BackendSpec, BackendUnavailable
from plugrad.hookspecs import hookimpl


def make_numpy():
    from .numpy_backend import NumpyBackend
    return NumpyBackend()


def make_cupy():
    """The CuPy backend, or BackendUnavailable saying what is missing (cupy, CUDA, a GPU)."""
    try:
        import cupy
    except ImportError as err:
        if err.name == "cupy":
            raise BackendUnavailable("cupy is not installed (pip install 'plugrad[cupy]')") \
                from None
        raise BackendUnavailable(f"cupy failed to import: {err}") from None
    except Exception as err:  # cupy imports but its CUDA libraries do not load
        raise BackendUnavailable(f"cupy failed to import: {type(err).__name__}: {err}") from None
    version = f"cupy {getattr(cupy, '__version__', '?')}"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # no driver, no runtime: CUDARuntimeError and friends
        raise _unavailable(_no_device_reason(cupy, err), version) from None
    if count < 1:
        raise _unavailable("cupy is installed, but no CUDA device found", version)
    from .cupy_backend import CupyBackend
    return CupyBackend()


def _unavailable(reason: str, version: str) -> BackendUnavailable:
    err = BackendUnavailable(reason)
    err.version = version  # `plugrad backends` shows the installed library's version
    return err


def _no_device_reason(cupy, err: Exception) -> str:
    """Why CUDA cannot be used, in words: CUDA reports a machine without any NVIDIA driver
    as an "insufficient" driver, which sends people looking for an update."""
    try:
        driver = cupy.cuda.runtime.driverGetVersion()  # 0 when no driver is installed
    except Exception:
        driver = None
    if driver == 0:
        return ("cupy is installed, but this machine has no NVIDIA driver (no GPU, or its "
                "driver is not installed)")
    detail = f"{type(err).__name__}: {err}"
    if driver:
        detail += f" (driver supports CUDA {driver // 1000}.{driver % 1000 // 10})"
    return f"cupy is installed, but no CUDA device is usable: {detail}"


def make_dask():
    """The Dask backend (lazy, chunked arrays), or BackendUnavailable when dask is missing."""
    try:
        import dask.array  # noqa: F401
    except ImportError as err:
        if (err.name or "").split(".")[0] == "dask" or "dask" in str(err):
            raise BackendUnavailable("dask is not installed (pip install 'plugrad[dask]')") \
                from None
        raise BackendUnavailable(f"dask failed to import: {err}") from None
    from .dask_backend import DaskBackend
    return DaskBackend()


@hookimpl
def plugrad_backends():
    return [
        BackendSpec("numpy", make_numpy, "NumPy arrays on the CPU (the default)"),
        BackendSpec("cupy", make_cupy, "CuPy arrays on an NVIDIA GPU (CUDA)",
                    device_type="cuda"),
        BackendSpec("dask", make_dask, "Dask arrays: lazy task graphs, chunked, out of core "
                                       "or on a cluster"),
    ]
