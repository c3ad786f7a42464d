"""Sparse Hessians from few products: the pattern, a colouring, and one
Hessian-vector product per colour.

When the Hessian's sparsity pattern is sparse (`cr.sparsity(fun, x,
hessian=True)`, traced from the gradient's graph), variables that never
meet in a row can share one probe:

* the **diagonal** (exact trace and diagonal) needs a distance-1
  colouring: i and j of one colour only when H[i, j] is structurally zero;
  entry i is then row i of the product with colour(i)'s probe (2 products
  for a tridiagonal Hessian, in place of n);
* the **whole Hessian** (`newton`) needs a distance-2 (column) colouring,
  `chainrule.sparse.colouring.column_colouring`: columns of one colour
  share no row, so each nonzero H[i, j] is read directly (3 products for a
  tridiagonal Hessian).

The products go through the operator's batched `matmat` (compiled once per
function and shapes). Patterns need SciPy; without it, or when the pattern
cannot be traced (value-dependent code) or is not sparse, these return
None and the callers take n one-hot products instead.

Example:
    >>> import numpy as np
    >>> from chainrule.curvature import hessian_operator
    >>> H = hessian_operator(lambda x: np.sum(x[1:] ** 2 * x[:-1]), (np.ones(12),))
    >>> plan = colouring(H, "diagonal")
    >>> plan.ncolours, diagonal_by_colouring(H, plan)[:4]
    (2, array([0., 2., 2., 2.]))
"""

import warnings
from dataclasses import dataclass

import numpy as np

MAX_DENSITY = 0.25  # colourings with more colours than this fraction of n are not worth it


@dataclass
class Colouring:
    """A sparsity pattern (CSR, n x n) and a colouring of its columns:
    `kind` "diagonal" (distance 1) or "hessian" (distance 2)."""

    pattern: object
    colours: np.ndarray
    kind: str

    @property
    def ncolours(self):
        return int(self.colours.max()) + 1 if self.colours.size else 0

    def seeds(self, dtype=np.float64):
        """The (n, ncolours) probe matrix: column c sums the basis vectors of colour c."""
        n = self.colours.size
        S = np.zeros((n, self.ncolours), dtype)
        S[np.arange(n), self.colours] = 1
        return S


def hessian_pattern(fun, x):
    """The Hessian's structural pattern of scalar `fun` at x's shape (a CSR
    boolean matrix), or None when SciPy is missing or the gradient cannot be
    traced (then nothing is known about the pattern).

    Example:
        >>> import numpy as np
        >>> hessian_pattern(lambda x: np.sum(x ** 3), np.zeros(3)).toarray()
        array([[ True, False, False],
               [False,  True, False],
               [False, False,  True]])
    """
    try:
        from ..sparse import sparsity
        import scipy.sparse  # noqa: F401
    except ImportError:
        return None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            pattern = sparsity(fun, x, hessian=True)
        except Exception:  # noqa: BLE001  (untraceable: no pattern, one-hot products instead)
            return None
    if any("could not be traced" in str(w.message) for w in caught):
        return None  # the dense stand-in says nothing
    return pattern.tocsr().astype(bool)


def greedy_colouring(pattern):
    """A distance-1 colouring of a symmetric pattern (largest degree first):
    i and j get different colours whenever pattern[i, j] (i != j).

    Example:
        >>> import scipy.sparse as sp
        >>> greedy_colouring(sp.diags([1, 1, 1], [-1, 0, 1], shape=(5, 5), dtype=bool).tocsr())
        array([1, 0, 1, 0, 1])
    """
    p = pattern.tocsr()
    n = p.shape[0]
    indptr, indices = p.indptr.tolist(), p.indices.tolist()
    degree = np.diff(p.indptr)
    colours = [-1] * n
    for v in np.argsort(-degree, kind="stable").tolist():
        used = {colours[w] for w in indices[indptr[v]:indptr[v + 1]] if w != v}
        c = 0
        while c in used:
            c += 1
        colours[v] = c
    return np.asarray(colours, np.int64)


