"""Threads: backward from several threads at once, shared leaves, thread-local grad mode and
the plugin registry under concurrent first use (what torch promises of its engine)."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import numpy as np
import plugrad as pg
import pytest

THREADS = 8


def run_threads(target, n: int = THREADS) -> list:
    """Run target(i) in n threads released together; re-raise the first error; results by i."""
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list = []

    def work(i):
        try:
            barrier.wait()
            results[i] = target(i)
        except BaseException as err:  # noqa: B036 - reported to the main thread below
            errors.append(err)
    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]
    return results


def small_net_grads(seed: int, steps: int = 40) -> list:
    """A two-layer net on its own data: the gradients of `steps` backward passes, as arrays."""
    rng = np.random.default_rng(seed)
    w1 = pg.tensor(rng.standard_normal((6, 16)), requires_grad=True)
    b1 = pg.tensor(rng.standard_normal(16), requires_grad=True)
    w2 = pg.tensor(rng.standard_normal((16, 3)), requires_grad=True)
    x = pg.tensor(rng.standard_normal((32, 6)))
    out = []
    for _ in range(steps):
        h = (x @ w1 + b1).tanh()
        loss = (h @ w2).log_softmax(1).mean() * -1.0 + (w1 * w1).sum() * 1e-3
        loss.backward(retain_graph=True)
        out.append([p.grad.numpy().copy() for p in (w1, b1, w2)])
        dw = pg.autograd.grad((h ** 2).sum(), w1)[0]  # autograd.grad from threads too
        out.append([dw.numpy().copy()])
    return out


def test_backward_on_independent_graphs_in_threads_equals_serial():
    serial = [small_net_grads(seed) for seed in range(THREADS)]
    threaded = run_threads(small_net_grads)
    for want, got in zip(serial, threaded):
        for w_step, g_step in zip(want, got):
            for w, g in zip(w_step, g_step):
                np.testing.assert_array_equal(g, w)  # same ops in the same order: bit-equal


@pytest.mark.parametrize("size", [1, 1_000_000])
def test_threads_accumulating_into_one_leaf_lose_no_contribution(size):
    # large arrays make NumPy release the GIL inside the in-place add: without the engine's
    # lock two threads' read-modify-write of .grad interleave and contributions are lost
    rounds = 10 if size > 1 else 200
    w = pg.zeros(size, dtype=pg.float64, requires_grad=True)

    def work(i):
        for _ in range(rounds):
            (w * float(i + 1)).sum().backward()
    run_threads(work)
    want = rounds * sum(range(1, THREADS + 1))
    got = w.grad.numpy()
    assert got.min() == got.max() == want


def test_threads_accumulating_through_a_shared_graph_with_retain_graph():
    x = pg.tensor([1.0, 2.0, 3.0], dtype=pg.float64, requires_grad=True)
    y = (x * x).sum()  # one graph, backwarded from every thread

    def work(i):
        for _ in range(25):
            y.backward(retain_graph=True)
    run_threads(work)
    np.testing.assert_array_equal(x.grad.numpy(), 2 * np.array([1.0, 2.0, 3.0]) * 25 * THREADS)


def test_grad_mode_is_thread_local():
    inside, entered, leave = [], threading.Event(), threading.Event()

    def no_grad_thread():
        with pg.no_grad():
            entered.set()
            leave.wait(30)
            inside.append(pg.is_grad_enabled())

    t = threading.Thread(target=no_grad_thread)
    t.start()
    entered.wait(30)
    try:
        # another thread's no_grad block is open: this thread still records
        x = pg.ones(2, requires_grad=True)
        assert pg.is_grad_enabled() and (x * 2).requires_grad
        seen = run_threads(lambda i: (pg.is_grad_enabled(), (x * 2).requires_grad))
        assert seen == [(True, True)] * THREADS
    finally:
        leave.set()
        t.join(30)
    assert inside == [False]


def test_a_new_thread_starts_with_grad_on_and_inference_off():
    with pg.no_grad(), pg.inference_mode():
        seen = run_threads(lambda i: (pg.is_grad_enabled(), pg.is_inference_mode_enabled()), 2)
    assert seen == [(True, False)] * 2


def test_a_backward_in_one_thread_does_not_switch_grad_mode_in_another():
    # the engine turns grad mode off while it runs (unless create_graph): per thread only
    x = pg.ones(200, requires_grad=True)

    def work(i):
        recorded = 0
        for _ in range(50):
            if i % 2:
                y = x
                for _ in range(20):
                    y = y * 1.0
                y.sum().backward()
            else:
                recorded += (x * 2).requires_grad and pg.is_grad_enabled()
        return recorded
    results = run_threads(work)
    assert results[0::2] == [50] * (THREADS // 2)


FIRST_USE = textwrap.dedent("""
    import sys, threading
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    import plugrad as pg
    from plugrad import backends
    barrier, seen = threading.Barrier(8), []
    def work():
        barrier.wait()
        x = pg.ones(2, requires_grad=True)  # the first use of any backend, in 8 threads
        (x * 2).sum().backward()
        seen.append((x.backend, backends._registry))
    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    print(len(seen), len({id(b) for b, _ in seen}), len({id(r) for _, r in seen}),
          seen[0][0] is backends.get("numpy"))
""")


def test_the_plugin_registry_loads_once_under_concurrent_first_use():
    # a fresh interpreter each time: the registry is made once per process. Before the
    # registry was created under a lock, 8 threads made up to 8 registries and 8 distinct
    # 'numpy' backend objects, whose tensors then could not be mixed.
    procs = [subprocess.Popen([sys.executable, "-c", FIRST_USE], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert out.split() == ["8", "1", "1", "True"], out
