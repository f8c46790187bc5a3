"""Custom Functions: forward/backward pairs, ctx, multiple outputs, double backward, errors."""
from __future__ import annotations

import doctest
import gc
import weakref

import numpy as np
import plugrad as pg
import pytest
from helpers import as_numpy, check_grads, check_second_grads
from plugrad.autograd import Function, once_differentiable


# -- Functions used below ------------------------------------------------------------------------
class Exp(Function):
    """Saves its output: double backward must flow through the saved output."""

    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y


class Cube(Function):
    """Saves its input; backward written with plugrad ops (differentiable)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x


class MulConstant(Function):
    """A non-tensor argument: backward returns None for it."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return x * k

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.k, None


class SinCos(Function):
    """Two outputs, both differentiable."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin(), x.cos()

    @staticmethod
    def backward(ctx, g_sin, g_cos):
        (x,) = ctx.saved_tensors
        return g_sin * x.cos() - g_cos * x.sin()


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, grad * a


# -- values and gradients --------------------------------------------------------------------------
def test_forward_and_backward_match_the_analytic_gradient():
    x = pg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = Cube.apply(x)
    np.testing.assert_allclose(as_numpy(y), as_numpy(x) ** 3, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(as_numpy(x.grad), 3 * as_numpy(x) ** 2, rtol=1e-6)


@pytest.mark.parametrize("fn", [
    lambda x: Exp.apply(x),
    lambda x: Cube.apply(x * 2) + x,
    lambda x: MulConstant.apply(x, 3.5).tanh(),
    lambda x: SinCos.apply(x)[0] * SinCos.apply(x)[1],
    lambda x: (lambda s, c: s * s + c * x)(*SinCos.apply(x)),
], ids=["exp", "cube", "mulconstant", "two-calls", "outputs-reconverge"])
def test_custom_functions_match_finite_differences(fn):
    check_grads(fn, np.array([0.3, -0.7, 1.1]))


def test_two_tensor_inputs_match_finite_differences():
    check_grads(lambda a, b: Mul.apply(a, b.exp()), np.array([1.0, -2.0]), np.array([0.1, 0.4]))


def test_grad_fn_is_named_after_the_class():
    x = pg.tensor([1.0], requires_grad=True)
    y = Exp.apply(x)
    assert y.grad_fn.name() == "ExpBackward"
    assert type(y.grad_fn).__name__ == "ExpBackward"
    assert "grad_fn=<ExpBackward>" in repr(y)
    assert not y.is_leaf and y.requires_grad


def test_next_functions_list_only_tensor_arguments():
    x = pg.tensor([1.0], requires_grad=True)
    y = MulConstant.apply(x, 2.0)
    (node, index), = y.grad_fn.next_functions
    assert node.name() == "AccumulateGrad" and index == 0


def test_ctx_attributes_and_needs_input_grad():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b, k):
            seen["needs"] = ctx.needs_input_grad
            ctx.k = k
            return a * b * k

        @staticmethod
        def backward(ctx, grad):
            seen["k"] = ctx.k
            return grad, None, None

    a = pg.tensor([1.0], requires_grad=True)
    b = pg.tensor([2.0])
    y = Probe.apply(a, b, 3)
    assert seen["needs"] == (True, False, False)
    assert y.grad_fn.k == 3 and y.grad_fn.needs_input_grad == (True, False, False)
    y.sum().backward()
    assert seen["k"] == 3


# -- saved tensors ---------------------------------------------------------------------------------
def test_saved_tensors_are_freed_by_backward_and_raise_afterwards():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x)
    assert y.grad_fn.saved_tensors[0] is x
    y.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        _ = y.grad_fn.saved_tensors
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.sum().backward()


def test_retain_graph_keeps_saved_tensors():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(as_numpy(x.grad), 2 * 3 * as_numpy(x) ** 2)


def test_function_without_saved_tensors_can_backward_twice():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = MulConstant.apply(x, 2.0).sum()
    y.backward()
    y.backward()
    np.testing.assert_allclose(as_numpy(x.grad), [4.0, 4.0])


def test_save_for_backward_takes_only_tensors_and_none():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x * 1

    with pytest.raises(TypeError, match="save_for_backward can only save variables"):
        Bad.apply(pg.tensor([1.0], requires_grad=True))


def test_saved_output_is_reconnected_and_creates_no_reference_cycle():
    gc.disable()
    try:
        x = pg.tensor([0.5, 1.0], requires_grad=True)
        y = Exp.apply(x)
        saved = y.grad_fn.saved_tensors[0]
        assert saved.grad_fn is y.grad_fn and saved is not y
        node = weakref.ref(y.grad_fn)
        del y, saved
        assert node() is None
    finally:
        gc.enable()


def test_dropping_the_outputs_of_a_multi_output_function_frees_its_node():
    gc.disable()
    try:
        x = pg.tensor([0.5, 1.0], requires_grad=True)
        s, c = SinCos.apply(x)
        node = weakref.ref(s.grad_fn.main)
        del s, c
        assert node() is None
    finally:
        gc.enable()


# -- outputs ---------------------------------------------------------------------------------------
def test_each_output_gets_its_own_gradient_and_missing_ones_are_zeros():
    got = []

    class Pair(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, ga, gb):
            got.append((as_numpy(ga).tolist(), as_numpy(gb).tolist()))
            return ga * 2 + gb * 3

    x = pg.tensor([1.0, 2.0], requires_grad=True)
    a, b = Pair.apply(x)
    a.sum().backward()  # no gradient reaches b: it arrives as zeros
    assert got[-1] == ([1.0, 1.0], [0.0, 0.0])
    a, b = Pair.apply(x)
    (a.sum() + (b * 10).sum()).backward()
    assert got[-1] == ([1.0, 1.0], [10.0, 10.0])
    np.testing.assert_allclose(as_numpy(x.grad), [2 + 2 + 30, 2 + 2 + 30])


def test_set_materialize_grads_false_passes_none():
    got = []

    class Pair(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 1, x * 2

        @staticmethod
        def backward(ctx, ga, gb):
            got.append(gb)
            return ga

    x = pg.tensor([1.0], requires_grad=True)
    a, _ = Pair.apply(x)
    a.sum().backward()
    assert got == [None]


def test_non_tensor_outputs_pass_through_and_get_no_gradient():
    class WithCount(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, 7

        @staticmethod
        def backward(ctx, g, g_count):
            assert g_count is None
            return g * 2

    x = pg.tensor([1.0], requires_grad=True)
    y, count = WithCount.apply(x)
    assert count == 7
    y.sum().backward()
    assert x.grad.item() == 2.0


def test_mark_non_differentiable_outputs_do_not_require_grad():
    class MaxWithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            idx = x.argmax()
            value = x.max()
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(idx)
            ctx.shape = tuple(x.shape)
            return value, idx

        @staticmethod
        def backward(ctx, g_value, g_idx):
            (idx,) = ctx.saved_tensors
            assert g_idx.tolist() == 0  # materialized zero for the index
            return pg.where(pg.arange(ctx.shape[0]) == idx, g_value, 0.0)

    x = pg.tensor([1.0, 5.0, 2.0], requires_grad=True)
    value, idx = MaxWithIndex.apply(x)
    assert value.requires_grad and not idx.requires_grad and idx.grad_fn is None
    value.backward()
    np.testing.assert_allclose(as_numpy(x.grad), [0.0, 1.0, 0.0])


def test_integer_outputs_are_not_differentiable():
    class Floor(Function):
        @staticmethod
        def forward(ctx, x):
            return x.long()

        @staticmethod
        def backward(ctx, g):
            return g

    assert not Floor.apply(pg.tensor([1.5], requires_grad=True)).requires_grad


def test_returning_an_input_makes_a_new_tensor_with_this_grad_fn():
    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 5

    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = Identity.apply(x)
    assert y is not x and y.grad_fn.name() == "IdentityBackward" and x.grad_fn is None
    y.sum().backward()
    np.testing.assert_allclose(as_numpy(x.grad), [5.0, 5.0])


def test_without_grad_nothing_is_recorded():
    x = pg.tensor([1.0], requires_grad=True)
    with pg.no_grad():
        y = Cube.apply(x)
    assert y.grad_fn is None and not y.requires_grad
    z = Cube.apply(pg.tensor([1.0]))
    assert z.grad_fn is None and not z.requires_grad


# -- what backward returns -------------------------------------------------------------------------
def _function(backward, forward=lambda ctx, x, *rest: x * 2):
    return type("Custom", (Function,), {"forward": staticmethod(forward),
                                        "backward": staticmethod(backward)})


def test_wrong_number_of_gradients_is_a_runtime_error():
    f = _function(lambda ctx, g: g, forward=lambda ctx, x, y: x + y)
    x = pg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"function CustomBackward returned an incorrect "
                                           r"number of gradients \(expected 2, got 1\)"):
        f.apply(x, x).sum().backward()


def test_extra_none_gradients_are_allowed():
    f = _function(lambda ctx, g: (g * 2, None, None))
    x = pg.tensor([1.0], requires_grad=True)
    f.apply(x).sum().backward()
    assert x.grad.item() == 2.0


def test_gradient_for_a_non_tensor_argument_is_a_runtime_error():
    f = _function(lambda ctx, g: (g, g))
    x = pg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="different than None at position 2, but the "
                                           "corresponding forward input was not a Variable"):
        f.apply(x, 2).sum().backward()


def test_gradient_of_the_wrong_shape_is_a_runtime_error():
    f = _function(lambda ctx, g: pg.ones(3))
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"returned an invalid gradient at index 0 - got "
                                           r"\[3\] but expected shape compatible with \[2\]"):
        f.apply(x).sum().backward()


def test_broadcast_gradient_is_summed_and_cast_to_the_input():
    f = _function(lambda ctx, g: pg.ones(4, 2, dtype=pg.float64), forward=lambda ctx, x: x.sum())
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    f.apply(x).backward()
    assert x.grad.dtype is pg.float32
    np.testing.assert_allclose(as_numpy(x.grad), [4.0, 4.0])


def test_a_tensor_returned_by_backward_is_never_written_by_the_engine():
    constant = pg.tensor([1.0, 1.0])
    f = _function(lambda ctx, g: constant)
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    (f.apply(x).sum() + f.apply(x).sum() + (x * 3).sum()).backward()
    np.testing.assert_allclose(as_numpy(constant), [1.0, 1.0])
    np.testing.assert_allclose(as_numpy(x.grad), [5.0, 5.0])


# -- higher order ----------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda x: Exp.apply(x),
    lambda x: Cube.apply(x),
    lambda x: Mul.apply(x, x.sin()),
    lambda x: (lambda s, c: s * c)(*SinCos.apply(x)),
], ids=["saved-output", "saved-input", "two-inputs", "two-outputs"])
def test_double_backward_through_custom_functions(fn):
    check_second_grads(fn, np.array([0.3, -0.6, 0.9]))


def test_third_derivative_through_a_custom_function():
    x = pg.tensor([0.5, -1.0], dtype=pg.float64, requires_grad=True)
    (d1,) = pg.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    (d2,) = pg.autograd.grad(d1.sum(), x, create_graph=True)
    (d3,) = pg.autograd.grad(d2.sum(), x)
    np.testing.assert_allclose(as_numpy(d1), 3 * as_numpy(x) ** 2)
    np.testing.assert_allclose(as_numpy(d2), 6 * as_numpy(x))
    np.testing.assert_allclose(as_numpy(d3), [6.0, 6.0])


def test_backward_runs_in_the_engines_grad_mode():
    modes = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            modes.append(("forward", pg.is_grad_enabled()))
            return x * 2

        @staticmethod
        def backward(ctx, g):
            modes.append(("backward", pg.is_grad_enabled()))
            return g * 2

    x = pg.tensor([1.0], requires_grad=True)
    Probe.apply(x).sum().backward()
    pg.autograd.grad(Probe.apply(x).sum(), x, create_graph=True)
    assert modes == [("forward", False), ("backward", False), ("forward", False),
                     ("backward", True)]


class OnceCube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        assert not pg.is_grad_enabled()
        return 3 * x * x * g


def test_once_differentiable_gives_first_derivatives():
    check_grads(lambda x: OnceCube.apply(x), np.array([0.5, -2.0]))


def test_once_differentiable_refuses_double_backward():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = OnceCube.apply(x * 1)
    v = pg.ones(2, requires_grad=True)
    (gx,) = pg.autograd.grad(y, x, v, create_graph=True)
    np.testing.assert_allclose(as_numpy(gx), [3.0, 12.0])
    with pytest.raises(RuntimeError, match="differentiate twice a function that was marked "
                                           "with @once_differentiable"):
        gx.sum().backward()


# -- styles of definition --------------------------------------------------------------------------
def test_setup_context_style_binds_defaults():
    class Scale(Function):
        @staticmethod
        def forward(x, k=2.0):
            return x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.k = inputs[1]

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None

    x = pg.tensor([1.0], requires_grad=True)
    Scale.apply(x).sum().backward()
    Scale.apply(x, k=3.0).sum().backward()
    assert x.grad.item() == 5.0


def test_keyword_arguments_reach_forward():
    class Scale(Function):
        @staticmethod
        def forward(ctx, x, k=2.0):
            ctx.k = k
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k

    x = pg.tensor([1.0], requires_grad=True)
    Scale.apply(x, k=4.0).sum().backward()
    assert x.grad.item() == 4.0


def test_calling_an_instance_is_the_legacy_api_and_raises():
    with pytest.raises(RuntimeError, match="Legacy autograd function"):
        Exp()(pg.tensor([1.0]))


def test_missing_backward_raises_not_implemented():
    class NoBackward(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    with pytest.raises(NotImplementedError, match="backward"):
        NoBackward.apply(pg.tensor([1.0], requires_grad=True)).sum().backward()


# -- interplay with the engine ---------------------------------------------------------------------
def test_hooks_and_retain_grad_on_one_output_of_several():
    x = pg.tensor([0.3, 0.6], requires_grad=True)
    s, c = SinCos.apply(x)
    c.retain_grad()
    s.register_hook(lambda g: g * 0)  # drop the sin part
    (s + c).sum().backward()
    np.testing.assert_allclose(as_numpy(c.grad), [1.0, 1.0])
    np.testing.assert_allclose(as_numpy(x.grad), -np.sin([0.3, 0.6]), rtol=1e-6)


def test_grad_with_respect_to_an_output_of_a_multi_output_function():
    x = pg.tensor([0.3, 0.6], requires_grad=True)
    s, c = SinCos.apply(x)
    gs, gc_ = pg.autograd.grad((s * 2 + c * 3).sum(), [s, c])
    np.testing.assert_allclose(as_numpy(gs), [2.0, 2.0])
    np.testing.assert_allclose(as_numpy(gc_), [3.0, 3.0])


def test_node_hooks_see_all_output_gradients_as_a_tuple():
    x = pg.tensor([0.3], requires_grad=True)
    s, c = SinCos.apply(x)
    seen = []
    s.grad_fn.register_prehook(lambda grad_outputs: seen.append(len(grad_outputs)))
    (s * 2 + c).sum().backward()
    assert seen == [2]


@pytest.fixture(params=["numpy_generic", "array_api_strict"])
def other_backend(request):
    array_api = pytest.importorskip("plugrad.backends.array_api")
    if request.param == "array_api_strict":
        xp = pytest.importorskip("array_api_strict")
    else:
        xp = np
    return array_api.ArrayAPIBackend(xp, request.param)


def test_custom_functions_work_on_other_backends(other_backend):
    x = pg.tensor([0.5, 1.0], dtype=pg.float64, requires_grad=True, backend=other_backend)
    s, c = SinCos.apply(x)
    y = Exp.apply(s) * c
    (g,) = pg.autograd.grad(y.sum(), x, create_graph=True)
    (h,) = pg.autograd.grad(g.sum(), x)
    assert g.backend is other_backend and h.backend is other_backend
    t = np.array([0.5, 1.0])
    # y = exp(sin t) cos t; y' = exp(sin t)(cos^2 t - sin t)
    np.testing.assert_allclose(g.tolist(), np.exp(np.sin(t)) * (np.cos(t) ** 2 - np.sin(t)))
    expected_h = np.exp(np.sin(t)) * (np.cos(t) * (np.cos(t) ** 2 - np.sin(t))
                                      - 2 * np.cos(t) * np.sin(t) - np.cos(t))
    np.testing.assert_allclose(h.tolist(), expected_h, rtol=1e-10)


# -- docstrings ----------------------------------------------------------------------------------
def test_docstring_examples():
    import plugrad.autograd.function as module
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
