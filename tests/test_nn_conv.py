"""Convolution, pooling, padding and resizing (plugrad.nn.conv, plugrad.nn.conv_layers):
values, gradients, grad_fn names and errors against torch, derivatives against finite
differences, and a small CNN trained alongside torch's."""
from __future__ import annotations

import doctest
import importlib
import math

import numpy as np
import plugrad as pg
import pytest
from plugrad import nn
from plugrad.autograd import gradcheck, gradgradcheck
from torch_compare import same_as_torch, same_error

rng = np.random.default_rng(7)


def _r(*shape):
    return rng.standard_normal(shape)


# -- convolution --------------------------------------------------------------------------
CONV2D = [
    dict(),
    dict(stride=2),
    dict(stride=(2, 1), padding=(1, 2)),
    dict(padding=1, dilation=2),
    dict(padding="same"),
    dict(padding="same", dilation=(2, 1)),
    dict(padding="valid", stride=3),
    dict(groups=2),
    dict(groups=2, stride=2, padding=1, dilation=(1, 2)),
]


@pytest.mark.parametrize("kw", CONV2D, ids=lambda kw: ",".join(f"{k}={v}" for k, v in
                                                                kw.items()) or "default")
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_matches_torch(kw, bias):
    groups = kw.get("groups", 1)
    x, w, b = _r(2, 4, 7, 8), _r(6, 4 // groups, 3, 2), _r(6)
    if bias:
        same_as_torch(lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b, **kw), x, w, b)
    else:
        same_as_torch(lambda lib, x, w: lib.nn.functional.conv2d(x, w, **kw), x, w)


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1), dict(dilation=3),
                                dict(padding="same", dilation=2), dict(groups=3, padding=2)])
def test_conv1d_matches_torch(kw):
    groups = kw.get("groups", 1)
    same_as_torch(lambda lib, x, w, b: lib.nn.functional.conv1d(x, w, b, **kw),
                  _r(3, 6, 11), _r(9, 6 // groups, 3), _r(9))


def test_unbatched_and_float32_convolution_match_torch():
    same_as_torch(lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=1),
                  _r(3, 5, 5), _r(2, 3, 3, 3))
    torch = pytest.importorskip("torch")
    x, w = _r(2, 3, 6, 6).astype(np.float32), _r(4, 3, 3, 3).astype(np.float32)
    ours = nn.functional.conv2d(pg.tensor(x), pg.tensor(w))
    assert ours.dtype is pg.float32
    np.testing.assert_allclose(ours.numpy(), torch.nn.functional.conv2d(
        torch.tensor(x), torch.tensor(w)).numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kw", [dict(), dict(stride=2), dict(stride=2, padding=1,
                                                                output_padding=1),
                                dict(stride=3, output_padding=2, dilation=1),
                                dict(groups=2, dilation=2, padding=2),
                                dict(stride=(2, 1), padding=(0, 1), output_padding=(1, 0))])
