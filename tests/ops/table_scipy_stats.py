"""Op table: chainrule.scipy.stats, each distribution's methods differentiated in
x (or q), loc, scale and every continuous shape parameter.

One line per distribution for the densities and distribution functions
(logpdf, pdf, cdf, logcdf, sf, logsf), one for ppf. The distribution
functions' derivatives in a shape parameter are series (stats/_incomplete.py,
vonmises' in _continuous.py), checked here like every rule. A discrete
variable k is an integer: the lines differentiate the continuous parameters.
"""

import numpy as np

from chainrule.scipy import stats as S

from .spec import Op, pos, rand

NO_CS = ("rev", "fwd", "rev_rev", "fwd_rev", "check")  # every mode but the complex step
METHODS = ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")


def methods(dist, names=METHODS):
    """fun(x, *shapes, loc, scale) -> every method's value."""
    return lambda x, *p: tuple(getattr(dist, m)(x, *p[:-2], loc=p[-2], scale=p[-1]) for m in names)


def densities(dist):
    return methods(dist, ("logpdf", "pdf"))


def ppf(dist):
    return lambda q, *p: dist.ppf(q, *p[:-2], loc=p[-2], scale=p[-1])


def unit(*shape):
    return rand(*shape, low=0.1, high=0.9)


def real_cases(*shape_makers):
    """x, shapes..., loc, scale: broadcasting a vector x against scalar and column parameters."""
    return ((rand(3), *[m() for m in shape_makers], rand(), pos()),
            (rand(2, 3), *[m(2, 1) for m in shape_makers], rand(3), pos(2, 1)))


def positive_cases(*shape_makers):
    """x - loc > 0: loc below the smallest x."""
    return ((pos(3), *[m() for m in shape_makers], rand(low=-1.0, high=0.0) * 0.4, pos()),
            (pos(2, 3), *[m(2, 1) for m in shape_makers], -0.4 + 0 * rand(3), pos(2, 1)))


def unit_cases(*shape_makers):
    """(x - loc) / scale in (0, 1)."""
    return ((unit(3), *[m() for m in shape_makers], 0.1 * rand() - 0.05, 1.2 + 0.1 * rand()),
            (unit(2, 3), *[m(2, 1) for m in shape_makers], 0.05 * rand(3), 1.1 + 0.1 * rand(2, 1)))


def q_cases(*shape_makers):
    return ((unit(3), *[m() for m in shape_makers], rand(), pos()),
            (unit(2, 3), *[m(2, 1) for m in shape_makers], rand(3), pos(2, 1)))


def away(*shape):
    """Values bounded away from 0 (laplace's kink at its location)."""
    return np.where(rand(*shape) > 0, 1.0, -1.0) * pos(*shape)


def away_cases():
    return ((away(3), 0.1 * rand(), pos()), (away(2, 3), 0.1 * rand(3), pos(2, 1)))


def df(*shape):
    return pos(*shape, low=1.5, high=6.0)


def xshape(*shape):
    return pos(*shape, low=0.8, high=3.0)


def integers(*shape, high=6):
    return np.floor(pos(*shape, low=0.0, high=high))


