"""Hand-coded blocks: a function returning (value, backprop) becomes a primitive."""

import numpy as np
import pytest

import chainrule as cr

rng = np.random.default_rng(1)


@cr.custom_vjp
def affine_tanh(x, W, b):
    """tanh(x W + b), keeping only what its backprop needs: W and the output."""
    y = np.tanh(x @ W + b)

    def backprop(g):
        d = g * (1 - y**2)
        return d @ W.T, x.T @ d, np.sum(d, axis=0)
    return y, backprop


def reference(x, W, b):
    return np.tanh(x @ W + b)


x, W, b = rng.standard_normal((5, 3)), rng.standard_normal((3, 4)), rng.standard_normal(4)


def test_callers_get_only_the_value():
    np.testing.assert_allclose(affine_tanh(x, W, b), reference(x, W, b))


def test_reverse_mode_uses_the_backprop():
    calls = []

    @cr.custom_vjp
    def square(x):
        def backprop(g):
            calls.append(1)
            return (2 * x * g,)
        return x * x, backprop

    assert cr.grad(lambda x: np.sum(square(x)))(np.array([3.0])) == pytest.approx(6.0)
    assert calls == [1]


def test_block_inside_larger_code_matches_plain_numpy():
    loss = lambda f: lambda x, W, b: np.sum(f(x, W, b) ** 2 * np.arange(4))  # noqa: E731
    got = cr.grad(loss(affine_tanh), argnums=(0, 1, 2))(x, W, b)
    want = cr.grad(loss(reference), argnums=(0, 1, 2))(x, W, b)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-13)


def test_forward_mode_runs_through_the_functions_own_code():
    v = tuple(rng.standard_normal(np.shape(a)) for a in (x, W, b))
    _, t_block = cr.jvp(affine_tanh, (x, W, b), v)
    _, t_ref = cr.jvp(reference, (x, W, b), v)
    np.testing.assert_allclose(t_block, t_ref, rtol=1e-13)


def test_second_order_differentiates_the_backprop_code():
    f = lambda x: np.sum(affine_tanh(x, W, b) ** 3)  # noqa: E731
    f_ref = lambda x: np.sum(reference(x, W, b) ** 3)  # noqa: E731
    v = rng.standard_normal(x.shape)
    np.testing.assert_allclose(cr.grad(lambda x: np.sum(cr.grad(f)(x) * v))(x),
                               cr.grad(lambda x: np.sum(cr.grad(f_ref)(x) * v))(x), rtol=1e-12)
    np.testing.assert_allclose(cr.hvp(f, (x,), (v,)), cr.hvp(f_ref, (x,), (v,)), rtol=1e-12)


def test_none_marks_a_non_differentiable_argument():
    @cr.custom_vjp
    def scale(x, n):
        return x * n, lambda g: (g * n, None)

    g = cr.grad(lambda x: np.sum(scale(x, 3)))(np.ones(2))
    np.testing.assert_allclose(g, [3.0, 3.0])


def test_a_wrong_backprop_is_used_as_given():
    # The block is trusted: a wrong backprop gives a wrong gradient, which is
    # what cr.check_grads is for.
    @cr.custom_vjp
    def bad_square(x):
        return x * x, lambda g: (-2 * x * g,)

    assert cr.grad(lambda x: bad_square(x))(3.0) == pytest.approx(-6.0)
    assert cr.jvp(bad_square, (3.0,), (1.0,))[1] == pytest.approx(6.0)


def test_backprop_must_return_a_tuple():
    @cr.custom_vjp
    def f(x):
        return x * 2, lambda g: g * 2

    with pytest.raises(TypeError, match="tuple of cotangents"):
        cr.grad(f)(1.0)
