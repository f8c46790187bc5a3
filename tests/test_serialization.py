"""plugrad.serialization: plugrad.save and plugrad.load, checkpoints as .npz files."""
from __future__ import annotations

import doctest
import io
import os
from collections import OrderedDict

import numpy as np
import plugrad as pg
import plugrad.serialization
import pytest
from helpers import as_numpy
from plugrad import nn


class Scaled(nn.Module):
    """A parameter, an int64 buffer and a buffer left out of the state dict, around a layer."""

    def __init__(self):
        super().__init__()
        self.first = nn.Linear(3, 4)
        self.scale = nn.Parameter(pg.tensor(2.0))
        self.register_buffer("steps", pg.tensor(0))
        self.register_buffer("scratch", pg.zeros(2), persistent=False)
        self.second = nn.Linear(4, 2)

    def forward(self, x):
        return self.second(self.first(x).relu() * self.scale)


def _values(module) -> dict:
    return {k: as_numpy(v).copy() for k, v in module.state_dict().items()}


def test_save_and_load_are_the_serialization_module_functions():
    assert pg.save is plugrad.serialization.save and pg.load is plugrad.serialization.load


def test_save_load_round_trip(tmp_path):
    pg.manual_seed(0)
    model = Scaled()
    path = tmp_path / "model.pt"
    pg.save(model.state_dict(), path)
    assert os.listdir(tmp_path) == ["model.pt"]  # written as named, no suffix added
    loaded = pg.load(path)
    assert isinstance(loaded, OrderedDict) and list(loaded) == list(model.state_dict())
    assert loaded["steps"].dtype is pg.int64 and loaded["scale"].dtype is pg.float32
    fresh = Scaled()
    fresh.load_state_dict(loaded)
    x = pg.randn(4, 3)
    assert fresh(x).tolist() == model(x).tolist()
    # a plain .npz: NumPy reads it, names as in the state dict
    with np.load(path) as archive:
        np.testing.assert_array_equal(archive["first.weight"], as_numpy(model.first.weight))


def test_save_load_nested_objects_and_file_objects():
    w = pg.tensor([1.0, 2.0], requires_grad=True)
    obj = {"epoch": 3, "lr": 0.5, "name": "run", "none": None, "pair": (1, pg.tensor([7])),
           "tensors": [w, pg.zeros(2, 2, dtype=pg.float64)], 4: True}
    buffer = io.BytesIO()
    pg.save(obj, buffer)
    buffer.seek(0)
    back = pg.load(buffer)
    assert back["epoch"] == 3 and back["lr"] == 0.5 and back["name"] == "run"
    assert back["none"] is None and back[4] is True
    assert isinstance(back["pair"], tuple) and back["pair"][1].tolist() == [7]
    assert back["tensors"][0].requires_grad and back["tensors"][0].tolist() == [1.0, 2.0]
    assert back["tensors"][1].dtype is pg.float64


def test_load_onto_a_backend_named_by_map_location(tmp_path):
    path = tmp_path / "w.npz"
    pg.save({"w": pg.ones(2)}, path)
    assert pg.load(path, map_location="numpy")["w"].backend is pg.backends.get("numpy")
    assert pg.load(path, backend="numpy")["w"].tolist() == [1.0, 1.0]


def test_load_plain_npz_from_numpy(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, a=np.arange(3), b=np.ones((2, 2), np.float32))
    loaded = pg.load(path)
    assert loaded["a"].tolist() == [0, 1, 2] and loaded["b"].dtype is pg.float32


