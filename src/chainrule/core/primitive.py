"""Primitives: NumPy operations paired with their derivative rules.

A primitive states its derivative once, in the form every mode uses:

* `jvp(tangents, args, ans, params)` pushes tangents forward (a `None`
  tangent is a symbolic zero and the result may be `None` too);
* `vjp(g, res, params, which)` pulls the cotangent `g` back to the argument
  positions in `which`, returning one cotangent (or `None`) per position, from
  the residuals `res = save(args, ans, params)` that reverse mode keeps.

Rules are written with ordinary `np.*` calls, so they run on traced values
and are differentiable themselves. Reverse mode reduces a cotangent to the
shape of its argument (un-broadcasting) in the engine, not in each rule.

Most primitives are built by one of the helpers below from a shorter
statement: `elementwise` (a local partial per argument), `linear` (a
transpose), `multilinear` (one VJP per argument) or `nondifferentiable`.

Example:
    >>> import numpy as np
    >>> sin_p = elementwise("my_sin", np.sin, lambda x: np.cos(x), register=False)
    >>> sin_p.vjp(2.0, sin_p.save((0.0,), 0.0, {}), {}, (0,))  # 2 * cos(0)
    [np.float64(2.0)]
"""

import numpy as np

PRIMITIVES = {}  # name -> Primitive: every primitive, for coverage tests and graphs
# chainrule.core.trace.bind, which trace.py sets here when it loads (it cannot be
# imported here, trace needing the box and the box this module; a function-level
# import would cost microseconds on every call of a primitive from a rule)
bind = None


class Primitive:
    """A NumPy operation with its rules; see the module docstring."""

    __slots__ = (
        "name", "impl", "jvp", "vjp", "vjp_of", "save", "differentiable",
        "multiple_results", "batch", "recorders", "__dict__",
    )

    def __init__(self, name, impl, jvp=None, vjp=None, save=None,
                 differentiable=True, multiple_results=False, register=True):
        self.name = name
        self.impl = impl
        self.jvp = jvp
        self.vjp = vjp
        self.save = save or _save_args_and_ans
        self.differentiable = differentiable
        self.multiple_results = multiple_results
        self.batch = None  # batching rule, set by chainrule.core.batch
        # Optional fast path: vjp_of[i](g, res) is argument i's cotangent alone
        # (None for no dependence); reverse mode uses it when i is the only
        # traced argument. Elementwise primitives set it.
        self.vjp_of = None
        self.recorders = None  # reverse mode's recording fast paths, made on first use
        if register:
            if name in PRIMITIVES:
                raise ValueError(f"a primitive named {name!r} already exists")
            PRIMITIVES[name] = self

    def __repr__(self):
        return self.name

    def __call__(self, *args, **params):
        return bind(self, *args, **params)


def _save_args_and_ans(args, ans, params):
    return args, ans


# --------------------------------------------------------------------------
# Elementwise primitives: one local partial derivative per argument.

_ARG_NAMES = ("x", "y", "z", "w")


def elementwise(name, impl, *partials, register=True):
    """A primitive applied element by element (with broadcasting).

    Each partial is the derivative of the output with respect to one
    argument, as a function whose parameter names say what it needs: `x`,
    `y`, `z`, `w` are the arguments by position and `ans` is the output. Reverse
    mode keeps only those values (tanh keeps its output, sin its input). A
    partial may also be the constant 1 or -1, or None (no dependence).

    Example:
        >>> tanh_p = elementwise("my_tanh", np.tanh, lambda ans: 1 - ans**2, register=False)
    """
    n = len(partials)
    needed = set()
    times = []  # per argument: (t, res) -> t * partial, or None for no dependence
    for p in partials:
        if p is None:
            times.append(None)
        elif not callable(p) and p == 1:
            times.append(pass_through)
        elif not callable(p) and p == -1:
            times.append(lambda t, res: -t)
        else:
            code = p.__code__
            names = code.co_varnames[:code.co_argcount]
            idx = tuple(n if a == "ans" else _ARG_NAMES.index(a) for a in names)
            needed.update(idx)
            times.append(_times_partial(p, idx))
    times = tuple(times)
    keep = tuple(k in needed for k in range(n + 1))
    save = _saver(n, keep)

    def times_partial(i, t, res):
        f = times[i]
        return None if f is None else f(t, res)

    def vjp(g, res, params, which):
        return [times_partial(i, g, res) for i in which]

    def jvp(tangents, args, ans, params):
        res = (*args, ans)
        total = None
        for i, t in enumerate(tangents):
            if t is not None:
                term = times_partial(i, t, res)
                if term is not None:
                    total = term if total is None else total + term
        if total is not None and np.shape(total) != np.shape(ans):
            total = np.broadcast_to(_on_library_of(ans, total), np.shape(ans))
        return total

    prim = Primitive(name, impl, jvp=jvp, vjp=vjp, save=save, register=register)
    prim.vjp_of = tuple(f if f is not None else (lambda t, res: None) for f in times)
    prim.partials = partials
    prim.elementwise = True
    return prim


def _on_library_of(ans, t):
    """t, a NumPy (scalar) tangent of a NumPy scalar argument, moved to the array
    library of ans (CuPy, Dask) before it is broadcast to ans's shape."""
    from ..arraylibs import asarray, foreign  # here: arraylibs needs the core loaded
    if foreign(ans) is None or foreign(t) is not None or hasattr(t, "_trace"):  # a Box
        return t
    return asarray(t, like=ans)


def pass_through(t, res):
    """The pullback of a partial derivative 1 (reverse mode tests for it).

    Example:
        >>> pass_through(2.0, None)
        2.0
    """
    return t


