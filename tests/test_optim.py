"""plugrad.optim: each update rule against its closed form, groups, state dicts, errors."""
from __future__ import annotations

import doctest
import importlib
import math

import numpy as np
import plugrad as pg
import plugrad.nn.functional as F
import pytest
from plugrad import nn, optim

W0 = np.array([[1.0, -2.0, 0.5], [0.25, 3.0, -1.5]])
TARGET = np.array([[0.5, 0.5, 0.5], [-1.0, 1.0, 0.0]])


def _loss(w):
    """0.5 * sum((w - TARGET)^2): its gradient is w - TARGET, so every step has a closed form."""
    d = w - pg.tensor(TARGET, dtype=w.dtype)
    return (d * d).sum() * 0.5


def _run(make_opt, steps: int, dtype=pg.float64):
    w = pg.tensor(W0, dtype=dtype, requires_grad=True)
    opt = make_opt([w])
    for _ in range(steps):
        opt.zero_grad()
        _loss(w).backward()
        opt.step()
    return np.array(w.detach().numpy(), dtype=np.float64), opt, w


def _sgd_reference(steps, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                   maximize=False):
    w, buf = W0.copy(), None
    for _ in range(steps):
        g = w - TARGET
        if maximize:
            g = -g
        g = g + weight_decay * w
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        w = w - lr * g
    return w


def _adam_reference(steps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                    amsgrad=False, decoupled=False, maximize=False):
    w = W0.copy()
    m, v, v_max = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    b1, b2 = betas
    for t in range(1, steps + 1):
        g = w - TARGET
        if maximize:
            g = -g
        if weight_decay and decoupled:
            w = w * (1 - lr * weight_decay)
        elif weight_decay:
            g = g + weight_decay * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        v_max = np.maximum(v_max, v)
        v_hat = (v_max if amsgrad else v) / (1 - b2 ** t)
        w = w - lr * (m / (1 - b1 ** t)) / (np.sqrt(v_hat) + eps)
    return w


# -- closed forms ----------------------------------------------------------------------------------
SGD_CASES = [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.05, momentum=0.8, dampening=0.3),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.1, weight_decay=0.2),
    dict(lr=0.1, momentum=0.5, weight_decay=0.1, nesterov=True, maximize=True),
]


@pytest.mark.parametrize("options", SGD_CASES)
def test_sgd_matches_its_closed_form(options):
    got, _, _ = _run(lambda p: optim.SGD(p, **options), steps=5)
    np.testing.assert_allclose(got, _sgd_reference(5, **options), rtol=1e-12, atol=1e-12)


def test_one_plain_sgd_step_by_hand():
    got, _, _ = _run(lambda p: optim.SGD(p, lr=0.5), steps=1)
    np.testing.assert_allclose(got, W0 - 0.5 * (W0 - TARGET), rtol=1e-15)


ADAM_CASES = [
    dict(),
    dict(lr=0.1),
    dict(lr=0.05, betas=(0.5, 0.9), eps=1e-6),
    dict(lr=0.1, weight_decay=0.1),
    dict(lr=0.1, amsgrad=True),
    dict(lr=0.1, betas=(0.3, 0.99), weight_decay=0.05, amsgrad=True, maximize=True),
]


@pytest.mark.parametrize("options", ADAM_CASES)
def test_adam_matches_its_closed_form(options):
    got, _, _ = _run(lambda p: optim.Adam(p, **options), steps=6)
    np.testing.assert_allclose(got, _adam_reference(6, **options), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("options", [dict(lr=0.1), dict(lr=0.1, weight_decay=0.3, amsgrad=True)])
def test_adamw_decouples_weight_decay(options):
    got, _, _ = _run(lambda p: optim.AdamW(p, **options), steps=6)
    expected = _adam_reference(6, decoupled=True, **{"weight_decay": 1e-2, **options})
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


def test_first_adam_step_moves_each_weight_by_lr():
    # m_hat / sqrt(v_hat) = g / |g| on step one: every weight moves by lr against its
    # gradient (and one whose gradient is 0 stays put)
    got, _, _ = _run(lambda p: optim.Adam(p, lr=0.01), steps=1)
    np.testing.assert_allclose(got, W0 - 0.01 * np.sign(W0 - TARGET), rtol=1e-9, atol=1e-9)


def test_defaults_match_torch():
    w = [pg.zeros(1, requires_grad=True)]
    assert optim.SGD(w).defaults["lr"] == 1e-3
    adam = optim.Adam(w).defaults
    assert (adam["lr"], adam["betas"], adam["eps"], adam["weight_decay"], adam["amsgrad"]) == \
        (1e-3, (0.9, 0.999), 1e-8, 0, False)
    assert optim.AdamW(w).defaults["weight_decay"] == 1e-2


@pytest.mark.parametrize("name, options", [("SGD", c) for c in SGD_CASES] +
                         [("Adam", c) for c in ADAM_CASES] +
                         [("AdamW", dict(lr=0.1, weight_decay=0.3, amsgrad=True))])
def test_agrees_with_torch_in_float32(name, options):
    torch = pytest.importorskip("torch")

    def train(lib, opt_cls):
        w = lib.tensor(W0.astype(np.float32), requires_grad=True)
        b = lib.tensor([0.5, -0.5], requires_grad=True)
        opt = opt_cls([{"params": [w]}, {"params": [b], "lr": 0.02}], **options)
        x = lib.tensor([[0.5, 1.0, -1.0], [2.0, 0.1, 0.3]])
        for _ in range(5):
            opt.zero_grad()
            ((x @ w.T + b) ** 2).sum().backward()
            opt.step()
        return [np.array(t.detach().numpy()) for t in (w, b)]

    ours = train(pg, getattr(optim, name))
    theirs = train(torch, getattr(torch.optim, name))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=2e-6, atol=1e-6)


