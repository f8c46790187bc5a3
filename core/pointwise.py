"""Elementwise ops: each forward, then its backward, written with tensor ops.

Binary ops accept a tensor or a Python number on either side, broadcast like
torch, and promote dtypes with torch's rules (`dtypes.result_type`). Backward
formulas sum a broadcast gradient back to each input's shape (`unbroadcast`).
"""
from __future__ import annotations

import numbers

from . import dtypes
from .grad_mode import STATE
from .graph import Node
from .recording import edge, record, record1, saved_output
from .shape import _store, commit
from .tensor import Tensor, _check_inplace, _make, _shareable, accumulator, bump, root

__all__ = ["add", "sub", "mul", "div", "true_divide", "pow", "neg", "abs", "exp", "log",
           "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "sign", "clamp", "clip",
           "maximum", "minimum", "where", "eq", "ne", "lt", "le", "gt", "ge",
           "logical_and", "logical_or", "logical_not", "clone", "square", "to_dtype"]


# -- operand handling -----------------------------------------------------------
def _number(value, op: str):
    """A Python number for `value`, or a TypeError naming the op."""
    if isinstance(value, numbers.Number) and not isinstance(value, complex):
        if isinstance(value, bool) or type(value).__name__.startswith("bool"):
            return bool(value)
        if isinstance(value, numbers.Integral):
            return int(value)
        return float(value)
    raise TypeError(f"{op}(): expected a Tensor or a Python number, got {type(value).__name__}")


def cast(t: Tensor, d) -> object:
    """t's data in dtype d (no copy when it already is)."""
    return t.data if t.dtype is d else t.backend.astype(t.data, d)


def _scalar_fits(d, s) -> bool:
    """Whether a Python number leaves tensor dtype `d` unchanged (torch's rule)."""
    ts = type(s)
    if ts is float:
        return d.category == 2
    if ts is int:
        return d.category >= 1
    return True  # bool


def coerce(a, b, op: str):
    """(backend, a_data, b_data, dtype): both operands in the result dtype."""
    if isinstance(a, Tensor):
        bk = a.backend
        if isinstance(b, Tensor):
            if b.backend is not bk:
                raise RuntimeError(f"{op}: expected all tensors on the same backend, but found "
                                   f"{bk.name!r} and {b.backend.name!r}; move one with .to()")
            d = a.dtype
            if b.dtype is d:
                return bk, a.data, b.data, d
            d = dtypes.result_type(a, b)
            return bk, cast(a, d), cast(b, d), d
        if type(b) not in (float, int, bool):
            b = _number(b, op)
        d = a.dtype
        if _scalar_fits(d, b):
            return bk, a.data, b, d
        d = dtypes.result_type(a, b)
        return bk, cast(a, d), b, d
    if not isinstance(b, Tensor):
        raise TypeError(f"{op}(): expected at least one Tensor argument")
    if type(a) not in (float, int, bool):
        a = _number(a, op)
    d = b.dtype
    if _scalar_fits(d, a):
        return b.backend, a, b.data, d
    d = dtypes.result_type(a, b)
    return b.backend, a, cast(b, d), d


def _shape(x) -> tuple:
    return tuple(x.data.shape) if isinstance(x, Tensor) else ()


def broadcast_shapes(*shapes) -> tuple:
    """torch.broadcast_shapes: the shape all `shapes` broadcast to, or RuntimeError."""
    ndim = max((len(s) for s in shapes), default=0)
    result = [1] * ndim
    for shape in shapes:
        for i, size in enumerate(shape):
            j = ndim - len(shape) + i
            if size != 1 and result[j] != 1 and size != result[j]:
                # torch numbers the dimension in the broadcast result, not in `shape`
                raise RuntimeError(
                    f"The size of tensor a ({result[j]}) must match the size of tensor b "
                    f"({size}) at non-singleton dimension {j}")
            if size != 1:
                result[j] = size
    return tuple(result)


def _kernel_error(op: str, err: Exception, *operands) -> Exception:
    """Turn a backend's exception into torch's error type, naming the op and shapes."""
    shapes = [list(_shape(x)) for x in operands if isinstance(x, Tensor)]
    try:
        broadcast_shapes(*[_shape(x) for x in operands])
    except RuntimeError as bad:
        return RuntimeError(f"{op}: {bad} (shapes {' and '.join(map(str, shapes))})")
    return RuntimeError(f"{op} failed for shapes {' and '.join(map(str, shapes))}: {err}")


