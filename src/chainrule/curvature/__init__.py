"""What Hessians are for: operators, trace and diagonal estimates, Lanczos,
log-determinants and spectral densities, Laplace evidence, score matching.
"""

from .operator import HessianOperator, hessian_operator

__all__ = ["hessian_operator", "HessianOperator"]
