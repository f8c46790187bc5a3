"""Indexing along a dim (core/indexing.py): gather, scatter, index_select, index_add,
masked_select, take and nonzero, compared with torch 2.13 (values, dtypes,
grad_fn names, gradients and error types) and, for second derivatives, finite differences.
"""
from __future__ import annotations

import numpy as np
import plugrad as pg
import pytest
from helpers import check_second_grads
from torch_compare import same_as_torch, same_error

rng = np.random.default_rng(0)
A = rng.standard_normal((3, 4))
Y = rng.standard_normal((3, 4))
IDX = np.array([[0, 2, 1, 0], [2, 2, 0, 1]])
PERM = np.array([[0, 1, 2, 0], [1, 2, 0, 1], [2, 0, 1, 2]])
ZEROED = np.where(np.abs(A) < 0.7, 0.0, A)


@pytest.mark.parametrize("fn, arrays", [
    (lambda m, x: m.gather(x, 0, m.tensor(IDX)), [A]),
    (lambda m, x: m.gather(x, 0, m.tensor(IDX, dtype=m.int32)), [A]),
    (lambda m, x, y: x.scatter_add(0, m.tensor(IDX, dtype=m.int32), y[:2] * 1), [A, Y]),
    (lambda m, x: x.gather(1, m.tensor(IDX[:, :2])), [A]),
    (lambda m, x: x.gather(-1, m.tensor(IDX[:1])), [A]),
    (lambda m, x: m.scatter(x, 0, m.tensor(PERM), m.ones(3, 4, dtype=m.float64) * 2), [A]),
    (lambda m, x, y: m.scatter(x, 0, m.tensor(PERM), y), [A, Y]),
    (lambda m, x, y: x.scatter(1, m.tensor(PERM[:, :2] % 2), y[:, :2] * 1), [A, Y]),
    (lambda m, x: x.scatter(0, m.tensor(PERM[:2]), 2.5), [A]),
    (lambda m, x, y: x.clone().scatter_(0, m.tensor(PERM), y), [A, Y]),
    (lambda m, x, y: m.scatter_add(x, 0, m.tensor(IDX), y[:2] * 1), [A, Y]),
    (lambda m, x, y: x.clone().scatter_add_(1, m.tensor(IDX), y[:2] * 1), [A, Y]),
    (lambda m, x: m.index_select(x, 1, m.tensor([3, 0, 3])), [A]),
    (lambda m, x: x.index_select(0, m.tensor(2)), [A]),
    (lambda m, x: x.index_select(0, m.tensor([1, 1], dtype=m.int32)), [A]),
    (lambda m, x, y: m.index_add(x, 0, m.tensor([2, 2]), y[:2] * 1, alpha=2.0), [A, Y]),
    (lambda m, x, y: x.index_add(1, m.tensor([3, 0, 3, 1]), y), [A, Y]),
    (lambda m, x, y: x.clone().index_add_(0, m.tensor([0, 0, 1]), y), [A, Y]),
    (lambda m, x: m.masked_select(x, x > 0), [A]),
    (lambda m, x: x[0].masked_select(m.tensor(A > 0)), [A]),
    (lambda m, x: m.take(x, m.tensor([[0, -1], [5, 5]])), [A]),
    (lambda m, x: x.take(m.tensor(3)), [A]),
    (lambda m, x: m.nonzero(x), [ZEROED]),
    (lambda m, x: x.nonzero(as_tuple=True), [ZEROED]),
    (lambda m, x: m.nonzero(x.sum() * 0 + 1), [ZEROED]),
    (lambda m, x: m.nonzero(x.sum(), as_tuple=True), [ZEROED]),
    (lambda m, x: m.nonzero(x[:0]), [ZEROED]),
])
def test_matches_torch(fn, arrays):
    same_as_torch(fn, *arrays)


@pytest.mark.parametrize("fn, arrays", [
    (lambda m, x: x.gather(0, m.tensor([[0, 1, 5]])), [A]),
    (lambda m, x: x.gather(0, m.tensor([[0, 1, -1]])), [A]),
    (lambda m, x: x.gather(0, m.tensor([0, 1])), [A]),
    (lambda m, x: x.gather(0, m.tensor([[0.5]])), [A]),
    (lambda m, x: x.gather(2, m.tensor([[0]])), [A]),
    (lambda m, x: x.scatter(0, m.tensor(IDX), x[:2].float()), [A]),
    (lambda m, x: x.scatter(0, m.tensor([[0, 1, 7]]), 1.0), [A]),
    (lambda m, x: x.index_select(0, m.tensor([5])), [A]),
    (lambda m, x: x.index_select(0, m.tensor([[0]])), [A]),
    (lambda m, x: x.index_select(0, m.tensor([0.0])), [A]),
    (lambda m, x: x.index_add(0, m.tensor([0]), x[:1].float()), [A]),
    (lambda m, x: x.masked_select(x), [A]),
    (lambda m, x: x.take(m.tensor([12])), [A]),
    (lambda m, x: x.take(m.tensor([1], dtype=m.int32)), [A]),
    (lambda m, x: x.take(m.tensor([-13])), [A]),
    (lambda m, x: x.index_add(0, m.tensor([5]), x[:1]), [A]),
    (lambda m, x: x.index_add(0, m.tensor([-1]), x[:1]), [A]),
    (lambda m, x: x.scatter_add(0, m.tensor([[5]]), x), [A]),
    (lambda m, x: x.scatter(0, m.tensor([[-1]]), x), [A]),
    (lambda m, x: x.index_select(1, m.tensor([-1])), [A]),
    (lambda m, x: x.index_select(1, m.tensor([4])), [A]),
    (lambda m, x: x.index_select(0, m.tensor([-1])), [A]),
])
def test_errors_match_torch(fn, arrays):
    same_error(fn, *arrays)


def test_scatter_reduce_is_refused():
    with pytest.raises(NotImplementedError):
        pg.tensor(A).scatter(0, pg.tensor(IDX), 1.0, reduce="add")


@pytest.mark.parametrize("op", [
    lambda x: x.gather(0, pg.tensor(IDX)) ** 2,
    lambda x: x.scatter(0, pg.tensor(PERM[:2]), x[:2] ** 2) * x,
    lambda x: x.scatter_add(0, pg.tensor(IDX), x[:2] ** 2) * x,
    lambda x: x.index_add(1, pg.tensor([0, 0, 1, 3]), x ** 2) * x,
    lambda x: x.index_select(1, pg.tensor([0, 0, 2])) ** 3,
    lambda x: x.masked_select(pg.tensor(A > 0)) ** 2,
    lambda x: x.take(pg.tensor([0, 0, 7])) ** 2,
])
def test_second_derivatives(op):
    check_second_grads(op, A)


def test_gather_backward_adds_repeated_indices():
    x = pg.tensor(A, requires_grad=True)
    x.gather(0, pg.tensor([[0, 0, 0, 0], [0, 0, 0, 0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0], np.full(4, 2.0))
    np.testing.assert_array_equal(x.grad.numpy()[1:], np.zeros((2, 4)))
