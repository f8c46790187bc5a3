"""plugrad.nn.module, nn.containers and nn.utils against torch: names, orders, reprs, state
dicts, hooks, conversion and gradient clipping (the layers themselves: test_nn.py)."""
from __future__ import annotations

import doctest
import importlib
import warnings
from collections import OrderedDict

import numpy as np
import plugrad as pg
import pytest
from plugrad import nn

torch = pytest.importorskip("torch")


def _libs():
    return [(torch, torch.nn), (pg, pg.nn)]


def _model(lib, tnn):
    """One nested model, built the same way in torch and plugrad."""
    class Block(tnn.Module):
        def __init__(self):
            super().__init__()
            self.proj = tnn.Linear(3, 3)
            self.register_buffer("count", lib.zeros(1))
            self.register_buffer("cache", lib.zeros(2), persistent=False)
            self.gate = tnn.Parameter(lib.ones(3))

        def forward(self, x):
            return self.proj(x) * self.gate

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            self.stem = tnn.Sequential(tnn.Linear(2, 3), tnn.ReLU())
            self.blocks = tnn.ModuleList([Block(), Block()])
            self.heads = tnn.ModuleDict({"b": tnn.Linear(3, 1), "a": tnn.Identity()})
            self.shared = self.stem[0]  # the same Linear under a second name
            self.extra = tnn.ParameterList([tnn.Parameter(lib.zeros(2)), lib.ones(1, 2)])
            self.table = tnn.ParameterDict({"w": tnn.Parameter(lib.zeros(2, 2))})
            self.register_parameter("missing", None)
            self.empty = None

        def forward(self, x):
            x = self.stem(x)
            for b in self.blocks:
                x = b(x)
            return self.heads["b"](x)

    return Net()


def _both(fn):
    return [fn(lib, tnn) for lib, tnn in _libs()]


# -- walking the tree ---------------------------------------------------------------------
@pytest.mark.parametrize("walk", [
    lambda m: [n for n, _ in m.named_modules()],
    lambda m: [n for n, _ in m.named_modules(remove_duplicate=False)],
    lambda m: [n for n, _ in m.named_modules(prefix="root")],
    lambda m: [n for n, _ in m.named_children()],
    lambda m: [n for n, _ in m.named_parameters()],
    lambda m: [n for n, _ in m.named_parameters(remove_duplicate=False)],
    lambda m: [n for n, _ in m.named_parameters(prefix="p", recurse=False)],
    lambda m: [n for n, _ in m.named_buffers()],
    lambda m: [n for n, _ in m.blocks.named_buffers(prefix="blocks")],
    lambda m: [tuple(p.shape) for p in m.parameters()],
    lambda m: len(list(m.modules())) + 100 * len(list(m.children())),
    lambda m: list(m.state_dict()),
    lambda m: list(m.state_dict(prefix="model.")),
    lambda m: list(m.table), lambda m: list(m.heads),
])
def test_names_and_orders_match_torch(walk):
    tm, pm = _both(_model)
    assert walk(pm) == walk(tm)


def test_named_modules_takes_a_memo_of_modules():
    for lib, tnn in _libs():
        m = _model(lib, tnn)
        assert [n for n, _ in m.named_modules(memo={m.stem})][:1] == [""]
        assert "stem" not in [n for n, _ in m.named_modules(memo={m.stem})]


def test_repr_of_nested_modules_and_containers_matches_torch():
    tm, pm = _both(_model)
    assert repr(pm).replace("plugrad.", "torch.") == repr(tm)
    rep = _both(lambda lib, tnn: tnn.ModuleList([tnn.ReLU(), tnn.ReLU(), tnn.Tanh(),
                                                 tnn.Linear(1, 1), tnn.Linear(1, 1)]))
    assert repr(rep[1]) == repr(rep[0])
    for make in (lambda lib, tnn: tnn.ModuleList(), lambda lib, tnn: tnn.Sequential(),
                 lambda lib, tnn: tnn.ModuleDict(),
                 lambda lib, tnn: tnn.ModuleList([tnn.Sequential(tnn.ReLU(), tnn.ReLU())] * 2),
                 lambda lib, tnn: tnn.ParameterList([lib.zeros(2, 3), 3])):
        t, p = _both(make)
        assert repr(p).replace("plugrad.", "torch.") == repr(t)


