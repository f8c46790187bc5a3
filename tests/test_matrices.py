"""Tests for plugrad.linalg's functions of matrices (core/matrices.py): inverses, solves,
determinants, Cholesky, QR, SVD, eigh, lstsq and norms, and their top-level forms
(plugrad.det, logdet, slogdet, inverse, cholesky).

Values and gradients are compared with torch (tests/torch_compare.py); first and second
derivatives are checked against finite differences in float64 (plugrad.autograd.gradcheck
and gradgradcheck, which differentiate plugrad's backward formulas, written with tensor ops).
"""
from __future__ import annotations

import numpy as np
import plugrad as pg
import pytest
from plugrad.autograd import gradcheck, gradgradcheck
from torch_compare import same_as_torch, same_error


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def well(*shape, seed=0):
    """Well-conditioned square matrices: random plus 3 I."""
    return rand(*shape, seed=seed) + 3 * np.eye(shape[-1])


def spd(*shape, seed=0):
    """Symmetric positive definite matrices."""
    a = rand(*shape, seed=seed)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def leaf(a):
    return pg.tensor(a, dtype=pg.float64, requires_grad=True)


SQUARE = [(3, 3), (2, 4, 4), (2, 1, 3, 3)]


# -- against torch: values, dtypes, grad_fn names, gradients -------------------------------------
@pytest.mark.parametrize("shape", SQUARE, ids=str)
@pytest.mark.parametrize("fn", [
    lambda lib, a: lib.linalg.inv(a),
    lambda lib, a: lib.inverse(a),
    lambda lib, a: a.inverse(),
    lambda lib, a: lib.linalg.det(a),
    lambda lib, a: lib.det(a),
    lambda lib, a: a.det(),
    lambda lib, a: lib.linalg.slogdet(a)[1],
    lambda lib, a: a.slogdet().logabsdet,
    lambda lib, a: lib.logdet(a),
], ids=["linalg.inv", "inverse", "Tensor.inverse", "linalg.det", "det", "Tensor.det",
        "linalg.slogdet", "Tensor.slogdet", "logdet"])
def test_inverse_and_determinants_match_torch(fn, shape):
    same_as_torch(fn, well(*shape))


def test_slogdet_and_logdet_of_negative_determinants_match_torch():
    a = np.diag([-2.0, 3.0, 1.5])
    same_as_torch(lambda lib, a: tuple(lib.linalg.slogdet(a)), a, names=False)
    torch = pytest.importorskip("torch")
    assert torch.isnan(torch.logdet(torch.tensor(a))) and pg.logdet(pg.tensor(a)).isnan()


@pytest.mark.parametrize("sa,sb", [((3, 3), (3, 2)), ((3, 3), (3,)), ((2, 3, 3), (2, 3)),
                                   ((2, 3, 3), (3, 1)), ((3, 3), (2, 3, 4)),
                                   ((2, 1, 3, 3), (4, 3, 2))], ids=str)
def test_solve_matches_torch(sa, sb):
    same_as_torch(lambda lib, a, b: lib.linalg.solve(a, b), well(*sa), rand(*sb, seed=1))


def test_solve_left_false_matches_torch():
    same_as_torch(lambda lib, a, b: lib.linalg.solve(a, b, left=False), well(3, 3),
                  rand(2, 3, seed=1), names=False)


@pytest.mark.parametrize("shape", SQUARE, ids=str)
@pytest.mark.parametrize("fn,names", [
    (lambda lib, a: lib.linalg.cholesky(a), True),
    (lambda lib, a: lib.linalg.cholesky(a, upper=True), False),
    (lambda lib, a: lib.cholesky(a), True),
    (lambda lib, a: a.cholesky(upper=True), False),
], ids=["linalg.cholesky", "upper", "cholesky", "Tensor.cholesky"])
def test_cholesky_matches_torch(fn, names, shape):
    pytest.importorskip("torch")
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.cholesky's deprecation
        same_as_torch(fn, spd(*shape), names=names)


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 5), (2, 4, 3)], ids=str)
def test_qr_matches_torch(shape):
    # Q and R are unique for full-rank A with LAPACK's signs (both use Householder)
    same_as_torch(lambda lib, a: tuple(lib.linalg.qr(a)), rand(*shape))


@pytest.mark.parametrize("shape", [(4, 3), (3, 5)], ids=str)
def test_qr_complete_and_r_modes_match_torch(shape):
    torch = pytest.importorskip("torch")
    a = rand(*shape)
    for mode in ("complete", "r"):
        t, p = torch.linalg.qr(torch.tensor(a), mode=mode), pg.linalg.qr(pg.tensor(a), mode=mode)
        for x, y in zip(t, p):
            assert tuple(x.shape) == tuple(y.shape)
            np.testing.assert_allclose(y.numpy(), x.numpy(), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 5), (2, 4, 3)], ids=str)
