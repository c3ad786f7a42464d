"""Op table: indexing, selection and sorting."""

import numpy as np

from .spec import Op, rand


def cases(*shapes, maker=rand):
    """One-argument cases, one per shape."""
    return tuple((maker(*s),) for s in shapes)


def distinct(*shape):
    """Entries at least 0.2 apart (finite differences never cross a tie)."""
    n = int(np.prod(shape, dtype=int))
    return np.reshape(0.3 * np.argsort(rand(n)) + 0.05 * rand(n), shape)


def centred(*shape):
    """Distinct entries within 0.05 of a multiple of 0.3, around zero: at least
    0.1 away from the thresholds +-0.15 and +-0.45 used below."""
    n = int(np.prod(shape, dtype=int))
    return distinct(*shape) - 0.3 * (n // 2)


MASK = np.array([[True, False, True], [False, False, True]])

# fmt: off
OPS = [
    Op("getitem", lambda x: x[1:, ::-2], cases((3, 4), (2, 5, 2))),
    Op("getitem_int", lambda x: x[-1] + x[0, ...], cases((3,), (2, 3)), covers=("getitem", "add")),
    Op("getitem_repeated", lambda x: x[[0, 2, 0, 0]], cases((3,), (3, 2)),
       covers=("getitem", "scatter_add")),
    Op("getitem_advanced", lambda x: x[np.array([[1, 0], [1, 1]]), :, [-1, 0]],
       cases((2, 3, 2),), covers=("getitem",)),
    Op("getitem_mask", lambda x: x[MASK] + x[:, MASK[0]].sum(), cases((2, 3),),
       covers=("getitem",)),
    Op("getitem_newaxis", lambda x: x[None, ..., None, 1:], cases((3,), (2, 3)),
       covers=("getitem",)),
    Op("getitem_empty", lambda x: x[2:1] + x[np.zeros(0, int)], cases((4,), (3, 2)),
       covers=("getitem",)),
    Op("scatter_add", lambda x: np.diag(x, 1)[1:, :-1] + np.diag(x), cases((1,), (3,))),
    Op("take", lambda x: np.take(x, [[0, 2], [2, 2]]) + 0 * x.take([1], axis=-1).sum(),
       cases((3,), (2, 3)), covers=("getitem",)),
    Op("take_modes",
       lambda x: np.take(x, [5, -1], axis=0, mode="wrap") + np.take(x, [7, -3], mode="clip"),
       cases((3,),), covers=("getitem",)),
    Op("take_along_axis", lambda x: np.take_along_axis(x, np.array([[2, 0, 0]]), axis=-1),
       cases((1, 3), (2, 3)), covers=("getitem",)),
    Op("where", lambda x, y: np.where(x > 0.15, x, y),
       ((centred(3), rand(3)), (centred(2, 3), rand(3)), (centred(), rand(2)))),
    Op("select", lambda x, y: np.select([x > 0.45, x < -0.15], [x, y], default=2.0),
       ((centred(4), rand(4)), (centred(2, 3), rand())), covers=("where",)),
    Op("diag", lambda x: np.diag(x, -1), cases((3, 3), (2, 4)), covers=("getitem",)),
    Op("diagonal", lambda x: np.diagonal(x, 1, -1, 0) + x.diagonal().sum(),
       cases((3, 4), (3, 2, 4)),
       covers=("getitem", "transpose")),
    Op("trace", lambda x: np.trace(x).sum() + x.trace(offset=-1, axis1=-2, axis2=-1),
       cases((3, 3), (3, 2, 2)),
       covers=("getitem", "sum")),
    Op("triu", lambda x: np.triu(x, 1) + np.tril(x, -1) * 2 + np.tril(x),
       cases((3,), (3, 4), (2, 3, 3)),
       covers=("where",)),
    Op("clip", lambda x: np.clip(x, -0.45, 0.45), cases((), (3,), (4, 5), maker=centred),
       covers=("where",)),
    Op("clip_traced_bounds", lambda x, lo, hi: np.clip(x, min=lo, max=hi),
       ((centred(5), -0.45 + 0.01 * rand(5), 0.45 + 0.01 * rand(5)),
        (centred(2, 3), -0.45 + 0.01 * rand(3), 0.15 + 0.01 * rand(2, 1))), covers=("where",)),
    Op("clip_one_side", lambda x: np.clip(x, None, 0.15) + x.clip(-0.45),
       cases((4,), (2, 3), maker=centred),
       covers=("where",)),
    Op("sort", lambda x: np.sort(x), cases((5,), (3, 4), maker=distinct), covers=("getitem",)),
    Op("sort_axis", lambda x: np.sort(x, axis=0) + np.sort(x, axis=None).reshape(x.shape),
       cases((3, 4), maker=distinct), covers=("getitem",)),
    Op("unique", lambda x: np.unique(x), cases((4,), (2, 3), maker=distinct), covers=("getitem",)),
]
# fmt: on
