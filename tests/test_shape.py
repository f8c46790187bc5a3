"""Movement, joins, splits and indexing (core/shape.py): values, views, errors and gradients.

Values are compared with NumPy; gradients with central differences in float64
(tests/helpers.py); error types and messages with torch's.
"""
from __future__ import annotations

import numpy as np
import plugrad as pg
import pytest
from helpers import as_numpy, check_grads, check_second_grads


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def shares_memory(a, b) -> bool:
    return np.shares_memory(as_numpy(a), as_numpy(b))


def grad_fn_name(t) -> str:
    return t.grad_fn.name()


# -- reshape / view / flatten -------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(6, 4), (-1, 4), (2, -1, 2), (24,), (-1,), (1, 24, 1),
                                   [4, 6], (2, 3, 4)])
def test_reshape_values_and_grads(shape):
    a = randn(2, 3, 4)
    out = pg.tensor(a).reshape(shape)
    np.testing.assert_array_equal(as_numpy(out), a.reshape(shape))
    check_grads(lambda x: x.reshape(shape), a)


def test_reshape_takes_varargs_tuples_and_lists():
    x = pg.arange(6)
    assert x.reshape(2, 3).shape == (2, 3)
    assert x.reshape((3, 2)).shape == (3, 2)
    assert x.reshape([1, -1]).shape == (1, 6)
    assert pg.reshape(x, (6, 1)).shape == (6, 1)
    assert x.reshape(pg.Size([2, 3])).shape == (2, 3)


def test_reshape_of_0d_and_to_0d():
    check_grads(lambda x: x.reshape(1, 1), np.array(2.5))
    check_grads(lambda x: x.reshape(()), np.array([2.5]))
    assert pg.tensor([3.0]).reshape(()).shape == ()


def test_reshape_of_a_transposed_tensor_copies_and_differentiates():
    a = randn(3, 4)
    out = pg.tensor(a).T.reshape(12)
    np.testing.assert_array_equal(as_numpy(out), a.T.reshape(12))
    check_grads(lambda x: x.T.reshape(2, 6), a)


@pytest.mark.parametrize("shape,message", [
    ((3, 2), r"shape '\[3, 2\]' is invalid for input of size 5"),
    ((-1, 2), r"shape '\[-1, 2\]' is invalid for input of size 5"),
    ((-1, -1), "only one dimension can be inferred"),
    ((-2, 5), "invalid shape dimension -2"),
])
def test_reshape_invalid_shapes_raise_runtime_error(shape, message):
    with pytest.raises(RuntimeError, match=message):
        pg.zeros(5).reshape(shape)


def test_reshape_grad_fn_name():
    x = pg.zeros(2, 3, requires_grad=True)
    assert grad_fn_name(x.reshape(3, 2)) == "ViewBackward0"
    assert grad_fn_name(x.view(6)) == "ViewBackward0"


@pytest.mark.parametrize("shape", [(6,), (3, 2), (-1, 1, 2), (1, 2, 3)])
def test_view_values_grads_and_shared_data(shape):
    a = randn(2, 3)
    x = pg.tensor(a)
    y = x.view(shape)
    np.testing.assert_array_equal(as_numpy(y), a.reshape(shape))
    assert shares_memory(x, y)
    check_grads(lambda t: t.view(shape), a)


def test_writes_through_a_view_reach_its_source():
    x = pg.ones(2, 3)
    x.view(6).fill_(7.0)
    assert x.tolist() == [[7.0] * 3] * 2
    x.view(3, 2).zero_()
    assert x.tolist() == [[0.0] * 3] * 2


def test_view_of_a_transposed_tensor_refuses_and_names_reshape():
    with pytest.raises(RuntimeError, match=r"view size is not compatible.*Use \.reshape"):
        pg.zeros(3, 2).T.view(6)
    assert pg.zeros(3, 2).T.reshape(6).shape == (6,)


def test_view_as_and_reshape_as():
    x, other = pg.arange(6.0), pg.zeros(3, 2)
    assert x.view_as(other).shape == (3, 2)
    assert x.reshape_as(other).shape == (3, 2)


@pytest.mark.parametrize("start,end,shape", [
    (0, -1, (24,)), (1, -1, (2, 12)), (0, 1, (6, 4)), (-2, -1, (2, 12)), (1, 1, (2, 3, 4)),
    (2, 2, (2, 3, 4)),
])
def test_flatten_values_and_grads(start, end, shape):
    a = randn(2, 3, 4)
    out = pg.tensor(a).flatten(start, end)
    assert out.shape == shape
    np.testing.assert_array_equal(as_numpy(out), a.reshape(shape))
    check_grads(lambda x: pg.flatten(x, start, end), a)


