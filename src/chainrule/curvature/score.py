"""Score matching (Hyvarinen, 2005): fit an unnormalised density.

For a model `log p(x; params)` known only up to its normalising constant,
the score `s(x) = grad_x log p(x)` does not involve that constant, and

    J(params) = E_x[ tr(H_x log p(x)) + 1/2 |s(x)|^2 ]

(the expectation over data) is, up to a constant, the expected squared
distance between the model's score and the data's. Its trace of the
Hessian in x costs d Hessian-vector products per example: exact for small
d ("exact", one batched jacfwd of the score), else estimated with random
probes z: Hutchinson's `z^T H z` in place of the trace ("hutchinson"), or
sliced score matching (Song et al., 2019) which also projects the second
term, `z^T H z + 1/2 (z^T s)^2` ("sliced"). The probes are drawn once per
call from `seed`, so the loss is a deterministic, differentiable function
of params: pass it to `cr.grad`, `optimize.newton`, `optimize.newton_cg`.

Example:
    >>> import numpy as np
    >>> X = np.array([[0.0], [2.0]])
    >>> log_density = lambda mu, x: -0.5 * np.sum((x - mu) ** 2)
    >>> float(score_matching_loss(log_density, 1.0, X))  # -1 + (1 + 1) / 4
    -0.5
"""

import numpy as np

from ..api import grad, jvp
from ..jacobians import jacfwd, vmap
from .linop import probes as draw

METHODS = ("auto", "exact", "hutchinson", "sliced")


def score_matching_loss(log_density, params, X, method="auto", *, num_probes=1, seed=0,
                        probe="rademacher", exact_limit=32):
    """Hyvarinen's score-matching objective averaged over the rows of X.

    `log_density(params, x)` takes one row x (a vector of length d) and
    returns a scalar, possibly unnormalised. method "exact" takes the
    Hessian's trace exactly (d products per row), "hutchinson" estimates
    it with num_probes random probes per row, "sliced" uses sliced score
    matching; "auto" is exact up to d = exact_limit, else hutchinson. The
    result is differentiable in params (nested arrays allowed).

    Example:
        >>> import numpy as np
        >>> import chainrule as cr
        >>> X = np.array([[0.0, 1.0], [2.0, 3.0]])
        >>> log_density = lambda mu, x: -0.5 * np.sum((x - mu) ** 2)
        >>> cr.grad(lambda mu: score_matching_loss(log_density, mu, X))(np.full(2, 0.5))
        array([-0.5, -1.5])
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must hold one example per row (shape (m, d)), got shape {X.shape}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    m, d = X.shape
    if method == "auto":
        method = "exact" if d <= exact_limit else "hutchinson"
    score = grad(log_density, argnums=1)

    if method == "exact":
        def per_row(p, x):
            s = score(p, x)
            H = jacfwd(score, argnums=1)(p, x)
            return np.trace(H) + 0.5 * np.sum(s * s)
        return np.mean(vmap(per_row, in_axes=(None, 0))(params, X))

    if num_probes < 1:
        raise ValueError(f"num_probes must be positive, got {num_probes}")
    rng = np.random.default_rng(seed)
    Z = draw(rng, m * num_probes, d, probe, np.result_type(X, float)).T.reshape(m, num_probes, d)
    sliced = method == "sliced"

    def per_row(p, x, z):
        total = 0.0
        for k in range(num_probes):
            s, Hz = jvp(lambda y: score(p, y), (x,), (z[k],))
            zs = np.sum(z[k] * s)
            total = total + np.sum(z[k] * Hz) + (0.5 * zs * zs if sliced else 0.0)
        if not sliced:
            total = total / num_probes + 0.5 * np.sum(s * s)
        else:
            total = total / num_probes
        return total

    return np.mean(vmap(per_row, in_axes=(None, 0, 0))(params, X, Z))
