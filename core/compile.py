"""plugrad.compile: record a step's backend kernels once, replay them on the arrays after.

The first call of a compiled function runs it eagerly while every kernel of the
backends is wrapped (instance attributes shadow the backend's own, so the
plugin code is untouched and any backend is recorded) and logged: its name,
its arguments (arrays, Python constants) and its result. The log becomes one
generated Python function whose locals are the arrays: later calls whose
guards hold run it directly on the arrays (no Tensor, no Node, no graph
walk), then rebind what the step changed: the `.grad` of leaves, parameters
and optimizer state replaced or updated in place, the returned tensors.

Guards (a call replays only when all hold, else it records again): the
arguments' structure, their tensors' shapes, dtypes, backends and
`requires_grad`; grad mode and inference mode; the tensors the step reaches
(module parameters, buffers and tensor attributes, optimizer parameters and
state, `.grad`), their identity pattern and metadata; the Python numbers,
strings and flags in those modules and optimizers (`training`, `lr`, ...) and
in the globals and closure cells the function names; and every value Python
reads from a tensor during the step (`.item()`, `bool(t)`, `.tolist()`),
checked inside the replay when it is read.

What runs eagerly instead, with its reason in `explain()`: random numbers,
hooks (present or registered during the step), `.numpy()` and printing of
tensors, anomaly mode, a tensor reached some other way than the ones above,
a returned tensor whose autograd graph is still needed, a step that writes
Python globals or calls `print`/`append`, and any error while recording.
"""
from __future__ import annotations

import builtins
import sys
import threading
import warnings

from . import grad_mode, versions
from . import random as _random
from .backend import KERNELS
from .backends import loaded as _loaded_backends
from .graph import HookDict, Node, RemovableHandle
from .nn.module import Module
from .optim.optimizer import Optimizer
from .tensor import Tensor, _make

__all__ = ["compile", "explain", "CompiledFunction", "CompiledModule", "ExplainOutput"]

_MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
_BACKENDS = (None, "inductor", "plugrad", "eager", "aot_eager")
_SCALARS = (int, float, bool, str, type(None))
# kernels whose result never shares memory with an argument
_FRESH = frozenset(n for n, (kind, _, _) in KERNELS.items()
                   if kind in ("unary", "binary", "reduce", "linalg", "select", "scan", "sort")
                   ) | {"concat", "copy", "full", "arange", "linspace", "eye"}
_INPLACE = frozenset(("setitem", "index_add", "mul_into", "add_into"))
_RANDOM = frozenset(("seed", "uniform", "normal", "randint", "random_stream"))
_SIDE_EFFECT_NAMES = frozenset(("print", "input", "open", "next", "iter", "random", "time"))
_SIDE_EFFECT_METHODS = frozenset(("append", "extend", "insert", "write", "writelines",
                                  "setdefault", "popitem", "appendleft"))


class _Break(Exception):
    """A reason the step cannot be captured: it runs eagerly."""


# -- recording ------------------------------------------------------------------------------
class _Recorder:
    """Wraps every kernel of the given backends (instance attributes) and logs the calls."""

    def __init__(self, backends) -> None:
        self.calls = []        # (name, kernel, args, kwargs, result)
        self.broken = None     # the first reason found while recording
        self._depth = 0
        self._thread = threading.get_ident()
        self._patched = []     # (backend, name, had_own, own)

    def _wrap(self, name, kernel):
        calls = self.calls

        def recorded(*args, **kwargs):
            if self._depth or threading.get_ident() != self._thread:
                return kernel(*args, **kwargs)   # a fallback's own kernels, another thread
            self._depth = 1
            try:
                out = kernel(*args, **kwargs)
            finally:
                self._depth = 0
            calls.append((name, kernel, args, kwargs, out))
            if name in _RANDOM and self.broken is None:
                self.broken = "random numbers are drawn (the generator is not threaded yet)"
            elif name == "to_host" and self.broken is None:
                self.broken = "a tensor's values are read as a host array (.numpy(), printing)"
            return out
        return recorded

    def __enter__(self):
        return self

    def patch(self, backends) -> None:
        for bk in backends:
            own = getattr(bk, "__dict__", None)
            if own is None:
                raise _Break(f"backend {bk.name!r} has no instance dict to record through")
            for name in KERNELS:
                kernel = getattr(bk, name, None)
                if kernel is None:
                    continue
                self._patched.append((bk, name, name in own, own.get(name)))
                own[name] = self._wrap(name, kernel)

    def unpatch(self) -> None:
        for bk, name, had_own, value in reversed(self._patched):
            if had_own:
                bk.__dict__[name] = value
            else:
                bk.__dict__.pop(name, None)
        self._patched = []


