"""plugrad.nn: modules, layers, functional losses, state dicts (files: test_serialization.py)."""
from __future__ import annotations

import doctest
import importlib
import math
import warnings
from collections import OrderedDict

import numpy as np
import plugrad as pg
import plugrad.nn.functional as F
import pytest
from helpers import as_numpy, check_grads, check_second_grads
from plugrad import nn, optim


def _np(t):
    return as_numpy(t)


# -- Parameter -------------------------------------------------------------------------------------
def test_parameter_is_a_plain_leaf_tensor_that_requires_grad():
    data = pg.tensor([1.0, 2.0])
    p = nn.Parameter(data)
    assert isinstance(p, nn.Parameter) and isinstance(p, pg.Tensor)
    assert type(p) is pg.Tensor  # so every op's fast path and gradient recording apply
    assert p.requires_grad and p.is_leaf
    assert not isinstance(data, nn.Parameter) and not isinstance(p * 2, nn.Parameter)
    with pg.no_grad():
        data.fill_(5.0)
    assert p.tolist() == [5.0, 5.0]  # shares memory with the tensor it wraps, as in torch


def test_parameter_options():
    assert not nn.Parameter(pg.zeros(2), requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(pg.tensor([1, 2]))
    with pytest.raises(TypeError):
        nn.Parameter([1.0])


# -- Module ----------------------------------------------------------------------------------------
class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = nn.Linear(3, 4)
        self.scale = nn.Parameter(pg.tensor(2.0))
        self.register_buffer("steps", pg.tensor(0))
        self.register_buffer("scratch", pg.zeros(2), persistent=False)
        self.second = nn.Linear(4, 2)
        self.note = "plain attributes stay plain"

    def forward(self, x):
        return self.second(self.first(x).relu() * self.scale)


def test_attribute_assignment_registers_parameters_buffers_and_submodules():
    m = TwoLayer()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["scale", "first.weight", "first.bias", "second.weight", "second.bias"]
    assert [n for n, _ in m.named_buffers()] == ["steps", "scratch"]
    assert [n for n, _ in m.named_children()] == ["first", "second"]
    assert [n for n, _ in m.named_modules()] == ["", "first", "second"]
    assert len(list(m.parameters())) == 5 and len(list(m.parameters(recurse=False))) == 1
    assert m.note == "plain attributes stay plain" and "note" not in m._parameters
    assert m(pg.ones(5, 3)).shape == (5, 2)


def test_state_dict_names_follow_torch():
    assert list(TwoLayer().state_dict()) == ["scale", "steps", "first.weight", "first.bias",
                                              "second.weight", "second.bias"]


def test_shared_parameters_are_listed_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_assignment_errors_match_torch():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'weight'"):
        m.weight = pg.zeros(2, 2)
    m.bias = None
    assert m.bias is None and [n for n, _ in m.named_parameters()] == ["weight"]

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(pg.zeros(1))

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\) call"):
        Early()
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        m.nothing  # noqa: B018


def test_reassigning_and_deleting_attributes():
    m = TwoLayer()
    m.first = nn.Identity()
    assert "first.weight" not in dict(m.named_parameters())
    del m.second
    assert [n for n, _ in m.named_children()] == ["first"]
    with pytest.raises(AttributeError):
        m.second  # noqa: B018


def test_train_eval_and_requires_grad_reach_every_submodule():
    m = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.Linear(2, 1)))
    assert m.eval() is m and not any(x.training for x in m.modules())
    assert all(x.training for x in m.train().modules())
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_zero_grad_to_none_or_to_zeros():
    m = nn.Linear(2, 1)
    m(pg.ones(3, 2)).sum().backward()
    m.zero_grad(set_to_none=False)
    assert m.weight.grad.tolist() == [[0.0, 0.0]]
    m.zero_grad()
    assert m.weight.grad is None and m.bias.grad is None


def test_repr_matches_torch():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Dropout(0.1), nn.Tanh(),
                          nn.Sequential(nn.Sigmoid()), nn.Linear(3, 1, bias=False))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Dropout(p=0.1, inplace=False)\n"
        "  (3): Tanh()\n"
        "  (4): Sequential(\n"
        "    (0): Sigmoid()\n"
        "  )\n"
        "  (5): Linear(in_features=3, out_features=1, bias=False)\n"
        ")")