def unbroadcast(g: Tensor, shape: tuple) -> Tensor:
    """Sum a broadcast gradient back down to `shape`."""
    gshape = g.data.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    dims = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)
    if not STATE.grad_enabled:  # no graph to record: sum the array directly
        k = g.backend
        data = k.sum(g.data, dims, True) if dims else g.data
        return _make(k.reshape(data, shape) if lead else data, g.dtype, k)
    if dims:
        g = g.sum(dims, keepdim=True)
    return g.reshape(shape) if lead else g


def _like(g: Tensor, shape: tuple, dtype) -> Tensor:
    """g summed back to `shape` and cast to `dtype`: the gradient torch hands an input."""
    g = unbroadcast(g, shape)
    return g if g.dtype is dtype else to_dtype(g, dtype)


def _grad_for(g: Tensor, x: Tensor) -> Tensor:
    """`_like` for a saved input tensor."""
    return _like(g, tuple(x.data.shape), x.dtype)


def _meta(x):
    """(shape, dtype) of a tensor operand: what add-like backward formulas keep of it."""
    return (tuple(x.data.shape), x.dtype) if isinstance(x, Tensor) else None


def _tensor_arg(x, op: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(x).__name__}")


def _grad_on(a, b) -> bool:
    return STATE.grad_enabled and (
        (type(a) is Tensor and a._rg) or (type(b) is Tensor and b._rg))


def _float_dtype(x: Tensor):
    """Ops like exp give floats also for int tensors."""
    d = x.dtype
    return d if d.is_floating_point else dtypes.get_default_dtype()


# -- arithmetic -------------------------------------------------------------------
# The four arithmetic ops start with a fast path for what nearly every program
# does: two tensors of one dtype, or a tensor and a Python number that leaves
# its dtype alone. Everything else (promotion, errors, alpha) takes the general
# path below it, which gives the same results.
def _fits(t: Tensor, s) -> bool:
    """Whether a Python float or int leaves `t`'s dtype unchanged."""
    ts = type(s)
    if ts is float:
        return t.dtype.is_floating_point
    return ts is int and t.dtype.category >= 1


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


def add(a, b, *, alpha=1) -> Tensor:
    """a + alpha * b, broadcast."""
    if type(a) is Tensor and alpha == 1:
        if type(b) is Tensor:
            if a.dtype is b.dtype and a.backend is b.backend:
                sa, sb = a.data.shape, b.data.shape
                try:
                    out = _make(a.backend.add(a.data, b.data), a.dtype, a.backend)
                except Exception as err:
                    raise _kernel_error("add", err, a, b) from None
                if STATE.grad_enabled and (a._rg or b._rg):
                    _record_pair(out, "AddBackward0", _add_backward, a, b, (),
                                 None if sa == sb else (sa, sb))
                return out
        elif _fits(a, b):
            out = _make(a.backend.add(a.data, b), a.dtype, a.backend)
            if a._rg and STATE.grad_enabled:
                _record_scalar(out, "AddBackward0", _scalar_add_backward, a, b)
            return out
    return _add_sub(a, b, alpha, "add")


def _add_backward(node, g):
    shapes = node.args
    if shapes is None:
        return g, g
    return unbroadcast(g, shapes[0]), unbroadcast(g, shapes[1])


def _scalar_add_backward(node, g):
    return g, None


def _radd(a: Tensor, b) -> Tensor:
    """b + a for a Python number b (Tensor.__radd__)."""
    return add(a, b) if type(b) is not Tensor else add(b, a)


def sub(a, b, *, alpha=1) -> Tensor:
    """a - alpha * b, broadcast."""
    if type(a) is Tensor and alpha == 1 and a.dtype is not dtypes.bool:
        if type(b) is Tensor:
            if a.dtype is b.dtype and a.backend is b.backend:
                sa, sb = a.data.shape, b.data.shape
                try:
                    out = _make(a.backend.sub(a.data, b.data), a.dtype, a.backend)
                except Exception as err:
                    raise _kernel_error("sub", err, a, b) from None
                if STATE.grad_enabled and (a._rg or b._rg):
                    _record_pair(out, "SubBackward0", _sub_backward, a, b, (),
                                 None if sa == sb else (sa, sb))
                return out
        elif _fits(a, b):
            out = _make(a.backend.sub(a.data, b), a.dtype, a.backend)
            if a._rg and STATE.grad_enabled:
                _record_scalar(out, "SubBackward0", _scalar_add_backward, a, b)
            return out
    return _add_sub(a, b, alpha, "sub")


