"""The `plugrad` command: the tour runs the documented examples and reports agreement;
`plugrad bench` outside a source checkout says what it needs, and its dashboard renders."""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest
from plugrad import __version__
from plugrad.cli import main


def test_tour_prints_every_example_and_agrees(capsys):
    assert main(["tour"]) == 0
    out = capsys.readouterr().out
    assert "tensor([4., 6.])" in out and "tensor([12., 75.])" in out and "tensor(2.)" in out
    assert "5 examples, all match the documented output." in out


def test_python_dash_m_plugrad_runs_the_tour():
    done = subprocess.run([sys.executable, "-m", "plugrad", "tour"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "all match" in done.stdout


def test_help_lists_the_commands():
    done = subprocess.run([sys.executable, "-m", "plugrad", "--help"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and "tour" in done.stdout


# -- plugrad bench, as an installed package sees it ---------------------------------------------
# `plugrad bench` times the benchmarks/ folder of a source checkout; `plugrad bench dashboard`
# renders saved runs and ships in the package. These run the command in a subprocess from a
# temporary directory, with plugrad laid out as pip installs it (no checkout around it).
ROOT = pathlib.Path(__file__).resolve().parents[1]
FIXTURE_RUNS = ROOT / "benchmarks" / "fixtures" / "benchmarks"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> pathlib.Path:
    """A site folder holding plugrad as a wheel would install it: each package of
    pyproject.toml's package-dir copied to its import path, and nothing else."""
    site = tmp_path_factory.mktemp("site")
    layout = {"plugrad": "core", "plugrad.backends": "backends",
              "plugrad.conformance": "conformance", "plugrad.conformance.docs": "docs"}
    for package, folder in layout.items():
        shutil.copytree(ROOT / folder, site.joinpath(*package.split(".")), dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.svg", "*.png", "images"))
    found = _plugrad(site, site, "-c", "import plugrad; print(plugrad.__file__)")
    # if the checkout's own plugrad were imported instead, `plugrad bench` would find the
    # checkout and start the timed suite
    assert found.stdout.strip() == str(site / "plugrad" / "__init__.py"), found
    return site


def _plugrad(site, cwd, *args, timeout=120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PLUGRAD_BENCH_ROOT"}
    if site is not None:
        env["PYTHONPATH"] = str(site)
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_bench_outside_a_checkout_says_what_it_needs(installed, tmp_path):
    done = _plugrad(installed, tmp_path, "-m", "plugrad", "bench")
    assert done.returncode == 2 and done.stdout == ""
    assert "Traceback" not in done.stderr
    assert "plugrad bench: cannot run the benchmark suite here" in done.stderr
    assert "a plugrad source checkout" in done.stderr and str(tmp_path) in done.stderr
    assert "clone the plugrad repository" in done.stderr
    assert "pip install '.[test]'" in done.stderr and "--root PATH" in done.stderr
    assert "plugrad bench dashboard --storage DIR" in done.stderr


def test_bench_with_a_root_that_is_not_a_checkout_names_it(installed, tmp_path):
    done = _plugrad(installed, tmp_path, "-m", "plugrad", "bench", "--root", str(tmp_path))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"--root names {tmp_path}, which has no benchmarks/bench_cli.py" in done.stderr


def test_bench_without_pytest_benchmark_says_what_to_install(tmp_path):
    # the checkout is there (--root), the test tools are not: hide them from the import system
    code = ("import sys; sys.modules['pytest'] = sys.modules['pytest_benchmark'] = None; "
            "from plugrad.cli import main; sys.exit(main(['bench', '--root', %r]))" % str(ROOT))
    done = _plugrad(None, tmp_path, "-c", code)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "pytest and pytest-benchmark: not installed for" in done.stderr
    assert "a plugrad source checkout" not in done.stderr
    assert "python -m pip install pytest pytest-benchmark" in done.stderr


def test_bench_dashboard_renders_saved_runs_without_a_checkout(installed, tmp_path):
    shutil.copytree(FIXTURE_RUNS, tmp_path / ".benchmarks")
    done = _plugrad(installed, tmp_path, "-m", "plugrad", "bench", "dashboard")
    assert done.returncode == 0, done.stderr
    page = tmp_path / ".benchmarks" / "dashboard.html"  # ./.benchmarks outside a checkout
    assert "plugrad bench: wrote" in done.stdout and f"file://{page}" in done.stdout
    assert "W5" in page.read_text(encoding="utf-8")
    out = tmp_path / "elsewhere" / "page.html"
    done = _plugrad(installed, tmp_path, "-m", "plugrad", "bench", "dashboard",
                    "--storage", str(FIXTURE_RUNS), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_bench_dashboard_without_saved_runs_says_where_it_looked(installed, tmp_path):
    done = _plugrad(installed, tmp_path, "-m", "plugrad", "bench", "dashboard")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"no saved benchmark runs under {tmp_path / '.benchmarks'}" in done.stderr
    assert "--storage DIR" in done.stderr
    assert list(tmp_path.iterdir()) == []   # no empty page left behind


def test_bench_dashboard_names_a_damaged_run(installed, tmp_path):
    machine = tmp_path / "runs" / "Linux-CPython-3.11-64bit"
    machine.mkdir(parents=True)
    (machine / "0001_abc_20990101_000000.json").write_text('{"benchmarks": [', encoding="utf-8")
    done = _plugrad(installed, tmp_path, "-m", "plugrad", "bench", "dashboard",
                    "--storage", str(tmp_path / "runs"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "0001_abc_20990101_000000.json is not a saved pytest-benchmark run" in done.stderr


def test_version_prints_the_package_version():
    done = subprocess.run([sys.executable, "-m", "plugrad", "--version"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == f"plugrad {__version__}"


def test_tour_without_sybil_names_the_extra_to_install(monkeypatch, capsys):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "sybil" else real(name, *a))
    assert main(["tour"]) == 2
    err = capsys.readouterr().err
    assert "plugrad[conformance]" in err and "sybil" in err and "Traceback" not in err


# -- every subcommand from an installed wheel, outside the checkout ------------------------------
# The wheel is built once per session (pip wheel --no-deps --no-build-isolation, offline) from a
# copy of the checkout and installed with --no-deps into a folder of its own (pip --target);
# its `plugrad` script runs from a temporary directory with that folder first on the path, so
# the checkout's editable install is not what runs. A missing extra is simulated by a
# sitecustomize that blocks imports (sys.modules[name] = None), named in PLUGRAD_TEST_BLOCK.
BLOCKER = """import os, sys
for name in filter(None, os.environ.get("PLUGRAD_TEST_BLOCK", "").split(",")):
    sys.modules[name] = None
"""


@pytest.fixture(scope="session")
def wheel_site(tmp_path_factory) -> pathlib.Path:
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", "build", "site", ".tox", ".benchmarks", "__pycache__", "*.egg-info", "dist"))
    for step in (["wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(base), str(src)],
                 ["install", "--no-deps", "-q", "--target", str(base / "site")]):
        if step[0] == "install":
            step += [str(path) for path in base.glob("plugrad-*.whl")]
        done = subprocess.run([sys.executable, "-m", "pip", *step], capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, f"pip {step[0]} failed: {done.stderr[-1000:]}"
    (base / "blocker").mkdir()
    (base / "blocker" / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    return base


def _from_wheel(base, tmp_path, *args, block=(), timeout=180) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PLUGRAD_BENCH_ROOT", "PYTHONPATH")}
    env["PYTHONPATH"] = os.pathsep.join([str(base / "blocker"), str(base / "site")])
    env["PLUGRAD_TEST_BLOCK"] = ",".join(block)
    return subprocess.run([str(base / "site" / "bin" / "plugrad"), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _clean(done) -> str:
    """stdout and stderr together, checked for a traceback."""
    text = done.stdout + done.stderr
    assert "Traceback" not in text, text[-2000:]
    return text


def test_the_wheel_is_what_runs(wheel_site, tmp_path):
    done = _from_wheel(wheel_site, tmp_path, "backends", "--help")
    assert done.returncode == 0, done.stderr
    env = {"PYTHONPATH": str(wheel_site / "site"), "PATH": os.environ.get("PATH", "")}
    where = subprocess.run([sys.executable, "-c", "import plugrad; print(plugrad.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert where.stdout.strip().startswith(str(wheel_site / "site")), where


@pytest.mark.parametrize("args, expect", [
    (["--version"], "plugrad "),
    (["backends"], "numpy"),
    (["tour"], "all match the documented output"),
    (["demo", "--help"], "usage: plugrad demo"),
    (["conformance", "--help"], "usage: plugrad conformance"),
    (["bench", "--help"], "usage: plugrad bench"),
    (["bench", "compare", "--help"], "--fail-above"),
    (["new-backend", "--help"], "usage: plugrad new-backend"),
])
def test_each_subcommand_from_the_wheel_prints_its_result(wheel_site, tmp_path, args, expect):
    done = _from_wheel(wheel_site, tmp_path, *args)
    assert done.returncode == 0, done.stderr[-2000:]
    assert expect in _clean(done)


def test_bench_dashboard_and_compare_from_the_wheel(wheel_site, tmp_path):
    shutil.copytree(FIXTURE_RUNS, tmp_path / ".benchmarks")
    done = _from_wheel(wheel_site, tmp_path, "bench", "dashboard")
    assert done.returncode == 0 and "plugrad bench: wrote" in _clean(done)
    assert (tmp_path / ".benchmarks" / "dashboard.html").is_file()
    done = _from_wheel(wheel_site, tmp_path, "bench", "compare")
    assert done.returncode == 0 and "compared:" in _clean(done)


@pytest.mark.parametrize("args, block, install", [
    (["tour"], ["sybil"], 'pip install "plugrad[conformance]"'),
    (["bench"], ["pytest", "pytest_benchmark"], "pip install"),
])
def test_a_missing_extra_is_one_message_naming_what_to_install(wheel_site, tmp_path, args,
                                                               block, install):
    done = _from_wheel(wheel_site, tmp_path, *args, block=block)
    assert done.returncode == 2 and done.stdout == ""
    assert install in _clean(done)
    assert done.stderr.startswith(f"plugrad {args[0]}")


@pytest.mark.parametrize("args", [["demo", "--help"], ["conformance", "--help"],
                                  ["bench", "dashboard", "--help"], ["backends"]])
def test_help_and_listings_need_no_extra(wheel_site, tmp_path, args):
    block = ["sybil", "pytest", "hypothesis", "matplotlib", "sklearn", "dask", "torch"]
    done = _from_wheel(wheel_site, tmp_path, *args, block=block)
    assert done.returncode == 0, done.stderr[-2000:]
    _clean(done)
