"""Tracing: run a function on symbolic boxes and record its graph.

A `SymbolicBox` knows only the shape and dtype of its value; every primitive
applied to it is recorded as an equation by its `SymbolicTrace`. The output
shapes and dtypes of an equation come from running the primitive's impl on
small example arrays of the right shapes and dtypes (zeros), which is
simple and always agrees with NumPy. Because gradients are computed by
running the derivative rules with `np.*` calls, tracing `cr.grad(f)` records
the backward pass too: one source of truth for derivatives.

Example:
    >>> import numpy as np
    >>> import chainrule as cr
    >>> g = trace(cr.grad(lambda x: np.sum(np.sin(x))), np.zeros(3))
    >>> " ".join(e.prim.name for e in g.eqns)
    'sin sum cos multiply'
"""

import contextlib
import contextvars
import inspect
import operator
import os
import sys
import warnings

import numpy as np

from ..arraylibs import is_dask
from ..core.box import Box
from ..core.errors import ChainruleError
from ..core.trace import Trace
from ..core.tree import tree_flatten, tree_unflatten
from .ir import Eqn, Graph, Lit, Var, param_vars, substitute


class ValueDependentError(ChainruleError, TypeError):
    """Graph tracing met code that needs the value of a traced array."""


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_NUMPY_DIR = os.path.dirname(os.path.abspath(np.__file__))
_GRAPH_DIR = os.path.dirname(os.path.abspath(__file__))
_CORE_DIR = os.path.join(_PACKAGE_DIR, "core")


def _frame_line(frame):
    info = inspect.getframeinfo(frame, context=1)
    code = info.code_context[0].strip() if info.code_context else ""
    return f"{info.filename}:{info.lineno}: {code}"


def user_line():
    """`file:line: code` of the innermost frame outside chainrule and NumPy,
    followed by the innermost chainrule line outside this graph package when
    the value was needed inside the library (a rule) rather than user code."""
    frame = sys._getframe(1)
    library = None
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not (path.startswith(_PACKAGE_DIR) or path.startswith(_NUMPY_DIR)):
            where = _frame_line(frame)
            return where if library is None else f"{where}\n(inside chainrule at {library})"
        if library is None and path.startswith(_PACKAGE_DIR) and not path.startswith(_GRAPH_DIR) \
                and not path.startswith(_CORE_DIR):
            library = _frame_line(frame)
        frame = frame.f_back
    return "<unknown line>"


def _value_dependent(what):
    return ValueDependentError(
        f"{user_line()}\n{what} needs the value of a traced array, but graph tracing "
        "(trace / compile) knows only shapes and dtypes. Write the branch with "
        "np.where(...), or differentiate this function eagerly with cr.grad "
        "instead of compiling it."
    )


class SymbolicValue:
    """What `raw(x)` gives under graph tracing: the traced value below every
    differentiation, which is still symbolic. NumPy calls and operators on
    it are forwarded to its box, so they are recorded in the graph (and are
    constants for the differentiations above, as raw values are). Shape and
    dtype queries are answered directly; np.asarray and bool() need values
    that do not exist yet, and raise ValueDependentError."""

    __slots__ = ("box",)
    __array_priority__ = 200.0
    _SHAPE_ONLY = {np.shape, np.ndim, np.size, np.result_type,
                   np.ones_like, np.zeros_like, np.empty_like, np.full_like}

    def __init__(self, box):
        self.box = box

    var = property(lambda self: self.box._var)
    shape = property(lambda self: self.box._var.shape)
    dtype = property(lambda self: self.box._var.dtype)
    ndim = property(lambda self: self.box._var.ndim)
    size = property(lambda self: self.box._var.size)

    def __array_function__(self, func, types, args, kwargs):
        if func in self._SHAPE_ONLY:
            args = [np.broadcast_to(np.zeros((), a.dtype), a.shape)
                    if isinstance(a, SymbolicValue) else a for a in args]
            return func(*args, **kwargs)
        return func(*_boxes(args), **dict(zip(kwargs, _boxes(kwargs.values()))))

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return getattr(ufunc, method)(*_boxes(inputs), **kwargs)

    def __getattr__(self, name):  # array methods: x.sum(), x.T, x.reshape(...)
        return getattr(self.box, name)

    # reading the value: refused, or (compile) a guarded specialisation
    def __array__(self, *args, **kwargs):
        return self.box.__array__(*args, **kwargs)

    def __bool__(self):
        return self.box.__bool__()

    def __float__(self):
        return self.box.__float__()

    def __int__(self):
        return self.box.__int__()

    def __index__(self):
        return self.box.__index__()

    def __complex__(self):
        return self.box.__complex__()

    def __len__(self):
        return len(self.box)

    def __repr__(self):
        return f"SymbolicValue({self.var!r})"


