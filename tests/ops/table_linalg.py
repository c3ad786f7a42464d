"""Op table: numpy.linalg primitives and the functions composed from them.

Matrices are kept well conditioned (and symmetric positive definite where the
op needs it) so 6th-order finite differences are accurate; perturbation
directions are random, not symmetric: cholesky/eigh read one triangle and
their rules must know it.
"""

import numpy as np

from chainrule.scipy import linalg as SL

from .spec import Op, rand

L = np.linalg


def wc(*shape):
    """Random square matrices with a dominant diagonal (well conditioned)."""
    return rand(*shape) + shape[-1] * np.eye(shape[-1])


def spd(*shape):
    """Random symmetric positive definite matrices with well separated eigenvalues."""
    x = rand(*shape)
    return x @ np.swapaxes(x, -1, -2) + np.diag(np.arange(1.0, shape[-1] + 1))


def sym(*shape):
    """Random symmetric matrices with distinct eigenvalues."""
    x = rand(*shape)
    return 0.2 * (x + np.swapaxes(x, -1, -2)) + np.diag(np.arange(shape[-1]) - 1.0)


def tall(*shape):
    """Random full-rank matrices with distinct singular values."""
    m, n = shape[-2:]
    return 0.3 * rand(*shape) + np.eye(m, n) * np.arange(1.0, n + 1)


def nz(*shape):
    """Random entries bounded away from 0 (the kink of |x|) whose magnitudes
    are well apart (no near-ties for the max/min inside inf-norms)."""
    n = int(np.prod(shape, dtype=int))
    spacing = 0.8 / max(n, 1)
    magnitudes = 0.2 + spacing * (np.argsort(rand(n)) + 0.5 + 0.25 * rand(n))
    return (np.where(rand(n) > 0, 1.0, -1.0) * magnitudes).reshape(shape)


def tup(f):
    """Named multi-output results as plain tuples, for the flattening in the tests."""
    return lambda *a: tuple(f(*a))


def _signed(x, axis):
    """Vectors along `axis` with the sign of their sum made positive: LAPACK may
    flip an eigen/singular vector's sign between nearby inputs, which finite
    differences cannot follow; the sign itself is piecewise constant. For
    complex vectors, whose phase LAPACK fixes arbitrarily, the phase of the
    sum is divided out (conj(sign)), which makes the result phase-free."""
    return x * np.conj(np.sign(np.sum(x, axis=axis, keepdims=True)))


def eigh_fixed(*args):
    w, v = L.eigh(*args)
    return w, _signed(v, -2)


def svd_fixed(a, **kw):
    u, s, vt = L.svd(a, **kw)
    return _signed(u, -2), s, _signed(vt, -1)


NO_CS = ("rev", "fwd", "rev_rev", "fwd_rev", "check")  # every mode but the complex step

