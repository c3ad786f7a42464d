"""Property: a detected pattern never misses a nonzero. Random programs
composed of existing primitives; the dense Jacobian (jacfwd) at random
points must be zero wherever the pattern says so."""

import numpy as np
import pytest

import chainrule as cr

pytest.importorskip("scipy.sparse")

N = 6
_rng = np.random.default_rng(11)
SPARSE_M = np.where(_rng.random((N, N)) < 0.3, _rng.standard_normal((N, N)), 0.0)
PERM = _rng.permutation(N)

# each op: (name, arity, function of vectors of length N -> vector of length N)
# fmt: off
OPS = [
    ("sin",      1, np.sin),
    ("square",   1, lambda a: a ** 2),
    ("exp_half", 1, lambda a: np.exp(a / 2)),
    ("shift",    1, lambda a: np.pad(a, 1)[:-2]),
    ("roll",     1, lambda a: np.roll(a, 2)),
    ("cumsum",   1, np.cumsum),
    ("reverse",  1, lambda a: a[::-1]),
    ("perm",     1, lambda a: a[PERM]),
    ("sparse_mm", 1, lambda a: SPARSE_M @ a),
    ("mm_right", 1, lambda a: a @ SPARSE_M),
    ("total",    1, lambda a: a * 0.5 + np.sum(a[:2])),
    ("max",      1, lambda a: a - np.max(a[3:])),
    ("matrix",   1, lambda a: (a.reshape(2, 3).T * np.arange(1.0, 3.0)).ravel()),
    ("rowsum",   1, lambda a: np.repeat(a.reshape(3, 2).sum(axis=1), 2)),
    ("concat",   1, lambda a: np.concatenate([a[3:], a[:3] * 2])),
    ("tril",     1, lambda a: np.tril(a.reshape(2, 3)).ravel()),
    ("mask",     2, lambda a, b: np.where(PERM > 2, a, b ** 2)),
    ("outer",    1, lambda a: (np.outer(a[:2], a[2:5])[:, :3]).ravel()),
    ("mul",      2, lambda a, b: a * b),
    ("add",      2, lambda a, b: a - 2 * b),
    ("where",    2, lambda a, b: np.where(a > b, a, b)),
    ("maximum",  2, np.maximum),
    ("dot",      2, lambda a, b: a * (a[:3] @ b[3:])),
    ("solve",    2, lambda a, b: np.linalg.solve(np.eye(2) * 3 + np.outer(a[:2], a[:2]), b[:2]).repeat(3)),
]
# fmt: on


def random_program(seed, length=5):
    r = np.random.default_rng(seed)
    steps = []
    for k in range(length):
        op = r.integers(len(OPS))
        args = tuple(int(i) for i in r.integers(0, k + 1, OPS[op][1]))
        steps.append((op, args))

    def f(x):
        vals = [x]
        for op, args in steps:
            vals.append(OPS[op][2](*[vals[i] for i in args]))
        return vals[-1] + 0.1 * vals[len(vals) // 2]

    f.__name__ = " -> ".join(OPS[op][0] for op, _ in steps)
    return f


@pytest.mark.parametrize("seed", range(40))
def test_pattern_contains_every_numeric_nonzero(seed):
    f = random_program(seed)
    pattern = cr.sparsity(f, np.zeros(N)).toarray()
    r = np.random.default_rng(seed + 1000)
    for _ in range(2):
        J = cr.jacfwd(f)(r.standard_normal(N))
        missed = (J != 0) & ~pattern
        assert not missed.any(), f"{f.__name__}: pattern misses {np.argwhere(missed).tolist()}"
    x = r.standard_normal(N)
    np.testing.assert_allclose(cr.jacobian(f, sparse=True)(x).toarray(), cr.jacfwd(f)(x),
                               rtol=1e-10, atol=1e-12)
