"""The op table: one entry per public op of plugrad, with sample inputs and a NumPy reference.

Like PyTorch's OpInfo, an entry (`OpInfo`) says how to call an op, what NumPy
computes for the same inputs, and which inputs to try. Each `Sample` is one
call: float64 input values (cast to float32 or float64 for the test), the
Python expression that calls the op (`call`, with the inputs named x, y, z
and `pg` bound to plugrad), optional non-differentiable tensors (`consts`:
masks, indices) and keyword values (`kw`, passed as `**kw`).

The checks (`plugrad.conformance.checks`) run every sample of every entry on
the backend under test in float32 and float64: the forward values against
the reference, the gradient against central finite differences of the
reference (float64, and float32 with a looser tolerance), and the second
derivative against finite differences of the first (float64, for ops that are
twice differentiable).

Which public names an entry covers is read from the expressions its samples
call (`x.exp()` covers `Tensor.exp`, `x + y` covers `Tensor.__add__`), so an
entry cannot claim an op it never runs. `uncovered()` lists the public ops of
plugrad (functions of its op modules and Tensor methods) that no entry covers
and that are not declared as something other than an op in `NOT_OPS`; the
suite fails while that list is not empty.
"""
from __future__ import annotations

import ast
import math
import zlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from plugrad.declare import DECLARED

__all__ = ["Sample", "OpInfo", "OPS", "BY_NAME", "NOT_OPS", "public_ops", "covered_names",
           "uncovered", "names_called"]


@dataclass
class Sample:
    """One call of an op: inputs, how it is called, and optionally its own reference."""

    desc: str                       # short id: letters, digits, underscores
    inputs: tuple = ()              # float64 arrays: the differentiable inputs x, y, z
    call: str | None = None         # the expression; the entry's call template when None
    kw: dict = field(default_factory=dict)
    consts: dict = field(default_factory=dict)  # name -> array (bool, int64, float): no grad
    ref: Callable | None = None     # overrides the entry's reference
    noncontig: bool = False         # inputs become strided views of larger tensors
    grad: bool = True               # check gradients for this sample
    twice: bool = True              # check second derivatives for this sample
    out_dtype: str | None = None    # dtype of float outputs when not the inputs' dtype


@dataclass
class OpInfo:
    """An op: its call templates, its NumPy reference, and its samples."""

    name: str
    calls: tuple                    # templates, used in turn by the samples without a call
    ref: Callable | None
    samples: Callable               # rng -> list of Sample
    differentiable: bool = True
    twice: bool = True              # twice differentiable: check second derivatives
    fwd_rtol: dict = field(default_factory=dict)    # dtype name -> rtol, over the defaults
    grad_rtol: dict = field(default_factory=dict)

    def sample_list(self) -> list:
        """The samples, each with its call filled in (templates taken in turn)."""
        rng = np.random.default_rng(zlib.crc32(self.name.encode()))
        out = []
        for i, s in enumerate(self.samples(rng)):
            if s.call is None:
                s.call = self.calls[i % len(self.calls)]
            out.append(s)
        return out


# -- input values ----------------------------------------------------------------------------
def _u(rng, shape, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, size=shape)


def _away(rng, shape, margin=0.25, hi=2.0):
    """Values at least `margin` away from 0 (kinks of abs, relu, sign; poles of 1/x)."""
    v = rng.uniform(margin, hi, size=shape)
    return v * rng.choice([-1.0, 1.0], size=shape)


def _pos(rng, shape, lo=0.3, hi=2.0):
    return rng.uniform(lo, hi, size=shape)


UNARY_SHAPES = (("scalar_0d", (), False), ("vector", (5,), False), ("matrix", (3, 4), False),
                ("rank3", (2, 3, 2), False), ("empty", (0, 3), False),
                ("noncontig", (3, 4), True))

BINARY_SHAPES = (("same", (3, 4), (3, 4), False), ("both_0d", (), (), False),
                 ("bcast_row", (3, 4), (4,), False), ("bcast_outer", (3, 1), (1, 4), False),
                 ("bcast_0d", (), (2, 3), False), ("bcast_rank3", (2, 1, 3), (4, 1), False),
                 ("empty", (0, 3), (3,), False), ("noncontig", (3, 4), (3, 4), True))


def unary(gen=_u, **extra):
    def samples(rng):
        return [Sample(desc, (gen(rng, shape),), noncontig=nc, **extra)
                for desc, shape, nc in UNARY_SHAPES]
    return samples


def binary(gen_x=_u, gen_y=_u):
    def samples(rng):
        return [Sample(desc, (gen_x(rng, sx), gen_y(rng, sy)), noncontig=nc)
                for desc, sx, sy, nc in BINARY_SHAPES]
    return samples


# -- references --------------------------------------------------------------------------------
def _axis(x, dim):
    """NumPy's axis for a torch dim argument (None: all; a 0-d tensor has no axes)."""
    if x.ndim == 0 or dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        return tuple(dim) if dim else None
    return dim


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x, dim):
    if x.ndim == 0:
        return np.ones_like(x)
    e = np.exp(x - (np.max(x, axis=dim, keepdims=True) if x.size else 0))
    return e / np.sum(e, axis=dim, keepdims=True)


def _log_softmax(x, dim):
    if x.ndim == 0:
        return np.zeros_like(x)
    s = x - (np.max(x, axis=dim, keepdims=True) if x.size else 0)
    return s - np.log(np.sum(np.exp(s), axis=dim, keepdims=True))


def _logsumexp(x, dim, keepdim=False):
    if x.ndim == 0:
        return x.copy()
    ax = _axis(x, dim)
    m = np.max(x, axis=ax, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=ax, keepdims=True)) + m
    return out if keepdim else np.squeeze(out, axis=ax)


def _var(x, dim=None, unbiased=None, keepdim=False, correction=None):
    if correction is None:
        correction = 0 if unbiased is False else 1
    ax = _axis(x, dim)
    n = x.size if ax is None else int(np.prod([x.shape[a] for a in np.atleast_1d(ax)]))
    mean = np.mean(x, axis=ax, keepdims=True)
    total = np.sum((x - mean) ** 2, axis=ax, keepdims=keepdim)
    return total / max(0, n - correction)


def _reduce(fn):
    def ref(x, dim=None, keepdim=False, dtype=None):
        if x.ndim == 0:
            return x.copy()
        return fn(x, axis=_axis(x, dim), keepdims=keepdim)
    return ref


def _extreme(fn, argfn):
    def ref(x, y=None, dim=None, keepdim=False):
        if y is not None:
            return (np.maximum if fn is np.max else np.minimum)(x, y)
        if dim is None:
            return fn(x)
        if x.ndim == 0:
            return x.copy(), np.array(0, dtype=np.int64)
        values = fn(x, axis=dim, keepdims=keepdim)
        indices = argfn(x, axis=dim, keepdims=keepdim)
        return values, indices.astype(np.int64)
    return ref


def _amax(fn):
    def ref(x, dim=(), keepdim=False):
        if x.ndim == 0:
            return x.copy()
        return fn(x, axis=_axis(x, dim), keepdims=keepdim)
    return ref


def _arg(fn):
    def ref(x, dim=None, keepdim=False):
        if dim is None:
            out = np.asarray(fn(x), dtype=np.int64)
            return out.reshape((1,) * x.ndim) if keepdim else out
        if x.ndim == 0:
            return np.array(0, dtype=np.int64)
        return fn(x, axis=dim, keepdims=keepdim).astype(np.int64)
    return ref


def _logical_reduce(fn):
    def ref(x, dim=None, keepdim=False):
        return fn(x != 0, axis=_axis(x, dim), keepdims=keepdim)
    return ref


def _scan(fn):
    def ref(x, dim, dtype=None):
        return x.copy() if x.ndim == 0 else fn(x, axis=dim)
    return ref


def _sort_ref(x, dim=-1, descending=False, stable=False):
    if x.ndim == 0:
        return x.copy(), np.array(0, dtype=np.int64)
    idx = np.argsort(-x if descending else x, axis=dim, kind="stable")
    return np.take_along_axis(x, idx, dim), idx.astype(np.int64)


def _topk_ref(x, k, dim=-1, largest=True, sorted=True):  # noqa: A002
    values, idx = _sort_ref(x, dim, descending=largest)
    take = np.arange(k)
    return np.take(values, take, axis=dim), np.take(idx, take, axis=dim)


def _kthvalue_ref(x, k, dim=-1, keepdim=False):
    if x.ndim == 0:
        return x.copy(), np.array(0, dtype=np.int64)
    values, idx = _sort_ref(x, dim)
    values, idx = np.take(values, [k - 1], axis=dim), np.take(idx, [k - 1], axis=dim)
    if not keepdim:
        values, idx = np.squeeze(values, dim), np.squeeze(idx, dim)
    return values, idx


def _norm_ref(x, p="fro", dim=None, keepdim=False):
    p = 2 if p == "fro" else p
    ax = _axis(x, dim) if x.ndim else None
    a = np.abs(x)
    if p == np.inf:
        return np.max(a, axis=ax, keepdims=keepdim)
    if p == -np.inf:
        return np.min(a, axis=ax, keepdims=keepdim)
    return np.sum(a ** p, axis=ax, keepdims=keepdim) ** (1.0 / p)


def _count_nonzero_ref(x, dim=None):
    return np.asarray(np.count_nonzero(x, axis=_axis(x, dim) if x.ndim else None),
                      dtype=np.int64)


def _aminmax_ref(x, dim=None, keepdim=False):
    if x.ndim == 0:
        return x.copy(), x.copy()
    return np.min(x, axis=dim, keepdims=keepdim), np.max(x, axis=dim, keepdims=keepdim)


def _unique_ref(x, sorted=True, return_inverse=False, return_counts=False,  # noqa: A002
                dim=None, consecutive=False):
    """np.unique (consecutive: runs of equal slices) with torch's result shapes."""
    moved = x.reshape(-1, 1) if dim is None else np.moveaxis(x, dim, 0)
    rows = moved.reshape(moved.shape[0], int(np.prod(moved.shape[1:])))
    if consecutive:
        first = np.ones(rows.shape[0], dtype=bool)
        first[1:] = (rows[1:] != rows[:-1]).any(axis=1)
        keep = np.flatnonzero(first)
        inverse = np.cumsum(first) - 1
        counts = np.diff(np.append(keep, rows.shape[0]))
    else:
        _, keep, inverse, counts = np.unique(rows, axis=0, return_index=True,
                                             return_inverse=True, return_counts=True)
    values = moved[keep]
    values = values.reshape(-1) if dim is None else np.moveaxis(values, 0, dim)
    inverse = np.asarray(inverse, dtype=np.int64).reshape(x.shape if dim is None else -1)
    out = [values]
    if return_inverse:
        out.append(inverse)
    if return_counts:
        out.append(counts.astype(np.int64))
    return out[0] if len(out) == 1 else tuple(out)


def _unique_samples(rng):
    def gen(shape):  # few distinct values, so that there are repeats
        return rng.integers(-2, 3, size=shape).astype(np.float64)
    return [
        Sample("flat", (gen((3, 4)),)),
        Sample("inverse_counts", (gen((2, 3, 2)),),
               kw={"return_inverse": True, "return_counts": True}),
        Sample("dim0", (gen((5, 2)),), kw={"dim": 0, "return_inverse": True}),
        Sample("dim1_counts", (gen((2, 6)),), kw={"dim": 1, "return_counts": True}),
        Sample("vector", (gen((7,)),), kw={"return_counts": True}),
        Sample("scalar_0d", (gen(()),), kw={"return_inverse": True}),
        Sample("empty", (gen((0, 3)),), kw={"return_inverse": True, "return_counts": True}),
        Sample("noncontig", (gen((3, 4)),), kw={"dim": 0}, noncontig=True),
    ]


def _scan_samples(gen=_u, zeros=False):
    def samples(rng):
        out = [
            Sample("dim1", (gen(rng, (3, 4)),), kw={"dim": 1}),
            Sample("dim0", (gen(rng, (3, 4)),), kw={"dim": 0}),
            Sample("dim_neg_rank3", (gen(rng, (2, 3, 2)),), kw={"dim": -2}),
            Sample("vector", (gen(rng, (5,)),), kw={"dim": 0}),
            Sample("scalar_0d", (gen(rng, ()),), kw={"dim": 0}),
            Sample("empty", (gen(rng, (0, 3)),), kw={"dim": 0}),
            Sample("noncontig", (gen(rng, (3, 4)),), kw={"dim": 1}, noncontig=True),
        ]
        if zeros:
            one, two = gen(rng, (3, 4)), gen(rng, (2, 5))
            one[1, 2] = 0.0
            two[0, 1] = two[0, 3] = two[1, 0] = 0.0
            out += [Sample("one_zero", (one,), kw={"dim": 1}),
                    Sample("zeros", (two,), kw={"dim": -1})]
        return out
    return samples


def _sort_samples(rng):
    return [
        Sample("last", (_u(rng, (3, 4)),)),
        Sample("dim0", (_u(rng, (3, 4)),), kw={"dim": 0}),
        Sample("descending", (_u(rng, (3, 4)),), kw={"dim": 1, "descending": True}),
        Sample("stable_rank3", (_u(rng, (2, 3, 2)),), kw={"dim": -2, "stable": True}),
        Sample("vector", (_u(rng, (6,)),)),
        Sample("scalar_0d", (_u(rng, ()),)),
        Sample("empty", (_u(rng, (0, 3)),), kw={"dim": 0}),
        Sample("noncontig", (_u(rng, (3, 4)),), kw={"dim": 1}, noncontig=True),
    ]


def _topk_samples(rng):
    return [
        Sample("k2", (_u(rng, (3, 4)),), kw={"k": 2}),
        Sample("smallest_dim0", (_u(rng, (4, 3)),), kw={"k": 3, "dim": 0, "largest": False}),
        Sample("all", (_u(rng, (5,)),), kw={"k": 5}),
        Sample("none", (_u(rng, (2, 5)),), kw={"k": 0}),
        Sample("rank3", (_u(rng, (2, 3, 2)),), kw={"k": 1, "dim": 1}),
        Sample("noncontig", (_u(rng, (3, 4)),), kw={"k": 2}, noncontig=True),
        Sample("empty", (_u(rng, (0, 4)),), kw={"k": 2}),
    ]


def _kthvalue_samples(rng):
    return [
        Sample("k2", (_u(rng, (3, 4)),), kw={"k": 2}),
        Sample("dim0_keepdim", (_u(rng, (4, 3)),), kw={"k": 4, "dim": 0, "keepdim": True}),
        Sample("k1_rank3", (_u(rng, (2, 3, 2)),), kw={"k": 1, "dim": 1}),
        Sample("scalar_0d", (_u(rng, ()),), kw={"k": 1}),
        Sample("noncontig", (_u(rng, (3, 4)),), kw={"k": 3}, noncontig=True),
        Sample("empty", (_u(rng, (0, 4)),), kw={"k": 2}),
    ]


def _norm_samples(rng):
    return [
        Sample("fro", (_away(rng, (3, 4)),)),
        Sample("p1_dim1", (_away(rng, (3, 4)),), kw={"p": 1, "dim": 1}),
        Sample("p2_dim0_keepdim", (_u(rng, (3, 4)),), kw={"p": 2, "dim": 0, "keepdim": True}),
        Sample("p3_dims", (_away(rng, (2, 3, 2)),), kw={"p": 3, "dim": (0, 2)}),
        Sample("inf_dim1", (_u(rng, (3, 4)),), kw={"p": float("inf"), "dim": 1}),
        Sample("minus_inf", (_u(rng, (3, 4)),), kw={"p": float("-inf")}),
        Sample("fro_dims", (_u(rng, (2, 3, 2)),), kw={"p": "fro", "dim": (1, 2)}),
        Sample("scalar_0d", (_away(rng, ()),)),
        Sample("empty_dim1", (_u(rng, (0, 3)),), kw={"dim": 1}),
        Sample("noncontig", (_u(rng, (3, 4)),), kw={"dim": 1}, noncontig=True),
    ]


