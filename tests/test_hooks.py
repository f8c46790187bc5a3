"""Hooks: tensor hooks, post-accumulate-grad hooks, node pre-hooks and hooks, their order."""
from __future__ import annotations

import numpy as np
import plugrad as pg
import pytest
from helpers import as_numpy


def _chain():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    z = y.exp()
    return x, y, z


# -- tensor hooks ----------------------------------------------------------------------------------
def test_tensor_hook_sees_the_gradient_and_may_replace_it():
    x, y, z = _chain()
    seen = []
    y.register_hook(lambda g: seen.append(as_numpy(g).copy()))
    x.register_hook(lambda g: g * 2)
    z.sum().backward()
    np.testing.assert_allclose(seen[0], np.exp([3.0, 6.0]), rtol=1e-6)
    np.testing.assert_allclose(as_numpy(x.grad), 2 * 3 * np.exp([3.0, 6.0]), rtol=1e-6)


def test_tensor_hooks_run_in_registration_order_each_on_the_previous_result():
    x = pg.tensor([1.0], requires_grad=True)
    x.register_hook(lambda g: g + 1)
    x.register_hook(lambda g: g * 10)
    (x * 1).sum().backward()
    assert x.grad.item() == 20.0


def test_tensor_hook_needs_requires_grad():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        pg.tensor([1.0]).register_hook(lambda g: g)


def test_tensor_hooks_also_run_for_autograd_grad():
    x, y, z = _chain()
    y.register_hook(lambda g: g * 0)
    (gx,) = pg.autograd.grad(z.sum(), x)
    np.testing.assert_allclose(as_numpy(gx), [0.0, 0.0])


def test_tensor_hook_on_a_grad_input_changes_the_captured_gradient():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g + 1)
    (gx,) = pg.autograd.grad((x * 2).sum(), x)
    np.testing.assert_allclose(as_numpy(gx), [3.0, 3.0])


def test_removed_hooks_do_not_run():
    x = pg.tensor([1.0], requires_grad=True)
    handle = x.register_hook(lambda g: g * 100)
    handle.remove()
    handle.remove()  # twice is fine
    (x * 1).sum().backward()
    assert x.grad.item() == 1.0


def test_handle_is_a_context_manager():
    x = pg.tensor([1.0], requires_grad=True)
    with x.register_hook(lambda g: g * 100):
        (x * 1).sum().backward()
    (x * 1).sum().backward()
    assert x.grad.item() == 101.0


# -- post-accumulate-grad hooks --------------------------------------------------------------------
def test_post_accumulate_grad_hook_sees_the_accumulated_grad():
    w = pg.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append((t is w, as_numpy(t.grad).copy())))
    (w * 3).sum().backward()
    (w * 3).sum().backward()
    assert [s[0] for s in seen] == [True, True]
    np.testing.assert_allclose(seen[0][1], [3.0, 3.0])
    np.testing.assert_allclose(seen[1][1], [6.0, 6.0])


def test_post_accumulate_grad_hook_can_act_like_an_optimizer_step():
    w = pg.tensor([1.0, 2.0], requires_grad=True)

    def sgd_step(t):
        with pg.no_grad():
            t.data = (t - 0.1 * t.grad).data
        t.grad = None

    w.register_post_accumulate_grad_hook(sgd_step)
    (w * w).sum().backward()
    np.testing.assert_allclose(as_numpy(w), [0.8, 1.6], rtol=1e-6)
    assert w.grad is None


