"""Hand-coded blocks: a user function with its own backprop becomes a primitive."""

import functools

from .core.primitive import Primitive
from .core.reverse import ReverseTrace
from .core.trace import top_trace


def custom_vjp(fun):
    """Decorator: `fun(*args) -> (value, backprop)` becomes a primitive.

    Callers get only `value`. Reverse mode calls `backprop(g)`, which returns
    one cotangent per positional argument (None where an argument is not
    differentiable). backprop is ordinary NumPy code, so it is itself
    differentiated under `grad(grad(...))`. Forward mode and complex step run
    through fun's own NumPy code, so the two can be checked against each
    other.

    Example:
        >>> import numpy as np
        >>> @custom_vjp
        ... def softplus(x):
        ...     ans = np.logaddexp(0.0, x)
        ...     return ans, lambda g: (g / (1 + np.exp(-x)),)
        >>> float(softplus(0.0))
        0.6931471805599453
    """

    def impl(*args):
        return fun(*args)[0]

    def run_with_backprop(*args):
        return fun(*args)

    def save(args, ans, params):
        return ans  # the backprop handle, stored by process below

    def vjp(g, backprop, params, which):
        cts = backprop(g)
        if not isinstance(cts, (tuple, list)):
            raise TypeError(f"the backprop of {fun.__name__} must return a tuple of cotangents")
        return [cts[i] for i in which]

    prim = Primitive(f"custom_vjp({fun.__name__})", impl, vjp=vjp, save=save, register=False)
    prim.run_with_backprop = run_with_backprop

    @functools.wraps(fun)
    def wrapper(*args):
        trace = top_trace(args)
        if isinstance(trace, ReverseTrace):
            return trace.process_custom(prim, args)
        return fun(*args)[0]

    wrapper.primitive = prim
    return wrapper
