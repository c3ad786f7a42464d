"""A whole matrix from matrix-vector products (one-hot probes).

This is the one place where an operator becomes a dense matrix; a
structured variant (sparsity pattern and colouring, compressing many
one-hot probes into one) can replace `dense_from_products` for operators
that know their pattern.

Example:
    >>> import numpy as np
    >>> A = np.array([[2.0, 1.0], [1.0, 3.0]])
    >>> dense_from_products(lambda V: A @ V, 2, np.float64)
    array([[2., 1.],
           [1., 3.]])
"""

import numpy as np


def dense_from_products(matmat, n, dtype, block=None):
    """The n x n matrix whose products are `matmat(V)` (V of shape (n, k)),
    from the identity's columns in blocks of `block` (all at once by
    default, up to 256 per block)."""
    block = min(n, 256) if block is None else int(block)
    if block < 1:
        raise ValueError(f"block must be a positive number of columns, got {block}")
    out = np.empty((n, n), dtype)
    for start in range(0, n, block):
        stop = min(n, start + block)
        basis = np.zeros((n, stop - start), dtype)
        basis[np.arange(start, stop), np.arange(stop - start)] = 1
        out[:, start:stop] = matmat(basis)
    return out
