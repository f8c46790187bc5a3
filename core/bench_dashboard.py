"""One static HTML page from the saved pytest-benchmark runs: `plugrad bench dashboard`.

    plugrad bench dashboard [--storage .benchmarks] [--out .benchmarks/dashboard.html]
    python -m plugrad.bench_dashboard [--storage .benchmarks] [--out ...]

The benchmark suite that saves the runs lives in a source checkout
(`benchmarks/`, run by `plugrad bench`); this renderer ships in the package and
needs only the standard library, so saved runs render anywhere plugrad is
installed. It reads every run saved in the `--benchmark-autosave` layout
(`<storage>/<machine_id>/NNNN_<commit>_<date>[_uncommitted-changes].json`) and
writes one self-contained page: inline SVG charts and CSS, no scripts, no
fonts or styles from the network, so it opens from disk anywhere. Hovering a
bar or a point shows its exact figures (SVG titles).

The page shows, for the latest run: every workload's median time per backend
and peer with its ratios to the NumPy floor and to torch, W3's peak memory,
W4's million-op chain, W3 at 100x on dask with a LocalCluster (time and the
client's peak memory against the data; from the newest run that has it), the
per-op forward and backward times, and import times; for all runs: each
workload's ratio to the floor over time (commit and date on the axis, a dot in
the colour of the machine the run came from), and a table of the runs and their
machines.

Results are placed by the `extra_info` the suite writes (`describe` in
benchmarks/bench_workloads.py); results saved before that are placed by their
group and parameters.
"""
from __future__ import annotations

import argparse
import html
import json
import math
import os
import re
import statistics
import sys
from dataclasses import dataclass, field

WORKLOAD_TEXT = {
    "W1": ("tiny-op overhead", "(16,), 300 × (y·1.0001 + 0.001).tanh()"),
    "W2": ("MLP step", "64×784 → 256 → 256 → 10, relu, MSE"),
    "W3": ("large elementwise", "2,000,000 floats, exp(0.5·log(x² + 1)).sum()"),
    "W4": ("deep chain", "(1,), 20,000 × (y·1.0001)"),
    "W5": ("matmul", "512×512 @ 512×512, sum"),
    "demo-mlp": ("demo training step", "64×64 → 256 → 256 → 10, cross-entropy, SGD"),
}
# the goals of issue 6: (against, at most)
GOALS = {"W1": ("torch", 0.5), "W2": ("floor", 1.1), "W3": ("floor", 1.05),
         "W4": ("torch", 0.5), "W5": ("floor", 1.05)}
FLOOR, TORCH = "numpy floor", "torch"
PLUGRAD_COLOURS = ["#2563eb", "#7c3aed", "#0d9488", "#db2777", "#ca8a04"]
PEER_COLOURS = {FLOOR: "#94a3b8", TORCH: "#ee4c2c"}
MACHINE_COLOURS = ["#0ea5e9", "#f59e0b", "#10b981", "#a855f7", "#ef4444", "#64748b"]


# -- reading the runs -------------------------------------------------------------------------
@dataclass
class Result:
    kind: str          # workload, long, op-forward, op-backward, import
    key: str           # W1, exp, "import plugrad", ...
    series: str        # numpy floor, plugrad · numpy, torch, ...
    seconds: float     # median (or the child's own measurement for import and long)
    stats: dict
    extra: dict


@dataclass
class Run:
    machine_id: str
    file: str
    counter: str
    commit: str
    dirty: bool
    date: str          # ISO, UTC
    machine: dict
    results: list = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.commit[:7]}{'*' if self.dirty else ''}"

    @property
    def day(self) -> str:
        return self.date[:10]

    def find(self, kind: str, key: str, series: str):
        for r in self.results:
            if (r.kind, r.key, r.series) == (kind, key, series):
                return r
        return None


def _guess(bench: dict) -> tuple[str, str, str] | None:
    """kind, key, series of a result saved without the suite's extra_info."""
    group = bench.get("group") or ""
    fw = (bench.get("params") or {}).get("framework") or bench.get("param") or ""
    m = re.match(r"(W\d)\b", group)
    if not m or not fw:
        return None
    series = {"numpy": FLOOR, "plugrad": "plugrad · numpy"}.get(fw, fw)
    if fw.startswith("plugrad-"):
        series = "plugrad · " + fw[len("plugrad-"):]
    return "workload", m.group(1), series


def load_runs(storage: str) -> list[Run]:
    """Every saved run under `storage`, oldest first."""
    runs = []
    if not os.path.isdir(storage):
        return runs
    for machine_id in sorted(os.listdir(storage)):
        folder = os.path.join(storage, machine_id)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if not re.match(r"\d{4}_.*\.json$", name):
                continue
            path = os.path.join(folder, name)
            try:
                with open(path, encoding="utf-8") as f:
                    data = json.load(f)
            except ValueError as err:  # e.g. a run cut short while it was being written
                raise ValueError(f"{path} is not a saved pytest-benchmark run: {err}") from None
            commit = data.get("commit_info") or {}
            run = Run(machine_id, name, name[:4], str(commit.get("id") or "unknown"),
                      bool(commit.get("dirty")), str(data.get("datetime") or ""),
                      data.get("machine_info") or {})
            for bench in data.get("benchmarks", []):
                extra = bench.get("extra_info") or {}
                stats = bench.get("stats") or {}
                if extra.get("kind") and extra.get("series"):
                    kind, key, series = extra["kind"], str(extra["key"]), extra["series"]
                else:
                    guessed = _guess(bench)
                    if guessed is None:
                        continue
                    kind, key, series = guessed
                seconds = extra.get("measured_s", stats.get("median"))
                if seconds is None:
                    continue
                run.results.append(Result(kind, key, series, float(seconds), stats, extra))
            runs.append(run)
    runs.sort(key=lambda r: (r.date, r.machine_id, r.counter))
    return runs


# -- formatting -------------------------------------------------------------------------------
def esc(s) -> str:
    return html.escape(str(s), quote=True)


def fmt_time(s: float) -> str:
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        ms = s * 1e3
        return f"{ms:.3g} ms" if ms < 100 else f"{ms:.0f} ms"
    return f"{s * 1e6:.3g} µs"


