"""Shared test helpers: finite-difference gradient checks on the public API.

Gradients are compared with central differences computed in float64 from the
forward values alone, never with anything the backward engine produced.
"""
from __future__ import annotations

import numpy as np
import plugrad as pg


def as_numpy(t) -> np.ndarray:
    return np.asarray(t.detach().numpy())


def numeric_grads(fn, arrays, eps: float = 1e-6, grad_out=None):
    """d(sum(fn(*inputs) * grad_out))/d(input) for each float64 input, by central differences."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    if grad_out is None:
        out = fn(*[pg.tensor(a, dtype=pg.float64, requires_grad=True) for a in arrays])
        grad_out = np.ones(tuple(out.shape))
    results = []
    for k, base in enumerate(arrays):
        grad = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            vals = []
            for step in (eps, -eps):
                moved = [a.copy() for a in arrays]
                moved[k][idx] += step
                out = fn(*[pg.tensor(a, dtype=pg.float64, requires_grad=True) for a in moved])
                vals.append(float(np.sum(as_numpy(out) * grad_out)))
            grad[idx] = (vals[0] - vals[1]) / (2 * eps)
        results.append(grad)
    return results


def check_grads(fn, *arrays, eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-6,
                seed: int = 0):
    """Assert that backward through `fn` matches finite differences for every input.

    A random upstream gradient is used, so a wrong broadcast or a swapped axis
    cannot hide behind a sum of ones.
    """
    inputs = [pg.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = fn(*inputs)
    rng = np.random.default_rng(seed)
    grad_out = rng.standard_normal(tuple(out.shape))
    out.backward(pg.tensor(grad_out, dtype=pg.float64))
    expected = numeric_grads(fn, arrays, eps, grad_out)
    for i, (t, want) in enumerate(zip(inputs, expected)):
        assert t.grad is not None, f"input {i} got no gradient"
        assert tuple(t.grad.shape) == want.shape, f"input {i}: grad shape {t.grad.shape}"
        np.testing.assert_allclose(as_numpy(t.grad), want, rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {i}")


def check_second_grads(fn, *arrays, eps: float = 1e-5, rtol: float = 1e-4, atol: float = 1e-5,
                       seed: int = 1):
    """Assert that differentiating the (create_graph) gradient matches finite differences of it."""
    rng = np.random.default_rng(seed)
    first = [np.array(a, dtype=np.float64) for a in arrays]
    probe = None

    def grad_dot(*ts):
        nonlocal probe
        out = fn(*ts)
        if probe is None:
            probe = rng.standard_normal(tuple(out.shape))
        grads = pg.autograd.grad(out, ts, pg.tensor(probe, dtype=pg.float64), create_graph=True,
                                 allow_unused=True)
        total = None
        for g in grads:
            if g is not None:
                total = g.sum() if total is None else total + g.sum()
        return total

    inputs = [pg.tensor(a, requires_grad=True) for a in first]
    grad_dot(*inputs).backward()
    expected = numeric_grads(lambda *ts: grad_dot(*ts), first, eps)
    for i, (t, want) in enumerate(zip(inputs, expected)):
        got = np.zeros_like(want) if t.grad is None else as_numpy(t.grad)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol,
                                   err_msg=f"second derivative of input {i}")
