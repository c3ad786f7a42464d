"""Reverse mode: a tape recorded while the function runs, walked backwards.

Each reverse trace owns one tape: a list of nodes in the order they were
created, which is already a topological order. A node is a tuple
`(prim, residuals, params, which, parents, shape, pull)`: the primitive,
what its VJP needs (never a Jacobian), the positions of its traced
arguments and the tape indices of their nodes, the shape of its output, and
for an elementwise primitive with one traced argument the pullback of that
argument alone (else None; the backward loop takes it without building
argument lists, and `parents` is then that argument's tape index itself). Inputs are nodes with no primitive. The backward pass is a loop from the last node to the
first; no recursion, so chains of millions of operations differentiate.
"""

import weakref

import numpy as np

from ..arraylibs import zeros
from .box import Box
from .primitive import pass_through
from .trace import Trace, bind
from .tree import rebuild


class ReverseBox(Box):
    """A value recorded on a reverse-mode tape; `_node` is its tape index
    (or `(index, k)` for the k-th output of a multiple-output primitive)."""

    __slots__ = ("_node",)

    def __init__(self, value, trace, node):
        self._value = value
        self._trace = trace
        self._node = node


class ReverseTrace(Trace):
    """One reverse-mode differentiation: records primitive calls on a tape.

    Example:
        >>> import numpy as np
        >>> trace = ReverseTrace()
        >>> x = trace.new_input(np.array([1.0, 2.0]))
        >>> y = np.sum(np.sin(x))
        >>> trace.backward([y], [1.0])[0]  # cos(x)
        array([ 0.54030231, -0.41614684])
    """

    __slots__ = ("tape",)

    def __init__(self):
        super().__init__()
        self.tape = []
        LIVE.add(self)  # for in-place updates, which must not change a recording tape

    def new_input(self, value):
        """A box for an input of the differentiated function."""
        self.tape.append((None, None, None, (), (), _shape(value), None))
        return ReverseBox(value, self, len(self.tape) - 1)

    def _unbox(self, args):
        """Split args into values one level down, the positions of this
        trace's boxes, their tape references, and whether any value is still
        a box of an outer level (then the primitive must be bound again)."""
        vals = list(args)
        which = []
        parents = []
        outer = False
        i = 0
        for a in args:
            if isinstance(a, Box):
                if a._trace is self:
                    v = vals[i] = a._value
                    which.append(i)
                    parents.append(a._node)
                    if isinstance(v, Box):
                        outer = True
                else:
                    outer = True
            i += 1
        return vals, which, parents, outer

    def process(self, prim, args, params):
        # Fast paths first: when only one argument is boxed it is ours, since
        # this trace was chosen as the innermost among the boxed arguments.
        if len(args) == 1:
            (box,) = args
            v = box._value
            vals, which, parents = (v,), _FIRST, (box._node,)
            if isinstance(v, Box):
                ans = bind(prim, v, **params)
            else:
                ans = prim.impl(v, **params) if params else prim.impl(v)
            pulls = prim.vjp_of
            pull = pulls[0] if pulls is not None else None
        elif len(args) == 2 and not isinstance(args[1], Box) and isinstance(args[0], Box):
            box, c = args
            v = box._value
            vals, which, parents = (v, c), _FIRST, (box._node,)
            if isinstance(v, Box):
                ans = bind(prim, v, c, **params)
            else:
                ans = prim.impl(v, c, **params) if params else prim.impl(v, c)
            pulls = prim.vjp_of
            pull = pulls[0] if pulls is not None else None
        else:
            vals, which, parents, outer = self._unbox(args)
            ans = bind(prim, *vals, **params) if outer else prim.impl(*vals, **params)
            pulls = prim.vjp_of
            pull = pulls[which[0]] if pulls is not None and len(which) == 1 else None
        if not prim.differentiable:
            return ans
        tape = self.tape
        index = len(tape)
        if prim.multiple_results:
            tape.append((prim, prim.save(vals, ans, params), params, which, parents,
                         tuple(_shape(a) for a in ans), None))
            return rebuild(ans, (ReverseBox(a, self, (index, k)) for k, a in enumerate(ans)))
        try:
            shape = ans.shape
        except AttributeError:  # a Python scalar
            shape = ()
        tape.append((prim, prim.save(vals, ans, params), params, which,
                     parents if pull is None else parents[0], shape, pull))
        box = _new_box(ReverseBox)  # cheaper than calling __init__ on this hot path
        box._value = ans
        box._trace = self
        box._node = index
        return box

    def backward(self, outputs, cotangents, inputs=None, keep_tape=False):
        """Cotangents of the inputs, given cotangents of `outputs` (boxes).

        `inputs` are the input boxes whose cotangents are returned (all
        inputs in tape order by default); `None` stands for zero. Unless
        `keep_tape`, nodes and residuals are freed as the walk passes them,
        so the tape serves one backward pass only.
        """
        tape = self.tape
        cts = [None] * len(tape)
        start = -1
        for out, ct in zip(outputs, cotangents):
            if ct is None:
                continue
            _accumulate(cts, tape, out._node, ct)
            start = max(start, _index(out._node))
        for k in range(start, -1, -1):
            g = cts[k]
            if g is None:
                continue
            node = tape[k]
            pull = node[6]
            if pull is not None:
                # one traced argument of an elementwise op: its pullback alone
                cts[k] = None
                if not keep_tape:
                    tape[k] = None
                if pull is pass_through:
                    gi = g
                else:
                    gi = pull(g, node[1])
                    if gi is None:
                        continue
                ref = node[4]
                if type(ref) is not int:
                    _accumulate(cts, tape, ref, gi)
                    continue
                try:
                    gshape = gi.shape
                except AttributeError:  # a Python scalar
                    gshape = ()
                if gshape != tape[ref][5]:
                    gi = unbroadcast(gi, tape[ref][5])
                old = cts[ref]
                cts[ref] = gi if old is None else old + gi
                continue
            prim, res, params, which, parents, shape, _ = node
            if prim is None:
                continue
            cts[k] = None
            if not keep_tape:
                tape[k] = None
            if prim.multiple_results:
                like = next(gi for gi in g if gi is not None)
                g = [zeros(s, np.float64, like) if gi is None else gi for gi, s in zip(g, shape)]
            gis = prim.vjp(g, res, params, which)
            for ref, gi in zip(parents, gis):
                if gi is None:
                    continue
                if type(ref) is not int:
                    _accumulate(cts, tape, ref, gi)
                    continue
                try:
                    gshape = gi.shape
                except AttributeError:  # a Python scalar
                    gshape = ()
                if gshape != tape[ref][5]:
                    gi = unbroadcast(gi, tape[ref][5])
                old = cts[ref]
                cts[ref] = gi if old is None else old + gi
        if inputs is None:
            return [cts[k] for k, node in enumerate(tape) if node is not None and node[0] is None]
        return [cts[b._node] for b in inputs]


