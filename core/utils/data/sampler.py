"""Samplers: the orders in which a DataLoader reads a dataset's indices.

RandomSampler draws as torch's does (randperm and randint from its generator;
without one, from a generator seeded by one draw of the default generator),
so a seeded program reads the same order again, though not torch's order.
"""
from __future__ import annotations

from ... import dtypes
from ...creation import arange, empty, randint, randperm
from ...random import Generator
from ...shape import cat

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "BatchSampler"]


class Sampler:
    """Base class: iterating a sampler yields dataset indices (ints)."""

    def __init__(self, data_source=None) -> None:
        del data_source  # torch's signature; subclasses keep what they need

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1.

    >>> list(SequentialSampler(range(3)))
    [0, 1, 2]
    """

    def __init__(self, data_source) -> None:
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)

    def _order(self):
        """The epoch's indices as one int64 tensor (the DataLoader's gather path)."""
        return arange(len(self.data_source), dtype=dtypes.int64, backend="numpy")


def _seeded_generator(generator):
    """`generator`, or a new one seeded by one draw of the default generator (torch's rule)."""
    if generator is not None:
        return generator
    seed = int(empty((), dtype=dtypes.int64, backend="numpy").random_().item())
    return Generator().manual_seed(seed)


class RandomSampler(Sampler):
    """The indices in a random order (a permutation per pass over the data), or
    `num_samples` indices drawn with replacement.

    >>> import plugrad as pg
    >>> g = pg.Generator().manual_seed(0)
    >>> sorted(RandomSampler(range(4), generator=g))
    [0, 1, 2, 3]
    """

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None,
                 generator=None) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={replacement}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.num_samples, int) or isinstance(self.num_samples, bool) or \
                self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __len__(self) -> int:
        return self.num_samples

    def _order(self):
        """The epoch's indices as one int64 tensor on the NumPy backend, drawn as torch draws
        them (randperm per pass; randint in blocks of 32 with replacement)."""
        n, count = len(self.data_source), self.num_samples
        g = _seeded_generator(self.generator)
        if self.replacement:
            parts = [randint(0, n, (32,), generator=g, backend="numpy")
                     for _ in range(count // 32)]
            parts.append(randint(0, n, (count % 32,), generator=g, backend="numpy"))
        else:
            parts = [randperm(n, generator=g, backend="numpy") for _ in range(count // n)]
            parts.append(randperm(n, generator=g, backend="numpy")[:count % n])
        return parts[0] if len(parts) == 1 else cat(parts)

    def __iter__(self):
        yield from self._order().tolist()


class SubsetRandomSampler(Sampler):
    """The given indices, in a random order.

    >>> import plugrad as pg
    >>> sorted(SubsetRandomSampler([5, 7], generator=pg.Generator()))
    [5, 7]
    """

    def __init__(self, indices, generator=None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler):
    """Lists of `batch_size` indices from `sampler` (the last one shorter unless drop_last).

    >>> list(BatchSampler(SequentialSampler(range(5)), 2, drop_last=False))
    [[0, 1], [2, 3], [4]]
    >>> len(BatchSampler(SequentialSampler(range(5)), 2, drop_last=True))
    2
    """

    def __init__(self, sampler, batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got "
                             f"drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        batch = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
