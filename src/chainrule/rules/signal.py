"""Signal-style NumPy functions as compositions of primitives: convolution
and correlation (a gather of windows and a product), linear interpolation
(in x, in the knots and in the values), the trapezoid rule, finite-difference
gradients, phase unwrapping, sinc, and polynomials (polyval, polyfit,
vander).

Example:
    >>> import chainrule as cr
    >>> cr.grad(lambda fp: np.interp(0.25, [0.0, 1.0], fp))(np.array([1.0, 3.0]))
    array([0.75, 0.25])
"""

import numpy as np

from ..arraylibs import asarray, like_of
from ..core.errors import UnsupportedOptionError
from ..core.primitive import implements, nondifferentiable
from ..core.trace import Box, raw
from .shape import along, normalize_axes


def _conj(x):
    return np.conj(x) if np.iscomplexobj(x) else x


# ---- convolution and correlation ----
def _full_convolution(a, v):
    """sum_j a[k - j] v[j] for k = 0..n+m-2: windows of the zero-padded a."""
    n, m = np.shape(a)[0], np.shape(v)[0]
    padded = np.pad(a, (m - 1, m - 1))
    windows = np.arange(n + m - 1)[:, None] + (m - 1) - np.arange(m)[None, :]
    return padded[windows] @ v


@implements(np.convolve)
def convolve(a, v, mode="full"):
    """np.convolve in modes full, same and valid.

    Example:
        >>> np.convolve(np.array([1.0, 2.0]), np.array([1.0, 1.0, 1.0]))
        array([1., 3., 3., 2.])
    """
    a, v = np.ravel(a), np.ravel(v)
    n, m = np.shape(a)[0], np.shape(v)[0]
    if n == 0 or m == 0:
        raise ValueError("v cannot be empty" if m == 0 else "a cannot be empty")
    if m > n:
        a, v, n, m = v, a, m, n
    full = _full_convolution(a, v)
    if mode == "full":
        return full
    if mode == "same":
        start = (m - 1) // 2
        return full[start:start + n]
    if mode == "valid":
        return full[m - 1:n]
    raise ValueError(f"mode must be one of 'valid', 'same', or 'full' (got {mode!r})")


@implements(np.correlate)
def correlate(a, v, mode="valid"):
    """np.correlate: c[k] = sum_n a[n + k] conj(v[n]), a convolution with conj(v) reversed."""
    a, v = np.ravel(a), np.ravel(v)
    if np.shape(v)[0] > np.shape(a)[0]:
        # NumPy swaps, correlates and reverses (conjugating) the result
        return _conj(correlate(v, a, mode))[::-1]
    return convolve(a, _conj(v)[::-1], mode)


# ---- interpolation ----
_segment_p = nondifferentiable(
    "interp_segment",
    lambda x, xp: np.clip(np.searchsorted(xp, x, side="right") - 1, 0, max(np.shape(xp)[0] - 2, 0)))


# a plain array read at traced positions (the segment): the value carries no derivative
_take_p = nondifferentiable("take_plain", lambda a, i: a[i])


def _at(a, i):
    return a[i] if isinstance(a, Box) else _take_p(a, i)


@implements(np.interp)
def interp(x, xp, fp, left=None, right=None, period=None):
    """np.interp: piecewise linear, differentiable in x, xp and fp (one-sided at knots).

    Example:
        >>> float(np.interp(2.5, [1.0, 2.0, 3.0], [3.0, 2.0, 0.0]))
        1.0
    """
    if period is not None:
        return _periodic_interp(x, xp, fp, period)
    xp = xp if isinstance(xp, Box) else np.asarray(xp, float)
    fp = fp if isinstance(fp, Box) else np.asarray(fp)
    if np.ndim(xp) != 1 or np.ndim(fp) != 1:
        raise ValueError("data must be 1D")
    if np.shape(xp)[0] != np.shape(fp)[0]:
        raise ValueError("fp and xp are not of the same length")
    if np.shape(xp)[0] == 1:
        y = np.broadcast_to(fp[0], np.shape(x)) + 0 * x
    else:
        i = _segment_p(x, xp)
        x0, x1, y0, y1 = _at(xp, i), _at(xp, i + 1), _at(fp, i), _at(fp, i + 1)
        y = y0 + (x - x0) / (x1 - x0) * (y1 - y0)
    low = fp[0] if left is None else left
    high = fp[-1] if right is None else right
    return np.where(x < xp[0], low, np.where(x > xp[-1], high, y))


