"""Assorted NumPy functions as compositions of primitives: ranges with traced
endpoints, block assembly, cross products, angles and unit conversions,
cumulative_sum/prod, axis moves, nan_to_num, the array-API dot products
(vecdot, matvec, vecmat: gufuncs with a rule of their own), meshgrid, and
predicates that answer from the dtype or the values (no derivative).

Example:
    >>> import chainrule as cr
    >>> cr.grad(lambda b: np.sum(np.linspace(0.0, b, 5)))(1.0)  # 0 + 1/4 + ... + 1
    np.float64(2.5)
"""

import numpy as np

from ..arraylibs import asarray, like_of
from ..core.errors import MutationError, NoRuleError
from ..core.primitive import Primitive, UFUNCS, implements, register_ufunc
from ..core.trace import Box, raw
from .indexing import pass_through
from .shape import dtype_of, normalize_axes


def _complex(x):
    return dtype_of(x).kind == "c"


def _conj(x):
    return np.conj(x) if _complex(x) else x


# ---- ranges with traced endpoints ----
@implements(np.linspace)
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *, device=None):
    """np.linspace: start (1 - t) + stop t for fixed fractions t."""
    num = int(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    div = (num - 1) if endpoint else num
    t = np.arange(num, dtype=float) / div if div > 0 else np.zeros(num)
    shape = np.broadcast_shapes(np.shape(start), np.shape(stop))
    t = asarray(np.reshape(t, (num,) + (1,) * len(shape)), like=like_of(start, stop))
    y = start * (1 - t) + stop * t
    if endpoint and num > 1:
        y = np.concatenate([y[:-1], np.broadcast_to(stop, (1,) + shape) + 0 * y[-1:]], axis=0)
    if axis != 0:
        y = np.moveaxis(y, 0, axis)
    if dtype is not None:
        y = y.astype(dtype)
    if retstep:
        return y, (stop - start) / div if div > 0 else np.nan * (stop - start)
    return y


@implements(np.logspace)
def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """np.logspace: base ** linspace(start, stop)."""
    y = linspace(start, stop, num, endpoint)
    if np.ndim(base):
        base = np.expand_dims(base, 0)
    y = np.power(base, y)
    y = np.moveaxis(y, 0, axis) if axis != 0 else y
    return y if dtype is None else y.astype(dtype)


@implements(np.geomspace)
def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """np.geomspace (real endpoints of one sign): exp(linspace(log start, log stop))."""
    if np.iscomplexobj(raw(start)) or np.iscomplexobj(raw(stop)):
        raise NoRuleError("np.geomspace with complex endpoints has no rule in chainrule "
                          "(NumPy picks the branch of the logarithm by the values); "
                          "build it as start * (stop / start) ** (np.arange(num) / (num - 1)).")
    sign = np.sign(start)
    y = sign * np.exp(linspace(np.log(start * sign), np.log(stop * sign), num, endpoint))
    if num > 0:  # the endpoints exactly, as NumPy sets them
        first = np.broadcast_to(start, np.shape(y[:1])[1:])[None] + 0 * y[:1]
        pieces = [first, y[1:-1] if endpoint else y[1:]]
        if endpoint and num > 1:
            pieces.append(np.broadcast_to(stop, np.shape(y[-1:])[1:])[None] + 0 * y[-1:])
        y = np.concatenate(pieces, axis=0) if num > 1 else first
    y = np.moveaxis(y, 0, axis) if axis != 0 else y
    return y if dtype is None else y.astype(dtype)


# ---- assembling arrays ----
def _depth(x):
    return 1 + _depth(x[0]) if isinstance(x, list) and x else (1 if isinstance(x, list) else 0)


def _max_ndim(x):
    return max(_max_ndim(v) for v in x) if isinstance(x, list) else np.ndim(x)


def _block(x, depth, nd):
    if not isinstance(x, list):
        return np.reshape(x, (1,) * (nd - np.ndim(x)) + np.shape(x))
    parts = [_block(v, depth - 1, nd) for v in x]
    return np.concatenate(parts, axis=-depth)


@implements(np.block)
def block(arrays):
    """np.block: the innermost lists joined along the last axis, and outwards."""
    if isinstance(arrays, tuple):
        raise TypeError("arrays is a tuple. Only lists can be used to arrange blocks, "
                        "and np.block does not allow implicit conversion from tuple to ndarray.")
    depth = _depth(arrays)
    return _block(arrays, depth, max(depth, _max_ndim(arrays)))


@implements(np.diagflat)
def diagflat(v, k=0):
    """np.diagflat: the flattened input on the k-th diagonal."""
    return np.diag(np.ravel(v), k)


@implements(np.cross)
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """np.cross of 3-vectors (or 2-vectors) along an axis."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = np.moveaxis(a, axisa, -1), np.moveaxis(b, axisb, -1)
    na, nb = np.shape(a)[-1], np.shape(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product\n(dimension must be 2 or 3)")
    if na == 2 and nb == 2:
        return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    a0, a1 = a[..., 0], a[..., 1]
    b0, b1 = b[..., 0], b[..., 1]
    a2 = a[..., 2] if na == 3 else 0 * a0
    b2 = b[..., 2] if nb == 3 else 0 * b0
    c = np.stack(np.broadcast_arrays(a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0), axis=-1)
    return np.moveaxis(c, -1, axisc)


# ---- angles, units, cumulative sums ----
@implements(np.angle)
def angle(z, deg=False):
    """np.angle: arctan2(imag z, real z) (in degrees with deg=True)."""
    a = np.arctan2(np.imag(z), np.real(z))
    return a * (180 / np.pi) if deg else a


register_ufunc(np.degrees, UFUNCS[np.rad2deg])
register_ufunc(np.radians, UFUNCS[np.deg2rad])


def _cumulative(name, scan, initial):
    def cumulative(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
        if out is not None:
            raise MutationError(f"np.{name}(..., out=...) would write in place into a traced result")
        if axis is None:
            if np.ndim(x) > 1:
                raise ValueError("For arrays which have more than one dimension ``axis`` argument is required.")
            axis = 0
        x = np.atleast_1d(x)
        y = scan(x, axis=axis, dtype=dtype)
        if include_initial:
            shape = list(np.shape(y))
            shape[normalize_axes(axis, np.ndim(y))[0]] = 1
            first = asarray(np.full(shape, initial, dtype_of(y)), like=y)
            y = np.concatenate([first, y], axis=axis)
        return y
    cumulative.__name__ = name
    cumulative.__doc__ = f"np.{name}: np.{scan.__name__} with an optional initial entry."
    return cumulative


cumulative_sum = implements(np.cumulative_sum)(_cumulative("cumulative_sum", np.cumsum, 0))
cumulative_prod = implements(np.cumulative_prod)(_cumulative("cumulative_prod", np.cumprod, 1))


# ---- axes and dtypes ----
@implements(np.rollaxis)
def rollaxis(a, axis, start=0):
    """np.rollaxis, as a transpose."""
    n = np.ndim(a)
    axis = normalize_axes(axis, n)[0]
    if start < 0:
        start += n
    if not 0 <= start < n + 1:
        raise np.exceptions.AxisError(f"'start' arg requires {-n} <= start < {n + 1}")
    if axis < start:
        start -= 1
    if axis == start:
        return a
    axes = list(range(n))
    axes.remove(axis)
    axes.insert(start, axis)
    return np.transpose(a, axes)


@implements(np.matrix_transpose)
def matrix_transpose(x, /):
    """np.matrix_transpose: the last two axes swapped."""
    if np.ndim(x) < 2:
        raise ValueError("Input array must be at least 2-dimensional")
    return np.swapaxes(x, -1, -2)


@implements(np.astype)
def astype(x, dtype, /, *, copy=True, device=None):
    """np.astype: x.astype(dtype)."""
    return x.astype(dtype)


@implements(np.nan_to_num)
def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """np.nan_to_num: non-finite entries replaced (they carry no derivative)."""
    if _complex(x):
        return (nan_to_num(np.real(x), copy, nan, posinf, neginf)
                + 1j * nan_to_num(np.imag(x), copy, nan, posinf, neginf))
    if dtype_of(x).kind not in "fc":
        return x
    info = np.finfo(dtype_of(x))
    big = info.max if posinf is None else posinf
    small = info.min if neginf is None else neginf
    y = np.where(np.isnan(x), nan, x)
    y = np.where(np.isposinf(x), big, y)
    return np.where(np.isneginf(x), small, y)


def _raw(x):
    while isinstance(x, Box):
        x = x._value
    return x


@implements(np.real_if_close)
def real_if_close(a, tol=100):
    """np.real_if_close: the real part when every imaginary part is within tol
    machine epsilons of zero (a choice read from the values)."""
    if not _complex(a):
        return a
    eps = np.finfo(dtype_of(a)).eps * tol if tol > 1 else tol
    return np.real(a) if np.all(np.abs(np.imag(_raw(a))) < eps) else a


# ---- array-API dot products (gufuncs): real bilinear, conj on vecdot's and vecmat's first ----
def _vecdot_vjp(g, res, params, which):
    (x1, x2), _ = res
    g = np.expand_dims(g, -1)
    return [_conj(g * x2) if i == 0 else g * _conj(x1) for i in which]


def _matvec_vjp(g, res, params, which):
    (a, v), _ = res
    return [np.expand_dims(g, -1) * np.expand_dims(v, -2) if i == 0
            else np.sum(np.expand_dims(g, -1) * a, axis=-2) for i in which]


def _vecmat_vjp(g, res, params, which):
    (v, a), _ = res
    gx = np.expand_dims(g, -2)
    return [_conj(np.sum(gx * a, axis=-1)) if i == 0 else gx * np.expand_dims(_conj(v), -1)
            for i in which]


def _bilinear(name, ufunc, vjp):
    def jvp(tangents, args, ans, params):
        total = None
        for i, t in enumerate(tangents):
            if t is not None:
                term = prim(*args[:i], t, *args[i + 1:])
                total = term if total is None else total + term
        return total
    prim = Primitive(name, ufunc, jvp=jvp, vjp=vjp, save=lambda args, ans, params: (args, None))
    return register_ufunc(ufunc, prim)


for _name, _vjp in (("vecdot", _vecdot_vjp), ("matvec", _matvec_vjp), ("vecmat", _vecmat_vjp)):
    if hasattr(np, _name):  # NumPy >= 2.0 (vecdot), 2.2 (matvec, vecmat)
        _bilinear(_name, getattr(np, _name), _vjp)


# ---- grids ----
@implements(np.meshgrid)
def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """np.meshgrid: each vector reshaped along its own axis and broadcast."""
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    n = len(xi)
    out = []
    for i, x in enumerate(xi):
        shape = [1] * n
        shape[i] = -1
        if indexing == "xy" and n > 1 and i < 2:
            shape[0], shape[1] = shape[1], shape[0]
        out.append(np.reshape(x, shape))
    if not sparse:
        out = list(np.broadcast_arrays(*out))
    return tuple(out)


# ---- predicates: plain answers ----
iscomplex = pass_through(np.iscomplex)
isreal = pass_through(np.isreal)
isposinf = pass_through(np.isposinf)
isneginf = pass_through(np.isneginf)
isfortran = pass_through(np.isfortran)
