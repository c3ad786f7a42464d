"""Op table: order statistics (every quantile method), weighted means,
covariance, NaN-ignoring reductions; and the robust loss of issue 11."""

import numpy as np

from .spec import Op, pos, rand
from .table_indexing import distinct

NO_CS = ("rev", "fwd", "rev_rev", "fwd_rev", "check")  # cs_jvp refuses: NumPy's quantile and cov reject complex
METHODS = ["inverted_cdf", "averaged_inverted_cdf", "closest_observation",
           "interpolated_inverted_cdf", "hazen", "weibull", "linear", "median_unbiased",
           "normal_unbiased", "lower", "higher", "midpoint", "nearest"]


def cases(*shapes, maker=distinct):
    return tuple((maker(*s),) for s in shapes)


def with_nans(*shape):
    x = distinct(*shape)
    x.flat[1] = np.nan
    return x


def robust_loss(w, x, y):
    """Median absolute residual of a linear fit: a robust regression loss."""
    r = x @ w - y
    return np.median(np.sqrt(r * r + 1e-3))


# fmt: off
OPS = [
    Op("median", lambda x: (np.median(x), np.median(x, axis=0, keepdims=True)),
       cases((5,), (4, 3), (2, 3, 2)), covers=("getitem",)),
    Op("quantile_q_list", lambda x: np.quantile(x, [0.1, 0.5, 0.87], axis=-1),
       cases((5,), (3, 4)), covers=("getitem",), modes=NO_CS),
    *[Op(f"quantile_{m}", lambda x, m=m: np.quantile(x, [0.13, 0.5, 0.71], axis=0, method=m),
         cases((7,), (6, 2)), covers=("getitem",), modes=NO_CS)
      for m in METHODS],
    Op("quantile_in_q", lambda x, q: np.quantile(x, q, axis=-1), ((rand(5), pos(3, low=0.1, high=0.9)),
                                                                     (rand(2, 6), pos(low=0.1, high=0.9))),
       covers=("getitem",), smooth=False, modes=NO_CS, notes="piecewise linear in q"),
    Op("percentile", lambda x: (np.percentile(x, 30), np.percentile(x, [5, 95], axis=(0, 1), method="weibull")),
       cases((3, 4), (2, 3, 2)), covers=("getitem",), modes=NO_CS),
    Op("nanmedian", lambda x: (np.nanmedian(x), np.nanmedian(x, axis=-1)), cases((5,), (3, 4), maker=with_nans),
       covers=("getitem",)),
    Op("nanquantile", lambda x: (np.nanquantile(x, [0.2, 0.7], axis=0, method="hazen"),
                                 np.nanpercentile(x, 40, axis=-1, keepdims=True)),
       cases((5, 2), (4, 3), maker=with_nans), covers=("getitem",), modes=NO_CS),
    Op("average", lambda x, w: (np.average(x, axis=-1, weights=w), np.average(x * x, weights=np.broadcast_to(w, np.shape(x)))),
       ((rand(4), pos(4)), (rand(3, 4), pos(4))), covers=("sum", "divide")),
    Op("average_returned", lambda x: np.average(x, axis=0, returned=True)[0], cases((3,), (3, 2)), covers=("sum",)),
    Op("cov", lambda x: (np.cov(x), np.cov(x, bias=True, rowvar=False)), cases((3, 5), (2, 4)),
       covers=("matmul",), modes=NO_CS),
    Op("cov_weights", lambda x, y, w: np.cov(x, y, aweights=w, fweights=np.array([1, 2, 1, 3])),
       ((rand(4), rand(4), pos(4)), (rand(2, 4), rand(4), pos(4))), covers=("matmul",), modes=NO_CS),
    Op("cov_complex", lambda x, y: (lambda c: (np.real(c), np.imag(c)))(np.cov(x + 1j * y)),
       ((rand(2, 4), rand(2, 4)),), covers=("matmul", "conjugate"), modes=NO_CS),
    Op("average_complex", lambda x, y, w: (lambda c: (np.real(c), np.imag(c)))(np.average(x + 1j * y, weights=w)),
       ((rand(4), rand(4), pos(4)),), covers=("sum",), modes=NO_CS),
    Op("corrcoef", lambda x: np.corrcoef(x), cases((3, 5), (2, 6)), covers=("matmul", "sqrt"),
       modes=NO_CS),
    Op("ptp", lambda x: (np.ptp(x), np.ptp(x, axis=0)), cases((4,), (3, 2)), covers=("amax",)),
    Op("nanmax_nanmin", lambda x: (np.nanmax(x), np.nanmin(x, axis=-1, keepdims=True)),
       cases((4,), (2, 3), maker=with_nans), covers=("amax", "where")),
    Op("nanvar_nanstd", lambda x: (np.nanvar(x, axis=0), np.nanstd(x, ddof=1)),
       cases((4,), (3, 2), maker=with_nans), covers=("sum", "where")),
    Op("nanprod", lambda x: (np.nanprod(x), np.nanprod(x, axis=-1)), cases((4,), (2, 3), maker=with_nans),
       covers=("multiply", "where")),
    Op("nancumsum_nancumprod", lambda x: (np.nancumsum(x), np.nancumprod(x, axis=-1)),
       cases((4,), (2, 3), maker=with_nans), covers=("cumsum", "where")),
    Op("robust_loss", robust_loss, ((rand(3), rand(7, 3), rand(7)), (rand(2), rand(6, 2), rand(6))),
       covers=("getitem", "matmul"), diff_args=(0, 1, 2)),
]
# fmt: on