def _periodic_interp(x, xp, fp, period):
    """np.interp(period=...): x and xp taken modulo the period, xp sorted (on
    its values) and extended by one point at each end, as NumPy does."""
    if np.all(raw(period) == 0):
        raise ValueError("period must be a non-zero value")
    period = np.abs(period)
    x = np.remainder(x, period)
    xp = np.remainder(xp if isinstance(xp, Box) else np.asarray(xp, float), period)
    fp = fp if isinstance(fp, Box) else np.asarray(fp)
    if np.ndim(xp) != 1 or np.ndim(fp) != 1:
        raise ValueError("Data must be 1-dimensional")
    order = np.argsort(np.asarray(raw(xp)), kind="stable")
    xp, fp = xp[order], fp[order]
    xp = np.concatenate([xp[-1:] - period, xp, xp[:1] + period])
    fp = np.concatenate([fp[-1:], fp, fp[:1]])
    return interp(x, xp, fp)


# ---- integration and differentiation of samples ----
@implements(np.trapezoid)
def trapezoid(y, x=None, dx=1.0, axis=-1):
    """np.trapezoid: sum of (y[i] + y[i+1]) / 2 times the spacing."""
    axis = normalize_axes(axis, np.ndim(y))[0]
    nd = np.ndim(y)
    if x is None:
        d = dx
    else:
        d = np.diff(x, axis=-1 if np.ndim(x) == 1 else axis)
        if np.ndim(x) == 1:
            d = np.reshape(d, [-1 if k == axis else 1 for k in range(nd)])
    hi = y[along(axis, slice(1, None))]
    lo = y[along(axis, slice(None, -1))]
    return np.sum(d * (hi + lo) / 2.0, axis=axis)


def _gradient_1d(f, h, axis, edge_order):
    """np.gradient along one axis; h a scalar spacing or the coordinates."""
    n = np.shape(f)[axis]
    if n < edge_order + 1:
        raise ValueError("Shape of array too small to calculate a numerical gradient, "
                         "at least (edge_order + 1) elements are required.")
    nd = np.ndim(f)

    def s(a, b=None):
        return f[along(axis, slice(a, b))]

    def shaped(v):
        return np.reshape(v, [-1 if k == axis else 1 for k in range(nd)])

    uniform = np.ndim(h) == 0
    if uniform:
        interior = (s(2) - s(None, -2)) / (2.0 * h)
        if edge_order == 1:
            first = (s(1, 2) - s(0, 1)) / h
            last = (s(-1) - s(-2, -1)) / h
        else:
            first = (-1.5 * s(0, 1) + 2.0 * s(1, 2) - 0.5 * s(2, 3)) / h
            last = (0.5 * s(-3, -2) - 2.0 * s(-2, -1) + 1.5 * s(-1)) / h
    else:
        dx = np.diff(h)
        dx1, dx2 = shaped(dx[:-1]), shaped(dx[1:])
        a = -dx2 / (dx1 * (dx1 + dx2))
        b = (dx2 - dx1) / (dx1 * dx2)
        c = dx1 / (dx2 * (dx1 + dx2))
        interior = a * s(None, -2) + b * s(1, -1) + c * s(2)
        if edge_order == 1:
            first = (s(1, 2) - s(0, 1)) / dx[0]
            last = (s(-1) - s(-2, -1)) / dx[-1]
        else:
            d1, d2 = dx[0], dx[1]
            first = (-(2.0 * d1 + d2) / (d1 * (d1 + d2)) * s(0, 1) + (d1 + d2) / (d1 * d2) * s(1, 2)
                     - d1 / (d2 * (d1 + d2)) * s(2, 3))
            d1, d2 = dx[-2], dx[-1]
            last = (d2 / (d1 * (d1 + d2)) * s(-3, -2) - (d2 + d1) / (d1 * d2) * s(-2, -1)
                    + (2.0 * d2 + d1) / (d2 * (d1 + d2)) * s(-1))
    return np.concatenate([first, interior, last], axis=axis)


@implements(np.gradient)
def gradient(f, *varargs, axis=None, edge_order=1):
    """np.gradient: second-order central differences inside, one-sided at the ends;
    differentiable in f and in the spacings or coordinates."""
    if edge_order not in (1, 2):
        raise ValueError("'edge_order' greater than 2 not supported")
    axes = normalize_axes(axis, np.ndim(f))
    if len(varargs) == 0:
        spacing = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        spacing = [varargs[0]] * len(axes)
    elif len(varargs) == len(axes):
        spacing = list(varargs)
    else:
        raise TypeError("invalid number of arguments")
    out = [_gradient_1d(f, h, ax, edge_order) for h, ax in zip(spacing, axes)]
    return out[0] if len(out) == 1 else tuple(out)


