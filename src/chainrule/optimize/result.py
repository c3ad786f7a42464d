"""The record an optimiser returns: SciPy's `OptimizeResult` when SciPy is
installed, else a dict with attribute access that behaves the same way.

Example:
    >>> r = result(x=1.0, success=True)
    >>> r.x, r["success"]
    (1.0, True)
"""


class OptimizeResult(dict):
    """A dict whose keys are also attributes (SciPy's record, without SciPy)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    __setattr__ = dict.__setitem__
    __delattr__ = dict.__delitem__

    def __dir__(self):
        return list(self.keys())


def result(**fields):
    """An OptimizeResult (SciPy's class when available) holding `fields`."""
    try:
        from scipy.optimize import OptimizeResult as record
    except ImportError:
        record = OptimizeResult
    return record(**fields)
