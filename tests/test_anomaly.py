"""Anomaly detection: NaN/inf in backward names the op and shows the forward traceback."""
from __future__ import annotations

import doctest
import warnings

import numpy as np
import plugrad as pg
import pytest
from helpers import as_numpy
from plugrad.autograd import Function, detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from plugrad.graph import Node


@pytest.fixture(autouse=True)
def anomaly_off_afterwards():
    yield
    set_detect_anomaly(False)


def _quiet_detect_anomaly(**kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return detect_anomaly(**kwargs)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's own 0/0 warning
def test_nan_in_backward_names_the_op_like_torch():
    x = pg.tensor([0.0, 1.0], requires_grad=True)
    with _quiet_detect_anomaly():
        y = (x.sqrt() * 0.0).sum()  # sqrt'(0) = inf, times 0: nan
        with pytest.warns(UserWarning, match="Error detected in SqrtBackward0"):
            with pytest.raises(RuntimeError, match=r"^Function 'SqrtBackward0' returned nan "
                                                   r"values in its 0th output\."):
                y.backward()


def test_inf_in_backward_is_reported_too():
    x = pg.tensor([0.0, 1.0], requires_grad=True)
    with _quiet_detect_anomaly():
        with pytest.raises(RuntimeError, match="'SqrtBackward0' returned inf values"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                x.sqrt().sum().backward()


def test_the_warning_shows_the_forward_line(tmp_path):
    x = pg.tensor([0.0], requires_grad=True)
    with _quiet_detect_anomaly():
        y = x.log() * 0.0  # THE FORWARD LINE
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(RuntimeError) as info:
                y.sum().backward()
    messages = [str(w.message) for w in caught if "Error detected" in str(w.message)]
    assert len(messages) == 1
    assert "Traceback of forward call that caused the error" in messages[0]
    assert "test_anomaly.py" in messages[0] and "THE FORWARD LINE" in messages[0]
    # plugrad's own frames are left out: the trace ends at the user's line
    assert messages[0].rstrip().endswith("y = x.log() * 0.0  # THE FORWARD LINE")
    if hasattr(info.value, "__notes__"):
        assert "THE FORWARD LINE" in info.value.__notes__[0]


def test_errors_other_than_nan_get_the_forward_trace_too():
    class Broken(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            raise ValueError("bad backward")

    x = pg.tensor([1.0], requires_grad=True)
    with _quiet_detect_anomaly():
        y = Broken.apply(x)  # BROKEN CALL
        with pytest.warns(UserWarning, match="(?s)Error detected in BrokenBackward.*BROKEN CALL"):
            with pytest.raises(ValueError, match="bad backward"):
                y.sum().backward()


def test_without_anomaly_mode_nan_passes_silently():
    x = pg.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (x.sqrt() * 0.0).sum().backward()
    assert np.isnan(as_numpy(x.grad)[0])


def test_check_nan_false_records_traces_but_does_not_check():
    x = pg.tensor([0.0, 1.0], requires_grad=True)
    with _quiet_detect_anomaly(check_nan=False):
        assert pg.autograd.is_anomaly_check_nan_enabled() is False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (x.sqrt() * 0.0).sum().backward()
    assert np.isnan(as_numpy(x.grad)[0])


def test_traces_are_kept_only_while_enabled():
    x = pg.tensor([1.0], requires_grad=True)
    plain = x * 2
    with _quiet_detect_anomaly():
        traced = x * 2
    after = x * 2
    assert getattr(plain.grad_fn, "_trace", None) is None
    assert getattr(after.grad_fn, "_trace", None) is None
    assert traced.grad_fn._trace[-1].filename.endswith("test_anomaly.py")


def test_the_node_constructor_is_restored_exactly():
    plain = Node.__init__
    with _quiet_detect_anomaly():
        assert Node.__init__ is not plain
    assert Node.__init__ is plain


def test_detect_anomaly_warns_when_created_and_restores_the_previous_mode():
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        ctx = detect_anomaly()
    assert not is_anomaly_enabled()
    with ctx:
        assert is_anomaly_enabled()
        with _quiet_detect_anomaly():
            assert is_anomaly_enabled()
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()


def test_detect_anomaly_as_a_decorator():
    @_quiet_detect_anomaly()
    def inside():
        return is_anomaly_enabled()

    assert inside() is True
    assert not is_anomaly_enabled()


def test_set_detect_anomaly_as_a_call_and_as_a_context_manager():
    set_detect_anomaly(True)
    assert is_anomaly_enabled()
    with set_detect_anomaly(False):
        assert not is_anomaly_enabled()
    assert is_anomaly_enabled()
    set_detect_anomaly(False)
    assert not is_anomaly_enabled()


def test_finite_backward_is_unchanged_in_anomaly_mode():
    x = pg.tensor([0.5, 2.0], requires_grad=True)
    with _quiet_detect_anomaly():
        (x.exp() * x).sum().backward()
    np.testing.assert_allclose(as_numpy(x.grad), np.exp([0.5, 2.0]) * (1 + np.array([0.5, 2.0])),
                               rtol=1e-6)


def test_anomaly_mode_with_double_backward_and_custom_functions():
    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = pg.tensor([1.5], requires_grad=True)
    with _quiet_detect_anomaly():
        (g,) = pg.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
        g.sum().backward()
    assert x.grad.item() == 2.0


def test_docstring_examples():
    import plugrad.autograd.anomaly_mode as module
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
