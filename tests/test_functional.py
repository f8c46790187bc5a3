"""autograd.functional: jacobian, hessian, vjp, jvp, hvp, vhp against analytic results."""
from __future__ import annotations

import doctest

import numpy as np
import plugrad as pg
import pytest
from helpers import as_numpy
from plugrad.autograd.functional import hessian, hvp, jacobian, jvp, vhp, vjp


def t(values, **kwargs):
    return pg.tensor(values, dtype=pg.float64, **kwargs)


def numeric_jacobian(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """d f(x) / d x by central differences, shape f(x).shape + x.shape."""
    out = as_numpy(f(t(x)))
    jac = np.zeros(out.shape + x.shape)
    for idx in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[idx] = eps
        jac[(Ellipsis,) + idx] = (as_numpy(f(t(x + step))) - as_numpy(f(t(x - step)))) / (2 * eps)
    return jac


X = np.array([[0.3, -0.5, 0.8], [1.2, 0.1, -0.9]])


def f_matrix(x):
    return (x.exp() * x.sum(1, keepdim=True)).tanh()


def f_scalar(x):
    return (x.sin() * x * x).sum() + (x.sum(0) ** 2).sum()


# -- jacobian ----------------------------------------------------------------------------------
def test_jacobian_matches_finite_differences():
    got = jacobian(f_matrix, t(X))
    assert tuple(got.shape) == X.shape + X.shape
    np.testing.assert_allclose(as_numpy(got), numeric_jacobian(f_matrix, X), rtol=1e-6,
                               atol=1e-8)


def test_jacobian_of_tuples_is_a_tuple_of_tuples():
    a, b = t([1.0, 2.0]), t([3.0, 4.0, 5.0])
    jac = jacobian(lambda a, b: (a.sum() * b, a * 2), (a, b))
    assert [[tuple(j.shape) for j in row] for row in jac] == [[(3, 2), (3, 3)], [(2, 2), (2, 3)]]
    np.testing.assert_allclose(as_numpy(jac[0][0]), [[3, 3], [4, 4], [5, 5]])
    np.testing.assert_allclose(as_numpy(jac[0][1]), 3 * np.eye(3))
    np.testing.assert_allclose(as_numpy(jac[1][0]), 2 * np.eye(2))
    np.testing.assert_allclose(as_numpy(jac[1][1]), np.zeros((2, 3)))


@pytest.mark.parametrize("inputs_tuple, outputs_tuple", [(False, False), (True, False),
                                                         (False, True), (True, True)])
def test_jacobian_nesting_follows_the_arguments(inputs_tuple, outputs_tuple):
    x = t([1.0, 2.0])
    func = (lambda a: (a * 2,)) if outputs_tuple else (lambda a: a * 2)
    jac = jacobian(func, (x,) if inputs_tuple else x)
    for level in (outputs_tuple, inputs_tuple):
        if level:
            assert isinstance(jac, tuple) and len(jac) == 1
            jac = jac[0]
    np.testing.assert_allclose(as_numpy(jac), 2 * np.eye(2))


def test_jacobian_of_a_scalar_output_and_a_scalar_input():
    assert tuple(jacobian(lambda a: a.sum(), t([1.0, 2.0])).shape) == (2,)
    assert jacobian(lambda a: a ** 3, t(2.0)).item() == 12.0


def test_jacobian_results_are_detached_unless_create_graph():
    x = t([1.0, 2.0], requires_grad=True)
    assert not jacobian(lambda a: a ** 2, x).requires_grad
    jac = jacobian(lambda a: a ** 2, x, create_graph=True)
    assert jac.requires_grad
    jac.sum().backward()  # d/dx of sum(diag(2x)) = 2
    np.testing.assert_allclose(as_numpy(x.grad), [2.0, 2.0])


def test_jacobian_independent_output_is_zero_or_a_strict_error():
    x, y = t([1.0, 2.0]), t([3.0])
    jac = jacobian(lambda a, b: a * 2, (x, y))
    np.testing.assert_allclose(as_numpy(jac[1]), np.zeros((2, 1)))
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is "
                                           "independent of input 1"):
        jacobian(lambda a, b: a * 2, (x, y), strict=True)
    with pytest.raises(RuntimeError, match="does not require gradients"):
        jacobian(lambda a: a.detach() * 2, x, strict=True)


def test_jacobian_argument_errors_like_torch():
    x = t([1.0])
    with pytest.raises(TypeError, match="inputs given to jacobian must be either a Tensor or a "
                                        "tuple of Tensors"):
        jacobian(lambda a: a, [x])
    with pytest.raises(TypeError, match="outputs of the user-provided function"):
        jacobian(lambda a: 3, x)
    with pytest.raises(RuntimeError, match="`strict=True` and `vectorized=True`"):
        jacobian(lambda a: a, x, strict=True, vectorize=True)
    with pytest.raises(AssertionError, match="forward-mode"):
        jacobian(lambda a: a, x, strategy="sideways")
    with pytest.raises(NotImplementedError, match="forward-mode"):
        jacobian(lambda a: a, x, strategy="forward-mode")


