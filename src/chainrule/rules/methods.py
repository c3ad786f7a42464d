"""NumPy functions behind ndarray methods that no other family covers:
argpartition, partition, compress and choose, as compositions of indexing
and selection (their derivatives follow from those rules).

Example:
    >>> import numpy as np, chainrule as cr
    >>> cr.grad(lambda x: np.sum(np.partition(x, 1)[:2]))(np.array([3.0, 1.0, 2.0]))
    array([0., 1., 1.])
"""

import numpy as np

from ..core.primitive import FUNCTIONS, nondifferentiable
from .indexing import take, take_along_axis
from .shape import ravel

_argpartition_p = nondifferentiable(
    "argpartition_positions",
    lambda a, kth, axis, kind: np.argpartition(a, kth, axis=axis, kind=kind))


def argpartition(a, kth, axis=-1, kind="introselect", order=None):
    """np.argpartition on a traced array: NumPy's positions, a plain result."""
    if axis is None:
        a, axis = ravel(a), -1
    return _argpartition_p(a, kth=kth, axis=axis, kind=kind)


def partition(a, kth, axis=-1, kind="introselect", order=None):
    """np.partition as take_along_axis(a, argpartition(a)): NumPy's arrangement."""
    if axis is None:
        a, axis = ravel(a), -1
    return take_along_axis(a, argpartition(a, kth, axis, kind), axis)


def compress(condition, a, axis=None, out=None):
    """np.compress: the entries where condition holds, along axis."""
    if axis is None:
        a, axis = ravel(a), 0
    return take(a, np.nonzero(condition)[0], axis)


def choose(a, choices, out=None, mode="raise"):
    """np.choose as np.select over the choices (each a traced or plain array)."""
    if mode != "raise":
        a = np.clip(a, 0, len(choices) - 1) if mode == "clip" else a % len(choices)
    return np.select([a == k for k in range(len(choices))], list(choices))


for _func, _handler in ((np.argpartition, argpartition), (np.partition, partition),
                        (np.compress, compress), (np.choose, choose)):
    FUNCTIONS.setdefault(_func, _handler)  # a rule module of the family may take over
