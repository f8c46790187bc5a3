"""The documentation site (mkdocs.yml) builds strict, and its API reference names every public op.

Needs the docs extra (MkDocs, Material, mkdocstrings); skipped without it, run by `tox -e docs`.
"""
from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import pytest
from plugrad.declare import public_names

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    for module in ("mkdocs", "material", "mkdocstrings_handlers.python"):
        pytest.importorskip(module, reason="the docs extra: pip install '.[docs]'")
    out = tmp_path_factory.mktemp("site")
    # python -m: a `plugrad` script beside the mkdocs script would shadow the package
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                           str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={"NO_MKDOCS_2_WARNING": "1", **__import__("os").environ})
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def _anchors(site: pathlib.Path) -> set:
    found = set()
    for page in (site / "reference").glob("*.html"):
        found |= set(re.findall(r'id="(plugrad\.[\w.]+)"', page.read_text()))
    return found


def test_the_reference_documents_every_public_op_and_method(site):
    anchors = _anchors(site)
    missing = []
    for name in public_names():
        owner, _, attr = name.rpartition(".")
        if attr.startswith("_"):
            continue  # operators: documented with their named method (__add__ with add)
        if f"plugrad.{name}" not in anchors:
            missing.append(name)
    assert not missing, f"not in the API reference: {missing}"


def test_doctest_examples_render_as_code(site):
    page = (site / "reference" / "plugrad.html").read_text()
    assert "&gt;&gt;&gt;" in page and "<blockquote>" not in page


def test_search_and_highlighting_need_no_network(site):
    for page in site.rglob("*.html"):
        text = page.read_text()
        assert not re.search(r'<(script|link)[^>]+(src|href)="https?://', text), page
