"""Backends: the contract, the generic Array API backend, NumPy and CuPy, and choosing one.

Every backend implementation is run through the same battery of forward and
backward computations and compared with the NumPy backend: the generic
backend on NumPy's own namespace, on array_api_strict (when installed), the
CuPy backend's code on a stand-in `cupy` made of NumPy (so its code runs on
any machine), and real CuPy when a GPU is there (skipped otherwise, with the
reason plugrad gives).
"""
from __future__ import annotations

import ast
import contextlib
import importlib
import inspect
import pathlib
import re
import subprocess
import sys
import textwrap
import types

import numpy as np
import plugrad as pg
import pytest
from plugrad import backends
from plugrad.backend import (
    ARRAY_API_NAMES,
    BINARY,
    CONTRACT_VERSION,
    ELEMENTWISE_KINDS,
    KERNELS,
    KINDS,
    OPTIONAL,
    OTHER,
    PRIMITIVES,
    REDUCE,
    REQUIRED,
    UNARY,
    Backend,
    BackendUnavailable,
    missing_primitives,
)
from plugrad.backends import builtin
from plugrad.backends.array_api import ArrayAPIBackend
from plugrad.cli import main


# -- the backends under test -----------------------------------------------------------------
def fake_cupy(monkeypatch, devices=1, device_error=None, driver=12040):
    """A `cupy` (and `cupyx`) made of NumPy, so the CuPy backend's code runs without a GPU."""
    cp = types.ModuleType("cupy")
    for name in dir(np):
        if not name.startswith("__"):
            setattr(cp, name, getattr(np, name))
    cp.__version__ = "0.0+fake"
    cp.asnumpy = np.asarray
    cp.random = types.SimpleNamespace(RandomState=np.random.RandomState)

    def count():
        if device_error is not None:
            raise device_error
        return devices
    cp.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(
        getDeviceCount=count, driverGetVersion=lambda: driver))
    cupyx = types.ModuleType("cupyx")
    cupyx.scatter_add = np.add.at
    cupyx.errstate = lambda **_: contextlib.nullcontext()  # NumPy's linalg raises anyway
    monkeypatch.setitem(sys.modules, "cupy", cp)
    monkeypatch.setitem(sys.modules, "cupyx", cupyx)
    monkeypatch.delitem(sys.modules, "plugrad.backends.cupy_backend", raising=False)
    return cp


def _generic_numpy(monkeypatch):
    return ArrayAPIBackend(np, "numpy_generic")


def _generic_strict(monkeypatch):
    strict = pytest.importorskip("array_api_strict")
    return ArrayAPIBackend(strict, "array_api_strict_test")


def _cupy_code_on_numpy(monkeypatch):
    fake_cupy(monkeypatch)
    return builtin.make_cupy()


def _real_cupy(monkeypatch):
    row = next(r for r in backends.status() if r.name == "cupy")
    if row.status != "ready":
        pytest.skip(f"cupy backend: {row}")
    return backends.get("cupy")


MAKERS = {"generic-numpy": _generic_numpy, "generic-array_api_strict": _generic_strict,
          "cupy-code-on-numpy": _cupy_code_on_numpy, "cupy": _real_cupy}


@pytest.fixture(params=sorted(MAKERS))
def other(request, monkeypatch):
    """A backend other than the default NumPy one."""
    return MAKERS[request.param](monkeypatch)


# -- the battery -----------------------------------------------------------------------------
X = [[0.5, -1.25, 2.0, 0.0], [1.5, 0.25, -0.75, 3.0], [-2.0, 1.0, 0.5, -0.5]]
W = [[1.0, -1.0], [0.5, 2.0], [0.0, 1.5], [-1.0, 0.25]]


def _values(t):
    return np.asarray(t.detach().tolist(), dtype=np.float64)