class _Watch:
    """While recording: flags hook registrations and random draws (stream objects)."""

    def __init__(self, recorder: _Recorder) -> None:
        self.recorder = recorder
        self._saved = []

    def __enter__(self):
        rec = self.recorder
        init = RemovableHandle.__init__

        def handle_init(handle, hooks):
            if rec.broken is None:
                rec.broken = "a hook is registered during the step"
            init(handle, hooks)
        self._saved.append((RemovableHandle, "__init__", init))
        RemovableHandle.__init__ = handle_init
        stream = _random.stream

        def watched_stream(generator, bk):
            if rec.broken is None:
                rec.broken = "random numbers are drawn (the generator is not threaded yet)"
            return stream(generator, bk)
        for mod in list(sys.modules.values()):
            if getattr(mod, "__name__", "").startswith("plugrad") and \
                    getattr(mod, "stream", None) is stream:
                self._saved.append((mod, "stream", stream))
                mod.stream = watched_stream
        return self

    def __exit__(self, *_exc) -> None:
        for obj, name, value in reversed(self._saved):
            setattr(obj, name, value)
        self._saved = []


# -- what the step reaches: the scan ----------------------------------------------------------
class _Scan:
    """The tensors and Python values a step can read or change, in a fixed order.

    `objs` are the tensors (first appearance order); `locs` the places that hold
    tensors or values: (container, key, kind) with kind "item" (container[key]),
    "grad" (container is a tensor, its .grad) or "attr"; `key` is the guard.
    """

    __slots__ = ("objs", "ids", "locs", "values", "key", "broken", "arrays", "pre_arrays")

    def __init__(self) -> None:
        self.objs = []
        self.ids = {}
        self.locs = []
        self.values = []
        self.key = []
        self.broken = None
        self.arrays = {}
        self.pre_arrays = []

    def tensor(self, t: Tensor, where) -> int:
        i = self.ids.get(id(t))
        if i is not None:
            return i
        i = self.ids[id(t)] = len(self.objs)
        self.objs.append(t)
        arr = t._array
        self.pre_arrays.append(arr)
        alias = self.arrays.setdefault(id(arr), i)
        self.key.append((i, tuple(arr.shape), t.dtype, id(t.backend), t._rg, alias))
        if t.grad_fn is not None and t._rg:
            self.broken = self.broken or f"{where} has autograd history (it is not a leaf)"
        hooks = t._hooks
        if hooks is not None and (hooks.tensor or hooks.pre or hooks.post or
                                  hooks.post_accumulate):
            self.broken = self.broken or f"{where} has hooks"
        if t._rg or t._grad is not None:
            self.place(t, "grad", "grad", t._grad, f"{where}.grad")
        return i

    def place(self, container, key, kind, value, where) -> None:
        self.locs.append((container, key, kind))
        self.values.append(value)
        if isinstance(value, Tensor):
            self.key.append(("T", self.tensor(value, where)))
        elif type(value) in _SCALARS:
            self.key.append(("V", type(value), value))
        elif type(value) is tuple and all(type(v) in _SCALARS for v in value):
            self.key.append(("V", tuple, value))
        else:
            self.broken = self.broken or (f"{where} holds a {type(value).__name__}, which "
                                          f"cannot be guarded")
            self.key.append(("?", type(value)))

    def module(self, m: Module, where: str, seen: set) -> None:
        if id(m) in seen:
            self.key.append(("M", id(m)))
            return
        seen.add(id(m))
        self.key.append(("M", id(m)))
        for name, value in vars(m).items():
            if type(value) is HookDict:
                if value:
                    self.broken = self.broken or f"{where} has hooks ({name})"
            elif type(value) in _SCALARS or isinstance(value, Tensor):
                self.place(m.__dict__, name, "item", value, f"{where}.{name}")
        for table in (m._parameters, m._buffers):
            for name, value in table.items():
                self.place(table, name, "item", value, f"{where}.{name}")
        for name, sub in m._modules.items():
            if sub is not None:
                self.module(sub, f"{where}.{name}", seen)

    def optimizer(self, opt: Optimizer, where: str, seen: set) -> None:
        if id(opt) in seen:
            return
        seen.add(id(opt))
        self.key.append(("O", id(opt), type(opt)))
        for name, value in vars(opt).items():
            if type(value) in _SCALARS:
                self.place(opt.__dict__, name, "item", value, f"{where}.{name}")
        for gi, group in enumerate(opt.param_groups):
            for name, value in group.items():
                if name == "params":
                    for pi, p in enumerate(value):
                        self.place(value, pi, "item", p, f"{where} param {pi}")
                else:
                    self.place(group, name, "item", value, f"{where}.param_groups[{gi}][{name!r}]")
        for p, state in opt.state.items():
            self.key.append(("S", self.tensor(p, f"{where} parameter")))
            for name, value in state.items():
                self.place(state, name, "item", value, f"{where}.state[...][{name!r}]")

    def root(self, obj, where: str, seen: set) -> None:
        if isinstance(obj, Tensor):
            self.key.append(("T", self.tensor(obj, where)))
        elif isinstance(obj, Module):
            self.module(obj, where, seen)
        elif isinstance(obj, Optimizer):
            self.optimizer(obj, where, seen)
        elif type(obj) in (list, tuple):
            self.key.append((type(obj), len(obj)))
            for i, v in enumerate(obj):
                self.root(v, f"{where}[{i}]", seen)
        elif type(obj) is dict:
            self.key.append((dict, tuple(obj)))
            for k, v in obj.items():
                self.root(v, f"{where}[{k!r}]", seen)
        elif type(obj) in _SCALARS or (type(obj) is float):
            self.key.append(("V", type(obj), obj))
        elif callable(obj) or isinstance(obj, type(sys)):
            self.key.append(("F", id(obj)))
        else:
            self.broken = self.broken or (f"{where} is a {type(obj).__name__}, which cannot "
                                          f"be guarded")
            self.key.append(("?", id(obj)))


