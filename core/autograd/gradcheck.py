"""gradcheck and gradgradcheck: compare backward with finite differences.

`gradcheck(func, inputs)` builds two jacobians of func at `inputs` for every
input that requires grad and every output that does:

- numerical: central differences (f(x + eps) - f(x - eps)) / (2 eps), one
  element of one input at a time, in Python floats;
- analytical: one backward pass per output element, with a one-hot gradient.

and asks that they agree within `atol + rtol * |numerical|`. It also checks
that backward gives the same result twice (within nondet_tol), that its
gradients have the inputs' shapes, and that zero output gradients give zero
input gradients. `gradgradcheck` runs gradcheck on the function that maps
(inputs, grad_outputs) to the gradients, which checks second derivatives.

Everything goes through plugrad ops and backend kernels, so a backend author
can check their kernels with it. Inputs should be float64: in float32 the
finite differences are too noisy for the default tolerances (a warning says
so, as in torch).
"""
from __future__ import annotations

import random
import warnings

from .. import dtypes
from ..backend import written
from ..creation import tensor as _tensor
from ..engine import grad as _grad
from ..tensor import Tensor, _make

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck and gradgradcheck when a check fails."""


def _as_tuple(x) -> tuple:
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _flat(t: Tensor) -> list:
    """t's values as a flat list of Python floats."""
    values = t.detach().reshape(-1).tolist()
    return [float(v) for v in values]


def _unravel(k: int, shape: tuple) -> tuple:
    index = []
    for size in reversed(shape):
        k, r = divmod(k, size)
        index.append(r)
    return tuple(reversed(index))


def _with_value(t: Tensor, k: int, value: float) -> Tensor:
    """A copy of leaf t with element k (flat index) set to value, requiring grad like t."""
    bk = t.backend
    data = bk.mutable(bk.copy(t._array))
    data = written(bk.setitem(data, _unravel(k, tuple(t._array.shape)), value), data)
    out = _make(data, t.dtype, t.backend)
    out._rg = t._rg
    return out


def _tensor_outputs(result) -> tuple:
    return tuple(o for o in _as_tuple(result) if isinstance(o, Tensor))


def _differentiable(outputs: tuple) -> list:
    return [i for i, o in enumerate(outputs) if o._rg]


# -- the two jacobians -----------------------------------------------------------------------
# Both are stored the way torch prints them: jac[input][output] is a list of
# rows, one per element of the input, each with one entry per output element.
def _numerical(func, inputs: tuple, wrt: list, out_idx: list, eps: float) -> list:
    jac = []
    for j in wrt:
        inp = inputs[j]
        per_output = [[] for _ in out_idx]
        for k, x in enumerate(_flat(inp)):
            values = []
            for step in (eps, -eps):
                moved = list(inputs)
                moved[j] = _with_value(inp, k, x + step)
                outs = _tensor_outputs(func(*moved))
                values.append([_flat(outs[o]) for o in out_idx])
            for n, (plus, minus) in enumerate(zip(*values)):
                per_output[n].append([(a - b) / (2 * eps) for a, b in zip(plus, minus)])
        jac.append(per_output)
    return jac


def _one_hot(out: Tensor, r: int) -> Tensor:
    bk = out.backend
    data = bk.mutable(bk.full(tuple(out._array.shape), 0, out.dtype))
    data = written(bk.setitem(data, _unravel(r, tuple(out._array.shape)), 1), data)
    return _make(data, out.dtype, bk)


def _analytical(inputs: tuple, wrt: list, outputs: tuple, out_idx: list,
                check_grad_dtypes: bool) -> list:
    diff_inputs = [inputs[j] for j in wrt]
    jac = [[[[0.0] * outputs[o].numel() for _ in range(inputs[j].numel())] for o in out_idx]
           for j in wrt]
    for n, o in enumerate(out_idx):
        out = outputs[o]
        for r in range(out.numel()):
            grads = _grad((out,), diff_inputs, (_one_hot(out, r),), retain_graph=True,
                          allow_unused=True)
            for m, (g, inp) in enumerate(zip(grads, diff_inputs)):
                if g is None:
                    continue
                if tuple(g.shape) != tuple(inp.shape):
                    raise GradcheckError("Analytical gradient has incorrect size")
                if check_grad_dtypes and g.dtype is not inp.dtype:
                    raise GradcheckError("Gradient has dtype mismatch")
                for k, value in enumerate(_flat(g)):
                    jac[m][n][k][r] = value
    return jac


