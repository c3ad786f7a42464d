"""Forward derivatives by the complex step: f(x + i h v) = f(x) + i h J v + O(h**2).

`cs_jvp` calls fun once at complex arguments. Plain NumPy complex arithmetic
is the analytic continuation of real arithmetic, except where NumPy's
complex version of an operation is not: `abs` is the modulus, `max`, `sort`
and comparisons order by (real, imag), `conj` and `vdot` conjugate, `real`
drops the perturbation. So fun receives a `ComplexStepArray`, a complex
ndarray subclass whose `__array_ufunc__`/`__array_function__` run those
operations as the continuation of their real versions (abs(x) =
x * sign(re x), maximum picks by real part, conj is the identity, ...) and
defer to NumPy otherwise. Being an ndarray, it still reaches compiled code
as a plain complex array.

A few matrix functions (cholesky, eigh, slogdet, arctan2) are continued to
first order in the imaginary part: f(a + ib) = f(a) + i f'(a) b, which is
exact up to O(b**2), i.e. O(h**2), the same order as the complex step.

Example:
    >>> import numpy as np
    >>> out, t = cs_jvp(lambda x: np.sum(np.abs(x) ** 3), (np.array([-1.0, 2.0]),), (np.ones(2),))
    >>> float(out), round(float(t), 12)  # d/dx |x|^3 = 3 x |x|
    (9.0, 9.0)
"""

import warnings

import numpy as np

from .core.errors import ChainruleError, NonDifferentiableInputError
from .core.tree import tree_flatten, tree_unflatten

try:
    from numpy._core.umath import clip as _clip_ufunc
except ImportError:  # NumPy 1.x
    from numpy.core.umath import clip as _clip_ufunc

_ComplexWarning = getattr(np, "exceptions", np).ComplexWarning
MAX_H = 1e-8


class ComplexStepError(ChainruleError, ValueError):
    """The complex step cannot give the derivative of this function correctly."""


_NESTED = (
    "complex step cannot be nested: a second perturbation i*h2 on top of i*h1 "
    "puts -h1*h2 into the real part and mixes both into the imaginary part. "
    "For second derivatives use cr.hvp, or cs_jvp of cr.grad(f)."
)


def cs_jvp(fun, primals, tangents, h=1e-20):
    """Jacobian-vector product by the complex step: `(out, tangent_out)`.

    fun is evaluated once at `primals + i*h*tangents` (as ComplexStepArrays,
    so abs, max, sort, comparisons, conj... act as on real numbers);
    out is the real part, tangent_out the imaginary part over h. Complex
    arithmetic inside fun (a complex constant, a complex-valued result) is
    rejected as it happens; only when the complex call fails is fun run again
    on the real primals, to tell a refusal of complex input from an ordinary
    error. primals and tangents are tuples of equal length of float64 values
    or pytrees of them (other floats are computed in float64).

    Example:
        >>> import numpy as np
        >>> out, t = cs_jvp(np.sin, (0.0,), (2.0,))
        >>> float(out), float(t)
        (0.0, 2.0)
    """
    h = float(h)
    if not 0 < h <= MAX_H:
        raise ComplexStepError(
            f"h={h!r} is not a usable complex step: it must be positive and at most "
            f"{MAX_H:g}, since the result has an O(h**2) error and branches (abs, max, "
            "sort) see the perturbation; the default 1e-20 is exact to rounding."
        )
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError("cs_jvp needs as many tangents as primals")
    p_leaves, spec = tree_flatten(primals)
    t_leaves, t_spec = tree_flatten(tangents)
    if spec != t_spec:
        raise ValueError("the tangents must have the structure of the primals")
    p_leaves = [_real_input(p, k) for k, p in enumerate(p_leaves)]
    t_leaves = [np.asarray(t, np.float64) for t in t_leaves]
    for p, t in zip(p_leaves, t_leaves):
        if np.shape(t) != np.shape(p):
            raise ValueError(f"tangent of shape {np.shape(t)} for a primal of shape {np.shape(p)}")

    # Scale the direction to unit size so the step is h whatever the
    # tangent's magnitude (the result is linear in the tangent).
    scale = max((float(np.max(np.abs(t))) for t in t_leaves if t.size), default=0.0)
    scale = scale if 0 < scale < np.inf else 1.0
    tag = object()
    args = [_wrap(p + 1j * (h * (t / scale)), tag) for p, t in zip(p_leaves, t_leaves)]
    out = _call_complex(fun, tree_unflatten(spec, args), tree_unflatten(spec, p_leaves))
    leaves, out_spec = tree_flatten(out)
    values, tans = [], []
    for y in leaves:
        y = _plain(y)
        values.append(_scalar_or_array(np.real(y)))
        tans.append(_scalar_or_array(np.imag(y) * (scale / h)))
    return tree_unflatten(out_spec, values), tree_unflatten(out_spec, tans)


