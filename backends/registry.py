"""Finding backends: the built-in plugin, then entry points, through pluggy.

The registry is made the first time a backend is needed. It registers the
built-in plugin directly; the entry points of the group `plugrad.backends` are
read (once) only when someone asks for a backend that is not built in, or for
the list of all backends. Each plugin is loaded and called on its own, so a
fault in one (it fails to import, its hook raises, it returns an invalid
spec) is attributed to it, reported, and the rest still work. With
PLUGRAD_STRICT_PLUGINS=1 the faults raise PluginError instead, all of them at
once (each with its traceback), once every plugin has been tried.

A backend name claimed by two packages is never guessed: it is refused for
both (the error names them) until the user picks one with the environment
variable PLUGRAD_BACKEND_<NAME>=<distribution> (`env_var(name)`). A built-in
name (numpy, cupy, dask) stays plugrad's unless that variable names the other
package.
"""
from __future__ import annotations

import importlib.metadata
import os
import re
import sys
import threading
import traceback
import warnings
from dataclasses import dataclass

import pluggy
from plugrad import hookspecs
from plugrad.backend import (
    Backend,
    BackendSpec,
    BackendUnavailable,
    UnknownDeviceType,
    missing_primitives,
)

from . import PluginError, PluginWarning

READY, UNAVAILABLE, ERROR = "ready", "not available", "error"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")


@dataclass
class BackendInfo:
    """One row of `plugrad backends`: a backend found, or a plugin that failed."""

    name: str
    package: str
    status: str = ""       # READY, UNAVAILABLE, ERROR, or "" while not yet created
    reason: str = ""
    version: str = ""
    description: str = ""
    spec: BackendSpec | None = None
    switches: dict | None = None   # the backend's process_switches, once it is made
    traceback: str = ""            # of the exception behind an ERROR, where there was one

    def __str__(self) -> str:
        return self.status if not self.reason else f"{self.status}: {self.reason}"

    @property
    def why(self) -> str:
        """Why it cannot be used: the reason, with "error:" in front for a fault."""
        return self.reason if self.status == UNAVAILABLE else str(self)


class BackendList(list):
    """The names of the ready backends; `unavailable` maps the others to the reason."""

    def __init__(self, names, unavailable: dict) -> None:
        super().__init__(names)
        self.unavailable = unavailable

    def __repr__(self) -> str:
        text = list.__repr__(self)
        if self.unavailable:
            text += "  # not available: " + "; ".join(
                f"{name} ({why})" for name, why in self.unavailable.items())
        return text


def env_var(name: str) -> str:
    """The environment variable that picks the package providing backend `name`.

    >>> env_var("my-lib")
    'PLUGRAD_BACKEND_MY_LIB'
    """
    return "PLUGRAD_BACKEND_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def _distribution(package: str) -> str:
    """'fake-a 1.0' -> 'fake-a', normalised as pip does (case, - _ .)."""
    return re.sub(r"[-_.]+", "-", package.rsplit(" ", 1)[0]).lower()


def strict() -> bool:
    """Whether plugin faults raise (PLUGRAD_STRICT_PLUGINS set to anything but 0)."""
    return os.environ.get("PLUGRAD_STRICT_PLUGINS", "0").strip() not in ("", "0")


