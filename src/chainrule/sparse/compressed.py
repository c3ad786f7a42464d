"""Sparse Jacobians and Hessians by compression: detect the pattern, colour
it, evaluate one directional derivative per colour (all colours in one
batched pass), and read each nonzero out of the compressed matrix.

Patterns and colourings are cached per function, argument shapes and
dtypes. A call reuses the latest one without tracing the function while a
`chainrule.captures.Snapshot` of what the function captured (closures,
globals, attributes, the arguments not differentiated) holds; otherwise it
re-traces the function (shapes only) and reuses a cached pattern only when
the graph and its constants are the same, so a closure whose captured
arrays changed never gets a stale pattern.

Example:
    >>> import numpy as np
    >>> f = lambda x: np.sum(x[1:] ** 2 * x[:-1])
    >>> sparse_hessian(f)(np.ones(4)).toarray()
    array([[0., 2., 0., 0.],
           [2., 2., 2., 0.],
           [0., 2., 2., 2.],
           [0., 0., 2., 2.]])
"""

import hashlib
import warnings
import weakref
from dataclasses import dataclass

import numpy as np

from ..core.box import Box
from ..core.errors import ChainruleError, NonDifferentiableInputError, UnsupportedOptionError
from . import require_scipy
from .colouring import column_colouring, recoverable, row_colouring, star_colouring


@dataclass
class Compression:
    """A pattern (m x n) with how to evaluate it: `mode` is "columns" (one
    JVP per colour), "rows" (one VJP per colour) or "star" (one
    Hessian-vector product per colour, symmetric recovery); `colours` of
    the columns (rows for "rows"); `rows`, `cols` of the stored entries and
    where each is read in the compressed matrix (`at_row`, `at_colour`)."""

    pattern: object
    mode: str
    colours: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    at_row: np.ndarray
    at_colour: np.ndarray

    @property
    def ncolours(self):
        return int(self.colours.max()) + 1 if self.colours.size else 0


# fun -> {(kind, argnums, signature): [(fingerprint, Compression or pattern)]}
_CACHE = weakref.WeakKeyDictionary()
_BY_ID = {}  # for functions that cannot be weakly referenced


def _entries(pattern):
    p = pattern.tocsr()
    p.sort_indices()
    return np.repeat(np.arange(p.shape[0]), np.diff(p.indptr)), p.indices.astype(np.int64)


def compress_jacobian(pattern, allow_rows=True):
    """The cheaper of column and row compression of a Jacobian pattern."""
    rows, cols = _entries(pattern)
    cc = column_colouring(pattern)
    p = pattern.tocsc()
    row_bound = int(np.diff(p.indptr).max()) if p.shape[1] else 0  # the densest column
    if allow_rows and pattern.shape[0] > 0 and cc.size and row_bound < cc.max() + 1:
        rc = row_colouring(pattern)
        if rc.size and (not cc.size or rc.max() < cc.max()):
            return Compression(pattern, "rows", rc, rows, cols, cols, rc[rows])
    return Compression(pattern, "columns", cc, rows, cols, rows, cc[cols] if cc.size else cols)


def compress_hessian(pattern, symmetric=True):
    """Star colouring of a symmetric pattern, or distance-2 colouring when
    that needs no more colours (its recovery is direct) or when the values
    are not symmetric (complex arguments)."""
    rows, cols = _entries(pattern)
    plain = column_colouring(pattern)
    star = star_colouring(pattern) if symmetric else plain
    if star.size and star.max() < plain.max():
        direct = recoverable(pattern, star)
        mirror_ok = _mirror_ok(pattern, star, rows, cols, direct)
        if mirror_ok is not None:
            at_row = np.where(direct, rows, cols)
            at_colour = np.where(direct, star[cols], star[rows])
            return Compression(pattern, "star", star, rows, cols, at_row, at_colour)
    return Compression(pattern, "columns", plain, rows, cols, rows, plain[cols] if plain.size else cols)


def _mirror_ok(pattern, colours, rows, cols, direct):
    """Entries not readable in their row must be readable in the mirrored one."""
    if direct.all():
        return True
    sp = require_scipy()
    key = {(int(r), int(c)): d for r, c, d in zip(rows, cols, direct)}
    for r, c, d in zip(rows, cols, direct):
        if not d and not key.get((int(c), int(r)), False):
            return None
    return sp is not None


