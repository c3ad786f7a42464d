"""Elementwise operations (NumPy ufuncs): one local partial per argument.

Each differentiable ufunc is one line: the ufunc and the partial derivative
of its output with respect to each argument, as a function of the arguments
`x`, `y` and the output `ans` (see `chainrule.core.primitive.elementwise`).
JVP is `t * partial`, VJP is `g * partial` reduced to the argument's shape.

Complex numbers follow one convention (docs/complex.md): C is R^2, a JVP is
the real-linear map on (real, imaginary) parts and a VJP its transpose under
the pairing Re(sum(a * b)). Holomorphic ufuncs (exp, sin, multiply...) need
nothing special: `t * f'(z)` and `g * f'(z)` are already that map and its
transpose. The non-holomorphic ones (absolute, sign, real, imag, conjugate,
angle) have rules of their own below, which check the dtype and leave real
input on the plain path. A cotangent of a real value may carry a meaningless
imaginary part (from a real value multiplied by a complex constant); rules
whose output is real and input complex use only its real part.

Ties in maximum/minimum split the derivative evenly between the arguments
(the mean of the one-sided derivatives). abs, sign-like and rounding
functions use the derivative 0 at their kinks and steps: floor, ceil, trunc,
rint, sign and floor_divide are piecewise constant and pass through with
zero derivative, as do comparisons and predicates; heaviside(x1, x2) is a
step in x1 and x2 itself where x1 == 0.
"""

import operator

import numpy as np

from ..arraylibs import zeros
from ..core.primitive import (
    UFUNCS, Primitive, elementwise, implements, is_complex, linear, nondifferentiable,
    register_ufunc,
)

LN2 = np.log(2.0)
LN10 = np.log(10.0)


def _balanced_greater(x, y):
    """d max(x, y) / dx: 1 where x wins, 1/2 at ties, 0 where y wins."""
    return (x > y) + 0.5 * (x == y)


def _power_dx(x, y):
    """d x**y / dx = y x**(y-1), and 0 where y == 0 (x**0 is constant 1, even
    at x = 0 where x**-1 is infinite)."""
    if type(y) in (int, float) or isinstance(y, np.generic):  # a constant exponent
        if y == 0:
            return 0.0
        if type(x) is float:  # Python raises on 0.0 ** negative; NumPy gives inf
            return y * np.power(x, y - 1)
        return y * x ** (y - 1)
    return np.where(y == 0, 0.0, y * x ** (y - 1))


def _log_or_zero(x):
    """log(x), with log taken as 0 where x == 0 (d x**y / dy is 0 there when y > 0)."""
    return np.log(np.where(x == 0, 1.0, x))


