"""Every op of the table, in every mode, against high-order finite differences.

u . (J v) is compared for random directions v (inputs) and u (outputs):
forward mode (dual numbers) and the complex step give J v, reverse mode
gives J^T u; second order checks the gradient of the projected output
`u . f` the same way (forward-over-reverse and reverse-over-reverse). Each
op also passes `cr.check_grads`, the stochastic check users run. The
compiled graph route runs the same table in tests/graph/test_compiled_ops.py.

Complex variants (tests/ops/table.py) run the same tests with complex
arguments, C taken as R^2 (docs/complex.md): each check is made twice, along
a real and along an imaginary direction, so that a rule that is right along
one and wrong along the other (a holomorphic rule for a non-holomorphic op)
is caught; pairings are Re(sum(a * b)).
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.primitive import PRIMITIVES
from chainrule.core.tree import tree_flatten, tree_unflatten

from .ops.oracle import directional_derivative
from .ops.spec import problem
from .ops.table import COMPLEX_OPS, OPS, REJECTS_COMPLEX

CASES = [(op, k) for op in OPS + COMPLEX_OPS for k in range(len(op.cases))]
IDS = [f"{op.name}-{k}" for op, k in CASES]


def _is_complex(x):
    return np.iscomplexobj(x)


def _setup(op, k):
    """fun, primals, the directions to check along, and a random stream:
    one real direction, and for complex primals also a purely imaginary one."""
    fun, primals = problem(op, k)
    rng = np.random.default_rng(k + 17)
    dirs = tuple(rng.standard_normal(np.shape(p)) for p in primals)
    if not any(_is_complex(p) for p in primals):
        return fun, primals, [dirs], rng
    imag = tuple(1j * rng.standard_normal(np.shape(p)) if _is_complex(p) else np.zeros(np.shape(p))
                 for p in primals)
    return fun, primals, [dirs, imag], rng


def _flat(tree):
    leaves, _ = tree_flatten(tree)
    if not leaves:
        return np.zeros(0)
    dtype = complex if any(_is_complex(x) for x in leaves) else float
    return np.concatenate([np.ravel(np.asarray(x, dtype=dtype)) for x in leaves])


def _close(a, b, op):
    a, b = np.asarray(a), np.asarray(b)
    if not (_is_complex(a) or _is_complex(b)):
        a, b = a.astype(float), b.astype(float)
    scale = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0))
    err = np.max(np.abs(a - b), initial=0.0)
    assert err <= op.atol + op.rtol * scale, f"error {err:.3e} at scale {scale:.3e}:\n{a}\nvs\n{b}"


def _random_like(tree, rng):
    leaves, spec = tree_flatten(tree)
    return tree_unflatten(spec, [
        rng.standard_normal(np.shape(x)) + 1j * rng.standard_normal(np.shape(x)) if _is_complex(x)
        else rng.standard_normal(np.shape(x)) for x in leaves])


def _pairing(a, b):
    """Re(sum(a * b)): the real pairing of C as R^2 (docs/complex.md)."""
    return np.real(np.sum(np.asarray(a) * np.asarray(b)))


def _projected(fun, u):
    """The real scalar Re(u . fun(*args))."""
    u_flat = _flat(u)

    def scalar(*args):
        leaves, _ = tree_flatten(fun(*args))
        terms = [x * ul for x, ul in zip(leaves, _split(u_flat, leaves))]
        return sum(np.sum(np.real(t) if _is_complex(t) else t) for t in terms)
    return scalar


def _split(flat, leaves):
    out, start = [], 0
    for x in leaves:
        n = int(np.prod(np.shape(x), dtype=int))
        out.append(np.reshape(flat[start:start + n], np.shape(x)))
        start += n
    return out


# Forward modes: dual numbers (exact) and the complex step, each giving J v.
FORWARD = {"fwd": cr.jvp, "cs": cr.cs_jvp}


def _skip_or_raises(op, mode_applies, why):
    """Skip where the mode does not apply; for an op whose complex variant
    must raise, a context that requires that error."""
    if not mode_applies:
        pytest.skip(why)
    if isinstance(op.complex, type) and op.name.endswith("[complex]"):
        return pytest.raises(op.complex)
    return _nothing()


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("mode", sorted(FORWARD))
@pytest.mark.parametrize("op,k", CASES, ids=IDS)
def test_forward(op, k, mode):
    with _skip_or_raises(op, mode in op.modes, f"mode {mode} does not apply to this op"):
        fun, primals, all_dirs, _ = _setup(op, k)
        for dirs in all_dirs:
            out, t = FORWARD[mode](fun, primals, dirs)
            _close(_flat(out), _flat(fun(*primals)), op)
            _close(_flat(t), directional_derivative(fun, primals, dirs), op)


@pytest.mark.parametrize("op,k", CASES, ids=IDS)
def test_check_grads(op, k):
    with _skip_or_raises(op, "check" in op.modes, "check_grads not run on this op"):
        fun, primals, _, _ = _setup(op, k)
        cr.check_grads(fun, primals, order=2 if op.smooth else 1, seed=k)


@pytest.mark.parametrize("op,k", CASES, ids=IDS)
def test_reverse(op, k):
    with _skip_or_raises(op, "rev" in op.modes, "no reverse mode for this op"):
        fun, primals, all_dirs, rng = _setup(op, k)
        out, f_vjp = cr.vjp(fun, *primals)
        u = _random_like(out, rng)
        cts = f_vjp(u)
        for c, p in zip(cts, primals):
            assert np.shape(c) == np.shape(p)
        for dirs in all_dirs:
            lhs = sum(_pairing(c, d) for c, d in zip(cts, dirs))
            rhs = _pairing(_flat(u), directional_derivative(fun, primals, dirs))
            _close(lhs, rhs, op)


def _second_order_setup(op, k):
    fun, primals, dirs, rng = _setup(op, k)
    u = _random_like(fun(*primals), rng)
    scalar = _projected(fun, u)
    g = cr.grad(scalar, argnums=tuple(range(len(primals))))
    return g, primals, dirs, rng


@pytest.mark.parametrize("op,k", CASES, ids=IDS)
def test_forward_over_reverse(op, k):
    with _skip_or_raises(op, op.smooth and "fwd_rev" in op.modes, "second order not checked for this op"):
        g, primals, all_dirs, _ = _second_order_setup(op, k)
        for dirs in all_dirs:
            _, hv = cr.jvp(g, primals, dirs)
            _close(_flat(hv), directional_derivative(g, primals, dirs), op)


@pytest.mark.parametrize("op,k", CASES, ids=IDS)
def test_reverse_over_reverse(op, k):
    with _skip_or_raises(op, op.smooth and "rev_rev" in op.modes, "second order not checked for this op"):
        g, primals, all_dirs, rng = _second_order_setup(op, k)
        w = _random_like(primals, rng)
        gw = lambda *a: sum(_real_sum(gi * wi) for gi, wi in zip(g(*a), w))  # noqa: E731
        hw = cr.grad(gw, argnums=tuple(range(len(primals))))(*primals)
        for dirs in all_dirs:
            lhs = sum(_pairing(h, d) for h, d in zip(hw, dirs))
            _close(lhs, _pairing(_flat(w), directional_derivative(g, primals, dirs)), op)


def _real_sum(x):
    return np.sum(np.real(x)) if _is_complex(x) else np.sum(x)


def test_ops_refusing_complex_input_are_refused_by_numpy():
    """An op without a complex variant must be one whose NumPy code refuses
    complex numbers (a TypeError), not one whose generated complex cases
    merely left its domain: those need explicit complex_cases."""
    assert {name: why for name, why in REJECTS_COMPLEX.items()
            if not why.startswith("TypeError")} == {}


def test_every_differentiable_primitive_is_in_the_table():
    covered = {name for op in OPS for name in op.covers}
    registered = {name for name, p in PRIMITIVES.items() if p.differentiable}
    assert registered - covered == set(), "primitives without a line in the op table"
    assert covered - registered == set(), "table lines naming no registered primitive"
