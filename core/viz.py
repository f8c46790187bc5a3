"""Pictures of the backward graph: Graphviz DOT text, and SVG/PNG where Graphviz is installed.

`graph(y)` walks the graph below `y` the way backward would and describes it:

- the output tensor(s), with their shapes (green);
- one box per recorded op, named like its grad_fn (`MulBackward0`), with the
  output shape where the node knows it (custom Functions do);
- what each op saved for backward (dashed edges): the results of other ops and
  the leaves are drawn from their own boxes, anything else (constants, arrays,
  numbers) gets an orange box with its shape; "freed" once a backward without
  retain_graph released them;
- the leaves that require grad (blue), named when `params` names them.

Edges point the way the forward computation went, from inputs to results.
DOT is plain text: paste it into any Graphviz viewer, or call `.render(path)`
when the `dot` program is on PATH (`apt-get install graphviz`, `brew install
graphviz`, ...); Graphviz is not a dependency of plugrad.

>>> import plugrad as pg
>>> w = pg.tensor([1.0, 2.0], requires_grad=True)
>>> y = (w * 3).sum()
>>> print(pg.viz.graph(y, params={"w": w}).splitlines()[0])
digraph plugrad {
"""
from __future__ import annotations

import shutil

from .graph import AccumulateGrad
from .tensor import Tensor

__all__ = ["graph", "render", "Graph"]

_STYLE = {
    "output": 'shape=box, style="rounded,filled", fillcolor="#d4edbc"',
    "op": 'shape=box, style="filled", fillcolor="#e8e8e8"',
    "leaf": 'shape=box, style="rounded,filled", fillcolor="#cfe2f3"',
    "saved": 'shape=box, style="rounded,filled", fillcolor="#fce5cd", fontsize=10',
}


class Graph(str):
    """DOT source text of a backward graph; `render` turns it into an SVG or PNG file."""

    def render(self, path: str, format: str = "svg") -> str:  # noqa: A002 - graphviz's name
        """Write the picture to `path` with Graphviz's `dot`; returns path."""
        return render(self, path, format)

    def _repr_svg_(self):
        """Inline picture in Jupyter when Graphviz is installed."""
        dot = shutil.which("dot")
        if dot is None:
            return None
        import subprocess
        done = subprocess.run([dot, "-Tsvg"], input=str(self), capture_output=True, text=True)
        return done.stdout if done.returncode == 0 else None


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _shape(x) -> str:
    shape = getattr(x, "shape", None)
    return "" if shape is None else str(tuple(int(s) for s in shape))


def _main(node):
    """The node to draw for `node`: a multi-output Function's routing node draws as the op."""
    main = getattr(type(node), "main", None)
    return node.inputs[0] if main is not None else node


def _op_label(node) -> str:
    label = node.name()
    meta = getattr(node.args, "_output_meta", None)  # a custom Function's ctx knows them
    if meta:
        shapes = [str(tuple(m[0])) for m in meta if m is not None]
        if shapes:
            label += "\n-> " + ", ".join(shapes)
    return label


def _saved_entries(node) -> list | None:
    """The saved values of a node, or None once freed."""
    saved = node.saved
    if saved is None:
        return None
    return [s for s in saved if s is not None]


