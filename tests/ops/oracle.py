"""Numerical oracles for derivative tests: high-order central differences."""

import numpy as np

# Sixth-order central difference weights for f'(0) from f(+-h), f(+-2h), f(+-3h).
_STEPS = (1, 2, 3)
_WEIGHTS = (45 / 60, -9 / 60, 1 / 60)


def directional_derivative(fun, args, directions, h=1e-4):
    """d/de fun(args + e * directions) at e = 0, to ~1e-11 relative accuracy.

    The step is small (3h at most) so that kinks and ties of nonsmooth
    functions are rarely crossed; rounding error is ~eps/h.

    fun returns an array (or a tuple/list of arrays, which are concatenated).
    """
    def at(e):
        out = fun(*[a + e * d if d is not None else a for a, d in zip(args, directions)])
        return _flat(out)

    total = 0.0
    for k, w in zip(_STEPS, _WEIGHTS):
        total = total + w * (at(k * h) - at(-k * h))
    return total / h


def _flat(out):
    """One flat array of out's entries: complex if any entry is (C as R^2:
    with e real, (f(x + e d) - f(x - e d)) / 2e is the real-linear J d)."""
    parts = out if isinstance(out, (tuple, list)) else [out]
    dtype = complex if any(np.iscomplexobj(o) for o in parts) else float
    return np.concatenate([np.ravel(np.asarray(o, dtype=dtype)) for o in parts])
