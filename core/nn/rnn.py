"""Recurrent layers: RNN, LSTM, GRU and their one-step cells, as torch.nn has them.

Each layer keeps torch's parameters under torch's names (`weight_ih_l0`,
`bias_hh_l1_reverse`, ...), so state dicts move between the two. A layer's
input projection is one matrix product over the whole sequence; only the
hidden-state product runs per time step. Everything is composed of
differentiable tensor ops, so gradients of any order come from the engine.

>>> import plugrad as pg
>>> from plugrad import nn
>>> lstm = nn.LSTM(input_size=3, hidden_size=5, num_layers=2, batch_first=True)
>>> out, (h, c) = lstm(pg.randn(4, 7, 3))
>>> out.shape, h.shape
(plugrad.Size([4, 7, 5]), plugrad.Size([2, 4, 5]))
"""
from __future__ import annotations

import math
import numbers
import warnings

from .. import dtypes
from ..creation import empty, zeros
from ..pointwise import relu, sigmoid, tanh
from ..shape import cat, stack
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# -- one time step of each kind: (input projection, hidden state(s), weights) -> new state ---
def _rnn_step(act):
    def step(xw, state, w_hh, b_hh):
        return act(xw + F.linear(state, w_hh, b_hh))
    return step


def _lstm_step(xw, state, w_hh, b_hh):
    h, c = state
    i, f, g, o = (xw + F.linear(h, w_hh, b_hh)).chunk(4, -1)
    c = sigmoid(f) * c + sigmoid(i) * tanh(g)
    return sigmoid(o) * tanh(c), c


def _gru_step(xw, h, w_hh, b_hh):
    x_r, x_z, x_n = xw.chunk(3, -1)
    h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, -1)
    r = sigmoid(x_r + h_r)
    z = sigmoid(x_z + h_z)
    n = tanh(x_n + r * h_n)
    return n + z * (h - n)  # (1 - z) * n + z * h, one product fewer


_STEPS = {"RNN_TANH": _rnn_step(tanh), "RNN_RELU": _rnn_step(relu), "LSTM": _lstm_step,
          "GRU": _gru_step}


def _check_dropout(dropout, num_layers: int) -> None:
    if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
            or not 0 <= dropout <= 1):
        raise ValueError("dropout should be a number in range [0, 1] representing the "
                         "probability of an element being zeroed")
    if dropout > 0 and num_layers == 1:
        warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                      "non-zero dropout expects num_layers greater than 1, but got "
                      f"dropout={dropout} and num_layers={num_layers}", UserWarning,
                      stacklevel=3)


