"""The backward engine's rules, on the backend under test.

The same rules as PyTorch's autograd: gradients accumulate, graphs are freed
unless retained, gradients are only implied for one-element outputs, grad
modes stop recording, detach leaves the graph, hooks see and may replace
gradients, and bad input raises torch's error types. Every tensor here lives
on the backend under test (it is the default backend in each case); values
are read back with tolist().
"""
from __future__ import annotations

import threading

import plugrad as pg
import pytest

pytestmark = pytest.mark.plugrad_conformance("engine")


def close(got, want, tol=1e-6):
    """Nested lists (or numbers) equal within tol."""
    if isinstance(want, (list, tuple)):
        return isinstance(got, list) and len(got) == len(want) and all(
            close(g, w, tol) for g, w in zip(got, want))
    return abs(got - want) <= tol * max(1.0, abs(want))


def leaf(values, dtype=None):
    return pg.tensor(values, dtype=dtype, requires_grad=True)


def test_compute_keeps_values_objects_versions_and_the_graph():
    # pg.compute evaluates pending work (a lazy backend) or does nothing (an eager one);
    # either way each tensor keeps its values, its identity, its version and its history
    x = leaf([1.0, 2.0])
    y = x * x
    loss = y.sum()
    loss.backward(retain_graph=True)
    grad = x.grad
    before = (y._version, y.grad_fn, loss.grad_fn)
    out = pg.compute(loss, y, grad)
    assert type(out) is tuple and out[0] is loss and out[1] is y and out[2] is grad
    assert (y._version, y.grad_fn, loss.grad_fn) == before
    assert close(loss.item(), 5.0) and close(y.tolist(), [1.0, 4.0])
    assert close(grad.tolist(), [2.0, 4.0])
    loss.backward()  # the graph is intact
    assert close(x.grad.tolist(), [4.0, 8.0])
    assert pg.compute() == ()


# -- accumulation and graph lifetime ---------------------------------------------------------
def test_tensors_are_made_on_the_backend_under_test(plugrad_target):
    x = pg.ones(2)
    assert x.backend is plugrad_target.backend
    assert (x * 2).backend is plugrad_target.backend


def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert close(x.grad.tolist(), [4.0, 8.0])


def test_grad_can_be_reset_between_steps():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    x.grad = None
    (x * 5).sum().backward()
    assert close(x.grad.tolist(), [5.0, 5.0])
    x.grad.zero_()
    assert x.grad.tolist() == [0.0, 0.0]


def test_second_backward_through_a_freed_graph_raises():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.tolist()
    x.grad = None
    y.backward()
    assert close(x.grad.tolist(), first)


def test_reconverging_paths_sum_their_contributions():
    x = leaf([0.5, -1.0])
    y = x * x + x * 3 + x.sin()
    y.sum().backward()
    import math
    assert close(x.grad.tolist(), [2 * v + 3 + math.cos(v) for v in (0.5, -1.0)])


def test_a_node_used_many_times_accumulates_every_use():
    x = leaf([1.0, -2.0])
    total = x * 0
    for k in range(1, 51):
        total = total + x * k
    total.sum().backward()
    assert close(x.grad.tolist(), [1275.0, 1275.0])


def test_shared_gradients_are_not_aliased():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (x + y).sum().backward()
    x.grad.zero_()
    assert y.grad.tolist() == [1.0, 1.0]


def test_the_users_gradient_is_never_modified():
    x = leaf([1.0, 2.0])
    v = pg.tensor([5.0, 6.0])
    x.backward(v)
    x.backward(v)
    assert v.tolist() == [5.0, 6.0]
    assert close(x.grad.tolist(), [10.0, 12.0])


def test_deep_chain_backpropagates():
    x = leaf([1.0], pg.float64)
    y = x
    for _ in range(2000):
        y = y * 1.001
    y.sum().backward()
    assert close(x.grad.tolist(), [1.001 ** 2000], 1e-9)


def test_mixed_precision_gradients_have_each_leafs_dtype():
    a = leaf([1.0, 2.0])
    b = leaf([3.0, 4.0], pg.float64)
    (a * b).sum().backward()
    assert a.grad.dtype is pg.float32 and b.grad.dtype is pg.float64
    assert close(a.grad.tolist(), [3.0, 4.0]) and close(b.grad.tolist(), [1.0, 2.0])


# -- what backward may be called on -----------------------------------------------------------
def test_implicit_gradient_only_for_one_element_outputs():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        (x * 2).backward()
    (x * 2)[1:].backward()  # one element, any number of dims
    assert close(x.grad.tolist(), [0.0, 2.0])


def test_explicit_gradient_weights_each_output():
    x = leaf([1.0, 2.0])
    (x * 3).backward(pg.tensor([1.0, 10.0]))
    assert close(x.grad.tolist(), [3.0, 30.0])


def test_wrongly_shaped_gradient_raises_naming_both_shapes():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"Mismatch in shape.*\[3\].*\[2\]"):
        (x * 2).backward(pg.ones(3))


def test_backward_of_a_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        pg.tensor([1.0]).sum().backward()


def test_backward_on_a_leaf_accumulates_into_itself():
    x = leaf(2.0)
    x.backward()
    assert x.grad.item() == 1.0


def test_backward_inputs_restricts_accumulation():
    x, y = leaf([1.0]), leaf([2.0])
    (x * y).sum().backward(inputs=[x])
    assert x.grad.tolist() == [2.0] and y.grad is None


def test_grad_returns_gradients_without_accumulating():
    x = leaf([1.0, 2.0])
    (gx,) = pg.autograd.grad((x ** 3).sum(), x)
    assert close(gx.tolist(), [3.0, 12.0]) and x.grad is None