def _count_nonzero_samples(rng):
    def gen(shape):
        return np.where(rng.random(shape) < 0.4, 0.0, rng.uniform(-2, 2, size=shape))
    return [Sample("all", (gen((3, 4)),)), Sample("dim1", (gen((3, 4)),), kw={"dim": 1}),
            Sample("dims", (gen((2, 3, 2)),), kw={"dim": (0, 2)}),
            Sample("scalar_0d", (gen(()),)), Sample("empty", (gen((0, 3)),), kw={"dim": 0}),
            Sample("noncontig", (gen((3, 4)),), kw={"dim": 0}, noncontig=True)]


def _aminmax_samples(rng):
    return [Sample("all", (_u(rng, (3, 4)),)), Sample("dim1", (_u(rng, (3, 4)),), kw={"dim": 1}),
            Sample("dim0_keepdim", (_u(rng, (3, 4)),), kw={"dim": 0, "keepdim": True}),
            Sample("scalar_0d", (_u(rng, ()),)),
            Sample("noncontig", (_u(rng, (3, 4)),), kw={"dim": -1}, noncontig=True),
            Sample("empty", (_u(rng, (0, 3)),), kw={"dim": 1})]


def _clamp(x, lo=None, hi=None, min=None, max=None):  # noqa: A002
    lo = min if lo is None else lo
    hi = max if hi is None else hi
    out = x
    if lo is not None:
        out = np.maximum(out, lo)
    if hi is not None:
        out = np.minimum(out, hi)
    return out


# -- sample sets of the less uniform ops ------------------------------------------------------
def _reduction_samples(gen=_u, empty_full=True, zero_d=True, dtype_call=None, tuples=True):
    def samples(rng):
        out = [
            Sample("all", (gen(rng, (3, 4)),)),
            Sample("dim1", (gen(rng, (3, 4)),), kw={"dim": 1}),
            Sample("dim_neg_keepdim", (gen(rng, (2, 3, 2)),), kw={"dim": -1, "keepdim": True}),
            Sample("empty_dim1", (gen(rng, (0, 3)),), kw={"dim": 1}),
            Sample("noncontig", (gen(rng, (3, 4)),), kw={"dim": 0}, noncontig=True),
        ]
        if tuples:
            out += [Sample("dims_tuple", (gen(rng, (2, 3, 2)),), kw={"dim": (0, 2)}),
                    Sample("dims_tuple_keepdim", (gen(rng, (2, 3, 2)),),
                           kw={"dim": (0, 1), "keepdim": True})]
        if zero_d:
            out += [Sample("scalar_0d", (gen(rng, ()),)),
                    Sample("scalar_0d_dim0", (gen(rng, ()),), kw={"dim": 0})]
        if empty_full:
            out += [Sample("empty_all", (gen(rng, (0, 3)),)),
                    Sample("empty_dim0", (gen(rng, (0, 3)),), kw={"dim": 0})]
        if dtype_call:
            call, ref = dtype_call
            out.append(Sample("dtype_float64", (gen(rng, (3, 4)),), call=call, ref=ref,
                              out_dtype="float64"))
        return out
    return samples


def _prod_samples(rng):
    def gen(shape):
        return rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    one_zero = gen((3, 4))
    one_zero[1, 2] = 0.0
    two_zeros = gen((3, 4))
    two_zeros[0, 1] = two_zeros[2, 1] = 0.0
    base = _reduction_samples(lambda r, s: gen(s), tuples=False)(rng)  # torch.prod: one dim
    return base + [Sample("one_zero", (one_zero,)),
                   Sample("one_zero_dim0", (one_zero,), kw={"dim": 0}),
                   Sample("two_zeros_dim0", (two_zeros,), kw={"dim": 0}),
                   Sample("two_zeros_all", (two_zeros,))]


def _extreme_samples(rng):
    return [
        Sample("all", (_u(rng, (3, 4)),)),
        Sample("scalar_0d", (_u(rng, ()),)),
        Sample("dim1", (_u(rng, (3, 4)),), kw={"dim": 1}),
        Sample("dim0_keepdim", (_u(rng, (3, 4)),), kw={"dim": 0, "keepdim": True}),
        Sample("dim_neg_rank3", (_u(rng, (2, 3, 2)),), kw={"dim": -2}),
        Sample("scalar_0d_dim0", (_u(rng, ()),), kw={"dim": 0}),
        Sample("empty_dim1", (_u(rng, (0, 3)),), kw={"dim": 1}),
        Sample("noncontig_dim1", (_u(rng, (3, 4)),), kw={"dim": 1}, noncontig=True),
        Sample("binary_bcast", (_u(rng, (3, 4)), _u(rng, (4,))), call="pg.{name}(x, y)"),
        Sample("binary_method", (_u(rng, (2, 3)), _u(rng, (2, 3))), call="x.{name}(y)"),
    ]


def _amax_samples(rng):
    return [
        Sample("all", (_u(rng, (3, 4)),)),
        Sample("dim1", (_u(rng, (3, 4)),), kw={"dim": 1}),
        Sample("dims_tuple_keepdim", (_u(rng, (2, 3, 2)),), kw={"dim": (0, 2), "keepdim": True}),
        Sample("dim_neg", (_u(rng, (2, 3, 2)),), kw={"dim": -1}),
        Sample("scalar_0d", (_u(rng, ()),)),
        Sample("empty_dim1", (_u(rng, (0, 3)),), kw={"dim": 1}),
        Sample("noncontig", (_u(rng, (3, 4)),), kw={"dim": 0}, noncontig=True),
    ]


def _var_samples(rng):
    return [
        Sample("all", (_u(rng, (3, 4)),)),
        Sample("dim1", (_u(rng, (3, 4)),), kw={"dim": 1}),
        Sample("dim0_keepdim", (_u(rng, (3, 4)),), kw={"dim": 0, "keepdim": True}),
        Sample("dims_tuple", (_u(rng, (2, 3, 2)),), kw={"dim": (0, 2)}),
        Sample("biased", (_u(rng, (3, 4)),), kw={"dim": 1, "unbiased": False}),
        Sample("correction0", (_u(rng, (5,)),), kw={"correction": 0}),
        Sample("correction2", (_u(rng, (2, 5)),), kw={"dim": 1, "correction": 2}),
        Sample("empty_dim1", (_u(rng, (0, 3)),), kw={"dim": 1}),
        Sample("noncontig", (_u(rng, (3, 4)),), kw={"dim": 1}, noncontig=True),
    ]


def _softmax_samples(rng):
    return [
        Sample("dim1", (_u(rng, (3, 4)),), kw={"dim": 1}),
        Sample("dim0", (_u(rng, (3, 4)),), kw={"dim": 0}),
        Sample("dim_neg_rank3", (_u(rng, (2, 3, 2)),), kw={"dim": -1}),
        Sample("vector", (_u(rng, (5,)),), kw={"dim": 0}),
        Sample("scalar_0d", (_u(rng, ()),), kw={"dim": 0}),
        Sample("empty", (_u(rng, (0, 3)),), kw={"dim": 1}),
        Sample("noncontig", (_u(rng, (3, 4)),), kw={"dim": 1}, noncontig=True),
    ]


def _logsumexp_samples(rng):
    return [
        Sample("dim1", (_u(rng, (3, 4)),), kw={"dim": 1}),
        Sample("dim0_keepdim", (_u(rng, (3, 4)),), kw={"dim": 0, "keepdim": True}),
        Sample("dims_tuple", (_u(rng, (2, 3, 2)),), kw={"dim": (0, 2)}),
        Sample("large_values", (_u(rng, (2, 3), 500.0, 700.0),), kw={"dim": 1}),
        Sample("scalar_0d", (_u(rng, ()),), kw={"dim": 0}),
        Sample("empty_dim1", (_u(rng, (0, 3)),), kw={"dim": 1}),
        Sample("noncontig", (_u(rng, (3, 4)),), kw={"dim": 1}, noncontig=True),
    ]


def _clamp_samples(rng):
    def gen(shape, bounds=(-0.5, 0.7)):
        v = _u(rng, shape)
        for b in bounds:  # keep clear of the kinks at the bounds
            v = np.where(np.abs(v - b) < 0.1, b + 0.2 * np.sign(v - b + 1e-12), v)
        return v
    lo = _u(rng, (4,), -1.0, -0.2)
    return [
        Sample("min_max", (gen((3, 4)),), kw={"min": -0.5, "max": 0.7}),
        Sample("min_only", (gen((5,)),), kw={"min": -0.5}),
        Sample("max_only", (gen((2, 3)),), kw={"max": 0.7}),
        Sample("scalar_0d", (gen(()),), kw={"min": -0.5, "max": 0.7}),
        Sample("empty", (gen((0, 3)),), kw={"min": -0.5, "max": 0.7}),
        Sample("noncontig", (gen((3, 4)),), kw={"min": -0.5, "max": 0.7}, noncontig=True),
        Sample("tensor_bounds_bcast", (_u(rng, (3, 4)) * 1.5, lo, lo + 1.2),
               call="pg.clamp(x, y, z)", ref=lambda x, y, z: _clamp(x, y, z), twice=True),
        Sample("tensor_min_method", (_u(rng, (3, 4)), lo), call="x.clamp(min=y)",
               ref=lambda x, y: _clamp(x, y)),
    ]


def _where_samples(rng):
    def mask(shape):
        return rng.random(shape) < 0.5
    return [
        Sample("same", (_u(rng, (3, 4)), _u(rng, (3, 4))), consts={"c": mask((3, 4))}),
        Sample("bcast", (_u(rng, (4,)), _u(rng, (3, 1))), consts={"c": mask((3, 4))}),
        Sample("bcast_cond", (_u(rng, (3, 4)), _u(rng, (3, 4))), consts={"c": mask((4,))}),
        Sample("scalar_0d", (_u(rng, ()), _u(rng, ())), consts={"c": np.array(True)}),
        Sample("empty", (_u(rng, (0, 3)), _u(rng, (3,))), consts={"c": mask((0, 3))}),
        Sample("noncontig", (_u(rng, (3, 4)), _u(rng, (3, 4))), consts={"c": mask((3, 4))},
               noncontig=True),
        Sample("number_other", (_u(rng, (3, 4)),), consts={"c": mask((3, 4))},
               call="pg.where(c, x, 0.5)", ref=lambda x, c: np.where(c, x, 0.5)),
        Sample("number_input", (_u(rng, (3, 4)),), consts={"c": mask((3, 4))},
               call="pg.where(c, -1.5, x)", ref=lambda x, c: np.where(c, -1.5, x)),
        Sample("method", (_u(rng, (3, 4)), _u(rng, (4,))), consts={"c": mask((3, 4))},
               call="x.where(c, y)"),
        Sample("masked_fill", (_u(rng, (3, 4)),), consts={"c": mask((3, 4))},
               call="x.masked_fill(c, 0.25)", ref=lambda x, c: np.where(c, 0.25, x)),
        Sample("masked_fill_bcast", (_u(rng, (2, 3, 4)),), consts={"c": mask((3, 1))},
               call="x.masked_fill(c, -2.0)", ref=lambda x, c: np.where(c, -2.0, x)),
        Sample("masked_fill_fn", (_u(rng, (3, 4)),), consts={"c": mask((3, 4))},
               call="pg.masked_fill(x, c, 1.5)", ref=lambda x, c: np.where(c, 1.5, x)),
        Sample("masked_fill_", (_u(rng, (3, 4)),), consts={"c": mask((3, 4))},
               call="x.clone().masked_fill_(c, 0.5)", ref=lambda x, c: np.where(c, 0.5, x)),
    ]


def _to_samples(rng):
    return [
        Sample("to_float64", (_u(rng, (3, 4)),), call="x.to(pg.float64)", out_dtype="float64"),
        Sample("double", (_u(rng, (5,)),), call="x.double()", out_dtype="float64"),
        Sample("float", (_u(rng, (2, 3)),), call="x.float()", out_dtype="float32"),
        Sample("to_dtype_kw", (_u(rng, ()),), call="x.to(dtype=pg.float32)",
               out_dtype="float32"),
        Sample("type_as", (_u(rng, (3,)),), consts={"t": np.zeros(1)}, call="x.type_as(t)",
               out_dtype="float64"),
        Sample("half", (_u(rng, (2, 3)),), call="x.half()", out_dtype="float16"),
        Sample("empty", (_u(rng, (0, 3)),), call="x.double()", out_dtype="float64"),
        Sample("noncontig", (_u(rng, (3, 4)),), call="x.float()", out_dtype="float32",
               noncontig=True),
        # bk is the backend under test: a round trip through the NumPy backend and back
        Sample("backend_round_trip", (_u(rng, (2, 3)),), call="x.to('numpy').to(bk) * 2",
               ref=lambda x: x * 2),
        Sample("backend_and_dtype", (_u(rng, (3,)),), call="x.to('numpy', pg.float64)",
               out_dtype="float64"),
        # devices: to the CPU (no move for a tensor already on a CPU backend) and back
        Sample("cpu", (_u(rng, (2, 3)),), call="x.cpu().to(bk) * 2", ref=lambda x: x * 2),
        Sample("to_device", (_u(rng, (3,)),), call="x.to(pg.device('cpu')).to(bk) - 1",
               ref=lambda x: x - 1),
        Sample("device_kw", (_u(rng, (3,)),), call="x.to(device='cpu', dtype=pg.float64)",
               out_dtype="float64"),
    ]


def _to_integer_samples(rng):
    def gen(shape):
        v = _u(rng, shape, -4.0, 4.0)
        v.flat[::3] = 0.0
        return v
    return [
        Sample("long", (gen((3, 4)),), call="x.long()",
               ref=lambda x: np.trunc(x).astype(np.int64)),
        Sample("int", (gen((5,)),), call="x.int()", ref=lambda x: np.trunc(x).astype(np.int32)),
        Sample("bool", (gen((2, 3)),), call="x.bool()", ref=lambda x: x != 0),
        Sample("scalar_0d", (gen(()),), call="x.long()",
               ref=lambda x: np.trunc(x).astype(np.int64)),
        Sample("empty", (gen((0, 3)),), call="x.long()",
               ref=lambda x: np.trunc(x).astype(np.int64)),
        Sample("noncontig", (gen((3, 4)),), call="x.bool()", ref=lambda x: x != 0,
               noncontig=True),
    ]


def _comparison_samples(rng):
    def gen(shape):  # small integers as floats: equal elements happen
        return rng.integers(-2, 3, size=shape).astype(np.float64)
    out = [Sample(desc, (gen(sx), gen(sy)), noncontig=nc) for desc, sx, sy, nc in BINARY_SHAPES]
    out.append(Sample("number", (gen((3, 4)),), call="x {op} 1.0"))
    return out


def _logical_samples(rng):
    # torch also takes numeric tensors here; plugrad takes bool tensors only, for now
    def mask(shape):
        return rng.random(shape) < 0.5
    return [Sample(desc, (), consts={"a": mask(sx), "b": mask(sy)}) for desc, sx, sy, _ in
            BINARY_SHAPES if desc != "noncontig"]


def _reshape_samples(rng):
    return [
        Sample("swap", (_u(rng, (3, 4)),), call="x.reshape(4, 3)", ref=lambda x: x.reshape(4, 3)),
        Sample("infer", (_u(rng, (2, 3, 2)),), call="pg.reshape(x, (2, -1))",
               ref=lambda x: x.reshape(2, -1)),
        Sample("to_0d", (_u(rng, (1,)),), call="x.reshape(())", ref=lambda x: x.reshape(())),
        Sample("from_0d", (_u(rng, ()),), call="x.reshape(1, 1)", ref=lambda x: x.reshape(1, 1)),
        Sample("empty", (_u(rng, (0, 3)),), call="x.reshape(3, 0)",
               ref=lambda x: x.reshape(3, 0)),
        Sample("noncontig", (_u(rng, (3, 4)),), call="x.reshape(-1)",
               ref=lambda x: x.reshape(-1), noncontig=True),
        Sample("reshape_as", (_u(rng, (3, 4)),), consts={"t": np.zeros((2, 6))},
               call="x.reshape_as(t)", ref=lambda x, t: x.reshape(2, 6)),
    ]


