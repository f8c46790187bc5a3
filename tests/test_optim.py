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


@pytest.mark.parametrize("name", ["plugrad.optim", "plugrad.optim.sgd", "plugrad.optim.adam",
                                  "plugrad.optim.rmsprop", "plugrad.optim.adagrad",
                                  "plugrad.optim.adadelta", "plugrad.optim.adamax",
                                  "plugrad.optim.nadam", "plugrad.optim.radam",
                                  "plugrad.optim.lbfgs"])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


# -- every optimizer against torch, float64, on a small MLP ----------------------------------------
_RNG = np.random.default_rng(7)
MLP0 = [_RNG.standard_normal((4, 3)), _RNG.standard_normal(4),
        _RNG.standard_normal((1, 4)), _RNG.standard_normal(1)]
MLP_X = _RNG.standard_normal((6, 3))
MLP_Y = _RNG.standard_normal((6, 1))

TORCH_CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.2, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, maximize=True)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.05, amsgrad=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.8)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1, eps=1e-4,
                     maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.3, eps=1e-6)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.2, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1)),
    ("Adadelta", dict(maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-4, weight_decay=0.1, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.05, momentum_decay=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.1)),
    ("RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
]


def _mlp_params(lib):
    return [lib.tensor(a.copy(), dtype=lib.float64, requires_grad=True) for a in MLP0]


def _mlp_loss(lib, params):
    w1, b1, w2, b2 = params
    x = lib.tensor(MLP_X, dtype=lib.float64)
    y = lib.tensor(MLP_Y, dtype=lib.float64)
    h = lib.tanh(x @ w1.T + b1)
    return ((h @ w2.T + b2 - y) ** 2).mean()


def _mlp_optimizer(lib, name, options, params):
    # two groups: the second with its own learning rate
    lr = options.get("lr", 1e-3 if name not in ("Adadelta",) else 1.0)
    groups = [{"params": params[:2]}, {"params": params[2:], "lr": lr * 0.5}]
    return getattr(lib.optim, name)(groups, **options)


def _mlp_train(lib, name, options, steps, params=None, opt=None):
    params = _mlp_params(lib) if params is None else params
    opt = _mlp_optimizer(lib, name, options, params) if opt is None else opt
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = _mlp_loss(lib, params)
        loss.backward()
        losses.append(loss.item())
        opt.step()
    return params, opt, losses


@pytest.mark.parametrize("name, options", TORCH_CASES)
def test_same_parameters_as_torch_in_float64(name, options):
    torch = pytest.importorskip("torch")
    ours, _, our_losses = _mlp_train(pg, name, options, 12)
    theirs, _, their_losses = _mlp_train(torch, name, options, 12)
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-11, atol=1e-13)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-11,
                                   atol=1e-13)
        assert a._version == b._version   # one bump per in-place write torch makes


@pytest.mark.parametrize("name, options", TORCH_CASES[::2])
def test_state_dict_round_trip_continues_as_uninterrupted(name, options):
    straight, _, _ = _mlp_train(pg, name, options, 8)
    params, opt, _ = _mlp_train(pg, name, options, 3)
    saved = opt.state_dict()
    fresh = [pg.tensor(p.detach().numpy().copy(), requires_grad=True) for p in params]
    opt2 = _mlp_optimizer(pg, name, {**options, "lr": 123.0}, fresh)  # options come from the dict
    opt2.load_state_dict(saved)
    resumed, _, _ = _mlp_train(pg, name, options, 5, fresh, opt2)
    for a, b in zip(resumed, straight):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


@pytest.mark.parametrize("name, options", TORCH_CASES[1::3])
def test_state_dict_layout_matches_torch(name, options):
    torch = pytest.importorskip("torch")
    _, ours, _ = _mlp_train(pg, name, options, 2)
    _, theirs, _ = _mlp_train(torch, name, options, 2)
    a, b = ours.state_dict(), theirs.state_dict()
    assert a["param_groups"] == b["param_groups"]
    assert a["state"].keys() == b["state"].keys()
    for i, entry in b["state"].items():
        assert entry.keys() == a["state"][i].keys()
        for key, value in entry.items():
            np.testing.assert_allclose(np.asarray(a["state"][i][key].numpy()
                                                  if hasattr(a["state"][i][key], "numpy")
                                                  else a["state"][i][key]),
                                       value.detach().numpy(), rtol=1e-6)


