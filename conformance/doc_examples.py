"""The examples of the user documentation (docs/*.md), found by Sybil and checked for output.

A documented example is a fenced ```python block. When a ```text block follows
it (nothing but blank lines between), that block is what the code must print;
a ```python block with no ```text block after it must print nothing. The
examples of one page run in order in one namespace that starts with
`import plugrad as pg` already done and `BACKEND` set to the name of the
backend under test, so a page reads like one session.

Sybil (https://sybil.readthedocs.io) lexes the Markdown: its fenced-code-block
lexer finds the blocks, and its skip parser honours comments such as
``<!-- skip: next if(BACKEND != "numpy", reason="prints NumPy arrays") -->``.

Printed output is compared with `outputs_match`: text must be identical up to
spacing, numbers may differ by a tolerance that depends on the dtype of the
tensor they are printed in, `...` in the documented output matches anything
(as in doctest), and the `backend='name'` that a tensor on a non-default
backend shows in its repr is ignored for the backend under test.
"""
from __future__ import annotations

import contextlib
import io
import re
import traceback
from dataclasses import dataclass
from pathlib import Path
from unittest import SkipTest

__all__ = ["DocExample", "Outcome", "slug", "docs_dir", "pages", "parse_page", "PageRun",
           "outputs_match", "EXECUTED_LANGUAGES", "IGNORED_LANGUAGES", "code_blocks"]

# code fences whose content runs; "py" and "python3" are refused, so that an
# example cannot slip past the suite under another spelling
EXECUTED_LANGUAGES = ("python",)
OUTPUT_LANGUAGES = ("text",)
# fences that never run: shell sessions, configuration files, diagrams
IGNORED_LANGUAGES = ("text", "console", "bash", "sh", "shell", "toml", "ini", "yaml", "json",
                     "cfg", "markdown", "md", "diff", "none", "")


@dataclass(frozen=True)
class DocExample:
    """One documented example: its code, the output it must print, where it is."""

    page: str           # file name relative to the docs folder, e.g. "autograd.md"
    line: int           # line of the opening ```python fence
    code: str
    expected: str       # "" when the code is not followed by an output block
    title: str = ""     # the nearest heading above the example
    index: int = 1      # 1 for the first example under its heading, 2 for the next, ...

    @property
    def id(self) -> str:
        """Where it is now: page and line (for messages; it moves when the page is edited)."""
        return f"{self.page}:{self.line}"

    @property
    def name(self) -> str:
        """Its stable name, the id of its conformance case: page, heading slug and index.

        `api.md:creating-tensors:2` is the second example under "Creating tensors"
        in api.md; editing other sections of the page does not change it.
        """
        return f"{self.page}:{slug(self.title)}:{self.index}"


def slug(heading: str) -> str:
    """The anchor of a heading as the docs site writes it: `Creating tensors` -> creating-tensors.

    >>> slug("`plugrad conformance` and its options!")
    'plugrad-conformance-and-its-options'
    """
    text = re.sub(r"[^\w\s-]", "", heading.lower())
    return re.sub(r"[\s-]+", "-", text).strip("-") or "top"


@dataclass
class Outcome:
    example: DocExample
    status: str         # "pass", "fail", "skip"
    message: str = ""
    printed: str = ""
    error: BaseException | None = None   # what the example raised, if it raised


# -- where the pages are -------------------------------------------------------------------
def docs_dir() -> Path:
    """The folder of the Markdown docs: shipped in the package, else the source checkout's."""
    try:
        from importlib.resources import files
        shipped = Path(str(files("plugrad.conformance.docs")))
        if shipped.is_dir() and any(shipped.glob("*.md")):
            return shipped
    except (ImportError, ModuleNotFoundError, TypeError, ValueError):
        pass
    here = Path(__file__).resolve().parent
    for candidate in (here / "docs", here.parent / "docs"):
        if candidate.is_dir() and any(candidate.glob("*.md")):
            return candidate
    raise FileNotFoundError(
        "plugrad's documentation pages were not found: neither shipped with the package "
        "(plugrad/conformance/docs) nor in a source checkout (docs/ next to conformance/)")


def pages(root: Path | None = None) -> list:
    """Every Markdown page of the docs, as paths relative to the docs folder, sorted."""
    root = docs_dir() if root is None else root
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.md"))


# -- parsing with Sybil --------------------------------------------------------------------
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.MULTILINE)


def code_blocks(document) -> list:
    """Every fenced code block of a Sybil Document, as Sybil's regions, in order."""
    from sybil.parsers.markdown.lexers import FencedCodeBlockLexer
    lexer = FencedCodeBlockLexer(language=r"[^\s`]*",
                                 mapping={"language": "language", "source": "source"})
    return sorted(lexer(document), key=lambda region: region.start)


