"""Random sampling from tensors of probabilities and parameters: bernoulli, normal,
multinomial (randperm, which takes no tensor, is with the creation functions).

The draws come from the backend's generator (`uniform`, `normal`; seeded by
`plugrad.manual_seed`), so a seeded program draws the same numbers again. As
in torch, a sample records a node whose gradient is zero: a draw is not a
differentiable function of its parameters (use a reparametrisation, such as
`mean + std * pg.randn(...)`, for that).
"""
from __future__ import annotations

from . import dtypes
from .creation import resolve_backend
from .declare import Ops
from .grad_mode import STATE
from .inplace import check_inplace, commit
from .operands import broadcast_shapes, number, tensor_arg
from .recording import record
from .tensor import Tensor, _make

ops = Ops(__name__)


def _zero_backward(node, g):
    """A draw's gradient: zero for each parameter that is a tensor."""
    return tuple(None if fn is None else g * 0 for fn in node.inputs)


def _record_draw(out: Tensor, name: str, params: tuple) -> Tensor:
    if STATE.grad_enabled and any(type(p) is Tensor and p._rg for p in params):
        record(out, name, _zero_backward, params)
    return out


@ops.declare
def bernoulli(x: Tensor, p=None, *, generator=None) -> Tensor:
    """0 or 1 per element, 1 with probability x (or with probability `p` when given).

    >>> import plugrad as pg
    >>> pg.bernoulli(pg.tensor([0.0, 1.0]))
    tensor([0., 1.])
    """
    tensor_arg(x, "bernoulli")
    _no_generator(generator)
    k, d = x.backend, x.dtype
    shape = tuple(x._array.shape)
    if p is None:
        if not d.is_floating_point:
            raise RuntimeError(f"bernoulli: expected a floating point tensor of probabilities, "
                               f"got {d.name}")
        probs = x._array
        if not k.lazy and shape and (
                k.tolist(k.sum(k.astype(k.logical_or(k.lt(probs, 0), k.gt(probs, 1)),
                                        dtypes.int64), None, False))):
            raise RuntimeError("bernoulli: every probability must be in [0, 1]")
    else:
        probs = number(p, "bernoulli")
        if not 0 <= probs <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={probs}")
    draws = k.uniform(shape, d if d.is_floating_point else dtypes.float64)
    out = _make(k.astype(k.lt(draws, probs), d), d, k)
    return _record_draw(out, "BernoulliBackward0", (x,) if p is None else ())


@ops.declare(function=False)
def bernoulli_(x: Tensor, p=0.5, *, generator=None) -> Tensor:
    """Fill x in place with 0 or 1, 1 with probability `p` (a number or a tensor)."""
    tensor_arg(x, "bernoulli_")
    check_inplace(x)
    if type(p) is Tensor:
        draws = bernoulli(p.detach().to(x.backend).expand_as(x).to(x.dtype)
                          if p.dtype.is_floating_point else p, generator=generator)
    else:
        draws = bernoulli(x.detach(), p, generator=generator)
    return commit(x, draws.detach().to(x.dtype))


@ops.declare(method=False)
def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, backend=None,
           device=None) -> Tensor:
    """Normal samples with the given mean and standard deviation (tensors or numbers).

    With two numbers, `size` gives the shape: `pg.normal(0.0, 1.0, (2, 3))`.
    """
    _no_generator(generator)
    tensors = [t for t in (mean, std) if type(t) is Tensor]
    if not tensors:
        if size is None:
            raise TypeError("normal(): with a number mean and std, give size=")
        k = resolve_backend(backend, device)
        d = dtype or dtypes.get_default_dtype()
        shape, name = tuple(size) if not isinstance(size, int) else (size,), "NormalBackward3"
    else:
        k = tensors[0].backend
        d = tensors[0].dtype if len(tensors) == 1 else dtypes.promote_types(
            tensors[0].dtype, tensors[1].dtype)
        shape = broadcast_shapes(*[tuple(t._array.shape) for t in tensors])
        name = ("NormalBackward3" if len(tensors) == 2 else
                "NormalBackward1" if type(mean) is Tensor else "NormalBackward2")
    _check_std(std, k)
    noise = k.normal(shape, d)
    scale = std._array if type(std) is Tensor else number(std, "normal")
    shift = mean._array if type(mean) is Tensor else number(mean, "normal")
    out = _make(k.add(k.mul(noise, scale), shift), d, k)
    return _record_draw(out, name, (mean, std) if tensors else ())


def _check_std(std, k) -> None:
    if type(std) is Tensor:
        if not k.lazy and std.numel() and k.tolist(
                k.sum(k.astype(k.lt(std._array, 0), dtypes.int64), None, False)):
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif number(std, "normal") < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")


@ops.declare
def multinomial(x: Tensor, num_samples: int, replacement: bool = False, *,
                generator=None) -> Tensor:
    """`num_samples` category indices per row of weights x (1-D or 2-D), drawn in proportion
    to the weights; without replacement each index at most once per row.

    >>> import plugrad as pg
    >>> pg.multinomial(pg.tensor([0.0, 1.0, 0.0]), 2, replacement=True)
    tensor([1, 1])
    """
    tensor_arg(x, "multinomial")
    _no_generator(generator)
    if x.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{x.dtype.name}")
    rows = x.detach().reshape(-1, x.shape[-1]).double()
    n = rows.shape[-1]
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > n:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    k = x.backend
    weights = k.tolist(rows._array)
    if any(w < 0 or w != w for row in weights for w in row):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if any(sum(row) <= 0 for row in weights):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    draws = k.tolist(k.uniform((len(weights), num_samples if replacement else n),
                               dtypes.float64))
    picked = [_draw_row(row, u, num_samples, replacement) for row, u in zip(weights, draws)]
    out = k.asarray(picked if x.ndim == 2 else picked[0], dtypes.int64)
    return _make(out, dtypes.int64, k)


def _draw_row(weights: list, uniforms: list, count: int, replacement: bool) -> list:
    """Indices into `weights`: inverse-CDF draws with replacement; without, the largest
    u ** (1 / w) keys (Efraimidis-Spirakis: the same law as drawing one at a time)."""
    if replacement:
        total, cdf, acc = sum(weights), [], 0.0
        for w in weights:
            acc += w
            cdf.append(acc / total)
        return [min(_first_above(cdf, u), len(weights) - 1) for u in uniforms]
    keys = [(u ** (1.0 / w) if w > 0 else -1.0, i) for i, (w, u) in
            enumerate(zip(weights, uniforms))]
    return [i for _, i in sorted(keys, reverse=True)[:count]]


def _first_above(cdf: list, u: float) -> int:
    lo, hi = 0, len(cdf)
    while lo < hi:
        mid = (lo + hi) // 2
        if cdf[mid] <= u:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _no_generator(generator) -> None:
    if generator is not None:
        raise NotImplementedError("generator= is not supported yet: plugrad draws from each "
                                  "backend's generator, seeded by plugrad.manual_seed")


__all__ = ops.exported()
