"""The Dask backend: laziness (nothing computes until values are asked for), chunks=,
plugrad.compute, gradients against the NumPy backend, in-place ops, errors.

Computations are counted with a scheduler that counts its calls before running the
graph synchronously (`dask.config.set(scheduler=...)`): every compute and persist of
plugrad goes through it.
"""
from __future__ import annotations

import contextlib

import numpy as np
import plugrad as pg
import plugrad.nn.functional as F
import pytest
from plugrad import backends

da = pytest.importorskip("dask.array", reason="dask is not installed (pip install "
                                               "'plugrad[dask]')")
import dask  # noqa: E402
import dask.local  # noqa: E402

if "dask" not in backends.available():
    pytest.skip(f"the dask backend is not available: {backends.available().unavailable}",
                allow_module_level=True)


@contextlib.contextmanager
def counting():
    """Count Dask computations (compute, persist) made inside the block."""
    calls = []

    def get(dsk, keys, **kwargs):
        calls.append(keys)
        return dask.local.get_sync(dsk, keys, **kwargs)
    with dask.config.set(scheduler=get):
        yield calls


def D(values, **kw):
    return pg.tensor(values, backend="dask", **kw)


def N(values, **kw):
    return pg.tensor(values, backend="numpy", **kw)


# -- laziness -----------------------------------------------------------------------------
def _mlp(bk, loss_fn, seed=0):
    rng = np.random.default_rng(seed)
    x = pg.tensor(rng.standard_normal((8, 5)).astype(np.float32), backend=bk)
    y = pg.tensor(rng.integers(0, 4, 8), backend=bk)
    w1 = pg.tensor(rng.standard_normal((5, 6)).astype(np.float32), backend=bk,
                   requires_grad=True)
    b1 = pg.zeros(6, backend=bk, requires_grad=True)
    w2 = pg.tensor(rng.standard_normal((6, 4)).astype(np.float32), backend=bk,
                   requires_grad=True)
    rows = pg.tensor([0, 2, 4, 6], backend=bk)
    h = (x @ w1 + b1).relu()                     # matmul, broadcasting, relu
    h = pg.cat([h[:, 1:] * 2.0, h[:, :1]], 1)    # slices, cat
    logits = h @ w2
    loss = loss_fn(logits, y) + logits[rows].mean() * 0.1 + logits.sum(0).mean() * 0.01
    return loss, (w1, b1, w2)


def _nll(logits, y):
    # the negative log-likelihood through log_softmax and integer-array indexing
    return -logits.log_softmax(1)[pg.arange(8, backend=logits.backend), y].mean()


