"""In-place updates as functional ones: `x[index] = v`, `x += y`, `out=`.

One primitive carries the derivatives: `setitem(x, v, *arrays, index=...)`,
x with the entries at index replaced by v (broadcast). It is linear in
(x, v) jointly: its tangent is the same update of the tangents, and its
transpose sends the cotangent at the written entries to v and the rest to x.
The box machinery (`chainrule.mutation`) then lets the updated box
object hold the result. Arrays made from a traced x by np.zeros_like and
friends are constants of x's trace, so they can be filled.

Example:
    >>> import numpy as np, chainrule as cr
    >>> def f(x):
    ...     out = np.zeros_like(x)
    ...     out[1:] = x[:-1] ** 2
    ...     out *= 2.0
    ...     return np.sum(out)
    >>> cr.grad(f)(np.array([1.0, 2.0, 3.0]))
    array([4., 8., 0.])
"""

import operator
import sys

import numpy as np

from .. import mutation
from ..arraylibs import asarray, foreign, is_dask, scatter_basic, zeros
from ..core.batch import loop_batch
from ..core.errors import ArrayLibraryError, MutationError
from ..core.primitive import FUNCTIONS, Primitive, float_dtype, implements
from ..core import box as _box_module
from ..core.box import Box
from . import shape as _shape_rules
from .indexing import ARRAY, fill, getitem_p, split_index, where_p


def _setitem_impl(x, v, *arrays, index):
    if is_dask(x):
        return _setitem_dask(x, v, fill(index, arrays) if arrays else index)
    out = np.array(x, copy=True)
    out[fill(index, arrays) if arrays else index] = v
    return out


def _setitem_dask(x, v, index):
    """x with x[index] = v, lazily: Dask's item assignment differs from NumPy's
    (see arraylibs.scatter_basic), so the region is placed with np.pad."""
    if any(not isinstance(i, (slice, int, np.integer, type(None), type(Ellipsis)))
           for i in (index if isinstance(index, tuple) else (index,))):
        raise ArrayLibraryError(
            "x[index_array] = value (or a mask) on a Dask array cannot stay lazy: Dask arrays "
            "are immutable; use np.where, or index with slices")
    shape = np.shape(x)
    region = np.broadcast_to(np.zeros((), bool), shape)[index].shape
    mask = scatter_basic(np.ones(region, bool), index, shape)
    values = scatter_basic(np.broadcast_to(v, region).astype(x.dtype), index, shape)
    return np.where(mask, values, x)


def _setitem_jvp(tangents, args, ans, params):
    tx, tv = tangents[:2]
    if tx is None and tv is None:
        return None
    x, v = args[:2]
    tx = np.zeros(np.shape(x), float_dtype(x)) if tx is None else tx
    tv = np.zeros((), float_dtype(v)) if tv is None else tv
    return setitem_p(tx, tv, *args[2:], **params)


def _setitem_vjp(g, res, params, which):
    xshape, arrays = res
    out = []
    for i in which:
        if i == 0:
            out.append(setitem_p(g, 0.0, *arrays, **params))
        elif i == 1:  # summed to v's shape by the engine
            gv = getitem_p(g, *arrays, **params)
            out.append(np.where(asarray(_winners(xshape, arrays, params), like=gv), gv, 0.0)
                       if arrays else gv)
        else:
            out.append(None)
    return out


def _winners(xshape, arrays, params):
    """Which entries of the written region are the ones left in place where an
    index repeats: the assignment itself decides (NumPy keeps the last), so
    the derivative agrees with the value."""
    size = int(np.prod(xshape, dtype=np.int64))
    positions = getitem_p(np.arange(size).reshape(xshape), *arrays, **params)
    flat = np.reshape(positions, (-1,))
    order = np.arange(np.size(positions))
    last = setitem_p(np.zeros(size, np.intp), order, flat, index=(ARRAY,))
    return np.reshape(getitem_p(last, flat, index=(ARRAY,)) == order, np.shape(positions))


