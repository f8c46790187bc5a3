"""The conformance suite: it passes on every available backend, and its runner reports honestly.

The suite itself lives in plugrad.conformance; here it is run the way a
backend author runs it (`python -m plugrad conformance BACKEND`, in a
subprocess), on every backend available here and on the example third-party
backend of examples/. The runner's own behaviour (exit codes, the per-op
summary, declared gaps, the reproduction it prints) is checked on fake
backends that break one kernel on purpose.
"""
from __future__ import annotations

import contextlib
import io
import os
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap

import plugrad
import pytest
from plugrad import backends
from plugrad.conformance import doc_examples, op_table, plugin
from plugrad.conformance import gaps as conformance_gaps

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLE_PLUGIN = ROOT / "examples" / "plugrad-array-api-strict" / "src"

pytest.importorskip("sybil")
pytest.importorskip("hypothesis")


def conformance(*args, env=None, cwd=None, timeout=300):
    """Run `python -m plugrad conformance ARGS`; (exit status, everything printed)."""
    done = subprocess.run([sys.executable, "-m", "plugrad", "conformance", *args],
                          capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=cwd or ROOT)
    return done.returncode, done.stdout + done.stderr


def _env(*paths):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(p) for p in paths] +
                                        [env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


# -- the suite on real backends ------------------------------------------------------------
@pytest.mark.parametrize("name", list(backends.available()))
def test_the_suite_passes_on_every_available_backend(name, tmp_path):
    # a lazy backend builds and computes a task graph per case: minutes, not seconds
    timeout = 1500 if name == "dask" else 300
    status, out = conformance(name, cwd=tmp_path, timeout=timeout)  # the suite is installed
    assert status == 0, out[-6000:]
    assert "verdict: PASS" in out
    assert re.search(r"ops: \d+ entries: \d+ pass", out)
    assert "autograd.md" in out


def test_the_suite_passes_on_the_example_third_party_backend(tmp_path):
    if "array_api_strict" in backends.available():
        pytest.skip("installed here: run by name with the other available backends")
    if not EXAMPLE_PLUGIN.is_dir():
        pytest.skip("no example plugin in this checkout")
    pytest.importorskip("array_api_strict")
    status, out = conformance("plugrad_array_api_strict:make_backend", cwd=tmp_path,
                              env=_env(EXAMPLE_PLUGIN))
    assert status == 0, out[-6000:]
    assert "verdict: PASS" in out


# -- the runner, on backends broken on purpose --------------------------------------------------
FAKES = '''
import numpy as np
from plugrad.backends.numpy_backend import NumpyBackend


class BrokenTanh(NumpyBackend):
    """tanh is off by 1%: only the tanh entry of the op table can notice."""
    tanh = staticmethod(lambda x: np.tanh(x) * 1.01)


class DeclaredTanh(BrokenTanh):
    conformance_skips = {"tanh": "tanh is approximate on this device"}


class NoTanh(NumpyBackend):
    def tanh(self, x):
        raise NotImplementedError("tanh is not written yet")


class StaleDeclaration(NumpyBackend):
    conformance_skips = {"op:sin": "said to be broken, but it works"}


class NoTanhKernel(NumpyBackend):
    """tanh is missing, declared once as the kernel: every case that needs it is covered."""
    conformance_skips = {"kernel:tanh": "the device has no tanh unit"}

    def tanh(self, x):
        self._lacks("tanh")


class TanhDeclaredAtForward(BrokenTanh):
    conformance_skips = {"tanh@forward": "tanh is approximate"}


class TanhDeclaredAtGradient(BrokenTanh):
    conformance_skips = {"tanh@gradient": "said to lack only tanh's gradient"}


class Misspelt(NumpyBackend):
    conformance_skips = {"op:sin": "works now", "no_such_op_*": "a typo",
                         "kernel:no_such_kernel": "a typo", "sin@third": "no such stage"}


class NoAddInto(NumpyBackend):
    def add_into(self, x, y):
        raise NotImplementedError("backend 'NoAddInto' has no 'add_into' kernel")
'''


@pytest.fixture(scope="module")
def fakes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fakes")
    (folder / "fake_backends.py").write_text(FAKES)
    return folder


def test_an_undeclared_failure_fails_the_run_and_names_the_op(fakes):
    status, out = conformance("fake_backends:BrokenTanh", "--op", "tanh", "--op", "sin",
                              env=_env(fakes))
    assert status == 1, out
    assert re.search(r"^\s+tanh\s+FAIL\s+\d+/\d+", out, re.M), out
    assert re.search(r"^\s+sin\s+pass\s+(\d+)/\1", out, re.M), out
    assert "ops: 2 entries: 1 pass, 1 fail" in out
    assert "verdict: FAIL" in out
    assert "first failure: op tanh, case tanh-float32-" in out
    assert "rerun it alone: plugrad conformance fake_backends:BrokenTanh -k" in out


def test_the_first_failing_sample_can_be_reproduced_from_the_output(fakes):
    status, out = conformance("fake_backends:BrokenTanh", "--op", "tanh", "-x",
                              env=_env(fakes))
    assert status == 1
    summary = out.split("first failure:", 1)[1]
    block = summary.split("  reproduce with:\n", 1)[1]
    lines = []
    for line in block.split("\n"):
        if not line.startswith("    "):
            break
        lines.append(line[4:])
    code = "\n".join(lines)
    assert "from fake_backends import BrokenTanh" in code
    assert "pg.tanh(x)" in code or "x.tanh()" in code
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=_env(fakes), timeout=60)
    assert done.returncode == 0, done.stderr
    assert "tensor(" in done.stdout
    # and the rerun command it prints selects that one case
    case = re.search(r"-k '([^']+)'", out).group(1)
    status, again = conformance("fake_backends:BrokenTanh", "-k", case, env=_env(fakes))
    assert status == 1 and "1 failed" in again


