"""Op table: shape operations (reshape, transpose, concatenate, ... and their compositions)."""

import numpy as np

from .spec import Op, rand


def cases(*shapes):
    """One-argument cases, one per shape."""
    return tuple((rand(*s),) for s in shapes)


# fmt: off
OPS = [
    Op("reshape", lambda x: np.reshape(x, (-1, 2)), cases((4,), (2, 3), (3, 2, 2))),
    Op("reshape_method", lambda x: x.reshape(2, -1).reshape(-1), cases((4,), (2, 3)),
       covers=("reshape",)),
    Op("ravel", lambda x: np.ravel(x) + x.flatten(), cases((), (2, 3)), covers=("reshape", "add")),
    Op("expand_dims", lambda x: np.expand_dims(x, (0, -1)), cases((), (3,), (2, 3)),
       covers=("reshape",)),
    Op("squeeze", lambda x: np.squeeze(x) + np.squeeze(x, axis=0), cases((1, 3, 1),),
       covers=("reshape", "add")),
    Op("atleast", lambda x: [np.atleast_1d(x), np.atleast_2d(x), np.atleast_3d(x)],
       cases((), (3,), (2, 3)), covers=("reshape",)),
    Op("transpose", lambda x: np.transpose(x), cases((), (3,), (2, 3), (2, 3, 4))),
    Op("transpose_axes", lambda x: np.transpose(x, (-1, 0, 1)) + x.T.transpose(0, 2, 1),
       cases((2, 3, 4),), covers=("transpose",)),
    Op("swapaxes", lambda x: np.swapaxes(x, 0, -1), cases((2, 3), (2, 3, 4)),
       covers=("transpose",)),
    Op("moveaxis", lambda x: np.moveaxis(x, (0, 1), (-1, 0)), cases((2, 3, 4),),
       covers=("transpose",)),
    Op("rot90", lambda x: np.concatenate([np.rot90(x, k, axes=(0, -1)).ravel() for k in range(4)]),
       cases((2, 3), (2, 3, 2)), covers=("transpose", "getitem", "concatenate")),
    Op("broadcast_to", lambda x: np.broadcast_to(x, (2, 4, 3)), cases((), (3,), (4, 1))),
    Op("broadcast_arrays", lambda x, y: np.broadcast_arrays(x, y), ((rand(3), rand(2, 1)),),
       covers=("broadcast_to",)),
    Op("tile", lambda x: np.tile(x, (2, 1, 3)), cases((), (3,), (2, 3)),
       covers=("reshape", "broadcast_to")),
    Op("repeat", lambda x: np.repeat(x, 2) + 0, cases((), (3,), (2, 2)), covers=("getitem",)),
    Op("repeat_axis", lambda x: np.repeat(x, [1, 0, 3], axis=-1), cases((3,), (2, 3)),
       covers=("getitem",)),
    Op("concatenate", lambda x, y: np.concatenate([x, y, x], axis=-1),
       ((rand(3), rand(2)), (rand(2, 3), rand(2, 1)), (rand(2, 0), rand(2, 2)))),
    Op("concatenate_none", lambda x, y: np.concatenate((x, y, np.ones(2)), axis=None),
       ((rand(2, 3), rand(3)),), covers=("concatenate", "reshape")),
    Op("concatenate_const", lambda x: np.concatenate([np.zeros((1, 2)), x]), cases((3, 2),),
       covers=("concatenate",)),
    Op("stack", lambda x, y: np.stack([x, y], axis=-1), ((rand(), rand()), (rand(3), rand(3)),
                                                         (rand(2, 3), rand(2, 3))),
       covers=("concatenate", "reshape")),
    Op("hstack", lambda x, y: np.hstack([x, y]), ((rand(), rand(2)), (rand(2, 3), rand(2, 1))),
       covers=("concatenate",)),
    Op("vstack", lambda x, y: np.vstack((x, y)), ((rand(3), rand(2, 3)),),
       covers=("concatenate", "reshape")),
    Op("dstack", lambda x, y: np.dstack((x, y)), ((rand(3), rand(3)), (rand(2, 3), rand(2, 3, 2))),
       covers=("concatenate", "reshape")),
    Op("column_stack", lambda x, y: np.column_stack((x, y)), ((rand(3), rand(3, 2)),),
       covers=("concatenate", "reshape")),
    Op("append", lambda x, y: np.append(x, y) + 0, ((rand(2, 2), rand(3)),),
       covers=("concatenate", "reshape")),
    Op("split", lambda x: np.split(x, 3, axis=-1), cases((6,), (2, 3)), covers=("getitem",)),
    Op("array_split", lambda x: np.array_split(x, [1, 3]) + np.array_split(x, 3),
       cases((5,), (4, 2)), covers=("getitem",)),
    Op("hvdsplit", lambda x: np.hsplit(x, 2) + np.vsplit(x, [1]) + np.dsplit(x, 2),
       cases((2, 4, 2),), covers=("getitem",)),
    Op("flip", lambda x: np.flip(x), cases((), (3,), (2, 3)), covers=("getitem",)),
    Op("flip_axes", lambda x: np.flip(x, (0, -1)) + np.fliplr(x) - np.flipud(x),
       cases((2, 3), (2, 3, 2)), covers=("getitem",)),
    Op("roll", lambda x: np.roll(x, 2), cases((), (3,), (2, 3)), covers=("concatenate", "reshape")),
    Op("roll_axes", lambda x: np.roll(x, (1, -4), axis=(0, -1)), cases((3, 5), (2, 3, 2)),
       covers=("concatenate",)),
    Op("pad_constant", lambda x: np.pad(x, ((1, 0), (2, 1)), constant_values=((0.5, 1), (2, 3))),
       cases((2, 3), (0, 2)), covers=("concatenate",)),
    Op("pad_scalar", lambda x: np.pad(x, 2), cases((), (3,)), covers=("concatenate",)),
    Op("pad_traced_value", lambda x, c: np.pad(x, 1, constant_values=c), ((rand(2, 3), rand()),),
       covers=("concatenate", "broadcast_to")),
    Op("pad_modes", lambda x: np.concatenate([np.pad(x, ((1, 5), (2, 0)), mode=m).ravel()
                                              for m in ("edge", "reflect", "symmetric", "wrap")]),
       cases((3, 2), (2, 3)), covers=("getitem", "concatenate")),
    Op("copy", lambda x: np.copy(x) * x.copy(), cases((), (3,)), covers=("multiply",)),
    Op("full_like", lambda x, c: np.full_like(x, c) * x + np.zeros_like(x) + np.ones_like(x),
       ((rand(2, 3), rand()),), covers=("broadcast_to", "astype")),
]
# fmt: on
