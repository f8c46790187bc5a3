import os
import sys

# tests import their shared helpers as a plain module
sys.path.insert(0, os.path.dirname(__file__))

import pytest  # noqa: E402

if os.environ.get("PLUGRAD_TEST_IMMUTABLE"):
    # the suite on a backend whose writes return new arrays and whose views are copies
    # (tests/immutable_backend.py): the core's functionalization must keep torch's semantics
    import immutable_backend  # noqa: E402
    import plugrad  # noqa: E402

    plugrad.set_default_backend(immutable_backend.make())


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    if not os.environ.get("PLUGRAD_TEST_IMMUTABLE"):
        return
    # documented examples print reprs, which name a backend other than numpy
    skip = pytest.mark.skip(reason="prints reprs: the backend's name differs on this backend")
    for item in items:
        if "docstring" in item.name or "doctest" in item.name:
            item.add_marker(skip)

# the comparisons with torch skip where torch is missing; say how to run them
TORCH_HINT = ("torch is not installed: the comparisons with torch need it "
              "(python -m pip install torch==2.13.0, the CPU build is enough; .ci/run does)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and isinstance(report.longrepr, tuple):
        path, line, reason = report.longrepr
        if "could not import 'torch'" in reason:
            report.longrepr = (path, line, f"Skipped: {TORCH_HINT}")
