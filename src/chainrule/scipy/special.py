"""scipy.special on traced values: `from chainrule.scipy import special`.

Importing this module registers SciPy's special-function ufuncs, so that
`scipy.special.erf(x)` on a traced x works unchanged: each is one line, the
local partial derivative per argument (as in `chainrule.rules.elementwise`).
polygamma, logsumexp, softmax and log_softmax are Python functions in SciPy;
here they are a primitive (polygamma) and compositions (the others, stable
by shifting with the maximum, which carries no derivative). Any other name
is SciPy's own.
"""

import numpy as np
import scipy.special as sc

from ..complex_step import ComplexStepArray
from ..core.primitive import Primitive, elementwise, register_ufunc
from ..core.trace import Box, raw

# cs_jvp's arrays take the compositions too: SciPy's logsumexp takes moduli
_TRACED = (Box, ComplexStepArray)

_SQRT_PI = np.sqrt(np.pi)
_SQRT_2PI = np.sqrt(2 * np.pi)


def _dpolygamma(n, x):
    if np.iscomplexobj(raw(x)):
        from ..core.errors import NoRuleError
        raise NoRuleError(
            "scipy.special.polygamma has no complex version, so chainrule has no derivative "
            "of digamma or polygamma (nor a second derivative of gamma) at complex input")
    return polygamma(n + 1, x)


# polygamma(n, x) = d^n/dx^n digamma(x); n is static.
polygamma_p = Primitive(
    "polygamma", lambda x, n: sc.polygamma(n, x),
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


# fmt: off
DIFFERENTIABLE = {
    # ufunc:       (name, partial per argument...)
    sc.gamma:      ("gamma", lambda x, ans: ans * sc.digamma(x)),
    sc.gammaln:    ("gammaln", lambda x: sc.digamma(x)),
    sc.digamma:    ("digamma", lambda x: _dpolygamma(0, x)),
    sc.beta:       ("beta", lambda x, y, ans: ans * (sc.digamma(x) - sc.digamma(x + y)),
                    lambda x, y, ans: ans * (sc.digamma(y) - sc.digamma(x + y))),
    sc.betaln:     ("betaln", lambda x, y: sc.digamma(x) - sc.digamma(x + y),
                    lambda x, y: sc.digamma(y) - sc.digamma(x + y)),
    sc.erf:        ("erf", lambda x: 2 / _SQRT_PI * np.exp(-x * x)),
    sc.erfc:       ("erfc", lambda x: -2 / _SQRT_PI * np.exp(-x * x)),
    sc.erfcx:      ("erfcx", lambda x, ans: 2 * x * ans - 2 / _SQRT_PI),
    sc.erfinv:     ("erfinv", lambda ans: _SQRT_PI / 2 * np.exp(ans * ans)),
    sc.erfcinv:    ("erfcinv", lambda ans: -_SQRT_PI / 2 * np.exp(ans * ans)),
    sc.ndtr:       ("ndtr", lambda x: np.exp(-x * x / 2) / _SQRT_2PI),
    sc.log_ndtr:   ("log_ndtr", lambda x, ans: np.exp(-x * x / 2 - ans) / _SQRT_2PI),
    sc.ndtri:      ("ndtri", lambda ans: _SQRT_2PI * np.exp(ans * ans / 2)),
    sc.expit:      ("expit", lambda ans: ans * (1 - ans)),
    sc.log_expit:  ("log_expit", lambda x: sc.expit(-x)),
    sc.logit:      ("logit", lambda x: 1 / (x * (1 - x))),
    sc.xlogy:      ("xlogy", lambda y: np.log(y), lambda x, y: x / y),
    sc.xlog1py:    ("xlog1py", lambda y: np.log1p(y), lambda x, y: x / (1 + y)),
    sc.entr:       ("entr", lambda x: -np.log(x) - 1),
    sc.i0:         ("i0", lambda x: sc.i1(x)),
    sc.i1:         ("i1", lambda x, ans: sc.i0(x) - ans / x),              # x != 0
    sc.i0e:        ("i0e", lambda x, ans: sc.i1e(x) - np.sign(x) * ans),
    sc.i1e:        ("i1e", lambda x, ans: sc.i0e(x) - ans * (np.sign(x) + 1 / x)),  # x != 0
}
# fmt: on

for _ufunc, (_name, *_partials) in DIFFERENTIABLE.items():
    register_ufunc(_ufunc, elementwise(_name, _ufunc, *_partials))


def _shift(a, axis):
    """The maximum along axis (kept), 0 where not finite: a constant shift."""
    m = np.max(raw(a), axis=axis, keepdims=True)
    return np.where(np.isfinite(m), m, 0.0)


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """log(sum(b * exp(a))) along axis, computed stably (scipy.special.logsumexp).

    Example:
        >>> import chainrule as cr
        >>> cr.grad(lambda x: logsumexp(x))(np.zeros(2))
        array([0.5, 0.5])
    """
    if not isinstance(a, _TRACED) and not isinstance(b, _TRACED):
        return sc.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=return_sign)
    m = _shift(a, axis)
    e = np.exp(a - m) if b is None else b * np.exp(a - m)
    total = np.sum(e, axis=axis, keepdims=True)
    if return_sign and np.iscomplexobj(raw(total)):
        sign = np.sign(total)  # the phase: differentiable, as log|total|
        out = np.log(np.abs(total)) + np.real(m)
    else:
        sign = np.sign(raw(total))  # +-1: piecewise constant
        out = np.log(total * sign if return_sign else total) + m
    if not keepdims:
        axes = tuple(range(np.ndim(out))) if axis is None else axis
        out, sign = np.squeeze(out, axes), np.squeeze(sign, axes)
    return (out, sign) if return_sign else out


def softmax(x, axis=None):
    """exp(x) / sum(exp(x)) along axis (scipy.special.softmax).

    Example:
        >>> import chainrule as cr
        >>> cr.grad(lambda x: softmax(x)[0])(np.zeros(2))
        array([ 0.25, -0.25])
    """
    if not isinstance(x, _TRACED):
        return sc.softmax(x, axis=axis)
    e = np.exp(x - _shift(x, axis))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis=None):
    """x - logsumexp(x) along axis (scipy.special.log_softmax)."""
    if not isinstance(x, _TRACED):
        return sc.log_softmax(x, axis=axis)
    shifted = x - _shift(x, axis)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def __getattr__(name):
    """Every other name is scipy.special's own (its ufuncs registered above)."""
    return getattr(sc, name)
