"""Property-based cases (Hypothesis): random shapes, broadcasting, dims and permutations.

Each property draws shapes and values, runs the op on the backend under test
in float64, and checks the forward values against NumPy and the gradient with
a directional (vector-Jacobian) test: for a random cotangent v and direction
u, <grad, u> must equal the derivative of <op(x + t u), v> at t = 0, taken by
central differences of the NumPy reference.
"""
from __future__ import annotations

import numpy as np
import plugrad as pg
import pytest

pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

pytestmark = pytest.mark.plugrad_conformance("property")

SETTINGS = settings(max_examples=25, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
EPS = 1e-6


def _values(shape, seed, lo=-2.0, hi=2.0):
    return np.random.default_rng(seed).uniform(lo, hi, size=shape)


def _tensor(a, requires_grad=True):
    if a.size == 0:
        return pg.zeros(a.shape, dtype=pg.float64, requires_grad=requires_grad)
    return pg.tensor(a.tolist(), dtype=pg.float64, requires_grad=requires_grad)


def _host(t):
    return np.asarray(t.detach().numpy(), dtype=np.float64)


def check(fn, ref, arrays, seed):
    """Forward against `ref`, then the directional gradient test, for every input."""
    tensors = [_tensor(a) for a in arrays]
    out = fn(*tensors)
    want = np.asarray(ref(*arrays))
    assert tuple(out.shape) == want.shape
    np.testing.assert_allclose(_host(out), want, rtol=1e-9, atol=1e-9)
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(want.shape)
    grads = pg.autograd.grad(out, tensors, _tensor(v, False), allow_unused=True)
    for k, (a, g) in enumerate(zip(arrays, grads)):
        got = np.zeros(a.shape) if g is None else _host(g)
        assert got.shape == a.shape, f"gradient {k} has shape {got.shape}, input {a.shape}"
        u = rng.standard_normal(a.shape)
        moved_up = [b.copy() for b in arrays]
        moved_down = [b.copy() for b in arrays]
        moved_up[k] = a + EPS * u
        moved_down[k] = a - EPS * u
        numeric = (np.sum(ref(*moved_up) * v) - np.sum(ref(*moved_down) * v)) / (2 * EPS)
        np.testing.assert_allclose(np.sum(got * u), numeric, rtol=1e-5, atol=1e-6,
                                   err_msg=f"directional derivative of input {k}")


BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / b, np.divide),
    "maximum": (pg.maximum, np.maximum),
    "pow": (lambda a, b: a ** b, np.power),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                max_side=3),
       seed=st.integers(0, 2 ** 16))
def test_binary_ops_broadcast_like_numpy(name, shapes, seed):
    fn, ref = BINARY[name]
    sa, sb = shapes.input_shapes
    a = _values(sa, seed, 0.5, 2.0) if name == "pow" else _values(sa, seed)
    b = _values(sb, seed + 1)
    if name == "div":
        b = np.where(np.abs(b) < 0.3, 0.3 + np.abs(b), b)
    check(fn, ref, [a, b], seed)


REDUCTIONS = {
    "sum": (lambda x, d, k: x.sum(dim=d, keepdim=k), lambda a, d, k: np.sum(a, d, keepdims=k)),
    "mean": (lambda x, d, k: x.mean(dim=d, keepdim=k), lambda a, d, k: np.mean(a, d, keepdims=k)),
    "amax": (lambda x, d, k: x.amax(dim=d, keepdim=k), lambda a, d, k: np.max(a, d, keepdims=k)),
    "logsumexp": (lambda x, d, k: x.logsumexp(dim=d, keepdim=k),
                  lambda a, d, k: np.log(np.sum(np.exp(a), d, keepdims=k))),
    "var": (lambda x, d, k: x.var(dim=d, keepdim=k),
            lambda a, d, k: np.var(a, d, ddof=1, keepdims=k)),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2 ** 16))
def test_reductions_over_any_dims(name, data, seed):
    fn, ref = REDUCTIONS[name]
    min_side = 2 if name == "var" else 1
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=min_side, max_side=3))
    dims = data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape),
                              unique=True))
    keepdim = data.draw(st.booleans())
    dim = tuple(sorted(dims))
    check(lambda x: fn(x, dim, keepdim), lambda a: ref(a, dim, keepdim),
          [_values(shape, seed)], seed)


@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2 ** 16))
def test_permute_then_reshape(data, seed):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3))
    perm = tuple(data.draw(st.permutations(range(len(shape)))))
    check(lambda x: x.permute(*perm).reshape(-1) * 1.5,
          lambda a: np.transpose(a, perm).reshape(-1) * 1.5, [_values(shape, seed)], seed)


@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2 ** 16))
def test_matmul_with_broadcast_batches(data, seed):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2,
                                                         max_side=3))
    n, k, m = data.draw(st.tuples(*[st.integers(1, 3)] * 3))
    sa = shapes.input_shapes[0] + (n, k)
    sb = shapes.input_shapes[1] + (k, m)
    check(lambda a, b: a @ b, np.matmul, [_values(sa, seed), _values(sb, seed + 1)], seed)


@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2 ** 16))
def test_softmax_along_any_dim(data, seed):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))

    def ref(a):
        e = np.exp(a - a.max(axis=dim, keepdims=True))
        return e / e.sum(axis=dim, keepdims=True)
    check(lambda x: x.softmax(dim), ref, [_values(shape, seed)], seed)


@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2 ** 16))
def test_expand_then_sum_back(data, seed):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                         max_side=3))
    src, target = shapes.input_shapes[0], shapes.result_shape
    check(lambda x: pg.broadcast_to(x, target) * 2.0, lambda a: np.broadcast_to(a, target) * 2.0,
          [_values(src, seed)], seed)
