"""Reductions along axes: sums, products, extrema, moments, cumulative sums.

Three primitives carry every derivative here:

* `sum` is linear: its transpose broadcasts the cotangent back;
* `cumsum` is linear: its transpose is the reversed cumulative sum;
* `amax` gives its derivative to the entries equal to the maximum, split
  evenly among tied maxima (as `np.maximum` does in elementwise.py).

The rest are compositions: mean, var and std of sums; diff of slices; min is -max(-x);
prod multiplies pairs of halves (a tree of products) and cumprod is a
doubling scan of products, so their derivatives follow from the product rule
exactly, whatever the number of zeros. nansum/nanmean sum with NaNs replaced
by zero. argmax, all, any, isclose and friends carry no derivative.
"""

import numpy as np

from ..core.errors import MutationError, UnsupportedOptionError
from ..core.primitive import Primitive, UFUNC_METHODS, implements, linear
from ..arraylibs import foreign, zeros
from .indexing import pass_through
from .shape import along, ndim_of, normalize_axes


def _sum_transpose(g, shapes, params, which):
    shape, axis = shapes[0], params["axis"]
    if not params["keepdims"] and axis != tuple(range(len(axis))):
        # put the summed axes back as 1s (leading ones broadcast as they are)
        g = np.reshape(g, tuple(1 if i in axis else n for i, n in enumerate(shape)))
    return (np.broadcast_to(g, shape),)


def _reduction(ufunc, numpy_function):
    """`numpy_function(x, axis=, keepdims=)` (np.sum, np.max), calling
    `ufunc.reduce` directly on a NumPy array, as that function itself does
    after its Python wrapper; other array types get the function."""
    def reduce(x, axis, keepdims):
        if type(x) is np.ndarray:
            return ufunc.reduce(x, axis, None, None, keepdims)
        return numpy_function(x, axis=axis, keepdims=keepdims)
    return reduce


_sum_impl = _reduction(np.add, np.sum)
sum_p = linear("sum", _sum_impl, _sum_transpose)


def _check_plain(name, out=None, where=True):
    if out is not None:
        raise MutationError(f"np.{name}(..., out=...) would write in place into a traced result")
    if where is not True and where is not np._NoValue:
        raise UnsupportedOptionError(f"np.{name}(..., where=...) is not supported on traced values")


def _given(value):
    return value is not None and value is not np._NoValue


def _count(a, axis):
    shape = np.shape(a)
    return int(np.prod([shape[ax] for ax in normalize_axes(axis, len(shape))], dtype=np.int64))


@implements(np.sum)
def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=np._NoValue,
        where=np._NoValue):
    """np.sum; `where` is applied as np.where(where, a, 0).

    Example:
        >>> np.sum(np.ones((2, 3)), axis=-1)
        array([3., 3.])
    """
    if where is not True and where is not np._NoValue:
        a = np.where(where, a, 0)
    _check_plain("sum", out)
    if dtype is not None:
        a = a.astype(dtype)
    axes = normalize_axes(axis, ndim_of(a))
    keepdims = bool(keepdims) and keepdims is not np._NoValue
    result = sum_p(a, axis=axes, keepdims=keepdims) if axes or keepdims else a
    if _given(initial) and not (np.ndim(initial) == 0 and initial == 0):
        result = result + initial
    return result


@implements(np.mean)
def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=np._NoValue):
    """np.mean: the sum divided by the number of entries (or of selected ones)."""
    _check_plain("mean", out)
    if where is not True and where is not np._NoValue:
        count = np.sum(np.broadcast_to(where, np.shape(a)), axis=axis, keepdims=keepdims)
    else:
        count = _count(a, axis)
    return sum(a, axis, dtype, None, keepdims, where=where) / count


@implements(np.var)
def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=np._NoValue,
        mean=np._NoValue, correction=np._NoValue):
    """np.var: the mean squared deviation, divided by n - ddof.

    Example:
        >>> float(np.var(np.array([1.0, 3.0]), ddof=1))
        2.0
    """
    _check_plain("var", out, where)
    if _given(correction):
        if ddof != 0:
            raise ValueError("ddof and correction can't be provided simultaneously.")
        ddof = correction
    centre = np.mean(a, axis, dtype, keepdims=True) if mean is np._NoValue else mean
    d = a - centre
    squares = np.real(d * np.conjugate(d)) if np.iscomplexobj(d) else d * d
    return sum(squares, axis, dtype, None, keepdims) / np.maximum(_count(a, axis) - ddof, 0)


