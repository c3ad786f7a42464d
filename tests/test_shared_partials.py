"""Reverse over forward with shared partials (chainrule/shared_partials.py)
gives bit for bit the products of plain reverse over forward (a DualTrace
above the reverse trace): for every op of the table, real and complex, for
float32 and broadcasting; under other transformations (nesting, vmap) the
same up to the order in which an outer level adds terms. And the sharing
does happen."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.api as api
from chainrule.core.forward import DualTrace
from chainrule.core.reverse import ReverseTrace, primitive_of, residuals_of
from chainrule.core.tree import tree_flatten
from chainrule.shared_partials import SharingTrace

from .ops.table import COMPLEX_OPS, OPS
from .test_ops import _projected, _random_like, _setup


def _reverse_over_forward(fun, primals, tangents, sharing):
    """The gradient of fun's derivative along tangents, with or without sharing."""
    def directional(*xs):
        below = next(x for leaf in xs for x in tree_flatten(leaf)[0])._trace
        trace = SharingTrace(below) if sharing else DualTrace()
        return api._jvp(fun, xs, tangents, trace)[1]
    return cr.grad(directional, argnums=tuple(range(len(primals))))(*primals)


def _outcome(compute):
    try:
        return [np.asarray(a) for a in tree_flatten(compute())[0]]
    except Exception as e:  # noqa: BLE001  (the two routes must fail alike)
        return type(e)


def _same(a, b):
    if isinstance(a, type) or isinstance(b, type):
        return a is b
    return len(a) == len(b) and all(x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True)
                                    for x, y in zip(a, b))


CASES = [(op, k) for op in OPS + COMPLEX_OPS for k in range(len(op.cases))
         if op.smooth and "fwd_rev" in op.modes]


@pytest.mark.parametrize("op,k", CASES, ids=[f"{op.name}-{k}" for op, k in CASES])
def test_every_op_gives_the_products_of_plain_reverse_over_forward(op, k):
    fun, primals, all_dirs, rng = _setup(op, k)
    try:
        u = _random_like(fun(*primals), rng)
    except Exception:  # noqa: BLE001  (an op whose complex variant must raise)
        pytest.skip("the op raises on these primals")
    scalar = _projected(fun, u)
    with np.errstate(all="ignore"):
        for dirs in all_dirs:
            shared = _outcome(lambda: _reverse_over_forward(scalar, primals, dirs, True))
            plain = _outcome(lambda: _reverse_over_forward(scalar, primals, dirs, False))
            assert _same(shared, plain), (shared, plain)


@pytest.fixture
def unshared(monkeypatch):
    """cr.hvp computed without sharing (a plain DualTrace above the reverse trace)."""
    def run(compute):
        with monkeypatch.context() as m:
            m.setattr(api, "SharingTrace", lambda below: DualTrace())
            return compute()
    return run


def _mlp(x, W, b):
    h = np.tanh(x @ W + b)
    z = h @ W.T
    z = z - np.max(z, axis=1, keepdims=True)
    return -np.sum(z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))) / len(x)


