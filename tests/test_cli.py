"""The `plugrad` command: the tour runs the documented examples and reports agreement."""
from __future__ import annotations

import subprocess
import sys

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
