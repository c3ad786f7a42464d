"""Op table: the scipy.special ufuncs of chainrule.scipy.special_rules beyond
the first set (table_special.py), in the arguments that have a derivative;
complex inputs through their real and imaginary parts."""

import numpy as np
import scipy.special as sc

import chainrule.scipy.special  # noqa: F401  (registers the rules)
from chainrule import complex_step

from .spec import Op, pos, rand

NO_CS = ("rev", "fwd", "rev_rev", "fwd_rev", "check")
ALL = ("rev", "fwd", "rev_rev", "fwd_rev", "cs", "check")
SHAPES = [(), (2, 3)]  # 0-d and an array: two cases per line keep the suite fast


def cs_modes(ufunc):
    """Every mode when SciPy's complex loop is the continuation of the real
    function (chainrule.scipy.special refuses the others), else no complex step."""
    refused = ufunc in complex_step.UFUNC_RULES
    return ALL if any("D" in t.split("->")[0] for t in ufunc.types) and not refused else NO_CS


def unit(*shape):
    return rand(*shape, low=0.1, high=0.9)


def ints(low, high):
    """Integer-valued float arrays (orders, counts) for the shapes in SHAPES."""
    return lambda *shape: np.floor(rand(*shape, low=low, high=high + 1))


def int_order(ufunc):
    """ufunc with its first argument (a degree) cast to integers, as its only loop needs."""
    return lambda n, x: ufunc(n.astype(np.int64), x)


def line(ufunc, *makers, diff=None, name=None, modes=None, fun=None, **kw):
    """One Op for ufunc, cases drawn by makers (one per argument) at SHAPES."""
    name = name or ufunc.__name__
    cases = tuple(tuple(m(*s) for m in makers) for s in SHAPES)
    modes = modes or cs_modes(ufunc)
    covers = kw.pop("covers", None) or name
    covers = (covers,) if isinstance(covers, str) else covers
    return Op(name, fun or ufunc, cases, covers=covers, diff_args=diff,
              modes=modes, **kw)


def complex_line(ufunc, name, *makers, before=0, **kw):
    """ufunc at complex z = x + i y (its last argument), as real and imaginary parts."""
    def fun(*args):
        *fixed, x, y = args
        out = ufunc(*fixed, x + 1j * y)
        return np.real(out), np.imag(out)
    cases = tuple(tuple(m(*s) for m in makers) for s in SHAPES)
    diff = tuple(range(before, len(makers)))
    kw.setdefault("notes", "complex data: the complex step does not apply")
    return Op(f"{name}_complex", fun, cases, covers=(name,), diff_args=diff, modes=NO_CS, **kw)


def complex_out(ufunc, name, *makers, diff):
    """A ufunc complex-valued for real input: its real and imaginary parts."""
    def fun(*args):
        out = ufunc(*args)
        return np.real(out), np.imag(out)
    cases = tuple(tuple(m(*s) for m in makers) for s in SHAPES)
    return Op(name, fun, cases, diff_args=diff, modes=NO_CS,
              notes="complex output for real input: cs_jvp refuses")


def p2(*s):
    return pos(*s, low=2.0, high=4.0)


def small(*s):
    return pos(*s, low=0.2, high=1.5)


def away(*s):
    return np.where(rand(*s) > 0, 1.0, -1.0) * pos(*s)


def inner(*s):
    return rand(*s, low=-0.9, high=0.9)


def order(*s):
    return pos(*s, low=0.3, high=2.5)


def imag_small(*s):
    return rand(*s, low=-0.5, high=0.5)


