"""Vectorisation and whole Jacobians: vmap, jacfwd, jacrev, jacobian, hessian.

`vmap` runs a function written for one example on a batch of them, as one
call of each primitive on the stacked batch (a `BatchTrace` level). The
Jacobians are vmaps of the two modes: `jacfwd` pushes every basis tangent
through `jvp` at once (the tangents carry an extra batch axis), `jacrev`
pulls every basis cotangent back through `vjp` at once. So the Jacobian of
a function of 200 inputs costs one batched forward pass, not 200 passes.
"""

import numpy as np

from .api import call, vjp, jvp
from .core.batch import BatchTrace
from .core.tree import tree_flatten, tree_map, tree_unflatten
from .rules import batching


def vmap(fun, in_axes=0, out_axes=0):
    """Return fun mapped over an axis of its arguments, in one vectorised call.

    in_axes is an int (the batch axis of every positional argument) or a
    tuple with one int or None (not batched) per positional argument; it
    applies to every array in a nested argument. Each output gets the batch
    axis at out_axes.

    Example:
        >>> import numpy as np
        >>> vmap(lambda x, y: x @ y, in_axes=(0, None))(np.ones((5, 3)), np.ones((3, 2))).shape
        (5, 2)
    """
    def batched_fun(*args, **kwargs):
        batching.install()
        axes = _in_axes(in_axes, len(args))
        size = _batch_size(args, axes)
        trace = BatchTrace(size)
        args = [a if ax is None else tree_map(lambda x, ax=ax: trace.box(np.moveaxis(x, ax, 0)), a)
                for a, ax in zip(args, axes)]
        out = call(fun, args, kwargs)
        return tree_map(lambda y: np.moveaxis(trace.unbox(y), 0, out_axes), out)

    batched_fun.__name__ = f"vmap({getattr(fun, '__name__', 'fun')})"
    return batched_fun


def _in_axes(in_axes, nargs):
    if in_axes is None or isinstance(in_axes, (int, np.integer)):
        return (in_axes,) * nargs
    in_axes = tuple(in_axes)
    if len(in_axes) != nargs:
        raise ValueError(f"vmap got in_axes for {len(in_axes)} arguments but fun was called with {nargs}")
    return in_axes


def _batch_size(args, axes):
    size = None
    for n, (a, ax) in enumerate(zip(args, axes)):
        if ax is None:
            continue
        for x in tree_flatten(a)[0]:
            shape = np.shape(x)
            if not -len(shape) <= ax < len(shape):
                raise ValueError(f"vmap in_axes={ax} for argument {n} of shape {shape}: no such axis")
            if size is not None and shape[ax] != size:
                raise ValueError(f"vmap got batch sizes {size} and {shape[ax]} (argument {n}); "
                                 "every batched argument needs the same size along its axis")
            size = shape[ax]
    if size is None:
        raise ValueError("vmap needs at least one batched argument (in_axes all None)")
    return size


# --------------------------------------------------------------------------
# Jacobians

def _restrict(fun, args, nums, kwargs):
    """fun as a function of the arguments named by nums only, and those arguments."""
    for n in nums:
        if not -len(args) <= n < len(args):
            raise TypeError(f"argnums names argument {n} but fun got {len(args)} positional arguments")

    def f(*diff):
        full = list(args)
        for n, d in zip(nums, diff):
            full[n] = d
        return fun(*full, **kwargs)
    return f, tuple(args[n] for n in nums)


def _basis(leaves, dtype, trace):
    """The identity matrix cut into one batched box per leaf: row k is the
    k-th unit vector of the leaves laid end to end."""
    eye = np.eye(trace.size, dtype=dtype)
    boxes, start = [], 0
    for x in leaves:
        shape = np.shape(x)
        n = int(np.prod(shape, dtype=np.int64))
        boxes.append(trace.box(np.reshape(eye[:, start:start + n], (trace.size,) + shape)))
        start += n
    return boxes


def _total_size(leaves):
    return sum(int(np.prod(np.shape(x), dtype=np.int64)) for x in leaves)


def _dtype(leaves):
    """The leaves' floating dtype (float32 stays float32), float64 for integers."""
    dt = np.result_type(*[np.result_type(x) for x in leaves])
    return dt if dt.kind in "fc" else np.dtype(np.float64)


