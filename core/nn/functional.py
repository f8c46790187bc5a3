"""plugrad.nn.functional: layers and losses as plain functions of tensors.

`linear` and `cross_entropy` are single recorded ops (one graph node each, as
torch's addmm and its fused loss are): a training step spends its time in the
backend's kernels rather than in bookkeeping. Their backward formulas are
written with tensor ops, so they can be differentiated again. The other
functions are compositions of core ops.
"""
from __future__ import annotations

import warnings

from .. import dtypes
from ..creation import arange, rand
from ..grad_mode import STATE
from ..pointwise import relu as _relu
from ..recording import record
from ..reduction import log_softmax as _log_softmax
from ..reduction import softmax as _softmax
from ..tensor import Tensor, _make
from . import conv as _conv
from .conv import *  # noqa: F403 - convolution, pooling, padding, resizing

__all__ = ["linear", "relu", "tanh", "sigmoid", "softmax", "log_softmax", "dropout",
           "cross_entropy", "nll_loss", "mse_loss", *_conv.__all__]

# torch's short names for dtypes, used in its error messages
_TORCH_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int32": "Int",
                "int64": "Long", "bool": "Bool"}


def _torch_name(d) -> str:
    return _TORCH_NAMES.get(d.name, d.name)


# -- layers ---------------------------------------------------------------------------------
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias, as one op; weight is (out_features, in_features).

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> w = pg.tensor([[1.0, 1.0], [0.0, 1.0]])
    >>> F.linear(pg.tensor([[1.0, 2.0]]), w, pg.tensor([0.5, 0.0]))
    tensor([[3.5000, 2.0000]])
    """
    k = input.backend
    x, w = input._array, weight._array
    if weight.backend is not k or (bias is not None and bias.backend is not k):
        raise RuntimeError("linear: expected input, weight and bias on the same backend")
    if weight.dtype is not input.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{input.dtype.name} != {weight.dtype.name}")
    if w.ndim != 2 or x.ndim == 0 or x.shape[-1] != w.shape[1]:
        rows = input.numel() // x.shape[-1] if x.ndim and x.shape[-1] else 1
        cols = x.shape[-1] if x.ndim else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{cols} and "
                           f"{'x'.join(str(s) for s in reversed(w.shape))})")
    out = k.matmul(x, k.permute(w, (1, 0)))
    if bias is not None:
        if bias.dtype is not input.dtype:
            raise RuntimeError(f"expected bias of dtype {input.dtype.name}, got "
                               f"{bias.dtype.name}")
        k.add_into(out, bias._array)  # out is the matmul's new array: no second one
    out = _make(out, input.dtype, k)
    if STATE.grad_enabled and (input._rg or weight._rg or (bias is not None and bias._rg)):
        record(out, "AddmmBackward0" if bias is not None else "MmBackward0", _linear_backward,
               (input, weight, bias), (input, weight))
    return out


def _linear_backward(node, g):
    x, w = node.saved
    to_x, to_w, to_b = node.inputs
    if not STATE.grad_enabled:
        return _linear_backward_arrays(x, w, g, to_x, to_w, to_b)
    gx = g @ w if to_x is not None else None
    gw = gb = None
    if to_w is not None or to_b is not None:
        # any leading dims are batch dims: fold them into one
        g2 = g if g.ndim == 2 else g.reshape(-1, w._array.shape[0])
        if to_w is not None:
            x2 = x if x.ndim == 2 else x.reshape(-1, w._array.shape[1])
            gw = g2.mT @ x2
        if to_b is not None:
            gb = g2.sum(0)
    return gx, gw, gb


def _linear_backward_arrays(x, w, g, to_x, to_w, to_b):
    # The same formulas on backend arrays, for a backward that builds no graph
    # (create_graph=False, the usual case): a training step then costs little
    # more than the kernels themselves.
    k, d = g.backend, g.dtype
    gd = g._array
    gx = _make(k.matmul(gd, w._array), d, k) if to_x is not None else None
    gw = gb = None
    if to_w is not None or to_b is not None:
        g2 = gd if gd.ndim == 2 else k.reshape(gd, (-1, w._array.shape[0]))
        if to_w is not None:
            x2 = x._array if x._array.ndim == 2 else k.reshape(x._array, (-1, w._array.shape[1]))
            gw = _make(k.matmul(k.permute(g2, (1, 0)), x2), d, k)
        if to_b is not None:
            gb = _make(k.sum(g2, (0,), False), d, k)
    return gx, gw, gb


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(input, 0). `inplace` is accepted for torch code; a new tensor is returned."""
    return _relu(input)


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    # torch's legacy choice when dim is omitted, with its deprecation warning
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  f"to include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype=None) -> Tensor:
    """exp(input) normalised to sum to 1 along `dim`.

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.softmax(pg.tensor([0.0, 0.0]), dim=0)
    tensor([0.5000, 0.5000])
    """
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim, _stacklevel)
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype=None) -> Tensor:
    """log(softmax(input)) along `dim`, computed without overflow."""
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim, _stacklevel)
    return _log_softmax(input, dim, dtype=dtype)


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (training only).

    The mask comes from the input's backend generator, so plugrad.manual_seed
    makes it reproducible.

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.dropout(pg.ones(3), p=0.5, training=False)
    tensor([1., 1., 1.])
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    k = input.backend
    u = rand(tuple(input.shape), dtype=input.dtype, backend=k)._array
    # keep with probability 1-p, and scale the kept ones so the expectation is unchanged
    mask = k.mul(k.astype(k.lt(u, 1.0 - p), input.dtype), 1.0 / (1.0 - p))
    return input * _make(mask, input.dtype, k)


