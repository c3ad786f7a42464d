"""The public checks: check_grads, check_vjp and check_jvp.

Each sets up a `_Context`, flattens fun to a function of its float leaves,
and runs the trials; the comparisons, recursion and hint live in the
sibling modules.

Example:
    >>> import numpy as np
    >>> check_grads(lambda x: np.sum(x ** 3), (np.arange(3.0),), order=1)
"""

import inspect

import numpy as np

from ..core.tree import tree_flatten
from .compare import _compare_with_oracle
from .context import _Context, _Mismatch
from .estimates import _Est, _pair
from .hints import _hint
from .level import _Level
from .orders import _check_level
from .problem import _arg_names, _fill_tree, _flat_problem, _float_leaves


def _argnums(args, argnums, fun):
    """argnums as a tuple of valid positions (all arguments when None)."""
    if argnums is None:
        return tuple(range(len(args)))
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if not isinstance(i, int) or not -len(args) <= i < len(args):
            raise ValueError(f"argnums names argument {i!r}, but {getattr(fun, '__name__', 'fun')} "
                             f"was given {len(args)} arguments")
    return tuple(i % len(args) for i in nums)


def _restrict(fun, args, argnums):
    """`(fun of the argnums arguments only, those arguments)`; the others
    are held at their values. Unchanged when argnums is None."""
    if not isinstance(args, (tuple, list)):
        return fun, args  # _Context reports the misuse
    if argnums is None:
        return fun, args
    args = tuple(args)
    nums = _argnums(args, argnums, fun)
    names = _arg_names(fun, len(args))

    def restricted(*xs):
        full = list(args)
        for i, x in zip(nums, xs):
            full[i] = x
        return fun(*full)

    restricted.__name__ = getattr(fun, "__name__", "fun")
    restricted.__signature__ = inspect.Signature(
        [inspect.Parameter(names[i] if names[i].isidentifier() else f"arg{i}",
                           inspect.Parameter.POSITIONAL_ONLY) for i in nums])
    return restricted, tuple(args[i] for i in nums)


def check_grads(fun, args, order=2, modes=("fwd", "rev"), *, trials=3, rtol=None,
                atol=0.0, seed=None, complex_step=True, hint=True, finite_differences=True,
                report=False, argnums=None):
    """Check fun's derivatives up to `order` along random directions.

    `args` is a tuple of fun's arguments (arrays, or nested tuples, lists
    and dicts of them; integer leaves are held constant). In each of
    `trials` trials every mode in `modes` computes u.(J v) for random v and
    u: "fwd" (dual numbers), "rev" (the tape), and optionally "cs" (complex
    step) and "fd" (central differences, loose). Complex step also joins by
    itself, as a second opinion, when fun accepts it (`complex_step=False`
    turns that off). Forward and reverse mode come from the same rules, so
    an independent oracle is always consulted: where complex step cannot
    run (fun uses complex arithmetic itself, or has complex arguments),
    Richardson-extrapolated central differences do, with a tolerance set by
    their own error estimate (`finite_differences=False` turns that off).
    For order >= 2 the JVP and VJP functions of fun are checked the same
    way, and its Hessians for symmetry. Complex values are C as R^2: u.(J v)
    is the real pairing Re(sum(u * J v)) (docs/complex.md).

    Exact modes must agree within `rtol` times the absolute terms they sum
    (see the module docstring) plus `atol`; rtol defaults to 2**8 float
    epsilons of the arguments' precision. Returns None when everything
    agrees; raises AssertionError with a report otherwise, and with `hint`
    the report names the first primitive of fun that disagrees on its own.
    `seed` fixes the random directions (the report gives the seed it used).
    Every report names the oracles that ran and their precision; with
    `report=True` a passing check returns that line instead of None.

    `argnums` (an int or tuple) checks only those arguments, holding the
    others constant. A `cr.custom_vjp` block is checked against its own
    NumPy code: forward mode runs that code where chainrule can
    differentiate it, and complex step or differences where it cannot.

    Example:
        >>> import numpy as np
        >>> check_grads(lambda W, x: np.tanh(x @ W), (np.ones((3, 2)), np.ones(3)))
        >>> check_grads(lambda W, n: np.sum(W ** n), (np.ones(3), 3.0), argnums=0)
    """
    fun, args = _restrict(fun, args, argnums)
    ctx = _Context(fun, args, modes, trials, rtol, atol, seed, complex_step, finite_differences)
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"order must be an integer >= 1; got {order!r}")
    f, leaves, names = _flat_problem(fun, args, ctx)
    for trial in range(trials):
        ctx.trial = trial
        try:
            _check_level(f, leaves, names, order, [], ctx)
        except _Mismatch as m:
            lines = list(m.lines)
            if hint:
                lines += _hint(f, leaves, len(m.chain) + 1, ctx)
            lines += [f"note: {n}" for n in dict.fromkeys(ctx.notes)]
            lines.append(ctx.oracles())
            raise AssertionError(ctx.header() + "\n".join(lines)) from None
    if report:
        return ctx.oracles()


