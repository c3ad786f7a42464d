"""Linear systems: solve, solve_triangular (SciPy's substitution when
installed), inv, det and slogdet.

Each rule is derived from the matrix differential (the maths is in the
comment above it), with solves rather than explicit inverses.
"""

import functools
import importlib.util

import numpy as np

from ...arraylibs import asarray, foreign, is_dask, like_of, solve_triangular_dask
from ...core.primitive import Primitive, implements, is_complex
from ..batching import _solve_rule
from .stacks import _T, _col, _result, _trace


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
    # SciPy's triangular solve runs on NumPy arrays (on Dask, the check would compute a)
    if HAVE_SCIPY and foreign(a) is None:
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
    step = next((v for v in (a, b) if getattr(v, "_complex_step", False)), None)
    if step is not None:  # keep a complex step a complex step (SciPy returns ndarrays)
        out = _solve_triangular(np.asarray(a), np.asarray(b), trans, lower, unit_diagonal)
        out = out.view(type(step))
        out._tag = step._tag
        return out
    like = like_of(a, b)
    if is_dask(like):  # Dask's own (lazy) triangular solve
        if unit_diagonal:
            n = np.shape(a)[-1]
            a = a * asarray(_triangle_mask(n, lower, True), like=like) + asarray(np.eye(n), like=like)
        return solve_triangular_dask(_op(a, trans), b, lower=bool(lower) != bool(trans))
    # another array library (CuPy): SciPy's solver would need NumPy arrays
    if like is not None:
        n = np.shape(a)[-1]
        t = a * asarray(_triangle_mask(n, lower, unit_diagonal), like=like)
        if unit_diagonal:
            t = t + asarray(np.eye(n), like=like)
        return np.linalg.solve(_op(t, trans), b)
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
        dt = ta * asarray(_triangle_mask(np.shape(a)[-1], params["lower"], params["unit_diagonal"]),
                          like=ta)
        rhs = rhs - _op(dt, params["trans"]) @ ans
    return solve_triangular_p(a, rhs, **params)


def _solve_triangular_vjp(g, res, params, which):
    (a, _), x = res
    gb = solve_triangular_p(a, g, **{**params, "trans": 1 - params["trans"]})
    mask = asarray(_triangle_mask(np.shape(a)[-1], params["lower"], params["unit_diagonal"]), like=g)
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


# slogdet: (sign, log|det|). With tau = tr(A^-1 dA): d log|det| = Re tau;
# the sign is piecewise constant for real A, and d sign = i Im(tau) sign for
# complex A. gA = gtau A^-T with gtau = Re(g_log) + i Im(g_sign sign).
def _slogdet_jvp(tangents, args, ans, params):
    tau = _trace(solve_p(args[0], tangents[0]))
    if not is_complex(tau):
        return [None, tau]
    return [1j * np.imag(tau) * ans[0], np.real(tau)]


def _slogdet_vjp(g, res, params, which):
    a, sign = res
    gsign, glog = g
    gtau = glog
    if is_complex(a):
        gtau = np.real(glog) + 1j * np.imag(gsign * sign)
    return [_col(_col(gtau)) * _T(inv_p(a))]


slogdet_p = Primitive(
    "slogdet", lambda a: tuple(np.linalg.slogdet(a)), _slogdet_jvp, _slogdet_vjp,
    save=lambda args, ans, params: (args[0], ans[0]), multiple_results=True)

implements(np.linalg.inv)(lambda a: inv_p(a))
implements(np.linalg.det)(lambda a: det_p(a))
_SLOGDET = type(np.linalg.slogdet(np.eye(1)))
implements(np.linalg.slogdet)(lambda a: _result(_SLOGDET, slogdet_p(a)))
