"""plugrad.bench_dashboard: steps between saved runs (flagged beyond the noise, on the page and
by `plugrad bench compare`), tiles that say what is missing, the history chart's axis."""
from __future__ import annotations

import copy
import json
import pathlib
import re

import pytest
from plugrad import bench_dashboard as bd
from plugrad.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "benchmarks" / "fixtures" / "benchmarks"
MACHINE = "Linux-CPython-3.11-64bit"


def _base() -> dict:
    first = sorted((FIXTURE / MACHINE).glob("*.json"))[0]
    return json.loads(first.read_text(encoding="utf-8"))


def _save(storage: pathlib.Path, runs: list[dict], machine: str = MACHINE) -> pathlib.Path:
    """Write `runs` as saved runs 0001.. of `machine`, a day apart, in the autosave layout."""
    folder = storage / machine
    folder.mkdir(parents=True, exist_ok=True)
    for i, data in enumerate(runs, 1):
        data = copy.deepcopy(data)
        data["datetime"] = f"2030-01-{i:02d}T12:00:00.000000"
        data["commit_info"] = {"id": f"{i:02d}" + "c" * 38, "dirty": False}
        (folder / f"{i:04d}_{data['commit_info']['id']}_203001{i:02d}_120000.json").write_text(
            json.dumps(data), encoding="utf-8")
    return storage


def _scaled(data: dict, key: str, factor: float, series: str = "plugrad · numpy") -> dict:
    """`data` with the median (and every statistic) of one workload's series times `factor`."""
    data = copy.deepcopy(data)
    for bench in data["benchmarks"]:
        extra = bench["extra_info"]
        if (extra.get("kind"), extra.get("key"), extra.get("series")) == ("workload", key,
                                                                         series):
            for stat in ("min", "max", "mean", "median", "stddev", "iqr"):
                bench["stats"][stat] *= factor
    return data


# -- step detection -------------------------------------------------------------------------------
def test_a_step_beyond_the_noise_is_found_where_it_happened():
    values = [1.00, 1.02, 0.99, 1.01, 1.25, 1.27, 1.24]
    [(i, old, new, noise)] = bd.find_steps(values)
    assert i == 4 and old == pytest.approx(1.005, rel=0.01) and new == pytest.approx(1.25)
    assert 0 < noise < 0.2


def test_a_change_within_the_run_to_run_scatter_is_not_a_step():
    # the runs scatter by about +-15% around one level; the last two runs are 12% up
    values = [1.0, 1.18, 0.85, 1.12, 0.9, 1.15, 1.1, 1.16]
    assert bd.find_steps(values) == []
    # the same values with a quiet history: the rise is a step
    assert [s[0] for s in bd.find_steps([1.0, 1.0, 1.01, 1.0, 0.99, 1.0, 1.13, 1.14])] == [6]


def test_the_runs_own_spread_and_the_minimum_step_hold_back_a_flag():
    assert bd.find_steps([1.0, 1.2]) != []                      # 20%, no spread known
    assert bd.find_steps([1.0, 1.2], [0.05, 0.05]) == []        # 3 widths of 5% each side
    assert bd.find_steps([1.0, 1.04]) == []                     # under MIN_STEP
    assert [s[0] for s in bd.find_steps([2.0, 2.0, 1.0, 1.0, 3.0, 3.0])] == [2, 4]


def test_the_page_flags_a_regression_on_its_workload_and_lists_it(tmp_path):
    base = _base()
    storage = _save(tmp_path, [base, base, _scaled(base, "W2", 1.01), _scaled(base, "W2", 1.4),
                               _scaled(base, "W2", 1.41)])
    runs = bd.load_runs(str(storage))
    steps = bd.history_steps(runs)
    assert [(s.key, s.series, s.after.counter, s.worse) for s in steps] == [
        ("W2", "plugrad · numpy", "0004", True)]
    assert steps[0].change == pytest.approx(0.4, rel=0.02)
    page = bd.render(runs)
    card = page[page.index('<span class="key">W2</span>'):]
    card = card[:card.index("</section>")]
    assert "regression +40% at 04ccccc" in card
    assert card.count('<g class="step worse">') == 1 and "▲ +40%" in card
    assert "Steps between runs: 1 regression, 0 improvements" in page
    assert "run 0003 (03ccccc) and run 0004 (04ccccc)" in page
    other = page[page.index('<span class="key">W5</span>'):]
    assert '<g class="step' not in other[:other.index("</section>")]


def test_a_quiet_history_says_so(tmp_path):
    base = _base()
    page = bd.render(bd.load_runs(str(_save(tmp_path, [base, _scaled(base, "W2", 1.02)]))))
    assert "No step beyond the noise</b> in 2 saved runs" in page
    assert '<g class="step' not in page


