"""Batching rules: each primitive applied to a whole batch in one call.

A rule `rule(vals, batched, params)` gets the arguments with the batch axis
at 0 where `batched[i]` is true and returns the batched output (batch axis
at 0). Most rules only move that axis out of the way: elementwise ops align
it by inserting length-1 axes so broadcasting pairs examples correctly;
reductions and shape ops shift the axes they name by one; reshape and
broadcast_to prepend the batch size; indexing prepends a full slice (an
arange when the index arrays themselves are batched). A
primitive with no rule here is applied example by example and stacked
(`chainrule.core.batch.loop_batch`), so primitives added later still batch.

`install()` attaches the rules (`prim.batch = rule`) to every registered
primitive that has none yet; it runs again whenever new primitives appear.

Example:
    >>> import numpy as np
    >>> from chainrule.core.primitive import UFUNCS
    >>> install()
    >>> UFUNCS[np.add].batch([np.ones((4, 3)), np.ones(3)], [True, False], {}).shape
    (4, 3)
"""

import string

import numpy as np

from ..core.primitive import PRIMITIVES, UFUNCS
from ..core.trace import raw
from .indexing import ARRAY


def _size(vals, batched):
    return next(np.shape(v)[0] for v, b in zip(vals, batched) if b)


def _lift(v, k, nd):
    """Batched v of per-example rank k as (B, 1, ..., 1, *shape) of rank 1 + nd,
    so that NumPy broadcasting lines up examples with per-example values."""
    if k == nd:
        return v
    s = np.shape(v)
    return np.reshape(v, s[:1] + (1,) * (nd - k) + s[1:])


# ---- elementwise: broadcasting with the batch axis lined up ----
def elementwise_rule(prim):
    """The rule of a primitive that broadcasts its arguments element by element."""
    def rule(vals, batched, params):
        ranks = [np.ndim(v) - b for v, b in zip(vals, batched)]
        nd = max(ranks)
        vals = [_lift(v, k, nd) if b else v for v, b, k in zip(vals, batched, ranks)]
        return prim(*vals, **params)
    return rule


# ---- axes named in params: shift by one past the batch axis ----
def _shift(axis):
    """Non-negative axes move one place right; negative ones count from the
    end, which the batch axis does not change."""
    if isinstance(axis, (tuple, list)):
        return type(axis)(_shift(a) for a in axis)
    return axis + 1 if axis >= 0 else axis


def axis_rule(prim, *keys):
    """The rule of a one-array primitive acting along the axes named by the
    params `keys` (ints or tuples of ints, never None)."""
    def rule(vals, batched, params):
        params = dict(params)
        for key in keys:
            params[key] = _shift(params[key])
        return prim(*vals, **params)
    return rule


def _reshape_rule(prim):
    def rule(vals, batched, params):
        (x,) = vals
        return prim(x, shape=np.shape(x)[:1] + tuple(params["shape"]))
    return rule


def _broadcast_to_rule(prim):
    def rule(vals, batched, params):
        (x,) = vals
        shape = tuple(params["shape"])
        x = _lift(x, np.ndim(x) - 1, len(shape))
        return prim(x, shape=np.shape(x)[:1] + shape)
    return rule


def _transpose_rule(prim):
    def rule(vals, batched, params):
        return prim(vals[0], axes=(0,) + tuple(a + 1 for a in params["axes"]))
    return rule


# ---- indexing: a full slice for the batch axis, or an arange ----
def _advanced(template):
    """Positions of the advanced entries of an index template: its arrays,
    and its ints when there are arrays (NumPy then treats them alike)."""
    has_arrays = any(i is ARRAY for i in template)
    return [p for p, i in enumerate(template)
            if i is ARRAY or (has_arrays and isinstance(i, (int, np.integer)))]


def _batched_index(template, arrays):
    """`(slice(None),) + template`, and where its result has the batch axis.

    NumPy puts the dimensions of advanced indices first when slices (or
    None, or ...) separate them, which pushes the batch axis behind them.
    """
    adv = _advanced(template)
    pos = 0
    if adv and adv[-1] - adv[0] + 1 != len(adv):
        pos = len(np.broadcast_shapes(*[np.shape(a) for a in arrays]))
    return (slice(None),) + tuple(template), pos


