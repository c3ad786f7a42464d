"""Shape operations: linear maps that move entries without changing them.

Each is a `linear` primitive whose transpose moves the cotangent back, or a
composition of those. Queries of shape and size carry no derivative.
"""

import numpy as np

from ..core.primitive import implements, linear, nondifferentiable
from ..core.trace import raw


def normalize_axes(axis, ndim):
    """`axis` (None, int or sequence) as a tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    return tuple(int(a) % ndim if ndim else int(a) for a in axis)


# ---- queries: no derivative; they answer for the logical value ----
@implements(np.shape)
def shape(a):
    return a.shape if hasattr(a, "shape") else np.shape(a)


@implements(np.ndim)
def ndim(a):
    return len(shape(a))


@implements(np.size)
def size(a, axis=None):
    s = shape(a)
    return int(np.prod(s, dtype=np.int64)) if axis is None else s[axis]


@implements(np.result_type)
def result_type(*arrays_and_dtypes):
    return np.result_type(*[raw(a) for a in arrays_and_dtypes])


# ---- reshape ----
reshape_p = linear(
    "reshape", lambda x, shape: np.reshape(x, shape),
    lambda g, shapes, params, which: (np.reshape(g, shapes[0]),))


@implements(np.reshape)
def reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    if order != "C":
        raise NotImplementedError("chainrule supports np.reshape with order='C' only")
    shape = newshape if shape is None else shape
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if -1 in shape:
        known = int(np.prod([n for n in shape if n != -1], dtype=np.int64))
        total = size(a)
        missing = total // known if known else 0
        shape = tuple(missing if n == -1 else n for n in shape)
    if shape == np.shape(a):
        return a
    return reshape_p(a, shape=shape)


@implements(np.ravel)
def ravel(a, order="C"):
    return reshape(a, (-1,), order)


@implements(np.expand_dims)
def expand_dims(a, axis):
    s = list(np.shape(a))
    for ax in normalize_axes(axis, len(s) + (1 if isinstance(axis, int) else len(axis))):
        s.insert(ax, 1)
    return reshape(a, tuple(s))


@implements(np.squeeze)
def squeeze(a, axis=None):
    s = np.shape(a)
    if axis is None:
        axes = tuple(i for i, n in enumerate(s) if n == 1)
    else:
        axes = normalize_axes(axis, len(s))
        for ax in axes:
            if s[ax] != 1:
                raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
    return reshape(a, tuple(n for i, n in enumerate(s) if i not in axes))


# ---- transpose ----
transpose_p = linear(
    "transpose", lambda x, axes: np.transpose(x, axes),
    lambda g, shapes, params, which: (np.transpose(g, tuple(np.argsort(params["axes"]))),))


@implements(np.transpose)
def transpose(a, axes=None):
    nd = ndim(a)
    axes = tuple(range(nd))[::-1] if axes is None else normalize_axes(axes, nd)
    if axes == tuple(range(nd)):
        return a
    return transpose_p(a, axes=axes)


@implements(np.swapaxes)
def swapaxes(a, axis1, axis2):
    axes = list(range(ndim(a)))
    i, j = normalize_axes((axis1, axis2), len(axes))
    axes[i], axes[j] = axes[j], axes[i]
    return transpose(a, axes)


@implements(np.moveaxis)
def moveaxis(a, source, destination):
    nd = ndim(a)
    source = normalize_axes(source, nd)
    destination = normalize_axes(destination, nd)
    order = [n for n in range(nd) if n not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return transpose(a, order)


# ---- broadcasting ----
def _broadcast_transpose(g, shapes, params, which):
    from ..core.reverse import unbroadcast
    return (unbroadcast(g, shapes[0]),)


broadcast_to_p = linear(
    "broadcast_to", lambda x, shape: np.broadcast_to(x, shape), _broadcast_transpose)


@implements(np.broadcast_to)
def broadcast_to(array, shape, subok=False):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if shape == np.shape(array):
        return array
    return broadcast_to_p(array, shape=shape)
