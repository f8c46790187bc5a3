"""plugrad.nn's activations, normalization, embedding, dropout and losses (core/nn/layers.py
and their functions in core/nn/functional.py): values, gradients, running statistics, reprs
and errors against torch; first and second derivatives against finite differences."""
from __future__ import annotations

import warnings

import numpy as np
import plugrad as pg
import plugrad.nn.functional as F
import pytest
from plugrad import nn
from plugrad.autograd import gradcheck, gradgradcheck
from torch_compare import same_as_torch, same_error

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 6)) * 3
X[0, 0] = 0.0          # the kink of the piecewise functions
X[0, 1] = 3.0          # hardswish's edge
X[0, 2] = -3.0


def _torch():
    return pytest.importorskip("torch")


def _f(lib):
    return lib.nn.functional


def _double(a, requires_grad=True):
    return pg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


# -- activations ---------------------------------------------------------------------------------
ACTIVATIONS = {
    "leaky_relu": lambda L, x: _f(L).leaky_relu(x, 0.2),
    "elu": lambda L, x: _f(L).elu(x, 1.5),
    "gelu": lambda L, x: _f(L).gelu(x),
    "gelu_tanh": lambda L, x: _f(L).gelu(x, approximate="tanh"),
    "silu": lambda L, x: _f(L).silu(x),
    "mish": lambda L, x: _f(L).mish(x),
    "softplus": lambda L, x: _f(L).softplus(x, 2.0, 5.0),
    "softplus_default": lambda L, x: _f(L).softplus(x * 10),
    "hardtanh": lambda L, x: _f(L).hardtanh(x, -2.0, 2.5),
    "relu6": lambda L, x: _f(L).relu6(x),
    "hardsigmoid": lambda L, x: _f(L).hardsigmoid(x),
    "hardswish": lambda L, x: _f(L).hardswish(x),
    "logsigmoid": lambda L, x: _f(L).logsigmoid(x * 30),
    "softsign": lambda L, x: _f(L).softsign(x),
    "tanhshrink": lambda L, x: _f(L).tanhshrink(x),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_matches_torch(name):
    same_as_torch(ACTIVATIONS[name], X)
    _same_in_float32(ACTIVATIONS[name], X)


def _same_in_float32(fn, *arrays):
    """fn's values and gradients in float32, to float32's precision (the kernels differ)."""
    torch = _torch()
    tt = [torch.tensor(a, dtype=torch.float32, requires_grad=True) for a in arrays]
    pt = [pg.tensor(a, dtype=pg.float32, requires_grad=True) for a in arrays]
    ty, py = fn(torch, *tt), fn(pg, *pt)
    assert py.dtype is pg.float32
    np.testing.assert_allclose(py.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    ty.sum().backward()
    py.sum().backward()
    for a, b in zip(tt, pt):
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-5, atol=1e-5)


SMOOTH = ["elu", "gelu", "gelu_tanh", "silu", "mish", "softplus", "logsigmoid", "softsign",
          "tanhshrink"]


@pytest.mark.parametrize("name", SMOOTH)
def test_activation_first_and_second_derivatives(name):
    x = _double(RNG.standard_normal((3, 4)) + 0.1)
    fn = lambda t: ACTIVATIONS[name](pg, t)  # noqa: E731
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("name", ["leaky_relu", "hardtanh", "relu6", "hardsigmoid",
                                  "hardswish"])
def test_piecewise_activation_derivatives_away_from_the_kinks(name):
    x = _double([[-3.7, -1.5, -0.6], [0.4, 1.7, 3.6]])
    fn = lambda t: ACTIVATIONS[name](pg, t)  # noqa: E731
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_softplus_does_not_overflow_and_is_x_past_the_threshold():
    x = pg.tensor([-1000.0, 0.0, 1000.0], requires_grad=True)
    y = F.softplus(x)
    assert np.isfinite(y.detach().numpy()).all() and y[2].item() == 1000.0
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.5, 1.0]