def fmt_bytes(n: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"


def fmt_ratio(r: float | None) -> str:
    return "–" if r is None or not math.isfinite(r) else f"{r:.2f}×"


def ratio(a, b) -> float | None:
    if a is None or b is None or not b.seconds:
        return None
    return a.seconds / b.seconds


def series_order(names) -> list[str]:
    plug = sorted(n for n in names if n.startswith("plugrad"))
    rest = sorted(n for n in names if n not in plug and n not in (FLOOR, TORCH))
    return ([FLOOR] if FLOOR in names else []) + plug + rest + ([TORCH] if TORCH in names else [])


class Palette:
    def __init__(self, runs: list[Run]) -> None:
        plug = sorted({r.series for run in runs for r in run.results
                       if r.series.startswith("plugrad") and r.kind != "import"})
        self.series = dict(PEER_COLOURS)
        for i, name in enumerate(plug):
            self.series[name] = PLUGRAD_COLOURS[i % len(PLUGRAD_COLOURS)]
        machines = []
        for run in runs:
            if run.machine_id not in machines:
                machines.append(run.machine_id)
        self.machines = {m: MACHINE_COLOURS[i % len(MACHINE_COLOURS)]
                         for i, m in enumerate(machines)}

    def of(self, series: str) -> str:
        return self.series.get(series, "#475569")


# -- changes between runs: step detection and run-to-run comparison -----------------------------
# A saved run gives, per result, a median and the spread of its rounds (IQR). The figure
# compared between runs is a ratio within one run (plugrad's time over the NumPy floor's, or
# over torch's for the per-op cases), which cancels most of a machine's speed and load. A
# workload's ratios over the runs of one machine are read as piecewise constant plus noise,
# as asv reads its graphs: a step is a change of level between two stretches of runs, and it
# is flagged only when it exceeds the noise, the larger of the runs' own spread and the
# scatter between successive runs, and MIN_STEP.
MIN_STEP = 0.05      # a change under 5% is never flagged (asv's default threshold too)
STEP_SIGMAS = 3.0    # how many noise-widths a change of level must exceed


def reference(run: Run, r: Result) -> tuple[str, Result | None]:
    """What a result's ratio is taken against in its run: the floor for workloads, the long
    chain and W3x100; torch for the per-op cases; ("time", None) when neither is there."""
    kind = r.kind
    if kind in ("workload", "long", "scale"):
        ref = run.find(kind, r.key, FLOOR)
        if ref is not None and r.series != FLOOR:
            return "floor", ref
    if kind.startswith("op-") and r.series != TORCH:
        ref = run.find(kind, r.key, TORCH)
        if ref is not None:
            return "torch", ref
    return "time", None


def spread(r: Result) -> float:
    """The standard error of log(median) of one result, from the IQR of its rounds (the
    median's standard error is about 1.2533 sigma / sqrt(n), sigma about IQR / 1.349); 0 for
    results measured once."""
    iqr, med, n = r.stats.get("iqr"), r.stats.get("median"), r.stats.get("rounds")
    if not iqr or not med or not n or n < 2:
        return 0.0
    return 0.929 * float(iqr) / (float(med) * math.sqrt(float(n)))


@dataclass
class Point:
    run: Run
    value: float       # the ratio (or the time, when the run has no reference)
    noise: float       # standard error of log(value) within the run
    against: str       # floor, torch or time


def point(run: Run, r: Result) -> Point:
    against, ref = reference(run, r)
    if ref is None or not ref.seconds:
        return Point(run, r.seconds, spread(r), "time")
    return Point(run, r.seconds / ref.seconds, math.hypot(spread(r), spread(ref)), against)


@dataclass
class Step:
    """A change of level in one series between run `before` and run `after`."""
    kind: str
    key: str
    series: str
    machine_id: str
    against: str
    before: Run        # the last run of the earlier stretch
    after: Run         # the first run of the later stretch
    old: float         # the level (median) of the earlier stretch
    new: float
    noise: float       # the relative change the noise alone could make (STEP_SIGMAS widths)

    @property
    def change(self) -> float:
        return self.new / self.old - 1

    @property
    def worse(self) -> bool:   # every figure here is a time or a ratio of times: up is slower
        return self.new > self.old

    def describe(self) -> str:
        what = "slower" if self.worse else "faster"
        unit = "" if self.against == "time" else f" {self.against}"
        fmt = fmt_time if self.against == "time" else (lambda v: f"{v:.2f}×")
        return (f"{self.key} {self.series}: {fmt(self.old)}{unit} → {fmt(self.new)}{unit} "
                f"({self.change:+.0%}, {what}; noise ±{self.noise:.0%}) between "
                f"run {self.before.counter} ({self.before.label}) and run {self.after.counter} "
                f"({self.after.label}) on {self.machine_id}")


def find_steps(values: list[float], noises: list[float] | None = None,
               min_step: float = MIN_STEP) -> list[tuple[int, float, float, float]]:
    """The steps of a series: (index of the first value after the step, level before, level
    after, relative noise), in order. Binary segmentation on log values: split where two
    constant levels (medians) fit best, keep the split when the change of level exceeds
    `min_step` and STEP_SIGMAS times its noise, and look for more steps on both sides.

    >>> [(i, round(a, 2), round(b, 2)) for i, a, b, _ in find_steps([1.0, 1.02, 0.99, 1.3, 1.32])]
    [(3, 1.0, 1.31)]
    >>> find_steps([1.0, 1.02, 0.99, 1.01])
    []
    """
    ys = [math.log(v) for v in values]
    noises = list(noises) if noises is not None else [0.0] * len(ys)
    found: list[tuple[int, float, float, float]] = []
    # the run-to-run scatter, from the differences of successive runs (a step moves one of
    # them, the median of their sizes hardly): its robust standard deviation, over sqrt(2)
    # for a difference of two runs. Two runs have one difference, the change itself: none.
    between = 0.0
    if len(ys) > 2:
        between = 1.4826 * statistics.median(
            abs(b - a) for a, b in zip(ys, ys[1:])) / math.sqrt(2)

    def split(lo: int, hi: int) -> None:
        if hi - lo < 2:
            return
        best = None
        for k in range(lo + 1, hi):
            left, right = ys[lo:k], ys[k:hi]
            ml, mr = statistics.median(left), statistics.median(right)
            cost = sum(abs(y - ml) for y in left) + sum(abs(y - mr) for y in right)
            if best is None or cost < best[0]:
                best = (cost, k, ml, mr)
        _, k, ml, mr = best
        n_left, n_right = k - lo, hi - k
        within = statistics.median(noises[lo:hi])
        sigma = max(between, within)
        noise = STEP_SIGMAS * sigma * math.sqrt(1 / n_left + 1 / n_right)
        if abs(mr - ml) > max(noise, math.log1p(min_step)):
            split(lo, k)
            found.append((k, math.exp(ml), math.exp(mr), math.expm1(noise)))
            split(k, hi)

    split(0, len(ys))
    return found


def history_steps(runs: list[Run], kinds=("workload", "long", "scale"),
                  min_step: float = MIN_STEP) -> list[Step]:
    """Every step in the ratios of plugrad's series between the saved runs, one machine at a
    time (runs of different machines are not one series)."""
    steps = []
    machines = []
    for run in runs:
        if run.machine_id not in machines:
            machines.append(run.machine_id)
    for machine in machines:
        mine = [run for run in runs if run.machine_id == machine]
        names = []
        for run in mine:
            for r in run.results:
                if r.kind in kinds and r.series.startswith("plugrad"):
                    if (r.kind, r.key, r.series) not in names:
                        names.append((r.kind, r.key, r.series))
        for kind, key, series in names:
            points = []
            for run in mine:
                r = run.find(kind, key, series)
                if r is not None:
                    points.append(point(run, r))
            against = {p.against for p in points}
            if len(points) < 2 or len(against) != 1:   # not one figure throughout
                continue
            for i, old, new, noise in find_steps([p.value for p in points],
                                                 [p.noise for p in points], min_step):
                steps.append(Step(kind, key, series, machine, points[0].against,
                                  points[i - 1].run, points[i].run, old, new, noise))
    return steps


@dataclass
class Change:
    """One result in two runs: its ratio (or time) in each, and the change."""
    kind: str
    key: str
    series: str
    against: str
    a: Point
    b: Point

    @property
    def change(self) -> float:
        return self.b.value / self.a.value - 1

    @property
    def noise(self) -> float:
        return math.expm1(STEP_SIGMAS * math.hypot(self.a.noise, self.b.noise))

    @property
    def verdict(self) -> str:
        if abs(self.change) <= max(self.noise, MIN_STEP):
            return "within noise"
        return "worse" if self.change > 0 else "better"


def compare_runs(a: Run, b: Run) -> list[Change]:
    """Every plugrad result present in both runs, as ratios taken the same way in both."""
    changes = []
    for rb in b.results:
        if not rb.series.startswith(("plugrad", "import plugrad")):
            continue   # the floor and torch are what plugrad is measured against
        ra = a.find(rb.kind, rb.key, rb.series)
        if ra is None:
            continue
        pa, pb = point(a, ra), point(b, rb)
        if pa.against != pb.against:   # e.g. torch in one run only: compare the times
            pa, pb = Point(a, ra.seconds, spread(ra), "time"), Point(b, rb.seconds,
                                                                     spread(rb), "time")
        if pa.value > 0 and pb.value > 0:
            changes.append(Change(rb.kind, rb.key, rb.series, pa.against, pa, pb))
    return changes


def pick_run(runs: list[Run], spec: str) -> Run:
    """A saved run named by its file (or path), its counter (0003), a commit prefix, or
    'latest'; the newest one when several match. ValueError naming what was there."""
    if spec == "latest" and runs:
        return runs[-1]
    name = os.path.basename(spec)
    matches = [r for r in runs if name in (r.file, r.file[:-5], r.counter)
               or (len(spec) >= 4 and r.commit.startswith(spec))]
    if not matches:
        known = ", ".join(f"{r.counter} ({r.label}, {r.machine_id})" for r in runs) or "none"
        raise ValueError(f"no saved run matches {spec!r}; the runs: {known}")
    return matches[-1]


def _fmt_value(v: float, against: str) -> str:
    return fmt_time(v) if against == "time" else f"{v:.2f}× {against}"


def compare_text(a: Run, b: Run, changes: list[Change], fail_above: float | None) -> str:
    lines = [f"A: {a.counter} {a.label} {a.date[:16]} on {a.machine_id}",
             f"B: {b.counter} {b.label} {b.date[:16]} on {b.machine_id}"]
    if a.machine_id != b.machine_id:
        lines.append("(two machines: the ratios carry over between machines better than the "
                     "times, but neither fully)")
    lines.append("each figure is plugrad's median ÷ the floor's (workloads) or torch's (per "
                 "op) in the same run; change = B ÷ A − 1; noise: what the two runs' own "
                 f"spread (IQR of the rounds) could make, {STEP_SIGMAS:g} widths; a change "
                 f"within the noise or under {MIN_STEP:.0%} is not marked")
    rows = [("what", "series", "A", "B", "change", "noise", "")]
    order = {"worse": 0, "better": 1, "within noise": 2}
    for c in sorted(changes, key=lambda c: (order[c.verdict], -abs(c.change))):
        what = c.key if c.kind in ("workload", "import") else f"{c.key} ({c.kind})"
        mark = c.verdict
        if fail_above is not None and c.change * 100 > fail_above:
            mark += f", over --fail-above {fail_above:g}%"
        rows.append((what, "" if c.series == c.key else c.series, _fmt_value(c.a.value, c.against),
                     _fmt_value(c.b.value, c.against), f"{c.change:+.1%}",
                     f"±{c.noise:.1%}", mark))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    counts = {v: sum(c.verdict == v for c in changes) for v in order}
    lines.append(f"{len(changes)} compared: {counts['worse']} worse beyond the noise, "
                 f"{counts['better']} better, {counts['within noise']} within the noise")
    return "\n".join(lines)


def compare(storage: str, specs: list[str] | None = None, fail_above: float | None = None,
            prog: str = "plugrad bench compare") -> int:
    """What `plugrad bench compare [RUN_A RUN_B]` does: print, for every plugrad result in
    both runs, its ratio in each and the change; by default the two newest runs of the
    newest run's machine. Returns 1 when a ratio got worse by more than `fail_above`
    percent, 2 when the runs cannot be found or read, else 0."""
    storage = os.path.abspath(storage)
    try:
        runs = load_runs(storage)
    except (OSError, ValueError) as err:
        print(f"{prog}: cannot read the saved runs: {err}", file=sys.stderr)
        return 2
    specs = list(specs or [])
    if len(specs) > 2:
        print(f"{prog}: give at most two runs (RUN_A RUN_B), got {len(specs)}", file=sys.stderr)
        return 2
    try:
        if len(specs) == 2:
            a, b = pick_run(runs, specs[0]), pick_run(runs, specs[1])
        elif len(specs) == 1:
            a, b = pick_run(runs, specs[0]), (runs[-1] if runs else None)
        else:
            b = runs[-1] if runs else None
            same = [r for r in runs if b is not None and r.machine_id == b.machine_id]
            a = same[-2] if len(same) >= 2 else None
    except ValueError as err:
        print(f"{prog}: {err}", file=sys.stderr)
        return 2
    if a is None or b is None or a is b:
        print(f"{prog}: needs two saved runs to compare; found {len(runs)} under {storage} "
              f"(run `plugrad bench` again, pass --storage DIR, or name the runs: "
              f"{prog} RUN_A RUN_B)", file=sys.stderr)
        return 2
    changes = compare_runs(a, b)
    print(compare_text(a, b, changes, fail_above))
    if fail_above is None:
        return 0
    over = [c for c in changes if c.change * 100 > fail_above]
    if over:
        print(f"{prog}: {len(over)} result(s) got worse by more than {fail_above:g}%: "
              + ", ".join(f"{c.key}{'' if c.series == c.key else ' ' + c.series} {c.change:+.1%}"
                           for c in over), file=sys.stderr)
        return 1
    return 0


# -- charts (inline SVG) ------------------------------------------------------------------------
def bar_chart(rows: list[tuple[str, float, str, str]], colours: Palette, width: int = 560,
              value_fmt=fmt_time) -> str:
    """Horizontal bars: rows of (label, value, note shown right of the value, tooltip)."""
    if not rows:
        return '<p class="none">no results</p>'
    bar_h, gap, left, right = 22, 10, 132, 200
    height = len(rows) * (bar_h + gap) + 4
    top = max(v for _, v, _, _ in rows) or 1.0
    span = width - left - right
    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img">']
    for i, (label, value, note, tip) in enumerate(rows):
        y = i * (bar_h + gap) + 2
        w = max(2.0, value / top * span)
        colour = colours.of(label)
        out.append(f'<g><title>{esc(tip)}</title>'
                   f'<text x="{left - 10}" y="{y + 15}" class="lab" text-anchor="end">'
                   f'{esc(label)}</text>'
                   f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" rx="5" '
                   f'fill="{colour}"/>'
                   f'<text x="{left + w + 8:.1f}" y="{y + 15}" class="val">'
                   f'{esc(value_fmt(value))}<tspan class="note" dx="8">{esc(note)}</tspan>'
                   f'</text></g>')
    out.append("</svg>")
    return "".join(out)


def history_chart(runs: list[Run], kind: str, key: str, colours: Palette,
                  width: int = 560, height: int = 210, steps: list[Step] | None = None) -> str:
    """Each plugrad backend's (and torch's) ratio to the floor in every run that has it; the
    commit labels on the axis are coloured by the machine the run came from (when there are
    several), and each step of `steps` is marked where it happened."""
    points: dict[str, list[tuple[int, float, Run, Result]]] = {}
    for i, run in enumerate(runs):
        floor = run.find(kind, key, FLOOR)
        if floor is None:
            continue
        for r in run.results:
            if r.kind == kind and r.key == key and r.series != FLOOR:
                points.setdefault(r.series, []).append((i, r.seconds / floor.seconds, run, r))
    if not points:
        return '<p class="none">no history yet: the floor is missing from the saved runs</p>'
    left, right, top, bottom = 46, 34, 12, 52
    values = [p[1] for ps in points.values() for p in ps] + [1.0]
    lo, hi = 0.0, max(values) * 1.12
    n = len(runs)
    xs = (lambda i: left + (width - left - right) * (0.5 if n == 1 else i / (n - 1)))
    ys = (lambda v: top + (height - top - bottom) * (1 - (v - lo) / (hi - lo)))
    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img">']
    for t in _ticks(lo, hi):
        y = ys(t)
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
                   f'class="{"one" if t == 1 else "grid"}"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">'
                   f'{t:g}×</text>')
    goal = GOALS.get(key) if kind == "workload" else None
    if goal and goal[0] == "floor":
        y = ys(goal[1])
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
                   f'class="goal"/><text x="{width - right}" y="{y - 4:.1f}" class="tick" '
                   f'text-anchor="end">goal {goal[1]:g}×</text>')
    step = max(1, math.ceil(n / 8))
    for i, run in enumerate(runs):
        x = xs(i)
        machine = (f' style="fill:{colours.machines.get(run.machine_id, "#64748b")}"'
                   if len(colours.machines) > 1 else "")
        out.append(f'<g><title>{esc(run.label)} {esc(run.date[:16])} on '
                   f'{esc(run.machine_id)}</title>'
                   f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{height - bottom}" '
                   f'y2="{height - bottom + 5}" class="axis"/>')
        if i % step == 0 or i == n - 1:
            out.append(f'<text x="{x:.1f}" y="{height - bottom + 20}" class="tick"{machine} '
                       f'text-anchor="middle">{esc(run.label)}</text>'
                       f'<text x="{x:.1f}" y="{height - bottom + 34}" class="tick dim" '
                       f'text-anchor="middle">{esc(run.day[5:])}</text>')
        out.append("</g>")
    for series in series_order(points):
        ps = points[series]
        colour = colours.of(series)
        dash = ' stroke-dasharray="5 4"' if series == TORCH else ""
        path = " ".join(f"{'M' if j == 0 else 'L'}{xs(i):.1f},{ys(v):.1f}"
                        for j, (i, v, _, _) in enumerate(ps))
        out.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2.5"{dash}/>')
        for i, v, run, r in ps:
            out.append(f'<circle cx="{xs(i):.1f}" cy="{ys(v):.1f}" r="4.5" fill="{colour}" '
                       f'stroke="#fff" stroke-width="1.5"><title>{esc(series)}: '
                       f'{v:.2f}× floor, {esc(fmt_time(r.seconds))} — {esc(run.label)} '
                       f'{esc(run.day)} on {esc(run.machine_id)}</title></circle>')
    index = {id(run): i for i, run in enumerate(runs)}
    for st in steps or []:
        if (st.kind, st.key) != (kind, key) or id(st.after) not in index:
            continue
        i = index[id(st.after)]
        x = (xs(i - 1) + xs(i)) / 2 if i > 0 else xs(i)
        cls = "worse" if st.worse else "better"
        out.append(f'<g class="step {cls}"><title>step: {esc(st.describe())}</title>'
                   f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{height - bottom}"/>'
                   f'<text x="{x + 4:.1f}" y="{top + 10}">{"▲" if st.worse else "▼"} '
                   f'{st.change:+.0%}</text></g>')
    out.append("</svg>")
    return "".join(out)


