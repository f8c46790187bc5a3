"""In-place ops, augmented assignment, x[i] = v, version counters and the saved-tensor check."""
from __future__ import annotations

import numpy as np
import plugrad as pg
import pytest
from helpers import as_numpy, check_grads

RNG = np.random.default_rng(0)


def _away(shape, lo=0.3, hi=1.5):
    return RNG.uniform(lo, hi, shape) * RNG.choice([-1.0, 1.0], shape)


def _pos(shape):
    return RNG.uniform(0.3, 1.5, shape)


# (method, out-of-place twin, extra args (tensors as arrays), input generator)
UNARY = [("neg_", pg.neg), ("abs_", pg.abs), ("exp_", pg.exp), ("log_", pg.log),
         ("sqrt_", pg.sqrt), ("sin_", pg.sin), ("cos_", pg.cos), ("tanh_", pg.tanh),
         ("sigmoid_", pg.sigmoid), ("relu_", pg.relu), ("square_", pg.square)]
POSITIVE = {"log_", "sqrt_"}


@pytest.mark.parametrize("name,twin", UNARY, ids=[u[0] for u in UNARY])
def test_unary_in_place_matches_its_twin_values_and_gradients(name, twin):
    a = _pos((2, 3)) if name in POSITIVE else _away((2, 3))
    x = pg.tensor(a)
    y = getattr(x, name)()
    assert y is x and x._version == 1
    np.testing.assert_allclose(as_numpy(x), as_numpy(twin(pg.tensor(a))), rtol=1e-12)
    # on a non-leaf: the history is rebased, the gradient is that of the twin
    check_grads(lambda t: getattr(t * 1.0, name)(), a)


BINARY = [("add_", pg.add), ("sub_", pg.sub), ("mul_", pg.mul), ("div_", pg.div),
          ("pow_", pg.pow)]


@pytest.mark.parametrize("name,twin", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("other_shape", [(2, 3), (3,), ()], ids=["same", "bcast", "0d"])
def test_binary_in_place_gradients_to_both_sides(name, twin, other_shape):
    a = _pos((2, 3))
    b = _pos(other_shape)
    check_grads(lambda s, o: getattr(s * 1.0, name)(o), a, b)
    x = pg.tensor(a)
    getattr(x, name)(pg.tensor(b))
    np.testing.assert_allclose(as_numpy(x), as_numpy(twin(pg.tensor(a), pg.tensor(b))),
                               rtol=1e-12)


@pytest.mark.parametrize("name", ["add_", "sub_", "mul_", "div_", "pow_"])
def test_binary_in_place_with_a_number(name):
    a = _pos((4,))
    check_grads(lambda s: getattr(s * 1.0, name)(1.5), a)


def test_alpha_clamp_and_clip_in_place():
    a, b = _away((2, 3)), _away((2, 3))
    check_grads(lambda s, o: (s * 1.0).add_(o, alpha=2.5), a, b)
    check_grads(lambda s, o: (s * 1.0).sub_(o, alpha=0.5), a, b)
    check_grads(lambda s: (s * 1.0).clamp_(-0.5, 0.7), a)
    check_grads(lambda s, lo: (s * 1.0).clamp_(min=lo), a, b)
    x = pg.tensor(a)
    x.clip_(max=0.1)
    np.testing.assert_allclose(as_numpy(x), np.minimum(a, 0.1))


def test_in_place_on_a_tensor_that_needs_no_grad_picks_up_the_other_sides_history():
    w = pg.tensor([1.0, 2.0])
    y = pg.tensor([3.0, 4.0], requires_grad=True)
    w.mul_(y)
    assert w.grad_fn.name() == "MulBackward0" and not w.is_leaf
    w.sum().backward()
    np.testing.assert_allclose(as_numpy(y.grad), [1.0, 2.0])  # the old w, not the product


def test_self_times_self_in_place():
    check_grads(lambda t: (lambda u: u.mul_(u))(t * 1.0), [0.5, -2.0, 3.0])


def test_augmented_assignment_changes_the_tensor_in_place():
    x = pg.tensor([1.0, 2.0])
    a = x
    v = x[1:]
    x += 1
    assert a is x
    np.testing.assert_allclose(as_numpy(a), [2.0, 3.0])
    np.testing.assert_allclose(as_numpy(v), [3.0])
    x -= pg.tensor([1.0, 1.0])
    x *= 3
    x /= 2
    x **= 2
    np.testing.assert_allclose(as_numpy(a), [2.25, 9.0])
    assert x._version == 5 and v._version == 5


def test_augmented_assignment_on_a_non_leaf_rebases():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y += x
    y *= 3
    assert y.grad_fn.name() == "MulBackward0"
    y.sum().backward()
    np.testing.assert_allclose(as_numpy(x.grad), [9.0, 9.0])


def test_non_leaf_rebase_example():
    x = pg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    y.mul_(3)
    y.sum().backward()
    np.testing.assert_allclose(as_numpy(x.grad), [6.0, 6.0, 6.0])


def test_in_place_dtype_rules():
    i = pg.tensor([1, 2])
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired "
                                           "output type Long"):
        i.add_(1.5)
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.exp_()
    i.add_(1)
    assert i.tolist() == [2, 3] and i.dtype is pg.int64
    f = pg.tensor([1.0, 2.0])
    f.add_(pg.tensor([1, 1]))
    f.mul_(pg.tensor([2.0, 2.0], dtype=pg.float64))
    assert f.dtype is pg.float32 and f.tolist() == [4.0, 6.0]
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        pg.zeros(3).add_(pg.ones(2, 3))


