"""Optimisation passes: each a small function graph -> graph.

* `dce`: drop equations whose outputs nobody reads (primitives are pure);
* `cse`: merge equations with the same primitive, operands and params;
* `fold_constants`: evaluate equations whose operands are all known;
* `simplify`: algebraic rewrites from the table `RULES` (double transposes,
  reshape of reshape, multiply by one, add zero, sum of a broadcast...);
* `plan_memory`: let elementwise ufuncs write into a dead input's buffer.

`optimize` runs them to a fixed point. No pass mutates its input graph.

Example:
    >>> import numpy as np
    >>> from chainrule.graph import trace
    >>> g = trace(lambda x: np.transpose(np.transpose(x)) * 1.0, np.zeros((2, 3)))
    >>> len(g.eqns), len(optimize(g).eqns)
    (3, 0)
"""

import warnings

import numpy as np

from ..core.primitive import PRIMITIVES, UFUNCS
from .ir import Eqn, Lit, Var, reads, rewired, substitute


# --------------------------------------------------------------------------
# dead-code elimination

def dce(graph):
    """Remove equations and constants that no output depends on.

    Example:
        >>> from chainrule.graph import trace
        >>> g = trace(lambda x: (np.sin(x), x)[1], 1.0)
        >>> len(g.eqns), len(dce(g).eqns)
        (1, 0)
    """
    live = {o for o in graph.outputs if isinstance(o, Var)}
    kept = []
    for e in reversed(graph.eqns):
        if any(v in live for v in e.outputs):
            kept.append(e)
            live.update(reads(e))
    consts = {v: c for v, c in graph.consts.items() if v in live}
    return graph.replace(eqns=kept[::-1], consts=consts)


# --------------------------------------------------------------------------
# common-subexpression elimination

def _key(value):
    """A hashable key equal for operands and params that compute the same."""
    if isinstance(value, Var):
        return ("var", id(value))
    if isinstance(value, Lit):
        return ("lit", _key(value.value))
    if isinstance(value, (tuple, list)):
        return (type(value),) + tuple(_key(v) for v in value)
    if isinstance(value, dict):
        return tuple((k, _key(v)) for k, v in sorted(value.items()))
    if isinstance(value, slice):
        return ("slice", _key(value.start), _key(value.stop), _key(value.step))
    if isinstance(value, np.ndarray):
        return ("array", id(value))
    if isinstance(value, (float, complex, np.inexact)):
        return (type(value), repr(value))  # 0.0 and -0.0 differ; 1 and 1.0 differ
    hash(value)
    return (type(value), value)


_SMALL_CONST = 64  # constants up to this size are merged by value


def cse(graph):
    """Merge repeated computations (and equal small constants).

    Example:
        >>> from chainrule.graph import trace
        >>> g = trace(lambda x: np.sin(x) + np.sin(x), 1.0)
        >>> len(g.eqns), len(cse(g).eqns)
        (3, 2)
    """
    env, seen, consts = {}, {}, {}
    for v, c in graph.consts.items():
        key = ("const", c.dtype.str, c.shape, c.tobytes()) if c.size <= _SMALL_CONST else None
        if key is not None and key in seen:
            env[v] = seen[key]
        else:
            consts[v] = c
            if key is not None:
                seen[key] = v
    eqns = []
    for e in graph.eqns:
        e = rewired(e, env)
        try:
            key = (e.prim.name, _key(e.inputs), _key(e.params))
        except TypeError:
            key = None
        if key is not None and key in seen:
            env.update(zip(e.outputs, seen[key].outputs))
            continue
        if key is not None:
            seen[key] = e
        eqns.append(e)
    outputs = [substitute(o, env) for o in graph.outputs]
    return graph.replace(eqns=eqns, outputs=outputs, consts=consts)


# --------------------------------------------------------------------------
# constant folding

_FOLD_BYTES = 1 << 16  # fold when the result is no bigger than this or its operands


