"""plugrad.save / plugrad.load: checkpoints as NumPy .npz files.

A checkpoint is a plain .npz archive: every tensor is one array (a model's
state dict keeps its parameter names as the array names, so `numpy.load`
reads it too), plus one JSON entry, "__plugrad__", that records how the saved
object nests (dicts, lists, numbers, tensors with their dtype and
requires_grad, the backend they were saved from), plugrad.Size, dtypes and
devices. Loading never unpickles anything (NumPy reads the arrays with
`allow_pickle=False`), so a checkpoint cannot run code: `load` is always what
torch calls `weights_only=True`, and `weights_only=False` loads the same way.
Tensors are written from the host copy of their data (`backend.to_host`), so
the file does not depend on the backend it was saved from; `load` puts each
tensor back on its backend, or where `map_location` says.

    >>> import plugrad as pg
    >>> from plugrad import nn
    >>> model = nn.Linear(2, 1)
    >>> pg.save(model.state_dict(), "model.npz")          # doctest: +SKIP
    >>> model.load_state_dict(pg.load("model.npz"))       # doctest: +SKIP
"""
from __future__ import annotations

import os
from collections import OrderedDict

from . import creation, dtypes
from .backends import is_backend_name
from .device import device
from .tensor import Size, Tensor

__all__ = ["save", "load"]

META = "__plugrad__"
FORMAT = "plugrad-checkpoint"
VERSION = 1
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")   # a zip file with entries, an empty zip file


# -- saving -------------------------------------------------------------------------------------
def save(obj, f) -> None:
    """Write `obj` (tensors, nested in dicts, lists and tuples, with numbers and strings) to f.

    `f` is a path (written as given, no suffix added) or a binary file object.
    The whole object is converted before the file is opened, so an object that
    cannot be saved leaves an existing file untouched.

    >>> import plugrad as pg
    >>> pg.save({"w": pg.ones(2), "epoch": 3}, "checkpoint.npz")   # doctest: +SKIP
    """
    # lazy: only the file format needs NumPy, json and zipfile; `import plugrad` must not
    # (NumPy is an array library; json and zipfile would add 4 ms to it)
    import json

    import numpy as np

    host: dict = {}
    tree = _encode(obj, [], host)
    arrays = {name: np.asarray(data) for name, data in host.items()}
    arrays[META] = np.array(json.dumps({"format": FORMAT, "version": VERSION, "root": tree}))
    if hasattr(f, "write"):
        np.savez(f, **arrays)
        return
    path = os.fspath(f)
    partial = f"{path}.partial"
    try:
        with open(partial, "wb") as out:
            np.savez(out, **arrays)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def _encode(obj, path: list, arrays: dict):
    if isinstance(obj, Tensor):
        key = _array_name(path, arrays)
        arrays[key] = obj.backend.to_host(obj._array)
        return {"tensor": key, "dtype": obj.dtype.name, "requires_grad": obj.requires_grad,
                "backend": obj.backend.name, "device": obj.backend.device_type}
    if isinstance(obj, Size):
        return {"size": [int(n) for n in obj]}
    if isinstance(obj, dtypes.dtype):
        return {"dtype_value": obj.name}
    if isinstance(obj, device):
        return {"device_value": str(obj)}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int, float, bool)) and k is not None:
                raise TypeError(f"plugrad.save: dict keys must be strings or numbers, got "
                                f"{type(k).__name__}")
            items.append([k, _encode(v, path + [str(k)], arrays)])
        return {"dict": items, "ordered": isinstance(obj, OrderedDict)}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(v, path + [str(i)], arrays) for i, v in enumerate(obj)]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    raise TypeError(f"plugrad.save: cannot save a {type(obj).__name__} (at "
                    f"{'/'.join(path) or 'the top level'}); checkpoints hold tensors, numbers, "
                    f"strings, None, plugrad.Size, dtypes, devices, and dicts, lists and "
                    f"tuples of them")


def _array_name(path: list, arrays: dict) -> str:
    # a flat state dict keeps its keys ("0.weight"); nested values get "state/0/exp_avg"
    name = "/".join(path) or "tensor"
    if name == META or name in arrays:
        n = 1
        while f"{name}#{n}" in arrays:
            n += 1
        name = f"{name}#{n}"
    return name


# -- loading ------------------------------------------------------------------------------------
def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         backend=None):
    """Read what `save` wrote; never unpickles, so it cannot run code from the file.

    Each tensor goes back to the backend it was saved from (the default
    backend if that one is not available here, or for a file that does not
    say). `map_location` (or `backend`) puts them elsewhere: a backend name, a
    device ("cpu", "cuda", `plugrad.device`), a Backend, or a dict from saved
    backend names or device types to those (`{"cuda": "cpu"}`). Any .npz
    archive of numeric arrays also loads, as a dict of tensors. A file that is
    not such an archive, or is damaged, raises RuntimeError naming the problem
    and nothing is returned.

    `weights_only` is accepted for torch's signature: the format holds only
    tensors and plain data, so True, False and None all load the same way.
    `pickle_module` must be None; `mmap` is accepted and ignored.

    >>> import plugrad as pg
    >>> checkpoint = pg.load("checkpoint.npz")                       # doctest: +SKIP
    >>> checkpoint["w"], checkpoint["epoch"]                         # doctest: +SKIP
    (tensor([1., 1.]), 3)
    """
    import json  # lazy, as in save
    import zipfile

    import numpy as np

    del weights_only, mmap  # every load is weights-only (see the docstring)
    if pickle_module is not None:
        raise TypeError("plugrad.load never unpickles: pickle_module must be None")
    place = _placer(backend if backend is not None else map_location)
    where = repr(os.fspath(f)) if not hasattr(f, "read") else "the file"
    _check_magic(f, where)
    try:
        archive = np.load(f, allow_pickle=False)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
        raise RuntimeError(f"plugrad.load: {where} is not a readable .npz checkpoint: "
                           f"{err}") from None
    try:
        with archive:
            if META not in archive.files:
                return {name: _tensor(archive, name, place(None, None), None, False, where)
                        for name in archive.files}
            try:
                meta = json.loads(str(archive[META]))
            except (ValueError, TypeError, RecursionError) as err:
                raise RuntimeError(f"plugrad.load: {where} has a damaged {META} entry: "
                                   f"{err}") from None
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise RuntimeError(f"plugrad.load: {where} is not a plugrad checkpoint "
                                   f"(its {META} entry is not one plugrad wrote)")
            if meta.get("version") != VERSION:
                raise RuntimeError(f"plugrad.load: {where} has checkpoint format version "
                                   f"{meta.get('version')!r}; this plugrad reads version "
                                   f"{VERSION}")
            try:
                return _decode(meta.get("root"), archive, place, where)
            except (TypeError, ValueError, AttributeError, RecursionError) as err:
                raise RuntimeError(f"plugrad.load: {where} has a damaged {META} entry "
                                   f"({type(err).__name__}: {err})") from None
    except (zipfile.BadZipFile, OSError, EOFError, KeyError) as err:
        raise RuntimeError(f"plugrad.load: {where} is damaged: {err!r}") from None


