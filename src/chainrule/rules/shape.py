"""Shape operations: linear maps that move entries without changing them.

Four primitives carry every derivative here: `reshape`, `transpose`,
`broadcast_to` and `concatenate`, each a linear map whose transpose moves
the cotangent back. Everything else is a composition of those and of basic
indexing (`x[::-1]`, `x[a:b]`), whose rules live in `rules/indexing.py`:
stack and friends concatenate, split and flip slice, tile broadcasts, pad
and repeat index. Queries of shape and size, and `zeros_like`-style
constructors, return plain values: they carry no derivative.
"""

import numpy as np

from ..arraylibs import asarray, foreign, zeros
from ..core.errors import UnsupportedOptionError
from ..core.primitive import Primitive, implements, linear
from ..core.trace import Box, raw  # (importing trace first loads box in order)

_ALL = slice(None)
_REVERSED = slice(None, None, -1)


def normalize_axes(axis, ndim):
    """`axis` (None, int or sequence) as a tuple of non-negative ints.

    Example:
        >>> normalize_axes(-1, 3)
        (2,)
    """
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    axes = []
    for a in axis:
        a = int(a)
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(a, ndim)
        axes.append(a % ndim)
    if len(set(axes)) != len(axes):
        raise ValueError(f"repeated axis in {tuple(axis)}")
    return tuple(axes)


def ndim_of(a):
    """np.ndim(a), read from the attribute when `a` has one: a traced value's
    costs no trip through NumPy's function dispatch.

    Example:
        >>> ndim_of(np.ones((2, 3))), ndim_of([1.0, 2.0])
        (2, 1)
    """
    ndim = getattr(a, "ndim", None)
    return np.ndim(a) if ndim is None else ndim


def along(axis, index):
    """An index tuple applying `index` (a slice or array) on `axis` only.

    Example:
        >>> along(1, slice(0, 2))
        (slice(None, None, None), slice(0, 2, None))
    """
    return (_ALL,) * axis + (index,)


def dtype_of(a):
    """The dtype of an array, traced value or scalar.

    Example:
        >>> dtype_of(1.0)
        dtype('float64')
    """
    return a.dtype if hasattr(a, "dtype") else np.result_type(a)


# ---- queries: no derivative; they answer for the logical value ----
@implements(np.shape)
def shape(a):
    """np.shape of a traced value: its shape, a plain tuple."""
    return a.shape if hasattr(a, "shape") else np.shape(a)


@implements(np.ndim)
def ndim(a):
    """np.ndim of a traced value."""
    return len(shape(a))


@implements(np.size)
def size(a, axis=None):
    """np.size of a traced value."""
    s = shape(a)
    return int(np.prod(s, dtype=np.int64)) if axis is None else s[axis]


@implements(np.result_type)
def result_type(*arrays_and_dtypes):
    """np.result_type, reading the dtype under the boxes."""
    return np.result_type(*[raw(a) for a in arrays_and_dtypes])


@implements(np.iscomplexobj)
def iscomplexobj(x):
    """np.iscomplexobj of a traced value: whether its dtype is complex."""
    return dtype_of(x).kind == "c"


@implements(np.isrealobj)
def isrealobj(x):
    """np.isrealobj of a traced value."""
    return not iscomplexobj(x)