def colouring(op, kind="diagonal", max_density=MAX_DENSITY):
    """The `Colouring` of a `HessianOperator`'s pattern for reading its
    diagonal (`kind="diagonal"`) or the whole matrix (`"hessian"`), or None
    when it would not save products (unknown pattern, SciPy missing, or more
    than `max_density * n` colours). Unless max_density is infinite, two
    sampled columns of the Hessian (two products) are looked at first, and
    no pattern is traced when they are denser than max_density. Cached on
    the operator.

    Example:
        >>> import numpy as np
        >>> from chainrule.curvature import hessian_operator
        >>> colouring(hessian_operator(lambda x: np.sum(x) ** 2, (np.ones(8),)), "diagonal") is None
        True
    """
    max_density = MAX_DENSITY if max_density is None else max_density
    cache = op.__dict__.setdefault("_colourings", {})
    if (kind, max_density) in cache:
        return cache[kind, max_density]
    plan = None
    n = op.shape[0]
    # tracing a pattern can cost far more than products on dense Hessians
    # (index sets through a product with a dense data matrix): two sampled
    # columns first, and no pattern when they are dense (counted in nprod)
    worth = n > 1 and (max_density == np.inf or _sampled_density(op) <= max_density)
    pattern = hessian_pattern(op.flat_fun, op.point) if worth else None
    if pattern is not None and pattern.nnz <= max_density * n * n:
        if kind == "diagonal":
            colours = greedy_colouring(pattern)
        elif kind == "hessian":
            from ..sparse.colouring import column_colouring
            colours = column_colouring(pattern)
        else:
            raise ValueError(f"kind must be 'diagonal' or 'hessian', got {kind!r}")
        if colours.size and colours.max() + 1 <= max_density * n:
            plan = Colouring(pattern, colours, kind)
    cache[kind, max_density] = plan
    return plan


def _sampled_density(op, samples=2):
    """The fraction of nonzeros in `samples` evenly spaced Hessian columns."""
    n = op.shape[0]
    cols = np.unique(np.linspace(0, n - 1, samples).astype(int))
    E = np.zeros((n, cols.size), op.dtype)
    E[cols, np.arange(cols.size)] = 1
    B = op.matmat(E)
    return float(np.count_nonzero(B)) / B.size


def diagonal_by_colouring(op, plan, matmat=None):
    """The exact diagonal from `plan.ncolours` products (see `colouring`);
    `matmat` replaces the operator's own (e.g. one farmed out to a cluster).

    Example:
        >>> import numpy as np
        >>> from chainrule.curvature import hessian_operator
        >>> H = hessian_operator(lambda x: np.sum(np.cos(x[1:] - x[:-1])), (np.zeros(20),))
        >>> diagonal_by_colouring(H, colouring(H, "diagonal"))[:3], H.nprod  # 2 sampled + 2
        (array([-1., -2., -2.]), 4)
    """
    B = (matmat or op.matmat)(plan.seeds(op.dtype))
    n = plan.colours.size
    return np.asarray(B[np.arange(n), plan.colours])


def hessian_by_colouring(op, plan, matmat=None):
    """The exact Hessian as a `scipy.sparse` CSR matrix from `plan.ncolours`
    products (a distance-2 `colouring(op, "hessian")`).

    Example:
        >>> import numpy as np
        >>> from chainrule.curvature import hessian_operator
        >>> H = hessian_operator(lambda x: np.sum((x[1:] - x[:-1]) ** 2), (np.zeros(12),))
        >>> plan = colouring(H, "hessian")
        >>> plan.ncolours, hessian_by_colouring(H, plan).toarray()[:2, :4]
        (3, array([[ 2., -2.,  0.,  0.],
               [-2.,  4., -2.,  0.]]))
    """
    import scipy.sparse as sp
    B = (matmat or op.matmat)(plan.seeds(op.dtype))
    p = plan.pattern.tocoo()
    values = np.asarray(B[p.row, plan.colours[p.col]])
    H = sp.csr_matrix((values, (p.row, p.col)), shape=op.shape)
    return ((H + H.T) * 0.5).tocsr()
