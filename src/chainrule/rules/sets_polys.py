"""More NumPy functions on traced values, as compositions of primitives:
deletion and extraction (delete, extract, ediff1d, trim_zeros, unstack), the
array-API unique functions and union1d (values gathered at their first
positions), the polynomial helpers (polyadd, polysub, polymul, polyder,
polyint, poly, roots), the ufuncs with two float outputs (modf, divmod),
and the functions whose answer carries no derivative (fix, isin, digitize,
the index helpers *_indices_from, array2string / array_repr / array_str).

Example:
    >>> import numpy as np, chainrule as cr
    >>> cr.grad(lambda p: np.sum(np.polyder(p)))(np.array([1.0, 2.0, 3.0]))  # 2 p0 + p1
    array([2., 1., 0.])
"""

import numpy as np

from ..arraylibs import asarray, foreign, is_dask, like_of, zeros
from ..core.errors import MutationError, NoRuleError, UnsupportedOptionError
from ..core.primitive import FUNCTIONS, Primitive, elementwise, implements, nondifferentiable, register_ufunc
from ..core.trace import Box, raw
from .indexing import pass_through, take
from .shape import moveaxis, ravel

# ---- answers without a derivative ----
for _f in (np.isin, np.digitize):
    pass_through(_f, narrays=2)
for _f in (np.tril_indices_from, np.triu_indices_from, np.diag_indices_from):
    pass_through(_f)


def _text(func):
    def handler(a, *args, **kwargs):
        return func(raw(a), *args, **kwargs)
    handler.__name__ = func.__name__
    handler.__doc__ = f"np.{func.__name__} on a traced value: the text of its value."
    FUNCTIONS[func] = handler


for _f in (np.array2string, np.array_repr, np.array_str):
    _text(_f)


@implements(np.fix)
def fix(x, out=None):
    """np.fix: rounding toward zero (np.trunc), piecewise constant."""
    if out is not None:
        raise MutationError("np.fix(..., out=...) would write in place")
    return np.trunc(x)


# ---- deletion, extraction, differences ----
@implements(np.delete)
def delete(arr, obj, axis=None):
    """np.delete: a take of the positions np.delete keeps."""
    if axis is None:
        arr, axis = ravel(arr), 0
    n = np.shape(arr)[axis]
    keep = np.delete(np.arange(n), raw(obj) if not isinstance(obj, slice) else obj)
    return take(arr, keep, axis=axis)


@implements(np.extract)
def extract(condition, arr):
    """np.extract: the flattened arr at the true entries of the flattened condition."""
    return take(ravel(arr), np.nonzero(np.ravel(raw(condition)))[0])


def _on_library_of(value, like):
    """`value` (a Python or NumPy scalar, list or array) on the array library of
    `like`; a traced scalar through a product with a one there (traced arrays
    and arrays of other libraries unchanged)."""
    if foreign(value) is not None or foreign(like) is None:
        return value
    if isinstance(value, Box):
        return value * asarray(np.ones(()), like=like) if np.ndim(value) == 0 else value
    return asarray(np.asarray(value), like=like)


@implements(np.ediff1d)
def ediff1d(ary, to_end=None, to_begin=None):
    """np.ediff1d: differences of the flattened array, with the ends attached."""
    flat = ravel(ary)
    parts = [flat[1:] - flat[:-1]]
    if to_begin is not None:
        parts.insert(0, ravel(_on_library_of(to_begin, flat)))
    if to_end is not None:
        parts.append(ravel(_on_library_of(to_end, flat)))
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


@implements(np.trim_zeros)
def trim_zeros(filt, trim="fb", axis=None):
    """np.trim_zeros: a slice of filt, found on its values (zeros carry no derivative)."""
    values = np.asarray(raw(filt))
    axes = range(values.ndim) if axis is None else np.atleast_1d(axis)
    trim = trim.lower()
    index = [slice(None)] * values.ndim
    nonzero = np.argwhere(values != 0)
    for ax in axes:
        ax = int(ax) % values.ndim
        if nonzero.size == 0:
            index[ax] = slice(0, 0)
            continue
        start = int(nonzero[:, ax].min()) if "f" in trim else 0
        stop = int(nonzero[:, ax].max()) + 1 if "b" in trim else values.shape[ax]
        index[ax] = slice(start, stop)
    return filt[tuple(index)]


@implements(np.unstack)
def unstack(x, /, *, axis=0):
    """np.unstack: the slices along axis."""
    moved = moveaxis(x, axis, 0)
    return tuple(moved[i] for i in range(np.shape(moved)[0]))


