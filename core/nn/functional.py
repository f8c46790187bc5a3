"""plugrad.nn.functional: layers and losses as plain functions of tensors.

`linear` and `cross_entropy` are single recorded ops (one graph node each, as
torch's addmm and its fused loss are): a training step spends its time in the
backend's kernels rather than in bookkeeping. Their backward formulas are
written with tensor ops, so they can be differentiated again. The other
functions are compositions of core ops.
"""
from __future__ import annotations

import math
import warnings

from .. import dtypes
from ..backend import written
from ..creation import arange, rand
from ..grad_mode import STATE, no_grad
from ..pointwise import relu as _relu
from ..pointwise import where as _where
from ..recording import record, record1
from ..reduction import log_softmax as _log_softmax
from ..reduction import softmax as _softmax
from ..tensor import Tensor, _make
from . import conv as _conv
from .attention import multi_head_attention_forward, scaled_dot_product_attention
from .conv import *  # noqa: F403 - convolution, pooling, padding, resizing

__all__ = ["linear", "relu", "tanh", "sigmoid", "softmax", "log_softmax", "dropout",
           "cross_entropy", "nll_loss", "mse_loss",
           # activations
           "leaky_relu", "elu", "gelu", "silu", "mish", "softplus", "hardtanh", "relu6",
           "hardsigmoid", "hardswish", "logsigmoid", "softsign", "tanhshrink", "prelu",
           # normalization, dropout, embedding
           "layer_norm", "batch_norm", "group_norm", "dropout2d", "embedding", "one_hot",
           # distances and losses
           "normalize", "cosine_similarity", "pairwise_distance", "l1_loss", "smooth_l1_loss",
           "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
           "scaled_dot_product_attention", "multi_head_attention_forward",
           *_conv.__all__]

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
        added = k.add_into(out, bias._array)  # out is the matmul's new array: no second one
        if added is not None:  # the array holding the sum (contract 2.0; None: in place)
            out = added
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
        return _smoothed_cross_entropy(input, target, weight, ignore_index, reduction,
                                       label_smoothing)
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
        grad = written(k.index_add(grad, picks, k.neg(per_row)), grad)
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


def _smoothed_cross_entropy(input, target, weight, ignore_index: int, reduction: str,
                            smoothing: float) -> Tensor:
    """torch's label smoothing: (1 - s) * the loss + s * the mean over classes of the
    (weighted) losses of every class, ignored targets left out of both."""
    if not 0.0 <= smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {smoothing}")
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError("expected input and target to be Tensors")
    dim = 0 if input.ndim == 1 else 1
    classes = input.shape[dim] if input.ndim else 1
    if target.dtype.is_floating_point and target._array.shape == input._array.shape:
        return _soft_cross_entropy(input, target * (1 - smoothing) + smoothing / classes,
                                   weight, reduction)
    nll = cross_entropy(input, target, weight, ignore_index=ignore_index, reduction=reduction)
    logp = _log_softmax(input, dim)
    if weight is not None:
        shape = [1] * input.ndim
        shape[dim] = -1
        logp = logp * weight.reshape(shape)
    ignored = target == ignore_index
    smooth = _where(ignored, 0.0, -logp.sum(dim))
    if reduction == "sum":
        smooth = smooth.sum()
    elif reduction == "mean":
        kept = ~ignored
        if weight is None:
            divisor = kept.sum()
        else:
            safe = _where(ignored, 0, target)
            divisor = (weight[safe] * kept).sum()
        smooth = smooth.sum() / divisor
    return (1 - smoothing) * nll + smooth * (smoothing / classes)


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


# -- activations --------------------------------------------------------------------------------
# Each is one recorded op (one graph node, as torch's kernels are): the forward composed from
# backend kernels, the backward on arrays when no graph is built (`fast`), and with tensor ops
# when one is (`grad`, so that the gradient can be differentiated again).
def _activation(x, label: str, node: str, forward, fast, grad, args=None) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{label}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(x).__name__}")
    if not x.dtype.is_floating_point:
        raise NotImplementedError(f'"{label}" not implemented for \'{_torch_name(x.dtype)}\'')
    k = x.backend
    out = _make(forward(k, x._array, args), x.dtype, k)
    if x._rg and STATE.grad_enabled:
        record1(out, node, _activation_backward, x, (x,), (fast, grad, args))
    return out


def _activation_backward(node, g):
    fast, grad, args = node.args
    (x,) = node.saved
    if not STATE.grad_enabled:
        return (_make(fast(g.backend, g._array, x._array, args), g.dtype, g.backend),)
    return (grad(g, x, args),)


