"""Stochastic derivative verification: one derivative computed several ways.

The tutorial's technique ("if you remember nothing else, remember this"):
pick a random input direction v and a random output projection u. Forward
mode gives u.(J v) from dual numbers, reverse mode gives (J^T u).v from the
tape. Both are the same number computed by different code, and both are
exact up to rounding, so they must agree to a few units of float64 rounding,
not merely to the 1e-5 a finite-difference check can resolve. Complex step
(exact to rounding as well) is a second opinion that also catches a rule
whose forward and reverse forms are wrong together; Richardson-extrapolated
central differences referee when complex step dissents.

Tolerance. An estimate's rounding error is at most a few eps times the
absolute terms it summed, at every step of the computation:
sum_k |u_k| . |t_k| over the intermediate values k, with t_k the tangent and
u_k the cotangent there. The checker first compares against the terms of the
two final dot products; only if that fails does it measure the largest
intermediate sum (one forward-over-reverse pass), so that derivatives that
cancel inside fun (sin**2 + cos**2) are not flagged.

Second order recurses: the functions x, v -> J v and x, u -> J^T u are
checked in turn (forward-over-reverse against reverse-over-reverse and so
on); then the Hessian H of x -> u.fun(x) must be symmetric, w.(H v) ==
v.(H w), and the same from both branches: w.(H v) == u.(d/dw (J v)).

On a disagreement the report names the mode pair, the argument, the values
and the relative error, then re-runs fun on a recording tape and checks each
primitive it called on its own inputs, naming the first that disagrees.

Example:
    >>> import numpy as np
    >>> check_grads(lambda x: np.sum(np.tanh(x) ** 2), (np.linspace(-1, 1, 5),))
"""

import inspect
import warnings

import numpy as np

from .api import jvp, vjp
from .core.box import Box
from .core.errors import ChainruleError
from .core.forward import DualBox
from .core.reverse import ReverseTrace
from .core.trace import raw, top_trace
from .core.tree import rebuild, tree_flatten, tree_unflatten
from .rules.elementwise import add_p

MODES = ("fwd", "rev", "cs", "fd")
MODE_NAMES = {
    "fwd": "forward mode (dual numbers)",
    "rev": "reverse mode (tape)",
    "cs": "complex step",
    "fd": "central differences",
}
# The default rtol, in units of the arguments' float epsilon: rounding in a
# dot product of n terms stays below ~log2(n) eps of the sum of |terms|;
# 2**8 leaves a margin for the rounding that reaches the final sums from
# the steps before it (docs/check_grads.md has the measured errors).
RTOL_IN_EPS = 2.0 ** 8
CS_ROUNDING = 16        # NumPy's complex functions round a few ulps worse than real ones
FD_RTOL = 1e-6          # what central differences resolve, relative to the terms
MAX_HINT_CALLS = 200    # primitive calls of fun checked one by one for the hint


# --------------------------------------------------------------------------
# the public checks

def check_grads(fun, args, order=2, modes=("fwd", "rev"), *, trials=3, rtol=None,
                atol=0.0, seed=None, complex_step=True, hint=True):
    """Check fun's derivatives up to `order` along random directions.

    `args` is a tuple of fun's arguments (arrays, or nested tuples, lists
    and dicts of them; integer leaves are held constant). In each of
    `trials` trials every mode in `modes` computes u.(J v) for random v and
    u: "fwd" (dual numbers), "rev" (the tape), and optionally "cs" (complex
    step) and "fd" (central differences, loose). Complex step also joins by
    itself, as a second opinion, when fun accepts it (`complex_step=False`
    turns that off). For order >= 2 the JVP and VJP functions of fun are
    checked the same way, and its Hessians for symmetry.

    Exact modes must agree within `rtol` times the absolute terms they sum
    (see the module docstring) plus `atol`; rtol defaults to 2**8 float
    epsilons of the arguments' precision. Returns None when everything
    agrees; raises AssertionError with a report otherwise, and with `hint`
    the report names the first primitive of fun that disagrees on its own.
    `seed` fixes the random directions (the report gives the seed it used).

    A `cr.custom_vjp` block is checked like any function: forward mode runs
    through its own NumPy code, reverse mode through its backprop.

    Example:
        >>> import numpy as np
        >>> check_grads(lambda W, x: np.tanh(x @ W), (np.ones((3, 2)), np.ones(3)))
    """
    ctx = _Context(fun, args, modes, trials, rtol, atol, seed, complex_step)
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
            raise AssertionError(ctx.header() + "\n".join(lines)) from None