setitem_p = Primitive("setitem", _setitem_impl, jvp=_setitem_jvp, vjp=_setitem_vjp,
                      save=lambda args, ans, params: (np.shape(args[0]), args[2:]))
setitem_p.linear = True


def _setitem_batch(vals, batched, params):
    """x[(:, *index)] = v, with v brought to the batched region's layout;
    index arrays that differ between examples go example by example."""
    from .batching import _batched_index
    x, v, arrays = vals[0], vals[1], vals[2:]
    if any(batched[2:]):
        return loop_batch(setitem_p, vals, batched, params)
    size = np.shape(x)[0] if batched[0] else np.shape(v)[0]
    one = np.shape(x)[1:] if batched[0] else np.shape(x)
    region = np.shape(np.zeros(one, bool)[fill(params["index"], arrays)])
    if not batched[0]:
        x = np.broadcast_to(x, (size,) + one)
    if batched[1]:
        k = np.ndim(v) - 1
        v = np.reshape(v, np.shape(v)[:1] + (1,) * (len(region) - k) + np.shape(v)[1:])
        v = np.broadcast_to(v, (size,) + region)
    else:
        v = np.broadcast_to(np.broadcast_to(v, region), (size,) + region)
    template, pos = _batched_index(params["index"], arrays)
    if pos:
        v = np.moveaxis(v, 0, pos)
    return setitem_p(x, v, *arrays, index=template)


setitem_p.batch = _setitem_batch


def is_view(index, out):
    """Whether `x[index]`, giving out, is a view in NumPy: basic indexing,
    not giving a scalar."""
    index = index if isinstance(index, tuple) else (index,)
    if any(isinstance(i, (Box, np.ndarray, list)) for i in index):
        return False
    return out.ndim > 0 or not all(isinstance(i, (int, np.integer)) for i in index)


def _single_mask(index):
    """The boolean mask when `index` is one mask (plain or traced), else None."""
    i = index[0] if isinstance(index, tuple) and len(index) == 1 else index
    if isinstance(i, Box) and i.dtype == bool:
        return i
    if foreign(i) is not None and getattr(i, "dtype", None) == bool and np.ndim(i):
        return i  # a mask of another library (Dask, CuPy), as the user's comparisons give
    if isinstance(i, np.ndarray) or (isinstance(i, list) and not _shape_rules._holds_box(i)):
        i = np.asarray(i)
        if i.dtype == bool and i.ndim:
            return i
    return None


def setitem(x, index, value):
    """`x[index] = value` on a traced x: the box x takes the updated value.

    Example:
        >>> import chainrule as cr
        >>> def f(x):
        ...     y = x * 1.0
        ...     y[y < 0] = 0.0
        ...     return np.sum(y)
        >>> cr.grad(f)(np.array([-1.0, 2.0]))
        array([0., 1.])
    """
    mask = _single_mask(index)
    if mask is not None and np.ndim(value) == 0 and 0 < np.ndim(mask) <= x.ndim:
        # x[mask] = scalar is np.where: no value-dependent shape, so it also
        # compiles and batches
        cond = np.reshape(mask, np.shape(mask) + (1,) * (x.ndim - np.ndim(mask)))
        new = where_p(cond if isinstance(cond, Box) else asarray(cond, like=x), value, x)
        if new.dtype != x.dtype:
            new = new.astype(x.dtype)
        # a traced or Dask mask: assume every entry is written (reading it would compute it)
        mutation.rebind(x, new, index=None if isinstance(mask, Box) or foreign(mask) is not None
                        else mask)
        return
    template, arrays = split_index(index)
    new = setitem_p(x, value, *arrays, index=template)
    mutation.rebind(x, new, index=None if any(isinstance(a, Box) for a in arrays)
                    else fill(template, arrays))


# ---- operators: x += y is x = x + y, then the box takes the value ----
def _in_place(name, op):
    def method(self, other):
        mutation.update(self, op(self, other), name)
        return self
    method.__name__ = name
    return method