def _in_place(input: Tensor, out: Tensor, inplace: bool) -> Tensor:
    """torch's `inplace=True`: the result written into `input` (a recorded in-place copy)."""
    return input.copy_(out) if inplace else out


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, else negative_slope * x.

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.leaky_relu(pg.tensor([-2.0, 3.0]), 0.1)
    tensor([-0.2000,  3.0000])
    """
    out = _activation(input, "leaky_relu", "LeakyReluBackward0",
                      # max(x, s * x) is the same for 0 <= s <= 1, in one kernel less
                      (lambda k, a, s: k.maximum(a, k.mul(a, s))) if 0 <= negative_slope <= 1
                      else (lambda k, a, s: k.where(k.gt(a, 0), a, k.mul(a, s))),
                      lambda k, g, a, s: k.where(k.gt(a, 0), g, k.mul(g, s)),
                      lambda g, x, s: _where(x > 0, g, g * s), negative_slope)
    return _in_place(input, out, inplace)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, else alpha * (exp(x) - 1).

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.elu(pg.tensor([0.0, 2.0]))
    tensor([0., 2.])
    """
    out = _activation(input, "elu", "EluBackward0",
                      lambda k, a, al: k.where(k.gt(a, 0), a, k.mul(k.expm1(a), al)),
                      lambda k, g, a, al: k.where(k.gt(a, 0), g, k.mul(g, k.mul(k.exp(a), al))),
                      lambda g, x, al: _where(x > 0, g, g * (x.exp() * al)), alpha)
    return _in_place(input, out, inplace)


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715


def _gelu_forward(k, a, approximate):
    if approximate == "tanh":
        inner = k.mul(k.add(a, k.mul(k.mul(k.mul(a, a), a), _GELU_C)), _SQRT_2_OVER_PI)
        return k.mul(k.mul(a, 0.5), k.add(k.tanh(inner), 1))
    return k.mul(k.mul(a, 0.5), k.add(k.erf(k.mul(a, _SQRT_HALF)), 1))


def _gelu_fast(k, g, a, approximate):
    if approximate == "tanh":
        a2 = k.mul(a, a)
        t = k.tanh(k.mul(k.add(a, k.mul(k.mul(a2, a), _GELU_C)), _SQRT_2_OVER_PI))
        dinner = k.mul(k.add(k.mul(a2, 3 * _GELU_C), 1), _SQRT_2_OVER_PI)
        d = k.add(k.mul(k.add(t, 1), 0.5),
                  k.mul(k.mul(k.mul(a, 0.5), k.sub(1, k.mul(t, t))), dinner))
        return k.mul(g, d)
    cdf = k.mul(k.add(k.erf(k.mul(a, _SQRT_HALF)), 1), 0.5)
    pdf = k.mul(k.exp(k.mul(k.mul(a, a), -0.5)), _INV_SQRT_2PI)
    return k.mul(g, k.add(cdf, k.mul(a, pdf)))


def _gelu_grad(g, x, approximate):
    if approximate == "tanh":
        t = ((x + x * x * x * _GELU_C) * _SQRT_2_OVER_PI).tanh()
        dinner = (x * x * (3 * _GELU_C) + 1) * _SQRT_2_OVER_PI
        return g * ((t + 1) * 0.5 + x * 0.5 * (1 - t * t) * dinner)
    cdf = ((x * _SQRT_HALF).erf() + 1) * 0.5
    pdf = (x * x * -0.5).exp() * _INV_SQRT_2PI
    return g * (cdf + x * pdf)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x), Phi the standard normal CDF; approximate='tanh' uses torch's tanh formula.

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.gelu(pg.tensor([0.0, 1.0]))
    tensor([0.0000, 0.8413])
    """
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _activation(input, "GeluKernelImpl", "GeluBackward0", _gelu_forward, _gelu_fast,
                       _gelu_grad, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x).

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.silu(pg.tensor([0.0]))
    tensor([0.])
    """
    out = _activation(input, "silu", "SiluBackward0",
                      lambda k, a, _: k.mul(a, k.sigmoid(a)), _silu_fast,
                      lambda g, x, _: g * (x.sigmoid() * (1 + x * (1 - x.sigmoid()))))
    return _in_place(input, out, inplace)


def _silu_fast(k, g, a, _):
    s = k.sigmoid(a)
    return k.mul(g, k.mul(s, k.add(k.mul(a, k.sub(1, s)), 1)))


def _softplus_arrays(k, a):
    # log(1 + exp(a)) without overflow: max(a, 0) + log1p(exp(-|a|))
    return k.add(k.maximum(a, 0), k.log1p(k.exp(k.neg(k.abs(a)))))


