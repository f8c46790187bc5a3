"""plugrad.autograd: the functional entry points to the backward engine."""
from __future__ import annotations

from .engine import backward, grad
from .grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled

__all__ = ["backward", "grad", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode"]