def test_flatten_of_0d_and_of_empty_tensors():
    assert pg.tensor(2.0).flatten().shape == (1,)
    assert pg.zeros(2, 0, 3).flatten().shape == (0,)
    assert pg.zeros(2, 0, 3).flatten(1).shape == (2, 0)


def test_flatten_bad_dims():
    with pytest.raises(RuntimeError, match="start_dim cannot come after end_dim"):
        pg.zeros(2, 3).flatten(1, 0)
    with pytest.raises(IndexError, match=r"Dimension out of range"):
        pg.zeros(2, 3).flatten(0, 5)
    with pytest.raises(IndexError, match=r"Dimension out of range"):
        pg.tensor(1.0).flatten(0, 1)


# -- axis order ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dims", [(0, 1, 2), (2, 0, 1), (1, 0, 2), (-1, -3, -2)])
def test_permute_values_and_grads(dims):
    a = randn(2, 3, 4)
    out = pg.tensor(a).permute(*dims)
    np.testing.assert_array_equal(as_numpy(out), a.transpose(dims))
    assert pg.tensor(a).permute(dims).shape == out.shape
    check_grads(lambda x: x.permute(dims), a)


def test_permute_errors():
    with pytest.raises(RuntimeError, match="duplicate dims are not allowed"):
        pg.zeros(2, 3).permute(0, 0)
    with pytest.raises(RuntimeError, match=r"input.dim\(\) = 2 is not equal to len\(dims\) = 1"):
        pg.zeros(2, 3).permute(0)
    with pytest.raises(IndexError, match=r"Dimension out of range"):
        pg.zeros(2, 3).permute(0, 2)


@pytest.mark.parametrize("d0,d1", [(0, 1), (0, 2), (-1, 0), (1, 1), (-2, -1)])
def test_transpose_values_and_grads(d0, d1):
    a = randn(2, 3, 4)
    out = pg.tensor(a).transpose(d0, d1)
    np.testing.assert_array_equal(as_numpy(out), np.swapaxes(a, d0, d1))
    np.testing.assert_array_equal(as_numpy(pg.swapaxes(pg.tensor(a), d0, d1)), as_numpy(out))
    check_grads(lambda x: x.transpose(d0, d1), a)


def test_transpose_out_of_range_and_0d():
    with pytest.raises(IndexError, match=r"\[-2, 1\], but got 2"):
        pg.zeros(3, 2).transpose(0, 2)
    assert pg.tensor(1.0).transpose(0, -1).shape == ()


def test_T_and_mT():
    a = randn(2, 3, 4)
    np.testing.assert_array_equal(as_numpy(pg.tensor(a[0]).T), a[0].T)
    np.testing.assert_array_equal(as_numpy(pg.tensor(a).T), a.transpose(2, 1, 0))
    np.testing.assert_array_equal(as_numpy(pg.tensor(a).mT), a.transpose(0, 2, 1))
    check_grads(lambda x: x.T, a)
    check_grads(lambda x: x.mT, a)


@pytest.mark.parametrize("src,dst", [(0, 2), (2, 0), (-1, 1), (1, 1)])
def test_movedim_values_and_grads(src, dst):
    a = randn(2, 3, 4)
    np.testing.assert_array_equal(as_numpy(pg.tensor(a).movedim(src, dst)),
                                  np.moveaxis(a, src, dst))
    check_grads(lambda x: x.movedim(src, dst), a)


def test_axis_order_grad_fn_names():
    x = pg.zeros(2, 3, requires_grad=True)
    assert grad_fn_name(x.permute(1, 0)) == "PermuteBackward0"
    assert grad_fn_name(x.transpose(0, 1)) == "TransposeBackward0"
    assert grad_fn_name(x.T) == "PermuteBackward0"
    assert grad_fn_name(x.mT) == "TransposeBackward0"


def test_permuted_tensors_are_views():
    x = pg.tensor(randn(2, 3))
    assert shares_memory(x, x.T) and shares_memory(x, x.permute(1, 0))


# -- squeeze / unsqueeze ------------------------------------------------------------------------
@pytest.mark.parametrize("dim,shape", [
    (None, (3, 4)), (0, (3, 1, 4)), (2, (1, 3, 4)), (-2, (1, 3, 4)), (1, (1, 3, 1, 4)),
    ((0, 2), (3, 4)), ((0, 1), (3, 1, 4)),
])
def test_squeeze_values_and_grads(dim, shape):
    a = randn(1, 3, 1, 4)
    out = pg.tensor(a).squeeze() if dim is None else pg.tensor(a).squeeze(dim)
    assert out.shape == shape
    np.testing.assert_array_equal(as_numpy(out), a.reshape(shape))
    check_grads(lambda x: x.squeeze() if dim is None else x.squeeze(dim), a)


