"""The general eigendecomposition (eig, eigvals), cond, and the array-API
names of numpy.linalg (outer, cross, trace, diagonal, matmul, tensordot,
vecdot) as the NumPy functions they mirror.

eig: A = V diag(w) V^-1 with complex w and V (for real A too). With
X = V^-1 dA V and F[i, j] = 1 / (w_j - w_i) off the diagonal (0 on it):

    dw = diag(X),   dV = N(V (F o X)),   N(D) = D - V Re(sum(conj(V) o D, rows)),

where N keeps each eigenvector at unit norm (NumPy's normalization; the
phase of an eigenvector is arbitrary, so only phase-independent functions
of V have a derivative, as in JAX). The VJP is the transpose under
Re(sum(a * b)): gA = V^-T (diag(gw) + F o (V^T N^T(gV))) V^T with
N^T(G) = G - conj(V) Re(sum(V o G, rows)), real for real A. Repeated
eigenvalues make F infinite: their vectors have no derivative (as in eigh).

Example:
    >>> import chainrule as cr
    >>> a = np.array([[2.0, 1.0], [0.0, 3.0]])
    >>> g = cr.grad(lambda a: np.sum(np.real(np.linalg.eigvals(a))))(a)  # d trace = I
    >>> bool(np.allclose(g, np.eye(2)))
    True
"""

import collections

import numpy as np

from ...arraylibs import asarray
from ...core.primitive import Primitive, implements
from ..shape import dtype_of
from .stacks import _T, _col, _diag, _diag_matrix, _row


def _gaps(w):
    """F[..., i, j] = 1 / (w_j - w_i), 0 on the diagonal."""
    d = _row(w) - _col(w)
    eye = asarray(np.eye(np.shape(w)[-1]), like=w)
    return (1 - eye) / (d + eye)


def _eig_jvp(tangents, args, ans, params):
    (t,), (a,) = tangents, args
    if t is None:
        return None
    w, v = ans
    x = np.linalg.solve(v, t @ v)
    dw = _diag(x)
    dv = v @ (_gaps(w) * x)
    dv = dv - v * _row(np.real(np.sum(np.conj(v) * dv, axis=-2)))
    return [dw, dv]


def _eig_vjp(g, res, params, which):
    (a,), (w, v) = res
    gw, gv = g
    s = np.real(np.sum(v * gv, axis=-2))
    gv = gv - np.conj(v) * _row(s)
    inner = _diag_matrix(gw) + _gaps(w) * (_T(v) @ gv)
    ga = np.linalg.solve(_T(v), inner @ _T(v))
    return [np.real(ga) if dtype_of(a).kind != "c" else ga]


def _eig(a):
    """np.linalg.eig, always complex: NumPy returns real arrays when every
    imaginary part is zero, a dtype that depends on the values, which a
    compiled graph (traced once) could not follow. JAX does the same."""
    w, v = np.linalg.eig(a)
    dtype = np.result_type(w, 1j)
    return w.astype(dtype, copy=False), v.astype(dtype, copy=False)


eig_p = Primitive("eig", _eig, jvp=_eig_jvp, vjp=_eig_vjp, multiple_results=True)
eig_p.batch = lambda vals, batched, params: eig_p(*vals)  # LAPACK maps over leading axes


@implements(np.linalg.eig)
def eig(a):
    """np.linalg.eig: (eigenvalues, unit eigenvectors), both complex-differentiable
    and always of a complex dtype on traced values (see `_eig`)."""
    w, v = eig_p(a)
    return _EigResult(w, v)


# NumPy's EigResult: a pair with .eigenvalues and .eigenvectors (a namedtuple,
# so that grad, jvp and vjp take it as a structure of two outputs)
_EigResult = collections.namedtuple("EigResult", ["eigenvalues", "eigenvectors"])


@implements(np.linalg.eigvals)
def eigvals(a):
    """np.linalg.eigvals: the eigenvalues of eig."""
    return eig_p(a)[0]


@implements(np.linalg.cond)
def cond(x, p=None):
    """np.linalg.cond: s_max / s_min for p in (None, 2, -2), else norm(x) norm(inv(x))."""
    if p is None or p in (2, -2):
        s = np.linalg.svd(x, compute_uv=False)
        big, small = np.max(s, axis=-1), np.min(s, axis=-1)
        return small / big if p == -2 else big / small
    return (np.linalg.norm(x, ord=p, axis=(-2, -1))
            * np.linalg.norm(np.linalg.inv(x), ord=p, axis=(-2, -1)))


# ---- array-API names ----
@implements(np.linalg.outer)
def outer(x1, x2, /):
    """np.linalg.outer: np.outer of two vectors."""
    if np.ndim(x1) != 1 or np.ndim(x2) != 1:
        raise ValueError("Input arrays must be one-dimensional")
    return np.outer(x1, x2)


@implements(np.linalg.cross)
def cross(x1, x2, /, *, axis=-1):
    """np.linalg.cross: np.cross of 3-vectors."""
    if np.shape(x1)[axis] != 3 or np.shape(x2)[axis] != 3:
        raise ValueError("Both input arrays must be (arrays of) 3-dimensional vectors")
    return np.cross(x1, x2, axis=axis)


@implements(np.linalg.trace)
def trace(x, /, *, offset=0, dtype=None):
    """np.linalg.trace: the trace over the last two axes."""
    return np.trace(x, offset, axis1=-2, axis2=-1, dtype=dtype)


@implements(np.linalg.diagonal)
def diagonal(x, /, *, offset=0):
    """np.linalg.diagonal: the diagonal over the last two axes."""
    return np.diagonal(x, offset, axis1=-2, axis2=-1)


@implements(np.linalg.matmul)
def matmul(x1, x2, /):
    """np.linalg.matmul: np.matmul."""
    return np.matmul(x1, x2)


@implements(np.linalg.tensordot)
def tensordot(x1, x2, /, *, axes=2):
    """np.linalg.tensordot: np.tensordot."""
    return np.tensordot(x1, x2, axes)


@implements(np.linalg.vecdot)
def vecdot(x1, x2, /, *, axis=-1):
    """np.linalg.vecdot: sum(conj(x1) x2) along axis."""
    return np.vecdot(np.moveaxis(x1, axis, -1), np.moveaxis(x2, axis, -1))