@implements(np.std)
def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=np._NoValue,
        mean=np._NoValue, correction=np._NoValue):
    """np.std: the square root of np.var, with derivative 0 where the
    variance is 0 (a size-1 axis, equal entries), as abs has at 0, rather
    than the NaN of sqrt's infinite slope times a zero tangent.

    Example:
        >>> import chainrule as cr
        >>> cr.grad(lambda x: np.sum(np.std(x, axis=1)))(np.ones((2, 1)))
        array([[0.],
               [0.]])
    """
    v = var(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean, correction=correction)
    positive = v > 0
    return np.where(positive, np.sqrt(np.where(positive, v, 1.0)), v * 0.0)  # NaN stays NaN


@implements(np.nansum)
def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=np._NoValue,
           where=np._NoValue):
    """np.nansum: NaNs count as zero (and get zero derivative)."""
    return sum(np.where(np.isnan(a), 0, a), axis, dtype, out, keepdims, initial, where)


@implements(np.nanmean)
def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=np._NoValue):
    """np.nanmean: the mean of the entries that are not NaN."""
    _check_plain("nanmean", out, where)
    count = np.sum(np.logical_not(np.isnan(a)), axis=axis, keepdims=keepdims)
    return nansum(a, axis, dtype, None, keepdims) / count


# ---- maximum and minimum ----
def _max_weights(x, ans, axis, keepdims):
    """1/k at each of the k entries equal to the maximum, 0 elsewhere."""
    hit = x == (ans if keepdims else np.expand_dims(ans, axis))
    weights, dtype = hit / _sum_impl(hit, axis, True), np.result_type(x)
    return weights if weights.dtype == dtype else weights.astype(dtype)


def _amax_jvp(tangents, args, ans, params):
    (t,), (x,) = tangents, args
    if t is None:
        return None
    return np.sum(t * _max_weights(x, ans, **params), axis=params["axis"],
                  keepdims=params["keepdims"])


def _amax_vjp(g, res, params, which):
    (x,), ans = res
    if not params["keepdims"]:
        g = np.expand_dims(g, params["axis"])
    return (g * _max_weights(x, ans, **params),)


amax_p = Primitive(
    "amax", _reduction(np.maximum, np.max),
    jvp=_amax_jvp, vjp=_amax_vjp)


def _max(a, axes, keepdims):
    return amax_p(a, axis=axes, keepdims=keepdims)


def _min(a, axes, keepdims):
    return -amax_p(-a, axis=axes, keepdims=keepdims)  # min x = -max(-x)


def _extremum(name, reduce_axes, combine):
    def reduce(a, axis=None, out=None, keepdims=False, initial=np._NoValue, where=np._NoValue):
        _check_plain(name, out, where)
        axes = normalize_axes(axis, ndim_of(a))
        keepdims = bool(keepdims) and keepdims is not np._NoValue
        if _given(initial) and _count(a, axes) == 0:
            out_shape = np.sum(np.zeros(np.shape(a)), axis=axes, keepdims=keepdims).shape
            return np.full(out_shape, initial, np.result_type(a))
        result = reduce_axes(a, axes, keepdims) if axes or keepdims else a
        return combine(result, initial) if _given(initial) else result
    reduce.__name__ = name
    reduce.__doc__ = f"np.{name}: derivative to the extreme entries, split evenly at ties."
    return reduce


amax = implements(np.max, np.amax)(_extremum("max", _max, np.maximum))
amin = implements(np.min, np.amin)(_extremum("min", _min, np.minimum))


# ---- products: pairwise trees and doubling scans of multiplications ----
def _product_tree(x):
    """Product along the last axis: halves multiplied pairwise, log2(n) rounds.

    Built from slices, multiply and concatenate only, so every derivative is
    the exact product rule (the product of the other entries, zeros included).
    """
    n = np.shape(x)[-1]
    while n > 1:
        h = n // 2
        pairs = x[..., :h] * x[..., h:2 * h]
        x = np.concatenate([pairs, x[..., 2 * h:]], axis=-1) if n % 2 else pairs
        n = h + n % 2
    return x[..., 0]