_IDENTITY_CODE = (lambda x: x).__code__.co_code


def _times_partial(p, idx):
    """(t, res) -> t * p(res[i] for i in idx), unrolled for speed."""
    if len(idx) == 0:
        return lambda t, res: t * p()
    if len(idx) == 1:
        a, = idx
        if p.__code__.co_code == _IDENTITY_CODE:  # `lambda y: y`: no call
            return lambda t, res: t * res[a]
        return lambda t, res: t * p(res[a])
    if len(idx) == 2:
        a, b = idx
        return lambda t, res: t * p(res[a], res[b])
    return lambda t, res: t * p(*[res[k] for k in idx])


def _saver(n, keep):
    """save(args, ans, params) -> (x, ..., ans), with None for unneeded values;
    `save.keep` says which are kept (reverse mode's fast path reads it)."""
    if n == 1:
        kx, ka = keep
        save = lambda args, ans, params: (args[0] if kx else None, ans if ka else None)  # noqa: E731
    elif n == 2:
        kx, ky, ka = keep
        save = lambda args, ans, params: (args[0] if kx else None,  # noqa: E731
                                          args[1] if ky else None, ans if ka else None)
    else:
        save = lambda args, ans, params: tuple(  # noqa: E731
            [a if k else None for a, k in zip((*args, ans), keep)])
    save.keep = keep
    return save


# --------------------------------------------------------------------------
# Linear and multilinear primitives.

def save_shapes(args, ans, params):
    """Residuals of a linear map: only the shapes of its arguments."""
    return tuple(np.shape(a) for a in args)


def linear(name, impl, transpose, nlinear=1, register=True):
    """A primitive linear in its first `nlinear` arguments (the rest static).

    The JVP is the map itself applied to the tangents; the VJP is
    `transpose(g, shapes, params, which)`, given the argument shapes.

    Example:
        >>> neg_p = linear("my_neg", np.negative, lambda g, shapes, params, which: (-g,),
        ...                register=False)
    """
    def jvp(tangents, args, ans, params):
        ts = tangents[:nlinear]
        if all(t is None for t in ts):
            return None
        if any(t is None for t in ts):  # (imported here: arraylibs needs the core loaded)
            from ..arraylibs import zeros
            ts = [zeros(np.shape(a), float_dtype(a), like=a) if t is None else t for t, a in zip(ts, args)]
        # bind, not impl: tangents may be boxes of other levels (batched, nested)
        return prim(*ts, *args[nlinear:], **params)

    prim = Primitive(name, impl, jvp=jvp, vjp=transpose, save=save_shapes, register=register)
    prim.linear = True
    return prim


def multilinear(name, impl, vjp, register=True):
    """A primitive linear in each argument separately (products, contractions).

    The JVP is the sum over arguments of the map with that argument replaced
    by its tangent; the VJP is given, reading the arguments from `res`.

    Example:
        >>> def outer_vjp(g, res, params, which):
        ...     (x, y), _ = res
        ...     return [g @ y if i == 0 else x @ g for i in which]
        >>> outer_p = multilinear("my_outer", np.outer, outer_vjp, register=False)
    """
    def jvp(tangents, args, ans, params):
        total = None
        for i, t in enumerate(tangents):
            if t is not None:
                term = prim(*args[:i], t, *args[i + 1:], **params)
                total = term if total is None else total + term
        return total

    def save(args, ans, params):
        return args, None

    prim = Primitive(name, impl, jvp=jvp, vjp=vjp, save=save, register=register)
    return prim


def nondifferentiable(name, impl):
    """A primitive whose output carries no derivative (comparisons, argmax...)."""
    return Primitive(name, impl, differentiable=False)


def is_complex(x):
    """Whether x (an array, a box of any level, or a scalar) is complex.

    Cheap enough for rules that treat complex input differently (a dtype
    lookup, no conversion): real values never pay for complex handling.
    A complex-step array (chainrule.complex_step) stands for a real value
    moved along an imaginary perturbation: it is not complex here, so that
    rules stay the analytic continuation of their real versions.
    """
    dt = getattr(x, "dtype", None)
    if dt is None:
        return isinstance(x, complex)
    if dt.kind != "c":
        return False
    from .trace import raw
    return not getattr(raw(x), "_complex_step", False)


def float_dtype(a):
    """a's dtype if it is floating point or complex, else float64."""
    dt = np.result_type(a)
    return dt if dt.kind in "fc" else np.float64


# --------------------------------------------------------------------------
# Registries read by the dispatch functions of the box type, and nothing else.
# (PRIMITIVES, every named primitive, is defined at the top for the tests.)

UFUNCS = {}          # ufunc -> Primitive (differentiable or not)
UFUNC_METHODS = {}   # (ufunc, method) -> handler(*inputs, **kwargs), e.g. add.reduce
FUNCTIONS = {}       # numpy function -> handler with the numpy signature


def register_ufunc(ufunc, prim):
    """Make `prim` the primitive for `ufunc(...)` called on traced values."""
    UFUNCS[ufunc] = prim
    return prim


def implements(*numpy_functions):
    """Decorator: the function handles these NumPy functions on traced values.

    Example (chainrule's own rule for np.ravel put back at the end):
        >>> own = FUNCTIONS[np.ravel]
        >>> @implements(np.ravel)
        ... def ravel(a, order="C"):
        ...     return np.reshape(a, (-1,))
        >>> FUNCTIONS[np.ravel] is ravel
        True
        >>> FUNCTIONS[np.ravel] = own
    """
    def register(handler):
        for f in numpy_functions:
            FUNCTIONS[f] = handler
        return handler
    return register
