"""Per-op micro-benchmarks: forward and backward of each op, timed separately.

One test per op of bench_ops.OP_CASES (a curated list of the conformance op
table's entries, on 128x128 float32 inputs) x direction x framework (plugrad
on every ready backend, and torch as the peer), grouped per op and direction
so pytest-benchmark prints plugrad and torch side by side. When a workload
gets slower, these say which op, and whether its forward or its backward.

    python -m pytest benchmarks/test_op_speed.py --benchmark-only -k "exp or matmul"

Each case first checks its gradients (against torch's when torch is here).
Under a plain `python -m pytest` each body runs once (see conftest.py).
"""
from __future__ import annotations

import bench_ops as bo
import bench_workloads as bw
import pytest
from plugrad.conformance.op_table import BY_NAME

CASES = [pytest.param(c, id=c.name) for c in bo.OP_CASES]
GRAD_CASES = [pytest.param(c, id=c.name) for c in bo.OP_CASES if c.grad]  # the differentiable
BACKWARD_ROUNDS = 200


def test_the_cases_are_op_table_entries():
    assert [c.name for c in bo.OP_CASES if c.table_entry not in BY_NAME
            and not (c.table_entry == "" and c.expr.startswith("F."))] == []
    assert len({c.name for c in bo.OP_CASES}) == len(bo.OP_CASES)


def _ready(case, op_framework):
    """The case's runners, checked; a skip where the backend lacks one of its kernels."""
    forward, setup, backward = bo.op_runners(case, op_framework)
    try:
        setup()
    except NotImplementedError as err:  # an optional kernel this backend does not have
        pytest.skip(f"{op_framework}: {err}")
    bo.check_op(case, op_framework, backward())
    return forward, setup, backward


@pytest.mark.parametrize("case", CASES)
def test_op_forward(benchmark, case, op_framework):
    forward, setup, backward = _ready(case, op_framework)
    benchmark.group = f"op {case.name} forward"
    bw.describe(benchmark, case.name, op_framework, kind="op-forward", expr=case.expr)
    benchmark(forward)


@pytest.mark.parametrize("case", GRAD_CASES)
def test_op_backward(benchmark, case, op_framework):
    forward, setup, backward = _ready(case, op_framework)
    benchmark.group = f"op {case.name} backward"
    bw.describe(benchmark, case.name, op_framework, kind="op-backward", expr=case.expr)
    # setup (a fresh forward) runs before every round, untimed; one backward per round
    grads = benchmark.pedantic(backward, setup=setup, rounds=BACKWARD_ROUNDS, iterations=1,
                               warmup_rounds=1)
    bo.check_op(case, op_framework, grads)
