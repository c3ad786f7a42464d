"""numpy.fft: three linear primitives and compositions of them.

* `fftn` (forward or inverse, any axes, lengths s, any norm) is complex
  linear; the DFT matrix is symmetric, so its transpose is the same
  transform of the cotangent, cropped or zero-padded back to the input's
  lengths (the transpose of padding or cropping it to s). Transposes are
  under the pairing Re(sum(a * b)): no conjugate (JAX's convention).
* `rfft` (one axis) is the full FFT of a real signal, keeping the first
  n//2 + 1 entries: its transpose is the real part of the full FFT of the
  cotangent zero-padded to n (the input is real), computed as an irfft of
  its conjugate with the single-frequency bins doubled.
* `irfft` (one axis) is only real linear (it reads a Hermitian spectrum: the
  imaginary parts of the first and, for even n, the middle entry are
  ignored). Its transpose is w * conj(rfft(g)) times the norm's scale, where
  w is 2 for the entries that stand for a conjugate pair and 1 for those two.

fft, ifft, fft2, ifft2, ifftn are `fftn`; rfft2/rfftn are `rfft` on the last
axis then `fftn` on the others, irfft2/irfftn the reverse; hfft and ihfft are
irfft and rfft of conjugates (as NumPy computes them); fftshift and
ifftshift are rolls. Axes are stored negative, so a leading batch axis
(vmap) leaves the parameters unchanged.

Example:
    >>> import chainrule as cr
    >>> cr.grad(lambda x: np.sum(np.real(np.fft.fft(x))))(np.ones(4))  # n x[0]
    array([4., 0., 0., 0.])
"""

import numpy as np

from ..arraylibs import asarray
from ..core.errors import UnsupportedOptionError
from ..core.primitive import implements, linear
from .shape import along, dtype_of

_NORMS = (None, "backward", "ortho", "forward")


def _norm(norm):
    if norm not in _NORMS:
        raise ValueError(f'Invalid norm value {norm}; should be "backward", "ortho" or "forward".')
    return norm or "backward"


def _neg_axes(axes, ndim):
    return tuple(a - ndim if a >= 0 else a for a in (int(a) for a in axes))


def _resize(g, axes, lengths):
    """g cropped or zero-padded (at the end) to `lengths` along `axes`."""
    for axis, n in zip(axes, lengths):
        have = np.shape(g)[axis]
        if have > n:
            g = g[along(np.ndim(g) + axis, slice(0, n))]
        elif have < n:
            widths = [(0, 0)] * np.ndim(g)
            widths[axis] = (0, n - have)
            g = np.pad(g, widths)
    return g


def _is_real(x):
    return dtype_of(x).kind != "c"


# ---- fftn: complex linear, symmetric ----
def _fftn_impl(x, s, axes, norm, inverse, real):
    f = np.fft.ifftn if inverse else np.fft.fftn
    return f(x, s=s, axes=axes, norm=norm)


def _fftn_transpose(g, shapes, params, which):
    axes = params["axes"]
    ct = fftn_p(g, **dict(params, s=tuple(np.shape(g)[a] for a in axes), real=False))
    ct = _resize(ct, axes, [shapes[0][a] for a in axes])
    return (np.real(ct) if params["real"] else ct,)


fftn_p = linear("fftn", _fftn_impl, _fftn_transpose)


# ---- rfft along one axis ----
def _rfft_impl(x, n, axis, norm):
    return np.fft.rfft(x, n=n, axis=axis, norm=norm)


def _rfft_transpose(g, shapes, params, which):
    # Re(F^T E g) for E the zero-padding of the half spectrum to n: an irfft
    # of conj(g), with the bins that stand for one frequency (0, and n/2 for
    # even n) doubled to undo irfft's pairing; half the work of a full FFT.
    axis, n, norm = params["axis"], params["n"], params["norm"]
    scale = {"backward": 1.0, "ortho": 1 / np.sqrt(n), "forward": 1 / n}[norm]
    m = n // 2 + 1
    w = np.ones(m)
    w[0] = 2.0
    if n % 2 == 0:
        w[-1] = 2.0
    w = np.reshape(w * (scale / 2), (m,) + (1,) * (-axis - 1))
    ct = irfft_p(np.conj(g) * asarray(w, like=g), n=n, axis=axis, norm="forward")
    return (_resize(ct, (axis,), (shapes[0][axis],)),)


