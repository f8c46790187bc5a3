"""A Griffe extension for the API reference: doctest examples render as code.

plugrad's docstrings show examples as bare `>>>` sessions (doctest runs them);
Markdown would read `>>>` as nested quotes and `x[i][j]` as a link. Each
session (its prompts, continuation lines and expected output, up to a blank
line) is wrapped in a fenced `pycon` block before rendering.
"""
from __future__ import annotations

import griffe


def fence_doctests(text: str) -> str:
    out, in_session = [], False
    for line in text.splitlines():
        starts = line.lstrip().startswith(">>>")
        if starts and not in_session:
            out.append("```pycon")
            in_session = True
        elif in_session and not line.strip():
            out.append("```")
            in_session = False
        out.append(line)
    if in_session:
        out.append("```")
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    def on_instance(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)
