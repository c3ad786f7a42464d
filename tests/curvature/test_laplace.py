"""Laplace evidence of Bayesian linear regression against the closed form."""

import numpy as np
import pytest

from chainrule.curvature import NotPositiveDefiniteError, laplace

RNG = np.random.default_rng(4)
N, D = 50, 6
X = RNG.standard_normal((N, D))
Y = X @ RNG.standard_normal(D) + 0.3 * RNG.standard_normal(N)
ALPHA, SIGMA = 2.0, 0.3  # prior precision, noise scale


def log_normal(r, var):
    return -0.5 * np.sum(r ** 2) / var - 0.5 * r.size * np.log(2 * np.pi * var)


def log_joint(w, X, y):
    return log_normal(y - X @ w, SIGMA ** 2) + log_normal(w, 1.0 / ALPHA)


def closed_form(X, y):
    """log N(y | 0, sigma^2 I + X X^T / alpha), the marginal likelihood."""
    C = SIGMA ** 2 * np.eye(len(y)) + X @ X.T / ALPHA
    sign, logdet = np.linalg.slogdet(C)
    return -0.5 * (y @ np.linalg.solve(C, y) + logdet + len(y) * np.log(2 * np.pi))


def test_evidence_of_bayesian_linear_regression_is_exact():
    r = laplace(log_joint, np.zeros(D), args=(X, Y))
    assert r.log_evidence == pytest.approx(closed_form(X, Y), rel=1e-10, abs=1e-10)
    assert r.log_evidence_stderr == 0.0
    # the mode and covariance of the exact Gaussian posterior
    precision = X.T @ X / SIGMA ** 2 + ALPHA * np.eye(D)
    np.testing.assert_allclose(r.mode, np.linalg.solve(precision, X.T @ Y / SIGMA ** 2), atol=1e-10)
    np.testing.assert_allclose(r.hessian.todense(), precision, rtol=1e-10)
    np.testing.assert_allclose(r.covariance.todense(), np.linalg.inv(precision), rtol=1e-8, atol=1e-12)


def test_high_dimension_uses_slq_within_its_error():
    n, d = 80, 60
    rng = np.random.default_rng(5)
    Xh = rng.standard_normal((n, d))
    yh = Xh @ rng.standard_normal(d) * 0.2 + 0.3 * rng.standard_normal(n)
    exact = closed_form(Xh, yh)
    r = laplace(log_joint, np.zeros(d), args=(Xh, yh), exact_limit=10, num_probes=30, seed=0)
    assert r.optimization.nhvp > 0 and "nit" in r.optimization
    assert 0 < r.log_evidence_stderr < 0.02 * abs(exact)
    assert abs(r.log_evidence - exact) <= 4 * r.log_evidence_stderr
    # the CG covariance agrees with the dense inverse
    precision = Xh.T @ Xh / SIGMA ** 2 + ALPHA * np.eye(d)
    v = rng.standard_normal(d)
    expect = np.linalg.solve(precision, v)
    np.testing.assert_allclose(r.covariance @ v, expect, rtol=0, atol=1e-8 * np.abs(expect).max())


def test_nested_parameters():
    lj = lambda p: log_joint(np.concatenate([p["a"], p["b"]]), X, Y)  # noqa: E731
    r = laplace(lj, {"a": np.zeros(2), "b": np.zeros(D - 2)})
    assert set(r.mode) == {"a", "b"}
    assert r.log_evidence == pytest.approx(closed_form(X, Y), rel=1e-10)


def test_a_saddle_is_refused():
    # a maximum in one direction is a mode, but -log_joint is flat-then-negative in the other
    with pytest.raises((NotPositiveDefiniteError, RuntimeError)):
        laplace(lambda t: -t[0] ** 2 + t[1] ** 3, np.zeros(2))
