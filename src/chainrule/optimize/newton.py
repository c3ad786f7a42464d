"""Newton-Raphson with a backtracking line search and damping.

Each iteration forms the exact Hessian (n one-hot Hessian-vector products
in one batched pass, or `cr.hessian`) and solves `(H + mu I) p = -g` by
Cholesky, with mu = 0 when H is positive definite and otherwise just past
its most negative eigenvalue, so p is always a descent direction on
indefinite Hessians (saddles, concave regions). When the Hessian's
sparsity pattern is sparse (and SciPy is installed), the Hessian is built
from one product per colour of the pattern (3 for a tridiagonal Hessian,
see `chainrule.curvature.colour`) as a `scipy.sparse` matrix and the
damped system is solved by a sparse symmetric LU (`sparse_damped_solve`),
with the same damping rule. A backtracking (Armijo)
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
        return -_cholesky_solve(L, g), mu
    raise np.linalg.LinAlgError("the Hessian could not be made positive definite (non-finite entries?)")


def _cholesky_solve(L, g):
    """x with L L^T x = g: two triangular solves (SciPy's when installed;
    NumPy's general solve otherwise, which is O(n^3))."""
    try:
        from scipy.linalg import solve_triangular
    except ImportError:
        return np.linalg.solve(L.T, np.linalg.solve(L, g))
    return solve_triangular(L, solve_triangular(L, g, lower=True), lower=True, trans="T")


def _spd_factor(A):
    """A sparse LU of symmetric A with symmetric ordering and no pivoting,
    whose pivots are then those of LDL^T: the factor when every pivot is
    positive (A positive definite), else None."""
    from scipy.sparse.linalg import splu
    try:
        lu = splu(A.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                  options={"SymmetricMode": True, "Equil": False})
    except RuntimeError:  # an exactly singular pivot
        return None
    if not np.array_equal(lu.perm_r, lu.perm_c) or not np.all(lu.U.diagonal() > 0):
        return None
    return lu


def _lowest_eigenvalue(H):
    """H's smallest eigenvalue: from its band (exact, O(n b^2)) when the
    bandwidth b is small, densely for small n, else by ARPACK."""
    n = H.shape[0]
    coo = H.tocoo()
    width = int(np.max(np.abs(coo.row - coo.col))) if coo.nnz else 0
    if width <= 64 and n > 200:
        from scipy.linalg import eigvals_banded
        band = np.zeros((width + 1, n))
        lower = coo.row >= coo.col
        band[(coo.row - coo.col)[lower], coo.col[lower]] = coo.data[lower]
        return eigvals_banded(band, lower=True, select="i", select_range=(0, 0))[0]
    if n <= 1000:
        return np.linalg.eigvalsh(H.toarray())[0]
    from scipy.sparse.linalg import ArpackNoConvergence, eigsh
    try:
        return eigsh(H, k=1, which="SA", tol=1e-10, return_eigenvectors=False)[0]
    except ArpackNoConvergence:
        return -np.max(np.abs(H).sum(axis=1))  # Gershgorin: a safe (large) shift


def sparse_damped_solve(H, g):
    """`damped_solve` for a symmetric `scipy.sparse` H: `(p, mu)` with
    `(H + mu I) p = -g`, mu = 0 when H is positive definite, else just past
    its most negative eigenvalue (1.1 times it, plus a relative 1e-8).

    Example:
        >>> import numpy as np, scipy.sparse as sp
        >>> p, mu = sparse_damped_solve(sp.diags([2.0, -1.0]).tocsr(), np.array([2.0, 1.0]))
        >>> float(round(mu, 6)), np.round(p, 4)
        (1.1, array([ -0.6452, -10.    ]))
    """
    import scipy.sparse as sp
    n = len(g)
    diag = np.abs(H.diagonal())
    scale = max(np.max(diag), np.finfo(float).tiny) if n else 1.0
    eye = sp.identity(n, dtype=H.dtype, format="csc")
    mu = 0.0
    for _ in range(60):
        lu = _spd_factor(H + mu * eye if mu else H)
        if lu is None:
            if mu == 0.0:
                mu = 1.1 * max(-_lowest_eigenvalue(H), 0.0) + 1e-8 * scale
            else:
                mu *= 10
            continue
        return -lu.solve(np.asarray(g, float)), mu
    raise np.linalg.LinAlgError("the Hessian could not be made positive definite (non-finite entries?)")


SPARSE_MIN_SIZE = 64  # hessian="auto" takes the sparse route from this many variables


def _hessian_plan(prob, x, hessian):
    """The colouring of the Hessian's pattern for the sparse route, or None
    for the dense one."""
    if hessian not in ("auto", "sparse", "hvp", "jacobian"):
        raise ValueError(f"hessian must be 'auto', 'sparse', 'hvp' or 'jacobian', got {hessian!r}")
    if hessian in ("hvp", "jacobian") or (hessian == "auto" and x.size < SPARSE_MIN_SIZE):
        return None
    from ..curvature.colour import colouring
    op = prob.operator(x).op
    plan = colouring(op, "hessian", max_density=np.inf if hessian == "sparse" else None)
    prob.nhvp += op.nprod  # the columns sampled to judge the density
    if plan is None and hessian == "sparse":
        raise ValueError("hessian='sparse' needs SciPy and a traceable sparsity pattern "
                         "(cr.sparsity(fun, x, hessian=True)); use hessian='hvp'")
    return plan


def newton(fun, x0, args=(), tol=1e-8, maxiter=100, *, hessian="auto", callback=None):
    """Minimise `fun(x, *args)` by Newton-Raphson; an OptimizeResult.

    x0 may be an array or nested arrays (the result's x has its
    structure). Stops when the 2-norm of the gradient is below tol.
    `hessian="hvp"` builds each Hessian from one-hot Hessian-vector
    products (counted in nhvp), `"jacobian"` uses `cr.hessian`,
    `"sparse"` one product per colour of the Hessian's sparsity pattern
    (a `scipy.sparse` Hessian, sparse solves; needs SciPy), and `"auto"`
    (the default) takes "sparse" from 64 variables when SciPy is installed
    and the colouring needs at most a quarter of n products, else "hvp". The
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
    plan = _hessian_plan(prob, x, hessian)
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
        if plan is not None:
            p, _ = sparse_damped_solve(prob.sparse_hessian(x, plan), g)
        else:
            p, _ = damped_solve(prob.dense_hessian(x, "hvp" if hessian == "auto" else hessian), g)
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
                  njev=prob.njev, nhvp=prob.nhvp, success=status == 0, status=status, message=message,
                  hessian="sparse" if plan is not None else "dense")
