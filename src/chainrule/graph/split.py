"""Partial evaluation: a compiled program split into a fixed part and a
varying part, so that repeated calls that change only some arguments redo
only the work that depends on them.

`staged(fun, varying)` traces `fun` once per signature (as `compile`
does), with every array argument an input of the graph, and splits the
optimised graph in two:

* the **fixed part**: every equation that reads no varying argument,
  directly or indirectly; it runs once per value of the other arguments
  (`Staged.at(*args)`) and keeps the values the varying part reads, its
  residuals;
* the **varying part**: the equations that depend on a varying argument;
  it runs on each call of the `Point`, reading the residuals.

For a Hessian-vector product `(x, v) -> H(x) v` with v varying, the fixed
part is the forward pass and the residuals of the gradient at x, and each
product only pushes v through. A new x reruns only the fixed part: no
tracing, no code generation.

Value-dependent Python control flow is guarded as under `compile` (see
`chainrule.graph.guards`): a guard on a fixed value is checked when the
fixed part runs, one on a varying value on each call; when one fails, the
other traced paths are tried and, failing those, the function is traced
again for the new path (up to `max_variants` per signature; beyond that,
calls run `fun` eagerly). Code that cannot be traced at all
(`ValueDependentError`) also runs eagerly.

Example:
    >>> import numpy as np
    >>> f = staged(lambda x, v: np.exp(x) * v, varying=[1])
    >>> point = f.at(np.zeros(2), np.zeros(2))   # exp(x) is computed here, once
    >>> point(np.array([1.0, 2.0])), point(np.array([3.0, 4.0]))
    (array([1., 2.]), array([3., 4.]))
    >>> [e.prim.name for e in point.program.varying_graph.eqns]
    ['multiply']
"""

import numpy as np

from ..core.box import Box
from ..core.tree import tree_flatten, tree_unflatten
from .codegen import define, generate, strong_scalar
from .compile import MAX_VARIANTS, static_signature
from .guards import GuardFailure, split_guard_outputs, with_guard_outputs
from .ir import Eqn, Lit, Var, reads
from .passes import PIPELINE, dce, plan_memory
from .trace import ValueDependentError, is_traced_leaf, trace


def split_graph(graph, varying, guards=()):
    """Split `graph` at the Vars of `varying` (some of its inputs).

    Returns `(fixed, vary, layout, fixed_guards, vary_guards)`:
    `fixed` reads the other inputs and returns the outputs that do not
    depend on `varying`, then the residuals (the fixed values `vary`
    reads); `vary` reads the varying inputs, then the residuals, and
    returns the outputs that do depend on them. `layout[k]` says where
    output k comes from: `("fixed", i)`, `("vary", i)` or `("lit", value)`.
    Each guard goes with the part that computes its Var.

    Example:
        >>> from chainrule.graph import trace
        >>> g = trace(lambda x, v: (np.cos(x), np.sin(x) * v), np.zeros(2), np.zeros(2))
        >>> fixed, vary, layout, _, _ = split_graph(g, [g.inputs[1]])
        >>> [e.prim.name for e in fixed.eqns], [e.prim.name for e in vary.eqns], layout
        (['cos', 'sin'], ['multiply'], [('fixed', 0), ('vary', 0)])
    """
    varying = list(varying)
    dep = set(varying)
    fixed_eqns, vary_eqns = [], []
    for e in graph.eqns:
        if any(v in dep for v in reads(e)):
            vary_eqns.append(e)
            dep.update(e.outputs)
        else:
            fixed_eqns.append(e)
    layout, fixed_outs, vary_outs = [], [], []
    for o in graph.outputs:
        if isinstance(o, Lit):
            layout.append(("lit", o.value))
        elif o in dep:
            layout.append(("vary", len(vary_outs)))
            vary_outs.append(o)
        else:
            layout.append(("fixed", len(fixed_outs)))
            fixed_outs.append(o)
    fixed_guards = [g for g in guards if g.var not in dep]
    vary_guards = [g for g in guards if g.var in dep]
    # the varying part's own Vars, its varying inputs and the constants it
    # reads need no residual; every other Var it reads is one
    own = set(dep) | set(graph.consts)
    residuals, seen = [], set()
    for e in vary_eqns:
        for v in reads(e):
            if v not in own and v not in seen:
                seen.add(v)
                residuals.append(v)
    fixed_inputs = [v for v in graph.inputs if v not in dep]
    fixed = _part(graph, fixed_inputs, fixed_eqns, fixed_outs + residuals, fixed_guards)
    vary = _part(graph, varying + residuals, vary_eqns, vary_outs, vary_guards)
    return fixed, vary, layout, fixed_guards, vary_guards