def _ticks(lo: float, hi: float) -> list[float]:
    raw = (hi - lo) / 4
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    ticks, t = [], 0.0
    while t <= hi:
        ticks.append(round(t, 6))
        t += step
    if 1.0 not in ticks and lo <= 1.0 <= hi:
        ticks.append(1.0)
    return ticks


# -- sections -----------------------------------------------------------------------------------
def primary_series(run: Run) -> str | None:
    names = [r.series for r in run.results if r.kind == "workload"
             and r.series.startswith("plugrad")]
    if not names:
        return None
    return "plugrad · numpy" if "plugrad · numpy" in names else sorted(names)[0]


def goal_badge(key: str, run: Run, series: str) -> str:
    goal = GOALS.get(key)
    if not goal:
        return ""
    against, limit = goal
    r = ratio(run.find("workload", key, series),
              run.find("workload", key, FLOOR if against == "floor" else TORCH))
    if r is None:
        return (f'<span class="badge na">goal ≤ {limit:g}× {against}: '
                f'{esc(missing(run, "workload", key, against))}</span>')
    met = r <= limit
    return (f'<span class="badge {"met" if met else "miss"}">goal ≤ {limit:g}× {against}: '
            f'{"met" if met else f"{r / limit:.2f}× over"}</span>')


def workload_cards(runs: list[Run], latest: Run, colours: Palette,
                   steps: list[Step] | None = None) -> str:
    keys = [k for k in list(WORKLOAD_TEXT) if latest.find("workload", k, FLOOR) or
            any(r.kind == "workload" and r.key == k for r in latest.results)]
    primary = primary_series(latest)
    cards = []
    for key in keys:
        title, what = WORKLOAD_TEXT.get(key, (key, ""))
        floor, torch = latest.find("workload", key, FLOOR), latest.find("workload", key, TORCH)
        rows = []
        present = series_order({r.series for r in latest.results
                                if r.kind == "workload" and r.key == key})
        for series in present:
            r = latest.find("workload", key, series)
            notes = []
            if series != FLOOR and floor:
                notes.append(f"{fmt_ratio(ratio(r, floor))} floor")
            if series != TORCH and torch and series != FLOOR:
                notes.append(f"{fmt_ratio(ratio(r, torch))} torch")
            tip = (f"{series}: median {fmt_time(r.seconds)}, "
                   f"{r.stats.get('rounds', '?')} rounds")
            per_op = r.extra.get("forward_ops")
            if per_op:
                tip += f"; {r.seconds / per_op * 1e6:.2f} µs per forward op"
            rows.append((series, r.seconds, " · ".join(notes), tip))
        extra = ""
        if key == "W3":
            extra = memory_block(latest, colours)
        badge = goal_badge(key, latest, primary) if primary else ""
        mine = [st for st in steps or [] if (st.kind, st.key) == ("workload", key)]
        if mine:   # the newest step of this workload, marked on its history chart too
            st = mine[-1]
            badge += (f'<span class="badge {"miss" if st.worse else "met"}" title="'
                      f'{esc(st.describe())}">{"regression" if st.worse else "improvement"} '
                      f'{st.change:+.0%} at {esc(st.after.label)}</span>')
        cards.append(
            f'<section class="card"><header><h3><span class="key">{esc(key)}</span> '
            f'{esc(title)}</h3>{badge}</header><p class="what">{esc(what)}</p>'
            f'<h4>latest run: median time per call, forward + backward</h4>'
            f'{bar_chart(rows, colours)}{extra}'
            f'<h4>history: time ÷ numpy floor, per run</h4>'
            f'{history_chart(runs, "workload", key, colours, steps=steps)}</section>')
    return "".join(cards)


