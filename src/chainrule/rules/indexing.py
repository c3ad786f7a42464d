"""Indexing and selection: `x[index]` and the functions built on it.

Three primitives carry every derivative here: `getitem` (basic and advanced
indexing, linear; its transpose scatters the cotangent back, adding up at
repeated indices), its transpose `scatter_add`, and `where`. take,
take_along_axis, diagonal, diag, trace, triu/tril, select, clip, sort and
unique are compositions of those. Index arrays, argsort, argwhere,
searchsorted and the like carry no derivative and return plain arrays.

sort gives each output the derivative of the entry it came from (the
cotangent is scattered back through the argsort). unique gives each distinct
value the derivative of its first occurrence, which is exact wherever the
entries are distinct (there it is a sort) and one valid choice at ties.
"""

import numpy as np

from ..core.errors import MutationError, NonDifferentiableInputError
from ..core.primitive import FUNCTIONS, Primitive, implements, linear, nondifferentiable
from ..core.trace import Box, raw  # (importing trace first loads box in order)
from .shape import along, dtype_of, moveaxis, ndim, normalize_axes, ravel, shape


def _has_advanced(index):
    return any(not isinstance(i, (slice, int, np.integer, type(None), type(Ellipsis)))
               for i in index)


def _scatter_add(g, index, shape):
    """Zeros of `shape` with g added at `index` (repeated indices accumulate)."""
    out = np.zeros(shape, np.result_type(g))
    if _has_advanced(index):
        np.add.at(out, index, g)
    else:
        out[index] = g
    return out


# The tangent of either map is the same map of the tangent; it is bound as a
# primitive (not run as the NumPy impl) because a tangent may itself be traced.
getitem_p = linear(
    "getitem", lambda x, index: x[index],
    lambda g, shapes, params, which: (scatter_add_p(g, index=params["index"], shape=shapes[0]),))
scatter_add_p = linear(
    "scatter_add", _scatter_add,
    lambda g, shapes, params, which: (getitem_p(g, index=params["index"]),))
scatter_add_p.jvp = lambda tangents, args, ans, params: (
    None if tangents[0] is None else scatter_add_p(tangents[0], **params))


def _index_part(i):
    """One entry of an index, as plain ints, slices, None or Ellipsis."""
    if isinstance(i, Box):
        if np.result_type(raw(i)).kind in "fc":
            raise NonDifferentiableInputError("an index may not be a traced floating-point value")
        i = raw(i)
    if isinstance(i, (list, np.ndarray)):
        i = np.asarray(i)
        if i.dtype == bool and i.ndim:
            return np.nonzero(i)  # x[mask] is x[mask.nonzero()], by NumPy's definition
        if i.dtype.kind not in "iub" and i.size:
            raise IndexError("arrays used as indices must be of integer (or boolean) type")
        return (i.astype(np.intp),)
    return (i,)


def getitem(x, index):
    """x[index] on a traced x; index arrays must be plain integer or boolean.

    Example:
        >>> getitem(np.arange(4.0), (np.array([0, 0, 3]),))
        array([0., 0., 3.])
    """
    index = index if isinstance(index, tuple) else (index,)
    return getitem_p(x, index=tuple(p for i in index for p in _index_part(i)))


@implements(np.take)
def take(a, indices, axis=None, out=None, mode="raise"):
    """np.take: indexing along one axis (the flattened array by default)."""
    if out is not None:
        raise MutationError("np.take(..., out=...) would write in place into a traced result")
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axes(axis, ndim(a))[0]
    indices = np.asarray(raw(indices))
    n = shape(a)[axis]
    if mode == "wrap":
        indices = indices % n
    elif mode == "clip":
        indices = np.clip(indices, 0, n - 1)
    elif mode != "raise":
        raise ValueError(f"clipmode must be one of 'clip', 'raise', or 'wrap' (got {mode!r})")
    return getitem(a, along(axis, indices))


@implements(np.take_along_axis)
def take_along_axis(arr, indices, axis=-1):
    """np.take_along_axis: one advanced index, with aranges on the other axes."""
    if axis is None:
        arr, axis = ravel(arr), 0
    indices = np.asarray(raw(indices))
    nd = ndim(arr)
    if indices.ndim != nd:
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    axis = normalize_axes(axis, nd)[0]
    index = tuple(indices if d == axis else
                  np.arange(n).reshape([-1 if k == d else 1 for k in range(nd)])
                  for d, n in enumerate(shape(arr)))
    return getitem(arr, index)


# ---- diagonals and triangles ----
def _diagonal_positions(n1, n2, offset):
    """Row and column positions of the diagonal `offset` of an n1 x n2 matrix."""
    length = max(0, min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2))
    k = np.arange(length)
    return (k, k + offset) if offset >= 0 else (k - offset, k)


@implements(np.diagonal)
def diagonal(a, offset=0, axis1=0, axis2=1):
    """np.diagonal: the two axes moved last, then indexed by (row, col) pairs."""
    if ndim(a) < 2:
        raise ValueError("diag requires an array of at least two dimensions")
    a = moveaxis(a, (axis1, axis2), (-2, -1))
    rows, cols = _diagonal_positions(*shape(a)[-2:], int(offset))
    return getitem(a, (Ellipsis, rows, cols))