# ---- unique values: gathered at their first positions ----
_first = nondifferentiable(
    "unique_all_positions",
    lambda x: np.unique(x, return_index=True, return_inverse=True, return_counts=True,
                        equal_nan=False)[1:])


def _unique(x):
    flat = ravel(x)
    index, inverse, counts = _first(flat)
    return take(flat, index), index, np.reshape(inverse, np.shape(x)), counts


@implements(np.unique_values)
def unique_values(x):
    """np.unique_values: the sorted distinct values (real input only)."""
    if np.iscomplexobj(raw(x)):
        raise NoRuleError("np.unique_values of complex values: NumPy returns them in hash "
                          "order, which moves when they move; use np.unique (sorted).")
    return _unique(x)[0]  # real values: NumPy sorts them too


@implements(np.unique_counts)
def unique_counts(x):
    """np.unique_counts: (values, counts)."""
    values, _, _, counts = _unique(x)
    return type(np.unique_counts(np.zeros(1)))(values, counts)


@implements(np.unique_inverse)
def unique_inverse(x):
    """np.unique_inverse: (values, inverse indices)."""
    values, _, inverse, _ = _unique(x)
    return type(np.unique_inverse(np.zeros(1)))(values, inverse)


@implements(np.unique_all)
def unique_all(x):
    """np.unique_all: (values, indices, inverse indices, counts)."""
    return type(np.unique_all(np.zeros(1)))(*_unique(x))


@implements(np.union1d)
def union1d(ar1, ar2):
    """np.union1d: the distinct values of both, sorted."""
    return _unique(np.concatenate([ravel(ar1), ravel(ar2)]))[0]


# ---- polynomials (coefficients, highest power first) ----
def _pad_front(p, n):
    extra = n - np.shape(p)[0]
    return p if extra <= 0 else np.concatenate([zeros((extra,), np.result_type(raw(p)), like=p), p])


def _poly1d(p):
    if isinstance(p, np.poly1d):
        raise UnsupportedOptionError("np.poly1d objects on traced values: pass coefficient arrays")
    return np.atleast_1d(p)


@implements(np.polyadd)
def polyadd(a1, a2):
    """np.polyadd: the coefficient arrays aligned at the constant term, added."""
    a1, a2 = _poly1d(a1), _poly1d(a2)
    n = max(np.shape(a1)[0], np.shape(a2)[0])
    return _pad_front(a1, n) + _pad_front(a2, n)


@implements(np.polysub)
def polysub(a1, a2):
    """np.polysub: the coefficient arrays aligned at the constant term, subtracted."""
    a1, a2 = _poly1d(a1), _poly1d(a2)
    n = max(np.shape(a1)[0], np.shape(a2)[0])
    return _pad_front(a1, n) - _pad_front(a2, n)


@implements(np.polymul)
def polymul(a1, a2):
    """np.polymul: the convolution of the coefficients."""
    return np.convolve(_poly1d(a1), _poly1d(a2))


@implements(np.polyder)
def polyder(p, m=1):
    """np.polyder: the m-th derivative's coefficients (linear in p)."""
    m = int(m)
    if m < 0:
        raise ValueError("Order of derivative must be positive (see polyint)")
    p = _poly1d(p)
    for _ in range(m):
        n = np.shape(p)[0] - 1
        p = p[:-1] * asarray(np.arange(n, 0, -1.0), like=p)
    return p


@implements(np.polyint)
def polyint(p, m=1, k=None):
    """np.polyint: the m-th antiderivative's coefficients, integration constants k."""
    m = int(m)
    if m < 0:
        raise ValueError("Order of integral must be positive (see polyder)")
    p = _poly1d(p)
    like = like_of(p, k)
    k = zeros((m,), np.float64, like) if k is None else _on_library_of(k, like)
    k = np.reshape(k, (-1,)) if np.ndim(k) else asarray(np.full(m, 1.0), like) * k
    if np.shape(k)[0] == 1 and m > 1:
        k = k[0] * asarray(np.ones(m), like)
    if np.shape(k)[0] < m:
        raise ValueError("k must be a scalar or a rank-1 array of length 1 or >m.")
    for i in range(m):
        n = np.shape(p)[0]
        p = np.concatenate([p / asarray(np.arange(n, 0, -1.0), like), k[i:i + 1] + 0 * p[:1]])
    return p


