"""Reductions and normalisations (core/reduction.py): values, dtypes, errors and gradients.

Gradients are checked against central differences in float64 (tests/helpers.py);
where finite differences cannot decide (ties), the expected values are torch's.
"""
from __future__ import annotations

import numpy as np
import plugrad as pg
import pytest
from helpers import as_numpy, check_grads, check_second_grads


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def distinct(*shape, seed=0):
    """Values without ties (so max/min are differentiable everywhere)."""
    n = int(np.prod(shape))
    return np.random.default_rng(seed).permutation(n).reshape(shape) * 0.37 - n * 0.1


SHAPE = (2, 3, 4)
DIMS = [None, 0, 1, -1, (0, 2), (-1, 0), [1]]
DIMS_0D = [None, 0, -1, (0,)]
KEEPDIM = [False, True]


def np_dims(dim):
    """NumPy's axis for one of DIMS."""
    return tuple(dim) if isinstance(dim, list) else dim


def call(op, x, dim, keepdim):
    return op(x) if dim is None and not keepdim else op(x, dim, keepdim=keepdim)


# -- sum / mean ---------------------------------------------------------------------------------
@pytest.mark.parametrize("keepdim", KEEPDIM)
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_sum_mean_values_match_numpy(name, dim, keepdim):
    a = randn(*SHAPE)
    out = call(getattr(pg, name), pg.tensor(a), dim, keepdim)
    want = getattr(np, name)(a, axis=np_dims(dim), keepdims=keepdim)
    assert tuple(out.shape) == want.shape
    np.testing.assert_allclose(as_numpy(out), want, rtol=1e-6)


@pytest.mark.parametrize("keepdim", KEEPDIM)
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_sum_mean_grads(name, dim, keepdim):
    check_grads(lambda x: call(getattr(pg, name), x, dim, keepdim), randn(*SHAPE))


# prod takes one int dim only, and logsumexp needs a dim
ZERO_D_CASES = [(name, dim) for name in ("sum", "mean", "prod", "amax", "amin", "logsumexp")
                for dim in DIMS_0D
                if not (name == "prod" and isinstance(dim, tuple))
                and not (name == "logsumexp" and dim is None)]


@pytest.mark.parametrize("keepdim", KEEPDIM)
@pytest.mark.parametrize("name,dim", ZERO_D_CASES)
def test_reductions_of_0d_tensors(name, dim, keepdim):
    op = getattr(pg, name)
    out = call(op, pg.tensor(1.5, dtype=pg.float64), dim, keepdim)
    assert out.shape == ()
    np.testing.assert_allclose(as_numpy(out), 1.5)
    check_grads(lambda x: call(op, x, dim, keepdim), np.array(1.5))


def test_sum_over_an_empty_tuple_of_dims_reduces_everything():
    x = pg.tensor(randn(2, 3))
    assert pg.sum(x, ()).shape == ()
    np.testing.assert_allclose(as_numpy(pg.sum(x, ())), randn(2, 3).sum(), rtol=1e-6)


def test_sum_and_mean_grad_fn_names():
    x = pg.ones(2, 3, requires_grad=True)
    assert x.sum().grad_fn.name() == "SumBackward0"
    assert x.sum(0).grad_fn.name() == "SumBackward1"
    assert x.mean().grad_fn.name() == "MeanBackward0"
    assert x.mean(1).grad_fn.name() == "MeanBackward1"


@pytest.mark.parametrize("dtype", [pg.int32, pg.int64, pg.bool])
def test_sum_of_integers_and_bools_is_int64(dtype):
    x = pg.tensor([[1, 0, 1], [1, 1, 0]], dtype=dtype)
    assert x.sum().dtype is pg.int64
    assert x.sum(0).dtype is pg.int64
    assert x.sum().item() == 4
    assert x.sum(1).tolist() == [2, 2]


def test_sum_with_dtype_argument():
    x = pg.tensor([1, 2, 3])
    out = x.sum(dtype=pg.float64)
    assert out.dtype is pg.float64 and out.item() == 6.0


def test_mean_of_integer_tensor_raises_like_torch():
    with pytest.raises(RuntimeError, match="mean"):
        pg.tensor([1, 2, 3]).mean()
    assert pg.tensor([1, 2]).mean(dtype=pg.float64).item() == 1.5


@pytest.mark.parametrize("dim", [(0, 0), (1, -1)])
def test_repeated_dims_raise(dim):
    with pytest.raises(RuntimeError, match="appears multiple times"):
        pg.zeros(3, 2).sum(dim)


@pytest.mark.parametrize("dim", [2, -3])
@pytest.mark.parametrize("name", ["sum", "mean", "prod", "amax", "max", "argmax", "var",
                                  "softmax", "log_softmax", "logsumexp", "all"])
def test_dim_out_of_range_is_index_error(name, dim):
    msg = rf"Dimension out of range \(expected to be in range of \[-2, 1\], but got {dim}\)"
    with pytest.raises(IndexError, match=msg):
        getattr(pg, name)(pg.zeros(3, 2), dim)


def test_dim_out_of_range_on_0d_tensor():
    with pytest.raises(IndexError, match=r"\[-1, 0\], but got 1"):
        pg.tensor(1.0).sum(1)


