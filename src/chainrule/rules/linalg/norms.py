"""Norms (norm, vector_norm, matrix_norm), composed from sums, abs, max and svd."""

import numpy as np

from ...core.trace import raw
from ...core.primitive import implements
from .decompositions import svdvals
from .stacks import _abs2


def _extreme(x, axis, keepdims, largest):
    """max or min of x along one axis, by gathering the winning entries."""
    rx = raw(x)
    idx = (np.argmax if largest else np.argmin)(rx, axis=axis, keepdims=True)
    shape = np.shape(rx)
    index = tuple(idx if k == axis else np.arange(n).reshape([-1 if j == k else 1 for j in range(len(shape))])
                  for k, n in enumerate(shape))
    out = x[index]
    return out if keepdims else np.squeeze(out, axis)


def _vector_norm(x, ord, axis, keepdims):
    if ord is None or ord == 2:
        return np.sqrt(np.sum(_abs2(x), axis=axis, keepdims=keepdims))
    if ord == 0:
        return np.sum((raw(x) != 0).astype(float), axis=axis, keepdims=keepdims)
    if ord in (np.inf, -np.inf):
        return _extreme(np.abs(x), axis, keepdims, ord > 0)
    if ord == 1:
        return np.sum(np.abs(x), axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")
    return np.sum(np.abs(x) ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)


def _matrix_norm(x, ord, axes, keepdims):
    nd = np.ndim(x)
    r, c = (ax % nd for ax in axes)
    if r == c:
        raise ValueError("Duplicate axes given.")
    if ord is None or ord == "fro":
        return np.sqrt(np.sum(_abs2(x), axis=(r, c), keepdims=keepdims))
    if ord in (2, -2, "nuc"):
        s = svdvals(np.moveaxis(x, (r, c), (-2, -1)))
        out = np.sum(s, axis=-1) if ord == "nuc" else s[..., 0] if ord == 2 else s[..., -1]
    elif ord in (1, -1, np.inf, -np.inf):
        summed, other = (r, c) if ord in (1, -1) else (c, r)
        col = np.sum(np.abs(x), axis=summed, keepdims=True)
        out = np.squeeze(_extreme(col, other, True, ord > 0), (r, c))
    else:
        raise ValueError("Invalid norm order for matrices.")
    return np.expand_dims(out, tuple(sorted((r, c)))) if keepdims else out


@implements(np.linalg.norm)
def norm(x, ord=None, axis=None, keepdims=False):
    """np.linalg.norm on traced values, composed from sums, abs, max and svd.

    Example:
        >>> import chainrule as cr
        >>> cr.grad(lambda x: np.linalg.norm(x))(np.array([3.0, 4.0]))
        array([0.6, 0.8])
    """
    nd = np.ndim(x)
    if axis is None:
        if ord is None:
            out = np.sqrt(np.sum(_abs2(x)))
            return np.reshape(out, (1,) * nd) if keepdims else out
        if nd not in (1, 2):
            raise ValueError("Improper number of dimensions to norm.")
        axis = tuple(range(nd))
    axis = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if len(axis) == 1:
        return _vector_norm(x, ord, axis[0] % nd, keepdims)
    if len(axis) == 2:
        return _matrix_norm(x, ord, axis, keepdims)
    raise ValueError("Improper number of dimensions to norm.")


@implements(np.linalg.vector_norm)
def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """np.linalg.vector_norm (axis=None: over all entries)."""
    if axis is None:
        out = _vector_norm(np.reshape(x, (-1,)), ord, 0, False)
        return np.reshape(out, (1,) * np.ndim(x)) if keepdims else out
    if isinstance(axis, tuple) and len(axis) > 1:
        nd = np.ndim(x)
        axes = tuple(a % nd for a in axis)
        rest = [k for k in range(nd) if k not in axes]
        moved = np.transpose(x, rest + list(axes))
        flat = np.reshape(moved, tuple(np.shape(moved)[:len(rest)]) + (-1,))
        out = _vector_norm(flat, ord, -1 % np.ndim(flat), False)
        return np.expand_dims(out, axes) if keepdims else out
    return norm(x, ord, axis, keepdims)


@implements(np.linalg.matrix_norm)
def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """np.linalg.matrix_norm: the norm of each matrix in a stack."""
    return norm(x, ord, (-2, -1), keepdims)
