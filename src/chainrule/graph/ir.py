"""The graph IR: variables, equations and graphs, printable like code.

A `Graph` is straight-line code in SSA form: `inputs` (Vars), `eqns` (each
applies one primitive to Vars and literals and defines new Vars), `outputs`
(Vars or literals) and `consts` (Vars bound to arrays captured while
tracing). Index arrays are operands (`x[labels]` reads x and labels; the
`index` param is a static template with an ARRAY slot for each). A param
may still hold Vars (a traced option of a function without derivative,
such as searchsorted's sorter): `reads(eqn)` lists them with the inputs,
so every pass sees them.

Example:
    >>> import numpy as np
    >>> from chainrule.graph import trace
    >>> print(trace(lambda x: np.sin(x) * 2.0, np.zeros(3)))
    graph(x: f64[3]):
      sin1: f64[3] = sin(x)
      mul1: f64[3] = multiply(sin1, 2.0)
      return mul1
"""

import keyword
import re
from dataclasses import dataclass, field

import numpy as np


@dataclass(eq=False)
class Var:
    """A value of the graph: a name hint, a shape and a dtype."""

    name: str
    shape: tuple
    dtype: np.dtype

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    def __repr__(self):
        return f"{self.name}: {type_str(self)}"


@dataclass(frozen=True)
class Lit:
    """A Python or NumPy scalar written into the code as it is."""

    value: object

    def __repr__(self):
        return repr(self.value)


@dataclass(eq=False)
class Eqn:
    """`outputs = prim(*inputs, **params)`. `multiple`: the primitive returns
    a tuple (its entries are the outputs). `reuse` is set by memory planning:
    the output is written into the buffer of `inputs[reuse]`."""

    prim: object
    inputs: list
    outputs: list
    params: dict
    reuse: int = None
    multiple: bool = False


@dataclass(eq=False)
class Graph:
    """Straight-line code; see the module docstring. `in_tree` and `out_tree`
    are the pytree specs of the traced function's arguments and result."""

    inputs: list
    eqns: list
    outputs: list
    consts: dict = field(default_factory=dict)  # Var -> array
    in_tree: object = None
    out_tree: object = None

    def replace(self, **changes):
        """A copy with some fields changed (eqns are shared, never mutated)."""
        fields = dict(inputs=self.inputs, eqns=self.eqns, outputs=self.outputs,
                      consts=self.consts, in_tree=self.in_tree, out_tree=self.out_tree)
        fields.update(changes)
        return Graph(**fields)

    def __str__(self):
        names = var_names(self)
        lines = [f"graph({', '.join(f'{names[v]}: {type_str(v)}' for v in self.inputs)}):"]
        for v, value in self.consts.items():
            shown = repr(value.item()) if np.ndim(value) == 0 else "array"
            lines.append(f"  {names[v]}: {type_str(v)} = const {shown}")
        for e in self.eqns:
            outs = ", ".join(f"{names[v]}: {type_str(v)}" for v in e.outputs)
            args = [_show(a, names) for a in e.inputs]
            params = dict(e.params)
            if "index" in params:  # the index with its arrays in their places
                args, params["index"] = args[:1], _filled(params["index"], e.inputs[1:])
            args += [f"{k}={_show(p, names)}" for k, p in params.items()]
            note = f"  # into {names[e.inputs[e.reuse]]}" if e.reuse is not None else ""
            lines.append(f"  {outs} = {e.prim.name}({', '.join(args)}){note}")
        lines.append(f"  return {', '.join(_show(o, names) for o in self.outputs)}")
        return "\n".join(lines)

    def to_dot(self):
        """Graphviz DOT source of the graph (see `chainrule.graph.dot`)."""
        from .dot import to_dot
        return to_dot(self)

    def render(self, path):
        """Draw the graph to an .svg or .png file with Graphviz `dot`;
        returns the path, or None when `dot` is not installed."""
        from .dot import render
        return render(self, path)

    def cost(self):
        """Total flops and bytes moved (see `chainrule.graph.cost`)."""
        from .cost import graph_cost
        return graph_cost(self)


# --------------------------------------------------------------------------
# walking the Vars of an equation, including those inside params

def param_vars(value, found=None):
    """The Vars inside a param value (nested tuples and lists)."""
    found = [] if found is None else found
    if isinstance(value, Var):
        found.append(value)
    elif isinstance(value, (tuple, list)):
        for v in value:
            param_vars(v, found)
    return found


def reads(eqn):
    """Every Var the equation reads: its inputs, then Vars in its params."""
    found = [a for a in eqn.inputs if isinstance(a, Var)]
    for p in eqn.params.values():
        param_vars(p, found)
    return found


def substitute(value, env):
    """`value` with each Var replaced by `env.get(var, var)` (nested tuples/lists)."""
    if isinstance(value, Var):
        return env.get(value, value)
    if isinstance(value, (tuple, list)):
        return type(value)(substitute(v, env) for v in value)
    return value


def rewired(eqn, env):
    """The equation reading `env[v]` in place of each v in env (itself if none)."""
    if not any(v in env for v in reads(eqn)):
        return eqn
    return Eqn(eqn.prim, [substitute(a, env) for a in eqn.inputs], eqn.outputs,
               {k: substitute(p, env) for k, p in eqn.params.items()}, eqn.reuse, eqn.multiple)


# --------------------------------------------------------------------------
# evaluation and checking

