"""The backward engine: accumulation, retain_graph, roots, grad(), memory and depth."""
from __future__ import annotations

import gc
import weakref

import numpy as np
import plugrad as pg
import pytest
from helpers import as_numpy, check_grads


def test_gradients_accumulate_across_backward_calls():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(as_numpy(x.grad), [4.0, 8.0])


def test_second_backward_through_freed_graph_raises():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_ops_without_saved_tensors_can_backward_twice_like_torch():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = (x + 1).sum()
    y.backward()
    y.backward()
    np.testing.assert_allclose(as_numpy(x.grad), [2.0, 2.0])


def test_implicit_gradient_only_for_one_element_outputs():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        (x * 2).backward()
    (x * 2)[1:].backward()  # one element, any ndim
    np.testing.assert_allclose(as_numpy(x.grad), [0.0, 2.0])


def test_explicit_gradient_weights_the_outputs():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).backward(pg.tensor([1.0, 10.0]))
    np.testing.assert_allclose(as_numpy(x.grad), [3.0, 30.0])


def test_wrong_shaped_gradient_names_both_shapes():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Mismatch in shape.*\[3\].*\[2\]"):
        (x * 2).backward(pg.ones(3))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        pg.tensor([1.0]).sum().backward()


def test_backward_on_a_leaf_accumulates_into_itself():
    x = pg.tensor(2.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


def test_reconverging_paths_sum_their_contributions():
    check_grads(lambda x: (x * x + x * 3).exp() * x, np.array([0.1, -0.4, 0.7]))


def test_node_with_many_consumers_accumulates_every_contribution():
    x = pg.tensor([1.0, -2.0], requires_grad=True)
    total = x * 0
    for k in range(1, 501):
        total = total + x * k
    total.sum().backward()
    np.testing.assert_allclose(as_numpy(x.grad), [sum(range(1, 501))] * 2)


def test_deep_chain_backpropagates_without_recursion_error():
    x = pg.tensor([1.0], dtype=pg.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    y.backward(pg.ones(1, dtype=pg.float64))
    np.testing.assert_allclose(as_numpy(x.grad), [1.00001 ** 100_000], rtol=1e-9)


def test_grad_of_a_shared_gradient_is_not_aliased():
    # AddBackward hands the same gradient to both inputs; zeroing one .grad
    # in place must not change the other
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = pg.tensor([3.0, 4.0], requires_grad=True)
    (x + y).sum().backward()
    x.grad.zero_()
    np.testing.assert_allclose(as_numpy(y.grad), [1.0, 1.0])


def test_grad_of_a_broadcast_gradient_is_writable():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    x.sum().backward()
    x.grad.zero_()  # the incoming gradient was a read-only broadcast view
    np.testing.assert_allclose(as_numpy(x.grad), [0.0, 0.0])


def test_user_gradient_is_never_modified():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    v = pg.tensor([5.0, 6.0])
    x.backward(v)
    x.backward(v)
    np.testing.assert_allclose(as_numpy(v), [5.0, 6.0])
    np.testing.assert_allclose(as_numpy(x.grad), [10.0, 12.0])


def test_backward_inputs_restricts_accumulation():
    x = pg.tensor([1.0], requires_grad=True)
    y = pg.tensor([2.0], requires_grad=True)
    (x * y).sum().backward(inputs=[x])
    assert x.grad.item() == 2.0
    assert y.grad is None


def test_backward_inputs_may_name_a_non_leaf():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    (h * h).sum().backward(inputs=[h])
    np.testing.assert_allclose(as_numpy(h.grad), [4.0, 8.0])
    assert x.grad is None


def test_grad_returns_without_accumulating():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    (gx,) = pg.autograd.grad((x ** 3).sum(), x)
    np.testing.assert_allclose(as_numpy(gx), [3.0, 12.0])
    assert x.grad is None


def test_grad_of_a_non_leaf_input():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    (gh,) = pg.autograd.grad((h * h).sum(), h)
    np.testing.assert_allclose(as_numpy(gh), [6.0, 12.0])


def test_grad_unused_input_needs_allow_unused():
    x = pg.tensor([1.0], requires_grad=True)
    z = pg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        pg.autograd.grad((x * 2).sum(), [x, z], retain_graph=True)
    out = (x * 2).sum()
    assert pg.autograd.grad(out, [x, z], allow_unused=True, retain_graph=True)[1] is None
    zero = pg.autograd.grad(out, [x, z], materialize_grads=True)[1]
    np.testing.assert_allclose(as_numpy(zero), [0.0])


def test_create_graph_gives_higher_derivatives():
    x = pg.tensor(2.0, requires_grad=True)
    (d1,) = pg.autograd.grad(x ** 3, x, create_graph=True)
    (d2,) = pg.autograd.grad(d1, x, create_graph=True)
    (d3,) = pg.autograd.grad(d2, x)
    assert (d1.item(), d2.item(), d3.item()) == (12.0, 12.0, 6.0)


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


def test_hooks_see_and_replace_gradients():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    seen = []
    h.register_hook(lambda g: seen.append(as_numpy(g).copy()))
    handle = x.register_hook(lambda g: g * 10)
    (h * 3).sum().backward()
    np.testing.assert_allclose(seen[0], [3.0, 3.0])
    np.testing.assert_allclose(as_numpy(x.grad), [60.0, 60.0])
    handle.remove()
    x.grad = None
    (x * 1).sum().backward()
    np.testing.assert_allclose(as_numpy(x.grad), [1.0, 1.0])


def test_non_leaf_hook_can_replace_gradient_and_be_removed():
    x = pg.tensor([1.0], requires_grad=True)
    h = x * 2
    handle = h.register_hook(lambda g: g * 0)
    (h * 1).sum().backward(retain_graph=True)
    assert x.grad.item() == 0.0
    handle.remove()
    (h * 1).sum().backward()
    assert x.grad.item() == 2.0


def test_retain_grad_keeps_a_non_leaf_gradient():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(as_numpy(h.grad), [4.0, 8.0])
    assert h.retains_grad


def test_non_leaf_grad_access_warns():
    x = pg.tensor([1.0], requires_grad=True)
    h = x * 2
    with pytest.warns(UserWarning, match="not a leaf"):
        assert h.grad is None


def test_mixed_precision_gradients_match_each_leaf_dtype():
    a = pg.tensor([1.0, 2.0], requires_grad=True)
    b = pg.tensor([3.0, 4.0], dtype=pg.float64, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype is pg.float32 and b.grad.dtype is pg.float64
    np.testing.assert_allclose(as_numpy(a.grad), [3.0, 4.0])


def test_grad_mode_is_restored_after_backward_error():
    x = pg.tensor([1.0], requires_grad=True)
    y = x * x
    y.register_hook(lambda g: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        y.sum().backward()
    assert pg.is_grad_enabled()


def test_outputs_that_feed_each_other_backpropagate_once_each():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    out = (h * h).sum()
    pg.autograd.backward([out, h.sum()])  # h is below out and also a root itself
    np.testing.assert_allclose(as_numpy(x.grad), 18 * np.array([1.0, 2.0]) + 3)


@pytest.mark.parametrize("order", ["hooked_first", "hooked_second"])
def test_gradients_seen_by_hooks_are_never_changed_afterwards(order):
    # the hooked gradient passes through an identity-like node into a buffer
    # that receives a second contribution; summing must not write into it
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    a = x * 1.0
    h = a + 0.0
    seen = []
    h.register_hook(lambda g: seen.append(g))
    y = (h * 2 + a * 3) if order == "hooked_first" else (a * 3 + h * 2)
    y.sum().backward()
    np.testing.assert_allclose(as_numpy(seen[0]), [2.0, 2.0])
    np.testing.assert_allclose(as_numpy(x.grad), [5.0, 5.0])


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
