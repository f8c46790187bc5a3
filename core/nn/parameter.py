"""`Parameter`: a tensor that a Module registers as one of its learnable weights.

plugrad's ops take their fast paths (and record gradients) only for objects
whose type is exactly `Tensor`, so a Parameter is not a subclass: `Parameter(x)`
returns a plain leaf Tensor and remembers it in a registry, and
`isinstance(p, Parameter)` asks that registry. Everything a tensor does, a
parameter does at the same speed.
"""
from __future__ import annotations

import weakref

from ..aliases import link, same
from ..creation import empty
from ..tensor import COPIED_HOOKS, Tensor, _make, _shareable

__all__ = ["Parameter", "is_parameter"]

# id(tensor) -> weak reference; an entry goes away with its tensor, so a later
# tensor that reuses the id is not mistaken for a parameter
_registry: dict = {}


def _forget(key: int):
    def callback(_ref) -> None:
        _registry.pop(key, None)
    return callback


def is_parameter(obj) -> bool:
    """True when `obj` was made by `Parameter(...)`."""
    ref = _registry.get(id(obj))
    return ref is not None and ref() is obj


def _register(p: Tensor) -> None:
    key = id(p)
    _registry[key] = weakref.ref(p, _forget(key))


def _copy_of_parameter(original: Tensor, copy: Tensor) -> None:
    if is_parameter(original):
        _register(copy)


COPIED_HOOKS.append(_copy_of_parameter)


class _ParameterMeta(type):
    def __instancecheck__(cls, obj) -> bool:
        return is_parameter(obj)


class Parameter(metaclass=_ParameterMeta):
    """Mark a tensor as a learnable weight: assigning it to a Module attribute registers it.

    The result shares `data`'s memory, is a leaf and requires grad by default.

    >>> import plugrad as pg
    >>> from plugrad import nn
    >>> w = nn.Parameter(pg.zeros(2))
    >>> w.requires_grad, isinstance(w, nn.Parameter)
    (True, True)
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Tensor:
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): data must be a Tensor, not {type(data).__name__}")
        p = _make(_shareable(data), data.dtype, data.backend)
        if not (data.backend.views and data.backend.writable):
            link(p, data, same)  # torch's Parameter(t) shares t's data
        p.requires_grad_(requires_grad)
        _register(p)
        return p
