"""The Hessian of a scalar function at one point as a linear operator.

`hessian_operator(fun, primals)` never forms the Hessian: each product is
an exact Hessian-vector product (forward mode over the reverse-mode
gradient). The product `(x, v) -> H(x) v` is compiled ONCE per function
and shapes (`route="graph"`, the default): the point x is an argument of
the compiled program, not a constant baked into it, and the program is
split by partial evaluation (`chainrule.graph.split`) into a per-point
part (everything that does not depend on v: the forward pass, the value,
the gradient and the residuals the product reads) and a per-vector part.
Building the operator at a new point runs only the per-point part (no
tracing, no code generation); each product runs only the per-vector
part. Python control flow on the point's values is guarded as under
`cr.compile`: a point that takes another branch is traced for its own
path. The compiled programs are cached per function object (and the
objects it depends on besides its arguments: its closure, the globals its
code names, a bound method's instance and attributes, recursively for the
functions among them), and reused only while each of those is the same
object; as with `cr.compile`, an array captured this way and then changed
in place may not be seen (pass changing data as an argument).

`route="linearize"` traces the tangent map `v -> H v` at each point, with
the point held as a constant, and interprets it equation by equation.
Functions that cannot be traced (fun closes over a value being
differentiated, as when the operator is itself inside `cr.grad`, or its
arrays are not NumPy's) fall back to a plain forward-over-reverse product
per vector (`route="eager"`), which redoes the primal work every time.

`matmat` pushes a whole block of vectors through one batched (vmapped)
product. The operator is `scipy.sparse.linalg.LinearOperator`-compatible
(`shape`, `dtype`, `matvec`, `rmatvec`, `matmat`, `@`), and `to_scipy()`
wraps it as a real one when SciPy is installed.

Example:
    >>> import numpy as np
    >>> H = hessian_operator(lambda x: np.sum(x ** 3), (np.array([1.0, 2.0]),))
    >>> H.shape, H @ np.array([1.0, 1.0])
    ((2, 2), array([ 6., 12.]))
"""

import functools
import weakref

import numpy as np

from ..api import jvp, value_and_grad
from ..core.box import Box
from ..core.tree import tree_flatten
from ..graph import ValueDependentError, eval_graph, optimize, trace
from ..graph.split import staged
from ..graph.trace import is_traced_leaf
from ..jacobians import vmap
from .dense import dense_from_products
from .flat import FlatView

ROUTES = ("auto", "graph", "linearize", "eager")


def hessian_operator(fun, primals, argnums=0, route="auto"):
    """The Hessian of scalar `fun` at `primals` as an operator of shape (n, n).

    primals is a tuple of fun's positional arguments; the Hessian is with
    respect to the flattened leaves (nested tuples, lists and dicts of
    arrays laid end to end, see `FlatView`) of the argument(s) named by
    argnums. Products are exact Hessian-vector products; see the module
    docstring for `route`.

    Example:
        >>> import numpy as np
        >>> f = lambda p, c: np.sum(p["w"] ** 2 * c) + p["b"] ** 3
        >>> H = hessian_operator(f, ({"b": 1.0, "w": np.ones(2)}, np.array([1.0, 2.0])))
        >>> H.todense()
        array([[6., 0., 0.],
               [0., 2., 0.],
               [0., 0., 4.]])
    """
    return HessianOperator(fun, primals, argnums, route)


