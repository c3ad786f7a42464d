"""scipy.special on traced values: `from chainrule.scipy import special`.

Importing this module registers SciPy's special-function ufuncs, so that
`scipy.special.erf(x)` on a traced x works unchanged: each is one line, the
local partial derivative per argument, in `chainrule.scipy.special_rules`.
polygamma, logsumexp, softmax and log_softmax are Python functions in SciPy;
here they are a primitive (polygamma) and compositions (the others, stable
by shifting with the maximum, which carries no derivative). Any other name
is SciPy's own.
"""

import numpy as np
import scipy.special as sc

from .. import complex_step
from ..complex_step import ComplexStepArray, ComplexStepError
from ..core.primitive import elementwise, nondifferentiable, register_ufunc
from ..core.trace import Box, raw
from ..rules import ufunc_methods
from . import special_rules_extra
from .special_rules import (MULTI_OUTPUT_RULES, PIECEWISE_CONSTANT, UFUNC_RULES, multi_output,
                            polygamma, polygamma_p)  # noqa: F401

# cs_jvp's arrays take the compositions too: SciPy's logsumexp takes moduli
_TRACED = (Box, ComplexStepArray)

for _rules in (UFUNC_RULES, special_rules_extra.UFUNC_RULES):
    for _ufunc, (_name, *_partials) in _rules.items():
        register_ufunc(_ufunc, elementwise(_name, _ufunc, *_partials))
for _rules in (MULTI_OUTPUT_RULES, special_rules_extra.MULTI_OUTPUT_RULES):
    for _ufunc, (_name, *_derivatives) in _rules.items():
        register_ufunc(_ufunc, multi_output(_name, _ufunc, *_derivatives))
for _ufunc, _name in PIECEWISE_CONSTANT.items():
    register_ufunc(_ufunc, nondifferentiable(_name, _ufunc))
ufunc_methods.install()  # .outer, .reduce... of the binary ones


def _no_complex_step(ufunc, why):
    def rule(*args, **kwargs):
        raise ComplexStepError(f"scipy.special.{ufunc.__name__} has no complex-step form: {why}; "
                               "use cr.jvp.")
    return rule


_ROUNDED = "its complex version loses an imaginary part of size h to rounding"

# Complex loops that are not the continuation of the real function.
for _ufunc, _why in {
    sc.ive: "it scales by exp(-|Re z|), which is not holomorphic",
    # AMOS's complex Bessel functions (and expi, hyp0f1 at x < 0) are accurate
    # relative to |f|, so an imaginary part of 1e-20 |f| is lost in rounding
    sc.jv: _ROUNDED, sc.yv: _ROUNDED, sc.iv: _ROUNDED, sc.kv: _ROUNDED,
    sc.jve: _ROUNDED, sc.yve: _ROUNDED, sc.kve: _ROUNDED,
    sc.expi: _ROUNDED, sc.hyp0f1: _ROUNDED, sc.sici: _ROUNDED, sc.shichi: _ROUNDED,
    sc.hankel1: "it is complex-valued for real input",
    sc.hankel2: "it is complex-valued for real input",
    sc.hankel1e: "it is complex-valued for real input",
    sc.hankel2e: "it is complex-valued for real input",
    sc.wofz: "it is complex-valued for real input",
}.items():
    complex_step.UFUNC_RULES.setdefault(_ufunc, _no_complex_step(_ufunc, _why))


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