@pytest.mark.parametrize("keepdim", KEEPDIM)
@pytest.mark.parametrize("dim", [None, 0, (0, 1), 1])
def test_second_derivatives_of_sum_and_mean(dim, keepdim):
    # sum and mean are linear: squaring gives them a non-zero second derivative
    check_second_grads(lambda x: (call(pg.sum, x, dim, keepdim) ** 2), randn(2, 3))
    check_second_grads(lambda x: (call(pg.mean, x * x, dim, keepdim) ** 2), randn(2, 3))


# -- prod ---------------------------------------------------------------------------------------
PROD_INPUTS = {
    "no_zero": randn(3, 4),
    "one_zero": np.array([[1.5, 0.0, -2.0, 0.7], [0.3, 1.2, -0.4, 2.0], [1.1, 0.9, 0.8, 1.3]]),
    "two_zeros": np.array([[1.5, 0.0, -2.0, 0.0], [0.3, 0.0, -0.4, 2.0], [1.1, 0.9, 0.8, 1.3]]),
    "three_zeros": np.array([[0.0, 0.0, -2.0, 0.0], [0.3, 1.7, -0.4, 2.0], [1.1, 0.9, 0.8, 1.3]]),
}


@pytest.mark.parametrize("keepdim", KEEPDIM)
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("case", sorted(PROD_INPUTS))
def test_prod_values_and_grads(case, dim, keepdim):
    a = PROD_INPUTS[case]
    out = call(pg.prod, pg.tensor(a), dim, keepdim)
    np.testing.assert_allclose(as_numpy(out), np.prod(a, axis=dim, keepdims=keepdim), rtol=1e-6)
    check_grads(lambda x: call(pg.prod, x, dim, keepdim), a)


@pytest.mark.parametrize("dim", [None, 1, -2])
@pytest.mark.parametrize("case", sorted(PROD_INPUTS))
def test_prod_second_derivatives(case, dim):
    check_second_grads(lambda x: call(pg.prod, x, dim, False), PROD_INPUTS[case])


def test_prod_of_a_lone_zero_gets_the_product_of_the_others():
    x = pg.tensor([2.0, 0.0, 3.0], requires_grad=True)
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 6.0, 0.0]


def test_prod_dtype_and_tuple_dim():
    assert pg.tensor([2, 3], dtype=pg.int32).prod().dtype is pg.int64
    assert pg.tensor([2, 3]).prod().item() == 6
    with pytest.raises(TypeError):
        pg.ones(2, 2).prod((0, 1))


def test_prod_grad_fn_names():
    x = pg.ones(2, 3, requires_grad=True)
    assert x.prod().grad_fn.name() == "ProdBackward0"
    assert x.prod(1).grad_fn.name() == "ProdBackward1"


# -- max / min / amax / amin --------------------------------------------------------------------
@pytest.mark.parametrize("name", ["max", "min"])
def test_full_max_min_values_and_grads(name):
    a = distinct(*SHAPE)
    out = getattr(pg, name)(pg.tensor(a))
    assert out.shape == () and out.item() == getattr(np, name)(a)
    check_grads(lambda x: getattr(pg, name)(x), a)


@pytest.mark.parametrize("keepdim", KEEPDIM)
@pytest.mark.parametrize("dim", [0, 1, -1, 2])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_with_dim_return_values_and_indices(name, dim, keepdim):
    a = distinct(*SHAPE)
    result = getattr(pg, name)(pg.tensor(a), dim, keepdim=keepdim)
    values, indices = result
    assert result.values is values and result.indices is indices
    np.testing.assert_array_equal(as_numpy(values),
                                  getattr(np, name)(a, axis=dim, keepdims=keepdim))
    arg = np.argmax if name == "max" else np.argmin
    np.testing.assert_array_equal(as_numpy(indices), arg(a, axis=dim, keepdims=keepdim))
    assert indices.dtype is pg.int64
    check_grads(lambda x: getattr(pg, name)(x, dim, keepdim=keepdim).values, a)


def test_max_with_dim_on_0d_tensor():
    values, indices = pg.max(pg.tensor(3.0), 0)
    assert values.item() == 3.0 and indices.item() == 0 and indices.shape == ()


def test_max_with_dim_sends_gradient_only_to_the_returned_index():
    x = pg.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.5]], requires_grad=True)
    values, indices = x.max(1)
    assert indices.tolist() == [1, 0]  # the first of the ties, as torch on CPU
    values.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]


def test_min_with_dim_sends_gradient_only_to_the_returned_index():
    x = pg.tensor([0.5, 0.5, 2.0], requires_grad=True)
    values, indices = x.min(0)
    assert indices.item() == 0
    values.backward()
    assert x.grad.tolist() == [1.0, 0.0, 0.0]


@pytest.mark.parametrize("name", ["max", "min", "amax", "amin"])
def test_full_extremes_share_gradient_evenly_among_ties(name):
    x = pg.tensor([1.0, 4.0, 4.0, 4.0, -4.0, -4.0]
                  if name in ("max", "amax") else [1.0, -4.0, -4.0, -4.0, 4.0, 4.0],
                  requires_grad=True)
    getattr(pg, name)(x).backward()
    np.testing.assert_allclose(as_numpy(x.grad), [0, 1 / 3, 1 / 3, 1 / 3, 0, 0])