def _split(stacked, leaves, axis):
    """Cut `stacked` along `axis` (of size total) into blocks shaped per leaf there."""
    if len(leaves) == 1:
        shape = np.shape(stacked)
        return [np.reshape(stacked, shape[:axis] + np.shape(leaves[0]) + shape[axis + 1:])]
    blocks, start = [], 0
    for x in leaves:
        n = int(np.prod(np.shape(x), dtype=np.int64))
        block = stacked[(slice(None),) * axis + (slice(start, start + n),)]
        shape = np.shape(block)
        blocks.append(np.reshape(block, shape[:axis] + np.shape(x) + shape[axis + 1:]))
        start += n
    return blocks


def _assemble(out_spec, in_spec, single, blocks):
    """blocks[j][i]: the Jacobian of output leaf j by input leaf i; laid out
    as the output's structure of the inputs' structure."""
    per_out = []
    for row in blocks:
        tree = tree_unflatten(in_spec, row)
        per_out.append(tree[0] if single else tree)
    return tree_unflatten(out_spec, per_out)


def _is_complex(x):
    """A complex value (a complex-step array stands for a real one)."""
    return np.result_type(x).kind == "c" and not getattr(x, "_complex_step", False)


def _check_holomorphic(name, leaves, what):
    """holomorphic=True needs complex inputs and outputs (as JAX's)."""
    for x in leaves:
        if not _is_complex(x):
            raise TypeError(
                f"{name}(holomorphic=True) needs complex {what}, but got {np.result_type(x)}; "
                "leave holomorphic out for real-valued ones (or cast to complex).")


def jacfwd(fun, argnums=0, holomorphic=False):
    """Return a function computing the Jacobian of fun by forward mode.

    All basis tangents go through one batched `jvp`. The Jacobian of an
    output of shape S by an argument of shape A has shape S + A; argnums may
    be a tuple (a tuple of Jacobians), and outputs may be nested (the same
    nesting of Jacobians).

    Complex arguments are differentiated along the real directions (each
    column is d f / d Re(z_k)). With holomorphic=True fun must take and
    return complex arrays (else TypeError) and, being holomorphic, the
    result is its complex derivative f'(z), as JAX's `holomorphic=True`.

    Example:
        >>> import numpy as np
        >>> jacfwd(lambda x: x ** 2)(np.array([1.0, 2.0]))
        array([[2., 0.],
               [0., 4.]])
        >>> jacfwd(lambda z: z ** 2, holomorphic=True)(np.array([1j]))
        array([[0.+2.j]])
    """
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    def jac_fun(*args, **kwargs):
        batching.install()
        f, primals = _restrict(fun, args, nums, kwargs)
        in_leaves, in_spec = tree_flatten(primals)
        if holomorphic:
            _check_holomorphic("jacfwd", in_leaves, "arguments")
        trace = BatchTrace(_total_size(in_leaves))
        tangents = tree_unflatten(in_spec, _basis(in_leaves, _dtype(in_leaves), trace))
        out, t_out = jvp(f, primals, tangents)
        if holomorphic:
            _check_holomorphic("jacfwd", tree_flatten(out)[0], "outputs")
        out_leaves, out_spec = tree_flatten(t_out)
        # each output's tangents are (n_in,) + S: the input axis goes last
        blocks = [_split(np.moveaxis(trace.unbox(t), 0, -1), in_leaves, np.ndim(t))
                  for t in out_leaves]
        return _assemble(out_spec, in_spec, isinstance(argnums, int), blocks)

    jac_fun.__name__ = f"jacfwd({getattr(fun, '__name__', 'fun')})"
    return jac_fun


