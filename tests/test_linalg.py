"""Tests for plugrad's matrix products (core/linalg.py): matmul, mm, bmm, dot.

Gradients are checked against central finite differences in float64
(tests/helpers.py), forward values against NumPy; an optional differential
test compares with torch when it is installed.
"""
from __future__ import annotations

import numpy as np
import plugrad as pg
import pytest
from helpers import as_numpy, check_grads, check_second_grads


def values(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# (shape of a, shape of b, shape of a @ b), covering torch's matmul cases
MATMUL_SHAPES = [
    ((3,), (3,), ()),                    # dot
    ((3,), (3, 4), (4,)),                # vector @ matrix
    ((2, 3), (3,), (2,)),                # matrix @ vector
    ((2, 3), (3, 4), (2, 4)),            # mm
    ((1, 1), (1, 1), (1, 1)),
    ((2, 3, 4), (4, 5), (2, 3, 5)),      # batch @ matrix
    ((4, 5), (2, 5, 3), (2, 4, 3)),      # matrix @ batch
    ((2, 3, 4), (2, 4, 5), (2, 3, 5)),   # bmm
    ((2, 1, 3, 4), (5, 4, 2), (2, 5, 3, 2)),  # broadcast batch dims
    ((1, 3, 4), (2, 4, 2), (2, 3, 2)),   # size-1 batch dim broadcast
    ((2, 3, 4), (4,), (2, 3)),           # batch @ vector
    ((3,), (2, 3, 4), (2, 4)),           # vector @ batch
    ((2, 0), (0, 3), (2, 3)),            # empty inner dim
]


@pytest.mark.parametrize("sa,sb,expected", MATMUL_SHAPES, ids=str)
def test_matmul_forward_matches_numpy(sa, sb, expected):
    a, b = values(sa, 1).astype(np.float32), values(sb, 2).astype(np.float32)
    out = pg.tensor(a) @ pg.tensor(b)
    assert tuple(out.shape) == expected
    assert out.dtype is pg.float32
    np.testing.assert_allclose(as_numpy(out), np.matmul(a, b), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype,np_dtype", [(pg.float64, np.float64), (pg.int64, np.int64),
                                            (pg.int32, np.int32)], ids=str)
def test_matmul_keeps_the_operand_dtype(dtype, np_dtype):
    a = np.arange(6).reshape(2, 3).astype(np_dtype)
    b = np.arange(12).reshape(3, 4).astype(np_dtype)
    out = pg.tensor(a, dtype=dtype) @ pg.tensor(b, dtype=dtype)
    assert out.dtype is dtype
    assert out.backend.dtype_of(out.array) is dtype
    np.testing.assert_array_equal(as_numpy(out), a @ b)


@pytest.mark.parametrize("sa,sb,expected", [s for s in MATMUL_SHAPES if 0 not in s[0]], ids=str)
def test_matmul_gradient_matches_finite_differences(sa, sb, expected):
    check_grads(lambda a, b: a @ b, values(sa, 3), values(sb, 4))


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)),
                                   ((2, 3), (3, 4)), ((2, 1, 3, 4), (5, 4, 2))], ids=str)
def test_matmul_second_derivative(sa, sb):
    check_second_grads(lambda a, b: a @ b, values(sa, 5), values(sb, 6))


@pytest.mark.parametrize("fn", [
    lambda a, b: pg.tanh(a @ b),
    lambda a, b: (a @ b) @ b.mT,
    lambda a, b: a @ (b * b),
], ids=["tanh(a@b)", "(a@b)@b.T", "a@(b*b)"])
def test_matmul_composite_second_derivative(fn):
    check_second_grads(fn, values((2, 3), 7), values((3, 3), 8))


def test_matmul_with_one_input_needing_grad():
    a = pg.tensor(values((2, 3), 9), dtype=pg.float64, requires_grad=True)
    b = pg.tensor(values((3, 4), 10), dtype=pg.float64)
    (a @ b).sum().backward()
    np.testing.assert_allclose(as_numpy(a.grad), np.ones((2, 4)) @ as_numpy(b).T)
    assert b.grad is None


def test_a_matrix_times_itself_gets_both_gradients():
    check_grads(lambda a: a @ a, values((3, 3), 11))


