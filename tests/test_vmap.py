"""vmap: one vectorised call must equal a Python loop over the examples,
for every batching rule, nested in any order with the derivative modes."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.core import batch
from chainrule.core.batch import BatchingError, BatchTrace
from chainrule.core.primitive import PRIMITIVES, Primitive
from chainrule.jacobians import jacfwd, vmap

rng = np.random.default_rng(3)
B = 4


def r(*shape):
    return rng.standard_normal(shape)


def looped(fun, args, in_axes):
    """The reference: fun applied to each example, results stacked."""
    outs = []
    for k in range(B):
        outs.append(fun(*[a if ax is None else np.take(a, k, axis=ax) for a, ax in zip(args, in_axes)]))
    return np.stack(outs)


# (name, per-example function, arguments, in_axes)
# fmt: off
CASES = [
    ("add_broadcast",   lambda x, y: x + y,               (r(B, 3), r(2, 3)), (0, None)),
    ("mul_higher_rank", lambda x, y: x * y,               (r(B, 2, 3), r(3)), (0, None)),
    ("mul_both",        lambda x, y: x * y,               (r(B, 2, 3), r(B, 3)), (0, 0)),
    ("scalar_example",  lambda x, y: np.sin(x) * y,       (r(B), r(2, 3)), (0, None)),
    ("power",           lambda x: np.abs(x) ** 1.5,       (r(B, 3),), (0,)),
    ("tanh_exp",        lambda x: np.tanh(np.exp(x)),     (r(B, 2, 2),), (0,)),
    ("compare",         lambda x, y: (x > y).astype(float), (r(B, 3), r(3)), (0, None)),
    ("where",           lambda x, y: np.where(x > 0, x, y), (r(B, 3), r(2, 3)), (0, None)),
    ("where_cond_only", lambda c, y: np.where(c > 0, 1.0, y), (r(B, 1), r(3)), (0, None)),
    ("sum_all",         lambda x: np.sum(x),              (r(B, 2, 3),), (0,)),
    ("sum_axis",        lambda x: np.sum(x, axis=1),      (r(B, 2, 3),), (0,)),
    ("sum_neg_keep",    lambda x: np.sum(x, axis=-2, keepdims=True), (r(B, 2, 3),), (0,)),
    ("mean",            lambda x: np.mean(x, axis=0),     (r(B, 2, 3),), (0,)),
    ("reshape",         lambda x: np.reshape(x, (3, 2)),  (r(B, 2, 3),), (0,)),
    ("ravel",           lambda x: x.ravel(),              (r(B, 2, 3),), (0,)),
    ("transpose",       lambda x: x.T,                    (r(B, 2, 3, 4),), (0,)),
    ("swapaxes",        lambda x: np.swapaxes(x, 0, -1),  (r(B, 2, 3, 4),), (0,)),
    ("broadcast_to",    lambda x: np.broadcast_to(x, (2, 3)), (r(B, 3),), (0,)),
    ("expand_squeeze",  lambda x: np.squeeze(np.expand_dims(x, 0)), (r(B, 1, 3),), (0,)),
    ("getitem_basic",   lambda x: x[1:, ::-1],            (r(B, 3, 4),), (0,)),
    ("getitem_int",     lambda x: x[1],                   (r(B, 3, 4),), (0,)),
    ("getitem_newaxis", lambda x: x[None, ..., 0],        (r(B, 3, 4),), (0,)),
    ("getitem_array",   lambda x: x[:, np.array([2, 0, 2])], (r(B, 3, 4),), (0,)),
    ("getitem_arrays",  lambda x: x[np.array([0, 2]), np.array([1, 3])], (r(B, 3, 4),), (0,)),
    ("getitem_split",   lambda x: x[np.array([0, 2]), :, np.array([1, 0])], (r(B, 3, 4, 2),), (0,)),
    ("getitem_int_arr", lambda x: x[1, :, np.array([[1, 0]])], (r(B, 3, 4, 2),), (0,)),
    ("getitem_mask",    lambda x: x[np.array([True, False, True])], (r(B, 3, 2),), (0,)),
    ("take",            lambda x: np.take(x, np.array([1, 1]), axis=1), (r(B, 2, 3),), (0,)),
    ("matmul_vv",       lambda x, y: x @ y,               (r(B, 3), r(3)), (0, None)),
    ("matmul_vv_both",  lambda x, y: x @ y,               (r(B, 3), r(B, 3)), (0, 0)),
    ("matmul_mv",       lambda W, x: W @ x,               (r(2, 3), r(B, 3)), (None, 0)),
    ("matmul_vm",       lambda x, W: x @ W,               (r(B, 3), r(3, 2)), (0, None)),
    ("matmul_mm_left",  lambda x, W: x @ W,               (r(B, 4, 3), r(3, 2)), (0, None)),
    ("matmul_mm_right", lambda W, x: W @ x,               (r(2, 3), r(B, 3, 4)), (None, 0)),
    ("matmul_vm_right", lambda v, x: v @ x,               (r(3), r(B, 3, 4)), (None, 0)),
    ("matmul_stack",    lambda x, W: x @ W,               (r(B, 3), r(5, 3, 2)), (0, None)),
    ("matmul_stack2",   lambda x, W: x @ W,               (r(B, 2, 4, 3), r(5, 1, 3, 2)), (0, None)),
    ("matmul_stack_mv", lambda W, x: W @ x,               (r(B, 5, 2, 3), r(3)), (0, None)),
    ("matmul_both",     lambda x, W: x @ W,               (r(B, 4, 3), r(B, 2, 3, 2)), (0, 0)),
    ("matmul_both_v",   lambda x, W: x @ W,               (r(B, 3), r(B, 2, 3, 2)), (0, 0)),
    ("dot",             lambda x, y: np.dot(x, y),        (r(B, 2, 3), r(3, 2)), (0, None)),
    ("max",             lambda x: np.max(x, axis=1),      (r(B, 2, 3),), (0,)),
    ("min_all",         lambda x: np.min(x),              (r(B, 2, 3),), (0,)),
    ("cumsum",          lambda x: np.cumsum(x, axis=-1),  (r(B, 2, 3),), (0,)),
    ("cumprod",         lambda x: np.cumprod(x),          (r(B, 2, 3),), (0,)),
    ("concatenate",     lambda x, y: np.concatenate([x, y], axis=1), (r(B, 2, 3), r(2, 1)), (0, None)),
    ("stack",           lambda x, y: np.stack([x, y, x], axis=-1), (r(B, 3), r(3)), (0, None)),
    ("einsum",          lambda x, y: np.einsum("ij,jk->ki", x, y), (r(B, 2, 3), r(3, 4)), (0, None)),
    ("einsum_both",     lambda x, y: np.einsum("ij,j->i", x, y), (r(B, 2, 3), r(B, 3)), (0, 0)),
    ("einsum_ellipsis", lambda x, y: np.einsum("...j,jk", x, y), (r(B, 5, 3), r(3, 4)), (0, None)),
    ("inv",             lambda a: np.linalg.inv(a + 3 * np.eye(3)), (r(B, 3, 3),), (0,)),
    ("det",             lambda a: np.linalg.det(a),       (r(B, 2, 3, 3),), (0,)),
    ("slogdet",         lambda a: np.linalg.slogdet(a)[1], (r(B, 3, 3),), (0,)),
    ("solve_vector",    lambda a, b: np.linalg.solve(a + 3 * np.eye(3), b), (r(B, 3, 3), r(3)), (0, None)),
    ("solve_vector_b",  lambda a, b: np.linalg.solve(a + 3 * np.eye(3), b), (r(2, 3, 3), r(B, 3)), (None, 0)),
    ("solve_matrix",    lambda a, b: np.linalg.solve(a + 3 * np.eye(3), b), (r(3, 3), r(B, 2, 3, 2)), (None, 0)),
    ("cholesky",        lambda a: np.linalg.cholesky(a @ a.T + np.eye(3)), (r(B, 3, 3),), (0,)),
    ("eigh",            lambda a: np.linalg.eigh(a + a.T)[0], (r(B, 3, 3),), (0,)),
    ("svd",             lambda a: np.linalg.svd(a, compute_uv=False), (r(B, 4, 3),), (0,)),
    ("qr",              lambda a: np.abs(np.linalg.qr(a)[1]), (r(B, 4, 3),), (0,)),
    ("pinv",            lambda a: np.linalg.pinv(a),      (r(B, 4, 3),), (0,)),
    ("isclose",         lambda x, y: np.isclose(x, y, atol=0.5).astype(float), (r(B, 3), r(2, 3)), (0, None)),
    ("in_axes_1",       lambda x, y: x - y,               (r(3, B), r(B, 3)), (1, 0)),
    ("in_axes_neg",     lambda x: np.sum(x * x, axis=0),  (r(3, 2, B),), (-1,)),
]
# fmt: on


@pytest.mark.parametrize("name,fun,args,in_axes", CASES, ids=[c[0] for c in CASES])
def test_vmap_matches_loop(name, fun, args, in_axes):
    got = vmap(fun, in_axes=in_axes)(*args)
    want = looped(fun, args, in_axes)
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,fun,args,in_axes", CASES, ids=[c[0] for c in CASES])
def test_grad_of_vmap(name, fun, args, in_axes):
    """Reverse mode through every batching rule: the gradient of a weighted
    sum of vmap's output equals that of the loop (which is rule-free)."""
    arg0 = args[0]
    if np.result_type(arg0).kind != "f":
        pytest.skip("no float argument to differentiate")
    w = r(*np.shape(looped(fun, args, in_axes)))

    def through(vectorised):
        def f(a0):
            full = (a0,) + tuple(args[1:])
            out = vmap(fun, in_axes)(*full) if vectorised else looped(fun, full, in_axes)
            return np.sum(out * w)
        return f

    np.testing.assert_allclose(cr.grad(through(True))(arg0), cr.grad(through(False))(arg0),
                               rtol=1e-12, atol=1e-12)


