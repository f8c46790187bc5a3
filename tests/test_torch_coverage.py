"""benchmarks/torch_coverage.py: its numbers add up and it counts what plugrad has.

It does not assert that coverage is complete: ops are being added.
"""
from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import plugrad as pg
import pytest

torch = pytest.importorskip("torch")

BENCHMARKS = pathlib.Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import torch_coverage  # noqa: E402


@pytest.fixture(scope="module")
def printed():
    run = subprocess.run([sys.executable, str(BENCHMARKS / "torch_coverage.py")],
                         capture_output=True, text=True, timeout=300, check=True)
    return run.stdout


def test_each_row_of_the_table_adds_up(printed):
    rows = re.findall(r"^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)%$", printed, re.M)
    areas = {area: (int(c), int(m), int(t)) for area, c, m, t, _ in rows}
    assert set(areas) == {"torch", "Tensor", "linalg", "autograd", "nn.functional", "all"}
    for area, (covered, missing, total) in areas.items():
        assert covered + missing == total, area
    parts = [v for k, v in areas.items() if k != "all"]
    assert areas["all"] == tuple(sum(col) for col in zip(*parts))
    for area, r in torch_coverage.coverage().items():
        assert areas[area] == (len(r["covered"]), len(r["missing"]), r["total"])
        listed = re.search(rf"^missing in {re.escape(area)} \((\d+)\):\n  (.*)$", printed, re.M)
        assert int(listed.group(1)) == len(r["missing"])
        assert listed.group(2).split() == (r["missing"] or ["none"])


def test_every_name_plugrad_has_counts_as_covered():
    result = torch_coverage.coverage()
    places = {"torch": pg, "Tensor": pg.Tensor, "linalg": pg.linalg, "autograd": pg.autograd,
              "nn.functional": pg.nn.functional}
    for area, torch_obj, _ in torch_coverage._areas():
        wanted = torch_coverage.names(torch_obj, area)
        has = {n for n in wanted if hasattr(places[area], n)}
        assert has == set(result[area]["covered"]), area
        assert not has & set(result[area]["missing"]), area
    # what this branch declared is there
    for name in ("cumsum", "cumprod", "sort", "argsort", "topk", "kthvalue", "norm",
                 "count_nonzero", "aminmax", "is_anomaly_enabled", "set_anomaly_enabled"):
        assert name in result["torch"]["covered"], name
    assert {"sort", "topk", "cumsum", "norm"} <= set(result["Tensor"]["covered"])


def test_item3_lists_exactly_the_missing_places(printed):
    missing = torch_coverage.item3_missing()
    for name in torch_coverage.ITEM3:
        if hasattr(torch, name):
            assert (name in missing) != hasattr(pg, name), name
        if hasattr(torch.Tensor, name):
            assert (f"Tensor.{name}" in missing) != hasattr(pg.Tensor, name), name
    assert "cumsum" not in missing and "Tensor.topk" not in missing
    head = re.search(r"^issue 16 item 3: (\d+) names, (\d+) places missing$", printed, re.M)
    assert int(head.group(1)) == len(torch_coverage.ITEM3) + len(torch_coverage.ITEM3_LINALG)
    assert int(head.group(2)) == len(missing)


def test_the_exclusion_rules_keep_api_classes_and_drop_internals():
    assert torch_coverage.excluded("no_grad", torch.no_grad, "torch") is None
    assert torch_coverage.excluded("_foo", len, "torch") is not None
    assert torch_coverage.excluded("quantize_per_tensor", len, "torch") == "quantization"
    assert torch_coverage.excluded("float32", torch.float32, "torch") is not None
    assert torch_coverage.excluded("shape", torch.Tensor.shape, "Tensor") is None
