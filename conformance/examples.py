"""The documented autograd examples, with the output each must print.

These are the examples of the autograd chapter (docs/autograd.md) expressed
with plugrad. `plugrad tour` prints them; the tests run each on every backend
and compare the printed output with `expected` exactly.
"""
from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    title: str
    code: str
    expected: str


EXAMPLES = (
    Example(
        "Autograd: gradients of y = x ** 2",
        """\
x = pg.tensor([2.0, 3.0], requires_grad=True)
y = x ** 2
y.sum().backward()
print(x.grad)
""",
        "tensor([4., 6.])\n",
    ),
    Example(
        "Backpropagation: b = a ** 3",
        """\
a = pg.tensor([2.0, 5.0], requires_grad=True)
b = a ** 3
b.sum().backward()
print(a.grad)
""",
        "tensor([12., 75.])\n",
    ),
    Example(
        "A define-by-run graph on a 0-d tensor",
        """\
x = pg.tensor(1.0, requires_grad=True)
y = x ** 2
z = y + 3
z.backward()
print(x.grad)
print(z.grad_fn.name(), y.grad_fn.name())
""",
        "tensor(2.)\nAddBackward0 PowBackward0\n",
    ),
    Example(
        "no_grad: nothing is recorded",
        """\
with pg.no_grad():
    x = pg.tensor([2.0], requires_grad=True)
    y = x ** 2
print(x.grad)
print(y.requires_grad, y.grad_fn)
try:
    y.backward()
except RuntimeError as err:
    print("RuntimeError:", err)
""",
        "None\nFalse None\n"
        "RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn\n",
    ),
    Example(
        "detach: leave the graph, keep the data",
        """\
x = pg.tensor([2.0, 3.0], requires_grad=True)
y = x ** 2
y_detached = y.detach()
print(y_detached, y_detached.requires_grad, y_detached.grad_fn)
print((y_detached * 2).requires_grad)
""",
        "tensor([4., 9.]) False None\nFalse\n",
    ),
)


def run(example: Example, backend: str | None = None) -> str:
    """Execute one example (with `pg` bound to plugrad) and return what it printed."""
    import plugrad as pg

    out = io.StringIO()
    namespace = {"pg": pg}
    with contextlib.ExitStack() as stack:
        if backend is not None:
            stack.enter_context(_default_backend(backend))
        stack.enter_context(contextlib.redirect_stdout(out))
        exec(compile(example.code, f"<example: {example.title}>", "exec"), namespace)
    return out.getvalue()


@contextlib.contextmanager
def _default_backend(name: str):
    from plugrad import backends
    previous = backends.default().name
    backends.set_default_backend(name)
    try:
        yield
    finally:
        backends.set_default_backend(previous)
