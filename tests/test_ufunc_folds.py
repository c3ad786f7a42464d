"""chainrule differentiates ufunc.reduce/accumulate/reduceat as the left fold
(x0 op x1) op x2 ... (chainrule.rules.ufunc_methods): NumPy's own methods must
be that fold, in every memory layout, for each ufunc it is registered for;
for power and arctan2, whose reduce is not, only accumulate is, and reduce
raises a NoRuleError."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.errors import NoRuleError
from chainrule.rules import ufunc_methods

RNG = np.random.default_rng(0)
ARRAYS = [RNG.uniform(0.5, 1.5, s) for s in [(5,), (17,), (40,), (3, 4), (7, 9), (2, 3, 17)]]
ARRAYS += [np.asfortranarray(a) for a in ARRAYS if a.ndim > 1]


def fold(ufunc, x, axis):
    x = np.moveaxis(x, axis, 0)
    out = [x[0]]
    for item in x[1:]:
        out.append(ufunc(out[-1], item))
    return np.moveaxis(np.stack(out), 0, axis)


@pytest.mark.parametrize("ufunc", sorted(ufunc_methods._FOLDS, key=lambda u: u.__name__),
                         ids=lambda u: u.__name__)
def test_numpys_methods_are_the_fold(ufunc):
    for x in ARRAYS:
        for axis in range(x.ndim):
            acc = fold(ufunc, x, axis)
            np.testing.assert_allclose(ufunc.accumulate(x, axis=axis), acc, rtol=1e-12)
            np.testing.assert_allclose(ufunc.reduce(x, axis=axis), acc.take(-1, axis), rtol=1e-12)
            if x.shape[axis] <= 3:
                continue
            segments = [(0, 2), (2, 3), (3, x.shape[axis])]
            expected = np.stack([fold(ufunc, np.moveaxis(x, axis, 0)[i:j], 0)[-1]
                                 for i, j in segments], axis=axis)
            np.testing.assert_allclose(ufunc.reduceat(x, [0, 2, 3], axis=axis), expected, rtol=1e-12)


@pytest.mark.parametrize("ufunc", [np.power, np.arctan2], ids=lambda u: u.__name__)
def test_power_and_arctan2_accumulate_is_the_fold_and_reduce_is_refused(ufunc):
    x = ARRAYS[0]
    # NumPy's reduce of these non-associative ufuncs follows its inner loop's order, which
    # differs between CPUs (the fold on some, not on others): refused below
    for y in ARRAYS:
        for axis in range(y.ndim):
            np.testing.assert_allclose(ufunc.accumulate(y, axis=axis), fold(ufunc, y, axis),
                                       rtol=1e-12)
    _, t = cr.jvp(lambda x: ufunc.accumulate(x), (x,), (np.ones_like(x),))
    h = 1e-6
    fd = (ufunc.accumulate(x + h) - ufunc.accumulate(x - h)) / (2 * h)
    np.testing.assert_allclose(t, fd, rtol=1e-6, atol=1e-8)
    with pytest.raises(NoRuleError, match="memory layout"):
        cr.grad(lambda x: ufunc.reduce(x))(x)