def _softplus_tensor(x: Tensor) -> Tensor:
    return x.clamp(min=0) + (-x.abs()).exp().log1p()


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x)).

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.mish(pg.tensor([0.0]))
    tensor([0.])
    """
    out = _activation(input, "mish", "MishBackward0",
                      lambda k, a, _: k.mul(a, k.tanh(_softplus_arrays(k, a))), _mish_fast,
                      _mish_grad)
    return _in_place(input, out, inplace)


def _mish_fast(k, g, a, _):
    t = k.tanh(_softplus_arrays(k, a))
    return k.mul(g, k.add(t, k.mul(k.mul(a, k.sigmoid(a)), k.sub(1, k.mul(t, t)))))


def _mish_grad(g, x, _):
    t = _softplus_tensor(x).tanh()
    return g * (t + x * x.sigmoid() * (1 - t * t))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * x)) / beta; x itself where beta * x > threshold.

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.softplus(pg.tensor([0.0, 30.0]))
    tensor([ 0.6931, 30.0000])
    """
    return _activation(input, "softplus", "SoftplusBackward0", _softplus_forward,
                       _softplus_fast, _softplus_grad, (beta, threshold))


def _softplus_forward(k, a, args):
    beta, threshold = args
    bx = k.mul(a, beta)
    return k.where(k.gt(bx, threshold), a, k.div(_softplus_arrays(k, bx), beta))


def _softplus_fast(k, g, a, args):
    beta, threshold = args
    bx = k.mul(a, beta)
    return k.where(k.gt(bx, threshold), g, k.mul(g, k.sigmoid(bx)))