@pytest.mark.parametrize("content", [b"not a checkpoint at all", b"", b"PK\x03\x04broken"])
def test_bad_checkpoint_is_rejected_and_the_model_is_unchanged(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    model = nn.Linear(2, 2)
    before = _values(model)
    with pytest.raises(RuntimeError, match="plugrad.load: .*bad.npz"):
        model.load_state_dict(pg.load(path))
    for k, v in _values(model).items():
        np.testing.assert_array_equal(v, before[k])


def test_truncated_and_pickled_checkpoints_are_rejected(tmp_path):
    good = tmp_path / "good.npz"
    pg.save(nn.Linear(4, 4).state_dict(), good)
    cut = tmp_path / "cut.npz"
    cut.write_bytes(good.read_bytes()[:200])
    with pytest.raises(RuntimeError, match="not a readable .npz"):
        pg.load(cut)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, a=np.array([object()], dtype=object))
    with pytest.raises(RuntimeError, match="cannot be loaded safely"):
        pg.load(pickled)
    with pytest.raises(FileNotFoundError):
        pg.load(tmp_path / "missing.npz")


def test_saving_an_unsupported_object_leaves_the_file_alone(tmp_path):
    path = tmp_path / "keep.npz"
    pg.save({"w": pg.ones(2)}, path)
    with pytest.raises(TypeError, match="cannot save a object"):
        pg.save({"w": object()}, path)
    assert pg.load(path)["w"].tolist() == [1.0, 1.0]
    assert os.listdir(tmp_path) == ["keep.npz"]


