"""`Module`: the base class of layers and models.

A Module keeps three ordered tables, filled by plain attribute assignment:
parameters (tensors made with `Parameter`), buffers (tensors registered with
`register_buffer`, saved in the state dict but not trained) and submodules.
Everything else (parameters(), state_dict(), train()...) walks those tables.
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple
from typing import Iterator

from .. import dtypes
from ..backends import is_backend_name
from ..creation import placement, resolve_backend
from ..grad_mode import no_grad
from ..pointwise import to_target
from ..tensor import Tensor, _shareable
from .parameter import is_parameter

__all__ = ["Module"]


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What load_state_dict(strict=False) could not match."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


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
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())

    # -- the forward pass ---------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # -- registration by attribute --------------------------------------------------------
    def __setattr__(self, name: str, value) -> None:
        tables = self.__dict__
        if "_parameters" not in tables:
            if is_parameter(value) or isinstance(value, Module):
                kind = "parameters" if is_parameter(value) else "submodules"
                raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
            object.__setattr__(self, name, value)
            return
        params, buffers, modules = tables["_parameters"], tables["_buffers"], tables["_modules"]
        if is_parameter(value):
            self._forget(name)
            params[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                f"(plugrad.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            self._forget(name)
            modules[name] = value
        elif name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (plugrad.nn.Module or None expected)")
            modules[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                f"(plugrad.Tensor or None expected)")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        """Drop `name` from every table before it is registered anew in one of them."""
        self.__dict__.pop(name, None)
        for table in ("_parameters", "_buffers", "_modules"):
            self.__dict__[table].pop(name, None)
        self._non_persistent.discard(name)

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
                self._non_persistent.discard(name)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Tensor | None) -> None:
        """Add a parameter (or a None placeholder) under `name`."""
        if param is not None and not is_parameter(param):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (plugrad.nn.Parameter or None required)")
        self._check_new_name(name, "parameter")
        self._forget(name)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor that is state but not a parameter (saved unless persistent=False)."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            f"(plugrad.Tensor or None required)")
        self._check_new_name(name, "buffer")
        self._forget(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: "Module | None") -> None:
        """Add a submodule under `name` (what attribute assignment does)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_new_name(name, "module")
        self._forget(name)
        self._modules[name] = module

    def _check_new_name(self, name: str, kind: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if "." in name or name == "":
            raise KeyError(f'{kind} name can\'t contain "." or be empty, got {name!r}')

    # -- walking the tree -------------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, "Module"]]:
        """(name, module) for this module and every module below it, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                               remove_duplicate)

    def modules(self) -> Iterator["Module"]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator["Module"]:
        for _, child in self.named_children():
            yield child

    def _named_tensors(self, table: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Tensor]]:
        seen: set = set()
        walk = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for mod_prefix, module in walk:
            for name, t in module.__dict__[table].items():
                if t is None or (remove_duplicate and id(t) in seen):
                    continue
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
        return self._named_tensors("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn) -> "Module":
        """Call fn on every submodule, then on self; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # -- modes and gradients ------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Set training mode (Dropout drops) on this module and below; returns self."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
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
                p.grad.detach_()
                p.grad.zero_()

    # -- conversion ------------------------------------------------------------------------------
    def to(self, *args, dtype=None, backend=None, device=None,
           non_blocking: bool = False) -> "Module":  # noqa: V107 - torch's signature
        """Convert floating parameters and buffers to a dtype and/or move them to a backend.

        In place: the parameter objects stay the same (optimizers keep working).
        Takes what Tensor.to takes: a dtype, a backend (name or object), or both.

        >>> import plugrad as pg
        >>> from plugrad import nn
        >>> nn.Linear(2, 1).to(pg.float64).weight.dtype
        plugrad.float64
        """
        dtype, backend = to_target(args, dtype, backend if backend is not None else device)
        if dtype is not None and not dtype.is_floating_point:
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got "
                            f"desired dtype={dtype.name}")
        move = _mover(backend) if backend is not None else None

        def convert(t: Tensor) -> Tensor:
            if move is not None:
                t = move(t)
            if dtype is not None and t.dtype.is_floating_point:
                t = t.to(dtype)
            return t
        return self._apply(convert)

    def float(self) -> "Module":
        return self.to(dtypes.float32)

    def double(self) -> "Module":  # noqa: V105 - public API, as torch's
        return self.to(dtypes.float64)

    def half(self) -> "Module":
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

        >>> from plugrad import nn
        >>> list(nn.Linear(2, 3).state_dict())
        ['weight', 'bias']
        """
        out = OrderedDict() if destination is None else destination
        for mod_prefix, m in self.named_modules(prefix=prefix.rstrip("."),
                                                remove_duplicate=False):
            dot = f"{mod_prefix}." if mod_prefix else ""
            for name, t in m._parameters.items():
                if t is not None:
                    out[dot + name] = t if keep_vars else t.detach()
            for name, t in m._buffers.items():
                if t is not None and name not in m._non_persistent:
                    out[dot + name] = t if keep_vars else t.detach()
        return out

    def load_state_dict(self, state_dict, strict: bool = True,
                        assign: bool = False) -> IncompatibleKeys:
        """Copy tensors from `state_dict` into this module's parameters and buffers.

        Everything is checked before anything is copied: with an unknown or missing
        key (strict) or a shape that differs, RuntimeError lists every problem and
        the module is left unchanged. Returns (missing_keys, unexpected_keys).

        >>> from plugrad import nn
        >>> a, b = nn.Linear(2, 3), nn.Linear(2, 3)
        >>> b.load_state_dict(a.state_dict())
        <All keys matched successfully>
        """
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        if strict:
            if missing:
                errors.append("Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ". ")
            if unexpected:
                errors.append("Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ". ")
        for name, mine in own.items():
            if name not in state_dict:
                continue
            theirs = state_dict[name]
            if not isinstance(theirs, Tensor):
                errors.append(f'While copying the parameter named "{name}", expected '
                              f"plugrad.Tensor from checkpoint but received {type(theirs)}")
            elif tuple(theirs.shape) != tuple(mine.shape):
                errors.append(f"size mismatch for {name}: copying a param with shape "
                              f"{theirs.shape} from checkpoint, the shape in current model "
                              f"is {mine.shape}.")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        with no_grad():
            for name, mine in own.items():
                if name in state_dict:
                    _copy_into(mine, state_dict[name], assign)
        return IncompatibleKeys(missing, unexpected)

    # -- printing ------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text between the parentheses of this module's repr (layers override it)."""
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, child in self._modules.items():
            text = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {text}")
        head = type(self).__name__ + "("
        if not lines:
            return head + ")"
        if len(lines) == 1 and not self._modules:
            return head + lines[0] + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


def _adopt(t: Tensor, new: Tensor) -> None:
    """Give tensor `t` the contents, dtype and backend of `new` (keeping the object)."""
    if new is not t:
        t._array, t.dtype, t.backend = new._array, new.dtype, new.backend


def _copy_into(dest: Tensor, src: Tensor, assign: bool) -> None:
    """Write src's values into dest's memory, converted to dest's dtype and backend."""
    k = dest.backend
    data = src._array
    if src.backend is not k:
        data = k.asarray(src.backend.to_host(data))
    if k.dtype_of(data) is not dest.dtype:
        data = k.astype(data, dest.dtype)
    if assign:
        # torch's assign=True: take the checkpoint's memory instead of copying into ours
        dest._array = data if data is not src._array else k.copy(data)
        return
    k.setitem(_shareable(dest), (Ellipsis,), data)


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
