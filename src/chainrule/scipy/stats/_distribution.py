"""The machinery shared by chainrule.scipy.stats' distributions.

A distribution states its standardized log density (or mass) and, where it
has one, its distribution function, on z = (x - loc) / scale, as NumPy and
scipy.special code; the methods with SciPy's signatures (shape parameters,
then loc and scale, by position or keyword; broadcasting), the support and
the frozen form are built here once. On plain arrays every method is
SciPy's own (same values, same edge cases); on traced values it is the
formula, differentiable in x and in every continuous parameter.
"""

import numpy as np
import scipy.stats as _st

from ...complex_step import ComplexStepArray
from ...core.trace import Box, raw


def traced(*values):
    """Whether any value takes part in a differentiation (or a complex step)."""
    return any(isinstance(v, (Box, ComplexStepArray)) for v in values)


def where_safe(mask, z, safe):
    """z where mask holds, else a point where the formulas are finite: keeps the
    branch np.where discards from turning derivatives into nan."""
    return np.where(mask, z, safe)


class Distribution:
    """A univariate family: subclasses set `name` (SciPy's), `shapes`, and the
    standardized `_logpdf`, `_cdf`... (see the module docstring)."""

    name = None
    shapes = ()
    support = (-np.inf, np.inf)   # of the standardized variable
    safe = 0.0                    # a point inside the support
    has_scale = True

    def __init__(self):
        self._scipy = getattr(_st, self.name)

    def __repr__(self):
        return f"<chainrule.scipy.stats.{self.name}>"

    # ---- argument handling, as SciPy's ----
    def _parse(self, args, kwds):
        names = self.shapes + (("loc", "scale") if self.has_scale else ("loc",))
        if len(args) > len(names):
            raise TypeError(f"{self.name}: too many positional arguments ({len(args)} > "
                            f"{len(names)}: {', '.join(names)})")
        values = dict(zip(names, args))
        for key, v in kwds.items():
            if key not in names:
                raise TypeError(f"{self.name}: unexpected keyword argument {key!r}")
            if key in values:
                raise TypeError(f"{self.name}: got multiple values for argument {key!r}")
            values[key] = v
        missing = [s for s in self.shapes if s not in values]
        if missing:
            raise TypeError(f"{self.name}: missing required argument(s) {', '.join(missing)}")
        shapes = [values[s] for s in self.shapes]
        return shapes, values.get("loc", 0.0), values.get("scale", 1.0)

    def __call__(self, *args, **kwds):
        """The frozen distribution: `norm(loc, scale).logpdf(x)`."""
        self._parse(args, kwds)  # the same errors as at call time
        return Frozen(self, args, kwds)

    def _inside(self, z, shapes):
        lo, hi = self.support
        return (z >= lo) & (z <= hi)

    # ---- the public methods ----
    def _method(self, which, x, args, kwds):
        if not traced(x, *args, *kwds.values()):
            return getattr(self._scipy, which)(x, *args, **kwds)
        shapes, loc, scale = self._parse(args, kwds)
        z = (x - loc) / scale if self.has_scale else x - loc
        return getattr(self, "_" + which + "_at")(z, shapes, scale)

    def logpdf(self, x, *args, **kwds):
        """log f(x; shapes, loc, scale), as scipy.stats."""
        return self._method("logpdf", x, args, kwds)

    def pdf(self, x, *args, **kwds):
        """f(x; shapes, loc, scale), as scipy.stats."""
        return self._method("pdf", x, args, kwds)

    def cdf(self, x, *args, **kwds):
        """P(X <= x), as scipy.stats."""
        return self._method("cdf", x, args, kwds)

    def logcdf(self, x, *args, **kwds):
        """log P(X <= x), as scipy.stats."""
        return self._method("logcdf", x, args, kwds)

    def sf(self, x, *args, **kwds):
        """P(X > x), as scipy.stats."""
        return self._method("sf", x, args, kwds)

    def logsf(self, x, *args, **kwds):
        """log P(X > x), as scipy.stats."""
        return self._method("logsf", x, args, kwds)

    def ppf(self, q, *args, **kwds):
        """The quantile function (the inverse of cdf), as scipy.stats."""
        if not traced(q, *args, *kwds.values()):
            return self._scipy.ppf(q, *args, **kwds)
        shapes, loc, scale = self._parse(args, kwds)
        return loc + scale * self._ppf(q, *shapes)

    def __getattr__(self, name):
        """Other methods (rvs, mean, fit...) are SciPy's own, on plain values."""
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._scipy, name)

    # ---- standardized pieces, masked to the support ----
    def _logpdf_at(self, z, shapes, scale):
        if self.support == (-np.inf, np.inf):
            return self._logpdf(z, *shapes) - np.log(scale)
        inside = self._inside(z, shapes)
        value = self._logpdf(where_safe(inside, z, self.safe), *shapes)
        return np.where(inside, value, -np.inf) - np.log(scale)

    def _pdf_at(self, z, shapes, scale):
        return np.exp(self._logpdf_at(z, shapes, scale))

    def _masked(self, f, z, shapes, below, above):
        lo, hi = self.support
        if (lo, hi) == (-np.inf, np.inf):
            return f(z, *shapes)
        value = f(where_safe((z >= lo) & (z <= hi), z, self.safe), *shapes)
        return np.where(z < lo, below, np.where(z > hi, above, value))

    def _cdf_at(self, z, shapes, scale):
        return self._masked(self._cdf, z, shapes, 0.0, 1.0)

    def _sf_at(self, z, shapes, scale):
        return self._masked(self._sf, z, shapes, 1.0, 0.0)

    def _logcdf_at(self, z, shapes, scale):
        return self._masked(self._logcdf, z, shapes, -np.inf, 0.0)

    def _logsf_at(self, z, shapes, scale):
        return self._masked(self._logsf, z, shapes, 0.0, -np.inf)

    # defaults from each other
    def _sf(self, z, *shapes):
        return 1.0 - self._cdf(z, *shapes)

    def _logcdf(self, z, *shapes):
        return np.log(self._cdf(z, *shapes))

    def _logsf(self, z, *shapes):
        return np.log(self._sf(z, *shapes))