def battery(bk):
    """Named results (forward values and gradients) of a spread of ops on backend `bk`."""
    out = {}
    x = pg.tensor(X, dtype=pg.float64, backend=bk, requires_grad=True)
    w = pg.tensor(W, dtype=pg.float64, backend=bk, requires_grad=True)
    y = (x.exp() * x.sin() + x.tanh() ** 2 - x.sigmoid() / (1 + x.abs())).sum(1)
    z = (x @ w).relu().softmax(-1).log_softmax(0) + (x.abs() + 1).sqrt().log().mean(0)[:2]
    loss = y.sum() + z.mean() + x.var() + x.max(1).values.sum() + x.logsumexp(0).sum() \
        + x.clamp(-1, 1).prod() + pg.where(x > 0, x, x * 0.1).sum() \
        + pg.maximum(x, (x @ w @ w.T) * 0.1).sum()
    loss.backward()
    out["loss"], out["x.grad"], out["w.grad"] = _values(loss), _values(x.grad), _values(w.grad)
    # indexing: repeated indices add up in backward; mixed and masked indices
    x.grad = None
    idx = pg.tensor([2, 0, 2, 2], backend=bk)
    picked = x[idx] * 2 + x[:, [1, 1]].sum() + x[x > 0].sum() + x[None, 0].sum() \
        + x[..., 1].sum() + x[1, 2]
    picked.sum().backward()
    out["picked"], out["picked.grad"] = _values(picked), _values(x.grad)
    # movement
    x.grad = None
    parts = pg.cat([x.reshape(4, 3).permute(1, 0), x.transpose(0, 1).reshape(3, 4)], 0)
    moved = pg.stack(parts.split(2, 0)[:2], 0).expand(2, 2, 2, 4).flatten() * pg.arange(
        32, dtype=pg.float64, backend=bk)
    moved.sum().backward()
    out["moved"], out["moved.grad"] = _values(moved), _values(x.grad)
    # integers, bools, creation
    ints = pg.tensor([[1, 2, 3], [4, 5, 6]], backend=bk)
    out["ints"] = np.asarray([ints.sum().item(), (ints * 2 - 1).max().item(),
                              ints.argmax().item(), ints.argmin(1).tolist()[1]])
    flags = (x > 0) & (x < 2) | ~(x == 0)
    out["flags"] = np.asarray(flags.tolist() + [[flags.any().item(), flags.all().item()] * 2])
    out["created"] = np.concatenate([
        np.ravel(pg.zeros(2, 3, backend=bk).tolist()), np.ravel(pg.ones(2, backend=bk).tolist()),
        pg.linspace(0, 1, 5, backend=bk).tolist(), np.ravel(pg.eye(2, 3, backend=bk).tolist()),
        pg.full((2,), 7, backend=bk).tolist(), pg.arange(1, 2, 0.25, backend=bk).tolist()])
    return out


def test_the_generic_backend_on_numpy_matches_the_numpy_backend():
    want, got = battery(backends.get("numpy")), battery(ArrayAPIBackend(np, "numpy_generic"))
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-12, err_msg=key)


def test_every_other_backend_matches_the_numpy_backend(other):
    want, got = battery(backends.get("numpy")), battery(other)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-10, err_msg=key)


def test_random_numbers_on_other_backends(other):
    pg.manual_seed(7)  # the default generator: a stream on each backend (other.random_stream)
    a = pg.rand(3, 4, backend=other)
    b = pg.randn(2, dtype=pg.float64, backend=other)
    c = pg.randint(2, 5, (50,), backend=other)
    assert a.dtype is pg.float32 and a.shape == (3, 4) and b.dtype is pg.float64
    values = _values(a)
    assert ((values >= 0) & (values < 1)).all()
    assert set(c.tolist()) <= {2, 3, 4} and c.dtype is pg.int64
    pg.manual_seed(7)
    assert pg.rand(3, 4, backend=other).tolist() == a.tolist()
    g = pg.Generator().manual_seed(7)
    state = g.get_state()
    first = pg.randn(5, backend=other, generator=g).tolist()
    assert pg.randn(5, backend=other, generator=g).tolist() != first
    g.set_state(state)
    assert pg.randn(5, backend=other, generator=g).tolist() == first


def test_the_generic_index_add_sums_repeated_indices_exactly():
    strict = pytest.importorskip("array_api_strict")
    bk = ArrayAPIBackend(strict, "strict_scatter")
    x = strict.zeros((3, 4), dtype=strict.float64)
    idx = strict.asarray([2, 0, 2, 2, 1, 0])
    bk.index_add(x, (idx, slice(1, 3)), strict.ones((6, 2), dtype=strict.float64))
    assert bk.tolist(x) == [[0, 2, 2, 0], [0, 1, 1, 0], [0, 3, 3, 0]]
    bk.index_add(x, (Ellipsis,), strict.ones((3, 4), dtype=strict.float64))
    assert bk.tolist(x)[0] == [1, 3, 3, 1]


def test_generic_indexing_errors_are_index_errors():
    x = pg.zeros(3, 2, backend=ArrayAPIBackend(np, "numpy_generic"))
    with pytest.raises(IndexError, match="out of bounds"):
        x[pg.tensor([0, 5], backend=x.backend)]
    with pytest.raises(IndexError):
        x[pg.tensor([True, False], backend=x.backend)]


# -- the contract ----------------------------------------------------------------------------
def test_required_and_optional_primitives_are_disjoint_and_cover_the_old_list():
    assert not set(REQUIRED) & set(OPTIONAL)
    for name in ("exp", "index_add", "to_host", "asarray", "seed"):
        assert name in REQUIRED
    for name in ("sigmoid", "from_host", "tolist"):
        assert name in OPTIONAL


def test_builtin_backends_implement_every_required_primitive():
    assert missing_primitives(backends.get("numpy")) == []
    assert missing_primitives(ArrayAPIBackend(np, "numpy_generic")) == []
    assert "exp" in missing_primitives(Backend())


class _Minimal(Backend):
    """The required primitives only (borrowed from NumPy): the optional ones fall back."""

    name = "minimal"

    def __init__(self):
        numpy_bk = backends.get("numpy")
        for name in REQUIRED:
            setattr(self, name, getattr(numpy_bk, name))


