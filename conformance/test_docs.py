"""Every example of the documentation prints its documented output on the backend under test."""
from __future__ import annotations

import pytest
from plugrad.conformance.doc_examples import (
    EXECUTED_LANGUAGES,
    IGNORED_LANGUAGES,
    PageRun,
    code_blocks,
    examples_of,
    pages,
    parse_page,
)

PAGES = pages()
CASES = [pytest.param(page, i, id=example.name,
                      marks=pytest.mark.plugrad_conformance("docs", page))
         for page in PAGES for i, example in enumerate(examples_of(page))]


@pytest.fixture(scope="module")
def page_runs():
    return {}


@pytest.mark.parametrize("page, index", CASES)
def test_documented_example(page, index, plugrad_target, page_runs, record_property):
    run = page_runs.get(page)
    if run is None:
        run = page_runs[page] = PageRun(page, plugrad_target.backend)
    outcome = run.result(index)
    ex = outcome.example
    if outcome.status == "skip":
        pytest.skip(outcome.message)
    if outcome.status == "fail":
        if isinstance(outcome.error, NotImplementedError):
            record_property("plugrad_unsupported", outcome.error)
        record_property("plugrad_repro", f"import plugrad as pg\n{plugrad_target.setup_code}\n"
                                         f"# after the examples above it in docs/{ex.page}\n"
                                         + ex.code.rstrip())
        code = "\n".join("    " + line for line in ex.code.rstrip().split("\n"))
        pytest.fail(f"docs/{ex.page}, line {ex.line} ({ex.title}):\n{code}\n{outcome.message}",
                    pytrace=False)


@pytest.mark.plugrad_conformance("coverage", "docs")
@pytest.mark.parametrize("page", PAGES)
def test_every_code_block_of_the_page_is_run_or_plain_text(page):
    """An example the suite would not run cannot hide in the docs: its fence must say python."""
    document = parse_page(page)
    blocks = code_blocks(document)
    python_blocks = [b for b in blocks if b.lexemes["language"] in EXECUTED_LANGUAGES]
    assert len(examples_of(page)) == len(python_blocks)
    unknown = sorted({b.lexemes["language"] for b in blocks}
                     - set(EXECUTED_LANGUAGES) - set(IGNORED_LANGUAGES))
    assert not unknown, (
        f"docs/{page}: code blocks in {unknown} are neither run nor known to be plain text; "
        f"write ```python (run, with a ```text block of its output after it) or one of "
        f"{', '.join(sorted(set(IGNORED_LANGUAGES) - {''}))}")


@pytest.mark.plugrad_conformance("coverage", "docs")
def test_the_docs_have_examples():
    assert "autograd.md" in PAGES
    assert sum(len(examples_of(p)) for p in PAGES) >= 5
