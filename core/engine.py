"""The backward engine: walks the recorded graph from the outputs to the leaves.

The walk is iterative (no recursion, so graph depth is limited by memory only):
first count how many consumers feed each node, then run a node once all of them
have delivered their gradient. Nodes keep their inputs in tuples, so the order
in which gradients are summed, and hence rounding, is the same on every run.

Most nodes take the fast path: one test (`node.hooks is None`) and a call of
their formula. Hooks, retained and captured gradients, leaves and anomaly
checks go through `_slow_path`.
"""
from __future__ import annotations

import threading
import warnings

from . import graph as _graph
from .grad_mode import STATE
from .graph import ANOMALY, FREED_MESSAGE, AccumulateGrad, PerOutput, forward_trace
from .tensor import Tensor, _make, _shareable, accumulator, check_saved

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
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grad_outputs)} gradients")
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
            # with create_graph the gradient is used as it is, so that what is
            # computed from it stays connected to it (the double-backward trick
            # of functional.jvp differentiates with respect to it); the engine
            # never writes into a buffer in place in that mode
        node = out.grad_fn if out.grad_fn is not None else accumulator(out)
        roots.append((node, g))
    return roots


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


def _needed(roots, targets) -> set:
    """The nodes below `roots` that have one of `targets` somewhere below them.

    grad() runs only these: the rest of the graph cannot change its results.
    Post-order walk with an explicit stack, so deep graphs need no recursion.
    """
    below: dict = {}  # node -> whether a target is reachable strictly below it
    for root in roots:
        stack = [root]
        while stack:
            node = stack[-1]
            if node in below:
                stack.pop()
                continue
            pending = [n for n in node.inputs if n is not None and n not in below]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            below[node] = any(n is not None and (below[n] or n in targets) for n in node.inputs)
    return {node for node, hit in below.items() if hit}


def _mark_shared(grads: tuple, shared: set, keep: list) -> None:
    """Remember gradients handed to several inputs at once: none of them owns the data."""
    seen = set()
    for gi in grads:
        if gi is not None:
            if id(gi) in seen:
                shared.add(id(gi))
                keep.append(gi)
            seen.add(id(gi))


# Held only while a .grad is read and updated (once per leaf per backward, never per op), so
# that backward passes in several threads accumulating into one leaf lose no contribution.
_GRAD_LOCK = threading.Lock()


def _store_grad(t: Tensor, g: Tensor, owned: bool, create_graph: bool) -> None:
    """Add g into t.grad: adopt it if owned, else copy; accumulate in place when we may."""
    if g.dtype is not t.dtype:
        g, owned = g.to(t.dtype), True
    with _GRAD_LOCK:
        current = t._grad
        if current is None:
            if not owned:
                g = g.clone() if create_graph else \
                    _make(g.backend.copy(g.data), g.dtype, g.backend)
            t._grad = g
        elif create_graph or current._rg:
            t._grad = current + g
        else:
            current.backend.add_into(_shareable(current), g.data)


class _Walk:
    """What the slow path of one backward pass needs to know."""

    __slots__ = ("capture", "needed", "accumulate_into", "shared", "keep", "create_graph",
                 "retain_graph", "anomaly")

    def __init__(self, capture, needed, accumulate_into, shared, keep, create_graph,
                 retain_graph, anomaly) -> None:
        self.capture = capture
        self.needed = needed
        self.accumulate_into = accumulate_into
        self.shared = shared
        self.keep = keep
        self.create_graph = create_graph
        self.retain_graph = retain_graph
        self.anomaly = anomaly


def _share(g, walk: _Walk) -> None:
    """g may be kept by user code (a hook, a caller): never accumulate into it in place."""
    if g is not None:
        walk.shared.add(id(g))
        walk.keep.append(g)


def _hook_name(hook) -> str:
    return getattr(hook, "__name__", repr(hook))


def _run_tensor_hooks(hooks: dict, g: Tensor) -> Tensor:
    for hook in list(hooks.values()):
        result = hook(g)
        if result is not None:
            # a replacement must be a gradient for the same tensor, as torch insists
            if not isinstance(result, Tensor):
                raise TypeError(f"hook '{_hook_name(hook)}' returned {type(result).__name__}, "
                                f"expected a Tensor or None")
            if tuple(result.data.shape) != tuple(g.data.shape):
                raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the size of value "
                                   f"(from {list(g.data.shape)} to {list(result.data.shape)})")
            if result.dtype is not g.dtype:
                raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the type of value "
                                   f"(from {g.dtype.name} to {result.dtype.name})")
            g = result
    return g


def _checked_result(hook, result, expected: tuple) -> tuple:
    """A node hook's return value, checked the way torch checks it."""
    if not isinstance(result, tuple):
        raise TypeError(f"expected tuple, but hook returned '{type(result).__name__}'")
    if len(result) != len(expected):
        raise RuntimeError(f"hook '{_hook_name(hook)}' has returned an incorrect number of "
                           f"values (got {len(result)}, but expected {len(expected)})")
    return result


