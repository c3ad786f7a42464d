"""The incomplete gamma and beta functions and Student's t distribution
function (and their inverses) with their derivatives in the shape parameters,
which have no closed form: summed from series, documented below. The values
are SciPy's own (gammainc, gammaincc, gammaincinv, betainc, betaincinv,
stdtr, stdtrit); the derivatives in x are the densities. Being NumPy and
scipy.special code, the derivatives are differentiable again (higher order).

The regularized incomplete gamma function P(a, x):

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

from ...arraylibs import asarray
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
    n = asarray(n, like=xs)
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


# ---- the regularized incomplete beta function I_x(a, b) ----
# I_x(a, b) = x^a (1-x)^b / (a B(a, b)) sum_n (a+b)_n / (a+1)_n x^n, every term
# positive; with log t_n = (a+n) log x + b log(1-x) - gammaln(b) + gammaln(a+b+n)
# - gammaln(a+1+n) (the prefactor folded in), term by term
#   dI/da = sum_n t_n (log x + digamma(a+b+n) - digamma(a+1+n)),
#   dI/db = sum_n t_n (log(1-x) - digamma(b) + digamma(a+b+n)).
# The term ratio x (a+b+n)/(a+1+n) stays below r = max(x, x (a+b)/(a+1)) < 1
# when x <= (a+1)/(a+b+2); otherwise I_x(a, b) = 1 - I_{1-x}(b, a) is summed.
FIXED_TERMS = 2500  # in a traced graph; a slower-converging point gives nan


def _beta_terms(r):
    try:
        worst = float(np.max(raw(r), initial=0.0))
    except Exception as error:  # noqa: BLE001
        from ...graph import ValueDependentError
        if not isinstance(error, ValueDependentError):
            raise
        return np.arange(FIXED_TERMS, dtype=float), np.exp(np.log(1e-17) / FIXED_TERMS)
    n = int(np.ceil(np.log(1e-17 * (1 - worst)) / np.log(max(worst, 1e-300)))) + 10
    if n > MAX_TERMS:
        raise NoRuleError(f"the derivative of the incomplete beta function in its parameters "
                          f"is summed as a series, which needs {n} terms here (more than {MAX_TERMS})")
    return np.arange(max(n, 1), dtype=float), 1.0


def _dbetainc_series(a, b, x):
    """(dI/da, dI/db) by the series, for x <= (a+1)/(a+b+2) and 0 < x < 1."""
    r = np.maximum(x, x * (a + b) / (a + 1))
    n, r_max = _beta_terms(r)
    n = asarray(n, like=r)
    a_, b_, x_ = a[..., None], b[..., None], x[..., None]
    log_x, log_1mx = np.log(x_), np.log1p(-x_)
    log_t = ((a_ + n) * log_x + b_ * log_1mx - sc.gammaln(b_) + sc.gammaln(a_ + b_ + n)
             - sc.gammaln(a_ + 1 + n))
    t = np.exp(log_t)
    psi_ab = sc.digamma(a_ + b_ + n)
    da = np.sum(t * (log_x + psi_ab - sc.digamma(a_ + 1 + n)), axis=-1)
    db = np.sum(t * (log_1mx - sc.digamma(b_) + psi_ab), axis=-1)
    ok = r <= r_max
    return np.where(ok, da, np.nan), np.where(ok, db, np.nan)


def dbetainc(a, b, x):
    """(dI_x(a, b)/da, dI_x(a, b)/db); 0 at x = 0 and x = 1.

    Example:
        >>> h = 1e-6
        >>> fd = (sc.betainc(2.0 + h, 3.0, 0.4) - sc.betainc(2.0 - h, 3.0, 0.4)) / (2 * h)
        >>> bool(abs(dbetainc(2.0, 3.0, 0.4)[0] - fd) < 1e-9)
        True
    """
    a, b, x = (_array(v + 0.0 * a + 0.0 * b + 0.0 * x) for v in (a, b, x))
    inside = (x > 0) & (x < 1)
    x = np.where(inside, x, 0.5)
    swap = x > (a + 1) / (a + b + 2)
    y, p, q = np.where(swap, 1 - x, x), np.where(swap, b, a), np.where(swap, a, b)
    dp, dq = _dbetainc_series(p, q, y)
    da, db = np.where(swap, -dq, dp), np.where(swap, -dp, dq)
    return np.where(inside, da, 0.0), np.where(inside, db, 0.0)


def _beta_density(a, b, x):
    return np.exp(sc.xlogy(a - 1, x) + sc.xlog1py(b - 1, -x) - sc.betaln(a, b))


betainc_p = elementwise("stats.betainc", sc.betainc, lambda x, y, z: dbetainc(x, y, z)[0],
                        lambda x, y, z: dbetainc(x, y, z)[1],
                        lambda x, y, z: _beta_density(x, y, z))
# x(a, b, q) with I_x(a, b) = q: dx/dq = 1 / density, dx/da = -(dI/da) / density...
betaincinv_p = elementwise("stats.betaincinv", sc.betaincinv,
                           lambda x, y, ans: -dbetainc(x, y, ans)[0] / _beta_density(x, y, ans),
                           lambda x, y, ans: -dbetainc(x, y, ans)[1] / _beta_density(x, y, ans),
                           lambda x, y, ans: 1 / _beta_density(x, y, ans))


# ---- Student's t distribution function F(t; df) ----
# For t > 0, F = 1 - I_u(df/2, 1/2) / 2 with u = df / (df + t^2) (t < 0: I/2), so
# dF/ddf = -sign(t) / 2 * (dI/da / 2 + beta density(u) * t^2 / (df + t^2)^2).
def dstdtr_ddf(df, t):
    """d stdtr(df, t) / d df.

    Example:
        >>> h = 1e-6
        >>> fd = (sc.stdtr(3.0 + h, 0.8) - sc.stdtr(3.0 - h, 0.8)) / (2 * h)
        >>> bool(abs(dstdtr_ddf(3.0, 0.8) - fd) < 1e-9)
        True
    """
    zero = t == 0  # F(0; df) = 1/2 for every df
    t = np.where(zero, 1.0, t)
    u = df / (df + t * t)
    da = dbetainc(df / 2, 0.5 + 0.0 * df, u)[0]
    du = t * t / (df + t * t) ** 2
    return np.where(zero, 0.0, -np.sign(t) / 2 * (da / 2 + _beta_density(df / 2, 0.5, u) * du))


def _t_density(df, t):
    return np.exp(sc.gammaln((df + 1) / 2) - sc.gammaln(df / 2) - 0.5 * np.log(df * np.pi)
                  - (df + 1) / 2 * np.log1p(t * t / df))


stdtr_p = elementwise("stats.stdtr", sc.stdtr, lambda x, y: dstdtr_ddf(x, y),
                      lambda x, y: _t_density(x, y))
stdtrit_p = elementwise("stats.stdtrit", sc.stdtrit,
                        lambda x, ans: -dstdtr_ddf(x, ans) / _t_density(x, ans),
                        lambda x, ans: 1 / _t_density(x, ans))