# --------------------------------------------------------------------------
# tracing and caching

def _fingerprint(graph):
    h = hashlib.blake2b(str(graph).encode(), digest_size=16)
    for v, value in graph.consts.items():
        a = np.ascontiguousarray(value)
        h.update(repr((a.shape, a.dtype.str)).encode())
        h.update(a.tobytes() if a.dtype != object else repr(a).encode())
    for e in graph.eqns:
        for p in e.params.values():
            if isinstance(p, np.ndarray):
                h.update(np.ascontiguousarray(p).tobytes())
    return h.digest()


def _cache_for(fun):
    try:
        return _CACHE.setdefault(fun, {})
    except TypeError:
        return _BY_ID.setdefault(id(fun), {})


def _signature(args):
    from ..core.tree import tree_flatten
    leaves, tree = tree_flatten(list(args))
    sig = []
    for x in leaves:
        if isinstance(x, (np.ndarray, np.generic, float, complex)) and not isinstance(x, bool):
            sig.append((np.shape(x), np.result_type(x).str))
        else:
            try:
                hash(x)
                sig.append(("static", x))
            except TypeError:
                sig.append(("object", id(x)))
    return (tree, tuple(sig))


def _restricted(fun, args, argnums, kind, holomorphic=False):
    """fun (or its gradient, for Hessians) as a function of one array x, and
    x: the argument itself for an int argnums naming one array, else the
    differentiated arrays raveled and laid end to end (a tuple argnums, a
    nested argument). Outputs are raveled and laid end to end too, in
    `tree_flatten` order, so the Jacobian is one (out.size, x.size) matrix."""
    from ..api import grad
    from ..core.tree import tree_flatten, tree_unflatten
    from ..jacobians import _restrict
    single = isinstance(argnums, (int, np.integer))
    nums = (int(argnums),) if single else tuple(argnums)
    if not nums:
        raise UnsupportedOptionError("sparse=True needs at least one argument to differentiate")
    leaves_all = tree_flatten(list(args))[0]
    if any(isinstance(a, Box) or type(a).__name__ == "SymbolicValue" for a in leaves_all):
        raise UnsupportedOptionError(
            "sparse=True returns a scipy.sparse matrix and runs on concrete arrays only; it "
            "cannot be differentiated, vmapped or compiled (use the dense jacfwd, jacrev or "
            "hessian there)")
    f, primals = _restrict(fun, args, nums, {})
    leaves, spec = tree_flatten(primals)
    leaves = [np.asarray(v) for v in leaves]
    for v in leaves:
        if v.dtype.kind not in "fc":
            raise NonDifferentiableInputError(
                f"sparse Jacobians differentiate floating-point arrays; argument {argnums} has "
                f"dtype {v.dtype}")
    if holomorphic and any(v.dtype.kind != "c" for v in leaves):
        raise TypeError("holomorphic=True needs complex arguments; leave it out for real ones")
    if len({v.dtype for v in leaves}) > 1:
        raise UnsupportedOptionError(
            "sparse=True lays the differentiated arrays end to end in one matrix and needs them "
            f"of one dtype; got {', '.join(sorted({str(v.dtype) for v in leaves}))}")
    if single and len(leaves) == 1 and tree_unflatten(spec, [0]) == (0,):
        x, f_x = leaves[0], f
    else:
        shapes = [v.shape for v in leaves]
        x = np.concatenate([v.ravel() for v in leaves]) if leaves else np.zeros(0)

        def f_x(v):
            parts, start = [], 0
            for shape in shapes:
                n = int(np.prod(shape, dtype=np.int64))
                parts.append(np.reshape(v[start:start + n], shape))
                start += n
            return f(*tree_unflatten(spec, parts))
    if kind == "hessian":
        return grad(f_x, holomorphic=holomorphic), x

    def g(v):
        out = tree_flatten(f_x(v))[0]
        if len(out) == 1:
            return np.reshape(out[0], (-1,))
        if not out:
            raise UnsupportedOptionError(
                "sparse=True needs a function returning arrays; this one returns none")
        return np.concatenate([np.reshape(o, (-1,)) for o in out])
    return g, x