def _sub_backward(node, g):
    shapes = node.args
    if shapes is None:
        return g, -g
    return unbroadcast(g, shapes[0]), unbroadcast(-g, shapes[1])


def _rsub(a: Tensor, b) -> Tensor:
    """b - a for a Python number b (Tensor.__rsub__)."""
    if type(b) is not Tensor and a.dtype is not dtypes.bool and _fits(a, b):
        out = _make(a.backend.sub(b, a.data), a.dtype, a.backend)
        if a._rg and STATE.grad_enabled:
            _record_scalar(out, "RsubBackward1", _rsub_backward, a, b)
        return out
    return sub(b, a)


def _rsub_backward(node, g):
    return -g, None


def mul(a, b) -> Tensor:
    """a * b, broadcast."""
    if type(a) is Tensor:
        if type(b) is Tensor:
            if a.dtype is b.dtype and a.backend is b.backend:
                try:
                    out = _make(a.backend.mul(a.data, b.data), a.dtype, a.backend)
                except Exception as err:
                    raise _kernel_error("mul", err, a, b) from None
                if STATE.grad_enabled and (a._rg or b._rg):
                    _record_pair(out, "MulBackward0", _mul_backward, a, b, (a, b), None)
                return out
        elif _fits(a, b):
            out = _make(a.backend.mul(a.data, b), a.dtype, a.backend)
            if a._rg and STATE.grad_enabled:
                _record_scalar(out, "MulBackward0", _scalar_mul_backward, a, b)
            return out
    return _mul(a, b)


# The hottest backward formulas also have a form on raw backend arrays, used when
# the backward records no graph (create_graph=False, the usual case): the same
# arithmetic without a Tensor per intermediate. Under create_graph they use
# tensor ops, so higher derivatives still flow through them.
def _scalar_mul_backward(node, g):
    if STATE.grad_enabled:
        return g * node.args, None
    return _make(g.backend.mul(g.data, node.args), g.dtype, g.backend), None


def _rmul(a: Tensor, b) -> Tensor:
    """b * a for a Python number b (Tensor.__rmul__)."""
    return mul(a, b) if type(b) is not Tensor else mul(b, a)


def div(a, b, *, rounding_mode=None) -> Tensor:
    """a / b (true division: integers divide to floats)."""
    if type(a) is Tensor and rounding_mode is None and a.dtype.is_floating_point:
        if type(b) is Tensor:
            if a.dtype is b.dtype and a.backend is b.backend:
                try:
                    out = _make(a.backend.div(a.data, b.data), a.dtype, a.backend)
                except Exception as err:
                    raise _kernel_error("div", err, a, b) from None
                if STATE.grad_enabled and (a._rg or b._rg):
                    _record_pair(out, "DivBackward0", _div_backward, a, b, (a, b), None)
                return out
        elif type(b) is float or type(b) is int:
            out = _make(a.backend.div(a.data, b), a.dtype, a.backend)
            if a._rg and STATE.grad_enabled:
                _record_scalar(out, "DivBackward0", _scalar_div_backward, a, b)
            return out
    return _div(a, b, rounding_mode=rounding_mode)


def _scalar_div_backward(node, g):
    return g / node.args, None


def _add_sub(a, b, alpha, op: str) -> Tensor:
    if op == "sub" and (_is_bool(a) or _is_bool(b)):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    bk, ad, bd, d = coerce(a, b, op)
    if alpha != 1:
        alpha = _number(alpha, op)
        if type(alpha) is float and not d.is_floating_point:
            raise RuntimeError("For integral input tensors, argument alpha must not be a "
                               "floating point number.")
        # a Python number stays one, so that it cannot change the tensor's dtype
        bd = bk.mul(bd, alpha) if isinstance(b, Tensor) else bd * alpha
    try:
        out = _make(getattr(bk, op)(ad, bd), d, bk)
    except Exception as err:
        raise _kernel_error(op, err, a, b) from None
    if _grad_on(a, b):
        if op == "add":
            name = "AddBackward0"
        else:
            name = "SubBackward0" if isinstance(a, Tensor) else "RsubBackward1"
        scale = alpha if op == "add" else -alpha
        record(out, name, _add_sub_backward, (a, b), (), (_meta(a), _meta(b), scale))
    return out


