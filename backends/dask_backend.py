"""The built-in Dask backend: lazy, chunked arrays (dask.array); nothing runs until asked.

Every kernel builds a piece of a Dask task graph and returns at once: a
forward pass, a loss and its backward pass are graphs, computed only when the
user asks for values (`.item()`, `.tolist()`, `.numpy()`, `print`) or calls
`plugrad.compute(*tensors)`, which evaluates several tensors in one pass,
sharing their common work. Shapes and dtypes are known without computing, so
the core never has to wait for data to decide what to do next.

Imported only by its factory (`plugrad.backends.builtin.make_dask`), after the
factory has checked that dask.array imports.

How the pieces that are not plain Dask are done:

* in place (`x[i] = v`, `x += y`, the optimizers' updates): Dask arrays are
  immutable, but `x[index] = v` on a Dask array rebuilds its graph and
  swaps it into the same Python object. Every in-place kernel here does that
  (`_replace`), so every tensor holding the object (aliases, an optimizer's
  reference to a parameter) sees the new value.
* views (`x[0]`, reshapes, transposes) are new arrays linked to their base:
  a write into one is carried into the other (`_changed`), as NumPy's shared
  memory would. Writing into an expanded view is refused, as on NumPy.
* advanced indexing is lazy: integer index arrays become one flat `take`;
  their bounds are checked at once when the index is already in memory (made
  from host data, or computed), else when the result is computed.
* a boolean mask selects a number of elements that depends on its values, so
  `x[mask]` (and `nonzero`) computes the mask, and only the mask, at once;
  `x[mask] = number` stays lazy (a `where`).
* scatter-add (`index_add`, the backward of indexing) is a lazy `bincount`.
* random numbers are drawn lazily, chunk by chunk, on the workers, by a
  `dask.array.random.Generator` seeded by `plugrad.manual_seed`.
* `to_host` computes; with no scheduler configured and no dask.distributed
  client, small graphs run on Dask's synchronous scheduler, which has the
  least overhead (a configured scheduler or a client always wins).
"""
from __future__ import annotations

import math
import weakref

import dask
import dask.array as da
import dask.core
import dask.optimization
import numpy as np
from dask.array.core import normalize_chunks
from plugrad import dtypes
from plugrad.backend import Backend

from .array_api import ArrayAPIBackend, bind_elementwise
from .numpy_backend import _FROM_NATIVE, _TO_NATIVE  # Dask arrays hold NumPy dtypes
from .numpy_backend import erf as _numpy_erf
from .numpy_backend import erfinv as _numpy_erfinv

# graphs of at most this many tasks run in this thread (when the user has configured no
# scheduler): no scheduler's overhead, and a graph this small has little to run in parallel
_SYNC_TASKS = 200
_SYNC_BYTES = 32 * 2**20  # ... on arrays of at most this many bytes


def _replace(x, y) -> None:
    """Make the Dask array object x hold y's graph (what Dask's own x[i] = v does)."""
    if y.dtype != x.dtype:
        y = y.astype(x.dtype)
    if tuple(y.shape) != tuple(x.shape):
        y = da.broadcast_to(y, x.shape)
    x._meta = y._meta
    x.dask = y.dask
    x._name = y.name
    x._chunks = y.chunks


# -- views: a Dask array has no memory to share, so a view (x[0], a reshape, a transpose) is a
# new array linked to its base; a write into either is carried over to the other, so that
# both read as NumPy's view and base would. The link lives in the arrays' __dict__.
def _link(out, base, kind: str, arg):
    """Record `out` as a view of `base` (made by `kind` with `arg`); returns out."""
    if out is base:
        return out
    out._plugrad_parent = (base, kind, arg)
    kids = base.__dict__.get("_plugrad_children")
    if kids is None:
        base._plugrad_children = kids = []
    elif len(kids) >= 16:
        kids[:] = [r for r in kids if r() is not None]
    kids.append(weakref.ref(out))
    return out


