"""Compilation: trace, optimise, generate source and `exec` it, once per
signature (argument structure, shapes, dtypes and static values).

Example:
    >>> import numpy as np
    >>> import chainrule as cr
    >>> f = compile(cr.value_and_grad(lambda x: np.sum(x ** 2)))
    >>> f(np.array([1.0, 2.0]))
    (np.float64(5.0), array([2., 4.]))
"""

import dataclasses
import functools
import time
import warnings

import numpy as np

from ..arraylibs import foreign, is_dask
from ..core.box import Box
from ..core.errors import ArrayLibraryError
from ..core.tree import tree_flatten, tree_unflatten
from . import numba_backend
from .codegen import define, generate, scalar_ok, strong_scalar
from .guards import GuardFailure, split_guard_outputs, with_guard_outputs
from .passes import PIPELINE, optimize
from .trace import ValueDependentError, is_traced_leaf, lazy_examples, trace



MAX_VARIANTS = 8  # traced paths kept per signature before calls run eagerly


class Compiled:
    """A function run from generated NumPy code; see `compile`."""

    def __init__(self, fun, passes=PIPELINE, max_variants=MAX_VARIANTS, warn=False, backend="auto"):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, not {backend!r}")
        if backend == "numba" and not numba_backend.available():
            raise ImportError("backend='numba' needs numba: pip install 'chainrule[numba]'")
        self.fun = fun
        self.backend = backend
        self.passes = passes
        self.max_variants = max_variants
        self.warn = warn
        self.cache = {}  # signature -> [_Program], most recently used first; None: eager
        self._last = None
        functools.update_wrapper(self, fun, updated=())

    def __call__(self, *args, **kwargs):
        if kwargs:
            raise TypeError("a compiled function takes its arguments by position only")
        leaves, in_tree = tree_flatten(list(args))
        if any(isinstance(x, Box) for x in leaves):
            return self.fun(*args)  # being differentiated: run the original eagerly
        key = (in_tree, tuple(_signature(k, x) for k, x in enumerate(leaves)))
        variants = self.cache.setdefault(key, [])
        if variants is None:
            return self.fun(*args)  # this signature could not be traced
        failed = None
        for i, program in enumerate(variants):
            try:
                out = program(leaves)
            except GuardFailure as e:
                failed = program.guards[e.index]
                continue
            if i:  # the path taken last is tried first next time
                variants.insert(0, variants.pop(i))
            self._last = program
            return out
        if len(variants) >= self.max_variants:
            self._warn(f"{len(variants)} traced paths, none matching this call (it differs "
                       f"at {failed.describe()}): running it eagerly")
            return self.fun(*args)
        try:
            program = _Program(self.fun, args, self.passes, self.backend)
        except ValueDependentError as e:
            self.cache[key] = None
            self._warn(f"cannot trace ({str(e).splitlines()[0]}): running eagerly")
            return self.fun(*args)
        if failed is not None:
            self._warn(f"tracing a new path ({len(variants) + 1} of at most "
                       f"{self.max_variants}), as this call differs at {failed.describe()}")
        variants.insert(0, program)
        self._last = program
        return program(leaves)

    def _warn(self, message):
        if self.warn:
            name = getattr(self.fun, "__name__", "function")
            warnings.warn(f"cr.compile({name}): {message}", CompileWarning, stacklevel=3)

    @property
    def source(self):
        """The generated source of the most recent call's specialisation."""
        if self._last is None:
            raise ValueError("call the compiled function once: code is generated per signature")
        return self._last.source

    @property
    def graph(self):
        """The optimised graph of the most recent call's specialisation."""
        if self._last is None:
            raise ValueError("call the compiled function once: graphs are traced per signature")
        return self._last.graph

    @property
    def backend_used(self):
        """The backend of the most recent call's specialisation ("numpy" or
        "numba"), and why when it is not the one asked for."""
        if self._last is None:
            raise ValueError("call the compiled function once: backends are chosen per signature")
        return self._last.backend

    @property
    def compile_seconds(self):
        """Seconds the most recent call's specialisation took to build
        (trace, passes, code generation, and numba's compilation)."""
        if self._last is None:
            raise ValueError("call the compiled function once")
        return self._last.seconds

    @property
    def guards(self):
        """The guards of the most recent call's specialisation (see
        `chainrule.graph.guards`): the value-dependent decisions it checks."""
        if self._last is None:
            raise ValueError("call the compiled function once: guards are traced per signature")
        return self._last.guards