class RNNBase(Module):
    """What RNN, LSTM and GRU share: parameters per layer and direction, and the time loop."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None,
                 *, backend=None) -> None:
        super().__init__()
        for name, value in (("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if proj_size:
            raise NotImplementedError("LSTM with proj_size > 0 is not supported by plugrad yet")
        _check_dropout(dropout, num_layers)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        dtype = dtype or dtypes.get_default_dtype()
        gate_size = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                shapes = {f"weight_ih_l{layer}{suffix}": (gate_size, layer_input),
                          f"weight_hh_l{layer}{suffix}": (gate_size, hidden_size)}
                if bias:
                    shapes[f"bias_ih_l{layer}{suffix}"] = (gate_size,)
                    shapes[f"bias_hh_l{layer}{suffix}"] = (gate_size,)
                for name, shape in shapes.items():
                    setattr(self, name, Parameter(empty(*shape, dtype=dtype, backend=backend,
                                                        device=device)))
                    self._flat_weights_names.append(name)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias uniform in (-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def flatten_parameters(self) -> None:
        """Nothing to do: plugrad keeps no fused weight buffer (torch's cuDNN one)."""

    @property
    def all_weights(self) -> list:
        """The parameters per layer and direction, in torch's order."""
        per = 4 if self.bias else 2
        weights = [getattr(self, n) for n in self._flat_weights_names]
        return [weights[i:i + per] for i in range(0, len(weights), per)]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # -- forward ----------------------------------------------------------------------------
    def _layout(self, input: Tensor) -> tuple[Tensor, bool]:
        """input as (time, batch, features), and whether it came without a batch dim."""
        name = type(self).__name__
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D "
                             f"instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")
        if input.ndim == 2:
            return input.unsqueeze(1), True
        return (input.transpose(0, 1) if self.batch_first else input), False

    def _initial(self, hx, input: Tensor, batch: int, unbatched: bool, which: str):
        """The initial state of one kind (h or c): zeros, or hx checked and batched."""
        expected = (self.num_layers * (2 if self.bidirectional else 1), batch, self.hidden_size)
        if hx is None:
            return zeros(*expected, dtype=input.dtype, backend=input.backend)
        if unbatched:
            if hx.ndim != 2:
                raise RuntimeError(f"For unbatched 2-D input, {which} should also be 2-D but "
                                   f"got {hx.ndim}-D tensor")
            hx = hx.unsqueeze(1)
        elif hx.ndim != 3:
            raise RuntimeError(f"For batched 3-D input, {which} should also be 3-D but got "
                               f"{hx.ndim}-D tensor")
        if tuple(hx.shape) != expected:
            raise RuntimeError(f"Expected {which} size {expected}, got {list(hx.shape)}")
        return hx

    def _run(self, x: Tensor, state, hidden_states: int):
        """All layers and directions over x (time, batch, features); final states per layer."""
        step = _STEPS[self.mode]
        directions = 2 if self.bidirectional else 1
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for d, suffix in enumerate(("", "_reverse")[:directions]):
                index = layer * directions + d
                start = tuple(s[index] for s in state) if hidden_states == 2 else state[index]
                out, last = self._direction(x, start, step, f"l{layer}{suffix}", d == 1)
                outputs.append(out)
                finals.append(last)
            x = outputs[0] if directions == 1 else cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, finals

    def _direction(self, x: Tensor, state, step, tag: str, reverse: bool):
        params = self._parameters
        w_ih, w_hh = params[f"weight_ih_{tag}"], params[f"weight_hh_{tag}"]
        b_ih, b_hh = params.get(f"bias_ih_{tag}"), params.get(f"bias_hh_{tag}")
        projected = F.linear(x, w_ih, b_ih)  # every time step's input part in one product
        steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
        outs = [None] * x.shape[0]
        for t in steps:
            state = step(projected[t], state, w_hh, b_hh)
            outs[t] = state[0] if isinstance(state, tuple) else state
        return stack(outs, 0), state

    def _output(self, out: Tensor, unbatched: bool) -> Tensor:
        if unbatched:
            return out.squeeze(1)
        return out.transpose(0, 1) if self.batch_first else out


