"""The plugin, installed: found through its entry point, and plugrad works on it.

Run with the package installed (tox -e plugin-array-api-strict does that):
    python -m pytest examples/plugrad-array-api-strict/tests
"""
from __future__ import annotations

import array_api_strict
import numpy as np
import plugrad as pg
import pytest
from plugrad import backends
from plugrad.conformance.examples import EXAMPLES, run

NAME = "array_api_strict"


@pytest.fixture(autouse=True)
def _installed():
    if NAME not in backends.available():
        pytest.skip(f"plugrad-array-api-strict is not installed: {backends.available()!r}")


def test_it_is_registered_through_the_entry_point():
    row = next(r for r in backends.status() if r.name == NAME)
    assert row.status == "ready"
    assert row.package.startswith("plugrad-array-api-strict ")
    assert row.version == array_api_strict.__version__


def test_tensors_hold_array_api_strict_arrays():
    x = pg.tensor([[1.0, 2.0], [3.0, 4.0]], backend=NAME)
    assert type(x.array).__module__.startswith("array_api_strict")
    assert x.backend.name == NAME and "backend='array_api_strict'" in repr(x)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.title for e in EXAMPLES])
def test_the_documented_examples_print_their_output(example):
    # the documented output is the default backend's; a tensor elsewhere names its backend
    printed = run(example, NAME).replace(f", backend='{NAME}'", "")
    assert printed == example.expected


def test_a_small_regression_trains_the_same_as_on_numpy():
    def train(backend):
        rng = np.random.default_rng(0)
        x = pg.tensor(rng.standard_normal((32, 3)), dtype=pg.float64, backend=backend)
        y = x @ pg.tensor([[1.5], [-2.0], [0.5]], dtype=pg.float64, backend=backend) + 0.25
        w = pg.zeros(3, 1, dtype=pg.float64, backend=backend, requires_grad=True)
        b = pg.zeros(1, dtype=pg.float64, backend=backend, requires_grad=True)
        for _ in range(50):
            loss = ((x @ w + b - y) ** 2).mean()
            gw, gb = pg.autograd.grad(loss, (w, b))
            with pg.no_grad():  # plain gradient descent: new leaves each step
                w = (w - 0.1 * gw).requires_grad_()
                b = (b - 0.1 * gb).requires_grad_()
        return w.tolist(), b.tolist(), loss.item()

    strict, reference = train(NAME), train("numpy")
    np.testing.assert_allclose(strict[0], reference[0], rtol=1e-12)
    np.testing.assert_allclose(strict[1], reference[1], rtol=1e-12)
    assert strict[2] < 1e-3


def test_gradients_cross_between_numpy_and_array_api_strict():
    x = pg.tensor([1.0, 2.0, 3.0], backend="numpy", requires_grad=True)
    y = x.to(NAME)
    z = (y.exp() * y).sum().to("numpy")
    z.backward()
    expected = np.exp([1.0, 2.0, 3.0]) * (1 + np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(x.grad.tolist(), expected, rtol=1e-6)
    assert x.grad.backend.name == "numpy"


def test_mixing_it_with_numpy_is_an_error_naming_both():
    with pytest.raises(RuntimeError, match="'numpy' and 'array_api_strict'"):
        pg.ones(2, backend="numpy") + pg.ones(2, backend=NAME)


def test_float16_is_refused_because_the_standard_has_none():
    with pytest.raises(TypeError, match="no float16"):
        pg.zeros(2, dtype=pg.float16, backend=NAME)