def test_squeeze_of_0d_and_names():
    assert pg.tensor(1.0).squeeze().shape == ()
    assert pg.tensor(1.0).squeeze(0).shape == ()
    with pytest.raises(IndexError, match=r"\[-1, 0\], but got 1"):
        pg.tensor(1.0).squeeze(1)
    x = pg.zeros(1, 2, requires_grad=True)
    assert grad_fn_name(x.squeeze()) == "SqueezeBackward0"
    assert grad_fn_name(x.squeeze(0)) == "SqueezeBackward1"
    assert grad_fn_name(x.squeeze((0,))) == "SqueezeBackward2"
    assert grad_fn_name(x.unsqueeze(0)) == "UnsqueezeBackward0"


@pytest.mark.parametrize("dim,shape", [(0, (1, 2, 3)), (1, (2, 1, 3)), (2, (2, 3, 1)),
                                       (-1, (2, 3, 1)), (-3, (1, 2, 3))])
def test_unsqueeze_values_and_grads(dim, shape):
    a = randn(2, 3)
    out = pg.tensor(a).unsqueeze(dim)
    assert out.shape == shape
    check_grads(lambda x: x.unsqueeze(dim), a)


def test_unsqueeze_range():
    assert pg.tensor(2.0).unsqueeze(-1).shape == (1,)
    with pytest.raises(IndexError, match=r"\[-3, 2\], but got 3"):
        pg.zeros(2, 3).unsqueeze(3)


# -- expand -------------------------------------------------------------------------------------
@pytest.mark.parametrize("src,sizes,shape", [
    ((3, 1), (3, 4), (3, 4)),
    ((3, 1), (-1, 4), (3, 4)),
    ((3,), (2, 3), (2, 3)),
    ((3, 1), (2, -1, 5), (2, 3, 5)),
    ((1, 1), (2, 2, 3), (2, 2, 3)),
    ((), (2, 3), (2, 3)),
    ((2, 3), (2, 3), (2, 3)),
])
def test_expand_values_and_grads(src, sizes, shape):
    a = randn(*src)
    out = pg.tensor(a).expand(*sizes)
    assert out.shape == shape
    np.testing.assert_array_equal(as_numpy(out), np.broadcast_to(a, shape))
    check_grads(lambda x: x.expand(sizes), a)
    check_grads(lambda x: pg.broadcast_to(x, shape), a)


def test_expand_errors():
    with pytest.raises(RuntimeError, match=r"The expanded size of the tensor \(4\) must match "
                                           r"the existing size \(3\) at non-singleton dimension 1"):
        pg.zeros(3).expand(2, 4)
    with pytest.raises(RuntimeError, match="leading, non-existing dimension 0"):
        pg.zeros(3).expand(-1, 3)
    with pytest.raises(RuntimeError, match="number of sizes provided"):
        pg.zeros(2, 3).expand(3)


def test_expand_as_and_name():
    x = pg.zeros(3, 1, requires_grad=True)
    out = x.expand_as(pg.zeros(2, 3, 4))
    assert out.shape == (2, 3, 4)
    assert grad_fn_name(out) == "ExpandBackward0"
    assert shares_memory(out, x)


# -- cat / stack --------------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_cat_values_and_grads(dim):
    shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]]
    for i, s in enumerate(shapes):
        s[dim] = i + 1
    arrays = [randn(*s, seed=i) for i, s in enumerate(shapes)]
    out = pg.cat([pg.tensor(a) for a in arrays], dim)
    np.testing.assert_array_equal(as_numpy(out), np.concatenate(arrays, dim))
    check_grads(lambda *xs: pg.cat(xs, dim=dim), *arrays)


def test_cat_of_one_tensor_and_tuple_input():
    check_grads(lambda x: pg.cat((x,)), randn(2, 3))
    assert pg.concat((pg.zeros(2), pg.ones(1))).tolist() == [0.0, 0.0, 1.0]


@pytest.mark.parametrize("a,b,want", [
    (pg.float32, pg.float64, pg.float64),
    (pg.int64, pg.float32, pg.float32),
    (pg.bool, pg.int32, pg.int32),
    (pg.int32, pg.int64, pg.int64),
])
def test_cat_promotes_dtypes(a, b, want):
    out = pg.cat([pg.ones(2, dtype=a), pg.zeros(1, dtype=b)])
    assert out.dtype is want
    assert out.tolist() == [1, 1, 0]


