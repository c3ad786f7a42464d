"""Local structural Jacobians: which input elements each output element of
one primitive can depend on.

`local_pattern(eqn, k, known)` is a boolean `scipy.sparse` matrix of shape
(output size, size of input k), or `DENSE` when the primitive is not known
here (every output element may then depend on every input element: the
conservative answer). `known` maps Vars whose values do not depend on the
differentiated inputs (constants, index arrays computed from them) to their
values; index arrays and matmul operands with known values give exact
patterns, unknown ones the conservative union.

The patterns come from the primitive's own impl run on arrays of element
numbers (a reshape, transpose, slice or concatenation of numbered elements
says where each output element comes from), from the axes of reductions,
and from the zero structure of known matmul operands. Nothing of the
function is evaluated numerically.

Example:
    >>> import numpy as np
    >>> from chainrule.graph import trace
    >>> e = trace(lambda x: x[1:], np.zeros(3)).eqns[0]
    >>> local_pattern(e, 0, {}).toarray().astype(int)
    array([[0, 1, 0],
           [0, 0, 1]])
"""

import numpy as np

from ..graph.ir import Lit, Var

DENSE = "dense"


def _sparse():
    from . import require_scipy
    return require_scipy()


def selection(rows, cols, shape):
    """The boolean matrix with ones at (rows[i], cols[i])."""
    sp = _sparse()
    rows, cols = np.ravel(rows), np.ravel(cols)
    return sp.csr_matrix((np.ones(rows.size, bool), (rows, cols)), shape=shape)


def _numbers(v):
    return np.arange(v.size, dtype=np.int64).reshape(v.shape)


def _value(a, known):
    if isinstance(a, Lit):
        return a.value
    return known.get(a)


# --------------------------------------------------------------------------
# families

def _elementwise(e, k, known):
    """Output element i reads input k at i's broadcast position."""
    v, out = e.inputs[k], e.outputs[0]
    src = np.broadcast_to(_numbers(v), out.shape)
    return selection(np.arange(out.size), src, (out.size, v.size))


def _moving(e, k, known):
    """Data movement (reshape, transpose, broadcast, slicing, indexing): the
    impl run on element numbers says which input element each output is."""
    args = []
    for j, a in enumerate(e.inputs):
        if j == k:
            args.append(_numbers(a))
        elif j == 0:
            return DENSE
        else:
            val = _value(a, known)
            if val is None:
                return DENSE  # an index array that depends on the inputs
            args.append(val)
    src = e.prim.impl(*args, **_params(e, known))
    out = e.outputs[0]
    return selection(np.arange(out.size), np.broadcast_to(src, out.shape), (out.size, e.inputs[k].size))


def _concatenate(e, k, known):
    out = e.outputs[0]
    offsets = np.cumsum([0] + [a.size if isinstance(a, Var) else 1 for a in e.inputs])
    parts = [_numbers(a) + offsets[j] if isinstance(a, Var) else np.asarray(-1)
             for j, a in enumerate(e.inputs)]
    src = np.ravel(e.prim.impl(*parts, **e.params))
    rows = np.flatnonzero((src >= offsets[k]) & (src < offsets[k + 1]))
    return selection(rows, src[rows] - offsets[k], (out.size, e.inputs[k].size))


def _scatter_add(e, k, known):
    """Entry j of the values goes to the output positions that `index` names."""
    if k != 0:
        return DENSE
    arrays = [_value(a, known) for a in e.inputs[1:]]
    if any(a is None for a in arrays):
        return DENSE
    from ..rules.indexing import fill
    out, vals = e.outputs[0], e.inputs[0]
    index = fill(e.params["index"], arrays) if arrays else e.params["index"]
    dest = np.arange(out.size, dtype=np.int64).reshape(e.params["shape"])[index]
    src = np.broadcast_to(_numbers(vals), np.shape(dest))
    return selection(np.ravel(dest), np.ravel(src), (out.size, vals.size))


def _reduction(e, k, known):
    """Output element i depends on every input element reduced into it."""
    v, out = e.inputs[0], e.outputs[0]
    if k != 0:
        return DENSE
    axis = e.params.get("axis")
    axes = tuple(range(v.ndim)) if axis is None else tuple(
        a % v.ndim for a in ((axis,) if np.isscalar(axis) else axis))
    kept = tuple(1 if d in axes else n for d, n in enumerate(v.shape))
    dest = np.broadcast_to(np.arange(out.size, dtype=np.int64).reshape(kept), v.shape)
    return selection(dest, _numbers(v), (out.size, v.size))


def _cumsum(e, k, known):
    """Along the axis, output i depends on inputs 0..i."""
    v, out = e.inputs[0], e.outputs[0]
    axis = e.params.get("axis")
    if axis is None or v.ndim == 0:
        idx = np.arange(v.size)
        r, c = np.tril_indices(v.size)
        return selection(idx[r], idx[c], (out.size, v.size))
    num = np.moveaxis(_numbers(v), axis, -1)
    n = num.shape[-1]
    rows, cols = [], []
    for d in range(n):  # output lag d: position i reads i - d
        rows.append(num[..., d:].ravel())
        cols.append(num[..., :n - d].ravel())
    if not rows:
        return selection([], [], (out.size, v.size))
    return selection(np.concatenate(rows), np.concatenate(cols), (out.size, v.size))


