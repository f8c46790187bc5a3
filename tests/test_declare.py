"""The op declarations (core/declare.py): every public op comes from exactly one, and
what plugrad exposes, the conformance op table and the docs all agree with them."""
from __future__ import annotations

import importlib
import pathlib
import re

import plugrad as pg
import pytest
from plugrad.conformance import op_table
from plugrad.declare import DECLARED, Ops, public_names

DOCS = pathlib.Path(pg.__file__).parent.parent / "docs"


def test_every_public_op_is_declared():
    # what plugrad really exposes (plugrad.* functions of the op modules, Tensor members),
    # less what the op table documents as not being an op, must all come from declarations
    declared = set(public_names())
    undeclared = [n for n in op_table.public_ops()
                  if n not in declared and n not in op_table.NOT_OPS]
    assert not undeclared, f"public ops without a declaration: {undeclared}"


def test_every_declared_op_has_an_op_table_entry():
    covered = op_table.covered_names()
    missing = [n for n in public_names() if n not in covered and n not in op_table.NOT_OPS]
    assert not missing, f"declared ops that no op-table sample calls: {missing}"


def _documented_names() -> set:
    text = "\n".join(p.read_text() for p in DOCS.glob("*.md"))
    names = set(re.findall(r"`(?:pg\.|x\.|plugrad\.)?([A-Za-z_][A-Za-z0-9_]*)", text))
    # a namespace's functions: `pg.linalg.inv` or `linalg.inv`
    return names | set(re.findall(r"`(?:pg\.|plugrad\.)?(linalg\.[A-Za-z_][A-Za-z0-9_]*)", text))


@pytest.mark.skipif(not DOCS.is_dir(), reason="the docs are in the source checkout only")
def test_every_declared_op_is_mentioned_in_the_docs():
    documented = _documented_names()
    missing = sorted({op.method or op.name for op in DECLARED.values()
                      if not op.name.startswith("_") and (op.method or op.name) not in documented
                      and not (op.operators and not op.function and op.method is None)})
    assert not missing, f"declared ops that no docs page names (docs/api.md): {missing}"


def test_functions_methods_and_in_place_variants_agree_with_the_declarations():
    problems = []
    for op in DECLARED.values():
        exported = getattr(pg, op.name, None) if op.namespace is None else \
            getattr(getattr(pg, op.namespace), op.name.split(".", 1)[1], None)
        if op.function and exported is not op.fn:
            problems.append(f"plugrad.{op.name} is not the declared function")
        if not op.function and exported is op.fn:
            problems.append(f"plugrad.{op.name} exists but is declared method-only")
        if op.method is not None and getattr(pg.Tensor, op.method, None) is not op.method_fn:
            problems.append(f"Tensor.{op.method} is not the declared method")
        if op.inplace is not None:
            variant = getattr(pg.Tensor, op.inplace, None)
            if variant is None or variant.__name__ != op.inplace:
                problems.append(f"Tensor.{op.inplace} is missing")
        for dunder, fn in op.operators.items():
            if getattr(pg.Tensor, dunder) is not (op.fn if fn is None else fn):
                problems.append(f"Tensor.{dunder} is not what {op.name} declares")
        if op.inplace_operator is not None and \
                getattr(pg.Tensor, op.inplace_operator) is not getattr(pg.Tensor, op.inplace):
            problems.append(f"Tensor.{op.inplace_operator} is not Tensor.{op.inplace}")
    assert not problems, "\n".join(problems)


def test_every_in_place_method_is_declared():
    declared = {op.inplace for op in DECLARED.values()} | \
        {op.method for op in DECLARED.values()}
    methods = [n for n in dir(pg.Tensor)
               if n.endswith("_") and not n.startswith("_") and callable(getattr(pg.Tensor, n))]
    stray = [n for n in methods if n not in declared and f"Tensor.{n}" not in op_table.NOT_OPS]
    assert not stray, f"in-place methods without a declaration: {stray}"


@pytest.mark.parametrize("module", sorted({op.module for op in DECLARED.values()}))
def test_each_op_modules_all_is_its_declared_functions(module):
    mod = importlib.import_module(module)
    functions = [op.name for op in DECLARED.values()
                 if op.module == module and op.function and op.namespace is None]
    assert sorted(mod.__all__) == sorted(functions)
    for name in functions:
        assert getattr(mod, name) is DECLARED[name].fn, name


def test_namespace_functions_are_exported_by_the_namespace_only():
    # plugrad.linalg.inv is the declared function; plugrad.inv does not exist (torch has none)
    found = [op for op in DECLARED.values() if op.namespace is not None]
    assert {op.namespace for op in found} == {"linalg"}
    for op in found:
        short = op.name.split(".", 1)[1]
        assert getattr(pg.linalg, short) is op.fn, op.name
        if not any(o.namespace is None and o.fn is op.fn for o in DECLARED.values()):
            assert not hasattr(pg, short) or getattr(pg, short) is not op.fn, op.name


def test_a_namespace_declaration_keys_by_its_qualified_name():
    ops = Ops("tests.fake_namespace_module")
    try:
        ops.declare(lambda x: x, name="fake_op", namespace="linalg", method=False)
        op = DECLARED["linalg.fake_op"]
        assert op.public_names() == ["linalg.fake_op"] and op.namespace == "linalg"
        assert ops.exported() == []
    finally:
        DECLARED.pop("linalg.fake_op", None)


def test_a_name_cannot_be_declared_twice():
    ops = Ops("tests.fake_module")
    with pytest.raises(RuntimeError, match="declared twice"):
        ops.declare(lambda x: x, name="exp")
    assert DECLARED["exp"].module == "plugrad.pointwise"


def test_declaration_defaults():
    exp = DECLARED["exp"]
    assert (exp.function, exp.method, exp.inplace) == (True, "exp", "exp_")
    assert DECLARED["clip"].fn is DECLARED["clamp"].fn and DECLARED["clip"].inplace == "clip_"
    assert DECLARED["float"].function is False and DECLARED["float"].method == "float"
    assert DECLARED["getitem"].public_names() == ["Tensor.__getitem__"]
    assert "Tensor.__iadd__" in DECLARED["add"].public_names()