def test_out_axes_and_pytrees():
    x = r(B, 3)
    out = vmap(lambda d: {"s": np.sum(d["a"] * d["b"]), "v": (d["a"] * 2,)}, out_axes=-1)(
        {"a": x, "b": x + 1})
    np.testing.assert_allclose(out["s"], np.sum(x * (x + 1), axis=1))
    np.testing.assert_allclose(out["v"][0], (2 * x).T)


def test_unbatched_output_is_broadcast():
    out = vmap(lambda x, y: y * 2, in_axes=(0, None))(r(B, 3), np.ones(2))
    np.testing.assert_array_equal(out, np.full((B, 2), 2.0))


def test_fallback_loops_over_primitives_without_rule():
    """A primitive with no batching rule still batches, example by example,
    also when its inputs are boxes of an outer differentiation."""
    calls = []

    def impl(x):
        calls.append(np.shape(x))
        return np.cumsum(x)

    cumsum_p = Primitive("test_cumsum", impl, register=False)
    x = r(B, 3)
    out = vmap(lambda v: cumsum_p(v))(x)
    np.testing.assert_allclose(out, np.cumsum(x, axis=1))
    assert calls == [(3,)] * B


def test_fallback_under_differentiation(monkeypatch):
    """Without its rule, cumsum batches by the loop, also on boxes of an outer
    reverse trace, and the gradient is unchanged."""
    f = lambda x: np.sum(np.cumsum(np.sin(x)) ** 2)
    xs = r(B, 3)
    want = cr.grad(lambda x: np.sum(vmap(f)(x)))(xs)
    monkeypatch.setattr(PRIMITIVES["cumsum"], "batch", None)
    np.testing.assert_allclose(cr.grad(lambda x: np.sum(vmap(f)(x)))(xs), want, rtol=1e-14)
    np.testing.assert_allclose(want, np.stack([cr.grad(f)(x) for x in xs]), rtol=1e-14)


