"""Elementwise ops: each forward, then its backward, written with tensor ops.

Binary ops accept a tensor or a Python number on either side, broadcast like
torch, and promote dtypes with torch's rules (`dtypes.result_type`). Backward
formulas sum a broadcast gradient back to each input's shape (`unbroadcast`).
"""
from __future__ import annotations

import numbers

from . import dtypes
from .grad_mode import STATE
from .recording import record, record1, saved_output, edge
from .tensor import Tensor, _make

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
                raise RuntimeError(
                    f"The size of tensor a ({result[j]}) must match the size of tensor b "
                    f"({size}) at non-singleton dimension {i}")
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
    if dims:
        g = g.sum(dims, keepdim=True)
    return g.reshape(shape) if lead else g


def _grad_on(a, b) -> bool:
    return STATE.grad_enabled and (
        (type(a) is Tensor and a._rg) or (type(b) is Tensor and b._rg))


def _float_dtype(x: Tensor):
    """Ops like exp give floats also for int tensors."""
    d = x.dtype
    return d if d.is_floating_point else dtypes.get_default_dtype()


# -- arithmetic -------------------------------------------------------------------
def add(a, b, *, alpha=1) -> Tensor:
    """a + alpha * b, broadcast."""
    if alpha != 1:
        b = mul(b, alpha)
    bk, ad, bd, d = coerce(a, b, "add")
    try:
        out = _make(bk.add(ad, bd), d, bk)
    except Exception as err:
        raise _kernel_error("add", err, a, b) from None
    if _grad_on(a, b):
        record(out, "AddBackward0", _add_backward, (a, b), (), (_shape(a), _shape(b)))
    return out


def _add_backward(node, g):
    sa, sb = node.args
    return unbroadcast(g, sa), unbroadcast(g, sb)


def sub(a, b, *, alpha=1) -> Tensor:
    """a - alpha * b, broadcast."""
    if alpha != 1:
        b = mul(b, alpha)
    bk, ad, bd, d = coerce(a, b, "sub")
    try:
        out = _make(bk.sub(ad, bd), d, bk)
    except Exception as err:
        raise _kernel_error("sub", err, a, b) from None
    if _grad_on(a, b):
        record(out, "SubBackward0", _sub_backward, (a, b), (), (_shape(a), _shape(b)))
    return out


def _sub_backward(node, g):
    sa, sb = node.args
    return unbroadcast(g, sa), unbroadcast(-g, sb)


def mul(a, b) -> Tensor:
    """a * b, broadcast."""
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
    ga = unbroadcast(g * b, a.data.shape) if edge(a)[0] is not None else None
    gb = unbroadcast(g * a, b.data.shape) if edge(b)[0] is not None else None
    return ga, gb


def div(a, b, *, rounding_mode=None) -> Tensor:
    """a / b (true division: integers divide to floats)."""
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
    ga = unbroadcast(g / b, a.data.shape) if edge(a)[0] is not None else None
    gb = unbroadcast(-g * a / (b * b), b.data.shape) if edge(b)[0] is not None else None
    return ga, gb


def pow(a, b) -> Tensor:  # noqa: A001 - torch.pow
    """a ** b, broadcast."""
    bk, ad, bd, d = coerce(a, b, "pow")
    try:
        out = _make(bk.pow(ad, bd), d, bk)
    except Exception as err:
        raise _kernel_error("pow", err, a, b) from None
    if _grad_on(a, b):
        record(out, "PowBackward0" if not isinstance(b, Tensor) else "PowBackward1",
               _pow_backward, (a, b), (a, b, out.data))
    return out


def _pow_backward(node, g):
    a, b, out = node.saved
    ga = gb = None
    if edge(a)[0] is not None:
        if isinstance(b, Tensor):
            ga = unbroadcast(g * b * a ** (b - 1), a.data.shape)
        else:
            ga = g * (b * a ** (b - 1)) if b != 0 else g * 0
    if edge(b)[0] is not None:
        result = saved_output(node, g, out)
        if isinstance(a, Tensor):
            # the limit of b*log(a)*a**b at a == 0 is 0 for b >= 0; keep it finite there
            safe_log = where((a == 0) & (b >= 0), 0.0, log(a))
        else:
            safe_log = _make(b.backend.full((), _log_number(a), b.dtype), b.dtype, b.backend)
        gb = unbroadcast(g * result * safe_log, b.data.shape)
    return ga, gb


def _log_number(a: float) -> float:
    import math
    return math.log(a) if a > 0 else (float("-inf") if a == 0 else float("nan"))