def test_optional_primitives_fall_back_to_the_required_ones():
    bk, numpy_bk = _Minimal(), backends.get("numpy")
    assert missing_primitives(bk) == []
    data = np.array([-3.0, 0.0, 2.5], dtype=np.float32)
    np.testing.assert_array_equal(bk.sigmoid(data), 1 / (1 + np.exp(-data)))
    np.testing.assert_array_equal(numpy_bk.sigmoid(data), bk.sigmoid(data))
    assert bk.tolist(data) == data.tolist()
    copied = bk.from_host(data, pg.float64)
    assert copied.dtype == np.float64 and copied is not data


class _OwnKernels(ArrayAPIBackend):
    tanh = np.tanh

    @staticmethod
    def sigmoid(x):
        return 0.5 * np.tanh(0.5 * x) + 0.5


def test_a_subclass_kernel_wins_over_the_generic_and_the_fallback():
    bk = _OwnKernels(np, "own")
    assert bk.tanh is np.tanh and "tanh" not in vars(bk)
    assert "exp" in vars(bk)  # the generic kernel, installed on the instance
    data = np.array([-100.0, 0.0, 3.0])
    np.testing.assert_allclose(bk.sigmoid(data), 1 / (1 + np.exp(-data)), atol=1e-15)
    assert missing_primitives(bk) == []


def test_numpy_keeps_raw_ufuncs_as_class_attributes():
    # the per-op speed of the default backend: no Python wrapper between core and NumPy
    bk = backends.get("numpy")
    for name in ("add", "mul", "tanh", "exp"):
        assert isinstance(getattr(bk, name), np.ufunc)
        assert name not in vars(bk)
    # every elementwise kernel of the table: NumPy's own ufunc, by the table's first name
    # NumPy has, on the class itself (an optional one NumPy lacks keeps Backend's fallback)
    for name, spellings in ARRAY_API_NAMES.items():
        ufunc = next((getattr(np, s) for s in spellings if hasattr(np, s)), None)
        if ufunc is None and KERNELS[name][1] == "optional":
            assert getattr(type(bk), name) is getattr(Backend, name), name
            continue
        ufunc = {"round": np.rint}.get(name, ufunc)  # np.round is a function around rint
        assert vars(type(bk))[name] is ufunc and isinstance(ufunc, np.ufunc), name


def test_numpy_matmul_of_a_stack_by_one_matrix_is_one_product():
    # a linear layer on (batch, seq, features): the stack is folded into the rows of one
    # BLAS product (NumPy's own loop for a transposed matrix is 5-8x slower), same values
    bk = backends.get("numpy")
    rng = np.random.default_rng(0)
    w = rng.standard_normal((7, 5))
    for a in (rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((3, 4, 5)).transpose(1, 0, 2),
              np.zeros((2, 0, 5)), np.zeros((0, 3, 5))):
        out = bk.matmul(a, w.T)
        assert out.shape == a.shape[:-1] + (7,)
        np.testing.assert_allclose(out, np.einsum("...k,nk->...n", a, w), atol=1e-12)
    np.testing.assert_array_equal(bk.matmul(w, w.T), np.matmul(w, w.T))


def test_a_backend_without_float16_says_so():
    strict = pytest.importorskip("array_api_strict")
    with pytest.raises(TypeError, match="no float16"):
        pg.zeros(2, dtype=pg.float16, backend=ArrayAPIBackend(strict, "strict16"))


# -- the kernel table: one list of the contract's kernels, and everything agrees with it ---------
ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_the_exported_lists_are_made_from_the_table():
    for name, (kind, need, spellings) in KERNELS.items():
        assert kind in KINDS and need in ("required", "optional"), name
        assert isinstance(spellings, tuple) and all(s.isidentifier() for s in spellings), name
        # only elementwise kernels have names in the standard; a required one needs them,
        # since the generic backend has nothing else to build it from
        assert kind in ELEMENTWISE_KINDS or not spellings, name
        assert spellings or kind not in ELEMENTWISE_KINDS or need == "optional", name

    def named(need, kinds=None):
        return {n for n, (k, nd, _) in KERNELS.items() if nd == need and (not kinds or k in kinds)}
    assert set(REQUIRED) == named("required") and set(OPTIONAL) == named("optional")
    assert (set(UNARY), set(BINARY), set(REDUCE)) == \
        (named("required", {"unary"}), named("required", {"binary"}), named("required", {"reduce"}))
    assert set(OTHER) == set(REQUIRED) - set(UNARY + BINARY + REDUCE)
    assert REQUIRED == UNARY + BINARY + REDUCE + OTHER and PRIMITIVES == REQUIRED + OPTIONAL
    assert len(set(PRIMITIVES)) == len(PRIMITIVES) == len(KERNELS)
    assert ARRAY_API_NAMES == {n: row[2] for n, row in KERNELS.items() if row[2]}


def _is_placeholder(method) -> bool:
    """True for a method whose body, past its docstring, is `raise NotImplementedError` or
    `raise self._missing(name)` (the NotImplementedError that names the kernel)."""
    body = ast.parse(textwrap.dedent(inspect.getsource(method))).body[0].body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    if len(body) != 1 or not isinstance(body[0], ast.Raise):
        return False
    exc = body[0].exc
    return getattr(exc, "id", None) == "NotImplementedError" or (
        isinstance(exc, ast.Call) and getattr(exc.func, "attr", None) == "_missing")


