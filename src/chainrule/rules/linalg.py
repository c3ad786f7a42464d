"""Linear algebra (numpy.linalg): matrix-calculus rules on stacks (..., m, n).

Primitives: solve, solve_triangular, inv, det, slogdet, cholesky, eigh, svd,
qr, pinv. Everything else (norm, lstsq, matrix_power, eigvalsh, ...) is
composed from them. Triangular systems (the Cholesky and QR rules, and a
triangular matrix handed to np.linalg.solve) are solved by substitution
with SciPy's LAPACK wrapper when SciPy is installed (O(n^2) per right-hand
side, no factorisation); without SciPy, by np.linalg.solve (same result).
Each rule is derived from the matrix differential (the maths is in the
comment above it); rules use solves rather than explicit inverses and pure
transposes `_T`, never conjugates: on complex input they are the holomorphic
extension of the real rules (what complex step through reverse mode needs).

Decompositions of symmetric matrices read one triangle of their input, as
LAPACK does (cholesky the lower one, eigh the one UPLO names): their
derivatives are exact for any perturbation, symmetric or not, because a
change in the unread triangle changes nothing.

Undefined derivatives are refused or flagged, never made up: eigenvectors
(and singular vectors) at repeated eigenvalues (a `DegenerateWarning`; the
eigenvalue derivatives stay exact), the extra columns of full_matrices SVD
and complete QR of non-square matrices (an error).
"""

import functools
import importlib.util
import operator
import warnings

import numpy as np

from ..core.trace import Box, raw
from ..core.errors import NoRuleError
from ..core.primitive import Primitive, implements, nondifferentiable
from .batching import _solve_rule


class DegenerateWarning(RuntimeWarning):
    """Eigen/singular vectors were differentiated at a repeated eigen/singular value."""


_GAP_RTOL = 1e-12  # eigenvalues closer than this (relative) count as repeated


# ---- small helpers on stacks of matrices, written with differentiable ops ----
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


def _is_zero(g):
    """A plain all-zero cotangent (the engine's filler for an unused output)."""
    return not isinstance(g, Box) and not np.any(g)


def _warn_degenerate(same, what):
    """`same` unchanged, with a DegenerateWarning if two values coincide."""
    if np.any(same * (1 - np.eye(np.shape(same)[-1]))):
        warnings.warn(
            f"{what}: repeated values; the derivatives of their vectors are undefined "
            "(any rotation within the repeated subspace is a valid answer) and are "
            "computed as if those vectors were fixed. Derivatives of the values "
            "themselves stay exact.", DegenerateWarning, stacklevel=7)
    return same


# A primitive, not an `if`, so that compiled code (whose values are unknown
# while tracing) makes the check when it runs. It works on stacks as they are.
_degenerate_check_p = nondifferentiable("degenerate_check", _warn_degenerate)
_degenerate_check_p.batch = lambda vals, batched, params: _degenerate_check_p(*vals, **params)


def _gap_inverse(w, what, warn):
    """F[..., i, j] = 1 / (w_j - w_i) off the diagonal; 0 on it and wherever
    w_i == w_j to rounding, where a vector derivative is undefined."""
    d = _row(w) - _col(w)
    scale = np.max(np.abs(raw(w)), axis=-1, initial=0.0)[..., None, None]
    same = (np.abs(raw(d)) <= _GAP_RTOL * scale).astype(float)
    if warn:
        same = _degenerate_check_p(same, what=what)
    return (1 - same) / (d + same)


def _result(cls, items):
    """Rebuild NumPy's named result type (EighResult, ...) from a tuple."""
    return cls._make(items) if hasattr(cls, "_make") else tuple(items)


def _no_full_uv(name, fix):
    return NoRuleError(
        f"{name}: the extra columns of a non-square matrix's complete factor are an "
        f"arbitrary basis with no derivative; {fix}.")


# --------------------------------------------------------------------------
# solve: x = A^-1 B.  dx = A^-1 (dB - dA x);  gB = A^-T g, gA = -gB x^T.
def _solve_jvp(tangents, args, ans, params):
    (a, _), (ta, tb) = args, tangents
    rhs = -(ta @ ans) if tb is None else tb if ta is None else tb - ta @ ans
    return solve_p(a, rhs)


