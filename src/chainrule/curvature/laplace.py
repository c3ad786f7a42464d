"""The Laplace approximation: a Gaussian at the mode of a log joint density.

For `log p(D, theta)` (the log likelihood plus the log prior, as a
function of theta), the approximation expands it to second order at its
mode theta*; with H the Hessian of `-log p(D, theta)` there,

    log p(D) ~ log p(D, theta*) + n/2 log(2 pi) - 1/2 log det H,

and the posterior is approximately N(theta*, H^-1). The mode is found by
Newton's method (few parameters) or truncated Newton-CG (many); log det H
is exact (`slogdet` of the Hessian from one-hot products) up to
`exact_limit` parameters and by stochastic Lanczos quadrature beyond,
with its standard error carried into `log_evidence_stderr`. For a
Gaussian model (Bayesian linear regression) the approximation is exact.

Example:
    >>> import numpy as np
    >>> log_joint = lambda t: -0.5 * np.sum((t - 1.0) ** 2 / 4.0)  # unnormalised N(1, 4 I)
    >>> r = laplace(log_joint, np.zeros(2))
    >>> np.round(r.mode, 10), round(float(r.log_evidence), 10) == round(float(np.log(2 * np.pi * 4)), 10)
    (array([1., 1.]), True)
"""

import numpy as np

from ..core.tree import tree_flatten
from .linop import Estimate, NotPositiveDefiniteError
from .operator import hessian_operator
from .slq import logdet_estimate


class LaplaceResult:
    """What `laplace` returns.

    Attributes: `log_evidence` (and `log_evidence_stderr`, 0 when the
    log-determinant is exact), `mode` (structured like theta0), `hessian`
    (the operator of the negative log joint at the mode, on the flattened
    parameters), `logdet` (an Estimate of log det hessian), `covariance`
    (the operator H^-1 of the approximate posterior) and `optimization`
    (the optimiser's record).
    """

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def __repr__(self):
        return (f"LaplaceResult(log_evidence={self.log_evidence!r}, "
                f"log_evidence_stderr={self.log_evidence_stderr!r}, n={self.hessian.shape[0]})")


class InverseOperator:
    """H^-1 as an operator: Cholesky solves when the dense H is at hand,
    else conjugate gradients on H's products (to relative residual rtol).

    Example:
        >>> import numpy as np
        >>> InverseOperator(np.diag([2.0, 4.0])) @ np.ones(2)
        array([0.5 , 0.25])
    """

    __array_ufunc__ = None

    def __init__(self, H, dense=None, rtol=1e-10):
        self.H = H
        self.shape, self.dtype = H.shape, np.dtype(getattr(H, "dtype", float))
        self.rtol = rtol
        if dense is None and isinstance(H, np.ndarray):
            dense = H
        self._chol = None if dense is None else np.linalg.cholesky(0.5 * (dense + dense.T))

    def matvec(self, v):
        v = np.asarray(v, float)
        if self._chol is not None:
            L = self._chol
            return np.linalg.solve(L.T, np.linalg.solve(L, v))
        return _cg(lambda u: np.asarray(self.H @ u), v, self.rtol)

    def matmat(self, V):
        return np.column_stack([self.matvec(v) for v in np.asarray(V).T])

    rmatvec = matvec

    def __matmul__(self, x):
        x = np.asarray(x)
        return self.matvec(x) if x.ndim == 1 else self.matmat(x)

    def todense(self):
        return self.matmat(np.eye(self.shape[0]))


def _cg(matvec, b, rtol):
    x = np.zeros_like(b)
    r = b.copy()
    d = r.copy()
    rr = r @ r
    stop = (rtol * np.linalg.norm(b)) ** 2
    for _ in range(10 * len(b)):
        if rr <= stop:
            return x
        Ad = matvec(d)
        dAd = d @ Ad
        if dAd <= 0:
            raise NotPositiveDefiniteError("the Hessian at the mode is not positive definite")
        alpha = rr / dAd
        x = x + alpha * d
        r = r - alpha * Ad
        rr, rr_old = r @ r, rr
        d = r + (rr / rr_old) * d
    return x


def laplace(log_joint, theta0, args=(), *, tol=1e-8, maxiter=100, exact_limit=1000,
            num_probes=30, steps=30, seed=None):
    """The Laplace approximation of `log_joint(theta, *args)`: a LaplaceResult.

    theta0 (an array or nested arrays) starts the search for the mode:
    Newton for up to exact_limit parameters, else Newton-CG, both to a
    gradient norm below tol. log det H is exact up to exact_limit
    parameters, else estimated by SLQ with num_probes probes of `steps`
    Lanczos steps (seeded by seed). Raises NotPositiveDefiniteError when
    the Hessian at the mode is not positive definite (no Gaussian fits).

    Example:
        >>> import numpy as np
        >>> r = laplace(lambda t: -np.sum(np.cosh(t)), np.ones(3))
        >>> np.round(r.mode, 12), r.covariance @ np.ones(3)
        (array([0., 0., 0.]), array([1., 1., 1.]))
    """
    if not isinstance(args, tuple):
        args = (args,)
    from ..optimize import newton, newton_cg  # (optimize builds on this package)

    neg = lambda theta, *a: -log_joint(theta, *a)  # noqa: E731
    solver = newton if _size(theta0) <= exact_limit else newton_cg
    opt = solver(neg, theta0, args=args, tol=tol, maxiter=maxiter)
    if not opt.success:
        raise RuntimeError(f"laplace could not find the mode: {opt.message} "
                           f"(gradient norm {_norm(opt.jac):.3g} after {opt.nit} iterations)")
    H = hessian_operator(neg, (opt.x, *args))
    n = H.shape[0]
    dense = None
    if n <= exact_limit:
        dense = H.todense()
        dense = 0.5 * (dense + dense.T)
        sign, logdet = np.linalg.slogdet(dense)
        if sign <= 0:
            raise NotPositiveDefiniteError("the Hessian of -log_joint at the mode is not positive "
                                           "definite: the Laplace approximation does not exist")
        logdet_est = (logdet, 0.0)
    else:
        logdet_est = logdet_estimate(H, num_probes=num_probes, steps=steps, seed=seed)
    logdet_est = Estimate(*logdet_est)
    value = -opt.fun
    log_evidence = value + 0.5 * n * np.log(2 * np.pi) - 0.5 * logdet_est.value
    return LaplaceResult(log_evidence=log_evidence, log_evidence_stderr=0.5 * logdet_est.stderr,
                         mode=opt.x, hessian=H, logdet=logdet_est,
                         covariance=InverseOperator(H, dense), optimization=opt)


def _size(tree):
    return sum(int(np.size(x)) for x in tree_flatten(tree)[0])


def _norm(tree):
    return float(np.sqrt(sum(np.sum(np.square(x)) for x in tree_flatten(tree)[0])))
