"""The native backend of `compile(fun, backend="numba")` (optional: numba).

* A scalar graph (every value a 0-d float64 or bool) becomes one native
  function: the scalar flavour of the generated source (Python floats and
  `math`), compiled by `numba.njit` with NumPy's error model (1/0 is inf,
  not an exception).
* In an array graph, each chain of elementwise operations whose
  intermediate values are used once, inside the chain, fuses into one
  `numba.vectorize` kernel: a single loop instead of one NumPy call and one
  temporary array per operation. The forward and the backward pass (which
  tracing records alike) both fuse. Contractions, reductions and indexing
  stay NumPy calls, so matrix products stay BLAS calls.

Kernels are cached by their source, so equal chains compile once per
process.

Example:
    >>> import numpy as np
    >>> from chainrule.graph import trace
    >>> g = fuse(trace(lambda x, b: (x + b) * 2.0 - x, np.zeros((2, 3)), np.zeros(3)))
    >>> [e.prim.name for e in g.eqns]  # doctest: +SKIP
    ['fused_add_multiply_subtract']
"""

import math

import numpy as np

from ..core.primitive import Primitive, UFUNCS
from .codegen import SCALAR_TEMPLATES, generate, scalar_ok
from .guards import GuardFailure
from .ir import Eqn, Lit, Var, identifier, reads

_KERNELS = {}  # kernel source -> numba ufunc
_FUSABLE_DTYPES = {np.dtype(np.float64): "float64", np.dtype(bool): "boolean"}


def available():
    """Whether numba imports.

    Example:
        >>> available() in (True, False)
        True
    """
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------
# scalar graphs: one native function

CHUNK = 200  # equations per native part: numba's compile time grows faster than linearly


def compile_scalar(graph, name, guards=()):
    """A native function computing a scalar graph, with `.__source__` (the
    source numba compiled). Long graphs are cut into parts of CHUNK
    equations, each its own native function, called in turn by a native
    driver: numba compiles many small functions much faster than one huge
    one."""
    import numba
    name = identifier(name)
    driver_names = {}
    parts, sources, calls = {}, [], []
    eqns = graph.eqns
    defined_at = {}
    for k, e in enumerate(eqns):
        for v in e.outputs:
            defined_at[v] = k
    last_read = {}
    for k, e in enumerate(eqns):
        for v in reads(e):
            last_read[v] = k
    for o in graph.outputs:
        if isinstance(o, Var):
            last_read[o] = len(eqns)

    def driver_name(v):
        if v not in driver_names:
            driver_names[v] = f"v{len(driver_names)}"
        return driver_names[v]

    for v in graph.inputs:
        driver_name(v)
    for start in range(0, max(len(eqns), 1), CHUNK):
        chunk = eqns[start:start + CHUNK]
        end = start + len(chunk)
        live_in, seen = [], set()
        for e in chunk:
            for v in reads(e):
                if v not in seen and v not in graph.consts and defined_at.get(v, -1) < start:
                    seen.add(v)
                    live_in.append(v)
        live_out = [v for e in chunk for v in e.outputs if last_read.get(v, -1) >= end]
        inside = {v for e in chunk for v in e.outputs}
        part_guards = [g for g in guards if g.var in inside or (start == 0 and g.var in graph.inputs)]
        sub = graph.replace(inputs=live_in, eqns=chunk, outputs=live_out,
                            consts={v: c for v, c in graph.consts.items()})
        pname = f"{name}_part{len(parts)}"
        source, namespace = generate(sub, pname, scalar=True, guards=part_guards, wrap=False)
        if len(live_out) == 1:  # always a tuple, so the driver unpacks alike
            source = source.rsplit("return ", 1)[0] + "return (" + source.rsplit("return ", 1)[1] + ",)"
        namespace = dict(namespace, GuardFailure=GuardFailure)
        exec(compile(source, f"<chainrule.compile numba {pname}>", "exec"), namespace)
        fname = source.split("(", 1)[0][len("def "):]
        parts[fname] = numba.njit(error_model="numpy", cache=False)(namespace[fname])
        sources.append(source)
        outs = ", ".join(driver_name(v) for v in live_out)
        args = ", ".join(driver_name(v) for v in live_in)
        calls.append(f"    {outs + ',' if live_out else '_'} = {fname}({args})")
    results = []
    for o in graph.outputs:
        value = o.value if isinstance(o, Lit) else graph.consts[o][()] if o in graph.consts else None
        if value is not None:
            results.append(repr(bool(value)) if isinstance(value, (bool, np.bool_))
                           else _literal(float(value)))
        else:
            results.append(driver_name(o))
    converts = [bool if v.dtype == bool else float for v in graph.inputs]
    head = f"def {name}_native({', '.join(driver_name(v) for v in graph.inputs)}):"
    driver_source = "\n".join([head] + calls + [f"    return ({', '.join(results)}{',' if len(results) == 1 else ''})"])
    namespace = dict(parts, math=math)
    exec(compile(driver_source, f"<chainrule.compile numba {name}>", "exec"), namespace)
    native = numba.njit(error_model="numpy", cache=False)(namespace[f"{name}_native"])
    types = [numba.boolean if v.dtype == bool else numba.float64 for v in graph.inputs]
    native.compile(tuple(types))  # now, so that what numba cannot compile surfaces here
    wrappers = [np.bool_ if (isinstance(o, Var) and o.dtype == bool) or
                (isinstance(o, Lit) and isinstance(o.value, (bool, np.bool_))) else np.float64
                for o in graph.outputs]
    single = len(wrappers) == 1

    def run(*args):
        out = native(*[c(a) for c, a in zip(converts, args)])
        if single:
            return wrappers[0](out[0])
        return tuple(w(o) for w, o in zip(wrappers, out))

    run.__source__ = "\n\n".join(["# numba.njit(error_model='numpy') on every function"] + sources
                                  + [driver_source])
    run.native = native
    return run


