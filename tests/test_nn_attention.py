"""Attention and transformer layers (plugrad.nn.attention, plugrad.nn.transformer) against
torch: outputs, attention weights and gradients from the same weights, in float64."""
from __future__ import annotations

import copy
import doctest
import importlib
import math
import warnings

import numpy as np
import plugrad as pg
import plugrad.nn.functional as F
import pytest
from plugrad import nn
from plugrad.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional

TOL = {"rtol": 1e-10, "atol": 1e-12}


def _pair(a):
    """The same array as a torch tensor and a plugrad tensor (floats require grad)."""
    a = np.asarray(a)
    grad = a.dtype.kind == "f"
    return (torch.tensor(a, requires_grad=grad), pg.tensor(a, requires_grad=grad))


def _close(p, t) -> None:
    np.testing.assert_allclose(p.detach().numpy(), t.detach().numpy(), **TOL)


def _load(tm, pm) -> None:
    """torch's weights into plugrad's module, through the state dict (names must match)."""
    assert list(tm.state_dict()) == list(pm.state_dict())
    pm.load_state_dict({k: pg.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})


def _same_grads(tm, pm) -> None:
    for name, tp in tm.named_parameters():
        pp = pm.get_parameter(name)
        assert (tp.grad is None) == (pp.grad is None), name
        if tp.grad is not None:
            np.testing.assert_allclose(pp.grad.numpy(), tp.grad.numpy(), **TOL, err_msg=name)


@pytest.fixture(autouse=True)
def float64():
    old_t, old_p = torch.get_default_dtype(), pg.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    pg.set_default_dtype(pg.float64)
    yield
    torch.set_default_dtype(old_t)
    pg.set_default_dtype(old_p)


# -- scaled_dot_product_attention --------------------------------------------------------------
def _sdpa_case(rng, qshape, kshape, vshape, mask=None, **kw):
    arrays = [rng.standard_normal(s) for s in (qshape, kshape, vshape)]
    pairs = [_pair(a) for a in arrays]
    tkw, pkw = dict(kw), dict(kw)
    if mask is not None:
        tkw["attn_mask"], pkw["attn_mask"] = (torch.tensor(mask), pg.tensor(mask))
    t = TF.scaled_dot_product_attention(*(p[0] for p in pairs), **tkw)
    p = F.scaled_dot_product_attention(*(p[1] for p in pairs), **pkw)
    _close(p, t)
    assert tuple(p.shape) == tuple(t.shape)
    cot = rng.standard_normal(tuple(t.shape))
    t.backward(torch.tensor(cot))
    p.backward(pg.tensor(cot))
    for tt, pp in pairs:
        np.testing.assert_allclose(pp.grad.numpy(), tt.grad.numpy(), **TOL)
    return p


SDPA_SHAPES = [((3, 4), (5, 4), (5, 6)),                       # unbatched
               ((2, 3, 4), (2, 5, 4), (2, 5, 6)),
               ((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5)),
               ((5, 2, 3, 4), (1, 2, 6, 4), (2, 6, 7))]         # broadcast batch dims


@pytest.mark.parametrize("shapes", SDPA_SHAPES)
@pytest.mark.parametrize("kind", ["none", "causal", "bool", "float", "scale"])
def test_sdpa_matches_torch(shapes, kind):
    rng = np.random.default_rng(len(shapes[0]))
    qs, ks, _ = shapes
    L, S = qs[-2], ks[-2]
    kw, mask = {}, None
    if kind == "causal":
        kw["is_causal"] = True
    elif kind == "bool":
        mask = rng.random((L, S)) > 0.4
        mask[:, 0] = True
    elif kind == "float":
        mask = rng.standard_normal((L, S))
    elif kind == "scale":
        kw["scale"] = 0.37
    _sdpa_case(rng, *shapes, mask=mask, **kw)


def test_sdpa_causal_with_more_queries_than_keys_and_the_reverse():
    rng = np.random.default_rng(1)
    _sdpa_case(rng, (2, 6, 4), (2, 3, 4), (2, 3, 5), is_causal=True)
    _sdpa_case(rng, (2, 3, 4), (2, 6, 4), (2, 6, 5), is_causal=True)


