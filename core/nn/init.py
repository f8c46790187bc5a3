"""plugrad.nn.init: fill parameters with starting values, in place.

Random values come from `generator=` (a plugrad.Generator) or the default
generator (seeded by plugrad.manual_seed): the same seed gives the same
weights on one backend, though not the same numbers as torch's generator.
"""
from __future__ import annotations

import math

from ..creation import rand, randn
from ..grad_mode import no_grad
from ..tensor import Tensor, _shareable

__all__ = ["uniform_", "normal_", "zeros_", "ones_", "constant_", "calculate_gain",
           "kaiming_uniform_"]


def _write(tensor: Tensor, data) -> Tensor:
    # in place, so that views, optimizers and state dicts holding `tensor` see the values
    tensor.backend.setitem(_shareable(tensor), (Ellipsis,), data)
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with values drawn uniformly from [a, b).

    >>> import plugrad as pg
    >>> from plugrad.nn import init
    >>> w = init.uniform_(pg.empty(3), -0.1, 0.1)
    >>> bool(((w >= -0.1) & (w < 0.1)).all())
    True
    """
    k = tensor.backend
    with no_grad():
        u = rand(tuple(tensor.shape), generator=generator, dtype=tensor.dtype, backend=k)._array
        return _write(tensor, k.add(k.mul(u, b - a), a))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with values drawn from the normal distribution N(mean, std**2).

    >>> import plugrad as pg
    >>> from plugrad.nn import init
    >>> init.normal_(pg.empty(2), 3.0, 0.0)
    tensor([3., 3.])
    """
    k = tensor.backend
    with no_grad():
        z = randn(tuple(tensor.shape), generator=generator, dtype=tensor.dtype, backend=k)._array
        return _write(tensor, k.add(k.mul(z, std), mean))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with `val`."""
    return _write(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    return _write(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    return _write(tensor, 1)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps activations' variance steady through `nonlinearity`."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _fans(tensor: Tensor) -> tuple[int, int]:
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than "
                         "2 dimensions")
    receptive = 1
    for s in shape[2:]:
        receptive *= s
    return shape[1] * receptive, shape[0] * receptive


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He initialisation: U(-bound, bound) with bound = gain * sqrt(3 / fan).

    nn.Linear uses a=sqrt(5), which makes the bound 1/sqrt(fan_in).
    """
    if 0 in tuple(tensor.shape):
        return tensor  # nothing to fill (torch warns that this is a no-op)
    fan_in, fan_out = _fans(tensor)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan = fan_in if mode == "fan_in" else fan_out
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator)