# --------------------------------------------------------------------------
# array graphs: fuse elementwise chains

# what fuses: arithmetic, comparisons and selections. Transcendental
# functions (exp, tanh, log...) stay NumPy calls: NumPy evaluates them with
# SIMD code that a scalar loop of `math` calls does not match, so fusing
# them made the MLP gradient slower (measured round-robin in one process)
FUSED = {"add", "subtract", "multiply", "divide", "negative", "positive", "square",
         "reciprocal", "absolute", "fabs", "less", "less_equal", "greater", "greater_equal",
         "equal", "not_equal", "where", "sqrt"}


def _fusable(e):
    """An elementwise ufunc equation the kernels compute well: in FUSED, no
    params, one float64/bool output, float64/bool operands."""
    if (e.multiple or e.params or e.prim.name not in FUSED or e.prim.name not in SCALAR_TEMPLATES
            or e.prim not in _UFUNC_PRIMS):
        return False
    out = e.outputs[0]
    if out.dtype not in _FUSABLE_DTYPES:
        return False
    for a in e.inputs:
        if isinstance(a, Var):
            if a.dtype not in _FUSABLE_DTYPES:
                return False
        elif not isinstance(a.value, (bool, int, float, np.bool_, np.float64, np.int64)):
            return False
    return True


_UFUNC_PRIMS = set(UFUNCS.values())
# chains with fewer output elements stay NumPy calls: calling a numba ufunc
# costs more than NumPy's dispatch, which a loop over few elements cannot win back
FUSE_MIN_SIZE = 4096


def fuse(graph, keep=()):
    """The graph with each chain of fusable elementwise equations (two or
    more, intermediate values used once and inside the chain, of the
    chain's output shape) replaced by one equation calling a numba kernel.
    Vars in `keep` (guarded values) are never fused away."""
    uses = {}
    for e in graph.eqns:
        for v in reads(e):
            uses[v] = uses.get(v, 0) + 1
    pinned = {o for o in graph.outputs if isinstance(o, Var)} | set(keep)
    producer = {}
    for k, e in enumerate(graph.eqns):
        for v in e.outputs:
            producer[v] = k
    fusable = [_fusable(e) for e in graph.eqns]
    absorbed = set()
    groups = {}  # root index -> member indices, in graph order
    for k in range(len(graph.eqns) - 1, -1, -1):
        if not fusable[k] or k in absorbed or graph.eqns[k].outputs[0].size < FUSE_MIN_SIZE:
            continue
        root_shape = graph.eqns[k].outputs[0].shape
        members, stack = [k], [k]
        while stack:
            e = graph.eqns[stack.pop()]
            for a in e.inputs:
                j = producer.get(a) if isinstance(a, Var) else None
                if (j is not None and fusable[j] and j not in absorbed and uses.get(a) == 1
                        and a not in pinned and a.shape == root_shape and a not in graph.consts):
                    absorbed.add(j)
                    members.append(j)
                    stack.append(j)
        if len(members) > 1:
            groups[k] = sorted(members)
    if not groups:
        return graph
    eqns = []
    for k, e in enumerate(graph.eqns):
        if k in absorbed:
            continue
        eqns.append(_fused_eqn([graph.eqns[j] for j in groups[k]], graph.consts) if k in groups else e)
    return graph.replace(eqns=eqns)