def test_sdpa_batched_masks():
    rng = np.random.default_rng(2)
    mask = rng.random((2, 1, 3, 5)) > 0.3
    mask[..., 0] = True
    _sdpa_case(rng, (2, 4, 3, 8), (2, 4, 5, 8), (2, 4, 5, 8), mask=mask)
    _sdpa_case(rng, (2, 4, 3, 8), (2, 4, 5, 8), (2, 4, 5, 8),
               mask=rng.standard_normal((2, 4, 3, 5)))


def test_sdpa_fully_masked_rows_are_zero_as_torchs():
    """torch 2.13 gives a query that may attend to nothing zeros, and zero gradients."""
    rng = np.random.default_rng(3)
    mask = rng.random((4, 6)) > 0.3
    mask[1] = False
    mask[:, 0] |= np.arange(4) != 1
    out = _sdpa_case(rng, (2, 4, 8), (2, 6, 8), (2, 6, 5), mask=mask)
    assert not np.any(out.detach().numpy()[:, 1])
    fmask = rng.standard_normal((4, 6))
    fmask[2] = -np.inf
    out = _sdpa_case(rng, (2, 4, 8), (2, 6, 8), (2, 6, 5), mask=fmask)
    assert not np.any(out.detach().numpy()[:, 2])


def test_sdpa_takes_a_float32_mask_for_any_query_as_torch():
    rng = np.random.default_rng(6)
    _sdpa_case(rng, (2, 3, 4), (2, 5, 4), (2, 5, 6),
               mask=rng.standard_normal((3, 5)).astype(np.float32))


def test_sdpa_grouped_query_attention():
    rng = np.random.default_rng(4)
    _sdpa_case(rng, (2, 4, 3, 8), (2, 2, 5, 8), (2, 2, 5, 6), enable_gqa=True)
    _sdpa_case(rng, (2, 6, 3, 8), (2, 1, 5, 8), (2, 3, 5, 6), enable_gqa=True)


def test_sdpa_dropout_keeps_the_expectation_and_zeroes_weights():
    pg.manual_seed(0)
    q = pg.zeros(1, 1, 2)
    k = pg.zeros(1, 64, 2)
    v = pg.ones(1, 64, 1)
    outs = [F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).item() for _ in range(200)]
    assert min(outs) < 1.0 < max(outs)           # weights were dropped, kept ones scaled
    assert abs(np.mean(outs) - 1.0) < 0.05
    assert F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).item() == 0.0


def test_sdpa_gradcheck_and_gradgradcheck():
    rng = np.random.default_rng(5)
    q, k, v = (pg.tensor(rng.standard_normal(s), requires_grad=True)
               for s in ((2, 3, 4), (2, 5, 4), (2, 5, 3)))
    mask = pg.tensor(rng.random((3, 5)) > 0.3)
    fmask = pg.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    dead = pg.tensor(np.array([[True] * 5, [False] * 5, [True, False] * 2 + [True]]))
    for fn in (lambda q, k, v: F.scaled_dot_product_attention(q, k, v),
               lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
               lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
               lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=dead),
               lambda q, k, v: F.scaled_dot_product_attention(q, k, v, scale=0.2)):
        assert gradcheck(fn, (q, k, v))
        assert gradgradcheck(fn, (q, k, v))
    fn = lambda q, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m)  # noqa: E731
    assert gradcheck(fn, (q, fmask))
    assert gradgradcheck(fn, (q, fmask))


