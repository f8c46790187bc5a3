"""plugrad.compile against eager plugrad and the hand-written NumPy floor.

W1 (a 300-op tanh chain on 16 floats, forward and backward) and the demo's
training step (its 64-256-256-10 MLP, cross-entropy, SGD with momentum, a
batch of 64): steady-state time per step and time to the first result.

    python benchmarks/compile_step.py [--repeat N]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import plugrad as pg
from plugrad import optim
from plugrad.demo import BATCH, LR, MOMENTUM, build_model
from plugrad.nn import functional as F

W1_STEPS = 300


def w1_floor(x):
    c1, c2 = np.float32(1.0001), np.float32(0.001)
    y, saved = x, []
    for _ in range(W1_STEPS):
        y = np.tanh(y * c1 + c2)
        saved.append(y)
    g = np.ones_like(y)
    for y in reversed(saved):
        g = g * (1 - y * y) * c1
    return g


def w1_plugrad(x):
    x.grad = None
    y = x
    for _ in range(W1_STEPS):
        y = (y * 1.0001 + 0.001).tanh()
    y.sum().backward()
    return x.grad


def demo_floor(params, state, X, onehot):
    """The demo step by hand: forward, cross-entropy, backward, SGD with momentum."""
    W1, b1, W2, b2, W3, b3 = params
    h1p = X @ W1.T + b1
    h1 = np.maximum(h1p, 0)
    h2p = h1 @ W2.T + b2
    h2 = np.maximum(h2p, 0)
    z = h2 @ W3.T + b3
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    p = e / e.sum(1, keepdims=True)
    loss = -(np.log(p) * onehot).sum() / len(X)
    gz = (p - onehot) / len(X)
    gW3, gb3 = gz.T @ h2, gz.sum(0)
    gh2 = (gz @ W3) * (h2p > 0)
    gW2, gb2 = gh2.T @ h1, gh2.sum(0)
    gh1 = (gh2 @ W2) * (h1p > 0)
    gW1, gb1 = gh1.T @ X, gh1.sum(0)
    for w, g, m in zip(params, (gW1, gb1, gW2, gb2, gW3, gb3), state):
        m *= MOMENTUM
        m += g
        w -= LR * m
    return loss


def timed(fn, repeat):
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(repeat):
            fn()
        best = min(best, (time.perf_counter() - t0) / repeat)
    return best, first


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=50)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rows = []

    x16 = rng.standard_normal(16).astype(np.float32)
    rows.append(("W1", "numpy floor", *timed(lambda: w1_floor(x16), args.repeat)))
    xe = pg.tensor(x16, requires_grad=True)
    rows.append(("W1", "plugrad eager", *timed(lambda: w1_plugrad(xe), args.repeat)))
    xc = pg.tensor(x16, requires_grad=True)
    f = pg.compile(w1_plugrad)
    rows.append(("W1", "plugrad.compile", *timed(lambda: f(xc), args.repeat)))
    assert f.stats["replayed"] and not f.stats["eager"], (f.stats, f.breaks)
    np.testing.assert_allclose(f(xc).numpy(), w1_floor(x16), rtol=1e-4)

    X = rng.standard_normal((BATCH, 64)).astype(np.float32)
    Y = rng.integers(0, 10, BATCH)
    onehot = np.eye(10, dtype=np.float32)[Y]
    model = build_model(pg.backends.default())
    params = [p.detach().numpy().copy() for p in model.parameters()]
    state = [np.zeros_like(p) for p in params]
    rows.append(("demo step", "numpy floor",
                 *timed(lambda: demo_floor(params, state, X, onehot), args.repeat)))
    x, y = pg.tensor(X), pg.tensor(Y)
    for name, compiled in (("plugrad eager", False), ("plugrad.compile", True)):
        model = build_model(pg.backends.default())
        opt = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)

        def step(x, y, model=model, opt=opt):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        g = pg.compile(step) if compiled else step
        rows.append(("demo step", name, *timed(lambda g=g: g(x, y), args.repeat)))
        if compiled:
            assert g.stats["replayed"] and not g.stats["eager"], (g.stats, g.breaks)

    floors = {w: t for w, n, t, _ in rows if n == "numpy floor"}
    print(f"{'workload':10} {'run':16} {'per step':>10} {'x floor':>8} {'first call':>11}")
    for w, n, t, first in rows:
        print(f"{w:10} {n:16} {t * 1e6:8.0f}us {t / floors[w]:7.2f}x {first * 1e3:9.1f}ms")


if __name__ == "__main__":
    main()
