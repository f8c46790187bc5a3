"""The `plugrad` command (also `python -m plugrad`)."""
from __future__ import annotations

import argparse
import sys


def tour(args: argparse.Namespace) -> int:
    """Run the documented autograd examples and show what each prints."""
    from plugrad import backends
    from plugrad.conformance.examples import EXAMPLES, run

    name = args.backend or backends.default().name
    print(f"plugrad tour on the {name!r} backend: the documented autograd examples\n")
    failures = 0
    for i, example in enumerate(EXAMPLES, 1):
        print(f"[{i}/{len(EXAMPLES)}] {example.title}")
        print("    " + example.code.rstrip().replace("\n", "\n    "))
        printed = run(example, args.backend)
        print("  output:")
        print("    " + printed.rstrip().replace("\n", "\n    "))
        if printed != example.expected:
            failures += 1
            print("  MISMATCH, documented output:")
            print("    " + example.expected.rstrip().replace("\n", "\n    "))
        print()
    verdict = "all match" if not failures else f"{failures} differ"
    print(f"{len(EXAMPLES)} examples, {verdict} the documented output.")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="plugrad", description="PyTorch-style autograd on pluggable array backends.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_tour = sub.add_parser("tour", help="run the documented autograd examples and print results")
    p_tour.add_argument("--backend", help="backend to run on (default: the default backend)")
    p_tour.set_defaults(func=tour)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
