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