class CompileWarning(UserWarning):
    """A compiled function traced a new path or ran a call eagerly (only
    with `compile(fun, warn=True)`)."""


BACKENDS = ("auto", "numpy", "numba")
# "auto" picks numba for scalar graphs of this many operations, when numba is
# installed: long enough for native code to pay for numba's compile time,
# short enough that the compile stays in seconds (numba takes milliseconds
# per operation, more than linearly for huge functions)
AUTO_NUMBA_EQNS = (500, 3000)


def compile(fun, passes=PIPELINE, max_variants=MAX_VARIANTS, warn=False, backend="auto"):
    """`fun` run from generated, optimised NumPy source.

    The first call with a new signature (nesting, shapes and dtypes of the
    array arguments, values of the static ones: ints, strings...) traces
    fun, optimises the graph with `passes` and generates and executes the
    source, shown by `.source`. Works on `cr.grad(f)`, `cr.value_and_grad(f)`,
    hvp closures and plain functions. Called on values being differentiated,
    it runs fun eagerly.

    Code that needs array values (Python `if`/`while` on a traced value,
    `float(x)`, shapes that depend on values as `x[y > 0]`) is specialised
    on the values of the call that traced it: each decision becomes a guard,
    checked by the generated code (`# guard` lines in `.source`) at every
    call. A call on which a guard fails is traced again, for its own path
    (up to `max_variants` paths per signature, each kept); beyond that, the
    call runs eagerly. With `warn=True` a CompileWarning says when either
    happens and which line's decision changed.

    `backend`: "numpy" generates NumPy source (scalar graphs on Python
    floats and `math`); "numba" (optional dependency) compiles a scalar
    graph into one native function and fuses each chain of elementwise
    operations of an array graph into one native loop, leaving contractions
    to NumPy's BLAS (see `chainrule.graph.numba_backend`); "auto" (the
    default) takes numba for scalar graphs of AUTO_NUMBA_EQNS operations
    (500 to 3000) when it is installed, NumPy otherwise. `.backend_used` and
    `.compile_seconds` report the choice and the build time.

    Dask arrays are accepted as array arguments: the same NumPy source runs
    on them and returns lazy Dask arrays (their chunking is part of the
    signature; no `out=` buffer reuse, no scalar or numba flavour, which
    would compute them). Their values are never read while compiling: code
    that needs them (guards), or a function that captures a Dask array
    instead of taking it as an argument, runs eagerly instead, as
    uncompiled. Arrays of other libraries (CuPy) raise ArrayLibraryError:
    their derivatives work uncompiled.

    Example:
        >>> import numpy as np
        >>> f = compile(lambda x: np.tanh(x) * 2.0)
        >>> f(np.zeros(2))
        array([0., 0.])
        >>> print(f.source)
        def lambda_(x):
            tanh1 = np.tanh(x)
            mul1 = np.multiply(tanh1, 2.0, out=tanh1)
            return mul1
        >>> g = compile(lambda x, y: np.sum(x[y > 0]))
        >>> g(np.arange(4.0), np.array([1, -1, 1, 1])), g(np.arange(4.0), np.array([1, 1, 1, 1]))
        (np.float64(5.0), np.float64(6.0))
        >>> len(g.cache[next(iter(g.cache))])  # two paths: 3 and 4 entries selected
        2
    """
    return Compiled(fun, passes, max_variants, warn, backend)


def _signature(k, leaf):
    if is_traced_leaf(leaf):
        return (np.shape(leaf), np.result_type(leaf))
    if is_dask(leaf):
        if any(np.isnan(n) for n in leaf.shape):
            raise ArrayLibraryError(
                f"argument leaf {k} is a Dask array of unknown shape {leaf.shape}: compiled code "
                "is specialised on shapes; call its .compute_chunk_sizes() first")
        return ("dask", leaf.shape, leaf.dtype, leaf.chunks)
    if foreign(leaf) is not None:
        raise ArrayLibraryError(
            f"argument leaf {k} is a {type(leaf).__module__}.{type(leaf).__name__}: cr.compile "
            "runs NumPy and Dask arrays; call the function without cr.compile (its derivatives "
            "work on this library eagerly)")
    return static_signature(k, leaf, "np.ndarray (or Dask arrays)")