def test_cat_gradient_has_each_inputs_dtype():
    x = pg.ones(2, dtype=pg.float32, requires_grad=True)
    y = pg.ones(1, dtype=pg.float64, requires_grad=True)
    h = x * 2
    h.retain_grad()
    pg.cat([h, y]).sum().backward()
    assert h.grad.dtype is pg.float32 and x.grad.dtype is pg.float32
    assert y.grad.dtype is pg.float64


def test_cat_only_differentiates_inputs_that_require_grad():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    c = pg.tensor([5.0])
    out = pg.cat([c, x])
    assert grad_fn_name(out) == "CatBackward0"
    out.backward(pg.tensor([1.0, 2.0, 3.0]))
    assert x.grad.tolist() == [2.0, 3.0]
    assert c.grad is None


def test_cat_errors():
    with pytest.raises(RuntimeError, match=r"Sizes of tensors must match except in dimension 0\. "
                                           r"Expected size 3 but got size 4 for tensor number 1"):
        pg.cat([pg.zeros(2, 3), pg.zeros(2, 4)])
    with pytest.raises(RuntimeError, match="same number of dimensions: got 2 and 1"):
        pg.cat([pg.zeros(2, 3), pg.zeros(3)])
    with pytest.raises(IndexError, match=r"\[-2, 1\], but got 2"):
        pg.cat([pg.zeros(2, 3), pg.zeros(2, 3)], 2)
    # torch 2.x raises ValueError here, torch 1.x RuntimeError; plugrad's error is both
    with pytest.raises(RuntimeError, match="non-empty"):
        pg.cat([])
    with pytest.raises(ValueError, match="non-empty"):
        pg.cat([])


@pytest.mark.parametrize("position", [0, 1])
def test_cat_refuses_0d_tensors(position):
    tensors = [pg.zeros(2), pg.zeros(2)]
    tensors[position] = pg.tensor(1.0)
    with pytest.raises(RuntimeError, match=rf"zero-dimensional tensor \(at position {position}\) "
                                           r"cannot be concatenated"):
        pg.cat(tensors)


def test_cat_skips_legacy_empty_1d_tensors():
    # torch still accepts shape-(0,) tensors next to tensors of any shape
    x = pg.ones(2, 3, requires_grad=True)
    out = pg.cat([pg.zeros(0), x, pg.zeros(0)])
    assert out.shape == (2, 3)
    out.sum().backward()
    assert x.grad.tolist() == [[1.0] * 3] * 2


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_stack_values_and_grads(dim):
    arrays = [randn(2, 3, seed=i) for i in range(3)]
    out = pg.stack([pg.tensor(a) for a in arrays], dim)
    np.testing.assert_array_equal(as_numpy(out), np.stack(arrays, dim))
    check_grads(lambda *xs: pg.stack(xs, dim), *arrays)


def test_stack_of_0d_tensors_and_promotion():
    out = pg.stack([pg.tensor(1.0), pg.tensor(2.0, dtype=pg.float64)])
    assert out.tolist() == [1.0, 2.0] and out.dtype is pg.float64
    check_grads(lambda a, b: pg.stack([a, b]), np.array(1.0), np.array(2.0))


def test_stack_errors_and_name():
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got "
                                           r"\[2\] at entry 0 and \[3\] at entry 1"):
        pg.stack([pg.zeros(2), pg.zeros(3)])
    with pytest.raises(RuntimeError, match="non-empty"):
        pg.stack([])
    with pytest.raises(IndexError, match=r"\[-2, 1\], but got 2"):
        pg.stack([pg.zeros(2), pg.zeros(2)], 2)
    assert grad_fn_name(pg.stack([pg.zeros(2, requires_grad=True)])) == "StackBackward0"


# -- split / chunk / unbind / narrow ------------------------------------------------------------
@pytest.mark.parametrize("size,dim,lengths", [
    (2, 0, [2, 2, 1]), (5, 0, [5]), (7, 0, [5]), (1, 1, [1, 1, 1]), (2, -1, [2, 1]),
    ([1, 4], 0, [1, 4]), ([0, 3, 2], 0, [0, 3, 2]), ([3], 1, [3]),
])
def test_split_pieces_values_and_grads(size, dim, lengths):
    a = randn(5, 3)
    pieces = pg.tensor(a).split(size, dim)
    assert [p.shape[dim] for p in pieces] == lengths
    bounds = np.cumsum(lengths)[:-1]
    for p, want in zip(pieces, np.split(a, bounds, axis=dim)):
        np.testing.assert_array_equal(as_numpy(p), want)
    weights = [float(i + 1) for i in range(len(lengths))]
    check_grads(lambda x: pg.cat([w * p.reshape(-1) for w, p in
                                  zip(weights, pg.split(x, size, dim))]), a)