@pytest.mark.parametrize("full", [False, True])
def test_svd_gauge_invariant_losses_match_torch(shape, full):
    # U and Vh are unique up to signs: compare what does not depend on them
    def fn(lib, a):
        U, S, Vh = lib.linalg.svd(a, full_matrices=full)
        k = S.shape[-1]
        U, Vh = U[..., :, :k], Vh[..., :k, :]
        return S, U @ Vh, (U * U) @ S.unsqueeze(-1), S.unsqueeze(-1) * (Vh * Vh)
    same_as_torch(fn, rand(*shape), names=False)


def test_svdvals_and_values_match_torch():
    same_as_torch(lambda lib, a: lib.linalg.svdvals(a), rand(2, 4, 3))
    same_as_torch(lambda lib, a: lib.linalg.svd(a).S, rand(3, 5))


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_gauge_invariant_losses_match_torch(uplo):
    def fn(lib, a):
        w, v = lib.linalg.eigh(a, UPLO=uplo)
        return w, (v * v) @ w.unsqueeze(-1), lib.linalg.eigvalsh(a, UPLO=uplo)
    same_as_torch(fn, rand(2, 4, 4), names=False)


@pytest.mark.parametrize("sa,sb", [((5, 3), (5, 2)), ((5, 3), (5,)), ((3, 5), (3, 2)),
                                   ((2, 4, 3), (2, 4, 2))], ids=str)
def test_lstsq_matches_torch(sa, sb):
    same_as_torch(lambda lib, a, b: lib.linalg.lstsq(a, b).solution, rand(*sa),
                  rand(*sb, seed=1), names=False)
    torch = pytest.importorskip("torch")
    t = torch.linalg.lstsq(torch.tensor(rand(*sa)), torch.tensor(rand(*sb, seed=1)))
    p = pg.linalg.lstsq(pg.tensor(rand(*sa)), pg.tensor(rand(*sb, seed=1)))
    assert type(p).__name__ == type(t).__name__ == "linalg_lstsq"
    for a, b in zip(t[1:], p[1:]):
        assert tuple(a.shape) == tuple(b.shape) and b.tolist() == a.tolist()
        assert str(a.dtype).removeprefix("torch.") == b.dtype.name


@pytest.mark.parametrize("call", [
    lambda lib, a: lib.linalg.norm(a),
    lambda lib, a: lib.linalg.norm(a, 1),
    lambda lib, a: lib.linalg.norm(a, "nuc"),
    lambda lib, a: lib.linalg.norm(a, float("inf")),
    lambda lib, a: lib.linalg.norm(a, 2),
    lambda lib, a: lib.linalg.norm(a, -2),
    lambda lib, a: lib.linalg.norm(a, dim=1),
    lambda lib, a: lib.linalg.norm(a, 3, dim=0, keepdim=True),
    lambda lib, a: lib.linalg.vector_norm(a),
    lambda lib, a: lib.linalg.vector_norm(a, float("-inf"), dim=(0, 1)),
    lambda lib, a: lib.linalg.matrix_norm(a),
    lambda lib, a: lib.linalg.matrix_norm(a, -1),
    lambda lib, a: lib.linalg.matrix_norm(a, float("-inf"), keepdim=True),
    lambda lib, a: lib.linalg.matrix_norm(a, 1, dim=(1, 0)),
], ids=["default", "1", "nuc", "inf", "2", "-2", "dim1", "p3", "vector", "vector_-inf",
        "matrix", "matrix_-1", "matrix_-inf_keep", "matrix_dims"])
def test_norms_match_torch(call):
    same_as_torch(call, rand(4, 3))


@pytest.mark.parametrize("call", [
    lambda lib, a: lib.linalg.matrix_norm(a, "nuc", keepdim=True),
    lambda lib, a: lib.linalg.matrix_norm(a, 2, dim=(0, 2)),
    lambda lib, a: lib.linalg.norm(a, dim=(1, 2)),
    lambda lib, a: lib.linalg.matrix_norm(a, float("inf"), dim=(2, 0)),
], ids=["nuc_keep", "2_dims", "fro_dims", "inf_dims"])
def test_batched_matrix_norms_match_torch(call):
    same_as_torch(call, rand(2, 4, 3), names=False)


