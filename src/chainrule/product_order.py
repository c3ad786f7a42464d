"""The cheapest order of the Jacobian product: forward, reverse or mixed.

A function's Jacobian is the product of the Jacobians of its pieces,
J = J_L ... J_2 J_1. Forward mode multiplies from the inputs (one tangent
per input), reverse mode from the outputs (one cotangent per output); when
the chain narrows in the middle (1000 -> 10 -> 1000) neither is best: the
two halves are each cheap in their own mode, and multiplying the two
accumulated pieces costs less than pushing 1000 tangents through
everything.

`plan(fun, *args)` traces fun (shapes only), cuts its graph at every value
through which all dependence on the input passes (a single live Var), and
runs a matrix-chain dynamic programme over the cut sizes with the cost
model's flop counts. An interval's explicit Jacobian is obtained by
  * pushing an explicit prefix Jacobian forward through the rest (its
    columns as a batch of tangents: pure forward mode when the prefix is
    the identity),
  * pulling an explicit suffix back through the rest (pure reverse mode
    when the suffix is the identity), or
  * multiplying the Jacobians of two sub-intervals.
The plan records the predicted flops and peak memory of forward, reverse
and the best mixed order; `execute` runs the chosen one, eagerly or under
`compile` (the pieces are replayed primitive by primitive, so they are
traced like any other code). Graphs without a cut fall back to the cheaper
pure mode.

Example:
    >>> import numpy as np
    >>> A, B = np.ones((10, 1000)), np.ones((1000, 10))
    >>> p = plan(lambda x: np.tanh(B @ np.tanh(A @ x)), np.zeros(1000))
    >>> p.order
    'mixed'
    >>> [name for name, flops, peak in p.alternatives]
    ['forward', 'reverse', 'mixed']
"""

import math
from dataclasses import dataclass, field, replace

import numpy as np

from .core.box import Box
from .core.tree import tree_flatten, tree_unflatten

_LEAF = object()
MIXED_MARGIN = 0.9  # a mixed order must beat the better pure mode by 10% (model error)
REPLAY_FLOPS = 1e5  # the per-call tracing and replay of one equation, in flops' time


# --------------------------------------------------------------------------
# the chain of a graph

@dataclass
class Chain:
    """A graph cut into segments: `cuts[i]` is the Var between segment i-1 and
    i (cuts[0] the input, cuts[-1] the output); `segments[i]` the indices of
    the equations computing cuts[i + 1] from cuts[i]; `flops[i]` the cost of
    one tangent through segment i, `primal[i]` that of evaluating it,
    `width[i]` its widest step (elements live at once per tangent) and
    `tape[i]` the elements reverse mode keeps."""

    graph: object
    cuts: list
    segments: list
    depends: set
    flops: list = field(default_factory=list)
    primal: list = field(default_factory=list)
    width: list = field(default_factory=list)
    tape: list = field(default_factory=list)

    @property
    def sizes(self):
        return [_size(v) for v in self.cuts]


def _size(v):
    return math.prod(v.shape)


def _float(v):
    return np.dtype(v.dtype).kind == "f"


def find_chain(graph):
    """The Chain of a one-input, one-output graph, or None when its output
    does not depend on its input through floating-point values."""
    from .graph.cost import eqn_cost
    from .graph.ir import Var, reads
    (x,), (y,) = graph.inputs, graph.outputs
    if not isinstance(y, Var) or not _float(x) or not _float(y):
        return None
    depends = {x}
    for e in graph.eqns:
        if any(v in depends for v in reads(e)):
            depends.update(v for v in e.outputs if _float(v))
    if y not in depends:
        return None
    n = len(graph.eqns)
    last = {}
    for k, e in enumerate(graph.eqns):
        for v in reads(e):
            last[v] = k
    last[y] = n
    live, cuts, bounds = {x} if last.get(x, -1) >= 0 else set(), [x], [-1]
    for k, e in enumerate(graph.eqns):
        live = {v for v in live if last.get(v, -1) > k}
        live.update(v for v in e.outputs if v in depends and last.get(v, -1) > k)
        if len(live) == 1:
            (v,) = live
            if v is not cuts[-1]:
                cuts.append(v)
                bounds.append(k)
    if cuts[-1] is not y:
        return None
    cuts, bounds = _runs(cuts, bounds)
    chain = Chain(graph, cuts, [], depends)
    for a, b in zip(bounds[:-1], bounds[1:]):
        eqns = list(range(a + 1, b + 1))
        chain.segments.append(eqns)
        flops = primal = width = tape = 0
        for k in eqns:
            e = graph.eqns[k]
            cost = eqn_cost(e).flops
            primal += cost
            if any(v in depends for v in reads(e)):
                out = sum(_size(v) for v in e.outputs)
                flops += max(cost, out)
                width = max(width, out + sum(_size(v) for v in reads(e) if v in depends))
                tape += out
        chain.flops.append(flops)
        chain.primal.append(primal)
        chain.width.append(width)
        chain.tape.append(tape)
    return chain


