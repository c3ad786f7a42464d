"""An objective for `scipy.optimize.minimize` with exact derivatives that
shares work between the calls SciPy makes at one point.

SciPy asks for the value, the gradient, Hessian products or the Hessian at
the same point in separate calls. `Objective` keeps the last point: the
value and the gradient come from one reverse pass, and the point's
`hessian_operator` (its primal work done once) serves every product there.

Example:
    >>> import numpy as np
    >>> obj = Objective(lambda x, c: np.sum((x - c) ** 4) + np.sum(x ** 2), np.array([1.0, 2.0]))
    >>> x = np.zeros(2)
    >>> float(obj.fun(x)), obj.jac(x), obj.nfev   # one evaluation for both
    (17.0, array([ -4., -32.]), 1)
    >>> obj.hessp(x, np.array([1.0, 0.0]))
    array([14.,  0.])
    >>> obj.hess(x)
    array([[14.,  0.],
           [ 0., 50.]])
"""

import numpy as np

from ..api import value_and_grad
from ..curvature.operator import hessian_operator


class Objective:
    """`fun(x, *args)` with `fun`, `value_and_grad`, `jac`, `hess`, `hessp`
    methods for `scipy.optimize.minimize(obj.value_and_grad, x0, jac=True,
    hessp=obj.hessp)` (or `fun=obj.fun, jac=obj.jac`). Counters: nfev
    (value-and-gradient evaluations), nhvp (Hessian-vector products)."""

    def __init__(self, fun, *args, route="auto"):
        self.function = fun
        self.args = args
        self.route = route
        self._vg = value_and_grad(fun)
        self._x = self._value = self._grad = None
        self._op_x = self._op = None
        self.nfev = 0
        self._nhvp_done = 0

    def _same(self, x, y):
        return y is not None and x.shape == y.shape and np.array_equal(x, y)

    def value_and_grad(self, x):
        """`(value, gradient)` at x from one reverse pass (cached per point)."""
        x = np.asarray(x, dtype=np.result_type(x, float))
        if not self._same(x, self._x):
            value, g = self._vg(x, *self.args)
            self._x, self._value, self._grad = x.copy(), value, np.asarray(g)
            self.nfev += 1
        return self._value, self._grad.copy()

    def fun(self, x):
        """The value at x (the gradient is computed alongside and kept)."""
        return self.value_and_grad(x)[0]

    def jac(self, x):
        """The gradient at x."""
        return self.value_and_grad(x)[1]

    def operator(self, x):
        """The `hessian_operator` at x, built once per point."""
        x = np.asarray(x, dtype=np.result_type(x, float))
        if not self._same(x, self._op_x):
            if self._op is not None:
                self._nhvp_done += self._op.nprod
            self._op = hessian_operator(self.function, (x, *self.args), route=self.route)
            self._op_x = x.copy()
        return self._op

    def hessp(self, x, p):
        """The Hessian at x times the vector p (exact)."""
        p = np.asarray(p)
        return self.operator(x).matvec(p.reshape(-1)).reshape(p.shape)

    def hess(self, x):
        """The dense Hessian at x, from one-hot products (symmetric)."""
        H = self.operator(x).todense()
        return 0.5 * (H + H.T)

    @property
    def nhvp(self):
        """Hessian-vector products so far (a dense Hessian counts n)."""
        return self._nhvp_done + (self._op.nprod if self._op is not None else 0)