def _view_samples(rng):
    return [
        Sample("swap", (_u(rng, (3, 4)),), call="x.view(4, 3)", ref=lambda x: x.reshape(4, 3)),
        Sample("infer", (_u(rng, (2, 3, 2)),), call="pg.view(x, (-1,))",
               ref=lambda x: x.reshape(-1)),
        Sample("to_0d", (_u(rng, (1, 1)),), call="x.view(())", ref=lambda x: x.reshape(())),
        Sample("from_0d", (_u(rng, ()),), call="x.view(1)", ref=lambda x: x.reshape(1)),
        Sample("empty", (_u(rng, (0, 3)),), call="x.view(3, 0, 1)",
               ref=lambda x: x.reshape(3, 0, 1)),
        Sample("noncontig_split_last", (_u(rng, (3, 4)),), call="x.view(3, 2, 2)",
               ref=lambda x: x.reshape(3, 2, 2), noncontig=True),
        Sample("view_as", (_u(rng, (3, 4)),), consts={"t": np.zeros((6, 2))},
               call="x.view_as(t)", ref=lambda x, t: x.reshape(6, 2)),
    ]


def _flatten_samples(rng):
    return [
        Sample("all", (_u(rng, (2, 3, 2)),), call="x.flatten()", ref=lambda x: x.reshape(-1)),
        Sample("start1", (_u(rng, (2, 3, 2)),), call="pg.flatten(x, 1)",
               ref=lambda x: x.reshape(2, -1)),
        Sample("middle", (_u(rng, (2, 3, 2, 2)),), call="x.flatten(1, 2)",
               ref=lambda x: x.reshape(2, 6, 2)),
        Sample("scalar_0d", (_u(rng, ()),), call="x.flatten()", ref=lambda x: x.reshape(1)),
        Sample("empty", (_u(rng, (0, 3)),), call="x.flatten()", ref=lambda x: x.reshape(-1)),
        Sample("noncontig", (_u(rng, (3, 4)),), call="x.flatten()",
               ref=lambda x: x.reshape(-1), noncontig=True),
    ]


def _squeeze_samples(rng):
    return [
        Sample("all", (_u(rng, (3, 1, 4, 1)),), call="x.squeeze()", ref=np.squeeze),
        Sample("dim", (_u(rng, (3, 1, 4)),), call="pg.squeeze(x, 1)",
               ref=lambda x: np.squeeze(x, 1)),
        Sample("dim_not_one", (_u(rng, (3, 1, 4)),), call="x.squeeze(0)", ref=lambda x: x),
        Sample("scalar_0d", (_u(rng, ()),), call="x.squeeze()", ref=lambda x: x),
        Sample("empty", (_u(rng, (0, 1, 3)),), call="x.squeeze(1)",
               ref=lambda x: np.squeeze(x, 1)),
        Sample("noncontig", (_u(rng, (1, 3, 4)),), call="x.squeeze(0)",
               ref=lambda x: np.squeeze(x, 0), noncontig=True),
    ]


def _unsqueeze_samples(rng):
    return [
        Sample("front", (_u(rng, (3, 4)),), call="x.unsqueeze(0)",
               ref=lambda x: np.expand_dims(x, 0)),
        Sample("back", (_u(rng, (3, 4)),), call="pg.unsqueeze(x, -1)",
               ref=lambda x: np.expand_dims(x, -1)),
        Sample("middle", (_u(rng, (3, 4)),), call="x.unsqueeze(1)",
               ref=lambda x: np.expand_dims(x, 1)),
        Sample("scalar_0d", (_u(rng, ()),), call="x.unsqueeze(0)",
               ref=lambda x: np.expand_dims(x, 0)),
        Sample("empty", (_u(rng, (0, 3)),), call="x.unsqueeze(2)",
               ref=lambda x: np.expand_dims(x, 2)),
        Sample("noncontig", (_u(rng, (3, 4)),), call="x.unsqueeze(1)",
               ref=lambda x: np.expand_dims(x, 1), noncontig=True),
    ]


def _permute_samples(rng):
    return [
        Sample("rank3", (_u(rng, (2, 3, 4)),), call="x.permute(2, 0, 1)",
               ref=lambda x: np.transpose(x, (2, 0, 1))),
        Sample("tuple", (_u(rng, (3, 4)),), call="pg.permute(x, (1, 0))", ref=np.transpose),
        Sample("negative", (_u(rng, (2, 3, 4)),), call="x.permute(-1, 1, 0)",
               ref=lambda x: np.transpose(x, (2, 1, 0))),
        Sample("scalar_0d", (_u(rng, ()),), call="x.permute()", ref=lambda x: x),
        Sample("empty", (_u(rng, (0, 3)),), call="x.permute(1, 0)", ref=np.transpose),
        Sample("noncontig", (_u(rng, (3, 4)),), call="x.permute(1, 0)", ref=np.transpose,
               noncontig=True),
    ]


def _transpose_samples(rng):
    return [
        Sample("matrix", (_u(rng, (3, 4)),), call="x.transpose(0, 1)", ref=np.transpose),
        Sample("rank3", (_u(rng, (2, 3, 4)),), call="pg.transpose(x, -1, 0)",
               ref=lambda x: np.swapaxes(x, -1, 0)),
        Sample("same_dim", (_u(rng, (3, 4)),), call="x.transpose(1, 1)", ref=lambda x: x),
        Sample("swapaxes", (_u(rng, (2, 3, 4)),), call="x.swapaxes(0, 2)",
               ref=lambda x: np.swapaxes(x, 0, 2)),
        Sample("swapaxes_fn", (_u(rng, (3, 4)),), call="pg.swapaxes(x, 0, 1)", ref=np.transpose),
        Sample("T", (_u(rng, (3, 4)),), call="x.T", ref=np.transpose),
        Sample("T_vector", (_u(rng, (4,)),), call="x.T", ref=lambda x: x),
        Sample("mT", (_u(rng, (2, 3, 4)),), call="x.mT", ref=lambda x: np.swapaxes(x, -1, -2)),
        Sample("empty", (_u(rng, (0, 3)),), call="x.transpose(0, 1)", ref=np.transpose),
        Sample("noncontig", (_u(rng, (3, 4)),), call="x.mT", ref=np.transpose,
               noncontig=True),
    ]


def _movedim_samples(rng):
    return [
        Sample("front_to_back", (_u(rng, (2, 3, 4)),), call="x.movedim(0, 2)",
               ref=lambda x: np.moveaxis(x, 0, 2)),
        Sample("negative", (_u(rng, (2, 3, 4)),), call="pg.movedim(x, -1, 0)",
               ref=lambda x: np.moveaxis(x, -1, 0)),
        Sample("empty", (_u(rng, (0, 3)),), call="x.movedim(1, 0)", ref=np.transpose),
        Sample("noncontig", (_u(rng, (3, 4)),), call="x.movedim(0, 1)", ref=np.transpose,
               noncontig=True),
    ]


def _expand_samples(rng):
    return [
        Sample("column", (_u(rng, (3, 1)),), call="x.expand(3, 4)",
               ref=lambda x: np.broadcast_to(x, (3, 4))),
        Sample("new_leading", (_u(rng, (3, 1)),), call="pg.expand(x, (2, 3, 4))",
               ref=lambda x: np.broadcast_to(x, (2, 3, 4))),
        Sample("keep_minus1", (_u(rng, (3, 1)),), call="x.expand(-1, 5)",
               ref=lambda x: np.broadcast_to(x, (3, 5))),
        Sample("scalar_0d", (_u(rng, ()),), call="x.expand(2, 3)",
               ref=lambda x: np.broadcast_to(x, (2, 3))),
        Sample("to_empty", (_u(rng, (1, 3)),), call="x.expand(0, 3)",
               ref=lambda x: np.broadcast_to(x, (0, 3))),
        Sample("expand_as", (_u(rng, (4,)),), consts={"t": np.zeros((3, 4))},
               call="x.expand_as(t)", ref=lambda x, t: np.broadcast_to(x, (3, 4))),
        Sample("broadcast_to", (_u(rng, (1, 4)),), call="pg.broadcast_to(x, (2, 3, 4))",
               ref=lambda x: np.broadcast_to(x, (2, 3, 4))),
        Sample("noncontig", (_u(rng, (3, 1)),), call="x.expand(2, 3, 4)",
               ref=lambda x: np.broadcast_to(x, (2, 3, 4)), noncontig=True),
    ]


def _cat_samples(rng):
    return [
        Sample("dim0", (_u(rng, (2, 3)), _u(rng, (1, 3))), call="pg.cat([x, y])",
               ref=lambda x, y: np.concatenate([x, y])),
        Sample("dim1_three", (_u(rng, (2, 3)), _u(rng, (2, 1)), _u(rng, (2, 2))),
               call="pg.cat((x, y, z), dim=1)", ref=lambda x, y, z: np.concatenate([x, y, z], 1)),
        Sample("concat_neg", (_u(rng, (2, 2, 2)), _u(rng, (2, 2, 3))),
               call="pg.concat([x, y], -1)", ref=lambda x, y: np.concatenate([x, y], -1)),
        Sample("one", (_u(rng, (3,)),), call="pg.cat([x])", ref=lambda x: x.copy()),
        Sample("empty_piece", (_u(rng, (0, 3)), _u(rng, (2, 3))), call="pg.cat([x, y])",
               ref=lambda x, y: np.concatenate([x, y])),
        Sample("noncontig", (_u(rng, (3, 4)), _u(rng, (3, 2))), call="pg.cat([x, y], 1)",
               ref=lambda x, y: np.concatenate([x, y], 1), noncontig=True),
    ]


def _stack_samples(rng):
    return [
        Sample("dim0", (_u(rng, (2, 3)), _u(rng, (2, 3))), call="pg.stack([x, y])",
               ref=lambda x, y: np.stack([x, y])),
        Sample("dim1", (_u(rng, (2, 3)), _u(rng, (2, 3)), _u(rng, (2, 3))),
               call="pg.stack((x, y, z), dim=1)", ref=lambda x, y, z: np.stack([x, y, z], 1)),
        Sample("dim_neg", (_u(rng, (3,)), _u(rng, (3,))), call="pg.stack([x, y], -1)",
               ref=lambda x, y: np.stack([x, y], -1)),
        Sample("scalars_0d", (_u(rng, ()), _u(rng, ())), call="pg.stack([x, y])",
               ref=lambda x, y: np.stack([x, y])),
        Sample("empty", (_u(rng, (0, 3)), _u(rng, (0, 3))), call="pg.stack([x, y], 1)",
               ref=lambda x, y: np.stack([x, y], 1)),
        Sample("noncontig", (_u(rng, (3, 4)), _u(rng, (3, 4))), call="pg.stack([x, y], 2)",
               ref=lambda x, y: np.stack([x, y], 2), noncontig=True),
    ]


def _split_samples(rng):
    return [
        Sample("size", (_u(rng, (5, 3)),), call="pg.split(x, 2)",
               ref=lambda x: tuple(np.split(x, [2, 4]))),
        Sample("sections", (_u(rng, (2, 4)),), call="x.split([1, 3], dim=1)",
               ref=lambda x: tuple(np.split(x, [1], axis=1))),
        Sample("size_neg_dim", (_u(rng, (2, 4)),), call="x.split(2, -1)",
               ref=lambda x: tuple(np.split(x, [2], axis=-1))),
        Sample("empty_section", (_u(rng, (3, 2)),), call="x.split([0, 3])",
               ref=lambda x: (x[:0], x.copy())),
        Sample("empty", (_u(rng, (0, 4)),), call="x.split(2, 1)",
               ref=lambda x: (x[:, :2], x[:, 2:])),
        Sample("noncontig", (_u(rng, (4, 3)),), call="x.split(3, 0)",
               ref=lambda x: (x[:3], x[3:]), noncontig=True),
    ]


def _chunk_samples(rng):
    return [
        Sample("even", (_u(rng, (4, 3)),), call="x.chunk(2)",
               ref=lambda x: (x[:2], x[2:])),
        Sample("uneven_dim1", (_u(rng, (2, 5)),), call="pg.chunk(x, 3, dim=1)",
               ref=lambda x: (x[:, :2], x[:, 2:4], x[:, 4:])),
        Sample("more_chunks_than_rows", (_u(rng, (2, 3)),), call="x.chunk(4)",
               ref=lambda x: (x[:1], x[1:])),
        Sample("empty", (_u(rng, (0, 4)),), call="x.chunk(2, 1)",
               ref=lambda x: (x[:, :2], x[:, 2:])),
        Sample("noncontig", (_u(rng, (3, 4)),), call="x.chunk(2, 1)",
               ref=lambda x: (x[:, :2], x[:, 2:]), noncontig=True),
    ]


def _unbind_samples(rng):
    return [
        Sample("dim0", (_u(rng, (3, 2)),), call="x.unbind()", ref=lambda x: tuple(x)),
        Sample("dim1", (_u(rng, (2, 3)),), call="pg.unbind(x, 1)",
               ref=lambda x: tuple(x[:, i] for i in range(3))),
        Sample("vector", (_u(rng, (3,)),), call="x.unbind(0)", ref=lambda x: tuple(x)),
        Sample("empty", (_u(rng, (0, 2)),), call="x.unbind(1)",
               ref=lambda x: (x[:, 0], x[:, 1])),
        Sample("noncontig", (_u(rng, (3, 4)),), call="x.unbind(1)",
               ref=lambda x: tuple(x[:, i] for i in range(4)), noncontig=True),
    ]


def _narrow_samples(rng):
    return [
        Sample("dim1", (_u(rng, (3, 4)),), call="x.narrow(1, 1, 2)", ref=lambda x: x[:, 1:3]),
        Sample("dim0_fn", (_u(rng, (3, 4)),), call="pg.narrow(x, 0, 0, 1)",
               ref=lambda x: x[0:1]),
        Sample("negative_dim", (_u(rng, (2, 3, 4)),), call="x.narrow(-1, 2, 2)",
               ref=lambda x: x[..., 2:4]),
        Sample("empty", (_u(rng, (3, 4)),), call="x.narrow(0, 1, 0)", ref=lambda x: x[1:1]),
        Sample("noncontig", (_u(rng, (3, 4)),), call="x.narrow(1, 0, 3)",
               ref=lambda x: x[:, 0:3], noncontig=True),
    ]


def _windows_ref(size, step, axis):
    def ref(x):
        w = np.lib.stride_tricks.sliding_window_view(np.moveaxis(x, axis, -1), size, axis=-1)
        return np.moveaxis(w[..., ::step, :], -2, axis)
    return ref


def _unfold_samples(rng):
    return [
        Sample("vector", (_u(rng, (7,)),), call="x.unfold(0, 3, 2)", ref=_windows_ref(3, 2, 0)),
        Sample("overlap_dim1", (_u(rng, (2, 5, 3)),), call="x.unfold(1, 2, 1)",
               ref=_windows_ref(2, 1, 1)),
        Sample("negative_dim", (_u(rng, (3, 6)),), call="x.unfold(-1, 3, 3)",
               ref=_windows_ref(3, 3, 1)),
        Sample("whole_dim", (_u(rng, (4, 2)),), call="x.unfold(0, 4, 1)",
               ref=_windows_ref(4, 1, 0)),
        Sample("noncontig", (_u(rng, (3, 4)),), call="x.unfold(1, 2, 2)",
               ref=_windows_ref(2, 2, 1), noncontig=True),
        Sample("empty", (_u(rng, (0, 5)),), call="x.unfold(1, 2, 1)",
               ref=_windows_ref(2, 1, 1)),
    ]


