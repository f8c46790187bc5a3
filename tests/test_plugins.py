"""Backend plugins found through entry points: hermetic, with fake distributions.

Each test writes small distributions (a module plus `<name>.dist-info` with
METADATA and entry_points.txt) into a temporary folder and points a fresh
registry at that folder only, so nothing installed on the machine takes part.
"""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import textwrap
import threading

import numpy as np
import plugrad as pg
import pytest
from plugrad import backends
from plugrad.backend import BackendUnavailable
from plugrad.backends.registry import Registry
from plugrad.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "plugrad-array-api-strict"

GOOD = '''
from plugrad.hookspecs import BackendSpec, hookimpl

CALLS = []


def make():
    import numpy
    from plugrad.backends.array_api import ArrayAPIBackend
    return ArrayAPIBackend(numpy, "ignored", "9.9")


@hookimpl
def plugrad_backends():
    CALLS.append(1)
    return [BackendSpec("{name}", make, "a test backend")]
'''

BROKEN_IMPORT = "import no_such_module_for_plugrad_tests\n"

RAISING = '''
from plugrad.hookspecs import hookimpl


@hookimpl
def plugrad_backends():
    raise ValueError("the hook fell over")
'''


def write_dist(folder: pathlib.Path, dist: str, module: str, source: str,
               entry: str | None = None, value: str | None = None) -> None:
    """A distribution `dist` 1.0 with module `module` and one plugrad.backends entry point."""
    (folder / f"{module}.py").write_text(textwrap.dedent(source))
    info = folder / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        f"[plugrad.backends]\n{entry or module} = {value or module}\n")


@pytest.fixture
def plugins(tmp_path, monkeypatch):
    """(folder, use): write distributions into folder, then use() a registry that sees only them."""
    before = set(sys.modules)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("PLUGRAD_STRICT_PLUGINS", raising=False)

    def use() -> Registry:
        instances: dict = {}
        registry = Registry(instances, path=[str(tmp_path)])
        monkeypatch.setattr(backends, "_instances", instances)
        monkeypatch.setattr(backends, "_registry", registry)
        monkeypatch.setattr(backends, "_default", None)
        monkeypatch.setattr(backends, "_default_name", "numpy")
        return registry

    yield tmp_path, use
    for name in set(sys.modules) - before:  # the fake plugin modules
        if name.startswith("fake_"):
            del sys.modules[name]


def rows(registry):
    return {r.name: r for r in registry.status()}


def test_a_good_plugin_is_found_and_works(plugins):
    folder, use = plugins
    write_dist(folder, "fake-good", "fake_good", GOOD.format(name="fakeback"))
    registry = use()
    assert "fakeback" in backends.available()
    row = rows(registry)["fakeback"]
    assert (row.status, row.version, row.package) == ("ready", "9.9", "fake-good 1.0")
    x = pg.tensor([1.0, 2.0], backend="fakeback", requires_grad=True)
    assert x.backend.name == "fakeback"  # named as registered, whatever the factory said
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]
    y = pg.tensor([3.0], requires_grad=True)
    y.to("fakeback").sum().backward()
    assert y.grad.tolist() == [1.0]
    pg.manual_seed(3)  # seeds registered backends, those created later too
    drawn = pg.rand(4, backend="fakeback").tolist()
    pg.manual_seed(3)
    assert pg.rand(4, backend="fakeback").tolist() == drawn


def test_entry_points_are_read_lazily_and_once(plugins):
    folder, use = plugins
    write_dist(folder, "fake-lazy", "fake_lazy", GOOD.format(name="lazyback"))
    registry = use()
    pg.zeros(2)  # a built-in backend needs no scan
    assert not registry.scanned and "fake_lazy" not in sys.modules
    pg.zeros(2, backend="lazyback")  # an unknown name triggers it
    assert registry.scanned
    backends.available()
    backends.status()
    pg.zeros(1, backend="lazyback")
    assert sys.modules["fake_lazy"].CALLS == [1]