def _real_input(p, k):
    if isinstance(p, ComplexStepArray):
        raise ComplexStepError(_NESTED)
    p = np.asarray(p)
    if p.dtype.kind == "c":
        raise ComplexStepError(
            f"primal leaf {k} is complex ({p.dtype}); the complex step needs real "
            "inputs (use cr.jvp for complex ones)."
        )
    if p.dtype.kind != "f":
        raise NonDifferentiableInputError(
            f"primal leaf {k} has dtype {p.dtype}; only floating-point values can be "
            "differentiated. Pass it as floats (e.g. x.astype(float))."
        )
    return p.astype(np.float64)


def _check_real_valued(out):
    for k, y in enumerate(tree_flatten(out)[0]):
        if np.iscomplexobj(y):
            raise ComplexStepError(
                f"fun returns complex values (output leaf {k}) for real input, so its "
                "imaginary part cannot be told apart from the complex-step derivative; "
                "use cr.jvp."
            )


def _call_complex(fun, args, real_args):
    """fun(*args), with a refusal of complex input turned into a clear error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", _ComplexWarning)
            out = fun(*args)
    except ChainruleError:
        raise
    except (TypeError, _ComplexWarning) as err:
        _check_real_valued(fun(*real_args))  # an ordinary error re-raises here
        raise ComplexStepError(
            f"fun ran on real input but failed on the complex-step input "
            f"({type(err).__name__}: {err}); it does not accept complex values "
            "(e.g. a float() cast, math.* functions, writing into a float array), "
            "so use cr.jvp instead."
        ) from err
    for y in tree_flatten(out)[0]:
        if np.iscomplexobj(y) and not isinstance(y, ComplexStepArray):
            _check_real_valued(fun(*real_args))  # complex on real input too?
    return out


def _scalar_or_array(x):
    x = np.asarray(x, np.float64)
    return x[()] if x.ndim == 0 else x


# --------------------------------------------------------------------------
# The array type: NumPy's complex arithmetic, with the non-analytic
# operations replaced by the continuation of their real versions.

class ComplexStepArray(np.ndarray):
    """A complex array x + i*h*v standing for the real value x moved along v.

    `_tag` names the cs_jvp call it belongs to, so that two complex steps
    meeting (nesting) raise instead of mixing their perturbations.
    """

    _tag = None
    # a real value in complex clothing: grad treats its complex output as the
    # continuation of a real one (holomorphic), without holomorphic=True
    _complex_step = True

    def __array_finalize__(self, obj):
        self._tag = getattr(obj, "_tag", None)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.pop("out", None) or ()
        if _foreign(inputs + out):
            return NotImplemented
        tag = _common_tag(inputs + out)
        args = [_plain(a) for a in inputs]
        _refuse_genuine_complex(ufunc.__name__, inputs, args)
        if ufunc.__name__ in REFUSED_UFUNC_NAMES:
            raise ComplexStepError(
                f"{ufunc.__name__} has no complex-step form in chainrule: its complex version "
                "is not the continuation of the real one. Use cr.jvp."
            )
        if ufunc in REAL_PART_UFUNCS:
            result = getattr(ufunc, method)(*[np.real(a) for a in args], **kwargs)
        elif ufunc in UFUNC_RULES or (method == "reduce" and ufunc in REDUCE_RULES):
            if method == "reduce" and ufunc in REDUCE_RULES:
                result = _reduce_by_real(REDUCE_RULES[ufunc], *args, **kwargs)
            elif method != "__call__" or (kwargs and ufunc not in GUFUNC_RULES):
                raise ComplexStepError(
                    f"numpy.{ufunc.__name__}.{method} with {sorted(kwargs)} has no "
                    "complex-step form in chainrule; use cr.jvp."
                )
            else:
                result = UFUNC_RULES[ufunc](*args, **kwargs)
        else:
            plain_out = tuple(_plain(o) for o in out)
            result = getattr(ufunc, method)(*args, **kwargs, **({"out": plain_out} if out else {}))
            return _wrap(out[0] if len(out) == 1 else out, tag) if out else _wrap(result, tag)
        if out:
            for o, r in zip(out, result if ufunc.nout > 1 else (result,)):
                _plain(o)[...] = r
            return out[0] if len(out) == 1 else out
        return _wrap(result, tag)

    def __array_function__(self, func, types, args, kwargs):
        if not all(issubclass(t, np.ndarray) for t in types):
            return NotImplemented
        tag = _common_tag(args + tuple(kwargs.values()))
        name = f"{func.__module__}.{func.__name__}".replace("._core", "").replace("numpy.lib._", "numpy.")
        if func in REFUSED or func.__module__ == "numpy.fft":
            raise ComplexStepError(
                f"{name} has no complex-step form in chainrule: its complex version is "
                "not the continuation of the real one (it conjugates, or the input is "
                "complex by nature). Use cr.jvp."
            )
        rule = FUNCTION_RULES.get(func)
        if rule is None:
            return _wrap(super().__array_function__(func, types, args, kwargs), tag)
        plain_args = [_plain(a) for a in args]
        return _wrap(rule(*plain_args, **{k: _plain(v) for k, v in kwargs.items()}), tag)

    # ---- what a real array would report ----
    @property
    def real(self):
        return self

    @property
    def imag(self):
        return np.zeros(self.shape)

    def __getitem__(self, index):
        return _wrap(super().__getitem__(index), self._tag)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self):
        return bool(self.view(np.ndarray).real)

    def item(self, *args):
        raise ComplexStepError(
            ".item()/.tolist() would hand fun plain Python complex numbers, on which "
            "abs and comparisons are not the real ones; keep the value as an array."
        )

    tolist = item

    def dot(self, b, out=None):
        return np.dot(self, b, out=out)

    def trace(self, offset=0, axis1=0, axis2=1, dtype=None, out=None):
        # the C method returns a plain complex scalar for a 2-d array
        return _wrap(np.asarray(super().trace(offset, axis1, axis2, dtype, out)), self._tag)

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        """A float dtype becomes the complex one of its precision (the step is
        kept, rounded as the value is); integers and bools cast the real part."""
        dtype = np.dtype(dtype)
        if dtype.kind in "fc" and dtype != np.float16:
            target = np.result_type(dtype, np.complex64)
            return _wrap(self.view(np.ndarray).astype(target, order, casting, True, copy), self._tag)
        if dtype.kind in "iub":
            return self.view(np.ndarray).real.astype(dtype, order, casting, True, copy)
        raise ComplexStepError(
            f"astype({dtype}) has no complex-step form: no complex dtype holds the step "
            "at that precision; use cr.jvp.")

    def argmax(self, *args, **kwargs):
        return np.argmax(self, *args, **kwargs)

    def argmin(self, *args, **kwargs):
        return np.argmin(self, *args, **kwargs)

    def argsort(self, *args, **kwargs):
        return np.argsort(self, *args, **kwargs)

    def nonzero(self):
        return np.nonzero(self)

    def round(self, decimals=0, out=None):
        return np.round(self, decimals, out)

    def var(self, *args, **kwargs):
        return np.var(self, *args, **kwargs)

    def std(self, *args, **kwargs):
        return np.std(self, *args, **kwargs)

    def sort(self, axis=-1, kind=None, order=None):
        self[...] = np.sort(self, axis, kind, order)

    def partition(self, kth, axis=-1, kind="introselect", order=None):
        self[...] = np.partition(self, kth, axis, kind, order)


def _wrap(x, tag):
    """Complex results (and tuples of them) as ComplexStepArrays of `tag`."""
    if isinstance(x, (np.ndarray, np.generic)) and x.dtype.kind == "c":
        y = np.asarray(x).view(ComplexStepArray)
        y._tag = tag
        return y
    if isinstance(x, tuple) and hasattr(x, "_make"):
        return x._make(_wrap(v, tag) for v in x)
    if type(x) in (tuple, list):
        return type(x)(_wrap(v, tag) for v in x)
    return x


def _plain(x):
    if isinstance(x, ComplexStepArray):
        return x.view(np.ndarray)
    if type(x) in (tuple, list):
        return type(x)(_plain(v) for v in x)
    return x


def _foreign(values):
    """Another array type (e.g. a chainrule Box) takes part: let it dispatch."""
    return any(hasattr(type(a), "__array_ufunc__") and not isinstance(a, (np.ndarray, np.generic))
               for a in values)


def _common_tag(values):
    tags = set()
    for v in values:
        for a in v if type(v) in (tuple, list) else (v,):
            if isinstance(a, ComplexStepArray):
                tags.add(a._tag)
    if len(tags) > 1:
        raise ComplexStepError(_NESTED)
    return tags.pop() if tags else None


def _refuse_genuine_complex(name, inputs, args):
    """A complex operand that is not a complex step (a constant like 1j, or an
    input converted with np.asarray) would mix its imaginary part into the
    derivative."""
    for a, p in zip(inputs, args):
        if not isinstance(a, ComplexStepArray) and np.iscomplexobj(p) and np.any(np.imag(p)):
            raise ComplexStepError(
                f"numpy.{name} got a complex value that is not the complex-step input: "
                "either fun uses complex arithmetic itself (complex step cannot "
                "differentiate it; use cr.jvp), or it converted its input with "
                "np.asarray/np.array, which drops the complex-step type (use np.asanyarray)."
            )


# --------------------------------------------------------------------------
# The continuations, on plain values (x, y: real or complex arrays/scalars).
# Ties in maximum/minimum split the derivative evenly, as chainrule's rules do.

def _maximum(x, y):
    rx, ry = np.real(x), np.real(y)
    return np.where(rx > ry, x, np.where(rx < ry, y, (x + y) / 2))


def _minimum(x, y):
    rx, ry = np.real(x), np.real(y)
    return np.where(rx < ry, x, np.where(rx > ry, y, (x + y) / 2))


def _nan_ignoring(pick):
    def rule(x, y):
        return np.where(np.isnan(np.real(y)), x, np.where(np.isnan(np.real(x)), y, pick(x, y)))
    return rule


def _clip(x, lo, hi):
    return np.where(np.real(x) < np.real(lo), lo, np.where(np.real(x) > np.real(hi), hi, x))


def _abs(x):
    return x * np.sign(np.real(x))


def _cbrt(x):
    s = np.where(np.signbit(np.real(x)), -1.0, 1.0)
    return s * (s * x) ** (1 / 3)


def _arctan2(y, x):
    # first order: d atan2(y, x) = (x dy - y dx) / (x**2 + y**2)
    rx, ry = np.real(x), np.real(y)
    return np.arctan2(ry, rx) + 1j * (rx * np.imag(y) - ry * np.imag(x)) / (rx**2 + ry**2)


def _logaddexp(exp, log):
    def rule(x, y):
        m = np.maximum(np.real(x), np.real(y))
        return m + log(exp(x - m) + exp(y - m))
    return rule


def _copysign(x, y):
    return _abs(x) * np.where(np.signbit(np.real(y)), -1.0, 1.0)


def _in_real_domain(ufunc, inside):
    """Outside its real domain a real function gives nan; complex NumPy would
    give a value on another branch and a meaningless imaginary part."""
    def rule(*args):
        with np.errstate(invalid="ignore"):
            ok = inside(*[np.real(a) for a in args])
        return np.where(ok, ufunc(*args), complex(np.nan, np.nan))
    return rule


def _non_integer(y):
    return y != np.floor(y)


# fmt: off
UFUNC_RULES = {
    np.absolute:    _abs,
    np.fabs:        _abs,
    np.conjugate:   lambda x: x,
    np.maximum:     _maximum,
    np.minimum:     _minimum,
    np.fmax:        _nan_ignoring(_maximum),
    np.fmin:        _nan_ignoring(_minimum),
    _clip_ufunc:    _clip,
    np.cbrt:        _cbrt,
    np.copysign:    _copysign,
    np.arctan2:     _arctan2,
    np.hypot:       lambda x, y: np.sqrt(x * x + y * y),
    np.logaddexp:   _logaddexp(np.exp, np.log),
    np.logaddexp2:  _logaddexp(np.exp2, np.log2),
    np.deg2rad:     lambda x: x * (np.pi / 180),
    np.radians:     lambda x: x * (np.pi / 180),
    np.rad2deg:     lambda x: x * (180 / np.pi),
    np.degrees:     lambda x: x * (180 / np.pi),
    np.ldexp:       lambda x, n: x * np.exp2(n),
    np.remainder:   lambda x, y: x - np.floor_divide(np.real(x), np.real(y)) * y,
    # x moved by one float towards y: x plus a constant step, derivative 1 in x
    np.nextafter:   lambda x, y: x + (np.nextafter(np.real(x), np.real(y)) - np.real(x)),
    np.fmod:        lambda x, y: x - np.trunc(np.real(x) / np.real(y)) * y,
    np.sqrt:        _in_real_domain(np.sqrt, lambda x: x >= 0),
    np.log:         _in_real_domain(np.log, lambda x: x >= 0),
    np.log2:        _in_real_domain(np.log2, lambda x: x >= 0),
    np.log10:       _in_real_domain(np.log10, lambda x: x >= 0),
    np.log1p:       _in_real_domain(np.log1p, lambda x: x >= -1),
    np.arcsin:      _in_real_domain(np.arcsin, lambda x: np.abs(x) <= 1),
    np.arccos:      _in_real_domain(np.arccos, lambda x: np.abs(x) <= 1),
    np.arccosh:     _in_real_domain(np.arccosh, lambda x: x >= 1),
    np.arctanh:     _in_real_domain(np.arctanh, lambda x: np.abs(x) <= 1),
    np.power:       _in_real_domain(np.power, lambda x, y: ~((x < 0) & _non_integer(y))),
    np.float_power: _in_real_domain(np.float_power, lambda x, y: ~((x < 0) & _non_integer(y))),
}
# NumPy >= 2 vecdot and vecmat conjugate their first argument; conjugating it
# first undoes that.
GUFUNC_RULES = {f: (lambda f: lambda x, y, **kw: f(np.conj(x), y, **kw))(f)
                for f in (getattr(np, "vecdot", None), getattr(np, "vecmat", None)) if f}
UFUNC_RULES.update(GUFUNC_RULES)

# Piecewise constant functions, comparisons and predicates: the real
# function applied to the real parts (any ufunc method).
REAL_PART_UFUNCS = {
    np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal,
    np.logical_and, np.logical_or, np.logical_xor, np.logical_not,
    np.isnan, np.isinf, np.isfinite, np.signbit, np.sign, np.heaviside,
    np.floor, np.ceil, np.trunc, np.rint, np.floor_divide, np.spacing,
}

# maximum.reduce (np.max, x.max()) and friends: the pick on the real parts,
# and the continuation that combines the result with initial=.
REDUCE_RULES = {np.maximum: np.max, np.minimum: np.min, np.fmax: np.nanmax, np.fmin: np.nanmin}
# fmt: on
_COMBINE = {np.max: _maximum, np.min: _minimum, np.nanmax: UFUNC_RULES[np.fmax],
            np.nanmin: UFUNC_RULES[np.fmin]}


def _reduce_by_real(pick, x, axis=0, dtype=None, keepdims=False, initial=np._NoValue, where=True):
    """max/min along axis, the derivative shared evenly between tied entries
    (an entry tied with initial= shares half, as in chainrule's rule)."""
    if where is not True:
        raise ComplexStepError("np.max/np.min with where= is not supported by cs_jvp")
    r = np.real(x)
    if initial is not np._NoValue and r.size == 0:
        return pick(r, axis=axis, keepdims=keepdims, initial=np.real(initial))
    with np.errstate(invalid="ignore"):
        ties = r == pick(r, axis=axis, keepdims=True)
        out = np.sum(x * ties, axis=axis, keepdims=keepdims) / np.sum(ties, axis=axis, keepdims=keepdims)
    return out if initial is np._NoValue else _COMBINE[pick](out, initial)


# ---- NumPy functions ----

def _sort(a, axis=-1, kind=None, order=None, *, stable=None):
    if axis is None:
        a, axis = np.ravel(a), -1
    return np.take_along_axis(a, np.argsort(np.real(a), axis, kind="stable"), axis)


def _partition(a, kth, axis=-1, kind="introselect", order=None):
    if axis is None:
        a, axis = np.ravel(a), -1
    return np.take_along_axis(a, np.argpartition(np.real(a), kth, axis), axis)


def _on_real_part(func):
    return lambda a, *args, **kwargs: func(np.real(a), *args, **kwargs)


def _norm(x, ord=None, axis=None, keepdims=False):
    """np.linalg.norm with x*x and sign-continued abs instead of |x|**2 and |x|."""
    if axis is None:
        if ord is None or x.ndim == 1:
            return _vector_norm(x, ord, tuple(range(x.ndim)), keepdims)
        if x.ndim != 2:
            raise ValueError("Improper number of dimensions to norm.")
        axis = (0, 1)
    axis = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if len(axis) == 1:
        return _vector_norm(x, ord, axis, keepdims)
    if len(axis) == 2:
        return _matrix_norm(x, ord, axis, keepdims)
    raise ValueError("Improper number of dimensions to norm.")


def _vector_norm(x, ord, axis, keepdims):
    if ord is None or ord == 2:
        return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))
    if ord in (np.inf, -np.inf):
        return _reduce_by_real(np.max if ord > 0 else np.min, _abs(x), axis, keepdims=keepdims)
    if ord == 0:
        return np.sum(np.real(x) != 0, axis=axis, keepdims=keepdims).astype(float)
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")
    return np.sum(_abs(x) ** ord, axis=axis, keepdims=keepdims) ** (1 / ord)


