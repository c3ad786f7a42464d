"""chainrule.scipy.stats: SciPy's values, signatures, defaults, broadcasting and
frozen forms on traced values, and named errors where a derivative has no rule.
(The op table, tests/ops/table_scipy_stats.py, checks the derivatives.)"""

import numpy as np
import pytest

import chainrule as cr

st = pytest.importorskip("scipy.stats")
from chainrule.scipy import stats as S  # noqa: E402

rng = np.random.default_rng(7)
X = rng.standard_normal((2, 3))
POS = rng.uniform(0.2, 3.0, (2, 3))
UNIT = rng.uniform(0.05, 0.95, (2, 3))
K = np.array([[0.0, 1.0, 2.0], [3.0, 5.0, 8.0]])
Q = np.array([0.05, 0.3, 0.8])

# name: (shapes, x); loc and scale given by keyword
CONTINUOUS = {
    "norm": ((), X), "t": ((np.array([2.5, 7.0, 30.0]),), X), "cauchy": ((), X), "laplace": ((), X),
    "logistic": ((), X), "expon": ((), POS), "gamma": ((np.array([[0.7], [3.0]]),), POS),
    "beta": ((2.0, np.array([0.8, 1.5, 4.0])), UNIT), "lognorm": ((0.6,), POS), "uniform": ((), UNIT),
    "chi2": ((np.array([1.0, 3.0, 9.0]),), POS), "vonmises": ((np.array([0.5, 2.0, 8.0]),), 2 * X),
}
DISCRETE = {
    "poisson": ((np.array([0.5, 2.0, 7.0]),), K), "binom": ((9, np.array([0.2, 0.5, 0.9])), K),
    "nbinom": ((np.array([0.5, 2.5, 6.0]), 0.4), K), "bernoulli": ((0.3,), np.clip(K, 0, 1)),
}


def traced_value(f, x):
    """f(x) computed on a reverse-mode box: the traced formulas, not SciPy's."""
    return cr.vjp(f, x)[0]


def close(got, want):
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-300)


