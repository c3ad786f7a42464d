"""scipy.linalg on traced values: `from chainrule.scipy import linalg`.

cho_factor, cho_solve, solve_triangular, expm, logm, sqrtm, cholesky,
solve_sylvester, solve_continuous_lyapunov, solve_banded, lu, lu_factor and
lu_solve are differentiable (and equal to SciPy's on plain arrays); solve,
inv, det, eigh, svd and norm map to their numpy.linalg rules; any other name
is SciPy's own.

Matrix functions f (expm, logm, sqrtm) share one rule: the derivative of f at
A along E is the top-right block of f([[A, E], [0, A]]) (the Frechet
derivative), and its adjoint is the same with A^T in place of A.
"""

import numpy as np
import scipy.linalg as _sl

from ..arraylibs import asarray, like_of
from ..complex_step import ComplexStepArray, _wrap
from ..core.errors import NoRuleError
from ..core.primitive import Primitive
from ..core.trace import Box, raw
from ..rules.linalg import _T, _col, solve_triangular_p
from ._linalg_solvers import lu_p, solve_banded_p, solve_sylvester_p


def _traced(*values):
    # cs_jvp's arrays take the numpy.linalg route too: SciPy's complex versions
    # are the Hermitian ones (cholesky, eigh, svd) or take moduli (norm)
    return any(isinstance(v, (Box, ComplexStepArray)) for v in values)


# ---- matrix functions ----
def _frechet(prim, a, e):
    """The derivative of the matrix function `prim` at a along e."""
    n = np.shape(a)[-1]
    eye = asarray(np.eye(2 * n), like=like_of(a, e))
    top, bottom = eye[:n], eye[n:]  # [I 0] and [0 I]
    big = _T(top) @ a @ top + _T(top) @ e @ bottom + _T(bottom) @ a @ bottom
    return top @ prim(big) @ _T(bottom)


def _on_branch_cut(name, a):
    """A NoRuleError for a second derivative of sqrtm/logm at a matrix with
    an eigenvalue on the negative real axis. There the principal branch is not
    analytic, and the Frechet block matrix of the second order repeats those
    eigenvalues: SciPy's Schur recurrence then takes square roots on both
    sides of the cut and divides by their sum, near 0 (values like 1e13)."""
    if name == "expm" or not isinstance(a, Box) or not isinstance(raw(a), np.ndarray):
        return  # first order, or values unknown while compiling
    w = np.linalg.eigvals(raw(a))
    scale = np.max(np.abs(w), initial=0.0)
    if np.any((w.real <= 0) & (np.abs(w.imag) <= 1e-12 * scale)):
        raise NoRuleError(
            f"second derivatives of {name} at a matrix with an eigenvalue on the negative "
            f"real axis (the principal branch cut of {name}) are not computed reliably; "
            "chainrule refuses them rather than return a wrong value. First derivatives "
            "are exact there.")


def _matrix_function(name, impl):
    def jvp(tangents, args, ans, params):
        _on_branch_cut(name, args[0])
        return _frechet(prim, args[0], tangents[0])

    def vjp(g, a, params, which):
        _on_branch_cut(name, a)
        return [_frechet(prim, _T(a), g)]

    prim = Primitive(name, impl, jvp, vjp, save=lambda args, ans, params: args[0])
    return prim


def _over_stacks(f):
    """f on each matrix of a stack (..., n, n): SciPy before 1.16 takes one matrix."""
    def mapped(a):
        a = np.asarray(a)
        if a.ndim == 2:
            return f(a)
        flat = a.reshape((-1,) + a.shape[-2:])
        return np.stack([f(m) for m in flat]).reshape(a.shape[:-2] + flat.shape[-2:])
    return mapped


expm_p = _matrix_function("expm", _sl.expm)
logm_p = _matrix_function("logm", _over_stacks(_sl.logm))
sqrtm_p = _matrix_function("sqrtm", _over_stacks(_sl.sqrtm))


def expm(A):
    """The matrix exponential (stacks allowed), differentiable.

    Example:
        >>> import chainrule as cr
        >>> cr.grad(lambda a: np.sum(expm(a)))(np.zeros((2, 2)))
        array([[1., 1.],
               [1., 1.]])
    """
    return expm_p(A)


