"""The `plugrad` command (also `python -m plugrad`)."""
from __future__ import annotations

import argparse
import importlib.util
import os
import pathlib
import sys

from plugrad import __version__, backends
from plugrad.bench_dashboard import compare, write_page

from .demo import add_parser as add_demo_parser


def tour(args: argparse.Namespace) -> int:
    """Run the documented autograd examples and show what each prints."""
    if importlib.util.find_spec("sybil") is None:  # it reads the examples from the docs page
        print("plugrad tour needs sybil, which reads the examples from the docs: "
              "pip install \"plugrad[conformance]\" (or pip install sybil)", file=sys.stderr)
        return 2
    from plugrad.conformance.examples import EXAMPLES, matches, run

    name = args.backend or backends.default().name
    print(f"plugrad tour on the {name!r} backend: the documented autograd examples\n")
    failures = 0
    for i, example in enumerate(EXAMPLES, 1):
        print(f"[{i}/{len(EXAMPLES)}] {example.title}")
        print("    " + example.code.rstrip().replace("\n", "\n    "))
        printed = run(example, args.backend)
        print("  output:")
        print("    " + printed.rstrip().replace("\n", "\n    "))
        if not matches(example, printed, name):  # numbers within the suite's tolerance
            failures += 1
            print("  MISMATCH, documented output:")
            print("    " + example.expected.rstrip().replace("\n", "\n    "))
        print()
    verdict = "all match" if not failures else f"{failures} differ"
    print(f"{len(EXAMPLES)} examples, {verdict} the documented output.")
    return 1 if failures else 0


def list_backends(args: argparse.Namespace) -> int:
    """Print every backend found: name, version, package, and ready or why not."""
    import warnings

    from plugrad.backends.registry import format_table
    try:
        with warnings.catch_warnings():  # each fault is a row of the table already
            warnings.simplefilter("ignore", backends.PluginWarning)
            rows = backends.status()
    except backends.PluginError as err:  # PLUGRAD_STRICT_PLUGINS=1: every fault, each
        print(format_table(backends.status()))  # with its traceback, after the table
        print(f"\nplugrad backends: {err}", file=sys.stderr)
        return 1
    print(format_table(rows))
    return 0


# -- bench: the benchmark suite, which lives in a source checkout (benchmarks/, run by its
# bench_cli.py), and its dashboard (plugrad.bench_dashboard, which ships in the package) --
def _is_checkout(base: pathlib.Path) -> bool:
    return (base / "benchmarks" / "bench_cli.py").is_file()


def _bench_root(root: str | None) -> tuple[pathlib.Path | None, str]:
    """The source checkout `plugrad bench` works in, and what named it: --root, else
    PLUGRAD_BENCH_ROOT, else the checkout this plugrad is installed from (an editable
    install), else the current directory if it is one. (None, "") outside a checkout."""
    for given, source in ((root, "--root"),
                          (os.environ.get("PLUGRAD_BENCH_ROOT"), "PLUGRAD_BENCH_ROOT")):
        if given:  # named explicitly: used (and checked by the caller) even if it is wrong
            return pathlib.Path(given).resolve(), source
    for base in (pathlib.Path(__file__).resolve().parents[1], pathlib.Path.cwd()):
        if _is_checkout(base):
            return base, ""
    return None, ""


def _bench_missing(root: pathlib.Path | None, source: str) -> list[str]:
    """What the timed suite needs and this environment lacks, one line each."""
    missing = []
    if root is None:
        missing.append(f"a plugrad source checkout, whose benchmarks/ folder is the suite: not "
                       f"found (no --root, no PLUGRAD_BENCH_ROOT, and neither the installed "
                       f"package's folder nor the current directory {os.getcwd()} is one)")
    elif not _is_checkout(root):
        missing.append(f"a plugrad source checkout: {source} names {root}, which has no "
                       f"benchmarks/bench_cli.py")
    lacking = [dist for module, dist in (("pytest", "pytest"),
                                         ("pytest_benchmark", "pytest-benchmark"))
               if importlib.util.find_spec(module) is None]
    if lacking:
        missing.append(f"{' and '.join(lacking)}: not installed for {sys.executable}")
    return missing


def bench(args: argparse.Namespace) -> int:
    """Run the timed benchmark suite and save it, or render the dashboard."""
    root, source = _bench_root(args.root)
    if args.bench_command in ("dashboard", "compare"):  # saved runs only, not a checkout
        storage = args.storage or os.path.join(root or os.getcwd(), ".benchmarks")
        if args.bench_command == "compare":
            return compare(storage, args.runs, args.fail_above)
        return write_page(storage, args.out)
    missing = _bench_missing(root, source)
    if missing:
        if root is not None and _is_checkout(root):  # only the test tools are missing
            remedy = ("To run it: `python -m pip install pytest pytest-benchmark` (or "
                      f"`python -m pip install '.[test]'` in {root}).")
        else:
            remedy = ("To run it: clone the plugrad repository, run `python -m pip install "
                      "'.[test]'` in the clone and `plugrad bench` there (or pass --root PATH "
                      "to a checkout).")
        print("plugrad bench: cannot run the benchmark suite here; it needs\n"
              + "".join(f"  - {line}\n" for line in missing) + remedy
              + "\n`plugrad bench dashboard --storage DIR` renders runs saved earlier without "
                "a checkout.", file=sys.stderr)
        return 2
    spec = importlib.util.spec_from_file_location(
        "plugrad_bench_cli", root / "benchmarks" / "bench_cli.py")
    bench_cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_cli)
    return bench_cli.run(args)