def _is_bool(x) -> bool:
    return x.dtype is dtypes.bool if isinstance(x, Tensor) else type(x) is bool


def _add_sub_backward(node, g):
    ma, mb, scale = node.args
    ga = gb = None
    if node.inputs[0] is not None:
        ga = _like(g, *ma)
    if node.inputs[1] is not None:
        gb = _like(g if scale == 1 else (-g if scale == -1 else g * scale), *mb)
    return ga, gb


def _mul(a, b) -> Tensor:
    """mul's general path: promotion, numbers on the left, errors."""
    bk, ad, bd, d = coerce(a, b, "mul")
    try:
        out = _make(bk.mul(ad, bd), d, bk)
    except Exception as err:
        raise _kernel_error("mul", err, a, b) from None
    if _grad_on(a, b):
        record(out, "MulBackward0", _mul_backward, (a, b), (a, b))
    return out


def _mul_backward(node, g):
    a, b = node.saved
    if not STATE.grad_enabled and a.dtype is b.dtype is g.dtype and \
            a.data.shape == b.data.shape == g.data.shape:
        k, d = g.backend, g.dtype
        if a is b:
            return _make(k.mul(g.data, k.mul(a.data, 2)), d, k), None
        return (_make(k.mul(g.data, b.data), d, k) if node.inputs[0] is not None else None,
                _make(k.mul(g.data, a.data), d, k) if node.inputs[1] is not None else None)
    if a is b:
        # x * x: one pass for 2x instead of two products and their sum
        return _grad_for(g * (a * 2), a), None
    ga = _grad_for(g * b, a) if node.inputs[0] is not None else None
    gb = _grad_for(g * a, b) if node.inputs[1] is not None else None
    return ga, gb


def _div(a, b, *, rounding_mode=None) -> Tensor:
    """div's general path: int operands, promotion, numbers on the left."""
    if rounding_mode is not None:
        raise NotImplementedError("div(rounding_mode=...) is not supported yet")
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
        raise _kernel_error("div", err, a, b) from None
    if _grad_on(a, b):
        record(out, "DivBackward0", _div_backward, (a, b), (a, b))
    return out


true_divide = div


def _div_backward(node, g):
    a, b = node.saved
    ga = _grad_for(g / b, a) if node.inputs[0] is not None else None
    gb = _grad_for(-g * a / (b * b), b) if node.inputs[1] is not None else None
    return ga, gb


def pow(a, b) -> Tensor:  # noqa: A001 - torch.pow
    """a ** b, broadcast."""
    bk, ad, bd, d = coerce(a, b, "pow")
    try:
        out = _make(bk.pow(ad, bd), d, bk)
    except Exception as err:
        raise _kernel_error("pow", err, a, b) from None
    if _grad_on(a, b):
        if not isinstance(b, Tensor):
            name = "PowBackward0"  # tensor ** number
        elif not isinstance(a, Tensor):
            name = "PowBackward2"  # number ** tensor
        else:
            name = "PowBackward1"
        record(out, name, _pow_backward, (a, b), (a, b, out.data))
    return out


def _pow_backward(node, g):
    a, b, out = node.saved
    ga = gb = None
    if node.inputs[0] is not None:
        if isinstance(b, Tensor):
            # torch's convention: a zero exponent gives a zero gradient, also at a == 0
            ga = _grad_for(where(b == 0, 0.0, g * b * a ** (b - 1)), a)
        elif b == 0:
            ga = _make(a.backend.full(tuple(a.data.shape), 0, a.dtype), a.dtype, a.backend)
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
            gb = where((a == 0) & (b >= 0), 0.0, result * log(a))
        elif a == 0:
            gb = where(b >= 0, 0.0, result * _log_number(a))
        else:
            gb = result * _log_number(a)
        gb = _grad_for(g * gb, b)
    return ga, gb


