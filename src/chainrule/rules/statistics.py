"""Statistics as compositions of primitives: order statistics, weighted
means, covariance, and the NaN-ignoring reductions.

* quantile/percentile/median (and their nan- versions), in every NumPy
  method: each is a blend (1 - gamma) x_(lo) + gamma x_(hi) of two order
  statistics of the sorted data, with lo, hi and gamma read off NumPy's own
  quantile of the positions 0..n-1 (so every method matches NumPy's
  definition). The derivative goes to those two entries; in q it is the
  slope between them (method "linear", the default, when q is traced).
* average, cov, corrcoef, ptp: arithmetic on sums, as NumPy writes them.
* nanmax, nanmin, nanvar, nanstd, nanprod, nancumsum, nancumprod: NaNs
  replaced by the reduction's neutral value (they get no derivative).

Example:
    >>> import chainrule as cr
    >>> cr.grad(lambda x: np.median(x))(np.array([3.0, 1.0, 2.0, 5.0]))
    array([0.5, 0. , 0.5, 0. ])
"""

import numpy as np

from ..arraylibs import asarray, foreign, is_dask, zeros
from ..core.errors import ArrayLibraryError, MutationError, NoRuleError, UnsupportedOptionError
from ..core.primitive import implements, nondifferentiable
from ..core.trace import Box, raw
from .indexing import pass_through
from .shape import normalize_axes


def _no_out(name, out):
    if out is not None:
        raise MutationError(f"np.{name}(..., out=...) would write in place into a traced result")


def _traced(x):
    return isinstance(x, Box)


# ---- order statistics ----
def _blend_positions(counts, q, method):
    """lo, hi (int) and gamma (float) per slice and q: the quantile of n
    sorted values is (1 - gamma) x[lo] + gamma x[hi], here read from NumPy's
    quantile of 0..n-1 for each count n (counts: one per slice)."""
    q = np.asarray(q, float)
    if foreign(counts) is not None:
        return _blend_positions_on_library(counts, q, method)
    lo = np.zeros(np.shape(counts) + q.shape, np.intp)
    gamma = np.full(np.shape(counts) + q.shape, np.nan)
    hi = np.zeros_like(lo)
    for n in np.unique(counts):
        if n == 0:
            continue  # an all-NaN slice: gamma stays NaN, so does its quantile
        v = np.asarray(np.quantile(np.arange(n, dtype=float), q, method=method))
        low = np.clip(np.floor(v), 0, n - 1)
        at = counts == n
        lo[at] = low.astype(np.intp)
        hi[at] = np.minimum(low + 1, n - 1).astype(np.intp)
        gamma[at] = v - low
    return lo, hi, gamma


def _blend_positions_on_library(counts, q, method):
    """_blend_positions for counts on another array library (CuPy, Dask):
    the same positions, selected with np.where on that library."""
    shape = np.shape(counts) + q.shape
    lo = zeros(shape, np.intp, like=counts)
    hi = zeros(shape, np.intp, like=counts)
    gamma = np.full_like(lo, np.nan, dtype=float)
    for n in np.unique(counts).tolist():  # the distinct slice lengths, on the host
        if n == 0:
            continue
        v = np.asarray(np.quantile(np.arange(n, dtype=float), q, method=method))
        low = np.clip(np.floor(v), 0, n - 1)
        at = np.reshape(counts == n, np.shape(counts) + (1,) * q.ndim)
        lo = np.where(at, asarray(low.astype(np.intp), like=counts), lo)
        hi = np.where(at, asarray(np.minimum(low + 1, n - 1).astype(np.intp), like=counts), hi)
        gamma = np.where(at, asarray(v - low, like=counts), gamma)
    return lo, hi, gamma


_blend_p = nondifferentiable(
    "quantile_positions",
    lambda counts, q, method: _blend_positions(counts, q, method))
_blend_p.multiple_results = True


def _to_last(a, axis):
    """a with the reduced axes merged into one last axis; the kept shape."""
    if axis is None:
        return np.reshape(a, (-1,)), ()
    axes = normalize_axes(axis, np.ndim(a))
    kept = [d for d in range(np.ndim(a)) if d not in axes]
    shape = np.shape(a)
    a = np.transpose(a, kept + list(axes))
    return np.reshape(a, [shape[d] for d in kept] + [-1]), tuple(shape[d] for d in kept)


def _no_dask(name, a):
    if is_dask(a):
        raise ArrayLibraryError(
            f"np.{name} on a Dask array: chainrule's rule sorts the values, and Dask has no "
            "lazy sort (np.sort computes the array), so its derivative cannot stay lazy; "
            "call .compute() first to differentiate it in memory.")