def test_nested_vmap_keeps_batches_apart():
    """Inner vmap sees the outer batched x as a constant: an outer product."""
    xs, ys = r(B), r(3)
    out = vmap(lambda x: vmap(lambda y: x * y + np.sin(x))(ys))(xs)
    np.testing.assert_allclose(out, np.outer(xs, ys) + np.sin(xs)[:, None])
    out2 = vmap(lambda y: vmap(lambda x: x @ y)(r(2, 3) + 0 * y[0]), in_axes=1)(r(3, B))
    assert out2.shape == (B, 2)


def test_grad_inside_vmap():
    f = lambda x: np.sum(np.tanh(x) ** 2) * x[0]
    xs = r(B, 3)
    np.testing.assert_allclose(vmap(cr.grad(f))(xs), np.stack([cr.grad(f)(x) for x in xs]),
                               rtol=1e-13)


def test_jvp_inside_vmap_and_vmap_inside_jvp():
    f = lambda x: np.sin(x) * np.sum(x)
    xs, ts = r(B, 3), r(B, 3)
    got = vmap(lambda x, t: cr.jvp(f, (x,), (t,))[1])(xs, ts)
    want = np.stack([cr.jvp(f, (x,), (t,))[1] for x, t in zip(xs, ts)])
    np.testing.assert_allclose(got, want, rtol=1e-13)
    _, t = cr.jvp(vmap(f), (xs,), (ts,))
    np.testing.assert_allclose(t, want, rtol=1e-13)


