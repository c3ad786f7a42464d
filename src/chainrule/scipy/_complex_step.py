"""Complex-step inputs for primitives that call compiled SciPy code.

SciPy's complex routines are not always the analytic continuation of the
real ones (Schur forms conjugate, tolerances take moduli), so a primitive
made with `continued` meets cs_jvp's complex-step arrays by continuing to
first order in the imaginary part, f(a + ib) = f(a) + i f'(a) b, through its
own JVP rule: exact up to O(b**2) = O(h**2), the order of the complex step.
"""

import numpy as np

from ..complex_step import ComplexStepArray, _wrap


def continued(prim):
    """Give `prim` (a Primitive) a complex-step-aware impl; returns prim.

    Example:
        >>> from chainrule.core.primitive import elementwise
        >>> p = continued(elementwise("sq", np.square, lambda x: 2 * x, register=False))
        >>> x = (np.array(3.0) + 1e-20j * np.array(1.0)).view(ComplexStepArray)
        >>> float(p.impl(x).imag / 1e-20)
        6.0
    """
    impl = prim.impl

    def run(*args, **params):
        steps = [a for a in args if isinstance(a, ComplexStepArray)]
        if not steps:
            return impl(*args, **params)
        real = [a.view(np.ndarray).real if isinstance(a, ComplexStepArray) else a for a in args]
        tangents = [a.view(np.ndarray).imag if isinstance(a, ComplexStepArray) else None
                    for a in args]
        ans = impl(*real, **params)
        t = prim.jvp(tangents, real, ans, params)
        if prim.multiple_results:
            t = [None] * len(ans) if t is None else t
            return type(ans)(_step(a, ti, steps[0]._tag) for a, ti in zip(ans, t))
        return _step(ans, t, steps[0]._tag)

    prim.impl = run
    return prim


def _step(value, tangent, tag):
    if tangent is None:
        return value
    return _wrap(np.asarray(value) + 1j * np.asarray(tangent), tag)
