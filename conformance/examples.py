"""The documented autograd examples, with the output each must print.

They are read from the autograd chapter, docs/autograd.md (shipped inside the
package), so the page, `plugrad tour` and the conformance suite cannot drift
apart: each ```python block of that page is an example and the ```text block
after it is its output. `run` executes one example on its own, with `pg`
bound to plugrad; `matches` compares what it printed with the documented
output the way the conformance suite does (numbers within a dtype-aware
tolerance).
"""
from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

from .doc_examples import examples_of, outputs_match

__all__ = ["Example", "EXAMPLES", "PAGE", "run", "matches"]

PAGE = "autograd.md"


@dataclass(frozen=True)
class Example:
    title: str
    code: str
    expected: str
    line: int = 0


def _load() -> tuple:
    return tuple(Example(e.title, e.code, e.expected, e.line) for e in examples_of(PAGE))


EXAMPLES = _load()


def run(example: Example, backend: str | None = None) -> str:
    """Execute one example (with `pg` bound to plugrad) and return what it printed."""
    import plugrad as pg
    from plugrad import backends

    out = io.StringIO()
    namespace = {"pg": pg}
    with contextlib.ExitStack() as stack:
        if backend is not None:
            stack.enter_context(backends.default_backend(backend))
        stack.enter_context(contextlib.redirect_stdout(out))
        exec(compile(example.code, f"<{PAGE}:{example.line}: {example.title}>", "exec"),
             namespace)
    return out.getvalue()


def matches(example: Example, printed: str, backend: str | None = None) -> bool:
    """Whether `printed` is the example's documented output (within the suite's tolerance)."""
    if backend is None:
        from plugrad import backends
        backend = backends.default().name
    return outputs_match(example.expected, printed, backend)[0]