def _getitem_samples(rng):
    idx = np.array([2, 0, 2, 1], dtype=np.int64)
    mask = rng.random((3, 4)) < 0.5
    return [
        Sample("int", (_u(rng, (3, 4)),), call="x[1]", ref=lambda x: x[1]),
        Sample("negative_int", (_u(rng, (3, 4)),), call="x[-1, 2]", ref=lambda x: x[-1, 2]),
        Sample("slices", (_u(rng, (4, 5)),), call="x[1:, ::2]", ref=lambda x: x[1:, ::2]),
        Sample("ellipsis_none", (_u(rng, (2, 3, 4)),), call="x[..., None, 1:3]",
               ref=lambda x: x[..., None, 1:3]),
        Sample("int_tensor_repeats", (_u(rng, (3, 4)),), consts={"i": idx}, call="x[i]",
               ref=lambda x, i: x[i]),
        Sample("int_tensor_dim1", (_u(rng, (3, 4)),), consts={"i": idx}, call="x[:, i]",
               ref=lambda x, i: x[:, i]),
        Sample("list", (_u(rng, (3, 4)),), call="x[[0, 2, 0]]", ref=lambda x: x[[0, 2, 0]]),
        Sample("mixed_int_list", (_u(rng, (3, 4)),), call="x[1, [3, 0]]",
               ref=lambda x: x[1, [3, 0]]),
        Sample("bool_mask", (_u(rng, (3, 4)),), consts={"m": mask}, call="x[m]",
               ref=lambda x, m: x[m]),
        Sample("scalar_0d", (_u(rng, ()),), call="x[()]", ref=lambda x: x[()]),
        Sample("scalar_0d_none", (_u(rng, ()),), call="x[None]", ref=lambda x: x[None]),
        Sample("empty_slice", (_u(rng, (3, 4)),), call="x[2:2]", ref=lambda x: x[2:2]),
        Sample("noncontig", (_u(rng, (3, 4)),), call="x[1:, 1]", ref=lambda x: x[1:, 1],
               noncontig=True),
    ]


def _matmul_samples(rng):
    return [
        Sample("matrix_matrix", (_u(rng, (3, 4)), _u(rng, (4, 2)))),
        Sample("vector_vector", (_u(rng, (4,)), _u(rng, (4,)))),
        Sample("matrix_vector", (_u(rng, (3, 4)), _u(rng, (4,)))),
        Sample("vector_matrix", (_u(rng, (4,)), _u(rng, (4, 2)))),
        Sample("batched", (_u(rng, (2, 3, 4)), _u(rng, (4, 5)))),
        Sample("batch_bcast", (_u(rng, (2, 1, 3, 4)), _u(rng, (3, 4, 2)))),
        Sample("vector_batched", (_u(rng, (4,)), _u(rng, (2, 4, 3)))),
        Sample("empty", (_u(rng, (0, 4)), _u(rng, (4, 3)))),
        Sample("empty_inner", (_u(rng, (2, 0)), _u(rng, (0, 3)))),
        Sample("noncontig", (_u(rng, (3, 4)), _u(rng, (4, 2))), noncontig=True),
    ]


def _mm_samples(rng):
    return [
        Sample("square", (_u(rng, (3, 3)), _u(rng, (3, 3)))),
        Sample("rect", (_u(rng, (2, 4)), _u(rng, (4, 3)))),
        Sample("empty", (_u(rng, (0, 4)), _u(rng, (4, 3)))),
        Sample("noncontig", (_u(rng, (3, 4)), _u(rng, (4, 2))), noncontig=True),
    ]


def _bmm_samples(rng):
    return [
        Sample("batch", (_u(rng, (2, 3, 4)), _u(rng, (2, 4, 2)))),
        Sample("batch_one", (_u(rng, (1, 2, 2)), _u(rng, (1, 2, 3)))),
        Sample("empty_batch", (_u(rng, (0, 2, 3)), _u(rng, (0, 3, 2)))),
        Sample("noncontig", (_u(rng, (2, 3, 4)), _u(rng, (2, 4, 2))), noncontig=True),
    ]


def _dot_samples(rng):
    return [
        Sample("vector", (_u(rng, (5,)), _u(rng, (5,)))),
        Sample("one", (_u(rng, (1,)), _u(rng, (1,)))),
        Sample("empty", (_u(rng, (0,)), _u(rng, (0,)))),
        Sample("noncontig", (_u(rng, (4,)), _u(rng, (4,))), noncontig=True),
    ]


# -- plugrad.linalg: inverses, solves, determinants, factorizations, norms ---------------------
def _well(rng, shape):
    """Well-conditioned square matrices: uniform entries plus 3 I (float32 keeps its digits)."""
    return _u(rng, shape, -1.0, 1.0) + 3 * np.eye(shape[-1])


def _mT(a):  # noqa: N802
    return np.swapaxes(a, -1, -2)


def _sym(a):
    return (a + _mT(a)) * 0.5


def _square_samples(gen=_well):
    def samples(rng):
        flipped = gen(rng, (3, 3))
        flipped[0] *= -1  # a negative determinant
        return [Sample("matrix", (gen(rng, (3, 3)),)), Sample("one", (gen(rng, (1, 1)),)),
                Sample("batch", (gen(rng, (2, 3, 3)),)),
                Sample("batch2", (gen(rng, (2, 1, 2, 2)),)),
                Sample("negative_det", (flipped,)),
                Sample("empty", (gen(rng, (0, 3, 3)),)),
                Sample("noncontig", (gen(rng, (3, 3)),), noncontig=True)]
    return samples


def _spd_samples(rng):
    return [s for s in _square_samples()(rng) if s.desc != "negative_det"]


def _solve_samples(rng):
    return [
        Sample("matrix", (_well(rng, (3, 3)), _u(rng, (3, 2)))),
        Sample("vector", (_well(rng, (3, 3)), _u(rng, (3,)))),
        Sample("batch_vector", (_well(rng, (2, 3, 3)), _u(rng, (2, 3)))),
        Sample("batch_bcast", (_well(rng, (2, 1, 3, 3)), _u(rng, (4, 3, 2)))),
        Sample("left_false", (_well(rng, (3, 3)), _u(rng, (2, 3))),
               call="pg.linalg.solve(x, y, left=False)",
               ref=lambda x, y: _mT(np.linalg.solve(_mT(x), _mT(y)))),
        Sample("empty", (_well(rng, (0, 3, 3)), _u(rng, (0, 3, 2)))),
        Sample("noncontig", (_well(rng, (3, 3)), _u(rng, (3, 2))), noncontig=True),
    ]


def _solve_ref(x, y):
    vector = y.ndim == 1 or (y.ndim == x.ndim - 1 and y.shape == x.shape[:-1])
    out = np.linalg.solve(x, y[..., None] if vector else y)
    return out[..., 0] if vector else out


def _cholesky_samples(rng):
    return [
        Sample("linalg", (_well(rng, (3, 3)),), call="pg.linalg.cholesky((x + x.mT) * 0.5)"),
        Sample("linalg_upper", (_well(rng, (2, 3, 3)),),
               call="pg.linalg.cholesky((x + x.mT) * 0.5, upper=True)",
               ref=lambda x: _mT(np.linalg.cholesky(_sym(x)))),
        Sample("torch_cholesky", (_well(rng, (3, 3)),), call="pg.cholesky((x + x.mT) * 0.5)"),
        Sample("method_upper", (_well(rng, (2, 2)),),
               call="((x + x.mT) * 0.5).cholesky(upper=True)",
               ref=lambda x: _mT(np.linalg.cholesky(_sym(x)))),
        Sample("ex", (_well(rng, (2, 3, 3)),), call="pg.linalg.cholesky_ex((x + x.mT) * 0.5).L"),
        Sample("empty", (_well(rng, (0, 3, 3)),), call="pg.linalg.cholesky((x + x.mT) * 0.5)"),
        Sample("noncontig", (_well(rng, (3, 3)),), call="pg.linalg.cholesky((x + x.mT) * 0.5)",
               noncontig=True),
    ]


def _qr_samples(rng):
    return [Sample(desc, (_u(rng, shape),), kw=kw) for desc, shape, kw in (
        ("tall", (4, 3), {}), ("square", (3, 3), {}), ("wide", (3, 5), {}),
        ("batch", (2, 4, 3), {}), ("complete_wide", (3, 5), {"mode": "complete"}),
        ("empty", (0, 4, 3), {}))] + \
        [Sample("noncontig", (_u(rng, (4, 3)),), noncontig=True)]


def _svd_ref(x):
    u, s, vh = np.linalg.svd(x, full_matrices=False)
    return s, u @ vh


def _svd_samples(rng):
    call = ("(pg.linalg.svd(x, full_matrices=False).S, pg.linalg.svd(x)[0][..., :, :{k}] @ "
            "pg.linalg.svd(x)[2][..., :{k}, :])")
    out = []
    for desc, shape in (("tall", (4, 3)), ("square", (3, 3)), ("wide", (3, 5)),
                        ("batch", (2, 4, 3)), ("empty", (0, 4, 3)), ("noncontig", (3, 4))):
        out.append(Sample(desc, (_u(rng, shape),), call=call.format(k=min(shape[-2:])),
                          ref=_svd_ref, noncontig=desc == "noncontig"))
    out.append(Sample("svdvals", (_u(rng, (2, 3, 4)),), call="pg.linalg.svdvals(x)",
                      ref=lambda x: np.linalg.svd(x, compute_uv=False)))
    return out


def _eigh_ref(x):
    w, v = np.linalg.eigh(x + _mT(x))
    return w, v * v


def _eigh_samples(rng):
    call = "(pg.linalg.eigh(x + x.mT).eigenvalues, pg.linalg.eigh(x + x.mT)[1] ** 2)"
    return [
        Sample("matrix", (_u(rng, (3, 3)),), call=call, ref=_eigh_ref),
        Sample("batch", (_u(rng, (2, 4, 4)),), call=call, ref=_eigh_ref),
        Sample("empty", (_u(rng, (0, 3, 3)),), call=call, ref=_eigh_ref),
        Sample("noncontig", (_u(rng, (3, 3)),), call=call, ref=_eigh_ref, noncontig=True),
        Sample("upper", (_u(rng, (3, 3)),), call="pg.linalg.eigh(x, UPLO='U').eigenvalues",
               ref=lambda x: np.linalg.eigvalsh(x, UPLO="U"), grad=False),
        # (grad=False: the gradient is torch's, for the symmetric matrix, while the values
        # depend on one triangle only)
        Sample("eigvalsh", (_u(rng, (2, 3, 3)),), call="pg.linalg.eigvalsh(x + x.mT)",
               ref=lambda x: np.linalg.eigvalsh(x + _mT(x))),
    ]


def _lstsq_samples(rng):
    ref = lambda x, y: np.linalg.pinv(x) @ y  # noqa: E731 - full rank: least squares, least norm
    return [Sample(desc, (_u(rng, sa), _u(rng, sb)), ref=ref) for desc, sa, sb in (
        ("tall", (5, 3), (5, 2)), ("wide", (3, 5), (3, 2)), ("batch", (2, 4, 3), (2, 4, 2)),
        ("empty", (0, 4, 3), (0, 4, 2)))] + \
        [Sample("vector", (_u(rng, (5, 3)), _u(rng, (5,))), ref=ref),
         Sample("noncontig", (_u(rng, (5, 3)), _u(rng, (5, 2))), ref=ref, noncontig=True)]


def _norm_samples_linalg(rng):
    return [
        Sample("vector_default", (_away(rng, (3, 4)),), call="pg.linalg.vector_norm(x)",
               ref=lambda x: np.sqrt(np.sum(x * x))),
        Sample("vector_dim", (_away(rng, (3, 4)),), call="pg.linalg.vector_norm(x, 3, dim=1)",
               ref=lambda x: np.linalg.norm(x, 3, 1)),
        Sample("vector_inf", (_away(rng, (2, 5)),),
               call="pg.linalg.vector_norm(x, float('inf'), dim=-1, keepdim=True)",
               ref=lambda x: np.linalg.norm(x, np.inf, -1, True)),
        Sample("matrix_fro", (_u(rng, (2, 3, 4)),), call="pg.linalg.matrix_norm(x)",
               ref=lambda x: np.linalg.norm(x, "fro", (-2, -1))),
        Sample("matrix_nuc", (_u(rng, (3, 4)),), call="pg.linalg.matrix_norm(x, 'nuc')",
               ref=lambda x: np.linalg.norm(x, "nuc")),
        Sample("matrix_2", (_u(rng, (2, 3, 3)),), call="pg.linalg.matrix_norm(x, 2)",
               ref=lambda x: np.linalg.norm(x, 2, (-2, -1))),
        Sample("matrix_1", (_away(rng, (3, 4)),), call="pg.linalg.matrix_norm(x, 1)",
               ref=lambda x: np.linalg.norm(x, 1)),
        Sample("matrix_-inf_dims", (_away(rng, (3, 2, 4)),),
               call="pg.linalg.matrix_norm(x, -float('inf'), dim=(2, 0), keepdim=True)",
               ref=lambda x: np.linalg.norm(x, -np.inf, (2, 0), True)),
        Sample("norm_default", (_u(rng, (3, 4)),), call="pg.linalg.norm(x)",
               ref=lambda x: np.linalg.norm(x)),
        Sample("norm_vector", (_away(rng, (5,)),), call="pg.linalg.norm(x, 1)",
               ref=lambda x: np.linalg.norm(x, 1)),
        Sample("norm_matrix", (_u(rng, (3, 4)),), call="pg.linalg.norm(x, -2)",
               ref=lambda x: np.linalg.norm(x, -2)),
        Sample("norm_dim", (_u(rng, (3, 4)),), call="pg.linalg.norm(x, dim=0, keepdim=True)",
               ref=lambda x: np.linalg.norm(x, 2, 0, True)),
        Sample("empty", (_u(rng, (0, 3)),), call="pg.linalg.vector_norm(x, dim=1)",
               ref=lambda x: np.linalg.norm(x, 2, 1)),
        Sample("noncontig", (_u(rng, (3, 4)),), call="pg.linalg.norm(x, 'fro', dim=(0, 1))",
               ref=lambda x: np.linalg.norm(x), noncontig=True),
    ]


LINALG_OPS: tuple = (
    OpInfo("linalg_inv", ("pg.linalg.inv(x)", "pg.inverse(x)", "x.inverse()",
                          "pg.linalg.inv_ex(x).inverse"), np.linalg.inv, _square_samples()),
    OpInfo("linalg_det", ("pg.linalg.det(x)", "pg.det(x)", "x.det()"), np.linalg.det,
           _square_samples(), fwd_rtol={"float32": 1e-4}),
    OpInfo("linalg_slogdet", ("pg.linalg.slogdet(x)", "pg.slogdet(x)", "x.slogdet()"),
           lambda x: tuple(np.linalg.slogdet(x)), _square_samples(),
           fwd_rtol={"float32": 1e-4}),
    OpInfo("linalg_logdet", ("pg.logdet(x)", "x.logdet()"),
           lambda x: np.linalg.slogdet(x)[1], _spd_samples, fwd_rtol={"float32": 1e-4}),
    OpInfo("linalg_solve", ("pg.linalg.solve(x, y)",), _solve_ref, _solve_samples,
           fwd_rtol={"float32": 1e-4}),
    OpInfo("linalg_cholesky", (), lambda x: np.linalg.cholesky(_sym(x)), _cholesky_samples,
           fwd_rtol={"float32": 1e-4}),
    OpInfo("linalg_qr", ("pg.linalg.qr(x, **kw)",), lambda x, mode="reduced":
           tuple(np.linalg.qr(x, mode)), _qr_samples, twice=False,
           fwd_rtol={"float32": 1e-4}, grad_rtol={"float32": 5e-3}),
    OpInfo("linalg_svd", (), _svd_ref, _svd_samples, twice=False,
           fwd_rtol={"float32": 1e-4}, grad_rtol={"float32": 5e-3}),
    OpInfo("linalg_eigh", (), _eigh_ref, _eigh_samples, twice=False,
           fwd_rtol={"float32": 1e-4}, grad_rtol={"float32": 5e-3}),
    OpInfo("linalg_lstsq", ("pg.linalg.lstsq(x, y).solution",), None, _lstsq_samples,
           twice=False, fwd_rtol={"float32": 1e-4}, grad_rtol={"float32": 5e-3}),
    OpInfo("linalg_norm", (), None, _norm_samples_linalg, fwd_rtol={"float32": 1e-4}),
)