# -- losses -------------------------------------------------------------------------------------
def _reduction(size_average, reduce, reduction: str) -> str:
    if size_average is not None or reduce is not None:
        warnings.warn("size_average and reduce args will be deprecated, please use "
                      "reduction='...' instead.", UserWarning, stacklevel=3)
        if reduce is False:
            reduction = "none"
        else:
            reduction = "sum" if size_average is False else "mean"
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _classes_last(input: Tensor, target: Tensor):
    """(input as (M, C), target as (M,), shape of a per-element loss) for any layout.

    Accepts input (C,) with target (), input (N, C) with target (N,) and
    input (N, C, d1, ...) with target (N, d1, ...).
    """
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError("expected input and target to be Tensors")
    if target.dtype is not dtypes.int64:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{_torch_name(target.dtype)}")
    shape, tshape = tuple(input._array.shape), tuple(target._array.shape)
    ndim = len(shape)
    if ndim == 1:
        if tshape != ():
            raise RuntimeError(f"0D or 1D target tensor expected, multi-target not supported "
                               f"(input {list(shape)}, target {list(tshape)})")
        return input.reshape(1, -1), target.reshape(1), ()
    if ndim == 0:
        raise ValueError("Expected input to have at least one dimension (the classes)")
    if not tshape or tshape[0] != shape[0]:
        raise ValueError(f"Expected input batch_size ({shape[0]}) to match target batch_size "
                         f"({tshape[0] if tshape else 0}).")
    if ndim == 2:
        if len(tshape) != 1:
            raise RuntimeError(f"1D target tensor expected, multi-target not supported "
                               f"(got target of shape {list(tshape)})")
        return input, target, tshape
    if tshape != shape[:1] + shape[2:]:
        raise RuntimeError(f"Expected target size {list(shape[:1] + shape[2:])}, got "
                           f"{list(tshape)}")
    return input.movedim(1, -1).reshape(-1, shape[1]), target.reshape(-1), tshape


