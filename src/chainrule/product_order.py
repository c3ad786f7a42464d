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
REPLAY_FLOPS = 1e5  # the per-call replay of one equation, in flops' time


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
    branches: list = field(default_factory=list)  # per segment: Branches or None
    top_options: list = field(default_factory=list)  # the Steps considered for the whole chain

    @property
    def sizes(self):
        return [_size(v) for v in self.cuts]


def _size(v):
    return math.prod(v.shape)


def _float(v):
    return np.dtype(v.dtype).kind == "f"


MAX_DEPTH = 4  # nesting of branches planned apart (deeper ones stay opaque segments)


@dataclass
class Branches:
    """A segment that ends by merging parallel branches (a residual block
    x + f(x), two branches added or multiplied): `merge` is the index of the
    merging equation, `operands` its distinct operands that depend on the
    segment's input, and `subs[i]` the Chain from the segment's input to
    operands[i] (None when the operand is that input itself). Each branch's
    Jacobian is made by its own plan; the merge takes them as tangents
    (the chain rule summed over the paths through each operand)."""

    merge: int
    operands: list
    subs: list
    best: list = None  # each branch's cheapest Step (set by `solve`)


def find_chain(graph, x=None, y=None, eqn_ids=None, depth=0):
    """The Chain of a one-input, one-output graph (or of the part of it
    between Vars x and y made of the equations eqn_ids), or None when y does
    not depend on x through floating-point values."""
    from .graph.cost import eqn_cost
    from .graph.ir import Var, reads
    if x is None:
        (x,), (y,) = graph.inputs, graph.outputs
        eqn_ids = range(len(graph.eqns))
    if not isinstance(y, Var) or not _float(x) or not _float(y):
        return None
    depends = {x}
    for k in eqn_ids:
        e = graph.eqns[k]
        if any(v in depends for v in reads(e)):
            depends.update(v for v in e.outputs if _float(v))
    if y not in depends:
        return None
    n = len(graph.eqns)
    last = {}
    for k in eqn_ids:
        for v in reads(graph.eqns[k]):
            last[v] = k
    last[y] = n
    live, cuts, bounds = {x} if last.get(x, -1) >= 0 else set(), [x], [-1]
    for k in eqn_ids:
        e = graph.eqns[k]
        live = {v for v in live if last.get(v, -1) > k}
        live.update(v for v in e.outputs if v in depends and last.get(v, -1) > k)
        if len(live) == 1:
            (v,) = live
            if v is not cuts[-1]:
                cuts.append(v)
                bounds.append(k)
    if cuts[-1] is not y:
        return None
    raw = Chain(graph, cuts, [[k for k in eqn_ids if a < k <= b] for a, b in zip(bounds[:-1], bounds[1:])],
                depends)
    branches = [_branches(raw, s, depth) if depth < MAX_DEPTH else None
                for s in range(len(raw.segments))]
    keep = _runs(cuts, branches)
    chain = Chain(graph, [cuts[k] for k in keep], [], depends)
    for i, j in zip(keep[:-1], keep[1:]):
        chain.segments.append([k for s in range(i, j) for k in raw.segments[s]])
        chain.branches.append(branches[i] if j == i + 1 else None)
    for eqns in chain.segments:
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