def _fused_eqn(members, consts):
    """One equation computing the chain `members` (the last is the root)."""
    inside = {v for e in members for v in e.outputs}
    leaves, names, lines = [], {}, []

    def operand(a):
        if isinstance(a, Lit):
            return _literal(a.value)
        if a in names:
            return names[a]
        c = consts.get(a)
        if c is not None and c.ndim == 0 and c.dtype in _FUSABLE_DTYPES:
            return _literal(c[()])
        names[a] = f"a{len(leaves)}"
        leaves.append(a)
        return names[a]

    for i, e in enumerate(members):
        args = [operand(a) for a in e.inputs]
        text = SCALAR_TEMPLATES[e.prim.name].format(*args)
        if e.prim.name == "where":  # both branches are values here
            text = f"({text})"
        out = e.outputs[0]
        names[out] = f"t{i}"
        lines.append(f"    t{i} = {text}")
    root = members[-1].outputs[0]
    assert all(v not in inside for v in leaves)
    sig = f"{_FUSABLE_DTYPES[root.dtype]}({', '.join(_FUSABLE_DTYPES[v.dtype] for v in leaves)})"
    params = ", ".join(names[v] for v in leaves)
    body = "\n".join(lines)
    source = f"def kernel({params}):\n{body}\n    return t{len(members) - 1}\n"
    label = "fused_" + "_".join(e.prim.name for e in members)
    kernel = _kernel(source, sig)
    prim = Primitive(label[:60], kernel, differentiable=False, register=False)
    prim.kernel_source = f"@numba.vectorize([{sig!r}])\n" + source
    return Eqn(prim, list(leaves), [root], {}, reuse=_reuse(members, leaves, root))


def _reuse(members, leaves, root):
    """The index of a leaf whose buffer the kernel may write its output
    into (`out=`), or None. Memory planning (passes.plan_memory) marked a
    member that writes into a leaf: that buffer is owned by the program and
    dies there, nothing reads it later, so the chain's output may take it
    when it has the output's shape and dtype. Without it the kernel would
    allocate where the NumPy backend reuses a buffer."""
    for e in members:
        if e.reuse is not None:
            a = e.inputs[e.reuse]
            if a in leaves and a.shape == root.shape and a.dtype == root.dtype:
                return leaves.index(a)
    return None


def _kernel(source, sig):
    key = (source, sig)
    kernel = _KERNELS.get(key)
    if kernel is None:
        import numba
        namespace = {"math": math, "np": np}
        exec(compile(source, "<chainrule fused kernel>", "exec"), namespace)
        kernel = numba.vectorize([sig], nopython=True)(namespace["kernel"])
        _KERNELS[key] = kernel
    return kernel


def _literal(v):
    if isinstance(v, (bool, np.bool_)):
        return repr(bool(v))
    v = float(v) if isinstance(v, (float, np.floating)) else int(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "math.nan"
        if math.isinf(v):
            return "math.inf" if v > 0 else "(-math.inf)"
    return f"({v!r})"


def kernels_source(graph):
    """The sources of the fused kernels a graph calls, for `.source`."""
    return "\n".join(e.prim.kernel_source for e in graph.eqns if hasattr(e.prim, "kernel_source"))


def native_ok(graph):
    """Whether `compile_scalar` applies: a scalar graph (codegen.scalar_ok)
    whose operations numba can type (its scalar templates and NumPy's own
    ufuncs; not SciPy's special functions, which stay NumPy calls)."""
    if not scalar_ok(graph):
        return False
    ufuncs = {p: u for u, p in UFUNCS.items()}
    return all(e.prim.name in SCALAR_TEMPLATES
               or getattr(np, getattr(ufuncs.get(e.prim), "__name__", ""), None) is ufuncs.get(e.prim)
               for e in graph.eqns)