def test_prelu_matches_torch():
    w = np.array([0.1, -0.3, 0.5, 0.2, 0.7, 1.2])
    same_as_torch(lambda L, x, w: _f(L).prelu(x, w), X, w, names=False)
    same_as_torch(lambda L, x, w: _f(L).prelu(x, w[:1]), X, w, names=False)
    same_as_torch(lambda L, x, w: _f(L).prelu(x.reshape(2, 6, 2), w), X, w, names=False)
    same_error(lambda L, x, w: _f(L).prelu(x, w[:4]), X, w)


def test_activation_errors_match_torch():
    same_error(lambda L, x: _f(L).gelu(x, approximate="erf"), X)
    same_error(lambda L, x: _f(L).gelu(x.long()), X)
    same_error(lambda L, x: _f(L).hardtanh(x, 2.0, 1.0), X)


def test_inplace_activation_writes_into_the_input():
    torch = _torch()
    for name, args in [("leaky_relu", (0.1,)), ("elu", (1.0,)), ("hardtanh", (-1.0, 1.0)),
                       ("silu", ()), ("relu6", ()), ("hardswish", ())]:
        t = torch.tensor(X).clone()
        p = pg.tensor(X)
        out_t = getattr(torch.nn.functional, name)(t, *args, inplace=True)
        out_p = getattr(F, name)(p, *args, inplace=True)
        assert out_p is p
        np.testing.assert_allclose(p.numpy(), out_t.numpy(), rtol=1e-12)


ACTIVATION_MODULES = [
    ("LeakyReLU", ()), ("LeakyReLU", (0.2, True)), ("ELU", ()), ("ELU", (0.5, True)),
    ("GELU", ()), ("GELU", ("tanh",)), ("SiLU", ()), ("SiLU", (True,)), ("Mish", ()),
    ("Softplus", ()), ("Softplus", (2, 10)), ("Softmax", (1,)), ("LogSoftmax", (0,)),
    ("Softmax", ()), ("Hardtanh", ()), ("Hardtanh", (-2.0, 3.0, True)), ("ReLU6", ()),
    ("ReLU6", (True,)), ("PReLU", ()), ("PReLU", (6, 0.1)), ("Hardswish", ()),
    ("Hardsigmoid", (True,)), ("Softsign", ()), ("Tanhshrink", ()), ("LogSigmoid", ()),
]