def _targets(target: Tensor, classes: int, ignore_index: int, weight, dtype):
    """(safe targets, per-row weight or None) as backend arrays, checking the range.

    Ignored rows get target 0 (any valid index) and weight 0; other rows weigh
    the class weight of their target (1 without `weight`).
    """
    k = target.backend
    t = target._array
    ignored = None
    if k.lazy:
        # no branch on values: ignored rows are masked unconditionally, and a target out of
        # range raises IndexError when the loss is computed (the backend's index check)
        ignored = k.eq(t, ignore_index)
        t = k.where(ignored, 0, t)
    elif t.shape[0]:
        lo, hi = k.tolist(k.min(t, None, False)), k.tolist(k.max(t, None, False))
        if lo <= ignore_index <= hi:
            mask = k.eq(t, ignore_index)
            if k.tolist(k.sum(k.astype(mask, dtypes.int64), None, False)):
                ignored = mask
                t = k.where(mask, 0, t)
                lo, hi = k.tolist(k.min(t, None, False)), k.tolist(k.max(t, None, False))
        if lo < 0 or hi >= classes:
            raise IndexError(f"Target {hi if hi >= classes else lo} is out of bounds.")
    row_weight = None if weight is None else k.getitem(weight._array, (t,))
    if ignored is not None:
        kept = k.logical_not(ignored)
        row_weight = k.astype(kept, dtype) if row_weight is None else \
            k.where(kept, row_weight, 0)
    return t, row_weight


def _check_weight(weight, input: Tensor, classes: int) -> None:
    if weight is None:
        return
    if tuple(weight.shape) != (classes,):
        raise RuntimeError(f"weight tensor should be defined either for all {classes} classes "
                           f"or no classes but got weight tensor of shape: "
                           f"{list(weight.shape)}")
    if weight.dtype is not input.dtype:
        raise RuntimeError(f"expected scalar type {_torch_name(input.dtype)} but found "
                           f"{_torch_name(weight.dtype)}")


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """The cross-entropy loss between logits `input` (classes in dim 1) and `target`.

    `target` holds class indices (int64); a float target of the input's shape is
    read as class probabilities. With reduction="mean" (the default) the loss is
    averaged over the non-ignored targets, weighted by `weight` if given.

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.cross_entropy(pg.tensor([[0.0, 0.0]]), pg.tensor([1]))
    tensor(0.6931)
    """
    reduction = _reduction(size_average, reduce, reduction)
    if label_smoothing:
        raise NotImplementedError("cross_entropy: label_smoothing is not supported yet")
    if isinstance(target, Tensor) and target.dtype.is_floating_point \
            and isinstance(input, Tensor) and target._array.shape == input._array.shape:
        return _soft_cross_entropy(input, target, weight, reduction)
    x, t, loss_shape = _classes_last(input, target)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f'"log_softmax" not implemented for \'{_torch_name(x.dtype)}\'')
    classes = x._array.shape[1]
    _check_weight(weight, x, classes)
    safe, row_weight = _targets(t, classes, ignore_index, weight, x.dtype)
    k = x.backend
    data = x._array
    rows = data.shape[0]
    # loss_i = log(sum_j exp(x_ij)) - x_i,target_i, shifted by each row's max for range
    shifted = k.sub(data, k.max(data, (1,), True)) if rows and classes else data
    e = k.exp(shifted)
    total = k.sum(e, (1,), True)
    picks = (k.arange(0, rows, 1, dtypes.int64), safe)
    losses = k.sub(k.log(k.reshape(total, (rows,))), k.getitem(shifted, picks))
    if row_weight is not None:
        losses = k.mul(losses, row_weight)
    divisor = None
    if reduction == "none":
        out = losses
    else:
        out = k.sum(losses, None, False)
        if reduction == "mean":
            divisor = rows if row_weight is None else k.sum(row_weight, None, False) \
                if k.lazy else k.tolist(k.sum(row_weight, None, False))
            # a lazy divisor stays an array: 0 / 0 is nan without asking
            out = k.div(out, divisor) if k.lazy or divisor else k.mul(out, float("nan"))
    out = _make(out, x.dtype, k)
    if STATE.grad_enabled and x._rg:
        # the softmax is kept for the backward formula (it is the bulk of the gradient)
        record(out, "NllLossBackward0", _cross_entropy_backward, (x,), (x,),
               (k.div(e, total), picks, row_weight, reduction, divisor))
    if reduction == "none" and loss_shape != (rows,):
        out = out.reshape(loss_shape)
    return out