def test_a_declared_gap_is_reported_and_does_not_fail_the_run(fakes):
    status, out = conformance("fake_backends:DeclaredTanh", "--op", "tanh", "--op", "sin",
                              env=_env(fakes))
    assert status == 0, out
    assert re.search(r"^\s+tanh\s+declared gap.*declared: tanh is approximate on this device",
                     out, re.M), out
    assert "1 declared gap" in out and "verdict: PASS" in out
    assert "xfailed" in out


def test_a_declared_gap_that_passes_is_pointed_out(fakes):
    status, out = conformance("fake_backends:StaleDeclaration", "--op", "sin",
                              env=_env(fakes))
    assert status == 0, out
    assert "declared case(s) pass now" in out


def test_a_missing_kernel_declared_once_covers_every_case_that_needs_it(fakes):
    status, out = conformance("fake_backends:NoTanhKernel", "--op", "tanh", "--op", "sin",
                              env=_env(fakes))
    assert status == 0, out
    assert re.search(r"^\s+tanh\s+declared gap.*the device has no tanh unit", out, re.M), out
    assert re.search(r"^\s+sin\s+pass", out, re.M), out
    assert re.search(r"^\s+kernel:tanh\s+12 covered\s+0 pass now", out, re.M), out
    assert re.search(r"verdict: PASS \(12 passed, 12 declared, 0 failed\); conformance "
                     r"level: partial", out), out


def test_a_declared_stage_covers_only_failures_at_that_stage(fakes):
    status, out = conformance("fake_backends:TanhDeclaredAtForward", "--op", "tanh",
                              env=_env(fakes))
    assert status == 0 and "declared gap" in out, out
    status, out = conformance("fake_backends:TanhDeclaredAtGradient", "--op", "tanh",
                              env=_env(fakes))
    assert status == 1, out  # the forward result is wrong: not what was declared
    assert re.search(r"^\s+tanh\s+FAIL", out, re.M), out
    assert "verdict: FAIL (2 passed, 0 declared, 10 failed)" in out  # empty inputs pass


def test_misspelt_and_stale_declarations_are_warned_and_fail_under_strict(fakes):
    status, out = conformance("fake_backends:Misspelt", "--op", "sin", env=_env(fakes))
    assert status == 0, out
    assert "warning: declared gap 'no_such_op_*' matches no case of this run" in out
    assert "'kernel:no_such_kernel' cannot match: no_such_kernel: no such kernel" in out
    assert "'sin@third' cannot match: unknown stage 'third'" in out
    assert "'op:sin': all 12 case(s) it names pass now" in out
    status, out = conformance("fake_backends:Misspelt", "--op", "sin", "--strict",
                              env=_env(fakes))
    assert status == 1, out
    assert "verdict: FAIL" in out and "stale declarations" in out


