"""Tensor attributes, conversions, printing and leaf/grad bookkeeping."""
from __future__ import annotations

import numpy as np
import plugrad as pg
import pytest
from helpers import as_numpy


def test_metadata():
    x = pg.zeros(2, 3)
    assert x.shape == (2, 3) and x.ndim == 2 and x.dim() == 2
    assert x.numel() == 6 and x.size() == (2, 3) and x.size(1) == 3 and x.size(-2) == 2
    assert repr(x.shape) == "plugrad.Size([2, 3])"
    assert x.dtype is pg.float32 and x.backend.name == "numpy"


def test_size_of_missing_dim_raises_index_error():
    with pytest.raises(IndexError, match="Dimension out of range"):
        pg.zeros(2, 3).size(2)


@pytest.mark.parametrize("make, text", [
    (lambda: pg.tensor([4.0, 6.0]), "tensor([4., 6.])"),
    (lambda: pg.tensor(2.0), "tensor(2.)"),
    (lambda: pg.tensor([1, 2]), "tensor([1, 2])"),
    (lambda: pg.tensor([True, False]), "tensor([ True, False])"),
    (lambda: pg.tensor([1.5], dtype=pg.float64), "tensor([1.5000], dtype=plugrad.float64)"),
    (lambda: pg.tensor([1], dtype=pg.int32), "tensor([1], dtype=plugrad.int32)"),
    (lambda: pg.tensor([1.0], requires_grad=True), "tensor([1.], requires_grad=True)"),
    (lambda: pg.tensor([1.0], requires_grad=True) * 2, "tensor([2.], grad_fn=<MulBackward0>)"),
    (lambda: pg.zeros(0), "tensor([])"),
    (lambda: pg.zeros(0, 3), "tensor([], size=(0, 3))"),
    (lambda: pg.ones(2, 2), "tensor([[1., 1.],\n        [1., 1.]])"),
])
def test_repr_matches_torch(make, text):
    assert repr(make()) == text


def test_int_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        pg.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        pg.tensor([1, 2]).requires_grad_()


def test_requires_grad_of_non_leaf_cannot_be_turned_off():
    y = pg.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf variables"):
        y.requires_grad = False


def _requires_grad_outcome(module, how, value):
    y = module.tensor([1.0], requires_grad=True) * 2
    try:
        if how == "attribute":
            y.requires_grad = value
        else:
            y.requires_grad_(value)
    except RuntimeError as err:
        return str(err)
    return y.requires_grad


@pytest.mark.parametrize("value", [True, False])
@pytest.mark.parametrize("how", ["attribute", "method"])
def test_requires_grad_of_a_non_leaf_is_refused_as_torch_refuses_it(how, value):
    """The attribute raises either way; requires_grad_(True) is a no-op, (False) raises."""
    got = _requires_grad_outcome(pg, how, value)
    assert got is True if (how, value) == ("method", True) else "leaf variables" in got
    torch = pytest.importorskip("torch")
    assert got == _requires_grad_outcome(torch, how, value)


def test_anomaly_switches_at_top_level_as_in_torch():
    assert pg.is_anomaly_enabled() is False
    try:
        pg.set_anomaly_enabled(True, check_nan=False)
        assert pg.is_anomaly_enabled() and pg.autograd.is_anomaly_enabled()
        assert not pg.autograd.is_anomaly_check_nan_enabled()
    finally:
        pg.set_anomaly_enabled(False)
    assert not pg.is_anomaly_enabled() and pg.autograd.is_anomaly_check_nan_enabled()


def test_is_leaf_and_grad_fn():
    x = pg.tensor([1.0], requires_grad=True)
    y = x * 2
    assert x.is_leaf and not y.is_leaf and x.grad_fn is None
    assert y.grad_fn.name() == "MulBackward0"
    (next_fn, index), (none, _) = y.grad_fn.next_functions
    assert next_fn.name() == "AccumulateGrad" and next_fn.variable is x and index == 0
    assert none is None


def test_numpy_refuses_tensors_that_require_grad():
    x = pg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\).numpy\(\)"):
        x.numpy()
    np.testing.assert_allclose(x.detach().numpy(), [1.0])


def test_item_and_tolist_work_on_tensors_that_require_grad():
    x = pg.tensor([[1.0, 2.0]], requires_grad=True)
    assert x.tolist() == [[1.0, 2.0]]
    assert x[0, 1].item() == 2.0
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        x.item()