def memory_block(run: Run, colours: Palette) -> str:
    rows = []
    floor = run.find("workload", "W3", FLOOR)
    base = floor.extra.get("peak_bytes") if floor else None
    for r in run.results:
        if r.kind == "workload" and r.key == "W3" and r.extra.get("peak_bytes") is not None:
            peak = float(r.extra["peak_bytes"])
            note = f"{peak / base:.2f}× floor" if base and r.series != FLOOR else ""
            rows.append((r.series, peak, note, f"{r.series}: {fmt_bytes(peak)} at the peak"))
    if not rows:
        return ""
    order = series_order([row[0] for row in rows])
    rows.sort(key=lambda row: order.index(row[0]))
    return ("<h4>peak memory of one call (tracemalloc), goal ≤ 1.2× floor</h4>"
            + bar_chart(rows, colours, value_fmt=fmt_bytes))


def long_chain_card(latest: Run, colours: Palette) -> str:
    rs = [r for r in latest.results if r.kind == "long"]
    if not rs:
        return ""
    order = series_order({r.series for r in rs})
    rs.sort(key=lambda r: order.index(r.series))
    floor = next((r for r in rs if r.series == FLOOR), None)
    times = [(r.series, r.seconds, f"{fmt_ratio(ratio(r, floor))} floor" if floor and
              r is not floor else "", f"forward {fmt_time(r.extra.get('forward_s', 0))}, "
              f"backward {fmt_time(r.extra.get('backward_s', 0))}") for r in rs]
    mem = [(r.series, float(r.extra.get("peak_rss_growth_bytes", 0)),
            f"{r.extra['peak_rss_growth_bytes'] / r.extra.get('steps', 1):.0f} B per op"
            if r.extra.get("peak_rss_growth_bytes") else "", "growth of the peak RSS")
           for r in rs]
    steps = rs[0].extra.get("steps", 1_000_000)
    return (f'<section class="card"><header><h3><span class="key">W4</span> a {steps:,}-op '
            f'chain, once</h3></header><p class="what">completes, right gradient, in a fresh '
            f'process each</p><h4>time, forward + backward</h4>{bar_chart(times, colours)}'
            f'<h4>memory: growth of the process’s peak RSS</h4>'
            f'{bar_chart(mem, colours, value_fmt=fmt_bytes)}</section>')


