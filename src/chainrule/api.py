"""The user-facing transformations: each a short composition of the modes.

Every function here takes and returns plain NumPy values; the functions
being differentiated are ordinary NumPy code.
"""

import numpy as np

from .core.errors import NonDifferentiableInputError, NonScalarOutputError
from .core.forward import DualBox, DualTrace
from .arraylibs import asarray, foreign
from .mutation import surface_leak
from .shared_partials import SharingTrace
from .core.reverse import ReverseBox, ReverseTrace
from .core.trace import Box, raw
from .core.tree import tree_flatten, tree_unflatten


# --------------------------------------------------------------------------
# helpers shared by the transformations

def _dtype(x):
    """np.result_type(x), read from x's dtype where it has a NumPy one
    (np.result_type takes microseconds on a NumPy scalar)."""
    dtype = getattr(x, "dtype", None)
    return dtype if isinstance(dtype, np.dtype) else np.result_type(x)


def _check_differentiable(value, where, *format_args):
    """A NonDifferentiableInputError unless value is floating or complex;
    `where` (formatted with format_args only then) names it."""
    dtype = _dtype(raw(value))
    if dtype.kind not in "fc":
        raise NonDifferentiableInputError(
            f"{where.format(*format_args)} has dtype {dtype}; only floating-point (or complex) values "
            "can be differentiated. Pass it as floats (e.g. x.astype(float)) or "
            "leave it out of argnums."
        )


def _as_tuple(argnums):
    return (argnums,) if isinstance(argnums, int) else tuple(argnums)


def _unbox(x, trace):
    """The value of x one level below `trace` (x itself if not of trace)."""
    return x._value if _belongs(x, trace) else x


def _belongs(x, trace):
    return isinstance(x, (ReverseBox, DualBox)) and x._trace is trace


def _zeros_like(x):
    return np.zeros(np.shape(x), np.result_type(raw(x)))


# --------------------------------------------------------------------------
# reverse mode

def _reverse_call(fun, args, argnums, kwargs):
    """Run fun with the args named by argnums boxed on a new tape."""
    trace = ReverseTrace()
    args = list(args)
    boxed = {}
    for n in argnums:
        if n >= len(args):
            raise TypeError(f"argnums names argument {n} but fun got {len(args)} positional arguments")
        leaves, spec = tree_flatten(args[n])
        for k, leaf in enumerate(leaves):
            _check_differentiable(leaf, "argument {} (leaf {})" if spec is not None else "argument {}", n, k)
        boxes = [trace.new_input(leaf) for leaf in leaves]
        # the tape nodes of the inputs, captured now: fun may update its
        # arguments in place, which rebinds the boxes it was given
        boxed[n] = ([ReverseBox(b._value, trace, b._node) for b in boxes], spec, leaves)
        args[n] = tree_unflatten(spec, boxes)
    return trace, boxed, call(fun, args, kwargs)


def call(fun, args, kwargs):
    """fun(*args, **kwargs), with a LeakError that NumPy wrapped in a
    ValueError (a traced value stored into a plain array) raised as itself."""
    try:
        return fun(*args, **kwargs)
    except ValueError as e:
        leak = surface_leak(e)
        if leak is None:
            raise
        raise leak from None


def _gather(boxed, argnums, cts_of_inputs):
    """Cotangents of the boxed arguments (one backward pass for all of them),
    rebuilt into each argument's structure with zeros where None."""
    boxes = [b for n in argnums for b in boxed[n][0]]
    cts = iter(cts_of_inputs(boxes))
    grads = []
    for n in argnums:
        _, spec, leaves = boxed[n]
        grads.append(tree_unflatten(spec, [
            _zeros_like(leaf) if ct is None else _real_if_real(ct, leaf)
            for leaf, ct in zip(leaves, cts)]))
    return grads


def _real_if_real(ct, leaf):
    """The cotangent of an input has the input's dtype: the real part for a
    real input (where complex constants made intermediate values complex,
    the real part is the derivative), float32 for float32."""
    ct_dtype, dtype = _dtype(raw(ct)), _dtype(raw(leaf))
    if ct_dtype == dtype:
        return ct
    if ct_dtype.kind == "c" and dtype.kind != "c":
        ct = np.real(ct)
    return ct.astype(dtype) if hasattr(ct, "astype") else dtype.type(ct)