# fmt: off
OPS = [
    Op("stats.norm", methods(S.norm), real_cases(), covers=("ndtr", "log_ndtr")),
    Op("stats.norm_ppf", ppf(S.norm), q_cases(), covers=("ndtri",), modes=NO_CS,
       notes="ndtri has no complex loop in SciPy"),
    Op("stats.t", densities(S.t), real_cases(df), covers=("gammaln", "log1p"), modes=NO_CS,
       notes="gammaln has no complex loop in SciPy"),
    Op("stats.t_cdf", methods(S.t), real_cases(df), covers=("stats.stdtr",), modes=NO_CS),
    Op("stats.t_ppf", ppf(S.t), q_cases(df), covers=("stats.stdtrit",), modes=NO_CS),
    Op("stats.cauchy", methods(S.cauchy), real_cases(), covers=("arctan",)),
    Op("stats.cauchy_ppf", ppf(S.cauchy), q_cases(), covers=("tan",)),
    Op("stats.laplace", methods(S.laplace), away_cases(), covers=("absolute",)),
    Op("stats.laplace_ppf", ppf(S.laplace), q_cases(), covers=("log",)),
    Op("stats.logistic", methods(S.logistic), real_cases(), covers=("expit", "log_expit"), modes=NO_CS,
       notes="expit has no complex loop in SciPy"),
    Op("stats.logistic_ppf", ppf(S.logistic), q_cases(), covers=("logit",), modes=NO_CS),
    Op("stats.expon", methods(S.expon), positive_cases(), covers=("expm1",)),
    Op("stats.expon_ppf", ppf(S.expon), q_cases(), covers=("log1p",)),
    Op("stats.gamma", densities(S.gamma), positive_cases(xshape), covers=("xlogy", "gammaln"), modes=NO_CS),
    Op("stats.gamma_cdf", methods(S.gamma), positive_cases(xshape), covers=("stats.gammainc", "stats.gammaincc"),
       modes=NO_CS),
    Op("stats.gamma_ppf", ppf(S.gamma), q_cases(xshape), covers=("stats.gammaincinv",), modes=NO_CS),
    Op("stats.chi2", densities(S.chi2), positive_cases(df), covers=("xlogy", "gammaln"), modes=NO_CS),
    Op("stats.chi2_cdf", methods(S.chi2), positive_cases(df), covers=("stats.gammainc",), modes=NO_CS),
    Op("stats.chi2_ppf", ppf(S.chi2), q_cases(df), covers=("stats.gammaincinv",), modes=NO_CS),
    Op("stats.beta", densities(S.beta), unit_cases(xshape, xshape), covers=("xlog1py", "betaln"), modes=NO_CS),
    Op("stats.beta_cdf", methods(S.beta), unit_cases(xshape, xshape), covers=("stats.betainc",), modes=NO_CS),
    Op("stats.beta_ppf", ppf(S.beta), q_cases(xshape, xshape), covers=("stats.betaincinv",), modes=NO_CS),
    Op("stats.lognorm", methods(S.lognorm), positive_cases(xshape), covers=("ndtr", "log_ndtr")),
    Op("stats.lognorm_ppf", ppf(S.lognorm), q_cases(xshape), covers=("ndtri",), modes=NO_CS),
    Op("stats.uniform", methods(S.uniform), unit_cases(), covers=("log",)),
    Op("stats.uniform_ppf", ppf(S.uniform), q_cases(), covers=("multiply",)),
    Op("stats.vonmises", densities(S.vonmises), real_cases(xshape), covers=("cos", "i0e"), modes=NO_CS,
       notes="i0e has no complex loop in SciPy"),
    Op("stats.vonmises_cdf", methods(S.vonmises, ("cdf", "sf")), real_cases(xshape),
       covers=("stats.vonmises_cdf",)),
    Op("stats.vonmises_ppf", ppf(S.vonmises), q_cases(xshape), covers=("stats.vonmises_ppf",), rtol=1e-6,
       notes="SciPy's quantile is a numerical root, accurate to about 1e-10"),
    # discrete: k is an integer; the continuous parameters are differentiated
    Op("stats.poisson", lambda k, mu: (S.poisson.logpmf(k, mu), S.poisson.pmf(k, mu)),
       ((integers(4), pos()), (integers(2, 3), pos(2, 1))), covers=("xlogy",), diff_args=(1,), modes=NO_CS),
    Op("stats.binom", lambda k, n, p: (S.binom.logpmf(k, n, p), S.binom.pmf(k, n, p)),
       ((integers(4), np.array(6.0), unit()), (integers(2, 3), np.array(7.0), unit(2, 1))),
       covers=("xlog1py",), diff_args=(2,), modes=NO_CS),
    Op("stats.binom_cdf", lambda k, n, p: (S.binom.cdf(k, n, p), S.binom.sf(k, n, p), S.binom.logcdf(k, n, p)),
       ((integers(4), np.array(6.0), unit()), (integers(2, 3), np.array(7.0), unit(2, 1))),
       covers=("stats.betainc",), diff_args=(2,), modes=NO_CS),
    Op("stats.nbinom", lambda k, n, p: (S.nbinom.logpmf(k, n, p), S.nbinom.pmf(k, n, p)),
       ((integers(4), xshape(), unit()), (integers(2, 3), xshape(2, 1), unit(3))),
       covers=("gammaln",), diff_args=(1, 2), modes=NO_CS),
    Op("stats.nbinom_cdf", lambda k, n, p: (S.nbinom.cdf(k, n, p), S.nbinom.logsf(k, n, p)),
       ((integers(4), xshape(), unit()), (integers(2, 3), xshape(2, 1), unit(3))),
       covers=("stats.betainc",), diff_args=(1, 2), modes=NO_CS),
    Op("stats.bernoulli", lambda k, p: (S.bernoulli.logpmf(k, p), S.bernoulli.pmf(k, p), S.bernoulli.cdf(k, p),
                                        S.bernoulli.sf(k, p)),
       ((np.array([0.0, 1.0, 1.0]), unit()), (np.array([[0.0], [1.0]]), unit(3))), covers=("xlogy",),
       diff_args=(1,)),
    Op("stats.poisson_cdf", lambda k, mu: (S.poisson.cdf(k, mu), S.poisson.sf(k, mu)),
       ((integers(4), pos()), (integers(2, 3), pos(3))), covers=("gammaincc",), diff_args=(1,),
       modes=NO_CS),
]
# fmt: on


def spd(*shape):
    x = rand(*shape)
    return x @ np.swapaxes(x, -1, -2) + np.diag(np.arange(1.0, shape[-1] + 1))


def simplex(k, *batch):
    """Points of the open simplex, components on the first axis (SciPy's layout)."""
    w = pos(k, *batch)
    return w / np.sum(w, axis=0)


# fmt: off
OPS += [
    Op("stats.multivariate_normal",
       lambda x, m, c: (S.multivariate_normal.logpdf(x, m, c), S.multivariate_normal(m, c).pdf(x)),
       ((rand(3), rand(3), spd(3, 3)), (rand(2, 2, 2), rand(2), spd(2, 2))),
       covers=("cholesky", "solve_triangular")),
    Op("stats.multivariate_normal_diag", lambda x, m, c: S.multivariate_normal.logpdf(x, m, c),
       ((rand(2, 3), rand(3), pos(3)), (rand(2), rand(2), pos())), covers=("cholesky",)),
    Op("stats.multivariate_t",
       lambda x, m, c, df: (S.multivariate_t.logpdf(x, m, c, df), S.multivariate_t.pdf(x, m, c, df)),
       ((rand(3), rand(3), spd(3, 3), df()), (rand(2, 2), rand(2), spd(2, 2), df())),
       covers=("cholesky", "gammaln"), modes=NO_CS),
    Op("stats.dirichlet", lambda x, a: (S.dirichlet.logpdf(x, a), S.dirichlet.pdf(x, a)),
       ((simplex(3), xshape(3)), (simplex(3, 4), xshape(3))), covers=("gammaln", "xlogy"), modes=NO_CS,
       diff_args=(1,), notes="x lives on the simplex (SciPy refuses other points): alpha is differentiated"),
]
# fmt: on
