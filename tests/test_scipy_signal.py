"""chainrule.scipy.signal equals scipy.signal on traced values (the op table
checks the derivatives), and lfilter's VJP is the filter run backwards."""

import numpy as np
import pytest

import chainrule as cr

ss = pytest.importorskip("scipy.signal")
from chainrule.scipy import signal as SS  # noqa: E402

rng = np.random.default_rng(5)


def _traced_value(f, *args):
    return cr.vjp(f, *args)[0]


@pytest.mark.parametrize("name", ["convolve", "correlate", "fftconvolve"])
@pytest.mark.parametrize("mode", ["full", "valid", "same"])
@pytest.mark.parametrize("s1,s2", [((7,), (3,)), ((3,), (7,)), ((4, 5), (2, 3)), ((2, 3), (4, 5)),
                                   ((3, 4, 2), (2, 2, 2))])
def test_convolutions_equal_scipy(name, mode, s1, s2):
    x, k = rng.standard_normal(s1), rng.standard_normal(s2)
    got = _traced_value(lambda x, k: getattr(SS, name)(x, k, mode), x, k)
    np.testing.assert_allclose(got, getattr(ss, name)(x, k, mode), rtol=1e-10, atol=1e-12)


def test_complex_correlate_conjugates_like_scipy():
    x = rng.standard_normal(5) + 1j * rng.standard_normal(5)
    k = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    np.testing.assert_allclose(_traced_value(lambda x, k: SS.correlate(x, k), x, k), ss.correlate(x, k))


@pytest.mark.parametrize("axis", [0, -1])
def test_lfilter_equals_scipy(axis):
    b, a = rng.standard_normal(3), np.array([2.0, 0.3, -0.2, 0.1])
    x, zi = rng.standard_normal((6, 5)), rng.standard_normal((6, 5))
    zi = zi[:3] if axis == 0 else zi[:, :3]
    np.testing.assert_allclose(_traced_value(lambda x: SS.lfilter(b, a, x, axis), x),
                               ss.lfilter(b, a, x, axis), rtol=1e-12)
    y, zf = _traced_value(lambda x, zi: SS.lfilter(b, a, x, axis, zi), x, zi)
    y_ref, zf_ref = ss.lfilter(b, a, x, axis, zi)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12)
    np.testing.assert_allclose(zf, zf_ref, rtol=1e-12)


def test_lfilter_vjp_in_x_is_the_reversed_filter():
    b, a = np.array([1.0, 0.5]), np.array([1.0, -0.6])
    x, g = rng.standard_normal(8), rng.standard_normal(8)
    _, pullback = cr.vjp(lambda x: SS.lfilter(b, a, x), x)
    np.testing.assert_allclose(pullback(g)[0], ss.lfilter(b, a, g[::-1])[::-1], rtol=1e-12)


def test_options_without_a_rule_are_named():
    with pytest.raises(cr.UnsupportedOptionError, match="axes"):
        cr.grad(lambda x: np.sum(SS.fftconvolve(x, np.ones(2), axes=0)))(np.ones(3))
    with pytest.raises(ValueError, match="valid"):
        cr.grad(lambda x: np.sum(SS.convolve(x, np.ones((1, 3)), "valid")))(np.ones((2, 2)))
