"""Every op of the table, in every mode, against high-order finite differences.

u . (J v) is compared for random directions v (inputs) and u (outputs):
forward mode (dual numbers) and the complex step give J v, reverse mode
gives J^T u; second order checks the gradient of the projected output
`u . f` the same way (forward-over-reverse and reverse-over-reverse). Each
op also passes `cr.check_grads`, the stochastic check users run. The
compiled graph route runs the same table in tests/graph/test_compiled_ops.py.
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.primitive import PRIMITIVES
from chainrule.core.tree import tree_flatten, tree_unflatten

from .ops.oracle import directional_derivative
from .ops.spec import problem
from .ops.table import OPS

CASES = [(op, k) for op in OPS for k in range(len(op.cases))]
IDS = [f"{op.name}-{k}" for op, k in CASES]


def _setup(op, k):
    fun, primals = problem(op, k)
    rng = np.random.default_rng(k + 17)
    dirs = tuple(rng.standard_normal(np.shape(p)) for p in primals)
    return fun, primals, dirs, rng


def _flat(tree):
    leaves, _ = tree_flatten(tree)
    return np.concatenate([np.ravel(np.asarray(x, dtype=float)) for x in leaves]) if leaves else np.zeros(0)


def _close(a, b, op):
    a, b = np.asarray(a, float), np.asarray(b, float)
    scale = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0))
    err = np.max(np.abs(a - b), initial=0.0)
    assert err <= op.atol + op.rtol * scale, f"error {err:.3e} at scale {scale:.3e}:\n{a}\nvs\n{b}"


def _random_like(tree, rng):
    leaves, spec = tree_flatten(tree)
    return tree_unflatten(spec, [rng.standard_normal(np.shape(x)) for x in leaves])


def _projected(fun, u):
    """The scalar u . fun(*args)."""
    u_flat = _flat(u)

    def scalar(*args):
        leaves, _ = tree_flatten(fun(*args))
        return sum(np.sum(x * ul) for x, ul in zip(leaves, _split(u_flat, leaves)))
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


@pytest.mark.parametrize("mode", sorted(FORWARD))
@pytest.mark.parametrize("op,k", CASES, ids=IDS)
def test_forward(op, k, mode):
    if mode not in op.modes:
        pytest.skip(f"mode {mode} does not apply to this op")
    fun, primals, dirs, _ = _setup(op, k)
    out, t = FORWARD[mode](fun, primals, dirs)
    _close(_flat(out), _flat(fun(*primals)), op)
    _close(_flat(t), directional_derivative(fun, primals, dirs), op)


@pytest.mark.parametrize("op,k", CASES, ids=IDS)
def test_check_grads(op, k):
    if "check" not in op.modes:
        pytest.skip("check_grads not run on this op")
    fun, primals, _, _ = _setup(op, k)
    cr.check_grads(fun, primals, order=2 if op.smooth else 1, seed=k)


@pytest.mark.parametrize("op,k", CASES, ids=IDS)
def test_reverse(op, k):
    if "rev" not in op.modes:
        pytest.skip("no reverse mode for this op")
    fun, primals, dirs, rng = _setup(op, k)
    out, f_vjp = cr.vjp(fun, *primals)
    u = _random_like(out, rng)
    cts = f_vjp(u)
    for c, p in zip(cts, primals):
        assert np.shape(c) == np.shape(p)
    lhs = sum(np.sum(c * d) for c, d in zip(cts, dirs))
    rhs = np.dot(_flat(u), directional_derivative(fun, primals, dirs))
    _close(lhs, rhs, op)


def _second_order_setup(op, k):
    fun, primals, dirs, rng = _setup(op, k)
    u = _random_like(fun(*primals), rng)
    scalar = _projected(fun, u)
    g = cr.grad(scalar, argnums=tuple(range(len(primals))))
    return g, primals, dirs, rng


@pytest.mark.parametrize("op,k", CASES, ids=IDS)
def test_forward_over_reverse(op, k):
    if not op.smooth or "fwd_rev" not in op.modes:
        pytest.skip("second order not checked for this op")
    g, primals, dirs, _ = _second_order_setup(op, k)
    _, hv = cr.jvp(g, primals, dirs)
    _close(_flat(hv), directional_derivative(g, primals, dirs), op)


@pytest.mark.parametrize("op,k", CASES, ids=IDS)
def test_reverse_over_reverse(op, k):
    if not op.smooth or "rev_rev" not in op.modes:
        pytest.skip("second order not checked for this op")
    g, primals, dirs, rng = _second_order_setup(op, k)
    w = tuple(rng.standard_normal(np.shape(p)) for p in primals)
    gw = lambda *a: sum(np.sum(gi * wi) for gi, wi in zip(g(*a), w))  # noqa: E731
    hw = cr.grad(gw, argnums=tuple(range(len(primals))))(*primals)
    lhs = sum(np.sum(h * d) for h, d in zip(hw, dirs))
    _close(lhs, np.dot(_flat(w), directional_derivative(g, primals, dirs)), op)


def test_every_differentiable_primitive_is_in_the_table():
    covered = {name for op in OPS for name in op.covers}
    registered = {name for name, p in PRIMITIVES.items() if p.differentiable}
    assert registered - covered == set(), "primitives without a line in the op table"
    assert covered - registered == set(), "table lines naming no registered primitive"
