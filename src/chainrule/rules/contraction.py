"""Contractions: matmul and dot (products summed over shared axes)."""

import numpy as np

from ..core.primitive import implements, multilinear, register_ufunc


def _matmul_vjp(g, res, params, which):
    (x, y), _ = res
    x1, y1 = np.ndim(x) == 1, np.ndim(y) == 1
    # Promote vectors to matrices, as matmul itself does, then undo it.
    if x1 and y1:
        return [g * y if i == 0 else g * x for i in which]
    X = np.reshape(x, (1, -1)) if x1 else x
    Y = np.reshape(y, (-1, 1)) if y1 else y
    G = np.expand_dims(g, -2) if x1 else np.expand_dims(g, -1) if y1 else g
    out = []
    for i in which:
        if i == 0:
            gx = np.matmul(G, np.swapaxes(Y, -1, -2))
            out.append(np.squeeze(gx, -2) if x1 else gx)
        else:
            gy = np.matmul(np.swapaxes(X, -1, -2), G)
            out.append(np.squeeze(gy, -1) if y1 else gy)
    return out


matmul_p = register_ufunc(np.matmul, multilinear("matmul", np.matmul, _matmul_vjp))


@implements(np.dot)
def dot(a, b, out=None):
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return a * b
    if np.ndim(b) <= 2:
        return matmul_p(a, b)
    return np.tensordot(a, b, axes=([-1], [-2]))
