"""Reverse mode: a tape recorded while the function runs, walked backwards.

Each reverse trace owns one tape: a list of nodes in the order they were
created, which is already a topological order. A node is a tuple
`(prim, residuals, params, which, parents, shape, pull)`: the primitive,
what its VJP needs (never a Jacobian), the positions of its traced
arguments and the tape indices of their nodes, the shape of its output, and
for an elementwise primitive with one traced argument the int code of its
pullback of that argument alone (else None). The backward loop takes that
pullback, `_PULLS[code]`, without building argument lists; such a node is
`(code, None, None, which, parent, shape, code, *residuals)`, with `parent`
that argument's tape index itself (see `primitive_of` and `residuals_of`).
A primitive with several outputs has their shapes as its shape, and an
eighth entry: their dtypes (for the zero cotangent of an unused output).
Inputs are nodes with no primitive. The backward pass is a loop from the last node to the
first; no recursion, so chains of millions of operations differentiate.
"""

import threading
import weakref

import numpy as np

from ..arraylibs import zeros
from .box import _NO_PARAMS, _OPERATORS, _SCALARS, Box
from .primitive import UFUNCS, float_dtype, pass_through
from .trace import Trace, bind, raw
from .tree import rebuild


class ReverseBox(Box):
    """A value recorded on a reverse-mode tape; `_node` is its tape index
    (or `(index, k)` for the k-th output of a multiple-output primitive)."""

    __slots__ = ("_node",)

    def __init__(self, value, trace, node):
        self._value = value
        self._trace = trace
        self._node = node

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # f(x) of an elementwise ufunc goes straight to its recorder (the hot
        # path of scalar code), saving the frames of the general dispatch
        if len(inputs) == 1 and method == "__call__" and not kwargs and self._trace.direct:
            prim = UFUNCS.get(ufunc)
            if prim is not None:
                rec = prim.recorders
                if rec is None:
                    rec = _recorders(prim)
                if rec:
                    return rec[0](self, None)
        return Box.__array_ufunc__(self, ufunc, method, *inputs, **kwargs)


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

    __slots__ = ("tape", "direct")

    def __init__(self):
        super().__init__()
        self.tape = []
        # whether its boxes may record elementwise calls themselves, without
        # `process` (not when a subclass overrides it to see every call)
        self.direct = type(self).process is ReverseTrace.process
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
        if not params:
            rec = prim.recorders
            if rec is None:
                rec = _recorders(prim)
            if len(rec) == len(args):
                # an elementwise call with one traced argument (when only one
                # argument is boxed it is ours: this trace is the innermost)
                if len(args) == 1:
                    return rec[0](args[0], None)
                a, b = args
                if not isinstance(b, Box):
                    return rec[0](a, b)
                if not isinstance(a, Box):
                    return rec[1](b, a)
        vals, which, parents, outer = self._unbox(args)
        ans = bind(prim, *vals, **params) if outer else prim.impl(*vals, **params)
        if not prim.differentiable:
            return ans
        pulls = prim.vjp_of
        code = _code(prim, pulls[which[0]]) if pulls is not None and len(which) == 1 else None
        tape = self.tape
        index = len(tape)
        if prim.multiple_results:
            tape.append((prim, prim.save(vals, ans, params), params, which, parents,
                         tuple(_shape(a) for a in ans), None,
                         tuple(float_dtype(raw(a)) for a in ans)))
            return rebuild(ans, (ReverseBox(a, self, (index, k)) for k, a in enumerate(ans)))
        try:
            shape = ans.shape
        except AttributeError:  # a Python scalar
            shape = ()
        if code is None:
            tape.append((prim, prim.save(vals, ans, params), params, which, parents, shape, None))
        else:
            tape.append((code, None, None, which, parents[0], shape, code, *prim.save(vals, ans, params)))
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
            ref = out._node
            start = max(start, ref if type(ref) is int else ref[0])
        for k in range(start, -1, -1):
            g = cts[k]
            if g is None:
                continue
            node = tape[k]
            code = node[6]
            if code is not None:
                # one traced argument of an elementwise op: its pullback alone
                pull = _PULLS[code]
                cts[k] = None
                if not keep_tape:
                    tape[k] = None
                if pull is pass_through:
                    gi = g
                else:
                    gi = pull(g, node[7:])
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
            prim, res, params, which, parents, shape = node[:6]
            if prim is None:
                continue
            cts[k] = None
            if not keep_tape:
                tape[k] = None
            if prim.multiple_results:
                like = next(gi for gi in g if gi is not None)
                # a missing cotangent is zero, in its output's (floating) dtype
                g = [zeros(s, dt, like) if gi is None else gi
                     for gi, s, dt in zip(g, shape, node[7])]
            pulls = prim.vjp_of  # an elementwise primitive's pullbacks, one by one, are its vjp
            gis = prim.vjp(g, res, params, which) if pulls is None else [pulls[i](g, res) for i in which]
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