def test_mm_gradient():
    check_grads(pg.mm, values((2, 3), 12), values((3, 4), 13))


def test_bmm_gradient():
    check_grads(pg.bmm, values((2, 3, 4), 14), values((2, 4, 5), 15))


def test_dot_gradient():
    check_grads(pg.dot, values((4,), 16), values((4,), 17))


def test_matmul_method_and_operator_agree():
    a, b = pg.tensor(values((2, 3), 18)), pg.tensor(values((3, 2), 19))
    np.testing.assert_array_equal(as_numpy(a.matmul(b)), as_numpy(a @ b))
    np.testing.assert_array_equal(as_numpy(a.mm(b)), as_numpy(pg.matmul(a, b)))
    assert pg.Tensor.matmul is pg.matmul


def test_dot_of_vectors_is_0d():
    out = pg.dot(pg.tensor([1.0, 2.0, 3.0]), pg.tensor([4.0, 5.0, 6.0]))
    assert tuple(out.shape) == ()
    assert out.item() == 32.0


def test_bmm_forward_matches_numpy():
    a, b = values((3, 2, 4), 20), values((3, 4, 5), 21)
    out = pg.bmm(pg.tensor(a, dtype=pg.float64), pg.tensor(b, dtype=pg.float64))
    np.testing.assert_allclose(as_numpy(out), a @ b, rtol=1e-12)


# -- errors --------------------------------------------------------------------------------
def test_2d_shape_mismatch_message_matches_torch():
    with pytest.raises(RuntimeError) as info:
        pg.ones(2, 3) @ pg.ones(4, 5)
    assert str(info.value) == "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"


def test_mm_shape_mismatch_message_matches_torch():
    with pytest.raises(RuntimeError, match=r"\(2x3 and 4x5\)"):
        pg.mm(pg.ones(2, 3), pg.ones(4, 5))


@pytest.mark.parametrize("sa,sb", [((3,), (4,)), ((2, 3), (4,)), ((3,), (4, 5)),
                                   ((2, 2, 3), (3, 2, 3)), ((2, 3, 4), (5, 6)),
                                   ((2, 3, 4), (3, 4, 2))], ids=str)
def test_matmul_shape_mismatch_raises_runtime_error_naming_both_shapes(sa, sb):
    with pytest.raises(RuntimeError) as info:
        pg.ones(*sa) @ pg.ones(*sb)
    message = str(info.value)
    for shape in (sa, sb):
        assert "x".join(map(str, shape)) in message or str(list(shape)) in message \
            or f"({shape[0]})" in message


def test_vector_length_mismatch_message_matches_torch():
    with pytest.raises(RuntimeError, match=r"inconsistent tensor size, expected tensor \[3\] and "
                                           r"src \[4\]"):
        pg.ones(3) @ pg.ones(4)


@pytest.mark.parametrize("sa,sb", [((), (2,)), ((2,), ()), ((), ())], ids=str)
def test_matmul_with_a_0d_operand_raises_runtime_error(sa, sb):
    with pytest.raises(RuntimeError, match="at least 1D"):
        pg.ones(*sa) @ pg.ones(*sb)


@pytest.mark.parametrize("fn", [pg.matmul, pg.mm, pg.bmm, pg.dot], ids=lambda f: f.__name__)
def test_mixed_dtypes_raise_runtime_error_like_torch(fn):
    shape = {"mm": (2, 2), "bmm": (2, 2, 2), "dot": (2,)}.get(fn.__name__, (2, 2))
    with pytest.raises(RuntimeError, match="dtype"):
        fn(pg.ones(*shape), pg.ones(*shape, dtype=pg.float64))
    with pytest.raises(RuntimeError, match="dtype"):
        fn(pg.ones(*shape, dtype=pg.int64), pg.ones(*shape))


def test_mm_needs_matrices():
    with pytest.raises(RuntimeError):
        pg.mm(pg.ones(3), pg.ones(3, 3))
    with pytest.raises(RuntimeError):
        pg.mm(pg.ones(2, 3, 3), pg.ones(3, 3))