def _pow_scalar_samples(rng):
    return [
        Sample("square", (_u(rng, (3, 4)),), call="x ** 2", ref=lambda x: x ** 2),
        Sample("cube_method", (_u(rng, (5,)),), call="x.pow(3)", ref=lambda x: x ** 3),
        Sample("fractional", (_pos(rng, (2, 3)),), call="x ** 2.5", ref=lambda x: x ** 2.5),
        Sample("negative_exponent", (_pos(rng, (4,)),), call="pg.pow(x, -1.5)",
               ref=lambda x: x ** -1.5),
        Sample("sqrt_exponent", (_pos(rng, ()),), call="x ** 0.5", ref=np.sqrt),
        Sample("zero_exponent", (_u(rng, (3,)),), call="x ** 0", ref=np.ones_like),
        Sample("empty", (_u(rng, (0, 2)),), call="x ** 3", ref=lambda x: x ** 3),
        Sample("noncontig", (_u(rng, (3, 4)),), call="x ** 2", ref=lambda x: x ** 2,
               noncontig=True),
    ]


def _eval_numpy(expr: str):
    """A reference that evaluates the sample's own expression on NumPy arrays (x, y, ...)."""
    def ref(*arrays, **consts):
        names = dict(zip("xyz", arrays))
        names.update(consts)
        names["np"] = np
        return eval(expr, {"__builtins__": {}}, names)
    return ref


def _scalar_ref_samples(gen, pairs):
    """Samples for forms with a Python number: (call, NumPy reference) pairs taken in turn."""
    def samples(rng):
        out = []
        shapes = (("vector", (4,), False), ("matrix", (2, 3), False), ("scalar_0d", (), False),
                  ("empty", (0, 2), False), ("noncontig", (3, 4), True))
        for i, (desc, shape, nc) in enumerate(shapes):
            call, ref = pairs[i % len(pairs)]
            out.append(Sample(desc, (gen(rng, shape),), call=call, ref=ref, noncontig=nc))
        return out
    return samples


# -- elementwise math: rounding, trigonometry, special functions, modulo ----------------------
def _off_grid(rng, shape, lo=-3.0, hi=3.0):
    """Values at least 0.1 away from every multiple of 0.5 (the jumps of floor, round, ...)."""
    v = rng.uniform(lo, hi, size=shape)
    near = np.round(v * 2) / 2
    return np.where(np.abs(v - near) < 0.1, near + 0.1 * np.where(v >= near, 1, -1) + 0.05, v)


def _unit(rng, shape):
    """Inside (-0.9, 0.9): the domain of asin, acos and erfinv, clear of its ends."""
    return rng.uniform(-0.9, 0.9, size=shape)


def _erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def _erfinv_one(y: float) -> float:
    if math.isnan(y) or abs(y) > 1:
        return math.nan
    if abs(y) == 1:
        return math.copysign(math.inf, y)
    lo, hi = -6.0, 6.0
    for _ in range(200):  # bisection on math.erf: slow and sure
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if math.erf(mid) < y else (lo, mid)
    return (lo + hi) / 2


def _erfinv(y):
    return np.vectorize(_erfinv_one, otypes=[np.float64])(y)


def _special_values(rng, shape):
    """Finite values with NaN, +inf and -inf among them."""
    v = _u(rng, shape)
    flat = v.reshape(-1)
    for i, special in zip(range(0, flat.size, 2), (np.nan, np.inf, -np.inf) * flat.size):
        flat[i] = special
    return v


def _float_test_samples(rng):
    return [Sample(desc, (_special_values(rng, shape),), noncontig=nc)
            for desc, shape, nc in UNARY_SHAPES]


def _float_test(name, ref, on_integers):
    def samples(rng):
        return _float_test_samples(rng) + [
            Sample("int_tensor", (), consts={"i": rng.integers(-3, 4, size=(3,))},
                   call=f"pg.{name}(i)", ref=lambda i: np.full(i.shape, on_integers))]
    return OpInfo(name, (f"pg.{name}(x)", f"x.{name}()"), ref, samples, differentiable=False)


def _rounding_samples(rng):
    out = unary(_off_grid)(rng)
    out.append(Sample("int_tensor_unchanged", (), consts={"i": rng.integers(-3, 4, size=(4,))},
                      call="pg.{name}(i)", ref=lambda i: i, grad=False))
    return out


def _rounding(name, ref):
    info = _unary(name, ref, _off_grid)
    info.samples = _fill(_rounding_samples, name)
    return info


def _round_samples(rng):
    def tenths(shape):  # clear of the ties of rounding to one decimal
        v = np.round(rng.uniform(-3, 3, size=shape) * 10) / 10
        return v + rng.choice([-0.03, 0.03], size=shape)
    return [
        Sample("decimals1", (tenths((3, 4)),), call="pg.round(x, decimals=1)",
               ref=lambda x: np.round(x, 1)),
        Sample("decimals_neg", (_off_grid(rng, (5,), -300, 300),), call="x.round(decimals=-2)",
               ref=lambda x: np.round(x, -2)),
        Sample("decimals_inplace", (tenths((2, 3)),), call="x.clone().round_(decimals=1)",
               ref=lambda x: np.round(x, 1)),
        Sample("scalar_0d", (tenths(()),), call="x.round(decimals=1)",
               ref=lambda x: np.round(x, 1)),
        Sample("empty", (tenths((0, 3)),), call="pg.round(x, decimals=2)",
               ref=lambda x: np.round(x, 2)),
        Sample("noncontig", (tenths((3, 4)),), call="x.round(decimals=1)",
               ref=lambda x: np.round(x, 1), noncontig=True),
    ]


def _modulo_samples(name):
    def samples(rng):
        def pair(sx, sy):  # a / b clear of integers (where fmod and remainder jump)
            b = _away(rng, sy, 0.5, 1.5)
            q = rng.integers(-3, 3, size=sx) + rng.uniform(0.15, 0.85, size=sx)
            return q * b, b  # (every sample's b broadcasts to a's shape)
        out = []
        for desc, sx, sy, nc in (("same", (3, 4), (3, 4), False), ("both_0d", (), (), False),
                                 ("bcast_row", (3, 4), (4,), False),
                                 ("empty", (0, 3), (3,), False),
                                 ("noncontig", (3, 4), (3, 4), True)):
            a, b = pair(sx, sy)
            out.append(Sample(desc, (a, b), noncontig=nc))
        ref = np.fmod if name == "fmod" else np.remainder
        a, b = pair((3, 4), (3, 4))
        out.append(Sample("inplace", (a, b), call=f"x.clone().{name}_(y)", ref=ref))
        x = _off_grid(rng, (3, 4), -3, 3) * 1.3
        out.append(Sample("number", (x,), call=f"pg.{name}(x, 1.3)",
                          ref=lambda x: ref(x, 1.3)))
        out.append(Sample("int_tensors", (), consts={"i": np.array([5, -7, 7, -5]),
                                                     "j": np.array([3, 3, -3, -3])},
                          call=f"pg.{name}(i, j)", ref=lambda i, j: ref(i, j), grad=False))
        if name == "remainder":
            out.append(Sample("operator", (x,), call="x % 1.3", ref=lambda x: ref(x, 1.3)))
            a, b = pair((2, 3), (3,))
            out.append(Sample("operator_tensors", (a, b), call="x % y", ref=ref))
            out.append(Sample("imod", (a, b), call="x.clone().__imod__(y)", ref=ref))
            out.append(Sample("rmod", (_away(rng, (4,), 0.5, 1.5),), call="2.5 % x",
                              ref=lambda x: np.remainder(2.5, x), grad=False))
        return out
    return samples


def _floor_divide_samples(rng):
    def pair(sx, sy):  # a / b clear of integers, where float32 and float64 could round apart
        b = _away(rng, sy, 0.5, 1.5)
        return (rng.integers(-3, 3, size=sx) + rng.uniform(0.15, 0.85, size=sx)) * b, b
    out = []
    for desc, sx, sy, nc in (("same", (3, 4), (3, 4), False), ("both_0d", (), (), False),
                             ("bcast_row", (3, 4), (4,), False), ("empty", (0, 3), (3,), False),
                             ("noncontig", (3, 4), (3, 4), True)):
        out.append(Sample(desc, pair(sx, sy), noncontig=nc))
    a, b = pair((2, 3), (3,))
    out += [Sample("operator", (a, b), call="x // y"),
            Sample("number", (a,), call="x // 0.7", ref=lambda x: np.floor_divide(x, 0.7)),
            Sample("rfloordiv", (b,), call="2.5 // x", ref=lambda x: np.floor_divide(2.5, x)),
            Sample("inplace", (a, b), call="x.clone().floor_divide_(y)"),
            Sample("ifloordiv", (a, b), call="x.clone().__ifloordiv__(y)"),
            Sample("int_tensors", (), consts={"i": np.array([7, -7, 7, -7]),
                                              "j": np.array([2, 2, -2, -2])},
                   call="i // j", ref=lambda i, j: np.floor_divide(i, j))]
    return out


def _bounded(rng, shape, bound=0.3):
    v = _u(rng, shape)
    return np.where(np.abs(v - bound) < 0.1, v + 0.2, v)


def _clamp_bound_samples(name):
    key = "min" if name == "clamp_min" else "max"
    fn = np.maximum if name == "clamp_min" else np.minimum

    def samples(rng):
        lo = _u(rng, (4,), -1.0, 1.0)
        x = _u(rng, (3, 4))
        x = np.where(np.abs(x - lo) < 0.1, x + 0.25, x)
        return [
            Sample("number", (_bounded(rng, (3, 4)),), call=f"pg.{name}(x, 0.3)",
                   ref=lambda x: fn(x, 0.3)),
            Sample("method_kw", (_bounded(rng, (5,)),), call=f"x.{name}({key}=0.3)",
                   ref=lambda x: fn(x, 0.3)),
            Sample("scalar_0d", (_bounded(rng, ()),), call=f"pg.{name}(x, 0.3)",
                   ref=lambda x: fn(x, 0.3)),
            Sample("empty", (_u(rng, (0, 3)),), call=f"pg.{name}(x, 0.3)",
                   ref=lambda x: fn(x, 0.3)),
            Sample("tensor_bcast", (x, lo), call=f"pg.{name}(x, y)", ref=fn),
            Sample("noncontig", (x, np.broadcast_to(lo, x.shape).copy()), call=f"x.{name}(y)",
                   ref=fn, noncontig=True),
            Sample("inplace", (_bounded(rng, (2, 3)),), call=f"x.clone().{name}_(0.3)",
                   ref=lambda x: fn(x, 0.3)),
        ]
    return samples


def _lerp_samples(rng):
    return [
        Sample("number", (_u(rng, (3, 4)), _u(rng, (3, 4))), call="pg.lerp(x, y, 0.3)",
               ref=lambda x, y: x + 0.3 * (y - x)),
        Sample("method_bcast", (_u(rng, (3, 4)), _u(rng, (4,))), call="x.lerp(y, -0.5)",
               ref=lambda x, y: x + -0.5 * (y - x)),
        Sample("tensor_weight", (_u(rng, (3, 4)), _u(rng, (3, 4)), _u(rng, (4,), 0.0, 1.0)),
               call="pg.lerp(x, y, z)", ref=lambda x, y, z: x + z * (y - x)),
        Sample("scalar_0d", (_u(rng, ()), _u(rng, ()), _u(rng, ())), call="pg.lerp(x, y, z)",
               ref=lambda x, y, z: x + z * (y - x)),
        Sample("empty", (_u(rng, (0, 3)), _u(rng, (3,))), call="pg.lerp(x, y, 0.5)",
               ref=lambda x, y: x + 0.5 * (y - x)),
        Sample("noncontig", (_u(rng, (3, 4)), _u(rng, (3, 4))), call="x.lerp(y, 0.25)",
               ref=lambda x, y: x + 0.25 * (y - x), noncontig=True),
        Sample("inplace", (_u(rng, (2, 3)), _u(rng, (2, 3))), call="x.clone().lerp_(y, 0.7)",
               ref=lambda x, y: x + 0.7 * (y - x)),
    ]


def _binary_inplace(name, ref, gen_x=_u, gen_y=_u):
    def samples(rng):
        return binary(gen_x, gen_y)(rng) + [
            Sample("inplace", (gen_x(rng, (3, 4)), gen_y(rng, (4,))),
                   call=f"x.clone().{name}_(y)", ref=ref)]
    return OpInfo(name, (f"pg.{name}(x, y)", f"x.{name}(y)"), ref, samples)


def _nan_to_num_samples(rng):
    def with_nan(shape):
        v = _u(rng, shape)
        v.reshape(-1)[::3] = np.nan
        return v
    kw = {"nan": 0.5, "posinf": 9.0, "neginf": -9.0}
    return [
        Sample("nan_default", (with_nan((3, 4)),), call="pg.nan_to_num(x)",
               ref=lambda x: np.where(np.isnan(x), 0.0, x)),
        Sample("all_given", (_special_values(rng, (3, 4)),), call="x.nan_to_num(**kw)",
               kw=kw, ref=lambda x, **kw: np.nan_to_num(x, **kw)),
        Sample("scalar_0d", (np.array(np.inf),), call="pg.nan_to_num(x, posinf=2.0)",
               ref=lambda x: np.nan_to_num(x, posinf=2.0)),
        Sample("empty", (_u(rng, (0, 3)),), call="pg.nan_to_num(x)", ref=np.copy),
        Sample("noncontig", (_special_values(rng, (3, 4)),), call="x.nan_to_num(**kw)",
               kw=kw, ref=lambda x, **kw: np.nan_to_num(x, **kw), noncontig=True),
        Sample("inplace", (_special_values(rng, (2, 3)),), call="x.clone().nan_to_num_(**kw)",
               kw=kw, ref=lambda x, **kw: np.nan_to_num(x, **kw)),
        Sample("int_tensor", (), consts={"i": np.array([1, -2, 3])}, call="pg.nan_to_num(i)",
               ref=lambda i: i, grad=False),
    ]


# -- the table ---------------------------------------------------------------------------------
def _unary(name, ref, gen=_u, twice=True, symbol=None, **kw):
    calls = [f"pg.{name}(x)", f"x.{name}()"]
    if symbol:
        calls.append(symbol)
    if DECLARED[name].inplace:  # on a copy: a leaf that requires grad refuses in-place changes
        calls.append(f"x.clone().{DECLARED[name].inplace}()")
    return OpInfo(name, tuple(calls), ref, unary(gen), twice=twice, **kw)


def _binary(name, ref, gen_x=_u, gen_y=_u, symbol=None, twice=True):
    calls = [f"pg.{name}(x, y)", f"x.{name}(y)"]
    if symbol:
        calls.append(f"x {symbol} y")
    return OpInfo(name, tuple(calls), ref, binary(gen_x, gen_y), twice=twice)


def _with_alpha(op, sign):
    def samples(rng):
        base = binary()(rng)
        base.append(Sample("alpha", (_u(rng, (3, 4)), _u(rng, (4,))),
                           call=f"pg.{op}(x, y, alpha=2.5)",
                           ref=lambda x, y: x + sign * 2.5 * y))
        base.append(Sample("alpha_number", (_u(rng, (3,)),), call=f"x.{op}(1.5, alpha=-2)",
                           ref=lambda x: x + sign * -2 * 1.5))
        return base
    return samples


def _cmp(name, symbol, ref):
    def samples(rng):
        out = _comparison_samples(rng)
        out[-1].call = out[-1].call.format(op=symbol)
        out[-1].ref = _eval_numpy(out[-1].call)
        return out
    return OpInfo(name, (f"pg.{name}(x, y)", f"x.{name}(y)", f"x {symbol} y"), ref, samples,
                  differentiable=False)


def _logical(name, operator, ref):
    return OpInfo(name, (f"pg.{name}(a, b)", f"a.{name}(b)", f"a {operator} b"),
                  lambda a, b: ref(a, b), _logical_samples, differentiable=False)