def test_amax_with_dim_shares_ties_within_each_slice():
    x = pg.tensor([[2.0, 2.0, 1.0], [0.0, 5.0, 5.0]], requires_grad=True)
    x.amax(1).backward(pg.tensor([1.0, 4.0]))
    assert x.grad.tolist() == [[0.5, 0.5, 0.0], [0.0, 2.0, 2.0]]


@pytest.mark.parametrize("keepdim", KEEPDIM)
@pytest.mark.parametrize("dim", DIMS[1:] + [()])
@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_amin_values_and_grads(name, dim, keepdim):
    a = distinct(*SHAPE)
    out = getattr(pg, name)(pg.tensor(a), dim, keepdim=keepdim)
    axis = None if dim == () else np_dims(dim)
    want = (np.max if name == "amax" else np.min)(a, axis=axis, keepdims=keepdim)
    np.testing.assert_array_equal(as_numpy(out), want)
    check_grads(lambda x: getattr(pg, name)(x, dim, keepdim=keepdim), a)


def test_extreme_grad_fn_names():
    x = pg.ones(2, 3, requires_grad=True)
    assert x.max().grad_fn.name() == "MaxBackward1"
    assert x.max(0).values.grad_fn.name() == "MaxBackward0"
    assert x.min().grad_fn.name() == "MinBackward1"
    assert x.min(0).values.grad_fn.name() == "MinBackward0"
    assert x.amax(0).grad_fn.name() == "AmaxBackward0"
    assert x.amin(0).grad_fn.name() == "AminBackward0"


def test_max_of_two_tensors_is_maximum():
    a, b = pg.tensor([1.0, 5.0]), pg.tensor([3.0, 2.0])
    assert pg.max(a, b).tolist() == [3.0, 5.0]
    assert a.min(b).tolist() == [1.0, 2.0]


@pytest.mark.parametrize("name", ["max", "min", "amax", "argmax"])
def test_reducing_an_empty_dim_is_index_error(name):
    with pytest.raises(IndexError, match=rf"{name}\(\): Expected reduction dim 0 to have "
                                         rf"non-zero size"):
        getattr(pg, name)(pg.zeros(0, 3), 0)


@pytest.mark.parametrize("name", ["max", "min", "amax", "amin"])
def test_full_reduction_of_an_empty_tensor_raises(name):
    with pytest.raises(RuntimeError, match=rf"{name}\(\): Expected reduction dim to be specified"):
        getattr(pg, name)(pg.zeros(0, 3))


def test_extremes_over_a_non_empty_dim_of_an_empty_tensor_are_empty():
    x = pg.zeros(0, 3)
    assert x.amax(1).shape == (0,)
    values, indices = x.max(1)
    assert values.shape == (0,) and indices.shape == (0,)
    assert x.argmax(1, keepdim=True).shape == (0, 1)


# -- argmax / argmin / all / any ----------------------------------------------------------------
@pytest.mark.parametrize("keepdim", KEEPDIM)
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin_match_numpy(name, dim, keepdim):
    a = distinct(3, 4, seed=3)
    out = getattr(pg, name)(pg.tensor(a), dim, keepdim=keepdim)
    assert out.dtype is pg.int64
    np.testing.assert_array_equal(as_numpy(out), getattr(np, name)(a, axis=dim, keepdims=keepdim))


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin_without_dim_index_the_flattened_tensor(name):
    a = distinct(3, 4, seed=5)
    out = getattr(pg, name)(pg.tensor(a))
    assert out.shape == () and out.item() == getattr(np, name)(a)
    # keepdim without a dim keeps every dim as size 1, as in torch
    assert getattr(pg, name)(pg.tensor(a), keepdim=True).shape == (1, 1)


def test_argmax_picks_the_first_of_ties():
    assert pg.tensor([[1.0, 3.0, 3.0]]).argmax().item() == 1
    assert pg.tensor([2.0, 1.0, 1.0]).argmin(0).item() == 1


@pytest.mark.parametrize("keepdim", KEEPDIM)
@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1)])
def test_all_any_match_numpy(dim, keepdim):
    a = np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 0.0], [5.0, 6.0, 7.0]])
    for name in ("all", "any"):
        out = call(getattr(pg, name), pg.tensor(a), dim, keepdim)
        assert out.dtype is pg.bool
        np.testing.assert_array_equal(as_numpy(out), getattr(np, name)(a, axis=dim,
                                                                       keepdims=keepdim))


def test_all_any_on_bools_and_empty_tensors():
    assert pg.tensor([True, True]).all().item() is True
    assert pg.tensor([False, False]).any().item() is False
    assert pg.zeros(0, 3).all().item() is True
    assert pg.zeros(0, 3).any(0).tolist() == [False, False, False]


# -- var / std ----------------------------------------------------------------------------------
VAR_ARGS = [
    ((), {}),
    ((0,), {}),
    ((-1,), {"keepdim": True}),
    (((0, 2),), {}),
    ((1,), {"unbiased": False}),
    ((1, False, True), {}),
    ((None,), {"correction": 0}),
    ((2,), {"correction": 2, "keepdim": True}),
]