def _is_array(v) -> bool:
    return hasattr(v, "shape") and hasattr(v, "ndim") and not isinstance(v, Tensor)


def _side_effects(code) -> str | None:
    """A Python side effect in the step's own code that a replay would skip, or None."""
    import dis  # lazy: `import plugrad` must not pay for it
    free = set(code.co_freevars)
    for ins in dis.get_instructions(code):
        op = ins.opname
        if op in ("STORE_GLOBAL", "DELETE_GLOBAL"):
            return f"the step assigns the global {ins.argval!r}"
        if op in ("STORE_DEREF", "DELETE_DEREF") and ins.argval in free:
            return f"the step assigns the nonlocal {ins.argval!r}"
        if op == "LOAD_GLOBAL" and ins.argval in _SIDE_EFFECT_NAMES:
            return f"the step calls {ins.argval!r} (a Python side effect or input)"
        if op in ("LOAD_ATTR", "LOAD_METHOD") and ins.argval in _SIDE_EFFECT_METHODS:
            return f"the step calls .{ins.argval}() (a Python side effect)"
    return None


def _same(a, b) -> bool:
    """Guard check of a value Python read from a tensor: equal, NaN equal to NaN."""
    if a == b:
        return True
    if type(a) is float and type(b) is float:
        return a != a and b != b
    if type(a) is list and type(b) is list and len(a) == len(b):
        return all(_same(x, y) for x, y in zip(a, b))
    return False


def _spent(node) -> bool:
    """Whether backward already ran through `node`'s graph (some saved data is freed)."""
    stack, seen = [node], set()
    while stack:
        n = stack.pop()
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        if n.saved is None:
            return True
        stack.extend(n.inputs)
    return False


