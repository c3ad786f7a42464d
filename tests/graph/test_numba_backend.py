"""compile(fun, backend="numba"): native scalar functions, fused elementwise
chains, the same values as the NumPy backend (the op table runs on it in
test_compiled_ops.py)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.graph import compile

numba = pytest.importorskip("numba")


def test_gradient_fuses_elementwise_chains_and_keeps_matmuls():
    def loss(W, b, x):
        z = (x @ W + b) * 2.0 - 1.0
        return np.sum(np.tanh(z) ** 2 + z * z) * 0.5
    rng = np.random.default_rng(0)
    W, b, x = rng.standard_normal((3, 128)), rng.standard_normal(128), rng.standard_normal((64, 3))
    vg = cr.value_and_grad(loss, argnums=(0, 1))
    f = compile(vg, backend="numba")
    value, (gW, gb) = f(W, b, x)
    want_value, (wW, wb) = vg(W, b, x)
    np.testing.assert_allclose(value, want_value, rtol=1e-13)
    np.testing.assert_allclose(gW, wW, rtol=1e-13)
    np.testing.assert_allclose(gb, wb, rtol=1e-13)
    assert f.backend_used == "numba" and f.compile_seconds > 0
    names = [e.prim.name for e in f.graph.eqns]
    assert "fused_add_multiply_subtract" in names  # forward: one loop for x W + b, * 2, - 1
    assert sum(n.startswith("fused_") for n in names) >= 2  # the backward pass fuses too
    assert "tanh" in names  # transcendental functions stay NumPy's (SIMD) calls
    assert names.count("matmul") == 2 and "@numba.vectorize" in f.source and " @ " in f.source



def test_fused_kernel_writes_into_a_dead_buffer_like_numpy():
    # tanh's gradient g * (1 - t**2): the NumPy backend writes each step into
    # a buffer that dies there (out=); the fused kernel must too, not allocate
    def loss(W, x):
        return np.sum(np.tanh(x @ W) @ W.T)
    rng = np.random.default_rng(1)
    W, x = rng.standard_normal((64, 64)), rng.standard_normal((128, 64))
    vg = cr.value_and_grad(loss)
    f = compile(vg, backend="numba")
    value, gW = f(W, x)
    want_value, wW = vg(W, x)
    np.testing.assert_allclose(value, want_value, rtol=1e-13)
    np.testing.assert_allclose(gW, wW, rtol=1e-12)
    fused = [e for e in f.graph.eqns if e.prim.name == "fused_square_subtract_multiply"]
    assert len(fused) == 1 and fused[0].reuse is not None
    assert f.graph.eqns[-1] is not fused[0]  # its output is read later: the buffer is reused inside
    line = next(s for s in f.source.splitlines() if "_fused_square_subtract_multiply(" in s)
    assert ", out=" in line

def test_scalar_graph_is_one_native_function():
    def f(x):
        for _ in range(20):
            x = np.sin(x) * 1.0001 + 0.1
        return x
    g = compile(cr.value_and_grad(f), backend="numba")
    for x in (0.5, -1.25):
        value, grad = g(x)
        want_value, want_grad = cr.value_and_grad(f)(x)
        assert type(value) is np.float64 and type(grad) is np.float64
        np.testing.assert_allclose([value, grad], [want_value, want_grad], rtol=1e-14)
    assert g.backend_used == "numba" and "math.sin" in g.source


def test_guards_and_domain_errors_under_numba():
    def f(x):
        return np.log(x) * 2.0 if x > 0 else -x
    g = compile(cr.value_and_grad(f), backend="numba")
    for x in (1.5, -2.0, 0.25, -1.0):
        np.testing.assert_allclose(g(x), cr.value_and_grad(f)(x), rtol=1e-14)
    h = compile(lambda x: np.log(x) + 1.0 / x, backend="numba")  # NumPy's error model
    with np.errstate(all="ignore"):
        assert np.isnan(h(-1.0)) and np.isnan(h(0.0)) == np.isnan(np.log(0.0) + np.inf)


def test_auto_keeps_small_graphs_on_numpy_and_bad_backends_are_named():
    f = compile(cr.grad(lambda x: np.sin(x) * 2.0))
    f(0.5)
    assert f.backend_used == "numpy"
    with pytest.raises(ValueError, match="backend must be one of"):
        compile(np.sin, backend="cuda")
