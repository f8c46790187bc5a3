"""plugrad on JAX: a backend for an immutable array library (contract 2.0).

JAX arrays cannot be written in place and have no views, so the backend says so
(`writable = False`, `views = False`) and its write kernels return new arrays
(`x.at[index].set(values)`); the core keeps torch's in-place and view semantics
on top (plugrad.aliases). float64 needs JAX's process-wide switch
`jax_enable_x64`, which the factory turns on and the backend declares in
`process_switches`.

This module imports no array library: plugrad reads it with the entry points,
and JAX is imported by the factory, the first time the backend is used.
"""
from __future__ import annotations

from plugrad.hookspecs import BackendSpec, BackendUnavailable, hookimpl

SETTINGS = {"jax_enable_x64": True}


def make_backend():
    try:
        import jax
        import jax.numpy as jnp
    except ImportError as err:
        raise BackendUnavailable(f"jax is not installed ({err})") from None
    for setting, value in SETTINGS.items():
        jax.config.update(setting, value)
    from ._backend import backend_class
    return backend_class(jax, jnp)()


@hookimpl
def plugrad_backends():
    return [BackendSpec("jax", make_backend, "JAX arrays (immutable; CPU or the default device)")]