SDPA_ERRORS = [
    dict(q=(3,), k=(5, 4), v=(5, 6)),
    dict(k=(2, 5, 3)),                                   # embedding sizes differ
    dict(v=(2, 4, 6)),                                   # key and value lengths differ
    dict(mask=("bool", (4, 5))),                         # mask does not broadcast
    dict(mask=("bool", (2, 2, 3, 5))),                   # mask bigger than the scores
    dict(mask=("float64", (1, 2, 3, 5))),                # more dims, even of size 1
    dict(mask=("int64", (3, 5))),
    dict(mask=("float16", (3, 5))),                      # float mask of another dtype
    dict(mask=("bool", (3, 5)), is_causal=True),
    dict(dtype_k="float32"),
    dict(dropout_p=1.5),
    dict(q=(2, 4, 3, 4), k=(2, 3, 5, 4), v=(2, 3, 5, 6), enable_gqa=True),
]


@pytest.mark.parametrize("case", SDPA_ERRORS)
def test_sdpa_errors_as_torchs(case):
    case = dict(case)
    shapes = [case.pop(n, d) for n, d in (("q", (2, 3, 4)), ("k", (2, 5, 4)), ("v", (2, 5, 6)))]
    dtype_k = case.pop("dtype_k", "float64")
    mask = case.pop("mask", None)
    errors = []
    for lib, fn in ((torch, TF.scaled_dot_product_attention),
                    (pg, F.scaled_dot_product_attention)):
        q, k, v = (lib.ones(*s, dtype=getattr(lib, d))
                   for s, d in zip(shapes, ("float64", dtype_k, "float64")))
        kw = dict(case)
        if mask is not None:
            kw["attn_mask"] = lib.ones(*mask[1], dtype=getattr(lib, mask[0]))
        with pytest.raises(Exception) as info:
            fn(q, k, v, **kw)
        errors.append(info.value)
    assert type(errors[1]) is type(errors[0]), (errors[0], errors[1])


# -- MultiheadAttention ------------------------------------------------------------------------
MHA_OPTIONS = [{}, {"batch_first": True}, {"kdim": 3, "vdim": 5}, {"bias": False},
               {"add_bias_kv": True}, {"add_zero_attn": True},
               {"add_bias_kv": True, "add_zero_attn": True, "batch_first": True},
               {"kdim": 6, "batch_first": True, "bias": False}]

MHA_CALLS = [{}, {"kpm": "bool"}, {"kpm": "float"}, {"mask": "bool"}, {"mask": "float"},
             {"mask": "bool3d", "kpm": "bool"}, {"need_weights": False},
             {"need_weights": False, "mask": "bool", "kpm": "bool"},
             {"average_attn_weights": False, "mask": "float"}, {"causal": True},
             {"causal": True, "need_weights": False}]


def _mha_inputs(rng, opts, N=3, L=4, S=5, E=8, heads=2, call=()):
    call = dict(call)
    bf = opts.get("batch_first", False)

    def shape(n, e):
        if N is None:
            return (n, e)
        return (N, n, e) if bf else (n, N, e)

    kdim, vdim = opts.get("kdim", E), opts.get("vdim", E)
    if call.get("causal"):
        S = L
    arrays = [rng.standard_normal(shape(L, E)), rng.standard_normal(shape(S, kdim)),
              rng.standard_normal(shape(S, vdim))]
    kw = {}
    if "kpm" in call:
        kpm = rng.random((S,) if N is None else (N, S)) > 0.7
        kpm[..., 0] = False
        kw["key_padding_mask"] = kpm if call["kpm"] == "bool" else np.where(kpm, -1e4, 0.3)
    if "mask" in call:
        m = call["mask"]
        if m == "bool3d":
            am = rng.random(((N or 1) * heads, L, S)) > 0.7
            am[..., 0] = False
        else:
            am = rng.random((L, S)) > 0.7
            am[:, 0] = False
            if m == "float":
                am = np.where(am, -np.inf, rng.standard_normal((L, S)))
        kw["attn_mask"] = am
    if call.get("causal"):
        kw["attn_mask"] = np.triu(np.full((L, S), -np.inf), 1)
        kw["is_causal"] = True
    for name in ("need_weights", "average_attn_weights"):
        if name in call:
            kw[name] = call[name]
    return arrays, kw


