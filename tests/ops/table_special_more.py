"""Op table: the scipy.special rules of chainrule.scipy.special_rules_extra
(Kelvin, scaled Airy, modified Fresnel and Mathieu functions, Kolmogorov's and
Tukey's lambda distributions, besselpoly, Carlson's R_G, the shifted Jacobi
polynomials), in the arguments that have a derivative. Complex outputs of a
real argument are checked through their real and imaginary parts."""

import numpy as np
import scipy.special as sc

from chainrule.core.errors import NoRuleError
from chainrule.scipy import special_rules_extra

from .spec import Op, pos, rand
from .table_scipy_special import NO_CS, SHAPES, inner, ints, line, unit


def parts(ufunc):
    """ufunc's outputs as real and imaginary parts (complex outputs of real input)."""
    def fun(*args):
        return tuple(p for out in ufunc(*args) for p in (np.real(out), np.imag(out)))
    fun.__name__ = ufunc.__name__
    return fun


def degrees(*s):
    return rand(*s, low=5.0, high=85.0)


def _mathieu_lines():
    out = []
    for ufunc, x in [(sc.mathieu_cem, degrees), (sc.mathieu_sem, degrees),
                     (sc.mathieu_modcem1, pos), (sc.mathieu_modcem2, pos),
                     (sc.mathieu_modsem1, pos), (sc.mathieu_modsem2, pos)]:
        first = 0 if "cem" in ufunc.__name__ else 1  # sem's orders start at 1
        out.append(line(ufunc, ints(first, first + 2), lambda *s: pos(*s, low=0.2, high=2.0), x,
                        diff=(2,), modes=NO_CS))
    return out


# fmt: off
OPS = [
    line(sc.kelvin, pos, fun=parts(sc.kelvin), modes=NO_CS,
         notes="complex outputs of real input: cs_jvp does not apply"),
    line(sc.airye, pos, modes=NO_CS, complex=NoRuleError,
         notes="complex input: eBi scales by exp(-|Re zeta|), not holomorphic"),
    line(sc.airye, lambda *s: rand(*s, low=-2.0, high=-0.1), name="airye_negative", covers="airye",
         fun=lambda x: sc.airye(x)[2:], modes=NO_CS, complex=False,
         notes="x < 0: eAi is nan there; eBi is Bi (no scaling)"),
    line(sc.modfresnelp, pos, fun=parts(sc.modfresnelp), modes=NO_CS, complex=False,
         notes="real x >= 0 only (SciPy's fp at x < 0 is refused)"),
    line(sc.modfresnelm, pos, fun=parts(sc.modfresnelm), modes=NO_CS, complex=False,
         notes="real x >= 0 only (SciPy's fm at x < 0 is refused)"),
    *_mathieu_lines(),
    line(sc.kolmogorov, lambda *s: pos(*s, low=0.3, high=2.5), complex=False,
         notes="no complex loop"),
    line(sc.kolmogorov, lambda *s: pos(*s, low=0.3, high=0.95), name="kolmogorov_small", covers="kolmogorov",
         complex=False, notes="the series for y < 1"),
    line(sc.kolmogi, unit, complex=False, notes="no complex loop"),
    line(sc.tklmbda, inner, lambda *s: pos(*s, low=0.2, high=0.9), complex=False,
         notes="no complex loop; lambda away from 0, where SciPy switches to the logistic"),
    line(sc.tklmbda, lambda *s: rand(*s, low=-3.0, high=3.0), lambda *s: rand(*s, low=-0.9, high=-0.2),
         name="tklmbda_negative_lambda", covers="tklmbda", complex=False, notes="no complex loop"),
    line(sc.besselpoly, pos, pos, ints(0, 3), diff=(0,), complex=False, notes="no complex loop"),
    line(sc.elliprg, pos, pos, pos, smooth=False, modes=("rev", "fwd", "cs", "check"),
         complex_modes=("rev", "fwd", "check"),
         notes="first order only: the partials use R_D, which has no rule"),
    line(sc.eval_sh_jacobi, ints(0, 4), lambda *s: pos(*s, low=2.0, high=3.0),
         lambda *s: pos(*s, low=0.5, high=1.5), unit, diff=(3,)),
]
# fmt: on


def refusing():
    """(ufunc, name) of the rules whose every argument raises a NoRuleError
    naming it: no mode applies; tests/test_special_refusals.py checks that
    every argument is refused, by name, in both modes."""
    for rules in (special_rules_extra.UFUNC_RULES, special_rules_extra.MULTI_OUTPUT_RULES):
        for ufunc, (name, *partials) in rules.items():
            if all(p.__code__.co_argcount == 0 for p in partials):
                yield ufunc, name


OPS += [Op(name, ufunc, ((np.full(3, 0.5),) * ufunc.nin,), modes=(), complex=False,
           notes="every argument refused (tests/test_special_refusals.py)")
        for ufunc, name in refusing()]
assert len(SHAPES) == 2
