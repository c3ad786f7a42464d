"""chainrule.scipy.integrate against analytic sensitivities (linear ODEs), against
differentiating a fixed-step RK4 loop, and against SciPy's values."""

import numpy as np
import pytest

import chainrule as cr

pytest.importorskip("scipy.integrate")
import scipy.integrate as si  # noqa: E402

from chainrule.scipy import integrate as SI  # noqa: E402
from chainrule.scipy import linalg as SL  # noqa: E402

TIGHT = dict(rtol=1e-12, atol=1e-12)
rng = np.random.default_rng(11)
A = 0.5 * rng.standard_normal((3, 3))
Y0 = rng.standard_normal(3)
T = np.array([0.0, 0.4, 1.1, 1.5])
W = rng.standard_normal((4, 3))


def by_odeint(a, y0, t):
    return np.sum(W * SI.odeint(lambda y, s, a: a @ y, y0, t, args=(a,), **TIGHT))


def by_expm(a, y0, t):
    """y(t_i) = expm(A (t_i - t_0)) y0: the analytic solution."""
    return sum(np.sum(W[i] * (SL.expm(a * (t[i] - t[0])) @ y0)) for i in range(len(T)))


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_linear_ode_matches_the_analytic_sensitivities(mode):
    argnums = (0, 1, 2)
    if mode == "rev":
        got = cr.grad(by_odeint, argnums)(A, Y0, T)
        want = cr.grad(by_expm, argnums)(A, Y0, T)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-9)
    else:
        dirs = (rng.standard_normal(A.shape), rng.standard_normal(3), rng.standard_normal(4))
        got = cr.jvp(by_odeint, (A, Y0, T), dirs)
        want = cr.jvp(by_expm, (A, Y0, T), dirs)
        np.testing.assert_allclose(got, want, rtol=1e-8)


def pendulum(y, t, k, c):
    return np.stack([y[1], -k * np.sin(y[0]) - c * y[1] + 0.5 * np.cos(2 * t)])


def rk4(f, y0, t0, t1, args, steps):
    """A fixed-step Runge-Kutta loop in plain NumPy (differentiated step by step)."""
    h = (t1 - t0) / steps
    y, s = y0, t0
    for _ in range(steps):
        k1 = f(y, s, *args)
        k2 = f(y + h / 2 * k1, s + h / 2, *args)
        k3 = f(y + h / 2 * k2, s + h / 2, *args)
        k4 = f(y + h * k3, s + h, *args)
        y, s = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), s + h
    return y


def test_adjoint_matches_differentiating_a_fixed_step_rk4_loop():
    y0, t1, k, c = np.array([0.3, -0.2]), 1.5, 1.7, 0.25
    w = np.array([1.0, -2.0])

    def by_odeint(y0, t1, k, c):
        t = np.stack([np.zeros(()), t1])
        return np.dot(w, SI.odeint(pendulum, y0, t, args=(k, c), **TIGHT)[-1])

    def by_rk4(y0, t1, k, c):
        return np.dot(w, rk4(pendulum, y0, 0.0, t1, (k, c), 300))

    argnums = (0, 1, 2, 3)
    got = cr.grad(by_odeint, argnums)(y0, t1, k, c)
    want = cr.grad(by_rk4, argnums)(y0, t1, k, c)
    for g, r in zip(got, want):
        np.testing.assert_allclose(g, r, rtol=1e-7, atol=1e-9)
    _, tangent = cr.jvp(by_odeint, (y0, t1, k, c), (np.ones(2), 1.0, 1.0, 1.0))
    _, tangent_rk4 = cr.jvp(by_rk4, (y0, t1, k, c), (np.ones(2), 1.0, 1.0, 1.0))
    np.testing.assert_allclose(tangent, tangent_rk4, rtol=1e-7)


def test_check_grads_at_the_solver_tolerance():
    f = lambda y0, t, k: SI.odeint(pendulum, y0, t, args=(k, 0.1), **TIGHT)  # noqa: E731
    cr.check_grads(f, (np.array([0.1, 0.2]), np.array([0.0, 0.5, 1.0]), 1.2), order=1,
                   rtol=1e-6, seed=0)
    g = lambda y0, k: SI.solve_ivp(lambda t, y, k: -k * y ** 3, (0.0, 1.0), y0,  # noqa: E731
                                   t_eval=[0.5, 1.0], args=(k,), method="DOP853", **TIGHT).y
    cr.check_grads(g, (np.array([0.5, 1.0]), 0.7), order=1, rtol=1e-6, seed=0)


def test_values_equal_scipys():
    args = (1.1, 0.2)
    traced = cr.vjp(lambda y0: SI.odeint(pendulum, y0, T, args=args), Y0[:2])[0]
    np.testing.assert_array_equal(traced, si.odeint(pendulum, Y0[:2], T, args=args))
    tfirst = cr.vjp(lambda y0: SI.odeint(lambda t, y: -y, y0, T, tfirst=True), Y0)[0]
    np.testing.assert_allclose(tfirst, np.exp(-T)[:, None] * Y0, rtol=1e-6)
    sol = cr.vjp(lambda y0: SI.solve_ivp(lambda t, y: -y, (0.0, 2.0), y0, t_eval=T).y, Y0)[0]
    np.testing.assert_array_equal(sol, si.solve_ivp(lambda t, y: -y, (0.0, 2.0), Y0, t_eval=T).y)


def test_a_closure_over_a_traced_value_is_refused_by_name():
    with pytest.raises(cr.LeakError, match="args"):
        cr.grad(lambda k: SI.odeint(lambda y, t: -k * y, np.ones(1), T)[-1, 0])(1.0)
    with pytest.raises(cr.UnsupportedOptionError, match="t_eval"):
        cr.grad(lambda y0: SI.solve_ivp(lambda t, y: -y, (0.0, 1.0), y0).y[0, -1])(np.ones(1))
