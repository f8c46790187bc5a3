"""The documented autograd examples (docs/autograd.md, what `plugrad tour` shows) on every backend.

`plugrad.conformance.examples` reads them from the page itself, so the tour,
the page and the conformance suite cannot drift apart; these tests keep the
tour's view of them honest.
"""
from __future__ import annotations

import pathlib

import pytest
from plugrad import backends
from plugrad.conformance.examples import EXAMPLES, PAGE, matches, run

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("backend", list(backends.available()))
@pytest.mark.parametrize("example", EXAMPLES, ids=[e.title for e in EXAMPLES])
def test_documented_example_output(example, backend):
    printed = run(example, backend)
    assert matches(example, printed, backend), printed


def test_every_example_of_the_source_document_is_covered():
    # the source chapter has five examples: grad of x**2, a**3, the 0-d graph,
    # no_grad and detach
    assert len(EXAMPLES) == 5
    codes = "\n".join(e.code for e in EXAMPLES)
    for snippet in ("x ** 2", "a ** 3", "pg.tensor(1.0", "pg.no_grad()", ".detach()"):
        assert snippet in codes


def test_each_example_is_shown_on_the_page_with_its_output():
    page = (ROOT / "docs" / PAGE).read_text()
    for example in EXAMPLES:
        assert f"```python\n{example.code}```\n```text\n{example.expected}```" in page, \
            example.title


def test_an_example_that_prints_something_else_does_not_match():
    example = EXAMPLES[0]
    assert matches(example, example.expected)
    assert not matches(example, example.expected.replace("4.", "5."))