def test_split_errors():
    with pytest.raises(RuntimeError, match=r"split_with_sizes expects split_sizes to sum exactly "
                                           r"to 3 .*but got split_sizes=\[1, 1\]"):
        pg.zeros(3).split([1, 1])
    with pytest.raises(RuntimeError, match="non-negative entries"):
        pg.zeros(3).split([4, -1])
    with pytest.raises(RuntimeError, match="split_size can only be 0 if dimension size is 0"):
        pg.zeros(3).split(0)
    assert [p.shape for p in pg.zeros(0).split(0)] == [(0,)]
    assert [p.shape for p in pg.zeros(0).split(2)] == [(0,)]


@pytest.mark.parametrize("chunks,lengths", [(2, [3, 2]), (3, [2, 2, 1]), (5, [1] * 5),
                                            (7, [1] * 5), (4, [2, 2, 1]), (1, [5])])
def test_chunk_lengths_and_grads(chunks, lengths):
    a = randn(5, 2)
    pieces = pg.tensor(a).chunk(chunks)
    assert [p.shape[0] for p in pieces] == lengths
    check_grads(lambda x: pg.cat([p * (i + 1) for i, p in enumerate(pg.chunk(x, chunks))]), a)


def test_chunk_of_an_empty_dim_and_errors():
    assert len(pg.zeros(0).chunk(3)) == 3
    assert pg.zeros(2, 6).chunk(4, dim=1)[0].shape == (2, 2)
    with pytest.raises(RuntimeError, match="chunk expects `chunks` to be greater than 0"):
        pg.zeros(3).chunk(0)


def test_split_and_chunk_grad_fn_names():
    x = pg.zeros(4, requires_grad=True)
    assert {grad_fn_name(p) for p in x.split(2)} == {"SplitBackward0"}
    assert {grad_fn_name(p) for p in x.split([1, 3])} == {"SplitWithSizesBackward0"}
    assert {grad_fn_name(p) for p in x.chunk(2)} == {"SplitBackward0"}
    assert {grad_fn_name(p) for p in x.unbind()} == {"UnbindBackward0"}
    assert grad_fn_name(x.narrow(0, 1, 2)) == "SliceBackward0"


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unbind_values_and_grads(dim):
    a = randn(2, 3)
    pieces = pg.tensor(a).unbind(dim)
    assert len(pieces) == a.shape[dim]
    for i, p in enumerate(pieces):
        np.testing.assert_array_equal(as_numpy(p), np.take(a, i, axis=dim))
    check_grads(lambda x: pg.stack([p * (i + 1) for i, p in enumerate(pg.unbind(x, dim))]), a)


@pytest.mark.parametrize("dim,start,length", [(0, 0, 2), (0, 1, 3), (1, -2, 2), (-1, 0, 0),
                                              (0, 4, 0), (0, -4, 1)])
def test_narrow_values_and_grads(dim, start, length):
    a = randn(4, 3)
    out = pg.tensor(a).narrow(dim, start, length)
    s = start % a.shape[dim] if start < 0 else start
    np.testing.assert_array_equal(as_numpy(out), np.take(a, range(s, s + length), axis=dim))
    check_grads(lambda x: pg.narrow(x, dim, start, length), a)


def test_narrow_errors_and_view():
    x = pg.zeros(3)
    with pytest.raises(RuntimeError, match=r"start \(1\) \+ length \(3\) exceeds dimension size "
                                           r"\(3\)"):
        x.narrow(0, 1, 3)
    with pytest.raises(IndexError, match=r"start out of range \(expected to be in range of "
                                         r"\[-3, 3\], but got 5\)"):
        x.narrow(0, 5, 0)
    with pytest.raises(RuntimeError, match="length must be non-negative"):
        x.narrow(0, 1, -1)
    assert shares_memory(x, x.narrow(0, 1, 2))


# -- indexing -----------------------------------------------------------------------------------
# Each index is built by a function of `T`, which turns nested lists into an index
# tensor: np.array for the NumPy reference, pg.tensor for plugrad.
MASK = np.random.default_rng(7).random((3, 4, 5)) > 0.5
MASK_2D = np.array([[True, False, True, True], [False, False, False, False],
                    [True, True, False, True]])
