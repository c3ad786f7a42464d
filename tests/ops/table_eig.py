"""Op table: the general eigendecomposition (eigenvalues; eigenvectors
through phase-independent |v_ij|^2), cond, and numpy.linalg's array-API names.
The complex step does not apply: cs_jvp refuses eig and cond."""

import numpy as np

from .spec import Op, rand

NO_CS = ("rev", "fwd", "rev_rev", "fwd_rev", "check")


def ri(z):
    return np.real(z), np.imag(z)


def mag(z):
    return np.real(z) ** 2 + np.imag(z) ** 2


# fmt: off
OPS = [
    Op("eigvals", lambda a: ri(np.linalg.eigvals(a)), ((rand(3, 3),), (rand(2, 4, 4),)), covers=("eig",), modes=NO_CS),
    Op("eigvals_complex", lambda a, b: ri(np.linalg.eigvals(a + 1j * b)), ((rand(3, 3), rand(3, 3)),),
       covers=("eig",), modes=NO_CS),
    Op("eig", lambda a: (ri(np.linalg.eig(a).eigenvalues), mag(np.linalg.eig(a).eigenvectors)),
       ((rand(3, 3),), (rand(2, 3, 3),)), covers=("eig",), modes=NO_CS, rtol=1e-6,
       notes="eigenvectors only through |v_ij|^2: their phase is arbitrary"),
    Op("eig_complex", lambda a, b: mag(np.linalg.eig(a + 1j * b)[1]), ((rand(3, 3), rand(3, 3)),),
       covers=("eig",), modes=NO_CS, rtol=1e-6),
    Op("cond", lambda a: (np.linalg.cond(a), np.linalg.cond(a, 1), np.linalg.cond(a, "fro"), np.linalg.cond(a, -2)),
       ((rand(3, 3) + 2 * np.eye(3),), (rand(2, 2, 2) + 2 * np.eye(2),)), covers=("svd", "inv"), modes=NO_CS,
       smooth=False, notes="the 1-norm is piecewise linear"),
    Op("linalg_array_api", lambda a, b: (np.linalg.trace(a @ b), np.linalg.diagonal(a, offset=1),
                                         np.linalg.outer(a[0], b[1]), np.linalg.cross(a, b),
                                         np.linalg.matmul(a, b), np.linalg.tensordot(a, b, axes=1),
                                         np.linalg.vecdot(a, b, axis=0)),
       ((rand(3, 3), rand(3, 3)),), covers=("matmul",)),
]
# fmt: on
