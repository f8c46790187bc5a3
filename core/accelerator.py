"""plugrad.accelerator: torch.accelerator, the device-neutral view of the GPU (if any).

The accelerator is the first device type other than "cpu" that some ready
backend serves ("cuda" through CuPy, or a plugin's such as "mps").

>>> import plugrad as pg
>>> pg.accelerator.current_accelerator() is None or pg.accelerator.is_available()
True
"""
from __future__ import annotations

from .backend import BackendUnavailable
from .backends import available, for_device, get
from .device import device

__all__ = ["is_available", "current_accelerator", "device_count"]


def current_accelerator(check_available: bool = False) -> device | None:  # noqa: V107
    """The accelerator's device type as a device (device(type='cuda')), or None.

    Only an accelerator that is ready here counts, with or without
    `check_available` (torch's distinction is between builds; plugrad has one).
    """
    for name in available():
        kind = get(name).device_type
        if kind != "cpu":
            return device(kind)
    return None


def is_available() -> bool:
    """Whether an accelerator is ready here."""
    return current_accelerator() is not None


def device_count() -> int:
    """How many devices the accelerator has (0 without one)."""
    found = current_accelerator()
    if found is None:
        return 0
    try:
        bk = for_device(found)
    except BackendUnavailable:
        return 0
    count = getattr(bk, "device_count", None)
    return int(count()) if callable(count) else 1