def _quantile(name, a, q, axis, method, keepdims, ignore_nan):
    _no_dask(name, a)
    if method not in _METHODS:
        raise ValueError(f"'{method}' is not a valid method. Use one of: {sorted(_METHODS)}")
    ndim = np.ndim(a)
    x, kept = _to_last(a, axis)
    x = np.sort(x, axis=-1)  # NaNs last
    n = np.shape(x)[-1]
    q_shape = np.shape(q)
    if ignore_nan:
        counts = np.sum(np.logical_not(np.isnan(x)), axis=-1)
    else:
        counts = np.full(kept, n)
    lo, hi, gamma = _blend_p(counts, _stop(q) if _traced(q) else q, method=method)
    if not is_dask(x):  # Dask indexes with NumPy positions (its own would be computed)
        lo, hi = asarray(lo, like=x), asarray(hi, like=x)
    gamma = asarray(gamma, like=x)
    if _traced(q):  # the slope between the two order statistics
        if method != "linear":
            raise UnsupportedOptionError(
                f"np.{name} is differentiated in q only with method='linear'; pass q as a "
                "constant for other methods.")
        counts = asarray(np.reshape(counts, np.shape(counts) + (1,) * len(q_shape)), like=x)
        gamma = q * (counts - 1) - lo
    flat = (-1,) if q_shape else (1,)
    lo_f = np.reshape(lo, kept + flat)
    hi_f = np.reshape(hi, kept + flat)
    xl = np.take_along_axis(x, lo_f, axis=-1)
    xh = np.take_along_axis(x, hi_f, axis=-1)
    g = np.reshape(gamma, kept + flat)
    out = np.reshape(xl + g * (xh - xl), kept + q_shape)
    # NumPy puts q's axes first
    k, m = len(kept), len(q_shape)
    out = np.moveaxis(out, tuple(range(k, k + m)), tuple(range(m))) if m and k else out
    if not ignore_nan:  # NumPy's quantile of a slice with a NaN is NaN
        out = out + np.reshape(np.where(np.any(np.isnan(x), axis=-1), np.nan, 0.0), (1,) * m + kept)
    if keepdims:
        axes = tuple(range(ndim)) if axis is None else normalize_axes(axis, ndim)
        shape = list(q_shape) + [1 if d in axes else np.shape(a)[d] for d in range(ndim)]
        out = np.reshape(out, shape)
    return out


_stop_p = nondifferentiable("stop_value", lambda x: x)


def _stop(x):
    """x's value, carrying no derivative (the positions depend on it)."""
    return _stop_p(x)


_METHODS = {
    "inverted_cdf", "averaged_inverted_cdf", "closest_observation", "interpolated_inverted_cdf",
    "hazen", "weibull", "linear", "median_unbiased", "normal_unbiased",
    "lower", "higher", "midpoint", "nearest",
}


def _check_q(q, lo, hi, name):
    """NumPy's range check, for a constant q (a traced q is checked where the
    positions are computed, by NumPy's quantile of 0..n-1)."""
    if not _traced(q) and not np.all((np.asarray(q) >= lo) & (np.asarray(q) <= hi)):
        raise ValueError(f"{name} must be in the range [{lo}, {hi}]")


@implements(np.quantile)
def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False, *, weights=None, interpolation=None):
    """np.quantile in every method; differentiable in a (and in q for 'linear').

    Example:
        >>> float(np.quantile(np.array([1.0, 2.0, 4.0]), 0.75))
        3.0
    """
    _no_out("quantile", out)
    _check_q(q, 0, 1, "Quantiles")
    if weights is not None:
        return _weighted_quantile(a, q, axis, interpolation or method, keepdims, weights)
    return _quantile("quantile", a, q, axis, interpolation or method, keepdims, False)


def _weighted_quantile(a, q, axis, method, keepdims, weights):
    """np.quantile(weights=...) (NumPy: method 'inverted_cdf' only): an entry of
    a, chosen on the values, so differentiable in a (the weights and q choose
    which entry: piecewise constant)."""
    if method != "inverted_cdf":
        raise ValueError(f"Only method 'inverted_cdf' supports weights. Got: {method}.")
    _no_dask("quantile", a)
    if axis is not None and np.ndim(axis) != 0:
        raise UnsupportedOptionError("np.quantile(weights=..., axis=<tuple>) is not supported "
                                     "on traced values")
    values, w, qs = np.asarray(raw(a)), np.asarray(raw(weights)), np.asarray(raw(q))
    chosen = np.quantile(values, qs, axis=axis, weights=w, method=method, keepdims=True)
    if axis is None:
        a, values, ax = np.reshape(a, (-1,)), values.reshape(-1), 0
        chosen = chosen.reshape(qs.shape + (1,))
    else:
        ax = normalize_axes(axis, np.ndim(a))[0]
    picks = []
    for k in np.ndindex(qs.shape):
        index = np.argmin(np.abs(values - chosen[k]), axis=ax, keepdims=True)
        pick = np.take_along_axis(a, index, axis=ax)
        if not keepdims:
            pick = np.squeeze(pick, axis=ax)
        elif axis is None:
            pick = np.reshape(pick, (1,) * np.ndim(raw(weights)))
        picks.append(pick)
    if qs.ndim == 0:
        return picks[0]
    return np.reshape(np.stack(picks), qs.shape + np.shape(picks[0]))