def _run_mha(tm, pm, arrays, kw, self_attention=False, seed=0):
    rng = np.random.default_rng(seed)
    pairs = [_pair(a) for a in arrays]
    if self_attention:
        pairs = [pairs[0]] * 3
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    pkw = {k: pg.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    to, tw = tm(*(p[0] for p in pairs), **tkw)
    po, pw = pm(*(p[1] for p in pairs), **pkw)
    _close(po, to)
    assert (tw is None) == (pw is None)
    cot = rng.standard_normal(tuple(to.shape))
    loss_t = (to * torch.tensor(cot)).sum()
    loss_p = (po * pg.tensor(cot)).sum()
    if tw is not None:
        _close(pw, tw)
        cot = rng.standard_normal(tuple(tw.shape))
        loss_t = loss_t + (tw * torch.tensor(cot)).sum()
        loss_p = loss_p + (pw * pg.tensor(cot)).sum()
    loss_t.backward()
    loss_p.backward()
    for tt, pp in pairs[:1] if self_attention else pairs:
        np.testing.assert_allclose(pp.grad.numpy(), tt.grad.numpy(), **TOL)
    _same_grads(tm, pm)


@pytest.mark.parametrize("opts", MHA_OPTIONS)
@pytest.mark.parametrize("call", MHA_CALLS)
def test_multihead_attention_matches_torch(opts, call):
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(8, 2, **opts)
    pm = nn.MultiheadAttention(8, 2, **opts)
    _load(tm, pm)
    arrays, kw = _mha_inputs(np.random.default_rng(7), opts, call=call)
    _run_mha(tm, pm, arrays, kw)


@pytest.mark.parametrize("opts", [{}, {"batch_first": True}, {"add_bias_kv": True}])
def test_multihead_self_attention_and_encoder_decoder_attention(opts):
    tm = torch.nn.MultiheadAttention(8, 4, **opts)
    pm = nn.MultiheadAttention(8, 4, **opts)
    _load(tm, pm)
    rng = np.random.default_rng(8)
    arrays, kw = _mha_inputs(rng, opts, S=4, call={"kpm": "bool"})
    _run_mha(tm, pm, arrays, kw, self_attention=True)
    tm.zero_grad()
    pm.zero_grad()
    # key is value: one product for both
    (tq, pq), (tk, pk) = _pair(arrays[0]), _pair(arrays[1])
    to, tw = tm(tq, tk, tk)
    po, pw = pm(pq, pk, pk)
    _close(po, to)
    _close(pw, tw)
    (to.sum() + tw.sum()).backward()
    (po.sum() + pw.sum()).backward()
    np.testing.assert_allclose(pk.grad.numpy(), tk.grad.numpy(), **TOL)
    _same_grads(tm, pm)


@pytest.mark.parametrize("call", [{}, {"kpm": "bool"}, {"mask": "bool3d"}, {"mask": "float"},
                                  {"need_weights": False, "kpm": "bool"}])
def test_multihead_attention_unbatched(call):
    tm = torch.nn.MultiheadAttention(8, 2, batch_first=True)
    pm = nn.MultiheadAttention(8, 2, batch_first=True)
    _load(tm, pm)
    arrays, kw = _mha_inputs(np.random.default_rng(9), {}, N=None, call=call)
    _run_mha(tm, pm, arrays, kw)


def test_multihead_attention_fully_masked_query_gives_nan_weights_as_torch():
    # with need_weights, torch's softmax of a row of -inf is nan; without, zeros
    tm = torch.nn.MultiheadAttention(4, 2)
    pm = nn.MultiheadAttention(4, 2)
    _load(tm, pm)
    x = np.random.default_rng(10).standard_normal((3, 1, 4))
    mask = np.zeros((3, 3), bool)
    mask[1] = True
    for need in (True, False):
        to, tw = tm(*[torch.tensor(x)] * 3, attn_mask=torch.tensor(mask), need_weights=need)
        po, pw = pm(*[pg.tensor(x)] * 3, attn_mask=pg.tensor(mask), need_weights=need)
        np.testing.assert_allclose(po.detach().numpy(), to.detach().numpy(), **TOL)
        if need:
            np.testing.assert_allclose(pw.detach().numpy(), tw.detach().numpy(), **TOL)
            assert np.isnan(pw.detach().numpy()).any()


def test_multihead_attention_dropout_in_training_only():
    pm = nn.MultiheadAttention(8, 2, dropout=0.5)
    x = pg.randn(4, 2, 8)
    pg.manual_seed(1)
    a = pm(x, x, x)[0]
    pg.manual_seed(2)
    b = pm(x, x, x)[0]
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    pm.eval()
    np.testing.assert_array_equal(pm(x, x, x)[0].detach().numpy(),
                                  pm(x, x, x)[0].detach().numpy())


def test_multihead_attention_parameters_init_and_repr_as_torchs():
    for opts in MHA_OPTIONS:
        tm = torch.nn.MultiheadAttention(8, 2, **opts)
        pm = nn.MultiheadAttention(8, 2, **opts)
        assert repr(pm) == repr(tm)
        assert [n for n, _ in pm.named_parameters()] == [n for n, _ in tm.named_parameters()]
        for name, tp in tm.named_parameters():
            assert tuple(pm.get_parameter(name).shape) == tuple(tp.shape), name
        for name in ("embed_dim", "kdim", "vdim", "num_heads", "head_dim", "dropout",
                     "batch_first", "add_zero_attn", "_qkv_same_embed_dim"):
            assert getattr(pm, name) == getattr(tm, name), name
        assert isinstance(pm.out_proj, nn.Linear)
    pm = nn.MultiheadAttention(64, 4)
    assert not np.any(pm.in_proj_bias.detach().numpy())
    assert not np.any(pm.out_proj.bias.detach().numpy())
    bound = math.sqrt(6.0 / (64 + 3 * 64))   # xavier_uniform_ of a (192, 64) matrix
    w = pm.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert pm.bias_k is None and pm.bias_v is None


MHA_ERRORS = [
    ("ctor", dict(embed_dim=10, num_heads=3)),
    ("ctor", dict(embed_dim=0, num_heads=2)),
    ("ctor", dict(embed_dim=8, num_heads=-1)),
    ("call", dict(q=(4, 3, 8), k=(5, 8), v=(5, 8))),
    ("call", dict(q=(4,), k=(5,), v=(5,))),
    ("call", dict(q=(4, 3, 6), k=(5, 3, 6), v=(5, 3, 6))),
    ("call", dict(mask=("bool", (4, 6)))),
    ("call", dict(mask=("bool", (2, 4, 5)))),
    ("call", dict(mask=("bool", (1, 1, 4, 5)))),
    ("call", dict(mask=("int64", (4, 5)))),
    ("call", dict(kpm=("bool", (3, 6)))),
    ("call", dict(kpm=("bool", (5,)))),
    ("call", dict(causal=True)),
    ("call", dict(k=(5, 3, 8), v=(6, 3, 8))),
]


@pytest.mark.parametrize("kind,case", MHA_ERRORS)
def test_multihead_attention_errors_as_torchs(kind, case):
    errors = []
    for lib in (torch, pg):
        with pytest.raises(Exception) as info:
            if kind == "ctor":
                lib.nn.MultiheadAttention(**case)
            else:
                m = lib.nn.MultiheadAttention(8, 2)
                q, k, v = (lib.ones(*case.get(n, d)) for n, d in
                           (("q", (4, 3, 8)), ("k", (5, 3, 8)), ("v", (5, 3, 8))))
                kw = {"is_causal": case.get("causal", False)}
                if "mask" in case:
                    kw["attn_mask"] = lib.ones(*case["mask"][1],
                                               dtype=getattr(lib, case["mask"][0]))
                if "kpm" in case:
                    kw["key_padding_mask"] = lib.ones(*case["kpm"][1],
                                                      dtype=getattr(lib, case["kpm"][0]))
                m(q, k, v, **kw)
        errors.append(info.value)
    assert type(errors[1]) is type(errors[0]), (errors[0], errors[1])


def test_mismatched_mask_types_warn_as_torch():
    pm = nn.MultiheadAttention(4, 2)
    x = pg.randn(3, 2, 4)
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        pm(x, x, x, key_padding_mask=pg.zeros(2, 3, dtype=pg.bool), attn_mask=pg.zeros(3, 3))


def test_multi_head_attention_forward_matches_module():
    rng = np.random.default_rng(11)
    tm = torch.nn.MultiheadAttention(8, 2)
    x = rng.standard_normal((4, 3, 8))
    args = lambda m: (m.embed_dim, m.num_heads, m.in_proj_weight, m.in_proj_bias,  # noqa: E731
                      None, None, False, 0.0, m.out_proj.weight, m.out_proj.bias)
    to, tw = TF.multi_head_attention_forward(*[torch.tensor(x)] * 3, *args(tm))
    pm = nn.MultiheadAttention(8, 2)
    _load(tm, pm)
    po, pw = F.multi_head_attention_forward(*[pg.tensor(x)] * 3, *args(pm))
    _close(po, to)
    _close(pw, tw)


# -- transformer layers --------------------------------------------------------------------------
ENC_OPTIONS = [{}, {"batch_first": True}, {"norm_first": True}, {"activation": "gelu"},
               {"bias": False, "batch_first": True}, {"layer_norm_eps": 1e-3},
               {"activation": "module-gelu", "norm_first": True}]

ENC_CALLS = [{}, {"mask": "bool"}, {"mask": "float"}, {"kpm": "bool"},
             {"mask": "causal", "is_causal": True}, {"kpm": "bool", "mask": "bool"}]


def _activation(lib, opts):
    opts = dict(opts)
    if opts.get("activation") == "module-gelu":
        opts["activation"] = lib.nn.GELU()
    return opts


def _enc_masks(rng, call, S, N):
    kw = {}
    if call.get("mask") == "causal":
        kw["mask"] = np.triu(np.full((S, S), -np.inf), 1)
    elif "mask" in call:
        m = rng.random((S, S)) > 0.7
        np.fill_diagonal(m, False)
        kw["mask"] = m if call["mask"] == "bool" else np.where(m, -np.inf, 0.5)
    if "kpm" in call:
        kpm = rng.random((N, S)) > 0.7
        kpm[:, 0] = False
        kw["src_key_padding_mask"] = kpm
    if "is_causal" in call:
        kw["is_causal"] = call["is_causal"]
    return kw


def _converted(kw, lib):
    return {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}


@pytest.mark.parametrize("opts", ENC_OPTIONS)
@pytest.mark.parametrize("call", ENC_CALLS)
def test_transformer_encoder_layer_matches_torch(opts, call):
    torch.manual_seed(0)
    tm = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                          **_activation(torch, opts))
    pm = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                    **_activation(pg, opts))
    assert repr(pm) == repr(tm)
    _load(tm, pm)
    rng = np.random.default_rng(12)
    S, N = 5, 3
    x = rng.standard_normal((N, S, 8) if opts.get("batch_first") else (S, N, 8))
    kw = _enc_masks(rng, call, S, N)
    kw = {("src_mask" if k == "mask" else k): v for k, v in kw.items()}
    (tx, px) = _pair(x)
    to = tm(tx, **_converted(kw, torch))
    po = pm(px, **_converted(kw, pg))
    _close(po, to)
    cot = rng.standard_normal(tuple(to.shape))
    to.backward(torch.tensor(cot))
    po.backward(pg.tensor(cot))
    np.testing.assert_allclose(px.grad.numpy(), tx.grad.numpy(), **TOL)
    _same_grads(tm, pm)


