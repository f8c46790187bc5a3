"""The backward engine: walks the recorded graph from the outputs to the leaves.

The walk is iterative (no recursion, so graph depth is limited by memory only):
first count how many consumers feed each node, then run a node once all of them
have delivered their gradient. Nodes keep their inputs in tuples, so the order
in which gradients are summed, and hence rounding, is the same on every run.

Each node is run in two steps, both in the loop of `execute`: its formula
runs (with, where a node has any of them, its hooks, a retained or captured
gradient and anomaly checks around it: `_arrive` before, post-hooks after; a
leaf's .grad is filled by `_arrive`), then its gradients are delivered to the
nodes of its inputs, summed where they meet (`_summed`). The two steps stay
in the loop rather than in helpers of their own: a Python call per node costs
3-8% of a tiny op's backward (benchmarks/ab.py, W4). Whether a node's saved
values are still there and unchanged is checked once, by
`plugrad.versions.check_node`.
"""
from __future__ import annotations

import threading
import warnings

from . import versions
from .aliases import propagate
from .grad_mode import ANOMALY, STATE
from .graph import AccumulateGrad, PerOutput, forward_trace
from .tensor import Tensor, _make, _shareable, accumulator
from .versions import check_node

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
            k = out.backend
            g = _make(k.full(tuple(out._array.shape), 1, out.dtype), out.dtype, k)
        else:
            if not isinstance(g, Tensor):
                raise TypeError(f"{what}: gradient must be a Tensor, got {type(g).__name__}")
            if tuple(g._array.shape) != tuple(out._array.shape):
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
                    _make(g.backend.copy(g._array), g.dtype, g.backend)
            t._grad = g
        elif create_graph or current._rg:
            t._grad = current + g
        else:
            k = current.backend
            out = k.add_into(_shareable(current), g._array)
            if out is not None:  # the array holding the sum (contract 2.0; None: in place)
                current._array = out
            if not (k.views and k.writable):
                propagate(current)  # the user's views of .grad see the sum, as in torch


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
            if tuple(result._array.shape) != tuple(g._array.shape):
                raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the size of value "
                                   f"(from {list(g._array.shape)} to {list(result._array.shape)})")
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
    bk, d = t.backend, t._array
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


class _Walk:
    """One backward pass: what is left to run, the gradients on their way, and its options.

    `deps` counts, for each node below the roots, the edges into it that have
    not delivered yet; a node runs once that reaches 0. `buffers` holds the
    gradient summed so far for each node still waiting. `shared` holds the ids
    of gradients that someone else may also hold (a caller, a hook, a second
    input of the same node), which the walk never adds into in place; `keep`
    keeps those tensors alive so that their ids stay theirs.
    """

    __slots__ = ("deps", "buffers", "ready", "shared", "keep", "capture", "needed",
                 "accumulate_into", "create_graph", "retain_graph", "anomaly", "plain",
                 "plain_leaves")

    def __init__(self, roots: list, retain_graph: bool, create_graph: bool, accumulate_into,
                 capture: dict | None) -> None:
        root_nodes = [node for node, _ in roots]
        self.deps = _dependencies(root_nodes)
        self.buffers = {}
        self.shared = set()
        self.keep = []
        for node, g in roots:
            if node in self.buffers:
                self.buffers[node] = self.buffers[node] + g
            else:
                self.buffers[node] = g
                self.shared.add(id(g))
        self.ready = [node for node in dict.fromkeys(root_nodes) if self.deps.get(node, 0) == 0]
        self.capture = capture
        self.needed = _needed(root_nodes, capture) if capture is not None else None
        self.accumulate_into = accumulate_into
        self.create_graph = create_graph
        self.retain_graph = retain_graph
        self.anomaly = ANOMALY.enabled
        # plain: a node without hooks runs its formula and nothing else (no capture, no
        # anomaly checks); plain_leaves: a leaf without hooks just takes its gradient
        self.plain = capture is None and not self.anomaly
        self.plain_leaves = self.plain and accumulate_into is None


