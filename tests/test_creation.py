"""Creation functions: dtypes inferred like torch, shapes, random numbers, bad data."""
from __future__ import annotations

import numpy as np
import plugrad as pg
import pytest
from helpers import as_numpy


@pytest.mark.parametrize("data, dtype", [
    ([1.0, 2.0], pg.float32), ([1, 2], pg.int64), ([True], pg.bool), (3.5, pg.float32),
    (7, pg.int64), ([[1, 2.5]], pg.float32), ([], pg.float32),
])
def test_tensor_infers_torch_default_dtypes(data, dtype):
    assert pg.tensor(data).dtype is dtype


def test_tensor_keeps_a_numpy_arrays_dtype_and_copies_it():
    a = np.array([1.0, 2.0])
    t = pg.tensor(a)
    assert t.dtype is pg.float64
    a[0] = 9.0
    assert t.tolist() == [1.0, 2.0]


def test_from_numpy_shares_memory():
    a = np.array([1.0, 2.0], dtype=np.float32)
    t = pg.from_numpy(a)
    a[0] = 9.0
    assert t.tolist() == [9.0, 2.0]


def test_tensor_of_a_tensor_copies():
    x = pg.tensor([1.0], requires_grad=True)
    y = pg.tensor(x)
    assert not y.requires_grad and y.grad_fn is None
    with pg.no_grad():
        x.fill_(3.0)
    assert y.item() == 1.0


def test_explicit_dtype():
    assert pg.tensor([1, 2], dtype=pg.float64).dtype is pg.float64
    assert pg.tensor([1.7], dtype=pg.int32).tolist() == [1]


def test_ragged_data_is_a_value_error_naming_the_dim():
    with pytest.raises(ValueError, match=r"expected sequence of length 2 at dim 1 \(got 3\)"):
        pg.tensor([[1, 2], [3, 4, 5]])


def test_non_numeric_data_is_a_type_error():
    with pytest.raises(TypeError, match="str"):
        pg.tensor(["a", "b"])
    with pytest.raises(TypeError):
        pg.tensor([object()])


def test_filled_tensors():
    assert pg.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert pg.ones((2,)).tolist() == [1.0, 1.0]
    assert pg.zeros(2, dtype=pg.int32).dtype is pg.int32
    assert pg.full((2,), 7).dtype is pg.int64 and pg.full((2,), 7.0).dtype is pg.float32
    assert pg.full((1,), True).dtype is pg.bool
    assert pg.empty(3).shape == (3,)
    assert pg.eye(2, 3).tolist() == [[1, 0, 0], [0, 1, 0]]


def test_negative_size_raises():
    with pytest.raises(RuntimeError, match="negative dimension"):
        pg.zeros(-1)


def test_ranges():
    assert pg.arange(4).tolist() == [0, 1, 2, 3] and pg.arange(4).dtype is pg.int64
    assert pg.arange(1, 2, 0.5).tolist() == [1.0, 1.5] and pg.arange(1, 2, 0.5).dtype is pg.float32
    np.testing.assert_allclose(as_numpy(pg.linspace(0, 1, 5)), [0, 0.25, 0.5, 0.75, 1])
    with pytest.raises(RuntimeError, match="step"):
        pg.arange(0, 1, 0)


def test_like_functions_copy_shape_and_dtype():
    x = pg.zeros(2, 3, dtype=pg.float64)
    for f in (pg.zeros_like, pg.ones_like, pg.empty_like, pg.rand_like, pg.randn_like):
        y = f(x)
        assert y.shape == (2, 3) and y.dtype is pg.float64
    assert pg.full_like(x, 4.0).tolist()[0] == [4.0] * 3
    assert pg.randint_like(x, 5).shape == (2, 3)


def test_requires_grad_on_creation():
    assert pg.zeros(2, requires_grad=True).requires_grad
    assert pg.randn(2, requires_grad=True).is_leaf


def test_random_numbers_are_reproducible_with_manual_seed():
    pg.manual_seed(123)
    a = pg.rand(5).tolist(), pg.randn(5).tolist(), pg.randint(0, 10, (5,)).tolist()
    pg.manual_seed(123)
    b = pg.rand(5).tolist(), pg.randn(5).tolist(), pg.randint(0, 10, (5,)).tolist()
    assert a == b


def test_random_ranges_and_dtypes():
    pg.manual_seed(0)
    u = as_numpy(pg.rand(1000))
    assert u.min() >= 0 and u.max() < 1 and pg.rand(2).dtype is pg.float32
    n = as_numpy(pg.randn(20000, dtype=pg.float64))
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05
    r = as_numpy(pg.randint(3, 6, (1000,)))
    assert set(np.unique(r)) == {3, 4, 5}
    assert pg.randint(5, (2, 2)).shape == (2, 2)
    with pytest.raises(RuntimeError, match="less than"):
        pg.randint(5, 5, (1,))


def test_default_dtype_can_be_changed():
    pg.set_default_dtype(pg.float64)
    try:
        assert pg.tensor([1.0]).dtype is pg.float64 and pg.zeros(1).dtype is pg.float64
    finally:
        pg.set_default_dtype(pg.float32)
    with pytest.raises(TypeError):
        pg.set_default_dtype(pg.int64)


@pytest.mark.parametrize("args, kwargs", [
    ((0, 2, 3), {}), ((0, 2, 3), {"base": 2}), ((0, 2, 3), {"dtype": "int64"}),
    ((-1, 1, 5), {}), ((0, 3, 4), {"dtype": "float64"}), ((1, 1, 0), {}), ((0, 1, 1), {}),
])
def test_logspace_matches_torch(args, kwargs):
    torch = pytest.importorskip("torch")
    ours = pg.logspace(*args, **{k: getattr(pg, v) if k == "dtype" else v
                                 for k, v in kwargs.items()})
    theirs = torch.logspace(*args, **{k: getattr(torch, v) if k == "dtype" else v
                                      for k, v in kwargs.items()})
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ours.tolist(), theirs.tolist(), rtol=1e-6)