SCALE_TITLE = "W3x100 on dask (LocalCluster)"


def scale_card(runs: list[Run], colours: Palette) -> str:
    """W3 at 100x on the dask backend with a LocalCluster, next to the floor: time, and the
    client process's peak memory against the data's size (the newest run that has it)."""
    run = next((r for r in reversed(runs) if any(x.kind == "scale" for x in r.results)), None)
    if run is None:
        return ""
    rs = [r for r in run.results if r.kind == "scale" and r.key == "W3x100"]
    order = series_order({r.series for r in rs})
    rs.sort(key=lambda r: order.index(r.series))
    floor = next((r for r in rs if r.series == FLOOR), None)
    lazy = next((r for r in rs if r.series != FLOOR), None)
    times, mem = [], []
    data = max(float(r.extra.get("data_bytes") or 0) for r in rs)
    if data:
        mem.append(("data (x)", data, "", f"x: {int(rs[0].extra.get('n', 0)):,} float32"))
    for r in rs:
        note = f"{fmt_ratio(ratio(r, floor))} floor" if floor and r is not floor else ""
        calls = ", ".join(fmt_time(t) for t in r.extra.get("times_s") or [])
        times.append((r.series, r.seconds, note, f"{r.series}: median of "
                      f"{r.extra.get('rounds', '?')} calls ({calls}) after a warm-up"))
        peak = r.extra.get("peak_rss_bytes")
        if peak:
            where = ("the client process (client and scheduler; x and the gradient stay on "
                     "the workers)" if r is lazy else "the process, holding x")
            mem.append((r.series, float(peak), f"{peak / data:.2f}× data" if data else "",
                        f"{r.series}: peak RSS (ru_maxrss) of {where}"))
    what = "forward + backward of exp(0.5·log(x² + 1)).sum(), each side once in a fresh process"
    if lazy is not None:
        e = lazy.extra
        what += (f"; dask: {e.get('workers', '?')} worker processes × "
                 f"{e.get('threads_per_worker', '?')} thread, memory limit "
                 f"{e.get('memory_limit', '?')} each, x in {e.get('chunks', '?')} chunks "
                 f"drawn and kept on the workers")
    badge = ""
    if lazy is not None and lazy.extra.get("peak_rss_bytes") and data:
        q = lazy.extra["peak_rss_bytes"] / data
        badge = (f'<span class="badge {"met" if q < 1 else "miss"}">client peak '
                 f'{fmt_bytes(lazy.extra["peak_rss_bytes"])} = {q:.2f}× data</span>')
    since = "" if run is runs[-1] else (f" (from run {esc(run.label)} of {esc(run.day)}, "
                                        f"the newest that has it)")
    n = int(rs[0].extra.get("n") or 0)
    return (f'<section class="card"><header><h3><span class="key">W3x100</span> '
            f'{esc(SCALE_TITLE[7:])}</h3>{badge}</header><p class="what">'
            f'{n:,} floats ({esc(fmt_bytes(data))}), {esc(what)}{since}</p>'
            f'<h4>time per call, forward + backward (median)</h4>{bar_chart(times, colours)}'
            f'<h4>peak memory of the client process vs the data</h4>'
            f'{bar_chart(mem, colours, value_fmt=fmt_bytes)}</section>')


