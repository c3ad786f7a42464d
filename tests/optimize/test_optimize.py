"""newton, newton_cg and Objective: convergence, agreement with SciPy, sharing."""

import numpy as np
import pytest

from chainrule.optimize import Objective, OptimizeResult, newton, newton_cg

RNG = np.random.default_rng(0)
D = 8
C = RNG.standard_normal(D)
B = RNG.standard_normal((D, D))
M = B @ B.T / D


def convex(x):
    return np.sum(np.cosh(x - C)) + 0.5 * x @ (M @ x)


def logistic_problem(n=300, d=20, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w_true = rng.standard_normal(d)
    y = (rng.random(n) < 1 / (1 + np.exp(-X @ w_true))).astype(float)
    return X, y


def logistic_loss(w, X, y, lam):
    z = X @ w
    return np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * lam * np.sum(w ** 2)


def test_newton_converges_quadratically():
    x_star = newton(convex, np.zeros(D), tol=1e-14).x
    iterates = []
    r = newton(convex, 3.0 * np.ones(D), tol=1e-13, callback=iterates.append)
    assert r.success and r.nhvp == D * r.nit
    errors = [np.linalg.norm(x - x_star) for x in iterates]
    # once close, the error squares each step (up to a constant)
    close = [(a, b) for a, b in zip(errors, errors[1:]) if a < 0.5 and b > 1e-14]
    assert len(close) >= 3
    for a, b in close:
        assert b <= 2.0 * a ** 2
    assert errors[-1] < 1e-12


def test_newton_with_jacobian_hessian_agrees():
    a = newton(convex, np.zeros(D))
    b = newton(convex, np.zeros(D), hessian="jacobian")
    np.testing.assert_allclose(a.x, b.x, atol=1e-12)
    assert b.nhvp == 0 and np.linalg.norm(b.jac) < 1e-8


def test_newton_damps_an_indefinite_hessian():
    f = lambda x: 0.25 * x[0] ** 4 - 0.5 * x[0] ** 2 + x[1] ** 2  # noqa: E731
    r = newton(f, np.array([0.1, 1.0]))  # H[0,0] = 3 x^2 - 1 < 0 here
    assert r.success
    np.testing.assert_allclose(r.x, [1.0, 0.0], atol=1e-10)
    assert r.fun == pytest.approx(-0.25)


def test_newton_on_nested_parameters():
    f = lambda p, c: np.sum((p["w"] - c) ** 2) + (p["b"] - 1.0) ** 4 + p["b"] ** 2  # noqa: E731
    r = newton(f, {"w": np.zeros((2, 2)), "b": 0.0}, args=(np.eye(2),))
    assert r.success
    np.testing.assert_allclose(r.x["w"], np.eye(2), atol=1e-12)
    assert set(r.jac) == {"w", "b"}


def test_newton_cg_matches_scipy_on_logistic_regression():
    optimize = pytest.importorskip("scipy.optimize")
    X, y = logistic_problem()
    lam = 1e-2
    r = newton_cg(logistic_loss, np.zeros(X.shape[1]), args=(X, y, lam), tol=1e-10)
    assert r.success and np.linalg.norm(r.jac) < 1e-10
    obj = Objective(logistic_loss, X, y, lam)
    ref = optimize.minimize(obj.value_and_grad, np.zeros(X.shape[1]), jac=True, hess=obj.hess,
                            method="trust-exact", options={"gtol": 1e-9})
    assert ref.success and np.linalg.norm(ref.jac) < 1e-9
    np.testing.assert_allclose(r.x, ref.x, atol=1e-8, rtol=0)
    assert r.nit < 30 and r.nhvp > 0


def test_newton_cg_handles_negative_curvature():
    # a saddle at the start: CG runs to the trust-region boundary
    f = lambda x: 0.25 * np.sum(x ** 4) - 0.5 * np.sum(x ** 2)  # noqa: E731
    r = newton_cg(f, np.full(3, 1e-3))
    assert r.success
    np.testing.assert_allclose(np.abs(r.x), np.ones(3), atol=1e-10)


def test_objective_shares_work_between_scipy_calls():
    optimize = pytest.importorskip("scipy.optimize")
    X, y = logistic_problem(n=100, d=5)
    obj = Objective(logistic_loss, X, y, 1.0)
    x = RNG.standard_normal(5)
    obj.fun(x), obj.jac(x), obj.value_and_grad(x)
    assert obj.nfev == 1
    op = obj.operator(x)
    obj.hessp(x, np.ones(5)), obj.hessp(x, np.arange(5.0))
    assert obj.operator(x) is op and obj.nhvp == 2
    H = obj.hess(x)
    np.testing.assert_allclose(H, H.T)
    np.testing.assert_allclose(H @ np.ones(5), obj.hessp(x, np.ones(5)), rtol=1e-12)
    for kw in ({"hessp": obj.hessp, "method": "trust-ncg"}, {"hess": obj.hess, "method": "trust-exact"}):
        res = optimize.minimize(obj.fun, np.zeros(5), jac=obj.jac, options={"gtol": 1e-6}, **kw)
        assert res.success
        assert res.nfev <= obj.nfev  # SciPy counts calls; we evaluate less or equally often
    np.testing.assert_allclose(res.x, newton(logistic_loss, np.zeros(5), args=(X, y, 1.0)).x, atol=1e-5)


def test_result_record_without_scipy():
    r = OptimizeResult(x=1.0, success=True)
    assert r.x == 1.0 and r["success"]
    r.nit = 3
    assert r["nit"] == 3
    with pytest.raises(AttributeError):
        r.missing