def static_signature(k, leaf, arrays="np.ndarray"):
    """The cache key of a non-array argument leaf: the value itself, which must
    be hashable (a leaf that is neither is refused, naming `arrays`)."""
    try:
        hash(leaf)
    except TypeError:
        raise TypeError(
            f"argument leaf {k} ({type(leaf).__name__}) is neither an array nor a hashable "
            f"static value; pass arrays as {arrays}") from None
    return ("static", type(leaf), leaf)


def _is_array(leaf):
    return is_traced_leaf(leaf) or is_dask(leaf)


def _trace_dask(fun, args):
    """The graph of fun on Dask arguments, traced on NumPy stand-ins of the
    same shapes and dtypes without guards: tracing never reads values, and a
    function that needs them (a guard) is run eagerly, not computed here."""
    leaves, in_tree = tree_flatten(list(args))
    stand_ins = [np.broadcast_to(np.zeros((), x.dtype), x.shape) if is_dask(x) else x for x in leaves]
    try:
        with lazy_examples():  # output shapes from Dask's metadata: nothing computed
            graph = trace(fun, *tree_unflatten(in_tree, stand_ins))
    except ValueDependentError:
        raise
    except Exception as e:  # noqa: BLE001  (a shape only the values settle: run eagerly)
        raise ValueDependentError(f"{type(e).__name__}: {e}") from e
    return graph, []


def _without_reuse(graph):
    """The graph with no output written into an input's buffer (`out=`):
    Dask arrays are immutable graphs, not buffers."""
    return graph.replace(eqns=[e if e.reuse is None else dataclasses.replace(e, reuse=None)
                               for e in graph.eqns])


class _Program:
    """One specialisation: its graph, source and the function exec made."""

    def __init__(self, fun, args, passes, backend="numpy"):
        start = time.perf_counter()
        leaves = tree_flatten(list(args))[0]
        lazy = any(is_dask(x) for x in leaves)
        graph, guards = _trace_dask(fun, args) if lazy else trace(fun, *args, guarded=True)
        self.out_tree = graph.out_tree
        graph = with_guard_outputs(graph, guards)
        graph = optimize(graph, passes) if passes else graph
        self.graph, self.guards = split_guard_outputs(graph, guards)
        if lazy:
            self.graph = _without_reuse(self.graph)
        self.traced = [_is_array(x) for x in leaves]
        name = getattr(fun, "__name__", "compiled")
        self.single = len(self.graph.outputs) == 1
        self.fallback = None
        scalar = scalar_ok(self.graph) and not lazy  # Python floats would compute Dask's values
        if backend == "auto":
            low, high = AUTO_NUMBA_EQNS
            backend = "numba" if (scalar and low <= len(self.graph.eqns) <= high
                                  and numba_backend.available()) else "numpy"
        self.backend = backend
        if lazy and backend == "numba":  # its kernels would compute the Dask arrays
            self.backend = "numpy (numba compiles NumPy arrays only: the arguments are Dask arrays)"
            backend = "numpy"
        if backend == "numba":
            try:
                self._build_numba(name, numba_backend.native_ok(self.graph))
            except Exception as e:  # noqa: BLE001  (numba cannot compile it: NumPy can)
                self.backend = f"numpy (numba failed: {type(e).__name__}: {str(e).splitlines()[0][:200]})"
                backend = "numpy"
        if backend == "numpy":
            if scalar:
                self.run = define(*generate(self.graph, name, scalar=True, guards=self.guards))
                self.fallback = define(*generate(self.graph, name, guards=self.guards))
            else:
                self.run = define(*generate(self.graph, name, guards=self.guards))
            self.source = self.run.__source__
        self.seconds = time.perf_counter() - start

    def _build_numba(self, name, native):
        if native:
            self.run = numba_backend.compile_scalar(self.graph, name, self.guards)
            self.fallback = define(*generate(self.graph, name, guards=self.guards))
            self.source = self.run.__source__
            return
        fused = numba_backend.fuse(self.graph, keep=[g.var for g in self.guards])
        self.run = define(*generate(fused, name, guards=self.guards))
        kernels = numba_backend.kernels_source(fused)
        self.source = (kernels + "\n" if kernels else "") + self.run.__source__
        self.graph = fused

    def __call__(self, leaves):
        args = [strong_scalar(x) for x, t in zip(leaves, self.traced) if t]
        if self.fallback is None:
            out = self.run(*args)
        else:
            try:
                out = self.run(*args)
            except (ArithmeticError, ValueError):
                # math raised where NumPy returns inf or nan: rerun on NumPy
                out = self.fallback(*args)
        return tree_unflatten(self.out_tree, [out] if self.single else out)
