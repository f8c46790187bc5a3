"""Attention as functions of tensors: scaled_dot_product_attention and
multi_head_attention_forward, as torch.nn.functional has them.

Both are compositions of differentiable tensor ops (matmul, softmax, where, ...),
so gradients of any order come from the engine. plugrad.nn.functional re-exports
them; the MultiheadAttention module that calls the second lives in
plugrad.nn.transformer (it needs nn.Linear, and Linear's module imports the
functional namespace that imports this one).

>>> import plugrad as pg
>>> import plugrad.nn.functional as F
>>> q = k = v = pg.ones(2, 3, 4)
>>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
plugrad.Size([2, 3, 4])
"""
from __future__ import annotations

import math
import warnings

from .. import dtypes
from ..creation import ones, rand, zeros, zeros_like
from ..pointwise import where
from ..reduction import softmax
from ..shape import cat
from ..tensor import Tensor, _make

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]

_NEG_INF = float("-inf")
# torch's names for dtypes in the messages of its attention kernels
_C_NAMES = {"float16": "c10::Half", "bfloat16": "c10::BFloat16", "float32": "float",
            "float64": "double", "int64": "long int", "int32": "int", "bool": "bool"}


def _c_name(d) -> str:
    return _C_NAMES.get(d.name, d.name)


