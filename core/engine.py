"""The backward engine: walks the recorded graph from the outputs to the leaves.

The walk is iterative (no recursion, so graph depth is limited by memory only):
first count how many consumers feed each node, then run a node once all of them
have delivered their gradient. Nodes keep their inputs in tuples, so the order
in which gradients are summed, and hence rounding, is the same on every run.
"""
from __future__ import annotations

from .grad_mode import STATE
from .graph import FREED_MESSAGE, AccumulateGrad
from .tensor import Tensor, _make, _shareable, accumulator

__all__ = ["backward", "grad"]


def _as_tuple(x) -> tuple:
    if x is None:
        return ()
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _root_gradients(outputs: tuple, grad_outputs, create_graph: bool, what: str) -> list:
    """(node, gradient) for each output, checking them the way torch does."""
    grad_outputs = _as_tuple(grad_outputs) or (None,) * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad can be implicitly created only for scalar outputs; got "
                           f"{len(grad_outputs)} gradients for {len(outputs)} outputs")
    roots = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(out, Tensor):
            raise TypeError(f"{what}: expected Tensors as outputs, got {type(out).__name__}")
        if not out._rg:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have "
                               f"a grad_fn")
        if g is None:
            if out.numel() != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs "
                                   f"(output {i} has shape {list(out.shape)}); pass "
                                   f"gradient= with that shape")
            g = _make(out.backend.full(tuple(out.data.shape), 1, out.dtype), out.dtype, out.backend)
        else:
            if not isinstance(g, Tensor):
                raise TypeError(f"{what}: gradient must be a Tensor, got {type(g).__name__}")
            if tuple(g.data.shape) != tuple(out.data.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                   f"{g.shape} and output[{i}] has a shape of {out.shape}.")
            if g.backend is not out.backend:
                raise RuntimeError(f"grad_output[{i}] is on backend {g.backend.name!r} but "
                                   f"output[{i}] is on {out.backend.name!r}")
            if g.dtype is not out.dtype:
                g = g.to(out.dtype)
            if not create_graph:
                g = g.detach()
            else:
                g = _shared_alias(g)
        node = out.grad_fn if out.grad_fn is not None else accumulator(out)
        roots.append((node, g))
    return roots


def _shared_alias(g: Tensor) -> Tensor:
    """A new tensor object over g's data, marked as not owned (so it is never mutated)."""
    alias = _make(_shareable(g), g.dtype, g.backend, g)
    alias.grad_fn, alias._rg = g.grad_fn, g._rg
    return alias


def _dependencies(roots) -> dict:
    """For each node below the roots, how many edges lead into it."""
    deps: dict = {}
    get = deps.get
    stack = list(dict.fromkeys(roots))
    walked = set(stack)  # roots are walked from the start, not again when reached
    push, pop = stack.append, stack.pop
    while stack:
        for nxt in pop().inputs:
            if nxt is not None:
                count = get(nxt)
                if count is None:
                    deps[nxt] = 1
                    if nxt not in walked:
                        push(nxt)  # first visit: walk below it once
                else:
                    deps[nxt] = count + 1
    return deps


def _mark_shared(grads: tuple, shared: set, keep: list) -> None:
    """Remember gradients handed to several inputs at once: none of them owns the data."""
    seen = set()
    for gi in grads:
        if gi is not None:
            if id(gi) in seen:
                shared.add(id(gi))
                keep.append(gi)
            seen.add(id(gi))


def _store_grad(t: Tensor, g: Tensor, owned: bool, create_graph: bool) -> None:
    """Add g into t.grad: adopt it if owned, else copy; accumulate in place when we may."""
    if g.dtype is not t.dtype:
        g, owned = g.to(t.dtype), True
    current = t._grad
    if current is None:
        if not owned:
            g = g.clone() if create_graph else _make(g.backend.copy(g.data), g.dtype, g.backend)
        t._grad = g
    elif create_graph or current._rg:
        t._grad = current + g
    else:
        current.backend.index_add(_shareable(current), (Ellipsis,), g.data)


def _run_hooks(hooks: dict | None, g: Tensor) -> Tensor:
    if hooks:
        for hook in list(hooks.values()):
            result = hook(g)
            if result is not None:
                g = result
    return g


def _arrive(node, g, capture, accumulate_into, shared: set, keep: list, create_graph: bool):
    """The slow path of a node: hooks, retained and captured grads, leaf accumulation."""
    if g is None:
        return None
    is_leaf = type(node) is AccumulateGrad
    hooks = node.variable._hooks if is_leaf else None
    if node.pre_hooks or hooks or node.retained is not None or capture is not None:
        # hooks and callers may keep these tensors: never accumulate into them in place
        _share(g, shared, keep)
        g = _run_hooks(node.pre_hooks, g)
        g = _run_hooks(hooks, g)
        _share(g, shared, keep)
    if node.retained is not None:
        t = node.retained()
        if t is not None:
            _store_grad(t, g, False, create_graph)
    if capture is not None and node in capture:
        capture[node].append(g)
    elif is_leaf and capture is None:
        leaf = node.variable
        if accumulate_into is None or id(leaf) in accumulate_into:
            _store_grad(leaf, g, id(g) not in shared and g._base is None, create_graph)
    return g


