"""The op table on the backend under test: forward, gradient and second derivative per sample."""
from __future__ import annotations

import pytest
from plugrad.conformance.checks import CheckFailure, Unsupported, check_sample, stages_of
from plugrad.conformance.op_table import OPS, uncovered

DTYPES = ("float32", "float64")
CASES = [pytest.param(op, sample, dtype, id=f"{op.name}-{dtype}-{sample.desc}",
                      marks=pytest.mark.plugrad_conformance("op", op.name))
         for op in OPS for sample in op.sample_list() for dtype in DTYPES]


@pytest.mark.parametrize("op, sample, dtype", CASES)
def test_op(op, sample, dtype, plugrad_target, record_property):
    record_property("plugrad_stages", stages_of(op, sample, dtype))
    failure = None
    try:
        check_sample(op, sample, dtype, plugrad_target.setup_code)
    except CheckFailure as err:
        failure = err
    if failure is not None:  # reported outside the except block: no chained traceback
        record_property("plugrad_stage", failure.stage)
        if isinstance(failure, Unsupported):
            record_property("plugrad_unsupported", failure.error)
        record_property("plugrad_repro", failure.repro)
        pytest.fail(f"{op.name} [{dtype}, {sample.desc}]: {sample.call}\n{failure}",
                    pytrace=False)


@pytest.mark.plugrad_conformance("coverage", "op table")
def test_every_public_op_has_an_entry():
    missing = uncovered()
    assert not missing, (
        f"public ops with no entry in plugrad/conformance/op_table.py: {', '.join(missing)}. "
        f"Add samples that call them (or, for a name that is not an op, a line in NOT_OPS)")