class HessianOperator:
    """See `hessian_operator`. `nprod` counts the vectors multiplied so far."""

    __array_ufunc__ = None  # `array @ operator` calls our __rmatmul__

    def __init__(self, fun, primals, argnums=0, route="auto"):
        if not isinstance(primals, (tuple, list)):
            raise TypeError("primals must be a tuple of fun's positional arguments, e.g. (x,)")
        if route not in ROUTES:
            raise ValueError(f"route must be one of {ROUTES}, got {route!r}")
        primals = tuple(primals)
        nums = (argnums,) if isinstance(argnums, (int, np.integer)) else tuple(argnums)
        for k in nums:
            if not -len(primals) <= k < len(primals):
                raise ValueError(f"argnums names argument {k} but primals holds {len(primals)}")
        nums = tuple(k % len(primals) for k in nums)
        chosen = primals[nums[0]] if isinstance(argnums, (int, np.integer)) else tuple(primals[k] for k in nums)
        self.view = view = FlatView(chosen)
        self.shape = (view.size, view.size)
        self.dtype = np.dtype(view.dtype)
        self.point = np.array(view.ravel(chosen), self.dtype, copy=True)  # callers may reuse their buffer
        self.route = route
        self.nprod = 0
        single = isinstance(argnums, (int, np.integer))

        def flat_fun(x):
            args = list(primals)
            parts = view.unravel(x)
            for k, part in zip(nums, [parts] if single else parts):
                args[k] = part
            return fun(*args)

        self.flat_fun = flat_fun
        self.requested = route
        self.value = self.gradient = None  # fun and its gradient at the point, see prepare()
        self._programs = {}  # number of columns (None for a vector) -> callable
        self._fun, self._nums, self._single = fun, nums, single
        self._recipe = (fun, primals, argnums, route)
        self._points = {}  # columns -> the staged product's Point (graph route)
        self._others = tuple(p for k, p in enumerate(primals) if k not in nums)
        self._nprimals = len(primals)

    def _tangent_map(self, v):
        """v -> H v, forward over reverse at the point; the primal value and
        gradient it computes on the way are kept (they cost nothing extra)."""
        (value, g), (_, hv) = jvp(value_and_grad(self.flat_fun), (self.point,), (v,))
        if self.gradient is None and not isinstance(g, Box) and not isinstance(value, Box):
            self.value, self.gradient = value, np.asarray(g)
        return hv

    # ---- the products ------------------------------------------------------
    def prepare(self):
        """Do the point's work now (run the product's per-point part,
        compiling the product first if this function and these shapes have
        none yet; on the eager route evaluate fun and its gradient); afterwards `value` and
        `gradient` hold fun and its flat gradient at the point. Products call
        this themselves. Returns self.

        Example:
            >>> import numpy as np
            >>> H = hessian_operator(lambda x: np.sum(x ** 3), (np.array([1.0, 2.0]),)).prepare()
            >>> float(H.value), H.gradient
            (9.0, array([ 3., 12.]))
        """
        self._program(None)
        point = self._points.get(None)
        if self.gradient is None and point is not None and point.program is not None:
            value, g, _ = point.fixed_outputs()  # computed by the per-point part
            self.value, self.gradient = value, np.asarray(g)
        if self.gradient is None:  # the eager route, or fun closes over a box
            value, g = value_and_grad(self.flat_fun)(self.point)
            if not isinstance(g, Box):
                self.value, self.gradient = value, np.asarray(g)
        return self

    @property
    def traces(self):
        """How often the vector product of this function (at these shapes)
        has been traced: shared by every operator of the function, 1 after
        any number of points on one path, 0 off the graph route.

        Example:
            >>> import numpy as np
            >>> f = lambda x: np.sum(np.exp(x))
            >>> [hessian_operator(f, (np.full(3, t),)).traces for t in (0.0, 1.0, 2.0)]
            [1, 1, 1]
        """
        self._program(None)
        point = self._points.get(None)
        return point.staged.traces if point is not None else 0

    def _program(self, columns):
        program = self._programs.get(columns)
        if program is not None:
            return program
        fun = self._tangent_map if columns is None else vmap(self._tangent_map, in_axes=1, out_axes=1)
        example = np.zeros(self.shape[0] if columns is None else (self.shape[0], columns), self.dtype)
        route = self.requested
        if route in ("auto", "graph"):
            program, route = self._staged_program(columns, example)
        elif route == "linearize":
            graph = optimize(trace(fun, example))
            program = lambda v, graph=graph: eval_graph(graph, v)[0]  # noqa: E731
        if route == "eager":
            program = fun
        if columns is None or self.route == "auto":
            self.route = route
        self._programs[columns] = program
        return program

    def _staged_program(self, columns, example):
        """`(program, route)`: the product compiled once per function and
        shapes, its per-point part run here (see `chainrule.graph.split`)."""
        leaves = tree_flatten(list(self._others))[0]
        if any(isinstance(x, Box) for x in leaves) or not all(map(_plain, leaves)):
            if self.requested == "graph":
                raise ValueDependentError(
                    "route='graph' compiles the product, but the other arguments are being "
                    "differentiated or are not NumPy arrays; use route='auto' or 'eager'")
            return None, "eager"
        if all(map(_hashable, leaves)):
            program = _staged_for(self._fun, self._nums, self._single, self._nprimals, self.view, columns)
            point = program.at(self.point, example, *self._others)
        else:  # unhashable arguments cannot key a shared program: one for this operator
            program = _staged_for(self.flat_fun, (0,), True, 1, FlatView(self.point), columns)
            point = program.at(self.point, example)
        if point.program is None:
            if self.requested == "graph":
                raise program.error or ValueDependentError("the product could not be compiled")
            return None, "eager"
        self._points[columns] = point
        if columns is None:
            return (lambda v, point=point: point(v)[2]), "graph"
        return (lambda V, point=point: point(V)), "graph"

    def _apply(self, v, columns):
        out = self._program(columns)(v)
        if isinstance(out, Box):  # fun closes over a value being differentiated
            return out
        # a private copy: the program may hand back one of its constants
        return np.array(out, dtype=self.dtype, copy=True)

    def matvec(self, v):
        """H v for a vector v of shape (n,) (or (n, 1))."""
        v = np.asarray(v)
        n = self.shape[0]
        if v.shape not in ((n,), (n, 1)):
            raise ValueError(f"matvec needs a vector of shape ({n},), got shape {v.shape}")
        self.nprod += 1
        out = self._apply(np.asarray(v.reshape(n), self.dtype), None)
        return out.reshape(v.shape)

    def matmat(self, V):
        """H V for a matrix V of shape (n, k): all k products in one batched pass."""
        V = np.asarray(V)
        n = self.shape[0]
        if V.ndim != 2 or V.shape[0] != n:
            raise ValueError(f"matmat needs a matrix of shape ({n}, k), got shape {V.shape}")
        if V.shape[1] == 1:
            return self.matvec(V)
        if V.shape[1] == 0:
            return np.zeros((n, 0), self.dtype)
        self.nprod += V.shape[1]
        return self._apply(np.asarray(V, self.dtype), V.shape[1])

    rmatvec = matvec  # the Hessian is symmetric
    rmatmat = matmat

    def __matmul__(self, x):
        x = np.asarray(x)
        if x.ndim == 1:
            return self.matvec(x)
        if x.ndim == 2:
            return self.matmat(x)
        raise ValueError(f"an operator multiplies vectors and matrices, not arrays of shape {x.shape}")

    def __rmatmul__(self, x):
        x = np.asarray(x)
        if x.ndim == 1:
            return self.matvec(x)
        if x.ndim == 2:
            return self.matmat(x.T).T
        raise ValueError(f"an operator multiplies vectors and matrices, not arrays of shape {x.shape}")

    dot = __matmul__

    def transpose(self):
        return self

    adjoint = transpose
    T = property(transpose)
    H = property(transpose)
    ndim = 2

    def todense(self, block=None):
        """The dense Hessian from one-hot products, `block` columns per batch.

        Example:
            >>> import numpy as np
            >>> hessian_operator(lambda x: x[0] * x[1], (np.ones(2),)).todense()
            array([[0., 1.],
                   [1., 0.]])
        """
        return dense_from_products(self.matmat, self.shape[0], self.dtype, block)

    def to_scipy(self):
        """This operator as a `scipy.sparse.linalg.LinearOperator` (SciPy needed)."""
        from scipy.sparse.linalg import LinearOperator

        return LinearOperator(self.shape, matvec=self.matvec, rmatvec=self.matvec,
                              matmat=self.matmat, rmatmat=self.matmat, dtype=self.dtype)

    def __repr__(self):
        return f"<{self.shape[0]}x{self.shape[1]} HessianOperator, route={self.route}>"

    def __reduce__(self):
        # pickled (for a Dask worker, see `distribute`) as the recipe: the
        # receiving process builds and compiles its own products
        return hessian_operator, self._recipe


