"""`Module`: the base class of layers and models.

A Module keeps three ordered tables, filled by plain attribute assignment:
parameters (tensors made with `Parameter`), buffers (tensors registered with
`register_buffer`, saved in the state dict but not trained) and submodules.
Everything else (parameters(), state_dict(), train()...) walks those tables.
"""
from __future__ import annotations

import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Mapping
from typing import Iterator

from .. import dtypes
from ..autograd.function import Function
from ..backends import is_backend_name
from ..creation import placement, resolve_backend, zeros
from ..grad_mode import STATE, no_grad
from ..graph import HookDict, RemovableHandle, add_hook
from ..pointwise import to_target
from ..tensor import Tensor
from .parameter import Parameter, is_parameter

__all__ = ["Module"]


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What load_state_dict could not match: (missing_keys, unexpected_keys), as torch's."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class Module:
    """Base class for models: subclass it, create layers in __init__, write forward.

    >>> import plugrad as pg
    >>> from plugrad import nn
    >>> class Affine(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.scale = nn.Parameter(pg.tensor([2.0]))
    ...     def forward(self, x):
    ...         return x * self.scale
    >>> m = Affine()
    >>> m(pg.tensor([3.0]))
    tensor([6.], grad_fn=<MulBackward0>)
    >>> [name for name, _ in m.named_parameters()]
    ['scale']
    """

    training: bool

    def __init__(self) -> None:
        # object.__setattr__: our own __setattr__ needs these tables to exist
        setup = object.__setattr__
        setup(self, "training", True)
        setup(self, "_parameters", OrderedDict())
        setup(self, "_buffers", OrderedDict())
        setup(self, "_non_persistent_buffers_set", set())
        setup(self, "_modules", OrderedDict())
        # hooks by handle id (HookDict: a RemovableHandle holds it weakly); the sets name
        # the ids of hooks registered with_kwargs / always_call
        setup(self, "_forward_pre_hooks", HookDict())
        setup(self, "_forward_pre_hooks_with_kwargs", set())
        setup(self, "_forward_hooks", HookDict())
        setup(self, "_forward_hooks_with_kwargs", set())
        setup(self, "_forward_hooks_always_called", set())
        setup(self, "_backward_hooks", HookDict())
        setup(self, "_backward_pre_hooks", HookDict())

    # -- the forward pass ---------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        # the common case costs three dict truth tests on top of forward
        if self._forward_pre_hooks or self._forward_hooks or self._backward_hooks \
                or self._backward_pre_hooks:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args: tuple, kwargs: dict):
        """__call__ with hooks: torch's order and rules (hooks may replace args or result)."""
        result = None
        ran_always: set = set()
        try:
            for hid, hook in tuple(self._forward_pre_hooks.items()):
                if hid in self._forward_pre_hooks_with_kwargs:
                    new = hook(self, args, kwargs)
                    if new is not None:
                        if not (isinstance(new, tuple) and len(new) == 2):
                            raise RuntimeError(
                                "forward pre-hook must return None or a tuple of (new_args, "
                                f"new_kwargs), but got {new}.")
                        args, kwargs = new
                else:
                    new = hook(self, args)
                    if new is not None:
                        args = new if isinstance(new, tuple) else (new,)
            backward = None
            if self._backward_hooks or self._backward_pre_hooks:
                backward = _BackwardHooks(self)
                args = backward.wrap_inputs(args)
            result = self.forward(*args, **kwargs)
            for hid, hook in tuple(self._forward_hooks.items()):
                if hid in self._forward_hooks_always_called:
                    ran_always.add(hid)
                if hid in self._forward_hooks_with_kwargs:
                    new = hook(self, args, kwargs, result)
                else:
                    new = hook(self, args, result)
                if new is not None:
                    result = new
            if backward is not None:
                result = backward.wrap_outputs(result)
            return result
        except Exception:
            for hid, hook in tuple(self._forward_hooks.items()):
                if hid not in self._forward_hooks_always_called or hid in ran_always:
                    continue
                try:
                    if hid in self._forward_hooks_with_kwargs:
                        new = hook(self, args, kwargs, result)
                    else:
                        new = hook(self, args, result)
                    if new is not None:
                        result = new
                except Exception as err:
                    warnings.warn("module forward hook with ``always_call=True`` raised an "
                                  "exception that was silenced as another error was raised "
                                  f"in forward: {err}", stacklevel=2)
            raise

    # -- hooks ----------------------------------------------------------------------------
    def register_forward_pre_hook(self, hook, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call hook(module, args) before forward (hook(module, args, kwargs) with_kwargs).

        A hook that returns something replaces the positional arguments (a non-tuple
        becomes a 1-tuple); with_kwargs, it returns None or (args, kwargs).
        Returns a handle whose remove() takes the hook out.

        >>> import plugrad as pg
        >>> from plugrad import nn
        >>> layer = nn.Identity()
        >>> handle = layer.register_forward_pre_hook(lambda m, args: args[0] * 10)
        >>> layer(pg.tensor([1.0]))
        tensor([10.])
        >>> handle.remove()
        >>> layer(pg.tensor([1.0]))
        tensor([1.])
        """
        handle = _add(self._forward_pre_hooks, hook, prepend)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs.add(handle.id)
        return handle

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """Call hook(module, args, output) after forward (hook(module, args, kwargs, output)
        with_kwargs); a hook that returns something replaces the output.

        always_call: the hook also runs when forward (or an earlier hook) raised.

        >>> import plugrad as pg
        >>> from plugrad import nn
        >>> layer = nn.Identity()
        >>> _ = layer.register_forward_hook(lambda m, args, out: out + 1)
        >>> layer(pg.tensor([1.0]))
        tensor([2.])
        """
        handle = _add(self._forward_hooks, hook, prepend)
        if with_kwargs:
            self._forward_hooks_with_kwargs.add(handle.id)
        if always_call:
            self._forward_hooks_always_called.add(handle.id)
        return handle

    def register_full_backward_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Call hook(module, grad_input, grad_output) when the gradients of the module's
        tensor inputs have been computed; a returned tuple replaces grad_input.

        grad_input holds one entry per positional argument of the call (None for
        those that are not tensors needing a gradient); grad_output one per
        tensor output.

        >>> import plugrad as pg
        >>> from plugrad import nn
        >>> seen = []
        >>> layer = nn.Tanh()
        >>> _ = layer.register_full_backward_hook(lambda m, gi, go: seen.append(go[0]))
        >>> layer(pg.zeros(2, requires_grad=True)).sum().backward()
        >>> seen
        [tensor([1., 1.])]
        """
        return _add(self._backward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Call hook(module, grad_output) before the module's input gradients are computed;
        a returned tuple replaces grad_output."""
        return _add(self._backward_pre_hooks, hook, prepend)

    # -- registration by attribute --------------------------------------------------------
    def __setattr__(self, name: str, value) -> None:
        tables = self.__dict__
        params = tables.get("_parameters")
        if is_parameter(value):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep="_parameters")  # a parameter replaced keeps its place
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                f"(plugrad.nn.Parameter or None expected)")
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep="_modules")
            tables["_modules"][name] = value
        elif params is not None and name in tables["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module "
                                f"'{name}' (plugrad.nn.Module or None expected)")
            tables["_modules"][name] = None
        elif params is not None and name in tables["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                f"(plugrad.Tensor or None expected)")
            tables["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: str) -> None:
        """Drop `name` from the other tables before it is registered in table `keep`."""
        self.__dict__.pop(name, None)
        for table in ("_parameters", "_buffers", "_modules"):
            if table != keep:
                self.__dict__[table].pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name: str):
        # only called when normal lookup fails: look in the tables
        tables = self.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            if table in tables and name in tables[table]:
                return tables[table][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for table in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(table, ()):
                del self.__dict__[table][name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list:
        keys = (dir(type(self)) + list(self.__dict__) + list(self._parameters)
                + list(self._modules) + list(self._buffers))
        return sorted(k for k in keys if not k[0].isdigit())

    def _get_name(self) -> str:
        return type(self).__name__

    def register_parameter(self, name: str, param: Tensor | None) -> None:
        """Add a parameter (or a None placeholder) under `name`.

        >>> import plugrad as pg
        >>> from plugrad import nn
        >>> m = nn.Module()
        >>> m.register_parameter("w", nn.Parameter(pg.ones(2)))
        >>> [n for n, _ in m.named_parameters()]
        ['w']
        """
        self._check_new_name(name, "parameter", "_parameters")
        if param is None:
            self._parameters[name] = None
        elif not is_parameter(param):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            f"(plugrad.nn.Parameter or None required)")
        elif param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must "
                f"be created explicitly. To express '{name}' as a function of another Tensor, "
                f"compute the value in the forward() method.")
        else:
            self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor that is state but not a parameter (saved unless persistent=False).

        >>> import plugrad as pg
        >>> from plugrad import nn
        >>> m = nn.Module()
        >>> m.register_buffer("count", pg.tensor(0))
        >>> m.register_buffer("cache", pg.zeros(2), persistent=False)
        >>> list(m.state_dict())
        ['count']
        """
        self._check_new_name(name, "buffer", "_buffers")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            f"(plugrad.Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: "Module | None") -> None:
        """Add a submodule under `name` (what attribute assignment does)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        self._check_new_name(name, "module", "_modules")
        self._modules[name] = module

    def register_module(self, name: str, module: "Module | None") -> None:
        """Alias of add_module."""
        self.add_module(name, module)

    def _check_new_name(self, name: str, kind: str, table: str) -> None:
        if table not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {_typename(name)}")
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if hasattr(self, name) and name not in self.__dict__[table]:
            raise KeyError(f"attribute '{name}' already exists")

    def get_submodule(self, target: str) -> "Module":
        """The submodule at a dotted path ("" is the module itself).

        >>> from plugrad import nn
        >>> nn.Sequential(nn.Sequential(nn.ReLU())).get_submodule("0.0")
        ReLU()
        """
        mod = self
        if target == "":
            return mod
        for item in target.split("."):
            if not hasattr(mod, item):
                raise AttributeError(f"{mod._get_name()} has no attribute `{item}`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return mod

    def get_parameter(self, target: str) -> Tensor:
        """The parameter at a dotted path, such as "0.weight"."""
        path, _, name = target.rpartition(".")
        mod = self.get_submodule(path)
        if not hasattr(mod, name):
            raise AttributeError(f"{mod._get_name()} has no attribute `{name}`")
        param = getattr(mod, name)
        if not is_parameter(param):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at a dotted path."""
        path, _, name = target.rpartition(".")
        mod = self.get_submodule(path)
        if not hasattr(mod, name):
            raise AttributeError(f"{mod._get_name()} has no attribute `{name}`")
        if name not in mod._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return getattr(mod, name)

    # -- walking the tree -------------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, "Module"]]:
        """(name, module) for this module and every module below it, depth first.

        A module reached twice comes once (unless remove_duplicate=False).

        >>> from plugrad import nn
        >>> [n for n, _ in nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU())).named_modules()]
        ['', '0', '1', '1.0']
        """
        if memo is None:
            memo = set()
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                               remove_duplicate)

    def modules(self) -> Iterator["Module"]:
        """This module and every module below it, each once."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        """(name, module) for the direct submodules, each once."""
        seen = set()
        for name, child in self._modules.items():
            if child is not None and child not in seen:
                seen.add(child)
                yield name, child

    def children(self) -> Iterator["Module"]:
        """The direct submodules, each once."""
        for _, child in self.named_children():
            yield child

    def _named_tensors(self, table: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Tensor]]:
        seen: set = set()
        walk = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for mod_prefix, module in walk:
            for name, t in module.__dict__[table].items():
                if t is None or id(t) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(t))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), t

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, parameter) pairs; a parameter shared by two layers comes once.

        >>> from plugrad import nn
        >>> [n for n, _ in nn.Sequential(nn.Linear(2, 3), nn.ReLU()).named_parameters()]
        ['0.weight', '0.bias']
        """
        return self._named_tensors("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every parameter of this module and its submodules, for an optimizer."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) pairs, non-persistent buffers included."""
        return self._named_tensors("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer of this module and its submodules."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn) -> "Module":
        """Call fn on every submodule, then on self; returns self.

        >>> from plugrad import nn
        >>> names = []
        >>> model = nn.Sequential(nn.Linear(1, 1), nn.ReLU())
        >>> _ = model.apply(lambda m: names.append(type(m).__name__))
        >>> names
        ['Linear', 'ReLU', 'Sequential']
        """
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # -- modes and gradients ------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Set training mode (Dropout drops) on this module and below; returns self."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for child in self.children():
            child.train(mode)  # through the method, so that a subclass's train() runs
        return self

    def eval(self) -> "Module":
        """Set evaluation mode (Dropout passes everything through); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Turn gradient recording of every parameter on or off (to freeze layers)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the parameters' gradients (None by default, else zeros in place)."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                if p.grad.grad_fn is not None:
                    p.grad.detach_()
                else:
                    p.grad.requires_grad_(False)
                p.grad.zero_()

    # -- conversion ------------------------------------------------------------------------------
    def to(self, *args, dtype=None, backend=None, device=None,
           non_blocking: bool = False, memory_format=None) -> "Module":  # noqa: V107
        """Convert floating parameters and buffers to a dtype and/or move them to a backend.

        In place: the parameter objects stay the same (optimizers keep working), and
        their gradients move with them. Takes torch's forms: to(device), to(dtype),
        to(device, dtype), to(tensor) (its dtype and backend), plus a backend name or
        object (or backend=).

        >>> import plugrad as pg
        >>> from plugrad import nn
        >>> nn.Linear(2, 1).to(pg.float64).weight.dtype
        plugrad.float64
        """
        args = tuple(a for a in args if not isinstance(a, bool))  # torch's non_blocking
        dtype, backend = to_target(args, dtype, backend if backend is not None else device)
        if dtype is not None and not dtype.is_floating_point:
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but "
                            f"got desired dtype={dtype}")
        move = _mover(backend) if backend is not None else None

        def convert(t: Tensor) -> Tensor:
            if move is not None:
                t = move(t)
            if dtype is not None and t.dtype.is_floating_point:
                t = t.to(dtype)
            return t
        return self._apply(convert)

    def cpu(self) -> "Module":
        """Move every parameter and buffer to the CPU backend (NumPy); returns self."""
        return self.to("cpu")

    def cuda(self, device=None) -> "Module":
        """Move every parameter and buffer to a CUDA device's backend; returns self."""
        if device is None:
            return self.to("cuda")
        return self.to(f"cuda:{device}" if isinstance(device, int) else device)

    def float(self) -> "Module":
        """Floating parameters and buffers to float32; returns self."""
        return self.to(dtypes.float32)

    def double(self) -> "Module":  # noqa: V105 - public API, as torch's
        """Floating parameters and buffers to float64; returns self."""
        return self.to(dtypes.float64)

    def half(self) -> "Module":
        """Floating parameters and buffers to float16; returns self."""
        return self.to(dtypes.float16)

    def _apply(self, fn) -> "Module":
        """Replace every parameter's and buffer's contents (and grad) by fn of it, in place."""
        # convert everything first, then swap: a failure leaves the module as it was
        converted = []
        with no_grad():
            for m in self.modules():
                for table in ("_parameters", "_buffers"):
                    for t in m.__dict__[table].values():
                        if t is not None:
                            converted.append((t, fn(t)))
                            if t._grad is not None:
                                converted.append((t._grad, fn(t._grad)))
        for t, new in converted:
            _adopt(t, new)
        return self

    # -- state ------------------------------------------------------------------------------------
    def state_dict(self, *, destination=None, prefix: str = "",
                   keep_vars: bool = False) -> "OrderedDict[str, Tensor]":
        """Parameters and persistent buffers by dotted name, sharing their memory.

        `prefix` is put before every key as it is (torch's: give "name." with its dot).

        >>> from plugrad import nn
        >>> list(nn.Linear(2, 3).state_dict())
        ['weight', 'bias']
        """
        out = OrderedDict() if destination is None else destination
        for name, t in self._parameters.items():
            if t is not None:
                out[prefix + name] = t if keep_vars else t.detach()
        for name, t in self._buffers.items():
            if t is not None and name not in self._non_persistent_buffers_set:
                out[prefix + name] = t if keep_vars else t.detach()
        for name, child in self._modules.items():
            if child is not None:
                child.state_dict(destination=out, prefix=f"{prefix}{name}.",
                                 keep_vars=keep_vars)
        return out

    def load_state_dict(self, state_dict, strict: bool = True,
                        assign: bool = False) -> _IncompatibleKeys:
        """Copy tensors from `state_dict` into this module's parameters and buffers.

        Keys are matched as torch matches them. Unlike torch, everything is checked
        before anything is copied: with a missing or unexpected key (strict) or a
        shape that differs, RuntimeError lists every problem and the module is left
        unchanged. Returns (missing_keys, unexpected_keys). assign=True makes the
        checkpoint's tensors the parameters (sharing their memory) instead of copying.

        >>> from plugrad import nn
        >>> a, b = nn.Linear(2, 3), nn.Linear(2, 3)
        >>> b.load_state_dict(a.state_dict())
        <All keys matched successfully>
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing: list = []
        unexpected: list = []
        errors: list = []
        plan: list = []
        _match(self, dict(state_dict), "", missing, unexpected, errors, plan)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        with no_grad():
            for module, name, mine, theirs in plan:
                if not assign:
                    mine.copy_(theirs)
                elif is_parameter(mine):
                    if not is_parameter(theirs):
                        theirs = Parameter(theirs, requires_grad=mine.requires_grad)
                    else:
                        theirs.requires_grad_(mine.requires_grad)
                    module._parameters[name] = theirs
                else:
                    module._buffers[name] = theirs
        return _IncompatibleKeys(missing, unexpected)

    # -- printing ------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text between the parentheses of this module's repr (layers override it)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + repr(child).replace("\n", "\n  ")
                       for name, child in self._modules.items()]
        head = self._get_name() + "("
        if not extra_lines and not child_lines:
            return head + ")"
        if len(extra_lines) == 1 and not child_lines:
            return head + extra_lines[0] + ")"
        return head + "\n  " + "\n  ".join(extra_lines + child_lines) + "\n)"


def _typename(obj) -> str:
    """How the messages name an object's type (torch's torch.typename, less the dtype)."""
    return type(obj).__name__


def _add(hooks: HookDict, hook, prepend: bool) -> RemovableHandle:
    handle = add_hook(hooks, hook)
    if prepend:
        rest = [(k, v) for k, v in hooks.items() if k != handle.id]
        hooks.clear()
        hooks[handle.id] = hook
        hooks.update(rest)
    return handle


def _match(module: Module, state: dict, prefix: str, missing: list, unexpected: list,
           errors: list, plan: list) -> None:
    """torch's key matching of load_state_dict, for `module` at `prefix` and below; what
    would be copied goes to plan as (module, name, own tensor, checkpoint tensor)."""
    local = [(n, t, "_parameters") for n, t in module._parameters.items() if t is not None]
    local += [(n, t, "_buffers") for n, t in module._buffers.items()
              if t is not None and n not in module._non_persistent_buffers_set]
    names = {n for n, _, _ in local}
    for name, mine, _ in local:
        key = prefix + name
        if key not in state:
            missing.append(key)
            continue
        theirs = state[key]
        if not isinstance(theirs, Tensor):
            errors.append(f'While copying the parameter named "{key}", expected plugrad.Tensor '
                          f"or Tensor-like object from checkpoint but received {type(theirs)}")
            continue
        if mine.ndim == 0 and tuple(theirs.shape) == (1,):
            theirs = theirs[0]  # torch's backward compatibility with 0.3 checkpoints
        if tuple(theirs.shape) != tuple(mine.shape):
            errors.append(f"size mismatch for {key}: copying a param with shape {theirs.shape} "
                          f"from checkpoint, the shape in current model is {mine.shape}.")
            continue
        plan.append((module, name, mine, theirs))
    for key in state:
        if key.startswith(prefix):
            parts = key[len(prefix):].split(".", 1)
            if (len(parts) > 1 and parts[0] not in module._modules) or \
                    (len(parts) == 1 and parts[0] not in names):
                unexpected.append(key)
    for name, child in module._modules.items():
        if child is not None:
            sub = f"{prefix}{name}."
            _match(child, {k: v for k, v in state.items() if k.startswith(sub)}, sub,
                   missing, unexpected, errors, plan)


class _HookIdentity(Function):
    """Passes tensors through unchanged; its backward node is where module hooks sit."""

    @staticmethod
    def forward(ctx, *tensors, box):
        ctx.mark_non_differentiable(*[t for t in tensors if not t.requires_grad])
        box.append(ctx)
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return grads


class _BackwardHooks:
    """One call's full backward (pre-)hooks, torch's BackwardHook: the module's tensor
    inputs and outputs go through _HookIdentity; a pre-hook on the outputs' node sees
    grad_output, a hook on the inputs' node sees grad_input (and may replace it)."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.hooks = tuple(module._backward_hooks.values())
        self.pre_hooks = tuple(module._backward_pre_hooks.values())
        self.n_inputs = self.n_outputs = 0
        self.input_index = self.output_index = None
        self.input_meta: list = []
        self.grad_outputs = None

    @staticmethod
    def _wrap(values: tuple):
        index = [i for i, v in enumerate(values) if isinstance(v, Tensor)]
        tensors = [values[i] for i in index]
        if not (STATE.grad_enabled and any(t.requires_grad for t in tensors)):
            return values, None, None
        box: list = []
        out = list(values)
        meta = [(tuple(t.shape), t.dtype, t.backend, t.requires_grad) for t in tensors]
        for i, t in zip(index, _HookIdentity.apply(*tensors, box=box)):
            out[i] = t
        return tuple(out), (index, meta), box[0]._node()

    @staticmethod
    def _pack(index: list, grads: tuple, n: int) -> tuple:
        full = [None] * n
        for i, g in zip(index, grads):
            full[i] = g
        return tuple(full)

    def wrap_inputs(self, args: tuple) -> tuple:
        self.n_inputs = len(args)
        args, wrapped, node = self._wrap(args)
        if node is not None:
            self.input_index, self.input_meta = wrapped
            node.register_hook(self._input_hook)
        return args

    def wrap_outputs(self, result):
        single = isinstance(result, Tensor)
        if not single and not isinstance(result, tuple):
            warnings.warn("For backward hooks to be called, module output should be a Tensor "
                          f"or a tuple of Tensors but received {type(result)}", stacklevel=3)
            return result
        values = (result,) if single else result
        self.n_outputs = len(values)
        values, wrapped, node = self._wrap(values)
        if node is None:
            return result
        self.output_index = wrapped[0]
        node.register_prehook(self._output_hook)
        return values[0] if single else values

    def _output_hook(self, grad_outputs: tuple) -> tuple:
        full = self._pack(self.output_index, grad_outputs, self.n_outputs)
        for hook in self.pre_hooks:
            res = hook(self.module, full)
            if res is None:
                continue
            if len(res) != len(full):
                raise RuntimeError(f"Backward pre hook returned an invalid number of "
                                   f"grad_output, got {len(res)}, but expected {len(full)}")
            full = tuple(res)
        if self.input_index is None:
            # no input needs a gradient: the hooks run now, with grad_input all None
            grad_inputs = (None,) * self.n_inputs
            for hook in self.hooks:
                res = hook(self.module, grad_inputs, full)
                if res is not None and not (isinstance(res, tuple)
                                            and all(r is None for r in res)):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
        else:
            self.grad_outputs = full
        return tuple(full[i] for i in self.output_index)

    def _input_hook(self, grad_inputs: tuple, _grad_outputs: tuple) -> tuple:
        # an input that needs no gradient gets zeros, as torch's BackwardHookFunction gives
        grad_inputs = tuple(zeros(meta[0], dtype=meta[1], backend=meta[2]) if g is None else g
                            for g, meta in zip(grad_inputs, self.input_meta))
        full = self._pack(self.input_index, grad_inputs, self.n_inputs)
        for hook in self.hooks:
            res = hook(self.module, full, self.grad_outputs)
            if res is None:
                continue
            if len(res) != len(full):
                raise RuntimeError(f"Backward hook returned an invalid number of grad_input, "
                                   f"got {len(res)}, but expected {len(full)}")
            full = tuple(res)
        self.grad_outputs = None
        # (the engine passes nothing on to an input that needs no gradient)
        return tuple(full[i] if meta[3] else None
                     for i, meta in zip(self.input_index, self.input_meta))


def _adopt(t: Tensor, new: Tensor) -> None:
    """Give tensor `t` the contents, dtype and backend of `new` (keeping the object)."""
    if new is not t:
        t._array, t.dtype, t.backend = new._array, new.dtype, new.backend


def _mover(target):
    """fn(tensor) moving a tensor to `target`: a backend, its name, or a device ("cuda")."""
    if not isinstance(target, str) or is_backend_name(target):
        resolve_backend(target)  # an unknown name or device type fails here, saying why

    def move(t: Tensor) -> Tensor:
        backend = placement(target, t.backend)
        if t.backend is backend:
            return t
        try:
            return t.to(backend)
        except RuntimeError as err:
            # a plugrad whose Tensor.to cannot change backends says so with this phrase
            if "not supported yet" in str(err):
                raise NotImplementedError(
                    f"Module.to({backend.name!r}): this plugrad cannot move tensors between "
                    f"backends yet ({err})") from err
            raise
    return move