class _Entry:
    """One recorded step: its generated replay and how to rebind its results."""

    __slots__ = ("run", "inputs", "rebind", "places", "news", "bumps", "result", "kernels",
                 "guards", "source")


class _Program:
    """Builds an _Entry from a recording: slots for arrays, generated source."""

    def __init__(self, pre: _Scan) -> None:
        self.slot_of = {}     # id(array) -> slot name
        self.kinds = {}       # slot name -> tainted (may share memory with an input)
        self.keep = []        # arrays seen, kept alive so ids stay unique
        self.ns = {"_same": _same}
        self.lines = []
        self.inputs = []      # object index per input argument
        self.nconst = 0
        for i, arr in enumerate(pre.pre_arrays):
            if id(arr) not in self.slot_of:
                name = f"i{len(self.inputs)}"
                self.slot_of[id(arr)] = name
                self.kinds[name] = True
                self.inputs.append(i)
                self.keep.append(arr)

    def const(self, v) -> str:
        name = f"c{self.nconst}"
        self.nconst += 1
        self.ns[name] = v
        return name

    def expr(self, v, used: list) -> str:
        if _is_array(v):
            name = self.slot_of.get(id(v))
            if name is None:
                raise _Break("a kernel reads an array the step cannot reach (a tensor that "
                             "is not an argument, nor in a module, optimizer, global or "
                             "closure cell the function names)")
            used.append(name)
            return name
        t = type(v)
        if t is tuple:
            return "(" + "".join(self.expr(x, used) + ", " for x in v) + ")"
        if t is list:
            return "[" + ", ".join(self.expr(x, used) for x in v) + "]"
        if isinstance(v, Tensor) or t is dict:
            raise _Break(f"a kernel takes a {t.__name__} argument")
        if t in (int, bool, str, type(None)):
            return repr(v)
        return self.const(v)

    def result(self, out, tainted: bool) -> str:
        if _is_array(out):
            name = self.slot_of.get(id(out))
            if name is None:
                name = f"a{len(self.slot_of)}"
                self.slot_of[id(out)] = name
                self.kinds[name] = tainted
                self.keep.append(out)
            return name
        if type(out) in (tuple, list) and out and all(_is_array(x) for x in out):
            return "(" + "".join(self.result(x, tainted) + ", " for x in out) + ")"
        return "_"

    def emit(self, calls) -> tuple:
        dirty = False         # an in-place write into memory an input may share happened
        guards = 0
        for n, (name, kernel, args, kwargs, out) in enumerate(calls):
            if name == "dtype_of":
                continue
            used = []
            parts = [self.expr(a, used) for a in args]
            parts += [f"{k}={self.expr(v, used)}" for k, v in kwargs.items()]
            k = f"k{n}"
            self.ns[k] = kernel
            call = f"{k}({', '.join(parts)})"
            tainted = name not in _FRESH and any(self.kinds.get(u) for u in used)
            if name in _INPLACE:
                if used and self.kinds.get(used[0]):
                    dirty = True
                self.lines.append(call)
            elif name == "tolist":
                if dirty:
                    raise _Break("a tensor's value is read (.item(), bool(), .tolist()) after "
                                 "an in-place update of the step's inputs")
                guards += 1
                self.lines.append(f"_ = {call}")
                self.lines.append(f"if not _same(_, {self.const(out)}): return None")
            else:
                self.lines.append(f"{self.result(out, tainted)} = {call}")
        return guards

    def build(self, outs: list, nkernels: int) -> tuple:
        body = "\n    ".join(self.lines) or "pass"
        ret = "".join(o + ", " for o in outs)
        src = (f"def replay({''.join(f'i{j}, ' for j in range(len(self.inputs)))}):\n"
               f"    {body}\n    return ({ret})\n")
        code = builtins.compile(src, f"<plugrad.compile replay, {nkernels} kernels>", "exec")
        exec(code, self.ns)
        return self.ns["replay"], src


