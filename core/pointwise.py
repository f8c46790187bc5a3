"""Elementwise ops, each declared once: its forward on backend kernels, its backward in
tensor ops (so that it is differentiable again), and where it is exported.

Binary ops accept a tensor or a Python number on either side, broadcast like
torch, and promote dtypes with torch's rules (plugrad.operands). Backward
formulas sum a broadcast gradient back to each input's shape (`unbroadcast`).

Two factories keep the common shapes of op to one line each:

* `unary(name, dx=... | dy=...)`: a float op of one tensor on one kernel,
  its gradient written in terms of the saved input x or the saved output y;
* `_arithmetic(...)`: the fast path of +, -, * and / for what nearly every
  program does (two tensors of one dtype, or a tensor and a Python number
  that leaves its dtype alone); everything else takes the op's general path,
  which gives the same results.

The hottest backward formulas also have a `fast` form on raw backend arrays,
used when the backward records no graph (create_graph=False, the usual case):
the same arithmetic without a Tensor per intermediate. Under create_graph they
use tensor ops, so higher derivatives still flow through them.
"""
from __future__ import annotations

import math
from operator import attrgetter

from . import dtypes
from .creation import placement
from .declare import Ops
from .grad_mode import STATE
from .graph import Node
from .operands import (
    cast,
    coerce,
    fits,
    grad_for,
    grad_like,
    grad_on,
    kernel_error,
    meta,
    number,
    tensor_arg,
    unbroadcast,
)
from .recording import edge, record, record1, saved_output
from .tensor import Tensor, _make, accumulator

ops = Ops(__name__)


# -- arithmetic ----------------------------------------------------------------------------
def _record_scalar(out: Tensor, name: str, backward, t: Tensor, scalar, tensor_first=True):
    """Record an op between a tensor and a Python number (no edge for the number)."""
    fn = t.grad_fn
    node = fn if fn is not None else accumulator(t)
    out.grad_fn = Node(name, backward, (node, None) if tensor_first else (None, node), (),
                       scalar)
    out._rg = True
    return out


def _record_pair(out: Tensor, name: str, backward, a: Tensor, b: Tensor, saved, args):
    out.grad_fn = Node(name, backward, (edge(a), edge(b)), saved, args)
    out._rg = True
    return out


def _arithmetic(kernel: str, node: str, backward, scalar_backward, general, *,
                saves_operands: bool, min_category: int = 0):
    """`op(a, b)` for +, -, * or /: the fast path, then `general(a, b)` for the rest.

    The fast path takes a tensor of category >= min_category (bool 0, int 1,
    float 2) on the left and, on the right, a tensor of its dtype and backend
    or a Python number that leaves its dtype alone. A pair of tensors saves
    both operands for backward (saves_operands) or only their shapes where
    they differ (what add and sub need).
    """
    get_kernel = attrgetter(kernel)
    # a number that fits never pairs with a bool tensor (what - refuses); / wants a float one
    scalar_fits = _fits_float if min_category == 2 else fits

    def op(a, b):
        if type(a) is Tensor:
            if type(b) is Tensor:
                if a.dtype is b.dtype and a.backend is b.backend and \
                        a.dtype.category >= min_category:
                    k = a.backend
                    try:
                        out = _make(get_kernel(k)(a._array, b._array), a.dtype, k)
                    except Exception as err:
                        raise kernel_error(kernel, err, a, b) from None
                    if STATE.grad_enabled and (a._rg or b._rg):
                        if saves_operands:
                            _record_pair(out, node, backward, a, b, (a, b), None)
                        else:
                            sa, sb = a._array.shape, b._array.shape
                            _record_pair(out, node, backward, a, b, (),
                                         None if sa == sb else (sa, sb))
                    return out
            elif scalar_fits(a, b):
                out = _make(get_kernel(a.backend)(a._array, b), a.dtype, a.backend)
                if a._rg and STATE.grad_enabled:
                    _record_scalar(out, node, scalar_backward, a, b)
                return out
        return general(a, b)
    op.__name__ = op.__qualname__ = kernel
    return op


def _fits_float(t: Tensor, s) -> bool:
    """A float tensor and a Python int or float: what / takes without promotion."""
    return t.dtype.is_floating_point and (type(s) is float or type(s) is int)


def _add_backward(node, g):
    shapes = node.args
    if shapes is None:
        return g, g
    return unbroadcast(g, shapes[0]), unbroadcast(g, shapes[1])


def _scalar_add_backward(node, g):
    return g, None


def _sub_backward(node, g):
    shapes = node.args
    if shapes is None:
        return g, -g
    return unbroadcast(g, shapes[0]), unbroadcast(-g, shapes[1])


def _scalar_mul_backward(node, g):
    if STATE.grad_enabled:
        return g * node.args, None
    return _make(g.backend.mul(g._array, node.args), g.dtype, g.backend), None


def _scalar_div_backward(node, g):
    return g / node.args, None


def _add_sub(a, b, alpha, op: str) -> Tensor:
    if op == "sub" and (_is_bool(a) or _is_bool(b)):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    bk, ad, bd, d = coerce(a, b, op)
    if alpha != 1:
        alpha = number(alpha, op)
        if type(alpha) is float and not d.is_floating_point:
            raise RuntimeError("For integral input tensors, argument alpha must not be a "
                               "floating point number.")
        if d is dtypes.bool:  # torch reads alpha as a bool here
            alpha = bool(alpha)
        # a Python number stays one, so that it cannot change the tensor's dtype
        bd = bk.mul(bd, alpha) if isinstance(b, Tensor) else bd * alpha
    try:
        out = _make(getattr(bk, op)(ad, bd), d, bk)
    except Exception as err:
        raise kernel_error(op, err, a, b) from None
    if grad_on(a, b):
        if op == "add":
            name = "AddBackward0"
        else:
            name = "SubBackward0" if isinstance(a, Tensor) else "RsubBackward1"
        scale = alpha if op == "add" else -alpha
        record(out, name, _add_sub_backward, (a, b), (), (meta(a), meta(b), scale))
    return out


def _is_bool(x) -> bool:
    return x.dtype is dtypes.bool if isinstance(x, Tensor) else type(x) is bool


def _add_sub_backward(node, g):
    ma, mb, scale = node.args
    ga = gb = None
    if node.inputs[0] is not None:
        ga = grad_like(g, *ma)
    if node.inputs[1] is not None:
        gb = grad_like(g if scale == 1 else (-g if scale == -1 else g * scale), *mb)
    return ga, gb


def _general_mul(a, b) -> Tensor:
    """mul's general path: promotion, numbers on the left, errors."""
    bk, ad, bd, d = coerce(a, b, "mul")
    try:
        out = _make(bk.mul(ad, bd), d, bk)
    except Exception as err:
        raise kernel_error("mul", err, a, b) from None
    if grad_on(a, b):
        record(out, "MulBackward0", _mul_backward, (a, b), (a, b))
    return out


