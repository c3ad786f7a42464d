"""Stochastic derivative verification: one derivative computed several ways.

The tutorial's technique ("if you remember nothing else, remember this"):
pick a random input direction v and a random output projection u. Forward
mode gives u.(J v) from dual numbers, reverse mode gives (J^T u).v from the
tape. Both are the same number computed by different code, and both are
exact up to rounding, so they must agree to a few units of float64 rounding,
not merely to the 1e-5 a finite-difference check can resolve. Complex step
(exact to rounding as well) is a second opinion that also catches a rule
whose forward and reverse forms are wrong together; Richardson-extrapolated
central differences referee when complex step dissents.

Tolerance. An estimate's rounding error is at most a few eps times the
absolute terms it summed, at every step of the computation:
sum_k |u_k| . |t_k| over the intermediate values k, with t_k the tangent and
u_k the cotangent there. The checker first compares against the terms of the
two final dot products; only if that fails does it measure the largest
intermediate sum (one forward-over-reverse pass), so that derivatives that
cancel inside fun (sin**2 + cos**2) are not flagged.

Second order recurses: the functions x, v -> J v and x, u -> J^T u are
checked in turn (forward-over-reverse against reverse-over-reverse and so
on); then the Hessian H of x -> u.fun(x) must be symmetric, w.(H v) ==
v.(H w), and the same from both branches: w.(H v) == u.(d/dw (J v)).

On a disagreement the report names the mode pair, the argument, the values
and the relative error, then re-runs fun on a recording tape and checks each
primitive it called on its own inputs, naming the first that disagrees.

Example:
    >>> import numpy as np
    >>> check_grads(lambda x: np.sum(np.tanh(x) ** 2), (np.linspace(-1, 1, 5),))
"""

from .checks import check_grads, check_jvp, check_vjp
from .context import MODE_NAMES, MODES
from .hints import MAX_HINT_CALLS
from .tolerance import CS_ROUNDING, FD_RTOL, RTOL_IN_EPS

__all__ = ["check_grads", "check_vjp", "check_jvp",
           "MODES", "MODE_NAMES", "RTOL_IN_EPS", "CS_ROUNDING", "FD_RTOL", "MAX_HINT_CALLS"]
