"""Matrix products, and the `plugrad.linalg` namespace (torch.linalg).

The products (matmul, mm, ...) are plugrad.* functions declared here; the
functions torch has only under torch.linalg (inv, solve, qr, svd, norms, ...)
are declared in plugrad.matrices with namespace="linalg" and imported below, so
that `plugrad.linalg.inv` exists and `plugrad.inv` does not.
"""
from __future__ import annotations

import warnings

from . import dtypes
from .declare import Ops
from .grad_mode import STATE
from .indexing import index_add_into_zeros

# the torch.linalg namespace: plugrad.linalg.<name>, not in __all__ (no plugrad.inv)
from .matrices import (  # noqa: F401
    LinAlgError,
    cholesky_ex,
    det,
    eigh,
    eigvalsh,
    inv,
    inv_ex,
    lstsq,
    matrix_norm,
    norm,
    qr,
    slogdet,
    solve,
    svd,
    svdvals,
    vector_norm,
)
from .matrices import linalg_cholesky as cholesky  # noqa: F401
from .operands import broadcast_shapes, coerce, grad_like, unbroadcast
from .recording import record, record1
from .shape import diagonal, diagonal_index, renamed
from .tensor import Tensor, _make, normalize_dim

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


def _multipliable(sa: tuple, sb: tuple) -> bool:
    """Whether matmul's rules accept these shapes (checked only after a kernel failed, so
    that a library's other errors are not reported as a shape mismatch)."""
    inner_a = sa[-1]
    inner_b = sb[0] if len(sb) == 1 else sb[-2]
    if inner_a != inner_b:
        return False
    batch_a, batch_b = sa[:-2], sb[:-2]
    for x, y in zip(reversed(batch_a), reversed(batch_b)):
        if x != y and x != 1 and y != 1:
            return False
    return True


def _shape_error(a: Tensor, b: Tensor) -> RuntimeError:
    """torch's message for the operand shapes that cannot be multiplied."""
    sa, sb = tuple(a._array.shape), tuple(b._array.shape)
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
    na, nb = a._array.ndim, b._array.ndim
    if na == 0 or nb == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{na}D and {nb}D")
    return _product(a, b, _NAMES.get((na, nb), "UnsafeViewBackward0"))


def _product(a: Tensor, b: Tensor, name: str) -> Tensor:
    bk = a.backend
    try:
        out = _make(bk.matmul(a._array, b._array), a.dtype, bk)
    except (ValueError, TypeError):  # NumPy raises ValueError, JAX TypeError
        if _multipliable(tuple(a._array.shape), tuple(b._array.shape)):
            raise
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
            ga = _make(k.matmul(g._array, k.permute(b._array, (1, 0))), d, k)
        if node.inputs[1] is not None:
            gb = _make(k.matmul(k.permute(a._array, (1, 0)), g._array), d, k)
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
        ga = unbroadcast(g2 @ b2.mT, tuple(a2._array.shape))
        if na == 1:
            ga = ga.reshape(tuple(a._array.shape))
    if node.inputs[1] is not None:
        gb = unbroadcast(a2.mT @ g2, tuple(b2._array.shape))
        if nb == 1:
            gb = gb.reshape(tuple(b._array.shape))
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


@ops.declare
def mv(a: Tensor, b: Tensor) -> Tensor:
    """Product of a matrix and a vector."""
    _operands(a, b, "mv")
    if a.ndim != 2 or b.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {a.ndim}, {b.ndim}")
    return _product(a, b, "MvBackward0")