def test_conv_transpose2d_matches_torch(kw):
    groups = kw.get("groups", 1)
    same_as_torch(lambda lib, x, w, b: lib.nn.functional.conv_transpose2d(x, w, b, **kw),
                  _r(2, 4, 5, 4), _r(4, 6 // groups, 3, 2), _r(6))


def test_conv_transpose1d_matches_torch():
    same_as_torch(lambda lib, x, w: lib.nn.functional.conv_transpose1d(
        x, w, stride=2, padding=1, output_padding=1), _r(2, 3, 6), _r(3, 2, 4))


def test_convolution_gradients_against_finite_differences():
    x, w, b = (pg.tensor(_r(*s), requires_grad=True) for s in ((2, 4, 6, 5), (4, 2, 3, 3), (4,)))

    def conv(x, w, b):
        return nn.functional.conv2d(x, w, b, stride=(2, 1), padding=(1, 0), dilation=(1, 2),
                                    groups=2)

    assert gradcheck(conv, (x, w, b))
    assert gradgradcheck(conv, (x, w, b))
    assert gradgradcheck(lambda x, w: nn.functional.conv_transpose2d(
        x, w, stride=2, output_padding=1), (x[:, :2], w[:2]))


def test_convolution_double_backward_matches_torch():
    torch = pytest.importorskip("torch")
    x, w = _r(2, 3, 6, 6), _r(4, 3, 3, 3)
    grads = []
    for lib in (torch, pg):
        xt, wt = (lib.tensor(a, requires_grad=True) for a in (x, w))
        y = lib.nn.functional.conv2d(xt, wt, padding=1, stride=2)
        gx, = lib.autograd.grad((y * y).sum(), xt, create_graph=True)
        (gx * gx).sum().backward()
        grads.append((gx.detach().numpy(), wt.grad.numpy(), xt.grad.numpy()))
    for a, b in zip(*grads):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("call", [
    lambda F, x, w: F.conv2d(x[:, :2], w),                  # wrong channel count
    lambda F, x, w: F.conv2d(x[:, :, :2, :2], w),           # kernel bigger than the input
    lambda F, x, w: F.conv2d(x[0, 0], w),                   # 2-D input
    lambda F, x, w: F.conv2d(x, w[0]),                      # 3-D weight
    lambda F, x, w: F.conv2d(x, w, padding="full"),
    lambda F, x, w: F.conv2d(x, w, padding="same", stride=2),
    lambda F, x, w: F.conv2d(x, w, stride=0),
    lambda F, x, w: F.conv2d(x, w, padding=-1),
    lambda F, x, w: F.conv2d(x, w, dilation=0),
    lambda F, x, w: F.conv2d(x, w, groups=2),
    lambda F, x, w: F.conv2d(x, w, w[0, 0, 0]),             # bias of the wrong size
    lambda F, x, w: F.conv2d(x, w, stride=(1, 2, 3)),
    lambda F, x, w: F.conv2d(x.float(), w),                 # dtypes differ
    lambda F, x, w: F.conv_transpose2d(x, w),               # channels of a transposed conv
    lambda F, x, w: F.conv_transpose2d(x, w.transpose(0, 1), output_padding=1),
])
def test_convolution_errors_match_torch(call):
    same_error(lambda lib, x, w: call(lib.nn.functional, x, w), _r(2, 3, 8, 8), _r(4, 3, 3, 3))


def test_a_failed_convolution_leaves_no_graph_behind():
    x = pg.tensor(_r(1, 2, 4, 4), requires_grad=True)
    with pytest.raises(RuntimeError, match="expected input"):
        nn.functional.conv2d(x, pg.ones(1, 3, 3, 3, dtype=pg.float64))
    assert x.grad is None and x.grad_fn is None


# -- pooling ------------------------------------------------------------------------------
POOL = [dict(kernel_size=2), dict(kernel_size=3, stride=2), dict(kernel_size=3, padding=1),
        dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), ceil_mode=True),
        dict(kernel_size=2, stride=1, dilation=2, padding=1),
        dict(kernel_size=3, stride=2, ceil_mode=True)]


@pytest.mark.parametrize("kw", POOL, ids=str)
def test_max_pool2d_with_indices_matches_torch(kw):
    same_as_torch(lambda lib, x: lib.nn.functional.max_pool2d(x, return_indices=True, **kw),
                  _r(2, 3, 7, 8))


@pytest.mark.parametrize("shape, kw", [((2, 3, 6, 4), dict(kernel_size=[2, 2])),
                                       ((3, 6, 6), dict(kernel_size=(3, 2))),
                                       ((2, 3, 6, 4), dict(kernel_size=2, stride=1))], ids=str)
def test_max_pool_tilings_twice_follow_torch(shape, kw):
    # the first call works out the plan, the second reuses it (windows that tile the input
    # exactly are a reshape; a list argument is not cached)
    for _ in range(2):
        same_as_torch(lambda lib, x: lib.nn.functional.max_pool2d(x, return_indices=True, **kw),
                      _r(*shape))


def test_max_pool_ties_and_nan_follow_torch():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = x[0, 0, 0, 3] = x[0, 0, 1, 2] = np.nan
    same_as_torch(lambda lib, x: lib.nn.functional.max_pool2d(x, 2, return_indices=True),
                  x, names=False)


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1),
                                dict(kernel_size=2, dilation=2, ceil_mode=True, stride=2)])
