"""Type promotion follows torch: categories first, then tiers of operands."""
from __future__ import annotations

import plugrad as pg
import pytest
from plugrad import dtypes


@pytest.mark.parametrize("a, b, want", [
    (pg.int32, pg.int64, pg.int64), (pg.int64, pg.float16, pg.float16),
    (pg.float16, pg.float32, pg.float32), (pg.bool, pg.int32, pg.int32),
    (pg.float32, pg.float64, pg.float64), (pg.bool, pg.bool, pg.bool),
])
def test_promote_types(a, b, want):
    assert pg.promote_types(a, b) is want and pg.promote_types(b, a) is want


@pytest.mark.parametrize("operands, want", [
    ((pg.zeros(2, dtype=pg.int32), 5), pg.int32),
    ((pg.zeros(2, dtype=pg.int64), 2.5), pg.float32),
    ((pg.zeros(2, dtype=pg.bool), 1), pg.int64),
    ((pg.zeros(2, dtype=pg.float16), 2.5), pg.float16),
    ((pg.zeros(2), pg.tensor(1.0, dtype=pg.float64)), pg.float32),
    ((pg.zeros(2, dtype=pg.int64), pg.tensor(1.0, dtype=pg.float64)), pg.float64),
    ((pg.tensor(1, dtype=pg.int32), pg.tensor(1)), pg.int64),
    ((pg.tensor(1), 2.0), pg.float32),
    ((pg.zeros(2), pg.zeros(2, dtype=pg.float64)), pg.float64),
])
def test_result_type_tiers(operands, want):
    assert pg.result_type(*operands) is want


def test_scalar_dtype_rejects_non_numbers():
    with pytest.raises(TypeError):
        dtypes.scalar_dtype("1")


def test_dtype_repr_and_names():
    assert repr(pg.float32) == "plugrad.float32" and pg.float is pg.float32
    assert pg.long is pg.int64 and pg.double is pg.float64
    assert pg.float32.is_floating_point and not pg.int64.is_floating_point