def _neg_outer(u, v):
    """-u v^T for stacks u (..., n, k), v (..., m, k); with one column a
    broadcast product (one pass, where matmul makes a rank-1 product slowly)."""
    return -u * _T(v) if np.shape(u)[-1] == 1 else (-u) @ _T(v)


def _solve_vjp(g, res, params, which):
    (a, _), x = res
    gb = solve_p(_T(a), g)
    return [_neg_outer(gb, x) if i == 0 else gb for i in which]


def _solve(a, b):
    """np.linalg.solve, by substitution when every matrix of a is triangular
    (as MATLAB's backslash): the Cholesky spelling `solve(L, y)` then costs
    O(n^2), not an LU factorisation of L; the results agree to rounding."""
    if HAVE_SCIPY:
        a = np.asarray(a)
        lower = _which_triangle(a)
        if lower is not None:
            return _solve_triangular(a, b, trans=0, lower=lower, unit_diagonal=False)
    return np.linalg.solve(a, b)


def _which_triangle(a):
    """True if every matrix of the stack a is lower triangular, False if
    every one is upper triangular, None otherwise (or if n < 2); a corner
    entry settles most dense matrices without scanning the triangle."""
    if a.ndim < 2 or a.shape[-1] < 2 or a.size == 0 or a.dtype.kind not in "fc":
        return None
    upper = _strict_upper(a.shape[-1])
    if not a[..., 0, -1].any() and not np.any(a, where=upper):
        return True
    if not a[..., -1, 0].any() and not np.any(a, where=upper.T):
        return False
    return None


@functools.lru_cache(maxsize=16)
def _strict_upper(n):
    """The boolean mask of the strict upper triangle (read-only, shared)."""
    mask = np.triu(np.ones((n, n), bool), 1)
    mask.setflags(write=False)
    return mask


solve_p = Primitive("solve", _solve, _solve_jvp, _solve_vjp)


@implements(np.linalg.solve)
def solve(a, b):
    """np.linalg.solve on traced values; b is a stack of vectors only when 1-D (NumPy 2).

    Example:
        >>> import chainrule as cr
        >>> cr.grad(lambda b: np.sum(np.linalg.solve(2 * np.eye(2), b)))(np.ones(2))
        array([0.5, 0.5])
    """
    if np.ndim(b) == 1:
        return np.squeeze(solve_p(a, _col(b)), -1)
    return solve_p(a, b)


# --------------------------------------------------------------------------
# solve_triangular: x = op(T)^-1 b, T the triangle of a that is read (lower
# or upper, with ones on the diagonal if unit_diagonal), op(T) = T or T^T.
# dx = op(T)^-1 (db - op(dT) x);  gb = op(T)^-T g,  gT = -tri(op^T(gb x^T)).
def _scipy_installed():
    try:
        return importlib.util.find_spec("scipy") is not None
    except (ImportError, ValueError):  # a broken or blocked install
        return False


HAVE_SCIPY = _scipy_installed()  # SciPy itself is imported on first use (import time)


@functools.lru_cache(maxsize=16)
def _triangle_mask(n, lower, unit_diagonal):
    """The mask of the triangle a triangular solve reads (read-only, shared)."""
    tri = np.tri(n) if lower else np.tri(n).T
    mask = tri - np.eye(n) if unit_diagonal else tri
    mask.setflags(write=False)
    return mask


def _op(x, trans):
    return _T(x) if trans else x


def _solve_triangular(a, b, trans, lower, unit_diagonal):
    """op(T)^-1 b on plain stacks a (..., n, n), b (..., n, k) or (n,):
    LAPACK's trtrs through SciPy, matrix by matrix (older SciPy does not
    map over stacks); without SciPy, np.linalg.solve on the triangle."""
    a, b = np.asarray(a), np.asarray(b)
    if b.ndim == 1:
        return _solve_triangular(a, b[:, None], trans, lower, unit_diagonal)[..., 0]
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    if not HAVE_SCIPY or 0 in batch + a.shape[-2:] + b.shape[-2:]:
        t = a * _triangle_mask(a.shape[-1], lower, unit_diagonal)
        if unit_diagonal:
            t = t + np.eye(a.shape[-1])
        return np.linalg.solve(_op(t, trans), b)
    from scipy.linalg import solve_triangular
    kw = dict(trans=trans, lower=lower, unit_diagonal=unit_diagonal, check_finite=False)
    if not batch:
        return solve_triangular(a, b, **kw)
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    return np.stack([solve_triangular(a[i], b[i], **kw) for i in np.ndindex(batch)]
                    ).reshape(batch + b.shape[-2:])