def test_max_pool1d_matches_torch(kw):
    same_as_torch(lambda lib, x: lib.nn.functional.max_pool1d(x, **kw), _r(2, 3, 9))
    same_as_torch(lambda lib, x: lib.nn.functional.max_pool1d(x, return_indices=True, **kw),
                  _r(3, 9))


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                     count_include_pad=False),
                                dict(kernel_size=(2, 3), divisor_override=5)], ids=str)
def test_avg_pool2d_matches_torch(kw):
    same_as_torch(lambda lib, x: lib.nn.functional.avg_pool2d(x, **kw), _r(2, 3, 7, 8))


@pytest.mark.parametrize("size", [1, 2, (3, 4), (5, 3), (None, 2), (7, 8)])
def test_adaptive_pools_match_torch(size):
    x = _r(2, 3, 7, 8)
    same_as_torch(lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(x, size), x)
    same_as_torch(lambda lib, x: lib.nn.functional.adaptive_max_pool2d(x, size, True), x)


def test_one_dimensional_avg_and_adaptive_pools_match_torch():
    x = _r(2, 3, 10)
    same_as_torch(lambda lib, x: lib.nn.functional.avg_pool1d(x, 3, 2, 1), x)
    same_as_torch(lambda lib, x: lib.nn.functional.adaptive_avg_pool1d(x, 4), x)
    same_as_torch(lambda lib, x: lib.nn.functional.adaptive_max_pool1d(x, 3, True), x)


def test_pooling_gradients_against_finite_differences():
    x = pg.tensor(rng.permutation(150).reshape(1, 2, 5, 15) / 10.0, requires_grad=True)
    F = nn.functional
    assert gradcheck(lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), (x,))
    assert gradgradcheck(lambda x: F.max_pool2d(x, 2, 1), (x,))
    assert gradcheck(lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), (x,))
    assert gradgradcheck(lambda x: F.avg_pool2d(x, 2), (x,))
    assert gradcheck(lambda x: F.adaptive_max_pool2d(x, (2, 4)), (x,))
    assert gradgradcheck(lambda x: F.adaptive_avg_pool2d(x, (2, 4)), (x,))


@pytest.mark.parametrize("call", [
    lambda F, x: F.max_pool2d(x, 2, padding=2),
    lambda F, x: F.max_pool2d(x, 9),
    lambda F, x: F.max_pool2d(x, 2, stride=0),
    lambda F, x: F.max_pool2d(x[0, 0, 0], 2),
    lambda F, x: F.avg_pool2d(x, 2, padding=2),
    lambda F, x: F.avg_pool2d(x, 9),
    lambda F, x: F.adaptive_avg_pool2d(x, (2,)),
    lambda F, x: F.adaptive_max_pool2d(x[0, 0], 2),
])
def test_pooling_errors_match_torch(call):
    same_error(lambda lib, x: call(lib.nn.functional, x), _r(2, 3, 8, 8))


# -- padding, resizing, im2col ------------------------------------------------------------
@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pads", [(1, 2), (2, 0, 1, 3)])
def test_pad_matches_torch(mode, pads):
    x = _r(2, 3, 4, 5)[..., 0] if len(pads) == 2 else _r(2, 3, 4, 5)
    same_as_torch(lambda lib, x: lib.nn.functional.pad(x, pads, mode=mode), x,
                  names=mode != "circular")   # torch's circular pad is CopySlices


def test_constant_pad_with_value_negative_pads_and_many_dims_matches_torch():
    same_as_torch(lambda lib, x: lib.nn.functional.pad(x, (-1, 2, 0, 1, 1, 0), value=3.5),
                  _r(2, 3, 4))
    x = pg.tensor(_r(2, 3), requires_grad=True)
    assert gradgradcheck(lambda x: nn.functional.pad(x, (1, -1, 2, 0)), (x,))


