"""client=: the curvature estimators' probes as tasks on a local Dask
cluster (two worker processes), with the serial results."""

import numpy as np

from chainrule.curvature import (diagonal_estimate, hessian_operator, logdet_estimate,
                                 spectral_density, trace_estimate)


def _problem():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((60, 12))
    y = (rng.random(60) < 0.5).astype(float)

    def loss(w, X, y):  # a closure: cloudpickle ships it by value
        z = X @ w
        return np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * np.sum(w ** 2)

    return hessian_operator(loss, (rng.standard_normal(12), X, y))


def _same(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_trace_and_diagonal_estimates_equal_the_serial_ones(cluster_client):
    H = _problem()
    dense = H.todense()
    for method in ("hutchinson", "hutch++", "exact"):
        farmed = trace_estimate(H, 30, method, seed=3, client=cluster_client)
        serial = trace_estimate(H, 30, method, seed=3)
        _same(farmed.value, serial.value)
        _same(farmed.stderr, serial.stderr)
    _same(trace_estimate(H, method="exact", client=cluster_client).value, np.trace(dense))
    farmed = trace_estimate(H, 60, "hutchinson", seed=1, tol=0.05, block=4, client=cluster_client)
    serial = trace_estimate(H, 60, "hutchinson", seed=1, tol=0.05, block=4)
    _same(farmed.value, serial.value)
    for method in ("hutchinson", "exact"):
        farmed = diagonal_estimate(H, 20, seed=5, method=method, client=cluster_client)
        serial = diagonal_estimate(H, 20, seed=5, method=method)
        _same(farmed.value, serial.value)
        _same(farmed.stderr, serial.stderr)
    _same(diagonal_estimate(H, method="exact", client=cluster_client).value, np.diag(dense))
    before = H.nprod
    trace_estimate(H, 9, "hutchinson", seed=0, client=cluster_client)
    assert H.nprod == before + 9  # products on the workers are counted here


def test_slq_probes_equal_the_serial_ones(cluster_client):
    H = _problem()
    for tol in (None, 0.02):
        farmed = logdet_estimate(H, num_probes=8, steps=10, seed=2, tol=tol, client=cluster_client)
        serial = logdet_estimate(H, num_probes=8, steps=10, seed=2, tol=tol)
        _same(farmed.value, serial.value)
        _same(farmed.stderr, serial.stderr)
    grid, density = spectral_density(H, num_probes=4, steps=10, seed=0, client=cluster_client)
    grid0, density0 = spectral_density(H, num_probes=4, steps=10, seed=0)
    _same(grid, grid0)
    _same(density, density0)


def test_a_plain_matrix_is_farmed_out_too(cluster_client):
    A = np.diag(np.arange(1.0, 11.0)) + 0.1
    _same(trace_estimate(A, 12, "hutch++", seed=0, client=cluster_client).value,
          trace_estimate(A, 12, "hutch++", seed=0).value)