@implements(np.percentile)
def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False, *, weights=None, interpolation=None):
    """np.percentile: the quantile at q / 100."""
    _check_q(q, 0, 100, "Percentiles")
    return quantile(a, np.true_divide(q, 100), axis, out, overwrite_input, method, keepdims,
                    weights=weights, interpolation=interpolation)


@implements(np.median)
def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """np.median: the mean of the middle order statistics."""
    _no_dask("median", a)
    return quantile(a, 0.5, axis, out, overwrite_input, "linear", keepdims)


@implements(np.nanquantile)
def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False, *, weights=None, interpolation=None):
    """np.nanquantile: the quantile of the values that are not NaN."""
    _no_out("nanquantile", out)
    if weights is not None:
        raise UnsupportedOptionError("np.nanquantile(..., weights=...) is not supported on traced values")
    _check_q(q, 0, 1, "Quantiles")
    return _quantile("nanquantile", a, q, axis, interpolation or method, keepdims, True)


@implements(np.nanpercentile)
def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                  keepdims=False, *, weights=None, interpolation=None):
    """np.nanpercentile."""
    _check_q(q, 0, 100, "Percentiles")
    return nanquantile(a, np.true_divide(q, 100), axis, out, overwrite_input, method, keepdims,
                       weights=weights, interpolation=interpolation)


@implements(np.nanmedian)
def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """np.nanmedian."""
    return nanquantile(a, 0.5, axis, out, overwrite_input, "linear", keepdims)


# ---- weighted means, covariance, range ----
@implements(np.average)
def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """np.average: sum(w a) / sum(w), differentiable in a and in the weights."""
    if weights is None:
        avg = np.mean(a, axis=axis, keepdims=keepdims)
        scl = np.broadcast_to(np.asarray(np.size(a) / max(np.size(avg), 1), float), np.shape(avg))
        return (avg, scl) if returned else avg
    if np.shape(weights) != np.shape(a):
        if axis is None:
            raise TypeError("Axis must be specified when shapes of a and weights differ.")
        axes = normalize_axes(axis, np.ndim(a))
        if np.shape(weights) != tuple(np.shape(a)[d] for d in axes):
            raise ValueError("Shape of weights must be consistent with shape of a along specified axis.")
        order = sorted(axes)
        shape = [np.shape(a)[d] if d in order else 1 for d in range(np.ndim(a))]
        weights = np.reshape(np.moveaxis(weights, list(range(len(axes))),
                                         [order.index(d) for d in axes]), shape)
    scl = np.sum(np.broadcast_to(weights, np.shape(a)) if np.shape(weights) != np.shape(a)
                 else weights, axis=axis, keepdims=keepdims)
    avg = np.sum(a * weights, axis=axis, keepdims=keepdims) / scl
    return (avg, np.broadcast_to(scl, np.shape(avg))) if returned else avg


def _conj(x):
    return np.conj(x) if np.iscomplexobj(x) else x


@implements(np.cov)
def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
        dtype=None):
    """np.cov, as NumPy computes it (weights included).

    Example:
        >>> round(float(np.cov(np.array([1.0, 2.0, 4.0]))), 12)
        2.333333333333
    """
    x = np.atleast_2d(m)
    if not rowvar and np.shape(x)[0] != 1:
        x = np.transpose(x)
    if np.shape(x)[0] == 0:
        return np.zeros((0, 0))
    if y is not None:
        y = np.atleast_2d(y)
        if not rowvar and np.shape(y)[0] != 1:
            y = np.transpose(y)
        x = np.concatenate((x, y), axis=0)
    if dtype is not None:
        x = x.astype(dtype)
    if ddof is None:
        ddof = 0 if bias else 1
    if np.iscomplexobj(raw(aweights)) or np.iscomplexobj(raw(fweights)):
        raise NoRuleError("np.cov: weights are real (NumPy compares them with 0); got complex weights")
    w = None
    if fweights is not None:
        w = np.asarray(fweights, float) if foreign(fweights) is None else fweights.astype(float)
    if aweights is not None:
        w = aweights if w is None else w * aweights
    if w is None:
        avg = np.mean(x, axis=1)
        fact = np.shape(x)[1] - ddof
        w_sum = None
    else:
        w_sum = np.sum(w)
        avg = np.sum(x * w, axis=1) / w_sum
        if ddof == 0:
            fact = w_sum
        elif aweights is None:
            fact = w_sum - ddof
        else:
            fact = w_sum - ddof * np.sum(w * aweights) / w_sum
    xc = x - avg[:, None]
    xw = xc if w is None else xc * w
    c = np.matmul(xw, np.transpose(_conj(xc))) / fact
    return np.squeeze(c)