def _mul_backward(node, g):
    a, b = node.saved
    if not STATE.grad_enabled and a.dtype is b.dtype is g.dtype and \
            a._array.shape == b._array.shape == g._array.shape:
        k, d = g.backend, g.dtype
        if a is b:
            return _make(k.mul(g._array, k.mul(a._array, 2)), d, k), None
        return (_make(k.mul(g._array, b._array), d, k) if node.inputs[0] is not None else None,
                _make(k.mul(g._array, a._array), d, k) if node.inputs[1] is not None else None)
    if a is b:
        # x * x: one pass for 2x instead of two products and their sum
        return grad_for(g * (a * 2), a), None
    ga = grad_for(g * b, a) if node.inputs[0] is not None else None
    gb = grad_for(g * a, b) if node.inputs[1] is not None else None
    return ga, gb


def _general_div(a, b, *, rounding_mode=None) -> Tensor:
    """div's general path: int operands, promotion, numbers on the left."""
    if rounding_mode is not None:
        return _rounded_div(a, b, rounding_mode)
    if isinstance(a, Tensor) and not a.dtype.is_floating_point and not (
            isinstance(b, Tensor) and b.dtype.is_floating_point) and type(b) is not float:
        a = to_dtype(a, dtypes.get_default_dtype())
    elif isinstance(b, Tensor) and not b.dtype.is_floating_point and not (
            isinstance(a, Tensor) and a.dtype.is_floating_point) and type(a) is not float:
        b = to_dtype(b, dtypes.get_default_dtype())
    bk, ad, bd, d = coerce(a, b, "div")
    try:
        out = _make(bk.div(ad, bd), d, bk)
    except Exception as err:
        raise kernel_error("div", err, a, b) from None
    if grad_on(a, b):
        record(out, "DivBackward0", _div_backward, (a, b), (a, b))
    return out


def _rounded_div(a, b, mode: str) -> Tensor:
    """div(rounding_mode='floor' or 'trunc'): the quotient rounded, in the operands' dtype;
    its gradient is zero, as in torch."""
    if mode not in ("floor", "trunc"):
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                         f"but found '{mode}'")
    bk, ad, bd, d = coerce(a, b, "div")
    if d is dtypes.bool:
        raise NotImplementedError(f"\"div_{mode}_cpu\" not implemented for 'Bool'")
    try:
        if d.is_floating_point:
            q = bk.floor_divide(ad, bd) if mode == "floor" else bk.trunc(bk.div(ad, bd))
        else:
            _check_integer_divisor(bk, b, bd)
            q = bk.floor_divide(ad, bd)
            if mode == "trunc":  # an inexact negative quotient was rounded down: up by one
                q = bk.where(bk.logical_and(bk.ne(bk.mul(q, bd), ad), bk.lt(q, 0)),
                             bk.add(q, 1), q)
    except Exception as err:
        raise kernel_error("div", err, a, b) from None
    out = _make(q, d, bk)
    if grad_on(a, b):
        record(out, "DivBackward2", _zero_backward, (a, b), (), (meta(a), meta(b)))
    return out


def _zero_backward(node, g):
    ma, mb = node.args
    zero = g * 0
    return (grad_like(zero, *ma) if node.inputs[0] is not None else None,
            grad_like(zero, *mb) if node.inputs[1] is not None else None)


def _div_backward(node, g):
    a, b = node.saved
    ga = grad_for(g / b, a) if node.inputs[0] is not None else None
    gb = grad_for(-g * a / (b * b), b) if node.inputs[1] is not None else None
    return ga, gb




_add = _arithmetic("add", "AddBackward0", _add_backward, _scalar_add_backward,
                   lambda a, b: _add_sub(a, b, 1, "add"), saves_operands=False)
_sub = _arithmetic("sub", "SubBackward0", _sub_backward, _scalar_add_backward,
                   lambda a, b: _add_sub(a, b, 1, "sub"), saves_operands=False,
                   min_category=1)
mul = _arithmetic("mul", "MulBackward0", _mul_backward, _scalar_mul_backward, _general_mul,
                  saves_operands=True)
mul.__doc__ = "a * b, broadcast."
_div = _arithmetic("div", "DivBackward0", _div_backward, _scalar_div_backward, _general_div,
                   saves_operands=True, min_category=2)


def _radd(a: Tensor, b) -> Tensor:
    """b + a for a Python number b (Tensor.__radd__)."""
    return _add(a, b) if type(b) is not Tensor else _add(b, a)


def _rsub(a: Tensor, b) -> Tensor:
    """b - a for a Python number b (Tensor.__rsub__)."""
    if type(b) is not Tensor and a.dtype is not dtypes.bool and fits(a, b):
        out = _make(a.backend.sub(b, a._array), a.dtype, a.backend)
        if a._rg and STATE.grad_enabled:
            _record_scalar(out, "RsubBackward1", _rsub_backward, a, b)
        return out
    return sub(b, a)


def _rsub_backward(node, g):
    return -g, None


def _rmul(a: Tensor, b) -> Tensor:
    """b * a for a Python number b (Tensor.__rmul__)."""
    return mul(a, b) if type(b) is not Tensor else mul(b, a)


def _rdiv(a: Tensor, b) -> Tensor:
    """b / a (Tensor.__rtruediv__)."""
    return div(b, a)


@ops.declare(inplace=True, operators={"__add__": _add, "__radd__": _radd},
             inplace_operator="__iadd__")
def add(a, b, *, alpha=1) -> Tensor:
    """a + alpha * b, broadcast."""
    return _add(a, b) if alpha == 1 else _add_sub(a, b, alpha, "add")


@ops.declare(inplace=True, operators={"__sub__": _sub, "__rsub__": _rsub},
             inplace_operator="__isub__")
def sub(a, b, *, alpha=1) -> Tensor:
    """a - alpha * b, broadcast."""
    return _sub(a, b) if alpha == 1 else _add_sub(a, b, alpha, "sub")


ops.declare(mul, inplace=True, operators={"__mul__": None, "__rmul__": _rmul},
            inplace_operator="__imul__")


@ops.declare(inplace=True, operators={"__truediv__": _div, "__rtruediv__": _rdiv},
             inplace_operator="__itruediv__")
def div(a, b, *, rounding_mode=None) -> Tensor:
    """a / b (true division: integers divide to floats)."""
    return _div(a, b) if rounding_mode is None else _general_div(a, b,
                                                                rounding_mode=rounding_mode)


true_divide = ops.alias("true_divide", div, inplace=True)


def _rpow(a: Tensor, b) -> Tensor:
    """b ** a (Tensor.__rpow__)."""
    return pow(b, a)


@ops.declare(inplace=True, operators={"__pow__": None, "__rpow__": _rpow},
             inplace_operator="__ipow__")