def eval_graph(graph, *args):
    """Run the graph on plain values (one per input); returns the outputs list.

    Example:
        >>> from chainrule.graph import trace
        >>> g = trace(lambda x: x * 3.0, 1.0)
        >>> eval_graph(g, 2.0)
        [6.0]
    """
    env = dict(zip(graph.inputs, args))
    env.update(graph.consts)
    val = lambda a: env[a] if isinstance(a, Var) else a.value  # noqa: E731
    for e in graph.eqns:
        params = {k: substitute(p, env) for k, p in e.params.items()}
        ans = e.prim.impl(*[val(a) for a in e.inputs], **params)
        env.update(zip(e.outputs, ans) if e.multiple else [(e.outputs[0], ans)])
    return [val(o) for o in graph.outputs]


class GraphError(AssertionError):
    """A graph that breaks an invariant of the IR (raised by `check_graph`)."""


def check_graph(graph, infer=False):
    """Verify the IR invariants; raise GraphError naming the first broken one.

    Every Var is defined once, before it is read; outputs are defined;
    memory reuse names an input of the output's shape and dtype. With
    `infer`, each equation's output shapes and dtypes are recomputed.

    Example:
        >>> from chainrule.graph import trace
        >>> check_graph(trace(lambda x: x + 1.0, 1.0), infer=True)
    """
    defined = set()

    def define(v, what):
        if not isinstance(v, Var):
            raise GraphError(f"{what} defines {v!r}, which is not a Var")
        if v in defined:
            raise GraphError(f"{v!r} is defined twice (again by {what})")
        defined.add(v)

    for v in graph.inputs:
        define(v, "the inputs")
    for v, value in graph.consts.items():
        define(v, "the consts")
        if np.shape(value) != v.shape or np.result_type(value) != v.dtype:
            raise GraphError(f"const {v!r} holds a value of shape {np.shape(value)}")
    for k, e in enumerate(graph.eqns):
        where = f"equation {k} ({e.prim.name})"
        for v in reads(e):
            if v not in defined:
                raise GraphError(f"{where} reads {v!r} before it is defined")
        for a in e.inputs:
            if not isinstance(a, (Var, Lit)):
                raise GraphError(f"{where} has an input {a!r} that is neither a Var nor a Lit")
        if not e.multiple and len(e.outputs) != 1:
            raise GraphError(f"{where} has {len(e.outputs)} outputs")
        for v in e.outputs:
            define(v, where)
        if e.reuse is not None:
            src, out = e.inputs[e.reuse], e.outputs[0]
            if not (isinstance(src, Var) and src.shape == out.shape and src.dtype == out.dtype):
                raise GraphError(f"{where} reuses an input that does not match its output")
        if infer:
            from .trace import infer_outputs
            specs, _ = infer_outputs(e.prim, e.inputs, e.params)
            got = [(v.shape, v.dtype) for v in e.outputs]
            if specs != got:
                raise GraphError(f"{where} outputs {got}, but the primitive gives {specs}")
    for o in graph.outputs:
        if isinstance(o, Var) and o not in defined:
            raise GraphError(f"output {o!r} is never defined")


# --------------------------------------------------------------------------
# printing

_SHORT = {
    "multiply": "mul", "subtract": "sub", "divide": "div", "negative": "neg",
    "power": "pow", "absolute": "abs", "reshape": "resh", "transpose": "tr",
    "broadcast_to": "bcast", "getitem": "item", "scatter_add": "scatter",
}
_RESERVED = {"np", "math", "scatter_add_at"}  # names the generated code uses


def identifier(hint):
    """`hint` made a valid Python identifier that is no keyword nor reserved name."""
    name = re.sub(r"\W+", "_", str(hint)).strip("_") or "v"
    if name[0].isdigit():
        name = "v" + name
    if keyword.iskeyword(name) or name in _RESERVED:
        name += "_"
    return name


def var_names(graph):
    """Readable unique names: inputs keep theirs, constants are c0, c1, ...,
    equation outputs are the (short) primitive name and a counter: tanh1."""
    names, used, counters = {}, set(), {}

    def give(v, name):
        base, k = name, 1
        while name in used:
            k += 1
            name = f"{base}_{k}"
        used.add(name)
        names[v] = name

    for v in graph.inputs:
        give(v, identifier(v.name))
    for k, v in enumerate(graph.consts):
        give(v, f"c{k}")
    for e in graph.eqns:
        for v in e.outputs:
            hint = identifier(_SHORT.get(v.name, v.name)).rstrip("0123456789_") or "v"
            counters[hint] = counters.get(hint, 0) + 1
            give(v, f"{hint}{counters[hint]}")
    return names


_KIND = {"f": "f", "c": "c", "i": "i", "u": "u"}


def type_str(v):
    """`f64[3,4]`-style type of a Var."""
    dt = np.dtype(v.dtype)
    kind = "bool" if dt.kind == "b" else f"{_KIND.get(dt.kind, dt.kind)}{dt.itemsize * 8}"
    return f"{kind}[{','.join(map(str, v.shape))}]"


def _filled(template, arrays):
    from ..rules.indexing import fill
    return fill(template, arrays)


def _show(value, names):
    if isinstance(value, Var):
        return names.get(value, value.name)
    if isinstance(value, Lit):
        return repr(value.value)
    if isinstance(value, tuple):
        inner = ", ".join(_show(v, names) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, np.ndarray):
        return f"array<{value.dtype}{list(value.shape)}>"
    if isinstance(value, np.dtype):
        return str(value)
    if isinstance(value, slice):
        parts = [("" if p is None else _show(p, names)) for p in (value.start, value.stop, value.step)]
        return ":".join(parts[:2] if value.step is None else parts)
    return repr(value)