def _branches(chain, s, depth):
    """The Branches of segment s, or None when it does not end by merging
    two or more operands that depend on its input (or a param is traced)."""
    from .graph.ir import Var, param_vars, reads
    graph = chain.graph
    a, b = chain.cuts[s], chain.cuts[s + 1]
    made = {v: k for k in chain.segments[s] for v in graph.eqns[k].outputs}
    k_merge = made.get(b)
    if k_merge is None:
        return None
    e = graph.eqns[k_merge]
    if e.multiple or any(v in chain.depends for p in e.params.values() for v in param_vars(p)):
        return None
    operands = []
    for v in e.inputs:
        if isinstance(v, Var) and v in chain.depends and v not in operands:
            operands.append(v)
    if len(operands) < 2:
        return None
    cones = []
    for u in operands:
        cone, stack = set(), [u]
        while stack:
            k = made.get(stack.pop())
            if k is not None and k not in cone:
                cone.add(k)
                stack.extend(w for w in reads(graph.eqns[k]) if w in chain.depends)
        cones.append(cone)
    if not any(cones):
        return None
    # Branches that share equations (x -> h, then h * sin(h)) are still
    # exact by the sum over paths; the shared work is counted, and done,
    # once per branch, so the plan takes them apart only when that pays.
    subs = []
    for u, cone in zip(operands, cones):
        sub = None if u is a else find_chain(graph, a, u, sorted(cone), depth + 1)
        if sub is None and u is not a:
            return None
        subs.append(sub)
    return Branches(k_merge, operands, subs)


def _runs(cuts, branches):
    """The cuts kept: only the first and last of each run of equal sizes
    (inside a run every split multiplies the same sizes, and the cost of
    moving the split is linear in the segments moved, so an end of the run
    is always best), and both ends of every segment with Branches."""
    last = len(cuts) - 1
    return [k for k in range(len(cuts))
            if k == 0 or k == last or _size(cuts[k - 1]) != _size(cuts[k])
            or _size(cuts[k + 1]) != _size(cuts[k]) or branches[k - 1] or branches[k]]


# --------------------------------------------------------------------------
# the dynamic programme

@dataclass
class Step:
    """How the explicit Jacobian of cuts[lo] -> cuts[hi] is made: "identity";
    "forward" (push `seed`, the Jacobian lo -> mid, through mid -> hi);
    "reverse" (pull `seed`, the Jacobian mid -> hi, back through lo -> mid);
    "product" (`right` is lo -> mid, `left` mid -> hi); "branches" (segment
    lo's Branches, each branch's Jacobian made by its own Step, then merged);
    "update" (`right` is lo -> mid, and segment mid a skip connection whose
    Jacobian is +-I +- L R with L R a product of rank k: `right` updated by
    L (R right), never forming the n by n Jacobian of segment mid)."""

    kind: str
    lo: int
    hi: int
    mid: int = None
    seed: "Step" = None
    left: "Step" = None
    right: "Step" = None
    flops: float = 0.0
    peak: float = 0.0  # elements
    parts: list = None  # "branches": (branch chain's sizes or None for I, its Step) each

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
        if self.kind == "update":
            k = self.parts[0][0][self.parts[0][1].mid]
            return (f"J[{lo}:{hi}] ({shape}) = J[{self.mid}:{hi}] @ ({self.right.describe(sizes)}), "
                    f"J[{self.mid}:{hi}] a skip connection plus rank {k}")
        if self.kind == "branches":
            parts = ["I" if sizes_ is None else f"[{part.describe(sizes_)}]" for sizes_, part in self.parts]
            return f"J[{lo}:{hi}] ({shape}) = merge of branches " + ", ".join(parts)
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
    low_rank = {}  # segment -> its skip connection's LowRank
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
            if length == 1 and chain.branches[lo] is not None:
                options.append(_branch_step(chain, lo))
                rank = _low_rank(chain, lo)
                if rank is not None:
                    low_rank[lo] = rank
            if length >= 2 and hi - 1 in low_rank:
                options.append(_update_step(best[lo][hi - 1], low_rank[hi - 1], n))
            for mid in range(lo + 1, hi):
                r, l_ = best[lo][mid], best[mid][hi]
                flops = r.flops + l_.flops + 2.0 * n[lo] * n[mid] * n[hi]
                peak = max(r.peak, r.size_out(n) + l_.peak,
                           r.size_out(n) + l_.size_out(n) + n[lo] * n[hi])
                options.append(Step("product", lo, hi, mid, left=l_, right=r,
                                    flops=flops, peak=peak))
            best[lo][hi] = _cheapest(options)
            if length == L:
                chain.top_options = options
    return best