def test_backend_methods_agree_with_the_table():
    methods = {name for name, value in vars(Backend).items()
               if not name.startswith("_") and callable(value)}
    assert methods - set(KERNELS) == set(), "methods of Backend that the table does not list"
    for name, (kind, need, _) in KERNELS.items():
        method = vars(Backend).get(name)
        if need == "optional":
            # a backend written before this kernel existed must keep working
            assert method is not None and not _is_placeholder(method), \
                f"the optional kernel {name} has no fallback on Backend"
        elif kind in ELEMENTWISE_KINDS and method is None:
            continue  # each backend binds its library's function; Backend has nothing to offer
        else:
            assert method is not None and _is_placeholder(method), \
                f"the required kernel {name} has no NotImplementedError placeholder on Backend"
            nones = [None] * (len(inspect.signature(method).parameters) - 1)
            with pytest.raises(NotImplementedError, match=f"kernel '{name}'") as caught:
                method(Backend(), *nones)
            assert caught.value.kernel == name  # a conformance run tells which one is missing


def _dask_backend(monkeypatch):
    pytest.importorskip("dask.array")
    return backends.get("dask")


BUILTINS = {"numpy": lambda monkeypatch: backends.get("numpy"), "dask": _dask_backend, **MAKERS}
# the public attributes of the built-in backends that are not kernels
NOT_KERNELS = {"name", "version", "lazy", "device_type", "xp", "rng", "native", "conformance_skips",
               "process_switches", "writable", "views"}


@pytest.mark.parametrize("which", sorted(BUILTINS))
def test_builtin_backends_have_no_kernel_outside_the_table(which, monkeypatch):
    bk = BUILTINS[which](monkeypatch)
    public = {name for name in dir(bk) if not name.startswith("_")}
    assert public - NOT_KERNELS - set(KERNELS) == set(), \
        "kernels the contract's table does not list (add a row to plugrad.backend.KERNELS)"
    assert missing_primitives(bk) == []