class ExampleParser:
    """A Sybil parser: each ```python block, with the ```text block after it, is one example."""

    def __init__(self, page: str) -> None:
        self.page = page

    def __call__(self, document):
        from sybil import Region
        blocks = code_blocks(document)
        text = document.text
        per_heading: dict = {}
        i = 0
        while i < len(blocks):
            block = blocks[i]
            if block.lexemes["language"] in EXECUTED_LANGUAGES:
                end, expected = block.end, ""
                after = blocks[i + 1] if i + 1 < len(blocks) else None
                if after is not None and after.lexemes["language"] in OUTPUT_LANGUAGES \
                        and not text[block.end:after.start].strip():
                    end, expected = after.end, str(after.lexemes["source"])
                    i += 1
                line = text.count("\n", 0, block.start) + 1
                headings = _HEADING.findall(text, 0, block.start)
                title = headings[-1] if headings else self.page
                per_heading[slug(title)] = index = per_heading.get(slug(title), 0) + 1
                example = DocExample(self.page, line, str(block.lexemes["source"]), expected,
                                     title, index)
                yield Region(block.start, end, parsed=example, evaluator=_evaluate)
            i += 1


def parse_page(page: str, root: Path | None = None):
    """The Sybil Document of one page, with its examples and skip directives."""
    from sybil import Document
    from sybil.parsers.markdown import SkipParser
    root = docs_dir() if root is None else root
    return Document.parse(str(root / page), ExampleParser(page), SkipParser())


def examples_of(page: str, root: Path | None = None) -> list:
    """The DocExamples of one page, in order."""
    return [ex.parsed for ex in parse_page(page, root) if isinstance(ex.parsed, DocExample)]


# -- running -------------------------------------------------------------------------------
class _Mismatch(AssertionError):
    pass


def _evaluate(example) -> None:
    """Sybil evaluator: run the code, compare what it printed with the documented output."""
    doc: DocExample = example.parsed
    namespace = example.namespace
    out = io.StringIO()
    code = compile(doc.code, f"{doc.page}:{doc.line}", "exec")
    with contextlib.redirect_stdout(out):
        exec(code, namespace)
    printed = out.getvalue()
    namespace["__printed__"] = printed
    ok, why = outputs_match(doc.expected, printed, namespace.get("BACKEND"))
    if not ok:
        raise _Mismatch(why)


class PageRun:
    """Runs the examples of one page on one backend, in order, each at most once.

    `result(i)` runs the examples up to the i-th (skip directives included)
    and returns the Outcome of the i-th, so each example can be its own test
    while the page still runs as one session. Global settings a page changes
    (default dtype, grad mode) are restored once its last example has run.
    """

    def __init__(self, page: str, backend, root: Path | None = None) -> None:
        import plugrad as pg
        self.page = page
        self.backend = backend
        self.document = parse_page(page, root)
        self.regions = list(self.document)
        self.examples = [r for r in self.regions if isinstance(r.parsed, DocExample)]
        name = getattr(backend, "name", backend)
        self.document.namespace.update({"pg": pg, "BACKEND": name})
        self.outcomes: list = []
        self._next = 0
        self._saved = (pg.get_default_dtype(), pg.is_grad_enabled())

    def result(self, index: int) -> Outcome:
        while len(self.outcomes) <= index:
            self._step()
        return self.outcomes[index]

    def run_all(self) -> list:
        return [self.result(i) for i in range(len(self.examples))]

    def _step(self) -> None:
        import plugrad as pg
        from plugrad import backends
        region = self.regions[self._next]
        self._next += 1
        doc = region.parsed
        outcome = None
        with backends.default_backend(self.backend):
            try:
                region.evaluate()
                if isinstance(doc, DocExample):
                    printed = self.document.namespace.pop("__printed__", None)
                    if printed is None:  # a `skip: next` (no reason) took it without running it
                        outcome = Outcome(doc, "skip", "skipped by a skip directive in the page")
                    else:
                        outcome = Outcome(doc, "pass", printed=printed)
            except SkipTest as skip:
                if isinstance(doc, DocExample):
                    outcome = Outcome(doc, "skip", str(skip))
            except _Mismatch as err:
                outcome = Outcome(doc, "fail", str(err),
                                  self.document.namespace.pop("__printed__", ""))
            except Exception as err:  # the example raised: show where, in its own lines
                if not isinstance(doc, DocExample):
                    raise
                cause = err.__cause__ if type(err).__name__ == "SybilFailure" else err
                tb = traceback.format_exception(type(cause), cause, cause.__traceback__)
                tb = [t for t in tb if "sybil" not in t and "doc_examples.py" not in t]
                outcome = Outcome(doc, "fail", "the example raised an exception:\n" +
                                  "".join(tb).rstrip(), error=cause)
        if outcome is not None:
            self.outcomes.append(outcome)
        if self._next == len(self.regions):
            pg.set_default_dtype(self._saved[0])
            pg.set_grad_enabled(self._saved[1])