def test_vectorize_is_accepted_and_gives_the_same_result():
    x = t(X)
    np.testing.assert_allclose(as_numpy(jacobian(f_matrix, x, vectorize=True)),
                               as_numpy(jacobian(f_matrix, x)))


# -- hessian ------------------------------------------------------------------------------------
def test_hessian_matches_finite_differences_of_the_gradient():
    x = t(X)
    got = hessian(f_scalar, x)

    def grad_of(xt):
        xt = xt.detach().requires_grad_()
        return pg.autograd.grad(f_scalar(xt), xt)[0]

    np.testing.assert_allclose(as_numpy(got), numeric_jacobian(grad_of, X), rtol=1e-5,
                               atol=1e-7)
    # symmetric
    flat = as_numpy(got).reshape(6, 6)
    np.testing.assert_allclose(flat, flat.T, atol=1e-12)


def test_hessian_of_two_inputs_has_all_four_blocks():
    a, b = t([1.0, 2.0]), t([3.0, 4.0, 5.0])
    h = hessian(lambda a, b: (a ** 2).sum() * b.sum(), (a, b))
    assert [[tuple(x.shape) for x in row] for row in h] == [[(2, 2), (2, 3)], [(3, 2), (3, 3)]]
    np.testing.assert_allclose(as_numpy(h[0][0]), 2 * 12 * np.eye(2))
    np.testing.assert_allclose(as_numpy(h[0][1]), [[2, 2, 2], [4, 4, 4]])
    np.testing.assert_allclose(as_numpy(h[1][0]), [[2, 4]] * 3)
    np.testing.assert_allclose(as_numpy(h[1][1]), np.zeros((3, 3)))


