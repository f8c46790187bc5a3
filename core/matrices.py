"""torch.linalg's functions of matrices: inverses, solves, determinants, factorizations, norms.

The functions of the `plugrad.linalg` namespace are declared here with
`namespace="linalg"` (`plugrad.linalg.inv`, never `plugrad.inv`);
`plugrad.linalg` (core/linalg.py, the matrix products) imports them. The few
that torch also has at top level and as Tensor methods (`det`, `logdet`,
`slogdet`, `inverse`, `cholesky`) are ordinary declarations.

Every input is a matrix or a batch of them (the last two dims); the work is
the backend's optional linear-algebra kernels (contract 1.5: `inv`, `solve`,
`cholesky`, `qr`, `svd`, `eigh`, `slogdet`, `det`). Their backward formulas
are written with tensor ops (solve, matmul, tril, ...), so that they can be
differentiated again; those of the decompositions follow torch's (for
`svd` and `eigh` they are correct for losses that do not depend on the
decomposition's arbitrary signs, as torch documents).

>>> import plugrad as pg
>>> A = pg.tensor([[2.0, 1.0], [1.0, 3.0]])
>>> pg.linalg.det(A)
tensor(5.)
>>> pg.linalg.solve(A, pg.tensor([3.0, 5.0]))
tensor([0.8000, 1.4000])
"""
from __future__ import annotations

from . import dtypes
from .declare import Ops
from .grad_mode import STATE
from .operands import broadcast_shapes, unbroadcast
from .pointwise import where
from .recording import record, record1, saved_output
from .reduction import _return_type
from .reduction import norm as _vector_norm
from .shape import cat, renamed, stack, tril, triu
from .tensor import Tensor, _make, normalize_dim

ops = Ops(__name__)

_INF = float("inf")

SlogdetResult = _return_type("linalg_slogdet", ("sign", "logabsdet"))
QRResult = _return_type("linalg_qr", ("Q", "R"))
SVDResult = _return_type("linalg_svd", ("U", "S", "Vh"))
EighResult = _return_type("linalg_eigh", ("eigenvalues", "eigenvectors"))
LstsqResult = _return_type("linalg_lstsq", ("solution", "residuals", "rank",
                                            "singular_values"))
InvExResult = _return_type("linalg_inv_ex", ("inverse", "info"))
CholeskyExResult = _return_type("linalg_cholesky_ex", ("L", "info"))


class LinAlgError(RuntimeError):
    """A matrix that the operation cannot take: singular (inv, solve), not positive definite
    (cholesky). torch.linalg.LinAlgError; a RuntimeError, as torch's is.

    >>> import plugrad as pg
    >>> try:
    ...     pg.linalg.inv(pg.zeros(2, 2))
    ... except pg.linalg.LinAlgError as err:
    ...     print(type(err).__name__, isinstance(err, RuntimeError))
    LinAlgError True
    """


LinAlgError.__module__ = "plugrad.linalg"


# -- checks and kernel calls ---------------------------------------------------------------------
def _matrices(A, op: str, square: bool = True, name: str = "A") -> None:
    """torch's errors for what is not a (batch of) floating (square) matrices."""
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position 1) must be Tensor, not "
                        f"{type(A).__name__}")
    if A._array.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor {name} must have at least 2 dimensions.")
    if not A.dtype.is_floating_point:
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{_torch_type(A.dtype)}")
    if A.dtype is dtypes.float16:
        raise RuntimeError(f"{op}: Low precision dtypes not supported. Got Half")
    if square:
        m, n = A._array.shape[-2:]
        if m != n:
            raise RuntimeError(f"{op}: {name} must be batches of square matrices, but they are "
                               f"{m} by {n} matrices")


def _torch_type(d) -> str:
    return {"int64": "Long", "int32": "Int", "bool": "Bool"}.get(d.name, d.name.capitalize())