def test_dir_lists_parameters_buffers_and_modules_but_no_indices():
    tm, pm = _both(_model)
    own = ("stem", "blocks", "heads", "shared", "extra", "table", "missing", "empty", "nope")
    assert [k for k in dir(pm) if k in own] == [k for k in dir(tm) if k in own]
    assert "proj" in dir(pm.blocks[0]) and "count" in dir(pm.blocks[0])
    assert "0" not in dir(pm.blocks) and "0" not in dir(pm.stem)


def test_get_submodule_parameter_buffer_and_their_errors():
    tm, pm = _both(_model)
    assert pm.get_submodule("blocks.1.proj") is pm.blocks[1].proj
    assert pm.get_submodule("") is pm
    assert pm.get_parameter("blocks.0.gate") is pm.blocks[0].gate
    assert pm.get_buffer("blocks.0.count") is pm.blocks[0].count
    for call in (lambda m: m.get_submodule("stem.0.weight"), lambda m: m.get_submodule("nope"),
                 lambda m: m.get_parameter("blocks.0.count"), lambda m: m.get_parameter("x.y"),
                 lambda m: m.get_buffer("blocks.0.gate")):
        with pytest.raises(AttributeError) as expected:
            call(tm)
        with pytest.raises(AttributeError, match=str(expected.value).split("`")[1]):
            call(pm)


# -- registration ------------------------------------------------------------------------------
@pytest.mark.parametrize("action", [
    lambda lib, tnn, m: m.register_parameter("blocks", None),
    lambda lib, tnn, m: m.register_buffer("stem", None),
    lambda lib, tnn, m: m.add_module("empty_", 3),
    lambda lib, tnn, m: m.add_module("a.b", tnn.ReLU()),
    lambda lib, tnn, m: m.add_module("", tnn.ReLU()),
    lambda lib, tnn, m: m.register_buffer(1, None),
    lambda lib, tnn, m: m.register_buffer("b", 3),
    lambda lib, tnn, m: m.register_parameter("p", lib.zeros(2)),
    lambda lib, tnn, m: m.register_parameter("p", tnn.Parameter(lib.zeros(2)) * 2),
    lambda lib, tnn, m: setattr(m, "stem", 3),
    lambda lib, tnn, m: setattr(m, "missing", lib.zeros(2)),
    lambda lib, tnn, m: setattr(m.blocks[0], "count", 3),
    lambda lib, tnn, m: m.train(1),
    lambda lib, tnn, m: m.load_state_dict([1]),
    lambda lib, tnn, m: m.to(lib.int64),
    lambda lib, tnn, m: m.blocks[2],
    lambda lib, tnn, m: m.stem[-3],
    lambda lib, tnn, m: m.blocks.extend(3),
    lambda lib, tnn, m: m.heads.update(3),
    lambda lib, tnn, m: m.heads.update([("a", tnn.ReLU(), 3)]),
    lambda lib, tnn, m: m.table[3],
    lambda lib, tnn, m: m.extra(),
    lambda lib, tnn, m: m.stem + [3],
    lambda lib, tnn, m: m.stem * 0,
    lambda lib, tnn, m: m.stem * 1.5,
    lambda lib, tnn, m: m.stem.insert(5, tnn.ReLU()),
    lambda lib, tnn, m: m.blocks(),
])
def test_errors_match_torch(action):
    tm, pm = _both(_model)
    with pytest.raises(Exception) as expected:
        action(torch, torch.nn, tm)
    with pytest.raises(type(expected.value)) as got:
        action(pg, pg.nn, pm)
    # the messages are torch's, with plugrad's names for its types
    want = str(expected.value).replace("torch.nn.", "plugrad.nn.").replace("torch.", "plugrad.")
    if "Tensor" not in want and "class" not in want and "dtype" not in want:
        assert str(got.value) == want


def test_setattr_moves_a_name_between_tables_as_torch_does():
    for lib, tnn in _libs():
        m = tnn.Module()
        m.x = 3
        m.x = tnn.Parameter(lib.zeros(1))
        assert [n for n, _ in m.named_parameters()] == ["x"] and "x" not in m.__dict__
        del m.x
        m.x = tnn.ReLU()
        assert list(m._parameters) == [] and [n for n, _ in m.named_children()] == ["x"]
        m.x = None  # keeps the entry, as None
        assert list(m._modules) == ["x"] and m.x is None
        del m.x
        assert list(m._modules) == []
        m.register_buffer("b", lib.ones(1), persistent=False)
        m.b = lib.zeros(2)  # a tensor assigned to a buffer's name replaces the buffer
        assert list(m.state_dict()) == [] and tuple(m.b.shape) == (2,)
        del m.b
        m.register_buffer("b", lib.ones(1))
        assert list(m.state_dict()) == ["b"]  # registered again: persistent again


