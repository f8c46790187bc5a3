"""Helpers every op uses to wrap its result and, when needed, record its Node."""
from __future__ import annotations

from .graph import Node
from .tensor import Tensor, _make, accumulator


def edge(t):
    """The node through which a gradient reaches `t` (None if it needs none)."""
    if type(t) is not Tensor:
        return None
    fn = t.grad_fn
    if fn is not None:
        return fn
    if t._rg:
        return accumulator(t)
    return None


def record(out: Tensor, name: str, backward, inputs: tuple, saved: tuple = (), args=None) -> Tensor:
    """Make `out` the result of a recorded op whose inputs are `inputs`."""
    out.grad_fn = Node(name, backward, tuple([edge(t) for t in inputs]), saved, args)
    out._rg = True
    return out


def record1(out: Tensor, name: str, backward, x: Tensor, saved: tuple = (), args=None) -> Tensor:
    """`record` for one input that requires grad, the common case, without the loop."""
    fn = x.grad_fn
    out.grad_fn = Node(name, backward, (fn if fn is not None else accumulator(x),), saved, args)
    out._rg = True
    return out


def saved_output(node, grad: Tensor, data) -> Tensor:
    """An op's saved output, reconnected to its node so double backward flows through it."""
    bk = grad.backend
    t = _make(data, bk.dtype_of(data), bk)
    t.grad_fn = node
    t._rg = True
    return t
