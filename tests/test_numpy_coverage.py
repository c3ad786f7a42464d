"""NumPy functions of issue 11 that the op table cannot express: predicates
give their plain answer on traced values; errors for what has no rule."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.errors import UnsupportedOptionError


@pytest.mark.parametrize("pred", [np.iscomplex, np.isreal, np.iscomplexobj, np.isrealobj,
                                  np.isposinf, np.isneginf])
def test_predicates_answer_plainly(pred):
    x = np.array([1.0, np.inf, -2.0])
    seen = []

    def f(x):
        seen.append(pred(x))
        return np.sum(x[:1] * 2)

    assert cr.grad(f)(x)[0] == 2.0
    np.testing.assert_array_equal(seen[0], pred(x))


def test_quantile_in_q_needs_the_linear_method():
    x = np.array([1.0, 3.0, 2.0])
    assert np.isclose(cr.grad(lambda q: np.quantile(x, q))(0.25), 2.0)  # (n - 1) (x_(1) - x_(0))
    with pytest.raises(UnsupportedOptionError, match="linear"):
        cr.grad(lambda q: np.quantile(x, q, method="hazen"))(0.25)


def test_rfft_of_complex_input_is_refused():
    with pytest.raises(UnsupportedOptionError, match="real input"):
        cr.grad(lambda x: np.sum(np.real(np.fft.rfft(x * (1 + 1j)))))(np.ones(4))


@pytest.mark.parametrize("ufunc", [np.subtract, np.divide, np.hypot, np.logaddexp, np.logaddexp2,
                                   np.fmod, np.copysign, np.remainder, np.fmax, np.fmin])
def test_folds_match_numpy_in_every_layout(ufunc):
    from chainrule.core.primitive import UFUNC_METHODS
    x = np.random.default_rng(0).uniform(0.5, 2.0, (3, 4))
    for axis in (0, 1, -1):
        np.testing.assert_allclose(UFUNC_METHODS[(ufunc, "reduce")](x, axis=axis), ufunc.reduce(x, axis=axis))
        np.testing.assert_allclose(UFUNC_METHODS[(ufunc, "accumulate")](x, axis=axis),
                                   ufunc.accumulate(x, axis=axis))
        np.testing.assert_allclose(UFUNC_METHODS[(ufunc, "reduceat")](x, [0, 2, 1], axis=axis),
                                   ufunc.reduceat(x, [0, 2, 1], axis=axis))