def test_docstring_examples():
    result = doctest.testmod(plugrad.serialization, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


# -- torch.load's arguments, more kinds of values, optimizer state, hostile files ------------
def test_sizes_dtypes_devices_and_nesting_round_trip():
    obj = {"shape": pg.Size([2, 3]), "dtype": pg.float64, "where": pg.device("cpu"),
           "nested": OrderedDict([("a", [(1, None), {"b": pg.Size([])}])]), 2.5: "float key"}
    buffer = io.BytesIO()
    pg.save(obj, buffer)
    buffer.seek(0)
    back = pg.load(buffer, weights_only=True)
    assert type(back["shape"]) is pg.Size and back["shape"] == (2, 3)
    assert back["dtype"] is pg.float64 and back["where"] == pg.device("cpu")
    assert back["nested"] == obj["nested"] and type(back["nested"]) is OrderedDict
    assert back[2.5] == "float key"


@pytest.mark.parametrize("make", [
    lambda ps: pg.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
    lambda ps: pg.optim.Adam(ps, lr=0.01, betas=(0.8, 0.99), amsgrad=True),
    lambda ps: pg.optim.AdamW(ps, lr=0.01),
])
def test_optimizer_state_dicts_round_trip(tmp_path, make):
    pg.manual_seed(0)
    model = nn.Linear(3, 2)
    opt = make(model.parameters())
    x = pg.randn(5, 3)
    for _ in range(3):
        opt.zero_grad()
        model(x).pow(2).sum().backward()
        opt.step()
    path = tmp_path / "opt.pt"
    pg.save({"model": model.state_dict(), "opt": opt.state_dict()}, path)
    back = pg.load(path)
    assert back["opt"]["param_groups"] == opt.state_dict()["param_groups"]
    twin = nn.Linear(3, 2)
    twin.load_state_dict(back["model"])
    twin_opt = make(twin.parameters())
    twin_opt.load_state_dict(back["opt"])
    for m, o in ((model, opt), (twin, twin_opt)):
        o.zero_grad()
        m(x).pow(2).sum().backward()
        o.step()
    for a, b in zip(model.parameters(), twin.parameters()):
        np.testing.assert_array_equal(as_numpy(a), as_numpy(b))


def test_weights_only_is_every_load_and_pickle_modules_are_refused(tmp_path):
    path = tmp_path / "w.pt"
    pg.save({"w": pg.ones(2)}, path)
    for flag in (None, True, False):
        assert pg.load(path, weights_only=flag)["w"].tolist() == [1.0, 1.0]
    import pickle
    with pytest.raises(TypeError, match="never unpickles"):
        pg.load(path, pickle_module=pickle)
    with pytest.raises(TypeError, match="map_location"):
        pg.load(path, map_location=lambda storage, loc: storage)


def test_map_location_forms(tmp_path):
    path = tmp_path / "w.pt"
    pg.save({"w": pg.ones(2)}, path)
    numpy = pg.backends.get("numpy")
    for where in ("cpu", pg.device("cpu"), "numpy", numpy, {"cuda": "cpu"}, {"numpy": "numpy"},
                  {"cpu": pg.device("cpu")}):
        assert pg.load(path, map_location=where)["w"].backend is numpy


def test_map_location_between_backends(tmp_path):
    pytest.importorskip("dask")
    path = tmp_path / "w.pt"
    pg.save({"w": pg.ones(2)}, path)
    numpy, dask = pg.backends.get("numpy"), pg.backends.get("dask")
    assert pg.load(path, map_location={"numpy": "dask"})["w"].backend is dask
    pg.save({"w": pg.ones(2, backend="dask")}, path)
    assert pg.load(path)["w"].backend is dask  # back on the backend it was saved from
    assert pg.load(path, map_location="cpu")["w"].backend is dask  # as .to("cpu") keeps it
    assert pg.load(path, map_location="numpy")["w"].backend is numpy


def _npz_with_manifest(path, root, **arrays):
    import json
    meta = {"format": plugrad.serialization.FORMAT, "version": plugrad.serialization.VERSION,
            "root": root}
    np.savez(path, __plugrad__=np.array(json.dumps(meta)), **arrays)


@pytest.mark.parametrize("root", [
    {"dict": [[1]]},                          # a pair that is not a pair
    {"dict": [[[1, 2], {"value": 1}]]},       # an unhashable key
    {"list": 5},                              # not a list
    {"value": [1, 2]},                        # a value that is no plain value
    {"tensor": "missing"},                    # no such array
    {"tensor": "__plugrad__"},                # the manifest itself, a string array
    {"tensor": "a", "dtype": "complex128"},   # a dtype plugrad lacks
    {"size": ["x"]},
    {"dtype_value": "uint128"},
    {"device_value": 3},
    {"whatever": 1},
    "not a node",
])
def test_hostile_manifests_are_refused(tmp_path, root):
    path = tmp_path / "hostile.npz"
    _npz_with_manifest(path, root, a=np.ones(2))
    with pytest.raises(RuntimeError, match="plugrad.load"):
        pg.load(path)


def test_deep_and_broken_json_is_refused(tmp_path):
    path = tmp_path / "deep.npz"
    import json
    import sys
    text = json.dumps({"format": plugrad.serialization.FORMAT, "version": 1, "root": None})
    text = text.replace("null", '{"list": [' * 50000 + "]}" * 50000)
    np.savez(path, __plugrad__=np.array(text))
    with pytest.raises(RuntimeError, match="damaged"):
        pg.load(path)
    assert sys.getrecursionlimit() < 50000
    np.savez(path, __plugrad__=np.array("{not json"))
    with pytest.raises(RuntimeError, match="damaged"):
        pg.load(path)
    np.savez(path, __plugrad__=np.array('{"format": "plugrad-checkpoint", "version": 99}'))
    with pytest.raises(RuntimeError, match="version 99"):
        pg.load(path)


def test_a_zip_with_pickled_entries_runs_nothing(tmp_path):
    import pickle
    import zipfile

    class Boom:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    path = tmp_path / "torch_style.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps(Boom()))
        z.writestr("a.npy", b"\x80" + pickle.dumps(Boom()))
    with pytest.raises(RuntimeError, match="plugrad.load"):
        pg.load(path)
    obj_path = tmp_path / "objects.npz"
    np.savez(obj_path, a=np.array([Boom()], dtype=object))
    with pytest.raises(RuntimeError, match="cannot be loaded safely"):
        pg.load(obj_path)
    assert not (tmp_path / "pwned").exists()


def test_a_truncated_file_object_is_refused(tmp_path):
    buffer = io.BytesIO()
    pg.save({"w": pg.ones(100)}, buffer)
    data = buffer.getvalue()
    for cut in (10, len(data) // 2, len(data) - 5):
        with pytest.raises(RuntimeError, match="plugrad.load"):
            pg.load(io.BytesIO(data[:cut]))