def check_vjp(fun, vjp_fun, args, *, trials=3, rtol=None, atol=0.0, seed=None):
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
    trace). The report says which oracle was used.

    Example:
        >>> import numpy as np
        >>> check_vjp(np.sin, lambda x, g: (g * np.cos(x),), (np.linspace(0, 1, 4),))
    """
    ctx = _Context(fun, args, ("fwd",), trials, rtol, atol, seed, True)
    f, leaves, names = _flat_problem(fun, args, ctx)

    def hand(lv):
        cts = vjp_fun(*args, lv.u_tree)
        if len(args) == 1 and not isinstance(cts, (tuple, list)):
            cts = (cts,)
        if not isinstance(cts, (tuple, list)) or len(cts) != len(args):
            raise TypeError(f"vjp_fun must return a tuple of {len(args)} cotangents, one per argument")
        return _Est(*_pair(_float_leaves(args, cts, ctx.float_mask), lv.v))

    for trial in range(trials):
        ctx.trial = trial
        _compare_with_oracle(_Level(f, leaves, names, [], ctx), hand, "vjp_fun", ctx)


def check_jvp(fun, jvp_fun, args, *, trials=3, rtol=None, atol=0.0, seed=None):
    """Check a hand-written JVP against forward derivatives of fun.

    Convention: `jvp_fun(primals, tangents)` takes two tuples shaped like
    args (fun's arguments, and a direction for each) and returns only the
    output tangent, shaped like fun's output. (For a function returning
    `(out, tangent)` pass `lambda p, t: f_jvp(p, t)[1]`.) Integer arguments
    get zero tangents.

    Each trial compares u.jvp_fun(args, v) with u.(J v) from the most exact
    oracle that can run fun, as in `check_vjp`.

    Example:
        >>> import numpy as np
        >>> check_jvp(np.exp, lambda p, t: np.exp(p[0]) * t[0], (np.zeros(3),))
    """
    ctx = _Context(fun, args, ("fwd",), trials, rtol, atol, seed, True)
    f, leaves, names = _flat_problem(fun, args, ctx)

    def hand(lv):
        tangents = _fill_tree(args, lv.v, ctx.float_mask)
        return _Est(*_pair(lv.u, tree_flatten(jvp_fun(tuple(args), tuple(tangents)))[0]))

    for trial in range(trials):
        ctx.trial = trial
        _compare_with_oracle(_Level(f, leaves, names, [], ctx), hand, "jvp_fun", ctx)


# --------------------------------------------------------------------------
# settings of one check

class _Context:
    """What a check was asked to do, and the random stream it draws from."""

    def __init__(self, fun, args, modes, trials, rtol, atol, seed, complex_step):
        if not isinstance(args, (tuple, list)):
            raise TypeError(
                f"args must be a tuple of fun's arguments, e.g. (x,) rather than x; got {type(args).__name__}")
        modes = tuple(modes)
        if [m for m in modes if m not in MODES] or not {"fwd", "rev"} & set(modes):
            raise ValueError(f"modes must be drawn from {MODES} and include 'fwd' or 'rev'; got {modes}")
        if trials < 1:
            raise ValueError("trials must be at least 1")
        self.fun_name = getattr(fun, "__name__", type(fun).__name__)
        self.modes = modes
        self.trials = trials
        self.user_rtol = rtol
        self.rtol = rtol
        self.atol = atol
        self.seed = int(np.random.SeedSequence().entropy % 2**63) if seed is None else seed
        self.rng = np.random.default_rng(self.seed)
        # numerical modes tried when they can run, without being required
        self.optional = {"cs"} if complex_step else set()
        self.trial = 0
        self.float_mask = None
        self.notes = []

    def set_precision(self, leaves):
        finfo = max((np.finfo(np.result_type(x)) for x in leaves), key=lambda fi: fi.eps)
        self.rtol = RTOL_IN_EPS * finfo.eps if self.user_rtol is None else self.user_rtol
        self.tiny = float(finfo.tiny)

    def header(self):
        return (f"derivatives of {self.fun_name} disagree (trial {self.trial + 1} of "
                f"{self.trials}; reproduce with seed={self.seed})\n")


class _Mismatch(Exception):
    """Two estimates of one derivative disagree (internal; becomes the report)."""

    def __init__(self, lines, chain):
        super().__init__("\n".join(lines))
        self.lines = lines
        self.chain = chain


# --------------------------------------------------------------------------
# fun of nested args -> a function of the float leaves

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
    ctx.set_precision(floats)
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


# --------------------------------------------------------------------------
# directions, dot products, estimates

def _random_like(x, rng):
    x = np.asarray(raw(x))
    if x.dtype.kind == "c":
        return (rng.standard_normal(x.shape) + 1j * rng.standard_normal(x.shape)).astype(x.dtype)
    return np.asarray(rng.standard_normal(x.shape), dtype=x.dtype if x.dtype.kind == "f" else float)


def _is_float(x):
    return np.result_type(raw(x)).kind in "fc"


def _pair(a, b):
    """`(sum(a * b), sum(|a * b|))` over matching leaves: the bilinear pairing
    (no conjugation, as chainrule's rules use pure transposes) and its terms."""
    total, terms = 0.0, 0.0
    for x, y in zip(a, b):
        if x is None or y is None:
            continue
        prod = np.asarray(x) * np.asarray(y)
        total = total + np.sum(prod)
        terms += float(np.sum(np.abs(prod)))
    return total, terms


class _Est:
    """One estimate of u.(J v): its value, the sum of |terms| it summed, an
    absolute error allowance of its own, and its kind: "exact" (dual
    numbers, tape), "cs" (complex step) or "fd" (central differences)."""

    __slots__ = ("value", "terms", "error", "kind")

    def __init__(self, value, terms, error=0.0, kind="exact"):
        self.value = complex(value) if np.iscomplexobj(value) else float(value)
        self.terms = terms
        self.error = error
        self.kind = kind


class _Unusable(Exception):
    """An estimator cannot run on this function (complex input refused...)."""


class _Level:
    """One function under check in one trial, with its random directions."""

    def __init__(self, f, leaves, names, chain, ctx, v=None, u=None):
        """Random v and u are drawn unless given (u as a list of f's output leaves)."""
        self.f, self.leaves, self.names, self.chain, self.ctx = f, list(leaves), names, chain, ctx
        self.v = [_random_like(x, ctx.rng) for x in leaves] if v is None else v
        if u is None:
            out_leaves, out_spec = tree_flatten(f(*leaves))
            if not any(_is_float(o) for o in out_leaves):
                raise TypeError(f"{ctx.fun_name} returned no floating-point value; nothing to differentiate")
            u = [_random_like(o, ctx.rng) if _is_float(o) else np.zeros(np.shape(o)) for o in out_leaves]
            self.u_tree = tree_unflatten(out_spec, u)
        else:
            self.u_tree = tuple(u)
        self.u = u
        self.real_input = any(np.result_type(raw(x)).kind != "c" for x in leaves)
        self.scale = {}  # rounding scales, by the id of the direction list

    def label(self, mode):
        return "-over-".join([mode] + self.chain[::-1])

    def estimate(self, mode, v=None):
        """u.(J v) by one mode (v: the level's direction unless given)."""
        est = self._estimate(mode, self.v if v is None else v)
        if self.real_input:
            # reverse mode keeps the real part of a real input's cotangent, so
            # with any real input only the real part of u.(J v) is comparable
            est.value = est.value.real
        return est

    def _estimate(self, mode, v):
        f, leaves, u = self.f, self.leaves, self.u
        if mode == "fwd":
            return _Est(*_pair(u, tree_flatten(jvp(f, tuple(leaves), tuple(v))[1])[0]))
        if mode == "rev":
            return _Est(*_pair(vjp(f, *leaves)[1](self.u_tree), v))
        if mode == "cs":
            return _complex_step(f, leaves, v, u)
        return _central_difference(f, leaves, v, u)

    def rounding_scale(self, v):
        if id(v) not in self.scale:
            self.scale[id(v)] = _rounding_scale(self.f, self.leaves, v, self.u_tree)
        return self.scale[id(v)]


def _complex_step(f, leaves, v, u):
    try:
        from .complex_step import cs_jvp  # optional: imported when first needed
    except ImportError:
        raise _Unusable("chainrule.complex_step is not available") from None
    if any(np.result_type(raw(x)).kind == "c" for x in leaves):
        raise _Unusable("the arguments are complex already")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", np.exceptions.ComplexWarning)
            with np.errstate(all="ignore"):
                out, t = cs_jvp(f, tuple(leaves), tuple(v))
    except Exception as e:  # noqa: BLE001  (whatever the reason: no opinion)
        raise _Unusable(f"it cannot run fun ({type(e).__name__}: {str(e).split('; ')[0]})") from None
    # the step h = 1e-20 leaves an O(h**2) error, visible only where the
    # derivative is (near) zero, e.g. prod(x) at x = 0; allow 1e-30 of fun's size
    size = _pair(u, tree_flatten(out)[0])[1]
    return _Est(*_pair(u, tree_flatten(t)[0]), error=1e-30 * (1.0 + size), kind="cs")


def _central_difference(f, leaves, v, u):
    """u.(J v) from u.f(x + s v) at s = +-h, +-h/2, +-h/4, extrapolated twice
    (Richardson); its error estimate is the last extrapolation step plus the
    rounding of the differences."""
    size = max([float(np.max(np.abs(raw(x)), initial=0.0)) for x in leaves] + [1.0])
    vmax = max([float(np.max(np.abs(d), initial=0.0)) for d in v] + [1e-300])
    h = 1e-3 * size / vmax
    diffs, rounding = [], 0.0
    with np.errstate(all="ignore"):
        for k in range(3):
            s = h / 2**k
            (p, tp), (m, tm) = (_pair(u, tree_flatten(f(*[x + e * d for x, d in zip(leaves, v)]))[0])
                                for e in (s, -s))
            diffs.append((p - m) / (2 * s))
            rounding = max(rounding, 4 * np.finfo(float).eps * (tp + tm) / (2 * s))
        once = [(4 * diffs[k + 1] - diffs[k]) / 3 for k in range(2)]
        value = (16 * once[1] - once[0]) / 15
    if not np.isfinite(value):
        raise _Unusable("central differences are not finite (the steps leave fun's domain?)")
    return _Est(value, abs(value), 10 * abs(value - once[1]) + rounding, kind="fd")


# --------------------------------------------------------------------------
# the rounding scale: sum_k |u_k| . |t_k| at each intermediate value k

class _ScaleTrace(ReverseTrace):
    """A tape that adds a zero input to every primitive's output, so that
    the backward pass returns the cotangent of every intermediate value."""

    def __init__(self):
        super().__init__()
        self.values = []   # each intermediate value (a dual box carries its tangent)
        self.zeros = []    # the zero input added to it

    def _expose(self, y):
        if not (isinstance(y, Box) and y._trace is self):
            return y
        z = self.new_input(np.zeros_like(raw(y)))
        self.values.append(y._value)
        self.zeros.append(z)
        return super().process(add_p, (y, z), {})

    def process(self, prim, args, params):
        out = super().process(prim, args, params)
        if prim.multiple_results and isinstance(out, (tuple, list)):
            return rebuild(out, [self._expose(y) for y in out])
        return self._expose(out)

    def process_custom(self, prim, args):
        return self._expose(super().process_custom(prim, args))


def _rounding_scale(f, leaves, v, u_tree):
    """max over the intermediate values k of f of sum |u_k * t_k| (u_k its
    cotangent for the output projection u, t_k its tangent along v), by one
    forward-over-reverse pass; 0.0 if f cannot be run that way."""
    sums = []

    def on_tape(*xs):
        dual = xs[0]._trace if xs and isinstance(xs[0], DualBox) else None
        trace = _ScaleTrace()
        ins = [trace.new_input(x) for x in xs]
        out_leaves, _ = tree_flatten(f(*ins))
        u_leaves, _ = tree_flatten(u_tree)
        pairs = [(o, g) for o, g in zip(out_leaves, u_leaves) if isinstance(o, Box) and o._trace is trace]
        if not pairs:
            return 0.0
        cts = trace.backward([o for o, _ in pairs], [g for _, g in pairs], inputs=trace.zeros + ins)
        for value, ct in zip(trace.values + list(xs), cts):
            if ct is not None and isinstance(value, DualBox) and value._trace is dual:
                sums.append(float(np.sum(np.abs(raw(ct) * raw(value._tangent)))))
        return 0.0

    try:
        jvp(on_tape, tuple(leaves), tuple(v))
    except Exception:  # noqa: BLE001  (then only the final terms count)
        return 0.0
    return max(sums, default=0.0)


# --------------------------------------------------------------------------
# comparing two estimates

def _tolerance(a, b, lv, v):
    """How far apart estimates a and b may be: rtol times the terms of the
    final sums (or, failing that, twice the largest intermediate sum), or
    FD_RTOL times the terms for central differences; plus the estimates'
    own error allowances and atol."""
    kinds = {a.kind, b.kind}
    terms = a.terms + b.terms
    # below the smallest normal number differences are underflow, not error
    base = lv.ctx.atol + a.error + b.error + lv.ctx.tiny
    if "fd" in kinds:
        return base + FD_RTOL * terms
    rtol = lv.ctx.rtol * (CS_ROUNDING if "cs" in kinds else 1)
    tol = base + rtol * terms
    if abs(a.value - b.value) > tol:
        tol = base + rtol * max(terms, 2 * lv.rounding_scale(v))
    return tol


def _agree(a, b, lv, v=None):
    v = lv.v if v is None else v
    finite = np.isfinite(a.value) and np.isfinite(b.value)
    return finite and abs(a.value - b.value) <= _tolerance(a, b, lv, v)


def _require(lv, results, a, b, extra=()):
    """Raise a mismatch report unless estimates a and b agree."""
    ea, eb = results[a], results[b]
    if _agree(ea, eb, lv):
        return
    diff = abs(ea.value - eb.value)
    terms = ea.terms + eb.terms
    tol = _tolerance(ea, eb, lv, lv.v)
    what = "u.(J v)" if not lv.chain else f"u.(J v) of {lv.f.__name__}"
    lines = [
        f"{lv.label(a)} vs {lv.label(b)}: {what} = {ea.value!r} by {MODE_NAMES[a]}, "
        f"{eb.value!r} by {MODE_NAMES[b]}",
        f"  error {diff:.3e}: {diff / max(terms, 1e-300):.2e} of the absolute terms {terms:.3e}, "
        f"{diff / max(abs(ea.value), abs(eb.value), 1e-300):.2e} of the value (tolerance {tol:.2e})",
    ]
    if not (np.isfinite(ea.value) and np.isfinite(eb.value)):
        lines.append("  a derivative is not finite: are the arguments inside fun's domain?")
    lines += list(extra) + _localise(lv, a, b)
    if lv.chain:
        lines.append(f"  (order {len(lv.chain) + 1}: this is the derivative of {lv.f.__name__})")
    raise _Mismatch(lines, lv.chain)


def _localise(lv, a, b):
    """A line naming the arguments whose own directions show the disagreement."""
    if len(lv.leaves) == 1:
        return [f"  argument: {lv.names[0]} (shape {np.shape(lv.leaves[0])})"]
    bad = []
    for k, x in enumerate(lv.leaves):
        vk = [d if j == k else np.zeros_like(d) for j, d in enumerate(lv.v)]
        try:
            ea, eb = lv.estimate(a, vk), lv.estimate(b, vk)
        except _Unusable:
            return []
        if not _agree(ea, eb, lv, vk):
            rel = abs(ea.value - eb.value) / max(ea.terms + eb.terms, 1e-300)
            bad.append(f"{lv.names[k]} (shape {np.shape(x)}, error {rel:.1e} of the terms)")
    if not bad:
        return ["  argument: none disagrees alone (the error is in a cross term)"]
    return [f"  argument{'s' if len(bad) > 1 else ''}: " + "; ".join(bad)]


# --------------------------------------------------------------------------
# one level of the check, and the recursion to higher orders

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


def _compare_all(lv, results):
    """Exact modes against each other and against complex step; central
    differences referee a dissenting complex step, and stand in for a
    second opinion when only one exact mode was asked for."""
    ctx = lv.ctx
    exact = list(results)
    if len(exact) == 2:
        _require(lv, results, "fwd", "rev")
    ref = exact[0]
    numeric = [m for m in ("cs", "fd") if m in ctx.modes or m in ctx.optional]
    opinions = 0
    for mode in numeric:
        try:
            results[mode] = lv.estimate(mode)
        except _Unusable as e:
            if mode in ctx.modes:
                raise _Mismatch([f"{MODE_NAMES[mode]} ({lv.label(mode)}) could not run: {e}"],
                                lv.chain) from None
            continue
        opinions += 1
        if mode == "fd" or _agree(results[ref], results[mode], lv):
            _require(lv, results, ref, mode)
            continue
        side, verdict = _referee(lv, results, ref)
        if side != "cs" and "cs" not in ctx.modes:
            # without corroboration the dissent may be complex step's own: fun
            # is not complex-analytic there, or the point is a kink or a tie
            ctx.notes.append(f"complex step dissented on {lv.f.__name__}; {verdict}")
            continue
        _require(lv, results, ref, "cs", [f"  {verdict}", "  (complex_step=False leaves complex step out)"])
    if len(exact) == 1 and not opinions:
        try:
            results["fd"] = lv.estimate("fd")
        except _Unusable as e:
            raise _Mismatch([f"no second opinion for {lv.label(ref)}: {e}"], lv.chain) from None
        _require(lv, results, ref, "fd")


def _referee(lv, results, ref):
    """Which side central differences take when complex step dissents:
    `(side, line)`, side "cs" or "exact" when the difference estimate is
    clearly (10x) closer to that side and off the other by more than its
    own error, else "neither" (a tie, a kink, or too small to resolve)."""
    try:
        fd = results["fd"] = lv.estimate("fd")
    except _Unusable as e:
        return "neither", f"central differences could not referee ({e})"
    to_cs, to_exact = abs(fd.value - results["cs"].value), abs(fd.value - results[ref].value)
    side = "neither"
    if 10 * to_cs < to_exact and to_exact > fd.error:
        side = "cs"
    elif 10 * to_exact < to_cs and to_cs > fd.error:
        side = "exact"
    names = {"cs": "complex step", "exact": MODE_NAMES[ref], "neither": "neither clearly"}
    return side, f"central differences give {fd.value!r}, which sides with {names[side]}"


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
    if lv.real_input:  # as in _Level.estimate
        for e in est.values():
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


def _compare_with_oracle(lv, hand, hand_name, ctx):
    """check_vjp / check_jvp: the hand-written value against the best oracle."""
    reasons = []
    for mode in ("fwd", "cs", "fd"):
        try:
            oracle = lv.estimate(mode)
            break
        except _Unusable as e:
            reasons.append(f"{MODE_NAMES[mode]}: {e}")
        except (ChainruleError, TypeError) as e:  # fun cannot be traced
            reasons.append(f"{MODE_NAMES[mode]}: {type(e).__name__}: {str(e).split('; ')[0]}")
    else:
        raise ValueError(f"no oracle can differentiate {ctx.fun_name}: " + "; ".join(reasons))
    mine = hand(lv)
    if _agree(mine, oracle, lv):
        return
    diff, terms = abs(mine.value - oracle.value), mine.terms + oracle.terms
    raise AssertionError(ctx.header() + "\n".join([
        f"{hand_name} vs {MODE_NAMES[mode]} (the oracle)",
        *[f"  not usable as the oracle, {r}" for r in reasons],
        f"  u.(J v) = {mine.value!r} by {hand_name}, {oracle.value!r} by {MODE_NAMES[mode]}",
        f"  error {diff:.3e}: {diff / max(terms, 1e-300):.2e} of the absolute terms "
        f"(tolerance {_tolerance(mine, oracle, lv, lv.v):.2e})",
    ]))


# --------------------------------------------------------------------------
# the hint: which primitive of fun disagrees on its own inputs

class _RecordingTrace(ReverseTrace):
    """A tape that also keeps each primitive call's input values."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def _record(self, prim, args, params):
        mine = [isinstance(a, Box) and a._trace is self for a in args]
        if any(mine):
            vals = [a._value if m else a for a, m in zip(args, mine)]
            self.calls.append((prim, vals, tuple(i for i, m in enumerate(mine) if m), params))

    def process(self, prim, args, params):
        if prim.differentiable:
            self._record(prim, args, params)
        return super().process(prim, args, params)

    def process_custom(self, prim, args):
        self._record(prim, args, {})
        return super().process_custom(prim, args)


def _call_function(prim, vals, which, params):
    """The primitive as a function of its traced inputs (the others fixed)."""
    custom = hasattr(prim, "run_with_backprop")

    def call(*xs):
        full = list(vals)
        for i, x in zip(which, xs):
            full[i] = x
        if custom:  # as the custom_vjp wrapper: backprop on a tape, own code elsewhere
            trace = top_trace(full)
            if isinstance(trace, ReverseTrace):
                return trace.process_custom(prim, full)
            return prim.impl(*full)
        return prim(*full, **params)

    call.__name__ = prim.name
    return call


def _hint(f, leaves, order, ctx):
    """Re-run f on a recording tape and check each primitive call alone, at
    the order that failed, with central differences added."""
    trace = _RecordingTrace()
    try:
        f(*[trace.new_input(x) for x in leaves])
    except Exception as e:  # noqa: BLE001
        return [f"hint: could not record {ctx.fun_name} ({type(e).__name__}: {e})"]
    calls = trace.calls[:MAX_HINT_CALLS]
    seen = set()
    for k, (prim, vals, which, params) in enumerate(calls):
        shapes = tuple(np.shape(x) for x in vals)
        if (prim.name, shapes, repr(params)) in seen:
            continue
        seen.add((prim.name, shapes, repr(params)))
        sub = _Context(prim.impl, (), ctx.modes, 2, ctx.user_rtol, ctx.atol, ctx.seed + k, True)
        # central differences also judge the rule itself at order 1 (not
        # above: differences of derivative code cross its kinks, e.g. sign)
        sub.optional = ctx.optional | ({"fd"} if order == 1 else set())
        sub.fun_name = prim.name
        inputs = [vals[i] for i in which]
        sub.set_precision(inputs)
        try:
            for _ in range(sub.trials):
                _check_level(_call_function(prim, vals, which, params), inputs,
                             [f"input {i}" for i in which], order, [], sub)
        except _Mismatch as m:
            shown = f", params {params!r}" if params else ""
            return [f"suspect primitive: {prim.name} (call {k + 1} of {len(trace.calls)}, input "
                    f"shapes {', '.join(map(str, shapes))}{shown}) disagrees on its own inputs:"
                    ] + ["  " + line for line in m.lines]
        except Exception as e:  # noqa: BLE001  (a call that cannot be checked alone)
            ctx.notes.append(f"{prim.name} could not be checked alone ({type(e).__name__}: {e})")
    return [f"hint: each of the {len(calls)} primitive calls checked agrees on its own inputs, "
            "so the error is in how fun combines them (a custom_vjp backprop, or code that "
            "hides a dependence from chainrule)"]