def pow(a, b) -> Tensor:  # noqa: A001 - torch.pow
    """a ** b, broadcast."""
    bk, ad, bd, d = coerce(a, b, "pow")
    try:  # x ** 2 (square) as x * x: the same values, ~3x faster than NumPy's power
        two = (type(bd) is int or type(bd) is float) and bd == 2
        out = _make(bk.mul(ad, ad) if two else bk.pow(ad, bd), d, bk)
    except Exception as err:
        raise kernel_error("pow", err, a, b) from None
    if grad_on(a, b):
        if not isinstance(b, Tensor):
            name = "PowBackward0"  # tensor ** number
        elif not isinstance(a, Tensor):
            name = "PowBackward2"  # number ** tensor
        else:
            name = "PowBackward1"
        record(out, name, _pow_backward, (a, b), (a, b, out._array))
    return out


def _pow_backward(node, g):
    a, b, out = node.saved
    ga = gb = None
    if node.inputs[0] is not None:
        if isinstance(b, Tensor):
            # torch's convention: a zero exponent gives a zero gradient, also at a == 0
            ga = grad_for(where(b == 0, 0.0, g * b * a ** (b - 1)), a)
        elif b == 0:
            ga = _make(a.backend.full(tuple(a._array.shape), 0, a.dtype), a.dtype, a.backend)
        elif b == 2:
            ga = g * (a * 2)  # skips computing a ** 1
        elif b == 1:
            ga = g
        else:
            ga = g * (b * a ** (b - 1))
    if node.inputs[1] is not None:
        result = saved_output(node, g, out)
        # d(a**b)/db = a**b * log(a), taken as 0 where a == 0 and b >= 0 (its limit)
        if isinstance(a, Tensor):
            gb = where((a == 0) & (b >= 0), 0.0, result * a.log())
        elif a == 0:
            gb = where(b >= 0, 0.0, result * _log_number(a))
        else:
            gb = result * _log_number(a)
        gb = grad_for(g * gb, b)
    return ga, gb




def _log_number(a: float) -> float:
    return math.log(a) if a > 0 else (float("-inf") if a == 0 else float("nan"))


# -- unary math -----------------------------------------------------------------------------
def _unary_input(x: Tensor, op: str):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(x).__name__}")
    d = x.dtype
    if d.is_floating_point:
        return x._array, d
    f = dtypes.get_default_dtype()
    return x.backend.astype(x._array, f), f


def unary(name: str, *, dx=None, dy=None, fast=None, kernel=None, node: str | None = None,
          doc: str = "", **exports):
    """Declare a float op of one tensor on one backend kernel; returns its function.

    The gradient is written with tensor ops, as `dx(g, x)` in terms of the
    saved input or as `dy(g, y)` in terms of the saved output (what is saved
    is what the formula reads). `fast(k, g, y)`, optional, is the same
    formula on backend arrays for a backward that records no graph. `kernel`
    is the backend kernel's name (default: `name`), or `kernel(k, x)`
    composing the forward from kernels of backend k; `node` the grad_fn's name
    (default: torch's, "ExpBackward0"). Integer inputs compute in the
    default float dtype, as torch's do. `exports` are those of `Ops.declare`
    (default: a function, a method and an in-place variant).
    """
    if callable(kernel):
        def get_kernel(k, compose=kernel):
            return lambda data: compose(k, data)
    else:
        get_kernel = attrgetter(kernel or name)
    node_name = node or f"{name.capitalize()}Backward0"
    keeps_output = dy is not None
    formula = dy if keeps_output else dx

    def forward(x: Tensor) -> Tensor:
        data, d = _unary_input(x, name)
        k = x.backend
        out = _make(get_kernel(k)(data), d, k)
        if x._rg and STATE.grad_enabled:
            record1(out, node_name, backward, x, (out._array,) if keeps_output else (x,))
        return out

    def backward(node, g):
        if fast is not None and not STATE.grad_enabled:
            return (_make(fast(g.backend, g._array, node.saved[0]), g.dtype, g.backend),)
        saved = node.saved[0]
        return (formula(g, saved_output(node, g, saved) if keeps_output else saved),)

    forward.__name__ = forward.__qualname__ = name
    forward.__doc__ = doc
    ops.declare(forward, **{"inplace": True, **exports})
    return forward


exp = unary("exp", dy=lambda g, y: g * y, fast=lambda k, g, y: k.mul(g, y),
            doc="e ** x, elementwise.")
log = unary("log", dx=lambda g, x: g / x, doc="Natural logarithm, elementwise.")
sqrt = unary("sqrt", dy=lambda g, y: g / (2 * y), doc="Square root, elementwise.")
sin = unary("sin", dx=lambda g, x: g * x.cos(), doc="Sine, elementwise.")
cos = unary("cos", dx=lambda g, x: -g * x.sin(), doc="Cosine, elementwise.")
tanh = unary("tanh", dy=lambda g, y: g * (1 - y * y),
             fast=lambda k, g, y: k.mul(g, k.sub(1, k.mul(y, y))),
             doc="Hyperbolic tangent, elementwise.")
# sigmoid is an optional kernel: Backend composes it from exp where a backend has none
sigmoid = unary("sigmoid", dy=lambda g, y: g * y * (1 - y),
                fast=lambda k, g, y: k.mul(k.mul(g, y), k.sub(1, y)),
                doc="1 / (1 + e ** -x), elementwise.")
log1p = unary("log1p", dx=lambda g, x: g / (x + 1), node="Log1PBackward0",
              doc="log(1 + x), elementwise; exact also where x is tiny.")
expm1 = unary("expm1", dy=lambda g, y: g * (y + 1),
              doc="e ** x - 1, elementwise; exact also where x is tiny.")
reciprocal = unary("reciprocal", kernel=lambda k, x: k.div(1, x), dy=lambda g, y: -g * y * y,
                   doc="1 / x, elementwise.")
rsqrt = unary("rsqrt", kernel=lambda k, x: k.div(1, k.sqrt(x)),
              dy=lambda g, y: -0.5 * g * y * y * y, doc="1 / sqrt(x), elementwise.")


@ops.declare(inplace=True, operators=("__neg__",))
def neg(x: Tensor) -> Tensor:
    """-x."""
    tensor_arg(x, "neg")
    if x.dtype is dtypes.bool:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    out = _make(x.backend.neg(x._array), x.dtype, x.backend)
    if x._rg and STATE.grad_enabled:
        record1(out, "NegBackward0", _neg_backward, x)
    return out


def _neg_backward(node, g):
    return (-g,)


@ops.declare(inplace=True)
def relu(x: Tensor) -> Tensor:
    """max(x, 0), elementwise."""
    tensor_arg(x, "relu")
    out = _make(x.backend.maximum(x._array, 0), x.dtype, x.backend)
    if x._rg and STATE.grad_enabled:
        record1(out, "ReluBackward0", _relu_backward, x, (out._array,))
    return out


