"""Matrix products."""
from __future__ import annotations

from .grad_mode import STATE
from .pointwise import coerce, unbroadcast
from .recording import record
from .tensor import Tensor, _make

__all__ = ["matmul", "mm", "bmm", "dot"]


def _shape_error(a: Tensor, b: Tensor) -> RuntimeError:
    sa, sb = tuple(a.data.shape), tuple(b.data.shape)
    if len(sa) == 2 and len(sb) == 2:
        return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                            f"({sa[0]}x{sa[1]} and {sb[0]}x{sb[1]})")
    return RuntimeError(f"matmul: shapes {list(sa)} and {list(sb)} cannot be multiplied "
                        f"(the last dim of the first must equal the "
                        f"{'only' if len(sb) == 1 else 'second-to-last'} dim of the second, "
                        f"and batch dims must broadcast)")


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with torch's rules: 1-D operands are vectors, leading dims broadcast.

    >>> import plugrad as pg
    >>> pg.ones(2, 3) @ pg.ones(3)
    tensor([3., 3.])
    """
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        raise TypeError("matmul(): both arguments must be Tensors")
    if a.data.ndim == 0 or b.data.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{a.data.ndim}D and {b.data.ndim}D")
    bk, ad, bd, d = coerce(a, b, "matmul")
    try:
        out = _make(bk.matmul(ad, bd), d, bk)
    except ValueError:
        raise _shape_error(a, b) from None
    if STATE.grad_enabled and (a._rg or b._rg):
        record(out, "MmBackward0" if a.data.ndim == 2 == b.data.ndim else "MatmulBackward0",
               _matmul_backward, (a, b), (a, b))
    return out


def _matmul_backward(node, g):
    a, b = node.saved
    # treat vectors as matrices, as the forward did, then undo it
    a2 = a.unsqueeze(0) if a.ndim == 1 else a
    b2 = b.unsqueeze(-1) if b.ndim == 1 else b
    g2 = g
    if a.ndim == 1:
        g2 = g2.unsqueeze(-2)
    if b.ndim == 1:
        g2 = g2.unsqueeze(-1)
    ga = gb = None
    if node.next_functions[0][0] is not None:
        ga = unbroadcast(g2 @ b2.mT, tuple(a2.data.shape))
        if a.ndim == 1:
            ga = ga.reshape(tuple(a.data.shape))
    if node.next_functions[1][0] is not None:
        gb = unbroadcast(a2.mT @ g2, tuple(b2.data.shape))
        if b.ndim == 1:
            gb = gb.reshape(tuple(b.data.shape))
    return ga, gb


def mm(a: Tensor, b: Tensor) -> Tensor:
    """Product of two 2-D tensors."""
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {a.ndim}-D and {b.ndim}-D")
    return matmul(a, b)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """Batched product of two 3-D tensors with the same batch size."""
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor and batch2 must be a 3D tensor "
                           f"(got {a.ndim}-D and {b.ndim}-D)")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ ({a.shape[0]} and {b.shape[0]})")
    return matmul(a, b)


def dot(a: Tensor, b: Tensor) -> Tensor:
    """Inner product of two 1-D tensors of the same length."""
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
                           f"[{b.shape[0]}] to have the same number of elements, but got "
                           f"{a.shape[0]} and {b.shape[0]} elements respectively")
    return matmul(a, b)