# -- in-place updates ------------------------------------------------------------------------------
def test_updates_write_into_the_parameter_in_place():
    w = pg.tensor([1.0, 2.0], dtype=pg.float64, requires_grad=True)
    alias = w.detach()                    # shares w's memory
    saved = nn.Linear(1, 1)               # a state dict taken before training sees the update too
    opt = optim.SGD([w, *saved.parameters()], lr=0.5)
    before = saved.state_dict()
    (w * w).sum().backward()
    saved(pg.ones(1, 1)).sum().backward()
    opt.step()
    assert alias.tolist() == [0.0, 0.0] and w.tolist() == [0.0, 0.0]
    assert w.dtype is pg.float64 and w.requires_grad and w.is_leaf and w.grad_fn is None
    assert before["weight"].tolist() == saved.weight.tolist()


def test_step_records_nothing_and_skips_parameters_without_grad():
    a = pg.tensor([1.0], requires_grad=True)
    b = pg.tensor([1.0], requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    (a * 2).sum().backward()
    opt.step()
    assert b.tolist() == [1.0] and b not in opt.state and opt.state[a]["step"] == 1
    assert a.grad_fn is None


def test_closure_is_called_with_grad_enabled_and_its_loss_returned():
    w = pg.tensor([3.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with pg.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 9.0 and w.item() == pytest.approx(2.4)


def test_zero_grad():
    w = pg.tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * 3).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert w.grad.tolist() == [0.0]
    opt.zero_grad()
    assert w.grad is None


# -- parameter groups ------------------------------------------------------------------------------
def test_parameter_groups_have_their_own_options():
    a = pg.tensor([1.0], requires_grad=True)
    b = pg.tensor([1.0], requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["lr"] == 0.5
    (a + b).sum().backward()
    opt.step()
    assert a.item() == pytest.approx(0.9) and b.item() == pytest.approx(0.5)
    c = pg.tensor([1.0], requires_grad=True)
    opt.add_param_group({"params": [c], "lr": 1.0})
    assert len(opt.param_groups) == 3 and opt.param_groups[2]["momentum"] == 0.9
    assert "Parameter Group 2" in repr(opt)


def test_optimizer_argument_errors_match_torch():
    w = pg.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match="should be an iterable of Tensors or dicts"):
        optim.SGD(w)
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([])
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [w]}, {"params": [w]}])
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([w * 2])
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {w}}])
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        optim.SGD([w], lr=-1)
    with pytest.raises(ValueError, match="Invalid momentum value"):
        optim.SGD([w], momentum=-0.1)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero "
                                         "dampening"):
        optim.SGD([w], nesterov=True)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.0"):
        optim.Adam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Invalid epsilon value"):
        optim.Adam([w], eps=-1e-8)
    with pytest.raises(ValueError, match="Invalid weight_decay value"):
        optim.AdamW([w], weight_decay=-1)


# -- state dicts -----------------------------------------------------------------------------------
def _train(model, opt, batches):
    for x, y in batches:
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        opt.step()


def _batches(n, seed=0):
    rng = np.random.default_rng(seed)
    return [(pg.tensor(rng.standard_normal((8, 3)).astype(np.float32)),
             pg.tensor(rng.standard_normal((8, 1)).astype(np.float32))) for _ in range(n)]


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
                                  lambda p: optim.Adam(p, lr=0.01, amsgrad=True),
                                  lambda p: optim.AdamW(p, lr=0.01)])
def test_resuming_from_a_saved_state_matches_uninterrupted_training(tmp_path, make):
    batches = _batches(6)
    pg.manual_seed(0)
    straight = nn.Linear(3, 1)
    opt = make(straight.parameters())
    _train(straight, opt, batches)

    pg.manual_seed(0)
    first = nn.Linear(3, 1)
    opt1 = make(first.parameters())
    _train(first, opt1, batches[:3])
    path = tmp_path / "checkpoint.npz"
    pg.save({"model": first.state_dict(), "optim": opt1.state_dict()}, path)

    checkpoint = pg.load(path)
    resumed = nn.Linear(3, 1)
    resumed.load_state_dict(checkpoint["model"])
    opt2 = make(resumed.parameters())
    opt2.load_state_dict(checkpoint["optim"])
    _train(resumed, opt2, batches[3:])
    for k, v in straight.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[k].numpy(), v.numpy())


def test_state_dict_layout_and_copying():
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(pg.ones(1, 2)).sum().backward()
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0, 1]
    assert sd["param_groups"][0]["lr"] == 0.1 and set(sd["state"]) == {0, 1}
    other = optim.SGD(nn.Linear(2, 1).parameters(), lr=0.5)
    other.load_state_dict(sd)
    assert other.param_groups[0]["lr"] == 0.1
    loaded = next(iter(other.state.values()))["momentum_buffer"]
    assert loaded is not sd["state"][0]["momentum_buffer"]  # copied, not shared


def test_load_state_dict_rejects_other_layouts():
    opt = optim.Adam(nn.Linear(2, 1).parameters())
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": []})
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        opt.load_state_dict({"state": {}, "param_groups": [{"params": [0]}]})


def test_optimizer_keeps_a_parameter_dtype():
    got, opt, w = _run(lambda p: optim.Adam(p, lr=0.1), steps=2, dtype=pg.float32)
    assert w.dtype is pg.float32 and opt.state[w]["exp_avg"].dtype is pg.float32
    assert math.isfinite(float(got.sum()))


@pytest.mark.parametrize("name", ["plugrad.optim", "plugrad.optim.sgd", "plugrad.optim.adam"])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