# ---- phases and sinc ----
_unwrap_shift_p = nondifferentiable(
    "unwrap_shift",
    lambda p, discont, axis, period: np.unwrap(p, discont, axis, period=period) - p)


@implements(np.unwrap)
def unwrap(p, discont=None, axis=-1, *, period=2 * np.pi):
    """np.unwrap: p plus multiples of the period (a constant shift per entry)."""
    return p + _unwrap_shift_p(p, discont=discont, axis=axis, period=period)


@implements(np.sinc)
def sinc(x):
    """np.sinc: sin(pi x) / (pi x), with its Taylor series 1 - (pi x)^2 / 6 at 0
    so that the first two derivatives are exact there too."""
    zero = x == 0
    y = np.pi * np.where(zero, 1.0, x)
    return np.where(zero, 1 - (np.pi * x) ** 2 / 6, np.sin(y) / y)


# ---- polynomials ----
@implements(np.polyval)
def polyval(p, x):
    """np.polyval by Horner's rule, differentiable in p and x."""
    if isinstance(p, np.poly1d):
        p = p.coeffs
    y = asarray(np.zeros(np.shape(x)), like=like_of(x, p))
    for k in range(np.shape(p)[0]):
        y = y * x + p[k]
    return y


@implements(np.vander)
def vander(x, N=None, increasing=False):
    """np.vander: the columns x^0, x^1, ... built by products (exact at x = 0)."""
    if np.ndim(x) != 1:
        raise ValueError("x must be a one-dimensional array or sequence.")
    N = np.shape(x)[0] if N is None else int(N)
    cols = []
    for k in range(N):
        cols.append(asarray(np.ones(np.shape(x)), like=x) if k == 0 else cols[-1] * x)
    out = np.stack(cols, axis=1) if cols else np.zeros((np.shape(x)[0], 0))
    return out if increasing else out[:, ::-1]


@implements(np.polyfit)
def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """np.polyfit (least squares on scaled Vandermonde columns), differentiable
    in x, y and w; with full=True also the residual sum of squares and the
    singular values (rank and rcond are plain numbers), with cov=True (or
    "unscaled") the covariance of the coefficients, as NumPy computes them."""
    deg = int(deg)
    order = deg + 1
    lhs = vander(x, order)
    rhs = y
    if w is not None:
        lhs = lhs * w[:, None]
        rhs = rhs * (w if np.ndim(rhs) == 1 else w[:, None])
    scale = np.sqrt(np.sum(lhs * lhs, axis=0))
    lhs = lhs / scale
    coef_scaled = np.linalg.pinv(lhs) @ rhs
    coef = coef_scaled / (scale if np.ndim(coef_scaled) == 1 else scale[:, None])
    if not (full or cov):
        return coef
    n = np.shape(x)[0]
    if full or cov != "unscaled":
        rank = int(np.linalg.matrix_rank(np.asarray(raw(lhs))))
        resid = rhs - lhs @ coef_scaled
        if rank == order and n > order:
            resids = np.sum(resid * np.conj(resid) if _is_complex(resid) else resid * resid,
                            axis=0)
            resids = np.reshape(np.real(resids) if _is_complex(resid) else resids, (-1,))
        else:
            resids = np.zeros(0)
    if full:
        rcond = n * np.finfo(np.result_type(raw(x), float)).eps if rcond is None else rcond
        return coef, resids, rank, np.linalg.svd(lhs, compute_uv=False), rcond
    vbase = np.linalg.inv(np.swapaxes(lhs, 0, 1) @ lhs) / (scale[:, None] * scale[None, :])
    if cov == "unscaled":
        fac = 1.0
    else:
        if n <= order:
            raise ValueError("the number of data points must exceed order "
                             "to scale the covariance matrix")
        fac = resids / (n - order)
    if np.ndim(y) == 1:
        return coef, vbase * fac
    return coef, vbase[:, :, None] * fac


def _is_complex(x):
    return np.result_type(raw(x)).kind == "c"


from .. import complex_step  # noqa: E402  (complex_step imports no rules)

# NumPy's polyfit of complex data solves a conjugating least squares: the
# complex step would return a wrong number, so it refuses.
complex_step.REFUSED.add(np.polyfit)