def _branch_step(chain, s):
    """The Step making segment s's Jacobian branch by branch: each branch's
    cheapest explicit Jacobian (the identity for a skip connection), then
    all of them pushed through the merge as n_in tangents."""
    from .graph.cost import eqn_cost
    br = chain.branches[s]
    n = chain.sizes
    e = chain.graph.eqns[br.merge]
    br.best = []
    flops = peak = held = 0.0
    for u, sub in zip(br.operands, br.subs):
        if sub is None:
            step = Step("identity", 0, 0)
        else:
            step = solve(sub)[0][len(sub.segments)]
        br.best.append(step)
        flops += step.flops
        peak = max(peak, held + step.peak)
        held += _size(u) * n[s]
    out = sum(_size(v) for v in e.outputs)
    merge = eqn_cost(e).flops
    flops += n[s] * max(merge, out) + merge
    peak = max(peak, held + n[s] * n[s + 1])
    parts = [(None if sub is None else sub.sizes, step) for sub, step in zip(br.subs, br.best)]
    return Step("branches", s, s + 1, flops=flops, peak=peak, parts=parts)


@dataclass
class LowRank:
    """A skip-connection segment whose Jacobian is `skip` * I + `sign` * L R:
    branch `part` (of the segment's Branches) is made by `step`, a product
    of L = step.left and R = step.right through `sub.sizes[step.mid]` = k."""

    skip: float
    sign: float
    part: int
    step: Step
    sub: Chain


def _low_rank(chain, s):
    """The LowRank of segment s (after `_branch_step`), or None: a plain sum
    or difference of the segment's input and one branch whose best Step is
    a product through a narrower cut."""
    br = chain.branches[s]
    e = chain.graph.eqns[br.merge]
    if br.best is None or not _plain_sum(e, br) or [sub is None for sub in br.subs].count(True) != 1:
        return None
    part = 0 if br.subs[1] is None else 1
    step, sub = br.best[part], br.subs[part]
    if step.kind != "product" or sub.sizes[step.mid] >= min(sub.sizes[0], sub.sizes[-1]):
        return None
    minus = e.prim.name == "subtract"
    skip, sign = (1.0, -1.0 if minus else 1.0) if part == 1 else (-1.0 if minus else 1.0, 1.0)
    return LowRank(skip, sign, part, step, sub)


def _update_step(right, rank, n):
    """The Step making J[lo:s+1] as J[s:s+1] @ right, J[s:s+1] = +-I +- L R
    (`rank`): right + L (R right), L and R each by their own Step."""
    lo, s = right.lo, right.hi
    k = rank.sub.sizes[rank.step.mid]
    L, R = rank.step.left, rank.step.right
    flops = (right.flops + L.flops + R.flops + 2.0 * k * n[s] * n[lo] + 2.0 * n[s + 1] * k * n[lo]
             + n[s + 1] * n[lo])
    held = right.size_out(n)
    peak = max(right.peak, held + L.peak, held + n[s + 1] * k + R.peak,
               held + n[s + 1] * k + k * n[s] + k * n[lo] + n[s + 1] * n[lo])
    return Step("update", lo, s + 1, s, right=right, flops=flops, peak=peak,
                parts=[(rank.sub.sizes, rank.step)])


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
    _layout: object = None  # a Layout when fun has several inputs or outputs

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
    """The plan for the Jacobian of fun by the argument(s) argnums at these
    argument shapes; see `JacobianPlan`. Values are never read.

    Example:
        >>> import numpy as np
        >>> W = np.ones((3, 100))
        >>> plan(lambda x: np.tanh(W @ x), np.zeros(100)).order
        'reverse'
    """
    traced = trace_for_plan(fun, args, argnums)
    if isinstance(traced, JacobianPlan):
        return traced
    return plan_graph(*traced, name=getattr(fun, "__name__", "fun"))