def _softplus_grad(g, x, args):
    beta, threshold = args
    bx = x * beta
    return _where(bx > threshold, g, g * bx.sigmoid())


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """x clamped to [min_val, max_val]; the gradient is 0 outside (min_val, max_val).

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.hardtanh(pg.tensor([-2.0, 0.5, 2.0]))
    tensor([-1.0000,  0.5000,  1.0000])
    """
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    out = _activation(input, "hardtanh", "HardtanhBackward0",
                      lambda k, a, b: k.minimum(k.maximum(a, b[0]), b[1]),
                      lambda k, g, a, b: k.where(k.logical_and(k.gt(a, b[0]), k.lt(a, b[1])),
                                                 g, 0),
                      lambda g, x, b: _where((x > b[0]) & (x < b[1]), g, 0.0),
                      (min_val, max_val))
    return _in_place(input, out, inplace)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6): hardtanh(x, 0, 6).

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.relu6(pg.tensor([-1.0, 7.0]))
    tensor([0., 6.])
    """
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6.

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.hardsigmoid(pg.tensor([0.0, 4.0]))
    tensor([0.5000, 1.0000])
    """
    out = _activation(input, "hardsigmoid", "HardsigmoidBackward0",
                      lambda k, a, _: k.div(k.minimum(k.maximum(k.add(a, 3), 0), 6), 6),
                      lambda k, g, a, _: k.where(k.logical_and(k.gt(a, -3), k.lt(a, 3)),
                                                 k.div(g, 6), 0),
                      lambda g, x, _: _where((x > -3) & (x < 3), g / 6, 0.0))
    return _in_place(input, out, inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6.

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.hardswish(pg.tensor([-4.0, 0.0, 4.0]))
    tensor([-0., 0., 4.])
    """
    out = _activation(input, "hardswish", "HardswishBackward0",
                      lambda k, a, _: k.mul(a, k.div(k.minimum(k.maximum(k.add(a, 3), 0), 6), 6)),
                      _hardswish_fast, _hardswish_grad)
    return _in_place(input, out, inplace)


def _hardswish_fast(k, g, a, _):
    # torch's: 0 up to -3, g from 3 on, g * (x / 3 + 1/2) strictly between
    inner = k.mul(g, k.add(k.div(a, 3), 0.5))
    return k.where(k.le(a, -3), 0, k.where(k.lt(a, 3), inner, g))


def _hardswish_grad(g, x, _):
    return _where(x <= -3, 0.0, _where(x < 3, g * (x / 3 + 0.5), g))


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)), computed without overflow.

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.logsigmoid(pg.tensor([0.0]))
    tensor([-0.6931])
    """
    return _activation(input, "log_sigmoid_forward", "LogSigmoidBackward0",
                       lambda k, a, _: k.neg(_softplus_arrays(k, k.neg(a))),
                       lambda k, g, a, _: k.mul(g, k.sigmoid(k.neg(a))),
                       lambda g, x, _: g * (-x).sigmoid())


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|).

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.softsign(pg.tensor([1.0]))
    tensor([0.5000])
    """
    return input / (input.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x).

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.tanhshrink(pg.tensor([0.0]))
    tensor([0.])
    """
    return input - input.tanh()


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x where x > 0, else weight * x; weight has 1 element or one per channel (dim 1).

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.prelu(pg.tensor([-1.0, 2.0]), pg.tensor([0.25]))
    tensor([-0.2500,  2.0000])
    """
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError("prelu(): expected input and weight to be Tensors")
    count = weight.numel()
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.ndim}")
    if count != 1:
        if input.ndim == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = input.shape[1] if input.ndim >= 2 else 1
        if count != channels:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {count} and channel size = {channels}.")
    w = weight
    if count != 1 and input.ndim >= 2:
        w = weight.reshape([-1] + [1] * (input.ndim - 2))
    elif weight.ndim:
        w = weight.reshape(())
    return _where(input > 0, input, w * input)


# -- normalization ------------------------------------------------------------------------------
def _normalized(x: Tensor, axes: tuple, weight, bias, affine_shape: tuple, eps: float,
                stats, node: str, view: tuple | None = None):
    """(x - mean) / sqrt(var + eps) over `axes`, times weight plus bias, as one recorded op.

    `stats`: None (the batch's own mean and biased variance, which take part in the
    gradient) or arrays (mean, var) to use as constants (BatchNorm in eval mode). Returns
    the output and the (mean, biased var) arrays used. With `view`, all of it happens on x
    reshaped to `view` (GroupNorm's groups), the output reshaped back.
    """
    k = x.backend
    a = x._array if view is None else k.reshape(x._array, view)
    if stats is None:
        count = 1
        for ax in axes:
            count *= a.shape[ax]
        mean = k.div(k.sum(a, axes, True), count)
        centred = k.sub(a, mean)
        var = k.div(k.sum(k.mul(centred, centred), axes, True), count)
    else:
        mean, var = stats
        centred = k.sub(a, mean)
    rstd = k.div(1, k.sqrt(k.add(var, eps)))
    xhat = k.mul(centred, rstd)
    out = xhat
    w = b = None
    if weight is not None:
        w = k.reshape(weight._array, affine_shape)
        out = k.mul(out, w)
    if bias is not None:
        b = k.reshape(bias._array, affine_shape)
        out = k.add(out, b)
    if view is not None:
        out = k.reshape(out, tuple(x._array.shape))
    out = _make(out, x.dtype, k)
    if STATE.grad_enabled and (x._rg or (weight is not None and weight._rg)
                               or (bias is not None and bias._rg)):
        record(out, node, _normalized_backward, (x, weight, bias), (x, weight, bias),
               (axes, affine_shape, eps, stats is None, xhat, rstd, mean, view))
    return out, mean, var


def _reduce_to(k, arr, shape: tuple):
    """Sum `arr` down to `shape` (broadcast shape of the parameter, ones where summed)."""
    full = tuple(arr.shape)
    lead = len(full) - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape)
                                      if s == 1 and full[i + lead] != 1)
    out = k.sum(arr, axes, True) if axes else arr
    return k.reshape(out, shape)


def _sum_to(t: Tensor, shape: tuple) -> Tensor:
    """`_reduce_to` with tensor ops."""
    full = tuple(t.shape)
    lead = len(full) - len(shape)
    dims = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape)
                                      if s == 1 and full[i + lead] != 1)
    return (t.sum(dims, keepdim=True) if dims else t).reshape(shape)


def _normalized_backward(node, g):
    x, weight, bias = node.saved
    axes, affine_shape, eps, batch_stats, xhat, rstd, mean, view = node.args
    to_x, to_w, to_b = node.inputs
    if not STATE.grad_enabled:
        k, d = g.backend, g.dtype
        ga = g._array if view is None else k.reshape(g._array, view)
        gx = gw = gb = None
        if to_x is not None:
            gxhat = ga if weight is None else k.mul(ga, k.reshape(weight._array, affine_shape))
            if batch_stats:
                count = 1
                for ax in axes:
                    count *= ga.shape[ax]
                m1 = k.div(k.sum(gxhat, axes, True), count)
                m2 = k.div(k.sum(k.mul(gxhat, xhat), axes, True), count)
                gx = k.mul(k.sub(k.sub(gxhat, m1), k.mul(xhat, m2)), rstd)
            else:
                gx = k.mul(gxhat, rstd)
            if view is not None:
                gx = k.reshape(gx, tuple(x._array.shape))
            gx = _make(gx, d, k)
        if to_w is not None:
            gw = _make(k.reshape(_reduce_to(k, k.mul(ga, xhat), affine_shape),
                                 tuple(weight.shape)), d, k)
        if to_b is not None:
            gb = _make(k.reshape(_reduce_to(k, ga, affine_shape), tuple(bias.shape)), d, k)
        return gx, gw, gb
    # create_graph: the same function with tensor ops, differentiated by the engine
    k = x.backend
    shape = tuple(x.shape)
    if view is not None:
        x, g = x.reshape(view), g.reshape(view)
    if batch_stats:
        mu = x.mean(axes, keepdim=True)
        centred = x - mu
        xh = centred * ((centred * centred).mean(axes, keepdim=True) + eps).rsqrt()
    else:
        xh = (x - _make(mean, x.dtype, k)) * _make(rstd, x.dtype, k)
    w = None if weight is None else weight.reshape(affine_shape)
    gxhat = g if w is None else g * w
    gx = gw = gb = None
    if to_x is not None:
        if batch_stats:
            r = ((centred * centred).mean(axes, keepdim=True) + eps).rsqrt()
            gx = (gxhat - gxhat.mean(axes, keepdim=True)
                  - xh * (gxhat * xh).mean(axes, keepdim=True)) * r
        else:
            gx = gxhat * _make(rstd, x.dtype, k)
        if view is not None:
            gx = gx.reshape(shape)
    if to_w is not None:
        gw = _sum_to(g * xh, affine_shape).reshape(tuple(weight.shape))
    if to_b is not None:
        gb = _sum_to(g, affine_shape).reshape(tuple(bias.shape))
    return gx, gw, gb


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize over the last dims (`normalized_shape`) to mean 0 and variance 1, then
    scale by `weight` and shift by `bias` (both of `normalized_shape`).

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.layer_norm(pg.tensor([[1.0, 3.0]]), (2,))
    tensor([[-1.0000,  1.0000]])
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else \
        tuple(int(s) for s in normalized_shape)
    n = len(shape)
    ishape = tuple(input.shape)
    if n == 0 or ishape[len(ishape) - n:] != shape or len(ishape) < n:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(str(s) for s in shape)}], but got input of size"
                           f"{list(ishape)}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but "
                               f"got {name} of shape {list(p.shape)} and normalized_shape = "
                               f"{list(shape)}")
    axes = tuple(range(len(ishape) - n, len(ishape)))
    return _normalized(input, axes, weight, bias, shape, eps, None,
                       "NativeLayerNormBackward0")[0]


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel (dim 1) over the batch and any further dims.

    In training, the batch's mean and biased variance normalize, and the running
    statistics (when given) move towards the batch's mean and unbiased variance by
    `momentum`, in place; otherwise the running statistics normalize.

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.batch_norm(pg.tensor([[1.0], [3.0]]), None, None, training=True)
    tensor([[-1.0000],
            [ 1.0000]])
    """
    shape = tuple(input.shape)
    if len(shape) < 2:
        raise ValueError(f"Expected 2D or more input (got {len(shape)}D input)") \
            if len(shape) else RuntimeError("batch_norm: expected an input with a channel dim")
    channels = shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != channels:
            raise RuntimeError(f"{name} should contain {channels} elements not {t.numel()}")
    per_channel = shape[0]
    for s in shape[2:]:
        per_channel *= s
    if training and per_channel == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {_size_str(shape)}")
    axes = (0,) + tuple(range(2, len(shape)))
    affine_shape = (channels,) + (1,) * (len(shape) - 2)
    k = input.backend
    if not training:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation "
                               "mode")
        stats = (k.reshape(running_mean._array, affine_shape),
                 k.reshape(running_var._array, affine_shape))
        return _normalized(input, axes, weight, bias, affine_shape, eps, stats,
                           "NativeBatchNormBackward0")[0]
    out, mean, var = _normalized(input, axes, weight, bias, affine_shape, eps, None,
                                 "NativeBatchNormBackward0")
    if running_mean is not None or running_var is not None:
        with no_grad():
            if running_mean is not None:
                batch = _make(k.reshape(mean, (channels,)), input.dtype, k)
                running_mean.mul_(1 - momentum).add_(batch, alpha=momentum)
            if running_var is not None:
                unbiased = k.mul(k.reshape(var, (channels,)), per_channel / (per_channel - 1))
                running_var.mul_(1 - momentum).add_(_make(unbiased, input.dtype, k),
                                                    alpha=momentum)
    return out