def logm(A, **kwargs):
    """The principal matrix logarithm (stacks allowed), differentiable (SciPy's
    own on a plain matrix)."""
    return logm_p(A) if _traced(A) or np.ndim(A) > 2 else _sl.logm(A, **kwargs)


def sqrtm(A, **kwargs):
    """The principal matrix square root (stacks allowed), differentiable (SciPy's
    own on a plain matrix)."""
    return sqrtm_p(A) if _traced(A) or np.ndim(A) > 2 else _sl.sqrtm(A, **kwargs)


# ---- triangular solves: the rule lives with numpy.linalg's (chainrule.rules.linalg),
# whose Cholesky and QR rules use it too ----
_TRANS = {0: 0, "N": 0, 1: 1, "T": 1}


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False,
                     overwrite_b=False, check_finite=True):
    """Solve op(T) x = b for the triangle T of a (scipy.linalg.solve_triangular).

    Example:
        >>> import chainrule as cr
        >>> cr.grad(lambda b: np.sum(solve_triangular(2 * np.eye(2), b)))(np.ones(2))
        array([0.5, 0.5])
    """
    if not _traced(a, b) and np.ndim(a) <= 2 and np.ndim(b) <= 2:
        return _sl.solve_triangular(a, b, trans, lower, unit_diagonal, overwrite_b, check_finite)
    # traced values, or stacks of matrices (which SciPy before 1.16 refuses)
    if trans not in _TRANS:
        raise NoRuleError(f"solve_triangular(trans={trans!r}) conjugates; chainrule "
                          "differentiates trans=0 ('N') and 1 ('T') only")
    params = dict(trans=_TRANS[trans], lower=bool(lower), unit_diagonal=bool(unit_diagonal))
    if np.ndim(b) == 1:
        out = np.squeeze(solve_triangular_p(a, _col(b), **params), -1)
    else:
        out = solve_triangular_p(a, b, **params)
    return _keep_complex_step(out, a, b)


def _keep_complex_step(out, *args):
    """A triangular solve is holomorphic (substitution, no conjugate): its complex
    result is the complex step's, marked as such again (SciPy returns a plain array)."""
    steps = [x for x in args if isinstance(x, ComplexStepArray)]
    return _wrap(out, steps[0]._tag) if steps and not isinstance(out, Box) else out


# ---- Cholesky ----
def cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    """The Cholesky factor, upper by default, reading that triangle of a (as SciPy)."""
    if not _traced(a):
        return _sl.cholesky(a, lower, overwrite_a, check_finite)
    return np.linalg.cholesky(a, upper=not lower)


def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """(c, lower) as SciPy returns it: the factor in one triangle of c, a's
    entries in the other (which cho_solve ignores).

    Example:
        >>> import chainrule as cr
        >>> f = lambda a: np.sum(cho_solve(cho_factor(a), np.ones(2)))
        >>> cr.grad(f)(np.eye(2)) + 0.0  # the lower triangle is not read
        array([[-1., -2.],
               [ 0., -1.]])
    """
    if not _traced(a):
        return _sl.cho_factor(a, lower, overwrite_a, check_finite)
    n = np.shape(a)[-1]
    factor = np.linalg.cholesky(a, upper=not lower)
    # the triangle not read; a fresh array, not a view: Dask names a NumPy array
    # and its transpose alike (dask.tokenize hashes memory order), mixing them up
    other = np.triu(np.ones((n, n)), 1) if lower else np.tri(n, k=-1)
    return factor + a * other, lower


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """Solve A x = b from cho_factor(A): two triangular solves."""
    c, lower = c_and_lower
    if not _traced(c, b):
        return _sl.cho_solve(c_and_lower, b, overwrite_b, check_finite)
    # A = L L^H: x = L^-H (L^-1 b);  A = U^H U: x = U^-1 (U^-H b), with
    # M^-H y = conj(M^-T conj(y)) for complex factors.
    if np.iscomplexobj(raw(c)):
        if lower:
            y = solve_triangular(c, b, trans=0, lower=True)
            return np.conj(solve_triangular(c, np.conj(y), trans=1, lower=True))
        y = np.conj(solve_triangular(c, np.conj(b), trans=1, lower=False))
        return solve_triangular(c, y, trans=0, lower=False)
    y = solve_triangular(c, b, trans=0 if lower else 1, lower=lower)
    return solve_triangular(c, y, trans=1 if lower else 0, lower=lower)


