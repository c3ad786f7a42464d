"""Property tests: every mode agrees on random shapes, values and programs.

Hypothesis draws shapes (0-d to 3-d, with broadcasting), values inside each
op's domain, and small random programs of 3 to 8 ops; `check_grads` then
requires forward mode, reverse mode and complex step to agree to rounding,
up to second order. Examples are few and small, so the file runs in seconds.
"""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from chainrule.check import check_grads

SETTINGS = settings(max_examples=20, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
seeds = st.integers(0, 2**32 - 1)


def arrays(shape, low=-2.0, high=2.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(low, high, allow_subnormal=False))


# domain of each op's argument(s): "any" is [-2, 2], "pos" is [0.25, 3]
DOMAINS = {"any": (-2.0, 2.0), "pos": (0.25, 3.0)}

# fmt: off
UNARY = {
    "sin": (np.sin, "any"), "cos": (np.cos, "any"), "tanh": (np.tanh, "any"),
    "exp": (np.exp, "any"), "arctan": (np.arctan, "any"), "sinh": (np.sinh, "any"),
    "square": (np.square, "any"), "abs": (np.abs, "any"), "expm1": (np.expm1, "any"),
    "log": (np.log, "pos"), "sqrt": (np.sqrt, "pos"), "reciprocal": (np.reciprocal, "pos"),
    "log1p": (np.log1p, "pos"), "cbrt": (np.cbrt, "pos"),
}
BINARY = {
    "add": (np.add, "any", "any"), "subtract": (np.subtract, "any", "any"),
    "multiply": (np.multiply, "any", "any"), "divide": (np.divide, "any", "pos"),
    "maximum": (np.maximum, "any", "any"), "minimum": (np.minimum, "any", "any"),
    "power": (np.power, "pos", "any"), "hypot": (np.hypot, "pos", "pos"),
    "arctan2": (np.arctan2, "any", "pos"), "logaddexp": (np.logaddexp, "any", "any"),
}
REDUCTIONS = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "prod": np.prod}
# fmt: on


@SETTINGS
@given(st.sampled_from(sorted(UNARY)), hnp.array_shapes(min_dims=0, max_dims=3, max_side=3), st.data(), seeds)
def test_unary_ops(name, shape, data, seed):
    fun, domain = UNARY[name]
    x = data.draw(arrays(shape, *DOMAINS[domain]))
    check_grads(fun, (x,), seed=seed, trials=1)


@SETTINGS
@given(st.sampled_from(sorted(BINARY)), hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       st.data(), seeds)
def test_binary_ops_with_broadcasting(name, shapes, data, seed):
    fun, dx, dy = BINARY[name]
    x = data.draw(arrays(shapes.input_shapes[0], *DOMAINS[dx]))
    y = data.draw(arrays(shapes.input_shapes[1], *DOMAINS[dy]))
    check_grads(fun, (x, y), seed=seed, trials=1)


@SETTINGS
@given(st.sampled_from(sorted(REDUCTIONS)), hnp.array_shapes(min_dims=1, max_dims=3, max_side=3),
       st.data(), st.booleans(), seeds)
def test_reductions(name, shape, data, keepdims, seed):
    x = data.draw(arrays(shape))
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1))
    check_grads(lambda x: REDUCTIONS[name](x, axis=axis, keepdims=keepdims), (x,), seed=seed, trials=1)


@SETTINGS
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.sampled_from([(), (2,), (1,)]),
       st.sampled_from(["mm", "mv", "vm", "vv"]), st.data(), seeds)
def test_matmul(n, k, m, batch, kind, data, seed):
    shapes = {"mm": (batch + (n, k), (k, m)), "mv": (batch + (n, k), (k,)),
              "vm": ((k,), batch + (k, m)), "vv": ((k,), (k,))}[kind]
    a, b = (data.draw(arrays(s)) for s in shapes)
    check_grads(np.matmul, (a, b), seed=seed, trials=1)


# --------------------------------------------------------------------------
# random programs: 3-8 ops on a growing list of values, safe for any input.
# Kinks and ties sit at odd offsets: hypothesis readily makes exact zeros and
# equal values, and through a composition of kinks (|relu(x)| at x = 0) no
# derivative exists, so the modes may rightly differ there.

# fmt: off
PROGRAM_UNARY = {
    "sin": np.sin, "tanh": np.tanh, "arctan": np.arctan, "square": np.square,
    "softplus": lambda a: np.logaddexp(0.0, a), "log1p_sq": lambda a: np.log1p(a * a),
    "sqrt_1p_sq": lambda a: np.sqrt(1 + a * a), "exp_tanh": lambda a: np.exp(np.tanh(a)),
    "relu": lambda a: np.maximum(a, 0.3141), "abs": lambda a: np.abs(a - 0.2718),
    "center": lambda a: a - np.mean(a, axis=-1, keepdims=True),
    "normalize": lambda a: a / np.sqrt(1 + np.sum(a * a, axis=-1, keepdims=True)),
    "cumsum": lambda a: np.cumsum(a, axis=-1), "flip": lambda a: a[..., ::-1],
}
PROGRAM_BINARY = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply,
    "divide_safe": lambda a, b: a / (1 + b * b), "maximum": lambda a, b: np.maximum(a, b + 0.1234),
    "where": lambda a, b: np.where(a > b + 0.1234, a * b, a - b),
    "matmul_t": lambda a, b: np.tanh(a @ np.swapaxes(b, -1, -2)) @ b,
}
# fmt: on

steps = st.tuples(st.sampled_from(sorted(PROGRAM_UNARY) + sorted(PROGRAM_BINARY)),
                  st.integers(0, 100), st.integers(0, 100))


def run_program(program, x, y):
    values = [x, y]
    for name, i, j in program:
        a, b = values[i % len(values)], values[j % len(values)]
        if name in PROGRAM_UNARY:
            values.append(PROGRAM_UNARY[name](a))
        else:
            values.append(PROGRAM_BINARY[name](a, b))
    return values[-1]


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(steps, min_size=3, max_size=8), st.integers(1, 3), st.integers(1, 3), st.data(),
       st.booleans(), seeds)
def test_random_programs(program, rows, cols, data, scalar, seed):
    x, y = data.draw(arrays((rows, cols))), data.draw(arrays((rows, cols)))

    def fun(x, y):
        out = run_program(program, x, y)
        return np.sum(out) if scalar else out

    check_grads(fun, (x, y), order=2, seed=seed, trials=1)
