"""Lanczos with full reorthogonalisation: extreme eigenpairs of a symmetric
operator from matrix-vector products.

Each step multiplies one vector and orthogonalises the result against all
previous Lanczos vectors (twice, "twice is enough"), so the basis stays
orthonormal to working precision and no spurious copies of converged
eigenvalues appear. When the Krylov space becomes invariant before n
steps (repeated eigenvalues), the iteration restarts from a fresh random
vector orthogonal to the basis, so in exact arithmetic n steps always
give the whole spectrum.

Example:
    >>> import numpy as np
    >>> values, vectors = lanczos(np.diag([1.0, 5.0, 3.0, 2.0]), k=2, seed=0)
    >>> np.round(values, 12)
    array([3., 5.])
"""

import numpy as np

from .linop import as_matmat

WHICH = ("LA", "SA", "BE")


def lanczos_basis(matvec, q0, steps):
    """Run `steps` Lanczos steps from q0: `(Q, alpha, beta)` with Q of shape
    (n, m) orthonormal (m <= steps when the space is invariant early) and
    the tridiagonal `T = diag(alpha) + diag(beta, 1) + diag(beta, -1)`
    equal to `Q^T A Q`. A zero beta marks where the iteration restarted."""
    return _Lanczos(matvec, q0, rng=None).run(steps)


class _Lanczos:
    def __init__(self, matvec, q0, rng):
        self.matvec, self.rng = matvec, rng
        q0 = np.asarray(q0, float)
        self.n = q0.shape[0]
        self.Q = np.zeros((self.n, 0))
        self.alpha, self.beta = [], []
        self.next = q0 / np.linalg.norm(q0)

    def step(self):
        """One step; False when the space is invariant and no restart is possible."""
        Q, q = self.Q, self.next
        self.Q = Q = np.column_stack([Q, q])
        w = np.asarray(self.matvec(q), float).reshape(self.n)
        a = q @ w
        self.alpha.append(a)
        for _ in range(2):
            w = w - Q @ (Q.T @ w)
        b = np.linalg.norm(w)
        if Q.shape[1] == self.n:
            return False
        if b <= 1e-12 * max(1.0, np.max(np.abs(self.alpha))):
            if self.rng is None:
                return False
            # invariant subspace found: continue from a new direction
            w = self.rng.standard_normal(self.n)
            for _ in range(2):
                w = w - Q @ (Q.T @ w)
            self.beta.append(0.0)
            self.next = w / np.linalg.norm(w)
            return True
        self.beta.append(b)
        self.next = w / b
        return True

    def run(self, steps):
        for _ in range(steps):
            if not self.step():
                break
        m = self.Q.shape[1]
        return self.Q, np.array(self.alpha), np.array(self.beta[:m - 1])

    def ritz(self):
        m = self.Q.shape[1]
        T = np.diag(self.alpha) + np.diag(self.beta[:m - 1], 1) + np.diag(self.beta[:m - 1], -1)
        theta, S = np.linalg.eigh(T)
        last = self.beta[m - 1] if len(self.beta) >= m else 0.0
        return theta, S, np.abs(last * S[-1, :])  # residual norms |A y - theta y|


def _pick(theta, k, which):
    m = len(theta)
    if which == "LA":
        return np.arange(m - k, m)
    if which == "SA":
        return np.arange(k)
    low = k // 2
    return np.concatenate([np.arange(low), np.arange(m - (k - low), m)])


def lanczos(A, k, which="LA", seed=None, *, steps=None, tol=1e-10):
    """k extreme eigenpairs of symmetric A: `(eigenvalues, eigenvectors)`.

    which is "LA" (largest), "SA" (smallest) or "BE" (both ends, half from
    each, the extra one from the top). Eigenvalues come in ascending order,
    eigenvectors as the matching columns. Steps continue until the residual
    `|A y - theta y|` of every wanted pair is below `tol * max|theta|`, or
    `steps` (default n) have been taken.

    Example:
        >>> import numpy as np
        >>> A = np.array([[2.0, 1.0], [1.0, 2.0]])
        >>> values, vectors = lanczos(A, 1, seed=0)
        >>> np.round(values, 12), np.round(np.abs(vectors.ravel()) * np.sqrt(2), 12)
        (array([3.]), array([1., 1.]))
    """
    n, _, matmat = as_matmat(A)
    if which not in WHICH:
        raise ValueError(f"which must be one of {WHICH}, got {which!r}")
    if not 1 <= k <= n:
        raise ValueError(f"k must be between 1 and n={n}, got {k}")
    steps = n if steps is None else min(int(steps), n)
    rng = np.random.default_rng(seed)
    run = _Lanczos(lambda v: matmat(v[:, None])[:, 0], rng.standard_normal(n), rng)
    check = max(1, k)
    while True:
        more = run.step()
        m = run.Q.shape[1]
        if m >= k and (m % check == 0 or not more or m >= steps):
            theta, S, resid = run.ritz()
            wanted = _pick(theta, k, which)
            scale = max(np.max(np.abs(theta)), np.finfo(float).tiny)
            if np.all(resid[wanted] <= tol * scale) or not more or m >= steps:
                break
    return theta[wanted], run.Q @ S[:, wanted]
