"""Compositions of the linalg primitives with no rules of their own
(matrix_power, multi_dot, matrix_rank, matrix_transpose, lstsq, tensorsolve),
and pinv, the primitive lstsq is built on.
"""

import functools
import operator

import numpy as np

from ...arraylibs import asarray
from ...core.trace import Box, raw
from ...core.errors import NoRuleError
from ...core.primitive import Primitive, implements
from .decompositions import svdvals
from .solves import inv_p, solve
from .stacks import _H, _T, _abs2, _col, _conj, _from_triangle, _to_triangle


@implements(np.linalg.matrix_power)
def matrix_power(a, n):
    """a @ a @ ... (n times) by repeated squaring; inv(a) for negative n.

    Example:
        >>> import chainrule as cr
        >>> cr.grad(lambda a: np.sum(np.linalg.matrix_power(a, 3)))(np.eye(2))
        array([[3., 3.],
               [3., 3.]])
    """
    n = operator.index(n)
    if n == 0:
        return np.broadcast_to(asarray(np.eye(np.shape(a)[-1]), like=a), np.shape(a)).copy()
    if n < 0:
        a, n = inv_p(a), -n
    result, power = None, a
    while n:
        if n & 1:
            result = power if result is None else result @ power
        n >>= 1
        if n:
            power = power @ power
    return result


@implements(np.linalg.multi_dot)
def multi_dot(arrays, *, out=None):
    """The chained product, left to right (NumPy picks a cheaper order; same value)."""
    if out is not None:
        raise NoRuleError("np.linalg.multi_dot(..., out=...) would write into a traced result")
    return functools.reduce(np.matmul, arrays)


@implements(np.linalg.matrix_rank)
def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    """An integer: it carries no derivative."""
    return np.linalg.matrix_rank(raw(A), raw(tol), hermitian, rtol=raw(rtol))


@implements(np.linalg.matrix_transpose)
def matrix_transpose(x, /):
    return _T(x)


def _cutoff_inverse(s, rcond):
    """1/s where s > rcond * max(s), else 0 (lstsq's cut), and where it is kept."""
    rs = raw(s)
    keep = (rs > asarray(np.asarray(rcond)[..., None], like=rs) * np.max(rs, axis=-1, keepdims=True, initial=0.0))
    return keep / np.where(keep, s, 1.0), keep


# pinv, X = A^+ (constant rank; Golub & Pereyra 1973), with P = I - A X, Q = I - X A:
# dX = -X dA X + X X^H dA^H P + Q dA^H X^H X,
# gA = -X^T g X^T + conj(P g^T X X^H) + conj(X^H X g^T Q)  (plain transposes
# of the products, docs/complex.md; conj(.) from the transposes of dA^H).
def _eye_like(x):
    return asarray(np.eye(np.shape(x)[-1]), like=x)


def _pinv_read(a, params):
    """The matrix NumPy's pinv sees: hermitian=True reads the lower triangle
    (through eigh), so the rule must depend on that triangle only, P and Q
    included (else its own derivative, the second order, is wrong)."""
    return _from_triangle(a, lower=True) if params["hermitian"] else a


def _pinv_jvp(tangents, args, ans, params):
    x, a, t = ans, _pinv_read(args[0], params), _pinv_read(tangents[0], params)
    tt = _H(t)
    p, q = _eye_like(a @ x) - a @ x, _eye_like(x @ a) - x @ a
    return -(x @ t @ x) + x @ _H(x) @ tt @ p + q @ tt @ _H(x) @ x


def _pinv_vjp(g, res, params, which):
    (a,), x = res
    a, gt = _pinv_read(a, params), _T(g)
    p, q = _eye_like(a @ x) - a @ x, _eye_like(x @ a) - x @ a
    ga = -(_T(x) @ g @ _T(x)) + _conj(p @ gt @ x @ _H(x) + _H(x) @ x @ gt @ q)
    return [_to_triangle(ga, lower=True) if params["hermitian"] else ga]


pinv_p = Primitive(
    "pinv", lambda a, rcond, hermitian: np.linalg.pinv(a, rcond, hermitian),
    _pinv_jvp, _pinv_vjp)

_NO_VALUE = getattr(np, "_NoValue", None)


@implements(np.linalg.pinv)
def pinv(a, rcond=None, hermitian=False, *, rtol=_NO_VALUE):
    """np.linalg.pinv on traced values; exact wherever the rank (after the cut) is constant.

    Example:
        >>> import chainrule as cr
        >>> cr.grad(lambda a: np.sum(np.linalg.pinv(a)))(2 * np.eye(2))
        array([[-0.25, -0.25],
               [-0.25, -0.25]])
    """
    if rcond is None:
        rcond = 1e-15 if rtol is _NO_VALUE else (
            max(np.shape(a)[-2:]) * np.finfo(np.result_type(raw(a))).eps if rtol is None else rtol)
    return pinv_p(a, rcond=rcond, hermitian=hermitian)


@implements(np.linalg.lstsq)
def lstsq(a, b, rcond=None):
    """(x, residuals, rank, s) as NumPy returns them; x = pinv(a) @ b with lstsq's cut.

    Example:
        >>> import chainrule as cr
        >>> cr.grad(lambda b: np.linalg.lstsq(np.ones((2, 1)), b)[0][0])(np.ones(2))
        array([0.5, 0.5])
    """
    m, n = np.shape(a)[-2:]
    rcond = np.finfo(np.result_type(raw(a))).eps * max(m, n) if rcond is None else rcond
    vector = np.ndim(b) == 1
    bm = _col(b) if vector else b
    s = svdvals(a)
    _, keep = _cutoff_inverse(s, rcond)
    rank = np.sum(keep)
    rank = rank if isinstance(rank, Box) else int(rank)  # traced only when compiled
    x = pinv_p(a, rcond=rcond, hermitian=False) @ bm
    if m > n and rank == n:  # the residuals' shape depends on the rank
        r = bm - a @ x
        resid = np.sum(_abs2(r), axis=0)
    else:
        resid = np.empty((0,), np.result_type(raw(s)))
    return (np.squeeze(x, -1) if vector else x), resid, rank, s


@implements(np.linalg.tensorsolve)
def tensorsolve(a, b, axes=None):
    """Solve tensordot(a, x, x.ndim) = b by reshaping to one linear system."""
    an = np.ndim(a)
    if axes is not None:
        order = [k for k in range(an) if k not in [ax % an for ax in axes]]
        a = np.transpose(a, order + [ax % an for ax in axes])
    oldshape = np.shape(a)[-(an - np.ndim(b)):]
    size = int(np.prod(oldshape, dtype=np.int64))
    if int(np.prod(np.shape(a), dtype=np.int64)) != size ** 2:
        raise np.linalg.LinAlgError(
            "Input arrays must satisfy the requirement prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim])")
    x = solve(np.reshape(a, (size, size)), np.reshape(b, (size,)))
    return np.reshape(x, oldshape)