def test_grad_of_an_unused_input_needs_allow_unused():
    x, z = leaf([1.0]), leaf([1.0])
    out = (x * 2).sum()
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        pg.autograd.grad(out, [x, z], retain_graph=True)
    assert pg.autograd.grad(out, [x, z], allow_unused=True, retain_graph=True)[1] is None
    assert pg.autograd.grad(out, [x, z], materialize_grads=True)[1].tolist() == [0.0]


def test_create_graph_gives_higher_derivatives():
    x = leaf(2.0)
    (d1,) = pg.autograd.grad(x ** 3, x, create_graph=True)
    (d2,) = pg.autograd.grad(d1, x, create_graph=True)
    (d3,) = pg.autograd.grad(d2, x)
    assert (d1.item(), d2.item(), d3.item()) == (12.0, 12.0, 6.0)


def test_non_leaf_grad_is_kept_only_when_retained():
    x = leaf([1.0, 2.0])
    h = x * 2
    h.retain_grad()
    (h * h).sum().backward()
    assert close(h.grad.tolist(), [4.0, 8.0]) and h.retains_grad
    g = x * 3
    with pytest.warns(UserWarning, match="not a leaf"):
        assert g.grad is None


# -- grad modes and detach ----------------------------------------------------------------------
def _records() -> bool:
    return (pg.tensor([1.0], requires_grad=True) * 2).requires_grad


def test_no_grad_records_nothing_and_enable_grad_turns_it_back_on():
    with pg.no_grad():
        assert not pg.is_grad_enabled() and not _records()
        with pg.enable_grad():
            assert _records()
    assert pg.is_grad_enabled() and _records()


def test_grad_modes_as_decorators_and_calls():
    @pg.no_grad()
    def off():
        return _records()

    assert off() is False and pg.is_grad_enabled()
    with pg.set_grad_enabled(False):
        assert not _records()
    with pg.inference_mode():
        assert not _records() and pg.is_inference_mode_enabled()
    assert _records()


def test_grad_mode_belongs_to_the_thread():
    seen = []
    with pg.no_grad():
        worker = threading.Thread(target=lambda: seen.append(_records()))
        worker.start()
        worker.join()
    assert seen == [True]


def test_results_under_no_grad_have_no_grad_fn():
    x = leaf([2.0])
    with pg.no_grad():
        y = x ** 2
    assert not y.requires_grad and y.grad_fn is None
    assert y.tolist() == [4.0]


def test_detach_shares_data_and_leaves_the_graph():
    x = leaf([2.0, 3.0])
    y = x ** 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.tolist() == [4.0, 9.0]
    assert not (d * 2).requires_grad
    z = x.detach()
    with pg.no_grad():
        z.zero_()
    assert x.tolist() == [0.0, 0.0]  # same data as x


def test_detach_in_place_makes_a_leaf():
    x = leaf([1.0])
    y = x * 2
    y.detach_()
    assert y.is_leaf and not y.requires_grad


# -- hooks ----------------------------------------------------------------------------------------
def test_hooks_see_and_replace_gradients():
    x = leaf([1.0, 2.0])
    h = x * 2
    seen = []
    h.register_hook(lambda g: seen.append(g.tolist()))
    handle = x.register_hook(lambda g: g * 10)
    (h * 3).sum().backward()
    assert close(seen[0], [3.0, 3.0]) and close(x.grad.tolist(), [60.0, 60.0])
    handle.remove()
    x.grad = None
    (x * 1).sum().backward()
    assert close(x.grad.tolist(), [1.0, 1.0])


@pytest.mark.parametrize("order", ["hooked_first", "hooked_second"])
def test_gradients_seen_by_hooks_are_never_changed_afterwards(order):
    # the hooked gradient passes through an identity-like node into a buffer that
    # receives a second contribution, before or after it; summing must not write into it
    x = leaf([1.0, 2.0])
    a = x * 1.0
    h = a + 0.0
    seen = []
    h.register_hook(lambda g: seen.append(g))
    y = (h * 2 + a * 3) if order == "hooked_first" else (a * 3 + h * 2)
    y.sum().backward()
    assert close(seen[0].tolist(), [2.0, 2.0]) and close(x.grad.tolist(), [5.0, 5.0])


def test_grad_mode_is_restored_when_a_hook_raises():
    x = leaf([1.0])
    y = x * x
    y.register_hook(lambda g: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        y.sum().backward()
    assert pg.is_grad_enabled()


# -- errors for bad input -----------------------------------------------------------------------
def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        pg.tensor([1, 2], requires_grad=True)


def test_numpy_of_a_tensor_that_requires_grad_raises():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.0]


def test_item_needs_one_element():
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        pg.ones(2).item()


def test_broadcast_mismatch_raises_runtime_error():
    with pytest.raises(RuntimeError, match="must match the size"):
        pg.ones(2, 3) + pg.ones(4)


def test_matmul_shape_mismatch_raises_runtime_error():
    with pytest.raises(RuntimeError):
        pg.ones(2, 3) @ pg.ones(4, 2)


def test_dim_out_of_range_raises_index_error():
    with pytest.raises(IndexError):
        pg.ones(2, 3).sum(dim=2)
    with pytest.raises(IndexError):
        pg.ones(2, 3)[5]


def test_bad_reshape_raises_runtime_error():
    with pytest.raises(RuntimeError):
        pg.ones(2, 3).reshape(4, 2)


def test_reduction_of_an_empty_tensor_without_identity_raises():
    with pytest.raises((RuntimeError, IndexError)):
        pg.zeros(0).amax()


def test_unsupported_operand_types_raise_type_error():
    with pytest.raises(TypeError):
        pg.ones(2) + "a"
    with pytest.raises(TypeError):
        pg.exp(2.0)


def test_in_place_change_of_a_leaf_that_requires_grad_raises():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x.zero_()
