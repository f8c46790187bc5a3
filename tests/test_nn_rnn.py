"""plugrad.nn's recurrent layers (core/nn/rnn.py) against torch: outputs, final states and
gradients from the same weights, over layouts, depths, directions and biases; errors."""
from __future__ import annotations

import numpy as np
import plugrad as pg
import pytest
from plugrad import nn

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def _pair(kind, *args, **kwargs):
    """The same layer in torch and plugrad, plugrad's weights copied from torch's."""
    theirs = getattr(torch.nn, kind)(*args, dtype=torch.float64, **kwargs)
    ours = getattr(nn, kind)(*args, dtype=pg.float64, **kwargs)
    names = [n for n, _ in theirs.named_parameters()]
    assert names == [n for n, _ in ours.named_parameters()]
    ours.load_state_dict({n: pg.tensor(p.detach().numpy()) for n, p in theirs.named_parameters()})
    return theirs, ours


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def _compare(theirs, ours, *inputs):
    t_in = [torch.tensor(a, requires_grad=True) for a in inputs]
    p_in = [pg.tensor(a, requires_grad=True) for a in inputs]
    t_out = _flat(theirs(t_in[0], *([tuple(t_in[1:])] if len(t_in) > 2 else t_in[1:])))
    p_out = _flat(ours(p_in[0], *([tuple(p_in[1:])] if len(p_in) > 2 else p_in[1:])))
    assert len(t_out) == len(p_out)
    for a, b in zip(t_out, p_out):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
    cots = [RNG.standard_normal(tuple(o.shape)) for o in t_out]
    torch.autograd.backward(t_out, [torch.tensor(c) for c in cots])
    pg.autograd.backward(p_out, [pg.tensor(c) for c in cots])
    for a, b in zip(t_in, p_in):
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-9, atol=1e-12)
    for (name, a), (_, b) in zip(theirs.named_parameters(), ours.named_parameters()):
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("options", [
    {}, {"num_layers": 2}, {"bidirectional": True}, {"batch_first": True},
    {"bias": False, "num_layers": 2, "bidirectional": True},
])
def test_layers_match_torch(kind, options):
    theirs, ours = _pair(kind, 3, 4, **options)
    seq, batch = (2, 5) if options.get("batch_first") else (5, 2)
    _compare(theirs, ours, RNG.standard_normal((seq, batch, 3)))


@pytest.mark.parametrize("kind", ["RNN", "GRU"])
def test_layers_with_an_initial_state_match_torch(kind):
    theirs, ours = _pair(kind, 3, 4, num_layers=2, bidirectional=True)
    _compare(theirs, ours, RNG.standard_normal((5, 2, 3)), RNG.standard_normal((4, 2, 4)))


def test_lstm_with_an_initial_state_matches_torch():
    theirs, ours = _pair("LSTM", 3, 4, num_layers=2)
    _compare(theirs, ours, RNG.standard_normal((5, 2, 3)), RNG.standard_normal((2, 2, 4)),
             RNG.standard_normal((2, 2, 4)))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_unbatched_input_matches_torch(kind):
    theirs, ours = _pair(kind, 3, 4, bidirectional=True)
    _compare(theirs, ours, RNG.standard_normal((5, 3)))


def test_relu_rnn_matches_torch():
    theirs, ours = _pair("RNN", 3, 4, nonlinearity="relu")
    _compare(theirs, ours, RNG.standard_normal((5, 2, 3)))


@pytest.mark.parametrize("kind, state", [("RNNCell", 1), ("GRUCell", 1), ("LSTMCell", 2)])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_torch(kind, state, batched):
    theirs, ours = _pair(kind, 3, 4)
    shape = (2,) if batched else ()
    _compare(theirs, ours, RNG.standard_normal(shape + (3,)))
    _compare(*_pair(kind, 3, 4), RNG.standard_normal(shape + (3,)),
             *[RNG.standard_normal(shape + (4,)) for _ in range(state)])


def test_second_derivatives_by_finite_differences():
    lstm = nn.LSTM(2, 3, dtype=pg.float64)
    x = pg.randn(4, 1, 2, dtype=pg.float64, requires_grad=True)
    assert pg.autograd.gradgradcheck(lambda x: lstm(x)[0], (x,))


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.RNN(10, 20, nonlinearity="relu"),
    lambda lib: lib.nn.LSTM(10, 20, 2, batch_first=True, bidirectional=True, dropout=0.1),
    lambda lib: lib.nn.GRU(3, 4, bias=False),
    lambda lib: lib.nn.RNNCell(3, 4, nonlinearity="relu"),
    lambda lib: lib.nn.LSTMCell(3, 4, bias=False),
    lambda lib: lib.nn.GRUCell(3, 4),
])
def test_repr_matches_torch(make):
    assert repr(make(pg)) == repr(make(torch))


def test_initial_weights_lie_in_torchs_range():
    for p in nn.GRU(3, 25, num_layers=2).parameters():
        values = p.detach().numpy()
        assert np.abs(values).max() <= 0.2 and values.std() > 0.05  # U(-1/5, 1/5)


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.LSTM(3, 4)(lib.zeros(2, 5, 7)),                      # features
    lambda lib: lib.nn.LSTM(3, 4)(lib.zeros(1, 2, 3, 3)),                   # 4-d
    lambda lib: lib.nn.LSTM(3, 4)(lib.zeros(2, 5, 3), (lib.zeros(1, 4, 4), lib.zeros(1, 5, 4))),
    lambda lib: lib.nn.GRU(3, 4)(lib.zeros(2, 5, 3), lib.zeros(1, 4, 4)),   # hidden shape
    lambda lib: lib.nn.RNNCell(3, 4)(lib.zeros(5, 2)),
    lambda lib: lib.nn.RNNCell(3, 4)(lib.zeros(5, 3), lib.zeros(4, 4)),
    lambda lib: lib.nn.RNN(3, 4, nonlinearity="sig"),
    lambda lib: lib.nn.LSTM(3, 4, dropout=1.5),
])
def test_errors_match_torch(call):
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(type(expected.value)):
        call(pg)


def test_dropout_on_one_layer_warns_like_torch():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.5)


def test_dropout_between_layers_only_in_training():
    pg.manual_seed(0)
    lstm = nn.LSTM(3, 8, num_layers=2, dropout=0.5)
    x = pg.randn(4, 2, 3)
    lstm.eval()
    a, b = lstm(x)[0], lstm(x)[0]
    assert pg.equal(a, b)
    lstm.train()
    assert not pg.equal(lstm(x)[0], lstm(x)[0])


def test_a_sequence_model_learns():
    # sum of a sequence of +-1: an LSTM regressor fits it in a few hundred steps
    pg.manual_seed(0)
    lstm, head = nn.LSTM(1, 8, batch_first=True), nn.Linear(8, 1)
    opt = pg.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=0.03)
    x = pg.tensor(np.random.default_rng(1).choice([-1.0, 1.0], size=(32, 6, 1)),
                  dtype=pg.float32)
    y = x.sum(1)
    losses = []
    for _ in range(150):
        opt.zero_grad()
        loss = nn.functional.mse_loss(head(lstm(x)[0][:, -1]), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.05 * losses[0]