def test_perturbation_confusion_under_vmap():
    """d/dx [x * d/dy (x * y)] = 2x for each example; a level mix-up gives x
    or 3x. Batched x, and batched inner tangents (jacfwd), both checked."""
    def f(x):
        return x * cr.grad(lambda y: x * y)(1.0)

    xs = r(B)
    np.testing.assert_allclose(vmap(cr.grad(f))(xs), 2 * xs, rtol=1e-14)
    np.testing.assert_allclose(jacfwd(vmap(f))(xs), np.diag(2 * xs), rtol=1e-14)


def test_branching_on_batched_values():
    """A branch all examples agree on is taken; one they disagree on is an error."""
    xs = r(B, 2)
    np.testing.assert_array_equal(vmap(lambda x: x * 2 if np.all(x > -10) else x)(xs), 2 * xs)
    xs = np.array([1.0, -1.0, 2.0, 3.0])
    with pytest.raises(BatchingError, match="np.where"):
        vmap(lambda x: x if x > 0 else -x)(xs)


def test_errors():
    with pytest.raises(ValueError, match="batch sizes"):
        vmap(lambda x, y: x + y)(r(3), r(4))
    with pytest.raises(ValueError, match="at least one batched"):
        vmap(lambda x: x, in_axes=None)(r(3))
    with pytest.raises(ValueError, match="in_axes for 1 arguments"):
        vmap(lambda x, y: x, in_axes=(0,))(r(3), r(3))
    with pytest.raises(ValueError, match="no such axis"):
        vmap(lambda x: x, in_axes=2)(r(3, 2))
    with pytest.raises(ValueError, match="leading axis"):
        BatchTrace(3).box(r(2))


@pytest.mark.parametrize("name,fun,args,in_axes", CASES, ids=[c[0] for c in CASES])
def test_rules_do_not_loop(name, fun, args, in_axes, monkeypatch):
    """Every op above has a vectorised rule: the per-example fallback never runs."""
    monkeypatch.setattr(batch, "loop_batch", lambda prim, *a: pytest.fail(f"{prim.name} looped"))
    vmap(fun, in_axes=in_axes)(*args)