def _require_numeric(leaves):
    """A TypeError for an output that is not a number or an array (None, an
    object array): its derivative would silently come back as zero."""
    for leaf in leaves:
        if leaf is None or _dtype(raw(leaf)) == object:
            raise TypeError(
                f"fun returned {leaf!r}, which is not a number or a numeric array, so it "
                "has no derivative. (np.bmat, for one, returns None for anything but an "
                "ndarray or a list: use np.block.)")


def _output_cotangent(value, holomorphic):
    """The cotangent 1 that grad seeds the output with; a TypeError (as JAX
    and autograd) for an output whose gradient is not a real number."""
    _require_numeric([value])
    dtype = _dtype(value)
    if dtype.kind == "c" and not holomorphic and not getattr(value, "_complex_step", False):
        raise TypeError(
            f"grad needs a real-valued output, but fun returned {dtype}. For a holomorphic "
            "function of complex input pass holomorphic=True (the result is f'(z)); else "
            "differentiate a real quantity such as np.real(f(z)) or np.abs(f(z)) ** 2, or use "
            "cr.vjp / cr.jvp for the full derivative (docs/complex.md).")
    if dtype.kind == "b":
        raise TypeError(
            "grad needs a real-valued output, but fun returned a boolean, whose derivative "
            "is not defined; return a floating-point value (e.g. the quantity compared).")
    if holomorphic and dtype.kind != "c":
        raise TypeError(
            f"grad(holomorphic=True) needs a complex output, but fun returned {dtype}; "
            "leave holomorphic out for real-valued functions.")
    one = np.ones((), dtype if dtype.kind in "fc" else np.float64)
    # made by the output's array library (CuPy refuses NumPy's 0-d arrays)
    return one if getattr(value, "_complex_step", False) else asarray(one, like=value)


def value_and_grad(fun, argnums=0, has_aux=False, holomorphic=False):
    """Return a function computing `(fun(*args), gradient)` in one pass.

    The gradient is with respect to the argument(s) named by argnums, each
    shaped like its argument (nested tuples, lists and dicts alike). fun must
    return a scalar (or `(scalar, aux)` with has_aux, giving
    `((value, aux), gradient)`).

    A complex or boolean output is a TypeError unless `holomorphic=True`,
    which (for a holomorphic fun of complex arguments) gives f'(z). For a
    real fun of complex z the gradient is df/dx - i df/dy (JAX's
    convention, docs/complex.md): the gradient of |z|**2 is 2 conj(z).

    Example:
        >>> import numpy as np
        >>> value, gradient = value_and_grad(lambda x: np.sum(x**2))(np.array([1.0, 2.0]))
        >>> float(value), gradient
        (5.0, array([2., 4.]))
    """
    nums = _as_tuple(argnums)

    def value_and_grad_fun(*args, **kwargs):
        trace, boxed, out = _reverse_call(fun, args, nums, kwargs)
        aux = None
        if has_aux:
            if not (isinstance(out, (tuple, list)) and len(out) == 2):
                raise TypeError("with has_aux=True fun must return a pair (value, aux)")
            out, aux = out
            aux = _strip(aux, trace)
        elif isinstance(out, (tuple, list)):
            raise NonScalarOutputError(
                f"grad needs a scalar output, but fun returned a {type(out).__name__} of "
                f"{len(out)} items. If the items after the first are auxiliary data (logs, "
                "state), pass has_aux=True: fun returns (value, aux) and grad gives "
                "(gradient, aux).")
        shape = out.shape if isinstance(out, Box) else np.shape(out)
        if shape != ():
            raise NonScalarOutputError(
                f"grad needs a scalar output, but fun returned shape {shape}; "
                "use cr.vjp, cr.jacrev or cr.jacobian for array outputs, or reduce it (e.g. np.sum)."
            )
        if holomorphic:
            _check_holomorphic_inputs(boxed, nums)
        if _belongs(out, trace):
            value = out._value
            seed = _output_cotangent(raw(value), holomorphic)
            grads = _gather(boxed, nums, lambda boxes: trace.backward([out], [seed], boxes))
        else:
            value = out
            _output_cotangent(raw(value), holomorphic)
            grads = _gather(boxed, nums, lambda boxes: [None] * len(boxes))
        grad_out = grads[0] if isinstance(argnums, int) else tuple(grads)
        if has_aux:
            return (value, aux), grad_out
        return value, grad_out

    value_and_grad_fun.__name__ = f"value_and_grad({getattr(fun, '__name__', 'fun')})"
    value_and_grad_fun.__doc__ = fun.__doc__
    value_and_grad_fun.__wrapped__ = fun
    return value_and_grad_fun


