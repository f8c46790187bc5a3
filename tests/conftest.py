import os
import sys

# tests import their shared helpers as a plain module
sys.path.insert(0, os.path.dirname(__file__))

import pytest  # noqa: E402

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