def _like(fill):
    def constructor(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
        shape = np.shape(a) if shape is None else shape
        dtype = dtype_of(a) if dtype is None else dtype
        ref = foreign(a)  # another array library's array: its own constructor
        return fill(shape, dtype) if ref is None else like_fill(ref, dtype=dtype, shape=shape)
    like_fill = getattr(np, f"{fill.__name__}_like")
    constructor.__doc__ = (f"np.{fill.__name__}_like on a traced value: a plain array "
                           "of its shape and dtype (no derivative flows through it).")
    return constructor


zeros_like = implements(np.zeros_like)(_like(np.zeros))
ones_like = implements(np.ones_like)(_like(np.ones))
empty_like = implements(np.empty_like)(_like(np.empty))


@implements(np.full_like)
def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """np.full_like: plain unless `fill_value` is traced, then its broadcast.

    Example:
        >>> np.full_like(np.zeros(3), 2.0)
        array([2., 2., 2.])
    """
    shape = np.shape(a) if shape is None else shape
    dtype = dtype_of(a) if dtype is None else dtype
    if isinstance(fill_value, Box):
        if foreign(a) is not None:  # a traced NumPy scalar broadcast on a's library
            return (fill_value + zeros(shape, dtype, like=a)).astype(dtype)
        return broadcast_to(fill_value, shape).astype(dtype)
    ref = foreign(a)
    if ref is not None:
        return np.full_like(ref, fill_value, dtype=dtype, shape=shape)
    return np.full(shape, fill_value, dtype)


@implements(np.copy)
def copy(a, order="K", subok=False):
    """np.copy: a traced value is immutable, so it is its own copy."""
    return a


# ---- reshape ----
reshape_p = linear(
    "reshape", lambda x, shape: np.reshape(x, shape),
    lambda g, shapes, params, which: (np.reshape(g, shapes[0]),))


@implements(np.reshape)
def reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    """np.reshape (C order), -1 allowed once.

    Example:
        >>> np.reshape(np.arange(6.0), (2, -1)).shape
        (2, 3)
    """
    if order != "C":
        raise UnsupportedOptionError("chainrule supports np.reshape with order='C' only")
    shape = newshape if shape is None else shape
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)
    if shape.count(-1) > 1:
        raise ValueError("can only specify one unknown dimension")
    if -1 in shape:
        known = int(np.prod([n for n in shape if n != -1], dtype=np.int64))
        total = size(a)
        if (known == 0 and total) or (known and total % known):
            raise ValueError(f"cannot reshape array of size {total} into shape {shape}")
        shape = tuple((total // known if known else 0) if n == -1 else n for n in shape)
    if shape == np.shape(a):
        return a
    return reshape_p(a, shape=shape)


@implements(np.ravel)
def ravel(a, order="C"):
    """np.ravel (C order)."""
    return reshape(a, (-1,), order)


@implements(np.expand_dims)
def expand_dims(a, axis):
    """np.expand_dims, one axis or several."""
    s = list(np.shape(a))
    n_new = 1 if isinstance(axis, (int, np.integer)) else len(axis)
    for ax in sorted(normalize_axes(axis, len(s) + n_new)):
        s.insert(ax, 1)
    return reshape(a, tuple(s))


@implements(np.squeeze)
def squeeze(a, axis=None):
    """np.squeeze: drop axes of length one."""
    s = np.shape(a)
    if axis is None:
        axes = tuple(i for i, n in enumerate(s) if n == 1)
    else:
        axes = normalize_axes(axis, len(s))
        for ax in axes:
            if s[ax] != 1:
                raise ValueError("cannot select an axis to squeeze out which has size "
                                 "not equal to one")
    return reshape(a, tuple(n for i, n in enumerate(s) if i not in axes))


@implements(np.atleast_1d)
def atleast_1d(*arys):
    """np.atleast_1d: 0-d becomes (1,)."""
    out = [reshape(a, (1,)) if np.ndim(a) == 0 else a for a in arys]
    return out[0] if len(out) == 1 else tuple(out)


@implements(np.atleast_2d)
def atleast_2d(*arys):
    """np.atleast_2d: (n,) becomes (1, n)."""
    out = [reshape(a, (1,) * (2 - np.ndim(a)) + np.shape(a)) if np.ndim(a) < 2 else a
           for a in arys]
    return out[0] if len(out) == 1 else tuple(out)


@implements(np.atleast_3d)
def atleast_3d(*arys):
    """np.atleast_3d: (n,) becomes (1, n, 1) and (m, n) becomes (m, n, 1)."""
    def lift(a):
        s = np.shape(a)
        new = {0: (1, 1, 1), 1: (1, *s, 1), 2: (*s, 1)}.get(len(s), s)
        return reshape(a, new)
    out = [lift(a) for a in arys]
    return out[0] if len(out) == 1 else tuple(out)


# ---- transpose ----
transpose_p = linear(
    "transpose", lambda x, axes: np.transpose(x, axes),
    lambda g, shapes, params, which: (np.transpose(g, tuple(np.argsort(params["axes"]))),))


@implements(np.transpose)
def transpose(a, axes=None):
    """np.transpose: a permutation of the axes (reversed by default)."""
    nd = ndim(a)
    axes = tuple(range(nd))[::-1] if axes is None else normalize_axes(axes, nd)
    if len(axes) != nd:
        raise ValueError("axes don't match array")
    if axes == tuple(range(nd)):
        return a
    return transpose_p(a, axes=axes)


@implements(np.swapaxes)
def swapaxes(a, axis1, axis2):
    """np.swapaxes."""
    axes = list(range(ndim(a)))
    i, j = (normalize_axes(ax, len(axes))[0] for ax in (axis1, axis2))
    axes[i], axes[j] = axes[j], axes[i]
    return transpose(a, axes)


@implements(np.moveaxis)
def moveaxis(a, source, destination):
    """np.moveaxis."""
    nd = ndim(a)
    source = normalize_axes(source, nd)
    destination = normalize_axes(destination, nd)
    if len(source) != len(destination):
        raise ValueError("`source` and `destination` arguments must have the same "
                         "number of elements")
    order = [n for n in range(nd) if n not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return transpose(a, order)


@implements(np.rot90)
def rot90(m, k=1, axes=(0, 1)):
    """np.rot90, as NumPy composes it: flips and a transpose."""
    nd = ndim(m)
    a0, a1 = normalize_axes(axes, nd) if len(axes) == 2 else (None, None)
    if a0 is None:
        raise ValueError("len(axes) must be 2.")
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, a0), a1)
    perm = list(range(nd))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    return transpose(flip(m, a1), perm) if k == 1 else flip(transpose(m, perm), a1)


# ---- broadcasting ----
def _broadcast_transpose(g, shapes, params, which):
    from ..core.reverse import unbroadcast
    return (unbroadcast(g, shapes[0]),)


broadcast_to_p = linear(
    "broadcast_to", lambda x, shape: np.broadcast_to(x, shape), _broadcast_transpose)


@implements(np.broadcast_to)
def broadcast_to(array, shape, subok=False):
    """np.broadcast_to; the cotangent is summed back over the new axes."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if shape == np.shape(array):
        return array
    return broadcast_to_p(array, shape=shape)


@implements(np.broadcast_arrays)
def broadcast_arrays(*args, subok=False):
    """np.broadcast_arrays: each argument broadcast to the common shape."""
    common = np.broadcast_shapes(*[np.shape(a) for a in args])
    return tuple(broadcast_to(a, common) for a in args)


@implements(np.tile)
def tile(A, reps):
    """np.tile: broadcast against interleaved axes of length one, then merge.

    A of shape (s0, s1) tiled (r0, r1) is A viewed as (1, s0, 1, s1),
    broadcast to (r0, s0, r1, s1) and reshaped to (r0*s0, r1*s1).
    """
    reps = (int(reps),) if np.ndim(reps) == 0 else tuple(int(r) for r in reps)
    s = np.shape(A)
    d = max(len(s), len(reps))
    s = (1,) * (d - len(s)) + s
    reps = (1,) * (d - len(reps)) + reps
    spread = reshape(A, sum(((1, n) for n in s), ()))
    spread = broadcast_to(spread, sum(((r, n) for r, n in zip(reps, s)), ()))
    return reshape(spread, tuple(r * n for r, n in zip(reps, s)))


@implements(np.repeat)
def repeat(a, repeats, axis=None):
    """np.repeat, as indexing with each position repeated (cotangents add up)."""
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axes(axis, ndim(a))[0]
    index = np.repeat(np.arange(shape(a)[axis]), raw(repeats))
    return a[along(axis, index)]


# ---- concatenation: the one primitive with any number of linear arguments ----
def _concatenate_jvp(tangents, args, ans, params):
    if all(t is None for t in tangents):
        return None
    like = next(t for t in tangents if t is not None)
    ts = [zeros(np.shape(a), dtype_of(ans), like) if t is None else t for t, a in zip(tangents, args)]
    return concatenate_p(*ts, **params)


def _concatenate_transpose(g, shapes, params, which):
    axis = params["axis"]
    ends = np.cumsum([s[axis] for s in shapes])
    return [g[along(axis, slice(int(ends[i]) - shapes[i][axis], int(ends[i])))] for i in which]


def _save_shapes(args, ans, params):
    return tuple(np.shape(a) for a in args)


concatenate_p = Primitive(
    "concatenate", lambda *arrays, axis: np.concatenate(arrays, axis=axis),
    jvp=_concatenate_jvp, vjp=_concatenate_transpose, save=_save_shapes)
concatenate_p.linear = True


def _as_arrays(arrays):
    return [a if isinstance(a, (Box, np.ndarray)) or foreign(a) is not None else array_like(a)
            for a in arrays]


def array_like(a):
    """np.asarray(a) where a nested list may hold traced values (stacked).

    Example:
        >>> array_like([[1.0, 2.0], [3.0, 4.0]]).shape
        (2, 2)
    """
    if isinstance(a, (list, tuple)) and _holds_box(a):
        return np.stack([array_like(e) for e in a])
    # another library's array (Dask, CuPy) stays one: np.asarray would compute or copy it
    return a if isinstance(a, Box) or foreign(a) is not None else np.asarray(a)


def _holds_box(a):
    return any(isinstance(e, Box) or (isinstance(e, (list, tuple)) and _holds_box(e)) for e in a)


@implements(np.concatenate)
def concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """np.concatenate; the cotangent is sliced back into the pieces.

    Example:
        >>> np.concatenate([np.zeros(2), np.ones(1)])
        array([0., 0., 1.])
    """
    _no_out("concatenate", out)
    arrays = _as_arrays(arrays)
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    if axis is None:
        arrays, axis = [ravel(a) for a in arrays], 0
    nd = ndim(arrays[0])
    if nd == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    result = concatenate_p(*arrays, axis=normalize_axes(axis, nd)[0])
    return result if dtype is None else result.astype(dtype)


def _no_out(name, out):
    if out is not None:
        from ..core.errors import MutationError
        raise MutationError(f"np.{name}(..., out=...) would write in place into a traced result")


@implements(np.stack)
def stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """np.stack: concatenate along a new axis."""
    _no_out("stack", out)
    arrays = _as_arrays(arrays)
    if not arrays:
        raise ValueError("need at least one array to stack")
    if len({shape(a) for a in arrays}) != 1:
        raise ValueError("all input arrays must have the same shape")
    axis = normalize_axes(axis, ndim(arrays[0]) + 1)[0]
    return concatenate([expand_dims(a, axis) for a in arrays], axis, dtype=dtype)


@implements(np.hstack)
def hstack(tup, *, dtype=None, casting="same_kind"):
    """np.hstack: along axis 1, or axis 0 for vectors."""
    arrays = [atleast_1d(a) for a in _as_arrays(tup)]
    return concatenate(arrays, 0 if arrays and ndim(arrays[0]) == 1 else 1, dtype=dtype)


@implements(np.vstack)
def vstack(tup, *, dtype=None, casting="same_kind"):
    """np.vstack: along axis 0 of the arrays made at least 2-d."""
    return concatenate([atleast_2d(a) for a in _as_arrays(tup)], 0, dtype=dtype)


@implements(np.dstack)
def dstack(tup):
    """np.dstack: along axis 2 of the arrays made at least 3-d."""
    return concatenate([atleast_3d(a) for a in _as_arrays(tup)], 2)


@implements(np.column_stack)
def column_stack(tup):
    """np.column_stack: vectors become columns."""
    arrays = [reshape(a, (-1, 1)) if ndim(a) < 2 else a for a in _as_arrays(tup)]
    return concatenate(arrays, 1)


@implements(np.append)
def append(arr, values, axis=None):
    """np.append: concatenate, flattening both when axis is None."""
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], 0)
    return concatenate([arr, values], axis)


# ---- splitting: a list of slices ----
@implements(np.array_split)
def array_split(ary, indices_or_sections, axis=0):
    """np.array_split: pieces as slices along `axis` (NumPy's sizes)."""
    axis = normalize_axes(axis, ndim(ary))[0]
    n = shape(ary)[axis]
    if np.ndim(indices_or_sections) == 0:
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0.")
        each, extra = divmod(n, sections)
        sizes = [0] + extra * [each + 1] + (sections - extra) * [each]
        bounds = [int(b) for b in np.cumsum(sizes)]
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [n]
    return [ary[along(axis, slice(lo, hi))] for lo, hi in zip(bounds[:-1], bounds[1:])]


@implements(np.split)
def split(ary, indices_or_sections, axis=0):
    """np.split: like array_split, but sections must divide the axis evenly."""
    if np.ndim(indices_or_sections) == 0:
        axis_len = shape(ary)[normalize_axes(axis, ndim(ary))[0]]
        if axis_len % int(indices_or_sections):
            raise ValueError("array split does not result in an equal division")
    return array_split(ary, indices_or_sections, axis)


def _split_along(name, axis_of, min_ndim):
    def splitter(ary, indices_or_sections):
        if ndim(ary) < min_ndim:
            raise ValueError(f"{name} only works on arrays of {min_ndim} or more dimensions")
        return split(ary, indices_or_sections, axis_of(ndim(ary)))
    splitter.__doc__ = f"np.{name}: np.split along its fixed axis."
    return splitter


hsplit = implements(np.hsplit)(_split_along("hsplit", lambda nd: 1 if nd > 1 else 0, 1))
vsplit = implements(np.vsplit)(_split_along("vsplit", lambda nd: 0, 2))
dsplit = implements(np.dsplit)(_split_along("dsplit", lambda nd: 2, 3))


# ---- reordering: basic indexing with negative steps, and slices ----
@implements(np.flip)
def flip(m, axis=None):
    """np.flip: a slice with step -1 on each axis."""
    axes = normalize_axes(axis, ndim(m))
    return m[tuple(_REVERSED if i in axes else _ALL for i in range(ndim(m)))]


@implements(np.fliplr)
def fliplr(m):
    """np.fliplr: flip axis 1."""
    if ndim(m) < 2:
        raise ValueError("Input must be >= 2-d.")
    return flip(m, 1)


@implements(np.flipud)
def flipud(m):
    """np.flipud: flip axis 0."""
    if ndim(m) < 1:
        raise ValueError("Input must be >= 1-d.")
    return flip(m, 0)


@implements(np.roll)
def roll(a, shift, axis=None):
    """np.roll: the two slices of each axis, swapped and concatenated."""
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), shape(a))
    shifts, axes = np.broadcast_arrays(np.asarray(raw(shift)), np.asarray(axis))
    for s, ax in zip(shifts.ravel(), axes.ravel()):
        ax = normalize_axes(int(ax), ndim(a))[0]
        n = shape(a)[ax]
        cut = n - int(s) % n if n else 0
        if 0 < cut < n:
            a = concatenate([a[along(ax, slice(cut, None))], a[along(ax, slice(None, cut))]], ax)
    return a


