"""Tensor's methods that are ops, bound in one place from the op declarations.

`x.exp()` and `plugrad.exp(x)` are the same function: every op module
declares its ops (plugrad.declare), and `bind_methods` below makes each
declaration's `Tensor` method, in-place variant (`x.exp_()`, through
plugrad.inplace.in_place) and Python operators (`x + y`, `x += y`). It runs
once, when `import plugrad` imports this module, after every op module has
loaded; nothing else adds attributes to Tensor.

`backward` is bound here too: it is the engine's, which sits above tensor.py.
"""
from __future__ import annotations

import sys

from . import (  # noqa: F401 - importing them declares their ops
    indexing,
    inplace,
    linalg,
    matrices,
    pointwise,
    reduction,
    sampling,
    shape,
    window,
)
from .declare import DECLARED
from .engine import backward as _backward
from .engine import execute
from .inplace import in_place
from .tensor import Tensor, _make

__all__ = ["bind_methods"]


def tensor_backward(self: Tensor, gradient: Tensor | None = None,
                    retain_graph: bool | None = None, create_graph: bool = False,
                    inputs=None) -> None:
    """Accumulate d(self)/d(leaf) into `.grad` of every leaf that requires grad.

    `gradient` is required unless self has one element. The graph's saved
    tensors are freed unless `retain_graph` (default: `create_graph`).

    >>> import plugrad as pg
    >>> x = pg.tensor([2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([4., 6.])
    """
    fn = self.grad_fn
    if gradient is None and inputs is None and fn is not None and not self._array.shape:
        # `loss.backward()`, the usual call: what engine.backward would check and
        # build for it comes down to this (one 0-d gradient of ones)
        bk, dtype = self.backend, self.dtype
        ones = _make(bk.full((), 1, dtype), dtype, bk)
        execute([(fn, ones)], create_graph if retain_graph is None else retain_graph,
                create_graph)
        return
    _backward(self, gradient, retain_graph, create_graph, inputs=inputs)


tensor_backward.__name__ = "backward"


def _method(fn, name: str):
    """fn, named as the Tensor method it becomes when no module holds it under its name (a
    made variant such as add_): tracebacks and the API reference then find it on Tensor."""
    home = sys.modules.get(getattr(fn, "__module__", None))
    if hasattr(fn, "__code__") and getattr(home, fn.__name__, None) is not fn:
        fn.__module__, fn.__qualname__ = Tensor.__module__, f"Tensor.{name}"
    return fn


def bind_methods() -> None:
    """Give Tensor a method, in-place variant and operators for every declaration."""
    for op in DECLARED.values():
        if op.method is not None:
            setattr(Tensor, op.method, _method(op.method_fn, op.method))
        variant = None
        if op.inplace is not None:
            variant = _method(in_place(op.fn, op.inplace), op.inplace)
            setattr(Tensor, op.inplace, variant)
        for dunder, fn in op.operators.items():
            setattr(Tensor, dunder, op.fn if fn is None else fn)
        if op.inplace_operator is not None:
            setattr(Tensor, op.inplace_operator, variant)
    Tensor.backward = _method(tensor_backward, "backward")


bind_methods()