def _share(g: Tensor, shared: set, keep: list) -> None:
    shared.add(id(g))
    keep.append(g)


def execute(roots: list, retain_graph: bool, create_graph: bool, accumulate_into=None,
            capture: dict | None = None) -> None:
    """Run the graph below `roots` ((node, grad) pairs).

    Leaves get their gradient added to .grad when `accumulate_into` is None or
    contains them. `capture` maps nodes to slots of a list: the gradient
    arriving at such a node is stored there instead.
    """
    deps = _dependencies([node for node, _ in roots])
    buffers: dict = {}
    shared: set = set()
    for node, g in roots:
        if node in buffers:
            buffers[node] = buffers[node] + g
        else:
            buffers[node] = g
            shared.add(id(g))
    ready = [node for node in dict.fromkeys(n for n, _ in roots) if deps.get(node, 0) == 0]
    keep: list = []  # keeps tensors whose id() is in `shared` alive during the walk
    previous_mode = STATE.grad_enabled
    STATE.grad_enabled = create_graph
    pop, take, peek = ready.pop, buffers.pop, buffers.get
    try:
        while ready:
            node = pop()
            g = take(node, None)
            if (node.pre_hooks is not None or node.retained is not None or capture is not None
                    or type(node) is AccumulateGrad):
                g = _arrive(node, g, capture, accumulate_into, shared, keep, create_graph)
                if type(node) is AccumulateGrad:
                    continue
            edges = node.inputs
            if g is None:
                grads = (None,) * len(edges)
            else:
                saved = node.saved
                if saved is None:
                    raise RuntimeError(FREED_MESSAGE)
                grads = node.backward(node, g)
                if saved and not retain_graph:
                    node.saved = None
                if len(grads) > 1 and (len(grads) > 2 or grads[0] is grads[1]):
                    _mark_shared(grads, shared, keep)
            for nxt, gi in zip(edges, grads):
                if nxt is None:
                    continue
                if gi is not None:
                    prev = peek(nxt)
                    if prev is None:
                        buffers[nxt] = gi
                    elif create_graph or prev.dtype is not gi.dtype:
                        buffers[nxt] = prev + gi
                    elif prev._base is None and id(prev) not in shared and \
                            prev.data.shape == gi.data.shape:
                        # the engine holds the only reference: add in place, no new array
                        prev.backend.index_add(_shareable(prev), (Ellipsis,), gi.data)
                    else:
                        buffers[nxt] = _make(prev.backend.add(prev.data, gi.data), prev.dtype,
                                             prev.backend)
                remaining = deps[nxt] - 1
                deps[nxt] = remaining
                if remaining == 0:
                    ready.append(nxt)
    finally:
        STATE.grad_enabled = previous_mode


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs=None) -> None:
    """Accumulate the gradients of `tensors` into the .grad of the leaves below them.

    >>> import plugrad as pg
    >>> x = pg.tensor([1.0, 2.0], requires_grad=True)
    >>> pg.autograd.backward([(x * 3).sum()])
    >>> x.grad
    tensor([3., 3.])
    """
    outputs = _as_tuple(tensors)
    if retain_graph is None:
        retain_graph = create_graph
    roots = _root_gradients(outputs, grad_tensors, create_graph, "backward")
    targets = None
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if not inputs:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        targets = set()
        for t in inputs:
            if not t._rg:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            if t.grad_fn is None:
                targets.add(id(t))
            else:
                t.retain_grad()
    execute(roots, retain_graph, create_graph, targets)


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool | None = None,
         materialize_grads: bool = False) -> tuple:
    """The gradients of `outputs` with respect to `inputs`, returned rather than accumulated.

    >>> import plugrad as pg
    >>> x = pg.tensor(3.0, requires_grad=True)
    >>> pg.autograd.grad(x ** 2, x)
    (tensor(6.),)
    """
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    if not inputs:
        raise RuntimeError("grad requires non-empty inputs.")
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    roots = _root_gradients(outputs, grad_outputs, create_graph, "grad")
    capture: dict = {}
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"grad(): inputs must be Tensors, got {type(t).__name__}")
        if not t._rg:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
        node = t.grad_fn if t.grad_fn is not None else accumulator(t)
        capture.setdefault(node, [])
    execute(roots, retain_graph, create_graph, None, capture)
    results = []
    for t in inputs:
        node = t.grad_fn if t.grad_fn is not None else accumulator(t)
        got = capture[node]
        if got:
            g = got[0]
            results.append(g if g.dtype is t.dtype else g.to(t.dtype))
        elif materialize_grads:
            results.append(_make(t.backend.full(tuple(t.data.shape), 0, t.dtype), t.dtype,
                                 t.backend))
        elif allow_unused:
            results.append(None)
        else:
            raise RuntimeError("One of the differentiated Tensors appears to not have been used "
                               "in the graph. Set allow_unused=True if this is the desired "
                               "behavior.")
    return tuple(results)
