"""scipy.integrate's ODE solvers on traced values: `from chainrule.scipy import integrate`.

`odeint` and `solve_ivp` are differentiable in the initial state, the time
points and the parameters passed to the right-hand side through `args`. Both
are one primitive, the solution y(t_i) at given times, whose rules solve
another ODE with SciPy (no tape through the solver's steps):

* forward mode, the sensitivity equations: s = dy along the tangents obeys
  s' = f_y s + f_p dp with s(t0) = dy0 - f(y0, t0) dt0, and the output
  tangent at t_i is s(t_i) + f(y_i, t_i) dt_i;
* reverse mode, the adjoint method: between consecutive output times,
  backwards, a' = -a f_y and p' = -a f_p are solved together with y itself
  (so no trajectory is stored), a jumping by the output cotangent g_i at each
  t_i; then y0's cotangent is a(t0), the parameters' is p(t0), t_i's is
  g_i . f(y_i, t_i) and t0's is -a(t0+) . f(y0, t0).

The products f_y s, a f_y, a f_p come from chainrule's own jvp and vjp of the
user's right-hand side, and the augmented systems are solved by the same
primitive, so derivatives nest (second order, forward over reverse...).
Gradients are as accurate as the solves: pass tight rtol and atol.
Any other name is scipy.integrate's own.

Example:
    >>> import chainrule as cr
    >>> decay = lambda y, t, k: -k * y  # y(1) = y0 exp(-k)
    >>> f = lambda k: odeint(decay, np.ones(1), np.array([0.0, 1.0]), args=(k,),
    ...                      rtol=1e-12, atol=1e-12)[-1, 0]
    >>> round(float(cr.grad(f)(1.0)), 8)  # -exp(-1)
    -0.36787944
"""

import numpy as np
import scipy.integrate as _si
from scipy.optimize import OptimizeResult

from ..api import jvp as _jvp
from ..api import vjp as _vjp
from ..complex_step import ComplexStepArray
from ..core.errors import LeakError, UnsupportedOptionError
from ..core.primitive import Primitive
from ..core.trace import Box, raw
from ._complex_step import continued


def _traced(*values):
    return any(isinstance(v, (Box, ComplexStepArray)) for v in values)


# ---- the primitive: y(t_i) for i < len(t), as rows (odeint's layout) ----
_CLOSURE = ("the right-hand side of odeint/solve_ivp returned a traced value for plain "
            "inputs: it closes over a value being differentiated; pass such values through args")


def _untraced(func):
    """func, refusing by name a traced result (a closure over a differentiated value)."""
    def checked(*a):
        out = func(*a)
        if isinstance(out, Box):
            raise LeakError(_CLOSURE)
        return out
    return checked


def _plain_rhs(func, args):
    def rhs(y, s):
        out = func(y, s, *args)
        if isinstance(out, Box):
            raise LeakError(_CLOSURE)
        return np.ravel(np.asarray(out, dtype=float))
    return rhs


def _solve(y0, t, *args, func, method, rtol, atol, options, t_end=None):
    y0 = np.ravel(np.asarray(y0, dtype=float))
    t = np.asarray(t, dtype=float)
    rhs = _plain_rhs(func, args)
    if method == "odeint":
        return _si.odeint(rhs, y0, t, rtol=rtol, atol=atol, **dict(options))
    if len(t) == 1:
        return y0[None]
    kwargs = dict(options, **({} if rtol is None else {"rtol": rtol}),
                  **({} if atol is None else {"atol": atol}))
    # t_end: solve_ivp's own end of the interval (its steps, hence its values, depend on it)
    sol = _si.solve_ivp(lambda s, y: rhs(y, s), (t[0], t[-1] if t_end is None else t_end), y0,
                        method=method,
                        t_eval=t[1:], **kwargs)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    return np.concatenate([y0[None], sol.y.T])


def _rows_of_rhs(func, y, t, args):
    """f(y_i, t_i) for each row y_i of y."""
    return np.stack([np.ravel(func(y[i], t[i], *args)) for i in range(np.shape(y)[0])])


def _zeros_for(tangents, args):
    return [np.zeros(np.shape(a)) if t is None else t for t, a in zip(tangents, args)]


def _ode_jvp(tangents, primals, ans, params):
    y0, t, *args = primals
    ty0, tt, *targs = tangents
    func, n, k = params["func"], np.shape(ans)[1], len(args)

    def sensitivity(z, s, *p):  # z = [y, dy]; p = args, then their tangents
        y, dy = z[:n], z[n:]
        out, dout = _jvp(lambda y, *q: func(y, s, *q), (y, *p[:k]), (dy, *p[k:]))
        return np.concatenate([np.ravel(out), np.ravel(dout)])

    s0 = np.zeros(n) if ty0 is None else np.ravel(ty0)
    if tt is not None:
        s0 = s0 - np.ravel(func(np.ravel(y0), t[0], *args)) * tt[0]
    z = ode_p(np.concatenate([np.ravel(y0), s0]), t, *args, *_zeros_for(targs, args),
              **{**params, "func": sensitivity})
    out = z[:, n:]
    if tt is not None:
        out = out + _rows_of_rhs(func, ans, t, args) * tt[:, None]
    return out