@pytest.mark.parametrize("name,args", ACTIVATION_MODULES)
def test_activation_modules_match_torch(name, args):
    torch = _torch()
    tm, pm = getattr(torch.nn, name)(*args), getattr(nn, name)(*args)
    assert repr(pm) == repr(tm)
    x = X.astype(np.float32)
    tx, px = torch.tensor(x), pg.tensor(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Softmax() without dim: both warn
        np.testing.assert_allclose(pm(px).detach().numpy(), tm(tx).detach().numpy(),
                                   rtol=1e-5, atol=1e-6)
    assert [n for n, _ in pm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    for (_, a), (_, b) in zip(pm.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy())


def test_softmax_module_without_dim_warns_as_torch():
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        nn.Softmax()(pg.zeros(2, 3))


def test_prelu_learns_its_slope():
    m = nn.PReLU()
    m(pg.tensor([-2.0, 1.0])).sum().backward()
    assert m.weight.grad.tolist() == [-2.0]


# -- normalization --------------------------------------------------------------------------------
def test_layer_norm_matches_torch_with_and_without_affine():
    w, b = RNG.standard_normal(6), RNG.standard_normal(6)
    same_as_torch(lambda L, x: _f(L).layer_norm(x, (6,)), X)
    same_as_torch(lambda L, x, w, b: _f(L).layer_norm(x, (6,), w, b, 1e-3), X, w, b)
    same_as_torch(lambda L, x, w: _f(L).layer_norm(x, [6], w), X, w)
    same_as_torch(lambda L, x, w: _f(L).layer_norm(x.reshape(2, 2, 6), (2, 6), w.reshape(2, 3)
                                                   .repeat(1, 2)), X, w)
    _same_in_float32(lambda L, x: _f(L).layer_norm(x, (6,)), X)


def test_layer_norm_errors_match_torch():
    same_error(lambda L, x: _f(L).layer_norm(x, (4,)), X)
    same_error(lambda L, x: _f(L).layer_norm(x, (5, 6)), X)
    same_error(lambda L, x: _f(L).layer_norm(x, (6,), x[0, :3]), X)
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[4\].*\[\*, 4\].*\[4, 6\]"):
        F.layer_norm(pg.tensor(X), (4,))


@pytest.mark.parametrize("fn", [
    lambda x, w, b: F.layer_norm(x, (4,), w, b),
    lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
    lambda x, w, b: F.batch_norm(x, pg.tensor([0.1, -0.2, 0.3, 0.0], dtype=pg.float64),
                                 pg.tensor([1.5, 0.5, 2.0, 1.0], dtype=pg.float64), w, b),
    lambda x, w, b: F.group_norm(x.reshape(3, 4, 1), 2, w, b),
], ids=["layer_norm", "batch_norm", "batch_norm_eval", "group_norm"])
def test_normalization_first_and_second_derivatives(fn):
    x = _double(RNG.standard_normal((3, 4)))
    w, b = _double(RNG.standard_normal(4)), _double(RNG.standard_normal(4))
    assert gradcheck(fn, (x, w, b))
    assert gradgradcheck(fn, (x, w, b))


def test_layer_norm_module_matches_torch():
    torch = _torch()
    for args, kwargs in [((6,), {}), ([6], {"eps": 1e-3}), ((6,), {"bias": False}),
                         ((6,), {"elementwise_affine": False}), (((4, 6),), {})]:
        tm, pm = torch.nn.LayerNorm(*args, **kwargs), nn.LayerNorm(*args, **kwargs)
        assert repr(pm) == repr(tm)
        assert [n for n, _ in pm.named_parameters()] == [n for n, _ in tm.named_parameters()]
        with torch.no_grad():
            for (_, p), (_, t) in zip(pm.named_parameters(), tm.named_parameters()):
                np.testing.assert_array_equal(p.detach().numpy(), t.numpy())
                t.copy_(torch.tensor(RNG.standard_normal(tuple(t.shape))))
                with pg.no_grad():
                    p.copy_(pg.tensor(t.numpy()))
        x = RNG.standard_normal((2, 4, 6)).astype(np.float32)
        tx, px = torch.tensor(x, requires_grad=True), pg.tensor(x, requires_grad=True)
        ty, py = tm(tx), pm(px)
        np.testing.assert_allclose(py.detach().numpy(), ty.detach().numpy(), rtol=1e-5,
                                   atol=1e-5)
        assert py.grad_fn.name() == ty.grad_fn.name()
        (ty * ty).sum().backward()
        (py * py).sum().backward()
        np.testing.assert_allclose(px.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-4)
        for (_, p), (_, t) in zip(pm.named_parameters(), tm.named_parameters()):
            np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-4)


def _copy_params(pm, tm):
    torch = _torch()
    with torch.no_grad():
        for (_, p), (_, t) in zip(pm.named_parameters(), tm.named_parameters()):
            t.copy_(torch.tensor(RNG.standard_normal(tuple(t.shape))))
            with pg.no_grad():
                p.copy_(pg.tensor(t.numpy()))


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (5, 3)), ("BatchNorm1d", (4, 3, 2)),
                                       ("BatchNorm2d", (2, 3, 2, 2))])
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"momentum": 0.3, "eps": 1e-3},
                                    {"affine": False}, {"track_running_stats": False}])
