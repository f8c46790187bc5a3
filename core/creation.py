"""Creating tensors: from data, filled, ranges and random numbers.

Every function takes `dtype=`, `requires_grad=` and `backend=` (a backend name
or object; the default backend when omitted), and `device=` as torch's do (a
device is served by a backend: "cpu" by NumPy, "cuda" by CuPy; plugrad.device).
On a chunked backend (Dask) they also take `chunks=`, the block shape of the
new array (Dask's `"auto"` when omitted); other backends refuse it.
"""
from __future__ import annotations

import numbers
import os

from . import dtypes
from .backend import Backend, UnknownDeviceType
from .backends import default as default_backend
from .backends import for_device, is_backend_name, set_default_backend
from .backends import get as get_backend
from .device import device as as_device
from .random import manual_seed, stream
from .tensor import Tensor, _make

__all__ = ["set_default_device", "get_default_device", "tensor", "as_tensor", "from_numpy",
           "zeros", "ones", "full", "empty", "arange", "linspace", "logspace", "eye", "rand",
           "randn", "randint", "randperm", "zeros_like", "ones_like", "full_like",
           "empty_like", "rand_like", "randn_like", "randint_like", "manual_seed"]


def resolve_backend(backend, device=None):
    """A backend object from None (the default), a name, a backend, or a device.

    A str is a backend's name (a device string goes to `device=`); with both,
    the backend must serve the device. An unknown or unavailable name raises
    BackendUnavailable (a RuntimeError) that lists the backends which are
    available.
    """
    if device is not None:
        if backend is None:
            return for_device(device)
        bk = resolve_backend(backend)
        if bk.device_type != as_device(device).type:
            raise RuntimeError(f"backend {bk.name!r} holds {bk.device_type} arrays, not "
                               f"{str(as_device(device))!r} ones: give backend= or device=, "
                               f"or a pair that agrees")
        return bk
    if backend is None:
        return default_backend()
    if isinstance(backend, str):
        return get_backend(backend)
    if isinstance(backend, as_device):
        return for_device(backend)
    if not isinstance(backend, Backend):
        raise TypeError(f"backend must be a backend name, a device or a plugrad Backend, got "
                        f"{type(backend).__name__}")
    return backend


def placement(target, current):
    """The backend that `.to(target)` puts a tensor of backend `current` on.

    `target` is a backend, a backend name, or a device (or device string): a
    tensor whose backend already serves that device type stays where it is,
    as torch's `x.to("cpu")` returns a CPU tensor itself.
    """
    if isinstance(target, str) and not is_backend_name(target):
        try:
            device = as_device(target)
        except RuntimeError:
            return get_backend(target)  # the unknown-backend error, listing the backends
        if current.device_type == device.type:
            return current
        try:
            return for_device(device)
        except UnknownDeviceType:
            return get_backend(target)  # neither a backend nor a device type anyone serves
    if isinstance(target, as_device):
        return current if current.device_type == target.type else for_device(target)
    return resolve_backend(target)


def set_default_device(device) -> None:
    """Make new tensors go to `device` ("cpu", "cuda", a plugrad.device): its backend
    becomes the default backend (plugrad.set_default_backend)."""
    set_default_backend(for_device(device))


def get_default_device() -> as_device:
    """The device new tensors go to: that of the default backend.

    >>> import plugrad as pg
    >>> pg.get_default_device()
    device(type='cpu')
    """
    kind = default_backend().device_type
    return as_device(kind) if kind == "cpu" else as_device(kind, 0)


