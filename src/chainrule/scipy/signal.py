"""scipy.signal on traced values: `from chainrule.scipy import signal`.

convolve, correlate and fftconvolve (modes full, valid and same, N-D) are
one primitive, the full convolution, whose VJP is again a full convolution
(with the other input flipped) cut to the input's shape; the other modes
are slices of the full result, and correlate is convolve with in2 flipped
(and conjugated when complex, as SciPy does). lfilter is differentiable in
b, a, x and zi: the numerator part is a causal convolution, the feedback part
one primitive (an all-pole filter, SciPy's own lfilter([1], a, v)) whose VJP
is the same filter run backwards in time. Any other name is scipy.signal's
own.

Example:
    >>> import chainrule as cr
    >>> cr.grad(lambda x: np.sum(convolve(x, np.ones(2))))(np.ones(3))
    array([2., 2., 2.])
"""

import numpy as np
import scipy.signal as _ss

from ..complex_step import ComplexStepArray
from ..core.errors import UnsupportedOptionError
from ..core.primitive import Primitive, multilinear
from ..core.trace import Box, raw
from ._complex_step import continued

_MODES = ("full", "valid", "same")


def _traced(*values):
    return any(isinstance(v, (Box, ComplexStepArray)) for v in values)


def _flip(x):
    return x[(slice(None, None, -1),) * np.ndim(x)]


def _cut(x, starts, lengths):
    return x[tuple(slice(s, s + n) for s, n in zip(starts, lengths))]


# ---- the full N-D convolution: out[n] = sum_k in1[k] in2[n - k] ----
# g_in1 = (g * flip(in2))[n2 - 1 : n2 - 1 + n1] per axis (the 'valid' part), likewise in2.
def _convolve_vjp(g, res, params, which):
    (in1, in2), _ = res
    out = []
    for i in which:
        mine, other = (in1, in2) if i == 0 else (in2, in1)
        full = convolve_p(g, _flip(other), **params)
        out.append(_cut(full, [n - 1 for n in np.shape(other)], np.shape(mine)))
    return out


convolve_p = continued(multilinear(
    "signal.convolve", lambda in1, in2, method: _ss.convolve(in1, in2, "full", method),
    _convolve_vjp))
convolve_p.output_shapes = lambda specs, params: (
    [(tuple(a + b - 1 for a, b in zip(specs[0][0], specs[1][0])),
      np.result_type(specs[0][1], specs[1][1]))], None)