def _derive(base, kind: str, arg):
    """The view's value from its base's."""
    if kind == "getitem":
        return base[arg]
    if kind == "reshape":
        return da.reshape(base, arg)
    if kind == "permute":
        return da.transpose(base, arg)
    return da.broadcast_to(base, arg)


def _written_back(view, base, kind: str, arg):
    """The base's value once `view`'s new value is written into it (None: nothing to do)."""
    if kind == "getitem":
        plain = tuple(i for i in arg if i is not None)
        target = base[plain]
        if not target.size:
            return None
        new = base.copy()
        new[plain] = da.reshape(view, target.shape)
        return new
    if kind == "reshape":
        return da.reshape(view, base.shape)
    if kind == "permute":
        return da.transpose(view, tuple(int(i) for i in np.argsort(arg)))
    return None  # an expanded view is never written


def _changed(x, came_from=None) -> None:
    """x's graph was just replaced by a write: carry it to its base and to its views."""
    d = x.__dict__
    parent = d.get("_plugrad_parent")
    if parent is not None and parent[0] is not came_from:
        base, kind, arg = parent
        new = _written_back(x, base, kind, arg)
        if new is not None:
            _replace(base, new)
            _changed(base, x)
    kids = d.get("_plugrad_children")
    if kids:
        for ref in list(kids):
            child = ref()
            if child is None or child is came_from:
                continue
            _, kind, arg = child._plugrad_parent
            _replace(child, _derive(x, kind, arg))
            _changed(child, x)


def _writable(x) -> None:
    if getattr(x, "_plugrad_readonly", False):
        raise ValueError("assignment destination is read-only (an expanded view)")


def _concrete(x):
    """x's values as a NumPy array when they are already in memory here, else None.

    True for arrays made from host data or computed by `plugrad.compute`
    without a distributed client: each chunk of the graph is a NumPy array, so
    reading them costs no computation. Anything with a task still to run
    (or data on a cluster) gives None.
    """
    if not isinstance(x, da.Array):
        return np.asarray(x)
    try:
        graph = x.__dask_graph__()
        keys = list(dask.core.flatten(x.__dask_keys__()))
        blocks = {}
        for key in keys:
            value = graph[key]
            # a materialized chunk; an alias task (x[:] and friends) is not followed
            if not isinstance(value, (np.ndarray, np.generic)):
                value = getattr(value, "value", None)  # a DataNode (dask >= 2024.12)
                if not isinstance(value, (np.ndarray, np.generic)):
                    return None
            blocks[key] = value
    except Exception:
        return None
    if x.ndim == 0:
        return np.asarray(blocks[keys[0]])
    nested = _nest(x.__dask_keys__(), blocks)
    return np.block(nested) if x.ndim > 1 else np.concatenate(nested)


def _nest(keys, blocks):
    return [_nest(k, blocks) if isinstance(k, list) else blocks[k] for k in keys]


def _reduction(np_fn, da_fn):
    """A reduction kernel: Dask's da_fn, with int64 results where the core wants them.

    Sums and products of int32 give int64 (as the core's dtype rules say), arg-reductions
    int64 indices; an input without elements is reduced by NumPy at once.
    """
    to_int64 = (np.int32,) if np_fn in (np.sum, np.prod) else \
        (np.int32, np.int64) if np_fn in (np.argmax, np.argmin) else ()

    def kernel(x, axis, keepdims):
        if not x.size:
            return _empty_reduction(np_fn, x, axis, keepdims)
        out = da_fn(x, axis=axis, keepdims=keepdims)
        return out.astype(np.int64) if out.dtype in to_int64 else out
    kernel.__name__ = np_fn.__name__
    return kernel


