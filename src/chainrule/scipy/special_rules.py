"""The rules of scipy.special's ufuncs: one line each, a partial per argument.

Each entry is the local partial derivative of the ufunc with respect to each
argument, as in `chainrule.rules.elementwise` (parameters `x`, `y`, `z`, `w`
are the arguments by position, `ans` the output). Most partials are SciPy
functions themselves (the Bessel recurrences, the densities of the
distribution functions), so second derivatives follow when those have rules.

Arguments without a derivative raise a NoRuleError naming the argument, only
when that argument is traced: an integer order (`jn`'s n, `bdtr`'s k), or a
parameter whose derivative has no closed form (`gammainc`'s a, `jv`'s order).

Example:
    >>> import numpy as np, scipy.special as sc, chainrule as cr
    >>> import chainrule.scipy.special  # registers the rules
    >>> round(float(cr.grad(lambda x: sc.gammainc(2.0, x))(1.0)), 12)  # x e^-x
    0.367879441171
"""

import numpy as np
import scipy.special as sc

from ..arraylibs import foreign
from ..core.errors import ArrayLibraryError, NoRuleError
from ..core.primitive import Primitive
from ..core.trace import Box, raw

_SQRT_PI = np.sqrt(np.pi)
_SQRT_2PI = np.sqrt(2 * np.pi)
_DEG = np.pi / 180


def no_closed_form(ufunc, arg):
    """A partial that raises: `ufunc` has no closed-form derivative in `arg`."""
    def partial():
        raise NoRuleError(
            f"scipy.special.{ufunc} has no derivative rule in its argument {arg!r} "
            "(no closed form in terms of SciPy functions); pass that argument as a "
            "constant (its other arguments are differentiable).")
    return partial


def integer(ufunc, arg, other="SciPy drops its fractional part"):
    """A partial that raises: `arg` of `ufunc` is an integer (a count or an
    order); `other` says what SciPy does with a value that is not one."""
    def partial():
        raise NoRuleError(
            f"scipy.special.{ufunc}: its argument {arg!r} is an integer ({other}), which "
            "has no derivative; pass it as a constant.")
    return partial


_NAN = "SciPy returns nan at other values"


def _real(ufunc, z):
    """z, refused when complex: `ufunc` is not holomorphic there (it scales by
    exp(-|Re z|) or exp(-|Im z|)), so no partial times a tangent is its JVP."""
    if np.dtype(getattr(z, "dtype", type(z))).kind == "c":
        raise NoRuleError(
            f"scipy.special.{ufunc} is not holomorphic in a complex argument (an "
            "exponential scaling by |Re z| or |Im z|); differentiate the unscaled function.")
    return z


def _expn_dx(n, x):
    """E_n' = -E_(n-1) for n >= 1; E_0(x) = e^-x / x."""
    return np.where(n >= 1, -sc.expn(np.maximum(n - 1, 0), x), -sc.expn(0, x) * (1 + 1 / x))


# polygamma(n, x) = d^n/dx^n digamma(x); n is static.
def _polygamma_value(x, n):
    """sc.polygamma(n, x) by SciPy's own formula, from ufuncs only (SciPy's
    function converts x with np.asarray, which computes a Dask array)."""
    if np.ndim(n) == 0 and int(n) == 0:
        return sc.psi(x)
    fac = (-1.0) ** (np.add(n, 1)) * sc.gamma(np.add(n, 1.0))
    return np.where(np.equal(n, 0), sc.psi(x), fac * sc.zeta(np.add(n, 1), x))


polygamma_p = Primitive(
    "polygamma", _polygamma_value,
    jvp=lambda tangents, args, ans, params: tangents[0] * _dpolygamma(params["n"], args[0]),
    vjp=lambda g, res, params, which: [g * _dpolygamma(params["n"], res[0][0])])


def polygamma(n, x):
    """scipy.special.polygamma; differentiable in x (n is an integer order).

    Example:
        >>> import chainrule as cr
        >>> round(float(cr.grad(lambda x: polygamma(0, x))(1.0)), 12)  # pi^2 / 6
        1.644934066848
    """
    if isinstance(n, Box):
        n = raw(n)
    return polygamma_p(x, n=n)


def _dpolygamma(n, x):
    """d/dx polygamma(n, x) = polygamma(n + 1, x), refused at complex x."""
    if np.iscomplexobj(raw(x)):
        raise NoRuleError(
            "scipy.special.polygamma has no complex version, so chainrule has no derivative "
            "of digamma or polygamma (nor a second derivative of gamma) at complex input")
    return polygamma(n + 1, x)


# ---- densities used by the distribution functions ----
def _gamma_pdf(a, x):
    """x^(a-1) e^-x / Gamma(a): the derivative of gammainc(a, x) in x."""
    return np.exp((a - 1) * np.log(x) - x - sc.gammaln(a))