def _relu_backward(node, g):
    # torch's threshold_backward: zero where the output is <= 0 (a NaN passes the
    # gradient). A multiply by the 0/1 mask rather than `where`: NumPy's where is
    # several times slower on a random mask. It differs only where the incoming
    # gradient is itself inf or nan at a unit that is off.
    k = g.backend
    passes = k.astype(k.logical_not(k.le(node.saved[0], 0)), g.dtype)
    if not STATE.grad_enabled:
        passes = k.mutable(passes)  # (a 0-d result may be a library scalar)
        out = k.mul_into(passes, g._array)  # passes is this formula's own new array
        if out is not None:  # the array holding the product (contract 2.0; None: in place)
            passes = out
        return (_make(passes, g.dtype, k),)
    return (g * _make(passes, g.dtype, k),)


@ops.declare(inplace=True, operators=("__abs__",))
def abs(x: Tensor) -> Tensor:  # noqa: A001 - torch.abs
    """|x|, elementwise."""
    tensor_arg(x, "abs")
    out = _make(x.backend.abs(x._array), x.dtype, x.backend)
    if x._rg and STATE.grad_enabled:
        record1(out, "AbsBackward0", _abs_backward, x, (x,))
    return out


def _abs_backward(node, g):
    return (g * node.saved[0].sign(),)


@ops.declare(inplace=True)
def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of each element (its gradient is zero)."""
    tensor_arg(x, "sign")
    k = x.backend
    if x.dtype.is_floating_point:  # torch's sign(nan) is 0; the library's is nan
        data = k.sign(x._array)
        # the sum of signs is NaN only when one is (or, rarely, when +-inf partial sums of a
        # huge float16 array meet: the where is then merely not needed): one read, no where
        total = None if k.lazy else k.tolist(k.sum(data, None, False))  # lazy: no compute
        if total != total or total is None:
            data = k.where(k.isnan(x._array), 0, data)
    else:
        data = k.copy(x._array) if x.dtype is dtypes.bool else k.sign(x._array)
    out = _make(data, x.dtype, k)
    if x._rg and STATE.grad_enabled:
        record1(out, "SignBackward0", _sign_backward, x)
    return out


def _sign_backward(node, g):
    return (g * 0,)


@ops.declare(inplace=True)
def square(x: Tensor) -> Tensor:
    """x ** 2 (torch records it as a pow: PowBackward0)."""
    tensor_arg(x, "square")
    return pow(x, 2)




@ops.declare(function=False, method=False, operators=("__pos__",))
def positive(x: Tensor) -> Tensor:
    """+x: x itself."""
    return x


@ops.declare
def clone(x: Tensor) -> Tensor:
    """A copy with its own data; differentiable."""
    tensor_arg(x, "clone")
    out = _make(x.backend.copy(x._array), x.dtype, x.backend)
    if x._rg and STATE.grad_enabled:
        record1(out, "CloneBackward0", _identity_backward, x)
    return out


def _identity_backward(node, g):
    return (g,)




# -- conversions ---------------------------------------------------------------------------


def to_dtype(x: Tensor, dtype) -> Tensor:
    """x converted to `dtype`; differentiable between floating dtypes."""
    tensor_arg(x, "to")
    if dtype is x.dtype:
        return x
    out = _make(x.backend.astype(x._array, dtype), dtype, x.backend)
    if x._rg and STATE.grad_enabled and dtype.is_floating_point:
        record1(out, "ToCopyBackward0", _to_dtype_backward, x, (), x.dtype)
    return out


def _to_dtype_backward(node, g):
    return (to_dtype(g, node.args),)



def _move(x: Tensor, backend) -> Tensor:
    """x copied to another backend through the host; differentiable (ToCopyBackward0)."""
    try:
        data = backend.from_host(x.backend.to_host(x._array), x.dtype)
    except (TypeError, KeyError) as err:
        raise RuntimeError(f"to(): cannot move a {x.dtype.name} tensor from backend "
                           f"{x.backend.name!r} to {backend.name!r}: {err}") from None
    out = _make(data, x.dtype, backend)
    if x._rg and STATE.grad_enabled:
        record1(out, "ToCopyBackward0", _move_backward, x, (), x.backend)
    return out


def _move_backward(node, g):
    # the gradient goes back to the input's backend, itself recorded for double backward
    return (_move(g, node.args),)


def to_target(args: tuple, dtype, backend) -> tuple:
    """(dtype, backend) from `.to()`'s positional arguments: a dtype, a backend (a name or
    a backend object), a device, or a tensor (both of its), over the keyword values
    given; the backend is left as given (a device stays a device: see `placement`)."""
    for arg in args:
        if isinstance(arg, dtypes.dtype):
            dtype = arg
        elif isinstance(arg, Tensor):
            dtype, backend = arg.dtype, arg.backend
        elif arg is not None:
            backend = arg
    return dtype, backend


@ops.declare(function=False)
def to(x: Tensor, *args, dtype=None, backend=None, device=None, copy: bool = False,
       non_blocking: bool = False) -> Tensor:  # noqa: V107 - torch's signature
    """x.to(dtype), x.to("cuda"), x.to(device), x.to("cupy", plugrad.float64), x.to(other).

    A device (or "cpu", "cuda:0") goes to the backend serving it, and a tensor
    already on that device type stays; a backend (or its name) is taken as
    it is. Returns x when nothing changes (a copy with copy=True). Moving to
    another backend copies the data there and is differentiable: the gradient
    flows back to the original backend. `non_blocking` is accepted and ignored.

    >>> import plugrad as pg
    >>> x = pg.tensor([1.0, 2.0], requires_grad=True)
    >>> y = x.to(pg.float64)
    >>> y.sum().backward()
    >>> x.grad
    tensor([1., 1.])
    """
    dtype, backend = to_target(args, dtype, backend if backend is not None else device)
    out = x
    if dtype is not None:
        out = to_dtype(out, dtype)
    if backend is not None:
        target = placement(backend, out.backend)
        if target is not out.backend:
            out = _move(out, target)
    if copy and out is x:
        out = clone(x)
    return out


@ops.declare(function=False)
def cpu(x: Tensor) -> Tensor:
    """x on the CPU: x itself when its backend's arrays live there, else a copy on the
    default CPU backend (differentiable)."""
    return to(x, "cpu")


@ops.declare(function=False)
def cuda(x: Tensor, device=None, non_blocking: bool = False) -> Tensor:  # noqa: V107
    """x on a CUDA GPU (the CuPy backend); RuntimeError saying why where there is none."""
    return to(x, "cuda" if device is None else device)


@ops.declare(function=False)
def type_as(x: Tensor, other: Tensor) -> Tensor:
    """x converted to `other`'s dtype."""
    return to_dtype(x, other.dtype)


