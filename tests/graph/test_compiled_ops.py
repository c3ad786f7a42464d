"""Every op of the table, compiled: forward value, gradient of the projected
output `u . f` and a Hessian-vector product, each equal to eager chainrule
up to rounding. The table grows as op families are added; there are no
per-op entries: ops whose output shape depends on the values (unique,
lstsq's residuals) compile too, guarded on the shapes they traced."""

import importlib.util
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.tree import tree_flatten
from chainrule.graph import compile

from ..ops.spec import problem
from ..ops.table import OPS

CASES = [pytest.param(op, k, id=f"{op.name}-{k}") for op in OPS for k in range(len(op.cases))]

# The numba backend (optional) runs the same table. Its compiles are slow
# (seconds per native function), so by default it runs every 24th case, and
# the whole table with CHAINRULE_NUMBA_TABLE=1.
_NUMBA = importlib.util.find_spec("numba") is not None
_FULL = os.environ.get("CHAINRULE_NUMBA_TABLE") == "1"
NUMBA_CASES = [pytest.param(op, k, id=f"{op.name}-{k}", marks=() if _NUMBA else (
    pytest.mark.skip(reason="numba is not installed"),))
    for n, (op, k) in enumerate((op, k) for op in OPS for k in range(len(op.cases)))
    if _FULL or n % 24 == 0]


def _setup(op, k):
    fun, primals = problem(op, k)
    rng = np.random.default_rng(k + 101)
    u = [rng.standard_normal(np.shape(x)) for x in tree_flatten(fun(*primals))[0]]

    def projected(*xs):  # u . fun(*xs)
        return sum(np.sum(x * ui) for x, ui in zip(tree_flatten(fun(*xs))[0], u))

    dirs = tuple(rng.standard_normal(np.shape(p)) for p in primals)
    return fun, projected, primals, dirs


def _assert_same(compiled, eager):
    a, spec_a = tree_flatten(compiled)
    b, spec_b = tree_flatten(eager)
    assert spec_a == spec_b
    for x, y in zip(a, b):
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape and x.dtype == y.dtype, f"{x.shape} {x.dtype} vs {y.shape} {y.dtype}"
        scale = max(np.max(np.abs(y), initial=0.0), 1.0)
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12 * scale)


@pytest.mark.parametrize("op,k", CASES)
def test_forward(op, k):
    fun, _, primals, _ = _setup(op, k)
    _assert_same(compile(fun)(*primals), fun(*primals))


@pytest.mark.parametrize("op,k", CASES)
def test_value_and_grad(op, k):
    if "rev" not in op.modes:
        pytest.skip("no reverse mode for this op")
    _, projected, primals, _ = _setup(op, k)
    vg = cr.value_and_grad(projected, argnums=tuple(range(len(primals))))
    _assert_same(compile(vg)(*primals), vg(*primals))


@pytest.mark.parametrize("op,k", CASES)
def test_hvp(op, k):
    if not op.smooth or "fwd_rev" not in op.modes:
        pytest.skip("second order not checked for this op")
    _, projected, primals, dirs = _setup(op, k)
    n = len(primals)

    def hvp(*xs_and_vs):
        return cr.hvp(projected, xs_and_vs[:n], xs_and_vs[n:])

    _assert_same(compile(hvp)(*primals, *dirs), hvp(*primals, *dirs))


@pytest.mark.parametrize("op,k", NUMBA_CASES)
def test_numba_backend(op, k):
    fun, projected, primals, dirs = _setup(op, k)
    _assert_same(compile(fun, backend="numba")(*primals), fun(*primals))
    if "rev" in op.modes:
        vg = cr.value_and_grad(projected, argnums=tuple(range(len(primals))))
        compiled = compile(vg, backend="numba")
        _assert_same(compiled(*primals), vg(*primals))
        assert compiled.backend_used == "numba"
