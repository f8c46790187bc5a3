"""Differential testing with random programs.

A seeded generator writes programs of 3 to 20 ops drawn from the public op list, on 1 to 3
inputs of random shapes (0 to 3 dims, broadcasting between them) and random float dtypes.
Each program is Python source (`pg` is the library), so the same text runs on plugrad and on
torch, and a failure prints as a runnable snippet. Each program is checked:

* in float64, the gradient against central finite differences (three random directions per
  input, a random cotangent: a wrong broadcast or a swapped axis cannot hide);
* in its own dtypes, values and gradients against the float64 run (dtype tolerances);
* against torch when it is installed: result dtype, values, gradients, and which inputs
  receive a gradient.

A failing program is shrunk (cut at an earlier output, ops bypassed, dead code dropped) and
printed. PLUGRAD_FUZZ_PROGRAMS sets how many run (default 500; `tox -e fuzz` runs more).
"""
from __future__ import annotations

import os
import re
import warnings

import numpy as np
import plugrad as pg
import pytest

try:
    import torch
except ImportError:  # torch is optional: the finite-difference checks still run
    torch = None

N_PROGRAMS = int(os.environ.get("PLUGRAD_FUZZ_PROGRAMS", "500"))
BOUND = 1e3  # the generator keeps every value within +-BOUND so float16 and FD stay meaningful
DTYPES = ["float64", "float32", "float32", "float16"]
TOL = {"float64": 1e-9, "float32": 2e-4, "float16": 4e-2}
# gradients in float16 go through every op's rounding twice (forward and backward): looser
GRAD_TOL = {"float64": 1e-9, "float32": 2e-4, "float16": 1.5e-1}

# name -> (source template, arity); operands are {0}, {1}; parameters are filled by `params`
UNARY = {
    "neg": "-{0}", "tanh": "{0}.tanh()", "sin": "pg.sin({0})", "cos": "{0}.cos()",
    "sigmoid": "{0}.sigmoid()", "exp": "{0}.exp()", "square": "{0}.square()",
    "abs": "{0}.abs()", "relu": "{0}.relu()", "log": "({0}.abs() + 0.5).log()",
    "sqrt": "({0}.square() + 0.1).sqrt()", "pow": "({0}.abs() + 0.5) ** 1.5",
    "clamp": "{0}.clamp(-0.8, 0.8)", "scale": "{0} * 0.7", "rsub": "1.5 - {0}",
    "rdiv": "1.0 / ({0}.square() + 1.0)",
}
BINARY = {
    "add": "{0} + {1}", "sub": "pg.sub({0}, {1})", "mul": "{0} * {1}",
    "div": "{0} / ({1}.square() + 0.5)", "maximum": "pg.maximum({0}, {1})",
    "minimum": "pg.minimum({0}, {1})", "where": "pg.where({0} > {1}, {0}, {1} * 0.5)",
}


def _bcast(*shapes):
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        return None


class Program:
    """inputs: [(name, float64 array, dtype name)]; steps: [(name, source, operand names)]."""

    def __init__(self, inputs, steps, out, shapes):
        self.inputs, self.steps, self.out, self.shapes = inputs, steps, out, shapes

    def source(self, lib: str = "plugrad") -> str:
        lines = ["import numpy as np", f"import {lib} as pg", ""]
        for name, arr, dt in self.inputs:
            lines.append(f"{name} = pg.tensor(np.array({arr.tolist()!r}), dtype=pg.{dt}, "
                         f"requires_grad=True)")
        for name, src, ops in self.steps:
            lines.append(f"{name} = {src.format(*ops)}")
        lines.append(f"out = {self.out}")
        return "\n".join(lines)

    def snippet(self, cotangent) -> str:
        names = ", ".join(n for n, _, _ in self.inputs)
        return (self.source() + f"\nout.backward(pg.tensor(np.array({cotangent.tolist()!r}), "
                f"dtype=out.dtype))\nprint(out, [t.grad for t in ({names},)])\n")

    def used(self) -> "Program":
        """Without the steps and inputs the output does not depend on."""
        live, steps = {self.out}, []
        for name, src, ops in reversed(self.steps):
            if name in live:
                steps.append((name, src, ops))
                live.update(ops)
        inputs = [i for i in self.inputs if i[0] in live] or self.inputs[:1]
        return Program(inputs, steps[::-1], self.out, self.shapes)