def _mlp_data(dtype=np.float64):
    rng = np.random.default_rng(5)
    x, W, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal(5)
    V = rng.standard_normal((3, 5))
    return [a.astype(dtype) for a in (x, W, b, V)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_hvp_is_bitwise_unchanged_by_sharing(unshared, dtype):
    x, W, b, V = _mlp_data(dtype)
    for argnums, tangents in ((1, (V,)), ((1, 2), (V, b[::-1])), (None, (x, V, b))):
        got = cr.hvp(_mlp, (x, W, b), tangents, argnums=argnums)
        want = unshared(lambda: cr.hvp(_mlp, (x, W, b), tangents, argnums=argnums))
        assert _same(list(np.atleast_1d(*got) if isinstance(got, tuple) else [got]),
                     list(np.atleast_1d(*want) if isinstance(want, tuple) else [want]))
        for g in (got if isinstance(got, tuple) else (got,)):
            assert g.dtype == dtype


def test_broadcasting_and_one_sided_binary_ops(unshared):
    rng = np.random.default_rng(7)
    c, v = rng.uniform(0.5, 2.0, (2, 3)), rng.standard_normal(3)

    def f(x):  # x (3,) broadcast against constants (2, 3) in both argument positions
        return (np.sum(np.arctan2(x, c) * np.log1p(c / x ** 2)) + np.sum(np.hypot(c, np.sin(x)))
                + np.sum(np.power(np.cosh(x), c)) + np.sum(np.logaddexp(c, x) / (1 + np.tanh(x))))
    x = rng.uniform(0.5, 1.5, 3)
    assert _same([cr.hvp(f, (x,), (v,))], [unshared(lambda: cr.hvp(f, (x,), (v,)))])
    np.testing.assert_allclose(cr.hvp(f, (x,), (v,)), cr.hessian(f)(x) @ v, rtol=1e-10)


def test_complex_intermediates(unshared):
    w = np.array([1 + 2j, -0.5 + 1j])

    def f(x):  # real primal, complex values on the way
        z = np.exp(x * w) + np.tanh(x + 1j)
        return np.sum(np.abs(np.sqrt(z)) ** 2) + np.sum(np.real(np.log(z)))
    x, v = np.array([0.3, -0.7]), np.array([1.0, 2.0])
    assert _same([cr.hvp(f, (x,), (v,))], [unshared(lambda: cr.hvp(f, (x,), (v,)))])
    np.testing.assert_allclose(cr.hvp(f, (x,), (v,)), cr.hessian(f)(x) @ v, rtol=1e-10)


def test_nested_hvp_and_other_transformations(unshared):
    x, W, b, V = _mlp_data()
    f = lambda W: _mlp(x, W, b)  # noqa: E731
    inner = lambda W: np.sum(cr.hvp(f, (W,), (V,)) ** 2)  # noqa: E731
    cases = {
        "hvp of hvp": lambda: cr.hvp(inner, (W,), (V,)),
        "grad of hvp": lambda: cr.grad(inner)(W),
        "jacfwd of hvp": lambda: cr.jacfwd(lambda W: cr.hvp(f, (W,), (V,)))(W),
        "vmap of hvp": lambda: cr.vmap(lambda v: cr.hvp(f, (W,), (v,)))(np.stack([V, -2 * V])),
        "hvp of a function taking a gradient": lambda: cr.hvp(
            lambda W: np.sum(cr.grad(f)(W) * W), (W,), (V,)),
    }
    for name, compute in cases.items():
        got, want = _outcome(compute), _outcome(lambda: unshared(compute))
        assert not isinstance(got, type), (name, got)
        # an outer level's backward pass may add the same terms in another
        # order (the partial was recorded earlier): equal up to rounding
        assert len(got) == len(want), name
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-13 * np.max(np.abs(w)), err_msg=name)
    hvp_of_hvp = cr.hvp(inner, (W,), (V,))
    h = cr.hessian(lambda w: inner(w.reshape(W.shape)))(W.ravel())
    np.testing.assert_allclose(hvp_of_hvp.ravel(), h @ V.ravel(), rtol=1e-9)


def test_the_pullback_uses_the_partial_of_the_tangent():
    below = ReverseTrace()
    trace = SharingTrace(below)
    x = api.DualBox(below.new_input(np.array([0.5, -1.0])), np.array([1.0, 2.0]), trace)
    y = np.log(np.tanh(x) + 2.0)
    nodes = {primitive_of(node).name: node for node in below.tape[1:]}
    tanh_partial = residuals_of(nodes["tanh"])
    # tanh and log keep the partials the tangents multiplied, not x or tanh(x)
    assert len(tanh_partial) == 1
    np.testing.assert_array_equal(tanh_partial[0], 1 - np.tanh([0.5, -1.0]) ** 2)
    assert residuals_of(nodes["log"])[0] is not None and len(residuals_of(nodes["log"])) == 1
    assert isinstance(y, api.DualBox)


def test_a_replaced_rule_is_not_shared(monkeypatch):
    """A primitive whose jvp a rule replaced (as absolute's complex rules do)
    keeps its own node and pullback."""
    from chainrule.core.primitive import UFUNCS
    tanh_p = UFUNCS[np.tanh]
    monkeypatch.setattr(tanh_p, "jvp", lambda tangents, args, ans, params: tangents[0] * 2.0)
    below = ReverseTrace()
    x = api.DualBox(below.new_input(np.array([0.5])), np.array([1.0]), SharingTrace(below))
    y = np.tanh(x)
    assert len(below.tape) == 2 and len(residuals_of(below.tape[1])) == 2
    np.testing.assert_array_equal(y._tangent, [2.0])
