"""The JAX backend, found through its entry point: immutable arrays, torch's semantics."""
import plugrad as pg
import pytest

pytest.importorskip("jax")


def test_found_through_the_entry_point_and_declares_what_it_is():
    bk = pg.backends.get("jax")
    assert bk.writable is False and bk.views is False
    assert bk.process_switches == {"jax_enable_x64=True": "float64 arrays"}
    assert pg.tensor([1.0], dtype=pg.float64, backend="jax").dtype is pg.float64


def test_writes_through_views_and_gradients_of_elements():
    x = pg.tensor([1.0, 2.0, 3.0], backend="jax", requires_grad=True)
    (x[1] * 5).backward()
    assert x.grad.tolist() == [0, 5, 0]
    y = pg.zeros(2, 3, backend="jax")
    y.T[1].add_(2)
    assert y.tolist() == [[0, 2, 0], [0, 2, 0]]


def test_out_of_range_indices_raise_rather_than_clamp():
    x = pg.zeros(3, backend="jax")
    with pytest.raises(IndexError):
        x[3]
    with pytest.raises(IndexError):
        x[pg.tensor([0, 5], backend="jax")]


def test_an_sgd_step_moves_the_weights():
    pg.manual_seed(0)
    with pg.backends.default_backend("jax"):
        layer = pg.nn.Linear(3, 2)
        w = layer.weight.tolist()
        opt = pg.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9)
        layer(pg.ones(4, 3)).sum().backward()
        opt.step()
    assert layer.weight.tolist() != w
