"""chainrule.scipy.linalg's solvers equal SciPy's on traced values (the op table
checks their derivatives)."""

import numpy as np
import pytest

import chainrule as cr

sl = pytest.importorskip("scipy.linalg")
from chainrule.scipy import linalg as SL  # noqa: E402

rng = np.random.default_rng(3)
A = rng.standard_normal((4, 4)) + 4 * np.eye(4)
B = rng.standard_normal((4, 2))


def _traced_value(f, *args):
    """f's value computed on reverse-mode boxes (the traced route)."""
    out, _ = cr.vjp(f, *args)
    return out


@pytest.mark.parametrize("p_indices", [False, True])
def test_lu_equals_scipy(p_indices):
    a = rng.standard_normal((4, 4))  # pivoting happens
    got = _traced_value(lambda a: SL.lu(a, p_indices=p_indices), a)
    for x, y in zip(got, sl.lu(a, p_indices=p_indices)):
        np.testing.assert_allclose(x, y, atol=1e-14)
    pl, u = _traced_value(lambda a: SL.lu(a, permute_l=True), a)
    np.testing.assert_allclose(pl @ u, a, atol=1e-13)


def test_lu_factor_and_solve_equal_scipy():
    lu, piv = _traced_value(lambda a: SL.lu_factor(a), A)
    ref = sl.lu_factor(A)
    np.testing.assert_allclose(lu, ref[0], atol=1e-14)
    np.testing.assert_array_equal(piv, ref[1])
    for trans in (0, 1):
        got = _traced_value(lambda a, b: SL.lu_solve(SL.lu_factor(a), b, trans=trans), A, B)
        np.testing.assert_allclose(got, sl.lu_solve(ref, B, trans=trans), rtol=1e-12)


def test_sylvester_lyapunov_banded_equal_scipy():
    q = rng.standard_normal((4, 4))
    np.testing.assert_allclose(_traced_value(SL.solve_sylvester, A, A.T, q),
                               sl.solve_sylvester(A, A.T, q), rtol=1e-12)
    np.testing.assert_allclose(_traced_value(SL.solve_continuous_lyapunov, A, q),
                               sl.solve_continuous_lyapunov(A, q), rtol=1e-12)
    ab = rng.standard_normal((4, 6)) + np.array([[0], [0], [5], [0]])
    b = rng.standard_normal(6)
    np.testing.assert_allclose(_traced_value(lambda ab, b: SL.solve_banded((1, 2), ab, b), ab, b),
                               sl.solve_banded((1, 2), ab, b), rtol=1e-12)


def test_bad_input_is_named():
    with pytest.raises(cr.NoRuleError, match="square"):
        cr.grad(lambda a: np.sum(SL.lu(a)[2]))(np.ones((2, 3)))
    with pytest.raises(ValueError, match="rows"):
        cr.grad(lambda ab: np.sum(SL.solve_banded((1, 1), ab, np.ones(3))))(np.ones((2, 3)))
