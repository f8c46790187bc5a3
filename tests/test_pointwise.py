"""Tests for plugrad's elementwise ops (core/pointwise.py).

Gradients are checked against central finite differences in float64
(tests/helpers.py); forward values against NumPy; result dtypes against torch's
promotion rules, hard-coded. An optional differential test compares with torch
when it is installed.
"""
from __future__ import annotations

import operator

import numpy as np
import plugrad as pg
import pytest
from helpers import as_numpy, check_grads, check_second_grads

NP_DTYPE = {pg.float32: np.float32, pg.float64: np.float64}
OPERATORS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
             "**": operator.pow}


def values(shape, kind="any", seed=0):
    """float64 test data: "any" (normal), "pos" (in [0.5, 2]) or "nonzero" (|v| in [0.2, 2])."""
    rng = np.random.default_rng(seed)
    if kind == "any":
        return rng.standard_normal(shape)
    magnitude = rng.uniform(0.5 if kind == "pos" else 0.2, 2.0, shape)
    if kind == "pos":
        return magnitude
    return magnitude * rng.choice([-1.0, 1.0], shape)


def leaf(data, dtype=pg.float64):
    return pg.tensor(np.asarray(data, dtype=np.float64), dtype=dtype, requires_grad=True)


def cond_for(shape, seed=3):
    """A fixed bool mask with both values present (for where)."""
    mask = np.random.default_rng(seed).random(shape) > 0.5
    if mask.size > 1:
        mask.flat[0], mask.flat[1] = True, False
    return pg.tensor(mask)


# -- first derivatives --------------------------------------------------------------
UNARY = {
    "neg": (lambda x: -x, "any"),
    "neg_fn": (pg.neg, "any"),
    "abs": (pg.abs, "nonzero"),
    "abs_dunder": (lambda x: abs(x), "nonzero"),
    "exp": (pg.exp, "any"),
    "log": (pg.log, "pos"),
    "sqrt": (pg.sqrt, "pos"),
    "sin": (pg.sin, "any"),
    "cos": (pg.cos, "any"),
    "tanh": (pg.tanh, "any"),
    "sigmoid": (pg.sigmoid, "any"),
    "relu": (pg.relu, "nonzero"),
    "square": (pg.square, "any"),
    "clone": (pg.clone, "any"),
    "clone_method": (lambda x: x.clone(), "any"),
    "clamp_min": (lambda x: pg.clamp(x, min=0.1), "nonzero"),
    "clamp_max": (lambda x: pg.clamp(x, max=-0.1), "nonzero"),
    "clamp_both": (lambda x: pg.clamp(x, -0.1, 0.1), "nonzero"),
    "clip": (lambda x: pg.clip(x, -0.1, 0.1), "nonzero"),
    "sign": (pg.sign, "nonzero"),
}


@pytest.mark.parametrize("shape", [(), (1,), (5,), (2, 3)], ids=str)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradient_matches_finite_differences(name, shape):
    fn, kind = UNARY[name]
    check_grads(fn, values(shape, kind))


BINARY = {
    "add": (lambda a, b: a + b, ("any", "any")),
    "add_fn": (pg.add, ("any", "any")),
    "add_alpha": (lambda a, b: pg.add(a, b, alpha=2.5), ("any", "any")),
    "sub": (lambda a, b: a - b, ("any", "any")),
    "sub_alpha": (lambda a, b: pg.sub(a, b, alpha=-3), ("any", "any")),
    "mul": (lambda a, b: a * b, ("any", "any")),
    "div": (lambda a, b: a / b, ("any", "nonzero")),
    "true_divide": (pg.true_divide, ("any", "nonzero")),
    "pow": (lambda a, b: a ** b, ("pos", "any")),
    "pow_fn": (pg.pow, ("pos", "any")),
    "maximum": (pg.maximum, ("any", "any")),
    "minimum": (pg.minimum, ("any", "any")),
    "where": (lambda a, b: pg.where(cond_for(np.broadcast_shapes(a.shape, b.shape)), a, b),
              ("any", "any")),
    "clamp_tensor_bounds": (lambda x, lo: pg.clamp(x, lo, lo + 1.0), ("any", "any")),
    "clamp_tensor_min": (lambda x, lo: pg.clamp(x, min=lo), ("any", "any")),
    "clamp_tensor_max": (lambda x, hi: pg.clamp(x, max=hi), ("any", "any")),
}

BROADCAST_PAIRS = [
    ((3, 4), (3, 4)),
    ((3, 1), (4,)),
    ((4,), (3, 1)),
    ((2, 3), ()),
    ((), (2, 3)),
    ((), ()),
    ((1,), (2, 3)),
    ((2, 1, 3), (4, 1)),
    ((), (1,)),
]


@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradient_sums_back_to_each_input_shape(name, shapes):
    fn, kinds = BINARY[name]
    check_grads(fn, values(shapes[0], kinds[0], seed=1), values(shapes[1], kinds[1], seed=2))


SCALAR_OPERAND = {
    "x + 2.5": (lambda x: x + 2.5, "any"),
    "2.5 + x": (lambda x: 2.5 + x, "any"),
    "x - 3": (lambda x: x - 3, "any"),
    "3 - x": (lambda x: 3 - x, "any"),
    "x * -1.5": (lambda x: x * -1.5, "any"),
    "-1.5 * x": (lambda x: -1.5 * x, "any"),
    "x / 4": (lambda x: x / 4, "any"),
    "4 / x": (lambda x: 4 / x, "nonzero"),
    "x ** 3": (lambda x: x ** 3, "any"),
    "x ** -2": (lambda x: x ** -2, "nonzero"),
    "x ** 0.5": (lambda x: x ** 0.5, "pos"),
    "x ** 0": (lambda x: x ** 0, "any"),
    "2.0 ** x": (lambda x: 2.0 ** x, "any"),
    "3 ** x": (lambda x: 3 ** x, "any"),
    "pow(x, 1.5)": (lambda x: pg.pow(x, 1.5), "pos"),
    "pow(0.5, x)": (lambda x: pg.pow(0.5, x), "any"),
    "add(x, 2, alpha=3)": (lambda x: pg.add(x, 2, alpha=3), "any"),
    "where(c, x, 0.0)": (lambda x: pg.where(cond_for(x.shape), x, 0.0), "any"),
    "where(c, 1, x)": (lambda x: pg.where(cond_for(x.shape), 1, x), "any"),
    "x + True": (lambda x: x + True, "any"),
    "x * np.float64(2)": (lambda x: x * np.float64(2.0), "any"),
}


@pytest.mark.parametrize("shape", [(), (2, 3)], ids=str)
@pytest.mark.parametrize("name", sorted(SCALAR_OPERAND))
def test_python_scalar_operand_gradient(name, shape):
    fn, kind = SCALAR_OPERAND[name]
    check_grads(fn, values(shape, kind))