def _solve_triangular_jvp(tangents, args, ans, params):
    (a, _), (ta, tb) = args, tangents
    rhs = 0 if tb is None else tb
    if ta is not None:
        dt = ta * _triangle_mask(np.shape(a)[-1], params["lower"], params["unit_diagonal"])
        rhs = rhs - _op(dt, params["trans"]) @ ans
    return solve_triangular_p(a, rhs, **params)


def _solve_triangular_vjp(g, res, params, which):
    (a, _), x = res
    gb = solve_triangular_p(a, g, **{**params, "trans": 1 - params["trans"]})
    mask = _triangle_mask(np.shape(a)[-1], params["lower"], params["unit_diagonal"])
    return [_op(_neg_outer(gb, x), params["trans"]) * mask if i == 0 else gb for i in which]


solve_triangular_p = Primitive("solve_triangular", _solve_triangular,
                               _solve_triangular_jvp, _solve_triangular_vjp)
solve_triangular_p.batch = _solve_rule(solve_triangular_p)


def _trisolve(l, b, trans=0):
    """L^-1 b (trans=0) or L^-T b (trans=1) for a lower-triangular factor L."""
    return solve_triangular_p(l, b, trans=trans, lower=True, unit_diagonal=False)


# inv: X = A^-1.  dX = -X dA X;  gA = -X^T g X^T.
inv_p = Primitive(
    "inv", np.linalg.inv,
    jvp=lambda tangents, args, ans, params: -(ans @ tangents[0] @ ans),
    vjp=lambda g, x, params, which: [-(_T(x) @ g @ _T(x))],
    save=lambda args, ans, params: ans)

# det: d det = det tr(A^-1 dA);  gA = g det A^-T.
det_p = Primitive(
    "det", np.linalg.det,
    jvp=lambda tangents, args, ans, params: ans * _trace(solve_p(args[0], tangents[0])),
    vjp=lambda g, res, params, which: [_col(_col(g * res[1])) * _T(inv_p(res[0][0]))])


# slogdet: (sign, log|det|); the sign is piecewise constant.
# d log|det| = tr(A^-1 dA);  gA = g A^-T.
slogdet_p = Primitive(
    "slogdet", lambda a: tuple(np.linalg.slogdet(a)),
    jvp=lambda tangents, args, ans, params: [None, _trace(solve_p(args[0], tangents[0]))],
    vjp=lambda g, a, params, which: [_col(_col(g[1])) * _T(inv_p(a))],
    save=lambda args, ans, params: args[0], multiple_results=True)

implements(np.linalg.inv)(lambda a: inv_p(a))
implements(np.linalg.det)(lambda a: det_p(a))
_SLOGDET = type(np.linalg.slogdet(np.eye(1)))
implements(np.linalg.slogdet)(lambda a: _result(_SLOGDET, slogdet_p(a)))


# --------------------------------------------------------------------------
# cholesky: A = L L^T from the lower triangle of A (S = what LAPACK reads).
# dL = L Phi(L^-1 dS L^-T), Phi = lower triangle with the diagonal halved;
# gS = L^-T Phi(L^T g) L^-1, then gA = the adjoint of reading the triangle.
def _phi(x):
    return x * _half_diagonal_tri(np.shape(x)[-1])


def _cholesky_jvp(tangents, args, ans, params):
    ds = _from_triangle(tangents[0], lower=True)
    x = _trisolve(ans, _T(_trisolve(ans, ds)))  # L^-1 dS L^-T (dS symmetric)
    return ans @ _phi(x)


_BLOCK = 128  # below this size a product by halves saves no time


def _phi_lt_times(l, g):
    """Phi(L^T g) for lower-triangular L, by halves: the upper-right block of
    L is zero and that of Phi(.) is not needed, so with L = [[A, 0], [B, C]]
    and g = [[g1, .], [g2, g3]],
        Phi(L^T g) = [[Phi(A^T g1) + Phi(B^T g2), 0], [C^T g2, Phi(C^T g3)]],
    recursively: a third of the flops of the full product."""
    n = np.shape(l)[-1]
    if n <= _BLOCK:
        return _phi(_T(l) @ g)
    h = n // 2
    a, b, c = l[..., :h, :h], l[..., h:, :h], l[..., h:, h:]
    g1, g2, g3 = g[..., :h, :h], g[..., h:, :h], g[..., h:, h:]
    top = _phi_lt_times(a, g1) + _phi(_T(b) @ g2)
    top = np.concatenate([top, np.zeros(np.shape(top)[:-1] + (n - h,))], axis=-1)
    bottom = np.concatenate([_T(c) @ g2, _phi_lt_times(c, g3)], axis=-1)
    return np.concatenate([top, bottom], axis=-2)