def _fill(samples_fn, name):
    """Put the op's name into sample calls written with a {name} placeholder."""
    def samples(rng):
        out = samples_fn(rng)
        for s in out:
            if s.call is not None:
                s.call = s.call.replace("{name}", name)
        return out
    return samples


# -- in place --------------------------------------------------------------------------------------
# An in-place op runs on a copy of x (a leaf that requires grad refuses in-place
# changes), so the call is x.clone().op_(...): the checks then see the copy's
# rebased history, whose gradient must reach x and y as the twin's does.
def _in_place_unary(rng):
    unary_ops = (("neg_", np.negative, _u), ("abs_", np.abs, _away), ("exp_", np.exp, _u),
                 ("log_", np.log, _pos), ("sqrt_", np.sqrt, _pos), ("sin_", np.sin, _u),
                 ("cos_", np.cos, _u), ("tanh_", np.tanh, _u), ("sigmoid_", _sigmoid, _u),
                 ("relu_", lambda x: np.maximum(x, 0.0), _away), ("sign_", np.sign, _away),
                 ("square_", np.square, _u),
                 ("zero_", np.zeros_like, _u), ("fill_", lambda x: np.full_like(x, 0.5), _u))
    out = []
    for i, (name, ref, gen) in enumerate(unary_ops):
        shape = ((2, 3), (), (4,))[i % 3]
        arg = "0.5" if name == "fill_" else ""
        out.append(Sample(name.rstrip("_"), (gen(rng, shape),), call=f"x.clone().{name}({arg})",
                          ref=ref))
    out.append(Sample("clamp", (_u(rng, (2, 3)),), call="x.clone().clamp_(-0.5, 0.7)",
                      ref=lambda x: np.clip(x, -0.5, 0.7)))
    out.append(Sample("clip", (_u(rng, (4,)),), call="x.clone().clip_(max=0.3)",
                      ref=lambda x: np.minimum(x, 0.3)))
    out.append(Sample("noncontig", (_u(rng, (3, 4)),), call="x.clone().exp_()", ref=np.exp,
                      noncontig=True))
    out.append(Sample("empty", (_u(rng, (0, 3)),), call="x.clone().tanh_()", ref=np.tanh))
    return out


def _in_place_binary(rng):
    forms = (("add", "x.clone().add_(y)", np.add), ("sub", "x.clone().sub_(y, alpha=2)",
                                                     lambda x, y: x - 2 * y),
             ("mul", "x.clone().mul_(y)", np.multiply), ("div", "x.clone().div_(y)", np.divide),
             ("true_divide", "x.clone().true_divide_(y)", np.divide),
             ("pow", "x.clone().pow_(y)", np.power), ("copy", "x.clone().copy_(y)",
                                                      lambda x, y: np.broadcast_to(y, x.shape)),
             ("iadd", "x.clone().__iadd__(y)", np.add), ("isub", "x.clone().__isub__(y)",
                                                         np.subtract),
             ("imul", "x.clone().__imul__(y)", np.multiply),
             ("itruediv", "x.clone().__itruediv__(y)", np.divide),
             ("ipow", "x.clone().__ipow__(y)", np.power))
    out = []
    for i, (desc, call, ref) in enumerate(forms):
        shape_y = ((3, 4), (4,), ())[i % 3]
        positive = desc in ("pow", "ipow", "div", "true_divide", "itruediv")
        gen = _pos if positive else _u
        out.append(Sample(f"{desc}_{len(shape_y)}d", (gen(rng, (3, 4)), gen(rng, shape_y)),
                          call=call, ref=ref))
    out.append(Sample("mul_number", (_u(rng, (3,)),), call="x.clone().mul_(2.5)",
                      ref=lambda x: x * 2.5))
    out.append(Sample("empty", (_u(rng, (0, 3)), _u(rng, (3,))), call="x.clone().mul_(y)",
                      ref=np.multiply))
    out.append(Sample("noncontig", (_u(rng, (3, 4)), _u(rng, (3, 4))),
                      call="x.clone().sub_(y)", ref=np.subtract, noncontig=True))
    return out


def _set(index):
    def ref(x, y):
        out = np.array(x)
        out[index] = y
        return out
    return ref


def _setitem_samples(rng):
    return [
        Sample("rows", (_u(rng, (3, 4)), _u(rng, (2, 4))),
               call="[x := x.clone(), x.__setitem__(slice(0, 2), y), x][2]",
               ref=_set(slice(0, 2))),
        Sample("column_bcast", (_u(rng, (3, 4)), _u(rng, (1,))),
               call="[x := x.clone(), x.__setitem__((slice(None), 1), y), x][2]",
               ref=_set((slice(None), 1))),
        Sample("index_list", (_u(rng, (3, 4)), _u(rng, (2, 4))),
               call="[x := x.clone(), x.__setitem__([2, 0], y), x][2]", ref=_set([2, 0])),
        Sample("number", (_u(rng, (3, 4)),),
               call="[x := x.clone(), x.__setitem__((1, 2), 0.5), x][2]",
               ref=lambda x: _set((1, 2))(x, 0.5)),
        Sample("empty", (_u(rng, (0, 4)), _u(rng, (4,))),
               call="[x := x.clone(), x.__setitem__(slice(None), y), x][2]",
               ref=_set(slice(None))),
        Sample("noncontig", (_u(rng, (3, 4)), _u(rng, (3,))),
               call="[x := x.clone(), x.__setitem__((slice(None), 0), y), x][2]",
               ref=_set((slice(None), 0)), noncontig=True),
    ]


# -- shapes, indexing and products composed from existing kernels ------------------------------
def _i64(a):
    return np.asarray(a, dtype=np.int64)


def _scatter_ref(x, i, y, dim=0, add=False):
    out = x.copy()
    for pos in np.ndindex(*i.shape):
        target = list(pos)
        target[dim] = i[pos]
        if add:
            out[tuple(target)] += y[pos]
        else:
            out[tuple(target)] = y[pos]
    return out


def _gather_ref(x, i, dim=0):
    out = np.empty(i.shape, dtype=x.dtype)
    for pos in np.ndindex(*i.shape):
        src = list(pos)
        src[dim] = i[pos]
        out[pos] = x[tuple(src)]
    return out


def _index_add_ref(x, i, y, dim=0, alpha=1.0):
    out = x.copy()
    np.add.at(np.moveaxis(out, dim, 0), i, np.moveaxis(alpha * y, dim, 0))
    return out


def _zeroed(rng, shape):
    v = _u(rng, shape)
    return np.where(np.abs(v) < 0.7, 0.0, v)


def _movement_samples(rng):
    return [
        Sample("flip", (_u(rng, (3, 4)),), call="pg.flip(x, (0, 1))",
               ref=lambda x: np.flip(x, (0, 1))),
        Sample("flip_method", (_u(rng, (2, 3, 4)),), call="x.flip(-1)",
               ref=lambda x: np.flip(x, -1), noncontig=True),
        Sample("flip_0d", (_u(rng, ()),), call="x.flip(dims=())", ref=lambda x: x.copy()),
        Sample("roll", (_u(rng, (3, 4)),), call="pg.roll(x, 1)", ref=lambda x: np.roll(x, 1)),
        Sample("roll_dims", (_u(rng, (3, 4)),), call="x.roll((1, -5), (0, 1))",
               ref=lambda x: np.roll(x, (1, -5), (0, 1))),
        Sample("repeat", (_u(rng, (2, 3)),), call="x.repeat(2, 1, 3)",
               ref=lambda x: np.tile(x, (2, 1, 3))),
        Sample("repeat_empty", (_u(rng, (0, 3)),), call="x.repeat((2, 2))",
               ref=lambda x: np.tile(x, (2, 2))),
        Sample("tile", (_u(rng, (2, 3)),), call="pg.tile(x, (2,))",
               ref=lambda x: np.tile(x, 2)),
        Sample("tile_method", (_u(rng, (3,)),), call="x.tile(2, 2)",
               ref=lambda x: np.tile(x, (2, 2))),
        Sample("repeat_interleave", (_u(rng, (2, 3)),), call="pg.repeat_interleave(x, 2)",
               ref=lambda x: np.repeat(x, 2)),
        Sample("repeat_interleave_tensor", (_u(rng, (3, 2)),), consts={"r": _i64([1, 0, 2])},
               call="x.repeat_interleave(r, dim=0)",
               ref=lambda x, r: np.repeat(x, r, axis=0)),
        Sample("repeat_interleave_indices", (), consts={"r": _i64([1, 0, 3])},
               call="pg.repeat_interleave(r)", ref=lambda r: np.repeat(np.arange(3), r),
               grad=False),
        Sample("tensor_split", (_u(rng, (7, 2)),), call="pg.tensor_split(x, 3)",
               ref=lambda x: tuple(np.array_split(x, 3))),
        Sample("tensor_split_indices", (_u(rng, (2, 6)),), call="x.tensor_split([1, 4], 1)",
               ref=lambda x: tuple(np.array_split(x, [1, 4], 1))),
        Sample("meshgrid_ij", (_u(rng, (3,)), _u(rng, (2,))),
               call="pg.meshgrid(x, y, indexing='ij')",
               ref=lambda x, y: tuple(np.meshgrid(x, y, indexing="ij"))),
        Sample("meshgrid_xy", (_u(rng, (3,)), _u(rng, (2,))),
               call="pg.meshgrid([x, y], indexing='xy')",
               ref=lambda x, y: tuple(np.meshgrid(x, y, indexing="xy"))),
        Sample("broadcast_tensors", (_u(rng, (3, 1)), _u(rng, (4,))),
               call="pg.broadcast_tensors(x, y)",
               ref=lambda x, y: tuple(np.broadcast_arrays(x, y))),
        Sample("diff", (_u(rng, (3, 4)),), call="pg.diff(x)", ref=lambda x: np.diff(x)),
        Sample("diff_n2_prepend", (_u(rng, (3, 4)), _u(rng, (1, 4))),
               call="x.diff(n=2, dim=0, prepend=y)",
               ref=lambda x, y: np.diff(x, n=2, axis=0, prepend=y)),
    ]


def _triangle_samples(rng):
    return [
        Sample("tril", (_u(rng, (3, 4)),), call="pg.tril(x)", ref=np.tril),
        Sample("tril_method", (_u(rng, (2, 3, 3)),), call="x.tril(-1)",
               ref=lambda x: np.tril(x, -1)),
        Sample("tril_", (_u(rng, (3, 4)),), call="x.clone().tril_(1)",
               ref=lambda x: np.tril(x, 1)),
        Sample("triu", (_u(rng, (4, 3)),), call="pg.triu(x, 1)", ref=lambda x: np.triu(x, 1)),
        Sample("triu_method", (_u(rng, (3, 4)),), call="x.triu()", ref=np.triu, noncontig=True),
        Sample("triu_", (_u(rng, (3, 3)),), call="x.clone().triu_(-1)",
               ref=lambda x: np.triu(x, -1)),
        Sample("diag_vector", (_u(rng, (3,)),), call="pg.diag(x, 1)",
               ref=lambda x: np.diag(x, 1)),
        Sample("diag_matrix", (_u(rng, (3, 4)),), call="x.diag(-1)",
               ref=lambda x: np.diag(x, -1)),
        Sample("diagonal", (_u(rng, (2, 3, 4)),), call="pg.diagonal(x, 1, 2, 0)",
               ref=lambda x: np.diagonal(x, 1, 2, 0)),
        Sample("diagonal_method", (_u(rng, (3, 4)),), call="x.diagonal()",
               ref=lambda x: np.diagonal(x).copy(), noncontig=True),
        Sample("diagonal_empty", (_u(rng, (2, 3)),), call="x.diagonal(5)",
               ref=lambda x: np.diagonal(x, 5).copy()),
        Sample("trace", (_u(rng, (3, 4)),), call="pg.trace(x)", ref=np.trace),
        Sample("trace_method", (_u(rng, (3, 3)),), call="x.trace()", ref=np.trace),
    ]


def _select_samples(rng):
    i = _i64([[0, 2, 1, 0], [2, 2, 0, 1]])
    perm = _i64([[0, 1, 2, 0], [1, 2, 0, 1], [2, 0, 1, 2]])
    mask = rng.random((3, 4)) < 0.5
    return [
        Sample("gather", (_u(rng, (3, 4)),), consts={"i": i}, call="pg.gather(x, 0, i)",
               ref=lambda x, i: _gather_ref(x, i, 0)),
        Sample("gather_empty", (_u(rng, (3, 4)),), consts={"i": np.zeros((0, 4), np.int64)},
               call="x.gather(0, i)", ref=lambda x, i: _gather_ref(x, i, 0)),
        Sample("gather_dim1", (_u(rng, (3, 4)),), consts={"i": i[:, :2]},
               call="x.gather(1, i)", ref=lambda x, i: _gather_ref(x, i, 1), noncontig=True),
        Sample("scatter", (_u(rng, (3, 4)), _u(rng, (3, 4))), consts={"i": perm},
               call="pg.scatter(x, 0, i, y)", ref=lambda x, y, i: _scatter_ref(x, i, y)),
        Sample("scatter_method", (_u(rng, (3, 4)), _u(rng, (2, 4))), consts={"i": perm[:2]},
               call="x.scatter(0, i, y)", ref=lambda x, y, i: _scatter_ref(x, i, y)),
        Sample("scatter_value", (_u(rng, (3, 4)),), consts={"i": perm[:2]},
               call="x.scatter(0, i, 2.5)",
               ref=lambda x, i: _scatter_ref(x, i, np.full(i.shape, 2.5))),
        Sample("scatter_", (_u(rng, (3, 4)), _u(rng, (3, 4))), consts={"i": perm},
               call="x.clone().scatter_(0, i, y)", ref=lambda x, y, i: _scatter_ref(x, i, y)),
        Sample("scatter_add", (_u(rng, (3, 4)), _u(rng, (2, 4))), consts={"i": i},
               call="pg.scatter_add(x, 0, i, y)",
               ref=lambda x, y, i: _scatter_ref(x, i, y, add=True)),
        Sample("scatter_add_method", (_u(rng, (3, 4)), _u(rng, (2, 4))), consts={"i": i},
               call="x.scatter_add(0, i, y)",
               ref=lambda x, y, i: _scatter_ref(x, i, y, add=True)),
        Sample("scatter_add_", (_u(rng, (3, 4)), _u(rng, (2, 4))), consts={"i": i},
               call="x.clone().scatter_add_(0, i, y)",
               ref=lambda x, y, i: _scatter_ref(x, i, y, add=True)),
        Sample("index_select", (_u(rng, (3, 4)),), consts={"i": _i64([3, 0, 3])},
               call="pg.index_select(x, 1, i)", ref=lambda x, i: np.take(x, i, 1)),
        Sample("index_select_method", (_u(rng, (3, 4)),), consts={"i": _i64([2, 2])},
               call="x.index_select(0, i)", ref=lambda x, i: np.take(x, i, 0)),
        Sample("index_add", (_u(rng, (3, 4)), _u(rng, (2, 4))), consts={"i": _i64([2, 2])},
               call="pg.index_add(x, 0, i, y, alpha=2.0)",
               ref=lambda x, y, i: _index_add_ref(x, i, y, 0, 2.0)),
        Sample("index_add_method", (_u(rng, (3, 4)), _u(rng, (3, 2))), consts={"i": _i64([3, 0])},
               call="x.index_add(1, i, y)", ref=lambda x, y, i: _index_add_ref(x, i, y, 1)),
        Sample("index_add_", (_u(rng, (3, 4)), _u(rng, (2, 4))), consts={"i": _i64([0, 0])},
               call="x.clone().index_add_(0, i, y)",
               ref=lambda x, y, i: _index_add_ref(x, i, y, 0)),
        Sample("masked_select", (_u(rng, (3, 4)),), consts={"m": mask},
               call="pg.masked_select(x, m)", ref=lambda x, m: x[m]),
        Sample("masked_select_bcast", (_u(rng, (4,)),), consts={"m": mask},
               call="x.masked_select(m)", ref=lambda x, m: np.broadcast_to(x, m.shape)[m]),
        Sample("take", (_u(rng, (3, 4)),), consts={"i": _i64([[0, -1], [5, 5]])},
               call="pg.take(x, i)", ref=lambda x, i: np.take(x.ravel(), i)),
        Sample("take_method", (_u(rng, (3, 4)),), consts={"i": _i64([11, 0, 3])},
               call="x.take(i)", ref=lambda x, i: np.take(x.ravel(), i), noncontig=True),
    ]