def test_to_dtype_gradient_comes_back_in_the_input_dtype():
    x = leaf([1.0, -2.0, 3.0], dtype=pg.float32)
    y = x.to(pg.float64)
    y.backward(pg.tensor([0.5, 2.0, -1.0], dtype=pg.float64))
    assert x.grad.dtype is pg.float32
    np.testing.assert_array_equal(as_numpy(x.grad), np.array([0.5, 2.0, -1.0], np.float32))


def test_cast_round_trip_gradient_matches_finite_differences():
    check_grads(lambda x: x.to(pg.float32).to(pg.float64) * 0 + x.double() * x, values((3,)))


def test_a_tensor_used_twice_gets_both_gradients():
    check_grads(lambda x: x * x + pg.sin(x) * x - x / (x * x + 1), values((4,)))


# -- second derivatives ---------------------------------------------------------------
SECOND_UNARY = {
    "exp": (pg.exp, "any"),
    "log": (pg.log, "pos"),
    "sqrt": (pg.sqrt, "pos"),
    "sin": (pg.sin, "any"),
    "cos": (pg.cos, "any"),
    "tanh": (pg.tanh, "any"),
    "sigmoid": (pg.sigmoid, "any"),
    "square": (pg.square, "any"),
    "x ** 3": (lambda x: x ** 3, "any"),
    "x ** -1.5": (lambda x: x ** -1.5, "pos"),
    "2.0 ** x": (lambda x: 2.0 ** x, "any"),
    "1 / x": (lambda x: 1 / x, "nonzero"),
    "relu(x) * x": (lambda x: pg.relu(x) * x, "nonzero"),
    "abs(x) * x": (lambda x: pg.abs(x) * x, "nonzero"),
    "clamp(x) ** 2": (lambda x: pg.clamp(x, -0.5, 0.5) ** 2, "nonzero"),
    "neg(x) * x": (lambda x: -x * x, "any"),
    "clone(x) * x": (lambda x: pg.clone(x) * x, "any"),
}


@pytest.mark.parametrize("name", sorted(SECOND_UNARY))
def test_unary_second_derivative(name):
    fn, kind = SECOND_UNARY[name]
    check_second_grads(fn, values((2, 3), kind))


SECOND_BINARY = {
    "mul": (lambda a, b: a * b, ("any", "any")),
    "div": (lambda a, b: a / b, ("any", "nonzero")),
    "pow": (lambda a, b: a ** b, ("pos", "any")),
    "add then mul": (lambda a, b: (a + b) * (a - b), ("any", "any")),
    "maximum * a": (lambda a, b: pg.maximum(a, b) * a, ("any", "any")),
    "minimum * b": (lambda a, b: pg.minimum(a, b) * b, ("any", "any")),
    "where of products": (lambda a, b: pg.where(cond_for(np.broadcast_shapes(a.shape, b.shape)),
                                                a * b, b * b), ("any", "any")),
    "tanh(a * b)": (lambda a, b: pg.tanh(a * b), ("any", "any")),
    "sigmoid(a) * exp(b)": (lambda a, b: pg.sigmoid(a) * pg.exp(b), ("any", "any")),
}


@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((3, 1), (4,)), ((2, 3), ())], ids=str)
@pytest.mark.parametrize("name", sorted(SECOND_BINARY))
def test_binary_second_derivative(name, shapes):
    fn, kinds = SECOND_BINARY[name]
    check_second_grads(fn, values(shapes[0], kinds[0], seed=4), values(shapes[1], kinds[1], seed=5))


# -- forward values against NumPy ----------------------------------------------------------
FORWARD_UNARY = {
    "neg": (pg.neg, np.negative, "any"),
    "abs": (pg.abs, np.abs, "any"),
    "exp": (pg.exp, np.exp, "any"),
    "log": (pg.log, np.log, "pos"),
    "sqrt": (pg.sqrt, np.sqrt, "pos"),
    "sin": (pg.sin, np.sin, "any"),
    "cos": (pg.cos, np.cos, "any"),
    "tanh": (pg.tanh, np.tanh, "any"),
    "sigmoid": (pg.sigmoid, lambda a: 1 / (1 + np.exp(-a)), "any"),
    "relu": (pg.relu, lambda a: np.maximum(a, 0), "any"),
    "sign": (pg.sign, np.sign, "any"),
    "square": (pg.square, np.square, "any"),
    "clone": (pg.clone, np.copy, "any"),
    "clamp": (lambda x: pg.clamp(x, -0.3, 0.6), lambda a: np.clip(a, -0.3, 0.6), "any"),
}


@pytest.mark.parametrize("dtype", [pg.float32, pg.float64], ids=str)
@pytest.mark.parametrize("name", sorted(FORWARD_UNARY))
def test_unary_forward_matches_numpy(name, dtype):
    fn, ref, kind = FORWARD_UNARY[name]
    data = values((3, 4), kind).astype(NP_DTYPE[dtype])
    out = fn(pg.tensor(data))
    assert out.dtype is dtype
    want = ref(data)
    assert as_numpy(out).dtype == want.dtype
    np.testing.assert_allclose(as_numpy(out), want, rtol=2e-6 if dtype is pg.float32 else 1e-14)


FORWARD_BINARY = {
    "add": (pg.add, np.add, "any"),
    "sub": (pg.sub, np.subtract, "any"),
    "mul": (pg.mul, np.multiply, "any"),
    "div": (pg.div, np.divide, "nonzero"),
    "pow": (pg.pow, np.power, "pos"),
    "maximum": (pg.maximum, np.maximum, "any"),
    "minimum": (pg.minimum, np.minimum, "any"),
    "eq": (pg.eq, np.equal, "any"),
    "lt": (pg.lt, np.less, "any"),
    "ge": (pg.ge, np.greater_equal, "any"),
}


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 1), (4,)), ((), (2, 3))], ids=str)
@pytest.mark.parametrize("dtype", [pg.float32, pg.float64], ids=str)
@pytest.mark.parametrize("name", sorted(FORWARD_BINARY))
def test_binary_forward_matches_numpy(name, dtype, shapes):
    fn, ref, kind = FORWARD_BINARY[name]
    a = values(shapes[0], "pos" if name == "pow" else "any", seed=6).astype(NP_DTYPE[dtype])
    b = values(shapes[1], kind, seed=7).astype(NP_DTYPE[dtype])
    if name in ("eq", "ge"):
        b = np.broadcast_to(b, np.broadcast_shapes(a.shape, b.shape)).copy()
        a = np.broadcast_to(a, b.shape).copy()
        a.flat[0] = b.flat[0]  # one tie, so eq/ge see both outcomes
    out = fn(pg.tensor(a), pg.tensor(b))
    want = ref(a, b)
    assert tuple(out.shape) == want.shape
    assert as_numpy(out).dtype == want.dtype
    np.testing.assert_allclose(as_numpy(out), want, rtol=2e-6 if dtype is pg.float32 else 1e-14)


