"""Declared gaps: what a backend says it cannot do yet, and the conformance level it reaches.

A backend's `conformance_skips` maps a declaration to its reason. A
declaration is one of:

* a pattern of cases, matched (shell-style wildcards) against an op's name
  (`matmul`), the name with its part in front (`op:matmul`, `docs:api.md`,
  `engine:hooks_see_and_replace_gradients`) and a case's id
  (`matmul-float64-batch_bcast`, `api.md:tensors:2`);
* `kernel:NAME` (or `kernel:A,B`): every case that raises NotImplementedError
  naming that kernel of the contract, whatever op or page it is in;
* `capability:NAME`: the same for a group of kernels (`capabilities()`:
  `in-place` is setitem, index_add, add_into, mul_into and mutable; each kind
  of `plugrad.backend.KINDS` names its kernels);
* `dtype:NAME`: every case of the op table in that dtype.

Any of them may end in `@STAGE` (`forward`, `gradient`, `second derivative`;
`second` for short): the gap then covers only failures at that stage or a
later one, so `matmul@gradient` still fails the run when matmul's forward
result is wrong.

>>> gaps = parse({"matmul@gradient": "no batched gradient", "kernel:argsort": "no sort"})
>>> [(g.key, g.kind, g.stage) for g in gaps]
[('matmul@gradient', 'cases', 'gradient'), ('kernel:argsort', 'kernel', None)]
>>> gaps[0].covers("op", "matmul", "matmul-float64-batched", "gradient", None)
True
>>> gaps[0].covers("op", "matmul", "matmul-float64-batched", "forward", None)
False
>>> gaps[1].covers("op", "sort", "sort-float32-rows", "forward",
...                NotImplementedError("the 'dask' backend has no 'argsort' kernel"))
True
>>> level(["second derivative"])
'forward+gradient'
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

__all__ = ["Gap", "parse", "declared_reason", "STAGES", "LEVELS", "capabilities", "level",
           "stage_of_group", "kernels_named"]

# the stages of a case of the op table, in the order they are checked
STAGES = ("forward", "gradient", "second derivative")
_STAGE_NAMES = {"forward": "forward", "gradient": "gradient", "grad": "gradient",
                "second derivative": "second derivative", "second": "second derivative",
                "second_derivative": "second derivative", "gradgrad": "second derivative"}

# conformance levels, best first: what passes with no failure and no declared gap
LEVELS = {
    "full": "every case passes: no failure and no declared gap",
    "forward+gradient": "forward values and gradients pass everywhere; only second "
                        "derivatives fail or are declared gaps",
    "forward": "forward values pass everywhere; gradients (op table or engine rules) fail "
               "or are declared gaps",
    "partial": "some forward values, documented examples or properties fail or are "
               "declared gaps",
}

# kernels a capability stands for: the writes an immutable library lacks, then the KINDS
_IN_PLACE = ("setitem", "index_add", "add_into", "mul_into", "mutable")


def capabilities() -> dict:
    """Capability name -> the kernels it stands for (`in-place`, and each kind of KINDS)."""
    from plugrad.backend import KERNELS
    caps = {}
    for kernel, (kind, _, _) in KERNELS.items():
        caps.setdefault(kind, []).append(kernel)
    caps["in-place"] = list(_IN_PLACE)
    return {name: tuple(kernels) for name, kernels in caps.items()}


def stage_of_group(group: str) -> str:
    """The stage a failure of a part other than the op table counts as (for the level)."""
    return "gradient" if group == "engine" else "forward"


def level(failing_stages) -> str:
    """The conformance level, from the stages at which some case failed or was declared."""
    worst = min((STAGES.index(s) for s in failing_stages), default=None)
    if worst is None:
        return "full"
    return ("partial", "forward", "forward+gradient")[worst]


def kernels_named(error) -> set:
    """The kernels of the contract a NotImplementedError names: its `kernel` attribute, the
    quoted names in its message ('argsort'), or else the kernel names in it as words."""
    from plugrad.backend import KERNELS
    named = {getattr(error, "kernel", None)} & set(KERNELS)
    text = str(error)
    quoted = set(re.findall(r"['\"`]([A-Za-z_0-9]+)['\"`]", text)) & set(KERNELS)
    if quoted:
        return named | quoted
    return named | (set(re.findall(r"[A-Za-z_0-9]+", text)) & set(KERNELS))


@dataclass
class Gap:
    """One declaration of `conformance_skips`, and what it did in this run."""

    key: str                 # as the backend wrote it
    reason: str
    kind: str = "cases"      # "cases" (a pattern) or "kernel" (kernels / a capability)
    pattern: str = "*"       # cases: the fnmatch pattern
    kernels: tuple = ()      # kernel: the kernels whose absence it declares
    stage: str | None = None  # only failures at this stage or a later one
    problem: str = ""        # why the declaration cannot work (warned)
    named: int = 0           # cases of this run its pattern names
    hits: int = 0            # failures it covered
    passes: int = 0          # cases it names that passed

    def names(self, group: str, name: str, case: str) -> bool:
        """Whether its pattern names this case (a kernel gap names no case in advance)."""
        if self.kind != "cases" or self.problem:
            return False
        return any(fnmatch.fnmatchcase(c, self.pattern)
                   for c in (name, f"{group}:{name}", case))

    def at_stage(self, stage: str | None) -> bool:
        return self.stage is None or stage is None or \
            STAGES.index(stage) >= STAGES.index(self.stage)

    def covers(self, group: str, name: str, case: str, stage: str | None, error) -> bool:
        """Whether a failure of this case (at `stage`, raising `error` if NotImplementedError
        was raised) is this declared gap."""
        if self.problem or not self.at_stage(stage):
            return False
        if self.kind == "cases":
            return self.names(group, name, case)
        return error is not None and bool(kernels_named(error) & set(self.kernels))


def parse(skips: dict) -> list:
    """The Gaps of a `conformance_skips` dict, in its order (invalid ones have `problem`)."""
    gaps = []
    for key, reason in skips.items():
        key, reason = str(key), str(reason)
        body, stage, problem = key, None, ""
        if "@" in key:
            body, _, stage_name = key.rpartition("@")
            stage = _STAGE_NAMES.get(stage_name.strip().lower())
            if stage is None:
                problem = (f"unknown stage {stage_name!r} (use one of "
                           f"{', '.join(STAGES)})")
        gap = Gap(key, reason, stage=stage, problem=problem)
        head, colon, rest = body.partition(":")
        if colon and head == "kernel":
            from plugrad.backend import KERNELS
            gap.kind, gap.kernels = "kernel", tuple(k.strip() for k in rest.split(","))
            unknown = [k for k in gap.kernels if k not in KERNELS]
            if unknown and not gap.problem:
                gap.problem = (f"{', '.join(unknown)}: no such kernel in the contract "
                               f"(plugrad.backend.KERNELS)")
        elif colon and head == "capability":
            gap.kind = "kernel"
            known = capabilities()
            gap.kernels = known.get(rest.strip(), ())
            if not gap.kernels and not gap.problem:
                gap.problem = f"unknown capability {rest!r} (one of {', '.join(sorted(known))})"
        elif colon and head == "dtype":
            gap.pattern = f"*-{rest.strip()}-*"
        else:
            gap.pattern = body
        gaps.append(gap)
    return gaps


def declared_reason(skips: dict, group: str, name: str, case: str) -> str | None:
    """The reason of the first pattern of `skips` that names this case, if any (kernel and
    capability gaps name no case in advance: they cover the failures that name them)."""
    for gap in parse(skips):
        if gap.names(group, name, case):
            return gap.reason
    return None