def _finish(data, dtype, backend, requires_grad: bool) -> Tensor:
    t = _make(data, dtype, backend)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _memory_bytes() -> int | None:
    """This machine's physical memory in bytes, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _chunked(kernel, bk, chunks, *args):
    """kernel(*args, chunks=chunks): the one path by which chunks= reaches a backend.

    Called only when the user gave chunks=, so other backends pay nothing for it.
    """
    try:
        return kernel(*args, chunks=chunks)
    except TypeError as err:
        if "chunks" not in str(err):
            raise
        raise TypeError(f"the {bk.name!r} backend has no chunked arrays: chunks= is for a "
                        f"backend such as 'dask' (got chunks={chunks!r})") from None


def _checked(size: tuple, dtype, bk=None) -> tuple:
    """size, once dtype is a plugrad dtype and the tensor could fit in this machine's memory.

    Checked before allocating: a request larger than the whole memory would otherwise
    get a library-specific error or, where the OS overcommits, the process killed.
    A lazy backend (`bk.lazy`) allocates nothing now and may hold more than memory.
    """
    if not isinstance(dtype, dtypes.dtype):
        raise TypeError(f"argument 'dtype' must be a plugrad dtype (e.g. plugrad.float32), "
                        f"not {type(dtype).__name__}")
    if bk is not None and bk.lazy:
        return size
    n = dtype.itemsize
    for s in size:
        n *= s
    limit = _memory_bytes()
    if limit is not None and n > limit:
        raise RuntimeError(f"not enough memory: you tried to allocate {n} bytes for a tensor "
                           f"of shape {list(size)} and dtype {dtype}; this machine has {limit} "
                           f"bytes")
    return size


def _sizes(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, numbers.Integral) or isinstance(s, bool):
            raise TypeError(f"size must be a sequence of ints, got {size!r}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
    return tuple(int(s) for s in size)


def _ragged_message(data, depth: int = 0) -> str | None:
    """Where nested lists stop being rectangular, in torch's words."""
    if not isinstance(data, (list, tuple)):
        return None
    lengths = {len(x) if isinstance(x, (list, tuple)) else None for x in data}
    if len(lengths) > 1:
        expected = len(data[0]) if isinstance(data[0], (list, tuple)) else None
        for x in data:
            got = len(x) if isinstance(x, (list, tuple)) else None
            if got != expected:
                if expected is None or got is None:
                    return f"expected a sequence or a number consistently at dim {depth + 1}"
                return f"expected sequence of length {expected} at dim {depth + 1} (got {got})"
    for x in data:
        found = _ragged_message(x, depth + 1)
        if found:
            return found
    return None


def _check_data(data) -> None:
    """TypeError for values that are not numbers (torch refuses strings and objects)."""
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(x)
        elif not (isinstance(x, numbers.Number) and not isinstance(x, complex)):
            raise TypeError(f"tensor(): could not convert {type(x).__name__} {x!r:.40} to a "
                            f"number; data must be numbers or nested sequences of numbers")


def _check_range(data, dtype) -> None:
    """RuntimeError, as torch raises, for Python values an integer dtype cannot hold."""
    half = 2 ** (8 * dtype.itemsize - 1)
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(x)
        elif not isinstance(x, bool) and not (-half <= x < half):  # False for nan too
            raise RuntimeError(f"value cannot be converted to type {dtype.name} without "
                               f"overflow")


def tensor(data, *, dtype=None, requires_grad: bool = False, backend=None, device=None,
           chunks=None) -> Tensor:
    """A new leaf tensor holding a copy of `data` (nested lists, a number, an array).

    Python floats become float32, ints int64, bools bool, as in torch. An array
    of the backend's own library (a Dask array on the Dask backend) is taken
    as it is, without computing it.

    >>> import plugrad as pg
    >>> pg.tensor([[1, 2], [3, 4]])
    tensor([[1, 2],
            [3, 4]])
    >>> pg.tensor(2.5, requires_grad=True)
    tensor(2.5000, requires_grad=True)
    """
    if isinstance(data, Tensor):
        data = data.detach()
        bk = resolve_backend(backend, device) if backend is not None or device is not None \
            else data.backend
        if bk is not data.backend:
            data = data.to(bk)  # a copy on the other backend, like torch.tensor(t, device=...)
        arr = bk.copy(data._array) if dtype is None or dtype is data.dtype else \
            bk.astype(data._array, dtype)
        if chunks is not None:
            arr = _chunked(bk.asarray, bk, chunks, arr, None)
        return _finish(arr, dtype or data.dtype, bk, requires_grad)
    if dtype is not None and not isinstance(dtype, dtypes.dtype):
        raise TypeError(f"tensor(): argument 'dtype' must be a plugrad dtype, not "
                        f"{type(dtype).__name__}")
    bk = resolve_backend(backend, device)
    # a NumPy scalar (np.float64 is a float) keeps its dtype, as an array does
    from_python = isinstance(data, (list, tuple)) or \
        (isinstance(data, numbers.Number) and not hasattr(data, "dtype"))
    if from_python:
        _check_data(data)
        ragged = _ragged_message(data)
        if ragged:
            raise ValueError(ragged)
        if dtype is dtypes.int64 or dtype is dtypes.int32:
            _check_range(data, dtype)  # NumPy would wrap around silently
    try:
        arr = bk.asarray(data, None) if chunks is None else \
            _chunked(bk.asarray, bk, chunks, data, None)
    except (ValueError, TypeError) as err:
        if chunks is not None and "chunked arrays" in str(err):
            raise
        if data is None or isinstance(data, (dict, set, frozenset)) or type(data) is object:
            raise RuntimeError(f"Could not infer dtype of {type(data).__name__}") from None
        raise TypeError(f"tensor(): could not convert the data to a tensor: {err}") from None
    inferred = bk.dtype_of(arr)
    if dtype is None:
        dtype = inferred
        if from_python and inferred.is_floating_point:
            dtype = dtypes.get_default_dtype()
    if dtype is not inferred or not from_python:
        arr = bk.astype(arr, dtype)  # also copies host arrays, as torch.tensor does
    return _finish(arr, dtype, bk, requires_grad)


