"""Op table: elementwise (ufunc) primitives."""

import numpy as np

from .spec import Op, binary_cases, pos, rand, unary_cases



def _away_from_jumps():
    """(x, y) with x/y at least 0.3 away from an integer: remainder and fmod
    jump where x/y is an integer, and the finite differences must not cross.
    y broadcasts against x (x has the full shape)."""
    cases = []
    for sx, sy in [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((2, 3), (2, 1))]:
        y = 0.5 + pos(*sy)
        x = (np.floor(3 * pos(*sx)) + rand(*sx, low=0.3, high=0.7)) * y
        cases.append((x, y))
    return tuple(cases)


NO_CS = ("rev", "fwd", "rev_rev", "fwd_rev", "check")  # every mode but the complex step

# fmt: off
OPS = [
    Op("add", np.add, binary_cases()),
    Op("subtract", np.subtract, binary_cases()),
    Op("multiply", np.multiply, binary_cases()),
    Op("divide", np.divide, binary_cases(rand, pos)),
    Op("power", np.power, binary_cases(pos, rand)),
    Op("float_power", np.float_power, binary_cases(pos, rand)),
    Op("negative", np.negative, unary_cases()),
    Op("positive", np.positive, unary_cases()),
    Op("absolute", np.absolute, unary_cases(pos) + unary_cases(lambda *s: -pos(*s)), smooth=True),
    Op("fabs", np.fabs, unary_cases(lambda *s: -pos(*s))),
    Op("exp", np.exp, unary_cases()),
    Op("exp2", np.exp2, unary_cases()),
    Op("expm1", np.expm1, unary_cases()),
    Op("log", np.log, unary_cases(pos)),
    Op("log2", np.log2, unary_cases(pos)),
    Op("log10", np.log10, unary_cases(pos)),
    Op("log1p", np.log1p, unary_cases(pos)),
    Op("sqrt", np.sqrt, unary_cases(pos)),
    Op("cbrt", np.cbrt, unary_cases(pos)),
    Op("square", np.square, unary_cases()),
    Op("reciprocal", np.reciprocal, unary_cases(pos)),
    Op("sin", np.sin, unary_cases()),
    Op("cos", np.cos, unary_cases()),
    Op("tan", np.tan, unary_cases()),
    Op("arcsin", np.arcsin, unary_cases(lambda *s: 0.8 * rand(*s))),
    Op("arccos", np.arccos, unary_cases(lambda *s: 0.8 * rand(*s))),
    Op("arctan", np.arctan, unary_cases()),
    Op("sinh", np.sinh, unary_cases()),
    Op("cosh", np.cosh, unary_cases()),
    Op("tanh", np.tanh, unary_cases()),
    Op("arcsinh", np.arcsinh, unary_cases()),
    Op("arccosh", np.arccosh, unary_cases(lambda *s: 1 + pos(*s))),
    Op("arctanh", np.arctanh, unary_cases(lambda *s: 0.8 * rand(*s))),
    Op("arctan2", np.arctan2, binary_cases(pos, rand)),
    Op("hypot", np.hypot, binary_cases(pos, rand)),
    Op("maximum", np.maximum, binary_cases()),
    Op("minimum", np.minimum, binary_cases()),
    Op("fmax", np.fmax, binary_cases()),
    Op("fmin", np.fmin, binary_cases()),
    Op("logaddexp", np.logaddexp, binary_cases()),
    Op("logaddexp2", np.logaddexp2, binary_cases()),
    Op("deg2rad", np.deg2rad, unary_cases()),
    Op("rad2deg", np.rad2deg, unary_cases()),
    Op("remainder", np.remainder, _away_from_jumps()),
    Op("fmod", np.fmod, _away_from_jumps()),
    Op("copysign", np.copysign, binary_cases(pos, lambda *s: -pos(*s)), diff_args=(0,)),
    Op("ldexp", lambda x: np.ldexp(x, 3), unary_cases()),
    Op("conjugate", np.conjugate, unary_cases()),
    Op("real", np.real, unary_cases()),
    Op("imag", lambda x: np.imag(x * (1 + 2j)) + np.real(x * (3 - 1j)), unary_cases(),
       modes=NO_CS, notes="complex constants inside the op: the complex step cannot tell them from the step"),
    Op("astype", lambda x: x.astype(np.float32).astype(np.float64) * 0 + x.astype(np.float64),
       unary_cases()),
    Op("operators", lambda x, y: (x + 1) * 2 - y / 3 + (-x) ** 2 + 2 ** y - 1 / (3 + x**2) + (x + 2) % 5,
       binary_cases(), covers=("add", "subtract", "multiply", "divide", "power", "negative",
                               "remainder")),
    # sign: zero derivative on real input, z/|z| (non-holomorphic) on complex input
    Op("sign", lambda x: np.sign(x) * x, unary_cases(pos) + unary_cases(lambda *s: -pos(*s))),
    Op("nextafter", lambda x, y: np.nextafter(x, y), binary_cases()),
    Op("angle", lambda x: np.angle(x * (1 + 1j) + 0.5j), unary_cases(pos), covers=("arctan2", "real", "imag"),
       modes=NO_CS, notes="a complex constant inside the op: the complex step cannot tell it from the step"),
    Op("abs_of_complex", lambda x: np.abs(x * (1 + 2j) + 0.5j), unary_cases(), covers=("absolute",),
       modes=NO_CS, notes="a complex constant inside the op: the complex step cannot tell it from the step"),
]
# fmt: on