def np_var(a, args, kwargs):
    dim = args[0] if args else None
    unbiased = args[1] if len(args) > 1 else kwargs.get("unbiased", True)
    keepdim = args[2] if len(args) > 2 else kwargs.get("keepdim", False)
    ddof = kwargs.get("correction", 1 if unbiased else 0)
    return np.var(a, axis=dim, ddof=ddof, keepdims=keepdim)


@pytest.mark.parametrize("args,kwargs", VAR_ARGS)
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_values_and_grads(name, args, kwargs):
    a = randn(*SHAPE)
    out = getattr(pg, name)(pg.tensor(a, dtype=pg.float64), *args, **kwargs)
    want = np_var(a, args, kwargs)
    np.testing.assert_allclose(as_numpy(out), want if name == "var" else np.sqrt(want),
                               rtol=1e-10)
    check_grads(lambda x: getattr(pg, name)(x, *args, **kwargs), a)


def test_var_with_the_old_positional_unbiased_flag():
    a = randn(4)
    np.testing.assert_allclose(pg.tensor(a).var(False).item(), np.var(a), rtol=1e-6)
    np.testing.assert_allclose(pg.tensor(a).var(True).item(), np.var(a, ddof=1), rtol=1e-6)


def test_var_of_one_element_is_nan_and_correction_never_makes_it_negative():
    assert np.isnan(pg.tensor([2.0]).var().item())
    # torch divides by max(0, N - correction)
    assert pg.tensor([1.0, 3.0]).var(correction=3).item() == float("inf")


def test_std_gradient_is_zero_where_std_is_zero():
    x = pg.tensor([[1.0, 1.0], [2.0, 0.5]], requires_grad=True)
    x.std(1).sum().backward()
    assert np.isfinite(as_numpy(x.grad)).all()
    assert x.grad[0].tolist() == [0.0, 0.0]


def test_var_std_of_integers_raise():
    with pytest.raises(RuntimeError):
        pg.tensor([1, 2]).var()


@pytest.mark.parametrize("args,kwargs", [((), {}), ((1,), {"keepdim": True}),
                                         ((0,), {"correction": 0})])
def test_var_second_derivatives(args, kwargs):
    check_second_grads(lambda x: pg.var(x, *args, **kwargs), randn(3, 4))
    check_second_grads(lambda x: pg.std(x, *args, **kwargs), randn(3, 4))


def test_var_std_grad_fn_names():
    x = pg.ones(2, 3, requires_grad=True)
    assert x.var().grad_fn.name() == "VarBackward0"
    assert x.std(0).grad_fn.name() == "StdBackward0"


# -- logsumexp / softmax / log_softmax ----------------------------------------------------------
@pytest.mark.parametrize("keepdim", KEEPDIM)
@pytest.mark.parametrize("dim", DIMS[1:])
def test_logsumexp_values_and_grads(dim, keepdim):
    a = randn(*SHAPE)
    out = pg.logsumexp(pg.tensor(a, dtype=pg.float64), dim, keepdim=keepdim)
    want = np.log(np.sum(np.exp(a), axis=np_dims(dim), keepdims=keepdim))
    np.testing.assert_allclose(as_numpy(out), want, rtol=1e-12)
    check_grads(lambda x: pg.logsumexp(x, dim, keepdim=keepdim), a)


def test_logsumexp_of_large_values_does_not_overflow():
    a = np.array([[1000.0, 1000.0, 999.0], [-1000.0, 0.0, 1.0]])
    out = pg.tensor(a, dtype=pg.float64).logsumexp(1)
    want = [1000 + np.log(2 + np.exp(-1)), 1 + np.log(1 + np.exp(-1))]
    np.testing.assert_allclose(as_numpy(out), want, rtol=1e-12)
    check_grads(lambda x: x.logsumexp(1), a)
    assert pg.tensor([1000.0, 1000.0]).logsumexp(0).item() == pytest.approx(1000 + np.log(2))


def test_logsumexp_with_minus_inf_entries():
    a = np.array([[0.5, -np.inf, 1.0], [-np.inf, -np.inf, 2.0]])
    x = pg.tensor(a, requires_grad=True)
    out = x.logsumexp(1)
    np.testing.assert_allclose(as_numpy(out), [np.log(np.exp(0.5) + np.e), 2.0], rtol=1e-12)
    out.sum().backward()
    np.testing.assert_allclose(as_numpy(x.grad), [[1 / (1 + np.exp(0.5)), 0.0,
                                                   1 / (1 + np.exp(-0.5))], [0.0, 0.0, 1.0]])
    assert pg.tensor([-np.inf, -np.inf]).logsumexp(0).item() == -np.inf


def test_logsumexp_of_an_empty_dim_is_minus_inf():
    assert pg.zeros(0, 3).logsumexp(0).tolist() == [-np.inf] * 3