def _scaled_sum(x: Tensor, prod: Tensor, beta, alpha, name: str) -> Tensor:
    """beta * x + alpha * prod, as torch's addmm family computes it (x ignored if beta is 0)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: argument 'input' must be Tensor, not {type(x).__name__}")
    if x.dtype is not prod.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got "
                           f"{x.dtype.name} and {prod.dtype.name}")
    if alpha != 1:
        prod = prod * alpha
    shape = tuple(prod._array.shape)
    try:
        broadcast_shapes(tuple(x._array.shape), shape)
    except RuntimeError:
        raise RuntimeError(f"The expanded size of the tensor ({shape[-1] if shape else 0}) must "
                           f"match the existing size at non-singleton dimension: input "
                           f"{list(x.shape)} cannot be broadcast to {list(shape)}") from None
    if beta == 0:
        return renamed(prod, name) if prod.grad_fn is not None else prod
    out = (x if beta == 1 else x * beta) + prod
    if tuple(out._array.shape) != shape:
        raise RuntimeError(f"{name}: input {list(x.shape)} does not broadcast to the product's "
                           f"shape {list(shape)}")
    return renamed(out, name)


@ops.declare(inplace=True)
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """beta * input + alpha * (mat1 @ mat2)."""
    return _scaled_sum(input, mm(mat1, mat2), beta, alpha, "AddmmBackward0")


@ops.declare(inplace=True)
def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """beta * input + alpha * (mat @ vec)."""
    return _scaled_sum(input, mv(mat, vec), beta, alpha, "AddmvBackward0")


@ops.declare(inplace=True)
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1,  # noqa: A002
            alpha=1) -> Tensor:
    """beta * input + alpha * bmm(batch1, batch2)."""
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha, "BaddbmmBackward0")


@ops.declare
def trace(x: Tensor) -> Tensor:
    """The sum of the main diagonal of a matrix."""
    if x._array.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x._array.ndim}")
    k = x.backend
    m, n = x._array.shape
    flat, length = diagonal_index(k, m, n, 0)
    data = k.getitem(k.reshape(x._array, (m * n,)), (flat,))
    dtype = x.dtype if x.dtype.is_floating_point else dtypes.int64
    if dtype is not x.dtype:
        data = k.astype(data, dtype)
    out = _make(k.sum(data, None, False), dtype, k)
    if x._rg and STATE.grad_enabled:
        record1(out, "TraceBackward0", _trace_backward, x, (), (m, n, flat, length))
    return out


def _trace_backward(node, g):
    m, n, flat, length = node.args
    return (index_add_into_zeros(g.expand(length), (m * n,), (flat,), True).reshape(m, n),)


@ops.declare
def outer(a: Tensor, b: Tensor) -> Tensor:
    """The outer product of two vectors: out[i, j] = a[i] * b[j]."""
    for t, what in ((a, "self"), (b, "vec2")):
        if not isinstance(t, Tensor):
            raise TypeError(f"outer(): argument '{what}' must be Tensor, not "
                            f"{type(t).__name__}")
        if t._array.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {what}, but got {t._array.ndim}-D")
    return a.unsqueeze(1) * b


@ops.declare
def kron(a: Tensor, b: Tensor) -> Tensor:
    """The Kronecker product: blocks a[i, j] * b, in every dim."""
    nd = max(a._array.ndim, b._array.ndim)
    sa = (1,) * (nd - a._array.ndim) + tuple(a._array.shape)
    sb = (1,) * (nd - b._array.ndim) + tuple(b._array.shape)
    wide = a.reshape(tuple(v for s in sa for v in (s, 1))) * \
        b.reshape(tuple(v for s in sb for v in (1, s)))
    return renamed(wide.reshape(tuple(p * q for p, q in zip(sa, sb))), "UnsafeViewBackward0")


_CROSS_ROTATIONS: dict = {}  # backend -> its int64 arrays [1, 2, 0] and [2, 0, 1]


def _cross_rotations(bk) -> tuple:
    if len(_CROSS_ROTATIONS) >= 16:
        _CROSS_ROTATIONS.clear()
    pair = _CROSS_ROTATIONS[bk] = (bk.asarray([1, 2, 0], dtypes.int64),
                                   bk.asarray([2, 0, 1], dtypes.int64))
    return pair


@ops.declare
def cross(a: Tensor, b: Tensor, dim: int | None = None) -> Tensor:
    """The cross product of 3-vectors along dim (the first dim of size 3 when None)."""
    if a.ndim != b.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    shape = broadcast_shapes(tuple(a._array.shape), tuple(b._array.shape))
    if tuple(a._array.shape) != shape:
        a = a.expand(shape)
    if tuple(b._array.shape) != shape:
        b = b.expand(shape)
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease "
                      "either pass the dim explicitly or simply use torch.linalg.cross.\nThe "
                      "default value of dim will change to agree with that of linalg.cross in "
                      "a future release.", UserWarning, stacklevel=2)
        sizes = [i for i, s in enumerate(shape) if s == 3]
        if not sizes:
            raise RuntimeError("no dimension of size 3 in input")
        d = sizes[0]
    else:
        d = normalize_dim(dim, len(shape))
    if not shape or shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {d} must have length 3. Got "
                           f"{a.shape[d] if a.ndim else 0} and {b.shape[d] if b.ndim else 0}")
    bk, ad, bd, dtype = coerce(a, b, "cross")
    if tuple(ad.shape) != shape:
        ad = bk.broadcast_to(ad, shape)
    if tuple(bd.shape) != shape:
        bd = bk.broadcast_to(bd, shape)
    # (a1 b2 - a2 b1, a2 b0 - a0 b2, a0 b1 - a1 b0): the components rotated by one and by
    # two, four gathers, two products and a difference for all three at once
    head = (slice(None),) * d
    one, two = _CROSS_ROTATIONS.get(bk) or _cross_rotations(bk)
    out = _make(bk.sub(bk.mul(bk.getitem(ad, head + (one,)), bk.getitem(bd, head + (two,))),
                       bk.mul(bk.getitem(ad, head + (two,)), bk.getitem(bd, head + (one,)))),
                dtype, bk)
    if STATE.grad_enabled and (a._rg or b._rg):
        record(out, "LinalgCrossBackward0", _cross_backward, (a, b), (a, b), d)
    return out


def _cross_backward(node, g):
    a, b = node.saved
    d = node.args
    ga = gb = None
    if node.inputs[0] is not None:  # d(a x b)/da applied to g: b x g
        ga = grad_like(cross(b, g, d), tuple(a._array.shape), a.dtype)
    if node.inputs[1] is not None:  # and g x a for b
        gb = grad_like(cross(g, a, d), tuple(b._array.shape), b.dtype)
    return ga, gb


@ops.declare(method=False)
def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """Sum of products over the last `dims` dims of a and the first of b, or over given pairs."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da = list(range(a.ndim - dims, a.ndim))
        db = list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    da = [normalize_dim(d, a.ndim) for d in da]
    db = [normalize_dim(d, b.ndim) for d in db]
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[i]} in dim {i} and second has size {b.shape[j]} in "
                               f"dim {j}")
    fa = [i for i in range(a.ndim) if i not in da]
    fb = [j for j in range(b.ndim) if j not in db]
    size = 1
    for i in da:
        size *= a.shape[i]
    left = a.permute(fa + da).reshape(-1, size)
    right = b.permute(db + fb).reshape(size, -1)
    return mm(left, right).reshape([a.shape[i] for i in fa] + [b.shape[j] for j in fb])


