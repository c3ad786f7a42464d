"""Decompositions: cholesky, eigh (eigvalsh), svd (svdvals), qr, with the
checks that flag or refuse their undefined derivatives.

Decompositions of symmetric matrices read one triangle of their input, as
LAPACK does (cholesky the lower one, eigh the one UPLO names). Eigenvectors
(and singular vectors) at repeated eigenvalues get a `DegenerateWarning`;
the extra columns of full_matrices SVD and complete QR of non-square
matrices are an error.
"""

import warnings

import numpy as np

from ...arraylibs import asarray, cholesky_lower, is_dask, zeros
from ...core.trace import Box, raw
from ...core.errors import NoRuleError
from ...core.primitive import Primitive, implements, nondifferentiable
from .solves import _trisolve, solve_triangular_p
from ...core.primitive import is_complex
from .stacks import (_H, _T, _col, _conj, _diag, _diag_matrix, _from_triangle,
                     _eye, _half_diagonal_tri, _result, _row, _to_triangle, _tril, _triu)


class DegenerateWarning(RuntimeWarning):
    """Eigen/singular vectors were differentiated at a repeated eigen/singular value."""


_GAP_RTOL = 1e-12  # eigenvalues closer than this (relative) count as repeated


def _is_zero(g):
    """A plain all-zero cotangent (the engine's filler for an unused output).
    A Dask array is not looked at (that would compute it): the full formula
    gives the same value."""
    return not isinstance(g, Box) and not is_dask(g) and not np.any(g)


def _warn_degenerate(same, what):
    """`same` unchanged, with a DegenerateWarning if two values coincide."""
    if np.any(same * _eye(np.shape(same)[-1], same, off=True)):
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


def _no_full_uv(name, fix):
    return NoRuleError(
        f"{name}: the extra columns of a non-square matrix's complete factor are an "
        f"arbitrary basis with no derivative; {fix}.")


# cholesky: A = L L^H from the lower triangle of A (S = what LAPACK reads).
# dL = L Phi(L^-1 dS L^-H), Phi = lower triangle with the diagonal halved;
# gS = L^-T Phi(L^T g) conj(L)^-1, then gA = the adjoint of reading the
# triangle. (Complex: the transposes of products stay plain, docs/complex.md;
# only L^-H, from the Hermitian S, conjugates.)
def _phi(x):
    return x * asarray(_half_diagonal_tri(np.shape(x)[-1]), like=x)


def _cholesky_jvp(tangents, args, ans, params):
    ds = _from_triangle(tangents[0], lower=True)
    x = _trisolve(ans, _H(_trisolve(ans, ds)))  # L^-1 dS L^-H (dS Hermitian)
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
    top = np.concatenate([top, zeros(np.shape(top)[:-1] + (n - h,), np.float64, top)], axis=-1)
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
    top = np.concatenate([top, zeros(np.shape(top)[:-1] + (n - h,), np.float64, top)], axis=-1)
    return np.concatenate([top, np.concatenate([y2, y3], axis=-1)], axis=-2)


def _cholesky_vjp(g, l, params, which):
    s = _trisolve(l, _lower_over(_phi_lt_times(l, g), _conj(l)), trans=1)  # L^-T Phi(L^T g) conj(L)^-1
    return [_to_triangle(s, lower=True)]


def _cholesky(a):
    try:
        return cholesky_lower(a)
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
# eigh: A V = V diag(w), from one triangle (S). With P = V^H dS V:
# dw = Re diag(P), dV = V (F o P), F_ij = 1/(w_j - w_i);
# gS = conj(V) (diag(Re gw) + F o (V^T gV)) V^T.
# Complex eigenvectors are fixed only up to a phase each; dV is the
# derivative with Im diag(V^H dV) = 0 (as JAX), exact for every function
# that does not depend on those phases (|V|, V diag(.) V^H, ...).
def _eigh_jvp(tangents, args, ans, params):
    w, v = ans
    p = _H(v) @ _from_triangle(tangents[0], params["UPLO"] == "L") @ v
    dw = np.real(_diag(p)) if is_complex(p) else _diag(p)
    return [dw, v @ (_gap_inverse(w, "eigh", params["vectors"]) * p)]


def _eigh_vjp(g, ans, params, which):
    (w, v), (gw, gv) = ans, g
    inner = _diag_matrix(np.real(gw) if is_complex(gw) else gw)
    if not _is_zero(gv):
        inner = inner + _gap_inverse(w, "eigh", params["vectors"]) * (_T(v) @ gv)
    return [_to_triangle(_conj(v) @ inner @ _T(v), params["UPLO"] == "L")]


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


# Complex A = U diag(s) V^H: with dP = U^H dA V, ds = Re diag(dP),
# dU = U (F o (dP S + S dP^H) + (dP - dP^H)/2 o diag(1/s)) + (I - U U^H) dA V S^-1,
# dV = V (F o (S dP + dP^H S)) + (I - V V^H) dA^H U S^-1  (as JAX: the phase of
# each pair of singular vectors is free; the rule fixes Im diag(V^H dV) = 0, so
# functions that do not depend on the phases, |U|, U S V^H..., are exact).
def _svd_jvp_complex(t, a, ans, params):
    m, n = np.shape(a)[-2:]
    u, s, v = _svd_parts(ans, params)
    v = _conj(v)  # _svd_parts gives vt transposed; V = vt^H
    dp = _H(u) @ t @ v
    f = _gap_inverse(s * s, "svd", params["vectors"])
    inv_s = _diag_matrix(1 / s)
    dss = dp * _row(s)
    du = u @ (f * (dss + _H(dss)) + 0.5 * (dp - _H(dp)) * inv_s)
    sds = _col(s) * dp
    dv = v @ (f * (sds + _H(sds)))
    if m > n:
        du = du + (t @ v - u @ dp) / _row(s)
    if n > m:
        dv = dv + (_H(t) @ u - v @ _H(dp)) / _row(s)
    return [du, np.real(_diag(dp)), _H(dv)]


