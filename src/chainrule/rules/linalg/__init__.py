"""Linear algebra (numpy.linalg): matrix-calculus rules on stacks (..., m, n).

Primitives: solve, solve_triangular, inv, det, slogdet, cholesky, eigh, svd,
qr, pinv. Everything else (norm, lstsq, matrix_power, eigvalsh, ...) is
composed from them. Triangular systems (the Cholesky and QR rules, and a
triangular matrix handed to np.linalg.solve) are solved by substitution
with SciPy's LAPACK wrapper when SciPy is installed (O(n^2) per right-hand
side, no factorisation); without SciPy, by np.linalg.solve (same result).
Each rule is derived from the matrix differential (the maths is in the
comment above it); rules use solves rather than explicit inverses. Complex
input follows docs/complex.md (C as R^2, VJPs transposed under Re(sum(a*b))):
the holomorphic rules (solve, inv, det) use pure transposes `_T`; the
Hermitian and unitary ones (cholesky, eigh, qr, svd, pinv, slogdet's sign)
conjugate (`_H`, `_conj`) only for genuinely complex values, so a complex
step through reverse mode still sees the continuation of the real rules.

Decompositions of symmetric matrices read one triangle of their input, as
LAPACK does (cholesky the lower one, eigh the one UPLO names): their
derivatives are exact for any perturbation, symmetric or not, because a
change in the unread triangle changes nothing.

Undefined derivatives are refused or flagged, never made up: eigenvectors
(and singular vectors) at repeated eigenvalues (a `DegenerateWarning`; the
eigenvalue derivatives stay exact), the extra columns of full_matrices SVD
and complete QR of non-square matrices (an error).

Modules, in import (registration) order:
    stacks          helpers on stacks of matrices (_T, triangles, diagonals)
    solves          solve, solve_triangular, inv, det, slogdet
    decompositions  cholesky, eigh, svd, qr and their degenerate checks
    derived         pinv, lstsq, matrix_power, multi_dot, tensorsolve, ...
    norms           norm, vector_norm, matrix_norm

Importing this package registers every rule. Module-level settings
(`solves.HAVE_SCIPY`, `decompositions._BLOCK`) are read from their own
module: patch them there.
"""

from . import stacks, solves, decompositions, derived, norms  # noqa: F401

# Names other modules import from chainrule.rules.linalg.
from .stacks import _T, _col  # noqa: F401
from .solves import (  # noqa: F401
    _solve_triangular, _which_triangle, det_p, inv_p, slogdet_p, solve_p, solve_triangular_p)
from .decompositions import DegenerateWarning, cholesky_p, eigh_p, qr_p, svd_p  # noqa: F401
from .derived import pinv_p  # noqa: F401
