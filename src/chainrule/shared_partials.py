"""Reverse over forward with shared partials: the forward trace of `hvp`.

In reverse over forward, the tangent of an elementwise y = f(x) is
`t * f'(x)` computed on values the reverse trace records, so the partial
f'(x) is already on the tape, as a value. f's own tape node would compute
f'(x) again in its pullback (`g * f'(x)`). `SharingTrace`, a forward trace
for use directly above a reverse trace, gives that node the partial the
tangent used instead: its pullback becomes `g * partial`. For tanh that is
one multiplication instead of three passes over the array (1 - h**2 again,
then the product).

Exact: the partial is the same function of the same values, evaluated by
the same NumPy calls, so the pullback gives the same numbers as before, and
on outer levels (an hvp inside another transformation) the partial is the
same function of the primal there too. The sharing applies only where all
of that is checked: an elementwise primitive whose rules are still the
ones `elementwise` built, a tangent in one argument, that argument alone
traced by the reverse trace just below, and a partial recorded there.
Anything else goes through `DualTrace` unchanged.

Example:
    >>> import numpy as np
    >>> import chainrule as cr
    >>> cr.hvp(lambda x: np.sum(np.tanh(x)), (np.array([0.5]),), (np.array([1.0]),))
    array([-0.72686198])
"""

import numpy as np

from .core.forward import DualBox, DualTrace
from .core.primitive import _on_library_of, elementwise, pass_through
from .core.reverse import ReverseBox, _PULLS, _code
from .core.trace import Box, bind


def _pullback_codes():
    """The code objects of the pullbacks `elementwise` builds from a partial
    (`t * partial(...)`, for each way a partial can take its arguments; the
    identity's `t * x`) and from the constant -1 (`-t`), and of its jvp."""
    probes = (lambda: 2.0, lambda x: 2 * x, lambda x, y: x * y, lambda x, y, z: x * y * z)
    times = set()
    for p in probes:
        n = p.__code__.co_argcount
        prim = elementwise("probe", np.add, *([p] * max(n, 1)), register=False)
        times.add(prim.vjp_of[0].__code__)
    identity = elementwise("probe", np.add, lambda x: x, register=False).vjp_of[0].__code__
    minus = elementwise("probe", np.add, -1, register=False).vjp_of[0].__code__
    return times, identity, minus, prim.jvp.__code__


_TIMES, _IDENTITY, _MINUS, _ELEMENTWISE_JVP = _pullback_codes()


def _partials(prim):
    """Per argument of `prim`, how its jvp multiplies a tangent t, if its jvp
    is the one `elementwise` built and its pullback the matching `g * partial`
    (rules may replace them: absolute, for one, has rules of its own for
    complex input): `(partial, positions in (*args, ans))` for t * partial,
    1 for t itself, -1 for -t; else None. None for a primitive that is not
    elementwise."""
    partials = getattr(prim, "partials", None)
    if partials is None or prim.jvp.__code__ is not _ELEMENTWISE_JVP:
        return None
    out = []
    for p, pull in zip(partials, prim.vjp_of):
        code = getattr(pull, "__code__", None)
        if callable(p) and (code is _IDENTITY or (code in _TIMES and any(
                c.cell_contents is p for c in pull.__closure__ or ()))):
            names = p.__code__.co_varnames[:p.__code__.co_argcount]
            out.append((p, tuple(len(partials) if a == "ans" else "xyzw".index(a) for a in names)))
        elif not callable(p) and p == 1 and pull is pass_through:
            out.append(1)
        elif not callable(p) and p == -1 and code is _MINUS:
            out.append(-1)
        else:
            out.append(None)
    return tuple(out)


# prim -> (its jvp, its vjp_of, _partials(prim)): recomputed if a rule replaces them
_SHARING = {}


def _shape(x):
    """x's shape, read from the box itself where x is one (np.shape would
    dispatch through the box's __array_function__)."""
    shape = getattr(x, "shape", None)
    return np.shape(x) if shape is None else shape


def _times_saved(g, res):
    """The pullback of a node given its partial: g * partial."""
    return g * res[0]


class SharingTrace(DualTrace):
    """A forward trace directly above reverse trace `below`, whose elementwise
    nodes it gives the partials their tangents computed (module docstring).

    Example:
        >>> import numpy as np
        >>> from chainrule.core.reverse import ReverseTrace, residuals_of
        >>> below = ReverseTrace()
        >>> x = DualBox(below.new_input(np.array([0.5])), np.array([1.0]), SharingTrace(below))
        >>> y = np.tanh(x)
        >>> residuals_of(below.tape[1])  # tanh's node keeps the partial 1 - tanh(x)**2
        (array([0.78644773]),)
    """

    __slots__ = ("below",)

    def __init__(self, below):
        super().__init__()
        self.below = below

    def process(self, prim, args, params):
        info = _SHARING.get(prim)
        if info is None or info[0] is not prim.jvp or info[1] is not prim.vjp_of:
            info = _SHARING[prim] = (prim.jvp, prim.vjp_of, _partials(prim))
        if info[2] is None or params:
            return DualTrace.process(self, prim, args, params)
        position = None
        for k, a in enumerate(args):
            if isinstance(a, Box) and a._trace is self:
                if position is not None:
                    return DualTrace.process(self, prim, args, params)
                position = k
        shared = info[2][position]
        box = args[position]
        v = box._value
        if shared is None or type(v) is not ReverseBox or v._trace is not self.below:
            return DualTrace.process(self, prim, args, params)
        vals = list(args)
        vals[position] = v
        ans = bind(prim, *vals)
        t = box._tangent
        tape = self.below.tape
        if type(ans) is not ReverseBox or ans._trace is not self.below or ans._node != len(tape) - 1:
            tangents = [None] * len(vals)
            tangents[position] = t
            t = prim.jvp(tangents, vals, ans, {})
            return ans if t is None else DualBox(ans, t, self)
        if shared == 1 or shared == -1:  # a constant partial: nothing to share
            tangent = t if shared == 1 else -t
            if _shape(tangent) != _shape(ans):
                tangent = np.broadcast_to(_on_library_of(ans, tangent), _shape(ans))
            return DualBox(ans, tangent, self)
        node = tape[-1]
        p, idx = shared
        res = (*vals, ans)
        partial = p(*[res[k] for k in idx])
        # exactly the tangent elementwise's jvp gives: t * partial, broadcast
        tangent = t * partial
        if _shape(tangent) != _shape(ans):
            tangent = np.broadcast_to(_on_library_of(ans, tangent), _shape(ans))
        if (type(partial) is ReverseBox and partial._trace is self.below and type(node[0]) is int
                and node[3] == (position,) and _PULLS[node[6]] is prim.vjp_of[position]):
            code = _code(prim, _times_saved)
            tape[ans._node] = (code, None, None, node[3], node[4], node[5], code, partial._value)
        return DualBox(ans, tangent, self)
