"""Op table: chainrule.scipy.integrate's odeint and solve_ivp, differentiated in the
initial state, the time points and the parameters of the right-hand side.

The solves are run at tight tolerances so that the solution's own error stays
below the finite-difference oracle's; the tolerance of the line follows them.
"""

import numpy as np

from chainrule.scipy import integrate as SI

from .spec import Op, rand

TIGHT = dict(rtol=1e-11, atol=1e-12)
# check_grads compares modes to a few float64 epsilons; the solves agree to their
# tolerance only (tests/test_scipy_integrate.py runs check_grads with rtol set)
MODES = ("rev", "fwd", "rev_rev", "fwd_rev", "cs")


def pendulum(y, t, k, c):
    """A damped, driven pendulum: nonlinear in the state, time dependent."""
    return np.stack([y[1], -k * np.sin(y[0]) - c * y[1] + 0.3 * np.cos(t)])


def linear(t, y, a):
    return a @ y


def times(n, start=0.0):
    return start + np.cumsum(0.2 + 0.3 * np.abs(rand(n))) - 0.2


# fmt: off
OPS = [
    Op("integrate.odeint", lambda y0, t, k, c: SI.odeint(pendulum, y0, t, args=(k, c), **TIGHT),
       ((rand(2), times(3), np.array(1.3), 0.2 + 0.1 * rand()),), covers=("integrate.ode",),
       rtol=1e-6, atol=1e-8, modes=MODES),
    Op("integrate.solve_ivp", lambda y0, t0, t, a: SI.solve_ivp(linear, (t0, 2.0), y0, method="DOP853",
                                                               t_eval=t, args=(a,), **TIGHT).y,
       ((rand(2), np.array(-0.1), times(2, 0.1), 0.5 * rand(2, 2)),), covers=("integrate.ode",),
       rtol=1e-6, atol=1e-8, modes=MODES),
]
# fmt: on
