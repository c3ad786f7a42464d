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
