"""Op table: convolution, correlation, interpolation (and the interp-based
resampling loss of issue 11), trapezoid, gradient, unwrap, sinc, polynomials."""

import numpy as np

from .spec import Op, pos, rand

NO_CS = ("rev", "fwd", "rev_rev", "fwd_rev", "check")


def knots(n, low=0.0, high=4.0):
    """Increasing knots at least 0.3 apart."""
    return low + np.cumsum(rand(n, low=0.3, high=(high - low) / n * 1.4))


def resampling_loss(signal, t_new, target):
    """Resample a signal from a uniform grid at new times and compare."""
    t = np.linspace(0.0, 1.0, np.shape(signal)[0])
    return np.sum((np.interp(t_new, t, signal) - target) ** 2)


# fmt: off
OPS = [
    Op("convolve", lambda a, v: (np.convolve(a, v), np.convolve(a, v, "same"), np.convolve(v, a, "valid")),
       ((rand(5), rand(3)), (rand(4), rand(4)), (rand(2), rand(6))), covers=("getitem", "matmul")),
    Op("correlate", lambda a, v: (np.correlate(a, v), np.correlate(a, v, "full"), np.correlate(v, a, "same")),
       ((rand(5), rand(3)), (rand(2), rand(4))), covers=("getitem", "matmul")),
    Op("correlate_complex", lambda a, b, v: (lambda c: (np.real(c), np.imag(c)))(
        np.correlate(a + 1j * b, v * (1 - 2j), "full")),
       ((rand(5), rand(5), rand(3)),), covers=("getitem", "conjugate"), modes=NO_CS),
    Op("interp", lambda x, xp, fp: (np.interp(x, xp, fp), np.interp(x, xp, fp, left=-2.0, right=fp[1])),
       ((rand(6, low=-0.5, high=4.5), knots(5), rand(5)), (rand(2, 3, low=0.1, high=3.0), knots(4), rand(4))),
       covers=("getitem", "where"), smooth=False, modes=NO_CS,
       notes="piecewise linear; cs_jvp refuses (NumPy's interp rejects complex x)"),
    Op("resampling_loss", resampling_loss,
       ((rand(9), rand(5, low=0.05, high=0.95), rand(5)), (rand(6), rand(3, low=0.05, high=0.95), rand(3))),
       covers=("getitem",), smooth=False, modes=NO_CS, diff_args=(0, 1),
       notes="piecewise linear in the times"),
    Op("convolve_interp_complex", lambda a, b, v, x: (lambda c: (np.real(c), np.imag(c)))(
        np.concatenate([np.convolve(a + 1j * b, v * (2 - 1j)), np.interp(x, np.arange(5.0), a - 1j * b),
                        np.atleast_1d(np.trapezoid(a * (1 + 1j) + b))])),
       ((rand(5), rand(5), rand(3), rand(3, low=0.2, high=3.8)),), covers=("getitem", "matmul"),
       smooth=False, modes=NO_CS, notes="complex data; interp is piecewise linear"),
    Op("trapezoid", lambda y, x: (np.trapezoid(y), np.trapezoid(y, x), np.trapezoid(y, dx=0.3, axis=0)),
       ((rand(2, 5), knots(5)), (rand(3, 4), knots(4))), covers=("sum",)),
    Op("gradient", lambda f, x: (np.gradient(f), np.gradient(f, x, axis=-1, edge_order=2),
                                 np.gradient(f, 0.5, edge_order=2)),
       ((rand(3, 5), knots(5)), (rand(4, 3), knots(3))), covers=("concatenate",)),
    Op("unwrap", lambda p: np.unwrap(p * 3.0), ((rand(6),), (rand(2, 5),)), covers=("add",), modes=NO_CS,
       notes="the shifts are read from the values; cs_jvp: NumPy's unwrap rejects complex"),
    Op("sinc", lambda x: np.sinc(x), ((rand(5),), (np.array([0.0, 0.3, -1.7]),)), covers=("sin", "where")),
    Op("polyval", lambda p, x: np.polyval(p, x), ((rand(4), rand(3)), (rand(1), rand(2, 2)), (rand(3), rand())),
       covers=("multiply", "add"), modes=NO_CS, notes="NumPy's polyval converts with asarray: cs_jvp refuses"),
    Op("vander", lambda x: (np.vander(x), np.vander(x, 3, increasing=True)), ((rand(4),), (np.array([0.0, 0.5]),)),
       covers=("multiply",)),
    Op("polyfit", lambda x, y, w: (np.polyfit(x, y, 2), np.polyfit(x, y, 1, w=w)),
       ((knots(6), rand(6), pos(6)), (knots(5), rand(5, 2), pos(5))), covers=("pinv",), modes=NO_CS,
       notes="NumPy's polyfit of complex data conjugates: cs_jvp refuses"),
]
# fmt: on