class DaskBackend(ArrayAPIBackend):
    """plugrad on dask.array arrays: lazy, chunked, and as large as the disk or the cluster."""

    name = "dask"
    lazy = True

    where = staticmethod(da.where)
    matmul = staticmethod(da.matmul)

    def __init__(self) -> None:
        super().__init__(da, "dask", dask.__version__)
        self._to_native = dict(_TO_NATIVE)
        self._from_native = [(v, k) for k, v in _TO_NATIVE.items()]
        self.rng = da.random.default_rng()

    @staticmethod
    def erf(x):
        return x.map_blocks(_numpy_erf, dtype=x.dtype)

    @staticmethod
    def erfinv(x):
        return x.map_blocks(_numpy_erfinv, dtype=x.dtype)

    @property
    def conformance_skips(self) -> dict:
        """The inherited gaps (dtypes Dask lacks: none), and sorting: dask.array cannot sort,
        declared as the missing kernel, so every case that needs it is covered by itself."""
        reason = ("dask.array has no sort or argsort (a sort of chunked arrays is a shuffle): "
                  "the backend has no 'argsort' kernel and the ops that sort raise "
                  "NotImplementedError")
        return {**super().conformance_skips, "kernel:argsort": reason}

    # -- dtypes ----------------------------------------------------------------------------
    def native(self, dtype):
        return _TO_NATIVE[dtype]

    @staticmethod
    def dtype_of(x):
        try:
            return _FROM_NATIVE[np.dtype(x.dtype)]
        except KeyError:
            raise TypeError(f"plugrad has no dtype for Dask's {x.dtype}") from None

    @staticmethod
    def astype(x, dtype):
        return x.astype(_TO_NATIVE[dtype])

    # -- reductions: an empty input is reduced by NumPy at once (nothing to compute; Dask
    # refuses some, such as the max over a non-empty axis of a (0, 3) array) ------------------
    sum = staticmethod(_reduction(np.sum, da.sum))
    prod = staticmethod(_reduction(np.prod, da.prod))
    max = staticmethod(_reduction(np.max, da.max))
    min = staticmethod(_reduction(np.min, da.min))
    argmax = staticmethod(_reduction(np.argmax, da.argmax))
    argmin = staticmethod(_reduction(np.argmin, da.argmin))

    # -- movement ---------------------------------------------------------------------------
    @staticmethod
    def reshape(x, shape, copy=None):
        # a Dask array has no memory layout to keep: every reshape is as good as a view
        if not x.size:  # Dask cannot always reshape an empty array; NumPy says what it is
            return _empty_like_numpy(np.reshape(np.empty(x.shape, x.dtype), shape))
        return _link(da.reshape(x, shape), x, "reshape", tuple(shape))

    @staticmethod
    def permute(x, axes):
        return _link(da.transpose(x, axes), x, "permute", tuple(axes))

    @staticmethod
    def broadcast_to(x, shape):
        out = da.broadcast_to(x, shape)
        if tuple(out.shape) != tuple(x.shape):
            # an expanded view repeats elements: writing into it is refused, as NumPy's
            # read-only broadcast views are (torch: "more than one element ... refers to a
            # single memory location")
            out._plugrad_readonly = True
        return _link(out, x, "broadcast", tuple(shape))

    @staticmethod
    def concat(xs, axis):
        return da.concatenate(list(xs), axis=axis)

    # -- indexing ---------------------------------------------------------------------------
    def getitem(self, x, index):
        if not x.size:  # no elements: NumPy on an empty stand-in (index arrays are tiny)
            host = tuple(self.to_host(i) if isinstance(i, da.Array) else i for i in index)
            return _empty_like_numpy(super().getitem(np.empty(x.shape, x.dtype), host))
        if not any(isinstance(i, (da.Array, np.ndarray)) for i in index):
            # NumPy checks the index (and words the error) on a stand-in of x's shape
            # that allocates nothing
            np.broadcast_to(np.empty((), x.dtype), x.shape)[index]
            if not any(type(i) is bool for i in index):  # Dask reads a bool as an int
                try:
                    return _link(x[index], x, "getitem", index)
                except (IndexError, TypeError, ValueError, NotImplementedError):
                    pass  # the generic path below
        index = tuple(self._host_mask(i) for i in index)
        index, empty = self._spell_out(index, x.shape)
        if any(isinstance(i, (da.Array, np.ndarray)) for i in index):
            if empty:
                raise IndexError("the 'dask' backend does not combine a Python bool index "
                                 "with an array index")
            return self._advanced_getitem(x, index)
        out = x[index]
        for axis in empty:
            out = out[(slice(None),) * axis + (slice(0, 0),) + (Ellipsis,)]
        return out

    def _host_mask(self, item):
        """A boolean mask becomes its integer positions, computed now (the one eager step:
        how many elements it selects depends on its values)."""
        if isinstance(item, (da.Array, np.ndarray)) and item.dtype == np.bool_:
            mask = _concrete(item)
            if mask is None:
                mask = self.to_host(item)
            return np.asarray(mask)
        return item

    def _nonzero(self, mask):
        host = mask if isinstance(mask, np.ndarray) else self.to_host(mask)
        return [da.from_array(w.astype(np.int64)) for w in np.nonzero(host)]

    def _check_index(self, arr, size, axis):
        """arr with negative indices wrapped; out of bounds raises IndexError now when the
        index is in memory, else when the result is computed."""
        host = _concrete(arr)
        if host is not None:
            host = np.asarray(host, dtype=np.int64)
            if host.size and (host.max() >= size or host.min() < -size):
                bad = host.max() if host.max() >= size else host.min()
                raise IndexError(f"index {bad} is out of bounds for axis {axis} with size {size}")
            return da.from_array(np.where(host < 0, host + size, host))
        arr = arr.astype(np.int64)
        return arr.map_blocks(_wrap_checked, size, axis, dtype=np.int64)

    def index_add(self, x, index, values):
        _writable(x)
        self._index_add(x, index, values)
        _changed(x)
        return x

    def _index_add(self, x, index, values):
        if len(index) == 1 and index[0] is Ellipsis:
            _replace(x, da.add(x, values))  # x += values: gradient sums, optimizers
            return
        if not x.size:
            return
        if not any(isinstance(i, (da.Array, np.ndarray)) for i in index):
            spelled, empty = self._spell_out(index, x.shape)
            plain = tuple(i for i in spelled if i is not None)
            target = x[plain]
            if empty or not target.size:
                return  # selects nothing
            if isinstance(values, da.Array) and values.ndim:
                values = da.reshape(da.broadcast_to(values, x[spelled].shape), target.shape)
            if all(isinstance(i, slice) and i == slice(None) for i in plain):
                _replace(x, da.add(x, values))
            else:
                x[plain] = da.add(target, values)
            return
        where, vals = self._flat_selection(x, index, values)
        n = math.prod(x.shape)
        added = da.bincount(where, weights=vals.astype(np.float64).rechunk(where.chunks),
                            minlength=n)
        _replace(x, da.add(x, da.reshape(added, x.shape).astype(x.dtype)))

    def _flat_selection(self, x, index, values):
        """(flat positions in x of the elements index selects, values broadcast to them)."""
        n = math.prod(x.shape)
        where = self.getitem(da.reshape(da.arange(n, dtype=np.int64), x.shape), index)
        if isinstance(values, (da.Array, np.ndarray)):
            vals = da.broadcast_to(values, where.shape)
        else:
            vals = da.full(where.shape, values, dtype=x.dtype)
        return da.reshape(where, (-1,)), da.reshape(vals, (-1,))

    def setitem(self, x, index, values):
        _writable(x)
        self._setitem(x, index, values)
        _changed(x)
        return x

    def _setitem(self, x, index, values):
        if len(index) == 1 and index[0] is Ellipsis:
            _replace(x, values if isinstance(values, da.Array) else
                     da.full(x.shape, values, dtype=x.dtype))
            return
        if not x.size:
            return
        arrays = [i for i in index if isinstance(i, (da.Array, np.ndarray))]
        if not arrays:
            if not self.getitem(x, index).size:
                return  # selects nothing (Dask refuses to write an empty selection)
            try:
                x[index] = values
                return
            except (IndexError, TypeError, ValueError, NotImplementedError):
                spelled, empty = self._spell_out(index, x.shape)
                if empty:
                    return
                x[tuple(i for i in spelled if i is not None)] = \
                    values if not isinstance(values, da.Array) or not values.ndim else \
                    da.reshape(da.broadcast_to(values, x[spelled].shape),
                               x[tuple(i for i in spelled if i is not None)].shape)
                return
        if len(index) == 1 and arrays[0].dtype == np.bool_ and \
                tuple(arrays[0].shape) == tuple(x.shape) and \
                (not isinstance(values, da.Array) or values.size == 1):
            # x[mask] = v with one value: a where, lazy
            v = values if not isinstance(values, da.Array) else da.reshape(values, ())
            _replace(x, da.where(arrays[0], v, x))
            return
        # x[ints] = values: write once per selected element (a repeated index gets the
        # mean of its values; torch leaves which one wins undefined)
        where, vals = self._flat_selection(x, index, values)
        n = math.prod(x.shape)
        hits = da.bincount(where, minlength=n)
        total = da.bincount(where, weights=vals.astype(np.float64).rechunk(where.chunks),
                            minlength=n)
        new = da.reshape((total / da.maximum(hits, 1)).astype(x.dtype), x.shape)
        _replace(x, da.where(da.reshape(hits > 0, x.shape), new, x))

    def mul_into(self, x, y):
        _writable(x)
        _replace(x, da.multiply(x, y))
        _changed(x)
        return x

    @staticmethod
    def mutable(x):
        return x if isinstance(x, da.Array) else da.asarray(x)

    @staticmethod
    def copy(x):
        # a new Array object on the same graph: in-place writes replace an object's graph,
        # never the data of its chunks, so the two are independent
        return x.copy()

    # -- creation ---------------------------------------------------------------------------
    @staticmethod
    def asarray(data, dtype=None, chunks=None):
        if isinstance(data, da.Array):
            # taken as it is, lazily; a new Array object, so that writing into the tensor
            # never rebuilds the caller's array
            out = data.copy() if dtype is None else data.astype(_TO_NATIVE[dtype]).copy()
        else:
            host = np.array(data, dtype=None if dtype is None else _TO_NATIVE[dtype])
            if host.dtype.kind == "O":
                raise TypeError("could not convert the data to numbers")
            # name=False: a fresh name rather than a hash of the values, which costs a
            # pass over them and makes two tensors of equal data share keys (see from_host)
            return da.from_array(host, chunks="auto" if chunks is None else chunks, name=False)
        return out if chunks is None else out.rechunk(chunks)

    @staticmethod
    def from_host(host, dtype, chunks=None):
        # name=False: two tensors made from equal host data must not share task keys
        # (a distributed scheduler then warns of different run_specs for one key)
        return da.from_array(np.array(host, dtype=_TO_NATIVE[dtype]),
                             chunks="auto" if chunks is None else chunks, name=False)

    @staticmethod
    def full(shape, value, dtype, chunks=None):
        return da.full(shape, value, dtype=_TO_NATIVE[dtype],
                       chunks="auto" if chunks is None else chunks)

    @staticmethod
    def arange(start, stop, step, dtype, chunks=None):
        return da.arange(start, stop, step, dtype=_TO_NATIVE[dtype],
                         chunks="auto" if chunks is None else chunks)

    @staticmethod
    def linspace(start, stop, num, dtype, chunks=None):
        return da.linspace(start, stop, num, dtype=_TO_NATIVE[dtype],
                           chunks="auto" if chunks is None else chunks)

    @staticmethod
    def eye(n, m, dtype, chunks=None):
        # rows == columns, blockwise (Dask's own eye takes square blocks only and, in some
        # versions, loses blocks when m != n)
        native = _TO_NATIVE[dtype]
        rows, cols = normalize_chunks("auto" if chunks is None else chunks, (n, m),
                                      dtype=native)
        i = da.arange(n, chunks=(rows,), dtype=np.int64)[:, None]
        j = da.arange(m, chunks=(cols,), dtype=np.int64)[None, :]
        return da.equal(i, j).astype(native)

    # -- computing: the host, and plugrad.compute -------------------------------------------
    @staticmethod
    def _here(arrays) -> bool:
        """True to run these graphs right here, in this thread: they are small (at most
        _SYNC_TASKS tasks, no array over _SYNC_BYTES) and the user has configured no
        scheduler and no client, which always win. A scheduler, even Dask's synchronous
        one, costs about 2 ms a call; this costs about 0.1 ms."""
        if dask.config.get("scheduler", None) is not None:
            return False
        graphs = [a.__dask_graph__() for a in arrays]
        if sum(len(g) for g in graphs) > _SYNC_TASKS:
            return False
        # small arrays only: a graph of few tasks on big chunks is worth the threads
        for g in graphs:
            for layer in getattr(g, "layers", {}).values():
                info = getattr(layer, "collection_annotations", None) or {}
                shape, dtype = info.get("shape"), info.get("dtype")
                if shape is not None and dtype is not None and \
                        math.prod(shape) * np.dtype(dtype).itemsize > _SYNC_BYTES:
                    return False
        return True

    # -- linear algebra (contract 1.5): numpy.linalg on each chunk of whole matrices -------------
    # dask.array.linalg covers single 2-D matrices only (no batches, no eigh or det, and
    # SciPy for inv and solve); da.apply_gufunc runs NumPy's batched functions lazily over
    # chunks that hold whole matrices (rechunking the two matrix dims to one chunk), with the
    # batch dims chunked as they are. A singular matrix raises NumPy's LinAlgError when the
    # values are computed, not at the call
    @staticmethod
    def _gufunc(fn, signature, *arrays, sizes=None, outputs=1):
        dtype = arrays[0].dtype
        return da.apply_gufunc(fn, signature, *arrays, output_sizes=sizes, allow_rechunk=True,
                               output_dtypes=dtype if outputs == 1 else (dtype,) * outputs)

    def inv(self, a):
        return self._gufunc(np.linalg.inv, "(n,n)->(n,n)", a)

    def solve(self, a, b):
        return self._gufunc(np.linalg.solve, "(n,n),(n,k)->(n,k)", a, b)

    def cholesky(self, a):
        return self._gufunc(np.linalg.cholesky, "(n,n)->(n,n)", a)

    def qr(self, a, mode):
        m, n = a.shape[-2:]
        k = m if mode == "complete" else min(m, n)
        return tuple(self._gufunc(lambda x: tuple(np.linalg.qr(x, mode)), "(m,n)->(m,k),(k,n)",
                                  a, sizes={"k": k}, outputs=2))

    def svd(self, a, full_matrices):
        m, n = a.shape[-2:]
        k = min(m, n)
        u, v = (m, n) if full_matrices else (k, k)
        return tuple(self._gufunc(lambda x: tuple(np.linalg.svd(x, full_matrices)),
                                  "(m,n)->(m,u),(k),(v,n)", a, sizes={"k": k, "u": u, "v": v},
                                  outputs=3))

    def eigh(self, a):
        return tuple(self._gufunc(lambda x: tuple(np.linalg.eigh(x)), "(n,n)->(n),(n,n)", a,
                                  outputs=2))

    def slogdet(self, a):
        return tuple(self._gufunc(lambda x: tuple(np.linalg.slogdet(x)), "(n,n)->(),()", a,
                                  outputs=2))

    def det(self, a):
        return self._gufunc(np.linalg.det, "(n,n)->()", a)

    def to_host(self, x):
        if not isinstance(x, da.Array):
            return np.asarray(x)
        host = _concrete(x)
        if host is None:
            if self._here([x]):
                finalize, args = x.__dask_postcompute__()
                host = finalize(_run_here([x])[0], *args)
            else:
                host = x.compute()
        return np.asarray(host)

    def tolist(self, x):
        return self.to_host(x).tolist()

    def compute(self, arrays):
        """Persist `arrays` in one pass and swap the results into the same objects, so
        that every tensor holding one of them (aliases, saved tensors) holds the values."""
        lazy, seen = [], set()
        for a in arrays:
            if isinstance(a, da.Array) and id(a) not in seen and _concrete(a) is None:
                seen.add(id(a))
                lazy.append(a)
        if not lazy:
            return list(arrays)
        if self._here(lazy):
            for a, values in zip(lazy, _run_here(lazy)):
                keys = list(_flat(a.__dask_keys__()))
                chunks = dict(zip(keys, _flat_values(values)))
                _replace(a, da.Array(chunks, a.name, a.chunks, meta=a._meta))
        else:
            for a, done in zip(lazy, dask.persist(*lazy)):
                _replace(a, done)
        return list(arrays)

    # -- random numbers: lazy, chunk by chunk, on the workers --------------------------------
    def seed(self, seed):
        self.rng = da.random.default_rng(seed)

    def uniform(self, shape, dtype, chunks=None):
        out = self.rng.random(shape, chunks="auto" if chunks is None else chunks,
                              dtype=_TO_NATIVE[dtype] if dtype.is_floating_point and
                              dtype is not dtypes.float16 else np.float64)
        return out if out.dtype == _TO_NATIVE[dtype] else out.astype(_TO_NATIVE[dtype])

    def normal(self, shape, dtype, chunks=None):
        native = _TO_NATIVE[dtype]
        out = self.rng.standard_normal(shape, chunks="auto" if chunks is None else chunks,
                                       dtype=native if native in (np.float32, np.float64)
                                       else np.float64)
        return out if out.dtype == native else out.astype(native)

    def randint(self, low, high, shape, dtype, chunks=None):
        return self.rng.integers(low, high, shape, chunks="auto" if chunks is None else chunks,
                                 dtype=np.int64).astype(_TO_NATIVE[dtype])

    # plugrad.Generator's streams: the contract's fallback, which reseeds the generator above
    # before each draw (so draws stay on the device, and lazy on Dask); not the host
    # NumPy stream of ArrayAPIBackend
    random_stream = Backend.random_stream