def _close(a: float, n: float, rtol: float, atol: float) -> bool:
    return abs(a - n) <= atol + rtol * abs(n)  # False for NaN, as torch's allclose


def _as_printable(rows: list, like: Tensor) -> Tensor:
    return _tensor(rows, dtype=dtypes.float64, backend=like.backend)


# -- checks ------------------------------------------------------------------------------------
def _check_inputs(inputs: tuple) -> list:
    wrt = []
    for i, inp in enumerate(inputs):
        if isinstance(inp, Tensor) and inp._rg:
            if inp.dtype is not dtypes.float64:
                warnings.warn(f"Input #{i} requires gradient and is not a double precision "
                              "floating point or complex. This check will likely fail if all "
                              "the inputs are not of double precision floating point or "
                              "complex. ", UserWarning, stacklevel=3)
            wrt.append(i)
    if not wrt:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, "
                         "but none of them have requires_grad=True.")
    return wrt


def _slow_check(func, inputs, wrt, outputs, out_idx, eps, atol, rtol, nondet_tol,
                check_grad_dtypes) -> None:
    numerical = _numerical(func, inputs, wrt, out_idx, eps)
    first = _analytical(inputs, wrt, outputs, out_idx, check_grad_dtypes)
    second = _analytical(inputs, wrt, outputs, out_idx, check_grad_dtypes)
    for m, j in enumerate(wrt):
        for n in range(len(out_idx)):  # torch counts only differentiable outputs and inputs
            num, ana = numerical[m][n], first[m][n]
            if not all(_close(a, x, rtol, atol) for ra, rx in zip(ana, num)
                       for a, x in zip(ra, rx)):
                raise GradcheckError(
                    f"Jacobian mismatch for output {n:d} with respect to input {m:d},\n"
                    f"numerical:{_as_printable(num, inputs[j])}\n"
                    f"analytical:{_as_printable(ana, inputs[j])}\n")
            again = second[m][n]
            if any(abs(a - b) > nondet_tol for ra, rb in zip(ana, again)
                   for a, b in zip(ra, rb)):
                raise GradcheckError(
                    "Backward is not reentrant, i.e., running backward with same input and "
                    "grad_output multiple times gives different values, although analytical "
                    "gradient matches numerical gradient. The tolerance for nondeterminism was "
                    f"{nondet_tol}.")


def _random_like(t: Tensor, rng: random.Random, low: float = 0.0, high: float = 1.0,
                 dtype=None) -> Tensor:
    dtype = dtype or t.dtype
    values = [rng.uniform(low, high) for _ in range(t.numel())]
    data = t.backend.reshape(t.backend.asarray(values, dtype), tuple(t._array.shape))
    return _make(data, dtype, t.backend)


def _dot(a: list, b: list) -> float:
    return sum(x * y for x, y in zip(a, b))


def _fast_check(func, inputs, wrt, outputs, out_idx, eps, atol, rtol) -> None:
    """Compare v^T J u numerically and analytically for random u (per input), v (per output)."""
    rng = random.Random(0)
    us = {j: _random_like(inputs[j], rng) for j in wrt}
    vs = {o: _random_like(outputs[o], rng) for o in out_idx}
    for m, j in enumerate(wrt):
        inp = inputs[j]
        directions = []
        for sign in (1, -1):
            moved = list(inputs)
            shifted = (inp.detach() + us[j] * (sign * eps)).detach()
            shifted._rg = inp._rg
            moved[j] = shifted
            directions.append(_tensor_outputs(func(*moved)))
        for n, o in enumerate(out_idx):
            jvp = [(a - b) / (2 * eps) for a, b in zip(_flat(directions[0][o]),
                                                      _flat(directions[1][o]))]
            numerical = _dot(_flat(vs[o]), jvp)
            (g,) = _grad((outputs[o],), (inp,), (vs[o],), retain_graph=True, allow_unused=True)
            analytical = 0.0 if g is None else _dot(_flat(g), _flat(us[j]))
            if not _close(analytical, numerical, rtol, atol):
                raise GradcheckError(
                    f"Jacobian mismatch for output {n:d} with respect to input {m:d},\n"
                    f"numerical:{numerical}\nanalytical:{analytical}\n\n"
                    "The above quantities relating the numerical and analytical jacobians are "
                    "computed in fast mode (v^T J u for random u and v). Run with "
                    "fast_mode=False to see the full jacobians.")