def _jacrev_from(out, vjp_fn, primals, single, holomorphic=False):
    """The Jacobian from a vjp: all basis cotangents pulled back at once.

    A VJP is the transpose under Re(sum(a * b)), so the cotangent e_j pulls
    back the row of Re(y_j) only. For complex outputs (not holomorphic) the
    cotangents i e_j pull back the rows of -Im(y_j) as well, and the row of
    y_j is their difference times i: the same Jacobian as jacfwd's."""
    in_leaves, in_spec = tree_flatten(primals)
    out_leaves, out_spec = tree_flatten(out)
    n = _total_size(out_leaves)
    if holomorphic:
        _check_holomorphic("jacrev", in_leaves, "arguments")
        _check_holomorphic("jacrev", out_leaves, "outputs")
    both = not holomorphic and any(_is_complex(y) for y in out_leaves)
    if both and any(_is_complex(x) for x in in_leaves):
        raise TypeError(
            "jacrev of a complex output by a complex argument needs holomorphic=True (for a "
            "holomorphic function: the result is f'(z)); otherwise use jacfwd (derivatives "
            "along the real directions) or cr.vjp (docs/complex.md)")
    trace = BatchTrace(2 * n if both else n)
    if both:
        eye = np.concatenate([np.eye(n), 1j * np.eye(n)])
        cts, start = [], 0
        for y in out_leaves:
            k = int(np.prod(np.shape(y), dtype=np.int64))
            block = eye[:, start:start + k] if _is_complex(y) else eye[:, start:start + k].real
            cts.append(trace.box(np.reshape(block.astype(np.result_type(y)), (2 * n,) + np.shape(y))))
            start += k
        cts = tree_unflatten(out_spec, cts)
    else:
        cts = tree_unflatten(out_spec, _basis(out_leaves, _dtype(out_leaves), trace))
    grads = [trace.unbox(g) for g in tree_flatten(vjp_fn(cts))[0]]  # each (n_out,) + A
    if both:
        grads = [g[:n] - 1j * g[n:] for g in grads]
    # columns: per input leaf, the rows of every output leaf
    cols = [_split(g, out_leaves, 0) for g in grads]
    blocks = [[col[j] for col in cols] for j in range(len(out_leaves))]
    return _assemble(out_spec, in_spec, single, blocks)


def jacrev(fun, argnums=0, holomorphic=False):
    """Return a function computing the Jacobian of fun by reverse mode.

    One forward pass records the tape; all basis cotangents go back through
    it in one batched backward pass. Shapes as for `jacfwd`.

    Complex numbers: a real function of complex arguments gets JAX's rows,
    the gradient convention d f/dx - i d f/dy (`grad`'s); complex outputs of
    real arguments get the same Jacobian as `jacfwd` (one more batched pass
    for the imaginary parts); complex outputs of complex arguments need
    holomorphic=True (the complex derivative f'(z)), else TypeError.

    Example:
        >>> import numpy as np
        >>> jacrev(lambda x: np.sum(x ** 2))(np.array([1.0, 2.0]))
        array([2., 4.])
        >>> jacrev(lambda z: np.sin(z), holomorphic=True)(np.array([0j]))
        array([[1.+0.j]])
    """
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    def jac_fun(*args, **kwargs):
        batching.install()
        f, primals = _restrict(fun, args, nums, kwargs)
        if holomorphic:
            _check_holomorphic("jacrev", tree_flatten(primals)[0], "arguments")
        out, vjp_fn = vjp(f, *primals)
        return _jacrev_from(out, vjp_fn, primals, isinstance(argnums, int), holomorphic)

    jac_fun.__name__ = f"jacrev({getattr(fun, '__name__', 'fun')})"
    return jac_fun


def jacobian(fun, argnums=0, sparse=False, holomorphic=False):
    """Return a function computing the Jacobian of fun in the cheapest order.

    The order of the Jacobian product is planned from fun's traced graph
    (see `chainrule.product_order` and `jacobian_plan`): forward mode,
    reverse mode, or a mixed order (forward over some segments, reverse
    over others, the pieces multiplied) when the graph narrows in the
    middle. The plan is made once per argument signature (structure,
    shapes, dtypes): when it is a pure order, later calls run exactly that
    mode's code (`jacfwd` or `jacrev`); a mixed plan replays the graph it
    was traced on, without tracing fun again while what fun captured
    (closures, globals, attributes, other arguments) is unchanged, and
    re-traces and re-plans when it changed (see `chainrule.captures`). Graphs
    that cannot be traced or cut fall back to the cheaper pure mode by input
    and output size. The result is shaped out.shape + arg.shape as for
    `jacfwd`.

    With sparse=True the function returns a `scipy.sparse` matrix of shape
    (out.size, arg.size), computed by colouring the sparsity pattern (see
    `chainrule.sparse`); several arguments or outputs are laid end to end.

    Complex arguments are differentiated along the real directions, as by
    `jacfwd` (which is then always the mode used); holomorphic=True gives
    the complex derivative of a holomorphic fun (see `jacfwd`).

    Example:
        >>> import numpy as np
        >>> jacobian(lambda x: np.outer(x, x))(np.array([1.0, 2.0])).shape
        (2, 2, 2)
    """
    if sparse:
        from .sparse import sparse_jacobian
        return sparse_jacobian(fun, argnums, holomorphic=holomorphic)
    pure = {"forward": jacfwd(fun, argnums, holomorphic=holomorphic),
            "reverse": jacrev(fun, argnums, holomorphic=holomorphic)}
    entries = {}  # argument signature -> the pure mode's function, or a _Mixed

    def jac_fun(*args, **kwargs):
        if kwargs:
            batching.install()
            return _jacobian_by_size(fun, argnums, args, kwargs, holomorphic)
        key = _plan_key(args)
        entry = entries.get(key)
        if entry is None:
            entry = entries[key] = _planned(fun, argnums, args, pure, holomorphic)
        if type(entry) is _Mixed:
            out = entry(args)
            if entry.pure is not None:  # the mixed order failed here: from now on, a pure one
                entries[key] = entry.pure
            return out
        return entry(*args)  # a pure order: exactly that mode's code path

    jac_fun.__name__ = f"jacobian({getattr(fun, '__name__', 'fun')})"
    return jac_fun


