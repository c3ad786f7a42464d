"""Op table: the ufunc methods .outer, .reduce, .accumulate, .reduceat of
binary ufuncs (add, multiply, maximum and minimum reductions are in
table_reductions.py)."""

import numpy as np

from .spec import Op, pos, rand
from .table_indexing import distinct

NO_CS = ("rev", "fwd", "rev_rev", "fwd_rev", "check")

# fmt: off
OPS = [
    Op("ufunc.outer", lambda x, y: (np.multiply.outer(x, y), np.subtract.outer(x, y), np.power.outer(x, y),
                              np.arctan2.outer(x, y), np.logaddexp.outer(y, x)),
       ((pos(3), pos(2)), (pos(2, 2), pos(3))), covers=("multiply", "subtract", "power", "arctan2", "logaddexp"),
       modes=NO_CS, notes="cs_jvp: no complex-step form of arctan2.outer, logaddexp.outer"),
    Op("logaddexp.reduce", lambda x: (np.logaddexp.reduce(x), np.logaddexp2.reduce(x, axis=-1, keepdims=True)),
       ((rand(4),), (rand(2, 3),)), covers=("logaddexp", "log", "exp", "log2", "exp2"), modes=NO_CS,
       notes="cs_jvp: no complex-step form of logaddexp.reduce"),
    Op("subtract_divide.reduce", lambda x: (np.subtract.reduce(x), np.divide.reduce(x, axis=-1),
                                            np.hypot.reduce(x, axis=0, keepdims=True)),
       ((pos(4),), (pos(3, 2),)), covers=("subtract", "divide", "hypot"), modes=NO_CS,
       notes="cs_jvp: no complex-step form of hypot.reduce"),
    Op("accumulate", lambda x: (np.subtract.accumulate(x), np.divide.accumulate(x, axis=-1),
                                np.maximum.accumulate(x, axis=0)),
       ((distinct(4),), (distinct(3, 2),)), covers=("subtract", "divide", "maximum"), modes=NO_CS,
       notes="cs_jvp: no complex-step form of maximum.accumulate"),
    Op("reduceat", lambda x: (np.add.reduceat(x, [0, 2, 1, 3], axis=-1), np.subtract.reduceat(x, [1, 3], axis=-1),
                              np.multiply.reduceat(x, [0, 2])),
       ((pos(4),), (pos(3, 4),)), covers=("sum", "subtract", "multiply")),
]
# fmt: on