def _boxes(values):
    return [v.box if isinstance(v, SymbolicValue) else v for v in values]


def _forward(name):
    def method(self, *args):
        return getattr(self.box, name)(*_boxes(args))
    method.__name__ = name
    return method


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
              "__truediv__", "__rtruediv__", "__pow__", "__rpow__", "__mod__", "__rmod__",
              "__floordiv__", "__rfloordiv__", "__matmul__", "__rmatmul__", "__neg__",
              "__pos__", "__abs__", "__invert__", "__and__", "__rand__", "__or__", "__ror__",
              "__xor__", "__rxor__", "__lt__", "__le__", "__gt__", "__ge__", "__eq__",
              "__ne__", "__getitem__", "__iter__"):
    setattr(SymbolicValue, _name, _forward(_name))
SymbolicValue.__hash__ = object.__hash__


def _refuse_value(what, convert):
    """A conversion of a SymbolicBox to a Python value: refused (plain
    tracing), or under guarded tracing (compile) the traced value computed
    from the example arguments, with a guard recording the decision."""
    def method(self, *args, **kwargs):
        t = self._trace
        if t.concrete is None:
            raise _value_dependent(what)
        value = t.value_of(self._var)
        result = convert(value, *args, **kwargs)
        if convert is bool:
            t.add_guard(self._var, "bool", result, user_line())
        else:
            t.add_guard(self._var, "value", np.array(value, copy=True), user_line())
        return result
    method.__name__ = what
    return method


def _as_array(value, dtype=None, copy=None):
    return np.array(value, dtype=dtype, copy=True)


class SymbolicBox(Box):
    """A traced value known only by shape and dtype; `_var` is its graph Var."""

    __slots__ = ("_var",)

    def __init__(self, var, trace):
        self._var = var
        self._value = SymbolicValue(self)
        self._trace = trace

    @property
    def shape(self):
        return self._var.shape

    @property
    def dtype(self):
        return self._var.dtype

    @property
    def ndim(self):
        return len(self._var.shape)

    @property
    def size(self):
        return self._var.size

    def __repr__(self):
        return f"SymbolicBox({self._var!r}, level={self._trace.level})"

    def __array__(self, *args, **kwargs):
        if self._trace.concrete is not None:
            return _array_guarded(self, *args, **kwargs)
        what = "np.asarray / np.array"
        if self.dtype.kind in "iub":  # most likely `plain_array[traced_index]`
            what += (" (NumPy converts a traced index used on a plain array: index a "
                     "traced array, or compare, as in one-hot rows `labels[:, None] == "
                     "np.arange(k)`)")
        raise _value_dependent(what)

    # logical operators on boolean results (masks), which carry no derivative
    def __invert__(self): return np.invert(self)
    def __and__(self, other): return np.bitwise_and(self, other)
    def __rand__(self, other): return np.bitwise_and(other, self)
    def __or__(self, other): return np.bitwise_or(self, other)
    def __ror__(self, other): return np.bitwise_or(other, self)
    def __xor__(self, other): return np.bitwise_xor(self, other)
    def __rxor__(self, other): return np.bitwise_xor(other, self)

    __bool__ = _refuse_value("Python control flow (if, while, and, or, bool())", bool)
    __float__ = _refuse_value("float()", float)
    __int__ = _refuse_value("int()", int)
    __complex__ = _refuse_value("complex()", complex)
    __index__ = _refuse_value("Use as an index", operator.index)
    item = _refuse_value(".item()", lambda v, *a: v.item(*a))
    tolist = _refuse_value(".tolist()", lambda v: v.tolist())


_array_guarded = _refuse_value("np.asarray / np.array", _as_array)


