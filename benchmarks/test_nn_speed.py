"""Speed of one training step of `plugrad demo`'s MLP, against the same step by hand in NumPy.

The step: a batch of 64 digit-sized inputs (64 features) through the demo's
64-256-256-10 MLP (ReLU between), cross-entropy loss, backward, and an SGD
update with momentum, at the demo's learning rate and momentum. Three versions:

* ``numpy``: forward, backward and update written by hand, in place, with no
  graph (the floor);
* ``plugrad``: plugrad.nn + plugrad.optim, as the demo runs it;
* ``torch``: the same code on torch.nn + torch.optim (when torch imports).

All start from the same float32 weights and data. Before timing, each
framework's weights after three steps are checked against the floor's; the
floor's gradient is checked in float64 against a finite difference. Goal:
plugrad at most 1.15x the floor.

    python -m pytest benchmarks/test_nn_speed.py --benchmark-only   # side by side
    python benchmarks/test_nn_speed.py [--rounds 15] [--threads 1] [--cpu-time]  # the ratio

Under a plain `python -m pytest` the body runs once, checked (see conftest.py).
"""
from __future__ import annotations

import argparse
import gc
import math
import statistics
import sys
import time

import bench_workloads as bw
import numpy as np
import plugrad.nn  # noqa: F401 - `import plugrad` alone does not load plugrad.nn
import plugrad.optim  # noqa: F401
import pytest
from plugrad.demo import BATCH, HIDDEN, LR, MOMENTUM

SIZES = (64, HIDDEN, HIDDEN, 10)
GROUP = f"demo MLP training step: {BATCH}x{SIZES[0]} -> {HIDDEN} -> {HIDDEN} -> 10, SGD momentum"
GOAL = 1.15
CHECK_STEPS = 3


