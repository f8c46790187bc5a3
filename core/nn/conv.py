"""Convolution, pooling, padding and resizing: the functional forms (plugrad.nn.functional).

Every op reads its input through window views (plugrad.window): the windows
of a (N, C, H, W) input form a strided view (N, C, Ho, Wo, kh, kw), made by the
backend's `unfold` kernel without copying. A convolution copies that view
once into a matrix of columns (im2col) and multiplies it with the weight in
one matmul; its gradient adds the windows back with one strided add per
kernel position (col2im), never one per pixel.

`conv1d`/`conv2d` and `max_pool2d` are single recorded ops (torch's
ConvolutionBackward0, MaxPool2DWithIndicesBackward0); their backward
formulas are tensor ops, so they differentiate again. The other functions
are compositions of differentiable ops, renamed to torch's grad_fn names.
"""
from __future__ import annotations

import itertools
import math
import struct

from .. import dtypes
from ..backend import written
from ..creation import tensor as _tensor
from ..grad_mode import STATE, no_grad
from ..pointwise import where
from ..recording import record
from ..shape import renamed
from ..tensor import Tensor, _make, _shareable
from ..window import window_array, window_sum, window_sum_array, windows

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d",
           "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d", "pad",
           "interpolate", "unfold", "fold"]


# -- arguments -----------------------------------------------------------------------------
def _ntuple(value, n: int, what: str, op: str = "convolution") -> tuple:
    """An int or a sequence of n ints, as a tuple of n ints (torch's message otherwise)."""
    if isinstance(value, (tuple, list)):
        if len(value) == 1:
            value = tuple(value) * n
        if len(value) != n:
            raise RuntimeError(f"expected {what} to be a single integer value or a list of {n} "
                               f"values to match the {op} dimensions, but got "
                               f"{what}={list(value)}")
        return tuple(int(v) for v in value)
    return (int(value),) * n