# ---- padding ----
_INDEX_MODES = ("edge", "reflect", "symmetric", "wrap")


@implements(np.pad)
def pad(array, pad_width, mode="constant", **kwargs):
    """np.pad in modes constant, edge, reflect, symmetric and wrap.

    Constant padding concatenates constant blocks axis by axis (so corners take
    the value of the last axis, as in NumPy); the other modes copy entries, so
    they index with the positions NumPy's own np.pad gives for `arange(n)`.
    """
    nd = ndim(array)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (nd, 2))
    if (widths < 0).any():
        raise ValueError("index can't contain negative values")
    if mode == "constant":
        return _pad_constant(array, widths, kwargs.pop("constant_values", 0), kwargs)
    if mode not in _INDEX_MODES:
        raise UnsupportedOptionError(f"np.pad mode {mode!r} is not supported on traced values")
    if kwargs.get("reflect_type", "even") != "even" or set(kwargs) - {"reflect_type"}:
        raise UnsupportedOptionError(
            f"np.pad options {sorted(kwargs)} are not supported on traced values")
    for ax, (before, after) in enumerate(widths):
        if before or after:
            positions = np.pad(np.arange(shape(array)[ax]), (before, after), mode=mode)
            array = array[along(ax, positions)]
    return array


def _pad_constant(array, widths, values, kwargs):
    if kwargs:
        raise UnsupportedOptionError(
            f"np.pad options {sorted(kwargs)} are not supported in constant mode")
    nd = ndim(array)
    if isinstance(values, Box):
        if ndim(values) != 0:
            raise UnsupportedOptionError("a traced constant_values of np.pad must be a scalar")
        values = [(values, values)] * nd
    else:
        values = np.broadcast_to(np.asarray(values), (nd, 2))
    dtype = dtype_of(array)
    for ax in range(nd):
        pieces = []
        for width, value in zip(widths[ax], values[ax]):
            block = list(shape(array))
            block[ax] = int(width)
            if isinstance(value, Box):  # on array's library, even for a NumPy scalar value
                piece = (value + zeros(tuple(block), dtype, like=array) if foreign(array) is not None
                         else broadcast_to(value, tuple(block)))
            else:
                piece = asarray(np.full(block, value, dtype), like=array)
            pieces.append(piece)
        if widths[ax].any():
            array = concatenate([pieces[0], array, pieces[1]], ax)
    return array