def test_hessian_needs_one_output_element():
    with pytest.raises(RuntimeError, match="should contain a single element"):
        hessian(lambda a: a ** 2, t([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="should return a single Tensor"):
        hessian(lambda a: (a.sum(),), t([1.0, 2.0]))


def test_hessian_of_a_linear_function_is_zero_or_a_strict_error():
    x = t([1.0, 2.0])
    np.testing.assert_allclose(as_numpy(hessian(lambda a: a.sum() * 3, x)), np.zeros((2, 2)))
    with pytest.raises(RuntimeError, match="jacobian of the user-provided function with "
                                           "respect to input 0 is independent"):
        hessian(lambda a: a.sum() * 3, x, strict=True)


# -- vector products ----------------------------------------------------------------------------
def test_vjp_is_v_times_the_jacobian():
    v = np.random.default_rng(0).standard_normal(X.shape)
    out, got = vjp(f_matrix, t(X), t(v))
    np.testing.assert_allclose(as_numpy(out), as_numpy(f_matrix(t(X))))
    expected = np.tensordot(v, numeric_jacobian(f_matrix, X), axes=2)
    np.testing.assert_allclose(as_numpy(got), expected, rtol=1e-6, atol=1e-8)


def test_jvp_is_the_jacobian_times_v():
    v = np.random.default_rng(1).standard_normal(X.shape)
    out, got = jvp(f_matrix, t(X), t(v))
    expected = np.tensordot(numeric_jacobian(f_matrix, X), v, axes=2)
    np.testing.assert_allclose(as_numpy(got), expected, rtol=1e-6, atol=1e-8)


def test_hvp_and_vhp_are_the_hessian_times_v():
    v = np.random.default_rng(2).standard_normal(X.shape)
    h = as_numpy(hessian(f_scalar, t(X))).reshape(6, 6)
    expected = (h @ v.reshape(6)).reshape(X.shape)
    out, got_hvp = hvp(f_scalar, t(X), t(v))
    _, got_vhp = vhp(f_scalar, t(X), t(v))
    assert out.item() == pytest.approx(f_scalar(t(X)).item())
    np.testing.assert_allclose(as_numpy(got_hvp), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(as_numpy(got_vhp), expected, rtol=1e-10, atol=1e-12)


def test_vector_may_be_omitted_only_for_one_element():
    out, g = vjp(lambda a: (a ** 2).sum(), t([1.0, 2.0]))
    np.testing.assert_allclose(as_numpy(g), [2.0, 4.0])
    out, d = jvp(lambda a: a ** 3, t(2.0))
    assert d.item() == 12.0
    with pytest.raises(RuntimeError, match="v can only be None if the user-provided function "
                                           "returns a single Tensor with a single element"):
        vjp(lambda a: a ** 2, t([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="v can only be None if the input to the "
                                           "user-provided function is a single Tensor"):
        jvp(lambda a: a ** 2, t([1.0, 2.0]))


def test_vector_shape_is_checked():
    with pytest.raises(RuntimeError, match=r"v has invalid size: should be plugrad.Size\(\[2\]\) "
                                           r"but got plugrad.Size\(\[3\]\)"):
        vjp(lambda a: a ** 2, t([1.0, 2.0]), t([1.0, 1.0, 1.0]))
    with pytest.raises(RuntimeError, match="v is a tuple of invalid length"):
        vjp(lambda a: (a, a), t([1.0]), (t([1.0]),))
    with pytest.raises(RuntimeError, match="should contain a single Tensor"):
        vjp(lambda a: a, t([1.0]), (t([1.0]), t([1.0])))


def test_tuple_structures_of_vector_products():
    a, b = t([1.0, 2.0]), t([3.0])
    out, g = vjp(lambda a, b: (a * b, a.sum()), (a, b), (t([1.0, 1.0]), t(1.0)))
    assert isinstance(out, tuple) and isinstance(g, tuple)
    np.testing.assert_allclose(as_numpy(g[0]), [4.0, 4.0])
    np.testing.assert_allclose(as_numpy(g[1]), [3.0])
    out, d = jvp(lambda a: (a, a * 2), (a,), (t([1.0, 0.0]),))
    np.testing.assert_allclose(as_numpy(d[0]), [1.0, 0.0])
    np.testing.assert_allclose(as_numpy(d[1]), [2.0, 0.0])


def test_create_graph_makes_products_differentiable():
    x = t([1.0, 2.0], requires_grad=True)
    _, g = vjp(lambda a: a ** 3, x, t([1.0, 1.0]), create_graph=True)
    g.sum().backward()  # d/dx sum(3 x^2) = 6x
    np.testing.assert_allclose(as_numpy(x.grad), [6.0, 12.0])
    x.grad = None
    _, p = hvp(lambda a: (a ** 4).sum(), x, t([1.0, 1.0]), create_graph=True)
    p.sum().backward()  # hvp = 12 x^2 v, its gradient 24 x
    np.testing.assert_allclose(as_numpy(x.grad), [24.0, 48.0])


def test_strict_mode_errors_of_vector_products():
    x = t([1.0, 2.0])
    with pytest.raises(RuntimeError, match="independent of input 1"):
        jvp(lambda a, b: a * 2, (x, t([1.0])), (t([1.0, 1.0]), t([1.0])), strict=True)
    with pytest.raises(RuntimeError, match="jacobian of the user-provided function with "
                                           "respect to input 0 is independent"):
        hvp(lambda a: (a * 2).sum(), x, t([1.0, 1.0]), strict=True)
    with pytest.raises(RuntimeError, match="should contain a single element"):
        vhp(lambda a: a * 2, x, t([1.0, 1.0]))


def test_functions_do_not_touch_the_callers_graph():
    x = t([1.0, 2.0], requires_grad=True)
    jacobian(lambda a: a ** 2, x)
    hessian(lambda a: (a ** 3).sum(), x)
    assert x.grad is None


def test_on_another_backend():
    array_api = pytest.importorskip("plugrad.backends.array_api")
    strict = pytest.importorskip("array_api_strict")
    bk = array_api.ArrayAPIBackend(strict, "array_api_strict")
    x = pg.tensor([1.0, 2.0], dtype=pg.float64, backend=bk)
    h = hessian(lambda a: (a ** 3).sum(), x)
    assert h.backend is bk
    np.testing.assert_allclose(np.array(h.tolist()), [[6.0, 0.0], [0.0, 12.0]])
    _, d = jvp(lambda a: a.sin(), x, pg.ones(2, dtype=pg.float64, backend=bk))
    np.testing.assert_allclose(d.tolist(), np.cos([1.0, 2.0]))


def test_matches_torch_when_torch_is_installed():
    torch = pytest.importorskip("torch")
    from torch.autograd import functional as tf

    def run(lib, fn, *args):
        conv = [lib.tensor(a, dtype=lib.float64) for a in args]
        return fn(lambda a, b: ((a.exp() * b.sum()).tanh() * a).sum(), tuple(conv))

    a, b = np.array([0.1, -0.4]), np.array([0.7, 0.2, 0.5])
    for name in ("jacobian", "hessian"):
        ours = run(pg, getattr(pg.autograd.functional, name), a, b)
        theirs = run(torch, getattr(tf, name), a, b)
        flat_ours = [x for row in (ours if name == "hessian" else (ours,)) for x in row]
        flat_theirs = [x for row in (theirs if name == "hessian" else (theirs,)) for x in row]
        for o, th in zip(flat_ours, flat_theirs):
            np.testing.assert_allclose(as_numpy(o), th.numpy(), rtol=1e-10, atol=1e-12)


def test_docstring_examples():
    import plugrad.autograd.functional as module
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
