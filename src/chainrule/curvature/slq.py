"""Stochastic Lanczos quadrature (Ubaru, Chen and Saad, 2017).

For a probe z with `|z|^2 = n` (random signs), m Lanczos steps from z give
a Gauss quadrature rule for its spectral measure: nodes theta_i (the
eigenvalues of the tridiagonal T) with weights tau_i^2 (the squared first
components of T's eigenvectors), so `z^T f(A) z ~ n * sum tau_i^2
f(theta_i)`. Averaging over probes estimates `tr f(A)`: `log det A` with
f = log, and the spectral density by smoothing the nodes with a Gaussian.

Example:
    >>> import numpy as np
    >>> A = np.diag([1.0, 2.0, 4.0])
    >>> est = logdet_estimate(A, num_probes=4, steps=3, seed=0)
    >>> round(float(est.value), 10), float(est.stderr)  # random signs: exact here
    (2.0794415417, 0.0)
"""

import numpy as np

from .lanczos import lanczos_basis
from .linop import Estimate, NotPositiveDefiniteError, as_matmat, probes, sample_stats


def quadrature(A, num_probes=10, steps=30, seed=None, *, client=None):
    """The Gauss quadrature rules of `num_probes` random-sign probes:
    a list of `(nodes, weights)` whose weights sum to 1 each. With client
    (a `distributed.Client`), each probe's Lanczos run is a task on its
    workers (see `chainrule.curvature.distribute`); the probes are the same.

    Example:
        >>> import numpy as np
        >>> [(nodes, weights)] = quadrature(np.diag([1.0, 3.0]), num_probes=1, seed=0)
        >>> np.round(nodes, 12), np.round(weights, 12)
        (array([1., 3.]), array([0.5, 0.5]))
    """
    n = as_matmat(A)[0]
    rng = np.random.default_rng(seed)
    zs = list(probes(rng, n, num_probes, "rademacher", float).T)
    return _rules(A, zs, steps, client)


def _rules(A, zs, steps, client):
    if client is None:
        return [_rule(z, steps, A) for z in zs]
    from .distribute import Farm
    return Farm(A, client).map(_probe_rule, [(z, steps) for z in zs])


def _probe_rule(item, A):
    return _rule(item[0], item[1], A)


def _rule(z, steps, A):
    n, _, matmat = as_matmat(A)
    _, alpha, beta = lanczos_basis(lambda v: matmat(v[:, None])[:, 0], z, min(steps, n))
    T = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
    theta, S = np.linalg.eigh(T)
    return theta, S[0, :] ** 2


def logdet_estimate(A, num_probes=30, steps=30, seed=None, *, tol=None, client=None):
    """Estimate `log det A` of a symmetric positive-definite A: an `Estimate`.

    Each probe costs `steps` products (fewer when its Krylov space is
    exhausted sooner). The standard error is the spread over probes (the
    quadrature error, tiny for enough steps, is not in it). With tol, stops
    once the standard error is at most `tol * |value|` (at least 2 probes).
    A non-positive quadrature node means A is not positive definite
    (NotPositiveDefiniteError). With client (a `distributed.Client`), the
    probes run as tasks on its workers, all `num_probes` of them at once
    (tol then picks the same prefix as the serial run): the same estimate.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> B = rng.standard_normal((50, 50))
        >>> A = B @ B.T / 50 + np.eye(50)
        >>> est = logdet_estimate(A, num_probes=30, steps=25, seed=0)
        >>> exact = np.linalg.slogdet(A)[1]
        >>> bool(abs(est.value - exact) < 4 * est.stderr < 0.15 * exact)
        True
    """
    n = as_matmat(A)[0]
    rng = np.random.default_rng(seed)
    if client is None:
        rules = (_rule(probes(rng, n, 1, "rademacher", float)[:, 0], steps, A)
                 for _ in range(int(num_probes)))
    else:
        zs = [probes(rng, n, 1, "rademacher", float)[:, 0] for _ in range(int(num_probes))]
        rules = iter(_rules(A, zs, steps, client))
    samples = []
    for theta, weights in rules:
        if np.min(theta) <= 0:
            raise NotPositiveDefiniteError(
                f"log det needs a positive-definite operator, but Lanczos found the "
                f"eigenvalue estimate {np.min(theta):.3g} <= 0")
        samples.append(n * np.sum(weights * np.log(theta)))
        if tol is not None and len(samples) >= 2:
            value, stderr = sample_stats(samples)
            if stderr <= tol * abs(value):
                break
    return Estimate(*sample_stats(samples))


def spectral_density(A, num_probes=10, steps=60, seed=None, *, grid=None, num_points=512,
                     sigma=None, client=None):
    """The density of A's eigenvalues: `(grid, density)`, density >= 0 with
    trapezoidal integral 1 over the grid.

    The quadrature nodes of `num_probes` probes, each a Gaussian of width
    sigma (default: 1/100 of the spread of the nodes), weighted by their
    quadrature weights. The default grid spans the nodes plus 5 sigma on
    each side, with num_points points. client: as for `logdet_estimate`.

    Example:
        >>> import numpy as np
        >>> grid, density = spectral_density(np.diag([1.0, 2.0]), num_probes=2, seed=0)
        >>> round(float(np.trapezoid(density, grid)), 12)
        1.0
    """
    rules = quadrature(A, num_probes, steps, seed, client=client)
    nodes = np.concatenate([t for t, _ in rules])
    weights = np.concatenate([w for _, w in rules]) / len(rules)
    lo, hi = float(np.min(nodes)), float(np.max(nodes))
    if sigma is None:
        sigma = max(hi - lo, abs(hi), 1e-12) / 100
    if grid is None:
        grid = np.linspace(lo - 5 * sigma, hi + 5 * sigma, int(num_points))
    grid = np.asarray(grid, float)
    kernel = np.exp(-0.5 * ((grid[:, None] - nodes[None, :]) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
    density = kernel @ weights
    total = np.trapezoid(density, grid)
    if not total > 0:
        raise ValueError("the grid holds none of the spectrum; widen it or pass a larger sigma")
    return grid, density / total


def plot_spectral_density(grid, density, ax=None, **style):
    """Plot a spectral density (from `spectral_density`) with matplotlib;
    returns the axes. Needs matplotlib (`pip install matplotlib`).

    Example:
        >>> import numpy as np
        >>> ax = plot_spectral_density(*spectral_density(np.diag([1.0, 2.0]), seed=0))  # doctest: +SKIP
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plot_spectral_density needs matplotlib: pip install matplotlib") from None
    if ax is None:
        _, ax = plt.subplots()
    ax.plot(grid, density, **style)
    ax.set_xlabel("eigenvalue")
    ax.set_ylabel("density")
    return ax
