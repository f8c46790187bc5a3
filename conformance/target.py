"""Which backend the suite runs on: a registered name, or `module:attribute` for one in progress.

A backend author can test a backend before registering it as a plugin:
`plugrad conformance mypackage.backend:MyBackend` imports `MyBackend` from
`mypackage.backend` and, if it is a class or a factory rather than a backend
object, calls it with no arguments. The module is looked for in the current
directory too (as `python -m` does), so a `mylib_backend.py` beside you works.
"""
from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from typing import Any

__all__ = ["Target", "resolve", "skips_of"]


@dataclass
class Target:
    spec: str           # what the user named: "numpy", "pkg.mod:MyBackend"
    backend: Any        # the plugrad Backend object
    setup_code: str     # Python lines that make it the default backend (for reproductions)

    @property
    def name(self) -> str:
        return self.backend.name


def resolve(spec: str | None) -> Target:
    """The backend under test; BackendUnavailable (a RuntimeError) when it cannot run here."""
    from plugrad import backends
    from plugrad.backend import Backend
    if not spec:
        bk = backends.default()
        return Target(bk.name, bk, f"pg.set_default_backend({bk.name!r})")
    if ":" not in spec:
        bk = backends.get(spec)
        return Target(spec, bk, f"pg.set_default_backend({spec!r})")
    module_name, _, attr = spec.partition(":")
    here = os.getcwd()
    if here not in sys.path and "" not in sys.path:
        # the `plugrad` script puts its own folder first, not the current one (python -m
        # does); the rerun command the summary prints must work where it was printed
        sys.path.insert(0, here)
    try:
        obj = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as err:
        raise backends.BackendUnavailable(
            f"cannot load the backend {spec!r}: {type(err).__name__}: {err}") from None
    called = ""
    if not isinstance(obj, Backend):
        if not callable(obj):
            raise TypeError(f"{spec} is neither a plugrad Backend nor a callable that makes one")
        obj = obj()
        called = "()"
        if not isinstance(obj, Backend):
            raise TypeError(f"{spec}() returned {type(obj).__name__}, not a plugrad Backend")
    top = attr.split(".")[0]
    code = f"from {module_name} import {top}\npg.set_default_backend({attr}{called})"
    return Target(spec, obj, code)


def skips_of(backend) -> dict:
    """The backend's declared gaps: its `conformance_skips` mapping (pattern -> reason)."""
    skips = getattr(backend, "conformance_skips", None) or {}
    if not isinstance(skips, dict):
        raise TypeError(f"{type(backend).__name__}.conformance_skips must be a dict of "
                        f"pattern -> reason, not {type(skips).__name__}")
    return {str(k): str(v) for k, v in skips.items()}
