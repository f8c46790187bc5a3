"""Fixtures of the conformance suite: the backend under test is the default backend in each case.

The options (--plugrad-backend, ...) and the summary come from
`plugrad.conformance.plugin`, which pytest loads through plugrad's entry point.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from plugrad.conformance import plugin

try:  # Hypothesis keeps a cache folder; keep it out of the folder the suite is run from
    from hypothesis.configuration import set_hypothesis_home_dir
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "plugrad-conformance-hypothesis")
except ImportError:  # pragma: no cover - the property cases then skip
    pass


@pytest.fixture(scope="session")
def plugrad_target(request):
    """The Target under test: `.backend`, `.name`, `.spec`, `.setup_code`."""
    return plugin.target(request.config)


@pytest.fixture(autouse=True)
def _on_the_backend_under_test(request, plugrad_target):
    """Each case runs with the backend under test as the default; global modes are restored.

    Documented examples manage this themselves, page by page (a page is one session).
    """
    mark = request.node.get_closest_marker("plugrad_conformance")
    if mark is not None and mark.args and mark.args[0] == "docs":
        yield
        return
    import plugrad as pg
    from plugrad import backends
    dtype, grad = pg.get_default_dtype(), pg.is_grad_enabled()
    with backends.default_backend(plugrad_target.backend):
        try:
            yield
        finally:
            pg.set_default_dtype(dtype)
            pg.set_grad_enabled(grad)
