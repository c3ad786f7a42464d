"""How far two estimates of u.(J v) may differ: rounding-error scales
(the final terms, else the largest intermediate sum_k |u_k| . |t_k|) and
the agreement test built on them."""

import numpy as np

from ..api import jvp
from ..core.box import Box
from ..core.forward import DualBox
from ..core.reverse import ReverseBox, ReverseTrace
from ..core.trace import raw
from ..core.tree import rebuild, tree_flatten
from ..rules.elementwise import add_p

# The default rtol, in units of the arguments' float epsilon: rounding in a
# dot product of n terms stays below ~log2(n) eps of the sum of |terms|;
# 2**8 leaves a margin for the rounding that reaches the final sums from
# the steps before it (docs/check_grads.md has the measured errors).
RTOL_IN_EPS = 2.0 ** 8
CS_ROUNDING = 16        # NumPy's complex functions round a few ulps worse than real ones
FD_RTOL = 1e-8          # a floor under central differences' own error estimate, relative to the terms


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


def _rounding_scale(f, leaves, v, u_tree):
    """max over the intermediate values k of f of sum |u_k * t_k| (u_k its
    cotangent for the output projection u, t_k its tangent along v), by one
    forward-over-reverse pass; 0.0 if f cannot be run that way."""
    sums = []

    def on_tape(*xs):
        dual = xs[0]._trace if xs and isinstance(xs[0], DualBox) else None
        trace = _ScaleTrace()
        ins = [trace.new_input(x) for x in xs]
        nodes = [ReverseBox(b._value, trace, b._node) for b in ins]  # f may update ins in place
        out_leaves, _ = tree_flatten(f(*ins))
        u_leaves, _ = tree_flatten(u_tree)
        pairs = [(o, g) for o, g in zip(out_leaves, u_leaves) if isinstance(o, Box) and o._trace is trace]
        if not pairs:
            return 0.0
        cts = trace.backward([o for o, _ in pairs], [g for _, g in pairs], inputs=trace.zeros + nodes)
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
    for central differences their own error estimate (Richardson's last step
    and rounding) with a floor of FD_RTOL times the terms; plus the estimates'
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