def _run(kernel, op: str, problem: str, *arrays):
    """The kernel's result; its ValueError (a singular matrix, ...) as LinAlgError."""
    try:
        return kernel(*arrays)
    except ValueError:
        raise LinAlgError(f"{op}: {problem}") from None


_SINGULAR = "The input matrix is singular, so the operation could not be completed."
_NOT_PD = ("The factorization could not be completed because the input is not "
           "positive-definite.")


def _wrap(A: Tensor, data) -> Tensor:
    return _make(data, A.dtype, A.backend)


def _eye(like: Tensor, n: int) -> Tensor:
    k = like.backend
    return _make(k.eye(n, n, like.dtype), like.dtype, k)


def _diag_embed(v: Tensor) -> Tensor:
    """A batch of diagonal matrices from a batch of vectors (differentiable)."""
    return v.unsqueeze(-1) * _eye(v, v._array.shape[-1])


def _record_outputs(A: Tensor, name: str, outs: list, backward, args) -> None:
    """Record each output of a decomposition with its own node of torch's name.

    A backward formula is linear in the gradients of the outputs, so each node
    adds the part that comes from its own output; each gets the arrays of all
    outputs (`saved`) and the nodes of all (`args`), so that it can rebuild
    them as tensors connected to the graph (double backward).
    """
    arrays = tuple(o._array for o in outs)
    for o in outs:
        record1(o, name, backward, A, arrays)
    nodes = [o.grad_fn for o in outs]
    for i, node in enumerate(nodes):
        node.args = (i, nodes, args)


def _outputs_of(node, g) -> list:
    """The outputs of a decomposition, as tensors connected to their nodes."""
    _, nodes, _ = node.args
    return [saved_output(n, g, a) for n, a in zip(nodes, node.saved)]


def _cotangents(node, g, count: int) -> list:
    i = node.args[0]
    return [g if j == i else None for j in range(count)]


# -- inverse, determinant --------------------------------------------------------------------------
@ops.declare(namespace="linalg", method=False)
def inv(A: Tensor) -> Tensor:
    """The inverse of a square matrix (or of each in a batch); LinAlgError if singular.

    >>> import plugrad as pg
    >>> pg.linalg.inv(pg.tensor([[2.0, 0.0], [0.0, 4.0]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.2500]])
    """
    return _inv(A, "linalg.inv")


def _inv(A: Tensor, op: str) -> Tensor:
    _matrices(A, op)
    out = _wrap(A, _run(A.backend.inv, op, _SINGULAR, A._array))
    if A._rg and STATE.grad_enabled:
        record1(out, "LinalgInvExBackward0", _inv_backward, A, (out._array,))
    return out


def _inv_backward(node, g):
    Y = saved_output(node, g, node.saved[0])
    Yt = Y.mT
    return (-(Yt @ g @ Yt),)


@ops.declare
def inverse(A: Tensor) -> Tensor:
    """The inverse of a square matrix: torch.inverse, the same as `plugrad.linalg.inv`.

    >>> import plugrad as pg
    >>> pg.tensor([[4.0]]).inverse()
    tensor([[0.2500]])
    """
    return _inv(A, "linalg.inv")


@ops.declare(namespace="linalg", method=False)
def inv_ex(A: Tensor, *, check_errors: bool = False):
    """(inverse, info): `info` is 0 for each invertible matrix, > 0 for a singular one
    (whose inverse is then NaN); LinAlgError for a singular one with `check_errors`.

    >>> import plugrad as pg
    >>> pg.linalg.inv_ex(pg.eye(2)).info
    tensor(0, dtype=plugrad.int32)
    """
    return InvExResult(*_ex(A, inv, "linalg.inv_ex", check_errors))


