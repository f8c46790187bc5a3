"""Matrix products."""
from __future__ import annotations

from .declare import Ops
from .grad_mode import STATE
from .operands import unbroadcast
from .recording import record
from .tensor import Tensor, _make

ops = Ops(__name__)


def _operands(a, b, op: str) -> None:
    """TypeError unless both are tensors; RuntimeError unless they share dtype and backend.

    torch does not promote in matrix products: mixed dtypes are an error there.
    """
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        raise TypeError(f"{op}(): both arguments must be Tensors, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"{op}: expected m1 and m2 to have the same dtype, but got: "
                           f"{a.dtype.name} != {b.dtype.name}")
    if a.backend is not b.backend:
        raise RuntimeError(f"{op}: expected all tensors on the same backend, but found "
                           f"{a.backend.name!r} and {b.backend.name!r}; move one with .to()")


def _shape_error(a: Tensor, b: Tensor) -> RuntimeError:
    """torch's message for the operand shapes that cannot be multiplied."""
    sa, sb = tuple(a.data.shape), tuple(b.data.shape)
    if len(sa) == 1 and len(sb) == 1:
        return RuntimeError(f"inconsistent tensor size, expected tensor [{sa[0]}] and src "
                            f"[{sb[0]}] to have the same number of elements, but got {sa[0]} "
                            f"and {sb[0]} elements respectively")
    if len(sa) == 2 and len(sb) == 1:
        return RuntimeError(f"size mismatch, got input ({sa[0]}), mat ({sa[0]}x{sa[1]}), "
                            f"vec ({sb[0]})")
    if len(sa) <= 2 and len(sb) == 2:
        rows, cols = sa if len(sa) == 2 else (1, sa[0])
        return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                            f"({rows}x{cols} and {sb[0]}x{sb[1]})")
    return RuntimeError(f"matmul: shapes {list(sa)} and {list(sb)} cannot be multiplied "
                        f"(the last dim of the first must equal the "
                        f"{'only' if len(sb) == 1 else 'second-to-last'} dim of the second, "
                        f"and batch dims must broadcast)")


# torch's matmul dispatches on the operands' dims; its grad_fn names the kernel it ran
_NAMES = {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (2, 2): "MmBackward0",
          (1, 2): "SqueezeBackward4"}


def _rmatmul(a: Tensor, b) -> Tensor:
    """b @ a (Tensor.__rmatmul__)."""
    return matmul(b, a)


@ops.declare(operators={"__matmul__": None, "__rmatmul__": _rmatmul})
def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with torch's rules: 1-D operands are vectors, leading dims broadcast.

    >>> import plugrad as pg
    >>> pg.ones(2, 3) @ pg.ones(3)
    tensor([3., 3.])
    """
    _operands(a, b, "matmul")
    na, nb = a.data.ndim, b.data.ndim
    if na == 0 or nb == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{na}D and {nb}D")
    return _product(a, b, _NAMES.get((na, nb), "UnsafeViewBackward0"))


def _product(a: Tensor, b: Tensor, name: str) -> Tensor:
    bk = a.backend
    try:
        out = _make(bk.matmul(a.data, b.data), a.dtype, bk)
    except ValueError:
        raise _shape_error(a, b) from None
    if STATE.grad_enabled and (a._rg or b._rg):
        record(out, name, _matmul_backward, (a, b), (a, b))
    return out


def _matmul_backward(node, g):
    a, b = node.saved
    na, nb = a.ndim, b.ndim
    ga = gb = None
    if na == 2 and nb == 2 and not STATE.grad_enabled:
        # no graph to record: the two products straight on the arrays
        k, d = g.backend, g.dtype
        if node.inputs[0] is not None:
            ga = _make(k.matmul(g.data, k.permute(b.data, (1, 0))), d, k)
        if node.inputs[1] is not None:
            gb = _make(k.matmul(k.permute(a.data, (1, 0)), g.data), d, k)
        return ga, gb
    if na == 1 and nb == 1:  # a dot product: g is 0-d
        if node.inputs[0] is not None:
            ga = g * b
        if node.inputs[1] is not None:
            gb = g * a
        return ga, gb
    # treat vectors as matrices, as the forward did, then undo it
    a2 = a.unsqueeze(0) if na == 1 else a
    b2 = b.unsqueeze(-1) if nb == 1 else b
    g2 = g
    if na == 1:
        g2 = g2.unsqueeze(-2)
    if nb == 1:
        g2 = g2.unsqueeze(-1)
    if node.inputs[0] is not None:
        ga = unbroadcast(g2 @ b2.mT, tuple(a2.data.shape))
        if na == 1:
            ga = ga.reshape(tuple(a.data.shape))
    if node.inputs[1] is not None:
        gb = unbroadcast(a2.mT @ g2, tuple(b2.data.shape))
        if nb == 1:
            gb = gb.reshape(tuple(b.data.shape))
    return ga, gb


@ops.declare
def mm(a: Tensor, b: Tensor) -> Tensor:
    """Product of two 2-D tensors."""
    _operands(a, b, "mm")
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {a.ndim}-D and {b.ndim}-D")
    return _product(a, b, "MmBackward0")


@ops.declare
def bmm(a: Tensor, b: Tensor) -> Tensor:
    """Batched product of two 3-D tensors with the same batch size (no broadcasting)."""
    _operands(a, b, "bmm")
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor and batch2 must be a 3D tensor "
                           f"(got {a.ndim}-D and {b.ndim}-D)")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{a.shape[0]}, {a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}].")
    return _product(a, b, "BmmBackward0")


@ops.declare
def dot(a: Tensor, b: Tensor) -> Tensor:
    """Inner product of two 1-D tensors of the same length."""
    _operands(a, b, "dot")
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape[0] != b.shape[0]:
        raise _shape_error(a, b)
    return _product(a, b, "DotBackward0")


__all__ = ops.exported()