def _size_str(shape: tuple) -> str:
    return f"plugrad.Size([{', '.join(str(s) for s in shape)}])"


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize each group of num_groups channels (dim 1) of each sample, then scale
    and shift each channel by `weight` and `bias`.

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.group_norm(pg.tensor([[1.0, 3.0]]), 1)
    tensor([[-1.0000,  1.0000]])
    """
    shape = tuple(input.shape)
    if len(shape) < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{len(shape)}")
    channels = shape[1]
    if num_groups <= 0 or channels % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(shape)} and "
                           f"num_groups={num_groups}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and (p.ndim != 1 or p.numel() != channels):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of "
                               f"channels in input, but got {name} of shape {list(p.shape)} "
                               f"and input of shape {list(shape)}")
    spatial = 1
    for s in shape[2:]:
        spatial *= s
    per_group = channels // num_groups
    view = (shape[0], num_groups, per_group, spatial)
    return _normalized(input, (2, 3), weight, bias, (num_groups, per_group, 1), eps, None,
                       "NativeGroupNormBackward0", view)[0]


# -- dropout, embedding, one_hot ------------------------------------------------------------------
def _check_p(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels (dim 1 of an (N, C, H, W) input) with probability p and scale
    the rest by 1/(1-p), in training only. A 3-D input is read as (N, C, L), as torch does.

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.dropout2d(pg.ones(1, 2, 1, 1), training=False).shape
    plugrad.Size([1, 2, 1, 1])
    """
    _check_p(p)
    ndim = input.ndim
    if ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {ndim}-D input to dropout2d, which is deprecated "
                      f"and will result in an error in a future release. To retain the behavior "
                      f"and silence this warning, please use dropout instead. Note that "
                      f"dropout2d exists to provide channel-wise dropout on inputs with 2 "
                      f"spatial dimensions, a channel dimension, and an optional batch "
                      f"dimension (i.e. 3D or 4D inputs).", UserWarning, stacklevel=2)
    elif ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim. This behavior will change "
                      "in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
                      "dropout behavior, please switch to using dropout1d instead.",
                      UserWarning, stacklevel=2)
    if not training or p == 0.0:
        return input
    shape = tuple(input.shape)
    k = input.backend
    mask_shape = shape[:2] + (1,) * (len(shape) - 2) if len(shape) >= 2 else shape
    if p == 1.0:
        mask = k.full(mask_shape, 0.0, input.dtype)
    else:
        u = rand(mask_shape, dtype=input.dtype, backend=k)._array
        mask = k.mul(k.astype(k.lt(u, 1.0 - p), input.dtype), 1.0 / (1.0 - p))
    if inplace:
        return input.mul_(_make(mask, input.dtype, k))
    return input * _make(mask, input.dtype, k)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """The rows of `weight` at the indices `input`: shape input.shape + (embedding_dim,).

    The row at `padding_idx` gets no gradient.

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.embedding(pg.tensor([1, 0]), pg.tensor([[0.0, 1.0], [2.0, 3.0]]))
    tensor([[2., 3.],
            [0., 1.]])
    """
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError("embedding(): expected input and weight to be Tensors")
    if input.dtype not in (dtypes.int64, dtypes.int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got "
                           f"{_torch_name(input.dtype)} instead (while checking arguments for "
                           f"embedding)")
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    rows = weight.shape[0]
    if padding_idx is not None:
        if padding_idx > 0 and padding_idx >= rows:
            raise AssertionError("Padding_idx must be within num_embeddings")
        if padding_idx < 0:
            if padding_idx < -rows:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx += rows
    if max_norm is not None:
        raise NotImplementedError("embedding: max_norm is not supported (torch renormalizes "
                                  "the weight's rows in place)")
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq and sparse are not supported")
    k = weight.backend
    idx = input._array
    if not k.lazy and input.numel():
        lo, hi = k.tolist(k.min(idx, None, False)), k.tolist(k.max(idx, None, False))
        if lo < 0 or hi >= rows:
            raise IndexError("index out of range in self")
    out = _make(k.getitem(weight._array, (idx,)), weight.dtype, k)
    if STATE.grad_enabled and weight._rg:
        record(out, "EmbeddingBackward0", _embedding_backward, (weight,), (input,),
               (rows, padding_idx))
    return out