def _conversion(name: str, dtype) -> None:
    def convert(x: Tensor) -> Tensor:
        return to_dtype(x, dtype)
    convert.__name__ = convert.__qualname__ = name
    convert.__doc__ = f"x converted to plugrad.{dtype.name} (x itself if it already is)."
    ops.method(name, convert)


for _name, _dtype in (("float", dtypes.float32), ("double", dtypes.float64),
                      ("half", dtypes.float16), ("int", dtypes.int32), ("long", dtypes.int64),
                      ("bool", dtypes.bool)):
    _conversion(_name, _dtype)
del _name, _dtype


# -- two-tensor selections ----------------------------------------------------------------


# -- two-tensor selections ----------------------------------------------------------------
@ops.declare
def maximum(a: Tensor, b: Tensor) -> Tensor:
    """Elementwise maximum; a tie sends half the gradient to each side."""
    return _extremum(a, b, "maximum")


@ops.declare
def minimum(a: Tensor, b: Tensor) -> Tensor:
    """Elementwise minimum; a tie sends half the gradient to each side."""
    return _extremum(a, b, "minimum")


def _extremum(a, b, op):
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        raise TypeError(f"{op}(): expected two Tensors")
    bk, ad, bd, d = coerce(a, b, op)
    try:
        out = _make(getattr(bk, op)(ad, bd), d, bk)
    except Exception as err:
        raise kernel_error(op, err, a, b) from None
    if grad_on(a, b):
        name = "MaximumBackward0" if op == "maximum" else "MinimumBackward0"
        record(out, name, _extremum_backward, (a, b), (a, b), op)
    return out


def _extremum_backward(node, g):
    # torch's formula: a tie sends half to each side and a losing side gets zero, so with a
    # NaN (ordered neither way) both sides get the whole gradient
    a, b = node.saved
    half = where(a == b, g / 2, g)
    a_loses, b_loses = (a < b, a > b) if node.args == "maximum" else (a > b, a < b)
    ga = grad_for(where(a_loses, 0.0, half), a) if node.inputs[0] is not None else None
    gb = grad_for(where(b_loses, 0.0, half), b) if node.inputs[1] is not None else None
    return ga, gb


@ops.declare(inplace=True)
def clamp(x: Tensor, min=None, max=None) -> Tensor:  # noqa: A002 - torch's names
    """Limit x to [min, max]: numbers or tensors, broadcast, promoting dtypes like torch.

    The gradient reaches x where it lies inside, and a tensor bound where it is the output.
    """
    tensor_arg(x, "clamp")
    if (x.dtype.is_floating_point and (min is None or type(min) is float or type(min) is int)
            and (max is None or type(max) is float or type(max) is int)
            and (min is not None or max is not None)):
        # the common case, a floating x and Python numbers: x's dtype, one kernel
        k = x.backend
        out = _make(k.clip(x._array, min, max), x.dtype, k)
        if x._rg and STATE.grad_enabled:
            record(out, "ClampBackward1", _clamp_backward, (x, min, max), (x, min, max))
        return out
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    lo, hi = [v if v is None or isinstance(v, Tensor) else number(v, "clamp")
              for v in (min, max)]
    given = [v for v in (lo, hi) if v is not None]
    k = x.backend
    for v in given:
        if isinstance(v, Tensor) and v.backend is not k:
            raise RuntimeError(f"clamp: expected all tensors on the same backend, but found "
                               f"{k.name!r} and {v.backend.name!r}")
    d = dtypes.result_type(x, *given)
    try:
        data = k.clip(cast(x, d), cast(lo, d) if isinstance(lo, Tensor) else lo,
                      cast(hi, d) if isinstance(hi, Tensor) else hi)
    except Exception as err:
        raise kernel_error("clamp", err, x, *given) from None
    out = _make(data, d, k)
    if STATE.grad_enabled and (x._rg or any(isinstance(v, Tensor) and v._rg for v in given)):
        tensor_bounds = any(isinstance(v, Tensor) for v in given)
        record(out, "ClampBackward0" if tensor_bounds else "ClampBackward1", _clamp_backward,
               (x, lo, hi), (x, lo, hi))
    return out


clip = ops.alias("clip", clamp, inplace=True)


def _clamp_backward(node, g):
    # torch's clamp_backward_min_max: where min > max the output is max, so max gets it
    x, lo, hi = node.saved
    gx = glo = ghi = None
    if node.inputs[0] is not None:
        inside = None
        if lo is not None:
            inside = x >= lo
        if hi is not None:
            inside = (x <= hi) if inside is None else inside & (x <= hi)
        gx = grad_for(where(inside, g, 0.0), x)
    if node.inputs[1] is not None:
        below = x < lo
        if hi is not None:
            below = below & (lo < hi)
        glo = grad_for(where(below, g, 0.0), lo)
    if node.inputs[2] is not None:
        above = x > hi
        if lo is not None:
            above = above | (hi < lo)
        ghi = grad_for(where(above, g, 0.0), hi)
    return gx, glo, ghi


def _where_method(x: Tensor, condition: Tensor, other) -> Tensor:
    """x.where(condition, other): elements of x where condition, else of other."""
    return where(condition, x, other)


@ops.declare(method=_where_method)
def where(condition: Tensor, input, other) -> Tensor:
    """Elements of `input` where `condition`, else of `other` (broadcast)."""
    if not isinstance(condition, Tensor):
        raise TypeError("where(): condition must be a bool Tensor")
    if condition.dtype is not dtypes.bool:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a "
                           f"tensor with dtype {condition.dtype.name}")
    if isinstance(input, Tensor) or isinstance(other, Tensor):
        bk, ad, bd, d = coerce(input, other, "where")
    else:
        # two numbers: the dtype they would have as tensors, as torch does
        input, other = number(input, "where"), number(other, "where")
        bk, d = condition.backend, dtypes.result_type(input, other)
        ad, bd = bk.full((), input, d), bk.full((), other, d)
    if condition.backend is not bk:
        raise RuntimeError(f"where: condition is on backend {condition.backend.name!r} "
                           f"but the values are on {bk.name!r}")
    try:
        out = _make(bk.where(condition._array, ad, bd), d, bk)
    except Exception as err:
        raise kernel_error("where", err, condition, input, other) from None
    if grad_on(input, other):
        record(out, "WhereBackward0", _where_backward, (input, other), (condition,),
               (meta(input), meta(other)))
    return out




@ops.declare(inplace=True)
def masked_fill(x: Tensor, mask: Tensor, value) -> Tensor:
    """x with `value` where `mask` is True, in x's dtype (as torch's)."""
    out = where(mask, value, x)
    return out if out.dtype is x.dtype else out.to(x.dtype)


def _where_backward(node, g):
    (cond,) = node.saved
    ma, mb = node.args
    return (grad_like(where(cond, g, 0.0), *ma) if node.inputs[0] is not None else None,
            grad_like(where(cond, 0.0, g), *mb) if node.inputs[1] is not None else None)