def as_tensor(data, dtype=None, backend=None, device=None, *, chunks=None) -> Tensor:
    """Like `tensor`, but returns `data` itself when it already is a matching tensor."""
    placed = backend is None and device is None
    if isinstance(data, Tensor) and (dtype is None or dtype is data.dtype) and chunks is None \
            and (placed or resolve_backend(backend, device) is data.backend):
        return data
    return tensor(data, dtype=dtype, backend=backend, device=device, chunks=chunks)


def from_numpy(array) -> Tensor:
    """A tensor sharing memory with a NumPy array (NumPy backend)."""
    bk = resolve_backend("numpy")
    if not isinstance(array, type(bk.asarray(0, None))):  # numpy.ndarray
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    return _make(array, bk.dtype_of(array), bk)


def _fill_dtype(value) -> dtypes.dtype:
    return dtypes.scalar_dtype(value)


def full(size, fill_value, *, dtype=None, requires_grad: bool = False, backend=None, device=None,
         chunks=None) -> Tensor:
    """A tensor of `size` filled with `fill_value` (its dtype follows the value's type)."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    dtype = dtype or _fill_dtype(fill_value)
    bk = resolve_backend(backend, device)
    return _filled(bk, _sizes((size,)), fill_value, dtype, chunks, requires_grad)


def _filled(bk, size: tuple, value, dtype, chunks, requires_grad: bool) -> Tensor:
    size = _checked(size, dtype, bk)
    data = bk.full(size, value, dtype) if chunks is None else \
        _chunked(bk.full, bk, chunks, size, value, dtype)
    return _finish(data, dtype, bk, requires_grad)


def zeros(*size, dtype=None, requires_grad: bool = False, backend=None, device=None,
          chunks=None) -> Tensor:
    """A tensor of zeros: zeros(2, 3) or zeros((2, 3))."""
    dtype = dtype or dtypes.get_default_dtype()
    return _filled(resolve_backend(backend, device), _sizes(size), 0, dtype, chunks, requires_grad)


def ones(*size, dtype=None, requires_grad: bool = False, backend=None, device=None,
         chunks=None) -> Tensor:
    """A tensor of ones: ones(2, 3) or ones((2, 3))."""
    dtype = dtype or dtypes.get_default_dtype()
    return _filled(resolve_backend(backend, device), _sizes(size), 1, dtype, chunks, requires_grad)


def empty(*size, dtype=None, requires_grad: bool = False, backend=None, device=None,
          chunks=None) -> Tensor:
    """A tensor whose values are unspecified (plugrad fills it with zeros)."""
    return zeros(*size, dtype=dtype, requires_grad=requires_grad, backend=backend, device=device,
                 chunks=chunks)


def arange(start, end=None, step=1, *, dtype=None, requires_grad: bool = False,
           backend=None, device=None, chunks=None) -> Tensor:
    """Values from start up to (not including) end: arange(5), arange(1, 2, 0.25)."""
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if dtype is None:
        dtype = dtypes.int64 if all(isinstance(v, numbers.Integral) for v in values) \
            else dtypes.get_default_dtype()
    bk = resolve_backend(backend, device)
    data = bk.arange(*values, dtype) if chunks is None else \
        _chunked(bk.arange, bk, chunks, *values, dtype)
    return _finish(data, dtype, bk, requires_grad)


def linspace(start, end, steps: int, *, dtype=None, requires_grad: bool = False,
             backend=None, device=None, chunks=None) -> Tensor:
    """`steps` evenly spaced values from start to end, both included."""
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = dtype or dtypes.get_default_dtype()
    bk = resolve_backend(backend, device)
    _checked((int(steps),), dtype, bk)
    data = bk.linspace(start, end, steps, dtype) if chunks is None else \
        _chunked(bk.linspace, bk, chunks, start, end, steps, dtype)
    return _finish(data, dtype, bk, requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None,
             requires_grad: bool = False, backend=None, device=None, chunks=None) -> Tensor:
    """`steps` values from base ** start to base ** end, evenly spaced in the exponent.

    >>> import plugrad as pg
    >>> pg.logspace(0, 2, 3)
    tensor([  1.,  10., 100.])
    """
    dtype = dtype or dtypes.get_default_dtype()
    exponents = linspace(start, end, steps, dtype=dtypes.float64, backend=backend,
                         device=device, chunks=chunks)
    bk = exponents.backend
    data = bk.pow(float(base), exponents._array)
    if not dtype.is_floating_point:
        data = bk.add(data, 0.5 if base >= 1 else 0.0)  # torch rounds 99.999... to 100
    return _finish(bk.astype(data, dtype), dtype, bk, requires_grad)


def eye(n: int, m: int | None = None, *, dtype=None, requires_grad: bool = False,
        backend=None, device=None, chunks=None) -> Tensor:
    """An n x m matrix with ones on the diagonal."""
    dtype = dtype or dtypes.get_default_dtype()
    bk = resolve_backend(backend, device)
    m = n if m is None else m
    _checked((int(n), int(m)), dtype, bk)
    data = bk.eye(n, m, dtype) if chunks is None else _chunked(bk.eye, bk, chunks, n, m, dtype)
    return _finish(data, dtype, bk, requires_grad)


# -- random numbers: from a Generator's stream on the backend (plugrad.random) -------------
def _random(kernel: str, bk, chunks, generator, *args):
    fn = getattr(stream(generator, bk), kernel)
    return fn(*args) if chunks is None else _chunked(fn, bk, chunks, *args)


def rand(*size, generator=None, dtype=None, requires_grad: bool = False, backend=None,
         device=None, chunks=None) -> Tensor:
    """Uniform random numbers on [0, 1), from `generator` (a plugrad.Generator) if given."""
    dtype = dtype or dtypes.get_default_dtype()
    bk = resolve_backend(backend, device)
    data = _random("uniform", bk, chunks, generator, _checked(_sizes(size), dtype, bk), dtype)
    return _finish(data, dtype, bk, requires_grad)


def randn(*size, generator=None, dtype=None, requires_grad: bool = False, backend=None,
          device=None, chunks=None) -> Tensor:
    """Standard normal random numbers.

    On the Dask backend they are drawn lazily, chunk by chunk, where the chunks
    are computed: `pg.randn(10**9, 4, backend="dask", chunks=(10**6, 4))`
    allocates nothing.
    """
    dtype = dtype or dtypes.get_default_dtype()
    bk = resolve_backend(backend, device)
    data = _random("normal", bk, chunks, generator, _checked(_sizes(size), dtype, bk), dtype)
    return _finish(data, dtype, bk, requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype=None,
            requires_grad: bool = False, backend=None, device=None, chunks=None) -> Tensor:
    """Random integers in [low, high): randint(10, (3,)) or randint(2, 10, (3,))."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint() missing required argument 'size'")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    dtype = dtype or dtypes.int64
    bk = resolve_backend(backend, device)
    data = _random("randint", bk, chunks, generator, int(low), int(high),
                   _checked(_sizes((size,)), dtype, bk), dtype)
    return _finish(data, dtype, bk, requires_grad)


