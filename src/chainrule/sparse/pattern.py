"""Jacobian sparsity patterns of traced graphs, by index-set propagation.

Each Var that depends on the differentiated inputs carries the set of input
elements each of its elements may depend on: a boolean sparse matrix of
shape (its size, number of inputs). An equation's output pattern is the
union over its inputs k of `local_k @ pattern_k` (rules.py gives `local_k`).
Vars that do not depend on the inputs have known values (constants, index
arrays), computed on the way; they make indexing and matmul patterns exact.

The result is a superset of the true pattern: never a missing nonzero.

Example:
    >>> import numpy as np
    >>> from chainrule.graph import trace
    >>> g = trace(lambda x: x[1:] - x[:-1], np.zeros(4))
    >>> graph_pattern(g).toarray().astype(int)
    array([[1, 1, 0, 0],
           [0, 1, 1, 0],
           [0, 0, 1, 1]])
"""

import warnings

import numpy as np

from ..core.errors import ChainruleError
from ..graph.ir import Lit, Var, reads, substitute
from .rules import DENSE, local_pattern

MAX_DENSE_ENTRIES = 50_000_000  # a conservative pattern larger than this is refused


class PatternTooLargeError(ChainruleError, MemoryError):
    """A conservative (dense) pattern would not fit in memory."""


def _bool(m):
    m = m.tocsr()
    m.data = np.ones(m.data.size, bool)
    m.eliminate_zeros()
    return m


def _dense_rows(n_rows, cols, n_in):
    from . import require_scipy
    sp = require_scipy()
    if n_rows * cols.size > MAX_DENSE_ENTRIES:
        raise PatternTooLargeError(
            f"the conservative sparsity pattern ({n_rows} x {cols.size} nonzeros) is too large")
    indptr = np.arange(n_rows + 1, dtype=np.int64) * cols.size
    return sp.csr_matrix((np.ones(n_rows * cols.size, bool), np.tile(cols, n_rows), indptr),
                         shape=(n_rows, n_in))


def _differentiable(v):
    return np.dtype(v.dtype).kind in "fc"


def graph_pattern(graph, wrt=None):
    """The boolean sparse Jacobian pattern of the graph's outputs (laid end to
    end) by the inputs listed in `wrt` (default: all, laid end to end)."""
    from . import require_scipy
    sp = require_scipy()
    wrt = list(graph.inputs) if wrt is None else list(wrt)
    n_in = sum(v.size for v in wrt)
    pats, start = {}, 0
    for v in wrt:
        pats[v] = sp.csr_matrix((np.ones(v.size, bool), (np.arange(v.size), start + np.arange(v.size))),
                                shape=(v.size, n_in))
        start += v.size
    known = dict(graph.consts)
    for v in graph.inputs:
        if v not in pats:
            known[v] = None  # an input not differentiated: value unknown, pattern zero

    for e in graph.eqns:
        traced = [k for k, a in enumerate(e.inputs) if isinstance(a, Var) and a in pats]
        if not traced and not any(v in pats for v in reads(e)):
            _evaluate(e, known)
            continue
        in_params = len(traced) < sum(v in pats for v in reads(e))
        if in_params or e.multiple or len(e.outputs) != 1:  # a traced param, or several outputs
            outs = _conservative(e, pats, n_in)
        else:
            outs = [_propagate(e, traced, pats, known, n_in)]
        for v, p in zip(e.outputs, outs):
            if p is not None and _differentiable(v):
                pats[v] = p

    rows = []
    for o in graph.outputs:
        size = o.size if isinstance(o, Var) else 1
        p = pats.get(o) if isinstance(o, Var) else None
        rows.append(sp.csr_matrix((size, n_in), dtype=bool) if p is None else p)
    return _bool(sp.vstack(rows, format="csr")) if rows else sp.csr_matrix((0, n_in), dtype=bool)


def _propagate(e, traced, pats, known, n_in):
    from . import require_scipy
    sp = require_scipy()
    out = e.outputs[0]
    total = None
    for k in traced:
        try:
            local = local_pattern(e, k, known)
        except Exception:  # a rule that cannot read this case: be conservative
            local = DENSE
        if local is None:
            continue
        if local is DENSE:
            return _conservative(e, pats, n_in)[0]
        term = _bool(local.tocsr().astype(np.int64) @ pats[e.inputs[k]].astype(np.int64))
        total = term if total is None else total + term
    if total is None:
        return sp.csr_matrix((out.size, n_in), dtype=bool)
    return _bool(total)


def _conservative(e, pats, n_in):
    """Every output element depends on every input element any operand depends on."""
    cols = np.unique(np.concatenate([pats[v].indices for v in reads(e) if v in pats] or [[]])
                     ).astype(np.int64)
    return [_dense_rows(v.size, cols, n_in) for v in e.outputs]


def _evaluate(e, known):
    """Values of an equation that does not depend on the inputs, when its
    operands are known (None when not)."""
    vals = []
    for a in e.inputs:
        if isinstance(a, Lit):
            vals.append(a.value)
        elif known.get(a) is None:
            for v in e.outputs:
                known[v] = None
            return
        else:
            vals.append(known[a])
    try:
        params = {k: substitute(p, known) for k, p in e.params.items()}
        if any(isinstance(p, Var) for p in _flat(params.values())):
            raise ValueError
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ans = e.prim.impl(*vals, **params)
    except Exception:
        ans = [None] * len(e.outputs) if e.multiple else None
    if e.multiple:
        for v, a in zip(e.outputs, ans):
            known[v] = a
    else:
        known[e.outputs[0]] = ans


def _flat(values):
    for v in values:
        if isinstance(v, (tuple, list)):
            yield from _flat(v)
        else:
            yield v
