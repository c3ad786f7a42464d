"""Op table: ranges with traced endpoints, block, cross, angle, unit
conversions, cumulative_sum/prod, axis moves, nan_to_num, the array-API
dot products (real and complex), meshgrid."""

import numpy as np

from .spec import Op, pos, rand

NO_CS = ("rev", "fwd", "rev_rev", "fwd_rev", "check")


def with_nonfinite(*shape):
    x = rand(*shape)
    x.flat[:3] = [np.nan, np.inf, -np.inf]
    return x


def ri(z):
    return np.real(z), np.imag(z)


# fmt: off
OPS = [
    Op("linspace", lambda a, b: (np.linspace(a, b, 5), np.linspace(a, b, 4, endpoint=False, axis=-1),
                                 np.linspace(a, b, 3, retstep=True)[1]),
       ((rand(), rand()), (rand(2), rand(2))), covers=("multiply", "concatenate")),
    Op("logspace_geomspace", lambda a, b: (np.logspace(a, b, 4), np.logspace(a, b, 3, base=2.0),
                                           np.geomspace(a + 2, b + 2, 4), np.geomspace(-a - 2, -b - 2, 3, endpoint=False)),
       ((rand(), rand()), (rand(2), rand(2))), covers=("power", "exp")),
    Op("block", lambda a, b: (np.block([[a, b], [b, a]]), np.block([a[0], b[0]])),
       ((rand(2, 2), rand(2, 3)), (rand(1, 2), rand(1, 1))), covers=("concatenate",)),
    Op("diagflat", lambda x: (np.diagflat(x), np.diagflat(x, k=-1)), ((rand(3),), (rand(2, 2),)),
       covers=("scatter_add",)),
    Op("cross", lambda a, b: (np.cross(a, b), np.cross(a[..., :2], b), np.cross(a[..., :2], b[..., :2])),
       ((rand(3), rand(3)), (rand(4, 3), rand(3))), covers=("multiply", "subtract")),
    Op("cross_axis", lambda a, b: np.cross(a, b, axis=0), ((rand(3, 2), rand(3, 2)),), covers=("multiply",)),
    Op("angle", lambda x, y: (np.angle(x + 1j * y), np.angle(x + 1j * y, deg=True)),
       ((rand(3), rand(3)), (rand(2, 2), pos(2, 2))), covers=("arctan2",), modes=NO_CS,
       notes="complex data: the complex step does not apply"),
    Op("angle_real", lambda x: np.angle(x), ((pos(3),),), covers=("arctan2",)),
    Op("degrees_radians", lambda x: (np.degrees(x), np.radians(x)), ((rand(3),), (rand(2, 2),)),
       covers=("rad2deg", "deg2rad")),
    Op("cumulative_sum_prod", lambda x: (np.cumulative_sum(x, axis=0), np.cumulative_prod(x, axis=-1, include_initial=True)),
       ((rand(4),), (rand(2, 3),)), covers=("cumsum", "multiply")),
    Op("rollaxis_matrix_transpose", lambda x: (np.rollaxis(x, 2), np.rollaxis(x, 0, 3), np.matrix_transpose(x)),
       ((rand(2, 3, 4),),), covers=("transpose",)),
    Op("np_astype", lambda x: (np.astype(x, np.float64), np.real(np.astype(x, np.complex128))),
       ((rand(3),),), covers=("astype",)),
    Op("nan_to_num", lambda x: np.nan_to_num(x, posinf=5.0),
       ((with_nonfinite(4),), (with_nonfinite(2, 3),)), covers=("where",)),
    Op("nan_to_num_complex", lambda x, y: ri(np.nan_to_num(x + 1j * y)),
       ((with_nonfinite(4), rand(4)),), covers=("where",), modes=NO_CS),
    Op("vecdot", lambda x, y: (np.vecdot(x, y), np.vecdot(x[..., :2], x[..., 1:])), ((rand(3), rand(3)), (rand(2, 3), rand(3))),
       covers=("vecdot",)),
    Op("vecdot_complex", lambda a, b, c, d: ri(np.vecdot(a + 1j * b, c + 1j * d)),
       ((rand(3), rand(3), rand(3), rand(3)), (rand(2, 3), rand(2, 3), rand(3), rand(1, 3))), covers=("vecdot",),
       modes=NO_CS),
    Op("matvec", lambda a, v: np.matvec(a, v), ((rand(2, 3), rand(3)), (rand(4, 2, 3), rand(4, 3))), covers=("matvec",)),
    Op("matvec_complex", lambda a, b, u, v: ri(np.matvec(a + 1j * b, u - 1j * v)),
       ((rand(2, 3), rand(2, 3), rand(3), rand(3)),), covers=("matvec",), modes=NO_CS),
    Op("vecmat", lambda v, a: np.vecmat(v, a), ((rand(2), rand(2, 3)), (rand(4, 2), rand(2, 3))), covers=("vecmat",)),
    Op("vecmat_complex", lambda a, b, u, v: ri(np.vecmat(a + 1j * b, u - 1j * v)),
       ((rand(2), rand(2), rand(2, 3), rand(2, 3)),), covers=("vecmat",), modes=NO_CS),
    Op("meshgrid", lambda x, y: np.meshgrid(x, y) + np.meshgrid(x, y, indexing="ij", sparse=True),
       ((rand(3), rand(2)),), covers=("broadcast_to",)),
]
# fmt: on
