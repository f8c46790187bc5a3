"""Custom differentiable operations: `Function`, written like torch.autograd.Function.

A Function pairs a forward computation with its backward formula. `apply`
runs forward without recording (under no_grad), then records one node, the
`<ClassName>Backward` grad_fn of its outputs, whose backward calls the
class's `backward` with the gradient of each output.

The node and the `ctx` object are two objects here (torch makes them one):
ctx belongs to the user, who may set any attribute on it, while the node's
slots belong to the engine. `y.grad_fn` still answers ctx's attributes
(`y.grad_fn.saved_tensors`, `y.grad_fn.needs_input_grad`, ...).

An op with several tensor outputs gets one small routing node per output
(`_OutputNode`): the engine knows only single-output nodes, so each output's
node wraps its gradient in a `PerOutput` slot and passes it on to the
Function's node, which receives them all at once.

Backward formulas written with plugrad ops are recorded when backward runs
with create_graph=True, so they can be differentiated again.
"""
from __future__ import annotations

import functools
import weakref

from ..aliases import link, same
from ..grad_mode import STATE, no_grad
from ..graph import Node, PerOutput
from ..operands import unbroadcast
from ..recording import edge
from ..tensor import Tensor, _make, _shareable, accumulator
from ..versions import FREED_MESSAGE, check_node

__all__ = ["Function", "FunctionCtx", "BackwardFunction", "once_differentiable"]


class FunctionCtx:
    """The `ctx` argument of forward and backward: a place to keep what backward needs.

    Set any attribute on it in forward and read it in backward; keep tensors
    with `save_for_backward` so that they are released (and checked) like the
    tensors built-in ops save.
    """

    def __init__(self, needs_input_grad: tuple = ()) -> None:
        self.needs_input_grad = needs_input_grad
        self.materialize_grads = True
        self._to_save = None           # what save_for_backward got, until apply packs it
        self._non_differentiable = ()
        self._dirty = ()               # inputs forward changed in place (mark_dirty)
        self._node = None              # weakref to the recorded node, once there is one
        # filled in by apply when it records a node
        self._input_meta = self._output_meta = self._output_nodes = None

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors (inputs, outputs or intermediates; None allowed) for backward.

        >>> import plugrad as pg
        >>> class Square(pg.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x * x
        ...     @staticmethod
        ...     def backward(ctx, grad):
        ...         (x,) = ctx.saved_tensors
        ...         return 2 * x * grad
        >>> x = pg.tensor([3.0], requires_grad=True)
        >>> Square.apply(x).sum().backward()
        >>> x.grad
        tensor([6.])
        """
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} "
                                f"is of type {type(t).__name__}")
        self._to_save = tensors

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to save_for_backward; RuntimeError once backward freed them."""
        ref = self._node
        if ref is None:  # no graph was recorded (or still inside forward)
            return tuple(self._to_save or ())
        node = ref()
        if node is None:
            raise RuntimeError(FREED_MESSAGE)
        check_node(node)  # torch checks versions when saved tensors are unpacked
        return tuple([_unpack(entry, node) for entry in node.saved])

    def mark_non_differentiable(self, *tensors) -> None:
        """Declare outputs that have no gradient (indices, masks): they will not require grad.

        Backward still receives a (zero) gradient for each of them.
        """
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"mark_non_differentiable only accepts tensors, but argument {i} "
                                f"is of type {type(t).__name__}")
        self._non_differentiable = tuple(self._non_differentiable) + tensors

    def set_materialize_grads(self, value: bool) -> None:
        """With False, backward gets None (not zeros) for outputs that received no gradient."""
        self.materialize_grads = bool(value)

    def mark_dirty(self, *tensors) -> None:
        """Declare inputs that forward changed in place (and returns): they are rebased, not copied.

        >>> import plugrad as pg
        >>> class AddOne_(pg.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         x.add_(1)
        ...         ctx.mark_dirty(x)
        ...         return x
        ...     @staticmethod
        ...     def backward(ctx, grad):
        ...         return grad
        >>> a = pg.tensor([1.0, 2.0], requires_grad=True)
        >>> b = a * 2
        >>> c = AddOne_.apply(b)
        >>> c is b, b.grad_fn.name()
        (True, 'AddOne_Backward')
        """
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"mark_dirty only accepts tensors, but argument {i} is of type "
                                f"{type(t).__name__}")
        self._dirty = tuple(self._dirty) + tensors