def test_forward_and_backward_of_an_mlp_build_graphs_without_computing():
    with counting() as calls:
        loss, (w1, b1, w2) = _mlp("dask", _nll)
        loss.backward()
        assert calls == [], "forward or backward computed something"
        assert isinstance(loss.array, da.Array) and isinstance(w1.grad.array, da.Array)
        pg.compute(loss, w1.grad, b1.grad)
        assert len(calls) == 1, "plugrad.compute should be one pass"
        value = loss.item()  # already computed: read, not recomputed
        assert len(calls) == 1
    ref, (rw1, rb1, _) = _mlp("numpy", _nll)
    ref.backward()
    assert value == pytest.approx(ref.item(), rel=1e-5)
    np.testing.assert_allclose(w1.grad.numpy(), rw1.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b1.grad.numpy(), rb1.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_cross_entropy_forward_and_backward_are_lazy():
    with counting() as calls:
        loss, (w1, b1, w2) = _mlp("dask", F.cross_entropy)
        loss.backward()
        assert calls == [], "cross_entropy's forward or backward computed something"
        pg.compute(loss, w1.grad, b1.grad)
        assert len(calls) == 1
    ref, (rw1, _, _) = _mlp("numpy", F.cross_entropy)
    ref.backward()
    assert loss.item() == pytest.approx(ref.item(), rel=1e-5)
    np.testing.assert_allclose(w1.grad.numpy(), rw1.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_a_cross_entropy_target_out_of_range_raises_when_computed():
    logits = pg.zeros(4, 3, backend="dask")
    loss = F.cross_entropy(logits, pg.tensor([0, 1, 2, 3], backend="dask"))  # 3: no class 3
    with pytest.raises(IndexError):
        loss.item()


def test_random_tensors_of_any_size_are_lazy():
    with counting() as calls:
        big = pg.randn(10**9, 1, backend="dask", chunks=(10**7, 1))  # 4 GB of float32
        assert big.shape == (10**9, 1) and big.dtype is pg.float32
        assert big.array.chunks[0][0] == 10**7
        mean = big[:1000].mean()
    assert calls == []
    assert abs(mean.item()) < 0.2


def test_random_numbers_follow_manual_seed():
    pg.manual_seed(3)
    a = pg.rand(5, backend="dask").tolist()
    pg.manual_seed(3)
    assert pg.rand(5, backend="dask").tolist() == a
    assert all(0 <= v < 1 for v in a)
    r = pg.randint(2, 5, (50,), backend="dask", chunks=10)
    assert set(r.tolist()) <= {2, 3, 4} and r.dtype is pg.int64


# -- chunks= ------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda c: pg.zeros(6, 4, backend="dask", chunks=c),
    lambda c: pg.ones((6, 4), backend="dask", chunks=c),
    lambda c: pg.full((6, 4), 2.5, backend="dask", chunks=c),
    lambda c: pg.empty(6, 4, backend="dask", chunks=c),
    lambda c: pg.rand(6, 4, backend="dask", chunks=c),
    lambda c: pg.randn(6, 4, backend="dask", chunks=c),
    lambda c: pg.randint(0, 3, (6, 4), backend="dask", chunks=c),
    lambda c: pg.tensor(np.ones((6, 4)), backend="dask", chunks=c),
    lambda c: pg.as_tensor(np.ones((6, 4)), backend="dask", chunks=c),
    lambda c: pg.eye(6, 4, backend="dask", chunks=c),
])
def test_chunks_set_the_block_shape(make):
    t = make((2, 4))
    assert t.array.chunks == ((2, 2, 2), (4,))
    assert make(None).array.chunks[0] == (6,)  # Dask's "auto": one block for a small array


def test_ranges_and_like_functions_take_chunks():
    assert pg.arange(10, backend="dask", chunks=4).array.chunks == ((4, 4, 2),)
    assert pg.linspace(0, 1, 9, backend="dask", chunks=3).array.chunks == ((3, 3, 3),)
    assert pg.eye(2, 3, backend="dask").tolist() == [[1, 0, 0], [0, 1, 0]]
    assert pg.eye(3, 2, backend="dask", chunks=1).tolist() == [[1, 0], [0, 1], [0, 0]]
    x = pg.zeros(6, 4, backend="dask", chunks=(3, 2))
    assert pg.ones_like(x).array.chunks == x.array.chunks  # follows x's chunks
    assert pg.zeros_like(x, chunks=(6, 4)).array.chunks == ((6,), (4,))


def test_chunks_on_a_backend_without_chunked_arrays_is_a_clear_type_error():
    with pytest.raises(TypeError, match="the 'numpy' backend has no chunked arrays"):
        pg.zeros(3, backend="numpy", chunks=2)
    with pytest.raises(TypeError, match="the 'numpy' backend has no chunked arrays"):
        pg.tensor([1.0, 2.0], backend="numpy", chunks=2)
    assert pg.zeros(3, backend="numpy").tolist() == [0.0, 0.0, 0.0]


def test_a_lazy_tensor_may_be_larger_than_memory():
    t = pg.zeros(10**7, 10**6, backend="dask", chunks=(10**4, 10**4))  # 40 TB
    assert t.shape == (10**7, 10**6)
    with pytest.raises(RuntimeError, match="not enough memory"):
        pg.zeros(10**7, 10**6, backend="numpy")