# fmt: off
DIFFERENTIABLE = {
    # ufunc:        (name, impl for the fast path, partial per argument...)
    np.add:         ("add", operator.add, 1, 1),
    np.subtract:    ("subtract", operator.sub, 1, -1),
    np.multiply:    ("multiply", operator.mul, lambda y: y, lambda x: x),
    np.divide:      ("divide", operator.truediv, lambda y: 1 / y, lambda y, ans: -ans / y),
    np.power:       ("power", operator.pow, _power_dx,
                     lambda x, ans: ans * _log_or_zero(x)),
    np.float_power: ("float_power", np.float_power, lambda x, y: y * np.float_power(x, y - 1),
                     lambda x, ans: ans * _log_or_zero(x)),
    np.negative:    ("negative", operator.neg, -1),
    np.positive:    ("positive", np.positive, 1),
    np.absolute:    ("absolute", np.absolute, lambda x: np.sign(x)),
    np.fabs:        ("fabs", np.fabs, lambda x: np.sign(x)),
    np.exp:         ("exp", np.exp, lambda ans: ans),
    np.exp2:        ("exp2", np.exp2, lambda ans: ans * LN2),
    np.expm1:       ("expm1", np.expm1, lambda ans: ans + 1),
    np.log:         ("log", np.log, lambda x: 1 / x),
    np.log2:        ("log2", np.log2, lambda x: 1 / (x * LN2)),
    np.log10:       ("log10", np.log10, lambda x: 1 / (x * LN10)),
    np.log1p:       ("log1p", np.log1p, lambda x: 1 / (1 + x)),
    np.sqrt:        ("sqrt", np.sqrt, lambda ans: 0.5 / ans),
    np.cbrt:        ("cbrt", np.cbrt, lambda ans: 1 / (3 * np.square(ans))),
    np.square:      ("square", np.square, lambda x: 2 * x),
    np.reciprocal:  ("reciprocal", np.reciprocal, lambda ans: -np.square(ans)),
    np.sin:         ("sin", np.sin, lambda x: np.cos(x)),
    np.cos:         ("cos", np.cos, lambda x: -np.sin(x)),
    np.tan:         ("tan", np.tan, lambda ans: 1 + np.square(ans)),
    np.arcsin:      ("arcsin", np.arcsin, lambda x: 1 / np.sqrt(1 - np.square(x))),
    np.arccos:      ("arccos", np.arccos, lambda x: -1 / np.sqrt(1 - np.square(x))),
    np.arctan:      ("arctan", np.arctan, lambda x: 1 / (1 + np.square(x))),
    np.sinh:        ("sinh", np.sinh, lambda x: np.cosh(x)),
    np.cosh:        ("cosh", np.cosh, lambda x: np.sinh(x)),
    np.tanh:        ("tanh", np.tanh, lambda ans: 1 - np.square(ans)),
    np.arcsinh:     ("arcsinh", np.arcsinh, lambda x: 1 / np.sqrt(np.square(x) + 1)),
    # sqrt(x - 1) sqrt(x + 1), not sqrt(x**2 - 1): the same for real x > 1, and
    # the right branch for complex x with a negative real part
    np.arccosh:     ("arccosh", np.arccosh, lambda x: 1 / (np.sqrt(x - 1) * np.sqrt(x + 1))),
    np.arctanh:     ("arctanh", np.arctanh, lambda x: 1 / (1 - np.square(x))),
    np.arctan2:     ("arctan2", np.arctan2, lambda x, y: y / (np.square(x) + np.square(y)),
                     lambda x, y: -x / (np.square(x) + np.square(y))),
    np.hypot:       ("hypot", np.hypot, lambda x, ans: x / ans, lambda y, ans: y / ans),
    np.maximum:     ("maximum", np.maximum, lambda x, y: _balanced_greater(x, y),
                     lambda x, y: _balanced_greater(y, x)),
    np.minimum:     ("minimum", np.minimum, lambda x, y: _balanced_greater(y, x),
                     lambda x, y: _balanced_greater(x, y)),
    np.fmax:        ("fmax", np.fmax, lambda x, y: _balanced_greater(x, y) + np.isnan(y),
                     lambda x, y: _balanced_greater(y, x) + np.isnan(x)),
    np.fmin:        ("fmin", np.fmin, lambda x, y: _balanced_greater(y, x) + np.isnan(y),
                     lambda x, y: _balanced_greater(x, y) + np.isnan(x)),
    np.logaddexp:   ("logaddexp", np.logaddexp, lambda x, ans: np.exp(x - ans),
                     lambda y, ans: np.exp(y - ans)),
    np.logaddexp2:  ("logaddexp2", np.logaddexp2, lambda x, ans: np.exp2(x - ans),
                     lambda y, ans: np.exp2(y - ans)),
    np.deg2rad:     ("deg2rad", np.deg2rad, lambda: np.pi / 180),
    np.rad2deg:     ("rad2deg", np.rad2deg, lambda: 180 / np.pi),
    np.remainder:   ("remainder", operator.mod, 1, lambda x, y: -np.floor_divide(x, y)),
    np.fmod:        ("fmod", np.fmod, 1, lambda x, y: -np.trunc(x / y)),
    np.copysign:    ("copysign", np.copysign, lambda x, ans: np.sign(x) * np.sign(ans), None),
    # heaviside(x1, x2) is x2 where x1 == 0 (a step in x1)
    np.heaviside:   ("heaviside", np.heaviside, None, lambda x, y: np.where(x == 0, 1.0, 0.0)),
    np.ldexp:       ("ldexp", np.ldexp, lambda y: np.exp2(y), None),
    # the next float towards y: x plus a step far below any difference quotient
    np.nextafter:   ("nextafter", np.nextafter, 1, None),
}

NONDIFFERENTIABLE = [
    np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal,
    np.logical_and, np.logical_or, np.logical_xor, np.logical_not,
    np.isnan, np.isinf, np.isfinite, np.signbit,
    np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.invert,
    np.left_shift, np.right_shift, np.gcd, np.lcm,
    np.spacing,
]

# Piecewise constant: derivative zero wherever it exists.
PIECEWISE_CONSTANT = [
    np.floor, np.ceil, np.trunc, np.rint, np.floor_divide,
]
# fmt: on

_primitives = {}
for _ufunc, (_name, _impl, *_partials) in DIFFERENTIABLE.items():
    _primitives[_name] = register_ufunc(_ufunc, elementwise(_name, _impl, *_partials))
for _ufunc in NONDIFFERENTIABLE + PIECEWISE_CONSTANT:
    register_ufunc(_ufunc, nondifferentiable(_ufunc.__name__, _ufunc))

# The primitives the box's operators call directly.
add_p = _primitives["add"]
subtract_p = _primitives["subtract"]
multiply_p = _primitives["multiply"]
divide_p = _primitives["divide"]
power_p = _primitives["power"]
negative_p = _primitives["negative"]
absolute_p = _primitives["absolute"]
remainder_p = _primitives["remainder"]
less_p = UFUNCS[np.less]
less_equal_p = UFUNCS[np.less_equal]
greater_p = UFUNCS[np.greater]
greater_equal_p = UFUNCS[np.greater_equal]
equal_p = UFUNCS[np.equal]
not_equal_p = UFUNCS[np.not_equal]


# ---- non-holomorphic ufuncs: their own rules on complex input ----
def _over_abs(x, ans):
    """conj(x) / |x|, taken as 0 at x = 0 (where |x| has no derivative)."""
    return np.conjugate(x) / np.where(ans == 0, 1.0, ans)


