"""plugrad.nn: layers, models and losses, as in torch.nn.

>>> import plugrad as pg
>>> from plugrad import nn
>>> model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
>>> sum(p.numel() for p in model.parameters())
17
"""
from __future__ import annotations

from . import conv_layers as _conv_layers
from . import functional, init, utils
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList
from .conv_layers import *  # noqa: F403 - convolution, pooling and reshaping layers
from .layers import (
    ELU,
    GELU,
    BatchNorm1d,
    BatchNorm2d,
    BCELoss,
    BCEWithLogitsLoss,
    Dropout2d,
    Embedding,
    GroupNorm,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    LayerNorm,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    PReLU,
    ReLU6,
    SiLU,
    SmoothL1Loss,
    Softmax,
    Softplus,
    Softsign,
    Tanhshrink,
)
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
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .transformer import (
    MultiheadAttention,
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ = ["Module", "Parameter", "Linear", "Sequential", "ReLU", "Tanh", "Sigmoid", "Dropout",
           "Identity", "CrossEntropyLoss", "NLLLoss", "MSELoss", "functional", "init",
           "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell",
           # activations, normalization, embedding, dropout and losses (.layers)
           "LeakyReLU", "ELU", "GELU", "SiLU", "Mish", "Softplus", "Softmax", "LogSoftmax",
           "Hardtanh", "ReLU6", "PReLU", "Hardswish", "Hardsigmoid", "Softsign", "Tanhshrink",
           "LogSigmoid", "BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "Embedding",
           "Dropout2d", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss",
           "KLDivLoss",
           "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder",
           "TransformerDecoderLayer", "TransformerDecoder", "Transformer",
           "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "utils",
           *_conv_layers.__all__]