def test_an_engine_case_that_hits_a_missing_kernel_is_unsupported(fakes):
    status, out = conformance("fake_backends:NoAddInto", "--only", "engine", env=_env(fakes))
    assert status == 1, out
    engine = out.split("engine semantics:", 1)[1].split("\n\n")[0]
    assert re.search(r"^\s+\w+\s+UNSUPPORTED", engine, re.M), out
    assert not re.search(r"^\s+\w+\s+FAIL", engine, re.M), out


def test_the_json_report_has_one_record_per_case(fakes, tmp_path):
    report = tmp_path / "report.json"
    status, out = conformance("fake_backends:BrokenTanh", "--op", "tanh", "--op", "sin",
                              "--json", str(report), env=_env(fakes))
    assert status == 1, out
    import json
    data = json.loads(report.read_text())
    assert data["spec"] == "fake_backends:BrokenTanh" and data["level"] == "partial"
    cases = data["cases"]
    assert len(cases) == 24 and data["counts"] == {  # tanh of an empty tensor passes
        "passed": 14, "declared": 0, "failed": 10, "skipped": 0, "declared_passing": 0}
    tanh = [c for c in cases if c["op"] == "tanh" and c["outcome"] != "pass"]
    assert len(tanh) == 10 and {c["outcome"] for c in tanh} == {"fail"}
    assert {c["stage"] for c in tanh} == {"forward"}
    assert {c["dtype"] for c in tanh} == {"float32", "float64"}
    assert all("tanh" in c["reproducer"].split("out = ", 1)[1] and
               "from fake_backends import BrokenTanh" in c["reproducer"] for c in tanh)
    sin = [c for c in cases if c["op"] == "sin"]
    assert {c["outcome"] for c in sin} == {"pass"} and not any(c["reproducer"] for c in sin)
    assert any(c["stages"] == ["forward", "gradient", "second derivative"] for c in sin)