@pytest.mark.parametrize("call", [
    lambda F, x: F.pad(x, (1,)),
    lambda F, x: F.pad(x, (1, 1) * 5),
    lambda F, x: F.pad(x, (4, 4, 1, 1), mode="reflect"),
    lambda F, x: F.pad(x, (1, 1), mode="reflect"),
    lambda F, x: F.pad(x, (1, 1, 1, 1), mode="wrap"),
    lambda F, x: F.pad(x, (9, 9, 1, 1), mode="circular"),
])
def test_pad_errors_match_torch(call):
    same_error(lambda lib, x: call(lib.nn.functional, x), _r(2, 3, 4, 4))


@pytest.mark.parametrize("kw", [dict(scale_factor=2), dict(size=(5, 9)), dict(scale_factor=0.5),
                                dict(size=(5, 9), mode="bilinear"),
                                dict(scale_factor=1.7, mode="bilinear"),
                                dict(size=3, mode="bilinear", align_corners=True),
                                dict(scale_factor=(2, 3), mode="bilinear",
                                     align_corners=False)], ids=str)
def test_interpolate_matches_torch(kw):
    same_as_torch(lambda lib, x: lib.nn.functional.interpolate(x, **kw), _r(2, 3, 4, 6))


def test_interpolate_linear_and_its_errors_match_torch():
    same_as_torch(lambda lib, x: lib.nn.functional.interpolate(x, 7, mode="linear"), _r(2, 3, 4))
    x = _r(2, 3, 4, 4)
    for call in (lambda F, x: F.interpolate(x), lambda F, x: F.interpolate(x, 3, 2),
                 lambda F, x: F.interpolate(x, 3, align_corners=True),
                 lambda F, x: F.interpolate(x, 3, mode="linear"),
                 lambda F, x: F.interpolate(x[0], 3, mode="bilinear")):
        same_error(lambda lib, x, call=call: call(lib.nn.functional, x), x)


def test_unfold_and_fold_match_torch():
    kw = dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1))
    same_as_torch(lambda lib, x: lib.nn.functional.unfold(x, **kw), _r(2, 3, 6, 7))
    cols = pg.nn.functional.unfold(pg.zeros(2, 3, 6, 7), **kw)
    same_as_torch(lambda lib, c: lib.nn.functional.fold(c, (6, 7), **kw), _r(*cols.shape))
    same_error(lambda lib, c: lib.nn.functional.fold(c, (6, 8), **kw), _r(*cols.shape))


# -- layers -------------------------------------------------------------------------------
def test_layer_reprs_match_torch():
    torch = pytest.importorskip("torch")
    specs = [("Conv2d", (3, 4, 3)), ("Conv2d", (3, 4, (3, 5), 2, 1, 2, 1, False, "reflect")),
             ("Conv2d", (4, 4, 3), {"padding": "same", "groups": 2}),
             ("Conv1d", (3, 4, 3)), ("ConvTranspose2d", (3, 4, 3, 2, 1, 1)),
             ("MaxPool2d", (2,)), ("MaxPool1d", (3, 1, 1)), ("AvgPool2d", (2,)),
             ("AdaptiveAvgPool2d", (1,)), ("AdaptiveMaxPool2d", ((2, 3),)),
             ("Upsample", (), {"scale_factor": 2}), ("Upsample", (), {"size": (4, 5),
                                                                    "mode": "bilinear"}),
             ("Flatten", ()), ("Unflatten", (1, (2, 3))), ("Unfold", (2,)),
             ("Fold", ((4, 4), 2)), ("Identity", ())]
    for name, args, *kw in specs:
        kw = kw[0] if kw else {}
        assert repr(getattr(nn, name)(*args, **kw)) == repr(getattr(torch.nn, name)(*args, **kw))


