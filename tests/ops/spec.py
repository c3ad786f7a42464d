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
    # Complex variant (tests/ops/table.py builds it): by default the cases
    # with a random imaginary part added to each differentiated float
    # argument, run in every mode but the complex step. complex_cases gives
    # the cases instead; complex=False opts out (say why in notes), or a
    # ChainruleError subclass that every mode must raise on complex input.
    complex: object = True
    complex_cases: tuple = None
    complex_modes: tuple = None    # the complex variant's modes (default: modes but "cs")

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


COMPLEX_CASES = 2  # complex variants take the first cases only: the suite stays quick


def complexify(op, seed):
    """op's first cases with an imaginary part in [-0.5, 0.5) added to each
    differentiated float argument (op.complex_cases if given)."""
    if op.complex_cases is not None:
        return op.complex_cases
    rng = np.random.default_rng(seed)
    out = []
    for case in op.cases[:COMPLEX_CASES]:
        diff = op.diff_args if op.diff_args is not None else range(len(case))
        out.append(tuple(
            a + 1j * rng.uniform(-0.5, 0.5, np.shape(a))
            if i in diff and np.result_type(a).kind == "f" else a
            for i, a in enumerate(case)))
    return tuple(out)


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
