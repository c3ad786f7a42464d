"""Curvature probes farmed out to a Dask cluster (`client=`).

The estimators' products are independent: the probes of a Hutchinson or
Hutch++ estimate, the one-hot columns of an exact trace or diagonal, the
probes of stochastic Lanczos quadrature. With `client=` (a
`distributed.Client`; `distributed.get_client()` gives the active one),
the operator is sent once to every worker and each block of probes is a
task; without it, everything runs here, as before. The probes are drawn
here from the same seed either way, so the estimates are the serial ones
(up to the rounding of the products, which may run on another BLAS
thread count). A `HessianOperator` travels as its recipe (function,
arguments, argnums) and is rebuilt, and its product compiled, once per
worker; the function must be picklable by cloudpickle (lambdas and
closures are) and rely on no state of this process alone.

Example:
    >>> import numpy as np
    >>> n, dtype, matmat = farmed_matmat(np.diag([1.0, 2.0]), client=None)
    >>> matmat(np.eye(2))
    array([[1., 0.],
           [0., 2.]])
"""

import numpy as np

from .linop import as_matmat


class Farm:
    """The matrix-like A on every worker of `client`; `matmat` splits the
    columns of its argument into one block per worker, `map` runs
    `fn(item, A=A)` for each item, both as cluster tasks."""

    def __init__(self, A, client):
        from ..parallel import active_client
        self.client = active_client(client)
        self.A = A
        [self.remote] = self.client.scatter([A], broadcast=True, hash=False)
        self.workers = max(1, len(self.client.scheduler_info().get("workers", ())))

    def _count(self, k):
        if hasattr(self.A, "nprod"):
            self.A.nprod += k

    def matmat(self, V):
        k = V.shape[1]
        if k == 0:
            return as_matmat(self.A)[2](V)
        size = -(-k // self.workers)
        blocks = [np.ascontiguousarray(V[:, a:a + size]) for a in range(0, k, size)]
        futures = self.client.map(_block_product, blocks, A=self.remote, pure=False)
        self._count(k)
        return np.concatenate(self.client.gather(futures), axis=1)

    def map(self, fn, items):
        futures = self.client.map(fn, items, A=self.remote, pure=False)
        return self.client.gather(futures)


def _block_product(V, A):
    return as_matmat(A)[2](V)


def farmed_matmat(A, client=None):
    """`(n, dtype, matmat)` as `as_matmat` gives, with the products run as
    tasks on `client`'s workers when a client is given."""
    n, dtype, matmat = as_matmat(A)
    if client is None:
        return n, dtype, matmat
    return n, dtype, Farm(A, client).matmat