# fmt: off
OPS = [
    # gamma and beta functions
    line(sc.loggamma, pos),
    line(sc.rgamma, pos),
    line(sc.binom, p2, small),
    line(sc.poch, pos, small),
    # incomplete gamma and beta, in x
    line(sc.gammainc, pos, pos, diff=(1,)),
    line(sc.gammaincc, pos, pos, diff=(1,)),
    line(sc.gammaincinv, pos, unit, diff=(1,)),
    line(sc.gammainccinv, pos, unit, diff=(1,)),
    line(sc.betainc, pos, pos, unit, diff=(2,)),
    line(sc.betaincc, pos, pos, unit, diff=(2,)),
    line(sc.betaincinv, pos, pos, unit, diff=(2,)),
    line(sc.betainccinv, pos, pos, unit, diff=(2,)),
    # error functions and the normal distribution
    line(sc.erfi, rand),
    line(sc.dawsn, rand),
    complex_line(sc.wofz, "wofz", rand, imag_small),
    line(sc.voigt_profile, rand, pos, pos),
    line(sc.ndtri_exp, lambda *s: rand(*s, low=-3.0, high=-0.1)),
    line(sc.nrdtrimn, unit, pos, rand),
    line(sc.nrdtrisd, rand, lambda *s: rand(*s, low=0.6, high=0.9), rand),
    line(sc.owens_t, rand, rand),
    # information and loss functions
    line(sc.rel_entr, pos, pos),
    line(sc.kl_div, pos, pos),
    line(sc.huber, pos, lambda *s: 3 * rand(*s), smooth=False,
         notes="piecewise quadratic: second derivative jumps at |r| = delta"),
    line(sc.pseudo_huber, pos, rand),
    line(sc.boxcox, pos, small),
    line(sc.boxcox1p, pos, small),
    line(sc.inv_boxcox, pos, small),
    line(sc.inv_boxcox1p, pos, small),
    # elementary functions
    line(sc.cbrt, away, name="special_cbrt"),
    line(sc.exp2, rand, name="special_exp2"),
    line(sc.exp10, rand, name="special_exp10"),
    line(sc.expm1, rand, name="special_expm1"),
    line(sc.log1p, pos, name="special_log1p"),
    line(sc.cosm1, rand),
    line(sc.exprel, away),
    line(sc.powm1, pos, rand),
    line(sc.sindg, lambda *s: 80 * rand(*s)),
    line(sc.cosdg, lambda *s: 80 * rand(*s)),
    line(sc.tandg, lambda *s: 80 * rand(*s)),
    line(sc.cotdg, lambda *s: pos(*s, low=10, high=170)),
    line(sc.radian, rand, rand, rand),
    # Bessel functions, in x
    line(sc.j0, rand),
    line(sc.j1, away),
    line(sc.y0, pos),
    line(sc.y1, pos),
    line(sc.k0, pos),
    line(sc.k1, pos),
    line(sc.k0e, pos),
    line(sc.k1e, pos),
    line(sc.jv, order, pos, diff=(1,)),
    line(sc.yv, order, pos, diff=(1,)),
    line(sc.iv, order, pos, diff=(1,)),
    line(sc.kv, order, pos, diff=(1,)),
    line(sc.jn, ints(0, 3), pos, diff=(1,), name="jn", covers="jv", modes=NO_CS),
    line(sc.yn, ints(0, 3), pos, diff=(1,)),
    line(sc.kn, ints(0, 3), pos, diff=(1,)),
    line(sc.jve, order, pos, diff=(1,)),
    line(sc.yve, order, pos, diff=(1,)),
    line(sc.ive, order, pos, diff=(1,), modes=NO_CS,
         notes="scaled by exp(-|Re z|): not holomorphic, cs_jvp refuses"),
    line(sc.kve, order, pos, diff=(1,)),
    complex_out(sc.hankel1, "hankel1", order, pos, diff=(1,)),
    complex_out(sc.hankel2, "hankel2", order, pos, diff=(1,)),
    complex_out(sc.hankel1e, "hankel1e", order, pos, diff=(1,)),
    complex_out(sc.hankel2e, "hankel2e", order, pos, diff=(1,)),
    complex_line(sc.jv, "jv", order, pos, imag_small, before=1),
    complex_line(sc.kv, "kv", order, pos, imag_small, before=1),
    line(sc.struve, order, pos, diff=(1,)),
    line(sc.modstruve, order, pos, diff=(1,)),
    line(sc.itstruve0, pos),
    line(sc.itmodstruve0, pos),
    line(sc.it2struve0, pos),
    line(sc.ber, pos), line(sc.bei, pos), line(sc.ker, pos), line(sc.kei, pos),
    line(sc.berp, pos), line(sc.beip, pos), line(sc.kerp, pos), line(sc.keip, pos),
    # exponential integrals and friends
    line(sc.exp1, pos),
    line(sc.expi, pos),
    line(sc.expn, ints(0, 3), pos, diff=(1,)),
    line(sc.spence, pos),
    line(sc.wrightomega, rand),
    complex_line(sc.expi, "expi", pos, imag_small),
    complex_line(sc.loggamma, "loggamma", pos, imag_small, smooth=False,
                 notes="SciPy's polygamma (trigamma) takes no complex input: first order only"),
    # elliptic integrals
    line(sc.ellipk, unit),
    line(sc.ellipkm1, unit),
    line(sc.ellipe, unit),
    line(sc.ellipkinc, rand, unit),
    line(sc.ellipeinc, rand, unit),
    line(sc.agm, pos, lambda *s: pos(*s, low=2.5, high=4.0)),
    line(sc.elliprf, pos, pos, pos, smooth=False, modes=("rev", "fwd", "cs", "check"),
         covers=("elliprf", "elliprd"),
         notes="R_D's derivatives have no closed form: first order only (elliprd raises NoRuleError)"),
    line(sc.elliprc, pos, pos, smooth=False, modes=("rev", "fwd", "cs", "check"),
         notes="R_D has no rule: first order only"),
    # hypergeometric functions, in x
    line(sc.hyp0f1, order, rand, diff=(1,)),
    line(sc.hyp1f1, order, order, rand, diff=(2,)),
    line(sc.hyperu, order, order, pos, diff=(2,)),
    line(sc.hyp2f1, order, order, lambda *s: pos(*s, low=2.5, high=3.5), lambda *s: 0.5 * rand(*s),
         diff=(3,)),
    line(sc.wright_bessel, small, small, pos, diff=(2,)),
    line(sc.log_wright_bessel, small, small, pos, diff=(2,)),
    # several outputs
    line(sc.sici, pos),
    line(sc.shichi, pos),
    line(sc.fresnel, rand),
    line(sc.airy, rand),
    line(sc.itairy, pos, rtol=1e-5, atol=1e-5,
         notes="SciPy's itairy is an approximation whose slope differs from airy by ~1e-7"),
    line(sc.itj0y0, pos),
    line(sc.iti0k0, pos),
    line(sc.it2j0y0, pos),
    line(sc.it2i0k0, pos),
    line(sc.ellipj, rand, unit, diff=(0,)),
    line(sc.pbdv, order, rand, diff=(1,)),
    line(sc.pbvv, order, rand, diff=(1,)),
    line(sc.pbwa, rand, rand, diff=(1,)),
    # orthogonal polynomials, in x
    line(sc.eval_legendre, ints(0, 4), inner, diff=(1,)),
    line(sc.eval_sh_legendre, ints(0, 4), unit, diff=(1,)),
    line(sc.eval_chebyt, ints(0, 4), inner, diff=(1,)),
    line(sc.eval_chebyu, ints(0, 4), inner, diff=(1,)),
    line(sc.eval_sh_chebyt, ints(0, 4), unit, diff=(1,)),
    line(sc.eval_sh_chebyu, ints(0, 4), unit, diff=(1,)),
    line(sc.eval_chebyc, ints(0, 4), lambda *s: 1.8 * inner(*s), diff=(1,)),
    line(sc.eval_chebys, ints(0, 4), lambda *s: 1.8 * inner(*s), diff=(1,)),
    line(sc.eval_hermite, ints(0, 4), rand, diff=(1,), fun=int_order(sc.eval_hermite)),
    line(sc.eval_hermitenorm, ints(0, 4), rand, diff=(1,), fun=int_order(sc.eval_hermitenorm)),
    line(sc.eval_laguerre, ints(0, 4), pos, diff=(1,)),
    line(sc.eval_genlaguerre, ints(0, 4), pos, pos, diff=(2,)),
    line(sc.eval_gegenbauer, ints(0, 4), pos, inner, diff=(2,)),
    line(sc.eval_jacobi, ints(0, 4), pos, pos, inner, diff=(3,)),
    line(sc.lpmv, ints(0, 2), lambda *s: pos(*s, low=2.0, high=3.5), inner, diff=(2,)),
    # distribution functions, in x and p
    line(sc.bdtr, ints(0, 4), lambda *s: ints(6, 9)(*s), unit, diff=(2,)),
    line(sc.bdtrc, ints(0, 4), lambda *s: ints(6, 9)(*s), unit, diff=(2,)),
    line(sc.bdtri, ints(0, 4), lambda *s: ints(6, 9)(*s), unit, diff=(2,)),
    line(sc.nbdtr, ints(0, 4), ints(1, 5), unit, diff=(2,)),
    line(sc.nbdtrc, ints(0, 4), ints(1, 5), unit, diff=(2,)),
    line(sc.nbdtri, ints(0, 4), ints(1, 5), unit, diff=(2,)),
    line(sc.pdtr, ints(0, 4), pos, diff=(1,)),
    line(sc.pdtrc, ints(0, 4), pos, diff=(1,)),
    line(sc.pdtri, ints(0, 4), unit, diff=(1,)),
    line(sc.chdtr, pos, pos, diff=(1,)),
    line(sc.chdtrc, pos, pos, diff=(1,)),
    line(sc.chdtri, pos, unit, diff=(1,)),
    line(sc.gdtr, pos, pos, pos, diff=(0, 2)),
    line(sc.gdtrc, pos, pos, pos, diff=(0, 2)),
    line(sc.gdtrix, pos, pos, unit, diff=(0, 2)),
    line(sc.gdtria, unit, pos, pos, diff=(0, 2)),
    line(sc.chndtr, pos, pos, pos, diff=(0,)),
    line(sc.stdtr, pos, rand, diff=(1,)),
    line(sc.stdtrit, pos, unit, diff=(1,)),
    line(sc.fdtr, pos, pos, pos, diff=(2,)),
    line(sc.fdtrc, pos, pos, pos, diff=(2,)),
    line(sc.fdtri, pos, pos, unit, diff=(2,)),
]
# fmt: on
