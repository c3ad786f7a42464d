"""The methods of differentiable binary ufuncs: .outer, .reduce, .accumulate
and .reduceat, for every binary ufunc with a rule.

* `outer` is the ufunc on the first argument given trailing length-1 axes.
* `reduce` and `accumulate` fold the ufunc along the axis, one call per
  entry (add, multiply, maximum and minimum have faster forms in
  reductions.py; logaddexp and logaddexp2 reduce as a shifted log-sum-exp).
* `reduceat` reduces each segment between consecutive indices (an index not
  below the next gives that single entry, as in NumPy).

Example:
    >>> import chainrule as cr
    >>> cr.grad(lambda x: np.sum(np.subtract.outer(x, x) ** 2))(np.array([1.0, 2.0]))
    array([-4.,  4.])
"""

import numpy as np

from ..core.errors import MutationError, NoRuleError, UnsupportedOptionError
from ..core.primitive import UFUNC_METHODS, UFUNCS
from ..core.trace import raw
from .shape import along, normalize_axes


def _plain_call(ufunc, method, out=None, where=True, **kwargs):
    if out is not None:
        raise MutationError(f"numpy.{ufunc.__name__}.{method}(..., out=...) would write in place")
    if where is not True:
        raise UnsupportedOptionError(f"numpy.{ufunc.__name__}.{method}(..., where=...) is not "
                                     "supported on traced values")


def _outer(ufunc):
    def outer(a, b, **kwargs):
        _plain_call(ufunc, "outer", **kwargs)
        if kwargs.get("dtype") is not None:
            a = a.astype(kwargs["dtype"])
        return ufunc(np.reshape(a, np.shape(a) + (1,) * np.ndim(b)), b)
    return outer


def _fold_axis(ufunc, array, axis, dtype):
    if dtype is not None:
        array = array.astype(dtype)
    if axis is None:
        return np.ravel(array), 0
    axes = normalize_axes(axis, np.ndim(array))
    if len(axes) != 1:
        raise UnsupportedOptionError(
            f"numpy.{ufunc.__name__}.reduce over several axes is not supported on traced values")
    return array, axes[0]


def _reduce(ufunc):
    def reduce(array, axis=0, dtype=None, out=None, keepdims=False, initial=np._NoValue,
               where=True):
        _plain_call(ufunc, "reduce", out, where)
        shape, nd = np.shape(array), np.ndim(array)
        x, ax = _fold_axis(ufunc, array, axis, dtype)
        n = np.shape(x)[ax]
        items = [x[along(ax, k)] for k in range(n)]
        if initial is not np._NoValue:
            items = [np.broadcast_to(initial, np.shape(items[0]) if items else
                                     np.shape(x)[:ax] + np.shape(x)[ax + 1:])] + items
        if not items:
            raise ValueError(f"zero-size array to reduction operation {ufunc.__name__} "
                             "which has no identity")
        result = _combine(ufunc, items)
        if keepdims:
            kept = ((1,) * nd if axis is None
                    else tuple(1 if d == ax else s for d, s in enumerate(shape)))
            result = np.reshape(result, kept)
        return result
    return reduce


def _combine(ufunc, items):
    """ufunc folded over the items, left to right."""
    if ufunc in _LOG_SUM_EXP:
        return _LOG_SUM_EXP[ufunc](np.stack(items))
    result = items[0]
    for item in items[1:]:
        result = ufunc(result, item)
    return result


def _logsumexp(exp, log):
    def lse(x):
        m = np.max(raw(x), axis=0)
        m = np.where(np.isfinite(m), m, 0.0)  # a constant shift: carries no derivative
        return log(np.sum(exp(x - m), axis=0)) + m
    return lse


_LOG_SUM_EXP = {np.logaddexp: _logsumexp(np.exp, np.log),
                np.logaddexp2: _logsumexp(np.exp2, np.log2)}


def _accumulate(ufunc):
    def accumulate(array, axis=0, dtype=None, out=None):
        _plain_call(ufunc, "accumulate", out)
        x, ax = _fold_axis(ufunc, array, 0 if axis is None else axis, dtype)
        n = np.shape(x)[ax]
        results = [x[along(ax, 0)]] if n else []
        for k in range(1, n):
            results.append(ufunc(results[-1], x[along(ax, k)]))
        return np.stack(results, axis=ax) if results else x
    return accumulate


