"""Run one program on torch and on plugrad and compare what comes out.

`same_as_torch(fn, *arrays)` calls `fn(lib, *tensors)` with lib = torch and then
plugrad (float arrays become tensors that require grad), and compares each
output's values, dtype and grad_fn name, then the gradients of the inputs for
one random cotangent. `same_error(fn, *arrays)` checks that both raise the same
exception type.
"""
from __future__ import annotations

import numpy as np
import plugrad as pg
import pytest


def _torch():
    """torch, or a skip of the calling test where it is not installed."""
    return pytest.importorskip("torch")


def _inputs(lib, arrays):
    out = []
    for a in arrays:
        a = np.asarray(a)
        grad = a.dtype.kind == "f"
        out.append(lib.tensor(a.tolist() if a.ndim else a.item(),
                              dtype=getattr(lib, str(a.dtype)), requires_grad=grad))
    return out


def _flat(r) -> list:
    return list(r) if isinstance(r, (tuple, list)) else [r]


def same_as_torch(fn, *arrays, names: bool = True, seed: int = 0) -> None:
    torch = _torch()
    tt, pt = _inputs(torch, arrays), _inputs(pg, arrays)
    tr, pr = _flat(fn(torch, *tt)), _flat(fn(pg, *pt))
    assert len(tr) == len(pr)
    for a, b in zip(tr, pr):
        if isinstance(a, bool):
            assert a is b
            continue
        assert str(a.dtype).removeprefix("torch.") == b.dtype.name
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-6,
                                   atol=1e-9)
        if names and a.grad_fn is not None:
            assert b.grad_fn is not None and b.grad_fn.name() == a.grad_fn.name()
    touts = [o for o in tr if not isinstance(o, bool) and o.requires_grad]
    pouts = [o for o in pr if not isinstance(o, bool) and o.requires_grad]
    assert len(touts) == len(pouts)
    if not touts:
        return
    rng = np.random.default_rng(seed)
    cots = [rng.standard_normal(tuple(o.shape)) for o in touts]
    torch.autograd.backward(touts, [torch.tensor(c, dtype=o.dtype) for c, o in zip(cots, touts)])
    pg.autograd.backward(pouts, [pg.tensor(c, dtype=o.dtype) for c, o in zip(cots, pouts)])
    for a, b in zip(tt, pt):
        if a.grad is None:
            assert b.grad is None or not np.any(b.grad.numpy())
        else:
            np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-6, atol=1e-9)


def same_error(fn, *arrays) -> None:
    torch = _torch()
    with pytest.raises(Exception) as expected:
        fn(torch, *_inputs(torch, arrays))
    with pytest.raises(type(expected.value)):
        fn(pg, *_inputs(pg, arrays))