def _check_zero_outputs(func, inputs, wrt, outputs, out_idx) -> None:
    """Zero gradients for every output must give zero (or no) gradient for every input."""
    outs = [outputs[o] for o in out_idx]
    zeros = [_make(o.backend.full(tuple(o._array.shape), 0, o.dtype), o.dtype, o.backend)
             for o in outs]
    try:
        grads = _grad(outs, [inputs[j] for j in wrt], zeros, retain_graph=True,
                      allow_unused=True)
    except RuntimeError as err:
        raise GradcheckError("Expected backward function to handle undefined output grads. "
                             'Please look at "Notes about undefined output gradients" in '
                             '"tools/autograd/derivatives.yaml"') from err
    for g in grads:
        if g is not None and any(v != 0 for v in _flat(g)):
            raise GradcheckError("Expected all input grads to be undefined or zero when all "
                                 "output grads are undefined or zero.")


def _check_no_differentiable_outputs(func, inputs, wrt, outputs, eps) -> None:
    numerical = _numerical(func, inputs, wrt, list(range(len(outputs))), eps)
    for per_input in numerical:
        for rows in per_input:
            if any(v != 0 for row in rows for v in row):
                raise GradcheckError("Numerical gradient for function expected to be zero")


def _unsupported(**flags) -> None:
    for name, value in flags.items():
        if value:
            raise NotImplementedError(f"gradcheck({name}=True) needs forward-mode AD or vmap, "
                                      f"which plugrad does not have")


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0,
              check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
              check_batched_grad: bool = False, check_batched_forward_grad: bool = False,
              check_forward_ad: bool = False, check_backward_ad: bool = True,
              fast_mode: bool = False, masked: bool | None = None) -> bool:
    """True if the gradients of func at inputs match finite differences.

    A failure raises GradcheckError (a RuntimeError) describing it, or returns
    False with raise_exception=False. `masked` is accepted for torch's
    signature (plugrad has no sparse tensors).

    >>> import plugrad as pg
    >>> x = pg.tensor([0.5, 1.5], dtype=pg.float64, requires_grad=True)
    >>> pg.autograd.gradcheck(lambda t: (t * t).sin(), (x,))
    True
    """
    _unsupported(check_batched_grad=check_batched_grad,
                 check_batched_forward_grad=check_batched_forward_grad,
                 check_forward_ad=check_forward_ad)
    inputs = _as_tuple(inputs)
    try:
        wrt = _check_inputs(inputs)
        outputs = _tensor_outputs(func(*inputs))
        if not check_backward_ad:
            return True
        out_idx = _differentiable(outputs)
        if not out_idx:
            _check_no_differentiable_outputs(func, inputs, wrt, outputs, eps)
            return True
        if fast_mode:
            _fast_check(func, inputs, wrt, outputs, out_idx, eps, atol, rtol)
        else:
            _slow_check(func, inputs, wrt, outputs, out_idx, eps, atol, rtol, nondet_tol,
                        check_grad_dtypes)
        if check_undefined_grad:
            _check_zero_outputs(func, inputs, wrt, outputs, out_idx)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, nondet_tol: float = 0.0,
                  check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
                  check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
                  check_rev_over_rev: bool = True, fast_mode: bool = False,
                  masked: bool = False) -> bool:
    """True if the second derivatives of func at inputs match finite differences.

    Checks the gradient of (inputs, grad_outputs) -> d(outputs . grad_outputs)/d(inputs)
    with gradcheck. Without grad_outputs, random ones are used (a fixed seed,
    so a failure can be reproduced). `gen_non_contig_grad_outputs` is accepted
    for torch's signature (plugrad has no strides).

    >>> import plugrad as pg
    >>> x = pg.tensor([0.5, 1.5], dtype=pg.float64, requires_grad=True)
    >>> pg.autograd.gradgradcheck(lambda t: (t ** 3).sum(), (x,))
    True
    """
    _unsupported(check_batched_grad=check_batched_grad, check_fwd_over_rev=check_fwd_over_rev)
    if not check_rev_over_rev:
        return True
    inputs = _as_tuple(inputs)
    outputs = [o for o in _tensor_outputs(func(*inputs)) if o._rg]
    if grad_outputs is None:
        rng = random.Random(0)
        grad_outputs = tuple(_random_like(o, rng, -1.0, 1.0).requires_grad_(True)
                             for o in outputs)
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x._rg]

    def first_derivatives(*args):
        ins, gouts = args[:n_in], args[n_in:]
        outs = [o for o in _tensor_outputs(func(*ins)) if o._rg]
        grads = _grad(outs, [ins[i] for i in wrt], gouts, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivatives, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad,
                     check_grad_dtypes=check_grad_dtypes, fast_mode=fast_mode)
