"""`plugrad bench` and its dashboard: the page renders from a saved run, offline.

The fixture (benchmarks/fixtures/benchmarks/) is a trimmed copy of two runs
saved by `plugrad bench` in pytest-benchmark's autosave layout. These tests run
in the plain test command (they time nothing).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from types import SimpleNamespace

import bench_cli
import bench_workloads as bw
import dashboard
from plugrad.cli import main

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "benchmarks")


def test_the_fixture_loads_as_runs_from_the_autosave_layout():
    runs = dashboard.load_runs(FIXTURE)
    assert len(runs) >= 2
    for run in runs:
        assert re.fullmatch(r"\d{4}_[0-9a-f]+_\d{8}_\d{6}(_uncommit+ed-changes)?\.json", run.file)
        assert run.machine_id and run.commit != "unknown" and run.date
        keys = {r.key for r in run.results if r.kind == "workload"}
        assert set(bw.WORKLOADS) <= keys


def test_the_page_shows_every_workload_and_needs_no_network(tmp_path):
    out = dashboard.write(FIXTURE, str(tmp_path / "page.html"))
    page = open(out, encoding="utf-8").read()
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") >= 10
    for key, w in bw.WORKLOADS.items():
        title = dashboard.WORKLOAD_TEXT[key][0]
        assert f'<span class="key">{key}</span> {title}' in page, key
        assert title in w.title
    for peer in ("numpy floor", "plugrad · numpy", "torch"):
        assert peer in page
    assert "× floor" in page and "× torch" in page          # ratios to both
    assert "Runs and machines" in page and "Per op" in page and "Import time" in page
    runs = dashboard.load_runs(FIXTURE)
    assert all(run.label in page and run.machine_id in page for run in runs)  # history axis
    # opens from disk: nothing fetched, no scripts
    assert not re.search(r"https?:|//[a-z0-9.-]+\.[a-z]{2,}/|<script|<link|@import|src=", page,
                         re.IGNORECASE)


def test_the_page_without_runs_says_what_to_do(tmp_path):
    page = dashboard.render(dashboard.load_runs(str(tmp_path / "none")))
    assert "plugrad bench" in page


def test_plugrad_bench_help():
    done = subprocess.run([sys.executable, "-m", "plugrad", "bench", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for word in ("dashboard", "--backend", "--storage", "NNNN"):
        assert word in done.stdout


def test_plugrad_bench_dashboard_renders_the_saved_runs(tmp_path, capsys):
    out = tmp_path / "dash.html"
    assert main(["bench", "dashboard", "--storage", FIXTURE, "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert "W5" in out.read_text(encoding="utf-8")


def test_the_suite_is_saved_in_the_autosave_layout(tmp_path):
    args = SimpleNamespace(storage=str(tmp_path), max_time=0.5, k=None)
    cmd = bench_cli.suite_command(args)
    assert "--benchmark-autosave" in cmd and "--benchmark-only" in cmd
    assert f"--benchmark-storage=file://{tmp_path}" in cmd


def test_every_ready_backend_is_benchmarked_next_to_the_floor_and_torch():
    frameworks = bw.bench_frameworks()
    assert frameworks[0] == "numpy" and frameworks[-1] == "torch"
    import plugrad
    assert [f"plugrad-{b}" for b in plugrad.backends.available()] == frameworks[1:-1] or \
        os.environ.get("PLUGRAD_BENCH_BACKENDS")