def test_conv_layers_start_like_torch():
    conv = nn.Conv2d(6, 8, (3, 5), groups=2)
    assert tuple(conv.weight.shape) == (8, 3, 3, 5) and tuple(conv.bias.shape) == (8,)
    bound = 1 / math.sqrt(3 * 15)   # kaiming_uniform(a=sqrt(5)) gives 1/sqrt(fan_in)
    assert float(conv.weight.abs().max()) <= bound and float(conv.bias.abs().max()) <= bound
    assert float(conv.weight.abs().max()) > bound / 2
    t = nn.ConvTranspose2d(4, 6, 3, groups=2)
    assert tuple(t.weight.shape) == (4, 3, 3, 3)
    assert nn.Conv1d(2, 3, 3, bias=False).bias is None


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv_padding_modes_match_torch(mode):
    torch = pytest.importorskip("torch")
    for padding in (1, "same"):
        ref = torch.nn.Conv2d(2, 3, 3, padding=padding, padding_mode=mode).double()
        ours = nn.Conv2d(2, 3, 3, padding=padding, padding_mode=mode, dtype=pg.float64)
        ours.load_state_dict({k: pg.tensor(v.detach().numpy()) for k, v in
                              ref.state_dict().items()})
        x = _r(2, 2, 5, 6)
        np.testing.assert_allclose(ours(pg.tensor(x)).detach().numpy(),
                                   ref(torch.tensor(x)).detach().numpy(), rtol=1e-10)


def test_conv_layer_errors_match_torch():
    torch = pytest.importorskip("torch")
    for args, kw in [((3, 4, 3), {"groups": 2}), ((4, 3, 3), {"groups": 2}),
                     ((3, 4, 3), {"padding": "full"}), ((3, 4, 3), {"padding": "same",
                                                                     "stride": 2}),
                     ((3, 4, 3), {"padding_mode": "wrap"}), ((3, 4, 3), {"groups": 0})]:
        with pytest.raises(Exception) as expected:
            torch.nn.Conv2d(*args, **kw)
        with pytest.raises(type(expected.value)):
            nn.Conv2d(*args, **kw)


def test_conv_transpose_output_size_picks_the_output_padding():
    layer = nn.ConvTranspose2d(2, 3, 3, stride=2)
    x = pg.ones(1, 2, 4, 4)
    assert tuple(layer(x).shape) == (1, 3, 9, 9)
    assert tuple(layer(x, output_size=(10, 9)).shape) == (1, 3, 10, 9)
    with pytest.raises(ValueError):
        layer(x, output_size=(12, 9))


def test_flatten_unflatten_and_pool_layers_run():
    x = pg.tensor(_r(2, 3, 8, 8))
    model = nn.Sequential(nn.MaxPool2d(2), nn.AvgPool2d(2, ceil_mode=True),
                          nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Unflatten(1, (3, 1)))
    assert tuple(model(x).shape) == (2, 3, 1)
    assert tuple(nn.Upsample(scale_factor=2, mode="bilinear")(x).shape) == (2, 3, 16, 16)
    assert tuple(nn.Fold((8, 8), 2, stride=2)(nn.Unfold(2, stride=2)(x)).shape) == (2, 3, 8, 8)


def _cnn(lib):
    m = lib.nn
    return m.Sequential(m.Conv2d(1, 4, 3, padding=1), m.ReLU(), m.MaxPool2d(2),
                        m.Conv2d(4, 6, 3), m.ReLU(), m.AdaptiveAvgPool2d(1), m.Flatten(),
                        m.Linear(6, 10))


def test_a_small_cnn_trains_like_torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    ref, ours = _cnn(torch), _cnn(pg)
    ours.load_state_dict({k: pg.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    x = rng.standard_normal((16, 1, 12, 12)).astype(np.float32)
    y = rng.integers(0, 10, 16)
    opt_ref = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    opt = pg.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    for _ in range(3):
        loss_ref = torch.nn.functional.cross_entropy(ref(torch.tensor(x)), torch.tensor(y))
        opt_ref.zero_grad()
        loss_ref.backward()
        opt_ref.step()
        loss = pg.nn.functional.cross_entropy(ours(pg.tensor(x)), pg.tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        assert abs(loss.item() - loss_ref.item()) < 1e-5
    for (name, p), q in zip(ours.named_parameters(), ref.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), atol=1e-5,
                                   err_msg=name)


@pytest.mark.parametrize("module", ["plugrad.nn.conv", "plugrad.nn.conv_layers"])
def test_docstring_examples(module):
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
