"""The backward engine: accumulation, retain_graph, roots, grad(), memory and depth.

The engine's rules that hold on every backend (accumulation, freed graphs,
implicit gradients, hooks, grad modes, errors) are conformance cases,
conformance/test_engine_semantics.py, run on each backend. This module keeps
what goes further than those cases: finite-difference checks, sizes a lazy
backend cannot afford in every conformance run, memory release, and grad()'s
full signature.
"""
from __future__ import annotations

import gc
import weakref

import numpy as np
import plugrad as pg
import pytest
from helpers import as_numpy, check_grads


def test_ops_without_saved_tensors_can_backward_twice_like_torch():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = (x + 1).sum()
    y.backward()
    y.backward()
    np.testing.assert_allclose(as_numpy(x.grad), [2.0, 2.0])


def test_reconverging_paths_sum_their_contributions():
    # against finite differences with a random cotangent (the conformance case: a closed form)
    check_grads(lambda x: (x * x + x * 3).exp() * x, np.array([0.1, -0.4, 0.7]))


def test_node_with_many_consumers_accumulates_every_contribution():
    # 500 uses; the conformance case makes 50, which a lazy backend builds in reasonable time
    x = pg.tensor([1.0, -2.0], requires_grad=True)
    total = x * 0
    for k in range(1, 501):
        total = total + x * k
    total.sum().backward()
    np.testing.assert_allclose(as_numpy(x.grad), [sum(range(1, 501))] * 2)