def _matrix_norm(x, ord, axis, keepdims):
    r, c = (a % x.ndim for a in axis)
    if ord in (None, "fro"):
        return np.sqrt(np.sum(x * x, axis=(r, c), keepdims=keepdims))
    if ord not in (1, -1, np.inf, -np.inf):
        raise ComplexStepError(
            f"the matrix norm with ord={ord!r} takes singular values, which have "
            "no complex-step form in chainrule (complex svd conjugates); use cr.jvp.")
    # 1: the largest column sum of |x|; inf: the largest row sum
    summed, other = (r, c) if ord in (1, -1) else (c, r)
    sums = np.sum(_abs(x), axis=summed, keepdims=True)
    out = _reduce_by_real(np.max if ord > 0 else np.min, sums, other, keepdims=True)
    return out if keepdims else np.squeeze(out, (r, c))


def _var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True,
         mean=None, correction=None):
    # NumPy's complex var adds re**2 + im**2; the continuation squares
    if out is not None or where is not True or mean is not None:
        raise ComplexStepError("np.var/np.std with out=, where= or mean= is not supported by cs_jvp")
    m = np.mean(a, axis, keepdims=True)
    d = a - m
    return np.sum(d * d, axis, keepdims=keepdims) / (np.size(a) // max(np.size(m), 1) - (correction or ddof))


def _lower_symmetric(d, uplo="L"):
    """The symmetric matrix that LAPACK reads from one triangle of d."""
    tri = np.tril(d) if uplo == "L" else np.triu(d)
    return tri + np.swapaxes(tri, -1, -2) - tri * np.eye(d.shape[-1])


def _cholesky(a, upper=False):
    # A = L L^T  =>  dL = L Phi(L^-1 dA L^-T), Phi: lower triangle, half diagonal;
    # upper=True reads the upper triangle and returns U = L^T
    L = np.linalg.cholesky(np.real(a), upper=upper)
    L = np.swapaxes(L, -1, -2) if upper else L
    dA = _lower_symmetric(np.imag(a), "U" if upper else "L")
    m = np.linalg.solve(L, np.swapaxes(np.linalg.solve(L, dA), -1, -2))
    phi = np.tril(m) - 0.5 * m * np.eye(m.shape[-1])
    result = L + 1j * (L @ phi)
    return np.swapaxes(result, -1, -2) if upper else result


_EighResult = type(np.linalg.eigh(np.eye(1)))        # a named tuple, as NumPy returns
_SlogdetResult = type(np.linalg.slogdet(np.eye(1)))


def _eigh(a, UPLO="L"):
    # dw = diag(U^T dA U); dU = U (F * U^T dA U), F_ij = 1 / (w_j - w_i) off the diagonal
    w, U = np.linalg.eigh(np.real(a), UPLO)
    m = np.swapaxes(U, -1, -2) @ _lower_symmetric(np.imag(a), UPLO) @ U
    gap = w[..., None, :] - w[..., :, None]
    with np.errstate(divide="ignore"):
        F = np.where(gap == 0, 0.0, 1 / np.where(gap == 0, 1.0, gap))
    dw = np.diagonal(m, axis1=-2, axis2=-1)
    return _EighResult(w + 1j * dw, U + 1j * (U @ (F * m)))


def _slogdet(a):
    # d log|det A| = trace(A^-1 dA); the sign is piecewise constant
    sign, logdet = np.linalg.slogdet(np.real(a))
    d = np.trace(np.linalg.solve(np.real(a), np.imag(a)), axis1=-2, axis2=-1)
    return _SlogdetResult(sign, logdet + 1j * d)


FUNCTION_RULES = {
    np.real:          lambda val: val,
    np.imag:          lambda val: np.zeros(np.shape(val)),
    np.real_if_close: lambda a, tol=100: a,
    np.iscomplexobj:  lambda x: False,
    np.isrealobj:     lambda x: True,
    np.iscomplex:     lambda x: np.zeros(np.shape(x), bool),
    np.isreal:        lambda x: np.ones(np.shape(x), bool),
    np.angle:         lambda z, deg=False: np.angle(np.real(z), deg),
    np.vdot:          lambda a, b: np.vdot(np.conj(a), b),
    np.correlate:     lambda a, v, mode="valid": np.correlate(a, np.conj(v), mode),
    np.einsum:        np.einsum,  # on plain arrays: its Python paths drop the subclass
    np.sort:          _sort,
    np.partition:     _partition,
    np.argsort:       _on_real_part(np.argsort),
    np.argpartition:  _on_real_part(np.argpartition),
    np.argmax:        _on_real_part(np.argmax),
    np.argmin:        _on_real_part(np.argmin),
    np.nanargmax:     _on_real_part(np.nanargmax),
    np.nanargmin:     _on_real_part(np.nanargmin),
    np.nonzero:       _on_real_part(np.nonzero),
    np.flatnonzero:   _on_real_part(np.flatnonzero),
    np.argwhere:      _on_real_part(np.argwhere),
    np.count_nonzero: _on_real_part(np.count_nonzero),
    np.searchsorted:  lambda a, v, side="left", sorter=None: np.searchsorted(np.real(a), np.real(v), side, sorter),
    np.round:         _on_real_part(np.round),
    np.around:        _on_real_part(np.around),
    np.var:           _var,
    np.std:           lambda *args, **kwargs: np.sqrt(_var(*args, **kwargs)),
    np.linalg.norm:   _norm,
    np.linalg.cholesky: _cholesky,
    np.linalg.eigh:   _eigh,
    np.linalg.eigvalsh: lambda a, UPLO="L": _eigh(a, UPLO)[0],
    np.linalg.slogdet: _slogdet,
}
if hasattr(np.linalg, "vector_norm"):  # NumPy >= 2
    FUNCTION_RULES[np.linalg.vector_norm] = lambda x, *, axis=None, keepdims=False, ord=2: _vector_norm(
        x, ord, tuple(range(np.ndim(x))) if axis is None else axis, keepdims)
    FUNCTION_RULES[np.linalg.matrix_norm] = lambda x, *, keepdims=False, ord="fro": _matrix_norm(
        x, ord, (-2, -1), keepdims)

# Ufuncs (NumPy's and scipy.special's, by name) whose complex versions are not
# the continuation of the real ones: airye scales by exp(2/3 z^(3/2)) of the
# complex z, heaviside has no complex loop; elliprj and elliprd have no checked
# complex-step form (their op-table lines leave it out).
REFUSED_UFUNC_NAMES = {"airye", "heaviside", "elliprj", "elliprd"}

# Their complex versions conjugate or are complex by nature (and numpy.fft.*).
# roots' complex roots are not a continuation; unique_values and tensorinv have
# no checked complex-step form (their op-table lines leave it out).
REFUSED = {
    np.roots, np.unique_values, np.linalg.tensorinv,
    np.cov, np.corrcoef, np.sort_complex, np.linalg.svd, np.linalg.qr, np.linalg.eig,
    np.linalg.eigvals, np.linalg.pinv, np.linalg.lstsq, np.linalg.matrix_rank, np.linalg.cond,
    getattr(np.linalg, "svdvals", None),
} - {None}
