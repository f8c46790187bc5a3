"""The `plugrad` command (also `python -m plugrad`)."""
from __future__ import annotations

import argparse
import sys


def tour(args: argparse.Namespace) -> int:
    """Run the documented autograd examples and show what each prints."""
    from plugrad import backends
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

    from plugrad import backends
    from plugrad.backends.registry import format_table
    try:
        with warnings.catch_warnings():  # each fault is a row of the table already
            warnings.simplefilter("ignore", backends.PluginWarning)
            rows = backends.status()
    except backends.PluginError as err:  # PLUGRAD_STRICT_PLUGINS=1 and a plugin is faulty
        print(f"plugrad backends: {err}", file=sys.stderr)
        return 1
    print(format_table(rows))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="plugrad", description="PyTorch-style autograd on pluggable array backends.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_tour = sub.add_parser("tour", help="run the documented autograd examples and print results")
    p_tour.add_argument("--backend", help="backend to run on (default: the default backend)")
    p_tour.set_defaults(func=tour)
    p_backends = sub.add_parser("backends", help="list the backends found and whether each "
                                                 "is ready (or why not)")
    p_backends.set_defaults(func=list_backends)
    # demo: trains an MLP on handwritten digits; its options live in demo.py
    from .demo import add_parser as add_demo_parser
    add_demo_parser(sub)
    # conformance: the shared suite on one backend; its options live in conformance/runner.py
    from plugrad.conformance.runner import add_parser as add_conformance_parser
    add_conformance_parser(sub)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