def _ex(A: Tensor, fn, op: str, check_errors: bool) -> tuple:
    """(fn(A), info) for the _ex variants: info 1 and NaN results where fn(A[i]) raises."""
    _matrices(A, op)
    k = A.backend
    shape = tuple(A._array.shape)
    try:
        return fn(A), _make(k.full(shape[:-2], 0, dtypes.int32), dtypes.int32, k)
    except LinAlgError:
        if check_errors:
            raise
    # the matrices that fail, one by one (the rare case)
    flat = A.reshape((-1,) + shape[-2:])
    pieces, bad = [], []
    for i in range(flat._array.shape[0]):
        try:
            pieces.append(fn(flat[i]))
            bad.append(0)
        except LinAlgError:
            pieces.append(flat[i] * float("nan"))
            bad.append(1)
    info = k.reshape(k.asarray(bad, dtypes.int32), shape[:-2])
    return stack(pieces).reshape(shape), _make(info, dtypes.int32, k)


def _det(A: Tensor, op: str) -> Tensor:
    _matrices(A, op)
    out = _wrap(A, A.backend.det(A._array))
    if A._rg and STATE.grad_enabled:
        record1(out, "LinalgDetBackward0", _det_backward, A, (A, out._array))
    return out


def _det_backward(node, g):
    A, _ = node.saved
    d = saved_output(node, g, node.saved[1])
    return ((g * d).unsqueeze(-1).unsqueeze(-1) * inv(A).mT,)


@ops.declare
def det(A: Tensor) -> Tensor:
    """The determinant of a square matrix (or of each in a batch).

    >>> import plugrad as pg
    >>> pg.tensor([[1.0, 2.0], [3.0, 4.0]]).det()
    tensor(-2.)
    """
    return _det(A, "linalg.det")


ops.alias("det", det, namespace="linalg", method=False)


def _slogdet(A: Tensor, op: str):
    _matrices(A, op)
    k = A.backend
    sign, logabs = k.slogdet(A._array)
    sign, logabs = _wrap(A, sign), _wrap(A, logabs)
    if A._rg and STATE.grad_enabled:
        record1(sign, "LinalgSlogdetBackward0", _sign_backward, A, (),
                tuple(A._array.shape))
        record1(logabs, "LinalgSlogdetBackward0", _logabsdet_backward, A, (A,))
    return SlogdetResult(sign, logabs)


def _sign_backward(node, g):
    k = g.backend
    return (_make(k.full(node.args, 0, g.dtype), g.dtype, k),)


def _logabsdet_backward(node, g):
    (A,) = node.saved
    return (g.unsqueeze(-1).unsqueeze(-1) * inv(A).mT,)


@ops.declare
def slogdet(A: Tensor):
    """(sign, logabsdet) of the determinant: det = sign * exp(logabsdet), without overflow.

    >>> import plugrad as pg
    >>> pg.slogdet(pg.tensor([[-2.0, 0.0], [0.0, 3.0]])).sign
    tensor(-1.)
    """
    return _slogdet(A, "linalg.slogdet")


ops.alias("slogdet", slogdet, namespace="linalg", method=False)


@ops.declare
def logdet(A: Tensor) -> Tensor:
    """log(det(A)): NaN where the determinant is negative, -inf where it is 0.

    >>> import plugrad as pg
    >>> pg.tensor([[2.0, 0.0], [0.0, 3.0]]).logdet()
    tensor(1.7918)
    """
    sign, logabs = _slogdet(A, "logdet")
    return where(sign < 0, float("nan"), logabs)


