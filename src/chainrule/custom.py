"""Hand-coded blocks: a user function with its own derivative becomes a primitive.

`custom_vjp` blocks state their backprop (the VJP), `custom_jvp` blocks
their JVP; each is then a primitive in every mode. The other derivative is
the transpose of the given one, which is linear in its cotangent (tangent):
chainrule's reverse mode run over that linear code transposes it with the
linear rules. So a custom_vjp block works under jvp, jacfwd, vmap and
compile, a custom_jvp block under grad.

Second order needs how the given rule's residuals move with the block's
inputs. When the block's own forward code is differentiable by chainrule,
it is run again at the outer levels, so the residuals carry their
derivatives: exact for nonlinear blocks. When it is not (it calls a
function without a rule), the rule runs as an opaque primitive at run time;
its derivative with respect to the inputs is zero if the block is linear,
which chainrule verifies by evaluating the rule at a second point, and
otherwise unknown: then an error says so rather than dropping the curvature.
"""

import contextlib
import functools

import numpy as np

from .core.errors import ChainruleError, NoRuleError
from .core.primitive import Primitive, float_dtype
from .core.trace import Box, raw

# While checking a block (check_grads, check_vjp), forward mode runs its own
# code, so that its rules are compared with something independent of them:
# [depth, strict depth, fallbacks]; strict: a block whose code has no rules
# raises (the checker then takes complex step or differences as its oracle);
# otherwise the block's rule is used and the fallback counted, so that the
# checker adds an independent opinion.
OWN_CODE = [0, 0, 0]


@contextlib.contextmanager
def own_code(strict=False):
    """Within: hand-coded blocks run their own forward code on traced values
    where chainrule can differentiate it (check_grads' forward mode), so
    their rules are compared with something independent of them."""
    OWN_CODE[0] += 1
    OWN_CODE[1] += strict
    try:
        yield
    finally:
        OWN_CODE[0] -= 1
        OWN_CODE[1] -= strict


class CustomBlockError(NoRuleError):
    """A hand-coded block's derivative that chainrule cannot obtain."""


def custom_vjp(fun):
    """Decorator: `fun(*args) -> (value, backprop)` becomes a primitive.

    Callers get only `value`. Reverse mode calls `backprop(g)`, which returns
    one cotangent per positional argument (None where an argument is not
    differentiable). Forward mode (jvp, jacfwd, hessian) uses the transpose
    of backprop, which is linear in g; vmap maps the block, compile calls it.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> @custom_vjp
        ... def softplus(x):
        ...     ans = np.logaddexp(0.0, x)
        ...     return ans, lambda g: (g / (1 + np.exp(-x)),)
        >>> float(softplus(0.0))
        0.6931471805599453
        >>> float(cr.jvp(softplus, (0.0,), (1.0,))[1])
        0.5
    """
    return _Block(fun, "vjp").wrapper


def custom_jvp(fun):
    """Decorator: `fun(*args) -> (value, jvp)` becomes a primitive.

    `jvp(*tangents)` takes one tangent per positional argument (zeros for
    arguments not differentiated) and returns the output's tangent; it must
    be linear in the tangents. Reverse mode (grad, jacrev) uses its transpose.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> @custom_jvp
        ... def cube(x):
        ...     return x ** 3, lambda t: 3 * x ** 2 * t
        >>> cr.grad(cube)(2.0)
        np.float64(12.0)
    """
    return _Block(fun, "jvp").wrapper