rfft_p = linear("rfft", _rfft_impl, _rfft_transpose)


# ---- irfft along one axis: real linear in a Hermitian spectrum ----
def _irfft_impl(c, n, axis, norm):
    return np.fft.irfft(c, n=n, axis=axis, norm=norm)


def _irfft_transpose(g, shapes, params, which):
    axis, n, norm = params["axis"], params["n"], params["norm"]
    scale = {"backward": 1 / n, "ortho": 1 / np.sqrt(n), "forward": 1.0}[norm]
    m = n // 2 + 1
    w = np.full(m, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    w = np.reshape(w, (m,) + (1,) * (-axis - 1))
    spectrum = rfft_p(g, n=n, axis=axis, norm="backward")
    ct = np.conj(spectrum) * asarray(w * scale, like=g)
    return (_resize(ct, (axis,), (shapes[0][axis],)),)


irfft_p = linear("irfft", _irfft_impl, _irfft_transpose)


def _same_axes_rule(prim):
    """vmap: axes are negative, so the batch axis in front changes nothing."""
    return lambda vals, batched, params: prim(*vals, **params)


for _p in (fftn_p, rfft_p, irfft_p):
    _p.batch = _same_axes_rule(_p)


# ---- the NumPy functions ----
def _axes_and_s(x, s, axes):
    nd = np.ndim(x)
    if axes is None:
        axes = tuple(range(nd)) if s is None else tuple(range(nd - len(s), nd))
    axes = _neg_axes(axes, nd)
    if s is None:
        s = tuple(np.shape(x)[a] for a in axes)
    if len(s) != len(axes):
        raise ValueError("Shape and axes have different lengths.")
    s = tuple(np.shape(x)[a] if k == -1 else int(k) for a, k in zip(axes, s))
    return s, axes


def _fftn(x, s, axes, norm, inverse):
    if len(set(axes)) != len(axes):
        # NumPy transforms a repeated axis twice: do the same, one at a time
        for k, a in zip(s, axes):
            x = _fftn(x, (k,), (a,), norm, inverse)
        return x
    return fftn_p(x, s=tuple(s), axes=tuple(axes), norm=_norm(norm), inverse=inverse,
                  real=_is_real(x))


def _one(x, n, axis):
    axis = _neg_axes((axis,), np.ndim(x))[0]
    return (np.shape(x)[axis] if n is None else int(n)), axis


def _checked(n):
    if n < 1:
        raise ValueError(f"Invalid number of FFT data points ({n}) specified.")
    return n


@implements(np.fft.fft)
def fft(a, n=None, axis=-1, norm=None, out=None):
    """np.fft.fft: one complex-linear transform (see the module docstring)."""
    _no_out(out)
    n, axis = _one(a, n, axis)
    return _fftn(a, (_checked(n),), (axis,), norm, False)


@implements(np.fft.ifft)
def ifft(a, n=None, axis=-1, norm=None, out=None):
    """np.fft.ifft."""
    _no_out(out)
    n, axis = _one(a, n, axis)
    return _fftn(a, (_checked(n),), (axis,), norm, True)


@implements(np.fft.fftn)
def fftn(a, s=None, axes=None, norm=None, out=None):
    """np.fft.fftn."""
    _no_out(out)
    s, axes = _axes_and_s(a, s, axes)
    return _fftn(a, s, axes, norm, False)


@implements(np.fft.ifftn)
def ifftn(a, s=None, axes=None, norm=None, out=None):
    """np.fft.ifftn."""
    _no_out(out)
    s, axes = _axes_and_s(a, s, axes)
    return _fftn(a, s, axes, norm, True)


@implements(np.fft.fft2)
def fft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """np.fft.fft2."""
    return fftn(a, s, axes, norm, out)


@implements(np.fft.ifft2)
def ifft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """np.fft.ifft2."""
    return ifftn(a, s, axes, norm, out)


def _real_input(a, name):
    if not _is_real(a):
        raise UnsupportedOptionError(
            f"np.fft.{name} takes real input; this traced value is complex "
            "(NumPy would drop its imaginary part). Pass np.real(x) explicitly.")


@implements(np.fft.rfft)
def rfft(a, n=None, axis=-1, norm=None, out=None):
    """np.fft.rfft of a real signal."""
    _no_out(out)
    _real_input(a, "rfft")
    n, axis = _one(a, n, axis)
    return rfft_p(a, n=_checked(n), axis=axis, norm=_norm(norm))


@implements(np.fft.irfft)
def irfft(a, n=None, axis=-1, norm=None, out=None):
    """np.fft.irfft: the real signal of a Hermitian half spectrum."""
    _no_out(out)
    axis = _neg_axes((axis,), np.ndim(a))[0]
    n = 2 * (np.shape(a)[axis] - 1) if n is None else int(n)
    return irfft_p(a, n=_checked(n), axis=axis, norm=_norm(norm))


@implements(np.fft.rfftn)
def rfftn(a, s=None, axes=None, norm=None, out=None):
    """np.fft.rfftn: rfft on the last axis, then fftn on the others."""
    _no_out(out)
    _real_input(a, "rfftn")
    s, axes = _axes_and_s(a, s, axes)
    a = rfft_p(a, n=_checked(s[-1]), axis=axes[-1], norm=_norm(norm))
    return _fftn(a, s[:-1], axes[:-1], norm, False) if len(axes) > 1 else a


@implements(np.fft.rfft2)
def rfft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """np.fft.rfft2."""
    return rfftn(a, s, axes, norm, out)


@implements(np.fft.irfftn)
def irfftn(a, s=None, axes=None, norm=None, out=None):
    """np.fft.irfftn: ifftn on all axes but the last, then irfft on it."""
    _no_out(out)
    nd = np.ndim(a)
    if axes is None:
        axes = tuple(range(nd)) if s is None else tuple(range(nd - len(s), nd))
    axes = _neg_axes(axes, nd)
    if s is None:
        s = [np.shape(a)[ax] for ax in axes]
        s[-1] = 2 * (s[-1] - 1)
    s = tuple(int(k) for k in s)
    if len(axes) > 1:
        a = _fftn(a, s[:-1], axes[:-1], norm, True)
    return irfft_p(a, n=_checked(s[-1]), axis=axes[-1], norm=_norm(norm))


@implements(np.fft.irfft2)
def irfft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """np.fft.irfft2."""
    return irfftn(a, s, axes, norm, out)


_SWAP = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


@implements(np.fft.hfft)
def hfft(a, n=None, axis=-1, norm=None, out=None):
    """np.fft.hfft: irfft of the conjugate, with the norm's direction swapped."""
    _no_out(out)
    return irfft(np.conj(a), n, axis, _SWAP[_norm(norm)])


@implements(np.fft.ihfft)
def ihfft(a, n=None, axis=-1, norm=None, out=None):
    """np.fft.ihfft: the conjugate of rfft, with the norm's direction swapped."""
    _no_out(out)
    return np.conj(rfft(a, n, axis, _SWAP[_norm(norm)]))


@implements(np.fft.fftshift)
def fftshift(x, axes=None):
    """np.fft.fftshift: a roll by half of each axis."""
    axes = tuple(range(np.ndim(x))) if axes is None else np.atleast_1d(axes).tolist()
    return np.roll(x, [np.shape(x)[a] // 2 for a in axes], axes)


@implements(np.fft.ifftshift)
def ifftshift(x, axes=None):
    """np.fft.ifftshift: the roll undoing fftshift."""
    axes = tuple(range(np.ndim(x))) if axes is None else np.atleast_1d(axes).tolist()
    return np.roll(x, [-(np.shape(x)[a] // 2) for a in axes], axes)


def _no_out(out):
    if out is not None:
        from ..core.errors import MutationError
        raise MutationError("np.fft.*(..., out=...) would write in place into a traced result")
