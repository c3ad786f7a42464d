"""What Hessians are for: the Hessian as an operator, trace and diagonal
estimates, Lanczos eigenpairs, log-determinants and spectral densities by
stochastic Lanczos quadrature, the Laplace approximation, score matching.

Everything works from exact Hessian-vector products, never forming the
Hessian unless asked (`HessianOperator.todense`). The estimators accept
any square matrix-like: an ndarray, a `HessianOperator`, a SciPy
`LinearOperator`. See docs/curvature.md.

Example:
    >>> import numpy as np
    >>> H = hessian_operator(lambda x: np.sum(x ** 4), (np.array([1.0, 2.0]),))
    >>> trace_estimate(H, method="exact").value
    np.float64(60.0)
"""

from .dense import dense_from_products
from .flat import FlatView
from .lanczos import lanczos
from .laplace import InverseOperator, LaplaceResult, laplace
from .linop import Estimate, NotPositiveDefiniteError
from .operator import HessianOperator, hessian_operator
from .score import score_matching_loss
from .slq import logdet_estimate, plot_spectral_density, spectral_density
from .trace import diagonal_estimate, trace_estimate

__all__ = [
    "hessian_operator", "HessianOperator", "FlatView", "dense_from_products",
    "trace_estimate", "diagonal_estimate", "Estimate", "NotPositiveDefiniteError",
    "score_matching_loss", "lanczos", "laplace", "LaplaceResult", "InverseOperator", "logdet_estimate", "spectral_density", "plot_spectral_density",
]