def run(program: Program, lib, dtype_override: str | None = None):
    """(output, {input name: input tensor}) of the program on `lib` (plugrad or torch)."""
    env = {"pg": lib, "np": np}
    for name, arr, dt in program.inputs:
        env[name] = lib.tensor(arr, dtype=getattr(lib, dtype_override or dt), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, src, ops in program.steps:
            env[name] = eval(src.format(*ops), env)  # noqa: S307 - our own generated source
    return env[program.out], {n: env[n] for n, _, _ in program.inputs}


def _host(t) -> np.ndarray:
    return np.asarray(t.detach().numpy(), dtype=np.float64) if t is not None else None


def _grads(out, inputs, cotangent, lib):
    out.backward(lib.tensor(cotangent, dtype=out.dtype))
    return {n: _host(t.grad) for n, t in inputs.items()}


def _close(got, want, tol, what):
    scale = 1.0 + float(np.max(np.abs(want))) if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * scale, err_msg=what)


def generate(seed: int) -> Program:
    """A random program; raises when plugrad fails on an op the generator knows to be valid."""
    rng = np.random.default_rng(seed)
    n_inputs = int(rng.integers(1, 4))
    base = tuple(int(s) for s in rng.integers(1, 5, size=int(rng.choice([0, 1, 2, 2, 3, 3]))))
    inputs, shapes, values = [], {}, {}
    for i in range(n_inputs):
        # a suffix of the base shape with some sides set to 1: they broadcast together
        shape = tuple(1 if rng.random() < 0.3 else s for s in base[int(rng.integers(0,
                                                                       len(base) + 1)):])
        arr = rng.uniform(-1.5, 1.5, size=shape)
        name = f"x{i}"
        inputs.append((name, arr, str(rng.choice(DTYPES))))
        shapes[name] = shape
        values[name] = pg.tensor(arr, dtype=pg.float64, requires_grad=True)
    # float16 overflows at 65504: keep values small enough that squares and products fit
    bound = 100.0 if any(dt == "float16" for _, _, dt in inputs) else BOUND
    steps: list = []
    n_ops = int(rng.integers(3, 21))
    names = [n for n, _, _ in inputs]
    tries = 0
    live = 0  # ops the newest variable depends on
    while live < n_ops and tries < 400:
        tries += 1
        pick = names[-1] if rng.random() < 0.8 else names[int(rng.integers(len(names)))]
        choice = _propose(rng, pick, names, shapes)
        if choice is None:
            continue
        src, ops, = choice
        env = {"pg": pg, "np": np, **values}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                result = eval(src.format(*ops), env)  # noqa: S307
            except Exception as err:
                name = f"v{len(steps) + n_inputs}"
                program = Program(inputs, steps + [(name, src, ops)], name, shapes)
                raise AssertionError(f"plugrad raised {type(err).__name__}: {err} on a valid "
                                     f"op; program:\n{program.used().source()}") from err
        data = _host(result)
        if data.size and (not np.all(np.isfinite(data)) or np.max(np.abs(data)) > bound):
            continue
        if data.size == 0 or data.size > 256:
            continue
        name = f"v{len(steps) + n_inputs}"
        shapes[name] = tuple(result.shape)
        grown = len(Program(inputs, steps + [(name, src, ops)], name, shapes).used().steps)
        if grown > 20:
            continue
        steps.append((name, src, ops))
        names.append(name)
        values[name] = result
        live = grown
    return Program(inputs, steps, names[-1], shapes).used()


