"""Score matching recovers a Gaussian's mean and covariance from samples."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.curvature import score_matching_loss
from chainrule.optimize import newton

D = 3
ROWS, COLS = np.tril_indices(D)
# E maps the d(d+1)/2 lower-triangle entries q to the symmetric matrix P
E = np.zeros((D * D, len(ROWS)))
E[ROWS * D + COLS, np.arange(len(ROWS))] = 1
E[COLS * D + ROWS, np.arange(len(ROWS))] = 1


def precision(q):
    return np.reshape(E @ q, (D, D))


def log_density(params, x):
    """An unnormalised Gaussian in natural parameters: -x.P x / 2 + h.x."""
    P = precision(params["q"])
    return -0.5 * x @ (P @ x) + params["h"] @ x


def samples(m, seed=0):
    rng = np.random.default_rng(seed)
    L = np.array([[1.0, 0, 0], [0.5, 0.8, 0], [-0.3, 0.2, 0.5]])
    return rng.standard_normal((m, D)) @ L.T + np.array([1.0, -2.0, 0.5]), L @ L.T


def start():
    return {"h": np.zeros(D), "q": np.eye(D)[ROWS, COLS].astype(float)}


def fit(X, **kw):
    r = newton(lambda p: score_matching_loss(log_density, p, X, **kw), start(), tol=1e-9)
    assert r.success
    cov = np.linalg.inv(precision(r.x["q"]))
    return cov @ r.x["h"], cov


def test_exact_score_matching_recovers_mean_and_covariance():
    X, true_cov = samples(500)
    mean, cov = fit(X, method="exact")
    # the score-matching estimate of a Gaussian is the sample mean and covariance
    np.testing.assert_allclose(mean, X.mean(axis=0), atol=1e-8)
    np.testing.assert_allclose(cov, np.cov(X.T, bias=True), atol=1e-8)
    np.testing.assert_allclose(cov, true_cov, atol=0.15)


def test_the_loss_is_hyvarinen_objective():
    X, _ = samples(20)
    p = start()
    p["h"] = np.array([0.3, -0.1, 0.2])
    P = precision(p["q"])
    scores = p["h"] - X @ P
    expect = -np.trace(P) + 0.5 * np.mean(np.sum(scores ** 2, axis=1))
    assert score_matching_loss(log_density, p, X, method="exact") == pytest.approx(expect, rel=1e-12)
    # Hutchinson with random signs: z.Pz differs from tr P by off-diagonal terms only
    est = score_matching_loss(log_density, p, X, method="hutchinson", num_probes=50, seed=1)
    assert est == pytest.approx(expect, abs=0.2)
    g_exact = cr.grad(lambda q: score_matching_loss(log_density, q, X, method="exact"))(p)
    g_hutch = cr.grad(lambda q: score_matching_loss(log_density, q, X, method="hutchinson"))(p)
    np.testing.assert_allclose(g_exact["h"], g_hutch["h"], atol=1e-12)  # h is not in the trace


@pytest.mark.parametrize("method", ["hutchinson", "sliced"])
def test_stochastic_variants_recover_the_gaussian(method):
    X, _ = samples(3000, seed=1)
    mean, cov = fit(X, method=method, num_probes=2, seed=0)
    np.testing.assert_allclose(mean, X.mean(axis=0), atol=0.1)
    np.testing.assert_allclose(cov, np.cov(X.T, bias=True), atol=0.1)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="row"):
        score_matching_loss(log_density, start(), np.zeros(3))
    with pytest.raises(ValueError, match="method"):
        score_matching_loss(log_density, start(), np.zeros((2, 3)), method="fast")