def _complex_aware(prim, complex_jvp, complex_vjp):
    """Give elementwise `prim` (rules for real input) rules for complex input:
    complex_jvp(t, x, ans) and complex_vjp(g, x, ans). Real input keeps the
    elementwise fast path; the test is one dtype lookup."""
    real_jvp, real_vjp_of = prim.jvp, prim.vjp_of[0]
    prim.save = lambda args, ans, params: (args[0], ans)

    def jvp(tangents, args, ans, params):
        if tangents[0] is not None and is_complex(args[0]):
            return complex_jvp(tangents[0], args[0], ans)
        return real_jvp(tangents, args, ans, params)

    def vjp_of(g, res):
        x, ans = res
        return complex_vjp(g, x, ans) if is_complex(x) else real_vjp_of(g, res)

    prim.jvp = jvp
    prim.vjp_of = (vjp_of,)
    prim.vjp = lambda g, res, params, which: [vjp_of(g, res)]
    return prim


# |z|: d|z| = Re(conj(z) dz) / |z|; the cotangent of z is Re(g) conj(z) / |z|.
_complex_aware(
    _primitives["absolute"],
    lambda t, x, ans: np.real(np.conjugate(x) * t) / np.where(ans == 0, 1.0, ans),
    lambda g, x, ans: np.real(g) * _over_abs(x, ans))


# sign(z) = z / |z| on complex input; piecewise constant (zero derivative) on
# real input. With s = sign(z): ds = (dz - s Re(conj(s) dz)) / |z|, and the
# cotangent of z is (g - Re(g s) conj(s)) / |z|.
def _sign_jvp(tangents, args, ans, params):
    (t,), (x,) = tangents, args
    if t is None or not is_complex(x):
        return None
    r = np.abs(x)
    return (t - ans * np.real(np.conjugate(ans) * t)) / np.where(r == 0, 1.0, r)


def _sign_vjp(g, res, params, which):
    (x,), ans = res
    if not is_complex(x):
        return [None]
    r = np.abs(x)
    return [(g - np.real(g * ans) * np.conjugate(ans)) / np.where(r == 0, 1.0, r)]


sign_p = register_ufunc(np.sign, Primitive("sign", np.sign, _sign_jvp, _sign_vjp))


# ---- complex parts and casts: linear maps ----
# The conjugate of a real value is itself; on complex values conj is linear
# over the reals and its transpose is conj again.
conjugate_p = register_ufunc(np.conjugate, linear(
    "conjugate", np.conjugate, lambda g, shapes, params, which: (np.conjugate(g),)))
real_p = linear("real", np.real, lambda g, shapes, params, which: (np.real(g),))
imag_p = linear("imag", np.imag, lambda g, shapes, params, which: (-1j * np.real(g),))


@implements(np.real)
def real(val):
    """np.real: the real part (a real value is its own real part)."""
    return real_p(val) if is_complex(val) else val


@implements(np.imag)
def imag(val):
    """np.imag: the imaginary part (of a real value: zero, a constant)."""
    return imag_p(val) if is_complex(val) else zeros(np.shape(val), val.dtype, like=val)


@implements(np.angle)
def angle(z, deg=False):
    """np.angle: arctan2(imag, real); piecewise constant (0 or pi) on real input.

    Example:
        >>> import chainrule as cr
        >>> complex(cr.grad(np.angle)(1j))  # d angle = Re(-i conj(z) dz) / |z|^2
        (-1+0j)
    """
    if not is_complex(z):
        from ..core.trace import raw
        return np.angle(raw(z), deg)
    a = np.arctan2(np.imag(z), np.real(z))
    return a * (180 / np.pi) if deg else a


def _astype(x, dtype):
    return x.astype(dtype) if hasattr(x, "astype") else np.dtype(dtype).type(x)


def _astype_vjp(g, res, params, which):
    (x,), _ = res
    dtype = np.result_type(x)
    if dtype.kind != "c" and is_complex(g):
        g = np.real(g)  # a real input's cotangent is the real part
    elif params["dtype"].kind != "c" and is_complex(g):
        g = np.real(g)  # a cast to real keeps the real part: the transpose too
    return (astype(g, dtype),)


astype_p = Primitive(
    "astype", _astype,
    jvp=lambda tangents, args, ans, params: None if tangents[0] is None
    else astype(tangents[0], params["dtype"]),
    vjp=_astype_vjp,
)
astype_int_p = nondifferentiable("astype_int", _astype)


def astype(x, dtype):
    """x.astype(dtype) on a traced value: a float cast is differentiable."""
    dtype = np.dtype(dtype)
    return (astype_p if dtype.kind in "fc" else astype_int_p)(x, dtype=dtype)


# np.round is a function, not a ufunc; like rint it is piecewise constant.
round_p = nondifferentiable("round", lambda x, decimals: np.round(x, decimals))


@implements(np.round, np.around)
def round_(a, decimals=0, out=None):
    if out is not None:
        from ..core.errors import MutationError
        raise MutationError("np.round(..., out=...) would write in place into a traced result")
    return round_p(a, decimals=decimals)
