"""plugrad.optim: optimizers that update parameters from their .grad, as in torch.optim,
and (plugrad.optim.lr_scheduler) schedules of their learning rates.

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

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax",
           "NAdam", "RAdam", "LBFGS", "lr_scheduler"]
