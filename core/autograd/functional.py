"""Derivatives of whole functions: jacobian, hessian and their products with vectors.

Each takes a function of tensors and the point to evaluate it at, as
torch.autograd.functional does:

- `vjp(func, inputs, v)`: v^T J, one backward pass
- `jvp(func, inputs, v)`: J v, by differentiating a vjp with respect to its
  vector (the "double-backward trick"; plugrad has no forward mode)
- `jacobian(func, inputs)`: J, one backward pass per output element
- `hessian(func, inputs)`: the jacobian of the gradient of a scalar function
- `vhp(func, inputs, v)` and `hvp(func, inputs, v)`: v^T H and H v

`inputs` is a tensor or a tuple of tensors and `func` returns a tensor or a
tuple of tensors; results follow the same nesting (a tuple where the
function's inputs or outputs were a tuple). The inputs are detached first, so
the results do not depend on the graph the inputs came from unless
create_graph=True, in which case they are differentiable, also with respect
to those inputs. With strict=True an output that does not depend on an input
is an error instead of a zero. `vectorize` is accepted and ignored (it only
changes how torch batches the work).
"""
from __future__ import annotations

from ..creation import zeros, zeros_like
from ..engine import grad as _grad
from ..grad_mode import STATE, enable_grad, set_grad_enabled
from ..shape import stack
from ..tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


# -- argument handling ---------------------------------------------------------------------
def _tupled(x, what: str, fn: str) -> tuple:
    """(was_a_tuple, x as a tuple of tensors), or torch's TypeError."""
    was_tuple = isinstance(x, tuple)
    items = x if was_tuple else (x,)
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            where = f"the value at index {i}" if was_tuple else f"the given {what}"
            raise TypeError(f"The {what} given to {fn} must be either a Tensor or a tuple of "
                            f"Tensors but {where} has type {type(item)}.")
    return was_tuple, items


def _untupled(result, was_tuple):
    """Undo the tupling: `was_tuple` is one flag, or (outputs_flag, inputs_flag) for a
    tuple of tuples (results[output][input])."""
    if isinstance(was_tuple, tuple):
        outputs_tuple, inputs_tuple = was_tuple
        if not inputs_tuple:
            result = tuple(row[0] for row in result)
        return result if outputs_tuple else result[0]
    return result if was_tuple else result[0]


def _prepare(inputs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """Fresh tensors to differentiate with respect to.

    With create_graph an input that requires grad stays connected (through a
    view) so results can be differentiated with respect to it too; otherwise
    each input is detached and becomes a new leaf.
    """
    return tuple(t.view_as(t) if create_graph and t._rg else t.detach().requires_grad_(need_graph)
                 for t in inputs)


def _finish(tensors, create_graph: bool):
    """Detach results (also nested tuples of them) unless the caller wants a graph."""
    if isinstance(tensors, Tensor):
        return tensors if create_graph else tensors.detach()
    return tuple(_finish(t, create_graph) for t in tensors)


def _check_v(v: tuple, like: tuple, like_is_tuple: bool) -> None:
    if len(v) != len(like):
        if like_is_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(like)} but got "
                               f"{len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, like)):
        if a.shape != b.shape:
            where = f"Entry {i} in " if like_is_tuple else ""
            raise RuntimeError(f"{where}v has invalid size: should be {b.shape} but got "
                               f"{a.shape}.")


def _check_requires_grad(tensors: tuple, kind: str, strict: bool) -> None:
    """In strict mode, each of `tensors` must depend on the inputs (torch's messages)."""
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode.")
        if t._rg:
            continue
        if kind == "hessian":
            raise RuntimeError(
                f"The hessian of the user-provided function with respect to input {i} is "
                "independent of the input. This is not allowed in strict mode. You should "
                "ensure that your function is thrice differentiable and that the hessian "
                "depends on the inputs.")
        if kind == "jacobian":
            raise RuntimeError(
                "While computing the hessian, found that the jacobian of the user-provided "
                f"function with respect to input {i} is independent of the input. This is not "
                "allowed in strict mode. You should ensure that your function is twice "
                "differentiable and that the jacobian depends on the inputs (this would be "
                "violated by a linear function for example).")
        if kind == "grad_inputs":
            raise RuntimeError(
                f"The gradient with respect to input {i} is independent of the inputs of the "
                "user-provided function. This is not allowed in strict mode.")
        raise RuntimeError(
            f"Output {i} of the user-provided function does not require gradients. The outputs "
            "must be computed in a differentiable manner from the input when running in "
            "strict mode.")


