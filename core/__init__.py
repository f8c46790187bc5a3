"""plugrad: PyTorch-style automatic differentiation on pluggable array backends.

>>> import plugrad as pg
>>> x = pg.tensor([2.0, 3.0], requires_grad=True)
>>> (x ** 2).sum().backward()
>>> x.grad
tensor([4., 6.])
"""
from __future__ import annotations

import builtins

__version__ = "0.1.0"

from . import accelerator, autograd, backends, cuda, dtypes, nn, optim, random, utils, viz
from .autograd.anomaly_mode import is_anomaly_enabled
from .autograd.anomaly_mode import set_anomaly as set_anomaly_enabled
from .compile import compile  # noqa: A004 - torch.compile
from .creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    get_default_device,
    linspace,
    logspace,
    manual_seed,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    set_default_device,
    tensor,
    zeros,
    zeros_like,
)
from .device import device
from .dtypes import (  # noqa: A004
    bool,
    dtype,
    float16,
    float32,
    float64,
    get_default_dtype,
    int32,
    int64,
    promote_types,
    result_type,
    set_default_dtype,
)
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)

# the ops: each module's __all__ is the list of its declared plugrad.* functions
from .indexing import *  # noqa: F403
from .inplace import *  # noqa: F403
from .linalg import *  # noqa: F403
from .matrices import *  # noqa: F403
from .methods import bind_methods as _bind_methods  # noqa: F401 - binds Tensor's methods
from .operands import broadcast_shapes
from .pointwise import *  # noqa: F403
from .pointwise import to_dtype as _to_dtype
from .random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    seed,
    set_rng_state,
)
from .reduction import *  # noqa: F403
from .sampling import *  # noqa: F403
from .serialization import load, save
from .shape import *  # noqa: F403
from .tensor import Size, Tensor

float = float32  # noqa: A001 - torch.float
double = float64
half = float16
long = int64
int = int32  # noqa: A001 - torch.int


def is_tensor(obj) -> "builtins.bool":
    """True if `obj` is a plugrad Tensor."""
    return isinstance(obj, Tensor)


def numel(x: Tensor) -> "builtins.int":
    """The number of elements of `x`."""
    return x.numel()


def detach(x: Tensor) -> Tensor:
    return x.detach()


def compute(*tensors) -> tuple:
    """Evaluate the pending work of lazy tensors in one pass; returns the arguments as a tuple.

    On a lazy backend (Dask) a tensor is a recipe until its values are needed.
    `compute` evaluates all of `tensors` together, so work they share (the
    forward pass behind a loss and its gradients) is done once, and keeps each
    result in the same tensor object: its values are unchanged, so its
    version, its `requires_grad` and its place in the autograd graph are too.
    With a dask.distributed client the results stay on the workers, and
    `compute` returns once the work is handed to the scheduler (reading a
    value waits for it; so do errors, which surface then). On an
    eager backend (NumPy, CuPy) there is nothing pending and it does nothing.

    A module stands for its parameters and buffers, an optimizer for its
    parameters and its state (momentum, moments). In a training loop on Dask,
    call `pg.compute(model, opt)` after each `opt.step()`: each step's update
    is then built on computed values, instead of on a graph that every step
    makes longer.

    >>> import plugrad as pg
    >>> x = pg.tensor([1.0, 2.0], requires_grad=True)
    >>> loss = (x * x).sum()
    >>> loss.backward()
    >>> loss, g = pg.compute(loss, x.grad)
    >>> loss, g
    (tensor(5., grad_fn=<SumBackward0>), tensor([2., 4.]))
    """
    groups: dict = {}
    for t in _tensors_of(tensors):
        groups.setdefault(id(t.backend), (t.backend, {}))[1].setdefault(id(t), t)
    for bk, ts in groups.values():
        ts = list(ts.values())
        arrays = bk.compute([t._array for t in ts])
        for t, data in zip(ts, arrays):
            t._array = data
    return tensors


def _tensors_of(objects):
    """The tensors of compute's arguments: tensors, modules, optimizers (and None: skipped)."""
    for obj in objects:
        if isinstance(obj, Tensor):
            yield obj
        elif isinstance(obj, nn.Module):
            yield from obj.parameters()
            yield from obj.buffers()
        elif isinstance(obj, optim.Optimizer):
            for group in obj.param_groups:
                yield from group["params"]
            for state in obj.state.values():
                for v in state.values():
                    if isinstance(v, Tensor):
                        yield v
                    elif isinstance(v, list):  # LBFGS's history
                        yield from (t for t in v if isinstance(t, Tensor))
        elif obj is not None:
            raise TypeError(f"compute() takes tensors, modules and optimizers, got "
                            f"{type(obj).__name__}")


set_default_backend = backends.set_default_backend
default_backend = backends.default_backend