def _placer(target):
    """map_location as a function (saved backend name, saved device type) -> a backend.

    A target moves a tensor as `.to(target)` would from the backend it was saved
    from: a device that backend serves keeps it there.
    """
    if callable(target):
        raise TypeError("plugrad.load: map_location may be a backend, a device or a dict of "
                        "them; a function of storages (torch's form) has nothing to take in "
                        "plugrad")
    if isinstance(target, dict):
        table = {str(k): v for k, v in target.items()}

        def place(name, device_type):
            for key in (name, device_type):
                if key is not None and key in table:
                    return creation.placement(table[key], _saved(name))
            return _saved(name)
        return place
    if target is None:
        return lambda name, device_type: _saved(name)
    return lambda name, device_type: creation.placement(target, _saved(name))


def _saved(name):
    """The backend a tensor was saved from, where it can be used; else the default one."""
    if isinstance(name, str) and is_backend_name(name):
        try:
            return creation.resolve_backend(name)
        except RuntimeError:
            pass
    return creation.resolve_backend(None)


def _check_magic(f, where: str) -> None:
    if hasattr(f, "read"):
        start = f.tell()
        head = f.read(4)
        f.seek(start)
    else:
        with open(f, "rb") as file:
            head = file.read(4)
    if head not in _ZIP_MAGIC:
        raise RuntimeError(f"plugrad.load: {where} is not a plugrad checkpoint: plugrad.save "
                           f"writes .npz (zip) archives and this file is not one")


def _tensor(archive, name: str, bk, dtype_name, requires_grad: bool, where: str) -> Tensor:
    try:
        array = archive[name]
    except ValueError as err:  # an object array, which would need unpickling
        raise RuntimeError(f"plugrad.load: array {name!r} in {where} cannot be loaded "
                           f"safely: {err}") from None
    if not hasattr(array, "dtype"):  # NumPy hands a zip entry that is no .npy over as bytes
        raise RuntimeError(f"plugrad.load: entry {name!r} in {where} is not a NumPy array "
                           f"(.npy); plugrad checkpoints hold nothing else")
    dtype = None
    if dtype_name is not None:
        dtype = dtypes.BY_NAME.get(dtype_name)
        if dtype is None:
            raise RuntimeError(f"plugrad.load: tensor {name!r} in {where} has unknown dtype "
                               f"{dtype_name!r}")
    try:
        t = creation.tensor(array, dtype=dtype, backend=bk)
    except TypeError as err:
        raise RuntimeError(f"plugrad.load: array {name!r} in {where} has a type plugrad does "
                           f"not support ({array.dtype}): {err}") from None
    if requires_grad:
        t.requires_grad_(True)
    return t


def _decode(node, archive, place, where: str):
    if not isinstance(node, dict) or len(node) not in (1, 2, 3, 4, 5):
        raise RuntimeError(f"plugrad.load: {where} has a damaged {META} entry")
    if "tensor" in node:
        bk = place(node.get("backend"), node.get("device"))
        return _tensor(archive, node["tensor"], bk, node.get("dtype"),
                       bool(node.get("requires_grad")), where)
    if "dict" in node:
        pairs = [(_key(k, where), _decode(v, archive, place, where)) for k, v in node["dict"]]
        return OrderedDict(pairs) if node.get("ordered") else dict(pairs)
    if "list" in node:
        return [_decode(v, archive, place, where) for v in node["list"]]
    if "tuple" in node:
        return tuple(_decode(v, archive, place, where) for v in node["tuple"])
    if "size" in node:
        return Size(_value(n, int, where) for n in node["size"])
    if "dtype_value" in node:
        d = dtypes.BY_NAME.get(node["dtype_value"])
        if d is None:
            raise RuntimeError(f"plugrad.load: {where} names an unknown dtype "
                               f"{node['dtype_value']!r}")
        return d
    if "device_value" in node:
        return device(_value(node["device_value"], str, where))
    if "value" in node:
        return _value(node["value"], (type(None), bool, int, float, str), where)
    raise RuntimeError(f"plugrad.load: {where} has a damaged {META} entry")


def _value(v, types, where: str):
    if not isinstance(v, types):
        raise RuntimeError(f"plugrad.load: {where} has a damaged {META} entry (a value of type "
                           f"{type(v).__name__} where it holds none)")
    return v


def _key(k, where: str):
    return _value(k, (type(None), bool, int, float, str), where)