def hoist_factors(graph, varying):
    """Move constant factors of products out of the varying part:
    `(a * b) * c` with a varying, b and c fixed becomes `a * (b * c)`, and
    `-(a * b)` becomes `a * (-b)`, so `b * c` (or `-b`) is computed once in
    the fixed part and each call does one multiplication where it did two.
    Only where the intermediate `a * b` has no other reader and every
    value keeps its shape and dtype. Reassociating a product changes its
    rounding (within a few ulps), not its value.

    Example:
        >>> from chainrule.graph import trace
        >>> g = trace(lambda x, v: -(v * np.exp(x)) * np.sin(x), np.zeros(2), np.zeros(2))
        >>> h = hoist_factors(g, [g.inputs[1]])
        >>> fixed, vary, _, _, _ = split_graph(h, [h.inputs[1]])
        >>> [e.prim.name for e in vary.eqns]
        ['multiply']
    """
    from ..core.primitive import PRIMITIVES
    from .trace import infer_outputs
    multiply, negative = PRIMITIVES["multiply"], PRIMITIVES["negative"]
    dep = set(varying)
    readers = {}
    for e in graph.eqns:
        for v in reads(e):
            readers[v] = readers.get(v, 0) + 1
    outputs = {o for o in graph.outputs if isinstance(o, Var)}
    producer, eqns = {}, []

    def fixed(x):
        return isinstance(x, Lit) or x not in dep

    def emit(prim, inputs, like):
        try:
            specs, container = infer_outputs(prim, inputs, {})
        except Exception:  # noqa: BLE001  (cannot tell the result's type: leave it)
            return None
        if container is not None or len(specs) != 1:
            return None
        shape, dtype = specs[0]
        if dtype != like.dtype:
            return None
        out = Var(prim.name, shape, dtype)
        return Eqn(prim, list(inputs), [out], {}), out

    def factor(y):
        """(a, b) when y = a * b with a varying, b fixed, and only one reader."""
        p = producer.get(y) if isinstance(y, Var) else None
        if p is None or readers.get(y, 0) != 1 or y in outputs:
            return None
        a, b = p.inputs
        if fixed(a) and not fixed(b):
            a, b = b, a
        if fixed(a) or not fixed(b):
            return None
        return a, b

    for e in graph.eqns:
        new = None
        out = e.outputs[0] if len(e.outputs) == 1 else None
        if out is not None and not e.params and not e.multiple and e.prim is multiply:
            y, c = e.inputs
            if fixed(y) and not fixed(c):
                y, c = c, y
            found = factor(y) if fixed(c) and not fixed(y) else None
            if found is not None and not (isinstance(found[1], Lit) and isinstance(c, Lit)):
                made = emit(multiply, [found[1], c], out)
                if made is not None:
                    new = (made, found[0])
        elif out is not None and not e.params and not e.multiple and e.prim is negative:
            found = factor(e.inputs[0])
            if found is not None and not isinstance(found[1], Lit):
                made = emit(negative, [found[1]], out)
                if made is not None:
                    new = (made, found[0])
        if new is not None:
            (bc_eqn, bc), a = new
            replaced = emit(multiply, [a, bc], out)
            if replaced is not None and replaced[1].shape == out.shape:
                eqns.append(bc_eqn)
                e = Eqn(multiply, [a, bc], [out], {})
                readers[bc] = 1
        eqns.append(e)
        if any(v in dep for v in reads(e)):
            dep.update(e.outputs)
        for v in e.outputs:
            producer[v] = e if e.prim is multiply and len(e.inputs) == 2 and not e.params else None
    return dce(graph.replace(eqns=eqns))