def test_deep_chain_backpropagates_without_recursion_error():
    # 100,000 nodes, far past Python's recursion limit (the conformance case: 2,000)
    x = pg.tensor([1.0], dtype=pg.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    y.backward(pg.ones(1, dtype=pg.float64))
    np.testing.assert_allclose(as_numpy(x.grad), [1.00001 ** 100_000], rtol=1e-9)


def test_grad_of_a_broadcast_gradient_is_writable():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    x.sum().backward()
    x.grad.zero_()  # the incoming gradient was a read-only broadcast view
    np.testing.assert_allclose(as_numpy(x.grad), [0.0, 0.0])


def test_backward_inputs_may_name_a_non_leaf():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    (h * h).sum().backward(inputs=[h])
    np.testing.assert_allclose(as_numpy(h.grad), [4.0, 8.0])
    assert x.grad is None


def test_grad_of_a_non_leaf_input():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    (gh,) = pg.autograd.grad((h * h).sum(), h)
    np.testing.assert_allclose(as_numpy(gh), [6.0, 12.0])


def test_backward_create_graph_keeps_grad_differentiable():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    (x ** 2).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(as_numpy(x.grad), [2.0, 2.0])


def test_dropping_the_output_frees_the_graph_without_gc():
    gc.disable()
    try:
        x = pg.tensor([1.0, 2.0], requires_grad=True)
        y = (x.exp() * 2).sum()
        node = weakref.ref(y.grad_fn)
        del y
        assert node() is None
    finally:
        gc.enable()


def test_backward_releases_saved_tensors_as_it_passes():
    gc.disable()
    try:
        x = pg.tensor([1.0, 2.0], requires_grad=True)
        h = x * 2
        y = (h * h).sum()  # MulBackward saves h
        saved = weakref.ref(h)
        del h
        assert saved() is not None
        y.backward()
        assert saved() is None
    finally:
        gc.enable()


def test_retain_graph_keeps_saved_tensors():
    gc.disable()
    try:
        x = pg.tensor([1.0, 2.0], requires_grad=True)
        h = x * 2
        y = (h * h).sum()
        saved = weakref.ref(h)
        del h
        y.backward(retain_graph=True)
        assert saved() is not None
    finally:
        gc.enable()


def test_non_leaf_hook_can_replace_gradient_and_be_removed():
    x = pg.tensor([1.0], requires_grad=True)
    h = x * 2
    handle = h.register_hook(lambda g: g * 0)
    (h * 1).sum().backward(retain_graph=True)
    assert x.grad.item() == 0.0
    handle.remove()
    (h * 1).sum().backward()
    assert x.grad.item() == 2.0


def test_outputs_that_feed_each_other_backpropagate_once_each():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    out = (h * h).sum()
    pg.autograd.backward([out, h.sum()])  # h is below out and also a root itself
    np.testing.assert_allclose(as_numpy(x.grad), 18 * np.array([1.0, 2.0]) + 3)


def test_grad_results_are_never_changed_by_later_accumulation():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    a = x * 1.0
    h = a + 0.0
    y = (h * 2 + a * 3).sum()
    gh, gx = pg.autograd.grad(y, [h, x])
    np.testing.assert_allclose(as_numpy(gh), [2.0, 2.0])
    np.testing.assert_allclose(as_numpy(gx), [5.0, 5.0])


# -- higher-order gradients and grad()'s full signature ------------------------------------------
THIRD_DERIVATIVES = [
    ("sin", lambda x: x.sin(), lambda v: -np.cos(v)),
    ("exp", lambda x: x.exp(), np.exp),
    ("pow4", lambda x: x ** 4, lambda v: 24 * v),
    ("log", lambda x: x.log(), lambda v: 2 / v ** 3),
    ("tanh", lambda x: x.tanh(),
     lambda v: -2 * (1 - np.tanh(v) ** 2) * (1 - 3 * np.tanh(v) ** 2)),
    ("sigmoid*x", lambda x: x.sigmoid() * x, None),
    ("softmax", lambda x: x.softmax(0) * x, None),
]


@pytest.mark.parametrize("name, fn, third", THIRD_DERIVATIVES,
                         ids=[t[0] for t in THIRD_DERIVATIVES])
def test_third_derivatives(name, fn, third):
    values = np.array([0.4, 0.9, 1.7])
    x = pg.tensor(values, dtype=pg.float64, requires_grad=True)
    (d1,) = pg.autograd.grad(fn(x).sum(), x, create_graph=True)
    (d2,) = pg.autograd.grad(d1.sum(), x, create_graph=True)
    (d3,) = pg.autograd.grad(d2.sum(), x)
    assert not d3.requires_grad
    if third is not None:
        np.testing.assert_allclose(as_numpy(d3), third(values), rtol=1e-9)

    def second(v):  # sum of the second derivatives, from the engine
        t = pg.tensor(v, dtype=pg.float64, requires_grad=True)
        (g1,) = pg.autograd.grad(fn(t).sum(), t, create_graph=True)
        (g2,) = pg.autograd.grad(g1.sum(), t)
        return as_numpy(g2)

    eps = 1e-5
    numeric = np.array([(second(values + eps * e) - second(values - eps * e)).sum() / (2 * eps)
                        for e in np.eye(3)])
    np.testing.assert_allclose(as_numpy(d3), numeric, rtol=1e-5, atol=1e-6)


def test_grad_outputs_weight_each_output():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    a, b = x * 2, x ** 2
    ga, = pg.autograd.grad([a, b], x, [pg.tensor([1.0, 10.0]), pg.tensor([100.0, 1000.0])])
    np.testing.assert_allclose(as_numpy(ga), [2 + 200, 20 + 4000])
    s = (x * 3).sum()
    (gs,) = pg.autograd.grad([s, (x * 5).sum()], x, [None, pg.tensor(2.0)])
    np.testing.assert_allclose(as_numpy(gs), [13.0, 13.0])
    with pytest.raises(RuntimeError, match="got 2 tensors and 1 gradients"):
        pg.autograd.grad([a, b], x, [pg.ones(2)])


def test_grad_retain_graph_defaults_to_create_graph():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    pg.autograd.grad(y, x, retain_graph=True)
    pg.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        pg.autograd.grad(y, x)
    y = (x.exp() * x).sum()
    (g,) = pg.autograd.grad(y, x, create_graph=True)
    assert g.requires_grad
    pg.autograd.grad(y, x)  # create_graph kept the graph


def test_grad_allow_unused_and_materialize_grads():
    x = pg.tensor([1.0], requires_grad=True)
    z = pg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()
    assert pg.autograd.grad(y, [x, z], allow_unused=True, retain_graph=True)[1] is None
    zero = pg.autograd.grad(y, [x, z], materialize_grads=True, retain_graph=True)[1]
    assert zero.tolist() == [0.0, 0.0] and zero.dtype is z.dtype
    with pytest.raises(ValueError, match="allow_unused to be True or not passed"):
        pg.autograd.grad(y, [x, z], materialize_grads=True, allow_unused=False)
    with pytest.raises(RuntimeError, match="`inputs` argument to `grad\\(\\)` cannot be empty"):
        pg.autograd.grad(y, [])


def test_grad_with_respect_to_a_grad_output():
    # the double-backward trick: J^T v is linear in v, its gradient in v gives J u
    x = pg.tensor([1.0, 2.0], dtype=pg.float64, requires_grad=True)
    v = pg.zeros(2, dtype=pg.float64, requires_grad=True)
    (jtv,) = pg.autograd.grad(x ** 3, x, v, create_graph=True)
    (ju,) = pg.autograd.grad(jtv, v, pg.tensor([1.0, 1.0], dtype=pg.float64))
    np.testing.assert_allclose(as_numpy(ju), [3.0, 12.0])


def test_grad_runs_only_the_part_of_the_graph_it_needs():
    calls = []

    class Spy(pg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            calls.append(1)
            return g

    x = pg.tensor([1.0], requires_grad=True)
    h = Spy.apply(x) * 2
    other = Spy.apply(x) * 5
    y = (h * 3 + other).sum()
    (gh,) = pg.autograd.grad(y, h, retain_graph=True)
    assert gh.tolist() == [3.0] and calls == []  # both Spy nodes are below or beside h
    (gx,) = pg.autograd.grad(y, x)
    assert gx.tolist() == [11.0] and calls == [1, 1]


def test_backward_through_a_second_order_graph_accumulates_into_leaves():
    x = pg.tensor([0.5, 1.5], dtype=pg.float64, requires_grad=True)
    (g,) = pg.autograd.grad((x.sin() * x).sum(), x, create_graph=True)
    g.sum().backward()
    v = np.array([0.5, 1.5])
    np.testing.assert_allclose(as_numpy(x.grad), 2 * np.cos(v) - v * np.sin(v))
