"""One level of the check and the recursion to higher orders: the JVP and
VJP functions of f are checked in turn, then the Hessian identities."""

from ..api import jvp, vjp
from ..core.tree import tree_flatten, tree_unflatten
from .compare import _compare_all
from .context import _Mismatch
from .estimates import _Est, _is_float, _pair, _random_like
from .level import _Level
from .tolerance import _agree, _tolerance


def _check_level(f, leaves, names, order, chain, ctx):
    """Check u.(J v) of f by every mode; recurse on f's JVP and VJP."""
    lv = _Level(f, leaves, names, chain, ctx)
    results = {m: lv.estimate(m) for m in ("fwd", "rev") if m in ctx.modes}
    _compare_all(lv, results)
    if order == 1:
        return
    n = len(leaves)
    if "fwd" in ctx.modes:
        def f_jvp(*xs):
            return jvp(f, xs[:n], xs[n:])[1]
        f_jvp.__name__ = f"jvp({f.__name__})"
        _check_level(f_jvp, lv.leaves + lv.v, names + [f"tangent of {nm}" for nm in names],
                     order - 1, chain + ["fwd"], ctx)
    if "rev" in ctx.modes:
        _check_level(*_vjp_function(lv), order - 1, chain + ["rev"], ctx)
    _check_second_order(lv)


def _vjp_function(lv):
    """`(f_vjp, leaves, names)` for x, u -> J(x)^T u, a function of x's
    leaves and u's float leaves."""
    f, n = lv.f, len(lv.leaves)
    u_leaves, u_spec = tree_flatten(lv.u_tree)
    mask = [_is_float(o) for o in tree_flatten(f(*lv.leaves))[0]]

    def f_vjp(*xs):
        it = iter(xs[n:])
        cts = [next(it) if m else g for g, m in zip(u_leaves, mask)]
        return vjp(f, *xs[:n])[1](tree_unflatten(u_spec, cts))

    f_vjp.__name__ = f"vjp({f.__name__})"
    u_floats = [g for g, m in zip(u_leaves, mask) if m]
    names = lv.names + [f"cotangent of output leaf {k}" for k in range(len(u_floats))]
    return f_vjp, lv.leaves + u_floats, names


def _check_second_order(lv):
    """Second-order identities for H, the Hessian of x -> u.f(x), and
    random w: symmetry, w.(H v) == v.(H w), and agreement of the two
    branches, w.(H v) from the gradient (forward- or reverse-over-reverse)
    == u.(d/dw (J v)) from the JVP (forward-over-forward). The recursion
    checks each branch on its own; these compare them with each other."""
    ctx, f, x = lv.ctx, lv.f, tuple(lv.leaves)
    v, w = lv.v, [_random_like(leaf, ctx.rng) for leaf in x]
    levels, est = [], {}
    if "rev" in ctx.modes:
        def grad_u(*xs):
            return vjp(f, *xs)[1](lv.u_tree)
        grad_u.__name__ = f"grad(u.{f.__name__})"
        mode = "fwd" if "fwd" in ctx.modes else "rev"
        if mode == "fwd":
            hv, hw = (jvp(grad_u, x, tuple(d))[1] for d in (v, w))
        else:
            pullback = vjp(grad_u, *x)[1]
            hv, hw = pullback(tuple(v)), pullback(tuple(w))
        est[f"w.(H v) by {mode}-over-rev"] = _Est(*_pair(w, hv))
        est[f"v.(H w) by {mode}-over-rev"] = _Est(*_pair(v, hw))
        levels.append(_Level(grad_u, x, lv.names, lv.chain, ctx, v=v, u=w))
    if "fwd" in ctx.modes:
        def jvp_v(*xs):
            return jvp(f, xs, tuple(v))[1]
        jvp_v.__name__ = f"jvp({f.__name__})"
        out = tree_flatten(jvp(jvp_v, x, tuple(w))[1])[0]
        est["u.(d/dw J v) by fwd-over-fwd"] = _Est(*_pair(lv.u, out))
        levels.append(_Level(jvp_v, x, lv.names, lv.chain, ctx, v=w, u=lv.u))
    for e in est.values():  # the real pairing, as in _Level.estimate
        e.value = e.value.real
    names = list(est)
    ref = est[names[0]]
    for name in names[1:]:
        if any(_agree(ref, est[name], level) for level in levels):
            continue
        diff, terms = abs(ref.value - est[name].value), ref.terms + est[name].terms
        what = "not symmetric" if name.startswith("v.") else "computed differently by the JVP and the VJP"
        raise _Mismatch([
            f"the Hessian H of u.{f.__name__}(x) is {what}: {names[0]} = {ref.value!r}, "
            f"{name} = {est[name].value!r}",
            f"  error {diff:.3e}: {diff / max(terms, 1e-300):.2e} of the absolute terms "
            f"(tolerance {_tolerance(ref, est[name], levels[0], levels[0].v):.2e}); a backprop "
            "that is not the derivative of its forward code makes H non-symmetric, or the "
            "branches differ",
            f"  arguments: {', '.join(lv.names)}",
        ], lv.chain + ["rev"])