def _mode_of_full(full, s1, s2, mode):
    """The `mode` part of the full convolution of arrays shaped s1 and s2 (as SciPy)."""
    if mode == "full":
        return full
    if mode == "same":
        return _cut(full, [(a + b - 1 - a) // 2 for a, b in zip(s1, s2)], s1)
    if not (all(a >= b for a, b in zip(s1, s2)) or all(b >= a for a, b in zip(s1, s2))):
        raise ValueError("For 'valid' mode, one must be at least as large as the other in "
                         "every dimension")
    return _cut(full, [min(a, b) - 1 for a, b in zip(s1, s2)],
                [abs(a - b) + 1 for a, b in zip(s1, s2)])


def _convolve(in1, in2, mode, method):
    if mode not in _MODES:
        raise ValueError(f"acceptable mode flags are 'valid', 'same', or 'full', not {mode!r}")
    if np.ndim(in1) != np.ndim(in2):
        raise ValueError("in1 and in2 should have the same dimensionality")
    if np.ndim(in1) == 0:
        return in1 * in2
    full = convolve_p(in1, in2, method=method)
    return _mode_of_full(full, np.shape(in1), np.shape(in2), mode)


def convolve(in1, in2, mode="full", method="auto"):
    """The N-D convolution of in1 and in2 (scipy.signal.convolve), differentiable in both.

    Example:
        >>> import chainrule as cr
        >>> cr.grad(lambda k: np.sum(convolve(np.arange(4.0), k, "valid")))(np.ones(2))
        array([6., 3.])
    """
    if not _traced(in1, in2):
        return _ss.convolve(in1, in2, mode, method)
    return _convolve(in1, in2, mode, method)


def _reverse_conj(x):
    x = _flip(x)
    return np.conj(x) if np.result_type(raw(x)).kind == "c" and not isinstance(x, ComplexStepArray) else x


def correlate(in1, in2, mode="full", method="auto"):
    """The N-D cross-correlation (scipy.signal.correlate): convolve(in1, flip(conj(in2))).

    Example:
        >>> import chainrule as cr
        >>> cr.grad(lambda x: correlate(x, np.array([1.0, 2.0]), "valid")[0])(np.ones(2))
        array([1., 2.])
    """
    if not _traced(in1, in2):
        return _ss.correlate(in1, in2, mode, method)
    return _convolve(in1, _reverse_conj(in2), mode, method)


def fftconvolve(in1, in2, mode="full", axes=None):
    """The N-D convolution computed by FFT (scipy.signal.fftconvolve).

    Example:
        >>> import chainrule as cr
        >>> cr.grad(lambda x: np.sum(fftconvolve(x, np.ones(2))))(np.ones(3))
        array([2., 2., 2.])
    """
    if not _traced(in1, in2):
        return _ss.fftconvolve(in1, in2, mode, axes)
    if axes is not None:
        raise UnsupportedOptionError("chainrule.scipy.signal.fftconvolve(axes=...) on traced "
                                     "values: only axes=None (every axis) is differentiated")
    return _convolve(in1, in2, mode, "fft")


# ---- lfilter ----
def _shift_right(y, k, length):
    """y along its last axis delayed by k samples, cut or zero-padded to length."""
    n = np.shape(y)[-1]
    head = np.zeros(np.shape(y)[:-1] + (min(k, length),))
    body = y[..., :max(0, min(n, length - k))]
    tail = np.zeros(np.shape(y)[:-1] + (max(0, length - k - np.shape(body)[-1]),))
    return np.concatenate([head, body, tail], axis=-1)


def _causal(c, y, length):
    """sum_k c[k] y[n - k] for n < length, along y's last axis."""
    total = 0.0
    for k in range(np.shape(c)[0]):
        total = total + c[k] * _shift_right(y, k, length)
    return total


def _lag_products(h, y, order):
    """[sum_n h[n] y[n - k] for k < order], summed over every axis."""
    n = np.shape(y)[-1]
    return np.stack([np.sum(h[..., k:] * y[..., :n - k]) if k < n else np.zeros(())
                     for k in range(order)])


# y = allpole(a, v) solves sum_k a_k y[n - k] = v[n] along the last axis.
# dy = allpole(a, dv - sum_k da_k y[n - k]);  gv = flip(allpole(a, flip(g))) (the
# transposed recursion runs backwards in time);  ga_k = -sum_n gv[n] y[n - k].
def _allpole_jvp(tangents, args, y, params):
    a, _ = args
    ta, tv = tangents
    rhs = np.zeros(np.shape(y)) if tv is None else tv
    if ta is not None:
        rhs = rhs - _causal(ta, y, np.shape(y)[-1])
    return allpole_p(a, rhs)


def _allpole_vjp(g, res, params, which):
    a, y = res
    gv = np.flip(allpole_p(a, np.flip(g, -1)), -1)
    return [-_lag_products(gv, y, np.shape(a)[0]) if i == 0 else gv for i in which]


allpole_p = continued(Primitive(
    "signal.lfilter", lambda a, v: _ss.lfilter(np.ones(1), a, v, axis=-1),
    _allpole_jvp, _allpole_vjp, save=lambda args, ans, params: (args[0], ans)))
allpole_p.output_shapes = lambda specs, params: (
    [(specs[1][0], np.result_type(specs[0][1], specs[1][1], np.float64))], None)


def _padded(c, k):
    return np.concatenate([c, np.zeros(k - np.shape(c)[0])]) if np.shape(c)[0] < k else c


def lfilter(b, a, x, axis=-1, zi=None):
    """Filter x along axis with the rational transfer function b(z) / a(z)
    (scipy.signal.lfilter); differentiable in b, a, x and zi. Returns y, or
    (y, zf) when zi is given.

    Example:
        >>> import chainrule as cr
        >>> # a0 y[n] = x[n] - a1 y[n - 1], y = [1, 1.5, 1.75]: dy[2]/da1 = -y[1] - a1 dy[1]/da1
        >>> cr.grad(lambda a: lfilter([1.0], a, np.ones(3))[2])(np.array([1.0, -0.5]))
        array([-2.75, -2.  ])
    """
    if not _traced(b, a, x, zi):
        return _ss.lfilter(b, a, x, axis) if zi is None else _ss.lfilter(b, a, x, axis, zi)
    b, a = np.asarray(b) if not _traced(b) else b, np.asarray(a) if not _traced(a) else a
    if np.ndim(a) != 1 or np.ndim(b) != 1:
        raise ValueError("lfilter: b and a must be one-dimensional")
    order = max(np.shape(a)[0], np.shape(b)[0])
    bn, an = _padded(b / a[0], order), _padded(a / a[0], order)
    x = np.moveaxis(x, axis, -1)
    n = np.shape(x)[-1]
    v = _causal(bn, x, n)
    if zi is not None:
        zi = np.moveaxis(zi if _traced(zi) else np.asarray(zi, float), axis, -1)
        zi = np.broadcast_to(zi, np.shape(x)[:-1] + (order - 1,))
        zi_pad = np.concatenate([zi, np.zeros(np.shape(x)[:-1] + (n,))], axis=-1)
        v = v + zi_pad[..., :n]
    y = allpole_p(an, v)
    if zi is None:
        return np.moveaxis(y, -1, axis)
    length = n + order - 1
    zf = (_causal(bn, x, length) - _causal(an, y, length) + zi_pad)[..., n:]
    return np.moveaxis(y, -1, axis), np.moveaxis(zf, -1, axis)


def __getattr__(name):
    """Every other name is scipy.signal's own."""
    return getattr(_ss, name)
