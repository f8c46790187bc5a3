"""The import layering of the core package: no circles, each module above what it imports.

LAYERS lists the core's modules from the bottom up. A module may import (at its
top, the only place imports of core modules go) only modules of lower layers;
modules of one layer import each other only where the layer says so, and
never in a circle. No import of a core module sits inside a function body (an optional
third-party library may: matplotlib in the demo), and no `Tensor.name = ...`
appears outside plugrad.methods, the one place that binds methods.
"""
from __future__ import annotations

import ast
import pathlib
import re

import plugrad

CORE = pathlib.Path(plugrad.__file__).parent

# bottom first; "nn.*" stands for every module of the subpackage
LAYERS = [
    ("dtypes", "grad_mode", "backend", "formatting", "declare", "device"),
    ("versions", "hookspecs", "aliases"),
    ("graph",),
    ("tensor",),
    ("random",),
    ("recording", "creation", "operands"),
    ("cuda", "accelerator"),
    ("engine", "indexing"),
    ("inplace",),
    ("shape",),
    ("pointwise",),
    ("reduction", "sampling", "window"),
    ("matrices",),
    ("linalg",),
    ("methods",),
    ("autograd.*", "viz"),
    ("nn.*", "optim.*", "serialization", "utils", "utils.*"),
    ("compile",),
    ("", "bench_dashboard"),   # "" is the package itself (plugrad/__init__.py)
    ("demo",),
    ("cli",),
    ("__main__",),
]


def _modules() -> dict:
    found = {}
    for path in CORE.rglob("*.py"):
        rel = path.relative_to(CORE)
        if rel.parts[0] in ("backends", "conformance", "docs"):
            continue  # an installed plugrad holds these too; they are not the core
        name = ".".join(rel.with_suffix("").parts)
        found["" if name == "__init__" else name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _layer_of(module: str) -> int:
    for i, layer in enumerate(LAYERS):
        for entry in layer:
            if entry == module or (entry.endswith(".*") and
                                   (module + ".").startswith(entry[:-1])):
                return i
    raise AssertionError(f"core module {module!r} is in no layer of tests/test_layers.py: "
                         f"add it to LAYERS where it belongs")


def _targets(module: str, node) -> list:
    """The core modules an import statement in `module` names."""
    is_package = MODULES[module].name == "__init__.py"
    package = module.split(".") if is_package else module.split(".")[:-1]
    if module == "":
        package = []
    names = []
    if isinstance(node, ast.ImportFrom):
        if node.level:
            base = package[:len(package) - node.level + 1]
            mod = ".".join(base + ([node.module] if node.module else []))
        elif node.module and (node.module + ".").startswith("plugrad."):
            mod = node.module.removeprefix("plugrad").lstrip(".")
        elif node.module == "plugrad":
            mod = ""
        else:
            return []
        for alias in node.names:
            sub = f"{mod}.{alias.name}" if mod else alias.name
            names.append(sub if sub in MODULES else mod)
    else:
        for alias in node.names:
            if (alias.name + ".").startswith("plugrad."):
                names.append(alias.name.removeprefix("plugrad").lstrip("."))
    return [n for n in names if n in MODULES and n != module]


def _imports(module: str):
    """(top-level targets, [(line, target) of imports inside functions])."""
    tree = ast.parse(MODULES[module].read_text())
    top = set()
    for node in tree.body:
        for sub in ast.walk(node) if isinstance(node, (ast.If, ast.Try)) else (node,):
            if isinstance(sub, (ast.Import, ast.ImportFrom)):
                top.update(_targets(module, sub))
    inner = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for sub in ast.walk(node):
                if isinstance(sub, (ast.Import, ast.ImportFrom)):
                    inner += [(sub.lineno, t) for t in _targets(module, sub)]
    return top, inner


def test_every_core_module_has_a_layer():
    for module in MODULES:
        _layer_of(module)


def test_modules_import_only_lower_layers():
    wrong = []
    for module in MODULES:
        top, _ = _imports(module)
        mine = _layer_of(module)
        for target in top:
            theirs = _layer_of(target)
            subpackage = target.split(".")[0] == module.split(".")[0] and "." in target + module
            if theirs > mine or (theirs == mine and not subpackage):
                wrong.append(f"{module or 'plugrad'} (layer {mine}) imports {target} "
                             f"(layer {theirs})")
    assert not wrong, "\n".join(wrong)


def test_no_import_circle():
    edges = {m: _imports(m)[0] for m in MODULES}
    state: dict = {}

    def visit(m, path):
        if state.get(m) == "done":
            return
        if state.get(m) == "open":
            cycle = path[path.index(m):] + [m]
            raise AssertionError("import circle: " + " -> ".join(c or "plugrad" for c in cycle))
        state[m] = "open"
        for t in sorted(edges[m]):
            visit(t, path + [m])
        state[m] = "done"

    for m in sorted(MODULES):
        visit(m, [])


def test_no_imports_of_core_modules_inside_functions():
    found = []
    for module in MODULES:
        found += [f"{MODULES[module].name}:{line} imports {t}" for line, t in _imports(module)[1]]
    assert not found, "\n".join(found)


def test_no_e402_exemption():
    pyproject = (CORE.parent / "pyproject.toml")
    if pyproject.is_file():  # a source checkout
        assert "E402" not in pyproject.read_text()


def test_only_plugrad_methods_binds_tensor_methods():
    pattern = re.compile(r"^\s*(Tensor\.\w+\s*=|setattr\(Tensor\b)", re.M)
    offenders = [name for name, path in MODULES.items()
                 if name != "methods" and pattern.search(path.read_text())]
    assert not offenders, f"Tensor methods bound outside plugrad.methods: {offenders}"
