"""fun of nested args -> a function of the float leaves, with their names
for reports, and the conversions between the two for hand-written rules."""

import inspect

import numpy as np

from ..core.tree import tree_flatten, tree_unflatten


def _flat_problem(fun, args, ctx):
    """`(f, leaves, names)`: f takes the float leaves of args positionally
    (other leaves held constant) and returns fun's output."""
    leaves, spec = tree_flatten(list(args))
    mask = [np.result_type(x).kind in "fc" for x in leaves]
    if not any(mask):
        raise TypeError(f"none of the arguments of {ctx.fun_name} is floating point; nothing to check")
    names = [n for n, m in zip(_leaf_names(list(args), _arg_names(fun, len(args))), mask) if m]
    floats = [x for x, m in zip(leaves, mask) if m]

    def f(*xs):
        it = iter(xs)
        return fun(*tree_unflatten(spec, [next(it) if m else x for x, m in zip(leaves, mask)]))

    f.__name__ = ctx.fun_name
    ctx.float_mask = mask
    # Tolerances follow the least precise of inputs and outputs: a float64
    # input computed on in float32 agrees only to float32 rounding.
    outputs = [y for y in tree_flatten(f(*floats))[0] if np.result_type(y).kind in "fc"]
    ctx.set_precision(floats + outputs)
    return f, floats, names


def _arg_names(fun, n):
    try:
        params = [p.name for p in inspect.signature(fun).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"args[{i}]" for i in range(n)]


def _leaf_names(tree, prefixes):
    """Names of the leaves of a list of arguments, in tree_flatten's order."""
    def walk(t, prefix):
        if type(t) in (tuple, list):
            for i, s in enumerate(t):
                yield from walk(s, f"{prefix}[{i}]")
        elif type(t) is dict:
            for k in sorted(t):
                yield from walk(t[k], f"{prefix}[{k!r}]")
        else:
            yield prefix
    for t, prefix in zip(tree, prefixes):
        yield from walk(t, prefix)


def _fill_tree(args, float_leaves, mask):
    """args' structure with its float leaves replaced, others zero."""
    leaves, spec = tree_flatten(list(args))
    it = iter(float_leaves)
    return tree_unflatten(spec, [next(it) if m else np.zeros(np.shape(x)) for x, m in zip(leaves, mask)])


def _float_leaves(args, cts, mask):
    """The cotangents of args' float leaves, from a tuple shaped like args
    (None anywhere means zero)."""
    out = []
    for a, ct in zip(args, cts):
        a_leaves, a_spec = tree_flatten(a)
        if ct is None:
            out += [np.zeros(np.shape(x)) for x in a_leaves]
            continue
        ct_leaves, ct_spec = tree_flatten(ct)
        if ct_spec != a_spec:
            raise ValueError("a cotangent returned by vjp_fun does not have the structure of its argument")
        for x, g in zip(a_leaves, ct_leaves):
            if g is not None and np.shape(g) != np.shape(x):
                raise ValueError(f"vjp_fun returned a cotangent of shape {np.shape(g)} "
                                 f"for an argument of shape {np.shape(x)}")
            out.append(np.zeros(np.shape(x)) if g is None else g)
    return [g for g, m in zip(out, mask) if m]