# -- version counter ------------------------------------------------------------------------
def test_version_counter_is_shared_by_views_and_detached_aliases():
    x = pg.zeros(2, 3)
    v, d, r = x[0], x.detach(), x.reshape(6)
    assert x._version == 0
    v.add_(1)
    assert x._version == v._version == d._version == r._version == 1
    d.zero_()
    x[1] = 5.0
    assert r._version == 3
    c = x.clone()
    assert c._version == 0
    np.testing.assert_allclose(as_numpy(r), [0, 0, 0, 5, 5, 5])


def test_out_of_place_ops_do_not_bump():
    x = pg.ones(3)
    x + 1, x.exp(), x[0], x.clone()
    assert x._version == 0


# -- the saved-tensor check -----------------------------------------------------------------------
def test_modified_saved_output_raises_naming_op_and_versions():
    x = pg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.exp()
    y.add_(1)
    with pytest.raises(RuntimeError) as err:
        y.sum().backward()
    assert str(err.value).startswith(
        "one of the variables needed for gradient computation has been modified by an "
        "inplace operation: [torch.FloatTensor [3]], which is output 0 of ExpBackward0, is at "
        "version 1; expected version 0 instead. Hint:")


def test_second_in_place_names_the_in_place_node_and_versions():
    x = pg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    y.exp_()
    y.add_(1)
    with pytest.raises(RuntimeError, match=r"\[torch.FloatTensor \[3\]\], which is output 0 of "
                                           r"ExpBackward0, is at version 2; expected version 1"):
        y.sum().backward()


def test_modified_saved_input_raises():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    w = pg.tensor([[3.0, 4.0]], dtype=pg.float64)
    y = x.double() * w  # MulBackward0 saves w
    with pg.no_grad():
        w.mul_(2)
    with pytest.raises(RuntimeError, match=r"\[torch.DoubleTensor \[1, 2\]\] is at version 1; "
                                           r"expected version 0 instead"):
        y.sum().backward()


def test_modified_saved_non_leaf_names_its_grad_fn_when_saved():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2
    y = a * x  # saves a (output of MulBackward0)
    a.add_(1)  # a is now output of AddBackward0
    with pytest.raises(RuntimeError, match="output 0 of MulBackward0, is at version 1; "
                                           "expected version 0"):
        y.sum().backward()


def test_modifying_through_a_view_is_seen():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    base = pg.tensor([3.0, 4.0, 5.0])
    y = x * base[:2]  # saves the view
    base[2] = 0.0     # another part of the same data: still a new version, as in torch
    with pytest.raises(RuntimeError, match="is at version 1; expected version 0"):
        y.sum().backward()


