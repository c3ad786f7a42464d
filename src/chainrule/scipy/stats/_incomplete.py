"""The incomplete gamma and beta functions (and Student's t distribution
function) as the distributions use them.

Where scipy.special's own rule is registered (chainrule.scipy.special), that
is used. Otherwise these primitives give the derivative in the variable x
(the density: closed form) and raise a NoRuleError naming the shape
parameter, whose derivative has no closed form. The inverses (used by ppf)
likewise: their derivative in q is one over the density at the quantile.
"""

import numpy as np
import scipy.special as sc

from ...core.errors import NoRuleError
from ...core.primitive import UFUNCS, elementwise


def _no_rule(function, parameter):
    def partial():
        raise NoRuleError(f"{function} has no derivative rule in its shape parameter "
                          f"{parameter!r} (no closed form); it is differentiable in x")
    return partial


def _gamma_density(a, x):
    return np.exp(sc.xlogy(a - 1, x) - x - sc.gammaln(a))


def _beta_density(a, b, x):
    return np.exp(sc.xlogy(a - 1, x) + sc.xlog1py(b - 1, -x) - sc.betaln(a, b))


def _t_density(df, t):
    return np.exp(sc.gammaln((df + 1) / 2) - sc.gammaln(df / 2) - 0.5 * np.log(df * np.pi)
                  - (df + 1) / 2 * np.log1p(t * t / df))


# fmt: off
PRIMITIVES = {
    sc.gammainc:    elementwise("stats.gammainc", sc.gammainc, _no_rule("gammainc", "a"),
                                lambda x, y: _gamma_density(x, y)),
    sc.gammaincc:   elementwise("stats.gammaincc", sc.gammaincc, _no_rule("gammaincc", "a"),
                                lambda x, y: -_gamma_density(x, y)),
    sc.betainc:     elementwise("stats.betainc", sc.betainc, _no_rule("betainc", "a"),
                                _no_rule("betainc", "b"), lambda x, y, z: _beta_density(x, y, z)),
    sc.stdtr:       elementwise("stats.stdtr", sc.stdtr, _no_rule("stdtr", "df"),
                                lambda x, y: _t_density(x, y)),
    sc.gammaincinv: elementwise("stats.gammaincinv", sc.gammaincinv, _no_rule("gammaincinv", "a"),
                                lambda x, ans: 1 / _gamma_density(x, ans)),
    sc.betaincinv:  elementwise("stats.betaincinv", sc.betaincinv, _no_rule("betaincinv", "a"),
                                _no_rule("betaincinv", "b"),
                                lambda x, y, ans: 1 / _beta_density(x, y, ans)),
    sc.stdtrit:     elementwise("stats.stdtrit", sc.stdtrit, _no_rule("stdtrit", "df"),
                                lambda x, ans: 1 / _t_density(x, ans)),
}
# fmt: on


def special(ufunc, *args):
    """ufunc(*args) by scipy.special's registered rule if there is one, else ours."""
    if ufunc in UFUNCS:
        return ufunc(*args)
    return PRIMITIVES[ufunc](*args)