@pytest.mark.parametrize("dim", [0, -1, (0, 1)])
def test_logsumexp_second_derivatives(dim):
    check_second_grads(lambda x: x.logsumexp(dim), randn(3, 4))


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_values_and_grads(name, dim):
    a = randn(*SHAPE)
    out = getattr(pg, name)(pg.tensor(a, dtype=pg.float64), dim)
    e = np.exp(a - a.max(axis=dim, keepdims=True))
    want = e / e.sum(axis=dim, keepdims=True)
    np.testing.assert_allclose(as_numpy(out), want if name == "softmax" else np.log(want),
                               rtol=1e-12)
    check_grads(lambda x: getattr(pg, name)(x, dim), a)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_of_large_values(name):
    a = np.array([1000.0, 999.0, -1000.0])
    out = as_numpy(getattr(pg, name)(pg.tensor(a, dtype=pg.float64), 0))
    assert np.isfinite(out[:2]).all()
    check_grads(lambda x: getattr(pg, name)(x, 0), a)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_of_0d_tensor(name):
    out = getattr(pg, name)(pg.tensor(3.0), 0)
    assert out.shape == () and out.item() == (1.0 if name == "softmax" else 0.0)
    check_grads(lambda x: getattr(pg, name)(x, -1), np.array(3.0))


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_second_derivatives(name, dim):
    check_second_grads(lambda x: getattr(pg, name)(x, dim), randn(3, 4))


def test_softmax_dtype_argument_and_names():
    x = pg.ones(2, 3, requires_grad=True)
    out = x.softmax(1, dtype=pg.float64)
    assert out.dtype is pg.float64
    assert out.grad_fn.name() == "SoftmaxBackward0"
    assert x.log_softmax(0).grad_fn.name() == "LogSoftmaxBackward0"
    assert x.logsumexp(0).grad_fn.name() == "LogsumexpBackward0"


# -- against torch ------------------------------------------------------------------------------
def _random_cases(n, seed):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        ndim = int(rng.integers(1, 4))
        shape = tuple(int(s) for s in rng.integers(1, 5, ndim))
        k = int(rng.integers(1, ndim + 1))
        dims = tuple(int(d) - ndim * int(rng.integers(0, 2))
                     for d in rng.choice(ndim, k, replace=False))
        yield shape, dims, bool(rng.integers(0, 2)), int(rng.integers(0, 1 << 30))


REDUCTIONS = {
    "sum": lambda m, x, d, k: m.sum(x, d, keepdim=k),
    "mean": lambda m, x, d, k: m.mean(x, d, keepdim=k),
    "prod": lambda m, x, d, k: m.prod(x, d[0], keepdim=k),
    "amax": lambda m, x, d, k: m.amax(x, d, keepdim=k),
    "amin": lambda m, x, d, k: m.amin(x, d, keepdim=k),
    "max": lambda m, x, d, k: m.max(x, d[0], keepdim=k).values,
    "min": lambda m, x, d, k: m.min(x, d[0], keepdim=k)[0],
    "var": lambda m, x, d, k: m.var(x, d, keepdim=k),
    "std_biased": lambda m, x, d, k: m.std(x, d, keepdim=k, correction=0),
    "logsumexp": lambda m, x, d, k: m.logsumexp(x, d, keepdim=k),
    "softmax": lambda m, x, d, k: m.softmax(x, d[0]),
    "log_softmax": lambda m, x, d, k: m.log_softmax(x, d[0]),
}


# torch warns about var over a dim of size 1 (nan, as plugrad gives)
@pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0:UserWarning")
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions_match_torch(name):
    torch = pytest.importorskip("torch")
    op = REDUCTIONS[name]
    for shape, dims, keepdim, seed in _random_cases(12, sorted(REDUCTIONS).index(name)):
        rng = np.random.default_rng(seed)
        a = rng.permutation(int(np.prod(shape))).reshape(shape) * 0.3 - 1.0
        if name == "prod":
            a.flat[rng.integers(0, a.size, rng.integers(0, 3))] = 0.0
        x = pg.tensor(a, requires_grad=True)
        t = torch.tensor(a, requires_grad=True)
        out, want = op(pg, x, dims, keepdim), op(torch, t, dims, keepdim)
        case = f"{name} shape={shape} dims={dims} keepdim={keepdim}"
        np.testing.assert_allclose(as_numpy(out), want.detach().numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=case)
        grad_out = rng.standard_normal(tuple(want.shape))
        out.backward(pg.tensor(grad_out))
        want.backward(torch.tensor(grad_out))
        np.testing.assert_allclose(as_numpy(x.grad), t.grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=case)