OPERATORS = {
    "__iadd__": _in_place("__iadd__", operator.add),
    "__isub__": _in_place("__isub__", operator.sub),
    "__imul__": _in_place("__imul__", operator.mul),
    "__itruediv__": _in_place("__itruediv__", operator.truediv),
    "__ifloordiv__": _in_place("__ifloordiv__", operator.floordiv),
    "__imod__": _in_place("__imod__", operator.mod),
    "__ipow__": _in_place("__ipow__", operator.pow),
    "__imatmul__": _in_place("__imatmul__", operator.matmul),
}


def ufunc_in_place(ufunc, method, inputs, kwargs, out):
    """`ufunc(..., out=target)` and `ufunc.at(x, index, v)` with traced values."""
    name = f"numpy.{ufunc.__name__}"
    if method == "at":
        return _ufunc_at(ufunc, *inputs)
    out = out if isinstance(out, tuple) else (out,)
    if not all(isinstance(t, Box) for t in out):
        raise mutation.plain_target_error()
    if len(out) != 1:
        raise MutationError(f"{name}.{method}(..., out=...) with several outputs on traced "
                            "values is not supported; assign the results instead.")
    target = out[0]
    result = getattr(ufunc, method)(*inputs, **kwargs)
    mutation.update(target, np.broadcast_to(result, target.shape), f"{name}(..., out=)")
    return target


def function_out(func, args, kwargs):
    """`func(..., out=target)` for a NumPy function: the result assigned to a
    traced target, as NumPy writes it there; a plain target is refused."""
    target = kwargs.pop("out")
    if isinstance(target, tuple) and len(target) == 1:
        target = target[0]
    if not isinstance(target, Box):
        raise mutation.plain_target_error()
    result = func(*args, **kwargs)
    mutation.update(target, np.broadcast_to(result, target.shape),
                    f"numpy.{func.__name__}(..., out=)")
    return target


def _ufunc_at(ufunc, x, index, v=None):
    if not isinstance(x, Box):
        raise mutation.plain_target_error()
    if ufunc not in (np.add, np.subtract) or v is None:
        raise MutationError(f"numpy.{ufunc.__name__}.at on traced values is not supported "
                            "(np.add.at and np.subtract.at are)")
    from .indexing import scatter_add
    region = x[index]
    v = np.broadcast_to(v, np.shape(region))
    if ufunc is np.subtract:
        v = -v
    mutation.update(x, x + scatter_add(v, index, x.shape), f"numpy.{ufunc.__name__}.at")


_box_module.inplace = sys.modules[__name__]
for _name, _method in OPERATORS.items():
    setattr(Box, _name, _method)