class _SavedOutput:
    """An output saved for backward, kept as data: the tensor itself would hold the node
    that holds it (a reference cycle). Unpacked, it is reconnected to its output's node,
    so double backward flows through it."""

    __slots__ = ("index", "_array", "dtype", "backend", "differentiable")

    def __init__(self, index: int, t: Tensor, differentiable: bool) -> None:
        self.index = index
        self._array = t._array
        self.dtype = t.dtype
        self.backend = t.backend
        self.differentiable = differentiable


def _unpack(entry, node):
    if type(entry) is not _SavedOutput:
        return entry
    t = _make(entry._array, entry.dtype, entry.backend)
    if entry.differentiable:
        t.grad_fn = _output_node(node, entry.index)
        t._rg = True
    return t


class BackwardFunction(Node):
    """Base of the `<ClassName>Backward` node class each Function subclass gets."""

    __slots__ = ()
    _forward_cls = None

    def __getattr__(self, name: str):
        # y.grad_fn.saved_tensors, y.grad_fn.needs_input_grad, ...: ctx answers
        if name.startswith("__") or name in Node.__slots__:
            raise AttributeError(name)
        return getattr(self.args, name)

    @property
    def next_functions(self) -> tuple:
        # like torch, only tensor arguments have an edge (backward still returns
        # one gradient per argument)
        meta = self.args._input_meta
        return tuple([(n, 0) for n, m in zip(self.inputs, meta) if m is not None])

    def apply(self, *grads):
        """Run the Function's backward on `grads` (one per output), as the engine would."""
        return self._forward_cls.backward(self.args, *grads)


class _OutputNode(Node):
    """The grad_fn of one output of a multi-output Function: routes its gradient into
    the Function's node, in the output's slot. Looks like that node from outside."""

    __slots__ = ()

    def __init__(self, main: Node, index: int, count: int) -> None:
        super().__init__(main._name, _route_to_slot, (main,), (), (index, count))

    @property
    def main(self) -> Node:
        return self.inputs[0]

    @property
    def next_functions(self) -> tuple:
        return self.inputs[0].next_functions

    def register_hook(self, hook):
        return self.inputs[0].register_hook(hook)

    def register_prehook(self, hook):
        return self.inputs[0].register_prehook(hook)

    def __getattr__(self, name: str):
        if name.startswith("__") or name in Node.__slots__:
            raise AttributeError(name)
        return getattr(self.inputs[0], name)


def _route_to_slot(node, g):
    index, count = node.args
    grads = [None] * count
    grads[index] = g
    return (PerOutput(grads),)


def _output_node(main: Node, index: int) -> Node:
    """The node through which output `index` of a Function reaches `main`."""
    ctx = main.args
    refs = ctx._output_nodes
    if refs is None:
        return main
    node = refs[index]()
    if node is None:  # the output and its node are gone: route through a fresh one
        node = _OutputNode(main, index, len(refs))
        refs[index] = weakref.ref(node)
    return node


