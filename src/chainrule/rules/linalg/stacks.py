"""Small helpers on stacks of matrices (..., m, n), shared by the linalg rules.

Written with differentiable ops (np.swapaxes, masks, sums), so that rules
built from them can be differentiated again and run on traced values.
"""

import functools

import numpy as np

from ...core.trace import raw


def _T(x):
    return np.swapaxes(x, -1, -2)


def _col(v):
    """v[..., None]"""
    return np.expand_dims(v, -1)


def _row(v):
    """v[..., None, :]"""
    return np.expand_dims(v, -2)


def _diag(x):
    """The diagonals of a stack of square matrices, shape (..., n)."""
    return np.sum(x * np.eye(np.shape(x)[-1]), axis=-1)


def _diag_matrix(v):
    """Square matrices with v (..., n) on the diagonal."""
    return _col(v) * np.eye(np.shape(v)[-1])


def _trace(x):
    return np.sum(_diag(x), axis=-1)


def _tril(x, k=0):
    m, n = np.shape(x)[-2:]
    return x * np.tri(m, n, k)


def _triu(x, k=0):
    m, n = np.shape(x)[-2:]
    return x * (1 - np.tri(m, n, k - 1))


@functools.lru_cache(maxsize=16)
def _half_diagonal_tri(n):
    """The lower-triangle mask with its diagonal halved (read-only, shared)."""
    mask = np.tri(n) - 0.5 * np.eye(n)
    mask.setflags(write=False)
    return mask


def _from_triangle(t, lower):
    """The symmetric matrix a routine reading one triangle of t actually sees."""
    tri = _tril(t) if lower else _triu(t)
    return tri + _T(_tril(t, -1) if lower else _triu(t, 1))


def _to_triangle(s, lower):
    """Adjoint of `_from_triangle`: a cotangent on the triangle read,
    s_ij + s_ji below (above) the diagonal and s_ii on it."""
    mask = _half_diagonal_tri(np.shape(s)[-1])
    return (s + _T(s)) * (mask if lower else mask.T)


def _result(cls, items):
    """Rebuild NumPy's named result type (EighResult, ...) from a tuple."""
    return cls._make(items) if hasattr(cls, "_make") else tuple(items)


def _abs2(x):
    return x * x if np.result_type(raw(x)).kind != "c" else np.abs(x) ** 2
