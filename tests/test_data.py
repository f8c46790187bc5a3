"""plugrad.utils.data (core/utils/data/): datasets, samplers, DataLoader and collation, with
the structure of torch.utils.data's batches (sizes, drop_last, nested collation); random
orders are plugrad's own, so only their laws and their seeding are checked."""
from __future__ import annotations

import collections
import warnings

import numpy as np
import plugrad as pg
import pytest
from plugrad.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    default_collate,
    random_split,
)

Point = collections.namedtuple("Point", "x label")


def _torch_data():
    pytest.importorskip("torch")
    import torch.utils.data as tdata
    return tdata


def _structure(obj):
    """A batch's structure, library-free: containers and, for tensors, shape and dtype."""
    if hasattr(obj, "shape") and hasattr(obj, "dtype"):
        return ("tensor", tuple(obj.shape), str(obj.dtype).split(".")[-1], obj.tolist())
    if isinstance(obj, dict):
        return (type(obj).__name__, {k: _structure(v) for k, v in obj.items()})
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return ("namedtuple", tuple(_structure(v) for v in obj))
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [_structure(v) for v in obj])
    return obj


class Samples:
    """A map-style dataset written once for both libraries: nested samples."""

    def __init__(self, lib, n=7):
        self.lib, self.n = lib, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        lib = self.lib
        return {"x": lib.full((2, 3), float(i)), "y": i, "w": i / 2, "flag": i % 2 == 0,
                "name": f"s{i}", "pair": (lib.tensor([i, i + 1]), [i * 1.0]),
                "point": Point(lib.tensor(float(i)), i), "arr": np.full(2, i, np.float32)}


@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (3, False), (3, True), (7, True),
                                                  (10, False), (10, True)])
def test_batches_have_torch_structure(batch_size, drop_last):
    tdata = _torch_data()
    import torch
    want = [_structure(b) for b in tdata.DataLoader(Samples(torch), batch_size=batch_size,
                                                    drop_last=drop_last)]
    loader = DataLoader(Samples(pg), batch_size=batch_size, drop_last=drop_last)
    got = [_structure(b) for b in loader]
    assert got == want
    assert len(loader) == len(tdata.DataLoader(Samples(torch), batch_size=batch_size,
                                               drop_last=drop_last)) == len(got)


def test_tensor_dataset_batches_match_torch():
    tdata = _torch_data()
    import torch
    x = np.arange(40, dtype=np.float32).reshape(10, 4)
    y = np.arange(10)
    for bs, drop in [(4, False), (4, True), (3, False), (10, False)]:
        want = [_structure(b) for b in tdata.DataLoader(
            tdata.TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=bs,
            drop_last=drop)]
        got = [_structure(b) for b in DataLoader(
            TensorDataset(pg.tensor(x), pg.tensor(y)), batch_size=bs, drop_last=drop)]
        assert got == want
    ds = TensorDataset(pg.tensor(x), pg.tensor(y))
    assert _structure(ds[2]) == _structure(tdata.TensorDataset(torch.tensor(x),
                                                               torch.tensor(y))[2])


def test_the_gather_road_gives_what_the_generic_road_gives():
    x, y = pg.randn(50, 3), pg.arange(50)
    ds = TensorDataset(x, y)
    for shuffle in (False, True):
        for drop in (False, True):
            fast = DataLoader(ds, batch_size=8, shuffle=shuffle, drop_last=drop,
                              generator=pg.Generator().manual_seed(4))
            slow = DataLoader(ds, batch_size=8, shuffle=shuffle, drop_last=drop,
                              generator=pg.Generator().manual_seed(4),
                              collate_fn=lambda b: default_collate(b))
            assert fast._gather and not slow._gather
            a, b = list(fast), list(slow)
            assert [[t.tolist() for t in batch] for batch in a] == \
                [[t.tolist() for t in batch] for batch in b]
            assert all(t.dtype is u.dtype for p, q in zip(a, b) for t, u in zip(p, q))


def test_a_batch_is_a_copy_and_carries_gradients():
    w = pg.ones(4, 2, requires_grad=True)
    batch = next(iter(DataLoader(TensorDataset(w), batch_size=3)))[0]
    assert batch.grad_fn is not None
    batch.sum().backward()
    assert w.grad.tolist() == [[1.0, 1.0]] * 3 + [[0.0, 0.0]]
    data = pg.zeros(4)
    first = next(iter(DataLoader(TensorDataset(data), batch_size=2)))[0]
    first.add_(1)
    assert data.tolist() == [0.0] * 4


def test_gather_on_other_backends():
    pytest.importorskip("dask")
    x = pg.arange(12.0, backend="dask").reshape(6, 2)
    batches = list(DataLoader(TensorDataset(x), batch_size=4))
    assert batches[0][0].backend is x.backend
    assert [b[0].tolist() for b in batches] == [x[:4].tolist(), x[4:].tolist()]


def test_shuffle_is_seeded_and_a_permutation():
    ds = TensorDataset(pg.arange(100))

    def order(seed):
        loader = DataLoader(ds, batch_size=16, shuffle=True,
                            generator=pg.Generator().manual_seed(seed))
        return [v for (b,) in loader for v in b.tolist()]
    assert order(1) == order(1) != order(2)
    assert sorted(order(1)) == list(range(100)) and order(1) != list(range(100))
    pg.manual_seed(3)
    loader = DataLoader(ds, batch_size=16, shuffle=True)
    first = [v for (b,) in loader for v in b.tolist()]
    second = [v for (b,) in loader for v in b.tolist()]
    assert first != second  # each epoch a new order
    pg.manual_seed(3)
    assert [v for (b,) in loader for v in b.tolist()] == first