# -- comparisons and logic (never differentiable) ------------------------------------------


# -- comparisons and logic (never differentiable) -------------------------------------------------
def _compare(a, b, op: str) -> Tensor:
    bk, ad, bd, _ = coerce(a, b, op)
    try:
        return _make(getattr(bk, op)(ad, bd), dtypes.bool, bk)
    except Exception as err:
        raise kernel_error(op, err, a, b) from None




def _comparison(op):
    # like torch: comparing with something that is not a number falls back to
    # Python's identity comparison (x == None is False) instead of raising
    def compare(self, other):
        if isinstance(other, (Tensor, int, float)) or hasattr(other, "__index__") \
                or hasattr(other, "__float__"):
            return op(self, other)
        return NotImplemented
    compare.__name__ = f"__{op.__name__}__"
    return compare


def eq(a, b) -> Tensor:
    """a == b, elementwise (bool)."""
    return _compare(a, b, "eq")


ops.declare(eq, operators={"__eq__": _comparison(eq)})


def ne(a, b) -> Tensor:
    """a != b, elementwise (bool)."""
    return _compare(a, b, "ne")


ops.declare(ne, operators={"__ne__": _comparison(ne)})


@ops.declare(operators=("__lt__",))
def lt(a, b) -> Tensor:
    """a < b, elementwise (bool)."""
    return _compare(a, b, "lt")


@ops.declare(operators=("__le__",))
def le(a, b) -> Tensor:
    """a <= b, elementwise (bool)."""
    return _compare(a, b, "le")


@ops.declare(operators=("__gt__",))
def gt(a, b) -> Tensor:
    """a > b, elementwise (bool)."""
    return _compare(a, b, "gt")


@ops.declare(operators=("__ge__",))
def ge(a, b) -> Tensor:
    """a >= b, elementwise (bool)."""
    return _compare(a, b, "ge")


def _truth(x):
    """x as bools: non-zero is True, as torch's logical ops read numbers."""
    if isinstance(x, Tensor):
        return x if x.dtype is dtypes.bool else ne(x, 0)
    return bool(x)


def _logical(a, b, op: str) -> Tensor:
    return _compare(_truth(a), _truth(b), op)


def _logical_args(a, b, op: str) -> Tensor:
    for name, v in (("input", a), ("other", b)):
        if not isinstance(v, Tensor):
            raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(v).__name__}")
    return _logical(a, b, op)


def _and(a, b) -> Tensor:
    return _logical(a, b, "logical_and")


def _or(a, b) -> Tensor:
    return _logical(a, b, "logical_or")


@ops.declare(operators={"__and__": _and})
def logical_and(a, b) -> Tensor:
    """a and b, elementwise (two tensors; the operator & also takes a number)."""
    return _logical_args(a, b, "logical_and")


@ops.declare(operators={"__or__": _or})
def logical_or(a, b) -> Tensor:
    """a or b, elementwise (two tensors; the operator | also takes a number)."""
    return _logical_args(a, b, "logical_or")


@ops.declare(operators=("__invert__",))
def logical_not(x: Tensor) -> Tensor:
    """not x, elementwise."""
    tensor_arg(x, "logical_not")
    return _make(x.backend.logical_not(_truth(x)._array), dtypes.bool, x.backend)


# -- more elementwise math: logarithms, rounding, trigonometry, special functions ------------
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_HALF_SQRT_PI = 0.5 * math.sqrt(math.pi)

log2 = unary("log2", dx=lambda g, x: g / (x * _LN2), doc="Base-2 logarithm, elementwise.")
log10 = unary("log10", dx=lambda g, x: g / (x * _LN10), doc="Base-10 logarithm, elementwise.")
sinh = unary("sinh", dx=lambda g, x: g * x.cosh(), doc="Hyperbolic sine, elementwise.")
cosh = unary("cosh", dx=lambda g, x: g * x.sinh(), doc="Hyperbolic cosine, elementwise.")
tan = unary("tan", dy=lambda g, y: g * (1 + y * y), doc="Tangent, elementwise.")
asin = unary("asin", dx=lambda g, x: g * (1 - x * x).rsqrt(),
             doc="Inverse sine, elementwise (NaN outside [-1, 1]).")
acos = unary("acos", dx=lambda g, x: -g * (1 - x * x).rsqrt(),
             doc="Inverse cosine, elementwise (NaN outside [-1, 1]).")
atan = unary("atan", dx=lambda g, x: g / (1 + x * x), doc="Inverse tangent, elementwise.")
# erf and erfinv are not in the Array API standard: a backend without them raises
# NotImplementedError naming the kernel (the NumPy and Dask backends have both)
erf = unary("erf", dx=lambda g, x: g * (_TWO_OVER_SQRT_PI * (-(x * x)).exp()),
            doc="The error function, elementwise.")
erfinv = unary("erfinv", dy=lambda g, y: g * (_HALF_SQRT_PI * (y * y).exp()),
               doc="The inverse error function, elementwise (+-inf at +-1, NaN beyond).")


def _not_for(x: Tensor, op: str, kernel: str) -> None:
    """torch's error for a float-only op on a tensor of another dtype."""
    name = {"bool": "Bool", "int32": "Int", "int64": "Long"}.get(x.dtype.name, x.dtype.name)
    raise NotImplementedError(f'"{kernel}" not implemented for \'{name}\'')


def _zero_backward(node, g):
    return (g * 0,)


def _rounding(name: str, doc: str):
    """An op rounding floats to integers on kernel `name`: integer tensors come back unchanged
    (a copy, as torch's), bools are refused, and the gradient is zero."""
    get_kernel = attrgetter(name)
    node_name = f"{name.capitalize()}Backward0"

    def forward(x: Tensor) -> Tensor:
        tensor_arg(x, name)
        d, k = x.dtype, x.backend
        if not d.is_floating_point:
            if d is dtypes.bool:
                _not_for(x, name, f"{name}_vml_cpu")
            return _make(k.copy(x._array), d, k)
        out = _make(get_kernel(k)(x._array), d, k)
        if x._rg and STATE.grad_enabled:
            record1(out, node_name, _zero_backward, x)
        return out
    forward.__name__ = forward.__qualname__ = name
    forward.__doc__ = doc
    return forward


floor = ops.declare(_rounding("floor", "The largest integer <= x, elementwise (ints unchanged; "
                                       "zero gradient)."), inplace=True)
ceil = ops.declare(_rounding("ceil", "The smallest integer >= x, elementwise (ints unchanged; "
                                     "zero gradient)."), inplace=True)
trunc = ops.declare(_rounding("trunc", "x rounded toward zero, elementwise (ints unchanged; "
                                       "zero gradient)."), inplace=True)
_round = _rounding("round", "")


