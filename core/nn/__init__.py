"""plugrad.nn: layers, models and losses, as in torch.nn.

>>> import plugrad as pg
>>> from plugrad import nn
>>> model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
>>> sum(p.numel() for p in model.parameters())
17
"""
from __future__ import annotations

from . import functional, init, utils
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList
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
           "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "utils"]