def execute(roots: list, retain_graph: bool, create_graph: bool, accumulate_into=None,
            capture: dict | None = None) -> None:
    """Run the graph below `roots` ((node, grad) pairs).

    Leaves get their gradient added to .grad when `accumulate_into` is None or
    contains them. `capture` maps nodes to slots of a list: the gradient
    arriving at such a node is stored there, and only the part of the graph
    that leads to them is run.
    """
    walk = _Walk(roots, retain_graph, create_graph, accumulate_into, capture)
    ready, waiting, deps, plain, anomaly = (walk.ready, walk.buffers, walk.deps, walk.plain,
                                            walk.anomaly)
    previous_mode = STATE.grad_enabled
    STATE.grad_enabled = create_graph
    try:
        while ready:
            node = ready.pop()
            g = waiting.pop(node, None)
            while node is not None:
                # 1. run the node: its formula, with whatever the node has around it
                hooks = node.hooks
                if hooks is not None or not plain:
                    g = _arrive(node, g, walk)
                    if g is _STOP:
                        break
                if g is None:
                    grads = (None,) * len(node.inputs)
                else:
                    saved = node.saved
                    if saved is None or (saved and node._stamp != versions.CLOCK):
                        check_node(node)  # freed, or changed in place since it saved
                    grads = _anomaly_backward(node, g) if anomaly else node.backward(node, g)
                    if saved and not retain_graph:
                        node.saved = None
                    n = len(grads)
                    if n > 1 and (grads[0] is grads[1] or n > 2):
                        _mark_shared(grads, walk.shared, walk.keep)
                    if hooks is not None and hooks.post:
                        grads = _run_post_hooks(node, hooks.post, grads, g, walk)
                # 2. deliver its gradients: each input's node gets its share, and runs once
                # every edge into it has delivered. The last one to become ready would be
                # popped next anyway (the walk is LIFO): it runs straight away instead, its
                # gradient kept in a local rather than in `waiting`.
                pending = pending_g = None
                for nxt, gi in zip(node.inputs, grads):
                    if nxt is None:
                        continue
                    remaining = deps[nxt] - 1
                    deps[nxt] = remaining
                    if gi is not None:
                        prev = waiting.pop(nxt, None)
                        if prev is not None:
                            gi = _summed(prev, gi, walk)
                        if remaining:
                            waiting[nxt] = gi
                            continue
                    elif remaining:
                        continue
                    else:
                        gi = waiting.pop(nxt, None)
                    if pending is not None:  # the one ready before it waits its turn
                        _make_ready(pending, pending_g, walk)
                    pending, pending_g = nxt, gi
                node, g = pending, pending_g
    finally:
        STATE.grad_enabled = previous_mode


_STOP = object()  # _arrive's answer when the walk goes no further down from a node


def _arrive(node, g, walk: _Walk):
    """The gradient of a node's output arrives, before its formula runs: a leaf takes
    it into .grad (and the walk stops there); otherwise its tensor hooks and
    retain_grad (torch's order), grad()'s capture, then the node's pre-hooks.
    Returns the gradient the formula gets (None: there is none), or _STOP."""
    if type(node) is AccumulateGrad:
        _reach_leaf(node, g, walk)
        return _STOP
    if g is None:
        return None
    hooks = node.hooks
    tensor_hooks, retained = (hooks.tensor, hooks.retained) if hooks is not None else (None, None)
    g = _seen_by_caller(node, g, tensor_hooks, walk)
    if retained is not None:
        t = retained()
        if t is not None:
            _store_grad(t, g, False, walk.create_graph)
    if walk.capture is not None and node not in walk.needed:
        return _STOP
    if hooks is not None and hooks.pre:
        g = _run_pre_hooks(hooks.pre, g, walk)
    return g


def _seen_by_caller(node, g, tensor_hooks, walk: _Walk):
    """Run the tensor hooks on g and give it to grad()'s capture; returns the new g."""
    captured = walk.capture is not None and node in walk.capture
    if tensor_hooks or captured or (node.hooks is not None and node.hooks.retained is not None):
        _share(g, walk)
        if tensor_hooks:
            g = _run_tensor_hooks(tensor_hooks, g)
            _share(g, walk)
        if captured:
            walk.capture[node].append(g)
    return g


def _reach_leaf(node: AccumulateGrad, g, walk: _Walk) -> None:
    """The gradient reaches a leaf: its .grad takes it, with the leaf's hooks around that."""
    if g is None:
        return
    leaf = node._variable()
    if walk.plain_leaves and leaf is not None and leaf._hooks is None and \
            not node.hooks.pre and not node.hooks.post:
        # a leaf without hooks (the usual case): straight into its .grad
        _store_grad(leaf, g, id(g) not in walk.shared and g._base is None, walk.create_graph)
        return
    tensor_hooks = None if leaf is None or leaf._hooks is None else leaf._hooks.tensor
    g = _seen_by_caller(node, g, tensor_hooks, walk)
    if walk.capture is not None and node not in walk.needed:
        return
    if walk.accumulate_into is None or id(leaf) in walk.accumulate_into:
        _leaf(node, g, walk)


def _make_ready(node, g, walk: _Walk) -> None:
    if g is not None:
        walk.buffers[node] = g
    walk.ready.append(node)


def _summed(prev, gi, walk: _Walk):
    """prev + gi, the second gradient reaching a node: in place into prev where the walk
    alone holds prev, so a node with many consumers needs no new array per consumer."""
    if type(prev) is not Tensor or walk.create_graph or prev.dtype is not gi.dtype:
        return prev + gi  # (a PerOutput of a multi-output node sums itself with `+` too)
    if prev._base is None and id(prev) not in walk.shared and \
            prev._array.shape == gi._array.shape:
        out = prev.backend.add_into(_shareable(prev), gi._array)
        if out is not None:  # the array holding the sum (contract 2.0; None: in place)
            prev._array = out
        return prev
    return _make(prev.backend.add(prev._array, gi._array), prev.dtype, prev.backend)


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
            results.append(_make(t.backend.full(tuple(t._array.shape), 0, t.dtype), t.dtype,
                                 t.backend))
        elif allow_unused:
            results.append(None)
        else:
            raise RuntimeError("One of the differentiated Tensors appears to not have been used "
                               "in the graph. Set allow_unused=True if this is the desired "
                               "behavior.")
    return tuple(results)