@pytest.mark.parametrize("call", ENC_CALLS)
def test_transformer_encoder_matches_torch(call):
    tl = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                          batch_first=True)
    pl = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True)
    tm = torch.nn.TransformerEncoder(tl, 3, norm=torch.nn.LayerNorm(8))
    pm = nn.TransformerEncoder(pl, 3, norm=nn.LayerNorm(8))
    assert repr(pm) == repr(tm)
    _load(tm, pm)   # each copy has its own weights
    rng = np.random.default_rng(13)
    x = rng.standard_normal((3, 5, 8))
    kw = _enc_masks(rng, call, 5, 3)
    if call.get("mask") == "causal":
        kw.pop("is_causal")   # detected from the mask
    tx, px = _pair(x)
    to = tm(tx, **_converted(kw, torch))
    po = pm(px, **_converted(kw, pg))
    _close(po, to)
    to.sum().backward()
    po.sum().backward()
    np.testing.assert_allclose(px.grad.numpy(), tx.grad.numpy(), **TOL)
    _same_grads(tm, pm)


def test_transformer_encoder_copies_the_layer():
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
    enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    weights = [m.self_attn.in_proj_weight for m in enc.layers]
    assert weights[0] is not weights[1] and weights[0] is not layer.self_attn.in_proj_weight
    np.testing.assert_array_equal(weights[0].detach().numpy(), weights[1].detach().numpy())
    assert len(list(enc.parameters())) == 2 * len(list(layer.parameters()))


