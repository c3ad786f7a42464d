"""Op table: contractions (matmul, dot, tensordot, einsum, ...)."""

import numpy as np

from .spec import Op, rand


def pairs(*shape_pairs):
    """Two-argument cases, one per pair of shapes."""
    return tuple((rand(*sx), rand(*sy)) for sx, sy in shape_pairs)


MATMUL_SHAPES = [
    ((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)), ((5, 1, 2, 3), (4, 3, 2)), ((3,), (5, 3, 4)), ((5, 2, 3), (3,)),
    ((0, 3), (3, 2)), ((2, 0), (0, 3)),
]

# fmt: off
OPS = [
    Op("matmul", np.matmul, pairs(*MATMUL_SHAPES)),
    Op("matmul_operator", lambda x, y: x @ y + (y.T @ x.T).T, pairs(((2, 3), (3, 4))),
       covers=("matmul", "transpose")),
    Op("dot", np.dot, pairs(((), (3,)), ((3,), (3,)), ((2, 3), (3,)), ((2, 3), (3, 4)),
                            ((2, 3), (4, 3, 2)), ((2, 2, 3), (3,))),
       covers=("matmul", "multiply", "reshape", "transpose")),
    Op("vdot", np.vdot, pairs(((3,), (3,)), ((2, 3), (3, 2))), covers=("matmul", "reshape")),
    Op("inner", np.inner, pairs(((), (2,)), ((3,), (3,)), ((2, 3), (4, 3)), ((2, 2, 3), (3,))),
       covers=("matmul", "multiply")),
    Op("outer", np.outer, pairs(((3,), (2,)), ((2, 2), ()), ((2, 1), (3,))), covers=("multiply",)),
    Op("kron", np.kron, pairs(((2,), (3,)), ((2, 2), (3, 1)), ((2,), (2, 3)), ((), (2,))),
       covers=("multiply", "reshape")),
    Op("tensordot", lambda x, y: np.tensordot(x, y),
       pairs(((2, 3), (2, 3)), ((4, 2, 3), (2, 3, 5))),
       covers=("matmul", "reshape")),
    Op("tensordot_axes",
       lambda x, y: np.tensordot(x, y, axes=([0, -1], [2, 0])) + np.tensordot(x, y, 0).sum(),
       pairs(((2, 3, 4), (4, 5, 2)),), covers=("matmul", "transpose")),
    Op("tensordot_int_pair", lambda x, y: np.tensordot(x, y, axes=(1, 0)), pairs(((2, 3), (3, 4)),),
       covers=("matmul",)),
    Op("einsum", lambda x, y: np.einsum("ij,jk->ik", x, y),
       pairs(((2, 3), (3, 4)), ((1, 3), (3, 2)))),
    Op("einsum_implicit", lambda x, y: np.einsum("ba,bc", x, y), pairs(((3, 2), (3, 4)),),
       covers=("einsum",)),
    Op("einsum_diagonal", lambda x, y: np.einsum("iij,j->i", x, y) + np.einsum("ii", x[..., 0]),
       pairs(((3, 3, 2), (2,)),), covers=("einsum", "getitem")),
    Op("einsum_lone", lambda x, y: np.einsum("ijk,jl->l", x, y), pairs(((2, 3, 4), (3, 5)),),
       covers=("einsum", "sum")),
    Op("einsum_unary", lambda x: np.einsum("ijk->kj", x) + np.einsum("iji->j", x[:, :, :2]),
       ((rand(2, 3, 4),),), covers=("transpose", "getitem", "sum")),
    Op("einsum_three", lambda x, y, z: np.einsum("ij,jk,k->i", x, y, z, optimize=True),
       ((rand(2, 3), rand(3, 4), rand(4)),), covers=("einsum",)),
    Op("einsum_ellipsis", lambda x, y: np.einsum("...ij,...jk->...ik", x, y),
       pairs(((5, 2, 3), (3, 4)), ((2, 1, 2, 3), (4, 3, 2))), covers=("einsum",)),
    Op("einsum_outer_scalar", lambda x, y: np.einsum("i,->i", x, y) + np.einsum("i,j", x, x).sum(),
       pairs(((3,), ()),), covers=("einsum",)),
    Op("einsum_sublist", lambda x, y: np.einsum(x, [0, 1], y, [1, 2], [2, 0]),
       pairs(((2, 3), (3, 4)),), covers=("einsum",)),
]
# fmt: on