def _grad_outputs(g) -> tuple:
    return tuple(g.grads) if type(g) is PerOutput else (g,)


def _run_pre_hooks(hooks: dict, g, walk: _Walk):
    outs = _grad_outputs(g)
    for hook in list(hooks.values()):
        result = hook(outs)
        if result is not None:
            outs = _checked_result(hook, result, outs)
    for gi in outs:
        _share(gi, walk)
    return PerOutput(list(outs)) if type(g) is PerOutput else outs[0]


def _run_post_hooks(node, hooks: dict, grads: tuple, g, walk: _Walk) -> tuple:
    # torch shows no gradient for inputs that need none
    grads = tuple([gi if nxt is not None else None for nxt, gi in zip(node.inputs, grads)])
    outs = _grad_outputs(g)
    for hook in list(hooks.values()):
        result = hook(grads, outs)
        if result is not None:
            result = _checked_result(hook, result, grads)
            for old, new in zip(grads, result):
                if old is None and new is not None:
                    raise RuntimeError("can't replace a None gradient with a non-None value")
            grads = result
    for gi in grads:
        _share(gi, walk)
    return grads


def _non_finite(t: Tensor) -> str | None:
    """'nan' or 'inf' if t holds such a value, else None (two reductions, no graph)."""
    bk, d = t.backend, t.data
    total = bk.tolist(bk.sum(bk.sub(d, d), None, False))  # x - x is nan only for nan and inf
    if total == total:
        return None
    nans = bk.sum(bk.astype(bk.ne(d, d), t.dtype), None, False)  # nan != nan
    return "nan" if bk.tolist(nans) else "inf"


def _anomaly_backward(node, g):
    """Run a node's formula, check its results, and on error show where the node was recorded."""
    try:
        grads = node.backward(node, g)
        if ANOMALY.check_nan:
            for i, gi in enumerate(grads):
                if type(gi) is Tensor and gi.dtype.is_floating_point:
                    kind = _non_finite(gi)
                    if kind is not None:
                        raise RuntimeError(f"Function '{node.name()}' returned {kind} values "
                                           f"in its {i}th output.")
    except Exception as err:
        trace = forward_trace(node)
        if trace is not None:
            message = (f"Error detected in {node.name()}. Traceback of forward call that "
                       f"caused the error:\n{trace}")
            warnings.warn(message, UserWarning, stacklevel=2)
            if hasattr(err, "add_note"):
                err.add_note(message)
        raise
    return grads


def _leaf(node: AccumulateGrad, g: Tensor, walk: _Walk) -> None:
    """Add the gradient reaching a leaf to its .grad, with the node's and tensor's hooks."""
    leaf = node.variable
    if leaf is None:  # the tensor is gone: nobody can read its .grad
        return
    hooks = node.hooks
    if hooks.pre:
        g = _run_pre_hooks(hooks.pre, g, walk)
        if g is None:
            return
    _store_grad(leaf, g, id(g) not in walk.shared and g._base is None, walk.create_graph)
    tensor_hooks = leaf._hooks
    if tensor_hooks is not None and tensor_hooks.post_accumulate:
        for hook in list(tensor_hooks.post_accumulate.values()):
            hook(leaf)
    if hooks.post:
        _run_post_hooks(node, hooks.post, (), g, walk)


def _slow_path(node, g, walk: _Walk):
    """Everything but a plain op: returns the gradients for node.inputs, or None to stop here."""
    is_leaf = type(node) is AccumulateGrad
    if g is None:
        return None if is_leaf else (None,) * len(node.inputs)
    hooks = node.hooks
    # the gradient of the op's output tensor: its tensor hooks, then retain_grad (torch's order)
    if is_leaf:
        leaf = node.variable
        tensor_hooks = None if leaf is None else leaf._hooks
        tensor_hooks = None if tensor_hooks is None else tensor_hooks.tensor
        retained = None
    elif hooks is not None:
        tensor_hooks, retained = hooks.tensor, hooks.retained
    else:
        tensor_hooks = retained = None
    capture = walk.capture
    captured = capture is not None and node in capture
    if tensor_hooks or retained is not None or captured:
        _share(g, walk)
        if tensor_hooks:
            g = _run_tensor_hooks(tensor_hooks, g)
            _share(g, walk)
        if retained is not None:
            t = retained()
            if t is not None:
                _store_grad(t, g, False, walk.create_graph)
        if captured:
            capture[node].append(g)
    if capture is not None and node not in walk.needed:
        return None
    if is_leaf:
        if walk.accumulate_into is None or id(node.variable) in walk.accumulate_into:
            _leaf(node, g, walk)
        return None
    if hooks is not None and hooks.pre:
        g = _run_pre_hooks(hooks.pre, g, walk)
        if g is None:
            return (None,) * len(node.inputs)
    saved = node.saved
    if saved is None:
        raise RuntimeError(FREED_MESSAGE)
    if saved and node._stamp != _graph.CLOCK:
        check_saved(node)
    grads = _anomaly_backward(node, g) if walk.anomaly else node.backward(node, g)
    if saved and not walk.retain_graph:
        node.saved = None
    if len(grads) > 1:
        _mark_shared(grads, walk.shared, walk.keep)
    if hooks is not None and hooks.post:
        grads = _run_post_hooks(node, hooks.post, grads, g, walk)
    return grads