def _embedding_backward(node, g):
    (input,) = node.saved
    rows, padding_idx = node.args
    k, d = g.backend, g.dtype
    dim = g._array.shape[-1]
    flat = k.reshape(input._array, (-1,))
    if not STATE.grad_enabled:
        grad = k.full((rows, dim), 0.0, d)
        grad = written(k.index_add(grad, (flat,), k.reshape(g._array, (-1, dim))), grad)
        if padding_idx is not None:
            grad = written(k.setitem(grad, (padding_idx,), 0), grad)
        return (_make(grad, d, k),)
    # with a graph: one_hot(indices).T @ grad, a matmul the engine can differentiate
    hot = k.astype(k.eq(k.reshape(flat, (-1, 1)), k.arange(0, rows, 1, dtypes.int64)), d)
    if padding_idx is not None:
        hot = k.where(k.eq(k.arange(0, rows, 1, dtypes.int64), padding_idx), 0, hot)
    return (_make(k.permute(hot, (1, 0)), d, k) @ g.reshape(-1, dim),)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 tensor of shape tensor.shape + (num_classes,): 1 at each index, else 0.

    num_classes=-1 takes the largest index + 1.

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.one_hot(pg.tensor([0, 2]))
    tensor([[1, 0, 0],
            [0, 0, 1]])
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"one_hot(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(tensor).__name__}")
    if tensor.dtype is not dtypes.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    k = tensor.backend
    a = tensor._array
    empty_input = tensor.numel() == 0
    if empty_input and num_classes <= 0:
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    if not empty_input and not k.lazy:
        lo, hi = k.tolist(k.min(a, None, False)), k.tolist(k.max(a, None, False))
        if lo < 0:
            raise RuntimeError("Class values must be non-negative.")
        if num_classes == -1:
            num_classes = hi + 1
        elif hi >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    elif num_classes == -1:
        num_classes = k.tolist(k.max(a, None, False)) + 1
    shape = tuple(a.shape)
    hot = k.eq(k.reshape(a, shape + (1,)), k.arange(0, num_classes, 1, dtypes.int64))
    return _make(k.astype(hot, dtypes.int64), dtypes.int64, k)