def test_batch_norm_training_and_running_statistics_match_torch(cls, shape, kwargs):
    torch = _torch()
    tm, pm = getattr(torch.nn, cls)(3, **kwargs), getattr(nn, cls)(3, **kwargs)
    tm, pm = tm.double(), pm.double()
    assert repr(pm) == repr(tm)
    assert [n for n, _ in pm.named_buffers()] == [n for n, _ in tm.named_buffers()]
    _copy_params(pm, tm)
    for step in range(3):
        x = RNG.standard_normal(shape) * (step + 1) + step
        tx, px = torch.tensor(x, requires_grad=True), pg.tensor(x, requires_grad=True)
        ty, py = tm(tx), pm(px)
        np.testing.assert_allclose(py.detach().numpy(), ty.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
        assert py.grad_fn.name() == ty.grad_fn.name()
        cot = RNG.standard_normal(shape)
        ty.backward(torch.tensor(cot))
        py.backward(pg.tensor(cot))
        np.testing.assert_allclose(px.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
        for (_, p), (_, t) in zip(pm.named_parameters(), tm.named_parameters()):
            np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)
        for (n, p), (_, t) in zip(pm.named_buffers(), tm.named_buffers()):
            np.testing.assert_allclose(p.numpy(), t.numpy(), rtol=1e-10, err_msg=n)
            assert p.dtype.name == str(t.dtype).removeprefix("torch.")
    tm.eval()
    pm.eval()
    x = RNG.standard_normal(shape)
    np.testing.assert_allclose(pm(pg.tensor(x)).detach().numpy(),
                               tm(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-12)


def test_batch_norm_eval_uses_the_running_statistics():
    bn = nn.BatchNorm1d(2)
    with pg.no_grad():
        bn.running_mean.copy_(pg.tensor([1.0, 2.0]))
        bn.running_var.copy_(pg.tensor([4.0, 9.0]))
    bn.eval()
    out = bn(pg.tensor([[3.0, 5.0]]))   # one sample: fine in eval mode
    expected = [[2 / np.sqrt(4 + 1e-5), 3 / np.sqrt(9 + 1e-5)]]
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-6)
    assert bn.num_batches_tracked.item() == 0


def test_batch_norm_errors_match_torch():
    torch = _torch()
    for cls, shape in [("BatchNorm1d", (2, 3, 4, 5)), ("BatchNorm1d", (3,)),
                       ("BatchNorm2d", (2, 3))]:
        with pytest.raises(ValueError):
            getattr(torch.nn, cls)(3)(torch.zeros(shape))
        with pytest.raises(ValueError, match="expected"):
            getattr(nn, cls)(3)(pg.zeros(*shape))
    same_error(lambda L, x: L.nn.BatchNorm1d(6)(x[:1]), X)   # one value per channel
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*\[1, 6\]"):
        nn.BatchNorm1d(6)(pg.zeros(1, 6))
    same_error(lambda L, x: L.nn.BatchNorm1d(5)(x), X)        # wrong channel count
    same_error(lambda L, x: _f(L).batch_norm(x, None, None), X)


def test_group_norm_matches_torch():
    torch = _torch()
    w, b = RNG.standard_normal(6), RNG.standard_normal(6)
    same_as_torch(lambda L, x: _f(L).group_norm(x.reshape(2, 6, 2), 3), X)
    same_as_torch(lambda L, x, w, b: _f(L).group_norm(x.reshape(1, 6, 2, 2), 2, w, b, 1e-3),
                  X, w, b)
    same_error(lambda L, x: _f(L).group_norm(x, 4), X)
    same_error(lambda L, x: _f(L).group_norm(x[0], 1), X)
    with pytest.raises(ValueError):
        torch.nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(4, 6)
    for kwargs in [{}, {"affine": False, "eps": 1e-3}]:
        tm, pm = torch.nn.GroupNorm(2, 6, **kwargs), nn.GroupNorm(2, 6, **kwargs)
        assert repr(pm) == repr(tm)
        _copy_params(pm, tm)
        x = RNG.standard_normal((2, 6, 3)).astype(np.float32)
        np.testing.assert_allclose(pm(pg.tensor(x)).detach().numpy(),
                                   tm(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                                   atol=1e-5)


# -- embedding, dropout, one_hot ----------------------------------------------------------------
def test_embedding_matches_torch():
    w = RNG.standard_normal((5, 3))
    idx = np.array([[0, 4, 2], [2, 2, 1]])
    same_as_torch(lambda L, w, i: _f(L).embedding(i, w), w, idx)
    same_as_torch(lambda L, w, i: _f(L).embedding(i, w, padding_idx=2), w, idx)
    same_as_torch(lambda L, w, i: _f(L).embedding(i, w, padding_idx=-1), w, idx)
    same_as_torch(lambda L, w, i: _f(L).embedding(i[0, 0], w), w, idx)


def test_embedding_errors_match_torch():
    w = RNG.standard_normal((5, 3))
    same_error(lambda L, w, i: _f(L).embedding(i, w), w, np.array([0, 5]))
    same_error(lambda L, w, i: _f(L).embedding(i, w), w, np.array([-1, 0]))
    same_error(lambda L, w, i: _f(L).embedding(i.double(), w), w, np.array([0, 1]))
    same_error(lambda L, w, i: L.nn.Embedding(5, 3, padding_idx=5), w, np.array([0]))
    with pytest.raises(IndexError, match="index out of range in self"):
        nn.Embedding(5, 3)(pg.tensor([7]))
    with pytest.raises(NotImplementedError, match="max_norm"):
        nn.Embedding(5, 3, max_norm=1.0)


def test_embedding_padding_row_starts_at_zero_and_gets_no_gradient():
    torch = _torch()
    pm, tm = nn.Embedding(10, 3, padding_idx=0), torch.nn.Embedding(10, 3, padding_idx=0)
    assert repr(pm) == repr(tm) == "Embedding(10, 3, padding_idx=0)"
    assert pm.weight[0].tolist() == [0.0, 0.0, 0.0] and pm.weight[1:].abs().sum().item() > 0
    w = pm.weight.detach().numpy()
    assert 0.5 < w[1:].std() < 1.6   # N(0, 1), as torch draws them
    idx = pg.tensor([[0, 1, 1], [0, 3, 9]])
    pm(idx).sum().backward()
    grad = pm.weight.grad.numpy()
    assert grad[0].tolist() == [0.0, 0.0, 0.0]
    assert grad[1].tolist() == [2.0, 2.0, 2.0] and grad[2].tolist() == [0.0, 0.0, 0.0]
    assert repr(nn.Embedding(4, 2, padding_idx=-1)) == repr(torch.nn.Embedding(4, 2, -1))


def test_embedding_from_pretrained():
    torch = _torch()
    w = RNG.standard_normal((4, 2))
    pe = nn.Embedding.from_pretrained(pg.tensor(w))
    te = torch.nn.Embedding.from_pretrained(torch.tensor(w))
    assert repr(pe) == repr(te)
    assert not pe.weight.requires_grad
    np.testing.assert_array_equal(pe(pg.tensor([3, 1])).numpy(), w[[3, 1]])
    assert nn.Embedding.from_pretrained(pg.tensor(w), freeze=False).weight.requires_grad
    with pytest.raises(AssertionError, match="2-dimensional"):
        nn.Embedding.from_pretrained(pg.zeros(3))


def test_embedding_second_derivative():
    w = _double(RNG.standard_normal((4, 3)))
    idx = pg.tensor([[1, 0], [1, 3]])
    fn = lambda w: (F.embedding(idx, w, padding_idx=2) ** 2)  # noqa: E731
    assert gradcheck(fn, (w,))
    assert gradgradcheck(fn, (w,))


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_probability_out_of_range_raises_as_torch(p):
    torch = _torch()
    for name in ("Dropout", "Dropout2d"):
        with pytest.raises(ValueError):
            getattr(torch.nn, name)(p)
        with pytest.raises(ValueError, match="between 0 and 1"):
            getattr(nn, name)(p)
    for name in ("dropout", "dropout2d"):
        same_error(lambda L, x, name=name: getattr(_f(L), name)(x.reshape(1, 4, 6, 1), p), X)


def test_dropout2d_zeroes_whole_channels_in_training_only():
    pg.manual_seed(0)
    m = nn.Dropout2d(0.5)
    assert repr(m) == "Dropout2d(p=0.5, inplace=False)"
    x = pg.ones(8, 16, 3, 3, requires_grad=True)
    y = m(x)
    per_channel = y.detach().numpy().reshape(8, 16, 9)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert (per_channel.min(-1) == per_channel.max(-1)).all()   # a channel is kept or not
    assert 0 < (per_channel[..., 0] == 0).mean() < 1
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())
    assert m.eval()(x) is x
    assert F.dropout2d(x, training=False) is x
    assert not F.dropout2d(pg.ones(2, 3, 2, 2), 1.0).numpy().any()


def test_dropout2d_warns_as_torch_for_other_ranks():
    with pytest.warns(UserWarning, match="3D input to dropout2d"):
        F.dropout2d(pg.ones(2, 3, 4))
    with pytest.warns(UserWarning, match="2-D input to dropout2d"):
        F.dropout2d(pg.ones(2, 3))


def test_inplace_dropout_writes_into_the_input():
    pg.manual_seed(1)
    x = pg.ones(4, 5, 2, 2)
    y = F.dropout2d(x, 0.5, inplace=True)
    assert y is x and set(np.unique(x.numpy())) <= {0.0, 2.0}


def test_one_hot_matches_torch():
    torch = _torch()
    for idx, n in [([0, 2, 1], -1), ([[1], [3]], 5), ([], 3), (4, 6)]:
        p, t = F.one_hot(pg.tensor(idx, dtype=pg.int64), n), \
            torch.nn.functional.one_hot(torch.tensor(idx, dtype=torch.int64), n)
        assert p.dtype is pg.int64 and p.tolist() == t.tolist()
    for idx, n in [([0, 3], 3), ([-1, 0], -1), ([], -1)]:
        same_error(lambda L, i, n=n: _f(L).one_hot(i, n), np.array(idx, dtype=np.int64))
    same_error(lambda L, i: _f(L).one_hot(i.int(), 3), np.array([0, 1]))


def test_normalize_cosine_similarity_pairwise_distance_match_torch():
    y = RNG.standard_normal((4, 6))
    same_as_torch(lambda L, x: _f(L).normalize(x), X)
    same_as_torch(lambda L, x: _f(L).normalize(x, p=1, dim=0), X)
    same_as_torch(lambda L, x: _f(L).normalize(x * 0), X)
    same_as_torch(lambda L, a, b: _f(L).cosine_similarity(a, b), X, y)
    same_as_torch(lambda L, a, b: _f(L).cosine_similarity(a, b[:1], dim=-1), X, y)
    same_as_torch(lambda L, a, b: _f(L).pairwise_distance(a, b), X, y, names=False)
    same_as_torch(lambda L, a, b: _f(L).pairwise_distance(a, b, 1.0, keepdim=True), X, y,
                  names=False)
    a, b = _double(X), _double(y)
    assert gradcheck(lambda a, b: F.cosine_similarity(a, b), (a, b))
    assert gradgradcheck(lambda a, b: F.cosine_similarity(a, b), (a, b))
    assert gradcheck(lambda a: F.normalize(a, dim=0), (a,))


# -- losses --------------------------------------------------------------------------------------
REDUCTIONS = ["mean", "sum", "none"]
Y = RNG.standard_normal((4, 6)) * 2


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_match_torch(reduction):
    kw = {"reduction": reduction}
    same_as_torch(lambda L, x, y: _f(L).l1_loss(x, y, **kw), X, Y, names=False)
    same_as_torch(lambda L, x, y: _f(L).smooth_l1_loss(x, y, **kw), X, Y, names=False)
    same_as_torch(lambda L, x, y: _f(L).smooth_l1_loss(x, y, beta=2.5, **kw), X, Y,
                  names=False)
    same_as_torch(lambda L, x, y: _f(L).smooth_l1_loss(x, y, beta=0.0, **kw), X, Y,
                  names=False)
    same_as_torch(lambda L, x, y: _f(L).huber_loss(x, y, **kw), X, Y, names=False)
    same_as_torch(lambda L, x, y: _f(L).huber_loss(x, y, delta=0.3, **kw), X, Y,
                  names=False)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_matches_torch(reduction):
    p = 1 / (1 + np.exp(-X))
    p[0, 0], p[0, 1] = 0.0, 1.0   # log clamped at -100, as torch
    t = (RNG.random((4, 6)) > 0.5).astype(np.float64)
    t[0, 0], t[0, 1] = 1.0, 0.0
    w = RNG.random(6)
    kw = {"reduction": reduction}
    same_as_torch(lambda L, p, t: _f(L).binary_cross_entropy(p, t.detach(), **kw), p, t,
                  names=False)
    same_as_torch(lambda L, p, t, w: _f(L).binary_cross_entropy(p[1:], t[1:].detach(),
                                                                w.detach(), **kw),
                  p, t, w, names=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        loss = F.binary_cross_entropy(pg.tensor(p), pg.tensor(t), reduction="none")
    assert loss[0, 0].item() == 100.0 and loss[0, 1].item() == 100.0


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits_matches_torch(reduction):
    t = RNG.random((4, 6))
    w, pw = RNG.random(6), RNG.random(6) * 3
    kw = {"reduction": reduction}
    fn = _f
    same_as_torch(lambda L, x, t: fn(L).binary_cross_entropy_with_logits(x, t, **kw), X, t,
                  names=False)
    same_as_torch(lambda L, x, t, w, pw: fn(L).binary_cross_entropy_with_logits(
        x, t, w.detach(), pos_weight=pw.detach(), **kw), X, t, w, pw, names=False)


def test_binary_cross_entropy_with_logits_is_stable_for_large_logits():
    x = pg.tensor([-500.0, 500.0], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, pg.tensor([1.0, 0.0]), reduction="none")
    assert loss.tolist() == [500.0, 500.0]
    loss.sum().backward()
    assert x.grad.tolist() == [-1.0, 1.0]


@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none", "mean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target):
    logp = X - np.log(np.exp(X).sum(1, keepdims=True))
    q = np.exp(Y) / np.exp(Y).sum(1, keepdims=True)
    q[0, 0] = 0.0
    target = np.log(q + 1e-3) if log_target else q
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        same_as_torch(lambda L, x, t: _f(L).kl_div(x, t.detach(), reduction=reduction,
                                                  log_target=log_target), logp, target,
                      names=False)


def test_kl_div_mean_warns_as_torch():
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(pg.zeros(2, 2), pg.ones(2, 2))


def test_loss_first_and_second_derivatives():
    x, y = _double(X[1:] + 0.05), _double(Y[1:])
    t = pg.tensor(RNG.random((3, 6)))
    for fn in [lambda a, b: F.smooth_l1_loss(a, b, beta=0.7),
               lambda a, b: F.huber_loss(a, b, delta=1.5, reduction="sum"),
               lambda a, b: F.binary_cross_entropy_with_logits(a, b.sigmoid(),
                                                                pos_weight=t[0] * 2),
               lambda a, b: F.binary_cross_entropy(a.sigmoid(), b.sigmoid(), t[0]),
               lambda a, b: F.kl_div(a.log_softmax(1), b.softmax(1), reduction="batchmean"),
               lambda a, b: F.binary_cross_entropy(a.sigmoid(), t, reduction="none")]:
        assert gradcheck(fn, (x, y))
        assert gradgradcheck(fn, (x, y))


LOSS_MODULES = [("L1Loss", (), {}), ("L1Loss", (), {"reduction": "sum"}),
                ("SmoothL1Loss", (), {"beta": 0.5}), ("HuberLoss", (), {"delta": 2.0}),
                ("BCEWithLogitsLoss", (), {}), ("KLDivLoss", (), {"reduction": "batchmean"}),
                ("KLDivLoss", (), {"reduction": "sum", "log_target": True}),
                ("BCELoss", (), {"reduction": "none"})]


@pytest.mark.parametrize("name,args,kwargs", LOSS_MODULES)
def test_loss_modules_match_torch(name, args, kwargs):
    torch = _torch()
    tm, pm = getattr(torch.nn, name)(*args, **kwargs), getattr(nn, name)(*args, **kwargs)
    assert repr(pm) == repr(tm)
    assert pm.reduction == tm.reduction
    x, t = 1 / (1 + np.exp(-X)), RNG.random((4, 6))
    np.testing.assert_allclose(pm(pg.tensor(x), pg.tensor(t)).numpy(),
                               tm(torch.tensor(x), torch.tensor(t)).numpy(), rtol=1e-10)


def test_bce_loss_modules_keep_their_weights_as_buffers():
    w = pg.tensor([1.0, 2.0])
    m = nn.BCEWithLogitsLoss(weight=w, pos_weight=pg.tensor([3.0, 1.0]))
    assert [n for n, _ in m.named_buffers()] == ["weight", "pos_weight"]
    assert nn.BCELoss(weight=w).weight is w


def test_loss_errors_match_torch():
    p = 1 / (1 + np.exp(-X))
    same_error(lambda L, x: _f(L).binary_cross_entropy(x, x[:2].detach()), p)
    same_error(lambda L, x: _f(L).binary_cross_entropy(x * 3, x.detach()), p)
    same_error(lambda L, x: _f(L).binary_cross_entropy_with_logits(x, x[:2].detach()), p)
    same_error(lambda L, x: _f(L).l1_loss(x, x, reduction="avg"), p)
    same_error(lambda L, x: _f(L).huber_loss(x, x, delta=0.0), p)
    same_error(lambda L, x: _f(L).smooth_l1_loss(x, x, beta=-1.0), p)


# -- cross-entropy with label smoothing --------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_label_smoothing_matches_torch(reduction, weighted):
    target = np.array([1, 5, -100, 0])
    w = RNG.random(6) + 0.5
    kw = {"reduction": reduction, "label_smoothing": 0.2}

    def fn(L, x, w, t):
        return _f(L).cross_entropy(x, t, w.detach() if weighted else None, **kw)

    same_as_torch(fn, X, w, target, names=False)
    same_as_torch(lambda L, x, w, t: _f(L).cross_entropy(
        x.reshape(2, 6, 2), t.reshape(2, 2), w.detach() if weighted else None,
        ignore_index=5, **kw), X, w, target.clip(0), names=False)
    probs = np.exp(Y) / np.exp(Y).sum(1, keepdims=True)
    same_as_torch(lambda L, x, w, t: _f(L).cross_entropy(
        x, t.detach(), w.detach() if weighted else None, **kw), X, w, probs, names=False)


def test_cross_entropy_label_smoothing_module_and_errors():
    torch = _torch()
    tm = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    pm = nn.CrossEntropyLoss(label_smoothing=0.1)
    t = np.array([0, 1, 2, 3])
    np.testing.assert_allclose(pm(pg.tensor(X), pg.tensor(t)).item(),
                               tm(torch.tensor(X), torch.tensor(t)).item(), rtol=1e-12)
    same_error(lambda L, x, t: _f(L).cross_entropy(x, t, label_smoothing=1.5), X, t)
    x = _double(X)
    assert gradgradcheck(lambda x: F.cross_entropy(x, pg.tensor(t), label_smoothing=0.3),
                         (x,))


def test_docstring_examples():
    import doctest
    import importlib
    result = doctest.testmod(importlib.import_module("plugrad.nn.layers"),
                             optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 10