def _log_number(a: float) -> float:
    import math
    return math.log(a) if a > 0 else (float("-inf") if a == 0 else float("nan"))


def neg(x: Tensor) -> Tensor:
    """-x."""
    _tensor_arg(x, "neg")
    if x.dtype is dtypes.bool:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    out = _make(x.backend.neg(x.data), x.dtype, x.backend)
    if x._rg and STATE.grad_enabled:
        record1(out, "NegBackward0", _neg_backward, x)
    return out


def _neg_backward(node, g):
    return (-g,)


# -- unary math -----------------------------------------------------------------------
def _unary_input(x: Tensor, op: str):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(x).__name__}")
    d = x.dtype
    if d.is_floating_point:
        return x.data, d
    f = dtypes.get_default_dtype()
    return x.backend.astype(x.data, f), f


def exp(x: Tensor) -> Tensor:
    """e ** x, elementwise."""
    data, d = _unary_input(x, "exp")
    out = _make(x.backend.exp(data), d, x.backend)
    if x._rg and STATE.grad_enabled:
        record1(out, "ExpBackward0", _exp_backward, x, (out.data,))
    return out


def _exp_backward(node, g):
    if not STATE.grad_enabled:
        return (_make(g.backend.mul(g.data, node.saved[0]), g.dtype, g.backend),)
    return (g * saved_output(node, g, node.saved[0]),)


def log(x: Tensor) -> Tensor:
    """Natural logarithm, elementwise."""
    data, d = _unary_input(x, "log")
    out = _make(x.backend.log(data), d, x.backend)
    if x._rg and STATE.grad_enabled:
        record1(out, "LogBackward0", _log_backward, x, (x,))
    return out


def _log_backward(node, g):
    return (g / node.saved[0],)


def sqrt(x: Tensor) -> Tensor:
    """Square root, elementwise."""
    data, d = _unary_input(x, "sqrt")
    out = _make(x.backend.sqrt(data), d, x.backend)
    if x._rg and STATE.grad_enabled:
        record1(out, "SqrtBackward0", _sqrt_backward, x, (out.data,))
    return out


def _sqrt_backward(node, g):
    return (g / (2 * saved_output(node, g, node.saved[0])),)


def sin(x: Tensor) -> Tensor:
    """Sine, elementwise."""
    data, d = _unary_input(x, "sin")
    out = _make(x.backend.sin(data), d, x.backend)
    if x._rg and STATE.grad_enabled:
        record1(out, "SinBackward0", _sin_backward, x, (x,))
    return out


def _sin_backward(node, g):
    return (g * cos(node.saved[0]),)


def cos(x: Tensor) -> Tensor:
    """Cosine, elementwise."""
    data, d = _unary_input(x, "cos")
    out = _make(x.backend.cos(data), d, x.backend)
    if x._rg and STATE.grad_enabled:
        record1(out, "CosBackward0", _cos_backward, x, (x,))
    return out


def _cos_backward(node, g):
    return (-g * sin(node.saved[0]),)


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent, elementwise."""
    data, d = _unary_input(x, "tanh")
    out = _make(x.backend.tanh(data), d, x.backend)
    if x._rg and STATE.grad_enabled:
        record1(out, "TanhBackward0", _tanh_backward, x, (out.data,))
    return out


def _tanh_backward(node, g):
    if not STATE.grad_enabled:
        k, y = g.backend, node.saved[0]
        return (_make(k.mul(g.data, k.sub(1, k.mul(y, y))), g.dtype, k),)
    y = saved_output(node, g, node.saved[0])
    return (g * (1 - y * y),)


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + e ** -x), elementwise."""
    data, d = _unary_input(x, "sigmoid")
    k = x.backend
    out = _make(k.sigmoid(data), d, k)  # an optional kernel: Backend composes it if absent
    if x._rg and STATE.grad_enabled:
        record1(out, "SigmoidBackward0", _sigmoid_backward, x, (out.data,))
    return out


def _sigmoid_backward(node, g):
    if not STATE.grad_enabled:
        k, y = g.backend, node.saved[0]
        return (_make(k.mul(k.mul(g.data, y), k.sub(1, y)), g.dtype, k),)
    y = saved_output(node, g, node.saved[0])
    return (g * y * (1 - y),)