def test_python_conversions():
    assert float(pg.tensor([2.5])) == 2.5 and int(pg.tensor(3)) == 3
    assert bool(pg.tensor([1.0])) is True
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(pg.tensor([1.0, 2.0]))
    assert len(pg.zeros(4, 2)) == 4
    with pytest.raises(TypeError):
        len(pg.tensor(1.0))
    assert [row.tolist() for row in pg.tensor([[1, 2], [3, 4]])] == [[1, 2], [3, 4]]
    assert [10, 20, 30][pg.tensor(1)] == 20


def test_detach_shares_data_and_leaves_the_graph():
    x = pg.tensor([2.0, 3.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    d.zero_()
    np.testing.assert_allclose(as_numpy(x), [0.0, 0.0])
    assert not (d * 2).requires_grad


def test_detach_in_place_makes_a_leaf():
    y = pg.tensor([1.0], requires_grad=True) * 2
    y.detach_()
    assert y.grad_fn is None and not y.requires_grad


def test_grad_can_be_reset_and_zeroed():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    x.grad.zero_()
    np.testing.assert_allclose(as_numpy(x.grad), [0.0, 0.0])
    x.grad = None
    assert x.grad is None


def test_grad_assignment_is_checked():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="different size"):
        x.grad = pg.zeros(3)
    with pytest.raises(RuntimeError, match="different type"):
        x.grad = pg.zeros(2, dtype=pg.float64)
    x.grad = pg.ones(2)
    np.testing.assert_allclose(as_numpy(x.grad), [1.0, 1.0])


def test_in_place_on_a_leaf_that_requires_grad_raises():
    x = pg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.zero_()
    with pg.no_grad():
        x.fill_(5.0)
    assert x.item() == 5.0


def test_clone_copies_and_stays_differentiable():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.grad_fn.name() == "CloneBackward0"
    (c * 3).sum().backward()
    np.testing.assert_allclose(as_numpy(x.grad), [3.0, 3.0])


def test_to_dtype_is_differentiable_between_floats():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(pg.float64)
    assert y.dtype is pg.float64
    (y * y).sum().backward()
    assert x.grad.dtype is pg.float32
    np.testing.assert_allclose(as_numpy(x.grad), [2.0, 4.0])
    assert x.double().dtype is pg.float64 and x.long().dtype is pg.int64
    assert x.to(x.dtype) is x


def test_moving_to_another_backend_is_refused_for_now():
    with pytest.raises(RuntimeError, match="backend"):
        pg.tensor([1.0]).to("cupy")


def test_tensors_hash_by_identity():
    a, b = pg.tensor([1.0]), pg.tensor([1.0])
    assert len({a, b}) == 2


def test_cannot_construct_tensor_directly():
    with pytest.raises(TypeError, match="plugrad.tensor"):
        pg.Tensor([1.0])


def test_comparing_with_none_is_false_like_torch():
    x = pg.tensor([1.0])
    assert (x == None) is False and (x != None) is True  # noqa: E711


def test_numpy_scalars_on_the_left_give_tensors():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = np.float64(0.5) * x + np.int64(1)
    assert isinstance(y, pg.Tensor) and y.dtype is pg.float32
    assert y.grad_fn is not None


def test_mT_needs_a_matrix():
    with pytest.raises(RuntimeError, match="matrices"):
        _ = pg.zeros(3).mT
    assert pg.zeros(2, 3, 4).mT.shape == (2, 4, 3)


def test_max_with_dim_prints_like_torch_return_types():
    result = pg.tensor([[1.0, 5.0], [3.0, 2.0]]).max(1)
    assert repr(result) == ("plugrad.return_types.max(\nvalues=tensor([5., 3.]),\n"
                            "indices=tensor([1, 0]))")
    assert result.values.tolist() == [5.0, 3.0] and result.indices.tolist() == [1, 0]


# -- .data: a tensor sharing storage, outside autograd (torch's meaning) ------------------------
def _data_program(lib):
    """What torch programs do with .data; returns what each step observed."""
    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = w * w
    d = w.data
    seen = [d.requires_grad, d.is_leaf, d.grad_fn is None, w._version]
    d.mul_(3)                      # writes w's memory, not w's version counter
    seen += [w.tolist(), w._version, d._version]
    y.backward(lib.ones(3))        # uses the changed memory, as torch does
    seen.append(w.grad.tolist())
    w.grad.data.zero_()            # the classic manual zeroing idiom
    seen.append(w.grad.tolist())
    w.data -= 0.5 * lib.ones(3)    # the classic manual SGD idiom
    seen.append(w.tolist())
    e = w.exp()
    seen += [e.data.grad_fn is None, e.data.requires_grad, e.grad_fn is not None]
    return seen


def test_data_shares_storage_outside_autograd_like_torch():
    torch = pytest.importorskip("torch")
    assert _data_program(pg) == _data_program(torch)


def _data_setter_program(lib):
    b = lib.ones(3, requires_grad=True)
    view = b[:2]
    b.data = lib.zeros(4, dtype=lib.float64)  # shape and dtype may change
    out = [b.shape == (4,), str(b.dtype).split(".")[-1], b.requires_grad, b._version,
           view.tolist()]                    # views keep the old memory
    (b * 2).sum().backward()
    out.append(b.grad.tolist())
    e = lib.ones(2, requires_grad=True).exp()
    e.data = lib.zeros(2)                    # a non-leaf keeps its history
    out += [e.tolist(), e.grad_fn is not None]
    return out


def test_data_setter_like_torch():
    torch = pytest.importorskip("torch")
    assert _data_setter_program(pg) == _data_setter_program(torch)


@pytest.mark.parametrize("value, error", [(3, TypeError), ("x", TypeError), (None, TypeError)])
def test_data_setter_refuses_non_tensors(value, error):
    w = pg.ones(2, requires_grad=True)
    with pytest.raises(error, match="has to be a tensor"):
        w.data = value
    assert w.tolist() == [1.0, 1.0]


def test_data_setter_refuses_integers_for_a_tensor_that_requires_grad():
    w = pg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        w.data = pg.zeros(2, dtype=pg.int64)
    assert w.dtype is pg.float32 and w.tolist() == [1.0, 1.0]  # unchanged


def test_data_of_a_tensor_is_a_new_tensor_each_time_sharing_memory():
    x = pg.zeros(3)
    assert x.data is not x and type(x.data) is pg.Tensor
    x.data[1] = 5.0
    assert x.tolist() == [0.0, 5.0, 0.0]


def test_array_is_the_backend_array():
    x = pg.tensor([1.0, 2.0])
    assert isinstance(x.array, np.ndarray) and x.array.tolist() == [1.0, 2.0]
    assert x.data.array is x.array  # .data shares it
    with pytest.raises(AttributeError):
        x.array = np.zeros(2)  # read-only: replace memory through .data


def _write_saved_output(lib, alias):
    w = lib.ones(2, requires_grad=True)
    z = w.exp()
    alias(z).mul_(2)  # ExpBackward0 saved z
    try:
        z.sum().backward()
    except RuntimeError as err:
        return "modified by an inplace operation" in str(err)
    return w.grad.tolist()


@pytest.mark.parametrize("alias", [lambda t: t.data, lambda t: t.detach()], ids=["data", "detach"])
def test_saved_values_changed_through_data_are_not_reported_like_torch(alias):
    # the documented difference from detach(): a write through detach() is caught
    torch = pytest.importorskip("torch")
    expected = _write_saved_output(torch, alias)
    assert _write_saved_output(pg, alias) == pytest.approx(expected)


# -- copy.deepcopy ------------------------------------------------------------------------------
def _deepcopy_program(lib):
    import copy
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    w2, same = copy.deepcopy([w, w])
    w2.data.add_(10)
    return [w.tolist(), w2.tolist(), w2.requires_grad, w2.is_leaf, w2.grad.tolist(),
            w2.grad is not w.grad, same is w2]


def test_deepcopy_like_torch():
    torch = pytest.importorskip("torch")
    assert _deepcopy_program(pg) == _deepcopy_program(torch)


def test_deepcopy_of_a_non_leaf_is_refused_like_torch():
    import copy
    for lib in (pg, pytest.importorskip("torch")):
        with pytest.raises(RuntimeError, match="graph leaves"):
            copy.deepcopy(lib.ones(2, requires_grad=True) * 2)


def test_deepcopy_of_a_model_gives_independent_parameters():
    import copy
    model = pg.nn.Sequential(pg.nn.Linear(3, 2), pg.nn.BatchNorm1d(2))
    twin = copy.deepcopy(model)
    assert all(isinstance(p, pg.nn.Parameter) for p in twin.parameters())
    assert [n for n, _ in twin.named_parameters()] == [n for n, _ in model.named_parameters()]
    pairs = list(zip(model.parameters(), twin.parameters()))
    assert all(a is not b and pg.equal(a, b) for a, b in pairs)
    with pg.no_grad():
        twin[0].weight.zero_()
    assert not pg.equal(model[0].weight, twin[0].weight)
    opt = pg.optim.SGD(twin.parameters(), lr=0.1)  # a copy trains on its own
    twin(pg.ones(4, 3)).sum().backward()
    opt.step()
    assert model[0].weight.grad is None
