"""The pytest plugin of the conformance suite: --plugrad-backend, declared gaps, the summary.

pytest loads it through the `pytest11` entry point of the plugrad package, so
`pytest --pyargs plugrad.conformance --plugrad-backend NAME` works from any
folder. In other test sessions it only adds its options: everything else
acts on items marked `plugrad_conformance`, which only the suite's own test
modules carry. It imports neither NumPy nor plugrad until the suite runs.

Declared gaps. A backend may ship `conformance_skips`, a dict from pattern to
reason (`{"matmul": "no batched matmul yet"}`); `gaps.py` reads it: a pattern
names cases (by op, group or case id, optionally one stage: `matmul@gradient`),
a missing kernel (`kernel:argsort`: every case that raises NotImplementedError
naming it) or capability (`capability:in-place`), or a dtype (`dtype:float16`).
The cases a gap covers still run: a failure it covers is reported as a declared
gap (xfail), a case it names that passes is pointed out (xpass), and neither
fails the run, except under `--plugrad-strict`, where a declaration that passes
or matches nothing fails it.
"""
from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field

import pytest

from .gaps import LEVELS, STAGES, declared_reason, level, parse, stage_of_group

__all__ = ["declared_reason", "target"]

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
        self.keys: dict = {}        # nodeid -> (group, name, case id, dtype)
        self.tallies: dict = {}     # (group, name) -> Tally
        self.first_failure: dict | None = None
        self.gaps: list = []        # the backend's declared gaps (gaps.Gap)
        self.named: dict = {}       # nodeid -> the case gaps whose pattern names it
        self.records: list = []     # one dict per case: the --plugrad-json report
        self.selected = False       # a part of the suite was chosen (--plugrad-op, -k, ...)
        self.stale: list = []       # lines: declarations that pass or match nothing


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
    group.addoption("--plugrad-json", metavar="FILE", default=None,
                    help="write one JSON record per case (op, dtype, stage, outcome, "
                         "reproducer) to FILE")
    group.addoption("--plugrad-strict", action="store_true", default=False,
                    help="a declared gap that passes now, or a declaration that matches "
                         "nothing, fails the run")


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
    dtype = item.callspec.params.get("dtype") if hasattr(item, "callspec") else None
    return group, name, case, dtype