def test_train_eval_reach_overridden_train_methods():
    calls = []

    class Noted(nn.Module):
        def train(self, mode=True):
            calls.append(mode)
            return super().train(mode)

    m = nn.Sequential(nn.Sequential(Noted()), nn.Dropout())
    m.eval()
    assert calls == [False] and not m[1].training and not m[0][0].training
    m.train()
    assert calls == [False, True] and m[1].training


def test_apply_and_zero_grad():
    m = _model(pg, nn)
    order = []
    m.apply(lambda mod: order.append(type(mod).__name__))
    tm = _model(torch, torch.nn)
    torder = []
    tm.apply(lambda mod: torder.append(type(mod).__name__))
    assert order == torder
    m(pg.ones(4, 2)).sum().backward()
    m.zero_grad(set_to_none=False)
    assert all(p.grad is None or not p.grad.any() for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


# -- state dicts ---------------------------------------------------------------------------------
def _t2p(sd):
    return OrderedDict((k, pg.tensor(v.detach().numpy())) for k, v in sd.items())


@pytest.mark.parametrize("edit", [
    lambda sd: sd,
    lambda sd: sd.pop("stem.0.bias") is not None and sd,
    lambda sd: sd.update({"z": sd["stem.0.bias"], "stem.q": sd["stem.0.bias"],
                          "blocks.0.proj.x": sd["stem.0.bias"], "empty.w": sd["stem.0.bias"],
                          "table.w.t": sd["stem.0.bias"]}) or sd,
    lambda sd: sd.pop("blocks.1.count") is not None and sd.update({"blocks.1.countx": 1}) or sd,
])
def test_load_state_dict_keys_match_torch(edit):
    tm, pm = _both(_model)
    tsd = edit(OrderedDict(tm.state_dict()))
    psd = OrderedDict((k, pg.tensor(v.detach().numpy()) if isinstance(v, torch.Tensor) else v)
                      for k, v in tsd.items())
    tres = tm.load_state_dict(tsd, strict=False)
    pres = pm.load_state_dict(psd, strict=False)
    assert pres == tuple(tres) and repr(pres) == repr(tres)
    if tres.missing_keys or tres.unexpected_keys:
        with pytest.raises(RuntimeError) as expected:
            tm.load_state_dict(tsd)
        with pytest.raises(RuntimeError) as got:
            pm.load_state_dict(psd)
        assert str(got.value) == str(expected.value)
    for k, v in tm.state_dict().items():
        np.testing.assert_array_equal(pm.state_dict()[k].numpy(), v.numpy())


def test_load_state_dict_size_mismatch_message_and_nothing_copied():
    tm, pm = _both(_model)
    sd = OrderedDict((k, v.clone() + 1) for k, v in tm.state_dict().items())
    sd["stem.0.weight"] = torch.zeros(3, 5)
    sd["blocks.0.gate"] = "not a tensor"
    with pytest.raises(RuntimeError) as expected:
        tm.load_state_dict(sd)
    before = {k: v.numpy().copy() for k, v in pm.state_dict().items()}
    psd = OrderedDict((k, pg.tensor(v.numpy()) if isinstance(v, torch.Tensor) else v)
                      for k, v in sd.items())
    with pytest.raises(RuntimeError) as got:
        pm.load_state_dict(psd)
    want = str(expected.value).replace("torch.Size", "plugrad.Size").replace(
        "torch.Tensor", "plugrad.Tensor")
    assert str(got.value) == want
    # unlike torch, which copies what it can before raising, nothing changed
    assert all((pm.state_dict()[k].numpy() == v).all() for k, v in before.items())


def test_load_state_dict_copies_in_place_or_assigns():
    m = nn.Linear(2, 2)
    w = m.weight
    src = OrderedDict(weight=pg.ones(2, 2, dtype=pg.float64), bias=pg.zeros(2))
    v = w._version
    m.load_state_dict(src)
    assert m.weight is w and w.dtype is pg.float32 and w.tolist() == [[1, 1], [1, 1]]
    assert w._version > v
    m.load_state_dict(src, assign=True)  # torch's assign: the checkpoint's tensors become them
    assert m.weight is not w and m.weight.dtype is pg.float64
    assert isinstance(m.weight, nn.Parameter) and m.weight.requires_grad
    with pg.no_grad():
        src["weight"].fill_(7.0)
    assert m.weight.tolist() == [[7, 7], [7, 7]]  # shares the checkpoint's memory


def test_load_state_dict_0d_from_1d_as_torch():
    for lib, tnn in _libs():
        m = tnn.Module()
        m.register_buffer("t", lib.tensor(0.0))
        m.load_state_dict({"t": lib.tensor([3.0])})
        assert float(m.t) == 3.0 and m.t.shape == ()
        with pytest.raises(RuntimeError, match="size mismatch"):
            m.load_state_dict({"t": lib.tensor([3.0, 4.0])})


# -- conversion ------------------------------------------------------------------------------
def test_to_keeps_parameters_and_moves_grads():
    m = _model(pg, nn)
    p = m.blocks[0].gate
    m(pg.ones(1, 2)).sum().backward()
    assert m.to(pg.zeros(1, dtype=pg.float64)) is m
    assert m.blocks[0].gate is p and p.dtype is pg.float64 and p.grad.dtype is pg.float64
    assert m.blocks[0].count.dtype is pg.float64
    assert m.to("cpu", pg.float32) is m and p.dtype is pg.float32
    assert m.double().float().half().get_parameter("stem.0.weight").dtype is pg.float16
    assert m.cpu() is m and p.backend.name == "numpy"
    ints = nn.Module()
    ints.register_buffer("n", pg.tensor([1, 2]))
    assert ints.double().n.dtype is pg.int64  # only floating tensors change dtype


# -- hooks ---------------------------------------------------------------------------------
def _hook_run(lib, tnn):
    log = []
    m = tnn.Linear(2, 2)
    with lib.no_grad():
        m.weight.copy_(lib.tensor([[1.0, 2.0], [3.0, 4.0]]))
        m.bias.zero_()
    h1 = m.register_forward_pre_hook(lambda mod, args: log.append("pre1") or (args[0] * 2,))
    m.register_forward_pre_hook(lambda mod, args: log.append("pre0"), prepend=True)
    m.register_forward_pre_hook(
        lambda mod, args, kwargs: log.append(("prekw", sorted(kwargs))) or (args, kwargs),
        with_kwargs=True)
    m.register_forward_hook(lambda mod, args, out: log.append("post1") or out + 1)
    m.register_forward_hook(lambda mod, args, kw, out: log.append(("postkw", len(args))),
                            with_kwargs=True)
    m.register_forward_hook(lambda mod, args, out: log.append("post0"), prepend=True)
    out1 = m(lib.ones(1, 2))
    h1.remove()
    out2 = m(lib.ones(1, 2))
    return log, out1.tolist(), out2.tolist()


def test_forward_hooks_order_replacements_and_removal_match_torch():
    assert _hook_run(pg, nn) == _hook_run(torch, torch.nn)


def test_always_call_hooks_run_when_forward_raises():
    for lib, tnn in _libs():
        log = []

        class Bad(tnn.Module):
            def forward(self, x):
                raise ValueError("boom")

        m = Bad()
        m.register_forward_hook(lambda mod, args, out, log=log: log.append(("always", out)),
                                always_call=True)
        m.register_forward_hook(lambda mod, args, out, log=log: log.append("normal"))
        with pytest.raises(ValueError, match="boom"):
            m(lib.ones(1))
        assert log == [("always", None)]


def test_a_pre_hook_with_kwargs_must_return_a_pair():
    for lib, tnn in _libs():
        m = tnn.Identity()
        m.register_forward_pre_hook(lambda mod, args, kwargs: 3, with_kwargs=True)
        with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple"):
            m(lib.ones(1))


def _backward_hook_run(lib, tnn):
    log = []

    class Two(tnn.Module):
        def forward(self, x, k, y):
            return x * k * y, x + 0

    m = Two()
    m.register_full_backward_pre_hook(
        lambda mod, go: log.append(("pre", [None if g is None else g.tolist() for g in go]))
        or (go[0] * 10, go[1]))
    m.register_full_backward_hook(
        lambda mod, gi, go: log.append(("full", [None if g is None else g.tolist() for g in gi],
                                        [None if g is None else g.tolist() for g in go]))
        or (gi[0] + 1, None, gi[2]))
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = lib.tensor([3.0, 4.0])
    a, b = m(x, 2.0, y)
    (a.sum() + 3 * b.sum()).backward()
    log.append(("x.grad", x.grad.tolist()))
    # no input needs a gradient: the hook still runs, with grad_input all None
    w = tnn.Parameter(lib.ones(2))

    class Scale(tnn.Module):
        def __init__(self):
            super().__init__()
            self.w = w

        def forward(self, x):
            return x * self.w

    s = Scale()
    s.register_full_backward_hook(lambda mod, gi, go: log.append(("no-input", gi, len(go))))
    s(lib.ones(2)).sum().backward()
    log.append(("w.grad", w.grad.tolist()))
    return log


def test_full_backward_hooks_match_torch():
    assert _backward_hook_run(pg, nn) == _backward_hook_run(torch, torch.nn)


def test_call_without_hooks_stays_plain():
    m = nn.Linear(2, 2)
    h = m.register_forward_hook(lambda *a: None)
    h.remove()
    out = m(pg.ones(1, 2))
    assert out.grad_fn.name() == "AddmmBackward0"


# -- containers -----------------------------------------------------------------------------------
@pytest.mark.parametrize("edit", [
    lambda tnn, s: s.append(tnn.Tanh()),
    lambda tnn, s: s.insert(1, tnn.Tanh()),
    lambda tnn, s: s.insert(-1, tnn.Tanh()),
    lambda tnn, s: s.pop(0),
    lambda tnn, s: s.__delitem__(slice(0, 2)),
    lambda tnn, s: s.__setitem__(-1, tnn.Tanh()),
    lambda tnn, s: s.extend([tnn.Tanh(), tnn.Sigmoid()]),
    lambda tnn, s: s.__iadd__(tnn.Sequential(tnn.Tanh())),
    lambda tnn, s: s.__imul__(2),
])
def test_sequential_edits_match_torch(edit):
    def run(tnn):
        s = tnn.Sequential(tnn.ReLU(), tnn.Sigmoid(), tnn.Identity())
        edit(tnn, s)
        return [(n, type(m).__name__) for n, m in s.named_children()], len(s), \
            repr(s[::2]), repr(s * 2), repr(s + s)
    assert run(nn) == run(torch.nn)


@pytest.mark.parametrize("edit", [
    lambda tnn, s: s.append(tnn.Tanh()),
    lambda tnn, s: s.insert(1, tnn.Tanh()),
    lambda tnn, s: s.pop(0),
    lambda tnn, s: s.__delitem__(slice(1, None)),
    lambda tnn, s: s.__delitem__(-2),
    lambda tnn, s: s.__setitem__(-1, tnn.Tanh()),
    lambda tnn, s: s.extend([tnn.Tanh(), tnn.Sigmoid()]),
    lambda tnn, s: s.__iadd__([tnn.Tanh()]),
])
def test_module_list_edits_match_torch(edit):
    def run(tnn):
        s = tnn.ModuleList([tnn.ReLU(), tnn.Sigmoid(), tnn.Identity()])
        edit(tnn, s)
        return [(n, type(m).__name__) for n, m in s.named_children()], len(s), \
            repr(s[1:]), repr(s + [tnn.ReLU()]), [type(m).__name__ for m in s]
    assert run(nn) == run(torch.nn)


def test_sequential_with_names_matches_torch():
    def run(tnn):
        s = tnn.Sequential(OrderedDict([("a", tnn.ReLU()), ("b", tnn.Sigmoid()),
                                        ("c", tnn.Identity())]))
        out = [s.b, s[-1], [n for n, _ in s[1:].named_children()], repr(s)]
        s[1] = tnn.Tanh()
        out.append([(n, type(m).__name__) for n, m in s.named_children()])
        del s[0]  # the keys become numbers again
        out.append([(n, type(m).__name__) for n, m in s.named_children()])
        return [repr(o) for o in out]
    assert run(nn) == run(torch.nn)


def test_module_dict_matches_torch():
    def run(tnn):
        d = tnn.ModuleDict([("x", tnn.ReLU()), ("a", tnn.Tanh())])
        d.update({"z": tnn.Sigmoid(), "b": tnn.Identity()})
        d["x"] = tnn.Identity()
        popped = type(d.pop("a")).__name__
        out = [list(d), list(d.keys()), [type(m).__name__ for m in d.values()],
               [k for k, _ in d.items()], "z" in d, len(d), popped, repr(d)]
        d.clear()
        return out + [len(d)]
    assert run(nn) == run(torch.nn)


def test_parameter_list_and_dict_match_torch():
    def run(lib, tnn):
        pl = tnn.ParameterList([lib.zeros(2)])
        pl.append(tnn.Parameter(lib.ones(3), requires_grad=False))
        pl += [lib.ones(1)]
        pl[0] = lib.full((2,), 5.0)
        pd = tnn.ParameterDict({"b": lib.zeros(1), "a": lib.ones(2)})
        pd.update([("c", lib.ones(3))])
        pd.setdefault("d", lib.zeros(4))
        k, _ = pd.popitem()
        return ([(n, tuple(p.shape), p.requires_grad) for n, p in pl.named_parameters()],
                len(pl), [tuple(p.shape) for p in pl[1:]], pl[-3].tolist(),
                isinstance(pl[0], tnn.Parameter), list(pd), k, "a" in pd, pd.get("q"),
                [n for n, _ in pd.named_parameters()], list((pd | pd).keys()),
                [tuple(v.shape) for v in pd.values()], len(pd.copy()))
    assert run(pg, nn) == run(torch, torch.nn)


def test_containers_train_and_convert_their_items():
    pl = nn.ParameterList([pg.zeros(2)])
    d = nn.ParameterDict({"a": pg.zeros(1)})
    outer = nn.ModuleDict({"pl": pl, "d": d})
    outer.double()
    assert pl[0].dtype is pg.float64 and d["a"].dtype is pg.float64
    assert list(outer.state_dict()) == ["pl.0", "d.a"]


# -- nn.utils --------------------------------------------------------------------------------------
def _grads(lib, seed=0):
    rng = np.random.default_rng(seed)
    ps = []
    for shape in [(3, 4), (4,), (2, 2, 2)]:
        p = lib.zeros(shape, requires_grad=True)
        p.grad = lib.tensor(rng.standard_normal(shape).tolist())
        ps.append(p)
    ps.append(lib.zeros(2, requires_grad=True))  # no grad: skipped
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, float("inf"), 0])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    tp, pp = _grads(torch), _grads(pg)
    tn = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type)
    pn = nn.utils.clip_grad_norm_(iter(pp), max_norm, norm_type)
    assert isinstance(pn, pg.Tensor) and pn.shape == () and pn.dtype is pg.float32
    np.testing.assert_allclose(pn.item(), tn.item(), rtol=1e-5)
    for a, b in zip(tp, pp):
        if a.grad is None:
            assert b.grad is None
        else:
            np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_edge_cases_match_torch():
    assert nn.utils.clip_grad_norm_([], 1.0).item() == 0.0
    with pytest.warns(UserWarning, match="empty generator"):
        nn.utils.clip_grad_norm_((p for p in []), 1.0)
    for lib, utils in ((torch, torch.nn.utils), (pg, nn.utils)):
        p = lib.zeros(2, requires_grad=True)
        p.grad = lib.tensor([1.0, float("inf")])
        assert utils.clip_grad_norm_(p, 1.0).item() == float("inf")
        with pytest.raises(RuntimeError, match="non-finite"):
            utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_and_vectors_match_torch():
    tp, pp = _grads(torch), _grads(pg)
    torch.nn.utils.clip_grad_value_(tp, 0.3)
    assert nn.utils.clip_grad_value_(pp, 0.3) is None
    for a, b in zip(tp[:3], pp[:3]):
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy())
    vec = nn.utils.parameters_to_vector(pp)
    assert vec.shape == torch.nn.utils.parameters_to_vector(tp).shape
    assert vec.grad_fn is not None  # differentiable, as torch's cat
    new = pg.arange(float(vec.numel()))
    nn.utils.vector_to_parameters(new, pp)
    assert pp[1].tolist() == [12.0, 13.0, 14.0, 15.0] and pp[1].requires_grad
    with pytest.raises(TypeError, match="expected plugrad.Tensor"):
        nn.utils.vector_to_parameters([1.0], pp)


# -- docstrings ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["plugrad.nn.module", "plugrad.nn.containers",
                                  "plugrad.nn.utils"])
def test_docstring_examples(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