def test_sequential_indexing():
    a, b, c = nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 1)
    s = nn.Sequential(a, b, c)
    assert len(s) == 3 and s[0] is a and s[-1] is c and list(s) == [a, b, c]
    assert list(s[1:]) == [b, c]
    named = nn.Sequential(OrderedDict([("hidden", a), ("act", b)]))
    assert named.hidden is a and [n for n, _ in named.named_children()] == ["hidden", "act"]
    assert len(named.append(c)) == 3
    with pytest.raises(IndexError):
        s[3]


def test_module_to_dtype_keeps_the_parameter_objects():
    m = nn.Linear(2, 1)
    w = m.weight
    m(pg.ones(1, 2)).sum().backward()
    assert m.to(pg.float64) is m
    assert m.weight is w and w.dtype is pg.float64 and w.grad.dtype is pg.float64
    assert m.float().weight.dtype is pg.float32
    assert m.to("numpy") is m
    with pytest.raises(RuntimeError, match="unknown backend"):
        m.to("no-such-backend")
    with pytest.raises(TypeError, match="floating point"):
        m.to(pg.int64)


# -- Linear ----------------------------------------------------------------------------------------
def test_linear_default_init_is_torch_kaiming_uniform():
    pg.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (layer.weight, layer.bias):
        values = _np(p)
        assert values.min() >= -bound and values.max() <= bound
    # uniform on (-b, b): variance b^2 / 3
    assert np.isclose(_np(layer.weight).var(), bound ** 2 / 3, rtol=0.05)
    assert layer.weight.shape == (300, 400) and layer.bias.shape == (300,)
    assert layer.weight.dtype is pg.float32


def test_linear_init_is_reproducible_with_manual_seed():
    pg.manual_seed(7)
    a = nn.Linear(5, 3)
    pg.manual_seed(7)
    b = nn.Linear(5, 3)
    assert a.weight.tolist() == b.weight.tolist() and a.bias.tolist() == b.bias.tolist()


def test_linear_options():
    layer = nn.Linear(2, 3, bias=False, dtype=pg.float64)
    assert layer.bias is None and layer.weight.dtype is pg.float64
    assert nn.Linear(0, 3).bias.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 3), (3,)])
def test_linear_gradients_match_finite_differences(shape):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal(shape), rng.standard_normal((2, 3)), rng.standard_normal(2)
    check_grads(F.linear, x, w, b)
    check_grads(lambda x, w: F.linear(x, w), x, w)


def test_linear_second_derivatives():
    rng = np.random.default_rng(1)
    check_second_grads(lambda x, w, b: F.linear(x, w, b).tanh(), rng.standard_normal((3, 2)),
                       rng.standard_normal((4, 2)), rng.standard_normal(4))


def test_linear_module_gradient_matches_numpy():
    layer = nn.Linear(3, 2)
    x = np.random.default_rng(2).standard_normal((5, 3)).astype(np.float32)
    layer(pg.tensor(x)).pow(2).sum().backward()
    w, b = _np(layer.weight), _np(layer.bias)
    g = 2 * (x @ w.T + b)
    np.testing.assert_allclose(_np(layer.weight.grad), g.T @ x, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(layer.bias.grad), g.sum(0), rtol=1e-5, atol=1e-6)


def test_linear_errors():
    with pytest.raises(RuntimeError, match=r"cannot be multiplied \(64x3 and 4x5\)"):
        F.linear(pg.zeros(64, 3), pg.zeros(5, 4))
    with pytest.raises(RuntimeError, match="same dtype"):
        F.linear(pg.zeros(2, 4, dtype=pg.float64), pg.zeros(5, 4))


# -- activations and dropout -----------------------------------------------------------------------
def test_activation_modules():
    x = pg.tensor([-1.0, 0.0, 2.0])
    assert nn.ReLU()(x).tolist() == [0.0, 0.0, 2.0]
    np.testing.assert_allclose(_np(nn.Tanh()(x)), np.tanh([-1.0, 0.0, 2.0]), rtol=1e-6)
    np.testing.assert_allclose(_np(nn.Sigmoid()(x)), 1 / (1 + np.exp([1.0, 0.0, -2.0])),
                               rtol=1e-6)
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"


def test_softmax_without_dim_warns_like_torch():
    x = pg.tensor([[1.0, 2.0], [3.0, 5.0]])
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y = F.softmax(x)
    np.testing.assert_allclose(_np(y).sum(1), [1.0, 1.0], rtol=1e-6)
    np.testing.assert_allclose(_np(F.log_softmax(x, 1)), np.log(_np(F.softmax(x, dim=1))),
                               rtol=1e-5)