# -- the compiled function ----------------------------------------------------------------------
class CompiledFunction:
    """A function compiled by `plugrad.compile`: records on a miss, replays on a hit.

    `stats` counts recordings, replays and eager calls; `breaks` holds each
    reason a call ran eagerly, with its count.
    """

    def __init__(self, fn, *, fullgraph: bool = False, cache_size_limit: int = 8) -> None:
        self._fn = fn
        self._fullgraph = fullgraph
        self._limit = cache_size_limit
        self._entries: dict = {}     # guard key -> [entries] (several: .item() branches)
        self._eager: dict = {}       # guard key -> reason (known not capturable)
        self._count = 0
        self._warned = False
        self.stats = {"recorded": 0, "replayed": 0, "eager": 0}
        self.breaks: dict = {}
        self.kernels = 0             # kernels in the latest recording
        code = getattr(fn, "__code__", None)
        if code is None and callable(fn):
            code = getattr(getattr(fn, "__func__", None), "__code__", None)
            if code is None:
                call = type(fn).__call__
                code = getattr(call, "__code__", None)
        self._static_break = _side_effects(code) if code is not None else None
        func = getattr(fn, "__func__", fn)
        self._globals = getattr(func, "__globals__", {})
        self._names = tuple(code.co_names) if code is not None else ()
        self._cells = getattr(func, "__closure__", None) or ()
        # default argument values are reached like closure cells (`def step(x, model=model)`)
        self._defaults = (tuple(getattr(func, "__defaults__", None) or ()) +
                          tuple((getattr(func, "__kwdefaults__", None) or {}).values()))
        self._self = getattr(fn, "__self__", None)
        self.__wrapped__ = fn
        self.__name__ = getattr(fn, "__name__", type(fn).__name__)
        self.__doc__ = getattr(fn, "__doc__", None)

    # the guard scan of one call
    def _scan(self, args, kwargs) -> _Scan:
        s = _Scan()
        seen: set = set()
        s.key.append((grad_mode.is_grad_enabled(), grad_mode.is_inference_mode_enabled()))
        if grad_mode.ANOMALY.enabled:
            s.broken = "anomaly detection is on"
        s.root(args, "argument", seen)
        s.root(kwargs, "keyword argument", seen)
        if self._self is not None:
            s.root(self._self, "self", seen)
        for i, v in enumerate(self._defaults):
            if isinstance(v, (Tensor, Module, Optimizer)) or type(v) in _SCALARS or \
                    type(v) in (list, tuple, dict):
                s.root(v, f"default argument {i}", seen)
            else:
                s.key.append(("D", i, id(v)))
        g = self._globals
        for name in self._names:
            v = g.get(name, s)
            if v is s or type(v) is type(sys) or isinstance(v, type):
                continue
            if isinstance(v, (Tensor, Module, Optimizer)) or type(v) in _SCALARS:
                s.root(v, f"global {name!r}", seen)
            elif type(v) in (list, tuple, dict):
                s.root(v, f"global {name!r}", seen)
        for i, cell in enumerate(self._cells):
            try:
                v = cell.cell_contents
            except ValueError:
                continue
            if isinstance(v, (Tensor, Module, Optimizer)) or type(v) in _SCALARS or \
                    type(v) in (list, tuple, dict):
                s.root(v, f"closure cell {i}", seen)
            else:
                s.key.append(("C", i, id(v)))
        return s

    def __call__(self, *args, **kwargs):
        if self._count < 0:
            self.stats["eager"] += 1
            return self._fn(*args, **kwargs)
        try:
            scan = self._scan(args, kwargs)
            key = tuple(scan.key)
            hash(key)
        except (TypeError, RecursionError) as err:
            return self._run_eager(f"the arguments cannot be guarded ({err})", args, kwargs)
        if scan.broken:
            return self._run_eager(scan.broken, args, kwargs)
        reason = self._eager.get(key)
        if reason is not None:
            return self._run_eager(reason, args, kwargs)
        for entry in self._entries.get(key, ()):
            done, result = _replay(entry, scan)
            if done:
                self.stats["replayed"] += 1
                return result
        if self._count >= self._limit:
            if not self._warned:
                self._warned = True
                warnings.warn(f"plugrad.compile: {self.__name__} was recorded "
                              f"{self._count} times (cache_size_limit={self._limit}); its "
                              f"guards keep failing, so it now runs eagerly. See "
                              f"plugrad.compile.explain for what changes between calls.",
                              RuntimeWarning, stacklevel=2)
            self._count = -1
            return self._run_eager("cache_size_limit reached", args, kwargs)
        return self._record(key, scan, args, kwargs)

    def _run_eager(self, reason: str, args, kwargs):
        if self._fullgraph:
            raise RuntimeError(f"plugrad.compile(fullgraph=True): {self.__name__} cannot be "
                               f"captured: {reason}")
        self.stats["eager"] += 1
        self.breaks[reason] = self.breaks.get(reason, 0) + 1
        return self._fn(*args, **kwargs)

    def _record(self, key, pre: _Scan, args, kwargs):
        if self._static_break:
            self._eager[key] = self._static_break
            return self._run_eager(self._static_break, args, kwargs)
        roots = {id(b): b for b in _loaded_backends()}
        for t in pre.objs:
            roots.setdefault(id(t.backend), t.backend)
        before = [versions.version(t) for t in pre.objs]
        rec = _Recorder(roots.values())
        try:
            rec.patch(roots.values())
        except _Break as err:
            rec.unpatch()
            self._eager[key] = str(err)
            return self._run_eager(str(err), args, kwargs)
        try:
            with _Watch(rec):
                result = self._fn(*args, **kwargs)
        finally:
            rec.unpatch()
        self.stats["recorded"] += 1
        self._count += 1
        self.kernels = len(rec.calls)
        reason = rec.broken
        entry = None
        if reason is None:
            try:
                entry = _build(pre, before, rec.calls, result, self._scan(args, kwargs))
            except _Break as err:
                reason = str(err)
        if reason is not None:
            self.breaks[reason] = self.breaks.get(reason, 0) + 1
            if reason.startswith("the step changed"):
                self._count -= 1   # a first step that makes state: the next one records
            else:
                self._eager[key] = reason
            if self._fullgraph:
                raise RuntimeError(f"plugrad.compile(fullgraph=True): {self.__name__} "
                                   f"cannot be captured: {reason}")
        else:
            self._entries.setdefault(key, []).append(entry)
        return result


