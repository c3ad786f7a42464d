"""Newton-Raphson with a backtracking line search and damping.

Each iteration forms the exact Hessian (n one-hot Hessian-vector products
in one batched pass, or `cr.hessian`) and solves `(H + mu I) p = -g` by
Cholesky, with mu = 0 when H is positive definite and otherwise just past
its most negative eigenvalue, so p is always a descent direction on
indefinite Hessians (saddles, concave regions). A backtracking (Armijo)
line search from the full step keeps every iteration decreasing. Near a
strict minimum the full step is taken and convergence is quadratic.

Example:
    >>> import numpy as np
    >>> r = newton(lambda x: np.sum(np.exp(x) - 2 * x), np.zeros(3))
    >>> r.success, np.round(r.x, 12)
    (True, array([0.69314718, 0.69314718, 0.69314718]))
"""

import numpy as np

from .problem import Problem
from .result import result

_ARMIJO = 1e-4


def damped_solve(H, g):
    """`(p, mu)`: the solution of `(H + mu I) p = -g` with mu = 0 when H is
    positive definite, else mu just past H's most negative eigenvalue
    (1.1 times it, plus a relative 1e-8), so p is a descent direction.

    Example:
        >>> import numpy as np
        >>> p, mu = damped_solve(np.diag([2.0, -1.0]), np.array([2.0, 1.0]))
        >>> float(round(mu, 6)), np.round(p, 4)
        (1.1, array([ -0.6452, -10.    ]))
    """
    n = len(g)
    scale = max(np.max(np.abs(np.diag(H))), np.finfo(float).tiny) if n else 1.0
    mu = 0.0
    for _ in range(60):
        try:
            L = np.linalg.cholesky(H + mu * np.eye(n))
        except np.linalg.LinAlgError:
            if mu == 0.0:
                lowest = np.linalg.eigvalsh(H)[0]
                mu = 1.1 * max(-lowest, 0.0) + 1e-8 * scale
            else:
                mu *= 10
            continue
        p = -np.linalg.solve(L.T, np.linalg.solve(L, g))
        return p, mu
    raise np.linalg.LinAlgError("the Hessian could not be made positive definite (non-finite entries?)")


def newton(fun, x0, args=(), tol=1e-8, maxiter=100, *, hessian="hvp", callback=None):
    """Minimise `fun(x, *args)` by Newton-Raphson; an OptimizeResult.

    x0 may be an array or nested arrays (the result's x has its
    structure). Stops when the 2-norm of the gradient is below tol.
    `hessian="hvp"` builds each Hessian from one-hot Hessian-vector
    products (counted in nhvp), `"jacobian"` uses `cr.hessian`. The
    callback gets each new iterate. The record holds x, fun, jac, nit,
    nfev, nhvp, success, status and message.

    Example:
        >>> import numpy as np
        >>> r = newton(lambda x: (x[0] - 1) ** 2 + 10 * (x[1] + x[0] ** 2) ** 2, np.zeros(2))
        >>> r.success, np.round(r.x, 10)
        (True, array([ 1., -1.]))
    """
    prob = Problem(fun, x0, args)
    x = prob.x0
    f, g = prob.value_and_grad(x)
    status, message = 1, "the maximum number of iterations was reached"
    nit = 0
    for nit in range(int(maxiter) + 1):
        if not np.isfinite(f) or not np.all(np.isfinite(g)):
            status, message = 3, "the value or gradient is not finite"
            break
        if np.linalg.norm(g) < tol:
            status, message = 0, "the gradient norm is below tol"
            break
        if nit == maxiter:
            break
        H = prob.dense_hessian(x, hessian)
        p, _ = damped_solve(H, g)
        slope = g @ p
        t = 1.0
        for _ in range(60):
            x_new = x + t * p
            f_new, g_new = prob.value_and_grad(x_new)
            if np.isfinite(f_new) and f_new <= f + _ARMIJO * t * slope:
                break
            t *= 0.5
        else:
            status, message = 2, "the line search found no decrease (precision loss?)"
            break
        x, f, g = x_new, f_new, g_new
        if callback is not None:
            callback(prob.unravel(x))
    return result(x=prob.unravel(x), fun=f, jac=prob.unravel(g), nit=nit, nfev=prob.nfev,
                  njev=prob.njev, nhvp=prob.nhvp, success=status == 0, status=status, message=message)