# -- apply: running forward and recording the node ---------------------------------------
class Function:
    """Base class of custom differentiable operations.

    Subclass it with two static methods, `forward(ctx, *args)` and
    `backward(ctx, *grad_outputs)`, and call `YourFunction.apply(*args)`.
    backward returns one gradient per forward argument (None for arguments
    that are not tensors or need no gradient).

    >>> import plugrad as pg
    >>> class MulConstant(pg.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x, k):
    ...         ctx.k = k
    ...         return x * k
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         return grad * ctx.k, None
    >>> x = pg.tensor([1.0, 2.0], requires_grad=True)
    >>> y = MulConstant.apply(x, 3.0)
    >>> y.grad_fn.name()
    'MulConstantBackward'
    >>> y.sum().backward()
    >>> x.grad
    tensor([3., 3.])
    """

    _backward_cls = BackwardFunction

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        name = f"{cls.__name__}Backward"
        cls._backward_cls = type(name, (BackwardFunction,), {
            "__slots__": (), "_forward_cls": cls, "__module__": cls.__module__})

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            "new-style autograd function with static forward method. (Example: "
            f"{type(self).__name__}.apply(...) with @staticmethod forward and backward)")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        """Compute the outputs from the inputs; runs without recording."""
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs: tuple, output) -> None:
        """Optional: with a forward(*args) that takes no ctx, fill ctx here instead."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """Gradients of the inputs from the gradients of the outputs."""
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward on `args` and, when any tensor argument requires grad, record it."""
        custom_setup = cls.setup_context is not Function.setup_context
        if custom_setup:
            # forward(*args) style: every argument, defaults included, is an input
            import inspect
            bound = inspect.signature(cls.forward).bind(*args, **kwargs)
            bound.apply_defaults()
            args, kwargs = bound.args, {}
        # keyword arguments of a forward(ctx, ...) are passed on but are not inputs (as in torch)
        needs = tuple([type(a) is Tensor and a._rg for a in args])
        ctx = FunctionCtx(needs)
        with no_grad():
            if custom_setup:
                output = cls.forward(*args)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        if not (STATE.grad_enabled and any(needs)):
            return output
        return _record(cls, ctx, args, output)


def _alias(t: Tensor) -> Tensor:
    """A new tensor object over t's data (an output must not be one of the inputs)."""
    out = _make(_shareable(t), t.dtype, t.backend, t)
    if not (t.backend.views and t.backend.writable):
        link(out, t, same)
    return out


def _record(cls, ctx: FunctionCtx, args: tuple, output):
    """Give the tensors forward returned a grad_fn, and pack what ctx saved."""
    single = isinstance(output, Tensor)
    outputs = (output,) if single else output
    if not isinstance(outputs, tuple):
        return output  # neither a tensor nor a tuple: nothing to differentiate
    node = cls._backward_cls(f"{cls.__name__}Backward", _function_backward,
                             tuple([edge(a) for a in args]), (), ctx)
    ctx._node = weakref.ref(node)
    ctx._input_meta = tuple([(tuple(a._array.shape), a.dtype) if isinstance(a, Tensor) else None
                             for a in args])
    ctx._output_meta = tuple([(tuple(o._array.shape), o.dtype, o.backend)
                              if isinstance(o, Tensor) else None for o in outputs])
    ctx._output_nodes = None if single else [_dead] * len(outputs)
    dirty = {id(t) for t in ctx._dirty}
    ctx._dirty = ()
    # a dirty input that forward returns is the output itself, rebased like an in-place op
    input_ids = {id(a) for a in args if isinstance(a, Tensor)} - dirty
    non_diff = {id(t) for t in ctx._non_differentiable}
    ctx._non_differentiable = ()
    results, differentiable = [], {}
    for i, o in enumerate(outputs):
        if not isinstance(o, Tensor):
            results.append(o)
            continue
        if id(o) in dirty:
            if o._rg and o.grad_fn is None:
                raise RuntimeError("a leaf Variable that requires grad has been used in an "
                                   "in-place operation.")
            out = o
        else:
            out = _alias(o) if (id(o) in input_ids or o._rg or o.grad_fn is not None) else o
        if o.dtype.is_floating_point and id(o) not in non_diff:
            if single:
                out.grad_fn = node
            else:
                fn = _OutputNode(node, i, len(outputs))
                ctx._output_nodes[i] = weakref.ref(fn)
                out.grad_fn = fn
            out._rg = True
            differentiable[id(o)] = i
        results.append(out)
    positions = {id(o): i for i, o in enumerate(outputs) if isinstance(o, Tensor)}
    to_save = ctx._to_save
    ctx._to_save = None  # the outputs among them would otherwise keep the node alive
    if to_save:
        packed = []
        for t in to_save:
            if t is not None and id(t) in positions and id(t) not in input_ids:
                t = _SavedOutput(positions[id(t)], t, id(t) in differentiable)
            packed.append(t)
        node.saved = tuple(packed)
    return results[0] if single else tuple(results)


def _dead():
    return None


