"""Univariate continuous distributions, standardized (z = (x - loc) / scale).

Each is a few lines of NumPy and scipy.special on z and the shape
parameters: derivatives in z, loc, scale and the shapes follow from those
functions' rules (the gamma shape through digamma, t's df through digamma
and log1p). The distribution functions of gamma, beta, chi2 and t call the
incomplete gamma and beta functions and their inverses, differentiable in
x by the density and in the shape parameters by documented series
(_incomplete.py), whose derivative has no closed form. vonmises' cdf is
SciPy's series, differentiated in x by the density and in kappa by its
Fourier series.
"""

import numpy as np
import scipy.special as sc
import scipy.stats as _st

from ...core.primitive import Primitive, elementwise
from ...core.trace import raw
from .. import special  # noqa: F401  (registers scipy.special's rules)
from .._complex_step import continued
from ._distribution import Distribution
from ._incomplete import (betainc_p, betaincinv_p, gammainc_p, gammaincc_p, gammaincinv_p,
                          stdtr_p, stdtrit_p)

_LOG_2PI = np.log(2 * np.pi)
_LOG_2 = np.log(2.0)


class norm_gen(Distribution):
    name = "norm"

    def _logpdf(self, z):
        return -0.5 * z * z - 0.5 * _LOG_2PI

    def _cdf(self, z):
        return sc.ndtr(z)

    def _sf(self, z):
        return sc.ndtr(-z)

    def _logcdf(self, z):
        return sc.log_ndtr(z)

    def _logsf(self, z):
        return sc.log_ndtr(-z)

    def _ppf(self, q):
        return sc.ndtri(q)


class t_gen(Distribution):
    name = "t"
    shapes = ("df",)

    def _logpdf(self, z, df):
        return (sc.gammaln((df + 1) / 2) - sc.gammaln(df / 2) - 0.5 * np.log(df * np.pi)
                - (df + 1) / 2 * np.log1p(z * z / df))

    def _cdf(self, z, df):
        return stdtr_p(df, z)

    def _sf(self, z, df):
        return stdtr_p(df, -z)

    def _ppf(self, q, df):
        return stdtrit_p(df, q)


class cauchy_gen(Distribution):
    name = "cauchy"

    def _logpdf(self, z):
        return -np.log(np.pi) - np.log1p(z * z)

    def _cdf(self, z):
        return 0.5 + np.arctan(z) / np.pi

    def _sf(self, z):
        return 0.5 - np.arctan(z) / np.pi

    def _ppf(self, q):
        return np.tan(np.pi * (q - 0.5))


class laplace_gen(Distribution):
    name = "laplace"

    def _logpdf(self, z):
        return -_LOG_2 - np.abs(z)

    def _cdf(self, z):
        half_tail = 0.5 * np.exp(-np.abs(z))
        return np.where(z < 0, half_tail, 1.0 - half_tail)

    def _sf(self, z):
        return self._cdf(-z)

    def _ppf(self, q):
        return np.where(q < 0.5, np.log(2 * q), -np.log(2 - 2 * q))


class logistic_gen(Distribution):
    name = "logistic"

    def _logpdf(self, z):
        a = np.abs(z)
        return -a - 2 * np.log1p(np.exp(-a))

    def _cdf(self, z):
        return sc.expit(z)

    def _sf(self, z):
        return sc.expit(-z)

    def _logcdf(self, z):
        return sc.log_expit(z)

    def _logsf(self, z):
        return sc.log_expit(-z)

    def _ppf(self, q):
        return sc.logit(q)


class expon_gen(Distribution):
    name = "expon"
    support = (0.0, np.inf)
    safe = 1.0

    def _logpdf(self, z):
        return -z

    def _cdf(self, z):
        return -np.expm1(-z)

    def _sf(self, z):
        return np.exp(-z)

    def _logcdf(self, z):
        return np.log(-np.expm1(-z))

    def _logsf(self, z):
        return -z

    def _ppf(self, q):
        return -np.log1p(-q)


class gamma_gen(Distribution):
    name = "gamma"
    shapes = ("a",)
    support = (0.0, np.inf)
    safe = 1.0

    def _logpdf(self, z, a):
        return sc.xlogy(a - 1.0, z) - z - sc.gammaln(a)

    def _cdf(self, z, a):
        return gammainc_p(a, z)

    def _sf(self, z, a):
        return gammaincc_p(a, z)

    def _ppf(self, q, a):
        return gammaincinv_p(a, q)


class chi2_gen(Distribution):
    name = "chi2"
    shapes = ("df",)
    support = (0.0, np.inf)
    safe = 1.0

    def _logpdf(self, z, df):
        half = df / 2
        return sc.xlogy(half - 1, z) - z / 2 - sc.gammaln(half) - half * _LOG_2

    def _cdf(self, z, df):
        return gammainc_p(df / 2, z / 2)

    def _sf(self, z, df):
        return gammaincc_p(df / 2, z / 2)

    def _ppf(self, q, df):
        return 2 * gammaincinv_p(df / 2, q)


class beta_gen(Distribution):
    name = "beta"
    shapes = ("a", "b")
    support = (0.0, 1.0)
    safe = 0.5

    def _logpdf(self, z, a, b):
        return sc.xlogy(a - 1.0, z) + sc.xlog1py(b - 1.0, -z) - sc.betaln(a, b)

    def _cdf(self, z, a, b):
        return betainc_p(a, b, z)

    def _sf(self, z, a, b):
        return betainc_p(b, a, 1.0 - z)

    def _ppf(self, q, a, b):
        return betaincinv_p(a, b, q)