# Nodes with a pullback alone name it (and their primitive) by an int code,
# and hold their residuals themselves (no nested tuple, no params dict), so
# that in scalar code they hold no object the garbage collector may track:
# Python then untracks them at their first collection instead of promoting
# them to the older generations, where every full collection would walk the
# whole tape. (A nested residual tuple would be untracked after its node in
# that collection, too late.) The primitives are the module-level
# elementwise ones, so these lists stay short.
_PRIMS = []
_PULLS = []
_CODES = {}
_LOCK = threading.Lock()


def _code(prim, pull):
    """The int code of `pull`, a pullback of elementwise `prim`."""
    if (prim, pull) not in _CODES:
        with _LOCK:  # threads recording at once must not get one code for two
            if (prim, pull) not in _CODES:
                _PRIMS.append(prim)
                _PULLS.append(pull)
                _CODES[prim, pull] = len(_PULLS) - 1
    return _CODES[prim, pull]


def primitive_of(node):
    """The primitive of a tape node (None for an input).

    Example:
        >>> trace = ReverseTrace()
        >>> y = np.sin(trace.new_input(1.0))
        >>> primitive_of(trace.tape[-1]).name
        'sin'
    """
    prim = node[0]
    return _PRIMS[prim] if type(prim) is int else prim


def residuals_of(node):
    """What a tape node keeps for its VJP.

    Example:
        >>> trace = ReverseTrace()
        >>> y = np.sin(trace.new_input(1.0))
        >>> residuals_of(trace.tape[-1])  # sin keeps its input
        (1.0, None)
    """
    return node[7:] if type(node[0]) is int else node[1]


def _recorders(prim):
    """Reverse mode's recording of elementwise `prim` (one or two arguments)
    when only one argument is traced: `prim.recorders[i](box, other)` for
    traced argument i, with `other` the other (constant) argument. Empty for
    any other primitive, which `ReverseTrace.process` records in general."""
    saver = prim.save
    keep = getattr(saver, "keep", None)
    rec = ()
    if prim.vjp_of is not None and prim.differentiable and keep is not None and len(keep) <= 3:
        rec = tuple(_recorder(prim, i, saver) for i in range(len(keep) - 1))
    prim.recorders = rec
    return rec


def _recorder(prim, position, saver):
    """record(box, other) for argument `position` of `prim`: evaluates it,
    appends its node (the residuals `saver` would keep; `prim.save` if a rule
    replaced the saver since) and returns the new box."""
    unary = len(saver.keep) == 2
    kx, ky, ka = (saver.keep[0], False, saver.keep[1]) if unary else saver.keep
    which = (position,)
    pull0 = prim.vjp_of[position]
    code0 = _code(prim, pull0)

    def record(box, other):
        v = box._value
        x, y = (other, v) if position else (v, other)
        if isinstance(v, Box):  # a box of an outer trace, which records the call too
            ans = bind(prim, x) if unary else bind(prim, x, y)
        else:
            ans = prim.impl(x) if unary else prim.impl(x, y)
        try:
            shape = ans.shape
        except AttributeError:  # a Python scalar
            shape = ()
        trace = box._trace
        tape = trace.tape
        out = _new_box(ReverseBox)  # cheaper than calling __init__ on this hot path
        out._value = ans
        out._trace = trace
        out._node = len(tape)
        pull = prim.vjp_of[position]
        code = code0 if pull is pull0 else _code(prim, pull)
        if prim.save is not saver:
            tape.append((code, None, None, which, box._node, shape, code,
                         *prim.save((x,) if unary else (x, y), ans, _NO_PARAMS)))
        elif unary:
            tape.append((code, None, None, which, box._node, shape, code,
                         x if kx else None, ans if ka else None))
        else:
            tape.append((code, None, None, which, box._node, shape, code,
                         x if kx else None, y if ky else None, ans if ka else None))
        return out
    return record


def _direct_operator(name, prim, position):
    """ReverseBox's operator `name` (elementwise `prim`, the box at argument
    `position`): with a plain scalar partner it calls the recorder itself."""
    general = getattr(Box, name)
    record = prim.recorders[position]

    def method(self, other):
        if type(other) in _SCALARS and self._trace.direct:
            return record(self, other)
        return general(self, other)
    method.__name__ = name
    return method


for _name, (_prim, _reflected) in _OPERATORS.items():
    if _recorders(_prim):  # the differentiable ones
        setattr(ReverseBox, _name, _direct_operator(_name, _prim, 0))
        setattr(ReverseBox, _reflected, _direct_operator(_reflected, _prim, 1))


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
    lead = len(gshape) - len(shape)  # shapes align at their last axes
    kept = tuple(i + lead for i, n in enumerate(shape)
                 if n == 1 and i + lead >= 0 and gshape[i + lead] != 1)
    axes = tuple(range(lead)) + kept
    if axes:  # one reduction; a plain array skips np.sum's Python wrapper
        g = (np.add.reduce(g, axes, None, None, bool(kept)) if type(g) is np.ndarray
             else np.sum(g, axis=axes, keepdims=bool(kept)))
    if lead < 0:  # fewer axes than the value: broadcast up
        return np.broadcast_to(g, shape)
    return np.reshape(g, shape) if kept and lead else g  # drop kept leading axes
