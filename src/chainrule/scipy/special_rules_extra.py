"""More rules of scipy.special's ufuncs (see `special_rules` for the format):
Kelvin, scaled Airy, modified Fresnel and Mathieu functions (several
outputs), Kolmogorov's and Tukey's lambda distributions, besselpoly, Carlson's
R_G, the shifted Jacobi polynomials; and, for the functions whose arguments
have no derivative rule, the NoRuleError naming each argument and why.

Example:
    >>> import numpy as np, scipy.special as sc, chainrule as cr
    >>> import chainrule.scipy.special  # registers the rules
    >>> be = lambda x: np.real(sc.kelvin(x)[0])  # ber(x)
    >>> bool(np.isclose(cr.grad(be)(1.5), sc.berp(1.5)))
    True
"""

import numpy as np
import scipy.special as sc

from ..arraylibs import asarray
from ..core.errors import NoRuleError
from ..core.trace import raw
from .special_rules import _NAN, _from_1, _lower0, degree, integer, no_closed_form

_SQRT_PI = np.sqrt(np.pi)
_DEG = np.pi / 180


def no_rule(ufunc, arg, why):
    """A partial that raises: `ufunc` has no derivative rule in `arg`, because `why`."""
    def partial():
        raise NoRuleError(f"scipy.special.{ufunc} has no derivative rule in its argument "
                          f"{arg!r} ({why}); pass that argument as a constant.")
    return partial


def _real_only(ufunc, x):
    if np.iscomplexobj(raw(x)):
        raise NoRuleError(f"scipy.special.{ufunc} at complex input is not holomorphic (it "
                          "scales by exp(-|Re zeta|)); chainrule differentiates it at real input.")
    return x


# ---- Kolmogorov's distribution: its density by the two classical series ----
_K_HOST = np.arange(1.0, 13.0)


def _kolmogorov_dy(y):
    """d/dy kolmogorov(y) = -(the Kolmogorov density): the alternating series
    2 sum (-1)^(k-1) e^(-2 k^2 y^2) for y >= 1, and for y < 1 the derivative of
    1 - sqrt(2 pi) / y sum e^(-(2k-1)^2 pi^2 / (8 y^2)) (both with 12 terms,
    exact to rounding on their sides of 1)."""
    y_ = np.expand_dims(y, -1)
    k = asarray(_K_HOST, like=y)
    large = -8 * y * np.sum((-1.0) ** (k - 1) * k * k * np.exp(-2 * k * k * y_ * y_), axis=-1)
    a = (2 * k - 1) ** 2 * np.pi ** 2 / 8
    ys = np.maximum(y_, 0.04)  # below, the density is below 1e-300
    small = -np.sqrt(2 * np.pi) * np.sum(np.exp(-a / (ys * ys)) * (2 * a / ys ** 4 - 1 / (ys * ys)),
                                         axis=-1)
    return np.where(y >= 1, large, np.where(y > 0.04, small, 0.0))


# ---- Tukey's lambda distribution: the quantile Q(p) = (p^l - (1 - p)^l) / l ----
def _tukey_inside(p):
    return (p > 0) & (p < 1)


def _tklmbda_dx(lam, p):
    """The density 1 / Q'(p) = 1 / (p^(l-1) + (1-p)^(l-1)); 0 outside the support."""
    inside = _tukey_inside(p)
    q = np.where(inside, p, 0.5)
    return np.where(inside, 1 / (q ** (lam - 1) + (1 - q) ** (lam - 1)), 0.0)


def _tklmbda_dlambda(lam, p):
    """-(dQ/dl) / Q'(p) at the p with Q(p) = x (the implicit function theorem);
    at l = 0 (the logistic distribution) dQ/dl = (log(p)^2 - log(1-p)^2) / 2."""
    inside = _tukey_inside(p)
    q = np.where(inside, p, 0.5)
    l0 = lam == 0
    lam_ = np.where(l0, 1.0, lam)
    lp, lq = np.log(q), np.log1p(-q)
    quantile = (q ** lam_ - (1 - q) ** lam_) / lam_
    dq_dl = np.where(l0, (lp * lp - lq * lq) / 2,
                     (q ** lam_ * lp - (1 - q) ** lam_ * lq) / lam_ - quantile / lam_)
    return np.where(inside, -dq_dl * _tklmbda_dx(lam, p), 0.0)


# ---- modified Fresnel integrals fp = int_x^inf e^(i t^2) dt, kp = e^(-i (x^2 + pi/4)) fp / sqrt(pi)
def _nonnegative(ufunc, x):
    """x, refused where negative: there SciPy's fp is not the integral its
    docstring states (it does not have the derivative -e^(i x^2))."""
    if np.any(raw(x) < 0):
        raise NoRuleError(f"scipy.special.{ufunc} at x < 0: SciPy's first output there is not "
                          "the integral of its docstring, so chainrule has no rule; use x >= 0.")
    return x