class SymbolicTrace(Trace):
    """Records every primitive applied to its boxes as an equation.

    Example:
        >>> t = SymbolicTrace()
        >>> x = t.new_input(Var("x", (3,), np.dtype("float64")))
        >>> y = np.exp(x)
        >>> t.eqns[0].prim.name, y.shape
        ('exp', (3,))
    """

    __slots__ = ("eqns", "consts", "_const_ids", "concrete", "guards", "_evaluated")

    def __init__(self):
        super().__init__()
        self.eqns = []
        self.consts = {}
        self._const_ids = {}  # id(array) -> Var
        # guarded tracing (compile): Var -> value on the example arguments,
        # filled lazily; None for plain tracing, which knows no values
        self.concrete = None
        self.guards = []
        self._evaluated = 0  # equations whose values are in `concrete`

    def value_of(self, var):
        """The value of `var` on the example arguments (guarded tracing):
        the equations recorded so far are evaluated once, lazily."""
        env = self.concrete
        while var not in env and self._evaluated < len(self.eqns):
            _evaluate(self.eqns[self._evaluated], env)
            self._evaluated += 1
        return env[var]

    def add_guard(self, var, kind, expected, where):
        """Record a decision the trace specialised on (see graph.guards)."""
        from .guards import Guard
        self.guards.append(Guard(var, kind, expected, where))

    def new_input(self, var):
        return SymbolicBox(var, self)

    def read(self, value):
        """The graph operand for an argument: a Var or a Lit."""
        if isinstance(value, SymbolicBox) and value._trace is self:
            return value._var
        if isinstance(value, Box):
            raise ValueDependentError(
                "a value differentiated outside the traced function was captured by it; "
                "pass it as an argument of the traced function instead")
        if isinstance(value, SymbolicValue):
            return value.var
        if value is None or isinstance(value, (bool, int, float, complex, np.generic)):
            return Lit(value)
        if is_dask(value):  # a constant would compute it, all of it, here
            raise ValueDependentError(
                f"{user_line()}\na Dask array captured by the traced function (a closure or a "
                "global) would be computed into a constant; pass it as an argument instead")
        return self.const(np.asarray(value))

    def const(self, array):
        """A Var for an array captured while tracing (one per array object)."""
        var = self._const_ids.get(id(array))
        if var is None:
            var = Var("c", array.shape, array.dtype)
            self._const_ids[id(array)] = var
            self.consts[var] = array
            if self.concrete is not None:
                self.concrete[var] = array
        return var

    def _read_param(self, value):
        """A param with its traced values as Vars (a traced option of a
        function without derivative; index arrays are operands instead)."""
        if isinstance(value, (SymbolicBox, SymbolicValue)):
            return self.read(value)
        if isinstance(value, (tuple, list)):
            return type(value)(self._read_param(v) for v in value)
        return value

    def process(self, prim, args, params):
        inputs = [self.read(a) for a in args]
        params = {k: self._read_param(p) for k, p in params.items()}
        ans = None
        try:
            specs, container = infer_outputs(prim, inputs, params)
        except Exception:
            if self.concrete is None:
                raise
            # guarded tracing: the shapes this path has on the example
            # arguments (a value-dependent shape, or operands that only
            # make sense together, like a mask and the values it scatters)
            ans, specs, container = self._run_concrete(prim, inputs, params)
        outputs = [Var(prim.name, shape, dtype) for shape, dtype in specs]
        eqn = Eqn(prim, inputs, outputs, params, multiple=container is not None)
        self.eqns.append(eqn)
        if ans is not None:
            self.concrete.update(zip(outputs, ans) if eqn.multiple else [(outputs[0], ans)])
            self._evaluated = len(self.eqns)
            where = user_line()
            for v in outputs:
                self.add_guard(v, "shape", v.shape, where)
        boxes = [SymbolicBox(v, self) for v in outputs]
        if container is None:
            return boxes[0]
        return container(*boxes) if hasattr(container, "_fields") else container(boxes)

    def _run_concrete(self, prim, inputs, params):
        """(result, output specs, container) of prim on the example values."""
        env = self.concrete
        while self._evaluated < len(self.eqns):
            _evaluate(self.eqns[self._evaluated], env)
            self._evaluated += 1
        ans = _apply(prim, inputs, params, env)
        if prim.multiple_results or isinstance(ans, (tuple, list)):
            return list(ans), [(np.shape(a), np.result_type(a)) for a in ans], type(ans)
        return ans, [(np.shape(ans), np.result_type(ans))], None


def _apply(prim, inputs, params, env):
    val = lambda a: env[a] if isinstance(a, Var) else a.value  # noqa: E731
    params = {k: substitute(p, env) for k, p in params.items()}
    return prim.impl(*[val(a) for a in inputs], **params)


