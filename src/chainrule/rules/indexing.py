"""Indexing: basic and advanced `x[index]`, with scatter-add transposes."""

import numpy as np

from ..core.box import Box
from ..core.errors import NonDifferentiableInputError
from ..core.primitive import Primitive, implements, linear
from ..core.trace import raw


def _has_advanced(index):
    return any(not isinstance(i, (slice, int, np.integer, type(None), type(Ellipsis)))
               for i in index)


def _scatter_add(g, index, shape):
    """Zeros of `shape` with g added at `index` (repeated indices accumulate)."""
    out = np.zeros(shape, np.result_type(g))
    if _has_advanced(index) and not (len(index) == 1 and np.result_type(index[0]) == bool):
        np.add.at(out, index, g)
    else:
        out[index] = g
    return out


getitem_p = linear(
    "getitem", lambda x, index: x[index],
    lambda g, shapes, params, which: (scatter_add_p(g, index=params["index"], shape=shapes[0]),))
scatter_add_p = linear(
    "scatter_add", _scatter_add,
    lambda g, shapes, params, which: (getitem_p(g, index=params["index"]),))


def getitem(x, index):
    """x[index] on a traced x; index arrays must be plain integer or boolean."""
    index = index if isinstance(index, tuple) else (index,)
    parts = []
    for i in index:
        if isinstance(i, Box):
            if np.result_type(raw(i)).kind in "fc":
                raise NonDifferentiableInputError("an index may not be a traced floating-point value")
            i = raw(i)
        elif isinstance(i, list):
            i = np.asarray(i)
        parts.append(i)
    return getitem_p(x, index=tuple(parts))


@implements(np.take)
def take(a, indices, axis=None, out=None, mode="raise"):
    if axis is None:
        return getitem(np.ravel(a), (indices,))
    axis = axis % np.ndim(a)
    return getitem(a, (slice(None),) * axis + (indices,))


# ---- where: a selection between two arrays ----
def _where_jvp(tangents, args, ans, params):
    cond, x, y = args
    _, tx, ty = tangents
    if tx is None and ty is None:
        return None
    tx = np.zeros(np.shape(x)) if tx is None else tx
    ty = np.zeros(np.shape(y)) if ty is None else ty
    return np.broadcast_to(np.where(cond, tx, ty), np.shape(ans))


def _where_vjp(g, res, params, which):
    cond = res
    return [None if i == 0 else np.where(cond, g, 0.0) if i == 1 else np.where(cond, 0.0, g)
            for i in which]


where_p = Primitive("where", np.where, jvp=_where_jvp, vjp=_where_vjp,
                    save=lambda args, ans, params: args[0])


@implements(np.where)
def where(condition, x=None, y=None):
    if x is None and y is None:
        return np.nonzero(condition)
    return where_p(condition, x, y)


@implements(np.nonzero)
def nonzero(a):
    return np.nonzero(raw(a))