def _nonzero(a, known, shape):
    val = _value(a, known)
    if val is None:
        return np.ones(shape, bool)
    return np.broadcast_to(np.asarray(val) != 0, shape)


def _matmul(e, k, known):
    """x @ y: out[i, j] reads x[i, l] where y[l, j] may be nonzero, and
    y[l, j] where x[i, l] may be nonzero (unknown operands: all of them)."""
    sp = _sparse()
    x, y = e.inputs
    out = e.outputs[0]
    xs, ys = np.shape(_value(x, known)) if isinstance(x, Lit) else x.shape, \
        np.shape(_value(y, known)) if isinstance(y, Lit) else y.shape
    if len(xs) > 2 or len(ys) > 2 or len(xs) == 0 or len(ys) == 0:
        return _matmul_batched(e, k, known, xs, ys)
    xs2 = (1,) + xs if len(xs) == 1 else xs  # (m, l)
    ys2 = ys + (1,) if len(ys) == 1 else ys  # (l, n)
    m, n = xs2[0], ys2[1]
    if k == 0:  # rows (i, j), columns (i, l): I_m kron nz(y)^T
        other = sp.csr_matrix(_nonzero(y, known, ys).reshape(ys2).T)
        return sp.kron(sp.identity(m, dtype=bool, format="csr"), other, format="csr").astype(bool)
    other = sp.csr_matrix(_nonzero(x, known, xs).reshape(xs2))  # rows (i, j), columns (l, j)
    return sp.kron(other, sp.identity(n, dtype=bool, format="csr"), format="csr").astype(bool)


def _matmul_batched(e, k, known, xs, ys):
    """Stacks of matrices: enumerate (batch, i, j, l) with broadcasting."""
    out = e.outputs[0]
    x, y = e.inputs
    if len(xs) == 0 or len(ys) == 0:
        return _elementwise(e, k, known)
    xe = xs if len(xs) > 1 else (1,) + xs
    ye = ys if len(ys) > 1 else ys + (1,)
    bshape = np.broadcast_shapes(xe[:-2], ye[:-2])
    full = bshape + (xe[-2], ye[-1])
    onum = np.arange(out.size, dtype=np.int64).reshape(full)[..., :, :, None]
    if k == 0:
        num = _numbers(x).reshape(xe)[..., :, None, :]  # (.., i, 1, l)
        mask = np.swapaxes(_nonzero(y, known, ys).reshape(ye), -1, -2)[..., None, :, :]
        size = x.size
    else:
        num = np.swapaxes(_numbers(y).reshape(ye), -1, -2)[..., None, :, :]  # (.., 1, j, l)
        mask = _nonzero(x, known, xs).reshape(xe)[..., :, None, :]
        size = y.size
    shape = np.broadcast_shapes(onum.shape, num.shape, mask.shape)
    mask = np.broadcast_to(mask, shape)
    return selection(np.broadcast_to(onum, shape)[mask], np.broadcast_to(num, shape)[mask],
                     (out.size, size))


def _where(e, k, known):
    """Elementwise in x and y; with a known condition, x only where it holds
    and y only where it does not (np.tril, np.triu, masks)."""
    if k == 0:
        return None  # the condition carries no derivative
    pattern = _elementwise(e, k, known)
    cond = _value(e.inputs[0], known)
    if cond is None:
        return pattern
    taken = np.broadcast_to(np.asarray(cond, bool), e.outputs[0].shape).ravel()
    keep = taken if k == 1 else ~taken
    _sparse()
    return (pattern.multiply(keep[:, None])).tocsr()


def _params(e, known):
    from ..graph.ir import substitute
    return {name: substitute(p, known) for name, p in e.params.items()}


# fmt: off
RULES = {
    "reshape":      _moving,
    "transpose":    _moving,
    "broadcast_to": _moving,
    "getitem":      _moving,
    "concatenate":  _concatenate,
    "scatter_add":  _scatter_add,
    "sum":          _reduction,
    "amax":         _reduction,
    "cumsum":       _cumsum,
    "matmul":       _matmul,
    "where":        _where,
    "astype":       _elementwise,
    "real":         _elementwise,
    "imag":         _elementwise,
    "conjugate":    _elementwise,
}
# fmt: on


def local_pattern(eqn, k, known):
    """The structural Jacobian of eqn's (single) output by its input k:
    a boolean sparse matrix, `DENSE`, or None for no dependence."""
    prim = eqn.prim
    if not prim.differentiable:
        return None
    rule = RULES.get(prim.name)
    if rule is None and getattr(prim, "elementwise", False):
        rule = _elementwise
    if rule is None or eqn.multiple or len(eqn.outputs) != 1:
        return DENSE
    return rule(eqn, k, known)
