"""Reverse mode's accumulation of cotangents (`ReverseTrace.backward` and
`unbroadcast`), and the rules on the MLP benchmark's path (sum, max,
matmul), checked against derivatives written out by hand.

Accumulation starts from the first cotangent object itself, so a value used
twice adds its second cotangent to an array that someone else may hold: the
caller's cotangent, or an array a custom rule keeps. The sum must be a new
array; these tests fail if it is ever made in place.
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.reverse import unbroadcast


@pytest.mark.parametrize("fun", [
    lambda x: x + x,                  # two pass-through cotangents: the caller's array, twice
    lambda x: x + 1.0 * x,            # the fast path's pullback, then the general one
    lambda x: (x + x) + x,
    lambda x: np.sum(x + x, axis=0, keepdims=True) + x[:1],
], ids=["x+x", "x+1.0*x", "(x+x)+x", "sum+slice"])
def test_accumulation_leaves_the_callers_cotangent_alone(fun):
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    out, f_vjp = cr.vjp(fun, x)
    v = np.arange(1.0, 1.0 + out.size).reshape(out.shape)
    kept = v.copy()
    first, = f_vjp(v)
    second, = f_vjp(v)
    np.testing.assert_array_equal(v, kept)
    np.testing.assert_array_equal(first, second)


def test_pass_through_cotangents_add_up():
    x = np.array([1.0, -2.0])
    v = np.array([3.0, 5.0])
    _, f_vjp = cr.vjp(lambda x: (x + x) + x, x)
    np.testing.assert_array_equal(f_vjp(v)[0], 3 * v)
    np.testing.assert_array_equal(v, [3.0, 5.0])


def test_accumulation_leaves_an_array_a_custom_rule_returns_alone():
    held = np.array([1.0, 10.0, 100.0])  # the rule's cotangent is this very array

    @cr.custom_vjp
    def f(x):
        return np.sum(x), lambda g: (held,)

    # three uses; the rule ignores g (so the factor 2 does not reach it)
    grad = cr.grad(lambda x: f(x) + f(x) + 2.0 * f(x))(np.ones(3))
    np.testing.assert_array_equal(grad, 3 * np.array([1.0, 10.0, 100.0]))
    np.testing.assert_array_equal(held, [1.0, 10.0, 100.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
def test_accumulated_cotangent_keeps_its_dtype(dtype):
    x = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=dtype)
    b = np.array([0.5, -1.0], dtype=dtype)
    _, f_vjp = cr.vjp(lambda x, b: x * x + x + b, x, b)
    v = np.ones((2, 2), dtype=dtype)
    gx, gb = f_vjp(v)
    assert gx.dtype == dtype and gb.dtype == dtype
    np.testing.assert_allclose(gx, 2 * x + 1)
    np.testing.assert_allclose(gb, [2.0, 2.0])


@pytest.mark.parametrize("gshape, shape", [
    ((2, 3), (3,)), ((2, 3), (1, 3)), ((2, 3), (2, 1)), ((2, 3), ()), ((2, 3), (1, 1)),
    ((4, 2, 3), (2, 1)), ((4, 2, 3), (1, 3)), ((4, 2, 3), (1,)), ((4, 2, 3), (4, 1, 3)),
    ((5, 1), (1,)), ((2, 3), (2, 3)), ((3,), (1, 3)), ((), (2,)), ((1,), (1, 1)),
])
def test_unbroadcast_sums_the_broadcast_axes(gshape, shape):
    g = np.arange(1.0, 1.0 + np.prod(gshape, dtype=int)).reshape(gshape)
    # the reference: the transpose of broadcasting, entry by entry
    full = np.broadcast_shapes(gshape, shape)
    expected = np.zeros(shape)
    gb = np.broadcast_to(g, full)
    for index in np.ndindex(*full):
        target = tuple(0 if n == 1 else i for i, n in zip(index[len(full) - len(shape):], shape))
        expected[target] += gb[index] if len(gshape) >= len(shape) else 0
    if len(gshape) < len(shape):  # a cotangent with fewer axes is broadcast up
        expected = np.broadcast_to(g, shape)
    out = unbroadcast(g, shape)
    assert np.shape(out) == shape
    np.testing.assert_array_equal(out, expected)


def test_unbroadcast_keeps_float32():
    assert unbroadcast(np.ones((4, 3), np.float32), (1, 3)).dtype == np.float32
    assert unbroadcast(np.ones((4, 3), np.float32), (3,)).dtype == np.float32


@pytest.mark.parametrize("axis, keepdims", [
    (0, False), (1, False), (2, False), (-1, False), ((0, 2), False), ((1, 2), False),
    (None, False), (1, True), ((0, 2), True), (None, True),
])
def test_sum_gradient_broadcasts_back_along_its_axes(axis, keepdims):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4))
    w = rng.standard_normal(np.sum(x, axis=axis, keepdims=keepdims).shape)
    grad = cr.grad(lambda x: np.sum(np.sum(x, axis=axis, keepdims=keepdims) * w))(x)
    expected = np.broadcast_to(
        np.expand_dims(w, axis if axis is not None else (0, 1, 2)) if not keepdims else w, x.shape)
    np.testing.assert_allclose(grad, expected, rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_gradient_splits_evenly_among_ties(dtype):
    z = np.array([[1.0, 3.0, 3.0, 3.0], [2.0, 0.0, 5.0, 1.0]], dtype=dtype)
    w = np.array([[2.0], [7.0]], dtype=dtype)
    grad = cr.grad(lambda z: np.sum(np.max(z, axis=1, keepdims=True) * w))(z)
    assert grad.dtype == dtype
    np.testing.assert_allclose(grad, [[0, 2 / 3, 2 / 3, 2 / 3], [0, 0, 7, 0]], rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
@pytest.mark.parametrize("xshape, yshape", [
    ((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)), ((5, 3, 4), (4, 2)),
    ((3, 4), (5, 4, 2)),
])
def test_matmul_gradients_are_the_transposed_products(dtype, xshape, yshape):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(xshape).astype(dtype)
    y = rng.standard_normal(yshape).astype(dtype)
    v = rng.standard_normal(np.matmul(x, y).shape).astype(dtype)
    _, f_vjp = cr.vjp(np.matmul, x, y)
    gx, gy = f_vjp(v)
    # by hand: d<v, x @ y> (no conjugation: chainrule's cotangents are linear maps)
    X = x.reshape(1, -1) if x.ndim == 1 else x
    Y = y.reshape(-1, 1) if y.ndim == 1 else y
    V = v.reshape(np.matmul(X, Y).shape)
    ex, ey = np.matmul(V, np.swapaxes(Y, -1, -2)), np.matmul(np.swapaxes(X, -1, -2), V)
    ex = np.sum(ex, axis=tuple(range(ex.ndim - X.ndim))).reshape(x.shape)  # batch axes summed
    ey = np.sum(ey, axis=tuple(range(ey.ndim - Y.ndim))).reshape(y.shape)
    assert gx.dtype == dtype and gy.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(gx, ex, rtol=tol, atol=tol)
    np.testing.assert_allclose(gy, ey, rtol=tol, atol=tol)


def test_mlp_gradient_matches_the_hand_written_one():
    """The benchmark's MLP (bench/bench_reverse.py), small."""
    rng = np.random.default_rng(2)
    params = (rng.standard_normal((5, 7)), rng.standard_normal(7),
              rng.standard_normal((7, 3)), rng.standard_normal(3))
    x = rng.standard_normal((6, 5))
    onehot = np.eye(3)[rng.integers(0, 3, 6)]

    def loss(params, x, onehot):
        W1, b1, W2, b2 = params
        h = np.tanh(x @ W1 + b1)
        z = h @ W2 + b2
        z = z - np.max(z, axis=1, keepdims=True)
        return -np.sum(onehot * (z - np.log(np.sum(np.exp(z), axis=1, keepdims=True)))) / x.shape[0]

    W1, b1, W2, b2 = params
    h = np.tanh(x @ W1 + b1)
    z = h @ W2 + b2
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    dz = (e / np.sum(e, axis=1, keepdims=True) - onehot) / x.shape[0]
    da = (dz @ W2.T) * (1 - h * h)
    expected = (x.T @ da, np.sum(da, axis=0), h.T @ dz, np.sum(dz, axis=0))
    value, grads = cr.value_and_grad(loss)(params, x, onehot)
    np.testing.assert_allclose(value, loss(params, x, onehot), rtol=1e-15)
    for g, e in zip(grads, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-15)
