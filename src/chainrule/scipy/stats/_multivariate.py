"""Multivariate distributions: dirichlet, multivariate_normal, multivariate_t.

The Gaussian and Student densities go through the Cholesky factor L of the
covariance (shape) matrix: log det = 2 sum log diag L and the Mahalanobis
distance is |L^-1 (x - mean)|^2, so the derivative in the covariance is that
of numpy.linalg.cholesky and the triangular solve (it reads the lower
triangle: symmetric perturbations give the symmetric derivative). x's last
axis holds the components, as in SciPy; dirichlet's x holds them on its
first axis, as in SciPy.
"""

import numpy as np
import scipy.special as sc
import scipy.stats as _st

from ...core.errors import NoRuleError
from .. import special  # noqa: F401  (registers scipy.special's rules)
from ..linalg import solve_triangular
from ._distribution import raw, traced

_LOG_2PI = np.log(2 * np.pi)


def _dimension(mean, cov):
    if mean is not None and np.ndim(mean) > 0:
        return np.shape(mean)[-1]
    if np.ndim(cov) > 0:
        return np.shape(cov)[-1]
    return 1


def _as_matrix(cov, d):
    """SciPy's covariance spellings: a scalar (times I), a vector (the diagonal), a matrix."""
    if np.ndim(cov) == 0:
        return cov * np.eye(d)
    if np.ndim(cov) == 1:
        return cov[:, None] * np.eye(d)
    return cov


def _logdet_and_maha(x, mean, cov):
    """(log det C, (x - m)^T C^-1 (x - m) per point), x of shape (..., d)."""
    d = _dimension(mean, cov)
    chol = np.linalg.cholesky(_as_matrix(cov, d))
    dev = x - (0.0 if mean is None else mean)
    batch = np.shape(dev)[:-1]
    flat = np.reshape(dev, (-1, d))
    white = solve_triangular(chol, np.transpose(flat), lower=True)
    maha = np.reshape(np.sum(white * white, axis=0), batch)
    logdet = 2 * np.sum(np.log(np.diagonal(chol)))
    return d, logdet, maha


def _points(x, d):
    """x with its last axis the d components (a vector of scalars when d == 1)."""
    if d == 1 and (np.ndim(x) == 0 or np.shape(x)[-1] != 1):
        return x[..., None]
    return x


class multivariate_normal_gen:
    """The multivariate normal: logpdf/pdf differentiable in x, mean and cov."""

    def __repr__(self):
        return "<chainrule.scipy.stats.multivariate_normal>"

    def __call__(self, mean=None, cov=1, allow_singular=False, seed=None):
        return _FrozenMV(self, dict(mean=mean, cov=cov, allow_singular=allow_singular))

    def logpdf(self, x, mean=None, cov=1, allow_singular=False):
        """log N(x; mean, cov), as scipy.stats.multivariate_normal.logpdf.

        Example:
            >>> import chainrule as cr
            >>> cr.grad(lambda m: multivariate_normal.logpdf(np.zeros(2), m, np.eye(2)))(np.ones(2))
            array([-1., -1.])
        """
        if not traced(x, mean, cov):
            return _st.multivariate_normal.logpdf(x, mean, cov, allow_singular)
        if allow_singular:
            raise NoRuleError("multivariate_normal.logpdf(allow_singular=True) on traced values: "
                              "a singular covariance has no Cholesky factor to differentiate")
        d = _dimension(mean, cov)
        d, logdet, maha = _logdet_and_maha(_points(x, d), mean, cov)
        return -0.5 * (d * _LOG_2PI + logdet + maha)

    def pdf(self, x, mean=None, cov=1, allow_singular=False):
        """N(x; mean, cov), as scipy.stats.multivariate_normal.pdf."""
        if not traced(x, mean, cov):
            return _st.multivariate_normal.pdf(x, mean, cov, allow_singular)
        return np.exp(self.logpdf(x, mean, cov, allow_singular))

    def cdf(self, x, mean=None, cov=1, **kwargs):
        """SciPy's numerical cdf on plain values; on traced values a NoRuleError."""
        if not traced(x, mean, cov):
            return _st.multivariate_normal.cdf(x, mean, cov, **kwargs)
        raise NoRuleError("multivariate_normal.cdf has no derivative rule: it is a "
                          "randomized numerical integral (Genz's method)")

    def logcdf(self, x, mean=None, cov=1, **kwargs):
        """SciPy's numerical log cdf on plain values; on traced values a NoRuleError."""
        if not traced(x, mean, cov):
            return _st.multivariate_normal.logcdf(x, mean, cov, **kwargs)
        return np.log(self.cdf(x, mean, cov, **kwargs))

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(_st.multivariate_normal, name)