def _dropout(x: Tensor, p: float) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p)."""
    if p <= 0.0:
        return x
    if p >= 1.0:
        return x * 0.0
    k = x.backend
    u = rand(tuple(x.shape), dtype=x.dtype, backend=k)._array
    keep = k.mul(k.astype(k.lt(u, 1.0 - p), x.dtype), 1.0 / (1.0 - p))
    return x * _make(keep, x.dtype, k)


def _broadcasts_into(mask_shape: tuple, shape: tuple) -> bool:
    """True where a mask of `mask_shape` broadcasts to `shape` without growing it (torch
    adds the mask in place: a mask of more dims fails, even where they are ones)."""
    return len(mask_shape) <= len(shape) and \
        all(m in (1, s) for m, s in zip(mask_shape[::-1], shape[::-1]))


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(query @ key.mT * scale + mask) @ value, over any leading batch dims.

    query is (..., L, E), key (..., S, E), value (..., S, Ev); the result is
    (..., L, Ev). `scale` defaults to 1/sqrt(E). `attn_mask` broadcasts to
    (..., L, S): a bool mask says which keys each query may attend to (True =
    takes part), a float mask is added to the scores. `is_causal` lets query i
    attend to keys 0..i only. A query that may attend to no key at all gets
    zeros (and zero gradients), as torch's does. `enable_gqa` lets key and
    value have fewer heads (dim -3) than query: each of theirs serves a group.
    `dropout_p` drops attention weights (always: pass 0.0 when evaluating).

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> q = pg.tensor([[1.0, 0.0]]); k = pg.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> v = pg.tensor([[1.0], [3.0]])
    >>> F.scaled_dot_product_attention(q, k, v, attn_mask=pg.tensor([[False, True]]))
    tensor([[3.]])
    """
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError(f"Expected query, key, and value to all be  at least 2 dimensional, "
                           f"but got query.dim: {query.ndim} key.dim: {key.ndim} and "
                           f"value.dim: {value.ndim} instead.")
    dtype = query.dtype
    if key.dtype is not dtype or value.dtype is not dtype:
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {_c_name(dtype)} key.dtype: {_c_name(key.dtype)} "
                           f"and value.dtype: {_c_name(value.dtype)} instead.")
    if not dtype.is_floating_point:
        raise RuntimeError(f"scaled_dot_product_attention: expected floating point query, "
                           f"key and value, but got {_c_name(dtype)}")
    if attn_mask is not None and attn_mask.dtype not in (dtypes.bool, dtypes.float32, dtype):
        raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query "
                           f"dtype, but got attn_mask.dtype: {_c_name(attn_mask.dtype)} and  "
                           f"query.dtype: {_c_name(dtype)} instead.")
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                           "set when is_causal=True")
    if dropout_p > 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got "
                           f"{dropout_p}")
    qs, ks, vs = tuple(query.shape), tuple(key.shape), tuple(value.shape)
    if qs[-1] != ks[-1]:
        raise RuntimeError(f"scaled_dot_product_attention: query's embedding size {qs[-1]} "
                           f"differs from key's {ks[-1]} (query {list(qs)}, key {list(ks)})")
    if ks[-2] != vs[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: key and value have different "
                           f"sequence lengths {ks[-2]} and {vs[-2]} (key {list(ks)}, value "
                           f"{list(vs)})")
    if enable_gqa and query.ndim >= 3 and key.ndim >= 3 and value.ndim >= 3:
        heads = qs[-3]
        if heads % ks[-3] or heads % vs[-3]:
            raise RuntimeError("Number of heads in key and value must divide the number of "
                               "heads in query")
        if ks[-3] != heads:
            key = key.repeat_interleave(heads // ks[-3], -3)
        if vs[-3] != heads:
            value = value.repeat_interleave(heads // vs[-3], -3)
    if scale is None:
        scale = 1.0 / math.sqrt(qs[-1])
    scores = (query @ key.mT) * scale
    L, S = qs[-2], ks[-2]
    dead = None  # queries with no key to attend to, where masks can make them
    if is_causal:
        allowed = ones(L, S, dtype=dtypes.bool, backend=query.backend).tril()
        scores = where(allowed, scores, _NEG_INF)  # query i keeps key 0: never all masked
    elif attn_mask is not None:
        mshape = tuple(attn_mask.shape)
        if not _broadcasts_into(mshape, tuple(scores.shape)):
            raise RuntimeError(f"scaled_dot_product_attention: attn_mask of shape "
                               f"{list(mshape)} doesn't broadcast to the scores' shape "
                               f"{list(scores.shape)}")
        if attn_mask.dtype is dtypes.bool:
            scores = where(attn_mask, scores, _NEG_INF)
            dead = ~attn_mask.any(-1, keepdim=True)
        else:
            if attn_mask.dtype is not dtype:
                attn_mask = attn_mask.to(dtype)  # a float32 mask, as torch takes for any query
            scores = scores + attn_mask
            dead = (attn_mask == _NEG_INF).all(-1, keepdim=True)
        if not dead.any():
            dead = None
    if dead is not None:
        # softmax of a row of -inf is nan: give such rows finite scores, then zeros
        scores = where(dead, 0.0, scores)
        attn = where(dead, 0.0, softmax(scores, -1))
    else:
        attn = softmax(scores, -1)
    if dropout_p > 0.0:
        attn = _dropout(attn, dropout_p)
    return attn @ value


# -- multi-head attention ---------------------------------------------------------------------
def _linear(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    out = x @ weight.mT
    return out if bias is None else out + bias


def _canonical_mask(mask, mask_name: str, other, other_name: str, target_type,
                    check_other: bool = True):
    """A bool mask (True = masked out) as a float one (-inf there, 0 elsewhere)."""
    if mask is None:
        return None
    if mask.dtype is not dtypes.bool and not mask.dtype.is_floating_point:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other is not None and mask.dtype is not other.dtype:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. "
                      f"Use same type for both instead.", stacklevel=3)
    if mask.dtype is dtypes.bool:
        mask = zeros_like(mask, dtype=target_type).masked_fill(mask, _NEG_INF)
    return mask


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    if query.ndim == 3:
        kind, kpm_dim = "batched (3-D)", 2
    elif query.ndim == 2:
        kind, kpm_dim = "unbatched (2-D)", 1
    else:
        raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received "
                             f"{query.ndim}-D query tensor")
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise AssertionError(f"For {kind} `query`, expected `key` and `value` to be "
                             f"{query.ndim}-D but found {key.ndim}-D and {value.ndim}-D "
                             f"tensors respectively")
    if key_padding_mask is not None and key_padding_mask.ndim != kpm_dim:
        raise AssertionError(f"For {kind} `query`, expected `key_padding_mask` to be `None` "
                             f"or {kpm_dim}-D but found {key_padding_mask.ndim}-D tensor "
                             f"instead")
    if attn_mask is not None:
        if attn_mask.ndim not in (2, 3):
            raise AssertionError(f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D "
                                 f"or 3-D but found {attn_mask.ndim}-D tensor instead")
        if query.ndim == 2 and attn_mask.ndim == 3:
            expected = (num_heads, query.shape[0], key.shape[0])
            if tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                     f"{attn_mask.shape}")
    return query.ndim == 3


def _in_projection(query, key, value, in_proj_weight, in_proj_bias, separate):
    """q, k, v: the inputs through their projections (one product where they are one)."""
    if separate is not None:
        wq, wk, wv = separate
        bq = bk = bv = None
        if in_proj_bias is not None:
            bq, bk, bv = in_proj_bias.chunk(3)
        return _linear(query, wq, bq), _linear(key, wk, bk), _linear(value, wv, bv)
    e = query.shape[-1]
    if key is value and query is key:  # self-attention: one product for all three
        q, k, v = _linear(query, in_proj_weight, in_proj_bias).chunk(3, -1)
        return q, k, v
    wq, wk, wv = in_proj_weight.chunk(3)
    bq = bk = bv = None
    if in_proj_bias is not None:
        bq, bk, bv = in_proj_bias.chunk(3)
    if key is value:  # encoder-decoder attention: keys and values in one product
        kv = _linear(key, in_proj_weight[e:], None if in_proj_bias is None else in_proj_bias[e:])
        k, v = kv.chunk(2, -1)
        return _linear(query, wq, bq), k, v
    return _linear(query, wq, bq), _linear(key, wk, bk), _linear(value, wv, bv)