def make_inputs(seed: int = bw.SEED) -> dict:
    """Inputs in [0, 1) like the demo's pixels, labels 0-9, weights as nn.Linear draws them."""
    rng = np.random.default_rng(seed)
    inp = {"x": rng.random((BATCH, SIZES[0]), dtype=np.float32),
           "y": rng.integers(0, SIZES[-1], BATCH).astype(np.int64)}
    for i, (fan_in, fan_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        bound = 1 / math.sqrt(fan_in)
        inp[f"{2 * i}.weight"] = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
        inp[f"{2 * i}.bias"] = rng.uniform(-bound, bound, fan_out).astype(np.float32)
    return inp


def _param_names() -> list[str]:
    return [f"{2 * i}.{kind}" for i in range(len(SIZES) - 1) for kind in ("weight", "bias")]


# -- the floor ------------------------------------------------------------------------------------
def floor_loss_and_grads(x, y, params):
    """Cross-entropy of the MLP and its gradients, by hand; params = [W1, b1, W2, b2, ...]."""
    rows = np.arange(len(y))
    layers = len(params) // 2
    inputs, pre = [], []
    h = x
    for i in range(layers):
        w, b = params[2 * i], params[2 * i + 1]
        inputs.append(h)
        z = h @ w.T + b
        if i < layers - 1:
            pre.append(z)
            h = np.maximum(z, 0)
        else:
            h = z
    shifted = h - h.max(1, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(1, keepdims=True)
    loss = (np.log(total[:, 0]) - shifted[rows, y]).mean()
    g = e / total                       # d loss / d logits = (softmax - onehot) / N
    g[rows, y] -= 1
    g /= len(y)
    grads = [None] * len(params)
    for i in range(layers - 1, -1, -1):
        grads[2 * i] = g.T @ inputs[i]
        grads[2 * i + 1] = g.sum(0)
        if i:
            g = (g @ params[2 * i]) * (pre[i - 1] > 0)
    return loss, grads


class FloorStep:
    """One training step in NumPy, updating its own copies of the weights in place."""

    def __init__(self, inp: dict) -> None:
        self.x, self.y = inp["x"], inp["y"]
        self.params = [inp[n].copy() for n in _param_names()]
        self.buffers = [None] * len(self.params)

    def __call__(self):
        loss, grads = floor_loss_and_grads(self.x, self.y, self.params)
        for i, (p, g) in enumerate(zip(self.params, grads)):
            buf = self.buffers[i]
            if buf is None:                # torch's first momentum step: buf = g
                buf = self.buffers[i] = g.copy()
            else:
                buf *= MOMENTUM
                buf += g
            p -= LR * buf
        return loss

    def weights(self) -> list:
        return self.params


class AutogradStep:
    """The same step with lib.nn and lib.optim (lib = plugrad or torch), as the demo writes it."""

    def __init__(self, lib, inp: dict) -> None:
        nn = lib.nn
        layers = []
        for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
            layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        self.model = nn.Sequential(*layers[:-1])
        self.model.load_state_dict({n: lib.tensor(inp[n]) for n in _param_names()})
        self.optimizer = lib.optim.SGD(self.model.parameters(), lr=LR, momentum=MOMENTUM)
        self.cross_entropy = nn.functional.cross_entropy
        self.x, self.y = lib.tensor(inp["x"]), lib.tensor(inp["y"])

    def __call__(self):
        loss = self.cross_entropy(self.model(self.x), self.y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss

    def weights(self) -> list:
        return [np.asarray(p.detach().numpy()) for p in self.model.parameters()]


def build(framework: str, inp: dict):
    if framework == "numpy":
        return FloorStep(inp)
    lib = bw.library(framework)
    if lib is None:
        raise RuntimeError(f"{framework} is not importable here")
    backend = bw.split_framework(framework)[1]
    if backend is not None:  # plugrad-NAME: the model and data are made on backend NAME
        with lib.backends.default_backend(backend):
            return AutogradStep(lib, inp)
    return AutogradStep(lib, inp)


# -- correctness ----------------------------------------------------------------------------------
def check_floor(inp: dict, seed: int = 1) -> None:
    """In float64, <gradient, v> of the floor must match a finite difference along v."""
    rng = np.random.default_rng(seed)
    x = inp["x"].astype(np.float64)
    params = [inp[n].astype(np.float64) for n in _param_names()]
    _, grads = floor_loss_and_grads(x, inp["y"], params)
    directions = [rng.standard_normal(p.shape) for p in params]
    analytic = sum(float(np.sum(g * d)) for g, d in zip(grads, directions))
    # a step of length ~1e-6 overall, so that hardly any ReLU changes side
    eps = 1e-6 / math.sqrt(sum(d.size for d in directions))

    def loss_at(sign):
        moved = [p + sign * eps * d for p, d in zip(params, directions)]
        return float(floor_loss_and_grads(x, inp["y"], moved)[0])

    numeric = (loss_at(1) - loss_at(-1)) / (2 * eps)
    assert math.isclose(analytic, numeric, rel_tol=1e-5, abs_tol=1e-8), (analytic, numeric)


def check_against_floor(framework: str, inp: dict) -> None:
    """After CHECK_STEPS steps from the same start, the weights must match the floor's."""
    floor, other = FloorStep(inp), build(framework, inp)
    for _ in range(CHECK_STEPS):
        floor()
        other()
    for name, got, want in zip(_param_names(), other.weights(), floor.weights()):
        assert got.dtype == np.float32, f"{framework}: {name} is {got.dtype}"
        scale = float(np.max(np.abs(want)))
        np.testing.assert_allclose(got, want, rtol=bw.RTOL, atol=bw.ATOL_OF_MAX * scale,
                                   err_msg=f"{framework}: {name} after {CHECK_STEPS} steps")


# -- the benchmark --------------------------------------------------------------------------------
@pytest.mark.benchmark(group=GROUP)
def test_demo_mlp_training_step(benchmark, framework):
    inp = make_inputs()
    if framework == "numpy":
        check_floor(inp)
    else:
        check_against_floor(framework, inp)
    step = build(framework, inp)
    step()  # the first step creates the momentum buffers; time the steady state
    bw.describe(benchmark, "demo-mlp", framework)
    gc.collect()
    if benchmark.enabled:
        time.sleep(bw.PAUSE_S)  # let the previous framework's BLAS/OpenMP threads go idle
    loss = benchmark(step)
    assert math.isfinite(float(loss.detach() if hasattr(loss, "detach") else loss))


# -- one-process comparison: python benchmarks/test_nn_speed.py ----------------------------------
def _per_call(step, inner: int, clock=time.perf_counter) -> float:
    start = clock()
    for _ in range(inner):
        step()
    return (clock() - start) / inner


def compare(frameworks: list[str], rounds: int, pause: float,
            clock=time.perf_counter) -> dict:
    """Median seconds per step of each framework and median per-round ratios to numpy."""
    inp = make_inputs()
    check_floor(inp)
    steps, inner = {}, {}
    for fw in frameworks:
        if fw != "numpy":
            check_against_floor(fw, inp)
        steps[fw] = build(fw, inp)
        steps[fw]()
        once = min(_per_call(steps[fw], 1) for _ in range(5))
        inner[fw] = max(1, min(500, math.ceil(0.025 / max(once, 1e-9))))
    samples: dict = {fw: [] for fw in frameworks}
    for r in range(rounds):
        for fw in frameworks[r % len(frameworks):] + frameworks[:r % len(frameworks)]:
            gc.collect()
            time.sleep(pause)
            samples[fw].append(_per_call(steps[fw], inner[fw], clock))
    result = {"median_s": {fw: statistics.median(s) for fw, s in samples.items()}}
    result["ratio_to_numpy"] = {
        fw: statistics.median(a / b for a, b in zip(samples[fw], samples["numpy"]))
        for fw in frameworks}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--threads", type=int, default=None,
                        help="limit NumPy's BLAS (and torch) to this many threads")
    parser.add_argument("--pause", type=float, default=bw.PAUSE_S)
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with the process's CPU time instead of the wall clock: on "
                             "a machine shared with other jobs, with --threads 1, it leaves out "
                             "the time other processes hold the core")
    args = parser.parse_args(argv)
    if args.threads is not None:  # before torch is imported: it copies NumPy's count
        from threadpoolctl import threadpool_limits
        _limits = threadpool_limits(limits=args.threads, user_api="blas")  # noqa: F841
    frameworks = ["numpy", "plugrad"]
    if not args.no_torch and bw.load_torch() is not None:
        frameworks.append("torch")
    clock = time.process_time if args.cpu_time else time.perf_counter
    result = compare(frameworks, args.rounds, args.pause, clock)
    print(f"{GROUP}; BLAS threads {bw.numpy_blas_threads()}, {args.rounds} rounds, "
          f"{'CPU time' if args.cpu_time else 'wall clock'}\n")
    print("| framework | ms per step | / numpy |")
    print("|---|---:|---:|")
    for fw in frameworks:
        print(f"| {fw} | {result['median_s'][fw] * 1e3:.3f} | "
              f"{result['ratio_to_numpy'][fw]:.2f} |")
    ratio = result["ratio_to_numpy"]["plugrad"]
    verdict = "met" if ratio <= GOAL else "not met"
    print(f"\nplugrad / numpy = {ratio:.2f} (goal <= {GOAL}: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