def check_vjp(fun, vjp_fun, args, *, trials=3, rtol=None, atol=0.0, seed=None, argnums=None):
    """Check a hand-written VJP against forward derivatives of fun.

    Convention: `vjp_fun(*args, cotangent)` takes fun's arguments followed
    by a cotangent shaped like fun's output (same nesting) and returns a
    tuple with one cotangent per argument, each shaped like its argument
    (`None` for an argument with zero or no derivative; a bare array is
    accepted when fun has one argument). vjp_fun may be anything: a
    third-party library's gradient, a formula derived by hand.

    Each trial compares vjp_fun(u).v with u.(J v) from the most exact
    oracle that can run fun: chainrule's forward mode, else complex step,
    else central differences (for a compiled function chainrule cannot
    trace). The report says which oracle was used. Each argument is checked
    on its own, so a report names the argument that disagrees. `argnums`
    (an int or tuple) checks only those arguments; the cotangents vjp_fun
    returns for the others are ignored (None, typically, for data).

    Example:
        >>> import numpy as np
        >>> check_vjp(np.sin, lambda x, g: (g * np.cos(x),), (np.linspace(0, 1, 4),))
        >>> check_vjp(lambda x, k: x * k, lambda x, k, g: (g * k, None),
        ...           (np.ones(3), np.arange(3.0)), argnums=0)
    """
    args = tuple(args) if isinstance(args, list) else args
    nums = _argnums(args, argnums, fun)
    names = _arg_names(fun, len(args))
    checked = 0
    for i in nums:
        fun_i, args_i = _restrict(fun, args, (i,))
        fun_i.__name__ = f"{getattr(fun, '__name__', 'fun')} (argument {i}, {names[i]})"
        ctx = _Context(fun_i, args_i, ("fwd",), trials, rtol, atol, seed, True)
        try:
            f, leaves, leaf_names = _flat_problem(fun_i, args_i, ctx)
        except TypeError:
            if argnums is None:
                continue  # an argument with no floats: nothing to check there
            raise
        checked += 1

        def hand(lv, i=i, ctx=ctx):
            cts = vjp_fun(*args, lv.u_tree)
            if len(args) == 1 and not isinstance(cts, (tuple, list)):
                cts = (cts,)
            if not isinstance(cts, (tuple, list)) or len(cts) != len(args):
                raise TypeError(f"vjp_fun must return a tuple of {len(args)} cotangents, "
                                "one per argument")
            return _Est(*_pair(_float_leaves(args_i, (cts[i],), ctx.float_mask), lv.v))

        for trial in range(trials):
            ctx.trial = trial
            _compare_with_oracle(_Level(f, leaves, leaf_names, [], ctx), hand, "vjp_fun", ctx)
    if not checked:
        raise TypeError(f"none of the arguments of {getattr(fun, '__name__', 'fun')} is "
                        "floating point; nothing to check")


def check_jvp(fun, jvp_fun, args, *, trials=3, rtol=None, atol=0.0, seed=None, argnums=None):
    """Check a hand-written JVP against forward derivatives of fun.

    Convention: `jvp_fun(primals, tangents)` takes two tuples shaped like
    args (fun's arguments, and a direction for each) and returns only the
    output tangent, shaped like fun's output. (For a function returning
    `(out, tangent)` pass `lambda p, t: f_jvp(p, t)[1]`.) Integer arguments
    get zero tangents.

    Each trial compares u.jvp_fun(args, v) with u.(J v) from the most exact
    oracle that can run fun, as in `check_vjp`. With `argnums`, only those
    arguments move: the others get zero tangents.

    Example:
        >>> import numpy as np
        >>> check_jvp(np.exp, lambda p, t: np.exp(p[0]) * t[0], (np.zeros(3),))
    """
    full = tuple(args)
    nums = _argnums(full, argnums, fun)
    fun_r, args = _restrict(fun, full, argnums)
    ctx = _Context(fun_r, args, ("fwd",), trials, rtol, atol, seed, True)
    f, leaves, names = _flat_problem(fun_r, args, ctx)

    def hand(lv):
        moving = _fill_tree(args, lv.v, ctx.float_mask)
        tangents = [np.zeros(np.shape(a)) for a in full] if argnums is not None else list(moving)
        if argnums is not None:
            for i, t in zip(nums, moving):
                tangents[i] = t
        return _Est(*_pair(lv.u, tree_flatten(jvp_fun(full, tuple(tangents)))[0]))

    for trial in range(trials):
        ctx.trial = trial
        _compare_with_oracle(_Level(f, leaves, names, [], ctx), hand, "jvp_fun", ctx)