def _grads(outputs: tuple, inputs: tuple, grad_outputs=None, create_graph: bool = False,
           retain_graph=None) -> tuple:
    """autograd.grad over the outputs that require grad; all None when none does."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o._rg]
    if not pairs:
        return (None,) * len(inputs)
    outs, gouts = zip(*pairs)
    return _grad(outs, inputs, gouts, retain_graph=retain_graph, create_graph=create_graph,
                 allow_unused=True)


_INDEPENDENT = {
    "back": "The output of the user-provided function is independent of input {i}. This is "
            "not allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. "
                   "This is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry "
                         "{i} in the grad_jacobian. This is not allowed in strict mode as it "
                         "prevents from using the double backward trick to replace forward "
                         "mode AD.",
}


def _zeros_for_missing(grads: tuple, refs: tuple, strict: bool, create_graph: bool,
                       stage: str) -> tuple:
    """Replace None gradients by zeros shaped like `refs` (an error in strict mode)."""
    result = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_INDEPENDENT[stage].format(i=i))
            g = zeros_like(refs[i])
        elif strict and create_graph and not g._rg:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode when "
                               f"create_graph=True.")
        result.append(g)
    return tuple(result)


def _single_scalar_output(outputs: tuple, outputs_tuple: bool, fn: str) -> None:
    if outputs_tuple or not isinstance(outputs[0], Tensor):
        raise RuntimeError(f"The function given to {fn} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn} should contain "
                           f"a single element")


def _v_or_default(v, like: tuple, like_tuple: bool, create_graph: bool, fn: str,
                  what: str) -> tuple | None:
    if v is not None:
        _, v = _tupled(v, "v", fn)
        v = _prepare(v, create_graph, need_graph=False)
        _check_v(v, like, like_tuple)
        return v
    if len(like) != 1 or like[0].numel() != 1:
        raise RuntimeError(f"The vector v can only be None if the {what} a single Tensor with "
                           f"a single element.")
    return None


# -- the functions ---------------------------------------------------------------------------
def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T J): the product of a vector with the jacobian of func.

    `v` has the shape of func's output (may be None when that is one element).

    >>> import plugrad as pg
    >>> from plugrad.autograd.functional import vjp
    >>> out, g = vjp(lambda x: x ** 2, pg.tensor([1.0, 2.0]), pg.tensor([1.0, 1.0]))
    >>> g
    tensor([2., 4.])
    """
    with enable_grad():
        inputs_tuple, inputs = _tupled(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = _tupled(func(*inputs), "outputs of the user-provided function",
                                         "vjp")
        _check_requires_grad(outputs, "outputs", strict)
        v = _v_or_default(v, outputs, outputs_tuple, create_graph, "vjp",
                          "user-provided function returns")
    with set_grad_enabled(create_graph or STATE.grad_enabled):
        grads = _grads(outputs, inputs, v, create_graph=create_graph)
        result = _zeros_for_missing(grads, inputs, strict, create_graph, "back")
    return (_untupled(_finish(outputs, create_graph), outputs_tuple),
            _untupled(_finish(result, create_graph), inputs_tuple))


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), J v): the product of the jacobian of func with a vector.

    `v` has the shape of the inputs (may be None when that is one element).
    Computed with two backward passes: u -> J^T u is linear in u, so
    differentiating it with respect to u in direction v gives J v.

    >>> import plugrad as pg
    >>> from plugrad.autograd.functional import jvp
    >>> out, t = jvp(lambda x: x ** 2, pg.tensor([1.0, 2.0]), pg.tensor([1.0, 0.0]))
    >>> t
    tensor([2., 0.])
    """
    with enable_grad():
        inputs_tuple, inputs = _tupled(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        v = _v_or_default(v, inputs, inputs_tuple, create_graph, "jvp",
                          "input to the user-provided function is")
        outputs_tuple, outputs = _tupled(func(*inputs), "outputs of the user-provided function",
                                         "jvp")
        _check_requires_grad(outputs, "outputs", strict)
        # u: a dummy vector that J^T u is differentiated against
        u = tuple(zeros_like(out, requires_grad=True) for out in outputs)
        grad_inputs = _grads(outputs, inputs, u, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    with set_grad_enabled(True if create_graph else STATE.grad_enabled):
        grads = _grads(grad_inputs, u, v, create_graph=create_graph)
        result = _zeros_for_missing(grads, outputs, strict, create_graph, "back_trick")
    return (_untupled(_finish(outputs, create_graph), outputs_tuple),
            _untupled(_finish(result, create_graph), outputs_tuple))


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """The jacobian of func at inputs: shape output.shape + input.shape.

    With tuples, result[i][j] is the jacobian of output i with respect to input j.

    >>> import plugrad as pg
    >>> from plugrad.autograd.functional import jacobian
    >>> jacobian(lambda x: x ** 2, pg.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 4.]])
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    if strategy == "forward-mode":
        raise NotImplementedError('plugrad has no forward-mode AD; use strategy="reverse-mode"')
    with enable_grad():
        inputs_tuple, inputs = _tupled(inputs, "inputs", "jacobian")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = _tupled(func(*inputs), "outputs of the user-provided function",
                                         "jacobian")
        _check_requires_grad(outputs, "outputs", strict)
        if vectorize and strict:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                               "`vectorized=True` are not supported together. Please either "
                               "set `strict=False` or `vectorize=False`.")
        rows = tuple(_jacobian_of(i, out, inputs, create_graph, strict)
                     for i, out in enumerate(outputs))
    return _untupled(_finish(rows, create_graph), (outputs_tuple, inputs_tuple))


