"""plugrad.nn.init: fans, gains and errors as torch's; distributions checked by their
statistics over large tensors (the numbers are the backend generator's, not torch's)."""
from __future__ import annotations

import math
import warnings

import numpy as np
import plugrad as pg
import pytest
from plugrad.nn import init

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("shape", [(5, 3), (16, 3, 5, 5), (4, 2, 7), (2, 3, 1, 2, 2)])
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(pg.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


@pytest.mark.parametrize("args", [("linear",), ("conv_transpose2d",), ("sigmoid",), ("tanh",),
                                  ("relu",), ("leaky_relu",), ("leaky_relu", 0.2),
                                  ("leaky_relu", 3), ("selu",)])
def test_gains_match_torch(args):
    want = torch.nn.init.calculate_gain(*args)
    got = init.calculate_gain(*args)
    assert got == want and type(got) is type(want)


@pytest.mark.parametrize("call", [
    lambda lib, nn: nn.init.calculate_gain("softplus"),
    lambda lib, nn: nn.init.calculate_gain("leaky_relu", True),
    lambda lib, nn: nn.init.calculate_gain("leaky_relu", "x"),
    lambda lib, nn: nn.init.xavier_uniform_(lib.empty(3)),
    lambda lib, nn: nn.init.xavier_normal_(lib.empty(())),
    lambda lib, nn: nn.init.kaiming_uniform_(lib.empty(3)),
    lambda lib, nn: nn.init.kaiming_normal_(lib.empty(3, 3), mode="fan_avg"),
    lambda lib, nn: nn.init.orthogonal_(lib.empty(3)),
    lambda lib, nn: nn.init.eye_(lib.empty(2, 2, 2)),
    lambda lib, nn: nn.init.dirac_(lib.empty(2, 2)),
    lambda lib, nn: nn.init.dirac_(lib.empty(3, 2, 3), groups=2),
])
def test_errors_match_torch(call):
    with pytest.raises(Exception) as expected:
        call(torch, torch.nn)
    with pytest.raises(type(expected.value), match=None) as got:
        call(pg, pg.nn)
    assert str(got.value) == str(expected.value)


def _stats(t: pg.Tensor) -> tuple:
    a = t.numpy().astype(np.float64).ravel()
    return a.mean(), a.std(), a.min(), a.max()


N = 400_000  # elements: the sample mean's error is about std / 630


def _check(t, mean, std, lo=None, hi=None):
    m, s, mn, mx = _stats(t)
    assert abs(m - mean) < 6 * std / math.sqrt(t.numel()) + 1e-7
    assert abs(s - std) < 0.01 * std
    if lo is not None:
        assert mn >= lo and mx <= hi


def test_uniform_and_normal_statistics():
    _check(init.uniform_(pg.empty(N), -2.0, 1.0), -0.5, 3 / math.sqrt(12), -2.0, 1.0)
    _check(init.normal_(pg.empty(N), 1.5, 0.2), 1.5, 0.2)


@pytest.mark.parametrize("fn, gain_fan", [
    (lambda m, t: m.xavier_uniform_(t, gain=2.0), lambda fi, fo: 2.0 * math.sqrt(2 / (fi + fo))),
    (lambda m, t: m.xavier_normal_(t), lambda fi, fo: math.sqrt(2 / (fi + fo))),
    (lambda m, t: m.kaiming_uniform_(t, a=math.sqrt(5)), lambda fi, fo: 1 / math.sqrt(3 * fi)),
    (lambda m, t: m.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
     lambda fi, fo: math.sqrt(2 / fo)),
    (lambda m, t: m.kaiming_uniform_(t, nonlinearity="tanh", mode="FAN_IN"),
     lambda fi, fo: 5 / 3 / math.sqrt(fi)),
])
def test_scaled_initialisations_have_torchs_std(fn, gain_fan):
    shape = (500, 40, 4, 5)
    t = pg.empty(*shape)
    std = gain_fan(*init._calculate_fan_in_and_fan_out(t))
    assert fn(init, t) is t
    _check(t, 0.0, std)
    theirs = fn(torch.nn.init, torch.empty(*shape)).double()  # the formula is torch's
    assert abs(float(theirs.std()) - std) < 0.01 * std


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (0.5, 2.0, -1.0, 1.0),
                                             (0.0, 1.0, 1.0, 1.5), (3.0, 1.0, -2.0, -1.5)])
def test_trunc_normal_statistics_match_torch(mean, std, a, b):
    n = N // 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = init.trunc_normal_(pg.empty(n), mean, std, a, b)
        theirs = torch.nn.init.trunc_normal_(torch.empty(n), mean, std, a, b)
    m, s, mn, mx = _stats(ours)
    tm, ts = float(theirs.double().mean()), float(theirs.double().std())
    assert a <= mn and mx <= b
    assert abs(m - tm) < 6 * ts / math.sqrt(n) * 2 + 1e-4
    assert abs(s - ts) < 0.02 * ts