def _trace(g, x):
    from ..graph.trace import trace
    try:
        return trace(g, np.zeros(x.shape, x.dtype))
    except ChainruleError as err:
        return err
    except Exception as err:  # tracing met something it cannot follow
        return err


def _dense_pattern(g, x, why):
    sp = require_scipy()
    m = np.size(g(x))  # first: an error of fun's own is raised as it is, without a warning
    warnings.warn(f"the sparsity pattern could not be traced ({type(why).__name__}: {why}); "
                  "using a dense pattern", stacklevel=4)
    return sp.csr_matrix(np.ones((m, x.size), bool))


def _compression(fun, args, argnums, kind, holomorphic=False):
    """(restricted function, argument, Compression), cached."""
    from ..captures import Snapshot
    from ..jacobians import _others
    from .pattern import graph_pattern
    g, x = _restricted(fun, args, argnums, kind, holomorphic)
    cache = _cache_for(fun)
    key = (kind, argnums if isinstance(argnums, tuple) else int(argnums), holomorphic, _signature(args))
    entries = cache.get(key)
    others = _others(args, argnums)
    if entries and entries[-1][2] is not None and entries[-1][2].holds(fun, others):
        return g, x, entries[-1][1]  # nothing fun captured changed: no need to trace it
    snapshot = Snapshot.take(fun, others)  # before fun runs
    graph = _trace(g, x)
    if isinstance(graph, Exception):
        real = kind != "jacobian" or np.result_type(g(x)).kind == "f"
        return g, x, _compress(_dense_pattern(g, x, graph), kind, x, real)
    fp = _fingerprint(graph)
    entries = cache.setdefault(key, [])
    for k, (old_fp, comp, _) in enumerate(entries):
        if old_fp == fp:
            del entries[k]
            entries.append((fp, comp, snapshot))  # the latest, with what it was traced from
            return g, x, comp
    real = all(np.dtype(v.dtype).kind == "f" for v in graph.outputs if hasattr(v, "dtype"))
    if holomorphic and kind == "jacobian" and any(np.dtype(v.dtype).kind != "c" for v in graph.outputs
                                                  if hasattr(v, "dtype")):
        raise TypeError("holomorphic=True needs complex outputs; leave it out for real ones")
    comp = _compress(graph_pattern(graph), kind, x, real)
    entries.append((fp, comp, snapshot))
    del entries[:-4]
    return g, x, comp


def _compress(pattern, kind, x, real_out=True):
    if kind == "hessian":
        return compress_hessian(((pattern + pattern.T) > 0).tocsr(), symmetric=x.dtype.kind == "f")
    if kind == "jacobian":
        # rows by VJPs only for real to real: a VJP of a complex output (or
        # by a complex input) is the real-linear transpose, not a Jacobian row
        return compress_jacobian(pattern, allow_rows=x.dtype.kind == "f" and real_out)
    return pattern


# --------------------------------------------------------------------------
# evaluation

def _push_forward(g, x, seeds):
    """g's JVPs along each seeds[k] (seeds: (c,) + x.shape), in one batched pass."""
    from ..api import jvp
    from ..core.batch import BatchTrace
    from ..rules import batching
    batching.install()
    trace = BatchTrace(seeds.shape[0])
    _, t = jvp(g, (x,), (trace.box(seeds),))
    return np.reshape(trace.unbox(t), (seeds.shape[0], -1))


def _pull_back(g, x, seeds):
    """g's VJPs of each seeds[k] (seeds: (c,) + out.shape), in one batched pass."""
    from ..api import vjp
    from ..core.batch import BatchTrace
    from ..rules import batching
    batching.install()
    out, pullback = vjp(g, x)
    trace = BatchTrace(seeds.shape[0])
    ct = trace.box(np.reshape(seeds, (seeds.shape[0],) + np.shape(out)).astype(np.result_type(out)))
    (gx,) = pullback(ct)
    return np.reshape(trace.unbox(gx), (seeds.shape[0], -1))