class multivariate_t_gen:
    """The multivariate Student t: logpdf/pdf differentiable in x, loc, shape and df."""

    def __repr__(self):
        return "<chainrule.scipy.stats.multivariate_t>"

    def __call__(self, loc=None, shape=1, df=1, allow_singular=False, seed=None):
        return _FrozenMV(self, dict(loc=loc, shape=shape, df=df, allow_singular=allow_singular))

    def logpdf(self, x, loc=None, shape=1, df=1):
        """log t(x; loc, shape, df), as scipy.stats.multivariate_t.logpdf.

        Example:
            >>> round(float(multivariate_t.logpdf(np.zeros(2), np.zeros(2), np.eye(2), 3.0)), 10)
            -1.8378770664
        """
        if not traced(x, loc, shape, df):
            return _st.multivariate_t.logpdf(x, loc, shape, df)
        if not traced(df) and np.isinf(df):  # SciPy's convention: df = inf is the normal
            return multivariate_normal.logpdf(x, loc, shape)
        d = _dimension(loc, shape)
        d, logdet, maha = _logdet_and_maha(_points(x, d), loc, shape)
        return (sc.gammaln((df + d) / 2) - sc.gammaln(df / 2) - 0.5 * d * np.log(df * np.pi)
                - 0.5 * logdet - (df + d) / 2 * np.log1p(maha / df))

    def pdf(self, x, loc=None, shape=1, df=1):
        """t(x; loc, shape, df), as scipy.stats.multivariate_t.pdf."""
        if not traced(x, loc, shape, df):
            return _st.multivariate_t.pdf(x, loc, shape, df)
        return np.exp(self.logpdf(x, loc, shape, df))

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(_st.multivariate_t, name)


class dirichlet_gen:
    """The Dirichlet distribution: logpdf/pdf differentiable in x and alpha."""

    def __repr__(self):
        return "<chainrule.scipy.stats.dirichlet>"

    def __call__(self, alpha, seed=None):
        return _FrozenMV(self, dict(alpha=alpha))

    def logpdf(self, x, alpha):
        """log Dir(x; alpha), x's first axis the components (as SciPy).

        Example:
            >>> import chainrule as cr
            >>> cr.grad(lambda a: dirichlet.logpdf(np.array([0.5, 0.5]), a))(np.ones(2))
            array([0.30685282, 0.30685282])
        """
        if not traced(x, alpha):
            return _st.dirichlet.logpdf(x, alpha)
        if np.ndim(alpha) != 1:
            raise ValueError("dirichlet: alpha must be a vector")
        a = np.reshape(alpha, np.shape(alpha) + (1,) * (np.ndim(x) - 1))
        norm = np.sum(sc.gammaln(alpha)) - sc.gammaln(np.sum(alpha))
        return np.sum(sc.xlogy(a - 1, x), axis=0) - norm

    def pdf(self, x, alpha):
        """Dir(x; alpha), as scipy.stats.dirichlet.pdf."""
        if not traced(x, alpha):
            return _st.dirichlet.pdf(x, alpha)
        return np.exp(self.logpdf(x, alpha))

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(_st.dirichlet, name)


class _FrozenMV:
    """A multivariate distribution with its parameters fixed."""

    def __init__(self, dist, params):
        self.dist, self.params = dist, params

    def logpdf(self, x):
        return self.dist.logpdf(x, **self._for("logpdf"))

    def pdf(self, x):
        return self.dist.pdf(x, **self._for("pdf"))

    def _for(self, method):
        import inspect
        names = inspect.signature(getattr(self.dist, method)).parameters
        return {k: v for k, v in self.params.items() if k in names}

    def __getattr__(self, name):
        if name.startswith("_") or name in ("dist", "params"):
            raise AttributeError(name)
        plain = {k: raw(v) for k, v in self.params.items()}
        return getattr(getattr(_st, repr(self.dist).split(".")[-1][:-1])(**plain), name)


multivariate_normal = multivariate_normal_gen()
multivariate_t = multivariate_t_gen()
dirichlet = dirichlet_gen()
