"""Derivatives of NumPy code on Dask arrays: lazy, and equal to NumPy's.

The losses are the ordinary NumPy spellings; the data are chunked Dask
arrays. Derivatives come back as Dask arrays that compute nothing until
asked, and give NumPy's values when computed, on the local scheduler and on
a `distributed.LocalCluster` of worker processes started by the test.
"""

import numpy as np
import pytest

import chainrule as cr

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")


def least_squares(w, X, y):
    r = X @ w - y
    return 0.5 * np.mean(r * r) + 0.5e-3 * np.sum(w * w)


def logistic(w, X, y):
    z = X @ w
    return np.mean(np.logaddexp(0.0, z) - y * z) + 0.5e-3 * np.sum(w * w)


def _data(n=2000, d=6, chunk=100, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = (rng.random(n) < 0.5).astype(float)
    return X, y, da.from_array(X, chunks=(chunk, d)), da.from_array(y, chunks=chunk)


class _CountComputations(dask.callbacks.Callback):
    """Counts graphs handed to a local scheduler: each is one computation."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def _start(self, dsk):
        self.count += 1


@pytest.mark.parametrize("loss", [least_squares, logistic])
def test_derivatives_are_lazy_and_equal_numpys(loss):
    X, y, Xd, yd = _data()
    w = np.linspace(-0.5, 0.5, X.shape[1])
    v = np.cos(np.arange(X.shape[1]))
    with _CountComputations() as counter:
        value, g = cr.value_and_grad(loss)(w, Xd, yd)
        _, f_vjp = cr.vjp(lambda w: loss(w, Xd, yd), w)
        (g_vjp,) = f_vjp(1.0)
        _, t = cr.jvp(lambda w: loss(w, Xd, yd), (w,), (v,))
        hv = cr.hvp(lambda w: loss(w, Xd, yd), (w,), (v,))
    assert counter.count == 0, "a derivative was computed before it was asked for"
    for lazy in (value, g, g_vjp, t, hv):
        assert isinstance(lazy, da.Array)
    np.testing.assert_allclose(value.compute(), loss(w, X, y), rtol=1e-13)
    expected = cr.grad(loss)(w, X, y)
    np.testing.assert_allclose(g.compute(), expected, rtol=1e-12)
    np.testing.assert_allclose(g_vjp.compute(), expected, rtol=1e-12)
    np.testing.assert_allclose(t.compute(), expected @ v, rtol=1e-12)
    np.testing.assert_allclose(hv.compute(), cr.hvp(lambda w: loss(w, X, y), (w,), (v,)), rtol=1e-12)


def test_gradient_in_dask_parameters():
    X, y, Xd, yd = _data(n=400, chunk=50)
    w = np.linspace(-0.5, 0.5, X.shape[1])
    g = cr.grad(logistic)(da.from_array(w, chunks=3), Xd, yd)
    assert isinstance(g, da.Array)
    np.testing.assert_allclose(g.compute(), cr.grad(logistic)(w, X, y), rtol=1e-12)


@pytest.mark.parametrize("loss", [least_squares, logistic])
def test_gradient_on_a_local_cluster(cluster_client, loss):
    X, y, Xd, yd = _data(n=20000, chunk=500)  # 40 chunks over two worker processes
    w = np.linspace(-0.5, 0.5, X.shape[1])
    g = cr.grad(loss)(w, Xd, yd)
    assert isinstance(g, da.Array)
    computed = cluster_client.compute(g).result()
    np.testing.assert_allclose(computed, cr.grad(loss)(w, X, y), rtol=1e-12)


def test_parallel_jacobian_hvps_and_gradients_equal_the_serial_ones(cluster_client):
    from chainrule import parallel

    rng = np.random.default_rng(3)
    A = rng.standard_normal((7, 5))

    def f(x):
        return np.tanh(A @ x) * np.sum(x ** 2)

    def scalar(x):
        return np.sum(np.sin(A @ x) ** 2)

    x = rng.standard_normal(5)
    for mode in ("fwd", "rev"):
        farmed = parallel.jacobian(f, x, mode=mode, block=2, client=cluster_client)
        serial = parallel.jacobian(f, x, mode=mode, block=2, client=None)
        np.testing.assert_array_equal(farmed, serial)
        np.testing.assert_allclose(farmed, cr.jacfwd(f)(x), rtol=1e-13, atol=1e-14)
    probes = rng.choice([-1.0, 1.0], size=(9, 5))
    farmed = parallel.hvps(scalar, x, probes, block=4, client=cluster_client)
    np.testing.assert_array_equal(farmed, parallel.hvps(scalar, x, probes, block=4))
    np.testing.assert_allclose(farmed, probes @ cr.hessian(scalar)(x), rtol=1e-12, atol=1e-13)
    points = [(rng.standard_normal(5),) for _ in range(5)]
    farmed = parallel.map_grad(scalar, points, client=cluster_client)
    for g, (p,) in zip(farmed, points):
        np.testing.assert_array_equal(g, cr.grad(scalar)(p))


def test_scatter_add_of_basic_indexing_is_lazy_and_equals_numpys():
    from chainrule.arraylibs import scatter_basic

    rng = np.random.default_rng(5)
    shape = (7, 5, 4)
    for index in [(slice(1, 6, 2),), (2,), (slice(None, None, -1), slice(None), 1), (Ellipsis, 3),
                  (slice(None), None, 2), (1, slice(4, 0, -2), Ellipsis), (-1, -2, -3), (),
                  (slice(5, 5),), (None, slice(None, None, 3), Ellipsis, None)]:
        expected = np.zeros(shape)
        g = rng.standard_normal(expected[index].shape)
        expected[index] = g
        np.testing.assert_array_equal(scatter_basic(g, index, shape), expected)
        lazy = scatter_basic(da.from_array(g, chunks=2) if g.size else g, index, shape)
        np.testing.assert_array_equal(np.asarray(lazy), expected)

    X, y, Xd, yd = _data(n=40, chunk=10)

    def loss(X):
        return np.sum(X[::3, 1] ** 2) + np.sum(X[-1] * 3.0) + np.sum(X[30:4:-4, None, 2:] ** 3)

    with _CountComputations() as counter:
        g = cr.grad(loss)(Xd)
    assert counter.count == 0 and isinstance(g, da.Array)
    np.testing.assert_allclose(g.compute(), cr.grad(loss)(X), rtol=1e-13)


def test_solves_are_lazy_and_equal_numpys():
    pytest.importorskip("scipy")
    import chainrule.scipy.linalg as scipy_linalg
    rng = np.random.default_rng(6)
    A = rng.standard_normal((6, 6)) + 6 * np.eye(6)
    L = np.tril(A)
    b = rng.standard_normal((6, 2))

    def loss(a, b):
        out = np.sum(scipy_linalg.solve_triangular(np.tril(a), b, lower=True) ** 2)
        out += np.sum(scipy_linalg.solve_triangular(np.triu(a), b, trans=1, unit_diagonal=True))
        out += np.sum(np.linalg.solve(np.tril(a), b) ** 2)  # the triangular shortcut, on NumPy
        chol = np.linalg.cholesky(a @ a.T)
        out += np.sum(scipy_linalg.cho_solve((chol, True), b))
        # both triangles' masks (a NumPy array and its transpose: one name to dask.tokenize)
        return out + np.sum((scipy_linalg.cho_factor(a @ a.T)[0]
                             + scipy_linalg.cho_factor(a @ a.T, lower=True)[0]) @ b)

    Ad, bd = da.from_array(A, chunks=3), da.from_array(b, chunks=(2, 1))
    with _CountComputations() as counter:
        ga, gb = cr.grad(loss, argnums=(0, 1))(Ad, bd)
    assert counter.count == 0
    assert isinstance(ga, da.Array) and isinstance(gb, da.Array)
    want_a, want_b = cr.grad(loss, argnums=(0, 1))(A, b)
    np.testing.assert_allclose(ga.compute(), want_a, rtol=1e-10)
    np.testing.assert_allclose(gb.compute(), want_b, rtol=1e-10)
    stack = np.stack([L, 2 * L])

    def stacked(a, b):  # a stack of matrices, one right-hand side each, and a vector
        return (np.sum(scipy_linalg.solve_triangular(a, b, lower=True) ** 2)
                + np.sum(scipy_linalg.solve_triangular(a[0], b[1, :, 0], trans=1, lower=True)))

    bs = np.stack([b, -b])
    with _CountComputations() as counter:
        ga, gb = cr.grad(stacked, argnums=(0, 1))(da.from_array(stack, chunks=3), da.from_array(bs, chunks=2))
    assert counter.count == 0
    want_a, want_b = cr.grad(stacked, argnums=(0, 1))(stack, bs)
    np.testing.assert_allclose(ga.compute(), want_a, rtol=1e-10)
    np.testing.assert_allclose(gb.compute(), want_b, rtol=1e-10)


def test_item_assignment_and_concatenation_stay_lazy():
    X, y, Xd, yd = _data(n=40, chunk=10)

    def loss(X):
        Z = X * 1.0
        Z[::4, 1:4] = 2.0 * Z[1::4, :3]
        Z[-1] = 0.5
        padded = np.concatenate([Z, X[:5]], axis=0)
        return np.sum(np.diff(padded, axis=0) ** 2) + np.sum(np.pad(Z, 1) ** 3)

    with _CountComputations() as counter:
        g = cr.grad(loss)(Xd)
    assert counter.count == 0 and isinstance(g, da.Array)
    np.testing.assert_allclose(g.compute(), cr.grad(loss)(X), rtol=1e-13)

    def scatter(X):
        Z = X * 1.0
        Z[[0, 2]] = 0.0
        return np.sum(Z)

    with pytest.raises(cr.ArrayLibraryError, match="cannot stay lazy"):
        cr.grad(scatter)(Xd)


def test_polynomial_products_and_nd_index_arrays_are_lazy_and_equal_numpys():
    # Dask drops a length-one axis of a 2-D index array (x[np.zeros((2, 1), int)] has
    # shape (2,)); np.convolve's windows are such an index when one factor has length 1,
    # which made polymul's and poly's tangents wrong before the getitem rule reshaped.
    rng = np.random.default_rng(8)
    cases = [(np.polymul, (rng.standard_normal(1), rng.standard_normal(2))),
             (np.polymul, (rng.standard_normal(3), rng.standard_normal(4))),
             (np.poly, (rng.standard_normal(3),)),
             (lambda a, v: np.convolve(v, a, "same"), (rng.standard_normal(5), rng.standard_normal(2))),
             (lambda x: x[np.array([[0], [2], [1]])] * x[np.arange(6).reshape(2, 3) % 3, None], (rng.standard_normal(3),))]
    for f, args in cases:
        dirs = tuple(rng.standard_normal(a.shape) for a in args)
        lazy = tuple(da.from_array(a, chunks=max(1, a.size // 2)) for a in args)
        with _CountComputations() as counter:
            out, t = cr.jvp(f, lazy, tuple(da.from_array(d, chunks=2) for d in dirs))
        assert counter.count == 0 and isinstance(t, da.Array)
        want_out, want_t = cr.jvp(f, args, dirs)
        assert t.shape == want_t.shape
        np.testing.assert_allclose(out.compute(), want_out, rtol=1e-13)
        np.testing.assert_allclose(t.compute(), want_t, rtol=1e-13)


def test_rules_that_cannot_stay_lazy_refuse_and_the_others_compute_nothing():
    pytest.importorskip("scipy")
    import chainrule.scipy.special as sc

    x = np.linspace(0.5, 3.0, 6)
    xd = da.from_array(x, chunks=2)
    with _CountComputations() as counter:  # polygamma(1, x) from ufuncs: lazy
        g = cr.grad(lambda x: np.sum(sc.digamma(x) * sc.polygamma(2, x)))(xd)
    assert counter.count == 0 and isinstance(g, da.Array)
    np.testing.assert_allclose(g.compute(), cr.grad(lambda x: np.sum(sc.digamma(x) * sc.polygamma(2, x)))(x),
                               rtol=1e-12)
    big = da.from_array(np.array([1.0, 300.0]), chunks=1)
    with _CountComputations() as counter:  # i0's range check runs when computed
        g = cr.grad(lambda x: np.sum(np.i0(x)))(big)
    assert counter.count == 0
    with pytest.raises(cr.NoRuleError, match="np.i0 at"):
        g.compute()
    for f, name in [(np.median, "median"), (lambda x: np.quantile(x, 0.3), "quantile"),
                    (lambda x: np.percentile(x, 30.0), "quantile")]:
        with _CountComputations() as counter, pytest.raises(cr.ArrayLibraryError, match=f"np.{name}.*lazy"):
            cr.grad(f)(xd)
        assert counter.count == 0