def fold_constants(graph):
    """Evaluate equations whose operands are constants or literals; their
    outputs become constants (unless that would create a large new array).

    Work on constants captured while tracing runs eagerly then; this pass
    folds what other passes expose (a rewrite leaving only constants).

    Example:
        >>> from chainrule.graph import Eqn, Graph, Var
        >>> c, y = Var("c", (), np.dtype(float)), Var("exp", (), np.dtype(float))
        >>> g = Graph([], [Eqn(PRIMITIVES["exp"], [c], [y], {})], [y], {c: np.array(0.0)})
        >>> folded = fold_constants(g)
        >>> folded.eqns, folded.consts[y]
        ([], array(1.))
    """
    consts = dict(graph.consts)
    eqns = []
    for e in graph.eqns:
        values = _fold(e, consts)
        if values is None:
            eqns.append(e)
        else:
            consts.update(zip(e.outputs, values))
    return graph.replace(eqns=eqns, consts=consts)


def _fold(e, consts):
    """The outputs of e as arrays when all it reads is known, else None."""
    if not all(v in consts for v in reads(e)):
        return None
    args = [consts[a] if isinstance(a, Var) else a.value for a in e.inputs]
    params = {k: substitute(p, consts) for k, p in e.params.items()}
    limit = max(_FOLD_BYTES, sum(np.asarray(a).nbytes for a in args))
    if sum(v.size * v.dtype.itemsize for v in e.outputs) > limit:
        return None
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ans = e.prim.impl(*args, **params)
    except Exception:
        return None  # leave it to run time, where the error belongs
    values = [np.asarray(a) for a in (ans if e.multiple else [ans])]
    if [(a.shape, a.dtype) for a in values] != [(v.shape, v.dtype) for v in e.outputs]:
        return None
    return values


# --------------------------------------------------------------------------
# algebraic simplification

class _Rewriter:
    """What a rewrite rule sees: producers of Vars, constant values, and a
    way to emit new equations."""

    def __init__(self, consts):
        self.consts = consts
        self.producer = {}
        self.emitted = []

    def emit(self, name, inputs, out_shape, out_dtype, /, **params):
        out = Var(name, tuple(out_shape), np.dtype(out_dtype))
        e = Eqn(PRIMITIVES[name], list(inputs), [out], params)
        self.emitted.append(e)
        self.producer[out] = e
        return out

    def made_by(self, x, name):
        """The equation of primitive `name` that produced x, or None."""
        e = self.producer.get(x) if isinstance(x, Var) else None
        return e if e is not None and e.prim.name == name else None

    def is_const(self, x, value):
        """x is a literal, or a constant all of whose entries equal value."""
        if isinstance(x, Lit):
            v = x.value
            return isinstance(v, (int, float, complex, np.number)) and not isinstance(v, bool) and v == value
        c = self.consts.get(x)
        return c is not None and c.dtype != bool and bool(np.all(c == value))

    def uniform(self, x):
        """The single value of a constant array whose entries are all equal
        (as a NumPy scalar of its dtype), else None."""
        c = self.consts.get(x)
        if c is None or c.ndim == 0 or c.size == 0:
            return None
        first = c.flat[0]
        return first if first == first and bool(np.all(c == first)) else None


def _same_type(x, out):
    return isinstance(x, Var) and x.shape == out.shape and x.dtype == out.dtype


def _identity_op(neutral, positions):
    """`op(x, neutral) -> x` (neutral at one of `positions`), when x already
    has the output's shape and dtype (so no broadcast or cast is lost)."""
    def rule(e, rw):
        out = e.outputs[0]
        for i in positions:
            other = e.inputs[1 - i]
            if rw.is_const(e.inputs[i], neutral) and _same_type(other, out):
                return other
        return None
    return rule


def _uniform_operand(e, rw):
    """A constant array of equal entries, broadcast against an operand that
    already has the output's shape, is that one value: write it as a scalar
    (of the same dtype, so the result type is unchanged)."""
    out = e.outputs[0]
    for i in (0, 1):
        v = rw.uniform(e.inputs[i])
        if v is not None and _same_type(e.inputs[1 - i], out):
            inputs = list(e.inputs)
            inputs[i] = Lit(v)
            return rw.emit(e.prim.name, inputs, out.shape, out.dtype)
    return None


def _first(*rules):
    def rule(e, rw):
        for r in rules:
            new = r(e, rw)
            if new is not None:
                return new
        return None
    return rule