def test_bmm_needs_3d_with_equal_batch_sizes():
    with pytest.raises(RuntimeError):
        pg.bmm(pg.ones(3, 3), pg.ones(3, 3))
    with pytest.raises(RuntimeError):
        pg.bmm(pg.ones(2, 2, 3), pg.ones(3, 3, 2))
    with pytest.raises(RuntimeError):  # bmm does not broadcast batch dims
        pg.bmm(pg.ones(1, 2, 3), pg.ones(3, 3, 2))


def test_dot_needs_equal_length_vectors():
    with pytest.raises(RuntimeError, match="1D"):
        pg.dot(pg.ones(2, 2), pg.ones(2))
    with pytest.raises(RuntimeError, match="inconsistent tensor size"):
        pg.dot(pg.ones(2), pg.ones(3))


@pytest.mark.parametrize("other", [2.0, [1.0, 2.0], None], ids=repr)
def test_matmul_with_a_non_tensor_raises_type_error(other):
    with pytest.raises(TypeError):
        pg.matmul(pg.ones(2), other)
    with pytest.raises(TypeError):
        pg.matmul(other, pg.ones(2))


# -- grad_fn names -----------------------------------------------------------------------------
def _w(*shape):
    return pg.ones(*shape, requires_grad=True)


GRAD_FN_NAMES = [
    ("1-D @ 1-D", lambda: _w(3) @ _w(3), "DotBackward0"),
    ("2-D @ 1-D", lambda: _w(2, 3) @ _w(3), "MvBackward0"),
    ("2-D @ 2-D", lambda: _w(2, 3) @ _w(3, 4), "MmBackward0"),
    ("mm", lambda: pg.mm(_w(2, 3), _w(3, 4)), "MmBackward0"),
    ("bmm", lambda: pg.bmm(_w(2, 2, 3), _w(2, 3, 4)), "BmmBackward0"),
    ("dot", lambda: pg.dot(_w(3), _w(3)), "DotBackward0"),
    ("1-D @ 2-D", lambda: _w(3) @ _w(3, 4), "SqueezeBackward4"),
    ("3-D @ 2-D", lambda: _w(2, 2, 3) @ _w(3, 4), "UnsafeViewBackward0"),
    ("3-D @ 3-D", lambda: _w(2, 2, 3) @ _w(2, 3, 4), "UnsafeViewBackward0"),
]


@pytest.mark.parametrize("name,make,expected", GRAD_FN_NAMES, ids=[g[0] for g in GRAD_FN_NAMES])
def test_grad_fn_name_matches_torch(name, make, expected):
    assert make().grad_fn.name() == expected


def test_no_graph_without_requires_grad():
    assert (pg.ones(2, 3) @ pg.ones(3)).grad_fn is None
    with pg.no_grad():
        assert (_w(2, 3) @ _w(3)).grad_fn is None


# -- optional: differential test against torch ------------------------------------------------
DIFF_CASES = [(sa, sb, dt) for sa, sb, _ in MATMUL_SHAPES for dt in ("float32", "float64")]


@pytest.mark.parametrize("sa,sb,dt", DIFF_CASES, ids=[f"{a}@{b}-{d}" for a, b, d in DIFF_CASES])
def test_matmul_matches_torch(sa, sb, dt):
    torch = pytest.importorskip("torch")
    a, b = values(sa, 22), values(sb, 23)
    ours = [pg.tensor(v, dtype=getattr(pg, dt), requires_grad=True) for v in (a, b)]
    theirs = [torch.tensor(v, dtype=getattr(torch, dt), requires_grad=True) for v in (a, b)]
    out, ref = ours[0] @ ours[1], theirs[0] @ theirs[1]
    assert tuple(out.shape) == tuple(ref.shape)
    tol = dict(rtol=1e-5, atol=1e-5) if dt == "float32" else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(as_numpy(out), ref.detach().numpy(), **tol)
    grad_out = values(tuple(ref.shape), 24)
    out.backward(pg.tensor(grad_out, dtype=out.dtype))
    ref.backward(torch.tensor(grad_out, dtype=ref.dtype))
    for mine, other in zip(ours, theirs):
        assert mine.grad.dtype.name == dt
        np.testing.assert_allclose(as_numpy(mine.grad), other.grad.numpy(), **tol)