def _propose(rng, a, names, shapes):
    """(source template, operands) for one op on variable `a`, or None if none fits."""
    shape = shapes[a]
    nd = len(shape)
    kind = rng.choice(["unary"] * 5 + ["binary"] * 5 + ["reduce"] * (1 + nd) + ["shape"] * 4)
    if kind == "unary":
        return UNARY[str(rng.choice(sorted(UNARY)))], (a,)
    if kind == "binary":
        b = names[int(rng.integers(len(names)))]
        if b == a or _bcast(shape, shapes[b]) is None:
            return None
        if rng.random() < 0.5:
            a, b = b, a
        return BINARY[str(rng.choice(sorted(BINARY)))], (a, b)
    if kind == "reduce":
        if nd == 0:
            return None
        dim = int(rng.integers(-nd, nd))
        keep = bool(rng.random() < 0.5)
        op = str(rng.choice(["sum", "mean", "amax", "logsumexp", "softmax", "log_softmax",
                             "var", "prod", "max"] + ["sumall"] * (nd == 1)))
        if op in ("softmax", "log_softmax"):
            return f"{{0}}.{op}({dim})", (a,)
        if op == "sumall":
            return "{0}.sum()", (a,)
        if op == "var" and shape[dim] < 2:
            return None
        if op == "max":
            return f"{{0}}.max({dim}, keepdim={keep})[0]", (a,)
        if op in ("prod", "logsumexp"):
            return f"{{0}}.{op}({dim}, keepdim={keep})", (a,)
        dims = (dim,) if rng.random() < 0.5 or nd < 2 else (dim, (dim + 1) % nd - nd)
        if len(set(d % nd for d in dims)) < len(dims):
            dims = (dim,)
        return f"{{0}}.{op}(dim={dims}, keepdim={keep})", (a,)
    op = str(rng.choice(["transpose", "permute", "reshape", "unsqueeze", "squeeze", "expand",
                         "narrow", "index", "cat", "stack", "matmul", "flatten"]))
    if op == "transpose" and nd >= 2:
        d0, d1 = rng.choice(nd, 2, replace=False)
        return f"{{0}}.transpose({int(d0)}, {int(d1)})", (a,)
    if op == "permute" and nd >= 2:
        return f"{{0}}.permute{tuple(int(p) for p in rng.permutation(nd))}", (a,)
    if op == "reshape":
        return "{0}.reshape(-1)", (a,)
    if op == "flatten":
        return "{0}.flatten()", (a,)
    if op == "unsqueeze" and nd < 4:
        return f"{{0}}.unsqueeze({int(rng.integers(-nd - 1, nd + 1))})", (a,)
    if op == "squeeze" and 1 in shape:
        return f"{{0}}.squeeze({shape.index(1)})", (a,)
    if op == "expand" and nd < 4:
        target = (int(rng.integers(1, 4)),) + tuple(int(rng.integers(1, 4)) if s == 1 else s
                                                     for s in shape)
        return f"{{0}}.expand{target}", (a,)
    if op == "narrow" and nd >= 1:
        dim = int(rng.integers(nd))
        if shape[dim] < 2:
            return None
        start = int(rng.integers(shape[dim] - 1))
        return f"{{0}}.narrow({dim}, {start}, {int(rng.integers(1, shape[dim] - start + 1))})", \
            (a,)
    if op == "index" and nd >= 1:
        side = shape[0]
        forms = [f"{{0}}[{int(rng.integers(-side, side))}]", "{0}[..., ::2]" if nd else None,
                 f"{{0}}[{[int(i) for i in rng.integers(0, side, size=3)]}]", "{0}[None, 1:]",
                 "{0}[{0} > 0.2]" if nd == 1 else None]
        forms = [f for f in forms if f is not None]
        return forms[int(rng.integers(len(forms)))], (a,)
    if op in ("cat", "stack"):
        same = [b for b in names if b != a and shapes[b] == shape]
        if not same or (op == "cat" and nd == 0):
            return None
        b = same[int(rng.integers(len(same)))]
        dim = int(rng.integers(-nd, nd)) if op == "cat" else int(rng.integers(-nd - 1, nd + 1))
        return f"pg.{op}([{{0}}, {{1}}], {dim})", (a, b)
    if op == "matmul" and nd >= 1:
        fits = [b for b in names if len(shapes[b]) >= 1 and shapes[b][-2 if len(shapes[b]) > 1
                                                                        else -1] == shape[-1]]
        fits = [b for b in fits if len(shapes[b]) < 2 or nd < 2 or
                _bcast(shape[:-2], shapes[b][:-2]) is not None]
        if not fits:
            return None
        return "pg.matmul({0}, {1}.to({0}.dtype))", (a, fits[int(rng.integers(len(fits)))])
    return None


def check(program: Program, seed: int) -> None:
    """AssertionError (or plugrad's exception) when plugrad disagrees with FD or torch."""
    rng = np.random.default_rng(seed + 1_000_003)
    out64, ins64 = run(program, pg, "float64")
    ref = _host(out64)
    cotangent = rng.standard_normal(ref.shape)
    grads64 = _grads(out64, ins64, cotangent, pg)
    # 1. float64 gradients against central differences along random directions
    eps = 1e-6
    for name, arr, _ in program.inputs:
        for _ in range(3):
            u = rng.standard_normal(arr.shape)
            moved = []
            for step in (eps, -eps):
                p = Program([(n, a + step * u if n == name else a, d)
                             for n, a, d in program.inputs], program.steps, program.out,
                            program.shapes)
                with pg.no_grad():
                    moved.append(float(np.sum(_host(run(p, pg, "float64")[0]) * cotangent)))
            numeric = (moved[0] - moved[1]) / (2 * eps)
            got = 0.0 if grads64[name] is None else float(np.sum(grads64[name] * u))
            scale = 1.0 + float(np.sum(np.abs(grads64[name]) * np.abs(u))) \
                if grads64[name] is not None else 1.0
            assert abs(got - numeric) <= 1e-5 * scale, \
                f"d/d{name}: backward gives {got}, finite differences {numeric}"
    # 2. its own dtypes against the float64 run
    out, ins = run(program, pg)
    want_dtype = out.dtype.name
    tol = max(TOL[dt] for _, _, dt in program.inputs)  # the least precise input sets it
    _close(_host(out), ref, tol, f"value in {want_dtype}")
    grad_tol = max(GRAD_TOL[dt] for _, _, dt in program.inputs)
    grads = _grads(out, ins, cotangent, pg)
    for (name, _, _), g in zip(program.inputs, grads.values()):
        assert (g is None) == (grads64[name] is None), f"gradient presence of {name}"
        if g is not None:
            _close(g, grads64[name], grad_tol, f"gradient of {name}")
    # 3. torch, same source and dtypes
    if torch is not None:
        tout, tins = run(program, torch)
        assert str(tout.dtype) == f"torch.{want_dtype}", f"dtype {want_dtype}, torch {tout.dtype}"
        assert tuple(tout.shape) == tuple(out.shape), "shape differs from torch's"
        _close(_host(out), _host(tout), tol, "value against torch")
        tgrads = _grads(tout, tins, cotangent, torch)
        for (name, _, _) in program.inputs:
            assert (grads[name] is None) == (tgrads[name] is None), f"{name}.grad presence"
            if grads[name] is not None:
                _close(grads[name], tgrads[name], grad_tol, f"{name}.grad vs torch")