INDICES = {
    "int": lambda T: 1,
    "negative_int": lambda T: -1,
    "two_ints": lambda T: (2, -3),
    "three_ints": lambda T: (-1, 0, 4),
    "full_slice": lambda T: slice(None),
    "slice": lambda T: slice(1, 3),
    "slice_step": lambda T: (slice(None, None, 2), slice(1, None, 2)),
    "slice_negative_bounds": lambda T: (slice(-2, None), slice(None, -1)),
    "slice_past_the_end": lambda T: slice(1, 10),
    "empty_slice": lambda T: slice(2, 1),
    "int_and_slice": lambda T: (0, slice(1, 4, 2)),
    "slice_then_int": lambda T: (slice(None), 1),
    "none": lambda T: None,
    "none_between": lambda T: (1, None, slice(None), None),
    "ellipsis_int": lambda T: (Ellipsis, 1),
    "int_ellipsis": lambda T: (1, Ellipsis),
    "ellipsis_only": lambda T: Ellipsis,
    "ellipsis_none": lambda T: (Ellipsis, None),
    "list": lambda T: [2, 0],
    "list_repeated": lambda T: [2, 0, 2, 2],
    "list_negative": lambda T: [-1, -3],
    "tensor": lambda T: T([1, 2, 1]),
    "tensor_2d": lambda T: T([[0, 1], [2, 2]]),
    "nested_list": lambda T: [[0, 1], [1, 1]],
    "tensor_on_dim1": lambda T: (slice(None), T([3, 0, 3])),
    "two_tensors": lambda T: (T([0, 2, 2]), T([1, 3, 1])),
    "tensors_around_slice": lambda T: (T([0, 1]), slice(None), T([4, 4])),
    "broadcast_tensors": lambda T: (T([[0], [2]]), T([1, 3, 3])),
    "tensor_with_ellipsis": lambda T: (Ellipsis, T([0, 0, 4])),
    "tensor_with_none": lambda T: (None, T([1, 1]), slice(1, 3)),
    "tensor_and_int": lambda T: (T([2, 0]), 1),
    "step_slice_and_tensor": lambda T: (slice(None, None, 2), T([1, 3]), None),
    "mask": lambda T: T(MASK),
    "mask_2d": lambda T: T(MASK_2D),
    "mask_dim0": lambda T: T([True, False, True]),
    "mask_list": lambda T: [False, True, True],
    "int_then_mask": lambda T: (1, T([True, False, True, True])),
    "slice_then_mask": lambda T: (slice(None), T([False, True, True, False])),
    "mask_then_tensor": lambda T: (T([True, False, True]), T([0, 3])),
    "true": lambda T: True,
    "false": lambda T: False,
    "0d_tensor": lambda T: T(2),
    "0d_tensor_and_slice": lambda T: (slice(1, 3), T(-1)),
    "empty_list": lambda T: [],
}


def np_index(make):
    return make(np.array)


def pg_index(make):
    return make(pg.tensor)


@pytest.mark.parametrize("name", sorted(INDICES))
def test_indexing_matches_numpy(name):
    a = randn(3, 4, 5)
    out = pg.tensor(a)[pg_index(INDICES[name])]
    want = a[np_index(INDICES[name])]
    assert tuple(out.shape) == want.shape
    np.testing.assert_array_equal(as_numpy(out), want)


@pytest.mark.parametrize("name", sorted(INDICES))
def test_indexing_grads(name):
    index = pg_index(INDICES[name])
    check_grads(lambda x: x[index], randn(3, 4, 5))


@pytest.mark.parametrize("name", ["list_repeated", "two_tensors", "mask", "slice_step",
                                  "broadcast_tensors", "int_then_mask"])
def test_indexing_second_derivatives(name):
    index = pg_index(INDICES[name])
    check_second_grads(lambda x: x[index] ** 3, randn(3, 4, 5))


def test_repeated_indices_accumulate_in_backward():
    x = pg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 1]].sum().backward()
    assert x.grad.tolist() == [2.0, 1.0, 0.0]
    y = pg.zeros(2, 2, requires_grad=True)
    y[pg.tensor([1, 1, 1]), pg.tensor([0, 0, 1])].sum().backward()
    assert y.grad.tolist() == [[0.0, 0.0], [2.0, 1.0]]


def test_indexing_a_0d_tensor():
    x = pg.tensor(3.0)
    assert x[()].item() == 3.0 and x[...].shape == () and x[None].shape == (1,)
    assert x[True].shape == (1,) and x[False].shape == (0,)
    check_grads(lambda t: t[None, ..., None], np.array(3.0))


@pytest.mark.parametrize("index,message", [
    (3, "index 3 is out of bounds for dimension 0 with size 3"),
    (-4, "index -4 is out of bounds for dimension 0 with size 3"),
    ((0, 2), "index 2 is out of bounds for dimension 1 with size 2"),
    ([0, 5], "index 5 is out of bounds for dimension 0 with size 3"),
    ((0, 0, 0), "too many indices"),
])
def test_out_of_range_index_is_index_error(index, message):
    with pytest.raises(IndexError, match=message):
        pg.zeros(3, 2)[index]