# ---- constructors: arrays that can be filled ----
def _like(fill_value):
    def constructor(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
        shape_ = np.shape(a) if shape is None else shape
        dtype_ = _shape_rules.dtype_of(a) if dtype is None else dtype
        return _fillable(a, _constant(a, shape_, dtype_, fill_value))
    return constructor


def _fillable(a, value):
    """`value` as a constant of a's trace when a is traced (so it can be
    filled with traced values), else plain."""
    if isinstance(a, Box):
        return mutation.lift(a._trace, value)
    return value


for _func, _value in ((np.zeros_like, 0), (np.ones_like, 1), (np.empty_like, None)):
    FUNCTIONS[_func] = _like(_value)
    FUNCTIONS[_func].__name__ = _func.__name__
    FUNCTIONS[_func].__doc__ = (f"np.{_func.__name__} of a traced value: a constant array "
                                "of its trace, which can be filled.")


@implements(np.full_like)
def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """np.full_like: a fillable constant, or the broadcast of a traced fill value."""
    shape = np.shape(a) if shape is None else shape
    dtype = _shape_rules.dtype_of(a) if dtype is None else dtype
    if isinstance(fill_value, Box):
        if foreign(a) is not None:  # a traced NumPy scalar broadcast on a's library
            return (fill_value + zeros(shape, dtype, like=a)).astype(dtype)
        return np.broadcast_to(fill_value, shape).astype(dtype)
    return _fillable(a, _constant(a, shape, dtype, fill_value))


def _constant(a, shape, dtype, fill_value):
    """np.full (np.empty for None) on the array library of a (lazy on Dask)."""
    ref = foreign(a)
    if ref is not None:
        return np.full_like(ref, 0 if fill_value is None else fill_value, dtype=dtype, shape=shape)
    return np.empty(shape, dtype) if fill_value is None else np.full(shape, fill_value, dtype)


@implements(np.copy)
def copy(a, order="K", subok=False):
    """np.copy: a new box holding the same value (independent from now on)."""
    return mutation.clone(a) if isinstance(a, Box) else np.copy(a, order=order)


@implements(np.copyto)
def copyto(dst, src, casting="same_kind", where=True):
    """np.copyto(dst, src) into a traced (or fillable) dst."""
    if not isinstance(dst, Box):
        raise mutation.plain_target_error()
    if where is True:
        new = np.broadcast_to(src, dst.shape)
    else:
        new = np.where(where, src, dst)
    mutation.update(dst, new, "numpy.copyto")


# ---- views: functions whose result shares entries with their argument ----
def _viewing(func):
    handler = FUNCTIONS[func]

    def view_handler(a, *args, **kwargs):
        out = handler(a, *args, **kwargs)
        if isinstance(a, Box):
            mutation.mark_view(a, out, lambda p: func(p, *args, **kwargs))
        return out
    view_handler.__name__ = handler.__name__
    view_handler.__doc__ = handler.__doc__
    view_handler.__wrapped__ = handler
    FUNCTIONS[func] = view_handler


for _func in (np.reshape, np.ravel, np.transpose, np.swapaxes, np.moveaxis, np.squeeze,
              np.expand_dims, np.diagonal, np.real, np.imag, np.broadcast_to):
    if _func in FUNCTIONS:
        _viewing(_func)


# ---- NumPy's in-place functions on traced arrays ----
@implements(np.put)
def put(a, ind, v, mode="raise"):
    """np.put: entries of the flattened a replaced, as `a.flat[ind] = v`."""
    ind = np.asarray(ind)
    n = a.size
    if mode == "wrap":
        ind = ind % n
    elif mode == "clip":
        ind = np.clip(ind, 0, n - 1)
    v = np.resize(v, ind.shape) if not isinstance(v, Box) else np.broadcast_to(v, ind.shape)
    setitem(a, np.unravel_index(ind.ravel() % n, a.shape), np.reshape(v, -1))


@implements(np.put_along_axis)
def put_along_axis(arr, indices, values, axis):
    """np.put_along_axis: arr[index along axis] = values."""
    nd = arr.ndim
    axis = axis % nd
    indices = np.asarray(indices)
    index = tuple(indices if d == axis else
                  np.arange(m).reshape([-1 if k == d else 1 for k in range(nd)])
                  for d, m in enumerate(arr.shape))
    index = np.broadcast_arrays(*index)
    setitem(arr, tuple(index), np.broadcast_to(values, index[0].shape))


@implements(np.fill_diagonal)
def fill_diagonal(a, val, wrap=False):
    """np.fill_diagonal: the main diagonal (all axes equal) set to val."""
    if a.ndim == 2 and not wrap:
        k = np.arange(min(a.shape))
        index = (k, k)
    elif a.ndim == 2:
        flat = np.arange(0, a.size, a.shape[1] + 1)
        index = np.unravel_index(flat, a.shape)
    else:
        if len(set(a.shape)) != 1:
            raise ValueError("All dimensions of input must be of equal length")
        k = np.arange(a.shape[0])
        index = (k,) * a.ndim
    setitem(a, index, np.broadcast_to(val, index[0].shape) if np.ndim(val) else val)


@implements(np.putmask)
def putmask(a, mask, values):
    """np.putmask with values of a's size or a scalar: np.where underneath."""
    if np.ndim(values) != 0 and np.shape(values) != a.shape:
        raise MutationError("np.putmask on a traced array needs values of the array's shape "
                            "or a scalar; use `a[mask] = values[mask]`")
    mutation.update(a, np.where(mask, values, a), "numpy.putmask")
