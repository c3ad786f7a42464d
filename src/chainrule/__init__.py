"""chainrule: automatic differentiation of plain NumPy code.

    >>> import numpy as np, chainrule as cr
    >>> cr.grad(lambda x: np.sum(np.tanh(x)))(np.zeros(3))
    array([1., 1., 1.])
"""

from . import rules  # noqa: F401  (registers every derivative rule)
from .api import grad, hvp, jvp, value_and_grad, vjp
from .core.errors import (
    ArrayLibraryError, ChainruleError, LeakError, MutationError, NoRuleError,
    NonDifferentiableInputError, NonScalarOutputError, UnsupportedOptionError,
)
from .check import check_grads, check_jvp, check_vjp
from .complex_step import ComplexStepError, cs_jvp
from .custom import custom_jvp, custom_vjp
from .graph import compile, trace
from .jacobians import hessian, jacfwd, jacobian, jacobian_plan, jacrev, vmap
from .sparse import sparsity
from . import curvature, optimize  # noqa: E402  (submodules: cr.curvature, cr.optimize)

__version__ = "0.1.0"

__all__ = [
    "grad", "value_and_grad", "vjp", "jvp", "cs_jvp", "hvp", "custom_vjp", "custom_jvp",
    "jacfwd", "jacrev", "jacobian", "hessian", "vmap", "sparsity", "jacobian_plan",
    "trace", "compile", "check_grads", "check_vjp", "check_jvp", "curvature", "optimize",
    "ArrayLibraryError", "ChainruleError", "ComplexStepError", "LeakError", "MutationError", "NoRuleError",
    "NonDifferentiableInputError", "NonScalarOutputError", "UnsupportedOptionError",
]
