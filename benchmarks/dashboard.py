"""The benchmark dashboard, for the suite's own scripts and tests: plugrad.bench_dashboard.

The renderer ships in the package (`plugrad bench dashboard` renders saved runs
without a checkout); this module keeps `import dashboard` working next to the
suite, and `python benchmarks/dashboard.py [--storage DIR] [--out FILE]`.
"""
from __future__ import annotations

import sys

from plugrad.bench_dashboard import (  # noqa: F401 - re-exported
    FLOOR,
    GOALS,
    TORCH,
    WORKLOAD_TEXT,
    Result,
    Run,
    fmt_bytes,
    fmt_ratio,
    fmt_time,
    load_runs,
    main,
    render,
    summary,
    write,
    write_page,
)

if __name__ == "__main__":
    sys.exit(main())