LIVE = weakref.WeakSet()
_new_box = object.__new__
_FIRST = (0,)


def _index(ref):
    return ref if type(ref) is int else ref[0]


def _accumulate(cts, tape, ref, g):
    """Add cotangent g into the slot of node `ref`, reduced to its shape."""
    if type(ref) is int:
        shape = tape[ref][5]
        if _shape(g) != shape:
            g = unbroadcast(g, shape)
        old = cts[ref]
        cts[ref] = g if old is None else old + g
        return
    index, k = ref
    shape = tape[index][5][k]
    if _shape(g) != shape:
        g = unbroadcast(g, shape)
    slot = cts[index]
    if slot is None:
        slot = cts[index] = [None] * len(tape[index][5])
    slot[k] = g if slot[k] is None else slot[k] + g


def _shape(x):
    shape = getattr(x, "shape", None)
    return np.shape(x) if shape is None else shape


def unbroadcast(g, shape):
    """Sum `g` over the axes along which a value of `shape` was broadcast.

    Example:
        >>> unbroadcast(np.ones((2, 3)), (3,))
        array([2., 2., 2.])
    """
    gshape = _shape(g)
    lead = len(gshape) - len(shape)
    if lead > 0:
        g = np.sum(g, axis=tuple(range(lead)))
        gshape = gshape[lead:]
    axes = tuple(i for i, (n, m) in enumerate(zip(shape, gshape)) if n == 1 and m != 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    if lead < 0:
        g = np.broadcast_to(g, shape)
    return g