def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    g = pg.Generator().manual_seed(0)
    assert sorted(RandomSampler(range(5), generator=g)) == [0, 1, 2, 3, 4]
    more = list(RandomSampler(range(3), num_samples=8, generator=g))
    assert len(more) == 8 and sorted(set(more)) == [0, 1, 2]
    assert all(more.count(i) in (2, 3) for i in range(3))  # permutations, one after another
    drawn = list(RandomSampler(range(3), replacement=True, num_samples=70, generator=g))
    assert len(drawn) == 70 and set(drawn) == {0, 1, 2}
    assert len(RandomSampler(range(3), replacement=True, num_samples=70)) == 70
    assert sorted(SubsetRandomSampler([9, 4, 6], generator=g)) == [4, 6, 9]
    assert list(BatchSampler(range(7), 3, False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(range(7), 3, True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, False)) == 3


@pytest.mark.parametrize("make", [
    lambda d, lib: d.RandomSampler(range(3), replacement=1),
    lambda d, lib: d.RandomSampler(range(3), num_samples=0),
    lambda d, lib: d.BatchSampler(range(3), 0, False),
    lambda d, lib: d.BatchSampler(range(3), True, False),
    lambda d, lib: d.BatchSampler(range(3), 2, 1),
    lambda d, lib: d.DataLoader(range(3), sampler=[0], shuffle=True),
    lambda d, lib: d.DataLoader(range(3), batch_sampler=[[0]], batch_size=2),
    lambda d, lib: d.DataLoader(range(3), batch_size=None, drop_last=True),
    lambda d, lib: d.DataLoader(range(3), num_workers=-1),
    lambda d, lib: d.TensorDataset(lib.ones(3), lib.ones(4)),
    lambda d, lib: d.random_split(range(5), [2, 2]),
    lambda d, lib: d.ConcatDataset([]),
    lambda d, lib: d.default_collate([[1, 2], [1]]),
    lambda d, lib: d.default_collate([object()]),
    lambda d, lib: d.default_collate([np.array(["a"]), np.array(["b"])]),
    lambda d, lib: d.default_collate([lib.ones(2), lib.ones(3)]),
])
def test_errors_as_torch(make):
    tdata = _torch_data()
    import plugrad.utils.data as pdata
    import torch
    with pytest.raises(Exception) as want:
        make(tdata, torch)
    with pytest.raises(type(want.value)):
        make(pdata, pg)


def test_datasets():
    class Squares(Dataset):
        def __getitem__(self, i):
            return i * i

        def __len__(self):
            return 5

    both = Squares() + Squares()
    assert isinstance(both, ConcatDataset) and len(both) == 10 and both[7] == 4
    assert both[-1] == 16 and both.cumulative_sizes == [5, 10]
    with pytest.raises(IndexError):
        both[10]
    with pytest.raises(ValueError):
        both[-11]
    sub = Subset(Squares(), [4, 0])
    assert len(sub) == 2 and sub[0] == 16 and sub[1] == 0
    with pytest.raises(NotImplementedError):
        Dataset()[0]
    with pytest.raises(AssertionError):
        ConcatDataset([Squares(), IterableDataset()])


def test_random_split():
    g = pg.Generator().manual_seed(0)
    parts = random_split(range(10), [3, 7], generator=g)
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(list(parts[0]) + list(parts[1])) == list(range(10))
    again = random_split(range(10), [3, 7], generator=pg.Generator().manual_seed(0))
    assert [list(p) for p in again] == [list(p) for p in parts]
    tdata = _torch_data()
    for fractions in ([0.5, 0.5], [0.3, 0.3, 0.4], [0.1, 0.9], [1 / 3] * 3):
        want = [len(p) for p in tdata.random_split(range(11), fractions)]
        assert [len(p) for p in random_split(range(11), fractions)] == want
    with pytest.warns(UserWarning, match="index 0 is 0"):
        random_split(range(3), [0.0, 1.0])
    with pytest.raises(ValueError, match="between 0 and 1"):
        random_split(range(3), [1.5, -0.5])


class Counting(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def test_iterable_datasets_as_torch():
    tdata = _torch_data()

    class TorchCounting(tdata.IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    for kw in ({"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": None}):
        want = list(tdata.DataLoader(TorchCounting(), **kw))
        loader = DataLoader(Counting(7), **kw)
        got = list(loader)
        assert [_structure(b) for b in got] == [_structure(b) for b in want]
        assert len(loader) == len(tdata.DataLoader(TorchCounting(), **kw))
    with pytest.raises(ValueError):
        DataLoader(Counting(3), shuffle=True)


def test_custom_samplers_and_collate():
    ds = list(range(10))
    loader = DataLoader(ds, batch_sampler=[[3, 1], [2]])
    assert [b.tolist() for b in loader] == [[3, 1], [2]] and len(loader) == 2
    loader = DataLoader(ds, sampler=[9, 8, 7], batch_size=2, collate_fn=list)
    assert list(loader) == [[9, 8], [7]]
    assert list(DataLoader(ds[:3], batch_size=None)) == [0, 1, 2]
    unbatched = list(DataLoader([np.ones(2)], batch_size=None))
    assert isinstance(unbatched[0], pg.Tensor)


def test_num_workers_warns_and_loads_here():
    with pytest.warns(UserWarning, match="num_workers=2"):
        loader = DataLoader(range(4), batch_size=2, num_workers=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [b.tolist() for b in loader] == [[0, 1], [2, 3]]


def test_docstring_examples():
    import doctest

    import plugrad.utils.data
    from plugrad.utils.data import dataloader, dataset, sampler
    for module in (plugrad.utils.data, dataloader, dataset, sampler):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS |
                                 doctest.NORMALIZE_WHITESPACE)
        assert result.attempted and not result.failed