# -- comparing printed output --------------------------------------------------------------
_NUMBER = (r"(?<![\w.])(?:[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.])"
           r"|[-+]?(?:nan|inf)(?!\w))")
_TOKEN = re.compile(rf"(?P<num>{_NUMBER})|(?P<dots>\.\.\.)|(?P<space>\s+)")
_GOT_NUMBER = r"([-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?nan|[-+]?inf)"

# relative tolerance by the dtype a number is printed in; plain Python floats and
# tensors without a dtype suffix are in the default dtype, float32
RTOL = {"float16": 1e-3, "bfloat16": 1e-2, "float32": 1e-5, "float64": 1e-10}


def _tensor_spans(text: str) -> list:
    """(start, end, dtype name) of every `tensor(...)` in text."""
    spans = []
    for m in re.finditer(r"\btensor\(", text):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        body = text[m.start():i]
        found = re.search(r"dtype=\w+\.(\w+)", body)
        spans.append((m.start(), i, found.group(1) if found else "float32"))
    return spans


def _dtype_at(spans: list, pos: int) -> str:
    inner = [s for s in spans if s[0] <= pos < s[1]]
    return min(inner, key=lambda s: s[1] - s[0])[2] if inner else "float32"


def _is_integer_literal(s: str) -> bool:
    return re.fullmatch(r"[-+]?\d+", s) is not None


def _last_place(s: str) -> float:
    """One unit in the last printed decimal place (0 when none is printed: '4.', '12')."""
    m = re.fullmatch(r"[-+]?\d*\.(\d+)(?:[eE]([-+]?\d+))?", s)
    if not m:
        return 0.0
    return 10.0 ** (-len(m.group(1)) + int(m.group(2) or 0))


def _close(want: str, got: str, dtype: str) -> bool:
    if _is_integer_literal(want):
        return _is_integer_literal(got) and int(want) == int(got)
    w, g = float(want), float(got)
    if w != w or g != g:
        return w != w and g != g
    if w in (float("inf"), float("-inf")) or g in (float("inf"), float("-inf")):
        return w == g
    rtol = RTOL.get(dtype, 1e-5)
    return abs(w - g) <= rtol * abs(w) + rtol * 1e-3 + _last_place(want) * 1.000001


def outputs_match(expected: str, printed: str, backend: str | None = None):
    """(ok, explanation): whether `printed` is the documented `expected` output.

    Equal up to spacing and trailing blank lines; numbers within the tolerance
    of the dtype they are printed in plus one unit in the last printed decimal
    place; integers exactly; `...` matches any text.
    """
    got = printed
    if backend and backend != "numpy":
        got = got.replace(f", backend='{backend}'", "").replace(f"backend='{backend}', ", "")
    want = expected.strip()
    got_s = got.strip()
    if want == got_s:
        return True, ""
    pattern, numbers, pos = [], [], 0
    spans = _tensor_spans(want)
    tokens = list(_TOKEN.finditer(want))
    for tok in tokens:
        pattern.append(re.escape(want[pos:tok.start()]))
        pos = tok.end()
        if tok.group("num"):
            pattern.append(_GOT_NUMBER)
            numbers.append((tok.group("num"), _dtype_at(spans, tok.start())))
        elif tok.group("dots"):
            pattern.append(r"(?:.*?)")
        else:
            before = want[tok.start() - 1] if tok.start() else ""
            after = want[tok.end()] if tok.end() < len(want) else ""
            pattern.append(r"\s+" if before.isalnum() and after.isalnum() else r"\s*")
    pattern.append(re.escape(want[pos:]))
    match = re.fullmatch("".join(pattern), got_s, re.DOTALL)
    diff = (f"documented output:\n{_indent(expected)}\nprinted on backend "
            f"{backend or 'default'!r}:\n{_indent(printed)}")
    if match is None:
        return False, "the printed text differs from the documented output\n" + diff
    for (want_num, dtype), got_num in zip(numbers, match.groups()):
        if not _close(want_num, got_num, dtype):
            within = ("is not that integer" if _is_integer_literal(want_num) else
                      f"differs from it by more than the {dtype} tolerance")
            return False, (f"the number {got_num} is documented as {want_num} and {within}\n"
                           + diff)
    return True, ""


def _indent(text: str) -> str:
    text = text.rstrip("\n")
    return "\n".join("    " + line for line in text.split("\n")) if text else "    (nothing)"