# -- mv, the addmm family, trace, outer, kron, cross, tensordot, einsum, isclose: against torch ----
from torch_compare import same_as_torch, same_error  # noqa: E402 - the torch comparisons below

_r = np.random.default_rng(7)
M34, M23, M43, S33 = (_r.standard_normal(s) for s in ((3, 4), (2, 3), (4, 3), (3, 3)))
V3, V4, V2 = (_r.standard_normal(s) for s in ((3,), (4,), (2,)))
B234, B243, B224 = (_r.standard_normal(s) for s in ((2, 3, 4), (2, 4, 3), (2, 2, 4)))


@pytest.mark.parametrize("fn, arrays", [
    (lambda m, a, v: m.mv(a, v), [M34, V4]),
    (lambda m, a, v: a.mv(v), [M23, V3]),
    (lambda m, c, a, b: m.addmm(c, a, b), [M34, S33, M34 * 2]),
    (lambda m, c, a, b: c.addmm(a, b, beta=0.5, alpha=2), [V4, S33, M34]),
    (lambda m, c, a, b: c.clone().addmm_(a, b, alpha=-1), [M34, M34[:, :3].copy(), M34]),
    (lambda m, c, a, v: m.addmv(c, a, v, beta=2), [V3, M34, V4]),
    (lambda m, c, a, v: c.clone().addmv_(a, v), [V3, M34, V4]),
    (lambda m, c, a, b: m.baddbmm(c, a, b, beta=2, alpha=0.5), [B224[:, :, :3].copy(),
                                                                B224, B243]),
    (lambda m, c, a, b: c.baddbmm(a, b), [S33, B234, B243]),
    (lambda m, c, a, b: c.clone().baddbmm_(a, b), [B224[:, :, :2].copy(), B224, B243[:, :, :2]
                                                   .copy()]),
    (lambda m, x: m.trace(x), [M34]),
    (lambda m, x: x.trace(), [S33]),
    (lambda m, x: m.trace(x.int()), [S33 * 3]),
    (lambda m, a, b: m.outer(a, b), [V3, V4]),
    (lambda m, a, b: a.outer(b), [V2, V3]),
    (lambda m, a, b: m.outer(a.int(), b), [V3 * 3, V4]),
    (lambda m, a, b: m.kron(a, b), [M23, S33]),
    (lambda m, a, b: a.kron(b), [V3, M23]),
    (lambda m, a, b: m.cross(a, b, dim=0), [M34[:, :2].copy(), S33[:, :2].copy()]),
    (lambda m, a, b: a.cross(b, dim=-1), [M23, S33[:1].copy()]),
    (lambda m, a, b: m.tensordot(a, b), [B234, M34]),
    (lambda m, a, b: m.tensordot(a, b, dims=([2, 0], [1, 2])), [B234, B234.transpose(1, 2, 0)
                                                               .copy()]),
    (lambda m, a, b: m.tensordot(a, b, dims=0), [V2, V3]),
    (lambda m, a, b: m.tensordot(a, b, 1), [M34, V4]),
])
def test_products_match_torch(fn, arrays):
    same_as_torch(fn, *arrays)


@pytest.mark.parametrize("eq, arrays", [
    ("ij,jk->ik", [M23, S33]), ("bij,bjk->bik", [B234, B243]), ("i,i->", [V3, V3 * 2]),
    ("ij->ji", [M34]), ("ii->i", [S33]), ("ii", [S33]), ("i,j", [V2, V3]),
    ("ij,ik,i->jk", [M23.T.copy(), M34, V3]), ("bij->j", [B234]),
    ("ij,ij->ij", [M34, M34 * 3]), ("bij,jk", [B234, M43]), ("iij->j", [S33[:, :, None] *
                                                                        np.ones(2)]),
])
def test_einsum_matches_torch(eq, arrays):
    same_as_torch(lambda m, *ts: m.einsum(eq, *ts), *arrays, names=False)
    same_as_torch(lambda m, *ts: m.einsum(eq, list(ts)), *arrays, names=False)