# -- distances ------------------------------------------------------------------------------------
def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out=None) -> Tensor:
    """input / max(||input||_p over dim, eps).

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.normalize(pg.tensor([[3.0, 4.0]]))
    tensor([[0.6000, 0.8000]])
    """
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported")
    return input / input.norm(p, dim, keepdim=True).clamp(min=eps)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 * x2) / (max(||x1||, eps) * max(||x2||, eps)) along dim (broadcast).

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.cosine_similarity(pg.tensor([[1.0, 0.0]]), pg.tensor([[1.0, 1.0]]))
    tensor([0.7071])
    """
    n1 = x1.norm(2, dim, keepdim=True).clamp(min=eps)
    n2 = x2.norm(2, dim, keepdim=True).clamp(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p along the last dim.

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.pairwise_distance(pg.tensor([[3.0, 0.0]]), pg.tensor([[0.0, 4.0]]), eps=0.0)
    tensor([5.])
    """
    return (x1 - x2 + eps).norm(p, -1, keepdim=keepdim)


# -- more losses ---------------------------------------------------------------------------------
def _reduce(losses: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.mean()


def _same_size(input: Tensor, target: Tensor) -> None:
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({_size_str(tuple(target.shape))}) that is "
                      f"different to the input size ({_size_str(tuple(input.shape))}). This "
                      f"will likely lead to incorrect results due to broadcasting. Please "
                      f"ensure they have the same size.", UserWarning, stacklevel=3)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """The mean (or sum) of absolute differences.

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.l1_loss(pg.tensor([1.0, 2.0]), pg.tensor([2.0, 4.0]))
    tensor(1.5000)
    """
    reduction = _reduction(size_average, reduce, reduction)
    _same_size(input, target)
    losses = (input - target).abs()
    if weight is not None:
        losses = losses * weight
    return _reduce(losses, reduction)


def _fused_loss(node: str, inputs: tuple, losses_of, grads_of, reduction: str,
                weight=None) -> Tensor:
    """A loss as one recorded op, as torch's are: `losses_of(*inputs)` the pointwise losses
    (computed outside autograd), `grads_of(g, *inputs)` their gradients with tensor ops for
    a pointwise cotangent g (so they can be differentiated again), times `weight`."""
    with no_grad():
        losses = losses_of(*inputs)
        if weight is not None:
            losses = losses * weight
        out = _reduce(losses, reduction)
    if STATE.grad_enabled and any(t._rg for t in inputs if isinstance(t, Tensor)):
        record(out, node, _fused_loss_backward, inputs, inputs,
               (grads_of, reduction, tuple(losses.shape), losses.numel(), weight))
    return out


def _fused_loss_backward(node, g):
    grads_of, reduction, shape, count, weight = node.args
    if reduction == "mean":
        g = g / count
    if reduction != "none":
        g = g.expand(shape)
    if weight is not None:
        g = g * weight
    wanted = [edge is not None for edge in node.inputs]
    grads = grads_of(g, *node.saved)
    return tuple(gr if want else None for gr, want in zip(grads, wanted))


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d**2 / beta where |d| < beta, else |d| - beta / 2 (d = input - target).

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.smooth_l1_loss(pg.tensor([0.0, 0.0]), pg.tensor([0.5, 3.0]), reduction="none")
    tensor([0.1250, 2.5000])
    """
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _same_size(input, target)
    if beta == 0.0:
        return l1_loss(input, target, reduction=reduction)
    return _fused_loss("SmoothL1LossBackward0", (input, target), lambda x, t: _smooth_l1(
        x - t, beta), lambda g, x, t: _difference_grads(g, _smooth_l1_slope(x - t, beta)),
        reduction)


def _smooth_l1(d: Tensor, beta: float) -> Tensor:
    ad = d.abs()
    return _where(ad < beta, d * d * (0.5 / beta), ad - 0.5 * beta)


def _smooth_l1_slope(d: Tensor, beta: float) -> Tensor:
    return _where(d.abs() < beta, d / beta, d.sign())


def _difference_grads(g: Tensor, slope: Tensor) -> tuple:
    """(d/d input, d/d target) of a loss of input - target with derivative `slope`."""
    gx = g * slope
    return gx, -gx


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5 d**2 where |d| < delta, else delta * (|d| - delta / 2) (d = input - target).

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.huber_loss(pg.tensor([0.0, 0.0]), pg.tensor([0.5, 3.0]), reduction="none", delta=2.0)
    tensor([0.1250, 4.0000])
    """
    reduction = _reduction(None, None, reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _same_size(input, target)
    return _fused_loss("HuberLossBackward0", (input, target),
                       lambda x, t: _smooth_l1(x - t, delta) * delta,
                       lambda g, x, t: _difference_grads(g, _smooth_l1_slope(x - t, delta)
                                                         * delta),
                       reduction, weight)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """-(t * log(x) + (1 - t) * log(1 - x)), each log clamped to >= -100 as torch does.

    The gradient is torch's, (x - t) / max(x * (1 - x), 1e-12): finite at 0 and 1.

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.binary_cross_entropy(pg.tensor([0.5]), pg.tensor([1.0]))
    tensor(0.6931)
    """
    reduction = _reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({_size_str(tuple(target.shape))}) that is "
                         f"different to the input size ({_size_str(tuple(input.shape))}) is "
                         f"deprecated. Please ensure they have the same size.")
    k = input.backend
    if not k.lazy and input.numel():
        a = input._array
        lo, hi = k.tolist(k.min(a, None, False)), k.tolist(k.max(a, None, False))
        if not (lo >= 0 and hi <= 1):
            raise RuntimeError("all elements of input should be between 0 and 1")
    return _fused_loss("BinaryCrossEntropyBackward0", (input, target), _bce, _bce_grads,
                       reduction, weight)


