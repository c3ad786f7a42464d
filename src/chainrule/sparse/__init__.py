"""Sparse Jacobians and Hessians: patterns from the graph, colouring, and
one JVP (or VJP) per colour.

    pattern.py     index-set propagation through a traced graph
    rules.py       the structural Jacobian of each primitive
    colouring.py   column, row and star colouring; recovery checks
    compressed.py  sparsity(), sparse_jacobian(), sparse_hessian()

SciPy is optional for chainrule, but these functions return `scipy.sparse`
matrices and need it.

Example:
    >>> import numpy as np, chainrule as cr
    >>> J = cr.jacobian(lambda x: x[1:] * x[:-1], sparse=True)(np.arange(4.0))
    >>> J.toarray()
    array([[1., 0., 0., 0.],
           [0., 2., 1., 0.],
           [0., 0., 3., 2.]])
"""

from ..core.errors import ChainruleError


class MissingDependencyError(ChainruleError, ImportError):
    """An optional dependency needed by the requested feature is not installed."""


def require_scipy():
    """`scipy.sparse`, or a clear error naming what needs it."""
    try:
        import scipy.sparse as sp
    except ImportError:  # pragma: no cover - SciPy is installed in the test environment
        raise MissingDependencyError(
            "sparse Jacobians and Hessians (sparse=True, cr.sparsity) return scipy.sparse "
            "matrices: install SciPy (pip install scipy)") from None
    return sp


from .compressed import sparse_hessian, sparse_jacobian, sparsity  # noqa: E402

__all__ = ["sparsity", "sparse_jacobian", "sparse_hessian", "MissingDependencyError",
           "require_scipy"]