def test_return_types_are_named_like_torchs():
    torch = pytest.importorskip("torch")
    a = spd(3, 3)
    for name, fields in (("slogdet", ("sign", "logabsdet")), ("qr", ("Q", "R")),
                         ("svd", ("U", "S", "Vh")), ("eigh", ("eigenvalues", "eigenvectors")),
                         ("inv_ex", ("inverse", "info")), ("cholesky_ex", ("L", "info"))):
        t = getattr(torch.linalg, name)(torch.tensor(a))
        p = getattr(pg.linalg, name)(pg.tensor(a))
        assert type(p).__name__ == type(t).__name__
        for i, field in enumerate(fields):
            assert getattr(p, field) is p[i]
            # (eigenvectors and singular vectors up to sign)
            np.testing.assert_allclose(np.abs(getattr(p, field).numpy()),
                                       np.abs(getattr(t, field).numpy()), atol=1e-12)


# -- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn,a", [
    (lambda lib, a: lib.linalg.inv(a), np.zeros((3, 3))),
    (lambda lib, a: lib.inverse(a), np.ones((2, 2))),
    (lambda lib, a: lib.linalg.solve(a, a), np.zeros((2, 3, 3))),
    (lambda lib, a: lib.linalg.cholesky(a), -np.eye(3)),
    (lambda lib, a: lib.cholesky(a), np.ones((2, 3, 3))),
], ids=["singular", "inverse_singular", "solve_singular", "not_pd", "cholesky_not_pd"])
def test_linalg_errors_match_torchs(fn, a):
    torch = pytest.importorskip("torch")
    with pytest.raises(torch.linalg.LinAlgError):
        fn(torch, torch.tensor(a))
    with pytest.raises(pg.linalg.LinAlgError):
        fn(pg, pg.tensor(a))


@pytest.mark.parametrize("fn,a", [
    (lambda lib, a: lib.linalg.inv(a), np.zeros((2, 3))),
    (lambda lib, a: lib.linalg.det(a), np.zeros((2, 3))),
    (lambda lib, a: lib.linalg.inv(a), np.zeros(3)),
    (lambda lib, a: lib.linalg.eigh(a), np.zeros((3, 2))),
    (lambda lib, a: lib.linalg.inv(a), np.zeros((3, 3), dtype=np.int64)),
    (lambda lib, a: lib.linalg.qr(a, mode="full"), np.zeros((3, 3))),
    (lambda lib, a: lib.linalg.solve(a, a[:2]), np.eye(3)),
    (lambda lib, a: lib.linalg.matrix_norm(a, 3), np.eye(3)),
    (lambda lib, a: lib.linalg.norm(a, 2), np.ones((2, 2, 2))),
], ids=["not_square", "det_not_square", "1d", "eigh_not_square", "int", "qr_mode",
        "solve_shapes", "matrix_ord", "norm_3d"])
def test_errors_match_torchs_types(fn, a):
    same_error(fn, a)


def test_linalg_error_is_a_runtime_error_like_torchs():
    torch = pytest.importorskip("torch")
    assert issubclass(pg.linalg.LinAlgError, RuntimeError)
    assert issubclass(torch.linalg.LinAlgError, RuntimeError)
    with pytest.raises(pg.linalg.LinAlgError, match="singular"):
        pg.linalg.inv(pg.zeros(2, 2))
    with pytest.raises(pg.linalg.LinAlgError, match="positive-definite"):
        pg.linalg.cholesky(-pg.eye(2))


def test_ex_variants_report_failures_in_info():
    a = np.stack([np.eye(2), -np.eye(2), 2 * np.eye(2)])
    torch = pytest.importorskip("torch")
    t = torch.linalg.cholesky_ex(torch.tensor(a))
    p = pg.linalg.cholesky_ex(pg.tensor(a))
    assert (p.info != 0).tolist() == (t.info != 0).tolist() == [False, True, False]
    assert p.info.dtype is pg.int32
    np.testing.assert_allclose(p.L[0].numpy(), t.L[0].numpy())
    s = np.stack([np.eye(2), np.zeros((2, 2))])
    p = pg.linalg.inv_ex(pg.tensor(s))
    assert (p.info != 0).tolist() == [False, True]
    np.testing.assert_allclose(p.inverse[0].numpy(), np.eye(2))
    with pytest.raises(pg.linalg.LinAlgError):
        pg.linalg.inv_ex(pg.tensor(s), check_errors=True)


def test_no_top_level_names_that_torch_lacks():
    torch = pytest.importorskip("torch")
    for name in ("inv", "eigh", "svdvals", "vector_norm", "matrix_norm", "eigvalsh",
                 "inv_ex", "cholesky_ex"):
        assert hasattr(pg, name) is hasattr(torch, name) is False, name
    for name in ("det", "logdet", "slogdet", "inverse", "cholesky"):
        assert hasattr(torch, name) and hasattr(pg, name)
        assert hasattr(torch.Tensor, name) and hasattr(pg.Tensor, name)
    assert pg.linalg.matmul is pg.matmul  # the products stay in plugrad.linalg


