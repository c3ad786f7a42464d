"""Indexing and selection: `x[index]` and the functions built on it.

Three primitives carry every derivative here: `getitem` (basic and advanced
indexing, linear; its transpose scatters the cotangent back, adding up at
repeated indices), its transpose `scatter_add`, and `where`. take,
take_along_axis, diagonal, diag, trace, triu/tril, select, clip, sort and
unique are compositions of those. Index arrays, argsort, argwhere,
searchsorted and the like carry no derivative.

The index arrays of getitem and scatter_add are operands, not params:
`getitem_p(x, *arrays, index=template)`, where the static template keeps
the slices, None, Ellipsis and ints and holds `ARRAY` where each array goes.
So an index array may itself be traced (labels passed to a compiled or
vmapped function); it is never differentiated (its cotangent is None).

sort gives each output the derivative of the entry it came from (the
cotangent is scattered back through the argsort). unique gives each distinct
value the derivative of its first occurrence, which is exact wherever the
entries are distinct (there it is a sort) and one valid choice at ties.
"""

import numpy as np

from ..arraylibs import asarray, is_dask, scatter_basic, zeros
from ..core.errors import ArrayLibraryError, MutationError, NonDifferentiableInputError, UnsupportedOptionError
from ..core.primitive import FUNCTIONS, Primitive, implements, nondifferentiable
from ..core.trace import Box, raw  # (importing trace first loads box in order)
from .shape import _holds_box, along, array_like, dtype_of, moveaxis, ndim, normalize_axes, ravel, shape


class _ArraySlot:
    """The place of an index array (an operand) in a getitem template."""

    __slots__ = ()

    def __repr__(self):
        return "ARRAY"

    def __reduce__(self):
        return "ARRAY"


ARRAY = _ArraySlot()


def fill(template, arrays):
    """The full index: `template` with its ARRAY slots filled by `arrays` in order.

    Example:
        >>> fill((slice(None), ARRAY), (np.array([1, 0]),))
        (slice(None, None, None), array([1, 0]))
    """
    arrays = iter(arrays)
    return tuple(next(arrays) if i is ARRAY else i for i in template)


def _has_advanced(index):
    return any(not isinstance(i, (slice, int, np.integer, type(None), type(Ellipsis)))
               for i in index)


def scatter_add_at(g, index, shape):
    """Zeros of `shape` with g added at `index` (repeated indices accumulate).

    Example:
        >>> scatter_add_at(np.ones(3), (np.array([0, 0, 2]),), (3,))
        array([2., 0., 1.])
    """
    if is_dask(g) and not _has_advanced(index):
        return scatter_basic(g, index, shape)  # lazy (Dask's item assignment differs from NumPy's)
    out = zeros(shape, np.result_type(g), like=g)
    if _has_advanced(index):
        if is_dask(g):
            raise ArrayLibraryError(
                "the scatter-add (np.add.at) in the derivative of advanced indexing "
                "(x[index_array], np.take, diagonal, sort, ...) cannot stay lazy on Dask "
                "arrays: Dask arrays are immutable; compute the array first, or index "
                "with slices")
        np.add.at(out, index, g)
    else:
        out[index] = g
    return out


# getitem (x[index]) and scatter_add are each other's transposes. Both are
# linear in their first operand only; the tangent of either map is the same
# map of the tangent, bound as a primitive since a tangent may be traced.
def _getitem_impl(x, *arrays, index):
    index = fill(index, arrays) if arrays else index
    return _dask_getitem(x, index) if is_dask(x) else x[index]


def _dask_getitem(x, index):
    """x[index] for a Dask x: one integer index array of several dimensions
    is applied flattened and the result reshaped, as NumPy does (Dask refuses
    such an index, or drops a length-one axis of it: x[np.zeros((2, 1), int)]
    has shape (2,) on Dask)."""
    entries = index if isinstance(index, tuple) else (index,)
    arrays = [k for k, i in enumerate(entries) if isinstance(i, np.ndarray) and i.dtype.kind in "iu"]
    if len(arrays) != 1 or entries[arrays[0]].ndim < 2 or _has_advanced(
            entries[:arrays[0]] + entries[arrays[0] + 1:]):
        return x[index]
    k = arrays[0]
    shape = np.broadcast_to(np.zeros((), bool), x.shape)[index].shape  # NumPy's, without data
    return np.reshape(x[entries[:k] + (entries[k].ravel(),) + entries[k + 1:]], shape)


def _scatter_add_impl(g, *arrays, index, shape):
    return scatter_add_at(g, fill(index, arrays) if arrays else index, shape)


def _first_only(prim):
    def jvp(tangents, args, ans, params):
        return None if tangents[0] is None else prim(tangents[0], *args[1:], **params)
    return jvp


def _getitem_vjp(g, res, params, which):
    xshape, arrays = res
    return [scatter_add_p(g, *arrays, index=params["index"], shape=xshape) if i == 0 else None
            for i in which]


def _scatter_add_vjp(g, arrays, params, which):
    return [getitem_p(g, *arrays, index=params["index"]) if i == 0 else None for i in which]


getitem_p = Primitive("getitem", _getitem_impl, vjp=_getitem_vjp,
                      save=lambda args, ans, params: (np.shape(args[0]), args[1:]))
scatter_add_p = Primitive("scatter_add", _scatter_add_impl, vjp=_scatter_add_vjp,
                          save=lambda args, ans, params: args[1:])
getitem_p.jvp = _first_only(getitem_p)
scatter_add_p.jvp = _first_only(scatter_add_p)
getitem_p.linear = scatter_add_p.linear = True