def execute(roots: list, retain_graph: bool, create_graph: bool, accumulate_into=None,
            capture: dict | None = None) -> None:
    """Run the graph below `roots` ((node, grad) pairs).

    Leaves get their gradient added to .grad when `accumulate_into` is None or
    contains them. `capture` maps nodes to slots of a list: the gradient
    arriving at such a node is stored there, and only the part of the graph
    that leads to them is run.
    """
    root_nodes = [node for node, _ in roots]
    deps = _dependencies(root_nodes)
    buffers: dict = {}
    shared: set = set()
    keep: list = []  # keeps tensors whose id() is in `shared` alive during the walk
    for node, g in roots:
        if node in buffers:
            buffers[node] = buffers[node] + g
        else:
            buffers[node] = g
            shared.add(id(g))
    ready = [node for node in dict.fromkeys(root_nodes) if deps.get(node, 0) == 0]
    anomaly = ANOMALY.enabled
    slow = capture is not None or anomaly  # every node takes the slow path
    plain_leaves = accumulate_into is None and not slow
    needed = _needed(root_nodes, capture) if capture is not None else None
    walk = _Walk(capture, needed, accumulate_into, shared, keep, create_graph, retain_graph,
                 anomaly)
    previous_mode = STATE.grad_enabled
    STATE.grad_enabled = create_graph
    pop, take, peek, push = ready.pop, buffers.pop, buffers.get, ready.append
    try:
        while ready:
            node = pop()
            g = take(node, None)
            while node is not None:
                if node.hooks is not None or slow:
                    if plain_leaves and type(node) is AccumulateGrad and g is not None:
                        # a leaf without hooks (the usual case): straight into its .grad
                        leaf, hooks = node._variable(), node.hooks
                        if leaf is not None and leaf._hooks is None and not hooks.pre \
                                and not hooks.post:
                            _store_grad(leaf, g, id(g) not in shared and g._base is None,
                                        create_graph)
                            break
                    grads = _slow_path(node, g, walk)
                    if grads is None:
                        break
                elif g is None:
                    grads = (None,) * len(node.inputs)
                else:
                    saved = node.saved
                    if saved is None:
                        raise RuntimeError(FREED_MESSAGE)
                    if saved and node._stamp != _graph.CLOCK:
                        check_saved(node)  # something was changed in place since it saved
                    grads = node.backward(node, g)
                    if saved and not retain_graph:
                        node.saved = None
                    n = len(grads)
                    if n > 1 and (grads[0] is grads[1] or n > 3 or n == 3 and (
                            grads[2] is grads[0] or grads[2] is grads[1])):
                        _mark_shared(grads, shared, keep)
                # The last node to become ready would be popped next anyway (the walk is
                # LIFO): run it directly, its gradient in a local rather than in buffers.
                pending = pending_g = None
                for nxt, gi in zip(node.inputs, grads):
                    if nxt is None:
                        continue
                    remaining = deps[nxt] - 1
                    deps[nxt] = remaining
                    if gi is not None:
                        prev = peek(nxt)
                        if prev is None:
                            if remaining == 0:
                                if pending is not None:
                                    if pending_g is not None:
                                        buffers[pending] = pending_g
                                    push(pending)
                                pending, pending_g = nxt, gi
                                continue
                            buffers[nxt] = gi
                        elif type(prev) is not Tensor or create_graph or \
                                prev.dtype is not gi.dtype:
                            # (a PerOutput of a multi-output node sums itself with `+` too)
                            buffers[nxt] = prev + gi
                        elif prev._base is None and id(prev) not in shared and \
                                prev.data.shape == gi.data.shape:
                            # the engine holds the only reference: add in place, no new array
                            prev.backend.add_into(_shareable(prev), gi.data)
                        else:
                            buffers[nxt] = _make(prev.backend.add(prev.data, gi.data),
                                                 prev.dtype, prev.backend)
                    if remaining == 0:
                        if pending is not None:
                            if pending_g is not None:
                                buffers[pending] = pending_g
                            push(pending)
                        pending, pending_g = nxt, None
                if pending is not None and pending_g is None:
                    pending_g = take(pending, None)
                node, g = pending, pending_g
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
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         f"materialize_grads=True, but got: allow_unused={allow_unused}.")
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
