"""The regularized incomplete gamma function P(a, x) (and Q = 1 - P, and the
inverse in x) with its derivative in the order a, which has no closed form.

dP/da is summed from the series P(a, x) = sum_n x^(a+n) e^-x / Gamma(a+n+1)
(every term positive), differentiated term by term:

    dP/da = sum_n x^(a+n) e^-x / Gamma(a+n+1) * (log x - digamma(a+n+1)),

with enough terms for the largest x present (the terms fall off once n
passes x: x + 12 sqrt(x) + 40 of them leave a remainder below float64's
rounding). The sum's error is absolute, about 1e-16 times the largest term's
weight |log x - digamma(a+n+1)|. The derivative in x is the density. Both are
NumPy and scipy.special code, so they are differentiable again (higher
order). The values themselves are SciPy's gammainc, gammaincc, gammaincinv.
"""

import numpy as np
import scipy.special as sc

from ...core.errors import NoRuleError
from ...core.primitive import elementwise
from ...core.trace import raw
from .. import special  # noqa: F401  (the rules of gammaln, digamma, xlogy)

MAX_TERMS = 20000


# In a traced graph (cr.trace, cr.compile) x has no value: a fixed number of
# terms serves every x up to FIXED_X_MAX, and a larger x gives nan, not a wrong sum.
FIXED_X_MAX = 150.0


def _terms(x):
    try:
        top = float(np.max(raw(x), initial=0.0))
    except Exception as error:  # noqa: BLE001
        from ...graph import ValueDependentError
        if not isinstance(error, ValueDependentError):
            raise
        top = FIXED_X_MAX
    n = int(np.ceil(top + 12 * np.sqrt(top) + 40))
    if not np.isfinite(top) or n > MAX_TERMS:
        raise NoRuleError(f"the derivative of the incomplete gamma function in its order 'a' is "
                          f"summed as a series, which needs {n} terms at x = {top:g} "
                          f"(more than {MAX_TERMS})")
    return np.arange(n, dtype=float), top


def dgammainc_da(a, x):
    """dP(a, x)/da by the series above (0 where x <= 0).

    Example:
        >>> h = 1e-6
        >>> fd = (sc.gammainc(2.0 + h, 1.5) - sc.gammainc(2.0 - h, 1.5)) / (2 * h)
        >>> bool(abs(dgammainc_da(2.0, 1.5) - fd) < 1e-9)
        True
    """
    a, x = _array(a + 0.0 * x), _array(x + 0.0 * a)  # broadcast, keeping whichever is traced
    inside = x > 0
    xs = np.where(inside, x, 1.0)
    n, top = _terms(xs)
    a_, x_ = a[..., None], xs[..., None]
    log_x = np.log(x_)
    log_term = (a_ + n) * log_x - x_ - sc.gammaln(a_ + n + 1)
    total = np.sum(np.exp(log_term) * (log_x - sc.digamma(a_ + n + 1)), axis=-1)
    total = np.where(x <= top, total, np.nan)  # never a truncated sum
    return np.where(inside, total, 0.0)


def _array(v):
    return v if hasattr(v, "shape") else np.asarray(v)


def _density(a, x):
    return np.exp(sc.xlogy(a - 1, x) - x - sc.gammaln(a))


gammainc_p = elementwise("stats.gammainc", sc.gammainc, lambda x, y: dgammainc_da(x, y),
                         lambda x, y: _density(x, y))
gammaincc_p = elementwise("stats.gammaincc", sc.gammaincc, lambda x, y: -dgammainc_da(x, y),
                          lambda x, y: -_density(x, y))
# x(a, q) with P(a, x) = q: dx/dq = 1 / density, dx/da = -(dP/da) / density.
gammaincinv_p = elementwise("stats.gammaincinv", sc.gammaincinv,
                            lambda x, ans: -dgammainc_da(x, ans) / _density(x, ans),
                            lambda x, ans: 1 / _density(x, ans))