def _build(pre: _Scan, before: list, calls: list, result, post: _Scan) -> _Entry:
    """An _Entry from one recording, or _Break."""
    if [loc[1:] for loc in pre.locs] != [loc[1:] for loc in post.locs] or \
            len(pre.locs) != len(post.locs):
        raise _Break("the step changed what it reaches (new optimizer state, new .grad "
                     "places): the next call records again")
    prog = _Program(pre)
    guards = prog.emit(calls)
    outs = []          # slot names the replay returns
    out_index = {}

    def output(arr) -> int:
        if not _is_array(arr):
            raise _Break("a tensor's data is not an array")
        name = prog.slot_of.get(id(arr))
        if name is None:
            raise _Break("a tensor after the step holds an array that no recorded kernel made")
        if name not in out_index:
            out_index[name] = len(outs)
            outs.append(name)
        return out_index[name]

    pre_index = {id(t): i for i, t in enumerate(pre.objs)}
    # the step's own tensors that outlive it: new ones get a fresh Tensor per replay
    news = []          # (out index, dtype, backend, requires_grad)
    new_index = {}

    def new(t) -> int:
        i = new_index.get(id(t))
        if i is None:
            if t.grad_fn is not None:
                raise _Break("a tensor with autograd history is kept after the step")
            if t._grad is not None or t._hooks is not None:
                raise _Break("a tensor made in the step is kept with a .grad or hooks")
            i = new_index[id(t)] = len(news)
            news.append((output(t._array), t.dtype, t.backend, t._rg))
        return i

    rebind = []        # (object index, out index): pre tensors whose array changed
    for i, t in enumerate(pre.objs):
        if t._array is not pre.pre_arrays[i]:
            rebind.append((i, output(t._array)))
    places = []        # (location index, how, what)
    for li, value in enumerate(post.values):
        old = pre.values[li]
        if value is old:
            continue
        if isinstance(value, Tensor):
            k = pre_index.get(id(value))
            places.append((li, "obj", k) if k is not None else (li, "new", new(value)))
        else:
            places.append((li, "val", value))
    bumps = []
    for i, t in enumerate(pre.objs):
        d = versions.version(t) - before[i]
        if d:
            bumps.append((i, d))
    entry = _Entry()
    entry.result = _result_plan(result, pre_index, new, output)
    entry.news = news
    entry.rebind = rebind
    entry.places = places
    entry.bumps = bumps
    entry.inputs = prog.inputs
    entry.kernels = sum(1 for c in calls if c[0] != "dtype_of")
    entry.guards = guards
    entry.run, entry.source = prog.build(outs, entry.kernels)
    return entry