class Discrete(Distribution):
    """A family on the integers: `_logpmf` of k - loc; pmf, cdf... likewise."""

    has_scale = False
    safe = 0.0

    def logpmf(self, k, *args, **kwds):
        """log P(X = k), as scipy.stats."""
        return self._method("logpmf", k, args, kwds)

    def pmf(self, k, *args, **kwds):
        """P(X = k), as scipy.stats."""
        return self._method("pmf", k, args, kwds)

    def _inside(self, k, shapes):
        lo, hi = self._bounds(*shapes)
        return (k >= lo) & (k <= hi) & (k == np.floor(k))

    def _bounds(self, *shapes):
        return self.support

    def _logpmf_at(self, k, shapes, scale):
        inside = self._inside(k, shapes)
        value = self._logpmf(where_safe(inside, k, self.safe), *shapes)
        return np.where(inside, value, -np.inf)

    def _pmf_at(self, k, shapes, scale):
        return np.exp(self._logpmf_at(k, shapes, scale))

    def _discrete(self, f, k, shapes, below, above):
        lo, hi = self._bounds(*shapes)
        k = np.floor(k)  # piecewise constant in k: its derivative is zero
        value = f(where_safe((k >= lo) & (k <= hi), k, self.safe), *shapes)
        return np.where(k < lo, below, np.where(k > hi, above, value))

    def _cdf_at(self, k, shapes, scale):
        return self._discrete(self._cdf, k, shapes, 0.0, 1.0)

    def _sf_at(self, k, shapes, scale):
        return self._discrete(self._sf, k, shapes, 1.0, 0.0)

    def _logcdf_at(self, k, shapes, scale):
        return np.log(self._cdf_at(k, shapes, scale))

    def _logsf_at(self, k, shapes, scale):
        return np.log(self._sf_at(k, shapes, scale))

    def ppf(self, q, *args, **kwds):
        """The quantile (an integer, piecewise constant: no derivative), SciPy's own."""
        return self._scipy.ppf(*[raw(v) for v in (q, *args)], **{k: raw(v) for k, v in kwds.items()})


class Frozen:
    """A distribution with its parameters fixed: `norm(0.0, 2.0).logpdf(x)`."""

    def __init__(self, dist, args, kwds):
        self.dist, self.args, self.kwds = dist, args, kwds

    def __repr__(self):
        return f"<frozen {self.dist!r}>"

    def __getattr__(self, name):
        if name.startswith("_") or name in ("dist", "args", "kwds"):
            raise AttributeError(name)
        method = getattr(self.dist, name)
        if name in ("logpdf", "pdf", "logpmf", "pmf", "cdf", "logcdf", "sf", "logsf", "ppf"):
            return lambda x: method(x, *self.args, **self.kwds)
        # rvs, mean, ...: SciPy's frozen distribution at the plain values
        frozen = self.dist._scipy(*[raw(v) for v in self.args],
                                  **{k: raw(v) for k, v in self.kwds.items()})
        return getattr(frozen, name)
