"""Op table: scipy.special, called directly on traced values (registered ufuncs)
and through chainrule.scipy.special (polygamma and the compositions)."""

import numpy as np
import scipy.special as sc

from chainrule.scipy import special as cs

from chainrule.core.errors import NoRuleError

from .spec import Op, binary_cases, pos, rand, unary_cases


def unit(*shape):
    """Random values in (0.1, 0.9), the domain of logit and erfcinv's middle."""
    return rand(*shape, low=0.1, high=0.9)


def away(*shape):
    """Random values bounded away from 0 (i1 and i1e divide by x)."""
    return np.where(rand(*shape) > 0, 1.0, -1.0) * pos(*shape)


NO_CS = ("rev", "fwd", "rev_rev", "fwd_rev", "check")  # every mode but the complex step

# fmt: off
OPS = [
    Op("gamma", sc.gamma, unary_cases(pos), complex_modes=("rev", "fwd", "check"),
       notes="complex: gamma's second derivative needs polygamma(1, z), which SciPy lacks"),
    Op("gammaln", sc.gammaln, unary_cases(pos),
       modes=NO_CS, notes="no complex loop in SciPy: cs_jvp raises ComplexStepError"),
    Op("digamma", sc.digamma, unary_cases(pos), complex=NoRuleError,
       notes="complex: its derivative polygamma(1, z) has no complex version in SciPy"),
    Op("polygamma", lambda x: (cs.polygamma(0, x), cs.polygamma(2, x)), unary_cases(pos),
       modes=NO_CS, notes="SciPy's zeta (n >= 1) has no complex loop: cs_jvp raises ComplexStepError"),
    Op("beta", sc.beta, binary_cases(pos, pos),
       modes=NO_CS, notes="no complex loop in SciPy: cs_jvp raises ComplexStepError"),
    Op("betaln", sc.betaln, binary_cases(pos, pos),
       modes=NO_CS, notes="no complex loop in SciPy: cs_jvp raises ComplexStepError"),
    Op("erf", sc.erf, unary_cases()),
    Op("erfc", sc.erfc, unary_cases()),
    Op("erfcx", sc.erfcx, unary_cases()),
    Op("erfinv", sc.erfinv, unary_cases(lambda *s: 0.8 * rand(*s)),
       modes=NO_CS, notes="no complex loop in SciPy: cs_jvp raises ComplexStepError"),
    Op("erfcinv", sc.erfcinv, unary_cases(lambda *s: 1 + 0.8 * rand(*s)),
       modes=NO_CS, notes="no complex loop in SciPy: cs_jvp raises ComplexStepError"),
    Op("ndtr", sc.ndtr, unary_cases()),
    Op("log_ndtr", sc.log_ndtr, unary_cases()),
    Op("ndtri", sc.ndtri, unary_cases(unit),
       modes=NO_CS, notes="no complex loop in SciPy: cs_jvp raises ComplexStepError"),
    Op("expit", sc.expit, unary_cases(),
       modes=NO_CS, notes="no complex loop in SciPy: cs_jvp raises ComplexStepError"),
    Op("log_expit", sc.log_expit, unary_cases(),
       modes=NO_CS, notes="no complex loop in SciPy: cs_jvp raises ComplexStepError"),
    Op("logit", sc.logit, unary_cases(unit),
       modes=NO_CS, notes="no complex loop in SciPy: cs_jvp raises ComplexStepError"),
    Op("xlogy", sc.xlogy, binary_cases(rand, pos)),
    Op("xlog1py", sc.xlog1py, binary_cases(rand, pos)),
    Op("entr", sc.entr, unary_cases(pos),
       modes=NO_CS, notes="no complex loop in SciPy: cs_jvp raises ComplexStepError"),
    Op("i0", sc.i0, unary_cases(),
       modes=NO_CS, notes="no complex loop in SciPy: cs_jvp raises ComplexStepError"),
    Op("i1", sc.i1, unary_cases(away),
       modes=NO_CS, notes="no complex loop in SciPy: cs_jvp raises ComplexStepError"),
    Op("i0e", sc.i0e, unary_cases(away),
       modes=NO_CS, notes="no complex loop in SciPy: cs_jvp raises ComplexStepError"),
    Op("i1e", sc.i1e, unary_cases(away),
       modes=NO_CS, notes="no complex loop in SciPy: cs_jvp raises ComplexStepError"),
    Op("logsumexp", lambda x: (cs.logsumexp(x), cs.logsumexp(x, axis=-1, keepdims=True),
                               cs.logsumexp(x, axis=0, b=np.linspace(0.5, 1, np.shape(x)[-1]))),
       ((rand(3),), (rand(2, 3),)), covers=("exp", "log", "sum")),
    Op("logsumexp_sign", lambda x: cs.logsumexp(x, b=np.array([1.0, -0.5, 2.0]), return_sign=True)[0],
       ((rand(3),),), covers=("exp", "log")),
    Op("softmax", lambda x: (cs.softmax(x), cs.softmax(x, axis=-1)), ((rand(3),), (rand(2, 3),)),
       covers=("exp", "divide")),
    Op("log_softmax", lambda x: (cs.log_softmax(x), cs.log_softmax(x, axis=0)), ((rand(3),), (rand(2, 3),)),
       covers=("exp", "log")),
]
# fmt: on