def test_dropout_statistics_and_modes():
    pg.manual_seed(3)
    x = pg.ones(20000)
    y = _np(F.dropout(x, p=0.25))
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.02 and abs(y.mean() - 1.0) < 0.03
    assert F.dropout(x, 0.25, training=False) is x and F.dropout(x, 0.0) is x
    assert _np(F.dropout(x, 1.0)).max() == 0.0
    layer = nn.Dropout(0.5)
    assert layer.eval()(x) is x
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        F.dropout(x, 1.5)
    with pytest.raises(ValueError):
        nn.Dropout(-0.1)


def test_dropout_gradient_uses_the_same_mask():
    x = pg.ones(1000, requires_grad=True)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(_np(x.grad), _np(y))


def test_dropout_is_reproducible():
    pg.manual_seed(11)
    a = F.dropout(pg.ones(50)).tolist()
    pg.manual_seed(11)
    assert F.dropout(pg.ones(50)).tolist() == a


# -- losses against NumPy references -----------------------------------------------------------
def _np_log_softmax(x, axis=1):
    shifted = x - x.max(axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis, keepdims=True))


def _np_nll(logp, t, weight=None, ignore_index=-100, reduction="mean"):
    """NumPy reference of torch's nll_loss for (N, C) log-probabilities."""
    keep = t != ignore_index
    safe = np.where(keep, t, 0)
    w = np.ones(logp.shape[1]) if weight is None else weight
    row_w = w[safe] * keep
    losses = -logp[np.arange(len(t)), safe] * row_w
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / row_w.sum()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [False, True])
def test_cross_entropy_matches_numpy(reduction, weighted, ignore):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 4)) * 3
    t = rng.integers(0, 4, 6)
    if ignore:
        t[[1, 4]] = -100
    weight = rng.uniform(0.5, 2.0, 4) if weighted else None
    expected = _np_nll(_np_log_softmax(x), t, weight, reduction=reduction)
    args = dict(weight=None if weight is None else pg.tensor(weight, dtype=pg.float64),
                reduction=reduction)
    got = F.cross_entropy(pg.tensor(x, dtype=pg.float64), pg.tensor(t), **args)
    np.testing.assert_allclose(_np(got), expected, rtol=1e-12, atol=1e-12)
    via_nll = F.nll_loss(F.log_softmax(pg.tensor(x, dtype=pg.float64), 1), pg.tensor(t), **args)
    np.testing.assert_allclose(_np(via_nll), expected, rtol=1e-12, atol=1e-12)
    tt = pg.tensor(t)
    check_grads(lambda x: F.cross_entropy(x, tt, **args), x)
    check_grads(lambda x: F.nll_loss(x, tt, **args), _np_log_softmax(x))


def test_cross_entropy_second_derivative():
    rng = np.random.default_rng(5)
    t = pg.tensor([0, 2, 1])
    w = pg.tensor([1.0, 0.5, 2.0], dtype=pg.float64)
    check_second_grads(lambda x: F.cross_entropy(x, t), rng.standard_normal((3, 3)))
    check_second_grads(lambda x: F.cross_entropy(x, t, w, reduction="none"),
                       rng.standard_normal((3, 3)))


def test_cross_entropy_large_logits_do_not_overflow():
    x = pg.tensor([[1000.0, 0.0], [0.0, -1000.0]])
    loss = F.cross_entropy(x, pg.tensor([1, 0]), reduction="none")
    np.testing.assert_allclose(_np(loss), [1000.0, 0.0], rtol=1e-6)


def test_cross_entropy_layouts():
    rng = np.random.default_rng(6)
    single = rng.standard_normal(5)
    got = F.cross_entropy(pg.tensor(single, dtype=pg.float64), pg.tensor(3))
    assert got.shape == () and np.isclose(got.item(), -_np_log_softmax(single, 0)[3])
    # (N, C, d): classes in dim 1, one target per position
    x = rng.standard_normal((2, 3, 4))
    t = rng.integers(0, 3, (2, 4))
    flat = _np_log_softmax(np.moveaxis(x, 1, -1).reshape(-1, 3))
    expected = _np_nll(flat, t.reshape(-1), reduction="none").reshape(2, 4)
    got = F.cross_entropy(pg.tensor(x, dtype=pg.float64), pg.tensor(t), reduction="none")
    np.testing.assert_allclose(_np(got), expected, rtol=1e-12)
    tt = pg.tensor(t)
    check_grads(lambda x: F.cross_entropy(x, tt), x)