def _runs(cuts, bounds):
    """Only the first and last cut of each run of equal sizes: inside a run
    every split multiplies the same sizes, and the cost of moving the split
    is linear in the segments moved, so an end of the run is always best."""
    keep = [k for k in range(len(cuts))
            if k == 0 or k == len(cuts) - 1
            or _size(cuts[k - 1]) != _size(cuts[k]) or _size(cuts[k + 1]) != _size(cuts[k])]
    return [cuts[k] for k in keep], [bounds[k] for k in keep]


# --------------------------------------------------------------------------
# the dynamic programme

@dataclass
class Step:
    """How the explicit Jacobian of cuts[lo] -> cuts[hi] is made: "identity";
    "forward" (push `seed`, the Jacobian lo -> mid, through mid -> hi);
    "reverse" (pull `seed`, the Jacobian mid -> hi, back through lo -> mid);
    "product" (`right` is lo -> mid, `left` mid -> hi)."""

    kind: str
    lo: int
    hi: int
    mid: int = None
    seed: "Step" = None
    left: "Step" = None
    right: "Step" = None
    flops: float = 0.0
    peak: float = 0.0  # elements

    def size_out(self, sizes):
        """Elements of the explicit Jacobian this step makes (none for I)."""
        return 0 if self.kind == "identity" else sizes[self.hi] * sizes[self.lo]

    def describe(self, sizes):
        lo, hi = self.lo, self.hi
        shape = f"{sizes[hi]}x{sizes[lo]}"
        if self.kind == "forward":
            what = f"J[{lo}:{hi}] ({shape}) forward over {self.mid}:{hi}"
            return what + ("" if self.seed.kind == "identity" else
                           f", seeded with {self.seed.describe(sizes)}")
        if self.kind == "reverse":
            what = f"J[{lo}:{hi}] ({shape}) reverse over {lo}:{self.mid}"
            return what + ("" if self.seed.kind == "identity" else
                           f", seeded with {self.seed.describe(sizes)}")
        if self.kind == "product":
            return (f"J[{lo}:{hi}] ({shape}) = ({self.left.describe(sizes)}) "
                    f"@ ({self.right.describe(sizes)})")
        return f"I({sizes[lo]})"


def _sum(values, lo, hi):
    return float(sum(values[lo:hi]))


def _max(values, lo, hi):
    return float(max(values[lo:hi], default=0))


def solve(chain):
    """best[lo][hi]: the cheapest Step for every interval (flops, then memory)."""
    n = chain.sizes
    L = len(chain.segments)
    F, P, W, T = chain.flops, chain.primal, chain.width, chain.tape
    best = [[None] * (L + 1) for _ in range(L + 1)]
    for i in range(L + 1):
        best[i][i] = Step("identity", i, i)
    for length in range(1, L + 1):
        for lo in range(L + 1 - length):
            hi = lo + length
            options = []
            for mid in range(lo, hi):  # forward through mid..hi, seeded by lo..mid
                s = best[lo][mid]
                p = n[lo]
                flops = s.flops + p * _sum(F, mid, hi) + _sum(P, mid, hi)
                peak = max(s.peak, s.size_out(n) + p * _max(W, mid, hi) + p * n[hi])
                options.append(Step("forward", lo, hi, mid, seed=s, flops=flops, peak=peak))
            for mid in range(lo + 1, hi + 1):  # reverse through lo..mid, seeded by mid..hi
                s = best[mid][hi]
                q = n[hi]
                flops = s.flops + q * _sum(F, lo, mid) + _sum(P, lo, mid)
                peak = max(s.peak, s.size_out(n) + _sum(T, lo, mid) + q * _max(W, lo, mid)
                           + q * n[lo])
                options.append(Step("reverse", lo, hi, mid, seed=s, flops=flops, peak=peak))
            for mid in range(lo + 1, hi):
                r, l_ = best[lo][mid], best[mid][hi]
                flops = r.flops + l_.flops + 2.0 * n[lo] * n[mid] * n[hi]
                peak = max(r.peak, r.size_out(n) + l_.peak,
                           r.size_out(n) + l_.size_out(n) + n[lo] * n[hi])
                options.append(Step("product", lo, hi, mid, left=l_, right=r,
                                    flops=flops, peak=peak))
            best[lo][hi] = _cheapest(options)
    return best


