"""plugrad.autograd: the backward engine's entry points and the tools built on them.

- `backward`, `grad`: run the engine (see docs/autograd.md)
- `Function`: custom differentiable operations (function.py)
- `functional`: jacobian, hessian, vjp, jvp, hvp, vhp (functional.py)
- `detect_anomaly`, `set_detect_anomaly`: find the forward line behind a NaN (anomaly_mode.py)
- `gradcheck`, `gradgradcheck`: compare gradients with finite differences (gradcheck.py)
"""
from __future__ import annotations

from .. import graph  # torch.autograd.graph.Node is plugrad.autograd.graph.Node
from ..engine import backward, grad
from ..grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled
from . import functional
from .anomaly_mode import (
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from .function import Function, FunctionCtx, once_differentiable
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["backward", "grad", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "Function", "FunctionCtx", "once_differentiable", "functional", "detect_anomaly",
           "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled",
           "gradcheck", "gradgradcheck", "GradcheckError", "graph"]
