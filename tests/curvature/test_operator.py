"""hessian_operator: exact products on every route, pytrees, SciPy interop."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.curvature import hessian_operator

RNG = np.random.default_rng(0)
A = RNG.standard_normal((40, 6))
Y = (RNG.random(40) < 0.5).astype(float)


def logistic(w):
    z = A @ w
    return np.sum(np.logaddexp(0.0, z) - Y * z) + 0.5 * np.sum(w ** 2)


def mlp(p, X):
    h = np.tanh(X @ p["W"] + p["b"])
    return np.sum(h ** 2) + np.sum(np.sin(p["W"]))


def branchy(x):
    if np.sum(x) > 0:  # Python control flow on a value: cannot be traced
        return np.sum(x ** 4)
    return np.sum(x ** 2)


@pytest.mark.parametrize("route", ["auto", "graph", "linearize", "eager"])
def test_products_match_the_dense_hessian(route):
    w = RNG.standard_normal(6)
    H = cr.hessian(logistic)(w)
    op = hessian_operator(logistic, (w,), route=route)
    v = RNG.standard_normal(6)
    V = RNG.standard_normal((6, 4))
    np.testing.assert_allclose(op.matvec(v), H @ v, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(op @ V, H @ V, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(op.todense(block=4), H, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(v @ op, H @ v, rtol=1e-12, atol=1e-12)
    assert op.matvec(v[:, None]).shape == (6, 1)
    assert op.nprod == 1 + 4 + 6 + 1 + 1


def test_auto_route_compiles():
    op = hessian_operator(logistic, (np.zeros(6),))
    op @ np.ones(6)
    assert op.route == "graph"


def test_pytree_parameters_through_a_flat_view():
    p = {"W": RNG.standard_normal((3, 2)), "b": RNG.standard_normal(2)}
    X = RNG.standard_normal((5, 3))
    op = hessian_operator(mlp, (p, X))
    assert op.shape == (8, 8)
    H = cr.hessian(mlp)(p, X)
    # flat order: leaves in sorted key order, W then b, each raveled
    blocks = [[H["W"]["W"].reshape(6, 6), H["W"]["b"].reshape(6, 2)],
              [H["b"]["W"].reshape(2, 6), H["b"]["b"]]]
    np.testing.assert_allclose(op.todense(), np.block(blocks), rtol=1e-12, atol=1e-12)
    # argnums picks the data instead, and a tuple of arguments stacks them
    opx = hessian_operator(mlp, (p, X), argnums=1)
    np.testing.assert_allclose(opx.todense(), cr.hessian(mlp, argnums=1)(p, X).reshape(15, 15),
                               rtol=1e-12, atol=1e-12)
    both = hessian_operator(mlp, (p, X), argnums=(0, 1))
    assert both.shape == (23, 23)
    np.testing.assert_allclose(both.todense()[:8, :8], op.todense(), rtol=1e-12, atol=1e-12)


def test_control_flow_on_the_point_is_fine():
    x = np.array([1.0, 2.0])
    op = hessian_operator(branchy, (x,))
    np.testing.assert_allclose(op @ np.array([1.0, 0.0]), [12.0, 0.0])
    assert op.route == "graph"
    np.testing.assert_allclose(hessian_operator(branchy, (-x,)).todense(), 2 * np.eye(2))


def test_untraceable_function_falls_back_to_eager_products():
    # fun closes over theta while theta is being differentiated: the graph
    # route cannot hold it as a constant, so each product runs eagerly
    x0, v = np.array([1.0, 2.0]), np.array([0.5, -1.0])

    def quad_form(theta, route):
        op = hessian_operator(lambda x: np.sum(theta * x ** 3), (x0,), route=route)
        out = op @ v
        return np.sum(out * v), op.route

    theta = np.array([0.3, 0.7])
    value, route = quad_form(theta, "auto")
    assert route == "graph"
    np.testing.assert_allclose(value, np.sum(6 * theta * x0 * v ** 2))
    routes = []
    g = cr.grad(lambda t: routes.append(quad_form(t, "auto")[1]) or quad_form(t, "auto")[0])(theta)
    assert routes == ["eager"]
    np.testing.assert_allclose(g, 6 * x0 * v ** 2)
    with pytest.raises(cr.graph.ValueDependentError):
        cr.grad(lambda t: quad_form(t, "graph")[0])(theta)


def test_scipy_sees_a_linear_operator():
    sla = pytest.importorskip("scipy.sparse.linalg")
    w = RNG.standard_normal(6)
    op = hessian_operator(logistic, (w,))
    H = cr.hessian(logistic)(w)
    b = RNG.standard_normal(6)
    for lin in (sla.aslinearoperator(op), op.to_scipy()):
        x, info = sla.cg(lin, b, rtol=1e-12)
        assert info == 0
        np.testing.assert_allclose(H @ x, b, rtol=1e-8, atol=1e-8)
    vals = sla.eigsh(op.to_scipy(), k=2, which="LA", return_eigenvectors=False)
    np.testing.assert_allclose(np.sort(vals), np.linalg.eigvalsh(H)[-2:], rtol=1e-10)


def test_bad_input_is_named():
    with pytest.raises(TypeError, match="tuple"):
        hessian_operator(logistic, np.zeros(6))
    with pytest.raises(TypeError, match="complex"):
        hessian_operator(lambda z: np.sum(np.abs(z) ** 2), (np.ones(2, complex),))
    with pytest.raises(TypeError, match="int"):
        hessian_operator(lambda z: np.sum(z ** 2), (np.ones(2, int),))
    with pytest.raises(ValueError, match="shape"):
        hessian_operator(logistic, (np.zeros(6),)) @ np.zeros(5)
    with pytest.raises(ValueError, match="route"):
        hessian_operator(logistic, (np.zeros(6),), route="fast")


@pytest.mark.parametrize("route", ["graph", "linearize", "eager"])
def test_prepare_keeps_the_value_and_gradient(route):
    w = RNG.standard_normal(6)
    op = hessian_operator(logistic, (w,), route=route).prepare()
    value, g = cr.value_and_grad(logistic)(w)
    assert op.value == pytest.approx(value, rel=1e-14)
    np.testing.assert_allclose(op.gradient, g, rtol=1e-13)
    assert op.nprod == 0