def _add_bench_parser(sub) -> None:
    p = sub.add_parser("bench", help="time the benchmark suite on every ready eager backend, "
                                     "save it (pytest-benchmark autosave) and render the "
                                     "dashboard; compare saved runs",
                       description="Run the benchmarks/ folder of a plugrad source checkout "
                       "timed (pytest-benchmark) for every ready eager backend next to the "
                       "NumPy floor and torch, save the results as "
                       "STORAGE/<machine>/NNNN_<commit>_<date>.json, and render "
                       "STORAGE/dashboard.html. Lazy backends (dask) are left out of the "
                       "workloads, whose chains they would turn into graphs thousands of tasks "
                       "deep: --dask times W3x100 on dask with a LocalCluster, --backend dask "
                       "the workloads. Needs the checkout and pytest-benchmark "
                       "(pip install '.[test]' in it). 'plugrad bench dashboard' renders the "
                       "page from saved runs and 'plugrad bench compare' compares two of them; "
                       "they need neither.")
    p.add_argument("--backend", action="append", metavar="NAME",
                   help="benchmark this backend (repeatable; default: every ready eager "
                        "backend, i.e. all but dask)")
    p.add_argument("--storage", help="where runs are saved (default: <checkout>/.benchmarks, "
                                     "or ./.benchmarks outside a checkout)")
    p.add_argument("--root", help="the plugrad checkout holding benchmarks/ (default: found)")
    p.add_argument("--out", help="the dashboard file (default: STORAGE/dashboard.html)")
    p.add_argument("-k", metavar="EXPR", help="only the benchmarks matching (pytest -k)")
    p.add_argument("--max-time", type=float, default=0.5,
                   help="pytest-benchmark's --benchmark-max-time per case (default 0.5 s)")
    p.add_argument("--threads", type=int, help="BLAS/OpenMP threads (1 is steadier)")
    p.add_argument("--no-long", action="store_true", help="skip W4's 1,000,000-op chain")
    p.add_argument("--dask", action="store_true",
                   help="also run W3x100 (W3 on 2e8 floats) on the dask backend with a "
                        "LocalCluster, next to the NumPy floor (needs dask and distributed)")
    p.add_argument("--no-dashboard", action="store_true", help="do not render the page")
    bench_sub = p.add_subparsers(dest="bench_command", metavar="{dashboard,compare}")
    p_dash = bench_sub.add_parser("dashboard", help="render the dashboard from the saved runs")
    for flag in ("--storage", "--root", "--out"):  # also accepted after the word dashboard
        p_dash.add_argument(flag, default=argparse.SUPPRESS, help="as above")
    p_cmp = bench_sub.add_parser(
        "compare", help="print how each ratio changed between two saved runs",
        description="For every plugrad result saved in both runs: its ratio to the NumPy "
        "floor (workloads) or to torch (per op) in each run, the change, and whether it "
        "exceeds the runs' noise. RUN: a run's counter (0003), file name or path, a commit "
        "prefix, or 'latest'; default: the two newest runs of the newest run's machine (one "
        "RUN: it against the newest run).")
    p_cmp.add_argument("runs", nargs="*", metavar="RUN", help="RUN_A RUN_B (default: the two "
                                                              "newest runs)")
    p_cmp.add_argument("--fail-above", type=float, metavar="PCT",
                       help="exit with status 1 when a ratio got worse by more than PCT "
                            "percent (noise or not); without it the status is 0")
    for flag in ("--storage", "--root"):
        p_cmp.add_argument(flag, default=argparse.SUPPRESS, help="as for plugrad bench")
    p.set_defaults(func=bench, bench_command=None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="plugrad", description="PyTorch-style autograd on pluggable array backends.")
    parser.add_argument("--version", action="version", version=f"plugrad {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p_tour = sub.add_parser("tour", help="run the documented autograd examples and print results")
    p_tour.add_argument("--backend", help="backend to run on (default: the default backend)")
    p_tour.set_defaults(func=tour)
    p_backends = sub.add_parser("backends", help="list the backends found and whether each "
                                                 "is ready (or why not)")
    p_backends.set_defaults(func=list_backends)
    # demo: trains an MLP on handwritten digits; its options live in demo.py
    add_demo_parser(sub)
    # conformance: the shared suite on one backend; its options live in conformance/runner.py
    from plugrad.conformance.runner import add_parser as add_conformance_parser
    add_conformance_parser(sub)
    # new-backend: the package of a new backend plugin; it lives in conformance/new_backend.py
    from plugrad.conformance.new_backend import add_parser as add_new_backend_parser
    add_new_backend_parser(sub)
    _add_bench_parser(sub)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