def _fails(program: Program, seed: int) -> bool:
    try:
        check(program, seed)
    except Exception:
        return True
    return False


def shrink(program: Program, seed: int) -> Program:
    """A smaller program that still fails: an earlier output, ops bypassed, dead code gone."""
    changed = True
    while changed:
        changed = False
        for name, _, _ in program.steps[:-1]:  # cut at the earliest output that still fails
            cut = Program(program.inputs, program.steps, name, program.shapes).used()
            if _fails(cut, seed):
                program, changed = cut, True
                break
        for i, (name, _, ops) in enumerate(program.steps):  # bypass one op
            for op in ops:
                if program.shapes.get(op) != program.shapes.get(name) or name == program.out:
                    continue
                steps = [(n, s, tuple(op if o == name else o for o in os_))
                         for n, s, os_ in program.steps[:i] + program.steps[i + 1:]]
                smaller = Program(program.inputs, steps, program.out, program.shapes).used()
                if _fails(smaller, seed):
                    program, changed = smaller, True
                    break
            if changed:
                break
    return program


def _report(seed: int, program: Program, err: Exception) -> str:
    small = shrink(program, seed)
    out, _ = run(small, pg, "float64")
    cotangent = np.random.default_rng(seed + 1_000_003).standard_normal(tuple(out.shape))
    try:
        check(small, seed)
        why = str(err)
    except Exception as small_err:
        why = f"{type(small_err).__name__}: {small_err}"
    return (f"random program {seed} fails ({why.strip()[:500]}); shrunk from "
            f"{len(program.steps)} to {len(small.steps)} ops, runnable:\n\n"
            f"{small.snippet(cotangent)}")


@pytest.mark.parametrize("block", range(5))
def test_random_programs_match_finite_differences_and_torch(block):
    per_block = -(-N_PROGRAMS // 5)
    failures, ran = [], 0
    for seed in range(block * per_block, min(N_PROGRAMS, (block + 1) * per_block)):
        program = generate(seed)
        ran += 1
        try:
            check(program, seed)
        except Exception as err:
            failures.append(_report(seed, program, err))
            if len(failures) >= 3:
                break
    assert not failures, "\n\n".join(failures)
    assert ran > 0


def test_the_generator_is_seeded_and_covers_the_op_table():
    assert generate(7).source() == generate(7).source()
    text = "\n".join(generate(seed).source() for seed in range(150))
    for src in list(UNARY.values()) + list(BINARY.values()):
        pattern = re.escape(src).replace(r"\{0\}", r"\w+").replace(r"\{1\}", r"\w+")
        assert re.search(pattern, text), src
    for word in ("float16", "float32", "float64", "matmul", "cat", "expand", "amax", "[None"):
        assert word in text


def test_a_failing_program_is_shrunk_to_a_runnable_snippet(monkeypatch):
    # make tanh's gradient wrong by a small factor: the shrinker must isolate a tanh
    from plugrad import pointwise
    seed = next(s for s in range(100) if ".tanh()" in generate(s).source())
    program = generate(seed)
    original = pg.Tensor.tanh

    def bad_tanh(x):
        y = original(x)
        return y + (y - y.detach()) * 0.1  # same value, gradient 10% too large
    monkeypatch.setattr(pg.Tensor, "tanh", bad_tanh)
    assert pointwise is not None
    assert _fails(program, seed)
    report = _report(seed, program, AssertionError("tanh"))
    snippet = report.split("runnable:\n\n", 1)[1]
    assert ".tanh()" in snippet and "out.backward(" in snippet
    small = shrink(program, seed)
    assert len(small.steps) <= len(program.steps)
    monkeypatch.undo()
    exec(compile(snippet, "<snippet>", "exec"), {"print": lambda *a: None})  # it runs