def ops_table(runs: list[Run], latest: Run, colours: Palette) -> str:
    ops = []
    for r in latest.results:
        if r.kind.startswith("op-") and r.key not in ops:
            ops.append(r.key)
    if not ops:
        return ""
    series = series_order({r.series for r in latest.results if r.kind.startswith("op-")})
    previous = None
    for run in reversed(runs[:-1]):
        if run.machine_id == latest.machine_id and any(r.kind.startswith("op-")
                                                       for r in run.results):
            previous = run
            break
    head = "".join(f'<th colspan="2"><i class="dot" style="background:{colours.of(s)}"></i>'
                   f'{esc(s)}</th>' for s in series)
    sub = "".join("<th>forward</th><th>backward</th>" for _ in series)
    has_torch = TORCH in series
    extra_head = '<th colspan="2">÷ torch</th>' if has_torch else ""
    extra_sub = "<th>fwd</th><th>bwd</th>" if has_torch else ""
    rows = []
    for op in ops:
        cells = []
        for s in series:
            for kind in ("op-forward", "op-backward"):
                r = latest.find(kind, op, s)
                if r is None:
                    cells.append("<td>–</td>")
                    continue
                change = ""
                old = previous.find(kind, op, s) if previous else None
                if old is not None and old.seconds:
                    pct = (r.seconds / old.seconds - 1) * 100
                    cls = "up" if pct > 10 else ("down" if pct < -10 else "flat")
                    change = f' <span class="chg {cls}">{pct:+.0f}%</span>'
                cells.append(f'<td title="{esc(s)} {esc(kind[3:])}: median '
                             f'{esc(fmt_time(r.seconds))}">{esc(fmt_time(r.seconds))}'
                             f'{change}</td>')
        if has_torch:
            primary = next((s for s in series if s.startswith("plugrad")), None)
            for kind in ("op-forward", "op-backward"):
                q = ratio(latest.find(kind, op, primary), latest.find(kind, op, TORCH))
                cells.append(f'<td class="heat" style="background:{_heat(q)}">'
                             f'{fmt_ratio(q)}</td>')
        expr = next((r.extra.get("expr", "") for r in latest.results if r.key == op), "")
        rows.append(f'<tr><th class="op">{esc(op)}<code>{esc(expr)}</code></th>'
                    f'{"".join(cells)}</tr>')
    since = (f"change since run {esc(previous.label)} of {esc(previous.day)} on this machine"
             if previous else "no earlier run on this machine to compare with")
    return (f'<section class="card wide"><header><h3>Per op: forward and backward, '
            f'128×128 float32</h3></header><p class="what">median per call; {since} '
            f'(±10% shown in colour); the ratio columns are the first plugrad backend ÷ '
            f'torch</p><table class="ops"><thead><tr><th></th>{head}{extra_head}</tr>'
            f'<tr><th></th>{sub}{extra_sub}</tr></thead><tbody>{"".join(rows)}</tbody>'
            f'</table></section>')


def _heat(q: float | None) -> str:
    if q is None:
        return "transparent"
    t = max(-1.0, min(1.0, math.log2(q) / 2))   # 0.25x .. 4x
    if t <= 0:
        return f"rgba(16,185,129,{0.12 + 0.45 * -t:.2f})"
    return f"rgba(239,68,68,{0.12 + 0.45 * t:.2f})"


def imports_card(latest: Run, colours: Palette) -> str:
    rs = [r for r in latest.results if r.kind == "import"]
    if not rs:
        return ""
    rows = [(r.series, r.seconds, "goal < 100 ms" if r.key == "import plugrad" else "",
             r.extra.get("statement", r.key)) for r in rs]
    pal = Palette([])
    pal.series = {r.series: ("#2563eb" if "plugrad" in r.series else
                             PEER_COLOURS[TORCH] if "torch" in r.series else "#94a3b8")
                  for r in rs}
    return (f'<section class="card"><header><h3>Import time</h3></header><p class="what">'
            f'fresh interpreter each, median; the first use of a backend is timed after '
            f'<code>import plugrad</code></p>{bar_chart(rows, pal, width=560)}</section>')


def changes_card(runs: list[Run], steps: list[Step]) -> str:
    """The steps found in the history: regressions first, each with its runs and its noise."""
    per_machine = {}
    for run in runs:
        per_machine[run.machine_id] = per_machine.get(run.machine_id, 0) + 1
    if max(per_machine.values()) < 2:
        return ""
    how = (f"a change of level in a ratio between saved runs of one machine, flagged when it "
           f"exceeds the run-to-run noise ({STEP_SIGMAS:g} widths of the larger of the runs' "
           f"own spread and the scatter of successive runs) and {MIN_STEP:.0%}; "
           f"<code>plugrad bench compare</code> shows any two runs in the terminal")
    if not steps:
        return (f'<div class="steps quiet"><b>No step beyond the noise</b> in {len(runs)} '
                f'saved runs. <span class="dim">{how}</span></div>')
    worse = [st for st in steps if st.worse]
    items = "".join(f'<li class="{"worse" if st.worse else "better"}">'
                    f'{"▲ regression" if st.worse else "▼ improvement"}: '
                    f'{esc(st.describe())}</li>'
                    for st in sorted(steps, key=lambda st: (not st.worse, -abs(st.change))))
    head = (f"{len(worse)} regression{'s' if len(worse) != 1 else ''}, "
            f"{len(steps) - len(worse)} improvement{'s' if len(steps) - len(worse) != 1 else ''}")
    return (f'<div class="steps{"" if worse else " quiet"}"><b>Steps between runs: {head}</b> '
            f'<span class="dim">{how}</span><ul>{items}</ul></div>')