def _bce_logs(x: Tensor) -> tuple:
    return x.log().clamp(min=-100), (1 - x).log().clamp(min=-100)


def _bce(x: Tensor, t: Tensor) -> Tensor:
    log_x, log_1mx = _bce_logs(x)
    return -(t * log_x + (1 - t) * log_1mx)


def _bce_grads(g: Tensor, x: Tensor, t: Tensor) -> tuple:
    gx = g * (x - t) / (x * (1 - x)).clamp(min=1e-12)
    if isinstance(t, Tensor) and t._rg:
        log_x, log_1mx = _bce_logs(x)
        return gx, g * (log_1mx - log_x)
    return gx, None


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """binary_cross_entropy(sigmoid(input), target), computed without overflow;
    `pos_weight` weighs the positive term (one per class, broadcast along the last dim).

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.binary_cross_entropy_with_logits(pg.tensor([0.0]), pg.tensor([1.0]))
    tensor(0.6931)
    """
    reduction = _reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({_size_str(tuple(target.shape))}) must be the same "
                         f"as input size ({_size_str(tuple(input.shape))})")
    # -log(sigmoid(x)) = softplus(-x); -log(1 - sigmoid(x)) = x + softplus(-x)
    return _fused_loss("BinaryCrossEntropyWithLogitsBackward0", (input, target),
                       lambda x, t: (1 - t) * x + _log_weight(t, pos_weight) * -logsigmoid(x),
                       lambda g, x, t: _bce_logits_grads(g, x, t, pos_weight), reduction,
                       weight)


def _log_weight(t: Tensor, pos_weight):
    return 1 if pos_weight is None else (pos_weight - 1) * t + 1


def _bce_logits_grads(g: Tensor, x: Tensor, t: Tensor, pos_weight) -> tuple:
    gx = g * ((1 - t) + _log_weight(t, pos_weight) * (x.sigmoid() - 1))
    if not (isinstance(t, Tensor) and t._rg):
        return gx, None
    softplus_neg = -logsigmoid(x)
    gt = -x if pos_weight is None else -x + (pos_weight - 1) * softplus_neg
    return gx, g * gt


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """The Kullback-Leibler divergence of `target` from exp(`input`) (input: log-probabilities).

    Pointwise target * (log(target) - input) (0 where target is 0), or with log_target
    exp(target) * (target - input); reduction='batchmean' divides the sum by the batch size.

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> F.kl_div(pg.tensor([[0.0, 0.0]]).log_softmax(1), pg.tensor([[0.5, 0.5]]),
    ...          reduction="batchmean")
    tensor(0.)
    """
    if size_average is not None or reduce is not None:
        reduction = _reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and "
                      "the support size.'batchmean' divides only by the batch size, and "
                      "aligns with the KL div math definition.'mean' will be changed to "
                      "behave the same as 'batchmean' in the next major release.",
                      UserWarning, stacklevel=2)
    elif reduction != "batchmean":
        reduction = _reduction(None, None, reduction)
    if log_target:
        losses = target.exp() * (target - input)
    else:
        positive = target > 0
        safe = _where(positive, target, 1.0)
        losses = _where(positive, target * safe.log(), 0.0) - target * input
    if reduction == "batchmean":
        total = losses.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(losses, reduction)