def _evaluate(eqn, env):
    ans = _apply(eqn.prim, eqn.inputs, eqn.params, env)
    env.update(zip(eqn.outputs, ans) if eqn.multiple else [(eqn.outputs[0], ans)])


# --------------------------------------------------------------------------
# output shapes and dtypes

_infer_cache = {}


_lazy_examples = contextvars.ContextVar("chainrule_lazy_examples", default=False)


@contextlib.contextmanager
def lazy_examples():
    """Within it, the example operands that settle output shapes are Dask
    arrays: nothing is computed, whatever the shapes (compiling for Dask
    arguments larger than memory).

    Example:
        >>> with lazy_examples():
        ...     graph = trace(lambda x: np.sum(x * 2.0), np.zeros(3))
        >>> graph.outputs[0].shape
        ()
    """
    token = _lazy_examples.set(True)
    try:
        yield
    finally:
        _lazy_examples.reset(token)


def _lazy_example(shape, dtype, attempt):
    import dask.array as da
    dtype = np.dtype(dtype)
    if attempt == 0:
        return da.zeros(shape, dtype)
    if attempt == 1:
        if len(shape) >= 2 and shape[-1] == shape[-2]:
            return da.broadcast_to(da.eye(shape[-1], dtype=dtype), shape)
        return da.ones(shape, dtype)
    if dtype.kind in "fc":
        return da.random.default_rng(0).random(shape).astype(dtype)
    if dtype.kind == "b":
        return da.random.default_rng(0).random(shape) < 0.5
    return da.zeros(shape, dtype)


def _example(shape, dtype, attempt):
    """Example operand values: zeros (attempt 0); the identity for square
    matrices, else ones, for primitives that reject zeros (attempt 1);
    random values, to see whether output shapes depend on values (attempt 2).
    Lazy Dask arrays within `lazy_examples()`."""
    if _lazy_examples.get():
        return _lazy_example(shape, dtype, attempt)
    if attempt == 0:
        return np.zeros(shape, dtype)
    if attempt == 1:
        if len(shape) >= 2 and shape[-1] == shape[-2]:
            return np.broadcast_to(np.eye(shape[-1], dtype=dtype), shape).copy()
        return np.ones(shape, dtype)
    rng = np.random.default_rng(0)
    if np.dtype(dtype).kind in "fc":
        return rng.random(shape).astype(dtype)
    if np.dtype(dtype).kind == "b":
        return rng.random(shape) < 0.5
    return np.zeros(shape, dtype)  # integers are often indices: keep them valid


def _freeze(value):
    if isinstance(value, Var):
        return ("var", value.shape, value.dtype)
    if isinstance(value, (tuple, list)):
        return (type(value),) + tuple(_freeze(v) for v in value)
    if isinstance(value, slice):
        return ("slice", _freeze(value.start), _freeze(value.stop), _freeze(value.step))
    if isinstance(value, float):
        return (float, repr(value))
    hash(value)  # TypeError for arrays and other unhashable params: no caching
    return (type(value), value)


def infer_outputs(prim, inputs, params):
    """`([(shape, dtype) per output], container)` of `prim` on these operands;
    container is None for a single output, else the type of the result tuple."""
    try:
        key = (prim, tuple(_freeze(a.value) if isinstance(a, Lit) else _freeze(a) for a in inputs),
               tuple((k, _freeze(p)) for k, p in params.items()), _lazy_examples.get())
    except TypeError:
        key = None
    if key is not None and key in _infer_cache:
        return _infer_cache[key]
    shapes_of = getattr(prim, "output_shapes", None)  # a primitive that states its shapes
    if shapes_of is not None:
        return shapes_of([(np.shape(a.value), np.result_type(a.value)) if isinstance(a, Lit)
                          else (a.shape, a.dtype) for a in inputs], params)
    try:
        result = _run_on_examples(prim, inputs, params, attempt=0)
    except Exception as first:
        try:
            result = _run_on_examples(prim, inputs, params, attempt=1)
        except Exception:
            raise first from None
    if _shape_only_on_shapes(prim):
        other = result
    else:
        try:
            other = _run_on_examples(prim, inputs, params, attempt=2)
        except Exception:
            other = result
    unknown = any(d != d for s, _ in result[0] for d in s)  # Dask's nan: a value-dependent length
    if unknown or [s for s, _ in other[0]] != [s for s, _ in result[0]]:
        raise _value_dependent(f"{prim.name}, whose output shape depends on the values of its "
                               "operands,")
    if key is not None:
        if len(_infer_cache) > 50_000:
            _infer_cache.clear()
        _infer_cache[key] = result
    return result


