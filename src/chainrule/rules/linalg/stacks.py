"""Small helpers on stacks of matrices (..., m, n), shared by the linalg rules.

Written with differentiable ops (np.swapaxes, masks, sums), so that rules
built from them can be differentiated again and run on traced values.
"""

import functools

import numpy as np

from ...arraylibs import asarray
from ...core.primitive import is_complex


def _T(x):
    return np.swapaxes(x, -1, -2)


def _conj(x):
    """conj(x) for complex x; real x itself (no copy on the real path)."""
    return np.conjugate(x) if is_complex(x) else x


def _H(x):
    """The conjugate transpose (the plain transpose of a real stack)."""
    return _conj(np.swapaxes(x, -1, -2))


def _col(v):
    """v[..., None]"""
    return np.expand_dims(v, -1)


def _row(v):
    """v[..., None, :]"""
    return np.expand_dims(v, -2)


def _eye(n, like, off=False):
    """np.eye(n) (1 - np.eye(n) if `off`) on the array library of `like`."""
    eye = np.eye(n)
    return asarray(1 - eye if off else eye, like=like)


def _diag(x):
    """The diagonals of a stack of square matrices, shape (..., n)."""
    return np.sum(x * asarray(np.eye(np.shape(x)[-1]), like=x), axis=-1)


def _diag_matrix(v):
    """Square matrices with v (..., n) on the diagonal."""
    return _col(v) * asarray(np.eye(np.shape(v)[-1]), like=v)


def _trace(x):
    return np.sum(_diag(x), axis=-1)


def _tril(x, k=0):
    m, n = np.shape(x)[-2:]
    return x * asarray(np.tri(m, n, k), like=x)


def _triu(x, k=0):
    m, n = np.shape(x)[-2:]
    return x * asarray(1 - np.tri(m, n, k - 1), like=x)


@functools.lru_cache(maxsize=16)
def _half_diagonal_tri(n):
    """The lower-triangle mask with its diagonal halved (read-only, shared)."""
    mask = np.tri(n) - 0.5 * np.eye(n)
    mask.setflags(write=False)
    return mask


def _from_triangle(t, lower):
    """The symmetric (Hermitian) matrix a routine reading one triangle of t
    actually sees; LAPACK reads only the real part of a complex diagonal."""
    strict = _tril(t, -1) if lower else _triu(t, 1)
    if is_complex(t):
        n = np.shape(t)[-1]
        return strict + _H(strict) + np.real(t) * _eye(n, t)
    tri = _tril(t) if lower else _triu(t)
    return tri + _T(strict)


def _to_triangle(s, lower):
    """Adjoint of `_from_triangle`: a cotangent on the triangle read,
    s_ij + s_ji below (above) the diagonal and s_ii on it (with conj(s_ji)
    and Re(s_ii) for complex s)."""
    mask = asarray(_half_diagonal_tri(np.shape(s)[-1]), like=s)
    if is_complex(s):
        n = np.shape(s)[-1]
        strict = asarray(np.tri(n, k=-1) if lower else np.tri(n, k=-1).T, like=s)
        return (s + _H(s)) * strict + np.real(s) * _eye(n, s)
    return (s + _T(s)) * (mask if lower else mask.T)


def _result(cls, items):
    """Rebuild NumPy's named result type (EighResult, ...) from a tuple."""
    return cls._make(items) if hasattr(cls, "_make") else tuple(items)


def _abs2(x):
    """|x|**2, smooth on complex x too (Re(x conj(x)), not abs(x)**2)."""
    return np.real(x * np.conjugate(x)) if is_complex(x) else x * x
