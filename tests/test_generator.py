"""plugrad.random (core/random.py): Generator, the default generators, generator= on draws."""
from __future__ import annotations

import numpy as np
import plugrad as pg
import pytest
from plugrad.backend import SeededStream
from plugrad.nn import init
from torch_compare import same_error


def _draws(g, backend="numpy"):
    """One of every draw that takes generator=, as lists."""
    x = pg.zeros(6, backend=backend)
    p = pg.full((8,), 0.5, backend=backend)
    return [
        pg.rand(3, generator=g, backend=backend).tolist(),
        pg.randn(2, 2, generator=g, backend=backend).tolist(),
        pg.randint(0, 100, (5,), generator=g, backend=backend).tolist(),
        pg.randperm(7, generator=g, backend=backend).tolist(),
        pg.normal(0.0, 1.0, (3,), generator=g, backend=backend).tolist(),
        pg.normal(pg.zeros(3, backend=backend), 2.0, generator=g).tolist(),
        pg.bernoulli(p, generator=g).tolist(),
        p.clone().bernoulli_(0.3, generator=g).tolist(),
        pg.multinomial(pg.ones(5, backend=backend), 3, generator=g).tolist(),
        pg.rand_like(x, generator=g).tolist(),
        pg.randn_like(x, generator=g).tolist(),
        pg.randint_like(x, 10, generator=g).tolist(),
        x.clone().uniform_(-2, 2, generator=g).tolist(),
        x.clone().normal_(1.0, 3.0, generator=g).tolist(),
        x.clone().random_(0, 50, generator=g).tolist(),
        x.clone().exponential_(2.0, generator=g).tolist(),
        init.uniform_(pg.empty(4, backend=backend), generator=g).tolist(),
        init.normal_(pg.empty(4, backend=backend), generator=g).tolist(),
        init.kaiming_uniform_(pg.empty(3, 2, backend=backend), generator=g).tolist(),
    ]


@pytest.mark.parametrize("backend", ["numpy", "dask"])
def test_the_same_seed_draws_the_same_numbers_on_every_random_function(backend):
    if backend == "dask":
        pytest.importorskip("dask")
    first = _draws(pg.Generator().manual_seed(123), backend)
    assert _draws(pg.Generator().manual_seed(123), backend) == first
    other = _draws(pg.Generator().manual_seed(124), backend)
    assert other[0] != first[0] and other[1] != first[1]


def test_a_generator_does_not_touch_the_default_one():
    pg.manual_seed(5)
    want = pg.rand(4).tolist()
    pg.manual_seed(5)
    g = pg.Generator().manual_seed(5)
    mine = pg.rand(4, generator=g).tolist()
    assert pg.rand(4).tolist() == want
    assert mine == want  # the default generator with seed 5 is a generator with seed 5


def test_generator_api_as_torch():
    torch = pytest.importorskip("torch")
    g, tg = pg.Generator(), torch.Generator()
    assert g.initial_seed() == tg.initial_seed() == 67280421310721
    assert g.device == pg.device("cpu") and str(g.device) == str(tg.device)
    assert g.manual_seed(3) is g and g.initial_seed() == 3
    assert g.manual_seed(-1).initial_seed() == tg.manual_seed(-1).initial_seed() == 2 ** 64 - 1
    s = g.seed()
    assert isinstance(s, int) and g.initial_seed() == s
    with pytest.raises(ValueError):
        tg.manual_seed(2 ** 64)
    with pytest.raises(ValueError, match="Overflow"):
        g.manual_seed(2 ** 64)
    with pytest.raises(TypeError):
        pg.Generator().manual_seed("seven")
    assert pg.Generator("cuda").device.type == "cuda"


def test_state_round_trips_and_bad_states_change_nothing():
    g = pg.Generator().manual_seed(9)
    pg.rand(3, generator=g)
    state = g.get_state()
    assert state.dtype is pg.int64 and state.ndim == 1
    a = pg.randn(4, generator=g).tolist()
    assert g.set_state(state) is g
    assert pg.randn(4, generator=g).tolist() == a
    # a state moves between generators
    h = pg.Generator().set_state(state)
    assert pg.randn(4, generator=h).tolist() == a and h.initial_seed() == 9
    g.set_state(state)
    with pytest.raises(TypeError):
        g.set_state(pg.zeros(3))
    with pytest.raises(TypeError):
        g.set_state([1, 2, 3])
    with pytest.raises(RuntimeError, match="not a plugrad Generator state"):
        g.set_state(pg.tensor([1, 2, 3]))
    with pytest.raises(RuntimeError, match="not a plugrad Generator state"):
        g.set_state(pg.tensor(list(b'{"format": "plugrad-generator-state", "seed": -1}')))
    assert pg.randn(4, generator=g).tolist() == a  # unchanged by the refused states