class lognorm_gen(Distribution):
    name = "lognorm"
    shapes = ("s",)
    support = (0.0, np.inf)
    safe = 1.0

    def _logpdf(self, z, s):
        logz = np.log(z)
        return -logz - np.log(s) - 0.5 * _LOG_2PI - 0.5 * (logz / s) ** 2

    def _cdf(self, z, s):
        return sc.ndtr(np.log(z) / s)

    def _sf(self, z, s):
        return sc.ndtr(-np.log(z) / s)

    def _logcdf(self, z, s):
        return sc.log_ndtr(np.log(z) / s)

    def _logsf(self, z, s):
        return sc.log_ndtr(-np.log(z) / s)

    def _ppf(self, q, s):
        return np.exp(s * sc.ndtri(q))


class uniform_gen(Distribution):
    name = "uniform"
    support = (0.0, 1.0)
    safe = 0.5

    def _logpdf(self, z):
        return 0.0 * z

    def _cdf(self, z):
        return z

    def _sf(self, z):
        return 1.0 - z

    def _ppf(self, q):
        return q


# vonmises' cdf is SciPy's numerical series. In x its derivative is the density;
# in kappa it is summed from the Fourier series of the cdf,
#   F(x) = 1/2 + x / (2 pi) + (1 / pi) sum_n r_n sin(n x) / n,  r_n = I_n(kappa) / I_0(kappa),
# term by term with r_n' = (r_(n-1) + r_(n+1)) / 2 - r_n r_1 (Bessel recurrences);
# r_n falls like exp(-n^2 / (2 kappa)), so 9 sqrt(kappa) + 40 terms reach rounding.
def dvonmises_cdf_dkappa(z, kappa):
    """dF(z; kappa)/dkappa.

    Example:
        >>> h = 1e-6
        >>> fd = (_st.vonmises.cdf(0.5, 2.0 + h) - _st.vonmises.cdf(0.5, 2.0 - h)) / (2 * h)
        >>> bool(abs(dvonmises_cdf_dkappa(0.5, 2.0) - fd) < 1e-8)
        True
    """
    z, kappa = z + 0.0 * kappa, kappa + 0.0 * z
    z = z if hasattr(z, "shape") else np.asarray(z)
    kappa = kappa if hasattr(kappa, "shape") else np.asarray(kappa)
    try:
        top = float(np.max(raw(kappa), initial=0.0))
    except Exception as error:  # noqa: BLE001  (a traced graph: no values)
        from ...graph import ValueDependentError
        if not isinstance(error, ValueDependentError):
            raise
        top = 100.0
    terms = np.arange(int(np.ceil(9 * np.sqrt(top) + 40)) + 2, dtype=float)
    k_ = kappa[..., None]
    r = sc.ive(terms, k_) / sc.i0e(k_)  # r_0 = 1, r_1, ..., one past the last term
    n = terms[1:-1]
    dr = (r[..., :-2] + r[..., 2:]) / 2 - r[..., 1:-1] * r[..., 1:2]
    total = np.sum(dr * np.sin(n * z[..., None]) / n, axis=-1) / np.pi
    return np.where(kappa <= top, total, np.nan)  # never a truncated sum


def _vonmises_cdf_jvp(tangents, args, ans, params):
    z, kappa = args
    tz, tk = tangents
    out = None if tz is None else tz * vonmises.pdf(z, kappa)
    if tk is not None:
        dk = tk * dvonmises_cdf_dkappa(z, kappa)
        out = dk if out is None else out + dk
    return out


def _vonmises_cdf_vjp(g, res, params, which):
    (z, kappa), _ = res
    return [g * vonmises.pdf(z, kappa) if i == 0 else g * dvonmises_cdf_dkappa(z, kappa)
            for i in which]


vonmises_cdf_p = continued(Primitive("stats.vonmises_cdf", lambda z, kappa: _st.vonmises.cdf(z, kappa),
                                     _vonmises_cdf_jvp, _vonmises_cdf_vjp))


class vonmises_gen(Distribution):
    name = "vonmises"
    shapes = ("kappa",)

    def _logpdf(self, z, kappa):
        # i0e(kappa) = i0(kappa) exp(-kappa): no overflow for a large concentration
        return kappa * (np.cos(z) - 1.0) - _LOG_2PI - np.log(sc.i0e(kappa))

    def _cdf(self, z, kappa):
        return vonmises_cdf_p(z, kappa)

    def _ppf(self, q, kappa):
        return vonmises_ppf_p(q, kappa)


norm = norm_gen()
t = t_gen()
cauchy = cauchy_gen()
laplace = laplace_gen()
logistic = logistic_gen()
expon = expon_gen()
gamma = gamma_gen()
chi2 = chi2_gen()
beta = beta_gen()
lognorm = lognorm_gen()
uniform = uniform_gen()
vonmises = vonmises_gen()
# SciPy's numerical quantile x(q, kappa), F(x; kappa) = q: dx/dq = 1 / density and
# dx/dkappa = -(dF/dkappa) / density (the implicit function theorem).
vonmises_ppf_p = continued(elementwise(
    "stats.vonmises_ppf", lambda q, kappa: _st.vonmises.ppf(q, kappa),
    lambda x, y, ans: 1 / vonmises.pdf(ans, y),
    lambda x, y, ans: -dvonmises_cdf_dkappa(ans, y) / vonmises.pdf(ans, y)))