def _result_plan(value, pre_index, new, output):
    """How to rebuild the returned value from a replay: a small tree of instructions."""
    if isinstance(value, Tensor):
        k = pre_index.get(id(value))
        if k is not None:
            return ("obj", k)
        if value.grad_fn is not None:
            if not _spent(value.grad_fn):
                raise _Break("a returned tensor's autograd graph is still needed after the "
                             "call (compile the backward pass with it)")
            if value._grad is not None or value.grad_fn.hooks is not None:
                raise _Break("a returned tensor has a .grad or hooks")
            return ("spent", output(value._array), value.dtype, value.backend, value.grad_fn)
        return ("new", new(value))
    t = type(value)
    if t in (tuple, list):
        return (t, [_result_plan(v, pre_index, new, output) for v in value])
    if t is dict:
        return (dict, [(k, _result_plan(v, pre_index, new, output)) for k, v in value.items()])
    if t in _SCALARS or t is float:
        return ("val", value)
    raise _Break(f"the step returns a {t.__name__}")


def _rebuild(plan, objs, made, outs):
    how = plan[0]
    if how == "obj":
        return objs[plan[1]]
    if how == "new":
        return made[plan[1]]
    if how == "val":
        return plan[1]
    if how == "spent":
        _, j, dtype, backend, fn = plan
        t = _make(outs[j], dtype, backend)
        t.grad_fn = Node(fn._name, fn.backward, fn.inputs, None, fn.args)
        t._rg = True
        return t
    if how is dict:
        return {k: _rebuild(p, objs, made, outs) for k, p in plan[1]}
    return how(_rebuild(p, objs, made, outs) for p in plan[1])


def _replay(entry: _Entry, scan: _Scan) -> tuple:
    """Run a recorded step on the current arrays; (False, None) when a guard fails."""
    objs = scan.objs
    outs = entry.run(*[objs[i]._array for i in entry.inputs])
    if outs is None:
        return False, None
    made = [_make(outs[j], dtype, bk) for j, dtype, bk, _ in entry.news]
    for t, (_, _, _, rg) in zip(made, entry.news):
        t._rg = rg
    for i, j in entry.rebind:
        objs[i]._array = outs[j]
    locs = scan.locs
    for li, how, what in entry.places:
        container, key, kind = locs[li]
        value = objs[what] if how == "obj" else made[what] if how == "new" else what
        if kind == "grad":
            container._grad = value
        else:
            container[key] = value
    bump = versions.bump
    for i, d in entry.bumps:
        for _ in range(d):
            bump(objs[i])
    return True, _rebuild(entry.result, objs, made, outs)


class CompiledModule(Module):
    """What `plugrad.compile(model)` returns: the model, with its call compiled.

    Its parameters and buffers are the model's (under `_orig_mod.`, as torch
    names them); other attributes are read from the model.
    """

    def __init__(self, mod: Module, compiled: CompiledFunction) -> None:
        super().__init__()
        self._orig_mod = mod
        object.__setattr__(self, "_compiled", compiled)

    def __getattr__(self, name: str):
        if name in ("_orig_mod", "_compiled"):
            return super().__getattr__(name)
        return getattr(self._orig_mod, name)

    def __call__(self, *args, **kwargs):
        return self._compiled(*args, **kwargs)

    def forward(self, *args, **kwargs):
        return self._compiled(*args, **kwargs)


