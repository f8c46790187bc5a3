"""plugrad.nn: layers, models and losses, as in torch.nn.

>>> import plugrad as pg
>>> from plugrad import nn
>>> model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
>>> sum(p.numel() for p in model.parameters())
17
"""
from __future__ import annotations

from . import conv_layers as _conv_layers
from . import functional, init
from .conv_layers import *  # noqa: F403 - convolution, pooling and reshaping layers
from .module import Module
from .modules import (
    CrossEntropyLoss,
    Dropout,
    Identity,
    Linear,
    MSELoss,
    NLLLoss,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)
from .parameter import Parameter

__all__ = ["Module", "Parameter", "Linear", "Sequential", "ReLU", "Tanh", "Sigmoid", "Dropout",
           "Identity", "CrossEntropyLoss", "NLLLoss", "MSELoss", "functional", "init",
           *_conv_layers.__all__]
