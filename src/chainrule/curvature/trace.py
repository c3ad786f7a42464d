"""Trace and diagonal of an operator from matrix-vector products.

* Hutchinson: `tr(A) = E[z^T A z]` for probes with identity second moment
  (random signs, "rademacher", or standard normals, "gaussian"). The
  standard error comes from the spread of the samples.
* Hutch++ (Meyer, Musco, Musco and Woodruff, 2021): a third of the budget
  sketches the dominant range Q of A, whose trace `tr(Q^T A Q)` is exact;
  the rest runs Hutchinson on what Q misses, `(I - QQ^T) A (I - QQ^T)`.
  Same number of products, far smaller error when the spectrum decays.
* Exact: one-hot products (n of them), for small dimensions; for a
  `HessianOperator` whose sparsity pattern is sparse, one product per
  colour of a distance-1 colouring of the pattern (see `colour`).

With `tol`, probes are drawn in blocks and the estimate stops as soon as
its standard error is at most `tol * |value|` (or `atol`).

Example:
    >>> import numpy as np
    >>> A = np.diag(np.arange(1.0, 6.0))
    >>> trace_estimate(A, method="exact")
    Estimate(value=np.float64(15.0), stderr=0.0)
    >>> est = trace_estimate(A, num_probes=30, method="hutchinson", seed=0)
    >>> float(est.value), float(est.stderr)  # random signs are exact on a diagonal
    (15.0, 0.0)
"""

import numpy as np

from .colour import colouring, diagonal_by_colouring
from .distribute import farmed_matmat
from .linop import Estimate, probes, sample_stats

METHODS = ("hutch++", "hutchinson", "exact")


def trace_estimate(A, num_probes=100, method="hutch++", seed=None, *, probe="rademacher",
                   tol=None, atol=0.0, block=10, client=None):
    """Estimate `trace(A)` with at most `num_probes` products: an `Estimate`.

    method is "hutch++" (the default), "hutchinson" or "exact" (n one-hot
    products, standard error 0). probe picks random signs ("rademacher")
    or normals ("gaussian"). seed is an int or a `numpy.random.Generator`.
    With tol (relative) or atol, stops once the standard error is below
    `atol + tol * |value|`, checked every `block` probes. With client (a
    `distributed.Client`), the products run as tasks on its workers (see
    `chainrule.curvature.distribute`): the same probes, the same estimate.

    Example:
        >>> import numpy as np
        >>> A = np.array([[2.0, 1.0], [1.0, 3.0]])
        >>> float(trace_estimate(A, num_probes=6, seed=0).value)  # Q spans R^2: exact
        5.0
    """
    n, dtype, matmat = farmed_matmat(A, client)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "exact":
        return Estimate(_exact(A, matmat, n, dtype).sum(), 0.0)
    if num_probes < 1:
        raise ValueError(f"num_probes must be positive, got {num_probes}")
    rng = np.random.default_rng(seed)
    if method == "hutchinson":
        return _hutchinson(matmat, n, dtype, rng, num_probes, probe, tol, atol, block, 0.0, None)
    if num_probes < 3:
        raise ValueError("hutch++ needs at least 3 products (a sketch, its trace and one probe)")
    k = num_probes // 3
    Q, _ = np.linalg.qr(matmat(probes(rng, n, k, probe, dtype)))
    exact_part = np.trace(Q.T @ matmat(Q))
    if Q.shape[1] >= n:  # the sketch spans everything: nothing left to sample
        return Estimate(exact_part, 0.0)
    return _hutchinson(matmat, n, dtype, rng, num_probes - 2 * k, probe, tol, atol, block,
                       exact_part, Q)


def _hutchinson(matmat, n, dtype, rng, budget, probe, tol, atol, block, offset, Q):
    samples = []
    block = budget if tol is None and not atol else max(2, int(block))
    while len(samples) < budget:
        Z = probes(rng, n, min(block, budget - len(samples)), probe, dtype)
        if Q is not None:
            Z = Z - Q @ (Q.T @ Z)
        samples.extend(np.einsum("ij,ij->j", Z, matmat(Z)))
        value, stderr = sample_stats(samples)
        if (tol is not None or atol) and len(samples) >= 2 and \
                stderr <= atol + (tol or 0.0) * abs(offset + value):
            break
    value, stderr = sample_stats(samples)
    return Estimate(offset + value, stderr)


def _exact(A, matmat, n, dtype):
    """The exact diagonal: by colouring when A is a Hessian operator with a
    sparse pattern, else from n one-hot products."""
    from .operator import HessianOperator
    plan = colouring(A, "diagonal") if isinstance(A, HessianOperator) else None
    if plan is not None:
        return diagonal_by_colouring(A, plan, matmat)
    return _exact_diagonal(matmat, n, dtype)


def _exact_diagonal(matmat, n, dtype, block=256):
    diag = np.empty(n, np.result_type(dtype, float))
    for start in range(0, n, block):
        stop = min(n, start + block)
        E = np.zeros((n, stop - start), dtype)
        E[np.arange(start, stop), np.arange(stop - start)] = 1
        diag[start:stop] = matmat(E)[np.arange(start, stop), np.arange(stop - start)]
    return diag


def diagonal_estimate(A, num_probes=100, seed=None, *, method="hutchinson", probe="rademacher",
                      tol=None, atol=0.0, block=10, client=None):
    """Estimate the diagonal of A: an `Estimate` of two arrays (value, stderr).

    Hutchinson's diagonal estimator `diag(A) = E[z * (A z)]`; with random
    signs, entry i errs by the off-diagonal entries of row i only, so
    diagonal matrices come out exact. method="exact" uses n one-hot
    products. tol/atol stop early once every entry's standard error is
    below `atol + tol * |value|`. client: as for `trace_estimate`.

    Example:
        >>> import numpy as np
        >>> diagonal_estimate(np.diag([1.0, 2.0]), num_probes=4, seed=0).value
        array([1., 2.])
    """
    n, dtype, matmat = farmed_matmat(A, client)
    if method == "exact":
        return Estimate(_exact(A, matmat, n, dtype), np.zeros(n))
    if method != "hutchinson":
        raise ValueError(f"method must be 'hutchinson' or 'exact', got {method!r}")
    if num_probes < 1:
        raise ValueError(f"num_probes must be positive, got {num_probes}")
    rng = np.random.default_rng(seed)
    rows = []
    block = num_probes if tol is None and not atol else max(2, int(block))
    while len(rows) < num_probes:
        Z = probes(rng, n, min(block, num_probes - len(rows)), probe, dtype)
        rows.extend((Z * matmat(Z)).T)
        value, stderr = sample_stats(rows)
        if (tol is not None or atol) and len(rows) >= 2 and \
                np.all(stderr <= atol + (tol or 0.0) * np.abs(value)):
            break
    return Estimate(*sample_stats(rows))