def _lower_over(p, l):
    """P L^-1 for lower-triangular P and L, itself lower triangular, by halves:
    with P = [[p1, 0], [p2, p3]] and L = [[A, 0], [B, C]],
        P L^-1 = [[p1 A^-1, 0], [(p2 - p3 C^-1 B) A^-1, p3 C^-1]],
    recursively: half the flops of one full triangular solve."""
    n = np.shape(l)[-1]
    if n <= _BLOCK:
        return _T(_trisolve(l, _T(p), trans=1))
    h = n // 2
    a, b, c = l[..., :h, :h], l[..., h:, :h], l[..., h:, h:]
    p1, p2, p3 = p[..., :h, :h], p[..., h:, :h], p[..., h:, h:]
    y3 = _lower_over(p3, c)
    y2 = _T(_trisolve(a, _T(p2 - y3 @ b), trans=1))
    top = _lower_over(p1, a)
    top = np.concatenate([top, np.zeros(np.shape(top)[:-1] + (n - h,))], axis=-1)
    return np.concatenate([top, np.concatenate([y2, y3], axis=-1)], axis=-2)


def _cholesky_vjp(g, l, params, which):
    s = _trisolve(l, _lower_over(_phi_lt_times(l, g), l), trans=1)  # L^-T Phi(L^T g) L^-1
    return [_to_triangle(s, lower=True)]


def _cholesky(a):
    try:
        return np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        raise np.linalg.LinAlgError(
            f"cholesky: the matrix (shape {np.shape(a)}) is not positive definite, so it "
            "has no Cholesky factor; check that it is symmetric positive definite, or "
            "add a small multiple of the identity (jitter) to it.") from None


cholesky_p = Primitive("cholesky", _cholesky, _cholesky_jvp, _cholesky_vjp,
                       save=lambda args, ans, params: ans)


@implements(np.linalg.cholesky)
def cholesky(a, /, *, upper=False):
    """np.linalg.cholesky on traced values (reads the lower triangle, or the upper one).

    Example:
        >>> import chainrule as cr
        >>> cr.grad(lambda a: np.sum(np.linalg.cholesky(a)))(4 * np.eye(2))
        array([[0.25, 0.  ],
               [0.5 , 0.25]])
    """
    return _T(cholesky_p(_T(a))) if upper else cholesky_p(a)


# --------------------------------------------------------------------------
# eigh: A V = V diag(w), from one triangle (S). With P = V^T dS V:
# dw = diag(P), dV = V (F o P), F_ij = 1/(w_j - w_i);
# gS = V (diag(gw) + F o (V^T gV)) V^T.
def _eigh_jvp(tangents, args, ans, params):
    w, v = ans
    p = _T(v) @ _from_triangle(tangents[0], params["UPLO"] == "L") @ v
    return [_diag(p), v @ (_gap_inverse(w, "eigh", params["vectors"]) * p)]


def _eigh_vjp(g, ans, params, which):
    (w, v), (gw, gv) = ans, g
    inner = _diag_matrix(gw)
    if not _is_zero(gv):
        inner = inner + _gap_inverse(w, "eigh", params["vectors"]) * (_T(v) @ gv)
    return [_to_triangle(v @ inner @ _T(v), params["UPLO"] == "L")]


eigh_p = Primitive(
    "eigh", lambda a, UPLO, vectors: tuple(np.linalg.eigh(a, UPLO)),
    _eigh_jvp, _eigh_vjp, save=lambda args, ans, params: ans, multiple_results=True)
_EIGH = type(np.linalg.eigh(np.eye(1)))