def _index_parts(i):
    """One entry of an index as static parts (ints, slices, None, Ellipsis)
    and integer arrays (plain or traced), which become operands."""
    if isinstance(i, Box):
        dt = i.dtype
        if dt.kind in "fc":
            raise NonDifferentiableInputError("an index may not be a traced floating-point value")
        if dt == bool:
            if np.shape(raw(i)) != np.shape(i):
                raise IndexError("a boolean mask batched by vmap may select a different number "
                                 "of entries in each example; use np.where instead")
            return np.nonzero(raw(i))  # value-dependent: raises when compiled
        if dt.kind not in "iu":
            raise IndexError("arrays used as indices must be of integer (or boolean) type")
        return (i,)
    if isinstance(i, list) and _holds_box(i):  # traced entries: one traced index array
        return _index_parts(array_like(i))
    if isinstance(i, (list, np.ndarray)):
        i = np.asarray(i)
        if i.dtype == bool and i.ndim:
            return np.nonzero(i)  # x[mask] is x[mask.nonzero()], by NumPy's definition
        if i.dtype.kind not in "iub" and i.size:
            raise IndexError("arrays used as indices must be of integer (or boolean) type")
        return (i.astype(np.intp),)
    return (i,)


def split_index(index):
    """`(template, arrays)`: the static template of an index and its arrays.

    Example:
        >>> split_index((slice(None), [2, 0]))
        ((slice(None, None, None), ARRAY), (array([2, 0]),))
    """
    index = index if isinstance(index, tuple) else (index,)
    parts = [p for i in index for p in _index_parts(i)]
    arrays = tuple(p for p in parts if _is_array(p))
    return tuple(ARRAY if _is_array(p) else p for p in parts), arrays


def _is_array(p):
    return isinstance(p, (Box, np.ndarray))


def getitem(x, index):
    """x[index] on a traced x; index arrays are integer or boolean (plain or traced).

    Example:
        >>> getitem(np.arange(4.0), (np.array([0, 0, 3]),))
        array([0., 0., 3.])
    """
    template, arrays = split_index(index)
    return getitem_p(x, *arrays, index=template)


def scatter_add(g, index, shape):
    """Zeros of `shape` with g added at `index`: the transpose of `getitem`.

    Example:
        >>> scatter_add(np.ones(2), (np.array([1, 1]),), (3,))
        array([0., 2., 0.])
    """
    template, arrays = split_index(index)
    return scatter_add_p(g, *arrays, index=template, shape=tuple(shape))


@implements(np.take)
def take(a, indices, axis=None, out=None, mode="raise"):
    """np.take: indexing along one axis (the flattened array by default)."""
    if out is not None:
        raise MutationError("np.take(..., out=...) would write in place into a traced result")
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axes(axis, ndim(a))[0]
    indices = _as_index(indices)
    n = shape(a)[axis]
    if mode == "wrap":
        indices = indices % n
    elif mode == "clip":
        indices = np.clip(indices, 0, n - 1)
    elif mode != "raise":
        raise ValueError(f"clipmode must be one of 'clip', 'raise', or 'wrap' (got {mode!r})")
    return getitem(a, along(axis, indices))


def _as_index(indices):
    """Indices as an array: traced ones stay traced (they may be symbolic)."""
    return indices if isinstance(indices, Box) else np.asarray(indices)


@implements(np.take_along_axis)
def take_along_axis(arr, indices, axis=-1):
    """np.take_along_axis: one advanced index, with aranges on the other axes."""
    if axis is None:
        arr, axis = ravel(arr), 0
    indices = _as_index(indices)
    nd = ndim(arr)
    if ndim(indices) != nd:
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
    return scatter_add(v, _diagonal_positions(n, n, int(k)), (n, n))


@implements(np.trace)
def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """np.trace: the sum of a diagonal."""
    if out is not None:
        raise MutationError("np.trace(..., out=...) would write in place into a traced result")
    return np.sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


def _triangle(name, keep):
    def triangle(m, k=0):
        mask = keep(np.ones(shape(m), bool), k)  # NumPy's own mask, for its exact rules
        return where_p(asarray(mask, like=m), m, zeros((), dtype_of(m), like=m))
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
    tx = zeros(np.shape(x), np.float64, like=ty) if tx is None else tx
    ty = zeros(np.shape(y), np.float64, like=tx) if ty is None else ty
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
        raise UnsupportedOptionError(
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
def sort(a, axis=-1, kind=None, order=None, *, stable=None, descending=False):
    """np.sort as take_along_axis(a, argsort(a)): cotangents go back through the argsort."""
    if order is not None:
        raise UnsupportedOptionError("np.sort(order=...) (structured arrays) is not supported")
    if axis is None:
        a, axis = ravel(a), -1
    options = {"descending": True} if descending else {}  # the keyword is new in NumPy 2.5
    return take_along_axis(a, np.argsort(a, axis=axis, kind=kind, stable=stable, **options), axis)


_unique_p = nondifferentiable(
    "unique_positions", lambda ar, **options: np.unique(ar, return_index=True, **options)[1:])


@implements(np.unique)
def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None,
           *, equal_nan=True, sorted=True):
    """np.unique: the values are `take(ar, first_index)`, so they carry derivatives."""
    options = {} if sorted else {"sorted": False}  # the keyword is new in NumPy 2.3
    index, *extra = _unique_p(ar, return_inverse=return_inverse, return_counts=return_counts,
                              axis=axis, equal_nan=equal_nan, **options)
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