# --------------------------------------------------------------------------
# the compiled products, shared by every operator of one function

_STAGED = weakref.WeakKeyDictionary()  # fun -> {key: Staged}
_MAX_PER_FUN = 4


def _plain(leaf):
    """NumPy arrays and scalars, and Python values: what the graph route
    compiles (other array libraries take the eager route)."""
    return isinstance(leaf, (np.ndarray, np.generic)) or not hasattr(leaf, "__array_function__")


def _state(fun, depth=3, found=None, seen=None):
    """The objects fun's result may depend on besides its arguments: the
    contents of its closure, the globals its code names, the instance of a
    bound method and its attributes; recursively (to `depth`) for the
    functions among them. A program compiled for fun is reused only while
    every one of them is the same object (a rebound global, closure
    variable or attribute gets a new program)."""
    found = [] if found is None else found
    seen = set() if seen is None else seen
    if id(fun) in seen or depth < 0:
        return found
    seen.add(id(fun))
    if isinstance(fun, functools.partial):
        found.extend([fun.func, *fun.args, *fun.keywords.values()])
        return _state(fun.func, depth - 1, found, seen)
    if not hasattr(fun, "__code__") and not hasattr(fun, "__func__"):
        call = getattr(fun, "__call__", None)  # a callable object: its method and attributes
        if getattr(call, "__func__", None) is not None:
            return _state(call, depth, found, seen)
        return found
    owner = getattr(fun, "__func__", fun)
    if getattr(fun, "__self__", None) is not None and hasattr(fun, "__func__"):
        found.append(fun.__self__)
        found.extend(getattr(fun.__self__, "__dict__", {}).values())
    inner = []
    for cell in getattr(owner, "__closure__", None) or ():
        value = cell.cell_contents  # ValueError for an empty cell, handled by the caller
        found.append(value)
        inner.append(value)
    code, names = getattr(owner, "__code__", None), getattr(owner, "__globals__", None)
    if code is not None and names is not None:
        for name in code.co_names:
            if name in names:
                found.append(names[name])
                inner.append(names[name])
    for value in inner:
        if callable(value) and (hasattr(value, "__code__") or hasattr(value, "__func__")):
            _state(value, depth - 1, found, seen)
    return found


