"""Render tensors exactly the way ``repr(torch.Tensor)`` does.

plugrad's core must not import an array library, so this module works on
plain nested Python lists (the output of ``tolist()``) plus a shape and a
value kind.  The layout rules mirror torch's default print options:
precision 4, summarisation above 1000 elements with 3 edge items per
dimension, and an 80-column line width.

Only the values and the suffixes are the caller's concern.  Which suffixes to
pass (``dtype=...``, ``requires_grad=True``, ``grad_fn=<...>``) follows torch:
a dtype is shown when it is not the default float dtype, int64 or bool, and an
empty tensor shows any dtype other than the default float one.  The
``size=(...)`` suffix of empty tensors with ndim != 1 is added here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

PRECISION = 4
THRESHOLD = 1000
EDGEITEMS = 3
LINEWIDTH = 80
_PREFIX = "tensor("


class _Formatter:
    """How every element of one tensor is written, decided once per tensor."""

    # a plain class, not a dataclass: `import plugrad` imports this module, and dataclasses
    # (with inspect behind it) would add milliseconds to that
    __slots__ = ("kind", "int_mode", "sci_mode", "width")

    def __init__(self, kind: str, int_mode: bool = True, sci_mode: bool = False,
                 width: int = 1) -> None:
        self.kind = kind
        self.int_mode = int_mode
        self.sci_mode = sci_mode
        self.width = width

    def format(self, value: Any) -> str:
        if self.kind == "bool":
            text = str(bool(value))
        elif self.kind == "int":
            text = str(int(value))
        else:
            text = self._format_float(float(value))
        # Right-align so that columns line up across rows.
        return text.rjust(self.width)

    def _format_float(self, value: float) -> str:
        if self.sci_mode:
            return f"{value:.{PRECISION}e}"
        if self.int_mode:
            # The trailing dot marks the tensor as floating point; nan and
            # inf need no marker since they cannot be integers anyway.
            text = f"{value:.0f}"
            return text + "." if math.isfinite(value) else text
        return f"{value:.{PRECISION}f}"


def _numel(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def _split_edges(seq: Sequence[Any], summarize: bool) -> tuple[list, list | None]:
    """Return (head, tail); tail is None when nothing is elided."""
    if summarize and len(seq) > 2 * EDGEITEMS:
        return list(seq[:EDGEITEMS]), list(seq[-EDGEITEMS:])
    return list(seq), None


def _shown_values(values: Any, ndim: int, summarize: bool) -> list:
    """Flatten only the elements that will be printed.

    Torch sizes its columns from the visible elements alone, so elided
    values must not influence width, int mode or scientific mode.
    """
    if ndim == 0:
        return [values]
    head, tail = _split_edges(values, summarize)
    rows = head + (tail or [])
    if ndim == 1:
        return rows
    return [v for row in rows for v in _shown_values(row, ndim - 1, summarize)]


def _make_formatter(shown: list, kind: str) -> _Formatter:
    if kind != "float":
        probe = _Formatter(kind)
        return _Formatter(kind, width=max([1] + [len(probe.format(v)) for v in shown]))

    # Like torch, choose the mode and column width from the nonzero finite
    # values only; zeros, nan and inf are then padded to that width.
    floats = [float(v) for v in shown]
    nonzero = [v for v in floats if math.isfinite(v) and v != 0]
    if not nonzero:
        return _Formatter(kind)

    int_mode = all(v == math.ceil(v) for v in nonzero)
    hi = max(abs(v) for v in nonzero)
    lo = min(abs(v) for v in nonzero)
    sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4

    if sci_mode:
        widths = [len(f"{v:.{PRECISION}e}") for v in nonzero]
    elif int_mode:
        widths = [len(f"{v:.0f}") + 1 for v in nonzero]  # +1 for the dot
    else:
        widths = [len(f"{v:.{PRECISION}f}") for v in nonzero]
    return _Formatter(kind, int_mode, sci_mode, max([1] + widths))


def _render_vector(
    values: Sequence[Any], indent: int, summarize: bool, fmt: _Formatter
) -> str:
    # Each element costs its width plus ", "; the ellipsis counts as one slot.
    per_line = max(1, (LINEWIDTH - indent) // (fmt.width + 2))
    head, tail = _split_edges(values, summarize)
    items = [fmt.format(v) for v in head]
    if tail is not None:
        items += [" ..."] + [fmt.format(v) for v in tail]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _render(
    values: Any, ndim: int, indent: int, summarize: bool, fmt: _Formatter
) -> str:
    if ndim == 0:
        return fmt.format(values)
    if ndim == 1:
        return _render_vector(values, indent, summarize, fmt)
    head, tail = _split_edges(values, summarize)
    parts = [_render(row, ndim - 1, indent + 1, summarize, fmt) for row in head]
    if tail is not None:
        parts += ["..."] + [
            _render(row, ndim - 1, indent + 1, summarize, fmt) for row in tail
        ]
    # Higher dimensions are separated by more blank lines (one per level).
    separator = "," + "\n" * (ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(parts) + "]"


def _add_suffixes(text: str, suffixes: Sequence[str], indent: int) -> str:
    pieces = [text]
    # Torch measures the last line two columns longer than it really is;
    # reproduce that so the wrap decision falls at the same place.
    last_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_len + len(suffix) + 2 > LINEWIDTH:
            pieces.append(",\n" + " " * indent + suffix)
            last_len = indent + len(suffix)
        else:
            pieces.append(", " + suffix)
            last_len += len(suffix) + 2
    pieces.append(")")
    return "".join(pieces)


def tensor_repr(
    values: Any, shape: tuple, kind: str, suffixes: Sequence[str] = ()
) -> str:
    """Return what ``repr`` of the equivalent torch tensor prints.

    ``values`` is the nested list from ``tolist()`` (a scalar when the shape
    is ``()``), ``kind`` one of "float", "int", "bool", and ``suffixes`` the
    extra ``key=value`` strings torch would append, in torch's order.
    """
    if kind not in ("float", "int", "bool"):
        raise ValueError(f"unknown kind {kind!r}")
    shape = tuple(int(d) for d in shape)
    suffixes = list(suffixes)
    indent = len(_PREFIX)

    if _numel(shape) == 0:
        body = "[]"
        # Torch spells out the shape of every empty tensor except (0,),
        # since "[]" alone cannot tell (0, 3) from (3, 0).
        if len(shape) != 1 and not any(s.startswith("size=") for s in suffixes):
            suffixes.insert(0, f"size={shape}")
    else:
        summarize = _numel(shape) > THRESHOLD
        fmt = _make_formatter(_shown_values(values, len(shape), summarize), kind)
        body = _render(values, len(shape), indent, summarize, fmt)
    return _add_suffixes(_PREFIX + body, suffixes, indent)
