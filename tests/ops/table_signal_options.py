"""Op table: the options of the signal and statistics functions added to
their rules: interp(period=), polyfit(full=True) and polyfit(cov=True or
"unscaled"), quantile/percentile(weights=)."""

import numpy as np

from .spec import Op, pos, rand
from .table_signal import knots

NO_CS = ("rev", "fwd", "rev_rev", "fwd_rev", "check")


def polyfit_full(x, y, w):
    coef, resids, rank, sv, rcond = np.polyfit(x, y, 2, full=True, w=w)
    return coef, resids, sv


# fmt: off
OPS = [
    Op("interp_period", lambda x, xp, fp: np.interp(x, xp, fp, period=2.5),
       ((rand(6, low=-3.0, high=6.0), knots(5), rand(5)), (rand(2, 3, low=0.1, high=3.0), knots(4), rand(4))),
       covers=("remainder", "getitem"), smooth=False, modes=NO_CS, complex=False,
       notes="piecewise linear, x and xp modulo the period; NumPy's periodic interp is real only"),
    Op("polyfit_full", polyfit_full,
       ((knots(6), rand(6), pos(6)), (knots(5), rand(5, 2), pos(5))), covers=("pinv", "svd"),
       modes=NO_CS, complex=False, notes="real data (NumPy's complex polyfit conjugates)"),
    Op("polyfit_cov", lambda x, y: (np.polyfit(x, y, 2, cov=True)[1], np.polyfit(x, y, 1, cov="unscaled")[1]),
       ((knots(6), rand(6)), (knots(5), rand(5, 2))), covers=("inv",), modes=NO_CS, complex=False,
       notes="real data (NumPy's complex polyfit conjugates)"),
    Op("quantile_weights", lambda a, w: (np.quantile(a, 0.3, weights=w, method="inverted_cdf"),
                                         np.percentile(a, [20, 70], axis=-1, weights=w, method="inverted_cdf")),
       ((rand(7), pos(7)), (rand(3, 4), pos(3, 4))), diff_args=(0,), covers=("getitem",), smooth=False,
       modes=NO_CS, complex=False, notes="an entry of a chosen by the weighted CDF; NumPy takes real data only"),
]
# fmt: on
