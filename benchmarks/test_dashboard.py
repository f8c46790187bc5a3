"""`plugrad bench` and its dashboard: the page renders from a saved run, offline.

The fixture (benchmarks/fixtures/benchmarks/) is a trimmed copy of two runs
saved by `plugrad bench` in pytest-benchmark's autosave layout;
benchmarks/fixtures/benchmarks-dask/ holds a run of `plugrad bench --dask -k w3x100`
(W3 at 100x on dask with a LocalCluster, and the floor). These tests run in the
plain test command (they time nothing).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from types import SimpleNamespace

import bench_cli
import bench_workloads as bw
import dashboard
from plugrad.cli import main

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "benchmarks")
DASK_FIXTURE = FIXTURE + "-dask"
NO_NETWORK = re.compile(r"https?:|//[a-z0-9.-]+\.[a-z]{2,}/|<script|<link|@import|src=",
                        re.IGNORECASE)


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
    for word in ("dashboard", "--backend", "--storage", "NNNN", "--dask"):
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
    eager = [b for b in plugrad.backends.available() if not plugrad.backends.get(b).lazy]
    assert [f"plugrad-{b}" for b in eager] == frameworks[1:-1] or \
        os.environ.get("PLUGRAD_BENCH_BACKENDS")


# -- W3 at 100x on dask with a LocalCluster ------------------------------------------------------
def _scale_results(storage):
    run = dashboard.load_runs(storage)[-1]
    return {r.series: r for r in run.results if r.kind == "scale" and r.key == "W3x100"}


def test_the_w3x100_card_renders_from_a_saved_run(tmp_path):
    found = _scale_results(DASK_FIXTURE)
    floor, lazy = found["numpy floor"], found["plugrad · dask"]
    data = lazy.extra["data_bytes"]
    assert data == floor.extra["data_bytes"] == 800_000_000
    assert lazy.extra["workers"] == 2 and lazy.extra["peak_rss_bytes"] < data

    page = open(dashboard.write(DASK_FIXTURE, str(tmp_path / "page.html")),
                encoding="utf-8").read()
    card = page[page.index('<span class="key">W3x100</span>'):]
    card = card[:card.index("</section>")]
    assert "on dask (LocalCluster)" in card
    assert "numpy floor" in card and "plugrad · dask" in card
    assert dashboard.fmt_time(lazy.seconds) in card and dashboard.fmt_time(floor.seconds) in card
    assert f"{dashboard.fmt_ratio(lazy.seconds / floor.seconds)} floor" in card
    # the client's peak memory against the data's size, and the floor's
    assert "data (x)" in card and dashboard.fmt_bytes(data) in card
    assert dashboard.fmt_bytes(lazy.extra["peak_rss_bytes"]) in card
    assert f"{lazy.extra['peak_rss_bytes'] / data:.2f}× data" in card
    assert dashboard.fmt_bytes(floor.extra["peak_rss_bytes"]) in card
    assert "2 worker processes" in card
    assert not NO_NETWORK.search(page)


def test_the_w3x100_card_comes_from_the_newest_run_that_has_it(tmp_path):
    machine = "Linux-CPython-3.11-64bit"
    shutil.copytree(os.path.join(DASK_FIXTURE, machine), tmp_path / machine)
    # a later run without W3x100 (a plain `plugrad bench`): the card stays, and says whence
    later = json.loads(open(os.path.join(FIXTURE, machine, sorted(os.listdir(
        os.path.join(FIXTURE, machine)))[-1]), encoding="utf-8").read())
    later["datetime"] = "2099-01-01T00:00:00.000000"
    (tmp_path / machine / "0002_abc_20990101_000000.json").write_text(json.dumps(later))
    page = dashboard.render(dashboard.load_runs(str(tmp_path)))
    assert '<span class="key">W3x100</span>' in page and "the newest that has it" in page
    # and a page from runs that never had it shows no such card
    assert '<span class="key">W3x100</span>' not in dashboard.render(dashboard.load_runs(FIXTURE))


def test_plugrad_bench_dask_runs_w3x100(tmp_path, monkeypatch):
    seen = {}

    def fake_call(cmd, cwd=None, env=None):
        seen["cmd"], seen["env"] = cmd, env
        return 0

    monkeypatch.setattr(bench_cli.subprocess, "call", fake_call)
    args = SimpleNamespace(storage=str(tmp_path), max_time=0.5, k="w3x100", backend=None,
                           no_long=True, threads=None, no_dashboard=True, dask=True)
    assert bench_cli.run(args) == 0
    assert seen["env"].get("PLUGRAD_BENCH_DASK") == "1" and "w3x100" in seen["cmd"]
    args.dask = False
    monkeypatch.delenv("PLUGRAD_BENCH_DASK", raising=False)
    bench_cli.run(args)
    assert "PLUGRAD_BENCH_DASK" not in seen["env"]