# -- solving ---------------------------------------------------------------------------------------
@ops.declare(namespace="linalg", method=False)
def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A @ X = B (or X @ A = B with left=False); B a matrix or, where it is 1-D or a
    batch of vectors (B.shape == A.shape[:-1]), a vector; batch dims broadcast.

    >>> import plugrad as pg
    >>> pg.linalg.solve(pg.tensor([[2.0, 0.0], [0.0, 4.0]]), pg.tensor([1.0, 1.0]))
    tensor([0.5000, 0.2500])
    """
    op = "torch.linalg.solve"
    _matrices(A, "linalg.solve")
    if not isinstance(B, Tensor):
        raise TypeError(f"linalg.solve(): argument 'B' (position 2) must be Tensor, not "
                        f"{type(B).__name__}")
    if A.dtype is not B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found "
                           f"A of type {_torch_type(A.dtype)} and B of type "
                           f"{_torch_type(B.dtype)} instead")
    if not left:
        return solve(A.mT, B.mT).mT
    sa, sb = tuple(A._array.shape), tuple(B._array.shape)
    n = sa[-1]
    vector = len(sb) == 1 or (len(sb) == len(sa) - 1 and sb == sa[:-1])
    if vector:
        if sb[-1] != n:
            raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                               f"AX = B ({sa[-2]}x{sa[-1]} and {sb[-1]}x1)")
        Bm = B.unsqueeze(-1)
    else:
        if len(sb) < 1 or sb[-2] != n:
            raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                               f"AX = B ({sa[-2]}x{sa[-1]} and {sb[-2]}x{sb[-1]})")
        Bm = B
    batch = broadcast_shapes(sa[:-2], tuple(Bm._array.shape[:-2]))
    k = A.backend
    a = A._array if sa[:-2] == batch else k.broadcast_to(A._array, batch + sa[-2:])
    bshape = batch + tuple(Bm._array.shape[-2:])
    b = Bm._array if tuple(Bm._array.shape) == bshape else k.broadcast_to(Bm._array, bshape)
    X = _wrap(A, _run(k.solve, op, "The solver failed because the input matrix is singular.",
                      a, b))
    if STATE.grad_enabled and (A._rg or B._rg):
        record(X, "LinalgSolveExBackward0", _solve_backward, (A, Bm), (A, X._array),
               (sa, tuple(Bm._array.shape)))
    if vector:
        X = renamed(X.squeeze(-1), "LinalgSolveExBackward0") if X._rg else \
            _wrap(A, k.reshape(X._array, bshape[:-1]))
    return X


def _solve_backward(node, g):
    A, _ = node.saved
    sa, sb = node.args
    gB = solve(A.mT, g)
    gA = None
    if node.inputs[0] is not None:
        X = saved_output(node, g, node.saved[1])
        gA = unbroadcast(-(gB @ X.mT), sa)
    return gA, (unbroadcast(gB, sb) if node.inputs[1] is not None else None)


# -- Cholesky --------------------------------------------------------------------------------------
def _cholesky(A: Tensor, op: str, upper: bool, name: str) -> Tensor:
    _matrices(A, op)
    k = A.backend
    L = _wrap(A, _run(k.cholesky, op, _NOT_PD, A._array))
    if A._rg and STATE.grad_enabled:
        record1(L, name, _cholesky_backward, A, (L._array,))
    return L.mT if upper else L


def _cholesky_backward(node, g):
    # torch's: gA = L^-T phi(L^T gL) L^-1, symmetrized; phi: the lower triangle, half diagonal
    L = saved_output(node, g, node.saved[0])
    P = L.mT @ g
    P = tril(P) - 0.5 * _diag_embed(P.diagonal(0, -2, -1))
    left = solve(L.mT, P)                   # L^-T P
    gA = solve(L.mT, left.mT).mT            # (L^-T P) L^-1
    return (0.5 * (gA + gA.mT),)


@ops.declare(namespace="linalg", method=False, name="cholesky")
def linalg_cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """The lower triangular L with A = L @ L.mT, of a symmetric positive definite A (only its
    lower triangle is read); with upper=True, L.mT. LinAlgError if A is not positive definite.

    >>> import plugrad as pg
    >>> pg.linalg.cholesky(pg.tensor([[4.0, 2.0], [2.0, 2.0]]))
    tensor([[2., 0.],
            [1., 1.]])
    """
    return _cholesky(A, "linalg.cholesky", upper, "LinalgCholeskyExBackward0")


# plugrad.linalg.cholesky's own name (plugrad.cholesky, torch's older form, takes the Python one)
linalg_cholesky.__name__ = linalg_cholesky.__qualname__ = "cholesky"


@ops.declare
def cholesky(A: Tensor, upper: bool = False) -> Tensor:
    """torch.cholesky (deprecated there in favour of `plugrad.linalg.cholesky`): L, or L.mT
    with upper=True.

    >>> import plugrad as pg
    >>> pg.tensor([[4.0, 2.0], [2.0, 2.0]]).cholesky(upper=True)
    tensor([[2., 1.],
            [0., 1.]])
    """
    return _cholesky(A, "linalg.cholesky", upper, "CholeskyBackward0")


@ops.declare(namespace="linalg", method=False)
def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False):
    """(L, info): `info` 0 for each positive definite matrix, > 0 (and L NaN) for another.

    >>> import plugrad as pg
    >>> pg.linalg.cholesky_ex(-pg.eye(2)).info
    tensor(1, dtype=plugrad.int32)
    """
    L, info = _ex(A, linalg_cholesky, "linalg.cholesky_ex", check_errors)
    return CholeskyExResult(L.mT if upper else L, info)


# -- QR --------------------------------------------------------------------------------------------
@ops.declare(namespace="linalg", method=False)
def qr(A: Tensor, mode: str = "reduced"):
    """(Q, R) with A = Q @ R, Q orthonormal columns, R upper triangular; mode "reduced" (Q
    m x k, R k x n, k = min(m, n)), "complete" (Q m x m) or "r" (Q empty).

    >>> import plugrad as pg
    >>> Q, R = pg.linalg.qr(pg.tensor([[3.0, 1.0], [4.0, 2.0]]))
    >>> (Q @ R).allclose(pg.tensor([[3.0, 1.0], [4.0, 2.0]]))
    True
    """
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           f"'reduced' (default), 'r', or 'complete'")
    _matrices(A, "linalg.qr", square=False)
    k = A.backend
    q, r = k.qr(A._array, "complete" if mode == "complete" else "reduced")
    Q, R = _wrap(A, q), _wrap(A, r)
    if mode == "r":
        Q = _make(k.full((0,), 0, A.dtype), A.dtype, k)
    if A._rg and STATE.grad_enabled:
        m, n = A._array.shape[-2:]
        if mode == "r":
            record1(R, "LinalgQrBackward0", _qr_r_backward, A)
        else:
            _record_outputs(A, "LinalgQrBackward0", [Q, R], _qr_backward, (mode, m, n))
    return QRResult(Q, R)


def _qr_r_backward(node, g):
    raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when "
                       "mode='r'. Please use linalg.qr(A, mode='reduced') if you are going "
                       "to differentiate through linalg.qr.")


def _qr_backward(node, g):
    _, _, (mode, m, n) = node.args
    if mode == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and "
                           "nrows > ncols.")
    Q, R = _outputs_of(node, g)
    gQ, gR = _cotangents(node, g, 2)
    return (_qr_grad(Q, R, gQ, gR, m, n),)


def _qr_grad(Q, R, gQ, gR, m: int, n: int) -> Tensor:
    if m < n:  # A = [X | Y]: X = Q R1 is square, and R2 = Q^T Y
        R1, R2 = R[..., :, :m], R[..., :, m:]
        gR1 = gR2 = None
        if gR is not None:
            gR1, gR2 = gR[..., :, :m], gR[..., :, m:]
        Y = Q @ R2
        gY = Q @ gR2 if gR2 is not None else None
        extra = Y @ gR2.mT if gR2 is not None else None
        gQ = extra if gQ is None else (gQ if extra is None else gQ + extra)
        gX = _qr_grad(Q, R1, gQ, gR1, m, m)
        if gY is None:
            gY = gX.new_zeros(tuple(Y._array.shape))
        return cat([gX, gY], -1)
    # m >= n (torch's): gA = (gQ + Q copy_upper(gR R^T - Q^T gQ)) R^-T
    if gR is not None:
        M = gR @ R.mT
        if gQ is not None:
            M = M - Q.mT @ gQ
    else:
        M = -(Q.mT @ gQ)
    C = triu(M) + triu(M, 1).mT
    Z = Q @ C
    if gQ is not None:
        Z = Z + gQ
    return solve(R, Z.mT).mT


# -- SVD, symmetric eigendecomposition -----------------------------------------------------------
@ops.declare(namespace="linalg", method=False)
def svd(A: Tensor, full_matrices: bool = True, *, driver=None):
    """(U, S, Vh) with A = U @ diag(S) @ Vh, S descending (`driver` is ignored). Gradients
    are right for losses that do not depend on the signs of the singular vectors.

    >>> import plugrad as pg
    >>> pg.linalg.svd(pg.tensor([[3.0, 0.0], [0.0, -4.0]])).S
    tensor([4., 3.])
    """
    _matrices(A, "linalg.svd", square=False)
    k = A.backend
    u, s, vh = k.svd(A._array, full_matrices)
    U, S, Vh = _wrap(A, u), _wrap(A, s), _wrap(A, vh)
    if A._rg and STATE.grad_enabled:
        m, n = A._array.shape[-2:]
        _record_outputs(A, "LinalgSvdBackward0", [U, S, Vh], _svd_backward,
                        (min(m, n), full_matrices))
    return SVDResult(U, S, Vh)


def _svd_backward(node, g):
    _, _, (kk, full) = node.args
    U, S, Vh = _outputs_of(node, g)
    gU, gS, gVh = _cotangents(node, g, 3)
    if full:  # the columns beyond min(m, n) take no part in A
        U, Vh = U[..., :, :kk], Vh[..., :kk, :]
        gU = gU[..., :, :kk] if gU is not None else None
        gVh = gVh[..., :kk, :] if gVh is not None else None
    return (_svd_grad(U, S, Vh, gU, gS, gVh),)


def _svd_grad(U, S, Vh, gU, gS, gVh) -> Tensor:
    """torch's svd_backward for real matrices, reduced U (m x k), S (k), Vh (k x n)."""
    m, n = U._array.shape[-2], Vh._array.shape[-1]
    if gU is None and gVh is None:
        return U @ (gS.unsqueeze(-1) * Vh)
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1)   # E[i, j] = s_j^2 - s_i^2, 1 on the diagonal
    eye = _eye(S, S._array.shape[-1])
    E = E + eye
    inner = None
    if gU is not None:
        UhgU = U.mT @ gU
        inner = (UhgU - UhgU.mT) * S.unsqueeze(-2)
    if gVh is not None:
        VhgV = Vh @ gVh.mT
        term = S.unsqueeze(-1) * (VhgV - VhgV.mT)
        inner = term if inner is None else inner + term
    gA = inner / E
    if gS is not None:
        gA = gA + _diag_embed(gS)
    if m > n and gU is not None:
        gA = U @ gA
        gUS = gU / S.unsqueeze(-2)
        gA = gA + gUS - U @ (U.mT @ gUS)
        return gA @ Vh
    if m < n and gVh is not None:
        gA = gA @ Vh
        SgVh = gVh / S.unsqueeze(-1)
        gA = gA + SgVh - (SgVh @ Vh.mT) @ Vh
        return U @ gA
    return U @ (gA @ Vh)