def test_bad_index_types():
    x = pg.zeros(3, 2)
    with pytest.raises(IndexError, match="tensors used as indices must be long, int"):
        x[pg.tensor([0.0, 1.0])]
    with pytest.raises(IndexError, match="only integers, slices"):
        x[1.5]
    with pytest.raises(IndexError):
        x[pg.tensor([True, False])]  # mask shape does not match
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1]


def test_indexing_grad_fn_names_follow_torch():
    x = pg.zeros(3, 4, requires_grad=True)
    assert grad_fn_name(x[0]) == "SelectBackward0"
    assert grad_fn_name(x[:, 1]) == "SelectBackward0"
    assert grad_fn_name(x[pg.tensor(1)]) == "SelectBackward0"
    assert grad_fn_name(x[1:3]) == "SliceBackward0"
    assert grad_fn_name(x[0, 1:]) == "SliceBackward0"
    assert grad_fn_name(x[None]) == "UnsqueezeBackward0"
    assert grad_fn_name(x[...]) == "AliasBackward0"
    assert grad_fn_name(x[[0, 1]]) == "IndexBackward0"
    assert grad_fn_name(x[x > 0]) == "IndexBackward0"


def test_basic_indexing_gives_views_and_advanced_indexing_copies():
    x = pg.zeros(3, 4)
    x[1].fill_(1.0)
    x[0, 2].fill_(5.0)
    x[:, 3:].fill_(2.0)
    assert x.tolist() == [[0.0, 0.0, 5.0, 2.0], [1.0, 1.0, 1.0, 2.0], [0.0, 0.0, 0.0, 2.0]]
    x[[0, 2]].fill_(9.0)
    x[x > 100].fill_(9.0)
    assert x.sum().item() == 14.0


def test_views_of_a_0d_result_share_its_data():
    s = pg.tensor([1.0, 2.0]).sum()
    s.reshape(1).fill_(5.0)
    assert s.item() == 5.0
    s[...].zero_()
    assert s.item() == 0.0


def test_slice_bounds_may_be_integer_tensors():
    a = randn(5)
    out = pg.tensor(a)[pg.tensor(1):pg.tensor(4):pg.tensor(2)]
    np.testing.assert_array_equal(as_numpy(out), a[1:4:2])


def test_chained_indexing_grads():
    check_grads(lambda x: x[1:][:, [0, 0, 2]][..., None][0], randn(3, 4))


# -- second derivatives through movement ops ----------------------------------------------------
@pytest.mark.parametrize("name,fn", [
    ("reshape_permute", lambda x: x.reshape(3, 2, 2).permute(2, 0, 1) ** 3),
    ("expand", lambda x: x[:, :1].expand(2, 3, 4) ** 3),
    ("cat_split", lambda x: pg.cat(x.split([1, 3], 1)[::-1], 1) ** 3),
    ("stack_unbind", lambda x: pg.stack(x.unbind(1), 0) ** 3),
    ("squeeze_flatten", lambda x: x.unsqueeze(0).flatten(1).squeeze() ** 3),
])
def test_movement_second_derivatives(name, fn):
    check_second_grads(fn, randn(3, 4))


# -- flip, roll, repeat, triangles, diagonals, splits, grids: against torch 2.13 ------------------
from torch_compare import same_as_torch, same_error  # noqa: E402 - the torch comparisons below

A = randn(3, 4)
B = randn(2, 3, 4, seed=1)
V = randn(3, seed=2)
W = randn(2, seed=3)


