"""DataLoader and default_collate: batches of a dataset, as torch.utils.data makes them.

A TensorDataset read with the default collation takes a faster road with the
same result: each batch is one gather per tensor on the dataset's backend
(`x[indices]` with the batch's index array), not a stack of per-sample rows.
"""
from __future__ import annotations

import warnings

from ... import dtypes
from ...creation import as_tensor, tensor
from ...shape import stack
from ...tensor import Tensor, _make
from .dataset import IterableDataset, TensorDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert"]

_NOT_COLLATABLE = ("default_collate: batch must contain tensors, numpy arrays, numbers, "
                   "dicts or lists; found {}")


def _is_numpy(obj) -> bool:
    return type(obj).__module__ == "numpy"


def default_convert(data):
    """Without batching: NumPy arrays become tensors, containers are converted inside.

    >>> default_convert({"a": [1, 2]})
    {'a': [1, 2]}
    """
    if _is_numpy(data) and getattr(data, "dtype", None) is not None and \
            data.dtype.kind not in "SaUO":
        return as_tensor(data)
    if isinstance(data, dict):
        return type(data)({k: default_convert(v) for k, v in data.items()}) \
            if type(data) is not dict else {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (list, tuple)):
        return type(data)(default_convert(d) for d in data)
    return data


def default_collate(batch):
    """One batch from a list of samples: tensors stacked (a new first dim), numbers made
    tensors (float64 for floats, int64 for ints, bool for bools), strings kept in a
    list, and dicts, tuples, named tuples and lists collated field by field (a tuple
    becomes a list, as in torch).

    >>> import plugrad as pg
    >>> default_collate([(pg.ones(2), 1), (pg.zeros(2), 2)])
    [tensor([[1., 1.],
            [0., 0.]]), tensor([1, 2])]
    >>> default_collate([{"x": 1.0, "name": "a"}, {"x": 2.0, "name": "b"}])
    {'x': tensor([1., 2.], dtype=plugrad.float64), 'name': ['a', 'b']}
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch, 0)
    if _is_numpy(elem):
        kind = getattr(getattr(elem, "dtype", None), "kind", "O")
        if kind in "SaUO":
            raise TypeError(_NOT_COLLATABLE.format(elem.dtype))
        return stack([as_tensor(b) for b in batch], 0)
    if isinstance(elem, bool):
        return tensor(batch, dtype=dtypes.bool)
    if isinstance(elem, int):
        return tensor(batch, dtype=dtypes.int64)
    if isinstance(elem, float):
        return tensor(batch, dtype=dtypes.float64)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, dict):
        out = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(out) if type(elem) is not dict else out
        except TypeError:
            return out
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, (list, tuple)):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(list(s)) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return fields
        try:
            return type(elem)(fields)
        except TypeError:
            return fields
    raise TypeError(_NOT_COLLATABLE.format(type(elem)))


class DataLoader:
    """Batches of `dataset`, in the order of a sampler, collated by `collate_fn`.

    As torch's: `batch_size` (None: no batching), `shuffle` (a RandomSampler
    drawing from `generator`), `sampler`, `batch_sampler`, `drop_last`,
    `collate_fn` (default: `default_collate`), `len()`. `num_workers` above 0
    warns and loads in this process; `pin_memory`, `timeout`,
    `worker_init_fn`, `prefetch_factor` and `persistent_workers` are accepted
    and have no effect.

    >>> import plugrad as pg
    >>> loader = DataLoader(TensorDataset(pg.arange(6.0)), batch_size=4, drop_last=True)
    >>> len(loader), [b[0].tolist() for b in loader]
    (1, [[0.0, 1.0, 2.0, 3.0]])
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0, collate_fn=None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        del pin_memory, timeout, worker_init_fn, multiprocessing_context, prefetch_factor
        del persistent_workers, pin_memory_device, in_order
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 "
                             "to disable multiprocessing.")
        if num_workers > 0:
            warnings.warn(f"plugrad's DataLoader loads in this process: num_workers="
                          f"{num_workers} is treated as 0", stacklevel=2)
        self.dataset = dataset
        self.num_workers = 0
        self.generator = generator
        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"shuffle option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None and not iterable:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle else
                       SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None and not iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._auto_collation = batch_sampler is not None or (iterable and batch_size is not None)
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if self._auto_collation else default_convert)
        self._gather = (type(dataset) is TensorDataset and self.collate_fn is default_collate
                        and type(batch_sampler) is BatchSampler and
                        type(sampler) in (SequentialSampler, RandomSampler))

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    def __iter__(self):
        if self._gather:
            return self._gathered()
        if isinstance(self.dataset, IterableDataset):
            return self._iterated()
        if self.batch_sampler is not None:
            return (self.collate_fn([self.dataset[i] for i in batch])
                    for batch in self.batch_sampler)
        return (self.collate_fn(self.dataset[i]) for i in self.sampler)

    def _iterated(self):
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def _gathered(self):
        """A TensorDataset's batches: one gather per tensor, on the tensors' backends."""
        tensors = self.dataset.tensors
        order = self.sampler._order()
        size, n = self.batch_sampler.batch_size, order.shape[0]
        stop = n - n % size if self.batch_sampler.drop_last else n
        orders = {}  # the epoch's order on each backend the tensors live on
        for t in tensors:
            if t.backend not in orders:
                orders[t.backend] = order.to(t.backend)._array
        for start in range(0, stop, size):
            batch = []
            for t in tensors:
                k = t.backend
                idx = k.getitem(orders[k], (slice(start, start + size),))
                if t.requires_grad:  # recorded, as torch's stack of rows is
                    batch.append(t.index_select(0, _make(idx, dtypes.int64, k)))
                else:
                    batch.append(_make(k.getitem(t._array, (idx,)), t.dtype, k))
            yield batch
