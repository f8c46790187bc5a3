"""plugrad.nn.init: fill parameters with starting values, in place.

Every function works under no_grad, writes into the tensor's own memory (its
views, optimizers and state dicts see the values; its version goes up) and
returns the tensor. Random values come from `generator=` (a plugrad.Generator)
or the default generator (seeded by plugrad.manual_seed): the same seed gives
the same weights on one backend, though not the same numbers as torch's
generator; the distributions and the fan computations are torch's.
"""
from __future__ import annotations

import math
import warnings

from ..creation import eye, rand, randn, zeros_like
from ..grad_mode import no_grad
from ..pointwise import where
from ..tensor import Tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
           "zeros_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_"]


def _fill(tensor: Tensor, values: Tensor) -> Tensor:
    # copy_ under no_grad: in place, version bumped, converted to the tensor's dtype
    with no_grad():
        tensor.copy_(values)
    return tensor


def _uniform(tensor: Tensor, a: float, b: float, generator=None) -> Tensor:
    """Values uniform in [a, b), shaped and typed like `tensor` (not written into it)."""
    u = rand(tuple(tensor.shape), dtype=tensor.dtype, backend=tensor.backend,
             generator=generator)
    return u * (b - a) + a


def _normal(tensor: Tensor, mean: float, std: float, generator=None) -> Tensor:
    return randn(tuple(tensor.shape), dtype=tensor.dtype, backend=tensor.backend,
                 generator=generator) * std + mean


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps activations' variance steady through `nonlinearity`.

    >>> from plugrad.nn import init
    >>> init.calculate_gain("relu"), init.calculate_gain("leaky_relu", 0.2)
    (1.4142135623730951, 1.3867504905630728)
    """
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                        "conv_transpose2d", "conv_transpose3d", "sigmoid"):
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with values drawn uniformly from [a, b).

    >>> import plugrad as pg
    >>> from plugrad.nn import init
    >>> w = init.uniform_(pg.empty(3), -0.1, 0.1)
    >>> bool(((w >= -0.1) & (w < 0.1)).all())
    True
    """
    return _fill(tensor, _uniform(tensor, a, b, generator))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with values drawn from N(mean, std**2)."""
    return _fill(tensor, _normal(tensor, mean, std, generator))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator=None) -> Tensor:
    """Fill with values from N(mean, std**2) restricted to [a, b] (redrawn until inside).

    >>> import plugrad as pg
    >>> from plugrad.nn import init
    >>> w = init.trunc_normal_(pg.empty(1000), std=1.0, a=-0.5, b=0.5)
    >>> bool(((w >= -0.5) & (w <= 0.5)).all())
    True
    """

    def cdf(x: float) -> float:
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    with no_grad():
        if cdf((b - mean) / std) - cdf((a - mean) / std) > 0.3:
            # most normal draws land inside: redraw those that do not
            result = _normal(tensor, mean, std, generator)
            while True:
                outside = (result < a) | (result > b)
                if not bool(outside.any().item()):
                    break
                result = where(outside, _normal(tensor, mean, std, generator), result)
        else:
            # a narrow window: uniform proposals in [a, b], accepted with the density's
            # ratio to its peak inside the window
            peak = max(a, min(mean, b))
            log_peak = -0.5 * ((peak - mean) / std) ** 2
            result = _uniform(tensor, a, b, generator)
            pending = None
            while True:
                log_pdf = ((result - mean) / std) ** 2 * -0.5 - log_peak
                reject = _uniform(tensor, 0.0, 1.0).log() > log_pdf
                pending = reject if pending is None else pending & reject
                if not bool(pending.any().item()):
                    break
                result = where(pending, _uniform(tensor, a, b, generator), result)
        return _fill(tensor, result)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with `val`."""
    with no_grad():
        tensor.fill_(val)
    return tensor


def ones_(tensor: Tensor) -> Tensor:
    """Fill with ones."""
    return constant_(tensor, 1.0)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with zeros."""
    return constant_(tensor, 0.0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-d tensor with the identity matrix (ones on the diagonal, however wide).

    >>> import plugrad as pg
    >>> from plugrad.nn import init
    >>> init.eye_(pg.empty(2, 3))
    tensor([[1., 0., 0.],
            [0., 1., 0.]])
    """
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, eye(*tensor.shape, dtype=tensor.dtype, backend=tensor.backend))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3-, 4- or 5-d convolution weight with the Dirac delta: the convolution
    passes its input channels through (per group).

    >>> import plugrad as pg
    >>> from plugrad.nn import init
    >>> init.dirac_(pg.empty(2, 2, 3))
    tensor([[[0., 1., 0.],
             [0., 0., 0.]],
    <BLANKLINE>
            [[0., 0., 0.],
             [0., 1., 0.]]])
    """
    dims = tensor.ndim
    if dims not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tuple(tensor.shape)
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    per_group = sizes[0] // groups
    centre = tuple(s // 2 for s in sizes[2:])
    with no_grad():
        tensor.zero_()
        for g in range(groups):
            for d in range(min(per_group, sizes[1])):
                tensor[(g * per_group + d, d) + centre] = 1
    return tensor


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out): dims 1 and 0 times the size of the trailing (receptive field) dims.

    >>> import plugrad as pg
    >>> from plugrad.nn import init
    >>> init._calculate_fan_in_and_fan_out(pg.empty(16, 3, 5, 5))
    (75, 400)
    """
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than "
                         "2 dimensions")
    receptive = 1
    for s in shape[2:]:
        receptive *= s
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    valid = ["fan_in", "fan_out"]
    if mode not in valid:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot initialisation: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot initialisation: N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He initialisation: U(-bound, bound) with bound = gain * sqrt(3 / fan).

    nn.Linear uses a=sqrt(5), which makes the bound 1/sqrt(fan_in).
    """
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He initialisation: N(0, std**2) with std = gain / sqrt(fan)."""
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator)


def orthogonal_(tensor: Tensor, gain: float = 1, generator=None) -> Tensor:
    """Fill with a (semi-)orthogonal matrix times `gain`; dims after the first are flattened.

    The matrix is the Q of a Gaussian matrix's QR decomposition with R's diagonal made
    positive (uniform over orthogonal matrices, as torch's), computed by Gram-Schmidt.

    >>> import plugrad as pg
    >>> from plugrad.nn import init
    >>> w = init.orthogonal_(pg.empty(3, 5))
    >>> bool(((w @ w.T) - pg.eye(3)).abs().max() < 1e-5)
    True
    """
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    with no_grad():
        flat = randn(rows, cols, dtype=tensor.dtype, backend=tensor.backend,
                     generator=generator)
        if rows < cols:
            flat = flat.T
        q = _orthonormal_columns(flat)
        if rows < cols:
            q = q.T
        return _fill(tensor, (q * gain).reshape(tuple(tensor.shape)))


def _orthonormal_columns(a: Tensor) -> Tensor:
    """Gram-Schmidt on the columns of a tall matrix, each projected out twice (for
    float32's sake): the Q of QR with a positive diagonal in R."""
    q = zeros_like(a)
    for j in range(a.shape[1]):
        v = a[:, j]
        for _ in range(2):
            v = v - q @ (q.T @ v)  # columns not yet written are zeros: they drop out
        q[:, j] = v / (v * v).sum().sqrt()
    return q