@implements(np.linalg.eigh)
def eigh(a, UPLO="L"):
    """np.linalg.eigh on traced values; warns (DegenerateWarning) when the
    eigenvectors of repeated eigenvalues are differentiated.

    Example:
        >>> import chainrule as cr
        >>> cr.grad(lambda a: np.linalg.eigh(a).eigenvalues[-1])(np.diag([1.0, 2.0]))
        array([[0., 0.],
               [0., 1.]])
    """
    return _result(_EIGH, eigh_p(a, UPLO=UPLO, vectors=True))


@implements(np.linalg.eigvalsh)
def eigvalsh(a, UPLO="L"):
    """np.linalg.eigvalsh on traced values (exact even at repeated eigenvalues)."""
    return eigh_p(a, UPLO=UPLO, vectors=False)[0]


# --------------------------------------------------------------------------
# svd (reduced, k = min(m, n)): A = U diag(s) V^T. With dP = U^T dA V and
# F_ij = 1/(s_j^2 - s_i^2):  ds = diag(dP),
# dU = U (F o (dP S + S dP^T)) + (I - U U^T) dA V S^-1,
# dV = V (F o (S dP + dP^T S)) + (I - V V^T) dA^T U S^-1.
# The VJP below is this linear map transposed term by term.
def _svd_parts(ans, params):
    u, s, vt = ans
    k = np.shape(s)[-1]
    return u[..., :, :k], s, _T(vt[..., :k, :])


def _svd_jvp(tangents, args, ans, params):
    (a,), (t,) = args, tangents
    m, n = np.shape(a)[-2:]
    if params["hermitian"]:
        t = _from_triangle(t, lower=True)
    u, s, v = _svd_parts(ans, params)
    dp = _T(u) @ t @ v
    if params["full_matrices"] and m != n:
        raise _no_full_uv("svd", "use np.linalg.svd(a, full_matrices=False)")
    f = _gap_inverse(s * s, "svd", params["vectors"])
    du = u @ (f * (dp * _row(s) + _col(s) * _T(dp)))
    dv = v @ (f * (_col(s) * dp + _T(dp) * _row(s)))
    if m > n:
        du = du + (t @ v - u @ dp) / _row(s)
    if n > m:
        dv = dv + (_T(t) @ u - v @ _T(dp)) / _row(s)
    return [du, _diag(dp), _T(dv)]


def _svd_vjp(g, ans, params, which):
    (gu, gs, gvt), (u, s, v) = g, _svd_parts(ans, params)
    m, n, k = np.shape(u)[-2], np.shape(v)[-2], np.shape(s)[-1]
    gp = _diag_matrix(gs)
    extra = 0
    if not (_is_zero(gu) and _is_zero(gvt)):
        if params["full_matrices"] and m != n:
            if not (_is_zero(gu[..., :, k:]) and _is_zero(gvt[..., k:, :])):
                raise _no_full_uv("svd", "use np.linalg.svd(a, full_matrices=False)")
            gu, gvt = gu[..., :, :k], gvt[..., :k, :]
        gv = _T(gvt)
        f = _gap_inverse(s * s, "svd", params["vectors"])
        m1, m2 = f * (_T(u) @ gu), f * (_T(v) @ gv)
        gp = gp + (m1 + _T(m1)) * _row(s) + _col(s) * (m2 + _T(m2))
        if m > k:  # (I - U U^T) gU S^-1 V^T
            extra = ((gu - u @ (_T(u) @ gu)) / _row(s)) @ _T(v)
        if n > k:  # U S^-1 gV^T (I - V V^T)
            extra = u @ _T((gv - v @ (_T(v) @ gv)) / _row(s))
    ga = u @ gp @ _T(v) + extra
    if params["hermitian"]:
        ga = _to_triangle(ga, lower=True)
    return [ga]


svd_p = Primitive(
    "svd", lambda a, full_matrices, hermitian, vectors: tuple(
        np.linalg.svd(a, full_matrices=full_matrices, hermitian=hermitian)),
    _svd_jvp, _svd_vjp, save=lambda args, ans, params: ans, multiple_results=True)
_SVD = type(np.linalg.svd(np.eye(1)))


@implements(np.linalg.svd)
def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """np.linalg.svd on traced values. Singular vectors of a non-square matrix
    with full_matrices=True have no derivative in their extra columns.

    Example:
        >>> import chainrule as cr
        >>> cr.grad(lambda a: np.sum(np.linalg.svd(a, compute_uv=False)))(np.diag([2.0, 1.0]))
        array([[1., 0.],
               [0., 1.]])
    """
    if not compute_uv:
        return svd_p(a, full_matrices=False, hermitian=hermitian, vectors=False)[1]
    return _result(_SVD, svd_p(a, full_matrices=bool(full_matrices), hermitian=hermitian,
                               vectors=True))


