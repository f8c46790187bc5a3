"""Backends: where plugrad's kernels come from, and which one new tensors use.

Three are built in: NumPy, the default; CuPy, which needs cupy and a CUDA
device; and Dask (lazy, chunked arrays), which needs dask (`plugrad[dask]`).
Other packages add backends through the entry-point group `plugrad.backends`
(see `plugrad.hookspecs`). Pick one per tensor with
`backend=` on any creation function, for the whole process with
`set_default_backend` or the PLUGRAD_BACKEND environment variable, or for a
block with `default_backend`:

>>> import plugrad as pg
>>> with pg.backends.default_backend("numpy"):
...     x = pg.zeros(2)
>>> x.backend
<plugrad backend 'numpy'>

A backend is created once, on first use, and every tensor keeps a direct
reference to it, so choosing a backend costs nothing per operation. This
module stays light: pluggy, the plugins and the array libraries are imported
only when a backend is first needed.
"""
from __future__ import annotations

import contextlib
import os
import threading

__all__ = ["default", "get", "for_device", "loaded", "available", "status",
           "set_default_backend", "default_backend", "BackendUnavailable", "PluginWarning",
           "PluginError"]


class PluginWarning(UserWarning):
    """A backend plugin was left out because of a fault (it is listed by `plugrad backends`)."""


class PluginError(RuntimeError):
    """A backend plugin's fault, raised instead of warned when PLUGRAD_STRICT_PLUGINS=1."""


_instances: dict = {}      # name -> backend, filled by the registry as backends are created
_registry = None           # the Registry, made on first need (it imports pluggy)
_registry_lock = threading.Lock()  # threads using a backend first at once share one Registry
_default_name = os.environ.get("PLUGRAD_BACKEND") or "numpy"
_default = None            # the default backend once resolved


def __getattr__(name: str):
    # BackendUnavailable lives in plugrad.backend, which `import plugrad` does not need yet
    if name == "BackendUnavailable":
        from plugrad.backend import BackendUnavailable
        return BackendUnavailable
    raise AttributeError(f"module 'plugrad.backends' has no attribute {name!r}")


def _get_registry():
    global _registry
    if _registry is None:
        from .registry import Registry
        with _registry_lock:
            if _registry is None:
                _registry = Registry(_instances)
    return _registry


def get(name: str):
    """The backend called `name`, created on first use.

    Raises BackendUnavailable (a RuntimeError) for a name nobody provides or
    a backend that cannot run here, listing the backends that can.
    """
    bk = _instances.get(name)
    if bk is None:
        bk = _get_registry().create(name)
    return bk


def default():
    """The backend new tensors use when none is named."""
    bk = _default
    if bk is None:
        bk = _resolve_default()
    return bk


def _resolve_default():
    global _default
    from plugrad.backend import BackendUnavailable
    try:
        bk = get(_default_name)
    except BackendUnavailable as err:
        if os.environ.get("PLUGRAD_BACKEND") == _default_name:
            raise BackendUnavailable(f"PLUGRAD_BACKEND={_default_name}: {err}") from None
        raise
    _default = bk
    return bk


def set_default_backend(backend) -> None:
    """Make `backend` (a name or a backend object) the one new tensors use.

    >>> import plugrad as pg
    >>> pg.set_default_backend("numpy")
    """
    global _default_name, _default
    bk = get(backend) if isinstance(backend, str) else _checked(backend)
    _default_name, _default = bk.name, bk


@contextlib.contextmanager
def default_backend(backend):
    """A `with` block in which new tensors use `backend` (then the previous default again).

    Like `set_default_backend` it changes the process-wide default, so threads
    running at the same time see it too.

    >>> import plugrad as pg
    >>> with pg.backends.default_backend("numpy"):
    ...     pg.ones(1).backend.name
    'numpy'
    """
    global _default_name, _default
    previous = (_default_name, _default)
    set_default_backend(backend)
    try:
        yield default()
    finally:
        _default_name, _default = previous


def is_backend_name(name: str) -> bool:
    """Whether a backend is registered under `name` (ready here or not)."""
    if name in _instances:
        return True
    registry = _get_registry()
    return registry.knows(name)


def for_device(device):
    """The backend serving a device (a `plugrad.device` or a string such as "cuda:0").

    The default backend when its arrays live on that device type, else the
    first backend that declares the type and runs here (built-ins first: NumPy
    for "cpu", CuPy for "cuda"). Raises BackendUnavailable (a RuntimeError)
    saying why none can.

    >>> import plugrad as pg
    >>> pg.backends.for_device("cpu").name
    'numpy'
    """
    from plugrad.device import device as as_device
    kind = as_device(device).type
    bk = default()
    if bk.device_type == kind:
        return bk
    return _get_registry().for_device_type(kind)


def _checked(backend):
    from plugrad.backend import Backend
    if not isinstance(backend, Backend):
        raise TypeError(f"expected a backend name or a plugrad Backend, got "
                        f"{type(backend).__name__}")
    return backend


def loaded() -> list:
    """The backends created so far."""
    return list(_instances.values())


def available():
    """The names of the backends ready to use here; why the others are not is attached.

    The result is a list of names (what `backend=` accepts); its
    `unavailable` attribute maps each backend that was found but cannot run
    here to the reason. Calling it loads the plugins and tries every backend.

    >>> import plugrad as pg
    >>> names = pg.backends.available()
    >>> "numpy" in names
    True
    """
    return _get_registry().available()


def status() -> list:
    """One row per backend found and per faulty plugin: what `plugrad backends` prints.

    Each row has `name`, `version`, `package`, `status` ("ready", "not
    available" or "error") and `reason`.
    """
    return _get_registry().status()