@ops.declare(inplace=True)
def round(x: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001 - torch.round
    """x rounded to `decimals` decimal places, half to even (ints unchanged; zero gradient)."""
    if decimals == 0:
        return _round(x)
    tensor_arg(x, "round")
    if not x.dtype.is_floating_point:
        _not_for(x, "round", "round_cpu")
    k = x.backend
    # torch's way: scale, round, scale back (by the positive power of ten, so it is exact)
    scale = 10.0 ** (decimals if decimals > 0 else -decimals)
    if decimals > 0:
        data = k.div(k.round(k.mul(x._array, scale)), scale)
    else:
        data = k.mul(k.round(k.div(x._array, scale)), scale)
    out = _make(data, x.dtype, k)
    if x._rg and STATE.grad_enabled:
        record1(out, "RoundBackward1", _zero_backward, x)
    return out


@ops.declare(inplace=True)
def frac(x: Tensor) -> Tensor:
    """x - trunc(x): the fractional part, with x's sign (gradient 1)."""
    tensor_arg(x, "frac")
    if not x.dtype.is_floating_point:
        _not_for(x, "frac", "frac_cpu")
    k = x.backend
    out = _make(k.sub(x._array, k.trunc(x._array)), x.dtype, k)
    if x._rg and STATE.grad_enabled:
        record1(out, "FracBackward0", _identity_backward, x)
    return out


def _float_test(name: str, on_integers: bool, doc: str):
    """isnan, isinf, isfinite: bool results, never differentiable; integer tensors hold no
    NaN and no infinity, so their answer is `on_integers` everywhere."""
    get_kernel = attrgetter(name)

    def test(x: Tensor) -> Tensor:
        tensor_arg(x, name)
        k = x.backend
        if not x.dtype.is_floating_point:
            return _make(k.full(tuple(x._array.shape), on_integers, dtypes.bool), dtypes.bool, k)
        return _make(get_kernel(k)(x._array), dtypes.bool, k)
    test.__name__ = test.__qualname__ = name
    test.__doc__ = doc
    return ops.declare(test)


isnan = _float_test("isnan", False, "Whether each element is NaN (bool).")
isinf = _float_test("isinf", False, "Whether each element is +inf or -inf (bool).")
isfinite = _float_test("isfinite", True, "Whether each element is neither NaN nor infinite "
                                         "(bool).")

_INF = float("inf")
# the largest finite value of each float dtype: nan_to_num's default for +-inf
_FLOAT_MAX = {"float16": 65504.0, "float32": 3.4028234663852886e38,
              "float64": 1.7976931348623157e308}


@ops.declare(inplace=True)
def nan_to_num(x: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """x with NaN, +inf and -inf replaced by `nan`, `posinf` and `neginf` (by default 0 and the
    dtype's largest and smallest finite values); the gradient reaches the finite elements."""
    tensor_arg(x, "nan_to_num")
    d, k = x.dtype, x.backend
    if not d.is_floating_point:
        return _make(k.copy(x._array), d, k)
    big = _FLOAT_MAX[d.name]
    nan = number(nan, "nan_to_num")
    data = x._array
    if posinf is None and neginf is None:
        # +-inf: clipping to the dtype's own range maps them to its largest finite values and
        # leaves every finite value (and NaN) alone, in one pass; then NaN, only if the sum
        # says there is one (NaN, or +-inf partial sums meeting: the where is then a no-op)
        data = k.clip(data, -big, big)
        total = None if k.lazy else k.tolist(k.sum(data, None, False))  # lazy: no compute
        if total != total or total is None:
            data = k.where(k.isnan(data), nan, data)
    else:
        data = k.where(k.isnan(data), nan, data)
        data = k.maximum(data, -big) if neginf is None else \
            k.where(k.eq(data, -_INF), number(neginf, "nan_to_num"), data)
        data = k.minimum(data, big) if posinf is None else \
            k.where(k.eq(data, _INF), number(posinf, "nan_to_num"), data)
    out = _make(data, d, k)
    if x._rg and STATE.grad_enabled:
        record1(out, "NanToNumBackward0", _nan_to_num_backward, x, (x,))
    return out


def _nan_to_num_backward(node, g):
    return (where(node.saved[0].isfinite(), g, 0.0),)


# -- more elementwise math of two operands -------------------------------------------------
def _two_tensors(a, b, op: str) -> None:
    if not isinstance(a, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(a).__name__}")
    if not isinstance(b, Tensor):
        raise TypeError(f"{op}(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(b).__name__}")


@ops.declare(inplace=True)
def atan2(a: Tensor, b: Tensor) -> Tensor:
    """The angle of the point (b, a) in (-pi, pi], elementwise (ints compute in the default
    float dtype)."""
    _two_tensors(a, b, "atan2")
    bk, ad, bd, d = coerce(a, b, "atan2")
    if not d.is_floating_point:
        d = dtypes.get_default_dtype()
        ad, bd = bk.astype(ad, d), bk.astype(bd, d)
    try:
        out = _make(bk.atan2(ad, bd), d, bk)
    except Exception as err:
        raise kernel_error("atan2", err, a, b) from None
    if grad_on(a, b):
        record(out, "Atan2Backward0", _atan2_backward, (a, b), (a, b))
    return out


def _atan2_backward(node, g):
    a, b = node.saved
    scale = g / (a * a + b * b)
    return (grad_for(scale * b, a) if node.inputs[0] is not None else None,
            grad_for(-scale * a, b) if node.inputs[1] is not None else None)



@ops.declare(inplace=True)
def hypot(a: Tensor, b: Tensor) -> Tensor:
    """sqrt(a ** 2 + b ** 2), elementwise, without overflow on the way (floats only)."""
    _two_tensors(a, b, "hypot")
    bk, ad, bd, d = coerce(a, b, "hypot")
    if not d.is_floating_point:
        _not_for(a if not a.dtype.is_floating_point else b, "hypot", "hypot_cpu")
    try:
        out = _make(bk.hypot(ad, bd), d, bk)
    except Exception as err:
        raise kernel_error("hypot", err, a, b) from None
    if grad_on(a, b):
        record(out, "HypotBackward0", _hypot_backward, (a, b), (a, b, out._array))
    return out


def _hypot_backward(node, g):
    a, b, out = node.saved
    scale = g / saved_output(node, g, out)
    return (grad_for(scale * a, a) if node.inputs[0] is not None else None,
            grad_for(scale * b, b) if node.inputs[1] is not None else None)


def _check_integer_divisor(bk, b, bd) -> None:
    """torch refuses an integer division by zero (NumPy would give 0); a lazy backend's
    values are not looked at."""
    if bk.lazy:
        return
    if bd == 0 if not isinstance(b, Tensor) else \
            bool(bk.to_host(bk.sum(bk.astype(bk.eq(bd, 0), dtypes.int64), None, False))):
        raise RuntimeError("ZeroDivisionError")


def _modulo(a, b, op: str, rounding: str) -> Tensor:
    """fmod (rounding "trunc") or remainder ("floor"): a - rounding(a / b) * b."""
    bk, ad, bd, d = coerce(a, b, op)
    if d is dtypes.bool:
        raise NotImplementedError(f"\"{op}_cpu\" not implemented for 'Bool'")
    if not d.is_floating_point:
        _check_integer_divisor(bk, b, bd)
    try:
        out = _make(getattr(bk, op)(ad, bd), d, bk)
    except Exception as err:
        raise kernel_error(op, err, a, b) from None
    if grad_on(a, b):
        tensor_b = isinstance(b, Tensor)
        if isinstance(a, Tensor):
            name = f"{op.capitalize()}Backward{1 if tensor_b else 0}"
            record(out, name, _modulo_backward, (a, b), (a, b), rounding)
        else:  # torch has no derivative for a number % tensor
            record(out, "torch::autograd::NotImplemented", _no_derivative, (a, b), (), op)
    return out


def _modulo_backward(node, g):
    a, b = node.saved
    ga = grad_for(g, a) if node.inputs[0] is not None else None
    gb = None
    if node.inputs[1] is not None:
        q = a / b
        q = q.trunc() if node.args == "trunc" else q.floor()
        gb = grad_for(-g * q, b)
    return ga, gb


def _no_derivative(node, g):
    raise RuntimeError(f"derivative for aten::{node.args} is not implemented")


@ops.declare(inplace=True)
def fmod(a: Tensor, b) -> Tensor:
    """C's fmod: a - trunc(a / b) * b, with the sign of a (b a tensor or a number)."""
    tensor_arg(a, "fmod")
    return _modulo(a, b, "fmod", "trunc")


def _rmod(a: Tensor, b) -> Tensor:
    """b % a for a Python number b (Tensor.__rmod__)."""
    return _modulo(b, a, "remainder", "floor")


@ops.declare(inplace=True, operators={"__mod__": None, "__rmod__": _rmod},
             inplace_operator="__imod__")
def remainder(a, b) -> Tensor:
    """Python's %: a - floor(a / b) * b, with the sign of b (either may be a number)."""
    return _modulo(a, b, "remainder", "floor")


def _rfloordiv(a: Tensor, b) -> Tensor:
    """b // a for a Python number b (Tensor.__rfloordiv__)."""
    return floor_divide(b, a)


@ops.declare(inplace=True, operators={"__floordiv__": None, "__rfloordiv__": _rfloordiv},
             inplace_operator="__ifloordiv__")
def floor_divide(a, b) -> Tensor:
    """Python's //: a / b rounded down (either may be a number). Not differentiable, as in
    torch: backward through it raises."""
    bk, ad, bd, d = coerce(a, b, "floor_divide")
    if d is dtypes.bool:
        raise NotImplementedError("\"div_floor_cpu\" not implemented for 'Bool'")
    if not d.is_floating_point:
        _check_integer_divisor(bk, b, bd)
    try:
        out = _make(bk.floor_divide(ad, bd), d, bk)
    except Exception as err:
        raise kernel_error("floor_divide", err, a, b) from None
    if grad_on(a, b):
        record(out, "torch::autograd::NotImplemented", _no_derivative, (a, b), (),
               "floor_divide")
    return out


def _clamp_bound(x: Tensor, bound, op: str, lower: bool) -> Tensor:
    tensor_arg(x, op)
    if bound is None:
        raise RuntimeError(f"{op}(): the bound must be a number or a tensor, not None")
    bk, xd, bd, d = coerce(x, bound, op)
    try:
        out = _make(bk.maximum(xd, bd) if lower else bk.minimum(xd, bd), d, bk)
    except Exception as err:
        raise kernel_error(op, err, x, bound) from None
    if grad_on(x, bound):
        name = ("ClampMinBackward" if lower else "ClampMaxBackward") + \
            ("1" if isinstance(bound, Tensor) else "0")
        record(out, name, _clamp_bound_backward, (x, bound), (x, bound), lower)
    return out


def _clamp_bound_backward(node, g):
    # torch's formulas: x gets it where it is inside (ties included), the bound elsewhere
    x, bound = node.saved
    inside = (x >= bound) if node.args else (x <= bound)
    return (grad_for(where(inside, g, 0.0), x) if node.inputs[0] is not None else None,
            grad_for(where(inside, 0.0, g), bound) if node.inputs[1] is not None else None)


@ops.declare(inplace=True)
def clamp_min(x: Tensor, min) -> Tensor:  # noqa: A002 - torch's name
    """max(x, min), elementwise: `min` a number or a tensor (broadcast)."""
    return _clamp_bound(x, min, "clamp_min", True)


@ops.declare(inplace=True)
def clamp_max(x: Tensor, max) -> Tensor:  # noqa: A002 - torch's name
    """min(x, max), elementwise: `max` a number or a tensor (broadcast)."""
    return _clamp_bound(x, max, "clamp_max", False)


# dtype names in torch's C++ messages
_TORCH_NAME = {"bool": "bool", "int32": "int", "int64": "long", "float16": "c10::Half",
               "float32": "float", "float64": "double"}


@ops.declare(inplace=True)
def lerp(start: Tensor, end: Tensor, weight) -> Tensor:
    """start + weight * (end - start): `weight` a number or a tensor (broadcast); start and end
    of one float dtype, as torch wants."""
    _two_tensors(start, end, "lerp")
    if end.dtype is not start.dtype:
        raise RuntimeError(f"expected dtype {_TORCH_NAME[start.dtype.name]} for `end` but got "
                           f"dtype {_TORCH_NAME[end.dtype.name]}")
    if not start.dtype.is_floating_point:
        _not_for(start, "lerp", "lerp_kernel_scalar")
    if isinstance(weight, Tensor):
        if weight.dtype is not start.dtype:
            raise RuntimeError(f"expected dtype {start.dtype.name} for `weight` but got dtype "
                               f"{weight.dtype.name}")
        w = weight._array
    else:
        w = weight if type(weight) is float else number(weight, "lerp")
    bk = start.backend
    try:
        data = bk.add(start._array, bk.mul(w, bk.sub(end._array, start._array)))
    except Exception as err:
        raise kernel_error("lerp", err, start, end, weight) from None
    out = _make(data, start.dtype, bk)
    if STATE.grad_enabled and (start._rg or end._rg or
                               (isinstance(weight, Tensor) and weight._rg)):
        name = "LerpBackward1" if isinstance(weight, Tensor) else "LerpBackward0"
        record(out, name, _lerp_backward, (start, end, weight), (start, end, weight))
    return out


def _lerp_backward(node, g):
    start, end, weight = node.saved
    gs = grad_for(g * (1 - weight), start) if node.inputs[0] is not None else None
    ge = grad_for(g * weight, end) if node.inputs[1] is not None else None
    gw = grad_for(g * (end - start), weight) if node.inputs[2] is not None else None
    return gs, ge, gw


__all__ = ops.exported()
