"""One epoch of a DataLoader over a 60,000 x 784 float32 TensorDataset, batch 64: plugrad
against torch (shuffled and in order). Prints seconds per epoch and the ratio.

    python benchmarks/dataloader_epoch.py
"""
from __future__ import annotations

import time

import numpy as np
import plugrad as pg
from plugrad.utils.data import DataLoader, TensorDataset


def _epoch(loader) -> float:
    start = time.perf_counter()
    for _ in loader:
        pass
    return time.perf_counter() - start


def main() -> None:
    import torch
    from torch.utils.data import DataLoader as TorchLoader
    from torch.utils.data import TensorDataset as TorchDataset

    x = np.random.default_rng(0).standard_normal((60000, 784)).astype(np.float32)
    y = np.arange(60000) % 10
    mine = TensorDataset(pg.tensor(x), pg.tensor(y))
    theirs = TorchDataset(torch.from_numpy(x), torch.from_numpy(y))
    for shuffle in (False, True):
        ours = min(_epoch(DataLoader(mine, batch_size=64, shuffle=shuffle)) for _ in range(3))
        ref = min(_epoch(TorchLoader(theirs, batch_size=64, shuffle=shuffle)) for _ in range(2))
        print(f"shuffle={shuffle}: plugrad {ours:.3f} s, torch {ref:.3f} s per epoch; "
              f"plugrad/torch = {ours / ref:.3f}")


if __name__ == "__main__":
    main()
