"""`plugrad demo`: the README's main job, training an MLP on scikit-learn's digits."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest
from plugrad.cli import main


def _epoch_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("epoch ")]


def _final_accuracy(text: str) -> float:
    return float(re.search(r"test accuracy ([\d.]+)% after", text).group(1)) / 100


def test_help_explains_the_options():
    done = subprocess.run([sys.executable, "-m", "plugrad", "demo", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for option in ("--backend", "--epochs", "--seed", "--out", "--limit"):
        assert option in done.stdout
    assert "plugrad-demo-out" in done.stdout and 'pip install "plugrad[demo]"' in done.stdout
    assert "plugrad.viz" in done.stdout  # says why there is no graph picture


def test_plugrad_help_lists_the_demo():
    done = subprocess.run([sys.executable, "-m", "plugrad", "--help"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and "demo" in done.stdout


def test_missing_scikit_learn_gives_the_install_command(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes `import sklearn` fail
    assert main(["demo", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "scikit-learn" in err and 'pip install "plugrad[demo]"' in err
    assert list(tmp_path.iterdir()) == []


def test_unknown_backend_is_refused(capsys, tmp_path):
    pytest.importorskip("sklearn")
    assert main(["demo", "--backend", "no-such-backend", "--out", str(tmp_path)]) == 2
    assert "no-such-backend" in capsys.readouterr().err


def test_a_tiny_run_writes_its_files_and_is_reproducible(capsys, tmp_path):
    pytest.importorskip("sklearn")
    args = ["demo", "--epochs", "4", "--limit", "600", "--seed", "5"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    first = capsys.readouterr().out
    assert main(args + ["--out", str(tmp_path / "b")]) == 0
    second = capsys.readouterr().out
    lines = _epoch_lines(first)
    assert len(lines) == 4 and lines == _epoch_lines(second)
    losses = [float(re.search(r"loss ([\d.]+)", line).group(1)) for line in lines]
    assert losses[-1] < 0.8 * losses[0]
    weights = tmp_path / "a" / "digits-mlp.npz"
    assert weights.is_file() and str(weights) in first and "(the same)" in first
    if "wrote the loss and accuracy plot" in first:
        plot = tmp_path / "a" / "training.png"
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and str(plot) in first
    assert "plugrad.viz" in first  # the graph picture, or why there is none
    if "wrote the backward graph" in first:
        assert "digraph" in (tmp_path / "a" / "backward-graph.dot").read_text()


def test_another_seed_gives_another_run(capsys, tmp_path):
    pytest.importorskip("sklearn")
    base = ["demo", "--epochs", "1", "--limit", "200", "--out", str(tmp_path)]
    main(base + ["--seed", "1"])
    one = _epoch_lines(capsys.readouterr().out)
    main(base + ["--seed", "2"])
    assert _epoch_lines(capsys.readouterr().out) != one


def test_the_default_run_reaches_95_percent(capsys, tmp_path):
    pytest.importorskip("sklearn")
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert len(_epoch_lines(out)) == 20
    assert _final_accuracy(out) >= 0.95 and "goal 95%: reached" in out


def test_python_dash_m_plugrad_demo(tmp_path):
    pytest.importorskip("sklearn")
    done = subprocess.run([sys.executable, "-m", "plugrad", "demo", "--epochs", "1", "--limit",
                           "150", "--out", str(tmp_path)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "epoch 1/1" in done.stdout and (tmp_path / "digits-mlp.npz").is_file()