def _nonzero_samples(rng):
    return [
        Sample("nonzero", (_zeroed(rng, (3, 4)),), call="pg.nonzero(x)", ref=np.argwhere),
        Sample("nonzero_method", (_zeroed(rng, (2, 3, 2)),), call="x.nonzero()",
               ref=np.argwhere),
        Sample("nonzero_tuple", (_zeroed(rng, (3, 4)),), call="x.nonzero(as_tuple=True)",
               ref=np.nonzero),
        Sample("nonzero_empty", (np.zeros((2, 3)),), call="pg.nonzero(x)", ref=np.argwhere),
        Sample("nonzero_noncontig", (_zeroed(rng, (3, 4)),), call="x.nonzero()",
               ref=np.argwhere, noncontig=True),
    ]


def _product_samples(rng):
    return [
        Sample("mv", (_u(rng, (3, 4)), _u(rng, (4,))), call="pg.mv(x, y)", ref=np.matmul),
        Sample("mv_method", (_u(rng, (2, 3)), _u(rng, (3,))), call="x.mv(y)", ref=np.matmul,
               noncontig=True),
        Sample("outer", (_u(rng, (3,)), _u(rng, (4,))), call="pg.outer(x, y)", ref=np.outer),
        Sample("outer_method", (_u(rng, (2,)), _u(rng, (3,))), call="x.outer(y)",
               ref=np.outer),
        Sample("outer_empty", (_u(rng, (0,)), _u(rng, (3,))), call="pg.outer(x, y)",
               ref=np.outer),
        Sample("kron", (_u(rng, (2, 3)), _u(rng, (2, 2))), call="pg.kron(x, y)", ref=np.kron),
        Sample("kron_method", (_u(rng, (3,)), _u(rng, (2, 2))), call="x.kron(y)", ref=np.kron),
        Sample("cross", (_u(rng, (3, 2)), _u(rng, (3, 2))), call="pg.cross(x, y, dim=0)",
               ref=lambda x, y: np.cross(x, y, axis=0)),
        Sample("cross_method", (_u(rng, (2, 3)), _u(rng, (1, 3))), call="x.cross(y, dim=-1)",
               ref=lambda x, y: np.cross(x, y)),
        Sample("tensordot", (_u(rng, (2, 2, 3)), _u(rng, (2, 3, 2))),
               call="pg.tensordot(x, y)", ref=lambda x, y: np.tensordot(x, y)),
        Sample("tensordot_dims", (_u(rng, (2, 2, 3)), _u(rng, (3, 2))),
               call="pg.tensordot(x, y, dims=([2], [0]))",
               ref=lambda x, y: np.tensordot(x, y, ([2], [0]))),
    ]


def _addmm_samples(rng):
    return [
        Sample("addmm", (_u(rng, (2, 4)), _u(rng, (2, 3)), _u(rng, (3, 4))),
               call="pg.addmm(x, y, z)", ref=lambda x, y, z: x + y @ z),
        Sample("addmm_scaled", (_u(rng, (4,)), _u(rng, (2, 3)), _u(rng, (3, 4))),
               call="x.addmm(y, z, beta=0.5, alpha=2)",
               ref=lambda x, y, z: 0.5 * x + 2 * (y @ z)),
        Sample("addmm_", (_u(rng, (2, 4)), _u(rng, (2, 3)), _u(rng, (3, 4))),
               call="x.clone().addmm_(y, z, alpha=-1)", ref=lambda x, y, z: x - y @ z),
        Sample("addmv", (_u(rng, (2,)), _u(rng, (2, 3)), _u(rng, (3,))),
               call="pg.addmv(x, y, z, beta=2)", ref=lambda x, y, z: 2 * x + y @ z),
        Sample("addmv_method", (_u(rng, (2,)), _u(rng, (2, 3)), _u(rng, (3,))),
               call="x.addmv(y, z)", ref=lambda x, y, z: x + y @ z, noncontig=True),
        Sample("addmm_empty", (_u(rng, (0, 4)), _u(rng, (0, 3)), _u(rng, (3, 4))),
               call="pg.addmm(x, y, z)", ref=lambda x, y, z: x + y @ z),
        Sample("addmv_", (_u(rng, (2,)), _u(rng, (2, 3)), _u(rng, (3,))),
               call="x.clone().addmv_(y, z, alpha=3)", ref=lambda x, y, z: x + 3 * (y @ z)),
        Sample("baddbmm", (_u(rng, (2, 2, 2)), _u(rng, (2, 2, 3)), _u(rng, (2, 3, 2))),
               call="pg.baddbmm(x, y, z, beta=2, alpha=0.5)",
               ref=lambda x, y, z: 2 * x + 0.5 * (y @ z)),
        Sample("baddbmm_method", (_u(rng, (2,)), _u(rng, (2, 2, 3)), _u(rng, (2, 3, 2))),
               call="x.baddbmm(y, z)", ref=lambda x, y, z: x + y @ z),
        Sample("baddbmm_", (_u(rng, (2, 2, 2)), _u(rng, (2, 2, 3)), _u(rng, (2, 3, 2))),
               call="x.clone().baddbmm_(y, z)", ref=lambda x, y, z: x + y @ z),
    ]


def _einsum_samples(rng):
    forms = (("matmul", "ij,jk->ik", ((3, 4), (4, 2))), ("batched", "bij,bjk->bik",
                                                          ((2, 3, 4), (2, 4, 2))),
             ("dot", "i,i->", ((4,), (4,))), ("transpose", "ij->ji", ((3, 4),)),
             ("diagonal", "ii->i", ((3, 3),)), ("trace", "ii", ((3, 3),)),
             ("outer", "i,j", ((3,), (2,))), ("three", "ij,ik,i->jk", ((3, 2), (3, 4), (3,))),
             ("sum", "bij->j", ((2, 3, 4),)), ("empty", "ij,jk->ik", ((0, 3), (3, 2))))
    return [Sample(desc, tuple(_u(rng, s) for s in shapes),
                   call=f"pg.einsum('{eq}', {', '.join('xyz'[:len(shapes)])})",
                   ref=lambda *a, eq=eq: np.einsum(eq, *a), noncontig=desc == "matmul")
            for desc, eq, shapes in forms]


def _close_samples(rng):
    x = _u(rng, (3, 4))
    near = x + np.where(rng.random((3, 4)) < 0.5, 1e-9, 1e-2)
    return [
        Sample("isclose", (x, near), call="pg.isclose(x, y)",
               ref=lambda x, y: np.isclose(x, y, 1e-5, 1e-8)),
        Sample("isclose_method", (x, near), call="x.isclose(y, rtol=0.1, atol=0.0)",
               ref=lambda x, y: np.isclose(x, y, 0.1, 0.0), noncontig=True),
        Sample("isclose_empty", (_u(rng, (0, 3)), _u(rng, (0, 3))), call="pg.isclose(x, y)",
               ref=lambda x, y: np.isclose(x, y, 1e-5, 1e-8)),
        Sample("allclose", (x, near), call="pg.tensor(pg.allclose(x, y, atol=0.1))",
               ref=lambda x, y: np.asarray(np.allclose(x, y, atol=0.1))),
        Sample("allclose_method", (x, near), call="pg.tensor(x.allclose(y))",
               ref=lambda x, y: np.asarray(np.allclose(x, y))),
        Sample("equal", (x,), call="pg.tensor(pg.equal(x, x.clone()))",
               ref=lambda x: np.asarray(True)),
        Sample("equal_method", (x, near), call="pg.tensor(x.equal(y))",
               ref=lambda x, y: np.asarray(False)),
    ]


def _new_samples(rng):
    return [
        Sample("new_zeros", (_u(rng, (2,)),), call="x.new_zeros(2, 3)",
               ref=lambda x: np.zeros((2, 3)), noncontig=True),
        Sample("new_zeros_empty", (_u(rng, (2,)),), call="x.new_zeros(0, 2)",
               ref=lambda x: np.zeros((0, 2))),
        Sample("new_ones", (_u(rng, (2,)),), call="x.new_ones((3,))", ref=lambda x: np.ones(3)),
        Sample("new_full", (_u(rng, (2,)),), call="x.new_full((2, 2), 1.5)",
               ref=lambda x: np.full((2, 2), 1.5)),
        Sample("new_tensor", (_u(rng, (2,)),), call="x.new_tensor([[1, 2], [3, 4]])",
               ref=lambda x: np.array([[1.0, 2.0], [3.0, 4.0]])),
    ]


SHAPE_INDEX_PRODUCT_OPS: tuple = (
    OpInfo("movement_more", (), None, _movement_samples),
    OpInfo("triangles_and_diagonals", (), None, _triangle_samples),
    OpInfo("gather_scatter_select", (), None, _select_samples),
    OpInfo("nonzero", (), None, _nonzero_samples, differentiable=False),
    OpInfo("vector_products", (), None, _product_samples),
    OpInfo("addmm_family", (), None, _addmm_samples),
    OpInfo("einsum", (), None, _einsum_samples),
    OpInfo("isclose_allclose_equal", (), None, _close_samples, differentiable=False),
    OpInfo("new_tensors", (), None, _new_samples, differentiable=False),
)


