"""Reductions along axes: sum, mean, ... with axis and keepdims.

`sum` is a linear primitive (its transpose broadcasts the cotangent back);
the others are stated in terms of primitives where that is exact.
"""

import numpy as np

from ..core.primitive import implements, linear
from .shape import normalize_axes


def _sum_transpose(g, shapes, params, which):
    shape = shapes[0]
    if not params["keepdims"]:
        kept = list(np.shape(g))
        for ax in params["axis"]:
            kept.insert(ax, 1)
        g = np.reshape(g, tuple(kept))
    return (np.broadcast_to(g, shape),)


sum_p = linear(
    "sum", lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
    _sum_transpose)


def _check_plain(name, out=None, where=True, **_):
    if out is not None:
        from ..core.errors import MutationError
        raise MutationError(f"np.{name}(..., out=...) would write in place into a traced result")
    if where is not True:
        raise NotImplementedError(f"np.{name}(..., where=...) is not supported on traced values")


@implements(np.sum)
def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=0, where=True):
    _check_plain("sum", out, where)
    if dtype is not None:
        a = a.astype(dtype)
    axes = normalize_axes(axis, np.ndim(a))
    result = sum_p(a, axis=axes, keepdims=bool(keepdims)) if axes or keepdims else a
    return result + initial if initial is not None and initial is not np._NoValue and initial != 0 else result


@implements(np.mean)
def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    _check_plain("mean", out, where)
    shape = np.shape(a)
    count = int(np.prod([shape[ax] for ax in normalize_axes(axis, len(shape))], dtype=np.int64))
    return sum(a, axis, dtype, None, keepdims) / count