def _check_holomorphic_inputs(boxed, nums):
    for n in nums:
        for leaf in boxed[n][2]:
            if np.result_type(raw(leaf)).kind != "c":
                raise TypeError(
                    f"grad(holomorphic=True) needs complex arguments, but argument {n} is "
                    f"{np.result_type(raw(leaf))}; pass it as complex (x.astype(complex)).")


def grad(fun, argnums=0, has_aux=False, holomorphic=False):
    """Return a function computing the gradient of scalar-valued `fun`.

    argnums picks the argument(s): an int gives one gradient shaped like that
    argument, a tuple gives a tuple. With has_aux, fun returns
    `(value, aux)` and the result is `(gradient, aux)`. fun must return a
    real number; `holomorphic=True` allows a complex one for a holomorphic
    fun of complex arguments, and gives f'(z) (see `value_and_grad`).

    Example:
        >>> import numpy as np
        >>> grad(lambda x: np.sum(np.sin(x)))(np.array([0.0, np.pi]))
        array([ 1., -1.])
        >>> complex(grad(lambda z: z ** 2, holomorphic=True)(1j))
        2j
    """
    vg = value_and_grad(fun, argnums, has_aux, holomorphic)

    def grad_fun(*args, **kwargs):
        if has_aux:
            (_, aux), g = vg(*args, **kwargs)
            return g, aux
        return vg(*args, **kwargs)[1]

    grad_fun.__name__ = f"grad({getattr(fun, '__name__', 'fun')})"
    grad_fun.__doc__ = fun.__doc__
    grad_fun.__wrapped__ = fun
    return grad_fun


def _strip(tree, trace):
    leaves, spec = tree_flatten(tree)
    return tree_unflatten(spec, [_unbox(x, trace) for x in leaves])


def vjp(fun, *primals):
    """Evaluate fun at primals and return `(out, vjp_fn)`.

    `vjp_fn(cotangent)` takes a cotangent shaped like out (same nesting) and
    returns a tuple with one cotangent per primal. It may be called many
    times.

    Example:
        >>> import numpy as np
        >>> out, f_vjp = vjp(lambda x, y: x * y, np.array([1.0, 2.0]), np.array([3.0, 4.0]))
        >>> f_vjp(np.ones(2))
        (array([3., 4.]), array([1., 2.]))
    """
    nums = tuple(range(len(primals)))
    trace, boxed, out = _reverse_call(fun, primals, nums, {})
    out_leaves, out_spec = tree_flatten(out)
    _require_numeric(out_leaves)
    values = tree_unflatten(out_spec, [_unbox(x, trace) for x in out_leaves])

    def vjp_fn(cotangent):
        ct_leaves, ct_spec = tree_flatten(cotangent)
        if ct_spec != out_spec:
            raise ValueError("the cotangent must have the structure of fun's output")
        pairs = [(o, ct) for o, ct in zip(out_leaves, ct_leaves) if _belongs(o, trace)]
        for o, ct in zip(out_leaves, ct_leaves):
            if np.shape(ct) != np.shape(o):
                raise ValueError(f"cotangent of shape {np.shape(ct)} for an output of shape {np.shape(o)}")
        outs = [o for o, _ in pairs]
        # a NumPy (or scalar) cotangent of another library's output joins that library
        cts = [ct if isinstance(ct, Box) or foreign(ct) is not None else asarray(ct, like=o)
               for o, ct in pairs]
        return tuple(_gather(boxed, nums,
                             lambda boxes: trace.backward(outs, cts, boxes, keep_tape=True)))

    return values, vjp_fn


# --------------------------------------------------------------------------
# forward mode

def jvp(fun, primals, tangents):
    """Push tangents through fun exactly (dual numbers): `(out, tangent_out)`.

    primals and tangents are tuples of equal length (tangents shaped like
    primals, nesting included).

    Example:
        >>> import numpy as np
        >>> jvp(np.sin, (np.zeros(2),), (np.array([2.0, 3.0]),))
        (array([0., 0.]), array([2., 3.]))
    """
    return _jvp(fun, primals, tangents, DualTrace())


