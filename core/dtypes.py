"""Data types and torch's type-promotion rules.

The core never looks inside arrays, so it decides every result dtype itself and
asks the backend for exactly that dtype. Backends map these objects to their own.
"""
from __future__ import annotations

__all__ = [
    "dtype", "bool", "int32", "int64", "float16", "float32", "float64",
    "get_default_dtype", "set_default_dtype", "promote_types", "result_type",
]

_builtin_bool = bool


class dtype:
    """A tensor element type; compare with `is` or `==`.

    >>> import plugrad as pg
    >>> pg.tensor([1.0]).dtype
    plugrad.float32
    """

    __slots__ = ("name", "itemsize", "category", "is_floating_point")

    # category orders bool < integer < floating, which is what promotion compares
    def __init__(self, name: str, itemsize: int, category: int) -> None:
        self.name = name
        self.itemsize = itemsize
        self.category = category
        self.is_floating_point = category == 2

    def __repr__(self) -> str:
        return f"plugrad.{self.name}"

    def __reduce__(self):
        return self.name


bool = dtype("bool", 1, 0)  # noqa: A001 - torch spells it this way
int32 = dtype("int32", 4, 1)
int64 = dtype("int64", 8, 1)
float16 = dtype("float16", 2, 2)
float32 = dtype("float32", 4, 2)
float64 = dtype("float64", 8, 2)

ALL = (bool, int32, int64, float16, float32, float64)
BY_NAME = {d.name: d for d in ALL}

_default_float = float32


def get_default_dtype() -> dtype:
    """The dtype Python floats become (float32 unless changed)."""
    return _default_float


def set_default_dtype(d: dtype) -> None:
    """Make Python floats become `d` (float32 or float64 or float16)."""
    global _default_float
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d!r}")
    _default_float = d


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both `a` and `b` convert to without losing their kind."""
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    return a if a.itemsize >= b.itemsize else b


def scalar_dtype(value) -> dtype:
    """The dtype torch gives a bare Python number."""
    if isinstance(value, _builtin_bool):
        return bool
    if isinstance(value, int):
        return int64
    if isinstance(value, float):
        return _default_float
    raise TypeError(f"expected a number, got {type(value).__name__}")


def result_type(*operands) -> dtype:
    """torch.result_type: dimensioned tensors outrank 0-d tensors, which outrank Python numbers.

    A lower tier only matters when it is of a higher category (bool < int < float)
    than everything above it.
    """
    tiers: list = [None, None, None]  # dimensioned, zero-dim, python scalar
    for op in operands:
        d = getattr(op, "dtype", None)
        if d is None:
            d, tier = scalar_dtype(op), 2
        else:
            tier = 0 if op.ndim else 1
        tiers[tier] = d if tiers[tier] is None else promote_types(tiers[tier], d)
    result = None
    for tier, d in enumerate(tiers):
        if d is None:
            continue
        if result is None:
            result = d
        elif d.category > result.category:
            # a Python float meeting an int tensor gives the default float dtype, not float64
            result = d if tier < 2 else (_default_float if d.category == 2 else d)
    return result