def _planned(fun, argnums, args, pure, holomorphic=False):
    """What `jacobian` runs at this signature: a pure mode's function, or a
    `_Mixed` holding the mixed plan."""
    from .captures import Snapshot
    from .product_order import plan
    batching.install()
    if _complex_arguments(args, argnums, holomorphic):
        return pure["forward"]  # along real directions: jacrev's rows would be grad's
    snapshot = Snapshot.take(fun, _others(args, argnums))  # before fun runs
    p = plan(fun, *args, argnums=argnums)
    return _Mixed(fun, argnums, p, pure, snapshot) if p.order == "mixed" else pure[p.order]


def _others(args, argnums):
    """The positional arguments that are not differentiated."""
    nums = {argnums} if isinstance(argnums, (int, np.integer)) else set(argnums)
    nums = {n % len(args) for n in nums if -len(args) <= n < len(args)}
    return tuple(a for k, a in enumerate(args) if k not in nums)


class _Mixed:
    """A mixed plan, kept per signature with the graph it was traced on.

    The replay runs that graph, whose constants and control flow are what
    fun captured when traced; so each call first checks a `Snapshot` of
    what fun can reach (closures, globals, attributes, the arguments not
    differentiated; see `chainrule.captures`). While it holds, the plan runs
    without tracing fun. When it does not (a captured array rebound or
    changed, a flag flipped), or could not be taken (fun reaches state the
    snapshot cannot account for), fun is traced again: the plan is rebound
    to the new graph when it has the same structure (`product_order.rebind`)
    and remade otherwise. Values of the differentiated arguments never
    matter: a plan is made only from a graph traced without them, and
    code that branches on them cannot be traced, so it gets a pure mode. A
    replay that fails sets `pure`, the cheaper pure mode's function, which
    the caller uses from then on.

    Once the snapshot has held for COMPILE_AFTER calls in a row, the replay
    is compiled (`cr.compile` of `product_order.jacobian_matrix`: the whole
    mixed computation as generated NumPy code, without the per-primitive
    Python work of replaying) and later calls on NumPy arrays run that;
    a function whose captured state changes every call keeps the replay
    (re-tracing is cheap, compiling is not)."""

    COMPILE_AFTER = 2

    def __init__(self, fun, argnums, plan_, pure, snapshot=None):
        self.fun, self.argnums, self.plan, self.modes = fun, argnums, plan_, pure
        self.snapshot = snapshot
        self.fresh = True  # traced for this very call: no check needed
        self.pure = None
        self.held = 0  # calls in a row on which the snapshot held
        self.program = None  # the compiled replay of self.plan, once made
        self.compiles = True  # False once compiled code failed here

    def __call__(self, args):
        from .product_order import execute
        batching.install()
        p = self.plan
        if self.fresh:
            self.fresh = False
        elif self.snapshot is None or not self.snapshot.holds(self.fun, _others(args, self.argnums)):
            p = self._retrace(args)
        else:
            self.held += 1
        if p.order != "mixed":
            return self.modes[p.order](*args)
        if self.compiles and self.held >= self.COMPILE_AFTER:
            try:
                return execute(p, args, self.argnums, self._program())
            except Exception:  # noqa: BLE001  (compiled code failed: replay from now on)
                self.compiles = False
        try:
            return execute(p, args, self.argnums)
        except Exception:  # the replay met something it cannot run: a pure
            self.pure = self.modes[p.pure_order]  # mode (raises the user's own errors)
            return self.pure(*args)

    def _program(self):
        if self.program is None:
            from functools import partial

            from .graph.compile import compile
            from .product_order import jacobian_matrix
            self.program = compile(partial(jacobian_matrix, self.plan))
        return self.program

    def _retrace(self, args):
        """The plan for fun's graph as traced now (rebound, or remade)."""
        from .captures import Snapshot
        from .product_order import plan_graph, rebind, trace_for_plan
        snapshot = Snapshot.take(self.fun, _others(args, self.argnums))  # before fun runs
        traced = trace_for_plan(self.fun, args, self.argnums, flat=self.plan._layout is not None)
        p = traced if not isinstance(traced, tuple) else rebind(self.plan, *traced)
        if p is None:  # a different graph at the same shapes: plan it afresh
            p = plan_graph(*traced, name=self.plan.name)
        if p.order == "mixed":
            self.plan, self.snapshot = p, snapshot
        else:
            self.snapshot = None  # a pure mode runs fun itself; check again next call
        self.held, self.program = 0, None
        return p


