"""Random sampling from tensors of probabilities and parameters: bernoulli, normal,
multinomial (randperm, which takes no tensor, is with the creation functions).

The draws come from a random stream on the tensor's backend: `generator=`'s
(a plugrad.Generator) or the default generator's (seeded by
`plugrad.manual_seed`), so a seeded program draws the same numbers again.
The in-place fills torch's nn.init uses (`uniform_`, `normal_`, `random_`,
`exponential_`) are here too. As
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
from .random import stream
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
    draws = stream(generator, k).uniform(shape, d if d.is_floating_point else dtypes.float64)
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
    noise = stream(generator, k).normal(shape, d)
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
    draws = k.tolist(stream(generator, k).uniform(
        (len(weights), num_samples if replacement else n), dtypes.float64))
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


# -- in-place fills ------------------------------------------------------------------------------
def _fill(x: Tensor, data, name: str) -> Tensor:
    """x's values become `data` (a backend array of x's shape and dtype): the draw cuts x off
    its history (a zero gradient flows back, as in torch)."""
    return commit(x, _record_draw(_make(data, x.dtype, x.backend), name, (x,)))


@ops.declare(function=False)
def uniform_(x: Tensor, from_: float = 0.0, to: float = 1.0, *, generator=None) -> Tensor:
    """Fill x in place with numbers drawn uniformly from [from_, to).

    >>> import plugrad as pg
    >>> x = pg.empty(3).uniform_(-1, 1, generator=pg.Generator().manual_seed(0))
    >>> bool(((x >= -1) & (x < 1)).all())
    True
    """
    tensor_arg(x, "uniform_")
    check_inplace(x)
    low, high = number(from_, "uniform_"), number(to, "uniform_")
    if not low <= high:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={low} > to={high}")
    k, d = x.backend, x.dtype
    _float_only(d, "uniform_")
    u = stream(generator, k).uniform(tuple(x._array.shape), d)
    return _fill(x, k.astype(k.add(k.mul(u, high - low), low), d), "UniformBackward0")


@ops.declare(function=False)
def normal_(x: Tensor, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
    """Fill x in place with normal samples of the given mean and standard deviation.

    >>> import plugrad as pg
    >>> pg.zeros(2).normal_(5.0, 0.0)
    tensor([5., 5.])
    """
    tensor_arg(x, "normal_")
    check_inplace(x)
    _check_std(std, x.backend)
    k, d = x.backend, x.dtype
    _float_only(d, "normal_")
    z = stream(generator, k).normal(tuple(x._array.shape), d)
    data = k.add(k.mul(z, number(std, "normal_")), number(mean, "normal_"))
    return _fill(x, k.astype(data, d), "NormalBackward0")


@ops.declare(function=False)
def exponential_(x: Tensor, lambd: float = 1.0, *, generator=None) -> Tensor:
    """Fill x in place with exponential samples of rate `lambd` (mean 1 / lambd).

    >>> import plugrad as pg
    >>> bool((pg.empty(4).exponential_(2.0) >= 0).all())
    True
    """
    tensor_arg(x, "exponential_")
    check_inplace(x)
    rate = number(lambd, "exponential_")
    if not rate > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={rate}")
    k, d = x.backend, x.dtype
    if not d.is_floating_point:
        raise RuntimeError(f"Exponential distribution is a continuous probability "
                           f"distribution. dtype must be a floating point but you specified "
                           f"{d.name}")
    u = stream(generator, k).uniform(tuple(x._array.shape), dtypes.float64)
    data = k.div(k.neg(k.log(k.sub(1.0, u))), rate)   # 1 - u is in (0, 1]: never log(0)
    return _fill(x, k.astype(data, d), "ExponentialBackward0")


_RANDOM_TOP = {"float16": 2 ** 11, "float32": 2 ** 24, "float64": 2 ** 53, "int32": 2 ** 31 - 1,
               "int64": 2 ** 63 - 1, "bool": 2}


@ops.declare(function=False)
def random_(x: Tensor, from_: int = 0, to: int | None = None, *, generator=None) -> Tensor:
    """Fill x in place with integers drawn uniformly from [from_, to).

    `x.random_(to)` draws from [0, to); `x.random_()` from [0, 2**mantissa]
    for floats (every integer the dtype holds exactly) and [0, max] for integers.

    >>> import plugrad as pg
    >>> sorted(set(pg.zeros(100).random_(3).tolist()))
    [0.0, 1.0, 2.0]
    """
    tensor_arg(x, "random_")
    check_inplace(x)
    low, high = int(from_), to
    if high is None:
        if from_ != 0:
            low, high = 0, int(from_)
        else:
            high = _RANDOM_TOP[x.dtype.name] + (x.dtype.is_floating_point)
    high = int(high)
    if not low < high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    k = x.backend
    data = stream(generator, k).randint(low, high, tuple(x._array.shape), dtypes.int64)
    return _fill(x, k.astype(data, x.dtype), "RandomBackward0")


def _float_only(d, name: str) -> None:
    if not d.is_floating_point:
        raise NotImplementedError(f"{name} is not implemented for {d.name} tensors: it draws "
                                  f"floating point numbers")


__all__ = ops.exported()