def evaluate(g, x, comp):
    """The sparse matrix of g's Jacobian at x, from the compression."""
    sp = require_scipy()
    m, n = comp.pattern.shape
    dtype = x.dtype  # float32 stays float32, as in jacfwd
    c = comp.ncolours
    if c == 0 or comp.rows.size == 0:
        return sp.csr_matrix((m, n), dtype=dtype)
    if comp.mode == "rows":
        seeds = np.zeros((c, m), dtype)
        seeds[comp.colours, np.arange(m)] = 1
        compressed = _pull_back(g, x, seeds)  # (c, n)
        vals = compressed[comp.at_colour, comp.at_row]
    else:
        seeds = np.zeros((c, n), dtype)
        seeds[comp.colours, np.arange(n)] = 1
        compressed = _push_forward(g, x, seeds.reshape((c,) + x.shape))  # (c, m)
        vals = compressed[comp.at_colour, comp.at_row]
    return sp.csr_matrix((vals, (comp.rows, comp.cols)), shape=(m, n))


# --------------------------------------------------------------------------
# the public functions

def sparsity(fun, *args, argnums=0, hessian=False):
    """The sparsity pattern of fun's Jacobian at these argument shapes: a
    boolean `scipy.sparse` matrix (out.size, arg.size) (a tuple argnums:
    the arguments' columns end to end), True wherever an
    entry may be nonzero for some argument values (a superset of the
    nonzeros: exact for elementwise code, indexing, stencils, reductions and
    products with constant matrices; dense where unknown). With hessian=True,
    the (symmetric) pattern of the Hessian of scalar fun, (arg.size, arg.size).

    Example:
        >>> import numpy as np
        >>> sparsity(lambda x: np.cumsum(x, axis=0) * x[0], np.zeros(3)).toarray()
        array([[ True, False, False],
               [ True,  True, False],
               [ True,  True,  True]])
    """
    if hessian:
        return _compression(fun, args, argnums, "hessian")[2].pattern
    _, _, pattern = _compression(fun, args, argnums, "pattern")
    return pattern


def sparse_jacobian(fun, argnums=0, holomorphic=False):
    """Return a function computing fun's Jacobian as a `scipy.sparse` CSR
    matrix of shape (out.size, arg.size), by one batched JVP (or VJP, when
    rows need fewer colours) per colour of its sparsity pattern.

    With a tuple argnums (or a nested argument) the columns are the
    differentiated arrays raveled and laid end to end, so colours are
    shared across them; several outputs are rows end to end (tree_flatten
    order). Complex arguments: along the real directions as `jacfwd`, or
    f'(z) with holomorphic=True.

    Example:
        >>> import numpy as np
        >>> sparse_jacobian(lambda x: np.sin(x))(np.zeros(3)).toarray()
        array([[1., 0., 0.],
               [0., 1., 0.],
               [0., 0., 1.]])
    """
    def jac_fun(*args):
        g, x, comp = _compression(fun, args, argnums, "jacobian", holomorphic)
        return evaluate(g, x, comp)

    jac_fun.__name__ = f"sparse_jacobian({getattr(fun, '__name__', 'fun')})"
    return jac_fun


def sparse_hessian(fun, argnums=0, holomorphic=False):
    """Return a function computing the Hessian of scalar fun as a
    `scipy.sparse` CSR matrix (arg.size, arg.size): the pattern is that of
    the gradient's graph, star-coloured, and each colour costs one
    Hessian-vector product (forward over reverse), all in one batched pass.
    A tuple argnums gives one square matrix over the arguments laid end to
    end; holomorphic=True (complex argument and output) gives f''(z).

    Example:
        >>> import numpy as np
        >>> sparse_hessian(lambda x: np.sum(x ** 3))(np.array([1.0, 2.0])).toarray()
        array([[ 6.,  0.],
               [ 0., 12.]])
    """
    def hess_fun(*args):
        g, x, comp = _compression(fun, args, argnums, "hessian", holomorphic)
        return evaluate(g, x, comp)

    hess_fun.__name__ = f"sparse_hessian({getattr(fun, '__name__', 'fun')})"
    return hess_fun


def compression(fun, *args, argnums=0, hessian=False):
    """The cached `Compression` (pattern, mode, colours) that `sparse=True`
    uses for fun at these arguments: for inspecting colour counts.

    Example:
        >>> import numpy as np
        >>> compression(lambda x: x[1:] - x[:-1], np.zeros(6)).ncolours
        2
    """
    _, _, comp = _compression(fun, args, argnums, "hessian" if hessian else "jacobian")
    return comp
