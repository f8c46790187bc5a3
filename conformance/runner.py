"""`plugrad conformance BACKEND`: the whole suite on one backend, with a per-op summary.

It runs the suite's pytest modules (shipped in this package) with the
settings of `pytest.ini` beside them, so the folder it is started from does
not change how it runs. pytest, Hypothesis and Sybil must be installed
(`pip install "plugrad[conformance]"`). Exit status: 0 when every case passes or is a
declared gap, 1 when some case fails, 2 when the backend cannot be used or
the suite cannot start, 5 when the selection matched no case.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_parser", "main", "run", "pytest_args"]

HERE = Path(__file__).resolve().parent
NEEDS = (("pytest", "pytest"), ("hypothesis", "hypothesis"), ("sybil", "sybil"))

EPILOG = """\
examples:
  plugrad conformance numpy                    the whole suite on the NumPy backend
  plugrad conformance mylib --op matmul        one entry of the op table
  plugrad conformance mylib -k float64         cases whose id contains float64
  plugrad conformance mypkg.backend:MyBackend  a backend object (or class/factory) that is
                                               not registered as a plugin yet

  plugrad conformance mylib --json mylib.json  also save one JSON record per case

A backend declares known gaps in `conformance_skips`, a dict of declaration -> reason
on the backend object (a case pattern, `matmul@gradient`, `kernel:argsort`,
`capability:in-place`, `dtype:float16`); they run as expected failures and are
listed, never hidden. Exit status: 0 all pass (declared gaps allowed; with --strict
no declaration may pass or match nothing), 1 undeclared failures, 2 the backend
cannot be used, 5 nothing selected.
"""


def add_parser(sub) -> argparse.ArgumentParser:
    """Add the `conformance` subcommand to the `plugrad` command's subparsers."""
    p = sub.add_parser("conformance", help="run the conformance suite on a backend and print a "
                                           "pass/fail summary per op",
                       description="Run plugrad's conformance suite (the documented "
                                   "examples, the op table, the engine's rules, property "
                                   "cases) on one backend and print a summary per op.",
                       epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    p.set_defaults(func=main)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("backend", nargs="?", default=None,
                   help="a backend name (see `plugrad backends`) or module:attribute "
                        "(default: the default backend)")
    p.add_argument("--op", action="append", default=[], metavar="NAME",
                   help="run only this entry of the op table (repeatable, fnmatch patterns)")
    p.add_argument("--only", action="append", default=[], metavar="PART",
                   choices=("docs", "op", "engine", "property", "coverage"),
                   help="run only this part: docs, op, engine, property, coverage "
                        "(repeatable)")
    p.add_argument("-k", dest="keyword", metavar="EXPR",
                   help="run only cases whose id matches EXPR (pytest's -k)")
    p.add_argument("-x", "--exitfirst", action="store_true", help="stop at the first failure")
    p.add_argument("-v", "--verbose", action="store_true", help="one line per case")
    p.add_argument("--json", metavar="FILE", dest="json_file",
                   help="also write one JSON record per case (op, dtype, stage, outcome, "
                        "reproducer) to FILE; conformance/support_matrix.py renders saved "
                        "reports as a support matrix")
    p.add_argument("--strict", action="store_true",
                   help="fail the run when a declared gap passes now or a declaration "
                        "matches nothing")
    p.add_argument("--pytest-arg", action="append", default=[], metavar="ARG",
                   help="pass ARG on to pytest (repeatable; write --pytest-arg=-n4 for "
                        "an ARG that starts with -)")


def pytest_args(backend: str | None, op=(), only=(), keyword=None, exitfirst=False,
                verbose=False, extra=(), json_file=None, strict=False) -> list:
    """The pytest command line that runs the suite on `backend`."""
    args = [str(HERE), "-c", str(HERE / "pytest.ini"), "--rootdir", str(HERE),
            "-p", "no:cacheprovider", "-p", "no:benchmark", "--tb=short", "-q", "-rN"]
    if backend:
        args += ["--plugrad-backend", backend]
    for name in op:
        args += ["--plugrad-op", name]
    for part in only:
        args += ["--plugrad-only", part]
    if keyword:
        args += ["-k", keyword]
    if json_file:
        args += ["--plugrad-json", str(Path(json_file).resolve())]
    if strict:
        args.append("--plugrad-strict")
    if exitfirst:
        args.append("-x")
    if verbose:
        args.append("-v")
    return args + list(extra)


def missing_tools() -> list:
    import importlib.util
    return [dist for module, dist in NEEDS if importlib.util.find_spec(module) is None]


def run(backend: str | None = None, **options) -> int:
    """Run the suite on `backend`; the exit status (0 pass, 1 failures, 2 unusable, 5 none)."""
    missing = missing_tools()
    if missing:
        print(f"plugrad conformance needs {', '.join(missing)}: "
              f"pip install \"plugrad[conformance]\" (or pip install {' '.join(missing)})",
              file=sys.stderr)
        return 2
    from .target import resolve
    try:
        target = resolve(backend)
    except Exception as err:
        print(f"plugrad conformance: backend {backend!r} cannot be used: {err}", file=sys.stderr)
        return 2
    version = getattr(target.backend, "version", "")
    print(f"plugrad conformance suite on backend {target.spec!r}"
          + (f" ({version})" if version else ""), flush=True)
    import pytest
    return int(pytest.main(pytest_args(backend, **options)))


def main(args: argparse.Namespace) -> int:
    return run(args.backend, op=args.op, only=args.only, keyword=args.keyword,
               exitfirst=args.exitfirst, verbose=args.verbose, extra=args.pytest_arg,
               json_file=args.json_file, strict=args.strict)
