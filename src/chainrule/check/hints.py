"""The hint: re-run fun on a recording tape and name the first primitive
that disagrees on its own inputs."""

import numpy as np

from ..core.box import Box
from ..core.reverse import ReverseTrace
from .context import _Context, _Mismatch
from .orders import _check_level

MAX_HINT_CALLS = 200    # primitive calls of fun checked one by one for the hint


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


def _call_function(prim, vals, which, params):
    """The primitive as a function of its traced inputs (the others fixed)."""
    def call(*xs):
        full = list(vals)
        for i, x in zip(which, xs):
            full[i] = x
        block = getattr(prim, "block", None)
        if block is not None:  # a hand-coded block, checked against its own code
            return block.wrapper(*full)
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