@dataclass
class Layout:
    """How a function of several arrays (argnums a tuple, a nested argument)
    or with several outputs is planned: as the function of the inputs'
    leaves laid end to end (`in_leaves`: their shapes, `in_spec`) returning
    its outputs' leaves raveled end to end (`out` records their spec and
    shapes while tracing); `single` an int argnums."""

    in_shapes: list
    in_spec: object
    single: bool
    out: dict


def trace_for_plan(fun, args, argnums, flat=False):
    """(graph, layout) of fun as a function of the argument(s) argnums
    (shapes only; layout None for one array in and one array out, unless
    flat), or the by-size JacobianPlan when fun cannot be planned from a
    graph."""
    from .graph.trace import trace
    from .jacobians import _restrict
    name = getattr(fun, "__name__", "fun")
    single = isinstance(argnums, (int, np.integer))
    nums = (int(argnums),) if single else tuple(argnums)
    f, primals = _restrict(fun, args, nums, {})
    in_leaves, in_spec = tree_flatten(primals)
    mine = {id(v) for v in in_leaves}
    if any(isinstance(a, Box) for a in tree_flatten(list(args))[0] if id(a) not in mine):
        return _by_size(*_sizes(fun, args, argnums), "a non-differentiated argument is traced", name)
    try:
        if single and len(in_leaves) == 1 and in_leaves[0] is primals[0] and not flat:
            graph = trace(f, example(primals[0]))
            if len(graph.outputs) == 1 and tree_unflatten(graph.out_tree, [_LEAF]) is _LEAF:
                return graph, None
        flat, layout = _flat(f, in_leaves, in_spec, single)
        return trace(flat, np.zeros(sum(int(np.size(v)) for v in in_leaves), _leaf_dtype(in_leaves))), layout
    except Exception as err:  # untraceable: value-dependent code, captured boxes...
        return _by_size(*_sizes(fun, args, argnums), f"not traceable: {type(err).__name__}", name)


def _leaf_dtype(leaves):
    dtypes = {np.dtype(getattr(v, "dtype", None) or np.result_type(v)) for v in leaves}
    if len(dtypes) != 1:
        raise TypeError("arguments of several dtypes")
    return dtypes.pop()


def _flat(f, in_leaves, in_spec, single):
    """f as a function of one vector (the leaves end to end) returning one
    vector (its output leaves raveled end to end)."""
    shapes = [tuple(np.shape(v)) for v in in_leaves]
    layout = Layout(shapes, in_spec, single, {})

    def flat(v):
        parts, start = [], 0
        for shape in shapes:
            n = math.prod(shape)
            parts.append(np.reshape(v[start:start + n], shape))
            start += n
        out_leaves, out_spec = tree_flatten(f(*tree_unflatten(in_spec, parts)))
        layout.out["spec"], layout.out["shapes"] = out_spec, [tuple(np.shape(o)) for o in out_leaves]
        _leaf_dtype(out_leaves)
        if len(out_leaves) == 1:
            return np.reshape(out_leaves[0], (-1,))
        return np.concatenate([np.reshape(o, (-1,)) for o in out_leaves])
    flat.__name__ = getattr(f, "__name__", "fun")
    return flat, layout


def plan_graph(graph, layout=None, name="fun"):
    """The JacobianPlan of a traced graph of one input and one output."""
    n_in = sum(v.size for v in graph.inputs)
    n_out = sum(v.size for v in graph.outputs if hasattr(v, "size")) or 1
    one_array = len(graph.outputs) == 1 and tree_unflatten(graph.out_tree, [_LEAF]) is _LEAF
    chain = find_chain(graph) if one_array and len(graph.inputs) == 1 else None
    if chain is None:
        return _by_size(n_in, n_out, "not a chain from one float array to one float array", name)
    p = plan_chain(chain, name)
    p._structure = str(graph)
    p._layout = layout
    return p


