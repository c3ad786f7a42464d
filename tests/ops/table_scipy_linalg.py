"""Op table: chainrule.scipy.linalg's Sylvester, Lyapunov, banded and LU solvers."""

import numpy as np

from chainrule.scipy import linalg as SL

from .spec import Op, rand


def wc(*shape):
    """Random square matrices with a dominant diagonal (well conditioned)."""
    return rand(*shape) + shape[-1] * np.eye(shape[-1])


def band(lower, upper, n):
    """Banded storage of a diagonally dominant matrix (the corners SciPy never reads
    hold random values too: their cotangent must be zero)."""
    ab = rand(lower + upper + 1, n)
    ab[upper] += 4.0
    return ab


def lu_parts(a):
    p, l, u = SL.lu(a)
    return l, u, SL.lu(a, permute_l=True)[0]


# fmt: off
OPS = [
    Op("solve_sylvester", SL.solve_sylvester, ((wc(3, 3), wc(3, 3), rand(3, 3)), (wc(2, 2), wc(3, 3), rand(2, 3)))),
    Op("solve_continuous_lyapunov", SL.solve_continuous_lyapunov, ((wc(3, 3), rand(3, 3)),),
       covers=("solve_sylvester",)),
    Op("solve_banded", lambda ab, b: SL.solve_banded((1, 2), ab, b), ((band(1, 2, 5), rand(5)), (band(1, 2, 4), rand(4, 2)))),
    Op("solve_banded_wide", lambda ab, b: SL.solve_banded((0, 1), ab, b), ((band(0, 1, 3), rand(3)),),
       covers=("solve_banded",)),
    Op("lu", lu_parts, ((rand(3, 3),), (wc(2, 2),))),
    Op("lu_solve", lambda a, b: (SL.lu_solve(SL.lu_factor(a), b), SL.lu_solve(SL.lu_factor(a), b, trans=1)),
       ((rand(3, 3) + np.eye(3), rand(3)), (rand(2, 2) + np.eye(2), rand(2, 2))), covers=("lu", "solve_triangular")),
]
# fmt: on