def runs_table(runs: list[Run], colours: Palette) -> str:
    rows = []
    for run in reversed(runs):
        m = run.machine
        cpu = m.get("cpu") or {}
        brand = cpu.get("brand_raw") or m.get("processor") or "?"
        count = cpu.get("count") or "?"
        swatch = colours.machines.get(run.machine_id, "#64748b")
        rows.append(f'<tr><td>{esc(run.day)} {esc(run.date[11:16])}</td><td><code>'
                    f'{esc(run.label)}</code></td><td><i class="dot" style="background:'
                    f'{swatch}"></i>{esc(run.machine_id)}</td><td>{esc(m.get("node", "?"))}'
                    f'</td><td>{esc(brand)}, {esc(count)} cores</td><td>'
                    f'{esc(m.get("python_implementation", ""))} '
                    f'{esc(m.get("python_version", ""))}</td><td>{len(run.results)}</td>'
                    f'<td class="dim">{esc(run.file)}</td></tr>')
    return (f'<section class="card wide"><header><h3>Runs and machines</h3></header>'
            f'<p class="what">newest first; * marks a run with uncommitted changes</p>'
            f'<table class="runs"><thead><tr><th>date (UTC)</th><th>commit</th>'
            f'<th>machine id</th><th>host</th><th>CPU</th><th>Python</th><th>results</th>'
            f'<th>file</th></tr></thead><tbody>{"".join(rows)}</tbody></table></section>')


def missing(run: Run, kind: str, key: str, against: str) -> str:
    """Why `run` has no ratio of `key` to `against` (floor or torch), in a few words."""
    peer = FLOOR if against == "floor" else TORCH
    info = run.machine.get("plugrad_bench") or {}   # written by the suite (benchmarks/conftest)
    if peer == TORCH and "torch" in info and not info["torch"]:
        return "torch not installed in this run"
    if not any(r.series == peer for r in run.results):
        return (f"no {peer} results in this run" + (" (torch not installed?)"
                                                    if peer == TORCH else ""))
    return f"no {peer} result for {key} in this run"


def summary_tiles(latest: Run) -> str:
    primary = primary_series(latest)
    if primary is None:
        return ""
    tiles = []
    for key in GOALS:
        r = latest.find("workload", key, primary)
        if r is None:
            continue
        vs_floor = ratio(r, latest.find("workload", key, FLOOR))
        vs_torch = ratio(r, latest.find("workload", key, TORCH))
        against, limit = GOALS[key]
        main = vs_floor if against == "floor" else vs_torch
        others = []
        for name, q in (("floor", vs_floor), ("torch", vs_torch)):
            if q is not None:
                others.append(f"{fmt_ratio(q)} {name}")
            elif name != against:
                others.append(missing(latest, "workload", key, name))
        others.append(f"goal ≤ {limit:g}×")
        if main is None:   # say what is missing rather than show a dash
            big = (f'<div class="big na">{esc(fmt_time(r.seconds))}<small> no {against} '
                   f'ratio</small></div><div class="sm why">'
                   f'{esc(missing(latest, "workload", key, against))}</div>')
            cls = "na"
        else:
            big = f'<div class="big">{fmt_ratio(main)}<small> {against}</small></div>'
            cls = "met" if main <= limit else "miss"
        tiles.append(f'<div class="tile {cls}"><div class="tk">{esc(key)} '
                     f'{esc(WORKLOAD_TEXT[key][0])}</div>{big}<div class="sm">'
                     f'{esc(" · ".join(others))}</div></div>')
    w3 = {r.series: r.extra.get("peak_bytes") for r in latest.results
          if r.kind == "workload" and r.key == "W3"}
    if w3.get(primary) and w3.get(FLOOR):
        q = w3[primary] / w3[FLOOR]
        tiles.append(f'<div class="tile {"met" if q <= 1.2 else "miss"}"><div class="tk">W3 '
                     f'peak memory</div><div class="big">{q:.2f}×<small> floor</small></div>'
                     f'<div class="sm">{fmt_bytes(w3[primary])} vs {fmt_bytes(w3[FLOOR])} · '
                     f'goal ≤ 1.2×</div></div>')
    imp = latest.find("import", "import plugrad", "import plugrad")
    if imp is not None:
        tiles.append(f'<div class="tile {"met" if imp.seconds < 0.1 else "miss"}"><div '
                     f'class="tk">import plugrad</div><div class="big">'
                     f'{imp.seconds * 1e3:.0f}<small> ms</small></div><div class="sm">fresh '
                     f'interpreter · goal &lt; 100 ms</div></div>')
    return f'<div class="tiles">{"".join(tiles)}</div><p class="dim">tiles: {esc(primary)}</p>'


CSS = """
:root{--ink:#0f172a;--dim:#64748b;--line:#e2e8f0;--bg:#f1f5f9;--card:#fff}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--ink);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Ubuntu,sans-serif}
.top{background:linear-gradient(120deg,#0f172a,#1e3a8a 60%,#2563eb);color:#fff;
padding:28px 36px 22px}.top h1{margin:0;font-size:26px;letter-spacing:-.01em}
.top p{margin:6px 0 0;color:#cbd5e1}.top code{color:#fff}
main{padding:22px 36px 40px;max-width:1400px;margin:0 auto}
.legend{display:flex;flex-wrap:wrap;gap:16px;margin:0 0 16px;color:var(--dim)}
.dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:6px;
vertical-align:baseline}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:12px;
margin-bottom:6px}.tile{background:var(--card);border-radius:12px;padding:12px 14px;
border-top:4px solid #cbd5e1;box-shadow:0 1px 2px rgba(15,23,42,.06)}
.tile.met{border-top-color:#10b981}.tile.miss{border-top-color:#f59e0b}
.tk{color:var(--dim);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.big{font-size:28px;font-weight:700;margin:2px 0}.big small{font-size:13px;
font-weight:500;color:var(--dim)}.sm{font-size:12px;color:var(--dim)}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:18px;
margin-top:18px}
.card{background:var(--card);border-radius:14px;padding:16px 18px 12px;
box-shadow:0 1px 3px rgba(15,23,42,.08)}.card.wide{grid-column:1/-1}
.card header{display:flex;justify-content:space-between;align-items:center;gap:8px}
.card h3{margin:0;font-size:17px}.key{background:#1e3a8a;color:#fff;border-radius:6px;
padding:1px 7px;margin-right:4px;font-size:14px}
.card h4{margin:14px 0 4px;font-size:12px;color:var(--dim);font-weight:600;
text-transform:uppercase;letter-spacing:.04em}.what{margin:4px 0 0;color:var(--dim)}
.badge{font-size:12px;border-radius:99px;padding:2px 10px;white-space:nowrap}
.badge.met{background:#d1fae5;color:#065f46}.badge.miss{background:#fef3c7;color:#92400e}
svg.chart{display:block;overflow:visible}svg .lab{font-size:12.5px;fill:#334155}
svg .val{font-size:12.5px;font-weight:600;fill:#0f172a}svg .note{font-weight:400;
fill:#64748b}svg .tick{font-size:11px;fill:#64748b}svg .dim{fill:#94a3b8}
svg .grid{stroke:#eef2f7}svg .one{stroke:#94a3b8;stroke-width:1.2}
svg .goal{stroke:#10b981;stroke-dasharray:3 4;stroke-width:1.4}
table{border-collapse:collapse;width:100%;margin-top:10px;font-size:13px}
th,td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:right;
white-space:nowrap}thead th{color:var(--dim);font-weight:600;font-size:12px}
th.op{text-align:left;font-weight:600}th.op code{margin-left:8px;font-weight:400;
color:var(--dim);font-size:12px}table.runs td,table.runs th{text-align:left}
.chg{font-size:11px;border-radius:4px;padding:0 4px}.chg.up{background:#fee2e2;color:#991b1b}
.chg.down{background:#d1fae5;color:#065f46}.chg.flat{color:#94a3b8}
td.heat{font-weight:600}.tile.na{border-top-color:#94a3b8}.big.na{font-size:20px}
.sm.why{color:#92400e}.badge.na{background:#f1f5f9;color:#475569}
svg .axis{stroke:#94a3b8}svg .step line{stroke-width:1.5;stroke-dasharray:4 3}
svg .step text{font-size:11px;font-weight:600}svg .step.worse line{stroke:#dc2626}
svg .step.worse text{fill:#dc2626}svg .step.better line{stroke:#059669}
svg .step.better text{fill:#059669}.steps{margin:14px 0 0;padding:12px 16px;
background:var(--card);border-radius:12px;border-left:4px solid #dc2626}
.steps.quiet{border-left-color:#10b981}.steps ul{margin:6px 0 0;padding-left:20px}
.steps li.better{color:#065f46}.steps li.worse{color:#991b1b}.machines{color:var(--dim)}
.dim{color:var(--dim)}.none{color:var(--dim);font-style:italic}
footer{color:var(--dim);font-size:12px;margin-top:22px}
"""