# fmt: off
OPS = [
    Op("solve", L.solve, ((wc(3, 3), rand(3)), (wc(3, 3), rand(3, 2)), (wc(2, 3, 3), rand(2, 3, 2)),
                          (wc(3, 3), rand(2, 3, 1)), (wc(2, 3, 3), rand(3, 2)))),
    # a triangular a is solved by substitution (the Cholesky spelling); its cotangent stays dense
    Op("solve_on_triangle", L.solve, ((np.tril(wc(3, 3)), rand(3)), (np.triu(wc(2, 3, 3)), rand(2, 3, 2)),
                                      (np.tril(wc(2, 3, 3)), rand(3, 1))), covers=("solve",)),
    Op("inv", L.inv, ((wc(3, 3),), (wc(2, 3, 3),))),
    Op("det", L.det, ((wc(3, 3),), (wc(2, 3, 3),), (rand(1, 1),))),
    Op("slogdet", tup(L.slogdet), ((wc(3, 3),), (-wc(2, 3, 3),))),
    Op("cholesky", L.cholesky, ((spd(3, 3),), (spd(2, 3, 3),))),
    Op("cholesky_upper", lambda a: L.cholesky(a, upper=True), ((spd(3, 3),),), covers=("cholesky",)),
    Op("eigh", eigh_fixed, ((sym(3, 3),), (sym(2, 4, 4),))),
    Op("eigh_upper", lambda a: eigh_fixed(a, "U"), ((sym(3, 3),),), covers=("eigh",)),
    Op("eigvalsh", L.eigvalsh, ((sym(3, 3),), (sym(2, 4, 4),)), covers=("eigh",)),
    Op("svd", lambda a: svd_fixed(a, full_matrices=False),
       ((tall(3, 3),), (tall(4, 3),), (tall(3, 4),), (tall(2, 4, 3),)),
       modes=NO_CS, notes="complex svd conjugates (A = U S V^H): no continuation, cs_jvp raises"),
    Op("svd_full_square", svd_fixed, ((tall(3, 3),),), covers=("svd",),
       modes=NO_CS, notes="complex svd conjugates (A = U S V^H): no continuation, cs_jvp raises"),
    Op("svd_hermitian", lambda a: svd_fixed(a, hermitian=True), ((spd(3, 3),),), covers=("svd",),
       modes=NO_CS, notes="complex svd conjugates (A = U S V^H): no continuation, cs_jvp raises"),
    Op("svdvals", lambda a: L.svd(a, compute_uv=False), ((tall(3, 3),), (tall(4, 2),), (tall(2, 2, 3),)),
       covers=("svd",),
       modes=NO_CS, notes="complex svd conjugates (A = U S V^H): no continuation, cs_jvp raises"),
    Op("qr", tup(L.qr), ((tall(3, 3),), (tall(4, 3),), (tall(2, 4, 3),), (tall(3, 5),)),
       modes=NO_CS, notes="complex qr conjugates (Q^H Q = I): no continuation, cs_jvp raises"),
    Op("qr_r", lambda a: L.qr(a, mode="r"), ((tall(4, 3),),), covers=("qr",),
       modes=NO_CS, notes="complex qr conjugates (Q^H Q = I): no continuation, cs_jvp raises"),
    Op("matrix_power", lambda a: (L.matrix_power(a, 3), L.matrix_power(a, 1), L.matrix_power(a, -2)),
       ((wc(3, 3),), (wc(2, 3, 3),)), covers=("matmul", "inv")),
    Op("pinv", L.pinv, ((tall(4, 3),), (tall(3, 3),), (tall(2, 3, 4),), (np.eye(3),)),
       modes=NO_CS, notes="complex pinv/lstsq use A^H: no continuation, cs_jvp raises"),
    Op("pinv_hermitian", lambda a: L.pinv(a, hermitian=True), ((spd(3, 3),),), covers=("pinv",),
       modes=NO_CS, notes="complex pinv/lstsq use A^H: no continuation, cs_jvp raises"),
    Op("lstsq", lambda a, b: L.lstsq(a, b)[:2], ((tall(5, 3), rand(5)), (tall(4, 2), rand(4, 3))),
       covers=("pinv", "svd"),
       modes=NO_CS, notes="complex pinv/lstsq use A^H: no continuation, cs_jvp raises"),
    Op("lstsq_square", lambda a, b: L.lstsq(a, b)[0], ((tall(3, 3), rand(3)),), covers=("pinv",),
       modes=NO_CS, notes="complex pinv/lstsq use A^H: no continuation, cs_jvp raises"),
    Op("tensorsolve", L.tensorsolve, ((wc(6, 6).reshape(6, 2, 3), rand(6)),
                                      (wc(6, 6).reshape(2, 3, 2, 3), rand(2, 3))),
       covers=("solve",)),
    Op("tensorsolve_axes", lambda a, b: L.tensorsolve(a, b, axes=(0,)),
       ((np.moveaxis(wc(6, 6).reshape(6, 2, 3), 2, 0), rand(6)),), covers=("solve",)),
    Op("multi_dot", lambda a, b, c, d: L.multi_dot([a, b, c, d]),
       ((rand(3), rand(3, 4), rand(4, 2), rand(2)), (rand(2, 3), rand(3, 4), rand(4, 2), rand(2, 2))),
       covers=("matmul",)),
    Op("norm_vector", lambda x: [L.norm(x), L.norm(x, 1), L.norm(x, 3), L.norm(x, -0.5), L.norm(x, 2),
                                 L.norm(x, np.inf), L.norm(x, -np.inf), L.norm(x, 0)],
       ((nz(4),),), covers=("sqrt", "absolute", "getitem")),
    Op("norm_axis", lambda x: [L.norm(x, axis=1), L.norm(x, 1, axis=0, keepdims=True),
                               L.norm(x, np.inf, axis=-1), L.norm(x, 2, axis=(1,)), L.norm(x, keepdims=True)],
       ((nz(3, 4),), (nz(2, 3, 4),)), covers=("sqrt", "absolute")),
    Op("norm_matrix", lambda x: [L.norm(x, o) for o in (None, "fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf)],
       ((tall(3, 3),), (tall(4, 3),)), covers=("svd",),
       modes=NO_CS, notes="nuc/2/-2 use singular values (svd conjugates); other ords: test_complex_step"),
    Op("norm_matrix_axes", lambda x: [L.norm(x, o, axis=(2, 0), keepdims=k)
                                      for o in ("fro", "nuc", 2, 1, -np.inf) for k in (False, True)],
       ((np.moveaxis(tall(2, 4, 3) + nz(2, 4, 3), 0, 1),),), covers=("svd",),
       modes=NO_CS, notes="nuc/2/-2 use singular values (svd conjugates); other ords: test_complex_step"),
    Op("vector_matrix_norm", lambda x: [L.vector_norm(x), L.vector_norm(x, axis=(0, 2), ord=3),
                                        L.matrix_norm(x), L.matrix_norm(x, ord="nuc", keepdims=True)],
       ((tall(2, 4, 3) + nz(2, 4, 3),),), covers=("svd",),
       modes=NO_CS, notes="nuc/2/-2 use singular values (svd conjugates); other ords: test_complex_step"),
    # chainrule.scipy.linalg
    Op("solve_triangular", lambda a, b: [SL.solve_triangular(a, b), SL.solve_triangular(a, b, trans=1),
                                         SL.solve_triangular(a, b, lower=True, unit_diagonal=True),
                                         SL.solve_triangular(a, b, trans="T", lower=True)],
       ((wc(3, 3), rand(3)), (wc(3, 3), rand(3, 2)), (wc(2, 3, 3), rand(2, 3, 2)),
        (wc(2, 3, 3), rand(3, 2)), (wc(3, 3), rand(2, 3, 1)))),
    Op("cho_solve", lambda a, b: [SL.cho_solve(SL.cho_factor(a), b), SL.cho_solve(SL.cho_factor(a, lower=True), b),
                                  np.triu(SL.cho_factor(a)[0]), SL.cholesky(a)],  # the other triangle is arbitrary
       ((spd(3, 3), rand(3)), (spd(3, 3), rand(3, 2))), covers=("cholesky", "solve_triangular")),
    Op("expm", SL.expm, ((rand(3, 3),), (rand(2, 3, 3),))),
    Op("logm", SL.logm, ((spd(3, 3),), (spd(2, 3, 3),))),
    Op("sqrtm", SL.sqrtm, ((spd(3, 3),),)),
]
# fmt: on
