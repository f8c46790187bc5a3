"""plugrad.cuda: torch.cuda's questions, answered by the backend that serves "cuda" (CuPy).

>>> import plugrad as pg
>>> pg.cuda.is_available() in (True, False)
True
"""
from __future__ import annotations

from .backend import BackendUnavailable
from .backends import for_device

__all__ = ["is_available", "device_count", "current_device"]


def is_available() -> bool:
    """Whether a backend serving "cuda" runs here (CuPy installed and a GPU it can use)."""
    try:
        for_device("cuda")
    except BackendUnavailable:
        return False
    return True


def device_count() -> int:
    """How many CUDA devices the "cuda" backend sees (0 where there is none)."""
    if not is_available():
        return 0
    bk = for_device("cuda")
    count = getattr(bk, "device_count", None)
    return int(count()) if callable(count) else 1


def current_device() -> int:
    """The index of the CUDA device new tensors go to; RuntimeError where there is none."""
    bk = for_device("cuda")  # raises, saying why, where no backend serves cuda
    current = getattr(bk, "current_device", None)
    return int(current()) if callable(current) else 0