# -- hostile values: NaN, infinities, empty and 0-d inputs, against torch ------------------------
NAN, INF = float("nan"), float("inf")
HOSTILE = {
    "nan": [1.0, NAN, 3.0, NAN],
    "nan_2d": [[1.0, NAN, 0.5], [INF, 2.0, -1.0]],
    "infs": [-INF, 2.0, INF],
    "inf_ties": [INF, 1.0, INF],
    "minus_inf_ties": [-INF, -INF, 0.0],
    "zeros": [0.0, 0.0, 0.0],
    "empty": np.zeros((0,)),
    "empty_2d": np.zeros((2, 0)),
    "scalar_0d": 2.5,
    "nan_0d": NAN,
}
HOSTILE_OPS = {
    "sum": lambda m, x: m.sum(x), "sum_dim": lambda m, x: m.sum(x, 0),
    "mean": lambda m, x: m.mean(x), "mean_dim": lambda m, x: m.mean(x, 0),
    "prod": lambda m, x: m.prod(x), "prod_dim": lambda m, x: m.prod(x, 0),
    "max": lambda m, x: m.max(x), "max_dim": lambda m, x: m.max(x, 0),
    "min": lambda m, x: m.min(x), "min_dim": lambda m, x: m.min(x, -1, keepdim=True),
    "amax": lambda m, x: m.amax(x), "amax_dim": lambda m, x: m.amax(x, 0),
    "amin": lambda m, x: m.amin(x), "amin_dim": lambda m, x: m.amin(x, -1),
    "argmax": lambda m, x: m.argmax(x), "argmax_dim": lambda m, x: m.argmax(x, 0),
    "argmin": lambda m, x: m.argmin(x), "argmin_dim": lambda m, x: m.argmin(x, -1),
    "var": lambda m, x: m.var(x), "var_dim": lambda m, x: m.var(x, 0),
    "std": lambda m, x: m.std(x), "std_dim": lambda m, x: m.std(x, -1, correction=0),
    "logsumexp": lambda m, x: m.logsumexp(x, 0),
    "logsumexp_all": lambda m, x: m.logsumexp(x, tuple(range(x.ndim))),
    "softmax": lambda m, x: m.softmax(x, 0), "log_softmax": lambda m, x: m.log_softmax(x, -1),
    "all": lambda m, x: m.all(x), "any_dim": lambda m, x: m.any(x, 0),
    "cumsum": lambda m, x: m.cumsum(x, 0), "cumprod": lambda m, x: m.cumprod(x, -1),
    "sort": lambda m, x: m.sort(x, dim=0, stable=True),
    "sort_descending": lambda m, x: m.sort(x, dim=-1, descending=True, stable=True),
    "argsort": lambda m, x: m.argsort(x, dim=0, stable=True),
    "topk": lambda m, x: m.topk(x, 1, 0), "kthvalue": lambda m, x: m.kthvalue(x, 1, 0),
    "norm": lambda m, x: m.norm(x), "norm_dim": lambda m, x: m.norm(x, 2, 0),
    "norm_1": lambda m, x: m.norm(x, 1), "norm_inf": lambda m, x: m.norm(x, INF),
    "norm_minus_inf": lambda m, x: m.norm(x, -INF, -1), "norm_3": lambda m, x: m.norm(x, 3),
    "count_nonzero": lambda m, x: m.count_nonzero(x),
    "aminmax": lambda m, x: m.aminmax(x), "aminmax_dim": lambda m, x: m.aminmax(x, dim=0),
}


def _run_hostile(module, op, values):
    """(outputs, gradient or None) of op on values, or the exception type it raised."""
    x = module.tensor(values, dtype=module.float64, requires_grad=True)
    try:
        out = op(module, x)
    except Exception as err:  # noqa: BLE001 - the type is compared with torch's
        return type(err)
    outs = list(out) if isinstance(out, tuple) else [out]
    diff = [o for o in outs if o.dtype.is_floating_point and o.requires_grad]
    grad = None
    if diff:
        loss = diff[0].sum()
        for o in diff[1:]:
            loss = loss + o.sum()
        loss.backward()
        grad = x.grad
    as_np = as_numpy if module is pg else (lambda t: t.detach().numpy())
    return ([(as_np(o), o.dtype.__repr__().split(".")[-1]) for o in outs],
            None if grad is None else as_np(grad))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("values", sorted(HOSTILE))
@pytest.mark.parametrize("name", sorted(HOSTILE_OPS))
def test_reductions_on_hostile_values_match_torch(name, values):
    """Values, dtypes, gradients and error types on NaN, inf, empty and 0-d inputs."""
    torch = pytest.importorskip("torch")
    if name == "kthvalue" and values in ("zeros", "minus_inf_ties"):
        pytest.skip("which of tied elements kthvalue returns is unspecified (torch: quickselect)")
    if name.startswith("var") and values == "nan_0d":
        pytest.skip("torch's gradient of the variance of one NaN (divisor 0) is inf, not NaN")
    op, data = HOSTILE_OPS[name], HOSTILE[values]
    want = _run_hostile(torch, op, data)
    got = _run_hostile(pg, op, data)
    if isinstance(want, type):
        assert got is want, f"torch raises {want.__name__}, plugrad gives {got}"
        return
    assert not isinstance(got, type), f"plugrad raises {got.__name__}, torch does not"
    (outs, grad), (want_outs, want_grad) = got, want
    assert len(outs) == len(want_outs)
    for (a, dtype), (b, want_dtype) in zip(outs, want_outs):
        assert dtype == want_dtype
        assert a.shape == b.shape
        np.testing.assert_array_equal(a, b) if a.dtype.kind in "biu" else \
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True)
    assert (grad is None) == (want_grad is None)
    if grad is not None:
        np.testing.assert_allclose(grad, want_grad, rtol=1e-12, atol=1e-12, equal_nan=True)