def test_a_damaged_stream_state_is_refused_when_it_is_used():
    g = pg.Generator()
    text = b'{"format": "plugrad-generator-state", "seed": 1, "streams": {"numpy": [1, 2]}}'
    g.set_state(pg.tensor(list(text)))
    with pytest.raises(RuntimeError, match="backend 'numpy'"):
        pg.rand(2, generator=g)


def test_torch_rejects_the_same_states():
    same_error(lambda lib: lib.Generator().set_state(lib.zeros(3)))


def test_the_default_generators():
    assert pg.manual_seed(11) is pg.default_generator
    assert pg.initial_seed() == 11 == pg.default_generator.initial_seed()
    state = pg.get_rng_state()
    a = pg.rand(3).tolist()
    pg.set_rng_state(state)
    assert pg.rand(3).tolist() == a
    s = pg.seed()
    assert pg.initial_seed() == s
    assert pg.random.manual_seed is pg.manual_seed


def test_fork_rng_restores_the_default_generator():
    pg.manual_seed(2)
    with pg.random.fork_rng():
        inside = pg.rand(3).tolist()
        pg.manual_seed(99)
    assert pg.rand(3).tolist() == inside
    with pg.random.fork_rng(enabled=False):
        pg.rand(3)
    assert pg.rand(3).tolist() != inside


def test_generator_argument_errors():
    with pytest.raises(TypeError, match="plugrad.Generator"):
        pg.rand(2, generator=3)
    with pytest.raises(RuntimeError, match="device type"):
        pg.rand(2, generator=pg.Generator("cuda"))


def test_the_fallback_stream_of_a_backend_without_one():
    # Backend.random_stream: reseed the backend's own generator before each draw
    numpy = pg.backends.get("numpy")
    s = SeededStream(numpy, 4)
    a = s.uniform((3,), pg.float64).tolist()
    b = s.normal((3,), pg.float64).tolist()
    assert s.get_state() == [4, 2]
    s.set_state([4, 0])
    assert s.uniform((3,), pg.float64).tolist() == a and s.normal((3,), pg.float64).tolist() == b
    for bad in ([4], [-1, 0], "x", [1.5, 0]):
        with pytest.raises(ValueError):
            s.set_state(bad)
    assert s.get_state() == [4, 2]
    ints = s.randint(3, 6, (100,), pg.int64).tolist()
    assert set(ints) == {3, 4, 5}


def test_in_place_fills_follow_their_laws():
    g = pg.Generator().manual_seed(0)
    u = pg.empty(20000, dtype=pg.float64).uniform_(2.0, 5.0, generator=g)
    assert 2 <= u.min().item() and u.max().item() < 5 and abs(u.mean().item() - 3.5) < 0.03
    z = pg.empty(20000, dtype=pg.float64).normal_(1.0, 2.0, generator=g)
    assert abs(z.mean().item() - 1) < 0.05 and abs(z.std().item() - 2) < 0.05
    e = pg.empty(20000, dtype=pg.float64).exponential_(4.0, generator=g)
    assert e.min().item() >= 0 and abs(e.mean().item() - 0.25) < 0.01
    r = pg.empty(3000, dtype=pg.int64).random_(-2, 3, generator=g)
    assert sorted(set(r.tolist())) == [-2, -1, 0, 1, 2]
    assert set(pg.zeros(500).random_(4, generator=g).tolist()) == {0.0, 1.0, 2.0, 3.0}
    big = pg.zeros(1000, dtype=pg.int32).random_(generator=g)
    assert big.min().item() >= 0 and big.max().item() > 2 ** 20
    f = pg.zeros(1000).random_(generator=g)
    assert f.max().item() <= 2 ** 24 and f.max().item() > 2 ** 16


@pytest.mark.parametrize("fill", [
    lambda lib, x: x.uniform_(3.0, 1.0),
    lambda lib, x: x.normal_(0.0, -1.0),
    lambda lib, x: x.exponential_(-1.0),
    lambda lib, x: x.random_(5, 2),
    lambda lib, x: x.long().uniform_(),
    lambda lib, x: x.long().normal_(),
    lambda lib, x: x.long().exponential_(),
    lambda lib, x: x.uniform_(),  # a leaf that requires grad
])
def test_fill_errors_as_torch(fill):
    same_error(lambda lib, x: fill(lib, x), np.zeros(3))


def test_a_fill_cuts_the_history_as_torch():
    torch = pytest.importorskip("torch")
    for lib in (torch, pg):
        w = lib.ones(3, requires_grad=True)
        y = w * 2
        assert y.uniform_() is y
        assert y.grad_fn.name() == "UniformBackward0"
        y.sum().backward()
        assert w.grad.tolist() == [0.0, 0.0, 0.0]


def test_docstring_examples():
    import doctest

    import plugrad.random
    import plugrad.sampling
    for module in (plugrad.random, plugrad.sampling):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.attempted and not result.failed
