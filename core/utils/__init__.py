"""plugrad.utils: torch.utils's data loading (plugrad.utils.data)."""
from __future__ import annotations

from . import data

__all__ = ["data"]
