"""Programs written for torch, run unchanged under torch and under plugrad, and compared.

Each program is a function of a module `torch`, written as torch's beginner
tutorials write it, and called once with torch and once with `plugrad`. The
initial weights and the data are fixed NumPy values given to both, so the
two runs do the same arithmetic and must agree to rounding.
"""
from __future__ import annotations

import math
import random

import numpy as np
import plugrad
import pytest

torch_module = pytest.importorskip("torch")


# (a) a polynomial fit of sin(x) with a custom autograd Function and manual SGD under no_grad
def polynomial_fit(torch, steps=300):
    class LegendrePolynomial3(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):  # noqa: A002 - the tutorial's name
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors  # noqa: A001
            return grad_output * 1.5 * (5 * input ** 2 - 1)

    dtype = torch.float
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = torch.sin(x)
    a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
    b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
    c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
    d = torch.full((), 0.3, dtype=dtype, requires_grad=True)
    learning_rate = 5e-6
    losses = []
    for _ in range(steps):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    return losses, [a.item(), b.item(), c.item(), d.item()]


# (b) an nn.Module whose forward reuses a hidden layer a random number of times
def dynamic_net(torch, init, steps=60):
    class DynamicNet(torch.nn.Module):
        def __init__(self, D_in, H, D_out):  # noqa: N803 - the tutorial's names
            super().__init__()
            self.input_linear = torch.nn.Linear(D_in, H)
            self.middle_linear = torch.nn.Linear(H, H)
            self.output_linear = torch.nn.Linear(H, D_out)
            self.rng = random.Random(0)  # the same draws under both libraries

        def forward(self, x):
            h_relu = self.input_linear(x).clamp(min=0)
            for _ in range(self.rng.randint(0, 3)):
                h_relu = self.middle_linear(h_relu).clamp(min=0)
            return self.output_linear(h_relu)

    D_in, H, D_out = 10, 20, 3  # noqa: N806
    x = torch.tensor(init["x"], dtype=torch.float32)
    y = torch.tensor(init["y"], dtype=torch.float32)
    model = DynamicNet(D_in, H, D_out)
    model.load_state_dict({k: torch.tensor(v, dtype=torch.float32)
                           for k, v in init["weights"].items()})
    criterion = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    losses = []
    for _ in range(steps):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses, model.output_linear.weight.detach().numpy().copy()


# (c) a tiny training loop on a device chosen the torch way: random data, MSE, Adam
def training_loop(torch, init, epochs=80):
    device = torch.accelerator.current_accelerator().type \
        if torch.accelerator.is_available() else "cpu"
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    model.load_state_dict({k: torch.tensor(v, dtype=torch.float32)
                           for k, v in init["weights"].items()})
    model = model.to(device)
    inputs = torch.tensor(init["x"], dtype=torch.float32).to(device)
    targets = torch.tensor(init["y"], dtype=torch.float32, device=device)
    loss_fn = torch.nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        final = model(inputs).sum().cpu().item()
    return losses, final


def _weights(shapes: dict, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {k: rng.uniform(-0.4, 0.4, size=s) for k, s in shapes.items()}


def test_polynomial_fit_with_a_custom_function():
    want_losses, want_coefs = polynomial_fit(torch_module)
    losses, coefs = polynomial_fit(plugrad)
    np.testing.assert_allclose(losses, want_losses, rtol=1e-4)
    np.testing.assert_allclose(coefs, want_coefs, rtol=1e-4, atol=1e-6)
    assert losses[-1] < losses[0] / 2  # it learns


def test_module_with_python_control_flow_trained_with_sgd():
    rng = np.random.default_rng(1)
    init = {"x": rng.standard_normal((16, 10)), "y": rng.standard_normal((16, 3)),
            "weights": _weights({"input_linear.weight": (20, 10), "input_linear.bias": (20,),
                                 "middle_linear.weight": (20, 20), "middle_linear.bias": (20,),
                                 "output_linear.weight": (3, 20), "output_linear.bias": (3,)},
                                2)}
    want_losses, want_w = dynamic_net(torch_module, init)
    losses, w = dynamic_net(plugrad, init)
    np.testing.assert_allclose(losses, want_losses, rtol=1e-4)
    np.testing.assert_allclose(w, want_w, rtol=1e-4, atol=1e-6)
    assert losses[-1] < losses[0]


def test_training_loop_with_mse_and_adam():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((32, 4))
    init = {"x": x, "y": np.sin(x.sum(1, keepdims=True)),
            "weights": _weights({"0.weight": (16, 4), "0.bias": (16,), "2.weight": (1, 16),
                                 "2.bias": (1,)}, 4)}
    want_losses, want_final = training_loop(torch_module, init)
    losses, final = training_loop(plugrad, init)
    np.testing.assert_allclose(losses, want_losses, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(final, want_final, rtol=1e-4, atol=1e-5)
    assert losses[-1] < losses[0] / 2


# (d) a small CNN trained with a DataLoader (in order: torch's shuffled order cannot be
# reproduced), SGD with momentum, a StepLR schedule, checkpointed with torch.save and loaded
# into a fresh model that must score the same
def cnn_with_dataloader(torch, init, path, epochs=3):
    nn = torch.nn  # `from torch import nn` would import the real torch in both runs
    DataLoader, TensorDataset = torch.utils.data.DataLoader, torch.utils.data.TensorDataset

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
            self.conv2 = nn.Conv2d(4, 8, 3)
            self.pool = nn.MaxPool2d(2)
            self.fc = nn.Linear(8, 3)

        def forward(self, x):
            x = self.pool(torch.relu(self.conv1(x)))
            x = self.pool(torch.relu(self.conv2(x)))
            return self.fc(torch.flatten(x, 1))

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = Net().to(device)
    model.load_state_dict({k: torch.tensor(v, dtype=torch.float32)
                           for k, v in init["weights"].items()})
    data = TensorDataset(torch.tensor(init["x"], dtype=torch.float32),
                         torch.tensor(init["y"], dtype=torch.int64))
    loader = DataLoader(data, batch_size=8, shuffle=False)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(epochs):
        model.train()
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "epoch": epochs}, path)
    fresh = Net()
    checkpoint = torch.load(path, weights_only=True)
    fresh.load_state_dict(checkpoint["model"])
    fresh.eval()
    with torch.no_grad():
        logits = fresh(torch.tensor(init["x"], dtype=torch.float32))
        accuracy = (logits.argmax(1) == torch.tensor(init["y"])).float().mean().item()
    return losses, accuracy, checkpoint["epoch"], scheduler.get_last_lr()


def test_cnn_with_a_dataloader_a_scheduler_and_a_checkpoint(tmp_path):
    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, size=40)
    x = rng.standard_normal((40, 1, 8, 8)) * 0.5
    x[np.arange(40), 0, y * 2, y * 2] += 3.0  # a bright pixel per class: learnable
    init = {"x": x, "y": y,
            "weights": _weights({"conv1.weight": (4, 1, 3, 3), "conv1.bias": (4,),
                                 "conv2.weight": (8, 4, 3, 3), "conv2.bias": (8,),
                                 "fc.weight": (3, 8), "fc.bias": (3,)}, 6)}
    want = cnn_with_dataloader(torch_module, init, tmp_path / "torch.pt")
    got = cnn_with_dataloader(plugrad, init, tmp_path / "plugrad.pt")
    np.testing.assert_allclose(got[0], want[0], rtol=1e-4, atol=1e-6)
    assert got[1] == pytest.approx(want[1]) and got[2] == want[2]
    assert got[3] == pytest.approx(want[3])
    assert got[0][-1] < got[0][0]