# x ** 2, x ** 0.5 and x ** -1 are what NumPy's `**` computes through its
# fast path (np.power does not take it, e.g. with out=): same results.
_POWERS = {2: "square", 0.5: "sqrt", -1: "reciprocal"}


def _power_by_literal(e, rw):
    x, p = e.inputs
    out = e.outputs[0]
    if isinstance(p, Lit) and type(p.value) in (int, float) and p.value in _POWERS and _same_type(x, out):
        return rw.emit(_POWERS[p.value], [x], out.shape, out.dtype)
    return None


def _transpose_of_transpose(e, rw):
    inner = rw.made_by(e.inputs[0], "transpose")
    if inner is None:
        return None
    a, b = inner.params["axes"], e.params["axes"]
    axes = tuple(a[i] for i in b)  # z[i] = y[b[i]] = x[a[b[i]]]
    x, out = inner.inputs[0], e.outputs[0]
    if axes == tuple(range(len(axes))):
        return x
    return rw.emit("transpose", [x], out.shape, out.dtype, axes=axes)


def _reshape(e, rw):
    x, out = e.inputs[0], e.outputs[0]
    inner = rw.made_by(x, "reshape")
    if inner is not None:
        x = inner.inputs[0]
    if _same_type(x, out):
        return x
    if inner is not None:
        return rw.emit("reshape", [x], out.shape, out.dtype, shape=e.params["shape"])
    return None


def _broadcast_to(e, rw):
    return e.inputs[0] if _same_type(e.inputs[0], e.outputs[0]) else None


def _sum_of_broadcast(e, rw):
    """sum(broadcast_to(x, S), A) = sum of x over its real axes in A, times
    the sizes of the broadcast axes in A; then reshape and broadcast to the
    result. Exact up to rounding (n * x in place of x + ... + x)."""
    inner = rw.made_by(e.inputs[0], "broadcast_to")
    x, out = (inner.inputs[0], e.outputs[0]) if inner is not None else (None, None)
    if inner is None or not isinstance(x, Var) or x.dtype.kind not in "fc":
        return None
    S, A, keep = inner.params["shape"], e.params["axis"], e.params["keepdims"]
    xp = (1,) * (len(S) - x.ndim) + x.shape
    real = tuple(a for a in A if xp[a] != 1)
    n = int(np.prod([S[a] for a in A if xp[a] == 1], dtype=np.int64))
    y = x if xp == x.shape else rw.emit("reshape", [x], xp, x.dtype, shape=xp)
    shape = tuple(1 if a in real else n_ for a, n_ in enumerate(xp))
    if real:
        y = rw.emit("sum", [y], shape, x.dtype, axis=real, keepdims=True)
    if n != 1:
        y = rw.emit("multiply", [y, Lit(n)], shape, x.dtype)
    squeezed = shape if keep else tuple(m for a, m in enumerate(shape) if a not in A)
    if squeezed != shape:
        y = rw.emit("reshape", [y], squeezed, x.dtype, shape=squeezed)
    if squeezed != out.shape:
        y = rw.emit("broadcast_to", [y], out.shape, x.dtype, shape=out.shape)
    return y


def _sum(e, rw):
    if not e.params["axis"] and not e.params["keepdims"] and _same_type(e.inputs[0], e.outputs[0]):
        return e.inputs[0]
    return _sum_of_broadcast(e, rw)


# One rule per primitive: (equation, rewriter) -> a replacement operand for
# its output (possibly emitting equations), or None to keep the equation.
# x + 0 -> x may turn -0.0 into... nothing: it returns x, whose -0.0 stays -0.0
# where NumPy would give +0.0; the only difference is the sign of a zero.
# fmt: off
RULES = {
    "multiply":     _first(_identity_op(1, (0, 1)), _uniform_operand),
    "divide":       _first(_identity_op(1, (1,)), _uniform_operand),
    "power":        _first(_identity_op(1, (1,)), _power_by_literal),
    "add":          _first(_identity_op(0, (0, 1)), _uniform_operand),
    "subtract":     _first(_identity_op(0, (1,)), _uniform_operand),
    "transpose":    _transpose_of_transpose,
    "reshape":      _reshape,
    "broadcast_to": _broadcast_to,
    "sum":          _sum,
}
# fmt: on