# ---- the numpy.linalg equivalents, for code written against scipy.linalg ----
def solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True,
          assume_a=None, transposed=False):
    """scipy.linalg.solve; on traced values the general solver (assume_a must be general)."""
    if not _traced(a, b):
        return _sl.solve(a, b, lower=lower, overwrite_a=overwrite_a, overwrite_b=overwrite_b,
                         check_finite=check_finite, assume_a=assume_a, transposed=transposed)
    if assume_a not in (None, "gen", "general"):
        raise NoRuleError(f"chainrule.scipy.linalg.solve(assume_a={assume_a!r}) on traced "
                          "values: only the general solver is differentiated")
    return np.linalg.solve(_T(a) if transposed else a, b)


def inv(a, overwrite_a=False, check_finite=True):
    """scipy.linalg.inv."""
    return np.linalg.inv(a) if _traced(a) else _sl.inv(a, overwrite_a, check_finite)


def det(a, overwrite_a=False, check_finite=True):
    """scipy.linalg.det."""
    return np.linalg.det(a) if _traced(a) else _sl.det(a, overwrite_a, check_finite)


def eigh(a, b=None, *, lower=True, eigvals_only=False, **kwargs):
    """scipy.linalg.eigh for a standard (b=None) problem on traced values."""
    if not _traced(a, b):
        return _sl.eigh(a, b, lower=lower, eigvals_only=eigvals_only, **kwargs)
    if b is not None or kwargs:
        raise NoRuleError("chainrule.scipy.linalg.eigh on traced values: only a, lower "
                          "and eigvals_only are supported")
    uplo = "L" if lower else "U"
    return np.linalg.eigvalsh(a, uplo) if eigvals_only else tuple(np.linalg.eigh(a, uplo))


def svd(a, full_matrices=True, compute_uv=True, overwrite_a=False, check_finite=True,
        lapack_driver="gesdd"):
    """scipy.linalg.svd."""
    if not _traced(a):
        return _sl.svd(a, full_matrices, compute_uv, overwrite_a, check_finite, lapack_driver)
    out = np.linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)
    return tuple(out) if compute_uv else out


def norm(a, ord=None, axis=None, keepdims=False, check_finite=True):
    """scipy.linalg.norm."""
    if not _traced(a):
        return _sl.norm(a, ord, axis, keepdims, check_finite)
    return np.linalg.norm(a, ord, axis, keepdims)


# ---- Sylvester and Lyapunov equations, banded systems, LU ----
def solve_sylvester(a, b, q):
    """X solving A X + X B = Q (scipy.linalg.solve_sylvester), differentiable in a, b, q.

    Example:
        >>> import chainrule as cr
        >>> cr.grad(lambda q: np.sum(solve_sylvester(np.eye(2), np.eye(2), q)))(np.ones((2, 2)))
        array([[0.5, 0.5],
               [0.5, 0.5]])
    """
    if not _traced(a, b, q):
        return _sl.solve_sylvester(a, b, q)
    return solve_sylvester_p(a, b, q)


def solve_continuous_lyapunov(a, q):
    """X solving A X + X A^H = Q (scipy.linalg.solve_continuous_lyapunov): a
    Sylvester equation with B = A^H.

    Example:
        >>> float(solve_continuous_lyapunov(np.array([[-1.0]]), np.array([[-2.0]]))[0, 0])
        1.0
    """
    if not _traced(a, q):
        return _sl.solve_continuous_lyapunov(a, q)
    ah = _T(np.conj(a)) if _is_complex(a) else _T(a)
    return solve_sylvester_p(a, ah, q)