def test_cross_entropy_with_class_probabilities():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 3))
    p = rng.dirichlet(np.ones(3), 4)
    expected = -(p * _np_log_softmax(x)).sum(1).mean()
    got = F.cross_entropy(pg.tensor(x, dtype=pg.float64), pg.tensor(p, dtype=pg.float64))
    np.testing.assert_allclose(got.item(), expected, rtol=1e-12)


def test_cross_entropy_all_ignored_is_nan_like_torch():
    loss = F.cross_entropy(pg.zeros(2, 3), pg.tensor([-100, -100]))
    assert math.isnan(loss.item())


def test_cross_entropy_errors_match_torch():
    x = pg.zeros(3, 4)
    with pytest.raises(IndexError, match="Target 4 is out of bounds."):
        F.cross_entropy(x, pg.tensor([0, 1, 4]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds."):
        F.cross_entropy(x, pg.tensor([-1, 0, 1]))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got Int"):
        F.cross_entropy(x, pg.tensor([0, 1, 2], dtype=pg.int32))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target "
                                         r"batch_size \(2\)"):
        F.cross_entropy(x, pg.tensor([0, 1]))
    with pytest.raises(RuntimeError, match=r"Expected target size \[2, 5\], got \[2, 4\]"):
        F.cross_entropy(pg.zeros(2, 3, 5), pg.zeros(2, 4, dtype=pg.int64))
    with pytest.raises(ValueError, match="bogus is not a valid value for reduction"):
        F.cross_entropy(x, pg.tensor([0, 1, 2]), reduction="bogus")
    with pytest.raises(RuntimeError, match="for all 4 classes"):
        F.cross_entropy(x, pg.tensor([0, 1, 2]), weight=pg.ones(3))
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(x, pg.tensor([0, 1, 2]), label_smoothing=1.1)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_matches_numpy(reduction):
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    sq = (a - b) ** 2
    expected = {"mean": sq.mean(), "sum": sq.sum(), "none": sq}[reduction]
    got = F.mse_loss(pg.tensor(a, dtype=pg.float64), pg.tensor(b, dtype=pg.float64),
                     reduction=reduction)
    np.testing.assert_allclose(_np(got), expected, rtol=1e-12)
    check_grads(lambda a, b: F.mse_loss(a, b, reduction=reduction), a, b)


def test_mse_loss_weight_and_broadcast_warning():
    a, b, w = pg.tensor([1.0, 2.0]), pg.tensor([0.0, 0.0]), pg.tensor([1.0, 3.0])
    assert F.mse_loss(a, b, weight=w).item() == pytest.approx((1 + 12) / 4)
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(pg.zeros(3, 4), pg.zeros(4))


def test_loss_modules():
    x, t = pg.tensor([[2.0, 0.0], [0.0, 1.0]]), pg.tensor([0, 1])
    assert nn.CrossEntropyLoss()(x, t).item() == F.cross_entropy(x, t).item()
    assert nn.CrossEntropyLoss(reduction="sum")(x, t).item() == \
        pytest.approx(F.cross_entropy(x, t, reduction="sum").item())
    assert nn.NLLLoss()(x, t).item() == F.nll_loss(x, t).item()
    assert nn.MSELoss()(x, x * 0).item() == pytest.approx(5 / 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.CrossEntropyLoss()(x, t)


# -- state dicts -----------------------------------------------------------------------------------
def _values(module) -> dict:
    return {k: _np(v).copy() for k, v in module.state_dict().items()}


def test_load_state_dict_copies_values_into_the_same_parameters():
    a, b = TwoLayer(), TwoLayer()
    weight = b.first.weight
    assert repr(b.load_state_dict(a.state_dict())) == "<All keys matched successfully>"
    assert b.first.weight is weight
    for k, v in _values(a).items():
        np.testing.assert_array_equal(_values(b)[k], v)


def test_state_dict_tensors_share_memory_and_are_detached():
    m = nn.Linear(2, 1)
    sd = m.state_dict()
    assert not sd["weight"].requires_grad
    assert m.state_dict(keep_vars=True)["weight"] is m.weight
    with pg.no_grad():
        m.weight.fill_(3.0)
    assert sd["weight"].tolist() == [[3.0, 3.0]]


def test_load_state_dict_reports_every_problem_and_changes_nothing():
    m = nn.Linear(2, 3)
    before = _values(m)
    bad = {"weight": pg.zeros(3, 3), "extra": pg.zeros(1)}
    with pytest.raises(RuntimeError) as info:
        m.load_state_dict(bad)
    text = str(info.value)
    assert text.startswith("Error(s) in loading state_dict for Linear:")
    assert 'Missing key(s) in state_dict: "bias".' in text
    assert 'Unexpected key(s) in state_dict: "extra".' in text
    assert ("size mismatch for weight: copying a param with shape plugrad.Size([3, 3]) from "
            "checkpoint, the shape in current model is plugrad.Size([3, 2]).") in text
    for k, v in _values(m).items():
        np.testing.assert_array_equal(v, before[k])
    with pytest.raises(RuntimeError, match='parameter named "weight", expected plugrad.Tensor'):
        m.load_state_dict({"weight": [[1.0]], "bias": pg.zeros(3)})


def test_load_state_dict_non_strict_and_conversions():
    m = nn.Linear(2, 1)
    result = m.load_state_dict({"bias": pg.tensor([5.0], dtype=pg.float64), "x": pg.zeros(1)},
                               strict=False)
    assert result.missing_keys == ["weight"] and result.unexpected_keys == ["x"]
    assert m.bias.dtype is pg.float32 and m.bias.tolist() == [5.0]
    with pytest.raises(RuntimeError, match="size mismatch"):
        m.load_state_dict({"bias": pg.zeros(2)}, strict=False)


# -- training --------------------------------------------------------------------------------------
def test_a_short_training_run_lowers_the_loss():
    # two interleaved spirals: not linearly separable, so the hidden layer has to learn
    pg.manual_seed(0)
    rng = np.random.default_rng(0)
    n = 200
    r = np.linspace(0.2, 1.0, n)
    angle = np.linspace(0, 3 * np.pi, n) + rng.normal(0, 0.1, n)
    points = np.concatenate([np.stack([r * np.cos(angle), r * np.sin(angle)], 1),
                             np.stack([-r * np.cos(angle), -r * np.sin(angle)], 1)])
    x = pg.tensor(points.astype(np.float32))
    y = pg.tensor(np.repeat([0, 1], n))
    model = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.ReLU(),
                          nn.Linear(32, 2))
    opt = optim.Adam(model.parameters(), lr=0.02)
    losses = []
    for _ in range(150):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]
    with pg.no_grad():
        accuracy = (model(x).argmax(1) == y).float().mean().item()
    assert accuracy > 0.9


