"""Functionalization: torch's view semantics on arrays that cannot alias or be written.

On NumPy a view shares memory with its base, and writing into an array changes
it in place, so `x[0].add_(1)` changes x. A backend may say otherwise (contract
2.0): `views = False` (getitem, reshape, ... give copies) or `writable = False`
(a write kernel returns a new array, as JAX's `x.at[i].set(v)` does). On such a
backend the core keeps torch's semantics itself, as torch does on XLA:

* every view tensor remembers its parent and how it was made (a *recipe*: a
  function from the parent's array to the view's, such as a reshape or an
  index), in `link`;
* after a write into a tensor (its array rebound to the write kernel's
  result), `propagate` scatters the view's new values into its storage root
  (the tensor at the end of the chain of parents) through the root's own
  write kernel, then regenerates every live view of that root from the new
  root array.

Version counters are kept as before (plugrad.versions, through `_base`), so
saved tensors stay guarded. Aliases that torch keeps out of the version count
(`.data`, `nn.Parameter(t)`) are linked too, with `_base` left alone.

This module knows tensors only as objects with `_array` and `backend`; nothing
here runs for a backend with `views` and `writable` both True (NumPy).

>>> aliasing(type("B", (), {"views": True, "writable": False})())
True
"""
from __future__ import annotations

import weakref

from . import dtypes
from .backend import written

__all__ = ["aliasing", "link", "unlink", "same", "propagate", "positions", "READ_ONLY"]

# Keyed by id(): tensors compare elementwise (==), so they cannot be dictionary keys.
# id(view) -> (parent, recipe, overlapping): recipe(k, parent_array) is the view's array;
# overlapping is True where one element of the parent shows up more than once in the view.
# A view holds its parent (as `_base` does); the entry goes when the view does
_PARENT: dict = {}
# id(tensor) -> {id(view): weak reference to view}: the live views made from it
_CHILDREN: dict = {}

# torch's message for a write into an expanded view, or memory the user shared read-only
READ_ONLY = ("unsupported operation: more than one element of the written-to tensor refers to "
             "a single memory location, or its memory is read-only (e.g. from_numpy of a "
             "read-only NumPy array). Please clone() the tensor before performing the "
             "operation.")


def aliasing(k) -> bool:
    """Whether the core must functionalize on backend k: its arrays do not alias or do not
    change in place (a backend of contract 1.x lacks the attributes: it has both)."""
    return not (getattr(k, "views", True) and getattr(k, "writable", True))


def same(k, a):
    """The recipe of an alias (detach, .data, a whole-tensor view): the parent's array."""
    return a


def _forget(key: int, parent_key: int) -> None:
    _PARENT.pop(key, None)
    children = _CHILDREN.get(parent_key)
    if children is not None:
        children.pop(key, None)
        if not children:
            del _CHILDREN[parent_key]


def link(view, parent, recipe, overlapping: bool = False) -> None:
    """Record that `view` was made from `parent` by `recipe(k, parent_array)`."""
    key, parent_key = id(view), id(parent)
    _PARENT[key] = (parent, recipe, overlapping)
    children = _CHILDREN.get(parent_key)
    if children is None:
        children = _CHILDREN[parent_key] = {}
    children[key] = weakref.ref(view, lambda _, key=key, pk=parent_key: _forget(key, pk))


def unlink(t) -> None:
    """Forget t's parent (`x.data = other`: x no longer shares its old memory)."""
    entry = _PARENT.get(id(t))
    if entry is not None:
        _forget(id(t), id(entry[0]))


def _chain(t):
    """(storage root, recipes from the root down to t, whether any step overlaps)."""
    recipes, overlapping = [], False
    entry = _PARENT.get(id(t))
    while entry is not None:
        t, recipe, over = entry
        recipes.append(recipe)
        overlapping |= over
        entry = _PARENT.get(id(t))
    recipes.reverse()
    return t, recipes, overlapping


def _flat_positions(k, root_shape: tuple, recipes: list):
    """Each element of the view made by `recipes`: its flat position in the root (int64)."""
    n = 1
    for s in root_shape:
        n *= s
    pos = k.reshape(k.arange(0, n, 1, dtypes.int64), root_shape)
    for recipe in recipes:
        pos = recipe(k, pos)
    return pos


def positions(view, base):
    """For each element of `view`, its flat position in `base` (int64, view's shape), or
    None when view was not made from base (through linked views)."""
    recipes = []
    t = view
    while t is not base:
        entry = _PARENT.get(id(t))
        if entry is None:
            return None
        t, recipe, _ = entry
        recipes.append(recipe)
    recipes.reverse()
    return _flat_positions(view.backend, tuple(base._array.shape), recipes)


def propagate(t) -> None:
    """t's array was just rebound to a write's result: make its storage root and every
    live view of that root agree with it (a no-op for a tensor nothing aliases)."""
    entry = _PARENT.get(id(t))
    if entry is None:
        if id(t) in _CHILDREN:
            _regenerate(t)
        return
    root, recipes, overlapping = _chain(t)
    if overlapping:
        raise RuntimeError(READ_ONLY)
    k = root.backend
    shape = tuple(root._array.shape)
    n = 1
    for s in shape:
        n *= s
    pos = k.reshape(_flat_positions(k, shape, recipes), (-1,))
    flat = k.reshape(root.backend.mutable(root._array), (n,))
    values = k.reshape(t._array, (-1,))
    flat = written(k.setitem(flat, (pos,), values), flat)
    _rebind(root, k.reshape(flat, shape))
    _regenerate(root)


def _rebind(t, new) -> None:
    """t's data is now `new`; a node that saved t's old array as its output sees the new one,
    as it would through shared memory (the version check still catches the change where
    torch's does: `.data` writes are the ones it lets through)."""
    old, t._array = t._array, new
    fn = t.grad_fn
    if fn is None:
        return
    owner, _ = fn._saving_node()
    saved = owner.saved
    if saved and any(s is old for s in saved):
        owner.saved = tuple([new if s is old else s for s in saved])


def _regenerate(t) -> None:
    children = _CHILDREN.get(id(t))
    if not children:
        return
    k = t.backend
    for ref in list(children.values()):
        view = ref()
        entry = None if view is None else _PARENT.get(id(view))
        if entry is None or entry[0] is not t:
            continue
        _rebind(view, entry[1](k, t._array))
        _regenerate(view)