# -- first and second derivatives against finite differences (float64) -------------------------
def _check(fn, *arrays):
    inputs = tuple(leaf(a) for a in arrays)
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


@pytest.mark.parametrize("fn", [
    pg.linalg.inv, pg.linalg.det, pg.logdet, lambda a: pg.linalg.slogdet(a).logabsdet,
    lambda a: pg.linalg.solve(a, a[..., :2] + 1.0),
    lambda a: pg.linalg.solve(a, a[..., 0] * 2.0, left=False),
], ids=["inv", "det", "logdet", "slogdet", "solve", "solve_left_false"])
def test_inverse_solve_det_gradgradcheck(fn):
    _check(fn, well(2, 3, 3))


def test_solve_gradgradcheck_in_b_and_broadcast_batches():
    _check(lambda a, b: pg.linalg.solve(a, b), well(2, 1, 3, 3), rand(4, 3, 2, seed=1))


def test_cholesky_gradgradcheck():
    # the input made symmetric in the function: the factorization reads one triangle
    _check(lambda a: pg.linalg.cholesky(a @ a.mT + 3 * pg.eye(3, dtype=pg.float64)),
           rand(2, 3, 3))
    _check(lambda a: pg.cholesky(a @ a.mT + 3 * pg.eye(3, dtype=pg.float64), upper=True),
           rand(3, 3))


@pytest.mark.parametrize("call", [
    lambda a: pg.linalg.norm(a), lambda a: pg.linalg.norm(a, 1),
    lambda a: pg.linalg.norm(a, float("inf")), lambda a: pg.linalg.norm(a, "nuc"),
    lambda a: pg.linalg.norm(a, 2), lambda a: pg.linalg.vector_norm(a, 3, dim=0),
    lambda a: pg.linalg.matrix_norm(a, -2),
], ids=["fro", "1", "inf", "nuc", "2", "vector3", "-2"])
def test_norms_gradgradcheck(call):
    _check(call, rand(4, 3))


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 5), (2, 4, 3)], ids=str)
def test_qr_gradgradcheck(shape):
    _check(lambda a: tuple(pg.linalg.qr(a)), rand(*shape))


def test_qr_complete_square_and_wide_gradgradcheck():
    _check(lambda a: tuple(pg.linalg.qr(a, mode="complete")), rand(3, 5))


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 5)], ids=str)
def test_svd_gradgradcheck_on_gauge_invariant_losses(shape):
    def fn(a):
        U, S, Vh = pg.linalg.svd(a, full_matrices=False)
        return S, U @ Vh, (U * U) @ S.unsqueeze(-1), S.unsqueeze(-1) * (Vh * Vh)
    _check(fn, rand(*shape))
    _check(lambda a: pg.linalg.svdvals(a), rand(*shape))


def test_eigh_gradgradcheck_on_gauge_invariant_losses():
    def fn(a):
        w, v = pg.linalg.eigh(a + a.mT)
        return w, (v * v) @ w.unsqueeze(-1), v @ v.mT * 2.0
    _check(fn, rand(2, 4, 4))
    _check(lambda a: pg.linalg.eigvalsh(a + a.mT), rand(3, 3))


@pytest.mark.parametrize("sa", [(5, 3), (3, 5)], ids=str)
def test_lstsq_gradgradcheck(sa):
    _check(lambda a, b: pg.linalg.lstsq(a, b).solution, rand(*sa), rand(sa[0], 2, seed=1))


def test_qr_backward_errors_like_torchs():
    a = leaf(rand(4, 3))
    with pytest.raises(RuntimeError, match="mode='complete'"):
        pg.linalg.qr(a, mode="complete").Q.sum().backward()
    with pytest.raises(RuntimeError, match="mode='r'"):
        pg.linalg.qr(a, mode="r").R.sum().backward()


def test_errors_leave_no_graph_and_float32_works():
    a = pg.tensor(np.zeros((2, 2)), requires_grad=True)
    with pytest.raises(pg.linalg.LinAlgError):
        pg.linalg.inv(a)
    assert a.grad is None
    x = pg.tensor(well(3, 3).astype(np.float32))
    out = pg.linalg.inv(x)
    assert out.dtype is pg.float32
    np.testing.assert_allclose((x @ out).numpy(), np.eye(3), atol=1e-5)


def test_docstring_examples():
    import doctest

    import plugrad.matrices
    result = doctest.testmod(plugrad.matrices, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 10 and result.failed == 0