class RNN(RNNBase):
    """An Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_(t-1) W_hh^T + b_hh) (or relu).

    Input (L, N, input_size), or (N, L, input_size) with batch_first, or
    (L, input_size) unbatched; returns (output, h_n) with output (L, N,
    D * hidden_size) and h_n (D * num_layers, N, hidden_size), D = 2 if
    bidirectional else 1.

    >>> import plugrad as pg
    >>> from plugrad import nn
    >>> out, h = nn.RNN(3, 4, nonlinearity="relu")(pg.randn(6, 2, 3))
    >>> out.shape, h.shape
    (plugrad.Size([6, 2, 4]), plugrad.Size([1, 2, 4]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None,
                 *, backend=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             f"'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__(f"RNN_{nonlinearity.upper()}", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, device=device, dtype=dtype,
                         backend=backend)

    def forward(self, input: Tensor, hx: Tensor | None = None):
        x, unbatched = self._layout(input)
        h0 = self._initial(hx, x, x.shape[1], unbatched, "hidden")
        out, finals = self._run(x, h0, 1)
        h = stack(finals, 0)
        return self._output(out, unbatched), (h.squeeze(1) if unbatched else h)


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, g, o (torch's order) and a cell state.

    Returns (output, (h_n, c_n)); shapes as for `RNN`, c_n like h_n.

    >>> import plugrad as pg
    >>> from plugrad import nn
    >>> out, (h, c) = nn.LSTM(3, 4, bidirectional=True)(pg.randn(6, 2, 3))
    >>> out.shape, c.shape
    (plugrad.Size([6, 2, 8]), plugrad.Size([2, 2, 4]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None,
                 *, backend=None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device=device, dtype=dtype,
                         backend=backend)

    def forward(self, input: Tensor, hx: tuple | None = None):
        x, unbatched = self._layout(input)
        h0, c0 = (None, None) if hx is None else hx
        h0 = self._initial(h0, x, x.shape[1], unbatched, "hidden[0]")
        c0 = self._initial(c0, x, x.shape[1], unbatched, "hidden[1]")
        out, finals = self._run(x, (h0, c0), 2)
        h, c = stack([f[0] for f in finals], 0), stack([f[1] for f in finals], 0)
        if unbatched:
            h, c = h.squeeze(1), c.squeeze(1)
        return self._output(out, unbatched), (h, c)


class GRU(RNNBase):
    """Gated recurrent unit: reset and update gates r, z and candidate n (torch's order).

    Returns (output, h_n); shapes as for `RNN`.

    >>> import plugrad as pg
    >>> from plugrad import nn
    >>> out, h = nn.GRU(3, 4, num_layers=2, batch_first=True)(pg.randn(2, 6, 3))
    >>> out.shape, h.shape
    (plugrad.Size([2, 6, 4]), plugrad.Size([2, 2, 4]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device=None, dtype=None, *, backend=None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype, backend=backend)

    def forward(self, input: Tensor, hx: Tensor | None = None):
        x, unbatched = self._layout(input)
        h0 = self._initial(hx, x, x.shape[1], unbatched, "hidden")
        out, finals = self._run(x, h0, 1)
        h = stack(finals, 0)
        return self._output(out, unbatched), (h.squeeze(1) if unbatched else h)


# -- cells: one time step ---------------------------------------------------------------------
class RNNCellBase(Module):
    """What the cells share: weight_ih, weight_hh, bias_ih, bias_hh and the input checks."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, gates: int, device=None,
                 dtype=None, *, backend=None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        dtype = dtype or dtypes.get_default_dtype()

        def param(*shape):
            return Parameter(empty(*shape, dtype=dtype, backend=backend, device=device))
        self.weight_ih = param(gates * hidden_size, input_size)
        self.weight_hh = param(gates * hidden_size, hidden_size)
        if bias:
            self.bias_ih = param(gates * hidden_size)
            self.bias_hh = param(gates * hidden_size)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    reset_parameters = RNNBase.reset_parameters

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        return s if nonlinearity == "tanh" else s + f", nonlinearity={nonlinearity}"

    def _batched(self, input: Tensor, hx, name: str):
        """(input as (N, features), hx as (N, hidden) or None, whether input had no batch)."""
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D "
                             f"instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[-1]} "
                               f"expected {self.input_size}")
        unbatched = input.ndim == 1
        if unbatched:
            input = input.unsqueeze(0)
        if hx is not None:
            if hx.ndim != (1 if unbatched else 2):
                raise ValueError(f"{name}: Expected hidden to be "
                                 f"{'1D' if unbatched else '2D'}, got {hx.ndim}D instead")
            if unbatched:
                hx = hx.unsqueeze(0)
            if hx.shape[0] != input.shape[0]:
                raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match hidden0 "
                                   f"batch size {hx.shape[0]}")
            if hx.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden0 has inconsistent hidden_size: got {hx.shape[1]}, "
                                   f"expected {self.hidden_size}")
        return input, hx, unbatched

    def _zeros(self, input: Tensor) -> Tensor:
        return zeros(input.shape[0], self.hidden_size, dtype=input.dtype, backend=input.backend)

    def _step(self, kind: str, input: Tensor, state):
        p = self._parameters
        xw = F.linear(input, p["weight_ih"], p["bias_ih"])
        return _STEPS[kind](xw, state, p["weight_hh"], p["bias_hh"])


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu).

    >>> import plugrad as pg
    >>> from plugrad import nn
    >>> nn.RNNCell(3, 4)(pg.randn(2, 3)).shape
    plugrad.Size([2, 4])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None, *, backend=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device, dtype, backend=backend)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, hx, unbatched = self._batched(input, hx, "RNNCell")
        h = self._step(f"RNN_{self.nonlinearity.upper()}", input,
                       self._zeros(input) if hx is None else hx)
        return h.squeeze(0) if unbatched else h


class LSTMCell(RNNCellBase):
    """One LSTM step: returns (h', c').

    >>> import plugrad as pg
    >>> from plugrad import nn
    >>> h, c = nn.LSTMCell(3, 4)(pg.randn(2, 3))
    >>> h.shape, c.shape
    (plugrad.Size([2, 4]), plugrad.Size([2, 4]))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None, *, backend=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype, backend=backend)

    def forward(self, input: Tensor, hx: tuple | None = None):
        h0, c0 = (None, None) if hx is None else hx
        batched, h0, unbatched = self._batched(input, h0, "LSTMCell")
        c0 = self._batched(input, c0, "LSTMCell")[1]
        if hx is None:
            h0 = c0 = self._zeros(batched)
        h, c = self._step("LSTM", batched, (h0, c0))
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(RNNCellBase):
    """One GRU step: returns h'.

    >>> import plugrad as pg
    >>> from plugrad import nn
    >>> nn.GRUCell(3, 4)(pg.randn(3)).shape
    plugrad.Size([4])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None, *, backend=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype, backend=backend)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, hx, unbatched = self._batched(input, hx, "GRUCell")
        h = self._step("GRU", input, self._zeros(input) if hx is None else hx)
        return h.squeeze(0) if unbatched else h