@pytest.mark.parametrize("fn, arrays", [
    (lambda m, a, b: m.isclose(a, b), [M34, M34 + 1e-9]),
    (lambda m, a, b: a.isclose(b, rtol=0.5, atol=0.0), [M34, M34 * 1.4]),
    (lambda m, a: m.isclose(a / 0, a / 0), [V3]),
    (lambda m, a: m.isclose(a / 0, a / 0, equal_nan=True), [np.array([0.0, 1.0, -1.0])]),
    (lambda m, a: m.isclose(a.int(), (a * 2).int()), [V3 * 3]),
    (lambda m, a: m.isclose(a > 0, a > 1), [V3]),
    (lambda m, a, b: m.allclose(a, b), [M34, M34 + 1e-9]),
    (lambda m, a, b: a.allclose(b, atol=0.01), [M34, M34 + 0.1]),
    (lambda m, a: m.equal(a, a.clone()), [M34]),
    (lambda m, a: a.equal(a[:2]), [M34]),
    (lambda m, a: m.equal(a, a.float()), [M34]),
    (lambda m, a: m.equal(a.long(), a.long().double()), [M34 * 3]),
])
def test_comparisons_match_torch(fn, arrays):
    same_as_torch(fn, *arrays)


@pytest.mark.parametrize("fn, arrays", [
    (lambda m, a, v: m.mv(a, v), [M34, V3]),
    (lambda m, a, v: m.mv(a, v.float()), [M34, V4]),
    (lambda m, a: m.mv(a, a), [M34]),
    (lambda m, c, a, b: m.addmm(c.long(), a, b), [M34, M23.T.copy(), M43.T.copy()]),
    (lambda m, c, a, b: m.addmm(c, a, b), [V3, M23.T.copy(), M43.T.copy()]),
    (lambda m, x: m.trace(x), [V3]),
    (lambda m, a, b: m.outer(a, b), [M34, V3]),
    (lambda m, a, b: m.cross(a, b, dim=0), [V2, V2]),
    (lambda m, a, b: m.cross(a, b, dim=0), [S33, V3]),
    (lambda m, a, b: m.tensordot(a, b), [M34, M43]),
    (lambda m, a, b: m.tensordot(a, b, dims=([0], [0, 1])), [M34, M34]),
    (lambda m, a: m.einsum("ij,jk->ik", a), [M34]),
    (lambda m, a: m.einsum("ijk->i", a), [M34]),
    (lambda m, a: m.einsum("ij->k", a), [M34]),
    (lambda m, a: m.einsum("ij,jk", a, a), [M34]),
    (lambda m, a, b: m.isclose(a, b.float()), [V3, V3]),
])
def test_product_errors_match_torch(fn, arrays):
    same_error(fn, *arrays)


def test_einsum_refuses_ellipsis():
    with pytest.raises(NotImplementedError, match="ellipsis"):
        pg.einsum("...ij->...ji", pg.ones(2, 3))


def test_cross_without_dim_warns_like_torch():
    with pytest.warns(UserWarning, match="dim"):
        pg.cross(pg.tensor(S33), pg.tensor(S33))


@pytest.mark.parametrize("op", [
    lambda a: pg.einsum("ij,jk->ik", a, a.T) ** 2, lambda a: pg.kron(a, a).sum() * a,
    lambda a: pg.cross(a, a ** 2, dim=0), lambda a: pg.addmm(a, a, a.T @ a, alpha=2) ** 2,
    lambda a: pg.tensordot(a, a ** 2, dims=([1], [1])),
])
def test_second_derivatives_of_products(op):
    check_second_grads(op, S33)


@pytest.mark.parametrize("reason", ["shapes", "other"])
def test_a_kernel_raising_type_error_on_shapes_gives_torchs_error(monkeypatch, reason):
    # JAX raises TypeError for operands that cannot be multiplied, NumPy ValueError; an error
    # with shapes that can be multiplied is the library's own and passes through
    k = pg.backends.get("numpy")

    def matmul(a, b):
        raise TypeError("dot_general requires contracting dimensions to have the same shape")
    monkeypatch.setattr(k, "matmul", matmul)
    a, b = pg.ones(2, 3), pg.ones(4 if reason == "shapes" else 3, 2)
    with pytest.raises(RuntimeError if reason == "shapes" else TypeError):
        a @ b
