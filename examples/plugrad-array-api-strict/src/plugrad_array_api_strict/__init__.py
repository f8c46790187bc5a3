"""A plugrad backend on array_api_strict: the worked example of docs/writing-a-backend.md.

array_api_strict implements the Array API standard and nothing more, so
plugrad running on it shows that the core asks its backends for nothing
beyond the standard. The whole plugin is one hook: it names the backend and
says how to make it; plugrad's generic `ArrayAPIBackend` does the rest.

This module is what the entry point names, so it is imported when plugrad
scans for plugins: keep it light, and import the array library only in the
factory, which runs the first time the backend is used.
"""
from __future__ import annotations

from plugrad.hookspecs import BackendSpec, BackendUnavailable, hookimpl

__version__ = "0.1.0"
NAME = "array_api_strict"


def make_backend():
    """The backend: plugrad's generic Array API backend on the array_api_strict namespace."""
    try:
        import array_api_strict
    except ImportError as err:
        raise BackendUnavailable(f"array_api_strict is not installed ({err})") from None
    from plugrad.backends.array_api import ArrayAPIBackend
    return ArrayAPIBackend(array_api_strict, NAME)


@hookimpl
def plugrad_backends():
    return [BackendSpec(NAME, make_backend,
                        "array_api_strict: the Array API standard and nothing more (CPU)")]
