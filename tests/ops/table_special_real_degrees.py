"""Op table: scipy.special functions whose "integer" argument SciPy also
takes as a real number, in x: the orthogonal polynomials at a real degree
(SciPy's hypergeometric continuation, for which the recurrences of the rules
hold unchanged), and the Bessel functions and distribution functions whose
order or count SciPy reads with its fractional part dropped."""

import numpy as np
import scipy.special as sc

from .spec import pos, rand
from .table_scipy_special import NO_CS, inner, line, unit


def real_degree(*s):
    return rand(*s, low=0.2, high=3.8)


def negative_degree(*s):
    return rand(*s, low=-3.8, high=-0.2)


def fractional(low, high):
    """Counts with a fractional part, which SciPy drops."""
    return lambda *s: np.floor(rand(*s, low=low, high=high + 1)) + rand(*s, low=0.1, high=0.9)


def _ops():
    ops = []
    for ufunc, x in [(sc.eval_legendre, inner), (sc.eval_chebyt, inner),
                     (sc.eval_chebyu, inner), (sc.eval_sh_legendre, unit),
                     (sc.eval_sh_chebyt, unit), (sc.eval_sh_chebyu, unit),
                     (sc.eval_chebyc, lambda *s: 1.8 * inner(*s)),
                     (sc.eval_chebys, lambda *s: 1.8 * inner(*s)), (sc.eval_laguerre, pos)]:
        for degree, tag in ((real_degree, "real"), (negative_degree, "negative")):
            ops.append(line(ufunc, degree, x, diff=(1,), name=f"{ufunc.__name__}_{tag}_degree",
                            covers=ufunc.__name__))
    ops += [
        line(sc.eval_genlaguerre, real_degree, pos, pos, diff=(2,),
             name="eval_genlaguerre_real_degree", covers="eval_genlaguerre"),
        line(sc.eval_gegenbauer, real_degree, pos, inner, diff=(2,),
             name="eval_gegenbauer_real_degree", covers="eval_gegenbauer"),
        line(sc.eval_jacobi, real_degree, pos, pos, inner, diff=(3,),
             name="eval_jacobi_real_degree", covers="eval_jacobi"),
        line(sc.kn, fractional(0, 3), pos, diff=(1,), name="kn_fractional_order", covers="kn",
             modes=NO_CS),
        line(sc.yn, fractional(0, 3), pos, diff=(1,), name="yn_fractional_order", covers="yn",
             modes=NO_CS),
        line(sc.bdtr, fractional(0, 3), fractional(6, 8), unit, diff=(2,),
             name="bdtr_fractional_counts", covers="bdtr"),
        line(sc.bdtrc, fractional(0, 3), fractional(6, 8), unit, diff=(2,),
             name="bdtrc_fractional_counts", covers="bdtrc"),
        line(sc.nbdtr, fractional(0, 3), fractional(1, 4), unit, diff=(2,),
             name="nbdtr_fractional_counts", covers="nbdtr"),
        line(sc.nbdtrc, fractional(0, 3), fractional(1, 4), unit, diff=(2,),
             name="nbdtrc_fractional_counts", covers="nbdtrc"),
    ]
    return ops


OPS = _ops()