def _spatial(input: Tensor, nd: int, op: str, what: str = "input to") -> tuple:
    """(input as a batch, whether it was unbatched): conv2d takes (C, H, W) or (N, C, H, W)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}() argument 'input' must be Tensor, not {type(input).__name__}")
    if input.ndim == nd + 1:
        return input.unsqueeze(0), True
    if input.ndim != nd + 2:
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) {what} "
                           f"{op}, but got input of size: {list(input.shape)}")
    return input, False


# -- padding ------------------------------------------------------------------------------
def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last len(pad) // 2 dims: pad = (left of the last dim, right of it, left of
    the one before, ...). Modes: constant (negative pads crop), reflect, replicate, circular.

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.pad(pg.tensor([[1.0, 2.0]]), (1, 2))
    tensor([[0., 1., 2., 0., 0.]])
    >>> F.pad(pg.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect")
    tensor([[3., 2., 1., 2., 3., 2.]])
    """
    pads = tuple(int(p) for p in pad)
    if len(pads) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    nd = input.ndim
    if len(pads) // 2 > nd:
        raise RuntimeError(f"Padding length should be less than or equal to two times the "
                           f"input dimension but got padding length {len(pads)} and input of "
                           f"dimension {nd}")
    if mode == "constant":
        return _constant_pad(input, _pad_pairs(pads, nd), 0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    k = len(pads) // 2
    if not ((k == 1 and nd in (2, 3)) or (k == 2 and nd in (3, 4)) or (k == 3 and nd in (4, 5))):
        raise NotImplementedError(
            f"Padding size {len(pads)} is not supported for {nd}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    out = input
    shape = tuple(input.shape)
    for i in range(k):
        lo, hi = pads[2 * i], pads[2 * i + 1]
        d = nd - 1 - i
        n = shape[d]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding ({lo}, {hi}) "
                               f"at dimension {d} of input {list(shape)}")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if lo == 0 and hi == 0:
            continue
        index = [_source(j, n, mode) for j in range(-lo, n + hi)]
        out = out.index_select(d, _tensor(index, backend=input.backend))
    name = {"reflect": "ReflectionPad", "replicate": "ReplicationPad"}.get(mode)
    return renamed(out, f"{name}{k}DBackward0") if name else out


def _source(j: int, n: int, mode: str) -> int:
    """Which input element the padded position j (-lo <= j < n + hi) copies."""
    if mode == "reflect":
        j = abs(j)
        return 2 * (n - 1) - j if j >= n else j
    if mode == "replicate":
        return min(max(j, 0), n - 1)
    return j % n


def _pad_pairs(pads: tuple, nd: int) -> tuple:
    """torch's flat pad tuple (last dim first) as one (lo, hi) pair per dim, first dim first."""
    pairs = [(0, 0)] * nd
    for i in range(len(pads) // 2):
        pairs[nd - 1 - i] = (pads[2 * i], pads[2 * i + 1])
    return tuple(pairs)


def _padded_array(k, a, pairs: tuple, value, dtype):
    """Array `a` with pairs[d] = (lo, hi) elements of `value` around each dim (lo, hi >= 0)."""
    if not any(lo or hi for lo, hi in pairs):
        return a
    out = k.full(tuple(n + lo + hi for n, (lo, hi) in zip(a.shape, pairs)), value, dtype)
    return written(k.setitem(out, tuple(slice(lo, lo + n) for n, (lo, _) in
                                        zip(a.shape, pairs)), a), out)


def _constant_pad(x: Tensor, pairs: tuple, value) -> Tensor:
    """x with pairs[d] = (lo, hi) elements added before and after along each dim d (a
    negative count crops); one op whose backward is the opposite padding."""
    k = x.backend
    shape = tuple(x._array.shape)
    out_shape = tuple(n + lo + hi for n, (lo, hi) in zip(shape, pairs))
    if any(s < 0 for s in out_shape):
        raise RuntimeError(f"The input size {max(shape)}, plus negative padding "
                           f"{min(min(p) for p in pairs)} resulted in a negative output size, "
                           f"which is invalid. Check dimension of your input.")
    src, dst = [], []
    for n, (lo, hi) in zip(shape, pairs):
        a, b = max(-lo, 0), n - max(-hi, 0)
        src.append(slice(a, max(a, b)))
        dst.append(slice(max(lo, 0), max(lo, 0) + max(b - a, 0)))
    data = k.full(out_shape, value, x.dtype)
    data = written(k.setitem(data, tuple(dst), k.getitem(x._array, tuple(src))), data)
    out = _make(data, x.dtype, k)
    if x._rg and STATE.grad_enabled:
        record(out, "ConstantPadNdBackward0", _constant_pad_backward, (x,), (), pairs)
    return out


def _constant_pad_backward(node, g):
    return (_constant_pad(g, tuple((-lo, -hi) for lo, hi in node.args), 0.0),)


# -- convolution ----------------------------------------------------------------------------
def _conv_padding(padding, nd: int, kernel: tuple, stride: tuple, dilation: tuple) -> tuple:
    """One (lo, hi) pair per spatial dim from an int, a tuple, "valid" or "same"."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding != "same":
            raise RuntimeError(f"Invalid padding string: {padding!r}")
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        total = [d * (kk - 1) for d, kk in zip(dilation, kernel)]
        return tuple((t // 2, t - t // 2) for t in total)   # torch puts the odd one right
    p = _ntuple(padding, nd, "padding")
    if any(v < 0 for v in p):
        raise RuntimeError("negative padding is not supported")
    return tuple((v, v) for v in p)


def _check_conv(input: Tensor, weight: Tensor, bias, nd: int, stride, dilation, groups: int,
                transposed: bool = False) -> None:
    if weight.ndim != nd + 2:
        raise RuntimeError(f"expected stride to be a single integer value or a list of "
                           f"{weight.ndim - 2} values to match the convolution dimensions, but "
                           f"got stride={list(stride)}")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    ws = list(weight.shape)
    c = input.shape[1]
    want = ws[0] if transposed else ws[1] * groups
    if c != want:
        head = f"Given transposed=1, weight of size {ws}" if transposed else \
            f"Given groups={groups}, weight of size {ws}"
        raise RuntimeError(f"{head}, expected input{list(input.shape)} to have {want} channels, "
                           f"but got {c} channels instead")
    if not transposed and ws[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size {ws} instead")
    if input.dtype is not weight.dtype:
        raise RuntimeError(f"expected scalar type {_TORCH.get(input.dtype.name, input.dtype.name)}"
                           f" but found {_TORCH.get(weight.dtype.name, weight.dtype.name)}")
    out_ch = ws[1] * groups if transposed else ws[0]
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out_ch):
        raise RuntimeError(f"Given weight of size {ws}, expected bias to be 1-dimensional with "
                           f"{out_ch} elements, but got bias of size {list(bias.shape)} instead")
    if bias is not None and bias.dtype is not input.dtype:
        raise RuntimeError(f"expected scalar type {_TORCH.get(input.dtype.name, input.dtype.name)}"
                           f" but found {_TORCH.get(bias.dtype.name, bias.dtype.name)}")
    if input.backend is not weight.backend or (bias is not None and
                                               bias.backend is not input.backend):
        raise RuntimeError("convolution: expected input, weight and bias on the same backend")


_INT64 = dtypes.int64
_TORCH = {"float16": "Half", "float32": "Float", "float64": "Double", "int64": "Long"}


def _convnd(input, weight, bias, stride, padding, dilation, groups, nd: int, op: str):
    x, unbatched = _spatial(input, nd, op)
    stride = _ntuple(stride, nd, "stride")
    dilation = _ntuple(dilation, nd, "dilation")
    _check_conv(x, weight, bias, nd, stride, dilation, int(groups))
    kernel = tuple(weight.shape[2:])
    pairs = _conv_padding(padding, nd, kernel, stride, dilation)
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pairs))
    spans = tuple(d * (kk - 1) + 1 for d, kk in zip(dilation, kernel))
    if any(p < span for p, span in zip(padded, spans)):
        raise RuntimeError(f"Calculated padded input size per channel: "
                           f"({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, spans))}). Kernel size can't be greater "
                           f"than actual input size")
    out = _conv(x, weight, bias, stride, pairs, dilation, int(groups))
    return out.squeeze(0) if unbatched else out


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """1-D convolution (cross-correlation) of (N, C_in, L) with weight (C_out, C_in/groups, k).

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.conv1d(pg.tensor([[[1.0, 2.0, 3.0]]]), pg.tensor([[[1.0, -1.0]]]))
    tensor([[[-1., -1.]]])
    """
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation) of (N, C_in, H, W) with weight
    (C_out, C_in/groups, kh, kw); padding is an int, a tuple, "valid" or "same".

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> x = pg.arange(9.0).reshape(1, 1, 3, 3)
    >>> F.conv2d(x, pg.ones(1, 1, 2, 2))
    tensor([[[[ 8., 12.],
              [20., 24.]]]])
    """
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def _conv_layout(nd: int, groups: int):
    """The group dims and the axis orders between a window view and its column matrix.

    The columns are channel-major, ([G,] Cg * prod(K), N * L): copying the window view
    into them reads whole rows of the image (the output positions are the fast axis), and
    the product with the weight, (O, Cg * prod(K)) @ columns, is one 2-D BLAS matmul.
    A group dim only for grouped convolutions: NumPy's stacked matmul is many times
    slower than its 2-D one.
    """
    gd = (groups,) if groups > 1 else ()
    j = len(gd)
    # the window view split by group, (N, [G,] Cg, *out, *K) -> ([G,] Cg, *K, N, *out)
    out_axes = tuple(range(2 + j, 2 + j + nd))
    k_axes = tuple(range(2 + j + nd, 2 + j + 2 * nd))
    perm = ((1,) if j else ()) + (1 + j,) + k_axes + (0,) + out_axes
    inverse = tuple(perm.index(i) for i in range(len(perm)))
    return gd, perm, inverse


def _by_channel(t: Tensor, gd: tuple) -> Tensor:
    """(N, C, *spatial) as the matrix ([G,] C/G, N * L): one row per channel."""
    n, c = t.shape[0], t.shape[1]
    rows = n * math.prod(t.shape[2:])
    return t.transpose(0, 1).reshape(gd + (c // (gd[0] if gd else 1), rows))


def _conv(x: Tensor, w: Tensor, b, stride, pairs, dilation, groups: int) -> Tensor:
    k = x.backend
    nd = w._array.ndim - 2
    gd, perm, _ = _conv_layout(nd, groups)
    kernel = tuple(w._array.shape[2:])
    n, c = x._array.shape[:2]
    o = w._array.shape[0]
    cg, og = c // groups, o // groups
    xp = _padded_array(k, _shareable(x), ((0, 0), (0, 0)) + pairs, 0.0, x.dtype)
    win = window_array(k, xp, tuple(range(2, 2 + nd)), kernel, stride, dilation)
    out_sp = tuple(win.shape[2:2 + nd])                           # win: (N, C, *out, *K)
    depth = cg * math.prod(kernel)
    win = k.reshape(win, (n,) + gd + (cg,) + out_sp + kernel)
    cols = k.reshape(k.permute(win, perm), gd + (depth, n * math.prod(out_sp)))  # the copy
    res = k.matmul(k.reshape(w._array, gd + (og, depth)), cols)  # ([G,] Og, N*L)
    res = k.permute(k.reshape(res, (o, n) + out_sp), (1, 0) + tuple(range(2, 2 + nd)))
    if b is not None:
        res = k.add(res, k.reshape(b._array, (o,) + (1,) * nd))
    out = _make(res, x.dtype, k)
    if STATE.grad_enabled and (x._rg or w._rg or (b is not None and b._rg)):
        record(out, "ConvolutionBackward0", _conv_backward, (x, w, b), (x, w),
               (cols, stride, pairs, dilation, groups, out_sp))
    return out


def _columns(x: Tensor, kernel, stride, pairs, dilation, groups: int) -> Tensor:
    """The forward's column matrix as tensor ops, differentiable in x."""
    nd = len(kernel)
    gd, perm, _ = _conv_layout(nd, groups)
    n, c = x.shape[0], x.shape[1]
    if any(lo or hi for lo, hi in pairs):
        x = _constant_pad(x, ((0, 0), (0, 0)) + tuple(pairs), 0.0)
    win = windows(x, tuple(range(2, 2 + nd)), tuple(kernel), stride, dilation)
    out_sp = tuple(win.shape[2:2 + nd])
    win = win.reshape((n,) + gd + (c // groups,) + out_sp + tuple(kernel)).permute(perm)
    return win.reshape(gd + (c // groups * math.prod(kernel), n * math.prod(out_sp)))


def _conv_backward(node, g):
    x, w = node.saved
    to_x, to_w, to_b = node.inputs
    cols, stride, pairs, dilation, groups, out_sp = node.args
    nd = len(out_sp)
    kernel = tuple(w.shape[2:])
    gd, _, inverse = _conv_layout(nd, groups)
    if not STATE.grad_enabled:
        return _conv_backward_arrays(node, g, gd, inverse, kernel)
    gmat = _by_channel(g, gd)       # ([G,] Og, N*L): free when g has the output's layout
    gx = gw = gb = None
    if to_b is not None:
        gb = g.sum((0,) + tuple(range(2, 2 + nd)))
    if to_w is not None:
        if STATE.grad_enabled:   # create_graph: the columns as ops on x, to differentiate
            c = _columns(x, kernel, stride, pairs, dilation, groups)
        else:
            c = _make(cols, x.dtype, x.backend)
        gw = (gmat @ c.mT).reshape(tuple(w.shape))
    if to_x is not None:
        n, c_in = x.shape[0], x.shape[1]
        wmat = w.reshape(gd + (w.shape[0] // groups, -1))
        gcols = wmat.mT @ gmat                                       # ([G,] Cg*K, N*L)
        gwin = gcols.reshape(gd + (c_in // groups,) + kernel + (n,) + out_sp).permute(inverse)
        gwin = gwin.reshape((n, c_in) + out_sp + kernel)
        padded = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pairs))
        gx = window_sum(gwin, (n, c_in) + padded, tuple(range(2, 2 + nd)), kernel, stride,
                        dilation)
        if any(lo or hi for lo, hi in pairs):
            gx = _constant_pad(gx, ((0, 0), (0, 0)) + tuple((-lo, -hi) for lo, hi in pairs),
                               0.0)
    return gx, gw, gb


def _conv_backward_arrays(node, g, gd: tuple, inverse: tuple, kernel: tuple):
    # _conv_backward's formulas on the backend's arrays, for a backward that records
    # nothing (create_graph=False, the usual case): a step costs little more than its kernels
    x, w = node.saved
    to_x, to_w, to_b = node.inputs
    cols, stride, pairs, dilation, groups, out_sp = node.args
    k, dt = g.backend, g.dtype
    nd = len(out_sp)
    ga = g._array
    n, o = ga.shape[:2]
    spatial = tuple(range(2, 2 + nd))
    rows = n * math.prod(out_sp)
    gmat = k.reshape(k.permute(ga, (1, 0) + spatial), gd + (o // groups, rows))
    swap = (0, 2, 1) if gd else (1, 0)
    gx = gw = gb = None
    if to_b is not None:
        gb = _make(k.sum(ga, (0,) + spatial, False), dt, k)
    if to_w is not None:
        gw = _make(k.reshape(k.matmul(gmat, k.permute(cols, swap)), tuple(w._array.shape)), dt, k)
    if to_x is not None:
        c_in = x._array.shape[1]
        wmat = k.reshape(w._array, gd + (o // groups, -1))
        gcols = k.matmul(k.permute(wmat, swap), gmat)
        gwin = k.permute(k.reshape(gcols, gd + (c_in // groups,) + kernel + (n,) + out_sp),
                         inverse)
        gwin = k.reshape(gwin, (n, c_in) + out_sp + kernel)
        sp = tuple(x._array.shape[2:])
        padded = tuple(s + lo + hi for s, (lo, hi) in zip(sp, pairs))
        gxa = window_sum_array(k, gwin, (n, c_in) + padded, dt, spatial, kernel, stride,
                               dilation)
        if any(lo or hi for lo, hi in pairs):
            gxa = k.getitem(gxa, (slice(None), slice(None)) +
                            tuple(slice(lo, lo + s) for s, (lo, _) in zip(sp, pairs)))
        gx = _make(gxa, dt, k)
    return gx, gw, gb


def _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation,
                      nd: int, op: str) -> Tensor:
    x, unbatched = _spatial(input, nd, op)
    stride = _ntuple(stride, nd, "stride")
    dilation = _ntuple(dilation, nd, "dilation")
    padding = _ntuple(padding, nd, "padding")
    output_padding = _ntuple(output_padding, nd, "output_padding")
    groups = int(groups)
    _check_conv(x, weight, bias, nd, stride, dilation, groups, transposed=True)
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(op_ >= s and op_ >= d for op_, s, d in zip(output_padding, stride, dilation)):
        names = ("height", "width") if nd == 2 else ("depth", "height", "width")[-nd:]
        parts = [f"output_padding_{nm}: {v}" for nm, v in zip(names, output_padding)]
        parts += [f"stride_{nm}: {v}" for nm, v in zip(names, stride)]
        parts += [f"dilation_{nm}: {v}" for nm, v in zip(names, dilation)]
        raise RuntimeError("output padding must be smaller than either stride or dilation, but "
                           "got " + " ".join(parts))
    kernel = tuple(weight.shape[2:])
    n, cin = x.shape[0], x.shape[1]
    cing = cin // groups
    coutg = weight.shape[1]
    sp = tuple(x.shape[2:])
    full = tuple((s - 1) * st + d * (kk - 1) + 1 for s, st, d, kk in zip(sp, stride, dilation,
                                                                          kernel))
    out_sp = tuple(f - 2 * p + op_ for f, p, op_ in zip(full, padding, output_padding))
    if any(s <= 0 for s in out_sp):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, sp))}). "
                           f"Calculated output size per channel: "
                           f"({' x '.join(map(str, out_sp))}). Output size is too small")
    # the weight ([G,] Cin/G, Cout/G*K) times the input ([G,] Cin/G, N*L): the windows
    gd, _, inverse = _conv_layout(nd, groups)
    cols = weight.reshape(gd + (cing, -1)).mT @ _by_channel(x, gd)
    win = cols.reshape(gd + (coutg,) + kernel + (n,) + sp).permute(inverse)
    win = win.reshape((n, coutg * groups) + sp + kernel)
    out = window_sum(win, (n, coutg * groups) + full, tuple(range(2, 2 + nd)), kernel, stride,
                     dilation)
    out = _constant_pad(out, ((0, 0), (0, 0)) + tuple(
        (-p, o - f + p) for p, o, f in zip(padding, out_sp, full)), 0.0)
    if bias is not None:
        out = out + bias.reshape((-1,) + (1,) * nd)
    out = renamed(out, "ConvolutionBackward0")
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """The transposed 1-D convolution (the gradient of conv1d with respect to its input);
    weight is (C_in, C_out/groups, k)."""
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups,
                             dilation, 1, "conv_transpose1d")


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """The transposed 2-D convolution ("deconvolution"); weight is (C_in, C_out/groups, kh, kw).

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.conv_transpose2d(pg.ones(1, 1, 2, 2), pg.ones(1, 1, 2, 2), stride=2).shape
    plugrad.Size([1, 1, 4, 4])
    """
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups,
                             dilation, 2, "conv_transpose2d")


# -- pooling ----------------------------------------------------------------------------------
def _pool_args(input, kernel_size, stride, padding, dilation, nd: int, op: str):
    if input.ndim not in (nd + 1, nd + 2) or 0 in tuple(input.shape)[-nd - 1:]:
        raise RuntimeError(f"non-empty {nd + 1}D or {nd + 2}D (batch mode) tensor expected for "
                           f"input")
    kernel = _ntuple(kernel_size, nd, "kernel_size", "pooling")
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else _ntuple(stride, nd, "stride", "pooling")
    padding = _ntuple(padding, nd, "padding", "pooling")
    dilation = _ntuple(dilation, nd, "dilation", "pooling")
    if any(s == 0 for s in stride):
        raise RuntimeError("stride should not be zero")
    if any(v <= 0 for v in kernel + stride + dilation):
        raise RuntimeError(f"{op}: kernel_size, stride and dilation must be greater than zero")
    for p, kk, d in zip(padding, kernel, dilation):
        if p < 0 or p > (d * (kk - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p}, kernel_size={kk} and dilation={d}")
    return kernel, stride, padding, dilation


def _pool_out(n: int, kk: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    span = n + 2 * p - d * (kk - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1   # the last window must start inside the input or its left padding
    return out


def _pool_sizes(x: Tensor, kernel, stride, padding, dilation, ceil_mode, nd):
    sp = tuple(x.shape[-nd:])
    out = tuple(_pool_out(n, kk, s, p, d, ceil_mode)
                for n, kk, s, p, d in zip(sp, kernel, stride, padding, dilation))
    if any(o <= 0 for o in out):
        c = x.shape[-nd - 1]
        raise RuntimeError(f"Given input size: ({c}x{'x'.join(map(str, sp))}). Calculated "
                           f"output size: ({c}x{'x'.join(map(str, out))}). Output size is too "
                           f"small")
    # (lo, hi) padding per dim so that every window lies in the padded input
    pairs = tuple((p, max((o - 1) * s + d * (kk - 1) + 1 - n - p, 0))
                  for n, o, kk, s, p, d in zip(sp, out, kernel, stride, padding, dilation))
    return sp, out, pairs


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """The maximum of each kh x kw window of (N, C, H, W); stride defaults to kernel_size.

    With return_indices, also the flat index (h * W + w) of each maximum in its plane.

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.max_pool2d(pg.arange(16.0).reshape(1, 1, 4, 4), 2)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """
    return _max_poolnd(input, kernel_size, stride, padding, dilation, ceil_mode,
                       return_indices, 2, "max_pool2d")


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """The maximum of each window of k elements of (N, C, L); see max_pool2d."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"max_pool1d() Expected 2D or 3D input tensor, but got "
                           f"{list(input.shape)}")
    k1 = _ntuple(kernel_size, 1, "kernel_size", "pooling")
    s1 = k1 if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else _ntuple(stride, 1, "stride", "pooling")
    res = _max_poolnd(input.unsqueeze(-2), (1,) + k1, (1,) + s1,
                      (0,) + _ntuple(padding, 1, "padding", "pooling"),
                      (1,) + _ntuple(dilation, 1, "dilation", "pooling"), ceil_mode,
                      return_indices, 2, "max_pool1d")
    if return_indices:
        return res[0].squeeze(-2), res[1].squeeze(-2)
    return res.squeeze(-2)


# (shape, pooling arguments) -> what _max_pool_plan works out (checked arguments, sizes,
# padding, and the axis order that lays the windows out where they tile the input exactly)
_POOL_PLANS: dict = {}


def _max_pool_plan(input, kernel_size, stride, padding, dilation, ceil_mode, nd: int, op: str):
    """The checked arguments and sizes of a max pooling, cached per input shape (bounded)."""
    try:
        key = (tuple(input._array.shape), kernel_size, stride, padding, dilation, ceil_mode,
               nd, op)
        plan = _POOL_PLANS.get(key)
    except TypeError:  # a list among the arguments: no caching
        key = plan = None
    if plan is not None:
        return plan
    kernel, stride, padding, dilation = _pool_args(input, kernel_size, stride, padding,
                                                   dilation, nd, op)
    sp, out_sp, pairs = _pool_sizes(input, kernel, stride, padding, dilation, ceil_mode, nd)
    lead = len(input._array.shape) - nd
    tiled = None
    if (kernel == stride and all(d == 1 for d in dilation) and not any(lo or hi for lo, hi in pairs)
            and all(n == o * kk for n, o, kk in zip(sp, out_sp, kernel))):
        # windows that tile the input: (..., o1, k1, o2, k2) -> (..., o1, o2, k1, k2)
        split = tuple(input._array.shape[:lead]) + tuple(
            v for o, kk in zip(out_sp, kernel) for v in (o, kk))
        order = tuple(range(lead)) + tuple(lead + 2 * i for i in range(nd)) + \
            tuple(lead + 2 * i + 1 for i in range(nd))
        tiled = (split, order)
    plan = (kernel, stride, padding, dilation, sp, out_sp, pairs, tiled)
    if key is not None:
        if len(_POOL_PLANS) >= 64:
            _POOL_PLANS.clear()
        _POOL_PLANS[key] = plan
    return plan


def _max_poolnd(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                nd: int, op: str):
    kernel, stride, padding, dilation, sp, out_sp, pairs, tiled = _max_pool_plan(
        input, kernel_size, stride, padding, dilation, ceil_mode, nd, op)
    k = input.backend
    lead = tuple(input._array.shape[:-nd])
    if tiled is not None:  # no padding, no strided view: a reshape and a permute
        xp = _shareable(input)
        win = k.permute(k.reshape(xp, tiled[0]), tiled[1])
    else:
        xp = _padded_array(k, _shareable(input), ((0, 0),) * len(lead) + pairs, -math.inf,
                           input.dtype)
        axes = tuple(range(len(lead), len(lead) + nd))
        win = window_array(k, xp, axes, kernel, stride, dilation)
        win = k.getitem(win, (Ellipsis,) + tuple(slice(0, o) for o in out_sp) +
                        (slice(None),) * nd)
    # the window positions flattened into one last axis (row-major, as _running_max counts
    # them): argmax picks the first maximum, as the running maximum does; only NaN needs it
    flat = k.reshape(win, lead + tuple(out_sp) + (math.prod(kernel),))
    last = len(flat.shape) - 1
    best = k.max(flat, (last,), False)
    if input.dtype.is_floating_point and k.tolist(k.max(k.isnan(best), None, False)):
        best, idx = _running_max(k, win, kernel)
    else:
        idx = k.argmax(flat, last, False)
    out = _make(best, input.dtype, k)
    if input._rg and STATE.grad_enabled:
        record(out, f"MaxPool{nd}DWithIndicesBackward0", _max_pool_backward, (input,), (),
               (idx, kernel, stride, pairs, dilation, tuple(xp.shape)))
    if not return_indices:
        return out
    return out, _pool_indices(k, idx, sp, out_sp, kernel, stride, padding, dilation)


def _running_max(k, win, kernel) -> tuple:
    """(maximum, index of its window position) of each window of the view `win`: a running
    maximum over the window positions, elementwise on whole planes, where a later element wins
    when larger or NaN (torch's rule, so NaN propagates, at its last position)."""
    best = idx = None
    for j, offsets in enumerate(itertools.product(*[range(kk) for kk in kernel])):
        v = k.getitem(win, (Ellipsis,) + offsets)
        if best is None:
            best = v
            idx = k.full(tuple(v.shape), 0, _INT64)
            continue
        upd = k.logical_or(k.gt(v, best), k.isnan(v))
        best = k.where(upd, v, best)
        idx = k.where(upd, j, idx)
    return (k.copy(best) if best is v else best), idx


def _pool_indices(k, idx, sp, out_sp, kernel, stride, padding, dilation) -> Tensor:
    """Flat indices into each input plane of the chosen window positions `idx`."""
    int64 = k.dtype_of(idx)
    nd = len(sp)
    plane = [math.prod(sp[d + 1:]) for d in range(nd)]
    # the window's first element, per output position, plus the chosen offset in the window
    base = None
    for d in range(nd):
        pos = k.arange(0, out_sp[d], 1, int64)
        pos = k.mul(k.sub(k.mul(pos, stride[d]), padding[d]), plane[d])
        pos = k.reshape(pos, tuple(out_sp[d] if j == d else 1 for j in range(nd)))
        base = pos if base is None else k.add(base, pos)
    offsets = [sum(o * dilation[d] * plane[d] for d, o in enumerate(ks))
               for ks in itertools.product(*[range(kk) for kk in kernel])]
    table = k.asarray(offsets, int64)
    return _make(k.add(k.getitem(table, (idx,)), base), int64, k)


def _max_pool_backward(node, g):
    idx, kernel, stride, pairs, dilation, padded = node.args
    k = g.backend
    nd = len(kernel)
    kp = math.prod(kernel)
    # (Kp, *g.shape): where each window position was the maximum
    hit = k.eq(k.reshape(k.arange(0, kp, 1, _INT64), (kp,) + (1,) * idx.ndim), idx)
    lead = tuple(g.shape[:-nd])
    out_sp = tuple(g.shape[len(lead):])
    axes = tuple(range(len(lead), len(lead) + nd))
    if not STATE.grad_enabled:   # nothing to record: the same on arrays, without the wrappers
        gwin = k.where(hit, g._array, 0)
        gwin = k.reshape(k.permute(gwin, tuple(range(1, gwin.ndim)) + (0,)),
                         lead + out_sp + kernel)
        gxa = window_sum_array(k, gwin, padded, g.dtype, axes, kernel, stride, dilation)
        if any(lo or hi for lo, hi in pairs):
            gxa = k.getitem(gxa, (Ellipsis,) + tuple(
                slice(lo, s - hi) for s, (lo, hi) in zip(padded[len(lead):], pairs)))
        return (_make(gxa, g.dtype, k),)
    gwin = where(_make(hit, k.dtype_of(hit), k), g, 0.0)
    # as the window view's layout (..., *out, *K), a view of the (Kp, ...) array
    gwin = gwin.permute(tuple(range(1, gwin.ndim)) + (0,)).reshape(lead + out_sp + kernel)
    gx = window_sum(gwin, padded, axes, kernel, stride, dilation,
                    "MaxPool2DWithIndicesBackwardBackward0")
    if any(lo or hi for lo, hi in pairs):
        gx = _constant_pad(gx, ((0, 0),) * len(lead) + tuple((-lo, -hi) for lo, hi in pairs),
                           0.0)
    return (gx,)


def _avg_poolnd(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override, nd: int, op: str):
    kernel, stride, padding, _ = _pool_args(input, kernel_size, stride, padding, 1, nd, op)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    ones = (1,) * nd
    sp, out_sp, pairs = _pool_sizes(input, kernel, stride, padding, ones, ceil_mode, nd)
    lead = len(input.shape) - nd
    x = input
    if any(lo or hi for lo, hi in pairs):
        x = _constant_pad(x, ((0, 0),) * lead + pairs, 0.0)
    win = windows(x, tuple(range(lead, lead + nd)), kernel, stride, ones)
    win = win[(Ellipsis,) + tuple(slice(0, o) for o in out_sp) + (slice(None),) * nd]
    total = win.sum(tuple(range(-nd, 0)))
    if divisor_override is not None:
        out = total / divisor_override
    else:
        # the divisor is separable: a product of one count per dim
        counts = None
        for d in range(nd):
            c = []
            for o in range(out_sp[d]):
                start = o * stride[d] - padding[d]
                end = min(start + kernel[d], sp[d] + padding[d])
                size = end - start
                if not count_include_pad:
                    size = min(end, sp[d]) - max(start, 0)
                c.append(size)
            shaped = _tensor(c, dtype=input.dtype, backend=input.backend).reshape(
                tuple(len(c) if j == d else 1 for j in range(nd)))
            counts = shaped if counts is None else counts * shaped
        out = total / counts
    return renamed(out, f"AvgPool{nd}DBackward0")


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """The mean of each kh x kw window of (N, C, H, W); stride defaults to kernel_size.

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.avg_pool2d(pg.arange(16.0).reshape(1, 1, 4, 4), 2)
    tensor([[[[ 2.5000,  4.5000],
              [10.5000, 12.5000]]]])
    """
    return _avg_poolnd(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override, 2, "avg_pool2d")


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """The mean of each window of k elements of (N, C, L); see avg_pool2d."""
    _pool_args(input, kernel_size, stride, padding, 1, 1, "avg_pool1d")
    k1 = _ntuple(kernel_size, 1, "kernel_size", "pooling")
    s1 = k1 if stride is None else _ntuple(stride, 1, "stride", "pooling")
    # as torch: the 2-D pool of a height-1 input (so the grad_fn is SqueezeBackward1)
    return _avg_poolnd(input.unsqueeze(-2), (1,) + k1, (1,) + s1,
                       (0,) + _ntuple(padding, 1, "padding", "pooling"), ceil_mode,
                       count_include_pad, None, 2, "avg_pool1d").squeeze(-2)


def _adaptive_size(input: Tensor, output_size, nd: int, op: str) -> tuple:
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: "
                           f"{list(input.shape)}")
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else \
        (output_size,) * nd
    if len(sizes) != nd:
        raise RuntimeError(f"{op}: output_size must be {nd}")
    sp = tuple(input.shape[-nd:])
    return sp, tuple(n if o is None else int(o) for n, o in zip(sp, sizes))


def _bins(n: int, out: int) -> list:
    """torch's adaptive bins of n elements into out: [floor(i*n/out), ceil((i+1)*n/out))."""
    return [((i * n) // out, -(-((i + 1) * n) // out)) for i in range(out)]


def _adaptive_avg(input: Tensor, output_size, nd: int, op: str) -> Tensor:
    sp, out_sp = _adaptive_size(input, output_size, nd, op)
    if all(o == 1 for o in out_sp):
        return input.mean(tuple(range(-nd, 0)), keepdim=True)
    # separable: one (out, n) averaging matrix per dim, applied by matmul
    x = input
    for d in range(nd):
        rows = [[1.0 / (e - s) if s <= j < e else 0.0 for j in range(sp[d])]
                for s, e in _bins(sp[d], out_sp[d])]
        m = _tensor(rows, dtype=input.dtype, backend=input.backend)
        x = (x.movedim(d - nd, -1) @ m.mT).movedim(-1, d - nd)
    return renamed(x, f"AdaptiveAvgPool{nd}DBackward0")


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average (N, C, H, W) over torch's adaptive bins into (N, C, *output_size).

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.adaptive_avg_pool2d(pg.arange(16.0).reshape(1, 1, 4, 4), 1)
    tensor([[[[7.5000]]]])
    """
    return _adaptive_avg(input, output_size, 2, "adaptive_avg_pool2d")


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Average (N, C, L) over torch's adaptive bins into (N, C, output_size)."""
    _adaptive_size(input, output_size, 1, "adaptive_avg_pool1d")
    size = output_size[0] if isinstance(output_size, (tuple, list)) else output_size
    return _adaptive_avg(input.unsqueeze(-2), (1, size), 2, "adaptive_avg_pool1d").squeeze(-2)


def _adaptive_max(input: Tensor, output_size, return_indices: bool, nd: int, op: str):
    sp, out_sp = _adaptive_size(input, output_size, nd, op)
    if all(n % o == 0 for n, o in zip(sp, out_sp)):   # equal bins: a plain max pool
        step = tuple(n // o for n, o in zip(sp, out_sp))
        res = _max_poolnd(input, step, step, 0, 1, False, return_indices, nd, op)
        values = res[0] if return_indices else res
        renamed(values, f"AdaptiveMaxPool{nd}DBackward0")
        return res
    # unequal bins: gather each bin, padded to the longest by repeating its last element
    k = input.backend
    x = input
    flat_index = None
    lens = []
    for d in range(nd):
        bins = _bins(sp[d], out_sp[d])
        longest = max(e - s for s, e in bins)
        lens.append(longest)
        picks = [s + min(j, e - s - 1) for s, e in bins for j in range(longest)]
        index = _tensor(picks, backend=k)
        axis = input.ndim - nd + 2 * d   # each dim before it is split in two already
        x = x.index_select(axis, index)
        x = x.reshape(tuple(x.shape[:axis]) + (out_sp[d], longest) + tuple(x.shape[axis + 1:]))
        pos = _tensor(picks, backend=k).reshape(out_sp[d], longest) * math.prod(sp[d + 1:])
        flat_index = pos if flat_index is None else \
            flat_index.reshape(flat_index.shape + (1, 1)) + pos
    lead = input.ndim - nd
    # (..., o1, l1, o2, l2) -> (..., o1, o2, l1 * l2)
    order = tuple(range(lead)) + tuple(lead + 2 * d for d in range(nd)) + \
        tuple(lead + 2 * d + 1 for d in range(nd))
    x = x.permute(order).reshape(tuple(input.shape[:lead]) + out_sp + (-1,))
    values, which = x.max(-1)
    values = renamed(values, f"AdaptiveMaxPool{nd}DBackward0")
    if not return_indices:
        return values
    if nd > 1:
        flat_index = flat_index.permute(tuple(2 * d for d in range(nd)) +
                                        tuple(2 * d + 1 for d in range(nd)))
    table = flat_index.reshape(out_sp + (-1,))
    with no_grad():
        indices = table.expand(tuple(which.shape) + (table.shape[-1],)).gather(
            -1, which.unsqueeze(-1)).squeeze(-1)
    return values, indices


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """The maximum of (N, C, H, W) over torch's adaptive bins, (N, C, *output_size)."""
    return _adaptive_max(input, output_size, return_indices, 2, "adaptive_max_pool2d")


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """The maximum of (N, C, L) over torch's adaptive bins, (N, C, output_size)."""
    _adaptive_size(input, output_size, 1, "adaptive_max_pool1d")
    size = output_size[0] if isinstance(output_size, (tuple, list)) else output_size
    res = _adaptive_max(input.unsqueeze(-2), (1, size), return_indices, 2,
                        "adaptive_max_pool1d")
    if return_indices:
        return res[0].squeeze(-2), res[1].squeeze(-2)
    return res.squeeze(-2)


# -- im2col and col2im ------------------------------------------------------------------------
def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Every kh x kw window of (N, C, H, W) as a column: (N, C * kh * kw, L) (im2col).

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.unfold(pg.arange(9.0).reshape(1, 1, 3, 3), 2)
    tensor([[[0., 1., 3., 4.],
             [1., 2., 4., 5.],
             [3., 4., 6., 7.],
             [4., 5., 7., 8.]]])
    """
    if input.ndim not in (3, 4):
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported "
                                  f"(got {input.ndim}D)")
    x, unbatched = (input.unsqueeze(0), True) if input.ndim == 3 else (input, False)
    kernel = _ntuple(kernel_size, 2, "kernel_size", "im2col")
    dilation = _ntuple(dilation, 2, "dilation", "im2col")
    padding = _ntuple(padding, 2, "padding", "im2col")
    stride = _ntuple(stride, 2, "stride", "im2col")
    n, c = x.shape[0], x.shape[1]
    if any(padding):
        x = _constant_pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in padding), 0.0)
    win = windows(x, (2, 3), kernel, stride, dilation, "Im2ColBackward0")
    out = win.permute(0, 1, 4, 5, 2, 3).reshape(n, c * kernel[0] * kernel[1], -1)
    out = renamed(out, "Im2ColBackward0")
    return out.squeeze(0) if unbatched else out


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Add columns (N, C * kh * kw, L) back into windows of (N, C, *output_size) (col2im).

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.fold(pg.ones(1, 4, 4), (3, 3), 2)
    tensor([[[[1., 2., 1.],
              [2., 4., 2.],
              [1., 2., 1.]]]])
    """
    if input.ndim not in (2, 3):
        raise NotImplementedError(f"Input Error: Only unbatched (2D) or batched (3D) input "
                                  f"Tensors are supported (got {input.ndim}D)")
    x, unbatched = (input.unsqueeze(0), True) if input.ndim == 2 else (input, False)
    size = _ntuple(output_size, 2, "output_size", "col2im")
    kernel = _ntuple(kernel_size, 2, "kernel_size", "col2im")
    dilation = _ntuple(dilation, 2, "dilation", "col2im")
    padding = _ntuple(padding, 2, "padding", "col2im")
    stride = _ntuple(stride, 2, "stride", "col2im")
    kp = kernel[0] * kernel[1]
    n, ck, length = x.shape
    if ck % kp:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={ck} and "
                           f"kernel_size={kernel}")
    counts = tuple((s + 2 * p - d * (kk - 1) - 1) // st + 1
                   for s, p, d, kk, st in zip(size, padding, dilation, kernel, stride))
    if counts[0] * counts[1] != length:
        raise RuntimeError(f"Given output_size={size}, kernel_size={kernel}, "
                           f"dilation={dilation}, padding={padding}, stride={stride}, expected "
                           f"size of input's dimension 2 to match the calculated number of "
                           f"sliding blocks {counts[0]} * {counts[1]} = "
                           f"{counts[0] * counts[1]}, but got input.size(2)={length}.")
    c = ck // kp
    win = x.reshape(n, c, kernel[0], kernel[1], counts[0], counts[1]).permute(0, 1, 4, 5, 2, 3)
    padded = tuple(s + 2 * p for s, p in zip(size, padding))
    out = window_sum(win, (n, c) + padded, (2, 3), kernel, stride, dilation, "Col2ImBackward0")
    if any(padding):
        out = renamed(_constant_pad(out, ((0, 0), (0, 0)) + tuple((-p, -p) for p in padding),
                                    0.0), "Col2ImBackward0")
    return out.squeeze(0) if unbatched else out


# -- resizing ---------------------------------------------------------------------------------
_MODES = {"nearest": 0, "linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3,
          "area": 0, "nearest-exact": 0}


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial dims of (N, C, *spatial) to `size` or by `scale_factor`.

    Modes: nearest (3-D to 5-D input), linear (3-D), bilinear (4-D); align_corners as
    in torch for the linear modes.

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.interpolate(pg.tensor([[[1.0, 2.0]]]), scale_factor=2)
    tensor([[[1., 1., 2., 2.]]])
    """
    nd = input.ndim - 2
    if mode not in ("nearest", "linear", "bilinear") or nd < 1:
        if mode in _MODES and nd >= 1:
            raise NotImplementedError(f"interpolate: mode {mode!r} is not implemented")
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for "
            f"the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
            f"nearest-exact (got {mode})")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not implemented")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if _MODES[mode] and _MODES[mode] != nd:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                  f"{_MODES[mode] + 2}D input")
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    sp = tuple(input.shape[2:])
    if size is not None:
        out_sp = _ntuple(size, nd, "size", "interpolate") if isinstance(size, (tuple, list)) \
            else (int(size),) * nd
        scales = tuple(n / o for n, o in zip(sp, out_sp))
    elif scale_factor is not None:
        factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else \
            (scale_factor,) * nd
        if len(factors) != nd:
            raise ValueError(f"Input and scale_factor must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of {list(sp)} "
                             f"and scale_factor of shape {list(factors)}.")
        out_sp = tuple(int(math.floor(n * float(f))) for n, f in zip(sp, factors))
        scales = tuple(n / o for n, o in zip(sp, out_sp)) if recompute_scale_factor else \
            tuple(1.0 / float(f) for f in factors)
    else:
        raise ValueError("either size or scale_factor should be defined")
    x = input
    for d in range(nd):
        rows = _resize_rows(sp[d], out_sp[d], scales[d], mode, bool(align_corners))
        m = _tensor(rows, dtype=input.dtype, backend=input.backend)
        x = (x.movedim(d - nd, -1) @ m.mT).movedim(-1, d - nd)
    name = "Nearest" if mode == "nearest" else ("Linear" if nd == 1 else "Bilinear")
    return renamed(x, f"Upsample{name}{nd}DBackward0")


def _resize_rows(n: int, out: int, scale: float, mode: str, align_corners: bool) -> list:
    """The (out, n) matrix of weights that resizes one dim."""
    rows = [[0.0] * n for _ in range(out)]
    for o in range(out):
        if mode == "nearest":
            rows[o][min(int(math.floor(o * _f32(scale))), n - 1)] = 1.0
            continue
        if align_corners:
            src = o * ((n - 1) / (out - 1) if out > 1 else 0.0)
        else:
            src = max(scale * (o + 0.5) - 0.5, 0.0)
        i0 = min(int(src), n - 1)
        i1 = i0 + (1 if i0 < n - 1 else 0)
        lam = src - i0
        rows[o][i0] += 1.0 - lam
        rows[o][i1] += lam
    return rows


def _f32(v: float) -> float:
    """v rounded to float32, as torch computes its nearest-neighbour scale."""
    return struct.unpack("f", struct.pack("f", v))[0]