def _jacobian_of(i: int, out: Tensor, inputs: tuple, create_graph: bool, strict: bool) -> tuple:
    """The jacobians of one output with respect to each input: one backward per element."""
    flat = out.reshape(-1)
    per_input = [[] for _ in inputs]
    for k in range(out.numel()):
        grads = _grads((flat[k],), inputs, retain_graph=True, create_graph=create_graph)
        for j, (g, inp) in enumerate(zip(grads, inputs)):
            if g is None:
                if strict:
                    raise RuntimeError(f"Output {i} of the user-provided function is independent "
                                       f"of input {j}. This is not allowed in strict mode.")
                g = zeros_like(inp)
            elif strict and create_graph and not g._rg:
                raise RuntimeError(f"The jacobian of the user-provided function is independent "
                                   f"of input {i}. This is not allowed in strict mode when "
                                   f"create_graph=True.")
            per_input[j].append(g)
    shape = tuple(out.shape)
    return tuple(stack(rows, 0).reshape(shape + tuple(inp.shape)) if rows
                 else zeros(shape + tuple(inp.shape), dtype=inp.dtype, backend=inp.backend)
                 for rows, inp in zip(per_input, inputs))


def hessian(func, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """The hessian of a function with one output element: shape input.shape * 2.

    With a tuple of inputs, result[i][j] holds d2 f / (d input_i d input_j).

    >>> import plugrad as pg
    >>> from plugrad.autograd.functional import hessian
    >>> hessian(lambda x: (x ** 3).sum(), pg.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    inputs_tuple, inputs = _tupled(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def scalar_func(*args):
        out = func(*args)
        outputs_tuple, outputs = _tupled(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(outputs, "outputs", strict)
        _single_scalar_output(outputs, outputs_tuple, "hessian")
        return out.squeeze()

    def gradient(*args):
        jac = jacobian(scalar_func, args, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict,
                      vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _untupled(result, (inputs_tuple, inputs_tuple))


def _scalar_output_and_gradient(func, inputs, v, create_graph: bool, strict: bool, fn: str):
    """The start of vhp and hvp, run under enable_grad: the prepared inputs and v, func's
    one output element and its gradient, itself differentiable (it is differentiated again).

    Returns (inputs_tuple, inputs, v, outputs_tuple, outputs, gradient).
    """
    inputs_tuple, inputs = _tupled(inputs, "inputs", fn)
    inputs = _prepare(inputs, create_graph, need_graph=True)
    v = _v_or_default(v, inputs, inputs_tuple, create_graph, fn,
                      "input to the user-provided function is")
    outputs_tuple, outputs = _tupled(func(*inputs), "outputs of the user-provided function", fn)
    _check_requires_grad(outputs, "outputs", strict)
    _single_scalar_output(outputs, outputs_tuple, fn)
    jac = _grads(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict)
    return inputs_tuple, inputs, v, outputs_tuple, outputs, jac


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T H) for a function with one output element.

    >>> import plugrad as pg
    >>> from plugrad.autograd.functional import vhp
    >>> out, p = vhp(lambda x: (x ** 3).sum(), pg.tensor([1.0, 2.0]), pg.tensor([1.0, 1.0]))
    >>> p
    tensor([ 6., 12.])
    """
    with enable_grad():
        inputs_tuple, inputs, v, outputs_tuple, outputs, jac = _scalar_output_and_gradient(
            func, inputs, v, create_graph, strict, "vhp")
    with set_grad_enabled(True if create_graph else STATE.grad_enabled):
        grads = _grads(jac, inputs, v, create_graph=create_graph)
        result = _zeros_for_missing(grads, inputs, strict, create_graph, "double_back")
    return (_untupled(_finish(outputs, create_graph), outputs_tuple),
            _untupled(_finish(result, create_graph), inputs_tuple))


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), H v) for a function with one output element.

    H is symmetric for twice continuously differentiable functions, so this
    equals vhp; it is computed with the double-backward trick, as jvp is.

    >>> import plugrad as pg
    >>> from plugrad.autograd.functional import hvp
    >>> out, p = hvp(lambda x: (x ** 3).sum(), pg.tensor([1.0, 2.0]), pg.tensor([1.0, 0.0]))
    >>> p
    tensor([6., 0.])
    """
    with enable_grad():
        inputs_tuple, inputs, v, outputs_tuple, outputs, jac = _scalar_output_and_gradient(
            func, inputs, v, create_graph, strict, "hvp")
        u = tuple(zeros_like(inp, requires_grad=True) for inp in inputs)
        double_back = _grads(jac, inputs, u, create_graph=True)
        _check_requires_grad(jac, "hessian", strict)
    with set_grad_enabled(True if create_graph else STATE.grad_enabled):
        grads = _grads(double_back, u, v, create_graph=create_graph)
        result = _zeros_for_missing(grads, inputs, strict, create_graph, "double_back_trick")
    return (_untupled(_finish(outputs, create_graph), outputs_tuple),
            _untupled(_finish(result, create_graph), inputs_tuple))