def _jvp(fun, primals, tangents, trace):
    """jvp, on forward trace `trace`."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError("jvp needs as many tangents as primals")
    args = []
    for n, (p, t) in enumerate(zip(primals, tangents)):
        p_leaves, spec = tree_flatten(p)
        t_leaves, t_spec = tree_flatten(t)
        if spec != t_spec:
            raise ValueError(f"tangent {n} must have the structure of primal {n}")
        boxes = []
        for leaf, tl in zip(p_leaves, t_leaves):
            _check_differentiable(leaf, f"primal {n}")
            if np.shape(tl) != np.shape(leaf):
                raise ValueError(f"tangent of shape {np.shape(tl)} for a primal of shape {np.shape(leaf)}")
            boxes.append(DualBox(leaf, tl, trace))
        args.append(tree_unflatten(spec, boxes))
    out = call(fun, args, {})
    leaves, spec = tree_flatten(out)
    _require_numeric(leaves)
    values = [_unbox(x, trace) for x in leaves]
    tans = [_real_if_real(x._tangent, v) if _belongs(x, trace) else _zeros_like(x)
            for x, v in zip(leaves, values)]
    return tree_unflatten(spec, values), tree_unflatten(spec, tans)


def hvp(fun, primals, tangents, argnums=None):
    """Hessian-vector product(s) of scalar fun, without forming the Hessian.

    Computes H v as the gradient of the directional derivative along the
    tangents (reverse over forward; forward over reverse for complex
    primals). Without argnums every primal is
    differentiated, tangents has one entry per primal, and the result has
    one array per primal (a tuple when there are several primals, else one
    array). With argnums (an int or a tuple), only those primals are
    differentiated (the others are held fixed), tangents has one entry per
    argnum, and the result is one array for an int, else a tuple. The
    products have the primals' dtypes (float32 in, float32 out).

    Example:
        >>> import numpy as np
        >>> hvp(lambda x: np.sum(x**3), (np.array([1.0, 2.0]),), (np.array([1.0, 0.0]),))
        array([6., 0.])
        >>> f = lambda x, y: np.sum(x**2 * y)
        >>> hvp(f, (np.array([1.0, 2.0]), np.array([3.0, 4.0])), (np.array([1.0, 0.0]),), argnums=1)
        array([0., 0.])
    """
    primals, tangents = tuple(primals), tuple(tangents)
    nums = tuple(range(len(primals))) if argnums is None else _as_tuple(argnums)
    for n in nums:
        if not isinstance(n, (int, np.integer)) or not -len(primals) <= n < len(primals):
            raise ValueError(f"argnums names primal {n!r}, but there are {len(primals)} primals")
    nums = tuple(int(n) % len(primals) for n in nums)
    if len(set(nums)) != len(nums):
        raise ValueError(f"argnums {argnums!r} names a primal twice")
    if len(tangents) != len(nums):
        raise ValueError(f"hvp needs one tangent per differentiated primal: {len(nums)} "
                         f"({'argnums' if argnums is not None else 'primals'}), got {len(tangents)}")
    selected = tuple(primals[n] for n in nums)

    def with_selected(xs):
        args = list(primals)
        for n, x in zip(nums, xs):
            args[n] = x
        return args

    if all(np.result_type(raw(x)).kind == "f" for leaf in selected for x in tree_flatten(leaf)[0]):
        # reverse over forward: the gradient of the directional derivative.
        # Its backward pass computes only what the product needs, where
        # forward over reverse also computes the gradient itself (for the
        # MLP in bench/bench_forward.py: 3 large matrix products instead of
        # 4, as in the hand-written hvp), so it measured faster
        def directional(*xs):
            below = next(x for leaf in xs for x in tree_flatten(leaf)[0])._trace
            return _jvp(lambda *ys: fun(*with_selected(ys)), xs, tangents, SharingTrace(below))[1]
        hv = grad(directional, argnums=tuple(range(len(nums))))(*selected)
    else:  # complex primals: forward over reverse keeps the JAX convention
        g = grad(fun, argnums=nums)
        _, hv = jvp(lambda *xs: g(*with_selected(xs)), selected, tangents)
    single = len(nums) == 1 and (argnums is None or isinstance(argnums, (int, np.integer)))
    return hv[0] if single else tuple(hv)
