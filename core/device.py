"""Devices, as torch names them: a device type ("cpu", "cuda", a plugin's) and an index.

A device is served by a backend: "cpu" by the default CPU backend (NumPy),
"cuda" by CuPy, and any other type by a plugin whose `BackendSpec` declares it
(`device_type="mps"`). `device=` on a creation function or `.to()` picks that
backend (plugrad.backends.for_device); `backend=` stays the direct way.

>>> import plugrad as pg
>>> pg.device("cuda:1")
device(type='cuda', index=1)
>>> str(pg.device("cuda", 0)), pg.device("cpu") == pg.device("cpu")
('cuda:0', True)
"""
from __future__ import annotations

__all__ = ["device"]


class device:  # noqa: N801 - torch's name
    """A device type and an optional index: device("cpu"), device("cuda:0"), device("cuda", 1)."""

    __slots__ = ("type", "index")

    def __init__(self, type: "str | device", index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device(): an index cannot be given with a device")
            type, index = type.type, type.index
        elif isinstance(type, str):
            type, index = _parse(type, index)
        else:
            raise TypeError(f"device() received an invalid combination of arguments: "
                            f"expected a str, got {_name(type)}")
        self.type = type
        self.index = index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type={self.type!r})"
        return f"device(type={self.type!r}, index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if not isinstance(other, device):  # torch: a device never equals a str
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))


def _name(value) -> str:
    return type(value).__name__


def _parse(text: str, index) -> tuple:
    """(type, index) of "cuda", "cuda:1" or ("cuda", 1), with torch's errors."""
    kind, sep, number = text.partition(":")
    # torch knows a fixed list of types; here a plugin may serve a new one, so any name goes
    # and a type no backend serves is refused where it is used (backends.for_device)
    if not kind or not (kind.replace("_", "").isalnum() and kind[0].isalpha()):
        raise RuntimeError(f"Invalid device string: '{text}'")
    if sep:
        if index is not None:
            raise RuntimeError(f"type (string) must not include an index because index was "
                               f"passed explicitly: {text}")
        if not number.isdigit():
            raise RuntimeError(f"Invalid device string: '{text}'")
        index = int(number)
    if index is not None:
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"device(): argument 'index' must be int, not {_name(index)}")
        if index < 0:
            raise RuntimeError("Device index must not be negative")
    return kind, index
