"""Version counters: how autograd notices that data it saved was changed in place.

Every piece of tensor data has a counter, kept by the tensor that owns the
data (views count through their root base). An in-place write bumps it, and
ticks `CLOCK`, a process-wide count of in-place writes. A recorded node
remembers the clock when it is made (`node._stamp`); before its backward reads
what it saved, `check_node` compares: while the clock has not moved nothing can
have changed, so programs that change nothing in place pay one comparison.

This module is the bottom layer of the autograd core: it knows tensors only
as objects with `_base`, `_ver`, `_array`, `dtype` and `grad_fn`. A saved entry
whose type has a `_ver` slot is a tensor (`_is_tensor`); anything else is
backend data.
"""
from __future__ import annotations

from .grad_mode import ANOMALY

__all__ = ["CLOCK", "check_node", "bump", "root", "version", "legacy_name", "FREED_MESSAGE"]

# In-place writes so far, process-wide (see the module docstring).
CLOCK = 0

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved "
    "tensors after they have already been freed). Saved intermediate values of the "
    "graph are freed when you call .backward() or autograd.grad(). Specify "
    "retain_graph=True if you need to backward through the graph a second time or "
    "if you need to access saved tensors after calling backward."
)

_HISTORY = 64  # changes remembered per counter; older ones only make messages vaguer


def _is_tensor(entry) -> bool:
    """Whether a node's saved entry is a tensor (it has a version counter) or backend data."""
    return hasattr(type(entry), "_ver")


class _Version:
    """The version counter of one piece of data, kept by the tensor that owns it.

    `history` holds (clock, grad_fn name before the change) for the latest
    changes, enough to tell a node which version it saw and what the tensor
    was then, for the error message.
    """

    __slots__ = ("value", "history")

    def __init__(self) -> None:
        self.value = 0
        self.history = []


def root(t):
    """The tensor that owns t's data: t itself, or the base at the end of its _base chain."""
    b = t._base
    while b is not None:
        t = b
        b = t._base
    return t


def version(t) -> int:
    """How many times t's data was changed in place (shared with its views)."""
    counter = root(t)._ver
    return 0 if counter is None else counter.value


def bump(t, before=None) -> None:
    """Record one in-place change of t's data (call it right after the write).

    `before` is the root's data object before the write, when writing replaced
    it (a library scalar made mutable). Nodes that saved this data as their
    output are marked, since they cannot tell otherwise (they hold the array,
    not the tensor).
    """
    global CLOCK
    r = root(t)
    counter = r._ver
    if counter is None:
        counter = r._ver = _Version()
    fn = r.grad_fn
    if fn is not None:
        _mark_saved_output(fn, r, counter, before)
    CLOCK += 1
    counter.value += 1
    history = counter.history
    history.append((CLOCK, None if fn is None else fn.name()))
    if len(history) > _HISTORY:
        del history[0]


def _mark_saved_output(fn, r, counter: _Version, before) -> None:
    owner, index = fn._saving_node()
    saved = owner.saved
    if not saved:
        return
    data = r._array
    for s in saved:
        if _is_tensor(s):
            continue  # saved tensors carry their own version: check_node reads it
        held = s if s is data or s is before else getattr(s, "_array", None)  # _SavedOutput
        if held is data or (before is not None and held is before):
            entry = (counter, counter.value, index, fn.name(), tuple(r._array.shape), r.dtype)
            dirty = getattr(owner, "_dirty", None)
            if dirty is None:
                owner._dirty = [entry]
            else:
                dirty.append(entry)
            return


_LEGACY = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
           "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
           "bool": "Bool"}


def legacy_name(d) -> str:
    """torch's short name of a dtype, as its error messages spell it (Float, Long, ...)."""
    return _LEGACY.get(d.name, d.name)


def _modified(shape: tuple, dtype, fn_name, index: int, now: int, expected: int) -> RuntimeError:
    which = f", which is output {index} of {fn_name}," if fn_name else ""
    if ANOMALY.enabled:
        hint = ("Hint: the backtrace further above shows the operation that failed to compute "
                "its gradient. The variable in question was changed in there or anywhere later. "
                "Good luck!")
    else:
        hint = ("Hint: enable anomaly detection to find the operation that failed to compute "
                "its gradient, with plugrad.autograd.set_detect_anomaly(True).")
    # the type is spelled as torch spells it, so that messages compare equal
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: [torch.{legacy_name(dtype)}Tensor {list(shape)}]{which} is at "
        f"version {now}; expected version {expected} instead. {hint}")


def check_node(node) -> None:
    """Raise torch's error if `node` cannot run: its saved values were freed by an earlier
    backward, or something it saved was changed in place after it saved it.

    The one place these two checks live; the engine, `Node.__call__` and a custom
    Function's `saved_tensors` all call it before they read what a node saved.
    """
    saved = node.saved
    if saved is None:
        raise RuntimeError(FREED_MESSAGE)
    if saved and node._stamp != CLOCK:
        _check_versions(node, saved)


def _check_versions(node, saved: tuple) -> None:
    stamp = node._stamp
    for s in saved:
        if _is_tensor(s):
            r = root(s)
            counter = r._ver
            if counter is not None and counter.history and counter.history[-1][0] > stamp:
                newer = [h for h in counter.history if h[0] > stamp]
                expected = counter.value - len(newer)
                if s is r:
                    name = newer[0][1]
                else:
                    name = None if s.grad_fn is None else s.grad_fn.name()
                raise _modified(tuple(s._array.shape), s.dtype, name, 0, counter.value, expected)
    dirty = getattr(node, "_dirty", None)
    if dirty:
        counter, expected, index, name, shape, dtype = dirty[0]
        raise _modified(shape, dtype, name, index, counter.value, expected)