def jacobian_plan(fun, *args, argnums=0):
    """The product order `jacobian(fun, argnums)` uses at these arguments:
    printable, with `.order` ("forward", "reverse" or "mixed") and
    `.alternatives`, a list of `(name, flops, peak_bytes)` per order
    considered, as predicted by the cost model from the traced graph.

    Example:
        >>> import numpy as np
        >>> W = np.ones((1000, 10))
        >>> p = jacobian_plan(lambda x: np.tanh(W @ x), np.zeros(10))
        >>> p.order, [name for name, _, _ in p.alternatives]
        ('forward', ['forward', 'reverse', 'mixed'])
    """
    from .product_order import plan
    return plan(fun, *args, argnums=argnums)


def _plan_key(args):
    if len(args) == 1 and type(args[0]) is np.ndarray:  # the common case, cheaply
        return args[0].shape, args[0].dtype
    leaves, tree = tree_flatten(list(args))
    key = []
    for x in leaves:
        if hasattr(x, "shape") and hasattr(x, "dtype") or isinstance(x, (float, complex)):
            key.append((np.shape(x), str(getattr(x, "dtype", type(x)))))
        else:
            try:
                hash(x)
                key.append(("static", x))
            except TypeError:
                key.append(("object", id(x)))
    return tree, tuple(key)


def _complex_arguments(args, argnums, holomorphic=False):
    """Whether a differentiated argument is complex (and not holomorphic)."""
    if holomorphic:
        return False
    nums = (argnums,) if isinstance(argnums, (int, np.integer)) else tuple(argnums)
    _, primals = _restrict(lambda *a: None, args, nums, {})
    return any(_is_complex(x) for x in tree_flatten(primals)[0])


def _jacobian_by_size(fun, argnums, args, kwargs, holomorphic=False):
    """Forward mode when the inputs are no more than the outputs, else reverse
    (the output size comes from the taped forward pass reverse mode needs)."""
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    f, primals = _restrict(fun, args, nums, kwargs)
    if _complex_arguments(args, argnums, holomorphic):
        return jacfwd(fun, argnums)(*args, **kwargs)
    out, vjp_fn = vjp(f, *primals)
    if _total_size(tree_flatten(primals)[0]) <= _total_size(tree_flatten(out)[0]):
        return jacfwd(fun, argnums, holomorphic=holomorphic)(*args, **kwargs)
    return _jacrev_from(out, vjp_fn, primals, isinstance(argnums, int), holomorphic)


def hessian(fun, argnums=0, sparse=False, holomorphic=False):
    """Return a function computing the Hessian of scalar fun, shaped A + A.

    With sparse=True, a `scipy.sparse` matrix (arg.size, arg.size) computed
    by star colouring of the gradient's sparsity pattern (several arguments
    laid end to end: one matrix over all of them).

    Forward over reverse: the forward-mode Jacobian of the reverse-mode
    gradient. With a tuple argnums the result is the nested tuple of blocks
    `H[i][j]`, the derivative of the gradient by argument i with respect
    to argument j. With holomorphic=True (complex argument and output, fun
    holomorphic) the result is the second complex derivative f''(z).

    Example:
        >>> import numpy as np
        >>> hessian(lambda x: np.sum(x ** 3))(np.array([1.0, 2.0]))
        array([[ 6.,  0.],
               [ 0., 12.]])
        >>> hessian(lambda z: np.sum(z ** 3), holomorphic=True)(np.array([1j]))
        array([[0.+6.j]])
    """
    if sparse:
        from .sparse import sparse_hessian
        return sparse_hessian(fun, argnums, holomorphic=holomorphic)
    return jacfwd(jacrev(fun, argnums, holomorphic=holomorphic), argnums, holomorphic=holomorphic)