@pytest.mark.parametrize("fn, arrays", [
    (lambda m, x: m.flip(x, (0, 1)), [A]),
    (lambda m, x: x.flip(-1), [B]),
    (lambda m, x: x.flip(dims=[0]), [A]),
    (lambda m, x: m.roll(x, 1), [A]),
    (lambda m, x: m.roll(x, (1, -5), (0, 1)), [A]),
    (lambda m, x: x.roll(7, 2), [B]),
    (lambda m, x: x.repeat(2, 1, 3), [A]),
    (lambda m, x: x.repeat((1, 2)), [A]),
    (lambda m, x: m.tile(x, (2,)), [A]),
    (lambda m, x: x.tile(2, 1, 1, 1), [B]),
    (lambda m, x: m.repeat_interleave(x, 2), [A]),
    (lambda m, x: x.repeat_interleave(2, dim=1), [A]),
    (lambda m, x: x.repeat_interleave(m.tensor([1, 0, 2]), dim=0), [A]),
    (lambda m, x: m.repeat_interleave(x, m.tensor(3)), [V]),
    (lambda m, r: m.repeat_interleave(r), [np.array([1, 0, 3])]),
    (lambda m, x: m.tril(x), [A]),
    (lambda m, x: x.tril(-1), [B]),
    (lambda m, x: m.triu(x, 2), [A]),
    (lambda m, x: x.clone().tril_(1), [A]),
    (lambda m, x: x.clone().triu_(), [B]),
    (lambda m, x: m.tril(x > 0), [A]),
    (lambda m, v: m.diag(v), [V]),
    (lambda m, v: m.diag(v, -2), [V]),
    (lambda m, x: x.diag(1), [A]),
    (lambda m, x: m.diagonal(x), [A]),
    (lambda m, x: x.diagonal(-1), [A]),
    (lambda m, x: m.diagonal(x, 1, 2, 0), [B]),
    (lambda m, x: x.diagonal(0, -1, -2), [B]),
    (lambda m, x: m.diff(x), [A]),
    (lambda m, x, y: m.diff(x, n=2, dim=0, prepend=y[:1], append=y), [A, randn(2, 4)]),
    (lambda m, x: m.diff(x > 0, dim=0), [A]),
    (lambda m, x: m.tensor_split(x, 3, dim=1), [A]),
    (lambda m, x: x.tensor_split([1, -1, 7], 1), [A]),
    (lambda m, x: x.tensor_split(m.tensor([1, 2])), [A]),
    (lambda m, x: x.tensor_split(m.tensor(2)), [A]),
    (lambda m, v, w: m.meshgrid(v, w, indexing="ij"), [V, W]),
    (lambda m, v, w: m.meshgrid([v, w, v], indexing="xy"), [V, W]),
    (lambda m, v, x: m.broadcast_tensors(v[:, None], x), [V, A]),
    (lambda m, x: x.new_zeros(2, 3), [A]),
    (lambda m, x: x.new_ones((2,), dtype=m.float64), [A]),
    (lambda m, x: x.new_full((2, 2), 3), [A]),
    (lambda m, x: x.new_tensor([[1, 2]]), [A]),
    (lambda m, x: x.new_zeros(2, requires_grad=True) * 2, [A]),
    (lambda m, x: x.new_ones(2, device="cpu"), [A]),
    (lambda m, x: x.new_tensor([1.5], device="cpu"), [A]),
])
def test_more_shape_ops_match_torch(fn, arrays):
    same_as_torch(fn, *arrays)


@pytest.mark.parametrize("fn, arrays", [
    (lambda m, x: x.flip(0, 0), [A]),
    (lambda m, x: x.flip(2), [A]),
    (lambda m, x: m.roll(x, (1, 2), 0), [A]),
    (lambda m, x: x.repeat(2), [A]),
    (lambda m, x: x.repeat_interleave(m.tensor([1, 2]), dim=0), [A]),
    (lambda m, x: x.repeat_interleave(-1), [A]),
    (lambda m, v: m.tril(v), [V]),
    (lambda m, v: m.triu(v), [V]),
    (lambda m, x: m.diag(x), [B]),
    (lambda m, x: x.diagonal(0, 0, 0), [A]),
    (lambda m, v: m.diagonal(v), [V]),
    (lambda m, x: m.tensor_split(x, 0), [A]),
    (lambda m, x: m.tensor_split(x.sum(), 2), [A]),
    (lambda m, x, v: m.meshgrid(x, v, indexing="ij"), [A, V]),
    (lambda m, v: m.meshgrid(v, v, indexing="yx"), [V]),
    (lambda m, x, v: m.broadcast_tensors(x, v), [A, V]),
    (lambda m, x: m.diff(x.sum()), [A]),
])
def test_more_shape_op_errors_match_torch(fn, arrays):
    same_error(fn, *arrays)


def test_meshgrid_without_indexing_warns_and_is_ij():
    with pytest.warns(UserWarning, match="indexing"):
        a, b = pg.meshgrid(pg.tensor(V), pg.tensor(W))
    assert a.shape == (3, 2) and b.shape == (3, 2)


def test_flip_and_repeat_are_copies():
    x = pg.tensor(A)
    for out in (x.flip(0), x.repeat(1, 1), x.roll(0, 0), x.tril(5)):
        assert not shares_memory(out, x)


@pytest.mark.parametrize("op", [lambda x: x.flip(0).roll(1, 1) ** 2, lambda x: x.repeat(2, 1) ** 2,
                                lambda x: x.tril(1) * x, lambda x: x.diagonal(1) ** 3,
                                lambda x: pg.diag(x.reshape(-1)[:3]) ** 2])
def test_second_derivatives(op):
    check_second_grads(op, A)