def render(runs: list[Run], storage: str = "") -> str:
    """The whole page, as a string."""
    if not runs:
        body = ('<main><p class="none">No saved runs yet. Run <code>plugrad bench</code> '
                'first.</p></main>')
        return _page(body, "no runs")
    latest = runs[-1]
    colours = Palette(runs)
    series = series_order({r.series for run in runs for r in run.results
                           if r.kind != "import"})
    legend = "".join(f'<span><i class="dot" style="background:{colours.of(s)}"></i>'
                     f'{esc(s)}</span>' for s in series)
    machines = ""
    if len(colours.machines) > 1:   # the commit labels of the history charts take these
        machines = ('<span class="machines">commit labels by machine:</span>' + "".join(
            f'<span style="color:{c}">■ {esc(m)}</span>' for m, c in colours.machines.items()))
    steps = history_steps(runs)
    cpu = (latest.machine.get("cpu") or {}).get("brand_raw") or latest.machine.get("machine", "")
    top = (f'<div class="top"><h1>plugrad benchmarks</h1><p>latest run: commit '
           f'<code>{esc(latest.label)}</code> on {esc(latest.day)} {esc(latest.date[11:16])} '
           f'UTC · machine <code>{esc(latest.machine_id)}</code> ({esc(cpu)}) · '
           f'{len(runs)} saved run{"s" if len(runs) != 1 else ""} · ratios are medians '
           f'within one run, the figure to compare across machines</p></div>')
    body = (f'<main><div class="legend">{legend}{machines}</div>{summary_tiles(latest)}'
            f'{changes_card(runs, steps)}'
            f'<div class="grid">{workload_cards(runs, latest, colours, steps)}'
            f'{long_chain_card(latest, colours)}{scale_card(runs, colours)}'
            f'{imports_card(latest, colours)}'
            f'{ops_table(runs, latest, colours)}{runs_table(runs, colours)}</div>'
            f'<footer>Made by <code>plugrad bench dashboard</code> from '
            f'{esc(storage or "the saved runs")}. Every figure is a median of one run; '
            f'hover a bar or point for details.</footer></main>')
    return _page(top + body, latest.label)


def _page(body: str, title: str) -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width,initial-scale=1"><title>plugrad benchmarks · '
            f'{esc(title)}</title><style>{CSS}</style></head><body>{body}</body></html>\n')


def write(storage: str, out: str, runs: list[Run] | None = None) -> str:
    """Render the runs saved under `storage` (or `runs`, read from there) into `out`; returns
    `out`."""
    if runs is None:
        runs = load_runs(storage)
    page = render(runs, storage)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        f.write(page)
    return out


def summary(storage: str, runs: list[Run] | None = None) -> str:
    """One line about the runs saved under `storage` (or `runs`, read from there)."""
    if runs is None:
        runs = load_runs(storage)
    if not runs:
        return "no runs"
    machines = {r.machine_id for r in runs}
    return (f"{len(runs)} run(s) from {len(machines)} machine(s); latest {runs[-1].label} "
            f"{runs[-1].day}, {len(runs[-1].results)} results; median of medians "
            f"{statistics.median([x.seconds for x in runs[-1].results] or [0]):.3g} s")


def write_page(storage: str, out: str | None = None, prog: str = "plugrad bench") -> int:
    """What `plugrad bench dashboard` does: render the runs saved under `storage` into `out`
    (default STORAGE/dashboard.html) and say where it is. Returns the exit status: 0, or 2
    with a message and no page when there are no saved runs, 1 when they cannot be read."""
    storage = os.path.abspath(storage)
    try:
        runs = load_runs(storage)
    except (OSError, ValueError) as err:
        print(f"{prog}: cannot read the saved runs: {err}", file=sys.stderr)
        return 1
    if not runs:
        print(f"{prog}: no saved benchmark runs under {storage} (looked for "
              f"<machine>/NNNN_*.json, as `plugrad bench` or pytest-benchmark's "
              f"--benchmark-autosave saves them); pass --storage DIR to render runs saved "
              f"elsewhere", file=sys.stderr)
        return 2
    out = out or os.path.join(storage, "dashboard.html")
    try:
        write(storage, out, runs)
    except OSError as err:
        print(f"{prog}: cannot write the dashboard: {err}", file=sys.stderr)
        return 1
    shown = os.path.relpath(out)
    if shown.startswith(os.pardir):  # outside the current directory: the full path reads better
        shown = os.path.abspath(out)
    print(f"{prog}: wrote {shown} ({summary(storage, runs)}); open it in a browser "
          f"(file://{os.path.abspath(out)})")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m plugrad.bench_dashboard",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--storage", default=".benchmarks")
    parser.add_argument("--out", default=None, help="default: STORAGE/dashboard.html")
    args = parser.parse_args(argv)
    return write_page(args.storage, args.out, prog=parser.prog)


if __name__ == "__main__":
    sys.exit(main())