def randperm(n: int, *, dtype=None, requires_grad: bool = False, backend=None,
             device=None, generator=None) -> Tensor:
    """A random permutation of 0 .. n-1 (int64 unless `dtype` says otherwise).

    >>> import plugrad as pg
    >>> sorted(pg.randperm(4).tolist())
    [0, 1, 2, 3]
    """
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got {n}")
    dtype = dtype or dtypes.int64
    k = resolve_backend(backend, device)
    n = int(n)
    keys = stream(generator, k).uniform((n,), dtypes.float64)
    try:  # the stable order of uniform keys: argsort where the backend has it
        order = k.astype(k.argsort(keys, 0, False, True), dtype)
    except NotImplementedError:
        values = k.tolist(keys)
        order = k.asarray(sorted(range(n), key=values.__getitem__), dtype) if n else \
            k.full((0,), 0, dtype)
    out = _make(order, dtype, k)
    if requires_grad:
        out.requires_grad_(True)
    return out


# -- *_like ------------------------------------------------------------------------------
def _like(x: Tensor, dtype, backend, chunks=None, device=None):
    """(dtype, backend, chunks) of a tensor made like x: on a chunked backend, x's chunks."""
    backend = resolve_backend(backend, device) if backend or device else x.backend
    if chunks is None and backend is x.backend and x.backend.lazy:
        chunks = getattr(x._array, "chunks", None)
    return dtype or x.dtype, backend, chunks