def _examples_index(template, arrays, batched, size, ndim):
    """The index taking example b's own index arrays from example b, for index
    arrays that differ between examples: an arange over the batch joins the
    advanced indices, each batched array lined up behind it.

    Returns `(template, arrays, q, k)`: the batched result has the batch axis,
    then the k broadcast dimensions of the advanced indices, then the rest;
    one example's result has those k dimensions after its first q (NumPy
    keeps advanced dimensions in place when nothing separates them).
    """
    adv = _advanced(template)
    k = len(np.broadcast_shapes(*[np.shape(a)[int(b):] for a, b in zip(arrays, batched)]))
    arrays = [np.reshape(a, np.shape(a)[:1] + (1,) * (k + 1 - np.ndim(a)) + np.shape(a)[1:])
              if b else a for a, b in zip(arrays, batched)]
    batch = np.reshape(np.arange(size), (size,) + (1,) * k)
    q = 0
    if adv[-1] - adv[0] + 1 == len(adv):  # one block: it stays where it is in one example
        used = sum(1 for i in template if i is not None and i is not Ellipsis)
        q = sum(ndim - used if i is Ellipsis else 1 for i in template[:adv[0]])
    return (ARRAY,) + tuple(template), [batch] + arrays, q, k


def _getitem_rule(prim):
    def rule(vals, batched, params):
        x, arrays = vals[0], vals[1:]
        if not any(batched[1:]):
            template, pos = _batched_index(params["index"], arrays)
            out = prim(x, *arrays, index=template)
            return np.moveaxis(out, pos, 0) if pos else out
        size = _size(vals, batched)
        nd = np.ndim(x) - batched[0]
        if not batched[0]:
            x = np.broadcast_to(x, (size,) + np.shape(x))
        template, arrays, q, k = _examples_index(params["index"], arrays, batched[1:], size, nd)
        out = prim(x, *arrays, index=template)
        if q:  # the advanced dimensions back behind the first q of one example
            out = np.moveaxis(out, tuple(range(1, 1 + k)), tuple(range(1 + q, 1 + q + k)))
        return out
    return rule


def _scatter_add_rule(prim):
    def rule(vals, batched, params):
        g, arrays = vals[0], vals[1:]
        shape = tuple(params["shape"])
        size = _size(vals, batched)
        if not batched[0]:
            g = np.broadcast_to(g, (size,) + np.shape(g))
        if not any(batched[1:]):
            template, pos = _batched_index(params["index"], arrays)
            if pos:
                g = np.moveaxis(g, 0, pos)
            return prim(g, *arrays, index=template, shape=(size,) + shape)
        template, arrays, q, k = _examples_index(params["index"], arrays, batched[1:], size,
                                                 len(shape))
        if q:
            g = np.moveaxis(g, tuple(range(1 + q, 1 + q + k)), tuple(range(1, 1 + k)))
        return prim(g, *arrays, index=template, shape=(size,) + shape)
    return rule


