"""Where another array library's answer to a NumPy call differs from NumPy's.

chainrule's rules are np.* calls, so they run on any array type that takes
NumPy's calls over (NEP 13/18: Dask, CuPy). A few libraries answer some
calls with a different convention than NumPy; the rules call the functions
here instead, which give NumPy's answer on every library.
"""

import sys

import numpy as np

_Box = None  # chainrule's Box, imported on first use: the rules import this module while the core loads


def raw(x):
    """The plain value under all levels of chainrule's boxes."""
    global _Box
    if _Box is None:
        from .core.box import Box as _Box
    while isinstance(x, _Box):
        x = x._value
    return x


def foreign(like):
    """The plain array under `like` if it belongs to another array library, else None.

    Example:
        >>> foreign(np.ones(2)) is None
        True
    """
    ref = raw(like)
    if type(ref) is np.ndarray or not hasattr(ref, "__array_function__"):
        return None  # NumPy (or a Python or NumPy scalar): NumPy's own functions
    return ref


def like_of(*values):
    """The first of `values` on another array library than NumPy, else None
    (a `like=` for constants combined with all of them).

    Example:
        >>> like_of(1.0, np.ones(2)) is None
        True
    """
    return next((v for v in values if foreign(v) is not None), None)


def zeros(shape, dtype, like):
    """np.zeros(shape, dtype) on the array library of `like` (NumPy by default).

    Example:
        >>> zeros((2,), np.float64, like=np.ones(3))
        array([0., 0.])
    """
    ref = foreign(like)
    if ref is None:
        return np.zeros(shape, dtype)
    return np.zeros_like(ref, dtype=dtype, shape=shape)


def asarray(value, like):
    """`value` (a NumPy array or a constant) on the array library of `like`.

    Example:
        >>> asarray(np.tri(2), like=np.ones(2))
        array([[1., 0.],
               [1., 1.]])
    """
    ref = foreign(like)
    if ref is None:
        return value
    if is_dask(ref) and isinstance(value, np.ndarray):  # Dask names a NumPy array by its
        value = np.asarray(value, order="C")  # bytes in memory order: a transpose, like its original
    return np.asarray(value, like=ref)


def is_dask(a):
    """Whether `a` (or the value under a traced `a`) is a Dask array.

    Example:
        >>> is_dask(np.ones(2))
        False
    """
    a = raw(a)
    dask_array = sys.modules.get("dask.array")
    return dask_array is not None and isinstance(a, dask_array.Array)


def cholesky_lower(a):
    """The lower Cholesky factor, as np.linalg.cholesky gives it.

    Dask's np.linalg.cholesky returns the upper factor; ask it for the lower.

    Example:
        >>> cholesky_lower(np.array([[4.0, 2.0], [2.0, 2.0]]))
        array([[2., 0.],
               [1., 1.]])
    """
    if is_dask(a):
        return sys.modules["dask.array"].linalg.cholesky(a, lower=True)
    return np.linalg.cholesky(a)


def scatter_basic(g, index, shape):
    """Zeros of `shape` with g placed at a basic index (ints, slices, None,
    Ellipsis), as `out = zeros(shape); out[index] = g` gives it, built from
    np.flip, np.expand_dims, np.reshape and np.pad only: lazy on Dask, whose
    item assignment is eager-free but differs from NumPy's (None entries,
    negative steps with a start).

    Example:
        >>> scatter_basic(np.array([1.0, 2.0]), (slice(None, None, -2),), (4,))
        array([0., 2., 0., 1.])
    """
    index = index if isinstance(index, tuple) else (index,)
    named = sum(1 for i in index if i is not None and i is not Ellipsis)
    fill = (slice(None),) * (len(shape) - named)
    k = next((k for k, i in enumerate(index) if i is Ellipsis), len(index))
    index = index[:k] + fill + index[k + 1:]
    g = np.broadcast_to(g, np.broadcast_to(np.zeros((), bool), shape)[index].shape)
    kept = [s for s, i in zip(np.shape(g), (i for i in index if not _is_int(i))) if i is not None]
    g = np.reshape(g, tuple(kept))  # None's axes (of length one) are not in the output
    pads = []
    for axis, (i, n) in enumerate(zip((i for i in index if i is not None), shape)):
        if _is_int(i):
            i = int(i) % n
            g = np.expand_dims(g, axis)
            pads.append((i, n - i - 1))
            continue
        start, stop, step = i.indices(n)
        positions = range(start, stop, step)
        if len(positions) == 0:
            pads.append((0, n))
            continue
        if step < 0:
            g = np.flip(g, axis)
            positions, step = positions[::-1], -step
        m = len(positions)
        if step > 1:  # step - 1 zeros after each entry, the last ones cut off
            g = np.pad(np.expand_dims(g, axis + 1),
                       [(0, 0)] * (axis + 1) + [(0, step - 1)] + [(0, 0)] * (np.ndim(g) - axis - 1))
            g = np.reshape(g, np.shape(g)[:axis] + (m * step,) + np.shape(g)[axis + 2:])
            g = g[(slice(None),) * axis + (slice(0, (m - 1) * step + 1),)]
        pads.append((positions[0], n - positions[-1] - 1))
    return np.pad(g, pads)


def _is_int(i):
    return isinstance(i, (int, np.integer)) and not isinstance(i, bool)


def solve_triangular_dask(a, b, lower):
    """T^-1 b for the lower (or upper) triangle T of the Dask matrix a (or of
    each matrix of a stack), lazily: dask.array.linalg.solve_triangular per
    matrix, with square chunks and b's rows chunked as a's columns. A 1-D b
    is one vector, as for np.linalg.solve.

    Example:
        >>> import dask.array as da
        >>> a = da.from_array(np.array([[2.0, 9.0], [1.0, 1.0]]), chunks=1)
        >>> solve_triangular_dask(a, np.array([2.0, 3.0]), lower=True).compute()
        array([1., 2.])
    """
    dask_array = sys.modules["dask.array"]
    a, b = dask_array.asarray(a), dask_array.asarray(b)
    if b.ndim == 1:
        return solve_triangular_dask(a, b[:, None], lower)[..., 0]
    if a.ndim == 2 and b.ndim == 2:
        a = a.rechunk((a.chunks[1], a.chunks[1]))
        return dask_array.linalg.solve_triangular(a, b.rechunk({0: a.chunks[1]}), lower=lower)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = dask_array.broadcast_to(a, batch + a.shape[-2:])
    b = dask_array.broadcast_to(b, batch + b.shape[-2:])
    parts = [solve_triangular_dask(a[i], b[i], lower) for i in np.ndindex(batch)]
    return dask_array.stack(parts).reshape(batch + b.shape[-2:])