def _part(graph, inputs, eqns, outputs, guards):
    """A self-contained graph: dead code and unread constants dropped (the
    guarded Vars kept), then memory planned. Inputs are never written
    into, so residuals survive every call of the varying part."""
    kept = [g.var for g in guards]
    part = graph.replace(inputs=inputs, eqns=eqns, outputs=outputs + kept,
                         consts=dict(graph.consts), in_tree=None, out_tree=None)
    part = dce(part)
    return plan_memory(part.replace(outputs=outputs))


def _simplify(graph, passes, rounds=4):
    """The passes to a fixed point, without memory planning (done per part)."""
    for _ in range(rounds):
        size = len(graph.eqns)
        for p in passes:
            graph = p(graph)
        if len(graph.eqns) == size:
            break
    return graph


class SplitProgram:
    """One traced path of a staged function: its two generated parts.

    `fix(leaves)` runs the fixed part on the argument leaves (the varying
    ones are ignored) and returns its outputs and residuals; `vary(state,
    leaves)` runs the varying part and returns the function's result.
    Either raises `GuardFailure` when a guard does not hold."""

    def __init__(self, fun, args, mask, passes=PIPELINE):
        graph, guards = trace(fun, *args, guarded=True)
        self.out_tree = graph.out_tree
        graph = with_guard_outputs(graph, guards)
        graph = _simplify(graph, passes) if passes else graph
        graph, guards = split_guard_outputs(graph, guards)
        self.graph = graph
        leaves = tree_flatten(list(args))[0]
        self.traced = [is_traced_leaf(x) for x in leaves]
        self.mask = mask
        inputs_mask = [m for m, t in zip(mask, self.traced) if t]
        varying = [v for v, m in zip(graph.inputs, inputs_mask) if m]
        graph = hoist_factors(with_guard_outputs(graph, guards), varying)
        graph, guards = split_guard_outputs(graph, guards)
        fixed, vary, self.layout, fguards, vguards = split_graph(graph, varying, guards)
        self.fixed_graph, self.varying_graph = fixed, vary
        self.guards = fguards + vguards
        self.nfixed = len(fixed.outputs) - sum(1 for kind, _ in self.layout if kind == "fixed")
        name = getattr(fun, "__name__", "staged")
        self._fixed = define(*generate(fixed, f"{name}_fixed", guards=fguards))
        self._vary = define(*generate(vary, f"{name}_varying", guards=vguards))
        self.source = self._fixed.__source__ + "\n\n" + self._vary.__source__

    def fix(self, leaves):
        args = [strong_scalar(x) for x, t, m in zip(leaves, self.traced, self.mask) if t and not m]
        out = self._fixed(*args)
        return [out] if len(self.fixed_graph.outputs) == 1 else list(out)

    def vary(self, state, leaves):
        args = [strong_scalar(x) for x, t, m in zip(leaves, self.traced, self.mask) if t and m]
        nfixed_outs = len(state) - self.nfixed
        out = self._vary(*args, *state[nfixed_outs:])
        out = [out] if len(self.varying_graph.outputs) == 1 else list(out)
        result = []
        for kind, i in self.layout:
            result.append(i if kind == "lit" else (state[i] if kind == "fixed" else out[i]))
        return tree_unflatten(self.out_tree, result)


