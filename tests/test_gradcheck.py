"""gradcheck and gradgradcheck: pass on correct gradients, fail (torch's way) on wrong ones."""
from __future__ import annotations

import doctest

import numpy as np
import plugrad as pg
import pytest
from plugrad.autograd import Function, GradcheckError, gradcheck, gradgradcheck


def t(values, requires_grad=True, dtype=pg.float64, **kwargs):
    return pg.tensor(values, dtype=dtype, requires_grad=requires_grad, **kwargs)


class WrongSquare(Function):
    """forward x**2 with a backward that is off by a factor (first derivative wrong)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * x * g


class FirstOrderOnly(Function):
    """x**3 whose backward is right but not differentiable correctly (uses a constant)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * x.detach() ** 2 * g  # detached: the second derivative is lost


@pytest.mark.parametrize("fn, inputs", [
    (lambda x: (x * x).sin(), (t([0.5, 1.5]),)),
    (lambda a, b: a @ b, (t([[1.0, 2.0], [3.0, 4.0]]), t([[0.5], [-1.0]]))),
    (lambda x: x.softmax(-1), (t([[0.1, 0.9, -0.3]]),)),
    (lambda x, k: x * k, (t([1.0, 2.0]), 3.0)),
    (lambda a, b: (a.exp() * b, a.sum()), (t([0.2, 0.3]), t([1.0, -1.0]))),
], ids=["sin-square", "matmul", "softmax", "non-tensor-arg", "two-outputs"])
def test_correct_gradients_pass(fn, inputs):
    assert gradcheck(fn, inputs)
    assert gradcheck(fn, inputs, fast_mode=True)
    assert gradgradcheck(fn, inputs)


def test_a_single_tensor_input_needs_no_tuple():
    assert gradcheck(lambda x: x.tanh(), t([0.1, 0.2]))


def test_wrong_gradient_raises_with_both_jacobians():
    with pytest.raises(GradcheckError, match=r"(?s)Jacobian mismatch for output 0 with respect "
                                             r"to input 0,\nnumerical:.*\nanalytical:.*"):
        gradcheck(WrongSquare.apply, (t([1.0, 2.0]),))
    assert issubclass(GradcheckError, RuntimeError)


def test_wrong_gradient_in_fast_mode():
    with pytest.raises(GradcheckError, match="fast mode"):
        gradcheck(WrongSquare.apply, (t([1.0, 2.0]),), fast_mode=True)


def test_raise_exception_false_returns_false():
    assert gradcheck(WrongSquare.apply, (t([1.0, 2.0]),), raise_exception=False) is False
    assert gradgradcheck(FirstOrderOnly.apply, (t([1.0, 2.0]),), raise_exception=False) is False


def test_gradgradcheck_catches_a_wrong_second_derivative():
    assert gradcheck(FirstOrderOnly.apply, (t([1.0, 2.0]),))
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradgradcheck(FirstOrderOnly.apply, (t([1.0, 2.0]),))


def test_gradgradcheck_with_given_grad_outputs():
    x = t([0.3, 0.7])
    v = t([1.0, -2.0])
    assert gradgradcheck(lambda a: a.exp() * a, (x,), (v,))


def test_input_index_counts_only_inputs_that_require_grad():
    def fn(c, x):
        return WrongSquare.apply(x) + c

    with pytest.raises(GradcheckError, match="with respect to input 0"):
        gradcheck(fn, (t([1.0], requires_grad=False), t([2.0])))