# -- wrapping Dask arrays -------------------------------------------------------------------
def test_an_existing_dask_array_is_wrapped_without_computing():
    arr = da.random.default_rng(0).standard_normal((1000, 3), chunks=(100, 3))
    with counting() as calls:
        a = pg.as_tensor(arr, backend="dask")
        b = pg.tensor(arr, backend="dask", dtype=pg.float32)
        c = pg.tensor(arr, backend="dask", chunks=(500, 3))
        assert a.dtype is pg.float64 and b.dtype is pg.float32
        assert c.array.chunks[0] == (500, 500)
        a.add_(1.0)  # writing into the tensor never rebuilds the caller's array
    assert calls == []
    np.testing.assert_allclose(a.numpy(), arr.compute() + 1.0)


# -- plugrad.compute ------------------------------------------------------------------------
def test_compute_is_one_pass_in_place_and_keeps_versions():
    x = D([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = (x * x).sum(1)
    z = y.exp()
    with counting() as calls:
        out = pg.compute(y, z)
        assert len(calls) == 1 and out == (y, z) and out[0] is y
        assert y._version == 0 and z.grad_fn is not None
        assert y.tolist() == [5.0, 25.0]
        assert len(calls) == 1  # already in memory
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([[1, 2], [3, 4]]) *
                               np.exp([[5], [25]]), rtol=1e-6)


def test_compute_cuts_the_graph_of_a_training_loop():
    pg.manual_seed(0)
    w = pg.randn(4, 1, backend="dask", requires_grad=True)
    x, t = pg.randn(32, 4, backend="dask"), pg.randn(32, 1, backend="dask")
    opt = pg.optim.SGD([w], lr=0.1)
    sizes = []
    for _ in range(3):
        opt.zero_grad()
        F.mse_loss(x @ w, t).backward()
        opt.step()
        pg.compute(w)
        sizes.append(len(w.array.__dask_graph__()))
    assert sizes[0] == sizes[-1] == 1  # one materialized chunk, not a growing graph


def test_compute_on_eager_backends_does_nothing():
    x = N([1.0, 2.0])
    data = x.array
    assert pg.compute(x) == (x,) and x.array is data


def test_compute_mixes_backends():
    a, b = D([1.0]) + 1, N([2.0]) + 1
    assert pg.compute(a, b) == (a, b)
    assert a.tolist() == [2.0] and b.tolist() == [3.0]


# -- values and gradients against the NumPy backend --------------------------------------
@pytest.mark.parametrize("fn", [
    lambda x, i: (x.tanh() * x.sigmoid()).sum(),
    lambda x, i: x.softmax(1)[:, 1:].pow(2).sum(),
    lambda x, i: x[i].exp().mean(),
    lambda x, i: x[i, 1:].prod(),
    lambda x, i: (x.T @ x).max(),
    lambda x, i: x.std(0).sum() + x.var(1).sum(),
    lambda x, i: x.logsumexp(1).sum() + x.amax(0).sum(),
    lambda x, i: (x.reshape(2, 6).permute(1, 0) * 3).sum(),
    lambda x, i: x[x > 0].sum(),
])
def test_values_and_gradients_match_numpy(fn):
    rng = np.random.default_rng(1)
    host = rng.standard_normal((4, 3))
    idx = np.array([2, 0, 2, 3])
    results = []
    for bk in ("numpy", "dask"):
        x = pg.tensor(host, backend=bk, requires_grad=True)
        out = fn(x, pg.tensor(idx, backend=bk))
        out.backward()
        results.append((out.item(), x.grad.numpy()))
    assert results[1][0] == pytest.approx(results[0][0], rel=1e-10)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-10, atol=1e-12)


def test_gradcheck_on_dask():
    x = D(np.random.default_rng(2).standard_normal((3, 2)), dtype=pg.float64,
          requires_grad=True)
    assert pg.autograd.gradcheck(lambda t: (t.exp() * t[[0, 2, 0]].sum()).tanh(), (x,))