class Registry:
    """The backends known to this process.

    `instances` is the dict the backends package reads on its fast path; the
    registry adds each backend to it once created. `path` limits the search
    for entry points to those folders (the tests use it; None means sys.path).
    """

    def __init__(self, instances: dict, path: list | None = None) -> None:
        self.instances = instances
        self.path = path
        self.lock = threading.RLock()
        self.infos: dict = {}        # backend name -> BackendInfo
        self.faults: list = []       # BackendInfo rows of plugins that named no backend
        self.claims: dict = {}       # backend name -> [(spec, package)], every package's claim
        self.pending: list = []      # faults not yet raised (PLUGRAD_STRICT_PLUGINS=1)
        self.manager: pluggy.PluginManager | None = None
        self.scanned = False
        self.scanning = False        # True while this registry's scan runs (re-entry guard)

    # -- discovery ---------------------------------------------------------------------
    def _start(self) -> None:
        """Register the built-in plugin (once): the same hook third parties implement."""
        if self.manager is None:
            with self.lock:
                if self.manager is None:
                    from plugrad import __version__

                    from . import builtin
                    manager = pluggy.PluginManager(hookspecs.PROJECT)
                    manager.add_hookspecs(hookspecs)
                    self._add_plugin(manager, builtin, "plugrad", f"plugrad {__version__}")
                    self.manager = manager

    def scan(self) -> None:
        """Load the entry points of the group plugrad.backends (once per registry); in strict
        mode, raise PluginError for every fault found (after trying every plugin)."""
        self._scan()
        self._raise_pending()

    def _scan(self) -> None:
        self._start()
        if self.scanned:
            return
        with self.lock:  # other threads wait here until the scan is complete
            if self.scanned or self.scanning:
                return  # done, or a plugin asking for backends while it loads: no recursion
            self.scanning = True
            try:
                for ep, package in self._entry_points():
                    try:
                        plugin = ep.load()  # pluggy's own loader lets this exception escape
                    except Exception as err:
                        self._fault(ep.name, package, f"failed to import {ep.value}: "
                                                      f"{type(err).__name__}: {err}")
                        continue
                    self._add_plugin(self.manager, plugin, f"{package}:{ep.name}", package,
                                     ep.name)
            finally:
                self.scanned, self.scanning = True, False

    def _entry_points(self) -> list:
        """(entry point, "distribution version") for each plugrad.backends entry point."""
        if self.path is None:
            dists = importlib.metadata.distributions()
        else:
            dists = importlib.metadata.distributions(path=list(self.path))
        found, seen = [], set()
        for dist in dists:
            for ep in dist.entry_points:
                # the same distribution can sit twice on sys.path (an editable install)
                if ep.group != hookspecs.ENTRY_POINT_GROUP or (ep.name, ep.value) in seen:
                    continue
                seen.add((ep.name, ep.value))
                found.append((ep, f"{dist.metadata['Name']} {dist.version}"))
        # entry points come in no fixed order; sort so a name clash always ends the same way
        return sorted(found, key=lambda pair: (pair[1], pair[0].name))

    def _add_plugin(self, manager, plugin, plugin_name: str, package: str,
                    label: str | None = None) -> None:
        """Register one plugin, call its hook, and record the backends it names."""
        label = label or plugin_name
        try:
            manager.register(plugin, name=plugin_name)
        except Exception as err:  # bad hook signature, registered twice
            self._fault(label, package, f"could not be registered: {type(err).__name__}: {err}")
            return
        try:
            manager.check_pending()  # a misspelt hook name (plugrad_backend) is an error
        except Exception as err:
            manager.unregister(plugin)
            self._fault(label, package, f"{type(err).__name__}: {err}")
            return
        impls = [i for i in manager.hook.plugrad_backends.get_hookimpls() if i.plugin is plugin]
        if not impls:
            self._fault(label, package, "has no plugrad_backends hook")
            return
        for impl in impls:
            # called one plugin at a time: through pluggy one raising hook would hide the rest
            try:
                specs = impl.function()
            except Exception as err:
                self._fault(label, package, f"its plugrad_backends hook raised "
                                            f"{type(err).__name__}: {err}")
                continue
            self._add_specs(specs, label, package)

    def _add_specs(self, specs, label: str, package: str) -> None:
        if isinstance(specs, BackendSpec) or specs is None:
            specs = [specs] if specs is not None else []
        if not isinstance(specs, (list, tuple)):
            self._fault(label, package, f"its plugrad_backends hook returned "
                                        f"{type(specs).__name__}, not a list of BackendSpec")
            return
        for spec in specs:
            if not isinstance(spec, BackendSpec):
                self._fault(label, package, f"its plugrad_backends hook returned a "
                                            f"{type(spec).__name__}, not a BackendSpec")
            elif not isinstance(spec.name, str) or not _NAME.match(spec.name):
                self._fault(label, package, f"invalid backend name {spec.name!r} (use letters, "
                                            f"digits, _ . -)")
            elif not callable(spec.factory):
                self._fault(spec.name, package, "its BackendSpec has no callable factory")
            else:
                self.claims.setdefault(spec.name, []).append((spec, package))
                self._settle(spec.name)

    def _settle(self, name: str) -> None:
        """Decide who provides `name` from every claim so far: never by guessing."""
        claims = self.claims[name]
        var = env_var(name)
        chosen = os.environ.get(var, "").strip()
        packages = [package for _, package in claims]
        if chosen:
            picked = [c for c in claims if _distribution(c[1]) == _distribution(chosen)]
            if picked:
                spec, package = picked[0]
                self.infos[name] = BackendInfo(name, package, spec=spec,
                                               description=spec.description)
            else:  # may come later in the scan; then this row is replaced
                self.infos[name] = BackendInfo(
                    name, ", ".join(packages), status=ERROR,
                    reason=f"{var}={chosen}, but {chosen} does not provide {name!r} "
                           f"(provided by {' and '.join(packages)})")
            return
        spec, package = claims[0]
        if len(claims) == 1:
            self.infos[name] = BackendInfo(name, package, spec=spec,
                                           description=spec.description)
            return
        if package.startswith("plugrad "):  # a built-in name stays plugrad's unless chosen
            other = claims[-1][1]
            self._fault(name, other, f"name clash: {name!r} is plugrad's built-in backend; "
                                     f"the one of {other} is left out (to use it instead, "
                                     f"set {var}={other.rsplit(' ', 1)[0]})")
            return
        names = " and ".join(packages)
        choices = " or ".join(f"{var}={p.rsplit(' ', 1)[0]}" for p in packages)
        info = BackendInfo(name, ", ".join(packages))
        self.infos[name] = info
        self._fault(name, names, f"is refused: the name {name!r} is claimed by {names}; "
                                 f"pick one with {choices}", info)

    def _fault(self, name: str, package: str, reason: str, info: BackendInfo | None = None):
        """Record a plugin's fault: a warning and an error row (raised later when strict)."""
        if info is None:
            info = BackendInfo(name, package)
            self.faults.append(info)
        info.status, info.reason = ERROR, reason
        if sys.exc_info()[1] is not None:  # called while handling the plugin's exception
            info.traceback = traceback.format_exc()
        message = f"plugrad backend plugin {name!r} ({package}) {reason}"
        if strict():
            self.pending.append(info)
            return
        warnings.warn(message, PluginWarning, stacklevel=3)

    def _raise_pending(self) -> None:
        """In strict mode, raise PluginError naming every fault not yet raised, with its
        traceback (each fault once)."""
        if not self.pending:
            return
        faults, self.pending = self.pending, []
        parts = []
        for info in faults:
            part = f"plugrad backend plugin {info.name!r} ({info.package}) {info.reason}"
            if info.traceback:
                part += "\n" + "\n".join("    " + line for line in
                                          info.traceback.rstrip().split("\n"))
            parts.append(part)
        err = PluginError(f"{len(faults)} faulty backend plugin(s) "
                          f"[PLUGRAD_STRICT_PLUGINS is set]:\n" + "\n".join(parts))
        err.faults = faults
        raise err

    # -- creation ----------------------------------------------------------------------
    def create(self, name: str):
        """The backend `name`, created now if it is not yet: BackendUnavailable if it cannot be."""
        if not isinstance(name, str):
            raise TypeError(f"a backend name must be a str, got {type(name).__name__}")
        self._start()
        info = self.infos.get(name)
        if info is None or (not self.scanned and os.environ.get(env_var(name))):
            self.scan()  # PLUGRAD_BACKEND_<NAME> may pick a plugin over a built-in
            info = self.infos.get(name)
        if info is None:
            raise BackendUnavailable(f"unknown backend {name!r}; {self.summary()}")
        with self.lock:
            bk = self.instances.get(name)
            if bk is None and not info.status:
                bk = self._make(info)
        self._raise_pending()
        if bk is None:
            raise BackendUnavailable(f"backend {name!r} is not available ({info.reason}); "
                                     f"{self.summary(but=name)}")
        return bk

    def knows(self, name: str) -> bool:
        """Whether some plugin registers a backend called `name` (built-ins first, then a scan)."""
        self._start()
        if name not in self.infos:
            self.scan()
        return name in self.infos

    def for_device_type(self, device_type: str):
        """The first backend serving `device_type` that runs here: built-ins first, then
        plugins (scanned only when no built-in serves it). BackendUnavailable says why none
        does: no backend declares the type, or each that does cannot run here."""
        self._start()
        reasons = []
        for scanned in (False, True):
            if scanned:
                if self.scanned:
                    break
                self.scan()
            for info in list(self.infos.values()):
                if info.spec is None or getattr(info.spec, "device_type", "cpu") != device_type:
                    continue
                if info.name in self.instances:
                    return self.instances[info.name]
                if any(info.name == r[0] for r in reasons):
                    continue
                try:
                    return self.create(info.name)
                except BackendUnavailable:
                    reasons.append((info.name, info.reason))
        if not reasons:
            raise UnknownDeviceType(f"no backend serves device type {device_type!r}; "
                                    f"{self.summary()}")
        why = "; ".join(f"backend {name!r}: {reason}" for name, reason in reasons)
        raise BackendUnavailable(f"device type {device_type!r} is not available here ({why})")

    def _make(self, info: BackendInfo):
        """Call a spec's factory and check what it returns; record the outcome in `info`."""
        try:
            bk = info.spec.factory()
        except (BackendUnavailable, ImportError) as err:
            info.status, info.reason = UNAVAILABLE, str(err) or type(err).__name__
            info.version = str(getattr(err, "version", "") or "")
            return None
        except Exception as err:
            self._fault(info.name, info.package, f"its factory raised {type(err).__name__}: "
                                                 f"{err}", info)
            return None
        if not isinstance(bk, Backend):
            self._fault(info.name, info.package, f"its factory returned {type(bk).__name__}, "
                                                 f"not a plugrad.backend.Backend", info)
            return None
        missing = missing_primitives(bk)
        if missing:
            self._fault(info.name, info.package, f"is an invalid backend: it lacks the required "
                                                 f"primitives {', '.join(missing)}", info)
            return None
        bk.name = info.name  # tensors and error messages name it as it was registered
        bk.device_type = getattr(info.spec, "device_type", "cpu")
        info.version = str(getattr(bk, "version", "") or "")
        info.switches = dict(getattr(bk, "process_switches", None) or {})
        info.status = READY
        self.instances[info.name] = bk
        return bk

    # -- listing ---------------------------------------------------------------------
    def status(self) -> list:
        """Every backend found (each one tried) and every faulty plugin, built-ins first.

        In strict mode every plugin is still tried before PluginError lists the faults."""
        self._scan()
        for info in list(self.infos.values()):
            if not info.status:
                with self.lock:
                    if not info.status:
                        self._make(info)
        self._raise_pending()
        return list(self.infos.values()) + list(self.faults)

    def available(self) -> BackendList:
        rows = self.status()
        ready = [r.name for r in rows if r.status == READY]
        # a fault row that shares a ready backend's name (a package refused that name) does
        # not make that backend unavailable: it is listed by `plugrad backends`
        others = {r.name: r.why for r in rows if r.status != READY and r.name not in ready}
        return BackendList(ready, others)

    def summary(self, but: str | None = None) -> str:
        """'available: a, b; not available: c (why)' for error messages."""
        try:
            rows = self.status()
        except PluginError as err:
            return f"listing the others failed: {err}"
        ready = [r.name for r in rows if r.status == READY]
        others = [f"{r.name} ({r.why})" for r in rows
                  if r.status != READY and r.name != but and r.name not in ready]
        text = "available: " + (", ".join(ready) or "none")
        if others:
            text += "; not available: " + "; ".join(others)
        return text


def format_table(rows: list) -> str:
    """The rows of `status()` as the aligned table `plugrad backends` prints."""
    from . import default
    header = ("name", "version", "package", "status")
    lines = [(r.name, r.version or "-", r.package, str(r)) for r in rows]
    widths = [max(len(line[i]) for line in [header] + lines) for i in range(3)]
    text = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)) + "  " + line[3]
            for line in [header] + lines]
    switched = [r for r in rows if r.switches]
    if switched:
        text.append("\nprocess-wide switches the backends set (they change the library for "
                    "the whole process):")
        text += [f"  {r.name}: {switch} ({why})" for r in switched
                 for switch, why in r.switches.items()]
    try:
        text.append(f"\ndefault: {default().name} (change it with PLUGRAD_BACKEND or "
                    f"plugrad.set_default_backend)")
    except BackendUnavailable as err:
        text.append(f"\ndefault: none usable: {err}")
    return "\n".join(text)
