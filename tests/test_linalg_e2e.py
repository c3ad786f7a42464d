"""End-to-end linear algebra: likelihoods through Cholesky and slogdet, checked
against finite differences, closed forms and each other; degenerate inputs."""

import importlib
import sys
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.rules import linalg as RL
from chainrule.rules.linalg import DegenerateWarning

from .ops.oracle import directional_derivative

RNG = np.random.default_rng(5)
LOG2PI = np.log(2 * np.pi)


def spd(n):
    x = RNG.standard_normal((n, n))
    return x @ x.T + n * np.eye(n)


def close(a, b, rtol=1e-7, atol=1e-9):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def check_grad_fd(f, args):
    """grad . v against 6th-order finite differences along a random v, per argument."""
    grads = cr.grad(f, argnums=tuple(range(len(args))))(*args)
    dirs = [RNG.standard_normal(np.shape(a)) for a in args]
    lhs = sum(np.sum(g * d) for g, d in zip(grads, dirs))
    close(lhs, directional_derivative(f, args, dirs)[0])
    return grads


# ---- a Gaussian negative log-likelihood via Cholesky ----
def gaussian_nll(x, mu, cov):
    lower = np.linalg.cholesky(cov)
    z = np.linalg.solve(lower, x - mu)
    return 0.5 * np.sum(z * z) + np.sum(np.log(np.sum(lower * np.eye(len(x)), axis=-1))) \
        + 0.5 * len(x) * LOG2PI


def test_gaussian_nll_matches_fd_and_closed_form():
    n = 4
    x, mu, cov = RNG.standard_normal(n), RNG.standard_normal(n), spd(n)
    gx, gmu, gcov = check_grad_fd(gaussian_nll, (x, mu, cov))
    alpha = np.linalg.solve(cov, x - mu)
    close(gx, alpha)
    close(gmu, -alpha)
    # cholesky reads the lower triangle: the symmetric gradient folds onto it
    full = 0.5 * (np.linalg.inv(cov) - np.outer(alpha, alpha))
    close(gcov, np.tril(2 * full) - np.diag(np.diag(full)))
    sign, logdet = np.linalg.slogdet(cov)
    close(gaussian_nll(x, mu, cov), 0.5 * (x - mu) @ alpha + 0.5 * logdet + 0.5 * n * LOG2PI)


# ---- a Gaussian-process marginal likelihood with an RBF kernel ----
X = np.linspace(0, 3, 7)[:, None] + 0.1 * RNG.standard_normal((7, 1))
Y = np.sin(2 * X[:, 0]) + 0.1 * RNG.standard_normal(7)


def gp_nll(theta):
    lengthscale, signal, noise = np.exp(theta[0]), np.exp(theta[1]), np.exp(theta[2])
    d2 = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    k = signal**2 * np.exp(-0.5 * d2 / lengthscale**2) + (noise**2 + 1e-8) * np.eye(len(Y))
    lower = np.linalg.cholesky(k)
    z = np.linalg.solve(lower, Y)
    return 0.5 * z @ z + np.sum(np.log(np.sum(lower * np.eye(len(Y)), axis=-1))) \
        + 0.5 * len(Y) * LOG2PI


def test_gp_marginal_likelihood_gradient_and_hessian():
    theta = np.array([np.log(0.7), np.log(1.2), np.log(0.3)])
    (g,) = check_grad_fd(gp_nll, (theta,))
    close(g, _gp_grad_by_inverse(theta))
    v = RNG.standard_normal(3)
    close(cr.hvp(gp_nll, (theta,), (v,)), directional_derivative(cr.grad(gp_nll), (theta,), (v,)),
          rtol=1e-6)


# ---- a log-determinant two ways ----
def logdet_slogdet(a):
    return np.linalg.slogdet(a).logabsdet


def logdet_cholesky(a):
    return 2 * np.sum(np.log(np.sum(np.linalg.cholesky(a) * np.eye(np.shape(a)[-1]), axis=-1)))