def test_no_backend_module_writes_its_own_list_of_kernel_names():
    # the names live in plugrad.backend.KERNELS; a list of them anywhere else drifts from it
    spellings = set(KERNELS) | {s for names in ARRAY_API_NAMES.values() for s in names}
    offenders = []
    for path in sorted(pathlib.Path(backends.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            items = node.keys if isinstance(node, ast.Dict) else \
                node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else []
            named = [i.value for i in items if isinstance(i, ast.Constant) and i.value in spellings]
            if len(named) >= 3:
                offenders.append(f"{path.name}:{node.lineno}: {named}")
    assert offenders == []


def _doc_table(text: str, header: str) -> list:
    """The rows of the Markdown table under `header` (a header line), as lists of cells."""
    lines = text[text.index(header):].split("\n")[2:]
    return [line.strip("|").split("|") for line in lines[:next(
        i for i, line in enumerate(lines) if not line.startswith("|"))]]


def test_writing_a_backend_lists_the_kernels_of_the_table():
    text = (ROOT / "docs" / "writing-a-backend.md").read_text()
    required = _doc_table(text, "| group | required kernels |")
    named = {word for _, cell in required for code in re.findall(r"`([^`]*)`", cell)
             for word in re.findall(r"[A-Za-z_]\w*", code)}
    assert set(REQUIRED) - named == set() and set(OPTIONAL) & named == set()
    optional = _doc_table(text, "| optional kernel |")
    assert sorted(re.match(r"\s*`(\w+)", row[0]).group(1) for row in optional) == \
        sorted(OPTIONAL)


# -- contract 1.1: log1p and expm1, optional: one row of the table and a fallback each ------------
def _strict_backend(monkeypatch):
    return ArrayAPIBackend(pytest.importorskip("array_api_strict"), "strict_1_1")


# a built-in backend, and the namespace whose own functions it must bind
WITH_A_LIBRARY = {
    "numpy": (lambda monkeypatch: backends.get("numpy"), lambda: np),
    "generic-array_api_strict": (_strict_backend, lambda: importlib.import_module(
        "array_api_strict")),
    "dask": (_dask_backend, lambda: importlib.import_module("dask.array")),
    "cupy-code-on-numpy": (_cupy_code_on_numpy, lambda: sys.modules["cupy"]),
}


@pytest.mark.parametrize("which", sorted(WITH_A_LIBRARY))
def test_builtin_backends_bind_their_library_log1p_and_expm1(which, monkeypatch):
    make, namespace = WITH_A_LIBRARY[which]
    bk = make(monkeypatch)
    xp = namespace()
    tiny = [1e-12, -3e-9, 0.5, 2.0]  # where 1 + x rounds, the library's own keeps the digits
    for name, exact in (("log1p", np.log1p), ("expm1", np.expm1)):
        assert getattr(bk, name) is getattr(xp, name), name
        out = bk.to_host(getattr(bk, name)(bk.asarray(tiny, pg.float64)))
        np.testing.assert_allclose(out, exact(np.array(tiny)), rtol=1e-14, err_msg=name)


def test_a_backend_without_log1p_and_expm1_falls_back_to_required_kernels():
    bk = _Minimal()  # a backend written for contract 1.0: every required kernel, no log1p
    assert type(bk).log1p is Backend.log1p and type(bk).expm1 is Backend.expm1
    assert missing_primitives(bk) == []
    data = np.array([-0.75, 0.0, 0.5, 3.0])
    np.testing.assert_allclose(bk.log1p(data), np.log1p(data), rtol=1e-14)
    np.testing.assert_allclose(bk.expm1(data), np.expm1(data), rtol=1e-14)
    # through the whole contract: a float32 tensor's data on the minimal backend
    x = pg.tensor([0.25, 1.0], backend=bk)
    np.testing.assert_allclose(bk.expm1(x.array), np.expm1([0.25, 1.0]), rtol=1e-6)


@pytest.mark.parametrize("which", ["numpy", "fallback"])
def test_the_nonzero_and_count_nonzero_kernels(which):
    # contract 2.1: NumPy's argwhere and count_nonzero, and Backend's fallbacks, agree
    bk = backends.get("numpy") if which == "numpy" else _Minimal()
    if which == "fallback":
        assert type(bk).nonzero is Backend.nonzero
        assert type(bk).count_nonzero is Backend.count_nonzero
    rng = np.random.default_rng(3)
    for a in (rng.random((3, 4, 2)) < 0.4, np.zeros((2, 3), bool), np.ones((0, 3), bool),
              np.array(True), np.array(False), np.array([False, True, True])):
        got = bk.nonzero(a, pg.int64)
        assert got.dtype == np.int64 and got.shape == (int(a.sum()), a.ndim)
        np.testing.assert_array_equal(got, np.argwhere(a))
    x = np.array([[0.0, -0.0, np.nan], [2.0, 0.0, -1.5]])
    for axis, want in ((None, 3), ((0,), [1, 0, 2]), ((1,), [1, 2]), ((0, 1), 3)):
        got = np.asarray(bk.count_nonzero(x, axis, pg.int64))
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("which", ["numpy", "fallback"])
def test_the_clip_kernel(which):
    # contract 2.1: hi wins where lo > hi, NaN stays NaN, a None bound is no bound
    bk = backends.get("numpy") if which == "numpy" else _Minimal()
    x = np.array([-3.0, -0.5, 0.25, 2.0, np.nan], dtype=np.float32)
    for lo, hi, want in ((-1.0, 1.0, [-1.0, -0.5, 0.25, 1.0, np.nan]),
                         (None, 0.0, [-3.0, -0.5, 0.0, 0.0, np.nan]),
                         (0.0, None, [0.0, 0.0, 0.25, 2.0, np.nan]),
                         (1.0, -1.0, [-1.0] * 4 + [np.nan]),
                         (np.float32([0.0] * 5), np.float32([1.0, 1.0, 0.1, 1.0, 1.0]),
                          [0.0, 0.0, 0.1, 1.0, np.nan])):
        got = bk.clip(x, lo, hi)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, np.array(want, np.float32))


def test_the_linear_algebra_kernels_of_each_backend(other):
    # contract 1.5: batched, numpy.linalg's values; ValueError for a singular matrix
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    b = rng.standard_normal((2, 3, 2))
    A, B = other.from_host(a, pg.float64), other.from_host(b, pg.float64)

    def host(x):
        return other.to_host(x)
    np.testing.assert_allclose(host(other.inv(A)), np.linalg.inv(a), rtol=1e-12)
    np.testing.assert_allclose(host(other.solve(A, B)), np.linalg.solve(a, b), rtol=1e-12)
    np.testing.assert_allclose(host(other.det(A)), np.linalg.det(a), rtol=1e-12)
    sign, logabs = other.slogdet(A)
    np.testing.assert_allclose(host(sign) * np.exp(host(logabs)), np.linalg.det(a), rtol=1e-12)
    spd = a @ np.swapaxes(a, -1, -2)
    np.testing.assert_allclose(host(other.cholesky(other.from_host(spd, pg.float64))),
                               np.linalg.cholesky(spd), rtol=1e-12)
    q, r = other.qr(A, "reduced")
    np.testing.assert_allclose(host(q) @ host(r), a, atol=1e-12)
    u, s, vh = other.svd(A, False)
    np.testing.assert_allclose((host(u) * host(s)[..., None, :]) @ host(vh), a, atol=1e-12)
    w, v = other.eigh(other.from_host(spd, pg.float64))
    np.testing.assert_allclose(host(w), np.linalg.eigvalsh(spd), rtol=1e-12)
    with pytest.raises(ValueError):
        host(other.inv(other.from_host(np.zeros((2, 2)), pg.float64)))


def test_a_backend_without_linear_algebra_kernels_says_which_it_lacks():
    bk = _Minimal()
    for name, args in (("inv", (None,)), ("solve", (None, None)), ("qr", (None, "reduced")),
                       ("svd", (None, False)), ("eigh", (None,)), ("cholesky", (None,)),
                       ("slogdet", (None,)), ("det", (None,))):
        with pytest.raises(NotImplementedError, match="slogdet" if name == "det" else name):
            getattr(bk, name)(*args)
    x = pg.tensor([[2.0, 0.0], [0.0, 1.0]], backend=bk)
    with pytest.raises(NotImplementedError, match="'inv'"):
        pg.linalg.inv(x)


def test_the_contract_version_and_the_docs_agree():
    major, minor = CONTRACT_VERSION
    assert type(major) is int and type(minor) is int
    text = (ROOT / "docs" / "writing-a-backend.md").read_text()
    assert "CONTRACT_VERSION" in text and f"{major}.{minor}" in text


# -- CuPy ------------------------------------------------------------------------------------
def test_cupy_is_listed_with_the_reason_it_is_not_available():
    row = next(r for r in backends.status() if r.name == "cupy")
    if row.status == "ready":
        assert backends.get("cupy").name == "cupy"
    else:
        assert row.reason and "cupy" in str(row)
        with pytest.raises(BackendUnavailable, match="not available") as err:
            pg.zeros(2, backend="cupy")
        assert isinstance(err.value, RuntimeError) and "numpy" in str(err.value)


def test_make_cupy_without_cupy_is_unavailable(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy raises ImportError
    with pytest.raises(BackendUnavailable, match=r"pip install 'plugrad\[cupy\]'"):
        builtin.make_cupy()


def test_make_cupy_without_a_device_is_unavailable(monkeypatch):
    fake_cupy(monkeypatch, devices=0)
    with pytest.raises(BackendUnavailable, match="no CUDA device found"):
        builtin.make_cupy()
    fake_cupy(monkeypatch, device_error=RuntimeError("CUDA driver version is insufficient"),
              driver=11020)
    with pytest.raises(BackendUnavailable, match=r"driver version.*supports CUDA 11\.2") as err:
        builtin.make_cupy()
    assert err.value.version == "cupy 0.0+fake"


def test_cupy_without_a_driver_says_so_instead_of_insufficient_driver(monkeypatch):
    # CUDA reports "driver version is insufficient" when there is no driver at all
    fake_cupy(monkeypatch, device_error=RuntimeError("CUDA driver version is insufficient"),
              driver=0)
    with pytest.raises(BackendUnavailable, match="no NVIDIA driver") as err:
        builtin.make_cupy()
    assert "insufficient" not in str(err.value)


def test_an_unavailable_installed_library_shows_its_version(monkeypatch):
    from plugrad.backends.registry import Registry
    fake_cupy(monkeypatch, devices=0)
    row = next(r for r in Registry({}, path=[]).status() if r.name == "cupy")
    assert row.status != "ready" and row.version == "cupy 0.0+fake"


def test_cupy_backend_uses_its_own_scatter_add(monkeypatch):
    calls = []
    fake_cupy(monkeypatch)
    sys.modules["cupyx"].scatter_add = lambda *a: (calls.append(a), np.add.at(*a))
    bk = builtin.make_cupy()
    x = pg.tensor([1.0, 2.0, 3.0], backend=bk, requires_grad=True)
    x[pg.tensor([0, 0, 2], backend=bk)].sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 1.0] and calls


def test_importing_the_cupy_backend_module_is_deferred():
    done = subprocess.run([sys.executable, "-c",
                           "import sys, plugrad as pg; pg.zeros(1); pg.backends.available(); "
                           "print('plugrad.backends.cupy_backend' in sys.modules, "
                           "'plugrad.backends.numpy_backend' in sys.modules)"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    ready = "cupy" in backends.available()
    assert done.stdout.split() == [str(ready), "True"]


# -- choosing a backend ----------------------------------------------------------------------
def test_available_lists_ready_names_and_why_the_others_are_not():
    names = backends.available()
    assert "numpy" in names and all(isinstance(n, str) for n in names)
    for name, why in names.unavailable.items():
        assert name not in names and why
        assert name in repr(names) and why in repr(names)


def test_status_rows_have_name_version_package_and_status():
    numpy_row = backends.status()[0]
    assert (numpy_row.name, numpy_row.status) == ("numpy", "ready")
    assert numpy_row.version == np.__version__
    assert numpy_row.package == f"plugrad {pg.__version__}"


def test_an_unknown_backend_lists_what_is_available():
    before = backends.default()
    with pytest.raises(RuntimeError, match=r"unknown backend 'nope'; available: numpy"):
        pg.ones(1, backend="nope")
    with pytest.raises(RuntimeError, match="unknown backend"):
        backends.set_default_backend("nope")
    assert backends.default() is before


def test_backend_argument_must_be_a_name_or_a_backend():
    with pytest.raises(TypeError, match="backend name"):
        pg.zeros(1, backend=3)


def test_every_creation_function_takes_backend(other):
    x = pg.tensor([1.0, 2.0], backend=other)
    made = [pg.tensor([1], backend=other), pg.as_tensor([1.0], backend=other),
            pg.zeros(2, backend=other), pg.ones(2, backend=other),
            pg.full((2,), 3.0, backend=other), pg.empty(2, backend=other),
            pg.arange(3, backend=other),
            pg.linspace(0, 1, 3, backend=other), pg.eye(2, backend=other),
            pg.rand(2, backend=other), pg.randn(2, backend=other),
            pg.randint(3, (2,), backend=other), pg.zeros_like(x), pg.ones_like(x),
            pg.full_like(x, 2), pg.empty_like(x), pg.rand_like(x), pg.randn_like(x),
            pg.randint_like(x, 5)]
    assert all(t.backend is other for t in made)


def test_set_default_backend_and_the_context_manager(other):
    before = backends.default()
    with backends.default_backend(other) as bk:
        assert bk is other and pg.zeros(1).backend is other
        with backends.default_backend("numpy"):
            assert pg.zeros(1).backend.name == "numpy"
        assert pg.zeros(1).backend is other
    assert backends.default() is before
    with pytest.raises(ValueError):
        with backends.default_backend(other):
            raise ValueError("restored even so")
    assert backends.default() is before
    backends.set_default_backend(other)
    try:
        assert pg.ones(2).backend is other
    finally:
        backends.set_default_backend(before)


@pytest.mark.parametrize("value, ok", [("numpy", True), ("nope", False)])
def test_plugrad_backend_environment_variable(value, ok):
    code = "import plugrad as pg; print(pg.zeros(1).backend.name)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env={**_env(), "PLUGRAD_BACKEND": value})
    if ok:
        assert done.returncode == 0 and done.stdout.strip() == value, done.stderr
    else:
        assert done.returncode != 0
        assert "PLUGRAD_BACKEND=nope: unknown backend 'nope'; available: numpy" in done.stderr


def _env():
    import os
    return {k: v for k, v in os.environ.items() if not k.startswith("PLUGRAD_")}


# -- moving between backends -------------------------------------------------------------------
def test_to_moves_data_and_the_gradient_flows_back(other):
    x = pg.tensor([1.0, -2.0, 3.0], backend="numpy", requires_grad=True)
    y = x.to(other)
    assert y.backend is other and y.grad_fn.name() == "ToCopyBackward0"
    assert y.tolist() == [1.0, -2.0, 3.0] and y.dtype is pg.float32
    (y * y).sum().backward()
    assert x.grad.backend is x.backend and x.grad.tolist() == [2.0, -4.0, 6.0]


def test_to_and_back_and_second_derivatives(other):
    x = pg.tensor([1.0, 2.0], dtype=pg.float64, backend="numpy", requires_grad=True)
    y = (x.to(other) ** 3).to("numpy").sum()
    (g,) = pg.autograd.grad(y, (x,), create_graph=True)
    assert g.backend is x.backend and g.tolist() == [3.0, 12.0]
    g.sum().backward()
    assert x.grad.tolist() == [6.0, 12.0]


def test_to_forms(other):
    x = pg.tensor([1.0, 2.0], backend="numpy")
    assert x.to("numpy") is x and x.to(backend="numpy") is x
    y = x.to(other, pg.float64)
    assert (y.backend, y.dtype) == (other, pg.float64)
    assert x.to(y).backend is other and x.to(y).dtype is pg.float64
    assert x.to(dtype=pg.float64, backend=other).backend is other
    c = x.to("numpy", copy=True)
    assert c is not x and c.tolist() == x.tolist()
    with pg.no_grad():
        assert x.requires_grad_().to(other).grad_fn is None
    # the data is copied: writing into the original does not change the moved tensor
    z = pg.tensor([5.0], backend="numpy").to(other)
    with pg.no_grad():
        src = z.to("numpy")
        src.fill_(0.0)
    assert z.tolist() == [5.0]


def test_to_an_unknown_backend_raises():
    with pytest.raises(RuntimeError, match="unknown backend 'nope'"):
        pg.tensor([1.0]).to("nope")


def test_ops_mixing_backends_raise_naming_both(other):
    a, b = pg.ones(2, backend="numpy"), pg.ones(2, backend=other)
    name = other.name
    for op in (lambda: a + b, lambda: a * b, lambda: pg.maximum(a, b), lambda: a @ b,
               lambda: pg.cat([a, b]), lambda: pg.where(a > 0, a, b), lambda: a.clamp(b, None),
               lambda: a[pg.tensor([0], backend=other)]):
        with pytest.raises(RuntimeError, match=rf"'numpy'.*'{name}'|'{name}'.*'numpy'"):
            op()


def test_grad_on_another_backend_is_refused(other):
    x = pg.ones(2, backend="numpy", requires_grad=True)
    with pytest.raises(RuntimeError, match="backend"):
        x.grad = pg.ones(2, backend=other)
    y = x.sum()
    with pytest.raises(RuntimeError, match="backend"):
        y.backward(pg.tensor(1.0, backend=other))


# -- the command -------------------------------------------------------------------------------
def test_plugrad_backends_prints_the_table(capsys):
    assert main(["backends"]) == 0
    out = capsys.readouterr().out
    header, first = out.splitlines()[:2]
    assert header.split() == ["name", "version", "package", "status"]
    assert first.split()[:4] == ["numpy", np.__version__, "plugrad", pg.__version__]
    assert first.rstrip().endswith("ready")
    assert "cupy" in out and f"default: {backends.default().name}" in out


def test_python_dash_m_plugrad_backends():
    done = subprocess.run([sys.executable, "-m", "plugrad", "backends"], capture_output=True,
                          text=True, timeout=60, env=_env())
    assert done.returncode == 0, done.stderr
    assert "numpy" in done.stdout and "ready" in done.stdout


def test_the_builtin_module_imports_no_array_library():
    source = importlib.util.find_spec("plugrad.backends.builtin").origin
    text = open(source).read()
    assert "\nimport numpy" not in text and "\nimport cupy" not in text


# -- contract 1.2: elementwise math kernels, optional: fallbacks on the required kernels ---------
def test_contract_1_2_fallbacks_agree_with_numpy():
    bk = _Minimal()  # a backend written before 1.2: the new kernels come from Backend
    rng = np.random.default_rng(0)
    for dt in (np.float16, np.float32, np.float64):
        x = rng.uniform(-50, 50, 1000).astype(dt)
        x[:8] = [0.5, 1.5, 2.5, -0.5, -2.5, np.inf, -np.inf, np.nan]
        for name in ("round", "floor", "ceil", "trunc"):  # exact, NaN and inf kept
            np.testing.assert_array_equal(getattr(bk, name)(x), getattr(np, name)(x),
                                          err_msg=f"{name} {dt.__name__}")
        for name in ("isnan", "isinf", "isfinite"):
            np.testing.assert_array_equal(getattr(bk, name)(x), getattr(np, name)(x))
    x, y = rng.uniform(-5, 5, 200), rng.uniform(0.5, 2, 200) * rng.choice([-1, 1], 200)
    for name in ("log2", "log10"):
        np.testing.assert_allclose(getattr(bk, name)(np.abs(x)), getattr(np, name)(np.abs(x)),
                                   rtol=1e-14)
    for name in ("sinh", "cosh", "tan"):
        np.testing.assert_allclose(getattr(bk, name)(x), getattr(np, name)(x), rtol=1e-12)
    for name in ("hypot", "fmod", "remainder"):
        np.testing.assert_allclose(getattr(bk, name)(x, y), getattr(np, name)(x, y),
                                   rtol=1e-12, atol=1e-14)
    ints = np.array([5, -7, 7, -5, 0]), np.array([3, 3, -3, -3, 2])
    np.testing.assert_array_equal(bk.fmod(*ints), np.fmod(*ints))  # integers too
    for name in ("asin", "acos", "atan", "erf", "erfinv"):
        with pytest.raises(NotImplementedError, match=f"'minimal' has no '{name}'"):
            getattr(bk, name)(x)
    with pytest.raises(NotImplementedError, match="'atan2'"):
        bk.atan2(x, y)


@pytest.mark.parametrize("scipy", [True, False], ids=["scipy", "no-scipy"])
def test_numpy_erf_is_the_c_librarys_with_or_without_scipy(monkeypatch, scipy):
    import math

    from plugrad.backends import numpy_backend
    if scipy:
        pytest.importorskip("scipy.special")
        monkeypatch.setattr(numpy_backend, "_VECTOR_ERF", [])
    else:
        monkeypatch.setattr(numpy_backend, "_VECTOR_ERF", [(None, None)])
    x = np.concatenate([np.linspace(-6, 6, 101), [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-300]])
    got = numpy_backend.erf(x)
    expected = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(got, expected, rtol=4e-16, atol=0)
    assert numpy_backend.erf(x.astype(np.float32)).dtype == np.float32
    # tiny and 0-d arrays take the same path and stay arrays of their dtype
    for a in (x[:5], x[:5].reshape(5, 1).astype(np.float32), np.asarray(x[3])):
        out = numpy_backend.erf(a)
        assert type(out) is np.ndarray and out.dtype == a.dtype and out.shape == a.shape
        np.testing.assert_allclose(out, np.array([math.erf(v) for v in a.ravel()],
                                                 dtype=a.dtype).reshape(a.shape), rtol=1e-6)
    y = np.array([-1.0, -0.999999, -0.5, 0.0, 1e-300, 0.3, 0.9, 1.0, 1.5, np.nan])
    for a in (y, y[:3].astype(np.float32), np.asarray(y[4]), np.tile(y, 10)):
        out = numpy_backend.erfinv(a)
        assert type(out) is np.ndarray and out.dtype == a.dtype and out.shape == a.shape
        back = np.array([math.erf(v) for v in np.asarray(out, np.float64).ravel()])
        want = np.asarray(a, np.float64).ravel()
        inside = np.abs(want) < 1
        np.testing.assert_allclose(back[inside], want[inside],
                                   rtol=1e-6 if a.dtype == np.float32 else 1e-14, atol=1e-300)
        np.testing.assert_array_equal(np.asarray(out, np.float64).ravel()[~inside],
                                      np.where(np.isnan(want[~inside]), np.nan,
                                               np.where(np.abs(want[~inside]) == 1,
                                                        np.sign(want[~inside]) * np.inf,
                                                        np.nan)))
