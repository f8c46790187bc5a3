"""The layers: Linear, the activations, Dropout, Sequential and the loss modules.

Each is a thin Module around a function of plugrad.nn.functional.
"""
from __future__ import annotations

import math

from .. import dtypes
from ..creation import empty
from ..pointwise import relu as _relu
from . import functional as F
from . import init
from .containers import Sequential  # re-exported: it lived here before
from .module import Module
from .parameter import Parameter

__all__ = ["Linear", "ReLU", "Tanh", "Sigmoid", "Dropout", "Sequential", "Identity",
           "CrossEntropyLoss", "NLLLoss", "MSELoss"]


class Linear(Module):
    """y = x @ weight.T + bias, for x of shape (*, in_features).

    Weight (out_features, in_features) and bias (out_features,) start uniform in
    (-1/sqrt(in_features), 1/sqrt(in_features)), torch's default. `backend`
    plays the part of torch's `device`.

    >>> import plugrad as pg
    >>> from plugrad import nn
    >>> layer = nn.Linear(3, 2)
    >>> layer(pg.ones(4, 3)).shape
    plugrad.Size([4, 2])
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 backend=None, dtype=None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        dtype = dtype or dtypes.get_default_dtype()
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype, backend=backend))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype, backend=backend))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw new starting weights (torch's kaiming_uniform with a=sqrt(5))."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        # straight from the table: self.weight goes through Module.__getattr__, which
        # costs more than the rest of this call for a small layer
        params = self._parameters
        return F.linear(input, params["weight"], params["bias"])

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class ReLU(Module):
    """max(x, 0), elementwise."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return _relu(input)  # F.relu without its `inplace` wrapper: this runs per layer

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    """tanh(x), elementwise."""

    def forward(self, input):
        return input.tanh()


class Sigmoid(Module):
    """1 / (1 + exp(-x)), elementwise."""

    def forward(self, input):
        return input.sigmoid()


class Identity(Module):
    """Returns its input (a placeholder layer)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input):
        return input


class Dropout(Module):
    """In training mode, zero each element with probability p and scale the rest by 1/(1-p).

    >>> import plugrad as pg
    >>> from plugrad import nn
    >>> nn.Dropout(0.5).eval()(pg.ones(2))
    tensor([1., 1.])
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class CrossEntropyLoss(Module):
    """F.cross_entropy as a module: loss_fn(logits, targets).

    >>> import plugrad as pg
    >>> from plugrad import nn
    >>> nn.CrossEntropyLoss()(pg.tensor([[0.0, 0.0]]), pg.tensor([0]))
    tensor(0.6931)
    """

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__()
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.reduction = F._reduction(size_average, reduce, reduction)
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(Module):
    """F.nll_loss as a module: loss_fn(log_probabilities, targets)."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__()
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.reduction = F._reduction(size_average, reduce, reduction)

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class MSELoss(Module):
    """F.mse_loss as a module: loss_fn(prediction, target)."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = F._reduction(size_average, reduce, reduction)

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)