def _reduceat(ufunc, reduce):
    def reduceat(array, indices, axis=0, dtype=None, out=None):
        _plain_call(ufunc, "reduceat", out)
        x, ax = _fold_axis(ufunc, array, axis, dtype)
        idx = [int(i) for i in np.asarray(raw(indices)).ravel()]
        n = np.shape(x)[ax]
        pieces = []
        for k, i in enumerate(idx):
            if not 0 <= i < n:
                raise IndexError(f"index {i} out-of-bounds in {ufunc.__name__}.reduceat [0, {n})")
            j = idx[k + 1] if k + 1 < len(idx) else n
            if i < j:
                pieces.append(reduce(x[along(ax, slice(i, j))], axis=ax))
            else:
                pieces.append(x[along(ax, i)])
        return np.stack(pieces, axis=ax)
    return reduceat


# Folds are registered only for the ufuncs where NumPy's methods are the
# left fold ((x0 op x1) op x2 ...) in every layout (tests/test_ufunc_folds.py).
_FOLDS = {np.subtract, np.divide, np.hypot, np.logaddexp, np.logaddexp2, np.fmod,
          np.copysign, np.remainder, np.maximum, np.minimum, np.fmax, np.fmin, np.add,
          np.multiply, np.float_power, np.floor_divide, np.heaviside, np.nextafter}

# Boolean answers: NumPy's methods run on the values, with no derivative.
_BOOLEAN = {np.logical_and, np.logical_or, np.logical_xor}


def _on_values(ufunc, method):
    def plain(*args, **kwargs):
        _plain_call(ufunc, method, kwargs.pop("out", None), kwargs.pop("where", True))
        return getattr(ufunc, method)(*(raw(a) for a in args),
                                      **{k: raw(v) for k, v in kwargs.items()})
    return plain

# NumPy 2's power.reduce and arctan2.reduce (and reduceat) along the contiguous
# axis are not the fold: for a few entries they give x0 op x_last, for more a
# blocked order, and along the other axes the fold, so the answer depends on
# the memory layout. Their accumulate is the fold.
_ACCUMULATE_ONLY = {np.power, np.arctan2}


def _layout_dependent(ufunc, method):
    def refuse(*args, **kwargs):
        raise NoRuleError(
            f"numpy.{ufunc.__name__}.{method} on traced values: NumPy's own result along the "
            "contiguous axis is not the left fold (x0 op x1) op x2 ... but depends on the "
            "memory layout, so chainrule has no rule that matches it; use "
            f"np.{ufunc.__name__}.accumulate(x, axis).take(-1, axis) (the fold) or a loop.")
    return refuse


def install():
    """Register the methods of every binary ufunc with a rule (keeping any
    faster form already registered)."""
    for ufunc, prim in list(UFUNCS.items()):
        if ufunc.nin != 2 or ufunc.nout != 1 or ufunc.signature is not None:
            continue
        UFUNC_METHODS.setdefault((ufunc, "outer"), _outer(ufunc))
        if ufunc in _BOOLEAN:
            for method in ("reduce", "accumulate", "reduceat"):
                UFUNC_METHODS.setdefault((ufunc, method), _on_values(ufunc, method))
        if ufunc in _ACCUMULATE_ONLY:
            UFUNC_METHODS.setdefault((ufunc, "accumulate"), _accumulate(ufunc))
            for method in ("reduce", "reduceat"):
                UFUNC_METHODS.setdefault((ufunc, method), _layout_dependent(ufunc, method))
        if ufunc not in _FOLDS:
            continue
        reduce = UFUNC_METHODS.get((ufunc, "reduce")) or _reduce(ufunc)
        for method, handler in (("reduce", reduce), ("accumulate", _accumulate(ufunc)),
                                ("reduceat", _reduceat(ufunc, reduce))):
            UFUNC_METHODS.setdefault((ufunc, method), handler)
    for ufunc in _LOG_SUM_EXP:  # the stable form, not a fold
        UFUNC_METHODS[(ufunc, "reduce")] = _reduce(ufunc)


install()
