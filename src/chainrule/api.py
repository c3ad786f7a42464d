"""The user-facing transformations: each a short composition of the modes.

Every function here takes and returns plain NumPy values; the functions
being differentiated are ordinary NumPy code.
"""

import numpy as np

from .core.errors import NonDifferentiableInputError, NonScalarOutputError
from .core.forward import DualBox, DualTrace
from .core.primitive import float_dtype
from .core.reverse import ReverseBox, ReverseTrace
from .core.trace import raw
from .core.tree import tree_flatten, tree_unflatten


# --------------------------------------------------------------------------
# helpers shared by the transformations

def _check_differentiable(value, where):
    dtype = np.result_type(raw(value))
    if dtype.kind not in "fc":
        raise NonDifferentiableInputError(
            f"{where} has dtype {dtype}; only floating-point (or complex) values "
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
            _check_differentiable(leaf, f"argument {n}" + (f" (leaf {k})" if spec is not None else ""))
        boxes = [trace.new_input(leaf) for leaf in leaves]
        boxed[n] = (boxes, spec, leaves)
        args[n] = tree_unflatten(spec, boxes)
    return trace, boxed, fun(*args, **kwargs)


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
    """The cotangent of a real input is real: where complex constants made
    intermediate values complex, the real part is the derivative."""
    if np.iscomplexobj(raw(ct)) and not np.iscomplexobj(raw(leaf)):
        return np.real(ct)
    return ct


def value_and_grad(fun, argnums=0, has_aux=False):
    """Return a function computing `(fun(*args), gradient)` in one pass.

    The gradient is with respect to the argument(s) named by argnums, each
    shaped like its argument (nested tuples, lists and dicts alike). fun must
    return a scalar (or `(scalar, aux)` with has_aux, giving
    `((value, aux), gradient)`).

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
        shape = np.shape(out)
        if shape != ():
            raise NonScalarOutputError(
                f"grad needs a scalar output, but fun returned shape {shape}; "
                "use cr.vjp, cr.jacrev or cr.jacobian for array outputs, or reduce it (e.g. np.sum)."
            )
        if _belongs(out, trace):
            value = out._value
            grads = _gather(boxed, nums,
                            lambda boxes: trace.backward([out], [np.ones_like(value, dtype=float_dtype(value))], boxes))
        else:
            value = out
            grads = _gather(boxed, nums, lambda boxes: [None] * len(boxes))
        grad_out = grads[0] if isinstance(argnums, int) else tuple(grads)
        if has_aux:
            return (value, aux), grad_out
        return value, grad_out

    value_and_grad_fun.__name__ = f"value_and_grad({getattr(fun, '__name__', 'fun')})"
    value_and_grad_fun.__doc__ = fun.__doc__
    value_and_grad_fun.__wrapped__ = fun
    return value_and_grad_fun


def grad(fun, argnums=0, has_aux=False):
    """Return a function computing the gradient of scalar-valued `fun`.

    argnums picks the argument(s): an int gives one gradient shaped like that
    argument, a tuple gives a tuple. With has_aux, fun returns
    `(value, aux)` and the result is `(gradient, aux)`.

    Example:
        >>> import numpy as np
        >>> grad(lambda x: np.sum(np.sin(x)))(np.array([0.0, np.pi]))
        array([ 1., -1.])
    """
    vg = value_and_grad(fun, argnums, has_aux)

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
        cts = [ct for _, ct in pairs]
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
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError("jvp needs as many tangents as primals")
    trace = DualTrace()
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
    out = fun(*args)
    leaves, spec = tree_flatten(out)
    values = [_unbox(x, trace) for x in leaves]
    tans = [x._tangent if _belongs(x, trace) else _zeros_like(x) for x in leaves]
    return tree_unflatten(spec, values), tree_unflatten(spec, tans)


def hvp(fun, primals, tangents):
    """Hessian-vector product(s) of scalar fun, forward-over-reverse.

    Computes H v without forming H: the directional derivative of the
    gradient along the tangents. Returns one array per primal (a tuple when
    there are several primals, else one array).

    Example:
        >>> import numpy as np
        >>> hvp(lambda x: np.sum(x**3), (np.array([1.0, 2.0]),), (np.array([1.0, 0.0]),))
        array([6., 0.])
    """
    primals = tuple(primals)
    nums = tuple(range(len(primals)))
    g = grad(fun, argnums=nums)
    _, hv = jvp(lambda *xs: g(*xs), primals, tuple(tangents))
    return hv if len(primals) != 1 else hv[0]
