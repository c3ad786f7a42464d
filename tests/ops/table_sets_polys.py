"""Op table: delete, extract, ediff1d, trim_zeros, unstack, the array-API
unique functions, union1d, the polynomial helpers (polyadd, polysub,
polymul, polyder, polyint, roots, poly) and the two-output ufuncs modf and
divmod (chainrule.rules.sets_polys)."""

import numpy as np

from chainrule.core.errors import NoRuleError

from .spec import Op, pos, rand


def ri(z):
    return np.real(z), np.imag(z)


def trimmed(x):
    """trim_zeros of x between constant zeros (traced zeros would not stay zero)."""
    z = np.zeros(2)
    padded = np.concatenate([z, x, z[:1]])
    return np.trim_zeros(padded), np.trim_zeros(padded, "f"), np.trim_zeros(padded, "b")


def distinct_roots(n):
    """Coefficients of a polynomial with well separated real roots."""
    return lambda: np.poly(np.arange(1.0, n + 1) + rand(n, low=-0.2, high=0.2)) * pos(low=0.5, high=2)


_SPREAD = np.random.default_rng(11)


def spread(*shape):
    """Values at least 0.3 apart (the differences' steps must not reorder them)."""
    n = int(np.prod(shape))
    return (_SPREAD.permutation(n) * 0.5 + rand(n, low=-0.1, high=0.1)).reshape(shape)


def away_from_integers(*shape):
    return np.floor(rand(*shape, low=-3, high=3)) + rand(*shape, low=0.2, high=0.8)