def test_logdet_by_slogdet_and_by_cholesky_agree():
    a = spd(5)
    close(logdet_slogdet(a), logdet_cholesky(a))
    g_s = check_grad_fd(logdet_slogdet, (a,))[0]
    g_c = check_grad_fd(logdet_cholesky, (a,))[0]
    close(g_s, np.linalg.inv(a))
    close(g_s, 0.5 * (g_c + g_c.T))  # the same gradient once folded symmetric
    sym = RNG.standard_normal((5, 5))
    sym = sym + sym.T
    close(cr.hvp(logdet_slogdet, (a,), (sym,)), -np.linalg.inv(a) @ sym @ np.linalg.inv(a))
    h_c = cr.hvp(logdet_cholesky, (a,), (sym,))
    close(np.sum(h_c * sym), np.sum(cr.hvp(logdet_slogdet, (a,), (sym,)) * sym))


# ---- results, errors and degenerate cases ----
def test_named_results_come_back():
    a = spd(3)
    out = {}

    def f(a):
        res = np.linalg.eigh(a)
        w, v = res
        out["types"] = (type(res).__name__, type(np.linalg.svd(a)).__name__,
                        type(np.linalg.slogdet(a)).__name__, type(np.linalg.qr(a)).__name__)
        return np.sum(res.eigenvalues) + np.sum(w) + np.linalg.slogdet(a).logabsdet
    cr.grad(f)(a)
    assert out["types"] == ("EighResult", "SVDResult", "SlogdetResult", "QRResult")


def test_repeated_eigenvalues_warn_for_vectors_only():
    q, _ = np.linalg.qr(RNG.standard_normal((3, 3)))
    a = q @ np.diag([1.0, 1.0, 3.0]) @ q.T
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = cr.grad(lambda a: np.sum(np.linalg.eigvalsh(a) ** 2))(a)
        gw = cr.grad(lambda a: np.sum(np.linalg.eigh(a).eigenvalues ** 2))(a)
    close(g, np.tril(2 * 2 * a) - np.diag(np.diag(2 * a)))  # d tr(A^2) on the lower triangle
    close(gw, g)
    with pytest.warns(DegenerateWarning, match="repeated"):
        cr.grad(lambda a: np.sum(np.linalg.eigh(a).eigenvectors[:, 0]))(a)


def test_errors_name_the_problem():
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        cr.grad(lambda a: np.sum(np.linalg.cholesky(a)))(-np.eye(2))
    with pytest.raises(np.linalg.LinAlgError):
        cr.grad(lambda a: np.sum(np.linalg.solve(a, np.ones(2))))(np.ones((2, 2)))
    with pytest.raises(cr.NoRuleError, match="full_matrices=False"):
        cr.grad(lambda a: np.sum(np.linalg.svd(a).U))(RNG.standard_normal((3, 2)))
    # the extra columns unused: fine
    g = cr.grad(lambda a: np.sum(np.linalg.svd(a).S))(RNG.standard_normal((3, 2)))
    assert g.shape == (3, 2)


@pytest.mark.parametrize("fun", [
    lambda a: np.sum(np.linalg.solve(a, np.arange(3.0))),
    lambda a: np.sum(np.linalg.inv(a) ** 2),
    lambda a: np.linalg.det(a),
    lambda a: np.sum(np.linalg.matrix_power(a, 3)),
], ids=["solve", "inv", "det", "matrix_power"])
def test_rules_are_holomorphic_on_complex_input(fun):
    """Transposes, not conjugates: the VJP at a complex point is the complex derivative."""
    a = 3 * np.eye(3) + RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3))
    d = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3))
    _, pullback = cr.vjp(fun, a)
    (g,) = pullback(1.0)
    h = 1e-4
    fd = (fun(a + h * d) - fun(a - h * d)) / (2 * h)
    close(np.sum(g * d), fd, rtol=1e-6)


def test_scipy_missing_gives_a_clear_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.delitem(sys.modules, "chainrule.scipy", raising=False)
    with pytest.raises(ImportError, match="pip install scipy"):
        importlib.import_module("chainrule.scipy")


# ---- triangular solves: SciPy's when installed, np.linalg.solve without ----
def _triangular_cases():
    a = RNG.standard_normal((2, 4, 4)) + 4 * np.eye(4)
    for b in (RNG.standard_normal((2, 4, 3)), RNG.standard_normal((4, 3)), RNG.standard_normal(4)):
        for trans in (0, 1):
            for lower in (True, False):
                for unit in (False, True):
                    yield a, b, trans, lower, unit
    yield a[0], RNG.standard_normal((3, 4, 2)), 1, True, False  # the matrix broadcast


