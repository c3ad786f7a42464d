"""The numerical oracles: u.(J v) by complex step and by Richardson-extrapolated
central differences, for functions chainrule may not be able to trace."""

import warnings

import numpy as np

from ..core.trace import raw
from ..core.tree import tree_flatten
from .estimates import _Est, _pair, _Unusable


def _complex_step(f, leaves, v, u):
    try:
        from ..complex_step import cs_jvp  # optional: imported when first needed
    except ImportError:
        raise _Unusable("chainrule.complex_step is not available") from None
    if any(np.result_type(raw(x)).kind == "c" for x in leaves):
        raise _Unusable("the arguments are complex already")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", np.exceptions.ComplexWarning)
            with np.errstate(all="ignore"):
                out, t = cs_jvp(f, tuple(leaves), tuple(v))
    except Exception as e:  # noqa: BLE001  (whatever the reason: no opinion)
        raise _Unusable(f"it cannot run fun ({type(e).__name__}: {str(e).split('; ')[0]})") from None
    # the step h = 1e-20 leaves an O(h**2) error, visible only where the
    # derivative is (near) zero, e.g. prod(x) at x = 0; allow 1e-30 of fun's size
    size = _pair(u, tree_flatten(out)[0])[1]
    return _Est(*_pair(u, tree_flatten(t)[0]), error=1e-30 * (1.0 + size), kind="cs")


def _central_difference(f, leaves, v, u):
    """u.(J v) from u.f(x + s v) at s = +-h, +-h/2, +-h/4, extrapolated twice
    (Richardson); its error estimate is the last extrapolation step plus the
    rounding of the differences."""
    size = max([float(np.max(np.abs(raw(x)), initial=0.0)) for x in leaves] + [1.0])
    vmax = max([float(np.max(np.abs(d), initial=0.0)) for d in v] + [1e-300])
    h = 1e-3 * size / vmax
    diffs, rounding = [], 0.0
    with np.errstate(all="ignore"):
        for k in range(3):
            s = h / 2**k
            (p, tp), (m, tm) = (_pair(u, tree_flatten(f(*[x + e * d for x, d in zip(leaves, v)]))[0])
                                for e in (s, -s))
            diffs.append((p - m) / (2 * s))
            rounding = max(rounding, 4 * np.finfo(float).eps * (tp + tm) / (2 * s))
        once = [(4 * diffs[k + 1] - diffs[k]) / 3 for k in range(2)]
        value = (16 * once[1] - once[0]) / 15
    if not np.isfinite(value):
        raise _Unusable("central differences are not finite (the steps leave fun's domain?)")
    return _Est(value, abs(value), 10 * abs(value - once[1]) + rounding, kind="fd")
