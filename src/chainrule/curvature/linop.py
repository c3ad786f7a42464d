"""What the estimators accept as a matrix: an ndarray, a `HessianOperator`,
a `scipy.sparse.linalg.LinearOperator`, or anything with `shape` and
`matvec` (and ideally `matmat`); and the probe vectors they use.

Example:
    >>> import numpy as np
    >>> n, dtype, matmat = as_matmat(np.diag([1.0, 2.0]))
    >>> n, matmat(np.ones((2, 1))).ravel()
    (2, array([1., 2.]))
"""

from collections import namedtuple

import numpy as np

from ..core.errors import ChainruleError

Estimate = namedtuple("Estimate", ["value", "stderr"])
Estimate.__doc__ = """A Monte Carlo estimate and its standard error (zero when exact).

Example:
    >>> Estimate(3.0, 0.1).stderr
    0.1
"""


class NotPositiveDefiniteError(ChainruleError, ValueError):
    """An operator assumed positive definite showed a non-positive curvature."""


def as_matmat(A):
    """`(n, dtype, matmat)` for a square matrix-like A; matmat maps (n, k) to (n, k)."""
    shape = getattr(A, "shape", None)
    if shape is None or len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(f"expected a square matrix or operator, got shape {shape}")
    n = int(shape[0])
    dtype = np.dtype(getattr(A, "dtype", None) or np.float64)
    if isinstance(A, np.ndarray):
        return n, dtype, lambda V: A @ V
    if hasattr(A, "matmat"):
        return n, dtype, lambda V: np.asarray(A.matmat(V)).reshape(V.shape)
    if hasattr(A, "matvec"):
        return n, dtype, lambda V: np.stack([np.asarray(A.matvec(v)).reshape(n) for v in V.T], axis=1)
    if hasattr(A, "__matmul__"):  # sparse matrices and the like
        return n, dtype, lambda V: np.asarray(A @ V).reshape(V.shape)
    raise TypeError(f"{type(A).__name__} is not a matrix or operator (no matvec, matmat or @)")


def probes(rng, n, k, kind="rademacher", dtype=np.float64):
    """k random probe vectors as the columns of an (n, k) matrix, each with
    identity second moment: random signs or standard normals."""
    if kind == "rademacher":
        return rng.choice(np.array([-1.0, 1.0], dtype), size=(n, k))
    if kind == "gaussian":
        return rng.standard_normal((n, k)).astype(dtype, copy=False)
    raise ValueError(f"probe kind must be 'rademacher' or 'gaussian', got {kind!r}")


def sample_stats(samples):
    """Mean and standard error of the mean of a 1-D (or along axis 0) sample."""
    samples = np.asarray(samples)
    m = samples.shape[0]
    mean = np.mean(samples, axis=0)
    if m < 2:
        return mean, np.full(np.shape(mean), np.inf)
    return mean, np.std(samples, axis=0, ddof=1) / np.sqrt(m)