# -- tiles and the history axis -----------------------------------------------------------------
def _without_torch(data: dict, record: bool) -> dict:
    data = copy.deepcopy(data)
    data["benchmarks"] = [b for b in data["benchmarks"] if b["extra_info"].get("series")
                          != "torch" and "torch" not in b["extra_info"].get("key", "")]
    if record:  # what benchmarks/conftest.py saves since it records torch's absence
        data["machine_info"]["plugrad_bench"] = {"torch": None, "frameworks": ["numpy"]}
    return data


@pytest.mark.parametrize("record, reason", [
    (True, "torch not installed in this run"),
    (False, "no torch results in this run (torch not installed?)")])
def test_tiles_say_what_is_missing_instead_of_a_dash(tmp_path, record, reason):
    page = bd.render(bd.load_runs(str(_save(tmp_path, [_without_torch(_base(), record)]))))
    tiles = page[page.index('<div class="tiles">'):page.index('<p class="dim">tiles')]
    assert "–" not in tiles
    for key in ("W1", "W4"):  # their goal is against torch
        tile = tiles[tiles.index(f'<div class="tk">{key} '):]
        tile = tile[:tile.index('</div></div>')]
        assert "no torch ratio" in tile and reason in tile
    w2 = tiles[tiles.index('<div class="tk">W2 '):]
    assert f"× floor · {reason} · goal ≤ 1.1×" in w2[:w2.index('</div></div>')]
    card = page[page.index('<span class="key">W1</span>'):]
    assert f"goal ≤ 0.5× torch: {reason}" in card[:card.index("</section>")]


def test_history_charts_draw_runs_on_the_axis_not_as_points_at_zero(tmp_path):
    base = _base()
    _save(tmp_path, [base, _scaled(base, "W1", 1.01)])
    _save(tmp_path, [base], machine="Linux-CPython-3.12-64bit")
    runs = bd.load_runs(str(tmp_path))
    colours = bd.Palette(runs)
    chart = bd.history_chart(runs, "workload", "W1", colours)
    circles = re.findall(r"<circle[^>]*>(?:<title>([^<]*)</title>)?", chart)
    # every point is a figure of a series (plugrad's or torch's), none is a machine
    assert circles and all("× floor" in title for title in circles)
    assert len(circles) == 2 * len(runs)
    for colour in colours.machines.values():   # the commit labels carry the machine
        assert f'style="fill:{colour}"' in chart
    page = bd.render(runs)
    assert "commit labels by machine:" in page and "machine Linux" not in page


# -- plugrad bench compare ----------------------------------------------------------------------
@pytest.fixture
def two_runs(tmp_path) -> pathlib.Path:
    base = _base()
    return _save(tmp_path, [base, _scaled(base, "W2", 1.3)])


def test_compare_prints_each_change_and_marks_the_worse(two_runs, capsys):
    assert main(["bench", "compare", "--storage", str(two_runs)]) == 0
    out = capsys.readouterr().out
    assert "A: 0001 01ccccc" in out and "B: 0002 02ccccc" in out
    w2 = next(line for line in out.splitlines() if line.startswith("W2 "))
    assert "plugrad · numpy" in w2 and "+30.0%" in w2 and w2.rstrip().endswith("worse")
    w5 = next(line for line in out.splitlines() if line.startswith("W5 "))
    assert "+0.0%" in w5 and "within noise" in w5
    assert "1 worse beyond the noise, 0 better" in out


def test_compare_fails_above_the_threshold_only(two_runs, capsys):
    assert main(["bench", "compare", "0001", "0002", "--storage", str(two_runs),
                 "--fail-above", "25"]) == 1
    captured = capsys.readouterr()
    assert "1 result(s) got worse by more than 25%: W2 plugrad · numpy +30.0%" in captured.err
    assert "over --fail-above 25%" in captured.out
    assert main(["bench", "compare", "0001", "latest", "--storage", str(two_runs),
                 "--fail-above", "35"]) == 0
    # swapped: W2 got faster, nothing fails
    assert main(["bench", "compare", "0002", "0001", "--storage", str(two_runs),
                 "--fail-above", "1"]) == 0


def test_compare_names_what_it_could_not_find(two_runs, tmp_path, capsys):
    assert main(["bench", "compare", "0009", "--storage", str(two_runs)]) == 2
    err = capsys.readouterr().err
    assert "no saved run matches '0009'; the runs: 0001 (01ccccc" in err
    assert len(err.strip().splitlines()) == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["bench", "compare", "--storage", str(empty)]) == 2
    assert "needs two saved runs to compare; found 0 under" in capsys.readouterr().err