def test_tolerances_are_used():
    class SlightlyOff(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2.01

    x = t([1.0])
    assert not gradcheck(SlightlyOff.apply, (x,), raise_exception=False)
    assert gradcheck(SlightlyOff.apply, (x,), rtol=1e-2)
    assert gradcheck(SlightlyOff.apply, (x,), atol=1e-2)


def test_float32_inputs_warn_like_torch():
    with pytest.warns(UserWarning, match="Input #0 requires gradient and is not a double "
                                         "precision floating point"):
        gradcheck(lambda x: x * 2, (t([1.0], dtype=pg.float32),), eps=1e-3, atol=1e-2,
                  rtol=1e-2)


def test_no_input_requiring_grad_is_a_value_error():
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(lambda x: x * 2, (t([1.0], requires_grad=False),))


def test_non_deterministic_backward_is_not_reentrant():
    calls = []

    class Flaky(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            calls.append(1)
            return g * (2 + 1e-9 * len(calls))

    with pytest.raises(GradcheckError, match="Backward is not reentrant"):
        gradcheck(Flaky.apply, (t([1.0]),))
    assert gradcheck(Flaky.apply, (t([1.0]),), nondet_tol=1e-6)


def test_gradient_of_the_wrong_dtype_is_reported_when_asked():
    class HalfPrecision(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    # plugrad casts the gradient to the input's dtype, as torch does, so this passes
    assert gradcheck(HalfPrecision.apply, (t([1.0]),), check_grad_dtypes=True)


def test_zero_output_gradients_must_give_zero_input_gradients():
    class Leaky(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2 + (g * 0 + 1) * (g.abs().sum() == 0).double() * 1e-12

    # numerically right within tolerance, but not zero for a zero output gradient
    with pytest.raises(GradcheckError, match="input grads to be undefined or zero"):
        gradcheck(Leaky.apply, (t([1.0]),))
    assert gradcheck(Leaky.apply, (t([1.0]),), check_undefined_grad=False)


def test_outputs_that_need_no_grad_must_have_zero_numerical_gradient():
    assert gradcheck(lambda x: (x > 0).double(), (t([1.0, -1.0]),))
    with pytest.raises(GradcheckError, match="Numerical gradient for function expected to be "
                                             "zero"):
        gradcheck(lambda x: (x * 2).detach(), (t([1.0]),))


def test_unsupported_checks_say_so():
    with pytest.raises(NotImplementedError, match="forward-mode"):
        gradcheck(lambda x: x, (t([1.0]),), check_forward_ad=True)


def test_check_backward_ad_false_only_runs_forward():
    assert gradcheck(WrongSquare.apply, (t([1.0]),), check_backward_ad=False)


def test_torch_defaults():
    import inspect
    params = inspect.signature(gradcheck).parameters
    assert (params["eps"].default, params["atol"].default, params["rtol"].default) == \
        (1e-6, 1e-5, 1e-3)
    assert params["raise_exception"].default is True
    params = inspect.signature(gradgradcheck).parameters
    assert params["grad_outputs"].default is None and params["eps"].default == 1e-6


def test_the_inputs_are_left_unchanged():
    x = t([0.5, 1.5])
    gradcheck(lambda a: a.exp(), (x,))
    assert x.tolist() == [0.5, 1.5] and x.grad is None


def test_on_another_backend():
    array_api = pytest.importorskip("plugrad.backends.array_api")
    strict = pytest.importorskip("array_api_strict")
    bk = array_api.ArrayAPIBackend(strict, "array_api_strict")
    x = pg.tensor([0.5, 1.5], dtype=pg.float64, requires_grad=True, backend=bk)
    assert gradcheck(lambda a: (a * a).sin().sum(), (x,))
    assert gradgradcheck(lambda a: (a * a).sin(), (x,))
    assert not gradcheck(WrongSquare.apply, (x,), raise_exception=False)


def test_agrees_with_torch_gradcheck_when_torch_is_installed():
    torch = pytest.importorskip("torch")
    values = np.array([0.3, -0.8, 1.1])
    for fn in (lambda a: (a.exp() * a).tanh(), lambda a: a.softmax(0) * a):
        ours = gradcheck(fn, (pg.tensor(values, requires_grad=True),), raise_exception=False)
        theirs = torch.autograd.gradcheck(fn, (torch.tensor(values, requires_grad=True),),
                                          raise_exception=False)
        assert ours == theirs is True


def test_docstring_examples():
    import importlib
    module = importlib.import_module("plugrad.autograd.gradcheck")  # the name is the function
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