def _modfresnel_dx(sign, name):
    def d(x, out):
        f, k = out
        x = _nonnegative(name, x)
        dk = sign * 2j * x * k - np.exp(sign * 1j * np.pi / 4) / _SQRT_PI
        return -np.exp(-sign * 1j * x * x), dk
    return d


# ---- Kelvin functions: Be = ber + i bei, Ke = ker + i kei (Bessel's equation)
def _kelvin_dx(x, out):
    be, ke, bep, kep = out
    return bep, kep, 1j * be - bep / x, 1j * ke - kep / x


# ---- exponentially scaled Airy functions (real x): eAi = Ai e^(zeta), eBi = Bi e^(-zeta),
# zeta = 2/3 x^(3/2) for x > 0 and 0 below
def _airye_dx(x, out):
    x = _real_only("airye", x)
    eai, eaip, ebi, ebip = out
    above = x > 0
    s = np.where(above, np.sqrt(np.where(above, x, 1.0)), 0.0)  # no inf slope at x <= 0
    # SciPy's eAi is nan at x < 0: 0 there keeps the nan out of eBi's derivatives
    eai, eaip = np.where(x < 0, 0.0, eai), np.where(x < 0, 0.0, eaip)
    return eaip + s * eai, x * eai + s * eaip, ebip - s * ebi, x * ebi - s * ebip


# ---- Mathieu functions: (y, y') solve y'' = -(a - 2 q cos 2x) y; the angular
# ones take x in degrees (their y' is per radian), the modified ones
# y'' = (a - 2 q cosh 2x) y
def _mathieu_angular(characteristic):
    def d(m, q, x, out):
        y, dy = out
        a = characteristic(m, q)
        return dy * _DEG, -(a - 2 * q * np.cos(2 * _DEG * x)) * y * _DEG
    return d


def _mathieu_modified(characteristic):
    def d(m, q, x, out):
        y, dy = out
        a = characteristic(m, q)
        return dy, (a - 2 * q * np.cosh(2 * x)) * y
    return d


def _mathieu(name, characteristic, angular):
    d = (_mathieu_angular if angular else _mathieu_modified)(characteristic)
    return (name, integer(name, "m", _NAN), no_closed_form(name, "q"), d)


_INVERSE = ("an inverse in a distribution parameter: its derivative needs the derivative "
            "of the distribution function in that parameter, which has no closed form")
_NONCENTRAL = ("a noncentral distribution function: its derivatives are series with no "
               "closed form in terms of SciPy functions")
_SPHEROIDAL = ("spheroidal wave functions: chainrule has no rule for them")


def _refused(name, args, why):
    return (name,) + tuple(no_rule(name, a, why) for a in args)


