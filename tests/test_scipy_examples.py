"""The models chainrule.scipy is for, each trained a little with gradients that
check_grads verifies: a Gaussian mixture, a Gaussian-process marginal
likelihood, black-box variational inference and a neural ODE."""

import numpy as np
import pytest

import chainrule as cr

pytest.importorskip("scipy")
from chainrule.scipy import integrate, special, stats  # noqa: E402


def ascend(objective, params, steps, lr):
    """Plain gradient ascent on a tuple of arrays; returns the final params."""
    grad = cr.grad(objective, argnums=tuple(range(len(params))))
    for _ in range(steps):
        params = tuple(p + lr * g for p, g in zip(params, grad(*params)))
    return params


def test_gaussian_mixture_fitted_by_gradient_ascent():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(-2.0, 0.5, 150), rng.normal(1.5, 0.8, 250)])

    def loglik(logits, means, log_stds):
        logw = logits - special.logsumexp(logits)
        comp = logw + stats.norm.logpdf(x[:, None], means, np.exp(log_stds))
        return np.mean(special.logsumexp(comp, axis=1))

    start = (np.zeros(2), np.array([-0.5, 0.5]), np.zeros(2))
    cr.check_grads(loglik, start, order=2, seed=0)
    logits, means, log_stds = ascend(loglik, start, 300, 0.5)
    assert loglik(logits, means, log_stds) > loglik(*start) + 0.3
    np.testing.assert_allclose(np.sort(means), [-2.0, 1.5], atol=0.15)
    np.testing.assert_allclose(np.exp(log_stds)[np.argsort(means)], [0.5, 0.8], atol=0.1)
    cr.check_grads(loglik, (logits, means, log_stds), order=2, seed=1)


def test_gaussian_process_marginal_likelihood():
    rng = np.random.default_rng(1)
    x = np.linspace(0.0, 5.0, 12)
    y = np.sin(1.3 * x) + 0.1 * rng.standard_normal(12)

    def marginal(log_len, log_var, log_noise):
        d = x[:, None] - x[None, :]
        k = np.exp(log_var) * np.exp(-0.5 * d ** 2 / np.exp(2 * log_len))
        return stats.multivariate_normal.logpdf(y, np.zeros(12), k + np.exp(log_noise) * np.eye(12))

    start = (np.array(0.5), np.array(0.0), np.array(-1.0))
    cr.check_grads(marginal, start, order=2, seed=0)
    fitted = ascend(marginal, start, 50, 0.03)
    assert marginal(*fitted) > marginal(*start) + 1.0
    # the maximum, found by SciPy's quasi-Newton method from chainrule's gradient
    from scipy.optimize import minimize
    vg = cr.value_and_grad(lambda p: -marginal(p[0], p[1], p[2]))
    best = minimize(vg, np.array([*fitted]), jac=True, method="BFGS")
    assert best.success and np.linalg.norm(best.jac) < 1e-4
    assert -best.fun - marginal(*fitted) < 0.5  # gradient ascent got most of the way
    cr.check_grads(marginal, tuple(best.x), order=1, seed=1)


def test_black_box_variational_inference_with_norm_logpdf():
    eps = np.random.default_rng(2).standard_normal((200, 2))  # fixed draws: a deterministic ELBO
    target_mean, target_std = np.array([1.5, -0.5]), np.array([0.7, 1.2])

    def elbo(mu, log_sigma):
        z = mu + np.exp(log_sigma) * eps  # the reparameterization trick
        log_p = np.sum(stats.norm.logpdf(z, target_mean, target_std), axis=1)
        log_q = np.sum(stats.norm(mu, np.exp(log_sigma)).logpdf(z), axis=1)
        return np.mean(log_p - log_q)

    start = (np.zeros(2), np.zeros(2))
    cr.check_grads(elbo, start, order=2, seed=0)
    mu, log_sigma = ascend(elbo, start, 300, 0.1)
    np.testing.assert_allclose(mu, target_mean, atol=0.15)
    np.testing.assert_allclose(np.exp(log_sigma), target_std, atol=0.15)
    cr.check_grads(elbo, (mu, log_sigma), order=2, seed=1)


def test_neural_ode_fitted_with_odeint():
    t = np.linspace(0.0, 1.5, 6)
    rot = np.array([[-0.1, 1.0], [-1.0, -0.1]])  # the data: a damped spiral y' = rot y
    y0 = np.array([1.0, 0.0])
    data = integrate.odeint(lambda y, s: rot @ y, y0, t, rtol=1e-10, atol=1e-10)

    def rhs(y, s, w1, b1, w2):
        return w2 @ np.tanh(w1 @ y + b1)

    def loss(w1, b1, w2):
        pred = integrate.odeint(rhs, y0, t, args=(w1, b1, w2), rtol=1e-9, atol=1e-9)
        return np.mean((pred - data) ** 2)

    rng = np.random.default_rng(3)
    params = (0.5 * rng.standard_normal((8, 2)), np.zeros(8), 0.3 * rng.standard_normal((2, 8)))
    cr.check_grads(loss, params, order=1, rtol=1e-5, seed=0)
    before = loss(*params)
    fitted = ascend(lambda *p: -loss(*p), params, 40, 0.5)
    assert loss(*fitted) < 0.3 * before
    cr.check_grads(loss, fitted, order=1, rtol=1e-5, seed=1)