# -- the examples in the docstrings ----------------------------------------------------------------
@pytest.mark.parametrize("name", ["plugrad.nn", "plugrad.nn.module", "plugrad.nn.modules",
                                  "plugrad.nn.functional", "plugrad.nn.parameter",
                                  "plugrad.nn.init"])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


# -- on another backend ------------------------------------------------------------------
def test_training_and_checkpoints_on_a_strict_array_api_backend(tmp_path):
    # array_api_strict allows only what the Array API standard defines: nn and optim must
    # reach the backend through the contract's kernels alone
    strict = pytest.importorskip("array_api_strict")
    from plugrad.backends.array_api import ArrayAPIBackend
    bk = ArrayAPIBackend(strict, "strict_nn_test")
    model = nn.Sequential(nn.Linear(4, 8, backend=bk), nn.ReLU(), nn.Dropout(0.1),
                          nn.Linear(8, 3, backend=bk))
    x = pg.randn(16, 4, backend=bk)
    y = pg.tensor([i % 3 for i in range(16)], backend=bk)
    y_ignored = pg.tensor([-100] + [i % 3 for i in range(1, 16)], backend=bk)
    for opt in (optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True),
                optim.AdamW(model.parameters(), lr=0.01, amsgrad=True)):
        def objective():
            return F.cross_entropy(model(x), y) + F.cross_entropy(
                model(x), y_ignored, weight=pg.ones(3, backend=bk))

        model.eval()  # judge progress without dropout's noise
        with pg.no_grad():
            first = objective().item()
        model.train()
        for _ in range(30):
            loss = objective()
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with pg.no_grad():
            assert objective().item() < first
        model.train()
    path = tmp_path / "strict.npz"
    pg.save(model.state_dict(), path)
    fresh = nn.Sequential(nn.Linear(4, 8, backend=bk), nn.ReLU(), nn.Dropout(0.1),
                          nn.Linear(8, 3, backend=bk))
    fresh.load_state_dict(pg.load(path, backend=bk))
    model.eval()
    fresh.eval()
    assert fresh(x).tolist() == model(x).tolist()
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        F.cross_entropy(model(x), pg.tensor([3] * 16, backend=bk))