class Staged:
    """`fun` compiled once per signature and split by partial evaluation;
    see `staged`. `cache` maps a signature to its traced paths (most
    recently used first), or None when fun could not be traced."""

    def __init__(self, fun, varying, passes=PIPELINE, max_variants=MAX_VARIANTS):
        self.fun = fun
        self.varying = frozenset(int(k) for k in varying)
        self.passes = passes
        self.max_variants = max_variants
        self.cache = {}
        self.traces = 0  # paths traced so far (each one trace and code generation)
        self.error = None  # why fun could not be traced, if it could not

    def _mask(self, args):
        mask = []
        for k, a in enumerate(args):
            mask += [k in self.varying] * len(tree_flatten(a)[0])
        return mask

    def at(self, *args):
        """The fixed part run at `args` (the varying arguments give only
        shapes and dtypes, unless a new path must be traced): a `Point`."""
        leaves, in_tree = tree_flatten(list(args))
        if any(isinstance(x, Box) for x in leaves):
            return Point(self, None, None, args, None)  # being differentiated: eager
        key = (in_tree, tuple(_signature(k, x) for k, x in enumerate(leaves)))
        variants = self.cache.setdefault(key, [])
        if variants is None:
            return Point(self, key, None, args, None)
        for i, program in enumerate(variants):
            try:
                state = program.fix(leaves)
            except GuardFailure:
                continue
            if i:
                variants.insert(0, variants.pop(i))
            return Point(self, key, program, args, state)
        program = self._new(key, args)
        if program is None:
            return Point(self, key, None, args, None)
        return Point(self, key, program, args, program.fix(leaves))

    def _new(self, key, args):
        """Trace a new path at args (None: run eagerly instead)."""
        variants = self.cache.get(key)
        if variants is None or len(variants) >= self.max_variants:
            return None
        try:
            program = SplitProgram(self.fun, args, self._mask(args), self.passes)
        except ValueDependentError as e:
            self.error = e
            self.cache[key] = None
            return None
        self.traces += 1
        variants.insert(0, program)
        return program


class Point:
    """A staged function with its fixed arguments bound and its fixed part
    run: call it with the varying arguments (in their order).
    `program` is the traced path in use (None: eager calls of fun)."""

    def __init__(self, staged, key, program, args, state):
        self.staged, self.key, self.program = staged, key, program
        self.args, self.state = list(args), state
        self.positions = sorted(staged.varying)

    def fixed_outputs(self):
        """The outputs that do not depend on the varying arguments, with None
        in place of those that do (None for all on the eager path)."""
        if self.program is None:
            return None
        flat = [(self.state[i] if kind == "fixed" else (i if kind == "lit" else None))
                for kind, i in self.program.layout]
        return tree_unflatten(self.program.out_tree, flat)

    def __call__(self, *varying):
        if len(varying) != len(self.positions):
            raise TypeError(f"expected {len(self.positions)} varying arguments, got {len(varying)}")
        args = list(self.args)
        for k, value in zip(self.positions, varying):
            args[k] = value
        if self.program is None:
            return self.staged.fun(*args)
        leaves, in_tree = tree_flatten(args)
        key = (in_tree, tuple(_signature(k, x) for k, x in enumerate(leaves)))
        if key != self.key or any(isinstance(x, Box) for x in leaves):
            return self.staged.fun(*args)  # other shapes, or being differentiated
        try:
            return self.program.vary(self.state, leaves)
        except GuardFailure:
            pass
        # a decision on a varying value differs: another path, or a new one
        for program in self.staged.cache.get(self.key) or []:
            if program is self.program:
                continue
            try:
                state = program.fix(leaves)
                out = program.vary(state, leaves)
            except GuardFailure:
                continue
            self.program, self.state = program, state
            return out
        program = self.staged._new(self.key, args)
        if program is None:
            return self.staged.fun(*args)
        self.program, self.state = program, program.fix(leaves)
        return program.vary(self.state, leaves)


def staged(fun, varying, passes=PIPELINE, max_variants=MAX_VARIANTS):
    """`fun` compiled once per signature and split into a part that reads
    only the arguments not in `varying` (positions) and a part that depends
    on those; see the module docstring. `staged(fun, varying).at(*args)`
    runs the first part and returns a `Point`, which runs the second on
    new values of the varying arguments.

    Example:
        >>> import numpy as np
        >>> import chainrule as cr
        >>> hvp = staged(lambda x, v: cr.hvp(lambda y: np.sum(y ** 3), (x,), (v,)), varying=[1])
        >>> point = hvp.at(np.array([1.0, 2.0]), np.zeros(2))
        >>> point(np.array([1.0, 0.0])), point(np.array([0.0, 1.0]))
        (array([6., 0.]), array([ 0., 12.]))
        >>> hvp.at(np.array([3.0, 4.0]), np.zeros(2))(np.ones(2)), hvp.traces   # no new trace
        (array([18., 24.]), 1)
    """
    return Staged(fun, varying, passes, max_variants)


def _signature(k, leaf):
    if is_traced_leaf(leaf):
        return (np.shape(leaf), np.result_type(leaf))
    return static_signature(k, leaf)