def test_the_scan_is_thread_safe_and_happens_once(plugins):
    folder, use = plugins
    write_dist(folder, "fake-threads", "fake_threads", GOOD.format(name="threadback"))
    use()
    results, barrier = [], threading.Barrier(8)

    def worker():
        barrier.wait()
        results.append(backends.get("threadback"))
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8 and all(r is results[0] for r in results)
    assert sys.modules["fake_threads"].CALLS == [1]


def test_a_plugin_that_fails_to_import_is_reported_and_left_out(plugins):
    folder, use = plugins
    write_dist(folder, "fake-broken", "fake_broken", BROKEN_IMPORT)
    write_dist(folder, "fake-good", "fake_good", GOOD.format(name="fakeback"))
    registry = use()
    with pytest.warns(backends.PluginWarning, match="fake_broken.*failed to import"):
        names = backends.available()
    assert "fakeback" in names and "numpy" in names
    row = rows(registry)["fake_broken"]
    assert row.status == "error" and "No module named 'no_such_module_for_plugrad_tests'" in \
        row.reason and row.package == "fake-broken 1.0"


def test_a_hook_that_raises_is_reported_and_left_out(plugins):
    folder, use = plugins
    write_dist(folder, "fake-raising", "fake_raising", RAISING)
    registry = use()
    with pytest.warns(backends.PluginWarning, match="hook raised ValueError: the hook fell over"):
        registry.scan()
    assert rows(registry)["fake_raising"].status == "error"
    assert pg.zeros(1).backend.name == "numpy"


def test_a_name_claimed_twice_is_refused_for_both_and_a_builtin_stays_plugrads(plugins):
    folder, use = plugins
    write_dist(folder, "fake-a", "fake_a", GOOD.format(name="twin"))
    write_dist(folder, "fake-b", "fake_b", GOOD.format(name="twin"))
    write_dist(folder, "fake-numpy", "fake_numpy", GOOD.format(name="numpy"))
    registry = use()
    with pytest.warns(backends.PluginWarning) as caught:
        table = registry.status()
    messages = " ".join(str(w.message) for w in caught)
    assert "'numpy' is plugrad's built-in backend; the one of fake-numpy 1.0 is left out" \
        in messages and "PLUGRAD_BACKEND_NUMPY=fake-numpy" in messages
    assert "the name 'twin' is claimed by fake-a 1.0 and fake-b 1.0; pick one with " \
           "PLUGRAD_BACKEND_TWIN=fake-a or PLUGRAD_BACKEND_TWIN=fake-b" in messages
    twins = [r for r in table if r.name == "twin"]
    assert len(twins) == 1 and twins[0].status == "error"
    assert "fake-a" in twins[0].package and "fake-b" in twins[0].package
    with pytest.raises(BackendUnavailable, match="claimed by fake-a 1.0 and fake-b 1.0"):
        backends.get("twin")
    assert backends.get("numpy").version == np.__version__  # still the built-in
    # the built-in is not reported unavailable because another package wanted its name
    names = backends.available()
    assert "numpy" in names and "numpy" not in names.unavailable
    assert "numpy (" not in registry.summary()


def test_an_environment_variable_picks_the_package_of_a_clashing_name(plugins, monkeypatch):
    folder, use = plugins
    write_dist(folder, "fake-a", "fake_a", GOOD.format(name="twin"))
    write_dist(folder, "fake-b", "fake_b", GOOD.format(name="twin"))
    monkeypatch.setenv("PLUGRAD_BACKEND_TWIN", "Fake_B")  # as pip spells it, any case
    registry = use()
    assert backends.get("twin").version == "9.9"
    assert rows(registry)["twin"].package == "fake-b 1.0"
    monkeypatch.setenv("PLUGRAD_BACKEND_TWIN", "fake-c")
    registry = use()
    with pytest.raises(BackendUnavailable, match="PLUGRAD_BACKEND_TWIN=fake-c, but fake-c "
                                                 "does not provide 'twin'"):
        backends.get("twin")