def _cross_entropy_backward(node, g):
    # d loss_i / d x_i = (softmax(x_i) - onehot(target_i)) * weight_i, times g (over divisor)
    (x,) = node.saved
    probs, picks, row_weight, reduction, divisor = node.args
    k = g.backend
    rows = x._array.shape[0]
    if reduction == "none":
        coeff = k.reshape(g._array, (rows, 1))
    elif reduction == "mean":
        coeff = k.div(g._array, divisor) if k.lazy or divisor else k.mul(g._array, float("nan"))
    else:
        coeff = g._array
    if row_weight is not None:
        coeff = k.mul(k.reshape(row_weight, (rows, 1)), coeff)
    if not STATE.grad_enabled:
        # no graph to build: work on the arrays, subtracting each row's coefficient at
        # its target (index_add: the contract's portable way to write at index arrays)
        grad = k.mul(probs, coeff)
        # a 0-d coefficient (mean or sum, no weights) broadcasts over the picked elements
        per_row = k.reshape(coeff, (rows,)) if getattr(coeff, "ndim", 0) == 2 else coeff
        k.index_add(grad, picks, k.neg(per_row))
        return (_make(grad, x.dtype, k),)
    # create_graph: the same formula with tensor ops on x and g, so it can be differentiated
    onehot = k.astype(k.eq(k.reshape(picks[1], (rows, 1)),
                           k.arange(0, x._array.shape[1], 1, dtypes.int64)), x.dtype)
    diff = x.softmax(1) - _make(onehot, x.dtype, k)
    if row_weight is not None:
        diff = diff * _make(k.reshape(row_weight, (rows, 1)), x.dtype, k)
    if reduction == "none":
        return (diff * g.reshape(rows, 1),)
    if reduction == "mean":
        g = g / divisor if divisor else g * float("nan")
    return (diff * g,)


def _soft_cross_entropy(input: Tensor, target: Tensor, weight, reduction: str) -> Tensor:
    """Cross-entropy against class probabilities: -sum(target * log_softmax(input))."""
    dim = 0 if input.ndim == 1 else 1
    logp = _log_softmax(input, dim)
    if weight is not None:
        _check_weight(weight, input, input.shape[dim])
        shape = [1] * input.ndim
        shape[dim] = -1
        logp = logp * weight.reshape(shape)
    losses = -(target * logp).sum(dim)
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.mean()


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """The negative log likelihood loss: -input[i, target[i]], for log-probabilities input.

    cross_entropy(x, t) equals nll_loss(log_softmax(x, 1), t).

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.nll_loss(pg.tensor([[-1.0, -2.0], [-3.0, -4.0]]), pg.tensor([0, 1]))
    tensor(2.5000)
    """
    reduction = _reduction(size_average, reduce, reduction)
    x, t, loss_shape = _classes_last(input, target)
    classes = x._array.shape[1]
    _check_weight(weight, x, classes)
    safe, row_weight = _targets(t, classes, ignore_index, weight, x.dtype)
    k = x.backend
    rows = x._array.shape[0]
    picked = x[arange(rows, backend=k), _make(safe, dtypes.int64, k)]
    losses = -picked
    if row_weight is not None:
        losses = losses * _make(row_weight, x.dtype, k)
    if reduction == "none":
        return losses.reshape(loss_shape) if loss_shape != (rows,) else losses
    total = losses.sum()
    if reduction == "sum":
        return total
    if row_weight is None:
        divisor = rows
    elif k.lazy:  # a lazy divisor stays a tensor: 0 / 0 is nan without asking
        return total / _make(k.sum(row_weight, None, False), total.dtype, k)
    else:
        divisor = k.tolist(k.sum(row_weight, None, False))
    return total / divisor if divisor else total * float("nan")


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """The mean (or sum) of squared differences; with `weight`, a weighted mean.

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.mse_loss(pg.tensor([1.0, 2.0]), pg.tensor([1.0, 4.0]))
    tensor(2.)
    """
    reduction = _reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input "
                      f"size ({input.shape}). This will likely lead to incorrect results due "
                      f"to broadcasting. Please ensure they have the same size.", UserWarning,
                      stacklevel=2)
    diff = input - target
    squared = diff * diff
    if weight is not None:
        squared = squared * weight
    if reduction == "none":
        return squared
    if reduction == "sum":
        return squared.sum()
    if weight is not None:
        return squared.sum() / (weight.expand(squared.shape).sum())
    return squared.mean()