OPS: tuple = (
    # elementwise, one tensor
    _unary("neg", np.negative, symbol="-x"),
    OpInfo("pos", ("+x",), lambda x: x.copy(), unary()),
    _unary("abs", np.abs, _away, symbol="abs(x)"),
    _unary("exp", np.exp),
    _unary("log", np.log, _pos),
    _unary("sqrt", np.sqrt, _pos),
    _unary("rsqrt", lambda x: 1 / np.sqrt(x), _pos),
    _unary("log1p", np.log1p, _pos),
    _unary("expm1", np.expm1),
    _unary("reciprocal", np.reciprocal, _away),
    _unary("sin", np.sin),
    _unary("cos", np.cos),
    _unary("tanh", np.tanh),
    _unary("sigmoid", _sigmoid),
    _unary("relu", lambda x: np.maximum(x, 0.0), _away),
    _unary("sign", np.sign, _away),
    _unary("square", np.square),
    _unary("clone", np.copy),
    # elementwise, two operands
    OpInfo("add", ("pg.add(x, y)", "x.add(y)", "x + y"), lambda x, y: x + y, _with_alpha("add", 1)),
    OpInfo("add_number", (), None, _scalar_ref_samples(_u, (
        ("x + 1.5", lambda x: x + 1.5), ("2.5 + x", lambda x: 2.5 + x),
        ("pg.add(x, -1)", lambda x: x - 1), ("x.add(True)", lambda x: x + 1)))),
    OpInfo("sub", ("pg.sub(x, y)", "x.sub(y)", "x - y"), lambda x, y: x - y,
           _with_alpha("sub", -1)),
    OpInfo("sub_number", (), None, _scalar_ref_samples(_u, (
        ("x - 1.5", lambda x: x - 1.5), ("2.5 - x", lambda x: 2.5 - x),
        ("x.sub(3)", lambda x: x - 3)))),
    OpInfo("mul", ("pg.mul(x, y)", "x.mul(y)", "x * y"), lambda x, y: x * y,
           lambda rng: binary()(rng) + [
               Sample("mixed_float64", (_u(rng, (3, 4)), _u(rng, (4,))),
                      call="x * y.to(pg.float64)", out_dtype="float64"),
               Sample("int_tensor", (_u(rng, (2, 3)),),
                      consts={"i": rng.integers(-3, 4, size=(3,))}, call="x * i",
                      ref=lambda x, i: x * i),
               Sample("bool_tensor", (_u(rng, (2, 3)),), consts={"m": rng.random((2, 3)) < 0.5},
                      call="m * x", ref=lambda x, m: m * x)]),
    OpInfo("mul_number", (), None, _scalar_ref_samples(_u, (
        ("x * 1.5", lambda x: x * 1.5), ("-2.0 * x", lambda x: -2.0 * x),
        ("x.mul(3)", lambda x: x * 3), ("pg.mul(x, 0.5)", lambda x: x * 0.5)))),
    OpInfo("div", ("pg.div(x, y)", "x.div(y)", "x / y", "pg.true_divide(x, y)",
                   "x.true_divide(y)"), lambda x, y: x / y, binary(_u, _away)),
    OpInfo("div_number", (), None, _scalar_ref_samples(_away, (
        ("x / 1.5", lambda x: x / 1.5), ("2.0 / x", lambda x: 2.0 / x),
        ("x.div(-4)", lambda x: x / -4), ("3 / x", lambda x: 3 / x)))),
    OpInfo("pow", ("pg.pow(x, y)", "x.pow(y)", "x ** y"), lambda x, y: np.power(x, y),
           binary(_pos, _u)),
    OpInfo("pow_number", (), None, _pow_scalar_samples),
    OpInfo("rpow", (), None, _scalar_ref_samples(_u, (
        ("2.0 ** x", lambda x: 2.0 ** x), ("pg.pow(1.5, x)", lambda x: 1.5 ** x),
        ("0.5 ** x", lambda x: 0.5 ** x)))),
    _binary("maximum", np.maximum),
    _binary("minimum", np.minimum),
    OpInfo("clamp", ("pg.clamp(x, **kw)", "x.clamp(**kw)", "pg.clip(x, **kw)", "x.clip(**kw)"),
           _clamp, _clamp_samples),
    OpInfo("where", ("pg.where(c, x, y)",), lambda x, y, c: np.where(c, x, y), _where_samples),
    OpInfo("to", (), lambda x, **_: x.copy(), _to_samples,
           fwd_rtol={"float32": 1e-3, "float64": 1e-3}, grad_rtol={"float64": 2e-3,
                                                                   "float32": 2e-3}),
    OpInfo("to_integer", (), None, _to_integer_samples, differentiable=False),
    # elementwise math: logarithms, rounding, trigonometry, special functions, modulo
    _unary("log2", np.log2, _pos),
    _unary("log10", np.log10, _pos),
    _rounding("floor", np.floor),
    _rounding("ceil", np.ceil),
    _rounding("trunc", np.trunc),
    _rounding("round", np.round),
    OpInfo("round_decimals", (), None, _round_samples),
    _unary("frac", lambda x: x - np.trunc(x), _off_grid),
    _unary("sinh", np.sinh),
    _unary("cosh", np.cosh),
    _unary("tan", np.tan, lambda rng, s: _u(rng, s, -1.2, 1.2)),
    _unary("asin", np.arcsin, _unit),
    _unary("acos", np.arccos, _unit),
    _unary("atan", np.arctan),
    _unary("erf", _erf),
    _unary("erfinv", _erfinv, _unit),
    _float_test("isnan", np.isnan, False),
    _float_test("isinf", np.isinf, False),
    _float_test("isfinite", np.isfinite, True),
    OpInfo("nan_to_num", (), None, _nan_to_num_samples),
    _binary_inplace("atan2", np.arctan2, _u, _away),
    _binary_inplace("hypot", np.hypot, _away, _away),
    OpInfo("fmod", ("pg.fmod(x, y)", "x.fmod(y)"), np.fmod, _modulo_samples("fmod")),
    OpInfo("remainder", ("pg.remainder(x, y)", "x.remainder(y)"), np.remainder,
           _modulo_samples("remainder")),
    OpInfo("floor_divide", ("pg.floor_divide(x, y)", "x.floor_divide(y)"), np.floor_divide,
           _floor_divide_samples, differentiable=False),
    OpInfo("clamp_min", (), None, _clamp_bound_samples("clamp_min")),
    OpInfo("clamp_max", (), None, _clamp_bound_samples("clamp_max")),
    OpInfo("lerp", (), None, _lerp_samples),
    # comparisons and logic: forward only
    _cmp("eq", "==", np.equal),
    _cmp("ne", "!=", np.not_equal),
    _cmp("lt", "<", np.less),
    _cmp("le", "<=", np.less_equal),
    _cmp("gt", ">", np.greater),
    _cmp("ge", ">=", np.greater_equal),
    _logical("logical_and", "&", np.logical_and),
    _logical("logical_or", "|", np.logical_or),
    OpInfo("logical_not", ("pg.logical_not(a)", "a.logical_not()", "~a"),
           lambda a: np.logical_not(a),
           lambda rng: [Sample(d, (), consts={"a": rng.random(s) < 0.5})
                        for d, s, _ in UNARY_SHAPES if d != "noncontig"],
           differentiable=False),
    # reductions
    OpInfo("sum", ("pg.sum(x, **kw)", "x.sum(**kw)"), _reduce(np.sum),
           _reduction_samples(dtype_call=("x.sum(dtype=pg.float64)", np.sum))),
    OpInfo("mean", ("pg.mean(x, **kw)", "x.mean(**kw)"), _reduce(np.mean),
           _reduction_samples(empty_full=False,
                              dtype_call=("pg.mean(x, 1, dtype=pg.float64)",
                                          lambda x: np.mean(x, 1)))),
    OpInfo("prod", ("pg.prod(x, **kw)", "x.prod(**kw)"), _reduce(np.prod), _prod_samples),
    OpInfo("max", ("pg.max(x, **kw)", "x.max(**kw)"), _extreme(np.max, np.argmax),
           _fill(_extreme_samples, "max")),
    OpInfo("min", ("pg.min(x, **kw)", "x.min(**kw)"), _extreme(np.min, np.argmin),
           _fill(_extreme_samples, "min")),
    OpInfo("amax", ("pg.amax(x, **kw)", "x.amax(**kw)"), _amax(np.max), _amax_samples),
    OpInfo("amin", ("pg.amin(x, **kw)", "x.amin(**kw)"), _amax(np.min), _amax_samples),
    OpInfo("var", ("pg.var(x, **kw)", "x.var(**kw)"), _var, _var_samples),
    OpInfo("std", ("pg.std(x, **kw)", "x.std(**kw)"), lambda x, **kw: np.sqrt(_var(x, **kw)),
           _var_samples),
    OpInfo("logsumexp", ("pg.logsumexp(x, **kw)", "x.logsumexp(**kw)"), _logsumexp,
           _logsumexp_samples),
    OpInfo("softmax", ("pg.softmax(x, **kw)", "x.softmax(**kw)"), _softmax, _softmax_samples),
    OpInfo("log_softmax", ("pg.log_softmax(x, **kw)", "x.log_softmax(**kw)"), _log_softmax,
           _softmax_samples),
    OpInfo("argmax", ("pg.argmax(x, **kw)", "x.argmax(**kw)"), _arg(np.argmax),
           lambda rng: [s for s in _extreme_samples(rng) if "binary" not in s.desc] +
           [Sample("all_keepdim", (_u(rng, (3, 4)),), kw={"keepdim": True})],
           differentiable=False),
    OpInfo("argmin", ("pg.argmin(x, **kw)", "x.argmin(**kw)"), _arg(np.argmin),
           lambda rng: [s for s in _extreme_samples(rng) if "binary" not in s.desc],
           differentiable=False),
    OpInfo("all", ("pg.all(x, **kw)", "x.all(**kw)"), _logical_reduce(np.all),
           lambda rng: [Sample(s.desc, tuple(np.where(np.abs(a) < 0.3, 0.0, a)
                                             for a in s.inputs), kw=s.kw, noncontig=s.noncontig)
                        for s in _reduction_samples(zero_d=False)(rng)],
           differentiable=False),
    OpInfo("any", ("pg.any(x, **kw)", "x.any(**kw)"), _logical_reduce(np.any),
           lambda rng: [Sample(s.desc, tuple(np.where(np.abs(a) < 1.5, 0.0, a)
                                             for a in s.inputs), kw=s.kw, noncontig=s.noncontig)
                        for s in _reduction_samples(zero_d=False)(rng)],
           differentiable=False),
    OpInfo("count_nonzero", ("pg.count_nonzero(x, **kw)", "x.count_nonzero(**kw)"),
           _count_nonzero_ref, _count_nonzero_samples, differentiable=False),
    OpInfo("aminmax", ("pg.aminmax(x, **kw)", "x.aminmax(**kw)"), _aminmax_ref,
           _aminmax_samples),
    OpInfo("cumsum", ("pg.cumsum(x, **kw)", "x.cumsum(**kw)"), _scan(np.cumsum),
           lambda rng: _scan_samples()(rng) + [
               Sample("dtype_float64", (_u(rng, (3, 4)),), call="x.cumsum(1, dtype=pg.float64)",
                      ref=lambda x: np.cumsum(x, 1), out_dtype="float64")]),
    OpInfo("cumprod", ("pg.cumprod(x, **kw)", "x.cumprod(**kw)"), _scan(np.cumprod),
           _scan_samples(zeros=True)),
    OpInfo("sort", ("pg.sort(x, **kw)", "x.sort(**kw)"), _sort_ref, _sort_samples),
    OpInfo("argsort", ("pg.argsort(x, **kw)", "x.argsort(**kw)"),
           lambda x, **kw: _sort_ref(x, **kw)[1], _sort_samples, differentiable=False),
    OpInfo("topk", ("pg.topk(x, **kw)", "x.topk(**kw)"), _topk_ref, _topk_samples),
    OpInfo("kthvalue", ("pg.kthvalue(x, **kw)", "x.kthvalue(**kw)"), _kthvalue_ref,
           _kthvalue_samples),
    OpInfo("norm", ("pg.norm(x, **kw)", "x.norm(**kw)"), _norm_ref, _norm_samples),
    OpInfo("unique", ("pg.unique(x, **kw)", "x.unique(**kw)"), _unique_ref, _unique_samples,
           differentiable=False),
    OpInfo("unique_consecutive", ("pg.unique_consecutive(x, **kw)",
                                  "x.unique_consecutive(**kw)"),
           lambda x, **kw: _unique_ref(x, consecutive=True, **kw), _unique_samples,
           differentiable=False),
    # shapes and indexing
    OpInfo("reshape", (), None, _reshape_samples),
    OpInfo("view", (), None, _view_samples),
    OpInfo("flatten", (), None, _flatten_samples),
    OpInfo("squeeze", (), None, _squeeze_samples),
    OpInfo("unsqueeze", (), None, _unsqueeze_samples),
    OpInfo("permute", (), None, _permute_samples),
    OpInfo("transpose", (), None, _transpose_samples),
    OpInfo("movedim", (), None, _movedim_samples),
    OpInfo("expand", (), None, _expand_samples),
    OpInfo("cat", (), None, _cat_samples),
    OpInfo("stack", (), None, _stack_samples),
    OpInfo("split", (), None, _split_samples),
    OpInfo("chunk", (), None, _chunk_samples),
    OpInfo("unbind", (), None, _unbind_samples),
    OpInfo("narrow", (), None, _narrow_samples),
    OpInfo("unfold", (), None, _unfold_samples),
    OpInfo("getitem", (), None, _getitem_samples),
    # in place (on a copy: see _in_place_unary)
    OpInfo("in_place_unary", (), None, _in_place_unary),
    OpInfo("in_place_binary", (), None, _in_place_binary),
    OpInfo("setitem", (), None, _setitem_samples),
    # linear algebra
    OpInfo("matmul", ("pg.matmul(x, y)", "x @ y", "x.matmul(y)"), np.matmul, _matmul_samples),
    OpInfo("mm", ("pg.mm(x, y)", "x.mm(y)"), np.matmul, _mm_samples),
    OpInfo("bmm", ("pg.bmm(x, y)", "x.bmm(y)"), np.matmul, _bmm_samples),
    OpInfo("dot", ("pg.dot(x, y)", "x.dot(y)"), np.dot, _dot_samples),
    # shapes, indexing and products composed from existing kernels
    *SHAPE_INDEX_PRODUCT_OPS,
    # plugrad.linalg
    *LINALG_OPS,
)

BY_NAME = {op.name: op for op in OPS}

# Public names that are not ops, or whose behaviour the engine cases check instead.
NOT_OPS = {
    # random draws: no reference to compare values with; tests/test_sampling.py checks their
    # laws, seeding, errors and (zero) gradients against torch
    "bernoulli": "a random draw", "Tensor.bernoulli": "a random draw",
    "Tensor.bernoulli_": "a random draw", "normal": "a random draw",
    "multinomial": "a random draw", "Tensor.multinomial": "a random draw",
    "Tensor.uniform_": "a random draw", "Tensor.normal_": "a random draw",
    "Tensor.random_": "a random draw", "Tensor.exponential_": "a random draw",
    # plugrad functions
    "broadcast_shapes": "computes a shape from shapes; no tensors involved",
    "detach": "leaves the graph; an engine case checks it",
    "compute": "evaluates pending work of lazy tensors, values unchanged; an engine case",
    "is_tensor": "a type test",
    "numel": "metadata",
    "save": "file I/O",
    "load": "file I/O",
    # Tensor attributes and methods that are not ops
    "Tensor.backward": "the engine; engine cases",
    "Tensor.register_hook": "hooks; engine cases",
    "Tensor.register_post_accumulate_grad_hook": "hooks; engine cases",
    "Tensor.retain_grad": "engine cases",
    "Tensor.retains_grad": "engine cases",
    "Tensor.requires_grad": "engine cases",
    "Tensor.requires_grad_": "engine cases",
    "Tensor.grad": "engine cases",
    "Tensor.grad_fn": "engine cases",
    "Tensor.is_leaf": "engine cases",
    "Tensor.detach": "engine cases",
    "Tensor.detach_": "engine cases",
    "Tensor.backend": "metadata",
    "Tensor.device": "metadata: the device type its backend serves; tests/test_device.py",
    "Tensor.cuda": "moves to the backend serving 'cuda' (CuPy): tests/test_device.py",
    "Tensor.data": "tests/test_tensor.py (storage sharing, setter, version counter vs torch)",
    "Tensor.__deepcopy__": "copy.deepcopy: tests/test_tensor.py, vs torch",
    "Tensor.array": "the backend array itself; tests/test_tensor.py",
    "Tensor.dtype": "metadata",
    "Tensor.shape": "metadata",
    "Tensor.ndim": "metadata",
    "Tensor.dim": "metadata",
    "Tensor.size": "metadata",
    "Tensor.numel": "metadata",
    "Tensor.nelement": "metadata",
    "Tensor.is_floating_point": "metadata",
    "Tensor.item": "conversion to Python; engine cases",
    "Tensor.tolist": "conversion to Python; every check reads results with it",
    "Tensor.numpy": "conversion to NumPy; engine cases",
    "Tensor.__array__": "conversion to NumPy",
    "Tensor.__array_ufunc__": "None: makes NumPy defer to the reflected operators",
    "Tensor.__bool__": "conversion to Python",
    "Tensor.__float__": "conversion to Python",
    "Tensor.__int__": "conversion to Python",
    "Tensor.__index__": "conversion to Python",
    "Tensor.__len__": "metadata",
    "Tensor.__iter__": "iterates with getitem, which has an entry",
    "Tensor.__rmatmul__": "only reached with a non-tensor on the left, which matmul refuses",
}

_OP_MODULES = ("plugrad.pointwise", "plugrad.reduction", "plugrad.shape", "plugrad.linalg",
               "plugrad.matrices", "plugrad.indexing", "plugrad.inplace", "plugrad")


def public_ops() -> list:
    """The public names to account for: every name the op declarations export
    (`plugrad.declare.public_names`), and any other function of plugrad's op
    modules or Tensor member, so that an undeclared op is not missed either.

    Names are "exp" for `plugrad.exp` and "Tensor.exp" / "Tensor.__add__" for
    members of Tensor. Classes, modules, creation functions, grad modes and
    dtype helpers are not ops and are not listed.
    """
    import inspect

    import plugrad as pg
    from plugrad.declare import public_names
    names = set(public_names())
    for name in dir(pg):
        if name.startswith("_"):
            continue
        obj = getattr(pg, name)
        if inspect.isclass(obj) or inspect.ismodule(obj) or not callable(obj):
            continue
        if getattr(obj, "__module__", None) in _OP_MODULES:
            names.add(name)
    # class bookkeeping, not ops (__firstlineno__ and __static_attributes__ are new in 3.13)
    skip = set(dir(object)) | {"__slots__", "__module__", "__weakref__", "__dict__",
                               "__annotations__", "__firstlineno__", "__static_attributes__"}
    for name in dir(pg.Tensor):
        if name.startswith("_") and not name.startswith("__"):
            continue
        if name in skip:
            continue
        names.add(f"Tensor.{name}")
    for name in ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"):
        if getattr(pg.Tensor, name) is not getattr(object, name, None):
            names.add(f"Tensor.{name}")
    # the functions of the torch.linalg namespace that are not plugrad.* functions too
    for name in dir(pg.linalg):
        obj = getattr(pg.linalg, name)
        if name.startswith("_") or inspect.isclass(obj) or inspect.ismodule(obj) or \
                not callable(obj) or getattr(pg, name, None) is obj:
            continue
        if getattr(obj, "__module__", None) in ("plugrad.linalg", "plugrad.matrices"):
            names.add(f"linalg.{name}")
    return sorted(names)


_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "truediv",
           ast.Pow: "pow", ast.MatMult: "matmul", ast.BitAnd: "and", ast.BitOr: "or",
           ast.Mod: "mod", ast.FloorDiv: "floordiv"}
_CMPOPS = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt",
           ast.GtE: "ge"}
_UNOPS = {ast.USub: "__neg__", ast.UAdd: "__pos__", ast.Invert: "__invert__"}


def names_called(expr: str, tensors=("x", "y", "z")) -> set:
    """The public names an expression reaches: pg.exp(x) -> exp, x.exp() -> Tensor.exp, ..."""
    tree = ast.parse(expr, mode="eval")
    found = set()

    def is_tensor(node) -> bool:
        if isinstance(node, ast.Name):
            return node.id in tensors
        return isinstance(node, (ast.Call, ast.Attribute, ast.Subscript, ast.BinOp)) and not (
            isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id == "pg")

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and \
                isinstance(node.value.value, ast.Name) and node.value.value.id == "pg" and \
                node.value.attr == "linalg":
            found.add(f"linalg.{node.attr}")  # pg.linalg.inv: the namespace's function
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == "pg":
                found.add(node.attr)
            elif is_tensor(node.value):
                found.add(f"Tensor.{node.attr}")
        elif isinstance(node, ast.Attribute) and is_tensor(node.value):
            found.add(f"Tensor.{node.attr}")
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            op = _BINOPS[type(node.op)]
            if is_tensor(node.left):
                found.add(f"Tensor.__{op}__")
            elif is_tensor(node.right):
                found.add(f"Tensor.__r{op}__")
        elif isinstance(node, ast.Compare):
            for op in node.ops:
                found.add(f"Tensor.__{_CMPOPS[type(op)]}__")
        elif isinstance(node, ast.UnaryOp) and type(node.op) in _UNOPS and is_tensor(node.operand):
            found.add(f"Tensor.{_UNOPS[type(node.op)]}")
        elif isinstance(node, ast.Subscript) and is_tensor(node.value):
            found.add("Tensor.__getitem__")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "abs":
            found.add("Tensor.__abs__")
    return found


def covered_names() -> dict:
    """Public name -> the entries whose samples call it."""
    covered: dict = {}
    for op in OPS:
        for sample in op.sample_list():
            tensors = tuple("xyz"[:len(sample.inputs)]) + tuple(sample.consts)
            for name in names_called(sample.call, tensors):
                covered.setdefault(name, set()).add(op.name)
    return covered


def uncovered() -> list:
    """Public ops that no entry calls and NOT_OPS does not account for."""
    covered = covered_names()
    return [name for name in public_ops() if name not in covered and name not in NOT_OPS]
