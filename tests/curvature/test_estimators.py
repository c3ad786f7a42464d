"""Trace, diagonal, Lanczos, SLQ and spectral density against exact answers.

Seeds are fixed, so every test is deterministic; the bounds (4 standard
errors) are the statistical ones the estimates report, checked at seeds
where they hold, not tuned to pass.
"""

import numpy as np
import pytest

from chainrule.curvature import (
    NotPositiveDefiniteError, diagonal_estimate, hessian_operator, lanczos, logdet_estimate,
    spectral_density, trace_estimate,
)

N = 60
RNG = np.random.default_rng(1)
B = RNG.standard_normal((N, N))
M = B @ B.T / N + 1.5 * np.eye(N)  # H below is then positive definite
X0 = RNG.standard_normal(N)


def f(x):
    return 0.5 * x @ (M @ x) + np.sum(np.cos(x))


H_EXACT = M - np.diag(np.cos(X0))  # the Hessian of f at X0, by hand


@pytest.fixture(scope="module")
def H():
    return hessian_operator(f, (X0,))


def test_the_operator_is_the_known_hessian(H):
    np.testing.assert_allclose(H.todense(), H_EXACT, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("method,probe", [("hutchinson", "rademacher"), ("hutchinson", "gaussian"),
                                          ("hutch++", "rademacher"), ("hutch++", "gaussian")])
def test_trace_within_its_standard_error(H, method, probe):
    exact = np.trace(H_EXACT)
    for seed in range(3):
        est = trace_estimate(H, num_probes=45, method=method, seed=seed, probe=probe)
        assert 0 < est.stderr < 0.2 * abs(exact)
        assert abs(est.value - exact) <= 4 * est.stderr


def test_hutchinson_standard_error_matches_theory(H):
    # Var(z^T A z) = 2 * sum of squared off-diagonal entries for random signs
    est = trace_estimate(H, num_probes=400, method="hutchinson", seed=0)
    offdiag = H_EXACT - np.diag(np.diag(H_EXACT))
    theory = np.sqrt(2 * np.sum(offdiag ** 2) / 400)
    assert 0.8 * theory < est.stderr < 1.25 * theory


def test_hutch_plus_plus_beats_hutchinson_on_a_decaying_spectrum():
    Q, _ = np.linalg.qr(np.random.default_rng(2).standard_normal((N, N)))
    A = Q @ np.diag(1.0 / np.arange(1, N + 1) ** 2) @ Q.T
    exact = np.trace(A)
    errs = {m: np.mean([abs(trace_estimate(A, 30, m, seed=s).value - exact) for s in range(10)])
            for m in ("hutchinson", "hutch++")}
    assert errs["hutch++"] < 0.5 * errs["hutchinson"]


def test_exact_trace_and_diagonal(H):
    assert trace_estimate(H, method="exact") == (pytest.approx(np.trace(H_EXACT), rel=1e-12), 0.0)
    value, stderr = diagonal_estimate(H, method="exact")
    np.testing.assert_allclose(value, np.diag(H_EXACT), rtol=1e-12)
    assert np.all(stderr == 0)


def test_trace_tolerance_stops_early(H):
    before = H.nprod
    est = trace_estimate(H, num_probes=1000, method="hutchinson", seed=0, tol=0.02)
    used = H.nprod - before
    assert used < 1000 and est.stderr <= 0.02 * abs(est.value)
    assert abs(est.value - np.trace(H_EXACT)) <= 4 * est.stderr


def test_diagonal_within_its_standard_error(H):
    value, stderr = diagonal_estimate(H, num_probes=200, seed=0)
    assert value.shape == stderr.shape == (N,)
    assert np.all(np.abs(value - np.diag(H_EXACT)) <= 4 * stderr)
    # random signs: entry i errs by row i's off-diagonal entries only
    offdiag = H_EXACT - np.diag(np.diag(H_EXACT))
    theory = np.sqrt(np.sum(offdiag ** 2, axis=1) / 200)
    assert np.all((0.6 * theory < stderr) & (stderr < 1.5 * theory))


def test_diagonal_of_a_diagonal_matrix_is_exact():
    d = np.arange(1.0, 6.0)
    value, stderr = diagonal_estimate(np.diag(d), num_probes=3, seed=0)
    np.testing.assert_array_equal(value, d)
    np.testing.assert_array_equal(stderr, np.zeros(5))


@pytest.mark.parametrize("which", ["LA", "SA", "BE"])
def test_lanczos_eigenvalues_match_eigh(H, which):
    evals, evecs = np.linalg.eigh(H_EXACT)
    k = 5
    values, vectors = lanczos(H, k, which=which, seed=0)
    expect = {"LA": evals[-k:], "SA": evals[:k],
              "BE": np.concatenate([evals[:k // 2], evals[-(k - k // 2):]])}[which]
    np.testing.assert_allclose(values, expect, rtol=1e-9, atol=1e-9)
    assert vectors.shape == (N, k)
    np.testing.assert_allclose(vectors.T @ vectors, np.eye(k), atol=1e-9)
    np.testing.assert_allclose(H_EXACT @ vectors, vectors * values, atol=1e-7)


def test_lanczos_survives_repeated_eigenvalues():
    A = np.diag(np.r_[np.full(10, 2.0), np.full(10, 7.0), 3.0])
    values, _ = lanczos(A, 21, which="LA", seed=0)
    np.testing.assert_allclose(values, np.sort(np.diag(A)), atol=1e-10)


def test_slq_logdet_matches_slogdet(H):
    sign, exact = np.linalg.slogdet(H_EXACT)
    assert sign > 0
    for seed in range(3):
        est = logdet_estimate(H, num_probes=30, steps=30, seed=seed)
        assert 0 < est.stderr < 0.1 * abs(exact)
        assert abs(est.value - exact) <= 4 * est.stderr


def test_slq_logdet_refuses_an_indefinite_operator():
    with pytest.raises(NotPositiveDefiniteError):
        logdet_estimate(np.diag([1.0, -1.0, 2.0]), num_probes=3, seed=0)


def test_spectral_density_integrates_to_one_and_finds_the_clusters():
    Q, _ = np.linalg.qr(np.random.default_rng(3).standard_normal((N, N)))
    A = Q @ np.diag(np.r_[np.full(N // 2, 1.0), np.full(N // 2, 5.0)]) @ Q.T
    grid, density = spectral_density(A, num_probes=10, steps=20, seed=0)
    assert np.all(density >= 0)
    assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=1e-12)
    low = np.trapezoid(np.where(grid < 3, density, 0), grid)
    assert abs(low - 0.5) < 0.1
    # its mean is the Hutchinson estimate of trace / n with the same probes
    mean = np.trapezoid(grid * density, grid)
    assert mean == pytest.approx(3.0, abs=0.3)


def test_plot_helper_draws():
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    from chainrule.curvature import plot_spectral_density
    ax = plot_spectral_density(*spectral_density(np.diag([1.0, 2.0]), seed=0))
    assert len(ax.lines) == 1