@pytest.mark.parametrize("have_scipy", [True, False], ids=["scipy", "no-scipy"])
def test_triangular_solve_with_and_without_scipy(monkeypatch, have_scipy):
    monkeypatch.setattr(RL.solves, "HAVE_SCIPY", have_scipy)
    for a, b, trans, lower, unit in _triangular_cases():
        t = np.tril(a) if lower else np.triu(a)
        if unit:
            t = t - t * np.eye(4) + np.eye(4)
        want = np.linalg.solve(np.swapaxes(t, -1, -2) if trans else t, b if b.ndim > 1 else b[:, None])
        got = RL._solve_triangular(a, b, trans, lower, unit)
        close(got, want[..., 0] if b.ndim == 1 else want, rtol=1e-12, atol=1e-12)
    # and the gradients through the Cholesky rules agree between the two paths
    theta = np.array([np.log(0.7), np.log(1.2), np.log(0.3)])
    close(cr.grad(gp_nll)(theta), _gp_grad_by_inverse(theta), rtol=1e-9)
    close(cr.hvp(gp_nll, (theta,), (np.ones(3),)),
          directional_derivative(cr.grad(gp_nll), (theta,), (np.ones(3),)), rtol=1e-6)


def _gp_grad_by_inverse(theta):
    """The classic formula: dL/dtheta = -0.5 tr((alpha alpha^T - K^-1) dK/dtheta)."""
    lengthscale, signal, noise = np.exp(theta)
    d2 = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    rbf = signal**2 * np.exp(-0.5 * d2 / lengthscale**2)
    k = rbf + (noise**2 + 1e-8) * np.eye(len(Y))
    alpha = np.linalg.solve(k, Y)
    inner = np.outer(alpha, alpha) - np.linalg.inv(k)
    dks = [rbf * d2 / lengthscale**2, 2 * rbf, 2 * noise**2 * np.eye(len(Y))]
    return np.array([-0.5 * np.sum(inner * dk) for dk in dks])


def test_solve_recognises_triangular_matrices():
    lower = np.tril(RNG.standard_normal((3, 5, 5))) + 5 * np.eye(5)
    assert RL._which_triangle(lower) is True
    assert RL._which_triangle(np.swapaxes(lower, -1, -2)) is False
    mixed = lower.copy()
    mixed[1] = mixed[1].T
    assert RL._which_triangle(mixed) is None
    assert RL._which_triangle(lower + 1e-300 * np.triu(np.ones((5, 5)), 1)) is None
    assert RL._which_triangle(np.eye(1)) is None
    b = RNG.standard_normal((3, 5, 2))
    for a in (lower, np.swapaxes(lower, -1, -2), mixed):
        close(RL.solve_p.impl(a, b), np.linalg.solve(a, b), rtol=1e-12)
        g = cr.grad(lambda a: np.sum(np.sin(np.linalg.solve(a, b))))(a)
        x = np.linalg.solve(a, b)
        gb = np.linalg.solve(np.swapaxes(a, -1, -2), np.cos(x))
        close(g, -gb @ np.swapaxes(x, -1, -2), rtol=1e-10)  # dense: solve reads all of a


@pytest.mark.parametrize("n", [300, 261])
def test_cholesky_rule_by_halves_matches_the_plain_formula(monkeypatch, n):
    """Above RL.decompositions._BLOCK the Cholesky VJP works on halves (twice, for n = 300);
    odd sizes split unevenly. Values, and derivatives of the VJP itself,
    must equal the one-block formula."""
    a = spd(n)
    w = RNG.standard_normal((n, n))

    def f(a):
        return np.sum(w * np.linalg.cholesky(a)) + np.sum(np.log(np.diagonal(np.linalg.cholesky(a))))

    sym = RNG.standard_normal((n, n))
    sym = (sym + sym.T) / n
    blocked = cr.grad(f)(a), cr.hvp(f, (a,), (sym,))
    monkeypatch.setattr(RL.decompositions, "_BLOCK", 10**9)
    plain = cr.grad(f)(a), cr.hvp(f, (a,), (sym,))
    for x, y in zip(blocked, plain):
        close(x, y, rtol=1e-9, atol=1e-12 * np.max(np.abs(y)))
    assert np.allclose(np.triu(blocked[0], 1), 0)  # the gradient lives on the lower triangle
    d = np.tril(RNG.standard_normal((n, n))) / n
    close(np.sum(blocked[0] * d), directional_derivative(f, (a,), (d,))[0], rtol=1e-6)