def neg(x: Tensor) -> Tensor:
    """-x."""
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
    y = saved_output(node, g, node.saved[0])
    return (g * (1 - y * y),)


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + e ** -x), elementwise."""
    data, d = _unary_input(x, "sigmoid")
    k = x.backend
    out = _make(k.div(1, k.add(1, k.exp(k.neg(data)))), d, k)
    if x._rg and STATE.grad_enabled:
        record1(out, "SigmoidBackward0", _sigmoid_backward, x, (out.data,))
    return out


def _sigmoid_backward(node, g):
    y = saved_output(node, g, node.saved[0])
    return (g * y * (1 - y),)


def relu(x: Tensor) -> Tensor:
    """max(x, 0), elementwise."""
    out = _make(x.backend.maximum(x.data, 0), x.dtype, x.backend)
    if x._rg and STATE.grad_enabled:
        record1(out, "ReluBackward0", _relu_backward, x, (out.data,))
    return out


def _relu_backward(node, g):
    return (where(_make(g.backend.gt(node.saved[0], 0), dtypes.bool, g.backend), g, 0),)


def abs(x: Tensor) -> Tensor:  # noqa: A001 - torch.abs
    """|x|, elementwise."""
    out = _make(x.backend.abs(x.data), x.dtype, x.backend)
    if x._rg and STATE.grad_enabled:
        record1(out, "AbsBackward0", _abs_backward, x, (x,))
    return out


def _abs_backward(node, g):
    return (g * sign(node.saved[0]),)


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of each element (its gradient is zero)."""
    out = _make(x.backend.sign(x.data), x.dtype, x.backend)
    if x._rg and STATE.grad_enabled:
        record1(out, "SignBackward0", _sign_backward, x)
    return out


def _sign_backward(node, g):
    return (g * 0,)


def square(x: Tensor) -> Tensor:
    """x * x."""
    return mul(x, x)


def clone(x: Tensor) -> Tensor:
    """A copy with its own data; differentiable."""
    out = _make(x.backend.copy(x.data), x.dtype, x.backend)
    if x._rg and STATE.grad_enabled:
        record1(out, "CloneBackward0", _identity_backward, x)
    return out


def _identity_backward(node, g):
    return (g,)


def to_dtype(x: Tensor, dtype) -> Tensor:
    """x converted to `dtype`; differentiable between floating dtypes."""
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
    a, b = node.saved
    wins = (a > b) if node.args == "maximum" else (a < b)
    share = where(wins, 1.0, where(a == b, 0.5, 0.0)).to(g.dtype)
    return unbroadcast(g * share, a.data.shape), unbroadcast(g * (1 - share), b.data.shape)


def clamp(x: Tensor, min=None, max=None) -> Tensor:  # noqa: A002 - torch's names
    """Limit x to [min, max]; the gradient passes where x is inside."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    k = x.backend
    data = x.data
    if min is not None:
        data = k.maximum(data, min.data if isinstance(min, Tensor) else min)
    if max is not None:
        data = k.minimum(data, max.data if isinstance(max, Tensor) else max)
    out = _make(data, x.dtype, k)
    if x._rg and STATE.grad_enabled:
        record1(out, "ClampBackward1", _clamp_backward, x, (x,), (min, max))
    return out


clip = clamp


def _clamp_backward(node, g):
    (x,) = node.saved
    lo, hi = node.args
    inside = None
    if lo is not None:
        inside = x >= lo
    if hi is not None:
        inside = (x <= hi) if inside is None else inside & (x <= hi)
    return (where(inside, g, 0.0),)


def where(condition: Tensor, input, other) -> Tensor:
    """Elements of `input` where `condition`, else of `other` (broadcast)."""
    if not isinstance(condition, Tensor):
        raise TypeError("where(): condition must be a bool Tensor")
    if condition.dtype is not dtypes.bool:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a "
                           f"tensor with dtype {condition.dtype.name}")
    bk, ad, bd, d = coerce(input, other, "where")
    if condition.backend is not bk:
        raise RuntimeError(f"where: condition is on backend {condition.backend.name!r} "
                           f"but the values are on {bk.name!r}")
    try:
        out = _make(bk.where(condition.data, ad, bd), d, bk)
    except Exception as err:
        raise _kernel_error("where", err, condition, input, other) from None
    if _grad_on(input, other):
        record(out, "WhereBackward0", _where_backward, (input, other), (condition,),
               (_shape(input), _shape(other)))
    return out


def _where_backward(node, g):
    (cond,) = node.saved
    sa, sb = node.args
    zero = 0.0
    return (unbroadcast(where(cond, g, zero), sa) if node.next_functions[0][0] else None,
            unbroadcast(where(cond, zero, g), sb) if node.next_functions[1][0] else None)


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


def _logical(a, b, op: str) -> Tensor:
    for x in (a, b):
        if isinstance(x, Tensor) and x.dtype is not dtypes.bool:
            raise TypeError(f"{op}: only bool tensors are supported here, got {x.dtype.name}")
    return _compare(a, b, op)


def logical_and(a, b) -> Tensor:
    """a and b, elementwise."""
    return _logical(a, b, "logical_and")


def logical_or(a, b) -> Tensor:
    """a or b, elementwise."""
    return _logical(a, b, "logical_or")


def logical_not(x: Tensor) -> Tensor:
    """not x, elementwise."""
    return _make(x.backend.logical_not(x.data), dtypes.bool, x.backend)
