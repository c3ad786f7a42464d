"""Sparsity patterns, colourings and sparse Jacobians and Hessians.

Expected patterns are built by hand with NumPy (not by chainrule); sparse
results are compared with the dense `jacfwd` / `hessian`."""

import warnings

import numpy as np
import pytest

import chainrule as cr

sp = pytest.importorskip("scipy.sparse")

from chainrule.sparse.compressed import compression  # noqa: E402

rng = np.random.default_rng(3)


def banded(x):
    """f_i depends on x_{i-2} .. x_{i+2} (zero padded)."""
    p = np.pad(x, 2)
    return p[:-4] * p[4:] + np.sin(p[1:-3]) + p[3:-1] ** 2 + np.exp(x)


def banded_pattern(n, k=2):
    i, j = np.indices((n, n))
    return np.abs(i - j) <= k


B, NB = 4, 5
W = rng.standard_normal((B, B))


def block_diagonal(x):
    return np.tanh(x.reshape(NB, B) @ W).ravel()


def block_pattern():
    return np.kron(np.eye(NB, dtype=bool), np.ones((B, B), bool))


def arrow_head(x):
    return np.concatenate([np.sum(x ** 2)[None], x[1:] * x[0] + np.cos(x[1:])])


def arrow_pattern(n):
    p = np.eye(n, dtype=bool)
    p[0, :] = p[:, 0] = True
    return p


G = 6


def stencil(u):
    """The 5-point Laplacian plus a nonlinear term, Dirichlet boundary."""
    U = u.reshape(G, G)
    P = np.pad(U, 1)
    return (P[:-2, 1:-1] + P[2:, 1:-1] + P[1:-1, :-2] + P[1:-1, 2:] - 4 * U + U ** 3).ravel()


def stencil_pattern():
    idx = np.arange(G * G).reshape(G, G)
    p = np.zeros((G * G, G * G), bool)
    for i in range(G):
        for j in range(G):
            for di, dj in ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)):
                if 0 <= i + di < G and 0 <= j + dj < G:
                    p[idx[i, j], idx[i + di, j + dj]] = True
    return p


def tridiagonal(x):
    p = np.pad(x, 1)
    return x ** 2 - p[:-2] * p[2:] + np.sin(x)


# fmt: off
CASES = [
    ("banded",         banded,         12,    banded_pattern(12)),
    ("block_diagonal", block_diagonal, B * NB, block_pattern()),
    ("arrow_head",     arrow_head,     8,     arrow_pattern(8)),
    ("stencil",        stencil,        G * G, stencil_pattern()),
    ("tridiagonal",    tridiagonal,    10,    banded_pattern(10, 1)),
]
# fmt: on


@pytest.mark.parametrize("name, f, n, expected", CASES, ids=[c[0] for c in CASES])
def test_pattern_is_exact(name, f, n, expected):
    pattern = cr.sparsity(f, np.zeros(n))
    assert sp.issparse(pattern) and pattern.dtype == bool
    np.testing.assert_array_equal(pattern.toarray(), expected)


@pytest.mark.parametrize("name, f, n, expected", CASES, ids=[c[0] for c in CASES])
def test_sparse_jacobian_equals_dense(name, f, n, expected):
    x = rng.standard_normal(n)
    J = cr.jacobian(f, sparse=True)(x)
    assert sp.issparse(J) and J.shape == (np.size(f(x)), n)
    np.testing.assert_allclose(J.toarray(), cr.jacfwd(f)(x), rtol=1e-12, atol=1e-12)


def test_colour_counts_are_optimal():
    assert compression(tridiagonal, np.zeros(20)).ncolours == 3
    assert compression(stencil, np.zeros(G * G)).ncolours == 5
    assert compression(banded, np.zeros(30)).ncolours == 5
    assert compression(block_diagonal, np.zeros(B * NB)).ncolours == B


def test_dense_row_uses_reverse_mode():
    f = lambda x: np.concatenate([np.sum(x)[None], x[1:] ** 2])  # noqa: E731
    comp = compression(f, np.zeros(9))
    assert comp.mode == "rows" and comp.ncolours == 2
    x = rng.standard_normal(9)
    np.testing.assert_allclose(cr.jacobian(f, sparse=True)(x).toarray(), cr.jacfwd(f)(x))


