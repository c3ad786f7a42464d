"""Batching (vmap): a trace level whose boxes carry a leading batch axis.

A `BatchBox` holds, as its value, a whole batch of examples stacked along
axis 0; to the user's code (and to every rule) it reports the shape of ONE
example, so code written for one example runs on all of them at once.
`BatchTrace.process` hands each primitive call to the primitive's batching
rule `prim.batch(vals, batched, params)`: `vals` are the arguments with the
batch axis at 0 where `batched[i]` is true (plain per-example values where
it is false), and the rule returns the batched output (batch axis at 0). A
primitive without a rule is applied example by example and the results
stacked: correct, and slow (the rules live in `chainrule.rules.batching`).

Batching is a level like the differentiation modes, so it nests with them
in any order: batched tangents make Jacobians in one forward pass
(`jacfwd`), batched cotangents in one backward pass (`jacrev`).
"""

import numpy as np

from .box import Box
from .errors import ChainruleError
from .trace import Trace, raw
from .tree import rebuild


class BatchingError(ChainruleError, ValueError):
    """A computation asked for one value where a batch holds several."""


class BatchBox(Box):
    """A batch of values stacked along axis 0 of `_value`; it reports the
    shape, size and dtype of one example."""

    __slots__ = ()

    def __init__(self, value, trace):
        self._value = value
        self._trace = trace

    @property
    def shape(self):
        return np.shape(self._value)[1:]

    def __bool__(self):
        # Python control flow needs one answer for the whole batch: give it
        # when every example agrees, and refuse when they differ.
        if self.size != 1:
            raise ValueError("The truth value of an array with more than one element is ambiguous.")
        flags = np.asarray(raw(self._value)).astype(bool)
        if flags.all() or not flags.any():
            return bool(flags.flat[0])
        raise BatchingError(
            "a Python `if`/`while`/`bool()` on a batched value whose examples "
            "disagree; under vmap (and jacfwd/jacrev) use np.where(cond, a, b) "
            "instead of branching on a traced value."
        )


class BatchTrace(Trace):
    """One vmap in progress over a batch of `size` examples.

    Example:
        >>> import numpy as np
        >>> trace = BatchTrace(3)
        >>> x = BatchBox(np.arange(6.0).reshape(3, 2), trace)
        >>> x.shape, np.sum(x)._value  # one example is a 2-vector
        ((2,), array([1., 5., 9.]))
    """

    __slots__ = ("size",)

    def __init__(self, size):
        super().__init__()
        self.size = size

    def box(self, value):
        """A box of this trace over `value`, whose axis 0 is the batch."""
        n = np.shape(value)[0] if np.ndim(value) else None
        if n != self.size:
            raise ValueError(f"a batched value needs a leading axis of size {self.size}, "
                             f"got shape {np.shape(value)}")
        return BatchBox(value, self)

    def unbox(self, x):
        """x with the batch axis at 0, broadcast along it if x is not batched."""
        if type(x) is BatchBox and x._trace is self:
            return x._value
        return np.broadcast_to(x, (self.size,) + np.shape(x))

    def process(self, prim, args, params):
        vals = list(args)
        batched = [False] * len(args)
        for i, a in enumerate(args):
            if type(a) is BatchBox and a._trace is self:
                vals[i] = a._value
                batched[i] = True
        if prim.batch is None:
            out = loop_batch(prim, vals, batched, params)
        else:
            out = prim.batch(vals, batched, params)
        if prim.multiple_results:
            return rebuild(out, [BatchBox(o, self) for o in out])
        return BatchBox(out, self)


def loop_batch(prim, vals, batched, params):
    """The fallback rule: prim applied to each example in turn, then stacked."""
    size = next(np.shape(v)[0] for v, b in zip(vals, batched) if b)
    outs = [prim(*[v[k] if b else v for v, b in zip(vals, batched)], **params)
            for k in range(size)]
    if prim.multiple_results:
        return rebuild(outs[0], [np.stack([o[j] for o in outs]) for j in range(len(outs[0]))])
    return np.stack(outs)