@implements(np.roots)
def roots(p):
    """np.roots: the eigenvalues of the companion matrix, and the zero roots of
    trailing zero coefficients (leading and trailing zeros found on the values)."""
    p = ravel(p)
    values = np.asarray(raw(p))
    nonzero = np.nonzero(values)[0]
    if len(nonzero) == 0:
        return asarray(np.array([]), like=p)
    trailing = len(values) - nonzero[-1] - 1
    p = p[int(nonzero[0]):int(nonzero[-1]) + 1]
    n = np.shape(p)[0]
    if n > 1:
        top = -p[1:] / p[0]
        below = asarray(np.eye(n - 2, n - 1) if n > 2 else np.zeros((0, 1)), like=p)
        companion = np.concatenate([top[None, :], below + 0 * top[None, :]], axis=0)
        r = np.linalg.eigvals(companion)
    else:
        r = zeros((0,), np.float64, like=p)
    if trailing:
        r = np.concatenate([r, zeros((trailing,), np.result_type(raw(r)), like=r)])
    return r


@implements(np.poly)
def poly(seq_of_zeros):
    """np.poly: the monic polynomial with these roots (of a square matrix: its
    eigenvalues), real where the roots come in conjugate pairs, as NumPy's."""
    z = seq_of_zeros
    shape = np.shape(z)
    if len(shape) == 2 and shape[0] == shape[1] and shape[0] != 0:
        z = np.linalg.eigvals(z)
    elif len(shape) == 1:
        pass
    elif len(shape) == 0:
        z = np.reshape(z, (1,))
    else:
        raise ValueError("input must be 1d or non-empty square 2d array.")
    one = asarray(np.ones(1), like=z)
    a = one
    for k in range(np.shape(z)[0]):
        a = np.convolve(a, np.concatenate([one + 0 * z[k:k + 1], -z[k:k + 1]]))
    if np.iscomplexobj(raw(a)):
        values = np.asarray(raw(z))
        pos = np.sort_complex(values[values.imag > 0])
        neg = np.sort_complex(np.conjugate(values[values.imag < 0]))
        if len(pos) == len(neg) and np.all(neg == pos):
            a = np.real(a)
    return a


# ---- ufuncs with two outputs ----
def _two_outputs(name, ufunc, derivatives):
    """A primitive for `ufunc` with two outputs; derivatives(args, outs) gives,
    per argument, the pair of the outputs' derivatives (None: zero)."""
    def jvp(tangents, args, ans, params):
        d = derivatives(args, ans)
        out = [0 * a if np.result_type(raw(a)).kind in "fc" else None for a in ans]
        for t, pair in zip(tangents, d):
            if t is None:
                continue
            for j, dj in enumerate(pair):
                if dj is not None:
                    out[j] = out[j] + t * dj
        return [None if o is None else np.broadcast_to(o, np.shape(a)) for o, a in zip(out, ans)]

    def vjp(g, res, params, which):
        args, ans = res
        d = derivatives(args, ans)
        return [sum(gk * dk for gk, dk in zip(g, d[i]) if dk is not None and gk is not None)
                for i in which]

    return register_ufunc(ufunc, Primitive(name, ufunc, jvp=jvp, vjp=vjp, multiple_results=True))


# modf(x) = (x - trunc(x), trunc(x)); divmod(x, y) = (floor(x / y), x - floor(x / y) y)
_two_outputs("modf", np.modf, lambda args, ans: [(1.0, None)])
_two_outputs("divmod", np.divmod, lambda args, ans: [(None, 1.0), (None, -ans[0])])


# ---- insert, by NumPy's own insert of position codes ----
@implements(np.insert)
def insert(arr, obj, values, axis=None):
    """np.insert: NumPy inserts codes (the positions in arr, and -1 - the
    positions in values) where it would insert the values; the result gathers
    from arr and values at those codes."""
    shape_a, shape_v = np.shape(arr), np.shape(values)
    codes = np.insert(np.arange(int(np.prod(shape_a))).reshape(shape_a),
                      raw(obj) if not isinstance(obj, slice) else obj,
                      -1 - np.arange(int(np.prod(shape_v))).reshape(shape_v), axis=axis)
    from_values = codes < 0
    a_part = take(ravel(arr), np.where(from_values, 0, codes))
    if not np.any(from_values):
        return a_part
    v_part = take(ravel(_on_library_of(values, arr)), np.where(from_values, -1 - codes, 0))
    return np.where(asarray(from_values, like=like_of(arr, values)), v_part, a_part)


@implements(np.ix_)
def ix_(*args):
    """np.ix_: each 1-d argument reshaped to its own axis."""
    n = len(args)
    out = []
    for k, a in enumerate(args):
        if np.ndim(a) != 1:
            raise ValueError("Cross index must be 1 dimensional")
        if np.result_type(raw(a)).kind == "b":
            a = np.nonzero(raw(a))[0]
        out.append(np.reshape(a, (1,) * k + (-1,) + (1,) * (n - k - 1)))
    return tuple(out)


