"""Random sampling (core/sampling.py): laws, seeding, errors and gradients as torch has them."""
from __future__ import annotations

import numpy as np
import plugrad as pg
import pytest


def test_a_seeded_program_draws_the_same_numbers():
    def draws():
        pg.manual_seed(7)
        return (pg.bernoulli(pg.full((20,), 0.5)).tolist(), pg.randperm(10).tolist(),
                pg.normal(0.0, 1.0, (5,)).tolist(),
                pg.multinomial(pg.tensor([1.0, 2.0, 3.0]), 6, replacement=True).tolist())
    assert draws() == draws()


def test_bernoulli_follows_its_probabilities():
    pg.manual_seed(0)
    p = pg.tensor([0.0, 1.0, 0.25]).expand(20000, 3)
    freq = np.asarray(pg.bernoulli(p).mean(0).tolist())
    assert freq[0] == 0 and freq[1] == 1 and abs(freq[2] - 0.25) < 0.015
    x = pg.zeros(10000, dtype=pg.float64)
    assert x.bernoulli_(0.75) is x and abs(x.mean().item() - 0.75) < 0.02
    assert x.dtype is pg.float64 and set(x.tolist()) <= {0.0, 1.0}


def test_normal_forms_and_moments():
    pg.manual_seed(1)
    big = pg.normal(3.0, 2.0, (40000,))
    assert big.dtype is pg.float32 and abs(big.mean().item() - 3) < 0.05
    assert abs(big.std().item() - 2) < 0.05
    mean = pg.tensor([0.0, 10.0], dtype=pg.float64)
    draws = pg.normal(mean.expand(5000, 2), 0.5)
    assert draws.dtype is pg.float64 and np.allclose(draws.mean(0).tolist(), [0, 10], atol=0.05)
    assert pg.normal(0.0, pg.ones(3)).shape == (3,)
    assert pg.normal(pg.zeros(2, 1), pg.ones(3)).shape == (2, 3)


def test_randperm_and_multinomial():
    pg.manual_seed(2)
    perm = pg.randperm(50)
    assert perm.dtype is pg.int64 and sorted(perm.tolist()) == list(range(50))
    assert pg.randperm(0).tolist() == [] and pg.randperm(3, dtype=pg.int32).dtype is pg.int32
    rows = pg.multinomial(pg.tensor([[0.0, 5.0, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0]]), 2)
    assert rows.shape == (2, 2) and 0 not in rows[0].tolist() and 3 not in rows[0].tolist()
    assert all(len(set(r)) == 2 for r in rows.tolist())
    counts = np.bincount(pg.multinomial(pg.tensor([1.0, 3.0]), 20000, True).tolist(), minlength=2)
    assert abs(counts[1] / 20000 - 0.75) < 0.015


def test_draws_have_zero_gradients_and_torchs_node_names():
    torch = pytest.importorskip("torch")
    cases = [
        (lambda lib, a, b: lib.normal(a, b), "NormalBackward3"),
        (lambda lib, a, b: lib.normal(a, 2.0), "NormalBackward1"),
        (lambda lib, a, b: lib.normal(0.0, b), "NormalBackward2"),
        (lambda lib, a, b: lib.bernoulli(a.detach().clamp(0, 1).requires_grad_()),
         "BernoulliBackward0"),
    ]
    for draw, name in cases:
        for lib in (pg, torch):
            a = lib.full((3,), 0.5, requires_grad=True)
            b = lib.ones(3, requires_grad=True)
            out = draw(lib, a, b)
            assert out.grad_fn.name() == name
            grads = lib.autograd.grad(out.sum(), [t for t in (a, b) if t.requires_grad],
                                      allow_unused=True)
            assert all(g is None or not g.abs().sum().item() for g in grads)


@pytest.mark.parametrize("call, message", [
    (lambda lib: lib.normal(lib.zeros(2), -1.0), "std >= 0.0"),
    (lambda lib: lib.bernoulli(lib.tensor([1.5])), "\\[0, 1\\]|p_in >= 0"),
    (lambda lib: lib.multinomial(lib.tensor([0.1, 0.9]), 3), "without replacement"),
    (lambda lib: lib.multinomial(lib.tensor([[[1.0]]]), 1), "1 or 2 dim"),
    (lambda lib: lib.multinomial(lib.tensor([-1.0, 2.0]), 1), "element < 0"),
    (lambda lib: lib.zeros(2).bernoulli_(1.5), "p to be in \\[0, 1\\]"),
])
def test_bad_parameters_raise_runtime_errors_as_torch_does(call, message):
    torch = pytest.importorskip("torch")
    for lib in (pg, torch):
        with pytest.raises(RuntimeError, match=message):
            call(lib)