# ---- matmul: one big product where a single operand is batched ----
def _matmul_rule(prim):
    def rule(vals, batched, params):
        x, y = vals
        bx, by = batched
        xn, yn = np.ndim(x) - bx, np.ndim(y) - by
        if bx and not by and yn <= 2:
            if xn == 1 and yn == 2:
                d = _diagonal(x, y)
                if d is not None:  # row b of the basis-like batch picks row b of y
                    return np.expand_dims(d, 1) * y
            if xn >= 2 and yn == 2:  # (B, ..., m, n) @ (n, k) as one (B*...*m, n) @ (n, k)
                s = np.shape(x)
                rows = int(np.prod(s[:-1], dtype=np.int64))
                return np.reshape(prim(np.reshape(x, (rows, s[-1])), y), s[:-1] + np.shape(y)[-1:])
            return prim(x, y)  # (B, n) @ (n, k) or (B, ..., n) @ (n,): already one product
        if by and not bx and xn <= 2:
            s = np.shape(y)
            ncols = int(np.prod(s[:-2], dtype=np.int64)) * s[-1] if yn >= 2 else s[0]
            if xn == 2 and np.shape(x)[0] > ncols:
                return _matmul_from_the_right(prim, x, y, yn)
            if yn == 1 and xn == 2:
                d = _diagonal(y, x)
                if d is not None:  # example b of the basis-like batch picks column b of x
                    return np.swapaxes(x * d, 0, 1)
            if yn == 1:  # x @ y_b for all b at once: x @ (n, B), batch axis moved to the front
                return np.moveaxis(prim(x, np.swapaxes(y, 0, 1)), -1, 0)
            # (B, ..., n, k): put n first and multiply once
            cols = np.reshape(np.moveaxis(y, -2, 0), (s[-2], ncols))
            out = prim(x, cols)
            if xn == 1:
                return np.reshape(out, s[:-2] + s[-1:])
            return np.moveaxis(np.reshape(out, np.shape(x)[:1] + s[:-2] + s[-1:]), 0, -2)
        # General case: promote vectors to matrices as matmul does, line up
        # the batch axes like broadcasting ones, multiply, drop the promotion.
        xm = x if xn >= 2 else np.expand_dims(x, -2)
        ym = y if yn >= 2 else np.expand_dims(y, -1)
        nd = max(xn, yn, 2)
        xm = _lift(xm, max(xn, 2), nd) if bx else xm
        ym = _lift(ym, max(yn, 2), nd) if by else ym
        out = prim(xm, ym)
        s = np.shape(out)
        rows = s[-2:-1] if xn >= 2 else ()
        cols = s[-1:] if yn >= 2 else ()
        return np.reshape(out, s[:-2] + rows + cols)
    return rule


def _diagonal(v, other):
    """The diagonal of v when v, a batch of vectors (B, n) with B = n, is a
    diagonal matrix (the basis that jacfwd and jacrev push through, times
    elementwise factors), else None. Then the batched product with `other`
    is a broadcast product instead of a matrix product, as a hand-written
    Jacobian multiplies diag(d) W as d[:, None] * W. Exact: the count of
    nonzeros (NaN counts) decides. Costs O(n^2) next to the product's O(n^2 m).

    Example:
        >>> _diagonal(np.diag([2.0, 3.0]), np.ones((2, 4)))
        array([2., 3.])
        >>> _diagonal(np.ones((2, 2)), np.ones((2, 4))) is None
        True
    """
    if type(v) is not np.ndarray or v.ndim != 2 or v.shape[0] != v.shape[1] or v.shape[0] < 2:
        return None
    if v.dtype.kind not in "fc" or np.result_type(raw(other)).kind not in "fc":
        return None
    if v[0, 1] != 0 or v[-1, 0] != 0:  # a dense batch: rejected at once
        return None
    d = np.diagonal(v)
    if np.count_nonzero(v) != np.count_nonzero(d):
        return None
    return d


def _matmul_from_the_right(prim, x, y, yn):
    """x (m, n) @ y_b for every example b as one product y_b^T x^T: rows
    (B * ... * k, n) @ (n, m). Used when x has more rows m than the batch
    has columns: OpenBLAS's Skylake-X kernels are markedly slower for a
    product whose output has few columns, such as (2000, 200) @ (200, 10),
    than for its transpose (10, 200) @ (200, 2000), the order in which a
    hand-written reverse-mode Jacobian of a wide layer multiplies (the
    Haswell kernels differ less: which kernel OpenBLAS picks depends on the
    CPU and on $OPENBLAS_CORETYPE)."""
    if yn == 1:  # (B, n) @ (n, m): already the batch in front
        return prim(y, np.swapaxes(x, 0, 1))
    s = np.shape(y)  # (B, ..., n, k) -> (B * ... * k, n) rows
    nrows = int(np.prod(s[:-2], dtype=np.int64)) * s[-1]
    rows = np.reshape(np.swapaxes(y, -1, -2), (nrows, s[-2]))
    out = prim(rows, np.swapaxes(x, 0, 1))
    return np.swapaxes(np.reshape(out, s[:-2] + s[-1:] + np.shape(x)[:1]), -1, -2)