def test_nested_tensor_warning_as_torchs():
    for lib in (torch, pg):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            layer = lib.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
            lib.nn.TransformerEncoder(layer, 1)
        messages = [str(w.message) for w in seen if "enable_nested_tensor" in str(w.message)]
        if lib is torch:
            expected = messages
        else:
            assert messages == expected and len(expected) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
        nn.TransformerEncoder(layer, 1)


def test_encoder_layer_unbatched_and_activation_callable():
    tm = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                          activation=lambda x: torch.tanh(x) * 2)
    pm = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                    activation=lambda x: pg.tanh(x) * 2)
    assert pm.activation_relu_or_gelu == tm.activation_relu_or_gelu == 0
    _load(tm, pm)
    tx, px = _pair(np.random.default_rng(14).standard_normal((5, 8)))
    _close(pm(px), tm(tx))


def test_encoder_layer_defaults_and_errors_as_torchs():
    tm = torch.nn.TransformerEncoderLayer(16, 4)
    pm = nn.TransformerEncoderLayer(16, 4)
    assert repr(pm) == repr(tm)
    assert pm.linear1.out_features == 2048 and pm.dropout.p == 0.1 and pm.norm1.eps == 1e-5
    assert pm.activation is F.relu and pm.activation_relu_or_gelu == 1
    assert nn.TransformerEncoderLayer(16, 4, activation="gelu").activation is F.gelu
    for lib in (torch, pg):
        with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
            lib.nn.TransformerEncoderLayer(16, 4, activation="tanh")
        with pytest.raises(AssertionError):
            lib.nn.TransformerEncoderLayer(10, 4)
        with pytest.raises(RuntimeError, match="Need attn_mask"):
            lib.nn.TransformerEncoderLayer(8, 2, 16)(lib.ones(3, 2, 8), is_causal=True)