def _beta_pdf(a, b, x):
    """x^(a-1) (1-x)^(b-1) / B(a, b): the derivative of betainc(a, b, x) in x."""
    return np.exp((a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - sc.betaln(a, b))


def _t_pdf(df, t):
    return np.exp(sc.gammaln((df + 1) / 2) - sc.gammaln(df / 2) - 0.5 * np.log(df * np.pi)
                  - (df + 1) / 2 * np.log1p(t * t / df))


def _f_pdf(dfn, dfd, x):
    """The F density: d/dx betainc(dfn/2, dfd/2, dfn x / (dfd + dfn x))."""
    u = dfn * x / (dfd + dfn * x)
    return _beta_pdf(dfn / 2, dfd / 2, u) * dfn * dfd / (dfd + dfn * x) ** 2


def _bdtr_dp(k, n, p):
    """d/dp bdtr(k, n, p) = d/dp betainc(n - k, k + 1, 1 - p), k and n read
    rounded toward zero; 0 where the function is constant (k < 0 or k >= n)."""
    k, n = np.trunc(k), np.trunc(n)
    inside = (k >= 0) & (k < n)
    return np.where(inside, -_beta_pdf(np.where(inside, n - k, 1), k + 1, 1 - p), 0.0)


def _nbdtr_dp(k, n, p):
    """d/dp nbdtr(k, n, p) = d/dp betainc(n, k + 1, p), k and n read rounded toward zero."""
    return _beta_pdf(np.trunc(n), np.trunc(k) + 1, p)


def _pdtr_dm(k, m):
    """d/dm pdtr(k, m) = d/dm gammaincc(k + 1, m)."""
    return -_gamma_pdf(np.floor(k) + 1, m)


def _chdtr_dx(v, x):
    return _gamma_pdf(v / 2, x / 2) / 2


def _ncx2_pdf(x, df, nc):
    """The noncentral chi-square density, with the scaled Bessel function."""
    s = np.sqrt(nc * x)
    return (np.exp(-(x + nc) / 2 + s) / 2 * (x / nc) ** (df / 4 - 0.5)
            * sc.ive(df / 2 - 1, s))


def _gdtr_dx(a, b, x):
    return a * _gamma_pdf(b, a * x)


def _owens_t_dh(h, a):
    return -np.exp(-h * h / 2) * sc.erf(a * h / np.sqrt(2)) / (2 * _SQRT_2PI)


def _owens_t_da(h, a):
    return np.exp(-h * h * (1 + a * a) / 2) / (2 * np.pi * (1 + a * a))


# ---- elliptic integrals ----
def _ellipk_dm(m, ans):
    return (sc.ellipe(m) - (1 - m) * ans) / (2 * m * (1 - m))


def _ellipkinc_dm(phi, m, ans):
    s = np.sin(phi)
    delta = np.sqrt(1 - m * s * s)
    return (sc.ellipeinc(phi, m) / (2 * m * (1 - m)) - ans / (2 * m)
            - np.sin(2 * phi) / (4 * (1 - m) * delta))


def _agm_da(a, b, ans):
    """agm(a, b) = pi (a + b) / (4 K(m)), m = ((a - b) / (a + b))^2 (a != b)."""
    m = ((a - b) / (a + b)) ** 2
    k = sc.ellipk(m)
    dk_dm = (sc.ellipe(m) - (1 - m) * k) / (2 * m * (1 - m))
    dm_da = 4 * (a - b) * b / (a + b) ** 3
    return ans / (a + b) - ans / k * dk_dm * dm_da


# ---- Voigt profile, through the Faddeeva function w ----
def _wofz_dz(z, ans):
    return -2 * z * ans + 2j / _SQRT_PI


def _voigt_w(x, sigma, gamma):
    z = (x + 1j * gamma) / (sigma * np.sqrt(2))
    return z, sc.wofz(z)


def _voigt_dx(x, y, z):
    zz, w = _voigt_w(x, y, z)
    return np.real(_wofz_dz(zz, w)) / (2 * _SQRT_PI * y * y)


def _voigt_dsigma(x, y, z, ans):
    zz, w = _voigt_w(x, y, z)
    return -ans / y - np.real(_wofz_dz(zz, w) * zz) / (y * y * _SQRT_2PI)


def _voigt_dgamma(x, y, z):
    zz, w = _voigt_w(x, y, z)
    return -np.imag(_wofz_dz(zz, w)) / (2 * _SQRT_PI * y * y)


def _pseudo_huber_ddelta(x, y, ans):
    s = np.sqrt(1 + (y / x) ** 2)
    return 2 * x * (s - 1) - y * y / (x * s)


def _huber_dr(x, y):
    return np.where(np.abs(y) <= x, y, x * np.sign(y))


def _huber_ddelta(x, y):
    return np.where(np.abs(y) <= x, 0.0, np.abs(y) - x)


def _lower(n):
    """The degree n - 1 of a derivative: an integer degree stays an integer
    degree >= 0 (SciPy's polynomial), a real degree is SciPy's continuation
    (a hypergeometric function), for which the recurrences hold unchanged."""
    if _is_int(n):
        return np.maximum(n - 1, 0)
    return n - 1.0


def _lower0(n):
    """_lower(n), but 0 at the integer degrees <= 0 (see _from_1)."""
    if _is_int(n):
        return np.maximum(n - 1, 0)
    return np.where((n <= 0) & (n == np.floor(n)), 0.0, n - 1.0)


def _from_1(n):
    """1, but 0 at the integer degrees <= 0 (where SciPy's Laguerre, Gegenbauer
    and Jacobi functions are constant: 1 at degree 0, 0 below)."""
    if _is_int(n):
        return np.where(n >= 1, 1, 0)
    return np.where((n <= 0) & (n == np.floor(n)), 0, 1)


def _is_int(n):
    return np.dtype(getattr(n, "dtype", type(n))).kind in "iub"


def _legendre_dx(n, x, ans):
    if _is_int(n):  # SciPy reads a negative integer degree as P_(-n-1) = P_n
        n = np.where(n < 0, -n - 1, n)
    return n * (x * ans - sc.eval_legendre(_lower(n), x)) / (x * x - 1)


def _chebyt_dx(n, x):
    """d/dx T_n(x) = n U_(n-1)(x); SciPy reads a negative integer degree as T_(-n) = T_n."""
    if _is_int(n):
        n = np.abs(n)
    return n * sc.eval_chebyu(_lower(n), x)


def _chebyu_dx(n, x, ans):
    return ((n + 1) * sc.eval_chebyt(n + 1, x) - x * ans) / (x * x - 1)


def degree(ufunc):
    """A partial that raises: the degree n of an orthogonal polynomial."""
    def partial():
        raise NoRuleError(
            f"scipy.special.{ufunc} has no derivative rule in its degree 'n' (an integer "
            "degree has none; SciPy's continuation to a real degree has no closed-form "
            "derivative in terms of SciPy functions); pass it as a constant.")
    return partial


def _lpmv_dx(m, v, x, ans):
    if type(foreign(x)).__module__.startswith("cupy"):  # measured on a GPU
        raise ArrayLibraryError(
            "the derivative of scipy.special.lpmv on CuPy arrays: CuPy's lpmv disagrees "
            "with SciPy's at the orders the rule needs; compute it on NumPy arrays.")
    return (v * x * ans - (v + m) * sc.lpmv(m, v - 1, x)) / (x * x - 1)


# fmt: off
UFUNC_RULES = {
    # ufunc:       (name, partial per argument...)
    # -- gamma and beta functions --
    sc.gamma:      ("gamma", lambda x, ans: ans * sc.digamma(x)),
    sc.gammaln:    ("gammaln", lambda x: sc.digamma(x)),
    sc.loggamma:   ("loggamma", lambda x: sc.digamma(x)),
    sc.rgamma:     ("rgamma", lambda x, ans: -ans * sc.digamma(x)),
    sc.digamma:    ("digamma", lambda x: _dpolygamma(0, x)),
    sc.beta:       ("beta", lambda x, y, ans: ans * (sc.digamma(x) - sc.digamma(x + y)),
                    lambda x, y, ans: ans * (sc.digamma(y) - sc.digamma(x + y))),
    sc.betaln:     ("betaln", lambda x, y: sc.digamma(x) - sc.digamma(x + y),
                    lambda x, y: sc.digamma(y) - sc.digamma(x + y)),
    sc.binom:      ("binom", lambda x, y, ans: ans * (sc.digamma(x + 1) - sc.digamma(x - y + 1)),
                    lambda x, y, ans: ans * (sc.digamma(x - y + 1) - sc.digamma(y + 1))),
    sc.poch:       ("poch", lambda x, y, ans: ans * (sc.digamma(x + y) - sc.digamma(x)),
                    lambda x, y, ans: ans * sc.digamma(x + y)),
    # -- incomplete gamma and beta: densities in x; no closed form in a, b --
    sc.gammainc:   ("gammainc", no_closed_form("gammainc", "a"), lambda x, y: _gamma_pdf(x, y)),
    sc.gammaincc:  ("gammaincc", no_closed_form("gammaincc", "a"), lambda x, y: -_gamma_pdf(x, y)),
    sc.gammaincinv: ("gammaincinv", no_closed_form("gammaincinv", "a"),
                     lambda x, ans: 1 / _gamma_pdf(x, ans)),
    sc.gammainccinv: ("gammainccinv", no_closed_form("gammainccinv", "a"),
                      lambda x, ans: -1 / _gamma_pdf(x, ans)),
    sc.betainc:    ("betainc", no_closed_form("betainc", "a"), no_closed_form("betainc", "b"),
                    lambda x, y, z: _beta_pdf(x, y, z)),
    sc.betaincc:   ("betaincc", no_closed_form("betaincc", "a"), no_closed_form("betaincc", "b"),
                    lambda x, y, z: -_beta_pdf(x, y, z)),
    sc.betaincinv: ("betaincinv", no_closed_form("betaincinv", "a"),
                    no_closed_form("betaincinv", "b"), lambda x, y, ans: 1 / _beta_pdf(x, y, ans)),
    sc.betainccinv: ("betainccinv", no_closed_form("betainccinv", "a"),
                     no_closed_form("betainccinv", "b"), lambda x, y, ans: -1 / _beta_pdf(x, y, ans)),
    # -- error functions and the normal distribution --
    sc.erf:        ("erf", lambda x: 2 / _SQRT_PI * np.exp(-x * x)),
    sc.erfc:       ("erfc", lambda x: -2 / _SQRT_PI * np.exp(-x * x)),
    sc.erfcx:      ("erfcx", lambda x, ans: 2 * x * ans - 2 / _SQRT_PI),
    sc.erfi:       ("erfi", lambda x: 2 / _SQRT_PI * np.exp(x * x)),
    sc.erfinv:     ("erfinv", lambda ans: _SQRT_PI / 2 * np.exp(ans * ans)),
    sc.erfcinv:    ("erfcinv", lambda ans: -_SQRT_PI / 2 * np.exp(ans * ans)),
    sc.dawsn:      ("dawsn", lambda x, ans: 1 - 2 * x * ans),
    sc.wofz:       ("wofz", lambda x, ans: _wofz_dz(x, ans)),
    sc.voigt_profile: ("voigt_profile", _voigt_dx, _voigt_dsigma, _voigt_dgamma),
    sc.ndtr:       ("ndtr", lambda x: np.exp(-x * x / 2) / _SQRT_2PI),
    sc.log_ndtr:   ("log_ndtr", lambda x, ans: np.exp(-x * x / 2 - ans) / _SQRT_2PI),
    sc.ndtri:      ("ndtri", lambda ans: _SQRT_2PI * np.exp(ans * ans / 2)),
    sc.ndtri_exp:  ("ndtri_exp", lambda x, ans: _SQRT_2PI * np.exp(x + ans * ans / 2)),
    sc.nrdtrimn:   ("nrdtrimn", lambda x, y: -y * _SQRT_2PI * np.exp(sc.ndtri(x) ** 2 / 2),
                    lambda x: -sc.ndtri(x), 1),
    sc.nrdtrisd:   ("nrdtrisd", lambda y: -1 / sc.ndtri(y),
                    lambda y, ans: -ans / sc.ndtri(y) * _SQRT_2PI * np.exp(sc.ndtri(y) ** 2 / 2),
                    lambda y: 1 / sc.ndtri(y)),
    sc.owens_t:    ("owens_t", lambda x, y: _owens_t_dh(x, y), lambda x, y: _owens_t_da(x, y)),
    # -- logistic and information functions --
    sc.expit:      ("expit", lambda ans: ans * (1 - ans)),
    sc.log_expit:  ("log_expit", lambda x: sc.expit(-x)),
    sc.logit:      ("logit", lambda x: 1 / (x * (1 - x))),
    sc.xlogy:      ("xlogy", lambda y: np.log(y), lambda x, y: x / y),
    sc.xlog1py:    ("xlog1py", lambda y: np.log1p(y), lambda x, y: x / (1 + y)),
    sc.entr:       ("entr", lambda x: -np.log(x) - 1),
    sc.rel_entr:   ("rel_entr", lambda x, y: np.log(x / y) + 1, lambda x, y: -x / y),
    sc.kl_div:     ("kl_div", lambda x, y: np.log(x / y), lambda x, y: 1 - x / y),
    sc.huber:      ("huber", _huber_ddelta, _huber_dr),
    sc.pseudo_huber: ("pseudo_huber", _pseudo_huber_ddelta,
                      lambda x, y: y / np.sqrt(1 + (y / x) ** 2)),
    sc.boxcox:     ("boxcox", lambda x, y: x ** (y - 1),
                    lambda x, y, ans: (x ** y * np.log(x) - ans) / y),
    sc.boxcox1p:   ("boxcox1p", lambda x, y: (1 + x) ** (y - 1),
                    lambda x, y, ans: ((1 + x) ** y * np.log1p(x) - ans) / y),
    sc.inv_boxcox: ("inv_boxcox", lambda x, y, ans: ans / (y * x + 1),
                    lambda x, y, ans: ans * (x / (y * (y * x + 1)) - np.log1p(y * x) / (y * y))),
    sc.inv_boxcox1p: ("inv_boxcox1p", lambda x, y, ans: (ans + 1) / (y * x + 1),
                      lambda x, y, ans: (ans + 1) * (x / (y * (y * x + 1))
                                                     - np.log1p(y * x) / (y * y))),
    # -- elementary functions with extra accuracy or in degrees --
    sc.cbrt:       ("special_cbrt", lambda ans: 1 / (3 * ans * ans)),
    sc.exp2:       ("special_exp2", lambda ans: np.log(2) * ans),
    sc.exp10:      ("special_exp10", lambda ans: np.log(10) * ans),
    sc.expm1:      ("special_expm1", lambda ans: ans + 1),
    sc.log1p:      ("special_log1p", lambda x: 1 / (1 + x)),
    sc.cosm1:      ("cosm1", lambda x: -np.sin(x)),
    sc.exprel:     ("exprel", lambda x, ans: (np.exp(x) - ans) / x),
    sc.powm1:      ("powm1", lambda x, y: y * x ** (y - 1), lambda x, y, ans: (ans + 1) * np.log(x)),
    sc.sindg:      ("sindg", lambda x: _DEG * sc.cosdg(x)),
    sc.cosdg:      ("cosdg", lambda x: -_DEG * sc.sindg(x)),
    sc.tandg:      ("tandg", lambda ans: _DEG * (1 + ans * ans)),
    sc.cotdg:      ("cotdg", lambda ans: -_DEG * (1 + ans * ans)),
    sc.radian:     ("radian", lambda: _DEG, lambda: _DEG / 60, lambda: _DEG / 3600),
    # -- Bessel functions: the recurrences; no closed form in a real order --
    sc.j0:         ("j0", lambda x: -sc.j1(x)),
    sc.j1:         ("j1", lambda x, ans: sc.j0(x) - ans / x),
    sc.y0:         ("y0", lambda x: -sc.y1(x)),
    sc.y1:         ("y1", lambda x, ans: sc.y0(x) - ans / x),
    sc.i0:         ("i0", lambda x: sc.i1(x)),
    sc.i1:         ("i1", lambda x, ans: sc.i0(x) - ans / x),              # x != 0
    sc.i0e:        ("i0e", lambda x, ans: sc.i1e(x) - np.sign(x) * ans),
    sc.i1e:        ("i1e", lambda x, ans: sc.i0e(x) - ans * (np.sign(x) + 1 / x)),  # x != 0
    sc.k0:         ("k0", lambda x: -sc.k1(x)),
    sc.k1:         ("k1", lambda x, ans: -sc.k0(x) - ans / x),
    sc.k0e:        ("k0e", lambda x, ans: ans - sc.k1e(x)),
    sc.k1e:        ("k1e", lambda x, ans: ans * (1 - 1 / x) - sc.k0e(x)),
    sc.jv:         ("jv", no_closed_form("jv", "v"), lambda x, y: (sc.jv(x - 1, y) - sc.jv(x + 1, y)) / 2),
    sc.yv:         ("yv", no_closed_form("yv", "v"), lambda x, y: (sc.yv(x - 1, y) - sc.yv(x + 1, y)) / 2),
    sc.iv:         ("iv", no_closed_form("iv", "v"), lambda x, y: (sc.iv(x - 1, y) + sc.iv(x + 1, y)) / 2),
    sc.kv:         ("kv", no_closed_form("kv", "v"), lambda x, y: -(sc.kv(x - 1, y) + sc.kv(x + 1, y)) / 2),
    # yn, kn read a real order rounded toward zero
    sc.yn:         ("yn", integer("yn", "n"),
                    lambda x, y: (sc.yv(np.trunc(x) - 1, y) - sc.yv(np.trunc(x) + 1, y)) / 2),
    sc.kn:         ("kn", integer("kn", "n"),
                    lambda x, y: -(sc.kv(np.trunc(x) - 1, y) + sc.kv(np.trunc(x) + 1, y)) / 2),
    sc.jve:        ("jve", no_closed_form("jve", "v"),
                    lambda x, y: (sc.jve(x - 1, _real("jve", y)) - sc.jve(x + 1, y)) / 2),
    sc.yve:        ("yve", no_closed_form("yve", "v"),
                    lambda x, y: (sc.yve(x - 1, _real("yve", y)) - sc.yve(x + 1, y)) / 2),
    sc.ive:        ("ive", no_closed_form("ive", "v"),
                    lambda x, y, ans: (sc.ive(x - 1, _real("ive", y)) + sc.ive(x + 1, y)) / 2
                    - np.sign(y) * ans),
    sc.kve:        ("kve", no_closed_form("kve", "v"),
                    lambda x, y, ans: ans - (sc.kve(x - 1, y) + sc.kve(x + 1, y)) / 2),
    sc.hankel1:    ("hankel1", no_closed_form("hankel1", "v"),
                    lambda x, y: (sc.hankel1(x - 1, y) - sc.hankel1(x + 1, y)) / 2),
    sc.hankel2:    ("hankel2", no_closed_form("hankel2", "v"),
                    lambda x, y: (sc.hankel2(x - 1, y) - sc.hankel2(x + 1, y)) / 2),
    sc.hankel1e:   ("hankel1e", no_closed_form("hankel1e", "v"),
                    lambda x, y, ans: (sc.hankel1e(x - 1, y) - sc.hankel1e(x + 1, y)) / 2 - 1j * ans),
    sc.hankel2e:   ("hankel2e", no_closed_form("hankel2e", "v"),
                    lambda x, y, ans: (sc.hankel2e(x - 1, y) - sc.hankel2e(x + 1, y)) / 2 + 1j * ans),
    sc.struve:     ("struve", no_closed_form("struve", "v"),
                    lambda x, y, ans: sc.struve(x - 1, y) - x * ans / y),
    sc.modstruve:  ("modstruve", no_closed_form("modstruve", "v"),
                    lambda x, y, ans: sc.modstruve(x - 1, y) - x * ans / y),
    sc.itstruve0:  ("itstruve0", lambda x: sc.struve(0, x)),
    sc.itmodstruve0: ("itmodstruve0", lambda x: sc.modstruve(0, x)),
    sc.it2struve0: ("it2struve0", lambda x: -sc.struve(0, x) / x),
    # Kelvin functions: ber + i bei = J0(x e^(3 pi i / 4)), ker + i kei = K0(x e^(pi i / 4));
    # the Bessel equations give the second derivatives.
    sc.ber:        ("ber", lambda x: sc.berp(x)),
    sc.bei:        ("bei", lambda x: sc.beip(x)),
    sc.ker:        ("ker", lambda x: sc.kerp(x)),
    sc.kei:        ("kei", lambda x: sc.keip(x)),
    sc.berp:       ("berp", lambda x, ans: -ans / x - sc.bei(x)),
    sc.beip:       ("beip", lambda x, ans: -ans / x + sc.ber(x)),
    sc.kerp:       ("kerp", lambda x, ans: -ans / x - sc.kei(x)),
    sc.keip:       ("keip", lambda x, ans: -ans / x + sc.ker(x)),
    # -- exponential and related integrals --
    sc.exp1:       ("exp1", lambda x: -np.exp(-x) / x),
    sc.expi:       ("expi", lambda x: np.exp(x) / x),
    sc.expn:       ("expn", integer("expn", "n"),
                    lambda x, y: _expn_dx(x, y)),
    sc.spence:     ("spence", lambda x: np.log(x) / (1 - x)),
    sc.wrightomega: ("wrightomega", lambda ans: ans / (1 + ans)),
    # -- elliptic integrals --
    sc.ellipk:     ("ellipk", lambda x, ans: _ellipk_dm(x, ans)),
    sc.ellipkm1:   ("ellipkm1", lambda x, ans: -_ellipk_dm(1 - x, ans)),
    sc.ellipe:     ("ellipe", lambda x, ans: (ans - sc.ellipk(x)) / (2 * x)),
    sc.ellipkinc:  ("ellipkinc", lambda x, y: 1 / np.sqrt(1 - y * np.sin(x) ** 2), lambda x, y, ans: _ellipkinc_dm(x, y, ans)),
    sc.ellipeinc:  ("ellipeinc", lambda x, y: np.sqrt(1 - y * np.sin(x) ** 2),
                    lambda x, y, ans: (ans - sc.ellipkinc(x, y)) / (2 * y)),
    sc.agm:        ("agm", lambda x, y, ans: _agm_da(x, y, ans), lambda x, y, ans: _agm_da(y, x, ans)),
    # Carlson's R_F and R_C: partials are R_D (which has no rule itself: first order only)
    sc.elliprf:    ("elliprf", lambda x, y, z: -sc.elliprd(y, z, x) / 6,
                    lambda x, y, z: -sc.elliprd(z, x, y) / 6, lambda x, y, z: -sc.elliprd(x, y, z) / 6),
    sc.elliprd:    ("elliprd", no_closed_form("elliprd", "x"), no_closed_form("elliprd", "y"),
                    no_closed_form("elliprd", "z")),
    sc.elliprc:    ("elliprc", lambda x, y: -sc.elliprd(y, y, x) / 6, lambda x, y: -sc.elliprd(x, y, y) / 3),
    # -- hypergeometric functions: no closed form in the parameters --
    sc.hyp0f1:     ("hyp0f1", no_closed_form("hyp0f1", "v"), lambda x, y: sc.hyp0f1(x + 1, y) / x),
    sc.hyp1f1:     ("hyp1f1", no_closed_form("hyp1f1", "a"), no_closed_form("hyp1f1", "b"),
                    lambda x, y, z: x / y * sc.hyp1f1(x + 1, y + 1, z)),
    sc.hyp2f1:     ("hyp2f1", no_closed_form("hyp2f1", "a"), no_closed_form("hyp2f1", "b"),
                    no_closed_form("hyp2f1", "c"),
                    lambda x, y, z, w: x * y / z * sc.hyp2f1(x + 1, y + 1, z + 1, w)),
    # Wright's Bessel function: d/dx Phi(a, b, x) = Phi(a, a + b, x)
    sc.wright_bessel: ("wright_bessel", no_closed_form("wright_bessel", "a"),
                       no_closed_form("wright_bessel", "b"),
                       lambda x, y, z: sc.wright_bessel(x, x + y, z)),
    sc.log_wright_bessel: ("log_wright_bessel", no_closed_form("log_wright_bessel", "a"),
                           no_closed_form("log_wright_bessel", "b"),
                           lambda x, y, z, ans: np.exp(sc.log_wright_bessel(x, x + y, z) - ans)),
    sc.hyperu:     ("hyperu", no_closed_form("hyperu", "a"), no_closed_form("hyperu", "b"),
                    lambda x, y, z: -x * sc.hyperu(x + 1, y + 1, z)),
    # -- orthogonal polynomials: in x; the degree is an integer --
    sc.eval_legendre: ("eval_legendre", degree("eval_legendre"),
                      lambda x, y, ans: _legendre_dx(x, y, ans)),
    sc.eval_sh_legendre: ("eval_sh_legendre", degree("eval_sh_legendre"),
                          lambda x, y, ans: 2 * _legendre_dx(x, 2 * y - 1, ans)),
    sc.eval_chebyt: ("eval_chebyt", degree("eval_chebyt"),
                     lambda x, y: _chebyt_dx(x, y)),
    sc.eval_chebyu: ("eval_chebyu", degree("eval_chebyu"),
                    lambda x, y, ans: _chebyu_dx(x, y, ans)),
    sc.eval_sh_chebyt: ("eval_sh_chebyt", degree("eval_sh_chebyt"),
                        lambda x, y: 2 * _chebyt_dx(x, 2 * y - 1)),
    sc.eval_sh_chebyu: ("eval_sh_chebyu", degree("eval_sh_chebyu"),
                        lambda x, y, ans: 2 * _chebyu_dx(x, 2 * y - 1, ans)),
    sc.eval_chebyc: ("eval_chebyc", degree("eval_chebyc"),
                     lambda x, y: _chebyt_dx(x, y / 2)),
    sc.eval_chebys: ("eval_chebys", degree("eval_chebys"),
                     lambda x, y, ans: _chebyu_dx(x, y / 2, ans) / 2),
    sc.eval_hermite: ("eval_hermite", integer("eval_hermite", "n", "SciPy takes integers only"),
                      lambda x, y: 2 * x * sc.eval_hermite(_lower(x), y)),
    sc.eval_hermitenorm: ("eval_hermitenorm", integer("eval_hermitenorm", "n", "SciPy takes integers only"),
                          lambda x, y: x * sc.eval_hermitenorm(_lower(x), y)),
    sc.eval_laguerre: ("eval_laguerre", degree("eval_laguerre"),
                       lambda x, y: -_from_1(x) * sc.eval_genlaguerre(_lower0(x), 1, y)),
    sc.eval_genlaguerre: ("eval_genlaguerre", degree("eval_genlaguerre"),
                          no_closed_form("eval_genlaguerre", "alpha"),
                          lambda x, y, z: -_from_1(x) * sc.eval_genlaguerre(_lower0(x),
                                                                             y + 1, z)),
    sc.eval_gegenbauer: ("eval_gegenbauer", degree("eval_gegenbauer"),
                         no_closed_form("eval_gegenbauer", "alpha"),
                         lambda x, y, z: 2 * y * _from_1(x)
                         * sc.eval_gegenbauer(_lower0(x), y + 1, z)),
    sc.eval_jacobi: ("eval_jacobi", degree("eval_jacobi"),
                     no_closed_form("eval_jacobi", "alpha"), no_closed_form("eval_jacobi", "beta"),
                     lambda x, y, z, w: (x + y + z + 1) / 2 * _from_1(x)
                     * sc.eval_jacobi(_lower0(x), y + 1, z + 1, w)),
    sc.lpmv:       ("lpmv", integer("lpmv", "m", _NAN), no_closed_form("lpmv", "v"),
                    lambda x, y, z, ans: _lpmv_dx(x, y, z, ans)),
    # -- distribution functions: densities in x and p; counts are integers --
    sc.bdtr:       ("bdtr", integer("bdtr", "k"), integer("bdtr", "n"),
                    lambda x, y, z: _bdtr_dp(x, y, z)),
    sc.bdtrc:      ("bdtrc", integer("bdtrc", "k"), integer("bdtrc", "n"),
                    lambda x, y, z: -_bdtr_dp(x, y, z)),
    sc.bdtri:      ("bdtri", integer("bdtri", "k"), integer("bdtri", "n"),
                    lambda x, y, ans: 1 / _bdtr_dp(x, y, ans)),
    sc.nbdtr:      ("nbdtr", integer("nbdtr", "k"), integer("nbdtr", "n"),
                    lambda x, y, z: _nbdtr_dp(x, y, z)),
    sc.nbdtrc:     ("nbdtrc", integer("nbdtrc", "k"), integer("nbdtrc", "n"),
                    lambda x, y, z: -_nbdtr_dp(x, y, z)),
    sc.nbdtri:     ("nbdtri", integer("nbdtri", "k"), integer("nbdtri", "n"),
                    lambda x, y, ans: 1 / _nbdtr_dp(x, y, ans)),
    sc.pdtr:       ("pdtr", integer("pdtr", "k"), lambda x, y: _pdtr_dm(x, y)),
    sc.pdtrc:      ("pdtrc", integer("pdtrc", "k"), lambda x, y: -_pdtr_dm(x, y)),
    sc.pdtri:      ("pdtri", integer("pdtri", "k"), lambda x, ans: 1 / _pdtr_dm(x, ans)),
    sc.chdtr:      ("chdtr", no_closed_form("chdtr", "v"), lambda x, y: _chdtr_dx(x, y)),
    sc.chdtrc:     ("chdtrc", no_closed_form("chdtrc", "v"), lambda x, y: -_chdtr_dx(x, y)),
    sc.chdtri:     ("chdtri", no_closed_form("chdtri", "v"), lambda x, ans: -1 / _chdtr_dx(x, ans)),
    sc.gdtr:       ("gdtr", lambda x, y, z: z * _gamma_pdf(y, x * z), no_closed_form("gdtr", "b"),
                    lambda x, y, z: _gdtr_dx(x, y, z)),
    sc.gdtrc:      ("gdtrc", lambda x, y, z: -z * _gamma_pdf(y, x * z), no_closed_form("gdtrc", "b"),
                    lambda x, y, z: -_gdtr_dx(x, y, z)),
    sc.gdtrix:     ("gdtrix", lambda x, ans: -ans / x, no_closed_form("gdtrix", "b"),
                    lambda x, y, ans: 1 / _gdtr_dx(x, y, ans)),
    sc.gdtria:     ("gdtria", lambda y, z, ans: 1 / (z * _gamma_pdf(y, ans * z)),
                    no_closed_form("gdtria", "b"), lambda z, ans: -ans / z),
    sc.chndtr:     ("chndtr", lambda x, y, z: _ncx2_pdf(x, y, z), no_closed_form("chndtr", "df"),
                    no_closed_form("chndtr", "nc")),
    sc.stdtr:      ("stdtr", no_closed_form("stdtr", "df"), lambda x, y: _t_pdf(x, y)),
    sc.stdtrit:    ("stdtrit", no_closed_form("stdtrit", "df"), lambda x, ans: 1 / _t_pdf(x, ans)),
    sc.fdtr:       ("fdtr", no_closed_form("fdtr", "dfn"), no_closed_form("fdtr", "dfd"),
                    lambda x, y, z: _f_pdf(x, y, z)),
    sc.fdtrc:      ("fdtrc", no_closed_form("fdtrc", "dfn"), no_closed_form("fdtrc", "dfd"),
                    lambda x, y, z: -_f_pdf(x, y, z)),
    sc.fdtri:      ("fdtri", no_closed_form("fdtri", "dfn"), no_closed_form("fdtri", "dfd"),
                    lambda x, y, ans: 1 / _f_pdf(x, y, ans)),
}
# fmt: on


# ---- ufuncs with several outputs: per argument, the derivatives of all the
# outputs as a function of the arguments and the outputs (or a raising partial)
def _airy_dx(x, out):
    ai, aip, bi, bip = out
    return aip, x * ai, bip, x * bi


def _itairy_dx(x, out):
    ai, _, bi, _ = sc.airy(x)
    ai_neg, _, bi_neg, _ = sc.airy(-x)
    return ai, bi, ai_neg, bi_neg


def _ellipj_du(u, m, out):
    sn, cn, dn, _ = out
    return cn * dn, -sn * dn, -m * sn * cn, dn


def _parabolic_dx(a, x, out):
    """(f, f') of y'' = (x^2/4 + a) y: the derivatives (f', (x^2/4 + a) f)."""
    f, fp = out
    return fp, (x * x / 4 + a) * f


# fmt: off
MULTI_OUTPUT_RULES = {
    # ufunc:     (name, derivatives per argument...)
    sc.sici:     ("sici", lambda x, out: (np.sin(x) / x, np.cos(x) / x)),
    sc.shichi:   ("shichi", lambda x, out: (np.sinh(x) / x, np.cosh(x) / x)),
    sc.fresnel:  ("fresnel", lambda x, out: (np.sin(np.pi / 2 * x * x), np.cos(np.pi / 2 * x * x))),
    sc.airy:     ("airy", _airy_dx),
    sc.itairy:   ("itairy", _itairy_dx),
    sc.itj0y0:   ("itj0y0", lambda x, out: (sc.j0(x), sc.y0(x))),
    sc.iti0k0:   ("iti0k0", lambda x, out: (sc.i0(x), sc.k0(x))),
    sc.it2j0y0:  ("it2j0y0", lambda x, out: ((1 - sc.j0(x)) / x, -sc.y0(x) / x)),
    sc.it2i0k0:  ("it2i0k0", lambda x, out: ((sc.i0(x) - 1) / x, -sc.k0(x) / x)),
    sc.ellipj:   ("ellipj", _ellipj_du, no_closed_form("ellipj", "m")),
    # parabolic cylinder functions: D_v and V_v solve y'' = (x^2/4 - v - 1/2) y, W y'' = (a - x^2/4) y
    sc.pbdv:     ("pbdv", no_closed_form("pbdv", "v"),
                  lambda v, x, out: _parabolic_dx(-v - 0.5, x, out)),
    sc.pbvv:     ("pbvv", no_closed_form("pbvv", "v"),
                  lambda v, x, out: _parabolic_dx(-v - 0.5, x, out)),
    sc.pbwa:     ("pbwa", no_closed_form("pbwa", "a"),
                  lambda a, x, out: (out[1], (a - x * x / 4) * out[0])),
}
# fmt: on


def multi_output(name, ufunc, *derivatives):
    """The primitive of a ufunc with several outputs: `derivatives[i](*args, outs)`
    is the tuple of the derivatives of every output in argument i (broadcast
    alike), or a partial that raises for an argument with no rule."""
    def terms(i, args, ans):
        d = derivatives[i]
        if d.__code__.co_argcount == 0:
            d()  # raises: no derivative in this argument
        return d(*args, ans)

    def jvp(tangents, args, ans, params):
        out = None
        for i, t in enumerate(tangents):
            if t is not None:
                ts = [t * d for d in terms(i, args, ans)]
                out = ts if out is None else [a + b for a, b in zip(out, ts)]
        return None if out is None else [np.broadcast_to(o, np.shape(a)) for o, a in zip(out, ans)]

    def vjp(g, res, params, which):
        args, ans = res
        return [sum(gk * d for gk, d in zip(g, terms(i, args, ans))) for i in which]

    return Primitive(name, ufunc, jvp=jvp, vjp=vjp, multiple_results=True)


# Piecewise constant: the output carries no derivative.
PIECEWISE_CONSTANT = {sc.gammasgn: "gammasgn", sc.round: "special_round"}
