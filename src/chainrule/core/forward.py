"""Forward mode: dual numbers (primal, tangent) by operator overloading.

A dual box carries the tangent of its value along one direction; every
primitive pushes it through its JVP rule. `None` is a symbolic zero tangent:
a result with a zero tangent is returned unboxed, as a constant.
"""

from .box import Box
from .trace import Trace, bind
from .tree import rebuild


class DualBox(Box):
    """A value with a tangent, belonging to one forward-mode trace."""

    __slots__ = ("_tangent",)

    def __init__(self, value, tangent, trace):
        self._value = value
        self._tangent = tangent
        self._trace = trace


class DualTrace(Trace):
    """One forward-mode differentiation.

    Example:
        >>> import numpy as np
        >>> trace = DualTrace()
        >>> y = np.sin(DualBox(0.0, 1.0, trace))
        >>> float(y._tangent)  # cos(0)
        1.0
    """

    __slots__ = ()

    def process(self, prim, args, params):
        vals, tangents, outer = [], [], False
        for a in args:
            t = None
            if isinstance(a, Box):
                if a._trace is self:
                    a, t = a._value, a._tangent
                    outer = outer or isinstance(a, Box)
                else:
                    outer = True
            vals.append(a)
            tangents.append(t)
        ans = bind(prim, *vals, **params) if outer else prim.impl(*vals, **params)
        if not prim.differentiable:
            return ans
        t = prim.jvp(tangents, vals, ans, params)
        if prim.multiple_results:
            t = t if t is not None else [None] * len(ans)
            return rebuild(ans, (a if ta is None else DualBox(a, ta, self) for a, ta in zip(ans, t)))
        return ans if t is None else DualBox(ans, t, self)