def _einsum_parse(equation: str, n: int):
    eq = equation.replace(" ", "")
    if "." in eq:
        raise NotImplementedError("einsum: ellipsis ('...') is not supported by plugrad")
    lhs, arrow, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != n:
        raise RuntimeError("einsum(): more operands were provided than specified in the "
                           "equation" if n > len(ins) else
                           "einsum(): fewer operands were provided than specified in the "
                           "equation")
    for term in ins + [rhs]:
        if not all(c.isalpha() for c in term):
            raise RuntimeError(f"einsum(): invalid subscript given at index "
                               f"{eq.index(next(c for c in term if not c.isalpha()))} in the "
                               f"equation string, subscripts must be in [a-zA-Z]")
    if not arrow:
        counts = {}
        for c in lhs.replace(",", ""):
            counts[c] = counts.get(c, 0) + 1
        rhs = "".join(sorted(c for c, k in counts.items() if k == 1))
    if len(set(rhs)) != len(rhs):
        raise RuntimeError("einsum(): output subscript appears more than once in the output")
    for c in rhs:
        if c not in lhs:
            raise RuntimeError(f"einsum(): output subscript {c} does not appear in the "
                               f"equation for any input operand")
    return ins, rhs


@ops.declare(method=False)
def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation: "ij,jk->ik" (matmul), "bij,bjk->bik", "ii->i", "i,i->", "ij->ji", ...

    Built from diagonal, sum, permute, reshape and matmul; ellipsis ("...") is not supported
    (NotImplementedError).
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    ins, out = _einsum_parse(equation, len(operands))
    terms = []
    for i, (t, letters) in enumerate(zip(operands, ins)):
        if len(letters) != t.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                               f"({len(letters)}) does not match the number of dimensions "
                               f"({t.ndim}) for operand {i} and no ellipsis was given")
        letters = list(letters)
        while len(set(letters)) != len(letters):  # a repeated subscript: its diagonal
            c = next(c for c in letters if letters.count(c) > 1)
            p = letters.index(c)
            q = letters.index(c, p + 1)
            if t.shape[p] != t.shape[q]:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {i} but "
                                   f"the sizes don't match, {t.shape[p]} != {t.shape[q]}")
            t = diagonal(t, 0, p, q)
            letters = [x for j, x in enumerate(letters) if j not in (p, q)] + [c]
        terms.append((t, letters))
    sizes = {}
    for t, letters in terms:
        for c, s in zip(letters, t.shape):
            if sizes.setdefault(c, s) != s:
                raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes "
                                   f"(subscript {c} has sizes {sizes[c]} and {s})")
    # sum out what only one operand has and the output does not
    for i, (t, letters) in enumerate(terms):
        others = set(out).union(*(set(lt) for j, (_, lt) in enumerate(terms) if j != i))
        drop = [p for p, c in enumerate(letters) if c not in others]
        if drop:
            terms[i] = (t.sum(tuple(drop)), [c for c in letters if c in others])
    t, letters = terms[0]
    for i in range(1, len(terms)):
        u, lu = terms[i]
        later = set(out).union(*(set(lt) for _, lt in terms[i + 1:]))
        batch = [c for c in letters if c in lu and c in later]
        inner = [c for c in letters if c in lu and c not in later]
        left = [c for c in letters if c not in lu]
        right = [c for c in lu if c not in letters]
        t = _contract(t, letters, u, lu, batch, inner, left, right, sizes)
        letters = batch + left + right
    if letters != list(out):
        t = t.permute([letters.index(c) for c in out])
    return t