@implements(np.prod)
def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=np._NoValue,
         where=np._NoValue):
    """np.prod with exact derivatives at zeros (see `_product_tree`).

    Example:
        >>> float(np.prod(np.array([2.0, 3.0, 4.0])))
        24.0
    """
    if where is not True and where is not np._NoValue:
        a = np.where(where, a, 1)
    _check_plain("prod", out)
    if dtype is not None:
        a = a.astype(dtype)
    shape = np.shape(a)
    axes = normalize_axes(axis, len(shape))
    keepdims = bool(keepdims) and keepdims is not np._NoValue
    kept = [d for d in range(len(shape)) if d not in axes]
    n = _count(a, axes)
    if n == 0:
        result = np.ones([shape[d] for d in kept], np.result_type(a))
    else:
        flat = np.reshape(np.transpose(a, kept + list(axes)), [shape[d] for d in kept] + [n])
        result = _product_tree(flat)
    if keepdims:
        result = np.reshape(result, [1 if d in axes else shape[d] for d in range(len(shape))])
    return result * initial if _given(initial) else result


# ---- cumulative sums and products ----
def _cumsum_transpose(g, shapes, params, which):
    # The transpose of a running sum is the running sum from the other end.
    backwards = along(params["axis"], slice(None, None, -1))
    return (np.cumsum(g[backwards], axis=params["axis"])[backwards],)


cumsum_p = linear("cumsum", lambda x, axis: np.cumsum(x, axis=axis), _cumsum_transpose)


def _cumulative(name, scan):
    def cumulative(a, axis=None, dtype=None, out=None):
        _check_plain(name, out)
        if dtype is not None:
            a = a.astype(dtype)
        if axis is None:
            a, axis = np.ravel(a), 0
        return scan(a, normalize_axes(axis, np.ndim(a))[0])
    cumulative.__name__ = name
    cumulative.__doc__ = f"np.{name} along one axis (the flattened array by default)."
    return cumulative


def _cumprod_scan(x, axis):
    """Running product by doubling: after the round with step s, entry k holds
    the product of entries k-2s+1..k (Hillis-Steele scan), all in primitives."""
    n = np.shape(x)[axis]
    step = 1
    while step < n:
        head = x[along(axis, slice(None, step))]
        tail = x[along(axis, slice(step, None))] * x[along(axis, slice(None, n - step))]
        x = np.concatenate([head, tail], axis=axis)
        step *= 2
    return x


cumsum = implements(np.cumsum)(_cumulative("cumsum", lambda a, axis: cumsum_p(a, axis=axis)))
cumprod = implements(np.cumprod)(_cumulative("cumprod", _cumprod_scan))


@implements(np.diff)
def diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue):
    """np.diff: differences of neighbouring slices, n times."""
    axis = normalize_axes(axis, np.ndim(a))[0]
    edge = list(np.shape(a))
    edge[axis] = 1  # a scalar prepend/append becomes one slice of that value
    pieces = [v if np.ndim(v) else np.broadcast_to(v, edge) if foreign(a) is None
              else v + zeros(edge, np.float64, like=a)  # on a's array library
              for v in (prepend, a, append) if v is not np._NoValue]
    a = np.concatenate(pieces, axis=axis) if len(pieces) > 1 else a
    for _ in range(n):
        a = a[along(axis, slice(1, None))] - a[along(axis, slice(None, -1))]
    return a


# ---- the same reductions as ufunc methods: np.add.reduce(x, axis=0) ... ----
def _method(reduction, default_axis=0):
    def method(array, axis=default_axis, dtype=None, out=None, **kwargs):
        return reduction(array, axis, dtype, out, **kwargs)
    return method


def _extremum_method(reduction):
    def method(array, axis=0, dtype=None, out=None, **kwargs):
        return reduction(array if dtype is None else array.astype(dtype), axis, out, **kwargs)
    return method


UFUNC_METHODS.update({
    (np.add, "reduce"): _method(sum),
    (np.multiply, "reduce"): _method(prod),
    (np.maximum, "reduce"): _extremum_method(amax),
    (np.minimum, "reduce"): _extremum_method(amin),
    (np.add, "accumulate"): _method(cumsum),
    (np.multiply, "accumulate"): _method(cumprod),
})


# ---- no derivative: positions, truth values, counts ----
argmax = pass_through(np.argmax)
argmin = pass_through(np.argmin)
all = pass_through(np.all)
any = pass_through(np.any)
count_nonzero = pass_through(np.count_nonzero)
isclose = pass_through(np.isclose, narrays=2)
allclose = pass_through(np.allclose, narrays=2)
array_equal = pass_through(np.array_equal, narrays=2)
array_equiv = pass_through(np.array_equiv, narrays=2)