@implements(np.linalg.svdvals)
def svdvals(x, /):
    """np.linalg.svdvals on traced values."""
    return svd(x, compute_uv=False)


# --------------------------------------------------------------------------
# qr (m >= n, reduced): A = Q R. With Y = dA R^-1, X = Q^T Y and
# W = tril(X, -1) - tril(X, -1)^T (Q^T dQ, antisymmetric):
# dQ = Q (W - X) + Y,  dR = (X - W) R.  The VJP transposes these steps.
def _qr_jvp(tangents, args, ans, params):
    q, r = ans
    y = _T(solve_triangular_p(r, _T(tangents[0]), trans=1, lower=False, unit_diagonal=False))
    x = _T(q) @ y
    w = _tril(x, -1) - _T(_tril(x, -1))
    return [q @ (w - x) + y, (x - w) @ r]


def _qr_vjp(g, ans, params, which):
    (gq, gr), (q, r) = g, ans
    gx = gr @ _T(r) - _T(q) @ gq
    gx = gx + _tril(_T(gx) - gx, -1)  # through W, whose cotangent is -gx
    gy = gq + q @ gx
    return [_T(solve_triangular_p(r, _T(gy), trans=0, lower=False, unit_diagonal=False))]


qr_p = Primitive("qr", lambda a: tuple(np.linalg.qr(a)), _qr_jvp, _qr_vjp,
                 save=lambda args, ans, params: ans, multiple_results=True)
_QR = type(np.linalg.qr(np.eye(1)))


@implements(np.linalg.qr)
def qr(a, mode="reduced"):
    """np.linalg.qr on traced values (modes 'reduced', 'complete' and 'r').

    A wide matrix (m < n) factors its first m columns, and R = Q^T A.

    Example:
        >>> import chainrule as cr
        >>> cr.grad(lambda a: np.linalg.qr(a).R[1, 1])(np.eye(2))
        array([[0., 0.],
               [0., 1.]])
    """
    if mode not in ("reduced", "complete", "r"):
        raise NoRuleError(f"np.linalg.qr(mode={mode!r}) has no derivative rule; use 'reduced'")
    m, n = np.shape(a)[-2:]
    if m >= n:
        if mode == "complete" and m > n:
            raise _no_full_uv("qr", "use mode='reduced'")
        q, r = qr_p(a)
    else:
        q, _ = qr_p(a[..., :, :m])
        r = _triu(_T(q) @ a)
    return r if mode == "r" else _result(_QR, (q, r))


# --------------------------------------------------------------------------
# Compositions: no rules of their own.

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
        return np.broadcast_to(np.eye(np.shape(a)[-1]), np.shape(a)).copy()
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
    keep = (rs > np.asarray(rcond)[..., None] * np.max(rs, axis=-1, keepdims=True, initial=0.0))
    return keep / np.where(keep, s, 1.0), keep


# pinv, X = A^+ (constant rank; Golub & Pereyra 1973), with P = I - A X, Q = I - X A:
# dX = -X dA X + X X^T dA^T P + Q dA^T X^T X,
# gA = -X^T g X^T + P g^T X X^T + X^T X g^T Q.
def _eye_like(x):
    return np.eye(np.shape(x)[-1])


def _pinv_read(a, params):
    """The matrix NumPy's pinv sees: hermitian=True reads the lower triangle
    (through eigh), so the rule must depend on that triangle only, P and Q
    included (else its own derivative, the second order, is wrong)."""
    return _from_triangle(a, lower=True) if params["hermitian"] else a


def _pinv_jvp(tangents, args, ans, params):
    x, a, t = ans, _pinv_read(args[0], params), _pinv_read(tangents[0], params)
    tt = _T(t)
    p, q = _eye_like(a @ x) - a @ x, _eye_like(x @ a) - x @ a
    return -(x @ t @ x) + x @ _T(x) @ tt @ p + q @ tt @ _T(x) @ x


def _pinv_vjp(g, res, params, which):
    (a,), x = res
    a, gt = _pinv_read(a, params), _T(g)
    p, q = _eye_like(a @ x) - a @ x, _eye_like(x @ a) - x @ a
    ga = -(_T(x) @ g @ _T(x)) + p @ gt @ x @ _T(x) + _T(x) @ x @ gt @ q
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


