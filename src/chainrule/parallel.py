"""Independent derivative work farmed out to a Dask cluster.

Jacobian columns (or rows), Hessian-vector products for stochastic probes,
and gradients at many points are independent computations: each block is a
task on a `dask.distributed` cluster. Every function here takes `client=`
(a `distributed.Client`); with none, it uses the active client if there is
one and otherwise computes the same blocks here, one after the other. The
blocks are the same either way, so the results are identical (bit for bit)
to the serial ones.

The function being differentiated is shipped to the workers with
cloudpickle (closures and lambdas are fine); it must not rely on state that
exists only in this process.

Example:
    >>> import numpy as np
    >>> jacobian(np.sin, np.zeros(3), block=2)      # no client: computed here
    array([[1., 0., 0.],
           [0., 1., 0.],
           [0., 0., 1.]])
"""

import numpy as np

from .api import grad, hvp, jvp, vjp
from .jacobians import vmap


def active_client(client=None):
    """The client to use: `client`, else the active distributed client, else None.

    Example:
        >>> active_client() is None   # no cluster started in this process
        True
    """
    if client is not None:
        return client
    try:
        from distributed import get_client
    except ImportError:
        return None
    try:
        return get_client()
    except ValueError:  # distributed is installed but no client is running
        return None


def _run(task, items, client):
    """[task(item) for item in items], as cluster tasks when there is a client."""
    client = active_client(client)
    if client is None:
        return [task(item) for item in items]
    futures = client.map(task, items, pure=False)
    return client.gather(futures)


def _blocks(n, block):
    return [(start, min(start + block, n)) for start in range(0, n, block)]


def jacobian(fun, x, mode="fwd", block=None, client=None):
    """The Jacobian of fun at the array x, shaped `out.shape + x.shape`.

    Columns (mode "fwd": batched JVPs of `block` basis tangents per task) or
    rows ("rev": batched VJPs of `block` basis cotangents per task) are
    computed as independent tasks on the cluster and stitched together.

    Example:
        >>> import numpy as np
        >>> jacobian(lambda x: x ** 2, np.array([1.0, 2.0]), mode="rev", block=1)
        array([[2., 0.],
               [0., 4.]])
    """
    x = np.asarray(x)
    if mode not in ("fwd", "rev"):
        raise ValueError(f"mode must be 'fwd' or 'rev', not {mode!r}")
    out_shape = np.shape(fun(x))
    n = x.size if mode == "fwd" else int(np.prod(out_shape, dtype=np.int64))
    block = block or max(1, -(-n // 16))

    def columns(span):
        start, stop = span
        basis = np.zeros((stop - start, x.size), x.dtype)
        basis[np.arange(stop - start), np.arange(start, stop)] = 1
        basis = basis.reshape((stop - start,) + x.shape)
        push = vmap(lambda t: jvp(fun, (x,), (t,))[1])
        return np.reshape(push(basis), (stop - start, -1))

    def rows(span):
        start, stop = span
        basis = np.zeros((stop - start, n), x.dtype)
        basis[np.arange(stop - start), np.arange(start, stop)] = 1
        _, f_vjp = vjp(fun, x)
        pull = vmap(lambda u: f_vjp(np.reshape(u, out_shape))[0])
        return np.reshape(pull(basis), (stop - start, -1))

    parts = _run(columns if mode == "fwd" else rows, _blocks(n, block), client)
    stacked = np.concatenate(parts, axis=0)  # (x.size, out.size) or (out.size, x.size)
    if mode == "fwd":
        stacked = stacked.T
    return np.reshape(stacked, out_shape + x.shape)


def hvps(fun, x, vectors, block=None, client=None):
    """Hessian-vector products H v of scalar fun at x for each v (rows of `vectors`).

    The probes of a stochastic trace or diagonal estimate are independent:
    each task pushes `block` of them through one batched forward-over-reverse
    pass.

    Example:
        >>> import numpy as np
        >>> hvps(lambda x: np.sum(x ** 3), np.array([1.0, 2.0]), np.eye(2))
        array([[ 6.,  0.],
               [ 0., 12.]])
    """
    x = np.asarray(x)
    vectors = np.asarray(vectors)
    if vectors.shape[1:] != x.shape:
        raise ValueError(f"each vector must be shaped like x {x.shape}, got rows of {vectors.shape[1:]}")
    block = block or max(1, -(-len(vectors) // 16))

    def products(span):
        start, stop = span
        return vmap(lambda v: hvp(fun, (x,), (v,)))(vectors[start:stop])

    return np.concatenate(_run(products, _blocks(len(vectors), block), client), axis=0)


def map_grad(fun, points, argnums=0, client=None):
    """The gradient of scalar fun at each of `points` (each a tuple of arguments).

    Example:
        >>> import numpy as np
        >>> map_grad(lambda x, c: np.sum(c * x ** 2), [(np.ones(2), 1.0), (np.ones(2), 3.0)])
        [array([2., 2.]), array([6., 6.])]
    """
    g = grad(fun, argnums=argnums)
    return _run(lambda args: g(*args), [tuple(p) for p in points], client)
