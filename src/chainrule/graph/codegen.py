"""Code generation: a graph becomes readable straight-line NumPy source.

One table, `TEMPLATES`, maps a primitive name to a format template: `{0}`,
`{1}` are the operands and `{name}` a param. A primitive missing from the
table is rendered as `np.<ufunc>(...)` if it is a registered ufunc, and
otherwise as a call of its impl bound in the namespace (`_sort(x, axis=-1)`),
so every primitive compiles, including ones added after this module.

When every value of the graph is a 0-d float64 (or bool), `scalar=True`
gives a second flavour on Python floats and `math` (`SCALAR_TEMPLATES`),
many times faster than NumPy on 0-d arrays. It is exact for + - * / and
correctly rounded functions; where Python raises instead of returning
inf or nan (math.log(0.0), 1.0 / 0.0), the compiled function reruns the
NumPy flavour, see `chainrule.graph.compile`.

Example:
    >>> import numpy as np
    >>> from chainrule.graph import trace
    >>> source, namespace = generate(trace(lambda x: np.sum(np.tanh(x)), np.zeros(3)), "f")
    >>> print(source)
    def f(x):
        tanh1 = np.tanh(x)
        sum1 = np.sum(tanh1, axis=(0,), keepdims=False)
        return sum1
"""

import builtins
import itertools
import linecache
import math

import numpy as np

from ..core.primitive import UFUNCS
from ..rules.indexing import fill, scatter_add_at
from .guards import HELPERS as GUARD_HELPERS
from .guards import check_lines
from .ir import Lit, Var, identifier, reads, var_names

# fmt: off
TEMPLATES = {
    "add":          "{0} + {1}",
    "subtract":     "{0} - {1}",
    "multiply":     "{0} * {1}",
    "divide":       "{0} / {1}",
    "power":        "{0} ** {1}",
    "negative":     "-{0}",
    "matmul":       "{0} @ {1}",
    "sum":          "np.sum({0}, axis={axis}, keepdims={keepdims})",
    "reshape":      "np.reshape({0}, {shape})",
    "transpose":    "np.transpose({0}, {axes})",
    "broadcast_to": "np.broadcast_to({0}, {shape})",
    "getitem":      "{0}[{index}]",
    "scatter_add":  "scatter_add_at({0}, {index}, {shape})",
    "where":        "np.where({0}, {1}, {2})",
    "real":         "np.real({0})",
    "imag":         "np.imag({0})",
    "astype":       "{0}.astype({dtype})",
    "astype_int":   "{0}.astype({dtype})",
}

# Functions the templates call by name, in every generated namespace.
HELPERS = {"scatter_add_at": scatter_add_at}

# Python floats and `math`: used only when all values are 0-d float64/bool.
SCALAR_TEMPLATES = {
    "add": "{0} + {1}", "subtract": "{0} - {1}", "multiply": "{0} * {1}",
    "divide": "{0} / {1}", "negative": "-{0}", "positive": "+{0}",
    "power": "math.pow({0}, {1})", "square": "{0} * {0}", "reciprocal": "1.0 / {0}",
    "absolute": "abs({0})", "fabs": "math.fabs({0})", "sqrt": "math.sqrt({0})",
    "exp": "math.exp({0})", "expm1": "math.expm1({0})", "log": "math.log({0})",
    "log1p": "math.log1p({0})", "log2": "math.log2({0})", "log10": "math.log10({0})",
    "sin": "math.sin({0})", "cos": "math.cos({0})", "tan": "math.tan({0})",
    "arcsin": "math.asin({0})", "arccos": "math.acos({0})", "arctan": "math.atan({0})",
    "sinh": "math.sinh({0})", "cosh": "math.cosh({0})", "tanh": "math.tanh({0})",
    "arcsinh": "math.asinh({0})", "arccosh": "math.acosh({0})", "arctanh": "math.atanh({0})",
    "arctan2": "math.atan2({0}, {1})", "hypot": "math.hypot({0}, {1})",
    "less": "{0} < {1}", "less_equal": "{0} <= {1}", "greater": "{0} > {1}",
    "greater_equal": "{0} >= {1}", "equal": "{0} == {1}", "not_equal": "{0} != {1}",
    "where": "{1} if {0} else {2}", "astype": "float({0})",
}
# fmt: on

_SCALAR_DTYPES = (np.dtype(np.float64), np.dtype(bool))
_EXACT_SCALARS = {"float16", "float32", "float64", "complex64", "complex128", "int8", "int16",
                  "int32", "int64", "uint8", "uint16", "uint32", "uint64"}


def scalar_ok(graph):
    """True when every value is 0-d float64 or bool and every primitive has a
    scalar template or is a ufunc (NumPy ufuncs accept Python floats)."""
    ufunc_prims = set(UFUNCS.values())
    values = list(graph.inputs) + list(graph.consts) + [v for e in graph.eqns for v in e.outputs]
    return (all(v.shape == () and v.dtype in _SCALAR_DTYPES for v in values)
            and all(e.prim.name in SCALAR_TEMPLATES or e.prim in ufunc_prims for e in graph.eqns)
            and not any(e.params for e in graph.eqns if e.prim.name != "astype"))