# ---- norms ----
def _abs2(x):
    return x * x if np.result_type(raw(x)).kind != "c" else np.abs(x) ** 2


def _extreme(x, axis, keepdims, largest):
    """max or min of x along one axis, by gathering the winning entries."""
    rx = raw(x)
    idx = (np.argmax if largest else np.argmin)(rx, axis=axis, keepdims=True)
    shape = np.shape(rx)
    index = tuple(idx if k == axis else np.arange(n).reshape([-1 if j == k else 1 for j in range(len(shape))])
                  for k, n in enumerate(shape))
    out = x[index]
    return out if keepdims else np.squeeze(out, axis)


def _vector_norm(x, ord, axis, keepdims):
    if ord is None or ord == 2:
        return np.sqrt(np.sum(_abs2(x), axis=axis, keepdims=keepdims))
    if ord == 0:
        return np.sum((raw(x) != 0).astype(float), axis=axis, keepdims=keepdims)
    if ord in (np.inf, -np.inf):
        return _extreme(np.abs(x), axis, keepdims, ord > 0)
    if ord == 1:
        return np.sum(np.abs(x), axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")
    return np.sum(np.abs(x) ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)


def _matrix_norm(x, ord, axes, keepdims):
    nd = np.ndim(x)
    r, c = (ax % nd for ax in axes)
    if r == c:
        raise ValueError("Duplicate axes given.")
    if ord is None or ord == "fro":
        return np.sqrt(np.sum(_abs2(x), axis=(r, c), keepdims=keepdims))
    if ord in (2, -2, "nuc"):
        s = svdvals(np.moveaxis(x, (r, c), (-2, -1)))
        out = np.sum(s, axis=-1) if ord == "nuc" else s[..., 0] if ord == 2 else s[..., -1]
    elif ord in (1, -1, np.inf, -np.inf):
        summed, other = (r, c) if ord in (1, -1) else (c, r)
        col = np.sum(np.abs(x), axis=summed, keepdims=True)
        out = np.squeeze(_extreme(col, other, True, ord > 0), (r, c))
    else:
        raise ValueError("Invalid norm order for matrices.")
    return np.expand_dims(out, tuple(sorted((r, c)))) if keepdims else out


@implements(np.linalg.norm)
def norm(x, ord=None, axis=None, keepdims=False):
    """np.linalg.norm on traced values, composed from sums, abs, max and svd.

    Example:
        >>> import chainrule as cr
        >>> cr.grad(lambda x: np.linalg.norm(x))(np.array([3.0, 4.0]))
        array([0.6, 0.8])
    """
    nd = np.ndim(x)
    if axis is None:
        if ord is None:
            out = np.sqrt(np.sum(_abs2(x)))
            return np.reshape(out, (1,) * nd) if keepdims else out
        if nd not in (1, 2):
            raise ValueError("Improper number of dimensions to norm.")
        axis = tuple(range(nd))
    axis = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if len(axis) == 1:
        return _vector_norm(x, ord, axis[0] % nd, keepdims)
    if len(axis) == 2:
        return _matrix_norm(x, ord, axis, keepdims)
    raise ValueError("Improper number of dimensions to norm.")


@implements(np.linalg.vector_norm)
def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """np.linalg.vector_norm (axis=None: over all entries)."""
    if axis is None:
        out = _vector_norm(np.reshape(x, (-1,)), ord, 0, False)
        return np.reshape(out, (1,) * np.ndim(x)) if keepdims else out
    if isinstance(axis, tuple) and len(axis) > 1:
        nd = np.ndim(x)
        axes = tuple(a % nd for a in axis)
        rest = [k for k in range(nd) if k not in axes]
        moved = np.transpose(x, rest + list(axes))
        flat = np.reshape(moved, tuple(np.shape(moved)[:len(rest)]) + (-1,))
        out = _vector_norm(flat, ord, -1 % np.ndim(flat), False)
        return np.expand_dims(out, axes) if keepdims else out
    return norm(x, ord, axis, keepdims)


@implements(np.linalg.matrix_norm)
def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """np.linalg.matrix_norm: the norm of each matrix in a stack."""
    return norm(x, ord, (-2, -1), keepdims)
