"""Devices (core/device.py, and their mapping onto backends): torch's names and answers."""
from __future__ import annotations

import pickle

import numpy as np
import plugrad as pg
import pytest
from plugrad.backend import BackendSpec, BackendUnavailable


@pytest.mark.parametrize("text", ["cpu", "cuda", "cuda:1", "xpu", "mps:0"])
def test_device_parses_and_prints_as_torch(text):
    torch = pytest.importorskip("torch")
    ours, theirs = pg.device(text), torch.device(text)
    assert (repr(ours), str(ours), ours.type, ours.index) == \
        (repr(theirs), str(theirs), theirs.type, theirs.index)


def test_device_with_an_index_and_equality():
    assert pg.device("cuda", 1) == pg.device("cuda:1")
    assert pg.device(pg.device("cuda:2")) == pg.device("cuda", 2)
    assert pg.device("cpu") != pg.device("cuda")
    assert pg.device("cpu") != "cpu"  # torch: a device never equals a str
    assert len({pg.device("cuda:0"), pg.device("cuda", 0)}) == 1
    assert pickle.loads(pickle.dumps(pg.device("cuda:3"))) == pg.device("cuda:3")


@pytest.mark.parametrize("args, error, message", [
    (("cuda:x",), RuntimeError, "Invalid device string: 'cuda:x'"),
    (("1cuda",), RuntimeError, "Invalid device string"),
    (("cuda", -1), RuntimeError, "Device index must not be negative"),
    (("cuda:1", 1), RuntimeError, "must not include an index"),
    ((3,), TypeError, "expected a str"),
])
def test_bad_devices_raise_torchs_errors(args, error, message):
    with pytest.raises(error, match=message):
        pg.device(*args)


def test_cpu_tensors_and_the_default_device():
    x = pg.zeros(2, device="cpu")
    assert x.device == pg.device("cpu") and x.backend is pg.backends.default()
    assert pg.get_default_device() == pg.device("cpu")
    assert pg.ones(2, device=pg.device("cpu")).device.type == "cpu"
    for make in (lambda: pg.tensor([1.0], device="cpu"), lambda: pg.arange(3, device="cpu"),
                 lambda: pg.rand(2, device="cpu"), lambda: pg.full((2,), 3.0, device="cpu"),
                 lambda: pg.zeros_like(x, device="cpu"), lambda: pg.eye(2, device="cpu"),
                 lambda: pg.as_tensor([1, 2], device="cpu")):
        assert make().device == pg.device("cpu")


def test_to_cpu_keeps_a_cpu_tensor_and_moves_are_differentiable():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    assert x.cpu() is x and x.to("cpu") is x and x.to(pg.device("cpu")) is x
    assert x.to(device="cpu") is x
    on_dask = x.to("dask")
    assert on_dask.device == pg.device("cpu")  # Dask arrays live on the CPU too
    assert on_dask.cpu() is on_dask
    (on_dask.to("numpy") * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    y = x.to(device="cpu", dtype=pg.float64)
    assert y.dtype is pg.float64 and y.backend is x.backend


def test_a_module_moves_to_a_device():
    model = pg.nn.Linear(2, 1).to("cpu")
    assert model.weight.device == pg.device("cpu")
    model.to(device=pg.device("cpu"), dtype=pg.float64)
    assert model.weight.dtype is pg.float64


def test_cuda_without_a_gpu_says_why():
    if pg.cuda.is_available():
        pytest.skip("a CUDA device is available here")
    assert pg.cuda.device_count() == 0
    assert not pg.accelerator.is_available() or pg.accelerator.current_accelerator().type != \
        "cuda"
    for attempt in (lambda: pg.zeros(2, device="cuda"), lambda: pg.ones(1).cuda(),
                    lambda: pg.ones(1).to("cuda:0")):
        with pytest.raises(RuntimeError, match="cuda.*not available here.*cupy"):
            attempt()


def test_an_unknown_device_type_or_backend_name():
    with pytest.raises(BackendUnavailable, match="no backend serves device type 'npu'"):
        pg.zeros(2, device="npu")
    with pytest.raises(BackendUnavailable, match="unknown backend 'nummpy-'"):
        pg.zeros(2, backend="nummpy-")
    with pytest.raises(RuntimeError, match="holds cpu arrays, not 'cuda'"):
        pg.zeros(2, backend="numpy", device="cuda")


def test_a_plugin_backend_can_claim_a_device_type(monkeypatch):
    # a backend registered for the device type "xpu" (the NumPy backend under another name)
    from plugrad.backends import registry as reg_module
    from plugrad.backends.builtin import make_numpy
    registry = pg.backends._get_registry()
    registry._start()
    info = reg_module.BackendInfo("fake_xpu", "tests", spec=BackendSpec(
        "fake_xpu", make_numpy, "NumPy standing in for an XPU", device_type="xpu"))
    monkeypatch.setitem(registry.infos, "fake_xpu", info)
    try:
        x = pg.ones(3, device="xpu")
        assert x.backend.name == "fake_xpu" and x.device == pg.device("xpu", 0)
        assert np.array_equal(x.cpu().numpy(), np.ones(3))
        assert x.cpu().backend.name == "numpy"
        assert pg.accelerator.current_accelerator() == pg.device("xpu")
    finally:
        pg.backends._instances.pop("fake_xpu", None)


def test_set_default_device():
    before = pg.backends.default()
    try:
        pg.set_default_device("cpu")
        assert pg.get_default_device() == pg.device("cpu")
        assert pg.zeros(1).backend.device_type == "cpu"
    finally:
        pg.set_default_backend(before)


def test_a_torch_program_choosing_its_device_the_torch_way():
    torch = pytest.importorskip("torch")

    def program(lib):
        device = lib.accelerator.current_accelerator() if lib.accelerator.is_available() \
            else lib.device("cpu")
        lib.manual_seed(0)
        x = lib.linspace(-1, 1, 50, device=device, dtype=lib.float64)
        w = lib.zeros(3, device=device, dtype=lib.float64, requires_grad=True)
        for _ in range(200):
            y = w[0] + w[1] * x + w[2] * x ** 2
            loss = ((y - (1 + 2 * x - x ** 2)) ** 2).mean()
            loss.backward()
            with lib.no_grad():
                w -= 0.5 * w.grad
                w.grad = None
        return str(w.device), w.detach().cpu().numpy()

    ours, theirs = program(pg), program(torch)
    assert ours[0] == theirs[0] == "cpu"
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-10)
