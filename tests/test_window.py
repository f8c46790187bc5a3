"""Sliding windows (plugrad.window): Tensor.unfold against torch and finite differences, and
the backend's optional unfold kernel against its fallback."""
from __future__ import annotations

import doctest
import importlib

import numpy as np
import plugrad as pg
import pytest
from plugrad.autograd import gradcheck, gradgradcheck
from plugrad.backend import Backend
from plugrad.backends.numpy_backend import NumpyBackend
from torch_compare import same_as_torch, same_error

rng = np.random.default_rng(3)


@pytest.mark.parametrize("args", [(0, 3, 2), (1, 2, 1), (-1, 4, 3), (0, 5, 1), (2, 1, 2),
                                  (1, 0, 1)])
def test_unfold_matches_torch(args):
    same_as_torch(lambda lib, x: x.unfold(*args), rng.standard_normal((5, 4, 6)))


def test_unfold_of_a_scalar_and_of_a_view_match_torch():
    same_as_torch(lambda lib, x: x.unfold(0, 1, 1), np.array(2.5), names=False)
    same_as_torch(lambda lib, x: x.unfold(0, 0, 3), np.array(2.5), names=False)
    same_as_torch(lambda lib, x: x.T.unfold(1, 2, 2), rng.standard_normal((5, 3)))


@pytest.mark.parametrize("args", [(0, 7, 1), (0, 3, 0), (0, -1, 1), (2, 2, 1), (0, 3, -2)])
def test_unfold_errors_match_torch(args):
    same_error(lambda lib, x: x.unfold(*args), rng.standard_normal((6, 3)))


def test_unfold_is_a_view_and_twice_differentiable():
    x = pg.arange(6.0)
    w = x.unfold(0, 2, 2)
    x.add_(1)
    assert w.tolist() == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    x = pg.tensor(rng.standard_normal((4, 7)), requires_grad=True)
    assert gradcheck(lambda x: x.unfold(1, 3, 2), (x,))
    assert gradgradcheck(lambda x: x.unfold(1, 3, 2) ** 2, (x,))


class _NoUnfold(NumpyBackend):
    """NumPy without its unfold kernel: the contract's fallback does the work."""

    unfold = Backend.unfold


@pytest.mark.parametrize("shape, axis, size, step", [((7,), 0, 3, 2), ((2, 5, 3), 1, 2, 1),
                                                     ((4, 6), 1, 6, 1), ((3, 4), 0, 0, 1)])
def test_the_fallback_gives_the_kernels_windows(shape, axis, size, step):
    x = rng.standard_normal(shape)
    kernel = NumpyBackend.unfold(x, axis, size, step)
    fallback = _NoUnfold().unfold(x, axis, size, step)
    assert fallback.shape == kernel.shape
    np.testing.assert_array_equal(fallback, kernel)


def test_convolution_and_pooling_run_on_the_fallback():
    k = _NoUnfold()
    x, w = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    F = pg.nn.functional
    xs = [pg.tensor(x, requires_grad=True, backend=b) for b in ("numpy", k)]
    ws = [pg.tensor(w, requires_grad=True, backend=b) for b in ("numpy", k)]
    assert xs[1].backend is k
    outs = [F.max_pool2d(F.conv2d(a, b, padding=1, stride=2), 2, 1) for a, b in zip(xs, ws)]
    np.testing.assert_allclose(outs[1].detach().numpy(), outs[0].detach().numpy())
    for o in outs:
        o.sum().backward()
    np.testing.assert_allclose(xs[1].grad.numpy(), xs[0].grad.numpy())
    np.testing.assert_allclose(ws[1].grad.numpy(), ws[0].grad.numpy())


def test_docstring_examples():
    result = doctest.testmod(importlib.import_module("plugrad.window"))
    assert result.failed == 0 and result.attempted > 0