def test_a_module_in_the_current_directory_can_be_named(fakes, tmp_path):
    # the `plugrad` script (not python -m) does not put the current directory on sys.path
    script = pathlib.Path(sys.executable).with_name("plugrad")
    if not script.exists():
        pytest.skip("no plugrad script next to this Python")
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    done = subprocess.run([str(script), "conformance", "fake_backends:StaleDeclaration",
                           "--op", "sin"], capture_output=True, text=True, timeout=300,
                          cwd=fakes, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verdict: PASS" in done.stdout


def test_a_missing_kernel_is_reported_as_unsupported(fakes):
    status, out = conformance("fake_backends:NoTanh", "--op", "tanh", env=_env(fakes))
    assert status == 1, out
    assert re.search(r"^\s+tanh\s+UNSUPPORTED", out, re.M), out
    assert "NotImplementedError: tanh is not written yet" in out


def test_pytest_pyargs_runs_the_same_suite_with_the_same_summary(fakes, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--pyargs", "plugrad.conformance", "-p",
         "no:cacheprovider", "-q", "--plugrad-backend", "fake_backends:BrokenTanh",
         "--plugrad-op", "tanh"], capture_output=True, text=True, timeout=300,
        env=_env(fakes), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "plugrad conformance: backend 'fake_backends:BrokenTanh'" in done.stdout
    assert re.search(r"^\s+tanh\s+FAIL", done.stdout, re.M)


def test_an_unusable_backend_exits_with_status_2():
    status, out = conformance("no_such_backend")
    assert status == 2
    assert "no_such_backend" in out and "cannot be used" in out


def test_a_selection_that_matches_nothing_exits_with_status_5():
    status, out = conformance("numpy", "-k", "no_case_has_this_id")
    assert status == 5, out


def test_help_lists_the_conformance_command():
    done = subprocess.run([sys.executable, "-m", "plugrad", "conformance", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "conformance_skips" in done.stdout


# -- the pieces, in process -------------------------------------------------------------------
def test_every_public_op_has_an_entry():
    assert op_table.uncovered() == []


def test_a_new_public_op_without_an_entry_is_caught(monkeypatch):
    monkeypatch.setattr(plugrad.Tensor, "not_an_op_yet", lambda self: self, raising=False)
    assert "Tensor.not_an_op_yet" in op_table.uncovered()


def test_coverage_is_read_from_what_samples_call():
    assert op_table.names_called("x + 2.0") == {"Tensor.__add__"}
    assert op_table.names_called("2.0 - x") == {"Tensor.__rsub__"}
    assert op_table.names_called("pg.exp(x).sum()") == {"exp", "Tensor.sum"}
    assert op_table.names_called("x[i] @ y.mT", ("x", "y", "i")) == {
        "Tensor.__getitem__", "Tensor.__matmul__", "Tensor.mT"}
    assert op_table.names_called("a & ~b", ("a", "b")) == {"Tensor.__and__",
                                                          "Tensor.__invert__"}


def test_every_op_has_broadcast_0d_empty_and_noncontiguous_samples_where_they_apply():
    for op in op_table.OPS:
        samples = op.sample_list()
        descs = " ".join(s.desc for s in samples)
        assert any(s.noncontig for s in samples) or op.name.startswith("logical"), op.name
        assert "empty" in descs, op.name
        if op.samples in (op_table.unary, op_table.binary) or "0d" in descs:
            assert "0d" in descs, op.name


def test_declared_patterns_match_names_groups_and_case_ids():
    skips = {"matmul": "a", "docs:autograd.md": "b", "*-float16-*": "c"}
    assert plugin.declared_reason(skips, "op", "matmul", "matmul-float64-x") == "a"
    assert plugin.declared_reason(skips, "docs", "autograd.md", "autograd.md:intro:1") == "b"
    assert plugin.declared_reason(skips, "op", "to", "to-float16-half") == "c"
    assert plugin.declared_reason(skips, "op", "mm", "mm-float64-x") is None


def test_kernel_capability_dtype_and_stage_declarations():
    gaps = {g.key: g for g in conformance_gaps.parse({
        "kernel:argsort": "a", "capability:in-place": "b", "dtype:float16": "c",
        "matmul@second": "d", "capability:warp-drive": "e"})}
    missing = NotImplementedError("the 'dask' backend has no 'argsort' kernel")
    assert gaps["kernel:argsort"].covers("op", "topk", "topk-float32-rows", "forward", missing)
    assert not gaps["kernel:argsort"].covers("op", "topk", "topk-float32-rows", "forward",
                                             NotImplementedError("no 'sort' here"))
    assert not gaps["kernel:argsort"].covers("op", "topk", "t", "forward", None)
    write = NotImplementedError("x")
    write.kernel = "setitem"  # what core/backend.py's placeholders attach
    assert gaps["capability:in-place"].covers("engine", "hooks", "hooks", "gradient", write)
    assert gaps["dtype:float16"].names("op", "to", "to-float16-half")
    assert not gaps["dtype:float16"].names("op", "to", "to-float32-half")
    assert gaps["matmul@second"].stage == "second derivative"
    assert gaps["matmul@second"].covers("op", "matmul", "m", "second derivative", None)
    assert not gaps["matmul@second"].covers("op", "matmul", "m", "gradient", None)
    assert "unknown capability 'warp-drive'" in gaps["capability:warp-drive"].problem
    assert [conformance_gaps.level(s) for s in ([], ["second derivative"],
                                                ["gradient", "second derivative"],
                                                ["forward"])] == [
        "full", "forward+gradient", "forward", "partial"]


def test_documented_examples_are_named_by_heading_not_line():
    names = [e.name for p in doc_examples.pages() for e in doc_examples.examples_of(p)]
    assert len(names) == len(set(names))
    assert "api.md:tensors:1" in names
    assert not any(re.search(r"\.md:\d+$", n) for n in names)


def test_a_second_derivative_reproducer_runs_the_second_derivative(monkeypatch):
    import numpy as np
    from plugrad.conformance import checks

    class Cube(plugrad.autograd.Function):  # right gradient, but not differentiable again
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x.detach() ** 2

    monkeypatch.setattr(plugrad.Tensor, "cube_for_test", lambda self: Cube.apply(self),
                        raising=False)
    op = op_table.OpInfo("cube", ("x.cube_for_test()",), lambda x: x ** 3,
                         lambda rng: [op_table.Sample("vec", (np.array([0.5, -1.0, 2.0]),))])
    sample = op.sample_list()[0]
    with pytest.raises(checks.CheckFailure) as caught:
        checks.check_sample(op, sample, "float64", "pg.set_default_backend('numpy')")
    failure = caught.value
    assert failure.stage == "second derivative"
    assert "create_graph=True" in failure.repro
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(failure.repro, {})
    # the forward result, then the second pass: here the gradient is detached
    assert printed.getvalue().startswith("tensor([")
    assert "the gradient is not differentiable again" in printed.getvalue()


@pytest.mark.parametrize("expected, printed, ok", [
    ("tensor([4., 6.])", "tensor([4., 6.])", True),
    ("tensor([4., 6.])", "tensor([4.0000, 6.0000])", True),            # float noise
    ("tensor([0.1235, 2.])", "tensor([0.1234, 2.0000])", True),       # last printed digit
    ("tensor([4., 6.])", "tensor([4.0000, 6.0010])", False),
    ("tensor([1., 2.], dtype=plugrad.float64)",
     "tensor([1.0000001, 2.], dtype=plugrad.float64)", False),       # float64 is strict
    ("tensor([1., 2.], dtype=plugrad.float16)",
     "tensor([1.0005, 2.], dtype=plugrad.float16)", True),           # float16 is not
    ("tensor([1, 2])", "tensor([1., 2.])", False),                    # integers exactly
    ("False None", "FalseNone", False),
    ("<AddBackward0 object at 0x...>", "<AddBackward0 object at 0x7f3a>", True),
    ("tensor(2.)\nAddBackward0", "tensor(2.)\nMulBackward0", False),
])
def test_output_comparison(expected, printed, ok):
    assert doc_examples.outputs_match(expected, printed)[0] is ok


def test_the_backend_suffix_of_the_backend_under_test_is_ignored():
    assert doc_examples.outputs_match("tensor([1., 2.])", "tensor([1., 2.], backend='mylib')",
                                      "mylib")[0]
    assert not doc_examples.outputs_match("tensor([1., 2.])",
                                          "tensor([1., 2.], backend='other')", "mylib")[0]


def test_every_page_of_the_docs_is_in_the_suite():
    source = sorted(p.relative_to(ROOT / "docs").as_posix()
                    for p in (ROOT / "docs").rglob("*.md"))
    assert doc_examples.pages() == source


def test_the_docs_site_lists_every_page():
    mkdocs = (ROOT / "mkdocs.yml").read_text()
    for page in doc_examples.pages():
        assert f" {page}" in mkdocs, f"docs/{page} is not in the nav of mkdocs.yml"


def test_the_wheel_ships_the_docs_the_ini_and_the_pytest_plugin(tmp_path):
    src = tmp_path / "src"
    for name in ("core", "backends", "conformance", "docs"):
        shutil.copytree(ROOT / name, src / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    code = "from setuptools import build_meta; print(build_meta.build_wheel('dist'))"
    done = subprocess.run([sys.executable, "-c", code], cwd=src, capture_output=True,
                          text=True, timeout=120)
    if done.returncode != 0 and ("bdist_wheel" in done.stderr or "setuptools" in done.stderr):
        # no setuptools (a fresh venv on Python 3.12+), or one < 70.1 without the `wheel`
        # package (3.11): let pip build it in an isolated environment, as `pip install .` does
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                               "-w", "dist", "."], cwd=src, capture_output=True, text=True,
                              timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    import zipfile
    wheel = zipfile.ZipFile(next((src / "dist").glob("plugrad-*.whl")))
    names = set(wheel.namelist())
    for page in doc_examples.pages():
        assert f"plugrad/conformance/docs/{page}" in names
    assert "plugrad/conformance/pytest.ini" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "plugrad.conformance.plugin" in wheel.read(entry_points).decode()


def test_the_tour_examples_are_the_autograd_page():
    from plugrad.conformance import examples
    assert [e.code for e in examples.EXAMPLES] == [
        e.code for e in doc_examples.examples_of("autograd.md")]


def test_a_page_runs_as_one_session_and_reports_each_example(tmp_path):
    (tmp_path / "page.md").write_text(textwrap.dedent("""\
        # A page

        ```python
        x = pg.tensor([1.0, 2.0])
        ```

        ```python
        print(x * 2)
        ```
        ```text
        tensor([2., 4.])
        ```

        <!-- skip: next -->
        ```python
        raise SystemExit("never run")
        ```

        ```python
        print(x.sum())
        ```
        ```text
        tensor(4.)
        ```
        """))
    run = doc_examples.PageRun("page.md", "numpy", root=tmp_path)
    outcomes = run.run_all()
    assert [o.status for o in outcomes] == ["pass", "pass", "skip", "fail"]
    assert "is documented as 4." in outcomes[3].message
    assert outcomes[1].example.title == "A page"


# -- plugrad new-backend ------------------------------------------------------------------------
def test_new_backend_writes_a_package_that_installs_and_passes_its_tests(tmp_path):
    done = subprocess.run([sys.executable, "-m", "plugrad", "new-backend", "tmplnp",
                           "--module", "numpy", "--dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    root = tmp_path / "plugrad-tmplnp"
    for path in ("pyproject.toml", "tox.ini", ".github/workflows/ci.yml", "README.md",
                 "src/plugrad_tmplnp/__init__.py", "tests/test_conformance.py"):
        assert (root / path).is_file(), path
    assert '[project.entry-points."plugrad.backends"]\ntmplnp = "plugrad_tmplnp"' in \
        (root / "pyproject.toml").read_text()
    source = root / "src" / "plugrad_tmplnp" / "__init__.py"
    text = source.read_text()
    assert "raise BackendUnavailable" in text
    # what an author does with a gap found by the first run: declare it, with its reason
    # (plugrad's generic Array API backend on NumPy gets unique(dim=...) wrong: a known bug)
    source.write_text(text.replace(
        "return {**super().conformance_skips}",
        'return {**super().conformance_skips, "unique-*-dim0": "unique along a dim"}'))
    pip = [sys.executable, "-m", "pip", "-q"]
    done = subprocess.run(pip + ["install", "--no-deps", "--no-build-isolation", str(root)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               "tests"], capture_output=True, text=True, timeout=600,
                              cwd=root)
        assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
        assert "2 passed" in done.stdout
    finally:
        subprocess.run(pip + ["uninstall", "-y", "plugrad-tmplnp"], capture_output=True,
                       timeout=300)
    again = subprocess.run([sys.executable, "-m", "plugrad", "new-backend", "tmplnp",
                            "--dir", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "exists already" in again.stderr


def test_the_support_matrix_is_rendered_from_json_reports(tmp_path):
    from plugrad.conformance import support_matrix

    def case(op, dtype, outcome, stage=None, stages=("forward", "gradient")):
        return {"group": "op", "op": op, "case": f"{op}-{dtype}-v", "dtype": dtype,
                "stages": list(stages), "stage": stage, "outcome": outcome}
    report = {"backend": "mylib", "version": "1.0", "plugrad": "0.1.0", "level": "partial",
              "counts": {"passed": 2, "declared": 1, "failed": 1},
              "gaps": [{"key": "kernel:argsort", "reason": "no sort"}],
              "cases": [case("exp", "float32", "pass"),
                        case("sort", "float32", "declared", "forward"),
                        case("tanh", "float32", "fail", "gradient"),
                        case("tanh", "float32", "pass"),
                        {"group": "engine", "op": "hooks", "case": "hooks", "dtype": None,
                         "stages": ["gradient"], "stage": "gradient", "outcome": "fail"}]}
    path = tmp_path / "mylib.json"
    path.write_text(__import__("json").dumps(report))
    out = tmp_path / "matrix.md"
    assert support_matrix.main([str(path), "-o", str(out)]) == 0
    page = out.read_text()
    assert "| mylib | 1.0 | 0.1.0 | partial | 2 | 1 | 1 |" in page
    assert "* mylib: `kernel:argsort`: no sort" in page
    assert "| `exp` | float32 | ✓ | ✓ | – |" in page
    assert "| `sort` | float32 | D | D | – |" in page      # the gradient could not run
    assert "| `tanh` | float32 | ✓ | ✗ | – |" in page      # the worst sample counts
    assert "hooks" not in page.split("| op |")[1]          # the op table only


def test_the_committed_support_matrix_covers_the_backends_of_the_tox_matrix():
    page = (ROOT / "docs" / "support-matrix.md").read_text()
    for name in ("numpy", "dask", "array_api_strict"):
        assert f"| {name} F |" in page or f"| {name} F" in page, name
