"""Memory and graph size: flat memory over many training steps, saved tensors freed as
backward passes them, graphs freed by reference counting alone, deep chains and wide fan-out.

Figures (2-core x86_64, Python 3.11, NumPy backend) are in the docstrings of the tests that
measure them.
"""
from __future__ import annotations

import gc
import time
import tracemalloc
import weakref

import numpy as np
import plugrad as pg
from plugrad import nn, optim
from plugrad.tensor import accumulator


class gc_off:
    """Cyclic garbage collection off inside the block: only reference counting frees."""

    def __enter__(self):
        self.was = gc.isenabled()
        gc.collect()
        gc.disable()

    def __exit__(self, *exc):
        if self.was:
            gc.enable()


def mlp_and_step(seed: int = 0):
    pg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 32), nn.Tanh(),
                          nn.Linear(32, 4))
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(seed)
    x = pg.tensor(rng.standard_normal((16, 8)).astype(np.float32))
    target = pg.tensor(rng.integers(0, 4, 16))

    def step():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), target)
        loss.backward()
        opt.step()
        return loss.item()
    return step


def test_2000_training_steps_keep_memory_flat():
    """2,000 SGD steps of an 8-32-32-4 MLP with the cyclic collector off: traced memory grows
    by (nearly) 0 bytes and gc-tracked objects by 0 between step 300 and step 2,000."""
    step = mlp_and_step()
    with gc_off():
        for _ in range(199):  # warm up: optimizer state, caches
            step()
        first = step()
        tracemalloc.start()
        try:
            for _ in range(100):  # tracemalloc sees only arrays allocated after it started
                step()
            before_mem = tracemalloc.get_traced_memory()[0]
            before_objects = len(gc.get_objects())
            for _ in range(1700):
                last = step()
            after_mem = tracemalloc.get_traced_memory()[0]
            after_objects = len(gc.get_objects())
        finally:
            tracemalloc.stop()
        unreachable = gc.collect()  # cycles made during the steps, if any
    print(f"2,000 steps: traced memory {after_mem - before_mem:+d} bytes, gc objects "
          f"{after_objects - before_objects:+d}, {unreachable} unreachable")
    assert last < first
    # a leak of even one small object per step would add > 50 kB over 1,700 steps; Python
    # 3.10 keeps ~20 kB of allocator noise (seen once, not growing), 3.11+ about 0
    assert after_mem - before_mem < 32 * 1024, (before_mem, after_mem)
    assert after_objects - before_objects < 20, (before_objects, after_objects)
    assert unreachable < 20  # training makes no reference cycles to collect


def _chain(x, n):
    y = x
    for _ in range(n):
        y = (y * 1.0001).tanh()  # tanh saves its output, mul its scalar: n arrays kept
    return y


def test_backward_frees_saved_tensors_as_it_passes_them():
    """A 40-op chain on 100,000 float64s (800 kB per saved array, 32 MB of forward memory):
    the backward's peak stays within 4 arrays of the memory the forward left, half-way
    through the backward about half the saved arrays are gone, and at the end all are."""
    x = pg.rand(100_000, dtype=pg.float64, requires_grad=True)
    array = 100_000 * 8
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        mid = _chain(x, 20)
        y = _chain(mid, 20)
        forward = tracemalloc.get_traced_memory()[0] - start
        halfway = []
        mid.register_hook(lambda g: halfway.append(tracemalloc.get_traced_memory()[0] - start))
        tracemalloc.reset_peak()
        y.sum().backward()
        peak = tracemalloc.get_traced_memory()[1] - start
        after = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    assert forward > 40 * array
    assert peak < forward + 4 * array, (forward / array, peak / array)
    assert halfway[0] < forward * 0.6 + 4 * array, (forward / array, halfway[0] / array)
    assert after < 4 * array, after / array  # x.grad, y, mid: the graph holds no array
    np.testing.assert_allclose(x.grad.numpy(), pg.autograd.grad(_chain(x, 40).sum(), x)[0]
                               .numpy())


def test_dropping_the_outputs_frees_the_graph_without_the_collector():
    with gc_off():
        x = pg.rand(1000, requires_grad=True)
        y = _chain(x, 50)
        node, out = weakref.ref(y.grad_fn), weakref.ref(y)
        leaf_node = weakref.ref(y.grad_fn.inputs[0].inputs[0])
        del y
        assert node() is None and out() is None and leaf_node() is None
        # also after a backward (AccumulateGrad nodes and hooks) and with retain_graph
        y = _chain(x, 50)
        y.retain_grad()
        y.sum().backward(retain_graph=True)
        node = weakref.ref(y.grad_fn)
        del y
        assert node() is None
        assert weakref.ref(x)() is x
        # the leaf itself is freed with its .grad and its accumulator once dropped
        acc = weakref.ref(accumulator(x))
        leaf = weakref.ref(x)
        del x
        assert leaf() is None and acc() is None


def test_a_1000000_op_chain_backpropagates():
    """1,000,000 ops (mul and add alternating, one element): forward+backward in about 3.3 s,
    285 MB peak RSS for the whole pytest process; no recursion (the engine is iterative) and
    a gradient exact to the last bit."""
    _deep_chain(1_000_000)


def test_a_chain_needs_memory_linear_in_its_length():
    """Peak traced memory of forward+backward: about 250 bytes per op, the same per op for
    10,000 and 40,000 ops."""
    per_op = []
    for n in (10_000, 40_000):
        tracemalloc.start()
        try:
            _deep_chain(n)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        per_op.append(peak / n)
    print(f"chain peak memory per op: {per_op[0]:.0f} B (10k ops), {per_op[1]:.0f} B (40k ops)")
    assert per_op[1] < 1.25 * per_op[0] and per_op[1] < 2048


def _deep_chain(n: int):
    x = pg.tensor([1.5], dtype=pg.float64, requires_grad=True)
    t0 = time.perf_counter()
    y = x
    for i in range(n // 2):
        y = y * (2.0 if i % 2 else 0.5)  # exact in binary floating point
        y = y + 1.0
    y.sum().backward()
    elapsed = time.perf_counter() - t0
    assert x.grad.tolist() == [1.0]
    want = 1.5
    for i in range(n // 2):
        want = want * (2.0 if i % 2 else 0.5) + 1.0
    assert y.item() == want
    assert elapsed < 120


def test_a_node_with_10000_consumers_accumulates_correctly():
    x = pg.tensor([1.0, -2.0, 3.0], dtype=pg.float64, requires_grad=True)
    h = x * 2.0  # one node, 10,000 consumers
    outs = [h * float(i) for i in range(10_000)]
    total = pg.stack(outs).sum()
    total.backward()
    want = 2.0 * sum(range(10_000)) * 1.0
    assert x.grad.tolist() == [want] * 3
    # a leaf read by 10,000 ops, summed by a 10,000-deep chain of adds
    w = pg.tensor([0.5], dtype=pg.float64, requires_grad=True)
    acc = w * 0.0
    for i in range(10_000):
        acc = acc + w * float(i % 7)
    acc.backward()
    assert w.grad.tolist() == [float(sum(i % 7 for i in range(10_000)))]
