"""A minimisation problem as the optimisers see it: a function of one flat
vector (nested parameters laid end to end), with counted evaluations.

Example:
    >>> import numpy as np
    >>> prob = Problem(lambda p, c: np.sum(p["w"] ** 2) + c * p["b"], {"w": np.ones(2), "b": 0.5}, (3.0,))
    >>> prob.x0
    array([0.5, 1. , 1. ])
    >>> prob.value_and_grad(prob.x0)
    (3.5, array([3., 2., 2.]))
    >>> prob.unravel(prob.x0)["w"]
    array([1., 1.])
"""

import numpy as np

from ..api import value_and_grad
from ..curvature.flat import FlatView
from ..curvature.operator import hessian_operator
from ..jacobians import hessian


class Problem:
    """`fun(x, *args)` over the flattened leaves of x0 (see `FlatView`)."""

    def __init__(self, fun, x0, args=()):
        if not isinstance(args, tuple):
            args = (args,)
        self.view = view = FlatView(x0)
        self.x0 = np.array(view.ravel(x0), dtype=np.result_type(view.dtype, float))
        self.fun, self.args = fun, args
        self.flat_fun = lambda x: fun(view.unravel(x), *args)
        self._vg = value_and_grad(self.flat_fun)
        self.nfev = 0  # values (with or without a gradient)
        self.njev = 0  # gradients
        self.nhvp = 0

    def unravel(self, x):
        """x in the structure (and shapes) of x0."""
        return self.view.unravel(x)

    def value(self, x):
        """The value alone (a plain forward pass, no tape)."""
        self.nfev += 1
        return float(np.real(self.flat_fun(x)))

    def value_and_grad(self, x):
        """`(value, gradient)` as a float and a flat vector; one reverse pass."""
        self.nfev += 1
        self.njev += 1
        value, g = self._vg(x)
        value = float(np.real(value))
        if np.shape(g) != x.shape:
            raise ValueError("fun must return a scalar")
        return value, np.asarray(g, dtype=x.dtype)

    def operator(self, x, route="auto"):
        """The Hessian at x as an operator; its products are counted in nhvp."""
        # fun itself (not the flat closure): its compiled product is then
        # shared by every solve of fun at these shapes
        return _Counted(hessian_operator(self.fun, (self.view.unravel(x), *self.args), route=route), self)

    def prepared(self, x, route="auto"):
        """`(operator, value, gradient)` at x: the operator's setup computes
        the value and gradient on the way, so they cost no extra pass."""
        op = self.operator(x, route)
        op.op.prepare()
        self.nfev += 1
        self.njev += 1
        return op, float(np.real(op.op.value)), np.asarray(op.op.gradient, dtype=x.dtype)

    def dense_hessian(self, x, how="hvp"):
        """The symmetric dense Hessian at x: from n one-hot products (`how="hvp"`,
        counted in nhvp) or from `cr.hessian` (`how="jacobian"`)."""
        if how == "hvp":
            H = self.operator(x).todense()
        elif how == "jacobian":
            H = np.asarray(hessian(self.flat_fun)(x))
        else:
            raise ValueError(f"hessian must be 'hvp' or 'jacobian', got {how!r}")
        return 0.5 * (H + H.T)


    def sparse_hessian(self, x, plan):
        """The Hessian at x as a `scipy.sparse` matrix, from one product per
        colour of `plan` (a `chainrule.curvature.colour.Colouring`)."""
        from ..curvature.colour import hessian_by_colouring
        self.nhvp += plan.ncolours
        return hessian_by_colouring(self.operator(x).op, plan)


class _Counted:
    """An operator that adds its products to the problem's nhvp."""

    def __init__(self, op, problem):
        self.op, self.problem = op, problem
        self.shape, self.dtype = op.shape, op.dtype

    def matvec(self, v):
        self.problem.nhvp += 1
        return self.op.matvec(v)

    def todense(self):
        self.problem.nhvp += self.shape[0]
        return self.op.todense()