def graph(tensor, params: dict | None = None) -> Graph:
    """DOT text of the backward graph below `tensor` (a tensor or a sequence of them).

    `params` maps names to tensors (model.named_parameters() works): leaves
    and saved tensors found among them are labelled with their names.
    """
    roots = [tensor] if isinstance(tensor, Tensor) else list(tensor)
    names = {id(t): name for name, t in dict(params or {}).items()}
    lines = ["digraph plugrad {", "  graph [rankdir=TB, fontname=Helvetica];",
             "  node [fontname=Helvetica, fontsize=11];", "  edge [fontname=Helvetica];"]
    ids: dict = {}

    def node_id(key) -> str:
        if key not in ids:
            ids[key] = f"n{len(ids)}"
        return ids[key]

    def add(key, label: str, kind: str) -> str:
        nid = node_id(key)
        lines.append(f"  {nid} [label={_quote(label)}, {_STYLE[kind]}];")
        return nid

    def tensor_label(t: Tensor, default: str) -> str:
        return f"{names.get(id(t), default)}\n{_shape(t)}"

    def leaf_box(t: Tensor) -> str:
        return add(("tensor", id(t)), tensor_label(t, "leaf") + "\nrequires_grad=True", "leaf")

    stack, drawn = [], set()
    for i, t in enumerate(roots):
        if not isinstance(t, Tensor):
            raise TypeError(f"graph(): expected a Tensor, got {type(t).__name__}")
        out = add(("out", i), tensor_label(t, "output" if len(roots) == 1 else f"output {i}"),
                  "output")
        fn = t.grad_fn
        if fn is None:
            if t._rg:
                lines[-1] = lines[-1].replace(_STYLE["output"], _STYLE["leaf"])
            continue
        lines.append(f"  {node_id(_key(_main(fn)))} -> {out};")
        stack.append(_main(fn))
    while stack:
        node = stack.pop()
        if node in drawn:
            continue
        drawn.add(node)
        nid = node_id(_key(node))
        if type(node) is AccumulateGrad:
            leaf_box(node.variable)
            continue
        lines.append(f"  {nid} [label={_quote(_op_label(node))}, {_STYLE['op']}];")
        saved = _saved_entries(node)
        if saved is None:
            sid = add(("freed", nid), "saved: freed", "saved")
            lines.append(f"  {sid} -> {nid} [style=dashed];")
        else:
            for s in saved:
                if isinstance(s, Tensor) and s.grad_fn is None and s._rg:
                    sid = leaf_box(s)  # a leaf that requires grad: its own box
                elif isinstance(s, Tensor) and s.grad_fn is not None:
                    producer = _main(s.grad_fn)  # the output of another op: drawn from it
                    sid = node_id(_key(producer))
                    stack.append(producer)
                else:
                    sid = add(("saved", id(s)), _saved_label(s, names), "saved")
                lines.append(f"  {sid} -> {nid} [style=dashed];")
        for nxt in node.inputs:
            if nxt is not None:
                nxt = _main(nxt)
                lines.append(f"  {node_id(_key(nxt))} -> {nid};")
                stack.append(nxt)
    lines.append("}")
    return Graph("\n".join(_dedupe(lines)) + "\n")


def _key(node):
    """Leaves are keyed by their tensor, so a saved leaf and its AccumulateGrad share a box."""
    return ("tensor", id(node.variable)) if type(node) is AccumulateGrad else node


def _saved_label(s, names: dict) -> str:
    if isinstance(s, Tensor):
        label = f"{names.get(id(s), 'saved')}\n{_shape(s)}"
        return label + ("\nrequires_grad=False" if not s._rg else "")
    if hasattr(s, "shape"):  # a raw array
        return f"saved\n{_shape(s)}"
    if hasattr(s, "data"):  # a custom Function's saved output
        return f"saved output\n{_shape(s._array)}"
    return f"saved\n{s!r}" if isinstance(s, (int, float, bool)) else f"saved\n{type(s).__name__}"


def _dedupe(lines: list) -> list:
    """Drop repeated node definitions and edges (a saved tensor shared by two ops)."""
    seen, kept = set(), []
    for line in lines:
        if line in seen and line.strip() != "}":
            continue
        seen.add(line)
        kept.append(line)
    return kept


def render(source, path: str, format: str = "svg") -> str:  # noqa: A002 - graphviz's name
    """Write a picture of `source` (a Graph, DOT text, or a tensor) to `path`; returns path.

    Needs Graphviz's `dot` program; raises RuntimeError saying how to get it otherwise.
    """
    if isinstance(source, Tensor):
        source = graph(source)
    if format not in ("svg", "png", "pdf"):
        raise ValueError(f"render(): format must be 'svg', 'png' or 'pdf', got {format!r}")
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError("render() needs the Graphviz 'dot' program on PATH (for example "
                           "apt-get install graphviz, or brew install graphviz); the DOT text "
                           "itself is available without it: print(plugrad.viz.graph(y))")
    import subprocess  # only when rendering: keep `import plugrad` light
    done = subprocess.run([dot, f"-T{format}", "-o", str(path)], input=str(source),
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"dot failed: {done.stderr.strip()}")
    return str(path)