def pytest_collection_modifyitems(session, config, items):
    state = config.stash[_STATE]
    ops = config.getoption("--plugrad-op")
    only = set(config.getoption("--plugrad-only"))
    state.selected = bool(ops or only or config.getoption("keyword")
                          or config.getoption("markexpr"))
    keep, drop = [], []
    loaded = False
    for item in items:
        key = _key(item)
        if key is None:
            keep.append(item)
            continue
        group, name, case, _ = key
        if (only and group not in only) or \
                (ops and not (group == "op" and any(fnmatch.fnmatchcase(name, p) for p in ops))):
            drop.append(item)
            continue
        if not loaded:
            from plugrad.conformance.target import skips_of
            state.gaps = parse(skips_of(target(config).backend))
            loaded = True
        named = [g for g in state.gaps if g.names(group, name, case)]
        for gap in named:
            gap.named += 1
        if named:
            state.named[item.nodeid] = named
            state.tallies.setdefault((group, name), Tally(group, name)).declared = \
                named[0].reason
        state.keys[item.nodeid] = key
        keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Decide, from what the case raised and at which stage, whether a failure is a declared
    gap (reported as xfail) and whether it is UNSUPPORTED (NotImplementedError)."""
    outcome = yield
    state = item.config.stash.get(_STATE, None)
    if state is None or item.nodeid not in state.keys:
        return
    report = outcome.get_result()
    group, name, case, _ = state.keys[item.nodeid]
    props = dict(item.user_properties)
    stages = props.get("plugrad_stages") or (stage_of_group(group),)
    if report.failed:
        error = props.get("plugrad_unsupported")
        if error is None and call.excinfo is not None and \
                isinstance(call.excinfo.value, NotImplementedError):
            error = call.excinfo.value
        stage = props.get("plugrad_stage") or stage_of_group(group)
        report.user_properties.append(("plugrad_failed_stage", stage))
        if error is not None:
            report.user_properties.append(("plugrad_outcome", "unsupported"))
        gap = next((g for g in state.gaps if g.covers(group, name, case, stage, error)), None)
        if gap is not None:
            gap.hits += 1
            report.user_properties.append(("plugrad_gap", gap))
            report.outcome = "skipped"
            report.wasxfail = f"declared gap ({gap.key}): {gap.reason}"
    elif report.passed and call.when == "call":
        gap = next((g for g in state.named.get(item.nodeid, ())
                    if g.stage is None or g.stage in stages), None)
        if gap is not None:
            gap.passes += 1
            report.user_properties.append(("plugrad_gap", gap))
            report.wasxfail = f"declared gap ({gap.key}) passes now: {gap.reason}"


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


def _outcome(report, props) -> str:
    if hasattr(report, "wasxfail"):
        return "declared" if report.skipped else "declared, passes"
    if report.passed:
        return "pass"
    if report.skipped:
        return "skipped"
    return "unsupported" if props.get("plugrad_outcome") == "unsupported" else "fail"


def _record(state: _State, report) -> None:
    key = state.keys.get(report.nodeid)
    if key is None:
        return
    if report.when != "call" and not (report.failed or report.skipped):
        return
    group, name, case, dtype = key
    tally = state.tallies.setdefault((group, name), Tally(group, name))
    props = dict(report.user_properties)
    outcome = _outcome(report, props)
    gap = props.get("plugrad_gap")
    if gap is not None:
        tally.declared = tally.declared or gap.reason
    if outcome == "declared":
        tally.xfailed += 1
    elif outcome == "declared, passes":
        tally.xpassed += 1
    elif outcome == "pass":
        tally.passed += 1
    elif outcome == "skipped":
        tally.skipped += 1
    elif outcome == "unsupported":
        tally.unsupported += 1
    else:
        tally.failed += 1
    message = _message(report) if report.failed or outcome == "declared" else ""
    if report.failed and not tally.first:
        tally.first = {"case": case, "nodeid": report.nodeid, "message": message,
                       "repro": props.get("plugrad_repro", ""), "group": group,
                       "name": name}
        if state.first_failure is None:
            state.first_failure = tally.first
    stages = props.get("plugrad_stages") or (stage_of_group(group),)
    state.records.append({
        "group": group, "op": name, "case": case, "dtype": dtype, "stages": list(stages),
        "stage": props.get("plugrad_failed_stage"), "outcome": outcome,
        "declared": None if gap is None else {"key": gap.key, "reason": gap.reason},
        "message": message.split("\nreproduce with:")[0],
        "reproducer": props.get("plugrad_repro", "") if outcome != "pass" else ""})


def _message(report) -> str:
    text = getattr(report, "longreprtext", "") or str(report.longrepr or "")
    if hasattr(report, "wasxfail") and not text:
        return report.wasxfail
    lines = [line for line in text.strip().split("\n") if line.strip()]
    # pytest.fail(pytrace=False) gives the message alone; otherwise keep the "E" lines
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    return "\n".join(errors or lines[-12:])


def counts(records: list) -> dict:
    """passed / declared / failed / skipped over the records of a run (a declared case that
    passes counts as passed, and as `declared_passing`)."""
    c = {"passed": 0, "declared": 0, "failed": 0, "skipped": 0, "declared_passing": 0}
    for r in records:
        o = r["outcome"]
        if o in ("pass", "declared, passes"):
            c["passed"] += 1
            c["declared_passing"] += o != "pass"
        elif o == "declared":
            c["declared"] += 1
        elif o == "skipped":
            c["skipped"] += 1
        else:
            c["failed"] += 1
    return c


def conformance_level(records: list) -> str:
    """The level of `gaps.LEVELS` the run reached: worst stage with a failure or a gap."""
    return level(r["stage"] or stage_of_group(r["group"]) for r in records
                 if r["outcome"] in ("fail", "unsupported", "declared"))


def _stale(state: _State) -> list:
    """Lines for the declarations that are wrong, match nothing or pass now."""
    lines = []
    for gap in state.gaps:
        if gap.problem:
            lines.append(f"{gap.key!r} cannot match: {gap.problem}")
        elif gap.kind == "cases" and not gap.named:
            lines.append(f"{gap.key!r} matches no case of this run (a misspelt pattern?)")
        elif gap.kind == "kernel" and not gap.hits and not state.selected:
            lines.append(f"{gap.key!r} covered no failure: no case raised "
                         f"NotImplementedError naming {', '.join(gap.kernels)}")
        elif gap.passes and not gap.hits:
            lines.append(f"{gap.key!r}: all {gap.passes} case(s) it names pass now")
    return lines


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    config = session.config
    state = config.stash.get(_STATE, None)
    if state is None or not state.records:
        return
    state.stale = _stale(state)
    if config.getoption("--plugrad-strict") and session.exitstatus == 0 and \
            (state.stale or counts(state.records)["declared_passing"]):
        session.exitstatus = 1
    path = config.getoption("--plugrad-json")
    if path:
        t = state.target
        from plugrad import __version__
        report = {
            "backend": t.name if t is not None else None,
            "spec": t.spec if t is not None else None,
            "version": str(getattr(t.backend, "version", "") or "") if t is not None else "",
            "plugrad": __version__, "level": conformance_level(state.records),
            "counts": counts(state.records),
            "gaps": [{"key": g.key, "reason": g.reason, "covered": g.hits,
                      "passing": g.passes, "problem": g.problem} for g in state.gaps],
            "stages": list(STAGES), "cases": state.records}
        with open(path, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1)


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
            if row.declared and (row.xfailed or row.xpassed):
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
        tally_counts = {}
        for tl in ops:
            tally_counts[tl.status] = tally_counts.get(tl.status, 0) + 1
        order = ("pass", "FAIL", "UNSUPPORTED", "declared gap", "skipped")
        tr.write_line("")
        tr.write_line(f"ops: {len(ops)} entries: " + ", ".join(
            f"{tally_counts[s]} {s.lower()}" for s in order if s in tally_counts))
    if state.gaps:
        tr.write_line("")
        tr.write_line("declared gaps (conformance_skips)")
        width = max(len(g.key) for g in state.gaps) + 2
        for gap in state.gaps:
            tr.write_line(f"  {gap.key:<{width}}{gap.hits:>5} covered {gap.passes:>5} pass now"
                          f"   {gap.reason}")
    for line in state.stale:
        tr.write_line(f"warning: declared gap {line}", yellow=True)
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
    c = counts(state.records)
    strict = config.getoption("--plugrad-strict")
    stale = strict and (state.stale or c["declared_passing"])
    verdict = "PASS" if not undeclared and exitstatus == 0 and not stale else "FAIL"
    lvl = conformance_level(state.records)
    detail = (f"{c['passed']} passed, {c['declared']} declared, {c['failed']} failed"
              + (f", {c['skipped']} skipped" if c["skipped"] else ""))
    if stale:
        detail += "; --plugrad-strict: stale declarations"
    tr.write_line("")
    tr.write_line(f"verdict: {verdict} ({detail}); conformance level: {lvl} "
                  f"({LEVELS[lvl]})", green=verdict == "PASS", red=verdict == "FAIL",
                  bold=True)
