"""cr.hvp: every primal or those of argnums, against the full Hessian, and dtypes."""

import numpy as np
import pytest

import chainrule as cr


def f(x, y, W):
    return np.sum(np.tanh(x @ W) * y ** 2) + np.sum(np.sin(x) * x)


def _data(dtype=np.float64):
    rng = np.random.default_rng(3)
    x, y, W = rng.standard_normal(3), rng.standard_normal(2), rng.standard_normal((3, 2))
    v = [rng.standard_normal(np.shape(a)) for a in (x, y, W)]
    return [a.astype(dtype) for a in (x, y, W)], [a.astype(dtype) for a in v]


def _hessian_products(primals, tangents, nums):
    """H v from the full Hessian over the flattened primals of nums."""
    sizes = [primals[n].size for n in nums]

    def flat(z):
        args = list(primals)
        for n, part in zip(nums, np.split(z, np.cumsum(sizes)[:-1])):
            args[n] = part.reshape(np.shape(primals[n]))
        return f(*args)
    z = np.concatenate([primals[n].ravel() for n in nums])
    hv = cr.hessian(flat)(z) @ np.concatenate([t.ravel() for t in tangents])
    return [part.reshape(np.shape(primals[n])) for n, part in zip(nums, np.split(hv, np.cumsum(sizes)[:-1]))]


@pytest.mark.parametrize("argnums", [None, 0, 2, (1,), (0, 2), (2, 0), (-1,)])
def test_hvp_matches_the_hessian(argnums):
    primals, tangents = _data()
    nums = (0, 1, 2) if argnums is None else (argnums,) if isinstance(argnums, int) else argnums
    nums = tuple(n % 3 for n in nums)
    tangents = [tangents[n] for n in nums]
    got = cr.hvp(f, primals, tangents, argnums=argnums)
    want = _hessian_products(primals, tangents, nums)
    if isinstance(argnums, int):
        assert isinstance(got, np.ndarray)
        got = [got]
    else:
        assert isinstance(got, tuple) and len(got) == len(nums)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_float32_in_float32_out():
    primals, tangents = _data(np.float32)
    for argnums in (None, 1, (0, 2)):
        nums = (0, 1, 2) if argnums is None else (argnums,) if isinstance(argnums, int) else argnums
        got = cr.hvp(f, primals, [tangents[n] for n in nums], argnums=argnums)
        for a in (got,) if isinstance(got, np.ndarray) else got:
            assert a.dtype == np.float32
    x = np.array([0.5, 2.0], np.float32)
    assert cr.hvp(lambda x: np.sum(x ** 3), (x,), (x,)).dtype == np.float32


def test_bad_argnums_and_tangents_are_named():
    primals, tangents = _data()
    with pytest.raises(ValueError, match="one tangent per differentiated primal: 1"):
        cr.hvp(f, primals, tangents[:2], argnums=0)
    with pytest.raises(ValueError, match="names primal 3"):
        cr.hvp(f, primals, tangents[:1], argnums=3)
    with pytest.raises(ValueError, match="twice"):
        cr.hvp(f, primals, tangents[:2], argnums=(0, 0))