# fmt: off
UFUNC_RULES = {
    sc.kolmogorov: ("kolmogorov", lambda x: _kolmogorov_dy(x)),
    sc.kolmogi:    ("kolmogi", lambda ans: 1 / _kolmogorov_dy(ans)),
    sc.tklmbda:    ("tklmbda", lambda y, ans: _tklmbda_dx(y, ans),
                    lambda y, ans: _tklmbda_dlambda(y, ans)),
    # besselpoly(a, l, v) = int_0^1 x^l J_v(2 a x) dx: in a, J_v' = (J_(v-1) - J_(v+1)) / 2
    sc.besselpoly: ("besselpoly", lambda x, y, z: sc.besselpoly(x, y + 1, z - 1)
                    - sc.besselpoly(x, y + 1, z + 1),
                    no_closed_form("besselpoly", "lmb"), no_closed_form("besselpoly", "nu")),
    # Carlson's R_G: partials through R_F and R_D (which has no rule: first order only)
    sc.elliprg:    ("elliprg", lambda x, y, z: (sc.elliprf(x, y, z) - x * sc.elliprd(y, z, x) / 3) / 4,
                    lambda x, y, z: (sc.elliprf(x, y, z) - y * sc.elliprd(z, x, y) / 3) / 4,
                    lambda x, y, z: (sc.elliprf(x, y, z) - z * sc.elliprd(x, y, z) / 3) / 4),
    # shifted Jacobi: d/dx G_n^(p,q)(x) = n G_(n-1)^(p+2,q+1)(x)
    sc.eval_sh_jacobi: ("eval_sh_jacobi", degree("eval_sh_jacobi"),
                        no_closed_form("eval_sh_jacobi", "p"), no_closed_form("eval_sh_jacobi", "q"),
                        lambda x, y, z, w: _from_1(x) * x
                        * sc.eval_sh_jacobi(_lower0(x), y + 2, z + 1, w)),
    sc.zetac:      ("zetac", no_closed_form("zetac", "x")),
    sc.elliprj:    _refused("elliprj", "xyzp", "its partials need R_J at other arguments "
                            "and R_D, for which chainrule has no rule"),
    sc.mathieu_a:  ("mathieu_a", integer("mathieu_a", "m", _NAN), no_closed_form("mathieu_a", "q")),
    sc.mathieu_b:  ("mathieu_b", integer("mathieu_b", "m", _NAN), no_closed_form("mathieu_b", "q")),
    sc.smirnov:    ("smirnov", integer("smirnov", "n"),
                    no_rule("smirnov", "d", "a finite sum of n terms; chainrule has no rule")),
    sc.smirnovi:   ("smirnovi", integer("smirnovi", "n"),
                    no_rule("smirnovi", "p", "the inverse of smirnov, which has no rule")),
}
for _name, _args, _why in [
        ("bdtrik", ("y", "n", "p"), _INVERSE), ("bdtrin", ("k", "y", "p"), _INVERSE),
        ("btdtria", ("p", "b", "x"), _INVERSE), ("btdtrib", ("a", "p", "x"), _INVERSE),
        ("chdtriv", ("p", "x"), _INVERSE), ("chndtridf", ("x", "p", "nc"), _INVERSE),
        ("chndtrinc", ("x", "df", "p"), _INVERSE), ("chndtrix", ("p", "df", "nc"), _NONCENTRAL),
        ("fdtridfd", ("dfn", "p", "x"), _INVERSE), ("gdtrib", ("a", "p", "x"), _INVERSE),
        ("nbdtrik", ("y", "n", "p"), _INVERSE), ("nbdtrin", ("k", "y", "p"), _INVERSE),
        ("pdtrik", ("p", "m"), _INVERSE), ("stdtridf", ("p", "t"), _INVERSE),
        ("ncfdtr", ("dfn", "dfd", "nc", "f"), _NONCENTRAL),
        ("ncfdtri", ("dfn", "dfd", "nc", "p"), _NONCENTRAL),
        ("ncfdtridfd", ("dfn", "p", "nc", "f"), _NONCENTRAL),
        ("ncfdtridfn", ("p", "dfd", "nc", "f"), _NONCENTRAL),
        ("ncfdtrinc", ("dfn", "dfd", "p", "f"), _NONCENTRAL),
        ("nctdtr", ("df", "nc", "t"), _NONCENTRAL), ("nctdtridf", ("p", "nc", "t"), _NONCENTRAL),
        ("nctdtrinc", ("df", "p", "t"), _NONCENTRAL), ("nctdtrit", ("df", "nc", "p"), _NONCENTRAL),
        ("obl_cv", ("m", "n", "c"), _SPHEROIDAL), ("pro_cv", ("m", "n", "c"), _SPHEROIDAL)]:
    UFUNC_RULES[getattr(sc, _name)] = _refused(_name, _args, _why)

MULTI_OUTPUT_RULES = {
    sc.kelvin:      ("kelvin", _kelvin_dx),
    sc.airye:       ("airye", _airye_dx),
    sc.modfresnelp: ("modfresnelp", _modfresnel_dx(-1, "modfresnelp")),
    sc.modfresnelm: ("modfresnelm", _modfresnel_dx(1, "modfresnelm")),
    sc.mathieu_cem: _mathieu("mathieu_cem", sc.mathieu_a, True),
    sc.mathieu_sem: _mathieu("mathieu_sem", sc.mathieu_b, True),
    sc.mathieu_modcem1: _mathieu("mathieu_modcem1", sc.mathieu_a, False),
    sc.mathieu_modcem2: _mathieu("mathieu_modcem2", sc.mathieu_a, False),
    sc.mathieu_modsem1: _mathieu("mathieu_modsem1", sc.mathieu_b, False),
    sc.mathieu_modsem2: _mathieu("mathieu_modsem2", sc.mathieu_b, False),
}
for _name, _args in [("obl_ang1", "m n c x"), ("obl_ang1_cv", "m n c cv x"),
                     ("obl_rad1", "m n c x"), ("obl_rad1_cv", "m n c cv x"),
                     ("obl_rad2", "m n c x"), ("obl_rad2_cv", "m n c cv x"),
                     ("pro_ang1", "m n c x"), ("pro_ang1_cv", "m n c cv x"),
                     ("pro_rad1", "m n c x"), ("pro_rad1_cv", "m n c cv x"),
                     ("pro_rad2", "m n c x"), ("pro_rad2_cv", "m n c cv x")]:
    MULTI_OUTPUT_RULES[getattr(sc, _name)] = _refused(_name, _args.split(), _SPHEROIDAL)
# fmt: on