def simplify(graph, rules=None):
    """Apply the rewrite rules of `RULES` in one forward walk.

    Example:
        >>> from chainrule.graph import trace
        >>> g = trace(lambda x: np.reshape(np.reshape(x, (6,)), (3, 2)), np.zeros((2, 3)))
        >>> [e.prim.name for e in dce(simplify(g)).eqns]
        ['reshape']
    """
    rules = RULES if rules is None else rules
    rw = _Rewriter(graph.consts)
    env = {}
    for e in graph.eqns:
        e = rewired(e, env)
        rule = rules.get(e.prim.name)
        new = rule(e, rw) if rule is not None and len(e.outputs) == 1 else None
        if new is None:
            rw.emitted.append(e)
            rw.producer.update((v, e) for v in e.outputs)
        else:
            env[e.outputs[0]] = new
    outputs = [substitute(o, env) for o in graph.outputs]
    return graph.replace(eqns=rw.emitted, outputs=outputs)


# --------------------------------------------------------------------------
# memory planning

# Primitives whose output is always a new array (when not 0-d), so its buffer
# belongs to the program; any other output may be a view of its inputs.
_FRESH = {"matmul", "sum", "where", "astype"}


def _ufunc_of(prim):
    for ufunc, p in UFUNCS.items():
        if p is prim:
            return ufunc
    return None


def plan_memory(graph):
    """Mark elementwise ufunc equations that may write their output into the
    buffer of an input that dies there (same shape and dtype, owned by the
    program, with no view of it still alive). Code generation then emits
    `np.ufunc(..., out=that_input)`.

    Example:
        >>> from chainrule.graph import trace
        >>> g = plan_memory(trace(lambda x: np.sin(np.exp(x)), np.zeros(3)))
        >>> [e.reuse for e in g.eqns]
        [None, 0]
    """
    n = len(graph.eqns)
    last = {}  # Var -> index of the last equation reading it (n for outputs)
    for k, e in enumerate(graph.eqns):
        for v in reads(e):
            last[v] = k
    for o in graph.outputs:
        if isinstance(o, Var):
            last[o] = n
    ufuncs = {p: u for u, p in UFUNCS.items()}
    # roots[v]: the owned buffers v may share memory with; end[b]: when the
    # last Var sharing buffer b dies.
    roots, end = {}, {}
    for k, e in enumerate(graph.eqns):
        fresh = e.prim in ufuncs or e.prim.name in _FRESH
        for v in e.outputs:
            if fresh and v.ndim > 0 and not e.multiple:
                roots[v] = {v}
            else:
                roots[v] = set().union(*[roots.get(a, set()) for a in reads(e)])
            for b in roots[v]:
                end[b] = max(end.get(b, -1), last.get(v, -1))
    eqns = []
    for k, e in enumerate(graph.eqns):
        out = e.outputs[0]
        if e.prim in ufuncs and not e.multiple and out.ndim > 0:
            for i, a in enumerate(e.inputs):
                if (_same_type(a, out) and roots.get(a) == {a} and end.get(a) == k
                        and last.get(a) == k):
                    e = Eqn(e.prim, e.inputs, e.outputs, e.params, reuse=i)
                    break
        eqns.append(e)
    return graph.replace(eqns=eqns)


# --------------------------------------------------------------------------

PIPELINE = (fold_constants, simplify, cse, dce)


def optimize(graph, passes=PIPELINE, rounds=4, check=None):
    """Run the passes until the graph stops shrinking, then plan memory.
    `check` (e.g. `check_graph`) is called on the result of every pass.

    Example:
        >>> from chainrule.graph import trace, check_graph
        >>> g = optimize(trace(lambda x: x * 1.0 + 0.0, np.zeros(2)), check=check_graph)
        >>> len(g.eqns)
        0
    """
    for _ in range(rounds):
        size = len(graph.eqns)
        for p in passes:
            graph = p(graph)
            if check is not None:
                check(graph)
        if len(graph.eqns) == size:
            break
    graph = plan_memory(graph)
    if check is not None:
        check(graph)
    return graph
