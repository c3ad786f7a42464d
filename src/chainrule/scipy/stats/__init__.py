"""scipy.stats on traced values: `from chainrule.scipy import stats`.

    norm, t, cauchy, laplace, logistic, expon, gamma, beta, lognorm, uniform,
    chi2, vonmises, poisson, binom, nbinom, bernoulli, dirichlet,
    multivariate_normal, multivariate_t

with logpdf/logpmf, pdf/pmf, cdf, logcdf, sf, logsf and ppf, SciPy's
signatures, defaults and broadcasting, and frozen distributions
(`norm(loc, scale).logpdf(x)`). On plain arrays each method is SciPy's own;
on traced values it is NumPy and scipy.special code, differentiable in x and
every continuous parameter (the distribution functions' derivatives in a
shape parameter are summed from series, _incomplete.py; vonmises' cdf in
kappa raises a NoRuleError). Any other name is scipy.stats' own.

Example:
    >>> import numpy as np, chainrule as cr
    >>> cr.grad(lambda mu: norm.logpdf(1.0, mu, 2.0))(0.0)  # (x - mu) / scale**2
    np.float64(0.25)
"""

import scipy.stats as _st

from ._continuous import (beta, cauchy, chi2, expon, gamma, laplace, logistic, lognorm, norm, t,
                          uniform, vonmises)
from ._discrete import bernoulli, binom, nbinom, poisson
from ._multivariate import dirichlet, multivariate_normal, multivariate_t

__all__ = [
    "norm", "t", "cauchy", "laplace", "logistic", "expon", "gamma", "beta", "lognorm", "uniform",
    "chi2", "vonmises", "poisson", "binom", "nbinom", "bernoulli", "dirichlet",
    "multivariate_normal", "multivariate_t",
]


def __getattr__(name):
    """Every other name is scipy.stats' own."""
    return getattr(_st, name)
