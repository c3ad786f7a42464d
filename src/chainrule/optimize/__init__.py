"""Second-order optimisation on exact Hessians and Hessian-vector products.

* `newton`: Newton-Raphson (exact Hessian from one-hot products), line
  search, damping for indefinite Hessians; for few variables.
* `newton_cg`: truncated Newton, Steihaug CG in a trust region; for many.
* `Objective`: exact value, gradient, Hessian and products for
  `scipy.optimize.minimize`, sharing work between calls at one point.

All stop when the 2-norm of the gradient is below tol and return an
OptimizeResult-like record (x, fun, jac, nit, success, message, nhvp).

Example:
    >>> import numpy as np
    >>> newton(lambda x: np.sum((x - 3.0) ** 2), np.zeros(2)).x
    array([3., 3.])
"""

from .newton import damped_solve, newton, sparse_damped_solve
from .newton_cg import newton_cg, steihaug
from .objective import Objective
from .result import OptimizeResult

__all__ = ["newton", "newton_cg", "Objective", "OptimizeResult", "steihaug", "damped_solve",
           "sparse_damped_solve"]
