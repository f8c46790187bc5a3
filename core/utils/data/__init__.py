"""plugrad.utils.data: datasets, samplers and the DataLoader, as torch.utils.data has them.

A `TensorDataset`'s batches are gathered on the dataset's backend, one
indexing call per tensor and batch (`x[batch_indices]`), never item by item
through the host. Only `num_workers=0` loads: other values warn and load in
this process.

>>> import plugrad as pg
>>> from plugrad.utils.data import DataLoader, TensorDataset
>>> data = TensorDataset(pg.arange(10.0).reshape(5, 2), pg.arange(5))
>>> [tuple(y.tolist()) for _, y in DataLoader(data, batch_size=2)]
[(0, 1), (2, 3), (4,)]
"""
from __future__ import annotations

from .dataloader import DataLoader, default_collate, default_convert
from .dataset import (
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
)

__all__ = ["DataLoader", "default_collate", "default_convert", "Dataset", "IterableDataset",
           "TensorDataset", "Subset", "ConcatDataset", "random_split", "Sampler",
           "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler"]
