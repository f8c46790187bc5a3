"""The recorded graph: one Node per operation, pointing back at its inputs' nodes.

A Node knows nothing about the tensor it produced (that would make a reference
cycle); it holds only what its backward formula needs. Leaves that require grad
are reached through an AccumulateGrad node, which owns the leaf and adds the
incoming gradient to `leaf.grad`.

Everything optional about a node (hooks, a retained gradient) lives in one
`Hooks` object that most nodes never get, so the engine needs a single
`node.hooks is None` test to know it may take its fast path.
"""
from __future__ import annotations

import itertools
import os
import weakref
from typing import Callable

from . import versions
from .grad_mode import ANOMALY
from .versions import check_node

__all__ = ["Node", "AccumulateGrad", "Hooks", "PerOutput", "RemovableHandle", "HookDict",
           "set_anomaly", "forward_trace"]

_handle_ids = itertools.count()


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

    def __exit__(self, *_exc) -> None:
        self.remove()


def add_hook(hooks: HookDict, hook: Callable) -> RemovableHandle:
    if not callable(hook):
        raise TypeError(f"hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


class Hooks:
    """The hooks of one node (or of one leaf tensor), each kind a HookDict or None.

    tensor: hook(grad) -> grad | None, on the gradient of the node's output tensor
    retained: weakref to the output tensor whose .grad keeps its gradient
    pre: hook(grad_outputs) -> tuple | None, before the node's backward runs
    post: hook(grad_inputs, grad_outputs) -> tuple | None, after it ran
    post_accumulate: hook(tensor), after a leaf's .grad was updated (leaves only)
    """

    __slots__ = ("tensor", "retained", "pre", "post", "post_accumulate")

    def __init__(self) -> None:
        self.tensor = self.retained = self.pre = self.post = self.post_accumulate = None

    def dict(self, kind: str) -> HookDict:
        hooks = getattr(self, kind)
        if hooks is None:
            hooks = HookDict()
            setattr(self, kind, hooks)
        return hooks


class PerOutput:
    """The gradients reaching a node that has several outputs, one slot per output.

    Each output of such a node (a custom Function's) is a small routing node
    that wraps its gradient in a PerOutput; the engine sums two of them with
    `+` when a second one reaches the same buffer.
    """

    __slots__ = ("grads",)

    def __init__(self, grads: list) -> None:
        self.grads = grads

    def __add__(self, other: "PerOutput") -> "PerOutput":
        merged = list(self.grads)
        for i, g in enumerate(other.grads):
            if g is not None:
                merged[i] = g if merged[i] is None else merged[i] + g
        return PerOutput(merged)


class Node:
    """The grad_fn of a tensor: one recorded operation.

    `inputs` has one node per input (None for inputs that need no gradient);
    torch's `next_functions` view of it pairs each with its output index.
    `backward(node, grad)` returns one gradient (or None) per input. `saved`
    holds the tensors the formula reads; backward releases them unless
    retain_graph is set. `args` holds the non-tensor facts (shapes, dims) and
    is kept. `hooks` is None until a hook or retain_grad needs it.

    >>> import plugrad as pg
    >>> x = pg.tensor([1.0, 2.0], requires_grad=True)
    >>> y = (x * 2).sum()
    >>> y.grad_fn.name(), y.grad_fn.next_functions[0][0].name()
    ('SumBackward0', 'MulBackward0')
    """

    # _trace is only assigned while anomaly detection is on (see set_anomaly); _dirty
    # only when an output this node saved as data is changed in place (tensor.bump)
    __slots__ = ("inputs", "backward", "saved", "args", "_name", "hooks", "_stamp", "_trace",
                 "_dirty", "__weakref__")

    def __init__(self, name: str, backward: Callable, inputs: tuple,
                 saved: tuple = (), args=None) -> None:
        self._name = name
        self.backward = backward
        self.inputs = inputs
        self.saved = saved
        self.args = args
        self.hooks = None
        self._stamp = versions.CLOCK

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
        check_node(self)
        return self.backward(self, grad)

    def _saving_node(self) -> tuple:
        """(node that holds this output's saved data, output index): self and 0 here."""
        return self, 0

    def _hooks(self) -> Hooks:
        hooks = self.hooks
        if hooks is None:
            hooks = self.hooks = Hooks()
        return hooks

    @property
    def retained(self):
        """Weak reference to the output tensor that keeps its gradient (retain_grad), or None."""
        return None if self.hooks is None else self.hooks.retained

    @retained.setter
    def retained(self, ref) -> None:
        self._hooks().retained = ref

    def register_prehook(self, hook: Callable) -> RemovableHandle:
        """Call `hook(grad_outputs)` before this node runs; a returned tuple replaces them.

        `grad_outputs` is a tuple with the gradient of each output of the op.

        >>> import plugrad as pg
        >>> x = pg.tensor([1.0, 2.0], requires_grad=True)
        >>> y = x * 3
        >>> h = y.grad_fn.register_prehook(lambda grad_outputs: (grad_outputs[0] * 10,))
        >>> y.sum().backward()
        >>> x.grad
        tensor([30., 30.])
        """
        return add_hook(self._hooks().dict("pre"), hook)

    def register_hook(self, hook: Callable) -> RemovableHandle:
        """Call `hook(grad_inputs, grad_outputs)` after this node ran; a returned tuple
        replaces grad_inputs (the gradients it passes on to its inputs).

        >>> import plugrad as pg
        >>> x = pg.tensor([1.0, 2.0], requires_grad=True)
        >>> y = x * 3
        >>> h = y.grad_fn.register_hook(lambda gi, go: (gi[0] + 1, None))
        >>> y.sum().backward()
        >>> x.grad
        tensor([4., 4.])
        """
        return add_hook(self._hooks().dict("post"), hook)

    def _register_tensor_hook(self, hook: Callable) -> RemovableHandle:
        """A hook on the gradient of this node's output tensor (Tensor.register_hook)."""
        return add_hook(self._hooks().dict("tensor"), hook)


class AccumulateGrad(Node):
    """Adds the gradient reaching a leaf to `leaf.grad` (the leaf is `variable`).

    The leaf keeps its AccumulateGrad for good and the node refers back to the leaf
    weakly (no reference cycle), so a training loop does not build a new one for
    every parameter at every step.
    """

    __slots__ = ("_variable",)

    def __init__(self, variable) -> None:
        super().__init__("AccumulateGrad", None, ())
        self._variable = weakref.ref(variable)
        # never None: the engine sends every leaf down its slow path with one test
        self.hooks = Hooks()

    @property
    def variable(self):
        """The leaf tensor (None once it has been garbage collected)."""
        return self._variable()

    def __call__(self, grad):
        raise RuntimeError("AccumulateGrad is run by the backward engine, not called directly")


# -- anomaly mode: forward tracebacks ------------------------------------------------
# Recording a traceback per node is expensive, so instead of testing a flag in
# every Node constructor, turning anomaly mode on swaps in a constructor that
# records one; with it off, building a node costs exactly what it did before.
_plain_init = Node.__init__
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _traced_init(self, name, backward, inputs, saved=(), args=None) -> None:
    import traceback  # only needed in anomaly mode: keep `import plugrad` light
    _plain_init(self, name, backward, inputs, saved, args)
    stack = traceback.extract_stack()
    # end the trace at the user's line: drop plugrad's own frames at the top
    while stack and os.path.abspath(stack[-1].filename).startswith(_PACKAGE_DIR):
        stack.pop()
    self._trace = stack


def set_anomaly(enabled: bool, check_nan: bool = True) -> None:
    """Switch anomaly detection (and the traceback-recording constructor) on or off."""
    ANOMALY.enabled = bool(enabled)
    ANOMALY.check_nan = bool(check_nan)
    Node.__init__ = _traced_init if enabled else _plain_init


def forward_trace(node) -> str | None:
    """The formatted traceback of the forward call that recorded `node`, if one was kept."""
    trace = getattr(node, "_trace", None)
    return None if trace is None else "".join(trace.format())