def solve_banded(l_and_u, ab, b, overwrite_ab=False, overwrite_b=False, check_finite=True):
    """x solving A x = b for A in banded storage ab[u + i - j, j] = A[i, j]
    (scipy.linalg.solve_banded); differentiable in ab and b.

    Example:
        >>> import chainrule as cr
        >>> ab = np.array([[0.0, 1.0], [2.0, 2.0], [1.0, 0.0]])  # [[2, 1], [1, 2]]
        >>> cr.grad(lambda b: np.sum(solve_banded((1, 1), ab, b)))(np.ones(2))
        array([0.33333333, 0.33333333])
    """
    if not _traced(ab, b):
        return _sl.solve_banded(l_and_u, ab, b, overwrite_ab, overwrite_b, check_finite)
    lower, upper = (int(k) for k in l_and_u)
    if np.shape(ab)[0] != lower + upper + 1:
        raise ValueError(f"solve_banded: ab has {np.shape(ab)[0]} rows, (l, u) = "
                         f"{(lower, upper)} needs {lower + upper + 1}")
    return solve_banded_p(ab, b, lower=lower, upper=upper)


def lu(a, permute_l=False, overwrite_a=False, check_finite=True, p_indices=False):
    """(P, L, U) with A = P L U (scipy.linalg.lu), differentiable for square
    matrices (the pivoting is piecewise constant); (P L, U) with permute_l, P as
    row indices with p_indices.

    Example:
        >>> import chainrule as cr
        >>> a = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> cr.grad(lambda a: lu(a)[2][1, 1])(a)  # rows swapped: U[1, 1] = a01 - a00 a11 / a10
        array([[-1.33333333,  1.        ],
               [ 0.44444444, -0.33333333]])
    """
    if not _traced(a):
        return _sl.lu(a, permute_l, overwrite_a, check_finite, p_indices)
    shape = np.shape(a)
    if len(shape) != 2 or shape[0] != shape[1]:
        raise NoRuleError(f"chainrule.scipy.linalg.lu differentiates square matrices only, "
                          f"not shape {shape}")
    p, l, u = lu_p(a)
    if permute_l:
        return p @ l, u
    if p_indices:
        return np.argmax(_raw(p), axis=0), l, u
    return p, l, u


def lu_factor(a, overwrite_a=False, check_finite=True):
    """(lu, piv) as SciPy returns it: L's strict lower triangle and U in one
    matrix, and the row interchanges; differentiable in a (square).

    Example:
        >>> import chainrule as cr
        >>> f = lambda a: np.sum(lu_solve(lu_factor(a), np.ones(2)))
        >>> cr.grad(f)(2 * np.eye(2))
        array([[-0.25, -0.25],
               [-0.25, -0.25]])
    """
    if not _traced(a):
        return _sl.lu_factor(a, overwrite_a, check_finite)
    _, l, u = lu(a)
    piv = _sl.lu_factor(_raw(a))[1]  # the same LAPACK getrf: the pivots of lu_p's P
    return np.tril(l, -1) + u, piv


def lu_solve(lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    """x solving A x = b (trans=0) or A^T x = b (trans=1) from lu_factor(A)."""
    lu_, piv = lu_and_piv
    if not _traced(lu_, b):
        return _sl.lu_solve(lu_and_piv, b, trans, overwrite_b, check_finite)
    if trans not in (0, 1, "N", "T"):
        raise NoRuleError(f"lu_solve(trans={trans!r}) conjugates; chainrule differentiates "
                          "trans=0 and 1 only")
    perm = np.arange(np.shape(lu_)[0])
    for i, k in enumerate(piv):  # LAPACK's interchanges, in order: P^T b = b[perm]
        perm[i], perm[k] = perm[k], perm[i]
    if trans in (0, "N"):  # x = U^-1 L^-1 P^T b
        y = solve_triangular(lu_, b[perm], lower=True, unit_diagonal=True)
        return solve_triangular(lu_, y)
    # A^T = U^T L^T P^T: x = P L^-T U^-T b
    y = solve_triangular(lu_, solve_triangular(lu_, b, trans=1), trans=1, lower=True,
                         unit_diagonal=True)
    return y[np.argsort(perm)]


def _raw(x):
    return np.asarray(raw(x.real) if isinstance(x, ComplexStepArray) else raw(x))


def _is_complex(x):
    """Complex data (a complex-step array stands for a real value)."""
    if isinstance(x, ComplexStepArray):
        return False
    return np.dtype(getattr(raw(x), "dtype", None) or np.result_type(raw(x))).kind == "c"


def __getattr__(name):
    """Every other name is scipy.linalg's own (it refuses traced values clearly)."""
    return getattr(_sl, name)
