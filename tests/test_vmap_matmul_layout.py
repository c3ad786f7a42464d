"""The batched matrix product's shortcuts (rules/batching.py) give the loop's
values: the product taken from the right when the matrix has more rows than
the batch has columns, and the broadcast product for a diagonal batch (the
Jacobian basis), including the cases that must not take a shortcut."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.jacobians import vmap

rng = np.random.default_rng(11)


def looped(fun, batched, other, batched_first):
    if len(batched) == 0:  # matmul's own broadcasting over the (empty) batch
        return fun(batched, other) if batched_first else fun(other, batched)
    return np.stack([fun(b, other) if batched_first else fun(other, b) for b in batched])


# (batched value, constant, batched operand first?)
CASES = {
    "tall matrix @ few vectors": (rng.standard_normal((3, 5)), rng.standard_normal((40, 5)), False),
    "tall matrix @ few matrices": (rng.standard_normal((3, 5, 2)), rng.standard_normal((40, 5)), False),
    "tall matrix @ few row matrices": (rng.standard_normal((3, 5, 1)), rng.standard_normal((40, 5)), False),
    "wide matrix @ many vectors": (rng.standard_normal((40, 5)), rng.standard_normal((3, 5)), False),
    "diagonal batch @ matrix": (np.diag(rng.standard_normal(6)), rng.standard_normal((6, 4)), True),
    "matrix @ diagonal batch": (np.diag(rng.standard_normal(6)), rng.standard_normal((4, 6)), False),
    "identity batch @ matrix": (np.eye(5), rng.standard_normal((5, 3)), True),
    "matrix @ identity batch": (np.eye(5), rng.standard_normal((3, 5)), False),
    "dense square batch @ matrix": (rng.standard_normal((6, 6)), rng.standard_normal((6, 4)), True),
    "matrix @ dense square batch": (rng.standard_normal((6, 6)), rng.standard_normal((4, 6)), False),
    "zero corners, not diagonal": (np.diag(np.ones(4)) + np.diag(np.ones(3), 1) * 0 +
                                   np.pad([[0.0, 2.0], [0.0, 0.0]], ((1, 1), (1, 1))),
                                   rng.standard_normal((4, 3)), True),
    "empty batch from the right": (np.zeros((0, 5, 0)), rng.standard_normal((7, 5)), False),
}


@pytest.mark.parametrize("name", list(CASES))
def test_batched_matmul_equals_the_loop(name):
    batched, other, first = CASES[name]
    fun = np.matmul
    in_axes = (0, None) if first else (None, 0)
    args = (batched, other) if first else (other, batched)
    got = vmap(fun, in_axes=in_axes)(*args)
    want = looped(fun, batched, other, first)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


def test_diagonal_shortcut_keeps_nan_where_the_product_has_it():
    d = np.diag([1.0, np.nan, 2.0])
    W = rng.standard_normal((3, 2))
    got = vmap(np.matmul, in_axes=(0, None))(d, W)
    want = np.stack([row @ W for row in d])
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)])


@pytest.mark.parametrize("sizes", [(6, 6, 6), (40, 8, 3), (3, 8, 40)])
def test_jacobians_of_a_tanh_chain_match_the_hand_written_product(sizes):
    Ws = [rng.standard_normal((m, n)) / np.sqrt(n) for n, m in zip(sizes[:-1], sizes[1:])]
    x = rng.standard_normal(sizes[0])

    def f(v):
        for W in Ws:
            v = np.tanh(W @ v)
        return v

    J, h = np.eye(sizes[0]), x
    for W in Ws:
        h = np.tanh(W @ h)
        J = (1 - h * h)[:, None] * (W @ J)
    for jac in (cr.jacfwd, cr.jacrev, cr.jacobian):
        np.testing.assert_allclose(jac(f)(x), J, rtol=1e-12, atol=1e-14)
    # and the Hessian of a scalar of it (the products differentiated again)
    H = cr.hessian(lambda v: np.sum(f(v) ** 2))(x)
    np.testing.assert_allclose(H, H.T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        H @ np.ones(sizes[0]), cr.hvp(lambda v: np.sum(f(v) ** 2), (x,), (np.ones(sizes[0]),)),
        rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("jac", [cr.jacfwd, cr.jacrev])
def test_shortcuts_under_an_outer_derivative(jac):
    """The matrix W is traced by an outer grad while the Jacobian's basis
    takes the diagonal shortcut: the gradient matches central differences."""
    W0 = rng.standard_normal((4, 4))
    x = rng.standard_normal(4)

    def f(W):
        return np.sum(jac(lambda v: np.tanh(W @ v))(x) ** 2)

    def plain(W):
        h = np.tanh(W @ x)
        return np.sum(((1 - h * h)[:, None] * W) ** 2)

    eps, numeric = 1e-6, np.zeros_like(W0)
    for i in np.ndindex(W0.shape):
        E = np.zeros_like(W0)
        E[i] = eps
        numeric[i] = (plain(W0 + E) - plain(W0 - E)) / (2 * eps)
    assert np.isclose(f(W0), plain(W0), rtol=1e-13)
    np.testing.assert_allclose(cr.grad(f)(W0), numeric, rtol=1e-6, atol=1e-8)
