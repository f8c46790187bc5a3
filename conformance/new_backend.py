"""`plugrad new-backend NAME`: write the package of a new backend plugin, ready to fill in.

The package it writes (`plugrad-NAME/`) has everything a backend needs to be
found, tested and published:

* `pyproject.toml`, with the entry point in the group `plugrad.backends`
  (the only way plugrad learns about a backend);
* `src/plugrad_NAME/__init__.py`: the hook, and a factory that raises
  `BackendUnavailable` when the array library is missing. It starts as
  plugrad's generic Array API backend on the library's namespace, a working
  backend for any library that follows the standard, to be specialised
  kernel by kernel;
* `tests/test_conformance.py`: runs `plugrad conformance NAME` (the whole
  suite) and checks that the entry point registers the backend;
* `tox.ini` and `.github/workflows/ci.yml`, which run those tests.

docs/writing-a-backend.md walks through the result.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

__all__ = ["add_parser", "write_package", "main"]

PYPROJECT = '''\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "A plugrad backend on {module}"
readme = "README.md"
requires-python = ">=3.10"
dependencies = ["plugrad", "{module}"]

[project.optional-dependencies]
test = ["plugrad[conformance]", "pytest>=7"]

# the only way plugrad learns about this backend: an entry point in its group
[project.entry-points."plugrad.backends"]
{name} = "{package}"

[tool.setuptools.packages.find]
where = ["src"]
'''

PACKAGE = '''\
"""A plugrad backend on {module}, registered as {name!r}.

plugrad imports this module when it scans for plugins (`plugrad backends`, or
a backend name it does not know yet): keep it light, and import {module} only
in the factory, which runs the first time the backend is used.
"""
from __future__ import annotations

from plugrad.hookspecs import BackendSpec, BackendUnavailable, hookimpl

__version__ = "0.1.0"
NAME = {name!r}


def make_backend():
    """The backend; BackendUnavailable (the reason `plugrad backends` shows) when {module}
    cannot be used here."""
    try:
        import {module} as library
    except ImportError as err:
        raise BackendUnavailable(f"{module} is not installed ({{err}})") from None
    from plugrad.backends.array_api import ArrayAPIBackend

    class Backend(ArrayAPIBackend):
        """plugrad's generic Array API backend on {module}: override kernels here (see
        plugrad.backend.KERNELS) where {module} does better than the standard's functions."""

        # process-wide switches the backend sets when it is made, each with why: they
        # change {module} for everyone in the process, so `plugrad backends` lists them
        process_switches: dict = {{}}

        @property
        def conformance_skips(self) -> dict:
            """What the backend cannot do yet, each with its reason: `kernel:NAME` for a
            kernel it lacks, `OP@gradient` for one stage of an op, a case id... (see
            docs/conformance.md). The inherited ones are the dtypes {module} lacks."""
            return {{**super().conformance_skips}}

    return Backend(library, NAME, str(getattr(library, "__version__", "")))


@hookimpl
def plugrad_backends():
    return [BackendSpec(NAME, make_backend, "{module} arrays (plugrad-{name})")]
'''

TEST = '''\
"""The backend, installed: registered through its entry point, and conformant.

Run with the package installed: python -m pytest tests
"""
from __future__ import annotations

import subprocess
import sys

from plugrad import backends

NAME = {name!r}


def test_it_is_registered_through_the_entry_point():
    row = next(r for r in backends.status() if r.name == NAME)
    assert row.status == "ready", row.reason
    assert row.package.startswith("{dist} ")


def test_the_conformance_suite_passes():
    # in a subprocess, as a user runs it: the suite prints its summary and a verdict
    done = subprocess.run([sys.executable, "-m", "plugrad", "conformance", NAME],
                          capture_output=True, text=True)
    print(done.stdout[-6000:], done.stderr[-3000:])
    assert done.returncode == 0, "the conformance suite failed: see its summary above"
    assert "verdict: PASS" in done.stdout
'''

TOX = '''\
[tox]
envlist = py3
skip_missing_interpreters = true

[testenv]
description = the backend's tests: registration and the whole plugrad conformance suite
extras = test
pass_env = PLUGRAD_*
set_env =
    PLUGRAD_STRICT_PLUGINS = 1
commands =
    plugrad backends
    python -m pytest {{posargs:tests}}
'''

WORKFLOW = '''\
name: tests
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        python-version: ["3.10", "3.12"]
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: ${{{{ matrix.python-version }}}}
      - run: python -m pip install tox
      - run: tox -e py3
'''

README = '''\
# {dist}

A [plugrad](https://github.com/) backend on {module}, registered as `{name}`.

```console
$ python -m pip install -e ".[test]"
$ plugrad backends                 # {name} is listed as ready
$ plugrad conformance {name}       # the shared conformance suite, with a per-op summary
$ tox                              # the same, in a fresh environment
```
'''

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def write_package(name: str, folder: Path, module: str | None = None) -> Path:
    """Write the package of backend `name` (on the array library `module`, default `name`)
    into folder/plugrad-NAME; the path of the package. Refuses to overwrite one."""
    if not _NAME.match(name):
        raise ValueError(f"a backend name for a new package must be a Python identifier "
                         f"(letters, digits, _), not {name!r}")
    module = module or name
    if not all(_NAME.match(part) for part in module.split(".")):
        raise ValueError(f"{module!r} is not a module name")
    dist = f"plugrad-{name.replace('_', '-')}"
    package = f"plugrad_{name}"
    root = Path(folder) / dist
    if root.exists():
        raise FileExistsError(f"{root} exists already: choose another --dir or remove it")
    values = {"name": name, "module": module, "dist": dist, "package": package}
    files = {
        "pyproject.toml": PYPROJECT, "README.md": README, "tox.ini": TOX,
        f"src/{package}/__init__.py": PACKAGE, "tests/test_conformance.py": TEST,
        ".github/workflows/ci.yml": WORKFLOW,
    }
    for path, template in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(template.format(**values), encoding="utf-8")
    return root


def add_parser(sub) -> argparse.ArgumentParser:
    """Add the `new-backend` subcommand to the `plugrad` command's subparsers."""
    p = sub.add_parser("new-backend", help="write the package of a new backend plugin "
                                           "(entry point, factory, tests, tox, CI)",
                       description="Write plugrad-NAME/, the package of a backend plugin "
                                   "on an array library: pyproject.toml with the entry "
                                   "point, a factory raising BackendUnavailable when the "
                                   "library is missing, a test that runs the conformance "
                                   "suite, tox.ini and a GitHub Actions workflow.")
    p.add_argument("name", help="the backend's name (a Python identifier)")
    p.add_argument("--dir", default=".", help="where to write plugrad-NAME/ (default: here)")
    p.add_argument("--module", help="the array library's module (default: NAME)")
    p.set_defaults(func=main)
    return p


def main(args: argparse.Namespace) -> int:
    try:
        root = write_package(args.name, Path(args.dir), args.module)
    except (ValueError, FileExistsError) as err:
        print(f"plugrad new-backend: {err}", file=sys.stderr)
        return 2
    print(f"wrote {root}\nnext: cd {root} && python -m pip install -e '.[test]' && "
          f"plugrad conformance {args.name}")
    return 0