def _ode_vjp(g, res, params, which):
    (y0, t, *args), ys = res
    func, n = params["func"], np.shape(ys)[1]
    shapes = [np.shape(a) for a in args]
    sizes = [int(np.prod(s, dtype=int)) for s in shapes]

    def adjoint(z, s, *p):  # z = [y, a, p_bar] in reversed time s = -t
        y, a = z[:n], z[n:2 * n]
        out, pullback = _vjp(lambda y, *q: func(y, -s, *q), y, *p)
        cts = pullback(a)
        return np.concatenate([-np.ravel(out)] + [np.ravel(c) for c in cts])

    a = g[-1]
    p_bar = np.zeros(sum(sizes))
    t_bar = []
    for i in range(len(t) - 1, 0, -1):
        t_bar.append(np.dot(np.ravel(func(ys[i], t[i], *args)), g[i]))
        z = ode_p(np.concatenate([ys[i], a, p_bar]), np.stack([-t[i], -t[i - 1]]), *args,
                  **{**params, "func": adjoint, "t_end": None})[-1]
        a, p_bar = z[n:2 * n], z[2 * n:]
        if i > 1:  # y(t0) is y0 itself: g_0 goes to y0 alone, not into t0's cotangent
            a = a + g[i - 1]
    t0_bar = -np.dot(np.ravel(func(ys[0], t[0], *args)), a) if len(t) > 1 else np.zeros(())
    y0_bar = np.reshape(a + g[0] if len(t) > 1 else g[0], np.shape(y0))
    ts_bar = np.stack([t0_bar] + t_bar[::-1])
    args_bar, start = [], 0
    for shape, size in zip(shapes, sizes):
        args_bar.append(np.reshape(p_bar[start:start + size], shape))
        start += size
    out = [y0_bar, ts_bar, *args_bar]
    return [out[i] for i in which]


ode_p = continued(Primitive("integrate.ode", _solve, _ode_jvp, _ode_vjp))
ode_p.output_shapes = lambda specs, params: (
    [((specs[1][0][0], int(np.prod(specs[0][0], dtype=int))), np.dtype(np.float64))], None)


def _split_args(args):
    """Array-like args take part in differentiation; others (ints, strings,
    callables) are fixed values of the right-hand side."""
    args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    moving = [i for i, a in enumerate(args)
              if isinstance(a, (Box, ComplexStepArray)) or np.result_type(a).kind in "fc"]
    return args, moving


def _bind_static(func, args, moving):
    def bound(y, s, *dynamic):
        full = list(args)
        for i, a in zip(moving, dynamic):
            full[i] = a
        return func(y, s, *full)
    return bound


def odeint(func, y0, t, args=(), Dfun=None, col_deriv=0, full_output=0, rtol=None, atol=None,
           tfirst=False, **options):
    """scipy.integrate.odeint, differentiable in y0, t and args (see the module).

    Returns y with y[i] the state at t[i] (shape (len(t), len(y0))).

    Example:
        >>> import chainrule as cr
        >>> f = lambda y0: odeint(lambda y, t: -y, y0, np.array([0.0, 2.0]))[-1, 0]
        >>> round(float(cr.grad(f)(np.ones(1))[0]), 6)  # exp(-2)
        0.135335
    """
    if not _traced(y0, t, *(args if isinstance(args, (tuple, list)) else (args,))):
        return _si.odeint(_untraced(func), y0, t, args if isinstance(args, tuple) else tuple(args), Dfun,
                          col_deriv, full_output, rtol=rtol, atol=atol, tfirst=tfirst, **options)
    if full_output or Dfun is not None:
        raise UnsupportedOptionError("chainrule.scipy.integrate.odeint on traced values: "
                                     "full_output and Dfun are not supported")
    args, moving = _split_args(args)
    rhs = (lambda y, s, *a: func(s, y, *a)) if tfirst else func
    bound = _bind_static(rhs, args, moving)
    return ode_p(y0, t if _traced(t) else np.asarray(t, dtype=float), *[args[i] for i in moving],
                 func=bound, method="odeint", rtol=rtol, atol=atol,
                 options=tuple(sorted(options.items())))


def solve_ivp(fun, t_span, y0, method="RK45", t_eval=None, dense_output=False, events=None,
              vectorized=False, args=None, **options):
    """scipy.integrate.solve_ivp, differentiable in y0, t_span[0], t_eval and args
    on traced values (t_eval is then required: the solution is taken there).

    Returns a result with `t` (t_eval) and `y` (shape (len(y0), len(t_eval))).

    Example:
        >>> import chainrule as cr
        >>> f = lambda k: solve_ivp(lambda t, y, k: -k * y, (0.0, 1.0), np.ones(1), t_eval=[1.0],
        ...                         args=(k,), rtol=1e-10, atol=1e-12).y[0, -1]
        >>> round(float(cr.grad(f)(1.0)), 6)  # -exp(-1)
        -0.367879
    """
    all_args = () if args is None else tuple(args)
    if not _traced(y0, t_eval, *t_span, *all_args):
        return _si.solve_ivp(_untraced(fun), t_span, y0, method, t_eval, dense_output, events, vectorized,
                             args, **options)
    if t_eval is None or dense_output or events is not None or not isinstance(method, str):
        raise UnsupportedOptionError("chainrule.scipy.integrate.solve_ivp on traced values needs "
                                     "t_eval (the times of the solution), and supports neither "
                                     "dense_output, events nor a solver class")
    all_args, moving = _split_args(all_args)
    bound = _bind_static(lambda y, s, *a: fun(s, y, *a), all_args, moving)
    times = np.concatenate([np.reshape(t_span[0], (1,)), t_eval if _traced(t_eval)
                            else np.asarray(t_eval, dtype=float)])
    rtol, atol = options.pop("rtol", None), options.pop("atol", None)
    ys = ode_p(y0, times, *[all_args[i] for i in moving], func=bound, method=method,
               rtol=rtol, atol=atol, options=tuple(sorted(options.items())),
               t_end=float(raw(t_span[1])))
    return OptimizeResult(t=t_eval, y=np.transpose(ys[1:]), success=True, status=0,
                          message="The solver successfully reached the end of the integration "
                                  "interval.")


def __getattr__(name):
    """Every other name is scipy.integrate's own."""
    return getattr(_si, name)