def rosenbrock(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def arrow_energy(x):
    return np.sum(x[1:] ** 2 * x[0]) + np.sum(np.cos(x))


def stencil_energy(u):
    return np.sum(stencil(u) ** 2) / 2 + np.sum(u ** 4)


@pytest.mark.parametrize("f, n, colours", [(rosenbrock, 12, 3), (arrow_energy, 9, 2),
                                           (stencil_energy, G * G, None)])
def test_sparse_hessian_equals_dense(f, n, colours):
    x = rng.standard_normal(n)
    H = cr.hessian(f, sparse=True)(x)
    assert sp.issparse(H) and H.shape == (n, n)
    np.testing.assert_allclose(H.toarray(), cr.hessian(f)(x), rtol=1e-10, atol=1e-10)
    if colours is not None:
        assert compression(f, x, hessian=True).ncolours == colours


def test_hessian_pattern_is_tridiagonal_for_rosenbrock():
    pattern = cr.sparsity(rosenbrock, np.zeros(10), hessian=True)
    np.testing.assert_array_equal(pattern.toarray(), banded_pattern(10, 1))


def test_arrow_hessian_uses_star_colouring():
    comp = compression(arrow_energy, np.zeros(9), hessian=True)
    assert comp.mode == "star"  # distance-2 colouring would need 9


def test_matmul_with_constant_sparse_matrix():
    A = np.diag(np.ones(5)) + np.diag(np.ones(4), 1)
    f = lambda x: np.tanh(A @ x) + x @ A  # noqa: E731
    expected = (A != 0) | (A.T != 0)
    np.testing.assert_array_equal(cr.sparsity(f, np.zeros(5)).toarray(), expected)


def test_index_arrays_and_reductions():
    perm = np.array([3, 0, 2, 1])
    f = lambda X: X[:, perm].sum(axis=1) * X[0, 0] + np.cumsum(X, axis=1)[:, -1]  # noqa: E731
    got = cr.sparsity(f, np.zeros((2, 4))).toarray()
    expected = np.zeros((2, 8), bool)
    expected[0, :4] = expected[1, 4:] = True
    expected[:, 0] = True
    np.testing.assert_array_equal(got, expected)


def test_unknown_primitive_is_dense():
    f = lambda x: np.linalg.solve(np.eye(3) + np.outer(x[:3], x[:3]), x[3:])  # noqa: E731
    assert cr.sparsity(f, np.zeros(6)).toarray().all()


def test_pattern_cache_sees_changed_constants():
    A = np.eye(4)
    f = lambda x: A @ x  # noqa: E731
    assert cr.sparsity(f, np.zeros(4)).nnz == 4
    A[0, 3] = 1.0  # the closure's constant changed structure
    assert cr.sparsity(f, np.zeros(4)).nnz == 5
    x = rng.standard_normal(4)
    np.testing.assert_allclose(cr.jacobian(f, sparse=True)(x).toarray(), A)


def test_value_dependent_function_falls_back_to_dense():
    def f(x):
        return x ** 2 if x[0] > 0 else x ** 3
    x = np.array([1.0, 2.0, 3.0])
    with pytest.warns(UserWarning, match="could not be traced"):
        J = cr.jacobian(f, sparse=True)(x)
    np.testing.assert_allclose(J.toarray(), np.diag(2 * x))


def test_errors_are_clear():
    with pytest.raises(cr.UnsupportedOptionError, match="one dtype"):
        cr.jacobian(lambda x, y: x * y, argnums=(0, 1), sparse=True)(np.ones(2), np.ones(2, np.float32))
    with pytest.raises(cr.NonDifferentiableInputError):
        cr.jacobian(lambda x: x * 2.0, sparse=True)(np.arange(3))
    with pytest.raises(cr.NonDifferentiableInputError):
        cr.jacobian(lambda x, n: x * n, argnums=(0, 1), sparse=True)(np.ones(3), np.arange(3))


def test_several_arguments_give_one_matrix_over_their_concatenation():
    f = lambda a, b: a[1:] * b[:-1] + np.sin(a[:-1])  # noqa: E731
    a, b = rng.standard_normal(6), rng.standard_normal(6)
    J = cr.jacobian(f, argnums=(0, 1), sparse=True)(a, b)
    assert J.shape == (5, 12)
    np.testing.assert_allclose(J.toarray(), np.hstack(cr.jacfwd(f, argnums=(0, 1))(a, b)))
    pattern = cr.sparsity(f, a, b, argnums=(0, 1)).toarray()
    np.testing.assert_array_equal(pattern[:, :6], np.eye(5, 6, dtype=bool) | np.eye(5, 6, 1, dtype=bool))
    np.testing.assert_array_equal(pattern[:, 6:], np.eye(5, 6, dtype=bool))
    nested = lambda p: p["w"][1:] * p["v"][:-1]  # noqa: E731
    p = {"v": b, "w": a}  # leaves in tree_flatten order: v, then w
    J = cr.jacobian(nested, sparse=True)(p)
    D = cr.jacfwd(nested)(p)
    np.testing.assert_allclose(J.toarray(), np.hstack([D["v"], D["w"]]))


def test_nested_outputs_are_rows_end_to_end():
    g = lambda x: {"d": x[1:] - x[:-1], "s": (x ** 2, np.sum(x))}  # noqa: E731
    x = rng.standard_normal(5)
    J = cr.jacobian(g, sparse=True)(x)
    D = cr.jacfwd(g)(x)
    np.testing.assert_allclose(J.toarray(), np.vstack([D["d"], D["s"][0], D["s"][1][None]]))
    assert cr.sparsity(g, x).shape == (10, 5)


def test_hessian_of_several_arguments():
    r = lambda a, b: np.sum(100 * (b - a ** 2) ** 2 + (1 - a) ** 2)  # noqa: E731
    a, b = rng.standard_normal(6), rng.standard_normal(6)
    H = cr.hessian(r, argnums=(0, 1), sparse=True)(a, b)
    D = cr.hessian(r, argnums=(0, 1))(a, b)
    np.testing.assert_allclose(H.toarray(), np.block([[D[0][0], D[0][1]], [D[1][0], D[1][1]]]))


def test_float32_stays_float32():
    f = lambda x: x[1:] * x[:-1]  # noqa: E731
    x = rng.standard_normal(6).astype(np.float32)
    J = cr.jacobian(f, sparse=True)(x)
    assert J.dtype == np.float32
    np.testing.assert_allclose(J.toarray(), cr.jacfwd(f)(x), rtol=1e-6)
    H = cr.hessian(lambda x: np.sum(x[1:] ** 2 * x[:-1]), sparse=True)(x)
    assert H.dtype == np.float32


def test_complex_output_of_real_input_uses_columns():
    """A dense row would be cheapest by one VJP, but the VJP of a complex
    output is the real-linear transpose, not the row: columns are used."""
    from chainrule.sparse.compressed import compression
    h = lambda x: np.stack([np.sum(x * (1 + 2j) * x), np.sum(np.exp(1j * x))])  # noqa: E731
    x = rng.standard_normal(5)
    assert compression(h, x).mode == "columns"
    np.testing.assert_allclose(cr.jacobian(h, sparse=True)(x).toarray(), cr.jacfwd(h)(x))


def test_patterns_are_cached_per_shape(monkeypatch):
    from chainrule.sparse import pattern
    calls = []
    real = pattern.graph_pattern
    monkeypatch.setattr(pattern, "graph_pattern", lambda *a, **k: calls.append(1) or real(*a, **k))
    f = lambda x: x[1:] * x[:-1]  # noqa: E731
    jac = cr.jacobian(f, sparse=True)
    for x in (rng.standard_normal(6), rng.standard_normal(6), rng.standard_normal(6)):
        np.testing.assert_allclose(jac(x).toarray(), cr.jacfwd(f)(x))
    assert len(calls) == 1
    jac(rng.standard_normal(7))
    jac(rng.standard_normal(6).astype(np.float32))
    assert len(calls) == 3


def test_zero_jacobian():
    J = cr.jacobian(lambda x: np.floor(x) + 1.0, sparse=True)(np.ones(3))
    assert J.shape == (3, 3) and J.nnz == 0


def test_complex_argument_matches_dense():
    z = rng.standard_normal(5) + 1j * rng.standard_normal(5)
    g = lambda z: z[1:] * z[:-1]  # noqa: E731
    np.testing.assert_allclose(cr.jacobian(g, sparse=True)(z).toarray(), cr.jacfwd(g)(z))
    f = lambda z: np.sum(np.abs(z[1:] * z[:-1]) ** 2)  # noqa: E731
    np.testing.assert_allclose(cr.hessian(f, sparse=True)(z).toarray(), cr.hessian(f)(z), atol=1e-12)


def test_second_argument_and_static_arguments():
    f = lambda a, x, k: np.roll(x, k) * x * a  # noqa: E731
    x = rng.standard_normal(7)
    J = cr.jacobian(f, argnums=1, sparse=True)(2.0, x, 2)
    np.testing.assert_allclose(J.toarray(), cr.jacfwd(f, argnums=1)(2.0, x, 2))
    assert cr.sparsity(f, 2.0, x, 2, argnums=1).nnz == 14


@pytest.mark.parametrize("f", [
    lambda x: np.tril(x.reshape(3, 3)).ravel(),
    lambda x: np.where(np.arange(9) % 2 == 0, x, x[::-1] ** 2),
    lambda x: x[np.array([True, False] * 4 + [True])] * 2,
    lambda x: np.diff(x) * np.diag(x.reshape(3, 3)).sum(),
])
def test_known_masks_give_exact_patterns(f):
    x = rng.uniform(0.5, 1.5, 9)
    numeric = cr.jacfwd(f)(x).reshape(-1, 9) != 0
    np.testing.assert_array_equal(cr.sparsity(f, x).toarray(), numeric)


def test_sparse_under_compile_or_differentiation_is_refused():
    jac = cr.jacobian(lambda x: x[1:] * x[:-1], sparse=True)
    with pytest.raises(cr.UnsupportedOptionError, match="concrete arrays"):
        cr.compile(jac)(np.ones(4))
    with pytest.raises(cr.UnsupportedOptionError, match="concrete arrays"):
        cr.grad(lambda x: jac(x).sum())(np.ones(4))
    pair = cr.jacobian(lambda p: p[0] * p[1], sparse=True)
    with pytest.raises(cr.UnsupportedOptionError, match="concrete arrays"):
        cr.grad(lambda y: pair([np.ones(3), y]).sum())(np.ones(3))
    with pytest.raises(cr.UnsupportedOptionError, match="concrete arrays"):
        cr.vmap(cr.hessian(lambda x: np.sum(x ** 3), sparse=True))(np.ones((2, 3)))


def test_cached_patterns_are_used_without_tracing_while_nothing_captured_changed(monkeypatch):
    import sys
    module = sys.modules["chainrule.graph.trace"]
    real, traces = module.trace, []
    monkeypatch.setattr(module, "trace", lambda *a, **k: traces.append(1) or real(*a, **k))
    A = np.eye(5)
    state = {"power": 2}
    f = lambda x: (A @ x) ** state["power"]  # noqa: E731
    jac, hess = cr.jacobian(f, sparse=True), cr.hessian(lambda x: np.sum(f(x)), sparse=True)
    for _ in range(3):
        x = rng.standard_normal(5)
        np.testing.assert_allclose(jac(x).toarray(), cr.jacfwd(f)(x))
        np.testing.assert_allclose(hess(x).toarray(), cr.hessian(lambda x: np.sum(f(x)))(x))
    assert len(traces) == 2  # one per function
    A[0, 4] = 1.0  # in place: a new pattern
    x = rng.standard_normal(5)
    np.testing.assert_allclose(jac(x).toarray(), cr.jacfwd(f)(x))
    state["power"] = 1  # a literal of the graph
    np.testing.assert_allclose(jac(x).toarray(), cr.jacfwd(f)(x))
    assert len(traces) == 4
    jac(x), jac(x)
    assert len(traces) == 4