def compile(model=None, *, fullgraph: bool = False, dynamic=None, backend=None,
            mode=None, options=None, disable: bool = False):
    """Compile a function or module: record its kernels once, replay them after.

    Torch's calling forms: `compile(fn)`, `@compile`, `@compile(mode=...)`
    and `compile(model)`, which returns a module whose call is compiled and
    whose parameters are the model's. The first call (and each call whose
    guards fail) runs eagerly and records; later calls replay the recorded
    kernels on the arrays. Results are eager's: what cannot be captured runs
    eagerly, with its reason in `explain`. `mode`, `dynamic` and `backend`
    ("inductor", "plugrad"; "eager" runs uncompiled) are accepted;
    `options={"cache_size_limit": 8}` bounds the recordings kept per function;
    `fullgraph=True` raises where a call would run eagerly.

    >>> import plugrad as pg
    >>> w = pg.tensor([1.0, -2.0], requires_grad=True)
    >>> @pg.compile
    ... def step(x):
    ...     w.grad = None
    ...     loss = (w * x).tanh().sum()
    ...     loss.backward()
    ...     return loss.detach()
    >>> for _ in range(3):
    ...     loss = step(pg.tensor([0.5, 0.25]))
    >>> w.grad
    tensor([0.3932, 0.1966])
    >>> step.stats
    {'recorded': 2, 'replayed': 1, 'eager': 0}
    """
    del dynamic  # accepted, as torch's: a recording is always specialised to its shapes
    if mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: "
                           f"{', '.join(m for m in _MODES if m)}")
    if backend not in _BACKENDS:
        raise RuntimeError(f"compile: unknown backend {backend!r}; plugrad has "
                           f"{', '.join(b for b in _BACKENDS if b)}")
    opts = dict(options or {})
    limit = opts.pop("cache_size_limit", 8)
    if opts:
        raise RuntimeError(f"Unexpected optimization option {next(iter(opts))}, known "
                           f"options: cache_size_limit")
    if type(limit) is not int or limit < 1:
        raise ValueError(f"cache_size_limit must be a positive int, got {limit!r}")

    def wrap(fn):
        if disable or backend == "eager":
            return fn
        if not callable(fn):
            raise RuntimeError("torch.compile expects a callable (a function or a module)")
        if isinstance(fn, Module):
            return CompiledModule(fn, CompiledFunction(fn.__call__, fullgraph=fullgraph,
                                                       cache_size_limit=limit))
        return CompiledFunction(fn, fullgraph=fullgraph, cache_size_limit=limit)
    return wrap if model is None else wrap(model)


class ExplainOutput:
    """What `explain` found: kernels captured, calls that ran eagerly and why."""

    def __init__(self, compiled: CompiledFunction) -> None:
        self.graph_count = sum(len(es) for es in compiled._entries.values())
        self.graph_break_count = sum(compiled.breaks.values())
        self.break_reasons = list(compiled.breaks)
        self.kernel_count = compiled.kernels
        self.guard_count = sum(e.guards for es in compiled._entries.values() for e in es)
        self.entries = [e for es in compiled._entries.values() for e in es]

    def __str__(self) -> str:
        lines = [f"Graph Count: {self.graph_count}",
                 f"Graph Break Count: {self.graph_break_count}",
                 f"Kernel Count: {self.kernel_count}",
                 f"Value Guards: {self.guard_count}"]
        if self.break_reasons:
            lines.append("Break Reasons:")
            lines += [f"  {r}" for r in self.break_reasons]
        return "\n".join(lines)

    __repr__ = __str__


def explain(fn, *args, **kwargs):
    """What compiling `fn` captures: `explain(fn)(*args)` or `explain(fn, *args)`.

    Calls `fn` once, recording (so its effects happen, as in eager), and
    returns an `ExplainOutput`: the recorded kernels, the value guards
    (`.item()` reads) and every reason a call would run eagerly instead.

    >>> import plugrad as pg
    >>> def f(x):
    ...     return (x * 2).exp().sum()
    >>> print(pg.compile.explain(f, pg.ones(3)))
    Graph Count: 1
    Graph Break Count: 0
    Kernel Count: 3
    Value Guards: 0
    """
    def run(*a, **kw):
        compiled = CompiledFunction(fn)
        compiled(*a, **kw)
        return ExplainOutput(compiled)
    return run(*args, **kwargs) if args or kwargs else run


compile.explain = explain