def _run_here(arrays) -> list:
    """The chunks of each array (nested as its keys), computed in this thread in one pass:
    a task that several arrays need runs once."""
    graph = {}
    for a in arrays:
        graph.update(a.__dask_graph__())
    keys = [a.__dask_keys__() for a in arrays]
    graph, _ = dask.optimization.cull(graph, list(_flat(keys)))  # only what the keys need
    return dask.core.get(graph, keys, cache={})


def _flat(nested):
    """The leaves of nested lists and tuples (keys are tuples: only lists are nesting)."""
    for item in nested:
        if isinstance(item, list):
            yield from _flat(item)
        else:
            yield item


def _flat_values(nested):
    """The leaves of nested lists and tuples of chunk values (dask.core.get's results)."""
    for item in nested:
        if isinstance(item, (list, tuple)):
            yield from _flat_values(item)
        else:
            yield item


def _empty_like_numpy(out):
    """A Dask array for a NumPy result with no elements (values or not, there are none)."""
    out = np.asarray(out)
    return da.from_array(np.array(out)) if out.size else da.zeros(out.shape, dtype=out.dtype)


def _empty_reduction(fn, x, axis, keepdims):
    """fn over an array with no elements, done by NumPy (it raises where NumPy does)."""
    out = np.asarray(fn(np.empty(x.shape, x.dtype), axis=axis, keepdims=keepdims))
    if out.dtype == np.int32 and fn in (np.sum, np.prod):
        out = out.astype(np.int64)
    return da.from_array(out.astype(np.int64) if fn in (np.argmax, np.argmin) else out)


def _wrap_checked(block, size, axis):
    """An index block with negatives wrapped, checked against `size` (runs at compute)."""
    if block.size and (block.max() >= size or block.min() < -size):
        bad = block.max() if block.max() >= size else block.min()
        raise IndexError(f"index {bad} is out of bounds for axis {axis} with size {size}")
    return np.where(block < 0, block + size, block)


# Dask's ufuncs take Python numbers on either side, as the contract wants: bind them directly,
# for every elementwise kernel of the contract's table
bind_elementwise(DaskBackend, da)