def _cheapest(options):
    """The option with the fewest flops; among those within 2% of it, the
    least peak memory."""
    low = min(o.flops for o in options)
    close = [o for o in options if o.flops <= low * 1.02]
    return min(close, key=lambda o: (o.peak, o.flops))


def _is_pure(step, L):
    if step.kind == "forward":
        return step.mid == 0 and step.seed.kind == "identity"
    if step.kind == "reverse":
        return step.mid == L and step.seed.kind == "identity"
    return False


# --------------------------------------------------------------------------
# the plan

@dataclass
class JacobianPlan:
    """The product order `cr.jacobian` uses for fun at these shapes.

    `order` is "forward", "reverse" or "mixed"; `alternatives` lists
    `(name, flops, peak_bytes)` for each order considered (predictions of
    the cost model, peak memory of the derivative work); `chain` the sizes
    of the cut points (input first); `step` the chosen mixed Step, if any;
    `reason` why the plan has no mixed alternative, when it has none."""

    order: str
    alternatives: list
    chain: list = None
    step: Step = None
    reason: str = ""
    name: str = "fun"
    pure_order: str = None  # the cheaper pure mode
    _chain: Chain = None
    _structure: str = None  # the printed graph it was planned on (see `rebind`)

    def __str__(self):
        lines = [f"Jacobian plan for {self.name}: order {self.order}"]
        if self.chain:
            lines.append("  chain: " + " -> ".join(map(str, self.chain))
                         + f"  ({len(self.chain) - 1} Jacobians)")
        if self.reason:
            lines.append(f"  ({self.reason})")
        lines.append(f"  {'order':<10}{'flops':>12}{'peak memory':>14}")
        for name, flops, peak in self.alternatives:
            mark = "  <- chosen" if name == self.order else ""
            fl = "?" if flops is None else f"{flops:.3g}"
            pk = "?" if peak is None else _bytes(peak)
            lines.append(f"  {name:<10}{fl:>12}{pk:>14}{mark}")
        if self.step is not None:
            lines.append("  mixed: " + self.step.describe(self.chain))
        return "\n".join(lines)

    __repr__ = __str__


def _bytes(b):
    for unit in ("B", "kB", "MB", "GB"):
        if b < 1000 or unit == "GB":
            return f"{b:.0f} {unit}" if unit == "B" else f"{b:.1f} {unit}"
        b /= 1000


def _by_size(n_in, n_out, reason, name):
    order = "forward" if n_in <= n_out else "reverse"
    return JacobianPlan(order, [("forward", None, None), ("reverse", None, None)],
                        reason=reason, name=name, pure_order=order)


def example(x):
    """A zero array of x's shape and dtype (tracing reads no values)."""
    from .core.trace import raw
    dtype = getattr(x, "dtype", None)
    dtype = np.result_type(raw(x)) if dtype is None else dtype
    return np.zeros(np.shape(x), dtype)


def plan(fun, *args, argnums=0):
    """The plan for the Jacobian of fun by argument argnums at these
    argument shapes; see `JacobianPlan`. Values are never read.

    Example:
        >>> import numpy as np
        >>> W = np.ones((3, 100))
        >>> plan(lambda x: np.tanh(W @ x), np.zeros(100)).order
        'reverse'
    """
    graph = trace_for_plan(fun, args, argnums)
    if isinstance(graph, JacobianPlan):
        return graph
    return plan_graph(graph, getattr(fun, "__name__", "fun"))


def trace_for_plan(fun, args, argnums):
    """The graph of fun as a function of argument argnums (shapes only), or
    the by-size JacobianPlan when fun cannot be planned from a graph."""
    from .graph.trace import trace
    from .jacobians import _restrict
    name = getattr(fun, "__name__", "fun")
    if not isinstance(argnums, (int, np.integer)):
        return _by_size(*_sizes(fun, args, argnums), "several arguments", name)
    f, (x,) = _restrict(fun, args, (int(argnums),), {})
    leaves = tree_flatten(x)[0]
    if len(leaves) != 1 or leaves[0] is not x or any(isinstance(a, Box) for a in tree_flatten(list(args))[0]
                               if a is not x):
        return _by_size(*_sizes(fun, args, argnums), "not one array argument", name)
    try:
        return trace(f, example(x))
    except Exception as err:  # untraceable: value-dependent code, captured boxes...
        return _by_size(*_sizes(fun, args, argnums), f"not traceable: {type(err).__name__}", name)