@pytest.mark.parametrize("opts", [{}, {"batch_first": True, "norm_first": True}])
def test_transformer_decoder_matches_torch(opts):
    tl = torch.nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0, **opts)
    pl = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0, **opts)
    assert repr(pl) == repr(tl)
    tm = torch.nn.TransformerDecoder(tl, 2, norm=torch.nn.LayerNorm(8))
    pm = nn.TransformerDecoder(pl, 2, norm=nn.LayerNorm(8))
    assert repr(pm) == repr(tm)
    _load(tm, pm)
    rng = np.random.default_rng(15)
    bf = opts.get("batch_first", False)
    tgt = rng.standard_normal((3, 4, 8) if bf else (4, 3, 8))
    mem = rng.standard_normal((3, 6, 8) if bf else (6, 3, 8))
    kpm = rng.random((3, 6)) > 0.7
    kpm[:, 0] = False
    kw = {"tgt_mask": np.triu(np.full((4, 4), -np.inf), 1), "memory_key_padding_mask": kpm}
    (tt, pt), (tmem, pmem) = _pair(tgt), _pair(mem)
    to = tm(tt, tmem, **_converted(kw, torch))
    po = pm(pt, pmem, **_converted(kw, pg))
    _close(po, to)
    to.sum().backward()
    po.sum().backward()
    np.testing.assert_allclose(pt.grad.numpy(), tt.grad.numpy(), **TOL)
    np.testing.assert_allclose(pmem.grad.numpy(), tmem.grad.numpy(), **TOL)
    _same_grads(tm, pm)