@implements(np.diag)
def diag(v, k=0):
    """np.diag: a vector placed on diagonal k, or diagonal k of a matrix."""
    if ndim(v) == 2:
        return diagonal(v, k)
    if ndim(v) != 1:
        raise ValueError("Input must be 1- or 2-d.")
    n = shape(v)[0] + abs(int(k))
    return scatter_add_p(v, index=_diagonal_positions(n, n, int(k)), shape=(n, n))


@implements(np.trace)
def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """np.trace: the sum of a diagonal."""
    if out is not None:
        raise MutationError("np.trace(..., out=...) would write in place into a traced result")
    return np.sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


def _triangle(name, keep):
    def triangle(m, k=0):
        mask = keep(np.ones(shape(m), bool), k)  # NumPy's own mask, for its exact rules
        return where_p(mask, m, np.zeros((), dtype_of(m)))
    triangle.__doc__ = f"np.{name}: entries outside the triangle replaced by zeros."
    return triangle


triu = implements(np.triu)(_triangle("triu", np.triu))
tril = implements(np.tril)(_triangle("tril", np.tril))


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
    """np.where: each entry from x or y; the cotangent goes where it came from."""
    if x is None and y is None:
        return np.nonzero(condition)
    if x is None or y is None:
        raise ValueError("either both or neither of x and y should be given")
    return where_p(condition, x, y)


@implements(np.select)
def select(condlist, choicelist, default=0):
    """np.select: nested wheres, the first true condition winning."""
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    result = default
    for cond, choice in reversed(list(zip(condlist, choicelist))):
        result = np.where(cond, choice, result)
    return result


@implements(np.clip)
def clip(a, a_min=np._NoValue, a_max=np._NoValue, out=None, *, min=np._NoValue,
         max=np._NoValue, **kwargs):
    """np.clip as min(max(a, lo), hi): derivative 1 inside [lo, hi], 0 outside.

    Where a is clipped the derivative goes to the bound instead (bounds may
    be traced too).
    """
    if out is not None:
        raise MutationError("np.clip(..., out=...) would write in place into a traced result")
    if kwargs:
        raise NotImplementedError(
            f"np.clip options {sorted(kwargs)} are not supported on traced values")
    lo = _one_of("min", a_min, min)
    hi = _one_of("max", a_max, max)
    if lo is not None:
        a = where_p(a < lo, lo, a)
    if hi is not None:
        a = where_p(a > hi, hi, a)
    return a


def _one_of(name, positional, keyword):
    if positional is not np._NoValue and keyword is not np._NoValue:
        raise ValueError(f"Passed more than one argument for the {name} bound of np.clip")
    value = keyword if positional is np._NoValue else positional
    return None if value is np._NoValue else value


# ---- sorting: the permutation carries no derivative, the values do ----
@implements(np.sort)
def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    """np.sort as take_along_axis(a, argsort(a)): cotangents go back through the argsort."""
    if order is not None:
        raise NotImplementedError("np.sort(order=...) (structured arrays) is not supported")
    if axis is None:
        a, axis = ravel(a), -1
    return take_along_axis(a, np.argsort(a, axis=axis, kind=kind, stable=stable), axis)


_unique_p = nondifferentiable(
    "unique_positions", lambda ar, **options: np.unique(ar, return_index=True, **options)[1:])


@implements(np.unique)
def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None,
           *, equal_nan=True, sorted=True):
    """np.unique: the values are `take(ar, first_index)`, so they carry derivatives."""
    index, *extra = _unique_p(ar, return_inverse=return_inverse, return_counts=return_counts,
                              axis=axis, equal_nan=equal_nan, sorted=sorted)
    values = take(ar, index, axis)
    flags = (return_inverse, return_counts)
    extra = iter(extra)
    result = [values] + ([index] if return_index else []) + [next(extra) for f in flags if f]
    return result[0] if len(result) == 1 else tuple(result)


# ---- no derivative: positions and counts, as plain arrays ----
def pass_through(func, narrays=1):
    """Register `func` to run on the values under the boxes; its output is plain."""
    prim = nondifferentiable(
        func.__name__,
        lambda *arrays, rest, options: func(*arrays, *rest, **dict(options)))

    def handler(*args, **kwargs):
        if kwargs.get("out") is not None:
            raise MutationError(f"np.{func.__name__}(..., out=...) would write in place")
        options = tuple((k, raw(v)) for k, v in kwargs.items())
        return prim(*args[:narrays], rest=tuple(raw(a) for a in args[narrays:]), options=options)

    handler.__name__ = func.__name__
    handler.__doc__ = f"np.{func.__name__} on traced values: a plain result, no derivative."
    FUNCTIONS[func] = handler
    return handler


argsort = pass_through(np.argsort)
argwhere = pass_through(np.argwhere)
flatnonzero = pass_through(np.flatnonzero)
searchsorted = pass_through(np.searchsorted, narrays=2)
nonzero = pass_through(np.nonzero)