def plan_graph(graph, name="fun"):
    """The JacobianPlan of a traced one-argument function's graph."""
    n_in = sum(v.size for v in graph.inputs)
    n_out = sum(v.size for v in graph.outputs if hasattr(v, "size")) or 1
    one_array = len(graph.outputs) == 1 and tree_unflatten(graph.out_tree, [_LEAF]) is _LEAF
    chain = find_chain(graph) if one_array and len(graph.inputs) == 1 else None
    if chain is None:
        return _by_size(n_in, n_out, "not a chain from one float array to one float array", name)
    p = plan_chain(chain, name)
    p._structure = str(graph)
    return p


def rebind(plan_, graph):
    """plan_ on another trace of the same function (same structure: the same
    printed graph, constants possibly different), or None when the new
    graph differs. A mixed plan replays the graph's constants, so it is
    run on the graph of this call, never on the one it was planned on."""
    if plan_._chain is None or str(graph) != plan_._structure:
        return None
    old = plan_._chain.graph
    new_vars = _all_vars(graph)
    env = dict(zip(_all_vars(old), new_vars))
    c = plan_._chain
    chain = Chain(graph, [env[v] for v in c.cuts], c.segments, {env[v] for v in c.depends},
                  c.flops, c.primal, c.width, c.tape)
    return replace(plan_, _chain=chain)


def _all_vars(graph):
    out = list(graph.inputs) + list(graph.consts)
    for e in graph.eqns:
        out.extend(e.outputs)
    return out


def plan_chain(chain, name="fun"):
    """The JacobianPlan of a Chain."""
    best = solve(chain)
    L = len(chain.segments)
    n = chain.sizes
    item = np.dtype(chain.cuts[0].dtype).itemsize
    fwd = _pure(chain, "forward")
    rev = _pure(chain, "reverse")
    alternatives = [("forward", fwd.flops, fwd.peak * item), ("reverse", rev.flops, rev.peak * item)]
    mixed = _best_mixed(chain, best) if L >= 2 else None
    pure = _cheapest([fwd, rev])
    order = pure.kind
    if mixed is not None:
        # one primal replay for the cut values, and the Python work of
        # re-tracing and replaying, per equation
        total = mixed.flops + _sum(chain.primal, 0, L) + REPLAY_FLOPS * len(chain.graph.eqns)
        alternatives.append(("mixed", total, mixed.peak * item))
        if total < MIXED_MARGIN * pure.flops:
            order = "mixed"
    return JacobianPlan(order, alternatives, chain=n, step=mixed if order == "mixed" else None,
                        reason="" if L >= 2 else "no cut point: a single Jacobian",
                        name=name, pure_order=pure.kind, _chain=chain)


def _pure(chain, kind):
    L = len(chain.segments)
    n = chain.sizes
    p = n[0] if kind == "forward" else n[L]
    flops = p * _sum(chain.flops, 0, L) + _sum(chain.primal, 0, L)
    if kind == "forward":
        peak = p * _max(chain.width, 0, L) + p * n[L]
    else:
        peak = _sum(chain.tape, 0, L) + p * _max(chain.width, 0, L) + p * n[0]
    return Step(kind, 0, L, 0 if kind == "forward" else L, seed=Step("identity", 0, 0),
                flops=flops, peak=peak)


def _best_mixed(chain, best):
    """The cheapest top-level Step that is neither pure order."""
    L = len(chain.segments)
    top = best[0][L]
    if not _is_pure(top, L):
        return top
    n = chain.sizes
    F, P, W, T = chain.flops, chain.primal, chain.width, chain.tape
    options = []
    for mid in range(1, L):
        s = best[0][mid]
        options.append(Step("forward", 0, L, mid, seed=s,
                            flops=s.flops + n[0] * _sum(F, mid, L) + _sum(P, mid, L),
                            peak=max(s.peak, s.size_out(n) + n[0] * (_max(W, mid, L) + n[L]))))
        s = best[mid][L]
        options.append(Step("reverse", 0, L, mid, seed=s,
                            flops=s.flops + n[L] * _sum(F, 0, mid) + _sum(P, 0, mid),
                            peak=max(s.peak, s.size_out(n) + _sum(T, 0, mid)
                                     + n[L] * (_max(W, 0, mid) + n[0]))))
        r, l_ = best[0][mid], best[mid][L]
        options.append(Step("product", 0, L, mid, left=l_, right=r,
                            flops=r.flops + l_.flops + 2.0 * n[0] * n[mid] * n[L],
                            peak=max(r.peak, r.size_out(n) + l_.peak,
                                     r.size_out(n) + l_.size_out(n) + n[0] * n[L])))
    return _cheapest(options)