# primitives whose output shapes depend on operand shapes alone (besides
# every ufunc): no second run on random values to check (on large operands
# that run costs more than the rest of tracing)
_SHAPE_STABLE = {"matmul", "sum", "reshape", "transpose", "broadcast_to", "where", "astype",
                 "dot", "tensordot", "einsum", "concatenate", "stack"}


def _shape_only_on_shapes(prim):
    from ..core.primitive import UFUNCS
    return prim.name in _SHAPE_STABLE or prim in UFUNCS.values()


def _run_on_examples(prim, inputs, params, attempt):
    examples = {}

    def example(v):
        if v not in examples:
            examples[v] = _example(v.shape, v.dtype, attempt)
        return examples[v]

    args = [a.value if isinstance(a, Lit) else example(a) for a in inputs]
    for p in params.values():
        for v in param_vars(p):
            example(v)
    params = {k: substitute(p, examples) for k, p in params.items()}
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ans = prim.impl(*args, **params)
    if prim.multiple_results or isinstance(ans, (tuple, list)):
        return [(np.shape(a), np.result_type(a)) for a in ans], type(ans)
    return [(np.shape(ans), np.result_type(ans))], None


# --------------------------------------------------------------------------
# the entry point

def is_traced_leaf(leaf):
    """Arrays, NumPy scalars and Python floats are traced; ints, bools, strings
    and other objects are static (their values are part of the graph)."""
    return isinstance(leaf, (np.ndarray, np.generic, float, complex)) and not isinstance(leaf, bool)


def trace(fun, *example_args, guarded=False):
    """The graph of `fun` at the shapes and dtypes of `example_args`.

    Arguments may be nested tuples, lists and dicts; their array leaves
    (and Python floats) become the graph's inputs, other leaves are static.
    Arrays captured from outside (closures) become constants. The values of
    the example arrays are never read.

    Example:
        >>> import numpy as np
        >>> print(trace(lambda x, W: np.tanh(x @ W), np.zeros(3), np.zeros((3, 2))))
        graph(x: f64[3], W: f64[3,2]):
          matmul1: f64[2] = matmul(x, W)
          tanh1: f64[2] = tanh(matmul1)
          return tanh1
    """
    leaves, in_tree = tree_flatten(list(example_args))
    names = _leaf_names(fun, example_args)
    t = SymbolicTrace()
    if guarded:
        t.concrete = {}
    inputs, boxed = [], []
    for leaf, name in zip(leaves, names):
        if is_traced_leaf(leaf):
            var = Var(name, np.shape(leaf), np.result_type(leaf))
            inputs.append(var)
            if guarded:  # as compiled programs receive it (see codegen.strong_scalar)
                t.concrete[var] = np.float64(leaf) if type(leaf) is float else leaf
            leaf = t.new_input(var)
        boxed.append(leaf)
    out = fun(*tree_unflatten(in_tree, boxed))
    out_leaves, out_tree = tree_flatten(out)
    outputs = [t.read(o) for o in out_leaves]
    graph = Graph(inputs, t.eqns, outputs, t.consts, in_tree, out_tree)
    return (graph, t.guards) if guarded else graph


def _leaf_names(fun, args):
    """A name hint per leaf: the parameter name, or the dict key / position
    inside a nested argument (`params_W1` -> `W1` when it is a dict key)."""
    try:
        params = [p for p in inspect.signature(_unwrap(fun)).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        arg_names = [p.name for p in params]
    except (TypeError, ValueError):
        arg_names = []
    names = []
    for i, a in enumerate(args):
        base = arg_names[i] if i < len(arg_names) else f"arg{i}"
        _name_leaves(a, base, names, top=True)
    return names


def _unwrap(fun):
    """The user's function under chainrule's transformations (which set
    `__wrapped__`), for its parameter names."""
    return inspect.unwrap(fun)


def _name_leaves(tree, path, names, top=False):
    kind = type(tree)
    if kind is dict:
        for k in sorted(tree):
            _name_leaves(tree[k], str(k) if top else f"{path}_{k}", names)
    elif kind in (tuple, list):
        for k, t in enumerate(tree):
            _name_leaves(t, f"{path}_{k}", names)
    else:
        names.append(path)