@ops.declare(namespace="linalg", method=False)
def svdvals(A: Tensor, *, driver=None) -> Tensor:
    """The singular values of A, descending (`driver` is ignored).

    >>> import plugrad as pg
    >>> pg.linalg.svdvals(pg.tensor([[0.0, 2.0], [1.0, 0.0]]))
    tensor([2., 1.])
    """
    _matrices(A, "linalg.svdvals", square=False)
    # through svd (its U and Vh connected to the graph): differentiable twice
    return svd(A, False).S


def _symmetric(A: Tensor, UPLO: str, op: str):
    """The array of the symmetric matrix whose lower (UPLO "L") or upper triangle A holds."""
    if UPLO not in ("L", "U", "l", "u"):
        raise RuntimeError(f"{op}: Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    k = A.backend
    n = A._array.shape[-1]
    rows = k.reshape(k.arange(0, n, 1, dtypes.int64), (n, 1))
    cols = k.reshape(k.arange(0, n, 1, dtypes.int64), (1, n))
    lower = k.ge(rows, cols) if UPLO in ("L", "l") else k.le(rows, cols)
    axes = tuple(range(A._array.ndim - 2)) + (A._array.ndim - 1, A._array.ndim - 2)
    return k.where(lower, A._array, k.permute(A._array, axes))


@ops.declare(namespace="linalg", method=False)
def eigh(A: Tensor, UPLO: str = "L"):
    """(eigenvalues ascending, eigenvectors as columns) of a symmetric matrix, read from its
    lower (UPLO="L") or upper triangle. Gradients are right for losses that do not depend on
    the signs of the eigenvectors.

    >>> import plugrad as pg
    >>> pg.linalg.eigh(pg.tensor([[2.0, 1.0], [1.0, 2.0]])).eigenvalues
    tensor([1., 3.])
    """
    _matrices(A, "linalg.eigh")
    k = A.backend
    w, v = k.eigh(_symmetric(A, UPLO, "linalg.eigh"))
    L, V = _wrap(A, w), _wrap(A, v)
    if A._rg and STATE.grad_enabled:
        _record_outputs(A, "LinalgEighBackward0", [L, V], _eigh_backward, None)
    return EighResult(L, V)


def _eigh_backward(node, g):
    L, V = _outputs_of(node, g)
    gL, gV = _cotangents(node, g, 2)
    return (_eigh_grad(L, V, gL, gV),)


def _eigh_grad(L, V, gL, gV) -> Tensor:
    """torch's: gA = V (diag(gL) + skew(V^T gV) / E) V^T, E[i, j] = L[j] - L[i] off the
    diagonal, skew(X) = (X - X^T) / 2 (the projection onto the tangent space of the
    orthogonal matrices, which makes gA symmetric)."""
    if gV is None:
        return V @ (gL.unsqueeze(-1) * V.mT)
    eye = _eye(L, L._array.shape[-1])
    E = L.unsqueeze(-2) - L.unsqueeze(-1) + eye
    VtgV = V.mT @ gV
    inner = 0.5 * (VtgV - VtgV.mT) / E
    if gL is not None:
        inner = inner + _diag_embed(gL)
    return V @ inner @ V.mT


@ops.declare(namespace="linalg", method=False)
def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues of a symmetric matrix, ascending (see `eigh`).

    >>> import plugrad as pg
    >>> pg.linalg.eigvalsh(pg.tensor([[2.0, 1.0], [1.0, 2.0]]))
    tensor([1., 3.])
    """
    return eigh(A, UPLO).eigenvalues


# -- least squares ---------------------------------------------------------------------------------
@ops.declare(namespace="linalg", method=False)
def lstsq(A: Tensor, B: Tensor, rcond=None, *, driver=None):
    """The least-squares solution X of A @ X = B, for A of full rank (m x n): the minimum
    of |A X - B| when m >= n, of |X| among the exact solutions when m < n. Returns
    (solution, residuals, rank, singular_values) as torch's default driver does on the CPU:
    residuals and singular_values empty, rank min(m, n). `rcond` and `driver` are ignored.

    >>> import plugrad as pg
    >>> A = pg.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> pg.linalg.lstsq(A, pg.tensor([[1.0], [1.0], [3.0]])).solution
    tensor([[1.3333],
            [1.3333]])
    """
    _matrices(A, "torch.linalg.lstsq", square=False)
    if not isinstance(B, Tensor):
        raise TypeError(f"linalg.lstsq(): argument 'B' (position 2) must be Tensor, not "
                        f"{type(B).__name__}")
    if A.dtype is not B.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same "
                           f"dtype, but got input's dtype {_torch_type(A.dtype)} and other's "
                           f"dtype {_torch_type(B.dtype)}")
    m, n = A._array.shape[-2:]
    vector = B._array.ndim == A._array.ndim - 1
    Bm = B.unsqueeze(-1) if vector else B
    if Bm._array.ndim < 2 or Bm._array.shape[-2] != m:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2). "
                           f"Got {m} and {Bm._array.shape[-2] if Bm._array.ndim >= 2 else 1}")
    if m >= n:   # A = Q R: X = R^-1 Q^T B
        Q, R = qr(A)
        X = solve(R, Q.mT @ Bm)
    else:        # A^T = Q R: X = Q R^-T B, the solution of least norm
        Q, R = qr(A.mT)
        X = Q @ solve(R.mT, Bm)
    if vector:
        X = X.squeeze(-1)
    X = renamed(X, "LinalgLstsqBackward0")
    k = A.backend
    batch = broadcast_shapes(tuple(A._array.shape[:-2]), tuple(Bm._array.shape[:-2]))
    empty = _make(k.full((0,), 0, A.dtype), A.dtype, k)
    rank = _make(k.full(batch, min(m, n), dtypes.int64), dtypes.int64, k)
    return LstsqResult(X, empty, rank, _make(k.full((0,), 0, A.dtype), A.dtype, k))


# -- norms -----------------------------------------------------------------------------------------
@ops.declare(namespace="linalg", method=False)
def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The vector ord-norm of x over `dim` (all elements by default): ord 2, 1, inf, -inf,
    0 or any number.

    >>> import plugrad as pg
    >>> pg.linalg.vector_norm(pg.tensor([3.0, -4.0]))
    tensor(5.)
    """
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    return _vector_norm(x, ord, dim, keepdim, dtype)


def _matrix_dims(A: Tensor, dim, op: str) -> tuple:
    if A._array.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if len(dim) != 2:
        raise RuntimeError(f"{op}: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
    d0, d1 = (normalize_dim(d, A._array.ndim) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"{op}: dims must be different. Got ({dim[0]}, {dim[1]})")
    return d0, d1


@ops.declare(namespace="linalg", method=False)
def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *,
                dtype=None) -> Tensor:
    """The matrix ord-norm of A over the two dims `dim`: "fro", "nuc", 2, -2 (the largest and
    smallest singular values), 1, -1 (column sums of |A|), inf, -inf (row sums).

    >>> import plugrad as pg
    >>> pg.linalg.matrix_norm(pg.tensor([[1.0, -2.0], [3.0, 4.0]]), ord=1)
    tensor(6.)
    """
    op = "linalg.matrix_norm"
    if dtype is not None:
        A = A.to(dtype)
    if not A.dtype.is_floating_point:
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{_torch_type(A.dtype)}")
    d0, d1 = _matrix_dims(A, tuple(dim), op)
    if ord == "fro":
        return _vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        last = A.permute([i for i in range(A._array.ndim) if i not in (d0, d1)] + [d0, d1])
        s = svdvals(last)
        out = s.sum(-1) if ord == "nuc" else (s.amax(-1) if ord == 2 else s.amin(-1))
        if keepdim:
            for d in sorted((d0, d1)):
                out = out.unsqueeze(d)
        return out
    if ord in (1, -1, _INF, -_INF):
        summed, extreme = (d0, d1) if ord in (1, -1) else (d1, d0)
        s = A.abs().sum(summed, keepdim=keepdim)
        if not keepdim and summed < extreme:
            extreme -= 1
        return s.amax(extreme, keepdim=keepdim) if ord > 0 else s.amin(extreme, keepdim=keepdim)
    raise RuntimeError(f"{op}: Order {ord} not supported.")


@ops.declare(namespace="linalg", method=False)
def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """A vector norm (dim an int, or A 1-D) or a matrix norm (dim a pair, or A 2-D); with
    ord and dim both None, the 2-norm of all elements.

    >>> import plugrad as pg
    >>> pg.linalg.norm(pg.tensor([[1.0, 2.0], [2.0, 4.0]]))
    tensor(5.)
    """
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 1:
            return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A._array.ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if A._array.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D "
                       f"or 2D. Got {A._array.ndim}D.")


__all__ = ops.exported()