def generate(graph, name="compiled", scalar=False, guards=(), wrap=True):
    """`(source, namespace)`: a Python function `name(*inputs)` returning the
    tuple of outputs (one value when there is one output), and the names its
    code refers to (np, math, constants, impls). Each of `guards` (see
    `chainrule.graph.guards`) is checked right after its Var is computed.
    `wrap=False` leaves the scalar flavour's results Python floats and
    bools (for the numba backend, which converts them itself).

    Example:
        >>> from chainrule.graph import trace
        >>> print(generate(trace(lambda x: x * 2.0 + 1.0, 0.0), "f", scalar=True)[0])
        def f(x):
            x = float(x)
            mul1 = x * 2.0
            add1 = mul1 + 1.0
            return np.float64(add1)
    """
    return _Writer(graph, scalar, guards, wrap).write(identifier(name))


class _Writer:
    def __init__(self, graph, scalar, guards=(), wrap=True):
        self.graph = graph
        self.scalar = scalar
        self.wrap = wrap
        self.guards = {}  # Var -> [(index, Guard)]
        for k, g in enumerate(guards):
            self.guards.setdefault(g.var, []).append((k, g))
        self.names = var_names(graph)
        self.namespace = {"np": np, "math": math, **HELPERS}
        self.bound = {}  # id(object) -> name in the namespace
        self.ufuncs = {p: u for u, p in UFUNCS.items()}

    def bind(self, obj, hint):
        """A namespace name for an object the source cannot spell."""
        name = self.bound.get(id(obj))
        if name is None:
            name = f"_{identifier(hint)}"
            while name in self.namespace:
                name += "_"
            self.namespace[name] = obj
            self.bound[id(obj)] = name
        return name

    def _ufunc_text(self, ufunc):
        """`np.sin` for NumPy's ufuncs; others (scipy.special) bound by name."""
        if getattr(np, ufunc.__name__, None) is ufunc:
            return f"np.{ufunc.__name__}"
        return self.bind(ufunc, ufunc.__name__)

    def write(self, fname):
        g = self.graph
        for v, c in g.consts.items():
            if not self._inline(c):
                self.namespace[self.names[v]] = c
        lines = [f"def {fname}({', '.join(self.names[v] for v in g.inputs)}):"]
        if self.scalar:
            for v in g.inputs:
                kind = "bool" if v.dtype == bool else "float"
                lines.append(f"    {self.names[v]} = {kind}({self.names[v]})")
        if self.guards:
            self.namespace.update(GUARD_HELPERS)
        for v in g.inputs:
            lines += self._guard_lines(v)
        dying = self._deaths()
        for k, e in enumerate(g.eqns):
            outs = ", ".join(self.names[v] for v in e.outputs)
            if e.multiple and len(e.outputs) == 1:
                outs += ","
            lines.append(f"    {outs} = {self.expression(e)}")
            for v in e.outputs:
                lines += self._guard_lines(v)
            if dying[k] and k < len(g.eqns) - 1:  # nothing is allocated after the last
                lines.append(f"    del {', '.join(dying[k])}")
        results = [self.result(o) for o in g.outputs]
        lines.append(f"    return {', '.join(results) or '()'}")
        return "\n".join(lines), self.namespace

    def _guard_lines(self, v):
        return [line for k, guard in self.guards.get(v, ())
                for line in check_lines(guard, k, self.names[v], self.bind)]

    def _deaths(self):
        """Per equation, the array Vars read for the last time there, so the
        generated code frees them (`del`) as the tape would."""
        g = self.graph
        dying = [[] for _ in g.eqns]
        if self.scalar:
            return dying
        keep = set(g.inputs) | set(g.consts) | {o for o in g.outputs if isinstance(o, Var)}
        last = {}
        for k, e in enumerate(g.eqns):
            for v in reads(e):
                last[v] = k
            for v in e.outputs:
                last.setdefault(v, k)
        for v, k in last.items():
            # An input whose buffer the output reuses (out=) dies too: the
            # output's name keeps the memory, the input's must not.
            if v not in keep and v.ndim > 0:
                dying[k].append(self.names[v])
        return dying

    # ---- operands and values ----
    def operand(self, a):
        if isinstance(a, Lit):
            return self.literal(a.value)
        c = self.graph.consts.get(a)
        if c is not None and self._inline(c):
            return self.literal(c.item() if self.scalar else c[()])
        return self.names[a]

    def result(self, o):
        if isinstance(o, Lit):
            return self.literal(o.value)
        text = self.operand(o)
        if o in self.graph.consts and not self._inline(self.graph.consts[o]):
            return f"{text}.copy()"
        if self.scalar and self.wrap:
            return f"np.{'bool' if o.dtype == bool else 'float64'}({text})"
        return text

    def _inline(self, c):
        return c.ndim == 0 and c.dtype.kind in "biufc" and c.dtype.itemsize <= 16

    def literal(self, v):
        """Python source for a scalar, exact for Python and NumPy scalars."""
        if isinstance(v, np.generic) and self.scalar and type(v).__name__ in _EXACT_SCALARS:
            return self.literal(v.item())  # all values are float64 here: same arithmetic
        if isinstance(v, np.generic):
            if isinstance(v, np.bool_):
                return f"np.bool_({bool(v)})"
            if type(v).__name__ not in _EXACT_SCALARS:
                return self.bind(v, "k")  # long double: item() would round it
            text = self.literal(v.item())
            return f"np.{type(v).__name__}({text[1:-1] if text.startswith('(-') else text})"
        if isinstance(v, float):
            if math.isnan(v):
                return "math.nan"
            if math.isinf(v):
                return "math.inf" if v > 0 else "(-math.inf)"
            return f"({v!r})" if math.copysign(1.0, v) < 0 else repr(v)
        if isinstance(v, complex):
            return f"complex({self.literal(v.real)}, {self.literal(v.imag)})"
        if isinstance(v, bool) or v is None:
            return repr(v)
        if isinstance(v, int):
            return f"({v})" if v < 0 else repr(v)
        return self.bind(v, "k")

    def param(self, v, in_index=False):
        """Python source for a param value (nested tuples, slices, dtypes...)."""
        if isinstance(v, Var):
            return self.names[v]
        if isinstance(v, _Source):
            return v.text
        if isinstance(v, tuple):
            if in_index:
                return ", ".join(self.param(p, True) for p in v) or "()"
            inner = ", ".join(self.param(p) for p in v)
            return f"({inner},)" if len(v) == 1 else f"({inner})"
        if isinstance(v, list) and all(isinstance(p, (int, float, bool)) for p in v):
            return f"[{', '.join(self.param(p) for p in v)}]"
        if isinstance(v, slice):
            parts = ["" if p is None else self.param(p) for p in (v.start, v.stop, v.step)]
            text = ":".join(parts if v.step is not None else parts[:2])
            return text if in_index else f"slice({', '.join(self.param(p) for p in (v.start, v.stop, v.step))})"
        if v is Ellipsis:
            return "..."
        if v is None and in_index:
            return "None"
        if isinstance(v, np.dtype):
            return f"np.dtype({v.str!r})" if v.names is None else self.bind(v, "dtype")
        if isinstance(v, str):
            return repr(v)
        if isinstance(v, (bool, int, float, complex, np.generic)) or v is None:
            return self.literal(v)
        return self.bind(v, "k")

    # ---- one equation ----
    def expression(self, e):
        args = [self.operand(a) for a in e.inputs]
        if e.reuse is not None:
            ufunc = self.ufuncs.get(e.prim)  # else a ufunc of its own (a numba kernel)
            fn = self._ufunc_text(ufunc) if ufunc is not None else self.bind(e.prim.impl, e.prim.name)
            return f"{fn}({', '.join(args)}, out={args[e.reuse]})"
        template = (SCALAR_TEMPLATES.get(e.prim.name) if self.scalar else None) or TEMPLATES.get(e.prim.name)
        if template is not None:
            params = dict(e.params)
            if "index" in params:  # index arrays are the operands after the first
                params["index"] = fill(params["index"], [_Source(a) for a in args[1:]])
            params = {k: self.param(v, in_index=(k == "index" and e.prim.name == "getitem"))
                      for k, v in params.items()}
            return template.format(*args, **params)
        ufunc = self.ufuncs.get(e.prim)
        if ufunc is not None and not e.params:
            return f"{self._ufunc_text(ufunc)}({', '.join(args)})"
        impl = self.bind(e.prim.impl, e.prim.name)
        args += [f"{k}={self.param(v)}" for k, v in e.params.items()]
        return f"{impl}({', '.join(args)})"



class _Source:
    """Python source already written (an operand), placed inside a param."""

    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text


_counter = itertools.count()


def strong_scalar(x):
    """Python floats as float64 scalars, as they were traced (NumPy would
    otherwise treat them as weakly typed and results could change dtype).

    Example:
        >>> type(strong_scalar(1.5)).__name__
        'float64'
    """
    if type(x) is float:
        return np.float64(x)
    if type(x) is complex:
        return np.complex128(x)
    return x


def define(source, namespace):
    """Define the function in `source`; tracebacks show its lines.

    Example:
        >>> define("def twice(x): return 2 * x", {})(3)
        6
    """
    filename = f"<chainrule.compile-{next(_counter)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    builtins.exec(builtins.compile(source, filename, "exec"), namespace)
    fun_name = source.split("(", 1)[0][len("def "):]
    fun = namespace[fun_name]
    fun.__source__ = source
    return fun