def test_cases_that_must_not_raise():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    # modified but saved by no one (add and a scalar mul save nothing)
    y = x * 2
    z = y + 1
    y.add_(5)
    z.sum().backward()
    np.testing.assert_allclose(as_numpy(x.grad), [2.0, 2.0])
    # modified after backward
    x.grad = None
    e = x.exp()
    out = (e * e).sum()
    out.backward()
    e.add_(1)
    # modified before being saved
    w = pg.tensor([1.0, 1.0])
    w.mul_(3)
    (x * w).sum().backward()
    # a copy of the saved tensor modified
    v = pg.tensor([2.0, 2.0])
    y = x * v
    v.clone().add_(1)
    y.sum().backward()


def test_retained_graph_then_modified_raises_on_second_backward():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    s = y.sum()
    s.backward(retain_graph=True)
    with pg.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        s.backward()


def test_custom_function_saved_tensor_modified_raises():
    class Sq(pg.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return t * t

        @staticmethod
        def backward(ctx, g):
            (t,) = ctx.saved_tensors
            return 2 * t * g

    x = pg.tensor([1.0, 2.0], requires_grad=True)
    a = x * 1
    y = Sq.apply(a)
    a.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_mark_dirty_rebases_the_input():
    class Double_(pg.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            t.mul_(2)
            ctx.mark_dirty(t)
            return t

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = x + 0
    z = Double_.apply(y)
    assert z is y and y.grad_fn.name() == "Double_Backward"
    (y * y).sum().backward()
    np.testing.assert_allclose(as_numpy(x.grad), 8 * np.array([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="leaf Variable"):
        Double_.apply(pg.tensor([1.0], requires_grad=True))


# -- leaves ----------------------------------------------------------------------------------------
def test_leaf_that_requires_grad_raises_outside_no_grad_and_works_inside():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    for change in (lambda: x.add_(1), lambda: x.zero_(), lambda: x.copy_(pg.ones(2)),
                   lambda: x.__setitem__(0, 3.0), lambda: x.exp_()):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being "
                                               "used in an in-place operation."):
            change()
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x += 1
    with pg.no_grad():
        x += 1
        x.mul_(2)
        x[0] = 10.0
    assert x.is_leaf and x.requires_grad
    np.testing.assert_allclose(as_numpy(x), [10.0, 6.0])
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        x[0].add_(1)


# -- views in a graph (CopySlices) --------------------------------------------------------------
def test_in_place_on_a_view_of_a_non_leaf_updates_the_base_gradient():
    def fn(t):
        y = t * 1.0
        y[0].mul_(3)
        y[:, 1:].exp_()
        return y * 2
    check_grads(fn, _away((2, 3)))


def test_in_place_on_a_view_chain_and_transpose():
    def fn(t, o):
        y = t * 1.0
        y.T[1].add_(o)              # column 1 of y
        y.reshape(6)[::2].mul_(o[0])  # every other element
        return y
    check_grads(fn, _away((3, 2)), _away((3,)))


def test_view_in_place_with_a_base_that_needs_no_grad():
    y = pg.tensor([1.0, 2.0], requires_grad=True)
    b = pg.zeros(2, 2)
    b[1].add_(y)
    assert b.requires_grad and b.grad_fn.name() == "CopySlices"
    (b * pg.tensor([[1.0, 1.0], [2.0, 3.0]])).sum().backward()
    np.testing.assert_allclose(as_numpy(y.grad), [2.0, 3.0])


def test_augmented_assignment_on_an_element():
    y = pg.tensor([1.0, 2.0], requires_grad=True)
    b = pg.zeros(3)
    b[0] += y[1] * 2
    b[2] -= y[0]
    np.testing.assert_allclose(as_numpy(b), [4.0, 0.0, -1.0])
    b.sum().backward()
    np.testing.assert_allclose(as_numpy(y.grad), [-1.0, 2.0])


def test_expanded_view_refuses():
    y = pg.tensor([1.0], requires_grad=True) * 1
    e = y.expand(3)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        e.add_(pg.tensor([1.0, 2.0, 3.0]))


# -- setitem -------------------------------------------------------------------------------------
@pytest.mark.parametrize("index", [0, (slice(None), 1), (slice(0, 2),), [2, 0],
                                   (slice(None), [0, 2])],
                         ids=["int", "column", "rows", "list", "mixed"])
def test_setitem_gradients_to_both_sides(index):
    base = _away((3, 3))
    target = np.array(base)
    shape = target[index].shape
    value = _away(shape)

    def fn(t, v):
        y = t * 1.0
        y[index] = v
        return y * y
    check_grads(fn, base, value)
    x = pg.tensor(base)
    x[index] = pg.tensor(value)
    target[index] = value
    np.testing.assert_allclose(as_numpy(x), target)


def test_setitem_broadcast_number_and_names():
    def fn(t, v):
        y = t * 1.0
        y[1:] = v  # (3,) broadcast into (2, 3)
        return y
    check_grads(fn, _away((3, 3)), _away((3,)))
    x = pg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    y[1] = 0.0
    assert y.grad_fn.name() == "CopySlices"
    y[pg.tensor([True, False, False])] = 5.0
    assert y.grad_fn.name() == "IndexPutBackward0"
    y.sum().backward()
    np.testing.assert_allclose(as_numpy(x.grad), [0.0, 0.0, 1.0])
    i = pg.tensor([1, 2, 3])
    i[0] = 2.7  # truncated, as torch converts
    assert i.tolist() == [2, 2, 3]
    with pytest.raises(IndexError):
        i[5] = 1


def test_setitem_into_a_plain_tensor_makes_it_part_of_the_graph():
    y = pg.tensor([1.0, 2.0], requires_grad=True)
    out = pg.zeros(2, 2)
    for k in range(2):
        out[k] = y * (k + 1)
    out.sum().backward()
    np.testing.assert_allclose(as_numpy(y.grad), [3.0, 3.0])


# -- fill_, zero_, copy_ ---------------------------------------------------------------------------
def test_fill_zero_and_copy_on_a_graph():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.zero_()
    assert y.grad_fn.name() == "FillBackward0"
    y.sum().backward()
    np.testing.assert_allclose(as_numpy(x.grad), [0.0, 0.0])

    src = pg.tensor([3.0], requires_grad=True)
    d = pg.zeros(2, 2)
    d.copy_(src)
    assert d.grad_fn.name() == "CopyBackwards"
    d.sum().backward()
    np.testing.assert_allclose(as_numpy(src.grad), [4.0])

    v = pg.tensor(2.0, requires_grad=True)
    f = pg.zeros(3)
    f.fill_(v)
    (f * pg.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert v.grad.item() == 6.0
    check_grads(lambda s, o: (s * 1.0).copy_(o * 2), _away((2, 3)), _away((3,)))


def test_copy_converts_dtype():
    d = pg.zeros(2, dtype=pg.int64)
    d.copy_(pg.tensor([1.7, -2.2]))
    assert d.tolist() == [1, -2]
    with pytest.raises(TypeError):
        d.copy_([1, 2])


def test_retained_grad_follows_the_newest_version():
    x = pg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.mul_(3)
    (y * 5).sum().backward()
    np.testing.assert_allclose(as_numpy(y.grad), [5.0, 5.0])
    np.testing.assert_allclose(as_numpy(x.grad), [30.0, 30.0])


def test_double_backward_through_an_in_place_op():
    x = pg.tensor([0.5, 1.5], requires_grad=True)
    y = x * 1
    y.mul_(x)  # x ** 2
    y.exp_()   # exp(x ** 2)
    (g,) = pg.autograd.grad(y.sum(), x, create_graph=True)
    g.sum().backward()
    a = np.array([0.5, 1.5])
    np.testing.assert_allclose(as_numpy(g), 2 * a * np.exp(a * a), rtol=1e-6)
    np.testing.assert_allclose(as_numpy(x.grad), (2 + 4 * a * a) * np.exp(a * a), rtol=1e-5)


def test_writing_into_read_only_numpy_memory_says_so():
    import numpy as np
    arr = np.ones(3, dtype=np.float32)
    arr.setflags(write=False)
    t = pg.from_numpy(arr)
    with pytest.raises(RuntimeError, match="read-only"):
        t.add_(1)
    assert arr.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("dtype, value", [("int64", 2.7), ("int64", -2.7), ("bool", 2),
                                          ("int32", True), ("bool", 0.0), ("int64", 0.0)])
def test_fill_of_integer_tensors_with_any_number_like_torch(dtype, value):
    torch = pytest.importorskip("torch")
    expected = torch.zeros(3, dtype=getattr(torch, dtype)).fill_(value)
    got = pg.zeros(3, dtype=getattr(pg, dtype)).fill_(value)
    assert got.tolist() == expected.tolist() and got.dtype.name == dtype
