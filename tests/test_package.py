"""Packaging promises: a backend-neutral core, a light import, a README that CI runs."""
from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import plugrad

ROOT = pathlib.Path(__file__).resolve().parents[1]
ARRAY_LIBRARIES = {"numpy", "cupy", "torch", "jax", "dask", "array_api_strict"}


# core modules that may import an array library inside a function, and which: the
# checkpoint format is NumPy's .npz, so plugrad.save and plugrad.load import NumPy when
# called (never at `import plugrad` time, which the next test checks)
LAZY_ARRAY_IMPORTS = {"serialization.py": {"numpy"}}


def _array_imports(tree: ast.AST) -> list[tuple[str, bool]]:
    """(module, inside a function) for every import of an array library in a parsed module."""
    found = []

    def visit(node, in_function: bool) -> None:
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found.extend((n, in_function) for n in names if n.split(".")[0] in ARRAY_LIBRARIES)
        in_function = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        for child in ast.iter_child_nodes(node):
            visit(child, in_function)

    visit(tree, False)
    return found


def test_core_modules_import_no_array_library():
    # every module of the core package, subpackages (autograd, nn, optim) included; an
    # installed plugrad also holds backends/ and conformance/, which may import NumPy
    core = pathlib.Path(plugrad.__file__).parent
    offenders = []
    for path in core.rglob("*.py"):
        rel = path.relative_to(core)
        if rel.parts[0] in ("backends", "conformance"):
            continue
        allowed = LAZY_ARRAY_IMPORTS.get(rel.as_posix(), set())
        offenders += [f"{rel.as_posix()}: {name}"
                      for name, in_function in _array_imports(ast.parse(path.read_text()))
                      if not (in_function and name.split(".")[0] in allowed)]
    assert offenders == []


def test_import_plugrad_loads_no_array_library():
    code = ("import sys, plugrad; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in %r))" % ARRAY_LIBRARIES)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_ci_runs_the_readme_test_command_verbatim():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    blocks = readme.split("```console\n")[1:]
    commands = [b.split("\n```")[0].strip() for b in blocks]
    test_command = next(c for c in commands if "pytest" in c)
    assert test_command in ci.splitlines()


def test_readme_main_command_is_the_demo():
    readme = (ROOT / "README.md").read_text()
    assert 'python -m pip install ".[demo]" && plugrad demo' in readme


def test_every_subpackage_is_listed_for_installation():
    # pip install . (not -e) ships only the packages pyproject names
    tomllib = __import__("tomllib") if sys.version_info >= (3, 11) else None
    if tomllib is None:
        import pytest
        pytest.skip("tomllib needs Python 3.11")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    roots = {v: k for k, v in config["package-dir"].items()}
    found = set()
    for folder, package in roots.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            found.add(".".join([package, *rel.parts]) if rel.parts else package)
    assert found <= listed, f"not installed: {sorted(found - listed)}"


def test_the_wheel_ships_the_licence_and_the_typing_marker(tmp_path):
    # a user's mypy reads py.typed; a redistributor needs the licence text in the wheel
    import shutil
    import subprocess
    import zipfile

    import pytest
    pytest.importorskip("setuptools")
    src = tmp_path / "src"  # a copy: building writes build/ and egg-info next to the sources
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    for folder in ("core", "backends", "conformance", "docs"):
        shutil.copytree(ROOT / folder, src / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                           "--no-build-isolation", "-q", "-w", str(tmp_path), str(src)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    wheel, = tmp_path.glob("plugrad-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "plugrad/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") or n.endswith("/LICENSE")
               for n in names), names


def test_a_skipped_torch_comparison_says_how_to_run_it():
    import subprocess
    code = ("import sys; sys.modules['torch'] = None; import pytest; sys.exit(pytest.main("
            "['-q', '-rs', '-p', 'no:cacheprovider', "
            "'tests/test_tensor.py::test_data_setter_like_torch']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout and "pip install torch" in done.stdout