# -- in place -------------------------------------------------------------------------------
def test_in_place_ops_rebuild_the_graph_of_the_same_array():
    x = D([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    alias = x.detach()
    with counting() as calls:
        x.add_(1)
        x.mul_(2)
        x[0, 1] = 0.0
        x[1] = D([7.0, 8.0, 9.0])
        x[D([0, 1]), D([2, 2])] = -1.0
        x[x > 7.5] = 100.0
        assert x.array is alias.array
    assert calls == []
    assert alias.tolist() == [[4.0, 0.0, -1.0], [7.0, 100.0, -1.0]]
    assert x._version == 6


def test_views_and_their_base_see_each_others_writes():
    v = pg.zeros(2, 3, backend="dask")
    alias, row, col, flat = v, v[0], v.T[1], v.view(6)
    v += 1
    row.mul_(5)
    v[:, 2] = D([7.0, 8.0])
    col.add_(10)
    assert alias.tolist() == [[5.0, 15.0, 7.0], [1.0, 11.0, 8.0]]
    assert row.tolist() == [5.0, 15.0, 7.0] and flat.tolist()[3:] == [1.0, 11.0, 8.0]
    assert v._version == row._version == 4


def test_in_place_on_a_view_in_a_graph_gives_torchs_gradients():
    results = []
    for bk in ("numpy", "dask"):
        a = pg.tensor([[1.0, 2.0], [3.0, 4.0]], backend=bk, requires_grad=True)
        b = a * 1
        b[0].mul_(3)
        b.T[1].add_(b[1, 0].detach())
        (b * b).sum().backward()
        results.append((b.tolist(), a.grad.tolist(), b.grad_fn.name()))
    assert results[0] == results[1]


def test_writing_into_an_expanded_view_is_refused():
    y = D([1.0], requires_grad=True) * 1
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        y.expand(3).add_(D([1.0, 2.0, 3.0]))


def test_index_add_adds_repeated_indices():
    x = pg.zeros(5, backend="dask", requires_grad=True)
    y = x[D([1, 1, 3, 1])] * D([1.0, 2.0, 3.0, 4.0])
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 7.0, 0.0, 3.0, 0.0]
    k = x.backend  # the kernel itself: repeated rows add up
    z = k.full((3, 2), 0.0, pg.float64)
    k.index_add(z, (D([2, 0, 2]).array,), k.full((3, 2), 1.0, pg.float64))
    assert k.tolist(z) == [[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]]


def test_optimizers_update_parameters_in_place():
    w = D([1.0, -2.0], requires_grad=True)
    opt = pg.optim.Adam([w], lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
    ref = N([1.0, -2.0], requires_grad=True)
    ropt = pg.optim.Adam([ref], lr=0.1)
    for _ in range(2):
        ropt.zero_grad()
        (ref * ref).sum().backward()
        ropt.step()
    np.testing.assert_allclose(w.detach().numpy(), ref.detach().numpy(), rtol=1e-6)


# -- what computes eagerly, and errors ---------------------------------------------------------
def test_boolean_mask_indexing_computes_only_the_mask():
    x = D([1.0, -2.0, 3.0, -4.0])
    with counting() as calls:
        y = x[(x * 2) > 0]  # the mask is pending: it is computed, once, to know the shape
        assert y.shape == (2,)
    assert len(calls) == 1
    assert y.tolist() == [1.0, 3.0]


def test_out_of_bounds_index_errors():
    x = D([1.0, 2.0, 3.0])
    with pytest.raises(IndexError, match="out of bounds"):
        x[D([0, 3])]  # an index in memory is checked at once
    lazy = x[D([0, 1]) * 3]  # a pending index: checked when computed
    with pytest.raises(IndexError, match="out of bounds"):
        lazy.tolist()


def test_mixing_dask_and_numpy_tensors_names_both_backends():
    with pytest.raises(RuntimeError, match="'dask' and 'numpy'|'numpy' and 'dask'"):
        D([1.0]) + N([1.0])


def test_moving_between_dask_and_numpy_is_differentiable():
    x = N([1.0, 2.0], requires_grad=True)
    y = x.to("dask")
    assert isinstance(y.array, da.Array)
    (y * y).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0] and x.grad.backend.name == "numpy"


def test_print_computes():
    assert "backend='dask'" in repr(D([1.0, 2.0]) * 2)
    assert str(D([1.0, 2.0]) * 2).startswith("tensor([2., 4.]")
