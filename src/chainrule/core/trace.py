"""Trace levels and `bind`, the single entry point of every primitive call.

Each differentiation in progress is a `Trace` with its own level; a trace
started inside another gets a higher level. A traced value is a `Box` that
belongs to one trace and wraps a value of a lower level (a plain array at
the bottom).

`bind(prim, *args, **params)` is where nesting is decided, in one place:
the trace with the highest level among the boxed arguments processes the
call. It unwraps only its own boxes and treats every other argument,
including boxes of lower levels, as a constant, and binds the primitive
again on the unwrapped values, so each lower level processes it in turn;
`prim.impl` itself only ever sees plain values. So in d/dx [x * d/dy (x + y)] the inner derivative sees x as a
constant and the answer is 1 (no perturbation confusion).
"""

import itertools

_levels = itertools.count(1)


class Trace:
    """One differentiation (or batching, or graph recording) in progress.

    Subclasses implement `process(prim, args, params)`, which evaluates the
    primitive on the unwrapped arguments and wraps the result in a box of
    this trace, recording whatever the mode needs.
    """

    __slots__ = ("level", "__weakref__")

    def __init__(self):
        self.level = next(_levels)

    def process(self, prim, args, params):  # pragma: no cover - abstract
        raise NotImplementedError


def bind(prim, *args, **params):
    """Apply primitive `prim` to `args`, letting the innermost trace handle it.

    Example:
        >>> import numpy as np
        >>> from chainrule.core.primitive import UFUNCS
        >>> float(bind(UFUNCS[np.sin], 0.0))
        0.0
    """
    top = None
    for a in args:
        if isinstance(a, Box):
            trace = a._trace
            if top is None or trace.level > top.level:
                top = trace
    if top is None:
        return prim.impl(*args, **params)
    return top.process(prim, args, params)


def top_trace(values):
    """The highest-level trace among boxes in `values`, or None."""
    top = None
    for a in values:
        if isinstance(a, Box) and (top is None or a._trace.level > top.level):
            top = a._trace
    return top


def raw(x):
    """The plain value under all levels of boxes."""
    while isinstance(x, Box):
        x = x._value
    return x


from .box import Box  # noqa: E402  (Box needs bind; bind needs Box)
from . import primitive  # noqa: E402

primitive.bind = bind