@pytest.mark.parametrize("name", sorted(CONTINUOUS))
@pytest.mark.parametrize("method", ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf"])
def test_continuous_values_equal_scipys(name, method):
    shapes, x = CONTINUOUS[name]
    if method == "ppf":
        x = Q
    dist, ref = getattr(S, name), getattr(st, name)
    kw = dict(loc=0.1, scale=1.3) if name not in ("beta", "uniform") else dict(loc=-0.05, scale=1.1)
    got = traced_value(lambda x: getattr(dist, method)(x, *shapes, **kw), x)
    close(got, getattr(ref, method)(x, *shapes, **kw))


@pytest.mark.parametrize("name", sorted(DISCRETE))
@pytest.mark.parametrize("method", ["logpmf", "pmf", "cdf", "logcdf", "sf", "logsf"])
def test_discrete_values_equal_scipys(name, method):
    shapes, k = DISCRETE[name]
    dist, ref = getattr(S, name), getattr(st, name)
    *first, last = shapes  # the last parameter traced (the probability or the rate)
    got = traced_value(lambda p: getattr(dist, method)(k, *first, p), np.asarray(last, float))
    close(got, getattr(ref, method)(k, *shapes))


def test_outside_the_support_as_scipy():
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    for name, shapes in [("expon", ()), ("gamma", (2.0,)), ("beta", (2.0, 3.0)), ("uniform", ())]:
        for method in ("logpdf", "pdf", "cdf", "sf"):
            got = traced_value(lambda x: getattr(getattr(S, name), method)(x, *shapes), x)
            close(got, getattr(getattr(st, name), method)(x, *shapes))
    k = np.array([-1.0, 0.5, 2.0, 20.0])
    close(traced_value(lambda mu: S.poisson.logpmf(k, mu), 2.0), st.poisson.logpmf(k, 2.0))
    close(traced_value(lambda p: S.binom.cdf(k, 9, p), 0.3), st.binom.cdf(k, 9, 0.3))


def test_signatures_defaults_and_frozen_forms():
    f = lambda m, s: (S.norm.logpdf(X, m, s), S.norm.logpdf(X, scale=s, loc=m),  # noqa: E731
                      S.norm(m, s).logpdf(X), S.norm(loc=m, scale=s).cdf(X))
    for got in traced_value(lambda m: f(m, 2.0), 0.5)[:3]:
        close(got, st.norm.logpdf(X, 0.5, 2.0))
    close(traced_value(lambda x: S.norm.logpdf(x), X), st.norm.logpdf(X))
    close(traced_value(lambda a: S.gamma(a, scale=2.0).logpdf(POS), 1.5), st.gamma(1.5, scale=2.0).logpdf(POS))
    close(traced_value(lambda a: S.gamma.logpdf(POS, a=a), 1.5), st.gamma.logpdf(POS, 1.5))
    assert S.norm(0.0, 2.0).std() == 2.0  # other methods: SciPy's frozen distribution
    with pytest.raises(TypeError, match="missing"):
        cr.grad(lambda x: S.gamma.logpdf(x))(1.0)
    with pytest.raises(TypeError, match="unexpected"):
        cr.grad(lambda x: S.norm.logpdf(x, mu=1.0))(1.0)


def test_plain_values_are_scipys_own():
    assert S.norm.logpdf(0.3, 1.0, 2.0) == st.norm.logpdf(0.3, 1.0, 2.0)
    assert S.multivariate_normal.logpdf(np.ones(2), np.zeros(2), np.eye(2)) == \
        st.multivariate_normal.logpdf(np.ones(2), np.zeros(2), np.eye(2))


def test_multivariate_values_equal_scipys():
    a = rng.standard_normal((3, 3))
    cov = a @ a.T + np.eye(3)
    x, m = rng.standard_normal((5, 3)), rng.standard_normal(3)
    for c in (cov, np.array([0.5, 1.0, 2.0]), 1.7):
        close(traced_value(lambda x: S.multivariate_normal.logpdf(x, m, c), x),
              st.multivariate_normal.logpdf(x, m, c))
        close(traced_value(lambda x: S.multivariate_normal(m, c).pdf(x[0]), x),
              st.multivariate_normal(m, c).pdf(x[0]))
    close(traced_value(lambda x: S.multivariate_t.logpdf(x, m, cov, 4.5), x),
          st.multivariate_t.logpdf(x, m, cov, 4.5))
    close(traced_value(lambda x: S.multivariate_normal.logpdf(x), x[:, 0]),
          st.multivariate_normal.logpdf(x[:, 0]))
    p = rng.uniform(0.1, 1.0, (3, 4))
    p /= p.sum(0)
    close(traced_value(lambda a: S.dirichlet.logpdf(p, a), np.array([0.7, 2.0, 3.5])),
          st.dirichlet.logpdf(p, np.array([0.7, 2.0, 3.5])))


def test_vonmises_cdf_and_ppf_in_kappa():
    h = 1e-5  # central differences of SciPy's own cdf (its series, any x: the cdf is unwrapped)
    for x, k in [(0.5, 2.0), (-2.5, 0.3), (4.0, 3.0), (1.0, 40.0)]:
        fd = (st.vonmises.cdf(x, k + h) - st.vonmises.cdf(x, k - h)) / (2 * h)
        np.testing.assert_allclose(cr.grad(lambda k: S.vonmises.cdf(x, k))(k), fd, rtol=1e-6, atol=1e-11)
    assert np.isclose(cr.grad(lambda x: S.vonmises.cdf(x, 2.0))(0.5), st.vonmises.pdf(0.5, 2.0))
    q, k = 0.7, 2.0
    x = st.vonmises.ppf(q, k)
    np.testing.assert_allclose(cr.grad(lambda k: S.vonmises.ppf(q, k))(k),
                               -cr.grad(lambda k: S.vonmises.cdf(x, k))(k) / st.vonmises.pdf(x, k),
                               rtol=1e-9)


def test_beta_t_nbinom_cdfs_in_their_shapes_match_high_precision_values():
    # derivatives of the regularized incomplete beta function by mpmath at 30 digits
    for a, b, x, da, db in [(2.0, 3.0, 0.4, -0.24086937608755657, 0.15634433641359877),
                            (0.5, 0.5, 0.9, -0.2768155243583512, 0.5926200221433794),
                            (30.0, 2.0, 0.97, -0.011177067200527769, 0.2586720305140628),
                            (0.2, 5.0, 0.01, -1.6338075361393904, 0.02436346093812152)]:
        got = cr.grad(lambda a, b: S.beta.cdf(x, a, b), (0, 1))(a, b)
        np.testing.assert_allclose(got, (da, db), rtol=1e-11)
        np.testing.assert_allclose(cr.grad(lambda n: S.nbinom.cdf(3, n, x))(a),
                                   cr.grad(lambda n: S.beta.cdf(x, n, 4.0))(a), rtol=1e-13)
    h = 1e-5  # t's df and its quantile, against central differences of SciPy's own
    for df, t in [(3.0, 0.8), (1.5, -2.0), (30.0, 0.1)]:
        fd = (st.t.cdf(t, df + h) - st.t.cdf(t, df - h)) / (2 * h)
        np.testing.assert_allclose(cr.grad(lambda d: S.t.cdf(t, d))(df), fd, rtol=1e-6, atol=1e-12)
    q, df = 0.8, 4.0
    x = st.t.ppf(q, df)
    np.testing.assert_allclose(cr.grad(lambda d: S.t.ppf(q, d))(df),
                               -cr.grad(lambda d: S.t.cdf(x, d))(df) / st.t.pdf(x, df), rtol=1e-12)
    assert cr.grad(lambda d: S.t.cdf(0.0, d))(df) == 0.0  # F(0) = 1/2 for every df


def test_gamma_cdf_in_its_shape_matches_high_precision_values():
    # d/da P(a, x) by mpmath at 30 digits, for a small, moderate and large order
    cases = [(0.3, 0.01, -1.2403581253867568), (2.0, 1.5, -0.3134886378250793),
             (50.0, 40.0, -0.019821892882228662), (0.001, 2.0, -0.04905334583936488)]
    for a, x, want in cases:
        np.testing.assert_allclose(cr.grad(lambda a: S.gamma.cdf(x, a))(a), want, rtol=1e-12)
        np.testing.assert_allclose(cr.grad(lambda a: S.gamma.sf(x, a))(a), -want, rtol=1e-12)
    # chi2 is gamma(df / 2, scale=2); the quantile's derivative is implicit
    np.testing.assert_allclose(cr.grad(lambda df: S.chi2.cdf(3.0, df))(4.0), 0.5 * -0.3134886378250793,
                               rtol=1e-12)
    q = 0.3
    x = S.gamma.ppf(q, 2.0)
    np.testing.assert_allclose(cr.grad(lambda a: S.gamma.ppf(q, a))(2.0),
                               -cr.grad(lambda a: S.gamma.cdf(x, a))(2.0)
                               / S.gamma.pdf(x, 2.0), rtol=1e-12)


def test_shape_derivatives_of_the_densities_match_finite_differences():
    # the gamma shape through digamma, t's df, beta's shapes: the op table's lines
    # cover them in every mode; one spot check against central differences here
    f = lambda a, df: S.gamma.logpdf(1.3, a) + S.t.logpdf(0.4, df)  # noqa: E731
    ga, gdf = cr.grad(f, (0, 1))(2.2, 3.5)
    h = 1e-6
    np.testing.assert_allclose(ga, (f(2.2 + h, 3.5) - f(2.2 - h, 3.5)) / (2 * h), rtol=1e-7)
    np.testing.assert_allclose(gdf, (f(2.2, 3.5 + h) - f(2.2, 3.5 - h)) / (2 * h), rtol=1e-7)