def test_step_after_forward_makes_backward_fail_as_in_torch():
    torch = pytest.importorskip("torch")

    def run(lib):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        opt = lib.optim.RMSprop([w], lr=0.1)
        (w * w).sum().backward()
        loss = (w * w).sum()          # saves w
        opt.step()                    # changes w in place: version 0 -> 1
        with pytest.raises(RuntimeError) as info:
            loss.backward()
        return w._version, str(info.value).split(" Hint")[0]

    assert run(pg) == run(torch)


def test_adagrad_makes_its_state_in_the_constructor():
    w = pg.zeros(2, requires_grad=True)
    opt = optim.Adagrad([w], initial_accumulator_value=0.5)
    assert opt.state[w]["step"] == 0 and opt.state[w]["sum"].tolist() == [0.5, 0.5]


def test_new_optimizers_argument_errors_match_torch():
    torch = pytest.importorskip("torch")
    bad = [("RMSprop", dict(alpha=-1)), ("RMSprop", dict(momentum=-1)),
           ("Adagrad", dict(lr_decay=-1)), ("Adagrad", dict(initial_accumulator_value=-1)),
           ("Adadelta", dict(rho=1.5)), ("Adamax", dict(betas=(1.0, 0.9))),
           ("NAdam", dict(momentum_decay=-1)), ("RAdam", dict(eps=-1)),
           ("LBFGS", dict(lr=-1))]
    for name, options in bad:
        with pytest.raises(ValueError) as theirs:
            getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **options)
        with pytest.raises(ValueError, match=str(theirs.value).replace("(", r"\(")
                           .replace(")", r"\)")):
            getattr(optim, name)([pg.zeros(1, requires_grad=True)], **options)
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        optim.LBFGS([{"params": [pg.zeros(1, requires_grad=True)]},
                     {"params": [pg.zeros(1, requires_grad=True)]}])


# -- LBFGS -----------------------------------------------------------------------------------------
def _rosenbrock_run(lib, steps, **options):
    xy = lib.tensor([-1.5, 2.0], dtype=lib.float64, requires_grad=True)
    extra = lib.tensor([0.5], dtype=lib.float64, requires_grad=True)
    opt = lib.optim.LBFGS([xy, extra], **options)

    def closure():
        opt.zero_grad()
        x, y = xy[0], xy[1]
        loss = (1 - x) ** 2 + 100 * (y - x * x) ** 2 + (extra * extra).sum()
        loss.backward()
        return loss

    trajectory = []
    for _ in range(steps):
        loss = opt.step(closure)
        trajectory.append([loss.item(), *xy.tolist(), *extra.tolist()])
    return np.array(trajectory), opt


# Rosenbrock's valley amplifies rounding (torch's dot products may round differently from a
# sum of products): the long fixed-step run is compared over 2 steps, and to 1e-9 at most
@pytest.mark.parametrize("steps, options", [(2, dict()), (8, dict(max_iter=5)),
                                            (8, dict(line_search_fn="strong_wolfe")),
                                            (8, dict(lr=0.5, max_iter=5, history_size=3)),
                                            (8, dict(line_search_fn="strong_wolfe", max_iter=4,
                                                     history_size=2, tolerance_change=1e-12))])
def test_lbfgs_follows_torch_on_rosenbrock(steps, options):
    torch = pytest.importorskip("torch")
    ours, opt = _rosenbrock_run(pg, steps, **options)
    theirs, topt = _rosenbrock_run(torch, steps, **options)
    np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-9)
    mine, other = opt.state[opt._params[0]], topt.state[topt._params[0]]
    assert (mine["n_iter"], mine["func_evals"]) == (other["n_iter"], other["func_evals"])


