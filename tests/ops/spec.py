"""The format of the op table: one `Op` line per differentiable primitive.

An Op names the primitive(s) it covers, the function to differentiate (which
calls NumPy as a user would), and the argument cases to try: each case a
tuple of arrays. Per-op quirks (domain, tolerance, which modes apply) live in
the line, never in the test bodies.
"""

from dataclasses import dataclass, field

import numpy as np

_rng = np.random.default_rng(0)  # one stream per family: every case gets fresh values


def reseed(seed):
    """Start the stream the case makers draw from afresh (one per family)."""
    global _rng
    _rng = np.random.default_rng(seed)


@dataclass
class Op:
    name: str                      # test id
    fun: object                    # the NumPy code to differentiate
    cases: tuple                   # tuples of argument arrays
    covers: tuple = ()             # primitive names this line exercises
    smooth: bool = True            # second-order checks apply
    rtol: float = 1e-7
    atol: float = 1e-9
    modes: tuple = ("rev", "fwd", "rev_rev", "fwd_rev", "cs", "check")
    diff_args: tuple = None        # argument positions differentiated (all by default)
    notes: str = field(default="")

    def __post_init__(self):
        self.covers = self.covers or (self.name,)


def rand(*shape, low=-1.0, high=1.0):
    """Uniform random float64 array of `shape` in [low, high)."""
    return _rng.uniform(low, high, size=shape)


def pos(*shape, low=0.5, high=2.0):
    """Random positive array."""
    return rand(*shape, low=low, high=high)


# Shape groups exercising 0-d, broadcasting and ordinary arrays.
UNARY_SHAPES = [(), (3,), (2, 3)]
BINARY_SHAPES = [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3))]


def unary_cases(maker=rand):
    return tuple((maker(*s),) for s in UNARY_SHAPES)


def binary_cases(maker_x=rand, maker_y=rand):
    return tuple((maker_x(*sx), maker_y(*sy)) for sx, sy in BINARY_SHAPES)


def problem(op, k):
    """Case k of `op` as `(fun, primals)`: fun takes only the differentiated
    arguments (op.diff_args), the others fixed at the case's values."""
    args = op.cases[k]
    diff = op.diff_args if op.diff_args is not None else tuple(range(len(args)))

    def fun(*dargs):
        full = list(args)
        for i, a in zip(diff, dargs):
            full[i] = a
        return op.fun(*full)

    return fun, tuple(args[i] for i in diff)