def test_transformer_matches_torch():
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1,
              dim_feedforward=16, dropout=0.0, batch_first=True)
    tm = torch.nn.Transformer(**kw)
    pm = nn.Transformer(**kw)
    assert repr(pm) == repr(tm)
    _load(tm, pm)
    rng = np.random.default_rng(16)
    ts, ps = _pair(rng.standard_normal((2, 5, 8)))
    tt, pt = _pair(rng.standard_normal((2, 4, 8)))
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(4)
    pmask = nn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(pmask.numpy(), tmask.numpy())
    assert pmask.dtype is pg.float64
    to = tm(ts, tt, tgt_mask=tmask)
    po = pm(ps, pt, tgt_mask=pmask)
    _close(po, to)
    to.sum().backward()
    po.sum().backward()
    np.testing.assert_allclose(ps.grad.numpy(), ts.grad.numpy(), **TOL)
    _same_grads(tm, pm)
    for lib, m in ((torch, tm), (pg, pm)):
        with pytest.raises(RuntimeError, match="batch number"):
            m(lib.ones(2, 5, 8), lib.ones(3, 4, 8))
        with pytest.raises(RuntimeError, match="feature number"):
            m(lib.ones(2, 5, 8), lib.ones(2, 4, 6))


def test_transformer_starts_xavier_uniform():
    model = nn.Transformer(d_model=16, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                           dim_feedforward=32, batch_first=True)
    w = model.encoder.layers[0].linear1.weight.detach().numpy()   # (32, 16)
    bound = math.sqrt(6.0 / (16 + 32))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert nn.Transformer.generate_square_subsequent_mask(3, dtype=pg.float32).dtype is \
        pg.float32


def test_deepcopy_of_a_layer_is_independent():
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
    other = copy.deepcopy(layer)
    with pg.no_grad():
        other.linear1.weight.add_(1.0)
    assert not np.allclose(other.linear1.weight.detach().numpy(),
                           layer.linear1.weight.detach().numpy())


# -- training -------------------------------------------------------------------------------------
def _classifier(lib):
    class Classifier(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = lib.nn.Linear(3, 8)
            layer = lib.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                                   batch_first=True)
            self.encoder = lib.nn.TransformerEncoder(layer, 2)
            self.head = lib.nn.Linear(8, 2)

        def forward(self, x, pad):
            h = self.encoder(self.embed(x), src_key_padding_mask=pad)
            return self.head(h.mean(1))
    return Classifier()


def test_tiny_transformer_classifier_trains_like_torch():
    rng = np.random.default_rng(17)
    x = rng.standard_normal((6, 5, 3))
    y = np.array([0, 1, 1, 0, 1, 0])
    pad = np.zeros((6, 5), bool)
    pad[::2, -2:] = True
    tm, pm = _classifier(torch), _classifier(pg)
    _load(tm, pm)
    topt = torch.optim.Adam(tm.parameters(), lr=1e-2)
    popt = pg.optim.Adam(pm.parameters(), lr=1e-2)
    losses = []
    for _ in range(5):
        for lib, m, opt in ((torch, tm, topt), (pg, pm, popt)):
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(m(lib.tensor(x), lib.tensor(pad)),
                                                   lib.tensor(y))
            loss.backward()
            opt.step()
            losses.append(loss.item())
    t_losses, p_losses = losses[::2], losses[1::2]
    np.testing.assert_allclose(p_losses, t_losses, rtol=1e-9)
    assert t_losses[-1] < t_losses[0]


@pytest.mark.parametrize("name", ["plugrad.nn.attention", "plugrad.nn.transformer"])
def test_docstring_examples(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted and not result.failed