def _contract(t, lt, u, lu, batch, inner, left, right, sizes):
    """Two operands multiplied as one batched matmul.

    (batch, left, inner) @ (batch, inner, right), then the letters' own sizes.
    """
    def n(cs):
        p = 1
        for c in cs:
            p *= sizes[c]
        return p
    a = t.permute([lt.index(c) for c in batch + left + inner]).reshape(n(batch), n(left),
                                                                        n(inner))
    b = u.permute([lu.index(c) for c in batch + inner + right]).reshape(n(batch), n(inner),
                                                                         n(right))
    return matmul(a, b).reshape([sizes[c] for c in batch + left + right])


# -- comparisons of whole tensors ---------------------------------------------------------------
@ops.declare
def isclose(a: Tensor, b: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """|a - b| <= atol + rtol * |b|, elementwise (infinities close only to themselves)."""
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        raise TypeError("isclose(): arguments must be Tensors")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"{a.dtype.name} did not match {b.dtype.name}")
    if rtol < 0 or atol < 0:
        raise RuntimeError(f"{'rtol' if rtol < 0 else 'atol'} must be greater than or equal to "
                           f"zero, but got {rtol if rtol < 0 else atol}")
    k = a.backend
    x, y = a._array, b._array
    close = k.eq(x, y)
    if a.dtype is not dtypes.bool:
        if not a.dtype.is_floating_point:
            x, y = k.astype(x, dtypes.float64), k.astype(y, dtypes.float64)
        if equal_nan:
            close = k.logical_or(close, k.logical_and(k.ne(x, x), k.ne(y, y)))
        err = k.abs(k.sub(x, y))
        allowed = k.add(k.mul(k.abs(y), rtol), atol)
        finite = k.lt(err, float("inf"))
        close = k.logical_or(close, k.logical_and(finite, k.le(err, allowed)))
    return _make(close, dtypes.bool, k)


@ops.declare
def allclose(a: Tensor, b: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """Whether every element of a is close to b's (isclose), as a Python bool."""
    close = isclose(a, b, rtol, atol, equal_nan)
    k = close.backend
    return bool(k.tolist(k.min(k.astype(close._array, dtypes.int64), None, False))) \
        if close.numel() else True


@ops.declare
def equal(a: Tensor, b: Tensor) -> bool:
    """Whether a and b have the same shape and the same values, as a Python bool."""
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        raise TypeError("equal(): arguments must be Tensors")
    if tuple(a._array.shape) != tuple(b._array.shape):
        return False
    if not a.numel():
        return True
    bk, ad, bd, _ = coerce(a, b, "equal")
    return bool(bk.tolist(bk.min(bk.astype(bk.eq(ad, bd), dtypes.int64), None, False)))


__all__ = ops.exported()