def _hashable(leaf):
    if is_traced_leaf(leaf):
        return True
    try:
        hash(leaf)
    except TypeError:
        return False
    return True


def _staged_for(fun, nums, single, nprimals, view, columns):
    """The staged product `(x, v, *others) -> (value, gradient, H v)` (or,
    for a block of `columns` vectors, `H V`) of fun, built once per function,
    argument layout and state (see `_state`)."""
    owner = fun
    if getattr(fun, "__self__", None) is not None and hasattr(fun, "__func__"):
        owner = fun.__func__  # a new bound-method object per attribute access: key on its parts
    try:
        state = tuple(_state(fun))
    except ValueError:  # an empty closure cell: the function is still being built
        state = None
    key = (nums, single, nprimals, view.spec, tuple(view.shapes), view.dtype, columns,
           None if state is None else tuple(map(id, state)))
    try:
        table = _STAGED.setdefault(owner, {})
    except TypeError:  # not weakly referenceable: nothing shared
        table = {}
    program = table.get(key) if state is not None else None
    if program is None:
        program = staged(_product(fun, nums, single, nprimals, view, columns), varying=[1])
        program.state = state  # alive as long as the entry: their ids stay unique
        if state is not None:
            table[key] = program
            while len(table) > _MAX_PER_FUN:
                table.pop(next(iter(table)))
    return program


def _product(fun, nums, single, nprimals, view, columns):
    def build(x, others):
        args, rest = [None] * nprimals, iter(others)
        parts = view.unravel(x)
        for k, part in zip(nums, [parts] if single else parts):
            args[k] = part
        return [next(rest) if k not in nums else a for k, a in enumerate(args)]

    if columns is None:
        def hessian_vector_product(x, v, *others):
            vg = value_and_grad(lambda y: fun(*build(y, others)))
            (value, g), (_, hv) = jvp(vg, (x,), (v,))
            return value, g, hv
        return hessian_vector_product

    def hessian_matrix_product(x, V, *others):
        vg = value_and_grad(lambda y: fun(*build(y, others)))
        return vmap(lambda u: jvp(vg, (x,), (u,))[1][1], in_axes=1, out_axes=1)(V)
    return hessian_matrix_product