# fmt: off
OPS = [
    Op("delete", lambda x: (np.delete(x, 1), np.delete(x, [0, 2], axis=1), np.delete(x, slice(0, 1), 0)),
       ((rand(3, 4),), (rand(2, 3),)), covers=("getitem",)),
    Op("extract", lambda x: np.extract(np.arange(x.size).reshape(x.shape) % 2 == 0, x),
       ((rand(3, 4),), (rand(5),)), covers=("getitem",)),
    Op("ediff1d", lambda x, b, e: (np.ediff1d(x), np.ediff1d(x, to_end=e, to_begin=b)),
       ((rand(5), rand(), rand(2)), (rand(2, 3), rand(1), rand())), covers=("subtract", "concatenate")),
    Op("trim_zeros", trimmed, ((rand(4),), (rand(2),)), covers=("getitem",)),
    Op("unstack", lambda x: (np.unstack(x), np.unstack(x, axis=1)), ((rand(2, 3),), (rand(3, 3, 2),)),
       covers=("getitem",)),
    Op("unique_values", np.unique_values, ((spread(6),), (spread(2, 3),)), covers=("getitem",),
       modes=("rev", "fwd", "rev_rev", "fwd_rev", "check"), complex=NoRuleError, notes="complex: NumPy's hash order moves with the values"),
    Op("unique_counts_inverse_all",
       lambda x: (np.unique_counts(x).values, np.unique_inverse(x).values, np.unique_all(x).values),
       ((spread(6),), (spread(2, 3),)), covers=("getitem",), complex=False,
       notes="complex: sorted lexicographically like the real case; covered by unique_values' refusal"),
    Op("union1d", lambda a, b: np.union1d(a, b + 0.25), ((spread(4), spread(3)), (spread(2, 2), spread(1))), covers=("getitem", "concatenate")),
    Op("polyadd_polysub", lambda a, b: (np.polyadd(a, b), np.polysub(a, b), np.polysub(b, a)),
       ((rand(3), rand(5)), (rand(2), rand(2))), covers=("add", "subtract")),
    Op("polymul", np.polymul, ((rand(3), rand(4)), (rand(1), rand(2))), covers=("multiply",)),
    Op("polyder_polyint", lambda p: (np.polyder(p), np.polyder(p, 2), np.polyint(p), np.polyint(p, 2, k=[1.0, 2.0])),
       ((rand(4),), (rand(2),)), covers=("multiply", "divide")),
    Op("polyint_traced_k", lambda p, k: (np.polyint(p, k=k), np.polyint(p, 2, k=k)),
       ((rand(3), rand()), (rand(2), rand())), covers=("concatenate",)),
    Op("roots", lambda p: ri(np.roots(p)), ((distinct_roots(3)(),), (distinct_roots(2)(),)),
       covers=("eig",), modes=("rev", "fwd", "rev_rev", "fwd_rev", "check"), complex=False,
       notes="real coefficients with real roots (eigenvalues of the companion matrix)"),
    Op("roots_trailing_zero", lambda p: ri(np.roots(np.concatenate([p, np.zeros(1)]))),
       ((distinct_roots(2)(),),), covers=("eig",), modes=("rev", "fwd", "check"), complex=False),
    Op("poly", lambda z: np.poly(z), ((rand(3),), (rand(1),)), covers=("multiply",)),
    Op("poly_matrix", lambda a: np.poly(a), ((rand(3, 3) + 3 * np.eye(3),),), covers=("eig",),
       modes=("rev", "fwd", "check"), complex=False,
       notes="the characteristic polynomial through the eigenvalues (real when they pair)"),
    Op("insert", lambda a, v, s: (np.insert(a, 1, v), np.insert(a, [0, 2], s, axis=1),
                                  np.insert(a, 2, v[:1], axis=0), np.insert(a, slice(0, 2), s)),
       ((rand(3, 2), rand(3), rand()), (rand(2, 2), rand(2), rand())), covers=("getitem", "where")),
    Op("ix_", lambda a, b: np.ix_(a, b), ((rand(3), rand(2)), (rand(1), rand(4))), covers=("reshape",)),
    Op("tensorinv", lambda a: np.linalg.tensorinv(a, ind=2 if a.shape[0] == 2 else 1),
       ((np.reshape(rand(4, 4) + 4 * np.eye(4), (2, 2, 4)),), (np.reshape(rand(6, 6) + 5 * np.eye(6), (6, 2, 3)),)),
       covers=("inv",), modes=("rev", "fwd", "rev_rev", "fwd_rev", "check")),
    Op("polydiv", lambda u, v: np.polydiv(u, v), ((rand(5), pos(3)), (rand(3), pos(2))),
       covers=("divide", "subtract")),
    Op("setxor1d", lambda a, b: np.setxor1d(a, b + 0.25), ((spread(4), spread(3)), (spread(2, 2), spread(1))),
       covers=("getitem", "concatenate")),
    Op("intersect1d", lambda a, b: np.intersect1d(a, np.concatenate([b, a[:2] * 0 + np.array([0.0, 1.0])])),
       ((np.array([0.0, 0.5, 1.0, 2.0]), rand(3)), (np.array([1.0, 0.0]), rand(2))), diff_args=(1,),
       covers=("getitem",), notes="the common values move with ar1 (here constant); differentiated in ar2: 0"),
    Op("numpy_i0", np.i0, ((rand(4, low=-5, high=5),), (rand(2, 3, low=-40, high=40),)),
       modes=("rev", "fwd", "rev_rev", "fwd_rev", "check"), complex=False,
       notes="NumPy's i0 takes no complex input"),
    Op("modf", lambda x: np.modf(x), ((away_from_integers(4),), (away_from_integers(2, 3),)),
       modes=("rev", "fwd", "rev_rev", "fwd_rev", "check"), complex=False,
       notes="NumPy's modf takes no complex input"),
    Op("divmod", lambda x, y: np.divmod(x, y), ((rand(4), pos(4)), (rand(2, 3), pos(3))),
       modes=("rev", "fwd", "rev_rev", "fwd_rev", "check"), complex=False,
       notes="NumPy's divmod takes no complex input; cases away from the jumps"),
]
# fmt: on