# -- the optional scan and sort kernels (contract 1.2): fallbacks and the NumPy kernels -----------
def test_the_scan_fallbacks_match_numpy():
    from plugrad.backend import Backend
    bk = pg.backends.get("numpy")
    a = randn(3, 5, 4)
    for axis in range(3):
        np.testing.assert_allclose(Backend.cumsum(bk, a, axis), np.cumsum(a, axis), rtol=1e-12)
        np.testing.assert_allclose(Backend.cumprod(bk, a, axis), np.cumprod(a, axis),
                                   rtol=1e-12)
    assert Backend.cumsum(bk, np.zeros((0, 2)), 0).shape == (0, 2)


def test_the_sort_fallback_gathers_at_argsort_and_argsort_names_what_is_missing():
    from plugrad.backend import Backend
    bk = pg.backends.get("numpy")
    a = randn(3, 4)
    np.testing.assert_array_equal(Backend.sort(bk, a, 1, True, True), -np.sort(-a, 1))
    with pytest.raises(NotImplementedError, match="'numpy' backend has no 'argsort' kernel"):
        Backend.argsort(bk, a, 0, False, True)


def test_sorting_on_dask_raises_not_implemented_naming_the_kernel():
    pytest.importorskip("dask")
    x = pg.tensor([3.0, 1.0, 2.0], backend="dask")
    for op in (lambda: x.sort(), lambda: x.argsort(), lambda: x.topk(1),
               lambda: x.kthvalue(1)):
        with pytest.raises(NotImplementedError, match="'dask' backend has no 'argsort'"):
            op()
    assert x.cumsum(0).tolist() == [3.0, 4.0, 6.0]


@pytest.mark.parametrize("descending", [False, True])
def test_stable_sort_keeps_ties_in_order_like_torch(descending):
    torch = pytest.importorskip("torch")
    a = np.array([[2.0, 1.0, 2.0, np.nan, 1.0, 2.0], [0.0, -0.5, 0.0, 0.0, np.inf, -np.inf]])
    got = pg.sort(pg.tensor(a), 1, descending, stable=True)
    want = torch.sort(torch.tensor(a), dim=1, descending=descending, stable=True)
    np.testing.assert_array_equal(as_numpy(got.indices), want.indices.numpy())
    np.testing.assert_array_equal(as_numpy(got.values), want.values.numpy())
    assert repr(got).startswith("plugrad.return_types.sort(") and got._fields == want.__match_args__


