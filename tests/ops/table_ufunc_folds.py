"""Op table: the folds of float_power (reduce, accumulate, reduceat), the
accumulate of power and arctan2 (their reduce is refused: NumPy's is not the
fold, tests/test_ufunc_folds.py), and the reduce of nextafter
(chainrule.rules.ufunc_methods)."""

import numpy as np

from .spec import Op, pos

NO_CS = ("rev", "fwd", "rev_rev", "fwd_rev", "check")


def near_one(*shape):
    return pos(*shape, low=0.6, high=1.4)


# fmt: off
OPS = [
    Op("float_power.folds", lambda x: (np.float_power.reduce(x), np.float_power.accumulate(x, axis=-1),
                                       np.float_power.reduceat(x, [0, 2], axis=-1)),
       ((near_one(4),), (near_one(3, 4),)), covers=("float_power",), modes=NO_CS,
       notes="no complex-step form of the folds of float_power"),
    Op("power_arctan2.accumulate", lambda x: (np.power.accumulate(x), np.arctan2.accumulate(x, axis=0)),
       ((near_one(4),), (near_one(3, 2),)), covers=("power", "arctan2"), modes=NO_CS, complex=False,
       notes="arctan2 takes no complex input"),
    Op("heaviside", lambda x1, x2: (np.heaviside(x1, x2), np.heaviside.reduce(np.stack(np.broadcast_arrays(x1, x2)))),
       ((np.array([0.0, -1.0, 0.0, 2.0]), pos(4)), (np.array([[0.0], [1.0]]), pos(2, 3))),
       diff_args=(1,), covers=("heaviside",), modes=NO_CS, complex=False,
       notes="x2 where x1 == 0 (the fold passes it on); a step in x1"),
    Op("nextafter.reduce", lambda x: (np.nextafter.reduce(x), np.nextafter.reduce(x, axis=0)),
       ((pos(4),), (pos(2, 4),)), covers=("nextafter",), modes=NO_CS, complex=False,
       notes="no complex loop; floor_divide and heaviside reduce to piecewise constants (the census)"),
]
# fmt: on
