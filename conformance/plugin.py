"""The pytest plugin of the conformance suite: --plugrad-backend, declared gaps, the summary.

pytest loads it through the `pytest11` entry point of the plugrad package, so
`pytest --pyargs plugrad.conformance --plugrad-backend NAME` works from any
folder. In other test sessions it only adds its options: everything else
acts on items marked `plugrad_conformance`, which only the suite's own test
modules carry. It imports neither NumPy nor plugrad until the suite runs.

Declared gaps. A backend may ship `conformance_skips`, a dict from pattern to
reason (`{"matmul": "no batched matmul yet"}`). A pattern is matched
(fnmatch) against an op's name ("matmul"), the name with its group
("op:matmul", "docs:autograd.md", "engine:hooks_see_and_replace_gradients")
and a case's id ("matmul-float64-batch_bcast"). The cases it matches still
run, as expected failures: they are reported as declared gaps (and as passing
where they pass), and do not fail the run.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

import pytest

GROUPS = ("docs", "op", "engine", "property", "coverage")
_TITLES = {"docs": "documented examples (docs/*.md)", "op": "op table",
           "engine": "engine semantics", "property": "property-based (Hypothesis)",
           "coverage": "suite coverage"}


@dataclass
class Tally:
    group: str
    name: str
    declared: str = ""
    passed: int = 0
    failed: int = 0
    unsupported: int = 0
    xfailed: int = 0
    xpassed: int = 0
    skipped: int = 0
    first: dict = field(default_factory=dict)   # the first failing case of this entry

    @property
    def total(self) -> int:
        return (self.passed + self.failed + self.unsupported + self.xfailed + self.xpassed
                + self.skipped)

    @property
    def status(self) -> str:
        if self.failed:
            return "FAIL"
        if self.unsupported:
            return "UNSUPPORTED"
        if self.xfailed or self.xpassed:
            return "declared gap"
        if self.passed:
            return "pass"
        return "skipped"


class _State:
    def __init__(self) -> None:
        self.target = None
        self.error = None
        self.keys: dict = {}        # nodeid -> (group, name, case id)
        self.tallies: dict = {}     # (group, name) -> Tally
        self.first_failure: dict | None = None


_STATE = pytest.StashKey[_State]()


def pytest_addoption(parser):
    group = parser.getgroup("plugrad", "plugrad conformance suite (pytest --pyargs "
                                       "plugrad.conformance)")
    group.addoption("--plugrad-backend", metavar="NAME", default=None,
                    help="backend the conformance suite runs on: a registered name or "
                         "module:attribute (default: plugrad's default backend)")
    group.addoption("--plugrad-op", metavar="NAME", action="append", default=[],
                    help="run only these entries of the op table (repeatable; fnmatch "
                         "patterns); the docs, engine and property cases are left out")
    group.addoption("--plugrad-only", metavar="GROUP", action="append", default=[],
                    choices=GROUPS, help=f"run only these parts of the suite: "
                                         f"{', '.join(GROUPS)} (repeatable)")


def pytest_configure(config):
    config.addinivalue_line("markers", "plugrad_conformance(group, name=None): a case of "
                                       "plugrad's conformance suite, reported per op/page")
    config.stash[_STATE] = _State()


def target(config):
    """The backend under test (resolved once per session); raises a UsageError if unusable."""
    state = config.stash[_STATE]
    if state.target is None:
        from plugrad.conformance.target import resolve
        spec = config.getoption("--plugrad-backend")
        try:
            state.target = resolve(spec)
        except Exception as err:
            raise pytest.UsageError(f"plugrad conformance: backend {spec!r} cannot be used: "
                                    f"{err}") from None
    return state.target


def _key(item):
    mark = item.get_closest_marker("plugrad_conformance")
    if mark is None:
        return None
    group = mark.args[0] if mark.args else mark.kwargs.get("group", "engine")
    name = mark.args[1] if len(mark.args) > 1 else mark.kwargs.get("name")
    if name is None:
        name = getattr(item, "originalname", item.name)
        name = name[5:] if name.startswith("test_") else name
    case = item.callspec.id if hasattr(item, "callspec") else name
    return group, name, case


def declared_reason(skips: dict, group: str, name: str, case: str) -> str | None:
    """The reason of the first pattern of `skips` that matches this case, if any."""
    for pattern, reason in skips.items():
        for candidate in (name, f"{group}:{name}", case):
            if fnmatch.fnmatchcase(candidate, pattern):
                return reason
    return None


def pytest_collection_modifyitems(session, config, items):
    state = config.stash[_STATE]
    ops = config.getoption("--plugrad-op")
    only = set(config.getoption("--plugrad-only"))
    keep, drop = [], []
    skips = None
    for item in items:
        key = _key(item)
        if key is None:
            keep.append(item)
            continue
        group, name, case = key
        if (only and group not in only) or \
                (ops and not (group == "op" and any(fnmatch.fnmatchcase(name, p) for p in ops))):
            drop.append(item)
            continue
        if skips is None:
            from plugrad.conformance.target import skips_of
            skips = skips_of(target(config).backend)
        reason = declared_reason(skips, group, name, case)
        if reason is not None:
            item.add_marker(pytest.mark.xfail(reason=f"declared gap: {reason}", strict=False))
            state.tallies.setdefault((group, name), Tally(group, name)).declared = reason
        state.keys[item.nodeid] = key
        keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    # the report hook has no config argument: a small object bound to this session's state
    config = session.config
    state = config.stash[_STATE]

    class _Collector:
        @staticmethod
        def pytest_runtest_logreport(report):
            _record(state, report)

    config.pluginmanager.register(_Collector(), "plugrad-conformance-collector")


def _record(state: _State, report) -> None:
    key = state.keys.get(report.nodeid)
    if key is None:
        return
    if report.when != "call" and not (report.failed or report.skipped):
        return
    group, name, case = key
    tally = state.tallies.setdefault((group, name), Tally(group, name))
    props = dict(report.user_properties)
    if hasattr(report, "wasxfail"):
        if report.skipped:
            tally.xfailed += 1
        else:
            tally.xpassed += 1
    elif report.passed:
        tally.passed += 1
    elif report.skipped:
        tally.skipped += 1
    elif report.failed:
        if props.get("plugrad_outcome") == "unsupported":
            tally.unsupported += 1
        else:
            tally.failed += 1
        if not tally.first:
            message = _message(report)
            tally.first = {"case": case, "nodeid": report.nodeid, "message": message,
                           "repro": props.get("plugrad_repro", ""), "group": group,
                           "name": name}
            if state.first_failure is None:
                state.first_failure = tally.first


def _message(report) -> str:
    text = getattr(report, "longreprtext", "") or str(report.longrepr or "")
    lines = [line for line in text.strip().split("\n") if line.strip()]
    # pytest.fail(pytrace=False) gives the message alone; otherwise keep the "E" lines
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    return "\n".join(errors or lines[-12:])


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    state = config.stash.get(_STATE, None)
    if state is None or not state.tallies:
        return
    tr = terminalreporter
    t = state.target
    label = f"backend {t.spec!r}" if t is not None else "backend ?"
    if t is not None and t.spec != t.name:
        label += f" (named {t.name!r})"
    version = getattr(t.backend, "version", "") if t is not None else ""
    tr.write_sep("=", f"plugrad conformance: {label}" + (f", {version}" if version else ""))
    undeclared = 0
    markup = {"FAIL": {"red": True, "bold": True}, "UNSUPPORTED": {"red": True},
              "declared gap": {"yellow": True}, "pass": {"green": True}}
    for group in GROUPS:
        rows = [tl for (g, _), tl in state.tallies.items() if g == group and tl.total]
        if not rows:
            continue
        undeclared += sum(r.failed + r.unsupported for r in rows)
        tr.write_line("")
        if group in ("engine", "property", "coverage"):
            # one line for the group, then only the cases that did not simply pass
            passed = sum(1 for r in rows if r.status == "pass")
            tr.write_line(f"{_TITLES[group]}: {passed}/{len(rows)} pass")
            rows = [r for r in rows if r.status != "pass"]
            if not rows:
                continue
        else:
            tr.write_line(_TITLES[group])
        width = max(len(r.name) for r in rows) + 2
        for row in sorted(rows, key=lambda r: r.name) if group == "op" else rows:
            done = row.passed + row.xpassed
            counted = row.total - row.skipped
            line = f"  {row.name:<{width}}{row.status:<13}{done:>4}/{counted}"
            extra = []
            if row.skipped:
                extra.append(f"{row.skipped} skipped")
            if row.declared:
                extra.append(f"declared: {row.declared}")
                if row.xpassed:
                    extra.append(f"{row.xpassed} declared case(s) pass now")
            if row.first and row.status in ("FAIL", "UNSUPPORTED"):
                extra.append(f"first failure: {row.first['case']}")
            if extra:
                line = f"{line:<{width + 25}}" + "; ".join(extra)
            tr.write_line(line, **markup.get(row.status, {}))
    ops = [tl for (g, _), tl in state.tallies.items() if g == "op" and tl.total]
    if ops:
        counts = {}
        for tl in ops:
            counts[tl.status] = counts.get(tl.status, 0) + 1
        order = ("pass", "FAIL", "UNSUPPORTED", "declared gap", "skipped")
        tr.write_line("")
        tr.write_line(f"ops: {len(ops)} entries: " + ", ".join(
            f"{counts[s]} {s.lower()}" for s in order if s in counts))
    first = state.first_failure
    if first:
        spec = t.spec if t is not None else "BACKEND"
        tr.write_line("")
        tr.write_line(f"first failure: {first['group']} {first['name']}, case {first['case']}",
                      red=True, bold=True)
        head = first["message"].split("\nreproduce with:")[0].split("\n")
        for line in head[:14]:
            tr.write_line(f"  {line}")
        tr.write_line(f"  rerun it alone: plugrad conformance {spec} -k '{first['case']}'")
        if first["repro"]:
            tr.write_line("  reproduce with:")
            for line in first["repro"].split("\n"):
                tr.write_line(f"    {line}")
    verdict = "PASS" if not undeclared and exitstatus == 0 else "FAIL"
    detail = f"{undeclared} undeclared failure(s)" if undeclared else "no undeclared failures"
    tr.write_line("")
    tr.write_line(f"verdict: {verdict} ({detail})", green=verdict == "PASS",
                  red=verdict == "FAIL", bold=True)