def _pad_last(mask: Tensor) -> Tensor:
    """A column of zeros after the last one (a key nothing masks)."""
    return cat([mask, zeros(*mask.shape[:-1], 1, dtype=mask.dtype, backend=mask.backend)], -1)


def multi_head_attention_forward(query: Tensor, key: Tensor, value: Tensor,
                                 embed_dim_to_check: int, num_heads: int, in_proj_weight,
                                 in_proj_bias, bias_k, bias_v, add_zero_attn: bool,
                                 dropout_p: float, out_proj_weight: Tensor, out_proj_bias,
                                 training: bool = True, key_padding_mask=None,
                                 need_weights: bool = True, attn_mask=None,
                                 use_separate_proj_weight: bool = False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights: bool = True,
                                 is_causal: bool = False):
    """The computation of nn.MultiheadAttention, on weights passed in.

    query is (L, N, E) or unbatched (L, E); key and value (S, N, kdim/vdim).
    Masks follow MultiheadAttention's convention: True (or -inf) marks a key
    that a query must NOT attend to. Returns (attn_output (L, N, E),
    attn_weights (N, L, S) averaged over heads, (N, heads, L, S) with
    average_attn_weights=False, or None unless need_weights).

    >>> import plugrad as pg
    >>> import plugrad.nn.functional as F
    >>> x = pg.ones(3, 2, 4); w = pg.ones(12, 4); wo = pg.eye(4)
    >>> out, weights = F.multi_head_attention_forward(x, x, x, 4, 2, w, None, None, None,
    ...                                                False, 0.0, wo, None)
    >>> out.shape, weights.shape
    (plugrad.Size([3, 2, 4]), plugrad.Size([2, 3, 3]))
    """
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        same_kv = key is value
        same_qk = query is key
        query = query.unsqueeze(1)
        key = query if same_qk else key.unsqueeze(1)
        value = key if same_kv else value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", attn_mask,
                                       "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the scaled dot product makes the causal mask itself
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype,
                                    check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match "
                                 f"value's {value.shape[:2]}")
        for name, w in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight "
                                     f"is None")
        separate = (q_proj_weight, k_proj_weight, v_proj_weight)
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise AssertionError(f"key shape {key.shape} does not match value shape "
                                 f"{value.shape}")
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        separate = None
    q, k, v = _in_projection(query, key, value, in_proj_weight, in_proj_bias, separate)
    src_len = key.shape[0]
    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.ndim == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = cat([k, bias_k.expand(1, bsz, embed_dim)])
        v = cat([v, bias_v.expand(1, bsz, embed_dim)])
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = _heads(k, static_k, "static_k", bsz * num_heads, head_dim)
    v = _heads(v, static_v, "static_v", bsz * num_heads, head_dim)
    if add_zero_attn:
        k = cat([k, zeros(bsz * num_heads, 1, head_dim, dtype=k.dtype, backend=k.backend)], 1)
        v = cat([v, zeros(bsz * num_heads, 1, head_dim, dtype=v.dtype, backend=v.backend)], 1)
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    src_len = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            dim = 0 if key_padding_mask.shape[0] != bsz else 1
            raise AssertionError(f"Expected key_padded_mask.shape[{dim}] to be "
                                 f"{(bsz, src_len)[dim]}, but got "
                                 f"{key_padding_mask.shape[dim]}")
        key_padding_mask = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(
            bsz, num_heads, 1, src_len).reshape(bsz * num_heads, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0
    if need_weights:
        if is_causal and attn_mask is None:
            raise AssertionError("FIXME: is_causal not implemented for need_weights")
        scores = (q * math.sqrt(1.0 / head_dim)) @ k.mT
        if attn_mask is not None:
            scores = scores + attn_mask
        weights = softmax(scores, -1)  # a row with every key masked is nan, as torch's
        if dropout_p > 0.0:
            weights = _dropout(weights, dropout_p)
        out = (weights @ v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = _linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(1)
        if not is_batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights
    if attn_mask is not None:
        if attn_mask.shape[0] == 1 and attn_mask.ndim == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.reshape(bsz, num_heads, -1, src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = _linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
    if not is_batched:
        out = out.squeeze(1)
    return out, None


def _heads(t: Tensor, static, name: str, batch_heads: int, head_dim: int) -> Tensor:
    """(S, N, E) -> (N * heads, S, head_dim), or the given static keys/values."""
    if static is None:
        return t.reshape(t.shape[0], batch_heads, head_dim).transpose(0, 1)
    if static.shape[0] != batch_heads:
        raise AssertionError(f"expecting {name}.size(0) of {batch_heads}, but got "
                             f"{static.shape[0]}")
    if static.shape[2] != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got "
                             f"{static.shape[2]}")
    return static