def test_an_environment_variable_can_pick_a_plugin_over_a_builtin(plugins, monkeypatch):
    folder, use = plugins
    write_dist(folder, "fake-numpy", "fake_numpy", GOOD.format(name="numpy"))
    monkeypatch.setenv("PLUGRAD_BACKEND_NUMPY", "fake-numpy")
    registry = use()
    assert backends.get("numpy").version == "9.9"  # the plugin's ArrayAPIBackend
    assert rows(registry)["numpy"].package == "fake-numpy 1.0"


def test_strict_mode_shows_every_fault_with_its_traceback(plugins, monkeypatch, capsys):
    folder, use = plugins
    write_dist(folder, "fake-broken", "fake_broken", BROKEN_IMPORT)
    write_dist(folder, "fake-raising", "fake_raising", RAISING)
    write_dist(folder, "fake-good", "fake_good", GOOD.format(name="fakeback"))
    use()
    monkeypatch.setenv("PLUGRAD_STRICT_PLUGINS", "1")
    assert main(["backends"]) == 1
    captured = capsys.readouterr()
    assert "2 faulty backend plugin(s)" in captured.err
    assert "fake_broken" in captured.err and "fake_raising" in captured.err
    assert captured.err.count("Traceback (most recent call last)") == 2
    assert 'raise ValueError("the hook fell over")' in captured.err
    assert "fakeback" in captured.out  # the table of what works is still shown


def test_process_wide_switches_a_backend_declares_are_listed(plugins, capsys):
    folder, use = plugins
    source = GOOD.format(name="switchy").replace(
        'return ArrayAPIBackend(numpy, "ignored", "9.9")',
        'bk = ArrayAPIBackend(numpy, "ignored", "9.9")\n'
        '    bk.process_switches = {"numpy_enable_x64=True": "float64 arrays"}\n'
        '    return bk')
    write_dist(folder, "fake-switchy", "fake_switchy", source)
    registry = use()
    assert rows(registry)["switchy"].switches == {"numpy_enable_x64=True": "float64 arrays"}
    assert main(["backends"]) == 0
    out = capsys.readouterr().out
    assert "process-wide switches" in out
    assert "  switchy: numpy_enable_x64=True (float64 arrays)" in out


@pytest.mark.parametrize("body, reason", [
    ('return "numpy"', "returned str, not a list of BackendSpec"),
    ('return ["numpy"]', "returned a str, not a BackendSpec"),
    ('return 42', "returned int, not a list of BackendSpec"),
    ('return [BackendSpec("bad name!", make)]', "invalid backend name 'bad name!'"),
    ('return [BackendSpec("notabackend", lambda: object())]',
     "factory returned object, not a plugrad.backend.Backend"),
    ('return [BackendSpec("incomplete", lambda: Backend())]',
     "lacks the required primitives neg, exp, log"),
    ('return [BackendSpec("crashing", lambda: 1 / 0)]',
     "factory raised ZeroDivisionError"),
])
def test_invalid_plugins_are_reported(plugins, body, reason):
    folder, use = plugins
    source = ("from plugrad.hookspecs import Backend, BackendSpec, hookimpl\n"
              "def make():\n    return None\n"
              f"@hookimpl\ndef plugrad_backends():\n    {body}\n")
    write_dist(folder, "fake-invalid", "fake_invalid", source)
    registry = use()
    with pytest.warns(backends.PluginWarning, match=reason):
        table = registry.status()
    assert [r.status for r in table if r.package == "fake-invalid 1.0"] == ["error"]
    assert "numpy" in backends.available()


def test_a_misspelt_hook_is_reported(plugins):
    folder, use = plugins
    source = ("from plugrad.hookspecs import hookimpl\n"
              "@hookimpl\ndef plugrad_backend():\n    return []\n")
    write_dist(folder, "fake-typo", "fake_typo", source)
    registry = use()
    with pytest.warns(backends.PluginWarning, match="unknown hook 'plugrad_backend'"):
        registry.scan()


