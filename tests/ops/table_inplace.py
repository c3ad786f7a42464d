"""Op table: in-place updates (`x[index] = v`, `x += y`, `out=`), which
chainrule runs as functional updates of the box that holds x."""

import numpy as np

from .spec import Op, rand

MASK = np.array([[True, False, True], [False, False, True]])


def assign(index):
    """x with x[index] = v, leaving the caller's x untouched."""
    def fun(x, v):
        y = x.copy()
        y[index] = v
        return y
    return fun


def operators(x, y):
    z = x.copy()
    z += y
    z *= x
    z -= 0.5 * y
    z /= 1.5 + x ** 2
    z **= 2
    return z


def filled(x):
    out = np.zeros_like(x)
    for i in range(len(x)):
        out[i] = x[i] * (out[i - 1] if i else 1.0)
    out[x < 0] = 0.0
    np.multiply(out, x, out=out)
    return out


# fmt: off
OPS = [
    Op("setitem", assign((slice(1, None), 0)), ((rand(3, 2), rand(2)), (rand(3, 2), rand()))),
    Op("setitem_int", assign(1), ((rand(3), rand()), (rand(3, 2), rand(2)), (rand(2, 3), rand(1))),
       covers=("setitem",)),
    Op("setitem_advanced", assign(([2, 0], slice(None))),
       ((rand(3, 2), rand(2, 2)), (rand(3, 2), rand(2))), covers=("setitem",)),
    Op("setitem_repeated", assign(([0, 2, 0], slice(None))), ((rand(3, 2), rand(3, 2)),),
       covers=("setitem",)),
    Op("setitem_mask", assign(MASK), ((rand(2, 3), rand(3)),), covers=("setitem",)),
    Op("setitem_mask_scalar", assign(MASK), ((rand(2, 3), rand()), (rand(2, 3, 2), rand())),
       covers=("where",)),
    Op("setitem_ellipsis", assign((Ellipsis, None, 0)), ((rand(2, 3), rand(2, 1)),),
       covers=("setitem",)),
    Op("inplace_operators", operators, ((rand(3), rand(3)), (rand(2, 3), rand(3))),
       covers=("add", "multiply", "subtract", "divide", "power")),
    Op("partition", lambda x: np.partition(x, 1) + x.compress([True, False, True, True]).sum()
       + np.choose(np.array([1, 0, 1, 1]), [x, 2.0 * x]),
       ((0.3 * np.array([3.0, 0.0, 2.0, 1.0]) + 0.05 * rand(4),),), covers=("getitem", "where")),
    Op("inplace_fill", filled, ((rand(4),), (rand(3, 2),)), covers=("setitem", "where", "multiply")),
]
# fmt: on
