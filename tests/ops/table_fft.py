"""Op table: numpy.fft, complex results as (real, imaginary) parts and
complex inputs as x + i y; plus the FFT losses of issue 11 (a spectral loss
on rfft, a 2-D low-pass filter). The complex step does not apply: cs_jvp
refuses numpy.fft (complex by nature)."""

import numpy as np

from .spec import Op, rand

NO_CS = ("rev", "fwd", "rev_rev", "fwd_rev", "check")


def ri(z):
    return np.real(z), np.imag(z)


def cases(*shapes, nargs=1):
    return tuple(tuple(rand(*s) for _ in range(nargs)) for s in shapes)


def spectral_loss(x, target):
    """Squared distance of the magnitude spectra, weighted towards low frequencies."""
    spec = np.fft.rfft(x, norm="ortho")
    power = np.real(spec) ** 2 + np.imag(spec) ** 2
    w = 1 / (1 + np.arange(np.shape(power)[-1]))
    return np.sum(w * (np.log1p(power) - np.log1p(target)) ** 2)


def lowpass(image, keep=2):
    """A 2-D FFT low-pass filter: zero all but the lowest `keep` frequencies."""
    spectrum = np.fft.fft2(image)
    f0 = np.abs(np.fft.fftfreq(np.shape(image)[0])) <= keep / np.shape(image)[0]
    f1 = np.abs(np.fft.fftfreq(np.shape(image)[1])) <= keep / np.shape(image)[1]
    return np.real(np.fft.ifft2(spectrum * (f0[:, None] & f1[None, :])))


def lowpass_loss(image, target):
    return np.sum((lowpass(image) - target) ** 2)


# fmt: off
OPS = [
    Op("fft", lambda x: ri(np.fft.fft(x)), cases((5,), (2, 4)), covers=("fftn",), modes=NO_CS),
    Op("fft_n_axis_norm", lambda x: ri(np.fft.fft(x, n=7, axis=0, norm="ortho"))
       + ri(np.fft.fft(x, n=2, norm="forward")), cases((5, 3), (4, 2)), covers=("fftn",),
       modes=NO_CS),
    Op("fft_complex", lambda x, y: ri(np.fft.fft(x + 1j * y, n=6)), cases((5,), (3, 4), nargs=2),
       covers=("fftn",), modes=NO_CS),
    Op("ifft_complex", lambda x, y: ri(np.fft.ifft(x + 1j * y, n=3, norm="forward"))
       + ri(np.fft.ifft(x * y + 1j * y, axis=0)), cases((5,), (3, 4), nargs=2), covers=("fftn",),
       modes=NO_CS),
    Op("fft2", lambda x, y: ri(np.fft.fft2(x + 1j * y, s=(3, 5))) + ri(np.fft.ifft2(x, norm="ortho")),
       cases((2, 4), (2, 3, 3), nargs=2), covers=("fftn",), modes=NO_CS),
    Op("fftn", lambda x: ri(np.fft.fftn(x, s=(3, 2), axes=(0, 2))) + ri(np.fft.ifftn(x)),
       cases((2, 3, 4),), covers=("fftn",), modes=NO_CS),
    Op("rfft", lambda x: ri(np.fft.rfft(x)) + ri(np.fft.rfft(x, n=5, norm="ortho"))
       + ri(np.fft.rfft(x, n=8, axis=0, norm="forward")), cases((6,), (3, 4)), covers=("rfft",),
       modes=NO_CS),
    Op("irfft", lambda x, y: (np.fft.irfft(x + 1j * y), np.fft.irfft(x + 1j * y, n=7, norm="ortho"),
                              np.fft.irfft(x * y + 1j * y, n=3, axis=0, norm="forward")),
       cases((4,), (3, 5), nargs=2), covers=("irfft",), modes=NO_CS),
    Op("rfftn", lambda x: ri(np.fft.rfft2(x)) + ri(np.fft.rfftn(x, s=(3, 5), axes=(0, -1))),
       cases((4, 3), (2, 3, 4)), covers=("rfft", "fftn"), modes=NO_CS),
    Op("irfftn", lambda x, y: (np.fft.irfft2(x + 1j * y), np.fft.irfftn(x + 1j * y, s=(3, 5))),
       cases((3, 3), (2, 3, 4), nargs=2), covers=("irfft", "fftn"), modes=NO_CS),
    Op("hfft", lambda x, y: (np.fft.hfft(x + 1j * y), np.fft.hfft(x - 1j * y, n=5, norm="ortho")),
       cases((4,), (2, 3), nargs=2), covers=("irfft", "conjugate"), modes=NO_CS),
    Op("ihfft", lambda x: ri(np.fft.ihfft(x)) + ri(np.fft.ihfft(x, n=7, norm="forward")),
       cases((5,), (2, 6)), covers=("rfft", "conjugate"), modes=NO_CS),
    Op("fftshift", lambda x: (np.fft.fftshift(x), np.fft.ifftshift(x, axes=0),
                              np.fft.ifftshift(np.fft.fftshift(x, axes=(-1,)))),
       cases((5,), (3, 4)), covers=("concatenate",), modes=NO_CS),
    Op("spectral_loss", spectral_loss, ((rand(16), rand(9, low=0.0, high=2.0)),
                                        (rand(3, 8), rand(5, low=0.0, high=2.0))),
       covers=("rfft",), modes=NO_CS, diff_args=(0,)),
    Op("lowpass_filter", lowpass_loss, ((rand(6, 8), rand(6, 8)), (rand(5, 5), rand(5, 5))),
       covers=("fftn",), modes=NO_CS, diff_args=(0,)),
]
# fmt: on