class _Block:
    """The primitives of one hand-coded block.

    `prim(*args)` is the block; `bwd_p(g, *args)` and `fwd_p(*tangents,
    *args)` are its VJP and JVP as opaque primitives (used when the block's
    own code cannot be run on traced values); each is linear in its first
    operands and the transpose of the other.
    """

    def __init__(self, fun, kind):
        self.fun = fun
        self.kind = kind
        self.name = getattr(fun, "__name__", "block")
        self.last = (None, None, ())  # (value, rule, args) of the latest plain run
        self.linear = set()  # argument shapes and dtypes at which it was found linear
        label = f"custom_{kind}({self.name})"
        self.prim = Primitive(label, self.impl, jvp=self.jvp, vjp=self.vjp,
                              save=self.save, register=False)
        self.bwd_p = Primitive(f"{label}.vjp", self.bwd_impl, jvp=self.bwd_jvp,
                               vjp=self.bwd_vjp, save=_keep_args,
                               multiple_results=True, register=False)
        self.fwd_p = Primitive(f"{label}.jvp", self.fwd_impl, jvp=self.fwd_jvp,
                               vjp=self.fwd_vjp, save=_keep_args, register=False)
        for p in (self.prim, self.bwd_p, self.fwd_p):
            p.block = self

        @functools.wraps(fun)
        def wrapper(*args):
            if OWN_CODE[0] and any(isinstance(a, Box) for a in args):
                try:
                    return fun(*args)[0]
                except NoRuleError:
                    if OWN_CODE[1]:
                        raise
                    OWN_CODE[2] += 1  # not differentiable: the block's rule it is
            return self.prim(*args)

        wrapper.primitive = self.prim
        wrapper.block = self
        self.wrapper = wrapper

    # ---- running the user's function ----
    def run(self, args):
        value, rule = self.fun(*args)
        if not callable(rule):
            raise TypeError(f"{self.name} must return (value, {self.kind} function)")
        return value, rule

    def impl(self, *args):
        value, rule = self.run(args)
        self.last = (value, rule, args)
        return value

    def rule(self, args, ans):
        """The block's rule at args: from the plain run that gave ans, else
        by running fun at args (traced at outer levels: its residuals carry
        their derivatives); None when fun cannot run on these values."""
        value, rule, last_args = self.last
        if value is ans and len(args) == len(last_args) \
                and all(a is b for a, b in zip(args, last_args)):
            self.last = (None, None, ())  # used once: do not keep its arrays alive
            return rule
        try:
            return self.run(args)[1]
        except ChainruleError:
            return None

    # ---- the block's own rules, in the two directions ----
    def vjp_with(self, rule, g, args):
        """Cotangents of the args (tuple, None for no derivative)."""
        if self.kind == "vjp":
            cts = rule(g)
            if not isinstance(cts, (tuple, list)):
                raise TypeError(f"the backprop of {self.name} must return a tuple of cotangents")
            if len(cts) != len(args):
                raise TypeError(f"the backprop of {self.name} returned {len(cts)} cotangents "
                                f"for {len(args)} arguments")
            return tuple(cts)
        return self.transpose_jvp(rule, g, args)

    def jvp_with(self, rule, tangents, args, ans):
        """The output tangent along `tangents` (None entries are zeros)."""
        if all(t is None for t in tangents):
            return None
        if self.kind == "jvp":
            return rule(*[_zeros(a) if t is None else t for t, a in zip(tangents, args)])
        return self.transpose_vjp(rule, tangents, ans)

    def transpose_vjp(self, backprop, tangents, ans):
        """J t from the backprop g -> J^T g: the gradient of g -> <J^T g, t>."""
        from .api import grad

        def pairing(g):
            total = 0.0
            for ct, t in zip(backprop(g), tangents):
                if ct is not None and t is not None:
                    total = total + np.sum(np.real(ct * t))
            return total
        return self._transposing(grad(pairing), _zeros(ans), what="backprop", other="custom_jvp")

    def transpose_jvp(self, jvp_rule, g, args):
        """J^T g from the JVP t -> J t: the gradient of t -> <J t, g>."""
        from .api import grad
        nums = tuple(i for i, a in enumerate(args) if _is_float(a))
        if not nums:
            return (None,) * len(args)
        pairing = lambda *ts: np.sum(np.real(jvp_rule(*ts) * g))  # noqa: E731
        cts = self._transposing(grad(pairing, argnums=nums), *[_zeros(a) for a in args],
                                what="jvp", other="custom_vjp")
        out = [None] * len(args)
        for i, ct in zip(nums, cts):
            out[i] = ct
        return tuple(out)

    def _transposing(self, fun, *args, what, other):
        try:
            return fun(*args)
        except ChainruleError as e:
            raise CustomBlockError(
                f"the {what} of {self.name} cannot be transposed to give its "
                f"{'forward' if what == 'backprop' else 'reverse'}-mode derivative: {e}\n"
                f"The {what} must be linear in its argument and use functions chainrule can "
                f"differentiate. Alternatively state the derivative in the other direction "
                f"with @chainrule.{other}.") from None

    # ---- the block primitive ----
    def save(self, args, ans, params):
        rule = self.rule(args, ans)
        if rule is None:
            return lambda g: self.bwd_p(g, *args)
        return lambda g: self.vjp_with(rule, g, args)

    def vjp(self, g, backprop, params, which):
        cts = backprop(g)
        return [cts[i] for i in which]

    def jvp(self, tangents, args, ans, params):
        if all(t is None for t in tangents):
            return None
        rule = self.rule(args, ans)
        if rule is None:
            return self.fwd_p(*[_zeros(a) if t is None else t for t, a in zip(tangents, args)],
                              *args)
        return self.jvp_with(rule, tangents, args, ans)

    # ---- opaque VJP and JVP: the rule run on plain values ----
    def bwd_impl(self, g, *args):
        value, rule = self.run(args)
        return tuple(_zeros(a) if ct is None else ct
                     for ct, a in zip(self.vjp_with(rule, g, args), args))

    def fwd_impl(self, *ts_args):
        n = len(ts_args) // 2
        tangents, args = ts_args[:n], ts_args[n:]
        value, rule = self.run(args)
        return self.jvp_with(rule, tangents, args, value)

    def bwd_jvp(self, tangents, args, ans, params):
        tg, targs = tangents[0], tangents[1:]
        self.linear_or_raise(args[1:], targs)
        return None if tg is None else self.bwd_p(tg, *args[1:])

    def bwd_vjp(self, cts, args, params, which):
        args = args[1:]
        self.linear_or_raise(args, [i > 0 for i in which])
        cts = [None if c is None else c for c in cts]
        out = []
        for i in which:
            out.append(self.fwd_p(*[_zeros(a) if c is None else c for c, a in zip(cts, args)],
                                  *args) if i == 0 else None)
        return out

    def fwd_jvp(self, tangents, ts_args, ans, params):
        n = len(ts_args) // 2
        self.linear_or_raise(ts_args[n:], tangents[n:])
        tt = tangents[:n]
        if all(t is None for t in tt):
            return None
        return self.fwd_p(*[_zeros(a) if t is None else t for t, a in zip(tt, ts_args[:n])],
                          *ts_args[n:])

    def fwd_vjp(self, g, ts_args, params, which):
        n = len(ts_args) // 2
        args = ts_args[n:]
        self.linear_or_raise(args, [i >= n for i in which])
        cts = self.bwd_p(g, *args)
        return [cts[i] if i < n else None for i in which]

    # ---- how the rule moves with the inputs when fun cannot be traced ----
    def linear_or_raise(self, args, moving):
        """Raise unless the block's rule is the same at a second point: then
        its derivative with respect to the inputs (the block's curvature)
        is zero; else it is unknown."""
        if not any(m is not None and m is not False for m in moving):
            return
        plain = [raw(a) for a in args]
        rng = np.random.default_rng(0)
        key = tuple((np.shape(p), np.result_type(p)) for p in plain)
        if key in self.linear:
            return
        if any(not isinstance(p, (np.ndarray, np.generic, float, int, complex)) for p in plain):
            # symbolic (compile): linearity holds everywhere or almost nowhere,
            # so random points of the same shapes decide it
            if not all(_is_float(p) for p in plain):
                raise self.curvature_unknown("its inputs are symbolic here")
            plain = [rng.standard_normal(np.shape(p)).astype(np.result_type(p)) for p in plain]
        moved = [p + 0.1 * (1 + np.abs(p)) * rng.standard_normal(np.shape(p)) if _is_float(p)
                 else p for p in plain]
        value, rule_a = self.run(plain)
        _, rule_b = self.run(moved)
        if self.kind == "vjp":
            g = rng.standard_normal(np.shape(value))
            a, b = self.vjp_with(rule_a, g, plain), self.vjp_with(rule_b, g, moved)
        else:
            ts = [rng.standard_normal(np.shape(p)) if _is_float(p) else None for p in plain]
            a = (self.jvp_with(rule_a, ts, plain, value),)
            b = (self.jvp_with(rule_b, ts, moved, value),)
        for x, y in zip(a, b):
            if x is None or y is None:
                continue
            scale = max(np.max(np.abs(x), initial=0.0), np.max(np.abs(y), initial=0.0), 1e-300)
            if np.max(np.abs(np.asarray(x) - np.asarray(y)), initial=0.0) > 1e-9 * scale:
                raise self.curvature_unknown("its derivative changes with its inputs")
        self.linear.add(key)

    def curvature_unknown(self, why):
        return CustomBlockError(
            f"the second derivative of the hand-coded block {self.name} is unknown: its "
            f"forward code calls a function chainrule cannot differentiate, so how its "
            f"{'backprop' if self.kind == 'vjp' else 'jvp'} moves with its inputs is not "
            f"known, and {why}. Write the forward code with functions chainrule "
            f"differentiates (then second order is exact), or differentiate only once.")


def _keep_args(args, ans, params):
    return args


def _is_float(a):
    return np.result_type(raw(a)).kind in "fc"


def _zeros(a):
    return np.zeros(np.shape(a), float_dtype(raw(a)))
