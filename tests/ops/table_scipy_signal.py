"""Op table: chainrule.scipy.signal (convolutions in every mode, N-D, and lfilter)."""

from chainrule.scipy import signal as SS

from .spec import Op, rand


def conv_all(f):
    """f in its three modes, one output each."""
    return lambda x, k: tuple(f(x, k, mode) for mode in ("full", "valid", "same"))


def stable(*shape):
    """Feedback coefficients a with a[0] away from 0 and a stable filter."""
    a = 0.3 * rand(*shape)
    a[0] = 1.5 + 0.3 * a[0]
    return a


# fmt: off
OPS = [
    Op("signal.convolve", conv_all(SS.convolve), ((rand(5), rand(3)), (rand(4, 5), rand(2, 3)), (rand(2), rand(4)),
                                                  (rand(2, 3, 2), rand(2, 2, 2)))),
    Op("signal.correlate", conv_all(SS.correlate), ((rand(5), rand(3)), (rand(4, 5), rand(2, 3)), (rand(2), rand(4))),
       covers=("signal.convolve",)),
    Op("signal.fftconvolve", conv_all(SS.fftconvolve), ((rand(6), rand(3)), (rand(3, 4), rand(2, 2))),
       covers=("signal.convolve",)),
    Op("signal.lfilter", lambda b, a, x: (SS.lfilter(b, a, x), SS.lfilter(b, a, x, axis=0)),
       ((rand(3), stable(2), rand(6)), (rand(2), stable(4), rand(5, 3))), rtol=1e-6),
    Op("signal.lfilter_zi", lambda b, a, x, zi: SS.lfilter(b, a, x, zi=zi),
       ((rand(3), stable(2), rand(6), rand(2)), (rand(2), stable(4), rand(2, 2), rand(2, 3))),
       covers=("signal.lfilter",), rtol=1e-6),
]
# fmt: on