@implements(np.linalg.tensorinv)
def tensorinv(a, ind=2):
    """np.linalg.tensorinv: inv of a reshaped to a square matrix, reshaped back."""
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    shape = np.shape(a)
    inv_shape = shape[ind:] + shape[:ind]
    rows = int(np.prod(shape[:ind]))
    return np.reshape(np.linalg.inv(np.reshape(a, (rows, -1))), inv_shape)


@implements(np.polydiv)
def polydiv(u, v):
    """np.polydiv: (quotient, remainder) by NumPy's long division; the leading
    remainder entries NumPy drops (close to 0) are found on the values."""
    u, v = _poly1d(u) + 0.0, _poly1d(v) + 0.0
    m, n = np.shape(u)[0] - 1, np.shape(v)[0] - 1
    r = [u[k] for k in range(m + 1)]
    q = []
    for k in range(0, m - n + 1):
        d = r[k] / v[0]
        q.append(d)
        for j in range(n + 1):
            r[k + j] = r[k + j] - d * v[j]
    r = np.stack(r)
    q = np.stack(q) if q else np.zeros(1) + 0 * u[:1]
    values = np.asarray(raw(r))
    start = 0
    while np.allclose(values[start], 0, rtol=1e-14) and values.shape[-1] - start > 1:
        start += 1
    return q, r[start:]


def _setxor_positions(a1, a2, assume_unique):
    """Positions in concatenate(a1, a2) (flat) of np.setxor1d's values (first match)."""
    pool = np.concatenate([np.ravel(a1), np.ravel(a2)])
    chosen = np.setxor1d(np.ravel(a1), np.ravel(a2), assume_unique=assume_unique)
    return np.argmax(pool[None, :] == chosen[:, None], axis=1) if chosen.size else np.zeros(0, int)


_setxor_p = nondifferentiable("setxor1d_positions", _setxor_positions)
_intersect_p = nondifferentiable(
    "intersect1d_positions",
    lambda a1, a2, assume_unique: np.intersect1d(np.ravel(a1), np.ravel(a2),
                                                 assume_unique=assume_unique,
                                                 return_indices=True)[1:])


@implements(np.setxor1d)
def setxor1d(ar1, ar2, assume_unique=False):
    """np.setxor1d: the sorted values in exactly one of the arrays, gathered."""
    pool = np.concatenate([ravel(ar1), ravel(ar2)])
    return take(pool, _setxor_p(ar1, ar2, assume_unique=assume_unique))


@implements(np.intersect1d)
def intersect1d(ar1, ar2, assume_unique=False, return_indices=False):
    """np.intersect1d: the common values, gathered from ar1 (a value equal in
    both moves with ar1; moved alone, ar2's copy would leave the set)."""
    i1, i2 = _intersect_p(ar1, ar2, assume_unique=assume_unique)
    values = take(ravel(ar1), i1)
    return (values, i1, i2) if return_indices else values


# ---- i0: NumPy's value, derivative i1 by the trapezoidal rule ----
_THETA = (np.arange(256) + 0.5) * np.pi / 256


def _i1(x):
    """I_1(x) = (1/pi) int_0^pi e^(x cos t) cos t dt (the midpoint rule is
    exact to rounding for |x| < 200 here: the integrand is smooth and periodic)."""
    m = np.abs(x)
    cos = asarray(np.cos(_THETA), like=x)
    t = np.exp(np.expand_dims(x, -1) * cos - np.expand_dims(m, -1)) * cos
    return np.exp(m) * np.mean(t, axis=-1)


_I0_LIMIT = ("the derivative of np.i0 at |x| > 200 (chainrule computes I_1 by a "
             "quadrature accurate below 200)")


def _i0_guard(block):
    """Ones, or the refusal when the block has |x| > 200 (a Dask x is checked when computed)."""
    if np.any(np.abs(block) > 200):
        raise NoRuleError(_I0_LIMIT)
    return np.ones(np.shape(block))


def _i0_rule(x):
    values = raw(x)
    if is_dask(values):  # checked lazily, block by block, when the derivative is computed
        return _i1(x) * values.map_blocks(_i0_guard, dtype=float)
    if np.any(np.abs(values) > 200):
        raise NoRuleError(_I0_LIMIT)
    return _i1(x)


_i0_p = elementwise("numpy_i0", np.i0, lambda x: _i0_rule(x))


@implements(np.i0)
def i0(x):
    """np.i0 (real input): derivative I_1."""
    return _i0_p(x)
