"""One declaration per public op, and everything that is made from the declarations.

An op module keeps an `Ops` table and declares each of its public ops once,
next to the op's forward and backward:

    ops = Ops(__name__)

    @ops.declare(inplace=True)              # plugrad.clamp, Tensor.clamp, Tensor.clamp_
    def clamp(x, min=None, max=None): ...

    clip = ops.alias("clip", clamp, inplace=True)  # plugrad.clip, Tensor.clip, .clip_

    __all__ = ops.exported()                # the module's plugrad.* functions

    @ops.declare(namespace="linalg", method=False)  # plugrad.linalg.inv only
    def inv(A): ...

From the declarations come:

* the `plugrad.*` functions: each op module's `__all__` (`Ops.exported`),
  which `plugrad/__init__.py` imports;
* the `Tensor` methods, their in-place variants (`x.clamp_()`, made by
  `plugrad.inplace.in_place`) and the operators (`__add__`, `__iadd__`): bound
  by `plugrad.methods` once every op module has loaded (`bind`);
* the functions of a namespace (`plugrad.linalg.inv`, declared with
  `namespace="linalg"`): keyed "linalg.inv" in DECLARED, imported by the
  namespace's module (plugrad.linalg), never exported as `plugrad.*`;
* the list of public op names (`public_names`) that the conformance op table
  checks its coverage against, and that tests/test_declare.py checks against
  what plugrad really exposes and against the docs.

This module imports nothing of plugrad: a declaration is a record, not code.
"""
from __future__ import annotations

from collections.abc import Callable

__all__ = ["Op", "Ops", "DECLARED", "public_names"]


class Op:
    """The declaration of one public op: its function and where it is exported.

    `name`: its public name, "exp" or, for an op of a namespace, "linalg.inv";
    `namespace`: None, or the submodule that exports it ("linalg"); `function`:
    exported as `plugrad.<name>`; `method`: the `Tensor` method's
    name (None: no method), bound to `method_fn` (the function itself, unless
    the method takes its arguments in another order); `inplace`: the in-place method's name (`exp_`;
    None: none); `operators`: Python operators, each bound to a callable or,
    where it maps to None, to the op's function itself (`{"__add__": None,
    "__radd__": radd}`); `inplace_operator` (`__iadd__`) is bound to the
    in-place variant.
    """

    __slots__ = ("name", "fn", "module", "function", "method", "method_fn", "inplace",
                 "operators", "inplace_operator", "namespace")

    def __init__(self, name: str, fn, module: str, *, function: bool, method: str | None,
                 method_fn, inplace: str | None, operators: dict,
                 inplace_operator: str | None, namespace: str | None = None) -> None:
        self.name = name
        self.namespace = namespace
        self.fn = fn
        self.module = module
        self.function = function
        self.method = method
        self.method_fn = method_fn
        self.inplace = inplace
        self.operators = operators
        self.inplace_operator = inplace_operator

    def __repr__(self) -> str:
        return f"<op {self.name!r} of {self.module}>"

    def public_names(self) -> list:
        """The names this declaration exports: 'exp', 'Tensor.exp', 'Tensor.exp_', ..."""
        names = [self.name] if self.function else []
        for attr in (self.method, self.inplace, *self.operators, self.inplace_operator):
            if attr is not None:
                names.append(f"Tensor.{attr}")
        return names


# every declaration by name, in declaration order (the order op modules are imported)
DECLARED: dict = {}


class Ops:
    """The declarations of one op module (see the module docstring)."""

    def __init__(self, module: str) -> None:
        self.module = module
        self.names: list = []

    def declare(self, fn=None, *, name: str | None = None, function: bool = True,
                method: bool | str | Callable = True, inplace: bool | str = False,
                operators: dict | tuple | None = None, inplace_operator: str | None = None,
                namespace: str | None = None):
        """Declare `fn` a public op (usable as `@ops.declare` or `@ops.declare(...)`).

        `method` is True (a method of the op's name), False, another name, or a
        function to bind as the method instead of fn; `inplace` is True (the
        method's name + "_"), False or a name. With `namespace` ("linalg") the
        function is `plugrad.linalg.<name>`, not `plugrad.<name>`.
        """
        def register(fn):
            short = name or fn.__name__
            op_name = f"{namespace}.{short}" if namespace else short
            if op_name in DECLARED:
                raise RuntimeError(f"op {op_name!r} is declared twice ({DECLARED[op_name].module} "
                                   f"and {self.module})")
            method_fn = method if callable(method) else fn
            method_name = short if method is True or callable(method) else (method or None)
            inplace_name = (f"{method_name or op_name}_" if inplace is True else
                            (inplace or None))
            DECLARED[op_name] = Op(op_name, fn, self.module, function=function,
                                   method=method_name, method_fn=method_fn,
                                   inplace=inplace_name,
                                   operators=_operator_table(operators),
                                   inplace_operator=inplace_operator, namespace=namespace)
            self.names.append(op_name)
            return fn
        return register if fn is None else register(fn)

    def alias(self, name: str, fn, **exports):
        """Declare `name` another public name of the op `fn` (torch's clip for clamp)."""
        return self.declare(fn, name=name, **exports)

    def method(self, name: str, fn, **exports):
        """Declare a `Tensor` method that has no `plugrad.*` function (x.float())."""
        return self.declare(fn, name=name, function=False, **exports)

    def exported(self) -> list:
        """The `plugrad.*` function names of this module: its `__all__`."""
        return [n for n in self.names if DECLARED[n].function and DECLARED[n].namespace is None]


def _operator_table(operators) -> dict:
    """{dunder: callable or None}; a tuple of dunders binds each to the op's function."""
    if isinstance(operators, (tuple, list)):
        return dict.fromkeys(operators)
    return dict(operators or {})


def public_names() -> list:
    """Every public name that comes from a declaration, sorted ('exp', 'Tensor.__add__', ...)."""
    return sorted({n for op in DECLARED.values() for n in op.public_names()})