def test_where_forward_picks_elementwise():
    cond = pg.tensor([[True, False, True]])
    out = pg.where(cond, pg.tensor([[1.0], [2.0]]), pg.tensor([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(as_numpy(out), [[1.0, 20.0, 1.0], [2.0, 20.0, 2.0]])


def test_clamp_with_tensor_bounds_broadcasts_like_torch():
    out = pg.clamp(pg.tensor([1.0, 2.0, 3.0]), min=pg.tensor([[0.0, 5.0, 1.0]]))
    assert tuple(out.shape) == (1, 3)
    np.testing.assert_array_equal(as_numpy(out), [[1.0, 5.0, 3.0]])


def test_clamp_with_min_above_max_gives_max():
    out = pg.clamp(pg.tensor([0.0, 5.0]), min=2.0, max=1.0)
    np.testing.assert_array_equal(as_numpy(out), [1.0, 1.0])


def test_logical_ops():
    a = pg.tensor([True, True, False, False])
    b = pg.tensor([True, False, True, False])
    np.testing.assert_array_equal(as_numpy(a & b), [True, False, False, False])
    np.testing.assert_array_equal(as_numpy(a | b), [True, True, True, False])
    np.testing.assert_array_equal(as_numpy(~a), [False, False, True, True])


# -- result dtypes (torch's promotion, hard-coded) ------------------------------------------------
def t(data, dtype):
    return pg.tensor(data, dtype=dtype)


PROMOTION = [
    ("int64 * 2.5", lambda: t([1, 2], pg.int64) * 2.5, pg.float32),
    ("2.5 * int64", lambda: 2.5 * t([1, 2], pg.int64), pg.float32),
    ("int32 + 5", lambda: t([1, 2], pg.int32) + 5, pg.int32),
    ("5 - int32", lambda: 5 - t([1, 2], pg.int32), pg.int32),
    ("int32 0-d + 5", lambda: t(1, pg.int32) + 5, pg.int32),
    ("bool + 1", lambda: t([True], pg.bool) + 1, pg.int64),
    ("bool + True", lambda: t([True], pg.bool) + True, pg.bool),
    ("bool * 1.5", lambda: t([True], pg.bool) * 1.5, pg.float32),
    ("float16 + 2.5", lambda: t([1.0], pg.float16) + 2.5, pg.float16),
    ("float16 * 3", lambda: t([1.0], pg.float16) * 3, pg.float16),
    ("float32 + 2.5", lambda: t([1.0], pg.float32) + 2.5, pg.float32),
    ("float32 * 1e300", lambda: t([1.0], pg.float32) * 1e300, pg.float32),
    ("float32 ** 2", lambda: t([1.0], pg.float32) ** 2, pg.float32),
    ("2.5 ** float32", lambda: 2.5 ** t([1.0], pg.float32), pg.float32),
    ("float32 / 3", lambda: t([1.0], pg.float32) / 3, pg.float32),
    ("int / int", lambda: t([1, 2], pg.int64) / t([2, 2], pg.int64), pg.float32),
    ("int / 2", lambda: t([1, 2], pg.int64) / 2, pg.float32),
    ("2 / int32", lambda: 2 / t([1, 2], pg.int32), pg.float32),
    ("bool / bool", lambda: t([True], pg.bool) / t([True], pg.bool), pg.float32),
    ("int64 / float16", lambda: t([1], pg.int64) / t([2.0], pg.float16), pg.float16),
    ("int64 / float64 0-d", lambda: t([1], pg.int64) / t(2.0, pg.float64), pg.float64),
    ("float32 + float64", lambda: t([1.0], pg.float32) + t([1.0], pg.float64), pg.float64),
    ("float16 * float32", lambda: t([1.0], pg.float16) * t([1.0], pg.float32), pg.float32),
    ("float32 dim + float64 0-d", lambda: t([1.0], pg.float32) + t(1.0, pg.float64), pg.float32),
    ("float64 0-d + float32 dim", lambda: t(1.0, pg.float64) + t([1.0], pg.float32), pg.float32),
    ("float32 0-d + float64 0-d", lambda: t(1.0, pg.float32) + t(1.0, pg.float64), pg.float64),
    ("int dim + float64 0-d", lambda: t([1], pg.int64) + t(1.0, pg.float64), pg.float64),
    ("int32 dim + int64 0-d", lambda: t([1], pg.int32) + t(1, pg.int64), pg.int32),
    ("int32 + int64", lambda: t([1], pg.int32) + t([1], pg.int64), pg.int64),
    ("bool dim + int64 0-d", lambda: t([True], pg.bool) + t(1, pg.int64), pg.int64),
    ("int64 ** 2", lambda: t([3], pg.int64) ** 2, pg.int64),
    ("2 ** int64", lambda: 2 ** t([3], pg.int64), pg.int64),
    ("int64 ** 0.5", lambda: t([4], pg.int64) ** 0.5, pg.float32),
    ("exp(int64)", lambda: pg.exp(t([1], pg.int64)), pg.float32),
    ("log(int32)", lambda: pg.log(t([1], pg.int32)), pg.float32),
    ("sqrt(bool)", lambda: pg.sqrt(t([True], pg.bool)), pg.float32),
    ("sigmoid(int64)", lambda: pg.sigmoid(t([1], pg.int64)), pg.float32),
    ("tanh(float16)", lambda: pg.tanh(t([1.0], pg.float16)), pg.float16),
    ("sin(float64)", lambda: pg.sin(t([1.0], pg.float64)), pg.float64),
    ("abs(int32)", lambda: pg.abs(t([-1], pg.int32)), pg.int32),
    ("relu(int64)", lambda: pg.relu(t([-1], pg.int64)), pg.int64),
    ("neg(int32)", lambda: -t([1], pg.int32), pg.int32),
    ("square(int64)", lambda: pg.square(t([3], pg.int64)), pg.int64),
    ("clamp(int64, min=1)", lambda: pg.clamp(t([0, 3], pg.int64), min=1), pg.int64),
    ("clamp(int64, min=0.5)", lambda: pg.clamp(t([0, 3], pg.int64), min=0.5), pg.float32),
    ("clamp(float32, min=float64 dim)",
     lambda: pg.clamp(t([0.0], pg.float32), min=t([1.0], pg.float64)), pg.float64),
    ("clamp(int64, min=float64 0-d)",
     lambda: pg.clamp(t([0], pg.int64), min=t(1.0, pg.float64)), pg.float64),
    ("maximum(int32, float32)", lambda: pg.maximum(t([1], pg.int32), t([1.0], pg.float32)),
     pg.float32),
    ("where(c, int64, 2.5)", lambda: pg.where(t([True], pg.bool), t([1], pg.int64), 2.5),
     pg.float32),
    ("where(c, float16, 2.5)", lambda: pg.where(t([True], pg.bool), t([1.0], pg.float16), 2.5),
     pg.float16),
    ("where(c, float32, float64)",
     lambda: pg.where(t([True], pg.bool), t([1.0], pg.float32), t([1.0], pg.float64)),
     pg.float64),
    ("where(c, 0.5, 0.0)", lambda: pg.where(t([True, False], pg.bool), 0.5, 0.0), pg.float32),
    ("where(c, 1, 0)", lambda: pg.where(t([True, False], pg.bool), 1, 0), pg.int64),
    ("float32 == 0.1", lambda: t([0.1], pg.float32) == 0.1, pg.bool),
    ("int64 < 1.5", lambda: t([1], pg.int64) < 1.5, pg.bool),
    ("float32 >= float64", lambda: t([1.0], pg.float32) >= t([1.0], pg.float64), pg.bool),
    ("float32.to(float64)", lambda: t([1.0], pg.float32).to(pg.float64), pg.float64),
    ("float32.to(int32)", lambda: t([1.5], pg.float32).to(pg.int32), pg.int32),
    ("float32.double()", lambda: t([1.0], pg.float32).double(), pg.float64),
]


@pytest.mark.parametrize("name,make,expected", PROMOTION, ids=[p[0] for p in PROMOTION])
def test_result_dtype_follows_torch_promotion(name, make, expected):
    out = make()
    assert out.dtype is expected
    # the backend's array must really hold that dtype, not just be labelled with it
    assert out.backend.dtype_of(out.array) is expected


SCALAR_CASES = [(op, scalar) for op in ["+", "-", "*", "/", "**", "r+", "r-", "r*", "r/", "r**"]
                for scalar in [2, -3, 2.5, 1e300, True]
                if not (scalar is True and op.endswith("-"))]  # bool subtraction is an error


@pytest.mark.parametrize("op,scalar", SCALAR_CASES, ids=[f"{o}{s!r}" for o, s in SCALAR_CASES])
def test_python_scalar_never_changes_a_float32_tensor_dtype(op, scalar):
    x = pg.tensor([0.5, 1.5])
    if op.startswith("r"):
        out = OPERATORS[op[1:]](scalar, x)
    else:
        out = OPERATORS[op](x, scalar)
    assert out.dtype is pg.float32
    assert as_numpy(out).dtype == np.float32


@pytest.mark.parametrize("scalar", [np.float64(0.25), np.int64(7), np.float32(2.0)], ids=repr)
@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
def test_numpy_scalar_on_the_right_acts_like_a_python_number(op, scalar):
    out = OPERATORS[op](pg.tensor([0.5, 1.5]), scalar)
    assert isinstance(out, pg.Tensor) and out.dtype is pg.float32


def test_comparison_of_float32_with_python_float_is_done_in_float32():
    # torch compares after rounding the scalar to the tensor's dtype
    assert (pg.tensor([0.1]) == 0.1).item() is True


def test_int_to_float_ops_match_torch_values():
    np.testing.assert_allclose(as_numpy(pg.exp(pg.tensor([0, 1]))), np.exp([0.0, 1.0]).astype(
        np.float32))
    np.testing.assert_array_equal(as_numpy(pg.tensor([1, 3]) / 2), np.float32([0.5, 1.5]))


# -- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize("op", [pg.add, pg.sub, pg.mul, pg.div, pg.pow, pg.maximum, pg.minimum,
                                pg.eq, pg.lt], ids=lambda f: f.__name__)
def test_binary_shape_mismatch_raises_runtime_error_naming_both_shapes(op):
    with pytest.raises(RuntimeError) as info:
        op(pg.ones(2, 3), pg.ones(4))
    message = str(info.value)
    assert "[2, 3]" in message and "[4]" in message


def test_broadcast_error_names_the_output_dimension_like_torch():
    with pytest.raises(RuntimeError, match="at non-singleton dimension 2"):
        pg.ones(3, 1, 2) * pg.ones(4, 3)
    with pytest.raises(RuntimeError, match="at non-singleton dimension 1"):
        pg.ones(2, 3) + pg.ones(4)


def test_broadcast_shapes():
    assert pg.broadcast_shapes((3, 1), (4,), ()) == (3, 4)
    with pytest.raises(RuntimeError):
        pg.broadcast_shapes((2,), (3,))


@pytest.mark.parametrize("other", ["a", None, [1.0], object(), 1j], ids=repr)
@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
def test_non_number_operand_raises_type_error(op, other):
    with pytest.raises(TypeError):
        OPERATORS[op](pg.ones(2), other)


@pytest.mark.parametrize("fn", [pg.exp, pg.log, pg.sqrt, pg.sin, pg.cos, pg.tanh, pg.sigmoid,
                                pg.abs, pg.relu, pg.neg, pg.sign, pg.square, pg.clone],
                         ids=lambda f: f.__name__)
def test_unary_op_on_a_python_number_raises_type_error(fn):
    with pytest.raises(TypeError):
        fn(2.0)


def test_ops_need_a_tensor_operand():
    with pytest.raises(TypeError):
        pg.add(1, 2)
    with pytest.raises(TypeError):
        pg.maximum(pg.ones(2), 1.0)


def test_negating_a_bool_tensor_raises_runtime_error():
    with pytest.raises(RuntimeError, match="logical_not"):
        -pg.tensor([True, False])


@pytest.mark.parametrize("make", [
    lambda: pg.tensor([True]) - 1,
    lambda: 1 - pg.tensor([True]),
    lambda: pg.tensor([1.0]) - True,
    lambda: pg.tensor([1, 2]) - pg.tensor([True, False]),
    lambda: pg.sub(pg.tensor([1.0]), pg.tensor(True), alpha=2),
], ids=["bool - 1", "1 - bool", "float - True", "int - bool", "sub alpha"])
def test_subtraction_with_a_bool_operand_raises_runtime_error(make):
    with pytest.raises(RuntimeError, match="logical_not"):
        make()


def test_where_with_non_bool_condition_raises_runtime_error():
    with pytest.raises(RuntimeError, match="boolean"):
        pg.where(pg.tensor([1.0, 0.0]), pg.ones(2), pg.zeros(2))
    with pytest.raises(TypeError):
        pg.where([True, False], pg.ones(2), pg.zeros(2))


def test_clamp_without_bounds_raises_runtime_error():
    with pytest.raises(RuntimeError, match="min"):
        pg.clamp(pg.ones(2))


def test_integer_to_negative_integer_power_raises_runtime_error():
    with pytest.raises(RuntimeError):
        pg.tensor([1, 2]) ** -1


def test_float_alpha_with_integer_tensors_raises_runtime_error():
    with pytest.raises(RuntimeError, match="alpha"):
        pg.add(pg.tensor([1]), pg.tensor([2]), alpha=2.5)


def test_add_with_scalar_and_alpha():
    np.testing.assert_array_equal(as_numpy(pg.add(pg.tensor([1.0, 2.0]), 2, alpha=3)), [7.0, 8.0])
    np.testing.assert_array_equal(as_numpy(pg.sub(pg.tensor([1, 2]), 2, alpha=3)), [-5, -4])


# -- behaviours -----------------------------------------------------------------------------
@pytest.mark.parametrize("op,grad_a,grad_b", [
    (pg.maximum, [0.5, 0.0, 1.0], [0.5, 1.0, 0.0]),
    (pg.minimum, [0.5, 1.0, 0.0], [0.5, 0.0, 1.0]),
], ids=["maximum", "minimum"])
def test_extremum_tie_splits_the_gradient_half_and_half(op, grad_a, grad_b):
    a = leaf([1.0, 2.0, 5.0])
    b = leaf([1.0, 3.0, 4.0])
    op(a, b).sum().backward()
    np.testing.assert_array_equal(as_numpy(a.grad), grad_a)
    np.testing.assert_array_equal(as_numpy(b.grad), grad_b)


def test_extremum_tie_under_broadcast_splits_then_sums():
    a = leaf([[1.0], [2.0]])
    b = leaf([1.0, 2.0, 0.0])
    pg.maximum(a, b).sum().backward()
    # max of [[1], [2]] against [1, 2, 0]: ties at (0, 0) and (1, 1)
    np.testing.assert_array_equal(as_numpy(a.grad), [[1.5], [2.5]])
    np.testing.assert_array_equal(as_numpy(b.grad), [0.5, 1.5, 0.0])


def test_maximum_with_nan_sends_the_gradient_to_both_sides_like_torch():
    a = leaf([np.nan, 2.0])
    b = leaf([1.0, 3.0])
    pg.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(as_numpy(a.grad), [1.0, 0.0])
    np.testing.assert_array_equal(as_numpy(b.grad), [1.0, 1.0])


def test_relu_gradient_at_zero_is_zero():
    x = leaf([-1.0, 0.0, 2.0])
    pg.relu(x).sum().backward()
    np.testing.assert_array_equal(as_numpy(x.grad), [0.0, 0.0, 1.0])


def test_abs_gradient_at_zero_is_zero():
    x = leaf([-1.0, 0.0, 2.0])
    pg.abs(x).sum().backward()
    np.testing.assert_array_equal(as_numpy(x.grad), [-1.0, 0.0, 1.0])


def test_clamp_gradient_passes_at_the_bounds():
    x = leaf([-1.0, 0.0, 0.5, 1.0, 2.0])
    pg.clamp(x, 0.0, 1.0).sum().backward()
    np.testing.assert_array_equal(as_numpy(x.grad), [0.0, 1.0, 1.0, 1.0, 0.0])


def test_clamp_tensor_bounds_gradients_match_torch():
    x = leaf([0.0, 1.0, 2.0, -1.0])
    lo = leaf([0.0, 1.5, 3.0, 0.0])
    hi = leaf([0.5, 2.0, 2.5, -0.5])
    out = pg.clamp(x, lo, hi)
    out.sum().backward()
    np.testing.assert_array_equal(as_numpy(out), [0.0, 1.5, 2.5, -0.5])
    np.testing.assert_array_equal(as_numpy(x.grad), [1.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(as_numpy(lo.grad), [0.0, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(as_numpy(hi.grad), [0.0, 0.0, 1.0, 1.0])


def test_pow_gradients_at_base_zero_are_finite():
    x = leaf([0.0, 1.0, 2.0])
    y = leaf([0.0, 1.0, 2.0])
    (x ** y).sum().backward()
    np.testing.assert_allclose(as_numpy(x.grad), [0.0, 1.0, 4.0])
    np.testing.assert_allclose(as_numpy(y.grad), [0.0, 0.0, 4 * np.log(2.0)])


def test_pow_exponent_gradient_at_scalar_base_zero_is_zero_for_nonnegative_exponents():
    y = leaf([0.0, 1.0, 2.5])
    (0.0 ** y).sum().backward()
    np.testing.assert_array_equal(as_numpy(y.grad), [0.0, 0.0, 0.0])


def test_pow_base_gradient_with_zero_exponent_is_zero():
    x = leaf([0.0, 1.0])
    (x ** 0.0).sum().backward()
    np.testing.assert_array_equal(as_numpy(x.grad), [0.0, 0.0])
    x = leaf([0.0, 1.0])
    (x ** pg.tensor(0.0, dtype=pg.float64)).sum().backward()
    np.testing.assert_array_equal(as_numpy(x.grad), [0.0, 0.0])


def test_exponent_gradient_is_nan_for_negative_base_like_torch():
    y = leaf([2.0])
    ((-2.0) ** y).sum().backward()
    assert np.isnan(as_numpy(y.grad)).all()


MIXED = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "maximum": pg.maximum,
    "minimum": pg.minimum,
    "where": lambda a, b: pg.where(cond_for((2, 3)), a, b),
    "clamp": lambda a, b: pg.clamp(a, min=b),
}


@pytest.mark.parametrize("name", sorted(MIXED))
def test_gradient_dtype_matches_each_input_dtype_in_mixed_precision(name):
    a = pg.tensor(values((2, 3), "pos", seed=8), dtype=pg.float32, requires_grad=True)
    b = pg.tensor(values((3,), "pos", seed=9), dtype=pg.float64, requires_grad=True)
    seen = []
    a32 = a * 1.0  # a non-leaf, so the hook sees what the op's backward produced
    a32.register_hook(lambda g: seen.append(g.dtype))
    out = MIXED[name](a32, b)
    assert out.dtype is pg.float64
    out.sum().backward()
    assert seen == [pg.float32]
    assert a.grad.dtype is pg.float32
    assert b.grad.dtype is pg.float64


def test_int_tensor_op_gives_float32_and_cannot_require_grad():
    x = pg.tensor([1, 2])
    assert pg.exp(x).dtype is pg.float32
    assert not pg.exp(x).requires_grad


def test_sigmoid_method_and_function_are_the_same():
    assert pg.Tensor.sigmoid is pg.sigmoid
    x = pg.tensor([-1.0, 0.0, 3.0])
    np.testing.assert_array_equal(as_numpy(x.sigmoid()), as_numpy(pg.sigmoid(x)))


@pytest.mark.parametrize("method", ["exp", "log", "sqrt", "sin", "cos", "tanh", "relu", "abs",
                                    "neg", "square", "add", "mul", "pow", "clamp", "maximum"])
def test_methods_are_the_op_functions(method):
    assert getattr(pg.Tensor, method) is getattr(pg, method)


def test_sigmoid_saturates_without_nan():
    out = as_numpy(pg.sigmoid(pg.tensor([-1000.0, 1000.0])))
    np.testing.assert_array_equal(out, [0.0, 1.0])


def test_no_graph_is_recorded_without_requires_grad_or_under_no_grad():
    x = pg.tensor([1.0, 2.0])
    assert (x * 2).grad_fn is None
    y = leaf([1.0, 2.0])
    with pg.no_grad():
        out = pg.exp(y) * y
    assert out.grad_fn is None and not out.requires_grad


def test_comparisons_are_not_differentiable():
    x = leaf([1.0, 2.0])
    assert (x > 1).grad_fn is None
    assert (x > 1).dtype is pg.bool


def test_gradient_only_reaches_inputs_that_require_it():
    x = leaf([1.0, 2.0])
    c = pg.tensor([3.0, 4.0], dtype=pg.float64)
    (x * c + c / x).sum().backward()
    np.testing.assert_allclose(as_numpy(x.grad), [3.0 - 3.0, 4.0 - 1.0])
    assert c.grad is None


def _x():
    return leaf([1.0, 2.0])


GRAD_FN_NAMES = [
    ("a * b", lambda: _x() * _x(), "MulBackward0"),
    ("a * 2", lambda: _x() * 2, "MulBackward0"),
    ("a + b", lambda: _x() + _x(), "AddBackward0"),
    ("a + 1", lambda: _x() + 1, "AddBackward0"),
    ("add alpha", lambda: pg.add(_x(), _x(), alpha=2), "AddBackward0"),
    ("a - b", lambda: _x() - _x(), "SubBackward0"),
    ("2 - a", lambda: 2 - _x(), "RsubBackward1"),
    ("a / b", lambda: _x() / _x(), "DivBackward0"),
    ("a ** 2", lambda: _x() ** 2, "PowBackward0"),
    ("a ** b", lambda: _x() ** _x(), "PowBackward1"),
    ("2 ** a", lambda: 2 ** _x(), "PowBackward2"),
    ("-a", lambda: -_x(), "NegBackward0"),
    ("exp", lambda: pg.exp(_x()), "ExpBackward0"),
    ("log", lambda: pg.log(_x()), "LogBackward0"),
    ("sqrt", lambda: pg.sqrt(_x()), "SqrtBackward0"),
    ("sin", lambda: pg.sin(_x()), "SinBackward0"),
    ("cos", lambda: pg.cos(_x()), "CosBackward0"),
    ("tanh", lambda: pg.tanh(_x()), "TanhBackward0"),
    ("sigmoid", lambda: _x().sigmoid(), "SigmoidBackward0"),
    ("relu", lambda: pg.relu(_x()), "ReluBackward0"),
    ("abs", lambda: abs(_x()), "AbsBackward0"),
    ("sign", lambda: pg.sign(_x()), "SignBackward0"),
    ("square", lambda: pg.square(_x()), "PowBackward0"),
    ("clamp scalars", lambda: pg.clamp(_x(), min=0.0), "ClampBackward1"),
    ("clamp tensors", lambda: pg.clamp(_x(), _x(), _x()), "ClampBackward0"),
    ("maximum", lambda: pg.maximum(_x(), _x()), "MaximumBackward0"),
    ("minimum", lambda: pg.minimum(_x(), _x()), "MinimumBackward0"),
    ("where", lambda: pg.where(pg.tensor([True, False]), _x(), 0.0), "WhereBackward0"),
    ("clone", lambda: _x().clone(), "CloneBackward0"),
    ("to", lambda: _x().to(pg.float32), "ToCopyBackward0"),
]


@pytest.mark.parametrize("name,make,expected", GRAD_FN_NAMES, ids=[g[0] for g in GRAD_FN_NAMES])
def test_grad_fn_name_matches_torch(name, make, expected):
    assert make().grad_fn.name() == expected


# -- optional: differential test against torch ---------------------------------------------------
DIFF_BINARY = {
    "add": (lambda a, b: a + b, ("any", "any")),
    "sub": (lambda a, b: a - b, ("any", "any")),
    "rsub_scalar": (lambda a, b: 1.5 - a * b, ("any", "any")),
    "mul": (lambda a, b: a * b, ("any", "any")),
    "div": (lambda a, b: a / b, ("any", "nonzero")),
    "pow": (lambda a, b: a ** b, ("pos", "any")),
    "maximum": (lambda a, b: a.maximum(b), ("any", "any")),
    "minimum": (lambda a, b: a.minimum(b), ("any", "any")),
    "clamp_tensor": (lambda a, b: a.clamp(min=b), ("any", "any")),
    "exp_mul": (lambda a, b: (a * b).exp(), ("any", "any")),
    "log_add": (lambda a, b: (a + b).log(), ("pos", "pos")),
    "sqrt_mul": (lambda a, b: (a * b).sqrt(), ("pos", "pos")),
    "sin_cos": (lambda a, b: a.sin() * b.cos(), ("any", "any")),
    "tanh_sigmoid": (lambda a, b: a.tanh() + b.sigmoid(), ("any", "any")),
    "relu_abs": (lambda a, b: a.relu() - b.abs(), ("nonzero", "nonzero")),
    "clamp_scalars": (lambda a, b: (a * b).clamp(-0.5, 0.5), ("any", "any")),
    "square_neg": (lambda a, b: -(a - b).square(), ("any", "any")),
    "scalar_pow": (lambda a, b: 2.0 ** a + b ** 2, ("any", "any")),
}
DIFF_SHAPES = [((3, 4), (3, 4)), ((3, 1), (4,)), ((2, 3), ()), ((), ()), ((1,), (2, 3)),
               ((2, 1, 3), (4, 1)), ((5,), (1,))]
DIFF_DTYPES = [(pg.float32, pg.float32), (pg.float64, pg.float64), (pg.float32, pg.float64),
               (pg.float64, pg.float32)]
DIFF_CASES = [(op, shapes, dts) for op in sorted(DIFF_BINARY) for shapes in DIFF_SHAPES
              for dts in DIFF_DTYPES[: 4 if shapes[0] == (3, 1) else 2]]


@pytest.mark.parametrize("op,shapes,dts", DIFF_CASES,
                         ids=[f"{o}-{s}-{d[0].name}-{d[1].name}" for o, s, d in DIFF_CASES])
def test_matches_torch(op, shapes, dts):
    torch = pytest.importorskip("torch")
    fn, kinds = DIFF_BINARY[op]
    seed = DIFF_CASES.index((op, shapes, dts))
    arrays = [values(s, k, seed=seed * 2 + i) for i, (s, k) in enumerate(zip(shapes, kinds))]
    ours = [pg.tensor(a, dtype=d, requires_grad=True) for a, d in zip(arrays, dts)]
    theirs = [torch.tensor(a, dtype=getattr(torch, d.name), requires_grad=True)
              for a, d in zip(arrays, dts)]
    out, ref = fn(*ours), fn(*theirs)
    assert out.dtype.name == str(ref.dtype).removeprefix("torch.")
    single = pg.float32 in dts
    tol = dict(rtol=1e-5, atol=1e-6) if single else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(as_numpy(out), ref.detach().numpy(), **tol)
    grad_out = np.random.default_rng(seed).standard_normal(tuple(ref.shape))
    out.backward(pg.tensor(grad_out, dtype=out.dtype))
    ref.backward(torch.tensor(grad_out, dtype=ref.dtype))
    for mine, other in zip(ours, theirs):
        assert mine.grad.dtype.name == str(other.grad.dtype).removeprefix("torch.")
        gtol = dict(rtol=1e-4, atol=1e-5) if single else tol
        np.testing.assert_allclose(as_numpy(mine.grad), other.grad.numpy(), **gtol)


def test_logical_ops_read_numbers_as_truth_values_like_torch():
    a, b = pg.tensor([1.0, 0.0, -2.0]), pg.tensor([3, 0, 0])
    assert pg.logical_and(a, b).tolist() == [True, False, False]
    assert pg.logical_or(a, b).tolist() == [True, False, True]
    assert pg.logical_not(a).tolist() == [False, True, False]


# -- elementwise math against torch (issue 16) ---------------------------------------------------
def _off_grid(shape, seed=0):
    """Values clear of every multiple of 0.5 (the jumps of floor, round, fmod, ...)."""
    v = np.random.default_rng(seed).uniform(-3, 3, shape)
    near = np.round(v * 2) / 2
    return np.where(np.abs(v - near) < 0.1, near + 0.15, v)


def _unit(shape, seed=0):
    return np.random.default_rng(seed).uniform(-0.9, 0.9, shape)


# name -> (call, input kinds): what the torch comparison runs, on the same float64 values
ELEM_CASES = {
    "log2": (lambda m, x: m.log2(x), ["pos"]),
    "log10": (lambda m, x: x.log10(), ["pos"]),
    "floor": (lambda m, x: m.floor(x), ["grid"]),
    "ceil": (lambda m, x: x.ceil(), ["grid"]),
    "round": (lambda m, x: m.round(x), ["grid"]),
    "round_decimals": (lambda m, x: m.round(x, decimals=1), ["grid"]),
    "trunc": (lambda m, x: m.trunc(x), ["grid"]),
    "frac": (lambda m, x: m.frac(x), ["grid"]),
    "sinh": (lambda m, x: m.sinh(x), ["any"]),
    "cosh": (lambda m, x: x.cosh(), ["any"]),
    "tan": (lambda m, x: m.tan(x), ["unit"]),
    "asin": (lambda m, x: m.asin(x), ["unit"]),
    "acos": (lambda m, x: x.acos(), ["unit"]),
    "atan": (lambda m, x: m.atan(x), ["any"]),
    "erf": (lambda m, x: m.erf(x), ["any"]),
    "erfinv": (lambda m, x: m.erfinv(x), ["unit"]),
    "atan2": (lambda m, a, b: m.atan2(a, b), ["any", "nonzero"]),
    "hypot": (lambda m, a, b: m.hypot(a, b), ["nonzero", "nonzero"]),
    "fmod": (lambda m, a, b: m.fmod(a, b), ["grid", "nonzero"]),
    "fmod_number": (lambda m, a: m.fmod(a, 1.3), ["grid"]),
    "remainder": (lambda m, a, b: m.remainder(a, b), ["grid", "nonzero"]),
    "mod_operator": (lambda m, a: a % -1.3, ["grid"]),
    "clamp_min": (lambda m, a, b: m.clamp_min(a, b), ["any", "any"]),
    "clamp_min_number": (lambda m, a: a.clamp_min(0.2), ["any"]),
    "clamp_max": (lambda m, a, b: m.clamp_max(a, b), ["any", "any"]),
    "clamp_max_number": (lambda m, a: m.clamp_max(a, 0.2), ["any"]),
    "lerp": (lambda m, a, b: m.lerp(a, b, 0.3), ["any", "any"]),
    "lerp_tensor_weight": (lambda m, a, b, w: m.lerp(a, b, w), ["any", "any", "unit"]),
    "nan_to_num": (lambda m, x: m.nan_to_num(x, posinf=5.0), ["any"]),
}


def _elem_values(kind, shape, seed):
    if kind == "grid":
        return _off_grid(shape, seed)
    if kind == "unit":
        return _unit(shape, seed)
    return values(shape, kind, seed)


@pytest.mark.parametrize("dtype", [pg.float32, pg.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", sorted(ELEM_CASES))
def test_elementwise_math_matches_torch(name, dtype):
    torch = pytest.importorskip("torch")
    fn, kinds = ELEM_CASES[name]
    arrays = [_elem_values(k, (3, 4), seed=i) for i, k in enumerate(kinds)]
    if name == "fmod" or name == "remainder":  # a / b clear of integers: no jump nearby
        arrays[0] = arrays[1] * (np.floor(_off_grid((3, 4), 7)) + 0.5)
    ours = [pg.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
    tdt = getattr(torch, dtype.name)
    theirs = [torch.tensor(a, dtype=tdt, requires_grad=True) for a in arrays]
    out, ref = fn(pg, *ours), fn(torch, *theirs)
    assert out.dtype.name == str(ref.dtype).removeprefix("torch.")
    assert out.grad_fn.name() == ref.grad_fn.name()
    tol = dict(rtol=1e-5, atol=1e-6) if dtype is pg.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(as_numpy(out), ref.detach().numpy(), **tol)
    grad_out = np.random.default_rng(5).standard_normal(tuple(ref.shape))
    out.backward(pg.tensor(grad_out, dtype=out.dtype))
    ref.backward(torch.tensor(grad_out, dtype=ref.dtype))
    for mine, other in zip(ours, theirs):
        np.testing.assert_allclose(as_numpy(mine.grad), other.grad.numpy(),
                                   **(dict(rtol=1e-4, atol=1e-5) if dtype is pg.float32
                                      else tol))


SPECIAL = [float("nan"), float("inf"), float("-inf"), 0.0, -0.0, 1.0, -2.5, 0.5, 1.5, 2.5]


@pytest.mark.parametrize("name", ["log2", "log10", "floor", "ceil", "round", "trunc", "frac",
                                  "sinh", "cosh", "tan", "asin", "acos", "atan", "erf",
                                  "erfinv", "isnan", "isinf", "isfinite", "nan_to_num"])
def test_nan_and_inf_like_torch(name):
    torch = pytest.importorskip("torch")
    for dtype in ("float32", "float64"):
        ours = getattr(pg, name)(pg.tensor(SPECIAL, dtype=getattr(pg, dtype)))
        ref = getattr(torch, name)(torch.tensor(SPECIAL, dtype=getattr(torch, dtype)))
        assert ours.dtype.name == str(ref.dtype).removeprefix("torch.")
        np.testing.assert_allclose(as_numpy(ours), ref.numpy(), rtol=1e-6, atol=0,
                                   equal_nan=True)


def test_binary_math_on_nan_inf_and_zero_like_torch():
    torch = pytest.importorskip("torch")
    a = [1.0, -1.0, 0.0, float("inf"), float("nan"), 5.5, -5.5]
    b = [0.0, 0.0, 0.0, 2.0, 1.0, float("inf"), 2.0]
    for name in ("atan2", "hypot", "fmod", "remainder", "clamp_min", "clamp_max"):
        ours = getattr(pg, name)(pg.tensor(a), pg.tensor(b))
        ref = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
        np.testing.assert_allclose(as_numpy(ours), ref.numpy(), rtol=1e-6, equal_nan=True,
                                   err_msg=name)


def test_elementwise_math_dtype_rules_like_torch():
    torch = pytest.importorskip("torch")
    ints = [[5, -7, 3], [2, 3, -2]]
    mine = [pg.tensor(v) for v in ints]
    theirs = [torch.tensor(v) for v in ints]
    for name in ("floor", "ceil", "round", "trunc", "sinh", "erf", "log2", "isnan", "isinf",
                 "isfinite", "nan_to_num"):
        ours, ref = getattr(pg, name)(mine[0]), getattr(torch, name)(theirs[0])
        assert ours.dtype.name == str(ref.dtype).removeprefix("torch."), name
        assert ours.tolist() == pytest.approx(ref.tolist(), nan_ok=True), name
    for name in ("fmod", "remainder", "atan2", "clamp_min", "clamp_max"):
        ours, ref = getattr(pg, name)(*mine), getattr(torch, name)(*theirs)
        assert ours.dtype.name == str(ref.dtype).removeprefix("torch."), name
        assert ours.tolist() == pytest.approx(ref.tolist()), name
    # an int tensor and a float number compute in the default float dtype
    assert pg.fmod(mine[0], 2.5).dtype is pg.float32
    assert pg.remainder(mine[0], 2.5).tolist() == pytest.approx(
        torch.remainder(theirs[0], 2.5).tolist())
    assert (7 % mine[1]).tolist() == (7 % theirs[1]).tolist()
    assert pg.isnan(pg.tensor([True])).tolist() == [False]


def test_elementwise_math_errors_like_torch():
    i, b = pg.tensor([1, 2]), pg.tensor([True])
    for name in ("floor", "ceil", "round", "trunc"):
        with pytest.raises(NotImplementedError):
            getattr(pg, name)(b)
    with pytest.raises(NotImplementedError):
        pg.frac(i)
    with pytest.raises(NotImplementedError):
        pg.round(i, decimals=1)
    with pytest.raises(NotImplementedError):
        pg.hypot(i, i)
    with pytest.raises(TypeError):
        pg.atan2(pg.tensor([1.0]), 2.0)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        pg.fmod(i, pg.tensor([1, 0]))
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        pg.remainder(i, 0)
    with pytest.raises(RuntimeError, match="expected dtype float for `end`"):
        pg.lerp(pg.tensor([1.0]), pg.tensor([2.0], dtype=pg.float64), 0.5)


def test_in_place_variants_exist_where_torch_has_them():
    torch = pytest.importorskip("torch")
    for name in ("log2", "floor", "round", "frac", "erfinv", "atan2", "hypot", "fmod",
                 "remainder", "clamp_min", "lerp", "nan_to_num", "isnan", "isinf", "isfinite",
                 "floor_divide"):
        assert hasattr(pg.Tensor, name + "_") == hasattr(torch.Tensor, name + "_"), name
    x = pg.tensor([1.25, -1.75])
    x.floor_()
    assert x.tolist() == [1.0, -2.0]
    y = pg.tensor([5.0, -5.0])
    y %= 3
    assert y.tolist() == [2.0, 1.0]


def test_rounding_second_derivative_is_zero():
    x = leaf([0.3, -1.7])
    (g,) = pg.autograd.grad(x.floor().sum() + x.frac().sum(), x, create_graph=True)
    assert g.tolist() == [1.0, 1.0]


def test_erf_and_erfinv_kernels_are_exact_in_float64():
    torch = pytest.importorskip("torch")
    y = np.linspace(-0.999999, 0.999999, 2001)
    np.testing.assert_allclose(as_numpy(pg.erfinv(pg.tensor(y, dtype=pg.float64))),
                               torch.erfinv(torch.tensor(y)).numpy(), rtol=1e-14, atol=1e-300)
    x = np.linspace(-6, 6, 2001)
    np.testing.assert_allclose(as_numpy(pg.erf(pg.tensor(x, dtype=pg.float64))),
                               torch.erf(torch.tensor(x)).numpy(), rtol=1e-15, atol=1e-300)


def test_floor_divide_like_torch():
    torch = pytest.importorskip("torch")
    a, b = [5.5, -5.5, 7.0, -7.25, 0.0], [2.0, 2.0, -0.7, 0.5, -3.0]
    for dtype in ("float32", "float64"):
        mine = pg.tensor(a, dtype=getattr(pg, dtype)), pg.tensor(b, dtype=getattr(pg, dtype))
        theirs = (torch.tensor(a, dtype=getattr(torch, dtype)),
                  torch.tensor(b, dtype=getattr(torch, dtype)))
        for fn in (lambda x, y: x // y, lambda x, y: 7 // y, lambda x, y: x // 0.7,
                   lambda x, y: x.floor_divide(y), lambda x, y: x.clone().floor_divide_(y)):
            ours, ref = fn(*mine), fn(*theirs)
            assert ours.dtype.name == str(ref.dtype).removeprefix("torch.")
            assert ours.tolist() == ref.tolist()
    ints = [7, -7, 7, -7], [2, 2, -2, -2]
    assert (pg.tensor(ints[0]) // pg.tensor(ints[1])).tolist() == \
        (torch.tensor(ints[0]) // torch.tensor(ints[1])).tolist()
    assert (pg.tensor(ints[0]) // 2.5).dtype is pg.float32
    x = pg.tensor(a, requires_grad=True)
    out = x // 2.0
    assert out.grad_fn.name() == (torch.tensor(a, requires_grad=True) // 2.0).grad_fn.name()
    with pytest.raises(RuntimeError, match="derivative for aten::floor_divide"):
        out.sum().backward()
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        pg.tensor([1, 2]) // 0
    with pytest.raises(NotImplementedError):
        pg.tensor([True]) // pg.tensor([True])


@pytest.mark.parametrize("with_nan", [False, True])
def test_sign_and_nan_to_num_when_partial_sums_overflow(with_nan):
    # the NaN check is a sum: float16 sums of 70,000 ones and 70,000 minus ones meet as
    # inf - inf = NaN without any NaN in the data; the results must not change
    a = np.r_[np.ones(70000), -np.ones(70000), [0.0, -0.0]].astype(np.float16) * 3
    a[5] = np.inf
    if with_nan:
        a[7] = np.nan
    x = pg.tensor(a)
    want_sign = np.where(np.isnan(a), 0, np.sign(a))
    np.testing.assert_array_equal(x.sign().numpy(), want_sign)
    big = np.finfo(np.float16).max
    np.testing.assert_array_equal(x.nan_to_num().numpy(),
                                  np.clip(np.where(np.isnan(a), 0, a), -big, big))
    assert not np.signbit(x.nan_to_num().numpy()[-2]) and np.signbit(x.nan_to_num().numpy()[-1])