def _sizes(fun, args, argnums):
    """(input size, output size), by one evaluation (the fallback)."""
    from .jacobians import _restrict
    nums = (argnums,) if isinstance(argnums, (int, np.integer)) else tuple(argnums)
    f, primals = _restrict(fun, args, nums, {})
    n_in = sum(int(np.size(a)) for a in tree_flatten(primals)[0])
    n_out = sum(int(np.size(a)) for a in tree_flatten(f(*primals))[0])
    return n_in, n_out


# --------------------------------------------------------------------------
# executing a mixed plan

class _Replay:
    """The traced graph run primitive by primitive on actual values: the
    primal once (every value, for the equations that do not depend on the
    input), then each segment as a function of its cut value."""

    def __init__(self, chain, x):
        from .graph.ir import substitute
        self.chain = chain
        g = chain.graph
        env = dict(g.consts)
        env[g.inputs[0]] = x
        self.env = env
        self._substitute = substitute
        for e in g.eqns:
            self._run(e, env)

    def _run(self, e, env):
        from .graph.ir import Lit
        args = [a.value if isinstance(a, Lit) else env[a] for a in e.inputs]
        params = {k: self._substitute(p, env) for k, p in e.params.items()}
        ans = e.prim(*args, **params)
        if e.multiple:
            env.update(zip(e.outputs, ans))
        else:
            env[e.outputs[0]] = ans

    def value(self, i):
        return self.env[self.chain.cuts[i]]

    def segment_fun(self, lo, hi):
        """cuts[lo] -> cuts[hi] as a function, replaying only the equations
        that depend on the input (the others keep their primal values)."""
        from .graph.ir import reads
        chain = self.chain
        eqns = [chain.graph.eqns[k] for s in range(lo, hi) for k in chain.segments[s]
                if any(v in chain.depends for v in reads(chain.graph.eqns[k]))]

        def f(v):
            env = dict(self.env)
            env[chain.cuts[lo]] = v
            for e in eqns:
                self._run(e, env)
            return env[chain.cuts[hi]]
        return f


def _push(f, x, cols):
    """f's JVPs along the columns of cols (n_x by p): (n_f by p)."""
    from .api import jvp
    from .core.batch import BatchTrace
    p = np.shape(cols)[1]
    trace = BatchTrace(p)
    seeds = np.reshape(np.transpose(cols), (p,) + np.shape(x))
    _, t = jvp(f, (x,), (trace.box(seeds),))
    return np.transpose(np.reshape(trace.unbox(t), (p, -1)))


def _pull(f, x, rows):
    """The VJPs of f of the rows of rows (q by n_f): (q by n_x)."""
    from .api import vjp
    from .core.batch import BatchTrace
    q = np.shape(rows)[0]
    out, pullback = vjp(f, x)
    trace = BatchTrace(q)
    (g,) = pullback(trace.box(np.reshape(rows, (q,) + np.shape(out))))
    return np.reshape(trace.unbox(g), (q, -1))


def _evaluate(step, replay, sizes, dtype):
    if step.kind == "identity":
        return np.eye(sizes[step.lo], dtype=dtype)
    if step.kind == "product":
        right = _evaluate(step.right, replay, sizes, dtype)
        return _evaluate(step.left, replay, sizes, dtype) @ right
    seed = _evaluate(step.seed, replay, sizes, dtype)
    if step.kind == "forward":
        return _push(replay.segment_fun(step.mid, step.hi), replay.value(step.mid), seed)
    return _pull(replay.segment_fun(step.lo, step.mid), replay.value(step.lo), seed)


def execute(plan_, x):
    """The Jacobian (out.shape + x.shape) of the planned function at x by the
    plan's mixed order (x: the argument being differentiated)."""
    from .rules import batching
    batching.install()
    chain = plan_._chain
    replay = _Replay(chain, x)
    dtype = np.result_type(float, chain.cuts[0].dtype)
    J = _evaluate(plan_.step, replay, chain.sizes, dtype)
    return np.reshape(J, chain.cuts[-1].shape + chain.cuts[0].shape)
