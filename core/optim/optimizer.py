"""`Optimizer`: parameter groups, per-parameter state, zero_grad and state dicts.

Subclasses implement `_update(group)`. Updates run under no_grad and write the
new values into each parameter's own memory with the backend's in-place
kernels (`add_into` for p += step, `setitem` for p = value) on raw arrays, so a
step records no graph and costs one kernel call per write. Writing in place
keeps torch's semantics: views of a parameter and tensors from an earlier
state_dict() see the update, and each write bumps the parameter's version
counter as torch's in-place ops do (one bump per add_/mul_/addcdiv_ torch makes),
so a graph that saved the parameter before step() refuses to run backward.
"""
from __future__ import annotations

import struct

from .. import dtypes
from ..aliases import propagate
from ..grad_mode import enable_grad, no_grad
from ..tensor import Tensor, _make, _shareable
from ..versions import bump, root

__all__ = ["Optimizer"]


class Optimizer:
    """Base class of the optimizers: holds `param_groups`, `state` and `defaults`.

    `params` is an iterable of tensors, or of dicts that each hold a "params"
    list and options overriding the defaults for those tensors (a parameter
    group).
    """

    def __init__(self, params, defaults: dict) -> None:
        self.defaults = defaults
        self.state: dict = {}          # parameter -> its state dict (momentum, moments...)
        self.param_groups: list = []
        if isinstance(params, Tensor):
            raise TypeError(f"params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {type(params).__name__}")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own options (e.g. a smaller lr for some layers)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        group = dict(param_group)
        group["params"] = params
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params) or taken & {id(p) for p in params}:
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set them to None (default) or fill them with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                # parameters are leaves: read and clear ._grad directly (this runs every step)
                if p._grad is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    p.grad.detach_()
                    p.grad.zero_()

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns closure() if given.

        `closure` re-evaluates the model and returns the loss (with grad enabled).
        """
        self._opt_called = True  # (read by lr schedulers, which warn when stepped first)
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                self._update(group)
        return loss

    def _update(self, group: dict) -> None:
        raise NotImplementedError

    # -- state dicts ---------------------------------------------------------------------
    def state_dict(self) -> dict:
        """{"state": {index: {...}}, "param_groups": [{options..., "params": [index...]}]}.

        Parameters are numbered in the order of the groups, so a state dict can be
        loaded into an optimizer built the same way over other parameter objects.
        """
        index: dict = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            saved = {k: v for k, v in group.items() if k != "params"}
            saved["params"] = ids
            groups.append(saved)
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore options and state saved by state_dict(), matching parameters by position.

        State tensors are copied, in each parameter's dtype and backend. The
        optimizer is unchanged if the groups do not match.
        """
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for mine, saved in zip(self.param_groups, saved_groups):
            if len(mine["params"]) != len(saved["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't "
                                 "match the size of optimizer's group")
        by_index = {}
        for mine, saved in zip(self.param_groups, saved_groups):
            for p, i in zip(mine["params"], saved["params"]):
                by_index[i] = p
        state = {}
        for i, entry in state_dict["state"].items():
            p = by_index.get(int(i))
            if p is not None:
                state[p] = {k: _state_copy(v, p, k) for k, v in entry.items()}
        groups = []
        for mine, saved in zip(self.param_groups, saved_groups):
            group = {k: v for k, v in saved.items() if k != "params"}
            group["params"] = mine["params"]
            groups.append(group)
        self.state, self.param_groups = state, groups


def _state_copy(value, p: Tensor, key: str):
    """A copy of one saved state value for parameter p: tensors in p's dtype and backend.

    Lists, tuples and dicts (LBFGS's history) are copied item by item. A "step"
    saved as a tensor (torch keeps it in one) becomes a Python number.
    """
    if isinstance(value, (list, tuple)):
        return type(value)(_state_copy(v, p, key) for v in value)
    if isinstance(value, dict):
        return {k: _state_copy(v, p, k) for k, v in value.items()}
    if not isinstance(value, Tensor):
        return value
    if key in SCALAR_KEYS and value.numel() == 1:
        number = float(value.item())
        return int(number) if number.is_integer() else number
    k = p.backend
    data = value._array if value.backend is k else k.asarray(value.backend.to_host(value._array))
    dtype = value.dtype
    if key != "step" and value.dtype.is_floating_point and dtype is not p.dtype:
        dtype = p.dtype
    data = k.astype(data, dtype) if k.dtype_of(data) is not dtype else k.copy(data)
    return _make(data, dtype, k)


# -- helpers for the update rules ---------------------------------------------------------------
# state entries torch keeps in 0-d tensors and plugrad in Python numbers
SCALAR_KEYS = frozenset(("step", "mu_product"))
_EVERYWHERE = (Ellipsis,)  # the index of a whole array


def _rebind(p: Tensor, before, out) -> None:
    # the write kernel returned the array holding the result (contract 2.0; None: written in
    # place); on a backend without in-place writes or views, p's aliases are brought along
    k = p.backend
    if out is not None:
        p._array = out
    if k.views and k.writable:
        bump(p)
        return
    propagate(p)
    bump(p, before)


def add_into(p: Tensor, delta) -> None:
    """p += delta, written into p's own memory (delta: a backend array); bumps p's version."""
    before = root(p)._array
    _rebind(p, before, p.backend.add_into(_shareable(p), delta))


def scale_into(p: Tensor, factor: float) -> None:
    """p *= factor, written into p's own memory; bumps p's version."""
    before = root(p)._array
    _rebind(p, before, p.backend.mul_into(_shareable(p), factor))


def write_into(p: Tensor, value) -> None:
    """p = value, written into p's own memory; bumps p's version."""
    before = root(p)._array
    _rebind(p, before, p.backend.setitem(_shareable(p), _EVERYWHERE, value))


def new_state(data, like: Tensor) -> Tensor:
    """A state tensor (momentum, moments) holding the backend array `data`."""
    return _make(data, like.dtype, like.backend)


def check_number(label: str, value, low: float = 0.0, high: float | None = None) -> float:
    """float(value), or torch's ValueError ("Invalid <label>: value") outside [low, high)."""
    number = float(value)
    if not number >= low or (high is not None and not number < high):
        raise ValueError(f"Invalid {label}: {value}")
    return number


def zeros_state(p: Tensor, value: float = 0) -> Tensor:
    """A state tensor shaped like p, in p's dtype and backend, filled with `value`."""
    k = p.backend
    return _make(k.full(tuple(p.shape), value, p.dtype), p.dtype, k)


def check_options(name: str, capturable=False, differentiable=False, fused=None) -> None:
    """NotImplementedError for the torch options plugrad does not implement."""
    if capturable or differentiable or fused:
        raise NotImplementedError(f"{name}: capturable, differentiable and fused updates are "
                                  f"not supported")


def scalar_round(x: float) -> float:
    """x rounded as torch's 0-d scalar state tensors round it: float32 unless the default
    dtype is float64 (torch keeps NAdam's mu_product in such a tensor)."""
    if dtypes.get_default_dtype() is dtypes.float64:
        return x
    return struct.unpack("f", struct.pack("f", x))[0]


def lerp(k, start, end, weight: float):
    """start + weight * (end - start) on arrays, rounded the way torch's lerp rounds it."""
    if weight < 0.5:
        return k.add(start, k.mul(k.sub(end, start), weight))
    return k.sub(end, k.mul(k.sub(end, start), 1 - weight))