@implements(np.corrcoef)
def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    """np.corrcoef: the covariance scaled by the standard deviations."""
    c = cov(x, y, rowvar, dtype=dtype)
    if np.ndim(c) == 0:
        return c / c
    d = np.sqrt(np.real(np.diagonal(c)))
    return c / d[:, None] / d[None, :]


@implements(np.ptp)
def ptp(a, axis=None, out=None, keepdims=False):
    """np.ptp: max minus min."""
    _no_out("ptp", out)
    return np.max(a, axis=axis, keepdims=keepdims) - np.min(a, axis=axis, keepdims=keepdims)


# ---- NaN-ignoring reductions ----
def _nan_extremum(name, reduce, fill):
    def nan_reduce(a, axis=None, out=None, keepdims=False, initial=np._NoValue, where=np._NoValue):
        _no_out(name, out)
        nan = np.isnan(a)
        result = reduce(np.where(nan, fill, a), axis=axis, keepdims=keepdims)
        return np.where(np.all(nan, axis=axis, keepdims=keepdims), np.nan, result)
    nan_reduce.__name__ = name
    nan_reduce.__doc__ = f"np.{name}: NaNs skipped (an all-NaN slice gives NaN)."
    return nan_reduce


nanmax = implements(np.nanmax)(_nan_extremum("nanmax", np.max, -np.inf))
nanmin = implements(np.nanmin)(_nan_extremum("nanmin", np.min, np.inf))


@implements(np.nanvar)
def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=np._NoValue,
           mean=np._NoValue, correction=np._NoValue):
    """np.nanvar: the variance of the values that are not NaN."""
    _no_out("nanvar", out)
    if correction is not np._NoValue:
        ddof = correction
    keep = np.logical_not(np.isnan(a))
    count = np.sum(keep, axis=axis, keepdims=True)
    centre = np.nansum(a, axis=axis, keepdims=True) / count
    d = np.where(keep, a - centre, 0)
    sq = np.real(d * np.conj(d)) if np.iscomplexobj(d) else d * d
    return np.sum(sq, axis=axis, keepdims=keepdims) / np.reshape(
        np.maximum(count - ddof, 0), np.shape(np.sum(sq, axis=axis, keepdims=keepdims)))


@implements(np.nanstd)
def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=np._NoValue,
           mean=np._NoValue, correction=np._NoValue):
    """np.nanstd."""
    return np.sqrt(nanvar(a, axis, dtype, out, ddof, keepdims, correction=correction))


@implements(np.nanprod)
def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=np._NoValue,
            where=np._NoValue):
    """np.nanprod: NaNs count as one."""
    return np.prod(np.where(np.isnan(a), 1, a), axis=axis, dtype=dtype, out=out,
                   keepdims=keepdims, initial=initial, where=where)


@implements(np.nancumsum)
def nancumsum(a, axis=None, dtype=None, out=None):
    """np.nancumsum: NaNs count as zero."""
    return np.cumsum(np.where(np.isnan(a), 0, a), axis=axis, dtype=dtype, out=out)


@implements(np.nancumprod)
def nancumprod(a, axis=None, dtype=None, out=None):
    """np.nancumprod: NaNs count as one."""
    return np.cumprod(np.where(np.isnan(a), 1, a), axis=axis, dtype=dtype, out=out)


nanargmax = pass_through(np.nanargmax)
nanargmin = pass_through(np.nanargmin)


# ---- the complex step: nanmax/nanmin pick the entry whose real part wins ----
def _cs_nan_pick(arg):
    def rule(a, axis=None, out=None, keepdims=False, **kwargs):
        if out is not None or kwargs or not isinstance(axis, (type(None), int)):
            raise complex_step.ComplexStepError(
                "np.nanmax/np.nanmin with out=, several axes or other options have no "
                "complex-step form in chainrule; use cr.jvp.")
        shape = np.shape(a)
        flat = axis is None
        a, ax = (np.ravel(a), 0) if flat else (a, axis)
        idx = np.expand_dims(arg(np.real(a), axis=ax), ax)
        picked = np.take_along_axis(a, idx, ax)
        if flat:
            return np.reshape(picked, (1,) * len(shape)) if keepdims else picked[0]
        return picked if keepdims else np.squeeze(picked, ax)
    return rule


from .. import complex_step  # noqa: E402  (after the rules: complex_step imports no rules)

complex_step.FUNCTION_RULES.setdefault(np.nanmax, _cs_nan_pick(np.nanargmax))
complex_step.FUNCTION_RULES.setdefault(np.nanmin, _cs_nan_pick(np.nanargmin))
