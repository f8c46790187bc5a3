"""plugrad.optim: optimizers that update parameters from their .grad, as in torch.optim.

>>> import plugrad as pg
>>> from plugrad import nn, optim
>>> model = nn.Linear(3, 1)
>>> opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
>>> loss = model(pg.ones(4, 3)).pow(2).mean()
>>> opt.zero_grad()
>>> loss.backward()
>>> opt.step()
"""
from __future__ import annotations

from .adam import Adam, AdamW
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW"]