def test_new_ops_grad_fn_names_and_result_types_match_torch():
    torch = pytest.importorskip("torch")
    a = distinct(3, 4)
    calls = {
        "cumsum": lambda m, x: m.cumsum(x, 1), "cumprod": lambda m, x: m.cumprod(x, 0),
        "sort": lambda m, x: m.sort(x), "topk": lambda m, x: m.topk(x, 2),
        "kthvalue": lambda m, x: m.kthvalue(x, 2, 0, True), "norm": lambda m, x: m.norm(x),
        "norm_dim": lambda m, x: m.norm(x, 1, 1), "aminmax": lambda m, x: m.aminmax(x, dim=1),
    }
    for name, call in calls.items():
        got = call(pg, pg.tensor(a, requires_grad=True))
        want = call(torch, torch.tensor(a, requires_grad=True))
        if isinstance(want, tuple):
            assert type(got).__name__ == type(want).__name__ and got._fields == want.__match_args__
            got, want = got[0], want[0]
        assert got.grad_fn.name() == want.grad_fn.name(), name
        np.testing.assert_allclose(as_numpy(got), want.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("dtype", ["int32", "int64", "bool"])
def test_scans_of_integers_and_bools_are_int64_like_torch(dtype):
    torch = pytest.importorskip("torch")
    a = [[1, 0, 2], [3, 1, 1]]
    for op in ("cumsum", "cumprod"):
        got = getattr(pg.tensor(a, dtype=getattr(pg, dtype)), op)(1)
        want = getattr(torch.tensor(a, dtype=getattr(torch, dtype)), op)(1)
        assert got.dtype.name == str(want.dtype).split(".")[-1]
        assert got.tolist() == want.tolist()
    assert pg.count_nonzero(pg.tensor(a), (0, 1)).item() == 5


def test_cumprod_gradient_through_zeros_matches_torch_twice():
    torch = pytest.importorskip("torch")
    a = np.array([[2.0, 0.0, 3.0, 0.0, 1.5], [0.5, 1.0, 0.0, 2.0, -1.0]])
    x, t = pg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (g,) = pg.autograd.grad(x.cumprod(1).sum(), x, create_graph=True)
    (h,) = torch.autograd.grad(t.cumprod(1).sum(), t, create_graph=True)
    np.testing.assert_allclose(as_numpy(g), h.detach().numpy(), rtol=1e-12)
    (g2,) = pg.autograd.grad((g * g).sum(), x)
    (h2,) = torch.autograd.grad((h * h).sum(), t)
    np.testing.assert_allclose(as_numpy(g2), h2.numpy(), rtol=1e-12)


ERROR_CASES = {
    "topk_k_too_large": lambda m: m.topk(m.tensor([1.0, 2.0]), 3),
    "topk_negative_k": lambda m: m.topk(m.tensor([1.0, 2.0]), -1),
    "kthvalue_k_zero": lambda m: m.kthvalue(m.tensor([1.0, 2.0]), 0),
    "kthvalue_k_too_large": lambda m: m.kthvalue(m.tensor([[1.0, 2.0]]), 3, 1),
    "sort_dim_out_of_range": lambda m: m.sort(m.tensor([1.0, 2.0]), 1),
    "argsort_dim_out_of_range": lambda m: m.argsort(m.tensor(1.0), 2),
    "cumsum_dim_out_of_range": lambda m: m.cumsum(m.tensor([[1.0]]), -3),
    "cumprod_dim_out_of_range": lambda m: m.cumprod(m.tensor([1.0]), 1),
    "norm_of_ints": lambda m: m.norm(m.tensor([1, 2])),
    "count_nonzero_repeated_dim": lambda m: m.count_nonzero(m.tensor([[1.0]]), (0, 0)),
    "aminmax_empty": lambda m: m.aminmax(m.zeros(0)),
    "aminmax_empty_dim": lambda m: m.aminmax(m.zeros(2, 0), dim=1),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_new_ops_raise_torchs_error_types(case):
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception) as want:  # noqa: PT011 - the type is torch's, compared below
        ERROR_CASES[case](torch)
    with pytest.raises(want.type):
        ERROR_CASES[case](pg)


# -- unique -----------------------------------------------------------------------------------
NAN = float("nan")
UNIQUE_INPUTS = {
    "floats with nan and signed zeros": np.array([3.0, 1.0, NAN, 1.0, NAN, -0.0, 0.0]),
    "ints 2-d": np.array([[1, 2, 1], [2, 2, 0]]),
    "rows": np.array([[1, 2], [1, 2], [0, 5], [1, 2]]),
    "rank 3": np.random.default_rng(3).integers(0, 2, (3, 2, 2)),
    "bools": np.array([True, False, True, True]),
    "0-d": np.array(5.0),
    "empty": np.zeros((0,)),
    "empty rows": np.zeros((0, 3)),
    "empty columns": np.zeros((3, 0)),
    "nan rows": np.array([[1.0, NAN], [1.0, NAN], [0.0, 1.0]]),
}
UNIQUE_FLAGS = [dict(), dict(return_inverse=True), dict(return_counts=True),
                dict(return_inverse=True, return_counts=True)]


def _unique_cases():
    for label, a in UNIQUE_INPUTS.items():
        for dim in [None, *range(-a.ndim, a.ndim)]:
            for flags in UNIQUE_FLAGS:
                yield pytest.param(a, dim, flags, id=f"{label}-dim{dim}-{'-'.join(flags)}")


def _torch_or_error(fn):
    try:
        return fn(), None
    except Exception as err:  # noqa: BLE001 - the error type is what is compared
        return None, type(err)


@pytest.mark.parametrize("op", ["unique", "unique_consecutive"])
@pytest.mark.parametrize("a, dim, flags", list(_unique_cases()))
def test_unique_is_torchs(op, a, dim, flags):
    torch = pytest.importorskip("torch")
    if op == "unique" and dim is not None and np.isnan(a).any():
        # known difference: torch's sort of slices compares with <, which orders NaN nowhere,
        # so its result depends on where the NaNs were; plugrad sorts NaN last, as sort does
        pytest.skip("torch's unique(dim=) has no defined order for NaN")
    kw = dict(flags, dim=dim)
    expected, err = _torch_or_error(lambda: getattr(torch, op)(torch.tensor(a), **kw))
    if err is not None:
        with pytest.raises(err):
            getattr(pg, op)(pg.tensor(a), **kw)
        return
    got = getattr(pg, op)(pg.tensor(a), **kw)
    expected = expected if isinstance(expected, tuple) else (expected,)
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.dtype.name == str(e.dtype).removeprefix("torch.")
        assert tuple(g.shape) == tuple(e.shape)
        np.testing.assert_array_equal(g.numpy(), e.numpy())
        # -0.0 and 0.0 are one value: the first of them in sorted order is kept, as in torch
        np.testing.assert_array_equal(np.signbit(g.numpy()), np.signbit(e.numpy()))


@pytest.mark.parametrize("call, name, op", [
    (lambda x: x.unique(), "Unique2Backward0", "_unique2"),
    (lambda x: pg.unique(x, return_counts=True)[0], "Unique2Backward0", "_unique2"),
    (lambda x: x.unique(dim=0), "UniqueDimBackward0", "unique_dim"),
    (lambda x: x.unique_consecutive(), "UniqueConsecutiveBackward0", "unique_consecutive"),
])
def test_unique_records_a_node_whose_backward_raises_as_torchs_does(call, name, op):
    x = pg.tensor([3.0, 1.0, 1.0], requires_grad=True)
    out = call(x)
    assert out.requires_grad and out.grad_fn.name() == name
    with pytest.raises(NotImplementedError, match=f"derivative for '{op}' is not implemented"):
        out.sum().backward()
    assert x.grad is None
    with pg.no_grad():
        assert not call(x).requires_grad


def test_unique_sorted_false_still_sorts_as_torch_on_the_cpu():
    out, inverse = pg.tensor([3, 1, 2, 1]).unique(sorted=False, return_inverse=True)
    assert out.tolist() == [1, 2, 3] and inverse.tolist() == [2, 0, 1, 0]
