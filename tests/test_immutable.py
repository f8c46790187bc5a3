"""plugrad.aliases and contract 2.0: torch's in-place and view semantics on a backend whose
writes return new arrays and whose views are copies (tests/immutable_backend.py).

The whole of tests/test_inplace.py, test_indexing.py, test_engine.py and test_optim.py also
runs on that backend with PLUGRAD_TEST_IMMUTABLE=1 (tests/conftest.py).
"""
from __future__ import annotations

import numpy as np
import plugrad as pg
import pytest
from immutable_backend import ImmutableNumpy
from plugrad import aliases, nn
from plugrad.backend import CONTRACT_VERSION, Backend, written
from plugrad.backends.numpy_backend import NumpyBackend
from torch_compare import same_as_torch

IMM = ImmutableNumpy()


@pytest.fixture(autouse=True)
def _immutable_default():
    with pg.backends.default_backend(IMM):
        yield


def test_the_test_backend_really_is_immutable():
    # the premise of this module: a write returns a new array and leaves its argument alone,
    # getitem copies, and the arrays it returns cannot be written by accident
    a = IMM.full((3,), 0.0, pg.float64)
    b = IMM.setitem(a, (slice(0, 1),), 5.0)
    assert b is not a and a.tolist() == [0, 0, 0] and b.tolist() == [5, 0, 0]
    v = IMM.getitem(b, (slice(0, 2),))
    assert not np.shares_memory(v, b) and not v.flags.writeable
    assert IMM.writable is False and IMM.views is False and aliases.aliasing(IMM)
    assert not aliases.aliasing(pg.backends.get("numpy"))


def test_a_write_through_a_view_reaches_the_base_and_every_other_view():
    x = pg.arange(6.0)
    head, tail, grid = x[:3], x[2:], x.view(2, 3)
    col = grid[:, 1]
    head.add_(10)
    assert x.tolist() == [10, 11, 12, 3, 4, 5]
    assert tail.tolist() == [12, 3, 4, 5]
    assert grid.tolist() == [[10, 11, 12], [3, 4, 5]]
    assert col.tolist() == [11, 4]
    col.mul_(0)  # a view of a view: written back through both
    assert x.tolist() == [10, 0, 12, 3, 0, 5]
    assert head.tolist() == [10, 0, 12]


def test_transposes_squeezes_and_element_views_write_back():
    x = pg.zeros(2, 3)
    t = x.T
    t[2, 0] = 7.0
    x.unsqueeze(0)[0, 1, 1] = 3.0
    e = x[1, 2]  # a 0-d view
    e.fill_(9.0)
    assert x.tolist() == [[0, 0, 7], [0, 3, 9]]
    assert t.tolist() == [[0, 0], [0, 3], [7, 9]]


def test_detach_and_data_alias_their_tensor():
    w = pg.tensor([1.0, 2.0], requires_grad=True)
    w.data.mul_(10)
    assert w.tolist() == [10, 20]
    d = w.detach()
    d.zero_()
    assert w.tolist() == [0, 0]
    # .data shares the data, not the version counter (torch's rule)
    assert w._version == 1


def test_assigning_data_rebinds_the_alias():
    x = pg.zeros(2)
    y = pg.ones(2)
    x.data = y
    x.add_(1)
    assert y.tolist() == [2, 2]


def test_a_parameter_shares_the_tensor_it_was_made_from():
    t = pg.zeros(2)
    p = nn.Parameter(t)
    with pg.no_grad():
        p.add_(1)
    assert t.tolist() == [1, 1]


def test_an_expanded_view_refuses_writes():
    e = pg.zeros(1).expand(3)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        e.add_(1)


def test_version_counters_guard_saved_tensors_through_views():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = y.exp()  # saves its output y.exp()
    z[0].mul_(2)  # writes the saved output through a view
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_the_gradient_of_an_element_is_not_lost():
    # an immutable backend whose index_add result the core ignored gave zeros here
    x = pg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x[1] * 5).backward()
    assert x.grad.tolist() == [0, 5, 0]


def test_in_place_on_a_view_in_a_graph_matches_torch():
    def program(lib, a, b):
        y = a * 1
        v = y[1:3]
        v.mul_(b)
        y.T[0].add_(1)
        return y

    # (names: torch calls the node torch::autograd::CopySlices, plugrad CopySlices)
    same_as_torch(program, np.arange(12.0).reshape(4, 3) / 7, np.array([2.0, -1.0, 0.5]),
                  names=False)


def test_setitem_with_index_tensors_matches_torch():
    def program(lib, a, b):
        y = a * 1
        y[lib.tensor([0, 2])] = b
        return y * y

    same_as_torch(program, np.arange(6.0).reshape(3, 2), np.array([[0.5, -1.0], [2.0, 3.0]]))


def test_nn_linear_builds_and_sgd_moves_its_weights():
    # contract 1.x on an immutable library: nn.Linear could not be built, steps did nothing
    pg.manual_seed(0)
    layer = nn.Linear(3, 2)
    before = layer.weight.tolist()
    opt = pg.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9)
    for _ in range(2):
        opt.zero_grad()
        layer(pg.ones(4, 3)).pow(2).sum().backward()
        opt.step()
    assert layer.weight.backend is IMM
    assert layer.weight.tolist() != before
    ref = np.array(before)
    assert not np.allclose(layer.weight.numpy(force=True), ref)


def test_gradients_accumulate_into_views_of_grad():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    g = x.grad
    first = g[0]
    (x * 3).sum().backward()
    assert g.tolist() == [5, 5] and first.item() == 5  # torch: .grad is summed in place


class OldContract(NumpyBackend):
    """A backend of contract 1.x: its write kernels write in place and return None."""

    @staticmethod
    def setitem(x, index, values):
        x[index] = values

    @staticmethod
    def index_add(x, index, values):
        NumpyBackend.index_add(x, index, values)

    @staticmethod
    def add_into(x, y):
        np.add(x, y, out=x)

    @staticmethod
    def mul_into(x, y):
        np.multiply(x, y, out=x)


def test_a_backend_of_the_previous_contract_still_works():
    assert CONTRACT_VERSION[0] == 2  # and this backend is written against 1.x
    old = OldContract()
    assert old.writable and old.views  # inherited: what 1.x backends did
    with pg.backends.default_backend(old):
        x = pg.tensor([1.0, 2.0, 3.0], requires_grad=True)
        (x[1] * 5).backward()
        assert x.grad.tolist() == [0, 5, 0]
        y = pg.zeros(3)
        y[1:].add_(2)
        y[0] = 1.0
        assert y.tolist() == [1, 2, 2]
        layer = nn.Linear(2, 1)
        w = layer.weight.tolist()
        opt = pg.optim.Adam(layer.parameters(), lr=0.1)
        layer(pg.ones(1, 2)).sum().backward()
        opt.step()
        assert layer.weight.tolist() != w


def test_the_fallback_write_kernels_return_the_result():
    class Minimal(ImmutableNumpy):
        add_into = Backend.add_into
        mul_into = Backend.mul_into

    k = Minimal()
    a = k.full((2,), 1.0, pg.float64)
    assert k.add_into(a, 2.0).tolist() == [3, 3] and a.tolist() == [1, 1]
    assert k.mul_into(a, 4.0).tolist() == [4, 4]
    assert written(None, a) is a


def test_positions_of_a_view_in_its_base():
    x = pg.zeros(3, 4)
    v = x[1:, ::2].T
    assert aliases.positions(v, x).tolist() == [[4, 8], [6, 10]]
    assert aliases.positions(x, v) is None