# ---- several arrays joined along an axis ----
def _concatenate_rule(prim):
    def rule(vals, batched, params):
        size = _size(vals, batched)
        vals = [v if b else np.broadcast_to(v, (size,) + np.shape(v)) for v, b in zip(vals, batched)]
        return prim(*vals, axis=_shift(params["axis"]))
    return rule


# ---- einsum: the batch axis is one more label, kept in the output ----
def _einsum_rule(prim):
    def rule(vals, batched, params):
        subscripts = params["subscripts"]
        label = next(c for c in string.ascii_letters if c not in subscripts)
        inputs, output = subscripts.split("->")
        inputs = [label + s if b else s for s, b in zip(inputs.split(","), batched)]
        return prim(*vals, **dict(params, subscripts=",".join(inputs) + "->" + label + output))
    return rule


# ---- linear algebra: NumPy's linalg already maps over leading axes ----
def stacked_rule(prim):
    """The rule of a one-matrix primitive that works on stacks of matrices."""
    def rule(vals, batched, params):
        return prim(*vals, **params)
    return rule


def _solve_rule(prim):
    # Line up the stack axes of a and b as for matmul; a 1-D b (a single
    # right-hand side) becomes a column first, since NumPy reads a 2-D b as
    # a matrix of right-hand sides.
    def rule(vals, batched, params):
        (a, b), (ba, bb) = vals, batched
        an, bn = np.ndim(a) - ba, np.ndim(b) - bb
        bm = np.expand_dims(b, -1) if bn == 1 else b
        nd = max(an, bn, 2)
        a = _lift(a, an, nd) if ba else a
        bm = _lift(bm, max(bn, 2), nd) if bb else bm
        out = prim(a, bm, **params)
        return np.squeeze(out, -1) if bn == 1 else out
    return rule


# ---- the table: primitive name -> rule maker ----
# fmt: off
RULES = {
    "sum":          lambda p: axis_rule(p, "axis"),
    "reshape":      _reshape_rule,
    "broadcast_to": _broadcast_to_rule,
    "transpose":    _transpose_rule,
    "getitem":      _getitem_rule,
    "scatter_add":  _scatter_add_rule,
    "matmul":       _matmul_rule,
    "amax":         lambda p: axis_rule(p, "axis"),
    "cumsum":       lambda p: axis_rule(p, "axis"),
    "concatenate":  _concatenate_rule,
    "einsum":       _einsum_rule,
    "solve":        _solve_rule,
    "inv":          stacked_rule,
    "det":          stacked_rule,
    "slogdet":      stacked_rule,
    "cholesky":     stacked_rule,
    "eigh":         stacked_rule,
    "svd":          stacked_rule,
    "qr":           stacked_rule,
    "pinv":         stacked_rule,
    "isclose":      elementwise_rule,
    "where":        elementwise_rule,
    "real":         elementwise_rule,
    "imag":         elementwise_rule,
    "astype":       elementwise_rule,
    "astype_int":   elementwise_rule,
}
# fmt: on

_installed = [0]  # number of primitives seen by the last install()


def install():
    """Attach batching rules to the registered primitives that lack one."""
    if _installed[0] == len(PRIMITIVES) + len(UFUNCS):
        return
    for ufunc, prim in UFUNCS.items():
        if prim.batch is None and ufunc.signature is None:  # gufuncs (matmul) are not elementwise
            prim.batch = elementwise_rule(prim)
    for name, prim in PRIMITIVES.items():
        if prim.batch is not None:
            continue
        if name in RULES:
            prim.batch = RULES[name](prim)
        elif getattr(prim, "elementwise", False):
            prim.batch = elementwise_rule(prim)
    _installed[0] = len(PRIMITIVES) + len(UFUNCS)


install()