def test_post_accumulate_grad_hook_not_run_by_autograd_grad():
    w = pg.tensor([1.0], requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(seen.append)
    pg.autograd.grad((w * 2).sum(), w)
    assert seen == []


def test_post_accumulate_grad_hook_only_on_leaves_that_require_grad():
    w = pg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="cannot be registered on non-leaf tensors"):
        (w * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        pg.tensor([1.0]).register_post_accumulate_grad_hook(lambda t: None)


def test_post_accumulate_grad_hook_is_removable():
    w = pg.tensor([1.0], requires_grad=True)
    seen = []
    h = w.register_post_accumulate_grad_hook(seen.append)
    h.remove()
    (w * 2).sum().backward()
    assert seen == []


# -- node hooks ------------------------------------------------------------------------------------
def test_node_prehook_gets_a_tuple_of_output_gradients_and_may_replace_it():
    x, y, z = _chain()
    seen = []

    def prehook(grad_outputs):
        seen.append(grad_outputs)
        return (grad_outputs[0] * 0 + 1,)

    y.grad_fn.register_prehook(prehook)
    z.sum().backward()
    assert isinstance(seen[0], tuple) and len(seen[0]) == 1
    np.testing.assert_allclose(as_numpy(x.grad), [3.0, 3.0])


def test_node_hook_gets_grad_inputs_and_grad_outputs():
    x, y, z = _chain()
    seen = []
    y.grad_fn.register_hook(lambda gi, go: seen.append((gi, go)))
    z.sum().backward()
    grad_inputs, grad_outputs = seen[0]
    assert len(grad_inputs) == 2 and grad_inputs[1] is None  # (x, the number 3)
    np.testing.assert_allclose(as_numpy(grad_inputs[0]), 3 * np.exp([3.0, 6.0]), rtol=1e-6)
    np.testing.assert_allclose(as_numpy(grad_outputs[0]), np.exp([3.0, 6.0]), rtol=1e-6)


def test_node_hook_may_replace_grad_inputs():
    x, y, z = _chain()
    y.grad_fn.register_hook(lambda gi, go: (gi[0] * 0 + 7, None))
    z.sum().backward()
    np.testing.assert_allclose(as_numpy(x.grad), [7.0, 7.0])


def test_node_hook_return_values_are_checked_like_torch():
    x, y, z = _chain()
    h = y.grad_fn.register_prehook(lambda go: go[0])
    with pytest.raises(TypeError, match="expected tuple, but hook returned 'Tensor'"):
        z.sum().backward(retain_graph=True)
    h.remove()

    def two(go):
        return (go[0], go[0])

    h = y.grad_fn.register_prehook(two)
    with pytest.raises(RuntimeError, match=r"hook 'two' has returned an incorrect number of "
                                           r"values \(got 2, but expected 1\)"):
        z.sum().backward(retain_graph=True)
    h.remove()
    h = y.grad_fn.register_hook(lambda gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="can't replace a None gradient with a non-None"):
        z.sum().backward(retain_graph=True)
    h.remove()


def test_hooks_on_the_accumulate_grad_node_of_a_leaf():
    x, y, z = _chain()
    acc = y.grad_fn.next_functions[0][0]
    seen = []
    acc.register_prehook(lambda go: seen.append(("pre", len(go))))
    acc.register_hook(lambda gi, go: seen.append(("post", gi, len(go))))
    z.sum().backward()
    assert seen == [("pre", 1), ("post", (), 1)]


def test_order_of_all_hooks_matches_torch():
    x, y, z = _chain()
    order = []
    acc = y.grad_fn.next_functions[0][0]
    acc.register_hook(lambda gi, go: order.append("acc post"))
    acc.register_prehook(lambda go: order.append("acc pre"))
    y.grad_fn.register_prehook(lambda go: order.append("mul pre"))
    y.grad_fn.register_hook(lambda gi, go: order.append("mul post"))
    y.register_hook(lambda g: order.append("tensor y"))
    x.register_post_accumulate_grad_hook(lambda t: order.append("post accumulate x"))
    x.register_hook(lambda g: order.append("tensor x"))
    z.sum().backward(retain_graph=True)
    assert order == ["tensor y", "mul pre", "mul post", "tensor x", "acc pre",
                     "post accumulate x", "acc post"]
    order.clear()
    pg.autograd.grad(z.sum(), x, retain_graph=True)  # leaves are not accumulated
    assert order == ["tensor y", "mul pre", "mul post", "tensor x"]
    order.clear()
    pg.autograd.grad(z.sum(), y)  # nothing below y runs
    assert order == ["tensor y"]


def test_node_hooks_are_removable():
    x, y, z = _chain()
    seen = []
    handles = [y.grad_fn.register_prehook(lambda go: seen.append("pre")),
               y.grad_fn.register_hook(lambda gi, go: seen.append("post"))]
    for h in handles:
        h.remove()
    z.sum().backward()
    assert seen == []


def test_gradients_handed_to_hooks_are_never_changed_afterwards():
    # a hooked gradient may be kept by the user; later accumulation must copy
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    a = x * 1.0
    kept = []
    a.grad_fn.register_hook(lambda gi, go: kept.append(gi[0]))
    y = (a * 2 + x * 3).sum()
    y.backward()
    np.testing.assert_allclose(as_numpy(kept[0]), [2.0, 2.0])
    np.testing.assert_allclose(as_numpy(x.grad), [5.0, 5.0])


def test_hooks_must_be_callable():
    x = pg.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="callable"):
        x.register_hook(3)
