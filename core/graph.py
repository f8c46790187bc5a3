"""The recorded graph: one Node per operation, pointing back at its inputs' nodes.

A Node knows nothing about the tensor it produced (that would make a reference
cycle); it holds only what its backward formula needs. Leaves that require grad
are reached through an AccumulateGrad node, which owns the leaf and adds the
incoming gradient to `leaf.grad`.
"""
from __future__ import annotations

import itertools
import weakref
from typing import Callable

__all__ = ["Node", "AccumulateGrad", "RemovableHandle", "HookDict"]

_handle_ids = itertools.count()

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved "
    "tensors after they have already been freed). Saved intermediate values of the "
    "graph are freed when you call .backward() or autograd.grad(). Specify "
    "retain_graph=True if you need to backward through the graph a second time or "
    "if you need to access saved tensors after calling backward."
)


class HookDict(dict):
    """Hooks by handle id; a dict subclass so that handles can hold it weakly."""


class RemovableHandle:
    """Returned by the `register_*hook` methods; `remove()` takes the hook out."""

    __slots__ = ("_hooks_ref", "id")

    def __init__(self, hooks: dict) -> None:
        self._hooks_ref = weakref.ref(hooks)
        self.id = next(_handle_ids)

    def remove(self) -> None:
        hooks = self._hooks_ref()
        if hooks is not None:
            hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


class Node:
    """The grad_fn of a tensor: one recorded operation.

    `inputs` has one node per input (None for inputs that need no gradient);
    torch's `next_functions` view of it pairs each with its output index.
    `backward(node, grad)` returns one gradient (or None) per input. `saved`
    holds the tensors the formula reads; backward releases them unless
    retain_graph is set. `args` holds the non-tensor facts
    (shapes, dims) and is kept.
    """

    __slots__ = ("inputs", "backward", "saved", "args", "_name", "pre_hooks", "retained",
                 "__weakref__")

    def __init__(self, name: str, backward: Callable, inputs: tuple,
                 saved: tuple = (), args=None) -> None:
        self._name = name
        self.backward = backward
        self.inputs = inputs
        self.saved = saved
        self.args = args
        self.pre_hooks = None   # dict id -> hook(grad) -> grad | None
        self.retained = None    # weakref to the output tensor whose .grad to keep

    def name(self) -> str:
        return self._name

    @property
    def next_functions(self) -> tuple:
        """((node, output_index), ...) for each input, as torch shows it."""
        return tuple([(n, 0) for n in self.inputs])

    def __repr__(self) -> str:
        return f"<{self._name} object at {id(self):#x}>"

    def __call__(self, grad):
        """Run this node's backward formula on the gradient of its output."""
        if self.saved is None:
            raise RuntimeError(FREED_MESSAGE)
        return self.backward(self, grad)

    def register_prehook(self, hook: Callable) -> RemovableHandle:
        """Call `hook(grad)` on the gradient reaching this node; a return value replaces it."""
        if self.pre_hooks is None:
            self.pre_hooks = HookDict()
        handle = RemovableHandle(self.pre_hooks)
        self.pre_hooks[handle.id] = hook
        return handle


class AccumulateGrad(Node):
    """Adds the gradient reaching a leaf to `leaf.grad` (the leaf is `variable`)."""

    __slots__ = ("variable",)

    def __init__(self, variable) -> None:
        super().__init__("AccumulateGrad", None, ())
        self.variable = variable

    def __call__(self, grad):
        raise RuntimeError("AccumulateGrad is run by the backward engine, not called directly")