def test_trunc_normal_warns_as_torch():
    with pytest.warns(UserWarning, match="more than 2 std"):
        init.trunc_normal_(pg.empty(10), mean=5.0, a=-1.0, b=1.0)


@pytest.mark.parametrize("shape, gain", [((50, 30), 1.0), ((30, 50), 2.0), ((8, 3, 3, 3), 0.5)])
def test_orthogonal_is_orthogonal(shape, gain):
    t = init.orthogonal_(pg.empty(*shape, dtype=pg.float64), gain=gain)
    a = t.numpy().reshape(shape[0], -1)
    small = a @ a.T if a.shape[0] <= a.shape[1] else a.T @ a
    np.testing.assert_allclose(small, gain ** 2 * np.eye(len(small)), atol=1e-10)
    t32 = init.orthogonal_(pg.empty(*shape))
    a = t32.numpy().reshape(shape[0], -1).astype(np.float64)
    small = a @ a.T if a.shape[0] <= a.shape[1] else a.T @ a
    np.testing.assert_allclose(small, np.eye(len(small)), atol=1e-5)


def test_orthogonal_is_uniformly_distributed():
    # Haar-distributed: the entries of a random n x n orthogonal matrix have variance 1/n
    entries = np.concatenate([init.orthogonal_(pg.empty(20, 20)).numpy().ravel()
                              for _ in range(200)])
    assert abs(entries.mean()) < 0.005 and abs(entries.var() * 20 - 1) < 0.03


@pytest.mark.parametrize("call", [
    lambda lib, nn, t: nn.init.constant_(t, 0.25),
    lambda lib, nn, t: nn.init.ones_(t),
    lambda lib, nn, t: nn.init.zeros_(t),
    lambda lib, nn, t: nn.init.eye_(t.reshape(6, 4)),
    lambda lib, nn, t: nn.init.dirac_(t.reshape(2, 3, 4)),
    lambda lib, nn, t: nn.init.dirac_(t.reshape(4, 1, 3, 2), groups=2),
    lambda lib, nn, t: nn.init.dirac_(t.reshape(2, 2, 1, 3, 2)),
])
def test_deterministic_fills_match_torch(call):
    want = call(torch, torch.nn, torch.full((24,), 9.0)).numpy()
    got = call(pg, pg.nn, pg.full((24,), 9.0)).numpy()
    np.testing.assert_array_equal(got, want)


def test_fills_are_in_place_without_grad_and_bump_the_version():
    w = pg.nn.Parameter(pg.empty(4, 3))
    view = w[0]
    for fill in (init.zeros_, init.xavier_uniform_, init.orthogonal_, init.eye_,
                 lambda t: init.trunc_normal_(t, std=0.02), init.kaiming_normal_):
        before = w._version
        assert fill(w) is w
        assert w._version > before and w.grad_fn is None and w.requires_grad and w.is_leaf
        assert view.tolist() == w[0].tolist()  # the view sees the new values
    assert init.constant_(pg.zeros(2, dtype=pg.int64), 3).tolist() == [3, 3]


def test_zero_element_tensors_warn_as_torch():
    for fn in (init.kaiming_uniform_, init.kaiming_normal_):
        with pytest.warns(UserWarning, match="zero-element"):
            assert fn(pg.empty(0, 3)).shape == (0, 3)
    assert init.orthogonal_(pg.empty(0, 3)).shape == (0, 3)


@pytest.mark.parametrize("fill", [
    lambda t, g: init.uniform_(t, generator=g), lambda t, g: init.normal_(t, generator=g),
    lambda t, g: init.trunc_normal_(t, generator=g),
    lambda t, g: init.xavier_uniform_(t, generator=g),
    lambda t, g: init.kaiming_normal_(t, generator=g),
    lambda t, g: init.orthogonal_(t, generator=g),
])
def test_a_generator_makes_the_fill_repeatable(fill):
    a = fill(pg.empty(4, 5), pg.Generator().manual_seed(7)).tolist()
    pg.manual_seed(123)  # the default generator plays no part
    b = fill(pg.empty(4, 5), pg.Generator().manual_seed(7)).tolist()
    c = fill(pg.empty(4, 5), pg.Generator().manual_seed(8)).tolist()
    assert a == b and a != c


def test_a_generator_must_be_a_generator():
    with pytest.raises(TypeError, match="generator"):
        init.uniform_(pg.empty(2), generator=object())


def test_same_seed_same_weights():
    pg.manual_seed(3)
    a = init.orthogonal_(pg.empty(4, 4)).tolist(), init.kaiming_normal_(pg.empty(3, 3)).tolist()
    pg.manual_seed(3)
    b = init.orthogonal_(pg.empty(4, 4)).tolist(), init.kaiming_normal_(pg.empty(3, 3)).tolist()
    assert a == b
