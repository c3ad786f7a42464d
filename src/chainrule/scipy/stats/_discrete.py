"""Discrete distributions: log mass functions in xlogy/gammaln form (smooth in
the continuous parameters; k itself is an integer, so nothing flows to it),
and distribution functions through the incomplete gamma and beta functions."""

import numpy as np
import scipy.special as sc

from .. import special  # noqa: F401  (registers scipy.special's rules)
from ._distribution import Discrete
from ._incomplete import betainc_p


class poisson_gen(Discrete):
    name = "poisson"
    shapes = ("mu",)
    support = (0, np.inf)

    def _logpmf(self, k, mu):
        return sc.xlogy(k, mu) - sc.gammaln(k + 1) - mu

    def _cdf(self, k, mu):
        return sc.gammaincc(k + 1, mu)

    def _sf(self, k, mu):
        return sc.gammainc(k + 1, mu)


class binom_gen(Discrete):
    name = "binom"
    shapes = ("n", "p")

    def _bounds(self, n, p):
        return 0, n

    def _logpmf(self, k, n, p):
        return (sc.gammaln(n + 1) - sc.gammaln(k + 1) - sc.gammaln(n - k + 1)
                + sc.xlogy(k, p) + sc.xlog1py(n - k, -p))

    def _cdf(self, k, n, p):
        return betainc_p(n - k, k + 1, 1 - p)

    def _sf(self, k, n, p):
        return betainc_p(k + 1, n - k, p)


class nbinom_gen(Discrete):
    name = "nbinom"
    shapes = ("n", "p")
    support = (0, np.inf)

    def _logpmf(self, k, n, p):
        return (sc.gammaln(n + k) - sc.gammaln(k + 1) - sc.gammaln(n)
                + sc.xlogy(n, p) + sc.xlog1py(k, -p))

    def _cdf(self, k, n, p):
        return betainc_p(n, k + 1, p)

    def _sf(self, k, n, p):
        return betainc_p(k + 1, n, 1 - p)


class bernoulli_gen(Discrete):
    name = "bernoulli"
    shapes = ("p",)
    support = (0, 1)

    def _logpmf(self, k, p):
        return sc.xlogy(k, p) + sc.xlog1py(1 - k, -p)

    def _cdf(self, k, p):
        return np.where(k < 1, 1 - p, 1.0 + 0.0 * p)

    def _sf(self, k, p):
        return np.where(k < 1, p, 0.0 * p)


poisson = poisson_gen()
binom = binom_gen()
nbinom = nbinom_gen()
bernoulli = bernoulli_gen()
