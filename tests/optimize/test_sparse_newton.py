"""newton on sparse Hessians (one product per colour, sparse solves) takes
the iterates of the dense route; exact trace and diagonal by colouring."""

import numpy as np
import pytest

pytest.importorskip("scipy.sparse")

import chainrule as cr  # noqa: E402
from chainrule import optimize as cro  # noqa: E402
from chainrule.curvature import diagonal_estimate, hessian_operator, trace_estimate  # noqa: E402
from chainrule.curvature.colour import colouring  # noqa: E402


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


N = 1000
X0 = 1.0 + 0.3 * np.sin(np.arange(N))


def test_sparse_and_dense_newton_take_the_same_iterates():
    runs = {}
    for how in ("sparse", "hvp"):
        iterates = []
        r = cro.newton(rosenbrock, X0, hessian=how, maxiter=2, callback=iterates.append)
        runs[how] = (r, iterates)
    (rs, its_s), (rd, its_d) = runs["sparse"], runs["hvp"]
    assert rs.hessian == "sparse" and rd.hessian == "dense"
    assert len(its_s) == len(its_d) == 2
    for a, b in zip(its_s, its_d):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert rs.nhvp == 2 * 3  # a tridiagonal Hessian: 3 colours per iteration
    assert rd.nhvp == 2 * N


def test_sparse_newton_converges_with_three_products_per_iteration():
    r = cro.newton(rosenbrock, X0)  # "auto" picks the sparse route here
    assert r.success and r.hessian == "sparse"
    np.testing.assert_allclose(r.x, np.ones(N), atol=1e-9)
    assert r.nhvp == 2 + 3 * r.nit  # two sampled columns, then 3 colours per iteration
    small = cro.newton(rosenbrock, X0[:10])  # few variables: dense
    assert small.hessian == "dense" and small.success


def test_indefinite_sparse_hessians_are_damped_like_dense_ones():
    x0 = np.where(np.arange(300) % 2 == 0, 0.1, 1.0)  # indefinite Hessians on the way
    iterates = {}
    for how in ("sparse", "hvp"):
        iterates[how] = []
        cro.newton(rosenbrock, x0, hessian=how, maxiter=4, callback=iterates[how].append)
    for a, b in zip(iterates["sparse"], iterates["hvp"]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)


def test_sparse_damped_solve_matches_the_dense_one():
    sp = pytest.importorskip("scipy.sparse")
    rng = np.random.default_rng(0)
    for shift in (3.0, -1.0):  # positive definite, then indefinite
        main = rng.standard_normal(50) + shift
        off = 0.3 * rng.standard_normal(49)
        H = sp.diags([off, main, off], [-1, 0, 1]).tocsr()
        g = rng.standard_normal(50)
        p, mu = cro.sparse_damped_solve(H, g)
        p_dense, mu_dense = cro.damped_solve(H.toarray(), g)
        assert mu == pytest.approx(mu_dense, rel=1e-10, abs=1e-14)
        np.testing.assert_allclose(p, p_dense, rtol=1e-9, atol=1e-12)
        assert g @ p < 0


def test_exact_trace_and_diagonal_by_colouring():
    x = X0[:200]
    H = hessian_operator(rosenbrock, (x,))
    dense = cr.hessian(rosenbrock)(x)
    before = H.nprod
    plan = colouring(H, "diagonal")
    assert plan.ncolours == 2
    np.testing.assert_allclose(diagonal_estimate(H, method="exact").value, np.diag(dense),
                               rtol=1e-12, atol=1e-9)
    assert H.nprod - before == 2 + 2  # two sampled columns, then two products, not 200
    np.testing.assert_allclose(trace_estimate(H, method="exact").value, np.trace(dense), rtol=1e-12)
    # a dense pattern keeps the one-hot products
    D = hessian_operator(lambda x: np.sum(x) ** 2 + np.sum(x ** 3), (np.ones(100),))
    assert colouring(D, "diagonal") is None  # two sampled columns said dense (cached)
    assert D.nprod == 2
    np.testing.assert_allclose(diagonal_estimate(D, method="exact").value, 2 + 6 * np.ones(100))
    assert D.nprod == 2 + 100  # then one-hot products