# -- backward: calling the user's formula and checking what it returns --------------------
def _function_backward(node, g) -> tuple:
    ctx = node.args
    grads = g.grads if type(g) is PerOutput else [g]
    if ctx.materialize_grads:
        for i, meta in enumerate(ctx._output_meta):
            if grads[i] is None and meta is not None:
                shape, dtype, bk = meta
                grads[i] = _make(bk.full(shape, 0, dtype), dtype, bk)
    result = node._forward_cls.backward(ctx, *grads)
    if not isinstance(result, tuple):
        result = (result,)
    return _checked_grads(node, ctx, result)


def _checked_grads(node, ctx: FunctionCtx, result: tuple) -> tuple:
    """One gradient per input, each of the input's shape and dtype (torch's validation)."""
    name = node._name
    expected = len(node.inputs)
    if len(result) != expected:
        if len(result) > expected and all(r is None for r in result[expected:]):
            result = result[:expected]
        else:
            raise RuntimeError(f"function {name} returned an incorrect number of gradients "
                               f"(expected {expected}, got {len(result)})")
    grads = []
    for i, (gi, meta, nxt) in enumerate(zip(result, ctx._input_meta, node.inputs)):
        if gi is None:
            grads.append(None)
            continue
        if meta is None:
            raise RuntimeError(f"function {name} returned a gradient different than None at "
                               f"position {i + 1}, but the corresponding forward input was not "
                               f"a Variable")
        if not isinstance(gi, Tensor):
            raise TypeError(f"function {name} returned a gradient of type "
                            f"{type(gi).__name__} at position {i + 1}; expected a Tensor or None")
        if nxt is None:  # the input needs no gradient
            grads.append(None)
            continue
        shape, dtype = meta
        got = tuple(gi._array.shape)
        if got != shape:
            if not _expandable(shape, got):
                raise RuntimeError(f"Function {name} returned an invalid gradient at index {i} - "
                                   f"got {list(got)} but expected shape compatible with "
                                   f"{list(shape)}")
            gi = unbroadcast(gi, shape)
        if gi.dtype is not dtype:
            gi = gi.to(dtype)
        grads.append(_engine_alias(gi))
    return tuple(grads)


def _expandable(shape: tuple, target: tuple) -> bool:
    """Whether `shape` broadcasts to `target` (so a gradient of `target` sums back to it)."""
    if len(shape) > len(target):
        return False
    for s, t in zip(reversed(shape), reversed(target)):
        if s != t and s != 1:
            return False
    return True


def _engine_alias(g: Tensor) -> Tensor:
    """g as a new tensor object the engine will never write into.

    The user may keep the tensor their backward returned (a saved tensor, a
    constant); the engine sums gradients in place only into tensors it made,
    and an alias with a base is never one of them.
    """
    alias = _make(_shareable(g), g.dtype, g.backend, g)
    if not (g.backend.views and g.backend.writable):
        link(alias, g, same)
    if g._rg:
        alias.grad_fn = g.grad_fn if g.grad_fn is not None else accumulator(g)
        alias._rg = True
    return alias


# -- once_differentiable --------------------------------------------------------------------
_TWICE = ("trying to differentiate twice a function that was marked with "
          "@once_differentiable")


def _raise_twice(node, g):
    raise RuntimeError(_TWICE)


def once_differentiable(backward):
    """Decorate a Function's backward that cannot itself be differentiated.

    It runs without recording; when backward runs with create_graph=True,
    its results carry a node that raises RuntimeError if a later backward
    tries to go through them.
    """
    @functools.wraps(backward)
    def wrapper(ctx, *grad_outputs):
        with no_grad():
            result = backward(ctx, *grad_outputs)
        if not STATE.grad_enabled:
            return result
        if not any(isinstance(g, Tensor) and g._rg for g in grad_outputs):
            return result
        error = Node("Error", _raise_twice, ())
        single = not isinstance(result, tuple)
        wrapped = []
        for r in ((result,) if single else result):
            if isinstance(r, Tensor) and r.dtype.is_floating_point:
                r = _alias(r)
                r.grad_fn, r._rg = error, True
            wrapped.append(r)
        return wrapped[0] if single else tuple(wrapped)
    return wrapper
