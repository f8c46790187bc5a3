"""The plugin hooks of plugrad: the manual for writing a backend plugin.

plugrad finds backends with pluggy (https://pluggy.readthedocs.io). A plugin is
any module or object with functions marked `@hookimpl` whose names are the hooks
below. The built-in NumPy, CuPy and Dask backends are a plugin of exactly this
kind (`plugrad.backends.builtin`); a third-party package is found through an
entry point in the group `plugrad.backends`:

.. code-block:: toml

    # pyproject.toml of your package
    [project.entry-points."plugrad.backends"]
    mylib = "plugrad_mylib"        # the module that holds your @hookimpl functions

plugrad reads the entry points the first time it needs a backend that is not
built in, or when asked to list them (`plugrad backends`,
`plugrad.backends.available()`); `import plugrad` alone loads no plugin. Each
entry point is loaded once. A plugin that fails to import, raises in a hook or
returns something invalid is left out with a warning and shown with its error
by `plugrad backends`; set PLUGRAD_STRICT_PLUGINS=1 to make those faults raise
while you develop a plugin.

Mark your functions with this module's `hookimpl` (or, equivalently, with
`pluggy.HookimplMarker("plugrad")`):

>>> from plugrad.hookspecs import hookimpl
"""
from __future__ import annotations

import pluggy

from .backend import Backend, BackendSpec, BackendUnavailable

__all__ = ["PROJECT", "ENTRY_POINT_GROUP", "hookspec", "hookimpl", "plugrad_backends",
           "Backend", "BackendSpec", "BackendUnavailable"]

PROJECT = "plugrad"
ENTRY_POINT_GROUP = "plugrad.backends"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def plugrad_backends():
    """Return the backends this plugin provides: a list of `BackendSpec`.

    Called once per process, when plugrad first looks for backends. Keep it
    cheap and free of imports of your array library: describe each backend
    with a name and a factory, and import the library inside the factory,
    which runs the first time someone uses (or lists) the backend.

    The factory returns an instance of a `plugrad.backend.Backend` subclass
    that implements every required primitive (`plugrad.backend.REQUIRED`;
    `plugrad.backends.array_api.ArrayAPIBackend` implements all of them on any
    Array API standard namespace). When the backend cannot run on this
    machine, the factory raises `BackendUnavailable` with the reason; users
    then see "not available: <reason>" instead of a traceback.

    Names are unique: the built-in names (numpy, cupy, dask) cannot be taken over,
    and when two plugins claim one name the first found keeps it and the
    other is reported and left out.

    Example, a whole plugin module (the package `plugrad-array-api-strict` in
    the repository's examples/ folder is this, with tests):

    .. code-block:: python

        from plugrad.hookspecs import BackendSpec, BackendUnavailable, hookimpl


        def _make():
            try:
                import array_api_strict
            except ImportError as err:
                raise BackendUnavailable(f"array_api_strict is not installed ({err})")
            from plugrad.backends.array_api import ArrayAPIBackend
            return ArrayAPIBackend(array_api_strict, "array_api_strict")


        @hookimpl
        def plugrad_backends():
            return [BackendSpec("array_api_strict", _make,
                                "the strict Array API reference implementation (CPU)")]

    Then `pg.tensor([1.0], backend="array_api_strict")` works wherever the
    package is installed.
    """