def rebind(plan_, graph, layout=None):
    """plan_ on another trace of the same function (same structure: the same
    printed graph, constants possibly different), or None when the new
    graph differs. A mixed plan replays the graph's constants, so it is
    run on the graph of this call, never on the one it was planned on."""
    if plan_._chain is None or str(graph) != plan_._structure:
        return None
    env = dict(zip(_all_vars(plan_._chain.graph), _all_vars(graph)))
    return replace(plan_, _chain=_remapped(plan_._chain, env, graph), _layout=layout)


def _remapped(c, env, graph):
    """Chain c (and its branches' chains) on graph, whose Vars env maps c's to."""
    branches = [None if b is None else
                Branches(b.merge, [env[v] for v in b.operands],
                         [None if sub is None else _remapped(sub, env, graph) for sub in b.subs], b.best)
                for b in c.branches]
    return Chain(graph, [env[v] for v in c.cuts], c.segments, {env[v] for v in c.depends},
                 c.flops, c.primal, c.width, c.tape, branches, c.top_options)


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
    mixed = _best_mixed(chain, best)
    pure = _cheapest([fwd, rev])
    order = pure.kind
    if mixed is not None:
        # one primal replay for the cut values, and the Python work of
        # replaying, per equation
        total = mixed.flops + _sum(chain.primal, 0, L) + REPLAY_FLOPS * len(chain.graph.eqns)
        alternatives.append(("mixed", total, mixed.peak * item))
        if total < MIXED_MARGIN * pure.flops:
            order = "mixed"
    return JacobianPlan(order, alternatives, chain=n, step=mixed if order == "mixed" else None,
                        reason="" if mixed is not None else "no cut point: a single Jacobian",
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
    """The cheapest top-level Step that is neither pure order, or None."""
    L = len(chain.segments)
    options = [o for o in chain.top_options if not _is_pure(o, L)]
    return _cheapest(options) if options else None


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

    @classmethod
    def sharing(cls, replay, chain):
        """A replay of a branch's chain on the values replay computed."""
        sub = cls.__new__(cls)
        sub.chain, sub.env, sub._substitute = chain, replay.env, replay._substitute
        return sub

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


def _merge(replay, br, Js, dtype, n):
    """The merge equation's Jacobian by the segment input (of size n): the
    branch Jacobians Js (one per operand, size_u by n; None for the
    identity) added up when the merge is a plain sum, else pushed through
    it as n tangents at once."""
    from .api import jvp
    from .core.batch import BatchTrace
    e = replay.chain.graph.eqns[br.merge]
    if _plain_sum(e, br):  # x + f(x), f(x) - g(x): the Jacobians add up
        Ju, Jv = Js
        minus = e.prim.name == "subtract"
        if Ju is None:  # x +- f(x)
            return _plus_identity(-Jv, n, dtype, copy=False) if minus else _plus_identity(Jv, n, dtype)
        if Jv is None:  # f(x) +- x
            return _plus_identity(Ju, n, dtype, -1.0 if minus else 1.0)
        return Ju - Jv if minus else Ju + Jv
    Js = [np.eye(n, dtype=dtype) if J is None else J for J in Js]

    def merge(*values):
        env = dict(replay.env)
        env.update(zip(br.operands, values))
        replay._run(e, env)
        return env[e.outputs[0]]

    trace = BatchTrace(n)
    primals = tuple(replay.env[u] for u in br.operands)
    tangents = tuple(trace.box(np.reshape(np.transpose(J), (n,) + tuple(u.shape)))
                     for J, u in zip(Js, br.operands))
    _, t = jvp(merge, primals, tangents)
    return np.transpose(np.reshape(trace.unbox(t), (n, -1)))


def _plus_identity(J, n, dtype, sign=1.0, copy=True):
    """J + sign * I, without forming I when J is a plain array (into a copy
    of J, which may be a view shared with something else, unless J is a
    fresh array: copy=False)."""
    if type(J) is np.ndarray:
        out = np.array(J, dtype=np.result_type(J, dtype), copy=copy or None)
        out[np.diag_indices(n)] += sign
        return out
    return J + sign * np.eye(n, dtype=dtype)


def _plain_sum(e, br):
    """The merge is an add or subtract of operands shaped like its output."""
    out = e.outputs[0]
    return (e.prim.name in ("add", "subtract") and not e.params and len(e.inputs) == 2
            and all(getattr(a, "shape", None) == out.shape for a in e.inputs)
            and len(br.operands) == 2)


def _evaluate(step, replay, sizes, dtype):
    if step.kind == "identity":
        return np.eye(sizes[step.lo], dtype=dtype)
    if step.kind == "branches":
        br = replay.chain.branches[step.lo]
        Js = [None if sub is None else
              _evaluate(best, _Replay.sharing(replay, sub), sub.sizes, dtype)
              for sub, best in zip(br.subs, br.best)]
        return _merge(replay, br, Js, dtype, sizes[step.lo])
    if step.kind == "product":
        right = _evaluate(step.right, replay, sizes, dtype)
        return _evaluate(step.left, replay, sizes, dtype) @ right
    if step.kind == "update":
        right = _evaluate(step.right, replay, sizes, dtype)
        rank = _low_rank(replay.chain, step.mid)
        sub = _Replay.sharing(replay, rank.sub)
        R = _evaluate(rank.step.right, sub, rank.sub.sizes, dtype)
        L = _evaluate(rank.step.left, sub, rank.sub.sizes, dtype)
        update = L @ (R @ right)
        return (right if rank.skip > 0 else -right) + (update if rank.sign > 0 else -update)
    seed = _evaluate(step.seed, replay, sizes, dtype)
    if step.kind == "forward":
        return _push(replay.segment_fun(step.mid, step.hi), replay.value(step.mid), seed)
    return _pull(replay.segment_fun(step.lo, step.mid), replay.value(step.lo), seed)


def jacobian_matrix(plan_, x):
    """The Jacobian (out size by in size) of the planned graph at its input
    value x, by the plan's mixed order: the graph replayed primitive by
    primitive (so it runs, and is traced, like any other code)."""
    chain = plan_._chain
    replay = _Replay(chain, x)
    dtype = np.dtype(chain.cuts[0].dtype)  # float32 stays float32, as in jacfwd
    return _evaluate(plan_.step, replay, chain.sizes, dtype)


def execute(plan_, args, argnums=0, matrix=None):
    """The Jacobian of the planned function at args by the plan's mixed
    order, shaped as `jacfwd` shapes it. `matrix`, if given, computes
    `jacobian_matrix(plan_, x)` for a plain NumPy x (a compiled program)."""
    from .jacobians import _assemble, _restrict, _split
    from .rules import batching
    batching.install()
    chain = plan_._chain
    layout = plan_._layout
    nums = (argnums,) if isinstance(argnums, (int, np.integer)) else tuple(argnums)
    _, primals = _restrict(lambda *a: None, args, nums, {})
    leaves = tree_flatten(primals)[0]
    if layout is None:
        x = leaves[0]
    elif len(leaves) == 1:
        x = np.reshape(leaves[0], (-1,))
    else:
        x = np.concatenate([np.reshape(v, (-1,)) for v in leaves])
    J = matrix(x) if matrix is not None and type(x) is np.ndarray else jacobian_matrix(plan_, x)
    if layout is None:
        return np.reshape(J, chain.cuts[-1].shape + chain.cuts[0].shape)
    outs = [np.zeros(shape) for shape in layout.out["shapes"]]  # shapes only, for _split
    ins = [np.zeros(shape) for shape in layout.in_shapes]
    rows = _split(J, outs, 0)
    blocks = [_split(r, ins, np.ndim(o)) for r, o in zip(rows, outs)]
    return _assemble(layout.out["spec"], layout.in_spec, layout.single, blocks)