def test_an_unavailable_backend_is_listed_with_its_reason_without_a_warning(plugins, recwarn):
    folder, use = plugins
    source = ("from plugrad.hookspecs import BackendSpec, BackendUnavailable, hookimpl\n"
              "def make():\n    raise BackendUnavailable('needs a TPU')\n"
              "@hookimpl\ndef plugrad_backends():\n"
              "    return [BackendSpec('tpu', make)]\n")
    write_dist(folder, "fake-tpu", "fake_tpu", source)
    use()
    names = backends.available()
    assert "tpu" not in names and names.unavailable["tpu"] == "needs a TPU"
    assert not [w for w in recwarn if issubclass(w.category, backends.PluginWarning)]
    with pytest.raises(BackendUnavailable, match=r"backend 'tpu' is not available \(needs a "
                                                 r"TPU\); available: numpy"):
        pg.zeros(1, backend="tpu")


def test_strict_mode_raises_on_a_fault(plugins, monkeypatch):
    folder, use = plugins
    write_dist(folder, "fake-raising", "fake_raising", RAISING)
    use()
    monkeypatch.setenv("PLUGRAD_STRICT_PLUGINS", "1")
    with pytest.raises(backends.PluginError, match="hook raised ValueError"):
        backends.available()


def test_strict_mode_makes_the_command_fail(plugins, monkeypatch, capsys):
    folder, use = plugins
    write_dist(folder, "fake-broken", "fake_broken", BROKEN_IMPORT)
    use()
    monkeypatch.setenv("PLUGRAD_STRICT_PLUGINS", "1")
    assert main(["backends"]) == 1
    assert "failed to import" in capsys.readouterr().err


def test_the_command_shows_faulty_plugins_with_their_reason(plugins, capsys):
    folder, use = plugins
    write_dist(folder, "fake-broken", "fake_broken", BROKEN_IMPORT)
    write_dist(folder, "fake-good", "fake_good", GOOD.format(name="fakeback"))
    use()
    assert main(["backends"]) == 0
    out = capsys.readouterr().out
    assert any(line.split()[:4] == ["fakeback", "9.9", "fake-good", "1.0"] and
               line.endswith("ready") for line in out.splitlines())
    assert "fake_broken" in out and "error: failed to import" in out


def test_an_unknown_backend_lists_the_plugins_too(plugins):
    folder, use = plugins
    write_dist(folder, "fake-good", "fake_good", GOOD.format(name="fakeback"))
    use()
    with pytest.raises(RuntimeError, match=r"unknown backend 'nope'; available: numpy, .*fakeback"):
        backends.get("nope")


def test_the_example_package_registers_through_its_entry_point(plugins):
    pytest.importorskip("array_api_strict")
    folder, use = plugins
    (folder / "plugrad_array_api_strict.py").symlink_to(
        EXAMPLE / "src" / "plugrad_array_api_strict" / "__init__.py")
    write_dist(folder, "plugrad-array-api-strict", "fake_unused", "",
               "array_api_strict", "plugrad_array_api_strict")
    registry = use()
    try:
        row = rows(registry)["array_api_strict"]
        assert (row.status, row.package) == ("ready", "plugrad-array-api-strict 1.0")
        x = pg.tensor([2.0, 3.0], backend="array_api_strict", requires_grad=True)
        (x ** 2).sum().backward()
        assert x.grad.tolist() == [4.0, 6.0]
    finally:
        sys.modules.pop("plugrad_array_api_strict", None)


def test_importing_plugrad_imports_no_plugin_and_no_array_library(tmp_path):
    write_dist(tmp_path, "fake-spy", "fake_spy", GOOD.format(name="spyback"))
    code = textwrap.dedent("""
        import sys
        import plugrad as pg
        watched = ("fake_spy", "cupy", "pluggy", "numpy", "array_api_strict")
        print(sorted(m for m in watched if m in sys.modules))
        pg.zeros(1)
        print(sorted(m for m in ("fake_spy", "cupy") if m in sys.modules))
        assert "spyback" in pg.backends.available()
        print(sorted(m for m in ("fake_spy",) if m in sys.modules))
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUGRAD_")}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == ["[]", "[]", "['fake_spy']"]