def _svd_vjp_complex(g, ans, params):
    (gu, gs, gvt), (u, s, v) = g, _svd_parts(ans, params)
    v = _conj(v)
    m, n, k = np.shape(u)[-2], np.shape(v)[-2], np.shape(s)[-1]
    gp = _diag_matrix(np.real(gs))
    ga = 0
    if not (_is_zero(gu) and _is_zero(gvt)):
        if params["full_matrices"] and m != n:
            if not (_is_zero(gu[..., :, k:]) and _is_zero(gvt[..., k:, :])):
                raise _no_full_uv("svd", "use np.linalg.svd(a, full_matrices=False)")
            gu, gvt = gu[..., :, :k], gvt[..., :k, :]
        gv = _H(gvt)
        f = _gap_inverse(s * s, "svd", params["vectors"])
        gz = _T(u) @ gu
        m1, m2 = f * gz, f * (_T(v) @ gv)
        gn = gz * _diag_matrix(1 / s)
        gp = gp + (m1 + _H(m1)) * _row(s) + _col(s) * (m2 + _H(m2)) + 0.5 * (gn - _H(gn))
        if m > k:
            ga = ((gu - _conj(u) @ (_T(u) @ gu)) / _row(s)) @ _T(v)
        if n > k:
            ga = _conj(u) @ _H((gv - _conj(v) @ (_T(v) @ gv)) / _row(s))
    return _conj(u) @ gp @ _T(v) + ga


def _svd_jvp(tangents, args, ans, params):
    (a,), (t,) = args, tangents
    if params["hermitian"]:
        t = _from_triangle(t, lower=True)
    if params["full_matrices"] and np.shape(a)[-2] != np.shape(a)[-1]:
        raise _no_full_uv("svd", "use np.linalg.svd(a, full_matrices=False)")
    if is_complex(a):
        return _svd_jvp_complex(t, a, ans, params)
    m, n = np.shape(a)[-2:]
    u, s, v = _svd_parts(ans, params)
    dp = _T(u) @ t @ v
    f = _gap_inverse(s * s, "svd", params["vectors"])
    du = u @ (f * (dp * _row(s) + _col(s) * _T(dp)))
    dv = v @ (f * (_col(s) * dp + _T(dp) * _row(s)))
    if m > n:
        du = du + (t @ v - u @ dp) / _row(s)
    if n > m:
        dv = dv + (_T(t) @ u - v @ _T(dp)) / _row(s)
    return [du, _diag(dp), _T(dv)]


def _svd_vjp(g, ans, params, which):
    if is_complex(ans[0]):
        ga = _svd_vjp_complex(g, ans, params)
        return [_to_triangle(ga, lower=True) if params["hermitian"] else ga]
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
# qr (m >= n, reduced): A = Q R. With Y = dA R^-1, X = Q^H Y and
# W = tril(X, -1) - tril(X, -1)^H + i Im diag(X) (Q^H dQ, anti-Hermitian;
# LAPACK's R has a real diagonal, so dR R^-1 has one too):
# dQ = Q (W - X) + Y,  dR = (X - W) R.  The VJP transposes these steps.
def _qr_jvp(tangents, args, ans, params):
    q, r = ans
    y = _T(solve_triangular_p(r, _T(tangents[0]), trans=1, lower=False, unit_diagonal=False))
    x = _H(q) @ y
    w = _tril(x, -1) - _H(_tril(x, -1))
    if is_complex(x):
        w = w + 1j * np.imag(x) * _eye(np.shape(x)[-1], x)
    return [q @ (w - x) + y, (x - w) @ r]


def _qr_vjp(g, ans, params, which):
    (gq, gr), (q, r) = g, ans
    gx = gr @ _T(r) - _T(q) @ gq
    if is_complex(q):
        gx = gx + _tril(_H(gx) - gx, -1) - 1j * np.imag(gx) * _eye(np.shape(gx)[-1], gx)
    else:
        gx = gx + _tril(_T(gx) - gx, -1)  # through W, whose cotangent is -gx
    gy = gq + _conj(q) @ gx
    return [_T(solve_triangular_p(r, _T(gy), trans=0, lower=False, unit_diagonal=False))]


qr_p = Primitive("qr", lambda a: tuple(np.linalg.qr(a)), _qr_jvp, _qr_vjp,
                 save=lambda args, ans, params: ans, multiple_results=True)
_QR = type(np.linalg.qr(np.eye(1)))


@implements(np.linalg.qr)
def qr(a, mode="reduced"):
    """np.linalg.qr on traced values (modes 'reduced', 'complete' and 'r').

    A wide matrix (m < n) factors its first m columns, and R = Q^H A.

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
        r = _triu(_H(q) @ a)
    return r if mode == "r" else _result(_QR, (q, r))