def relu(x: Tensor) -> Tensor:
    """max(x, 0), elementwise."""
    _tensor_arg(x, "relu")
    out = _make(x.backend.maximum(x.data, 0), x.dtype, x.backend)
    if x._rg and STATE.grad_enabled:
        record1(out, "ReluBackward0", _relu_backward, x, (out.data,))
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
        k.mul_into(passes, g.data)  # passes is this formula's own new array
        return (_make(passes, g.dtype, k),)
    return (g * _make(passes, g.dtype, k),)


def abs(x: Tensor) -> Tensor:  # noqa: A001 - torch.abs
    """|x|, elementwise."""
    _tensor_arg(x, "abs")
    out = _make(x.backend.abs(x.data), x.dtype, x.backend)
    if x._rg and STATE.grad_enabled:
        record1(out, "AbsBackward0", _abs_backward, x, (x,))
    return out


def _abs_backward(node, g):
    return (g * sign(node.saved[0]),)


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of each element (its gradient is zero)."""
    _tensor_arg(x, "sign")
    out = _make(x.backend.sign(x.data), x.dtype, x.backend)
    if x._rg and STATE.grad_enabled:
        record1(out, "SignBackward0", _sign_backward, x)
    return out


def _sign_backward(node, g):
    return (g * 0,)


def square(x: Tensor) -> Tensor:
    """x ** 2 (torch records it as a pow: PowBackward0)."""
    _tensor_arg(x, "square")
    return pow(x, 2)


def clone(x: Tensor) -> Tensor:
    """A copy with its own data; differentiable."""
    _tensor_arg(x, "clone")
    out = _make(x.backend.copy(x.data), x.dtype, x.backend)
    if x._rg and STATE.grad_enabled:
        record1(out, "CloneBackward0", _identity_backward, x)
    return out


def _identity_backward(node, g):
    return (g,)


def to_dtype(x: Tensor, dtype) -> Tensor:
    """x converted to `dtype`; differentiable between floating dtypes."""
    _tensor_arg(x, "to")
    if dtype is x.dtype:
        return x
    out = _make(x.backend.astype(x.data, dtype), dtype, x.backend)
    if x._rg and STATE.grad_enabled and dtype.is_floating_point:
        record1(out, "ToCopyBackward0", _to_dtype_backward, x, (), x.dtype)
    return out


def _to_dtype_backward(node, g):
    return (to_dtype(g, node.args),)


# -- two-tensor selections ----------------------------------------------------------------
def maximum(a: Tensor, b: Tensor) -> Tensor:
    """Elementwise maximum; a tie sends half the gradient to each side."""
    return _extremum(a, b, "maximum")


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
        raise _kernel_error(op, err, a, b) from None
    if _grad_on(a, b):
        name = "MaximumBackward0" if op == "maximum" else "MinimumBackward0"
        record(out, name, _extremum_backward, (a, b), (a, b), op)
    return out


def _extremum_backward(node, g):
    # torch's formula: a tie sends half to each side and a losing side gets zero, so with a
    # NaN (ordered neither way) both sides get the whole gradient
    a, b = node.saved
    half = where(a == b, g / 2, g)
    a_loses, b_loses = (a < b, a > b) if node.args == "maximum" else (a > b, a < b)
    ga = _grad_for(where(a_loses, 0.0, half), a) if node.inputs[0] is not None else None
    gb = _grad_for(where(b_loses, 0.0, half), b) if node.inputs[1] is not None else None
    return ga, gb


def clamp(x: Tensor, min=None, max=None) -> Tensor:  # noqa: A002 - torch's names
    """Limit x to [min, max]: numbers or tensors, broadcast, promoting dtypes like torch.

    The gradient reaches x where it lies inside, and a tensor bound where it is the output.
    """
    _tensor_arg(x, "clamp")
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    lo, hi = [v if v is None or isinstance(v, Tensor) else _number(v, "clamp")
              for v in (min, max)]
    given = [v for v in (lo, hi) if v is not None]
    k = x.backend
    for v in given:
        if isinstance(v, Tensor) and v.backend is not k:
            raise RuntimeError(f"clamp: expected all tensors on the same backend, but found "
                               f"{k.name!r} and {v.backend.name!r}")
    d = dtypes.result_type(x, *given)
    try:
        data = cast(x, d)
        if lo is not None:
            data = k.maximum(data, cast(lo, d) if isinstance(lo, Tensor) else lo)
        if hi is not None:
            data = k.minimum(data, cast(hi, d) if isinstance(hi, Tensor) else hi)
    except Exception as err:
        raise _kernel_error("clamp", err, x, *given) from None
    out = _make(data, d, k)
    if STATE.grad_enabled and (x._rg or any(isinstance(v, Tensor) and v._rg for v in given)):
        tensor_bounds = any(isinstance(v, Tensor) for v in given)
        record(out, "ClampBackward0" if tensor_bounds else "ClampBackward1", _clamp_backward,
               (x, lo, hi), (x, lo, hi))
    return out


clip = clamp


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
        gx = _grad_for(where(inside, g, 0.0), x)
    if node.inputs[1] is not None:
        below = x < lo
        if hi is not None:
            below = below & (lo < hi)
        glo = _grad_for(where(below, g, 0.0), lo)
    if node.inputs[2] is not None:
        above = x > hi
        if lo is not None:
            above = above | (hi < lo)
        ghi = _grad_for(where(above, g, 0.0), hi)
    return gx, glo, ghi


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
        input, other = _number(input, "where"), _number(other, "where")
        bk, d = condition.backend, dtypes.result_type(input, other)
        ad, bd = bk.full((), input, d), bk.full((), other, d)
    if condition.backend is not bk:
        raise RuntimeError(f"where: condition is on backend {condition.backend.name!r} "
                           f"but the values are on {bk.name!r}")
    try:
        out = _make(bk.where(condition.data, ad, bd), d, bk)
    except Exception as err:
        raise _kernel_error("where", err, condition, input, other) from None
    if _grad_on(input, other):
        record(out, "WhereBackward0", _where_backward, (input, other), (condition,),
               (_meta(input), _meta(other)))
    return out


def _where_backward(node, g):
    (cond,) = node.saved
    ma, mb = node.args
    return (_like(where(cond, g, 0.0), *ma) if node.inputs[0] is not None else None,
            _like(where(cond, 0.0, g), *mb) if node.inputs[1] is not None else None)


# -- comparisons and logic (never differentiable) -------------------------------------------------
def _compare(a, b, op: str) -> Tensor:
    bk, ad, bd, _ = coerce(a, b, op)
    try:
        return _make(getattr(bk, op)(ad, bd), dtypes.bool, bk)
    except Exception as err:
        raise _kernel_error(op, err, a, b) from None


def eq(a, b) -> Tensor:
    """a == b, elementwise (bool)."""
    return _compare(a, b, "eq")


def ne(a, b) -> Tensor:
    """a != b, elementwise (bool)."""
    return _compare(a, b, "ne")


def lt(a, b) -> Tensor:
    """a < b, elementwise (bool)."""
    return _compare(a, b, "lt")


def le(a, b) -> Tensor:
    """a <= b, elementwise (bool)."""
    return _compare(a, b, "le")


def gt(a, b) -> Tensor:
    """a > b, elementwise (bool)."""
    return _compare(a, b, "gt")


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


def logical_and(a, b) -> Tensor:
    """a and b, elementwise."""
    return _logical(a, b, "logical_and")


def logical_or(a, b) -> Tensor:
    """a or b, elementwise."""
    return _logical(a, b, "logical_or")


def logical_not(x: Tensor) -> Tensor:
    """not x, elementwise."""
    _tensor_arg(x, "logical_not")
    return _make(x.backend.logical_not(_truth(x).data), dtypes.bool, x.backend)


# -- in place ------------------------------------------------------------------------------------
# x.op_(...) computes op(x, ...) out of place and writes the result into x's
# memory (commit): views see the new values, the version counter moves and x's
# history becomes the op's node. The backend contract has no in-place
# arithmetic, and this way every in-place op shares its out-of-place twin's
# checks, dtype rules and backward formula.
def _keep_saved_input(node, x: Tensor) -> None:
    """The op saved x itself, whose memory is about to be overwritten: save a copy instead."""
    saved = node.saved
    if saved and any(s is x for s in saved):
        keep = _make(x.backend.copy(x.data), x.dtype, x.backend)
        keep.grad_fn, keep._rg = x.grad_fn, x._rg  # the old x, in the graph as x was
        node.saved = tuple([keep if s is x else s for s in saved])


def _in_place(op, name: str):
    def method(self, *args, **kwargs):
        if type(self) is not Tensor:
            raise TypeError(f"{name}(): self must be a Tensor, not {type(self).__name__}")
        _check_inplace(self)
        res = op(self, *args, **kwargs)
        node = res.grad_fn
        if node is not None and node.saved:
            _keep_saved_input(node, self)
        return commit(self, res)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = (f"In-place {op.__name__}: the result is written into this tensor's memory "
                      f"(its views see it); returns self.")
    return method


IN_PLACE = {}
for _op in (add, sub, mul, div, pow, neg, abs, exp, log, sqrt, sin, cos, tanh, sigmoid, relu,
            sign, clamp, square):
    IN_PLACE[_op.__name__ + "_"] = _in_place(_op, _op.__name__ + "_")
IN_PLACE["true_divide_"] = _in_place(div, "true_divide_")
IN_PLACE["clip_"] = _in_place(clamp, "clip_")
del _op


def fill_(x: Tensor, value) -> Tensor:
    """Fill with `value` (a number or a one-element tensor) in place; returns x."""
    _tensor_arg(x, "fill_")
    _check_inplace(x)
    vt = value if type(value) is Tensor else None
    if vt is not None:
        if vt.data.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {vt.data.ndim} dimensions.")
    else:
        value = _number(value, "fill_")
    k = x.backend
    if not (STATE.grad_enabled and x.dtype.is_floating_point and
            (x._rg or (vt is not None and vt._rg))):
        # the common case (zeroing a gradient buffer): one write, no graph
        if vt is not None:
            # a lazy backend writes the 0-d array itself: no computing it to a number
            value = k.astype(vt.data, x.dtype) if k.lazy else vt.item()
        r = root(x)
        before = r.data
        _store(k, _shareable(x), value)
        bump(x, before)
        return x
    shape = tuple(x.data.shape)
    if vt is None:
        res = _make(k.full(shape, value, x.dtype), x.dtype, k)
        record(res, "FillBackward0", _fill_backward, (x, None), ())
    else:
        res = _make(k.copy(k.broadcast_to(cast(vt, x.dtype), shape)), x.dtype, k)
        record(res, "FillBackward1", _fill_backward, (x, vt), (), vt.dtype)
    return commit(x, res)


def _fill_backward(node, g):
    # torch gives the overwritten tensor zeros, not nothing
    gx = g * 0 if node.inputs[0] is not None else None
    gv = None
    if node.inputs[1] is not None:
        gv = g.sum()
        if gv.dtype is not node.args:
            gv = to_dtype(gv, node.args)
    return gx, gv


def zero_(x: Tensor) -> Tensor:
    """Fill with zeros in place (also seen through views and detached copies); returns x."""
    return fill_(x, 0)


def copy_(x: Tensor, src: Tensor, non_blocking: bool = False) -> Tensor:
    """Copy src's values into x (broadcast, converted to x's dtype and backend); returns x.

    Differentiable with respect to src; what x held before gets a zero gradient.
    """
    _tensor_arg(x, "copy_")
    if type(src) is not Tensor:
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
    _check_inplace(x)
    if src.backend is not x.backend:
        src = src.to(x.backend)
    k = x.backend
    shape = tuple(x.data.shape)
    try:
        data = k.broadcast_to(cast(src, x.dtype), shape)
    except Exception:
        raise RuntimeError(f"The size of tensor a ({list(shape)}) must match the size of "
                           f"tensor b ({list(src.shape)}) to copy") from None
    res = _make(k.copy(data), x.dtype, k)
    if STATE.grad_enabled and x.dtype.is_floating_point and (x._rg or src._rg):
        record(res, "CopyBackwards", _copy_backward, (x, src), (),
               (tuple(src.data.shape), src.dtype))
    return commit(x, res)


def _copy_backward(node, g):
    return (g * 0 if node.inputs[0] is not None else None,
            _like(g, *node.args) if node.inputs[1] is not None else None)