def test_lbfgs_reaches_the_rosenbrock_minimum_and_resumes_from_a_state_dict():
    straight, _ = _rosenbrock_run(pg, 6, line_search_fn="strong_wolfe")
    assert np.allclose(straight[-1][1:3], [1.0, 1.0], atol=1e-4)  # as torch stops
    first, opt = _rosenbrock_run(pg, 2, line_search_fn="strong_wolfe")
    saved = opt.state_dict()
    assert set(saved["state"]) == {0} and len(saved["state"][0]["old_dirs"]) > 0
    xy = pg.tensor(first[-1][1:3], dtype=pg.float64, requires_grad=True)
    extra = pg.tensor(first[-1][3:], dtype=pg.float64, requires_grad=True)
    opt2 = optim.LBFGS([xy, extra], line_search_fn="strong_wolfe")
    opt2.load_state_dict(saved)

    def closure():
        opt2.zero_grad()
        x, y = xy[0], xy[1]
        loss = (1 - x) ** 2 + 100 * (y - x * x) ** 2 + (extra * extra).sum()
        loss.backward()
        return loss

    for row in straight[2:]:
        assert opt2.step(closure).item() == row[0]
    assert xy.tolist() == list(straight[-1][1:3])


def test_lbfgs_needs_a_closure_and_a_known_line_search():
    w = pg.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError):
        optim.LBFGS([w]).step()
    opt = optim.LBFGS([w], line_search_fn="armijo")

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)


# -- every backend ---------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", [b for b in pg.backends.available() if b != "numpy"])
@pytest.mark.parametrize("name, options", TORCH_CASES[::3] + [("RMSprop", dict(centered=True,
                                                                                momentum=0.5))])
def test_same_steps_on_every_backend(backend, name, options):
    reference, _, _ = _mlp_train(pg, name, options, 4)
    params = [pg.tensor(a.copy(), dtype=pg.float64, requires_grad=True, backend=backend)
              for a in MLP0]
    opt = _mlp_optimizer(pg, name, options, params)
    for _ in range(4):
        opt.zero_grad()
        w1, b1, w2, b2 = params
        x = pg.tensor(MLP_X, dtype=pg.float64, backend=backend)
        y = pg.tensor(MLP_Y, dtype=pg.float64, backend=backend)
        ((pg.tanh(x @ w1.T + b1) @ w2.T + b2 - y) ** 2).mean().backward()
        opt.step()
        pg.compute(*params, opt)
    for a, b in zip(params, reference):
        assert a.backend.name == backend
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12,
                                   atol=1e-14)


@pytest.mark.parametrize("backend", pg.backends.available())
def test_lbfgs_on_every_backend(backend):
    w = pg.tensor([3.0, -2.0], dtype=pg.float64, requires_grad=True, backend=backend)
    opt = optim.LBFGS([w], line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = ((w - 1.0) ** 2).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 13.0
    state = opt.state[w]
    assert pg.compute(opt) == (opt,)  # the history lists are the optimizer's state too
    if backend == "dask":             # computed: one task per chunk left in each graph
        assert all(len(dict(t._array.__dask_graph__())) == t._array.npartitions
                   for t in state["old_dirs"] + state["old_stps"])
    np.testing.assert_allclose(w.detach().numpy(), [1.0, 1.0], atol=1e-12)


def test_a_state_dict_with_tensor_steps_loads_as_torch_saves_it():
    # torch keeps "step" (and NAdam's "mu_product") in 0-d float tensors
    w = pg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.NAdam([w], lr=0.1)
    state = {0: {"step": pg.tensor(3.0), "mu_product": pg.tensor(0.5),
                 "exp_avg": pg.tensor([0.1, 0.2], dtype=pg.float64),
                 "exp_avg_sq": pg.tensor([0.01, 0.04])}}
    groups = [{**{k: v for k, v in opt.param_groups[0].items() if k != "params"},
               "params": [0]}]
    opt.load_state_dict({"state": state, "param_groups": groups})
    loaded = opt.state[w]
    assert loaded["step"] == 3 and type(loaded["step"]) is int and loaded["mu_product"] == 0.5
    assert loaded["exp_avg"].dtype is pg.float32    # in the parameter's dtype
    (w * w).sum().backward()
    opt.step()
    assert opt.state[w]["step"] == 4
