"""Primitives behind chainrule.scipy.linalg's Sylvester, banded and LU functions.

Each is SciPy's own routine with its derivative stated once (a JVP and a VJP
side by side), the rules written with the primitives themselves and NumPy
calls, so they are differentiable again (higher order) in every mode.
"""

import numpy as np
import scipy.linalg as _sl

from ..core.primitive import Primitive
from ..rules.linalg import _T, solve_triangular_p
from ._complex_step import continued


def _zero_or(t, like):
    return np.zeros(np.shape(like)) if t is None else t


# ---- Sylvester: A X + X B = Q. ----
# dX solves A dX + dX B = dQ - dA X - X dB;
# with G solving A^T G + G B^T = g: gQ = G, gA = -G X^T, gB = -X^T G.
def _sylvester_jvp(tangents, args, x, params):
    ta, tb, tq = tangents
    rhs = _zero_or(tq, x)
    if ta is not None:
        rhs = rhs - ta @ x
    if tb is not None:
        rhs = rhs - x @ tb
    return solve_sylvester_p(args[0], args[1], rhs)


def _sylvester_vjp(g, res, params, which):
    a, b, x = res
    big_g = solve_sylvester_p(_T(a), _T(b), g)
    out = {0: lambda: -(big_g @ _T(x)), 1: lambda: -(_T(x) @ big_g), 2: lambda: big_g}
    return [out[i]() for i in which]


solve_sylvester_p = continued(Primitive(
    "solve_sylvester", _sl.solve_sylvester, _sylvester_jvp, _sylvester_vjp,
    save=lambda args, ans, params: (args[0], args[1], ans)))


# ---- banded solve: A x = b with A stored as ab[u + i - j, j] = A[i, j]. ----
def _shift(v, s):
    """w[j] = v[j - s] along the first axis, zero where j - s is out of range."""
    n = np.shape(v)[0]
    if s == 0:
        return v
    if abs(s) >= n:
        return np.zeros(np.shape(v))
    pad = np.zeros((abs(s),) + np.shape(v)[1:])
    return np.concatenate([pad, v[:n - s]]) if s > 0 else np.concatenate([v[-s:], pad])


def _as_matrix(x):
    return x if np.ndim(x) == 2 else np.reshape(x, (-1, 1))


def band_matmul(ab, x, lower, upper):
    """A x for the banded A stored in ab (SciPy's layout); x of shape (n,) or (n, k)."""
    x2 = _as_matrix(x)
    total = 0.0
    for r in range(lower + upper + 1):  # row r of ab holds A[j + r - u, j]
        total = total + _shift(_as_matrix(ab[r]) * x2, r - upper)
    return np.reshape(total, np.shape(x))


def band_transpose(ab, lower, upper):
    """A^T in banded storage (its lower and upper widths swap)."""
    rows = [_shift(ab[lower + upper - r], lower - r) for r in range(lower + upper + 1)]
    return np.stack(rows)


def _band_of_outer(g, x, lower, upper):
    """The band of the matrix g x^T, in banded storage: row r, column j holds
    sum_k g[j + r - u, k] x[j, k]."""
    g2, x2 = _as_matrix(g), _as_matrix(x)
    return np.stack([np.sum(_shift(g2, upper - r) * x2, axis=1) for r in range(lower + upper + 1)])


def _banded_impl(ab, b, lower, upper):
    return _sl.solve_banded((lower, upper), ab, b)


# dx = A^-1 (db - dA x);  gb = A^-T g, gab = -band(gb x^T).
def _banded_jvp(tangents, args, x, params):
    ab, _ = args
    tab, tb = tangents
    rhs = _zero_or(tb, x)
    if tab is not None:
        rhs = rhs - band_matmul(tab, x, params["lower"], params["upper"])
    return solve_banded_p(ab, rhs, **params)


def _banded_vjp(g, res, params, which):
    ab, x = res
    lo, up = params["lower"], params["upper"]
    gb = solve_banded_p(band_transpose(ab, lo, up), g, lower=up, upper=lo)
    return [-_band_of_outer(gb, x, lo, up) if i == 0 else gb for i in which]


solve_banded_p = continued(Primitive("solve_banded", _banded_impl, _banded_jvp, _banded_vjp,
                                     save=lambda args, ans, params: (args[0], ans)))
# graph tracing takes the shapes from here: example operands make a singular band
solve_banded_p.output_shapes = lambda specs, params: (
    [(specs[1][0], np.result_type(specs[0][1], specs[1][1], np.float64))], None)


# ---- LU with partial pivoting: A = P L U (square A). ----
# With F = L^-1 P^T dA U^-1: dL = L tril(F, -1), dU = triu(F) U;
# gA = P L^-T (tril(L^T gL, -1) + triu(gU U^T)) U^-T.
def _left_unit_lower(l, b, trans=0):
    return solve_triangular_p(l, b, trans=trans, lower=True, unit_diagonal=True)


def _right_upper(b, u, trans=0):
    """b U^-1 (trans=0) or b U^-T (trans=1)."""
    return _T(solve_triangular_p(u, _T(b), trans=1 - trans, lower=False, unit_diagonal=False))


def _lu_jvp(tangents, args, ans, params):
    p, l, u = ans
    f = _right_upper(_left_unit_lower(l, _T(p) @ tangents[0]), u)
    return [None, l @ np.tril(f, -1), np.triu(f) @ u]


def _lu_vjp(g, ans, params, which):
    (p, l, u), (_, gl, gu) = ans, g
    inner = np.tril(_T(l) @ gl, -1) + np.triu(gu @ _T(u))
    return [p @ _right_upper(_left_unit_lower(l, inner, trans=1), u, trans=1)]


lu_p = continued(Primitive("lu", lambda a: tuple(_sl.lu(a)), _lu_jvp, _lu_vjp,
                           save=lambda args, ans, params: ans, multiple_results=True))
