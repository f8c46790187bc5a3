"""plugrad.nn.utils: gradient clipping and parameters as one vector, as torch.nn.utils.

Everything here works on `.grad` (or the parameters) in place, under no_grad, with
the tensors' own backend kernels; `foreach` is accepted for torch's signatures and
ignored (every tensor is handled one by one).
"""
from __future__ import annotations

import types
import warnings

from .. import dtypes
from ..creation import tensor as _tensor
from ..grad_mode import no_grad
from ..reduction import norm
from ..shape import cat, stack
from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_",
           "parameters_to_vector", "vector_to_parameters"]


def _as_list(tensors) -> list:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:
    """The norm of all `tensors` together, as if they were concatenated into one vector.

    >>> import plugrad as pg
    >>> from plugrad.nn.utils import get_total_norm
    >>> get_total_norm([pg.tensor([3.0]), pg.tensor([4.0])])
    tensor(5.)
    """
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return _tensor(0.0)
    first = tensors[0].backend
    norms = [norm(t, norm_type) for t in tensors]
    kind = norms[0].dtype
    for n in norms[1:]:
        kind = dtypes.promote_types(kind, n.dtype)
    total = norm(stack([n.to(first).to(kind) for n in norms]), norm_type)
    if error_if_nonfinite and bool((total.isnan() | total.isinf()).item()):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm: float, total_norm: Tensor,
                          foreach: bool | None = None) -> None:
    """Scale every gradient by min(max_norm / (total_norm + 1e-6), 1), in place."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    max_norm = float(max_norm)
    if not grads:
        return
    with no_grad():
        # no `if coef < 1`: as torch, always multiply (no device sync for the test)
        coef = (max_norm / (total_norm + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(coef.to(g.backend))


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Rescale the gradients so that their total norm is at most `max_norm`; returns the
    total norm before clipping (norm_type may be inf).

    >>> import plugrad as pg
    >>> from plugrad import nn
    >>> w = pg.zeros(2, requires_grad=True)
    >>> w.grad = pg.tensor([3.0, 4.0])
    >>> nn.utils.clip_grad_norm_([w], max_norm=1.0)
    tensor(5.)
    >>> w.grad
    tensor([0.6000, 0.8000])
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if generator and not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                          stacklevel=2)
    grads = [p.grad for p in parameters if p.grad is not None]
    with no_grad():
        total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_value_(parameters, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient into [-clip_value, clip_value], in place.

    >>> import plugrad as pg
    >>> from plugrad import nn
    >>> w = pg.zeros(3, requires_grad=True)
    >>> w.grad = pg.tensor([-2.0, 0.5, 3.0])
    >>> nn.utils.clip_grad_value_(w, 1.0)
    >>> w.grad
    tensor([-1.0000,  0.5000,  1.0000])
    """
    clip_value = float(clip_value)
    with no_grad():
        for p in _as_list(parameters):
            if p.grad is not None:
                p.grad.clamp_(min=-clip_value, max=clip_value)


def _check_backend(param: Tensor, first) -> object:
    if not isinstance(param, Tensor):
        raise TypeError(f"expected plugrad.Tensor, but got: {type(param).__name__}")
    if first is not None and param.backend is not first:
        raise TypeError("Found two parameters on different devices, this is currently not "
                        "supported.")
    return param.backend


def parameters_to_vector(parameters) -> Tensor:
    """All parameters flattened and joined into one vector (differentiable).

    >>> from plugrad import nn
    >>> nn.utils.parameters_to_vector(nn.Linear(3, 2).parameters()).shape
    plugrad.Size([8])
    """
    first = None
    pieces = []
    for p in parameters:
        first = _check_backend(p, first)
        pieces.append(p.reshape(-1))
    return cat(pieces)


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Give each parameter, in order, its slice of `vec` as its new data (sharing memory).

    >>> import plugrad as pg
    >>> from plugrad import nn
    >>> layer = nn.Linear(2, 1)
    >>> nn.utils.vector_to_parameters(pg.arange(3.0), layer.parameters())
    >>> layer.weight, layer.bias
    (tensor([[0., 1.]], requires_grad=True), tensor([2.], requires_grad=True))
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected plugrad.Tensor, but got: {type(vec).__name__}")
    first = None
    start = 0
    for p in parameters:
        first = _check_backend(p, first)
        n = p.numel()
        p.data = vec[start:start + n].view_as(p).data
        start += n
