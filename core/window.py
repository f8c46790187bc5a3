"""Sliding windows: `Tensor.unfold`, and the window views that convolution and pooling read.

`windows(x, axes, sizes, steps, dilations)` is a view of x holding every window
along `axes`: those dims become the window counts and the window dims are
appended at the end, (N, C, H, W) -> (N, C, Ho, Wo, kh, kw). It is built from
the backend's `unfold` kernel (a strided view on NumPy), one call per axis.
Its adjoint `window_sum` adds each window back where it came from (col2im);
each is the other's backward, so both differentiate any number of times.
"""
from __future__ import annotations

import itertools

from .aliases import link
from .backend import written
from .declare import Ops
from .grad_mode import STATE
from .recording import record1
from .tensor import Tensor, _make, _shareable, normalize_dim

ops = Ops(__name__)


# -- on backend arrays -------------------------------------------------------------------
def window_array(k, a, axes: tuple, sizes: tuple, steps: tuple, dilations: tuple):
    """The window view of array `a` (see the module docstring)."""
    for ax, size, step, dil in zip(axes, sizes, steps, dilations):
        if dil == 1:
            a = k.unfold(a, ax, size, step)
        else:  # a window of the dilated span, then every dil-th element of it
            a = k.getitem(k.unfold(a, ax, (size - 1) * dil + 1, step),
                          (Ellipsis, slice(None, None, dil)))
    return a


def window_sum_array(k, g, shape: tuple, dtype, axes: tuple, sizes: tuple, steps: tuple,
                     dilations: tuple):
    """An array of `shape` where every window of `g` (a window view's shape) is added back.

    One strided add per position in the window (kh * kw of them), never per pixel.
    """
    out = k.full(shape, 0, dtype)
    counts = [g.shape[ax] for ax in axes]
    index = [slice(None)] * len(shape)
    for offsets in itertools.product(*[range(s) for s in sizes]):
        for ax, o, step, dil, n in zip(axes, offsets, steps, dilations, counts):
            index[ax] = slice(o * dil, o * dil + step * (n - 1) + 1, step)
        out = written(k.index_add(out, tuple(index), k.getitem(g, (Ellipsis,) + offsets)), out)
    return out


# -- as recorded ops -----------------------------------------------------------------------
def windows(x: Tensor, axes: tuple, sizes: tuple, steps: tuple, dilations: tuple,
            name: str = "UnfoldBackward0") -> Tensor:
    """The window view of x, differentiable (its backward is `window_sum`)."""
    k = x.backend
    out = _make(window_array(k, _shareable(x), axes, sizes, steps, dilations), x.dtype, k, x)
    if not (k.views and k.writable):  # windows overlap where a step is shorter than a window
        link(out, x, lambda k, a: window_array(k, a, axes, sizes, steps, dilations),
             any(st < (sz - 1) * dl + 1 for sz, st, dl in zip(sizes, steps, dilations)))
    if x._rg and STATE.grad_enabled:
        record1(out, name, _windows_backward, x, (),
                (tuple(x._array.shape), axes, sizes, steps, dilations))
    return out


def _windows_backward(node, g):
    shape, axes, sizes, steps, dilations = node.args
    return (window_sum(g, shape, axes, sizes, steps, dilations),)


def window_sum(g: Tensor, shape: tuple, axes: tuple, sizes: tuple, steps: tuple,
               dilations: tuple, name: str = "UnfoldBackwardBackward0") -> Tensor:
    """Every window of g added back into a tensor of `shape` (col2im), differentiable."""
    k = g.backend
    out = _make(window_sum_array(k, g._array, shape, g.dtype, axes, sizes, steps, dilations),
                g.dtype, k)
    if g._rg and STATE.grad_enabled:
        record1(out, name, _window_sum_backward, g, (), (axes, sizes, steps, dilations))
    return out


def _window_sum_backward(node, g):
    axes, sizes, steps, dilations = node.args
    return (windows(g, axes, sizes, steps, dilations, "UnfoldBackward0"),)


# -- Tensor.unfold -------------------------------------------------------------------------
@ops.declare(function=False)
def unfold(x: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Every window of `size` elements, `step` apart, along `dimension` (a view).

    The dim becomes the number of windows, (n - size) // step + 1, and a last
    dim of length `size` holds each window.

    >>> import plugrad as pg
    >>> pg.arange(6.).unfold(0, 3, 2)
    tensor([[0., 1., 2.],
            [2., 3., 4.]])
    """
    size, step = int(size), int(step)
    d = normalize_dim(dimension, x.ndim)
    shape = tuple(x._array.shape)
    n = shape[d] if shape else 1
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if not shape:  # a 0-d tensor is one element: its one window is (size,)
        from_scalar = x.reshape(1)
        out = windows(from_scalar, (0,), (size,), (step,), (1,))
        return out.reshape(size)
    return windows(x, (d,), (size,), (step,), (1,))


__all__ = ops.exported()   # no plugrad.* function: Tensor.unfold is a method only
