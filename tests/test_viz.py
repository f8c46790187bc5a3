"""plugrad.viz: DOT text of the backward graph, and rendering where Graphviz exists."""
from __future__ import annotations

import doctest
import re
import shutil

import plugrad as pg
import pytest
from plugrad import viz
from plugrad.autograd import Function


def nodes(dot: str) -> dict:
    """node id -> label, from the DOT text."""
    return {m[0]: m[1].replace("\\n", "\n")
            for m in re.findall(r'^\s*(n\d+) \[label="((?:[^"\\]|\\.)*)"', dot, re.M)}


def edges(dot: str) -> list:
    return re.findall(r"^\s*(n\d+) -> (n\d+)( \[style=dashed\])?;", dot, re.M)


def by_label(dot: str, text: str) -> str:
    (nid,) = [k for k, v in nodes(dot).items() if v.startswith(text)]
    return nid


def test_graph_of_the_seed_example():
    x = pg.tensor(1.0, requires_grad=True)
    z = x ** 2 + 3
    dot = viz.graph(z, params={"x": x})
    assert dot.startswith("digraph plugrad {") and dot.rstrip().endswith("}")
    assert sorted(nodes(dot).values()) == sorted([
        "output\n()", "AddBackward0", "PowBackward0", "x\n()\nrequires_grad=True",
        "saved\n2", "saved\n()"])  # pow keeps its exponent and its output
    out, add, pow_, leaf, two = (by_label(dot, s) for s in (
        "output", "AddBackward0", "PowBackward0", "x\n", "saved\n2"))
    assert {(add, out, ""), (pow_, add, ""), (leaf, pow_, ""), (leaf, pow_, " [style=dashed]"),
            (two, pow_, " [style=dashed]")} <= set(edges(dot))


def test_saved_tensors_are_shown_with_shapes_and_dashed_edges():
    w = pg.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    c = pg.tensor([[1.0], [2.0]])
    y = (c * w).sum()
    dot = viz.graph(y, params={"w": w})
    labels = nodes(dot)
    mul = by_label(dot, "MulBackward0")
    constant = by_label(dot, "saved\n(2, 1)")
    assert "requires_grad=False" in labels[constant]
    leaf = by_label(dot, "w\n(1, 3)")
    found = set(edges(dot))
    assert (constant, mul, " [style=dashed]") in found
    assert (leaf, mul, " [style=dashed]") in found  # w is saved too: same box as the leaf
    assert (leaf, mul, "") in found


def test_freed_saved_tensors_say_so():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp()).sum()
    y.backward()
    assert "saved: freed" in viz.graph(y)


def test_unnamed_leaves_and_several_outputs():
    a = pg.tensor([1.0], requires_grad=True)
    b = pg.tensor([2.0], requires_grad=True)
    dot = viz.graph([a * b, (a + b).exp()])
    labels = list(nodes(dot).values())
    assert "output 0\n(1,)" in labels and "output 1\n(1,)" in labels
    assert labels.count("leaf\n(1,)\nrequires_grad=True") == 2


def test_a_shared_subgraph_is_drawn_once():
    x = pg.tensor([1.0], requires_grad=True)
    h = x.exp()
    dot = viz.graph(h * h + h)
    assert list(nodes(dot).values()).count("ExpBackward0") == 1


def test_custom_function_shows_its_name_and_output_shapes():
    class Split(Function):
        @staticmethod
        def forward(ctx, x):
            return x[:1] * 1, x[1:] * 1

        @staticmethod
        def backward(ctx, a, b):
            return pg.cat([a, b])

    x = pg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a, b = Split.apply(x)
    dot = viz.graph(a.sum() + b.sum())
    labels = list(nodes(dot).values())
    assert labels.count("SplitBackward\n-> (1,), (2,)") == 1  # both outputs: one op box


def test_a_leaf_output_and_bad_arguments():
    x = pg.tensor([1.0], requires_grad=True)
    assert "rounded,filled" in viz.graph(x)
    with pytest.raises(TypeError, match="expected a Tensor"):
        viz.graph([x, 3])


def test_labels_are_escaped():
    x = pg.tensor([1.0], requires_grad=True)
    dot = viz.graph(x * 2, params={'say "hi"\\': x})
    assert r'say \"hi\"\\' in dot


def test_render_needs_dot(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    x = pg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="Graphviz 'dot' program"):
        viz.graph(x * 2).render(str(tmp_path / "g.svg"))
    with pytest.raises(ValueError, match="format"):
        viz.render(x * 2, str(tmp_path / "g.gif"), format="gif")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
@pytest.mark.parametrize("fmt, magic", [("svg", b"<?xml"), ("png", b"\x89PNG")])
def test_render_writes_a_picture(tmp_path, fmt, magic):
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    path = viz.graph((x * x).sum(), {"x": x}).render(str(tmp_path / f"g.{fmt}"), format=fmt)
    assert open(path, "rb").read()[:5].startswith(magic[:4])


def test_docstring_examples():
    result = doctest.testmod(viz, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