def zeros_like(x: Tensor, *, dtype=None, requires_grad: bool = False, backend=None, device=None,
               chunks=None) -> Tensor:
    dtype, backend, chunks = _like(x, dtype, backend, chunks, device)
    return zeros(tuple(x._array.shape), dtype=dtype, requires_grad=requires_grad, backend=backend,
                 chunks=chunks)


def ones_like(x: Tensor, *, dtype=None, requires_grad: bool = False, backend=None, device=None,
              chunks=None) -> Tensor:
    dtype, backend, chunks = _like(x, dtype, backend, chunks, device)
    return ones(tuple(x._array.shape), dtype=dtype, requires_grad=requires_grad, backend=backend,
                chunks=chunks)


def empty_like(x: Tensor, *, dtype=None, requires_grad: bool = False, backend=None, device=None,
               chunks=None) -> Tensor:
    return zeros_like(x, dtype=dtype, requires_grad=requires_grad, backend=backend,
                      device=device, chunks=chunks)


def full_like(x: Tensor, fill_value, *, dtype=None, requires_grad: bool = False,
              backend=None, device=None, chunks=None) -> Tensor:
    dtype, backend, chunks = _like(x, dtype, backend, chunks, device)
    return full(tuple(x._array.shape), fill_value, dtype=dtype, requires_grad=requires_grad,
                backend=backend, chunks=chunks)


def rand_like(x: Tensor, *, generator=None, dtype=None, requires_grad: bool = False,
              backend=None, device=None, chunks=None) -> Tensor:
    dtype, backend, chunks = _like(x, dtype, backend, chunks, device)
    return rand(tuple(x._array.shape), generator=generator, dtype=dtype,
                requires_grad=requires_grad, backend=backend, chunks=chunks)


def randn_like(x: Tensor, *, generator=None, dtype=None, requires_grad: bool = False,
               backend=None, device=None, chunks=None) -> Tensor:
    dtype, backend, chunks = _like(x, dtype, backend, chunks, device)
    return randn(tuple(x._array.shape), generator=generator, dtype=dtype,
                 requires_grad=requires_grad, backend=backend, chunks=chunks)


def randint_like(x: Tensor, low, high=None, *, generator=None, dtype=None,
                 requires_grad: bool = False, backend=None, device=None,
                 chunks=None) -> Tensor:
    dtype, backend, chunks = _like(x, dtype, backend, chunks, device)
    return randint(low, high, tuple(x._array.shape), generator=generator, dtype=dtype,
                   requires_grad=requires_grad, backend=backend, chunks=chunks)
